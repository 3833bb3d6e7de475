#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# run.sh [options] [TEST.sh ...] - boot Debian's stock kernel under QEMU (TCG) with the
# e2e initramfs, run the test scripts inside and judge the boot.
#
#   --kernel SERIES|KV    6.1 (default), 6.12 or an exact KV (see kernel.sh)
#   --tests DIR           where the test scripts live (default tests/e2e)
#   --module FILE         out-of-tree .ko to ship in /lib/modules/KV/extra (repeatable)
#   --bin FILE            host program to ship in /usr/lib/daqs-bin (repeatable)
#   --kmod NAME           extra module from the image (repeatable)
#   --file SRC:DST        any other file (repeatable)
#   --initrd FILE         boot this initramfs instead of building one
#   --append ARGS         more kernel command line
#   --timeout SECONDS     hard limit for the whole boot (default 600)
#   --test-timeout SECONDS  limit for each script inside the guest (default 0: none)
#   --mq-net              2-queue virtio-net NIC; host side is a multi_queue tap in netns
#                         daqs-e2e-PID with 192.0.2.1/24 and iperf3 servers on 5201 and 5202;
#                         the guest's eth0 gets 192.0.2.2/24 ($DAQS_HOST_IP in tests)
#   --tap NETNS:IFNAME[,MAC]  a virtio-net NIC on the caller's existing tap IFNAME in
#                         network namespace NETNS (QEMU runs there); the guest's eth0
#                         (with --append daqs_ip=ADDR/LEN it is configured at boot)
#   --virtio-serial SOCK[,NAME]  a virtio-serial port NAME (default org.daqs.0) on host unix
#                         socket SOCK (QEMU listens); repeatable, one port per use, all on one
#                         virtio-serial-pci device; names must differ (QEMU refuses duplicates)
#   --qmp SOCK            a QMP monitor on host unix socket SOCK (QEMU listens), for
#                         device_del/device_add while the guest runs
#   --out DIR             keep console.log and results.txt there (default: a new temp dir)
#   --accel tcg|kvm       default tcg; /dev/kvm here hangs the stock kernel, so opt-in only
#   --smp N  --mem SIZE   default 2 and 2G
#                         (under TCG, QEMU 8.1 or later: tests/lib/qemu-version.sh)
#   -v, --verbose         follow the console on stderr while the guest runs
#
# With no TEST names, runs every *.sh in the tests dir except lib.sh.
# Exits 0 only if the guest wrote "daqs-e2e: done" on its result port, no result was
# "not ok" and the console log has no WARNING:, BUG:, Oops, Kernel panic, KASAN or UBSAN.
# The last line is "daqs-e2e: N passed, N failed[, N skipped]".
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)

log() { printf 'run.sh: %s\n' "$*" >&2; }
die() { log "$*"; exit 2; }
usage() {
	sed -n '4,36s/^# \{0,1\}//p' "$0" >&2
	exit "${1:-2}"
}

kernel=6.1 testdir=$REPO/tests/e2e initrd='' append='' timeout_s=600 test_timeout=0
mq_net=0 tap_spec='' vser_specs=() qmp_sock='' outdir='' accel=tcg smp=2 mem=2G verbose=0
mk_args=() tests=()
while [[ $# -gt 0 ]]; do
	case $1 in
	--kernel) kernel=$2; shift ;;
	--tests) testdir=$2; shift ;;
	--module | --bin | --kmod | --file) mk_args+=("$1" "$2"); shift ;;
	--initrd) initrd=$2; shift ;;
	--append) append=$2; shift ;;
	--timeout) timeout_s=$2; shift ;;
	--test-timeout) test_timeout=$2; shift ;;
	--mq-net) mq_net=1 ;;
	--tap) tap_spec=$2; shift ;;
	--virtio-serial) vser_specs+=("$2"); shift ;;
	--qmp) qmp_sock=$2; shift ;;
	--out) outdir=$2; shift ;;
	--accel) accel=$2; shift ;;
	--smp) smp=$2; shift ;;
	--mem) mem=$2; shift ;;
	-v | --verbose) verbose=1 ;;
	-h | --help) usage 0 ;;
	--) shift; tests+=("$@"); break ;;
	-*) log "unknown option '$1'"; usage ;;
	*) tests+=("$1") ;;
	esac
	shift
