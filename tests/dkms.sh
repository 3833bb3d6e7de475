#!/bin/bash
# dkms add/build/install of this tree against the installed Debian headers,
# then remove again so the host is left as it was.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
kv=$("$top/tests/lib/kver.sh") || { echo "not ok dkms (no headers)"; echo "0 passed, 1 failed"; exit 1; }
ver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$top/dkms.conf")
stage=/usr/src/daqs-$ver
pass=0 fail=0

step() {
	local name=$1; shift
	if "$@" >/tmp/daqs-dkms.log 2>&1; then
		echo "ok dkms $name"; pass=$((pass + 1))
	else
		echo "not ok dkms $name"; sed 's/^/# /' /tmp/daqs-dkms.log | tail -30
		fail=$((fail + 1))
	fi
}

dkms remove -m daqs -v "$ver" --all >/dev/null 2>&1 || true
rm -rf "$stage"
mkdir -p "$stage"
# a clean copy: the tree as DKMS users get it, without build artefacts
(cd "$top" && git ls-files -z Kbuild dkms.conf kmod uapi |
	xargs -0 cp --parents -t "$stage")
step add dkms add -m daqs -v "$ver"
step "build -k $kv" dkms build -m daqs -v "$ver" -k "$kv"
step "install -k $kv" dkms install -m daqs -v "$ver" -k "$kv"
step "module in /lib/modules/$kv" bash -c "modinfo -k $kv daqs | grep -q 'name: *daqs'"
step remove dkms remove -m daqs -v "$ver" --all
rm -rf "$stage"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
