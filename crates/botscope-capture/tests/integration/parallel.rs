//! Worker threads (`botscope_capture::parallel`, issue 19): the conn rows
//! of a parallel run equal a one-thread run's as a set, for 2, 3 and 4
//! workers, on corpus captures with tunnels, fragments, TFTP and IRC;
//! the order is the same in two runs with the same worker count; a memory
//! cap split between workers bounds the total.

use super::common::*;
use botscope_capture::parallel::{read_files_parallel, WorkerSink};
use botscope_capture::{read_files, EngineConfig, FlowRef, FlowSink};
use botscope_core::events::Conn;
use std::path::PathBuf;

/// Conn rows as `conn.log` writes them (`connlog::write_conn_row`).
#[derive(Default)]
struct Rows {
    rows: Vec<String>,
}

impl FlowSink for Rows {
    fn on_flow_end(&mut self, _f: FlowRef<'_>, c: &mut Conn) {
        let mut row = Vec::new();
        botscope_capture::connlog::write_conn_row(c, &mut row);
        self.rows.push(String::from_utf8(row).expect("ascii row"));
    }
}

impl WorkerSink for Rows {
    type Out = String;
    fn take_output(&mut self, key: u64, out: &mut Vec<(u64, String)>) {
        out.extend(self.rows.drain(..).map(|r| (key, r)));
    }
}

fn one_thread(files: &[PathBuf], cfg: &EngineConfig) -> (Vec<String>, u64) {
    let mut sink = Rows::default();
    let s = read_files(files, cfg, &mut sink).expect("read");
    (sink.rows, s.packets)
}

