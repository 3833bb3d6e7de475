#!/bin/bash
# Exit 0 if qemu-system-x86_64 is QEMU 8.1 or later; else exit 1 with the
# reason on stderr.
#
# Why 8.1: before it, multi-threaded TCG could translate a page of guest
# code while another vCPU was rewriting it and keep running that stale
# translation afterwards (fixed upstream by "accel/tcg: Always lock pages
# before translation", in 8.1 and not in the 7.2 stable series). Debian
# 12's QEMU 7.2 gave our 2-vCPU guests oopses daqs had nothing to do with:
# a stale int3 after text_poke_bp had finished, and a NULL list pointer in
# net_rx_action() with reserved EFLAGS bits set (docs/faults.md).
# tests/deps.sh installs a newer one from bookworm-backports.
set -euo pipefail
line=$(qemu-system-x86_64 --version 2>/dev/null | head -n 1) || line=
ver=$(echo "$line" | sed -n 's/^QEMU emulator version \([0-9][0-9.]*\).*/\1/p')
if [ -z "$ver" ]; then
	echo "qemu-version: qemu-system-x86_64 not found; run tests/deps.sh" >&2
	exit 1
fi
IFS=. read -r major minor _ <<<"$ver"
if [ "$major" -lt 8 ] || { [ "$major" -eq 8 ] && [ "${minor:-0}" -lt 1 ]; }; then
	echo "qemu-version: QEMU $ver is older than 8.1, whose multi-threaded TCG runs stale translations of code another vCPU rewrote (tests/lib/qemu-version.sh); run tests/deps.sh" >&2
	exit 1
fi
