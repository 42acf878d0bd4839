//! Issue 17 through the CLI: `intel probe --active` never connects to
//! non-global addresses a C&C zone returns (unless `--allow-private-targets`),
//! and `intel export` never turns them, nor the never-block list
//! (`--never-block FILE`, default STORE/never-block.txt), into firewall rules;
//! both warn with the count and the names, in text and JSON.
//!
//! Runs in its own network namespace (the test thread unshares it; named,
//! dig, botscope and nft inherit it): only `lo` exists, so no packet can
//! leave for 10.0.0.5 or the global address even if the code regressed.

use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

fn bin(name: &str) -> PathBuf {
    for dir in ["/usr/sbin", "/usr/bin", "/sbin", "/bin"] {
        let p = Path::new(dir).join(name);
        if p.exists() {
            return p;
        }
    }
    panic!("{name} not found: install it (scripts/setup.sh)");
}

fn enter_isolated_netns() {
    // SAFETY: plain syscall; CLONE_NEWNET applies to the calling thread only.
    let rc = unsafe { libc::unshare(libc::CLONE_NEWNET) };
    assert_eq!(rc, 0, "unshare: {}", std::io::Error::last_os_error());
    assert!(Command::new(bin("ip"))
        .args(["link", "set", "lo", "up"])
        .status()
        .unwrap()
        .success());
    let r = Command::new(bin("ip"))
        .args(["route", "get", "81.169.145.1"])
        .output()
        .unwrap();
    assert!(!r.status.success(), "a route leaves the namespace");
}

