#!/usr/bin/env bash
# Runs every cargo-fuzz target for a few seconds each (default 10), seeded
# from the repository's own captures, logs and data. A crash, a slow input
# (over FUZZ_TIMEOUT seconds, default 10) or a target list that cannot be
# built fails the run: fuzzing that cannot fail proves nothing.
# cargo fuzz needs nightly flags; RUSTC_BOOTSTRAP lets the one stable
# toolchain on this machine accept them.
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-10}"
timeout="${FUZZ_TIMEOUT:-10}"
export RUSTC_BOOTSTRAP=1
if ! command -v cargo-fuzz >/dev/null; then
  cargo install --quiet --locked cargo-fuzz
fi
if ! targets=$(cargo fuzz list); then
  echo "fuzz: cargo fuzz list failed" >&2
  exit 1
fi
if [ -z "$targets" ]; then
  echo "fuzz: no targets found in fuzz/Cargo.toml" >&2
  exit 1
fi

# Zip archives of the repository's specimen data (stored, deflated, and
# ZipCrypto with the "infected" password), built fresh: the repository
# keeps no archives of its own.
zipseeds=$(mktemp -d)
log=$(mktemp)
trap 'rm -rf "$log" "$zipseeds"' EXIT
if command -v zip >/dev/null; then
  (cd data/specimen && zip -q -0 "$zipseeds/stored.zip" ./* &&
    zip -q -9 "$zipseeds/deflated.zip" ./* &&
    zip -q -P infected "$zipseeds/infected.zip" ./*)
else
  echo "fuzz: no zip (scripts/setup.sh installs it): specimen_zip runs unseeded" >&2
fi

# One build for every target first: a tree that does not compile is
# reported as such, not as a finding of the first target.
if ! cargo fuzz build --sanitizer none >"$log" 2>&1; then
  tail -n 40 "$log"
  echo "fuzz: the fuzz targets do not build" >&2
  exit 1
fi

# Seed folders per target (libFuzzer reads them recursively; inputs longer
# than -max_len are cut). New findings go to fuzz/corpus/<target> only.
seeds() {
  local dirs=()
  case "$1" in
    capture_* | dissect_* | dnslog_* | sensor_* | behavior_*) dirs=(tests/corpus tests/realworld) ;;
    specimen_zip) dirs=("$zipseeds") ;;
    deobf_*) dirs=(data/specimen tests/realworld) ;;
    specimen_*) dirs=(data/specimen) ;;
    intel_*) dirs=(data/providers) ;;
    # JSON Lines (Zeek's JSON dns.log) and the docs' example events.
    report_tail) dirs=(crates/botscope-dnslog/tests/data docs) ;;
  esac
  for d in "${dirs[@]}"; do
    [ -d "$d" ] && echo "$d"
  done
  return 0
}

for t in $targets; do
  mkdir -p "fuzz/corpus/$t"
  # shellcheck disable=SC2046 # one word per seed folder
  echo "fuzz: $t for ${secs}s (seeds: $(seeds "$t" | tr '\n' ' '))"
  if ! cargo fuzz run --sanitizer none "$t" "fuzz/corpus/$t" $(seeds "$t") -- \
    -max_total_time="$secs" -timeout="$timeout" -rss_limit_mb=2048 -max_len=65536 >"$log" 2>&1; then
    tail -n 40 "$log"
    echo "fuzz: $t FAILED (reproducer in fuzz/artifacts/$t)" >&2
    exit 1
  fi
  tail -n 2 "$log"
done
