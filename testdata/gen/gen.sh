#!/usr/bin/env bash
# gen.sh - regenerate the SIP test captures in testdata/ with SIPp on loopback.
#
# Usage (as root: tcpdump on lo, SIPp's RTP playback uses raw sockets):
#     sudo testdata/gen/gen.sh              # regenerate every capture
#     sudo testdata/gen/gen.sh call_rtp ... # regenerate only the named ones
#     KEEP_WORK=1 sudo testdata/gen/gen.sh  # keep the work dir (sipp logs)
#
# Needs: sipp (Debian package sip-tester, with PCAP play), tcpdump, tshark,
# editcap (wireshark-common), python3, coreutils timeout; for call_forwarded,
# kamailio (with its diversion module); for ws_call,
# tls_call, tls13_call, tls12_call and tls12_cbc_call only, kamailio,
# kamailio-websocket-modules, kamailio-tls-modules, python3-websocket and
# openssl.  tls13_call, tls12_call and tls12_cbc_call also write
# testdata/<name>.keylog, the caller's TLS secrets (NSS key log format).
#
# Each scenario runs a SIPp UAS and a SIPp UAC on their own loopback addresses
# (127.0.<N>.x, or ::1 with distinct ports for IPv6) while tcpdump records
# just those hosts/ports.  Every sipp is bounded with -m (number of calls) and
# `timeout`; so is tcpdump.  The capture is written to a temporary work dir,
# its SIP message sequence is checked with tshark, every address in it is
# checked to be loopback, and only then is it copied over testdata/<name>.pcap.
# Running the script again regenerates everything from scratch (Call-IDs,
# tags and timestamps change; the message sequences do not).
#
# The custom SIPp scenarios live in testdata/gen/scenarios/.  Address plan:
#   call_rtp                  127.0.10.1 (UAC) -> 127.0.10.2 (UAS), UDP 5060, RTP 16000
#   register_401              127.0.11.1 -> 127.0.11.2
#   call_tcp                  127.0.12.1 -> 127.0.12.2, TCP 5060
#   call_ipv6                 [::1]:5070 -> [::1]:5080, media 16100/16200
#   invite_no_ack             127.0.13.1 -> 127.0.13.2
#   invite_unanswered         127.0.14.1 -> 127.0.14.2
#   register_401_ignored      127.0.15.1 -> 127.0.15.2
#   register_wrong_password   127.0.16.1 -> 127.0.16.2
#   call_busy                 127.0.17.1 -> 127.0.17.2
#   call_cancel               127.0.18.1 -> 127.0.18.2
#   call_503                  127.0.19.1 -> 127.0.19.2
#   bye_unanswered            127.0.20.1 -> 127.0.20.2
#   call_hold                 127.0.21.1 -> 127.0.21.2
#   invite_407_proxy_auth     127.0.22.1 -> 127.0.22.2
#   forked_call               127.0.23.1 -> 127.0.23.2
#   b2bua_xcallid             127.0.24.1 -> 127.0.24.2:5060 (B2BUA) ;
#                             127.0.24.2:5080 (B2BUA) -> 127.0.24.3
#   transfer_refer            127.0.25.1 (transferee) -> 127.0.25.2 (transferor);
#                             the transfer target 127.0.25.3 is only named
#   reinvite_rejected         127.0.26.1 -> 127.0.26.2
#   call_not_ended            127.0.27.1 -> 127.0.27.2
#   invite_no_ack_non2xx      127.0.28.1 -> 127.0.28.2
#   options_unanswered        127.0.29.1 -> 127.0.29.2
#   session_expired           127.0.30.1 -> 127.0.30.2
#   dns_failover              127.0.31.1 -> 127.0.31.2 (silent), then -> 127.0.31.3
#   session_refresh           127.0.32.1 -> 127.0.32.2
#   one_way_audio             127.0.33.1 -> 127.0.33.2, RTP 16000
#   rtp_loss                  127.0.34.1 -> 127.0.34.2, RTP 16000
#   media_address_mismatch    127.0.35.1 -> 127.0.35.2, RTP 16000 from 127.0.35.3
#   transfer_failed           127.0.36.1 -> 127.0.36.2; the transfer target
#                             127.0.36.3 is only named
#   invite_not_captured       127.0.37.1 -> 127.0.37.2
#   no_rtp                    127.0.38.1 -> 127.0.38.2 (RTP), then
#                             127.0.38.3 -> 127.0.38.4 (none)
#   reinvite_glare            127.0.39.1 -> 127.0.39.2
#   rtp_jitter                127.0.40.1 -> 127.0.40.2, RTP 16000
#   fork_not_ended            127.0.41.1 -> 127.0.41.2 (forks 127.0.41.3, .4 only named)
#   subscription_expired      127.0.42.1 -> .2, .3 -> .4, .5 -> .6 (SUBSCRIBE)
#   prack_call                127.0.43.1 -> 127.0.43.2
#   prack_missing             127.0.44.1 -> 127.0.44.2
#   precondition_call         127.0.45.1 -> 127.0.45.2
#   ws_call                   127.0.46.1 (WebSocket UAC) -> 127.0.46.2:8080
#                             (Kamailio, WS and UDP 5060) -> 127.0.46.3 (UDP)
#   tls_call                  127.0.47.1 (TLS UAC) -> 127.0.47.2:5061
#                             (Kamailio, TLS and UDP 5060) -> 127.0.47.3 (UDP)
#   codec_mismatch            127.0.50.1 -> 127.0.50.2, RTP 16000
#   ack_elsewhere             127.0.51.1 -> 127.0.51.2; the ACKs go to
#                             127.0.51.3, the 200's Contact (nothing there)
#   bye_to_contact            127.0.52.1 -> 127.0.52.2; the callee's BYE goes
#                             to 127.0.52.3, the INVITE's Contact (nothing there)
#   late_offer                127.0.53.1 -> 127.0.53.2
#   sdp_answer_mismatch       127.0.54.1 -> 127.0.54.2
#   no_sdp_offer              127.0.55.1 -> 127.0.55.2
#   t38_fax                   127.0.56.1 -> 127.0.56.2
#   codec_refused             127.0.57.1 -> 127.0.57.2
#   t38_one_way               127.0.58.1 -> 127.0.58.2
#   no_udptl                  127.0.59.1 -> 127.0.59.2
#   t38_fax_failed            127.0.60.1 -> 127.0.60.2
#   t38_loss                  127.0.61.1 -> 127.0.61.2
#   late_offer_answered       127.0.62.1 -> 127.0.62.2
#   sdp_family_mismatch       127.0.63.1 -> 127.0.63.2
#   mutual_hold               127.0.64.1 -> 127.0.64.2
#   media_change              127.0.65.1 -> 127.0.65.2
#   late_hold                 127.0.66.1 -> 127.0.66.2
#   info_dtmf                 127.0.67.1 -> 127.0.67.2
#   redirect_302              127.0.70.1 -> 127.0.70.2 (redirect server), then
#                             -> 127.0.70.3 (the 302's Contact)
#   cancel_200_crossed        127.0.71.1 -> 127.0.71.2
#   early_media_busy          127.0.72.1 -> 127.0.72.2, RTP 16000 (early media)
#   late_ack                  127.0.73.1 -> 127.0.73.2
#   invite_408                127.0.74.1 -> 127.0.74.2 (a proxy)
#   bye_481                   127.0.75.1 -> 127.0.75.2
#   tls13_call                127.0.76.1 (TLS 1.3 UAC) -> 127.0.76.2:5061
#                             (Kamailio, TLS and UDP 5060) -> 127.0.76.3 (UDP)
#   tls12_call                127.0.77.1 (TLS 1.2 UAC) -> 127.0.77.2:5061
#                             (Kamailio, TLS and UDP 5060) -> 127.0.77.3 (UDP)
#   tls12_cbc_call            127.0.78.1 (TLS 1.2 CBC UAC) -> 127.0.78.2:5061
#                             (Kamailio, TLS and UDP 5060) -> 127.0.78.3 (UDP)
#   register_423              127.0.91.1 -> 127.0.91.2 (registrar)
#   register_refresh_tcp      127.0.92.1 -> 127.0.92.2 (registrar), TCP 5060
#   subscribe_dialog_blf      127.0.93.1 -> 127.0.93.2 (SUBSCRIBE, Event: dialog)
#   message_202_404           127.0.94.1 -> 127.0.94.2 (MESSAGE)
#   tcp_burst                 127.0.95.1 -> 127.0.95.2, TCP 5060
#   webrtc_call               127.0.49.1 -> 127.0.49.2 (both added to lo for
#                             the run), SIP 5060, ICE/DTLS/SRTP between the
#                             host candidates; srflx 127.0.49.11, .12
#   attended_transfer         127.0.96.1 (alice, transferor), .2 (bob,
#                             transferee), .3 (carol, target): call 1
#                             .1:5060 -> .2:5060, call 2 (consultation)
#                             .1:5062 -> .3:5062, call 3 (INVITE with
#                             Replaces) .2:5062 -> .3:5060
#   attended_transfer_stuck   as attended_transfer on 127.0.97.x
#   attended_transfer_481     as attended_transfer on 127.0.98.x
#   call_forwarded            127.0.99.1 (alice) -> 127.0.99.2 (Kamailio,
#                             UDP 5060) -> 127.0.99.3 (bob, busy: 486),
#                             then -> 127.0.99.4 (bob's voicemail)
#   call_pickup               127.0.100.1 (alice, caller), .2 (bob, callee,
#                             ringing), .3 (carol, picks up): call 1
#                             .1:5060 -> .2:5060, call 2 (INVITE with
#                             Replaces) .3:5060 -> .1:5062
#   call_pickup_stuck         as call_pickup on 127.0.101.x
#   register_407              127.0.102.1 (phone) -> 127.0.102.2 (registrar,
#                             challenging with 407 as a proxy)
#
# A pcap ends with its last packet, so "X was never answered / never ended"
# is only visible if the capture goes on after X.  The scenarios that show
# such a thing (register_401_ignored, invite_unanswered, call_not_ended,
# invite_no_ack_non2xx, options_unanswered, subscription_expired,
# attended_transfer_stuck, call_pickup_stuck) end
# with an unrelated OPTIONS ping / 200 between the same two hosts (its own
# Call-ID, ping-1-<pid>@<ip>), sent a fixed time after the scenario started
# by a second pair of SIPps (options_uac.xml / options_uas.xml).
set -eu

GEN_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUT_DIR=$(dirname "$GEN_DIR")          # testdata/
SCN=$GEN_DIR/scenarios
SAMPLES=${SIPP_SAMPLES:-/usr/share/sip-tester}

die() { echo "gen.sh: $*" >&2; exit 1; }
log() { echo "== $*"; }

[ "$(id -u)" = 0 ] || die "must run as root (tcpdump on lo; SIPp RTP playback needs raw sockets)"
for tool in sipp tcpdump tshark editcap python3 timeout; do
    command -v "$tool" >/dev/null || die "missing $tool (apt-get install -y sip-tester tcpdump tshark python3)"
done
[ -r "$SAMPLES/g711a.pcap" ] || die "no $SAMPLES/g711a.pcap (SIPp sample audio)"

WORK=$(mktemp -d /tmp/sipflow-gen.XXXXXX)
CAP_PID=
BG_PIDS=()
cleanup() {
    local p
    # only the processes this script started, by pid
    for p in ${CAP_PID:+"$CAP_PID"} ${BG_PIDS[@]+"${BG_PIDS[@]}"}; do
        kill -TERM "$p" 2>/dev/null || true
    done
    if [ "${KEEP_WORK:-0}" = 1 ]; then
        echo "work dir kept: $WORK"
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
cd "$WORK"   # sipp writes its logs here and finds the RTP pcaps here

# ---------------------------------------------------------------------------
# helpers

# capture_start NAME FILTER: start tcpdump on lo into $WORK/NAME.pcap.
capture_start() {
    local name=$1 filter=$2 i
    rm -f "$WORK/$name.pcap"
    timeout 120 tcpdump -i lo -s 0 -U --immediate-mode -w "$WORK/$name.pcap" "$filter" \
        2>"$WORK/$name.tcpdump.log" &
    CAP_PID=$!
    for i in $(seq 100); do
        grep -q 'listening on' "$WORK/$name.tcpdump.log" 2>/dev/null && return 0
        sleep 0.1
    done
    die "$name: tcpdump did not start: $(cat "$WORK/$name.tcpdump.log")"
}

# capture_stop: let the last packets land, then stop tcpdump (flushes on TERM).
capture_stop() {
    sleep 1
    kill -TERM "$CAP_PID" 2>/dev/null || true
    wait "$CAP_PID" || true
    CAP_PID=
}

# sipp_bg NAME SECONDS sipp-args...: start a SIPp in the background; its pid
# is left in BG_PID.  Logs: $WORK/NAME.{out,msg,err}.
sipp_bg() {
    local name=$1 secs=$2
    shift 2
    timeout "$secs" sipp "$@" -nostdin -trace_err -error_file "$WORK/$name.err" \
        -trace_msg -message_file "$WORK/$name.msg" >"$WORK/$name.out" 2>&1 &
    BG_PID=$!
    BG_PIDS+=("$BG_PID")
}

# uas NAME SECONDS sipp-args...: start a SIPp server in the background (pid in
# UAS_PID) and give it time to bind its sockets.
uas() {
    sipp_bg "$@"
    UAS_PID=$BG_PID
    sleep 0.5
}

# uac NAME SECONDS sipp-args...: run a SIPp client in the foreground.
# SIPp exits 0 when all calls succeeded and 1 when some failed; the failure
# scenarios fail on purpose, so both are accepted.  The message sequence
# check (expect_seq) is what decides whether the capture is good.
uac() {
    local name=$1 secs=$2 rc=0
    shift 2
    timeout "$secs" sipp "$@" -nostdin -trace_err -error_file "$WORK/$name.err" \
        -trace_msg -message_file "$WORK/$name.msg" >"$WORK/$name.out" 2>&1 || rc=$?
    case $rc in
        0|1) ;;
        *) die "$name: sipp exited $rc (124 = killed by timeout); see $WORK/$name.* (KEEP_WORK=1)" ;;
    esac
}

# wait_bg PID NAME: wait for a background sipp; same exit codes as uac.
wait_bg() {
    local rc=0
    wait "$1" || rc=$?
    case $rc in
        0|1) ;;
        *) die "$2: sipp exited $rc (124 = killed by timeout); see $WORK/$2.* (KEEP_WORK=1)" ;;
    esac
}

# sip_seq FILE: the SIP methods / status codes in capture order, one line.
sip_seq() {
    tshark -r "$1" -Y sip -T fields -e sip.Method -e sip.Status-Code 2>/dev/null |
        tr ',\t' '  ' | xargs echo
}

# expect_seq NAME REGEX: the capture's SIP sequence must match ^REGEX$.
expect_seq() {
    local name=$1 re=$2 seq
    seq=$(sip_seq "$WORK/$name.pcap")
    [[ $seq =~ ^$re$ ]] || die "$name: SIP sequence [$seq] does not match [$re]"
    echo "   SIP: $seq"
}

# expect_dirs NAME DIRS: the SDP directions (a=sendrecv, ...) tshark reads
# in the capture, in order, are DIRS.
expect_dirs() {
    local name=$1 want=$2 dirs
    dirs=$(tshark -r "$WORK/$name.pcap" -Y sdp -T fields -e sdp.media_attr 2>/dev/null | grep -o -E 'send(recv|only)|recvonly|inactive' | xargs echo)
    [ "$dirs" = "$want" ] || die "$name: SDP directions [$dirs]"
    echo "   SDP: $dirs"
}

# only_loopback NAME: every IP address in the capture is 127/8 or ::1
# (in the SIP text too, decrypted with $WORK/NAME.keylog when there is one).
only_loopback() {
    local name=$1 bad keylog=()
    # the SIP inside TLS too, when the capture has its key log
    [ -f "$WORK/$name.keylog" ] && keylog=(-o "tls.keylog_file:$WORK/$name.keylog")
    bad=$(tshark -r "$WORK/$name.pcap" -T fields -e ip.src -e ip.dst -e ipv6.src -e ipv6.dst 2>/dev/null |
        tr '\t,' '\n\n' | grep -v -E '^$|^127\.|^::1$' | sort -u || true)
    [ -z "$bad" ] || die "$name: non-loopback addresses in capture: $bad"
    bad=$(tshark -r "$WORK/$name.pcap" ${keylog[@]+"${keylog[@]}"} -Y sip -T fields -e sip.msg_hdr -e sdp.connection_info 2>/dev/null |
        grep -o -E '\b([0-9]{1,3}\.){3}[0-9]{1,3}\b' | grep -v -E '^127\.|^0\.0\.0\.0$' | sort -u || true)
    [ -z "$bad" ] || die "$name: non-loopback addresses in SIP text: $bad"
}

# publish NAME: copy the checked capture over testdata/NAME.pcap.
publish() {
    local name=$1
    only_loopback "$name"
    # SIPp's own messages when a scenario meets what it did not expect
    # (its abort ACK, BYE or CANCEL carry this Subject): the capture is
    # not the scenario's.
    if tshark -r "$WORK/$name.pcap" -Y 'sip.Subject == "Performance Test"' 2>/dev/null | grep -q .; then
        die "$name: SIPp aborted a call (a message with Subject: Performance Test); see $WORK/$name.* (KEEP_WORK=1)"
    fi
    cp "$WORK/$name.pcap" "$OUT_DIR/.$name.pcap.tmp"
    mv -f "$OUT_DIR/.$name.pcap.tmp" "$OUT_DIR/$name.pcap"
    echo "   -> testdata/$name.pcap ($(stat -c %s "$OUT_DIR/$name.pcap") bytes)"
    # the TLS secrets that decrypt it (keylog_tls_call), beside it
    if [ -f "$WORK/$name.keylog" ]; then
        cp "$WORK/$name.keylog" "$OUT_DIR/.$name.keylog.tmp"
        mv -f "$OUT_DIR/.$name.keylog.tmp" "$OUT_DIR/$name.keylog"
        echo "   -> testdata/$name.keylog ($(stat -c %s "$OUT_DIR/$name.keylog") bytes)"
    fi
}

