//! Arbitrary bytes as a zip archive through the store's ingest path
//! (`ingest::zip_entries`, ZipCrypto with the "infected" password): never
//! panics, and what it hands on stays within the per-entry, per-archive
//! and entry-count caps whatever the archive declares.
#![no_main]

use botscope_specimen::ingest::{zip_entries, Limits};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = Limits {
        max_entry: 256 << 10,
        max_archive_total: 1 << 20,
        max_ratio: 200,
        max_entries: 64,
        ..Limits::default()
    };
    let (mut count, mut total) = (0usize, 0u64);
    let rejected = zip_entries("fuzz.zip", data, &limits, &mut |entry| {
        assert!(entry.len() as u64 <= limits.max_entry);
        count += 1;
        total += entry.len() as u64;
        true
    });
    assert!(count <= limits.max_entries);
    assert!(total <= limits.max_archive_total);
    // A buffer that is not a zip at all is one rejection, not silence.
    if count == 0 && !data.windows(4).any(|w| w == b"PK\x05\x06") {
        assert!(rejected.total() >= 1);
    }
});
