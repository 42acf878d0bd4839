#!/bin/sh
# Throughput of `botscope analyze` (capture engine + dissectors + behaviour
# sink + analyses) vs the capture engine alone, on the same synthetic
# capture, in one run. Usage: bench/analyze.sh [SCALE]
# SCALE multiplies the synthetic field (the brief's bar: a >= 2 GB capture).
set -eu
cd "$(dirname "$0")/.."
SCALE=${1:-4}
OUT=${BENCH_DIR:-$(mktemp -d)}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/work/target-behavior}
cargo run -q --release -p botscope-behavior --example analyze_bench -- --synth "$SCALE" "$OUT"
du -sh "$OUT"/pcap
