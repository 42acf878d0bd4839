#!/usr/bin/env bash
# Resolver-log throughput: `botscope dns rate` (exact mode) against DuckDB
# computing the same per-day rate over the same synthetic BIND query log,
# with `wc -l` as the read ceiling. Prints lines/s, the ratios and peak RSS
# (GNU time). The log comes from botscope's own generator (`dns gen`):
# LINES_M million lines from LINES_M*100,000 distinct clients, 10 queries
# each, one day, 2.4 % infected.
#
# usage: bench/dns.sh [LINES_M=100] [THREADS=2]
# Bars (issues 5, 19): >= 5x DuckDB at every size from 1 M to 100 M lines,
# >= 50 % of wc -l, <= 512 MiB RSS at 10 M clients.
# The 1-minute load average is printed beside each contender: on a shared
# machine compare CPU times (user + sys), not wall times.
# BOTSCOPE_BIN=PATH runs another build (e.g. a copy of the previous one).
# BASELINE_BIN=PATH also runs that build (e.g. the previous commit's) on the
# same input right after botscope, prints its figures beside them and
# fails unless its JSON report is byte-identical.
# BOTSCOPE_ARGS='--no-suspect' runs without the suspected tier's name scoring
# (issue 20; on by default, about 25 ns a query).
# Hot loops alone: cargo bench -p botscope-dnslog --bench hot_loops.
# Each contender runs under GNU time: wall time and CPU time (user + sys)
# are printed, with the load average before and after, because on a shared
# machine wall time alone is noise. BENCH_DIR=DIR keeps the generated log.
set -euo pipefail
LINES_M=${1:-100}
THREADS=${2:-2}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${BOTSCOPE_BIN:-${CARGO_TARGET_DIR:-$ROOT/target}/release/botscope}
if [ ! -x "$BIN" ]; then
  (cd "$ROOT" && cargo build --release -p botscope --no-default-features >&2)
fi
python3 -c 'import duckdb' 2>/dev/null || pip install -q duckdb
W=${BENCH_DIR:-$(mktemp -d)}
[ -n "${BENCH_DIR:-}" ] || trap 'rm -rf "$W"' EXIT
CLIENTS=$((LINES_M * 100000))
LOG="$W/query.log"
if [ ! -s "$LOG" ]; then
  "$BIN" dns gen --out "$W" --clients "$CLIENTS" --queries-per-client 10 --active-fraction 1 --formats bind >&2
fi
LINES=$(wc -l < "$LOG")
BYTES=$(stat -c %s "$LOG")
cat "$LOG" > /dev/null # warm the page cache for every contender

now() { date +%s.%N; }
cpu() { awk -F': ' '/User time/ {u=$2} /System time/ {s=$2} END {print u + s}' "$1"; }
load1() { cut -d, -f1 /proc/loadavg | cut -d' ' -f1; } # 1-minute load average
LOAD_BEFORE=$(uptime)
WC_LOAD=$(load1)
t0=$(now); /usr/bin/time -v -o "$W/time-wc.txt" wc -l "$LOG" > /dev/null; t1=$(now)
WC=$(echo "$t1 - $t0" | bc -l)
WC_CPU=$(cpu "$W/time-wc.txt")

BS_LOAD=$(load1)
t0=$(now)
# shellcheck disable=SC2086 # BOTSCOPE_ARGS is a list of flags
/usr/bin/time -v -o "$W/time.txt" "$BIN" dns rate --exact --threads "$THREADS" --window 1d ${BOTSCOPE_ARGS:-} \
  --watchlist "$W/watchlist.txt" --json "$LOG" > "$W/botscope.json"
t1=$(now)
BS=$(echo "$t1 - $t0" | bc -l)
RSS_KB=$(awk -F: '/Maximum resident/ {gsub(/ /,"",$2); print $2}' "$W/time.txt")
BS_CPU=$(cpu "$W/time.txt")

if [ -n "${BASELINE_BIN:-}" ]; then
  BL_LOAD=$(load1)
  t0=$(now)
  # shellcheck disable=SC2086 # BOTSCOPE_ARGS is a list of flags
  /usr/bin/time -v -o "$W/time-baseline.txt" "$BASELINE_BIN" dns rate --exact --threads "$THREADS" --window 1d ${BOTSCOPE_ARGS:-} \
    --watchlist "$W/watchlist.txt" --json "$LOG" > "$W/baseline.json"
  t1=$(now)
  BL=$(echo "$t1 - $t0" | bc -l)
  BL_CPU=$(cpu "$W/time-baseline.txt")
  BL_RSS_KB=$(awk -F: '/Maximum resident/ {gsub(/ /,"",$2); print $2}' "$W/time-baseline.txt")
