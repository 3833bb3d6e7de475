// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * daqsd/config.c: daqsd.conf and the original DAQS's defaults.ini,
 * min_bw.ini and payments.ini; every way to get them wrong, each with the
 * exact message a user reads.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MBIT 1000000ULL
#define GBIT 1000000000ULL

static struct daqs_config *parse_ok(const char *text)
{
	struct daqs_config *cfg = NULL;
	char err[DAQS_CONF_ERR_LEN];
	int ret = daqs_config_parse("test.conf", text, strlen(text), &cfg, err,
				    sizeof(err));

	if (ret)
		print_message("unexpected error %d: %s\n", ret, err);
	assert_int_equal(ret, 0);
	assert_non_null(cfg);
	return cfg;
}

static void test_full(void **state)
{
	struct daqs_config *cfg = parse_ok(
		"# daqsd on the lab's link\n"
		"[daqsd]\n"
		"link = enp1s0f0\n"
		"capacity = 400mbit\n"
		"tick = 50ms\n"
		"policy = weighted_share\n"
		"channel_dir = /run/daqs/channels\n"
		"control_socket = /run/daqs/ctl.sock\n"
		"lease = 500ms\n"
		"fallback = 20mbit\n"
		"verify_interval = 2s\n"
		"verify_tolerance = 2.5%\n"
		"verify_limit_tolerance = 20%\n"
		"verify_strikes = 5\n"
		"verify_hold = 30s\n"
		"\n"
		"[vm guarantee]\n"
		"min = 150mbit\n"
		"weight = 3\n"
		"max = 300mbit\n"
		"device = eth1\n"
		"socket = /run/daqs/guarantee.sock\n"
		"vf = ens1f0np0:15\n"
		"[vm best-effort.2]\n"
		"device = 52:54:00:12:34:56\n");
	const struct daqs_vm_conf *vm;
	static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

	(void)state;
	assert_string_equal(cfg->link, "enp1s0f0");
	assert_int_equal(cfg->capacity_bps, 400 * MBIT);
	assert_int_equal(cfg->tick_ms, 50);
	assert_int_equal(cfg->policy, DAQS_POLICY_WEIGHTED_SHARE);
	assert_string_equal(cfg->channel_dir, "/run/daqs/channels");
	assert_string_equal(cfg->control_socket, "/run/daqs/ctl.sock");
	assert_int_equal(cfg->lease_ms, 500);
	assert_int_equal(cfg->fallback_bps, 20 * MBIT);
	assert_int_equal(cfg->verify_interval_ms, 2000);
	assert_int_equal(cfg->verify_tolerance_bp, 250);
	assert_int_equal(cfg->verify_limit_tolerance_bp, 2000);
	assert_int_equal(cfg->verify_strikes, 5);
	assert_int_equal(cfg->verify_hold_ms, 30000);
	assert_int_equal(cfg->n_vms, 2);

	vm = daqs_config_vm(cfg, "guarantee");
	assert_non_null(vm);
	assert_int_equal(vm->min_bps, 150 * MBIT);
	assert_int_equal(vm->weight, 3);
	assert_int_equal(vm->max_bps, 300 * MBIT);
	assert_int_equal(vm->device_kind, DAQS_DEVICE_IFNAME);
	assert_string_equal(vm->ifname, "eth1");
	assert_string_equal(vm->socket, "/run/daqs/guarantee.sock");
	assert_string_equal(vm->vf_pf, "ens1f0np0");
	assert_int_equal(vm->vf_index, 15);
	assert_int_equal(vm->vf_line, 23);
	assert_int_equal(vm->line, 17);

	vm = daqs_config_vm(cfg, "best-effort.2");
	assert_non_null(vm);
	assert_int_equal(vm->min_bps, 0);
	assert_int_equal(vm->weight, 1);
	assert_int_equal(vm->max_bps, 0);
	assert_int_equal(vm->device_kind, DAQS_DEVICE_MAC);
	assert_memory_equal(vm->mac, mac, 6);
	assert_string_equal(vm->socket, "");
	assert_string_equal(vm->vf_pf, "");
	assert_int_equal(vm->vf_line, 0);

	assert_null(daqs_config_vm(cfg, "nosuch"));
	daqs_config_free(cfg);
}

