//! Peer-to-peer C&C (issue 20): a Gnutella 0.6 botnet (the text
//! handshake, then binary descriptors — ping, pong, query, query hit — each
//! behind the 23-byte descriptor header) and a WASTE-style encrypted mesh
//! (long-lived links among the peers on one port, random-looking bytes,
//! about as many each way).

use super::Host;
use crate::draw::flow;
use crate::pcap::PcapFile;
use crate::tcp::Tcp;
use crate::truth::{P2pLinkTruth, P2pPeerTruth, P2pTruth};
use botscope_core::{Proto, Ts};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeSet;
use std::net::Ipv4Addr;

/// Gnutella's port.
pub(crate) const GNUTELLA_PORT: u16 = 6346;
/// WASTE's default port.
pub(crate) const WASTE_PORT: u16 = 1337;

/// Gnutella descriptor types.
const PING: u8 = 0x00;
const PONG: u8 = 0x01;
const QUERY: u8 = 0x80;
const QUERY_HIT: u8 = 0x81;

/// One planned link.
#[derive(Clone, Debug)]
pub(crate) struct LinkPlan {
    /// Peer that connects (index into the peers).
    pub a: usize,
    /// Peer that accepts.
    pub b: usize,
    pub start: i64,
    pub end: i64,
    /// Seed of the link's own stream (descriptor ids, keep-alive times,
    /// random bytes).
    pub seed: u64,
}

/// One planned P2P botnet.
#[derive(Clone, Debug)]
pub(crate) struct NetPlan {
    pub protocol: &'static str,
    pub port: u16,
    pub peers: Vec<Host>,
    /// Per peer: its other C&C channels (`http`).
    pub other_cc: Vec<Vec<String>>,
    pub links: Vec<LinkPlan>,
    /// The botnet's search keyword (Gnutella) that finds its orders.
    pub keyword: String,
}

/// Links: every peer after the first connects to one earlier peer (the
/// graph is connected), then `extra` more links between distinct pairs.
fn plan_links(
    r: &mut ChaCha8Rng,
    n: usize,
    extra: usize,
    (start, end): (i64, i64),
) -> Vec<LinkPlan> {
    let mut pairs: BTreeSet<(usize, usize)> = BTreeSet::new();
    let mut links = Vec::new();
    let mut add = |r: &mut ChaCha8Rng, a: usize, b: usize, links: &mut Vec<LinkPlan>| {
        let key = (a.min(b), a.max(b));
        if a == b || !pairs.insert(key) {
            return;
        }
        let s = start + r.random_range(30_000_000..3 * 3_600_000_000i64);
        let e = end - r.random_range(60_000_000..600_000_000i64);
        links.push(LinkPlan {
            a,
            b,
            start: s,
            end: e,
            seed: r.random(),
        });
    };
    for i in 1..n {
        let j = r.random_range(0..i);
        add(r, i, j, &mut links);
    }
    let mut tries = 0;
    while links.len() < n - 1 + extra && tries < 100 {
        let (a, b) = (r.random_range(0..n), r.random_range(0..n));
        add(r, a, b, &mut links);
        tries += 1;
    }
    links.sort_by_key(|l| l.start);
    links
}

/// Plans one P2P botnet of `peers` hosts, the first `shared.len()` of
/// them also polling HTTP C&C (`shared`), the others P2P only.
pub(crate) fn plan_net(
    r: &mut ChaCha8Rng,
    protocol: &'static str,
    shared: &[Host],
    only: Vec<Host>,
    window: (i64, i64),
) -> NetPlan {
    let n_shared = shared.len();
    let peers: Vec<Host> = shared.iter().cloned().chain(only).collect();
    let n = peers.len();
    let (port, extra) = if protocol == "gnutella" {
        (GNUTELLA_PORT, n / 2)
    } else {
        // A mesh: most pairs linked.
        (WASTE_PORT, n * (n - 1) / 2 - (n - 1) - n / 2)
    };
    let links = plan_links(r, n, extra, window);
    let other_cc = (0..n)
        .map(|i| {
            if i < n_shared {
                vec!["http".to_string()]
            } else {
                Vec::new()
            }
        })
        .collect();
    NetPlan {
        protocol,
        port,
        peers,
        other_cc,
        links,
        keyword: format!("{:012x}", r.random::<u64>() >> 16),
    }
}

