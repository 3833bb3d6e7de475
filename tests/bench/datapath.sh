#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# datapath.sh [--quick] [--kernel SERIES] [--part pktgen|accuracy]...
#             [--append 'VAR=VALUE ...'] [--out DIR]
#
# Benchmarks of issue 5, parts 1 and 2, in QEMU guests of Debian's stock
# kernel (6.1 default): one guest boot per part, every method measured in
# that boot, rounds interleaved.
#   part pktgen       tests/bench/pktgen.sh: packet-path cost (pktgen
#                     queue_xmit), guest booted with tsc=reliable so that its
#                     clocksource is the TSC, as on real hardware and KVM
#   part pktgen-hpet  the same with the clocksource a TCG guest picks by
#                     itself, the emulated HPET (every clock read is an MMIO
#                     access QEMU emulates under its global lock)
#   part accuracy     tests/bench/accuracy.sh: rate accuracy, rate change
#                     (default clocksource, like the e2e tests)
# Raw rows go to build/bench/<part>.csv (build/bench/quick/ with --quick),
# then tests/bench/report.sh writes docs/benchmarks.md and its plot.
#
# --append: more kernel command line; its VAR=VALUE words are in the guest
# script's environment (accuracy.sh's BENCH_* select cells and rounds).
# --out DIR: the CSVs go to DIR instead, and docs/benchmarks.md is left alone
# (for a closer look at a few cells without replacing the full run's report).
#
# --quick: a smoke of about 10 s of measuring per part (plus the boot): one
# ok/not ok line per thing that must have produced numbers, no report, and
# "N passed, N failed" at the end. It checks that they run, not how fast.
#
# With linux-perf installed on the host, perf goes into the pktgen guest and
# a cpu-clock profile of each method is taken (build/bench/profile.csv).
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
quick=0 series=6.1 parts=() user_append='' user_out=''
while [ $# -gt 0 ]; do
	case $1 in
	--kernel | --part | --append | --out)
		[ $# -ge 2 ] || { echo "datapath.sh: $1 needs a value" >&2; exit 2; }
		;;&
	--quick) quick=1 ;;
	--kernel) series=$2; shift ;;
	--part) parts+=("$2"); shift ;;
	--append) user_append=$2; shift ;;
	--out) user_out=$2; shift ;;
	-h | --help) sed -n '4,33s/^# \{0,1\}//p' "$0"; exit 0 ;;
	*) echo "datapath.sh: unknown argument '$1'" >&2; exit 2 ;;
	esac
	shift
