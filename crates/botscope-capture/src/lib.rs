//! Capture reading (pcap, pcapng, live), link/IP/TCP/UDP decoding, GRE and
//! ERSPAN decapsulation, flows and bounded TCP reassembly.
//!
//! The engine walks packets, keeps flow state under a hard memory cap and
//! hands what it decoded to a [`FlowSink`]: every packet, every UDP
//! datagram, in-order TCP stream bytes per direction, gaps, and the flow's
//! Zeek-style [`Conn`] summary when it ends. Dissectors and analyses are
//! sinks; nothing in this crate knows about application protocols.

#![warn(missing_docs)]
#![cfg_attr(not(test), deny(clippy::unwrap_used))]

pub mod accounting;
pub mod connlog;
mod engine;
mod frag;
mod live;
pub mod parallel;
pub mod reader;
mod shared;
mod tcp;

use botscope_core::error::{Located, Location, SkipCounter};
use botscope_core::events::Conn;
use botscope_core::{FlowKey, Ts};
use serde::Serialize;
use std::path::{Path, PathBuf};

pub use engine::Engine;
pub use live::{open_live, read_live, shift_rotated, LiveCapture, PcapLoadError, DROPPED_REASON};

/// Engine limits and timeouts.
#[derive(Clone, Debug)]
pub struct EngineConfig {
    /// Hard cap on flow state plus buffered TCP/fragment data, in bytes.
    /// Over it the least recently active flows are ended early.
    pub memory_cap: usize,
    /// TCP idle timeout (Zeek `tcp_inactivity_timeout`, 5 min).
    pub tcp_idle_secs: u64,
    /// UDP idle timeout (Zeek `udp_inactivity_timeout`, 1 min).
    pub udp_idle_secs: u64,
    /// ICMP and other-protocol idle timeout (Zeek `icmp_inactivity_timeout`, 1 min).
    pub icmp_idle_secs: u64,
    /// Most out-of-order TCP bytes buffered per direction before the hole
    /// in front of them is declared a gap.
    pub reassembly_window: usize,
    /// Most IP datagrams being reassembled from fragments at once.
    pub max_fragments: usize,
    /// Seed for flow uids (same seed and input give the same uids).
    pub uid_seed: u64,
    /// Verify TCP/UDP checksums; a bad one is noted in the history (`C`)
    /// and the packet ignored, as Zeek does without `-C`. `false` forces
    /// [`ChecksumMode::Off`] whatever `checksums` says (kept for callers
    /// that predate `checksums`).
    pub verify_checksums: bool,
    /// IPv4 header, TCP and UDP checksum validation: `On` (default, Zeek's
    /// behaviour: bad packets dropped), `Off`, or `Auto` (decide from the
    /// first packets whether the capture has offloaded checksums).
    pub checksums: ChecksumMode,
}

impl EngineConfig {
    /// The checksum mode asked for, `verify_checksums: false` included.
    pub fn checksum_mode(&self) -> ChecksumMode {
        if self.verify_checksums {
            self.checksums
        } else {
            ChecksumMode::Off
        }
    }
}

/// Checksum validation (IPv4 header, TCP, UDP).
///
/// `Auto` works like Suricata's `checksum-checks: auto`, without losing
/// the packets it looks at: the first [`CHECKSUM_SAMPLE`] packets that
/// carry a checksum are held back and checked; if more than one in
/// [`CHECKSUM_BAD_RATIO`] of them fail (the capture was taken on a host
/// that leaves checksums to the network card), validation is switched
/// off for the whole run, the held packets included; otherwise it stays
/// on. A capture with fewer packets is decided at its end.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChecksumMode {
    /// Decide from the first packets.
    Auto,
    /// Validate; packets with a bad checksum are counted and dropped.
    #[default]
    On,
    /// Do not validate: every packet is processed, none is checked.
    Off,
}

/// Packets (with a checksum) that `auto` checks before deciding.
pub const CHECKSUM_SAMPLE: u64 = 1000;
/// `auto` turns validation off when more than 1 in this many sampled
/// packets have a bad checksum.
pub const CHECKSUM_BAD_RATIO: u64 = 10;

/// A checksum mode name that is none of `auto`, `on`, `off` (or their
/// yes/no, true/false, none spellings).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown checksum mode {0:?} (auto, on, off)")]
pub struct UnknownChecksumMode(pub String);

