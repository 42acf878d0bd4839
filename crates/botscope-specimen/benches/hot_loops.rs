//! Micro-benchmarks of the specimen-ingest hot loops (issue 19), so a
//! regression shows before `bench/specimen.sh` does. Input: synthetic
//! specimens of the benchmark's shape (`botscope specimen gen`: a PE with a
//! bot config, 100 KiB of overlay), one plain and one UPX-packed.
//!
//! - `hashes`: MD5 + SHA-1 + SHA-256 in one pass over 64 KiB pieces;
//! - `fuzzy`: the ssdeep digest of the whole file;
//! - `hashes_then_fuzzy`: the two above one after the other (the ingest
//!   before the fused loop);
//! - `first_pass_fused`: what ingest runs now, the three digests and the
//!   CTPH trigger census in one loop over 16 KiB pieces, then the CTPH
//!   piece hashes (`analysis::first_pass` + `FirstPass::finish`);
//! - `yara_scan`: one file scanned by YARA-X with `data/specimen/irc-bots.yar`,
//!   compiled once and one scanner reused (the `scan` stage's per-file
//!   cost); `yara_scan_new_scanner` builds a scanner for each file, the
//!   per-file setup the stage avoids;
//! - `strings`: the ASCII + UTF-16LE string pass;
//! - `deobf`: the de-obfuscation stage (every registered decoder) over
//!   the specimen's segments;
//! - `analyze`: the whole static analysis (PE walk, unpack, strings,
//!   config, IOCs, fuzzy, the stage).
//!
//! Run: `cargo bench -p botscope-specimen --bench hot_loops`.

use botscope_specimen::analysis::{self, deobfuscate};
use botscope_specimen::config::Segment;
use botscope_specimen::sigs::{Compiled, SetKind};
use botscope_specimen::{fuzzy, strings};
use botscope_synth::specimen::collection::synthetic_item;
use botscope_synth::specimen::{append_overlay, build_specimen_with};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;

/// Specimen `i` of the benchmark's collection, with 100 KiB of overlay.
fn specimen(i: u32) -> Vec<u8> {
    let (spec, layout) = synthetic_item(i);
    let mut b = build_specimen_with(&spec, layout);
    append_overlay(&mut b, 100 << 10, u64::from(i));
    b
}

/// The benchmark's YARA-X rules.
const RULES: &str = include_str!("../../../data/specimen/irc-bots.yar");

fn bench(c: &mut Criterion) {
    let rules = Compiled::new(SetKind::Yara, RULES).expect("the shipped rules compile");
    // 0: plain block config; 1: NRV2B-packed, XOR-encoded block.
    for (name, data) in [("plain", specimen(0)), ("packed", specimen(1))] {
        let mut g = c.benchmark_group(name);
        g.throughput(Throughput::Bytes(data.len() as u64));
        g.bench_function("hashes", |b| b.iter(|| analysis::hashes(black_box(&data))));
        g.bench_function("fuzzy", |b| b.iter(|| fuzzy::digest(black_box(&data))));
        g.bench_function("hashes_then_fuzzy", |b| {
            b.iter(|| {
                let h = analysis::hashes(black_box(&data));
                (h, fuzzy::digest(black_box(&data)))
            })
        });
        g.bench_function("first_pass_fused", |b| {
            b.iter(|| {
                let p = analysis::first_pass(black_box(&data));
                (p.hashes, p.fuzzy.finish(black_box(&data)))
            })
        });
        let mut scanner = rules.scanner();
        g.bench_function("yara_scan", |b| {
            b.iter(|| scanner.scan(black_box(&data), "", "", "").len())
        });
        g.bench_function("yara_scan_new_scanner", |b| {
            b.iter(|| rules.scanner().scan(black_box(&data), "", "", "").len())
        });
        g.bench_function("strings", |b| {
            b.iter(|| {
                let mut n = 0usize;
                strings::for_each_string(black_box(&data), 5, |_, _, _| n += 1);
                n
            })
        });
        g.bench_function("deobf", |b| {
            let seg = [Segment {
                name: "file",
                va: None,
                bytes: &data,
            }];
            b.iter(|| deobfuscate(black_box(&seg), None).0.findings.len())
        });
        g.bench_function("analyze", |b| {
            b.iter(|| analysis::analyze(black_box(&data)))
        });
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
