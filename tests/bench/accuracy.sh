#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=dash disable=SC2046 # set -- $(...) splits on purpose
# Benchmark part 2, rate accuracy and responsiveness (guest side;
# tests/bench/datapath.sh boots it).
#
#	┌──── ba ───────────────────┐     ┌──── bb ───────────────────┐
#	│ veth0  198.51.100.1/24    ├─────┤ veth1  198.51.100.2/24    │
#	│ 2 tx queues; the limiter  │     │ iperf3 server; sampled    │
#	└───────────────────────────┘     └───────────────────────────┘
#
# 1. Unshaped capacity: iperf3 TCP 1 and 8 streams, UDP unlimited.
# 2. Accuracy: for each set rate (BENCH_RATES plus "the highest the guest
#    can push": 90% of the unshaped 8-stream median, rounded down to 100
#    Mbit/s), each traffic (TCP 1 stream, TCP 8 streams, UDP at twice the
#    rate) and each method (none: the same traffic with no limiter, what
#    the guest carries of it; daqs shape, daqs police, tc tbf, tc htb, tc fq
#    maxrate), the rate the receiver's device got, on the wire: veth1's
#    rx_bytes/rx_packets sampled every 100 ms, over MEAS seconds that start
#    WARM seconds after the first data arrived. TCP skbs through a veth are
#    GSO packets that carry their headers once, so TCP wire bytes are
#    (rx_bytes - 66 * rx_packets) * 1514 / 1448 (66 bytes of Ethernet, IP
#    and TCP-with-timestamps headers per 1448-byte segment); UDP datagrams of
#    1472 bytes are 1514-byte frames, counted as they are.
#    tbf and htb get the burst daqs picks automatically (5 ms at the rate,
#    at least 64 KiB); fq has no burst and limits each flow, not the device.
# 3. Rate change 400 -> 100 Mbit/s under one TCP flow, burst 64 KiB for all:
#    veth1 sampled every 10 ms; t0 is taken just before the command (daqsctl
#    set, tc qdisc change for tbf, tc class change for htb) is started. Settle
#    = first time after t0 at which the 100 ms moving average (the window
#    that ends at that sample) is within 5% of 100 Mbit/s; settle_stay = from
#    when on every later window in the next second stays within 5%.
#
# BENCH_QUICK=1 on the kernel command line (run.sh --append) makes it a
# smoke: one round, 50 Mbit/s, TCP 1 stream, daqs shape and tbf, one change.
#
# Output on the result port: "# csv capacity|accuracy|ratechange ..." rows.
# shellcheck source=SCRIPTDIR/../e2e/lib.sh
. "$(dirname "$0")/lib.sh"

ALL_TRAFFIC="tcp1 tcp8 udp" ALL_METHODS="none daqs-shape daqs-police tbf htb fq"
ALL_CHANGE="daqs tbf htb"
ROUNDS=3 RATES="10 50 200 800" MAXRATE=1 TRAFFIC=$ALL_TRAFFIC
METHODS=$ALL_METHODS CHANGE_METHODS=$ALL_CHANGE
CAPACITY=$ALL_TRAFFIC WARM=1 MEAS=3 CHANGE_SECONDS=5
# BENCH_QUICK=1 (from the kernel command line): a smoke that numbers come out
if [ "${BENCH_QUICK:-0}" = 1 ]; then
	ROUNDS=1 RATES=50 MAXRATE=0 TRAFFIC=tcp1 METHODS="daqs-shape tbf"
	CHANGE_METHODS=daqs CAPACITY=tcp1 MEAS=1 CHANGE_SECONDS=3
fi
# One cell measured more often, from the kernel command line (datapath.sh
# --append), lists comma-separated, e.g. BENCH_ROUNDS=9 BENCH_RATES=200
# BENCH_TRAFFIC=udp BENCH_METHODS=none,daqs-shape,tbf BENCH_MAXRATE=0
# BENCH_CAPACITY=udp BENCH_CHANGE_METHODS=none
lst() { echo "$1" | tr ',' ' '; }
ROUNDS=${BENCH_ROUNDS:-$ROUNDS} MAXRATE=${BENCH_MAXRATE:-$MAXRATE}
RATES=$(lst "${BENCH_RATES:-$RATES}") TRAFFIC=$(lst "${BENCH_TRAFFIC:-$TRAFFIC}")
METHODS=$(lst "${BENCH_METHODS:-$METHODS}") CAPACITY=$(lst "${BENCH_CAPACITY:-$CAPACITY}")
CHANGE_METHODS=$(lst "${BENCH_CHANGE_METHODS:-$CHANGE_METHODS}")
[ "$CHANGE_METHODS" != none ] || CHANGE_METHODS=''
# a selection outside these is refused before anything is measured
# only NAME VALUES ALLOWED...: every word of VALUES is one of ALLOWED
only() {
	local name=$1 vals=$2 v
	shift 2
	for v in $vals; do
		case " $* " in
		*" $v "*) ;;
		*) echo "$name: '$v' is not one of: $*"; return 1 ;;
		esac
	done
}
# counts NAME VALUES: every word a whole number above 0
counts() {
	local v
	for v in $2; do
		case $v in
		'' | *[!0-9]* | 0*) echo "$1: '$v' is not a whole number above 0"; return 1 ;;
		esac
	done
}
# shellcheck disable=SC2086 # the ALLOWED lists split into words
why=$(only BENCH_METHODS "$METHODS" $ALL_METHODS &&
	only BENCH_TRAFFIC "$TRAFFIC" $ALL_TRAFFIC &&
	only BENCH_CAPACITY "$CAPACITY" $ALL_TRAFFIC &&
	only BENCH_CHANGE_METHODS "$CHANGE_METHODS" $ALL_CHANGE &&
	only BENCH_MAXRATE "$MAXRATE" 0 1 &&
	counts BENCH_ROUNDS "$ROUNDS" && counts BENCH_RATES "$RATES")
