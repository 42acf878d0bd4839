//! Throughput of `botscope analyze` against the capture engine alone on the
//! same file, in one run: `analyze_bench CAPTURE...`. Prints both rates and
//! their ratio (the bar is ≥ 80 %). `analyze_bench --synth SCALE DIR`
//! generates a synthetic field into DIR first.
//!
//! `analyze_bench --dump OUT CAPTURE...` runs the analysis once and writes
//! what `botscope analyze --out OUT --json` would (the tables, `series/`,
//! `summary.json`, the report as JSON and as text) with no engine run:
//! outputs before and after a change are compared with `diff -r`.
//! `analyze_bench --analyze-only CAPTURE...` runs only the analysis (for
//! `perf record`).

use botscope_behavior::analysis::Options;
use botscope_behavior::{pipeline, render, series, Limits, Report};
use botscope_capture::{read_files, EngineConfig, FlowSink};
use std::path::{Path, PathBuf};
use std::time::Instant;

struct NoOp;
impl FlowSink for NoOp {}

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    // `--synth SCALE DIR`: generate the field first (seed 1, 2 days).
    if args.first().map(String::as_str) == Some("--synth") && args.len() >= 3 {
        let scale: f64 = args[1].parse().expect("scale");
        let dir = PathBuf::from(&args[2]);
        let cfg = botscope_synth::SynthConfig {
            scale,
            resolver_logs: false,
            ..Default::default()
        };
        botscope_synth::generate(&cfg, &dir).expect("synth");
        args = [
            "honeynet-background.pcap",
            "honeynet-exploits.pcap",
            "infected.pcap",
        ]
        .iter()
        .map(|f| dir.join("pcap").join(f).display().to_string())
        .collect();
    }
    let mode = match args.first().map(String::as_str) {
        Some("--dump") if args.len() >= 2 => {
            let out = PathBuf::from(&args[1]);
            args.drain(..2);
            Some(Some(out))
        }
        Some("--analyze-only") => {
            args.remove(0);
            Some(None)
        }
        _ => None,
    };
    let paths: Vec<PathBuf> = args.iter().map(PathBuf::from).collect();
    if paths.is_empty() {
        eprintln!("usage: analyze_bench CAPTURE...");
        std::process::exit(2);
    }
    let bytes: u64 = paths
        .iter()
        .map(|p| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0))
        .sum();
    let cfg = EngineConfig::default();
    if let Some(out) = mode {
        let t = Instant::now();
        let (r, summary) =
            pipeline::run(&paths, &cfg, Limits::default(), &Options::default()).expect("analyze");
        eprintln!("analyze: {:.2} s", t.elapsed().as_secs_f64());
        if let Some(dir) = out {
            dump(&r, &summary, &dir).expect("dump");
        }
        return;
    }
    // Warm the page cache so both runs read from memory.
    let _ = read_files(&paths, &cfg, &mut NoOp);
    let t = Instant::now();
    let s = read_files(&paths, &cfg, &mut NoOp).expect("capture");
    let engine_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let (r, _) =
        pipeline::run(&paths, &cfg, Limits::default(), &Options::default()).expect("analyze");
    let analyze_s = t.elapsed().as_secs_f64();
    let mb = bytes as f64 / 1e6;
    println!("input: {mb:.1} MB, {} packets", s.packets);
    println!(
        "capture engine alone: {engine_s:.2} s, {:.1} MB/s",
        mb / engine_s
    );
    println!(
        "analyze (engine + dissectors + behaviour): {analyze_s:.2} s, {:.1} MB/s",
        mb / analyze_s
    );
    println!(
        "ratio analyze/engine: {:.1} %",
        100.0 * engine_s / analyze_s
    );
    println!(
        "(exploits {}, sessions {}, orders {}, floods {})",
        r.exploits.len(),
        r.sessions.len(),
        r.orders.len(),
        r.floods.len()
    );
}

/// Everything `botscope analyze --out DIR` writes, and the report as
/// `report-pretty.json` (`--json`) and `report.txt` (the text tables).
fn dump(r: &Report, summary: &pipeline::RunSummary, dir: &Path) -> std::io::Result<()> {
    render::write_dir(r, dir)?;
    let s = serde_json::to_vec_pretty(summary).map_err(std::io::Error::other)?;
    std::fs::write(dir.join("summary.json"), s)?;
    series::write_series(&series::series(r), &dir.join("series"))?;
    let j = serde_json::to_string_pretty(r).map_err(std::io::Error::other)?;
    std::fs::write(dir.join("report-pretty.json"), j + "\n")?;
    std::fs::write(dir.join("report.txt"), render::text(r))
}
