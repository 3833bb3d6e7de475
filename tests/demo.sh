#!/bin/bash
# `make demo`: the lab's demo (tests/lab/demo.sh, docs/lab.md): fig3 and fig4
# of the paper, none vs daqs, daqsd controlling VMs over virtio-serial. The
# older single-VM demo is still there: tests/e2e-run.sh --kernel 6.1 demo.sh
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
exec "$top/tests/lab/demo.sh" "$@"
