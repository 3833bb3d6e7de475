#!/bin/bash
# Print the kernel version to build daqs.ko against: the running kernel if
# its headers are installed, else Debian's stock kernel (linux-headers-amd64).
set -euo pipefail
if [ -d "/lib/modules/$(uname -r)/build" ]; then
	uname -r
	exit 0
fi
dep=$(apt-cache depends linux-headers-amd64 2>/dev/null |
	awk '/Depends: linux-headers-[0-9]/ { print $2; exit }')
kv=${dep#linux-headers-}
if [ -z "$kv" ] || [ ! -d "/lib/modules/$kv/build" ]; then
	echo "kver: no kernel headers; run 'make deps' (installs linux-headers-amd64)" >&2
	exit 1
fi
echo "$kv"
