#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Netlink fuzzing: nlfuzz (tests/tools/nlfuzz.c) sends NLFUZZ_COUNT (100000)
# random and mutated messages to the daqs family, from the init namespace,
# from another one aiming at this one's devices, as an unprivileged user
# (with a socket of its own, and with one opened as root) and as root of a
# user namespace of its own; it checks that every message refused, or that
# can change nothing, changes no binding and sends no event, that accepted
# SETs and DELs change one binding each, that no phase touches another
# namespace, and that sysfs agrees with netlink. Its seed is printed: a
# failure replays with NLFUZZ_SEED=<seed> (and the same NLFUZZ_COUNT).
# Bindings exist beforehand in every namespace (attached, absent, leased);
# at the end the module must still unload with whatever the fuzzer left.
#
#	┌──── init ──────────────┐   ┌──── fa ──────────┐   ┌──── fb ──────────┐
#	│ veth0 (bound) ─────────┼───┼─ veth1 (bound)   │   │ fz1 (bound)      │
#	│ fz0 (bound, leased)    │   │ absent MAC bound │   │                  │
#	│ fz2 (bound by MAC)     │   │                  │   │                  │
#	└────────────────────────┘   └──────────────────┘   └──────────────────┘
. "$(dirname "$0")/lib.sh"

COUNT=${NLFUZZ_COUNT:-100000}
# a debug kernel (KASAN) is several times slower: a fifth, unless told
if [ -z "${NLFUZZ_COUNT:-}" ] && grep -qw kasan_report /proc/kallsyms; then
	COUNT=20000
	# (not in capitals: the word is how run.sh finds a KASAN report on the console)
	note "nlfuzz: a kasan kernel: $COUNT messages by default (NLFUZZ_COUNT= for more)"
fi
SEED=${NLFUZZ_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}

if ! modprobe daqs; then
	fail nlfuzz_modprobe "modprobe daqs failed"
	exit 0
fi
modprobe dummy
netns_new fa
netns_new fb
ip link add veth0 type veth peer name veth1 netns fa
ip link add fz0 type dummy
ip -n fb link add fz1 type dummy
ip link set veth0 up
ip link set fz0 up
ip -n fa link set veth1 up
ip -n fb link set fz1 up
daqsctl set dev veth0 rate 100mbit burst 64k &&
	daqsctl set dev fz0 rate 10mbit lease 3600s fallback 1mbit &&
	nsx fa daqsctl set dev veth1 rate 50mbit mode police &&
	nsx fa daqsctl set mac 02:da:05:00:00:01 rate 1mbit &&
	nsx fb daqsctl set dev fz1 rate 20mbit qlimit 5ms
check_eq nlfuzz_setup 0 $?
# found by the fuzzer: a SET by the MAC of a device that is there, with no
# binding yet, left a binding waiting for the device to appear, and the
# device unlimited; now it binds the device
ip link add fz2 type dummy
daqsctl set mac "$(cat /sys/class/net/fz2/address)" rate 5mbit
check_eq set_by_mac_binds_present_device 5000000 \
	"$(cat /sys/class/net/fz2/daqs/rate_bps 2>/dev/null)"

start=$(cut -d' ' -f1 /proc/uptime)
# on the console as it goes, and kept for the results
{
	nlfuzz -s "$SEED" -n "$COUNT" -N fa -N fb
	echo $? >/tmp/nlfuzz.rc
} 2>&1 | tee /tmp/nlfuzz.out
rc=$(cat /tmp/nlfuzz.rc)
end=$(cut -d' ' -f1 /proc/uptime)
note "nlfuzz seed $SEED, $COUNT messages, $(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }') s (replay: NLFUZZ_SEED=$SEED NLFUZZ_COUNT=$COUNT)"
grep '^nlfuzz: VIOLATION' /tmp/nlfuzz.out | head -n 20 | while read -r line; do
	note "$line"
done
# one result per phase: "nlfuzz: phase NAME: sent ... violations N in S s"
for phase in init netns unpriv inherit userns; do
	line=$(grep "^nlfuzz: phase ${phase}[: ]" /tmp/nlfuzz.out)
	case $line in
	*" skipped: "*)
		skip "nlfuzz_$phase" "${line#*skipped: }"
		;;
	*" violations 0 in "*)
		ok "nlfuzz_$phase" "${line#*: phase "$phase": }"
		;;
	"")
		fail "nlfuzz_$phase" "no summary (nlfuzz exit status $rc)"
		;;
	*)
		fail "nlfuzz_$phase" "${line#*: phase "$phase": }"
		;;
	esac
done
total=$(grep '^nlfuzz: total:' /tmp/nlfuzz.out)
sent=$(echo "$total" | awk '{ for (i = 1; i < NF; i++) if ($i == "sent") print $(i + 1) }')
note "${total#nlfuzz: }"
check_ge nlfuzz_sent_all "${sent:-0}" "$COUNT"
check_eq nlfuzz_exit_status 0 "$rc"

# the module goes with every binding the fuzzer left, in every namespace
netns_del fa fb
ip link del veth0 2>/dev/null
ip link del fz0 2>/dev/null
ip link del fz2 2>/dev/null
check nlfuzz_rmmod rmmod daqs
