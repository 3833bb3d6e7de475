// SPDX-License-Identifier: GPL-2.0 OR MIT
/* daqsd/daqsctl_format.c: show and monitor output, pretty and JSON. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "daqsctl.h"
#include "json_check.h"

#define BIT(a) (1ULL << (a))
#define ALL_STATS 0xffeU	/* DAQS_STATS_A_TIMESTAMP_NS..QUEUED */

static struct daqs_binding_info full(void)
{
	struct daqs_binding_info b = {
		.present = BIT(DAQS_A_IFINDEX) | BIT(DAQS_A_IFNAME) |
			   BIT(DAQS_A_MAC) | BIT(DAQS_A_STATE) |
			   BIT(DAQS_A_RATE_BPS) | BIT(DAQS_A_BURST_BYTES) |
			   BIT(DAQS_A_MODE) | BIT(DAQS_A_QLIMIT_US) |
			   BIT(DAQS_A_LEASE_MS) | BIT(DAQS_A_FALLBACK_BPS) |
			   BIT(DAQS_A_LEASE_LEFT_MS) | BIT(DAQS_A_LEASE_STATE) |
			   BIT(DAQS_A_SET_RATE_BPS) | BIT(DAQS_A_STATS),
		.ifindex = 2,
		.ifname = "eth0",
		.mac = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 },
		.state = DAQS_STATE_ATTACHED,
		.rate_bps = 200000000ULL,
		.burst_bytes = 65536,
		.mode = DAQS_MODE_SHAPE,
		.qlimit_us = 50000,
		.lease_ms = 2000,
		.fallback_bps = 10000000ULL,
		.lease_left_ms = 1500,
		.lease_state = DAQS_LEASE_ACTIVE,
		.set_rate_bps = 200000000ULL,
		.stats = {
			.present = ALL_STATS,
			.timestamp_ns = 123456789012ULL,
			.tx_bytes = 1500,
			.tx_packets = 1,
			.tx_wire_bytes = 1566,
			.tx_wire_packets = 2,
			.drops_police = 3,
			.drops_qlimit = 4,
			.drops_detach = 5,
			.throttled = 6,
			.tokens = -1200,
			.queued = 7,
		},
	};

	return b;
}

static const char full_pretty[] =
	"dev eth0 mac 52:54:00:12:34:56 ifindex 2 state attached\n"
	"  rate 200Mbit burst 64KiB mode shape qlimit 50ms\n"
	"  lease 2s fallback 10Mbit lease-state active lease-left 1.5s set-rate 200Mbit\n"
	"  tx-bytes 1500 tx-packets 1 tx-wire-bytes 1566 tx-wire-packets 2\n"
	"  drops-police 3 drops-qlimit 4 drops-detach 5 throttled 6 tokens -1200 queued 7\n";

static const char full_json[] =
	"{\"ifindex\":2,\"ifname\":\"eth0\",\"mac\":\"52:54:00:12:34:56\","
	"\"state\":\"attached\",\"rate_bps\":200000000,\"burst_bytes\":65536,"
	"\"mode\":\"shape\",\"qlimit_us\":50000,\"lease_ms\":2000,"
	"\"fallback_bps\":10000000,\"lease_left_ms\":1500,"
	"\"lease_state\":\"active\",\"set_rate_bps\":200000000,"
	"\"stats\":{\"timestamp_ns\":123456789012,\"tx_bytes\":1500,"
	"\"tx_packets\":1,\"tx_wire_bytes\":1566,\"tx_wire_packets\":2,"
	"\"drops_police\":3,\"drops_qlimit\":4,\"drops_detach\":5,"
	"\"throttled\":6,\"tokens\":-1200,\"queued\":7}}";

/* the output of one formatter call, as a string to free */
struct capture {
	char *buf;
	size_t len;
	FILE *f;
};

static FILE *capture_start(struct capture *c)
{
	c->buf = NULL;
	c->len = 0;
	c->f = open_memstream(&c->buf, &c->len);
	assert_non_null(c->f);
	return c->f;
}

static char *capture_end(struct capture *c)
{
	assert_int_equal(fclose(c->f), 0);
	return c->buf;
}

static char *binding(const struct daqs_binding_info *b, bool json)
{
	struct capture c;

	daqsctl_format_binding(capture_start(&c), b, json);
	return capture_end(&c);
}

static char *event(const struct daqs_binding_info *b, bool json)
{
	struct capture c;

	daqsctl_format_event(capture_start(&c), b, json);
	return capture_end(&c);
}

static char *bindings(const struct daqs_binding_info *b, size_t n, bool json)
{
	struct capture c;

	daqsctl_format_bindings(capture_start(&c), b, n, json);
	return capture_end(&c);
}

