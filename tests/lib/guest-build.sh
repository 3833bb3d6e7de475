# shellcheck shell=bash
# Sourced by the host sides of the QEMU tests: build what a guest needs.
#
# guest_build TOP KV BUILD: daqs.ko for kernel KV from a copy of the tree
# (BUILD/tree, so builds for two kernels never mix) and the userspace in
# TOP/daqsd. On failure prints the log and "0 passed, 1 failed" and exits 1.
guest_build() {
	local top=$1 kv=$2 build=$3
	mkdir -p "$build/tree"
	(cd "$top" && git ls-files -z Kbuild kmod uapi | xargs -0 cp --parents -t "$build/tree")
	cp "$top"/kmod/*.[ch] "$build/tree/kmod/"
	make -s -C "/lib/modules/$kv/build" M="$build/tree" modules >"$build/module.log" 2>&1 ||
		{ cat "$build/module.log"; echo "0 passed, 1 failed"; exit 1; }
	make -s -C "$top/daqsd" >"$build/userspace.log" 2>&1 ||
		{ cat "$build/userspace.log"; echo "0 passed, 1 failed"; exit 1; }
}

# guest_build_keyhold TOP KV BUILD: tests/faults/keyhold (daqs_keyhold.ko, which
# holds the egress static keys so that loading or unloading daqs.ko never
# patches __dev_queue_xmit() under QEMU TCG) for kernel KV, into BUILD/keyhold.
guest_build_keyhold() {
	local top=$1 kv=$2 build=$3
	mkdir -p "$build/keyhold"
	cp "$top"/tests/faults/keyhold/{Kbuild,daqs_keyhold.c} "$build/keyhold/"
	make -s -C "/lib/modules/$kv/build" M="$build/keyhold" modules >"$build/keyhold.log" 2>&1 ||
		{ cat "$build/keyhold.log"; echo "0 passed, 1 failed"; exit 1; }
}

# guest_build_tool TOP BUILD NAME SOURCES...: a test tool in tests/tools
# linked with the given daqsd/ sources, into BUILD/NAME.
guest_build_tool() {
	local top=$1 build=$2 name=$3
	shift 3
	gcc -std=c11 -Wall -Wextra -Werror -O2 -D_GNU_SOURCE -I"$top/uapi" -I"$top/daqsd" \
		-o "$build/$name" "$top/tests/tools/$name.c" "$@"
}

# guest_verdict GRC RUNLOG [SHOWN]: the guest's results in a host test that
# ran tests/qemu/run.sh (exit GRC, output RUNLOG): its lines matching the
# extended regex SHOWN (default: ok/not ok lines and notes) shown, its "N passed, N failed" added to the caller's $pass and $fail;
# a guest that gave no summary, or exited non-zero with no failed test,
# counts as a failure (the caller's not_ok).
guest_verdict() {
	local grc=$1 log=$2 shown=${3:-'^(ok |not ok |#|daqs-e2e: )'} gline
	note "guest side (tests/qemu/run.sh, exit $grc):"
	grep -E "$shown" "$log" | sed 's/^daqs-e2e: /# guest: /' || true
	gline=$(sed -n 's/^daqs-e2e: \([0-9]*\) passed, \([0-9]*\) failed.*/\1 \2/p' "$log" | tail -n 1)
	if [ -n "$gline" ]; then
		pass=$((pass + ${gline% *}))
		fail=$((fail + ${gline#* }))
	else
		not_ok guest_verdict "run.sh ended without a summary (exit $grc)"
	fi
	[ "$grc" = 0 ] || [ "${gline#* }" != 0 ] || not_ok guest_run "run.sh exit $grc"
}
