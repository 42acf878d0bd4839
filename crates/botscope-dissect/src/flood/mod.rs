//! Floods (§5.3) from packet headers: per (source, target, type, port)
//! tallies of flood-type packets with pauses under [`FLOOD_GAP_US`], and,
//! for forged sources, per (target, type, port, Ethernet source) tallies
//! with their source spread ([`spread`]). Bounded: at most
//! `max_tallies` of each kind; idle ones are closed, small ones dropped
//! and counted, when full.

pub(crate) mod key;
pub mod spread;

use botscope_capture::PacketInfo;
use botscope_core::events::{Evidence, FloodObs};
use botscope_core::hash::FastMap;
use botscope_core::{Proto, Ts};
use key::{addr_word, mac_word, pair_word};
use spread::SourceSpread;
use std::collections::hash_map::Entry;
use std::hash::{Hash, Hasher};
use std::net::IpAddr;

/// Packets needed to call a run of one type towards one target a flood.
pub const FLOOD_MIN_PACKETS: u64 = 100;
/// A pause longer than this ends a flood.
pub const FLOOD_GAP_US: i64 = 10_000_000;
/// Distinct sources a run toward one target needs to be a spoofed flood.
pub const SPOOF_MIN_SOURCES: u64 = 32;
/// A spoofed flood sends at most this many packets per source on average
/// (forged sources are drawn afresh; many real senders each send many).
pub const SPOOF_MAX_PER_SOURCE: u64 = 4;
/// Least rate of a spoofed flood, packets per second.
pub const SPOOF_MIN_PPS: u64 = 10;
/// Hosts (Ethernet source addresses) remembered for attribution.
pub const MAX_MAC_HOSTS: usize = 4096;
/// Tallies with fewer packets are dropped first when the table is full
/// (they cannot be floods yet).
const SMALL_TALLY: u64 = 8;

/// `aa:bb:cc:dd:ee:ff`.
pub fn mac_string(m: &[u8; 6]) -> String {
    format!(
        "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
        m[0], m[1], m[2], m[3], m[4], m[5]
    )
}

/// The flood types, each tallied apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FloodKind {
    /// TCP SYN (`ddos.synflood`); also a scan probe.
    Syn,
    /// TCP SYN+URG (`ddos.phatsyn`).
    SynUrg,
    /// TCP SYN+ACK (`ddos.phatwolk`).
    SynAck,
    /// HTTP GET packets (`ddos.httpflood`).
    HttpGet,
    /// UDP datagrams (`ddos.udpflood`).
    Udp,
    /// IP fragments (`ddos.targa3`).
    Fragments,
    /// ICMP (`ddos.phaticmp`).
    Icmp,
}

impl FloodKind {
    /// The name in the report (`FloodObs::kind`).
    pub fn as_str(self) -> &'static str {
        match self {
            FloodKind::Syn => "syn",
            FloodKind::SynUrg => "syn+urg",
            FloodKind::SynAck => "syn+ack",
            FloodKind::HttpGet => "http-get",
            FloodKind::Udp => "udp",
            FloodKind::Fragments => "fragments",
            FloodKind::Icmp => "icmp",
        }
    }
}

/// The flood type of a packet and the port it is tallied under; `None`
/// for packets that are no flood type. A bare SYN ([`FloodKind::Syn`]) is
/// a scan probe too.
pub fn flood_kind(pkt: &PacketInfo<'_>) -> Option<(FloodKind, u16)> {
    match pkt.proto {
        Proto::Tcp => {
            let f = pkt.tcp_flags.unwrap_or(0);
            let syn = f & 0x02 != 0;
            let ack = f & 0x10 != 0;
            let urg = f & 0x20 != 0;
            if syn && urg && !ack {
                Some((FloodKind::SynUrg, pkt.dst_port))
            } else if syn && ack {
                Some((FloodKind::SynAck, pkt.dst_port))
            } else if syn {
                Some((FloodKind::Syn, pkt.dst_port))
            } else if pkt.payload.starts_with(b"GET ") {
                Some((FloodKind::HttpGet, pkt.dst_port))
            } else {
                None
            }
        }
        Proto::Udp if pkt.fragmented => Some((FloodKind::Fragments, 0)),
        Proto::Udp => Some((FloodKind::Udp, pkt.dst_port)),
        Proto::Icmp => Some((FloodKind::Icmp, 0)),
        Proto::Other if pkt.fragmented => Some((FloodKind::Fragments, 0)),
        Proto::Other => None,
    }
}

