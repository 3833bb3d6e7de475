#!/bin/bash
# shellcheck disable=SC2016,SC2034,SC2155
# daqsd-e2e.sh [--kernel SERIES]: daqsd on the host, natively, controlling a
# real guest. vm1 is QEMU (TCG, Debian's SERIES kernel, 6.1 default) with
# daqs.ko and daqs-agent on its virtio-serial port org.daqs.0, whose unix
# socket is in a libvirt-like channel dir (<dir>/domain-1-vm1/org.daqs.0),
# found by daqsd through inotify; the guest sends unlimited iperf3 over
# veth0 (tests/e2e/daqsd.sh) and reports what it measures once a second on
# its result port. The other "VMs" are fake guests played on the host by
# tests/tools/fakevm (a unix socket in the channel dir answering as an agent
# whose device sends up to a given rate, or sending garbage): two TCG guests
# on two cores would be too slow to measure anything.
#
# Shown and checked: daqsd's limit is what vm1 sends (vm1 alone gets the
# capacity); a second VM appearing is discovered and limited, vm1's share
# shrinks, and it gets the capacity back when the VM goes; garbage on the
# channels of other VMs leaves vm1's control alone and is counted; kill -9
# daqsd: vm1 falls back at lease expiry; daqsd started again: control within
# ticks; the agent killed with -9 and started again: control again.
# "ok"/"not ok" lines, "# " notes with the numbers, "N passed, N failed".
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
series=6.1
while [ $# -gt 0 ]; do
	case $1 in
	--kernel) series=$2; shift ;;
	*) echo "usage: $0 [--kernel SERIES]" >&2; exit 2 ;;
	esac
	shift
done
t_start=$SECONDS
kv=$("$top/tests/qemu/kernel.sh" "$series")
build=$top/build/daqsd-e2e-$kv
# shellcheck source=lib/guest-build.sh
. "$top/tests/lib/guest-build.sh"
guest_build "$top" "$kv" "$build"
for t in chdrive fakevm; do
	guest_build_tool "$top" "$build" "$t" "$top/daqsd/channel.c" "$top/daqsd/units.c"
done
daqsd=$top/daqsd/build/daqsd daqsctl=$top/daqsd/build/daqsctl
chdrive=$build/chdrive fakevm=$build/fakevm

