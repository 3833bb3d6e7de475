#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# debug-kernel.sh [--kv] - build the harness's debug kernel from Debian's linux-source-6.1.
#
#   (no option)  build it unless the cache has this very build; prints KV on stdout
#   --kv         only print KV (6.1.<sublevel>-daqs-debug), build nothing
#
# Config: `make allnoconfig` with tests/qemu/debug.config as KCONFIG_ALLCONFIG, then
# `make olddefconfig`; every option of the fragment is checked in the final .config
# (Kconfig drops an option whose dependencies are missing without a word). The kernel
# then looks like any other to the harness (kernel.sh resolves `debug` to it):
#
#   $DAQS_CACHE/kernels/KV/root/boot/vmlinuz-KV     the bzImage
#   $DAQS_CACHE/kernels/KV/root/lib/modules/KV/     modules_install + depmod
#   $DAQS_CACHE/kernels/KV/package                  what it was built from (the cache key)
#   $DAQS_CACHE/debug-kernel/KEY/linux-source-6.1/  the build tree
#   /lib/modules/KV/build                           -> that tree, for make -C ... M=
#
# KEY hashes the linux-source-6.1 package version, the fragment and this script, so a
# changed fragment builds a new kernel and a rerun takes no time. Environment:
# DAQS_DEBUG_KERNEL_JOBS (make -j, default 2). Build time goes to kernels/KV/build-time.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
CACHE=${DAQS_CACHE:-/var/cache/daqs}
FRAGMENT=$HERE/debug.config
TARBALL=/usr/src/linux-source-6.1.tar.xz
JOBS=${DAQS_DEBUG_KERNEL_JOBS:-2}
APT_LOCK_WAIT=${DAQS_APT_LOCK_WAIT:-600}

log() { printf 'debug-kernel.sh: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }
usage() {
	sed -n '4,22s/^# \{0,1\}//p' "$0" >&2
	exit "${1:-2}"
}

only_kv=0
case ${1:-} in
'') ;;
--kv) only_kv=1 ;;
-h | --help) usage 0 ;;
*) usage ;;
esac

# What a fresh machine lacks (tests/deps.sh installs all of it too).
need=()
for pkg in linux-source-6.1 bc flex bison libssl-dev libelf-dev gcc make xz-utils kmod; do
	dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed' || need+=("$pkg")
