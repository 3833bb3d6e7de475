# SPDX-License-Identifier: GPL-2.0
# daqs: `make demo` shows it, `make check` tests it (see README.md).

KVER ?= $(shell tests/lib/kver.sh 2>/dev/null)
KDIR ?= /lib/modules/$(KVER)/build
DAQS_VERSION := $(shell git describe --always --dirty 2>/dev/null || echo 0.1.0)

.PHONY: all module debug userspace deps dkms-install style sparse check demo lab bench fuzz faults clean

all: module userspace

module:
	$(MAKE) -C $(KDIR) M=$(CURDIR) \
		KCPPFLAGS='-DDAQS_VERSION=\"$(DAQS_VERSION)\"' modules

debug:
	$(MAKE) -C $(KDIR) M=$(CURDIR) CONFIG_DAQS_DEBUG=y W=1 modules

userspace:
	$(MAKE) -C daqsd

deps:
	tests/deps.sh

dkms-install:
	dkms install $(CURDIR) -k $(KVER)

style:
	tests/style.sh

sparse:
	$(MAKE) -C $(KDIR) M=$(CURDIR) C=2 modules

check: deps
	tests/check.sh

demo: deps
	tests/demo.sh

# the lab: every scenario (fig3, fig4, churn) and method (docs/lab.md)
lab: deps
	tests/lab/lab.sh $(LAB_ARGS)

# control plane and datapath benchmarks; CSVs in build/bench, the report in
# docs/benchmarks.md
bench: deps
	tests/bench/cp.sh
	tests/bench/datapath.sh

# every libFuzzer target, FUZZ_SECONDS (default 60) each
fuzz: deps
	$(MAKE) -C daqsd fuzz

# fault injection at the full counts (100 kills of each, 100 reloads, ...);
# FAULTS_* and FAULTS_ARGS (e.g. --seed N) as in tests/faults.sh
faults: deps
	tests/faults.sh $(FAULTS_ARGS)

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean 2>/dev/null || true
	$(MAKE) -C daqsd clean 2>/dev/null || true
