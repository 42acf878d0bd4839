#!/usr/bin/env bash
# Sensor benchmark on loopback only: accept rate, 10,000 concurrent sessions,
# a soak of hostile connections, and memory before and after.
# Usage: bench/sensor.sh [SOAK_CONNECTIONS]   (default 1000000)
set -euo pipefail
cd "$(dirname "$0")/.."
SOAK="${1:-1000000}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/botscope/target}"
cargo build --release -q -p botscope --bin botscope
cargo build --release -q -p botscope-sensor --example sensor_load
BIN="$CARGO_TARGET_DIR/release/botscope"
LOAD="$CARGO_TARGET_DIR/release/examples/sensor_load"
work=$(mktemp -d)
trap 'kill $pid 2>/dev/null || true; rm -rf "$work"' EXIT
ulimit -n "$(ulimit -Hn)"
cat > "$work/sensor.toml" <<TOML
addresses = ["127.0.0.10-127.0.0.17"]
tcp_ports = [445, 135]
udp_ports = []
log = "$work/sensor.jsonl"
[limits]
max_sessions = 20000
session_idle_secs = 3
session_max_secs = 10
TOML
"$BIN" sensor --config "$work/sensor.toml" --store "$work/store" --duration 100000 --json > "$work/summary.json" &
pid=$!
sleep 2
rss() { awk '/VmRSS/ {print $2}' "/proc/$pid/status"; }
targets=$(for i in 10 11 12 13 14 15 16 17; do printf '127.0.0.%s:445,127.0.0.%s:135,' "$i" "$i"; done | sed 's/,$//')
echo "baseline RSS: $(rss) KiB"
"$LOAD" rate "$targets" 200000 512
echo "RSS after rate: $(rss) KiB"
"$LOAD" hold "$targets" 10000
echo "RSS at 10,000 sessions: $(rss) KiB"
timeout 600 "$LOAD" soak "$targets" "$SOAK" 512 || echo "soak stopped at its time bound"
sleep 5   # idle sessions time out
"$LOAD" probe 127.0.0.10:135 1
echo "RSS after soak: $(rss) KiB (peak $(awk '/VmHWM/ {print $2}' "/proc/$pid/status") KiB)"
