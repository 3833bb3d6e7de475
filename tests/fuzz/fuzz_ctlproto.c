// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * libFuzzer target for daqsd/ctlproto.c and what reads it: the records of
 * daqsd's control socket, as `daqsctl vms` gets them from whatever listens
 * on the socket path it is given.
 *
 * The input is an answer. Each of its lines is parsed as a record; a record
 * that parses is written again with ctlproto's own writer, which must give
 * one printable line (no space, TAB or LF inside a value) that parses to
 * the same kind, keys and values; daqs_ctl_get_u64() must agree with a
 * plain reading of the decimal. Then the whole answer goes through
 * daqsctl_vms.c's printer, pretty and JSON: it either fails with a message
 * or prints, and what it prints as JSON must be JSON
 * (tests/unit/json_check.c).
 * Seeds: tests/fuzz/corpus/ctlproto/.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctlproto.h"
#include "json_check.h"

/* print_answer() is daqsctl_vms.c's own, static; its socket code is not run */
#include "daqsctl_vms.c"

#define CHECK(c) do { if (!(c)) abort(); } while (0)
#define INPUT_MAX 65536

void daqsctl_parse_failed(int ret, const char *cmd, const char *err)
{
	(void)ret;
	(void)cmd;
	(void)err;
}

/* the decimal of s, or -1: the reading daqs_ctl_get_u64 must agree with */
static int decimal(const char *s, uint64_t *v)
{
	unsigned __int128 x = 0;

	if (!*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		x = x * 10 + (unsigned)(*s - '0');
		if (x > UINT64_MAX)
			return -1;
	}
	*v = (uint64_t)x;
	return 0;
}

static void record(const char *line)
{
	struct daqs_ctl_rec r, again;
	struct daqs_ctl_buf b = { 0 };
	char *copy = strdup(line), *nl, *p;
	uint64_t v, w;
	size_t i;

	CHECK(copy);
	if (daqs_ctl_parse(copy, &r)) {
		free(copy);
		return;
	}
	CHECK(r.kind && r.kind[0]);
	CHECK(r.n <= DAQS_CTL_FIELDS_MAX);
	daqs_ctl_begin(&b, r.kind);
	for (i = 0; i < r.n; i++) {
		CHECK(r.f[i].key[0]);
		CHECK(daqs_ctl_get(&r, r.f[i].key));
		if (daqs_ctl_get(&r, r.f[i].key) == r.f[i].value) {
			/* the first of a key is the one get and get_u64 read */
			int got = daqs_ctl_get_u64(&r, r.f[i].key, &v);

			CHECK(got == decimal(r.f[i].value, &w));
			CHECK(got || v == w);
		}
		daqs_ctl_str(&b, r.f[i].key, r.f[i].value);
	}
	daqs_ctl_end(&b);
	CHECK(!b.failed);
	/* one line of printable fields */
	nl = strchr(b.p, '\n');
	CHECK(nl && nl[1] == '\0');
	*nl = '\0';
	for (p = b.p; *p; p++)
		CHECK(*p == '\t' || ((unsigned char)*p >= 0x21 &&
				     (unsigned char)*p <= 0x7e));
	CHECK(!daqs_ctl_parse(b.p, &again));
	CHECK(!strcmp(again.kind, r.kind) && again.n == r.n);
	for (i = 0; i < r.n; i++) {
		CHECK(!strcmp(again.f[i].key, r.f[i].key));
		CHECK(!strcmp(again.f[i].value, r.f[i].value));
	}
	daqs_ctl_buf_free(&b);
	free(copy);
}

static void printed(const char *answer, bool json)
{
	char err[DAQSCTL_ERRLEN], *copy = strdup(answer), *text = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&text, &len);
	int ret;

	CHECK(copy && m);
	err[0] = '\0';
	ret = print_answer(m, copy, json, err, sizeof(err));
	CHECK(!fclose(m));
	CHECK(ret == 0 || ret == -1);
	if (ret)
		CHECK(err[0] && memchr(err, '\0', sizeof(err)));
	else if (json)
		CHECK(json_valid(text));
	free(text);
	free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text, *line, *next;

	if (size > INPUT_MAX)
		return 0;
	/* a C string, as fetch() makes it: up to the first NUL */
	text = malloc(size + 1);
	CHECK(text);
	memcpy(text, data, size);
	text[size] = '\0';

	for (line = text; line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		record(line);
	}
	memcpy(text, data, size);
	text[size] = '\0';
	printed(text, false);
	printed(text, true);
	free(text);
	return 0;
}
