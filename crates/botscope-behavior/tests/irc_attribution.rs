//! Bot or person (issue 15, IRC on real data): every IRC session of the
//! captures nobody at botscope wrote (`tests/realworld`, `tests/corpus`,
//! each folder's `SOURCE.md` names the upstream repository) is classified
//! as C&C or unattributed, with its evidence; Table 9 counts only C&C.

use botscope_behavior::analysis::{Options, Report};
use botscope_behavior::{pipeline, Limits};
use botscope_capture::{ChecksumMode, EngineConfig};
use std::path::PathBuf;

fn repo(rel: &str) -> PathBuf {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(rel);
    assert!(p.exists(), "missing: {}", p.display());
    p
}

fn analyze(rel: &str) -> Report {
    pipeline::run(
        &[repo(rel)],
        &EngineConfig {
            checksums: ChecksumMode::Auto,
            ..Default::default()
        },
        Limits::default(),
        &Options::default(),
    )
    .expect("capture reads")
    .0
}

/// The evidence names (`chat`, `bot_nick`...) of a list.
fn names(list: &[String]) -> Vec<&str> {
    list.iter()
        .map(|e| e.split(':').next().unwrap_or(""))
        .collect()
}

/// (nick, verdict, evidence for, evidence against) of every session.
type Seen<'a> = Vec<(&'a str, &'a str, Vec<&'a str>, Vec<&'a str>)>;

fn seen(r: &Report) -> Seen<'_> {
    r.sessions
        .iter()
        .map(|s| {
            (
                s.nick.as_deref().unwrap_or("-"),
                s.attribution.verdict.as_str(),
                names(&s.attribution.evidence_for),
                names(&s.attribution.evidence_against),
            )
        })
        .collect()
}

/// disspcap's capture (`tests/realworld/disspcap`): a person (`NICK
/// daniel`, `JOIN #testchannel`, two chat lines) — not a C&C session.
/// Table 9 is empty, one session is reported unattributed with the
/// reasons, and nothing of it reaches Fig. 3 or the diurnal table.
#[test]
fn disspcap_human_chat_is_not_a_cc_session() {
    let r = analyze("tests/realworld/disspcap/tests/pcaps/irc.pcap");
    assert!(r.table9.is_empty(), "{:?}", r.table9);
    assert_eq!((r.irc_sessions_cc, r.irc_sessions_unattributed), (0, 1));
    assert_eq!(r.sessions.len(), 1);
    let s = &r.sessions[0];
    assert_eq!(s.nick.as_deref(), Some("daniel"));
    assert_eq!(s.channels, vec!["#testchannel".to_string()]);
    assert_eq!(s.attribution.verdict, "unattributed");
    assert!(s.attribution.evidence_for.is_empty());
    // The two PRIVMSGs of the capture (frames 23, 24: "Hello world.",
    // "Random message 2."), the CAP LS of frame 1, LIST (13) and WHO (19).
    assert_eq!(
        s.attribution.evidence_against,
        vec![
            "chat: 2 line(s), first \"Hello world.\"".to_string(),
            "cap_negotiation: IRCv3 CAP".into(),
            "client_queries: LIST,WHO".into(),
        ]
    );
    assert!(
        s.attribution.reason.contains("the client chats"),
        "{}",
        s.attribution.reason
    );
    assert!(r.orders.is_empty() && r.replies.is_empty());
    assert!(r.sequences.is_empty());
    assert_eq!(r.joins_per_local_hour.iter().sum::<u64>(), 0);
}

/// The corpus' real bot (Suricata-verify `tests/irc/input.pcap`) stays a
/// C&C session, on every kind of evidence it carries.
#[test]
fn suricata_bot_capture_is_still_cc() {
    let r = analyze("tests/corpus/suricata-verify/tests/irc/input.pcap");
    assert_eq!((r.irc_sessions_cc, r.irc_sessions_unattributed), (1, 0));
    assert_eq!(r.table9.len(), 1);
    assert_eq!((r.table9[0].key.as_str(), r.table9[0].count), ("6667", 1));
    let s = &r.sessions[0];
    assert_eq!(s.attribution.verdict, "cc");
    // 4 topic orders (3 x .download, .advscan; tshark: 4 x 332), 9
    // [DOWNLOAD] lines from the bot, JOIN #sl0w3r l03dx 0.2 s after 001.
    assert_eq!(
        s.attribution.evidence_for,
        vec![
            "orders_received: 4 (4 of a known command)".to_string(),
            "topic_orders: 4".into(),
            "bot_replies: 9".into(),
            "bot_nick: damn-0262937047 (word-number)".into(),
            "keyed_join: key l03dx 0.2 s after registration".into(),
        ]
    );
    assert!(s.attribution.evidence_against.is_empty());
}

