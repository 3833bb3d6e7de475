// SPDX-License-Identifier: GPL-2.0 OR MIT
/* The records of daqsd's control socket (daqsd/ctlproto.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "ctlproto.h"

static void test_roundtrip(void **state)
{
	struct daqs_ctl_buf b = { 0 };
	struct daqs_ctl_rec rec;
	uint64_t v;
	char *line;

	(void)state;
	daqs_ctl_begin(&b, "vm");
	daqs_ctl_str(&b, "name", "web 1\t%=\xc3\xa9\n");
	daqs_ctl_u64(&b, "rate_bps", UINT64_MAX);
	daqs_ctl_bool(&b, "connected", true);
	daqs_ctl_str(&b, "empty", "");
	daqs_ctl_end(&b);
	assert_false(b.failed);
	assert_string_equal(b.p,
			    "vm\tname=web%201%09%25=%C3%A9%0A\trate_bps=18446744073709551615\tconnected=yes\tempty=\n");
	/* one line: no TAB, LF or space inside a value */
	line = b.p;
	line[strlen(line) - 1] = '\0';
	assert_int_equal(daqs_ctl_parse(line, &rec), 0);
	assert_string_equal(rec.kind, "vm");
	assert_int_equal(rec.n, 4);
	assert_string_equal(daqs_ctl_get(&rec, "name"), "web 1\t%=\xc3\xa9\n");
	assert_int_equal(daqs_ctl_get_u64(&rec, "rate_bps", &v), 0);
	assert_int_equal(v, UINT64_MAX);
	assert_string_equal(daqs_ctl_get(&rec, "connected"), "yes");
	assert_string_equal(daqs_ctl_get(&rec, "empty"), "");
	assert_null(daqs_ctl_get(&rec, "nope"));
	assert_int_equal(daqs_ctl_get_u64(&rec, "name", &v), -1);
	assert_int_equal(daqs_ctl_get_u64(&rec, "empty", &v), -1);
	daqs_ctl_buf_free(&b);
}

static void test_bad_lines(void **state)
{
	static const char *const bad[] = {
		"",			/* no kind */
		"Vm",			/* not a key */
		"vm\tname",		/* no '=' */
		"vm\t=x",		/* no key */
		"vm\tname=%4",		/* short escape */
		"vm\tname=%4g",		/* not hex */
		"vm\tname=%00",		/* a NUL */
		"vm\tname=%4a",		/* lower-case hex */
		"vm\tna-me=1",		/* key characters */
	};
	struct daqs_ctl_rec rec;
	char line[256];
	size_t i;
	uint64_t v;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(line, sizeof(line), "%s", bad[i]);
		if (!daqs_ctl_parse(line, &rec))
			fail_msg("'%s' parsed", bad[i]);
	}
	snprintf(line, sizeof(line), "end");
	assert_int_equal(daqs_ctl_parse(line, &rec), 0);
	assert_string_equal(rec.kind, "end");
	assert_int_equal(rec.n, 0);
	snprintf(line, sizeof(line), "vm\tx=18446744073709551616");
	assert_int_equal(daqs_ctl_parse(line, &rec), 0);
	assert_int_equal(daqs_ctl_get_u64(&rec, "x", &v), -1);
}

static void test_too_many_fields(void **state)
{
	struct daqs_ctl_buf b = { 0 };
	struct daqs_ctl_rec rec;
	char key[16];
	int i;

	(void)state;
	daqs_ctl_begin(&b, "vm");
	for (i = 0; i <= DAQS_CTL_FIELDS_MAX; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		daqs_ctl_u64(&b, key, (uint64_t)i);
	}
	assert_int_equal(daqs_ctl_parse(b.p, &rec), -1);
	daqs_ctl_buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_bad_lines),
		cmocka_unit_test(test_too_many_fields),
	};

	return cmocka_run_group_tests_name("ctlproto", tests, NULL, NULL);
}