# now_ms: wall-clock time in milliseconds.
now_ms() { date +%s%3N; }

# sleep_until T0 MS: sleep until MS milliseconds after T0 (a now_ms value).
sleep_until() {
    local d=$(( $1 + $2 - $(now_ms) ))
    [ "$d" -gt 0 ] && sleep "$(printf '%d.%03d' $((d / 1000)) $((d % 1000)))"
    return 0
}

# options_ping NAME A B T0 MS [APORT BPORT]: an unrelated OPTIONS ping from
# A:APORT to B:BPORT (both 5060 unless given; Call-ID ping-1-<pid>@A) -> 200
# OK, sent MS milliseconds after T0.  Run it after the scenario's own SIPps
# have exited (they hold the ports).
options_ping() {
    local name=$1 a=$2 b=$3 t0=$4 ms=$5 ap=${6:-5060} bp=${7:-5060} pid
    sleep_until "$t0" $((ms - 700))
    uas $name.ping-uas 10 -sf "$SCN/options_uas.xml" -i $b -p $bp -bind_local -mi $b -mp 16000 -m 1
    pid=$UAS_PID
    sleep_until "$t0" "$ms"
    uac $name.ping-uac 10 $b:$bp -sf "$SCN/options_uac.xml" -cid_str 'ping-%u-%p@%s' -i $a -p $ap -bind_local -mi $a -mp 16000 -m 1
    wait_bg "$pid" $name.ping-uas
}

# expect_gap NAME FILTER1 FILTER2 MIN MAX: the first packet matching the
# display filter FILTER2 comes MIN..MAX seconds after the first matching
# FILTER1.
expect_gap() {
    local name=$1 f1=$2 f2=$3 lo=$4 hi=$5 t1 t2 gap
    t1=$(tshark -r "$WORK/$name.pcap" -Y "$f1" -T fields -e frame.time_relative 2>/dev/null | head -1)
    t2=$(tshark -r "$WORK/$name.pcap" -Y "$f2" -T fields -e frame.time_relative 2>/dev/null | head -1)
    [ -n "$t1" ] && [ -n "$t2" ] || die "$name: no packet matches [$f1] or [$f2]"
    gap=$(awk -v a="$t1" -v b="$t2" 'BEGIN { printf "%.3f", b - a }')
    awk -v g="$gap" -v lo="$lo" -v hi="$hi" 'BEGIN { exit !(g >= lo && g <= hi) }' ||
        die "$name: [$f2] comes $gap s after [$f1], want $lo..$hi s"
    echo "   gap: $gap s from [$f1] to [$f2]"
}

# expect_callids NAME N: the capture holds N distinct Call-IDs.
expect_callids() {
    local n
    n=$(tshark -r "$WORK/$1.pcap" -Y sip -T fields -e sip.Call-ID 2>/dev/null | sort -u | grep -c . || true)
    [ "$n" = "$2" ] || die "$1: expected $2 distinct Call-IDs, got $n"
}

# sip_ladder FILE: the SIP messages in capture order, one line, each as
# <call><party>:<method or status>: call 1, 2, ... numbers the Call-IDs in
# the order they first appear, party A, B, C, ... is the sender's address
# 127.0.N.1, .2, .3, ... (one SIP message per frame).
sip_ladder() {
    tshark -r "$1" -Y sip -T fields -e ip.src -e sip.Method -e sip.Status-Code -e sip.Call-ID 2>/dev/null |
        awk -F'\t' '{
            if (!($4 in call)) call[$4] = ++n
            split($1, o, ".")
            printf "%s%d%s:%s%s", sep, call[$4], substr("ABCDEFGHI", o[4], 1), $2, $3
            sep = " "
        } END { print "" }'
}

# expect_ladder NAME LADDER: the capture's sip_ladder is exactly LADDER, so
# who sent what on which call, in that order (expect_seq only checks the
# methods and statuses).
expect_ladder() {
    local name=$1 want=$2 got
    got=$(sip_ladder "$WORK/$name.pcap")
    [ "$got" = "$want" ] || die "$name: ladder [$got], want [$want]"
    echo "   ladder: $got"
}

# expect_gap_last NAME FILTER1 FILTER2 MIN MAX: like expect_gap, but from
# the LAST packet matching FILTER1 to the first one matching FILTER2.
expect_gap_last() {
    local name=$1 f1=$2 f2=$3 lo=$4 hi=$5 t1 t2 gap
    t1=$(tshark -r "$WORK/$name.pcap" -Y "$f1" -T fields -e frame.time_relative 2>/dev/null | tail -1)
    t2=$(tshark -r "$WORK/$name.pcap" -Y "$f2" -T fields -e frame.time_relative 2>/dev/null | head -1)
    [ -n "$t1" ] && [ -n "$t2" ] || die "$name: no packet matches [$f1] or [$f2]"
    gap=$(awk -v a="$t1" -v b="$t2" 'BEGIN { printf "%.3f", b - a }')
    awk -v g="$gap" -v lo="$lo" -v hi="$hi" 'BEGIN { exit !(g >= lo && g <= hi) }' ||
        die "$name: [$f2] comes $gap s after the last [$f1], want $lo..$hi s"
    echo "   gap: $gap s from the last [$f1] to [$f2]"
}

# expect_intervals NAME FILTER "I1 I2 ..." TOL: the packets matching FILTER
# come I1, I2, ... seconds apart (each within +-TOL s), and there are exactly
# as many of them as intervals + 1 (retransmission timers E / G).
expect_intervals() {
    local name=$1 f=$2 want=$3 tol=$4 got
    got=$(tshark -r "$WORK/$name.pcap" -Y "$f" -T fields -e frame.time_relative 2>/dev/null |
        awk 'NR > 1 { printf "%s%.3f", sep, $1 - prev; sep = " " } { prev = $1 }')
    awk -v got="$got" -v want="$want" -v tol="$tol" 'BEGIN {
        n = split(got, g, " "); m = split(want, w, " ")
        if (n != m) exit 1
        for (i = 1; i <= n; i++) if (g[i] < w[i] - tol || g[i] > w[i] + tol) exit 1
    }' || die "$name: [$f] intervals [$got] s, want [$want] (+-$tol s)"
    echo "   intervals: $got s between [$f]"
}

# expect_no_icmp NAME: the capture (whose filter lets ICMP between the two
# hosts through) holds no ICMP, e.g. no port unreachable for a closed socket.
expect_no_icmp() {
    local n
    n=$(tshark -r "$WORK/$1.pcap" -Y 'icmp || icmpv6' 2>/dev/null | grep -c . || true)
    [ "$n" = 0 ] || die "$1: $n ICMP packets in the capture (a SIPp socket was closed too early?)"
}

