//! Firewall and threat-sharing exports checked by their real consumers:
//! `nft -c -f` for nftables, the `stix2` library for STIX 2.1 (installed
//! with pip if missing), required-field checks for MISP.

use crate::servers::bin;
use botscope_core::Ts;
use botscope_intel::classify::Classifier;
use botscope_intel::export::{iptables, misp_event, nftables, stix_bundle, Endpoint};
use serde_json::Value;
use std::collections::BTreeMap;
use std::process::Command;

fn endpoints() -> Vec<Endpoint> {
    [
        ("10.1.0.1", 6667),
        ("10.1.0.1", 5562),
        ("10.1.0.2", 6667),
        ("fd00::1", 65348),
    ]
    .iter()
    .map(|(a, p)| Endpoint {
        addr: a.parse().unwrap(),
        port: *p,
    })
    .collect()
}

fn names() -> Vec<String> {
    vec!["cc.no-ip.org".into(), "irc.unlisted.example".into()]
}

#[test]
fn nft_accepts_the_set_file() {
    let dir = tempfile::tempdir().unwrap();
    for (file, eps) in [("full.nft", endpoints()), ("empty.nft", vec![])] {
        let p = dir.path().join(file);
        let text = nftables(&eps, Ts(0));
        std::fs::write(&p, &text).unwrap();
        let out = Command::new(bin("nft"))
            .arg("-c")
            .arg("-f")
            .arg(&p)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "nft -c refused {file}: {}\n{text}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let text = nftables(&endpoints(), Ts(0));
    assert!(text.contains("10.1.0.1 . 5562"));
    assert!(text.contains("fd00::1 . 65348"));
    let (v4, v6) = iptables(&endpoints(), Ts(0));
    assert_eq!(v4.matches("-j DROP").count(), 3);
    assert!(v6.contains("-A BOTSCOPE-CC -d fd00::1/128 -p tcp -m tcp --dport 65348 -j DROP"));
    assert!(v4.trim_end().ends_with("COMMIT") && v6.trim_end().ends_with("COMMIT"));
    // The real consumers: iptables-restore / ip6tables-restore in test mode.
    for (tool, rules) in [("iptables-restore", &v4), ("ip6tables-restore", &v6)] {
        use std::io::Write;
        let mut child = std::process::Command::new(tool)
            .arg("--test")
            .stdin(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{tool} (Debian iptables) must be installed: {e}"));
        child
            .stdin
            .take()
            .unwrap()
            .write_all(rules.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{tool} --test refused:\n{rules}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

fn is_uuid(s: &str) -> bool {
    s.len() == 36
        && s.chars().enumerate().all(|(i, c)| {
            if [8, 13, 18, 23].contains(&i) {
                c == '-'
            } else {
                c.is_ascii_hexdigit() && !c.is_ascii_uppercase()
            }
        })
}

#[test]
fn misp_event_has_required_fields_and_stable_uuids() {
    let c = Classifier::builtin();
    let classes: BTreeMap<_, _> = names().iter().map(|n| (n.clone(), c.classify(n))).collect();
    let a = misp_event(
        "test event",
        &names(),
        &endpoints(),
        &classes,
        Ts::from_secs_micros(1_763_770_000, 0),
    );
    let b = misp_event(
        "test event",
        &names(),
        &endpoints(),
        &classes,
        Ts::from_secs_micros(1_763_780_000, 0),
    );
    let ev = &a["Event"];
    assert!(is_uuid(ev["uuid"].as_str().unwrap()));
    assert_eq!(
        ev["uuid"], b["Event"]["uuid"],
        "event uuid must not depend on time"
    );
    assert_eq!(ev["info"], "test event");
    assert_eq!(ev["date"], "2025-11-22");
    for (k, allowed) in [
        ("threat_level_id", &["1", "2", "3", "4"][..]),
        ("analysis", &["0", "1", "2"]),
        ("distribution", &["0", "1", "2", "3", "4"]),
    ] {
        assert!(allowed.contains(&ev[k].as_str().unwrap()), "{k}");
    }
    let attrs = ev["Attribute"].as_array().unwrap();
    assert_eq!(attrs.len(), 2 + 4);
    let mut uuids = std::collections::BTreeSet::new();
    for (x, y) in attrs
        .iter()
        .zip(b["Event"]["Attribute"].as_array().unwrap())
    {
        let u = x["uuid"].as_str().unwrap();
        assert!(is_uuid(u) && uuids.insert(u.to_string()));
        assert_eq!(x["uuid"], y["uuid"]);
        assert_eq!(x["category"], "Network activity");
        assert_eq!(x["to_ids"], true);
        let v = x["value"].as_str().unwrap();
        match x["type"].as_str().unwrap() {
            "hostname" => assert!(names().contains(&v.to_string())),
            "ip-dst|port" => {
                let (ip, port) = v.rsplit_once('|').unwrap();
                ip.parse::<std::net::IpAddr>().unwrap();
                port.parse::<u16>().unwrap();
            }
            t => panic!("unexpected type {t}"),
        }
    }
    assert!(attrs[0]["comment"]
        .as_str()
        .unwrap()
        .contains("dynamic-dns"));
}

fn python_with_stix2() -> String {
    let py = "python3".to_string();
    let ok = |py: &str| {
        Command::new(py)
            .args(["-c", "import stix2"])
            .status()
            .map(|s| s.success())
            .unwrap_or(false)
    };
    if !ok(&py) {
        let st = Command::new(&py)
            .args(["-m", "pip", "install", "--quiet", "stix2"])
            .status()
            .expect("python3 is required for the STIX check");
        assert!(st.success(), "pip install stix2 failed");
    }
    assert!(ok(&py), "stix2 not importable");
    py
}

#[test]
fn stix_bundle_validates_with_stix2() {
    let c = Classifier::builtin();
    let classes: BTreeMap<_, _> = names().iter().map(|n| (n.clone(), c.classify(n))).collect();
    let bundle = stix_bundle(
        &names(),
        &endpoints(),
        &classes,
        Ts::from_secs_micros(1_763_770_000, 250_000),
    );
    let objs = bundle["objects"].as_array().unwrap();
    // identity + (SCO + indicator) × (2 names + 3 addresses)
    assert_eq!(objs.len(), 1 + 2 * 5);
    let again = stix_bundle(
        &names(),
        &endpoints(),
        &classes,
        Ts::from_secs_micros(1_763_770_000, 250_000),
    );
    assert_eq!(bundle, again);
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("bundle.json");
    std::fs::write(&p, serde_json::to_string_pretty(&bundle).unwrap()).unwrap();
    let script = r#"
import json, sys, stix2
raw = json.load(open(sys.argv[1]))
b = stix2.parse(raw, allow_custom=False, version="2.1")
n = 0
for o in raw["objects"]:
    t = o["type"]
    if t == "domain-name":
        assert stix2.DomainName(value=o["value"]).id == o["id"], o
    elif t == "ipv4-addr":
        assert stix2.IPv4Address(value=o["value"]).id == o["id"], o
    elif t == "ipv6-addr":
        assert stix2.IPv6Address(value=o["value"]).id == o["id"], o
    elif t == "indicator":
        stix2.Indicator(**o)  # validates the pattern
    n += 1
print(len(b.objects), n)
"#;
    let out = Command::new(python_with_stix2())
        .arg("-c")
        .arg(script)
        .arg(&p)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "stix2 rejected the bundle: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "11 11");
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
    assert_eq!(v["type"], "bundle");
}
