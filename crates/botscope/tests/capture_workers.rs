//! `capture read --workers N` (issue 19): every log equals the one-thread
//! run's as a set of rows for 2 and 4 workers (conn.log's uids included),
//! on corpus captures (the IRC bot, TFTP, GRE/PPTP, fragments, DCC) and
//! on a synthetic field; two runs with the same worker count write the
//! same bytes; JSON output is refused.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

fn repo(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(rel)
}

/// Runs `capture read FILES --workers n` into `out`; stderr.
fn read(files: &[PathBuf], n: usize, out: &Path) -> String {
    let o = Command::new(env!("CARGO_BIN_EXE_botscope"))
        .args(["capture", "read", "--workers", &n.to_string(), "--out"])
        .arg(out)
        .args(files)
        .output()
        .expect("botscope runs");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Every log's lines but `#open`/`#close` (the run's wall time).
fn logs(dir: &Path) -> BTreeMap<String, Vec<String>> {
    let mut m = BTreeMap::new();
    for e in std::fs::read_dir(dir).expect("out dir") {
        let p = e.expect("entry").path();
        let text = std::fs::read_to_string(&p).expect("log");
        let lines = text
            .lines()
            .filter(|l| !l.starts_with("#open") && !l.starts_with("#close"))
            .map(str::to_string)
            .collect();
        m.insert(p.file_name().unwrap().to_string_lossy().into_owned(), lines);
    }
    m
}

fn as_sets(m: &BTreeMap<String, Vec<String>>) -> BTreeMap<String, Vec<String>> {
    m.iter()
        .map(|(k, v)| {
            let mut v = v.clone();
            v.sort();
            (k.clone(), v)
        })
        .collect()
}

/// Checks 2 and 4 workers against one, and 2 workers twice; returns the
/// one-thread logs and the 2-worker stderr.
fn same_logs(files: &[PathBuf]) -> (BTreeMap<String, Vec<String>>, String) {
    let dir = tempfile::tempdir().unwrap();
    read(files, 1, &dir.path().join("w1"));
    let one = logs(&dir.path().join("w1"));
    let err2 = read(files, 2, &dir.path().join("w2"));
    let two = logs(&dir.path().join("w2"));
    read(files, 2, &dir.path().join("w2b"));
    assert_eq!(
        two,
        logs(&dir.path().join("w2b")),
        "{files:?}: 2 workers twice"
    );
    read(files, 4, &dir.path().join("w4"));
    let four = logs(&dir.path().join("w4"));
    assert_eq!(as_sets(&two), as_sets(&one), "{files:?}: 2 workers");
    assert_eq!(as_sets(&four), as_sets(&one), "{files:?}: 4 workers");
    (one, err2)
}

fn rows(m: &BTreeMap<String, Vec<String>>, log: &str) -> usize {
    m.get(log)
        .map_or(0, |v| v.iter().filter(|l| !l.starts_with('#')).count())
}

#[test]
fn corpus_logs_are_the_same_rows_with_workers() {
    let c = |r: &str| repo(&format!("tests/corpus/{r}"));
    // The 2004 IRC bot with TFTP traffic read as one run.
    let (one, _) = same_logs(&[
        c("suricata-verify/tests/irc/input.pcap"),
        c("spicy-tftp/testing/Traces/tftp_rrq.pcap"),
    ]);
    assert_eq!(rows(&one, "conn.log"), 3);
    assert_eq!(rows(&one, "irc.log"), 5);
    assert_eq!(rows(&one, "tftp.log"), 1);
    // GRE/PPTP (the inner DNS conn names its tunnel), GRE-PPP, IPv6 and
    // IPv4 fragments, read as one run (the two GRE captures hold the same
    // inner DNS flow: one conn, its queries twice).
    let (one, _) = same_logs(&[
        c("zeek/testing/btest/Traces/tunnels/gre-pptp.pcap"),
        c("arkime/tests/pcap/6-4-gre-ppp-udp-4-dns.pcap"),
        c("zeek/testing/btest/Traces/ipv6-fragmented-dns.pcap"),
        c("ndpi/tests/cfgs/default/pcap/smb_frags.pcap"),
    ]);
    assert_eq!(rows(&one, "conn.log"), 4);
    assert_eq!(rows(&one, "dns.log"), 5);
    let tunnelled = one["conn.log"]
        .iter()
        .filter(|l| l.contains("\t8.8.8.8\t53\tudp\tdns\t"))
        // tunnel_parents is the 21st column.
        .filter(|l| l.split('\t').nth(20).is_some_and(|p| p.starts_with('C')))
        .count();
    assert_eq!(tunnelled, 1, "{:?}", one["conn.log"]);
    // A DCC SEND whose data connection runs between the same two hosts as
    // the offer: same worker, same irc-dcc-data conn, no warning.
    let (one, err) = same_logs(&[c("zeek/testing/btest/Traces/irc-dcc-send.pcapng")]);
    assert!(one["conn.log"]
        .iter()
        .any(|l| l.contains("\tirc-dcc-data\t")));
    assert!(!err.contains("warning"), "{err}");
}