fn workers(files: &[PathBuf], cfg: &EngineConfig, n: usize) -> (Vec<String>, u64) {
    let mut rows = Vec::new();
    let (s, _) = read_files_parallel(files, cfg, n, |_| Rows::default(), |r| rows.push(r), |_| {})
        .expect("read");
    (rows, s.packets)
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

#[test]
fn conn_rows_of_workers_equal_one_thread_on_corpus_captures() {
    let cfg = EngineConfig {
        checksums: botscope_capture::ChecksumMode::Auto,
        ..EngineConfig::default()
    };
    let irc = "suricata-verify/tests/irc/input.pcap";
    let pptp = "zeek/testing/btest/Traces/tunnels/gre-pptp.pcap";
    let gre_ppp = "arkime/tests/pcap/6-4-gre-ppp-udp-4-dns.pcap";
    let frag6 = "zeek/testing/btest/Traces/ipv6-fragmented-dns.pcap";
    let frag4 = "ndpi/tests/cfgs/default/pcap/smb_frags.pcap";
    let rrq = "spicy-tftp/testing/Traces/tftp_rrq.pcap";
    let wrq = "spicy-tftp/testing/Traces/tftp_wrq.pcap";
    // (files read as one run, conn rows of the one-thread run)
    let sets: [(&[&str], usize); 7] = [
        // The 2004 IRC bot.
        (&[irc], 1),
        // GRE/PPTP: the inner DNS flow carries its tunnel's uid.
        (&[pptp], 1),
        // GRE with PPP around UDP DNS.
        (&[gre_ppp], 1),
        // IPv6 fragments, IPv4 fragments.
        (&[frag6], 2),
        (&[frag4], 1),
        // TFTP read and write (data on new ports).
        (&[rrq, wrq], 4),
        // All of them as one run, spread over the workers (the two GRE
        // captures hold the same inner DNS flow: one conn).
        (&[irc, pptp, gre_ppp, frag6, frag4, rrq, wrq], 9),
    ];
    for (rels, conns) in sets {
        let files: Vec<PathBuf> = rels.iter().map(|r| corpus(r)).collect();
        let (one, packets) = one_thread(&files, &cfg);
        assert_eq!(one.len(), conns, "{rels:?}");
        let one = sorted(one);
        for n in [2, 3, 4] {
            let (rows, p) = workers(&files, &cfg, n);
            assert_eq!(p, packets, "{rels:?} n={n}: packets");
            assert_eq!(sorted(rows), one, "{rels:?} with {n} workers");
        }
    }
}

#[test]
fn tunnel_parent_uid_is_the_same_with_workers() {
    // The inner DNS flow of the PPTP capture names its GRE tunnel; the
    // tunnel's uid comes from its endpoints, so every worker count gives
    // the same one (and the same as one thread).
    let files = vec![
        corpus("suricata-verify/tests/irc/input.pcap"),
        corpus("zeek/testing/btest/Traces/tunnels/gre-pptp.pcap"),
    ];
    let cfg = EngineConfig::default();
    let parent = |rows: &[String]| -> Vec<String> {
        rows.iter()
            .filter(|r| r.contains("\t8.8.8.8\t53\tudp\t"))
            // tunnel_parents is conn.log's 21st column.
            .map(|r| r.split('\t').nth(20).unwrap_or("").to_string())
            .collect()
    };
    let (one, _) = one_thread(&files, &cfg);
    let want = parent(&one);
    assert_eq!(want.len(), 1);
    assert!(want[0].starts_with('C') && want[0].len() > 10, "{want:?}");
    for n in [2, 4] {
        assert_eq!(parent(&workers(&files, &cfg, n).0), want, "{n} workers");
    }
}

#[test]
fn same_worker_count_gives_the_same_order() {
    // 30,000 UDP exchanges (query and answer 1 ms apart) between 1,500
    // host pairs over 22 minutes of packet time: a pair is heard again
    // after 67.5 s, so every exchange is its own flow, ended by idle
    // expiry (60 s) at the workers' packets and ticks.
    let mut pkts = Vec::new();
    for i in 0..30_000u32 {
        let pair = (i * 7919) % 1500;
        let a = std::net::Ipv4Addr::from(0x0a00_0000 + pair);
        let b = std::net::Ipv4Addr::from(0xc0a8_0000 + pair % 37);
        let t = i as i64 * 45_000;
        pkts.push((t, udp_frame(a, b, 1024, 53, b"q")));
        pkts.push((t + 1_000, udp_frame(b, a, 53, 1024, b"a")));
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("udp.pcap");
    std::fs::write(&path, pcap(1, &pkts, false, false)).expect("write");
    let files = vec![path];
    let cfg = EngineConfig::default();
    let (one, _) = one_thread(&files, &cfg);
    assert_eq!(one.len(), 30_000);
    let one = sorted(one);
    for n in [2, 4] {
        let (a, _) = workers(&files, &cfg, n);
        let (b, _) = workers(&files, &cfg, n);
        assert_eq!(a, b, "{n} workers: order changed between runs");
        assert_eq!(sorted(a), one, "{n} workers: rows");
    }
}

#[test]
fn syn_flood_over_two_workers_stays_under_the_memory_cap() {
    // 100,000 SYNs from distinct sources to one target, as the one-thread
    // test `syn_flood_stays_under_the_memory_cap`, over 2 workers with
    // the same 4 MiB cap (2 MiB each).
    let n = 100_000u32;
    let mut data = pcap(1, &[], false, false);
    let base = tcp_frame(A, B, 1, 80, 7, 0, 0x02, b"");
    for i in 0..n {
        let src = std::net::Ipv4Addr::from(0x0a00_0000 + i);
        let mut fr = base.clone();
        fr[26..30].copy_from_slice(&src.octets());
        fr[34..36].copy_from_slice(&((i % 60000) as u16 + 1024).to_be_bytes());
        data.extend_from_slice(&(i / 1000 + 1).to_le_bytes());
        data.extend_from_slice(&(i % 1000).to_le_bytes());
        data.extend_from_slice(&(fr.len() as u32).to_le_bytes());
        data.extend_from_slice(&(fr.len() as u32).to_le_bytes());
        data.extend_from_slice(&fr);
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("flood.pcap");
    std::fs::write(&path, &data).expect("write");
    let cap = 4 << 20;
    let cfg = EngineConfig {
        memory_cap: cap,
        verify_checksums: false,
        ..EngineConfig::default()
    };
    let mut conns = 0u64;
    let (s, _) = read_files_parallel(
        &[path],
        &cfg,
        2,
        |_| Rows::default(),
        |_| conns += 1,
        |_| {},
    )
    .expect("read");
    assert_eq!(s.packets, n as u64);
    assert_eq!(conns, n as u64, "every flow still ends in a conn record");
    assert!(s.evicted_memory > 0, "the cap was reached");
    assert!(
        s.peak_memory <= cap as u64,
        "peak {} > cap {cap}",
        s.peak_memory
    );
}
