#![no_main]
//! Config extraction on arbitrary bytes: as one unmapped region, and split
//! into two mapped segments (so pointer tables and name/value pointers are
//! followed across them). Must never panic, and whatever it returns must
//! satisfy the classes it was built from.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    use botscope_specimen::config::{extract, extract_region, is_channel, is_keyish, Segment};
    use botscope_specimen::strings::is_host;
    let check = |e: &botscope_specimen::config::Extracted| {
        assert!(!e.config.servers.is_empty());
        for s in &e.config.servers {
            assert!(is_host(&s.host), "{:?}", s.host);
        }
        let block = e.layout == botscope_specimen::config::Layout::Block;
        assert!(block || e.config.channel.is_empty() || is_channel(&e.config.channel));
        if let Some(k) = &e.config.key {
            assert!(block || is_keyish(k));
        }
        assert!(!e.evidence.is_empty());
    };
    if let Some(e) = extract_region(data) {
        check(&e);
    }
    if data.len() >= 8 {
        let cut = usize::from(data[0]) * data.len() / 256;
        let (a, b) = data.split_at(cut);
        let segs = [
            Segment {
                name: ".data",
                va: Some(0x0040_9000),
                bytes: a,
            },
            Segment {
                name: ".rdata",
                va: Some(0x0040_9000 + a.len() as u64),
                bytes: b,
            },
        ];
        if let Some(e) = extract(&segs) {
            check(&e);
        }
    }
});
