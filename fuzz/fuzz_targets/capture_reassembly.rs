//! TCP reassembly under arbitrary segment orders, overlaps, flags and
//! sequence jumps between two fixed hosts. Invariant: delivered bytes plus
//! gaps never exceed the sequence span each side sent, and nothing panics.
#![no_main]

use botscope_capture::{read_bytes, Direction, EngineConfig, FlowRef, FlowSink, PacketInfo};
use libfuzzer_sys::fuzz_target;
use std::collections::HashMap;

#[derive(Default)]
struct Check {
    delivered: HashMap<(u64, bool), u64>,
}

impl FlowSink for Check {
    fn on_stream_data(&mut self, f: FlowRef<'_>, d: Direction, _p: &PacketInfo<'_>, data: &[u8]) {
        *self
            .delivered
            .entry((f.id, d == Direction::FromOrig))
            .or_default() += data.len() as u64;
    }
    fn on_stream_gap(&mut self, f: FlowRef<'_>, d: Direction, len: u64) {
        *self
            .delivered
            .entry((f.id, d == Direction::FromOrig))
            .or_default() += len;
    }
}

fn frame(from_a: bool, seq: u32, ack: u32, flags: u8, payload: &[u8]) -> Vec<u8> {
    let (s, d, sp, dp) = if from_a {
        ([10, 0, 0, 1], [10, 0, 0, 2], 1111u16, 80u16)
    } else {
        ([10, 0, 0, 2], [10, 0, 0, 1], 80, 1111)
    };
    let total = 40 + payload.len();
    let mut f = vec![0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x08, 0x00];
    f.extend_from_slice(&[
        0x45,
        0,
        (total >> 8) as u8,
        total as u8,
        0,
        0,
        0x40,
        0,
        64,
        6,
        0,
        0,
    ]);
    f.extend_from_slice(&s);
    f.extend_from_slice(&d);
    f.extend_from_slice(&sp.to_be_bytes());
    f.extend_from_slice(&dp.to_be_bytes());
    f.extend_from_slice(&seq.to_be_bytes());
    f.extend_from_slice(&ack.to_be_bytes());
    f.extend_from_slice(&[0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
    f.extend_from_slice(payload);
    f
}

fuzz_target!(|data: &[u8]| {
    // Each segment: [dir|flags, seq delta hi, seq delta lo, ack delta, len] + payload.
    let mut pcap = vec![
        0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 1, 0, 0, 0,
    ];
    let mut rest = data;
    let base = [0xffff_ff00u32, 0x1000];
    let mut n = 0u32;
    while rest.len() >= 5 && n < 2000 {
        let from_a = rest[0] & 0x80 != 0;
        let flags = rest[0] & 0x3f;
        let seq =
            base[!from_a as usize].wrapping_add(u16::from_be_bytes([rest[1], rest[2]]) as u32);
        let ack = base[from_a as usize].wrapping_add(rest[3] as u32 * 16);
        let len = (rest[4] as usize).min(rest.len() - 5);
        let f = frame(from_a, seq, ack, flags, &rest[5..5 + len]);
        rest = &rest[5 + len..];
        pcap.extend_from_slice(&n.to_le_bytes());
        pcap.extend_from_slice(&0u32.to_le_bytes());
        pcap.extend_from_slice(&(f.len() as u32).to_le_bytes());
        pcap.extend_from_slice(&(f.len() as u32).to_le_bytes());
        pcap.extend_from_slice(&f);
        n += 1;
    }
    let cfg = EngineConfig {
        verify_checksums: false,
        reassembly_window: 4096,
        memory_cap: 1 << 20,
        ..EngineConfig::default()
    };
    let mut check = Check::default();
    let s = read_bytes("fuzz", &pcap, &cfg, &mut check).expect("in-memory read");
    assert_eq!(s.packets, n as u64);
    // Sequence deltas are below 2^16 + 2^8, so no direction can deliver
    // (data + gaps) more than that.
    for (k, v) in check.delivered {
        assert!(v <= 70_000, "{k:?} delivered {v}");
    }
});
