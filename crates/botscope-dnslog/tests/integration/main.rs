//! Integration tests of botscope-dnslog (one test binary, several modules).

mod bad_input;
mod corpus;
mod dga_field;
mod dga_thirdparty;
mod pcap;
mod servers;
mod shapes;
mod spark;
mod synth;

use botscope_core::error::SkipCounter;
use botscope_dnslog::read::{read_input, FileStats, ReadOptions};
use std::path::PathBuf;

/// The peer corpus in the repository (`<repo>/tests/corpus`, see its README).
pub fn corpus() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/corpus")
}

/// Test inputs written for botscope (`tests/data`).
pub fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

/// A query as owned values: (ts µs, client, qname, server).
pub type Owned = (i64, String, String, Option<String>);

/// Reads a file and returns every query, the stats and the skips.
pub fn read_all(path: &str, opts: &ReadOptions) -> (Vec<Owned>, FileStats, SkipCounter) {
    let mut out = Vec::new();
    let mut skips = SkipCounter::default();
    let stats = read_input(
        path,
        opts,
        &mut |q| {
            out.push((
                q.ts_us,
                q.client.to_string(),
                String::from_utf8_lossy(q.qname).into_owned(),
                q.server.map(|s| s.to_string()),
            ))
        },
        &mut skips,
    );
    (out, stats, skips)
}
