//! Prints Zeek-like conn lines and the run summary for capture files:
//! `cargo run -p botscope-capture --example conns -- FILE...`

use botscope_capture::{read_files, ConnCollector, EngineConfig};
use std::path::PathBuf;

fn main() {
    let paths: Vec<PathBuf> = std::env::args().skip(1).map(PathBuf::from).collect();
    let mut sink = ConnCollector::default();
    let t = std::time::Instant::now();
    let cfg = EngineConfig {
        verify_checksums: std::env::var_os("NO_CHECKSUMS").is_none(),
        ..EngineConfig::default()
    };
    let summary = match read_files(&paths, &cfg, &mut sink) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    };
    let secs = t.elapsed().as_secs_f64();
    let opt = |v: Option<u64>| v.map_or("-".to_string(), |v| v.to_string());
    for c in &sink.conns {
        println!(
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
            c.ts.zeek(),
            c.uid,
            c.id.orig_h,
            c.id.orig_p,
            c.id.resp_h,
            c.id.resp_p,
            c.id.proto,
            c.duration.map_or("-".to_string(), |d| format!("{d:.6}")),
            opt(c.orig_bytes),
            opt(c.resp_bytes),
            c.conn_state,
            c.missed_bytes,
            if c.history.is_empty() {
                "-"
            } else {
                &c.history
            },
            c.orig_pkts,
            c.orig_ip_bytes,
            c.resp_pkts,
            c.resp_ip_bytes,
            if c.tunnel_parents.is_empty() {
                "-".to_string()
            } else {
                c.tunnel_parents.join(",")
            },
        );
    }
    eprintln!(
        "{} packets, {} bytes, {} flows in {:.3} s ({:.1} MB/s)\n{}",
        summary.packets,
        summary.bytes,
        summary.flows,
        secs,
        summary.bytes as f64 / secs / 1e6,
        serde_json::to_string_pretty(&summary).unwrap_or_default()
    );
}
