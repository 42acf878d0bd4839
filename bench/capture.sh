#!/usr/bin/env bash
# Throughput of `botscope capture read` against tshark (field extraction of
# DNS names and IRC lines), nDPI's ndpiReader and the bare pcap record walk
# (the reading ceiling), all on the same capture in one run.
#
#   bench/capture.sh [CAPTURE]       # default: a ≥1 GB synthetic field
#   SCALE=3 bench/capture.sh         # smaller synthetic field
#   SOURCE=corpus SIZE_MB=300 bench/capture.sh
#   BENCH_DIR=/tmp/b BIN=target/release/botscope bench/capture.sh
#                                    # reuse /tmp/b/bench-capture.pcap and a built binary
#
# Without CAPTURE, the default (SOURCE=synth) generates a field with
# `botscope synth --scale $SCALE --days 4` (honeypot background, exploits
# and copies, infected hosts with DNS, IRC C&C, floods, spam relays and
# HTTP updates) and merges its captures into one file with mergecap.
# SOURCE=corpus instead replicates bot-like corpus traffic (the real IRC
# C&C session, DNS, TFTP and HTTP traces) with the client address changed
# per copy so every copy is a new set of flows.
# Bars (issue 19): botscope ≥ 10× tshark, ≥ 2× ndpiReader, ≥ 25 % of the bare
# walk (the moonshot: 50 %), on both inputs.
# Each tool's wall and CPU (user + sys) seconds are printed, with the
# ratios on both (the machine is often shared: CPU time is steadier).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
shared=${BOTSCOPE_SHARED:-$here/../shared}
work=${BENCH_DIR:-$(mktemp -d)}
size_mb=${SIZE_MB:-1024}
if [ -z "${BIN:-}" ]; then
  cargo build --release -q -p botscope --manifest-path "$here/Cargo.toml"
fi
bin=${BIN:-${CARGO_TARGET_DIR:-$here/target}/release/botscope}

cap=${1:-$work/bench-capture.pcap}
if [ ! -s "$cap" ] && [ "${SOURCE:-synth}" = synth ]; then
  "$bin" synth --out "$work/field" --seed 1 --scale "${SCALE:-10}" --days 4 --no-resolver >&2
  mergecap -F pcap -w "$cap" "$work"/field/pcap/*.pcap
fi
if [ ! -s "$cap" ]; then
  python3 - "$cap" "$size_mb" "$shared/corpus" <<'PY'
import struct, sys
out, size_mb, corpus = sys.argv[1], int(sys.argv[2]), sys.argv[3]
srcs = ["suricata-verify/tests/irc/input.pcap", "spicy-tftp/testing/Traces/tftp_rrq.pcap",
        "zeek/testing/btest/Traces/http/pipelined-requests.pcap", "zeek/testing/btest/Traces/dns53.pcap",
        "zeek/testing/btest/Traces/dnssec/rrsig.pcap", "zeek/testing/btest/Traces/irc-basic.pcap",
        "suricata-verify/tests/dns/dns-tcp-www-google-com/dns.pcap"]
recs = []
for s in srcs:
    d = open(f"{corpus}/{s}", "rb").read()
    magic, = struct.unpack("<I", d[:4])
    if magic != 0xa1b2c3d4 or struct.unpack("<I", d[20:24])[0] != 1:
        continue
    off = 24
    while off + 16 <= len(d):
        ts, us, incl, orig = struct.unpack("<IIII", d[off:off+16])
        recs.append(bytearray(d[off+16:off+16+incl])); off += 16 + incl
def ipsum(h):
    s = sum(struct.unpack("!%dH" % (len(h)//2), h))
    while s > 0xffff: s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff
target = size_mb * 1_000_000
with open(out, "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 262144, 1))
    written, copy, t = 24, 0, 1_100_000_000
    while written < target:
        copy += 1
        a, b = (copy >> 8) & 0xff, copy & 0xff
        for r in recs:
            p = bytearray(r)
            if len(p) >= 34 and p[12:14] == b"\x08\x00":
                # Rewrite both addresses' first two octets per copy: new flows, same payloads.
                for o in (26, 30):
                    p[o+2], p[o+3] = (p[o+2] + a) & 0xff, (p[o+3] + b) & 0xff
                p[24:26] = b"\0\0"
                ihl = (p[14] & 0xf) * 4
                p[24:26] = struct.pack("!H", ipsum(bytes(p[14:14+ihl])))
            t += 1
            f.write(struct.pack("<IIII", t // 1000, (t % 1000) * 1000, len(p), len(p)))
            f.write(p)
            written += 16 + len(p)
print(f"generated {out}: {written/1e6:.0f} MB, {copy} copies of {len(recs)} packets")
PY
fi
mb=$(python3 -c "import os,sys;print(os.path.getsize(sys.argv[1])/1e6)" "$cap")

# Wall and CPU (user + sys) seconds of one command: the machine is often
# shared, and CPU time is the steadier figure under load.
t() { /usr/bin/time -f "%e %U %S" -o "$work/time.txt" "$@" >"$work/last.out" 2>/dev/null || true; python3 -c "import sys;w,u,s=map(float,open(sys.argv[1]).read().split()[-3:]);print(f'{w:.3f},{u+s:.3f}')" "$work/time.txt"; }

out=$work/logs; rm -rf "$out"
bs=$(t "$bin" capture read "$cap" --no-checksums --out "$out" --json)
pkts=$(python3 -c "import json,sys;print(json.load(open(sys.argv[1]))['capture']['packets'])" "$work/last.out")
# The same with two worker threads (flows spread by address pair; same rows).
rm -rf "$out.w2"
bs2=$(t "$bin" capture read "$cap" --no-checksums --out "$out.w2" --json --workers 2)
# The engine's bare record walk (pcap record loop, no decoding): the ceiling.
walk=$(t "$bin" capture read "$cap" --walk-only)
ts=$(t tshark -r "$cap" -T fields -e dns.qry.name -e irc.request -e irc.response)
nd=$(t ndpiReader -i "$cap" -q)

echo "load: $(uptime)"
python3 - "$mb" "$pkts" "$bs" "$ts" "$nd" "$walk" "$bs2" <<'PY'
import sys
mb, pkts = float(sys.argv[1]), float(sys.argv[2])
bs, ts, nd, walk, bs2 = ([float(x) for x in a.split(",")] for a in sys.argv[3:8])
print(f"capture: {mb:.0f} MB, {pkts:.0f} packets")
print(f"{'':34} {'wall s':>8} {'MB/s':>9} {'Mpkt/s':>7} {'CPU s':>8} {'MB/CPU s':>9}")
def row(n, x):
    w, c = x
    print(f"{n:<34} {w:8.2f} {mb/w:9.1f} {pkts/w/1e6:7.2f} {c:8.2f} {mb/max(c,1e-9):9.1f}")
row("botscope capture read", bs); row("botscope capture read --workers 2", bs2); row("tshark -T fields (dns, irc)", ts); row("ndpiReader -i", nd); row("bare record walk (walk_records)", walk)
for i, name in ((0, "wall"), (1, "CPU")):
    print(f"[{name}] ratio vs tshark {ts[i]/bs[i]:6.1f}x (bar >= 10x)   vs ndpiReader {nd[i]/bs[i]:6.1f}x (bar >= 2x)   share of bare walk {100*walk[i]/bs[i]:6.1f} % (bar >= 25 %)")
PY