# sipp_call NAME SECS A B UAC-SCENARIO UAS-SCENARIO [UAS-ARGS...]: the shape
# of most scenarios: a SIPp UAS on B:5060 (with UAS-ARGS), a SIPp UAC on A
# calling bob there, both killed after SECS, captured between A and B
# (pair_filter).
sipp_call() {
    local name=$1 secs=$2 A=$3 B=$4 uac_scn=$5 uas_scn=$6
    shift 6
    capture_start $name "$(pair_filter $A $B)"
    case $uas_scn in /*) ;; *) uas_scn=$SCN/$uas_scn ;; esac  # a path: a scenario written in $WORK
    case $uac_scn in /*) ;; *) uac_scn=$SCN/$uac_scn ;; esac
    uas $name.uas $secs -sf "$uas_scn" "$@" -i $B -p 5060 -bind_local -mi $B -mp 16000 -m 1
    uac $name.uac $secs $B:5060 -sf "$uac_scn" -s bob -i $A -p 5060 -bind_local -mi $A -mp 16000 -m 1
    wait_bg "$UAS_PID" $name.uas
    capture_stop
}

# pair_filter A B: tcpdump filter for traffic between hosts A and B on the SIP
# port 5060 and the RTP range 16000-16010.
pair_filter() {
    echo "host $1 and host $2 and (port 5060 or portrange 16000-16010)"
}

# RTP sample audio: 67 packets (~2 s, G.711 A-law, 30 ms) cut from SIPp's
# g711a.pcap; a second copy with another SSRC so the two directions of the
# call are distinct streams.  SIPp's play_pcap_audio rewrites the addresses
# and ports; it keeps SSRC, sequence numbers and timestamps.
prepare_audio() {
    [ -f "$WORK/g711a_2s_b.pcap" ] && return 0
    editcap -F pcap -r "$SAMPLES/g711a.pcap" "$WORK/g711a_2s.pcap" 1-67
    python3 - "$WORK/g711a_2s.pcap" "$WORK/g711a_2s_b.pcap" 0x5ee1f10b <<'PY'
import struct, sys
src, dst, ssrc = sys.argv[1], sys.argv[2], int(sys.argv[3], 0)
data = bytearray(open(src, 'rb').read())
assert data[:4] == b'\xd4\xc3\xb2\xa1', 'expected a little-endian microsecond pcap'
off = 24
while off < len(data):
    incl = struct.unpack_from('<I', data, off + 8)[0]
    pkt = off + 16
    ihl = (data[pkt + 14] & 0x0f) * 4          # Ethernet(14) + IPv4 header
    struct.pack_into('>I', data, pkt + 14 + ihl + 8 + 8, ssrc)  # UDP(8) + RTP SSRC at 8
    off = pkt + incl
open(dst, 'wb').write(data)
PY
}

# ---------------------------------------------------------------------------
# scenarios

# call_rtp: basic UDP call INVITE/100/180/200/ACK, then ~2 s of G.711 A-law
# RTP in both directions (two streams, different SSRCs), BYE/200.
gen_call_rtp() {
    local name=call_rtp A=127.0.10.1 B=127.0.10.2
    prepare_audio
    sipp_call $name 20 $A $B call_rtp_uac.xml call_rtp_uas.xml
    expect_seq $name 'INVITE 100 180 200 ACK BYE 200'
    local streams
    streams=$(tshark -r "$WORK/$name.pcap" -q -z rtp,streams 2>/dev/null | grep -c -E ' 0x[0-9A-F]+ +g711A ' || true)
    [ "$streams" = 2 ] || die "$name: expected 2 RTP streams, got $streams"
    echo "   RTP: $streams streams"
    publish $name
}

# register_401: REGISTER -> 401 (WWW-Authenticate: Digest) -> REGISTER with
# Authorization (user alice / password secret) -> 200 OK.
gen_register_401() {
    local name=register_401 A=127.0.11.1 B=127.0.11.2
    capture_start $name "$(pair_filter $A $B)"
    uas $name.uas 20 -sf "$SCN/register_uas.xml" -i $B -p 5060 -bind_local -mi $B -mp 16000 -m 1
    uac $name.uac 20 $B:5060 -sf "$SCN/register_uac.xml" -au alice -ap secret -i $A -p 5060 -bind_local -mi $A -mp 16000 -m 1
    wait_bg "$UAS_PID" $name.uas
    capture_stop
    expect_seq $name 'REGISTER 401 REGISTER 200'
    publish $name
}

# call_tcp: the basic call (SDP offer/answer, no RTP) over TCP (-t t1).
gen_call_tcp() {
    local name=call_tcp A=127.0.12.1 B=127.0.12.2
    capture_start $name "$(pair_filter $A $B)"
    uas $name.uas 20 -sf "$SCN/basic_uas.xml" -t t1 -i $B -p 5060 -bind_local -mi $B -mp 16000 -m 1
    uac $name.uac 20 $B:5060 -sf "$SCN/basic_uac.xml" -t t1 -s bob -i $A -p 5060 -bind_local -mi $A -mp 16000 -m 1
    wait_bg "$UAS_PID" $name.uas
    capture_stop
    expect_seq $name 'INVITE 100 180 200 ACK BYE 200'
    publish $name
}

# call_ipv6: the basic call over UDP on ::1; the UAC is [::1]:5070, the UAS
# [::1]:5080 (only one IPv6 loopback address, so the ports tell them apart).
gen_call_ipv6() {
    local name=call_ipv6
    capture_start $name "ip6 host ::1 and (port 5070 or port 5080 or port 16100 or port 16200)"
    uas $name.uas 20 -sf "$SCN/basic_uas.xml" -i ::1 -p 5080 -bind_local -mi ::1 -mp 16200 -m 1
    uac $name.uac 20 '[::1]:5080' -sf "$SCN/basic_uac.xml" -s bob -i ::1 -p 5070 -bind_local -mi ::1 -mp 16100 -m 1
    wait_bg "$UAS_PID" $name.uas
    capture_stop
    expect_seq $name 'INVITE 100 180 200 ACK BYE 200'
    publish $name
}

# register_wrong_password: as register_401 but the client retries with the
# wrong password; the registrar's <verifyauth> fails and it answers 403.
gen_register_wrong_password() {
    local name=register_wrong_password A=127.0.16.1 B=127.0.16.2
    capture_start $name "$(pair_filter $A $B)"
    uas $name.uas 20 -sf "$SCN/register_uas.xml" -i $B -p 5060 -bind_local -mi $B -mp 16000 -m 1
    uac $name.uac 20 $B:5060 -sf "$SCN/register_uac.xml" -au alice -ap wrongpass -i $A -p 5060 -bind_local -mi $A -mp 16000 -m 1
    wait_bg "$UAS_PID" $name.uas
    capture_stop
    expect_seq $name 'REGISTER 401 REGISTER 403'
    publish $name
}

# invite_no_ack: INVITE/100/180/200 but the caller never ACKs; the UAS
# retransmits the 200 (500 ms, doubling) for 16 s, then gives up and sends
# BYE, which the caller answers with 200.
gen_invite_no_ack() {
    local name=invite_no_ack A=127.0.13.1 B=127.0.13.2
    sipp_call $name 40 $A $B invite_no_ack_uac.xml invite_no_ack_uas.xml -max_invite_retrans 10 -key contact_ip $B
    expect_seq $name 'INVITE 100 180 200( 200)+ BYE 200'
    publish $name
}

# ack_elsewhere: INVITE/100/180/200 whose Contact names 127.0.51.3, where
# nothing listens (as a callee behind NAT names its private address); the
# caller sends its ACK there, as RFC 3261 §12.1.2 says, once per 200, and
# the callee, which never gets one, retransmits the 200 and then hangs up
# with BYE.  The capture takes the caller's packets to both addresses.
gen_ack_elsewhere() {
    local name=ack_elsewhere A=127.0.51.1 B=127.0.51.2 C=127.0.51.3
    capture_start $name "udp and host $A and (host $B or host $C) and port 5060"
    uas $name.uas 40 -sf "$SCN/invite_no_ack_uas.xml" -key contact_ip $C -i $B -p 5060 -bind_local -mi $B -mp 16000 -m 1
    uac $name.uac 40 $B:5060 -sf "$SCN/ack_elsewhere_uac.xml" -s bob -i $A -p 5060 -bind_local -mi $A -mp 16000 -m 1
    wait_bg "$UAS_PID" $name.uas
    capture_stop
    expect_seq $name 'INVITE 100 180 200 ACK( 200 ACK)+ BYE 200'
    publish $name
}

# bye_to_contact: the caller's Contact names 127.0.52.3, where nothing
# listens (as a phone behind NAT names its private address), while its
# packets come from 127.0.52.1; the call is set up over the packets'
# addresses, and when the callee hangs up its BYE goes to the Contact, as
# RFC 3261 §12.2.1.1 says, retransmitted until the callee gives up.  The
# capture takes the callee's packets to both addresses.
gen_bye_to_contact() {
    local name=bye_to_contact A=127.0.52.1 B=127.0.52.2 C=127.0.52.3
    capture_start $name "udp and host $B and (host $A or host $C) and port 5060"
    uas $name.uas 40 -sf "$SCN/bye_to_contact_uas.xml" -max_non_invite_retrans 5 -i $B -p 5060 -bind_local -mi $B -mp 16000 -m 1
    uac $name.uac 40 $B:5060 -sf "$SCN/bye_to_contact_uac.xml" -key contact_ip $C -s bob -i $A -p 5060 -bind_local -mi $A -mp 16000 -m 1
    wait_bg "$UAS_PID" $name.uas
    capture_stop
    expect_seq $name 'INVITE 100 180 200 ACK BYE BYE BYE BYE BYE BYE'
    publish $name
}

# late_offer: an INVITE without SDP; the 200 makes the offer, and the ACK,
# which must carry the answer (RFC 3261 §13.2.1), carries none.
gen_late_offer() {
    local name=late_offer A=127.0.53.1 B=127.0.53.2
    sipp_call $name 20 $A $B late_offer_uac.xml late_offer_uas.xml
    expect_seq $name 'INVITE 100 180 200 ACK BYE 200'
    publish $name
}

# late_offer_answered: late_offer done right: the ACK carries the answer to
# the 200's offer (RFC 3261 §13.2.1). No finding; the README's example of a
# flow of the user's (testdata/flows/late-offer.flow) matches it.
gen_late_offer_answered() {
    local name=late_offer_answered A=127.0.62.1 B=127.0.62.2
    sipp_call $name 20 $A $B late_offer_answered_uac.xml late_offer_uas.xml
    expect_seq $name 'INVITE 100 180 200 ACK BYE 200'
    publish $name
}

# sdp_answer_mismatch: the basic call, but the 200's answer takes the audio
# stream with G.729, which the offer (PCMU, PCMA) did not list.
gen_sdp_answer_mismatch() {
    local name=sdp_answer_mismatch A=127.0.54.1 B=127.0.54.2
    sipp_call $name 20 $A $B basic_uac.xml sdp_answer_mismatch_uas.xml
    expect_seq $name 'INVITE 100 180 200 ACK BYE 200'
    publish $name
}

# sdp_family_mismatch: the basic call's IPv4 offer (PCMU) answered with
# PCMU at an IPv6 address (c=IN IP6 ::1), over IPv4 signalling: an
# sdp-answer-mismatch (RFC 6157).
gen_sdp_family_mismatch() {
    local name=sdp_family_mismatch A=127.0.63.1 B=127.0.63.2
    sipp_call $name 20 $A $B basic_uac.xml sdp_family_mismatch_uas.xml
    expect_seq $name 'INVITE 100 180 200 ACK BYE 200'
    publish $name
}

# media_change: a call (PCMU); bob re-INVITEs with PCMA at port 16002 (the
# media moves: no hold, no T.38), alice accepts, BYE / 200.
gen_media_change() {
    local name=media_change A=127.0.65.1 B=127.0.65.2
    sipp_call $name 20 $A $B media_change_uac.xml media_change_uas.xml
    expect_seq $name 'INVITE 100 180 200 ACK INVITE 200 ACK BYE 200'
    expect_dirs $name 'sendrecv sendrecv sendrecv sendrecv'
    publish $name
}

# late_hold: a call; alice holds with a late offer (a re-INVITE without
# SDP, bob's 200 offers sendrecv, her ACK answers sendonly), takes it off
# the same way (her ACK answers sendrecv), BYE / 200.
gen_late_hold() {
    local name=late_hold A=127.0.66.1 B=127.0.66.2
    sipp_call $name 20 $A $B late_hold_uac.xml late_hold_uas.xml
    expect_seq $name 'INVITE 100 180 200 ACK INVITE 200 ACK INVITE 200 ACK BYE 200'
    expect_dirs $name 'sendrecv sendrecv sendrecv sendonly sendrecv sendrecv'
    publish $name
}

# info_dtmf: a call; alice keys two digits by SIP INFO (dtmf-relay), each
# answered 200, BYE / 200.
gen_info_dtmf() {
    local name=info_dtmf A=127.0.67.1 B=127.0.67.2
    sipp_call $name 20 $A $B info_dtmf_uac.xml info_dtmf_uas.xml
    expect_seq $name 'INVITE 100 180 200 ACK INFO 200 INFO 200 BYE 200'
    publish $name
}

# redirect_302: alice's INVITE to a redirect server (127.0.70.2) is answered
# 302 Moved Temporarily, Contact bob at 127.0.70.3, and ACKed; she sends
# the INVITE again there (same Call-ID, CSeq 2, new branch) / 100 / 180 /
# 200 / ACK, BYE / 200.
gen_redirect_302() {
    local name=redirect_302 A=127.0.70.1 B=127.0.70.2 C=127.0.70.3 pid
    capture_start $name "host $A and (host $B or host $C) and (port 5060 or portrange 16000-16010)"
    uas $name.redirect 20 -sf "$SCN/redirect_302_uas.xml" -key target_ip $C -i $B -p 5060 -bind_local -mi $B -mp 16000 -m 1
    pid=$UAS_PID
    uas $name.uas 20 -sf "$SCN/basic_uas.xml" -i $C -p 5060 -bind_local -mi $C -mp 16000 -m 1
    uac $name.uac 20 $B:5060 -sf "$SCN/redirect_302_uac.xml" -s bob -i $A -p 5060 -bind_local -mi $A -mp 16000 -m 1
    wait_bg "$UAS_PID" $name.uas
    wait_bg "$pid" $name.redirect
    capture_stop
    expect_seq $name 'INVITE 302 ACK INVITE 100 180 200 ACK BYE 200'
    expect_callids $name 1
    publish $name
}

# cancel_200_crossed: INVITE/100/180, the caller cancels after 1 s, but the
# callee's 200 to the INVITE crosses the CANCEL: 200 (INVITE), 200
# (CANCEL), no 487; the caller ACKs the 200 and hangs up, BYE / 200.
gen_cancel_200_crossed() {
    local name=cancel_200_crossed A=127.0.71.1 B=127.0.71.2
    sipp_call $name 20 $A $B cancel_200_uac.xml cancel_200_uas.xml
    expect_seq $name 'INVITE 100 180 CANCEL 200 200 ACK BYE 200'
    publish $name
}

# early_media_busy: INVITE/100, 183 Session Progress with SDP (early
# media) and ~2 s of the callee's G.711 one way, to the caller (an
# announcement), then 486 Busy Here on the same early dialog, ACK.
gen_early_media_busy() {
    local name=early_media_busy A=127.0.72.1 B=127.0.72.2 n
    prepare_audio
    sipp_call $name 20 $A $B early_media_busy_uac.xml early_media_busy_uas.xml
    expect_seq $name 'INVITE 100 183 486 ACK'
    n=$(rtp_streams $name | grep -c . || true)
    [ "$n" = 1 ] || die "$name: expected 1 RTP stream, got $n"
    echo "   RTP: $(rtp_streams $name)"
    publish $name
}

# late_ack: the basic call, but the caller ACKs the 200 1.2 s late: the
# callee retransmits its 200 once (timer G, 0.5 s), the ACK stops it.
gen_late_ack() {
    local name=late_ack A=127.0.73.1 B=127.0.73.2
    sipp_call $name 20 $A $B late_ack_uac.xml basic_uas.xml
    expect_seq $name 'INVITE 100 180 200 200 ACK BYE 200'
    expect_intervals $name 'sip.Status-Code == 200 && sip.CSeq.method == "INVITE"' '0.5' 0.1
    publish $name
}

# invite_408: INVITE/100 from a proxy, which 2 s later gives up with 408
# Request Timeout, ACK.
gen_invite_408() {
    local name=invite_408 A=127.0.74.1 B=127.0.74.2
    sipp_call $name 20 $A $B call_reject_uac.xml invite_408_uas.xml
    expect_seq $name 'INVITE 100 408 ACK'
    expect_gap $name 'sip.Status-Code == 100' 'sip.Status-Code == 408' 1.9 2.5
    publish $name
}

# bye_481: a call (INVITE/100/180/200/ACK); ~1 s later the callee hangs up
# and the caller answers its BYE 481 Call/Transaction Does Not Exist.
gen_bye_481() {
    local name=bye_481 A=127.0.75.1 B=127.0.75.2
    sipp_call $name 20 $A $B bye_481_uac.xml bye_481_uas.xml
    expect_seq $name 'INVITE 100 180 200 ACK BYE 481'
    publish $name
}

# mutual_hold: a call; alice holds (sendonly / recvonly), bob holds too
# (inactive / inactive), alice takes hers off while bob's stays (recvonly /
# sendonly), bob takes his off (sendrecv / sendrecv), BYE / 200.
gen_mutual_hold() {
    local name=mutual_hold A=127.0.64.1 B=127.0.64.2
    sipp_call $name 20 $A $B mutual_hold_uac.xml mutual_hold_uas.xml
    expect_seq $name 'INVITE 100 180 200 ACK INVITE 200 ACK INVITE 200 ACK INVITE 200 ACK INVITE 200 ACK BYE 200'
    expect_dirs $name 'sendrecv sendrecv sendonly recvonly inactive inactive recvonly sendonly sendrecv sendrecv'
    publish $name
}

# invite_unanswered: the server never answers; the caller retransmits the
# INVITE (timer A: 0, 0.5, 1.5, 3.5, 7.5 s) and gives up silently at 15.5 s.
# At 34 s (past Timer B = 64*T1 = 32 s) an unrelated OPTIONS ping / 200
# between the same hosts shows that the capture was still running.
gen_invite_unanswered() {
    local name=invite_unanswered A=127.0.14.1 B=127.0.14.2 t0
    capture_start $name "$(pair_filter $A $B)"
    uas $name.uas 30 -sf "$SCN/silent_uas.xml" -pause_msg_ign -i $B -p 5060 -bind_local -mi $B -mp 16000 -m 1
    t0=$(now_ms)
    uac $name.uac 30 $B:5060 -sf "$SCN/invite_unanswered_uac.xml" -nd -T2 8000 -max_invite_retrans 4 -s bob -i $A -p 5060 -bind_local -mi $A -mp 16000 -m 1
    wait_bg "$UAS_PID" $name.uas
    options_ping $name $A $B "$t0" 34000
    capture_stop
    expect_seq $name 'INVITE INVITE INVITE INVITE INVITE OPTIONS 200'
    expect_callids $name 2
    expect_gap $name 'sip.Method == "INVITE"' 'sip.Method == "OPTIONS"' 32.5 35.5
    publish $name
}

# register_401_ignored: REGISTER -> 401 challenge, and the client never
# retries: a 401 left unanswered.  ~34 s after the 401 (past the 32 s a
# retry with credentials may take) an unrelated OPTIONS ping / 200 between
# the same hosts shows that the capture went on.
gen_register_401_ignored() {
    local name=register_401_ignored A=127.0.15.1 B=127.0.15.2 t0
    capture_start $name "$(pair_filter $A $B)"
    uas $name.uas 20 -sf "$SCN/register_401_ignored_uas.xml" -i $B -p 5060 -bind_local -mi $B -mp 16000 -m 1
    t0=$(now_ms)
    uac $name.uac 20 $B:5060 -sf "$SCN/register_401_ignored_uac.xml" -i $A -p 5060 -bind_local -mi $A -mp 16000 -m 1
    wait_bg "$UAS_PID" $name.uas
    options_ping $name $A $B "$t0" 34000
    capture_stop
    expect_seq $name 'REGISTER 401 OPTIONS 200'
    expect_callids $name 2
    expect_gap $name 'sip.Status-Code == 401' 'sip.Method == "OPTIONS"' 33.5 34.5
    publish $name
}

# call_busy: INVITE/100/180, 486 Busy Here, ACK.
gen_call_busy() {
    local name=call_busy A=127.0.17.1 B=127.0.17.2
    sipp_call $name 20 $A $B call_reject_uac.xml call_busy_uas.xml
    expect_seq $name 'INVITE 100 180 486 ACK'
    publish $name
}

# call_cancel: INVITE/100/180, the caller cancels: CANCEL/200, 487/ACK.
gen_call_cancel() {
    local name=call_cancel A=127.0.18.1 B=127.0.18.2
    sipp_call $name 20 $A $B call_cancel_uac.xml call_cancel_uas.xml
    expect_seq $name 'INVITE 100 180 CANCEL 200 487 ACK'
    publish $name
}

# call_503: INVITE/100, 503 Service Unavailable (Retry-After), ACK.
gen_call_503() {
    local name=call_503 A=127.0.19.1 B=127.0.19.2
    sipp_call $name 20 $A $B call_reject_uac.xml call_503_uas.xml
    expect_seq $name 'INVITE 100 503 ACK'
    publish $name
}

# bye_unanswered: a normal call, but the BYE is never answered: the caller
# retransmits it (timer E: 0, 0.5, 1.5, 3.5, 7.5, 11.5 s, T2 = 4 s) and gives
# up silently at 15.5 s.
gen_bye_unanswered() {
    local name=bye_unanswered A=127.0.20.1 B=127.0.20.2
    capture_start $name "$(pair_filter $A $B)"
    uas $name.uas 30 -sf "$SCN/bye_unanswered_uas.xml" -pause_msg_ign -i $B -p 5060 -bind_local -mi $B -mp 16000 -m 1
    uac $name.uac 30 $B:5060 -sf "$SCN/basic_uac.xml" -nd -max_non_invite_retrans 5 -s bob -i $A -p 5060 -bind_local -mi $A -mp 16000 -m 1
    wait_bg "$UAS_PID" $name.uas
    capture_stop
    expect_seq $name 'INVITE 100 180 200 ACK BYE BYE BYE BYE BYE BYE'
    publish $name
}

# call_hold: call, re-INVITE a=sendonly / 200 a=recvonly / ACK (hold),
# re-INVITE a=sendrecv / 200 / ACK (resume), BYE / 200.
gen_call_hold() {
    local name=call_hold A=127.0.21.1 B=127.0.21.2
    sipp_call $name 20 $A $B call_hold_uac.xml call_hold_uas.xml
    expect_seq $name 'INVITE 100 180 200 ACK INVITE 200 ACK INVITE 200 ACK BYE 200'
    expect_dirs $name 'sendrecv sendrecv sendonly recvonly sendrecv sendrecv'
    publish $name
}

# invite_407_proxy_auth: INVITE / 100 / 407 (Proxy-Authenticate) / ACK, then
# INVITE with Proxy-Authorization / 100 / 180 / 200 / ACK, BYE / 200.
gen_invite_407_proxy_auth() {
    local name=invite_407_proxy_auth A=127.0.22.1 B=127.0.22.2
    capture_start $name "$(pair_filter $A $B)"
    uas $name.uas 20 -sf "$SCN/invite_407_uas.xml" -i $B -p 5060 -bind_local -mi $B -mp 16000 -m 1
    uac $name.uac 20 $B:5060 -sf "$SCN/invite_407_uac.xml" -au alice -ap secret -auth_uri bob@$B:5060 -s bob -i $A -p 5060 -bind_local -mi $A -mp 16000 -m 1
    wait_bg "$UAS_PID" $name.uas
    capture_stop
    expect_seq $name 'INVITE 100 407 ACK INVITE 100 180 200 ACK BYE 200'
    publish $name
}

# forked_call: one INVITE, early dialogs from two forks (183 with To-tag A,
# 180 with To-tag B), 200 from fork B; ACK and BYE / 200 on dialog B.  A
# single SIPp plays the forking proxy (127.0.23.2) that relays both phones'
# responses; the phones' addresses 127.0.23.3 / .4 only appear in Contact
# and SDP.
gen_forked_call() {
    local name=forked_call A=127.0.23.1 B=127.0.23.2
    sipp_call $name 20 $A $B forked_uac.xml forked_uas.xml -key desk_ip 127.0.23.3 -key mobile_ip 127.0.23.4
    expect_seq $name 'INVITE 100 183 180 200 ACK BYE 200'
    local tags
    tags=$(tshark -r "$WORK/$name.pcap" -Y 'sip.Status-Code >= 180' -T fields -e sip.to.tag 2>/dev/null | uniq | wc -l)
    [ "$tags" = 2 ] || die "$name: expected 2 distinct To-tags in 183/180/200, got $tags"
    publish $name
}

# b2bua_xcallid: a B2BUA at 127.0.24.2 between alice (127.0.24.1) and bob
# (127.0.24.3).  Leg A (Call-ID a84b4c76e66710@127.0.24.1) comes in on
# 127.0.24.2:5060; while it rings, leg B goes out from 127.0.24.2:5080 with
# its own Call-ID and "X-Call-ID: <leg A Call-ID>".  Bob answers leg B, then
# the B2BUA answers leg A; alice hangs up leg A, then the B2BUA hangs up leg B.
# (Four SIPps; the interleaving comes from the pauses in the scenarios and
# the start delay below.)
gen_b2bua_xcallid() {
    local name=b2bua_xcallid A=127.0.24.1 B=127.0.24.2 C=127.0.24.3
    local cid_a=a84b4c76e66710@$A
    capture_start $name "(host $A or host $B or host $C) and (port 5060 or port 5080 or portrange 16000-16010)"
    uas $name.bob 20 -sf "$SCN/basic_uas.xml" -i $C -p 5060 -bind_local -mi $C -mp 16000 -m 1
    local bob=$UAS_PID
    uas $name.b2bua-a 20 -sf "$SCN/b2bua_leg_a_uas.xml" -i $B -p 5060 -bind_local -mi $B -mp 16000 -m 1
    local b2bua_a=$UAS_PID
    sipp_bg $name.alice 20 $B:5060 -sf "$SCN/basic_uac.xml" -cid_str "$cid_a" -s bob -i $A -p 5060 -bind_local -mi $A -mp 16000 -m 1
    local alice=$BG_PID
    sleep 0.3
    uac $name.b2bua-b 20 $C:5060 -sf "$SCN/b2bua_leg_b_uac.xml" -key xcallid "$cid_a" -s bob -i $B -p 5080 -bind_local -mi $B -mp 16010 -m 1
    wait_bg "$alice" $name.alice
    wait_bg "$b2bua_a" $name.b2bua-a
    wait_bg "$bob" $name.bob
    capture_stop
    expect_seq $name 'INVITE 100 INVITE 100 180 180 200 ACK 200 ACK BYE 200 BYE 200'
    local xcid
    xcid=$(tshark -r "$WORK/$name.pcap" -Y 'sip.Method == "INVITE" && ip.src == '$B -T fields -e sip.msg_hdr 2>/dev/null |
        grep -o -E 'X-Call-ID: [^\\]*' | head -1)
    [ "$xcid" = "X-Call-ID: $cid_a" ] || die "$name: leg B INVITE has [$xcid], want X-Call-ID: $cid_a"
    echo "   leg B: $xcid"
    publish $name
}

# transfer_refer: blind transfer.  Alice (127.0.25.1) calls bob (127.0.25.2):
# INVITE/100/180/200/ACK; bob sends REFER (Refer-To: <sip:carol@127.0.25.3:5060>)
# -> 202 Accepted; alice sends NOTIFY (message/sipfrag "SIP/2.0 100 Trying")
# -> 200 and ~1 s later NOTIFY ("SIP/2.0 200 OK", subscription terminated)
# -> 200; bob hangs up: BYE / 200.  Alice never really calls carol.
gen_transfer_refer() {
    local name=transfer_refer A=127.0.25.1 B=127.0.25.2 C=127.0.25.3
    sipp_call $name 20 $A $B transfer_refer_uac.xml transfer_refer_uas.xml -key carol_uri "sip:carol@$C:5060"
    expect_seq $name 'INVITE 100 180 200 ACK REFER 202 NOTIFY 200 NOTIFY 200 BYE 200'
    expect_callids $name 1
    local v
    v=$(tshark -r "$WORK/$name.pcap" -Y "sip.Method == \"REFER\" && ip.src == $B" -T fields -e sip.Refer-To 2>/dev/null)
    [ "$v" = "<sip:carol@$C:5060>" ] || die "$name: REFER from $B with Refer-To [$v]"
    echo "   Refer-To: $v"
    v=$(tshark -r "$WORK/$name.pcap" -Y "sip.Method == \"NOTIFY\" && ip.src == $A" -T fields -e sipfrag.line 2>/dev/null | xargs -d '\n' printf '%s; ')
    [ "$v" = "SIP/2.0 100 Trying; SIP/2.0 200 OK; " ] || die "$name: NOTIFY sipfrag bodies [$v]"
    echo "   sipfrag: $v"
    v=$(tshark -r "$WORK/$name.pcap" -Y "sip.Method == \"BYE\"" -T fields -e ip.src 2>/dev/null)
    [ "$v" = "$B" ] || die "$name: BYE from [$v], want the transferor $B"
    publish $name
}

# reinvite_rejected: call, hold re-INVITE (a=sendonly) rejected with 488 Not
# Acceptable Here / ACK (same branch), the call goes on, BYE / 200.
gen_reinvite_rejected() {
    local name=reinvite_rejected A=127.0.26.1 B=127.0.26.2
    sipp_call $name 20 $A $B reinvite_rejected_uac.xml reinvite_rejected_uas.xml
    expect_seq $name 'INVITE 100 180 200 ACK INVITE 488 ACK BYE 200'
    expect_callids $name 1
    expect_dirs $name 'sendrecv sendrecv sendonly'
    local v
    v=$(tshark -r "$WORK/$name.pcap" -Y 'sip.CSeq.seq == 2' -T fields -e sip.Via.branch 2>/dev/null | sort -u | grep -c . || true)
    [ "$v" = 1 ] || die "$name: re-INVITE / 488 / ACK do not share one Via branch ($v branches)"
    publish $name
}

# call_not_ended: INVITE/100/180/200/ACK and no BYE; ~5 s after the ACK an
# unrelated OPTIONS ping / 200 between the same hosts shows that the capture
# went on while the call was still up.
gen_call_not_ended() {
    local name=call_not_ended A=127.0.27.1 B=127.0.27.2 t0
    capture_start $name "$(pair_filter $A $B)"
    uas $name.uas 20 -sf "$SCN/call_not_ended_uas.xml" -i $B -p 5060 -bind_local -mi $B -mp 16000 -m 1
    t0=$(now_ms)
    uac $name.uac 20 $B:5060 -sf "$SCN/call_not_ended_uac.xml" -nd -s bob -i $A -p 5060 -bind_local -mi $A -mp 16000 -m 1
    wait_bg "$UAS_PID" $name.uas
    options_ping $name $A $B "$t0" 5400
    capture_stop
    expect_seq $name 'INVITE 100 180 200 ACK OPTIONS 200'
    expect_callids $name 2
    expect_gap $name 'sip.Method == "ACK"' 'sip.Method == "OPTIONS"' 4.5 5.5
    publish $name
}

# invite_no_ack_non2xx: INVITE/100/486 Busy Here, and the caller never ACKs
# the 486: the UAS retransmits it (timer G: 0, 0.5, 1.5, 3.5, 7.5, 11.5 s,
# T1 = 500 ms doubling, T2 = 4 s) and gives up silently at 15.5 s.  ~5 s
# after the last 486 an unrelated OPTIONS ping / 200 between the same hosts
# shows that the capture went on.  ICMP between the hosts is captured too,
# to prove that both SIPps kept their sockets open throughout.
gen_invite_no_ack_non2xx() {
    local name=invite_no_ack_non2xx A=127.0.28.1 B=127.0.28.2 t0
    capture_start $name "host $A and host $B and (port 5060 or portrange 16000-16010 or icmp)"
    uas $name.uas 30 -sf "$SCN/invite_no_ack_non2xx_uas.xml" -i $B -p 5060 -bind_local -mi $B -mp 16000 -m 1
    t0=$(now_ms)
    uac $name.uac 30 $B:5060 -sf "$SCN/invite_no_ack_non2xx_uac.xml" -nd -pause_msg_ign -s bob -i $A -p 5060 -bind_local -mi $A -mp 16000 -m 1
    wait_bg "$UAS_PID" $name.uas
    # the 486s: t0 + ~0.1 s .. t0 + ~11.6 s; the ping 5 s after the last one
    options_ping $name $A $B "$t0" 16600
    capture_stop
    expect_seq $name 'INVITE 100 486 486 486 486 486 486 OPTIONS 200'
    expect_callids $name 2
    expect_no_icmp $name
    expect_intervals $name 'sip.Status-Code == 486' '0.5 1 2 4 4' 0.2
    local v
    v=$(tshark -r "$WORK/$name.pcap" -Y 'sip.Status-Code == 486' -T fields -e sip.Via.branch -e sip.to.tag -e sip.CSeq 2>/dev/null | sort -u | grep -c . || true)
    [ "$v" = 1 ] || die "$name: the 486s are not identical retransmissions ($v distinct branch/To-tag/CSeq)"
    expect_gap_last $name 'sip.Status-Code == 486' 'sip.Method == "OPTIONS"' 4.5 5.5
    publish $name
}

# options_unanswered: an OPTIONS that is never answered (the server receives
# it and stays silent): the client retransmits it (timer E: 0, 0.5, 1.5,
# 3.5, 7.5, 11.5 s, T2 = 4 s) and gives up silently at 15.5 s.  At 34 s
# (past Timer F = 64*T1 = 32 s) an unrelated OPTIONS ping (own Call-ID
# ping-...) / 200 between the same hosts shows that the capture went on.
# ICMP between the hosts is captured too (there must be none).
gen_options_unanswered() {
    local name=options_unanswered A=127.0.29.1 B=127.0.29.2 t0
    capture_start $name "host $A and host $B and (port 5060 or portrange 16000-16010 or icmp)"
    uas $name.uas 30 -sf "$SCN/options_unanswered_uas.xml" -pause_msg_ign -i $B -p 5060 -bind_local -mi $B -mp 16000 -m 1
    t0=$(now_ms)
    uac $name.uac 30 $B:5060 -sf "$SCN/options_unanswered_uac.xml" -nd -max_non_invite_retrans 5 -s bob -i $A -p 5060 -bind_local -mi $A -mp 16000 -m 1
    wait_bg "$UAS_PID" $name.uas
    options_ping $name $A $B "$t0" 34000
    capture_stop
    expect_seq $name 'OPTIONS OPTIONS OPTIONS OPTIONS OPTIONS OPTIONS OPTIONS 200'
    expect_callids $name 2
    expect_no_icmp $name
    expect_intervals $name 'sip.Method == "OPTIONS" && !(sip.Call-ID matches "^ping-")' '0.5 1 2 4 4' 0.2
    local v
    v=$(tshark -r "$WORK/$name.pcap" -Y 'sip.Status-Code' -T fields -e sip.Call-ID 2>/dev/null)
    [[ $v == ping-* ]] || die "$name: the 200 answers [$v], want the ping"
    expect_gap $name 'sip.Method == "OPTIONS"' 'sip.Call-ID matches "^ping-"' 32.5 35.5
    publish $name
}

# session_expired: a call with a 90 s session timer that the caller
# refreshes (RFC 4028): INVITE/100/180/200/ACK, 30 s later an UPDATE / 200
# refresh, then none; the callee ends the session with BYE / 200 60 s after
# the UPDATE's 200 (the interval less a third, section 10), before it
# would expire.  About 92 s long.
gen_session_expired() {
    local name=session_expired A=127.0.30.1 B=127.0.30.2
    sipp_call $name 110 $A $B session_expired_uac.xml session_expired_uas.xml
    expect_seq $name 'INVITE 100 180 200 ACK UPDATE 200 BYE 200'
    expect_gap $name 'sip.Method == "ACK"' 'sip.Method == "UPDATE"' 29.5 31
    expect_gap $name 'sip.Method == "UPDATE"' 'sip.Method == "BYE"' 59.5 61
    publish $name
}

# dns_failover: the caller's INVITE to the first server (a silent SIPp)
# is retransmitted at 0, 0.5, 1.5 and 3.5 s; at 4 s the caller gives up on
# it and sends the INVITE (new branch, same Call-ID, From-tag and CSeq) to
# the next server (RFC 3263 section 4.3), which answers: 100 / 180 / 200,
# ACK, ~1 s, BYE / 200.
gen_dns_failover() {
    local name=dns_failover A=127.0.31.1 B=127.0.31.2 C=127.0.31.3 pid
    capture_start $name "host $A and (host $B or host $C) and (port 5060 or portrange 16000-16010)"
    uas $name.silent 20 -sf "$SCN/silent_uas.xml" -pause_msg_ign -i $B -p 5060 -bind_local -mi $B -mp 16000 -m 1
    pid=$UAS_PID
    uas $name.uas 20 -sf "$SCN/basic_uas.xml" -i $C -p 5060 -bind_local -mi $C -mp 16000 -m 1
    uac $name.uac 20 $B:5060 -sf "$SCN/dns_failover_uac.xml" -set next_host $C -s bob -i $A -p 5060 -bind_local -mi $A -mp 16000 -m 1
    wait_bg "$UAS_PID" $name.uas
    wait_bg "$pid" $name.silent
    capture_stop
    expect_seq $name 'INVITE INVITE INVITE INVITE INVITE 100 180 200 ACK BYE 200'
    expect_callids $name 1
    expect_gap $name 'ip.dst == '$B' && sip.Method == "INVITE"' 'ip.dst == '$C' && sip.Method == "INVITE"' 3.8 4.5
    publish $name
}

# session_refresh: a call whose callee adds a 90 s session timer that
# the caller refreshes (RFC 4028 section 9: the INVITE only says
# Supported: timer): INVITE/100/180/200/ACK, 45 s later a re-INVITE that
# repeats the caller's offer (o= unchanged) / 200 / ACK, 5 s later BYE /
# 200.  A refresh changes nothing: the call is a basic call with no
# finding.  About 51 s long.
gen_session_refresh() {
    local name=session_refresh A=127.0.32.1 B=127.0.32.2
    sipp_call $name 80 $A $B session_refresh_uac.xml session_refresh_uas.xml
    expect_seq $name 'INVITE 100 180 200 ACK INVITE 200 ACK BYE 200'
    expect_gap $name 'sip.CSeq.method == "ACK" && sip.CSeq.seq == 1' 'sip.Method == "INVITE" && sip.CSeq.seq == 2' 44.5 46
    publish $name
}

# rtp_call NAME A B UAC-SCENARIO UAS-SCENARIO: a call_rtp-shaped call with
# the given scenarios; prints the RTP streams tshark finds.
rtp_call() {
    local name=$1 A=$2 B=$3 uac_scn=$4 uas_scn=$5
    prepare_audio
    sipp_call $name 20 $A $B $uac_scn $uas_scn
    expect_seq $name 'INVITE 100 180 200 ACK BYE 200'
}

# rtp_streams NAME: the RTP streams tshark finds (SDP-announced and
# heuristic), one line each: "SRC:PORT DST:PORT PACKETS LOST".
rtp_streams() {
    tshark -r "$WORK/$1.pcap" -o rtp.heuristic_rtp:TRUE -q -z rtp,streams 2>/dev/null |
        awk '$0 ~ / 0x[0-9A-Fa-f]+ / { print $3 ":" $4, $5 ":" $6, $9, $10 }'
}

# one_way_audio: call_rtp's call, but the callee sends no RTP: ~2 s of the
# caller's G.711 one way only.
gen_one_way_audio() {
    local name=one_way_audio A=127.0.33.1 B=127.0.33.2 n
    rtp_call $name $A $B call_rtp_uac.xml one_way_audio_uas.xml
    n=$(rtp_streams $name | grep -c . || true)
    [ "$n" = 1 ] || die "$name: expected 1 RTP stream, got $n"
    echo "   RTP: $(rtp_streams $name)"
    publish $name
}

# rtp_loss: call_rtp's call, the caller playing its ~2 s of G.711 with 10
# of the 67 packets (31-40) cut out: 15% lost in one direction.
gen_rtp_loss() {
    local name=rtp_loss A=127.0.34.1 B=127.0.34.2
    prepare_audio
    editcap -F pcap "$WORK/g711a_2s.pcap" "$WORK/g711a_2s_gap.pcap" 31-40
    rtp_call $name $A $B rtp_loss_uac.xml call_rtp_uas.xml
    rtp_streams $name | grep -q " 57 " || die "$name: no stream of 57 packets: $(rtp_streams $name)"
    echo "   RTP: $(rtp_streams $name | tr '\n' ';')"
    publish $name
}

# media_address_mismatch: call_rtp's call, but the caller's SDP announces
# its SIP address A while its RTP comes from M (the callee's goes to A).
gen_media_address_mismatch() {
    local name=media_address_mismatch A=127.0.35.1 M=127.0.35.3 B=127.0.35.2
    prepare_audio
    capture_start $name "(host $A or host $M) and host $B and (port 5060 or portrange 16000-16010)"
    uas $name.uas 20 -sf "$SCN/call_rtp_uas.xml" -i $B -p 5060 -bind_local -mi $B -mp 16000 -m 1
    uac $name.uac 20 $B:5060 -sf "$SCN/media_address_mismatch_uac.xml" -key sdp_ip $A -s bob -i $A -p 5060 -bind_local -mi $M -mp 16000 -m 1
    wait_bg "$UAS_PID" $name.uas
    capture_stop
    expect_seq $name 'INVITE 100 180 200 ACK BYE 200'
    rtp_streams $name | grep -q "^$M:16000 $B:16000 " || die "$name: no RTP from $M:16000: $(rtp_streams $name)"
    echo "   RTP: $(rtp_streams $name | tr '\n' ';')"
    publish $name
}

# codec_mismatch: call_rtp's call, the caller offering PCMA and PCMU, the
# callee answering PCMU only; the caller sends PCMA (payload type 8) all the
# same, which the callee's SDP did not list; the callee's PCMA back is one
# the caller listed.
gen_codec_mismatch() {
    local name=codec_mismatch A=127.0.50.1 B=127.0.50.2 n
    rtp_call $name $A $B codec_mismatch_uac.xml codec_mismatch_uas.xml
    n=$(rtp_streams $name | grep -c . || true)
    [ "$n" = 2 ] || die "$name: expected 2 RTP streams, got $n"
    n=$(tshark -r "$WORK/$name.pcap" -Y "rtp.p_type == 8 && ip.src == $A" -o rtp.heuristic_rtp:TRUE 2>/dev/null | grep -c . || true)
    [ "$n" -ge 60 ] || die "$name: $n PCMA packets from the caller, want about 67"
    echo "   RTP: $(rtp_streams $name | tr '\n' ';')"
    publish $name
}

# transfer_failed: transfer_refer's blind transfer, but alice reports
# that her call to carol failed: NOTIFY sipfrag "SIP/2.0 100 Trying", then
# "SIP/2.0 486 Busy Here" (subscription terminated); bob hangs up.
gen_transfer_failed() {
    local name=transfer_failed A=127.0.36.1 B=127.0.36.2 C=127.0.36.3 v
    sipp_call $name 20 $A $B transfer_failed_uac.xml transfer_refer_uas.xml -key carol_uri "sip:carol@$C:5060"
    expect_seq $name 'INVITE 100 180 200 ACK REFER 202 NOTIFY 200 NOTIFY 200 BYE 200'
    v=$(tshark -r "$WORK/$name.pcap" -Y "sip.Method == \"NOTIFY\" && ip.src == $A" -T fields -e sipfrag.line 2>/dev/null | xargs -d '\n' printf '%s; ')
    [ "$v" = "SIP/2.0 100 Trying; SIP/2.0 486 Busy Here; " ] || die "$name: NOTIFY sipfrag bodies [$v]"
    echo "   sipfrag: $v"
    publish $name
}

# invite_not_captured: a basic call (4 s between ACK and BYE) whose
# capture starts 2 s after the INVITE: it holds the BYE / 200 only.
gen_invite_not_captured() {
    local name=invite_not_captured A=127.0.37.1 B=127.0.37.2 pid
    uas $name.uas 20 -sf "$SCN/basic_uas.xml" -i $B -p 5060 -bind_local -mi $B -mp 16000 -m 1
    sipp_bg $name.uac 20 $B:5060 -sf "$SCN/long_call_uac.xml" -s bob -i $A -p 5060 -bind_local -mi $A -mp 16000 -m 1
    pid=$BG_PID
    sleep 2
    capture_start $name "$(pair_filter $A $B)"
    wait_bg "$pid" $name.uac
    wait_bg "$UAS_PID" $name.uas
    capture_stop
    expect_seq $name 'BYE 200'
    publish $name
}

# no_rtp: two calls in one capture: call_rtp's (A, B: RTP both ways), then
# a call of 4 s (C, D) that exchanges SDP and sends no RTP at all.
gen_no_rtp() {
    local name=no_rtp A=127.0.38.1 B=127.0.38.2 C=127.0.38.3 D=127.0.38.4
    prepare_audio
    capture_start $name "((host $A and host $B) or (host $C and host $D)) and (port 5060 or portrange 16000-16010)"
    uas $name.uas1 20 -sf "$SCN/call_rtp_uas.xml" -i $B -p 5060 -bind_local -mi $B -mp 16000 -m 1
    uac $name.uac1 20 $B:5060 -sf "$SCN/call_rtp_uac.xml" -s bob -i $A -p 5060 -bind_local -mi $A -mp 16000 -m 1
    wait_bg "$UAS_PID" $name.uas1
    uas $name.uas2 20 -sf "$SCN/basic_uas.xml" -i $D -p 5060 -bind_local -mi $D -mp 16000 -m 1
    uac $name.uac2 20 $D:5060 -sf "$SCN/long_call_uac.xml" -s dave -i $C -p 5060 -bind_local -mi $C -mp 16000 -m 1
    wait_bg "$UAS_PID" $name.uas2
    capture_stop
    expect_seq $name 'INVITE 100 180 200 ACK BYE 200 INVITE 100 180 200 ACK BYE 200'
    expect_callids $name 2
    echo "   RTP: $(rtp_streams $name | tr '\n' ';')"
    rtp_streams $name | grep -q "$C\|$D" && die "$name: RTP between $C and $D"
    publish $name
}

# reinvite_glare: a call; 1 s after the ACK both sides send a re-INVITE
# (hold) at once and refuse each other's with 491 / ACK (RFC 3261 section
# 14.1); alice sends hers again 2.5 s later, answered 200 / ACK; bob does
# not; alice hangs up: BYE / 200.
gen_reinvite_glare() {
    local name=reinvite_glare A=127.0.39.1 B=127.0.39.2
    sipp_call $name 20 $A $B reinvite_glare_uac.xml reinvite_glare_uas.xml
    expect_seq $name 'INVITE 100 180 200 ACK INVITE INVITE 491 ACK 491 ACK INVITE 200 ACK BYE 200'
    expect_gap $name 'sip.Status-Code == 491' 'sip.Method == "INVITE" && sip.CSeq.seq == 3' 2.4 2.7
    publish $name
}

# rtp_jitter: call_rtp's call, the caller's ~2 s of G.711 re-timed to
# leave in clumps of four packets 1 ms apart every 120 ms: about 40 ms of
# jitter (RFC 3550 section 6.4.1) in one direction.
gen_rtp_jitter() {
    local name=rtp_jitter A=127.0.40.1 B=127.0.40.2
    prepare_audio
    python3 - "$WORK/g711a_2s.pcap" "$WORK/g711a_2s_jitter.pcap" <<'PY'
import struct, sys
src, dst = sys.argv[1], sys.argv[2]
data = bytearray(open(src, 'rb').read())
assert data[:4] == b'\xd4\xc3\xb2\xa1', 'expected a little-endian microsecond pcap'
off, i, t0 = 24, 0, None
while off < len(data):
    sec, usec, incl = struct.unpack_from('<IiI', data, off)
    t = sec * 1000000 + usec
    t0 = t if t0 is None else t0
    g, k = divmod(i, 4)                        # clumps of four
    t = t0 + g * 120000 + 90000 + k * 1000     # every 120 ms, 1 ms apart
    struct.pack_into('<II', data, off, t // 1000000, t % 1000000)
    off += 16 + incl
    i += 1
open(dst, 'wb').write(data)
PY
    rtp_call $name $A $B rtp_jitter_uac.xml call_rtp_uas.xml
    echo "   RTP: $(rtp_streams $name | tr '\n' ';')"
    publish $name
}

# fork_not_ended: a forked INVITE answered by both forks (200 from the
# desk phone, tag A, then from the mobile, tag B), both ACKed; the caller
# talks 3 s with the desk phone and BYEs only that dialog.
gen_fork_not_ended() {
    local name=fork_not_ended A=127.0.41.1 B=127.0.41.2
    sipp_call $name 20 $A $B fork_not_ended_uac.xml fork_not_ended_uas.xml -key desk_ip 127.0.41.3 -key mobile_ip 127.0.41.4
    expect_seq $name 'INVITE 180 200 ACK 200 ACK BYE 200'
    local tags
    tags=$(tshark -r "$WORK/$name.pcap" -Y 'sip.Status-Code == 200 && sip.CSeq.method == "INVITE"' -T fields -e sip.to.tag 2>/dev/null | sort -u | grep -c . || true)
    [ "$tags" = 2 ] || die "$name: expected 2xx with 2 To-tags, got $tags"
    publish $name
}

# subscription_expired: three presence subscriptions (RFC 6665) in one
# capture, each granted 2 s: A subscribes to B and does not refresh, and B
# ends the lapsed subscription (NOTIFY terminated;reason=timeout); C
# subscribes to D and does not refresh, and D says nothing; E subscribes to
# F, refreshes after 1 s and unsubscribes 1 s later, which F confirms with
# reason=timeout, as some notifiers do.  An OPTIONS ping from C to D 10 s
# after D's last message shows the capture going on past the silent
# expiry.
gen_subscription_expired() {
    local name=subscription_expired A=127.0.42.1 B=127.0.42.2 C=127.0.42.3 D=127.0.42.4 E=127.0.42.5 F=127.0.42.6 t0
    capture_start $name "((host $A and host $B) or (host $C and host $D) or (host $E and host $F)) and port 5060"
    uas $name.uas1 20 -sf "$SCN/subscribe_timeout_uas.xml" -i $B -p 5060 -bind_local -m 1
    uac $name.uac1 20 $B:5060 -sf "$SCN/subscribe_uac.xml" -s bob -i $A -p 5060 -bind_local -m 1
    wait_bg "$UAS_PID" $name.uas1
    uas $name.uas2 20 -sf "$SCN/subscribe_silent_uas.xml" -i $D -p 5060 -bind_local -m 1
    t0=$(now_ms)
    uac $name.uac2 20 $D:5060 -sf "$SCN/subscribe_uac.xml" -default_behaviors -bye -s dave -i $C -p 5060 -bind_local -m 1
    wait_bg "$UAS_PID" $name.uas2
    uas $name.uas3 20 -sf "$SCN/subscribe_refresh_uas.xml" -i $F -p 5060 -bind_local -m 1
    uac $name.uac3 20 $F:5060 -sf "$SCN/subscribe_refresh_uac.xml" -s frank -i $E -p 5060 -bind_local -m 1
    wait_bg "$UAS_PID" $name.uas3
    options_ping $name $C $D "$t0" 10000
    capture_stop
    expect_seq $name 'SUBSCRIBE 200 NOTIFY 200 NOTIFY 200 SUBSCRIBE 200 NOTIFY 200 SUBSCRIBE 200 NOTIFY 200 SUBSCRIBE 200 NOTIFY 200 SUBSCRIBE 200 NOTIFY 200 OPTIONS 200'
    expect_callids $name 4
    expect_gap $name 'sip.Method == "NOTIFY" && sip.Subscription-State contains "active"' 'sip.Method == "NOTIFY" && sip.Subscription-State contains "terminated"' 1.9 2.5
    expect_gap $name "sip.Method == \"SUBSCRIBE\" && ip.src == $C" "sip.Method == \"OPTIONS\"" 9 11
    publish $name
}

# prack_call: reliable provisional responses (RFC 3262): INVITE (Supported:
# 100rel) / 100 / 183 (Require: 100rel, RSeq 1) / PRACK / 200 / 180 (RSeq
# 2) / PRACK / 200 / 200 / ACK / BYE / 200.  A basic call: PRACKs are no
# flow step, and every reliable 18x was PRACKed.
gen_prack_call() {
    local name=prack_call A=127.0.43.1 B=127.0.43.2
    sipp_call $name 20 $A $B prack_uac.xml prack_uas.xml
    expect_seq $name 'INVITE 100 183 PRACK 200 180 PRACK 200 200 ACK BYE 200'
    publish $name
}

# prack_missing: a caller that offers 100rel and never PRACKs: the callee
# sends its reliable 183 seven times (T1, doubling) and, 64*T1 after the
# first, rejects the INVITE with 504 / ACK.  About 33 s long.
gen_prack_missing() {
    local name=prack_missing A=127.0.44.1 B=127.0.44.2
    sipp_call $name 60 $A $B prack_ignored_uac.xml prack_missing_uas.xml
    expect_seq $name 'INVITE 100 183 183 183 183 183 183 183 504 ACK'
    expect_gap $name 'sip.Status-Code == 183' 'sip.Status-Code == 504' 31.5 33
    publish $name
}

# precondition_call: QoS preconditions (RFC 3312): INVITE (Require:
# precondition) / 100 / 183 (reliable, SDP answer) / PRACK / 200 / UPDATE
# (local QoS met) / 200 / 180 (reliable) / PRACK / 200 / 200 / ACK / BYE /
# 200.  Matches the built-in precondition-call flow, with no finding.
gen_precondition_call() {
    local name=precondition_call A=127.0.45.1 B=127.0.45.2
    sipp_call $name 20 $A $B precondition_uac.xml precondition_uas.xml
    expect_seq $name 'INVITE 100 183 PRACK 200 UPDATE 200 180 PRACK 200 200 ACK BYE 200'
    publish $name
}

# proxy_call NAME TRANSPORT A P B [KAMAILIO-ARGS...]: a caller on A
# (proxy/uac.py TRANSPORT, ws or tls) calls bob through a Kamailio proxy on
# P (proxy/kamailio-TRANSPORT.cfg: double Record-Route) that relays to a
# SIPp UAS on B over UDP (proxied_uas.xml): INVITE / 100 (the proxy's) /
# 180 / 200 / ACK, 1 s, BYE / 200 on both hops.  Captured on 127.0.N.0/24.
proxy_call() {
    local name=$1 tr=$2 A=$3 P=$4 B=$5 kpid mods= d
    shift 5
    command -v kamailio >/dev/null || die "$name: missing kamailio (apt-get install -y kamailio kamailio-websocket-modules kamailio-tls-modules python3-websocket)"
    for d in /usr/lib/*/kamailio/modules /usr/lib/kamailio/modules /usr/local/lib*/kamailio/modules; do
        [ -r "$d/tm.so" ] && mods=$d && break
    done
    [ -n "$mods" ] || die "$name: no kamailio modules directory"
    capture_start $name "net ${A%.*}.0/24"
    timeout 30 kamailio -f "$GEN_DIR/proxy/kamailio-$tr.cfg" -L "$mods" -A "PROXY=$P" -A "CALLEE=\"$B\"" "$@" \
        -DD -E -Y "$WORK" -w "$WORK" >"$WORK/$name.kamailio.log" 2>&1 &
    kpid=$!
    BG_PIDS+=("$kpid")
    uas $name.uas 20 -sf "$SCN/proxied_uas.xml" -i $B -p 5060 -bind_local -mi $B -mp 16000 -m 1
    sleep 0.5
    timeout 20 /usr/bin/python3 "$GEN_DIR/proxy/uac.py" $tr $A $P bob >"$WORK/$name.uac.out" 2>&1 ||
        die "$name: proxy/uac.py failed: $(cat "$WORK/$name.uac.out"); see $WORK/$name.kamailio.log (KEEP_WORK=1)"
    wait_bg "$UAS_PID" $name.uas
    kill -TERM "$kpid" 2>/dev/null || true
    wait "$kpid" || true
    capture_stop
}

