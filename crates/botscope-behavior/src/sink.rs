//! The packet-level half of `botscope analyze`: one [`FlowSink`] with
//! bounded state that classifies exploit streams, hashes executables
//! carried over TCP, tallies flood and scan packets, and spots relay
//! requests (SOCKS4/5, HTTP CONNECT, raw SMTP redirect) arriving at bots.

use botscope_capture::{Direction, FlowRef, FlowSink, PacketInfo};
use botscope_core::events::{Conn, Evidence};
use botscope_core::exploit::ExploitEvent;
use botscope_core::{FlowKey, Proto, Ts};
use botscope_dissect::exploit::{classify_udp135, StreamClassifier};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::net::IpAddr;

/// Limits on what the sink keeps.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Flows tracked at once (exploit classifiers, binary hashes).
    pub max_flows: usize,
    /// Flood tallies kept at once (per source, target, type).
    pub max_floods: usize,
    /// Scan runs kept at once (per source, port).
    pub max_scans: usize,
    /// Destinations remembered per scan run.
    pub max_scan_dsts: usize,
    /// Bytes all exploit classifiers may buffer together (half-open
    /// DCE-RPC/SMB PDUs); past it, the classifier that grew is dropped.
    pub max_classifier_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_flows: 65_536,
            max_floods: 65_536,
            max_scans: 65_536,
            max_scan_dsts: 65_536,
            max_classifier_bytes: 256 << 20,
        }
    }
}

/// Packets needed to call a run of one type towards one target a flood.
pub const FLOOD_MIN_PACKETS: u64 = 100;
/// Probes to distinct addresses needed to call a run a scan.
pub const SCAN_MIN_TARGETS: usize = 10;
/// A pause longer than this ends a scan run.
pub const SCAN_GAP_US: i64 = 2_000_000;
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

/// `aa:bb:cc:dd:ee:ff`.
pub fn mac_string(m: &[u8; 6]) -> String {
    format!(
        "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
        m[0], m[1], m[2], m[3], m[4], m[5]
    )
}

/// An executable carried over one TCP direction.
#[derive(Clone, Debug, Serialize)]
pub struct BinaryTransfer {
    /// Flow uid.
    pub uid: String,
    /// 5-tuple.
    pub id: FlowKey,
    /// True when the originator sent the executable.
    pub from_orig: bool,
    /// Time of the first executable byte.
    pub ts: Ts,
    /// Bytes seen.
    pub size: u64,
    /// SHA-256 of the bytes seen.
    pub sha256: String,
    /// Size the PE header announces (end of its last section), if parsable.
    pub pe_size: Option<u64>,
    /// Whether the whole file arrived (no gap, and the PE size when known).
    pub complete: bool,
    /// Evidence.
    pub evidence: Evidence,
}

/// A flood: many packets of one type from one source to one target, or,
/// when the sources are forged, from one sending host (Ethernet source
/// address at the capture point) to one target.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct FloodObs {
    /// Source: the IP source, or for a spoofed flood the sending host's
    /// own address when its Ethernet address is seen carrying one host's
    /// TCP data (`0.0.0.0` when it is not).
    pub source: IpAddr,
    /// Target.
    pub target: IpAddr,
    /// Type: `syn`, `syn+urg`, `syn+ack`, `udp`, `icmp`, `fragments`, `http-get`.
    pub kind: String,
    /// Destination port (0 for ICMP and fragments).
    pub port: u16,
    /// First packet.
    pub start: Ts,
    /// Last packet.
    pub end: Ts,
    /// Packets.
    pub packets: u64,
    /// Evidence (first and last packet).
    pub evidence: Evidence,
    /// Whether the IP sources were forged: the flood is tallied per
    /// target and sending host, not per source.
    #[serde(default)]
    pub spoofed: bool,
    /// Distinct IP sources (1 for an unspoofed flood; estimated past 8).
    #[serde(default)]
    pub sources: u64,
    /// Ethernet source address of the frames (the sending host, or the
    /// router in front of it), when the capture has one.
    #[serde(default)]
    pub sender_mac: Option<String>,
}

/// A scan: TCP SYNs from one source to many addresses on one port.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ScanObs {
    /// Source.
    pub source: IpAddr,
    /// Destination port.
    pub port: u16,
    /// Smallest /8, /16 or /24 holding every target (`a.b.c.0/24`).
    pub range: String,
    /// First probe.
    pub start: Ts,
    /// Last probe.
    pub end: Ts,
    /// Probes.
    pub probes: u64,
    /// Distinct targets (capped at the limit).
    pub targets: u64,
    /// Evidence.
    pub evidence: Evidence,
}

