//! The packet-level observations behind the behaviour tables, as a
//! [`FlowSink`] beside [`crate::Analyzer`]: exploit classification
//! ([`crate::exploit`]), executables over TCP ([`crate::binary`]), relay
//! requests ([`crate::relay`]), floods ([`crate::flood`]) and scans
//! ([`crate::scan`]). State is bounded by [`Limits`]; what was dropped is
//! counted in [`Evictions`]. After [`Observer::finish`], the observations
//! are sorted and [`Observer::events`] gives them as typed events.

use crate::binary::BinaryState;
use crate::exploit::{classify_udp135, StreamClassifier};
use crate::flood::FloodTracker;
use crate::relay::RelayState;
use crate::scan::ScanTracker;
use crate::FlowCtx;
use botscope_capture::{Direction, FlowRef, FlowSink, PacketInfo};
use botscope_core::events::{BinaryTransfer, Conn, Event, Evidence, FloodObs, RelayObs, ScanObs};
use botscope_core::exploit::ExploitEvent;
use botscope_core::hash::FastMap;
use serde::Serialize;

/// Limits on what the observer keeps.
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

/// What the observer keeps per TCP flow.
#[derive(Default)]
struct FlowSt {
    cls: Option<Box<StreamClassifier>>,
    started: [bool; 2],
    bins: [Option<Box<BinaryState>>; 2],
    file: u32,
    relay: RelayState,
    /// Classifier bytes accounted for this flow.
    held: usize,
}

/// The packet-level observer.
pub struct Observer {
    limits: Limits,
    flows: FastMap<u64, FlowSt>,
    /// Flood tallies.
    pub flood: FloodTracker,
    /// Scan runs.
    pub scan: ScanTracker,
    /// Exploit attempts classified.
    pub exploits: Vec<ExploitEvent>,
    /// Executables seen over TCP.
    pub binaries: Vec<BinaryTransfer>,
    /// Floods found (filled by [`Observer::finish`]).
    pub floods: Vec<FloodObs>,
    /// Scans found (filled by [`Observer::finish`]).
    pub scans_found: Vec<ScanObs>,
    /// Relay requests.
    pub relays: Vec<RelayObs>,
    /// What was dropped (flood and scan counts as of [`Observer::finish`]).
    pub evictions: Evictions,
    /// Bytes of exploit-classifier buffers held at the peak (all flows).
    pub peak_classifier_bytes: usize,
    classifier_bytes: usize,
}

impl Observer {
    /// An observer with the given limits.
    pub fn new(limits: Limits) -> Self {
        Observer {
            flood: FloodTracker::new(limits.max_floods),
            scan: ScanTracker::new(limits.max_scans, limits.max_scan_dsts),
            limits,
            flows: FastMap::default(),
            exploits: Vec::new(),
            binaries: Vec::new(),
            floods: Vec::new(),
            scans_found: Vec::new(),
            relays: Vec::new(),
            evictions: Evictions::default(),
            peak_classifier_bytes: 0,
            classifier_bytes: 0,
        }
    }

    /// Flushes open floods, scans and flows and sorts every observation
    /// (call once after the last packet).
    pub fn finish(&mut self) {
        self.flood.finish();
        self.scan.finish();
        self.floods.append(&mut self.flood.floods);
        self.scans_found.append(&mut self.scan.scans);
        for (_, st) in self.flows.drain() {
            self.classifier_bytes -= st.held;
        }
        self.evictions.floods = self.flood.evicted_tallies;
        self.evictions.flood_targets = self.flood.evicted_targets;
        self.evictions.scans = self.scan.evicted;
        sort_observations(&mut self.exploits, &mut self.binaries, &mut self.relays);
    }

    /// The observations as events: exploits, binaries, floods, scans,
    /// relays, each kind in its sorted order.
    pub fn events(&self) -> impl Iterator<Item = Event> + '_ {
        let e = self.exploits.iter().cloned().map(Event::Exploit);
        let b = self.binaries.iter().cloned().map(Event::Binary);
        let f = self
            .floods
            .iter()
            .cloned()
            .map(|flood| Event::Flood { flood });
        let s = self.scans_found.iter().cloned().map(Event::Scan);
        let r = self.relays.iter().cloned().map(Event::Relay);
        e.chain(b).chain(f).chain(s).chain(r)
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

