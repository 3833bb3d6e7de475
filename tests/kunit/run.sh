#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Runs the daqs KUnit suites in a UML kernel built from Debian's 6.1 source.
#
# kmod/ is symlinked into a private copy of the tree as drivers/net/daqs, so
# the suites are linked into the daqs object and reach its internals. The
# tree and the build directory are cached between runs: the first run takes
# several minutes, later ones only rebuild what changed.
#
# Usage: run.sh [extra kunit.py run arguments, e.g. 'daqs_bucket*']
#
# Environment:
#   DAQS_KMOD_DIR      module source to test instead of <repo>/kmod (its
#                      sources include ../uapi/linux/daqs.h, so the directory
#                      beside it must hold uapi/, or a symlink to it)
#   DAQS_KUNITCONFIG   kunitconfig instead of $DAQS_KMOD_DIR/.kunitconfig,
#                      or <repo>/kmod/.kunitconfig when that does not exist
#   DAQS_KUNIT_CACHE   cache directory (default $DAQS_CACHE/kunit, /var/cache/daqs/kunit)
#   DAQS_KUNIT_JOBS    make jobs (default 2)
#
# The last line printed is "N passed, N failed"; the exit status is non-zero
# when a test failed or crashed, when no test ran, or when the kernel did not
# configure or build (counted as one failure).

set -u -o pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
kmod=$(cd "${DAQS_KMOD_DIR:-$repo/kmod}" && pwd -P) || {
	echo "run.sh: Unable to open module source '${DAQS_KMOD_DIR:-}'" >&2
	echo "0 passed, 1 failed"
	exit 1
}
if [ -n "${DAQS_KUNITCONFIG:-}" ]; then
	kunitconfig=$DAQS_KUNITCONFIG
elif [ -f "$kmod/.kunitconfig" ]; then
	kunitconfig=$kmod/.kunitconfig
else
	kunitconfig=$repo/kmod/.kunitconfig
fi
kunitconfig=$(realpath "$kunitconfig")
cache=${DAQS_KUNIT_CACHE:-${DAQS_CACHE:-/var/cache/daqs}/kunit}
jobs=${DAQS_KUNIT_JOBS:-2}
tarball=/usr/src/linux-source-6.1.tar.xz
tree=$cache/linux-source-6.1
build=$cache/build

fail() {
	echo "run.sh: $*" >&2
	echo "0 passed, 1 failed"
	exit 1
}

# A fresh machine has none of this; install what is missing.
need=()
for pkg in bc flex bison libssl-dev libelf-dev python3 gcc make xz-utils linux-source-6.1; do
	dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed' ||
		need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
	echo "run.sh: installing ${need[*]}"
	{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq --no-install-recommends "${need[@]}"; } >&2 ||
		fail "Unable to install ${need[*]}"
fi
[ -f "$tarball" ] || fail "Unable to find $tarball"
[ -f "$kmod/Kbuild" ] && [ -f "$kmod/Kconfig" ] ||
	fail "Unable to find Kbuild and Kconfig in '$kmod'"
[ -f "$kmod/../uapi/linux/daqs.h" ] ||
	echo "run.sh: warning: '$kmod/../uapi/linux/daqs.h' does not exist" >&2
[ -f "$kunitconfig" ] || fail "Unable to find kunitconfig '$kunitconfig'"

mkdir -p "$cache" || fail "Unable to create '$cache'"
# One run at a time per cache: they share the tree's symlink and the build.
exec 9>"$cache/.lock"
if ! flock -n 9; then
	echo "run.sh: waiting for another run to release $cache/.lock" >&2
	flock 9 || fail "Unable to lock '$cache/.lock'"
fi

# (a) The private tree. Extracted beside its final name and renamed, so an
# interrupted extraction never passes for a complete tree.
if [ ! -f "$tree/.daqs-extracted" ]; then
	echo "run.sh: extracting $tarball into $cache"
	rm -rf "$tree" "$cache/extract.tmp"
	mkdir -p "$cache/extract.tmp" &&
		tar -C "$cache/extract.tmp" -xf "$tarball" &&
		mv "$cache/extract.tmp/linux-source-6.1" "$tree" &&
		rmdir "$cache/extract.tmp" &&
		touch "$tree/.daqs-extracted" ||
		fail "Unable to extract '$tarball'"
fi

# (b) Wire the module in. The symlink is re-pointed every run: CI runs
# from a fresh clone elsewhere, and DAQS_KMOD_DIR may point somewhere else.
# Objects built from another copy are not rebuilt when this copy's files are
# older than they are: drop them when the target changes.
if [ "$(readlink "$tree/drivers/net/daqs" 2>/dev/null)" != "$kmod" ]; then
	rm -rf "$build/drivers/net/daqs"
fi
ln -sfn "$kmod" "$tree/drivers/net/daqs" ||
	fail "Unable to link '$kmod' into '$tree'"
grep -qxF 'source "drivers/net/daqs/Kconfig"' "$tree/drivers/net/Kconfig" ||
	echo 'source "drivers/net/daqs/Kconfig"' >>"$tree/drivers/net/Kconfig" ||
	fail "Unable to add daqs to drivers/net/Kconfig"
grep -qxF 'obj-$(CONFIG_DAQS) += daqs/' "$tree/drivers/net/Makefile" ||
	echo 'obj-$(CONFIG_DAQS) += daqs/' >>"$tree/drivers/net/Makefile" ||
	fail "Unable to add daqs to drivers/net/Makefile"

# Objects of an out-of-tree build (make M=kmod, as `make style` leaves them)
# are harmless: checked, kbuild still compiles every object into $build.

# (c) Configure, build and run. kunit.py exits 1 both for a failed test and
# for a failed build, so the summary line is what tells them apart.
log=$cache/last-run.log
echo "run.sh: $kmod -> $tree/drivers/net/daqs, build in $build"
start=$(date +%s)
(cd "$tree" && python3 tools/testing/kunit/kunit.py run \
	--kunitconfig="$kunitconfig" --build_dir="$build" --jobs="$jobs" "$@") 2>&1 |
	tee "$log"
rc=${PIPESTATUS[0]}
echo "run.sh: kunit.py exited $rc after $(($(date +%s) - start)) s; log in $log"

# (d) "Testing complete. Ran 12 tests: passed: 11, failed: 1" (only the
# non-zero counts are listed).
summary=$(sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -o 'Testing complete\. Ran [0-9]* tests:.*' | tail -n 1)
if [ -z "$summary" ]; then
	echo "run.sh: no test results: the kernel did not configure, build or boot" >&2
	echo "0 passed, 1 failed"
	exit 1
fi
count() {
	local n
	n=$(echo "$summary" | grep -o "$1: [0-9]*" | grep -o '[0-9]*$')
	echo "${n:-0}"
}
total=$(echo "$summary" | sed 's/.*Ran \([0-9]*\) tests.*/\1/')
passed=$(count passed)
failed=$(($(count failed) + $(count crashed)))
skipped=$(count skipped)
errors=$(count errors)
[ "$skipped" -gt 0 ] && echo "run.sh: $skipped skipped"
[ "$errors" -gt 0 ] && echo "run.sh: $errors errors in the KTAP output" >&2
if [ "$total" -eq 0 ]; then
	echo "run.sh: no tests ran: is CONFIG_DAQS_KUNIT_TEST built?" >&2
	[ "$failed" -gt 0 ] || failed=1
fi
# Errors or a non-zero exit with nothing failed still must not pass.
if [ "$failed" -eq 0 ] && { [ "$errors" -gt 0 ] || [ "$rc" -ne 0 ]; }; then
	failed=1
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