fi

cat > "$W/duckdb_rate.py" <<'PY'
import sys, duckdb
log, watch = sys.argv[1], sys.argv[2]
names = [l.strip().lower().rstrip('.') for l in open(watch) if l.strip() and not l.startswith('#')]
con = duckdb.connect()
con.execute("CREATE TABLE watch(name VARCHAR)")
con.executemany("INSERT INTO watch VALUES (?)", [[n] for n in names])
rows = con.execute(r"""
  WITH q AS (
    SELECT substr(line, 1, 11) AS day,
           regexp_extract(line, 'client (?:@0x[0-9a-f]+ )?([^# ]+)#', 1) AS client,
           rtrim(lower(regexp_extract(line, ' query: (\S+)', 1)), '.') AS qname
    FROM read_csv(?, columns={'line': 'VARCHAR'}, delim='\t', header=false, quote='', escape='', auto_detect=false))
  SELECT day, count(DISTINCT client) AS clients,
         count(DISTINCT CASE WHEN qname IN (SELECT name FROM watch) THEN client END) AS infected
  FROM q GROUP BY day ORDER BY day""", [log]).fetchall()
for d, c, i in rows:
    print(d, c, i)
PY
DK_LOAD=$(load1)
t0=$(now)
/usr/bin/time -v -o "$W/time-duckdb.txt" python3 "$W/duckdb_rate.py" "$LOG" "$W/watchlist.txt" > "$W/duckdb.txt"
t1=$(now)
DK=$(echo "$t1 - $t0" | bc -l)
DK_CPU=$(cpu "$W/time-duckdb.txt")
DK_RSS_KB=$(awk -F: '/Maximum resident/ {gsub(/ /,"",$2); print $2}' "$W/time-duckdb.txt")
LOAD_AFTER=$(uptime)

BS_ROW=$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); w=r["windows"][0]; print(w["clients"], w["infected"])' "$W/botscope.json")
DK_ROW=$(awk '{print $2, $3}' "$W/duckdb.txt" | head -1)
echo "input: $LINES lines, $((BYTES / 1048576)) MiB, $CLIENTS clients, botscope threads $THREADS, $(nproc) cores"
echo "load before: $LOAD_BEFORE"
echo "load after:  $LOAD_AFTER"
printf 'wc -l:    wall %8.2f s  cpu %8.2f s  %12.0f lines/s  (load %s)\n' "$WC" "$WC_CPU" "$(echo "$LINES / $WC" | bc -l)" "$WC_LOAD"
printf 'botscope: wall %8.2f s  cpu %8.2f s  %12.0f lines/s  peak RSS %d MiB  (clients infected: %s)  (load %s)\n' "$BS" "$BS_CPU" "$(echo "$LINES / $BS" | bc -l)" "$((RSS_KB / 1024))" "$BS_ROW" "$BS_LOAD"
if [ -n "${BASELINE_BIN:-}" ]; then
  printf 'baseline: wall %8.2f s  cpu %8.2f s  %12.0f lines/s  peak RSS %d MiB  (load %s)  %s\n' "$BL" "$BL_CPU" "$(echo "$LINES / $BL" | bc -l)" "$((BL_RSS_KB / 1024))" "$BL_LOAD" "$BASELINE_BIN"
  if cmp -s "$W/botscope.json" "$W/baseline.json"; then echo "baseline report: identical"; else echo "baseline report: DIFFERS" >&2; exit 1; fi
fi
printf 'duckdb:   wall %8.2f s  cpu %8.2f s  %12.0f lines/s  peak RSS %d MiB  (clients infected: %s)  (load %s)\n' "$DK" "$DK_CPU" "$(echo "$LINES / $DK" | bc -l)" "$((DK_RSS_KB / 1024))" "$DK_ROW" "$DK_LOAD"
printf 'botscope / duckdb: wall %.2fx  cpu %.2fx    botscope / wc -l: wall %.1f %%  cpu %.1f %%\n' \
  "$(echo "$DK / $BS" | bc -l)" "$(echo "$DK_CPU / $BS_CPU" | bc -l)" \
  "$(echo "100 * $WC / $BS" | bc -l)" "$(echo "100 * $WC_CPU / $BS_CPU" | bc -l)"
[ "$BS_ROW" = "$DK_ROW" ] || { echo "MISMATCH: botscope $BS_ROW vs duckdb $DK_ROW" >&2; exit 1; }
