#!/usr/bin/env bash
# Specimen throughput: botscope ingest (hashes, quarantine, SQLite, PE walk,
# UPX unpack, strings, config, IOCs, CTPH) + YARA-X scan of N synthetic
# specimens, against `yr scan` (the YARA-X CLI) with the same rules on the
# same files, both single-threaded. Prints MB/s of each and the ratio
# (bar: botscope >= 70 % of yr).
#
# usage: bench/specimen.sh [N=10000] [OVERLAY_KIB=100]   (10,000 × ~110 KiB ≈ 1.1 GB)
# yr is installed with `cargo install yara-x-cli --version 1.22.1 --locked`
# into $YR_ROOT (default: $ROOT/target/yr) when missing — a long build
# (or set YR=/path/to/yr). The load average is printed before and after, and
# CPU time (user + sys) beside wall time: on a shared machine wall time is noise.
set -euo pipefail
N=${1:-10000}
OVERLAY=${2:-100}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${BOTSCOPE_BIN:-${CARGO_TARGET_DIR:-$ROOT/target}/release/botscope}
if [ ! -x "$BIN" ]; then
  (cd "$ROOT" && cargo build --release -p botscope >&2)
fi
YR=${YR:-$(command -v yr || true)}
if [ -z "$YR" ]; then
  YR_ROOT=${YR_ROOT:-$ROOT/target/yr}
  if [ ! -x "$YR_ROOT/bin/yr" ]; then
    start=$(date +%s)
    cargo install --quiet yara-x-cli --version 1.22.1 --locked --root "$YR_ROOT" >&2
    echo "yara-x-cli install took $(( $(date +%s) - start )) s" >&2
  fi
  YR=$YR_ROOT/bin/yr
fi
RULES=$ROOT/data/specimen/irc-bots.yar
W=$(mktemp -d)
trap 'chmod -R u+w "$W" 2>/dev/null; rm -rf "$W"' EXIT

"$BIN" specimen gen --out "$W/in" --count "$N" --overlay-kib "$OVERLAY" --truth "$W/truth.jsonl" >&2
BYTES=$(du -sb "$W/in" | cut -f1)
cat "$W/in"/* > /dev/null   # both runs start from the page cache

echo "load before: $(uptime)"
T="/usr/bin/time -f %U+%S -a -o $W/cpu-bs.txt"
t0=$(date +%s.%N)
$T "$BIN" specimen --store "$W/st" add --source sensor --seen 2005-04-21 "$W/in" >&2
$T "$BIN" specimen --store "$W/st" set add --name rules --version 1 --released 2005-04-21 "$RULES" >&2
$T "$BIN" specimen --store "$W/st" scan --at 2005-04-22 >&2
t1=$(date +%s.%N)
/usr/bin/time -f %U+%S -o "$W/cpu-yr.txt" \
  "$YR" scan --threads 1 --recursive --disable-console-logs "$RULES" "$W/in" > "$W/yr.out"
t2=$(date +%s.%N)
echo "load after:  $(uptime)"
BS_CPU=$(paste -sd+ "$W/cpu-bs.txt" | bc -l)
YR_CPU=$(bc -l < "$W/cpu-yr.txt")

python3 - "$BYTES" "$t0" "$t1" "$t2" "$W/yr.out" "$N" "$BS_CPU" "$YR_CPU" "$W/cpu-bs.txt" <<'PY'
import sys
b, t0, t1, t2 = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
bc, yc = float(sys.argv[7]), float(sys.argv[8])
matches = sum(1 for l in open(sys.argv[5]) if l.strip())
bs, ys = b / (t1 - t0) / 1e6, b / (t2 - t1) / 1e6
print(f"input: {sys.argv[6]} specimens, {b/1e6:.0f} MB; yr matches: {matches}")
print(f"botscope ingest+extract+scan: wall {t1-t0:.1f} s ({bs:.1f} MB/s), cpu {bc:.1f} s ({b/bc/1e6:.1f} MB/s)")
print(f"yr scan (1 thread):           wall {t2-t1:.1f} s ({ys:.1f} MB/s), cpu {yc:.1f} s ({b/yc/1e6:.1f} MB/s)")
print(f"ratio botscope/yr: wall {bs/ys*100:.0f} %, cpu {yc/bc*100:.0f} % (bar 70 %)")
# Per stage (CPU seconds): the YARA-X scan alone is what `yr scan` does.
stages = [sum(float(x) for x in l.strip().split("+")) for l in open(sys.argv[9]) if l.strip()]
for name, c in zip(["add (hash, store, PE, unpack, strings, config, IOC, CTPH)", "set add", "scan (YARA-X)"], stages):
    print(f"  {name}: cpu {c:.1f} s ({b/c/1e6 if c else 0:.1f} MB/s)")
if len(stages) == 3 and stages[2] > 0:
    print(f"ratio botscope scan alone/yr: cpu {yc/stages[2]*100:.0f} %")
PY
