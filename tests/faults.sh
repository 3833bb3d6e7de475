#!/bin/bash
# shellcheck disable=SC2016,SC2034,SC2155
# faults.sh [--kernel SERIES] [--seed N] [--only PARTS]: fault injection,
# each fault repeated, counted and judged. One QEMU guest (TCG, Debian's
# SERIES kernel, 6.1 default) with daqs.ko, daqs-agent on its port
# org.daqs.0 and the guest scripts of tests/faults/; daqsd on the host.
# PARTS (comma-separated, default all): kills, reload, teardown, flood,
# hotplug.
#
#   kills     under traffic: daqs-agent killed with -9 (by the guest) and
#             daqsd killed with -9 (by this script), each at random moments
#             (seeded), FAULTS_AGENT_KILLS and FAULTS_DAQSD_KILLS times
#             (default 100 each); after each kill the guest keeps its last
#             limit until the lease expires, then falls back, never runs
#             unlimited or under a limit daqsd did not set, keeps one
#             binding, and control resumes within 2 ticks (+ an allowance
#             for TCG round trips) of the restart. Then FAULTS_PORT_CYCLES
#             (100) times a host connects, floods GETs and drops the
#             connection: the agent answers the next host every time.
#   reload    rmmod/modprobe daqs FAULTS_RELOADS (100) times under traffic,
#             with the egress static keys held by tests/faults/keyhold (so
#             no reload patches the kernel's text: under QEMU 7.2 that hung a
#             guest, docs/faults.md); FAULTS_RELOAD_KEYS=own leaves them to
#             daqs.ko alone
#   teardown  the bound device, a bond's slave and a namespace deleted under traffic,
#             FAULTS_TEARDOWNS (10) times each
#   flood     FAULTS_FLOOD_S (60) seconds of UDP far above the limit, shape
#             and police: memory bounded, every datagram accounted for
#   hotplug   seed 003's live migration: the NIC hot-unplugged and a new one
#             with its MAC plugged (QMP device_del/device_add),
#             FAULTS_HOTPLUGS (5) times alone and as many under a bond:
#             the binding re-applies before the new device's first packet
#
# The seed (random unless --seed or FAULTS_SEED) is printed first; the same
# seed gives the same kill moments. "ok"/"not ok" lines, "# " notes with the
# numbers (distributions of fall-back and resume times), and "N passed,
# N failed" for the host's checks and the guest's together.
#
# Host and guest talk over a second virtio-serial port, org.daqs.faults: the
# guest's tests/tools/timeline stamps what the host writes and what the
# limit did (tests/faults/faults.inc); the host stamps every line it reads
# back with its own clock (timeline.txt in the build dir).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
series=6.1 seed=${FAULTS_SEED:-} only=kills,reload,teardown,flood,hotplug
while [ $# -gt 0 ]; do
	case $1 in
	--kernel) series=$2; shift ;;
	--seed) seed=$2; shift ;;
	--only) only=$2; shift ;;
	*) echo "usage: $0 [--kernel SERIES] [--seed N] [--only kills,reload,teardown,flood,hotplug]" >&2; exit 2 ;;
	esac
	shift
done
[ -n "$seed" ] || seed=$((($(date +%s%N) / 1000) % 1000000))
[[ $seed =~ ^[0-9]+$ ]] || { echo "--seed: a number" >&2; exit 2; }
echo "# faults: seed $seed (again: $0 --seed $seed${only:+ --only $only})"
RANDOM=$seed
N_AGENT=${FAULTS_AGENT_KILLS:-100} N_DAQSD=${FAULTS_DAQSD_KILLS:-100}
N_PORT=${FAULTS_PORT_CYCLES:-100} N_RELOAD=${FAULTS_RELOADS:-100}
N_TEARDOWN=${FAULTS_TEARDOWNS:-10} FLOOD_S=${FAULTS_FLOOD_S:-60}
N_HOTPLUG=${FAULTS_HOTPLUGS:-5} RELOAD_KEYS=${FAULTS_RELOAD_KEYS:-held}
[[ $RELOAD_KEYS =~ ^(held|own)$ ]] || { echo "FAULTS_RELOAD_KEYS: held or own" >&2; exit 2; }
has() { [[ ,$only, == *,$1,* ]]; }
t_start=$SECONDS

kv=$("$top/tests/qemu/kernel.sh" "$series")
build=$top/build/faults-$kv
# shellcheck source=lib/guest-build.sh
. "$top/tests/lib/guest-build.sh"
guest_build "$top" "$kv" "$build"
guest_build_tool "$top" "$build" chdrive "$top/daqsd/channel.c" "$top/daqsd/units.c"
for t in sample ucat udpflood timeline; do
	guest_build_tool "$top" "$build" "$t"
