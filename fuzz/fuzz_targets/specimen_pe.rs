#![no_main]
//! Whole static analysis of arbitrary bytes: PE walk, goblin imports, UPX
//! unpack, strings, config, IOCs, fuzzy hash. Must never panic.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let a = botscope_specimen::analyze(data);
    if let Some(pe) = &a.pe {
        assert!(pe.sections.len() <= botscope_specimen::pe::MAX_SECTIONS);
    }
});
