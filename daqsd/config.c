// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * daqsd's configuration files, read with libinih.
 *
 * libinih hands its handler a section, a key and a value but no line
 * number (Debian builds it without INI_HANDLER_LINENO), truncates section
 * names to 49 bytes, never reports a section without keys, and reads an
 * indented line as the continuation of the previous value. So it reads
 * through our own line reader, which counts lines, drops leading
 * whitespace, takes the section headers itself (the handler only ever
 * sees key = value lines), catches what libinih would call a syntax error
 * with the line quoted, and ends the input at the first error. The file is
 * read whole first, so the same code parses a file, a test's string and a
 * fuzzer's bytes.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <ini.h>
#include <linux/daqs.h>

#include "config.h"
#include "units.h"
#include "verify.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define QUOTE_MAX 64	/* characters of a bad token quoted in a message */

enum file_kind {
	FILE_NATIVE,		/* daqsd.conf */
	FILE_DEFAULTS,		/* the original's defaults.ini */
	FILE_MIN_BW,		/* ... min_bw.ini */
	FILE_PAYMENTS,		/* ... payments.ini */
};

enum section_kind {
	SEC_NONE,		/* before the first header */
	SEC_DAQSD,
	SEC_VM,
	SEC_DEFAULT,		/* [DEFAULT] of the original's files */
};

enum daqsd_key {
	K_LINK, K_CAPACITY, K_TICK, K_POLICY, K_CHANNEL_DIR,
	K_CONTROL_SOCKET, K_LEASE, K_FALLBACK, K_VERIFY_INTERVAL,
	K_VERIFY_TOLERANCE, K_VERIFY_LIMIT_TOLERANCE, K_VERIFY_STRIKES,
	K_VERIFY_HOLD, __K_MAX
};

static const char *const daqsd_keys[__K_MAX] = {
	[K_LINK] = "link",
	[K_CAPACITY] = "capacity",
	[K_TICK] = "tick",
	[K_POLICY] = "policy",
	[K_CHANNEL_DIR] = "channel_dir",
	[K_CONTROL_SOCKET] = "control_socket",
	[K_LEASE] = "lease",
	[K_FALLBACK] = "fallback",
	[K_VERIFY_INTERVAL] = "verify_interval",
	[K_VERIFY_TOLERANCE] = "verify_tolerance",
	[K_VERIFY_LIMIT_TOLERANCE] = "verify_limit_tolerance",
	[K_VERIFY_STRIKES] = "verify_strikes",
	[K_VERIFY_HOLD] = "verify_hold",
};

enum vm_key { V_MIN, V_WEIGHT, V_MAX, V_DEVICE, V_SOCKET, V_VF, __V_MAX };

static const char *const vm_keys[__V_MAX] = {
	[V_MIN] = "min",
	[V_WEIGHT] = "weight",
	[V_MAX] = "max",
	[V_DEVICE] = "device",
	[V_SOCKET] = "socket",
	[V_VF] = "vf",
};

_Static_assert(__K_MAX <= 16 && __V_MAX <= 16, "seen[] has a slot per key");

/* the original's defaults.ini; the directories are its own business */
enum defaults_key {
	D_HOST_INTERFACE, D_DEFAULT_PAYMENT, D_HOST_BASE_DIR, D_GUEST_BASE_DIR,
	__D_MAX
};

static const char *const defaults_keys[__D_MAX] = {
	[D_HOST_INTERFACE] = "host_interface",
	[D_DEFAULT_PAYMENT] = "default_payment",
	[D_HOST_BASE_DIR] = "host_base_directory",
	[D_GUEST_BASE_DIR] = "guest_base_directory",
};

/* one VM named in min_bw.ini or payments.ini */
struct orig_entry {
	char name[DAQS_VM_NAME_MAX + 1];
	uint64_t value;
	unsigned int line;
};

struct orig_list {
	struct orig_entry *v;
	size_t n, cap;
};

struct parser {
	enum file_kind kind;
	const char *name;		/* the file, in messages */
	const char *buf;
	size_t len, pos;
	unsigned int line;		/* of the line last read */

	enum section_kind sec;
	unsigned int sec_line;
	struct daqs_vm_conf *vm;	/* SEC_VM */
	unsigned int seen[16];		/* line of each key in this section */

	char *err;
	size_t errlen;
	int failed;			/* -errno of the first error */

	struct daqs_config *cfg;
	/* [daqsd] */
	unsigned int daqsd_line;
	unsigned int key_line[__K_MAX];
	/* the original's files */
	struct orig_list *list;		/* min_bw, payments */
	uint32_t default_payment;
	bool have_interface;
};

/* 'token' made printable and short enough to quote */
static const char *quote(char *buf, size_t len, const char *s, size_t n)
{
	size_t i, o = 0;

	for (i = 0; i < n && s[i] && o + 4 < len; i++) {
		if (i == QUOTE_MAX) {
			memcpy(buf + o, "...", 3);
			o += 3;
			break;
		}
		buf[o++] = isprint((unsigned char)s[i]) ? s[i] : '?';
	}
	buf[o] = '\0';
	return buf;
}

#define Q(s) quote((char[QUOTE_MAX + 8]){ 0 }, QUOTE_MAX + 8, (s), (size_t)-1)

