# shellcheck shell=bash
# The results of a host-side test script (agent-e2e.sh, daqsd-e2e.sh,
# faults.sh): "ok"/"not ok" lines counted in $pass and $fail, "# " notes;
# the script ends with echo "$pass passed, $fail failed". $kv is the
# guest's kernel (timed needs it).
pass=0 fail=0
ok() { echo "ok $1${2:+ # $2}"; pass=$((pass + 1)); }
not_ok() { echo "not ok $1 # $2"; fail=$((fail + 1)); }
# check NAME COND WHY: ok if the bash condition string holds
check() {
	if eval "$2"; then ok "$1"; else not_ok "$1" "$3"; fi
}
# timed NAME COND WHY: check, but on the debug kernel (KASAN, lockdep,
# kmemleak: several times slower under TCG) an uncounted skip that shows
# WHY: its delays and rates say nothing (as tests/e2e/lib.sh's timed)
timed() {
	if [[ $kv == *-daqs-debug ]]; then
		echo "ok $1 # SKIP debug kernel: times not judged ($3)"
	else
		check "$@"
	fi
}
note() { echo "# $*"; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }
