#!/bin/bash
# e2e-run.sh [--kernel SERIES] [--mq] [SCRIPT...]: build daqs.ko against
# Debian's kernel SERIES (6.1 default, 6.12), daqsctl and the test tools,
# then boot that kernel under QEMU and run the guest scripts of tests/e2e/
# (default: every NN-*.sh). Ends with "N passed, N failed".
# DAQS_E2E_APPEND: more kernel command line; VAR=VALUE words there are in
# the scripts' environment (e.g. NLFUZZ_COUNT=20000 for 50-nlfuzz.sh).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
series=6.1 extra=() scripts=()
while [ $# -gt 0 ]; do
	case $1 in
	--kernel) series=$2; shift ;;
	--*) extra+=("$1") ;;
	*) scripts+=("$1") ;;
	esac
	shift
done
kv=$("$top/tests/qemu/kernel.sh" "$series")
build=$top/build/e2e-$kv
# shellcheck source=lib/guest-build.sh
. "$top/tests/lib/guest-build.sh"
guest_build "$top" "$kv" "$build"
guest_build_tool "$top" "$build" sample
# nlsend reuses the netlink layer of daqsctl and daqs-agent to send requests daqsctl never builds
# shellcheck disable=SC2046
guest_build_tool "$top" "$build" nlsend "$top/daqsd/daqs_nl.c" \
	$(pkg-config --cflags --libs libnl-genl-3.0)
# daqsd runs in the guest against fake guests on its VFs (60-verify.sh),
# netdevsim's where the kernel has it as a module (Debian's have none)
guest_build_tool "$top" "$build" fakevm "$top/daqsd/channel.c" "$top/daqsd/units.c"
moddir=${DAQS_CACHE:-/var/cache/daqs}/kernels/$kv/root/lib/modules/$kv
if [ -n "$(find "$moddir" -name 'netdevsim.ko*' -print -quit 2>/dev/null)" ]; then
	extra+=(--kmod netdevsim)
fi
# nlfuzz forges raw generic netlink itself (50-nlfuzz.sh)
guest_build_tool "$top" "$build" nlfuzz
# udpflood sends UDP with no control connection: 20-accuracy.sh's police books
guest_build_tool "$top" "$build" udpflood
# 10-counters.sh unloads daqs.ko under traffic with the egress static keys
# held by daqs_keyhold.ko (under QEMU 7.2's TCG a stale int3 from text_poke_bp oopsed)
guest_build_keyhold "$top" "$kv" "$build"

if [ ${#scripts[@]} -eq 0 ]; then
	for s in "$top"/tests/e2e/[0-9][0-9]-*.sh; do
		scripts+=("$(basename "$s")")
	done
fi
daqsctl=$top/daqsd/build/daqsctl
# the debug kernel runs the same scripts several times slower: 1358 s here,
# more than 1500 s on CI's busier host, where it timed out in the last one
timeout=${DAQS_E2E_TIMEOUT:-1500}
[ "$series" != debug ] || timeout=${DAQS_E2E_TIMEOUT:-3000}
set +e
"$top/tests/qemu/run.sh" --kernel "$kv" --tests "$top/tests/e2e" \
	--module "$build/tree/kmod/daqs.ko" --module "$build/keyhold/daqs_keyhold.ko" --bin "$daqsctl" --bin "$build/sample" --bin "$build/nlsend" --bin "$top/daqsd/build/daqsd" --bin "$build/fakevm" --bin "$build/nlfuzz" --bin "$build/udpflood" \
	--out "$build/out" --timeout "$timeout" \
	${DAQS_E2E_APPEND:+--append "$DAQS_E2E_APPEND"} \
	--mq-net "${extra[@]}" "${scripts[@]}" 2>&1 | tee "$build/run.log"
rc=${PIPESTATUS[0]}
set -e
line=$(sed -n 's/^daqs-e2e: \([0-9]* passed, [0-9]* failed\).*/\1/p' "$build/run.log" | tail -n 1)
echo "${line:-0 passed, 1 failed}"
exit "$rc"
