// SPDX-License-Identifier: GPL-2.0 OR MIT
/* daqsd/daqsctl_parse.c: argv of show, set, del, monitor, vms into requests. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "daqsctl.h"

#define ARGC(a) ((int)(sizeof(a) / sizeof((a)[0])))

static char err[DAQSCTL_ERRLEN];

static int setup(void **state)
{
	(void)state;
	memset(err, 0, sizeof(err));
	return 0;
}

/* ---- global options ---------------------------------------------------- */

static void test_global_none(void **state)
{
	char *argv[] = { "daqsctl" };
	struct daqsctl_opts o;
	enum daqsctl_action a;
	int idx = -1;

	(void)state;
	assert_int_equal(daqsctl_parse_global(ARGC(argv), argv, &o, &a, &idx,
					      err, sizeof(err)), 0);
	assert_int_equal(a, DAQSCTL_RUN);
	assert_int_equal(idx, 1);	/* == argc: show */
	assert_false(o.json);
}

static void test_global_json(void **state)
{
	char *argv[] = { "daqsctl", "-j", "show", "dev", "-j" };
	char *argv2[] = { "daqsctl", "--json", "monitor" };
	struct daqsctl_opts o;
	enum daqsctl_action a;
	int idx = -1;

	(void)state;
	assert_int_equal(daqsctl_parse_global(ARGC(argv), argv, &o, &a, &idx,
					      err, sizeof(err)), 0);
	assert_int_equal(a, DAQSCTL_RUN);
	assert_int_equal(idx, 2);	/* options stop at the command */
	assert_true(o.json);
	assert_int_equal(daqsctl_parse_global(ARGC(argv2), argv2, &o, &a, &idx,
					      err, sizeof(err)), 0);
	assert_int_equal(idx, 2);
	assert_true(o.json);
}

static void test_global_help_version(void **state)
{
	char *h[] = { "daqsctl", "-h" };
	char *help[] = { "daqsctl", "--help", "set" };
	char *v[] = { "daqsctl", "-V" };
	char *version[] = { "daqsctl", "--version" };
	struct daqsctl_opts o;
	enum daqsctl_action a;
	int idx;

	(void)state;
	assert_int_equal(daqsctl_parse_global(ARGC(h), h, &o, &a, &idx, err,
					      sizeof(err)), 0);
	assert_int_equal(a, DAQSCTL_HELP);
	assert_int_equal(daqsctl_parse_global(ARGC(help), help, &o, &a, &idx,
					      err, sizeof(err)), 0);
	assert_int_equal(a, DAQSCTL_HELP);
	assert_int_equal(daqsctl_parse_global(ARGC(v), v, &o, &a, &idx, err,
					      sizeof(err)), 0);
	assert_int_equal(a, DAQSCTL_VERSION);
	assert_int_equal(daqsctl_parse_global(ARGC(version), version, &o, &a,
					      &idx, err, sizeof(err)), 0);
	assert_int_equal(a, DAQSCTL_VERSION);
}

static void test_global_unknown(void **state)
{
	char *argv[] = { "daqsctl", "-x", "show" };
	char *dd[] = { "daqsctl", "--", "-j" };
	struct daqsctl_opts o;
	enum daqsctl_action a;
	int idx;

	(void)state;
	assert_int_equal(daqsctl_parse_global(ARGC(argv), argv, &o, &a, &idx,
					      err, sizeof(err)),
			 DAQSCTL_PARSE_USAGE);
	assert_string_equal(err, "unknown option '-x'");
	/* after "--" a word is the command, even if it looks like an option */
	assert_int_equal(daqsctl_parse_global(ARGC(dd), dd, &o, &a, &idx, err,
					      sizeof(err)), 0);
	assert_int_equal(idx, 2);
	assert_false(o.json);
}

/* ---- show ----------------------------------------------------------------- */

static void test_show_all(void **state)
{
	char *argv[] = { "show" };
	struct daqs_show_req r;

	(void)state;
	assert_int_equal(daqsctl_parse_show(ARGC(argv), argv, &r, err,
					    sizeof(err)), 0);
	assert_int_equal(r.sel.type, DAQSCTL_SEL_NONE);
}

