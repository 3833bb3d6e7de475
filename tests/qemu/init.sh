#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# /init of the daqs e2e initramfs (busybox sh). Sets up a minimal system, runs the test
# scripts named by daqs_tests= on the kernel command line, writes TAP-like results to the
# second serial port and powers off. The console (ttyS0) gets kernel messages and the
# tests' chatter; ttyS1 gets nothing but results, so a kernel message can never be read
# as a result and a crash can never look like a pass: the host wants "daqs-e2e: done".
#
# Kernel command line (set by run.sh):
#   daqs_tests=a.sh,b.sh        scripts in /tests, run in order
#   daqs_test_timeout=SECONDS   kill a script that runs longer (0 = no limit)
#   daqs_ip=ADDR/LEN daqs_peer=ADDR   address eth0 (run.sh --mq-net); peer exported to tests
#   daqs_vport=N                wait for the N virtio-serial ports (run.sh --virtio-serial),
#                               link them as /dev/virtio-ports/<name>, export DAQS_VPORT
# Parameter names carry no dot: "daqs.x=" would be handed to daqs.ko as a module option.

export PATH=/usr/lib/daqs-bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root
DAQS_BIN=/usr/lib/daqs-bin
DAQS_RESULTS=/dev/ttyS1
DAQS_STATE=/run/daqs-e2e
export DAQS_BIN DAQS_RESULTS DAQS_STATE

say() { echo "init: $*"; }

mount -t proc -o nosuid,nodev,noexec proc /proc
mount -t sysfs -o nosuid,nodev,noexec sysfs /sys
mount -t devtmpfs -o nosuid,mode=0755 devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts -o nosuid,noexec devpts /dev/pts
mount -t tmpfs -o nosuid,nodev,mode=1777 tmpfs /dev/shm
mount -t tmpfs -o nosuid,nodev,mode=0755 tmpfs /run
mount -t tmpfs -o nosuid,nodev,mode=1777 tmpfs /tmp
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
mount -t bpf bpf /sys/fs/bpf 2>/dev/null
mkdir -p /run/netns "$DAQS_STATE"
: >"$DAQS_STATE/results"
hostname daqs-e2e
ln -sf /proc/self/fd /dev/fd 2>/dev/null

# raw: no \r added, no echo of anything the host might send back.
stty -F "$DAQS_RESULTS" raw -echo clocal 2>/dev/null

# One open/close per line: closing a tty waits until its output has drained, so a line
# written just before poweroff is not lost in the UART's buffer.
result() {
	echo "$*" >>"$DAQS_STATE/results"
	echo "$*" >"$DAQS_RESULTS"
}

