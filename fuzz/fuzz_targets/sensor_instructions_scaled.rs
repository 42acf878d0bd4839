#![no_main]
//! The fuzz input repeated to a full-size payload (`MAX_SCAN`, 1 MiB): the
//! shape of a quadratic search's worst case (the same keyword over and
//! over). Run with a timeout (`scripts/fuzz.sh` passes `-timeout`): the
//! old search took minutes here. Also asserts the work is at most 16 times
//! that on the first 64 KiB (plus the shorter windows at the edges), so
//! superlinear growth fails even on a fast machine.
use botscope_sensor::instructions::{
    find_instructions_with_work, MAX_INSTRUCTIONS, MAX_LINE, MAX_SCAN,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.is_empty() || data.len() > 4096 {
        return;
    }
    let big: Vec<u8> = data.iter().cycle().take(MAX_SCAN).copied().collect();
    let small = &big[..MAX_SCAN / 16];
    let (found, work) = find_instructions_with_work(&big);
    assert!(found.len() <= MAX_INSTRUCTIONS);
    let (_, small_work) = find_instructions_with_work(small);
    // The prefix's windows near its end are shorter: at most one window
    // per keyword start (every 4 bytes or more) in its last MAX_LINE bytes,
    // for 8 keywords in 2 readings, 16 times over. Allow that and 5%.
    let edge = 16 * 2 * 8 * (MAX_LINE as u64) * (MAX_LINE as u64) / 4;
    assert!(
        work.bytes_scanned * 100 <= small_work.bytes_scanned * 16 * 105 + edge * 100,
        "1 MiB {work:?}, 64 KiB {small_work:?}"
    );
});
