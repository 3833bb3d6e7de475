// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * argv -> request structs. Nothing here touches the network or prints; a
 * failure leaves a message in err and says whether usage should follow.
 */
#include "daqsctl.h"
#include "units.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>

static int fail(int ret, char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(int ret, char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return ret;
}

int daqsctl_parse_global(int argc, char **argv, struct daqsctl_opts *opts,
			 enum daqsctl_action *action, int *cmd_index,
			 char *err, size_t errlen)
{
	int i;

	memset(opts, 0, sizeof(*opts));
	*action = DAQSCTL_RUN;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "-j") || !strcmp(a, "--json")) {
			opts->json = true;
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			*action = DAQSCTL_HELP;
		} else if (!strcmp(a, "-V") || !strcmp(a, "--version")) {
			*action = DAQSCTL_VERSION;
		} else if (!strcmp(a, "--")) {
			i++;
			break;
		} else if (a[0] == '-' && a[1]) {
			*cmd_index = i;
			return fail(DAQSCTL_PARSE_USAGE, err, errlen,
				    "unknown option '%s'", a);
		} else {
			break;
		}
	}
	/* i == argc: no command, which means "show", as with wg */
	*cmd_index = i;
	return DAQSCTL_PARSE_OK;
}

/* the value after a keyword, or a usage error */
static int need_value(int argc, char **argv, int i, char *err, size_t errlen)
{
	if (i + 1 >= argc)
		return fail(DAQSCTL_PARSE_USAGE, err, errlen,
			    "missing value after '%s'", argv[i]);
	return DAQSCTL_PARSE_OK;
}

static int twice(const char *kw, char *err, size_t errlen)
{
	return fail(DAQSCTL_PARSE_USAGE, err, errlen,
		    "'%s' given more than once", kw);
}

static int once(unsigned int *seen, unsigned int bit, const char *kw,
		char *err, size_t errlen)
{
	if (*seen & bit)
		return twice(kw, err, errlen);
	*seen |= bit;
	return DAQSCTL_PARSE_OK;
}

/*
 * "dev DEV" or "mac MAC" at argv[*i]. Returns 1 if argv[*i] is not one of
 * them, 0 after consuming keyword and value, or a DAQSCTL_PARSE_* error.
 */
static int parse_selector(int argc, char **argv, int *i,
			  struct daqsctl_selector *sel, char *err,
			  size_t errlen)
{
	const char *kw = argv[*i], *val;
	int ret;

	if (strcmp(kw, "dev") && strcmp(kw, "mac"))
		return 1;
	ret = need_value(argc, argv, *i, err, errlen);
	if (ret)
		return ret;
	if (sel->type == (kw[0] == 'd' ? DAQSCTL_SEL_DEV : DAQSCTL_SEL_MAC))
		return twice(kw, err, errlen);
	if (sel->type != DAQSCTL_SEL_NONE)
		return fail(DAQSCTL_PARSE_USAGE, err, errlen,
			    "give only one of 'dev DEV' and 'mac MAC'");
	val = argv[++*i];
	if (!strcmp(kw, "dev")) {
		if (!val[0] || strlen(val) >= IFNAMSIZ)
			return fail(DAQSCTL_PARSE_INVALID, err, errlen,
				    "invalid device name '%s'", val);
		sel->type = DAQSCTL_SEL_DEV;
		strcpy(sel->ifname, val);
	} else {
		if (daqs_parse_mac(val, sel->mac))
			return fail(DAQSCTL_PARSE_INVALID, err, errlen,
				    "invalid MAC address '%s'", val);
		sel->type = DAQSCTL_SEL_MAC;
	}
	++*i;
	return 0;
}

static int need_selector(const char *cmd, const struct daqsctl_selector *sel,
			 char *err, size_t errlen)
{
	if (sel->type == DAQSCTL_SEL_NONE)
		return fail(DAQSCTL_PARSE_USAGE, err, errlen,
			    "%s needs 'dev DEV' or 'mac MAC'", cmd);
	return DAQSCTL_PARSE_OK;
}

static int unknown(const char *cmd, const char *arg, char *err, size_t errlen)
{
	return fail(DAQSCTL_PARSE_USAGE, err, errlen,
		    "unknown argument '%s' for %s", arg, cmd);
}

/* a command whose only arguments are "dev DEV" or "mac MAC" */
static int parse_selector_only(const char *cmd, int argc, char **argv,
			       struct daqsctl_selector *sel, char *err,
			       size_t errlen)
{
	int i = 1, ret;

	while (i < argc) {
		ret = parse_selector(argc, argv, &i, sel, err, errlen);
		if (ret == 1)
			return unknown(cmd, argv[i], err, errlen);
		if (ret)
			return ret;
	}
	return DAQSCTL_PARSE_OK;
}

