#!/bin/bash
# Install what building and testing daqs needs, from Debian's archive only.
# Idempotent and quiet when everything is present.
set -euo pipefail
pkgs=(
	build-essential pkg-config git kmod cpio xz-utils bc flex bison
	libssl-dev libelf-dev python3 sparse dkms
	linux-headers-amd64 linux-source-6.1
	busybox-static iperf3 iproute2 ethtool
	libnl-3-dev libnl-genl-3-dev libnl-route-3-dev libcmocka-dev
	libinih-dev libsystemd-dev libkmod-dev valgrind groff-base
	gnuplot-nox clang libclang-rt-14-dev libseccomp-dev linux-perf
)
export DEBIAN_FRONTEND=noninteractive
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "deps: installing ${missing[*]}" >&2
	apt-get update -q >&2
	apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
fi

# QEMU 8.1 or later (tests/lib/qemu-version.sh says why): Debian 12's is
# 7.2, so there it comes from Debian's own bookworm-backports
"$(dirname "$0")/lib/qemu-version.sh" 2>/dev/null && exit 0
target=()
if [ "$(. /etc/os-release && echo "${VERSION_CODENAME:-}")" = bookworm ]; then
	if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
		echo "deps: adding Debian's bookworm-backports (for QEMU >= 8.1)" >&2
		cat >/etc/apt/sources.list.d/debian-bookworm-backports.sources <<-EOF
		Types: deb
		URIs: http://deb.debian.org/debian
		Suites: bookworm-backports
		Components: main
		Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
		EOF
	fi
	target=(-t bookworm-backports)
fi
echo "deps: installing qemu-system-x86 ${target[*]}" >&2
apt-get update -q >&2
apt-get install -y -q --no-install-recommends "${target[@]}" qemu-system-x86 >&2
"$(dirname "$0")/lib/qemu-version.sh"