static void test_show_dev(void **state)
{
	char *argv[] = { "show", "dev", "eth0" };
	struct daqs_show_req r;

	(void)state;
	assert_int_equal(daqsctl_parse_show(ARGC(argv), argv, &r, err,
					    sizeof(err)), 0);
	assert_int_equal(r.sel.type, DAQSCTL_SEL_DEV);
	assert_string_equal(r.sel.ifname, "eth0");
}

static void test_show_mac(void **state)
{
	static const uint8_t mac[6] = { 0x52, 0x54, 0, 0x12, 0x34, 0x56 };
	char *argv[] = { "show", "mac", "52:54:00:12:34:56" };
	struct daqs_show_req r;
	char name[64];

	(void)state;
	assert_int_equal(daqsctl_parse_show(ARGC(argv), argv, &r, err,
					    sizeof(err)), 0);
	assert_int_equal(r.sel.type, DAQSCTL_SEL_MAC);
	assert_memory_equal(r.sel.mac, mac, 6);
	assert_string_equal(daqsctl_selector_name(&r.sel, name, sizeof(name)),
			    "MAC '52:54:00:12:34:56'");
}

static void test_show_errors(void **state)
{
	static const struct {
		int argc;
		char *argv[5];
		int ret;
		const char *err;
	} cases[] = {
		{ 2, { "show", "dev" }, DAQSCTL_PARSE_USAGE,
		  "missing value after 'dev'" },
		{ 2, { "show", "mac" }, DAQSCTL_PARSE_USAGE,
		  "missing value after 'mac'" },
		{ 2, { "show", "eth0" }, DAQSCTL_PARSE_USAGE,
		  "unknown argument 'eth0' for show" },
		{ 5, { "show", "dev", "eth0", "mac", "52:54:00:12:34:56" },
		  DAQSCTL_PARSE_USAGE, "give only one of 'dev DEV' and 'mac MAC'" },
		{ 5, { "show", "dev", "eth0", "dev", "eth1" },
		  DAQSCTL_PARSE_USAGE, "'dev' given more than once" },
		{ 3, { "show", "dev", "" }, DAQSCTL_PARSE_INVALID,
		  "invalid device name ''" },
		{ 3, { "show", "dev", "0123456789abcdef" }, DAQSCTL_PARSE_INVALID,
		  "invalid device name '0123456789abcdef'" },
		{ 3, { "show", "mac", "zz" }, DAQSCTL_PARSE_INVALID,
		  "invalid MAC address 'zz'" },
		{ 4, { "show", "dev", "eth0", "extra" }, DAQSCTL_PARSE_USAGE,
		  "unknown argument 'extra' for show" },
	};
	struct daqs_show_req r;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char **argv = (char **)cases[i].argv;

		assert_int_equal(daqsctl_parse_show(cases[i].argc, argv, &r,
						    err, sizeof(err)),
				 cases[i].ret);
		assert_string_equal(err, cases[i].err);
	}
}

static void test_show_longest_name(void **state)
{
	char *argv[] = { "show", "dev", "0123456789abcde" };	/* 15 chars */
	struct daqs_show_req r;

	(void)state;
	assert_int_equal(daqsctl_parse_show(ARGC(argv), argv, &r, err,
					    sizeof(err)), 0);
	assert_string_equal(r.sel.ifname, "0123456789abcde");
}

/* ---- set ------------------------------------------------------------------ */

static void test_set_everything(void **state)
{
	char *argv[] = { "set", "dev", "eth0", "rate", "200mbit", "burst",
			 "64k", "mode", "police", "qlimit", "50ms", "lease",
			 "2s", "fallback", "10mbit", "nocreate", "excl" };
	struct daqs_set_req r;

	(void)state;
	assert_int_equal(daqsctl_parse_set(ARGC(argv), argv, &r, err,
					   sizeof(err)), 0);
	assert_int_equal(r.sel.type, DAQSCTL_SEL_DEV);
	assert_string_equal(r.sel.ifname, "eth0");
	assert_int_equal(r.has, DAQS_SET_HAS_RATE | DAQS_SET_HAS_BURST |
			 DAQS_SET_HAS_MODE | DAQS_SET_HAS_QLIMIT |
			 DAQS_SET_HAS_LEASE | DAQS_SET_HAS_FALLBACK |
			 DAQS_SET_HAS_FLAGS);
	assert_int_equal(r.rate_bps, 200000000ULL);
	assert_int_equal(r.burst_bytes, 65536);
	assert_int_equal(r.mode, DAQS_MODE_POLICE);
	assert_int_equal(r.qlimit_us, 50000);
	assert_int_equal(r.lease_ms, 2000);
	assert_int_equal(r.fallback_bps, 10000000ULL);
	assert_int_equal(r.set_flags, DAQS_SET_F_NOCREATE | DAQS_SET_F_EXCL);
}

