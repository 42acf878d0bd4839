//! Issue 17: a C&C zone is written by the herder. Names that resolve to
//! non-global addresses (10/8, 192.168/16, 127/8, ...) must neither be
//! connected to by `--active` (an internal port scan driven by the herder)
//! nor end up in DROP rules (the ISP blocking its own infrastructure), and
//! the operator's never-block list wins over any probe.
//!
//! Each test runs in its own network namespace (unshare(CLONE_NEWNET) on the
//! test thread; named, dig, nft and the probe's threads inherit it): only
//! `lo` exists there, so even a regression cannot send a packet to 10.0.0.5
//! or to the global address — there is no route.

use crate::servers::{bin, free_port, named};
use botscope_core::Ts;
use botscope_intel::configs::BotConfigs;
use botscope_intel::export::{firewall_endpoints, iptables, misp_event, nftables, stix_bundle};
use botscope_intel::probe::{non_global_addrs, probe_blocking, skipped_connects, ProbeOptions};
use botscope_intel::targets::{NetList, SkipSummary, SkippedAddr, TargetPolicy};
use std::collections::BTreeMap;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

/// Moves the calling thread (and every process and thread it starts) into a
/// fresh network namespace with only `lo` up.
fn enter_isolated_netns() {
    // SAFETY: plain syscall; CLONE_NEWNET applies to the calling thread only.
    let rc = unsafe { libc::unshare(libc::CLONE_NEWNET) };
    assert_eq!(
        rc,
        0,
        "unshare(CLONE_NEWNET): {} (the tests run as root)",
        std::io::Error::last_os_error()
    );
    let st = Command::new(bin("ip"))
        .args(["link", "set", "lo", "up"])
        .status()
        .unwrap();
    assert!(st.success());
    // Nothing but loopback is routable here.
    let r = Command::new(bin("ip"))
        .args(["route", "get", "81.169.145.1"])
        .output()
        .unwrap();
    assert!(!r.status.success(), "a route leaves the namespace");
}

const GLOBAL_V4: &str = "81.169.145.1";
const GLOBAL_V6: &str = "2a01:4f8:c0c:1::1";

fn start_auth(dir: &std::path::Path) -> crate::servers::Server {
    let zone = format!(
        "$TTL 60\n@ IN SOA ns.cc.test. root.cc.test. ( 1 3600 600 86400 60 )\n@ IN NS ns.cc.test.\n\
         ns IN A 127.0.0.1\n\
         parked IN A 10.0.0.5\nparked IN A 192.168.1.1\nparked IN A 127.0.0.1\nparked IN AAAA fe80::1\n\
         mixed IN A 10.0.0.5\nmixed IN A 192.168.1.1\nmixed IN A 127.0.0.1\nmixed IN A {GLOBAL_V4}\n\
         mixed IN AAAA ::ffff:10.0.0.5\nmixed IN AAAA fd00::5\nmixed IN AAAA {GLOBAL_V6}\n\
         ours IN A 81.169.200.7\n\
         lab IN A 127.0.0.1\n"
    );
    std::fs::write(dir.join("cc.test.zone"), zone).unwrap();
    named(
        dir,
        "recursion no;",
        "zone \"cc.test\" { type primary; file \"cc.test.zone\"; };",
        "cc.test",
    )
}

fn skipped(v: &[(&str, &str, &str)]) -> Vec<SkippedAddr> {
    v.iter()
        .map(|(n, a, r)| SkippedAddr {
            name: n.to_string(),
            addr: a.parse().unwrap(),
            reason: r.to_string(),
        })
        .collect()
}

