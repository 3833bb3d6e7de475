#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The guest half of tests/daqsd-e2e.sh: vm1, controlled by a daqsd running on
# the host, through daqs-agent on the virtio-serial port org.daqs.0. Not an
# NN-*.sh: without daqsd on the host it would only wait.
#
#	┌──── guest root netns ──────────────┐     ┌──── srv ──────────────────┐
#	│ daqs-agent  <- /dev/vportNpM       │     │                           │
#	│ veth0 198.51.100.1/24: daqsd's     ├─────┤ veth1 198.51.100.2/24     │
#	│ device; iperf3 client, unlimited   │     │ iperf3 server             │
#	└────────────────────────────────────┘     └───────────────────────────┘
#
# Once a second the guest writes a sample on the result port, which the host
# reads: "# daqsd-e2e: s up=UPTIME rate=RATE_BPS avg=BPS lease=STATE wire=BPS
# iperf=MBIT" (rate: the limit at the end of the second; avg: its mean over
# the second, read every 100 ms; wire: veth0's tx_wire_bytes over the
# second; iperf: the client's last one-second interval). Otherwise the
# guest follows what it sees: once veth0's lease has expired (the host killed daqsd) and is active
# again (daqsd restarted), it kills the agent with -9, starts it again and
# reports when daqsd has the device again; then it ends once the lease
# expires again (the host kills daqsd after its last look at vm1).
#
# With daqsd_role=vm2 on the kernel command line it is the second VM, which
# the host starts and stops while vm1 runs: once daqsd controls veth0 it
# sends for a while, then stops its agent and writes garbage (random bytes
# and cut-off frame headers) into its own port, as a broken or hostile
# guest would, starts the agent again, reports when daqsd has the device
# again, sends for a while more and ends (the VM powers off).
. "$(dirname "$0")/lib.sh"

NS=srv
SYS=/sys/class/net/veth0/daqs
LOG=/tmp/agent.log
WAIT=${DAQS_DAQSD_WAIT:-240}	# seconds for what the host does
AGENT_PID='' BG_PID='' SAMPLER_PID=''

marker() { note "daqsd-e2e: $*"; }
sysfs() { cat "$SYS/$1" 2>/dev/null; }
uptime_ms() { awk '{ printf "%.0f", $1 * 1000 }' /proc/uptime; }

sampler() {
	local a b t0 t1 w n sum r
	a=$(sysfs tx_wire_bytes) t0=$(cut -d' ' -f1 /proc/uptime)
	while :; do
		# the limit in force, averaged over the second: with two VMs
		# sending, daqsd moves it a little at every tick
		n=0 sum=0
		while [ $n -lt 10 ]; do
			sleep 0.1
			r=$(sysfs rate_bps)
			sum=$((sum + ${r:-0})) n=$((n + 1))
		done
		b=$(sysfs tx_wire_bytes) t1=$(cut -d' ' -f1 /proc/uptime)
		w=$(awk -v a="${a:-0}" -v b="${b:-0}" -v t0="$t0" -v t1="$t1" \
			'BEGIN { printf "%.0f", (b - a) * 8 / (t1 - t0) }')
		marker "s up=$t1 rate=$r avg=$((sum / n)) lease=$(sysfs lease_state) wire=$w iperf=$(grep -o '[0-9.]* Mbits/sec' /tmp/bg.log | tail -n 1 | cut -d' ' -f1)"
		a=$b t0=$t1
	done
}

# wait_lease STATE SECONDS
wait_lease() {
	local _i=0
	while [ $_i -lt $(($2 * 20)) ]; do
		[ "$(sysfs lease_state)" = "$1" ] && return 0
		_i=$((_i + 1))
		sleep 0.05
	done
	return 1
}

# wait_renewal SECONDS: until veth0's lease is renewed (lease_left_ms grows, or
# active again after expired)
wait_renewal() {
	local _i=0 _prev _st _left
	_prev=$(sysfs lease_left_ms)
	[ "$(sysfs lease_state)" = active ] || _prev=-1
	while [ $_i -lt $(($1 * 50)) ]; do
		_st=$(sysfs lease_state) _left=$(sysfs lease_left_ms)
		if [ "$_st" = active ]; then
			[ "${_left:-0}" -gt "$_prev" ] && return 0
			_prev=$_left
		else
			_prev=-1
		fi
		_i=$((_i + 1))
		sleep 0.02
	done
	return 1
}

