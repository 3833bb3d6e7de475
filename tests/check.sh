#!/bin/bash
# `make check`: every suite, one after the other. Each suite prints its own
# "N passed, N failed"; this adds them up into the final line CI reads. A
# suite that dies without its summary counts as one failure.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
total_pass=0 total_fail=0
failures=()
log_dir=${DAQS_LOG_DIR:-$top/build/check}
mkdir -p "$log_dir"

suite() {
	local name=$1; shift
	local log=$log_dir/$name.log start=$SECONDS rc p f line
	echo "=== $name: $*"
	"$@" 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
	# cmocka prints "[  PASSED  ] N test(s)." / "[  FAILED  ] N test(s)"
	if [ -z "$line" ] && grep -q '^\[  PASSED  \]' "$log"; then
		p=$(awk '/^\[  PASSED  \]/ { s += $4 } END { print s + 0 }' "$log")
		f=$(awk '/^\[  FAILED  \] [0-9]+ test/ { s += $4 } END { print s + 0 }' "$log")
		line="$p passed, $f failed"
	fi
	p=$(echo "$line" | awk '{ print $1 + 0 }')
	f=$(echo "$line" | awk '{ print $3 + 0 }')
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
		failures+=("$name: exited $rc without a failed test")
	fi
	while IFS= read -r line; do
		failures+=("$name: $line")
	done < <(grep -aE '^(not ok|\[  FAILED  \] [^0-9])' "$log" | cut -c1-300)
	total_pass=$((total_pass + p))
	total_fail=$((total_fail + f))
	echo "=== $name: $p passed, $f failed ($((SECONDS - start)) s)"
}

suite style tests/style.sh
# a QEMU too old for SMP guests under TCG is refused by name (tests/lib/qemu-version.sh)
suite qemu-version tests/qemu/version-test.sh
suite dkms tests/dkms.sh
suite unit make -C daqsd test
suite fuzz tests/fuzz-smoke.sh
suite kunit tests/kunit/run.sh
for series in 6.1 6.12; do
	suite "e2e-$series" tests/e2e-run.sh --kernel "$series"
done
# the same scripts on a KASAN/UBSAN/kmemleak/lockdep kernel built from
# linux-source-6.1 (cached; cold about 14 minutes): docs/debug-kernel.md
suite e2e-debug tests/e2e-run.sh --kernel debug
# daqs-agent in a 6.1 guest, driven by the host over virtio-serial
suite agent-e2e tests/agent-e2e.sh
# daqsd on the host controlling two 6.1 guests (and fake ones) over virtio-serial
suite daqsd-e2e tests/daqsd-e2e.sh
# fault injection with a fifth of tests/faults.sh's counts (about 4 minutes
# here; `make faults` runs the full counts, 100 of each): docs/faults.md
suite faults env FAULTS_AGENT_KILLS=20 FAULTS_DAQSD_KILLS=20 FAULTS_PORT_CYCLES=20 \
	FAULTS_RELOADS=30 FAULTS_TEARDOWNS=3 FAULTS_FLOOD_S=15 FAULTS_HOTPLUGS=3 tests/faults.sh
# the lab's short fig3 case: daqs holds a guarantee that no control does not
suite lab tests/lab/check.sh
# the same case with one QEMU guest per VM, NICs on a host bridge
suite lab-qemu tests/lab/check.sh --vms qemu
# benchmarks: smokes that each part runs and produces numbers (not how fast)
suite bench-cp tests/bench/cp.sh --quick
suite bench-datapath tests/bench/datapath.sh --quick
# the benchmark's selections refuse bad input by name and measure nothing
suite bench-args tests/bench/args-test.sh

# what failed, again, where the end of a long log shows it
if [ ${#failures[@]} -gt 0 ]; then
	echo "=== failed:"
	printf '%s\n' "${failures[@]}"
fi
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
