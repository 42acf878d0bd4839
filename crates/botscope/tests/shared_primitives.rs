//! The primitives of `botscope-core` give every crate the same answer
//! (issue 18): a watch-list name in dnslog and a C&C name in intel
//! normalise alike, and every zone `synth --tz` accepts, `analyze --tz`
//! accepts (both commands call `botscope_core::tz::Zone::parse`).

use botscope_dnslog::name::normalize_name as dnslog_name;
use botscope_intel::names::normalize as intel_name;

#[test]
fn dnslog_and_intel_normalise_names_alike() {
    for (input, want) in [
        ("bot.example.com", "bot.example.com"),
        ("Bot.DynDNS.ORG", "bot.dyndns.org"),
        ("bot.example.com.", "bot.example.com"),
        ("  _irc.Example.com. ", "_irc.example.com"),
        ("münchen.de", "xn--mnchen-3ya.de"),
        ("Bücher.Example.", "xn--bcher-kva.example"),
        ("例え.テスト", "xn--r8jz45g.xn--zckzah"),
        ("ＥＸＡＭＰＬＥ。ｃｏｍ", "example.com"),
        ("xn--mnchen-3ya.de", "xn--mnchen-3ya.de"),
    ] {
        assert_eq!(dnslog_name(input).as_deref(), Ok(want), "dnslog {input:?}");
        assert_eq!(intel_name(input).as_deref(), Ok(want), "intel {input:?}");
    }
    let long = vec!["a".repeat(63); 4].join(".");
    let label = format!("{}.com", "a".repeat(64));
    for input in [
        "",
        ".",
        "a..b",
        "a b.com",
        "-a.com",
        "a\u{2028}b.com",
        long.as_str(),
        label.as_str(),
    ] {
        let (d, i) = (dnslog_name(input), intel_name(input));
        assert!(
            d.is_err() && i.is_err(),
            "{input:?}: dnslog {d:?}, intel {i:?}"
        );
        // The same reason in both vocabularies.
        assert_eq!(
            i.unwrap_err(),
            botscope_intel::names::NameError::from(d.unwrap_err()),
            "{input:?}"
        );
    }
}

#[test]
fn zones_of_synth_are_zones_of_analyze() {
    // `synth` and `analyze` both parse `--tz` with this one function; the
    // names synth's own table used to accept (standard offsets, January).
    let jan = botscope_core::Ts::parse_rfc3339("2024-01-15T00:00:00Z")
        .unwrap()
        .secs();
    for (name, off) in [
        ("Asia/Kolkata", 19_800),
        ("asia/kolkata", 19_800),
        ("Europe/London", 0),
        ("America/Chicago", -6 * 3600),
        ("Australia/Sydney", 11 * 3600),
        ("JST", 9 * 3600),
        ("+05:30", 19_800),
    ] {
        let z = botscope_core::tz::Zone::parse(name).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(z.offset_at(jan), off, "{name}");
    }
}
