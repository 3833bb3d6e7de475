#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The guest half of tests/faults.sh: the bound device deleted under
# traffic, the same as a bond's slave, and its namespace deleted under
# traffic, faults_teardowns times each (default 10), with packets waiting
# in the shape queues.
#
# Device: veth0 (fixed MAC) bound at 10 Mbit/s, a UDP flood far above it;
# after a random 100-400 ms `ip link del veth0`: the binding stays, absent,
# with its limit; veth0 made again with the MAC: the limit is in force
# before the device is up. Namespace: the same pair, flood, then the
# sender killed and the namespace deleted at once (its cleanup runs while
# the queues hold packets and their timers are armed).
#
#	┌──── ta ───────────────────┐     ┌──── tb ───────────────────┐
#	│ veth0  198.51.100.1/24    ├─────┤ veth1  198.51.100.2/24    │
#	│ MAC 02:da:45:00:00:20     │     │ UDP sink                  │
#	└───────────────────────────┘     └───────────────────────────┘
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/faults.inc"

A=ta B=tb
MAC=02:da:45:00:00:20
N=$(param teardowns 10)

veth_up() {
	ip link add veth0 netns "$A" address "$MAC" type veth peer name veth1 netns "$B" &&
		ip -n "$A" addr add 198.51.100.1/24 dev veth0 &&
		ip -n "$B" addr add 198.51.100.2/24 dev veth1 &&
		ip -n "$B" link set veth1 up
}

pair() {
	netns_new "$A" && netns_new "$B" && veth_up && ip -n "$A" link set veth0 up
}

modprobe daqs 2>/dev/null
m0=$(mem_sample)
randoms "$N" 300 5 >/tmp/td-wait.txt
randoms "$N" 300 6 >/tmp/td-wait2.txt

# --- the device deleted under traffic -----------------------------------------
pair || fail setup "veth pair"
"$DAQS_BIN/ip" netns exec "$B" udpflood -l 9000 >/dev/null &
sink=$!
nsx "$A" daqsctl set dev veth0 rate 10mbit
k=0 e_del=0 e_absent=0 e_back=0 e_n=0 dd=0 nq=0
while [ $k -lt "$N" ]; do
	k=$((k + 1))
	"$DAQS_BIN/ip" netns exec "$A" udpflood -E 198.51.100.2 9000 >/dev/null &
	fl=$!
	msleep $((100 + $(sed -n "${k}p" /tmp/td-wait.txt)))
	q=$(nsx "$A" cat /sys/class/net/veth0/daqs/queued 2>/dev/null)
	ip -n "$A" link del veth0 || e_del=$((e_del + 1))
	nsx "$A" daqsctl -j show >/tmp/td.json 2>&1
	[ "$(json_get /tmp/td.json 0.state)" = absent ] || e_absent=$((e_absent + 1))
	[ "$(bindings "$A")" = 1 ] || e_n=$((e_n + 1))
	d=$(json_get /tmp/td.json 0.stats.drops_detach)
	dd=${d:-$dd}
	[ "${q:-0}" -gt 0 ] && nq=$((nq + 1))
	kill "$fl" 2>/dev/null
	wait "$fl"
	veth_up || e_back=$((e_back + 1))
	# back, not yet up: the limit is there before the first packet can be
	[ "$(nsx "$A" cat /sys/class/net/veth0/daqs/rate_bps 2>/dev/null)" = 10000000 ] ||
		e_back=$((e_back + 1))
	ip -n "$A" link set veth0 up
done
note "device deletion: $k deletions under a UDP flood, $nq with packets queued a moment before; $dd packets dropped as queued at a deletion (drops_detach)"
check_eq devdel_count "$N" "$k"
check_eq devdel_link_del_failures 0 "$e_del"
check_eq devdel_binding_absent_each_time 0 "$e_absent"
check_eq devdel_one_binding_each_time 0 "$e_n"
check_gt devdel_queued_packets_counted_as_detach_drops "$dd" 0
check_eq devdel_limit_back_before_up_each_time 0 "$e_back"
kill "$sink" 2>/dev/null
wait "$sink"
nsx "$A" daqsctl del mac "$MAC"
netns_del "$A" "$B"

# --- a bond's slave deleted under traffic ----------------------------------------
# The bond releasing the slave gives it its own address back while it is
# being unregistered (NETDEV_CHANGEADDR after NETDEV_UNREGISTER): the
# binding must stay absent, not come back to the dying device (which it
# then held until the kernel's rebroadcast a second later, a new device
# with the MAC meanwhile unlimited). veth0 is the active slave, vethb the
# backup; each cycle makes veth0 again and enslaves it.
modprobe bonding max_bonds=0 2>/dev/null
netns_new "$A" && netns_new "$B" &&
	ip -n "$A" link add vethb address 02:da:45:00:00:21 type veth peer name vethc netns "$B" &&
	ip -n "$A" link add tbond type bond mode active-backup miimon 50 &&
	ip -n "$A" addr add 198.51.100.1/24 dev tbond &&
	ip -n "$B" addr add 198.51.100.2/24 dev vethc && ip -n "$B" link set vethc up ||
	fail setup "bond"