static void test_defaults(void **state)
{
	struct daqs_config *cfg = parse_ok("[daqsd]\ncapacity = 40gbit\n");

	(void)state;
	assert_int_equal(cfg->capacity_bps, 40 * GBIT);
	assert_string_equal(cfg->link, "");
	assert_int_equal(cfg->tick_ms, 100);
	assert_int_equal(cfg->policy, DAQS_POLICY_MINIMUM_GUARANTEE);
	assert_string_equal(cfg->channel_dir, DAQS_CONF_CHANNEL_DIR);
	assert_string_equal(cfg->control_socket, DAQS_CONF_CONTROL_SOCKET);
	assert_int_equal(cfg->lease_ms, 1000);	/* 10 ticks */
	assert_int_equal(cfg->fallback_bps, 0);	/* auto */
	assert_int_equal(cfg->verify_interval_ms, 1000);
	assert_int_equal(cfg->verify_tolerance_bp, 500);	/* 5% */
	assert_int_equal(cfg->verify_limit_tolerance_bp, 1000);	/* 10% */
	assert_int_equal(cfg->verify_strikes, 3);
	assert_int_equal(cfg->verify_hold_ms, 10000);
	assert_int_equal(cfg->n_vms, 0);
	daqs_config_free(cfg);
	/* a long tick: the interval is at least 2 of them */
	cfg = parse_ok("[daqsd]\ncapacity = 40gbit\ntick = 2s\n");
	assert_int_equal(cfg->verify_interval_ms, 4000);
	daqs_config_free(cfg);
	/* the extremes */
	cfg = parse_ok("[daqsd]\ncapacity = 40gbit\ntick = 10ms\nverify_interval = 20ms\n"
		       "verify_tolerance = 0%\nverify_limit_tolerance = 100%\n"
		       "verify_strikes = 1\nverify_hold = 0\n"
		       "[vm a]\nvf = a:0\n[vm b]\nvf = a:65535\n[vm c]\nvf = b:0\n");
	assert_int_equal(cfg->verify_interval_ms, 20);
	assert_int_equal(cfg->verify_tolerance_bp, 0);
	assert_int_equal(cfg->verify_limit_tolerance_bp, 10000);
	assert_int_equal(cfg->verify_strikes, 1);
	assert_int_equal(cfg->verify_hold_ms, 0);
	assert_int_equal(cfg->vms[1].vf_index, 65535);
	daqs_config_free(cfg);
}

/* what people write: indentation, CRLF, a BOM, comments, ':' for '=' */
static void test_lenient_layout(void **state)
{
	struct daqs_config *cfg = parse_ok(
		"\xef\xbb\xbf; the link\r\n"
		"  [ daqsd ]   ; inline comment\r\n"
		"    link = eth0\r\n"
		"\tcapacity: 1gbit ; one gigabit\r\n"
		"    policy = fairshare\r\n"
		"    fallback = auto\r\n"
		"\r\n"
		"[vm\tweb-1]\n"
		"    # nothing set: best effort, weight 1\n"
		"[vm db]\n"
		"    min = 100mbit\n"
		"    weight = 1000000");	/* no final newline */

	(void)state;
	assert_string_equal(cfg->link, "eth0");
	assert_int_equal(cfg->capacity_bps, 1 * GBIT);
	assert_int_equal(cfg->policy, DAQS_POLICY_FAIRSHARE);
	assert_int_equal(cfg->n_vms, 2);
	assert_string_equal(cfg->vms[0].name, "web-1");
	assert_string_equal(cfg->vms[1].name, "db");
	assert_int_equal(cfg->vms[1].min_bps, 100 * MBIT);
	assert_int_equal(cfg->vms[1].min_line, 11);
	assert_int_equal(cfg->vms[1].weight, 1000000);
	daqs_config_free(cfg);
}

/* the capacity from the link's speed, learned after loading */
static void test_capacity_from_link(void **state)
{
	struct daqs_config *cfg = parse_ok(
		"[daqsd]\nlink = eth0\n"
		"[vm a]\nmin = 300mbit\n"
		"[vm b]\nmin = 200mbit\n");
	char err[DAQS_CONF_ERR_LEN];

	(void)state;
	assert_int_equal(cfg->capacity_bps, 0);
	assert_int_equal(daqs_config_set_capacity(cfg, 400 * MBIT, "test.conf",
						  err, sizeof(err)), -EINVAL);
	assert_string_equal(err,
		"test.conf:6: min 200Mbit of vm 'b' brings the minimums to 500Mbit, above the capacity 400Mbit");
	assert_int_equal(cfg->capacity_bps, 0);
	assert_int_equal(daqs_config_set_capacity(cfg, 0, "test.conf", err,
						  sizeof(err)), -EINVAL);
	assert_int_equal(daqs_config_set_capacity(cfg, 10 * GBIT, "test.conf",
						  err, sizeof(err)), 0);
	assert_int_equal(cfg->capacity_bps, 10 * GBIT);
	daqs_config_free(cfg);
}

struct bad_case {
	const char *text;
	const char *err;
};