__attribute__((format(printf, 3, 4)))
static void fail(struct parser *ps, unsigned int line, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (ps->failed)
		return;
	ps->failed = -EINVAL;
	if (!ps->err || !ps->errlen)
		return;
	if (line)
		n = snprintf(ps->err, ps->errlen, "%s:%u: ", ps->name, line);
	else
		n = snprintf(ps->err, ps->errlen, "%s: ", ps->name);
	if (n < 0 || (size_t)n >= ps->errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(ps->err + n, ps->errlen - n, fmt, ap);
	va_end(ap);
}

static bool valid_vm_name(const char *s)
{
	size_t n = strlen(s), i;

	if (!n || n > DAQS_VM_NAME_MAX)
		return false;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("._-+:@", s[i]))
			return false;
	return true;
}

static bool valid_ifname(const char *s)
{
	size_t n = strlen(s), i;

	if (!n || n > DAQS_IFNAME_MAX || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	for (i = 0; i < n; i++)
		if (!isgraph((unsigned char)s[i]) || s[i] == '/' || s[i] == ':')
			return false;
	return true;
}

/* --- values ---------------------------------------------------------------- */

static const char *range_why(int ret)
{
	return ret == -ERANGE ? ": out of range" :
	       ret == -EDOM ? ": not a whole number of bit/s" : "";
}

static int get_rate(struct parser *ps, const char *key, const char *value,
		    uint64_t *out)
{
	char big[DAQS_FMT_LEN];
	int ret = daqs_parse_rate(value, out);

	if (ret) {
		fail(ps, ps->line, "invalid rate '%s' for '%s'%s", Q(value), key,
		     range_why(ret));
		return ret;
	}
	if (*out > DAQS_CAPACITY_MAX_BPS) {
		fail(ps, ps->line, "rate '%s' for '%s' is above %s", Q(value),
		     key, daqs_format_rate(big, sizeof(big),
					   DAQS_CAPACITY_MAX_BPS));
		return -ERANGE;
	}
	return 0;
}

/* a limit the datapath accepts: 8 kbit/s or more */
static int get_limit(struct parser *ps, const char *key, const char *value,
		     uint64_t *out)
{
	int ret = get_rate(ps, key, value, out);

	if (!ret && *out < DAQS_RATE_MIN_BPS) {
		fail(ps, ps->line, "%s '%s' is below 8Kbit, the smallest rate",
		     key, Q(value));
		ret = -ERANGE;
	}
	return ret;
}

static int get_ms(struct parser *ps, const char *key, const char *value,
		  uint64_t *ms)
{
	int ret = daqs_parse_time(value, 1000000, ms);

	if (ret)
		fail(ps, ps->line, "invalid time '%s' for '%s'%s", Q(value), key,
		     ret == -EDOM ? ": not a whole number of milliseconds" :
		     ret == -ERANGE ? ": out of range" : "");
	return ret;
}

/* a decimal integer from lo to hi, nothing else */
static int get_uint(const char *value, uint64_t lo, uint64_t hi, uint64_t *out)
{
	uint64_t v = 0;
	const char *p;

	if (!*value)
		return -EINVAL;
	for (p = value; *p; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		if (v > (hi - (uint64_t)(*p - '0')) / 10)
			return -ERANGE;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (v < lo)
		return -ERANGE;
	*out = v;
	return 0;
}

/* "5%", "2.5%", "0.25%": 0 to 100%, in 1/10000 */
static int get_percent(struct parser *ps, const char *key, const char *value,
		       uint32_t *bp)
{
	uint64_t v = 0;
	const char *p = value;
	unsigned int frac = 0;

	if (*p < '0' || *p > '9')
		goto bad;
	for (; *p >= '0' && *p <= '9'; p++) {
		v = v * 10 + (uint64_t)(*p - '0');
		if (v > 100)
			goto range;
	}
	v *= 100;
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			goto bad;
		for (; *p >= '0' && *p <= '9'; p++, frac++) {
			if (frac == 2)
				goto bad;
			v += (uint64_t)(*p - '0') * (frac ? 1 : 10);
		}
	}
	if (strcmp(p, "%"))
		goto bad;
	if (v > DAQS_VERIFY_BP_MAX)
		goto range;
	*bp = (uint32_t)v;
	return 0;
bad:
	fail(ps, ps->line,
	     "invalid percentage '%s' for '%s' (such as 5%% or 2.5%%)", Q(value),
	     key);
	return -EINVAL;
range:
	fail(ps, ps->line, "'%s' for '%s' is above 100%%", Q(value), key);
	return -ERANGE;
}

static int get_path(struct parser *ps, const char *key, const char *value,
		    char *out, size_t size)
{
	size_t i, n = strlen(value);

	if (value[0] != '/') {
		fail(ps, ps->line, "'%s' for '%s' is not an absolute path",
		     Q(value), key);
		return -EINVAL;
	}
	if (n >= size) {
		fail(ps, ps->line, "path '%s' for '%s' is longer than %zu bytes",
		     Q(value), key, size - 1);
		return -EINVAL;
	}
	for (i = 0; i < n; i++) {
		if (!isprint((unsigned char)value[i])) {
			fail(ps, ps->line, "control character in path '%s' for '%s'",
			     Q(value), key);
			return -EINVAL;
		}
	}
	memcpy(out, value, n + 1);
	return 0;
}

static int get_ifname(struct parser *ps, const char *key, const char *value,
		      char *out)
{
	if (!valid_ifname(value)) {
		fail(ps, ps->line, "invalid interface name '%s' for '%s'",
		     Q(value), key);
		return -EINVAL;
	}
	strcpy(out, value);
	return 0;
}

/* --- sections and keys ------------------------------------------------------- */

/* one key per section: its first line, or 0 after a complaint */
static bool first_time(struct parser *ps, unsigned int slot, const char *key)
{
	if (ps->seen[slot]) {
		fail(ps, ps->line, "duplicate key '%s' (first at line %u)", Q(key),
		     ps->seen[slot]);
		return false;
	}
	ps->seen[slot] = ps->line;
	return true;
}

static int find_key(const char *const *keys, size_t n, const char *key,
		    bool nocase)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (nocase ? !strcasecmp(keys[i], key) : !strcmp(keys[i], key))
			return (int)i;
	return -1;
}

