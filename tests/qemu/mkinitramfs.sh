#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# mkinitramfs.sh --kv KV [options] - build the busybox initramfs the QEMU harness boots.
#
#   --kv KV          kernel version whose extracted image tree (kernel.sh) supplies the modules
#   --kroot DIR      that tree (default $DAQS_CACHE/kernels/KV/root)
#   --module FILE    an out-of-tree .ko, installed in /lib/modules/KV/extra (repeatable)
#   --kmod NAME      one more module from the image tree, with its deps (repeatable)
#   --bin FILE       a host program, into /usr/lib/daqs-bin with its libraries (repeatable)
#   --tests DIR      test scripts, copied into /tests (repeatable)
#   --file SRC:DST   any other file (repeatable)
#   --out FILE       also copy the result there
#
# Prints the path of the cached cpio.gz on stdout. The cache key is a hash of every input
# (this script, init.sh, KV and image package, the content of each file that goes in), so
# a changed test script or a rebuilt daqs.ko gives a new initramfs and nothing else does.
#
# Layout: merged /usr with busybox applets as symlinks; Debian's ip, tc, iperf3, ethtool and
# --bin programs in /usr/lib/daqs-bin (first on PATH). busybox sh still runs its own ip and
# tc applets for a bare `ip`, so the guest library wraps them; call them by full path.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
CACHE=${DAQS_CACHE:-/var/cache/daqs}
BIN_DIR=usr/lib/daqs-bin

# Modules every boot gets; the image builds some of them in (6.12: virtio_pci, virtio_console).
REQUIRED_KMODS="virtio_pci virtio_net virtio_console veth dummy sch_tbf sch_htb sch_fq pktgen
	bonding net_failover failover"
# Handy for tests when the image has them; skipped quietly when it does not.
OPTIONAL_KMODS="sch_netem sch_prio sch_mqprio sch_multiq sch_ingress ifb act_mirred cls_u32
	cls_matchall tun"
HOST_BINS="/usr/sbin/ip /usr/sbin/tc /usr/bin/iperf3 /usr/sbin/ethtool"

log() { printf 'mkinitramfs.sh: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }
usage() {
	sed -n '4,15s/^# \{0,1\}//p' "$0" >&2
	exit "${1:-2}"
}

kv='' kroot='' out=''
modules=() kmods=() bins=() testdirs=() files=()
while [[ $# -gt 0 ]]; do
	case $1 in
	--kv) kv=$2; shift ;;
	--kroot) kroot=$2; shift ;;
	--module) modules+=("$2"); shift ;;
	--kmod) kmods+=("$2"); shift ;;
	--bin) bins+=("$2"); shift ;;
	--tests) testdirs+=("$2"); shift ;;
	--file) files+=("$2"); shift ;;
	--out) out=$2; shift ;;
	-h | --help) usage 0 ;;
	*) log "unknown argument '$1'"; usage ;;
	esac
	shift
done
[[ -n $kv ]] || { log "--kv is required"; usage; }
kroot=${kroot:-$CACHE/kernels/$kv/root}
moddir=$kroot/lib/modules/$kv
[[ -f $moddir/modules.dep ]] || die "no $moddir/modules.dep: run tests/qemu/kernel.sh first"
command -v busybox >/dev/null || die "busybox-static is not installed"

# The manifest: "SRC<TAB>DST" lines, DST relative to the initramfs root. Everything that
# goes in is listed here first, so the cache key covers exactly the content.
manifest=$(mktemp)
trap 'rm -f "$manifest"' EXIT
add() { printf '%s\t%s\n' "$1" "${2#/}" >>"$manifest"; }

# add_libs FILE: the shared libraries FILE needs, at the paths the loader looks for them.
add_libs() {
	local lib
	# ldd fails on static binaries and scripts; those need nothing.
	ldd "$1" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' |
		while read -r lib; do
			add "$(readlink -f "$lib")" "$lib"
		done || true
}

add_bin() {
	local src=$1 name
	[[ -f $src && -x $src ]] || die "not an executable file: $src"
	name=$(basename "$src")
	add "$(readlink -f "$src")" "$BIN_DIR/$name"
	add_libs "$src"
}

