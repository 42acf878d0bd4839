#![no_main]
//! Every emulation state machine on arbitrary client bytes, fed in pieces:
//! no panic, and buffered input stays under its cap.
use botscope_sensor::emulate::{Emulator, Personality, MAX_FRAME};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else { return };
    let personality = match sel % 4 {
        0 => Personality::NetbiosSession,
        1 => Personality::Smb,
        2 => Personality::DceRpc,
        _ => Personality::Banner(b"220 hi\r\n"),
    };
    let mut e = Emulator::new(personality);
    let _ = e.greeting();
    for chunk in rest.chunks(1 + (sel as usize % 97)) {
        let out = e.feed(chunk);
        assert!(out.len() <= 2 * MAX_FRAME);
    }
});