static void daqsd_key(struct parser *ps, const char *key, const char *value)
{
	struct daqs_config *cfg = ps->cfg;
	int k = find_key(daqsd_keys, __K_MAX, key, false);
	uint64_t v;

	if (k < 0) {
		fail(ps, ps->line, "unknown key '%s' in [daqsd]", Q(key));
		return;
	}
	if (!first_time(ps, (unsigned int)k, key))
		return;
	ps->key_line[k] = ps->line;

	switch (k) {
	case K_LINK:
		get_ifname(ps, key, value, cfg->link);
		break;
	case K_CAPACITY:
		get_limit(ps, key, value, &cfg->capacity_bps);
		break;
	case K_TICK:
		if (get_ms(ps, key, value, &v))
			break;
		if (v < DAQS_TICK_MIN_MS || v > DAQS_TICK_MAX_MS)
			fail(ps, ps->line, "tick '%s' is outside 10ms..10s", Q(value));
		else
			cfg->tick_ms = (uint32_t)v;
		break;
	case K_POLICY:
		if (daqs_policy_parse(value, &cfg->policy))
			fail(ps, ps->line,
			     "unknown policy '%s' (standalone, fairshare, minimum_guarantee, weighted_share or paper2023)",
			     Q(value));
		break;
	case K_CHANNEL_DIR:
		get_path(ps, key, value, cfg->channel_dir,
			 sizeof(cfg->channel_dir));
		break;
	case K_CONTROL_SOCKET:
		get_path(ps, key, value, cfg->control_socket,
			 sizeof(cfg->control_socket));
		break;
	case K_LEASE:
		if (get_ms(ps, key, value, &v))
			break;
		if (v < DAQS_LEASE_MIN_MS || v > DAQS_LEASE_MAX_MS)
			fail(ps, ps->line, "lease '%s' is outside 10ms..1h", Q(value));
		else
			cfg->lease_ms = (uint32_t)v;
		break;
	case K_FALLBACK:
		if (!strcmp(value, "auto")) {
			cfg->fallback_bps = 0;
			break;
		}
		if (!strcmp(value, "0"))
			fail(ps, ps->line,
			     "fallback '%s' would leave a silent host's guest unlimited; give a rate or 'auto'",
			     Q(value));
		else
			get_limit(ps, key, value, &cfg->fallback_bps);
		break;
	case K_VERIFY_INTERVAL:
		if (get_ms(ps, key, value, &v))
			break;
		if (!v || v > DAQS_VERIFY_INTERVAL_MAX_MS)
			fail(ps, ps->line, "verify_interval '%s' is outside 1ms..60s",
			     Q(value));
		else
			cfg->verify_interval_ms = (uint32_t)v;
		break;
	case K_VERIFY_TOLERANCE:
		get_percent(ps, key, value, &cfg->verify_tolerance_bp);
		break;
	case K_VERIFY_LIMIT_TOLERANCE:
		get_percent(ps, key, value, &cfg->verify_limit_tolerance_bp);
		break;
	case K_VERIFY_STRIKES:
		if (get_uint(value, 1, DAQS_VERIFY_STRIKES_MAX, &v))
			fail(ps, ps->line,
			     "invalid verify_strikes '%s' (an integer from 1 to %d)",
			     Q(value), DAQS_VERIFY_STRIKES_MAX);
		else
			cfg->verify_strikes = (uint32_t)v;
		break;
	case K_VERIFY_HOLD:
		if (get_ms(ps, key, value, &v))
			break;
		if (v > DAQS_VERIFY_HOLD_MAX_MS)
			fail(ps, ps->line, "verify_hold '%s' is outside 0..1h", Q(value));
		else
			cfg->verify_hold_ms = (uint32_t)v;
		break;
	}
}

/* PF:INDEX, the PF an interface name (no ':' in it), the index 0..65535 */
static void get_vf(struct parser *ps, struct daqs_vm_conf *vm,
		   const char *value)
{
	const char *colon = strrchr(value, ':');
	char pf[DAQS_IFNAME_MAX + 2];
	size_t n = colon ? (size_t)(colon - value) : 0;
	uint64_t idx;

	if (!colon || !n || n > DAQS_IFNAME_MAX) {
		fail(ps, ps->line,
		     "invalid VF '%s' for 'vf' (PF:INDEX, such as ens1f0:3)",
		     Q(value));
		return;
	}
	memcpy(pf, value, n);
	pf[n] = '\0';
	if (!valid_ifname(pf)) {
		fail(ps, ps->line, "invalid interface name '%s' in 'vf' '%s'",
		     Q(pf), Q(value));
		return;
	}
	if (get_uint(colon + 1, 0, DAQS_VF_INDEX_MAX, &idx)) {
		fail(ps, ps->line,
		     "invalid VF index '%s' in 'vf' '%s' (an integer from 0 to %d)",
		     Q(colon + 1), Q(value), DAQS_VF_INDEX_MAX);
		return;
	}
	strcpy(vm->vf_pf, pf);
	vm->vf_index = (uint32_t)idx;
	vm->vf_line = ps->line;
}