# resolve_kmod NAME: print the module's path relative to $moddir and those of its
# dependencies (modules.dep already lists the whole closure). Returns 1 when the image
# has no such module and 2 when it is built in.
resolve_kmod() {
	local want=${1//-/_}
	awk -v want="$want" -F': *' '
		function norm(p,  b) {
			b = p; sub(/.*\//, "", b); sub(/\.ko(\.xz|\.zst|\.gz)?$/, "", b); gsub(/-/, "_", b)
			return b
		}
		norm($1) == want { print $1; n = split($2, d, / +/); for (i = 1; i <= n; i++) if (d[i] != "") print d[i]; found = 1; exit }
		END { exit found ? 0 : 1 }' "$moddir/modules.dep" && return 0
	awk -v want="$want" '{ b = $0; sub(/.*\//, "", b); sub(/\.ko.*$/, "", b); gsub(/-/, "_", b); if (b == want) f = 1 }
		END { exit f ? 0 : 1 }' "$moddir/modules.builtin" && return 2
	return 1
}

# --- what goes in -------------------------------------------------------------------
add "$(readlink -f "$(command -v busybox)")" usr/bin/busybox
add "$HERE/init.sh" init
for b in $HOST_BINS; do add_bin "$b"; done
for b in "${bins[@]}"; do add_bin "$b"; done
tcdir=/usr/lib/x86_64-linux-gnu/tc
for f in "$tcdir"/*.dist; do
	[[ -f $f ]] && add "$f" "$f"
done
for f in /etc/iproute2/*; do
	[[ -f $f ]] && add "$f" "$f"
done

kmod_paths=$(mktemp)
trap 'rm -f "$manifest" "$kmod_paths"' EXIT
for m in $REQUIRED_KMODS "${kmods[@]}"; do
	rc=0
	resolve_kmod "$m" >>"$kmod_paths" || rc=$?
	case $rc in
	0 | 2) ;;
	*) die "kernel $kv has no module '$m'" ;;
	esac
done
for m in $OPTIONAL_KMODS; do
	resolve_kmod "$m" >>"$kmod_paths" || true
done
sort -u "$kmod_paths" | while read -r p; do
	add "$moddir/$p" "lib/modules/$kv/$p"
done
for f in modules.builtin modules.builtin.modinfo modules.order; do
	[[ -f $moddir/$f ]] && add "$moddir/$f" "lib/modules/$kv/$f"
done

for ko in "${modules[@]}"; do
	[[ -f $ko ]] || die "no such module file: $ko"
	vermagic=$(modinfo -F vermagic "$ko" | awk '{ print $1 }')
	[[ $vermagic == "$kv" ]] || die "$ko was built for '$vermagic', not for $kv"
	add "$(readlink -f "$ko")" "lib/modules/$kv/extra/$(basename "$ko")"
done

for d in "${testdirs[@]}"; do
	[[ -d $d ]] || die "no such tests directory: $d"
	while IFS= read -r -d '' f; do
		add "$f" "tests/${f#"$d"/}"
	done < <(find "$d" -type f -print0 | sort -z)
done

for spec in "${files[@]}"; do
	[[ $spec == *:* ]] || die "--file wants SRC:DST, not '$spec'"
	[[ -f ${spec%%:*} ]] || die "no such file: ${spec%%:*}"
	add "$(readlink -f "${spec%%:*}")" "${spec#*:}"
done

# --- cache -----------------------------------------------------------------------------
key=$(
	{
		sha256sum "$0" "$HERE/init.sh" | awk '{ print $1 }'
		echo "$kv"
		cat "$CACHE/kernels/$kv/package" 2>/dev/null || echo "$kroot"
		busybox --list-full
		sort -t "$(printf '\t')" -k2 -u "$manifest" | while IFS=$'\t' read -r src dst; do
			printf '%s %s\n' "$dst" "$(sha256sum <"$src" | awk '{ print $1 }')"
		done
	} | sha256sum | cut -c1-16
)
mkdir -p "$CACHE/initramfs"
img=$CACHE/initramfs/$kv-$key.cpio.gz
if [[ -f $img ]]; then
	log "cached: $img"
else
	log "building $img"
	stage=$(mktemp -d "$CACHE/initramfs/.stage.XXXXXX")
	trap 'rm -rf "$manifest" "$kmod_paths" "$stage"' EXIT
	mkdir -p "$stage"/{usr/bin,usr/sbin,usr/lib,usr/lib64,dev,proc,sys,run,tmp,root,etc,tests,mnt}
	ln -s usr/bin "$stage/bin"
	ln -s usr/sbin "$stage/sbin"
	ln -s usr/lib "$stage/lib"
	ln -s usr/lib64 "$stage/lib64"
	chmod 1777 "$stage/tmp"
	# The kernel opens /dev/console for init before anything can mount devtmpfs.
	mknod -m 600 "$stage/dev/console" c 5 1
	mknod -m 666 "$stage/dev/null" c 1 3

	sort -t "$(printf '\t')" -k2 -u "$manifest" | while IFS=$'\t' read -r src dst; do
		mkdir -p "$(dirname "$stage/$dst")"
		cp "$src" "$stage/$dst"
	done
	chmod 755 "$stage/init"
	busybox --list-full | while read -r applet; do
		[[ -e $stage/$applet || -L $stage/$applet ]] || ln -s /usr/bin/busybox "$stage/$applet"
	done
	# Debian's own ip, tc, ... win over the applets wherever a program is looked up on disk
	# (execvp from `ip netns exec`, /sbin/modprobe-like absolute paths). ln -sf replaces
	# the applet symlink itself; cp onto it would overwrite busybox.
	for b in "$stage/$BIN_DIR"/*; do
		name=$(basename "$b")
		for d in usr/sbin usr/bin; do
			if [[ -L $stage/$d/$name ]]; then
				ln -sfn "/$BIN_DIR/$name" "$stage/$d/$name"
			fi
		done
		[[ -e $stage/usr/sbin/$name || -L $stage/usr/sbin/$name ]] ||
			[[ -e $stage/usr/bin/$name || -L $stage/usr/bin/$name ]] ||
			ln -s "/$BIN_DIR/$name" "$stage/usr/bin/$name"
	done
	printf 'root:x:0:0:root:/root:/bin/sh\n' >"$stage/etc/passwd"
	printf 'root:x:0:\n' >"$stage/etc/group"
	printf '127.0.0.1\tlocalhost\n::1\tlocalhost\n' >"$stage/etc/hosts"
	depmod -b "$stage" "$kv"

	(cd "$stage" && find . -mindepth 1 -print0 | LC_ALL=C sort -z |
		cpio --null --create --format=newc --reproducible --owner=0:0 --quiet) |
		gzip -1 >"$stage.cpio.gz"
	mv "$stage.cpio.gz" "$img"
	log "$(du -h "$img" | cut -f1) $img"
	# Every changed input makes a new image: keep the 30 newest, and none younger than an
	# hour goes (another run may be about to boot it).
	find "$CACHE/initramfs" -maxdepth 1 -name '*.cpio.gz' -printf '%T@ %p\n' | sort -rn |
		tail -n +31 | cut -d' ' -f2- | while read -r old; do
			find "$old" -mmin +60 -delete
		done
fi
if [[ -n $out ]]; then
	cp "$img" "$out"
fi
echo "$img"
