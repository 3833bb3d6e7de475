#!/bin/bash
# shellcheck disable=SC2016,SC2034,SC2155
# daqsd-e2e.sh [--kernel SERIES]: daqsd on the host, natively, controlling
# real guests. vm1 and vm2 are QEMU (TCG, Debian's SERIES kernel, 6.1
# default) with daqs.ko and daqs-agent on their virtio-serial port
# org.daqs.0, whose unix sockets are in a libvirt-like channel dir
# (<dir>/domain-N-vmN/org.daqs.0), found by daqsd through inotify; each
# guest sends unlimited iperf3 over its veth0 (tests/e2e/daqsd.sh) and
# reports what it measures once a second on its result port. vm1 runs
# throughout; vm2 (1 vCPU) is started and stopped while it runs. Two more
# "VMs" are fake guests played on the host by tests/tools/fakevm (a unix
# socket in the channel dir): vm3 sends nothing but garbage, vm4 garbage
# between its answers.
#
# Shown and checked: daqsd's limit is what vm1 sends (vm1 alone gets the
# capacity); vm2 starting is discovered and limited, vm1's share shrinks,
# each guest measures its own limit; vm2 writes garbage into its own port
# (its agent stopped): counted, vm1's control goes on, vm2 is controlled
# again when its agent is back; vm2 stopping is noticed and vm1 gets the
# capacity back; kill -9 daqsd: vm1 falls back at lease expiry; daqsd
# started again: control within 2 ticks; the agent killed with -9 and
# started again: control again.
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
# shellcheck source=lib/results.sh
. "$top/tests/lib/results.sh"

# --- the host: daqsd with a libvirt-like channel dir -------------------------------------
# short paths: a unix socket's path is at most 107 bytes
run=$(mktemp -d /tmp/daqsd-e2e.XXXXXX)
ch=$run/ch ctl=$run/ctl.sock conf=$run/daqsd.conf out=$build/out out2=$build/out-vm2
mkdir -p "$ch"
rm -rf "$out" "$out2"
mkdir -p "$out" "$out2"
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
device = veth0
EOF
DAQSD_PID='' RUN_PID='' RUN2_PID='' CH_PID='' FAKE_PIDS=()
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
	for p in "$RUN_PID" "$RUN2_PID"; do
		if [ -n "$p" ] && kill -0 "$p" 2>/dev/null; then
			kill -TERM "$p" 2>/dev/null
			wait "$p" 2>/dev/null
		fi
	done
	wait 2>/dev/null
	rm -rf "$run"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
# hard limit for the whole run
(
	trap 'kill $s 2>/dev/null; exit 0' TERM
	sleep "${DAQS_DAQSD_E2E_TIMEOUT:-600}" & s=$!
	wait $s
	echo "# daqsd-e2e: timed out" >&2
	kill -TERM $$
) &
WATCHDOG=$!
FAKE_PIDS+=("$WATCHDOG")
: >"$build/daqsd.log"
: >"$build/vmf-miss.log"
start_daqsd