/// Every other IRC session of the peer corpus: Zeek's, nDPI's and
/// Arkime's test captures are people or test clients (chat lines, IRCv3
/// CAP, LIST/WHO, DCC offers, a load generator), none a bot. Each is
/// unattributed, for the reasons listed; none is in Table 9.
#[test]
fn corpus_irc_sessions_of_people_and_test_clients_are_unattributed() {
    let z = "tests/corpus/zeek/testing/btest/Traces";
    let cases: Vec<(String, Seen<'static>)> = vec![
        (
            format!("{z}/irc-basic.pcap"),
            vec![("brotest", "unattributed", vec![], vec!["chat"])],
        ),
        (
            format!("{z}/irc-whitespace.pcap"),
            vec![("brotest", "unattributed", vec![], vec!["chat"])],
        ),
        (
            format!("{z}/irc-dcc-send.pcapng"),
            vec![(
                "tim2",
                "unattributed",
                vec![],
                vec!["chat", "cap_negotiation", "client_queries"],
            )],
        ),
        (
            format!("{z}/irc-more-commands.pcap"),
            vec![
                (
                    "tim",
                    "unattributed",
                    vec![],
                    vec!["cap_negotiation", "client_queries"],
                ),
                (
                    "tim",
                    "unattributed",
                    vec![],
                    vec!["cap_negotiation", "client_queries"],
                ),
            ],
        ),
        // A load generator sending DCC SEND offers (CTCP, not chat).
        (
            format!("{z}/irc-dcc-state-growth.pcapng"),
            vec![("loadbot", "unattributed", vec![], vec![])],
        ),
        (
            format!("{z}/contentline/contentline-irc-5k-line.pcap"),
            vec![("foo", "unattributed", vec![], vec![])],
        ),
        // irssi-style `JOIN #moloch-fpc -` right after 001: one weak sign
        // only (the nick is not a bot's), so not enough.
        (
            "tests/corpus/ndpi/tests/cfgs/default/pcap/irc.pcap".into(),
            vec![("molochtest", "unattributed", vec!["keyed_join"], vec![])],
        ),
        (
            "tests/corpus/arkime/tests/pcap/irc.pcap".into(),
            vec![("molochtest", "unattributed", vec!["keyed_join"], vec![])],
        ),
    ];
    for (rel, want) in cases {
        let r = analyze(&rel);
        let got = seen(&r);
        let want_owned: Vec<(&str, &str, Vec<&str>, Vec<&str>)> = want;
        assert_eq!(got, want_owned, "{rel}");
        assert!(r.table9.is_empty(), "{rel}: {:?}", r.table9);
        assert_eq!(r.irc_sessions_cc, 0, "{rel}");
        assert_eq!(r.irc_sessions_unattributed, r.sessions.len() as u64);
        assert!(r.sequences.is_empty(), "{rel}");
    }
}

/// One client session on 127.0.0.0/8: registration, the server's `001`,
/// a JOIN `delay_s` later (with `key`), then `lines` from the client.
fn session(
    f: &mut botscope_synth::pcap::PcapFile,
    client: std::net::Ipv4Addr,
    t: i64,
    nick: &str,
    join: &str,
    delay_s: i64,
    lines: &[&str],
) {
    use botscope_synth::tcp::Tcp;
    let server = std::net::Ipv4Addr::new(127, 0, 0, 99);
    let mut c = Tcp::new(client, 40_000, server, 6667, t, 11);
    c.handshake(f);
    c.c_send(
        f,
        format!("NICK {nick}\r\nUSER x 0 0 :{nick}\r\n").as_bytes(),
    );
    c.t += 500_000;
    c.s_send(
        f,
        format!(
            ":irc.example 001 {nick} :Welcome {nick}\r\n:irc.example 376 {nick} :End of MOTD\r\n"
        )
        .as_bytes(),
    );
    c.t += delay_s * 1_000_000;
    c.c_send(f, format!("{join}\r\n").as_bytes());
    for l in lines {
        c.t += 2_000_000;
        c.c_send(f, format!("{l}\r\n").as_bytes());
    }
    c.close(f, true);
}

