#!/usr/bin/env bash
# The README's test command: installs what the tests need, checks format,
# runs every crate's tests (unit, integration, real-server tests on
# loopback), then a short bounded run of every fuzz target.
# BOTSCOPE_LINT=1 adds clippy (scripts/lint.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
# Builds live outside the clone so CI and developers reuse them when present.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/botscope/target}"
mkdir -p "$CARGO_TARGET_DIR"

echo "== cargo fmt --check"
cargo fmt --all --check

# Lints run separately (scripts/lint.sh): a cold clippy pass over the
# yara-x/wasmtime tree costs CI a quarter of an hour it needs for tests.
if [ "${BOTSCOPE_LINT:-0}" = 1 ]; then
  bash scripts/lint.sh
fi

echo "== cargo test"
cargo test --workspace --no-fail-fast 2>&1 | tee "$CARGO_TARGET_DIR/test-output.txt"

echo "== fuzz (short, bounded)"
bash scripts/fuzz.sh "${FUZZ_SECONDS:-10}"

passed=$(grep -Eo 'test result: [a-zA-Z]+\. [0-9]+ passed' "$CARGO_TARGET_DIR/test-output.txt" | awk '{s+=$4} END {print s+0}')
failed=$(grep -Eo '[0-9]+ failed' "$CARGO_TARGET_DIR/test-output.txt" | awk '{s+=$1} END {print s+0}')
echo "tests: $passed passed, $failed failed"
