#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# report.sh [DIR] - docs/benchmarks.md and docs/img/bench-accuracy.png from the
# CSVs tests/bench/datapath.sh left in DIR (default build/bench). Medians and
# spreads are computed here from the raw rows, so the CSVs stay the record.
# Appends tests/bench/findings.md (the profile's explanation, written by hand)
# and, when it exists, docs/benchmarks-control-plane.md (part 3).
# shellcheck disable=SC2046,SC2013,SC2016,SC2086 # word splitting and awk programs on purpose
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
dir=${1:-$top/build/bench}
doc=${DAQS_BENCH_DOC:-$top/docs/benchmarks.md}
img_rel=img/bench-accuracy.png
img=$(dirname "$doc")/$img_rel
mkdir -p "$(dirname "$img")"
for f in capacity accuracy ratechange; do
	[ -s "$dir/$f.csv" ] || { echo "report.sh: no $dir/$f.csv" >&2; exit 1; }
done
machine() { sed -n "s/^$1=//p" "$dir/machine.txt" 2>/dev/null | head -n 1; }

# stats: reads "KEY VALUE" lines, prints "KEY n median min max" per key (sorted)
stats() {
	sort -k1,1 -k2,2g | awk '
	function flush() {
		if (n == 0) return
		m = (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
		print k, n, m, v[1], v[n]
	}
	$1 != k { flush(); k = $1; n = 0 }
	{ v[++n] = $2 }
	END { flush() }'
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ac=$tmp/ac cap=$tmp/cap
# part 1 sets: tsc = the guest booted with tsc=reliable (pktgen.csv), hpet =
# TCG's default clocksource (pktgen-hpet.csv)
sets=''
for sfx in '' -hpet; do
	[ -s "$dir/pktgen$sfx.csv" ] || continue
	set=${sfx#-}
	set=${set:-tsc}
	sets="$sets $set"
	# dev|size|threads|method n median min max
	awk -F, 'NR > 1 { print $1 "|" $2 "|" $3 "|" $4, $6 }' "$dir/pktgen$sfx.csv" | stats >"$tmp/pk$set"
done
[ -n "$sets" ] || { echo "report.sh: no $dir/pktgen.csv" >&2; exit 1; }
sfx_of() { [ "$1" = tsc ] && echo '' || echo "-$1"; }

# path_share PROFILE_CSV METHOD: % of the profiled CPU in what METHOD adds to a
# packet's path: symbols of the limiter's own path that the baseline does not
# run (daqs_*, nf_hook_*, RCU read side, qdisc, tbf/htb/fq, spinlocks, flow
# hashing, the clock) plus the growth over the baseline of the symbols both
# run (__dev_queue_xmit, the retpoline thunks after __static_call_text_end,
# the clock reads). Symbols under perf's 0.7% cut are missing, so it is a
# lower bound.
# prof_csv SET THREADS: that profile as "method,pct,symbol" rows in a temp
# file (older CSVs without the threads column are 1-thread profiles)
prof_csv() {
	local f out=$tmp/prof-$1-$2.csv
	f=$dir/profile$(sfx_of "$1").csv
	[ -s "$f" ] || return 1
	awk -F, -v t="$2" '
		NR == 1 { old = ($1 == "method"); print "method,pct,symbol"; next }
		old && t == 1 { print; next }
		!old && $1 == t { sub(/^[^,]*,/, ""); print }' "$f" >"$out"
	[ "$(awk -F, 'NR > 1 && $2 != "pps"' "$out" | wc -l)" -gt 0 ] || return 1
	echo "$out"
}
PATH_RE='^(daqs_|nf_hook|__rcu_read|__qdisc|qdisc_|sch_|dev_qdisc|tbf_|htb_|fq_|_raw_spin|native_queued_spin|__skb_flow_dissect|__skb_get_hash|rb_|validate_xmit_skb_list|ktime_get$|read_tsc|read_hpet)'
GROWN_RE='^(__dev_queue_xmit|__static_call_text_end|ktime_get|read_tsc|read_hpet)$'
path_share() {
	awk -F, -v m="$2" -v pre="$PATH_RE" -v gre="$GROWN_RE" '
		NR == 1 || $2 == "pps" { next }
		{ s = $3; for (i = 4; i <= NF; i++) s = s "," $i }
		$1 == "baseline" { b[s] = $2 }
		$1 == m { v[s] = $2 }
		END {
			for (s in v) {
				if (s ~ gre) { d = v[s] - b[s]; if (d > 0) t += d }
				else if (s ~ pre && !(s in b)) t += v[s]
			}
			printf "%.1f", t
		}' "$1"
}
clock_of() {
	local c
	c=$(sed -n 's/^# pktgen: clocksource //p' "$dir/boot-pktgen$(sfx_of "$1")/results.txt" 2>/dev/null | head -n 1)
	case $1 in
	tsc) echo "${c:-tsc} (guest booted with tsc=reliable)" ;;
	*) echo "${c:-hpet} (what a TCG guest picks by itself)" ;;
	esac
}
# method|rate|traffic n median min max (wire bit/s)
awk -F, 'NR > 1 { print $1 "|" $2 "|" $3, $5 }' "$dir/accuracy.csv" | stats >"$ac"
awk -F, 'NR > 1 { print $1, $3 }' "$dir/capacity.csv" | stats >"$cap"

pkt_methods="baseline daqs-idle daqs-count daqs-shape tbf htb fq"
acc_methods="daqs-shape daqs-police tbf htb fq"
# the tables lead with none (the same traffic with no limiter) where the CSV
# has it (older ones do not)
table_methods=$(awk -F, 'NR > 1 && $1 == "none" { printf "none "; exit }' "$dir/accuracy.csv")$acc_methods
label() {
	case $1 in
	baseline) echo "no hook: daqs.ko not loaded (baseline)" ;;
	daqs-idle) echo "daqs.ko loaded, device not bound" ;;
	daqs-count) echo "daqs bound, rate 0 (count only)" ;;
	daqs-shape) echo "daqs shape, 100 Gbit/s" ;;
	tbf) echo "tc tbf root, 100 Gbit/s" ;;
	htb) echo "tc htb root, 100 Gbit/s" ;;
	fq) echo "tc fq root, maxrate 30 Gbit/s" ;;
	esac
}
# get FILE KEY FIELD: field 2..5 (n median min max) of KEY
# md_header "| a | b |" "|---|---|" COLUMNS...: a table's header, one column per word
md_header() {
	local lead=$1 rule=$2 c
	shift 2
	printf '%s' "$lead"
	for c in "$@"; do printf ' %s |' "$c"; done
	echo
	printf '%s' "$rule"
	for c in "$@"; do printf -- '---|'; done
	echo
}
get() { awk -v k="$2" -v f="$3" '$1 == k { print $f; exit }' "$1"; }
kpps() { awk -v v="$1" 'BEGIN { printf "%.1f", v / 1e3 }'; }
mb() { awk -v v="$1" 'BEGIN { printf (v >= 100e6 ? "%.0f" : "%.1f"), v / 1e6 }'; }
err() { awk -v v="$1" -v w="$2" 'BEGIN { printf "%+.2f", (v / 1e6 - w) * 100 / w }'; }

