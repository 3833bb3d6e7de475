// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * libFuzzer target for daqsd/config.c: everything a configuration file's
 * bytes reach, and then the allocator fed with what was read.
 *
 * The input is read
 *  1. as daqsd.conf;
 *  2. as the original DAQS's three files, split at form feeds ('\f'):
 *     defaults.ini, min_bw.ini, payments.ini (a missing part is a missing
 *     file);
 * and every accepted configuration runs a few ticks of its policy with
 * rates drawn from the input, checking the allocator's invariants. What is
 * accepted must be what config.h promises (VM names of its alphabet, each
 * once and found by daqs_config_vm(), weights and minimums in range, min
 * not above max, minimums within the capacity, names and paths that fit);
 * a refusal names the file and a line the input has. A capacity drawn
 * from the input is set on every accepted configuration: refused, or the
 * minimums fit it.
 * Seeds: tests/fuzz/corpus/config/.
 */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "config.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

/* an error is one terminated line that names the file, or nothing */
static void check_error(int ret, const char *err, size_t len, const char *name)
{
	CHECK(ret == -EINVAL || ret == -ENOMEM);
	CHECK(memchr(err, '\0', len));
	CHECK(!strncmp(err, name, strlen(name)));
	CHECK(!strchr(err, '\n'));
}

/* "NAME:LINE: ...": a line of the input (1 .. its lines) */
static void check_line(const char *err, const char *name, const char *text,
		       size_t size)
{
	const char *p = err + strlen(name);
	unsigned long line, lines = 1;
	char *end;
	size_t i;

	if (*p != ':' || p[1] < '0' || p[1] > '9')
		return;		/* about the file as a whole */
	line = strtoul(p + 1, &end, 10);
	CHECK(*end == ':');
	for (i = 0; i < size; i++)
		lines += text[i] == '\n';
	CHECK(line >= 1 && line <= lines);
}

static bool vm_name_ok(const char *s)
{
	size_t n = strnlen(s, DAQS_VM_NAME_MAX + 1), i;

	if (!n || n > DAQS_VM_NAME_MAX)
		return false;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("._-+:@", s[i]))
			return false;
	return true;
}

/* what config.h promises of a configuration it accepted */
static void check_accepted(const struct daqs_config *cfg, bool original,
			   uint64_t cap)
{
	char err[DAQS_CONF_ERR_LEN];
	struct daqs_config copy;
	uint64_t sum = 0;
	size_t i;

	CHECK(cfg->n_vms <= DAQS_CONF_VMS_MAX);
	CHECK(strnlen(cfg->link, sizeof(cfg->link)) < sizeof(cfg->link));
	CHECK(strnlen(cfg->control_socket, sizeof(cfg->control_socket)) <
	      sizeof(cfg->control_socket));
	CHECK(cfg->control_socket[0] == '/' && cfg->channel_dir[0] == '/');
	CHECK(cfg->capacity_bps <= DAQS_CAPACITY_MAX_BPS);
	for (i = 0; i < cfg->n_vms; i++) {
		const struct daqs_vm_conf *vm = &cfg->vms[i];

		CHECK(vm_name_ok(vm->name));
		CHECK(daqs_config_vm(cfg, vm->name) == vm);
		CHECK(vm->weight >= 1 && vm->weight <= DAQS_WEIGHT_MAX);
		CHECK(vm->min_bps <= DAQS_CAPACITY_MAX_BPS);
		CHECK(!vm->max_bps || vm->max_bps >= DAQS_RATE_MIN_BPS);
		CHECK(!vm->max_bps || vm->min_bps <= vm->max_bps);
		if (original)
			CHECK(vm->min_bps % 1000000000 == 0);
		if (vm->device_kind == DAQS_DEVICE_IFNAME)
			CHECK(vm->ifname[0] &&
			      strnlen(vm->ifname, sizeof(vm->ifname)) < sizeof(vm->ifname));
		CHECK(!vm->socket[0] || vm->socket[0] == '/');
		sum += vm->min_bps;
	}
	if (cfg->capacity_bps)
		CHECK(sum <= cfg->capacity_bps);
	/* a capacity learnt later: refused, or the minimums fit it */
	copy = *cfg;
	if (!daqs_config_set_capacity(&copy, cap, "fuzz", err, sizeof(err))) {
		CHECK(copy.capacity_bps == cap && sum <= cap);
	} else {
		CHECK(copy.capacity_bps == cfg->capacity_bps);
		CHECK(memchr(err, '\0', sizeof(err)) && !strncmp(err, "fuzz", 4));
	}
}