static void test_set_order_free_and_mac(void **state)
{
	static const uint8_t mac[6] = { 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff };
	char *argv[] = { "set", "mode", "shape", "rate", "1gbps", "mac",
			 "aa:bb:cc:dd:ee:ff" };
	struct daqs_set_req r;

	(void)state;
	assert_int_equal(daqsctl_parse_set(ARGC(argv), argv, &r, err,
					   sizeof(err)), 0);
	assert_int_equal(r.sel.type, DAQSCTL_SEL_MAC);
	assert_memory_equal(r.sel.mac, mac, 6);
	assert_int_equal(r.has, DAQS_SET_HAS_RATE | DAQS_SET_HAS_MODE);
	assert_int_equal(r.rate_bps, 8000000000ULL);
	assert_int_equal(r.mode, DAQS_MODE_SHAPE);
}

static void test_set_selector_only(void **state)
{
	char *argv[] = { "set", "dev", "eth0" };
	struct daqs_set_req r;

	(void)state;
	/* creates a count-only binding with the kernel's defaults */
	assert_int_equal(daqsctl_parse_set(ARGC(argv), argv, &r, err,
					   sizeof(err)), 0);
	assert_int_equal(r.has, 0);
}

static void test_set_lease_without_fallback(void **state)
{
	char *argv[] = { "set", "dev", "eth0", "lease", "2s" };
	char *zero[] = { "set", "dev", "eth0", "lease", "0" };
	struct daqs_set_req r;

	(void)state;
	/* passed on: the kernel decides and its extack message is shown */
	assert_int_equal(daqsctl_parse_set(ARGC(argv), argv, &r, err,
					   sizeof(err)), 0);
	assert_int_equal(r.has, DAQS_SET_HAS_LEASE);
	assert_int_equal(r.lease_ms, 2000);
	/* 0 removes the lease and needs no unit */
	assert_int_equal(daqsctl_parse_set(ARGC(zero), zero, &r, err,
					   sizeof(err)), 0);
	assert_int_equal(r.has, DAQS_SET_HAS_LEASE);
	assert_int_equal(r.lease_ms, 0);
}

static void test_set_kernel_checks_ranges(void **state)
{
	/* within the attribute's type but outside the kernel's range */
	char *argv[] = { "set", "dev", "eth0", "qlimit", "1us", "lease", "1ms",
			 "burst", "0", "rate", "0" };
	struct daqs_set_req r;

	(void)state;
	assert_int_equal(daqsctl_parse_set(ARGC(argv), argv, &r, err,
					   sizeof(err)), 0);
	assert_int_equal(r.qlimit_us, 1);
	assert_int_equal(r.lease_ms, 1);
	assert_int_equal(r.burst_bytes, 0);
	assert_int_equal(r.rate_bps, 0);
}

