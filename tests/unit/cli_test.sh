#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR MIT
#
# daqsctl as a user runs it, for everything that needs no kernel module:
# usage errors, bad values, a missing device, a module that is not loaded.
# The guest tests (tests/e2e) cover the rest against the real module.
#
# DAQSCTL: the binary; VALGRIND: a command prefix, or empty.
# Prints "ok"/"not ok" per check and "N passed, N failed".
set -u
: "${DAQSCTL:?DAQSCTL must name the daqsctl binary}"
VALGRIND=${VALGRIND:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0

ok() { echo "ok - $1"; pass=$((pass + 1)); }
not_ok() { echo "not ok - $1"; fail=$((fail + 1)); }

# expect RC STDERR ARGS...: exit status and the exact stderr; stdout empty
# when RC is not 0
expect() {
	want_rc=$1 want_err=$2
	shift 2
	# shellcheck disable=SC2086
	$VALGRIND "$DAQSCTL" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	name="daqsctl $*"
	if [ "$rc" -ne "$want_rc" ]; then
		not_ok "$name: exit $rc, wanted $want_rc"
		sed 's/^/# /' "$tmp/err"
	elif [ "$(cat "$tmp/err")" != "$want_err" ]; then
		not_ok "$name: stderr differs"
		echo "# want: $want_err" | sed '2,$s/^/# /'
		sed 's/^/# got:  /' "$tmp/err"
	elif [ "$want_rc" -ne 0 ] && [ -s "$tmp/out" ]; then
		not_ok "$name: wrote to stdout on error"
	else
		ok "$name"
	fi
}

set_usage="Usage: daqsctl set {dev DEV | mac MAC} [rate RATE] [burst SIZE] [mode {shape | police}] [qlimit TIME] [lease TIME] [fallback RATE] [nocreate] [excl]"
main_usage="Usage: daqsctl [-j] [-h] [-V] {show | set | del | monitor | vms | help} [ARGS]"

# a device that is not there, checked before anything is sent
expect 1 "daqsctl: no such device 'nosuch'" set dev nosuch rate 1mbit
expect 1 "daqsctl: no such device 'nosuch0'" show dev nosuch0
expect 1 "daqsctl: no such device 'nosuch0'" -j show dev nosuch0
expect 1 "daqsctl: no such device 'nosuch0'" del dev nosuch0

# values: the bad token quoted, no usage line
expect 1 "daqsctl: invalid rate '20xbit'" set dev lo rate 20xbit
expect 1 "daqsctl: invalid rate '18446744073709551616bit' (too large)" \
	set dev lo rate 18446744073709551616bit
expect 1 "daqsctl: invalid burst '64kbit'" set dev lo burst 64kbit
expect 1 "daqsctl: invalid qlimit '50' (needs a unit: s, ms or us)" \
	set dev lo qlimit 50
expect 1 "daqsctl: invalid mode 'fast' (shape or police)" set dev lo mode fast
expect 1 "daqsctl: invalid MAC address '52:54:00'" del mac 52:54:00

# usage errors: the message and the command's usage line
expect 1 "daqsctl: missing value after 'lease'
$set_usage" set dev lo lease
expect 1 "daqsctl: set needs 'dev DEV' or 'mac MAC'
$set_usage" set rate 1mbit
expect 1 "daqsctl: unknown argument 'eth0' for show
Usage: daqsctl [-j] show [dev DEV | mac MAC]" show eth0
expect 1 "daqsctl: unknown argument 'x' for monitor
Usage: daqsctl [-j] monitor" monitor x
expect 1 "daqsctl: unknown command 'bogus'
$main_usage" bogus
expect 1 "daqsctl: unknown option '-x'
$main_usage" -x show

# vms asks daqsd, on the host; without one it says so
expect 1 "daqsctl: Unable to connect to daqsd at $tmp/none.sock: No such file or directory (is daqsd running?)" \
	vms socket "$tmp/none.sock"
expect 1 "daqsctl: unknown argument 'x' for vms
Usage: daqsctl [-j] vms [socket PATH]" vms x

# help and version succeed, on stdout
expect 0 "" --help
grep -q "^Usage: daqsctl " "$tmp/out" && ok "--help prints usage" ||
	not_ok "--help prints usage"
expect 0 "" help
expect 0 "" -V
grep -q "^daqsctl .*generic netlink family daqs v1" "$tmp/out" &&
	ok "--version names the protocol" || not_ok "--version names the protocol"

# without the module: every command that talks to it says so
if [ -d /sys/module/daqs ]; then
	echo "ok - # skip module daqs is loaded here"
	pass=$((pass + 1))
else
	for args in "show" "" "-j show" "show dev lo" "set dev lo rate 1mbit" \
		"del dev lo" "del mac 52:54:00:12:34:56" "monitor" "-j monitor"; do
		# shellcheck disable=SC2086
		expect 1 "daqsctl: module daqs is not loaded" $args
	done
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
