#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The guest half of tests/faults.sh: daqs.ko unloaded and loaded again
# faults_reloads times (default 100) under traffic. Each cycle loads the
# module, binds veth0 at 20 Mbit/s (shape and police in turn: shaped
# packets wait in the queues and their timers are armed when the module
# goes), waits a random 0-200 ms and unloads it. daqs-agent runs all along
# and hears the family come and go; timeline keeps the binding's sysfs
# files open across it (kernfs must cut them off, not the module wait).
#
#	┌──── guest root netns ─────┐     ┌──── rb ───────────────────┐
#	│ veth0  198.51.100.1/24    ├─────┤ veth1  198.51.100.2/24    │
#	│ bound each cycle; 4 TCP   │     │ iperf3 server             │
#	│ streams + a UDP flood     │     │ UDP sink                  │
#	└───────────────────────────┘     └───────────────────────────┘
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/faults.inc"

# the bound end in the root namespace: a cycle is then no `ip netns exec`
# (under TCG each costs more than the module's load)
A=- B=rb
N=$(param reloads 100)
LOG=/tmp/agent-reload.log
AGENT_PID=''

# the egress static keys held by a second module (or not): no reload then
# patches __dev_queue_xmit() under the flood (faults.sh says why)
KEYS=$(param reload_keys held)
if [ "$KEYS" = held ]; then
	check reload_keys_held_elsewhere modprobe daqs_keyhold
else
	note "reload: the egress static keys are daqs.ko's alone: every reload patches __dev_queue_xmit()"
fi
modprobe daqs 2>/dev/null
netns_pair - "$B" || fail setup "veth pair"
iperf3_server "$B" || fail setup "iperf3 server"
"$DAQS_BIN/ip" netns exec "$B" udpflood -l 9000 >/tmp/reload-sink.txt &
sink=$!
check agent_started_for_reloads agent_start "$LOG"
timeline_start /sys/class/net/veth0/daqs
iperf3 -c 198.51.100.2 -t 3600 -P 4 >/dev/null 2>&1 &
bg=$!
udpflood -E 198.51.100.2 9000 >/tmp/reload-flood.txt &
fl=$!
sleep 2
m0=$(mem_sample)
randoms "$N" 200 3 >/tmp/reload-up.txt
randoms "$N" 100 4 >/tmp/reload-down.txt
mark reload begin
k=0 e_load=0 e_set=0 e_rm=0 e_rate=0 qmax=0
t0=$(cut -d' ' -f1 /proc/uptime)
while [ $k -lt "$N" ]; do
	k=$((k + 1))
	mode=shape
	[ $((k % 2)) = 0 ] && mode=police
	modprobe daqs || e_load=$((e_load + 1))
	nsx "$A" daqsctl set dev veth0 rate 20mbit mode "$mode" || e_set=$((e_set + 1))
	[ "$(nsx "$A" cat /sys/class/net/veth0/daqs/rate_bps 2>/dev/null)" = 20000000 ] ||
		e_rate=$((e_rate + 1))
	msleep "$(sed -n "${k}p" /tmp/reload-up.txt)"
	q=$(nsx "$A" cat /sys/class/net/veth0/daqs/queued 2>/dev/null)
	[ "${q:-0}" -gt "$qmax" ] && qmax=$q
	ev "rmmod $k $mode queued=${q:-?}"
	rmmod daqs || e_rm=$((e_rm + 1))
	msleep "$(sed -n "${k}p" /tmp/reload-down.txt)"
done
mark reload end
t1=$(cut -d' ' -f1 /proc/uptime)
note "reload: $k unloads in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", b - a }') s under traffic; up to $qmax packets queued at an unload"
check_eq reload_count "$N" "$k"
check_eq reload_modprobe_failures 0 "$e_load"
check_eq reload_set_failures 0 "$e_set"
check_eq reload_limit_in_force_each_time 0 "$e_rate"
check_eq reload_rmmod_failures 0 "$e_rm"
check_gt reload_unloaded_with_packets_queued "$qmax" 0

# after all that: the module loads and limits as on the first day
check reload_final_modprobe modprobe daqs
nsx "$A" daqsctl set dev veth0 rate 20mbit
kill "$fl" 2>/dev/null
wait "$fl"
note "reload: UDP flood beside: $(cat /tmp/reload-flood.txt)"
# the TCP streams lost packets at every unload: 2 s for them to leave
# their retransmission backoff (measured at once, 17.9 Mbit/s after 100
# reloads, seed 939581; 19.8 after 30)
sleep 2
a=$(nsx "$A" cat /sys/class/net/veth0/daqs/tx_wire_bytes) ta=$(cut -d' ' -f1 /proc/uptime)
sleep 3
b=$(nsx "$A" cat /sys/class/net/veth0/daqs/tx_wire_bytes) tb=$(cut -d' ' -f1 /proc/uptime)
r=$(awk -v a="$a" -v b="$b" -v t0="$ta" -v t1="$tb" 'BEGIN { printf "%.0f", (b - a) * 8 / (t1 - t0) }')
note "reload: after $k reloads, 20 Mbit/s set: $(mbit "$r") Mbit/s on the wire (4 TCP streams)"
timed check_within reload_limit_holds_after "$r" 20000000 5
kill "$bg" "$sink" 2>/dev/null
wait "$bg" "$sink" 2>/dev/null
sleep 1
m1=$(mem_sample)
set -- $m0 $m1
note "reload: MemAvailable $(($1 / 1024)) -> $(($4 / 1024)) MiB, Slab $(($2 / 1024)) -> $(($5 / 1024)) MiB, SUnreclaim $(($3 / 1024)) -> $(($6 / 1024)) MiB"
check_ge reload_sunreclaim_growth_le_8mib $((8 * 1024)) $(($6 - $3))
check_ge reload_memavailable_drop_le_32mib $((32 * 1024)) $(($1 - $4))
nl=$(grep -c 'module daqs loaded' "$LOG") nu=$(grep -c 'module daqs unloaded' "$LOG")
note "reload: the agent logged $nl loads and $nu unloads"
check_eq agent_alive_after_reloads yes "$(kill -0 "$AGENT_PID" 2>/dev/null && echo yes)"
check_ge agent_heard_every_unload "$nu" "$N"
kill -TERM "$AGENT_PID"
wait "$AGENT_PID"
check_eq agent_exits_0_after_reloads 0 "$?"
mark finished
timeline_stop
nsx "$A" daqsctl del dev veth0
iperf3_server_stop "$B"
netns_del "$B"
[ "$KEYS" != held ] || check reload_keys_released rmmod daqs_keyhold