static void test_set_errors(void **state)
{
	static const struct {
		int argc;
		char *argv[8];
		int ret;
		const char *err;
	} cases[] = {
		{ 1, { "set" }, DAQSCTL_PARSE_USAGE,
		  "set needs 'dev DEV' or 'mac MAC'" },
		{ 3, { "set", "rate", "1mbit" }, DAQSCTL_PARSE_USAGE,
		  "set needs 'dev DEV' or 'mac MAC'" },
		{ 4, { "set", "dev", "eth0", "lease" }, DAQSCTL_PARSE_USAGE,
		  "missing value after 'lease'" },
		{ 4, { "set", "dev", "eth0", "rate" }, DAQSCTL_PARSE_USAGE,
		  "missing value after 'rate'" },
		{ 4, { "set", "dev", "eth0", "fallback" }, DAQSCTL_PARSE_USAGE,
		  "missing value after 'fallback'" },
		{ 4, { "set", "dev", "eth0", "burst" }, DAQSCTL_PARSE_USAGE,
		  "missing value after 'burst'" },
		{ 4, { "set", "dev", "eth0", "mode" }, DAQSCTL_PARSE_USAGE,
		  "missing value after 'mode'" },
		{ 4, { "set", "dev", "eth0", "qlimit" }, DAQSCTL_PARSE_USAGE,
		  "missing value after 'qlimit'" },
		{ 2, { "set", "dev" }, DAQSCTL_PARSE_USAGE,
		  "missing value after 'dev'" },
		{ 5, { "set", "dev", "eth0", "speed", "1mbit" },
		  DAQSCTL_PARSE_USAGE, "unknown argument 'speed' for set" },
		{ 4, { "set", "dev", "eth0", "200mbit" }, DAQSCTL_PARSE_USAGE,
		  "unknown argument '200mbit' for set" },
		{ 7, { "set", "dev", "eth0", "rate", "1mbit", "rate", "2mbit" },
		  DAQSCTL_PARSE_USAGE, "'rate' given more than once" },
		{ 5, { "set", "dev", "eth0", "excl", "excl" },
		  DAQSCTL_PARSE_USAGE, "'excl' given more than once" },
		{ 5, { "set", "dev", "eth0", "rate", "20xbit" },
		  DAQSCTL_PARSE_INVALID, "invalid rate '20xbit'" },
		{ 5, { "set", "dev", "eth0", "rate", "" },
		  DAQSCTL_PARSE_INVALID, "invalid rate ''" },
		{ 5, { "set", "dev", "eth0", "rate", "-5mbit" },
		  DAQSCTL_PARSE_INVALID, "invalid rate '-5mbit'" },
		{ 5, { "set", "dev", "eth0", "rate", "5 mbit" },
		  DAQSCTL_PARSE_INVALID, "invalid rate '5 mbit'" },
		{ 5, { "set", "dev", "eth0", "rate", "18446744073709551616bit" },
		  DAQSCTL_PARSE_INVALID,
		  "invalid rate '18446744073709551616bit' (too large)" },
		{ 5, { "set", "dev", "eth0", "rate", "1.5bit" },
		  DAQSCTL_PARSE_INVALID,
		  "invalid rate '1.5bit' (not a whole number of bit/s)" },
		{ 5, { "set", "dev", "eth0", "fallback", "mbit" },
		  DAQSCTL_PARSE_INVALID, "invalid fallback 'mbit'" },
		{ 5, { "set", "dev", "eth0", "burst", "4g" },
		  DAQSCTL_PARSE_INVALID, "invalid burst '4g' (too large)" },
		{ 5, { "set", "dev", "eth0", "burst", "64kbit" },
		  DAQSCTL_PARSE_INVALID, "invalid burst '64kbit'" },
		{ 5, { "set", "dev", "eth0", "mode", "drop" },
		  DAQSCTL_PARSE_INVALID, "invalid mode 'drop' (shape or police)" },
		{ 5, { "set", "dev", "eth0", "qlimit", "50" },
		  DAQSCTL_PARSE_INVALID,
		  "invalid qlimit '50' (needs a unit: s, ms or us)" },
		{ 5, { "set", "dev", "eth0", "qlimit", "1.5us" },
		  DAQSCTL_PARSE_INVALID,
		  "invalid qlimit '1.5us' (not a whole number of microseconds)" },
		{ 5, { "set", "dev", "eth0", "qlimit", "4295s" },
		  DAQSCTL_PARSE_INVALID, "invalid qlimit '4295s' (too large)" },
		{ 5, { "set", "dev", "eth0", "lease", "1500us" },
		  DAQSCTL_PARSE_INVALID,
		  "invalid lease '1500us' (not a whole number of milliseconds)" },
		{ 5, { "set", "dev", "eth0", "lease", "2" },
		  DAQSCTL_PARSE_INVALID,
		  "invalid lease '2' (needs a unit: s, ms or us)" },
		{ 5, { "set", "dev", "eth0", "lease", "fallback" },
		  DAQSCTL_PARSE_INVALID, "invalid lease 'fallback'" },
		{ 5, { "set", "mac", "52:54:00:12:34", "rate", "1mbit" },
		  DAQSCTL_PARSE_INVALID, "invalid MAC address '52:54:00:12:34'" },
	};
	struct daqs_set_req r;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char **argv = (char **)cases[i].argv;
		int ret = daqsctl_parse_set(cases[i].argc, argv, &r, err,
					    sizeof(err));

		if (ret != cases[i].ret || strcmp(err, cases[i].err))
			print_message("case %zu: %d '%s'\n", i, ret, err);
		assert_int_equal(ret, cases[i].ret);
		assert_string_equal(err, cases[i].err);
	}
}

