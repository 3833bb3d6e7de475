#!/bin/bash
# Install what building and testing daqs needs, from Debian's archive only.
# Idempotent and quiet when everything is present.
set -euo pipefail
pkgs=(
	build-essential pkg-config git kmod cpio xz-utils bc flex bison
	libssl-dev libelf-dev python3 sparse dkms
	linux-headers-amd64 linux-source-6.1
	qemu-system-x86 busybox-static iperf3 iproute2 ethtool
	libnl-3-dev libnl-genl-3-dev libnl-route-3-dev libcmocka-dev
	libinih-dev libsystemd-dev libkmod-dev valgrind groff-base
	gnuplot-nox clang libclang-rt-14-dev libseccomp-dev linux-perf
)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >&2
apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
