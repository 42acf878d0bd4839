#![no_main]
//! Hostile data-folder files: the first byte picks the contract section the
//! rest is written as; build every section and render all three forms.
//! Nothing may panic and output stays bounded.

use botscope_report::build::{file_of, CATALOGUE};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, body)) = data.split_first() else { return };
    let id = CATALOGUE[pick as usize % CATALOGUE.len()].0;
    let folder = botscope_report::DataFolder {
        dir: "fuzz".into(),
        files: vec![(file_of(id), body.into())],
        unreadable: vec![],
    };
    let report = botscope_report::build_report(&folder);
    for f in [botscope_report::Format::Html, botscope_report::Format::Markdown, botscope_report::Format::Json] {
        let out = botscope_report::render(&report, f);
        assert!(out.len() < 64 << 20);
    }
});
