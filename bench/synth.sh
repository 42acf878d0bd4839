#!/usr/bin/env bash
# Times `botscope synth` at benchmark size and prints its output rate.
# Usage: bench/synth.sh [SCALE] [DAYS] [RESOLVER_CLIENTS] [OUT]
# Defaults (70, 4, 25000) give a >= 2 GB background capture, a >= 2 GB
# infected-host capture and >= 100 M resolver-log records (4 formats).
# No peer tool generates this field, so the figures are botscope's own:
# bytes written per second of wall time and per CPU-second (user + sys,
# the steadier figure when other jobs share the machine), resolver-log
# records per second, and the load average around the run. OUT is deleted
# afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
SCALE="${1:-70}"
DAYS="${2:-4}"
CLIENTS="${3:-25000}"
OUT="${4:-${TMPDIR:-/tmp}/botscope-synth-bench}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
# No YARA-X: the generator does not need it and it doubles the build.
cargo build --release -q -p botscope --no-default-features
BIN="$CARGO_TARGET_DIR/release/botscope"
rm -rf "$OUT"
echo "before: $(uptime)"
TIMES=$(mktemp)
start=$(date +%s.%N)
/usr/bin/time -f "%U %S %M" -o "$TIMES" \
  "$BIN" synth --out "$OUT" --seed 1 --scale "$SCALE" --days "$DAYS" \
  --resolver-clients "$CLIENTS" >"$OUT.summary"
end=$(date +%s.%N)
echo "after:  $(uptime)"
read -r user sys maxkb <"$TIMES"
rm -f "$TIMES"
bytes=$(du -sb "$OUT" | cut -f1)
pcap_bytes=$(du -sbc "$OUT"/pcap/*.pcap | tail -1 | cut -f1)
largest_pcap=$(ls -S "$OUT"/pcap/*.pcap | head -1)
records=$(sed -n 's/^resolver logs: .* = \([0-9]*\) records.*/\1/p' "$OUT.summary")
cat "$OUT.summary"
awk -v b="$bytes" -v pb="$pcap_bytes" -v lp="$(stat -c %s "$largest_pcap")" -v lpn="$(basename "$largest_pcap")" \
  -v rec="${records:-0}" -v s="$start" -v e="$end" -v u="$user" -v sy="$sys" -v kb="$maxkb" 'BEGIN {
  t = e - s; cpu = u + sy
  printf "sizes: total %.2f GB, captures %.2f GB (largest %s %.2f GB), resolver-log records %.1f M\n", b / 1e9, pb / 1e9, lpn, lp / 1e9, rec / 1e6
  printf "time: %.2f s wall, %.2f s CPU (user %.2f + sys %.2f), max RSS %.0f MB\n", t, cpu, u, sy, kb / 1024
  printf "botscope synth: %.1f MB/s wall, %.1f MB/s per CPU-second\n", b / 1e6 / t, b / 1e6 / cpu
  printf "resolver-log records: %.2f M/s wall\n", rec / 1e6 / t }'
rm -rf "$OUT" "$OUT.summary"