if [ -n "$why" ]; then
	fail bench_accuracy_args "$why"
	exit 0
fi

A=ba B=bb
RX=/sys/class/net/veth1/statistics
modprobe daqs
netns_pair "$A" "$B"
iperf3_server "$B"
check bench_accuracy_setup true

now_ns() { sample 1 1 /proc/uptime | cut -d' ' -f1; }

# wire_rate SAMPLES TRAFFIC: bit/s on the wire over [start + WARM, + MEAS]
wire_rate() {
	awk -v warm="$WARM" -v meas="$MEAS" -v tcp="$(case $2 in tcp*) echo 1 ;; *) echo 0 ;; esac)" '
	{ t[NR] = $1; b[NR] = $2; p[NR] = $3 }
	END {
		for (s = 1; s <= NR && b[s] - b[1] < 20000; s++);
		for (i = s; i <= NR && t[i] < t[s] + warm * 1e9; i++);
		for (j = i; j <= NR && t[j] < t[i] + meas * 1e9; j++);
		if (j > NR) j = NR
		if (i >= j) { print 0; exit }
		w = b[j] - b[i]
		if (tcp) w = (w - 66 * (p[j] - p[i])) * 1514 / 1448
		printf "%.0f\n", w * 8 / ((t[j] - t[i]) / 1e9)
	}' "$1"
}

# measure TRAFFIC RATE_MBIT TAG: "WIRE_BPS RETRANSMITS SEGMENTS LOSS_PCT"
# (RATE_MBIT 0: unlimited UDP)
measure() {
	local t=$((WARM + MEAS + 1)) spid args
	case $1 in
	tcp1) args="-P 1" ;;
	tcp8) args="-P 8" ;;
	udp) args="-u -l 1472 -b $(($2 * 2))M" ;;
	esac
	nsx "$B" sample 100 $((t * 10 + 5)) "$RX/rx_bytes" "$RX/rx_packets" >"/tmp/$3.s" &
	spid=$!
	# shellcheck disable=SC2086
	iperf3_client "$A" 198.51.100.2 "$t" "/tmp/$3.json" $args >/dev/null 2>&1
	wait "$spid"
	local w r s l
	w=$(wire_rate "/tmp/$3.s" "$1")
	case $1 in
	tcp*)
		r=$(iperf3_retransmits "/tmp/$3.json")
		s=$(iperf3_sent_bytes "/tmp/$3.json")
		[ -n "$s" ] && s=$(awk -v s="$s" 'BEGIN { printf "%.0f", s / 1448 }')
		echo "${w:-0} ${r:--} ${s:--} -"
		;;
	*)
		l=$(json_get "/tmp/$3.json" end.sum.lost_percent)
		echo "${w:-0} - - ${l:--}"
		;;
	esac
}

# the automatic burst of daqs at RATE_MBIT: 5 ms at the rate, at least 64 KiB
burst_for() { awk -v r="$1" 'BEGIN { b = r * 1e6 / 8 * 0.005; printf "%d", b < 65536 ? 65536 : b }'; }

setup() {
	local b
	b=$(burst_for "$2")
	case $1 in
	none) ;; # the same traffic unshaped: what the guest carries of it
	daqs-shape) nsx "$A" daqsctl set dev veth0 rate "${2}mbit" mode shape ;;
	daqs-police) nsx "$A" daqsctl set dev veth0 rate "${2}mbit" mode police ;;
	tbf) tc -n "$A" qdisc add dev veth0 root tbf rate "${2}mbit" burst "$b" latency 50ms ;;
	htb)
		tc -n "$A" qdisc add dev veth0 root handle 1: htb default 10 &&
			tc -n "$A" class add dev veth0 parent 1: classid 1:10 htb \
				rate "${2}mbit" ceil "${2}mbit" burst "$b" cburst "$b"
		;;
	fq) tc -n "$A" qdisc add dev veth0 root fq maxrate "${2}mbit" ;;
	esac
}

teardown() {
	nsx "$A" daqsctl del dev veth0 2>/dev/null
	tc -n "$A" qdisc del dev veth0 root 2>/dev/null
	return 0
}

