#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The guest half of the lab (tests/lab/lab.py drives it; see docs/lab.md). One
# QEMU guest plays a whole SR-IOV host: one network namespace per VM, each
# VM's eth0 (a veth standing in for its VF) with its own daqs.ko binding and
# its own daqs-agent on its own virtio-serial port org.daqs.vmN, which the
# host's daqsd reaches through the channel dir.
#
#   vm1: eth0 10.0.0.1 --- p1 --+
#   vm2: eth0 10.0.0.2 --- p2 --+-- br0 (nic) -- up0 ==[shaped at H]==> sink0 10.0.0.254 (sink)
#   ...                         |                          iperf3 -s -p 52I0..52I7 for vmI
#   vmN: eth0 10.0.0.N --- pN --+
#
# The host talks to this script over the virtio-serial port org.daqs.lab, one
# command a line; every command is answered by lines ending with "end CMD":
#   setup N RATE_BPS QDISC...   namespaces, bridge, shaped link, agents, sinks
#   unbind                      daqsctl del dev eth0 in every VM (method none),
#                               and any tc qdisc of tbf below
#   gso SEGS                    every VM's eth0 builds GSO packets of at most
#                               SEGS segments (docs/lab.md: the lab's scale)
#   tbf VM RATE_BPS             tc tbf at RATE_BPS on vmVM's eth0, with daqs'
#                               automatic burst (64 KiB here) and qlimit
#                               (50 ms): the calibration's exact limiter
#   show                        each VM's binding: "b vmI RATE LEASE_STATE"
#   run NAME SECONDS SEG...     SEG = VM:START:DUR:STREAMS (seconds; STREAMS
#                               iperf3 clients of one stream each, at most
#                               MAXP, from vmVM for DUR s starting at START);
#                               answers "d T_NS RX1 PK1 ... RXN PKN TXUP PKUP":
#                               the nic-side peers' rx_bytes/rx_packets every
#                               100 ms (tests/tools/sample), then "i ..." lines
#                               with each client's summary
#   quit                        stop everything and end the test
IP=$DAQS_BIN/ip
TC=$DAQS_BIN/tc
N=0
AGENTS=''
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

nsx() { "$IP" netns exec "$@"; }

setup() {
	N=$1 rate=$2
	shift 2
	modprobe daqs || return 1
	modprobe bridge || return 1
	for ns in nic sink; do
		"$IP" netns add $ns || return 1
	done
	i=1
	while [ $i -le "$N" ]; do
		"$IP" netns add vm$i || return 1
		i=$((i + 1))
	done
	for ns in nic sink $(i=1; while [ $i -le "$N" ]; do echo vm$i; i=$((i + 1)); done); do
		nsx $ns sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
		"$IP" -n $ns link set lo up
	done
	"$IP" -n nic link add br0 type bridge forward_delay 0 stp_state 0 || return 1
	"$IP" -n nic link set br0 up
	"$IP" -n nic link add up0 type veth peer name sink0 netns sink || return 1
	"$IP" -n nic link set up0 master br0 up
	"$IP" -n sink addr add 10.0.0.254/24 dev sink0
	"$IP" -n sink link set sink0 up
	# the shared link: everything the VMs send to the sink crosses up0's qdisc
	nsx nic "$TC" qdisc add dev up0 root "$@" || return 1
	i=1
	while [ $i -le "$N" ]; do
		"$IP" -n vm$i link add eth0 type veth peer name p$i netns nic || return 1
		"$IP" -n vm$i link set eth0 address "52:54:00:da:00:$(printf %02x $i)"
		"$IP" -n vm$i addr add 10.0.0.$i/24 dev eth0
		"$IP" -n vm$i link set eth0 up
		"$IP" -n nic link set p$i master br0 up
		j=0
		while [ $j -lt $MAXP ]; do
			nsx sink iperf3 --server --port $((5200 + 10 * i + j)) >/tmp/iperf3-s-$i-$j.log 2>&1 &
			j=$((j + 1))
		done
		port=$(readlink -f /dev/virtio-ports/org.daqs.vm$i)
		[ -c "$port" ] || { echo "no port org.daqs.vm$i" >&2; return 1; }
		nsx vm$i daqs-agent -v -p "$port" -d eth0 >/tmp/agent-vm$i.log 2>&1 &
		AGENTS="$AGENTS $!"
		i=$((i + 1))
	done
	# every VM reaches the sink (and the bridge learns where the VMs are)
	i=1
	while [ $i -le "$N" ]; do
		nsx vm$i ping -q -c 1 -W 5 10.0.0.254 >/dev/null || { echo "vm$i cannot reach the sink" >&2; return 1; }
		i=$((i + 1))
	done
	return 0
}

