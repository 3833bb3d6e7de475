#!/bin/bash
# A short libFuzzer run of every fuzz target in daqsd/build/fuzz (channel
# codec, session, configuration files, units, daqsctl's arguments, the
# control socket's records, daqs-agent's handling of host frames) for `make
# check`; `make fuzz` runs each 10 million times. First every seed of
# tests/fuzz/corpus/<name>/ is replayed once, so a crash that was found and
# fixed (its input is kept there) stays fixed; then FUZZ_SECONDS (15) of
# fuzzing from the seeds, with what it learns thrown away.
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
	seeds=$(find "$corpus" -type f 2>/dev/null | wc -l)
	if [ "$seeds" -eq 0 ]; then
		echo "not ok ${name}_seeds # no seeds in $corpus"
		fail=$((fail + 1))
	elif "$bin" -runs=0 -artifact_prefix="$work/" "$corpus" >"$work/log" 2>&1; then
		echo "ok ${name}_seeds # $seeds seeds replayed, no crash"
		pass=$((pass + 1))
	else
		echo "not ok ${name}_seeds"
		tail -30 "$work/log" | sed 's/^/# /'
		fail=$((fail + 1))
	fi
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