# ws_call: SIP over WebSocket (RFC 7118).  The caller is on a WebSocket
# (python3-websocket: masked client frames) to the proxy's TCP 8080.  One
# call, two hops, two transports; the WebSocket closes at the end.
gen_ws_call() {
    local name=ws_call
    /usr/bin/python3 -c 'import websocket' 2>/dev/null || die "$name: missing python3-websocket"
    ls /usr/lib/*/kamailio/modules/websocket.so >/dev/null 2>&1 || die "$name: missing kamailio-websocket-modules"
    proxy_call $name ws 127.0.46.1 127.0.46.2 127.0.46.3
    expect_seq $name 'INVITE (100 INVITE|INVITE 100) 100 180 180 200 200 ACK ACK BYE BYE 200 200'
    expect_callids $name 1
    publish $name
}

# tls_call: SIP over TLS to the proxy's port 5061 (Python's ssl, OpenSSL;
# a self-signed certificate made for the run), relayed over UDP: only the
# UDP hop can be read; the TLS hop is encrypted.
gen_tls_call() {
    local name=tls_call
    ls /usr/lib/*/kamailio/modules/tls.so >/dev/null 2>&1 || die "$name: missing kamailio-tls-modules"
    command -v openssl >/dev/null || die "$name: missing openssl"
    openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.47.2 \
        -keyout "$WORK/$name.key" -out "$WORK/$name.crt" 2>/dev/null || die "$name: openssl req failed"
    proxy_call $name tls 127.0.47.1 127.0.47.2 127.0.47.3 -A "CERT=\"$WORK/$name.crt\"" -A "KEY=\"$WORK/$name.key\""
    expect_seq $name 'INVITE 100 180 200 ACK BYE 200'
    local tls
    tls=$(tshark -r "$WORK/$name.pcap" -Y 'tls.handshake.type == 1 && tcp.dstport == 5061' 2>/dev/null | grep -c . || true)
    [ "$tls" = 1 ] || die "$name: $tls TLS ClientHellos to port 5061, want 1"
    publish $name
}