int daqsctl_parse_show(int argc, char **argv, struct daqs_show_req *out,
		       char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	return parse_selector_only("show", argc, argv, &out->sel, err, errlen);
}

int daqsctl_parse_del(int argc, char **argv, struct daqs_del_req *out,
		      char *err, size_t errlen)
{
	int ret;

	memset(out, 0, sizeof(*out));
	ret = parse_selector_only("del", argc, argv, &out->sel, err, errlen);
	return ret ? ret : need_selector("del", &out->sel, err, errlen);
}

int daqsctl_parse_monitor(int argc, char **argv, char *err, size_t errlen)
{
	if (argc > 1)
		return unknown("monitor", argv[1], err, errlen);
	return DAQSCTL_PARSE_OK;
}

int daqsctl_parse_vms(int argc, char **argv, struct daqs_vms_req *out,
		      char *err, size_t errlen)
{
	int i, ret;
	unsigned int seen = 0;

	memset(out, 0, sizeof(*out));
	snprintf(out->socket, sizeof(out->socket), "%s", DAQSCTL_DAQSD_SOCKET);
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-j") || !strcmp(argv[i], "--json")) {
			out->json = true;
		} else if (!strcmp(argv[i], "socket")) {
			ret = need_value(argc, argv, i, err, errlen);
			if (!ret)
				ret = once(&seen, 1, argv[i], err, errlen);
			if (ret)
				return ret;
			i++;
			if (argv[i][0] != '/' || strlen(argv[i]) >= sizeof(out->socket))
				return fail(DAQSCTL_PARSE_INVALID, err, errlen,
					    "invalid socket path '%s' (an absolute path of at most %zu bytes)",
					    argv[i], sizeof(out->socket) - 1);
			strcpy(out->socket, argv[i]);
		} else {
			return unknown("vms", argv[i], err, errlen);
		}
	}
	return DAQSCTL_PARSE_OK;
}

static bool all_number(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || *s == '.'))
			return false;
	return true;
}

/* the message for a units.c error on the value of keyword kw */
static int bad_value(int ret, const char *kw, const char *val,
		     const char *resolution, char *err, size_t errlen)
{
	if (ret == -ERANGE)
		return fail(DAQSCTL_PARSE_INVALID, err, errlen,
			    "invalid %s '%s' (too large)", kw, val);
	if (ret == -EDOM)
		return fail(DAQSCTL_PARSE_INVALID, err, errlen,
			    "invalid %s '%s' (not a whole number of %s)", kw,
			    val, resolution);
	return fail(DAQSCTL_PARSE_INVALID, err, errlen, "invalid %s '%s'", kw,
		    val);
}

static int get_rate(const char *kw, const char *val, uint64_t *out, char *err,
		    size_t errlen)
{
	int ret = daqs_parse_rate(val, out);

	return ret ? bad_value(ret, kw, val, "bit/s", err, errlen) : 0;
}

static int get_u32_size(const char *kw, const char *val, uint32_t *out,
			char *err, size_t errlen)
{
	uint64_t v;
	int ret = daqs_parse_size(val, &v);

	if (!ret && v > UINT32_MAX)
		ret = -ERANGE;
	if (ret)
		return bad_value(ret, kw, val, "bytes", err, errlen);
	*out = (uint32_t)v;
	return 0;
}

static int get_u32_time(const char *kw, const char *val, uint64_t unit_ns,
			const char *unit_name, uint32_t *out, char *err,
			size_t errlen)
{
	uint64_t v;
	int ret = daqs_parse_time(val, unit_ns, &v);

	if (!ret && v > UINT32_MAX)
		ret = -ERANGE;
	if (ret == -EINVAL && all_number(val))
		return fail(DAQSCTL_PARSE_INVALID, err, errlen,
			    "invalid %s '%s' (needs a unit: s, ms or us)", kw,
			    val);
	if (ret)
		return bad_value(ret, kw, val, unit_name, err, errlen);
	*out = (uint32_t)v;
	return 0;
}

/* the keywords of set that take a value, and the bit each sets in has */
static const struct {
	const char *kw;
	unsigned int bit;
} set_values[] = {
	{ "rate", DAQS_SET_HAS_RATE },
	{ "burst", DAQS_SET_HAS_BURST },
	{ "mode", DAQS_SET_HAS_MODE },
	{ "qlimit", DAQS_SET_HAS_QLIMIT },
	{ "lease", DAQS_SET_HAS_LEASE },
	{ "fallback", DAQS_SET_HAS_FALLBACK },
};

