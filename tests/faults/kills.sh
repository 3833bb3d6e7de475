#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The guest half of tests/faults.sh, control-plane faults under traffic:
# daqs-agent killed with -9 at random moments (this script does it), daqsd
# killed with -9 at random moments (the host does it), the host side of the
# port closed and opened again under a load of requests (the host does it).
# daqsd on the host controls veth0 through the agent on org.daqs.0 all
# along; `timeline` records what the limit did around every kill.
#
#	┌──── guest root netns ──────────────┐     ┌──── srv ──────────────────┐
#	│ daqs-agent  <- org.daqs.0          │     │                           │
#	│ timeline    <> org.daqs.faults     │     │                           │
#	│ veth0 198.51.100.1/24: daqsd's     ├─────┤ veth1 198.51.100.2/24     │
#	│ device; iperf3 client, unlimited   │     │ iperf3 server             │
#	└────────────────────────────────────┘     └───────────────────────────┘
#
# Phases (marks the host waits for, "go" words it answers with):
#   ready             daqsd controls veth0 (lease active)
#   agent-kills       this script: faults_agent_kills cycles of: a random
#                     0-300 ms, kill -9 the agent, a random 0-1.2 leases,
#                     start it again, wait until daqsd renews the lease
#   daqsd-kills       the host: the same with daqsd; "go daqsd-kills-done"
#   port              the host: faults_port_cycles times a host connects,
#                     floods GETs and drops the connection; "go port-done"
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/faults.inc"

NS=srv
SYS=/sys/class/net/veth0/daqs
LOG=/tmp/agent.log
N_AGENT=$(param agent_kills 100)
LEASE=$(param lease_ms 1000)
TICK=$(param tick_ms 100)
# the agent serving again: it says so (agent_started), daqsd asks at once
# and renews at its next tick; allowance for the TCG round trips (as
# tests/daqsd-e2e.sh: HELLO 11-43 ms, the others 1-14 ms)
AGENT_ALLOW=$(param agent_allow_ms 50)
AGENT_PID='' BG_PID=''

finish() {
	[ -n "$BG_PID" ] && kill "$BG_PID" 2>/dev/null
	if [ -n "$AGENT_PID" ] && kill -0 "$AGENT_PID" 2>/dev/null; then
		kill -TERM "$AGENT_PID"
		wait "$AGENT_PID"
	fi
	mark finished
	timeline_stop
	echo "--- $LOG (the agent's lines but GETs and SETs, on the timeline too)"
	tail -n 300 "$LOG"
	echo "---"
	iperf3_server_stop "$NS"
	netns_del "$NS"
	ip link del veth0 2>/dev/null
	exit 0
}

# agent_up: daqs-agent -v, its lines (but those of each GET and SET) in
# $LOG and on the timeline ("ev agent ..."); $AGENT_PID; 0 once it serves
agent_up() {
	local _i=0 _old=$AGENT_PID
	{ daqs-agent -v 2>&1 & echo $! >/run/agent.pid; wait; } |
		awk '!/: seq [0-9]+: (GET|SET)/ { print; fflush(); print "agent " $0 >"/run/faults.ev"; fflush("/run/faults.ev") }' >>"$LOG" &
	while [ $_i -lt 100 ]; do
		AGENT_PID=$(cat /run/agent.pid 2>/dev/null)
		[ -n "$AGENT_PID" ] && [ "$AGENT_PID" != "$_old" ] && break
		_i=$((_i + 1))
		sleep 0.01
	done
	rm -f /run/agent.pid
	[ -n "$AGENT_PID" ] && [ "$AGENT_PID" != "$_old" ]
}

wait_lease() {
	local _i=0
	while [ $_i -lt $(($2 * 20)) ]; do
		[ "$(cat "$SYS/lease_state" 2>/dev/null)" = "$1" ] && return 0
		_i=$((_i + 1))
		sleep 0.05
	done
	return 1
}

# resumed_after WORD: the timeline has a renewal after the last "ev WORD"
resumed_after() {
	tail -n 30 "$FAULTS_TL" | awk -v w="$1" '$2 == "ev" && $0 ~ " ev " w "$" { s = 1; next }
		s && $2 == "renew" { f = 1 } END { exit !f }'
}

# report NAME FILE [FROM]: the findings of kills_eval as checks and notes;
# FROM says what control resumed is counted from (default: the start)
report() {
	local _n=$1 _f=$2 _s _from=${3:-the start}
	_s=$(grep '^S ' "$_f" | sed 's/^S //')
	note "$_n: $_s"
	grep '^[VT] ' "$_f" | head -n 20 | sed "s/^V /$_n violation: /; s/^T /$_n violation of a time bound: /" |
		while IFS= read -r l; do note "$l"; done
	note "$(grep '^F ' "$_f" | cut -d' ' -f2 | dist "$_n fallback in force after the kill" ms)"
	note "$(grep '^E ' "$_f" | cut -d' ' -f2 | dist "$_n fallback in force after the last renewal (lease $LEASE ms)" ms)"
	note "$(grep '^R ' "$_f" | cut -d' ' -f2 | dist "$_n control resumed after $_from" ms)"
}

# --- setup ---------------------------------------------------------------
check module_load modprobe daqs
sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
netns_pair - "$NS" || fail setup "veth pair"
iperf3_server "$NS" || fail setup "iperf3 server"
timeline_start "$SYS" || finish
check agent_started agent_up || finish
iperf3 -c 198.51.100.2 -t 3600 >/tmp/bg.log 2>&1 &
BG_PID=$!
mark ready
if ! wait_lease active 120; then
	fail daqsd_took_control "no lease on veth0 in 120 s"
	finish
