#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The guest half of the lab with --vms qemu (tests/lab/lab.py drives it; see
# docs/lab.md): this QEMU guest is one VM. Its eth0 is a virtio-net NIC on a
# tap of the host's lab bridge (standing in for its VF), bound by daqs.ko;
# its daqs-agent serves the host's daqsd on the virtio-serial port
# org.daqs.0. The host's shaped link and iperf3 sinks are on the host:
#
#   guest vmI: eth0 10.0.0.I == tapI --+-- br0 -- up0 ==[shaped at H]==> sink0 10.0.0.254
#                                       (host namespaces)         iperf3 -s -p 52I0..52I7
#
# The host talks to this script over the virtio-serial port org.daqs.lab, one
# command a line; every command is answered by lines ending with "end CMD":
#   setup I SINK_IP            daqs.ko, the agent on org.daqs.0 for eth0, a ping
#   unbind                     daqsctl del dev eth0 (method none)
#   show                       the binding: "b vmI RATE LEASE_STATE"
#   gso SEGS                   eth0 builds GSO packets of at most SEGS segments
#   flows NAME SECONDS SEG...  SEG = START:DUR:STREAMS (STREAMS iperf3 clients of
#                              one stream each, at most MAXP, to the sink for
#                              DUR s from START s); clients still running
#                              SECONDS + 1.1 s after the command are stopped;
#                              answers "x DAQS_TX_WIRE_BEFORE AFTER" ("-":
#                              unbound) and "i ..." lines with each client's
#                              summary
#   quit                       stop everything and end the test
VM=0
SINK=''
AGENT=''
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

setup() {
	VM=$1 SINK=$2
	modprobe daqs || return 1
	[ -e /sys/class/net/eth0 ] || { echo "no eth0" >&2; return 1; }
	port=$(readlink -f /dev/virtio-ports/org.daqs.0)
	[ -c "$port" ] || { echo "no port org.daqs.0" >&2; return 1; }
	daqs-agent -v -p "$port" -d eth0 >/tmp/agent.log 2>&1 &
	AGENT=$!
	# the sink answers (and the host's bridge learns where this VM is)
	ping -q -c 1 -W 5 "$SINK" >/dev/null || { echo "vm$VM cannot reach the sink $SINK" >&2; return 1; }
	return 0
}

unbind() { daqsctl del dev eth0 >/dev/null 2>&1; }

# eth0 builds GSO packets of at most $1 segments (docs/lab.md: the lab's scale)
gso() { "$DAQS_BIN/ip" link set dev eth0 gso_max_segs "$1" || reply "error gso vm$VM"; }

show() {
	reply "b vm$VM $(cat /sys/class/net/eth0/daqs/rate_bps 2>/dev/null || echo -) $(cat /sys/class/net/eth0/daqs/lease_state 2>/dev/null || echo -)"
}

wire() { cat /sys/class/net/eth0/daqs/tx_wire_bytes 2>/dev/null || echo -; }

flows() {
	dur=$2
	shift 2
	rm -f /tmp/run-*.log
	w0=$(wire)
	k=0 cpids=''
	for seg in "$@"; do
		st=${seg%%:*} rest=${seg#*:}
		d=${rest%%:*} p=${rest#*:}
		clients $k "$VM" "$st" "$d" "$p" "$SINK"
		k=$((k + 1))
	done
	sleep "$dur.1"
	sleep 1
	# clients still running (a late start) are stopped; the window is over
	for pid in $(pidof iperf3); do
		kill "$pid" 2>/dev/null
	done
	# (a bare wait would wait for the agent too)
	# shellcheck disable=SC2086
	[ -n "$cpids" ] && wait $cpids
	reply "x $w0 $(wire)"
	for f in /tmp/run-*.log; do
		[ -f "$f" ] || continue
		echo "i $(basename "$f" .log) $(grep -E 'SUM.*receiver|[0-9] +sec.*receiver' "$f" | tail -n 1)" >&3
		grep -q 'error' "$f" && echo "i $(basename "$f" .log) $(grep error "$f" | head -n 1)" >&3
	done
}

finish() {
	[ -n "$AGENT" ] && kill "$AGENT" 2>/dev/null
	for pid in $(pidof iperf3); do kill "$pid" 2>/dev/null; done
	echo "--- agent vm$VM"
	tail -n 5 /tmp/agent.log 2>/dev/null
	exit 0
}

serve unbind show flows gso
