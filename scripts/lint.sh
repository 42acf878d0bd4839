#!/usr/bin/env bash
# Format and clippy, warnings as errors: run before committing.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/botscope/target}"
cargo fmt --all --check
cargo clippy --workspace --all-targets --quiet -- -D warnings
