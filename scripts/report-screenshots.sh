#!/usr/bin/env bash
# Screenshots of every section of a rendered report, for docs/:
#   scripts/report-screenshots.sh demo-out/report.html docs
# writes docs/report-<section>.png (one per section, the window as tall as
# the section) and docs/demo-report.png (the top and Tables 7 and 8).
# Needs /usr/bin/chromium, run headless, offline, in a fresh profile.
set -euo pipefail
REPORT=$(realpath "$1")
OUT=${2:-docs}
mkdir -p "$OUT"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

chromium() { # args...
    local profile
    profile=$(mktemp -d -p "$WORK")
    /usr/bin/chromium --headless --no-sandbox --disable-gpu --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --hide-scrollbars --user-data-dir="$profile" --virtual-time-budget=2000 "$@" 2>/dev/null
}

shot() { # html png: a screenshot as tall as the page's content
    local h
    sed 's|</body>|<script>document.title="H="+Math.ceil(document.documentElement.getBoundingClientRect().height)</script></body>|' \
        "$1" >"$1.measure.html"
    h=$(chromium --window-size=1200,800 --dump-dom "file://$1.measure.html" | grep -o '<title>H=[0-9]*' | grep -o '[0-9]*$')
    chromium --window-size=1200,"$((h + 30))" --screenshot="$2" "file://$1" >/dev/null
}

# Only these sections shown (header and navigation hidden).
only() { # css-selector-list out.html
    sed "s|</style>|header,nav{display:none} section{display:none} $1{display:block} body{padding-top:0}</style>|" \
        "$REPORT" >"$2"
}

ids=$(grep -o '<section id="[a-z0-9_]*"' "$REPORT" | sed 's/.*id="\(.*\)"/\1/')
for id in $ids; do
    only "section#$id" "$WORK/$id.html"
    shot "$WORK/$id.html" "$OUT/report-$id.png"
    echo "$OUT/report-$id.png"
done
# The README's picture: the top of the page and Tables 7 and 8.
only "section#table7,section#table8" "$WORK/readme.html"
sed -i 's|header,nav{display:none}|nav{display:none}|' "$WORK/readme.html"
shot "$WORK/readme.html" "$OUT/demo-report.png"
echo "$OUT/demo-report.png"
