#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR MIT
#
# cp.sh [--quick] [--runs N] [--guests "1 100 1000"] [--ticks "100 10"] [--out DIR]
#
# Benchmark of issue 5, part 3: the control plane. A real daqsd
# (daqsd/build/daqsd, policy minimum_guarantee, capacity 10 Gbit/s, every VM
# a [vm] section whose minimum is half a fair share) against
# tests/bench/cpload, which plays 1, 100 and 1000 guests on unix sockets in
# a libvirt-like channel directory, at a 100 ms and a 10 ms tick. Each run:
# daqsd starts on an empty directory, cpload creates the guests (daqsd finds
# them with inotify), waits until every guest has a limit, 3 s more, then
# measures 10 s: daqsd's CPU (% of one core, /proc/PID/stat), VmRSS and
# VmHWM, and the time from a tick's start until its last limit was sent,
# as daqsd sees it (the tick_lat_* fields of `daqsctl vms`, last 10 s) and
# as the guests see it (first GET of a round received -> last SET
# received). Every configuration runs --runs times (3), interleaved, and is
# reported as the median with its spread [min-max].
#
# Writes build/bench/cp.csv (one row per run), build/bench/cp.md (the
# table, also on stdout) and build/bench/cp-machine.txt.
#
# DAQSD=PATH: another daqsd binary (an older build, to compare); --out DIR
# instead of build/bench.
# Logs: build/bench/cp-{daqsd,cpload}-GUESTS-TICK-RUN.log.
#
# --quick: a smoke of about 10 s (1 and 100 guests, 100 ms tick, one run,
# 3 s windows) into build/bench/quick/: one ok/not ok line per
# configuration that must have produced numbers (not how good they are),
# then "N passed, N failed".
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
quick=0 runs=3 guests_list="1 100 1000" ticks_list="100 10" warm=3 measure=10 out=
while [ $# -gt 0 ]; do
	case $1 in
	--quick) quick=1 ;;
	--runs) runs=$2; shift ;;
	--guests) guests_list=$2; shift ;;
	--ticks) ticks_list=$2; shift ;;
	--out) out=$2; shift ;;
	-h | --help) sed -n '4,30s/^# \{0,1\}//p' "$0"; exit 0 ;;
	*) echo "cp.sh: unknown argument '$1'" >&2; exit 2 ;;
	esac
	shift
done
if [ "$quick" = 1 ]; then
	out=${out:-$top/build/bench/quick} runs=1 guests_list="1 100" ticks_list=100
	warm=1 measure=3
fi
out=${out:-$top/build/bench}
mkdir -p "$out"
capacity_kbit=10000000

# --- build ------------------------------------------------------------------------------
make -s -C "$top/daqsd" >"$out/cp-build.log" 2>&1 ||
	{ cat "$out/cp-build.log"; echo "0 passed, 1 failed"; exit 1; }
gcc -std=c11 -Wall -Wextra -Werror -O2 -g -D_GNU_SOURCE -I"$top/uapi" -I"$top/daqsd" \
	-o "$out/cpload" "$top/tests/bench/cpload.c" "$top/daqsd/channel.c" \
	"$top/daqsd/units.c" "$top/daqsd/ctlproto.c" "$top/daqsd/ticklat.c" \
	>>"$out/cp-build.log" 2>&1 ||
	{ cat "$out/cp-build.log"; echo "0 passed, 1 failed"; exit 1; }
gcc -std=c11 -Wall -Wextra -Werror -O2 -D_GNU_SOURCE -o "$out/sockcost" \
	"$top/tests/bench/sockcost.c" >>"$out/cp-build.log" 2>&1 ||
	{ cat "$out/cp-build.log"; echo "0 passed, 1 failed"; exit 1; }
daqsd=${DAQSD:-$top/daqsd/build/daqsd} cpload=$out/cpload

{
	echo "nproc=$(nproc)"
	echo "cpu=$(lscpu | sed -n 's/^Model name: *//p' | head -n 1)"
	echo "kernel=$(uname -r)"
	echo "loadavg=$(cut -d' ' -f1-3 /proc/loadavg)"
	# the kernel's price of a message: one socket (cache-hot), 1000 in turn
	echo "sockcost_1=$("$out/sockcost" 1 20000)"
	echo "sockcost_1000=$("$out/sockcost" 1000 20)"
	echo "commit=$(git -C "$top" describe --always --dirty 2>/dev/null || echo unknown)"
	echo "date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
} >"$out/cp-machine.txt"