static void vm_key(struct parser *ps, const char *key, const char *value)
{
	struct daqs_vm_conf *vm = ps->vm;
	int k = find_key(vm_keys, __V_MAX, key, false);
	uint64_t v;
	int ret;

	if (k < 0) {
		fail(ps, ps->line, "unknown key '%s' in [vm %s]", Q(key), vm->name);
		return;
	}
	if (!first_time(ps, (unsigned int)k, key))
		return;

	switch (k) {
	case V_MIN:
		if (!get_rate(ps, key, value, &vm->min_bps))
			vm->min_line = ps->line;
		break;
	case V_MAX:
		get_limit(ps, key, value, &vm->max_bps);
		break;
	case V_WEIGHT:
		ret = get_uint(value, 1, DAQS_WEIGHT_MAX, &v);
		if (ret)
			fail(ps, ps->line,
			     "invalid weight '%s' (an integer from 1 to 1000000)",
			     Q(value));
		else
			vm->weight = (uint32_t)v;
		break;
	case V_DEVICE:
		if (strchr(value, ':')) {
			if (daqs_parse_mac(value, vm->mac))
				fail(ps, ps->line,
				     "invalid MAC address '%s' for 'device'", Q(value));
			else
				vm->device_kind = DAQS_DEVICE_MAC;
		} else if (!get_ifname(ps, key, value, vm->ifname)) {
			vm->device_kind = DAQS_DEVICE_IFNAME;
		}
		break;
	case V_SOCKET:
		get_path(ps, key, value, vm->socket, sizeof(vm->socket));
		break;
	case V_VF:
		get_vf(ps, vm, value);
		break;
	}
}

static void defaults_key(struct parser *ps, const char *key, const char *value)
{
	int k = find_key(defaults_keys, __D_MAX, key, true);
	uint64_t v;

	if (k < 0) {
		fail(ps, ps->line,
		     "unknown key '%s' (host_interface, default_payment, host_base_directory or guest_base_directory)",
		     Q(key));
		return;
	}
	if (!first_time(ps, (unsigned int)k, key))
		return;
	switch (k) {
	case D_HOST_INTERFACE:
		if (!get_ifname(ps, key, value, ps->cfg->link))
			ps->have_interface = true;
		break;
	case D_DEFAULT_PAYMENT:
		if (get_uint(value, 1, DAQS_WEIGHT_MAX, &v))
			fail(ps, ps->line,
			     "invalid payment '%s' for 'default_payment' (an integer from 1 to 1000000)",
			     Q(value));
		else
			ps->default_payment = (uint32_t)v;
		break;
	default:
		break;		/* the original's own paths: not ours */
	}
}

static void orig_vm_key(struct parser *ps, const char *key, const char *value)
{
	struct orig_list *l = ps->list;
	struct orig_entry *e;
	uint64_t v;
	size_t i;

	if (!valid_vm_name(key)) {
		fail(ps, ps->line,
		     "invalid VM name '%s' (1..46 of A-Z a-z 0-9 . _ - + : @)",
		     Q(key));
		return;
	}
	for (i = 0; i < l->n; i++) {
		if (!strcmp(l->v[i].name, key)) {
			fail(ps, ps->line, "duplicate vm '%s' (first at line %u)",
			     key, l->v[i].line);
			return;
		}
	}
	if (ps->kind == FILE_MIN_BW) {
		/* whole Gbit/s, decimal as the original's link speed */
		if (get_uint(value, 0, DAQS_CAPACITY_MAX_BPS / 1000000000, &v)) {
			fail(ps, ps->line,
			     "invalid minimum '%s' for vm '%s' (whole Gbit/s, e.g. 10)",
			     Q(value), key);
			return;
		}
		v *= 1000000000;
	} else if (get_uint(value, 1, DAQS_WEIGHT_MAX, &v)) {
		fail(ps, ps->line,
		     "invalid payment '%s' for vm '%s' (an integer from 1 to 1000000)",
		     Q(value), key);
		return;
	}
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 16;

		if (l->n >= DAQS_CONF_VMS_MAX) {
			fail(ps, ps->line, "more than %d VMs", DAQS_CONF_VMS_MAX);
			return;
		}
		e = realloc(l->v, cap * sizeof(*e));
		if (!e) {
			fail(ps, ps->line, "out of memory");
			ps->failed = -ENOMEM;
			return;
		}
		l->v = e;
		l->cap = cap;
	}
	e = &l->v[l->n++];
	strcpy(e->name, key);
	e->value = v;
	e->line = ps->line;
}

static int handler(void *user, const char *section, const char *key,
		   const char *value)
{
	struct parser *ps = user;

	(void)section;		/* ours, from the reader: never truncated */
	if (ps->failed)
		return 1;
	if (!*key) {
		fail(ps, ps->line, "missing key before the value '%s'", Q(value));
		return 1;
	}
	if (ps->sec == SEC_NONE) {
		fail(ps, ps->line, "key '%s' outside any section", Q(key));
		return 1;
	}
	if (!*value) {
		fail(ps, ps->line, "missing value for '%s'", Q(key));
		return 1;
	}
	switch (ps->kind) {
	case FILE_NATIVE:
		if (ps->sec == SEC_DAQSD)
			daqsd_key(ps, key, value);
		else
			vm_key(ps, key, value);
		break;
	case FILE_DEFAULTS:
		defaults_key(ps, key, value);
		break;
	case FILE_MIN_BW:
	case FILE_PAYMENTS:
		orig_vm_key(ps, key, value);
		break;
	}
	/* errors are ours to report, with the line quoted: never libinih's */
	return 1;
}

