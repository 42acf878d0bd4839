//! Command channels beyond IRC (issue 20): HTTP polling bots with benign
//! periodic clients beside them (`pcap/http-cc.pcap`), and two P2P
//! botnets, Gnutella 0.6 and a WASTE-style mesh (`pcap/p2p.pcap`).
//!
//! Everything here is drawn from its own stream (the field's seed mixed
//! with a constant), so the rest of the field is the same bytes with or
//! without it. The hosts are ISP customers (addresses in the sensors' ISP
//! /16s, never a sensor). Some P2P peers also poll an HTTP C&C server;
//! the others have no C&C but the P2P network and never look up a C&C
//! name: what DNS-based counting misses.

mod http;
mod p2p;

use crate::pcap::{Ip4, PcapFile};
use crate::scenario::SynthConfig;
use crate::truth::{FileTruth, HttpBenignTruth, HttpCcTruth, P2pTruth};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeSet;
use std::io;
use std::net::Ipv4Addr;
use std::path::Path;

/// The HTTP C&C capture, relative to the field folder.
pub const HTTP_PCAP: &str = "pcap/http-cc.pcap";
/// The P2P capture, relative to the field folder.
pub const P2P_PCAP: &str = "pcap/p2p.pcap";

/// An infected or benign customer host.
#[derive(Clone, Debug)]
pub(crate) struct Host {
    pub ip: Ipv4Addr,
}

/// Writes a DNS lookup (query and answer) through the field's resolver.
pub(crate) struct Lookup {
    resolver: Ipv4Addr,
}

impl Lookup {
    fn render(
        &mut self,
        f: &mut PcapFile,
        r: &mut ChaCha8Rng,
        client: Ipv4Addr,
        name: &str,
        answers: &[Ipv4Addr],
        t: i64,
    ) {
        let id: u16 = r.random();
        let port = crate::draw::free_port(r, 1025, 5000);
        let (q, a) = (
            Ip4 {
                src: client,
                dst: self.resolver,
                ttl: 128,
            },
            Ip4 {
                src: self.resolver,
                dst: client,
                ttl: 63,
            },
        );
        f.udp(t, q, port, 53, &crate::proto::dns_query(id, name));
        let resp = crate::proto::dns_response(id, name, answers, 300);
        f.udp(t + 35_000, a, 53, port, &resp);
    }
}

/// Everything drawn for the channels, before the field is written.
pub(crate) struct Plan {
    servers: Vec<http::ServerPlan>,
    benign: Vec<http::BenignPlan>,
    nets: Vec<p2p::NetPlan>,
    /// Seed of the HTTP capture's per-poll details.
    render_seed: u64,
}

/// What [`render`] wrote.
pub(crate) struct Rendered {
    pub files: Vec<FileTruth>,
    pub http_cc: Vec<HttpCcTruth>,
    pub http_benign: Vec<HttpBenignTruth>,
    pub p2p: Vec<P2pTruth>,
}

/// Draws the channels' hosts, servers, orders and links.
pub(crate) fn plan(cfg: &SynthConfig, sensors: &[Ipv4Addr]) -> Plan {
    let mut r = ChaCha8Rng::seed_from_u64(cfg.seed ^ 0x0c2c_4854_5450_2020);
    let window = (
        cfg.start_us,
        cfg.start_us + i64::from(cfg.days.max(1)) * 86_400_000_000,
    );
    let n = |base: f64| (base * cfg.scale).round().max(1.0) as usize;
    let mut used: BTreeSet<Ipv4Addr> = sensors.iter().copied().collect();
    let mut hosts = move |r: &mut ChaCha8Rng| loop {
        let (a, b) = crate::draw::ISP_PREFIXES[r.random_range(0..crate::draw::ISP_PREFIXES.len())];
        let ip = Ipv4Addr::new(a, b, r.random_range(1..=254), r.random_range(2..=253));
        if used.insert(ip) {
            return Host { ip };
        }
    };
    let delay = 1000 / cfg.flood_pps.max(1);
    let servers = http::plan_servers(&mut r, &mut hosts, window, n(4.0).max(2), delay);
    let benign = http::plan_benign(&mut r, &mut hosts, window);
    // Gnutella: the first bot of the first two HTTP servers is a peer too;
    // WASTE: the first bot of the third. The other peers are P2P only.
    let first_bot = |s: usize| servers[s].bots[0].host.clone();
    let shared_g = [first_bot(0), first_bot(1)];
    let only_g: Vec<Host> = (0..n(4.0).clamp(4, 60)).map(|_| hosts(&mut r)).collect();
    let gnutella = p2p::plan_net(&mut r, "gnutella", &shared_g, only_g, window);
    let only_w: Vec<Host> = (0..n(4.0).clamp(4, 7)).map(|_| hosts(&mut r)).collect();
    let waste = p2p::plan_net(&mut r, "waste", &[first_bot(2)], only_w, window);
    Plan {
        servers,
        benign,
        nets: vec![gnutella, waste],
        render_seed: r.random(),
    }
}

