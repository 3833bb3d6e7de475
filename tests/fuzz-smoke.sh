#!/bin/bash
# A short libFuzzer run of every fuzz target (channel codec, session, config
# parser) on its seed corpus, for `make check`; `make fuzz` runs them longer.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
secs=${FUZZ_SECONDS:-15}
pass=0 fail=0
make -s -C "$top/daqsd" fuzz-build >/dev/null || { echo "not ok fuzz-build"; echo "0 passed, 1 failed"; exit 1; }
for bin in "$top"/daqsd/build/fuzz/fuzz_*; do
	[ -x "$bin" ] || continue
	name=$(basename "$bin")
	corpus=$top/tests/fuzz/corpus/${name#fuzz_}
	work=$(mktemp -d)
	if "$bin" -max_total_time="$secs" -print_final_stats=1 \
		-artifact_prefix="$work/" "$work" "$corpus" >"$work/log" 2>&1; then
		runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log")
		echo "ok $name # $runs executions in $secs s, no crash"
		pass=$((pass + 1))
	else
		echo "not ok $name"
		tail -30 "$work/log" | sed 's/^/# /'
		fail=$((fail + 1))
	fi
	rm -rf "$work"
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