done
[[ $timeout_s =~ ^[0-9]+$ && $test_timeout =~ ^[0-9]+$ ]] || die "timeouts are whole seconds"
case $accel in
tcg) ;;
kvm) [[ -r /dev/kvm && -w /dev/kvm ]] || die "--accel kvm: /dev/kvm is not usable" ;;
*) die "--accel must be tcg or kvm, not '$accel'" ;;
esac
[[ -d $testdir ]] || die "no tests directory $testdir"
testdir=$(cd "$testdir" && pwd)
if [[ ${#tests[@]} -eq 0 ]]; then
	while IFS= read -r t; do
		tests+=("$t")
	done < <(cd "$testdir" && find . -maxdepth 1 -name '*.sh' ! -name lib.sh -printf '%f\n' | sort)
fi
[[ ${#tests[@]} -gt 0 ]] || die "no test scripts in $testdir"
for t in "${tests[@]}"; do
	[[ $t != *[,[:space:]]* ]] || die "test name '$t' has a comma or a space"
	[[ -f $testdir/$t ]] || die "no test $t in $testdir"
done
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86 is not installed"
# multi-threaded TCG before QEMU 8.1 runs stale translations (the script says
# why); DAQS_ALLOW_OLD_QEMU=1 runs on one anyway, for a look, not for a verdict
if [[ $accel == tcg && ${DAQS_ALLOW_OLD_QEMU:-0} != 1 ]]; then
	"$REPO/tests/lib/qemu-version.sh" || die "QEMU too old for SMP guests under TCG"
fi
if [[ -n $tap_spec ]]; then
	[[ $mq_net == 0 ]] || die "--tap and --mq-net are two NICs named eth0: one of them"
	tap_ns=${tap_spec%%:*} tap_if=${tap_spec#*:} tap_mac=52:54:00:da:06:01
	[[ $tap_if == *,* ]] && tap_mac=${tap_if#*,} tap_if=${tap_if%%,*}
	[[ $tap_spec == *:* && -n $tap_ns && -n $tap_if ]] || die "--tap: want NETNS:IFNAME[,MAC], got '$tap_spec'"
	[[ $tap_mac =~ ^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$ ]] || die "--tap: bad MAC '$tap_mac' in '$tap_spec'"
	ip -n "$tap_ns" link show "$tap_if" >/dev/null 2>&1 || die "--tap: no $tap_if in namespace $tap_ns"
fi

# --- cleanup: runs on every exit path, including timeout, Ctrl-C and errors ----------
qemu_pid='' tail_pid='' netns='' server_pids=()
summary_done=0
cleanup() {
	local rc=$?
	trap - EXIT INT TERM HUP
	if [[ $summary_done == 0 && $rc != 0 ]]; then
		# Setup failed or we were interrupted: still end with a countable line.
		echo "not ok harness # run.sh stopped with status $rc before a verdict"
		echo "daqs-e2e: 0 passed, 1 failed"
	fi
	if [[ -n $qemu_pid ]] && kill -0 "$qemu_pid" 2>/dev/null; then
		# timeout(1) passes TERM on to QEMU.
		kill -TERM "$qemu_pid" 2>/dev/null || true
		for _ in $(seq 50); do
			kill -0 "$qemu_pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$qemu_pid" 2>/dev/null || true
		wait "$qemu_pid" 2>/dev/null || true
	fi
	if [[ -n $tail_pid ]]; then
		kill "$tail_pid" 2>/dev/null || true
		wait "$tail_pid" 2>/dev/null || true
	fi
	for p in "${server_pids[@]}"; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	if [[ -n $netns ]]; then
		# Anything still running in the namespace was started by this run.
		ip netns pids "$netns" 2>/dev/null | xargs -r kill -KILL 2>/dev/null || true
		ip -n "$netns" link del daqs-tap0 2>/dev/null || true
		ip netns del "$netns" 2>/dev/null || true
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT
trap 'log "terminated"; exit 143' TERM HUP

# --- kernel and initramfs (cached) --------------------------------------------------
kv=$("$HERE/kernel.sh" "$kernel")
CACHE=${DAQS_CACHE:-/var/cache/daqs}
vmlinuz=$CACHE/kernels/$kv/root/boot/vmlinuz-$kv
[[ -f $vmlinuz ]] || die "no $vmlinuz"
if [[ -z $initrd ]]; then
	initrd=$("$HERE/mkinitramfs.sh" --kv "$kv" --tests "$testdir" "${mk_args[@]}")
fi

if [[ -z $outdir ]]; then
	outdir=$(mktemp -d "${TMPDIR:-/tmp}/daqs-e2e.XXXXXX")
else
	mkdir -p "$outdir"
fi
console=$outdir/console.log
results=$outdir/results.txt
: >"$console"
: >"$results"

# Namespaces of earlier runs that were killed too hard to clean up after themselves.
for ns in $(ip netns list 2>/dev/null | awk '$1 ~ /^daqs-e2e-[0-9]+$/ { print $1 }'); do
	kill -0 "${ns#daqs-e2e-}" 2>/dev/null && continue
	log "removing stale namespace $ns"
	ip netns pids "$ns" 2>/dev/null | xargs -r kill -KILL 2>/dev/null || true
	ip netns del "$ns" 2>/dev/null || true
done

# --- QEMU command line -----------------------------------------------------------------
cmdline="console=ttyS0 panic_on_warn=1 panic=-1 oops=panic"
cmdline+=" daqs_tests=$(IFS=,; echo "${tests[*]}") daqs_test_timeout=$test_timeout"
qemu=(qemu-system-x86_64 -accel "$accel" -smp "$smp" -m "$mem" -nographic -no-reboot
	-monitor none -serial "file:$console" -serial "file:$results"
	-kernel "$vmlinuz" -initrd "$initrd" -nic none)
[[ $accel == kvm ]] && qemu+=(-cpu host)

wrap=()
if [[ $mq_net == 1 ]]; then
	netns=daqs-e2e-$$
	ip netns add "$netns"
	ip netns exec "$netns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
	ip -n "$netns" link set lo up
	# QEMU opens the tap by name with IFF_MULTI_QUEUE, once per queue: the persistent
	# device must have been created multi_queue, or TUNSETIFF fails with EINVAL.
	ip -n "$netns" tuntap add dev daqs-tap0 mode tap multi_queue vnet_hdr
	ip -n "$netns" addr add 192.0.2.1/24 dev daqs-tap0
	ip -n "$netns" link set daqs-tap0 up
	for port in 5201 5202; do
		ip netns exec "$netns" iperf3 --server --bind 192.0.2.1 --port "$port" >"$outdir/iperf3-server-$port.log" 2>&1 &
		server_pids+=($!)
	done
	# The tap is looked up by name in QEMU's own namespace.
	wrap=(ip netns exec "$netns")
	qemu+=(-netdev "tap,id=n0,ifname=daqs-tap0,script=no,downscript=no,queues=2,vhost=off"
		-device "virtio-net-pci,netdev=n0,mq=on,vectors=6,mac=52:54:00:da:05:02")
	cmdline+=" daqs_ip=192.0.2.2/24 daqs_peer=192.0.2.1"
fi
if [[ -n $tap_spec ]]; then
	wrap=(ip netns exec "$tap_ns")
	qemu+=(-netdev "tap,id=n0,ifname=$tap_if,script=no,downscript=no,vhost=off"
		-device "virtio-net-pci,netdev=n0,mac=$tap_mac")
fi
if [[ ${#vser_specs[@]} -gt 0 ]]; then
	[[ ${#vser_specs[@]} -le 30 ]] || die "--virtio-serial: at most 30 ports"
	qemu+=(-device "virtio-serial-pci,id=vser0")
	vnames=' '
	for i in "${!vser_specs[@]}"; do
		spec=${vser_specs[$i]}
		vsock=${spec%%,*} vname=org.daqs.0
		[[ $spec == *,* ]] && vname=${spec#*,}
		[[ $vname =~ ^[A-Za-z0-9._-]+$ ]] || die "--virtio-serial: bad port name '$vname'"
		[[ $vnames != *" $vname "* ]] || die "--virtio-serial: port name $vname given twice"
		vnames+="$vname "
		qemu+=(-chardev "socket,id=vport$i,path=$vsock,server=on,wait=off"
			-device "virtserialport,bus=vser0.0,chardev=vport$i,name=$vname")
	done
	cmdline+=" daqs_vport=${#vser_specs[@]}"
fi
[[ -n $qmp_sock ]] && qemu+=(-qmp "unix:$qmp_sock,server=on,wait=off")
[[ -n $append ]] && cmdline+=" $append"
qemu+=(-append "$cmdline")

log "kernel $kv, initramfs $initrd"
log "tests: ${tests[*]}; logs in $outdir"
printf '%q ' "${wrap[@]}" timeout --kill-after=10 "$timeout_s" "${qemu[@]}" >"$outdir/cmd"
echo >>"$outdir/cmd"

if [[ $verbose == 1 ]]; then
	tail -n +1 -F "$console" >&2 2>/dev/null &
	tail_pid=$!
fi

start=$(date +%s.%N)
# In the background so that a trapped Ctrl-C or TERM is acted on at once: timeout(1)
# runs QEMU in its own process group, where the terminal's SIGINT does not reach it.
"${wrap[@]}" timeout --kill-after=10 "$timeout_s" "${qemu[@]}" </dev/null >"$outdir/qemu.out" 2>&1 &
qemu_pid=$!
qrc=0
wait "$qemu_pid" || qrc=$?
qemu_pid=
end=$(date +%s.%N)
wall=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')
if [[ -n $tail_pid ]]; then
	sleep 0.2
	kill "$tail_pid" 2>/dev/null || true
	wait "$tail_pid" 2>/dev/null || true
	tail_pid=
fi

# --- verdict -----------------------------------------------------------------------------
tr -d '\r' <"$results" >"$results.tmp" && mv "$results.tmp" "$results"
passed=0 failed=0 skipped=0
while IFS= read -r line; do
	case $line in
	"not ok "*)
		failed=$((failed + 1))
		echo "$line"
		;;
	"ok "*"# SKIP"* | "ok "*"# skip"*)
		skipped=$((skipped + 1))
		echo "$line"
		;;
	"ok "*)
		passed=$((passed + 1))
		echo "$line"
		;;
	"#"*) echo "$line" ;;
	esac
done <"$results"

if [[ $qrc == 124 || $qrc == 137 ]]; then
	echo "not ok boot # timed out after $timeout_s s"
	failed=$((failed + 1))
elif [[ $qrc != 0 ]]; then
	echo "not ok qemu # exit status $qrc: $(tail -n 3 "$outdir/qemu.out" | tr '\n' ' ')"
	failed=$((failed + 1))
fi
if ! grep -qx 'daqs-e2e: done' "$results"; then
	echo "not ok boot # no 'daqs-e2e: done' on the result port (crash, hang or timeout); console tail:"
	tail -n 15 "$console" | sed 's/^/#   /'
	failed=$((failed + 1))
fi
bad_re='WARNING:|BUG:|Oops|Kernel panic|KASAN|UBSAN'
if grep -qE "$bad_re" "$console"; then
	echo "not ok kernel-log # the console has kernel errors:"
	grep -nE -A 12 "$bad_re" "$console" | head -n 60 | sed 's/^/#   /'
	failed=$((failed + 1))
fi

echo "# kernel $kv, wall ${wall} s, logs in $outdir"
summary="daqs-e2e: $passed passed, $failed failed"
[[ $skipped -gt 0 ]] && summary+=", $skipped skipped"
echo "$summary"
summary_done=1
[[ $failed -eq 0 ]]