# keylog_tls_call NAME N VERSION SUITE: tls_call's call on 127.0.N.0/24,
# the caller's TLS secrets written to $WORK/NAME.keylog (proxy/uac.py's
# UAC_TLS_KEYLOG), which publish copies beside the capture.  The caller
# (uac.py) reads its other UAC_TLS_* settings from the environment: the
# gen function declares them `local -x`.  Checks what gen_tls_call checks,
# then that the ServerHello chose VERSION (TLS 1.3: 0x0304, which it says
# in its supported_versions extension; TLS 1.2: 0x0303) and the cipher
# suite SUITE (its number, e.g. 0x1302), and that tshark, given the key
# log, reads the call on the TLS hop as on the UDP one, and both hops in
# one sequence; with UAC_TLS_NO_ETM=1, that neither hello has
# encrypt_then_mac.
keylog_tls_call() {
    local name=$1 n=$2 ver=$3 suite=$4 A=127.0.$2.1 P=127.0.$2.2 B=127.0.$2.3 kl got re
    kl=(-o "tls.keylog_file:$WORK/$name.keylog")
    ls /usr/lib/*/kamailio/modules/tls.so >/dev/null 2>&1 || die "$name: missing kamailio-tls-modules"
    command -v openssl >/dev/null || die "$name: missing openssl"
    openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=$P \
        -keyout "$WORK/$name.key" -out "$WORK/$name.crt" 2>/dev/null || die "$name: openssl req failed"
    rm -f "$WORK/$name.keylog"   # uac.py (OpenSSL) appends
    UAC_TLS_KEYLOG="$WORK/$name.keylog" \
        proxy_call $name tls $A $P $B -A "CERT=\"$WORK/$name.crt\"" -A "KEY=\"$WORK/$name.key\""
    expect_seq $name 'INVITE 100 180 200 ACK BYE 200'
    expect_callids $name 1
    got=$(tshark -r "$WORK/$name.pcap" -Y 'tls.handshake.type == 1 && tcp.dstport == 5061' 2>/dev/null | grep -c . || true)
    [ "$got" = 1 ] || die "$name: $got TLS ClientHellos to port 5061, want 1"
    [ -s "$WORK/$name.keylog" ] || die "$name: the caller wrote no key log"
    got=$(tshark -r "$WORK/$name.pcap" -Y 'tls.handshake.type == 2' -T fields \
        -e tls.handshake.version -e tls.handshake.extensions.supported_version -e tls.handshake.ciphersuite 2>/dev/null)
    case $ver in
        0x0304) [[ $got == $'0x0303\t0x0304\t'$suite ]] ;;
        *) [[ $got == $'0x0303\t\t'$suite ]] ;;
    esac || die "$name: ServerHello [version, supported_version, suite] = [$got], want version $ver suite $suite"
    echo "   TLS: version $ver, suite $suite"
    got=$(tshark -r "$WORK/$name.pcap" "${kl[@]}" -Y 'sip && tcp.port == 5061' -T fields -e sip.Method -e sip.Status-Code 2>/dev/null |
        tr ',\t' '  ' | xargs echo)
    [ "$got" = 'INVITE 100 180 200 ACK BYE 200' ] || die "$name: SIP decrypted on the TLS hop [$got]"
    echo "   SIP over TLS, decrypted: $got"
    got=$(tshark -r "$WORK/$name.pcap" "${kl[@]}" -Y sip -T fields -e sip.Method -e sip.Status-Code 2>/dev/null |
        tr ',\t' '  ' | xargs echo)
    re='INVITE (100 INVITE|INVITE 100) 100 180 180 200 200 ACK ACK BYE BYE 200 200'
    [[ $got =~ ^$re$ ]] ||
        die "$name: SIP on both hops, decrypted [$got]"
    if [ "${UAC_TLS_NO_ETM:-}" = 1 ]; then
        got=$(tshark -r "$WORK/$name.pcap" -Y 'tls.handshake.type == 1 || tls.handshake.type == 2' -T fields \
            -e tls.handshake.extension.type 2>/dev/null | tr ',\t' '\n\n' | grep -c '^22$' || true)
        [ "$got" = 0 ] || die "$name: encrypt_then_mac (extension 22) in a hello, though the caller was not to offer it"
    fi
    publish $name
}

# tls13_call: tls_call's call with the caller's key log beside it
# (testdata/tls13_call.keylog), so that the TLS hop can be read: TLS 1.3
# as OpenSSL and Kamailio agree on it by default (TLS_AES_256_GCM_SHA384).
gen_tls13_call() {
    keylog_tls_call tls13_call 76 0x0304 0x1302
}

# tls12_call: tls13_call over TLS 1.2, the caller offering the one suite
# ECDHE-RSA-AES128-GCM-SHA256 (0xc02f: AEAD, a SHA-256 PRF, where TLS
# 1.3's suite above is AES-256 and SHA-384); key log testdata/tls12_call.keylog.
gen_tls12_call() {
    local -x UAC_TLS_VERSION=1.2 UAC_TLS_CIPHERS=ECDHE-RSA-AES128-GCM-SHA256
    keylog_tls_call tls12_call 77 0x0303 0xc02f
}

# tls12_cbc_call: tls12_call with a CBC suite, ECDHE-RSA-AES128-SHA256
# (0xc027), MAC-then-encrypt: the caller does not offer encrypt-then-MAC
# (RFC 7366), as OpenSSL otherwise does; key log testdata/tls12_cbc_call.keylog.
gen_tls12_cbc_call() {
    local -x UAC_TLS_VERSION=1.2 UAC_TLS_CIPHERS=ECDHE-RSA-AES128-SHA256 UAC_TLS_NO_ETM=1
    keylog_tls_call tls12_cbc_call 78 0x0303 0xc027
}

# webrtc_call: a WebRTC call (pion: vanilla ICE, DTLS-SRTP, SRTCP, STUN
# consent checks) over SIP/UDP, its SDP as pion writes it: c=0.0.0.0 and
# port 9 beside every candidate, so the media is found only by its
# candidates.  Each side also offers a server-reflexive candidate; ICE
# picks the host pair.  The SIP is the generator's own minimal user agent.
gen_webrtc_call() {
    local name=webrtc_call A=127.0.49.1 B=127.0.49.2 a rc=0 added=
    command -v go >/dev/null || die "$name: missing go (testdata/gen/webrtc is a Go program)"
    command -v ip >/dev/null || die "$name: missing ip (apt-get install -y iproute2)"
    (cd "$GEN_DIR/webrtc" && go build -o "$WORK/webrtc-gen" .) >"$WORK/$name.build.log" 2>&1 ||
        die "$name: building testdata/gen/webrtc failed: $(cat "$WORK/$name.build.log")"
    # ICE gathers host candidates from the interfaces' addresses.
    for a in $A $B; do
        ip -4 addr show dev lo | grep -q " $a/" && continue
        ip addr add $a/32 dev lo || die "$name: cannot add $a to lo"
        added="$added $a"
    done
    capture_start $name "net 127.0.49.0/24"
    timeout 30 "$WORK/webrtc-gen" -caller $A -callee $B -caller-srflx 127.0.49.11 -callee-srflx 127.0.49.12 \
        -talk 3s >"$WORK/$name.out" 2>&1 || rc=$?
    capture_stop
    for a in $added; do ip addr del $a/32 dev lo || true; done
    [ $rc = 0 ] || die "$name: the generator exited $rc: $(tail -5 "$WORK/$name.out")"
    expect_seq $name 'INVITE 100 180 200 ACK BYE 200'
    expect_callids $name 1
    local srtp
    srtp=$(tshark -r "$WORK/$name.pcap" -Y 'udp && !sip && !stun && !dtls && udp.payload[0:1] >= 80 && udp.payload[0:1] <= bf' 2>/dev/null | grep -c . || true)
    [ "$srtp" -ge 280 ] || die "$name: $srtp SRTP/SRTCP packets, want about 300"
    echo "   SRTP/SRTCP packets: $srtp"
    publish $name
}

# no_sdp_offer: an INVITE without SDP and a 200 without SDP: nobody made an
# offer (RFC 3261 §13.3.1.4 puts it in the 200), so no media was agreed.
gen_no_sdp_offer() {
    local name=no_sdp_offer A=127.0.55.1 B=127.0.55.2
    sipp_call $name 20 $A $B late_offer_uac.xml no_sdp_offer_uas.xml
    expect_seq $name 'INVITE 100 180 200 ACK BYE 200'
    publish $name
}

# prepare_t38: pcaps of T.38 UDPTL packets (ITU-T T.38, its UDPTL
# framing: sequence number, the IFP packet, the last two IFP packets again
# as redundancy), 30 ms apart, for SIPp's play_pcap_image, which sends their
# UDP payloads to the far end's m=image port. The caller's: CNG, then the
# V.21 preamble and a DCS frame (HDLC, T.30), training, a few lines of page
# data (V.29 9600, non-ECM), its end; the callee's: CED, then DIS, CFR and
# MCF frames, and DCN. A sketch of a one-page fax, not a decodable page:
# tshark, told the port is T.38, reads every packet and reassembles the
# T.30 frames. Also: a session whose training fails twice (the callee
# answers each DCS and its training check with FTT, the caller gives up
# with DCN), and the caller's sketch with three packets in a row missing
# (sequence numbers 20-22, page data), of which the redundancy of the next
# carries two.
prepare_t38() {
    [ -f "$WORK/t38_caller_lossy.pcap" ] && return 0
    python3 - "$WORK" <<'PY'
import struct, sys

def ind(v):                        # a t30-indicator IFP (no data field)
    return bytes([v << 1])

def hdlc(frame):                   # V.21 HDLC data, then hdlc-fcs-OK
    return [bytes([0xC0, 1, 0x80, 0, len(frame) - 1]) + frame, bytes([0xC0, 1, 0x20])]

def page(line, end=False, mod=4):  # t4-non-ecm-data (or -sig-end), V.29 9600 unless told
    return bytes([0xC0 | mod << 1, 1, 0xF0 if end else 0xE0, 0, len(line) - 1]) + line

CNG, CED, V21, V29_7200_TRAINING, V29_9600_TRAINING, NO_SIGNAL = 1, 2, 3, 6, 7, 0
DIS, DCS, CFR, FTT, MCF, DCN = [bytes([0xFF, 0xC8, f]) for f in (0x01, 0x41, 0x21, 0x22, 0x31, 0x5F)]
caller = [ind(CNG)] * 8 + [ind(V21)] + hdlc(DCS + bytes([0x00, 0x46, 0x00])) + \
    [ind(NO_SIGNAL), ind(V29_9600_TRAINING)] + [page(bytes([0x00, 0x01, i, 0x22] * 8)) for i in range(40)] + \
    [page(bytes([0x00, 0x01, 0x00, 0x00]), end=True), ind(NO_SIGNAL)]
callee = [ind(CED)] * 10 + [ind(V21)] + hdlc(DIS + bytes([0x00, 0x46, 0x80])) + \
    [ind(NO_SIGNAL)] * 6 + [ind(V21)] + hdlc(CFR) + [ind(NO_SIGNAL)] * 30 + \
    [ind(V21)] + hdlc(MCF) + [ind(V21)] + hdlc(DCN) + [ind(NO_SIGNAL)]
tcf = lambda mod: [page(bytes(32), mod=mod) for _ in range(4)] + [page(bytes(4), end=True, mod=mod)]
caller_ftt = [ind(CNG)] * 12 + [ind(V21)] + hdlc(DCS + bytes([0x00, 0x46, 0x00])) + \
    [ind(NO_SIGNAL), ind(V29_9600_TRAINING)] + tcf(4) + [ind(NO_SIGNAL)] * 11 + \
    [ind(V21)] + hdlc(DCS + bytes([0x00, 0x42, 0x00])) + [ind(NO_SIGNAL), ind(V29_7200_TRAINING)] + tcf(3) + \
    [ind(NO_SIGNAL)] * 10 + [ind(V21)] + hdlc(DCN) + [ind(NO_SIGNAL)]
callee_ftt = [ind(CED)] * 10 + [ind(V21)] + hdlc(DIS + bytes([0x00, 0x46, 0x80])) + [ind(NO_SIGNAL)] * 12 + \
    [ind(V21)] + hdlc(FTT) + [ind(NO_SIGNAL)] * 16 + [ind(V21)] + hdlc(FTT) + [ind(NO_SIGNAL)] * 10

def write(path, ifps, missing=()):
    out = open(path, 'wb')
    out.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    t = 0
    for seq, ifp in enumerate(ifps):
        red = ifps[max(0, seq - 2):seq][::-1]
        udptl = struct.pack('>H', seq) + bytes([len(ifp)]) + ifp + \
            bytes([0, len(red)]) + b''.join(bytes([len(r)]) + r for r in red)
        udp = struct.pack('>HHHH', 4000, 4002, 8 + len(udptl), 0) + udptl
        ip = struct.pack('>BBHHHBBH4s4s', 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0,
                         bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2])) + udp
        eth = b'\x00' * 12 + b'\x08\x00' + ip
        if seq not in missing:
            out.write(struct.pack('<IIII', t // 1000000, t % 1000000, len(eth), len(eth)) + eth)
        t += 30000

w = sys.argv[1]
write(w + '/t38_caller.pcap', caller)
write(w + '/t38_callee.pcap', callee)
write(w + '/t38_caller_ftt.pcap', caller_ftt)
write(w + '/t38_callee_ftt.pcap', callee_ftt)
write(w + '/t38_caller_lossy.pcap', caller, missing=(20, 21, 22))
PY
}

# t38_scenario BASE NAME PCAP: writes $WORK/NAME, scenario BASE with its
# play_pcap_image file replaced by PCAP, or, with PCAP "-", its UDPTL not
# sent at all (the party receives T.38 but stays silent). Prints the path.
t38_scenario() {
    python3 - "$SCN/$1" "$WORK/$2" "$3" <<'PY'
import re, sys
src, dst, pcap = sys.argv[1:]
xml = open(src).read()
if pcap == '-':
    xml, n = re.subn(r'\s*(<nop>\s*)?<action>\s*<exec play_pcap_image="[^"]+"/>\s*</action>\s*(</nop>\s*)?', '\n', xml)
else:
    xml, n = re.subn(r'play_pcap_image="[^"]+"', 'play_pcap_image="%s"' % pcap, xml)
assert n == 1, 'expected one play_pcap_image in ' + src
open(dst, 'w').write(xml)
PY
    echo "$WORK/$2"
}

# t38_fax: the call_rtp call (~2 s of PCMA both ways), then the caller's
# re-INVITE switches the audio stream to T.38 fax (m=image udptl t38), the
# callee accepts, and ~2 s of UDPTL flow both ways before the BYE.
gen_t38_fax() {
    local name=t38_fax A=127.0.56.1 B=127.0.56.2
    prepare_audio
    prepare_t38
    sipp_call $name 20 $A $B t38_fax_uac.xml t38_fax_uas.xml
    expect_seq $name 'INVITE 100 180 200 ACK INVITE 200 ACK BYE 200'
    local t38
    t38=$(tshark -r "$WORK/$name.pcap" -Y t38 2>/dev/null | grep -c . || true)
    [ "$t38" -gt 100 ] || die "$name: expected over 100 T.38 packets, got $t38"
    echo "   T.38: $t38 packets"
    publish $name
}

# t38_one_way: the t38_fax call, but the callee sends no UDPTL after
# accepting T.38 (one-way-fax: the caller's fax hears nothing).
gen_t38_one_way() {
    local name=t38_one_way A=127.0.58.1 B=127.0.58.2
    prepare_audio
    prepare_t38
    sipp_call $name 20 $A $B t38_fax_uac.xml "$(t38_scenario t38_fax_uas.xml t38_silent_uas.xml -)"
    expect_seq $name 'INVITE 100 180 200 ACK INVITE 200 ACK BYE 200'
    publish $name
}

# no_udptl: the t38_fax call, but neither side sends UDPTL after the
# switch (no-udptl).
gen_no_udptl() {
    local name=no_udptl A=127.0.59.1 B=127.0.59.2
    prepare_audio
    prepare_t38
    sipp_call $name 20 $A $B "$(t38_scenario t38_fax_uac.xml t38_silent_uac.xml -)" "$(t38_scenario t38_fax_uas.xml t38_silent_uas.xml -)"
    expect_seq $name 'INVITE 100 180 200 ACK INVITE 200 ACK BYE 200'
    publish $name
}

# t38_fax_failed: the t38_fax call, whose fax fails: the callee answers
# each DCS with FTT (failure to train), the caller gives up with DCN
# (fax-failed).
gen_t38_fax_failed() {
    local name=t38_fax_failed A=127.0.60.1 B=127.0.60.2
    prepare_audio
    prepare_t38
    sipp_call $name 20 $A $B "$(t38_scenario t38_fax_uac.xml t38_ftt_uac.xml t38_caller_ftt.pcap)" \
        "$(t38_scenario t38_fax_uas.xml t38_ftt_uas.xml t38_callee_ftt.pcap)"
    expect_seq $name 'INVITE 100 180 200 ACK INVITE 200 ACK BYE 200'
    publish $name
}

# t38_loss: the t38_fax call, the caller's UDPTL missing sequence
# numbers 20-22: the next packet's redundancy carries 21 and 22, 20 is
# lost for good (fax-loss).
gen_t38_loss() {
    local name=t38_loss A=127.0.61.1 B=127.0.61.2
    prepare_audio
    prepare_t38
    sipp_call $name 20 $A $B "$(t38_scenario t38_fax_uac.xml t38_lossy_uac.xml t38_caller_lossy.pcap)" t38_fax_uas.xml
    expect_seq $name 'INVITE 100 180 200 ACK INVITE 200 ACK BYE 200'
    publish $name
}

# codec_refused: the caller offers PCMU; the callee refuses the offer with
# 488 Not Acceptable Here and a Warning (305, incompatible media format).
gen_codec_refused() {
    local name=codec_refused A=127.0.57.1 B=127.0.57.2
    sipp_call $name 20 $A $B call_reject_uac.xml codec_refused_uas.xml
    expect_seq $name 'INVITE 100 488 ACK'
    publish $name
}

# register_423: REGISTER (Expires: 60) -> 423 Interval Too Brief with
# Min-Expires: 3600 -> REGISTER (CSeq 2, Expires: 3600) -> 200 OK.
gen_register_423() {
    local name=register_423 A=127.0.91.1 B=127.0.91.2
    capture_start $name "$(pair_filter $A $B)"
    uas $name.uas 20 -sf "$SCN/register_423_uas.xml" -i $B -p 5060 -bind_local -mi $B -mp 16000 -m 1
    uac $name.uac 20 $B:5060 -sf "$SCN/register_423_uac.xml" -i $A -p 5060 -bind_local -mi $A -mp 16000 -m 1
    wait_bg "$UAS_PID" $name.uas
    capture_stop
    expect_seq $name 'REGISTER 423 REGISTER 200'
    expect_callids $name 1
    publish $name
}

# register_refresh_tcp: over TCP, a REGISTER binding two Contacts
# (Expires: 2) -> 200, refreshed twice 1 s apart with the same Call-ID ->
# 200, then REGISTER Contact: * with Expires: 0 (remove all) -> 200.
gen_register_refresh_tcp() {
    local name=register_refresh_tcp A=127.0.92.1 B=127.0.92.2
    capture_start $name "$(pair_filter $A $B)"
    uas $name.uas 20 -sf "$SCN/register_refresh_tcp_uas.xml" -t t1 -i $B -p 5060 -bind_local -mi $B -mp 16000 -m 1
    uac $name.uac 20 $B:5060 -sf "$SCN/register_refresh_tcp_uac.xml" -t t1 -i $A -p 5060 -bind_local -mi $A -mp 16000 -m 1
    wait_bg "$UAS_PID" $name.uas
    capture_stop
    expect_seq $name 'REGISTER 200 REGISTER 200 REGISTER 200 REGISTER 200'
    expect_callids $name 1
    local n
    n=$(tshark -r "$WORK/$name.pcap" -Y 'sip.Method == "REGISTER" && sip.Contact == "*"' 2>/dev/null | grep -c . || true)
    [ "$n" = 1 ] || die "$name: expected 1 REGISTER with Contact: *, got $n"
    expect_intervals $name 'sip.Method == "REGISTER"' '1 1 1' 0.2
    publish $name
}

# subscribe_dialog_blf: SUBSCRIBE (Event: dialog, Expires: 4); the first
# NOTIFY comes before the SUBSCRIBE's 200 (RFC 6665 §4.1.2.4); a refresh
# 1 s later, an unsubscribe (Expires: 0) 1 s after that, each with its
# NOTIFY, the last one terminated.
gen_subscribe_dialog_blf() {
    local name=subscribe_dialog_blf A=127.0.93.1 B=127.0.93.2
    capture_start $name "$(pair_filter $A $B)"
    uas $name.uas 20 -sf "$SCN/subscribe_dialog_blf_uas.xml" -i $B -p 5060 -bind_local -m 1
    uac $name.uac 20 $B:5060 -sf "$SCN/subscribe_dialog_blf_uac.xml" -s bob -i $A -p 5060 -bind_local -m 1
    wait_bg "$UAS_PID" $name.uas
    capture_stop
    expect_seq $name 'SUBSCRIBE NOTIFY 200 200 SUBSCRIBE 200 NOTIFY 200 SUBSCRIBE 200 NOTIFY 200'
    expect_callids $name 1
    publish $name
}

# message_202_404: two MESSAGEs, each its own Call-ID: to bob -> 202
# Accepted, to nobody -> 404 Not Found.
gen_message_202_404() {
    local name=message_202_404 A=127.0.94.1 B=127.0.94.2
    capture_start $name "$(pair_filter $A $B)"
    uas $name.uas 20 -sf "$SCN/message_uas.xml" -i $B -p 5060 -bind_local -mi $B -mp 16000 -m 2
    uac $name.uac1 20 $B:5060 -sf "$SCN/message_uac.xml" -s bob -i $A -p 5060 -bind_local -mi $A -mp 16000 -m 1
    uac $name.uac2 20 $B:5060 -sf "$SCN/message_uac.xml" -s nobody -i $A -p 5060 -bind_local -mi $A -mp 16000 -m 1
    wait_bg "$UAS_PID" $name.uas
    capture_stop
    expect_seq $name 'MESSAGE 202 MESSAGE 404'
    expect_callids $name 2
    publish $name
}

# tcp_burst: a call over TCP whose callee answers at once: it writes 100
# Trying, 180 Ringing and 200 OK (SDP) in one send, one TCP segment that
# carries all three; ACK, BYE / 200.
gen_tcp_burst() {
    local name=tcp_burst A=127.0.95.1 B=127.0.95.2 v
    capture_start $name "$(pair_filter $A $B)"
    uas $name.uas 20 -sf "$SCN/tcp_burst_uas.xml" -t t1 -i $B -p 5060 -bind_local -mi $B -mp 16000 -m 1
    uac $name.uac 20 $B:5060 -sf "$SCN/basic_uac.xml" -t t1 -s bob -i $A -p 5060 -bind_local -mi $A -mp 16000 -m 1
    wait_bg "$UAS_PID" $name.uas
    capture_stop
    expect_seq $name 'INVITE 100 180 200 ACK BYE 200'
    # tshark reads the three responses in one frame
    v=$(tshark -r "$WORK/$name.pcap" -Y 'sip.Status-Code' -T fields -e sip.Status-Code 2>/dev/null | xargs echo)
    [ "$v" = "100,180,200 200" ] || die "$name: responses by frame [$v], want [100,180,200 200]"
    publish $name
}

# attended_transfer_calls NAME A B C REPLACES_TO_TAG P1 P2 [CONSULT-ARGS...]:
# the seven SIPps of an attended transfer (RFC 5589 §7) between alice
# (transferor, A), bob (transferee, B) and carol (target, C), captured.
# One SIPp per party per call; a party with two calls at once has its
# second SIPp on port 5062 (its Contacts say so):
#   call 1  A:5060 -> B:5060  alice calls bob, holds him, REFERs him to carol
#                             ($P1_alice_uac.xml / $P1_bob_uas.xml)
#   call 2  A:5062 -> C:5062  the consultation call, Call-ID consult-1@A,
#                             From tag consult-a, To tag consult-c
#                             ($P2_consult_uac.xml / $P2_consult_uas.xml,
#                             both with CONSULT-ARGS)
#   call 3  B:5062 -> C:5060  bob's INVITE with Replaces (the Refer-To's
#                             port) ($P1_replaces_uac.xml / $P1_replaces_uas.xml)
# The REFER's Refer-To and the INVITE's Replaces name call 2 with the
# to-tag REPLACES_TO_TAG (consult-c, or one carol never gave).  The order
# of the messages between the calls comes from the pauses in the scenarios
# and the start times here (call 2 at 1.5 s, call 3 at 3.4 s after call 1;
# the gen functions' comments give the timeline), each step at least
# 0.3 s from the next one of another SIPp.  Leaves call 1's start in AT_T0.
attended_transfer_calls() {
    local name=$1 A=$2 B=$3 C=$4 rtag=$5 p1=$6 p2=$7
    shift 7
    local cid2=consult-1@$A atag=consult-a ctag=consult-c
    local refer_to="<sip:carol@$C:5060?Replaces=${cid2/@/%40}%3Bto-tag%3D$rtag%3Bfrom-tag%3D$atag>"
    local replaces="$cid2;to-tag=$rtag;from-tag=$atag"
    local carol3 carol2 bob1 alice1 alice2
    capture_start $name "(host $A or host $B or host $C) and (port 5060 or port 5062 or portrange 16000-16010)"
    uas $name.carol-call3 30 -sf "$SCN/${p1}_replaces_uas.xml" -i $C -p 5060 -bind_local -mi $C -mp 16000 -m 1
    carol3=$UAS_PID
    uas $name.carol-call2 30 -sf "$SCN/${p2}_consult_uas.xml" "$@" -key to_tag $ctag -i $C -p 5062 -bind_local -mi $C -mp 16010 -m 1
    carol2=$UAS_PID
    uas $name.bob-call1 30 -sf "$SCN/${p1}_bob_uas.xml" -i $B -p 5060 -bind_local -mi $B -mp 16000 -m 1
    bob1=$UAS_PID
    AT_T0=$(now_ms)
    sipp_bg $name.alice-call1 30 $B:5060 -sf "$SCN/${p1}_alice_uac.xml" -key refer_to "$refer_to" -s bob -i $A -p 5060 -bind_local -mi $A -mp 16000 -m 1
    alice1=$BG_PID
    sleep_until "$AT_T0" 1500
    sipp_bg $name.alice-call2 30 $C:5062 -sf "$SCN/${p2}_consult_uac.xml" "$@" -cid_str "$cid2" -key from_tag $atag -s carol -i $A -p 5062 -bind_local -mi $A -mp 16010 -m 1
    alice2=$BG_PID
    sleep_until "$AT_T0" 3400
    uac $name.bob-call3 30 $C:5060 -sf "$SCN/${p1}_replaces_uac.xml" -key replaces "$replaces" -key referred_by "<sip:alice@$A:5060>" -s carol -i $B -p 5062 -bind_local -mi $B -mp 16010 -m 1
    wait_bg "$alice1" $name.alice-call1
    wait_bg "$alice2" $name.alice-call2
    wait_bg "$bob1" $name.bob-call1
    wait_bg "$carol2" $name.carol-call2
    wait_bg "$carol3" $name.carol-call3
}

# attended_transfer_check NAME A B C REPLACES_TO_TAG FINAL_SIPFRAG: the
# consultation call (the first INVITE to C:5062) has the Call-ID and tags
# gen.sh gave it; the REFER's Refer-To and the INVITE with Replaces name
# exactly that Call-ID and those tags (REPLACES_TO_TAG in place of carol's
# To tag when it is not hers), the INVITE goes to the Refer-To's URI with
# the REFER's Referred-By; bob's NOTIFYs carry "SIP/2.0 100 Trying"
# (active) and FINAL_SIPFRAG (terminated).
attended_transfer_check() {
    local name=$1 A=$2 B=$3 C=$4 rtag=$5 final=$6 f=$WORK/$1.pcap T=$'\t'
    local cid2 atag ctag v want
    cid2=$(tshark -r "$f" -Y "sip.Method == \"INVITE\" && ip.dst == $C && udp.dstport == 5062" -T fields -e sip.Call-ID 2>/dev/null | head -1)
    atag=$(tshark -r "$f" -Y "sip.Method == \"INVITE\" && ip.dst == $C && udp.dstport == 5062" -T fields -e sip.from.tag 2>/dev/null | head -1)
    ctag=$(tshark -r "$f" -Y "sip.Status-Code == 200 && sip.CSeq.method == \"INVITE\" && ip.src == $C && udp.srcport == 5062" -T fields -e sip.to.tag 2>/dev/null | head -1)
    [ "$cid2" = "consult-1@$A" ] && [ "$atag" = consult-a ] && [ "$ctag" = consult-c ] ||
        die "$name: consultation call has Call-ID [$cid2], From tag [$atag], To tag [$ctag]"
    echo "   call 2: Call-ID $cid2, From tag $atag, To tag $ctag"
    want="<sip:carol@$C:5060?Replaces=${cid2/@/%40}%3Bto-tag%3D$rtag%3Bfrom-tag%3D$atag>"
    v=$(tshark -r "$f" -Y "sip.Method == \"REFER\" && ip.src == $A" -T fields -e sip.Refer-To 2>/dev/null)
    [ "$v" = "$want" ] || die "$name: REFER with Refer-To [$v], want [$want]"
    echo "   Refer-To: $v"
    want="$cid2;to-tag=$rtag;from-tag=$atag"
    v=$(tshark -r "$f" -Y "sip.Replaces" -T fields -e sip.Method -e ip.src -e sip.r-uri -e sip.Replaces 2>/dev/null)
    [ "$v" = "INVITE${T}$B${T}sip:carol@$C:5060${T}$want" ] || die "$name: messages with Replaces [$v], want one INVITE from $B to sip:carol@$C:5060 with [$want]"
    echo "   Replaces: $want"
    [ "$rtag" = "$ctag" ] || echo "   (to-tag $rtag: carol's tag on call 2 is $ctag)"
    v=$(tshark -r "$f" -Y "sip.Method == \"REFER\" || sip.Replaces" -T fields -e sip.Referred-by 2>/dev/null | xargs -d '\n' printf '%s; ')
    [ "$v" = "<sip:alice@$A:5060>; <sip:alice@$A:5060>; " ] || die "$name: Referred-By of the REFER and the INVITE [$v]"
    v=$(tshark -r "$f" -Y "sip.Method == \"NOTIFY\" && ip.src == $B" -T fields -e sip.Event -e sip.Subscription-State -e sipfrag.line 2>/dev/null | xargs -d '\n' printf '%s; ')
    want="refer${T}active;expires=60${T}SIP/2.0 100 Trying; refer${T}terminated;reason=noresource${T}$final; "
    [ "$v" = "$want" ] || die "$name: bob's NOTIFYs [$v], want [$want]"
    echo "   NOTIFY: $(echo "$v" | tr '\t' ' ')"
}

# attended_transfer: an attended transfer that works (RFC 5589 §7, RFC 3891).
# Alice 127.0.96.1 (transferor), bob .2 (transferee), carol .3 (target);
# times from the start, the calls as in attended_transfer_calls:
#   0.0  call 1 A->B  INVITE / 100 / 180 / 200 / ACK (SDP sendrecv)
#   0.9  call 1 A->B  hold: re-INVITE a=sendonly / 200 a=recvonly / ACK
#   1.5  call 2 A->C  consultation: INVITE / 100 / 180 / 200 / ACK
#   2.9  call 1 A->B  REFER (Refer-To carol?Replaces=<call 2>) / 202;
#   3.0       B->A  NOTIFY (active, sipfrag 100 Trying) / 200
#   3.4  call 3 B->C  INVITE with Replaces (call 2) / 100 / 200 / ACK
#   3.9  call 2 C->A  BYE / 200: carol ends the replaced dialog
#   4.3  call 1 B->A  NOTIFY (terminated, sipfrag 200 OK) / 200
#   4.6  call 1 A->B  BYE / 200
#   5.6  call 3 B->C  BYE / 200
gen_attended_transfer() {
    local name=attended_transfer A=127.0.96.1 B=127.0.96.2 C=127.0.96.3 v
    attended_transfer_calls $name $A $B $C consult-c attended_transfer attended_transfer
    capture_stop
    expect_seq $name 'INVITE 100 180 200 ACK INVITE 200 ACK INVITE 100 180 200 ACK REFER 202 NOTIFY 200 INVITE 100 200 ACK BYE 200 NOTIFY 200 BYE 200 BYE 200'
    expect_ladder $name '1A:INVITE 1B:100 1B:180 1B:200 1A:ACK 1A:INVITE 1B:200 1A:ACK 2A:INVITE 2C:100 2C:180 2C:200 2A:ACK 1A:REFER 1B:202 1B:NOTIFY 1A:200 3B:INVITE 3C:100 3C:200 3B:ACK 2C:BYE 2A:200 1B:NOTIFY 1A:200 1A:BYE 1B:200 3B:BYE 3C:200'
    expect_callids $name 3
    expect_dirs $name 'sendrecv sendrecv sendonly recvonly sendrecv sendrecv sendrecv sendrecv'
    attended_transfer_check $name $A $B $C consult-c 'SIP/2.0 200 OK'
    # the replaced dialog is ended by the target, after it answered the Replaces
    local ok bye T=$'\t'
    ok=$(tshark -r "$WORK/$name.pcap" -Y "sip.Status-Code == 200 && sip.CSeq.method == \"INVITE\" && ip.src == $C && udp.srcport == 5060" -T fields -e frame.number 2>/dev/null | head -1)
    bye=$(tshark -r "$WORK/$name.pcap" -Y "sip.Method == \"BYE\" && sip.Call-ID == \"consult-1@$A\"" -T fields -e frame.number -e ip.src 2>/dev/null)
    [ -n "$ok" ] && [ "${bye#*$T}" = "$C" ] && [ "${bye%$T*}" -gt "$ok" ] ||
        die "$name: call 2's BYE [$bye] is not one from $C after call 3's 200 (frame $ok)"
    echo "   call 2 BYE: frame ${bye%$T*} from $C, after call 3's 200 (frame $ok)"
    publish $name
}

# attended_transfer_stuck: attended_transfer, but carol never ends the
# replaced dialog (call 2 stays up: the "ghost" consultation call a broken
# phone leaves); everything else as there (127.0.97.x).  ~5 s after the
# last message (call 3's BYE / 200) an unrelated OPTIONS ping / 200 from
# alice to carol, on call 2's ports (A:5062 -> C:5062), shows that the
# capture went on without that BYE.
gen_attended_transfer_stuck() {
    local name=attended_transfer_stuck A=127.0.97.1 B=127.0.97.2 C=127.0.97.3 n
    attended_transfer_calls $name $A $B $C consult-c attended_transfer attended_transfer_stuck -nd
    options_ping $name $A $C "$AT_T0" 10600 5062 5062
    capture_stop
    expect_seq $name 'INVITE 100 180 200 ACK INVITE 200 ACK INVITE 100 180 200 ACK REFER 202 NOTIFY 200 INVITE 100 200 ACK NOTIFY 200 BYE 200 BYE 200 OPTIONS 200'
    expect_ladder $name '1A:INVITE 1B:100 1B:180 1B:200 1A:ACK 1A:INVITE 1B:200 1A:ACK 2A:INVITE 2C:100 2C:180 2C:200 2A:ACK 1A:REFER 1B:202 1B:NOTIFY 1A:200 3B:INVITE 3C:100 3C:200 3B:ACK 1B:NOTIFY 1A:200 1A:BYE 1B:200 3B:BYE 3C:200 4A:OPTIONS 4C:200'
    expect_callids $name 4
    expect_dirs $name 'sendrecv sendrecv sendonly recvonly sendrecv sendrecv sendrecv sendrecv'
    attended_transfer_check $name $A $B $C consult-c 'SIP/2.0 200 OK'
    n=$(tshark -r "$WORK/$name.pcap" -Y "sip.Call-ID == \"consult-1@$A\" && !(sip.CSeq.method == \"INVITE\" || sip.CSeq.method == \"ACK\")" 2>/dev/null | grep -c . || true)
    [ "$n" = 0 ] || die "$name: $n messages on call 2 after its INVITE transaction (there must be no BYE)"
    v=$(tshark -r "$WORK/$name.pcap" -Y 'sip.Method == "OPTIONS"' -T fields -e sip.Call-ID -e udp.srcport -e ip.dst -e udp.dstport 2>/dev/null)
    [[ $v =~ ^ping-1-[0-9]+@$A$'\t'5062$'\t'$C$'\t'5062$ ]] || die "$name: OPTIONS ping [$v]"
    expect_gap_last $name 'sip && !(sip.Call-ID contains "ping-")' 'sip.Method == "OPTIONS"' 4.5 5.5
    publish $name
}

# attended_transfer_481: an attended transfer that fails (127.0.98.x): the
# REFER's Refer-To, and so bob's INVITE with Replaces, name call 2 with a
# to-tag carol never gave (wrong-tag); she answers 481.
#   0.0-2.9  as attended_transfer: call 1, hold, call 2, REFER / 202,
#   3.0      call 1 B->A  NOTIFY (active, sipfrag 100 Trying) / 200
#   3.4      call 3 B->C  INVITE with Replaces / 481 / ACK
#   3.9      call 1 B->A  NOTIFY (terminated, sipfrag 481 ...) / 200
#   4.2      call 1 A->B  resume: re-INVITE a=sendrecv / 200 / ACK
#   4.7      call 2 A->C  BYE / 200: alice ends the consultation call
#   5.2      call 1 A->B  BYE / 200
gen_attended_transfer_481() {
    local name=attended_transfer_481 A=127.0.98.1 B=127.0.98.2 C=127.0.98.3
    attended_transfer_calls $name $A $B $C wrong-tag attended_transfer_481 attended_transfer_481
    capture_stop
    expect_seq $name 'INVITE 100 180 200 ACK INVITE 200 ACK INVITE 100 180 200 ACK REFER 202 NOTIFY 200 INVITE 481 ACK NOTIFY 200 INVITE 200 ACK BYE 200 BYE 200'
    expect_ladder $name '1A:INVITE 1B:100 1B:180 1B:200 1A:ACK 1A:INVITE 1B:200 1A:ACK 2A:INVITE 2C:100 2C:180 2C:200 2A:ACK 1A:REFER 1B:202 1B:NOTIFY 1A:200 3B:INVITE 3C:481 3B:ACK 1B:NOTIFY 1A:200 1A:INVITE 1B:200 1A:ACK 2A:BYE 2C:200 1A:BYE 1B:200'
    expect_callids $name 3
    expect_dirs $name 'sendrecv sendrecv sendonly recvonly sendrecv sendrecv sendrecv sendrecv sendrecv'
    attended_transfer_check $name $A $B $C wrong-tag 'SIP/2.0 481 Call/Transaction Does Not Exist'
    publish $name
}

# call_forwarded: call forwarding on busy through a proxy (127.0.99.x).
# Alice (.1, SIPp) calls sip:bob@127.0.99.3 through P (.2, Kamailio,
# proxy/kamailio-forward.cfg, Record-Routing), her outbound proxy: P
# answers 100 and relays the INVITE to bob (.3, SIPp) with History-Info
# index=1; bob is busy: 486 at once, P ACKs it and, in its failure_route,
# forwards the call to bob's voicemail (.4, SIPp) as sip:voicemail@.4 with
# a Diversion (the diversion module's add_diversion(), reason user-busy,
# naming bob's URI, counter=1) and two History-Info entries (append_hf():
# bob's URI with the 486 as Reason, index=1; the voicemail's, index=1.1,
# mp=1).  The voicemail answers 100 / 180 / 200 (SDP), P relays the 180
# and the 200; alice's ACK and, ~1 s later, her BYE / 200 cross P.  One
# Call-ID throughout.
gen_call_forwarded() {
    local name=call_forwarded A=127.0.99.1 P=127.0.99.2 C=127.0.99.3 D=127.0.99.4
    local f=$WORK/$name.pcap kpid bob vm mods= d v want T=$'\t'
    command -v kamailio >/dev/null || die "$name: missing kamailio (apt-get install -y kamailio)"
    for d in /usr/lib/*/kamailio/modules /usr/lib/kamailio/modules /usr/local/lib*/kamailio/modules; do
        [ -r "$d/tm.so" ] && mods=$d && break
    done
    [ -n "$mods" ] || die "$name: no kamailio modules directory"
    [ -r "$mods/diversion.so" ] || die "$name: no kamailio diversion module in $mods"
    capture_start $name "net ${A%.*}.0/24"
    timeout 30 kamailio -f "$GEN_DIR/proxy/kamailio-forward.cfg" -L "$mods" -A "PROXY=$P" -A "VOICEMAIL=\"$D\"" \
        -DD -E -Y "$WORK" -w "$WORK" >"$WORK/$name.kamailio.log" 2>&1 &
    kpid=$!
    BG_PIDS+=("$kpid")
    sleep 0.5
    kill -0 "$kpid" 2>/dev/null || die "$name: kamailio exited: $(tail -5 "$WORK/$name.kamailio.log")"
    uas $name.bob 20 -sf "$SCN/call_forwarded_bob_uas.xml" -i $C -p 5060 -bind_local -mi $C -mp 16000 -m 1
    bob=$UAS_PID
    uas $name.voicemail 20 -sf "$SCN/call_forwarded_vm_uas.xml" -i $D -p 5060 -bind_local -mi $D -mp 16000 -m 1
    vm=$UAS_PID
    uac $name.alice 20 $P:5060 -sf "$SCN/call_forwarded_alice_uac.xml" -key callee "sip:bob@$C" -i $A -p 5060 -bind_local -mi $A -mp 16000 -m 1
    wait_bg "$bob" $name.bob
    wait_bg "$vm" $name.voicemail
    kill -TERM "$kpid" 2>/dev/null || true
    wait "$kpid" || true
    capture_stop
    expect_seq $name 'INVITE 100 INVITE 486 ACK INVITE 100 180 180 200 200 ACK ACK BYE BYE 200 200'
    expect_ladder $name '1A:INVITE 1B:100 1B:INVITE 1C:486 1B:ACK 1B:INVITE 1D:100 1D:180 1B:180 1D:200 1B:200 1A:ACK 1B:ACK 1A:BYE 1B:BYE 1D:200 1B:200'
    expect_callids $name 1
    # the offer on each of the three INVITEs, the voicemail's answer and P's copy
    expect_dirs $name 'sendrecv sendrecv sendrecv sendrecv sendrecv'
    # who each request went to: alice only ever sends to P; P sends the
    # first INVITE and the ACK of the 486 to bob, the rest to the voicemail
    v=$(tshark -r "$f" -Y 'sip.Method' -T fields -e sip.Method -e ip.src -e ip.dst -e sip.r-uri 2>/dev/null | xargs -d '\n' printf '%s; ')
    want="INVITE${T}$A${T}$P${T}sip:bob@$C; INVITE${T}$P${T}$C${T}sip:bob@$C; ACK${T}$P${T}$C${T}sip:bob@$C; INVITE${T}$P${T}$D${T}sip:voicemail@$D; "
    want+="ACK${T}$A${T}$P${T}sip:voicemail@$D:5060; ACK${T}$P${T}$D${T}sip:voicemail@$D:5060; BYE${T}$A${T}$P${T}sip:voicemail@$D:5060; BYE${T}$P${T}$D${T}sip:voicemail@$D:5060; "
    [ "$v" = "$want" ] || die "$name: requests (method, from, to, R-URI) [$v], want [$want]"
    v=$(tshark -r "$f" -Y 'sip.Status-Code == 486' -T fields -e ip.src -e ip.dst -e sip.CSeq.method 2>/dev/null)
    [ "$v" = "$C${T}$P${T}INVITE" ] || die "$name: 486 [$v], want one from bob $C to P $P for the INVITE"
    echo "   486 Busy Here: $C -> $P"
    # the forwarded INVITE says why and from whom: Diversion (RFC 5806) and
    # History-Info (RFC 7044); the INVITE to bob has its History-Info entry
    # and no Diversion; nothing else has either
    v=$(tshark -r "$f" -Y 'sip.Diversion' -T fields -e sip.Method -e ip.dst -e sip.Diversion 2>/dev/null)
    want="INVITE${T}$D${T}<sip:bob@$C>;reason=user-busy;counter=1"
    [ "$v" = "$want" ] || die "$name: messages with Diversion [$v], want [$want]"
    echo "   Diversion: ${v##*$T}"
    v=$(tshark -r "$f" -Y 'sip.History-Info' -T fields -e sip.Method -e ip.dst -e sip.History-Info 2>/dev/null | xargs -d '\n' printf '%s; ')
    want="INVITE${T}$C${T}<sip:bob@$C>;index=1; INVITE${T}$D${T}<sip:bob@$C?Reason=SIP%3Bcause%3D486>;index=1,<sip:voicemail@$D>;index=1.1;mp=1; "
    [ "$v" = "$want" ] || die "$name: messages with History-Info [$v], want [$want]"
    v=$(tshark -r "$f" -Y "sip.Method == \"INVITE\" && ip.dst == $D" -T fields -e sip.msg_hdr 2>/dev/null | sed 's/\\r\\n/\n/g' | grep -c '^History-Info: ' || true)
    [ "$v" = 2 ] || die "$name: the forwarded INVITE has $v History-Info header fields, want 2"
    echo "   History-Info: <sip:bob@$C?Reason=SIP%3Bcause%3D486>;index=1, <sip:voicemail@$D>;index=1.1;mp=1 (two header fields)"
    publish $name
}