/* eight bytes of the input as a capacity, often a round one */
static uint64_t capacity_of(const uint8_t *data, size_t size)
{
	uint64_t v = 0;
	size_t i;

	for (i = 0; i < 8 && i < size; i++)
		v = v << 8 | data[size - 1 - i];
	return v & 1 ? (v >> 1) % 100 * 1000000000ULL : v >> 1;
}

static void run_policy(const struct daqs_config *cfg, const uint8_t *data,
		       size_t size)
{
	struct daqs_alloc_state st = { 0 };
	struct daqs_policy p;
	struct daqs_vm_in *in;
	uint64_t *out, cap = cfg->capacity_bps ? cfg->capacity_bps : 1000000000;
	size_t i, n = cfg->n_vms, k, at = 0;

	if (n > 64)
		n = 64;
	in = calloc(n ? n : 1, sizeof(*in));
	out = calloc(n ? n : 1, sizeof(*out));
	CHECK(in && out);
	daqs_policy_init(&p, cfg->policy, cfg->tick_ms);
	for (k = 0; k < 4; k++) {
		uint64_t sum = 0, slack = 0, lim = 0;

		for (i = 0; i < n; i++) {
			uint8_t b = size ? data[at++ % size] : 0;

			in[i].name = cfg->vms[i].name;
			in[i].present = b != 0xff;
			in[i].rate_known = k > 0 && b != 0xfe;
			in[i].rate_bps = cap / 200 * b;
			in[i].limit_bps = out[i];
			in[i].min_bps = cfg->vms[i].min_bps;
			in[i].max_bps = cfg->vms[i].max_bps;
			in[i].weight = cfg->vms[i].weight;
		}
		CHECK(daqs_alloc(&p, cap, in, n, out, &st) == 0);
		for (i = 0; i < n; i++) {
			if (!in[i].present) {
				CHECK(out[i] == 0);
				continue;
			}
			CHECK(out[i] >= DAQS_RATE_MIN_BPS && out[i] <= cap);
			sum += in[i].st.alloc_bps;
			lim += out[i];
			if (in[i].min_bps > in[i].st.alloc_bps)
				slack += in[i].min_bps - in[i].st.alloc_bps;
			if (in[i].st.alloc_bps < DAQS_RATE_MIN_BPS)
				slack += DAQS_RATE_MIN_BPS;
		}
		if (p.kind != DAQS_POLICY_STANDALONE && p.kind != DAQS_POLICY_PAPER2023) {
			CHECK(sum <= cap);
			CHECK(lim <= cap + slack);
		}
	}
	daqs_alloc_state_release(&st);
	free(in);
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct daqs_original_files f = {
		.defaults = "defaults.ini",
		.min_bw = "min_bw.ini",
		.payments = "payments.ini",
	};
	const char *text = (const char *)data, *p, *end = text + size;
	const char **bufs[3] = { &f.defaults_buf, &f.min_bw_buf, &f.payments_buf };
	size_t *lens[3] = { &f.defaults_len, &f.min_bw_len, &f.payments_len };
	struct daqs_config *cfg = NULL;
	char err[DAQS_CONF_ERR_LEN];
	int ret, i;

	ret = daqs_config_parse("fuzz.conf", text, size, &cfg, err, sizeof(err));
	if (ret) {
		check_error(ret, err, sizeof(err), "fuzz.conf");
		check_line(err, "fuzz.conf", text, size);
	} else {
		CHECK(cfg->capacity_bps || cfg->link[0]);
		CHECK(cfg->tick_ms >= DAQS_TICK_MIN_MS && cfg->tick_ms <= DAQS_TICK_MAX_MS);
		CHECK(cfg->lease_ms >= 2 * cfg->tick_ms);
		check_accepted(cfg, false, capacity_of(data, size));
		run_policy(cfg, data, size);
		daqs_config_free(cfg);
	}

	for (i = 0, p = text; i < 3 && p <= end; i++) {
		const char *ff = memchr(p, '\f', (size_t)(end - p));

		*bufs[i] = p;
		*lens[i] = ff ? (size_t)(ff - p) : (size_t)(end - p);
		if (!ff)
			break;
		p = ff + 1;
	}
	cfg = NULL;
	ret = daqs_config_parse_original(&f, &cfg, err, sizeof(err));
	if (ret) {
		CHECK(ret == -EINVAL || ret == -ENOMEM);
		CHECK(memchr(err, '\0', sizeof(err)));
		CHECK(!strchr(err, '\n'));
	} else {
		CHECK(cfg->link[0]);
		check_accepted(cfg, true, capacity_of(data, size));
		run_policy(cfg, data, size);
		daqs_config_free(cfg);
	}
	return 0;
}