/// One relay request: a connection to a bot asking it to relay.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct RelayObs {
    /// Flow uid.
    pub uid: String,
    /// Spammer (originator).
    pub spammer: IpAddr,
    /// Bot.
    pub bot: IpAddr,
    /// Port on the bot.
    pub port: u16,
    /// `socks4`, `socks5`, `http_connect` or `redirect`.
    pub protocol: String,
    /// Relay target port, when the request names it.
    pub target_port: Option<u16>,
    /// Time.
    pub ts: Ts,
    /// Evidence.
    pub evidence: Evidence,
}

/// Counters of what was dropped to stay within [`Limits`].
#[derive(Clone, Debug, Default, Serialize)]
pub struct Evictions {
    /// Flows not tracked because the flow table was full.
    pub flows: u64,
    /// Flood tallies dropped.
    pub floods: u64,
    /// Scan runs dropped.
    pub scans: u64,
    /// Per-target flood tallies (spoofed-flood detection) dropped.
    #[serde(default)]
    pub flood_targets: u64,
    /// Exploit classifiers dropped for the buffer budget.
    pub classifiers: u64,
}

struct BinHash {
    hasher: Sha256,
    size: u64,
    head: Vec<u8>,
    gap: bool,
    ts: Ts,
    first_pkt: u64,
    last_pkt: u64,
}

#[derive(Default)]
struct FlowSt {
    cls: Option<Box<StreamClassifier>>,
    started: [bool; 2],
    bins: [Option<Box<BinHash>>; 2],
    file: u32,
    relay_done: bool,
    socks5_greeting: bool,
    held: usize,
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
    sources: crate::spread::SourceSpread,
}

