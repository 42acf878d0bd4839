#!/usr/bin/env bash
# Specimen throughput: botscope ingest (hashes, quarantine, SQLite, PE walk,
# UPX unpack, strings, config, IOCs, CTPH, the de-obfuscation stage) +
# YARA-X scan of N synthetic specimens, against the same work done by
# single-purpose tools over the same files: `openssl dgst` MD5, SHA-1 and
# SHA-256, CTPH (the faster of `ssdeep` and `botscope specimen fuzzy`) and
# `yr scan` (the YARA-X CLI) with the same rules. The composite floor is
# the sum of those tools' CPU times, one thread each; the bar (issue 19):
# botscope's CPU for add + set add + scan <= the floor's, i.e. >= 100 %.
# Also printed: botscope against `yr` alone at equal thread counts (1,
# then one a core), and botscope's CPU time per stage.
#
# usage: bench/specimen.sh [N=10000] [OVERLAY_KIB=100]   (10,000 × ~110 KiB ≈ 1.1 GB)
# yr is installed with `cargo install yara-x-cli --version 1.22.1 --locked`
# into $YR_ROOT (default: $ROOT/target/yr) when missing — a long build
# (or set YR=/path/to/yr). The load average is printed around each run, and
# CPU time (user + sys) beside wall time: on a shared machine wall time is noise.
# Without yr at hand: YR=/bin/true YR_CPU=<yr's 1-thread CPU seconds from an
# earlier run on the same input> puts that figure into the floor.
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

# run THREADS: botscope add + set add + scan into a fresh store, then yr,
# each with THREADS threads; CPU (user+sys) and wall seconds into $W/t<THREADS>.
run() {
  local th=$1 out=$W/t$1
  mkdir -p "$out"
  rm -rf "$W/st"
  echo "load before ($th thread(s)): $(uptime)" >&2
  local T="/usr/bin/time -f %e:%U+%S -a -o $out/bs.txt"
  $T "$BIN" specimen --store "$W/st" add --threads "$th" --source sensor --seen 2005-04-21 "$W/in" >&2
  $T "$BIN" specimen --store "$W/st" set add --name rules --version 1 --released 2005-04-21 "$RULES" >&2
  $T "$BIN" specimen --store "$W/st" scan --threads "$th" --at 2005-04-22 >&2
  /usr/bin/time -f %e:%U+%S -o "$out/yr.txt" \
    "$YR" scan --threads "$th" --recursive --disable-console-logs "$RULES" "$W/in" > "$out/yr.out"
  echo "load after:  $(uptime)" >&2
}
CORES=$(nproc)
run 1
run "$CORES"
# The floor: the three digests the store must record, by OpenSSL (asm MD5,
# SHA-NI SHA-1/SHA-256), file by file over the same bytes, one thread;
# then CTPH by ssdeep and by botscope's own single-purpose `fuzzy`.
if command -v openssl > /dev/null; then
  for h in md5 sha1 sha256; do
    /usr/bin/time -f %e:%U+%S -a -o "$W/digests.txt" openssl dgst -"$h" "$W"/in/* > /dev/null
  done
fi
if command -v ssdeep > /dev/null; then
  /usr/bin/time -f %e:%U+%S -o "$W/ssdeep.txt" ssdeep -s -r "$W/in" > /dev/null
fi
/usr/bin/time -f %e:%U+%S -o "$W/bsfuzzy.txt" "$BIN" specimen fuzzy "$W/in" > /dev/null
echo "load at the floor's end: $(uptime)" >&2

python3 - "$BYTES" "$W" "$N" 1 "$CORES" <<'PY2'
import sys, os
b, w, n = int(sys.argv[1]), sys.argv[2], sys.argv[3]
def parse(path):
    rows = []
    for l in open(path):
        l = l.strip()
        if not l or ":" not in l:
            continue
        wall, cpu = l.split(":")
        rows.append((float(wall), sum(float(x) for x in cpu.split("+"))))
    return rows
print(f"input: {n} specimens, {b/1e6:.0f} MB")
for th in sys.argv[4:]:
    d = os.path.join(w, "t" + th)
    bs, (yw, yc) = parse(os.path.join(d, "bs.txt")), parse(os.path.join(d, "yr.txt"))[0]
    matches = sum(1 for l in open(os.path.join(d, "yr.out")) if l.strip())
    bw, bc = sum(r[0] for r in bs), sum(r[1] for r in bs)
    print(f"-- {th} thread(s); yr matches: {matches}")
    print(f"botscope ingest+extract+scan: wall {bw:.1f} s ({b/bw/1e6:.1f} MB/s), cpu {bc:.1f} s ({b/bc/1e6:.1f} MB/s)")
    if yc > 0 and yw > 0:
        print(f"yr scan:                      wall {yw:.1f} s ({b/yw/1e6:.1f} MB/s), cpu {yc:.1f} s ({b/yc/1e6:.1f} MB/s)")
        print(f"ratio botscope/yr: wall {yw/bw*100:.0f} %, cpu {yc/bc*100:.0f} %")
    else:
        print("yr scan: not run (YR=/bin/true)")
    for name, (sw, sc) in zip(["add (hash, store, PE, unpack, strings, config, IOC, fuzzy, deobf)", "set add", "scan (YARA-X)"], bs):
        print(f"  {name}: wall {sw:.1f} s, cpu {sc:.1f} s ({b/sc/1e6 if sc else 0:.1f} MB/s)")
    if len(bs) == 3 and bs[2][1] > 0 and yc > 0:
        print(f"  ratio botscope scan alone/yr: cpu {yc/bs[2][1]*100:.0f} %")
def opt(name):
    p = os.path.join(w, name)
    return parse(p) if os.path.exists(p) else []
dg = opt("digests.txt")
dc = sum(r[1] for r in dg)
yw1, yc1 = parse(os.path.join(w, "t1", "yr.txt"))[0]
if yc1 == 0 and os.environ.get("YR_CPU"):
    # yr not at hand: its CPU from an earlier run on the same input size.
    yc1 = float(os.environ["YR_CPU"])
    print(f"yr scan CPU taken from YR_CPU: {yc1:.1f} s")
ctph = [(n, r[0][1]) for n, r in [("ssdeep", opt("ssdeep.txt")), ("botscope fuzzy", opt("bsfuzzy.txt"))] if r]
for n, c in ctph:
    print(f"CTPH by {n}: cpu {c:.1f} s ({b/c/1e6:.1f} MB/s)")
if dc > 0 and ctph:
    cn, cc = min(ctph, key=lambda x: x[1])
    floor = dc + cc + yc1
    print(f"digests (openssl md5 + sha1 + sha256): cpu {dc:.1f} s ({b/dc/1e6:.1f} MB/s)")
    print(f"composite floor = digests + CTPH ({cn}) + yr scan (1 thread): cpu {floor:.1f} s ({b/floor/1e6:.1f} MB/s)")
    for th in sys.argv[4:]:
        bs = parse(os.path.join(w, "t" + th, "bs.txt"))
        bc = sum(r[1] for r in bs)
        print(f"botscope {th} thread(s) against the floor: cpu {bc:.1f} s ({b/bc/1e6:.1f} MB/s) = {floor/bc*100:.0f} % of the floor (bar 100 %)")
PY2