static void test_malformed(void **state)
{
	static const struct bad_case cases[] = {
		/* units */
		{ "[daqsd]\ncapacity = 40gbitx\n",
		  "test.conf:2: invalid rate '40gbitx' for 'capacity'" },
		{ "[daqsd]\ncapacity = -1gbit\n",
		  "test.conf:2: invalid rate '-1gbit' for 'capacity'" },
		{ "[daqsd]\ncapacity = 1.5bit\n",
		  "test.conf:2: invalid rate '1.5bit' for 'capacity': not a whole number of bit/s" },
		{ "[daqsd]\ncapacity = 99999999999999999999\n",
		  "test.conf:2: invalid rate '99999999999999999999' for 'capacity': out of range" },
		{ "[daqsd]\ncapacity = 10000tbit\n",
		  "test.conf:2: rate '10000tbit' for 'capacity' is above 9007.199254740992Tbit" },
		{ "[daqsd]\ncapacity = 0\n",
		  "test.conf:2: capacity '0' is below 8Kbit, the smallest rate" },
		{ "[daqsd]\ncapacity = 7999bit\n",
		  "test.conf:2: capacity '7999bit' is below 8Kbit, the smallest rate" },
		{ "[daqsd]\ncapacity = 1gbit\ntick = 100\n",
		  "test.conf:3: invalid time '100' for 'tick'" },
		{ "[daqsd]\ncapacity = 1gbit\ntick = 1500us\n",
		  "test.conf:3: invalid time '1500us' for 'tick': not a whole number of milliseconds" },
		{ "[daqsd]\ncapacity = 1gbit\ntick = 5ms\n",
		  "test.conf:3: tick '5ms' is outside 10ms..10s" },
		{ "[daqsd]\ncapacity = 1gbit\ntick = 11s\n",
		  "test.conf:3: tick '11s' is outside 10ms..10s" },
		{ "[daqsd]\ncapacity = 1gbit\nlease = 5ms\n",
		  "test.conf:3: lease '5ms' is outside 10ms..1h" },
		{ "[daqsd]\ncapacity = 1gbit\nlease = 150ms\n",
		  "test.conf:3: lease 150ms is shorter than 2 ticks of 100ms" },
		{ "[daqsd]\ncapacity = 1gbit\nfallback = 0\n",
		  "test.conf:3: fallback '0' would leave a silent host's guest unlimited; give a rate or 'auto'" },
		{ "[daqsd]\ncapacity = 1gbit\nfallback = automatic\n",
		  "test.conf:3: invalid rate 'automatic' for 'fallback'" },
		{ "[daqsd]\ncapacity = 1gbit\nfallback = 1kbit\n",
		  "test.conf:3: fallback '1kbit' is below 8Kbit, the smallest rate" },
		{ "[daqsd]\ncapacity = 1gbit\npolicy = minimum-guarantee\n",
		  "test.conf:3: unknown policy 'minimum-guarantee' (standalone, fairshare, minimum_guarantee, weighted_share or paper2023)" },
		{ "[daqsd]\nlink = eth0/1\n",
		  "test.conf:2: invalid interface name 'eth0/1' for 'link'" },
		{ "[daqsd]\nlink = averyveryverylongname\n",
		  "test.conf:2: invalid interface name 'averyveryverylongname' for 'link'" },
		{ "[daqsd]\ncapacity = 1gbit\nchannel_dir = var/lib\n",
		  "test.conf:3: 'var/lib' for 'channel_dir' is not an absolute path" },
		{ "[daqsd]\ncapacity = 1gbit\ncontrol_socket = /run/"
		  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
		  "test.conf:3: path '/run/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...' for 'control_socket' is longer than 107 bytes" },
		/* verification */
		{ "[daqsd]\ncapacity = 1gbit\nverify_interval = 1\n",
		  "test.conf:3: invalid time '1' for 'verify_interval'" },
		{ "[daqsd]\ncapacity = 1gbit\nverify_interval = 0\n",
		  "test.conf:3: verify_interval '0' is outside 1ms..60s" },
		{ "[daqsd]\ncapacity = 1gbit\nverify_interval = 61s\n",
		  "test.conf:3: verify_interval '61s' is outside 1ms..60s" },
		{ "[daqsd]\ncapacity = 1gbit\nverify_interval = 150ms\n",
		  "test.conf:3: verify_interval 150ms is shorter than 2 ticks of 100ms" },
		{ "[daqsd]\ncapacity = 1gbit\nverify_tolerance = 5\n",
		  "test.conf:3: invalid percentage '5' for 'verify_tolerance' (such as 5% or 2.5%)" },
		{ "[daqsd]\ncapacity = 1gbit\nverify_tolerance = 5 %\n",
		  "test.conf:3: invalid percentage '5 %' for 'verify_tolerance' (such as 5% or 2.5%)" },
		{ "[daqsd]\ncapacity = 1gbit\nverify_tolerance = .5%\n",
		  "test.conf:3: invalid percentage '.5%' for 'verify_tolerance' (such as 5% or 2.5%)" },
		{ "[daqsd]\ncapacity = 1gbit\nverify_tolerance = 5.%\n",
		  "test.conf:3: invalid percentage '5.%' for 'verify_tolerance' (such as 5% or 2.5%)" },
		{ "[daqsd]\ncapacity = 1gbit\nverify_tolerance = 2.125%\n",
		  "test.conf:3: invalid percentage '2.125%' for 'verify_tolerance' (such as 5% or 2.5%)" },
		{ "[daqsd]\ncapacity = 1gbit\nverify_limit_tolerance = 100.5%\n",
		  "test.conf:3: '100.5%' for 'verify_limit_tolerance' is above 100%" },
		{ "[daqsd]\ncapacity = 1gbit\nverify_limit_tolerance = 99999999999999999999%\n",
		  "test.conf:3: '99999999999999999999%' for 'verify_limit_tolerance' is above 100%" },
		{ "[daqsd]\ncapacity = 1gbit\nverify_strikes = 0\n",
		  "test.conf:3: invalid verify_strikes '0' (an integer from 1 to 100)" },
		{ "[daqsd]\ncapacity = 1gbit\nverify_strikes = 101\n",
		  "test.conf:3: invalid verify_strikes '101' (an integer from 1 to 100)" },
		{ "[daqsd]\ncapacity = 1gbit\nverify_hold = 3601s\n",
		  "test.conf:3: verify_hold '3601s' is outside 0..1h" },
		{ "[daqsd]\ncapacity = 1gbit\n[vm a]\nvf = ens1f0\n",
		  "test.conf:4: invalid VF 'ens1f0' for 'vf' (PF:INDEX, such as ens1f0:3)" },
		{ "[daqsd]\ncapacity = 1gbit\n[vm a]\nvf = :3\n",
		  "test.conf:4: invalid VF ':3' for 'vf' (PF:INDEX, such as ens1f0:3)" },
		{ "[daqsd]\ncapacity = 1gbit\n[vm a]\nvf = ens1f0:\n",
		  "test.conf:4: invalid VF index '' in 'vf' 'ens1f0:' (an integer from 0 to 65535)" },
		{ "[daqsd]\ncapacity = 1gbit\n[vm a]\nvf = ens1f0:65536\n",
		  "test.conf:4: invalid VF index '65536' in 'vf' 'ens1f0:65536' (an integer from 0 to 65535)" },
		{ "[daqsd]\ncapacity = 1gbit\n[vm a]\nvf = ens1f0:-1\n",
		  "test.conf:4: invalid VF index '-1' in 'vf' 'ens1f0:-1' (an integer from 0 to 65535)" },
		{ "[daqsd]\ncapacity = 1gbit\n[vm a]\nvf = ens1/f0:1\n",
		  "test.conf:4: invalid interface name 'ens1/f0' in 'vf' 'ens1/f0:1'" },
		{ "[daqsd]\ncapacity = 1gbit\n[vm a]\nvf = a:b:1\n",
		  "test.conf:4: invalid interface name 'a:b' in 'vf' 'a:b:1'" },
		{ "[daqsd]\ncapacity = 1gbit\n[vm a]\nvf = averyveryverylongname:1\n",
		  "test.conf:4: invalid VF 'averyveryverylongname:1' for 'vf' (PF:INDEX, such as ens1f0:3)" },
		{ "[daqsd]\ncapacity = 1gbit\n[vm a]\nvf = ens1:1\nvf = ens1:2\n",
		  "test.conf:5: duplicate key 'vf' (first at line 4)" },
		{ "[daqsd]\ncapacity = 1gbit\n[vm a]\nvf = ens1:1\n[vm b]\nmin = 1mbit\nvf = ens1:1\n",
		  "test.conf:7: vf 'ens1:1' of vm 'b' is already vm 'a''s (line 4)" },
		/* keys and sections */
		{ "[daqsd]\ncapacty = 1gbit\n",
		  "test.conf:2: unknown key 'capacty' in [daqsd]" },
		{ "[daqsd]\ncapacity = 1gbit\n[vm a]\nmni = 1mbit\n",
		  "test.conf:4: unknown key 'mni' in [vm a]" },
		{ "[daqs]\ncapacity = 1gbit\n",
		  "test.conf:1: unknown section '[daqs]' (expected [daqsd] or [vm NAME])" },
		{ "[daqsd]\ncapacity = 1gbit\n[extra]\n",
		  "test.conf:3: unknown section '[extra]' (expected [daqsd] or [vm NAME])" },
		{ "[daqsd]\ncapacity = 1gbit\n[vm]\n",
		  "test.conf:3: unknown section '[vm]' (expected [daqsd] or [vm NAME])" },
		{ "[daqsd]\ncapacity = 1gbit\n[vm a/b]\n",
		  "test.conf:3: invalid VM name 'a/b' in '[vm a/b]' (1..46 of A-Z a-z 0-9 . _ - + : @)" },
		{ "[daqsd]\ncapacity = 1gbit\n[vm a b]\n",
		  "test.conf:3: invalid VM name 'a b' in '[vm a b]' (1..46 of A-Z a-z 0-9 . _ - + : @)" },
		{ "[daqsd]\ncapacity = 1gbit\n[vm a2345678901234567890123456789012345678901234567]\n",
		  "test.conf:3: invalid VM name 'a2345678901234567890123456789012345678901234567' in '[vm a2345678901234567890123456789012345678901234567]' (1..46 of A-Z a-z 0-9 . _ - + : @)" },
		{ "[daqsd]\ncapacity = 1gbit\n[vm a]\nmin = 1mbit\n\n[vm a]\n",
		  "test.conf:6: duplicate section '[vm a]' (first at line 3)" },
		{ "[daqsd]\ncapacity = 1gbit\n[daqsd]\n",
		  "test.conf:3: duplicate section '[daqsd]' (first at line 1)" },
		{ "[daqsd]\ncapacity = 1gbit\ncapacity = 2gbit\n",
		  "test.conf:3: duplicate key 'capacity' (first at line 2)" },
		{ "capacity = 1gbit\n[daqsd]\n",
		  "test.conf:1: key 'capacity' outside any section" },
		{ "[daqsd]\ncapacity =\n",
		  "test.conf:2: missing value for 'capacity'" },
		{ "[daqsd]\n= 1gbit\n",
		  "test.conf:2: missing key before the value '1gbit'" },
		{ "[daqsd]\ncapacity 1gbit\n",
		  "test.conf:2: expected 'key = value' or '[section]', got 'capacity 1gbit'" },
		{ "[daqsd\ncapacity = 1gbit\n",
		  "test.conf:1: missing ']' in '[daqsd'" },
		{ "[daqsd] capacity = 1gbit\n",
		  "test.conf:1: unexpected 'capacity = 1gbit' after '[daqsd]'" },
		{ "[daqsd]\ncapacity = 1gbit # a comment\n",
		  "test.conf:2: invalid rate '1gbit # a comment' for 'capacity'" },
		/* what is read whole */
		{ "", "test.conf: no [daqsd] section; it needs 'capacity' or 'link'" },
		{ "[vm a]\n", "test.conf: no [daqsd] section; it needs 'capacity' or 'link'" },
		{ "[daqsd]\ntick = 100ms\n",
		  "test.conf:1: [daqsd] sets neither 'capacity' nor 'link' (the link's speed is the capacity)" },
		{ "[daqsd]\ncapacity = \x01\x7f\xff\n",
		  "test.conf:2: invalid rate '?\?\?' for 'capacity'" },
		/* VMs */
		{ "[daqsd]\ncapacity = 400mbit\n[vm a]\nmin = 300mbit\n[vm b]\nmin = 200mbit\n",
		  "test.conf:6: min 200Mbit of vm 'b' brings the minimums to 500Mbit, above the capacity 400Mbit" },
		{ "[vm a]\nmin = 300mbit\n[vm b]\nmin = 200mbit\n[daqsd]\ncapacity = 400mbit\n",
		  "test.conf:4: min 200Mbit of vm 'b' brings the minimums to 500Mbit, above the capacity 400Mbit" },
		{ "[daqsd]\ncapacity = 400mbit\n[vm a]\nmin = 500mbit\n",
		  "test.conf:4: min 500Mbit of vm 'a' brings the minimums to 500Mbit, above the capacity 400Mbit" },
		{ "[daqsd]\ncapacity = 1gbit\n[vm a]\nmin = 200mbit\nmax = 100mbit\n",
		  "test.conf:4: min 200Mbit of vm 'a' is above its max 100Mbit" },
		{ "[daqsd]\ncapacity = 1gbit\n[vm a]\nmax = 0\n",
		  "test.conf:4: max '0' is below 8Kbit, the smallest rate" },
		{ "[daqsd]\ncapacity = 1gbit\n[vm a]\nweight = 0\n",
		  "test.conf:4: invalid weight '0' (an integer from 1 to 1000000)" },
		{ "[daqsd]\ncapacity = 1gbit\n[vm a]\nweight = 1000001\n",
		  "test.conf:4: invalid weight '1000001' (an integer from 1 to 1000000)" },
		{ "[daqsd]\ncapacity = 1gbit\n[vm a]\nweight = 2.5\n",
		  "test.conf:4: invalid weight '2.5' (an integer from 1 to 1000000)" },
		{ "[daqsd]\ncapacity = 1gbit\n[vm a]\nweight = 99999999999999999999999\n",
		  "test.conf:4: invalid weight '99999999999999999999999' (an integer from 1 to 1000000)" },
		{ "[daqsd]\ncapacity = 1gbit\n[vm a]\ndevice = 52:54:00:zz:34:56\n",
		  "test.conf:4: invalid MAC address '52:54:00:zz:34:56' for 'device'" },
		{ "[daqsd]\ncapacity = 1gbit\n[vm a]\ndevice = eth 0\n",
		  "test.conf:4: invalid interface name 'eth 0' for 'device'" },
		{ "[daqsd]\ncapacity = 1gbit\n[vm a]\nsocket = vm.sock\n",
		  "test.conf:4: 'vm.sock' for 'socket' is not an absolute path" },
		{ "[daqsd]\ncapacity = 1gbit\n[vm a]\nmin = 1mbit\nmin = 2mbit\n",
		  "test.conf:5: duplicate key 'min' (first at line 4)" },
	};
	char err[DAQS_CONF_ERR_LEN];
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct daqs_config *cfg = (struct daqs_config *)&err;	/* sentinel */
		int ret;

		memset(err, 'x', sizeof(err));
		ret = daqs_config_parse("test.conf", cases[i].text,
					strlen(cases[i].text), &cfg, err,
					sizeof(err));
		if (ret != -EINVAL || strcmp(err, cases[i].err))
			print_message("case %zu: %d\n  got  '%s'\n  want '%s'\n", i,
				      ret, err, cases[i].err);
		assert_int_equal(ret, -EINVAL);
		assert_string_equal(err, cases[i].err);
		assert_ptr_equal(cfg, (struct daqs_config *)&err);	/* untouched */
	}
}

