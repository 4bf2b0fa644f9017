#!/usr/bin/env bash
# Times `tshark -q -z rtp,streams` once and `sipflow calls --json` and
# `sipflow rtp --json` three times each on the same capture, in one run, and
# prints each sipflow command's median wall time, speed-up and peak memory:
# issue 7's yardstick. The capture: ../shared/bench/make-big.sh writes
# big-rtp.pcap to ${PERF_DIR:-/tmp/perf}.
# Usage: bench/compare-rtp.sh SIPFLOW_BINARY [CAPTURE]
set -u
bin=${1:?usage: compare-rtp.sh SIPFLOW_BINARY [CAPTURE]}
f=${2:-${PERF_DIR:-/tmp/perf}/big-rtp.pcap}
[ -f "$f" ] || { echo "missing $f: run ../shared/bench/make-big.sh first"; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat "$f" >/dev/null
/usr/bin/time -f '%e %M' -o "$tmp/ts" tshark -n -r "$f" -q -z rtp,streams >/dev/null 2>&1
read -r ts tm < <(grep -v '^Command' "$tmp/ts") # time notes a non-zero exit on a line of its own
echo "tshark -q -z rtp,streams: ${ts}s ${tm} KB"
for cmd in "calls --json" "rtp --json"; do
  for _ in 1 2 3; do
    # shellcheck disable=SC2086
    /usr/bin/time -f '%e %M' -a -o "$tmp/sf" "$bin" $cmd "$f" >/dev/null 2>&1
  done
  grep -v '^Command' "$tmp/sf" | sort -n | awk -v ts="$ts" -v c="$cmd" '{w[NR]=$1; m=($2>m)?$2:m}
    END {printf "sipflow %s: runs %s %s %s s, median %.2f s (%.1fx), peak %d KB\n", c, w[1], w[2], w[3], w[2], ts/w[2], m}'
  rm "$tmp/sf"
done
