#!/usr/bin/env bash
# Installs what botscope's demo, tests and benchmarks need from Debian's
# archive. Idempotent: packages already present are skipped, so a warm
# machine pays nothing. Run as root (CI and developer machines are root).
set -euo pipefail

PKGS=(
  libpcap0.8         # live capture (--interface): libpcap, loaded at run time
  libsqlite3-dev     # SQLite that the specimen and intel stores link (on Rust images already)
  tshark             # peer for capture tests and bench/capture.sh
  libndpi-bin        # ndpiReader, peer for bench/capture.sh
  bind9 bind9-dnsutils   # named + dig: resolver-log, dnstap and RPZ tests
  unbound            # second resolver for log and RPZ tests
  fstrm-bin          # fstrm_capture: dnstap socket collector
  ngircd             # real IRC server for the live-capture test
  tftpd-hpa vsftpd   # attacker-side servers for the sensor namespace test
  python3            # its http.server: the attacker-side HTTP server of the sensor shell test
  nftables           # nft -c -f validates exported sets
  iptables           # iptables-restore --test validates exported rules
  iproute2           # ip netns for the sensor test
  chromium           # report/dashboard browser test
  zip python3-pefile # specimen store tests: encrypted archives, PE cross-check
  ssdeep             # fuzzy-hash peer for specimen tests and bench/fuzzy.sh
  gcc-mingw-w64-i686 # i686-w64-mingw32-gcc: benign PE32 config-layout specimens in specimen tests
  nasm               # assembles the sensor's test shellcode (decoded, never run)
)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # Debian starts daemons on install; tests start their own on loopback.
  for svc in named bind9 unbound ngircd tftpd-hpa vsftpd; do
    (command -v systemctl >/dev/null && systemctl stop "$svc" 2>/dev/null) || true
    (command -v service >/dev/null && service "$svc" stop >/dev/null 2>&1) || true
  done
fi

# PySpark runs jobs/deemed_rate.py in local mode in the botscope-dnslog lake test (Java 17 is present).
python3 -c 'import pyspark' 2>/dev/null || pip install -q pyspark
# stix2 validates the STIX 2.1 bundle in the botscope-intel export test.
python3 -c 'import stix2' 2>/dev/null || pip install -q stix2
