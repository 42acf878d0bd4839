//! Integration tests of botscope-dissect (one binary): corpus agreement
//! with Zeek and Suricata, the FTP captures of `tests/realworld` against
//! their peers' baselines, the real IRC bot capture, bad input, and a live
//! capture against a real ngircd.

mod common {
    use botscope_capture::{read_files, CaptureSummary, EngineConfig};
    use botscope_dissect::{Analyzer, Record, Stats};
    use std::path::PathBuf;

    /// The peer corpus in the repository (`<repo>/tests/corpus`).
    pub fn corpus() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/corpus")
    }

    /// The conn records among `records`.
    pub fn conns(records: &[Record]) -> Vec<&botscope_core::events::Conn> {
        records
            .iter()
            .filter_map(|r| match &r.event {
                botscope_core::events::Event::Conn(c) => Some(c),
                _ => None,
            })
            .collect()
    }

    /// Runs the analyzer over capture files.
    pub fn run(paths: &[PathBuf]) -> (Vec<Record>, Stats, CaptureSummary) {
        run_with(paths, &EngineConfig::default())
    }

    /// Runs the analyzer with an engine configuration.
    pub fn run_with(paths: &[PathBuf], cfg: &EngineConfig) -> (Vec<Record>, Stats, CaptureSummary) {
        for p in paths {
            assert!(p.exists(), "missing corpus file {}", p.display());
        }
        let mut an = Analyzer::new(Vec::new());
        an.set_file_names(paths.iter().map(|p| p.display().to_string()).collect());
        let summary = read_files(paths, cfg, &mut an).expect("read");
        an.finish();
        let stats = an.stats.clone();
        (an.into_sink(), stats, summary)
    }
}

#[path = "integration/bad_input.rs"]
mod bad_input;
#[path = "integration/bounded_state.rs"]
mod bounded_state;
#[path = "integration/corpus.rs"]
mod corpus;
#[path = "integration/ftp_logs.rs"]
mod ftp_logs;
#[path = "integration/irc_bot.rs"]
mod irc_bot;
#[path = "integration/live.rs"]
mod live;
#[path = "integration/midstream.rs"]
mod midstream;
#[path = "integration/realworld.rs"]
mod realworld;
#[path = "integration/realworld_irc.rs"]
mod realworld_irc;
#[path = "integration/realworld_p2p.rs"]
mod realworld_p2p;
#[path = "integration/realworld_tftp.rs"]
mod realworld_tftp;
#[path = "integration/suricata.rs"]
mod suricata;
