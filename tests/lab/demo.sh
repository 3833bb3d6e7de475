#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# `make demo`: the lab (docs/lab.md) in about 6-8 minutes under TCG: fig3 with
# guarantees of 25% and 50% of H, and fig4 (8 VMs, a best-effort VM more every
# 10 s), each with no control (none) and daqs; prints the metrics table and
# where the plots are. `make lab` runs every scenario and method.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
echo "demo: the daqs lab: one QEMU guest (TCG) playing up to 8 VMs, each with its own daqs.ko binding,"
echo "demo: daqs-agent and virtio-serial port; one daqsd on this host controls them through a channel dir."
echo "demo: fig3 (2 guarantees) and fig4 (8 VMs), methods none and daqs; about 7 minutes."
exec "$top/tests/lab/lab.sh" --run "demo-$(date +%Y%m%d-%H%M%S)" --scenarios fig3,fig4 \
	--methods none,daqs --guarantees 25,50 --fig3-seconds 15 --fig4-step 10 "$@"
