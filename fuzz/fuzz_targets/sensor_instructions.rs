#![no_main]
//! Download-instruction extraction on arbitrary payloads: no panic, bounded
//! output, and every host it returns is one the containment check can judge.
use botscope_sensor::containment::target_for;
use botscope_sensor::instructions::{find_instructions, MAX_INSTRUCTIONS};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let found = find_instructions(data);
    assert!(found.len() <= MAX_INSTRUCTIONS);
    let attacker = "192.0.2.1".parse().unwrap();
    for i in &found {
        if let Ok(t) = target_for(i, attacker) {
            assert_eq!(t.ip(), attacker);
        }
    }
});
