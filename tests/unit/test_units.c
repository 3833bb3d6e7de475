// SPDX-License-Identifier: GPL-2.0 OR MIT
/* daqsd/units.c: every unit, the edges of 64 bits, and every way to be wrong. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "units.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

struct num_case {
	const char *in;
	int ret;
	uint64_t out;
};

static void run_cases(const struct num_case *c, size_t n,
		      int (*parse)(const char *, uint64_t *))
{
	size_t i;

	for (i = 0; i < n; i++) {
		uint64_t v = 0xdeadbeef;
		int ret = parse(c[i].in, &v);

		/* name the case that fails; cmocka shows only the numbers */
		if (ret != c[i].ret || (!ret && v != c[i].out))
			print_message("case '%s': got %d, %llu\n",
				      c[i].in ? c[i].in : "(null)", ret,
				      (unsigned long long)v);
		assert_int_equal(ret, c[i].ret);
		if (ret == 0)
			assert_int_equal(v, c[i].out);
		else
			assert_int_equal(v, 0xdeadbeef);	/* untouched */
	}
}

static void test_rate(void **state)
{
	static const struct num_case cases[] = {
		/* a bare number is bit/s */
		{ "0", 0, 0 },
		{ "1", 0, 1 },
		{ "1000000", 0, 1000000 },
		/* decimal SI bits */
		{ "1bit", 0, 1 },
		{ "1kbit", 0, 1000ULL },
		{ "1mbit", 0, 1000000ULL },
		{ "1gbit", 0, 1000000000ULL },
		{ "1tbit", 0, 1000000000000ULL },
		{ "200mbit", 0, 200000000ULL },
		{ "200Mbit", 0, 200000000ULL },
		{ "200MBIT", 0, 200000000ULL },
		/* bytes per second, as in tc */
		{ "1bps", 0, 8 },
		{ "1kbps", 0, 8000ULL },
		{ "1mbps", 0, 8000000ULL },
		{ "1gbps", 0, 8000000000ULL },
		{ "1tbps", 0, 8000000000000ULL },
		{ "10mbps", 0, 80000000ULL },
		/* exact fractions */
		{ "1.5mbit", 0, 1500000ULL },
		{ "0.001kbit", 0, 1 },
		{ "1.000000000000000000000000mbit", 0, 1000000ULL },
		{ "0.125bps", 0, 1 },
		{ "007mbit", 0, 7000000ULL },
		{ "1.5bit", -EDOM, 0 },
		{ "0.0001kbit", -EDOM, 0 },
		{ "0.1bps", -EDOM, 0 },
		{ "1.00000000000000000001tbit", -EDOM, 0 },
		/* the edges of 64 bits */
		{ "18446744073709551615", 0, UINT64_MAX },
		{ "18446744073709551615bit", 0, UINT64_MAX },
		{ "18446744073709551616bit", -ERANGE, 0 },
		{ "18446744073709551616", -ERANGE, 0 },
		{ "99999999999999999999999999mbit", -ERANGE, 0 },
		{ "18446744073709551kbit", 0, 18446744073709551000ULL },
		{ "18446744073709552kbit", -ERANGE, 0 },
		{ "18446744073709551.615kbit", 0, UINT64_MAX },
		{ "18446744073709551.616kbit", -ERANGE, 0 },
		{ "2305843009213693951bps", 0, 18446744073709551608ULL },
		{ "2305843009213693952bps", -ERANGE, 0 },
		/* not numbers */
		{ "", -EINVAL, 0 },
		{ NULL, -EINVAL, 0 },
		{ "-5mbit", -EINVAL, 0 },
		{ "+5mbit", -EINVAL, 0 },
		{ "5 mbit", -EINVAL, 0 },
		{ " 5mbit", -EINVAL, 0 },
		{ "5mbit ", -EINVAL, 0 },
		{ "5mbitx", -EINVAL, 0 },
		{ "20xbit", -EINVAL, 0 },
		{ "mbit", -EINVAL, 0 },
		{ "5.", -EINVAL, 0 },
		{ "5.mbit", -EINVAL, 0 },
		{ ".5mbit", -EINVAL, 0 },
		{ "1e6", -EINVAL, 0 },
		{ "0x10", -EINVAL, 0 },
		{ "5k", -EINVAL, 0 },	/* a size unit is not a rate */
		{ "5mb", -EINVAL, 0 },
		{ "1,5mbit", -EINVAL, 0 },
		{ "1..5mbit", -EINVAL, 0 },
		{ "18446744073709551616xbit", -EINVAL, 0 },	/* garbage wins */
	};

	(void)state;
	run_cases(cases, ARRAY_SIZE(cases), daqs_parse_rate);
}