impl std::str::FromStr for ChecksumMode {
    type Err = UnknownChecksumMode;
    fn from_str(s: &str) -> Result<Self, UnknownChecksumMode> {
        match s.to_ascii_lowercase().as_str() {
            "auto" => Ok(ChecksumMode::Auto),
            "on" | "yes" | "true" => Ok(ChecksumMode::On),
            "off" | "no" | "false" | "none" => Ok(ChecksumMode::Off),
            _ => Err(UnknownChecksumMode(s.to_string())),
        }
    }
}

impl std::fmt::Display for ChecksumMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ChecksumMode::Auto => "auto",
            ChecksumMode::On => "on",
            ChecksumMode::Off => "off",
        })
    }
}

/// What checksum validation did in a run.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ChecksumStats {
    /// The mode asked for.
    pub requested: ChecksumMode,
    /// The mode in effect at the end (`auto` resolves to `on` or `off`).
    pub mode: ChecksumMode,
    /// Packets whose checksums were verified.
    pub checked: u64,
    /// IPv4 headers with a bad checksum.
    pub bad_ip: u64,
    /// TCP segments with a bad checksum.
    pub bad_tcp: u64,
    /// UDP datagrams with a bad checksum.
    pub bad_udp: u64,
    /// Packets dropped for a bad checksum (only when validating).
    pub dropped: u64,
    /// `auto`: packets with a checksum in the sample it decided on.
    pub sampled: u64,
    /// `auto`: how many of them had a bad checksum.
    pub sample_bad: u64,
}

impl std::fmt::Display for ChecksumStats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.requested == ChecksumMode::Auto {
            write!(
                f,
                "checksums auto -> {}: {} of the first {} packets had a bad checksum",
                self.mode, self.sample_bad, self.sampled
            )?;
            if self.mode == ChecksumMode::Off {
                write!(f, " (checksum offload assumed, validation stopped)")?;
            }
        } else {
            write!(f, "checksums {}", self.mode)?;
            if self.mode == ChecksumMode::Off {
                return write!(f, ": not checked");
            }
        }
        write!(
            f,
            "; bad ip {}, tcp {}, udp {} in {} checked; dropped {}",
            self.bad_ip, self.bad_tcp, self.bad_udp, self.checked, self.dropped
        )
    }
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            memory_cap: 1 << 30,
            tcp_idle_secs: 300,
            udp_idle_secs: 60,
            icmp_idle_secs: 60,
            reassembly_window: 1 << 20,
            max_fragments: 1024,
            uid_seed: 0x626f_7473_636f_7065,
            verify_checksums: true,
            checksums: ChecksumMode::On,
        }
    }
}

/// What a run read and decoded.
#[derive(Clone, Debug, Default, Serialize)]
pub struct CaptureSummary {
    /// Packet records read.
    pub packets: u64,
    /// Captured bytes in those records.
    pub bytes: u64,
    /// Flows created.
    pub flows: u64,
    /// Connection records handed to the sink (`on_flow_end`).
    pub conns: u64,
    /// Flows ended because they were idle.
    pub evicted_idle: u64,
    /// Flows ended early because of the memory cap.
    pub evicted_memory: u64,
    /// Of those, the flows ended only because of what the sink held (the
    /// engine's own state alone was under the cap).
    pub evicted_sink_memory: u64,
    /// Most flows held at once.
    pub peak_flows: u64,
    /// Most bytes of flow state held at once: the engine's (flow table,
    /// reassembly, fragments) plus the sink's ([`FlowSink::held_bytes`]),
    /// measured after each packet's evictions.
    pub peak_memory: u64,
    /// Most bytes the sink held at one of those measurements.
    pub peak_sink_memory: u64,
    /// Skipped records and file-level errors, by reason, with places.
    pub skipped: SkipCounter,
    /// Anomalies that did not stop decoding (overlaps...), by reason.
    pub anomalies: SkipCounter,
    /// Errors that ended a file early (truncated, unknown format...).
    pub file_errors: Vec<Located>,
    /// Input files read.
    pub files: u32,
    /// Frames that carried no IP (ARP, LLDP...).
    pub non_ip: u64,
    /// IP fragments seen.
    pub ip_fragments: u64,
    /// Datagrams rebuilt from fragments.
    pub ip_reassembled: u64,
    /// Fragments that overlapped earlier ones (first data kept).
    pub ip_fragment_overlaps: u64,
    /// Overlaps whose bytes differed.
    pub ip_fragment_conflicts: u64,
    /// Partial datagrams dropped unfinished.
    pub ip_fragments_expired: u64,
    /// Tunnel layers removed (GRE, ERSPAN, IP-in-IP).
    pub decapsulated: u64,
    /// Distinct tunnels seen.
    pub tunnels: u64,
    /// Packets ignored for a bad IPv4, TCP or UDP checksum.
    pub bad_checksums: u64,
    /// Checksum validation: mode asked for and in effect, bad checksums
    /// per layer, what `auto` decided on.
    pub checksums: ChecksumStats,
    /// TCP segments that carried only already-seen data.
    pub tcp_retransmissions: u64,
    /// TCP overlaps whose bytes differed from what arrived first.
    pub tcp_overlap_conflicts: u64,
}

