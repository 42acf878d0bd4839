#!/usr/bin/env bash
# Report rendering at field scale: a data folder of report-contract files
# whose Table 7 counts EVENTS attempts (default 10 million; 20 evidence ids
# listed per row, the rest counted) beside 100k infection sequences,
# rendered once as HTML; and a models.json (100k first sightings, 10k scan
# waves, 100k floods, 100k relaying bots) that equations 1-4 are fitted to.
# Prints wall time, peak memory and report size against the targets
# (< 10 s, < 20 MB). Usage: bench/report.sh [EVENTS]
set -euo pipefail
EVENTS=${1:-10000000}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

cargo build --release -q -p botscope-report --example render
BIN=$CARGO_TARGET_DIR/release/examples/render

python3 - "$WORK" "$EVENTS" <<'PY'
import json, sys
out, events = sys.argv[1], int(sys.argv[2])
# Report-contract files (botscope_core::report): Table 7 with the study's
# proportions, EVENTS attempts in all (each producer lists 20 evidence ids
# per row and counts the rest), 100k infection sequences, orders, joins.
shares = [("MS03-026", .315), ("MS04-011", .267), ("Share Access", .237), ("MS03-039", .181)]
rows, left = [], events
for i, (name, share) in enumerate(shares):
    n = int(events * share) if i < len(shares) - 1 else left
    left -= n
    rows.append({"label": name, "count": n, "percent": round(share * 100, 2),
                 "evidence": [f"E{i}-{k}" for k in range(min(20, n))], "evidence_more": max(0, n - 20)})
json.dump({"schema_version": 1, "total": events, "rows": rows}, open(f"{out}/table7.json", "w"))
def ts(s):
    import datetime
    return datetime.datetime.fromtimestamp(s, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
seqs = [{"bot": f"10.{v >> 16 & 255}.{v >> 8 & 255}.{v & 255}", "stages": [
    {"stage": s, "ts": ts(1115683200 + v * 60 + k * 7), "delta_s": k * 7, "evidence": f"E{v * 5 + k}"}
    for k, s in enumerate(["exploit", "copy", "scan", "irc_join", "update"])]} for v in range(100000)]
json.dump({"schema_version": 1, "sequences": seqs}, open(f"{out}/fig3.json", "w"))
json.dump({"schema_version": 1, "tz_offset_s": 32400, "hours": [
    {"hour": h, "joins": 1000 + h * 10, "evidence": [f"S{h}-{k}" for k in range(20)], "evidence_more": 980 + h * 10}
    for h in range(24)]}, open(f"{out}/diurnal.json", "w"))
json.dump({"schema_version": 1, "commands": [{"label": "advscan", "count": 100000, "percent": 100.0}],
           "rows": [{"ts": ts(1115683200 + i), "bot": "10.0.0.1", "via": "topic", "command": "advscan",
                     "raw": ".advscan dcom135 260 5 0 -b -r -s"} for i in range(2000)], "rows_more": 98000},
          open(f"{out}/orders.json", "w"))
# models.json: what equations 1-4 are fitted to, at the same scale (100k
# first sightings, 10k scan waves, 100k floods, 100k relaying bots).
import math, random
random.seed(1)
cum = [{"ts": ts(1115683200 + int(3600 * math.log(9999 / (100000 / (i + 1) - 1) + 1e-9) / 0.5)) if i < 99999 else ts(1115683200 + 80000),
        "infected": i + 1} for i in range(100000)]
cum.sort(key=lambda c: c["ts"])
for i, c in enumerate(cum):
    c["infected"] = i + 1
waves = [{"order": i, "bot": "10.0.0.1", "command": "advscan", "ordered": ts(1115683200 + i * 60),
          "threads": 200, "delay_s": 5, "max_s": None,
          "segments": [{"start": ts(1115683200 + i * 60 + 2), "end": ts(1115683200 + i * 60 + 52), "probes": 200}]}
         for i in range(10000)]
win = lambda i, d, n: {"bot": f"10.1.{i >> 8 & 255}.{i & 255}", "start": ts(1115683200 + i), "end": ts(1115683200 + i + d), "count": n}
floods = [win(i, 100 + i % 400, 20 * (100 + i % 400) + random.randint(-50, 50)) for i in range(100000)]
spam = [win(i, 3600 + i % 7200, 30 + i % 90) for i in range(100000)]
json.dump({"schema_version": 1, "cumulative": cum, "scan_waves": waves, "floods": floods, "spam_rate": spam},
          open(f"{out}/models.json", "w"))
PY
SIZE_IN=$(cat "$WORK"/*.json | wc -c | awk '{print int($1 / 1048576)}')
OUT="$WORK/report.html"
/usr/bin/time -f '%e %M' -o "$WORK/time" "$BIN" "$WORK" "$OUT" html >/dev/null
read -r SECS KB < "$WORK/time"
BYTES=$(stat -c %s "$OUT")
echo "report: $EVENTS attempts, 100000 sequences (${SIZE_IN} MB of JSON) -> $(( BYTES / 1024 )) KB HTML in ${SECS} s, peak RSS $(( KB / 1024 )) MB"
awk -v s="$SECS" -v b="$BYTES" -v k="$KB" 'BEGIN {
  printf "time %.2f s (target < 10 s: %s), report %.2f MB (target < 20 MB: %s), peak memory %.1f MB\n",
    s, (s < 10 ? "ok" : "MISSED"), b / 1048576, (b < 20971520 ? "ok" : "MISSED"), k / 1024 }'
