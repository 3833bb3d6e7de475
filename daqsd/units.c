// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Exact parsing of decimal quantities with units. No floating point: a rate
 * of 18446744073709551615bit must come out as exactly that, and a value that
 * does not fit must be refused rather than rounded.
 */
#include "units.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

struct unit {
	const char *name;
	uint64_t mult;
};

static const struct unit rate_units[] = {
	{ "bit", 1ULL },
	{ "kbit", 1000ULL },
	{ "mbit", 1000000ULL },
	{ "gbit", 1000000000ULL },
	{ "tbit", 1000000000000ULL },
	/* bytes per second, as in tc */
	{ "bps", 8ULL },
	{ "kbps", 8000ULL },
	{ "mbps", 8000000ULL },
	{ "gbps", 8000000000ULL },
	{ "tbps", 8000000000000ULL },
};

static const struct unit size_units[] = {
	{ "b", 1ULL },
	{ "k", 1ULL << 10 },
	{ "kb", 1ULL << 10 },
	{ "kib", 1ULL << 10 },
	{ "m", 1ULL << 20 },
	{ "mb", 1ULL << 20 },
	{ "mib", 1ULL << 20 },
	{ "g", 1ULL << 30 },
	{ "gb", 1ULL << 30 },
	{ "gib", 1ULL << 30 },
};

static const struct unit time_units[] = {
	{ "s", 1000000000ULL },
	{ "sec", 1000000000ULL },
	{ "ms", 1000000ULL },
	{ "msec", 1000000ULL },
	{ "us", 1000ULL },
	{ "usec", 1000ULL },
	{ "ns", 1ULL },
	{ "nsec", 1ULL },
};

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
/* 10^19 is the largest power of ten in a u64 */
#define MAX_FRAC_DIGITS 19

static uint64_t pow10u(unsigned int k)
{
	uint64_t r = 1;

	while (k--)
		r *= 10;
	return r;
}