/// Errors that stop a run (bad files are counted, not raised).
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    /// An input could not be opened.
    #[error("cannot open {path}: {source}")]
    Open {
        /// The path.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A worker thread of a parallel run stopped on a panic (a bug: no
    /// input should make one).
    #[error("a capture worker thread panicked")]
    WorkerPanicked,
    /// Live capture failed.
    #[error("live capture on {iface}: {reason}")]
    Live {
        /// Interface.
        iface: String,
        /// libpcap's message.
        reason: String,
    },
}

/// Which side of a flow sent something.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    /// From the originator (the side that sent the first packet / SYN).
    FromOrig,
    /// From the responder.
    FromResp,
}

/// A flow as sinks see it.
#[derive(Clone, Copy, Debug)]
pub struct FlowRef<'a> {
    /// Zeek-style uid (`C` + base62), stable for the run.
    pub uid: &'a str,
    /// Dense numeric id, unique within the run (for sink-side tables).
    pub id: u64,
    /// The 5-tuple, originator first.
    pub key: &'a FlowKey,
}

/// One decoded packet, as seen on the wire (innermost IP layer after any
/// GRE/ERSPAN decapsulation).
#[derive(Clone, Copy, Debug)]
pub struct PacketInfo<'a> {
    /// Capture time.
    pub ts: Ts,
    /// Index of the input file in the run.
    pub file: u32,
    /// 1-based record number within that file.
    pub pkt_no: u64,
    /// Source and destination as sent (not oriented to the flow).
    pub src: std::net::IpAddr,
    /// Destination address.
    pub dst: std::net::IpAddr,
    /// Source port (ICMP: type).
    pub src_port: u16,
    /// Destination port (ICMP: code).
    pub dst_port: u16,
    /// Transport protocol.
    pub proto: botscope_core::Proto,
    /// TCP flags byte (FIN=0x01 SYN=0x02 RST=0x04 PSH=0x08 ACK=0x10 URG=0x20).
    pub tcp_flags: Option<u8>,
    /// IP total length (header + payload) of the innermost IP packet.
    pub ip_len: u32,
    /// Whether this packet was reassembled from (or is) an IP fragment.
    pub fragmented: bool,
    /// How many tunnel layers (GRE, ERSPAN) were removed.
    pub tunnel_depth: u8,
    /// Transport payload (may be cut short by the snap length).
    pub payload: &'a [u8],
    /// Source MAC of the frame's innermost Ethernet header (the sending
    /// host or router as the capture point saw it), when the link layer is
    /// Ethernet: what a flood with forged IP sources is attributed to.
    pub src_mac: Option<[u8; 6]>,
}

