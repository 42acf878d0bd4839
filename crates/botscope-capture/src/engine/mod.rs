//! The packet engine: link/IP/transport decoding, tunnel decapsulation,
//! fragment reassembly, the flow table with idle and memory-cap eviction,
//! and Zeek-style connection summaries.
//!
//! Split along its seams: [`decode`] (link, IP, tunnels, fragments,
//! transport headers), [`checksums`], [`table`] (slab, map, LRU lists,
//! expiry and the memory cap), [`flow`] (the flow record and per-packet
//! update), [`tcp_state`] (history letters, endpoint states, reassembly),
//! [`summary`] (the conn record) and [`uid`].

mod checksums;
mod decode;
mod flow;
mod summary;
mod table;
mod tcp_state;
mod uid;

pub(crate) use decode::{framing, Framing};

use crate::frag::FragTable;
use crate::tcp::Endpoint;
use crate::{CaptureSummary, ChecksumMode, EngineConfig, FlowSink};
use botscope_core::error::{Located, Location};
// Tunnel endpoints come off the wire (attacker-chosen): the core hasher is
// seeded per process (see `botscope_core::hash`); the map is never
// iterated, so the seed never changes the output.
use botscope_core::hash::FastMap;
use botscope_core::Ts;
use checksums::{Checks, Held};
use decode::Ctx;
use std::net::IpAddr;
use table::FlowTable;
pub use uid::Uid;

/// The engine state for one run (one or several files).
pub struct Engine<'c> {
    cfg: &'c EngineConfig,
    flows: FlowTable,
    frags: FragTable,
    tunnels: FastMap<(IpAddr, IpAddr, u8), Uid>,
    next_flow: u64,
    /// Run-wide number of the packet being processed (1-based over all
    /// files; a worker thread's engine is told it): new flows' uids
    /// derive from it.
    seq: u64,
    now: Ts,
    mem: usize,
    /// Counters.
    pub summary: CaptureSummary,
    file_idx: u32,
    file_name: String,
    pkt_no: u64,
    checks: Checks,
    held: Vec<Held>,
    held_bytes: usize,
    /// Endpoint pairs of ended TCP flows, reset and reused: a new TCP
    /// flow costs no allocation once the pool is warm. Boxed on purpose:
    /// flows hold the box, and the pool hands the same allocation back.
    #[allow(clippy::vec_box)]
    ep_pool: Vec<Box<[Endpoint; 2]>>,
}

impl<'c> Engine<'c> {
    /// A fresh engine.
    pub fn new(cfg: &'c EngineConfig) -> Engine<'c> {
        let mode = cfg.checksum_mode();
        let mut summary = CaptureSummary::default();
        summary.checksums.requested = mode;
        summary.checksums.mode = mode;
        Engine {
            cfg,
            flows: FlowTable::new(),
            frags: FragTable::new(cfg.max_fragments),
            tunnels: FastMap::default(),
            next_flow: 0,
            seq: 0,
            now: Ts(i64::MIN),
            mem: 0,
            summary,
            file_idx: 0,
            file_name: String::new(),
            pkt_no: 0,
            checks: match mode {
                ChecksumMode::On => Checks::Verify,
                ChecksumMode::Off => Checks::Skip,
                ChecksumMode::Auto => Checks::Sampling,
            },
            held: Vec::new(),
            held_bytes: 0,
            ep_pool: Vec::new(),
        }
    }

    /// Starts a new input file.
    pub fn begin_file(&mut self, idx: u32, name: &str) {
        self.file_idx = idx;
        self.file_name = name.to_string();
        self.pkt_no = 0;
        self.summary.files += 1;
    }

    fn loc(&self) -> Location {
        Location {
            file: self.file_name.clone(),
            packet: Some(self.pkt_no),
            offset: None,
            line: None,
        }
    }

    fn skip(&mut self, reason: &str) {
        let e = Located {
            location: self.loc(),
            reason: reason.to_string(),
        };
        self.summary.skipped.add(&e);
    }

    fn anomaly(&mut self, reason: &str) {
        let e = Located {
            location: self.loc(),
            reason: reason.to_string(),
        };
        self.summary.anomalies.add(&e);
    }

    /// Processes one link-layer frame.
    pub fn packet(
        &mut self,
        pkt_no: u64,
        ts: Ts,
        link: u32,
        data: &[u8],
        orig_len: u32,
        sink: &mut dyn FlowSink,
    ) {
        let seq = self.summary.packets + 1;
        self.packet_at(seq, ts, pkt_no, ts, link, data, orig_len, sink);
    }

    /// [`Engine::packet`] for a packet whose run-wide number is `seq`
    /// and at whose place in the run the latest packet time was `now`
    /// (the worker threads of `crate::parallel` see only some packets,
    /// so both come from the dispatcher: idle expiry and uids then do not
    /// depend on how packets were spread).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn packet_at(
        &mut self,
        seq: u64,
        now: Ts,
        pkt_no: u64,
        ts: Ts,
        link: u32,
        data: &[u8],
        orig_len: u32,
        sink: &mut dyn FlowSink,
    ) {
        self.seq = seq;
        self.pkt_no = pkt_no;
        self.summary.packets += 1;
        self.summary.bytes += data.len() as u64;
        self.advance(now.max(ts), sink);
        let ctx = Ctx {
            ts,
            caplen_cut: (orig_len as usize) > data.len(),
            tunnel_depth: 0,
            tunnel_parent: None,
            fragmented: false,
            bad: 0,
            src_mac: None,
        };
        self.link(ctx, link, data, sink);
    }

