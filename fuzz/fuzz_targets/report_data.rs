#![no_main]
//! Hostile data-folder JSON: parse with capped arrays, build every section
//! and render all three forms; nothing may panic and output stays bounded.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(v) = serde_json::from_slice::<botscope_report::val::Val>(data) else { return };
    let folder = botscope_report::DataFolder {
        dir: "fuzz".into(),
        files: vec![("analysis.json".into(), v)],
        unreadable: vec![],
    };
    let report = botscope_report::build_report(&folder);
    for f in [botscope_report::Format::Html, botscope_report::Format::Markdown, botscope_report::Format::Json] {
        let out = botscope_report::render(&report, f);
        assert!(out.len() < 64 << 20);
    }
});