done
guest_build_keyhold "$top" "$kv" "$build"
daqsd=$top/daqsd/build/daqsd daqsctl=$top/daqsd/build/daqsctl
chdrive=$build/chdrive ucat=$build/ucat

# --- results -------------------------------------------------------------------------
# shellcheck source=lib/results.sh
. "$top/tests/lib/results.sh"
# dist NAME UNIT < numbers
dist() {
	sort -n | awk -v name="$1" -v unit="$2" '{ v[NR] = $1 }
		END {
			if (!NR) { printf "%s: n 0\n", name; exit }
			printf "%s: n %d, min %s, median %s, p90 %s, max %s %s\n", name, NR,
				v[1], v[int((NR + 1) / 2)], v[int((NR * 9 + 9) / 10)], v[NR], unit
		}'
}
# msleep MS
msleep() { sleep "$(awk -v m="$1" 'BEGIN { printf "%.3f", m / 1000 }')"; }

# --- the host: daqsd with a libvirt-like channel dir -------------------------------------
# short paths: a unix socket's path is at most 107 bytes
run=$(mktemp -d /tmp/daqs-faults.XXXXXX)
ch=$run/ch ctl=$run/ctl.sock conf=$run/daqsd.conf out=$build/out
port=$run/f.sock qmp_sock=$run/qmp.sock vsock=$ch/domain-1-vm1/org.daqs.0
mkdir -p "$ch/domain-1-vm1"
rm -rf "$out"
mkdir -p "$out"
tick_ms=100 lease_ms=1000 min_mbit=20
write_conf() {
	cat >"$conf" <<EOF
[daqsd]
capacity = ${1}mbit
policy = minimum_guarantee
tick = ${tick_ms}ms
lease = ${lease_ms}ms
channel_dir = $ch
control_socket = $ctl

[vm vm1]
min = ${min_mbit}mbit
device = veth0
EOF
}
DAQSD_PID='' RUN_PID='' PORT_PID='' QMP_PID='' WATCHDOG=''
start_daqsd() {
	"$daqsd" -v -c "$conf" >>"$build/daqsd.log" 2>&1 &
	DAQSD_PID=$!
}
cleanup() {
	local rc=$? p
	trap - EXIT
	[ -n "$DAQSD_PID" ] && kill "$DAQSD_PID" 2>/dev/null || true
	for p in "$PORT_PID" "${QMP_PID:-}" "$WATCHDOG"; do
		[ -n "$p" ] && kill "$p" 2>/dev/null || true
	done
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

# the guest's scripts, their parameters, and a time limit scaled to them
tests=() budget=120
has kills && tests+=(kills.sh) && budget=$((budget + (N_AGENT + N_DAQSD) * 4 + N_PORT * 2 + 60))
has reload && tests+=(reload.sh) && budget=$((budget + N_RELOAD * 3 + 60))
has teardown && tests+=(teardown.sh) && budget=$((budget + N_TEARDOWN * 8 + 60))
has flood && tests+=(flood.sh) && budget=$((budget + FLOOD_S * 3 + 90))
has hotplug && tests+=(hotplug.sh) && budget=$((budget + N_HOTPLUG * 30 + 60))
[ ${#tests[@]} -gt 0 ] || { echo "--only: none of kills,reload,teardown,flood,hotplug" >&2; exit 2; }
slow=1
[[ $kv == *-daqs-debug ]] && slow=4
budget=$((budget * slow))
append="faults_seed=$seed faults_agent_kills=$N_AGENT faults_reloads=$N_RELOAD"
append+=" faults_teardowns=$N_TEARDOWN faults_flood_s=$FLOOD_S faults_hotplugs=$N_HOTPLUG"
append+=" faults_lease_ms=$lease_ms faults_tick_ms=$tick_ms faults_reload_keys=$RELOAD_KEYS"
(
	trap 'kill $s 2>/dev/null; exit 0' TERM
	sleep "$((budget + 120))" & s=$!
	wait $s
	echo "# faults: timed out" >&2
	kill -TERM $$
) &
WATCHDOG=$!
: >"$build/daqsd.log"
"$top/tests/qemu/run.sh" --kernel "$kv" --tests "$top/tests/faults" \
	--file "$top/tests/e2e/lib.sh:tests/lib.sh" \
	--module "$build/tree/kmod/daqs.ko" --module "$build/keyhold/daqs_keyhold.ko" --bin "$daqsctl" --bin "$top/daqsd/build/daqs-agent" \
	--bin "$build/sample" --bin "$build/udpflood" --bin "$build/timeline" \
	--virtio-serial "$vsock" --virtio-serial "$port,org.daqs.faults" --qmp "$qmp_sock" \
	--append "$append" --out "$out" --timeout "$budget" "${tests[@]}" \
	>"$build/run.log" 2>&1 &
RUN_PID=$!

# --- the control port: what the guest's timeline says, stamped (µs) here --------------
tl=$build/timeline.txt
: >"$tl"
mkfifo "$run/to-guest"
exec 7<>"$run/to-guest"
{
	"$ucat" -t 120000 "$port" <"$run/to-guest" | while IFS= read -r l; do
		printf '%s %s\n' "${EPOCHREALTIME/./}" "$l"
	done >>"$tl"
} &
PORT_PID=$!
# to_guest TEXT: a line for the guest (stamped there as "host TEXT")
to_guest() { printf '%s\n' "$*" >&7; }
# gmark TEXT SECONDS: the guest marked TEXT (a prefix)
gmark() {
	local end=$((SECONDS + $2))
	while [ $SECONDS -lt $end ]; do
		grep -q "^[0-9]* [0-9]* ev mark $1" "$tl" && return 0
		kill -0 "$RUN_PID" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}
wait_for() {
	local end=$(($(now_ms) + $1 * 1000))
	while [ "$(now_ms)" -lt $end ]; do
		eval "$2" && return 0
		sleep 0.02
	done
	return 1
}
VMS_SNAP=''
vmf() {
	local j=$VMS_SNAP o
	[ -n "$j" ] || j=$("$daqsctl" -j vms socket "$ctl" 2>&1) || true
	o=$(printf '%s' "$j" | grep -o "{\"name\":\"$1\"[^}]*}" || true)
	{ printf '%s' "$o" | grep -o "\"$2\":[^,}]*" | head -n 1 | cut -d: -f2- | tr -d '"'; } || true
}
# in_force BPS: daqsd says vm1 has BPS in force under an active lease (one snapshot)
in_force() {
	local r=1
	VMS_SNAP=$("$daqsctl" -j vms socket "$ctl" 2>&1) || true
	[ "$(vmf vm1 lease_state)" = active ] && [ "$(vmf vm1 in_force_bps)" = "$1" ] && r=0
	VMS_SNAP=''
	return $r
}
guest_gone() {
	not_ok "$1" "the guest stopped: $(tail -n 5 "$build/run.log" | tr '\n' '|')"
}

# --- kills ------------------------------------------------------------------------------
if has kills; then
	caps=(40 50 60 70)
	cap=60
	write_conf $cap
	start_daqsd
	if ! gmark "controlled" $((300 * slow)); then
		guest_gone kills_guest_controlled
	else
		note "guest controlled by daqsd $((SECONDS - t_start)) s after the start"
		if gmark "agent-kills end" $(((N_AGENT * 5 + 60) * slow)); then
			note "agent kills done ($N_AGENT, by the guest); daqsd's view of vm1: connects $(vmf vm1 connects), timeouts $(vmf vm1 timeouts), stalls $(vmf vm1 stalls), lease_expired $(vmf vm1 lease_expired), sets $(vmf vm1 sets)"
		else
			guest_gone agent_kills_done
		fi
		gmark "daqsd-kills begin" $((120 * slow)) || guest_gone daqsd_kills_begin
		# daqsd's own measure (as tests/daqsd-e2e.sh): from its connection to
		# vm1's socket until the guest reports daqsd's limit in force under
		# an active lease, on daqsd's clock; bound 2 ticks + rtt_allow_ms
		# for the TCG round trips (HELLO, GET, SET and the GET reading it back)
		rtt_allow_ms=50
		: >"$build/daqsd-resume.txt"
		: >"$build/daqsd-seen.txt"
		k=0 miss=0 t0=$SECONDS
		while [ $k -lt "$N_DAQSD" ]; do
			k=$((k + 1))
			msleep $((RANDOM % 300))
			to_guest "daqsd-kill $k"
			kill -9 "$DAQSD_PID"
			wait "$DAQSD_PID" 2>/dev/null || true
			DAQSD_PID=''
			msleep $((RANDOM % (lease_ms * 6 / 5)))
			cap=${caps[$((RANDOM % 4))]}
			write_conf "$cap"
			log_mark=$(wc -l <"$build/daqsd.log")
			to_guest "daqsd-start $k cap=$((cap * 1000000))"
			t_restart=$(now_ms)
			start_daqsd
			if wait_for 10 "in_force $((cap * 1000000))"; then
				echo $(($(now_ms) - t_restart)) >>"$build/daqsd-seen.txt"
			else
				miss=$((miss + 1))
			fi
			# from its first connection to vm1's socket (a connection
			# that got nowhere counts against it) until in force
			d_conn=$(tail -n +"$((log_mark + 1))" "$build/daqsd.log" | awk '
				/^daqsd: vm vm1: connected to .* ms after daqsd started$/ {
					c = $(NF - 4); if (first == "") first = c }
				/^daqsd: vm vm1: \+[0-9]+ ms after connect: GET answered: in force [0-9]+ bit\/s \(set [0-9]+\), lease active$/ {
					m = $4; sub(/^\+/, "", m); set = $15; sub(/\),$/, "", set)
					if (set != $12) next
					print c - first + m; exit
				}')
			echo "${d_conn:-99999}" >>"$build/daqsd-resume.txt"
		done
		to_guest "go daqsd-kills-done"
		note "daqsd kills: $k in $((SECONDS - t0)) s (seed $seed)"
		note "$(dist "daqsd-kills: control resumed after daqsd connected (daqsd's clock, bound $((2 * tick_ms + rtt_allow_ms)) ms)" ms <"$build/daqsd-resume.txt")"
		note "$(dist "daqsd-kills: the new limit in force, seen by daqsctl, after the process started" ms <"$build/daqsd-seen.txt")"
		check daqsd_kills_count '[ $k = "$N_DAQSD" ]' "$k of $N_DAQSD"
		check daqsd_kills_new_limit_in_force_every_time '[ $miss = 0 ]' "$miss restarts without the new limit in force in 10 s"
		max=$(sort -n "$build/daqsd-resume.txt" | tail -n 1)
		timed daqsd_kills_resume_within_2_ticks_plus_rtt '[ "${max:-99999}" -le $((2 * tick_ms + rtt_allow_ms)) ]' \
			"$(awk -v b=$((2 * tick_ms + rtt_allow_ms)) '$1 > b { n++ } END { print n + 0 }' "$build/daqsd-resume.txt") of $k over the bound, max $max ms"

		# --- the port closed by the host under load, opened again ----------------------
		gmark "port begin" $((120 * slow)) || guest_gone port_begin
		kill "$DAQSD_PID" 2>/dev/null || true
		wait "$DAQSD_PID" 2>/dev/null || true
		DAQSD_PID=''
		sleep 0.3
		: >"$build/port.log"
		: >"$build/port-hello.txt"
		k=0 bad=0 stale=0 t0=$SECONDS
		while [ $k -lt "$N_PORT" ]; do
			k=$((k + 1))
			base=$((k * 1000000))
			# a host floods 400 GETs and goes away while they are answered
			"$chdrive" -s "$base" -t 3000 "$vsock" 'flood 200 dev veth0' >>"$build/port.log" 2>&1 &
			p=$!
			msleep $((20 + RANDOM % 150))
			kill -9 "$p" 2>/dev/null || true
			wait "$p" 2>/dev/null || true
			# the next host: answered, and only its own answers counted
			o=$("$chdrive" -s $((base + 500000)) -t 3000 "$vsock" hello 'get dev veth0' 'sleep 100' 2>&1) && r=0 || r=$?
			printf '=== %s\n%s\n' "$k" "$o" >>"$build/port.log"
			if [ "$r" != 0 ] || [[ $o != *"reply hello"*"reply get"*dev=veth0* ]]; then
				bad=$((bad + 1))
			else
				printf '%s\n' "$o" | sed -n 's/^reply hello .*rtt_ms=\([0-9]*\).*/\1/p' >>"$build/port-hello.txt"
			fi
			stale=$((stale + $(printf '%s\n' "$o" | grep -c '^stale' || true)))
		done
		to_guest "go port-done"
		note "port: $k host connections dropped under a flood of GETs in $((SECONDS - t0)) s; $stale stale answers to an earlier host ignored"
		note "$(dist "port: the next host's HELLO answered after" ms <"$build/port-hello.txt")"
		check port_cycles_count '[ $k = "$N_PORT" ]' "$k of $N_PORT"
		check port_next_host_answered_every_time '[ $bad = 0 ]' "$bad of $k next hosts not answered (see $build/port.log)"
		# the agent answers what the dropped host left first (up to 200
		# GETs): it cannot tell them from the next host's, whose "port
		# open" comes late; bound: daqsd's stall timeout, after which a
		# daqsd would connect again
		max=$(sort -n "$build/port-hello.txt" | tail -n 1)
		timed port_hello_within_3s '[ "${max:-99999}" -lt 3000 ]' "max $max ms"
	fi
fi

# --- hotplug: QMP device_del / device_add ---------------------------------------------------
if has hotplug; then
	coproc QMP { exec "$ucat" -t 120000 "$qmp_sock"; }
	: >"$build/qmp.log"
	qmp_events=''
	# qmp JSON: 0 on "return", 1 on "error"; events go to $qmp_events
	qmp() {
		local l
		printf '%s\n' "$1" >&"${QMP[1]}"
		echo "> $1" >>"$build/qmp.log"
		while IFS= read -r -t 30 l <&"${QMP[0]}"; do
			echo "< $l" >>"$build/qmp.log"
			case $l in
			*'"return"'*) return 0 ;;
			*'"error"'*) return 1 ;;
			*'"event"'*) qmp_events+=$l$'\n' ;;
			esac
		done
		return 1
	}
	# qmp_event TEXT SECONDS: an event line containing TEXT (consumed)
	qmp_event() {
		local l end=$((SECONDS + $2))
		if [[ $qmp_events == *"$1"* ]]; then
			qmp_events=''
			return 0
		fi
		while [ $SECONDS -lt $end ] && IFS= read -r -t "$2" l <&"${QMP[0]}"; do
			echo "< $l" >>"$build/qmp.log"
			[[ $l == *"$1"* ]] && { qmp_events=''; return 0; }
		done
		return 1
	}
	read -r -t 60 greeting <&"${QMP[0]}" || true
	echo "< $greeting" >>"$build/qmp.log"
	nic() { printf '{"execute":"device_add","arguments":{"driver":"virtio-net-pci","netdev":"%s","mac":"%s","id":"%s"}}' "$1" "$2" "$3"; }
	if ! qmp '{"execute":"qmp_capabilities"}'; then
		not_ok hotplug_qmp "no QMP on $qmp_sock"
	elif ! gmark "hotplug begin" $((1800 * slow)); then
		guest_gone hotplug_begin
	else
		e=0
		for i in 0 1 2; do
			qmp "{\"execute\":\"netdev_add\",\"arguments\":{\"type\":\"hubport\",\"id\":\"hp$i\",\"hubid\":1}}" || e=1
		done
		qmp "$(nic hp0 52:54:00:fa:00:01 vf0)" && qmp "$(nic hp1 52:54:00:fa:00:02 peer0)" &&
			qmp "$(nic hp2 52:54:00:fa:00:03 bk0)" || e=1
		check hotplug_qmp_nics_added '[ $e = 0 ]' "see $build/qmp.log"
		to_guest "go nics"
		: >"$build/hotplug.txt"
		k=0 e=0
		while [ $k -lt $((2 * N_HOTPLUG)) ]; do
			k=$((k + 1))
			gmark "hp-ready $k " $((120 * slow)) || { guest_gone "hotplug_ready_$k"; break; }
			t0=$(now_ms)
			qmp '{"execute":"device_del","arguments":{"id":"vf0"}}' || e=$((e + 1))
			qmp_event '"device": "vf0"' 30 || e=$((e + 1))
			t1=$(now_ms)
			# a new one once the guest has looked at the old one's binding
			gmark "hp-gone $k " $((120 * slow)) || { guest_gone "hotplug_gone_$k"; break; }
			t2=$(now_ms)
			qmp "$(nic hp0 52:54:00:fa:00:01 vf0)" || e=$((e + 1))
			t3=$(now_ms)
			echo "$k $((t1 - t0)) $((t3 - t2))" >>"$build/hotplug.txt"
			gmark "hp-done $k " $((120 * slow)) || { guest_gone "hotplug_done_$k"; break; }
		done
		note "$(cut -d' ' -f2 "$build/hotplug.txt" | dist "hotplug: device_del until QEMU's DEVICE_DELETED (the guest ejected it)" ms)"
		note "$(cut -d' ' -f3 "$build/hotplug.txt" | dist "hotplug: device_add answered after" ms)"
		check hotplug_qmp_cycles '[ $k = $((2 * N_HOTPLUG)) ] && [ $e = 0 ]' "$k cycles, $e QMP failures (see $build/qmp.log)"
	fi
fi

# --- the guest's verdict ---------------------------------------------------------------------
grc=0
wait "$RUN_PID" || grc=$?
RUN_PID=''
guest_verdict "$grc" "$build/run.log"
note "seed $seed; logs: $build (timeline.txt, daqsd.log, port.log, qmp.log, run.log, out/); $((SECONDS - t_start)) s in all"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