# call_pickup_calls NAME A B C ALICE1-SCENARIO [ALICE1-AND-BOB-ARGS...]:
# the four SIPps of a call pickup with Replaces (RFC 3891 §3, §7) between
# alice (the caller, A), bob (the callee whose phone rings, B) and carol
# (who picks up bob's ringing call, C), captured.  One SIPp per party per
# call; alice, with two calls at once, has her second on port 5062 (its
# Contact says so):
#   call 1  A:5060 -> B:5060  alice calls bob, who rings and never answers
#                             (ALICE1-SCENARIO / call_pickup_bob_uas.xml,
#                             both with ALICE1-AND-BOB-ARGS), Call-ID
#                             ring-1@A, From tag ring-a, To tag ring-b
#   call 2  C:5060 -> A:5062  carol's INVITE with Replaces naming call 1's
#                             early dialog, to-tag ring-a (alice's own, the
#                             recipient's, RFC 3891 §3), from-tag ring-b,
#                             early-only (call_pickup_carol_uac.xml /
#                             call_pickup_alice_uas.xml)
# The order of the messages between the calls comes from the pauses in
# the scenarios and the start times here (call 2 at 1.0 s after call 1;
# the gen functions' comments give the timeline), each step at least
# 0.3 s from the next one of another SIPp.  Leaves call 1's start in
# CP_T0.
call_pickup_calls() {
    local name=$1 A=$2 B=$3 C=$4 scn1=$5
    shift 5
    local cid1=ring-1@$A atag=ring-a btag=ring-b
    local bob1 alice1 alice2
    capture_start $name "(host $A or host $B or host $C) and (port 5060 or port 5062 or portrange 16000-16010)"
    uas $name.alice-call2 30 -sf "$SCN/call_pickup_alice_uas.xml" -i $A -p 5062 -bind_local -mi $A -mp 16010 -m 1
    alice2=$UAS_PID
    uas $name.bob-call1 30 -sf "$SCN/call_pickup_bob_uas.xml" "$@" -key to_tag $btag -i $B -p 5060 -bind_local -mi $B -mp 16000 -m 1
    bob1=$UAS_PID
    CP_T0=$(now_ms)
    sipp_bg $name.alice-call1 30 $B:5060 -sf "$SCN/$scn1" "$@" -cid_str "$cid1" -key from_tag $atag -s bob -i $A -p 5060 -bind_local -mi $A -mp 16000 -m 1
    alice1=$BG_PID
    sleep_until "$CP_T0" 1000
    uac $name.carol-call2 30 $A:5062 -sf "$SCN/call_pickup_carol_uac.xml" -key replaces "$cid1;to-tag=$atag;from-tag=$btag;early-only" -s alice -i $C -p 5060 -bind_local -mi $C -mp 16000 -m 1
    wait_bg "$alice1" $name.alice-call1
    wait_bg "$bob1" $name.bob-call1
    wait_bg "$alice2" $name.alice-call2
}