    /// Moves packet time forward to `now` (if later), ending idle flows.
    pub(crate) fn advance(&mut self, now: Ts, sink: &mut dyn FlowSink) {
        if now > self.now {
            self.now = now;
            // Held packets have not reached their flows yet: expiry waits
            // for them (it runs as they are replayed).
            if self.checks != Checks::Sampling {
                self.expire(sink);
            }
        }
    }

    /// Whether `auto` checksum mode has decided (always true otherwise).
    pub(crate) fn checksums_decided(&self) -> bool {
        self.checks != Checks::Sampling
    }

    /// Ends every remaining flow (end of input), oldest first.
    pub fn finish(&mut self, sink: &mut dyn FlowSink) {
        if self.checks == Checks::Sampling {
            self.decide_checksums(sink);
        }
        let mut live: Vec<(u64, u32)> = self
            .flows
            .slots
            .iter()
            .enumerate()
            .filter(|(_, s)| s.list != table::L_FREE)
            .map(|(i, s)| (s.flow.id, i as u32))
            .collect();
        live.sort_unstable();
        for (_, i) in live {
            self.end_flow(i, sink);
        }
        self.summary.ip_fragment_overlaps = self.frags.overlaps;
        self.summary.ip_fragment_conflicts = self.frags.conflicting_overlaps;
        self.summary.ip_fragments_expired = self.frags.expired + self.frags.pending() as u64;
    }

    /// Bytes of flow state currently accounted.
    pub fn memory(&self) -> usize {
        self.mem + self.frags.bytes
    }

    /// Records a located file-level error.
    pub fn file_error(&mut self, offset: Option<u64>, reason: String) {
        let e = Located {
            location: Location {
                file: self.file_name.clone(),
                packet: Some(self.pkt_no + 1),
                offset,
                line: None,
            },
            reason,
        };
        self.summary.skipped.add(&e);
        if self.summary.file_errors.len() < 64 {
            self.summary.file_errors.push(e);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{FlowRef, PacketInfo};
    use std::collections::BTreeMap;

    /// The uid text of every flow and the number of its first packet.
    #[derive(Default)]
    struct FirstPackets(BTreeMap<String, u64>);

    impl FlowSink for FirstPackets {
        fn on_packet(&mut self, pkt: &PacketInfo<'_>, flow: FlowRef<'_>) {
            self.0.entry(flow.uid.to_string()).or_insert(pkt.pkt_no);
        }
    }

    #[test]
    fn flow_uids_derive_from_the_number_of_their_first_packet() {
        // The uid definition (`uid::derive_uid`, checked digit by digit against
        // its reference in `uid::tests`) fed with the run-wide number of
        // the packet that opened the flow (one file: its record number).
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/corpus/zeek/testing/btest/Traces/irc-dcc-send.pcapng");
        let data = std::fs::read(path).expect("corpus capture");
        let cfg = EngineConfig {
            checksums: ChecksumMode::Off,
            ..EngineConfig::default()
        };
        let mut sink = FirstPackets::default();
        crate::read_bytes("dcc", &data, &cfg, &mut sink).expect("read");
        assert_eq!(sink.0.len(), 3);
        let mut firsts: Vec<u64> = sink.0.values().copied().collect();
        firsts.sort_unstable();
        assert_eq!(firsts[0], 1);
        for (text, first) in &sink.0 {
            assert_eq!(text, uid::derive_uid(b'C', cfg.uid_seed, *first).as_str());
        }
    }
}
