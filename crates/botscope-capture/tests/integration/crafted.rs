//! Crafted inputs: every container variant, every link type, tunnels,
//! hostile records, fragments, reassembly and the memory cap.

use crate::common::*;
use botscope_capture::{read_bytes, EngineConfig};
use std::net::Ipv4Addr;

/// Timestamped frames.
type Frames = Vec<(i64, Vec<u8>)>;

/// A complete small TCP session A:40000 → B:6667 (handshake, data both
/// ways, FIN both ways) as IPv4 packets.
fn session_ip() -> Vec<(i64, Vec<u8>)> {
    let t0 = 1_100_000_000_000_000i64;
    let p = |sp, dp, s, a, seq, ack, fl, pl: &[u8]| {
        ipv4(s, a, 6, 7, 0x4000, &tcp(s, a, sp, dp, seq, ack, fl, pl))
    };
    vec![
        (t0, p(40000, 6667, A, B, 100, 0, 0x02, b"")),
        (t0 + 1_000, p(6667, 40000, B, A, 500, 101, 0x12, b"")),
        (t0 + 2_000, p(40000, 6667, A, B, 101, 501, 0x10, b"")),
        (
            t0 + 3_000,
            p(40000, 6667, A, B, 101, 501, 0x18, b"NICK bot\r\n"),
        ),
        (
            t0 + 4_000,
            p(6667, 40000, B, A, 501, 111, 0x18, b":srv 001 bot\r\n"),
        ),
        (t0 + 5_000, p(40000, 6667, A, B, 111, 515, 0x11, b"")),
        (t0 + 6_000, p(6667, 40000, B, A, 515, 112, 0x11, b"")),
        (t0 + 7_000, p(40000, 6667, A, B, 112, 516, 0x10, b"")),
    ]
}

fn with_link(pkts: &[(i64, Vec<u8>)], wrap: impl Fn(&[u8]) -> Vec<u8>) -> Vec<(i64, Vec<u8>)> {
    pkts.iter().map(|(t, p)| (*t, wrap(p))).collect()
}

fn run(data: &[u8]) -> (botscope_capture::CaptureSummary, Recorder) {
    run_cfg(data, &EngineConfig::default())
}

fn run_cfg(data: &[u8], cfg: &EngineConfig) -> (botscope_capture::CaptureSummary, Recorder) {
    let mut rec = Recorder::default();
    let s = read_bytes("crafted", data, cfg, &mut rec).expect("read");
    (s, rec)
}

fn check_session(s: &botscope_capture::CaptureSummary, rec: &Recorder, what: &str) {
    assert!(
        s.file_errors.is_empty() && s.skipped.total() == 0,
        "{what}: {:?} {:?}",
        s.file_errors,
        s.skipped
    );
    assert_eq!(rec.conns.len(), 1, "{what}");
    let c = &rec.conns[0];
    assert_eq!(
        (c.id.orig_h, c.id.orig_p, c.id.resp_h, c.id.resp_p),
        (A.into(), 40000, B.into(), 6667),
        "{what}"
    );
    assert_eq!(c.conn_state, "SF", "{what}");
    assert_eq!(c.history, "ShADdFf", "{what}");
    assert_eq!((c.orig_bytes, c.resp_bytes), (Some(10), Some(14)), "{what}");
    assert_eq!((c.orig_pkts, c.resp_pkts), (5, 3), "{what}");
    assert_eq!(
        c.duration,
        Some(0.006),
        "{what}: the ACK after both FINs does not count"
    );
    assert_eq!(c.ts.0, 1_100_000_000_000_000, "{what}");
    let orig: Vec<u8> = rec
        .streams
        .iter()
        .filter(|(k, _)| k.1)
        .flat_map(|(_, v)| v.clone())
        .collect();
    let resp: Vec<u8> = rec
        .streams
        .iter()
        .filter(|(k, _)| !k.1)
        .flat_map(|(_, v)| v.clone())
        .collect();
    assert_eq!(orig, b"NICK bot\r\n", "{what}");
    assert_eq!(resp, b":srv 001 bot\r\n", "{what}");
}