/// Receives what the engine decodes. All methods have empty defaults so a
/// sink implements only what it needs; several sinks can be combined with
/// a tuple `(A, B)`.
pub trait FlowSink {
    /// Every packet that decoded to a transport layer.
    fn on_packet(&mut self, _pkt: &PacketInfo<'_>, _flow: FlowRef<'_>) {}
    /// One UDP datagram's payload.
    fn on_datagram(&mut self, _flow: FlowRef<'_>, _dir: Direction, _pkt: &PacketInfo<'_>) {}
    /// In-order TCP bytes for one direction. `pkt` is the packet that made
    /// these bytes deliverable.
    fn on_stream_data(
        &mut self,
        _flow: FlowRef<'_>,
        _dir: Direction,
        _pkt: &PacketInfo<'_>,
        _data: &[u8],
    ) {
    }
    /// `len` bytes were lost in one direction (never seen, or evicted from
    /// the reassembly window); stream data resumes after them.
    fn on_stream_gap(&mut self, _flow: FlowRef<'_>, _dir: Direction, _len: u64) {}
    /// The flow ended (FIN/RST, idle eviction, memory-cap eviction or end of
    /// input). The sink may fill in `conn.service`.
    fn on_flow_end(&mut self, _flow: FlowRef<'_>, _conn: &mut Conn) {}
    /// Bytes the sink holds for flows the engine still tracks (line,
    /// header and detection buffers, per-flow dissector state). The engine
    /// counts them against [`EngineConfig::memory_cap`] with its own state
    /// and, over the cap, ends the least recently active flows, which
    /// releases what the sink held for them. Called after every packet,
    /// so it must be cheap (a running total). Default: nothing held.
    fn held_bytes(&self) -> usize {
        0
    }
}

/// The sink that takes nothing (every method's default): for callers whose
/// optional extra sink is absent.
impl FlowSink for () {}

impl<A: FlowSink, B: FlowSink> FlowSink for (A, B) {
    fn on_packet(&mut self, pkt: &PacketInfo<'_>, flow: FlowRef<'_>) {
        self.0.on_packet(pkt, flow);
        self.1.on_packet(pkt, flow);
    }
    fn on_datagram(&mut self, flow: FlowRef<'_>, dir: Direction, pkt: &PacketInfo<'_>) {
        self.0.on_datagram(flow, dir, pkt);
        self.1.on_datagram(flow, dir, pkt);
    }
    fn on_stream_data(
        &mut self,
        flow: FlowRef<'_>,
        dir: Direction,
        pkt: &PacketInfo<'_>,
        data: &[u8],
    ) {
        self.0.on_stream_data(flow, dir, pkt, data);
        self.1.on_stream_data(flow, dir, pkt, data);
    }
    fn on_stream_gap(&mut self, flow: FlowRef<'_>, dir: Direction, len: u64) {
        self.0.on_stream_gap(flow, dir, len);
        self.1.on_stream_gap(flow, dir, len);
    }
    fn on_flow_end(&mut self, flow: FlowRef<'_>, conn: &mut Conn) {
        self.0.on_flow_end(flow, conn);
        self.1.on_flow_end(flow, conn);
    }
    fn held_bytes(&self) -> usize {
        self.0.held_bytes() + self.1.held_bytes()
    }
}

impl<T: FlowSink + ?Sized> FlowSink for &mut T {
    fn on_packet(&mut self, pkt: &PacketInfo<'_>, flow: FlowRef<'_>) {
        (**self).on_packet(pkt, flow)
    }
    fn on_datagram(&mut self, flow: FlowRef<'_>, dir: Direction, pkt: &PacketInfo<'_>) {
        (**self).on_datagram(flow, dir, pkt)
    }
    fn on_stream_data(
        &mut self,
        flow: FlowRef<'_>,
        dir: Direction,
        pkt: &PacketInfo<'_>,
        data: &[u8],
    ) {
        (**self).on_stream_data(flow, dir, pkt, data)
    }
    fn on_stream_gap(&mut self, flow: FlowRef<'_>, dir: Direction, len: u64) {
        (**self).on_stream_gap(flow, dir, len)
    }
    fn on_flow_end(&mut self, flow: FlowRef<'_>, conn: &mut Conn) {
        (**self).on_flow_end(flow, conn)
    }
    fn held_bytes(&self) -> usize {
        (**self).held_bytes()
    }
}

/// Wraps a sink and calls `tick` with every packet before the sink sees
/// it (progress bars, packet-time spans); every other call is forwarded
/// unchanged.
pub struct ProgressSink<S, F> {
    /// The wrapped sink.
    pub inner: S,
    /// Called once per packet, before `inner.on_packet`.
    pub tick: F,
}

impl<S: FlowSink, F: FnMut(&PacketInfo<'_>)> ProgressSink<S, F> {
    /// `inner`, with `tick` called on every packet.
    pub fn new(inner: S, tick: F) -> Self {
        ProgressSink { inner, tick }
    }

    /// The wrapped sink (the callback, and what it borrows, is released).
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S: FlowSink, F: FnMut(&PacketInfo<'_>)> FlowSink for ProgressSink<S, F> {
    fn on_packet(&mut self, pkt: &PacketInfo<'_>, flow: FlowRef<'_>) {
        (self.tick)(pkt);
        self.inner.on_packet(pkt, flow)
    }
    fn on_datagram(&mut self, flow: FlowRef<'_>, dir: Direction, pkt: &PacketInfo<'_>) {
        self.inner.on_datagram(flow, dir, pkt)
    }
    fn on_stream_data(
        &mut self,
        flow: FlowRef<'_>,
        dir: Direction,
        pkt: &PacketInfo<'_>,
        data: &[u8],
    ) {
        self.inner.on_stream_data(flow, dir, pkt, data)
    }
    fn on_stream_gap(&mut self, flow: FlowRef<'_>, dir: Direction, len: u64) {
        self.inner.on_stream_gap(flow, dir, len)
    }
    fn on_flow_end(&mut self, flow: FlowRef<'_>, conn: &mut Conn) {
        self.inner.on_flow_end(flow, conn)
    }
    fn held_bytes(&self) -> usize {
        self.inner.held_bytes()
    }
}

/// Reads capture files in order as one run (flows continue across files)
/// and hands everything to `sink`. A damaged file ends early with a
/// located error in the summary; the other files are still read.
pub fn read_files(
    paths: &[PathBuf],
    cfg: &EngineConfig,
    sink: &mut impl FlowSink,
) -> Result<CaptureSummary, CaptureError> {
    let mut eng = Engine::new(cfg);
    for (i, p) in paths.iter().enumerate() {
        let file = std::fs::File::open(p).map_err(|source| CaptureError::Open {
            path: p.clone(),
            source,
        })?;
        eng.begin_file(i as u32, &p.display().to_string());
        run_stream(&mut eng, Box::new(file), sink);
    }
    eng.finish(sink);
    Ok(eng.summary)
}

/// Reads one capture held in memory (tests, fuzzing). `name` is used in
/// error locations.
pub fn read_bytes(
    name: &str,
    data: &[u8],
    cfg: &EngineConfig,
    sink: &mut impl FlowSink,
) -> Result<CaptureSummary, CaptureError> {
    let mut eng = Engine::new(cfg);
    eng.begin_file(0, name);
    run_stream(
        &mut eng,
        Box::new(std::io::Cursor::new(data.to_vec())),
        sink,
    );
    eng.finish(sink);
    Ok(eng.summary)
}

fn run_stream(eng: &mut Engine<'_>, src: Box<dyn std::io::Read + Send>, sink: &mut dyn FlowSink) {
    let mut rd = match reader::CaptureReader::new(src) {
        Ok(r) => r,
        Err(e) => {
            eng.file_error(e.offset(), e.reason());
            return;
        }
    };
    loop {
        match rd.next_record() {
            Ok(Some(r)) => eng.packet(r.no, r.ts, r.link, r.data, r.orig_len, sink),
            Ok(None) => break,
            Err(e) => {
                eng.file_error(e.offset(), e.reason());
                break;
            }
        }
    }
}

/// Bare record walk (no decoding): packets and captured bytes. This is
/// the reading ceiling the engine is benchmarked against.
pub fn walk_records(path: &Path) -> Result<(u64, u64), CaptureError> {
    let file = std::fs::File::open(path).map_err(|source| CaptureError::Open {
        path: path.to_path_buf(),
        source,
    })?;
    let mut rd = match reader::CaptureReader::new(Box::new(file)) {
        Ok(r) => r,
        Err(_) => return Ok((0, 0)),
    };
    let (mut n, mut bytes) = (0u64, 0u64);
    while let Ok(Some(r)) = rd.next_record() {
        n += 1;
        bytes += r.data.len() as u64;
    }
    Ok((n, bytes))
}

/// A location for a record of a file (helper for callers' messages).
pub fn record_location(file: &str, packet: u64) -> Location {
    Location {
        file: file.to_string(),
        packet: Some(packet),
        offset: None,
        line: None,
    }
}

/// A sink that keeps every connection record (handy for callers that
/// only want `conn.log`).
#[derive(Debug, Default)]
pub struct ConnCollector {
    /// Connection records in the order flows ended.
    pub conns: Vec<Conn>,
}

impl FlowSink for ConnCollector {
    fn on_flow_end(&mut self, _flow: FlowRef<'_>, conn: &mut Conn) {
        self.conns.push(conn.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksum_mode_names_parse_and_unknown_ones_are_a_typed_error() {
        assert_eq!("AUTO".parse::<ChecksumMode>(), Ok(ChecksumMode::Auto));
        assert_eq!("no".parse::<ChecksumMode>(), Ok(ChecksumMode::Off));
        let e = "sometimes".parse::<ChecksumMode>().unwrap_err();
        assert_eq!(e, UnknownChecksumMode("sometimes".into()));
        assert_eq!(
            e.to_string(),
            "unknown checksum mode \"sometimes\" (auto, on, off)"
        );
    }
}