/// [`flood_kind`] with the type's name.
pub fn flood_type(pkt: &PacketInfo<'_>) -> Option<(&'static str, u16)> {
    flood_kind(pkt).map(|(k, port)| (k.as_str(), port))
}

struct Tally {
    start: Ts,
    end: Ts,
    packets: u64,
    file: u32,
    first_pkt: u64,
    last_pkt: u64,
    mac: Option<[u8; 6]>,
}

/// Packets of one type toward one target from one sending host, whatever
/// their IP sources.
struct TargetTally {
    start: Ts,
    end: Ts,
    packets: u64,
    file: u32,
    first_pkt: u64,
    last_pkt: u64,
    sources: SourceSpread,
}

/// A per-source tally: (source, target, type, port).
#[derive(Clone, Copy, PartialEq, Eq)]
struct TallyKey {
    src: IpAddr,
    dst: IpAddr,
    kind: FloodKind,
    port: u16,
}

impl Hash for TallyKey {
    fn hash<H: Hasher>(&self, h: &mut H) {
        h.write_u64(pair_word(&self.src, &self.dst));
        h.write_u64(((self.kind as u64) << 16) | u64::from(self.port));
    }
}

/// A per-target tally: (target, type, port, Ethernet source).
#[derive(Clone, Copy, PartialEq, Eq)]
struct TargetKey {
    dst: IpAddr,
    kind: FloodKind,
    port: u16,
    mac: Option<[u8; 6]>,
}

impl Hash for TargetKey {
    fn hash<H: Hasher>(&self, h: &mut H) {
        h.write_u64(
            addr_word(&self.dst) ^ ((self.kind as u64) << 48) ^ (u64::from(self.port) << 32),
        );
        h.write_u64(mac_word(&self.mac));
    }
}

/// An Ethernet address as a map key hashed in one word.
#[derive(Clone, Copy, PartialEq, Eq)]
struct MacKey([u8; 6]);

impl Hash for MacKey {
    fn hash<H: Hasher>(&self, h: &mut H) {
        h.write_u64(mac_word(&Some(self.0)));
    }
}

impl Tally {
    /// A tally opened by `pkt`.
    fn first(pkt: &PacketInfo<'_>) -> Self {
        Tally {
            start: pkt.ts,
            end: pkt.ts,
            packets: 1,
            file: pkt.file,
            first_pkt: pkt.pkt_no,
            last_pkt: pkt.pkt_no,
            mac: pkt.src_mac,
        }
    }
}

impl TargetTally {
    /// A per-target tally opened by `pkt`.
    fn first(pkt: &PacketInfo<'_>) -> Self {
        let mut sources = SourceSpread::default();
        sources.insert(pkt.src);
        TargetTally {
            start: pkt.ts,
            end: pkt.ts,
            packets: 1,
            file: pkt.file,
            first_pkt: pkt.pkt_no,
            last_pkt: pkt.pkt_no,
            sources,
        }
    }

    /// Forged sources: many, each with few packets, at a flood's rate.
    fn spoofed(&self) -> bool {
        let n = self.sources.estimate();
        let secs = ((self.end.0 - self.start.0) / 1_000_000).max(1) as u64;
        n >= SPOOF_MIN_SOURCES
            && self.packets <= n * SPOOF_MAX_PER_SOURCE
            && self.packets >= SPOOF_MIN_PPS * secs
    }
}

/// One Ethernet source address and the IP it carried TCP data for.
struct MacHost {
    ip: IpAddr,
    /// It carried data for more than one address (a router).
    shared: bool,
}

/// The flood tallies of one run.
pub struct FloodTracker {
    max_tallies: usize,
    tallies: FastMap<TallyKey, Tally>,
    targets: FastMap<TargetKey, TargetTally>,
    hosts: FastMap<MacKey, MacHost>,
    /// Floods found (closed tallies), in closing order.
    pub floods: Vec<FloodObs>,
    /// Per-source tallies dropped to stay within the limit.
    pub evicted_tallies: u64,
    /// Per-target tallies dropped to stay within the limit.
    pub evicted_targets: u64,
    now: Ts,
}