run_dir='' DAQSD_PID='' CPLOAD_PID=''
cleanup() {
	local rc=$?
	trap - EXIT
	[ -n "$CPLOAD_PID" ] && kill "$CPLOAD_PID" 2>/dev/null
	[ -n "$DAQSD_PID" ] && kill "$DAQSD_PID" 2>/dev/null
	wait 2>/dev/null
	[ -n "$run_dir" ] && rm -rf "$run_dir"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# one_run GUESTS TICK_MS RUN: appends a row to the CSV; 1 if no numbers
one_run() {
	local n=$1 tick=$2 run=$3 i line rc=0
	# short: a unix socket's path is at most 107 bytes
	run_dir=$(mktemp -d /tmp/daqs-cp.XXXXXX)
	{
		cat <<-EOF
		[daqsd]
		capacity = ${capacity_kbit}kbit
		policy = minimum_guarantee
		tick = ${tick}ms
		channel_dir = $run_dir/ch
		control_socket = $run_dir/ctl.sock
		EOF
		for i in $(seq 1 "$n"); do
			printf '\n[vm vm%d]\nmin = %dkbit\n' "$i" $((capacity_kbit / 2 / n))
		done
	} >"$run_dir/daqsd.conf"
	mkdir -p "$run_dir/ch"
	"$daqsd" -c "$run_dir/daqsd.conf" >"$out/cp-daqsd-$n-$tick-$run.log" 2>&1 &
	DAQSD_PID=$!
	for i in $(seq 50); do
		[ -S "$run_dir/ctl.sock" ] && break
		sleep 0.1
	done
	"$cpload" -n "$n" -d "$run_dir/ch" -t "$tick" -r $((capacity_kbit * 1000)) \
		-s "$run" -w "$warm" -m "$measure" -p "$DAQSD_PID" \
		-C "$run_dir/ctl.sock" >"$run_dir/out" 2>"$out/cp-cpload-$n-$tick-$run.log" &
	CPLOAD_PID=$!
	wait "$CPLOAD_PID" || rc=$?
	CPLOAD_PID=''
	kill "$DAQSD_PID" 2>/dev/null || true
	wait "$DAQSD_PID" 2>/dev/null || true
	DAQSD_PID=''
	line=$(grep '^cpload ' "$run_dir/out" || true)
	rm -rf "$run_dir"
	run_dir=''
	[ -n "$line" ] || { echo "# $n guests, ${tick} ms, run $run: no result (cpload exit $rc)" >&2; return 1; }
	echo "# $line" >&2
	# key=value -> the CSV's columns, in order
	echo "$line" | awk -v run="$run" '
	{ for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] } }
	END {
		n = split("guests tick_ms cpu_pct cpu_sys_pct rss_kib hwm_kib d_p50_us d_p99_us d_max_us d_n d_late " \
			  "g_p50_us g_p99_us g_max_us g_rounds ready d_controlled gets_per_s sets_per_s " \
			  "preempted_per_s steal_pct", k, " ")
		printf "%s,%s,%s", v["guests"], v["tick_ms"], run
		for (i = 3; i <= n; i++) printf ",%s", (k[i] in v) ? v[k[i]] : "NA"
		printf "\n"
	}' >>"$csv"
	[ "$rc" -eq 0 ]
}

csv=$out/cp.csv
echo "guests,tick_ms,run,cpu_pct,cpu_sys_pct,rss_kib,hwm_kib,d_p50_us,d_p99_us,d_max_us,d_n,d_late,g_p50_us,g_p99_us,g_max_us,g_rounds,ready,controlled,gets_per_s,sets_per_s,preempted_per_s,steal_pct" >"$csv"
failed_runs=0
for run in $(seq 1 "$runs"); do
	for tick in $ticks_list; do
		for n in $guests_list; do
			echo "# run $run: $n guests, tick $tick ms" >&2
			one_run "$n" "$tick" "$run" || failed_runs=$((failed_runs + 1))
		done
	done
done

