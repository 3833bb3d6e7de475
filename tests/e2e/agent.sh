#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The guest half of tests/agent-e2e.sh: daqs-agent on the virtio-serial port
# org.daqs.0, driven by the host (tests/tools/chdrive) over QEMU's unix
# socket. Not an NN-*.sh: without the host side it would only wait.
#
#	┌──── guest root netns ──────────────┐     ┌──── srv ──────────────────┐
#	│ daqs-agent  <- /dev/vportNpM       │     │                           │
#	│ veth0 198.51.100.1/24, daqs bound  ├─────┤ veth1 198.51.100.2/24     │
#	│ ctl0 (dummy): the host's signals   │     │ iperf3 server             │
#	└────────────────────────────────────┘     └───────────────────────────┘
#
# The host signals a phase by setting, through the agent, the rate of ctl0 to
# N mbit (phase N); the guest checks what the host did, then writes
# "# agent-e2e: phase N done" on the result port, which the host watches.
# The host deleting ctl0's binding says it is finished.
#   ready  the agent serves; 20 Mbit/s of background traffic on veth0
#   2      the host set veth0 50mbit with a 2 s lease, fallback 10mbit
#   3      kill -9 the agent and start it again
#   4      the host set veth0 30mbit without a lease: measure it
#   5      the host deleted veth0's binding
#   6      rmmod daqs, modprobe daqs (the agent keeps running)
. "$(dirname "$0")/lib.sh"

NS=srv
SYS=/sys/class/net/veth0/daqs
CTL=/sys/class/net/ctl0/daqs
LOG=/tmp/agent.log
PHASE_WAIT=${DAQS_AGENT_PHASE_WAIT:-120}	# seconds for each signal
AGENT_PID='' BG_PID=''

marker() { note "agent-e2e: $*"; }

sysfs() { cat "$SYS/$1" 2>/dev/null; }

# wait_phase N: 0 when ctl0's rate is N mbit, 2 if its binding is gone (the
# host is finished), 1 after PHASE_WAIT seconds
wait_phase() {
	local _want=$(($1 * 1000000)) _i=0
	while [ $_i -lt $((PHASE_WAIT * 10)) ]; do
		[ -d "$CTL" ] || return 2
		[ "$(cat "$CTL/rate_bps" 2>/dev/null)" = "$_want" ] && return 0
		_i=$((_i + 1))
		sleep 0.1
	done
	return 1
}

# phase N: waits for it; on failure reports and ends the script
phase() {
	wait_phase "$1"
	case $? in
	0) return 0 ;;
	2) fail "phase_$1" "the host ended before signalling phase $1" ;;
	*) fail "phase_$1" "no signal from the host in $PHASE_WAIT s" ;;
	esac
	finish
}

# the wire rate of veth0 over SECONDS, from daqs' GSO-aware counter
wire_rate() {
	local _a _b _t0 _t1
	_a=$(sysfs tx_wire_bytes)
	_t0=$(cut -d' ' -f1 /proc/uptime)
	sleep "$1"
	_b=$(sysfs tx_wire_bytes)
	_t1=$(cut -d' ' -f1 /proc/uptime)
	awk -v a="$_a" -v b="$_b" -v t0="$_t0" -v t1="$_t1" \
		'BEGIN { printf "%.0f", (b - a) * 8 / (t1 - t0) }'
}

finish() {
	local _rc
	[ -n "$BG_PID" ] && kill "$BG_PID" 2>/dev/null
	if [ -n "$AGENT_PID" ] && kill -0 "$AGENT_PID" 2>/dev/null; then
		kill -TERM "$AGENT_PID"
		wait "$AGENT_PID"
		_rc=$?
		check_eq agent_exits_0_on_sigterm 0 "$_rc"
	fi
	note "agent: $(grep -c 'host connected' "$LOG") reconnects, $(grep -c 'host disconnected' "$LOG") disconnects seen"
	note "agent: $(grep 'exiting on signal' "$LOG" | tail -n 1 | sed 's/^daqs-agent: //')"
	echo "--- $LOG"
	cat "$LOG"
	echo "---"
	iperf3_server_stop "$NS"
	netns_del "$NS"
	ip link del ctl0 2>/dev/null
	ip link del veth0 2>/dev/null
	rm -f /tmp/dummies.batch
	exit 0
}

# --- setup ---------------------------------------------------------------
check module_load modprobe daqs
port=''
for p in /sys/class/virtio-ports/*; do
	[ "$(cat "$p/name" 2>/dev/null)" = org.daqs.0 ] && port=/dev/${p##*/}