    /// Feeds client bytes to the flow's exploit classifier, within the
    /// classifiers' shared buffer budget.
    fn classify(&mut self, ctx: &FlowCtx<'_>, id: u64, data: &[u8]) {
        let Some(st) = self.flows.get_mut(&id) else {
            return;
        };
        let Some(c) = st.cls.as_mut() else { return };
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
                ts: ctx.ts,
                uid: ctx.uid.to_string(),
                id: *ctx.key,
                vector: f.vector,
                detail: f.detail,
                stream_offset: f.stream_offset,
                evidence: Evidence {
                    file: ctx.file,
                    packets: vec![ctx.pkt_no],
                },
            });
        }
    }
}

/// The order every reader of these observations uses (a capture run and
/// events read back from disk sort alike): by time, then flow uid.
pub fn sort_observations(
    exploits: &mut [ExploitEvent],
    binaries: &mut [BinaryTransfer],
    relays: &mut [RelayObs],
) {
    exploits.sort_by(|a, b| (a.ts, &a.uid).cmp(&(b.ts, &b.uid)));
    binaries.sort_by(|a, b| (a.ts, &a.uid).cmp(&(b.ts, &b.uid)));
    relays.sort_by(|a, b| (a.ts, &a.uid).cmp(&(b.ts, &b.uid)));
}

impl FlowSink for Observer {
    fn on_packet(&mut self, pkt: &PacketInfo<'_>, _flow: FlowRef<'_>) {
        // One look at the flags: a bare SYN is a scan probe too.
        if self.flood.on_packet(pkt) == Some(crate::flood::FloodKind::Syn) {
            self.scan.on_syn(pkt);
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
        let from_orig = dir == Direction::FromOrig;
        let ctx = FlowCtx {
            uid: flow.uid,
            key: flow.key,
            ts: pkt.ts,
            file: pkt.file,
            pkt_no: pkt.pkt_no,
        };
        self.flood.learn_host(pkt);
        let Some(st) = self.flow_mut(flow.id, pkt.file) else {
            return;
        };
        let first = !st.started[di];
        st.started[di] = true;
        if first {
            st.bins[di] = BinaryState::start(&ctx, data).map(Box::new);
            if from_orig && matches!(data.first(), Some(0x00 | 0x81 | 0x05)) {
                st.cls = Some(Box::new(StreamClassifier::new()));
            }
        }
        if let Some(b) = st.bins[di].as_mut() {
            b.on_data(pkt.pkt_no, data);
        }
        if from_orig {
            if let Some(r) = st.relay.on_client_data(&ctx, first, data) {
                self.relays.push(r);
            }
            self.classify(&ctx, flow.id, data);
        }
    }

    fn on_stream_gap(&mut self, flow: FlowRef<'_>, dir: Direction, len: u64) {
        let di = usize::from(dir == Direction::FromResp);
        if let Some(st) = self.flows.get_mut(&flow.id) {
            if let Some(b) = st.bins[di].as_mut() {
                b.on_gap();
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
            // The transfer's evidence names the file the flow started in.
            let ctx = FlowCtx {
                uid: flow.uid,
                key: flow.key,
                ts: botscope_core::Ts(0),
                file: st.file,
                pkt_no: 0,
            };
            self.binaries.push(b.finish(&ctx, di == 0));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use botscope_core::{FlowKey, Proto, Ts};
    use std::net::IpAddr;
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
        let mut s = Observer::new(limits);
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
        let mut distinct = botscope_core::hash::FastSet::default();
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
            assert!(
                s.flood.open_tallies() <= 1000
                    && s.scan.open_runs() <= 1000
                    && s.flood.open_targets() <= 1000
            );
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
        let mut s = Observer::new(Limits::default());
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
        let mut s = Observer::new(limits);
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
}
