#!/bin/bash
# agent-e2e.sh [--kernel SERIES]: daqs-agent in a real guest, driven over a
# real virtio-serial port. Builds daqs.ko for Debian's kernel SERIES (6.1
# default), daqsctl, daqs-agent and tests/tools/chdrive; boots the guest
# with --virtio-serial and tests/e2e/agent.sh, which loads daqs, starts the
# agent on org.daqs.0 and runs traffic over veth0; then plays the host with
# chdrive on QEMU's unix socket: HELLO, GET, SET with a lease and its
# expiry, garbage, a huge length, a bad checksum, disconnects, hosts
# taking turns as fast as they can (tests/tools/chswap), the agent killed
# with -9, DEL. The host's checks and the guest's (what the host did,
# seen in sysfs and measured with iperf3) are "ok"/"not ok" lines; the last
# line is "N passed, N failed" for both.
#
# Host and guest take turns: the guest writes "# agent-e2e: ..." markers on
# its result port (a file on the host); the host signals the guest's next
# phase by setting, through the agent, the rate of the guest's dummy ctl0
# to N mbit (see tests/e2e/agent.sh).
set -euo pipefail
# the checks are conditions in single quotes, evaluated by check()
# shellcheck disable=SC2016,SC2034
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
build=$top/build/agent-e2e-$kv
# shellcheck source=lib/guest-build.sh
. "$top/tests/lib/guest-build.sh"
guest_build "$top" "$kv" "$build"
guest_build_tool "$top" "$build" chdrive "$top/daqsd/channel.c" "$top/daqsd/units.c"
guest_build_tool "$top" "$build" chswap "$top/daqsd/channel.c"
chdrive=$build/chdrive
chswap=$build/chswap

# --- results ---------------------------------------------------------------------
# shellcheck source=lib/results.sh
. "$top/tests/lib/results.sh"

# --- the guest ---------------------------------------------------------------------
sock=$build/vport.sock out=$build/out
rm -rf "$out" "$sock"
mkdir -p "$out"
: >"$build/chdrive.log"
"$top/tests/qemu/run.sh" --kernel "$kv" --tests "$top/tests/e2e" \
	--module "$build/tree/kmod/daqs.ko" --bin "$top/daqsd/build/daqsctl" \
	--bin "$top/daqsd/build/daqs-agent" --virtio-serial "$sock" \
	--out "$out" --timeout "${DAQS_AGENT_E2E_TIMEOUT:-300}" agent.sh \
	>"$build/run.log" 2>&1 &
run_pid=$!
chd_pid=''
cleanup() {
	local rc=$?
	trap - EXIT
	[ -n "${chd_pid:-}" ] && kill "$chd_pid" 2>/dev/null
	if kill -0 "$run_pid" 2>/dev/null; then
		kill -TERM "$run_pid" 2>/dev/null
		wait "$run_pid" 2>/dev/null
	fi
	exit "$rc"
}
trap cleanup EXIT