done
if [[ ${#need[@]} -gt 0 ]]; then
	log "installing ${need[*]}"
	{ apt-get -o DPkg::Lock::Timeout="$APT_LOCK_WAIT" update -q &&
		DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout="$APT_LOCK_WAIT" \
			install -y -q --no-install-recommends "${need[@]}"; } >&2 ||
		die "apt-get install ${need[*]} failed"
fi
[[ -f $TARBALL ]] || die "no $TARBALL"

pkgver=$(dpkg-query -W -f='${Version}' linux-source-6.1)
# 6.1.192-3 -> 6.1.192, checked against `make kernelrelease` after the build
kv=${pkgver%%-*}-daqs-debug
if [[ $only_kv == 1 ]]; then
	echo "$kv"
	exit 0
fi
key=$(
	{
		echo "linux-source-6.1 $pkgver"
		sha256sum <"$FRAGMENT"
		sha256sum <"$0"
	} | sha256sum | cut -c1-16
)
package="linux-source-6.1_$pkgver debug.config+debug-kernel.sh $key"
dir=$CACHE/kernels/$kv
top=$CACHE/debug-kernel
tree=$top/$key/linux-source-6.1

ready() {
	[[ -f $dir/.ready && $(cat "$dir/package" 2>/dev/null) == "$package" &&
		-f $tree/.daqs-built ]]
}

# The host's /lib/modules/KV/build, for guest-build.sh's make -C /lib/modules/KV/build.
link_build() {
	mkdir -p "/lib/modules/$kv"
	[[ $(readlink "/lib/modules/$kv/build" 2>/dev/null) == "$tree" ]] ||
		ln -sfn "$tree" "/lib/modules/$kv/build"
}

mkdir -p "$CACHE/kernels" "$top"
if ready; then
	link_build
	echo "$kv"
	exit 0
fi
# One build at a time (kernel.sh holds kernels/.lock-KV while it calls this: not that one).
exec 8>"$top/.lock"
flock 8
if ready; then
	link_build
	echo "$kv"
	exit 0
fi

start=$SECONDS
# (a) A private tree per key, extracted beside its final name and renamed into place.
if [[ ! -f $tree/.daqs-extracted ]]; then
	log "extracting $TARBALL into $top/$key"
	rm -rf "${top:?}/$key" "$top/$key.tmp"
	mkdir -p "$top/$key.tmp"
	tar -C "$top/$key.tmp" -xf "$TARBALL"
	touch "$top/$key.tmp/linux-source-6.1/.daqs-extracted"
	mv "$top/$key.tmp" "$top/$key"
fi

# (b) Configure and check that every option of the fragment made it.
log "configuring $kv from $(basename "$FRAGMENT")"
mk=(nice -n 10 make -C "$tree" -j"$JOBS")
"${mk[@]}" -s KCONFIG_ALLCONFIG="$FRAGMENT" allnoconfig >&2
"${mk[@]}" -s olddefconfig >&2
missing=()
while IFS= read -r line; do
	case $line in
	CONFIG_*=*)
		grep -qxF "$line" "$tree/.config" ||
			missing+=("$line (got: $(grep -E "^(# )?${line%%=*}[= ]" "$tree/.config" || echo absent))")
		;;
	"# CONFIG_"*" is not set")
		sym=${line#\# }
		sym=${sym%% *}
		! grep -qE "^$sym=" "$tree/.config" || missing+=("$line (got: $(grep -E "^$sym=" "$tree/.config"))")
		;;
	esac
done <"$FRAGMENT"
if [[ ${#missing[@]} -gt 0 ]]; then
	log "the config lost options of $(basename "$FRAGMENT") (missing dependencies?):"
	printf '  %s\n' "${missing[@]}" >&2
	exit 1
fi
got=$(make -s -C "$tree" kernelrelease)
[[ $got == "$kv" ]] || die "the tree builds kernel release '$got', not $kv"

# (c) Build and install into a temporary root, renamed into place.
log "building $kv with make -j$JOBS (nice 10), log in $top/$key/build.log"
if ! "${mk[@]}" bzImage modules >"$top/$key/build.log" 2>&1; then
	tail -n 40 "$top/$key/build.log" >&2
	die "the build failed (see $top/$key/build.log)"
fi
build_s=$((SECONDS - start))
rm -rf "$dir" "$CACHE/kernels/.tmp-$kv"
tmp=$CACHE/kernels/.tmp-$kv
mkdir -p "$tmp/root/boot"
make -s -C "$tree" INSTALL_MOD_PATH="$tmp/root" modules_install >&2
# modules_install links build and source to the tree; the guest has no use for them.
rm -f "$tmp/root/lib/modules/$kv/build" "$tmp/root/lib/modules/$kv/source"
depmod -b "$tmp/root" "$kv"
cp "$tree/arch/x86/boot/bzImage" "$tmp/root/boot/vmlinuz-$kv"
cp "$tree/.config" "$tmp/root/boot/config-$kv"
echo "$package" >"$tmp/package"
echo "$build_s" >"$tmp/build-time"
touch "$tree/.daqs-built" "$tmp/.ready"
mv "$tmp" "$dir"
link_build
# Trees of other keys (an older fragment) are 2 GB each.
for old in "$top"/*/; do
	old=${old%/}
	[[ $(basename "$old") == "$key" ]] || rm -rf "$old"
done
log "built $kv in $build_s s: $(du -sh "$dir/root/boot/vmlinuz-$kv" | cut -f1) bzImage, $(find "$dir/root/lib/modules/$kv" -name '*.ko' | wc -l) modules"
echo "$kv"
