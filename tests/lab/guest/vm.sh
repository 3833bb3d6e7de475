#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The guest half of the lab with --vms qemu (tests/lab/lab.py drives it; see
# docs/lab.md): this QEMU guest is one VM. Its eth0 is a virtio-net NIC on a
# tap of the host's lab bridge (standing in for its VF), bound by daqs.ko;
# its daqs-agent serves the host's daqsd on the virtio-serial port
# org.daqs.0. The host's shaped link and iperf3 sinks are on the host:
#
#   guest vmI: eth0 10.0.0.I == tapI --+-- br0 -- up0 ==[shaped at H]==> sink0 10.0.0.254
#                                       (host namespaces)                   iperf3 -s -p 52NN
#
# The host talks to this script over the virtio-serial port org.daqs.lab, one
# command a line; every command is answered by lines ending with "end CMD":
#   setup I SINK_IP            daqs.ko, the agent on org.daqs.0 for eth0, a ping
#   unbind                     daqsctl del dev eth0 (method none)
#   show                       the binding: "b vmI RATE LEASE_STATE"
#   flows NAME SECONDS SEG...  SEG = START:DUR:STREAMS (iperf3 -P STREAMS to the
#                              sink for DUR s from START s); clients still running
#                              SECONDS + 1.1 s after the command are stopped;
#                              answers "x DAQS_TX_WIRE_BEFORE AFTER" ("-":
#                              unbound) and "i ..." lines with each client's
#                              summary
#   quit                       stop everything and end the test
PORT=/dev/virtio-ports/org.daqs.lab
VM=0
SINK=''
AGENT=''

result() {
	echo "$*" >>"$DAQS_STATE/results"
	echo "$*" >"$DAQS_RESULTS"
}
reply() { echo "$*" >&3; }

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
		(sleep "$st"; iperf3 -c "$SINK" -p $((5200 + VM)) -P "$p" -t "$d" \
			>/tmp/run-$k-vm$VM.log 2>&1) &
		cpids="$cpids $!"
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

i=0
while [ ! -e $PORT ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
exec 3<>$PORT || { result "not ok lab_port # no $PORT"; exit 1; }
result "# lab: waiting for the host on $PORT"
while :; do
	if ! read -r cmd args <&3; then
		# nobody on the host end yet (EOF): look again
		sleep 0.2
		continue
	fi
	case $cmd in
	setup)
		# shellcheck disable=SC2086
		if setup $args >/tmp/setup.log 2>&1; then
			result "ok lab_setup # $args"
		else
			result "not ok lab_setup # $(tail -n 3 /tmp/setup.log | tr '\n' ' ')"
			reply "error setup $(tail -n 3 /tmp/setup.log | tr '\n' ' ')"
		fi
		reply "end setup"
		;;
	unbind) daqsctl del dev eth0 >/dev/null 2>&1; reply "end unbind" ;;
	show)
		reply "b vm$VM $(cat /sys/class/net/eth0/daqs/rate_bps 2>/dev/null || echo -) $(cat /sys/class/net/eth0/daqs/lease_state 2>/dev/null || echo -)"
		reply "end show"
		;;
	# shellcheck disable=SC2086
	flows) flows $args; reply "end flows" ;;
	quit)
		reply "end quit"
		result "ok lab_guest # the host's commands ran"
		finish
		;;
	'') ;;
	*) reply "error unknown command '$cmd'"; reply "end $cmd" ;;
	esac
done