static void test_show_pretty(void **state)
{
	struct daqs_binding_info b = full();
	char *out = binding(&b, false);

	(void)state;
	assert_string_equal(out, full_pretty);
	free(out);
}

static void test_show_json(void **state)
{
	struct daqs_binding_info b = full();
	char *out = binding(&b, true);

	(void)state;
	assert_string_equal(out, full_json);
	assert_true(json_valid(out));
	free(out);
}

static void test_show_absent_no_lease(void **state)
{
	struct daqs_binding_info b = full();
	char *out;

	(void)state;
	b.ifindex = 0;
	b.state = DAQS_STATE_ABSENT;
	b.rate_bps = 0;
	b.mode = DAQS_MODE_POLICE;
	b.burst_bytes = 1000;
	b.lease_ms = 0;
	b.lease_left_ms = 0;
	b.lease_state = DAQS_LEASE_NONE;
	b.fallback_bps = 0;
	b.set_rate_bps = 0;
	b.stats.tokens = 1000;
	b.stats.queued = 0;
	out = binding(&b, false);
	assert_string_equal(out,
		"dev eth0 mac 52:54:00:12:34:56 ifindex 0 state absent\n"
		"  rate 0bit burst 1000B mode police qlimit 50ms\n"
		"  lease none\n"
		"  tx-bytes 1500 tx-packets 1 tx-wire-bytes 1566 tx-wire-packets 2\n"
		"  drops-police 3 drops-qlimit 4 drops-detach 5 throttled 6 tokens 1000 queued 0\n");
	free(out);

	/* JSON says "no lease" with the numbers themselves */
	out = binding(&b, true);
	assert_true(json_valid(out));
	assert_non_null(strstr(out, "\"ifindex\":0,"));
	assert_non_null(strstr(out, "\"state\":\"absent\","));
	assert_non_null(strstr(out, "\"lease_ms\":0,\"fallback_bps\":0,"
				    "\"lease_left_ms\":0,\"lease_state\":\"none\","));
	free(out);
}

static void test_show_expired_lease(void **state)
{
	struct daqs_binding_info b = full();
	char *out;

	(void)state;
	b.lease_state = DAQS_LEASE_EXPIRED;
	b.lease_left_ms = 0;
	b.rate_bps = b.fallback_bps;
	b.present &= ~BIT(DAQS_A_STATS);
	out = binding(&b, false);
	assert_string_equal(out,
		"dev eth0 mac 52:54:00:12:34:56 ifindex 2 state attached\n"
		"  rate 10Mbit burst 64KiB mode shape qlimit 50ms\n"
		"  lease 2s fallback 10Mbit lease-state expired lease-left 0s set-rate 200Mbit\n");
	free(out);
}

static void test_show_missing_attrs(void **state)
{
	struct daqs_binding_info b = { 0 };
	char *out;

	(void)state;
	/* an older or newer kernel may leave things out: so does the output */
	b.present = BIT(DAQS_A_IFNAME) | BIT(DAQS_A_RATE_BPS) | BIT(DAQS_A_STATS);
	strcpy(b.ifname, "veth1");
	b.rate_bps = 1500000;
	b.stats.present = BIT(DAQS_STATS_A_TX_BYTES);
	b.stats.tx_bytes = 42;
	out = binding(&b, false);
	assert_string_equal(out, "dev veth1\n  rate 1.5Mbit\n  tx-bytes 42\n");
	free(out);
	out = binding(&b, true);
	assert_string_equal(out, "{\"ifname\":\"veth1\",\"rate_bps\":1500000,"
				 "\"stats\":{\"tx_bytes\":42}}");
	assert_true(json_valid(out));
	free(out);

	/* nothing at all is still valid JSON */
	memset(&b, 0, sizeof(b));
	out = binding(&b, true);
	assert_string_equal(out, "{}");
	free(out);
	b.present = BIT(DAQS_A_STATS);
	out = binding(&b, true);
	assert_string_equal(out, "{\"stats\":{}}");
	free(out);
}

static void test_unknown_enums(void **state)
{
	struct daqs_binding_info b = full();
	char *out;

	(void)state;
	b.state = 7;
	b.mode = 9;
	b.lease_state = 200;
	b.present &= ~BIT(DAQS_A_STATS);
	out = binding(&b, false);
	assert_non_null(strstr(out, " state unknown(7)\n"));
	assert_non_null(strstr(out, " mode unknown(9) "));
	assert_non_null(strstr(out, " lease-state unknown(200) "));
	free(out);
	out = binding(&b, true);
	assert_true(json_valid(out));
	assert_non_null(strstr(out, "\"state\":7,"));
	assert_non_null(strstr(out, "\"mode\":9,"));
	assert_non_null(strstr(out, "\"lease_state\":200,"));
	free(out);
	assert_null(daqsctl_event_name(DAQS_EVENT_UNSPEC));
	assert_null(daqsctl_event_name(__DAQS_EVENT_MAX));
	assert_string_equal(daqsctl_event_name(DAQS_EVENT_DEVICE_BACK),
			    "device_back");
}