median() { tr ' ' '\n' | grep . | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# --- 1. capacity --------------------------------------------------------------
cap8=''
round=1
while [ "$round" -le "$ROUNDS" ]; do
	for tr in $CAPACITY; do
		set -- $(measure "$tr" 0 "cap-$tr-$round")
		note "csv capacity $tr,$round,$1"
		[ "$tr" = tcp8 ] && cap8="$cap8 $1"
	done
	round=$((round + 1))
done
maxrate=''
if [ "$MAXRATE" = 1 ] && [ -n "$cap8" ]; then
	maxrate=$(echo "$cap8" | median | awk '{ m = int($1 * 0.9 / 1e8) * 100; print m < 100 ? 100 : m }')
	note "accuracy: the highest rate the guest can push: $maxrate Mbit/s (90% of the unshaped 8-stream median)"
fi

# --- 2. accuracy --------------------------------------------------------------
runs=0 bad=0
round=1
while [ "$round" -le "$ROUNDS" ]; do
	for rate in $RATES $maxrate; do
		for tr in $TRAFFIC; do
			for m in $METHODS; do
				if setup "$m" "$rate"; then
					set -- $(measure "$tr" "$rate" "$m-$rate-$tr-$round")
				else
					set -- 0 - - -
				fi
				teardown
				note "csv accuracy $m,$rate,$tr,$round,$1,$2,$3,$4"
				runs=$((runs + 1))
				[ "${1:-0}" -gt 0 ] || bad=$((bad + 1))
			done
		done
	done
	round=$((round + 1))
done
check_eq bench_accuracy_every_run_measured "0 of $runs without a rate" "$bad of $runs without a rate"

# --- 3. rate change 400 -> 100 Mbit/s -----------------------------------------
settle() {
	awk -v t0="$2" -v w=100e6 '
	{ t[NR] = $1; x[NR] = ($2 - 66 * $3) * 1514 / 1448 }
	function ma(j,  k) {
		for (k = j; k > 1 && t[k] > t[j] - 100e6; k--);
		return (x[j] - x[k]) * 8 / ((t[j] - t[k]) / 1e9)
	}
	function within(r) { return r >= w * 0.95 && r <= w * 1.05 }
	function avg(a, b,  i, j) {
		for (i = 1; i < NR && t[i] < a; i++);
		for (j = i; j < NR && t[j] < b; j++);
		return j > i ? (x[j] - x[i]) * 8 / ((t[j] - t[i]) / 1e9) / 1e6 : 0
	}
	END {
		first = -1; stay = -1
		for (j = 1; j <= NR; j++) {
			if (t[j] < t0 || t[j] > t0 + 1100e6) continue
			if (within(ma(j))) {
				if (first < 0) first = (t[j] - t0) / 1e6
				if (stay < 0) stay = (t[j] - t0) / 1e6
			} else {
				stay = -1
			}
		}
		printf "%.0f %.0f %.1f %.1f\n", first, stay, avg(t0 - 1000e6, t0), avg(t0 + 200e6, t0 + 1200e6)
	}' "$1"
}

change() {
	case $1 in
	daqs) nsx "$A" daqsctl set dev veth0 rate "${2}mbit" burst 64k ;;
	tbf) tc -n "$A" qdisc "$3" dev veth0 root tbf rate "${2}mbit" burst 64k latency 50ms ;;
	htb)
		[ "$3" = add ] && tc -n "$A" qdisc add dev veth0 root handle 1: htb default 10
		tc -n "$A" class "$3" dev veth0 parent 1: classid 1:10 htb \
			rate "${2}mbit" ceil "${2}mbit" burst 64k cburst 64k
		;;
	esac
}

runs=0 bad=0
half=$((CHANGE_SECONDS / 2))
round=1
while [ "$round" -le "$ROUNDS" ]; do
	for m in $CHANGE_METHODS; do
		change "$m" 400 add
		nsx "$B" sample 10 $((CHANGE_SECONDS * 100 - 20)) "$RX/rx_bytes" "$RX/rx_packets" \
			>/tmp/chg.s &
		spid=$!
		nsx "$A" iperf3 -c 198.51.100.2 -t "$CHANGE_SECONDS" >/dev/null 2>&1 &
		ipid=$!
		sleep "$half"
		t0=$(now_ns)
		change "$m" 100 change
		t1=$(now_ns)
		wait "$spid" "$ipid"
		teardown
		set -- $(settle /tmp/chg.s "$t0")
		cmd_ms=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", (b - a) / 1e6 }')
		note "csv ratechange $m,$round,$cmd_ms,$1,$2,$3,$4"
		runs=$((runs + 1))
		# a measurement, not a verdict: only that the flow was seen
		awk -v a="$3" 'BEGIN { exit !(a > 0) }' || bad=$((bad + 1))
	done
	round=$((round + 1))
done
check_eq bench_ratechange_every_run_measured "0 of $runs without a rate" "$bad of $runs without a rate"

iperf3_server_stop "$B"
netns_del "$A" "$B"
