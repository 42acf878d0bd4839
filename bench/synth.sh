#!/usr/bin/env bash
# Times `botscope synth` producing >= 2 GB and prints MB/s.
# Usage: bench/synth.sh [SCALE] [DAYS] [OUT]
# No peer tool generates this field, so the figure is botscope's own output
# rate (bytes of captures, resolver logs, specimens and truth per second).
set -euo pipefail
cd "$(dirname "$0")/.."
SCALE="${1:-90}"
DAYS="${2:-4}"
OUT="${3:-${TMPDIR:-/tmp}/botscope-synth-bench}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
cargo build --release -q -p botscope
BIN="$CARGO_TARGET_DIR/release/botscope"
rm -rf "$OUT"
start=$(date +%s.%N)
"$BIN" synth --out "$OUT" --seed 1 --scale "$SCALE" --days "$DAYS" >/dev/null
end=$(date +%s.%N)
bytes=$(du -sb "$OUT" | cut -f1)
awk -v b="$bytes" -v s="$start" -v e="$end" 'BEGIN {
  t = e - s; printf "botscope synth: %.1f MB in %.2f s = %.1f MB/s\n", b / 1e6, t, b / 1e6 / t }'
ls -l "$OUT/pcap"
rm -rf "$OUT"
