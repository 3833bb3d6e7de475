#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The guest half of `make demo` until the lab exists: daqs.ko limiting a
# veth in a real Debian kernel, with live counters.
. "$(dirname "$0")/lib.sh"

A=demo-a B=demo-b
say() { note "$*"; }
show() { nsx "$A" daqsctl show dev veth0 | while IFS= read -r l; do note "    $l"; done; }
run() { # STREAMS SECONDS
	iperf3_client "$A" 198.51.100.2 "$2" /tmp/demo.json -O 1 -P "$1" >/dev/null
	awk -v g="$(iperf3_rx_bps /tmp/demo.json)" 'BEGIN { printf "%.1f", g * 1514 / 1448 / 1e6 }'
}

modprobe daqs
netns_pair "$A" "$B"
iperf3_server "$B" >/dev/null
say "two namespaces joined by a 2-queue veth pair; iperf3 TCP from $A to $B"
say "no limit, 8 streams: $(run 8 4) Mbit/s on the wire"
nsx "$A" daqsctl set dev veth0 rate 200mbit burst 64k
say "daqsctl set dev veth0 rate 200mbit  ->  8 streams: $(run 8 5) Mbit/s"
say "                                    ->  1 stream:  $(run 1 5) Mbit/s"
show
tc -n "$A" qdisc add dev veth0 root tbf rate 200mbit burst 64kb latency 50ms
nsx "$A" daqsctl set dev veth0 rate 0
say "for comparison, tc tbf rate 200mbit burst 64kb, 8 streams: $(run 8 5) Mbit/s"
tc -n "$A" qdisc del dev veth0 root
nsx "$A" daqsctl set dev veth0 rate 50mbit lease 3s fallback 10mbit
say "daqsctl set dev veth0 rate 50mbit lease 3s fallback 10mbit -> $(run 4 2) Mbit/s"
sleep 2
say "no renewal: lease $(nsx "$A" cat /sys/class/net/veth0/daqs/lease_state), now $(run 4 3) Mbit/s (the fallback)"
show
iperf3_server_stop "$B"
netns_del "$A" "$B"
ok demo
