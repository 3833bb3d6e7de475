#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=dash
# Benchmark part 1, packet-path cost (guest side; tests/bench/datapath.sh
# boots it). pktgen (xmit_mode queue_xmit: every packet goes through
# __dev_queue_xmit, the egress hooks and the qdisc layer) into
#   - dummy0 (noqueue, LLTX: the driver frees the packet), and
#   - veth0, whose peer veth1 is in namespace pb (noqueue; the peer receives
#     and drops each packet: its destination MAC is not the peer's),
# 64 and 1500-byte packets, 1 and 2 threads (kpktgend_0/1, one per vCPU),
# for
#   baseline    daqs.ko not loaded: the stock kernel, ratio 1.00
#   tbf htb fq  tc root qdisc at 100 Gbit/s (fq: maxrate 30 Gbit/s, the
#               largest it takes), daqs not loaded
#   daqs-idle   daqs.ko loaded, the device not bound (daqs holds the egress
#               static keys while loaded: every device pays for the check)
#   daqs-count  daqs bound at rate 0 (counting only)
#   daqs-shape  daqs shaping at 100 Gbit/s, far above the offered load
# Each run lasts SECONDS_RUN; the methods are interleaved within a round
# (daqs.ko is loaded for the daqs methods and removed after them), and the
# rounds repeat the whole matrix.
#
# BENCH_QUICK=1 on the kernel command line (run.sh --append) makes it a
# smoke: one round of 0.2 s runs, 64 B only, no profile.
#
# Output on the result port: "# csv pktgen DEV,SIZE,THREADS,METHOD,ROUND,PPS"
# per run, and with perf in the guest "# csv profile THREADS,METHOD,PCT,SYMBOL"
# from a cpu-clock profile (dummy0, 64 B; 1 thread: CPU 0, 2 threads: both
# CPUs) of each method, and "THREADS,METHOD,pps,PPS" for pktgen's rate then.
# shellcheck source=SCRIPTDIR/../e2e/lib.sh
. "$(dirname "$0")/lib.sh"

ROUNDS=3 SECONDS_RUN=2 SIZES="64 1500" PROFILE=1
# BENCH_QUICK=1 (from the kernel command line): a smoke that numbers come out
if [ "${BENCH_QUICK:-0}" = 1 ]; then
	ROUNDS=1 SECONDS_RUN=0.2 SIZES=64 PROFILE=0
fi
DEVS="dummy0 veth0"
THREADS="1 2"
METHODS="baseline tbf htb fq daqs-idle daqs-count daqs-shape"
PG=/proc/net/pktgen

modprobe pktgen
ip link add dummy0 type dummy 2>/dev/null # dummy.ko may have made it
ip link set dummy0 up
netns_new pb
ip link add veth0 type veth peer name veth1 netns pb
ip link set veth0 up
ip -n pb link set veth1 up
check bench_pktgen_setup test -d "$PG"
note "pktgen: clocksource $(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)"

pg() { echo "$2" >"$PG/$1"; }

# run DEV SIZE THREADS: packets/s summed over the threads, after
# SECONDS_RUN of sending (count 0 = until stopped)
run() {
	local i=0 sum=0 pps d pid
	pg pgctrl reset 2>/dev/null
	while [ $i -lt "$3" ]; do
		d="$1@$i"
		pg "kpktgend_$i" rem_device_all
		pg "kpktgend_$i" "add_device $d"
		pg "$d" "count 0"
		pg "$d" "pkt_size $2"
		pg "$d" "delay 0"
		pg "$d" "xmit_mode queue_xmit"
		pg "$d" "dst 198.51.100.2"
		pg "$d" "dst_mac 02:00:00:00:00:02"
		i=$((i + 1))
	done
	# "start" returns when every thread has stopped
	pg pgctrl start &
	pid=$!
	sleep "$SECONDS_RUN"
	pg pgctrl stop
	wait "$pid"
	i=0
	while [ $i -lt "$3" ]; do
		pps=$(sed -n 's/.* \([0-9]*\)pps .*/\1/p' "$PG/$1@$i")
		sum=$((sum + ${pps:-0}))
		i=$((i + 1))
	done
	echo "$sum"
}