done
check_eq vport_found yes "$([ -c "$port" ] && echo yes || echo "no ($port)")"
sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
netns_pair - "$NS" &&
	ip link add ctl0 type dummy && ip link set ctl0 up &&
	daqsctl set dev ctl0 rate 0 ||
	fail setup "veth pair, ctl0"
# 60 more devices for the host to bind: a GET of every binding takes frames
i=0
while [ $i -lt 60 ]; do
	echo "link add d$i type dummy"
	i=$((i + 1))
done >/tmp/dummies.batch
ip -batch /tmp/dummies.batch || fail setup "60 dummies"
iperf3_server "$NS" || fail setup "iperf3 server"
check agent_started agent_start "$LOG" || finish
# light, steady traffic: the counters the host reads must move
iperf3 -c 198.51.100.2 -t 600 -b 20M >/tmp/bg.log 2>&1 &
BG_PID=$!
# iperf3 takes a while to start under TCG: ready once 200 kB went out
t0=$(netdev_stat - veth0 tx_bytes) i=0
while [ "$(netdev_stat - veth0 tx_bytes)" -lt $((t0 + 200000)) ] && [ $i -lt 100 ]; do
	i=$((i + 1))
	sleep 0.1
done
check_gt background_traffic_flows "$(netdev_stat - veth0 tx_bytes)" $((t0 + 200000))
marker ready

# --- 2: SET with a lease, then its expiry ---------------------------------
phase 2
check_eq lease_set_rate_in_sysfs 50000000 "$(sysfs rate_bps)"
check_eq lease_set_state_in_sysfs active "$(sysfs lease_state)"
check_eq lease_set_lease_ms_in_sysfs 2000 "$(sysfs lease_ms)"
check_eq lease_set_fallback_in_sysfs 10000000 "$(sysfs fallback_bps)"
i=0
while [ "$(sysfs lease_state)" = active ] && [ $i -lt 50 ]; do
	i=$((i + 1))
	sleep 0.1
done
check_eq lease_expired_in_sysfs expired "$(sysfs lease_state)"
check_eq lease_fallback_rate_in_sysfs 10000000 "$(sysfs rate_bps)"
sleep 0.5
r=$(wire_rate 2)
note "fallback: 10 Mbit/s in force, 20 Mbit/s offered, $(mbit "$r") Mbit/s on the wire"
timed check_within lease_fallback_enforced "$r" 10000000 10
marker "phase 2 done"

# --- 3: the agent killed and started again ---------------------------------
phase 3
old=$AGENT_PID
kill -9 "$old"
wait "$old"
check_eq agent_killed_9 137 "$?"
check agent_restarted agent_start "$LOG" || finish
marker "phase 3 done (agent $old killed, $AGENT_PID serving)"

# --- 4: the rate the host set, measured ------------------------------------
phase 4
check_eq set_rate_in_sysfs 30000000 "$(sysfs rate_bps)"
check_eq set_no_lease_in_sysfs none "$(sysfs lease_state)"
kill "$BG_PID" 2>/dev/null
wait "$BG_PID" 2>/dev/null
BG_PID=''
sleep 0.5
# the wire rate from daqs' own GSO-aware counter, over 3 s in the middle of
# a 6 s iperf3 run (past slow start); iperf3's goodput is ~4.4% below it
iperf3 -c 198.51.100.2 -t 6 --json >/tmp/acc.json 2>&1 &
pid=$!
sleep 1.5
wire=$(wire_rate 3)
if wait "$pid"; then
	rx=$(iperf3_rx_bps /tmp/acc.json)
	note "host set 30 Mbit/s: $(mbit "$wire") Mbit/s on the wire (daqs tx_wire_bytes), iperf3 $(mbit "$rx") Mbit/s goodput"
	timed check_within set_rate_enforced "$wire" 30000000 3
else
	cat /tmp/acc.json >&2
	fail set_rate_enforced "iperf3 failed"
fi
marker "phase 4 done"

# --- 5: the host deleted the binding ----------------------------------------
phase 5
check_eq del_binding_gone_from_sysfs absent "$([ -d "$SYS" ] && echo present || echo absent)"
marker "phase 5 done"

# --- 6: the module unloaded and loaded again under the agent ----------------
phase 6
check rmmod_under_agent rmmod daqs
sleep 0.5
check modprobe_under_agent modprobe daqs
daqsctl set dev ctl0 rate 0 || fail phase_6 "ctl0 bound again"
check_eq agent_survives_module_reload yes "$(kill -0 "$AGENT_PID" && echo yes)"
marker "phase 6 done"

# --- the end: the host deletes ctl0's binding -------------------------------
wait_phase 99
check_eq host_deleted_ctl0 2 "$?"
finish
