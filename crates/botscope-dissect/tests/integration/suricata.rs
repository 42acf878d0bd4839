//! Suricata `test.yaml` expectations for DNS and TFTP: each `filter` with
//! `event_type: dns|tftp` is evaluated on EVE-like records built from
//! botscope's events (Suricata 8 layout: one `request` and one `response`
//! record per DNS transaction). Filters for Suricata < 8 or naming fields
//! botscope does not model are reported as not checked; every checked
//! filter must give Suricata's count.

use crate::common::{corpus, run_with};
use botscope_capture::EngineConfig;
use botscope_core::events::Event;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

type Flat = BTreeMap<String, String>;

struct Filter {
    count: usize,
    matches: Flat,
    min_version: Option<u32>,
    lt_version: Option<u32>,
}

fn indent(l: &str) -> usize {
    l.len() - l.trim_start().len()
}

/// A small reader for suricata-verify's `checks:` list (plain maps,
/// scalars, no flow style).
fn parse_yaml(text: &str) -> (Option<String>, Vec<Filter>) {
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .collect();
    let pcap = lines
        .iter()
        .find_map(|l| l.strip_prefix("pcap:").map(|p| p.trim().to_string()));
    let mut filters = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let l = lines[i];
        if l.trim_start().starts_with("- filter:") {
            let base = indent(l);
            let mut f = Filter {
                count: usize::MAX,
                matches: Flat::new(),
                min_version: None,
                lt_version: None,
            };
            i += 1;
            let mut section = String::new();
            let mut stack: Vec<(usize, String)> = Vec::new();
            let top = lines.get(i).map(|l| indent(l)).unwrap_or(0);
            while i < lines.len()
                && indent(lines[i]) > base
                && !lines[i].trim_start().starts_with("- ")
            {
                let t = lines[i].trim();
                let ind = indent(lines[i]);
                let (k, v) = t
                    .split_once(':')
                    .map(|(k, v)| (k.trim(), v.trim()))
                    .unwrap_or((t, ""));
                let v = v.trim_matches('"').trim_matches('\'').to_string();
                if ind <= top {
                    section = k.to_string();
                    stack.clear();
                    if k == "count" {
                        f.count = v.parse().unwrap_or(usize::MAX);
                    }
                    i += 1;
                    continue;
                }
                while stack.last().is_some_and(|(d, _)| *d >= ind) {
                    stack.pop();
                }
                let full: Vec<&str> = stack
                    .iter()
                    .map(|(_, s)| s.as_str())
                    .chain(std::iter::once(k))
                    .collect();
                let key = full.join(".");
                if v.is_empty() {
                    stack.push((ind, k.to_string()));
                } else if section == "match" {
                    f.matches.insert(key, v);
                } else if section == "requires" {
                    match k {
                        "min-version" => {
                            f.min_version = v.split('.').next().and_then(|x| x.parse().ok())
                        }
                        "lt-version" => {
                            f.lt_version = v.split('.').next().and_then(|x| x.parse().ok())
                        }
                        _ => {}
                    }
                }
                i += 1;
            }
            filters.push(f);
            continue;
        }
        i += 1;
    }
    (pcap, filters)
}

/// EVE-like flat records from botscope events.
fn eve(records: &[botscope_dissect::Record]) -> Vec<Flat> {
    let mut v = Vec::new();
    for r in records {
        match &r.event {
            Event::Dns(d) => {
                let proto = d.proto.to_uppercase();
                let mut push = |req: bool| {
                    let mut m = Flat::new();
                    m.insert("event_type".into(), "dns".into());
                    let (s, sp, t, tp) = if req {
                        (d.id.orig_h, d.id.orig_p, d.id.resp_h, d.id.resp_p)
                    } else {
                        (d.id.resp_h, d.id.resp_p, d.id.orig_h, d.id.orig_p)
                    };
                    m.insert("src_ip".into(), s.to_string());
                    m.insert("src_port".into(), sp.to_string());
                    m.insert("dest_ip".into(), t.to_string());
                    m.insert("dest_port".into(), tp.to_string());
                    m.insert("proto".into(), proto.clone());
                    m.insert(
                        "dns.type".into(),
                        if req { "request" } else { "response" }.into(),
                    );
                    m.insert("dns.id".into(), d.trans_id.to_string());
                    let pc = if req {
                        d.evidence.packets.first()
                    } else {
                        d.evidence.packets.last()
                    };
                    if let Some(p) = pc {
                        m.insert("pcap_cnt".into(), p.to_string());
                    }
                    if let Some(q) = &d.query {
                        m.insert("dns.queries[0].rrname".into(), q.clone());
                    }
                    if let Some(t) = &d.qtype_name {
                        m.insert("dns.queries[0].rrtype".into(), t.clone());
                    }
                    if !req {
                        if let Some(rc) = &d.rcode_name {
                            m.insert("dns.rcode".into(), rc.clone());
                        }
                        for (i, a) in d.answers.iter().enumerate() {
                            m.insert(format!("dns.answers[{i}].rdata"), a.clone());
                        }
                    }
                    v.push(m);
                };
                if d.qtype.is_some() {
                    push(true);
                }
                if d.rcode.is_some() {
                    push(false);
                }
            }
            Event::Tftp(t) => {
                let mut m = Flat::new();
                m.insert("event_type".into(), "tftp".into());
                m.insert("src_ip".into(), t.id.orig_h.to_string());
                m.insert("src_port".into(), t.id.orig_p.to_string());
                m.insert("dest_ip".into(), t.id.resp_h.to_string());
                m.insert("dest_port".into(), t.id.resp_p.to_string());
                m.insert("proto".into(), "UDP".into());
                m.insert(
                    "pcap_cnt".into(),
                    t.evidence
                        .packets
                        .first()
                        .map(u64::to_string)
                        .unwrap_or_default(),
                );
                m.insert("tftp.file".into(), t.fname.clone());
                m.insert("tftp.mode".into(), t.mode.clone());
                m.insert(
                    "tftp.packet".into(),
                    if t.wrq { "write" } else { "read" }.into(),
                );
                v.push(m);
            }
            _ => {}
        }
    }
    v
}