static void test_set_u32_edges(void **state)
{
	char *max[] = { "set", "dev", "eth0", "burst", "4294967295",
			"qlimit", "4294.967295s", "lease", "4294967295ms" };
	char *over[] = { "set", "dev", "eth0", "lease", "4294967296ms" };
	struct daqs_set_req r;

	(void)state;
	assert_int_equal(daqsctl_parse_set(ARGC(max), max, &r, err,
					   sizeof(err)), 0);
	assert_int_equal(r.burst_bytes, UINT32_MAX);
	assert_int_equal(r.qlimit_us, UINT32_MAX);
	assert_int_equal(r.lease_ms, UINT32_MAX);
	assert_int_equal(daqsctl_parse_set(ARGC(over), over, &r, err,
					   sizeof(err)), DAQSCTL_PARSE_INVALID);
	assert_string_equal(err, "invalid lease '4294967296ms' (too large)");
}

static void test_set_null_err(void **state)
{
	char *argv[] = { "set", "dev", "eth0", "rate", "x" };
	struct daqs_set_req r;

	(void)state;
	/* a caller that does not want the message */
	assert_int_equal(daqsctl_parse_set(ARGC(argv), argv, &r, NULL, 0),
			 DAQSCTL_PARSE_INVALID);
}

static void test_set_small_err_buffer(void **state)
{
	char *argv[] = { "set", "dev", "eth0", "rate", "20xbit" };
	struct daqs_set_req r;
	char small[8];

	(void)state;
	assert_int_equal(daqsctl_parse_set(ARGC(argv), argv, &r, small,
					   sizeof(small)),
			 DAQSCTL_PARSE_INVALID);
	assert_string_equal(small, "invalid");
}

/* ---- del and monitor ------------------------------------------------------- */

static void test_del(void **state)
{
	char *dev[] = { "del", "dev", "veth0" };
	char *mac[] = { "del", "mac", "52:54:00:12:34:56" };
	char *none[] = { "del" };
	char *extra[] = { "del", "dev", "veth0", "rate", "1mbit" };
	struct daqs_del_req r;

	(void)state;
	assert_int_equal(daqsctl_parse_del(ARGC(dev), dev, &r, err,
					   sizeof(err)), 0);
	assert_int_equal(r.sel.type, DAQSCTL_SEL_DEV);
	assert_string_equal(r.sel.ifname, "veth0");
	assert_int_equal(daqsctl_parse_del(ARGC(mac), mac, &r, err,
					   sizeof(err)), 0);
	assert_int_equal(r.sel.type, DAQSCTL_SEL_MAC);
	assert_int_equal(daqsctl_parse_del(ARGC(none), none, &r, err,
					   sizeof(err)), DAQSCTL_PARSE_USAGE);
	assert_string_equal(err, "del needs 'dev DEV' or 'mac MAC'");
	assert_int_equal(daqsctl_parse_del(ARGC(extra), extra, &r, err,
					   sizeof(err)), DAQSCTL_PARSE_USAGE);
	assert_string_equal(err, "unknown argument 'rate' for del");
}

static void test_monitor(void **state)
{
	char *ok[] = { "monitor" };
	char *extra[] = { "monitor", "dev", "eth0" };

	(void)state;
	assert_int_equal(daqsctl_parse_monitor(ARGC(ok), ok, err, sizeof(err)), 0);
	assert_int_equal(daqsctl_parse_monitor(ARGC(extra), extra, err,
					       sizeof(err)), DAQSCTL_PARSE_USAGE);
	assert_string_equal(err, "unknown argument 'dev' for monitor");
}

