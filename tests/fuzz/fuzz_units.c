// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * libFuzzer target for daqsd/units.c: the rates, sizes, times and MAC
 * addresses that people type (daqsctl's arguments, daqsd.conf's values).
 *
 * The input up to its first NUL is the text; its first byte also picks the
 * time resolution and the size of the buffers the printers get. Each
 * parser is checked against a reference written here another way (128-bit
 * arithmetic instead of a gcd, the units listed again from units.h), and
 * every value it accepts must print and parse back to itself; a value it
 * refuses must leave the output untouched. The printers must fit and
 * terminate any buffer they are given.
 * Seeds: tests/fuzz/corpus/units/.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "units.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define TEXT_MAX 128
#define UNTOUCHED 0x5a5a5a5a5a5a5a5aULL

typedef unsigned __int128 u128;

struct ref_unit {
	const char *name;
	uint64_t mult;
};

/* the tables as units.h documents them */
static const struct ref_unit ref_rate[] = {
	{ "bit", 1 }, { "kbit", 1000 }, { "mbit", 1000000 },
	{ "gbit", 1000000000 }, { "tbit", 1000000000000 },
	{ "bps", 8 }, { "kbps", 8000 }, { "mbps", 8000000 },
	{ "gbps", 8000000000 }, { "tbps", 8000000000000 },
};

static const struct ref_unit ref_size[] = {
	{ "b", 1 }, { "k", 1 << 10 }, { "kb", 1 << 10 }, { "kib", 1 << 10 },
	{ "m", 1 << 20 }, { "mb", 1 << 20 }, { "mib", 1 << 20 },
	{ "g", 1 << 30 }, { "gb", 1 << 30 }, { "gib", 1 << 30 },
};

static const struct ref_unit ref_time[] = {
	{ "s", 1000000000 }, { "sec", 1000000000 }, { "ms", 1000000 },
	{ "msec", 1000000 }, { "us", 1000 }, { "usec", 1000 }, { "ns", 1 },
	{ "nsec", 1 },
};

static bool digit(char c)
{
	return c >= '0' && c <= '9';
}

/*
 * DIGITS [. DIGITS] [UNIT] by the grammar of units.h, the value computed in
 * 128 bits. bare: the multiplier without a unit (0: only a plain zero).
 * The order of the errors is units.c's: syntax and unit first, then an
 * integer part over 64 bits, then a fraction finer than the resolution,
 * then a product over 64 bits.
 */
static int ref_parse(const char *s, const struct ref_unit *u, size_t n,
		     uint64_t bare, uint64_t *out)
{
	const char *p = s, *f = NULL, *fe = NULL;
	u128 ip = 0, fp = 0, pow = 1, v;
	bool big = false;
	uint64_t mult = 0;
	size_t i;

	if (!digit(*p))
		return -EINVAL;
	for (; digit(*p); p++) {
		ip = ip * 10 + (u128)(*p - '0');
		if (ip > UINT64_MAX) {
			big = true;
			ip = (u128)UINT64_MAX + 1;	/* stays over, never wraps */
		}
	}
	if (*p == '.') {
		f = ++p;
		if (!digit(*p))
			return -EINVAL;
		while (digit(*p))
			p++;
		fe = p;
		while (fe > f && fe[-1] == '0')
			fe--;
	}
	if (!*p) {
		mult = bare;
	} else {
		for (i = 0; i < n && strcasecmp(p, u[i].name); i++)
			;
		if (i == n)
			return -EINVAL;
		mult = u[i].mult;
	}
	if (big)
		return -ERANGE;
	if (!mult) {
		if (ip || (f && fe > f))
			return -EINVAL;
		*out = 0;
		return 0;
	}
	if (f && fe > f) {
		/* more than 19 significant decimals are never whole here */
		if (fe - f > 19)
			return -EDOM;
		for (p = f; p < fe; p++) {
			fp = fp * 10 + (u128)(*p - '0');
			pow *= 10;
		}
		if (fp * mult % pow)
			return -EDOM;
	}
	v = ip * mult + fp * mult / pow;
	if (v > UINT64_MAX)
		return -ERANGE;
	*out = (uint64_t)v;
	return 0;
}

static int ref_hex(char c)
{
	static const char lower[] = "0123456789abcdef", upper[] = "0123456789ABCDEF";
	const char *p;

	if (!c)
		return -1;
	p = strchr(lower, c);
	if (p)
		return (int)(p - lower);
	p = strchr(upper, c);
	return p ? (int)(p - upper) : -1;
}

/* six pairs of hex digits, five colons between them, nothing else */
static int ref_mac(const char *s, uint8_t mac[6])
{
	uint8_t tmp[6];
	int i, h, l;

	if (strlen(s) != 17)
		return -EINVAL;
	for (i = 0; i < 6; i++, s += 3) {
		h = ref_hex(s[0]);
		l = ref_hex(s[1]);
		if (h < 0 || l < 0 || (i < 5 && s[2] != ':'))
			return -EINVAL;
		tmp[i] = (uint8_t)(h << 4 | l);
	}
	memcpy(mac, tmp, 6);
	return 0;
}

