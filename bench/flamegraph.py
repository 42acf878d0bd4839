#!/usr/bin/env python3
"""Folded stacks and a flame graph (SVG) from `perf script` output, with no
tools beyond Python (inferno and FlameGraph are not installed here).

    perf record -F 2000 --call-graph dwarf -o perf.data CMD...
    perf script -i perf.data | bench/flamegraph.py --title T --folded out.folded > out.svg
    bench/flamegraph.py --top 25 < out.folded     # table: inclusive/self % by function
"""
import argparse, collections, html, re, sys

def fold(lines):
    """perf script text -> Counter of 'root;...;leaf' stacks."""
    stacks, cur, in_stack = collections.Counter(), [], False
    for line in lines:
        line = line.rstrip("\n")
        if not line.strip():
            if cur:
                stacks[";".join(reversed(cur))] += 1
            cur, in_stack = [], False
            continue
        if not line.startswith((" ", "\t")):
            in_stack, cur = True, []
            continue
        parts = line.strip().split(None, 1)
        if len(parts) < 2:
            continue
        sym = re.sub(r"\+0x[0-9a-f]+$", "", parts[1].rsplit(" (", 1)[0])
        sym = re.sub(r"::h[0-9a-f]{16}$", "", sym)
        cur.append(sym or "[unknown]")
    if cur:
        stacks[";".join(reversed(cur))] += 1
    return stacks

def svg(stacks, title, width=1200, row=16):
    root = {"n": 0, "c": {}}
    for st, n in stacks.items():
        node = root; node["n"] += n
        for f in st.split(";"):
            node = node["c"].setdefault(f, {"n": 0, "c": {}}); node["n"] += n
    total = max(root["n"], 1)
    rects, depth_max = [], 0
    def walk(node, name, x, d):
        nonlocal depth_max
        w = node["n"] / total * (width - 20)
        if w < 0.3:
            return
        depth_max = max(depth_max, d)
        rects.append((x, d, w, name, node["n"]))
        cx = x
        for k, v in sorted(node["c"].items()):
            walk(v, k, cx, d + 1); cx += v["n"] / total * (width - 20)
    walk(root, "all", 10, 0)
    h = (depth_max + 3) * row + 20
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{h}" font-family="monospace" font-size="11">',
           f'<text x="10" y="16" font-size="14">{html.escape(title)} ({total} samples)</text>']
    for x, d, w, name, n in rects:
        y = h - (d + 1) * row - 4
        hue = sum(name.split("::")[0].encode()) % 60
        out.append(f'<g><title>{html.escape(name)} ({n} samples, {100*n/total:.1f} %)</title>'
                   f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{row-1}" fill="hsl({hue},80%,60%)"/>')
        if w > 40:
            label = name[: int(w / 7)]
            out.append(f'<text x="{x+2:.1f}" y="{y+row-4}">{html.escape(label)}</text>')
        out.append("</g>")
    out.append("</svg>")
    return "\n".join(out)

def table(stacks, top):
    total = sum(stacks.values()); incl, own = collections.Counter(), collections.Counter()
    for st, n in stacks.items():
        fs = st.split(";")
        for f in set(fs):
            incl[f] += n
        own[fs[-1]] += n
    print("| function | inclusive % | self % |\n|---|---|---|")
    for f, n in own.most_common(top):
        print(f"| `{f[:90]}` | {100*incl[f]/total:.1f} | {100*n/total:.1f} |")

ap = argparse.ArgumentParser()
ap.add_argument("--title", default="flame graph")
ap.add_argument("--folded")
ap.add_argument("--top", type=int)
a = ap.parse_args()
if a.top:
    st = collections.Counter()
    for line in sys.stdin:
        s, n = line.rstrip("\n").rsplit(" ", 1); st[s] += int(n)
    table(st, a.top)
else:
    st = fold(sys.stdin)
    if a.folded:
        with open(a.folded, "w") as f:
            for s, n in sorted(st.items()):
                f.write(f"{s} {n}\n")
    print(svg(st, a.title))