static struct daqs_vm_conf *new_vm(struct parser *ps, const char *name)
{
	struct daqs_config *cfg = ps->cfg;
	struct daqs_vm_conf *vm;
	size_t i;

	for (i = 0; i < cfg->n_vms; i++) {
		if (!strcmp(cfg->vms[i].name, name)) {
			fail(ps, ps->line,
			     "duplicate section '[vm %s]' (first at line %u)",
			     name, cfg->vms[i].line);
			return NULL;
		}
	}
	if (cfg->n_vms >= DAQS_CONF_VMS_MAX) {
		fail(ps, ps->line, "more than %d VMs", DAQS_CONF_VMS_MAX);
		return NULL;
	}
	/* grow by doubling: n_vms is a power of two when full */
	if (!cfg->n_vms || !(cfg->n_vms & (cfg->n_vms - 1))) {
		size_t cap = cfg->n_vms ? 2 * cfg->n_vms : 1;

		vm = realloc(cfg->vms, cap * sizeof(*vm));
		if (!vm) {
			fail(ps, ps->line, "out of memory");
			ps->failed = -ENOMEM;
			return NULL;
		}
		cfg->vms = vm;
	}
	vm = &cfg->vms[cfg->n_vms++];
	memset(vm, 0, sizeof(*vm));
	strcpy(vm->name, name);
	vm->weight = 1;
	vm->line = ps->line;
	return vm;
}

/* s: the text between '[' and ']' */
static void section(struct parser *ps, const char *s)
{
	memset(ps->seen, 0, sizeof(ps->seen));
	ps->sec_line = ps->line;
	ps->vm = NULL;

	if (ps->kind != FILE_NATIVE) {
		if (strcmp(s, "DEFAULT")) {
			fail(ps, ps->line, "unknown section '[%s]' (only [DEFAULT])",
			     Q(s));
			return;
		}
		if (ps->sec == SEC_DEFAULT) {
			fail(ps, ps->line, "duplicate section '[DEFAULT]' (first at line %u)",
			     ps->daqsd_line);
			return;
		}
		ps->sec = SEC_DEFAULT;
		ps->daqsd_line = ps->line;
		return;
	}

	if (!strcmp(s, "daqsd")) {
		if (ps->daqsd_line) {
			fail(ps, ps->line,
			     "duplicate section '[daqsd]' (first at line %u)",
			     ps->daqsd_line);
			return;
		}
		ps->sec = SEC_DAQSD;
		ps->daqsd_line = ps->line;
		return;
	}
	if (!strncmp(s, "vm", 2) && (s[2] == ' ' || s[2] == '\t')) {
		const char *name = s + 2;

		while (*name == ' ' || *name == '\t')
			name++;
		if (!valid_vm_name(name)) {
			fail(ps, ps->line,
			     "invalid VM name '%s' in '[%s]' (1..46 of A-Z a-z 0-9 . _ - + : @)",
			     Q(name), Q(s));
			return;
		}
		ps->vm = new_vm(ps, name);
		if (ps->vm)
			ps->sec = SEC_VM;
		return;
	}
	fail(ps, ps->line, "unknown section '[%s]' (expected [daqsd] or [vm NAME])",
	     Q(s));
}

/*
 * A section header, as libinih reads it: '[' up to the first ']', stopping
 * early at an inline comment (';' after whitespace).
 */
static void header(struct parser *ps, char *line)
{
	char *p, *end = NULL, *rest;

	for (p = line + 1; *p; p++) {
		if (*p == ']') {
			end = p;
			break;
		}
		if (*p == ';' && isspace((unsigned char)p[-1]))
			break;
	}
	if (!end) {
		fail(ps, ps->line, "missing ']' in '%s'", Q(line));
		return;
	}
	for (rest = end + 1; isspace((unsigned char)*rest); rest++)
		;
	if (*rest && *rest != ';' && *rest != '#') {
		char hdr[QUOTE_MAX + 8];

		fail(ps, ps->line, "unexpected '%s' after '%s'", Q(rest),
		     quote(hdr, sizeof(hdr), line, (size_t)(end + 1 - line)));
		return;
	}
	*end = '\0';
	/* trim inside the brackets as libinih does not: "[ daqsd ]" */
	for (p = line + 1; isspace((unsigned char)*p); p++)
		;
	while (end > p && isspace((unsigned char)end[-1]))
		*--end = '\0';
	section(ps, p);
}

/* libinih's test for a name[=:]value line */
static bool has_delimiter(const char *s)
{
	const char *p;

	for (p = s; *p; p++) {
		if (*p == '=' || *p == ':')
			return true;
		if (*p == ';' && p > s && isspace((unsigned char)p[-1]))
			return false;
	}
	return false;
}

/*
 * libinih's line source. Hands it one line at a time, without leading
 * whitespace, after the checks above; an empty string for a section header
 * (ours) or a bad line, and the end of input after the first error.
 */