"$DAQS_BIN/ip" netns exec "$B" udpflood -l 9000 >/dev/null &
sink=$!
"$DAQS_BIN/ip" netns exec "$A" daqsctl monitor >/tmp/td-mon.txt 2>&1 &
mon=$!
k=0 e_slave=0 e_sback=0
: >/tmp/td-del-ms.txt
while [ $k -lt "$N" ]; do
	k=$((k + 1))
	ip link add veth0 netns "$A" address "$MAC" type veth peer name veth1 netns "$B" &&
		ip -n "$B" link set veth1 up &&
		ip -n "$A" link set veth0 master tbond &&
		ip -n "$A" link set vethb master tbond &&
		ip -n "$A" link set tbond up || e_slave=$((e_slave + 1))
	[ $k = 1 ] && { nsx "$A" daqsctl set dev veth0 rate 10mbit || e_slave=$((e_slave + 1)); }
	[ "$(nsx "$A" cat /sys/class/net/veth0/daqs/rate_bps 2>/dev/null)" = 10000000 ] ||
		e_sback=$((e_sback + 1))
	"$DAQS_BIN/ip" netns exec "$A" udpflood -E 198.51.100.2 9000 >/dev/null &
	fl=$!
	msleep $((100 + $(sed -n "${k}p" /tmp/td-wait.txt)))
	t=$(now_ms)
	ip -n "$A" link del veth0 || e_slave=$((e_slave + 1))
	echo $(($(now_ms) - t)) >>/tmp/td-del-ms.txt
	nsx "$A" daqsctl -j show >/tmp/td.json 2>&1
	st=$(json_flatten /tmp/td.json | awk -F= -v m="$MAC" '$1 ~ /\.mac$/ && $2 == m { split($1, p, "."); i = p[1] } { v[$1] = $2 } END { print v[i ".state"] }')
	[ "$st" = absent ] || { e_slave=$((e_slave + 1)); note "bond slave deleted, cycle $k: its binding is $st: $(tr -d '\n' </tmp/td.json)"; }
	kill "$fl" 2>/dev/null
	wait "$fl"
	ip -n "$A" link set vethb nomaster
done
kill "$mon" 2>/dev/null
wait "$mon"
nb=$(grep -c 'event device_back' /tmp/td-mon.txt) ng=$(grep -c 'event device_gone' /tmp/td-mon.txt)
note "bond slave deletion: $k deletions under a UDP flood; the monitor saw $ng device_gone, $nb device_back"
note "$(dist "bond slave deletion: ip link del took" ms </tmp/td-del-ms.txt) (a binding holding the dying device makes it wait for the kernel's rebroadcast, 1 s)"
check_eq slavedel_binding_absent_each_time 0 "$e_slave"
check_eq slavedel_limit_back_with_the_new_slave 0 "$e_sback"
check_eq slavedel_gone_once_per_deletion "$N" "$ng"
check_eq slavedel_back_once_per_new_device $((N - 1)) "$nb"
kill "$sink" 2>/dev/null
wait "$sink"
nsx "$A" daqsctl del mac "$MAC"
netns_del "$A" "$B"

# --- the namespace deleted under traffic ----------------------------------------
k=0 e_ns=0
while [ $k -lt "$N" ]; do
	k=$((k + 1))
	pair || { e_ns=$((e_ns + 1)); netns_del "$A" "$B"; continue; }
	"$DAQS_BIN/ip" netns exec "$B" udpflood -l 9000 >/dev/null &
	sink=$!
	mode=shape
	[ $((k % 3)) = 0 ] && mode=police
	nsx "$A" daqsctl set dev veth0 rate 10mbit mode $mode || e_ns=$((e_ns + 1))
	"$DAQS_BIN/ip" netns exec "$A" udpflood -E 198.51.100.2 9000 >/dev/null &
	fl=$!
	msleep $((100 + $(sed -n "${k}p" /tmp/td-wait2.txt)))
	kill -9 "$fl"
	ip netns del "$A" || e_ns=$((e_ns + 1))
	wait "$fl" 2>/dev/null
	kill "$sink" 2>/dev/null
	wait "$sink"
	netns_del "$B"
done
check_eq netnsdel_count "$N" "$k"
check_eq netnsdel_failures 0 "$e_ns"
# the namespaces' cleanup is asynchronous: give it time, then nothing may
# hold a device (a leaked netdev reference makes the kernel wait, and say so)
sleep 3
check_eq no_device_left_waiting 0 "$(dmesg | grep -c 'waiting for .* to become free')"
check_eq module_refcount_zero 0 "$(cat /sys/module/daqs/refcnt)"
check teardown_rmmod rmmod daqs
check teardown_modprobe modprobe daqs
m1=$(mem_sample)
set -- $m0 $m1
note "teardown: MemAvailable $(($1 / 1024)) -> $(($4 / 1024)) MiB, SUnreclaim $(($3 / 1024)) -> $(($6 / 1024)) MiB over $((2 * N)) cycles"
check_ge teardown_sunreclaim_growth_le_8mib $((8 * 1024)) $(($6 - $3))
