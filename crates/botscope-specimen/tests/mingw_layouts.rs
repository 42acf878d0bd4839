//! Config extraction from real compiler output: the benign C programs in
//! `tests/specimens/*.c` keep an IRC configuration the way 2003–2006 bots
//! did (sdbot globals, rbot pointer tables, agobot name/value pairs, wide
//! strings, XOR/ADD/ROL/rolling-XOR encoded strings). Each is built with
//! Debian's `i686-w64-mingw32-gcc` at -O0 and -O2, stripped, and never
//! run; the extracted server, port, channel, key, encoding and layout must
//! equal the `expect:` line of its source.

use botscope_specimen::analyze;

#[path = "common/mingw.rs"]
mod mingw;
use mingw::specimens_dir;

/// Builds `name.c` at `opt` into `dir`.
fn build(dir: &std::path::Path, name: &str, opt: &str) -> Vec<u8> {
    mingw::build(dir, name, opt, &[])
}

/// The `expect:` line of a source as key=value pairs.
fn expect(name: &str) -> Vec<(String, String)> {
    let src = std::fs::read_to_string(specimens_dir().join(format!("{name}.c"))).unwrap();
    let line = src
        .lines()
        .find_map(|l| l.trim_start_matches([' ', '*']).strip_prefix("expect: "))
        .unwrap_or_else(|| panic!("{name}.c has no expect: line"));
    line.split_whitespace()
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap();
            (k.to_string(), v.to_string())
        })
        .collect()
}

fn get<'a>(e: &'a [(String, String)], k: &str) -> Option<&'a str> {
    e.iter().find(|p| p.0 == k).map(|p| p.1.as_str())
}

/// Builds both optimisation levels and checks every expected field.
fn check(name: &str) {
    let dir = tempfile::tempdir().unwrap();
    let e = expect(name);
    for opt in ["-O0", "-O2"] {
        let bin = build(dir.path(), name, opt);
        let a = analyze(&bin);
        let what = format!("{name} {opt}");
        let c = a
            .config
            .as_ref()
            .unwrap_or_else(|| panic!("{what}: no config; iocs {:?}", a.iocs));
        let s0 = &c.servers[0];
        assert_eq!(
            s0.host,
            get(&e, "server").unwrap(),
            "{what} server; {:?}",
            a.config_evidence
        );
        assert_eq!(
            s0.port.to_string(),
            get(&e, "port").unwrap(),
            "{what} port; {:?}",
            a.config_evidence
        );
        if let Some(s2) = get(&e, "server2") {
            assert_eq!(c.servers.len(), 2, "{what} servers {:?}", c.servers);
            assert_eq!(c.servers[1].host, s2, "{what} server 2");
            assert_eq!(c.servers[1].port.to_string(), get(&e, "port2").unwrap());
        } else {
            assert_eq!(c.servers.len(), 1, "{what} servers {:?}", c.servers);
        }
        assert_eq!(c.channel, get(&e, "channel").unwrap(), "{what} channel");
        assert_eq!(
            c.key.as_deref(),
            get(&e, "key"),
            "{what} key; {:?}",
            a.config_evidence
        );
        if let Some(n) = get(&e, "nick") {
            assert_eq!(c.nick_prefix, n, "{what} nick prefix");
        }
        assert_eq!(
            a.config_encoding.as_ref().unwrap().label(),
            get(&e, "encoding").unwrap(),
            "{what} encoding"
        );
        // `a|b`: either (the order of globals differs between -O0 and -O2).
        let layout = a.config_layout.unwrap().as_str();
        assert!(
            get(&e, "layout").unwrap().split('|').any(|l| l == layout),
            "{what} layout {layout}; {:?}",
            a.config_evidence
        );
        assert!(
            a.config_score.unwrap() >= 12,
            "{what} score {:?}",
            a.config_score
        );
        assert!(!a.config_evidence.is_empty());
        // The server is an indicator too.
        let host = get(&e, "server").unwrap();
        assert!(
            a.iocs.fqdns.contains(host) || a.iocs.ipv4.contains(host),
            "{what}: {host} not among the IOCs"
        );
    }
}

#[test]
fn sdbot_globals() {
    check("sdbot_globals");
}

#[test]
fn sdbot_globals_ip_server() {
    check("sdbot_ip");
}

#[test]
fn rbot_pointer_table_two_servers() {
    check("rbot_table");
}

#[test]
fn agobot_name_value_pairs() {
    check("agobot_cvars");
}

#[test]
fn wide_character_globals() {
    check("wide_globals");
}

#[test]
fn xor_4_byte_key_decoded_at_run_time() {
    check("xor4_runtime");
}

#[test]
fn xor_1_byte_separate_strings() {
    check("xor1_globals");
}

#[test]
fn add_encoded_strings_and_text_port() {
    check("add_text_port");
}

#[test]
fn rol_encoded_strings() {
    check("rol_globals");
}

#[test]
fn rolling_xor_strings() {
    check("rollxor_globals");
}

#[test]
fn no_config_only_a_dynamic_dns_indicator() {
    let dir = tempfile::tempdir().unwrap();
    for opt in ["-O0", "-O2"] {
        let a = analyze(&build(dir.path(), "dyndns_ioc_only", opt));
        assert!(a.config.is_none(), "{opt}: {:?}", a.config_evidence);
        assert!(a.iocs.fqdns.contains("update.tier2-example.dyndns.org"));
        assert!(a.iocs.fqdns.contains("www.example.com"));
    }
}

#[test]
fn chained_xor_strings() {
    check("chained_xor");
}

#[test]
fn xor_10_character_text_key_kept_as_a_string() {
    check("xor_text_key");
}

#[test]
fn ini_style_name_value_text() {
    check("ini_text");
}

#[test]
fn pointer_globals_with_a_server_list() {
    check("pointer_globals");
}
