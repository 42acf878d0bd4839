//! Issue 15: TFTP copies on captures nobody at botscope wrote — tcpdump's
//! own test traces (`tests/realworld/tcpdump/`, BSD licence) against
//! tcpdump's expected output for them (`tftp-T.out`, `tftp-heapoverflow.out`),
//! parsed here rather than restated.

use crate::common::{conns, run_with};
use botscope_capture::{ChecksumMode, EngineConfig};
use botscope_core::events::{Event, TftpEvent};
use std::path::PathBuf;

fn tcpdump(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/realworld/tcpdump/tests")
        .join(rel)
}

/// What `tcpdump -T tftp` printed: the request's file and mode, the data
/// bytes (each DATA datagram's length less its 4-byte header), and the
/// highest DATA and ACK block numbers.
struct TcpdumpTftp {
    file: String,
    mode: String,
    data_bytes: u64,
    data_datagrams: u64,
    last_data: u64,
    last_ack: u64,
}

fn read_tcpdump_out(rel: &str) -> TcpdumpTftp {
    let text = std::fs::read_to_string(tcpdump(rel)).unwrap();
    let mut t = TcpdumpTftp {
        file: String::new(),
        mode: String::new(),
        data_bytes: 0,
        data_datagrams: 0,
        last_data: 0,
        last_ack: 0,
    };
    for line in text.lines() {
        let Some((_, tftp)) = line.split_once(": TFTP, length ") else {
            continue;
        };
        let (len, rest) = tftp.split_once(", ").unwrap();
        let len: u64 = len.parse().unwrap();
        let num = |s: &str| s.trim().parse::<u64>().unwrap();
        if let Some(req) = rest.strip_prefix("RRQ \"") {
            let (file, mode) = req.split_once("\" ").unwrap();
            t.file = file.to_string();
            t.mode = mode.trim().to_string();
        } else if let Some(b) = rest.strip_prefix("DATA block ") {
            t.data_bytes += len - 4;
            t.data_datagrams += 1;
            t.last_data = t.last_data.max(num(b));
        } else if let Some(b) = rest.strip_prefix("ACK block ") {
            t.last_ack = t.last_ack.max(num(b));
        }
    }
    t
}

#[test]
fn realworld_tcpdump_tftp_rrq_transfer_matches_tcpdump() {
    let want = read_tcpdump_out("tftp-T.out");
    assert_eq!((want.file.as_str(), want.data_datagrams), ("file1", 3));
    let cfg = EngineConfig {
        checksums: ChecksumMode::Auto,
        ..Default::default()
    };
    let (records, stats, _) = run_with(&[tcpdump("tftp.pcap")], &cfg);
    let tftp: Vec<&TftpEvent> = records
        .iter()
        .filter_map(|r| match &r.event {
            Event::Tftp(t) => Some(t),
            _ => None,
        })
        .collect();
    assert_eq!(tftp.len(), 1);
    let t = tftp[0];
    assert!(!t.wrq);
    assert_eq!(
        (t.fname.as_str(), t.mode.as_str()),
        (want.file.as_str(), want.mode.as_str())
    );
    assert_eq!(t.size, want.data_bytes, "1,129 bytes in 512 + 512 + 105");
    assert_eq!(
        (t.block_sent, t.block_acked),
        (want.last_data, want.last_ack)
    );
    assert_eq!(t.error_code, None);
    // The last block was short and acknowledged: the copy completed.
    assert!(t.sha256.is_some());
    assert!(!t.is_executable);
    // The data flow is a new port pair (59557 -> 44935), linked by uid.
    let c = conns(&records);
    let data = c.iter().find(|c| c.id.orig_p == 59557).expect("data flow");
    assert_eq!(t.uid_data.as_deref(), Some(data.uid.as_str()));
    assert_eq!(data.service.as_deref(), Some("tftp_data"));
    assert_eq!((data.orig_pkts, data.resp_pkts), (want.data_datagrams, 3));
    assert_eq!(
        data.orig_bytes,
        Some(want.data_bytes + 4 * want.data_datagrams)
    );
    assert!(
        stats.anomalies.by_reason.is_empty(),
        "{:?}",
        stats.anomalies.by_reason
    );
}

#[test]
fn realworld_tcpdump_tftp_heapoverflow_trace_is_read_without_harm() {
    // tcpdump's regression trace for a heap overflow in its TFTP printer:
    // one 48-byte frame claiming a 12,336-byte IP packet with a bad IP
    // checksum (tcpdump: `bad cksum 3030 (->299d)!`), 48.48.48.48:69 ->
    // :12336, a request cut after `"00"`.
    let out = std::fs::read_to_string(tcpdump("tftp-heapoverflow.out")).unwrap();
    assert!(out.contains("length 12336, bad cksum 3030"));
    let cfg = EngineConfig {
        checksums: ChecksumMode::Auto,
        ..Default::default()
    };
    let (records, _, summary) = run_with(&[tcpdump("tftp-heapoverflow.pcap")], &cfg);
    let c = conns(&records);
    assert_eq!(c.len(), 1);
    // Zeek's convention, kept by botscope: port 69 is the responder, so the
    // datagram from it is the responder's (history `^d`, flipped).
    assert_eq!((c[0].id.orig_p, c[0].id.resp_p), (12336, 69));
    assert_eq!(c[0].id.orig_h.to_string(), "48.48.48.48");
    assert_eq!(c[0].resp_pkts, 1);
    assert_eq!(c[0].resp_ip_bytes, 12336, "tcpdump: IP length 12336");
    // The bad IP checksum tcpdump flags is counted, and `auto` stops
    // validating (1 of 1 bad) instead of dropping the frame.
    assert_eq!(summary.checksums.bad_ip, 1);
    assert!(
        records.iter().all(|r| !matches!(r.event, Event::Tftp(_))),
        "no transfer from a cut request"
    );
}
