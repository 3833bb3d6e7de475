#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Packet-path cost: pktgen (xmit_mode queue_xmit, so packets go through
# __dev_queue_xmit and the qdisc layer) into a dummy device, 64-byte
# packets, 1 and 2 threads (one per vCPU). Each method is measured in the
# same boot, rounds interleaved (baseline, daqs, tbf, ... then again), and
# reported as the median packet rate and its ratio to the no-hook baseline.
# Lines "# pkt ..." are the table.
. "$(dirname "$0")/lib.sh"

ROUNDS=${BENCH_ROUNDS:-3}
COUNT=${BENCH_COUNT:-200000}
PG=/proc/net/pktgen

modprobe daqs
modprobe pktgen
ip link add dummy0 type dummy
ip link set dummy0 up

pg() { echo "$2" >"$PG/$1"; }

# run THREADS: pps summed over the threads
run() {
	pg pgctrl reset 2>/dev/null
	i=0
	while [ $i -lt "$1" ]; do
		pg "kpktgend_$i" rem_device_all
		pg "kpktgend_$i" "add_device dummy0@$i"
		d="dummy0@$i"
		pg "$d" "count $COUNT"
		pg "$d" "pkt_size 64"
		pg "$d" "delay 0"
		pg "$d" "xmit_mode queue_xmit"
		pg "$d" "dst 198.51.100.2"
		pg "$d" "dst_mac 02:00:00:00:00:02"
		i=$((i + 1))
	done
	pg pgctrl start
	i=0 sum=0
	while [ $i -lt "$1" ]; do
		pps=$(sed -n 's/.* \([0-9]*\)pps .*/\1/p' "$PG/dummy0@$i")
		sum=$((sum + ${pps:-0}))
		i=$((i + 1))
	done
	echo "$sum"
}

setup() {
	case $1 in
	baseline) ;;
	daqs-count) daqsctl set dev dummy0 rate 0 ;;
	daqs-shape) daqsctl set dev dummy0 rate 100gbit ;;
	tbf) tc qdisc add dev dummy0 root tbf rate 100gbit burst 10mb latency 50ms ;;
	htb)
		tc qdisc add dev dummy0 root handle 1: htb default 10
		tc class add dev dummy0 parent 1: classid 1:10 htb rate 100gbit
		;;
	fq) tc qdisc add dev dummy0 root fq maxrate 100gbit ;;
	esac
}

teardown() {
	daqsctl del dev dummy0 2>/dev/null
	tc qdisc del dev dummy0 root 2>/dev/null
	return 0
}

METHODS="baseline daqs-count daqs-shape tbf htb fq"
median() { tr ' ' '\n' | grep . | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

note "pkt method threads median_pps ratio_to_baseline runs"
for threads in 1 2; do
	for m in $METHODS; do
		eval "r_$(echo "$m" | tr - _)="
	done
	round=0
	while [ $round -lt "$ROUNDS" ]; do
		for m in $METHODS; do
			setup "$m"
			v=$(run "$threads")
			teardown
			var=r_$(echo "$m" | tr - _)
			eval "$var=\"\$$var $v\""
		done
		round=$((round + 1))
	done
	base=$(eval "echo \$r_baseline" | median)
	for m in $METHODS; do
		runs=$(eval "echo \$r_$(echo "$m" | tr - _)")
		med=$(echo "$runs" | median)
		ratio=$(awk -v a="$med" -v b="$base" 'BEGIN { printf "%.3f", a / b }')
		note "pkt $m $threads $med $ratio $(echo $runs | tr ' ' ',')"
		check_gt "pktgen_${m}_${threads}_threads_runs" "$med" 0
	done
done
ip link del dummy0
