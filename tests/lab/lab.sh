#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# lab.sh [--kernel SERIES] [--run NAME] [LAB OPTIONS]: build daqs.ko for the
# guest kernel, daqsd, daqsctl, daqs-agent and the sampler, then run the lab
# (tests/lab/lab.py; `lab.sh --help` lists its options) with results in
# build/lab/NAME (default: the date and time). See docs/lab.md.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
series=${DAQS_LAB_KERNEL:-6.1} run='' args=()
while [ $# -gt 0 ]; do
	case $1 in
	--kernel) series=$2; shift ;;
	--run) run=$2; shift ;;
	-h | --help) exec /usr/bin/python3 "$top/tests/lab/lab.py" --help ;;
	*) args+=("$1") ;;
	esac
	shift
done
run=${run:-$(date +%Y%m%d-%H%M%S)}
kv=$("$top/tests/qemu/kernel.sh" "$series")
build=$top/build/lab-build-$kv
out=$top/build/lab/$run
# shellcheck source=../lib/guest-build.sh
. "$top/tests/lib/guest-build.sh"
echo "lab: building daqs.ko for $kv, daqsd, daqsctl, daqs-agent, sample"
mkdir -p "$build" "$out"
guest_build "$top" "$kv" "$build"
guest_build_tool "$top" "$build" sample
exec /usr/bin/python3 "$top/tests/lab/lab.py" --kv "$kv" --build "$build" --out "$out" "${args[@]}"
