#!/usr/bin/env bash
# Capture engine throughput: bare pcap record walk (the ceiling), the
# botscope-capture engine (decode + flows + TCP reassembly + checksums) and
# tshark's conversation tables on the same file, in one run. Prints CPU
# seconds (user+sys, robust on a shared machine), MB/s per CPU second and
# the engine/tshark ratio.
#
# usage: bench/capture-engine.sh [FILE]   (default: ~500 MB built by
#        concatenating every little-endian Ethernet capture of the corpus)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SHARED=${BOTSCOPE_SHARED:-$ROOT/../shared}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
(cd "$ROOT" && cargo build -q --release -p botscope-capture --example walk >&2)
BIN=$CARGO_TARGET_DIR/release/examples/walk
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
FILE=${1:-}
if [ -z "$FILE" ]; then
  FILE=$W/big.pcap
  python3 - "$SHARED/corpus" "$FILE" <<'PY'
import os, struct, sys
recs = []
for root, _, files in os.walk(sys.argv[1]):
    for f in sorted(files):
        h = open(os.path.join(root, f), 'rb').read()
        if h[:4] != b'\xd4\xc3\xb2\xa1' or struct.unpack('<I', h[20:24])[0] != 1:
            continue
        o = 24
        while o + 16 <= len(h):
            _, _, incl, orig = struct.unpack('<IIII', h[o:o + 16])
            if o + 16 + incl > len(h):
                break
            recs.append((h[o + 16:o + 16 + incl], orig))
            o += 16 + incl
with open(sys.argv[2], 'wb') as out:
    out.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 262144, 1))
    size, i = 0, 0
    while size < 500_000_000:
        for r, orig in recs:
            out.write(struct.pack('<IIII', 1_600_000_000 + i // 100000, i % 1000000, len(r), orig))
            out.write(r)
            size += len(r) + 16
            i += 1
PY
fi
MB=$(python3 -c "import os,sys; print(os.path.getsize(sys.argv[1])/1e6)" "$FILE")
cpu() { /usr/bin/time -f "%U %S" "$@" 2>&1 >/dev/null | tail -n 1 | awk '{print $1+$2}'; }
WALK=$(cpu "$BIN" "$FILE" walk)
ENG=$(cpu "$BIN" "$FILE" engine)
TSH=$(cpu tshark -n -r "$FILE" -q -z conv,tcp -z conv,udp)
python3 - "$MB" "$WALK" "$ENG" "$TSH" <<'PY'
import sys
mb, walk, eng, tsh = (float(x) for x in sys.argv[1:])
f = lambda s: mb / s if s > 0 else float('inf')
print(f"input {mb:.0f} MB")
print(f"walk    {walk:7.2f} cpu-s  {f(walk):8.0f} MB/s")
print(f"engine  {eng:7.2f} cpu-s  {f(eng):8.0f} MB/s")
print(f"tshark  {tsh:7.2f} cpu-s  {f(tsh):8.0f} MB/s  (conv,tcp + conv,udp)")
print(f"engine/walk throughput {walk/eng:.2f}; engine/tshark speed-up {tsh/eng:.1f}x")
PY
