//! Issue 20, P2P command channels on a capture nobody at botscope wrote:
//! nDPI's `gnutella.pcap` (`tests/realworld/ndpi`, LGPL-3.0), a benign
//! gtk-gnutella client. Its peer graph is tshark's set of `GNUTELLA
//! CONNECT` streams; with no orders, no mesh and no infection it is a P2P
//! host but not a C&C node, and nobody is P2P-only.

use botscope_behavior::analysis::Options;
use botscope_behavior::{pipeline, Limits};
use botscope_capture::EngineConfig;
use std::collections::BTreeSet;
use std::net::IpAddr;
use std::path::PathBuf;

fn ndpi(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/realworld/ndpi/tests/cfgs/default")
        .join(rel)
}

#[test]
fn realworld_gnutella_client_is_a_p2p_host_not_cc() {
    let (r, _) = pipeline::run(
        &[ndpi("pcap/gnutella.pcap")],
        &EngineConfig::default(),
        Limits::default(),
        &Options::default(),
    )
    .expect("capture reads");
    // tshark: the client's 52 GNUTELLA CONNECT streams, one peer each.
    let text = std::fs::read_to_string(ndpi("result/gnutella.tshark.tsv")).unwrap();
    let peers: BTreeSet<IpAddr> = text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.starts_with("stream\t"))
        .map(|l| l.split('\t').nth(3).unwrap().parse().unwrap())
        .collect();
    assert_eq!(r.p2p_hosts.len(), 1, "{:?}", r.p2p_hosts);
    let h = &r.p2p_hosts[0];
    assert_eq!(h.host, "10.0.2.15".parse::<IpAddr>().unwrap());
    assert_eq!(h.links, 52);
    let got: BTreeSet<IpAddr> = h.peers.iter().map(|p| p.peer).collect();
    assert_eq!(got, peers);
    assert!(h
        .peers
        .iter()
        .all(|p| p.protocol == "gnutella" && p.outbound == p.links));
    assert!(!h.attribution.is_cc(), "{:?}", h.attribution);
    assert!(h
        .attribution
        .evidence_against
        .iter()
        .any(|e| e.starts_with("file_sharing: 52 Gnutella links")));
    assert!(h.learnt_peers > 0);
    assert!(r.p2p_only_hosts.is_empty());
    // Its Gnutella HTTP (none periodic with orders) is no HTTP C&C.
    assert!(r.table9_http.is_empty(), "{:?}", r.table9_http);
}