type TargetKey = (IpAddr, &'static str, u16, Option<[u8; 6]>);

impl TargetTally {
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

struct ScanRun {
    start: Ts,
    end: Ts,
    probes: u64,
    dsts: std::collections::HashSet<IpAddr>,
    file: u32,
    first_pkt: u64,
    last_pkt: u64,
}

/// The packet-level behaviour sink.
pub struct BehaviorSink {
    limits: Limits,
    flows: HashMap<u64, FlowSt>,
    tallies: HashMap<(IpAddr, IpAddr, &'static str, u16), Tally>,
    targets: HashMap<TargetKey, TargetTally>,
    hosts: HashMap<[u8; 6], MacHost>,
    scans: HashMap<(IpAddr, u16), ScanRun>,
    /// Exploit attempts classified.
    pub exploits: Vec<ExploitEvent>,
    /// Executables seen over TCP.
    pub binaries: Vec<BinaryTransfer>,
    /// Floods found.
    pub floods: Vec<FloodObs>,
    /// Scans found.
    pub scans_found: Vec<ScanObs>,
    /// Relay requests.
    pub relays: Vec<RelayObs>,
    /// What was dropped.
    pub evictions: Evictions,
    /// Bytes of exploit-classifier buffers held at the peak (all flows).
    pub peak_classifier_bytes: usize,
    classifier_bytes: usize,
    now: Ts,
}

impl BehaviorSink {
    /// A sink with the given limits.
    pub fn new(limits: Limits) -> Self {
        BehaviorSink {
            limits,
            flows: HashMap::new(),
            tallies: HashMap::new(),
            targets: HashMap::new(),
            hosts: HashMap::new(),
            scans: HashMap::new(),
            exploits: Vec::new(),
            binaries: Vec::new(),
            floods: Vec::new(),
            scans_found: Vec::new(),
            relays: Vec::new(),
            evictions: Evictions::default(),
            peak_classifier_bytes: 0,
            classifier_bytes: 0,
            now: Ts(0),
        }
    }

    /// Flushes open floods, scans and flows (call once after the last packet).
    pub fn finish(&mut self) {
        for (k, t) in std::mem::take(&mut self.tallies) {
            self.close_tally(k, t);
        }
        for (k, t) in std::mem::take(&mut self.targets) {
            self.close_target(k, t);
        }
        for (k, s) in std::mem::take(&mut self.scans) {
            self.close_scan(k, s);
        }
        let flows: Vec<u64> = self.flows.keys().copied().collect();
        for id in flows {
            if let Some(st) = self.flows.remove(&id) {
                self.classifier_bytes -= st.held;
            }
        }
        self.floods.sort_by_key(|a| (a.start, a.source, a.target));
        self.scans_found.sort_by_key(|a| (a.start, a.source));
        self.exploits
            .sort_by(|a, b| (a.ts, &a.uid).cmp(&(b.ts, &b.uid)));
        self.binaries
            .sort_by(|a, b| (a.ts, &a.uid).cmp(&(b.ts, &b.uid)));
        self.relays
            .sort_by(|a, b| (a.ts, &a.uid).cmp(&(b.ts, &b.uid)));
    }

    fn close_tally(&mut self, k: (IpAddr, IpAddr, &'static str, u16), t: Tally) {
        if t.packets >= FLOOD_MIN_PACKETS {
            self.floods.push(FloodObs {
                source: k.0,
                target: k.1,
                kind: k.2.to_string(),
                port: k.3,
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

    /// The host behind an Ethernet source address: the one IP it carried
    /// TCP data for (none for a router carrying many).
    pub fn host_of(&self, mac: &[u8; 6]) -> Option<IpAddr> {
        self.hosts.get(mac).filter(|h| !h.shared).map(|h| h.ip)
    }

    fn close_target(&mut self, k: TargetKey, t: TargetTally) {
        if t.packets < FLOOD_MIN_PACKETS || !t.spoofed() {
            return;
        }
        // A router's address (shared by many hosts) is not a sender.
        if k.3
            .is_some_and(|m| self.hosts.get(&m).is_some_and(|h| h.shared))
        {
            return;
        }
        let source =
            k.3.and_then(|m| self.host_of(&m))
                .unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED));
        self.floods.push(FloodObs {
            source,
            target: k.0,
            kind: k.1.to_string(),
            port: k.2,
            start: t.start,
            end: t.end,
            packets: t.packets,
            evidence: Evidence {
                file: t.file,
                packets: vec![t.first_pkt, t.last_pkt],
            },
            spoofed: true,
            sources: t.sources.estimate(),
            sender_mac: k.3.as_ref().map(mac_string),
        });
    }

    /// Counts a flood-type packet toward its target and sending host;
    /// true when that target is under a spoofed flood (its new sources
    /// then get no tally of their own).
    fn target_tally(&mut self, pkt: &PacketInfo<'_>, kind: &'static str, port: u16) -> bool {
        let key = (pkt.dst, kind, port, pkt.src_mac);
        if let Some(t) = self.targets.get_mut(&key) {
            if pkt.ts.0 - t.end.0 <= FLOOD_GAP_US {
                t.end = pkt.ts;
                t.packets += 1;
                t.last_pkt = pkt.pkt_no;
                t.sources.insert(pkt.src);
                return t.spoofed();
            }
            let old = self.targets.remove(&key).expect("present");
            self.close_target(key, old);
        }
        if self.targets.len() >= self.limits.max_floods {
            let now = self.now.0;
            let idle: Vec<_> = self
                .targets
                .iter()
                .filter(|(_, t)| now - t.end.0 > FLOOD_GAP_US)
                .map(|(k, _)| *k)
                .collect();
            for k in idle {
                if let Some(t) = self.targets.remove(&k) {
                    self.close_target(k, t);
                }
            }
            if self.targets.len() >= self.limits.max_floods {
                let before = self.targets.len();
                self.targets.retain(|_, t| t.packets >= 8);
                self.evictions.flood_targets += (before - self.targets.len()) as u64;
            }
            if self.targets.len() >= self.limits.max_floods {
                self.evictions.flood_targets += 1;
                return false;
            }
        }
        let mut sources = crate::spread::SourceSpread::default();
        sources.insert(pkt.src);
        self.targets.insert(
            key,
            TargetTally {
                start: pkt.ts,
                end: pkt.ts,
                packets: 1,
                file: pkt.file,
                first_pkt: pkt.pkt_no,
                last_pkt: pkt.pkt_no,
                sources,
            },
        );
        false
    }

    /// Remembers which IP an Ethernet address carried TCP data for.
    fn learn_host(&mut self, pkt: &PacketInfo<'_>) {
        let Some(mac) = pkt.src_mac else { return };
        let full = self.hosts.len() >= MAX_MAC_HOSTS;
        if let Some(h) = self.hosts.get_mut(&mac) {
            if h.ip != pkt.src {
                h.shared = true;
            }
        } else if !full {
            self.hosts.insert(
                mac,
                MacHost {
                    ip: pkt.src,
                    shared: false,
                },
            );
        }
    }

    fn close_scan(&mut self, k: (IpAddr, u16), s: ScanRun) {
        if s.dsts.len() < SCAN_MIN_TARGETS {
            return;
        }
        self.scans_found.push(ScanObs {
            source: k.0,
            port: k.1,
            range: covering_range(s.dsts.iter()),
            start: s.start,
            end: s.end,
            probes: s.probes,
            targets: s.dsts.len() as u64,
            evidence: Evidence {
                file: s.file,
                packets: vec![s.first_pkt, s.last_pkt],
            },
        });
    }

    fn tally(&mut self, pkt: &PacketInfo<'_>, kind: &'static str, port: u16) {
        // Packets through a router (an address seen carrying several
        // hosts' data) keep their per-source tallies: many real senders.
        let spoofed_target = self.target_tally(pkt, kind, port)
            && !pkt
                .src_mac
                .is_some_and(|m| self.hosts.get(&m).is_some_and(|h| h.shared));
        let key = (pkt.src, pkt.dst, kind, port);
        if spoofed_target && !self.tallies.contains_key(&key) {
            return; // one more forged source: counted in the target's tally
        }
        if let Some(t) = self.tallies.get_mut(&key) {
            if pkt.ts.0 - t.end.0 <= FLOOD_GAP_US {
                t.end = pkt.ts;
                t.packets += 1;
                t.last_pkt = pkt.pkt_no;
                return;
            }
            let old = self.tallies.remove(&key).expect("present");
            self.close_tally(key, old);
        }
        if self.tallies.len() >= self.limits.max_floods {
            self.sweep_tallies();
            if self.tallies.len() >= self.limits.max_floods {
                self.evictions.floods += 1;
                return;
            }
        }
        self.tallies.insert(
            key,
            Tally {
                start: pkt.ts,
                end: pkt.ts,
                packets: 1,
                file: pkt.file,
                first_pkt: pkt.pkt_no,
                last_pkt: pkt.pkt_no,
                mac: pkt.src_mac,
            },
        );
    }

    /// Closes tallies idle past the flood gap; when none is idle, drops
    /// the small ones (they cannot be floods yet) and counts them.
    fn sweep_tallies(&mut self) {
        let now = self.now.0;
        let idle: Vec<_> = self
            .tallies
            .iter()
            .filter(|(_, t)| now - t.end.0 > FLOOD_GAP_US)
            .map(|(k, _)| *k)
            .collect();
        for k in idle {
            if let Some(t) = self.tallies.remove(&k) {
                self.close_tally(k, t);
            }
        }
        if self.tallies.len() >= self.limits.max_floods {
            let before = self.tallies.len();
            self.tallies.retain(|_, t| t.packets >= 8);
            self.evictions.floods += (before - self.tallies.len()) as u64;
        }
    }

    fn scan_probe(&mut self, pkt: &PacketInfo<'_>) {
        let key = (pkt.src, pkt.dst_port);
        if let Some(s) = self.scans.get_mut(&key) {
            if pkt.ts.0 - s.end.0 <= SCAN_GAP_US {
                s.end = pkt.ts;
                s.probes += 1;
                s.last_pkt = pkt.pkt_no;
                if s.dsts.len() < self.limits.max_scan_dsts {
                    s.dsts.insert(pkt.dst);
                }
                return;
            }
            let old = self.scans.remove(&key).expect("present");
            self.close_scan(key, old);
        }
        if self.scans.len() >= self.limits.max_scans {
            let now = self.now.0;
            let idle: Vec<_> = self
                .scans
                .iter()
                .filter(|(_, s)| now - s.end.0 > SCAN_GAP_US)
                .map(|(k, _)| *k)
                .collect();
            for k in idle {
                if let Some(s) = self.scans.remove(&k) {
                    self.close_scan(k, s);
                }
            }
            if self.scans.len() >= self.limits.max_scans {
                self.evictions.scans += 1;
                return;
            }
        }
        let mut dsts = std::collections::HashSet::new();
        dsts.insert(pkt.dst);
        self.scans.insert(
            key,
            ScanRun {
                start: pkt.ts,
                end: pkt.ts,
                probes: 1,
                dsts,
                file: pkt.file,
                first_pkt: pkt.pkt_no,
                last_pkt: pkt.pkt_no,
            },
        );
    }

    fn flow_mut(&mut self, id: u64, file: u32) -> Option<&mut FlowSt> {
        if !self.flows.contains_key(&id) {
            if self.flows.len() >= self.limits.max_flows {
                self.evictions.flows += 1;
                return None;
            }
            self.flows.insert(
                id,
                FlowSt {
                    file,
                    ..Default::default()
                },
            );
        }
        self.flows.get_mut(&id)
    }
}

/// The smallest /24, /16 or /8 (IPv4) holding all addresses.
pub fn covering_range<'a>(addrs: impl Iterator<Item = &'a IpAddr>) -> String {
    let v4: Vec<u32> = addrs
        .filter_map(|a| match a {
            IpAddr::V4(x) => Some(u32::from(*x)),
            IpAddr::V6(_) => None,
        })
        .collect();
    let (Some(&lo), Some(&hi)) = (v4.iter().min(), v4.iter().max()) else {
        return "-".into();
    };
    for bits in [24u32, 16, 8] {
        let mask = u32::MAX << (32 - bits);
        if lo & mask == hi & mask {
            return format!("{}/{bits}", std::net::Ipv4Addr::from(lo & mask));
        }
    }
    "0.0.0.0/0".into()
}

/// End of the last section of a PE file, from its headers.
pub fn pe_file_size(head: &[u8]) -> Option<u64> {
    if !head.starts_with(b"MZ") {
        return None;
    }
    let lfanew = u32::from_le_bytes(head.get(0x3c..0x40)?.try_into().ok()?) as usize;
    if head.get(lfanew..lfanew + 4)? != b"PE\0\0" {
        return None;
    }
    let nsec = u16::from_le_bytes(head.get(lfanew + 6..lfanew + 8)?.try_into().ok()?) as usize;
    let opt = u16::from_le_bytes(head.get(lfanew + 20..lfanew + 22)?.try_into().ok()?) as usize;
    let table = lfanew + 24 + opt;
    let mut end = 0u64;
    for i in 0..nsec.min(96) {
        let s = table + 40 * i;
        let size = u32::from_le_bytes(head.get(s + 16..s + 20)?.try_into().ok()?) as u64;
        let ptr = u32::from_le_bytes(head.get(s + 20..s + 24)?.try_into().ok()?) as u64;
        if size > 0 {
            end = end.max(ptr + size);
        }
    }
    (end > 0).then_some(end)
}

/// Kind of a relay request from the first client bytes, with the relay
/// target port when the request names it.
pub fn relay_request(first: &[u8]) -> Option<(&'static str, Option<u16>)> {
    if first.len() >= 8 && first[0] == 4 && first[1] == 1 {
        return Some(("socks4", Some(u16::from_be_bytes([first[2], first[3]]))));
    }
    // SOCKS5 greeting `05 n methods...`; the CONNECT follows the reply.
    if first.len() >= 3
        && first[0] == 5
        && (1..=8).contains(&first[1])
        && first.len() == usize::from(first[1]) + 2
    {
        return Some(("socks5", None));
    }
    if first.len() >= 10 && first[0] == 5 && first[1] == 1 && first[2] == 0 && first[3] == 1 {
        return Some(("socks5", Some(u16::from_be_bytes([first[8], first[9]]))));
    }
    if first.len() > 8 && first[..8].eq_ignore_ascii_case(b"CONNECT ") {
        let line = &first[8..first.len().min(300)];
        let end = line
            .iter()
            .position(|&b| b == b' ' || b == b'\r')
            .unwrap_or(line.len());
        let target = std::str::from_utf8(&line[..end]).ok()?;
        let port = target.rsplit_once(':').and_then(|(_, p)| p.parse().ok());
        return Some(("http_connect", port));
    }
    if first.len() >= 5
        && (first[..5].eq_ignore_ascii_case(b"HELO ") || first[..5].eq_ignore_ascii_case(b"EHLO "))
    {
        return Some(("redirect", Some(25)));
    }
    None
}

impl FlowSink for BehaviorSink {
    fn on_packet(&mut self, pkt: &PacketInfo<'_>, _flow: FlowRef<'_>) {
        self.now = pkt.ts;
        match pkt.proto {
            Proto::Tcp => {
                let f = pkt.tcp_flags.unwrap_or(0);
                let syn = f & 0x02 != 0;
                let ack = f & 0x10 != 0;
                let urg = f & 0x20 != 0;
                if syn && urg && !ack {
                    self.tally(pkt, "syn+urg", pkt.dst_port);
                } else if syn && ack {
                    self.tally(pkt, "syn+ack", pkt.dst_port);
                } else if syn {
                    self.tally(pkt, "syn", pkt.dst_port);
                    self.scan_probe(pkt);
                } else if pkt.payload.len() >= 4 && &pkt.payload[..4] == b"GET " {
                    self.tally(pkt, "http-get", pkt.dst_port);
                }
            }
            Proto::Udp if pkt.fragmented => self.tally(pkt, "fragments", 0),
            Proto::Udp => self.tally(pkt, "udp", pkt.dst_port),
            Proto::Icmp => self.tally(pkt, "icmp", 0),
            Proto::Other if pkt.fragmented => self.tally(pkt, "fragments", 0),
            Proto::Other => {}
        }
    }

    fn on_datagram(&mut self, flow: FlowRef<'_>, dir: Direction, pkt: &PacketInfo<'_>) {
        if pkt.dst_port != 135 || dir != Direction::FromOrig {
            return;
        }
        if let Some(f) = classify_udp135(pkt.payload) {
            self.exploits.push(ExploitEvent {
                ts: pkt.ts,
                uid: flow.uid.to_string(),
                id: *flow.key,
                vector: f.vector,
                detail: f.detail,
                stream_offset: 0,
                evidence: Evidence {
                    file: pkt.file,
                    packets: vec![pkt.pkt_no],
                },
            });
        }
    }

    fn on_stream_data(
        &mut self,
        flow: FlowRef<'_>,
        dir: Direction,
        pkt: &PacketInfo<'_>,
        data: &[u8],
    ) {
        let di = usize::from(dir == Direction::FromResp);
        let key = *flow.key;
        let max_flows = self.limits.max_flows;
        let _ = max_flows;
        self.learn_host(pkt);
        let Some(st) = self.flow_mut(flow.id, pkt.file) else {
            return;
        };
        let first = !st.started[di];
        st.started[di] = true;
        if first {
            if data.starts_with(b"MZ") {
                st.bins[di] = Some(Box::new(BinHash {
                    hasher: Sha256::new(),
                    size: 0,
                    head: Vec::new(),
                    gap: false,
                    ts: pkt.ts,
                    first_pkt: pkt.pkt_no,
                    last_pkt: pkt.pkt_no,
                }));
            }
            if dir == Direction::FromOrig && matches!(data.first(), Some(0x00 | 0x81 | 0x05)) {
                st.cls = Some(Box::new(StreamClassifier::new()));
            }
        }
        if let Some(b) = st.bins[di].as_mut() {
            b.hasher.update(data);
            b.size += data.len() as u64;
            b.last_pkt = pkt.pkt_no;
            if b.head.len() < 4096 {
                let n = (4096 - b.head.len()).min(data.len());
                b.head.extend_from_slice(&data[..n]);
            }
        }
        // Relay requests: the spammer's first bytes to a port other than 25.
        if dir == Direction::FromOrig && !st.relay_done && key.resp_p != 25 {
            let req = if st.socks5_greeting {
                st.relay_done = true;
                relay_request(data)
                    .filter(|r| r.0 == "socks5")
                    .map(|r| ("socks5", r.1))
            } else if first {
                match relay_request(data) {
                    Some(("socks5", None)) => {
                        st.socks5_greeting = true;
                        None
                    }
                    Some(r) => {
                        st.relay_done = true;
                        Some(r)
                    }
                    None => {
                        st.relay_done = true;
                        None
                    }
                }
            } else {
                None
            };
            if let Some((protocol, target_port)) = req {
                self.relays.push(RelayObs {
                    uid: flow.uid.to_string(),
                    spammer: key.orig_h,
                    bot: key.resp_h,
                    port: key.resp_p,
                    protocol: protocol.to_string(),
                    target_port,
                    ts: pkt.ts,
                    evidence: Evidence {
                        file: pkt.file,
                        packets: vec![pkt.pkt_no],
                    },
                });
            }
        }
        let Some(st) = self.flows.get_mut(&flow.id) else {
            return;
        };
        if dir == Direction::FromOrig {
            if let Some(c) = st.cls.as_mut() {
                let before = c.findings.len();
                c.feed(data);
                let new: Vec<_> = c.findings[before..].to_vec();
                let done = c.is_done();
                let held = if done { 0 } else { c.held_bytes() };
                self.classifier_bytes = self.classifier_bytes - st.held + held;
                st.held = held;
                if done {
                    st.cls = None;
                } else if self.classifier_bytes > self.limits.max_classifier_bytes {
                    self.classifier_bytes -= st.held;
                    st.held = 0;
                    st.cls = None;
                    self.evictions.classifiers += 1;
                }
                self.peak_classifier_bytes = self.peak_classifier_bytes.max(self.classifier_bytes);
                for f in new {
                    self.exploits.push(ExploitEvent {
                        ts: pkt.ts,
                        uid: flow.uid.to_string(),
                        id: key,
                        vector: f.vector,
                        detail: f.detail,
                        stream_offset: f.stream_offset,
                        evidence: Evidence {
                            file: pkt.file,
                            packets: vec![pkt.pkt_no],
                        },
                    });
                }
            }
        }
    }

    fn on_stream_gap(&mut self, flow: FlowRef<'_>, dir: Direction, len: u64) {
        let di = usize::from(dir == Direction::FromResp);
        if let Some(st) = self.flows.get_mut(&flow.id) {
            if let Some(b) = st.bins[di].as_mut() {
                b.gap = true;
            }
            if dir == Direction::FromOrig {
                if let Some(c) = st.cls.as_mut() {
                    c.gap(len);
                }
            }
        }
    }

    fn on_flow_end(&mut self, flow: FlowRef<'_>, _conn: &mut Conn) {
        let Some(st) = self.flows.remove(&flow.id) else {
            return;
        };
        self.classifier_bytes -= st.held;
        for (di, b) in st.bins.into_iter().enumerate() {
            let Some(b) = b else { continue };
            let pe_size = pe_file_size(&b.head);
            let complete = !b.gap && pe_size.is_none_or(|p| b.size >= p);
            self.binaries.push(BinaryTransfer {
                uid: flow.uid.to_string(),
                id: *flow.key,
                from_orig: di == 0,
                ts: b.ts,
                size: b.size,
                sha256: hex::encode(b.hasher.finalize()),
                pe_size,
                complete,
                evidence: Evidence {
                    file: st.file,
                    packets: vec![b.first_pkt, b.last_pkt],
                },
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use botscope_core::Proto;
    use std::net::Ipv4Addr;

    fn syn(
        src: Ipv4Addr,
        dst: Ipv4Addr,
        dport: u16,
        ts: i64,
        no: u64,
    ) -> (PacketInfo<'static>, FlowKey) {
        let key = FlowKey {
            orig_h: src.into(),
            orig_p: 1024,
            resp_h: dst.into(),
            resp_p: dport,
            proto: Proto::Tcp,
        };
        let p = PacketInfo {
            ts: Ts(ts),
            file: 0,
            pkt_no: no,
            src: src.into(),
            dst: dst.into(),
            src_port: 1024,
            dst_port: dport,
            proto: Proto::Tcp,
            tcp_flags: Some(0x02),
            ip_len: 40,
            fragmented: false,
            tunnel_depth: 0,
            payload: &[],
            src_mac: None,
        };
        (p, key)
    }

    const BOT_MAC: [u8; 6] = [0x02, 0x00, 0x0a, 0x09, 0x09, 0x09];
    const ROUTER_MAC: [u8; 6] = [0x00, 0x1b, 0x21, 0x3a, 0x0c, 0x01];

    /// 100k SYNs from random forged sources to one target, sent by one
    /// host (one Ethernet source address), alongside that host's own
    /// unspoofed SYN flood and its IRC connection: the spoofed flood is
    /// reported per target with its source spread and attributed to the
    /// host behind the MAC, the unspoofed one per source; state stays
    /// within the limits and no tally is evicted.
    #[test]
    fn spoofed_syn_flood_is_reported_per_target_with_its_spread() {
        let limits = Limits {
            max_floods: 1000,
            max_scans: 1000,
            ..Default::default()
        };
        let mut s = BehaviorSink::new(limits);
        let bot = Ipv4Addr::new(10, 9, 9, 9);
        let target = Ipv4Addr::new(10, 0, 0, 1);
        // The bot's IRC connection carries data: its MAC is its own.
        let (mut p, k) = syn(bot, Ipv4Addr::new(10, 7, 7, 7), 6667, 0, 1);
        p.src_mac = Some(BOT_MAC);
        let f = FlowRef {
            uid: "Circ",
            id: 1 << 40,
            key: &k,
        };
        s.on_stream_data(f, Direction::FromOrig, &p, b"NICK bot\r\n");
        // Forged sources: a xorshift stream, so sources repeat rarely.
        let mut x: u32 = 0x1234_5678;
        let mut distinct = std::collections::HashSet::new();
        for i in 0..100_000u32 {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            distinct.insert(x);
            let (mut p, k) = syn(
                Ipv4Addr::from(x),
                target,
                80,
                1_000_000 + i64::from(i) * 50,
                u64::from(i) * 2 + 2,
            );
            p.src_mac = Some(BOT_MAC);
            s.on_packet(
                &p,
                FlowRef {
                    uid: "C",
                    id: u64::from(i),
                    key: &k,
                },
            );
            let (mut p, k) = syn(
                bot,
                target,
                6667,
                1_000_000 + i64::from(i) * 50,
                u64::from(i) * 2 + 3,
            );
            p.src_mac = Some(BOT_MAC);
            s.on_packet(
                &p,
                FlowRef {
                    uid: "C",
                    id: 0,
                    key: &k,
                },
            );
            assert!(s.tallies.len() <= 1000 && s.scans.len() <= 1000 && s.targets.len() <= 1000);
        }
        s.finish();
        // Detection stopped the per-source churn: nothing was evicted.
        assert_eq!((s.evictions.floods, s.evictions.flood_targets), (0, 0));
        assert_eq!(s.floods.len(), 2, "{:?}", s.floods);
        let sp = s.floods.iter().find(|f| f.spoofed).expect("spoofed flood");
        assert_eq!(
            (sp.target, sp.kind.as_str(), sp.port, sp.packets),
            (IpAddr::V4(target), "syn", 80, 100_000)
        );
        assert_eq!(sp.source, IpAddr::V4(bot));
        assert_eq!(sp.sender_mac.as_deref(), Some("02:00:0a:09:09:09"));
        assert_eq!(
            (sp.start, sp.end),
            (Ts(1_000_000), Ts(1_000_000 + 99_999 * 50))
        );
        assert_eq!(sp.evidence.packets, vec![2, 199_999 + 1]);
        let n = distinct.len() as f64;
        assert!(
            (sp.sources as f64 - n).abs() <= 0.1 * n,
            "estimate {} vs {n} distinct",
            sp.sources
        );
        let real = s.floods.iter().find(|f| !f.spoofed).expect("real flood");
        assert_eq!(
            (real.source, real.port, real.packets, real.sources),
            (IpAddr::V4(bot), 6667, 100_000, 1)
        );
        assert_eq!(real.sender_mac.as_deref(), Some("02:00:0a:09:09:09"));
    }

    /// Many sources through a router's MAC (shared by hosts that carried
    /// data) are not a spoofed flood; neither is a slow trickle from many
    /// sources (background scanning of a sensor).
    #[test]
    fn router_traffic_and_slow_spreads_are_not_spoofed_floods() {
        let mut s = BehaviorSink::new(Limits::default());
        for (i, h) in [Ipv4Addr::new(10, 1, 1, 1), Ipv4Addr::new(10, 1, 1, 2)]
            .into_iter()
            .enumerate()
        {
            let (mut p, k) = syn(h, Ipv4Addr::new(10, 0, 0, 9), 80, 0, 1);
            p.src_mac = Some(ROUTER_MAC);
            let f = FlowRef {
                uid: "C",
                id: 1 << 41 | i as u64,
                key: &k,
            };
            s.on_stream_data(f, Direction::FromOrig, &p, b"GET / HTTP/1.0\r\n\r\n");
        }
        let t1 = Ipv4Addr::new(10, 0, 0, 2);
        let t2 = Ipv4Addr::new(10, 0, 0, 3);
        for i in 0..5_000u32 {
            // Fast, forged-looking, but through the router.
            let (mut p, k) = syn(
                Ipv4Addr::from(0x0b00_0000 + i),
                t1,
                80,
                i64::from(i) * 1_000,
                1,
            );
            p.src_mac = Some(ROUTER_MAC);
            s.on_packet(
                &p,
                FlowRef {
                    uid: "C",
                    id: 7,
                    key: &k,
                },
            );
            // Slow: one SYN every 2 s from a new source, no MAC (raw IP).
            let (p, k) = syn(
                Ipv4Addr::from(0x0c00_0000 + i),
                t2,
                445,
                i64::from(i) * 2_000_000,
                1,
            );
            s.on_packet(
                &p,
                FlowRef {
                    uid: "C",
                    id: 8,
                    key: &k,
                },
            );
        }
        s.finish();
        assert!(s.floods.iter().all(|f| !f.spoofed), "{:?}", s.floods);
        assert!(s.floods.is_empty());
    }

    #[test]
    fn half_open_dce_rpc_flows_respect_the_buffer_budget() {
        let limits = Limits {
            max_classifier_bytes: 4 << 20,
            ..Default::default()
        };
        let mut s = BehaviorSink::new(limits);
        // Each flow announces a 65535-byte PDU and sends 60000 bytes of it.
        let mut pdu = vec![5, 0, 0, 3, 0x10, 0, 0, 0, 0xff, 0xff, 0, 0, 1, 0, 0, 0];
        pdu.resize(60_000, 0x41);
        for i in 0..500u32 {
            let (p, k) = syn(
                Ipv4Addr::from(0x0b00_0000 + i),
                Ipv4Addr::new(10, 0, 0, 1),
                135,
                i64::from(i),
                1,
            );
            s.on_stream_data(
                FlowRef {
                    uid: "C",
                    id: u64::from(i),
                    key: &k,
                },
                Direction::FromOrig,
                &p,
                &pdu,
            );
            assert!(s.classifier_bytes <= 4 << 20);
        }
        assert!(s.evictions.classifiers > 400);
        assert!(s.peak_classifier_bytes <= 4 << 20);
    }

    #[test]
    fn covering_ranges() {
        let a: Vec<IpAddr> = ["10.1.2.3", "10.1.2.200"]
            .iter()
            .map(|s| s.parse().unwrap())
            .collect();
        assert_eq!(covering_range(a.iter()), "10.1.2.0/24");
        let b: Vec<IpAddr> = ["10.1.2.3", "10.1.9.1"]
            .iter()
            .map(|s| s.parse().unwrap())
            .collect();
        assert_eq!(covering_range(b.iter()), "10.1.0.0/16");
    }

    #[test]
    fn relay_requests_by_first_bytes() {
        assert_eq!(
            relay_request(&[4, 1, 0, 25, 10, 0, 0, 1, 0]),
            Some(("socks4", Some(25)))
        );
        assert_eq!(relay_request(&[5, 1, 0]), Some(("socks5", None)));
        assert_eq!(
            relay_request(&[5, 1, 0, 1, 10, 0, 0, 1, 0, 25]),
            Some(("socks5", Some(25)))
        );
        assert_eq!(
            relay_request(b"CONNECT 10.0.0.1:25 HTTP/1.0\r\n\r\n"),
            Some(("http_connect", Some(25)))
        );
        assert_eq!(
            relay_request(b"HELO localhost\r\n"),
            Some(("redirect", Some(25)))
        );
        assert_eq!(relay_request(b"GET / HTTP/1.0\r\n"), None);
    }

    #[test]
    fn pe_size_from_section_table() {
        let mut pe = vec![0u8; 0x200];
        pe[0..2].copy_from_slice(b"MZ");
        pe[0x3c..0x40].copy_from_slice(&0x80u32.to_le_bytes());
        pe[0x80..0x84].copy_from_slice(b"PE\0\0");
        pe[0x86..0x88].copy_from_slice(&2u16.to_le_bytes());
        pe[0x94..0x96].copy_from_slice(&0xe0u16.to_le_bytes());
        let t = 0x80 + 24 + 0xe0;
        for (i, (size, ptr)) in [(0x400u32, 0x400u32), (0x200, 0x800)].iter().enumerate() {
            pe[t + 40 * i + 16..t + 40 * i + 20].copy_from_slice(&size.to_le_bytes());
            pe[t + 40 * i + 20..t + 40 * i + 24].copy_from_slice(&ptr.to_le_bytes());
        }
        assert_eq!(pe_file_size(&pe), Some(0xa00));
        assert_eq!(pe_file_size(b"MZ"), None);
    }
}
