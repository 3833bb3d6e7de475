#!/bin/bash
# Kernel style and static checks of the module: checkpatch from Debian's
# linux-source-6.1 and sparse. Prints one ok/not ok line per check and a
# final "N passed, N failed".
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cache=${DAQS_CACHE:-/var/cache/daqs}
src=$cache/linux-source-6.1
pass=0 fail=0

if [ ! -x "$src/scripts/checkpatch.pl" ]; then
	mkdir -p "$cache"
	tar -C "$cache" -xJf /usr/src/linux-source-6.1.tar.xz linux-source-6.1/scripts
fi

result() {
	if [ "$1" -eq 0 ]; then
		echo "ok $2"; pass=$((pass + 1))
	else
		echo "not ok $2"; fail=$((fail + 1))
	fi
}

cd "$top"
out=$("$src/scripts/checkpatch.pl" --no-tree --terse -f \
	kmod/*.c kmod/*.h uapi/linux/daqs.h tests/faults/keyhold/*.c 2>&1 |
	grep -v '^total:' | grep -v '\.mod\.c:')
[ -n "$out" ] && echo "$out"
result "$([ -z "$out" ]; echo $?)" "checkpatch kmod/ uapi/"

make -s module >/dev/null 2>&1 || true
touch kmod/*.c
out=$(make -s sparse 2>&1 | grep -E 'warning|error' | grep -v 'Skipping BTF')
[ -n "$out" ] && echo "$out"
result "$([ -z "$out" ]; echo $?)" "sparse C=2"

out=$(make -s debug 2>&1 | grep -E 'warning|error' | grep -v 'Skipping BTF')
[ -n "$out" ] && echo "$out"
result "$([ -z "$out" ]; echo $?)" "W=1 build without warnings"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