impl FloodTracker {
    /// A tracker keeping at most `max_tallies` tallies of each kind.
    pub fn new(max_tallies: usize) -> Self {
        FloodTracker {
            max_tallies,
            tallies: FastMap::default(),
            targets: FastMap::default(),
            hosts: FastMap::default(),
            floods: Vec::new(),
            evicted_tallies: 0,
            evicted_targets: 0,
            now: Ts(0),
        }
    }

    /// Per-source tallies open now.
    pub fn open_tallies(&self) -> usize {
        self.tallies.len()
    }

    /// Per-target tallies open now.
    pub fn open_targets(&self) -> usize {
        self.targets.len()
    }

    /// Counts one packet (every packet of the capture goes here); returns
    /// its flood type, so a caller needs no second look at its flags.
    pub fn on_packet(&mut self, pkt: &PacketInfo<'_>) -> Option<FloodKind> {
        self.now = pkt.ts;
        let (kind, port) = flood_kind(pkt)?;
        self.tally(pkt, kind, port);
        Some(kind)
    }

    /// Remembers which IP an Ethernet address carried TCP data for.
    pub fn learn_host(&mut self, pkt: &PacketInfo<'_>) {
        let Some(mac) = pkt.src_mac else { return };
        let full = self.hosts.len() >= MAX_MAC_HOSTS;
        if let Some(h) = self.hosts.get_mut(&MacKey(mac)) {
            if h.ip != pkt.src {
                h.shared = true;
            }
        } else if !full {
            self.hosts.insert(
                MacKey(mac),
                MacHost {
                    ip: pkt.src,
                    shared: false,
                },
            );
        }
    }

    /// The host behind an Ethernet source address: the one IP it carried
    /// TCP data for (none for a router carrying many).
    pub fn host_of(&self, mac: &[u8; 6]) -> Option<IpAddr> {
        self.hosts
            .get(&MacKey(*mac))
            .filter(|h| !h.shared)
            .map(|h| h.ip)
    }

    fn is_router(&self, mac: Option<[u8; 6]>) -> bool {
        mac.is_some_and(|m| self.hosts.get(&MacKey(m)).is_some_and(|h| h.shared))
    }

    /// Closes every open tally (after the last packet), floods sorted by
    /// start, source, target, type and port.
    pub fn finish(&mut self) {
        for (k, t) in std::mem::take(&mut self.tallies) {
            self.close_tally(k, t);
        }
        for (k, t) in std::mem::take(&mut self.targets) {
            self.close_target(k, t);
        }
        self.floods.sort_by(|a, b| {
            (a.start, a.source, a.target, &a.kind, a.port, a.spoofed)
                .cmp(&(b.start, b.source, b.target, &b.kind, b.port, b.spoofed))
        });
    }

    fn close_tally(&mut self, k: TallyKey, t: Tally) {
        if t.packets >= FLOOD_MIN_PACKETS {
            self.floods.push(FloodObs {
                source: k.src,
                target: k.dst,
                kind: k.kind.as_str().to_string(),
                port: k.port,
                start: t.start,
                end: t.end,
                packets: t.packets,
                evidence: Evidence {
                    file: t.file,
                    packets: vec![t.first_pkt, t.last_pkt],
                },
                spoofed: false,
                sources: 1,
                sender_mac: t.mac.as_ref().map(mac_string),
            });
        }
    }

