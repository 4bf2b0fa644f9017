#!/usr/bin/env bash
# bench.sh - measure `sipflow capture` on loopback under SIPp load: calls per
# second with RTP both ways, and report sipflow's CPU (user+system, from
# /proc/PID/stat while the traffic runs, as % of one core) and the kernel's
# drops (from sipflow's summary line).
#
# Usage (as root: capture on lo; SIPp's pcap play uses raw sockets):
#     cmd/sipflow/testdata/live/bench.sh SIPFLOW_BINARY [RATE [CALLS]]
#     LOAD=pcap ...      the RTP of /work/shared/bench/scenarios/uac_call.xml:
#                        SIPp's play_pcap_audio of g711a.pcap (7 s, 33 packets
#                        a second), one SIPp thread per call
#     LOAD=rtpstream ... (the default) uac_rtpstream.xml here: the same call,
#                        RTP from SIPp's rtpstream engine (7 s of A-law, 50
#                        packets a second), a few threads for every call
#     KEEP_WORK=1 ...    keep the work dir (SIPp logs, the capture, the calls)
# The UAS is uas_call.xml with -rtp_echo (it echoes the RTP). Defaults: 200
# calls/s, 2000 calls (10 s of new calls, about 1,600 at once). Bounded by
# -m and timeout; only 127.0.1.10 and 127.0.1.20 are used. Needs sipp and
# /work/shared/bench (or BENCH_DIR).
set -u
bin=$(realpath "${1:?usage: bench.sh SIPFLOW_BINARY [RATE [CALLS]]}")
rate=${2:-200}
calls=${3:-2000}
load=${LOAD:-rtpstream}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
bench=$(realpath "${BENCH_DIR:-/work/shared/bench}")
work=$(mktemp -d /tmp/sipflow-bench.XXXXXX)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    if [ "${KEEP_WORK:-0}" = 1 ]; then echo "work dir kept: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

case $load in
pcap)
    cd "$bench" || exit 2   # uac_call.xml names its audio relative to this directory
    uac=(-sf "$bench/scenarios/uac_call.xml" -mp 10000) ;;
rtpstream)
    cd "$work" || exit 2
    head -c 56000 /dev/zero | tr '\0' '\325' >bench_alaw.raw   # 7 s of A-law silence
    uac=(-sf "$here/uac_rtpstream.xml" -mp 10000 -rtp_threadtasks 100) ;;
*)
    echo "LOAD must be pcap or rtpstream" >&2; exit 2 ;;
esac

hz=$(getconf CLK_TCK)
cpu() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }   # utime + stime of the process, clock ticks

${NICE:+nice -n "$NICE"} "$bin" capture -i lo ${BUFFER:+--buffer-size "$BUFFER"} --duration 300s --json -w "$work/bench.pcap" >"$work/calls.json" 2>"$work/sipflow.err" &
sf=$!; pids+=("$sf")
for _ in $(seq 100); do grep -q 'capturing on' "$work/sipflow.err" && break; sleep 0.1; done
timeout 300 sipp -sf "$bench/scenarios/uas_call.xml" -i 127.0.1.20 -p 5082 -mi 127.0.1.20 -mp 50000 -rtp_echo \
    -m "$calls" -nostdin >"$work/uas.log" 2>&1 &
pids+=($!)
sleep 0.5
c0=$(cpu "$sf"); t0=$(date +%s.%N)
timeout 300 sipp 127.0.1.20:5082 "${uac[@]}" -i 127.0.1.10 -p 5080 -mi 127.0.1.10 \
    -s bob -r "$rate" -l 5000 -m "$calls" -recv_timeout 20s -nostdin \
    -trace_stat -stf "$work/uac.csv" -fd 1 >"$work/uac.log" 2>&1 &
uac_pid=$!; pids+=("$uac_pid")
wait "$uac_pid"
echo "sipp uac exit $? (0: every call completed)"
c1=$(cpu "$sf"); t1=$(date +%s.%N)
sleep 6   # the last calls are reported 5 s after their BYE
kill -INT "$sf"; wait "$sf"
# the rate SIPp achieved: when (stats every second) it had created every call
made=$(awk -F';' -v n="$calls" 'NR > 1 && $12 + 0 >= n { split($5, t, ":"); print t[1] * 3600 + t[2] * 60 + t[3] + t[4] / 1e6; exit }' "$work/uac.csv")
awk -v c="$((c1 - c0))" -v hz="$hz" -v t0="$t0" -v t1="$t1" -v r="$rate" -v n="$calls" -v l="$load" -v m="${made:-0}" 'BEGIN {
    made = m > 0 ? n / m : 0
    printf "load %s: %d calls with RTP both ways at %d/s asked; SIPp had made them all after %.0f s (%.0f/s)\n", l, n, r, m, made
    printf "sipflow capture: %.1f%% of one core over %.1f s of traffic\n", 100 * c / hz / (t1 - t0), t1 - t0 }'
tail -2 "$work/sipflow.err"
echo "calls reported: $(grep -c '"kind":"call"' "$work/calls.json"), completed: $(grep -c '"state":"completed"' "$work/calls.json")"
# what was printed live is what the file it wrote gives
"$bin" calls --json "$work/bench.pcap" 2>/dev/null | sort >"$work/file.json"
# (calls still undecided at the file's last packet may have been concluded
# live, which ran on after it: see the README)
sort "$work/calls.json" >"$work/live.json"
ndiff=$(comm -23 "$work/live.json" "$work/file.json" | grep -c . || true)
echo "sipflow calls --json on the -w file: $ndiff of $(grep -c . "$work/live.json") calls differ from those printed live"