#[test]
fn synthetic_field_logs_are_the_same_rows_with_workers() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = botscope_synth::SynthConfig {
        seed: 5,
        scale: 0.3,
        gre: true,
        resolver_logs: false,
        ..Default::default()
    };
    botscope_synth::generate(&cfg, dir.path()).expect("synth");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir.path().join("pcap"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let (one, _) = same_logs(&files);
    assert!(rows(&one, "conn.log") > 1000, "{}", rows(&one, "conn.log"));
    assert!(rows(&one, "irc.log") > 0 && rows(&one, "dns.log") > 0);
}

#[test]
fn json_with_workers_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_botscope"))
        .args([
            "capture",
            "read",
            "--workers",
            "2",
            "--format",
            "json",
            "--out",
        ])
        .arg(dir.path())
        .arg(repo("tests/corpus/suricata-verify/tests/irc/input.pcap"))
        .output()
        .expect("botscope runs");
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("--workers 2 needs --format zeek"), "{err}");
}

/// An Ethernet/IPv4/TCP frame (checksums left zero: read with
/// `--checksums off`).
#[allow(clippy::too_many_arguments)]
fn tcp(
    src: [u8; 4],
    dst: [u8; 4],
    sp: u16,
    dp: u16,
    seq: u32,
    ack: u32,
    flags: u8,
    data: &[u8],
) -> Vec<u8> {
    let mut f = vec![0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x08, 0x00];
    let total = (40 + data.len()) as u16;
    f.extend_from_slice(&[0x45, 0]);
    f.extend_from_slice(&total.to_be_bytes());
    f.extend_from_slice(&[0, 0, 0x40, 0, 64, 6, 0, 0]);
    f.extend_from_slice(&src);
    f.extend_from_slice(&dst);
    f.extend_from_slice(&sp.to_be_bytes());
    f.extend_from_slice(&dp.to_be_bytes());
    f.extend_from_slice(&seq.to_be_bytes());
    f.extend_from_slice(&ack.to_be_bytes());
    f.extend_from_slice(&[0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
    f.extend_from_slice(data);
    f
}

/// A classic pcap of `frames`, 1 ms apart.
fn pcap(frames: &[Vec<u8>]) -> Vec<u8> {
    let mut d = Vec::new();
    for v in [0xa1b2_c3d4u32, 0x0004_0002, 0, 0, 65535, 1] {
        d.extend_from_slice(&v.to_le_bytes());
    }
    for (i, f) in frames.iter().enumerate() {
        let us = 1_000 * i as u32;
        for v in [
            1_100_000_000 + us / 1_000_000,
            us % 1_000_000,
            f.len() as u32,
            f.len() as u32,
        ] {
            d.extend_from_slice(&v.to_le_bytes());
        }
        d.extend_from_slice(f);
    }
    d
}

/// One TCP connection: handshake, `a_data` from a then `b_data` from b,
/// FIN from both.
fn connection(
    a: ([u8; 4], u16),
    b: ([u8; 4], u16),
    a_data: &[&[u8]],
    b_data: &[&[u8]],
) -> Vec<Vec<u8>> {
    let (syn, ack, psh, fin) = (0x02, 0x10, 0x18, 0x11);
    let (mut sa, mut sb) = (1000u32, 5000u32);
    let mut v = vec![
        tcp(a.0, b.0, a.1, b.1, sa, 0, syn, b""),
        tcp(b.0, a.0, b.1, a.1, sb, sa + 1, syn | ack, b""),
    ];
    sa += 1;
    sb += 1;
    v.push(tcp(a.0, b.0, a.1, b.1, sa, sb, ack, b""));
    for d in a_data {
        v.push(tcp(a.0, b.0, a.1, b.1, sa, sb, psh, d));
        sa += d.len() as u32;
        v.push(tcp(b.0, a.0, b.1, a.1, sb, sa, ack, b""));
    }
    for d in b_data {
        v.push(tcp(b.0, a.0, b.1, a.1, sb, sa, psh, d));
        sb += d.len() as u32;
        v.push(tcp(a.0, b.0, a.1, b.1, sa, sb, ack, b""));
    }
    v.push(tcp(a.0, b.0, a.1, b.1, sa, sb, fin, b""));
    v.push(tcp(b.0, a.0, b.1, a.1, sb, sa + 1, fin, b""));
    v.push(tcp(a.0, b.0, a.1, b.1, sa + 1, sb + 1, ack, b""));
    v
}

#[test]
fn dcc_data_on_another_worker_is_warned_about_not_silent() {
    // Bot C offers a file to peer P over IRC server S; P then connects to
    // C's offered port. The offer travels on the pair (C, S), the data on
    // (P, C): P is picked so that the two pairs go to different workers.
    let (c, s) = ([10, 0, 0, 2], [10, 0, 0, 1]);
    let p = (3..=250u8)
        .map(|x| [10, 0, 1, x])
        .find(|p| {
            let w = |a: [u8; 4], b: [u8; 4]| {
                botscope_capture::parallel::worker_of(a.into(), b.into(), 2)
            };
            w(*p, c) != w(c, s)
        })
        .expect("a peer on the other worker");
    let offer = format!(
        "PRIVMSG peer :\u{1}DCC SEND file.exe {} 5000 4\u{1}\r\n",
        u32::from_be_bytes(c)
    );
    let mut frames = Vec::new();
    let irc = connection(
        (c, 40000),
        (s, 6667),
        &[b"NICK bot\r\nUSER bot 0 * :bot\r\n", offer.as_bytes()],
        &[b":irc.test 001 bot :Welcome\r\n"],
    );
    // The IRC session up to the offer, then the data connection, then the
    // rest of the IRC session.
    frames.extend_from_slice(&irc[..7]);
    frames.extend(connection((p, 41000), (c, 5000), &[], &[b"MZab"]));
    frames.extend_from_slice(&irc[7..]);
    let dir = tempfile::tempdir().unwrap();
    let cap = dir.path().join("dcc.pcap");
    std::fs::write(&cap, pcap(&frames)).unwrap();
    let run = |n: usize| {
        let out = dir.path().join(format!("w{n}"));
        let o = Command::new(env!("CARGO_BIN_EXE_botscope"))
            .args([
                "capture",
                "read",
                "--checksums",
                "off",
                "--workers",
                &n.to_string(),
                "--out",
            ])
            .arg(&out)
            .arg(&cap)
            .output()
            .expect("botscope runs");
        assert!(o.status.success());
        let conn = std::fs::read_to_string(out.join("conn.log")).unwrap();
        let data_row = conn
            .lines()
            .find(|l| l.contains("\t41000\t10.0.0.2\t5000\ttcp\t"))
            .expect("the data connection's row")
            .to_string();
        (data_row, String::from_utf8_lossy(&o.stderr).into_owned())
    };
    let (one, err1) = run(1);
    assert!(one.contains("\tirc-dcc-data\t"), "{one}");
    assert!(!err1.contains("warning"), "{err1}");
    let (two, err2) = run(2);
    assert!(!two.contains("irc-dcc-data"), "{two}");
    assert!(
        err2.contains("warning: 1 IRC DCC data connection(s) ran on another worker"),
        "{err2}"
    );
}
