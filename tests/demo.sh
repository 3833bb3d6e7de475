#!/bin/bash
# `make demo`: build daqs.ko and daqsctl, boot Debian's stock kernel under
# QEMU and show a limit enforced with live counters (until the lab of the
# daemon issue exists, this is the closest real thing).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
echo "demo: building daqs.ko and daqsctl, booting Debian's kernel under QEMU (TCG); about 2 minutes"
exec "$top/tests/e2e-run.sh" --kernel "${DAQS_DEMO_KERNEL:-6.1}" demo.sh
