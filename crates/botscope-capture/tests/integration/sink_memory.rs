//! What sinks hold for open flows counts against the memory cap
//! (`FlowSink::held_bytes`), and content gaps mark the history like
//! Zeek's (`G`/`g`).

use crate::common::*;
use botscope_capture::{read_bytes, CaptureSummary, EngineConfig, FlowRef, FlowSink, PacketInfo};
use botscope_core::events::Conn;
use std::collections::HashSet;
use std::net::Ipv4Addr;

/// A sink that holds `per_flow` bytes for every flow it was told about
/// and has not seen end (as a dissector holding a line per flow would).
struct Holder {
    per_flow: usize,
    open: HashSet<u64>,
    ended: u64,
    most_held: usize,
}

impl FlowSink for Holder {
    fn on_packet(&mut self, _pkt: &PacketInfo<'_>, flow: FlowRef<'_>) {
        self.open.insert(flow.id);
        self.most_held = self.most_held.max(self.held_bytes());
    }
    fn on_flow_end(&mut self, flow: FlowRef<'_>, _conn: &mut Conn) {
        self.open.remove(&flow.id);
        self.ended += 1;
    }
    fn held_bytes(&self) -> usize {
        self.open.len() * self.per_flow
    }
}

/// 2,000 TCP connections opened one after the other (SYN, SYN-ACK, ACK),
/// none closed.
fn many_open_connections() -> Vec<u8> {
    let mut frames = Vec::new();
    for i in 0..2000u32 {
        let c = Ipv4Addr::from(0x0a00_0000 + i);
        let t = 1_000_000 + 10 * i as i64;
        frames.push((t, tcp_frame(c, B, 40_000, 80, 100, 0, 0x02, b"")));
        frames.push((t + 1, tcp_frame(B, c, 80, 40_000, 900, 101, 0x12, b"")));
        frames.push((t + 2, tcp_frame(c, B, 40_000, 80, 101, 901, 0x10, b"")));
    }
    pcap(1, &frames, false, false)
}

fn run_holding(data: &[u8], cap: usize, per_flow: usize) -> (CaptureSummary, Holder) {
    let cfg = EngineConfig {
        memory_cap: cap,
        ..EngineConfig::default()
    };
    let mut sink = Holder {
        per_flow,
        open: HashSet::new(),
        ended: 0,
        most_held: 0,
    };
    let s = read_bytes("open", data, &cfg, &mut sink).expect("read");
    (s, sink)
}

#[test]
fn sink_held_bytes_count_against_the_memory_cap() {
    let data = many_open_connections();
    // The engine's own state for 2,000 open connections, nothing held.
    let (free, _) = run_holding(&data, 1 << 30, 0);
    assert_eq!(free.evicted_memory, 0);
    assert_eq!(free.peak_sink_memory, 0);
    let engine_only = free.peak_memory as usize;
    // The same run with 1,000 bytes held per open flow and a cap the
    // engine's state alone fits in: flows are ended for the sink's bytes.
    let (s, sink) = run_holding(&data, engine_only, 1000);
    assert!(
        s.peak_memory <= engine_only as u64,
        "{} > {engine_only}",
        s.peak_memory
    );
    assert!(s.evicted_memory > 1000, "evicted {}", s.evicted_memory);
    assert_eq!(s.evicted_sink_memory, s.evicted_memory);
    assert!(s.peak_sink_memory > 0 && s.peak_sink_memory < engine_only as u64);
    // Every connection still ended with its conn record.
    assert_eq!(s.flows, 2000);
    assert_eq!(sink.ended, 2000);
    assert_eq!(s.conns, 2000);
    // Between packets the sink never held more than the cap allowed
    // beyond one packet's growth.
    assert!(sink.most_held <= engine_only + 1000);
}

/// Handshake A:40000 → B:80, then data from A with `holes` gaps of 10
/// bytes, each acknowledged by B (ACK above hole), then FIN both ways.
fn gapped_session(holes: u32, handshake: bool) -> Vec<u8> {
    let mut f = Vec::new();
    let mut t = 1_000_000i64;
    let mut push = |fr: Vec<u8>| {
        t += 1;
        f.push((t, fr));
    };
    if handshake {
        push(tcp_frame(A, B, 40_000, 80, 100, 0, 0x02, b""));
        push(tcp_frame(B, A, 80, 40_000, 900, 101, 0x12, b""));
    }
    push(tcp_frame(A, B, 40_000, 80, 101, 901, 0x10, b""));
    let mut seq = 101u32;
    for _ in 0..holes {
        push(tcp_frame(A, B, 40_000, 80, seq, 901, 0x18, b"0123456789"));
        // 10 bytes never captured, then 10 more, acknowledged by B.
        push(tcp_frame(
            A,
            B,
            40_000,
            80,
            seq + 20,
            901,
            0x18,
            b"abcdefghij",
        ));
        seq += 30;
        push(tcp_frame(B, A, 80, 40_000, 901, seq, 0x10, b""));
    }
    push(tcp_frame(A, B, 40_000, 80, seq, 901, 0x11, b""));
    push(tcp_frame(B, A, 80, 40_000, 901, seq + 1, 0x11, b""));
    push(tcp_frame(A, B, 40_000, 80, seq + 1, 902, 0x10, b""));
    pcap(1, &f, false, false)
}

fn history(data: &[u8]) -> (String, u64) {
    let mut rec = Recorder::default();
    read_bytes("gaps", data, &EngineConfig::default(), &mut rec).expect("read");
    assert_eq!(rec.conns.len(), 1);
    (rec.conns[0].history.to_string(), rec.conns[0].missed_bytes)
}

#[test]
fn content_gaps_are_history_letters_scaled_like_zeek() {
    // One gap: `G` once, after the responder's ack that revealed it.
    assert_eq!(history(&gapped_session(1, true)), ("ShADaGFf".into(), 10));
    // Twelve gaps: `G` at the 1st and the 10th (Zeek's 1, 10, 100...).
    assert_eq!(
        history(&gapped_session(12, true)),
        ("ShADaGGFf".into(), 120)
    );
    // Picked up mid-stream (no handshake): the endpoints are partial, not
    // established, so Zeek gives no gap letter (and no missed bytes).
    let (h, missed) = history(&gapped_session(3, false));
    assert!(!h.contains(['G', 'g']), "{h}");
    assert_eq!(missed, 0);
}
