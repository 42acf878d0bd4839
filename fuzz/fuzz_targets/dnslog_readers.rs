//! Every resolver-log reader on arbitrary bytes: first by detection, then
//! forced into each format; plus the dnstap frame decoder and the
//! watch-list parser. Nothing may panic or allocate by an untrusted length.
#![no_main]

use botscope_core::error::SkipCounter;
use botscope_dnslog::read::{dnstap, read_from, FileStats, LogFormat, ReadOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = dnstap::decode_frame(data);
    let _ = dnstap::dns_question(data);
    let formats = [
        None,
        Some(LogFormat::Bind),
        Some(LogFormat::Unbound),
        Some(LogFormat::Dnstap),
        Some(LogFormat::ZeekTsv),
        Some(LogFormat::ZeekJson),
        Some(LogFormat::Csv),
    ];
    for format in formats {
        let opts = ReadOptions {
            format,
            csv_columns: Some("ts=0,client=1,qname=2,server=3".parse().unwrap()),
            // Both the skip and the keep path of undated lines, and a
            // non-zero zone for local stamps.
            keep_undated: format.is_none(),
            tz: botscope_dnslog::read::Zone::Fixed(-5 * 3600),
            reference_time_us: Some(1_700_000_000_000_000),
            ..Default::default()
        };
        let mut skips = SkipCounter::default();
        let mut stats = FileStats::default();
        let mut n = 0u64;
        let mut r: &[u8] = data;
        let _ = read_from(
            &mut r,
            "fuzz",
            &opts,
            &mut |q| n += q.qname.len() as u64,
            &mut skips,
            &mut stats,
        );
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let mut set = botscope_dnslog::NameSet::new();
        let _ = set.read(text.as_bytes(), "fuzz");
    }
});