fi
sleep 1
C0=$(cat "$SYS/rate_bps") FB=$(cat "$SYS/fallback_bps")
mark "controlled rate=$C0 fallback=$FB"
check_eq one_binding 1 "$(bindings)"

# --- daqs-agent killed with -9 at random moments --------------------------
randoms "$N_AGENT" 300 1 >/tmp/pre.txt
randoms "$N_AGENT" $((LEASE * 6 / 5)) 2 >/tmp/down.txt
mark agent-kills begin
k=0 nb=0 slow=0
t0=$(cut -d' ' -f1 /proc/uptime)
while [ $k -lt "$N_AGENT" ]; do
	k=$((k + 1))
	msleep "$(sed -n "${k}p" /tmp/pre.txt)"
	ev "kill-agent $k"
	kill -9 "$AGENT_PID"
	wait "$AGENT_PID" 2>/dev/null
	msleep "$(sed -n "${k}p" /tmp/down.txt)"
	ev "start-agent $k"
	agent_up || fail agent_restart "cycle $k: no agent pid"
	i=0
	until resumed_after "start-agent $k"; do
		i=$((i + 1))
		[ $i -gt 200 ] && { slow=$((slow + 1)); break; }
		sleep 0.05
	done
	[ "$(bindings)" = 1 ] || nb=$((nb + 1))
done
mark agent-kills end
t1=$(cut -d' ' -f1 /proc/uptime)
# restarted = serving its port again (its start under TCG is a note); a
# restart before the lease's renewal was due gets the renewal on schedule
# (seed 939581, cycle 47: the agent served 199 ms before the renewal was
# due and was renewed 299 ms after it served, 100 ms after it was due)
kills_eval "$FAULTS_TL" " ev kill-agent " " ev agent daqs-agent: serving " "$LEASE" "$FB" "$C0" agent-kills \
	" ev start-agent " due >/tmp/agent-kills.txt
report agent-kills /tmp/agent-kills.txt "the start, or the renewal's due time if later"
note "$(awk '$2 == "ev" && $3 == "start-agent" { t = $1 } $2 == "ev" && / daqs-agent: serving / && t { printf "%.0f\n", ($1 - t) / 1e6; t = 0 }' "$FAULTS_TL" | dist "agent-kills: the agent serving its port after its start" ms)"
note "agent-kills: $k kills in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", b - a }') s (seed $(param seed 1))"
check_eq agent_kills_count "$N_AGENT" "$k"
check_eq agent_kills_no_violation "violations=0" "$(grep -o 'violations=[0-9]*' /tmp/agent-kills.txt)"
timed check_eq agent_kills_lease_times_kept "timing=0" "$(grep -o 'timing=[0-9]*' /tmp/agent-kills.txt)"
check_eq agent_kills_bindings_always_1 0 "$nb"
check_eq agent_kills_resumed_every_time "resumed=$k" "$(grep -o 'resumed=[0-9]*' /tmp/agent-kills.txt)"
max=$(grep '^R ' /tmp/agent-kills.txt | cut -d' ' -f2 | sort -n | tail -n 1)
timed check_ge agent_kills_resume_within_2_ticks_plus_allowance $((2 * TICK + AGENT_ALLOW)) "${max:-99999}"

# --- daqsd killed with -9 at random moments (the host) --------------------
mark daqsd-kills begin
if ! host_wait daqsd-kills-done 1800; then
	fail daqsd_kills "no 'go daqsd-kills-done' from the host"
fi
mark daqsd-kills end
caps=$(grep -o ' host daqsd-start [0-9]* cap=[0-9]*' "$FAULTS_TL" | sed 's/.*cap=//' | sort -u | tr '\n' ',')
kills_eval "$FAULTS_TL" " host daqsd-kill " " host daqsd-start " "$LEASE" "$FB" "$C0,$caps" daqsd-kills >/tmp/daqsd-kills.txt
report daqsd-kills /tmp/daqsd-kills.txt
n=$(grep -c ' host daqsd-kill ' "$FAULTS_TL")
note "daqsd-kills: $n kills seen on the guest's timeline; rates daqsd set: $C0,$caps"
check_eq daqsd_kills_no_violation "violations=0" "$(grep -o 'violations=[0-9]*' /tmp/daqsd-kills.txt)"
timed check_eq daqsd_kills_lease_times_kept "timing=0" "$(grep -o 'timing=[0-9]*' /tmp/daqsd-kills.txt)"
check_eq daqsd_kills_resumed_every_time "resumed=$n" "$(grep -o 'resumed=[0-9]*' /tmp/daqsd-kills.txt)"
check_eq daqsd_kills_bindings_1 1 "$(bindings)"
# after each restart, the new daqsd's limit (cap=C of its start) in force
# within a second
bad=$(awk '$2 == "host" && $3 == "daqsd-start" { want = $5; sub(/^cap=/, "", want); t = $1; w = 1; next }
	w && $2 == "renew" { r = $3; sub(/^rate=/, "", r); if (r == want) w = 0; else if ($1 > t + 1e9) { n++; w = 0 } }
	END { print n + 0 }' "$FAULTS_TL")
timed check_eq daqsd_kills_new_limit_in_force_within_1s 0 "$bad"

# --- the host closes and opens the port under load -------------------------
c0=$(grep -c 'host connected' "$LOG")
mark port begin
if ! host_wait port-done 1800; then
	fail port_cycles "no 'go port-done' from the host"
fi
mark port end
check_eq agent_alive_after_port_cycles yes "$(kill -0 "$AGENT_PID" 2>/dev/null && echo yes)"
note "port: the agent saw $(($(grep -c 'host connected' "$LOG") - c0)) host connections, $(grep -c 'stale' "$LOG") stale-byte drops logged"
finish
