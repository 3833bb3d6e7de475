#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Rate accuracy of daqs shape mode with iperf3 TCP, 1 and 8 streams, at 50,
# 200 and 800 Mbit/s, next to tc tbf in the same boot; police mode drops
# counted exactly. Rates are judged on the wire: iperf3's receiver goodput
# times 1514/1448 (MSS 1448 with timestamps, 66 bytes of headers a segment,
# the bytes a shaper counts; see lab-facts). Lines starting "# acc" are the
# accuracy table. daqs runs with its automatic burst; tbf with the same
# burst and with the 64 KB users typically give it.
#
#	┌──── aa ───────────────────┐     ┌──── ab ───────────────────┐
#	│ veth0  198.51.100.1/24    ├─────┤ veth1  198.51.100.2/24    │
#	│ 2 tx queues; daqs or tbf  │     │ iperf3 server             │
#	└───────────────────────────┘     └───────────────────────────┘
. "$(dirname "$0")/lib.sh"

A=aa B=ab
T=${DAQS_ACC_SECONDS:-5}
RATES=${DAQS_ACC_RATES:-50 200 800}
# the debug kernel's guest carries a few Mbit/s, as the shaper likes or not:
# no accuracy table there, unless asked for; police at what it can exceed
prate=50mbit
if debug_kernel; then
	RATES=${DAQS_ACC_RATES:-}
	prate=1mbit
fi

modprobe daqs
netns_pair "$A" "$B"
iperf3_server "$B"

# measure NAME STREAMS: run iperf3, print "wire_bps retransmits segments"
measure() {
	iperf3_client "$A" 198.51.100.2 "$T" "/tmp/$1.json" -O 1 -P "$2" || return
	awk -v g="$(iperf3_rx_bps "/tmp/$1.json")" \
		-v r="$(iperf3_retransmits "/tmp/$1.json")" \
		-v s="$(iperf3_sent_bytes "/tmp/$1.json")" \
		'BEGIN { printf "%.0f %d %.0f\n", g * 1514 / 1448, r, s / 1448 }'
}

# measure_median NAME STREAMS "FIRST": two more runs after a first one
# (its measure line), and the line of the three with the median rate
measure_median() {
	{ echo "$3"; measure "$1-b" "$2"; measure "$1-c" "$2"; } | sort -n | sed -n 2p
}

# within GOT WANT PERCENT
within() { awk -v g="$1" -v w="$2" -v p="$3" 'BEGIN { d = g - w; if (d < 0) d = -d; exit !(d <= w * p / 100) }'; }

# no limit: what this guest can carry, with 1 stream and with 8. iperf3
# 3.12 runs a client's streams in one thread, and one TCP flow through veth
# is one CPU's work: on a slow host 1 stream carries less than 8 (CI: 8
# streams well above 880 Mbit/s, tbf with 1 stream and a 500 kB burst 765).
# A rate is judged only for the stream counts that carry 1.1 times it.
set -- $(measure base-1 1)
cap1=$1
set -- $(measure base-8 8)
cap8=$1
capacity=$cap8
note "acc unshaped: 1 stream $(mbit "$cap1"), 8 streams $(mbit "$cap8") Mbit/s on the wire"

[ -n "$RATES" ] ||
	skip daqs_shape_accuracy "debug kernel: rates not judged (the guest carries $(mbit "$capacity") Mbit/s unshaped)"
