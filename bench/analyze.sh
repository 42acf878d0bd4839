#!/bin/sh
# Throughput of `botscope analyze` (capture engine + dissectors + behaviour
# sink + analyses) vs the capture engine alone, on the same captures, in
# one run (bar, issue 19: analyze >= 80 % of the engine's throughput).
#
#   bench/analyze.sh [SCALE]          # synthetic field (seed 1, 2 days) of SCALE
#   bench/analyze.sh CAPTURE...       # existing captures, e.g. a field's pcap/*.pcap
#
# Wall times come from the example; the load average and the whole
# process's CPU seconds (user + sys, /usr/bin/time) are printed beside
# them, since the machine is often shared. For the analysis' own CPU time
# and a profile, run the example with --analyze-only CAPTURE...; to check
# that a change keeps every output, --dump DIR CAPTURE... before and after
# and diff -r the two directories (docs/analyze.md, "Speed").
set -eu
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/botscope/target}
cargo build -q --release -p botscope-behavior --example analyze_bench
bin=$CARGO_TARGET_DIR/release/examples/analyze_bench
echo "load: $(uptime)"
if [ $# -ge 1 ] && [ -f "$1" ]; then
  /usr/bin/time -f "process: %e wall s, %U user s, %S sys s" "$bin" "$@"
else
  OUT=${BENCH_DIR:-$(mktemp -d)}
  /usr/bin/time -f "process: %e wall s, %U user s, %S sys s" "$bin" --synth "${1:-4}" "$OUT"
  du -sh "$OUT"/pcap
fi
echo "load: $(uptime)"
