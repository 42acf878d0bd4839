//! Behaviour on events read back from disk (issue 18): `botscope analyze
//! CAPTURES` and `botscope capture read --format json CAPTURES` followed
//! by `botscope analyze --events events.jsonl` give the same report, on a
//! synthetic field and on real captures of the corpus.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn repo(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(rel)
}

fn botscope(args: &[&std::ffi::OsStr]) -> std::process::Output {
    let o = Command::new(env!("CARGO_BIN_EXE_botscope"))
        .args(args)
        .output()
        .expect("botscope runs");
    assert!(
        o.status.success(),
        "botscope {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

/// The report of `analyze CAPTURES --json` and of `analyze --events` on
/// what `capture read --format json` wrote from the same captures, and
/// the kinds of the events written.
fn both_ways(captures: &[PathBuf], extra: &[&str]) -> (Value, Value, Vec<String>) {
    let out = tempfile::tempdir().unwrap();
    let mut args: Vec<&std::ffi::OsStr> = vec!["analyze".as_ref(), "--json".as_ref()];
    args.extend(extra.iter().map(std::ffi::OsStr::new));
    args.extend(captures.iter().map(|p| p.as_os_str()));
    let direct: Value = serde_json::from_slice(&botscope(&args).stdout).unwrap();

    let mut args: Vec<&std::ffi::OsStr> = vec![
        "capture".as_ref(),
        "read".as_ref(),
        "--format".as_ref(),
        "json".as_ref(),
        "--out".as_ref(),
        out.path().as_os_str(),
    ];
    args.extend(captures.iter().map(|p| p.as_os_str()));
    botscope(&args);
    let events = out.path().join("events.jsonl");
    let mut args: Vec<&std::ffi::OsStr> = vec![
        "analyze".as_ref(),
        "--json".as_ref(),
        "--events".as_ref(),
        events.as_os_str(),
    ];
    args.extend(extra.iter().map(std::ffi::OsStr::new));
    let o = botscope(&args);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains(" 0 lines skipped"), "{stderr}");
    let read_back: Value = serde_json::from_slice(&o.stdout).unwrap();
    (direct, read_back, kinds(&events))
}

fn kinds(events: &Path) -> Vec<String> {
    let mut k: Vec<String> = std::fs::read_to_string(events)
        .unwrap()
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["kind"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    k.sort();
    k.dedup();
    k
}

/// Reports equal, listed by field so a failure names the table.
fn assert_same(direct: &Value, read_back: &Value) {
    let (a, b) = (direct.as_object().unwrap(), read_back.as_object().unwrap());
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    for (k, v) in a {
        assert_eq!(v, &b[k], "report field {k} differs");
    }
}

#[test]
fn synthetic_field_report_is_the_same_from_events_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = botscope_synth::SynthConfig {
        seed: 3,
        resolver_logs: false,
        ..Default::default()
    };
    let truth = botscope_synth::generate(&cfg, dir.path()).expect("synth");
    let captures = [
        dir.path().join("pcap/honeynet-exploits.pcap"),
        dir.path().join("pcap/infected.pcap"),
    ];
    let (direct, read_back, kinds) = both_ways(&captures, &["--tz", "+09:00"]);
    // Every kind the behaviour tables read went through the file.
    for k in [
        "binary", "conn", "dns", "exploit", "flood", "irc", "relay", "scan", "tftp",
    ] {
        assert!(kinds.iter().any(|x| x == k), "no {k} event in {kinds:?}");
    }
    // Not two empty reports: Table 7 counts the field's exploits.
    let t7: u64 = direct["table7"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["count"].as_u64().unwrap())
        .sum();
    assert_eq!(t7 as usize, truth.exploits.len());
    assert!(!direct["floods"].as_array().unwrap().is_empty());
    assert!(!direct["relays"].as_array().unwrap().is_empty());
    assert!(!direct["scans"].as_array().unwrap().is_empty());
    assert_same(&direct, &read_back);
}

#[test]
fn real_irc_and_dce_rpc_captures_give_the_same_report_from_events() {
    // The 2004 IRC bot (suricata-verify tests/irc) and a dssetup
    // DsRolerUpgradeDownlevelServer request (MS04-011).
    let irc = repo("tests/corpus/suricata-verify/tests/irc/input.pcap");
    let (direct, read_back, kinds) = both_ways(&[irc], &[]);
    assert!(kinds.contains(&"irc".to_string()), "{kinds:?}");
    let s = &direct["sessions"][0];
    assert_eq!(s["nick"], "damn-0262937047");
    assert_eq!(s["server"], "69.64.34.124");
    assert_same(&direct, &read_back);

    let dce =
        repo("tests/realworld/suricata-verify/tests/dcerpc/dcerpc-dce-stub-data-02/input.pcap");
    let (direct, read_back, kinds) = both_ways(&[dce], &[]);
    assert!(kinds.contains(&"exploit".to_string()), "{kinds:?}");
    assert_eq!(direct["exploits"][0]["vector"], "MS04-011");
    assert_same(&direct, &read_back);
}

#[test]
fn http_cc_and_p2p_report_is_the_same_from_events_read_back() {
    // Issue 20: the HTTP poll bodies (`response_text`) and the P2P links
    // (`p2p` events) go through the file and give the same Table 9 HTTP
    // rows, P2P hosts and P2P-only hosts.
    let dir = tempfile::tempdir().unwrap();
    let cfg = botscope_synth::SynthConfig {
        seed: 3,
        resolver_logs: false,
        ..Default::default()
    };
    let truth = botscope_synth::generate(&cfg, dir.path()).expect("synth");
    let mut files: Vec<String> = truth.http_cc.iter().map(|h| h.file.clone()).collect();
    files.extend(truth.p2p.iter().map(|p| p.file.clone()));
    files.sort();
    files.dedup();
    let captures: Vec<PathBuf> = files.iter().map(|f| dir.path().join(f)).collect();
    let (direct, read_back, kinds) = both_ways(&captures, &[]);
    for k in ["http", "p2p"] {
        assert!(kinds.iter().any(|x| x == k), "no {k} event in {kinds:?}");
    }
    assert_eq!(
        direct["table9_http"].as_array().unwrap().len(),
        truth.http_cc.len()
    );
    let only: usize = truth.p2p.iter().map(|n| n.p2p_only_hosts.len()).sum();
    assert_eq!(direct["p2p_only_hosts"].as_array().unwrap().len(), only);
    assert_same(&direct, &read_back);
}
