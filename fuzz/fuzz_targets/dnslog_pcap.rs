//! DNS queries from arbitrary capture bytes: the capture engine plus the
//! query extraction (UDP and length-framed TCP). Nothing may panic, hang
//! or allocate by an untrusted length.
#![no_main]

use botscope_core::error::SkipCounter;
use botscope_dnslog::read::{pcap, FileStats};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut skips = SkipCounter::default();
    let mut stats = FileStats::default();
    let mut n = 0u64;
    let _ = pcap::read_capture(
        Box::new(std::io::Cursor::new(data.to_vec())),
        "fuzz",
        &mut |q| n += q.qname.len() as u64,
        &mut skips,
        &mut stats,
    );
});