/// A descriptor: 16-byte id, type, TTL, hops, payload length (LE), payload.
fn descriptor(r: &mut ChaCha8Rng, kind: u8, ttl: u8, payload: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(23 + payload.len());
    let mut guid: [u8; 16] = r.random();
    // Modern servents mark their ids (byte 8 = 0xff, byte 15 = 0).
    guid[8] = 0xff;
    guid[15] = 0;
    v.extend_from_slice(&guid);
    v.extend_from_slice(&[kind, ttl, 0]);
    v.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    v.extend_from_slice(payload);
    v
}

/// Pong payload: port, address, files shared, kilobytes shared.
fn pong(ip: Ipv4Addr, port: u16, files: u32, kb: u32) -> Vec<u8> {
    let mut v = port.to_le_bytes().to_vec();
    v.extend_from_slice(&ip.octets());
    v.extend_from_slice(&files.to_le_bytes());
    v.extend_from_slice(&kb.to_le_bytes());
    v
}

/// Query payload: minimum speed, the search text, NUL.
fn query(text: &str) -> Vec<u8> {
    let mut v = 0u16.to_le_bytes().to_vec();
    v.extend_from_slice(text.as_bytes());
    v.push(0);
    v
}

/// Query hit payload with one result named `name`.
fn query_hit(r: &mut ChaCha8Rng, ip: Ipv4Addr, port: u16, name: &str, size: u32) -> Vec<u8> {
    let mut v = vec![1u8];
    v.extend_from_slice(&port.to_le_bytes());
    v.extend_from_slice(&ip.octets());
    v.extend_from_slice(&350u32.to_le_bytes());
    v.extend_from_slice(&r.random_range(1..500u32).to_le_bytes());
    v.extend_from_slice(&size.to_le_bytes());
    v.extend_from_slice(name.as_bytes());
    v.extend_from_slice(&[0, 0]);
    // Trailer: vendor code, open data size, flags; then the servent id.
    v.extend_from_slice(b"BEAR");
    v.extend_from_slice(&[2, 0x1c, 0x19]);
    let servent: [u8; 16] = r.random();
    v.extend_from_slice(&servent);
    v
}

/// Byte tallies of a link while it is written.
#[derive(Default)]
struct Tally {
    orig: u64,
    resp: u64,
    descriptors: u32,
}

impl Tally {
    fn send(&mut self, c: &mut Tcp, f: &mut PcapFile, from_orig: bool, data: &[u8]) {
        if from_orig {
            self.orig += data.len() as u64;
            c.c_send(f, data);
        } else {
            self.resp += data.len() as u64;
            c.s_send(f, data);
        }
    }
}

/// Writes one link and returns its truth.
pub(crate) fn render_link(f: &mut PcapFile, net: &NetPlan, l: &LinkPlan) -> P2pLinkTruth {
    let mut r = <ChaCha8Rng as rand::SeedableRng>::seed_from_u64(l.seed);
    let (a, b) = (net.peers[l.a].ip, net.peers[l.b].ip);
    let cport = crate::draw::free_port(&mut r, 1025, 5000);
    let mut c = Tcp::new(a, cport, b, net.port, l.start, r.random());
    c.delay = 60_000;
    c.handshake(f);
    let mut tally = Tally::default();
    if net.protocol == "gnutella" {
        gnutella_link(f, &mut r, &mut c, &mut tally, net, l);
    } else {
        waste_link(f, &mut r, &mut c, &mut tally, l);
    }
    c.t = c.t.max(l.end);
    let end = c.t;
    c.close(f, r.random_bool(0.5));
    P2pLinkTruth {
        flow: flow(a, cport, b, net.port, Proto::Tcp),
        start: Ts(l.start),
        end: Ts(end),
        bytes_orig: tally.orig,
        bytes_resp: tally.resp,
        descriptors: tally.descriptors,
    }
}