# --- the table --------------------------------------------------------------------------
# column NAME: its index in the CSV
col() { head -n 1 "$csv" | tr ',' '\n' | grep -nx "$1" | cut -d: -f1; }
# cell N TICK COLUMN SCALE DIGITS: "median [min-max]" over the runs
cell() {
	awk -F, -v n="$1" -v t="$2" -v c="$(col "$3")" -v s="$4" -v d="$5" '
	NR > 1 && $1 == n && $2 == t && $c != "NA" && $c != "" && $c >= 0 { v[++k] = $c / s }
	END {
		if (!k) { printf "n/a"; exit }
		for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (v[j] < v[i]) { x = v[i]; v[i] = v[j]; v[j] = x }
		m = (k % 2) ? v[(k + 1) / 2] : (v[k / 2] + v[k / 2 + 1]) / 2
		f = "%." d "f"
		if (k == 1) printf f, m
		else printf f " [" f "-" f "]", m, v[1], v[k]
	}' "$csv"
}
md=$out/cp.md
{
	m() { sed -n "s/^$1=//p" "$out/cp-machine.txt"; }
	echo "Control plane, $(m nproc) CPUs ($(m cpu)), kernel $(m kernel), load average at start $(m loadavg); median [min-max] of $runs run(s), ${measure} s windows."
	echo "A 100-byte unix-socket send/recv costs $(m sockcost_1 | sed 's/sockets=1 //') on one socket, $(m sockcost_1000 | sed 's/sockets=1000 //') on 1000 in turn (tests/bench/sockcost)."
	echo
	echo "| guests | tick | daqsd CPU % of one core | of which kernel % | VmRSS MiB | VmHWM MiB | daqsd p50 ms | daqsd p99 ms | guest p50 ms | guest p99 ms | GETs/s | SETs/s |"
	echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
	for tick in $ticks_list; do
		for n in $guests_list; do
			echo "| $n | $tick ms | $(cell "$n" "$tick" cpu_pct 1 2) | $(cell "$n" "$tick" cpu_sys_pct 1 2) |" \
				"$(cell "$n" "$tick" rss_kib 1024 1) |" \
				"$(cell "$n" "$tick" hwm_kib 1024 1) | $(cell "$n" "$tick" d_p50_us 1000 2) |" \
				"$(cell "$n" "$tick" d_p99_us 1000 2) | $(cell "$n" "$tick" g_p50_us 1000 2) |" \
				"$(cell "$n" "$tick" g_p99_us 1000 2) | $(cell "$n" "$tick" gets_per_s 1 0) |" \
				"$(cell "$n" "$tick" sets_per_s 1 0) |"
		done
	done
	# the goal: 1000 guests at a 100 ms tick under 5% of one core and 64 MiB
	if grep -q '^1000,100,' "$csv"; then
		cpu=$(cell 1000 100 cpu_pct 1 2 | cut -d' ' -f1)
		hwm=$(cell 1000 100 hwm_kib 1024 1 | cut -d' ' -f1)
		echo
		awk -v c="$cpu" -v h="$hwm" 'BEGIN {
			printf "Goal (1000 guests, 100 ms tick): CPU %s%% of one core (goal < 5%%: %s), VmHWM %s MiB (goal < 64 MiB: %s).\n",
				c, (c != "n/a" && c < 5) ? "met" : "missed", h, (h != "n/a" && h < 64) ? "met" : "missed" }'
	fi
} >"$md"
cat "$md"

if [ "$quick" = 1 ]; then
	pass=0 fail=0
	for tick in $ticks_list; do
		for n in $guests_list; do
			row=$(grep "^$n,$tick," "$csv" | head -n 1 || true)
			# every measure a number, every guest with a limit and controlled
			if [ -n "$row" ] && echo "$row" | awk -F, -v n="$n" -v cols="$(for c in \
				cpu_pct cpu_sys_pct rss_kib hwm_kib d_p50_us d_p99_us g_p50_us g_p99_us; do
				col $c; done | tr '\n' ' ')" -v r="$(col ready)" -v k="$(col controlled)" '
				{ m = split(cols, c, " ")
				  for (i = 1; i <= m; i++) if ($c[i] == "NA" || $c[i] == "" || $c[i] < 0) exit 1
				  if ($r != n || $k != n) exit 1 }'; then
				echo "ok - $n guests, tick $tick ms: CPU, RSS, tick latency (daqsd and guests) measured"
				pass=$((pass + 1))
			else
				echo "not ok - $n guests, tick $tick ms: numbers missing # ${row:-no row}"
				fail=$((fail + 1))
			fi
		done
	done
	echo "$pass passed, $fail failed"
	[ "$fail" -eq 0 ]
	exit
fi
[ "$failed_runs" -eq 0 ] || { echo "cp.sh: $failed_runs run(s) gave no result or not every guest a limit" >&2; exit 1; }
