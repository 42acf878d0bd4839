#![no_main]
//! Shellcode finding on arbitrary bytes: no panic, bounded output, and the
//! work linear in the input: at most two bounded runs per GetPC anchor (at
//! most one anchor per byte) plus the decode budget, and a fixed number of
//! scanned bytes per byte. Every reported body, key and port is checked
//! against the bounds the sensor relies on.
use botscope_sensor::shellcode::{
    find_shellcode_with_work, ShellAction, DECODE_BUDGET_BASE, DECODE_BUDGET_PER_BYTE, MAX_BODY,
    MAX_FINDINGS, PREFIX_STEPS, STUB_BACK,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (found, work) = find_shellcode_with_work(data);
    let n = data.len() as u64;
    assert!(found.len() <= MAX_FINDINGS);
    assert!(
        work.steps <= 2 * PREFIX_STEPS * n + DECODE_BUDGET_PER_BYTE * n + DECODE_BUDGET_BASE,
        "{work:?} for {n} bytes"
    );
    // Per byte: the anchor scan, the stub-start search (STUB_BACK), about
    // 24 passes for the key guesses and the plain reading, and the copies
    // decodes write to (paid from the decode budget); per decoded body
    // byte (at most MAX_FINDINGS bodies and 4 guessed stretches): the
    // text search's fixed cost per byte and the body readings.
    let per_body_byte = 300 * ((MAX_FINDINGS + 4) * MAX_BODY) as u64;
    assert!(
        work.bytes_scanned
            <= (STUB_BACK as u64 + 64 + DECODE_BUDGET_PER_BYTE) * n
                + DECODE_BUDGET_BASE
                + per_body_byte,
        "{work:?} for {n} bytes"
    );
    for f in &found {
        assert!(f.offset < data.len());
        assert!(f.body_len <= MAX_BODY && f.body_len > 0);
        assert!(f.key.len() <= 4);
        for a in &f.actions {
            match a {
                ShellAction::BindShell { port } | ShellAction::ConnectBack { port, .. } => {
                    assert_ne!(*port, 0)
                }
                ShellAction::Download(_) => {}
            }
        }
    }
});
