#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# smoke.sh - the harness and the guest's network work, before daqs is involved.
#
#	┌──── netns smoke-a ─────────┐         ┌──── netns smoke-b ─────────┐
#	│ iperf3 client              │         │ iperf3 server              │
#	│ veth0  198.51.100.1/24     ├─────────┤ veth1  198.51.100.2/24     │
#	│ 2 tx / 2 rx queues         │         │ 2 tx / 2 rx queues         │
#	└────────────────────────────┘         └────────────────────────────┘
#
# With run.sh --mq-net, also (guest's own namespace):
#
#	┌──── guest ─────────────────┐   tap, 2 queues   ┌──── host netns daqs-e2e-PID ─┐
#	│ eth0 (virtio-net, mq)      ├───────────────────┤ daqs-tap0  192.0.2.1/24      │
#	│ 192.0.2.2/24, iperf3 -c    │                   │ iperf3 -s :5201 :5202        │
#	└────────────────────────────┘                   └──────────────────────────────┘
#
# Counters are checked exactly where two views of the same bytes exist.

# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

kv=$(uname -r)

for m in veth dummy sch_tbf sch_htb sch_fq pktgen bonding net_failover; do
	check "modprobe-$m" modprobe "$m"
done

# --- veth between two namespaces -------------------------------------------------------
A=smoke-a B=smoke-b
check netns-pair netns_pair "$A" "$B"
check veth-2-txqueues nsx "$A" test -d /sys/class/net/veth0/queues/tx-1
check veth-ping nsx "$A" ping -c 1 -W 5 198.51.100.2

json=/tmp/smoke-veth.json
if iperf3_server "$B" && iperf3_client "$A" 198.51.100.2 3 "$json"; then
	ok iperf3-veth
	bps=$(iperf3_rx_bps "$json")
	note "veth: receiver $(mbit "$bps") Mbit/s, $(iperf3_retransmits "$json") retransmits"
	check_gt iperf3-veth-rate "$bps" 0
	sent=$(iperf3_sent_bytes "$json")
else
	fail iperf3-veth "iperf3 did not complete"
	sent=0
fi
iperf3_server_stop "$B"

# The sender's tx_bytes and the peer's rx_bytes are two counts of the same frames.
# shellcheck disable=SC2046 # two numbers
set -- $(netdev_stat_pair "$A" veth0 tx_bytes "$B" veth1 rx_bytes)
note "veth0 tx_bytes $1, veth1 rx_bytes $2, iperf3 payload $sent"
check_eq veth-tx-bytes-eq-peer-rx "$1" "$2"
# Frames carry headers on top of the payload iperf3 counted.
check_ge veth-tx-bytes-ge-payload "$1" "$sent"
# shellcheck disable=SC2046
set -- $(netdev_stat_pair "$A" veth0 tx_packets "$B" veth1 rx_packets)
check_eq veth-tx-packets-eq-peer-rx "$1" "$2"
netns_del "$A" "$B"

# --- daqs.ko, when the initramfs carries one -------------------------------------------
ko=
for f in /lib/modules/"$kv"/extra/daqs.ko*; do
	[ -f "$f" ] && ko=$f
done
if [ -n "$ko" ]; then
	check daqs-insmod insmod "$ko"
	check daqs-sysfs test -d /sys/module/daqs
	check daqs-rmmod rmmod daqs
	check daqs-gone test ! -d /sys/module/daqs
else
	skip daqs-module "no daqs.ko in this initramfs (run.sh --module)"
fi

# --- virtio-serial port to the host (run.sh --virtio-serial) -----------------------------
if [ -n "${DAQS_VPORT:-}" ]; then
	check vport-org.daqs.0 test -c "$DAQS_VPORT"
else
	skip vport "no --virtio-serial port on this boot"
fi

# --- 2-queue virtio-net to the host (run.sh --mq-net) ------------------------------------
if [ -z "${DAQS_HOST_IP:-}" ]; then
	skip mq-net "no --mq-net NIC on this boot"
	exit 0
fi

q=/sys/class/net/eth0/queues
check mq-net-2-txqueues test -d $q/tx-0 -a -d $q/tx-1 -a ! -d $q/tx-2
check mq-net-ping ping -c 1 -W 5 "$DAQS_HOST_IP"

json=/tmp/smoke-mq.json
tx0=$(netdev_stat - eth0 tx_bytes)
if iperf3_client - "$DAQS_HOST_IP" 3 "$json"; then
	ok iperf3-mq-net
	bps=$(iperf3_rx_bps "$json")
	note "mq-net: receiver $(mbit "$bps") Mbit/s, $(iperf3_retransmits "$json") retransmits"
	check_gt iperf3-mq-net-rate "$bps" 0
	tx1=$(netdev_stat - eth0 tx_bytes)
	check_ge mq-net-tx-bytes-ge-payload "$((tx1 - tx0))" "$(iperf3_sent_bytes "$json")"
else
	fail iperf3-mq-net "iperf3 did not complete"
fi

# One client pinned to each CPU: virtio_net maps CPU n to tx queue n (XPS), so both
# queues must carry packets. The root qdisc is mq, whose classes count per queue.
check mq-net-root-mq sh -c "$DAQS_BIN/tc qdisc show dev eth0 | grep -q '^qdisc mq 0: root'"
a0=$(mq_txq_stat - eth0 0 packets) a1=$(mq_txq_stat - eth0 1 packets)
taskset 1 iperf3 --client "$DAQS_HOST_IP" --port 5201 --time 2 --json >/tmp/mq0.json 2>&1 &
p0=$!
taskset 2 iperf3 --client "$DAQS_HOST_IP" --port 5202 --time 2 --json >/tmp/mq1.json 2>&1 &
p1=$!
wait $p0
r0=$?
wait $p1
r1=$?
b0=$(mq_txq_stat - eth0 0 packets) b1=$(mq_txq_stat - eth0 1 packets)
note "mq-net: tx queue 0 +$((b0 - a0)) packets, tx queue 1 +$((b1 - a1)) packets"
check_eq mq-net-pinned-clients "0 0" "$r0 $r1"
check_gt mq-net-txq0-used "$((b0 - a0))" 0
check_gt mq-net-txq1-used "$((b1 - a1))" 0