fn free_port() -> u16 {
    loop {
        let t = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = t.local_addr().unwrap().port();
        if std::net::UdpSocket::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

struct Named(Child);
impl Drop for Named {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_named(dir: &Path) -> (Named, u16) {
    let zone = "$TTL 60\n@ IN SOA ns.cc.test. root.cc.test. ( 1 3600 600 86400 60 )\n@ IN NS ns.cc.test.\n\
         ns IN A 127.0.0.1\n\
         parked IN A 10.0.0.5\nparked IN A 192.168.1.1\nparked IN A 127.0.0.1\n\
         mixed IN A 10.0.0.5\nmixed IN A 127.0.0.1\nmixed IN A 81.169.145.1\nmixed IN AAAA fd00::5\n\
         ours IN A 81.169.200.7\n\
         lab IN A 127.0.0.1\n";
    std::fs::write(dir.join("cc.test.zone"), zone).unwrap();
    let port = free_port();
    let d = dir.display();
    std::fs::write(
        dir.join("named.conf"),
        format!(
            "options {{\n  directory \"{d}\";\n  listen-on port {port} {{ 127.0.0.1; }};\n  listen-on-v6 {{ none; }};\n  \
             pid-file \"{d}/named.pid\";\n  session-keyfile \"{d}/session.key\";\n  managed-keys-directory \"{d}\";\n  \
             recursion no;\n  dnssec-validation no;\n}};\ncontrols {{ }};\n\
             zone \"cc.test\" {{ type primary; file \"cc.test.zone\"; }};\n"
        ),
    )
    .unwrap();
    let child = Command::new(bin("named"))
        .args(["-g", "-c"])
        .arg(dir.join("named.conf"))
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("named.log")).unwrap())
        .spawn()
        .expect("start named");
    let named = Named(child);
    let start = Instant::now();
    loop {
        let o = Command::new(bin("dig"))
            .args([
                "@127.0.0.1",
                "-p",
                &port.to_string(),
                "cc.test",
                "SOA",
                "+tries=1",
                "+time=1",
                "+short",
            ])
            .output()
            .unwrap();
        if o.status.success() && !o.stdout.is_empty() {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "named not ready: {}",
            std::fs::read_to_string(dir.join("named.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    (named, port)
}

fn botscope(args: &[&str]) -> Output {
    let o = Command::new(env!("CARGO_BIN_EXE_botscope"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "botscope {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

fn p(x: &Path) -> &str {
    x.to_str().unwrap()
}

#[test]
fn probe_and_export_skip_non_global_and_never_block_addresses() {
    enter_isolated_netns();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let (_named, dns_port) = start_named(dir);
    let resolver = format!("127.0.0.1:{dns_port}");
    let store = dir.join("store");
    let cc_port = free_port();
    let listener = std::net::TcpListener::bind(("127.0.0.1", cc_port)).unwrap();
    listener.set_nonblocking(true).unwrap();
    std::fs::write(
        dir.join("configs.json"),
        format!(
            r#"[{{"sha256":"{}","servers":[{{"host":"parked.cc.test","port":{cc_port}}},{{"host":"192.168.7.7","port":5562}},{{"host":"lab.cc.test","port":{cc_port}}}]}}]"#,
            "a".repeat(64)
        ),
    )
    .unwrap();
    let parked = dir.join("parked.txt");
    std::fs::write(&parked, "parked.cc.test\n").unwrap();

    // Active probe, no opt-in: nothing connected to, warning with count and name.
    let o = botscope(&[
        "intel",
        "--store",
        p(&store),
        "probe",
        p(&parked),
        "--resolver",
        &resolver,
        "--active",
        "--configs",
        p(&dir.join("configs.json")),
        "--connect-timeout-ms",
        "500",
        "--table-json",
        "--jsonl",
        p(&dir.join("parked.jsonl")),
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("botscope: warning: 3 addresses of 1 name not connected to (not global or never-block): parked.cc.test → 10.0.0.5 not global: private (10/8), 127.0.0.1 not global: loopback (127/8), 192.168.1.1 not global: private (192.168/16)"),
        "{err}"
    );
    let j: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(j["not_connected"]["count"], 3);
    assert_eq!(
        j["not_connected"]["names"],
        serde_json::json!(["parked.cc.test"])
    );
    assert_eq!(j["not_connected"]["addresses"][1]["addr"], "127.0.0.1");
    assert_eq!(j["unreachable"], 1);
    let line: Value = serde_json::from_str(
        std::fs::read_to_string(dir.join("parked.jsonl"))
            .unwrap()
            .trim(),
    )
    .unwrap();
    for a in line["addrs"].as_array().unwrap() {
        assert_eq!(a["ports"], serde_json::json!([]), "{a}");
    }
    assert_eq!(
        listener.accept().map(|_| ()).unwrap_err().kind(),
        std::io::ErrorKind::WouldBlock,
        "the probe connected to 127.0.0.1"
    );

    // Passive probe of the export names (the global address is never connected to).
    let names = dir.join("names.txt");
    std::fs::write(&names, "mixed.cc.test\nours.cc.test\n").unwrap();
    let o = botscope(&[
        "intel",
        "--store",
        p(&store),
        "probe",
        p(&names),
        "--resolver",
        &resolver,
        "--table-json",
    ]);
    let j: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(j["not_connected"]["count"], 0);
    assert_eq!(j["non_global"]["count"], 3);
    assert!(String::from_utf8_lossy(&o.stderr)
        .contains("warning: 3 addresses of 1 name never exported"));

    // Export with the never-block list at its default place in the store.
    std::fs::write(
        store.join("never-block.txt"),
        "# our own network\n81.169.200.0/24\n",
    )
    .unwrap();
    let out = dir.join("block");
    let o = botscope(&[
        "intel",
        "--store",
        p(&store),
        "export",
        p(&names),
        "--out",
        p(&out),
        "--configs",
        p(&dir.join("configs.json")),
        "--json",
    ]);
    let j: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(j["endpoints"], 1, "{j}");
    assert_eq!(j["never_block"], p(&store.join("never-block.txt")));
    let left = &j["addresses_left_out"];
    assert_eq!(left["count"], 5);
    assert_eq!(
        left["names"],
        serde_json::json!(["192.168.7.7", "mixed.cc.test", "ours.cc.test"])
    );
    let reasons: Vec<String> = left["addresses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            format!(
                "{} {}",
                a["addr"].as_str().unwrap(),
                a["reason"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        reasons,
        vec![
            "192.168.7.7 not global: private (192.168/16)",
            "10.0.0.5 not global: private (10/8)",
            "127.0.0.1 not global: loopback (127/8)",
            "fd00::5 not global: unique local (fc00::/7)",
            "81.169.200.7 never-block list (81.169.200.0/24)",
        ]
    );
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("warning: 5 addresses of 3 names not exported")
    );
    let file: Value = serde_json::from_str(
        &std::fs::read_to_string(out.join("excluded-addresses.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(&file, left);
    let nft = std::fs::read_to_string(out.join("cc.nft")).unwrap();
    let v4 = std::fs::read_to_string(out.join("iptables.rules")).unwrap();
    let v6 = std::fs::read_to_string(out.join("ip6tables.rules")).unwrap();
    assert!(nft.contains("elements = { 81.169.145.1 . 6667 }"), "{nft}");
    assert_eq!(
        v4.lines()
            .filter(|l| l.starts_with("-A "))
            .collect::<Vec<_>>(),
        vec!["-A BOTSCOPE-CC -d 81.169.145.1/32 -p tcp -m tcp --dport 6667 -j DROP"]
    );
    assert_eq!(v6.lines().filter(|l| l.starts_with("-A ")).count(), 0);
    for f in [
        "cc.nft",
        "iptables.rules",
        "ip6tables.rules",
        "misp-event.json",
        "stix-bundle.json",
    ] {
        let t = std::fs::read_to_string(out.join(f)).unwrap();
        for bad in [
            "10.0.0.5",
            "127.0.0.1",
            "192.168.",
            "fd00::5",
            "81.169.200.7",
        ] {
            assert!(!t.contains(bad), "{bad} in {f}:\n{t}");
        }
    }
    let check = Command::new(bin("nft"))
        .args(["-c", "-f"])
        .arg(out.join("cc.nft"))
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    for (tool, rules) in [("iptables-restore", &v4), ("ip6tables-restore", &v6)] {
        let mut c = Command::new(bin(tool))
            .arg("--test")
            .stdin(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        c.stdin.take().unwrap().write_all(rules.as_bytes()).unwrap();
        let o = c.wait_with_output().unwrap();
        assert!(
            o.status.success(),
            "{tool}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }

    // --never-block FILE replaces the default list: the global address goes too.
    let nb = dir.join("ours.txt");
    std::fs::write(&nb, "81.169.145.1\n").unwrap();
    let out2 = dir.join("block2");
    let o = botscope(&[
        "intel",
        "--store",
        p(&store),
        "export",
        p(&names),
        "--out",
        p(&out2),
        "--never-block",
        p(&nb),
        "--json",
    ]);
    let j: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(j["never_block"], p(&nb));
    assert_eq!(j["addresses_left_out"]["count"], 4);
    // ... and 81.169.200.7 is global, not on that list: exported alone.
    assert_eq!(j["endpoints"], 1);
    let nft2 = std::fs::read_to_string(out2.join("cc.nft")).unwrap();
    assert!(
        nft2.contains("elements = { 81.169.200.7 . 6667 }"),
        "{nft2}"
    );
    assert!(!nft2.contains("81.169.145.1"));

    // The lab opt-in lets the probe reach the loopback C&C.
    let lab = dir.join("lab.txt");
    std::fs::write(&lab, "lab.cc.test\n").unwrap();
    listener.set_nonblocking(false).unwrap();
    let _ = botscope(&[
        "intel",
        "--store",
        p(&store),
        "probe",
        p(&lab),
        "--resolver",
        &resolver,
        "--active",
        "--allow-private-targets",
        "--configs",
        p(&dir.join("configs.json")),
        "--connect-timeout-ms",
        "300",
        "--no-store",
    ]);
    listener.set_nonblocking(true).unwrap();
    listener
        .accept()
        .expect("the opt-in probe connected to 127.0.0.1");
}