/// The Gnutella 0.6 handshake, then a ping/pong exchange every 3–5
/// minutes and, every 30–90 minutes, a query for the botnet's keyword
/// answered by a query hit.
fn gnutella_link(
    f: &mut PcapFile,
    r: &mut ChaCha8Rng,
    c: &mut Tcp,
    tally: &mut Tally,
    net: &NetPlan,
    l: &LinkPlan,
) {
    let agent = "BearShare 4.6.2";
    let hs_c = format!(
        "GNUTELLA CONNECT/0.6\r\nUser-Agent: {agent}\r\nX-Ultrapeer: False\r\nPong-Caching: 0.1\r\nListen-IP: {}:{}\r\n\r\n",
        c.c, net.port
    );
    tally.send(c, f, true, hs_c.as_bytes());
    let hs_s = format!(
        "GNUTELLA/0.6 200 OK\r\nUser-Agent: {agent}\r\nX-Ultrapeer: False\r\nRemote-IP: {}\r\n\r\n",
        c.c
    );
    tally.send(c, f, false, hs_s.as_bytes());
    tally.send(c, f, true, b"GNUTELLA/0.6 200 OK\r\n\r\n");
    let mut t = c.t + r.random_range(1_000_000..5_000_000);
    let mut next_query = t + r.random_range(600_000_000..1_800_000_000i64);
    while t < l.end - 5_000_000 {
        c.t = c.t.max(t);
        let from_orig = r.random_bool(0.5);
        let peer = if from_orig { c.s } else { c.c };
        if t >= next_query {
            let q = descriptor(r, QUERY, 7, &query(&net.keyword));
            tally.send(c, f, from_orig, &q);
            let name = format!("{}-{:04}.dat", net.keyword, r.random_range(0..10_000));
            let size = r.random_range(200..4000);
            let hit = query_hit(r, peer, net.port, &name, size);
            let h = descriptor(r, QUERY_HIT, 7, &hit);
            tally.send(c, f, !from_orig, &h);
            next_query = t + r.random_range(1_800_000_000..5_400_000_000i64);
        } else {
            let p = descriptor(r, PING, 1, &[]);
            tally.send(c, f, from_orig, &p);
            let files = r.random_range(0..200);
            let po = descriptor(r, PONG, 1, &pong(peer, net.port, files, files * 3100));
            tally.send(c, f, !from_orig, &po);
        }
        tally.descriptors += 2;
        t += r.random_range(180_000_000..300_000_000i64);
    }
}

/// A WASTE-style link: a key exchange of random blobs, then every 1–4
/// minutes a record one way answered by one of similar size the other
/// way, all random bytes in 8-byte blocks (Blowfish-sized).
fn waste_link(f: &mut PcapFile, r: &mut ChaCha8Rng, c: &mut Tcp, tally: &mut Tally, l: &LinkPlan) {
    let blob = |r: &mut ChaCha8Rng, n: usize| -> Vec<u8> { (0..n).map(|_| r.random()).collect() };
    let k1 = blob(r, 16 + 256);
    tally.send(c, f, true, &k1);
    let k2 = blob(r, 16 + 256);
    tally.send(c, f, false, &k2);
    let mut t = c.t + r.random_range(500_000..3_000_000);
    while t < l.end - 5_000_000 {
        c.t = c.t.max(t);
        let from_orig = r.random_bool(0.5);
        let n = 8 * r.random_range(4..64usize);
        let m = (n as i64 + 8 * r.random_range(-2..=2i64)).max(16) as usize;
        let x = blob(r, n);
        tally.send(c, f, from_orig, &x);
        let y = blob(r, m);
        tally.send(c, f, !from_orig, &y);
        t += r.random_range(60_000_000..240_000_000i64);
    }
}

/// The truth of a rendered net.
pub(crate) fn truth(id: u32, net: &NetPlan, links: Vec<P2pLinkTruth>) -> P2pTruth {
    let peers: Vec<P2pPeerTruth> = net
        .peers
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let neighbours: BTreeSet<Ipv4Addr> = net
                .links
                .iter()
                .filter_map(|l| {
                    if l.a == i {
                        Some(net.peers[l.b].ip)
                    } else if l.b == i {
                        Some(net.peers[l.a].ip)
                    } else {
                        None
                    }
                })
                .collect();
            P2pPeerTruth {
                ip: h.ip,
                infected: true,
                other_cc: net.other_cc[i].clone(),
                neighbours: neighbours.into_iter().collect(),
            }
        })
        .collect();
    let mut only: Vec<Ipv4Addr> = peers
        .iter()
        .filter(|p| p.other_cc.is_empty())
        .map(|p| p.ip)
        .collect();
    only.sort();
    P2pTruth {
        id,
        protocol: net.protocol.into(),
        file: super::P2P_PCAP.into(),
        port: net.port,
        peers,
        links,
        p2p_only_hosts: only,
    }
}
