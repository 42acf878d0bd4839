//! Table 1 counted in the analysis pass (issue 19): when `--background`
//! names a capture that is also analysed, `botscope analyze` counts it
//! while analysing (one read), and the table equals the one a separate
//! pass over the same bytes gives, and tshark's count of the packets.

use serde_json::Value;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

fn repo(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(rel)
}

/// `analyze --json` with `--honeypot-net NET`; the report and stderr.
fn analyze(captures: &[&Path], background: &[&Path], net: &str) -> (Value, String) {
    let mut args: Vec<&OsStr> = vec!["analyze".as_ref(), "--json".as_ref()];
    args.extend(["--honeypot-net".as_ref(), OsStr::new(net)]);
    for b in background {
        args.extend(["--background".as_ref(), b.as_os_str()]);
    }
    args.extend(captures.iter().map(|p| p.as_os_str()));
    let o = Command::new(env!("CARGO_BIN_EXE_botscope"))
        .args(&args)
        .output()
        .expect("botscope runs");
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(o.status.success(), "botscope {args:?}: {err}");
    (serde_json::from_slice(&o.stdout).expect("json report"), err)
}

#[test]
fn background_among_the_captures_is_counted_in_the_same_pass() {
    let irc = repo("tests/corpus/suricata-verify/tests/irc/input.pcap");
    let dns = repo("tests/corpus/zeek/testing/btest/Traces/dns53.pcap");
    // The same bytes under another name are not among the captures, so
    // that run reads the background a second time, on its own.
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("sensor.pcap");
    std::fs::copy(&irc, &copy).unwrap();
    let net = "69.64.34.124/32";

    let (same, err) = analyze(&[&irc], &[&irc], net);
    assert!(
        err.contains("background: 1 of 1 captures counted in the analysis pass"),
        "{err}"
    );
    let (separate, err2) = analyze(&[&irc], &[&copy], net);
    assert!(!err2.contains("analysis pass"), "{err2}");
    assert_eq!(same["table1"], separate["table1"]);
    // tshark -r input.pcap -Y ip.dst==69.64.34.124 -T fields -e ip.len:
    // 24 packets, 2,110 bytes, all in one minute.
    let t = &same["table1"];
    assert_eq!(t["total"]["packets"], 24);
    assert_eq!(t["total"]["bytes"], 2110);
    assert_eq!(t["per_minute"].as_array().map(Vec::len), Some(1));

    // Two captures, the background only the second: only its packets
    // count (same table), and the analyses see both.
    let (mixed, err3) = analyze(&[&dns, &irc], &[&irc], net);
    assert!(err3.contains("1 of 1 captures counted"), "{err3}");
    assert_eq!(mixed["table1"], same["table1"]);
    let (none, _) = analyze(&[&dns], &[&copy], net);
    assert_eq!(none["table1"], same["table1"]);
}