# marker TEXT SECONDS: the guest wrote "# agent-e2e: TEXT..." on its result port
marker() {
	local end=$((SECONDS + $2))
	while [ $SECONDS -lt $end ]; do
		grep -q "^# agent-e2e: $1" "$out/results.txt" 2>/dev/null && return 0
		kill -0 "$run_pid" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# --- chdrive as a coprocess: one connection, one step at a time --------------------
# drive STEP: $reply gets the step's lines, $rc its result (0 answered, 2 an
# ERROR answer, 1 no answer, 3 expectation unmet, 99 chdrive died)
reply='' rc=0 chd_pid=''
session_open() {
	# sets CH (its stdout, stdin) and CH_PID, which bash unsets when it ends
	coproc CH { exec "$chdrive" -i -t 5000 "$sock" 2>&1; }
	chd_pid=$CH_PID
	echo "=== session (pid $chd_pid)" >>"$build/chdrive.log"
}
session_close() {
	if [ -n "${CH[1]:-}" ]; then
		eval "exec ${CH[1]}>&-"
	fi
	if [ -n "$chd_pid" ]; then
		wait "$chd_pid" 2>/dev/null || true
	fi
	chd_pid=''
}
drive() {
	local line
	reply='' rc=99
	echo "> $*" >>"$build/chdrive.log"
	if [ -z "${CH[1]:-}" ]; then
		# it exited (a violation ends it): the rest goes on in a new one
		session_close
		session_open
	fi
	if ! { printf '%s\n' "$*" >&"${CH[1]}"; } 2>/dev/null; then
		reply="chdrive is not running"
		return 0
	fi
	while IFS= read -r -t 60 line <&"${CH[0]}"; do
		echo "  $line" >>"$build/chdrive.log"
		case $line in
		"end "*) rc=${line#end }; return 0 ;;
		esac
		reply+=$line$'\n'
	done
	reply+="(chdrive died or hung)"
	return 0
}
# field NAME [LINE-PREFIX]: NAME=VALUE from the first reply line with the prefix
field() {
	{ printf '%s' "$reply" | grep -m1 "^${2:-reply}" |
		sed -n "s/.* $1=\([^ ]*\).*/\1/p"; } || true
}
why() { printf 'rc %s: %s' "$rc" "$(printf '%s' "$reply" | tr '\n' '|' | cut -c1-300)"; }

# --- 1: the agent answers ------------------------------------------------------------
if ! marker ready 180; then
	not_ok guest_ready "no 'agent-e2e: ready' from the guest; run.sh said: $(tail -n 5 "$build/run.log" | tr '\n' '|')"
	echo "$pass passed, $fail failed"
	exit 1
fi
note "guest ready after $((SECONDS - t_start)) s"
session_open
drive wait-hello 30000
check hello_answered '[ $rc = 0 ]' "$(why)"
check hello_version_1 '[ "$(field version)" = 1 ]' "$(why)"
check hello_module_loaded '[ "$(field module)" = 1 ]' "$(why)"
check hello_peer_is_agent '[[ "$(field peer)" == daqs-agent_* ]]' "$(why)"

# --- 2: GET, counters, guest time -------------------------------------------------------
drive set dev veth0 rate 20mbit
check set_creates_binding '[ $rc = 0 ]' "$(why)"
drive expect-event attached 3000 dev veth0
check event_attached '[ $rc = 0 ]' "$(why)"
drive get dev veth0
check get_answered '[ $rc = 0 ]' "$(why)"
check get_shows_rate '[ "$(field rate_bps)" = 20000000 ]' "$(why)"
tx1=$(field tx_bytes) ts1=$(field ts)
check get_has_stats_and_guest_ts '[[ $tx1 =~ ^[0-9]+$ && $ts1 =~ ^[1-9][0-9]*$ ]]' "$(why)"
drive sleep 500
drive get dev veth0
tx2=$(field tx_bytes) ts2=$(field ts)
check get_tx_bytes_grow_under_traffic '[[ $tx2 =~ ^[0-9]+$ ]] && [ "$tx2" -gt "${tx1:-0}" ]' \
	"tx_bytes $tx1 then $tx2"
dts_ms=$(( (${ts2:-0} - ${ts1:-0}) / 1000000 ))
check get_guest_ts_500ms_apart '[ $dts_ms -ge 450 ] && [ $dts_ms -lt 3000 ]' "guest timestamps $dts_ms ms apart"
if [ "$dts_ms" -gt 0 ]; then
	note "tx rate from two GETs: $(awk -v b=$((tx2 - tx1)) -v t=$dts_ms 'BEGIN { printf "%.1f", b * 8 / t / 1000 }') Mbit/s over $dts_ms ms of guest time (20 Mbit/s offered)"
fi
drive get
check get_all_bindings '[ "$(printf "%s" "$reply" | grep -c "^reply get .*dev=\(veth0\|ctl0\) ")" = 2 ]' "$(why)"
# 62 bindings: more than a frame holds, so several frames with MORE
nset=0
for i in $(seq 0 59); do
	drive set dev "d$i" rate 1mbit
	[ "$rc" = 0 ] && nset=$((nset + 1))
done
check set_60_more_bindings '[ $nset = 60 ]' "$nset of 60 answered"
drive get
check get_62_bindings_in_several_frames '[ "$(printf "%s" "$reply" | grep -c "^reply get .*dev=")" = 62 ] && [[ $reply == *"more=1"* ]]' \
	"$(printf "%s" "$reply" | grep -c "^reply get .*dev=") bindings: $(printf "%s" "$reply" | grep -c "more=1") with more=1"
ndel=0
for i in $(seq 0 59); do
	drive del dev "d$i"
	[ "$rc" = 0 ] && ndel=$((ndel + 1))
done
check del_60_bindings '[ $ndel = 60 ]' "$ndel of 60 answered"

# --- 3: a lease, unrenewed ----------------------------------------------------------------
drive set dev veth0 rate 50mbit lease 2s fallback 10mbit
check set_with_lease '[ $rc = 0 ]' "$(why)"
drive set dev ctl0 rate 2mbit
drive get dev veth0
check get_shows_lease '[ "$(field rate_bps)" = 50000000 ] && [ "$(field lease_state)" = active ] && [ "$(field lease_ms)" = 2000 ]' "$(why)"
drive expect-event lease_expired 4000 dev veth0
after=$(field since_set_ms expect-event)
check event_lease_expired '[ $rc = 0 ]' "$(why)"
# not before: 50 ms of slack for the guest's jiffies (4 ms) and its TCG clock,
# which ran 6 ms fast over the 2 s once
timed event_lease_expired_within_lease_plus_200ms '[ -n "$after" ] && [ "$after" -ge 1950 ] && [ "$after" -le 2200 ]' \
	"${after:-no event} ms after the SET was sent"
note "lease_expired event ${after:-?} ms after the SET (lease 2000 ms) was sent"
drive get dev veth0
check get_shows_fallback '[ "$(field rate_bps)" = 10000000 ] && [ "$(field lease_state)" = expired ]' "$(why)"
check guest_phase_2_done 'marker "phase 2 done" 60' "the guest did not finish phase 2"

# a lease kept by renewals, as daqsd keeps it: 0.5 s, renewed every ~0.2 s
drive set dev veth0 rate 50mbit lease 500ms fallback 10mbit
nrenew=0
for i in $(seq 10); do
	drive sleep 200
	drive set dev veth0 lease 500ms
	[ "$rc" = 0 ] && nrenew=$((nrenew + 1))
done
check lease_renewed_10_times '[ $nrenew = 10 ]' "$nrenew of 10 renewals answered"
drive expect-event lease_expired 0 dev veth0
check no_expiry_while_renewed '[ $rc = 3 ]' "$(why)"
drive get dev veth0
check get_shows_renewed_lease '[ "$(field rate_bps)" = 50000000 ] && [ "$(field lease_state)" = active ]' "$(why)"
drive expect-event lease_expired 1500 dev veth0
after=$(field since_set_ms expect-event)
timed renewals_stop_lease_expires '[ $rc = 0 ] && [ -n "$after" ] && [ "$after" -ge 450 ] && [ "$after" -le 700 ]' \
	"${after:-no event} ms after the last renewal was sent"

# --- 4: what is not a frame ---------------------------------------------------------------
drive garbage 1000
drive expect-error EBADMSG 3000
check garbage_answered_ebadmsg '[ $rc = 0 ]' "$(why)"
drive get dev veth0
check garbage_then_get '[ $rc = 0 ] && [ -n "$(field tx_bytes)" ]' "$(why)"
drive huge 1048576
check huge_length_rejected_emsgsize '[ $rc = 2 ] && [ "$(field errno "error seq=[1-9]")" = 90 ]' "$(why)"
drive get dev veth0
check huge_then_get_at_once '[ $rc = 0 ] && [ "$(field rtt_ms)" -lt 1000 ]' "$(why)"
drive corrupt
check bad_crc_rejected_ebadmsg '[ $rc = 2 ] && [ "$(field errno "error seq=[1-9]")" = 74 ]' "$(why)"
drive set dev nosuch0 rate 1mbit
check kernel_error_relayed '[ $rc = 2 ] && [ "$(field errno "error seq=[1-9]")" = 19 ] && [[ $reply == *"text=\""?* ]]' "$(why)"
drive get dev veth0
check error_then_get '[ $rc = 0 ]' "$(why)"
# requests back to back, as many as 64 KiB of answers and more: every one
# answered, in order, none dropped (chdrive checks the order)
drive flood 400 dev veth0
check flood_400_gets_all_answered_in_order '[ $rc = 0 ] && [[ $reply == *"400 answered (400 replies, 0 errors)"* ]]' "$(why)"

# --- 5: the host goes away and comes back -------------------------------------------------
drive partial 30
pseq=$(printf '%s' "$reply" | sed -n 's/^sent .* of seq \([0-9]*\)$/\1/p')
drive reconnect 500
drive hello
check reconnect_hello '[ $rc = 0 ]' "$(why)"
# had the agent kept the cut-off frame, the HELLO would have completed it:
# an ERROR (bad checksum) for its seq
check partial_frame_forgotten_on_disconnect '[ -n "$pseq" ] && [[ $reply != *"seq=$pseq "* ]]' "$(why)"
session_close
out1=$("$chdrive" -t 5000 "$sock" 'wait-hello 10000' 'get dev veth0' 2>&1) && r1=0 || r1=$?
printf '%s\n' "=== one-shot" "$out1" >>"$build/chdrive.log"
check new_connection_hello_and_get '[ $r1 = 0 ] && [[ $out1 == *"reply hello"*"reply get"*dev=veth0* ]]' \
	"exit $r1: $(printf '%s' "$out1" | tr '\n' '|')"
# a host that comes, writes a HELLO and goes within a few ms, while the agent
# waits between its looks for a host: its bytes must not be taken for the
# next host's (which would get two answers to its seq 1)
sleep 0.5
"$chdrive" -t 1 "$sock" hello >/dev/null 2>&1 || true
sleep 0.5
out2=$("$chdrive" -t 3000 "$sock" hello 'sleep 1500' 2>&1) && r2=0 || r2=$?
printf '%s\n' "=== after a fleeting host" "$out2" >>"$build/chdrive.log"
check fleeting_host_bytes_not_answered_to_the_next '[ $r2 = 0 ] && [ "$(printf "%s\n" "$out2" | grep -c "^reply hello")" = 1 ]' \
	"exit $r2: $(printf '%s' "$out2" | tr '\n' '|')"
# hosts taking turns as fast as they can, as a daqsd restarted right after
# another host let go: each connects, says HELLO at once, GETs and goes,
# every other one leaving a GET unanswered behind it. The guest handles a
# host's coming and going late, behind the data, so a HELLO can be read
# while the port still says no host, or the old host: it must be answered
# all the same, and at once (a lost answer costs daqsd 3 s), and nothing
# but a stale answer to an earlier host's unanswered request may reach a
# host that did not ask (tests/tools/chswap.c)
out3=$("$chswap" -n "${DAQS_AGENT_E2E_SWAPS:-100}" -t 3000 -l 1000 -T "$sock" 2>&1) && r3=0 || r3=$?
printf '%s\n' "=== rapid host swaps" "$out3" >>"$build/chdrive.log"
check rapid_host_swaps_each_hello_answered_within_1s '[ $r3 = 0 ]' \
	"exit $r3: $(printf '%s' "$out3" | tail -n 6 | tr '\n' '|')"
note "$(printf '%s\n' "$out3" | sed -n 's/^chswap: //p')"
# the same with the agent back in its no-host state when each host comes,
# as daqsd-e2e's restart seconds after chdrive let go: the port polls
# POLLIN with no host, bytes or not, and the agent once timed "stale"
# bytes from that, dropping a HELLO whose port open was a few ms behind
# (6 of 100 hosts; tests/tools/chswap -g)
out4=$("$chswap" -n "${DAQS_AGENT_E2E_GAP_SWAPS:-20}" -g 300 -t 3000 -l 1000 "$sock" 2>&1) && r4=0 || r4=$?
printf '%s\n' "=== host swaps 300 ms apart" "$out4" >>"$build/chdrive.log"
check host_swaps_300ms_apart_each_hello_answered_within_1s '[ $r4 = 0 ]' \
	"exit $r4: $(printf '%s' "$out4" | tail -n 6 | tr '\n' '|')"
note "300 ms apart: $(printf '%s\n' "$out4" | sed -n 's/^chswap: //p')"

# --- 6: kill -9 of the agent ------------------------------------------------------------
session_open
# a new host writes at once, with no HELLO first: nothing of it is lost
# (its bytes may reach the guest before the port says the host is there;
# the agent keeps them for that host and drops only bytes whose host stays away)
drive set dev ctl0 rate 3mbit
check guest_killed_and_restarted_agent 'marker "phase 3 done" 60' "no 'phase 3 done' from the guest"
drive wait-hello 20000
check restarted_agent_hello '[ $rc = 0 ]' "$(why)"
drive get dev veth0
check restarted_agent_get '[ $rc = 0 ] && [ "$(field rate_bps)" = 10000000 ]' "$(why)"

# --- 7: a rate without a lease, measured by the guest --------------------------------------
drive set dev veth0 rate 30mbit lease 0
check set_rate_drops_lease '[ $rc = 0 ]' "$(why)"
drive get dev veth0
check get_shows_new_rate '[ "$(field rate_bps)" = 30000000 ] && [ "$(field lease_state)" = none ]' "$(why)"
drive set dev ctl0 rate 4mbit
check guest_phase_4_done 'marker "phase 4 done" 90' "the guest did not finish phase 4"

# --- 8: DEL ---------------------------------------------------------------------------------
drive del dev veth0
check del_answered '[ $rc = 0 ]' "$(why)"
drive expect-event detached 3000 dev veth0
check event_detached '[ $rc = 0 ]' "$(why)"
drive get dev veth0
check get_after_del_is_error '[ $rc = 2 ]' "$(why)"
drive set dev ctl0 rate 5mbit
check guest_phase_5_done 'marker "phase 5 done" 60' "the guest did not finish phase 5"

# --- 9: the module goes and comes back under the agent ---------------------------
drive set dev ctl0 rate 6mbit
check guest_reloaded_module 'marker "phase 6 done" 60' "no 'phase 6 done' from the guest"
drive expect-event module_unloaded 3000
check event_module_unloaded '[ $rc = 0 ]' "$(why)"
drive expect-event module_loaded 3000
check event_module_loaded '[ $rc = 0 ]' "$(why)"
drive hello
check hello_after_reload_module_loaded '[ $rc = 0 ] && [ "$(field module)" = 1 ]' "$(why)"
drive set dev veth0 rate 20mbit
check set_after_reload '[ $rc = 0 ]' "$(why)"
# the agent joined the new family's events group
drive expect-event attached 3000 dev veth0
check events_after_reload '[ $rc = 0 ]' "$(why)"
drive del dev veth0
check del_after_reload '[ $rc = 0 ]' "$(why)"

drive del dev ctl0
check del_ctl0_ends_guest '[ $rc = 0 ]' "$(why)"
session_close

# --- the guest's verdict ------------------------------------------------------------------------
grc=0
wait "$run_pid" || grc=$?
guest_verdict "$grc" "$build/run.log"
note "chdrive transcript: $build/chdrive.log; guest logs: $out; $((SECONDS - t_start)) s in all"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
