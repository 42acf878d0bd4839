//! The suspected tier on the synthetic field (issue 20): DGA-infected
//! clients (generated names, all NXDOMAIN but the registered one) and CDN
//! clients (random-looking object names under registered CDN domains) among
//! ordinary and watch-list-infected clients. Precision and recall of the
//! suspected tier against the generator's truth, in a log with response
//! codes (Zeek dns.log JSON) and one without (BIND query log, names only).
//!
//! Bar: precision ≥ 0.95 and recall ≥ 0.95 in both; no CDN client and no
//! confirmed (watch-listed) client in the tier.

use super::synth::run;
use botscope_dnslog::rate::RateReport;
use botscope_dnslog::read::ReadOptions;
use botscope_dnslog::RateConfig;
use botscope_synth::resolver::{write_resolver_logs, Format, ResolverSpec, ResolverTruth};
use std::collections::BTreeSet;

fn spec() -> ResolverSpec {
    ResolverSpec {
        seed: 20,
        clients: 6000,
        days: 2,
        dga_fraction: 0.01,
        cdn_fraction: 0.05,
        formats: vec![Format::ZeekJson, Format::Bind],
        ..Default::default()
    }
}

/// (true positives, false positives, false negatives) of the suspected tier.
fn score(r: &RateReport, t: &ResolverTruth) -> (usize, usize, usize) {
    let truth: BTreeSet<String> = t.dga_clients.iter().map(|c| c.to_string()).collect();
    let got: BTreeSet<String> = r.suspected.iter().map(|s| s.client.clone()).collect();
    let tp = got.intersection(&truth).count();
    (tp, got.len() - tp, truth.len() - tp)
}

#[test]
fn dga_field_suspected_tier_precision_and_recall() {
    let dir = tempfile::tempdir().unwrap();
    let s = spec();
    let t = write_resolver_logs(&s, dir.path()).unwrap();
    assert!(t.dga_clients.len() >= 40, "{}", t.dga_clients.len());
    assert!(t.cdn_clients.len() >= 250, "{}", t.cdn_clients.len());
    assert_eq!(t.dga_registered.len(), 2);
    let opts = ReadOptions::default();
    let cdn: BTreeSet<String> = t.cdn_clients.iter().map(|c| c.to_string()).collect();
    let confirmed: BTreeSet<String> = t.infected.iter().map(|c| c.client.to_string()).collect();
    for (fmt, nx) in [("zeek-json", true), ("bind", false)] {
        let r = run(&t.files[fmt], &s, RateConfig::default(), &opts);
        let (tp, fp, fneg) = score(&r, &t);
        let precision = tp as f64 / (tp + fp).max(1) as f64;
        let recall = tp as f64 / (tp + fneg).max(1) as f64;
        println!(
            "{fmt}: {} DGA clients, suspected {}, tp {tp} fp {fp} fn {fneg}: precision {precision:.3} recall {recall:.3}",
            t.dga_clients.len(),
            r.suspected.len()
        );
        assert!(
            precision >= 0.95 && recall >= 0.95,
            "{fmt}: {precision} {recall}"
        );
        // The tiers never mix: confirmed clients are counted as infected only.
        assert!(r.suspected.iter().all(|x| !confirmed.contains(&x.client)));
        assert!(r.suspected.iter().all(|x| !cdn.contains(&x.client)));
        assert_eq!(r.infected.len(), t.infected.len(), "{fmt}");
        // NXDOMAIN evidence only where the log carries response codes.
        let nx_total: u64 = r.suspected.iter().map(|x| x.nxdomain).sum();
        assert_eq!(nx_total > 0, nx, "{fmt}");
        // The per-window counts add up to the list (one window per day).
        let per_window: u64 = r.windows.iter().map(|w| w.suspected).sum();
        let windows: u64 = r.suspected.iter().map(|x| x.windows as u64).sum();
        assert_eq!(per_window, windows, "{fmt}");
        assert_eq!(r.totals[0].suspected, r.suspected.len() as u64, "{fmt}");
        // Every example name is one the DGA generated.
        for x in &r.suspected {
            assert!(x.names.iter().all(|n| t.dga_names.contains(n)), "{x:?}");
        }
    }
}

#[test]
fn dga_field_tier_can_be_turned_off_and_ordinary_counts_stay() {
    let dir = tempfile::tempdir().unwrap();
    let s = ResolverSpec {
        formats: vec![Format::Bind],
        ..spec()
    };
    let t = write_resolver_logs(&s, dir.path()).unwrap();
    let on = run(
        &t.files["bind"],
        &s,
        RateConfig::default(),
        &ReadOptions::default(),
    );
    let mut cfg = RateConfig::default();
    cfg.suspect.enabled = false;
    let off = run(&t.files["bind"], &s, cfg, &ReadOptions::default());
    assert!(!on.suspected.is_empty());
    assert!(off.suspected.is_empty());
    // The confirmed tier and the client counts do not depend on it.
    assert_eq!(on.infected, off.infected);
    for (a, b) in on.windows.iter().zip(&off.windows) {
        assert_eq!(
            (a.clients, a.infected, a.queries),
            (b.clients, b.infected, b.queries)
        );
        assert_eq!(b.suspected, 0);
    }
    assert_eq!(on.totals[0].clients, t.distinct_clients);
    assert_eq!(on.totals[0].queries, t.queries);
}
