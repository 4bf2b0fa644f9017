#!/usr/bin/env bash
# Regenerates cmd/sipflow/default.pgo, the CPU profile `go build` uses for
# profile-guided optimisation (Go's -pgo=auto: inlining and layout chosen
# from where the time really goes). Run it after changing a hot path; a
# stale profile still builds correct code, only less well optimised.
# The profile comes from the commands users run most, on the two big real
# captures ../shared/bench/make-big.sh writes to ${PERF_DIR:-/tmp/perf}:
# `calls --json` and `check --json` on both, `rtp --json` on big-rtp.
# Usage: bench/pgo.sh [--force] [--merge-rtp]
# --merge-rtp profiles only the big-rtp runs (`calls --json`, `rtp --json`)
# and merges them into the current profile instead of replacing it: after
# a change to the media path alone, a whole new sample can lose signalling
# inlining the current profile got right (the forty-fifth round: +0.5% on
# big-sip's first 60 MB), while the old one no longer finds the changed
# function's hot calls.
set -euo pipefail
force= merge=
for a in "$@"; do
  case $a in
    --force) force=1 ;;
    --merge-rtp) merge=1 ;;
    *) echo "usage: bench/pgo.sh [--force] [--merge-rtp]" >&2; exit 2 ;;
  esac
done
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
if [ -n "$merge" ]; then
  run calls --json "$dir/big-rtp.pcap"
  run rtp --json "$dir/big-rtp.pcap"
  go tool pprof -proto cmd/sipflow/default.pgo "$tmp"/*.prof >"$tmp/new.pgo"
else
  run calls --json "$dir/big-sip.pcap"
  run calls --json "$dir/big-rtp.pcap"
  run check --json "$dir/big-sip.pcap"
  run check --json "$dir/big-rtp.pcap"
  run rtp --json "$dir/big-rtp.pcap"
  go tool pprof -proto "$tmp"/*.prof >"$tmp/new.pgo"
fi
# Keep the new profile only if the binary it builds does less work than
# the one the current profile builds: PGO finds hot calls by their place in
# the function, so a profile sampled on changed code (or on a busy host)
# can undo inlining the current one got right, and the package benchmarks,
# built without a profile, do not show it. Work is counted as callgrind's
# instructions (deterministic) over big-sip's first 60 MB plus big-rtp's
# first 90 MB (signalling, and media: a profile sampled after a change to
# one can lose the other's inlining). --force keeps the new profile
# regardless; without valgrind it is kept, as before.
if [ -z "$force" ] && [ -f cmd/sipflow/default.pgo ] && command -v valgrind >/dev/null; then
  head -c 60000000 "$dir/big-sip.pcap" >"$tmp/head-sip.pcap" # the cut last record is reported, not counted
  head -c 90000000 "$dir/big-rtp.pcap" >"$tmp/head-rtp.pcap"
  count1() { # sipflow exits 3 on the cut record: its count is still good
    { GOGC=off GOMAXPROCS=1 GODEBUG=asyncpreemptoff=1 valgrind --tool=callgrind --callgrind-out-file=/dev/null \
      "$1" calls --json "$2" 2>&1 >/dev/null || true; } | awk '/refs:/ {gsub(",", "", $NF); print $NF}'
  }
  count() {
    local s r
    s=$(count1 "$1" "$tmp/head-sip.pcap")
    r=$(count1 "$1" "$tmp/head-rtp.pcap")
    [ -n "$s" ] && [ -n "$r" ] || return 0
    echo "$s $r $((s + r))"
  }
  go build -pgo=cmd/sipflow/default.pgo -o "$tmp/current" ./cmd/sipflow
  go build -pgo="$tmp/new.pgo" -o "$tmp/new" ./cmd/sipflow
  read -r cs cr cur < <(count "$tmp/current"; echo)
  read -r ns nr new < <(count "$tmp/new"; echo)
  [ -n "$cur" ] && [ -n "$new" ] || { echo "pgo.sh: callgrind gave no count" >&2; exit 1; }
  echo "instructions over big-sip's first 60 MB and big-rtp's first 90 MB: $cs + $cr = $cur with the current profile, $ns + $nr = $new with the new one"
  if [ "$new" -ge "$cur" ]; then
    echo "kept the current cmd/sipflow/default.pgo (bench/pgo.sh --force replaces it anyway)"
    exit 0
  fi
fi
cp "$tmp/new.pgo" cmd/sipflow/default.pgo
echo "wrote cmd/sipflow/default.pgo ($(wc -c <cmd/sipflow/default.pgo) bytes) from $n runs"