run() {
	name=$1 dur=$2
	shift 2
	files=''
	i=1
	while [ $i -le "$N" ]; do
		files="$files /sys/class/net/p$i/statistics/rx_bytes /sys/class/net/p$i/statistics/rx_packets"
		i=$((i + 1))
	done
	files="$files /sys/class/net/up0/statistics/tx_bytes /sys/class/net/up0/statistics/tx_packets"
	rm -f /tmp/run-*.log
	counters >/tmp/w0.txt
	# shellcheck disable=SC2086
	nsx nic sample 100 $((dur * 10 + 11)) $files >/tmp/samples.txt &
	spid=$!
	k=0 cpids=''
	for seg in "$@"; do
		vm=${seg%%:*} rest=${seg#*:}
		st=${rest%%:*} rest=${rest#*:}
		d=${rest%%:*} p=${rest#*:}
		clients $k "$vm" "$st" "$d" "$p" 10.0.0.254 nsx vm$vm
		k=$((k + 1))
	done
	wait $spid
	# clients still running (a late start) are stopped; the window is over
	for pid in $(pidof iperf3); do
		tr '\0' ' ' </proc/$pid/cmdline 2>/dev/null | grep -q ' -c ' && kill $pid 2>/dev/null
	done
	# shellcheck disable=SC2086
	wait $cpids
	sed 's/^/d /' /tmp/samples.txt >&3
	# daqs' own count against the lab's, over the phase: "w VM BEFORE AFTER"
	counters >/tmp/w1.txt
	paste /tmp/w0.txt /tmp/w1.txt | sed 's/^/w /' >&3
	for f in /tmp/run-*.log; do
		[ -f "$f" ] || continue
		echo "i $(basename "$f" .log) $(grep -E 'SUM.*receiver|[0-9] +sec.*receiver' "$f" | tail -n 1)" >&3
		grep -q 'error' "$f" && echo "i $(basename "$f" .log) $(grep error "$f" | head -n 1)" >&3
	done
}

# counters: per VM "vmI DAQS_TX_WIRE_BYTES NIC_RX_BYTES NIC_RX_PACKETS" ("-": unbound)
counters() {
	i=1
	while [ $i -le "$N" ]; do
		echo "vm$i $(nsx vm$i cat /sys/class/net/eth0/daqs/tx_wire_bytes 2>/dev/null || echo -)" \
			"$(nsx nic cat /sys/class/net/p$i/statistics/rx_bytes) $(nsx nic cat /sys/class/net/p$i/statistics/rx_packets)"
		i=$((i + 1))
	done
}

show() {
	i=1
	while [ $i -le "$N" ]; do
		reply "b vm$i $(nsx vm$i cat /sys/class/net/eth0/daqs/rate_bps 2>/dev/null || echo -) $(nsx vm$i cat /sys/class/net/eth0/daqs/lease_state 2>/dev/null || echo -)"
		i=$((i + 1))
	done
}

unbind() {
	i=1
	while [ $i -le "$N" ]; do
		nsx vm$i daqsctl del dev eth0 >/dev/null 2>&1
		nsx vm$i "$TC" qdisc del dev eth0 root >/dev/null 2>&1
		i=$((i + 1))
	done
}

gso() {
	i=1
	while [ $i -le "$N" ]; do
		"$IP" -n vm$i link set dev eth0 gso_max_segs "$1" ||
			reply "error gso vm$i"
		i=$((i + 1))
	done
}

tbf() {
	nsx "vm$1" "$TC" qdisc replace dev eth0 root tbf rate "${2}bit" \
		burst 65536 latency 50ms >/tmp/tbf.log 2>&1 ||
		reply "error tbf $(tr '\n' ' ' </tmp/tbf.log)"
}

finish() {
	for p in $AGENTS; do kill "$p" 2>/dev/null; done
	for pid in $(pidof iperf3); do kill "$pid" 2>/dev/null; done
	for i in $(seq 1 "$N"); do
		echo "--- agent vm$i"
		tail -n 5 /tmp/agent-vm$i.log
	done
	exit 0
}

serve unbind show run tbf gso