#[test]
fn pcap_byte_orders_and_resolutions_read_alike() {
    let frames = with_link(&session_ip(), eth);
    for (big, nanos) in [(false, false), (true, false), (false, true), (true, true)] {
        let (s, rec) = run(&pcap(1, &frames, big, nanos));
        check_session(&s, &rec, &format!("pcap big={big} nanos={nanos}"));
    }
}

#[test]
fn pcapng_with_several_interfaces_and_resolutions() {
    // Interface 0: Ethernet, µs; interface 1: raw IP, ns; interface 2:
    // Linux SLL, 2^-20 s. Packets alternate between them.
    let ip = session_ip();
    let pkts: Vec<(u32, i64, Vec<u8>)> = ip
        .iter()
        .enumerate()
        .map(|(i, (t, p))| match i % 3 {
            0 => (0, *t, eth(p)),
            1 => (1, *t, p.clone()),
            _ => {
                let mut f = vec![0, 0, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0, 0x08, 0x00];
                f.extend_from_slice(p);
                (2, *t, f)
            }
        })
        .collect();
    for big in [false, true] {
        let data = pcapng(&[(1, 6), (101, 9), (113, 6)], &pkts, big);
        let (s, rec) = run(&data);
        check_session(&s, &rec, &format!("pcapng big={big}"));
    }
    // Binary resolution (2^-20 s): microsecond values survive rounding
    // only approximately, so check the ordering and the sub-ms part.
    let data = pcapng(
        &[(101, 0x94)],
        &ip.iter()
            .map(|(t, p)| (0, *t, p.clone()))
            .collect::<Vec<_>>(),
        false,
    );
    let (s, rec) = run(&data);
    assert_eq!(s.packets, 8);
    assert_eq!(rec.conns.len(), 1);
    let d = rec.conns[0].duration.expect("duration");
    assert!((d - 0.006).abs() < 2e-6, "{d}");
}

#[test]
fn every_link_type_decodes_to_the_same_flow() {
    let ip = session_ip();
    let vlan = |p: &[u8]| {
        // QinQ: 802.1ad outer tag, 802.1Q inner tag.
        let mut f = vec![
            0, 1, 2, 3, 4, 5, 0, 6, 7, 8, 9, 10, 0x88, 0xa8, 0, 100, 0x81, 0x00, 0, 200, 0x08, 0x00,
        ];
        f.extend_from_slice(p);
        f
    };
    let sll2 = |p: &[u8]| {
        let mut f = vec![
            0x08, 0x00, 0, 0, 0, 0, 0, 1, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0,
        ];
        f.extend_from_slice(p);
        f
    };
    let null_le = |p: &[u8]| {
        let mut f = 2u32.to_le_bytes().to_vec();
        f.extend_from_slice(p);
        f
    };
    let loop_be = |p: &[u8]| {
        let mut f = 2u32.to_be_bytes().to_vec();
        f.extend_from_slice(p);
        f
    };
    let cases: Vec<(u32, Frames)> = vec![
        (1, with_link(&ip, vlan)),
        (276, with_link(&ip, sll2)),
        (0, with_link(&ip, null_le)),
        (108, with_link(&ip, loop_be)),
        (101, ip.clone()),
        (12, ip.clone()),
        (14, ip.clone()),
        (228, ip.clone()),
    ];
    for (link, frames) in cases {
        let (s, rec) = run(&pcap(link, &frames, false, false));
        check_session(&s, &rec, &format!("link type {link}"));
    }
}

fn gre(proto: u16, seq: Option<u32>, inner: &[u8]) -> Vec<u8> {
    let mut g = vec![if seq.is_some() { 0x10 } else { 0 }, 0];
    g.extend_from_slice(&proto.to_be_bytes());
    if let Some(s) = seq {
        g.extend_from_slice(&s.to_be_bytes());
    }
    g.extend_from_slice(inner);
    g
}

