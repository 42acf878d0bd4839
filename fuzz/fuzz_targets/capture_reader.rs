//! Arbitrary bytes as a capture file (pcap, pcapng, gzip, zstd): the engine
//! must never panic and must account for every record it read.
#![no_main]

use botscope_capture::{read_bytes, EngineConfig, FlowSink};
use libfuzzer_sys::fuzz_target;

struct NoOp;
impl FlowSink for NoOp {}

fuzz_target!(|data: &[u8]| {
    let cfg = EngineConfig {
        memory_cap: 1 << 20,
        max_fragments: 16,
        ..EngineConfig::default()
    };
    if let Ok(s) = read_bytes("fuzz", data, &cfg, &mut NoOp) {
        assert!(s.conns == s.flows, "every flow ends in one conn");
        assert!(s.flows <= s.packets, "a flow is only made by a packet");
    }
});