static uint64_t gcd64(uint64_t a, uint64_t b)
{
	while (b) {
		uint64_t t = a % b;

		a = b;
		b = t;
	}
	return a;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/*
 * Parse DIGITS[.DIGITS][UNIT]. bare_mult is the multiplier when no unit is
 * given; 0 means a unit is required unless the value is zero.
 */
static int parse_scaled(const char *s, const struct unit *units, size_t nunits,
			uint64_t bare_mult, uint64_t *out)
{
	uint64_t ipart = 0, fpart = 0, mult = 0, res, frac, g, d;
	const char *p = s, *fstart = NULL, *fend = NULL;
	bool overflow = false;
	unsigned int k = 0;
	size_t i;

	if (!s || !is_digit(*p))
		return -EINVAL;
	for (; is_digit(*p); p++) {
		if (__builtin_mul_overflow(ipart, 10, &ipart) ||
		    __builtin_add_overflow(ipart, (uint64_t)(*p - '0'), &ipart))
			overflow = true;
	}
	if (*p == '.') {
		p++;
		if (!is_digit(*p))
			return -EINVAL;
		fstart = p;
		while (is_digit(*p))
			p++;
		fend = p;
		/* trailing zeros carry no value */
		while (fend > fstart && fend[-1] == '0')
			fend--;
	}

	if (*p == '\0') {
		mult = bare_mult;
	} else {
		for (i = 0; i < nunits; i++) {
			if (!strcasecmp(p, units[i].name)) {
				mult = units[i].mult;
				break;
			}
		}
		if (i == nunits)
			return -EINVAL;
	}
	if (overflow)
		return -ERANGE;
	if (!mult) {
		/* only a unit-less zero is unambiguous */
		if (ipart || (fstart && fend > fstart))
			return -EINVAL;
		*out = 0;
		return 0;
	}

	if (fstart && fend > fstart) {
		k = (unsigned int)(fend - fstart);
		if (k > MAX_FRAC_DIGITS)
			return -EDOM;
		for (p = fstart; p < fend; p++)
			fpart = fpart * 10 + (uint64_t)(*p - '0');
	}

	/*
	 * fpart / 10^k * mult must be whole. With g = gcd(mult, 10^k) that is
	 * (fpart / (10^k / g)) * (mult / g), exact when 10^k / g divides fpart,
	 * and smaller than mult, so it cannot overflow.
	 */
	frac = 0;
	if (k) {
		g = gcd64(mult, pow10u(k));
		d = pow10u(k) / g;
		if (fpart % d)
			return -EDOM;
		frac = (fpart / d) * (mult / g);
	}
	if (__builtin_mul_overflow(ipart, mult, &res) ||
	    __builtin_add_overflow(res, frac, &res))
		return -ERANGE;
	*out = res;
	return 0;
}

int daqs_parse_rate(const char *s, uint64_t *bit_per_s)
{
	return parse_scaled(s, rate_units, ARRAY_SIZE(rate_units), 1, bit_per_s);
}

int daqs_parse_size(const char *s, uint64_t *bytes)
{
	return parse_scaled(s, size_units, ARRAY_SIZE(size_units), 1, bytes);
}

int daqs_parse_time(const char *s, uint64_t unit_ns, uint64_t *out)
{
	uint64_t ns;
	int ret;

	if (!unit_ns)
		return -EINVAL;
	ret = parse_scaled(s, time_units, ARRAY_SIZE(time_units), 0, &ns);
	if (ret)
		return ret;
	if (ns % unit_ns)
		return -EDOM;
	*out = ns / unit_ns;
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int daqs_parse_mac(const char *s, uint8_t mac[6])
{
	uint8_t tmp[6];
	int i, hi, lo;

	if (!s)
		return -EINVAL;
	for (i = 0; i < 6; i++) {
		hi = hexval(s[0]);
		lo = hi < 0 ? -1 : hexval(s[1]);
		if (lo < 0)
			return -EINVAL;
		tmp[i] = (uint8_t)(hi << 4 | lo);
		if (s[2] != (i == 5 ? '\0' : ':'))
			return -EINVAL;
		s += 3;
	}
	memcpy(mac, tmp, sizeof(tmp));
	return 0;
}

/* v / unit with an exact decimal fraction; unit is a power of ten */
static char *format_decimal(char *buf, size_t len, uint64_t v, uint64_t unit,
			    const char *suffix)
{
	uint64_t whole = v / unit, rem = v % unit;
	int width = 0;
	uint64_t u;

	if (!rem) {
		snprintf(buf, len, "%llu%s", (unsigned long long)whole, suffix);
		return buf;
	}
	for (u = unit; u > 1; u /= 10)
		width++;
	while (rem % 10 == 0) {
		rem /= 10;
		width--;
	}
	snprintf(buf, len, "%llu.%0*llu%s", (unsigned long long)whole, width,
		 (unsigned long long)rem, suffix);
	return buf;
}

char *daqs_format_rate(char *buf, size_t len, uint64_t bit_per_s)
{
	static const struct unit out[] = {
		{ "Tbit", 1000000000000ULL },
		{ "Gbit", 1000000000ULL },
		{ "Mbit", 1000000ULL },
		{ "Kbit", 1000ULL },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(out); i++)
		if (bit_per_s >= out[i].mult)
			return format_decimal(buf, len, bit_per_s, out[i].mult,
					      out[i].name);
	return format_decimal(buf, len, bit_per_s, 1, "bit");
}

char *daqs_format_size(char *buf, size_t len, uint64_t bytes)
{
	static const struct unit out[] = {
		{ "GiB", 1ULL << 30 },
		{ "MiB", 1ULL << 20 },
		{ "KiB", 1ULL << 10 },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(out); i++)
		if (bytes && bytes % out[i].mult == 0) {
			snprintf(buf, len, "%llu%s",
				 (unsigned long long)(bytes / out[i].mult),
				 out[i].name);
			return buf;
		}
	snprintf(buf, len, "%lluB", (unsigned long long)bytes);
	return buf;
}

char *daqs_format_time(char *buf, size_t len, uint32_t value, uint32_t unit_ns)
{
	static const struct unit out[] = {
		{ "s", 1000000000ULL },
		{ "ms", 1000000ULL },
		{ "us", 1000ULL },
	};
	/* (2^32 - 1)^2 < 2^64: cannot overflow */
	uint64_t ns = (uint64_t)value * unit_ns;
	size_t i;

	if (!ns) {
		snprintf(buf, len, "0s");
		return buf;
	}
	for (i = 0; i < ARRAY_SIZE(out); i++)
		if (ns >= out[i].mult)
			return format_decimal(buf, len, ns, out[i].mult,
					      out[i].name);
	return format_decimal(buf, len, ns, 1, "ns");
}

char *daqs_format_mac(char *buf, size_t len, const uint8_t mac[6])
{
	snprintf(buf, len, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1],
		 mac[2], mac[3], mac[4], mac[5]);
	return buf;
}
