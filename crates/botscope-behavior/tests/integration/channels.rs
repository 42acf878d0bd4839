//! Issue 20 on the synthetic field: HTTP polling C&C (Table 9's HTTP
//! rows), benign periodic pollers, and the P2P botnets (peer graph,
//! P2P-only hosts) against `truth.json`'s `http_cc`, `http_benign` and
//! `p2p`; detection precision and recall printed and held to a bar.

use botscope_behavior::analysis::{Options, Report};
use botscope_behavior::{pipeline, Limits};
use botscope_capture::EngineConfig;
use botscope_synth::truth::Truth;
use botscope_synth::SynthConfig;
use std::collections::BTreeSet;
use std::net::IpAddr;

/// Lowest precision and recall accepted.
const BAR: f64 = 0.95;

fn field(seed: u64) -> (Truth, Report, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let cfg = SynthConfig {
        seed,
        resolver_logs: false,
        ..Default::default()
    };
    let truth = botscope_synth::generate(&cfg, dir.path()).expect("synth");
    let mut files: Vec<String> = truth.http_cc.iter().map(|h| h.file.clone()).collect();
    files.extend(truth.http_benign.iter().map(|h| h.file.clone()));
    files.extend(truth.p2p.iter().map(|p| p.file.clone()));
    files.sort();
    files.dedup();
    let paths: Vec<_> = files.iter().map(|f| dir.path().join(f)).collect();
    let (r, _) = pipeline::run(
        &paths,
        &EngineConfig::default(),
        Limits::default(),
        &Options::default(),
    )
    .expect("reads");
    (truth, r, dir)
}

/// Precision and recall of a detected set against a true set.
fn pr<T: Ord>(found: &BTreeSet<T>, truth: &BTreeSet<T>) -> (f64, f64) {
    let tp = found.intersection(truth).count() as f64;
    let p = if found.is_empty() {
        1.0
    } else {
        tp / found.len() as f64
    };
    let r = if truth.is_empty() {
        1.0
    } else {
        tp / truth.len() as f64
    };
    (p, r)
}

