//! Issue 15: the IRC capture of `tests/realworld/disspcap` (a person's
//! ngIRCd session, 127.0.0.1:48110 → :6667; see its `SOURCE.md`) against
//! its peer's baseline: disspcap's per-message parse test
//! (`tests/test_irc.py` at fb225d0, MIT; its assertions are restated
//! below, packet index 0-based as there, frame = index + 1) and tshark's
//! IRC dissector (`tshark -r irc.pcap -T fields -e frame.number -e
//! irc.request.command -e irc.response.command`, TShark 4.x); and the
//! irc.log rows Zeek's script writes for those messages.

use crate::common::run_with;
use botscope_capture::{ChecksumMode, EngineConfig};
use botscope_core::events::{Event, IrcEvent};
use botscope_dissect::logs::zeek_rows;
use botscope_dissect::Record;
use std::collections::BTreeMap;
use std::path::PathBuf;

fn disspcap() -> (Vec<Record>, botscope_dissect::Stats) {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/realworld/disspcap/tests/pcaps/irc.pcap");
    // Taken on loopback: checksums are offloaded, `auto` turns them off.
    let cfg = EngineConfig {
        checksums: ChecksumMode::Auto,
        ..Default::default()
    };
    let (records, stats, _) = run_with(&[p], &cfg);
    (records, stats)
}

/// IRC messages per frame (1-based), in order.
fn by_frame(records: &[Record]) -> BTreeMap<u64, Vec<&IrcEvent>> {
    let mut m: BTreeMap<u64, Vec<&IrcEvent>> = BTreeMap::new();
    for r in records {
        if let Event::Irc(e) = &r.event {
            let frame = *e.evidence.packets.first().expect("frame number");
            m.entry(frame).or_default().push(e);
        }
    }
    m
}

/// disspcap `test_irc.py`: prefix, command, params and trailing of the
/// messages it checks. Our `params` end with the trailing parameter.
#[test]
fn realworld_disspcap_irc_messages_match_disspcap_parse_test() {
    let (records, stats) = disspcap();
    assert_eq!(stats.services.get("irc"), Some(&1));
    let f = by_frame(&records);
    // packets[i].irc.messages[j]
    let msg = |i: u64, j: usize| -> &IrcEvent {
        f.get(&(i + 1))
            .and_then(|v| v.get(j))
            .unwrap_or_else(|| panic!("packet {i} message {j} missing"))
    };
    // test_irc_prefix
    assert_eq!(msg(0, 0).prefix, None);
    assert_eq!(msg(1, 0).prefix, None);
    assert_eq!(msg(3, 0).prefix.as_deref(), Some("irc.example.net"));
    assert_eq!(
        msg(15, 0).prefix.as_deref(),
        Some("daniel!~daniel@172.17.0.1")
    );
    assert_eq!(msg(15, 1).prefix.as_deref(), Some("irc.example.net"));
    // test_irc_commands
    for (i, j, cmd) in [
        (0, 0, "CAP"),
        (1, 0, "NICK"),
        (2, 0, "USER"),
        (7, 0, "001"),
        (7, 1, "002"),
        (7, 2, "003"),
        (7, 3, "004"),
        (7, 4, "005"),
        (7, 5, "005"),
        (7, 6, "251"),
        (10, 0, "PING"),
        (14, 0, "JOIN"),
        (22, 0, "PRIVMSG"),
        (24, 0, "QUIT"),
    ] {
        assert_eq!(msg(i, j).command, cmd, "packet {i} message {j}");
    }
    // test_irc_params
    assert_eq!(msg(0, 0).params[0], "LS");
    assert_eq!(msg(5, 0).params[0], "daniel");
    assert_eq!(msg(5, 0).params[1], "ACK");
    assert_eq!(msg(10, 0).params[0], "irc.example.net");
    assert_eq!(msg(14, 0).params[0], "#testchannel");
    // test_irc_trailing
    let trailing = |i, j| msg(i, j).params.last().map(String::as_str);
    assert_eq!(trailing(3, 0), Some("multi-prefix"));
    assert_eq!(trailing(7, 4), Some("are supported on this server"));
    assert_eq!(trailing(22, 0), Some("Hello world."));
    assert_eq!(trailing(24, 0), Some("leaving"));
    // Direction: client lines on the even indexes disspcap checks.
    assert!(msg(0, 0).from_client && msg(22, 0).from_client);
    assert!(!msg(3, 0).from_client && !msg(15, 0).from_client);
}