static char *reader(char *str, int num, void *stream)
{
	struct parser *ps = stream;
	const char *s, *nl;
	size_t n;

	if (ps->failed || ps->pos >= ps->len || num < 2)
		return NULL;
	s = ps->buf + ps->pos;
	nl = memchr(s, '\n', ps->len - ps->pos);
	n = nl ? (size_t)(nl - s) : ps->len - ps->pos;
	ps->pos += n + (nl ? 1 : 0);
	ps->line++;

	if (ps->line == 1 && n >= 3 && !memcmp(s, "\xef\xbb\xbf", 3)) {
		s += 3;
		n -= 3;
	}
	if (memchr(s, '\0', n)) {
		fail(ps, ps->line, "NUL byte in line");
		return NULL;
	}
	while (n && isspace((unsigned char)*s)) {
		s++;
		n--;
	}
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	if (n > (size_t)num - 1) {
		fail(ps, ps->line, "line longer than %d characters", num - 1);
		return NULL;
	}
	memcpy(str, s, n);
	str[n] = '\0';

	if (str[0] == '[') {
		header(ps, str);
		str[0] = '\0';
	} else if (str[0] && str[0] != ';' && str[0] != '#' &&
		   !has_delimiter(str)) {
		fail(ps, ps->line, "expected 'key = value' or '[section]', got '%s'",
		     Q(str));
		str[0] = '\0';
	}
	return ps->failed ? NULL : str;
}

static int run(struct parser *ps, const char *buf, size_t len)
{
	int ret;

	ps->buf = buf;
	ps->len = len;
	ps->pos = 0;
	ps->line = 0;
	ps->sec = SEC_NONE;
	if (len > DAQS_CONF_FILE_MAX) {
		fail(ps, 0, "larger than %d bytes", DAQS_CONF_FILE_MAX);
		return ps->failed;
	}
	ret = ini_parse_stream(reader, ps, handler, ps);
	if (ret && !ps->failed) {
		/* cannot happen: every line libinih could reject is caught first */
		fail(ps, ret > 0 ? (unsigned int)ret : 0, "cannot parse: libinih error %d",
		     ret);
	}
	return ps->failed;
}

/* --- whole files ------------------------------------------------------------- */

static struct daqs_config *config_new(void)
{
	struct daqs_config *cfg = calloc(1, sizeof(*cfg));

	if (!cfg)
		return NULL;
	cfg->tick_ms = 100;
	cfg->policy = DAQS_POLICY_MINIMUM_GUARANTEE;
	strcpy(cfg->channel_dir, DAQS_CONF_CHANNEL_DIR);
	strcpy(cfg->control_socket, DAQS_CONF_CONTROL_SOCKET);
	/* verify_interval: 0 until check_native() (it depends on the tick) */
	cfg->verify_tolerance_bp = DAQS_VERIFY_TOLERANCE_BP;
	cfg->verify_limit_tolerance_bp = DAQS_VERIFY_LIMIT_TOLERANCE_BP;
	cfg->verify_strikes = DAQS_VERIFY_STRIKES;
	cfg->verify_hold_ms = DAQS_VERIFY_HOLD_MS;
	return cfg;
}

void daqs_config_free(struct daqs_config *cfg)
{
	if (!cfg)
		return;
	free(cfg->vms);
	free(cfg);
}

const struct daqs_vm_conf *daqs_config_vm(const struct daqs_config *cfg,
					  const char *name)
{
	size_t i;

	for (i = 0; cfg && name && i < cfg->n_vms; i++)
		if (!strcmp(cfg->vms[i].name, name))
			return &cfg->vms[i];
	return NULL;
}

/* minimums against the capacity, in file order so the message names the VM
 * whose minimum crosses it */
static int check_minimums(const struct daqs_config *cfg, uint64_t capacity,
			  const char *name, char *err, size_t errlen)
{
	char a[DAQS_FMT_LEN], b[DAQS_FMT_LEN], c[DAQS_FMT_LEN];
	uint64_t sum = 0;
	size_t i;

	for (i = 0; i < cfg->n_vms; i++) {
		const struct daqs_vm_conf *vm = &cfg->vms[i];

		sum += vm->min_bps;	/* each <= 2^53: no overflow before > */
		if (sum <= capacity)
			continue;
		if (err && errlen)
			snprintf(err, errlen,
				 "%s:%u: min %s of vm '%s' brings the minimums to %s, above the capacity %s",
				 name, vm->min_line ? vm->min_line : vm->line,
				 daqs_format_rate(a, sizeof(a), vm->min_bps),
				 vm->name, daqs_format_rate(b, sizeof(b), sum),
				 daqs_format_rate(c, sizeof(c), capacity));
		return -EINVAL;
	}
	return 0;
}

int daqs_config_set_capacity(struct daqs_config *cfg, uint64_t capacity_bps,
			     const char *name, char *err, size_t errlen)
{
	char a[DAQS_FMT_LEN];
	int ret;

	if (capacity_bps < DAQS_RATE_MIN_BPS ||
	    capacity_bps > DAQS_CAPACITY_MAX_BPS) {
		if (err && errlen)
			snprintf(err, errlen, "%s: capacity %s is outside 8Kbit..%s",
				 name, daqs_format_rate(a, sizeof(a), capacity_bps),
				 "9007.199254740992Tbit");
		return -EINVAL;
	}
	ret = check_minimums(cfg, capacity_bps, name, err, errlen);
	if (!ret)
		cfg->capacity_bps = capacity_bps;
	return ret;
}