static void test_json_escaping(void **state)
{
	struct daqs_binding_info b = { 0 };
	char *out;

	(void)state;
	/* interface names may hold quotes, backslashes and control bytes */
	b.present = BIT(DAQS_A_IFNAME);
	strcpy(b.ifname, "a\"b\\c\001d\xe9");
	out = binding(&b, true);
	assert_string_equal(out, "{\"ifname\":\"a\\\"b\\\\c\\u0001d\\u00e9\"}");
	assert_true(json_valid(out));
	free(out);
}

static void test_u64_extremes(void **state)
{
	struct daqs_binding_info b = full();
	char *out;

	(void)state;
	b.rate_bps = UINT64_MAX;
	b.stats.tx_bytes = UINT64_MAX;
	b.stats.tokens = INT64_MIN;
	out = binding(&b, true);
	assert_true(json_valid(out));
	assert_non_null(strstr(out, "\"rate_bps\":18446744073709551615,"));
	assert_non_null(strstr(out, "\"tx_bytes\":18446744073709551615,"));
	assert_non_null(strstr(out, "\"tokens\":-9223372036854775808,"));
	free(out);
	out = binding(&b, false);
	assert_non_null(strstr(out, "rate 18446744.073709551615Tbit "));
	free(out);
}

static void test_show_list(void **state)
{
	struct daqs_binding_info v[2] = { full(), full() };
	char *out, *want;

	(void)state;
	strcpy(v[1].ifname, "eth1");
	v[1].ifindex = 3;

	out = bindings(v, 0, false);
	assert_string_equal(out, "");
	free(out);
	out = bindings(v, 0, true);
	assert_string_equal(out, "[]\n");
	assert_true(json_valid(out));
	free(out);

	/* pretty: blocks separated by one blank line, as wg show does */
	out = bindings(v, 2, false);
	want = malloc(2 * sizeof(full_pretty) + 8);
	assert_non_null(want);
	strcpy(want, full_pretty);
	strcat(want, "\n");
	strcat(want, full_pretty);
	memcpy(strstr(want + sizeof(full_pretty), "eth0"), "eth1", 4);
	memcpy(strstr(want + sizeof(full_pretty), "ifindex 2"), "ifindex 3", 9);
	assert_string_equal(out, want);
	free(want);
	free(out);

	out = bindings(v, 2, true);
	assert_true(json_valid(out));
	assert_int_equal(out[0], '[');
	assert_int_equal(strncmp(out + 1, full_json, sizeof(full_json) - 1), 0);
	assert_string_equal(out + strlen(out) - 3, "}]\n");
	assert_non_null(strstr(out, "}},{\"ifindex\":3,\"ifname\":\"eth1\""));
	free(out);
}

static void test_event_pretty(void **state)
{
	struct daqs_binding_info b = full();
	char *out;

	(void)state;
	b.present &= ~BIT(DAQS_A_STATS);	/* events carry no stats */
	b.present |= BIT(DAQS_A_EVENT);
	b.event = DAQS_EVENT_LIMIT_CHANGED;
	out = event(&b, false);
	assert_string_equal(out,
		"event limit_changed dev eth0 mac 52:54:00:12:34:56 ifindex 2 "
		"state attached rate 200Mbit burst 64KiB mode shape qlimit 50ms "
		"lease 2s fallback 10Mbit lease-state active lease-left 1.5s "
		"set-rate 200Mbit\n");
	free(out);
}

static void test_event_json(void **state)
{
	struct daqs_binding_info b = full();
	char *out;

	(void)state;
	/* even if stats came along, an event line does not show them */
	b.present |= BIT(DAQS_A_EVENT);
	b.event = DAQS_EVENT_DEVICE_GONE;
	b.state = DAQS_STATE_ABSENT;
	b.ifindex = 0;
	out = event(&b, true);
	assert_string_equal(out,
		"{\"event\":\"device_gone\",\"ifindex\":0,\"ifname\":\"eth0\","
		"\"mac\":\"52:54:00:12:34:56\",\"state\":\"absent\","
		"\"rate_bps\":200000000,\"burst_bytes\":65536,\"mode\":\"shape\","
		"\"qlimit_us\":50000,\"lease_ms\":2000,\"fallback_bps\":10000000,"
		"\"lease_left_ms\":1500,\"lease_state\":\"active\","
		"\"set_rate_bps\":200000000}\n");
	/* one line, ending in a newline */
	assert_ptr_equal(strchr(out, '\n'), out + strlen(out) - 1);
	out[strlen(out) - 1] = '\0';
	assert_true(json_valid(out));
	free(out);
}