/// Writes both captures and returns their truth.
pub(crate) fn render(plan: &Plan, resolver: Ipv4Addr, out: &Path) -> io::Result<Rendered> {
    let mut lookup = Lookup { resolver };
    let mut r = ChaCha8Rng::seed_from_u64(plan.render_seed);
    // HTTP: one job per bot and per benign client, in start order.
    enum Job {
        Bot(usize, usize),
        Benign(usize),
    }
    let mut jobs: Vec<(i64, Job)> = Vec::new();
    for (si, s) in plan.servers.iter().enumerate() {
        for (bi, b) in s.bots.iter().enumerate() {
            let t = b.polls.first().copied().unwrap_or_default() - 2_000_000;
            jobs.push((t, Job::Bot(si, bi)));
        }
    }
    for (i, b) in plan.benign.iter().enumerate() {
        jobs.push((
            b.polls.first().copied().unwrap_or_default() - 1_000_000,
            Job::Benign(i),
        ));
    }
    jobs.sort_by_key(|j| j.0);
    let mut http_cc: Vec<HttpCcTruth> = plan.servers.iter().map(|s| s.truth.clone()).collect();
    let mut f = PcapFile::create(&out.join(HTTP_PCAP))?;
    for (t, job) in &jobs {
        f.advance(*t)?;
        match *job {
            Job::Bot(si, bi) => {
                let bot = &plan.servers[si].bots[bi];
                http::render_bot(&mut f, &mut r, &mut http_cc[si], bot, &mut lookup);
            }
            Job::Benign(i) => http::render_benign(&mut f, &mut r, &plan.benign[i], &mut lookup),
        }
    }
    for s in &mut http_cc {
        for o in &mut s.orders {
            o.deliveries.sort_by_key(|d| (d.response, d.bot));
        }
    }
    let (packets, bytes) = f.finish()?;
    let mut files = vec![FileTruth {
        path: HTTP_PCAP.into(),
        kind: "pcap: HTTP polling C&C and benign periodic clients".into(),
        packets,
        bytes,
    }];
    // P2P: one job per link, in start order.
    let mut f = PcapFile::create(&out.join(P2P_PCAP))?;
    let mut links: Vec<(i64, usize, usize)> = Vec::new();
    for (ni, net) in plan.nets.iter().enumerate() {
        for (li, l) in net.links.iter().enumerate() {
            links.push((l.start, ni, li));
        }
    }
    links.sort();
    let mut link_truth: Vec<Vec<_>> = plan.nets.iter().map(|_| Vec::new()).collect();
    for &(t, ni, li) in &links {
        f.advance(t)?;
        let net = &plan.nets[ni];
        link_truth[ni].push(p2p::render_link(&mut f, net, &net.links[li]));
    }
    let (packets, bytes) = f.finish()?;
    files.push(FileTruth {
        path: P2P_PCAP.into(),
        kind: "pcap: P2P botnets (Gnutella 0.6, WASTE-style mesh)".into(),
        packets,
        bytes,
    });
    let p2p = plan
        .nets
        .iter()
        .zip(link_truth)
        .enumerate()
        .map(|(i, (net, lt))| p2p::truth(i as u32, net, lt))
        .collect();
    Ok(Rendered {
        files,
        http_cc,
        http_benign: plan.benign.iter().map(|b| b.truth.clone()).collect(),
        p2p,
    })
}