note "acc method rate_mbit streams achieved_mbit error_pct retransmits segments"
for rate in $RATES; do
	bps=$((rate * 1000000))
	for p in 1 8; do
		# daqs, automatic burst (5 ms at the rate, at least 64 KiB)
		nsx "$A" daqsctl set dev veth0 rate "${rate}mbit" mode shape
		burst=$(nsx "$A" cat /sys/class/net/veth0/daqs/burst_bytes)
		set -- $(measure "daqs-$rate-$p" "$p")
		got=$1 rtx=$2 segs=$3 how=
		# a shared host can starve the guest's vCPUs for tens of ms, which
		# no shaper inside it can make up for: a run outside the tolerance
		# is repeated twice and judged by the median of the three
		if ! within "$got" "$bps" 2; then
			set -- $(measure_median "daqs-$rate-$p" "$p" "$got $rtx $segs")
			how=" (median of 3, first run $(mbit "$got"))"
			got=$1 rtx=$2 segs=$3
		fi
		err=$(awk -v g="$got" -v w="$bps" 'BEGIN { printf "%+.2f", (g - w) * 100 / w }')
		note "acc daqs-shape/burst=$burst $rate $p $(mbit "$got") $err $rtx $segs$how"
		nsx "$A" daqsctl del dev veth0

		# tc tbf, the anchor, with the same burst and with 64 KB; when daqs
		# missed, tbf with the same burst is measured three times too, and
		# its median is what the host let a shaper carry in this boot
		anchor=
		for b in $(echo "$burst 65536" | tr ' ' '\n' | sort -un); do
			tc -n "$A" qdisc add dev veth0 root tbf rate "${rate}mbit" \
				burst "$b" latency 50ms
			set -- $(measure "tbf-$rate-$p" "$p")
			tgot=$1 trtx=$2 tsegs=$3 thow=
			if [ "$b" = "$burst" ] && [ -n "$tgot" ] && ! within "$got" "$bps" 2; then
				set -- $(measure_median "tbf-$rate-$p" "$p" "$tgot $trtx $tsegs")
				thow=" (median of 3, first run $(mbit "$tgot"))"
				tgot=$1 trtx=$2 tsegs=$3 anchor=$1
			fi
			err=$(awk -v g="$tgot" -v w="$bps" 'BEGIN { printf "%+.2f", (g - w) * 100 / w }')
			note "acc tc-tbf/burst=$b $rate $p $(mbit "$tgot") $err $trtx $tsegs$thow"
			tc -n "$A" qdisc del dev veth0 root
		done

		cap=$cap8
		[ "$p" -gt 1 ] || cap=$cap1
		if awk -v c="$cap" -v w="$bps" 'BEGIN { exit !(c < w * 1.1) }'; then
			skip "daqs_shape_${rate}mbit_${p}_streams" \
				"guest carries only $(mbit "$cap") Mbit/s unshaped with $p streams"
		else
			check_shaped "daqs_shape_${rate}mbit_${p}_streams" "$got" "$bps" "$anchor"
		fi
		check_ge "daqs_shape_${rate}mbit_${p}_streams_retransmits_le_0.1pct" \
			"$(awk -v s="$segs" 'BEGIN { print s / 1000 }')" "$rtx"
	done
done

# police: a UDP flood far above the rate. The books must balance exactly:
# every datagram the sender handed over is either a daqs police drop (which
# the sender's UDP layer counts as a send error) or passed by daqs, and
# everything daqs passed is what the peer's device and its socket received.
# Nothing else may cross veth0 meanwhile: udpflood has no control connection,
# IPv6 is off and a permanent neighbour entry means no ARP. (With iperf3, CI
# once counted 4523 drops against 4522 send errors: one policed packet was
# not a datagram, a segment of iperf3's TCP control connection or an ARP probe.)
peer_mac=$(nsx "$B" cat /sys/class/net/veth1/address)
nsx "$A" "$DAQS_BIN/ip" neigh replace 198.51.100.2 lladdr "$peer_mac" dev veth0 nud permanent
"$DAQS_BIN/ip" netns exec "$B" udpflood -l 9000 >/tmp/police-sink.txt &
sink=$!
nsx "$A" daqsctl set dev veth0 rate "$prate" burst 64k mode police
DQ=/sys/class/net/veth0/daqs
dtx0=$(nsx "$A" cat $DQ/tx_packets) drop0=$(nsx "$A" cat $DQ/drops_police)
vrx0=$(netdev_stat "$B" veth1 rx_packets)
err0=$(snmp_udp "$A" SndbufErrors)
sleep 0.5
nsx "$A" udpflood -s 1400 -t 3 198.51.100.2 9000 >/tmp/police-flood.txt
sleep 0.5
passed=$(($(nsx "$A" cat $DQ/tx_packets) - dtx0))
drops=$(($(nsx "$A" cat $DQ/drops_police) - drop0))
received=$(($(netdev_stat "$B" veth1 rx_packets) - vrx0))
senderr=$(($(snmp_udp "$A" SndbufErrors) - err0))
kill -TERM "$sink"
wait "$sink"
sent=$(udpflood_count /tmp/police-flood.txt sent)
sunk=$(udpflood_count /tmp/police-sink.txt received)
note "police $prate, udpflood 1400 B for 3 s: sent ${sent:-?} datagrams; daqs passed $passed and dropped $drops; the sender's UDP layer saw $senderr send errors; the peer device received $received packets, its socket ${sunk:-?}"
check_gt police_drops_something "$drops" 0
check_eq police_sent_eq_passed_plus_drops "${sent:-none}" "$((passed + drops))"
check_eq police_drops_equal_sender_losses "$senderr" "$drops"
check_eq police_passed_reached_peer_device "$passed" "$received"
check_eq police_passed_reached_peer_socket "$passed" "${sunk:-none}"
nsx "$A" daqsctl del dev veth0

iperf3_server_stop "$B"
netns_del "$A" "$B"
