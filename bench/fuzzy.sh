#!/usr/bin/env bash
# Fuzzy-hash throughput: `botscope specimen fuzzy` against the `ssdeep` CLI
# (2.14.1, `ssdeep -r`) on the same files in one run: N synthetic specimens
# (with OVERLAY_KIB of overlay each) plus one file of RANDOM_MB random bytes,
# both single-threaded, from the page cache. Prints MB/s of each (by wall
# time and by CPU time, user + sys), the ratio, and whether every digest is
# identical. The load average is printed before and after: on a shared
# machine prefer the CPU-time figures.
#
# usage: bench/fuzzy.sh [N=2000] [OVERLAY_KIB=100] [RANDOM_MB=100]
# BOTSCOPE_BIN=path/to/botscope skips the build (else a release build
# without YARA-X into $CARGO_TARGET_DIR or target/).
set -euo pipefail
N=${1:-2000}
OVERLAY=${2:-100}
RANDOM_MB=${3:-100}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${BOTSCOPE_BIN:-${CARGO_TARGET_DIR:-$ROOT/target}/release/botscope}
if [ ! -x "$BIN" ]; then
  (cd "$ROOT" && cargo build --release -p botscope --no-default-features >&2)
fi
command -v ssdeep >/dev/null || { echo "ssdeep missing: run scripts/setup.sh" >&2; exit 1; }
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT

mkdir -p "$W/in"
"$BIN" specimen gen --out "$W/in/spec" --count "$N" --overlay-kib "$OVERLAY" --truth "$W/truth.jsonl" >&2
if [ "$RANDOM_MB" -gt 0 ]; then
  head -c "$((RANDOM_MB << 20))" /dev/urandom > "$W/in/random.bin"
fi
BYTES=$(du -sb "$W/in" | cut -f1)
FILES=$(find "$W/in" -type f | wc -l)
cat "$W/in"/*.bin "$W/in/spec"/* > /dev/null   # both runs start from the page cache

echo "load before: $(uptime)"
run() { # name, command...
  local name=$1; shift
  local s e
  s=$(date +%s.%N)
  /usr/bin/time -f %U+%S -o "$W/cpu-$name.txt" "$@" > "$W/out-$name.txt"
  e=$(date +%s.%N)
  awk -v s="$s" -v e="$e" 'BEGIN { print e - s }' > "$W/wall-$name.txt"
}
run ssdeep ssdeep -s -r -b "$W/in"
run botscope "$BIN" specimen fuzzy "$W/in"
echo "load after:  $(uptime)"

# Same digests? Compare digest + bare file name, sorted.
norm() { grep -v '^ssdeep,' "$1" | sed -E 's/,"(.*\/)?([^/"]*)"$/ \2/' | sort; }
if diff <(norm "$W/out-ssdeep.txt") <(norm "$W/out-botscope.txt") > "$W/diff.txt"; then
  SAME="yes, all $FILES"
else
  SAME="NO ($(grep -c '^<' "$W/diff.txt") differ)"
fi

awk -v bytes="$BYTES" -v files="$FILES" -v same="$SAME" \
  -v ws="$(cat "$W/wall-ssdeep.txt")" -v wb="$(cat "$W/wall-botscope.txt")" \
  -v cs="$(tail -1 "$W/cpu-ssdeep.txt")" -v cb="$(tail -1 "$W/cpu-botscope.txt")" 'BEGIN {
  split(cs, a, "+"); cs = a[1] + a[2]; split(cb, a, "+"); cb = a[1] + a[2]
  mb = bytes / 1e6
  printf "input: %d files, %.1f MB\n", files, mb
  printf "ssdeep -r:               wall %7.2f s %8.1f MB/s   cpu %7.2f s %8.1f MB/s\n", ws, mb / ws, cs, mb / (cs > 0 ? cs : 0.001)
  printf "botscope specimen fuzzy: wall %7.2f s %8.1f MB/s   cpu %7.2f s %8.1f MB/s\n", wb, mb / wb, cb, mb / (cb > 0 ? cb : 0.001)
  printf "ratio botscope/ssdeep:   wall %.2fx   cpu %.2fx\n", ws / wb, (cs > 0 ? cs : 0.001) / (cb > 0 ? cb : 0.001)
  printf "digests identical: %s\n", same
}'
