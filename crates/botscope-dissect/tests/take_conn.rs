//! `Analyzer::take_conn` (issue 19): moving the engine's connection record
//! into the emitted one gives the same records as cloning it, service
//! included, on real captures from the repository's `tests/corpus/`.

use botscope_capture::{read_files, EngineConfig};
use botscope_core::events::Event;
use botscope_dissect::{Analyzer, Record};
use std::path::PathBuf;

fn run(take_conn: bool) -> Vec<Record> {
    let corpus = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/corpus");
    let paths: Vec<PathBuf> = [
        "suricata-verify/tests/irc/input.pcap",
        "spicy-tftp/testing/Traces/tftp_rrq.pcap",
        "zeek/testing/btest/Traces/dns53.pcap",
    ]
    .iter()
    .map(|p| corpus.join(p))
    .collect();
    for p in &paths {
        assert!(p.exists(), "missing corpus file {}", p.display());
    }
    let mut an = Analyzer::new(Vec::new());
    an.take_conn = take_conn;
    read_files(&paths, &EngineConfig::default(), &mut an).expect("read");
    an.into_sink()
}

#[test]
fn moved_conn_records_equal_cloned_ones() {
    let cloned = run(false);
    let moved = run(true);
    assert_eq!(moved, cloned);
    let conns: Vec<_> = moved
        .iter()
        .filter_map(|r| match &r.event {
            Event::Conn(c) => Some(c),
            _ => None,
        })
        .collect();
    // Moved records keep what the engine wrote (uid, state, history) and
    // what the analyzer added (service).
    assert!(conns
        .iter()
        .all(|c| !c.uid.is_empty() && !c.conn_state.is_empty()));
    for s in ["irc", "tftp", "dns"] {
        assert!(
            conns.iter().any(|c| c.service.as_deref() == Some(s)),
            "no {s} conn"
        );
    }
}