#[test]
fn active_probe_never_connects_to_non_global_addresses() {
    enter_isolated_netns();
    let dir = tempfile::tempdir().unwrap();
    let auth = start_auth(dir.path());
    let cc_port = free_port();
    let listener = std::net::TcpListener::bind(("127.0.0.1", cc_port)).unwrap();
    listener.set_nonblocking(true).unwrap();
    let cfg = BotConfigs::parse(
        "c.json",
        &format!(
            r#"[{{"sha256":"{}","servers":[{{"host":"parked.cc.test","port":{cc_port}}},{{"host":"lab.cc.test","port":{cc_port}}}]}}]"#,
            "a".repeat(64)
        ),
    )
    .unwrap();
    let opts = ProbeOptions {
        resolver: Some(format!("127.0.0.1:{}", auth.port).parse().unwrap()),
        timeout: Duration::from_secs(2),
        active: true,
        connect_timeout: Duration::from_secs(1),
        ..Default::default()
    };
    assert!(!opts.allow_private_targets, "default is off");
    let rs = probe_blocking(&["parked.cc.test".to_string()], &cfg, &opts).unwrap();
    let r = &rs[0];
    assert_eq!(r.addr_set(), "10.0.0.5,127.0.0.1,192.168.1.1,fe80::1");
    // No port check on any address: nothing was connected to.
    assert_eq!(
        r.addrs.iter().map(|a| a.ports.len()).collect::<Vec<_>>(),
        vec![0, 0, 0, 0]
    );
    assert_eq!(
        skipped_connects(&rs),
        skipped(&[
            ("parked.cc.test", "10.0.0.5", "not global: private (10/8)"),
            (
                "parked.cc.test",
                "127.0.0.1",
                "not global: loopback (127/8)"
            ),
            (
                "parked.cc.test",
                "192.168.1.1",
                "not global: private (192.168/16)"
            ),
            (
                "parked.cc.test",
                "fe80::1",
                "not global: link-local (fe80::/10)"
            ),
        ])
    );
    // The loopback C&C port listens, and was never connected to.
    assert_eq!(
        listener.accept().map(|_| ()).unwrap_err().kind(),
        std::io::ErrorKind::WouldBlock
    );
    // Not connected to = counted as unreachable (no bot outside can reach it).
    assert_eq!(r.unreachable(), Some(true));
    let w = SkipSummary::new(skipped_connects(&rs))
        .warning("not connected to")
        .unwrap();
    assert!(
        w.starts_with("botscope: warning: 4 addresses of 1 name not connected to"),
        "{w}"
    );
    assert!(w.contains("parked.cc.test → 10.0.0.5 not global: private (10/8)"));

    // The lab opt-in: a name on 127.0.0.1 only is connected to.
    let lab = ProbeOptions {
        allow_private_targets: true,
        ..opts.clone()
    };
    let rl = probe_blocking(&["lab.cc.test".to_string()], &cfg, &lab).unwrap();
    assert_eq!(rl[0].addrs[0].ports.len(), 1);
    assert!(rl[0].addrs[0].ports[0].open);
    assert_eq!(rl[0].unreachable(), Some(false));
    assert!(skipped_connects(&rl).is_empty());
    listener.set_nonblocking(false).unwrap();
    listener.accept().expect("the opt-in probe connected");
}