/* a VF carries one VM: two sections naming it are an error */
static int check_vfs(struct parser *ps)
{
	const struct daqs_config *cfg = ps->cfg;
	size_t i, j;

	for (i = 0; i < cfg->n_vms; i++) {
		const struct daqs_vm_conf *a = &cfg->vms[i];

		if (!a->vf_pf[0])
			continue;
		for (j = 0; j < i; j++) {
			const struct daqs_vm_conf *b = &cfg->vms[j];

			if (b->vf_pf[0] && b->vf_index == a->vf_index &&
			    !strcmp(b->vf_pf, a->vf_pf)) {
				fail(ps, a->vf_line,
				     "vf '%s:%u' of vm '%s' is already vm '%s''s (line %u)",
				     a->vf_pf, a->vf_index, a->name, b->name,
				     b->vf_line);
				return -1;
			}
		}
	}
	return 0;
}

static void check_native(struct parser *ps)
{
	struct daqs_config *cfg = ps->cfg;
	char a[DAQS_FMT_LEN], b[DAQS_FMT_LEN];
	size_t i;

	if (!ps->daqsd_line) {
		fail(ps, 0, "no [daqsd] section; it needs 'capacity' or 'link'");
		return;
	}
	if (!cfg->capacity_bps && !cfg->link[0]) {
		fail(ps, ps->daqsd_line,
		     "[daqsd] sets neither 'capacity' nor 'link' (the link's speed is the capacity)");
		return;
	}
	if (!cfg->lease_ms) {
		cfg->lease_ms = 10 * cfg->tick_ms;
	} else if (cfg->lease_ms < 2 * cfg->tick_ms) {
		fail(ps, ps->key_line[K_LEASE],
		     "lease %ums is shorter than 2 ticks of %ums", cfg->lease_ms,
		     cfg->tick_ms);
		return;
	}
	if (!cfg->verify_interval_ms) {
		cfg->verify_interval_ms = DAQS_VERIFY_INTERVAL_MS;
		if (cfg->verify_interval_ms < 2 * cfg->tick_ms)
			cfg->verify_interval_ms = 2 * cfg->tick_ms;
	} else if (cfg->verify_interval_ms < 2 * cfg->tick_ms) {
		fail(ps, ps->key_line[K_VERIFY_INTERVAL],
		     "verify_interval %ums is shorter than 2 ticks of %ums",
		     cfg->verify_interval_ms, cfg->tick_ms);
		return;
	}
	if (check_vfs(ps))
		return;
	for (i = 0; i < cfg->n_vms; i++) {
		const struct daqs_vm_conf *vm = &cfg->vms[i];

		if (vm->max_bps && vm->min_bps > vm->max_bps) {
			fail(ps, vm->min_line, "min %s of vm '%s' is above its max %s",
			     daqs_format_rate(a, sizeof(a), vm->min_bps), vm->name,
			     daqs_format_rate(b, sizeof(b), vm->max_bps));
			return;
		}
	}
	if (cfg->capacity_bps &&
	    check_minimums(cfg, cfg->capacity_bps, ps->name, ps->err, ps->errlen))
		ps->failed = -EINVAL;
}

int daqs_config_parse(const char *name, const char *buf, size_t len,
		      struct daqs_config **out, char *err, size_t errlen)
{
	struct parser ps = {
		.kind = FILE_NATIVE,
		.name = name ? name : "(config)",
		.err = err,
		.errlen = errlen,
	};

	if (err && errlen)
		err[0] = '\0';
	ps.cfg = config_new();
	if (!ps.cfg) {
		fail(&ps, 0, "out of memory");
		return -ENOMEM;
	}
	if (!run(&ps, buf ? buf : "", buf ? len : 0))
		check_native(&ps);
	if (ps.failed) {
		daqs_config_free(ps.cfg);
		return ps.failed;
	}
	*out = ps.cfg;
	return 0;
}

/* the whole file, or -errno with a message */
static int slurp(const char *path, char **buf, size_t *len, char *err,
		 size_t errlen)
{
	size_t cap = 4096, n = 0;
	char *b = NULL, *nb;
	ssize_t r;
	int fd, ret = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		goto fail;
	}
	for (;;) {
		if (n == cap || !b) {
			if (b)
				cap *= 2;
			if (cap > DAQS_CONF_FILE_MAX + 1)
				cap = DAQS_CONF_FILE_MAX + 1;
			nb = realloc(b, cap);
			if (!nb) {
				ret = -ENOMEM;
				goto fail;
			}
			b = nb;
		}
		if (n == cap) {
			ret = -EFBIG;
			goto fail;
		}
		r = read(fd, b + n, cap - n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			goto fail;
		}
		if (!r)
			break;
		n += (size_t)r;
	}
	close(fd);
	*buf = b;
	*len = n;
	return 0;
fail:
	if (err && errlen)
		snprintf(err, errlen, "%s: cannot read: %s", path,
			 ret == -EFBIG ? "larger than 1 MiB" : strerror(-ret));
	if (fd >= 0)
		close(fd);
	free(b);
	return ret == -EFBIG ? -EINVAL : ret;
}

int daqs_config_load(const char *path, struct daqs_config **out,
		     char *err, size_t errlen)
{
	char *buf;
	size_t len;
	int ret;

	ret = slurp(path, &buf, &len, err, errlen);
	if (ret)
		return ret;
	ret = daqs_config_parse(path, buf, len, out, err, errlen);
	free(buf);
	return ret;
}

/* --- the original DAQS's files -------------------------------------------------- */

static int orig_file(struct parser *ps, enum file_kind kind, const char *name,
		     const char *buf, size_t len, struct orig_list *list)
{
	ps->kind = kind;
	ps->name = name;
	ps->list = list;
	ps->daqsd_line = 0;
	memset(ps->seen, 0, sizeof(ps->seen));
	return run(ps, buf, len);
}

