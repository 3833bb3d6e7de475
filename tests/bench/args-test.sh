#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# args-test.sh: the benchmark's selections refuse bad input with an error
# that names it, and measure nothing. datapath.sh's options without a value
# (on the host), and a BENCH_* selection outside what accuracy.sh knows (in
# the guest, one boot). Ends with "N passed, N failed".
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
pass=0 fail=0
# shellcheck source=SCRIPTDIR/../lib/results.sh
. "$top/tests/lib/results.sh"
out=$top/build/bench-args
rm -rf "$out"

for opt in --append --out --part --kernel; do
	msg=$("$top/tests/bench/datapath.sh" "$opt" 2>&1)
	rc=$?
	if [ "$rc" = 2 ] && [ "$msg" = "datapath.sh: $opt needs a value" ]; then
		ok "datapath_${opt#--}_without_value_refused"
	else
		not_ok "datapath_${opt#--}_without_value_refused" "exit $rc: $msg"
	fi
done

log=$("$top/tests/bench/datapath.sh" --part accuracy --out "$out" \
	--append "BENCH_METHODS=daqs-shape,bogus BENCH_ROUNDS=1 BENCH_RATES=50" 2>&1)
echo "$log" | grep -E '^(ok|not ok|daqs-e2e:)' | sed 's/^/# datapath.sh: /'
want="not ok bench_accuracy_args # BENCH_METHODS: 'bogus' is not one of: none daqs-shape daqs-police tbf htb fq"
if grep -qxF "$want" "$out/boot-accuracy/results.txt" 2>/dev/null; then
	ok bench_bad_method_refused_by_name
else
	not_ok bench_bad_method_refused_by_name "no line '$want' in $out/boot-accuracy/results.txt"
fi
for f in capacity accuracy ratechange; do
	n=$(($(wc -l <"$out/$f.csv" 2>/dev/null || echo 0) - 1))
	if [ "$n" = 0 ]; then
		ok "bench_bad_method_measured_no_$f"
	else
		not_ok "bench_bad_method_measured_no_$f" "$out/$f.csv has $n rows"
	fi
done
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