# daqs.ko loaded only for the daqs methods
module() {
	case $1 in
	daqs-*) grep -q '^daqs ' /proc/modules || modprobe daqs ;;
	*) ! grep -q '^daqs ' /proc/modules || rmmod daqs ;;
	esac
}

setup() {
	module "$2"
	case $2 in
	baseline | daqs-idle) ;;
	daqs-count) daqsctl set dev "$1" rate 0 ;;
	daqs-shape) daqsctl set dev "$1" rate 100gbit ;;
	tbf) tc qdisc add dev "$1" root tbf rate 100gbit burst 10mb latency 50ms ;;
	htb)
		tc qdisc add dev "$1" root handle 1: htb default 10
		tc class add dev "$1" parent 1: classid 1:10 htb rate 100gbit
		;;
	fq) tc qdisc add dev "$1" root fq maxrate 30gbit ;;
	esac
}

# teardown DEV METHOD: only what setup made (every exec of tc or daqsctl
# costs a few hundred ms under TCG)
teardown() {
	case $2 in
	daqs-count | daqs-shape) daqsctl del dev "$1" ;;
	tbf | htb | fq) tc qdisc del dev "$1" root ;;
	esac
}

note "pktgen: $ROUNDS rounds of $SECONDS_RUN s per run; devices $DEVS; sizes $SIZES; threads $THREADS"
round=1
runs=0 zero=0
while [ $round -le "$ROUNDS" ]; do
	for dev in $DEVS; do
		for size in $SIZES; do
			for t in $THREADS; do
				for m in $METHODS; do
					setup "$dev" "$m"
					v=$(run "$dev" "$size" "$t")
					teardown "$dev" "$m"
					note "csv pktgen $dev,$size,$t,$m,$round,$v"
					runs=$((runs + 1))
					[ "${v:-0}" -gt 0 ] || zero=$((zero + 1))
				done
			done
		done
	done
	round=$((round + 1))
done
check_eq bench_pktgen_every_run_measured "0 of $runs without a rate" "$zero of $runs without a rate"

# A cpu-clock profile of each method (dummy0, 64 B, 1 thread). There is no
# PMU under TCG: perf samples on its hrtimer, which is enough to see where
# the time of a packet goes.
if [ "$PROFILE" = 1 ] && command -v perf >/dev/null; then
	echo 0 >/proc/sys/kernel/kptr_restrict
	echo -1 >/proc/sys/kernel/perf_event_paranoid
	for t in $THREADS; do
		cpus=0
		[ "$t" = 2 ] && cpus=0,1
		for m in $METHODS; do
			setup dummy0 "$m"
			# pktgen for 6 s; perf (slow to start under TCG) records 3 s of it
			(SECONDS_RUN=6; run dummy0 64 "$t" >/tmp/prof-pps) &
			rpid=$!
			sleep 1
			perf record -q -e cpu-clock -F 4999 -C "$cpus" -o "/tmp/perf.data" -- sleep 3 \
				>/dev/null 2>&1
			wait "$rpid"
			teardown dummy0 "$m"
			note "csv profile $t,$m,pps,$(cat /tmp/prof-pps)"
			perf report -i /tmp/perf.data --no-children --sort sym --stdio \
				--percent-limit 0.5 2>/dev/null |
				awk '$1 ~ /%$/ { p = $1; sub(/%/, "", p); $1 = ""; $2 = ""; s = $0; sub(/^ +/, "", s); print p "," s }' \
				>"/tmp/perf-$t-$m.txt"
			while IFS= read -r line; do
				note "csv profile $t,$m,$line"
			done <"/tmp/perf-$t-$m.txt"
			rm -f /tmp/perf.data
		done
	done
	check_gt bench_pktgen_profile_lines "$(cat /tmp/perf-*.txt | wc -l)" 0
elif [ "$PROFILE" = 1 ]; then
	skip bench_pktgen_profile "no perf in the guest"
fi

ip link del dummy0
ip link del veth0
netns_del pb