fn cases() -> Vec<(PathBuf, PathBuf)> {
    let root = corpus().join("suricata-verify/tests");
    let mut out = Vec::new();
    let mut stack = vec![root];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.file_name().is_some_and(|n| n == "test.yaml") {
                out.push((d.clone(), p));
            }
        }
    }
    out.sort();
    out
}

fn capture_of(dir: &Path, pcap: Option<String>) -> Option<PathBuf> {
    if let Some(p) = pcap {
        return Some(dir.join(p));
    }
    let mut pcaps: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "pcap" || x == "pcapng"))
        .collect();
    pcaps.sort();
    (pcaps.len() == 1).then(|| pcaps.remove(0))
}

#[test]
fn suricata_dns_and_tftp_expectations() {
    let devs = crate::corpus::deviations();
    let mut checked = 0;
    let mut skipped = Vec::new();
    let mut failed = Vec::new();
    for (dir, yaml) in cases() {
        let text = std::fs::read_to_string(&yaml).unwrap();
        let (pcap, filters) = parse_yaml(&text);
        let wanted: Vec<&Filter> = filters
            .iter()
            .filter(|f| {
                matches!(
                    f.matches.get("event_type").map(String::as_str),
                    Some("dns" | "tftp")
                )
            })
            .collect();
        if wanted.is_empty() {
            continue;
        }
        let name = dir.strip_prefix(corpus()).unwrap().display().to_string();
        let Some(cap) = capture_of(&dir, pcap) else {
            skipped.push(format!("{name}: no single capture"));
            continue;
        };
        // suricata-verify runs with `-k none` (checksums not verified).
        let cfg = EngineConfig {
            verify_checksums: false,
            ..Default::default()
        };
        let (records, _, _) = run_with(&[cap], &cfg);
        let eve = eve(&records);
        for f in wanted {
            if f.lt_version.is_some_and(|v| v <= 8) || f.count == usize::MAX {
                skipped.push(format!("{name}: filter for Suricata < 8"));
                continue;
            }
            let model = eve.first().cloned().unwrap_or_default();
            let known = |k: &str| {
                k == "event_type"
                    || model.contains_key(k)
                    || (k.starts_with("dns.answers[") && k.ends_with("].rdata"))
                    || [
                        "pcap_cnt",
                        "dns.rcode",
                        "dns.type",
                        "dns.queries[0].rrname",
                        "dns.queries[0].rrtype",
                    ]
                    .contains(&k)
            };
            if let Some(k) = f.matches.keys().find(|k| !known(k)) {
                skipped.push(format!("{name}: field {k} not modelled"));
                continue;
            }
            // Suricata before 8 called the record types `query` and `answer`.
            let want: Flat = f
                .matches
                .iter()
                .map(|(k, v)| {
                    let v = match (k.as_str(), v.as_str()) {
                        ("dns.type", "query") => "request".to_string(),
                        ("dns.type", "answer") => "response".to_string(),
                        _ => v.clone(),
                    };
                    (k.clone(), v)
                })
                .collect();
            let n = eve
                .iter()
                .filter(|m| want.iter().all(|(k, v)| m.get(k) == Some(v)))
                .count();
            checked += 1;
            let kind = format!("eve-{}", want["event_type"]);
            if n != f.count
                && devs
                    .iter()
                    .any(|(c, l, _)| name.ends_with(c.as_str()) && *l == kind)
            {
                eprintln!(
                    "dev  {name}: {want:?} → suricata {} botscope {n} (listed in deviations.md)",
                    f.count
                );
                continue;
            }
            let line = format!(
                "{name}: {:?} → suricata {} botscope {n}",
                f.matches, f.count
            );
            eprintln!("{} {line}", if n == f.count { "ok  " } else { "FAIL" });
            if n != f.count {
                failed.push(line);
            }
        }
    }
    for s in &skipped {
        eprintln!("not checked: {s}");
    }
    assert!(checked >= 10, "only {checked} Suricata filters checked");
    assert!(failed.is_empty(), "{failed:#?}");
}
