//! Reading ceiling vs engine on one capture, in one run:
//! `cargo run --release -p botscope-capture --example walk -- FILE`
//! prints bare record-walk MB/s, engine MB/s (decode + flows + reassembly)
//! and their ratio.

use botscope_capture::{read_files, walk_records, EngineConfig, FlowSink};
use std::path::PathBuf;
use std::time::Instant;

struct NoOp;
impl FlowSink for NoOp {}

fn main() {
    let Some(path) = std::env::args().nth(1).map(PathBuf::from) else {
        eprintln!("usage: walk FILE");
        std::process::exit(2);
    };
    // `walk FILE walk` or `walk FILE engine` runs one side only (for CPU
    // time measurements with `time` on a loaded machine).
    let only = std::env::args().nth(2);
    if only.as_deref() == Some("walk") {
        let (n, bytes) = walk_records(&path).expect("walk");
        println!("walk packets {n} bytes {bytes}");
        return;
    }
    if only.as_deref() == Some("engine") {
        let cfg = EngineConfig {
            verify_checksums: std::env::var_os("NO_CHECKSUMS").is_none(),
            ..EngineConfig::default()
        };
        let s = read_files(std::slice::from_ref(&path), &cfg, &mut NoOp).expect("engine");
        println!(
            "engine packets {} bytes {} flows {}",
            s.packets, s.bytes, s.flows
        );
        return;
    }
    let t = Instant::now();
    let (n, bytes) = walk_records(&path).expect("walk");
    let walk = t.elapsed().as_secs_f64();
    let cfg = EngineConfig {
        verify_checksums: std::env::var_os("NO_CHECKSUMS").is_none(),
        ..EngineConfig::default()
    };
    let t = Instant::now();
    let s = read_files(std::slice::from_ref(&path), &cfg, &mut NoOp).expect("engine");
    let eng = t.elapsed().as_secs_f64();
    let mb = bytes as f64 / 1e6;
    println!("packets {n} bytes {bytes} flows {}", s.flows);
    println!(
        "walk   {:.3} s  {:.0} MB/s  {:.2} Mpkt/s",
        walk,
        mb / walk,
        n as f64 / walk / 1e6
    );
    println!(
        "engine {:.3} s  {:.0} MB/s  {:.2} Mpkt/s",
        eng,
        mb / eng,
        n as f64 / eng / 1e6
    );
    println!("ratio engine/walk throughput {:.3}", walk / eng);
}