static void test_event_names(void **state)
{
	static const struct {
		unsigned int ev;
		const char *line;
	} cases[] = {
		{ DAQS_EVENT_ATTACHED, "event attached dev x\n" },
		{ DAQS_EVENT_DETACHED, "event detached dev x\n" },
		{ DAQS_EVENT_LIMIT_CHANGED, "event limit_changed dev x\n" },
		{ DAQS_EVENT_LEASE_EXPIRED, "event lease_expired dev x\n" },
		{ DAQS_EVENT_DEVICE_GONE, "event device_gone dev x\n" },
		{ DAQS_EVENT_DEVICE_BACK, "event device_back dev x\n" },
		{ 99, "event unknown(99) dev x\n" },
	};
	struct daqs_binding_info b = { 0 };
	size_t i;
	char *out;

	(void)state;
	b.present = BIT(DAQS_A_EVENT) | BIT(DAQS_A_IFNAME);
	strcpy(b.ifname, "x");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		b.event = (uint8_t)cases[i].ev;
		out = event(&b, false);
		assert_string_equal(out, cases[i].line);
		free(out);
	}
	b.event = 99;
	out = event(&b, true);
	assert_string_equal(out, "{\"event\":99,\"ifname\":\"x\"}\n");
	free(out);
}

static void test_sort(void **state)
{
	struct daqs_binding_info v[6] = { full(), full(), full(), full(),
					  full(), full() };
	size_t i;

	(void)state;
	strcpy(v[0].ifname, "veth1");
	strcpy(v[1].ifname, "eth0");
	v[1].mac[5] = 0x57;
	strcpy(v[2].ifname, "eth0");
	strcpy(v[3].ifname, "a");
	strcpy(v[4].ifname, "eth10");
	strcpy(v[5].ifname, "eth2");
	qsort(v, 6, sizeof(v[0]), daqsctl_binding_cmp);
	assert_string_equal(v[0].ifname, "a");
	assert_string_equal(v[1].ifname, "eth0");
	assert_int_equal(v[1].mac[5], 0x56);
	assert_string_equal(v[2].ifname, "eth0");
	assert_int_equal(v[2].mac[5], 0x57);
	/* numbers in names in numeric order, as a person reads them */
	assert_string_equal(v[3].ifname, "eth2");
	assert_string_equal(v[4].ifname, "eth10");
	assert_string_equal(v[5].ifname, "veth1");
	for (i = 0; i < 5; i++)
		assert_true(daqsctl_binding_cmp(&v[i], &v[i + 1]) < 0);
}

static void test_json_checker(void **state)
{
	(void)state;
	/* the checker itself must say no, or the checks above prove nothing */
	assert_true(json_valid("{\"a\":[1,-2.5e3,true,false,null,\"x\\n\"]}"));
	assert_true(json_valid(" [] \n"));
	assert_false(json_valid("{\"a\":1,}"));
	assert_false(json_valid("{\"a\" 1}"));
	assert_false(json_valid("[1,]"));
	assert_false(json_valid("{a:1}"));
	assert_false(json_valid("\"unterminated"));
	assert_false(json_valid("\"tab\there\""));
	assert_false(json_valid("01"));
	assert_false(json_valid("1."));
	assert_false(json_valid("{} {}"));
	assert_false(json_valid(""));
	assert_false(json_valid("{\"a\":\"\\x\"}"));
	assert_false(json_valid(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_checker),
		cmocka_unit_test(test_show_pretty),
		cmocka_unit_test(test_show_json),
		cmocka_unit_test(test_show_absent_no_lease),
		cmocka_unit_test(test_show_expired_lease),
		cmocka_unit_test(test_show_missing_attrs),
		cmocka_unit_test(test_unknown_enums),
		cmocka_unit_test(test_json_escaping),
		cmocka_unit_test(test_u64_extremes),
		cmocka_unit_test(test_show_list),
		cmocka_unit_test(test_event_pretty),
		cmocka_unit_test(test_event_json),
		cmocka_unit_test(test_event_names),
		cmocka_unit_test(test_sort),
	};

	return cmocka_run_group_tests_name("daqsctl_format", tests, NULL, NULL);
}
