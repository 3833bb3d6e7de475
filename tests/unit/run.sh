#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR MIT
#
# run.sh TEST... : the unit tests of daqsd/ (called by `make -C daqsd test`).
# Runs each cmocka binary (under $VALGRIND when set), then the daqsctl
# command-line checks ($DAQSCTL) and the man page checks ($MANPAGE), and ends
# with one "N passed, N failed" line that counts them all.
set -u
here=$(cd "$(dirname "$0")" && pwd)
VALGRIND=${VALGRIND:-}
pass=0 fail=0
out=$(mktemp)
trap 'rm -f "$out"' EXIT

# count PASS FAIL RC: add one suite's numbers; a non-zero exit without a
# failed test (a valgrind error, a crash) counts as one failure
count() {
	p=${1:-0} f=${2:-0}
	[ "$3" -ne 0 ] && [ "$f" -eq 0 ] && f=1
	pass=$((pass + p)) fail=$((fail + f))
}

for t in "$@"; do
	echo "== $(basename "$t")${VALGRIND:+ (valgrind --leak-check=full)}"
	# shellcheck disable=SC2086
	$VALGRIND "$t" >"$out" 2>&1
	rc=$?
	cat "$out"
	count "$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$out" | tail -n 1)" \
		"$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$out" | tail -n 1)" "$rc"
done

if [ -n "${DAQSCTL:-}" ]; then
	echo "== daqsctl command line${VALGRIND:+ (valgrind --leak-check=full)}"
	DAQSCTL=$DAQSCTL VALGRIND=$VALGRIND sh "$here/cli_test.sh" >"$out" 2>&1
	rc=$?
	cat "$out"
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$out" | tail -n 1)
	count "$(echo "$line" | awk '{ print $1 }')" \
		"$(echo "$line" | awk '{ print $3 }')" "$rc"
fi

# MANPAGE: one or more pages, separated by spaces
for page in ${MANPAGE:-}; do
	echo "== $(basename "$page")"
	if command -v groff >/dev/null 2>&1; then
		LC_ALL=C.UTF-8 groff -man -ww -z "$page" >"$out" 2>&1
		rc=$?
		if [ "$rc" -eq 0 ] && [ ! -s "$out" ]; then
			echo "ok - groff -man -ww: no warnings"
			count 1 0 0
		else
			cat "$out"
			echo "not ok - groff -man -ww"
			count 0 1 1
		fi
	else
		echo "ok - # skip groff is not installed"
		count 1 0 0
	fi
done

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
