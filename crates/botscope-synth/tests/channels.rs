//! The command channels beyond IRC (issue 20) read by tshark 4.0 and
//! compared with the truth: HTTP polls decode as `http` with the bots'
//! request shapes, intervals and delivered orders; the Gnutella handshake
//! and descriptors decode as `gnutella`; the WASTE-style mesh is long-lived,
//! symmetric and random-looking; P2P-only hosts have no other C&C and no
//! DNS lookup; the model inputs equal the events they are counted from.

mod common;

use botscope_synth::{generate, Truth};
use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;
use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;

/// One field for every test (one day, half scale, no resolver logs).
fn field() -> &'static (tempfile::TempDir, Truth) {
    static F: OnceLock<(tempfile::TempDir, Truth)> = OnceLock::new();
    F.get_or_init(|| {
        let dir = tempfile::tempdir().expect("tempdir");
        let truth = generate(&common::tshark_field(5), dir.path()).expect("generate");
        (dir, truth)
    })
}

/// tshark's `-T fields` rows for `filter`, split on tabs.
fn rows(pcap: &Path, filter: &str, fields: &[&str]) -> Vec<Vec<String>> {
    let mut args = vec![
        "-r".to_string(),
        pcap.to_string_lossy().into_owned(),
        "-Y".into(),
        filter.into(),
        "-T".into(),
        "fields".into(),
    ];
    for f in fields {
        args.extend(["-e".to_string(), f.to_string()]);
    }
    let out = Command::new("tshark")
        .args(&args)
        .output()
        .expect("tshark must be installed (scripts/setup.sh installs it)");
    assert!(
        out.status.success(),
        "tshark {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| l.split('\t').map(String::from).collect())
        .collect()
}

/// A frame time as µs since the epoch.
fn us(epoch: &str) -> i64 {
    let (s, frac) = epoch.split_once('.').unwrap_or((epoch, "0"));
    let frac = format!("{frac:0<6}");
    s.parse::<i64>().unwrap() * 1_000_000 + frac[..6].parse::<i64>().unwrap()
}

fn ip(s: &str) -> Ipv4Addr {
    s.parse().unwrap()
}

#[test]
fn new_captures_have_no_malformed_frames() {
    let (dir, t) = field();
    for rel in ["pcap/http-cc.pcap", "pcap/p2p.pcap"] {
        let p = dir.path().join(rel);
        let bad = rows(
            &p,
            "_ws.malformed || _ws.expert.severity >= error",
            &["frame.number"],
        );
        assert!(bad.is_empty(), "{rel}: {} bad frames", bad.len());
        let file = t
            .files
            .iter()
            .find(|f| f.path == rel)
            .expect("file in truth");
        let all = rows(&p, "frame", &["frame.number"]);
        assert_eq!(all.len() as u64, file.packets, "{rel}");
    }
}

#[test]
fn http_polls_decode_as_http_with_the_truths_shapes_and_intervals() {
    let (dir, t) = field();
    let p = dir.path().join("pcap/http-cc.pcap");
    let reqs = rows(
        &p,
        "http.request",
        &[
            "frame.time_epoch",
            "ip.src",
            "ip.dst",
            "tcp.dstport",
            "http.request.method",
            "http.request.uri",
            "http.file_data",
        ],
    );
    let mut by_client: BTreeMap<(Ipv4Addr, Ipv4Addr), Vec<&Vec<String>>> = BTreeMap::new();
    for r in &reqs {
        by_client.entry((ip(&r[1]), ip(&r[2]))).or_default().push(r);
    }
    assert_eq!(t.http_cc.len(), 3);
    let mut expected_requests = 0;
    for s in &t.http_cc {
        assert!(s.bots.len() >= 2, "server {}", s.id);
        for b in &s.bots {
            let got = &by_client[&(b.ip, s.server)];
            assert_eq!(got.len() as u32, b.polls, "bot {} polls", b.ip);
            expected_requests += got.len();
            for r in got {
                assert_eq!(r[3].parse::<u16>().unwrap(), s.port);
                assert_eq!(r[4], s.method);
                if s.method == "GET" {
                    assert_eq!(r[5], s.uri_pattern.replace("{id}", &b.bot_id));
                } else {
                    let (path, form) = s.uri_pattern.split_once(' ').unwrap();
                    assert_eq!(r[5], path);
                    assert_eq!(r[6], form.replace("{id}", &b.bot_id));
                }
            }
            // Regular polling: every gap within interval ± jitter.
            let times: Vec<i64> = got.iter().map(|r| us(&r[0])).collect();
            assert_eq!(
                times[0] - 81_000,
                b.first.0,
                "first request after the handshake"
            );
            for w in times.windows(2) {
                let gap = w[1] - w[0];
                let (iv, j) = (
                    i64::from(s.poll_interval_s) * 1_000_000,
                    i64::from(s.jitter_s) * 1_000_000,
                );
                assert!(
                    (iv - j..=iv + j).contains(&gap),
                    "bot {} gap {gap} µs not {iv} ± {j}",
                    b.ip
                );
            }
        }
    }
    for b in &t.http_benign {
        let got = &by_client[&(b.client, b.server)];
        assert_eq!(got.len() as u32, b.polls, "{}", b.kind);
        expected_requests += got.len();
        assert!(got.iter().all(|r| r[5] == b.uri && r[4] == b.method));
    }
    assert_eq!(reqs.len(), expected_requests, "no other requests");
}

#[test]
fn http_answers_carry_exactly_the_truths_orders() {
    let (dir, t) = field();
    let p = dir.path().join("pcap/http-cc.pcap");
    let resps = rows(
        &p,
        "http.response",
        &["frame.time_epoch", "ip.src", "ip.dst", "http.file_data"],
    );
    let servers: BTreeMap<Ipv4Addr, &botscope_synth::truth::HttpCcTruth> =
        t.http_cc.iter().map(|s| (s.server, s)).collect();
    let mut got: BTreeSet<(Ipv4Addr, i64, String)> = BTreeSet::new();
    let mut idle = 0u32;
    for r in &resps {
        let Some(s) = servers.get(&ip(&r[1])) else {
            // A benign service: its constant JSON answer.
            let b = t
                .http_benign
                .iter()
                .find(|b| b.server == ip(&r[1]))
                .unwrap();
            assert_eq!(r.get(3).map(String::as_str).unwrap_or(""), b.response_body);
            continue;
        };
        let body = r.get(3).cloned().unwrap_or_default();
        if body == s.idle_body {
            idle += 1;
        } else {
            let order = body.trim_end_matches("\\r\\n").to_string();
            got.insert((ip(&r[2]), us(&r[0]), order));
        }
    }
    let mut want = BTreeSet::new();
    let mut with_order = 0;
    for s in &t.http_cc {
        for o in &s.orders {
            assert!(
                [
                    "advscan",
                    "ntscan",
                    "ipscan",
                    "ddos.synflood",
                    "download",
                    "update"
                ]
                .contains(&o.command.as_str()),
                "{}",
                o.raw
            );
            assert_eq!(
                o.deliveries.len(),
                s.bots.len(),
                "{} reaches every bot",
                o.raw
            );
            for d in &o.deliveries {
                assert!(d.request.0 >= o.issued.0);
                want.insert((d.bot, d.response.0, o.raw.clone()));
            }
        }
        with_order += s.bots.iter().map(|b| b.polls_with_order).sum::<u32>();
        let polls: u32 = s.bots.iter().map(|b| b.polls).sum();
        assert!(polls > 10 * with_order, "most polls are idle");
    }
    assert_eq!(got, want);
    assert_eq!(got.len() as u32, with_order);
    let all_polls: u32 = t
        .http_cc
        .iter()
        .flat_map(|s| &s.bots)
        .map(|b| b.polls)
        .sum();
    assert_eq!(idle + with_order, all_polls);
}

#[test]
fn named_servers_are_looked_up_and_p2p_only_hosts_never_are() {
    let (dir, t) = field();
    let p = dir.path().join("pcap/http-cc.pcap");
    let answers = rows(
        &p,
        "dns.flags.response == 1",
        &["ip.dst", "dns.qry.name", "dns.a"],
    );
    let mut lookups: BTreeMap<(Ipv4Addr, String), String> = BTreeMap::new();
    for a in &answers {
        lookups.insert((ip(&a[0]), a[1].clone()), a[2].clone());
    }
    let mut want = 0;
    for s in &t.http_cc {
        for b in &s.bots {
            match &s.name {
                Some(n) => {
                    want += 1;
                    assert!(b.dns.is_some());
                    assert_eq!(lookups[&(b.ip, n.clone())], s.server.to_string());
                }
                None => assert!(b.dns.is_none()),
            }
        }
    }
    assert_eq!(lookups.len(), want + t.http_benign.len());
    assert!(
        t.http_cc.iter().any(|s| s.name.is_none()),
        "one server by address"
    );
    // P2P-only hosts: no DNS in any capture, no IRC, no HTTP C&C.
    let only: BTreeSet<Ipv4Addr> = t.tables.p2p_only_hosts.iter().copied().collect();
    assert!(only.len() >= 8, "{only:?}");
    for rel in ["pcap/http-cc.pcap", "pcap/p2p.pcap", "pcap/infected.pcap"] {
        let q = rows(&dir.path().join(rel), "dns", &["ip.src", "ip.dst"]);
        for r in q {
            assert!(
                !only.contains(&ip(&r[0])) && !only.contains(&ip(&r[1])),
                "{rel}"
            );
        }
    }
    for s in &t.http_cc {
        assert!(s.bots.iter().all(|b| !only.contains(&b.ip)));
    }
    assert!(t.irc_sessions.iter().all(|s| !only.contains(&s.bot)));
    // The peers that do poll HTTP are HTTP bots.
    let http_bots: BTreeSet<Ipv4Addr> = t
        .http_cc
        .iter()
        .flat_map(|s| s.bots.iter().map(|b| b.ip))
        .collect();
    for n in &t.p2p {
        for peer in &n.peers {
            assert_eq!(peer.other_cc.is_empty(), only.contains(&peer.ip));
            assert_eq!(peer.other_cc == ["http"], http_bots.contains(&peer.ip));
        }
    }
}

/// The truth's links as (originator, responder).
fn link_pairs(net: &botscope_synth::truth::P2pTruth) -> BTreeSet<(Ipv4Addr, Ipv4Addr)> {
    net.links
        .iter()
        .map(|l| {
            (
                ip(&l.flow.orig_h.to_string()),
                ip(&l.flow.resp_h.to_string()),
            )
        })
        .collect()
}

/// Each link's SYN (originator, responder) on `port`.
fn syn_pairs(p: &Path, port: u16) -> BTreeSet<(Ipv4Addr, Ipv4Addr)> {
    let filter = format!("tcp.flags == 0x002 && tcp.dstport == {port}");
    rows(p, &filter, &["ip.src", "ip.dst"])
        .iter()
        .map(|r| (ip(&r[0]), ip(&r[1])))
        .collect()
}

#[test]
fn gnutella_handshake_and_descriptors_decode_and_equal_truth() {
    let (dir, t) = field();
    let p = dir.path().join("pcap/p2p.pcap");
    let net = t.p2p.iter().find(|n| n.protocol == "gnutella").unwrap();
    assert_eq!(net.port, 6346);
    let pairs = link_pairs(net);
    assert_eq!(syn_pairs(&p, 6346), pairs);
    // The handshake, as tshark's Gnutella dissector reads it: three
    // stream frames per link, the first of each the CONNECT line.
    let hs = rows(&p, "gnutella.stream", &["tcp.stream", "tcp.payload"]);
    assert_eq!(hs.len(), 3 * net.links.len());
    let connect = hex::encode("GNUTELLA CONNECT/0.6\r\n");
    let ok = hex::encode("GNUTELLA/0.6 200 OK\r\n");
    let connects = hs.iter().filter(|r| r[1].starts_with(&connect)).count();
    let oks = hs.iter().filter(|r| r[1].starts_with(&ok)).count();
    assert_eq!((connects, oks), (net.links.len(), 2 * net.links.len()));
    // Descriptors: ping, pong, query, query hit, each decoded.
    let d = rows(&p, "gnutella.header", &["gnutella.header.payload"]);
    let total: u32 = net.links.iter().map(|l| l.descriptors).sum();
    assert_eq!(d.len() as u32, total);
    let kinds: BTreeSet<&str> = d.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(kinds, BTreeSet::from(["0", "1", "128", "129"]));
    // Neighbours are what the links say.
    for peer in &net.peers {
        let mut n: Vec<Ipv4Addr> = pairs
            .iter()
            .filter_map(|&(a, b)| (a == peer.ip).then_some(b).or((b == peer.ip).then_some(a)))
            .collect();
        n.sort();
        assert_eq!(n, peer.neighbours, "{}", peer.ip);
    }
}

#[test]
fn waste_mesh_is_long_lived_symmetric_random_and_equals_truth() {
    let (dir, t) = field();
    let p = dir.path().join("pcap/p2p.pcap");
    let net = t.p2p.iter().find(|n| n.protocol == "waste").unwrap();
    assert_eq!(net.port, 1337);
    let n = net.peers.len();
    assert!(
        net.links.len() > n,
        "a mesh: {} links for {n} peers",
        net.links.len()
    );
    let pairs = link_pairs(net);
    assert_eq!(syn_pairs(&p, 1337), pairs);
    let data = rows(
        &p,
        "tcp.port == 1337 && tcp.len > 0",
        &[
            "ip.src",
            "tcp.srcport",
            "ip.dst",
            "tcp.dstport",
            "tcp.payload",
        ],
    );
    let mut bytes: BTreeMap<(String, String, String, String), u64> = BTreeMap::new();
    let mut hist = [0u64; 256];
    for r in &data {
        let payload = hex::decode(&r[4]).unwrap();
        for b in &payload {
            hist[*b as usize] += 1;
        }
        *bytes
            .entry((r[0].clone(), r[1].clone(), r[2].clone(), r[3].clone()))
            .or_default() += payload.len() as u64;
    }
    for l in &net.links {
        let (a, ap, b, bp) = (
            l.flow.orig_h.to_string(),
            l.flow.orig_p.to_string(),
            l.flow.resp_h.to_string(),
            l.flow.resp_p.to_string(),
        );
        let o = bytes[&(a.clone(), ap.clone(), b.clone(), bp.clone())];
        let r = bytes[&(b, bp, a, ap)];
        assert_eq!((o, r), (l.bytes_orig, l.bytes_resp));
        let ratio = o as f64 / r as f64;
        assert!((0.9..1.1).contains(&ratio), "symmetric volumes: {o} vs {r}");
        assert!(l.end.0 - l.start.0 > 20 * 3_600_000_000, "long-lived");
    }
    // Random-looking: the byte entropy of the payloads is near 8 bits.
    let total: u64 = hist.iter().sum();
    let h: f64 = hist
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let q = c as f64 / total as f64;
            -q * q.log2()
        })
        .sum();
    assert!(h > 7.99, "entropy {h}");
}

