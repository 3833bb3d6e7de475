#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# version-test.sh: a QEMU older than 8.1 is refused by name before anything
# is built or booted (tests/lib/qemu-version.sh, tests/qemu/run.sh). The
# qemu-system-x86_64 here is a stand-in on PATH that prints a version line,
# the one thing the check reads. Ends with "N passed, N failed".
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
pass=0 fail=0
# shellcheck source=SCRIPTDIR/../lib/results.sh
. "$top/tests/lib/results.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/bin"

# fake VERSION: qemu-system-x86_64 --version prints that version's line
fake() {
	printf '#!/bin/sh\necho "QEMU emulator version %s (test stand-in)"\n' "$1" >"$tmp/bin/qemu-system-x86_64"
	chmod +x "$tmp/bin/qemu-system-x86_64"
}

# want NAME VERSION RC: the check's exit status for that version
want() {
	local msg rc
	fake "$2"
	msg=$(PATH=$tmp/bin:$PATH "$top/tests/lib/qemu-version.sh" 2>&1)
	rc=$?
	if [ "$rc" = "$3" ] && { [ "$3" = 0 ] || [[ $msg == *"QEMU $2 is older than 8.1"* ]]; }; then
		ok "$1"
	else
		not_ok "$1" "exit $rc: $msg"
	fi
}
want qemu_7.2.22_refused 7.2.22 1
want qemu_8.0.4_refused 8.0.4 1
want qemu_8.1.0_accepted 8.1.0 0
want qemu_10.0.2_accepted 10.0.2 0

# no QEMU at all: named as missing (a PATH with only what the check uses
# besides it, since the real one is in /usr/bin)
rm "$tmp/bin/qemu-system-x86_64"
mkdir "$tmp/tools"
for t in sed head; do ln -s "$(command -v $t)" "$tmp/tools/$t"; done
msg=$(PATH=$tmp/bin:$tmp/tools "$BASH" "$top/tests/lib/qemu-version.sh" 2>&1)
rc=$?
if [ "$rc" = 1 ] && [[ $msg == *"qemu-system-x86_64 not found"* ]]; then
	ok qemu_missing_named
else
	not_ok qemu_missing_named "exit $rc: $msg"
fi

# run.sh refuses an old QEMU before it builds an initramfs or boots
fake 7.2.22
msg=$(PATH=$tmp/bin:$PATH "$top/tests/qemu/run.sh" --out "$tmp/out" 10-counters.sh 2>&1)
rc=$?
if [ "$rc" = 2 ] && [[ $msg == *"QEMU 7.2.22 is older than 8.1"* ]] && [ ! -e "$tmp/out" ]; then
	ok run_sh_refuses_old_qemu_before_booting
else
	not_ok run_sh_refuses_old_qemu_before_booting "exit $rc, out dir $(ls -d "$tmp/out" 2>/dev/null || echo absent): $(echo "$msg" | tail -n 3 | tr '\n' '|')"
fi
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