/* a printer's output fits, ends in NUL, and says the same when it is cut */
static void check_printed(const char *full, const char *cut, size_t len)
{
	size_t n = strlen(full);

	CHECK(n < DAQS_FMT_LEN);
	if (!len)
		return;
	CHECK(memchr(cut, '\0', len));
	CHECK(!strncmp(cut, full, len - 1));
}

static void rate(const char *s, size_t cut)
{
	char buf[DAQS_FMT_LEN], small[DAQS_FMT_LEN];
	uint64_t v = UNTOUCHED, w = UNTOUCHED, back = 0;
	int ret = daqs_parse_rate(s, &v), want;

	want = ref_parse(s, ref_rate, ARRAY_SIZE(ref_rate), 1, &w);
	CHECK(ret == want);
	CHECK(v == w);
	if (ret)
		return;
	daqs_format_rate(buf, sizeof(buf), v);
	CHECK(!daqs_parse_rate(buf, &back) && back == v);
	daqs_format_rate(small, cut, v);
	check_printed(buf, small, cut);
}

static void size(const char *s, size_t cut)
{
	char buf[DAQS_FMT_LEN], small[DAQS_FMT_LEN];
	uint64_t v = UNTOUCHED, w = UNTOUCHED, back = 0;
	int ret = daqs_parse_size(s, &v), want;

	want = ref_parse(s, ref_size, ARRAY_SIZE(ref_size), 1, &w);
	CHECK(ret == want);
	CHECK(v == w);
	if (ret)
		return;
	daqs_format_size(buf, sizeof(buf), v);
	CHECK(!daqs_parse_size(buf, &back) && back == v);
	daqs_format_size(small, cut, v);
	check_printed(buf, small, cut);
}

static void time_in(const char *s, uint64_t unit_ns, size_t cut)
{
	char buf[DAQS_FMT_LEN], small[DAQS_FMT_LEN];
	uint64_t v = UNTOUCHED, ns = 0, back = 0;
	int ret = daqs_parse_time(s, unit_ns, &v), want;

	if (!unit_ns) {
		CHECK(ret == -EINVAL && v == UNTOUCHED);
		return;
	}
	want = ref_parse(s, ref_time, ARRAY_SIZE(ref_time), 0, &ns);
	if (!want && ns % unit_ns)
		want = -EDOM;
	CHECK(ret == want);
	if (ret) {
		CHECK(v == UNTOUCHED);
		return;
	}
	CHECK(v == ns / unit_ns);
	/* the printer takes a u32 count of units that fit in 32 bits */
	if (v > UINT32_MAX || unit_ns > UINT32_MAX)
		return;
	daqs_format_time(buf, sizeof(buf), (uint32_t)v, (uint32_t)unit_ns);
	CHECK(!daqs_parse_time(buf, unit_ns, &back) && back == v);
	daqs_format_time(small, cut, (uint32_t)v, (uint32_t)unit_ns);
	check_printed(buf, small, cut);
}

static void mac(const char *s, size_t cut)
{
	uint8_t m[6] = { 1, 2, 3, 4, 5, 6 }, r[6] = { 1, 2, 3, 4, 5, 6 },
		back[6];
	char buf[DAQS_FMT_LEN], small[DAQS_FMT_LEN];
	int ret = daqs_parse_mac(s, m);

	CHECK(ret == ref_mac(s, r));
	CHECK(!memcmp(m, r, 6));
	if (ret)
		return;
	daqs_format_mac(buf, sizeof(buf), m);
	CHECK(strlen(buf) == 17);
	CHECK(!daqs_parse_mac(buf, back) && !memcmp(back, m, 6));
	daqs_format_mac(small, cut, m);
	check_printed(buf, small, cut);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static const uint64_t units[] = { 1, 1000, 1000000, 1000000000, 0,
					  3, 7000, 1ULL << 40 };
	char s[TEXT_MAX + 1];
	size_t n, cut;
	uint8_t sel;

	if (!len)
		return 0;
	sel = data[0];
	/* the text is all of it (the selector byte too, if it is a digit) */
	n = strnlen((const char *)data, len < TEXT_MAX ? len : TEXT_MAX);
	memcpy(s, data, n);
	s[n] = '\0';
	cut = (sel >> 3) % (DAQS_FMT_LEN + 1);
	rate(s, cut);
	size(s, cut);
	time_in(s, units[sel & 7], cut);
	time_in(s, 1000, cut);
	time_in(s, 1000000, cut);
	mac(s, cut);
	/* NULL is refused, never dereferenced */
	CHECK(daqs_parse_rate(NULL, &(uint64_t){ 0 }) == -EINVAL);
	CHECK(daqs_parse_mac(NULL, (uint8_t[6]){ 0 }) == -EINVAL);
	return 0;
}
