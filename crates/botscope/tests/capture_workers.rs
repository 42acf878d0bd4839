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