#[test]
fn model_inputs_equal_the_events() {
    let (_dir, t) = field();
    let m = &t.tables.models;
    let ordered: Vec<_> = t.scans.iter().filter(|s| s.order.is_some()).collect();
    assert_eq!(m.scan_waves.len(), ordered.len());
    assert!(!m.scan_waves.is_empty());
    for w in &m.scan_waves {
        let s = &t.scans[w.scan as usize];
        let o = &t.orders[w.order as usize];
        assert_eq!(s.order, Some(o.id));
        assert_eq!(w.command, o.command);
        assert!(w.start.0 > w.ordered.0 && w.ordered == o.ts);
        let arg = |i: usize| o.args[i].parse::<u64>().unwrap();
        match o.command.as_str() {
            "advscan" => {
                assert_eq!(w.threads, Some(arg(1) as u32));
                assert_eq!(w.delay_s, Some(arg(2) as f64));
                assert_eq!(w.max_duration_s, Some(arg(3) * 60).filter(|&d| d > 0));
            }
            "ipscan" => {
                assert_eq!(w.threads, Some(arg(3) as u32));
                assert_eq!(w.max_duration_s, Some(arg(2)));
            }
            "ntscan" => assert_eq!(w.threads, Some(arg(0) as u32)),
            c => panic!("scan wave from {c}"),
        }
        // Probes 0.25 s apart.
        assert!((w.probes_per_s - 4.0).abs() < 0.1, "{}", w.probes_per_s);
    }
    assert_eq!(m.floods.len(), t.floods.len());
    for (f, tf) in m.floods.iter().zip(&t.floods) {
        assert_eq!((f.packets, f.bot), (tf.packets, tf.source));
        if tf.kind != "ddos.httpflood" && tf.kind != "ddos.targa3" {
            // The field's flood rate (flood_pps 4).
            assert!(
                (f.packets_per_s - 4.0).abs() < 0.1,
                "{}: {}",
                tf.kind,
                f.packets_per_s
            );
        }
    }
    let mails: u64 = t.spam_relays.iter().map(|s| u64::from(s.count)).sum();
    assert_eq!(m.spam_per_bot.iter().map(|s| s.mails).sum::<u64>(), mails);
    for s in &m.spam_per_bot {
        let hours = (s.last.0 - s.first.0) as f64 / 3.6e9;
        assert!((s.mails_per_hour - s.mails as f64 / hours).abs() < 0.01);
    }
}
