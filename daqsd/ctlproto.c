// SPDX-License-Identifier: GPL-2.0 OR MIT
/* The records of daqsd's control socket; see ctlproto.h. */
#include "ctlproto.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void put(struct daqs_ctl_buf *b, const char *s, size_t n)
{
	size_t cap;
	char *p;

	if (b->failed)
		return;
	if (n > DAQS_CTL_ANSWER_MAX - b->len) {
		b->failed = true;
		return;
	}
	if (b->len + n + 1 > b->cap) {
		cap = b->cap ? b->cap : 4096;
		while (cap < b->len + n + 1)
			cap *= 2;
		p = realloc(b->p, cap);
		if (!p) {
			b->failed = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static bool plain(unsigned char c)
{
	return c > 0x20 && c < 0x7f && c != '%';
}

static void put_escaped(struct daqs_ctl_buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p = (const unsigned char *)s;
	char e[3] = { '%' };
	size_t run;

	while (*p) {
		for (run = 0; p[run] && plain(p[run]); run++)
			;
		put(b, (const char *)p, run);
		p += run;
		if (!*p)
			break;
		e[1] = hex[*p >> 4];
		e[2] = hex[*p & 15];
		put(b, e, 3);
		p++;
	}
}

void daqs_ctl_begin(struct daqs_ctl_buf *b, const char *kind)
{
	put(b, kind, strlen(kind));
}

void daqs_ctl_str(struct daqs_ctl_buf *b, const char *key, const char *value)
{
	put(b, "\t", 1);
	put(b, key, strlen(key));
	put(b, "=", 1);
	put_escaped(b, value ? value : "");
}

void daqs_ctl_u64(struct daqs_ctl_buf *b, const char *key, uint64_t value)
{
	char num[24];

	snprintf(num, sizeof(num), "%" PRIu64, value);
	daqs_ctl_str(b, key, num);
}

void daqs_ctl_bool(struct daqs_ctl_buf *b, const char *key, bool value)
{
	daqs_ctl_str(b, key, value ? "yes" : "no");
}

void daqs_ctl_end(struct daqs_ctl_buf *b)
{
	put(b, "\n", 1);
}

void daqs_ctl_buf_free(struct daqs_ctl_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

static int unhex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* in place; -1 on a bad escape */
static int unescape(char *s)
{
	char *r = s, *w = s;
	int hi, lo;

	while (*r) {
		if (*r != '%') {
			*w++ = *r++;
			continue;
		}
		hi = unhex(r[1]);
		lo = hi < 0 ? -1 : unhex(r[2]);
		if (lo < 0 || (hi == 0 && lo == 0))
			return -1;	/* not hex, or a NUL */
		*w++ = (char)(hi << 4 | lo);
		r += 3;
	}
	*w = '\0';
	return 0;
}

static bool valid_key(const char *k)
{
	if (!*k)
		return false;
	for (; *k; k++)
		if (!((*k >= 'a' && *k <= 'z') || (*k >= '0' && *k <= '9') ||
		      *k == '_'))
			return false;
	return true;
}

int daqs_ctl_parse(char *line, struct daqs_ctl_rec *rec)
{
	char *field, *eq, *next;

	memset(rec, 0, sizeof(*rec));
	next = strchr(line, '\t');
	if (next)
		*next++ = '\0';
	if (!valid_key(line))
		return -1;
	rec->kind = line;
	while (next) {
		field = next;
		next = strchr(field, '\t');
		if (next)
			*next++ = '\0';
		eq = strchr(field, '=');
		if (!eq || rec->n >= DAQS_CTL_FIELDS_MAX)
			return -1;
		*eq = '\0';
		if (!valid_key(field) || unescape(eq + 1))
			return -1;
		rec->f[rec->n].key = field;
		rec->f[rec->n].value = eq + 1;
		rec->n++;
	}
	return 0;
}

const char *daqs_ctl_get(const struct daqs_ctl_rec *rec, const char *key)
{
	size_t i;

	for (i = 0; i < rec->n; i++)
		if (!strcmp(rec->f[i].key, key))
			return rec->f[i].value;
	return NULL;
}

int daqs_ctl_get_u64(const struct daqs_ctl_rec *rec, const char *key,
		     uint64_t *v)
{
	const char *s = daqs_ctl_get(rec, key);
	uint64_t x = 0;

	if (!s || !*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		if (x > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
			return -1;
		x = x * 10 + (uint64_t)(*s - '0');
	}
	*v = x;
	return 0;
}