#[test]
fn gre_erspan_and_bridging_give_only_the_inner_conn() {
    let outer_a = Ipv4Addr::new(192, 0, 2, 1);
    let outer_b = Ipv4Addr::new(192, 0, 2, 2);
    let ip = session_ip();
    let wrap = |mk: &dyn Fn(&[u8]) -> Vec<u8>| -> Vec<(i64, Vec<u8>)> {
        ip.iter()
            .map(|(t, p)| (*t, eth(&ipv4(outer_a, outer_b, 47, 9, 0, &mk(p)))))
            .collect()
    };
    let erspan2 = |p: &[u8]| {
        let mut e = vec![0x10, 0x64, 0, 0x01, 0, 0, 0, 0];
        e.extend_from_slice(&eth(p));
        gre(0x88be, Some(1), &e)
    };
    let erspan1 = |p: &[u8]| gre(0x88be, None, &eth(p));
    let erspan3 = |p: &[u8]| {
        let mut e = vec![0x20, 0x64, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        e.extend_from_slice(&eth(p));
        gre(0x22eb, Some(1), &e)
    };
    let teb = |p: &[u8]| gre(0x6558, None, &eth(p));
    let plain = |p: &[u8]| gre(0x0800, None, p);
    let cases: Vec<(&str, Frames)> = vec![
        ("erspan type II", wrap(&erspan2)),
        ("erspan type I", wrap(&erspan1)),
        ("erspan type III", wrap(&erspan3)),
        ("gre transparent ethernet bridging", wrap(&teb)),
        ("gre ipv4", wrap(&plain)),
    ];
    for (what, frames) in cases {
        let (s, rec) = run(&pcap(1, &frames, false, false));
        check_session(&s, &rec, what);
        assert_eq!(rec.conns[0].tunnel_parents.len(), 1, "{what}");
        assert_eq!(s.decapsulated, 8, "{what}");
        assert_eq!(s.tunnels, 1, "{what}");
    }
}

#[test]
fn truncated_file_ends_with_located_error_after_earlier_packets() {
    let data = pcap(1, &with_link(&session_ip(), eth), false, false);
    // Cut inside the 6th record (24-byte header + 5 complete records).
    let mut off = 24;
    let mut p = 24;
    for _ in 0..5 {
        let incl = u32::from_le_bytes(data[p + 8..p + 12].try_into().unwrap()) as usize;
        p += 16 + incl;
    }
    off += p - 24;
    let cut = &data[..off + 20];
    let (s, rec) = run(cut);
    assert_eq!(s.packets, 5);
    assert_eq!(s.file_errors.len(), 1);
    assert_eq!(s.file_errors[0].reason, "truncated file");
    assert_eq!(s.file_errors[0].location.offset, Some(off as u64));
    assert_eq!(s.file_errors[0].location.packet, Some(6));
    assert_eq!(s.skipped.by_reason["truncated file"].0, 1);
    // The flow seen so far is still summarised.
    assert_eq!(rec.conns.len(), 1);
    assert_eq!(rec.conns[0].orig_pkts + rec.conns[0].resp_pkts, 5);
}

#[test]
fn wrong_magic_and_empty_input_are_named_errors() {
    for (what, data) in [
        ("text", b"GET / HTTP/1.1\r\n\r\n".to_vec()),
        ("empty", Vec::new()),
    ] {
        let (s, rec) = run(&data);
        assert_eq!(s.packets, 0, "{what}");
        assert_eq!(s.file_errors.len(), 1, "{what}");
        assert_eq!(s.file_errors[0].reason, "unknown capture format", "{what}");
        assert!(rec.conns.is_empty());
    }
    // A pcapng section with a bad byte-order magic.
    let mut ng = pcapng(&[(1, 6)], &[], false);
    ng[8..12].copy_from_slice(b"XXXX");
    let (s, _) = run(&ng);
    assert_eq!(
        s.file_errors[0].reason,
        "malformed pcapng: byte-order magic"
    );
}

#[test]
fn absurd_lengths_stop_the_file_without_allocating() {
    let frames = with_link(&session_ip(), eth);
    let mut data = pcap(1, &frames[..2], false, false);
    // A third record claiming 2 GiB.
    data.extend_from_slice(&[0; 8]);
    data.extend_from_slice(&0x7fff_ffffu32.to_le_bytes());
    data.extend_from_slice(&0x7fff_ffffu32.to_le_bytes());
    data.extend_from_slice(&[0xaa; 64]);
    let (s, _) = run(&data);
    assert_eq!(s.packets, 2);
    assert_eq!(s.file_errors[0].reason, "absurd record length");
    // pcapng: an enhanced packet block whose captured length exceeds it.
    let mut ng = pcapng(&[(1, 6)], &[(0, 0, frames[0].1.clone())], false);
    let epb = ng.len() - (12 + 20 + frames[0].1.len().div_ceil(4) * 4);
    ng[epb + 20..epb + 24].copy_from_slice(&0xffff_fff0u32.to_le_bytes());
    let (s, _) = run(&ng);
    assert_eq!(s.packets, 0);
    assert_eq!(s.file_errors[0].reason, "absurd record length");
    assert_eq!(s.file_errors[0].location.offset, Some(epb as u64));
}

#[test]
fn snaplen_cut_and_malformed_headers_are_counted_by_reason() {
    let frames = with_link(&session_ip(), eth);
    let mut data = Vec::new();
    // Records 1-2 cut to 30 bytes (inside the IPv4 header), record 3 whole,
    // record 4 an IPv4 header with IHL 3.
    let mut hdr = pcap(1, &[], false, false);
    let rec = |out: &mut Vec<u8>, d: &[u8], orig: usize| {
        out.extend_from_slice(&[0; 8]);
        out.extend_from_slice(&(d.len() as u32).to_le_bytes());
        out.extend_from_slice(&(orig as u32).to_le_bytes());
        out.extend_from_slice(d);
    };
    rec(&mut data, &frames[0].1[..30], frames[0].1.len());
    rec(&mut data, &frames[1].1[..30], frames[1].1.len());
    rec(&mut data, &frames[2].1, frames[2].1.len());
    let mut bad = frames[3].1.clone();
    bad[14] = 0x43;
    rec(&mut data, &bad, bad.len());
    hdr.extend_from_slice(&data);
    let (s, _) = run(&hdr);
    assert_eq!(s.packets, 4);
    assert!(s.file_errors.is_empty());
    assert_eq!(s.skipped.by_reason["snaplen cut"].0, 2);
    assert_eq!(
        s.skipped.by_reason["snaplen cut"].1,
        vec!["crafted packet 1", "crafted packet 2"]
    );
    assert_eq!(s.skipped.by_reason["malformed ip header"].0, 1);
    assert_eq!(
        s.skipped.by_reason["malformed ip header"].1,
        vec!["crafted packet 4"]
    );
}

#[test]
fn overlapping_fragments_keep_first_data_and_are_counted() {
    let payload: Vec<u8> = (0..64u8).collect();
    let u = udp(A, B, 5000, 53, &payload); // 72 bytes
                                           // Fragment 1: bytes 0..32; fragment 2 (overlapping, different data):
                                           // bytes 24..56; fragment 3: bytes 48..72 (last, overlaps 48..56 with
                                           // the same data as fragment 2).
    let mut f2 = u[24..56].to_vec();
    for b in &mut f2[..8] {
        *b ^= 0xff;
    }
    let frames = vec![
        (1_000_000i64, eth(&ipv4(A, B, 17, 77, 0x2000, &u[..32]))),
        (1_000_100, eth(&ipv4(A, B, 17, 77, 0x2000 | 3, &f2))),
        (1_000_200, eth(&ipv4(A, B, 17, 77, 6, &u[48..]))),
    ];
    let (s, rec) = run(&pcap(1, &frames, false, false));
    assert_eq!(s.ip_fragments, 3);
    assert_eq!(s.ip_reassembled, 1);
    assert_eq!(s.ip_fragment_overlaps, 2);
    assert_eq!(s.ip_fragment_conflicts, 1);
    assert_eq!(s.anomalies.by_reason["ip fragment overlap"].0, 2);
    assert_eq!(
        s.anomalies.by_reason["ip fragment overlap"].1,
        vec!["crafted packet 2", "crafted packet 3"]
    );
    // First data won, so the datagram (and its checksum) is intact.
    assert_eq!(rec.datagrams, vec![payload.clone()]);
    assert_eq!(rec.conns.len(), 1);
    assert_eq!(rec.conns[0].orig_ip_bytes, 92);
    // A fragment pushing the datagram beyond 64 KiB is refused by name.
    let huge = vec![(1i64, eth(&ipv4(A, B, 17, 78, 0x1fff, &[0; 64])))];
    let (s, _) = run(&pcap(1, &huge, false, false));
    assert_eq!(s.skipped.by_reason["ip fragment beyond 64 KiB"].0, 1);
}

#[test]
fn fragment_table_is_bounded() {
    // 5000 first fragments that never complete, table of 100.
    let frames: Vec<(i64, Vec<u8>)> = (0..5000u16)
        .map(|i| (i as i64, eth(&ipv4(A, B, 17, i, 0x2000, &[0; 64]))))
        .collect();
    let cfg = EngineConfig {
        max_fragments: 100,
        ..EngineConfig::default()
    };
    let (s, rec) = run_cfg(&pcap(1, &frames, false, false), &cfg);
    assert_eq!(s.ip_fragments, 5000);
    assert_eq!(s.ip_reassembled, 0);
    assert_eq!(
        s.ip_fragments_expired, 5000,
        "all dropped unfinished (4900 evicted, 100 at end)"
    );
    assert!(rec.conns.is_empty());
}

#[test]
fn tcp_reassembly_orders_buffers_flags_conflicts_and_reports_gaps() {
    let t = 2_000_000_000_000_000i64;
    let f = |i: i64, sp, dp, s, d, seq, ack, fl, pl: &[u8]| {
        (t + i, tcp_frame(s, d, sp, dp, seq, ack, fl, pl))
    };
    let frames = vec![
        f(0, 1234, 80, A, B, 1000, 0, 0x02, b""),
        f(1, 80, 1234, B, A, 9000, 1001, 0x12, b""),
        f(2, 1234, 80, A, B, 1001, 9001, 0x10, b""),
        // Out of order: "world" before "hello ".
        f(3, 1234, 80, A, B, 1007, 9001, 0x18, b"world"),
        f(4, 1234, 80, A, B, 1001, 9001, 0x18, b"hello "),
        // Retransmission of "hello ".
        f(5, 1234, 80, A, B, 1001, 9001, 0x18, b"hello "),
        // Buffered "EFGH" at 1016, then "abcdXXGH" at 1012 overlapping it
        // with different bytes at 1016..1018: the first copy wins.
        f(6, 1234, 80, A, B, 1016, 9001, 0x18, b"EFGH"),
        f(7, 1234, 80, A, B, 1012, 9001, 0x18, b"abcdXXGH"),
        // 100 bytes never captured (1020..1120), then data and an ack
        // from the responder above the hole.
        f(8, 1234, 80, A, B, 1120, 9001, 0x18, b"tail"),
        f(9, 80, 1234, B, A, 9001, 1124, 0x10, b""),
        f(10, 1234, 80, A, B, 1124, 9001, 0x11, b""),
        f(11, 80, 1234, B, A, 9001, 1125, 0x11, b""),
    ];
    let (s, rec) = run(&pcap(1, &frames, false, false));
    assert_eq!(rec.conns.len(), 1);
    let c = &rec.conns[0];
    let stream = &rec.streams[&(1, true)];
    assert_eq!(stream, b"hello worldabcdEFGHtail");
    assert_eq!(rec.gaps[&(1, true)], vec![100]);
    assert_eq!(c.missed_bytes, 100);
    assert_eq!(c.orig_bytes, Some(123));
    assert_eq!(c.conn_state, "SF");
    // `G`: the responder's ack above the 100-byte hole is a content gap
    // on the originator's side while both are established (Zeek's
    // TCP_Reassembler::Undelivered -> Gap -> TCP_Endpoint::Gap).
    assert_eq!(c.history, "ShADTaGFf");
    assert_eq!(s.tcp_retransmissions, 1);
    assert_eq!(s.tcp_overlap_conflicts, 1);
    assert_eq!(
        s.anomalies.by_reason["tcp overlap with different data"].1,
        vec!["crafted packet 8"]
    );
}

#[test]
fn reassembly_window_overflow_becomes_a_gap() {
    let t = 0i64;
    let mut frames = vec![
        (t, tcp_frame(A, B, 1, 2, 0, 0, 0x02, b"")),
        (t + 1, tcp_frame(B, A, 2, 1, 0, 1, 0x12, b"")),
    ];
    // 10 segments of 1000 bytes after a 500-byte hole; window 4000.
    for i in 0..10u32 {
        frames.push((
            t + 2 + i as i64,
            tcp_frame(A, B, 1, 2, 501 + i * 1000, 1, 0x18, &[b'a' + i as u8; 1000]),
        ));
    }
    let cfg = EngineConfig {
        reassembly_window: 4000,
        ..EngineConfig::default()
    };
    let (s, rec) = run_cfg(&pcap(1, &frames, false, false), &cfg);
    assert!(s.peak_memory < 64 * 1024);
    assert_eq!(rec.gaps[&(1, true)], vec![500]);
    let st = &rec.streams[&(1, true)];
    assert_eq!(st.len(), 10_000);
    assert!(st[..1000].iter().all(|&b| b == b'a') && st[9000..].iter().all(|&b| b == b'j'));
}

#[test]
fn syn_flood_stays_under_the_memory_cap() {
    // 200,000 SYNs from distinct source ports and addresses.
    let n = 200_000u32;
    let mut data = pcap(1, &[], false, false);
    let base = tcp_frame(A, B, 1, 80, 7, 0, 0x02, b"");
    for i in 0..n {
        let src = Ipv4Addr::from(0x0a00_0000 + i);
        let mut fr = base.clone();
        fr[26..30].copy_from_slice(&src.octets());
        fr[34..36].copy_from_slice(&((i % 60000) as u16 + 1024).to_be_bytes());
        data.extend_from_slice(&(i / 1000 + 1).to_le_bytes());
        data.extend_from_slice(&(i % 1000).to_le_bytes());
        data.extend_from_slice(&(fr.len() as u32).to_le_bytes());
        data.extend_from_slice(&(fr.len() as u32).to_le_bytes());
        data.extend_from_slice(&fr);
    }
    let cap = 4 << 20;
    let cfg = EngineConfig {
        memory_cap: cap,
        verify_checksums: false,
        ..EngineConfig::default()
    };
    #[derive(Default)]
    struct Count {
        s0: u64,
        n: u64,
    }
    impl botscope_capture::FlowSink for Count {
        fn on_flow_end(
            &mut self,
            _f: botscope_capture::FlowRef<'_>,
            c: &mut botscope_core::events::Conn,
        ) {
            self.n += 1;
            self.s0 += (c.conn_state == "S0" && c.history == "S") as u64;
        }
    }
    let mut sink = Count::default();
    let s = read_bytes("flood", &data, &cfg, &mut sink).expect("read");
    assert_eq!(s.packets, n as u64);
    assert_eq!(s.flows, n as u64);
    assert_eq!(sink.n, n as u64, "every flow still ends in a conn record");
    assert_eq!(sink.s0, n as u64);
    assert!(
        s.peak_memory <= cap as u64,
        "peak {} > cap {cap}",
        s.peak_memory
    );
    assert!(
        s.evicted_memory > n as u64 / 2,
        "evicted {}",
        s.evicted_memory
    );
    assert!(s.peak_flows < 60_000, "peak flows {}", s.peak_flows);
}

#[test]
fn idle_udp_flows_expire_and_restart() {
    // Same 5-tuple twice, 61 s apart (UDP timeout 60 s), then 10 s apart.
    let frames = vec![
        (0i64, udp_frame(A, B, 5353, 9999, b"one")),
        (61_000_000, udp_frame(A, B, 5353, 9999, b"two")),
        (71_000_000, udp_frame(B, A, 9999, 5353, b"three")),
    ];
    let (s, rec) = run(&pcap(1, &frames, false, false));
    assert_eq!(s.evicted_idle, 1);
    assert_eq!(rec.conns.len(), 2);
    // Source port 5353 is a likely server port, so Zeek-style orientation
    // makes B the originator of both flows.
    let second = &rec.conns[1];
    assert_eq!((second.id.orig_h, second.id.orig_p), (B.into(), 9999));
    assert_eq!(second.history, "^dD");
    assert_eq!((second.orig_pkts, second.resp_pkts), (1, 1));
    assert_eq!((second.orig_bytes, second.resp_bytes), (Some(5), Some(3)));
    assert_eq!(second.conn_state, "SF");
    assert_eq!(rec.conns[0].conn_state, "SHR");
}

#[test]
fn rejected_and_reset_connections_get_zeek_states() {
    let f = |i: i64, s, d, sp, dp, seq, ack, fl| (i, tcp_frame(s, d, sp, dp, seq, ack, fl, b""));
    let frames = vec![
        // REJ: SYN answered by RST-ACK.
        f(0, A, B, 1000, 23, 50, 0, 0x02),
        f(1, B, A, 23, 1000, 0, 51, 0x14),
        // S0: lone SYN.
        f(2, A, B, 1001, 24, 50, 0, 0x02),
        // RSTO: established, then originator resets.
        f(3, A, B, 1002, 25, 50, 0, 0x02),
        f(4, B, A, 25, 1002, 70, 51, 0x12),
        f(5, A, B, 1002, 25, 51, 71, 0x10),
        f(6, A, B, 1002, 25, 51, 71, 0x14),
        // S1: handshake only.
        f(7, A, B, 1003, 26, 50, 0, 0x02),
        f(8, B, A, 26, 1003, 70, 51, 0x12),
        f(9, A, B, 1003, 26, 51, 71, 0x10),
    ];
    let (_, rec) = run(&pcap(1, &frames, false, false));
    let st = |p: u16| {
        rec.conns
            .iter()
            .find(|c| c.id.resp_p == p)
            .map(|c| (c.conn_state.as_str(), c.history.as_str()))
    };
    assert_eq!(st(23), Some(("REJ", "Sr")));
    assert_eq!(st(24), Some(("S0", "S")));
    assert_eq!(st(25), Some(("RSTO", "ShAR")));
    assert_eq!(st(26), Some(("S1", "ShA")));
}

#[test]
fn uids_are_deterministic_per_seed() {
    let data = pcap(1, &with_link(&session_ip(), eth), false, false);
    let (_, a) = run(&data);
    let (_, b) = run(&data);
    assert_eq!(a.conns[0].uid, b.conns[0].uid);
    assert!(a.conns[0].uid.starts_with('C') && a.conns[0].uid.len() >= 16);
    assert!(a.conns[0].uid[1..]
        .chars()
        .all(|c| c.is_ascii_alphanumeric()));
    let (_, c) = run_cfg(
        &data,
        &EngineConfig {
            uid_seed: 1,
            ..EngineConfig::default()
        },
    );
    assert_ne!(a.conns[0].uid, c.conns[0].uid);
}

#[test]
fn sequence_numbers_wrap_around_2_pow_32() {
    let isn = 0xffff_fff8u32;
    let frames = vec![
        (0i64, tcp_frame(A, B, 3333, 80, isn, 0, 0x02, b"")),
        (
            1,
            tcp_frame(B, A, 80, 3333, 77, isn.wrapping_add(1), 0x12, b""),
        ),
        (
            2,
            tcp_frame(A, B, 3333, 80, isn.wrapping_add(1), 78, 0x10, b""),
        ),
        // 10 bytes ending at 2^32 + 3, then 10 more after the wrap,
        // delivered out of order.
        (
            3,
            tcp_frame(
                A,
                B,
                3333,
                80,
                isn.wrapping_add(11),
                78,
                0x18,
                b"0123456789",
            ),
        ),
        (
            4,
            tcp_frame(A, B, 3333, 80, isn.wrapping_add(1), 78, 0x18, b"abcdefghij"),
        ),
        (
            5,
            tcp_frame(A, B, 3333, 80, isn.wrapping_add(21), 78, 0x11, b""),
        ),
        (
            6,
            tcp_frame(B, A, 80, 3333, 78, isn.wrapping_add(22), 0x11, b""),
        ),
    ];
    let (_, rec) = run(&pcap(1, &frames, false, false));
    assert_eq!(rec.conns.len(), 1);
    assert_eq!(rec.streams[&(1, true)], b"abcdefghij0123456789");
    assert_eq!(rec.conns[0].orig_bytes, Some(20));
    assert_eq!(rec.conns[0].missed_bytes, 0);
    assert_eq!(rec.conns[0].conn_state, "SF");
}

#[test]
fn icmp_echo_request_and_reply_are_one_conn() {
    let icmp = |t: u8, payload: &[u8]| {
        let mut m = vec![t, 0, 0, 0, 0, 1, 0, 1];
        m.extend_from_slice(payload);
        m
    };
    let frames = vec![
        (0i64, eth(&ipv4(A, B, 1, 1, 0, &icmp(8, &[7; 56])))),
        (1_000, eth(&ipv4(B, A, 1, 2, 0, &icmp(0, &[7; 56])))),
        // Port unreachable: its own conn, resp_p is the code.
        (
            2_000,
            eth(&ipv4(B, A, 1, 3, 0, &{
                let mut m = vec![3, 3, 0, 0, 0, 0, 0, 0];
                m.extend_from_slice(&[0; 28]);
                m
            })),
        ),
    ];
    let (_, rec) = run(&pcap(1, &frames, false, false));
    assert_eq!(rec.conns.len(), 2);
    let echo = &rec.conns[0];
    assert_eq!(
        (echo.id.orig_h, echo.id.orig_p, echo.id.resp_p),
        (A.into(), 8, 0)
    );
    assert_eq!(echo.id.proto, botscope_core::Proto::Icmp);
    assert_eq!((echo.orig_pkts, echo.resp_pkts), (1, 1));
    assert_eq!((echo.orig_bytes, echo.resp_bytes), (Some(56), Some(56)));
    assert_eq!((echo.orig_ip_bytes, echo.resp_ip_bytes), (84, 84));
    assert_eq!(echo.conn_state, "OTH");
    let unreach = &rec.conns[1];
    assert_eq!(
        (unreach.id.orig_h, unreach.id.orig_p, unreach.id.resp_p),
        (B.into(), 3, 3)
    );
}

#[test]
fn mutated_corpus_captures_never_panic_and_account_for_every_flow() {
    // Deterministic byte flips, truncations and length-field smashes of a
    // pcap (GRE tunnel), a pcapng (IRC) and a fragment-heavy capture.
    let files = [
        "zeek/testing/btest/Traces/tunnels/gre-pptp.pcap",
        "zeek/testing/btest/Traces/irc-basic.pcap",
        "zeek/testing/btest/Traces/ipv6-fragmented-dns.pcap",
        "ndpi/tests/cfgs/default/pcap/tftp.pcap",
    ];
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let cfg = EngineConfig {
        memory_cap: 256 * 1024,
        max_fragments: 8,
        ..EngineConfig::default()
    };
    for f in files {
        let orig = std::fs::read(corpus(f)).expect("read");
        for round in 0..150 {
            let mut d = orig.clone();
            match round % 3 {
                0 => {
                    for _ in 0..(1 + next() % 8) {
                        let i = (next() as usize) % d.len();
                        d[i] ^= (next() as u8) | 1;
                    }
                }
                1 => d.truncate((next() as usize) % d.len()),
                _ => {
                    let i = 24 + (next() as usize) % (d.len() - 28);
                    d[i..i + 4].copy_from_slice(&(next() as u32).to_le_bytes());
                }
            }
            let (s, rec) = run_cfg(&d, &cfg);
            assert_eq!(s.conns, s.flows, "{f} round {round}");
            assert_eq!(rec.conns.len() as u64, s.flows, "{f} round {round}");
            assert!(s.flows <= s.packets);
            assert!(
                s.peak_memory <= 256 * 1024 + 70_000,
                "{f} round {round}: {}",
                s.peak_memory
            );
        }
    }
}
