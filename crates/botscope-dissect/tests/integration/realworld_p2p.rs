//! Gnutella on a real capture: nDPI's `gnutella.pcap` (gtk-gnutella
//! 1.2.2 on 10.0.2.15 joining the network, `tests/realworld/ndpi`), against
//! tshark's view of the same file (`result/gnutella.tshark.tsv`: every TCP
//! stream opening with `GNUTELLA CONNECT/`, the answer's status code and
//! the User-Agent) and nDPI's own flow list (`result/gnutella.pcap.out`).

use crate::common::run;
use botscope_core::events::{Event, P2pLink};
use std::collections::BTreeMap;
use std::path::PathBuf;

fn ndpi() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/realworld/ndpi/tests/cfgs/default")
}

/// (orig_h:orig_p, resp_h:resp_p) -> (status, user agent, tshark stream), from tshark.
fn tshark_links() -> BTreeMap<(String, String), (Option<u16>, String, u32)> {
    let text = std::fs::read_to_string(ndpi().join("result/gnutella.tshark.tsv")).unwrap();
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.starts_with("stream\t"))
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            (
                (format!("{}:{}", f[1], f[2]), format!("{}:{}", f[3], f[4])),
                (f[5].parse().ok(), f[6].to_string(), f[0].parse().unwrap()),
            )
        })
        .collect()
}

/// nDPI's TCP flows labelled Gnutella: the two endpoints (either order)
/// and the User-Agent nDPI read.
fn ndpi_tcp_gnutella() -> BTreeMap<(String, String), String> {
    let text = std::fs::read_to_string(ndpi().join("result/gnutella.pcap.out")).unwrap();
    text.lines()
        .filter(|l| {
            l.contains("[proto: 35/Gnutella]")
                && l.trim_start()
                    .split('\t')
                    .nth(1)
                    .is_some_and(|f| f.starts_with("TCP "))
        })
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let ua = l
                .split("[User-Agent: ")
                .nth(1)
                .and_then(|r| r.split(']').next())
                .unwrap_or("")
                .to_string();
            ((f[2].to_string(), f[4].to_string()), ua)
        })
        .collect()
}

fn links() -> (Vec<P2pLink>, botscope_dissect::Stats) {
    let (records, stats, _) = run(&[ndpi().join("pcap/gnutella.pcap")]);
    let links = records
        .into_iter()
        .filter_map(|r| match r.event {
            Event::P2p(l) => Some(l),
            _ => None,
        })
        .collect();
    (links, stats)
}

#[test]
fn realworld_ndpi_gnutella_handshakes_match_tshark_and_ndpi() {
    let (links, stats) = links();
    let gnutella: BTreeMap<(String, String), &P2pLink> = links
        .iter()
        .filter(|l| l.protocol == "gnutella")
        .map(|l| {
            (
                (
                    format!("{}:{}", l.id.orig_h, l.id.orig_p),
                    format!("{}:{}", l.id.resp_h, l.id.resp_p),
                ),
                l,
            )
        })
        .collect();
    let tshark = tshark_links();
    assert_eq!(tshark.len(), 52);
    assert_eq!(
        gnutella.keys().collect::<Vec<_>>(),
        tshark.keys().collect::<Vec<_>>(),
        "the Gnutella links are tshark's GNUTELLA CONNECT streams"
    );
    for (k, (status, ua, _)) in &tshark {
        let l = gnutella[k];
        assert_eq!(l.status, *status, "status of {k:?}");
        assert_eq!(
            l.user_agent.as_deref(),
            Some(ua.as_str()),
            "user agent of {k:?}"
        );
    }
    // nDPI labels the same 52 TCP flows Gnutella, with the same agent.
    let nd = ndpi_tcp_gnutella();
    assert_eq!(nd.len(), 52);
    for ((a, b), ua) in &nd {
        let l = gnutella
            .get(&(a.clone(), b.clone()))
            .or_else(|| gnutella.get(&(b.clone(), a.clone())))
            .unwrap_or_else(|| panic!("nDPI's Gnutella flow {a} <-> {b} is not a link here"));
        assert_eq!(l.user_agent.as_deref(), Some(ua.as_str()));
    }
    assert_eq!(stats.services.get("gnutella"), Some(&52));
    // Accepted links carry descriptors, deflated both ways: counted
    // without one framing or inflate error.
    let accepted: Vec<&&P2pLink> = gnutella
        .values()
        .filter(|l| l.status == Some(200))
        .collect();
    assert_eq!(accepted.len(), 15);
    // Four accepted links upgrade to TLS after the handshake (`Connection:
    // Upgrade`, then a 0x16 0x03 record: tshark streams 110, 126, 128, 129).
    let mut tls: Vec<u32> = gnutella
        .iter()
        .filter(|(_, l)| l.tls)
        .map(|(k, _)| tshark[k].2)
        .collect();
    tls.sort();
    assert_eq!(tls, vec![110, 126, 128, 129]);
    for bad in [
        "gnutella_bad_deflate",
        "gnutella_bad_descriptor",
        "gnutella_bad_handshake",
    ] {
        assert!(
            !stats.anomalies.by_reason.contains_key(bad),
            "{bad}: {:?}",
            stats.anomalies.by_reason.get(bad)
        );
    }
    // Descriptor counts over the accepted 0.6 links (not TLS, not
    // Gnutella2) equal an independent decoder's: tshark's `tcp.payload`
    // bytes per stream, inflated with Python's zlib and framed by the
    // 23-byte header (the script is in ndpi/SOURCE.md).
    let sum = |f: fn(&P2pLink) -> u64| {
        accepted
            .iter()
            .filter(|l| !l.tls && !l.gnutella2)
            .map(|l| f(l))
            .sum::<u64>()
    };
    let counts = [
        sum(|l| l.descriptors.ping),
        sum(|l| l.descriptors.pong),
        sum(|l| l.descriptors.bye),
        sum(|l| l.descriptors.qrp),
        sum(|l| l.descriptors.vendor),
        sum(|l| l.descriptors.query),
        sum(|l| l.descriptors.query_hit),
        sum(|l| l.descriptors.other),
    ];
    assert_eq!(counts, [14, 138, 3, 9, 293, 17, 87, 99]);
    let g2 = gnutella.values().filter(|l| l.gnutella2).count();
    // Shareaza answers three connects with `Content-Type: application/x-gnutella2`.
    assert_eq!(g2, 3);
    // No other TCP flow of the capture (TLS, SMB, Gnutella's HTTP) is an
    // opaque mesh link.
    assert_eq!(links.iter().filter(|l| l.protocol == "opaque").count(), 0);
}