static unsigned int set_value_bit(const char *kw)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(set_values); i++)
		if (!strcmp(set_values[i].kw, kw))
			return set_values[i].bit;
	return 0;
}

/* the value val of keyword kw, whose bit in out->has is bit */
static int set_value(struct daqs_set_req *out, unsigned int bit,
		     const char *kw, const char *val, char *err, size_t errlen)
{
	switch (bit) {
	case DAQS_SET_HAS_RATE:
		return get_rate(kw, val, &out->rate_bps, err, errlen);
	case DAQS_SET_HAS_FALLBACK:
		return get_rate(kw, val, &out->fallback_bps, err, errlen);
	case DAQS_SET_HAS_BURST:
		return get_u32_size(kw, val, &out->burst_bytes, err, errlen);
	case DAQS_SET_HAS_MODE:
		if (!strcmp(val, "shape"))
			out->mode = DAQS_MODE_SHAPE;
		else if (!strcmp(val, "police"))
			out->mode = DAQS_MODE_POLICE;
		else
			return fail(DAQSCTL_PARSE_INVALID, err, errlen,
				    "invalid mode '%s' (shape or police)", val);
		return 0;
	case DAQS_SET_HAS_QLIMIT:
		return get_u32_time(kw, val, 1000ULL, "microseconds",
				    &out->qlimit_us, err, errlen);
	default:	/* DAQS_SET_HAS_LEASE */
		return get_u32_time(kw, val, 1000000ULL, "milliseconds",
				    &out->lease_ms, err, errlen);
	}
}

int daqsctl_parse_set(int argc, char **argv, struct daqs_set_req *out,
		      char *err, size_t errlen)
{
	int i = 1, ret;
	unsigned int bit;

	memset(out, 0, sizeof(*out));
	while (i < argc) {
		const char *kw = argv[i];

		ret = parse_selector(argc, argv, &i, &out->sel, err, errlen);
		if (ret != 1) {
			if (ret)
				return ret;
			continue;
		}
		if (!strcmp(kw, "nocreate") || !strcmp(kw, "excl")) {
			ret = once(&out->set_flags, kw[0] == 'n' ?
				   DAQS_SET_F_NOCREATE : DAQS_SET_F_EXCL, kw,
				   err, errlen);
			if (ret)
				return ret;
			out->has |= DAQS_SET_HAS_FLAGS;
			i++;
			continue;
		}

		bit = set_value_bit(kw);
		if (!bit)
			return unknown("set", kw, err, errlen);
		ret = need_value(argc, argv, i, err, errlen);
		if (!ret)
			ret = once(&out->has, bit, kw, err, errlen);
		if (!ret)
			ret = set_value(out, bit, kw, argv[i + 1], err, errlen);
		if (ret)
			return ret;
		i += 2;
	}
	/*
	 * "lease" without "fallback" is passed on as given: whether that is
	 * allowed depends on the binding's state, which only the kernel knows,
	 * and its extack message says what is missing.
	 */
	return need_selector("set", &out->sel, err, errlen);
}

const char *daqsctl_selector_name(const struct daqsctl_selector *sel,
				  char *buf, size_t len)
{
	char mac[DAQS_FMT_LEN];

	switch (sel->type) {
	case DAQSCTL_SEL_DEV:
		snprintf(buf, len, "device '%s'", sel->ifname);
		break;
	case DAQSCTL_SEL_MAC:
		snprintf(buf, len, "MAC '%s'",
			 daqs_format_mac(mac, sizeof(mac), sel->mac));
		break;
	default:
		snprintf(buf, len, "all devices");
		break;
	}
	return buf;
}

static const struct {
	const char *cmd;
	const char *usage;
} usages[] = {
	{ "show", "[-j] show [dev DEV | mac MAC]" },
	{ "set", "set {dev DEV | mac MAC} [rate RATE] [burst SIZE] "
		 "[mode {shape | police}] [qlimit TIME] [lease TIME] "
		 "[fallback RATE] [nocreate] [excl]" },
	{ "del", "del {dev DEV | mac MAC}" },
	{ "monitor", "[-j] monitor" },
	{ "vms", "[-j] vms [socket PATH]" },
};

const char *daqsctl_usage(const char *cmd)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(usages); i++)
		if (!strcmp(usages[i].cmd, cmd))
			return usages[i].usage;
	return "[-j] [-h] [-V] {show | set | del | monitor | vms | help} [ARGS]";
}
