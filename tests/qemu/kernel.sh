#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# kernel.sh [SERIES|KV] - fetch one of Debian's stock kernels for the QEMU harness.
#
#   SERIES  6.1 (default): whatever linux-image-amd64 depends on today
#           6.12: the newest linux-image-6.12.*+deb12-amd64[-unsigned] in the archive
#           debug: KASAN, UBSAN, kmemleak, lockdep kernel built by debug-kernel.sh
#   KV      an exact version such as 6.1.0-56-amd64 or 6.12.117+deb12-amd64
#
# The image package is downloaded once into $DAQS_CACHE/kernels/<KV>/ and extracted
# there (root/), with a modules.dep made by depmod, because the package ships none.
# The matching linux-headers-<KV> is installed so daqs.ko can be built against it
# (skip with DAQS_NO_HEADERS=1). The debug kernel is built from linux-source-6.1 into
# the same layout instead, its build tree as /lib/modules/<KV>/build (debug-kernel.sh).
# Prints <KV> on stdout, everything else on stderr.
#
# Versions are resolved from the apt lists every time and never written down here:
# the ABI number moves with Debian's updates.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
CACHE=${DAQS_CACHE:-/var/cache/daqs}
APT_LOCK_WAIT=${DAQS_APT_LOCK_WAIT:-600}

log() { printf 'kernel.sh: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

usage() {
	sed -n '4,16s/^# \{0,1\}//p' "$0" >&2
	exit "${1:-2}"
}

# apt-cache answers from local lists: a fresh machine has none until apt-get update.
apt_updated=0
apt_update_once() {
	[[ $apt_updated == 1 ]] && return 0
	log "refreshing the apt lists"
	apt-get -o DPkg::Lock::Timeout="$APT_LOCK_WAIT" update >&2 || die "apt-get update failed"
	apt_updated=1
}

# has_candidate PKG: the archive can serve PKG.
has_candidate() {
	local c
	c=$(apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ { print $2; exit }')
	[[ -n $c && $c != "(none)" ]]
}

resolve_61() {
	apt-cache depends linux-image-amd64 2>/dev/null |
		sed -n 's/^ *Depends: linux-image-\(6\.1\.[0-9]*-[0-9]*-amd64\)$/\1/p' | head -n1
}

resolve_612() {
	# Newest first; the headers must exist too, or the module could not be built for it.
	local kv
	apt-cache pkgnames linux-image-6.12. 2>/dev/null |
		sed -n 's/^linux-image-\(6\.12\.[0-9]*+deb12-amd64\)\(-unsigned\)\{0,1\}$/\1/p' |
		sort -u -V -r |
		while read -r kv; do
			if has_candidate "linux-headers-$kv" &&
				{ has_candidate "linux-image-$kv" || has_candidate "linux-image-$kv-unsigned"; }; then
				echo "$kv"
				break
			fi
		done
}

resolve() {
	local want=$1 kv=
	for _ in 1 2; do
		case $want in
		6.1) kv=$(resolve_61) ;;
		6.12) kv=$(resolve_612) ;;
		debug | *-daqs-debug)
			kv=$("$HERE/debug-kernel.sh" --kv)
			[[ $want == debug || $want == "$kv" ]] || die "the debug kernel is $kv now, not $want"
			;;
		*-amd64)
			if has_candidate "linux-image-$want" || has_candidate "linux-image-$want-unsigned"; then
				kv=$want
			fi
			;;
		*) usage ;;
		esac
		[[ -n $kv ]] && break
		apt_update_once
	done
	[[ -n $kv ]] || die "no kernel image for '$want' in the apt archive"
	echo "$kv"
}

# image_pkg KV: the package to download, preferring the signed one (same vmlinuz and modules).
image_pkg() {
	if has_candidate "linux-image-$1"; then
		echo "linux-image-$1"
	else
		echo "linux-image-$1-unsigned"
	fi
}

fetch() {
	local kv=$1 dir=$CACHE/kernels/$1 pkg tmp deb
	[[ -f $dir/.ready ]] && return 0
	pkg=$(image_pkg "$kv")
	log "fetching $pkg into $dir"
	rm -rf "$dir"
	tmp=$(mktemp -d "$CACHE/kernels/.tmp-$kv.XXXXXX")
	# shellcheck disable=SC2064 # expand $tmp now: it is local
	trap "rm -rf '$tmp'" EXIT
	# Root cannot hand the download to the _apt sandbox user in a private dir;
	# say so instead of letting apt warn about it.
	(cd "$tmp" && apt-get -o APT::Sandbox::User=root download "$pkg" >&2) ||
		die "apt-get download $pkg failed"
	deb=$(echo "$tmp"/*.deb)
	[[ -f $deb ]] || die "apt-get download $pkg produced no .deb"
	dpkg-deb -x "$deb" "$tmp/root"
	# bookworm's packages use /lib/modules; a merged-/usr package would use /usr/lib/modules.
	local mods=$tmp/root/lib/modules/$kv
	[[ -d $mods ]] || mods=$tmp/root/usr/lib/modules/$kv
	[[ -d $mods ]] || die "$pkg has no modules directory for $kv"
	[[ -f $tmp/root/boot/vmlinuz-$kv ]] || die "$pkg has no /boot/vmlinuz-$kv"
	if [[ $mods == "$tmp/root/usr/lib/modules/$kv" && ! -e $tmp/root/lib ]]; then
		ln -s usr/lib "$tmp/root/lib"
	fi
	depmod -b "$tmp/root" "$kv"
	basename "$deb" >"$tmp/package"
	touch "$tmp/.ready"
	mv "$tmp" "$dir"
	trap - EXIT
}

ensure_headers() {
	local kv=$1 st
	[[ ${DAQS_NO_HEADERS:-0} == 1 ]] && return 0
	st=$(dpkg-query -W -f='${Status}' "linux-headers-$kv" 2>/dev/null || true)
	[[ $st == "install ok installed" ]] && return 0
	log "installing linux-headers-$kv"
	DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout="$APT_LOCK_WAIT" \
		install -y --no-install-recommends "linux-headers-$kv" >&2 ||
		die "apt-get install linux-headers-$kv failed"
}

main() {
	case ${1:-} in
	-h | --help) usage 0 ;;
	esac
	[[ $# -le 1 ]] || usage
	local kv
	kv=$(resolve "${1:-6.1}")
	mkdir -p "$CACHE/kernels"
	# Serialise concurrent harness runs on the same kernel (CI and developers share the cache).
	exec 9>"$CACHE/kernels/.lock-$kv"
	flock 9
	case $kv in
	*-daqs-debug) "$HERE/debug-kernel.sh" >/dev/null ;;
	*)
		fetch "$kv"
		ensure_headers "$kv"
		;;
	esac
	flock -u 9
	echo "$kv"
}

main "$@"
