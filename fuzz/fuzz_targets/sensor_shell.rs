#![no_main]
//! The emulated cmd.exe on arbitrary typed lines: no panic, and what it
//! holds and asks for stays within its caps (files, bytes, fetches).
use botscope_sensor::shell::{
    CmdShell, ShellStep, MAX_FETCHES, MAX_FILES, MAX_FILE_BYTES, MAX_LINE,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut sh = CmdShell::new();
    let mut fetches = 0;
    for line in data.split(|&b| b == b'\n') {
        let line = String::from_utf8_lossy(line);
        for step in sh.run_line(&line) {
            match step {
                ShellStep::Fetch(_) => fetches += 1,
                ShellStep::Output(t) => assert!(t.len() <= MAX_LINE + 256, "{}", t.len()),
                ShellStep::Exit => {}
            }
        }
        assert!(sh.file_count() <= MAX_FILES);
        assert!(sh.bytes_held() <= MAX_FILES * MAX_FILE_BYTES);
    }
    assert!(fetches <= MAX_FETCHES);
});
