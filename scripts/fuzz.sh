#!/usr/bin/env bash
# Runs every cargo-fuzz target for a few seconds each (default 10).
# cargo fuzz needs nightly flags; RUSTC_BOOTSTRAP lets the one stable
# toolchain on this machine accept them.
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-10}"
export RUSTC_BOOTSTRAP=1
if ! command -v cargo-fuzz >/dev/null; then
  cargo install --quiet --locked cargo-fuzz
fi
targets=$(cargo fuzz list 2>/dev/null || true)
if [ -z "$targets" ]; then
  echo "fuzz: no targets"
  exit 0
fi
for t in $targets; do
  echo "fuzz: $t for ${secs}s"
  cargo fuzz run --sanitizer none "$t" -- -max_total_time="$secs" -rss_limit_mb=2048 -max_len=65536 2>&1 | tail -n 2
done
