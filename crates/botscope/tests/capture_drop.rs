//! Issue 17, item 2: `capture read --interface` started as root opens the
//! interface as root, then dissects as `nobody` (or `--user NAME`); the
//! output folder is created before the drop and handed to the user, so the
//! logs are still written. Runs as root (the tests do here) on `lo`, with
//! traffic only between 127.0.0.1 sockets of the test.

use std::io::{Read, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn nobody() -> (u32, u32) {
    let pw = std::fs::read_to_string("/etc/passwd").unwrap();
    let f: Vec<&str> = pw
        .lines()
        .find(|l| l.starts_with("nobody:"))
        .expect("user nobody")
        .split(':')
        .collect();
    (f[2].parse().unwrap(), f[3].parse().unwrap())
}

/// The Uid/Gid lines of every thread of `pid`: (real, effective, saved, fs).
fn thread_ids(pid: u32) -> Vec<(String, String)> {
    let mut v = vec![];
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return v;
    };
    for t in tasks.flatten() {
        let Ok(st) = std::fs::read_to_string(t.path().join("status")) else {
            continue;
        };
        let line = |k: &str| {
            st.lines()
                .find(|l| l.starts_with(k))
                .map(|l| {
                    l[k.len()..]
                        .split_whitespace()
                        .collect::<Vec<_>>()
                        .join(" ")
                })
                .unwrap_or_default()
        };
        v.push((line("Uid:"), line("Gid:")));
    }
    v
}

fn start(out: &Path, port: u16, extra: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_botscope"))
        .args(["capture", "read", "--interface", "lo", "--filter"])
        .arg(format!("tcp port {port}"))
        .args(["--duration", "4", "--json", "--out"])
        .arg(out)
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits until every thread of `child` runs with `uid` (all four ids).
fn wait_for_uid(child: &mut Child, uid: u32) -> Vec<(String, String)> {
    let want = format!("{uid} {uid} {uid} {uid}");
    let t0 = Instant::now();
    loop {
        if let Ok(Some(st)) = child.try_wait() {
            let mut e = String::new();
            child.stderr.take().unwrap().read_to_string(&mut e).unwrap();
            panic!("capture exited early ({st}): {e}");
        }
        let ids = thread_ids(child.id());
        if !ids.is_empty() && ids.iter().all(|(u, _)| *u == want) {
            return ids;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "threads never ran as uid {uid}: {ids:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits until `child` holds a packet socket (the capture is open).
fn wait_for_packet_socket(child: &mut Child) {
    let t0 = Instant::now();
    loop {
        assert!(child.try_wait().unwrap().is_none(), "capture exited early");
        let packet = std::fs::read_to_string("/proc/net/packet").unwrap_or_default();
        let inodes: Vec<&str> = packet
            .lines()
            .skip(1)
            .filter_map(|l| l.split_whitespace().last())
            .collect();
        let open = std::fs::read_dir(format!("/proc/{}/fd", child.id()))
            .map(|d| {
                d.flatten().any(|e| {
                    std::fs::read_link(e.path())
                        .map(|t| {
                            let t = t.to_string_lossy().into_owned();
                            inodes.iter().any(|i| t == format!("socket:[{i}]"))
                        })
                        .unwrap_or(false)
                })
            })
            .unwrap_or(false);
        if open {
            return;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "capture never opened"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// One TCP session with an IRC line on 127.0.0.1:port.
fn talk(listener: &std::net::TcpListener) {
    let port = listener.local_addr().unwrap().port();
    let mut c = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    let (mut a, _) = listener.accept().unwrap();
    c.write_all(b"NICK dropcheck\r\nUSER u 0 * :x\r\n").unwrap();
    let mut buf = [0u8; 64];
    let _ = a.read(&mut buf).unwrap();
    drop(c);
    drop(a);
}

fn finish(child: Child) -> (serde_json::Value, String) {
    let o = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(o.status.success(), "capture failed: {err}");
    (serde_json::from_slice(&o.stdout).unwrap(), err)
}

#[test]
fn live_capture_as_root_dissects_as_nobody_and_still_writes_logs() {
    assert_eq!(
        std::fs::metadata("/proc/self").unwrap().uid(),
        0,
        "this test runs as root"
    );
    let (uid, gid) = nobody();
    let tmp = tempfile::tempdir().unwrap();
    // nobody must be able to reach the output folder inside the temp dir.
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = tmp.path().join("logs");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();

    let mut child = start(&out, port, &[]);
    let ids = wait_for_uid(&mut child, uid);
    wait_for_packet_socket(&mut child);
    // Every thread (dissector, log writer, timer) runs as nobody:nogroup.
    assert!(
        ids.iter()
            .all(|(_, g)| *g == format!("{gid} {gid} {gid} {gid}")),
        "{ids:?}"
    );
    talk(&listener);
    let (summary, err) = finish(child);
    assert!(
        err.contains(
            "running as root: lo is opened as root, then packets are dissected as user nobody"
        ),
        "{err}"
    );
    assert_eq!(summary["logs"]["conn.log"], 1, "{summary}");
    // Folder created before the drop and handed over; the log created after it.
    let m = std::fs::metadata(&out).unwrap();
    assert_eq!((m.uid(), m.gid()), (uid, gid));
    let conn = out.join("conn.log");
    let m = std::fs::metadata(&conn).unwrap();
    assert_eq!((m.uid(), m.gid()), (uid, gid));
    let text = std::fs::read_to_string(&conn).unwrap();
    assert!(
        text.lines()
            .any(|l| !l.starts_with('#') && l.contains(&format!("\t127.0.0.1\t{port}\ttcp\t"))),
        "{text}"
    );
    let irc = std::fs::read_to_string(out.join("irc.log")).unwrap();
    assert!(irc.contains("dropcheck"), "{irc}");
    assert_eq!(std::fs::metadata(out.join("irc.log")).unwrap().uid(), uid);
}

#[test]
fn no_drop_keeps_root_and_unwritable_out_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();

    // --no-drop: root throughout, said on stderr.
    let out = tmp.path().join("root-logs");
    let mut child = start(&out, port, &["--no-drop"]);
    wait_for_packet_socket(&mut child);
    // The socket exists from activation on, before the BPF filter is set
    // (libpcap then drains what came before): talk a few times.
    for _ in 0..5 {
        talk(&listener);
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(thread_ids(child.id()).iter().all(|(u, _)| u == "0 0 0 0"));
    let (summary, err) = finish(child);
    assert!(err.contains("keeping root while dissecting lo"), "{err}");
    assert!(
        summary["logs"]["conn.log"].as_u64().unwrap() >= 1,
        "{summary}"
    );
    assert_eq!(std::fs::metadata(out.join("conn.log")).unwrap().uid(), 0);

    // An existing root-owned folder nobody cannot write to: refused with a
    // clear message instead of a capture that silently writes nothing.
    let existing = tmp.path().join("root-owned");
    std::fs::create_dir(&existing).unwrap();
    std::fs::set_permissions(&existing, std::fs::Permissions::from_mode(0o755)).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_botscope"))
        .args([
            "capture",
            "read",
            "--interface",
            "lo",
            "--duration",
            "1",
            "--out",
        ])
        .arg(&existing)
        .output()
        .unwrap();
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("as user nobody, cannot create files in")
            && err.contains("give a new --out folder"),
        "{err}"
    );
    assert_eq!(std::fs::read_dir(&existing).unwrap().count(), 0);
}