static void test_size(void **state)
{
	static const struct num_case cases[] = {
		{ "0", 0, 0 },
		{ "1500", 0, 1500 },
		{ "1500b", 0, 1500 },
		{ "1500B", 0, 1500 },
		/* binary, as in tc */
		{ "1k", 0, 1024 },
		{ "64k", 0, 65536 },
		{ "64kb", 0, 65536 },
		{ "64KiB", 0, 65536 },
		{ "64K", 0, 65536 },
		{ "1m", 0, 1048576 },
		{ "1mb", 0, 1048576 },
		{ "1MiB", 0, 1048576 },
		{ "1g", 0, 1073741824ULL },
		{ "1gb", 0, 1073741824ULL },
		{ "1GiB", 0, 1073741824ULL },
		{ "1.5k", 0, 1536 },
		{ "0.5m", 0, 524288 },
		{ "0.5b", -EDOM, 0 },
		{ "1.0001k", -EDOM, 0 },
		{ "17179869183g", 0, UINT64_MAX - (1ULL << 30) + 1 },
		{ "17179869184g", -ERANGE, 0 },
		{ "18446744073709551615", 0, UINT64_MAX },
		{ "18446744073709551616", -ERANGE, 0 },
		{ "", -EINVAL, 0 },
		{ "-1k", -EINVAL, 0 },
		{ "64 k", -EINVAL, 0 },
		{ "64kx", -EINVAL, 0 },
		{ "k", -EINVAL, 0 },
		{ "64kbit", -EINVAL, 0 },
		{ "64t", -EINVAL, 0 },
	};

	(void)state;
	run_cases(cases, ARRAY_SIZE(cases), daqs_parse_size);
}

static int parse_us(const char *s, uint64_t *out)
{
	return daqs_parse_time(s, 1000, out);
}

static int parse_ms(const char *s, uint64_t *out)
{
	return daqs_parse_time(s, 1000000, out);
}

static void test_time_us(void **state)
{
	static const struct num_case cases[] = {
		{ "0", 0, 0 },
		{ "0.0", 0, 0 },
		{ "0s", 0, 0 },
		{ "1s", 0, 1000000 },
		{ "1sec", 0, 1000000 },
		{ "50ms", 0, 50000 },
		{ "50msec", 0, 50000 },
		{ "50MS", 0, 50000 },
		{ "500us", 0, 500 },
		{ "500usec", 0, 500 },
		{ "1000ns", 0, 1 },
		{ "1.5ms", 0, 1500 },
		{ "0.000001s", 0, 1 },
		{ "1.5us", -EDOM, 0 },
		{ "1ns", -EDOM, 0 },
		{ "0.0000001s", -EDOM, 0 },
		/* a unit is required: tc reads 50 as microseconds, people as ms */
		{ "50", -EINVAL, 0 },
		{ "1.5", -EINVAL, 0 },
		{ "", -EINVAL, 0 },
		{ "-1ms", -EINVAL, 0 },
		{ "5 ms", -EINVAL, 0 },
		{ "5msx", -EINVAL, 0 },
		{ "ms", -EINVAL, 0 },
		{ "5m", -EINVAL, 0 },	/* minutes? megabytes? refused */
		{ "5h", -EINVAL, 0 },
		{ "18446744073709551615ns", -EDOM, 0 },
		{ "18446744073709551000ns", 0, 18446744073709551ULL },
		{ "18446744074s", -ERANGE, 0 },
	};

	(void)state;
	run_cases(cases, ARRAY_SIZE(cases), parse_us);
}

static void test_time_ms(void **state)
{
	static const struct num_case cases[] = {
		{ "0", 0, 0 },
		{ "2s", 0, 2000 },
		{ "10ms", 0, 10 },
		{ "1.5s", 0, 1500 },
		{ "0.001s", 0, 1 },
		{ "1500000us", 0, 1500 },
		{ "1500us", -EDOM, 0 },
		{ "0.0005s", -EDOM, 0 },
		{ "3600s", 0, 3600000 },
		{ "2", -EINVAL, 0 },
	};

	(void)state;
	run_cases(cases, ARRAY_SIZE(cases), parse_ms);
	/* a zero resolution is a caller bug, not a division by zero */
	{
		uint64_t v;

		assert_int_equal(daqs_parse_time("1s", 0, &v), -EINVAL);
	}
}

static void test_mac(void **state)
{
	static const struct {
		const char *in;
		int ret;
		uint8_t mac[6];
	} cases[] = {
		{ "52:54:00:12:34:56", 0, { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 } },
		{ "AA:bb:Cc:dD:ee:FF", 0, { 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff } },
		{ "00:00:00:00:00:00", 0, { 0 } },
		{ "", -EINVAL, { 0 } },
		{ "52:54:00:12:34", -EINVAL, { 0 } },
		{ "52:54:00:12:34:5", -EINVAL, { 0 } },
		{ "52:54:00:12:34:567", -EINVAL, { 0 } },
		{ "52:54:00:12:34:56:", -EINVAL, { 0 } },
		{ "52:54:00:12:34:56:78", -EINVAL, { 0 } },
		{ "52-54-00-12-34-56", -EINVAL, { 0 } },
		{ "5:54:00:12:34:56", -EINVAL, { 0 } },
		{ "zz:54:00:12:34:56", -EINVAL, { 0 } },
		{ "525400123456", -EINVAL, { 0 } },
		{ " 52:54:00:12:34:56", -EINVAL, { 0 } },
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		uint8_t mac[6] = { 1, 2, 3, 4, 5, 6 };
		static const uint8_t untouched[6] = { 1, 2, 3, 4, 5, 6 };

		if (daqs_parse_mac(cases[i].in, mac) != cases[i].ret)
			print_message("case '%s'\n", cases[i].in);
		assert_int_equal(daqs_parse_mac(cases[i].in, mac), cases[i].ret);
		assert_memory_equal(mac, cases[i].ret ? untouched : cases[i].mac, 6);
	}
	assert_int_equal(daqs_parse_mac(NULL, NULL), -EINVAL);
}

