//! Issue 20, HTTP beacon regularity on a capture nobody at botscope
//! wrote: nDPI's `http_ua_splitted_in_two_pkts.pcapng`
//! (`tests/realworld/ndpi`, LGPL-3.0), an advertising SDK reporting
//! impressions and clicks over one keep-alive connection for 387 s. The
//! requests, their URI shapes, counts, median gaps and spreads are
//! computed from tshark's `http.request` rows of the same file
//! (`result/http_ua_splitted_in_two_pkts.tshark.tsv`). What it proves:
//! the poll grouping and the regularity figures on real HTTP, and that a
//! benign periodic client with no orders is no C&C. It is not an HTTP bot:
//! no public capture of one with a licence and a peer baseline was found.

use botscope_behavior::analysis::Options;
use botscope_behavior::http_cc::{uri_shape, MAX_SPREAD, MIN_INTERVAL_S, MIN_POLLS};
use botscope_behavior::{pipeline, Limits};
use botscope_capture::EngineConfig;
use std::collections::BTreeMap;
use std::path::PathBuf;

fn ndpi(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/realworld/ndpi/tests/cfgs/default")
        .join(rel)
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

#[test]
fn realworld_periodic_ad_sdk_is_a_regular_poller_not_cc() {
    // tshark's requests, grouped by server, port and URI shape.
    let text =
        std::fs::read_to_string(ndpi("result/http_ua_splitted_in_two_pkts.tshark.tsv")).unwrap();
    let mut groups: BTreeMap<(String, u16, String), Vec<f64>> = BTreeMap::new();
    let mut requests = 0;
    for l in text.lines().filter(|l| !l.starts_with('#')) {
        let f: Vec<&str> = l.split('\t').collect();
        requests += 1;
        groups
            .entry((f[3].to_string(), f[4].parse().unwrap(), uri_shape(f[6])))
            .or_default()
            .push(f[1].parse().unwrap());
    }
    assert_eq!(requests, 37);
    // The groups tshark's times make regular polling.
    let mut expected = Vec::new();
    for ((server, port, shape), times) in &groups {
        if times.len() < MIN_POLLS {
            continue;
        }
        let mut gaps: Vec<f64> = times.windows(2).map(|w| w[1] - w[0]).collect();
        let m = median(&mut gaps);
        let mut dev: Vec<f64> = gaps.iter().map(|g| (g - m).abs()).collect();
        let spread = median(&mut dev) / m;
        if spread <= MAX_SPREAD && m >= MIN_INTERVAL_S {
            expected.push((
                server.clone(),
                *port,
                shape.clone(),
                times.len() as u64,
                m,
                spread,
            ));
        }
    }
    assert_eq!(expected.len(), 1, "{expected:?}");

    let (r, _) = pipeline::run(
        &[ndpi("pcap/http_ua_splitted_in_two_pkts.pcapng")],
        &EngineConfig::default(),
        Limits::default(),
        &Options::default(),
    )
    .expect("capture reads");
    assert!(r.table9_http.is_empty(), "{:?}", r.table9_http);
    assert_eq!(r.http_pollers.len(), 1, "{:?}", r.http_pollers);
    let p = &r.http_pollers[0];
    let (server, port, shape, polls, interval, spread) = &expected[0];
    assert_eq!(
        (p.server.to_string(), p.port, &p.uri_shape, p.polls),
        (server.clone(), *port, shape, *polls)
    );
    assert_eq!(
        shape,
        "/tracking/adImpression?d=*&position=*&clientSessionId=*&ts=*&afh=*"
    );
    // Request times: botscope's first request packet, tshark's reassembled
    // request frame (the User-Agent is split over two packets): gaps agree
    // within 50 ms.
    let iv = p.interval_s.unwrap();
    assert!((iv - interval).abs() < 0.05, "{iv} vs tshark {interval}");
    assert!((p.interval_spread.unwrap() - spread).abs() < 0.01);
    assert!(!p.attribution.is_cc());
    assert!(p
        .attribution
        .evidence_against
        .iter()
        .any(|e| e.starts_with("no_orders")));
    assert!(r.http_orders.is_empty());
}