#[test]
fn http_cc_rows_and_p2p_hosts_match_the_truth() {
    for seed in [1u64, 7] {
        let (truth, r, _dir) = field(seed);
        assert!(!truth.http_cc.is_empty() && !truth.p2p.is_empty());
        // HTTP: one Table 9 row per C&C server and port.
        let found: BTreeSet<(IpAddr, u16)> =
            r.table9_http.iter().map(|h| (h.server, h.port)).collect();
        let want: BTreeSet<(IpAddr, u16)> = truth
            .http_cc
            .iter()
            .map(|h| (IpAddr::V4(h.server), h.port))
            .collect();
        let (hp, hr) = pr(&found, &want);
        let benign_flagged = truth
            .http_benign
            .iter()
            .filter(|b| found.contains(&(IpAddr::V4(b.server), b.port)))
            .count();
        println!(
            "seed {seed}: HTTP C&C servers precision {hp:.3} recall {hr:.3} ({} found, {} true, {} benign pollers flagged of {})",
            found.len(),
            want.len(),
            benign_flagged,
            truth.http_benign.len()
        );
        for h in &truth.http_cc {
            let row = r
                .table9_http
                .iter()
                .find(|x| x.server == IpAddr::V4(h.server) && x.port == h.port)
                .unwrap_or_else(|| {
                    panic!("no row for {}:{} {:?}", h.server, h.port, r.http_pollers)
                });
            let bots: BTreeSet<IpAddr> = h.bots.iter().map(|b| IpAddr::V4(b.ip)).collect();
            assert_eq!(row.bots.iter().copied().collect::<BTreeSet<_>>(), bots);
            let polls: u64 = h.bots.iter().map(|b| u64::from(b.polls)).sum();
            assert_eq!(row.polls, polls, "polls of {}", h.server);
            let deliveries: u64 = h.orders.iter().map(|o| o.deliveries.len() as u64).sum();
            assert_eq!(row.orders, deliveries, "orders of {}", h.server);
            let iv = row.interval_s.unwrap();
            assert!(
                (iv - f64::from(h.poll_interval_s)).abs() <= f64::from(h.jitter_s),
                "interval {iv} vs {} ± {}",
                h.poll_interval_s,
                h.jitter_s
            );
            let mut cmds: Vec<String> = h.orders.iter().map(|o| o.command.clone()).collect();
            cmds.sort();
            cmds.dedup();
            assert_eq!(row.order_commands, cmds);
        }
        assert!(hp >= BAR && hr >= BAR, "HTTP precision {hp} recall {hr}");
        // Benign pollers are listed, unattributed.
        for b in &truth.http_benign {
            assert!(
                r.http_pollers
                    .iter()
                    .any(|x| x.server == IpAddr::V4(b.server)
                        && x.bots.contains(&IpAddr::V4(b.client))),
                "benign poller {} -> {} not listed",
                b.client,
                b.server
            );
        }
        // P2P: C&C hosts and peer graph.
        let cc: BTreeSet<IpAddr> = r
            .p2p_hosts
            .iter()
            .filter(|h| h.attribution.is_cc())
            .map(|h| h.host)
            .collect();
        let want: BTreeSet<IpAddr> = truth
            .p2p
            .iter()
            .flat_map(|n| {
                n.peers
                    .iter()
                    .filter(|p| p.infected)
                    .map(|p| IpAddr::V4(p.ip))
            })
            .collect();
        let (pp, prr) = pr(&cc, &want);
        let only: BTreeSet<IpAddr> = r.p2p_only_hosts.iter().copied().collect();
        let want_only: BTreeSet<IpAddr> = truth
            .p2p
            .iter()
            .flat_map(|n| n.p2p_only_hosts.iter().map(|h| IpAddr::V4(*h)))
            .collect();
        let (op, or) = pr(&only, &want_only);
        println!(
            "seed {seed}: P2P C&C hosts precision {pp:.3} recall {prr:.3} ({} found, {} true); P2P-only precision {op:.3} recall {or:.3} ({} found, {} true)",
            cc.len(),
            want.len(),
            only.len(),
            want_only.len()
        );
        for n in &truth.p2p {
            for p in &n.peers {
                let row = r
                    .p2p_hosts
                    .iter()
                    .find(|h| h.host == IpAddr::V4(p.ip))
                    .unwrap_or_else(|| panic!("no P2P row for {}", p.ip));
                let got: BTreeSet<IpAddr> = row.peers.iter().map(|x| x.peer).collect();
                let want: BTreeSet<IpAddr> = p.neighbours.iter().map(|x| IpAddr::V4(*x)).collect();
                assert_eq!(got, want, "neighbours of {}", p.ip);
            }
        }
        assert!(pp >= BAR && prr >= BAR, "P2P precision {pp} recall {prr}");
        assert!(
            op >= BAR && or >= BAR,
            "P2P-only precision {op} recall {or}"
        );
    }
}

#[test]
fn the_irc_field_has_no_http_pollers_or_p2p_hosts() {
    // infected.pcap holds IRC bots, their HTTP floods (GET / twice a
    // second) and downloads, but no HTTP C&C, no periodic client and no
    // P2P network: nothing is listed, not even as unattributed.
    let dir = tempfile::tempdir().unwrap();
    let cfg = SynthConfig {
        seed: 1,
        resolver_logs: false,
        ..Default::default()
    };
    let truth = botscope_synth::generate(&cfg, dir.path()).expect("synth");
    assert!(truth.http_cc.iter().all(|h| h.file != "pcap/infected.pcap"));
    assert!(truth.p2p.iter().all(|p| p.file != "pcap/infected.pcap"));
    let (r, _) = pipeline::run(
        &[dir.path().join("pcap/infected.pcap")],
        &EngineConfig::default(),
        Limits::default(),
        &Options::default(),
    )
    .expect("reads");
    assert!(r.floods.iter().any(|f| f.flood.kind == "http-get"));
    assert!(r.table9_http.is_empty(), "{:?}", r.table9_http);
    assert!(r.http_pollers.is_empty(), "{:?}", r.http_pollers);
    assert!(r.p2p_hosts.is_empty(), "{:?}", r.p2p_hosts);
}
