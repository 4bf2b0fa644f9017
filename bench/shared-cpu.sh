#!/usr/bin/env bash
# Times `sipflow calls --json` on big-sip with one processor shared: a busy
# loop pinned (taskset) to processor 0, then to processor 1, then none. Each
# way it runs the pipeline and one goroutine (GOMAXPROCS=1) in turn, ROUNDS
# times each, and sngrep once, and prints every run: wall time, user and
# system time, voluntary context switches. The twenty-fifth round's finding
# (bench/HISTORY.md): with either processor shared, the pipeline is no faster
# than one goroutine, and, in a quiet spell, sngrep, which runs on the free
# processor, is not slowed: a host that slows one processor slows sipflow
# more than sngrep. (In a busy spell everything is slower, sngrep too.)
# With the loop, sipflow gets about one processor in all (the twenty-sixth
# round: 0.805 s of processor time in 0.770 s). The host's own slow spells
# are another thing: both processors run, slower (bench/vcpu-speed.sh).
# The capture: ../shared/bench/make-big.sh writes big-sip.pcap to
# ${PERF_DIR:-/tmp/perf}. Needs a 2-processor machine, taskset and sngrep.
# Usage: bench/shared-cpu.sh SIPFLOW_BINARY [ROUNDS]
set -u
bin=${1:?usage: shared-cpu.sh SIPFLOW_BINARY [ROUNDS]}
rounds=${2:-5}
f=${PERF_DIR:-/tmp/perf}/big-sip.pcap
[ -f "$f" ] || { echo "missing $f: run ../shared/bench/make-big.sh first"; exit 2; }
cat "$f" >/dev/null
loop=
trap '[ -n "$loop" ] && kill "$loop" 2>/dev/null' EXIT
for cpu in 0 1 none; do
  loop=
  if [ "$cpu" != none ]; then
    taskset -c "$cpu" sh -c 'while :; do :; done' &
    loop=$!
  fi
  for _ in $(seq "$rounds"); do
    /usr/bin/time -f "loop on $cpu: pipeline      %e s, user %U s, sys %S s, %w waits" "$bin" calls --json "$f" 2>&1 >/dev/null | tail -1
    GOMAXPROCS=1 /usr/bin/time -f "loop on $cpu: one goroutine %e s, user %U s, sys %S s, %w waits" "$bin" calls --json "$f" 2>&1 >/dev/null | tail -1
  done
  if command -v sngrep >/dev/null; then
    /usr/bin/time -f "loop on $cpu: sngrep        %e s, user %U s, sys %S s" sngrep -N -q -l 2000000 -I "$f" -O /dev/null </dev/null 2>&1 >/dev/null | tail -1
  fi
  [ -n "$loop" ] && kill "$loop"
done