static int merge_original(struct parser *ps, struct orig_list *min_bw,
			  struct orig_list *pay, bool have_min_bw)
{
	struct daqs_config *cfg = ps->cfg;
	uint32_t dflt = ps->default_payment ? ps->default_payment : 1;
	size_t i, j, n = min_bw->n;

	/* every VM once: min_bw.ini's, then those only in payments.ini */
	for (j = 0; j < pay->n; j++) {
		for (i = 0; i < min_bw->n; i++)
			if (!strcmp(min_bw->v[i].name, pay->v[j].name))
				break;
		n += i == min_bw->n;
	}
	cfg->vms = calloc(n ? n : 1, sizeof(*cfg->vms));
	if (!cfg->vms)
		return -ENOMEM;
	for (i = 0; i < min_bw->n; i++) {
		struct daqs_vm_conf *vm = &cfg->vms[cfg->n_vms++];

		strcpy(vm->name, min_bw->v[i].name);
		vm->min_bps = min_bw->v[i].value;
		vm->line = vm->min_line = min_bw->v[i].line;
		vm->weight = dflt;
	}
	for (j = 0; j < pay->n; j++) {
		struct daqs_vm_conf *vm = NULL;

		for (i = 0; i < min_bw->n; i++)
			if (!strcmp(cfg->vms[i].name, pay->v[j].name))
				vm = &cfg->vms[i];
		if (!vm) {
			vm = &cfg->vms[cfg->n_vms++];
			strcpy(vm->name, pay->v[j].name);
			vm->line = pay->v[j].line;
		}
		vm->weight = (uint32_t)pay->v[j].value;
	}
	if (have_min_bw && min_bw->n)
		cfg->policy = DAQS_POLICY_MINIMUM_GUARANTEE;
	else if (pay->n)
		cfg->policy = DAQS_POLICY_WEIGHTED_SHARE;
	else
		cfg->policy = DAQS_POLICY_FAIRSHARE;
	cfg->lease_ms = 10 * cfg->tick_ms;
	cfg->verify_interval_ms = DAQS_VERIFY_INTERVAL_MS;
	return 0;
}

int daqs_config_parse_original(const struct daqs_original_files *f,
			       struct daqs_config **out,
			       char *err, size_t errlen)
{
	struct orig_list min_bw = { 0 }, pay = { 0 };
	struct parser ps = { .err = err, .errlen = errlen };
	int ret = 0;

	if (err && errlen)
		err[0] = '\0';
	ps.cfg = config_new();
	if (!ps.cfg)
		return -ENOMEM;

	ps.name = f->defaults ? f->defaults : "defaults.ini";
	if (!f->defaults_buf) {
		fail(&ps, 0, "missing");
	} else if (!orig_file(&ps, FILE_DEFAULTS, ps.name, f->defaults_buf,
			      f->defaults_len, NULL) && !ps.have_interface) {
		fail(&ps, 0, "no 'host_interface' in [DEFAULT]");
	}
	if (!ps.failed && f->min_bw_buf)
		orig_file(&ps, FILE_MIN_BW, f->min_bw ? f->min_bw : "min_bw.ini",
			  f->min_bw_buf, f->min_bw_len, &min_bw);
	if (!ps.failed && f->payments_buf)
		orig_file(&ps, FILE_PAYMENTS,
			  f->payments ? f->payments : "payments.ini",
			  f->payments_buf, f->payments_len, &pay);
	ret = ps.failed;
	if (!ret) {
		ret = merge_original(&ps, &min_bw, &pay, f->min_bw_buf != NULL);
		if (ret && err && errlen)
			snprintf(err, errlen, "%s: out of memory", ps.name);
	}
	free(min_bw.v);
	free(pay.v);
	if (ret) {
		daqs_config_free(ps.cfg);
		return ret;
	}
	*out = ps.cfg;
	return 0;
}

int daqs_config_load_original(const char *dir, struct daqs_config **out,
			      char *err, size_t errlen)
{
	static const char *const names[] = {
		"defaults.ini", "default.ini", "min_bw.ini", "payments.ini"
	};
	char path[4][DAQS_DIR_PATH_MAX + 16];
	char *buf[4] = { NULL };
	size_t len[4] = { 0 };
	struct daqs_original_files f = { 0 };
	size_t i;
	int ret = 0;

	for (i = 0; i < ARRAY_SIZE(names); i++) {
		if ((size_t)snprintf(path[i], sizeof(path[i]), "%s/%s", dir,
				     names[i]) >= sizeof(path[i])) {
			if (err && errlen)
				snprintf(err, errlen, "%s: path too long", Q(dir));
			ret = -ENAMETOOLONG;
			goto out;
		}
		/* the three files are optional here; missing is judged below */
		if (access(path[i], F_OK) && errno == ENOENT)
			continue;
		ret = slurp(path[i], &buf[i], &len[i], err, errlen);
		if (ret)
			goto out;
	}
	/* defaults.ini as the docs name it, default.ini as its repository */
	i = buf[0] ? 0 : 1;
	f.defaults = buf[i] ? path[i] : path[0];
	f.defaults_buf = buf[i];
	f.defaults_len = len[i];
	f.min_bw = path[2];
	f.min_bw_buf = buf[2];
	f.min_bw_len = len[2];
	f.payments = path[3];
	f.payments_buf = buf[3];
	f.payments_len = len[3];
	ret = daqs_config_parse_original(&f, out, err, errlen);
out:
	for (i = 0; i < ARRAY_SIZE(buf); i++)
		free(buf[i]);
	return ret;
}