# call_pickup_check NAME A B C: call 1 (the first INVITE, to B:5060) has
# the Call-ID and tags gen.sh gave it (bob's in his 180); exactly one
# message carries a Replaces, the INVITE from C to A:5062, and it names
# call 1's early dialog with alice's tag as the to-tag, bob's as the
# from-tag, and early-only.  Leaves the frame of call 2's 200 in CP_OK.
call_pickup_check() {
    local name=$1 A=$2 B=$3 C=$4 f=$WORK/$1.pcap T=$'\t'
    local cid1 atag btag v want
    cid1=$(tshark -r "$f" -Y "sip.Method == \"INVITE\" && ip.dst == $B && udp.dstport == 5060" -T fields -e sip.Call-ID 2>/dev/null | head -1)
    atag=$(tshark -r "$f" -Y "sip.Method == \"INVITE\" && ip.dst == $B && udp.dstport == 5060" -T fields -e sip.from.tag 2>/dev/null | head -1)
    btag=$(tshark -r "$f" -Y "sip.Status-Code == 180 && ip.src == $B" -T fields -e sip.to.tag 2>/dev/null | head -1)
    [ "$cid1" = "ring-1@$A" ] && [ "$atag" = ring-a ] && [ "$btag" = ring-b ] ||
        die "$name: call 1 has Call-ID [$cid1], From tag [$atag], To tag [$btag]"
    echo "   call 1: Call-ID $cid1, From tag $atag, To tag $btag"
    want="$cid1;to-tag=$atag;from-tag=$btag;early-only"
    v=$(tshark -r "$f" -Y "sip.Replaces" -T fields -e sip.Method -e ip.src -e ip.dst -e udp.dstport -e sip.Replaces 2>/dev/null)
    [ "$v" = "INVITE${T}$C${T}$A${T}5062${T}$want" ] || die "$name: messages with Replaces [$v], want one INVITE from $C to $A:5062 with [$want]"
    echo "   Replaces: $want (INVITE $C -> $A:5062)"
    CP_OK=$(tshark -r "$f" -Y "sip.Status-Code == 200 && sip.CSeq.method == \"INVITE\" && ip.src == $A && udp.srcport == 5062" -T fields -e frame.number 2>/dev/null | head -1)
    [ -n "$CP_OK" ] || die "$name: no 200 to call 2's INVITE from $A:5062"
}