/// Every frame's IRC commands equal tshark's, in order (26 frames; frame
/// 8 carries 13 numerics in one segment, frame 26 NOTICE + ERROR).
#[test]
fn realworld_disspcap_irc_commands_per_frame_match_tshark() {
    let (records, _) = disspcap();
    let tshark: &[(u64, &str)] = &[
        (1, "CAP"),
        (2, "NICK"),
        (3, "USER"),
        (4, "CAP"),
        (5, "CAP"),
        (6, "CAP"),
        (7, "CAP"),
        (8, "001,002,003,004,005,005,251,254,255,265,266,250,422"),
        (9, "MODE"),
        (10, "MODE"),
        (11, "PING"),
        (12, "PONG"),
        (13, "LIST"),
        (14, "321,322,323"),
        (15, "JOIN"),
        (16, "JOIN,353,366"),
        (17, "MODE"),
        (18, "324,329"),
        (19, "WHO"),
        (20, "352,315"),
        (21, "MODE"),
        (22, "368"),
        (23, "PRIVMSG"),
        (24, "PRIVMSG"),
        (25, "QUIT"),
        (26, "NOTICE,ERROR"),
    ];
    let got: Vec<(u64, String)> = by_frame(&records)
        .into_iter()
        .map(|(frame, evs)| {
            let cmds: Vec<&str> = evs.iter().map(|e| e.command.as_str()).collect();
            (frame, cmds.join(","))
        })
        .collect();
    let want: Vec<(u64, String)> = tshark.iter().map(|(f, c)| (*f, c.to_string())).collect();
    assert_eq!(got, want);
}

/// irc.log: the rows Zeek's IRC script writes for this session — NICK,
/// USER (Zeek joins the USER parameters after the user name with single
/// spaces and drops the real name's own space: `DanielUhříček`), JOIN
/// with an empty key — with the nick and user tracked as Zeek does.
#[test]
fn realworld_disspcap_irc_log_rows() {
    let (records, _) = disspcap();
    let rows: Vec<Vec<String>> = records
        .iter()
        .flat_map(zeek_rows)
        .filter(|(schema, _)| schema.path == "irc")
        .map(|(_, row)| row)
        .collect();
    // Columns: ts uid id.orig_h id.orig_p id.resp_h id.resp_p nick user
    // command value addl dcc_file_name dcc_file_size dcc_mime_type fuid.
    let cut: Vec<Vec<&str>> = rows
        .iter()
        .map(|r| r[2..11].iter().map(String::as_str).collect())
        .collect();
    assert_eq!(
        cut,
        vec![
            vec![
                "127.0.0.1",
                "48110",
                "127.0.0.1",
                "6667",
                "-",
                "-",
                "NICK",
                "daniel",
                "-"
            ],
            vec![
                "127.0.0.1",
                "48110",
                "127.0.0.1",
                "6667",
                "daniel",
                "-",
                "USER",
                "daniel",
                "daniel localhost DanielUhříček ",
            ],
            vec![
                "127.0.0.1",
                "48110",
                "127.0.0.1",
                "6667",
                "daniel",
                "daniel",
                "JOIN",
                "#testchannel",
                "(empty)",
            ],
        ]
    );
    // NICK, USER and JOIN are disspcap's packets 1, 2 and 14.
    let ts: Vec<&str> = rows.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(
        ts,
        vec![
            "1552386423.771860",
            "1552386423.771931",
            "1552386452.842428"
        ]
    );
}