capacity_of() { # traffic -> median wire bit/s unshaped
	get "$cap" "$1" 3
}
# can the guest carry RATE_MBIT with TRAFFIC? (every unshaped run >= 1.05 x
# rate: the capacity runs, and the runs of that very traffic with no limiter
# where there are any, e.g. UDP sent at twice the rate, which iperf3 paces)
carries() {
	awk -v c="$(get "$cap" "$1" 4)" -v n="$(get "$ac" "none|$2|$1" 4)" -v r="$2" \
		'BEGIN { exit !(c != "" && c >= r * 1e6 * 1.05 && (n == "" || n >= r * 1e6 * 1.05)) }'
}
rates=$(awk -F, 'NR > 1 { print $2 }' "$dir/accuracy.csv" | sort -un | tr '\n' ' ')
traffics=$(awk -F, 'NR > 1 { print $3 }' "$dir/accuracy.csv" | awk '!s[$0]++' | tr '\n' ' ')
tname() {
	case $1 in
	tcp1) echo "TCP, 1 stream" ;;
	tcp8) echo "TCP, 8 streams" ;;
	udp) echo "UDP at twice the rate" ;;
	*) echo "$1" ;;
	esac
}

# ---- goals, computed ---------------------------------------------------------------
goal_lines=$(
	cells() { awk '{ print $1 }' "$tmp/pk$1" | cut -d'|' -f1-3 | sort -u; }
	ratios() { # SET METHOD -> "ratio dev size threads" per cell
		for k in $(cells "$1"); do
			b=$(get "$tmp/pk$1" "$k|baseline" 3)
			v=$(get "$tmp/pk$1" "$k|$2" 3)
			[ -n "$b" ] && [ -n "$v" ] && awk -v b="$b" -v v="$v" -v k="$k" \
				'BEGIN { split(k, a, "|"); printf "%.3f %s, %s B, %s thread(s)\n", v / b, a[1], a[2], a[3] }'
		done | sort -n
	}
	median_ratio() { ratios "$1" "$2" | awk '{ print "x", $1 }' | stats | awk '{ printf "%.3f", $3 }'; }
	verdict() { awk -v v="$1" -v g="$2" 'BEGIN { print (v >= g) ? "met" : "**missed**" }'; }
	for set in $sets; do
		for what in "daqs-count 0.98 counting (daqs bound, rate 0) ≤ 2% below the baseline" \
			"daqs-idle 0.98 (daqs.ko loaded, device not bound) ≤ 2% below the baseline" \
			"daqs-shape 0.95 shaping above the load ≤ 5% below the baseline"; do
			set -- $what
			m=$1 g=$2
			shift 2
			med=$(median_ratio "$set" "$m")
			w=$(ratios "$set" "$m" | head -n 1)
			est=''
			for t in 1 2; do
				pf=$(prof_csv "$set" "$t") || continue
				grep -q "^$m,[0-9]" "$pf" || continue
				est="$est; profile, $t thread(s): $(path_share "$pf" "$m")%"
			done
			[ -n "$est" ] && est="$est of the CPU in the path daqs adds (dummy0, 64 B)"
			echo "| $* — clocksource $set | median ratio $med over the cells; worst ${w%% *} (${w#* })$est | $(verdict "$med" "$g") (median), $(verdict "${w%% *}" "$g") (worst) |"
		done
		ahead=0 total=0 behind=''
		for k in $(cells "$set" | grep '|2$'); do
			d=$(get "$tmp/pk$set" "$k|daqs-shape" 3)
			for q in tbf htb; do
				v=$(get "$tmp/pk$set" "$k|$q" 3)
				total=$((total + 1))
				if awk -v d="$d" -v v="$v" 'BEGIN { exit !(d > v) }'; then
					ahead=$((ahead + 1))
				else
					kk=${k%|2}
					behind="$behind; $q on ${kk//|/ } B ($(kpps "$d") vs $(kpps "$v") kpps)"
				fi
			done
		done
		v=met
		[ "$ahead" -eq "$total" ] || v="**missed**"
		est=''
		for t in 2 1; do
			pf=$(prof_csv "$set" "$t") || continue
			est="; profile, $t thread(s), % of the CPU in each one's own path: daqs shape $(path_share "$pf" daqs-shape), tbf $(path_share "$pf" tbf), htb $(path_share "$pf" htb)"
			break
		done
		echo "| daqs shape ahead of tbf and htb with 2 threads — clocksource $set | ahead in $ahead of $total pairs${behind:+ — behind: ${behind#; }}$est | $v |"
	done
	# accuracy: daqs shape, every cell the guest can carry
	for m in daqs-shape daqs-police; do
		n=0 in=0 worst='' wv=0
		for r in $rates; do
			for t in $traffics; do
				[ "$m" = daqs-police ] && [ "$t" != udp ] && continue
				carries "$t" "$r" || continue
				v=$(get "$ac" "$m|$r|$t" 3)
				[ -n "$v" ] || continue
				n=$((n + 1))
				e=$(err "$v" "$r")
				if awk -v e="$e" 'BEGIN { exit !(e <= 1 && e >= -1) }'; then
					in=$((in + 1))
				fi
				if awk -v e="$e" -v w="$wv" 'BEGIN { e = e < 0 ? -e : e; exit !(e > w) }'; then
					wv=${e#[-+]} worst="$e% at $r Mbit/s, $(tname "$t")"
				fi
			done
		done
		v=met
		[ "$in" -eq "$n" ] || v="**missed**"
		[ "$n" -gt 0 ] || v="n/a: no cell the guest carries"
		what="accuracy within 1% where the guest carries the load: $m"
		[ "$m" = daqs-police ] && what="$what (UDP; TCP through a policer is in the table)"
		echo "| $what | $in of $n cells within 1% (median); worst $worst | $v |"
	done
	s=$(awk -F, 'NR > 1 && $1 == "daqs" { print "x", $4 }' "$dir/ratechange.csv" | stats | awk '{ print $3 }')
	c=$(awk -F, 'NR > 1 && $1 == "daqs" { print "x", $4 - $3 }' "$dir/ratechange.csv" | stats | awk '{ print $3 }')
	echo "| settling within 100 ms (daqs, 400 → 100 Mbit/s) | median ${s} ms from the start of \`daqsctl\`, ${c} ms from its return | $(awk -v s="$s" 'BEGIN { print (s <= 100) ? "met" : "**missed**" }') |"
)

# ---- the plot ----------------------------------------------------------------------
plot_ok=0
if command -v gnuplot >/dev/null; then
	: >"$ac.dat"
	for t in $traffics; do
		for m in $acc_methods; do
			echo "# $t $m" >>"$ac.dat"
			for r in $rates; do
				v=$(get "$ac" "$m|$r|$t" 3)
				lo=$(get "$ac" "$m|$r|$t" 4)
				hi=$(get "$ac" "$m|$r|$t" 5)
				[ -n "$v" ] || continue
				carries "$t" "$r" || continue
				echo "$r $(err "$v" "$r") $(err "$lo" "$r") $(err "$hi" "$r")" >>"$ac.dat"
			done
			printf '\n\n' >>"$ac.dat"
		done
	done
	{
		echo "set terminal pngcairo size 1500,520 font 'sans,10'"
		echo "set output '$img'"
		echo "set multiplot layout 1,$(echo "$traffics" | wc -w) title 'Receiver wire rate vs set rate: error % (median, bars min–max; cells the guest cannot carry left out)'"
		echo "set logscale x; set grid; set xlabel 'set rate, Mbit/s'; set ylabel 'error %'"
		echo "set yrange [-30:10]; set key bottom left"
		idx=0
		for t in $traffics; do
			echo "set title '$(tname "$t")'"
			printf 'plot '
			sep=''
			for m in $acc_methods; do
				printf "%s'%s' index %d using 1:2:3:4 with yerrorlines title '%s'" "$sep" "$ac.dat" "$idx" "$m"
				sep=', '
				idx=$((idx + 1))
			done
			echo ", 1 with lines dt 2 lc 'gray' notitle, -1 with lines dt 2 lc 'gray' notitle"
		done
		echo "unset multiplot"
	} | gnuplot 2>/dev/null && plot_ok=1
fi

# ---- the document ------------------------------------------------------------------
{
	cat <<EOF
# Benchmarks: the datapath next to tc tbf, htb and fq

Generated by \`tests/bench/report.sh\` from the CSVs of \`tests/bench/datapath.sh\`
(\`make bench\`); do not edit by hand — edit the scripts or
\`tests/bench/findings.md\` and run it again. Every figure is the median of
the rounds with its spread (min–max); all the methods of a part were measured
in one guest boot, one after the other, round after round, so the noise of a
shared host falls on all of them alike and the ratios are the figures to
trust.

## The machine

| | |
|---|---|
| date | $(machine date) |
| commit | $(machine commit) |
| host | $(machine nproc) CPUs, $(machine cpu), Linux $(machine host_kernel), load average at the end $(machine load) |
| emulator | $(machine qemu), TCG (no KVM), 2 vCPUs, 2 GiB |
| guest | Debian's stock kernel $(machine kernel), busybox initramfs (\`tests/qemu/run.sh\`) |
| profiler | $(machine perf) (cpu-clock sampling: there is no PMU under TCG) |

Commands:

\`\`\`
make bench                                    # or:
tests/bench/datapath.sh                       # parts 1 and 2, one guest boot each, then this report
tests/bench/datapath.sh --part pktgen         # one part: pktgen (TSC guest), pktgen-hpet, accuracy
tests/bench/datapath.sh --quick               # the smoke make check runs
tests/bench/datapath.sh --part accuracy --out DIR --append 'BENCH_ROUNDS=7 BENCH_RATES=200 BENCH_TRAFFIC=udp'
                                              # a closer look at some cells (BENCH_* in accuracy.sh);
                                              # the CSVs go to DIR, this report stays
tests/bench/report.sh build/bench             # the report again from the CSVs
\`\`\`

Raw rows: \`build/bench/pktgen.csv\`, \`profile.csv\` (and \`-hpet\` of both), \`capacity.csv\`,
\`accuracy.csv\`, \`ratechange.csv\`; guest logs in \`build/bench/boot-*/\`.

## Goals (issue 5)

| goal | measured | verdict |
|---|---|---|
$goal_lines

EOF
	if [ -s "$top/tests/bench/findings.md" ]; then
		cat "$top/tests/bench/findings.md"
		echo
	fi

	cat <<'EOF'
## 1. Packet-path cost

pktgen (Debian's pktgen.ko, `xmit_mode queue_xmit`, so every packet goes
through `__dev_queue_xmit`, the egress hooks and the qdisc layer), one
kpktgend thread per vCPU, each run a fixed time (`tests/bench/pktgen.sh`).
Both devices default to **noqueue** (no qdisc), so the baseline has no qdisc
at all; tbf/htb/fq replace that with a root qdisc and its root lock.
`dummy0` frees every packet in its driver; `veth0`'s peer is in another
namespace and receives every packet (and drops it: its destination MAC is
not the peer's). The baseline (ratio 1.00) is the stock kernel **without
daqs.ko loaded**; "daqs.ko loaded, device not bound" is what every device
pays while daqs is loaded, because the module holds the egress static keys
(docs/datapath.md). The daqs, tbf and htb rates are 100 Gbit/s (fq: maxrate 30 Gbit/s, its
largest is 2^32 bytes/s), far above the
offered load: nothing is ever delayed.

EOF
	for set in $sets; do
		pk=$tmp/pk$set
		sfx=$(sfx_of "$set")
		echo "### Guest clocksource: $(clock_of "$set")"
		echo
		echo "Runs per cell: $(awk '{ print $2 }' "$pk" | sort -n | uniq | tr '\n' ' ')(each $(sed -n 's/.*rounds of \([0-9.]*\) s per run.*/\1/p' "$dir/boot-pktgen$sfx/results.txt" 2>/dev/null | head -n 1) s); raw rows in \`build/bench/pktgen$sfx.csv\`."
		echo
		for dev in dummy0 veth0; do
			for size in $(awk -F, 'NR > 1 { print $2 }' "$dir/pktgen$sfx.csv" | sort -un); do
				echo "#### $dev, $size-byte packets ($set)"
				echo
				echo "| method | 1 thread: kpps (spread) | ratio | 2 threads: kpps (spread) | ratio |"
				echo "|---|---|---|---|---|"
				for m in $pkt_methods; do
					line="| $(label "$m") |"
					for t in 1 2; do
						k="$dev|$size|$t|$m"
						v=$(get "$pk" "$k" 3)
						b=$(get "$pk" "$dev|$size|$t|baseline" 3)
						if [ -z "$v" ]; then
							line="$line – | – |"
							continue
						fi
						line="$line $(kpps "$v") ($(kpps "$(get "$pk" "$k" 4)")–$(kpps "$(get "$pk" "$k" 5)")) | $(awk -v v="$v" -v b="$b" 'BEGIN { printf "%.3f", v / b }') |"
					done
					echo "$line"
				done
				echo
			done
		done
	done

	for set in $sets; do
		for t in 1 2; do
		f=$(prof_csv "$set" "$t") || continue
		if [ "$t" = 1 ]; then
			cpus="-C 0\` (the CPU of kpktgend_0)"
		else
			cpus="-C 0,1\` (both CPUs, one kpktgend each)"
		fi
		cat <<EOF
### Where the time goes: a profile (clocksource $set, $t thread(s))

\`perf record -e cpu-clock $cpus for 3 s while pktgen
sends 64-byte packets into dummy0 with $t thread(s), for each method: the share
of the samples per kernel symbol (symbols at 1% or more in some method; a
blank is below perf's cut, 0.5% or 0.7%). Under TCG a sample lands at the end of a
translated block: this shows where emulated instructions go, not cache
behaviour. The last rows are pktgen's rate during the profile (one run) and the share
of the CPU in the method's own path: symbols of the limiter's path the
baseline does not run (\`daqs_*\`, \`nf_hook_*\`, RCU read side, qdisc,
tbf/htb/fq, spinlocks, flow hashing, the clock) plus what the symbols both
run grew by (\`__dev_queue_xmit\`, into which the egress hook call is
inlined; the retpoline thunks after \`__static_call_text_end\`; clock reads).
Symbols under perf's cut are missing, so it is a lower bound, and it is the
figure that host noise does not move: a ratio of about 1 − share/100.

EOF
		methods_present=$(awk -F, 'NR > 1 { print $1 }' "$f" | awk '!s[$0]++')
		# shellcheck disable=SC2086
		md_header '| symbol |' '|---|' $methods_present
		shares=''
		for m in $methods_present; do
			shares="$shares $m=$(path_share "$f" "$m")"
		done
		awk -F, -v ms="$methods_present" -v shares="$shares" '
			NR > 1 && $2 == "pps" { pps[$1] = $3; next }
			NR > 1 { s = $3; for (i = 4; i <= NF; i++) s = s "," $i; p[s, $1] = $2; if (!(s in seen)) { seen[s] = 1; order[++n] = s }; if ($2 + 0 > mx[s]) mx[s] = $2 + 0 }
			END {
				ns = split(shares, sh, " ")
				for (i = 1; i <= ns; i++) { split(sh[i], kv, "="); share[kv[1]] = kv[2] }
				k = split(ms, m, /[ \n]+/)
				for (i = 1; i <= n; i++) {
					s = order[i]
					if (mx[s] < 1) continue
					line = "| `" s "` |"
					for (j = 1; j <= k; j++) line = line " " ((s, m[j]) in p ? p[s, m[j]] : "") " |"
					print mx[s] "\t" line
				}
				line = "| *pktgen kpps during the profile* |"
				for (j = 1; j <= k; j++) line = line " " (m[j] in pps ? sprintf("%.1f", pps[m[j]] / 1000) : "") " |"
				print "-1\t" line
				line = "| *own path of the method, % of the CPU (see above)* |"
				for (j = 1; j <= k; j++) line = line " " (m[j] == "baseline" ? "" : share[m[j]]) " |"
				print "-2\t" line
			}' "$f" | sort -t"$(printf '\t')" -k1,1gr | cut -f2-
		echo
		done
	done

	cat <<'EOF'
## 2. Rate accuracy and responsiveness

`tests/bench/accuracy.sh`: a veth pair (2 tx queues) between two namespaces,
the limiter on the sender's veth0, iperf3 server behind veth1. The rate is
judged **on the wire at the receiver's device**: veth1's `rx_bytes` and
`rx_packets`, sampled every 100 ms, over 3 s that start 1 s after the first
data arrived. TCP skbs cross a veth as GSO packets that carry their headers
once, so TCP wire bytes are `(rx_bytes − 66·rx_packets) · 1514/1448` (66
bytes of Ethernet, IPv4 and TCP-with-timestamps headers per 1448-byte
segment); UDP (1472-byte datagrams, 1514-byte frames) is counted as it is.
All shapers count the same bytes (the L2 frame without FCS:
`qdisc_pkt_len`). Error = (wire − set) / set.

- daqs shape and police use daqs' automatic burst (5 ms at the rate, at
  least 64 KiB); tbf (`latency 50ms`) and htb (`rate = ceil`, `burst = cburst`)
  are given that same burst; fq has no burst, and `maxrate` limits **each
  flow**, not the device (8 TCP streams may take 8× the rate).
- UDP is sent at twice the set rate (`iperf3 -u -b 2R -l 1472`).
- *none* is the same traffic with no limiter, measured in the same rounds:
  what the guest carries of it (for UDP, iperf3 pacing at twice the rate).
- A cell counts for the accuracy goal only where the guest carried at least
  1.05× the set rate unshaped in every unshaped run: the capacity runs (the
  minimum in the table below) and the *none* runs of that cell; other cells
  are marked *n/a*: there the guest, not the limiter, sets the rate.

EOF
	echo "### Unshaped: what the guest carries"
	echo
	echo "| traffic | wire Mbit/s, median (spread) | runs |"
	echo "|---|---|---|"
	for t in $(awk '{ print $1 }' "$cap"); do
		echo "| $(tname "$t") | $(mb "$(get "$cap" "$t" 3)") ($(mb "$(get "$cap" "$t" 4)")–$(mb "$(get "$cap" "$t" 5)")) | $(get "$cap" "$t" 2) |"
	done
	echo
	maxline=$(sed -n 's/^# accuracy: the highest rate.*: \([0-9]*\) Mbit\/s.*/\1/p' "$dir/boot-accuracy/results.txt" 2>/dev/null | head -n 1 || true)
	[ -n "$maxline" ] && echo "The highest set rate, $maxline Mbit/s, is 90% of the unshaped 8-stream median rounded down to 100 Mbit/s." && echo

	echo "### Error at a glance (median error %, n/a: the guest cannot carry it; none: the median wire rate with no limiter)"
	echo
	# shellcheck disable=SC2086
	md_header '| set rate | traffic |' '|---|---|' $table_methods
	for r in $rates; do
		for t in $traffics; do
			printf '| %s | %s |' "$r" "$(tname "$t")"
			for m in $table_methods; do
				v=$(get "$ac" "$m|$r|$t" 3)
				if [ -z "$v" ]; then
					printf ' – |'
				elif [ "$m" = none ]; then
					# no limiter: what it carried, not an error
					printf ' %s Mbit/s |' "$(mb "$v")"
				elif carries "$t" "$r"; then
					printf ' %s%% |' "$(err "$v" "$r")"
				else
					printf ' n/a (%s%%) |' "$(err "$v" "$r")"
				fi
			done
			echo
		done
	done
	echo
	if [ "$plot_ok" = 1 ]; then
		echo "![accuracy vs set rate]($img_rel)"
		echo
		echo "The error axis is cut at −30% and +10%: fq with 8 streams (a per-flow limit, so"
		echo "up to 8× the rate) and daqs police with TCP leave the chart; the tables have them."
		echo
	fi

	echo "### Every cell"
	echo
	echo "Wire Mbit/s at the receiver, median (min–max) of the runs; TCP retransmits are"
	echo "the sender's over the whole run (median, with the median number of segments"
	echo "sent), UDP loss is iperf3's (median %)."
	echo
	for t in $traffics; do
		echo "#### $(tname "$t")"
		echo
		if [ "$t" = udp ]; then
			echo "| set Mbit/s | method | wire Mbit/s (spread) | error % | loss % |"
		else
			echo "| set Mbit/s | method | wire Mbit/s (spread) | error % | retransmits / segments |"
		fi
		echo "|---|---|---|---|---|"
		for r in $rates; do
			for m in $table_methods; do
				k="$m|$r|$t"
				v=$(get "$ac" "$k" 3)
				[ -n "$v" ] || continue
				if [ "$t" = udp ]; then
					extra=$(awk -F, -v m="$m" -v r="$r" -v t="$t" 'NR > 1 && $1 == m && $2 == r && $3 == t { print "x", $8 }' "$dir/accuracy.csv" | stats | awk '{ printf "%.1f", $3 }')
				else
					extra="$(awk -F, -v m="$m" -v r="$r" -v t="$t" 'NR > 1 && $1 == m && $2 == r && $3 == t { print "x", $6 }' "$dir/accuracy.csv" | stats | awk '{ printf "%d", $3 }') / $(awk -F, -v m="$m" -v r="$r" -v t="$t" 'NR > 1 && $1 == m && $2 == r && $3 == t { print "x", $7 }' "$dir/accuracy.csv" | stats | awk '{ printf "%d", $3 }')"
				fi
				e=$(err "$v" "$r")
				carries "$t" "$r" || e="n/a ($e)"
				[ "$m" != none ] || e="– (no limiter)"
				echo "| $r | $m | $(mb "$v") ($(mb "$(get "$ac" "$k" 4)")–$(mb "$(get "$ac" "$k" 5)")) | $e | $extra |"
			done
		done
		echo
	done

	cat <<'EOF'
### Rate change 400 → 100 Mbit/s mid-flow

One TCP stream, burst 64 KiB for every method; veth1 sampled every 10 ms.
t0 is taken just before the command starts (`daqsctl set`, `tc qdisc change`
for tbf, `tc class change` for htb): a control program execs a process in
the guest, and that is part of the cost. *Settle* is the first time after t0
at which the 100 ms moving average (the window ending at that sample) is
within 5% of 100 Mbit/s; a perfect limiter that changes at t0 settles at
about 100 ms by this definition, since every earlier window still holds
400 Mbit/s traffic. *From return* subtracts the command's own time. *Stays*
is from when on every window in the 1.1 s after t0 stayed within 5%
(-1: never). *Before* is the last second at 400, *after* the second that
starts 200 ms after t0.

| method | runs | command ms | settle ms, median (spread) | settle from return, ms | stays within 5% from, ms | before, Mbit/s | after, Mbit/s |
|---|---|---|---|---|---|---|---|
EOF
	for m in $(awk -F, 'NR > 1 { print $1 }' "$dir/ratechange.csv" | awk '!s[$0]++'); do
		col() { awk -F, -v m="$m" "NR > 1 && \$1 == m { print \"x\", $1 }" "$dir/ratechange.csv" | stats; }
		set -- $(col '$4')
		settle="$3 ($4–$5)"
		n=$2
		echo "| $m | $n | $(col '$3' | awk '{ print $3 }') | $settle | $(col '$4 - $3' | awk '{ print $3 }') | $(col '$5' | awk '{ print $3 }') | $(col '$6' | awk '{ print $3 }') | $(col '$7' | awk '{ print $3 }') |"
	done
	echo

	cp_doc=$top/docs/benchmarks-control-plane.md
	if [ -s "$cp_doc" ]; then
		# its title becomes section 3, its headings one level deeper
		# (not inside code blocks)
		awk 'NR == 1 && /^#/ {
				match($0, /^#+ */); lvl = index($0, " ") - 1; shift = 2 - lvl
				print "## 3. " substr($0, RLENGTH + 1); print ""
				print "Included from [benchmarks-control-plane.md](benchmarks-control-plane.md) (`tests/bench/cp.sh`) as it stands."
				next
			}
			NR == 1 { print "## 3. Control plane"; print "" }
			/^```/ { code = !code }
			!code && /^#/ {
				if (shift > 0) for (i = 0; i < shift; i++) $0 = "#" $0
				else if (shift < 0) $0 = substr($0, 1 - shift)
			}
			{ print }' "$cp_doc"
		echo
	elif [ -s "$dir/cp.md" ]; then
		echo "## 3. Control plane"
		echo
		echo "From \`tests/bench/cp.sh\` (\`build/bench/cp.md\`), included as it stands:"
		echo
		sed -e 's/^#/###/' "$dir/cp.md"
		echo
	else
		echo "## 3. Control plane"
		echo
		echo "Not measured here: see issue 5 part 3 (\`tests/bench/cp.sh\`, docs/benchmarks-control-plane.md)."
		echo
	fi
} >"$doc"
echo "report.sh: wrote $doc${plot_ok:+ and $img}"
