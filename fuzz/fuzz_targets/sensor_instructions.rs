#![no_main]
//! Download-instruction extraction on arbitrary payloads: no panic, bounded
//! output, every host it returns is one the containment check can judge,
//! and the work done is linear in the payload (a fixed cost per byte: a
//! search that re-reads the rest of a line per keyword fails here long
//! before it would time out).
use botscope_sensor::containment::target_for;
use botscope_sensor::instructions::{find_instructions_with_work, MAX_INSTRUCTIONS, MAX_LINE};
use libfuzzer_sys::fuzz_target;

/// Most work per payload byte: two readings (ASCII, UTF-16LE), each about
/// twenty passes plus one window of at most `MAX_LINE` per 10-byte keyword
/// (an FTP script), with room for the shorter keywords' small reads.
const PER_BYTE: u64 = (2 * (MAX_LINE / 10 + 64)) as u64;

fuzz_target!(|data: &[u8]| {
    let (found, work) = find_instructions_with_work(data);
    assert!(found.len() <= MAX_INSTRUCTIONS);
    assert!(
        work.bytes_scanned <= PER_BYTE * data.len() as u64 + PER_BYTE,
        "{work:?} for {} bytes",
        data.len()
    );
    let attacker = "192.0.2.1".parse().unwrap();
    for i in &found {
        if let Ok(t) = target_for(i, attacker) {
            assert_eq!(t.ip(), attacker);
        }
    }
});