/* what the text cannot show: bytes, sizes, the first error of several */
static void test_malformed_bytes(void **state)
{
	char err[DAQS_CONF_ERR_LEN], line[300], *big;
	struct daqs_config *cfg = NULL;
	static const char nul[] = "[daqsd]\ncapacity = 1g\0bit\n";

	(void)state;
	assert_int_equal(daqs_config_parse("test.conf", nul, sizeof(nul) - 1, &cfg,
					   err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "test.conf:2: NUL byte in line");

	snprintf(line, sizeof(line), "[daqsd]\ncapacity = 1gbit\n[vm a]\nsocket = /%0250d\n", 0);
	assert_int_equal(daqs_config_parse("test.conf", line, strlen(line), &cfg,
					   err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "test.conf:4: line longer than 199 characters");

	/* the first error is reported, and only it */
	snprintf(line, sizeof(line), "[daqsd]\nbogus = 1\n[nope]\ncapacity = x\n");
	assert_int_equal(daqs_config_parse("test.conf", line, strlen(line), &cfg,
					   err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "test.conf:2: unknown key 'bogus' in [daqsd]");

	/* a short buffer gets a truncated message, never an overflow */
	assert_int_equal(daqs_config_parse("test.conf", line, strlen(line), &cfg,
					   err, 12), -EINVAL);
	assert_string_equal(err, "test.conf:2");
	assert_int_equal(daqs_config_parse("test.conf", line, strlen(line), &cfg,
					   NULL, 0), -EINVAL);

	big = calloc(1, DAQS_CONF_FILE_MAX + 2);
	assert_non_null(big);
	memset(big, '\n', DAQS_CONF_FILE_MAX + 1);
	assert_int_equal(daqs_config_parse("test.conf", big, DAQS_CONF_FILE_MAX + 1,
					   &cfg, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "test.conf: larger than 1048576 bytes");
	free(big);
}

/* --- files ------------------------------------------------------------------- */

static char tmpdir[64];

static int make_tmpdir(void **state)
{
	(void)state;
	strcpy(tmpdir, "/tmp/daqs-test-config.XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int remove_tmpdir(void **state)
{
	static const char *const names[] = {
		"daqsd.conf", "defaults.ini", "default.ini", "min_bw.ini",
		"payments.ini",
	};
	char path[128];
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(names); i++) {
		snprintf(path, sizeof(path), "%s/%s", tmpdir, names[i]);
		unlink(path);
	}
	return rmdir(tmpdir);
}

static void write_file(const char *name, const char *text)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	if (!text) {
		unlink(path);
		return;
	}
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static void test_load_file(void **state)
{
	char path[128], err[DAQS_CONF_ERR_LEN], want[256];
	struct daqs_config *cfg = NULL;

	(void)state;
	snprintf(path, sizeof(path), "%s/daqsd.conf", tmpdir);
	write_file("daqsd.conf", "[daqsd]\ncapacity = 400mbit\n[vm a]\nmin = 100mbit\n");
	assert_int_equal(daqs_config_load(path, &cfg, err, sizeof(err)), 0);
	assert_int_equal(cfg->capacity_bps, 400 * MBIT);
	assert_int_equal(cfg->vms[0].min_bps, 100 * MBIT);
	daqs_config_free(cfg);

	write_file("daqsd.conf", "[daqsd]\n\ncapacity = 40gbitx\n");
	assert_int_equal(daqs_config_load(path, &cfg, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want), "%s:3: invalid rate '40gbitx' for 'capacity'",
		 path);
	assert_string_equal(err, want);

	write_file("daqsd.conf", NULL);
	assert_int_equal(daqs_config_load(path, &cfg, err, sizeof(err)), -ENOENT);
	snprintf(want, sizeof(want), "%s: cannot read: No such file or directory",
		 path);
	assert_string_equal(err, want);
	assert_int_equal(daqs_config_load(tmpdir, &cfg, err, sizeof(err)), -EISDIR);
}

/* --- the original DAQS's files ------------------------------------------------- */

static void test_original(void **state)
{
	char err[DAQS_CONF_ERR_LEN];
	struct daqs_config *cfg = NULL;
	const struct daqs_vm_conf *vm;

	(void)state;
	/* as in its repository: a quoted path, a VM missing from payments.ini */
	write_file("defaults.ini",
		   "[DEFAULT]\n"
		   "host_interface = ens6f1np1\n"
		   "default_payment = 40\n"
		   "host_base_directory = \"/home/devquint/GA_VM_QOS\"\n"
		   "guest_base_directory= \"home/user\"\n");
	write_file("min_bw.ini", "[DEFAULT]\nb1_vm1 = 20\nb1_vm2 = 0\n");
	write_file("payments.ini",
		   "[DEFAULT]\nubuntu_20.04-clone1 = 200\nb1_vm2 = 300\n");
	assert_int_equal(daqs_config_load_original(tmpdir, &cfg, err, sizeof(err)), 0);
	assert_int_equal(cfg->policy, DAQS_POLICY_MINIMUM_GUARANTEE);
	assert_string_equal(cfg->link, "ens6f1np1");
	assert_int_equal(cfg->capacity_bps, 0);		/* from the link */
	assert_int_equal(cfg->tick_ms, 100);
	assert_int_equal(cfg->lease_ms, 1000);
	assert_int_equal(cfg->n_vms, 3);
	vm = daqs_config_vm(cfg, "b1_vm1");
	assert_non_null(vm);
	assert_int_equal(vm->min_bps, 20 * GBIT);
	assert_int_equal(vm->weight, 40);		/* default_payment */
	assert_int_equal(vm->min_line, 2);
	vm = daqs_config_vm(cfg, "b1_vm2");
	assert_non_null(vm);
	assert_int_equal(vm->min_bps, 0);
	assert_int_equal(vm->weight, 300);
	vm = daqs_config_vm(cfg, "ubuntu_20.04-clone1");
	assert_non_null(vm);
	assert_int_equal(vm->min_bps, 0);
	assert_int_equal(vm->weight, 200);
	/* its link is 40 Gbit/s: 20 fits, 15 would not */
	assert_int_equal(daqs_config_set_capacity(cfg, 40 * GBIT, "min_bw.ini",
						  err, sizeof(err)), 0);
	assert_int_equal(daqs_config_set_capacity(cfg, 15 * GBIT, "min_bw.ini",
						  err, sizeof(err)), -EINVAL);
	assert_string_equal(err,
		"min_bw.ini:2: min 20Gbit of vm 'b1_vm1' brings the minimums to 20Gbit, above the capacity 15Gbit");
	daqs_config_free(cfg);

	/* payments alone: weighted_share; no default_payment: weight 1 */
	write_file("defaults.ini", "[DEFAULT]\nHost_Interface: eth0\n");
	write_file("min_bw.ini", NULL);
	assert_int_equal(daqs_config_load_original(tmpdir, &cfg, err, sizeof(err)), 0);
	assert_int_equal(cfg->policy, DAQS_POLICY_WEIGHTED_SHARE);
	assert_int_equal(cfg->n_vms, 2);
	daqs_config_free(cfg);

	/* a VM only in min_bw.ini, no payments.ini: weight 1, no crash */
	write_file("payments.ini", NULL);
	write_file("min_bw.ini", "[DEFAULT]\nonly = 10\n");
	assert_int_equal(daqs_config_load_original(tmpdir, &cfg, err, sizeof(err)), 0);
	assert_int_equal(cfg->n_vms, 1);
	assert_int_equal(cfg->vms[0].weight, 1);
	assert_int_equal(cfg->vms[0].min_bps, 10 * GBIT);
	daqs_config_free(cfg);

	/* neither: fairshare; default.ini, the name in its repository */
	write_file("min_bw.ini", NULL);
	write_file("defaults.ini", NULL);
	write_file("default.ini", "[DEFAULT]\nhost_interface = eth9\n");
	assert_int_equal(daqs_config_load_original(tmpdir, &cfg, err, sizeof(err)), 0);
	assert_int_equal(cfg->policy, DAQS_POLICY_FAIRSHARE);
	assert_string_equal(cfg->link, "eth9");
	assert_int_equal(cfg->n_vms, 0);
	daqs_config_free(cfg);
	write_file("default.ini", NULL);

	assert_int_equal(daqs_config_load_original(tmpdir, &cfg, err, sizeof(err)),
			 -EINVAL);
	assert_true(strstr(err, "/defaults.ini: missing") != NULL);
}

static void test_original_malformed(void **state)
{
	static const struct {
		const char *defaults, *min_bw, *payments, *err;
	} cases[] = {
		{ "[DEFAULT]\n", NULL, NULL,
		  "defaults.ini: no 'host_interface' in [DEFAULT]" },
		{ "host_interface = eth0\n", NULL, NULL,
		  "defaults.ini:1: key 'host_interface' outside any section" },
		{ "[DEFAULT]\nhost_interface = eth0\nhost_iface = eth1\n", NULL, NULL,
		  "defaults.ini:3: unknown key 'host_iface' (host_interface, default_payment, host_base_directory or guest_base_directory)" },
		{ "[DEFAULT]\nhost_interface = eth0\ndefault_payment = lots\n", NULL, NULL,
		  "defaults.ini:3: invalid payment 'lots' for 'default_payment' (an integer from 1 to 1000000)" },
		{ "[default]\nhost_interface = eth0\n", NULL, NULL,
		  "defaults.ini:1: unknown section '[default]' (only [DEFAULT])" },
		{ "[DEFAULT]\nhost_interface = eth0\n", "[DEFAULT]\nb1_vm1 = 20.5\n", NULL,
		  "min_bw.ini:2: invalid minimum '20.5' for vm 'b1_vm1' (whole Gbit/s, e.g. 10)" },
		{ "[DEFAULT]\nhost_interface = eth0\n", "[DEFAULT]\nb1_vm1 = 20gbit\n", NULL,
		  "min_bw.ini:2: invalid minimum '20gbit' for vm 'b1_vm1' (whole Gbit/s, e.g. 10)" },
		{ "[DEFAULT]\nhost_interface = eth0\n", "[DEFAULT]\na = 1\nb = 2\na = 3\n", NULL,
		  "min_bw.ini:4: duplicate vm 'a' (first at line 2)" },
		{ "[DEFAULT]\nhost_interface = eth0\n", "[DEFAULT]\nmy vm = 1\n", NULL,
		  "min_bw.ini:2: invalid VM name 'my vm' (1..46 of A-Z a-z 0-9 . _ - + : @)" },
		{ "[DEFAULT]\nhost_interface = eth0\n", "[vms]\na = 1\n", NULL,
		  "min_bw.ini:1: unknown section '[vms]' (only [DEFAULT])" },
		{ "[DEFAULT]\nhost_interface = eth0\n", "[DEFAULT]\n[DEFAULT]\n", NULL,
		  "min_bw.ini:2: duplicate section '[DEFAULT]' (first at line 1)" },
		{ "[DEFAULT]\nhost_interface = eth0\n", "[DEFAULT]\na = 1\n",
		  "[DEFAULT]\na = -1\n",
		  "payments.ini:2: invalid payment '-1' for vm 'a' (an integer from 1 to 1000000)" },
		{ "[DEFAULT]\nhost_interface = eth0\n", "[DEFAULT]\na = 1\n",
		  "[DEFAULT]\na = 0\n",
		  "payments.ini:2: invalid payment '0' for vm 'a' (an integer from 1 to 1000000)" },
		{ "[DEFAULT]\nhost_interface = eth0\n", NULL, "[DEFAULT]\na\n",
		  "payments.ini:2: expected 'key = value' or '[section]', got 'a'" },
	};
	char err[DAQS_CONF_ERR_LEN];
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct daqs_original_files f = {
			.defaults = "defaults.ini",
			.min_bw = "min_bw.ini",
			.payments = "payments.ini",
			.defaults_buf = cases[i].defaults,
			.min_bw_buf = cases[i].min_bw,
			.payments_buf = cases[i].payments,
		};
		struct daqs_config *cfg = NULL;
		int ret;

		f.defaults_len = f.defaults_buf ? strlen(f.defaults_buf) : 0;
		f.min_bw_len = f.min_bw_buf ? strlen(f.min_bw_buf) : 0;
		f.payments_len = f.payments_buf ? strlen(f.payments_buf) : 0;
		ret = daqs_config_parse_original(&f, &cfg, err, sizeof(err));
		if (ret != -EINVAL || strcmp(err, cases[i].err))
			print_message("case %zu: %d\n  got  '%s'\n  want '%s'\n", i,
				      ret, err, cases[i].err);
		assert_int_equal(ret, -EINVAL);
		assert_string_equal(err, cases[i].err);
		assert_null(cfg);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_lenient_layout),
		cmocka_unit_test(test_capacity_from_link),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_malformed_bytes),
		cmocka_unit_test(test_load_file),
		cmocka_unit_test(test_original),
		cmocka_unit_test(test_original_malformed),
	};

	return cmocka_run_group_tests(tests, make_tmpdir, remove_tmpdir);
}