done
if [ ${#parts[@]} -eq 0 ]; then
	parts=(pktgen pktgen-hpet accuracy)
	[ "$quick" = 1 ] && parts=(pktgen accuracy)
fi

pass=0 fail=0
result() {
	if [ "$1" -eq 0 ]; then
		echo "ok $2"; pass=$((pass + 1))
	else
		echo "not ok $2${3:+ # $3}"; fail=$((fail + 1))
	fi
}
finish() {
	echo "$pass passed, $fail failed"
	[ "$fail" -eq 0 ]
	exit
}

kv=$("$top/tests/qemu/kernel.sh" "$series")
build=$top/build/e2e-$kv
out=$top/build/bench
[ "$quick" = 1 ] && out=$top/build/bench/quick
[ -z "$user_out" ] || out=$(realpath -m "$user_out")
mkdir -p "$out"
# shellcheck source=SCRIPTDIR/../lib/guest-build.sh
. "$top/tests/lib/guest-build.sh"
guest_build "$top" "$kv" "$build"
guest_build_tool "$top" "$build" sample

bins=(--bin "$top/daqsd/build/daqsctl" --bin "$build/sample")
perf_bin=''
if [ "$quick" = 0 ] && [ -x /usr/bin/perf ] && /usr/bin/perf version >/dev/null 2>&1; then
	perf_bin=/usr/bin/perf
	bins+=(--bin "$perf_bin")
fi
quick_arg=''
[ "$quick" = 1 ] && quick_arg=BENCH_QUICK=1

# header for each CSV the guest writes as "# csv NAME ROW"
# shellcheck disable=SC2054 # the values are CSV headers
declare -A header=(
	[pktgen]=dev,size,threads,method,round,pps
	[profile]=threads,method,pct,symbol
	[capacity]=traffic,round,wire_bps
	[accuracy]=method,rate_mbit,traffic,round,wire_bps,retransmits,segments,loss_pct
	[ratechange]=method,round,cmd_ms,settle_ms,settle_stay_ms,before_mbit,after_mbit
)
declare -A produces=([pktgen]="pktgen profile" [accuracy]="capacity accuracy ratechange")

# boot PART SCRIPT SUFFIX [KERNEL ARGS]: one guest running tests/bench/SCRIPT.sh;
# CSVs NAME$SUFFIX.csv from its "# csv NAME" result lines
boot() {
	local part=$1 script=$2 suffix=$3 dir=$out/boot-$1 rc=0 name append
	append=$(echo "$quick_arg ${4:-} $user_append" | xargs)
	echo "=== $part: booting a $kv guest ($(date -u +%H:%M:%S))${append:+, kernel args: $append}"
	start=$SECONDS
	"$top/tests/qemu/run.sh" --kernel "$kv" --tests "$top/tests/bench" \
		--file "$top/tests/e2e/lib.sh:tests/lib.sh" \
		--module "$build/tree/kmod/daqs.ko" "${bins[@]}" \
		--out "$dir" --timeout "${DAQS_BENCH_TIMEOUT:-3600}" \
		${append:+--append "$append"} "$script.sh" >"$dir.log" 2>&1 || rc=$?
	grep -v '^# csv ' "$dir.log" | grep -E '^(ok|not ok|# kernel|# pktgen: clock|daqs-e2e:)' || true
	for name in ${produces[$script]}; do
		{
			echo "${header[$name]}"
			sed -n "s/^# csv $name //p" "$dir/results.txt"
		} >"$out/$name$suffix.csv"
	done
	result "$rc" "bench_${part}_boot" "run.sh exit status $rc, log $dir.log"
	echo "=== $part: $((SECONDS - start)) s"
	return 0
}

# rows FILE AWK_CONDITION: data rows of FILE (header skipped) where the condition holds
rows() { awk -F, "NR > 1 && ($2)" "$1" | wc -l; }

check_part() {
	local f
	case $1 in
	pktgen*)
		f=$out/$1.csv
		for dev in dummy0 veth0; do
			for m in baseline tbf htb fq daqs-idle daqs-count daqs-shape; do
				n=$(rows "$f" "\$1 == \"$dev\" && \$4 == \"$m\" && \$6 > 0")
				z=$(rows "$f" "\$1 == \"$dev\" && \$4 == \"$m\" && !(\$6 > 0)")
				result "$([ "$n" -gt 0 ] && [ "$z" -eq 0 ]; echo $?)" \
					"${1}_${dev}_${m}_pps_measured" "$n runs with a rate, $z without"
			done
		done
		;;
	accuracy)
		n=$(rows "$out/capacity.csv" "\$3 > 0")
		result "$([ "$n" -gt 0 ]; echo $?)" accuracy_capacity_measured "$n rows"
		for m in $( (awk -F, 'NR > 1 { print $1 }' "$out/accuracy.csv"; echo daqs-shape) | sort -u); do
			n=$(rows "$out/accuracy.csv" "\$1 == \"$m\" && \$5 > 0")
			z=$(rows "$out/accuracy.csv" "\$1 == \"$m\" && !(\$5 > 0)")
			result "$([ "$n" -gt 0 ] && [ "$z" -eq 0 ]; echo $?)" \
				"accuracy_${m}_wire_rate_measured" "$n runs with a rate, $z without"
		done
		case " $user_append " in
		*" BENCH_CHANGE_METHODS=none "*) ;; # asked for none
		*)
			n=$(rows "$out/ratechange.csv" "\$7 > 0 && \$4 != \"\"")
			result "$([ "$n" -gt 0 ]; echo $?)" ratechange_measured "$n rows"
			;;
		esac
		;;
	esac
}

for part in "${parts[@]}"; do
	case $part in
	pktgen) boot pktgen pktgen '' tsc=reliable ;;
	pktgen-hpet) boot pktgen-hpet pktgen -hpet ;;
	accuracy) boot accuracy accuracy '' ;;
	*) echo "datapath.sh: unknown part '$part'" >&2; exit 2 ;;
	esac
	check_part "$part"
done

if [ "$quick" = 0 ] && [ -z "$user_out" ]; then
	{
		echo "kernel=$kv"
		echo "nproc=$(nproc)"
		echo "cpu=$(lscpu | sed -n 's/^Model name: *//p' | head -n 1)"
		echo "host_kernel=$(uname -r)"
		echo "qemu=$(qemu-system-x86_64 --version | head -n 1)"
		echo "date=$(date -u '+%Y-%m-%d %H:%M UTC')"
		echo "commit=$(git -C "$top" describe --always --dirty)"
		echo "load=$(cut -d' ' -f1-3 /proc/loadavg)"
		echo "perf=${perf_bin:-none}"
	} >"$out/machine.txt"
	rc=0
	"$top/tests/bench/report.sh" "$out" || rc=$?
	result "$rc" bench_report "docs/benchmarks.md"
fi
finish