    fn close_target(&mut self, k: TargetKey, t: TargetTally) {
        if t.packets < FLOOD_MIN_PACKETS || !t.spoofed() {
            return;
        }
        // A router's address (shared by many hosts) is not a sender.
        if self.is_router(k.mac) {
            return;
        }
        let source = k
            .mac
            .and_then(|m| self.host_of(&m))
            .unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED));
        self.floods.push(FloodObs {
            source,
            target: k.dst,
            kind: k.kind.as_str().to_string(),
            port: k.port,
            start: t.start,
            end: t.end,
            packets: t.packets,
            evidence: Evidence {
                file: t.file,
                packets: vec![t.first_pkt, t.last_pkt],
            },
            spoofed: true,
            sources: t.sources.estimate(),
            sender_mac: k.mac.as_ref().map(mac_string),
        });
    }

    /// Counts a flood-type packet toward its target and sending host;
    /// true when that target is under a spoofed flood (its new sources
    /// then get no tally of their own).
    fn target_tally(&mut self, pkt: &PacketInfo<'_>, kind: FloodKind, port: u16) -> bool {
        let key = TargetKey {
            dst: pkt.dst,
            kind,
            port,
            mac: pkt.src_mac,
        };
        // One probe for the common cases (a known target, or a new one
        // while there is room); the full table takes the slow path.
        let full = self.targets.len() >= self.max_tallies;
        match self.targets.entry(key) {
            Entry::Occupied(mut o) => {
                let t = o.get_mut();
                if pkt.ts.0 - t.end.0 <= FLOOD_GAP_US {
                    t.end = pkt.ts;
                    t.packets += 1;
                    t.last_pkt = pkt.pkt_no;
                    t.sources.insert(pkt.src);
                    return t.spoofed();
                }
                // A new run in the old one's place (the table cannot be full
                // after the old one goes).
                let old = std::mem::replace(t, TargetTally::first(pkt));
                self.close_target(key, old);
                return false;
            }
            Entry::Vacant(v) if !full => {
                v.insert(TargetTally::first(pkt));
                return false;
            }
            Entry::Vacant(_) => {}
        }
        for k in idle_keys(&self.targets, self.now) {
            if let Some(t) = self.targets.remove(&k) {
                self.close_target(k, t);
            }
        }
        if self.targets.len() >= self.max_tallies {
            self.evicted_targets += drop_small(&mut self.targets);
        }
        if self.targets.len() >= self.max_tallies {
            self.evicted_targets += 1;
            return false;
        }
        self.targets.insert(key, TargetTally::first(pkt));
        false
    }

    fn tally(&mut self, pkt: &PacketInfo<'_>, kind: FloodKind, port: u16) {
        // Packets through a router (an address seen carrying several
        // hosts' data) keep their per-source tallies: many real senders.
        let spoofed_target = self.target_tally(pkt, kind, port) && !self.is_router(pkt.src_mac);
        let key = TallyKey {
            src: pkt.src,
            dst: pkt.dst,
            kind,
            port,
        };
        let full = self.tallies.len() >= self.max_tallies;
        match self.tallies.entry(key) {
            Entry::Occupied(mut o) => {
                let t = o.get_mut();
                if pkt.ts.0 - t.end.0 <= FLOOD_GAP_US {
                    t.end = pkt.ts;
                    t.packets += 1;
                    t.last_pkt = pkt.pkt_no;
                    return;
                }
                let old = std::mem::replace(t, Tally::first(pkt));
                self.close_tally(key, old);
                return;
            }
            // One more forged source: counted in the target's tally.
            Entry::Vacant(_) if spoofed_target => return,
            Entry::Vacant(v) if !full => {
                v.insert(Tally::first(pkt));
                return;
            }
            Entry::Vacant(_) => {}
        }
        self.sweep_tallies();
        if self.tallies.len() >= self.max_tallies {
            self.evicted_tallies += 1;
            return;
        }
        self.tallies.insert(key, Tally::first(pkt));
    }

    /// Closes tallies idle past the flood gap; when none is idle, drops
    /// the small ones (they cannot be floods yet) and counts them.
    fn sweep_tallies(&mut self) {
        for k in idle_keys(&self.tallies, self.now) {
            if let Some(t) = self.tallies.remove(&k) {
                self.close_tally(k, t);
            }
        }
        if self.tallies.len() >= self.max_tallies {
            self.evicted_tallies += drop_small(&mut self.tallies);
        }
    }
}

/// What the per-source and the per-target tallies share for eviction.
trait Run {
    /// Time of the last packet.
    fn end(&self) -> Ts;
    /// Packets counted.
    fn packets(&self) -> u64;
}

impl Run for Tally {
    fn end(&self) -> Ts {
        self.end
    }
    fn packets(&self) -> u64 {
        self.packets
    }
}

impl Run for TargetTally {
    fn end(&self) -> Ts {
        self.end
    }
    fn packets(&self) -> u64 {
        self.packets
    }
}

/// Keys of the runs idle past the flood gap at `now`.
fn idle_keys<K: Copy, T: Run>(runs: &FastMap<K, T>, now: Ts) -> Vec<K> {
    runs.iter()
        .filter(|(_, t)| now.0 - t.end().0 > FLOOD_GAP_US)
        .map(|(k, _)| *k)
        .collect()
}

/// Drops the runs too small to be floods yet; returns how many went.
fn drop_small<K, T: Run>(runs: &mut FastMap<K, T>) -> u64 {
    let before = runs.len();
    runs.retain(|_, t| t.packets() >= SMALL_TALLY);
    (before - runs.len()) as u64
}
