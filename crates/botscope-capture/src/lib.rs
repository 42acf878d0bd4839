//! Capture reading (pcap, pcapng, live), link/IP/TCP/UDP decoding, GRE and
//! ERSPAN decapsulation, flows and bounded TCP reassembly.
//!
//! The engine walks packets, keeps flow state under a hard memory cap and
//! hands what it decoded to a [`FlowSink`]: every packet, every UDP
//! datagram, in-order TCP stream bytes per direction, gaps, and the flow's
//! Zeek-style [`Conn`] summary when it ends. Dissectors and analyses are
//! sinks; nothing in this crate knows about application protocols.

use botscope_core::events::Conn;
use botscope_core::{FlowKey, Ts};

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
}

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
}