#[test]
fn exports_hold_only_global_addresses_outside_the_never_block_list() {
    enter_isolated_netns();
    let dir = tempfile::tempdir().unwrap();
    let auth = start_auth(dir.path());
    // Passive probe only: the global addresses are never connected to.
    let opts = ProbeOptions {
        resolver: Some(format!("127.0.0.1:{}", auth.port).parse().unwrap()),
        timeout: Duration::from_secs(2),
        ..Default::default()
    };
    let cfg = BotConfigs::parse(
        "c.json",
        &format!(
            r#"[{{"sha256":"{}","servers":[{{"host":"mixed.cc.test","port":6667}},{{"host":"mixed.cc.test","port":7000}},{{"host":"192.168.7.7","port":5562}},{{"host":"81.169.200.9","port":6667}}]}}]"#,
            "b".repeat(64)
        ),
    )
    .unwrap();
    let names = vec!["mixed.cc.test".to_string(), "ours.cc.test".to_string()];
    let rs = probe_blocking(&names, &cfg, &opts).unwrap();
    assert!(!rs[0].active && skipped_connects(&rs).is_empty());
    assert_eq!(
        rs[0].addr_set(),
        format!("10.0.0.5,{GLOBAL_V4},127.0.0.1,192.168.1.1,::ffff:10.0.0.5,{GLOBAL_V6},fd00::5")
    );
    assert_eq!(non_global_addrs(&rs).len(), 5);

    let (never, bad) = NetList::parse("never-block.txt", "# our network\n81.169.200.0/24\n");
    assert_eq!(bad.total(), 0);
    let policy = TargetPolicy {
        allow_private: false,
        never_block: never,
    };
    let latest: BTreeMap<String, _> = rs.iter().map(|r| (r.name.clone(), r.clone())).collect();
    let t = firewall_endpoints(&names, &latest, &cfg, 6667, &policy);
    let eps: Vec<String> = t
        .endpoints
        .iter()
        .map(|e| format!("{} {}", e.addr, e.port))
        .collect();
    assert_eq!(
        eps,
        vec![
            format!("{GLOBAL_V4} 6667"),
            format!("{GLOBAL_V4} 7000"),
            format!("{GLOBAL_V6} 6667"),
            format!("{GLOBAL_V6} 7000"),
        ]
    );
    assert_eq!(
        t.skipped,
        skipped(&[
            (
                "192.168.7.7",
                "192.168.7.7",
                "not global: private (192.168/16)"
            ),
            (
                "81.169.200.9",
                "81.169.200.9",
                "never-block list (81.169.200.0/24)"
            ),
            ("mixed.cc.test", "10.0.0.5", "not global: private (10/8)"),
            ("mixed.cc.test", "127.0.0.1", "not global: loopback (127/8)"),
            (
                "mixed.cc.test",
                "192.168.1.1",
                "not global: private (192.168/16)"
            ),
            (
                "mixed.cc.test",
                "::ffff:10.0.0.5",
                "not global: IPv4-mapped 10.0.0.5: private (10/8)"
            ),
            (
                "mixed.cc.test",
                "fd00::5",
                "not global: unique local (fc00::/7)"
            ),
            (
                "ours.cc.test",
                "81.169.200.7",
                "never-block list (81.169.200.0/24)"
            ),
        ])
    );
    assert!(t.unprobed.is_empty());
    let s = SkipSummary::new(t.skipped.clone());
    assert_eq!(
        (s.count, s.names.clone()),
        (
            8,
            vec![
                "192.168.7.7".to_string(),
                "81.169.200.9".into(),
                "mixed.cc.test".into(),
                "ours.cc.test".into()
            ]
        )
    );

    // The rendered files, checked by their consumers, hold only the global ones.
    let nft = nftables(&t.endpoints, Ts(0));
    let (v4, v6) = iptables(&t.endpoints, Ts(0));
    let misp = misp_event("t", &names, &t.endpoints, &BTreeMap::new(), Ts(0)).to_string();
    let stix = stix_bundle(&names, &t.endpoints, &BTreeMap::new(), Ts(0)).to_string();
    assert!(
        nft.contains(&format!("{GLOBAL_V4} . 6667"))
            && nft.contains(&format!("{GLOBAL_V6} . 7000"))
    );
    assert_eq!(v4.matches("-j DROP").count(), 2);
    assert!(v4.contains(&format!(
        "-A BOTSCOPE-CC -d {GLOBAL_V4}/32 -p tcp -m tcp --dport 7000 -j DROP"
    )));
    assert_eq!(v6.matches("-j DROP").count(), 2);
    assert!(v6.contains(&format!("-d {GLOBAL_V6}/128")));
    for text in [&nft, &v4, &v6, &misp, &stix] {
        for bad in [
            "10.0.0.5",
            "192.168.1.1",
            "127.0.0.1",
            "192.168.7.7",
            "fd00::5",
            "81.169.200.",
        ] {
            assert!(!text.contains(bad), "{bad} exported:\n{text}");
        }
    }
    assert!(misp.contains(&format!("{GLOBAL_V4}|6667")) && stix.contains(GLOBAL_V6));
    let p = dir.path().join("cc.nft");
    std::fs::write(&p, &nft).unwrap();
    let out = Command::new(bin("nft"))
        .arg("-c")
        .arg("-f")
        .arg(&p)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "nft -c: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    for (tool, rules) in [("iptables-restore", &v4), ("ip6tables-restore", &v6)] {
        let mut child = Command::new(bin(tool))
            .arg("--test")
            .stdin(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(rules.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{tool}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