tests='' test_timeout=0 guest_ip='' peer_ip='' vport=0
# shellcheck disable=SC2013 # the command line is words
for arg in $(cat /proc/cmdline); do
	case $arg in
	daqs_tests=*) tests=$(echo "${arg#*=}" | tr , ' ') ;;
	daqs_test_timeout=*) test_timeout=${arg#*=} ;;
	daqs_ip=*) guest_ip=${arg#*=} ;;
	daqs_peer=*) peer_ip=${arg#*=} ;;
	daqs_vport=*) vport=${arg#*=} ;;
	esac
done

kv=$(uname -r)
result "# kernel $kv, $(nproc) cpus"
"$DAQS_BIN/ip" link set lo up

# Built-in on some kernels (6.12 builds virtio_pci and virtio_console in): not an error.
for m in virtio_pci virtio_net virtio_console; do
	modprobe "$m" 2>/dev/null ||
		grep -q "/$m\.ko" "/lib/modules/$kv/modules.builtin" ||
		say "modprobe $m failed"
done

if [ "$vport" -gt 0 ] 2>/dev/null; then
	# busybox has no udev to make /dev/virtio-ports/<name>; ports appear asynchronously.
	mkdir -p /dev/virtio-ports
	i=0
	while [ $i -lt 50 ]; do
		found=0
		for p in /sys/class/virtio-ports/*; do
			[ -f "$p/name" ] || continue
			name=$(cat "$p/name")
			[ -n "$name" ] || continue
			ln -sf "../$(basename "$p")" "/dev/virtio-ports/$name"
			found=$((found + 1))
		done
		[ $found -ge "$vport" ] && break
		i=$((i + 1))
		sleep 0.1
	done
	[ "$found" -ge "$vport" ] || say "$found of $vport virtio-serial ports appeared"
	export DAQS_VPORT=/dev/virtio-ports/org.daqs.0
fi

if [ -n "$guest_ip" ]; then
	i=0
	while [ ! -e /sys/class/net/eth0 ] && [ $i -lt 50 ]; do
		i=$((i + 1))
		sleep 0.1
	done
	echo 1 >/proc/sys/net/ipv6/conf/eth0/disable_ipv6 2>/dev/null
	if ! "$DAQS_BIN/ip" addr add "$guest_ip" dev eth0 ||
		! "$DAQS_BIN/ip" link set eth0 up; then
		say "cannot configure eth0 with $guest_ip"
	fi
	export DAQS_GUEST_IP="${guest_ip%/*}" DAQS_HOST_IP="$peer_ip"
fi

# kmemleak (the debug kernel): every boot ends with two scans that must find nothing.
# An object is reported by the second scan that sees it unchanged and at least 5 s old.
# Nothing was reported yet (no automatic scans): the clear is for a kernel that has them.
# The boot's own objects are judged at the end too (none found: scanning them first
# costs each boot two more scans, 10-20 s each under TCG).
kmemleak=/sys/kernel/debug/kmemleak
[ -w "$kmemleak" ] && echo clear >"$kmemleak"

cd /tests || say "no /tests"
for t in $tests; do
	before=$(wc -l <"$DAQS_STATE/results")
	result "# test $t"
	say "running $t"
	if [ ! -f "/tests/$t" ]; then
		result "not ok $t # no such test script"
		continue
	fi
	start=$(cut -d' ' -f1 /proc/uptime)
	if [ "$test_timeout" -gt 0 ]; then
		timeout -s KILL "$test_timeout" sh "/tests/$t" </dev/null
	else
		sh "/tests/$t" </dev/null
	fi
	rc=$?
	end=$(cut -d' ' -f1 /proc/uptime)
	mine=$(tail -n +"$((before + 2))" "$DAQS_STATE/results")
	# A script's exit status only counts when it reported no failure of its own.
	if [ "$rc" -ne 0 ] && ! echo "$mine" | grep -q '^not ok '; then
		result "not ok $t # exit status $rc"
	elif ! echo "$mine" | grep -q '^\(not \)\{0,1\}ok '; then
		result "not ok $t # reported no results"
	fi
	result "# $t took $(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }') s"
done

if [ -w "$kmemleak" ]; then
	say "kmemleak scan"
	start=$(cut -d' ' -f1 /proc/uptime)
	echo scan >"$kmemleak"
	# the second scan starts 5 s after the first one did, at the earliest
	sleep "$(awk -v a="$start" -v b="$(cut -d' ' -f1 /proc/uptime)" 'BEGIN { d = a + 5 - b; printf "%.1f", d > 0 ? d : 0 }')"
	echo scan >"$kmemleak"
	cat "$kmemleak" >/tmp/kmemleak
	n=$(grep -c '^unreferenced object' /tmp/kmemleak)
	if [ "$n" -eq 0 ]; then
		result "ok kmemleak # no unreferenced objects after the tests"
	else
		result "not ok kmemleak # $n unreferenced objects after the tests:"
		sed 's/^/# kmemleak: /' /tmp/kmemleak | head -n 200 | while IFS= read -r line; do
			result "$line"
		done
		sed 's/^/kmemleak: /' /tmp/kmemleak
	fi
fi

result "daqs-e2e: done"
sync
poweroff -f
# Not reached unless poweroff failed; a returning init panics, which also ends QEMU.
echo o >/proc/sysrq-trigger
sleep 10