static void test_format_rate(void **state)
{
	static const struct {
		uint64_t v;
		const char *out;
	} cases[] = {
		{ 0, "0bit" },
		{ 1, "1bit" },
		{ 999, "999bit" },
		{ 1000, "1Kbit" },
		{ 1500, "1.5Kbit" },
		{ 1001, "1.001Kbit" },
		{ 10000000, "10Mbit" },
		{ 200000000, "200Mbit" },
		{ 123456789, "123.456789Mbit" },
		{ 1000000001, "1.000000001Gbit" },
		{ 1000000000000ULL, "1Tbit" },
		{ 40000000000000ULL, "40Tbit" },
		{ UINT64_MAX, "18446744.073709551615Tbit" },
	};
	char buf[DAQS_FMT_LEN];
	uint64_t back;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		assert_string_equal(daqs_format_rate(buf, sizeof(buf), cases[i].v),
				    cases[i].out);
		/* what is printed reads back as the same value */
		assert_int_equal(daqs_parse_rate(buf, &back), 0);
		assert_int_equal(back, cases[i].v);
	}
}

static void test_format_size(void **state)
{
	static const struct {
		uint64_t v;
		const char *out;
	} cases[] = {
		{ 0, "0B" },
		{ 1, "1B" },
		{ 1000, "1000B" },
		{ 1024, "1KiB" },
		{ 1536, "1536B" },
		{ 65536, "64KiB" },
		{ 3 << 20, "3MiB" },
		{ 1ULL << 30, "1GiB" },
		{ 5ULL << 30, "5GiB" },
		{ UINT32_MAX, "4294967295B" },
	};
	char buf[DAQS_FMT_LEN];
	uint64_t back;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		assert_string_equal(daqs_format_size(buf, sizeof(buf), cases[i].v),
				    cases[i].out);
		assert_int_equal(daqs_parse_size(buf, &back), 0);
		assert_int_equal(back, cases[i].v);
	}
}

static void test_format_time(void **state)
{
	static const struct {
		uint32_t v, unit_ns;
		const char *out;
	} cases[] = {
		{ 0, 1000, "0s" },
		{ 1, 1000, "1us" },
		{ 999, 1000, "999us" },
		{ 1000, 1000, "1ms" },
		{ 1500, 1000, "1.5ms" },
		{ 50000, 1000, "50ms" },
		{ 1000000, 1000, "1s" },
		{ 1000001, 1000, "1.000001s" },
		{ 0, 1000000, "0s" },
		{ 1, 1000000, "1ms" },
		{ 1500, 1000000, "1.5s" },
		{ 2000, 1000000, "2s" },
		{ 3600000, 1000000, "3600s" },
		{ UINT32_MAX, 1000000, "4294967.295s" },
		{ UINT32_MAX, 1000000000, "4294967295s" },
	};
	char buf[DAQS_FMT_LEN];
	uint64_t back;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		assert_string_equal(daqs_format_time(buf, sizeof(buf), cases[i].v,
						     cases[i].unit_ns),
				    cases[i].out);
		assert_int_equal(daqs_parse_time(buf, cases[i].unit_ns, &back), 0);
		assert_int_equal(back, cases[i].v);
	}
}

static void test_format_mac(void **state)
{
	static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0xab, 0xCD, 0xff };
	char buf[DAQS_FMT_LEN];

	(void)state;
	assert_string_equal(daqs_format_mac(buf, sizeof(buf), mac),
			    "52:54:00:ab:cd:ff");
}

static void test_format_truncates(void **state)
{
	char buf[4];

	(void)state;
	/* a short buffer gets a terminated prefix, never an overrun */
	assert_string_equal(daqs_format_rate(buf, sizeof(buf), 200000000), "200");
	assert_string_equal(daqs_format_size(buf, sizeof(buf), 65536), "64K");
	assert_string_equal(daqs_format_time(buf, sizeof(buf), 1500, 1000), "1.5");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rate),
		cmocka_unit_test(test_size),
		cmocka_unit_test(test_time_us),
		cmocka_unit_test(test_time_ms),
		cmocka_unit_test(test_mac),
		cmocka_unit_test(test_format_rate),
		cmocka_unit_test(test_format_size),
		cmocka_unit_test(test_format_time),
		cmocka_unit_test(test_format_mac),
		cmocka_unit_test(test_format_truncates),
	};

	return cmocka_run_group_tests_name("units", tests, NULL, NULL);
}