VMS_SNAP=''
# vmf VM KEY: KEY of VM in `daqsctl -j vms` (empty if absent)
# (from the snapshot in $VMS_SNAP when set: fields read together)
vmf() {
	local j=$VMS_SNAP o try
	# a failed daqsctl call is retried (on CI's loaded host one call once
	# returned nothing for vm1 alone); each failure is logged
	for try in 1 2 3; do
		[ -z "$VMS_SNAP" ] || break
		j=$("$daqsctl" -j vms socket "$ctl" 2>&1) && break
		printf '%s %s %s: daqsctl failed (try %s): %s\n' "$(date +%T.%N)" "$1" "$2" "$try" "$j" >>"$build/vmf-miss.log"
		sleep 0.2
	done
	o=$(printf '%s' "$j" | grep -o "{\"name\":\"$1\"[^}]*}" || true)
	[ -n "$o" ] || printf '%s %s %s: %s\n' "$(date +%T.%N)" "$1" "$2" "$j" >>"$build/vmf-miss.log"
	{ printf '%s' "$o" | grep -o "\"$2\":[^,}]*" | head -n 1 | cut -d: -f2- | tr -d '"'; } || true
}
# snap COND: the bash condition over fields of one `daqsctl -j vms` (vmf
# calls in COND read the same snapshot: a limit and the limit in force read
# a moment apart can straddle a tick)
snap() {
	local r=1
	VMS_SNAP=$("$daqsctl" -j vms socket "$ctl" 2>&1) || true
	[ -n "$VMS_SNAP" ] && eval "$1" && r=0
	VMS_SNAP=''
	return $r
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

# marker TEXT SECONDS [RESULTS PID]: the guest (vm1, or the one whose
# results file and run.sh are given) wrote "# daqsd-e2e: TEXT..."
marker() {
	local end=$((SECONDS + $2)) f=${3:-$res} p=${4:-$RUN_PID}
	while [ $SECONDS -lt $end ]; do
		grep -q "^# daqsd-e2e: $1" "$f" 2>/dev/null && return 0
		kill -0 "$p" 2>/dev/null || return 1
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
# samples_avg N SECONDS: N samples after the line count in $mark (leaving
# out the first) taken under an active lease whose limit daqsd moves at
# every tick: the medians of the wire rate ($s_wire), of the limit averaged
# over each second ($s_avg) and of their ratio in % ($s_pct)
samples_avg() {
	local end=$((SECONDS + $2)) got
	s_wire='' s_avg='' s_pct=''
	while [ $SECONDS -lt $end ]; do
		got=$(tail -n +"$((mark + 1))" "$res" | grep "^# daqsd-e2e: s .* avg=[1-9][0-9]* lease=active " | tail -n +2 | head -n "$1" || true)
		if [ "$(printf '%s\n' "$got" | grep -c .)" -ge "$1" ]; then
			read -r s_wire s_avg s_pct < <(printf '%s\n' "$got" | sed 's/.* avg=\([0-9]*\) .* wire=\([0-9]*\).*/\1 \2/' |
				awk '{ a[NR] = $1; w[NR] = $2; p[NR] = $2 * 100 / $1 }
				function med(v, n,  i, j, t) { for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }; return v[int((n + 1) / 2)] }
				END { printf "%.0f %.0f %.1f\n", med(w, NR), med(a, NR), med(p, NR) }')
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
	# daqsd's rate_bps is its last tick's: a tick whose GET was answered
	# after it has none (under QEMU 10 one make check read it at such a
	# tick), so the median of the rates of 5 snapshots, 0.1 s apart
	d_rates=() d_none=0
	for _ in $(seq 30); do
		d_r=$(vmf vm1 rate_bps)
		if [ -n "$d_r" ]; then d_rates+=("$d_r"); else d_none=$((d_none + 1)); fi
		[ ${#d_rates[@]} -lt 5 ] || break
		sleep 0.1
	done
	d_rate=$(printf '%s\n' "${d_rates[@]}" | sort -n | awk 'NF { v[++n] = $1 } END { if (n) print v[int((n + 1) / 2)] }')
	note "vm1 alone: limit $(mbit $capacity) Mbit/s; guest measured $(mbit "$s_wire") Mbit/s on the wire (daqs tx_wire_bytes), iperf3 ${s_iperf:-?} Mbit/s goodput; daqsd measured $(mbit "${d_rate:-0}") Mbit/s (median of ${#d_rates[@]} snapshots; $d_none without a rate), $(vmf vm1 samples) samples"
	check vm1_alone_gets_capacity 'within "$s_wire" $capacity 8' "$(mbit "$s_wire") Mbit/s measured, $(mbit $capacity) set"
	check daqsd_reads_guest_counters 'within "${d_rate:-0}" "$s_wire" 15' "daqsd ${d_rates[*]:-nothing} bit/s ($d_none snapshots without a rate), guest $s_wire; last daqsctl miss: $(tail -n 1 "$build/vmf-miss.log" | cut -c1-200)"
else
	not_ok vm1_alone_gets_capacity "no guest samples at rate $capacity: $(tail -n 3 "$res" | tr '\n' '|')"
fi

# --- 2: a second VM starts, sends, writes garbage into its port, stops -------------------
# vm2 is a second QEMU guest (1 vCPU) with its own daqs.ko, daqs-agent and
# port; QEMU makes its socket when it starts, long before its agent runs (a
# daqsd connecting then waits for an answer to its HELLO); the guest side is
# tests/e2e/daqsd.sh with daqsd_role=vm2. Meanwhile a fake VM, vm3
# (tests/tools/fakevm -G), sends nothing but garbage on its channel.
res2=$out2/results.txt
t0=$(now_ms)
mkdir -p "$ch/domain-2-vm2"
"$top/tests/qemu/run.sh" --kernel "$kv" --tests "$top/tests/e2e" --smp 1 --mem 1G \
	--module "$build/tree/kmod/daqs.ko" --bin "$daqsctl" \
	--bin "$top/daqsd/build/daqs-agent" --virtio-serial "$ch/domain-2-vm2/org.daqs.0" \
	--append daqsd_role=vm2 --out "$out2" --timeout "${DAQS_DAQSD_E2E_GUEST_TIMEOUT:-400}" daqsd.sh \
	>"$build/run2.log" 2>&1 &
RUN2_PID=$!
check vm2_discovered 'wait_for 30 "[ -n \"\$(vmf vm2 name)\" ]"' "vm2 not listed; socket: $(ls "$ch/domain-2-vm2" 2>&1)"
note "vm2 (QEMU, 1 vCPU): listed by daqsd $(($(now_ms) - t0)) ms after its QEMU was started; state $(vmf vm2 state)"
if marker ready 240 "$res2" "$RUN2_PID"; then
	note "vm2: guest ready $(($(now_ms) - t0)) ms after its QEMU was started"
	check vm2_controlled 'marker controlled 60 "$res2" "$RUN2_PID"' "vm2 never saw a lease: daqsd says $(vmf vm2 state) controlled=$(vmf vm2 controlled)"
	note "vm2: $(grep '^# daqsd-e2e: controlled' "$res2" | sed 's/^# daqsd-e2e: //') (ms from the guest's agent start to daqsd's lease on veth0)"
else
	not_ok vm2_ready "no 'daqsd-e2e: ready' from vm2; run.sh said: $(tail -n 5 "$build/run2.log" | tr '\n' '|')"
fi
# vm2's skipped bytes before it writes garbage (it does 12 s after its lease)
sk0=$(vmf vm2 skipped_bytes)
fake 3-vm3 -G -g 4096
# and vm4 (fake): a guest whose answers come with 3000 bytes of garbage
# after every 10th
fake 4-vm4 -r 5000000 -g 3000
# both shares in force, read from one snapshot (vm1's limit and the one in
# force read apart can straddle a tick)
wait_for 10 'snap '"'"'[ "$(vmf vm1 limit_bps)" -lt $capacity ] && [ "$(vmf vm1 in_force_bps)" = "$(vmf vm1 limit_bps)" ] && [ "$(vmf vm2 limit_bps)" -ge 10000000 ]'"'" || true
snap 'l1=$(vmf vm1 limit_bps) l2=$(vmf vm2 limit_bps) a1=$(vmf vm1 alloc_bps) a2=$(vmf vm2 alloc_bps)' || true
note "with vm2: vm1 limit $(mbit "${l1:-0}") Mbit/s, vm2 limit $(mbit "${l2:-0}") Mbit/s (daqsd measures vm1 $(mbit "$(vmf vm1 rate_bps)"), vm2 $(mbit "$(vmf vm2 rate_bps)") Mbit/s)"
check vm1_share_shrinks '[ "${l1:-0}" -ge 40000000 ] && [ "${l1:-0}" -lt $capacity ] && [ "${l2:-0}" -ge 10000000 ] && [ $((a1 + a2)) -le $((capacity * 101 / 100)) ]' "vm1 limit $l1 alloc $a1, vm2 limit $l2 alloc $a2"
"$daqsctl" -j vms socket "$ctl" >"$build/vms-with-vm2.json" 2>&1 || true
set_mark
if samples_avg 5 30; then
	note "with vm2: vm1 measured $(mbit "$s_wire") Mbit/s on the wire under a limit of $(mbit "$s_avg") Mbit/s on average (medians of 5 seconds; wire/limit ${s_pct}%)"
	check vm1_enforces_smaller_share '[ "$s_avg" -ge 40000000 ] && [ "$s_avg" -lt $capacity ] && within "$s_wire" "$s_avg" 8' "$(mbit "$s_wire") Mbit/s measured, $(mbit "$s_avg") set"
else
	not_ok vm1_enforces_smaller_share "no samples from vm1: $(tail -n 3 "$res" | tr '\n' '|')"
fi
mark2=$mark mark=0 res_1=$res res=$res2
if samples_avg 5 30; then
	note "with vm1: vm2 measured $(mbit "$s_wire") Mbit/s on the wire under a limit of $(mbit "$s_avg") Mbit/s on average (wire/limit ${s_pct}%)"
	check vm2_enforces_its_share '[ "$s_avg" -ge 10000000 ] && within "$s_wire" "$s_avg" 8' "$(mbit "$s_wire") Mbit/s measured, $(mbit "$s_avg") set"
else
	not_ok vm2_enforces_its_share "no samples from vm2: $(grep ' s ' "$res2" | tail -n 3 | tr '\n' '|')"
fi
res=$res_1 mark=$mark2

# --- 3: garbage: vm2 writes it into its own port, vm3 sends only that -------------------
if marker garbage 90 "$res2" "$RUN2_PID"; then
	t_g=$(now_ms) sets0=$(vmf vm1 sets)
	note "vm2: $(grep '^# daqsd-e2e: garbage' "$res2" | sed 's/^# daqsd-e2e: //') (its agent stopped first)"
	wait_for 10 '[ "$(vmf vm2 skipped_bytes)" -gt "${sk0:-0}" ]' || true
	note "garbage: vm2 in daqsd: state $(vmf vm2 state), skipped_bytes ${sk0:-?} -> $(vmf vm2 skipped_bytes), bad_frames $(vmf vm2 bad_frames), errors $(vmf vm2 errors), timeouts $(vmf vm2 timeouts), stalls $(vmf vm2 stalls)"
	check garbage_from_vm2_counted '[ "$(vmf vm2 skipped_bytes)" -gt "${sk0:-0}" ]' "vm2 skipped_bytes ${sk0:-?} -> $(vmf vm2 skipped_bytes)"
	# daqsd pushes a limit when it changes or its lease needs renewing:
	# a few SETs in the next seconds, whatever vm2 sends, each read back
	# in force under an active lease (one snapshot: vm1's share moves
	# when vm2 comes back)
	vm1_ok() {
		kill -0 "$DAQSD_PID" && snap '[ "$(vmf vm1 lease_state)" = active ] &&
			[ "$(vmf vm1 in_force_bps)" = "$(vmf vm1 pushed_bps)" ] &&
			[ "$(vmf vm1 sets)" -gt $((sets0 + 3)) ]'
	}
	check vm1_control_unaffected_by_garbage 'wait_for 5 vm1_ok' \
		"daqsd alive? lease $(vmf vm1 lease_state), in force $(vmf vm1 in_force_bps) vs pushed $(vmf vm1 pushed_bps), sets $sets0 -> $(vmf vm1 sets)"
	check vm2_controlled_again_after_garbage 'marker recovered 60 "$res2" "$RUN2_PID"' "vm2: $(vmf vm2 state) controlled=$(vmf vm2 controlled) lease=$(vmf vm2 lease_state)"
	note "vm2: agent restarted after the garbage: $(grep '^# daqsd-e2e: recovered' "$res2" | sed 's/^# daqsd-e2e: //') (ms from its start to daqsd renewing the lease); $(($(now_ms) - t_g)) ms after the host saw the garbage marker"
	set_mark
	samples_avg 3 20 || s_wire=0 s_avg=1
	note "garbage: vm1 measured $(mbit "$s_wire") Mbit/s under $(mbit "$s_avg") Mbit/s on average"
	check vm1_enforced_during_garbage 'within "$s_wire" "$s_avg" 8' "$(mbit "${s_wire:-0}") Mbit/s measured under $s_avg"
else
	not_ok garbage_from_vm2 "no 'garbage' marker from vm2: $(tail -n 3 "$res2" | tr '\n' '|')"
fi
note "garbage: vm3 (fake, only garbage): state $(vmf vm3 state), controlled $(vmf vm3 controlled), skipped_bytes $(vmf vm3 skipped_bytes), bad_frames $(vmf vm3 bad_frames), errors $(vmf vm3 errors), timeouts $(vmf vm3 timeouts), connects $(vmf vm3 connects)"
check garbage_counted_vm3 '[ "$(vmf vm3 skipped_bytes)" -gt 0 ] && [ "$(vmf vm3 controlled)" = false ]' "vm3 skipped $(vmf vm3 skipped_bytes) controlled $(vmf vm3 controlled)"
note "garbage: vm4 (fake, 3000 bytes of garbage after every 10th answer): state $(vmf vm4 state), controlled $(vmf vm4 controlled), skipped_bytes $(vmf vm4 skipped_bytes), bad_frames $(vmf vm4 bad_frames), gets $(vmf vm4 gets)"
check garbage_counted_vm4_still_controlled '[ "$(vmf vm4 skipped_bytes)" -gt 0 ] && [ "$(vmf vm4 controlled)" = true ]' "vm4 skipped $(vmf vm4 skipped_bytes) controlled $(vmf vm4 controlled)"
unfake 3-vm3
unfake 4-vm4

# vm2 ends by itself and powers off; libvirt then removes its channel dir
grc2=0
check vm2_stopped 'marker done 120 "$res2" "$RUN2_PID"; wait "$RUN2_PID"; grc2=$?; [ $grc2 = 0 ]' "vm2's run.sh exit $grc2: $(tail -n 5 "$build/run2.log" | tr '\n' '|')"
RUN2_PID=''
t0=$(now_ms)
rm -rf "$ch/domain-2-vm2"
check vm2_dropped 'wait_for 10 "[ -z \"\$(vmf vm2 name)\" ]"' "vm2 still listed: $(vmf vm2 state)"
check vm1_gets_capacity_back 'wait_for 10 "[ \"\$(vmf vm1 in_force_bps)\" = $capacity ]"' "vm1 in force $(vmf vm1 in_force_bps)"
note "vm2 stopped: dropped and vm1 back at $(mbit $capacity) Mbit/s in force $(($(now_ms) - t0)) ms after its channel dir went"
set_mark
samples $capacity 3 30 || s_wire=0
check vm1_sends_capacity_again 'within "$s_wire" $capacity 8' "$(mbit "${s_wire:-0}") Mbit/s measured"
note "vm2 (guest side, exit $grc2):"
grep -E '^(ok |not ok )' "$res2" | sed 's/^/#   vm2: /' || true
g2=$(grep -c '^ok ' "$res2" || true) f2=$(grep -c '^not ok ' "$res2" || true)
pass=$((pass + g2)) fail=$((fail + f2))

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
# daqsd starts right after chdrive let go of the socket: the agent hears
# the new host at once (SIGIO) and loses none of its bytes (before, the
# agent drained the port between two looks and a HELLO was lost: 3.4 s).
# The bound is the issue's: from daqsd's connection to vm1's socket to the
# guest reporting daqsd's limit in force under an active lease, both taken
# from daqsd's own clock (its -v lines "connected to ... N ms after daqsd
# started" and "+N ms after connect: GET answered: in force X (set X), lease
# active"), at most 2 ticks plus rtt_allow_ms for the TCG guest's round trips
# (HELLO, GET, SET and the GET that reads the limit back, in series;
# measured: HELLO 11-43 ms, the others 1-14 ms), counted from daqsd's
# first connection (a HELLO lost and retried on a second one is not
# hidden). The time from starting the process until daqsctl shows it is a
# note (process start, discovery, the poll's own 50 ms on a busy host).
rtt_allow_ms=50
log_mark=$(wc -l <"$build/daqsd.log")
t_restart=$(now_ms)
start_daqsd
if wait_for 20 'snap '"'"'[ "$(vmf vm1 controlled)" = true ] && [ "$(vmf vm1 lease_state)" = active ] && [ -n "$(vmf vm1 pushed_bps)" ] && [ "$(vmf vm1 in_force_bps)" = "$(vmf vm1 pushed_bps)" ]'"'"; then
	d_back=$(($(now_ms) - t_restart))
	rlog=$(tail -n +"$((log_mark + 1))" "$build/daqsd.log")
	c_ms=$(printf '%s\n' "$rlog" | sed -n 's/^daqsd: vm vm1: connected to .* \([0-9]*\) ms after daqsd started$/\1/p' | head -n 1)
	d_conn=$(printf '%s\n' "$rlog" | sed -n 's/^daqsd: vm vm1: +\([0-9]*\) ms after connect: GET answered: in force \([0-9]*\) bit\/s (set \2), lease active$/\1/p' | head -n 1)
	# the connection that got control: the last one before that line (a
	# first connection whose HELLO went unanswered costs its timeout, and
	# counting from the next one would hide it)
	c_last=$(printf '%s\n' "$rlog" | awk '/^daqsd: vm vm1: connected to .* ms after daqsd started$/ { c = $(NF - 4) }
		/^daqsd: vm vm1: \+[0-9]* ms after connect: GET answered: .*lease active$/ { print c; exit }')
	n_conn=$(printf '%s\n' "$rlog" | grep -c '^daqsd: vm vm1: connected to ')
	note "daqsd restarted: connected to vm1 ${c_ms:-?} ms after its start; $(printf '%s\n' "$rlog" | grep -c 'ms after connect:') timed steps in daqsd.log:"
	printf '%s\n' "$rlog" | grep 'vm vm1: +[0-9]* ms after connect:\|tick pulled' | head -n 9 | sed 's/^daqsd: /#   /'
	note "daqsd restarted: vm1 under daqsd's limit again, lease active, as the guest reports, ${d_conn:-?} ms after daqsd connected (bound: 2 ticks of $tick_ms ms + $rtt_allow_ms ms for TCG round trips)"
	note "daqsd restarted: daqsctl shows it $d_back ms after the process was started (was 299-392 ms before the tick was pulled forward and the first SET read back)"
	d_ctl=$((${c_last:-0} - ${c_ms:-0} + ${d_conn:-0}))
	note "daqsd restarted: $n_conn connection(s) to vm1 until then; control $d_ctl ms after the first"
	check control_resumes_after_restart '[ -n "$d_conn" ] && [ "$d_ctl" -le $((2 * tick_ms + rtt_allow_ms)) ]' "${d_conn:-no 'GET answered ... lease active' line} ms after connect; $d_ctl ms after the first of $n_conn connections"
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
check daqsd_controls_after_agent_restart 'wait_for 10 "snap '"'"'[ \"\$(vmf vm1 controlled)\" = true ] && [ \"\$(vmf vm1 lease_state)\" = active ] && [ \"\$(vmf vm1 in_force_bps)\" = \"\$(vmf vm1 limit_bps)\" ]'"'"'"' \
	"vm1 $(vmf vm1 state) lease $(vmf vm1 lease_state) in force $(vmf vm1 in_force_bps) limit $(vmf vm1 limit_bps)"
note "daqsd's view of vm1 after the agent restart: connects $c0 -> $(vmf vm1 connects), timeouts $(vmf vm1 timeouts), stalls $(vmf vm1 stalls), bad_frames $(vmf vm1 bad_frames), skipped_bytes $(vmf vm1 skipped_bytes), lease_expired $(vmf vm1 lease_expired), sets $(vmf vm1 sets)"

# --- the guest's verdict -----------------------------------------------------------------------------
# daqsd goes first: vm1's lease expiring is the guest's signal that the host
# has looked at vm1 for the last time (before, the guest powered off right
# after its "agent recovered" and took vm1 away under the check above)
kill "$DAQSD_PID" 2>/dev/null || true
wait "$DAQSD_PID" 2>/dev/null || true
DAQSD_PID=''
grc=0
wait "$RUN_PID" || grc=$?
RUN_PID=''
guest_verdict "$grc" "$build/run.log" '^(ok |not ok |daqs-e2e: )'
note "logs: $build (daqsd.log, fake-*.log, chdrive.log, run.log, out/); $((SECONDS - t_start)) s in all"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