# call_pickup: carol picks up a call ringing at bob with an INVITE with
# Replaces to its caller (RFC 3891 §3, §7), who accepts it and cancels
# her own INVITE.  Alice 127.0.100.1 (caller), bob .2 (callee), carol .3
# (picks up); times from the start, the calls as in call_pickup_calls:
#   0.0  call 1 A->B  INVITE (SDP) / 100; 0.1 180 Ringing (To tag ring-b)
#   1.0  call 2 C->A  INVITE with Replaces (call 1, early-only) / 100;
#   1.1       A->C  200 (SDP) / ACK
#   1.5  call 1 A->B  CANCEL / 200, 487 / ACK: alice ends the early
#                     dialog she initiated, now replaced (RFC 3891 §3)
#   2.5  call 2 C->A  BYE / 200
gen_call_pickup() {
    local name=call_pickup A=127.0.100.1 B=127.0.100.2 C=127.0.100.3 v T=$'\t'
    call_pickup_calls $name $A $B $C call_pickup_alice_uac.xml
    capture_stop
    expect_seq $name 'INVITE 100 180 INVITE 100 200 ACK CANCEL 200 487 ACK BYE 200'
    expect_ladder $name '1A:INVITE 1B:100 1B:180 2C:INVITE 2A:100 2A:200 2C:ACK 1A:CANCEL 1B:200 1B:487 1A:ACK 2C:BYE 2A:200'
    expect_callids $name 2
    expect_dirs $name 'sendrecv sendrecv sendrecv'
    call_pickup_check $name $A $B $C
    # the replaced early dialog is cancelled by its caller, after she
    # answered the Replaces
    v=$(tshark -r "$WORK/$name.pcap" -Y 'sip.Method == "CANCEL"' -T fields -e frame.number -e ip.src -e ip.dst -e sip.Call-ID 2>/dev/null)
    [[ $v =~ ^([0-9]+)"$T$A$T$B$T"ring-1@$A$ ]] && [ "${BASH_REMATCH[1]}" -gt "$CP_OK" ] ||
        die "$name: CANCEL [$v] is not one from $A to $B on call 1 after call 2's 200 (frame $CP_OK)"
    echo "   call 1 CANCEL: frame ${BASH_REMATCH[1]} from $A, after call 2's 200 (frame $CP_OK)"
    v=$(tshark -r "$WORK/$name.pcap" -Y "sip.Call-ID == \"ring-1@$A\" && sip.Status-Code >= 200 && sip.CSeq.method == \"INVITE\"" -T fields -e sip.Status-Code 2>/dev/null | xargs echo)
    [ "$v" = 487 ] || die "$name: final responses to call 1's INVITE [$v], want [487]"
    publish $name
}

# call_pickup_stuck: call_pickup, but alice never cancels call 1 after
# accepting carol's INVITE with Replaces (a broken phone): bob's phone
# goes on ringing; everything else as there (127.0.101.x).
#   0.0  call 1 A->B  INVITE (SDP) / 100; 0.1 180 Ringing (To tag ring-b)
#   1.0  call 2 C->A  INVITE with Replaces (call 1, early-only) / 100;
#   1.1       A->C  200 (SDP) / ACK
#   2.5  call 2 C->A  BYE / 200
#   (4.1 bob's SIPp stops waiting for a CANCEL and ends, sending nothing)
#   7.5  A->B  an unrelated OPTIONS ping / 200 on call 1's ports (A:5060
#              -> B:5060), ~5 s after the last message: the capture went
#              on without a CANCEL or a final response on call 1
gen_call_pickup_stuck() {
    local name=call_pickup_stuck A=127.0.101.1 B=127.0.101.2 C=127.0.101.3 n v
    call_pickup_calls $name $A $B $C call_pickup_stuck_alice_uac.xml -nd
    options_ping $name $A $B "$CP_T0" 7500
    capture_stop
    expect_seq $name 'INVITE 100 180 INVITE 100 200 ACK BYE 200 OPTIONS 200'
    expect_ladder $name '1A:INVITE 1B:100 1B:180 2C:INVITE 2A:100 2A:200 2C:ACK 2C:BYE 2A:200 3A:OPTIONS 3B:200'
    expect_callids $name 3
    expect_dirs $name 'sendrecv sendrecv sendrecv'
    call_pickup_check $name $A $B $C
    n=$(tshark -r "$WORK/$name.pcap" -Y 'sip.Method == "CANCEL"' 2>/dev/null | grep -c . || true)
    [ "$n" = 0 ] || die "$name: $n CANCELs (alice must never cancel call 1)"
    n=$(tshark -r "$WORK/$name.pcap" -Y "sip.Call-ID == \"ring-1@$A\" && sip.Status-Code >= 200" 2>/dev/null | grep -c . || true)
    [ "$n" = 0 ] || die "$name: $n final responses on call 1 (bob must never answer its INVITE)"
    v=$(tshark -r "$WORK/$name.pcap" -Y 'sip.Method == "OPTIONS"' -T fields -e sip.Call-ID -e udp.srcport -e ip.dst -e udp.dstport 2>/dev/null)
    [[ $v =~ ^ping-1-[0-9]+@$A$'\t'5060$'\t'$B$'\t'5060$ ]] || die "$name: OPTIONS ping [$v]"
    expect_gap_last $name 'sip && !(sip.Call-ID contains "ping-")' 'sip.Method == "OPTIONS"' 4.5 5.5
    publish $name
}

# register_407: a registration challenged as a proxy challenges (a proxy in
# front of the registrar, or a registrar that challenges as one, RFC 3261
# §22.3), 127.0.102.1 (phone) -> 127.0.102.2 (registrar): REGISTER (CSeq 1,
# no credentials) -> 407 Proxy Authentication Required with
# `Proxy-Authenticate: Digest realm="sipflow.test", nonce=...` (no
# WWW-Authenticate) -> REGISTER again (CSeq 2, same Call-ID and From tag)
# with Proxy-Authorization (user alice / password secret, computed by
# SIPp's [authentication]) and no Authorization -> 200 OK (the Contact
# with expires=3600).  One Call-ID.
gen_register_407() {
    local name=register_407 A=127.0.102.1 B=127.0.102.2 n v T=$'\t'
    local f=$WORK/$name.pcap
    capture_start $name "$(pair_filter $A $B)"
    uas $name.uas 20 -sf "$SCN/register_407_uas.xml" -i $B -p 5060 -bind_local -mi $B -mp 16000 -m 1
    uac $name.uac 20 $B:5060 -sf "$SCN/register_407_uac.xml" -au alice -ap secret -i $A -p 5060 -bind_local -mi $A -mp 16000 -m 1
    wait_bg "$UAS_PID" $name.uas
    capture_stop
    expect_seq $name 'REGISTER 407 REGISTER 200'
    expect_ladder $name '1A:REGISTER 1B:407 1A:REGISTER 1B:200'
    expect_callids $name 1
    # the 407, and only it, challenges, with Proxy-Authenticate
    v=$(tshark -r "$f" -Y 'sip.Proxy-Authenticate' -T fields -e sip.Status-Code -e sip.Proxy-Authenticate 2>/dev/null)
    [ "$(grep -c . <<<"$v")" = 1 ] && [[ $v =~ ^407"$T"Digest\ realm=\"sipflow.test\",\ nonce=\"[^\"]+\" ]] ||
        die "$name: messages with Proxy-Authenticate [$v], want the 407 with a Digest challenge"
    echo "   407 Proxy-Authenticate: ${v#*$T}"
    n=$(tshark -r "$f" -Y 'sip.WWW-Authenticate' 2>/dev/null | grep -c . || true)
    [ "$n" = 0 ] || die "$name: $n messages with WWW-Authenticate, want none"
    # the second REGISTER, and only it, answers with Proxy-Authorization;
    # nothing carries Authorization
    v=$(tshark -r "$f" -Y 'sip.Proxy-Authorization' -T fields -e sip.Method -e sip.CSeq.seq -e sip.Proxy-Authorization 2>/dev/null)
    [ "$(grep -c . <<<"$v")" = 1 ] && [[ $v =~ ^REGISTER"$T"2"$T"Digest\ username=\"alice\",.*realm=\"sipflow.test\".*,response=\"[0-9a-f]{32}\" ]] ||
        die "$name: messages with Proxy-Authorization [$v], want the second REGISTER with alice's digest"
    echo "   REGISTER (CSeq 2) Proxy-Authorization: ${v##*$T}"
    n=$(tshark -r "$f" -Y 'sip.Authorization' 2>/dev/null | grep -c . || true)
    [ "$n" = 0 ] || die "$name: $n messages with Authorization, want none"
    v=$(tshark -r "$f" -Y 'sip.Status-Code == 200' -T fields -e sip.Contact 2>/dev/null)
    [[ $v == "<sip:alice@$A:5060>;expires=3600" ]] || die "$name: the 200's Contact [$v]"
    echo "   200 Contact: $v"
    publish $name
}

# ---------------------------------------------------------------------------

ALL="call_rtp register_401 call_tcp call_ipv6
invite_no_ack invite_unanswered register_401_ignored register_wrong_password
call_busy call_cancel call_503 bye_unanswered call_hold
invite_407_proxy_auth forked_call b2bua_xcallid
transfer_refer reinvite_rejected call_not_ended
invite_no_ack_non2xx options_unanswered session_expired dns_failover
session_refresh one_way_audio rtp_loss media_address_mismatch
transfer_failed invite_not_captured no_rtp reinvite_glare rtp_jitter
fork_not_ended subscription_expired prack_call prack_missing
precondition_call ws_call tls_call tls13_call tls12_call tls12_cbc_call webrtc_call codec_mismatch ack_elsewhere bye_to_contact
late_offer sdp_answer_mismatch no_sdp_offer t38_fax codec_refused
t38_one_way no_udptl t38_fax_failed t38_loss late_offer_answered
sdp_family_mismatch mutual_hold media_change late_hold info_dtmf
redirect_302 cancel_200_crossed early_media_busy late_ack invite_408 bye_481
register_423 register_refresh_tcp subscribe_dialog_blf message_202_404 tcp_burst
attended_transfer attended_transfer_stuck attended_transfer_481
call_forwarded call_pickup call_pickup_stuck register_407"
ALL=$(echo $ALL)   # one line

if [ $# -gt 0 ]; then
    todo="$*"
else
    todo=$ALL
fi
for s in $todo; do
    case " $ALL " in *" $s "*) ;; *) die "unknown scenario $s (known: $ALL)" ;; esac
done
for s in $todo; do
    log "$s"
    "gen_$s"
done
log "done"