static void test_vms(void **state)
{
	char *none[] = { "vms" };
	char *sock[] = { "vms", "-j", "socket", "/tmp/x/daqsd.sock" };
	char *twice[] = { "vms", "socket", "/a", "socket", "/b" };
	char *rel[] = { "vms", "socket", "daqsd.sock" };
	char *missing[] = { "vms", "socket" };
	char *extra[] = { "vms", "dev", "eth0" };
	struct daqs_vms_req r;

	(void)state;
	assert_int_equal(daqsctl_parse_vms(ARGC(none), none, &r, err,
					   sizeof(err)), 0);
	assert_string_equal(r.socket, "/run/daqsd.sock");
	assert_false(r.json);
	assert_int_equal(daqsctl_parse_vms(ARGC(sock), sock, &r, err,
					   sizeof(err)), 0);
	assert_string_equal(r.socket, "/tmp/x/daqsd.sock");
	assert_true(r.json);
	assert_int_equal(daqsctl_parse_vms(ARGC(twice), twice, &r, err,
					   sizeof(err)), DAQSCTL_PARSE_USAGE);
	assert_string_equal(err, "'socket' given more than once");
	assert_int_equal(daqsctl_parse_vms(ARGC(rel), rel, &r, err,
					   sizeof(err)), DAQSCTL_PARSE_INVALID);
	assert_string_equal(err, "invalid socket path 'daqsd.sock' (an absolute path of at most 107 bytes)");
	assert_int_equal(daqsctl_parse_vms(ARGC(missing), missing, &r, err,
					   sizeof(err)), DAQSCTL_PARSE_USAGE);
	assert_string_equal(err, "missing value after 'socket'");
	assert_int_equal(daqsctl_parse_vms(ARGC(extra), extra, &r, err,
					   sizeof(err)), DAQSCTL_PARSE_USAGE);
	assert_string_equal(err, "unknown argument 'dev' for vms");
}

static void test_usage(void **state)
{
	(void)state;
	assert_string_equal(daqsctl_usage("del"), "del {dev DEV | mac MAC}");
	assert_string_equal(daqsctl_usage("show"), "[-j] show [dev DEV | mac MAC]");
	assert_non_null(strstr(daqsctl_usage("set"), "[lease TIME] [fallback RATE]"));
	assert_string_equal(daqsctl_usage("vms"), "[-j] vms [socket PATH]");
	assert_non_null(strstr(daqsctl_usage("nonsense"), "{show | set | del | monitor | vms | help}"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_global_none, setup),
		cmocka_unit_test_setup(test_global_json, setup),
		cmocka_unit_test_setup(test_global_help_version, setup),
		cmocka_unit_test_setup(test_global_unknown, setup),
		cmocka_unit_test_setup(test_show_all, setup),
		cmocka_unit_test_setup(test_show_dev, setup),
		cmocka_unit_test_setup(test_show_mac, setup),
		cmocka_unit_test_setup(test_show_errors, setup),
		cmocka_unit_test_setup(test_show_longest_name, setup),
		cmocka_unit_test_setup(test_set_everything, setup),
		cmocka_unit_test_setup(test_set_order_free_and_mac, setup),
		cmocka_unit_test_setup(test_set_selector_only, setup),
		cmocka_unit_test_setup(test_set_lease_without_fallback, setup),
		cmocka_unit_test_setup(test_set_kernel_checks_ranges, setup),
		cmocka_unit_test_setup(test_set_errors, setup),
		cmocka_unit_test_setup(test_set_u32_edges, setup),
		cmocka_unit_test_setup(test_set_null_err, setup),
		cmocka_unit_test_setup(test_set_small_err_buffer, setup),
		cmocka_unit_test_setup(test_del, setup),
		cmocka_unit_test_setup(test_monitor, setup),
		cmocka_unit_test_setup(test_vms, setup),
		cmocka_unit_test_setup(test_usage, setup),
	};

	return cmocka_run_group_tests_name("daqsctl_parse", tests, NULL, NULL);
}