# --- results -------------------------------------------------------------------------
pass=0 fail=0
ok() { echo "ok $1${2:+ # $2}"; pass=$((pass + 1)); }
not_ok() { echo "not ok $1 # $2"; fail=$((fail + 1)); }
check() {
	if eval "$2"; then ok "$1"; else not_ok "$1" "$3"; fi
}
note() { echo "# $*"; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# --- the host: daqsd with a libvirt-like channel dir -------------------------------------
# short paths: a unix socket's path is at most 107 bytes
run=$(mktemp -d /tmp/daqsd-e2e.XXXXXX)
ch=$run/ch ctl=$run/ctl.sock conf=$run/daqsd.conf out=$build/out
mkdir -p "$ch"
rm -rf "$out"
mkdir -p "$out"
capacity=60000000 lease_ms=500 tick_ms=100
cat >"$conf" <<EOF
[daqsd]
capacity = 60mbit
policy = minimum_guarantee
tick = ${tick_ms}ms
lease = ${lease_ms}ms
channel_dir = $ch
control_socket = $ctl

[vm vm1]
min = 40mbit
device = veth0

[vm vm2]
min = 10mbit
EOF
DAQSD_PID='' RUN_PID='' CH_PID='' FAKE_PIDS=()
start_daqsd() {
	"$daqsd" -v -c "$conf" >>"$build/daqsd.log" 2>&1 &
	DAQSD_PID=$!
}
cleanup() {
	local rc=$? p
	trap - EXIT
	[ -n "${CH_PID:-}" ] && kill "$CH_PID" 2>/dev/null
	for p in "${FAKE_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	[ -n "$DAQSD_PID" ] && kill "$DAQSD_PID" 2>/dev/null
	if [ -n "$RUN_PID" ] && kill -0 "$RUN_PID" 2>/dev/null; then
		kill -TERM "$RUN_PID" 2>/dev/null
		wait "$RUN_PID" 2>/dev/null
	fi
	wait 2>/dev/null
	rm -rf "$run"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
# hard limit for the whole run
(
	trap 'kill $s 2>/dev/null; exit 0' TERM
	sleep "${DAQS_DAQSD_E2E_TIMEOUT:-420}" & s=$!
	wait $s
	echo "# daqsd-e2e: timed out" >&2
	kill -TERM $$
) &
WATCHDOG=$!
FAKE_PIDS+=("$WATCHDOG")
: >"$build/daqsd.log"
start_daqsd

# vmf VM KEY: KEY of VM in `daqsctl -j vms` (empty if absent)
vmf() {
	{ "$daqsctl" -j vms socket "$ctl" 2>/dev/null | grep -o "{\"name\":\"$1\"[^}]*}" |
		grep -o "\"$2\":[^,}]*" | head -n 1 | cut -d: -f2- | tr -d '"'; } || true
}
# wait_for SECONDS COND: until the bash condition holds
wait_for() {
	local end=$(($(now_ms) + $1 * 1000))
	while [ "$(now_ms)" -lt $end ]; do
		eval "$2" && return 0
		sleep 0.05
	done
	return 1
}
# fake NAME ARGS...: a fake guest's socket in the channel dir
fake() {
	local n=$1
	shift
	mkdir -p "$ch/domain-$n"
	"$fakevm" "$@" "$ch/domain-$n/org.daqs.0" >"$build/fake-$n.log" 2>&1 &
	FAKE_PIDS+=($!)
	eval "FAKE_$(echo "$n" | tr -- '-' _)=$!"
}
unfake() {
	local v="FAKE_$(echo "$1" | tr -- '-' _)"
	kill "${!v}" 2>/dev/null || true
	wait "${!v}" 2>/dev/null || true
	rm -rf "$ch/domain-$1"
}

# --- vm1: the real guest ---------------------------------------------------------------------
res=$out/results.txt
mkdir -p "$ch/domain-1-vm1"
"$top/tests/qemu/run.sh" --kernel "$kv" --tests "$top/tests/e2e" \
	--module "$build/tree/kmod/daqs.ko" --bin "$daqsctl" \
	--bin "$top/daqsd/build/daqs-agent" --virtio-serial "$ch/domain-1-vm1/org.daqs.0" \
	--out "$out" --timeout "${DAQS_DAQSD_E2E_GUEST_TIMEOUT:-400}" daqsd.sh \
	>"$build/run.log" 2>&1 &
RUN_PID=$!

# marker TEXT SECONDS: the guest wrote "# daqsd-e2e: TEXT..."
marker() {
	local end=$((SECONDS + $2))
	while [ $SECONDS -lt $end ]; do
		grep -q "^# daqsd-e2e: $1" "$res" 2>/dev/null && return 0
		kill -0 "$RUN_PID" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}
# samples RATE N SECONDS: N of the guest's samples taken under limit RATE,
# after the line count in $mark, leaving out the first (its second may have
# begun under another limit); $s_wire and $s_iperf get their medians (bit/s,
# Mbit/s): TCG stalls now and then for a few hundred ms
mark=0
set_mark() { mark=$(wc -l <"$res" 2>/dev/null || echo 0); }
samples() {
	local end=$((SECONDS + $3)) got
	s_wire='' s_iperf=''
	while [ $SECONDS -lt $end ]; do
		got=$(tail -n +"$((mark + 1))" "$res" | grep "^# daqsd-e2e: s .* rate=$1 " | tail -n +2 | head -n "$2" || true)
		if [ "$(printf '%s\n' "$got" | grep -c .)" -ge "$2" ]; then
			s_wire=$(printf '%s\n' "$got" | sed 's/.* wire=\([0-9]*\).*/\1/' | sort -n | awk '{ v[NR] = $1 } END { printf "%.0f", v[int((NR + 1) / 2)] }')
			s_iperf=$(printf '%s\n' "$got" | sed -n 's/.* iperf=\([0-9.]*\).*/\1/p' | sort -n | awk '{ v[NR] = $1 } END { if (NR) printf "%.1f", v[int((NR + 1) / 2)] }')
			return 0
		fi
		sleep 0.2
	done
	return 1
}
mbit() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1e6 }'; }
# within X WANT PCT
within() { awk -v x="$1" -v w="$2" -v p="$3" 'BEGIN { exit !(x >= w * (1 - p / 100) && x <= w * (1 + p / 100)) }'; }

if ! marker ready 240; then
	not_ok guest_ready "no 'daqsd-e2e: ready' from the guest; run.sh said: $(tail -n 5 "$build/run.log" | tr '\n' '|')"
	echo "$pass passed, $fail failed"
	exit 1
fi
note "guest ready after $((SECONDS - t_start)) s"

# --- 1: vm1 alone: discovered, counters read, the whole capacity -----------------------------
check vm1_discovered_and_controlled 'wait_for 30 "[ \"\$(vmf vm1 controlled)\" = true ] && [ \"\$(vmf vm1 in_force_bps)\" = $capacity ]"' \
	"vm1: controlled=$(vmf vm1 controlled) in_force=$(vmf vm1 in_force_bps) source=$(vmf vm1 source)"
check vm1_found_in_channel_dir '[ "$(vmf vm1 source)" = libvirt ] && [ "$(vmf vm1 socket)" = "$ch/domain-1-vm1/org.daqs.0" ] && [[ "$(vmf vm1 device)" == veth0* ]]' \
	"source $(vmf vm1 source) socket $(vmf vm1 socket) device $(vmf vm1 device)"
set_mark
if samples $capacity 3 30; then
	d_rate=$(vmf vm1 rate_bps)
	note "vm1 alone: limit $(mbit $capacity) Mbit/s; guest measured $(mbit "$s_wire") Mbit/s on the wire (daqs tx_wire_bytes), iperf3 ${s_iperf:-?} Mbit/s goodput; daqsd measured $(mbit "${d_rate:-0}") Mbit/s, $(vmf vm1 samples) samples"
	check vm1_alone_gets_capacity 'within "$s_wire" $capacity 8' "$(mbit "$s_wire") Mbit/s measured, $(mbit $capacity) set"
	check daqsd_reads_guest_counters 'within "${d_rate:-0}" "$s_wire" 15' "daqsd $d_rate bit/s, guest $s_wire"
else
	not_ok vm1_alone_gets_capacity "no guest samples at rate $capacity: $(tail -n 3 "$res" | tr '\n' '|')"
fi

# --- 2: a second VM appears, then goes -------------------------------------------------------
t0=$(now_ms)
fake 2-vm2 -r 30000000
check vm2_discovered_and_limited 'wait_for 10 "[ \"\$(vmf vm2 controlled)\" = true ] && [ -n \"\$(vmf vm2 in_force_bps)\" ]"' \
	"vm2: $(vmf vm2 state) controlled=$(vmf vm2 controlled)"
note "vm2 (a fake guest, tests/tools/fakevm, sending up to 30 Mbit/s, min 10 Mbit/s): limited $(($(now_ms) - t0)) ms after its socket appeared"
wait_for 5 '[ "$(vmf vm1 limit_bps)" -lt $capacity ] && [ "$(vmf vm1 in_force_bps)" = "$(vmf vm1 limit_bps)" ]' || true
l1=$(vmf vm1 limit_bps) l2=$(vmf vm2 limit_bps) a1=$(vmf vm1 alloc_bps) a2=$(vmf vm2 alloc_bps)
note "with vm2: vm1 limit $(mbit "${l1:-0}") Mbit/s, vm2 limit $(mbit "${l2:-0}") Mbit/s (vm2 rate $(mbit "$(vmf vm2 rate_bps)") Mbit/s)"
check vm1_share_shrinks '[ "${l1:-0}" -ge 40000000 ] && [ "${l1:-0}" -lt $capacity ] && [ $((a1 + a2)) -le $((capacity * 101 / 100)) ]' "vm1 limit $l1 alloc $a1, vm2 limit $l2 alloc $a2"
set_mark
if samples "${l1:-0}" 3 30; then
	note "with vm2: guest measured $(mbit "$s_wire") Mbit/s (iperf3 ${s_iperf:-?}) under $(mbit "$l1") Mbit/s"
	check vm1_enforces_smaller_share 'within "$s_wire" "$l1" 8' "$(mbit "$s_wire") Mbit/s measured, $(mbit "$l1") set"
else
	not_ok vm1_enforces_smaller_share "no guest samples at rate $l1"
fi
t0=$(now_ms)
unfake 2-vm2
check vm2_dropped 'wait_for 10 "[ -z \"\$(vmf vm2 name)\" ]"' "vm2 still listed: $(vmf vm2 state)"
check vm1_gets_capacity_back 'wait_for 10 "[ \"\$(vmf vm1 in_force_bps)\" = $capacity ]"' "vm1 in force $(vmf vm1 in_force_bps)"
note "vm2 gone: dropped and vm1 back at $(mbit $capacity) Mbit/s in force $(($(now_ms) - t0)) ms after its socket went"
set_mark
samples $capacity 3 30 || s_wire=0
check vm1_sends_capacity_again 'within "$s_wire" $capacity 8' "$(mbit "${s_wire:-0}") Mbit/s measured"

# --- 3: garbage on other VMs' channels --------------------------------------------------------
sets0=$(vmf vm1 sets)
fake 3-vm3 -G -g 4096
fake 2-vm2 -r 30000000 -g 3000
sleep 5
note "garbage: vm3 (fake, only garbage): state $(vmf vm3 state), skipped_bytes $(vmf vm3 skipped_bytes), bad_frames $(vmf vm3 bad_frames), errors $(vmf vm3 errors), timeouts $(vmf vm3 timeouts), connects $(vmf vm3 connects)"
note "garbage: vm2 (fake, 3000 bytes of garbage after every 10th answer): state $(vmf vm2 state), controlled $(vmf vm2 controlled), skipped_bytes $(vmf vm2 skipped_bytes), bad_frames $(vmf vm2 bad_frames), gets $(vmf vm2 gets)"
check garbage_counted_vm3 '[ "$(vmf vm3 skipped_bytes)" -gt 0 ] && [ "$(vmf vm3 controlled)" = false ]' "vm3 skipped $(vmf vm3 skipped_bytes) controlled $(vmf vm3 controlled)"
check garbage_counted_vm2_still_controlled '[ "$(vmf vm2 skipped_bytes)" -gt 0 ] && [ "$(vmf vm2 controlled)" = true ]' "vm2 skipped $(vmf vm2 skipped_bytes) controlled $(vmf vm2 controlled)"
l1=$(vmf vm1 limit_bps)
check vm1_control_unaffected_by_garbage 'kill -0 $DAQSD_PID && [ "$(vmf vm1 lease_state)" = active ] && [ "$(vmf vm1 in_force_bps)" = "$l1" ] && [ "$(vmf vm1 sets)" -gt $((sets0 + 10)) ]' \
	"daqsd alive? lease $(vmf vm1 lease_state), in force $(vmf vm1 in_force_bps) vs limit $l1, sets $sets0 -> $(vmf vm1 sets)"
set_mark
samples "$l1" 3 20 || s_wire=0
check vm1_enforced_during_garbage 'within "$s_wire" "$l1" 8' "$(mbit "${s_wire:-0}") Mbit/s measured under $l1"
unfake 3-vm3
unfake 2-vm2
wait_for 10 '[ "$(vmf vm1 in_force_bps)" = $capacity ]' || true

# --- 4: kill -9 daqsd: the guest falls back at lease expiry --------------------------------------
fb=$(vmf vm1 fallback_bps)
session_open() {
	coproc CH { exec "$chdrive" -i -t 5000 "$ch/domain-1-vm1/org.daqs.0" 2>&1; }
}
session_close() {
	[ -n "${CH[1]:-}" ] && eval "exec ${CH[1]}>&-"
	wait "$CH_PID" 2>/dev/null || true
	CH_PID=''
}
reply='' rc=0
drive() {
	local line
	reply='' rc=99
	echo "> $*" >>"$build/chdrive.log"
	{ printf '%s\n' "$*" >&"${CH[1]}"; } 2>/dev/null || return 0
	while IFS= read -r -t 30 line <&"${CH[0]}"; do
		echo "  $line" >>"$build/chdrive.log"
		case $line in "end "*) rc=${line#end }; return 0 ;; esac
		reply+=$line$'\n'
	done
}
field() { { printf '%s' "$reply" | grep -m1 "^reply" | sed -n "s/.* $1=\([^ ]*\).*/\1/p"; } || true; }
: >"$build/chdrive.log"
t_kill=$(now_ms)
kill -9 "$DAQSD_PID"
wait "$DAQSD_PID" 2>/dev/null || true
DAQSD_PID=''
# the host end is free: chdrive takes it and watches vm1's device
sleep 0.02
session_open
drive wait-hello 5000
first_left='' t_fb='' n=0
while [ $n -lt 400 ]; do
	drive get dev veth0
	[ -z "$first_left" ] && first_left=$(field lease_left_ms) t_first=$(now_ms)
	if [ "$(field rate_bps)" = "$fb" ] && [ "$(field lease_state)" = expired ]; then
		t_fb=$(now_ms)
		break
	fi
	n=$((n + 1))
done
session_close
if [ -n "$t_fb" ]; then
	d_fb=$((t_fb - t_kill))
	note "kill -9 daqsd: vm1 at its fallback $(mbit "$fb") Mbit/s $d_fb ms after the kill (lease $lease_ms ms; lease_left_ms was ${first_left:-?} at the first GET, $((t_first - t_kill)) ms after the kill: expiry at $((t_first - t_kill + ${first_left:-0})) ms)"
	check fallback_at_lease_expiry '[ $d_fb -le $((lease_ms + 250)) ]' "$d_fb ms after the kill"
else
	not_ok fallback_at_lease_expiry "no fallback seen: $(printf '%s' "$reply" | tr '\n' '|' | cut -c1-300)"
fi
check guest_saw_fallback 'marker "fallback rate=$fb" 20' "no 'fallback' marker from the guest"
set_mark
samples "$fb" 3 20 || s_wire=0
check fallback_enforced 'within "$s_wire" "$fb" 8' "$(mbit "${s_wire:-0}") Mbit/s measured under $fb"
note "fallback: guest measured $(mbit "${s_wire:-0}") Mbit/s (iperf3 ${s_iperf:-?}) under $(mbit "$fb") Mbit/s"

# --- daqsd started again: control within 2 ticks (+ TCG) ------------------------------------------
# chdrive's disconnect is the test's own: the agent, in its reconnect
# backoff, drains what a host wrote while it was not looking, and a daqsd
# connecting within that window loses its first HELLO (a second: 3.4 s).
# A daqsd that was killed finds an agent that saw it go long before.
# The bound is the issue's: from daqsd's connection to vm1's socket to the
# guest reporting daqsd's limit in force under an active lease, both taken
# from daqsd's own clock (its -v lines "connected to ... N ms after daqsd
# started" and "+N ms after connect: GET answered: in force X (set X), lease
# active"), at most 2 ticks plus rtt_allow_ms for the TCG guest's round trips
# (HELLO, GET, SET and the GET that reads the limit back, in series;
# measured: HELLO 11-43 ms, the others 1-14 ms). The time from starting the process until daqsctl shows it is a
# note (process start, discovery, the poll's own 50 ms).
rtt_allow_ms=50
sleep 1.5
log_mark=$(wc -l <"$build/daqsd.log")
t_restart=$(now_ms)
start_daqsd
if wait_for 20 '[ "$(vmf vm1 controlled)" = true ] && [ "$(vmf vm1 lease_state)" = active ] && [ -n "$(vmf vm1 pushed_bps)" ] && [ "$(vmf vm1 in_force_bps)" = "$(vmf vm1 pushed_bps)" ]'; then
	d_back=$(($(now_ms) - t_restart))
	rlog=$(tail -n +"$((log_mark + 1))" "$build/daqsd.log")
	c_ms=$(printf '%s\n' "$rlog" | sed -n 's/^daqsd: vm vm1: connected to .* \([0-9]*\) ms after daqsd started$/\1/p' | head -n 1)
	d_conn=$(printf '%s\n' "$rlog" | sed -n 's/^daqsd: vm vm1: +\([0-9]*\) ms after connect: GET answered: in force \([0-9]*\) bit\/s (set \2), lease active$/\1/p' | head -n 1)
	note "daqsd restarted: connected to vm1 ${c_ms:-?} ms after its start; $(printf '%s\n' "$rlog" | grep -c 'ms after connect:') timed steps in daqsd.log:"
	printf '%s\n' "$rlog" | grep 'vm vm1: +[0-9]* ms after connect:\|tick pulled' | head -n 9 | sed 's/^daqsd: /#   /'
	note "daqsd restarted: vm1 under daqsd's limit again, lease active, as the guest reports, ${d_conn:-?} ms after daqsd connected (bound: 2 ticks of $tick_ms ms + $rtt_allow_ms ms for TCG round trips)"
	note "daqsd restarted: daqsctl shows it $d_back ms after the process was started (was 299-392 ms before the tick was pulled forward and the first SET read back)"
	check control_resumes_after_restart '[ -n "$d_conn" ] && [ "$d_conn" -le $((2 * tick_ms + rtt_allow_ms)) ]' "${d_conn:-no 'GET answered ... lease active' line} ms after connect"
	check control_seen_soon_after_start '[ $d_back -le $((2 * tick_ms + 800)) ]' "$d_back ms"
else
	not_ok control_resumes_after_restart "vm1: $(vmf vm1 state) controlled $(vmf vm1 controlled) lease $(vmf vm1 lease_state)"
fi
check guest_saw_control_again 'marker "control again" 20' "no 'control again' marker from the guest"

# --- 5: the agent killed with -9 in the guest and started again -----------------------------------
c0=$(vmf vm1 connects)
check guest_agent_killed 'marker "agent killed" 60' "no 'agent killed' from the guest"
t0=$(now_ms)
check agent_restart_recovered 'marker "agent recovered" 60' "no 'agent recovered' from the guest"
note "$(grep '^# daqsd-e2e: agent recovered' "$res" | sed 's/^# daqsd-e2e: //')"
check daqsd_controls_after_agent_restart 'wait_for 10 "[ \"\$(vmf vm1 controlled)\" = true ] && [ \"\$(vmf vm1 lease_state)\" = active ] && [ \"\$(vmf vm1 in_force_bps)\" = \"\$(vmf vm1 limit_bps)\" ]"' \
	"vm1 $(vmf vm1 state) lease $(vmf vm1 lease_state) in force $(vmf vm1 in_force_bps) limit $(vmf vm1 limit_bps)"
note "daqsd's view of vm1 after the agent restart: connects $c0 -> $(vmf vm1 connects), timeouts $(vmf vm1 timeouts), stalls $(vmf vm1 stalls), bad_frames $(vmf vm1 bad_frames), skipped_bytes $(vmf vm1 skipped_bytes), lease_expired $(vmf vm1 lease_expired), sets $(vmf vm1 sets)"

# --- the guest's verdict -----------------------------------------------------------------------------
grc=0
wait "$RUN_PID" || grc=$?
RUN_PID=''
kill "$DAQSD_PID" 2>/dev/null || true
wait "$DAQSD_PID" 2>/dev/null || true
DAQSD_PID=''
note "guest side (tests/qemu/run.sh, exit $grc):"
grep -E '^(ok |not ok |daqs-e2e: )' "$build/run.log" | sed 's/^daqs-e2e: /# guest: /' || true
gline=$(sed -n 's/^daqs-e2e: \([0-9]*\) passed, \([0-9]*\) failed.*/\1 \2/p' "$build/run.log" | tail -n 1)
if [ -n "$gline" ]; then
	pass=$((pass + ${gline% *}))
	fail=$((fail + ${gline#* }))
else
	not_ok guest_verdict "run.sh ended without a summary (exit $grc)"
fi
[ "$grc" = 0 ] || [ "${gline#* }" != 0 ] || not_ok guest_run "run.sh exit $grc"
note "logs: $build (daqsd.log, fake-*.log, chdrive.log, run.log, out/); $((SECONDS - t_start)) s in all"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
