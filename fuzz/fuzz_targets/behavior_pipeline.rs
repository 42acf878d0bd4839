//! What `botscope analyze` runs on a capture, on arbitrary bytes: the
//! capture engine drives every dissector and the behaviour sink side by
//! side (`pipeline::run`, with small limits so eviction paths run), then
//! the analyses and the text and JSON renderings of the report. Never
//! panics; every flow ends in one connection record.
#![no_main]

use botscope_behavior::analysis::Options;
use botscope_behavior::sink::Limits;
use botscope_behavior::{pipeline, render};
use botscope_capture::EngineConfig;
use libfuzzer_sys::fuzz_target;
use std::path::PathBuf;
use std::sync::OnceLock;

/// The file the bytes are written to (the pipeline reads paths, as the
/// subcommand does); one per fuzzing process.
fn scratch() -> &'static PathBuf {
    static P: OnceLock<PathBuf> = OnceLock::new();
    P.get_or_init(|| {
        std::env::temp_dir().join(format!("botscope-fuzz-pipeline-{}.cap", std::process::id()))
    })
}

fuzz_target!(|data: &[u8]| {
    let path = scratch();
    std::fs::write(path, data).expect("scratch file");
    let engine = EngineConfig {
        memory_cap: 1 << 20,
        max_fragments: 16,
        ..EngineConfig::default()
    };
    let limits = Limits {
        max_flows: 64,
        max_floods: 64,
        max_scans: 64,
        max_scan_dsts: 64,
        max_classifier_bytes: 256 << 10,
    };
    let opt = Options {
        honeypot_nets: vec![botscope_core::cidr::Cidr::parse("10.0.0.0/8").unwrap()],
        zone: botscope_core::tz::Zone::Fixed(3600),
        days: None,
        watch: Vec::new(),
    };
    if let Ok((report, summary)) = pipeline::run(std::slice::from_ref(path), &engine, limits, &opt)
    {
        let s = &summary.capture;
        assert!(s.conns == s.flows, "every flow ends in one conn");
        assert!(s.flows <= s.packets, "a flow is only made by a packet");
        let text = render::text(&report);
        assert!(text.len() < 64 << 20);
        serde_json::to_string(&report).expect("report serialises");
        serde_json::to_string(&summary).expect("summary serialises");
    }
});
