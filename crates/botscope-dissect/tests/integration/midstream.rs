//! Mid-stream TCP pickup: connections whose handshake (and more) was not
//! captured still give in-order stream data, so IRC orders are found, as
//! Zeek does for connections whose history starts with `D`/`d`.

use crate::common::{conns, corpus};
use botscope_capture::{read_bytes, EngineConfig};
use botscope_core::events::Event;
use botscope_dissect::{Analyzer, Record};

/// The classic-pcap records of `pcap` (little-endian microsecond files,
/// as the corpus IRC capture is), without the 1-based numbers in `drop`.
fn without_packets(pcap: &[u8], drop: &[usize]) -> Vec<u8> {
    assert_eq!(&pcap[..4], &[0xd4, 0xc3, 0xb2, 0xa1], "little-endian pcap");
    let mut out = pcap[..24].to_vec();
    let mut off = 24;
    let mut no = 0;
    while off + 16 <= pcap.len() {
        no += 1;
        let caplen = u32::from_le_bytes(pcap[off + 8..off + 12].try_into().unwrap()) as usize;
        let end = off + 16 + caplen;
        assert!(end <= pcap.len(), "record {no} runs past the file");
        if !drop.contains(&no) {
            out.extend_from_slice(&pcap[off..end]);
        }
        off = end;
    }
    assert_eq!(no, 48, "the corpus capture has 48 packets");
    out
}

fn analyze(pcap: &[u8]) -> (Vec<Record>, botscope_dissect::Stats) {
    let mut an = Analyzer::new(Vec::new());
    an.set_file_names(vec!["cut.pcap".into()]);
    read_bytes("cut.pcap", pcap, &EngineConfig::default(), &mut an).expect("read");
    an.finish();
    let stats = an.stats.clone();
    (an.into_sink(), stats)
}

/// (command, last parameter) of every PRIVMSG and topic (332) line.
fn orders(records: &[Record]) -> Vec<(String, String)> {
    records
        .iter()
        .filter_map(|r| match &r.event {
            Event::Irc(e) if matches!(e.command.as_str(), "PRIVMSG" | "332") => Some((
                e.command.clone(),
                e.params.last().cloned().unwrap_or_default(),
            )),
            _ => None,
        })
        .collect()
}

#[test]
fn irc_without_handshake_gives_the_same_orders() {
    let full = std::fs::read(corpus().join("suricata-verify/tests/irc/input.pcap")).expect("read");
    let (all, _) = analyze(&full);
    let want = orders(&all);
    assert_eq!(want.iter().filter(|o| o.0 == "332").count(), 4);
    assert!(want.len() >= 10, "{want:?}");

    // Packets 1-3 are SYN, SYN-ACK, ACK.
    let cut = without_packets(&full, &[1, 2, 3]);
    let (records, stats) = analyze(&cut);
    assert_eq!(orders(&records), want);
    assert_eq!(stats.anomalies.total(), 0, "{:?}", stats.anomalies);
    assert_eq!(stats.services.get("irc"), Some(&1));
    let c = conns(&records);
    assert_eq!(c.len(), 1);
    assert_eq!(c[0].service.as_deref(), Some("irc"));
    assert_eq!(c[0].id.resp_p, 6667, "the client stays the originator");
    // Zeek: no SYN seen, so history starts with data and the state is OTH.
    assert!(c[0].history.starts_with('D'), "{}", c[0].history);
    assert_eq!(c[0].conn_state, "OTH");
    assert_eq!(c[0].missed_bytes, 0);
    // Same PASS/NICK as the full capture: nothing before the first seen
    // data byte is invented, nothing after it lost.
    let nick = records.iter().find_map(|r| match &r.event {
        Event::Irc(e) if e.command == "NICK" => e.value.clone(),
        _ => None,
    });
    assert_eq!(nick.as_deref(), Some("damn-0262937047"));
}

#[test]
fn irc_picked_up_mid_line_keeps_later_orders() {
    let full = std::fs::read(corpus().join("suricata-verify/tests/irc/input.pcap")).expect("read");
    let (all, _) = analyze(&full);
    let want = orders(&all);
    // Drop the handshake, the login and the first 1432 bytes of server
    // lines: the server side now starts in the middle of a line
    // ("23  Max: 5123\r\n") and the client side with USERHOST.
    let cut = without_packets(&full, &(1..=10).collect::<Vec<_>>());
    let (records, stats) = analyze(&cut);
    assert_eq!(stats.services.get("irc"), Some(&1));
    let got = orders(&records);
    // Every order from packet 11 on is still there, in order (all four
    // topics and every PRIVMSG are in packets 11 and later).
    assert_eq!(got, want);
    let c = conns(&records);
    assert_eq!(c.len(), 1);
    assert_eq!(c[0].service.as_deref(), Some("irc"));
    assert_eq!(c[0].id.resp_p, 6667);
    // The first seen packet is the server's, from port 6667: Zeek flips
    // it (`^`) and starts with `d`.
    assert!(c[0].history.starts_with("^d"), "{}", c[0].history);
    // The first (partial) server line is dropped, named and placed at the
    // first kept packet (record 1 of the cut file, the old packet 11), and
    // does not make the IRC parser invent a command.
    let dropped = stats
        .anomalies
        .by_reason
        .get("irc_partial_line_dropped")
        .expect("partial line named");
    assert_eq!(dropped.0, 1);
    assert_eq!(dropped.1, vec!["cut.pcap packet 1".to_string()]);
    assert!(records.iter().all(|r| match &r.event {
        Event::Irc(e) => e.command != "23",
        _ => true,
    }));
}
