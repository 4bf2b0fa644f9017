#!/usr/bin/env bash
# Regenerates cmd/sipflow/default.pgo, the CPU profile `go build` uses for
# profile-guided optimisation (Go's -pgo=auto: inlining and layout chosen
# from where the time really goes). Run it after changing a hot path; a
# stale profile still builds correct code, only less well optimised.
# The profile comes from the commands users run most, on the two big real
# captures ../shared/bench/make-big.sh writes to ${PERF_DIR:-/tmp/perf}:
# `calls --json` and `check --json` on both, `rtp --json` on big-rtp.
# Usage: bench/pgo.sh
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${PERF_DIR:-/tmp/perf}
for f in big-sip.pcap big-rtp.pcap; do
  [ -f "$dir/$f" ] || { echo "missing $dir/$f: run ../shared/bench/make-big.sh first"; exit 2; }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Profile a build made without the old profile, so it does not steer itself.
go build -pgo=off -o "$tmp/sipflow" ./cmd/sipflow
n=0
run() {
  n=$((n + 1))
  "$tmp/sipflow" --cpuprofile "$tmp/$n.prof" "$@" >/dev/null 2>&1 || true # check exits 1 on findings
}
run calls --json "$dir/big-sip.pcap"
run calls --json "$dir/big-rtp.pcap"
run check --json "$dir/big-sip.pcap"
run check --json "$dir/big-rtp.pcap"
run rtp --json "$dir/big-rtp.pcap"
go tool pprof -proto "$tmp"/*.prof >cmd/sipflow/default.pgo
echo "wrote cmd/sipflow/default.pgo ($(wc -c <cmd/sipflow/default.pgo) bytes) from $n runs"
