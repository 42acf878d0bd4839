#!/usr/bin/env bash
# Probe throughput: `botscope intel probe` of 10,000 names against a local
# authoritative named (A/AAAA per name, PTR per address), bounded concurrency;
# prints names/s. If dnsperf is installed, the same names' A queries are run
# through it on the same server as a raw-query reference and the ratio of
# DNS queries per second is printed.
#
# usage: bench/intel.sh [N=10000] [CONCURRENCY=64]
set -euo pipefail
N=${1:-10000}
CONC=${2:-64}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${BOTSCOPE_BIN:-$ROOT/target/release/botscope}
if [ ! -x "$BIN" ]; then
  (cd "$ROOT" && cargo build --release -p botscope >&2)
fi
W=$(mktemp -d)
trap 'kill $(cat "$W/named.pid" 2>/dev/null) 2>/dev/null || true; rm -rf "$W"' EXIT
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

# Zone: 60 % one address, 20 % three addresses, 20 % missing (NXDOMAIN).
{
  echo '$TTL 60'
  echo '@ IN SOA ns.bench.test. root.bench.test. ( 1 3600 600 86400 60 )'
  echo '@ IN NS ns.bench.test.'
  echo 'ns IN A 127.0.0.1'
  for i in $(seq 1 "$N"); do
    case $((i % 5)) in
      0) ;;
      1) echo "cc$i IN A 10.$((i % 250)).$((i / 250 % 250)).1"
         echo "cc$i IN A 10.$((i % 250)).$((i / 250 % 250)).2"
         echo "cc$i IN A 10.$((i % 250)).$((i / 250 % 250)).3" ;;
      *) echo "cc$i IN A 10.$((i % 250)).$((i / 250 % 250)).1" ;;
    esac
  done
} > "$W/bench.zone"
seq 1 "$N" | sed 's/^/cc/; s/$/.bench.test/' > "$W/names.txt"
cat > "$W/named.conf" <<CONF
options { directory "$W"; listen-on port $PORT { 127.0.0.1; }; listen-on-v6 { none; };
  pid-file "$W/named.pid"; session-keyfile "$W/session.key"; managed-keys-directory "$W";
  recursion no; allow-query { any; }; dnssec-validation no; };
controls { };
zone "bench.test" { type primary; file "bench.zone"; };
CONF
named -c "$W/named.conf" >/dev/null 2>&1
for _ in $(seq 1 100); do dig @127.0.0.1 -p "$PORT" bench.test SOA +short +time=1 >/dev/null 2>&1 && break; sleep 0.1; done

start=$(date +%s.%N)
"$BIN" intel --store "$W/store" probe "$W/names.txt" --resolver "127.0.0.1:$PORT" \
  --concurrency "$CONC" --timeout-ms 2000 --no-store > "$W/table6.txt"
end=$(date +%s.%N)
secs=$(echo "$end - $start" | bc -l)
# queries botscope sent: A + AAAA per name, PTR per address
queries=$(( 2 * N + (N / 5) * 3 + (N * 3 / 5) ))
nps=$(echo "$N / $secs" | bc -l)
qps=$(echo "$queries / $secs" | bc -l)
printf 'botscope intel probe: %d names in %.2f s = %.0f names/s (%.0f queries/s, concurrency %d)\n' "$N" "$secs" "$nps" "$qps" "$CONC"
cat "$W/table6.txt"
if command -v dnsperf >/dev/null; then
  sed 's/$/ A/' "$W/names.txt" > "$W/dnsperf.txt"
  peer=$(dnsperf -s 127.0.0.1 -p "$PORT" -d "$W/dnsperf.txt" -n 1 -c 1 -q "$CONC" 2>/dev/null | awk '/Queries per second/ {print $4}')
  printf 'dnsperf (A only, same server): %.0f queries/s; botscope/dnsperf query-rate ratio: %.2f\n' "$peer" "$(echo "$qps / $peer" | bc -l)"
else
  echo "dnsperf not installed: no peer figure (apt-get install dnsperf)"
fi