finish() {
	[ -n "$SAMPLER_PID" ] && kill "$SAMPLER_PID" 2>/dev/null
	[ -n "$BG_PID" ] && kill "$BG_PID" 2>/dev/null
	if [ -n "$AGENT_PID" ] && kill -0 "$AGENT_PID" 2>/dev/null; then
		kill -TERM "$AGENT_PID"
		wait "$AGENT_PID"
	fi
	note "agent: $(grep -c 'host connected' "$LOG") host connections seen"
	echo "--- $LOG: hosts coming and going, dropped bytes"
	grep -E 'host|dropped|giving up|serving|exiting' "$LOG" | tail -n 100
	echo "--- $LOG"
	tail -n 100 "$LOG"
	echo "---"
	iperf3_server_stop "$NS"
	netns_del "$NS"
	ip link del veth0 2>/dev/null
	exit 0
}

# --- setup ---------------------------------------------------------------
check module_load modprobe daqs
sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
netns_pair - "$NS" || fail setup "veth pair"
iperf3_server "$NS" || fail setup "iperf3 server"
check agent_started agent_start "$LOG" || finish
iperf3 -c 198.51.100.2 -t 900 -i 1 --forceflush >/tmp/bg.log 2>&1 &
BG_PID=$!
sampler &
SAMPLER_PID=$!
marker ready

# --- daqsd controls veth0 (the host checks the rates) ----------------------
t_ready=$(uptime_ms)
wait_lease active "$WAIT" || { fail daqsd_took_control "no lease on veth0 in $WAIT s"; finish; }
marker "controlled rate=$(sysfs rate_bps) after_ms=$(($(uptime_ms) - t_ready))"

if grep -q 'daqsd_role=vm2' /proc/cmdline; then
	sleep "${DAQS_VM2_SEND:-12}"
	# garbage into the port, from inside the guest: the agent holds the
	# port (a virtio-serial port opens once), so it stops first
	port=''
	for p in /sys/class/virtio-ports/*; do
		[ "$(cat "$p/name" 2>/dev/null)" = org.daqs.0 ] && port=/dev/${p##*/}
	done
	kill -TERM "$AGENT_PID"
	wait "$AGENT_PID"
	AGENT_PID=''
	n=0
	for i in 1 2 3 4 5 6 7 8; do
		# 8 KiB of random bytes, then a frame's magic, cut off
		head -c 8192 /dev/urandom >"$port" && printf '\211DQS' >"$port" &&
			n=$((n + 8196))
		sleep 0.25
	done
	check_gt garbage_written "$n" 0
	marker "garbage bytes=$n port=$port"
	sleep 1
	check agent_restarted agent_start "$LOG" || finish
	t_start=$(uptime_ms)
	if wait_renewal 30; then
		marker "recovered after_ms=$(($(uptime_ms) - t_start)) rate=$(sysfs rate_bps)"
	else
		fail daqsd_controls_after_garbage "lease $(sysfs lease_state)"
	fi
	sleep "${DAQS_VM2_SEND:-12}"
	marker "done"
	finish
fi

# --- kill -9 daqsd: the lease expires; daqsd restarted: active again --------
wait_lease expired "$WAIT" || { fail lease_expired_seen "veth0's lease never expired"; finish; }
marker "fallback rate=$(sysfs rate_bps)"
wait_lease active "$WAIT" || { fail lease_renewed_seen "veth0's lease never active again"; finish; }
marker "control again rate=$(sysfs rate_bps)"

# --- the agent killed with -9 and started again ------------------------------
sleep 3
before=$(sysfs rate_bps)
old=$AGENT_PID
kill -9 "$old"
wait "$old"
check_eq agent_killed_9 137 "$?"
t_kill=$(uptime_ms)
marker "agent killed"
check agent_restarted agent_start "$LOG" || finish
t_start=$(uptime_ms)
if wait_renewal 30 && [ "$(sysfs rate_bps)" = "$before" ]; then
	t_back=$(uptime_ms)
	ok agent_restart_daqsd_recovers "rate $(sysfs rate_bps) lease active"
	marker "agent recovered kill_to_start_ms=$((t_start - t_kill)) start_to_renewal_ms=$((t_back - t_start))"
	# the host still reads daqsd's view of vm1 (controlled, the limit in
	# force): powering off now would take vm1 away under that check. The
	# host kills daqsd when it is done, so the lease expiring is its signal.
	wait_lease expired "$WAIT" || fail host_done_seen "veth0's lease still active $WAIT s after the recovery"
else
	fail agent_restart_daqsd_recovers "rate $(sysfs rate_bps) (was $before), lease $(sysfs lease_state)"
fi
marker "done"
finish