/// The decision rule on its edges: an idle bot-like client (rbot-style
/// nick, keyed join at registration, silent) is C&C; the same with a
/// chat line, or with the join a minute late, is not; a person's nick on
/// a host that received an executable before connecting is C&C.
#[test]
fn weak_signs_decide_only_together_and_an_infected_client_is_cc() {
    use botscope_synth::pcap::PcapFile;
    use botscope_synth::tcp::Tcp;
    use std::net::Ipv4Addr;
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("edges.pcap");
    let mut f = PcapFile::create(&p).unwrap();
    let t0 = 1_100_000_000_000_000i64;
    let ip = |d| Ipv4Addr::new(127, 0, 0, d);
    session(&mut f, ip(10), t0, "[USA|123456]", "JOIN #rx l0ck", 1, &[]);
    session(
        &mut f,
        ip(11),
        t0 + 60_000_000,
        "[USA|654321]",
        "JOIN #rx l0ck",
        1,
        &["PRIVMSG #rx :anyone here?"],
    );
    session(
        &mut f,
        ip(12),
        t0 + 120_000_000,
        "XP-4242",
        "JOIN #rx l0ck",
        60,
        &[],
    );
    // 127.0.0.13 receives an executable pushed over TCP, then connects.
    let mut push = Tcp::new(ip(50), 3300, ip(13), 4444, t0 + 180_000_000, 5);
    push.handshake(&mut f);
    let mut exe = b"MZ\x90\x00".to_vec();
    exe.resize(2048, 0x41);
    push.c_send(&mut f, &exe);
    push.close(&mut f, true);
    session(
        &mut f,
        ip(13),
        t0 + 200_000_000,
        "alice",
        "JOIN #lobby",
        1,
        &["PRIVMSG #lobby :hi"],
    );
    f.finish().unwrap();
    let r = pipeline::run(
        &[p],
        &EngineConfig::default(),
        Limits::default(),
        &Options::default(),
    )
    .unwrap()
    .0;
    let got: Vec<(&str, &str, Vec<&str>, Vec<&str>)> = seen(&r);
    assert_eq!(
        got,
        vec![
            ("[USA|123456]", "cc", vec!["bot_nick", "keyed_join"], vec![]),
            (
                "[USA|654321]",
                "unattributed",
                vec!["bot_nick", "keyed_join"],
                vec!["chat"]
            ),
            ("XP-4242", "unattributed", vec!["bot_nick"], vec![]),
            ("alice", "cc", vec!["infected_host"], vec!["chat"]),
        ]
    );
    assert!(r.sessions[3].attribution.evidence_for[0]
        .starts_with("infected_host: executable over tcp from 127.0.0.50"));
    assert_eq!((r.irc_sessions_cc, r.irc_sessions_unattributed), (2, 2));
    assert_eq!(r.table9.len(), 1);
    assert_eq!((r.table9[0].key.as_str(), r.table9[0].count), ("6667", 2));
    // Fig. 3 only for the two C&C clients.
    let bots: Vec<String> = r.sequences.iter().map(|s| s.bot.to_string()).collect();
    assert_eq!(bots, vec!["127.0.0.10", "127.0.0.13"]);
}

/// `analyze --out`: `sessions.csv` carries the verdict and its evidence,
/// `report.json` the two counts.
#[test]
fn sessions_csv_and_report_json_carry_the_attribution() {
    let r = analyze("tests/realworld/disspcap/tests/pcaps/irc.pcap");
    let dir = tempfile::tempdir().unwrap();
    botscope_behavior::render::write_dir(&r, dir.path()).unwrap();
    let csv = std::fs::read_to_string(dir.path().join("sessions.csv")).unwrap();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("uid,bot,server,port,fqdn,nick,nick_pattern,channels,key,start,join,role,attribution,reason,evidence_for,evidence_against")
    );
    let row = lines.next().unwrap();
    assert!(row.contains(",daniel,daniel,#testchannel,"), "{row}");
    assert!(row.contains(",bot,unattributed,"), "{row}");
    assert!(row.ends_with("client_queries: LIST,WHO\""), "{row}");
    assert_eq!(lines.next(), None);
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("report.json")).unwrap()).unwrap();
    assert_eq!(json["irc_sessions_cc"], 0);
    assert_eq!(json["irc_sessions_unattributed"], 1);
    assert_eq!(
        json["sessions"][0]["attribution"]["verdict"],
        "unattributed"
    );
}
