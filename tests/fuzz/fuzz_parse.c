// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * libFuzzer target for daqsd/daqsctl_parse.c: daqsctl's command line.
 *
 * The input is argv: words separated by NUL bytes (at most ARGS_MAX of
 * them), with "daqsctl" in front. It goes through the global options and
 * then the command they leave, as main() does; and each word list is also
 * given to every command's parser directly, so the fuzzer need not find
 * the command names first. Checks:
 *  - a parser returns OK, USAGE or INVALID, and on failure a message that
 *    ends within the buffer and is not empty;
 *  - an accepted set is one the kernel could be sent: a selector, a device
 *    name that fits IFNAMSIZ, only known "has" bits and flags, a mode that
 *    exists; printed back into words with units.h's printers, it parses
 *    to the very same request (and so do show, del and vms);
 *  - the usage text and the selector's name are always there.
 * Seeds: tests/fuzz/corpus/parse/.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daqsctl.h"
#include "units.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)
#define ARGS_MAX 24
#define WORD_MAX 300

static char words[ARGS_MAX + 1][WORD_MAX + 1];

static void check_ret(int ret, const char *err)
{
	CHECK(ret == DAQSCTL_PARSE_OK || ret == DAQSCTL_PARSE_USAGE ||
	      ret == DAQSCTL_PARSE_INVALID);
	if (ret) {
		CHECK(memchr(err, '\0', DAQSCTL_ERRLEN));
		CHECK(err[0]);
	}
}

/* argv of a command that names sel, for the round trip */
static int put_selector(char **argv, int n, char (*buf)[DAQS_FMT_LEN],
			const struct daqsctl_selector *sel)
{
	if (sel->type == DAQSCTL_SEL_DEV) {
		argv[n++] = "dev";
		argv[n++] = (char *)sel->ifname;
	} else if (sel->type == DAQSCTL_SEL_MAC) {
		argv[n++] = "mac";
		argv[n] = daqs_format_mac(buf[n], DAQS_FMT_LEN, sel->mac);
		n++;
	}
	return n;
}

static void check_selector(const struct daqsctl_selector *sel)
{
	char name[64];

	CHECK(sel->type <= DAQSCTL_SEL_MAC);
	if (sel->type == DAQSCTL_SEL_DEV)
		CHECK(sel->ifname[0] && strnlen(sel->ifname, IFNAMSIZ) < IFNAMSIZ);
	daqsctl_selector_name(sel, name, sizeof(name));
	CHECK(memchr(name, '\0', sizeof(name)));
}

static void check_set(const struct daqs_set_req *r)
{
	static const unsigned int known = DAQS_SET_HAS_RATE | DAQS_SET_HAS_BURST |
		DAQS_SET_HAS_MODE | DAQS_SET_HAS_QLIMIT | DAQS_SET_HAS_LEASE |
		DAQS_SET_HAS_FALLBACK | DAQS_SET_HAS_FLAGS;
	char buf[ARGS_MAX][DAQS_FMT_LEN], err[DAQSCTL_ERRLEN];
	struct daqs_set_req again;
	char *argv[ARGS_MAX];
	int n = 1;

	check_selector(&r->sel);
	CHECK(r->sel.type != DAQSCTL_SEL_NONE);
	CHECK(!(r->has & ~known));
	CHECK(!(r->set_flags & ~__DAQS_SET_F_ALL));
	CHECK(!!(r->has & DAQS_SET_HAS_FLAGS) == !!r->set_flags);
	CHECK(r->mode <= DAQS_MODE_MAX);
	/* what was not given is zero, so the request says nothing of it */
	if (!(r->has & DAQS_SET_HAS_RATE))
		CHECK(!r->rate_bps);
	if (!(r->has & DAQS_SET_HAS_BURST))
		CHECK(!r->burst_bytes);
	if (!(r->has & DAQS_SET_HAS_LEASE))
		CHECK(!r->lease_ms);

	argv[0] = "set";
	n = put_selector(argv, n, buf, &r->sel);
	if (r->has & DAQS_SET_HAS_RATE) {
		argv[n++] = "rate";
		argv[n] = daqs_format_rate(buf[n], DAQS_FMT_LEN, r->rate_bps);
		n++;
	}
	if (r->has & DAQS_SET_HAS_BURST) {
		argv[n++] = "burst";
		argv[n] = daqs_format_size(buf[n], DAQS_FMT_LEN, r->burst_bytes);
		n++;
	}
	if (r->has & DAQS_SET_HAS_MODE) {
		argv[n++] = "mode";
		argv[n++] = r->mode == DAQS_MODE_POLICE ? "police" : "shape";
	}
	if (r->has & DAQS_SET_HAS_QLIMIT) {
		argv[n++] = "qlimit";
		argv[n] = daqs_format_time(buf[n], DAQS_FMT_LEN, r->qlimit_us, 1000);
		n++;
	}
	if (r->has & DAQS_SET_HAS_LEASE) {
		argv[n++] = "lease";
		argv[n] = daqs_format_time(buf[n], DAQS_FMT_LEN, r->lease_ms,
					   1000000);
		n++;
	}
	if (r->has & DAQS_SET_HAS_FALLBACK) {
		argv[n++] = "fallback";
		argv[n] = daqs_format_rate(buf[n], DAQS_FMT_LEN, r->fallback_bps);
		n++;
	}
	if (r->set_flags & DAQS_SET_F_NOCREATE)
		argv[n++] = "nocreate";
	if (r->set_flags & DAQS_SET_F_EXCL)
		argv[n++] = "excl";
	CHECK(daqsctl_parse_set(n, argv, &again, err, sizeof(err)) == 0);
	CHECK(!memcmp(&again, r, sizeof(again)));
}

static void check_del_show(const struct daqsctl_selector *sel, bool del)
{
	char buf[ARGS_MAX][DAQS_FMT_LEN], err[DAQSCTL_ERRLEN];
	struct daqs_show_req show;
	struct daqs_del_req d;
	char *argv[4];
	int n;

	check_selector(sel);
	argv[0] = del ? "del" : "show";
	n = put_selector(argv, 1, buf, sel);
	if (del) {
		CHECK(sel->type != DAQSCTL_SEL_NONE);
		CHECK(daqsctl_parse_del(n, argv, &d, err, sizeof(err)) == 0);
		CHECK(!memcmp(&d.sel, sel, sizeof(*sel)));
	} else {
		CHECK(daqsctl_parse_show(n, argv, &show, err, sizeof(err)) == 0);
		CHECK(!memcmp(&show.sel, sel, sizeof(*sel)));
	}
}

static void check_vms(const struct daqs_vms_req *r)
{
	CHECK(r->socket[0] == '/');
	CHECK(strnlen(r->socket, sizeof(r->socket)) < sizeof(r->socket));
}

/* one command's words, argv[0] its name */
static void command(int argc, char **argv)
{
	char err[DAQSCTL_ERRLEN];
	struct daqs_show_req show;
	struct daqs_set_req set;
	struct daqs_del_req del;
	struct daqs_vms_req vms;
	int ret;

	memset(err, 0x55, sizeof(err));
	ret = daqsctl_parse_show(argc, argv, &show, err, sizeof(err));
	check_ret(ret, err);
	if (!ret)
		check_del_show(&show.sel, false);

	memset(err, 0x55, sizeof(err));
	ret = daqsctl_parse_set(argc, argv, &set, err, sizeof(err));
	check_ret(ret, err);
	if (!ret)
		check_set(&set);

	memset(err, 0x55, sizeof(err));
	ret = daqsctl_parse_del(argc, argv, &del, err, sizeof(err));
	check_ret(ret, err);
	if (!ret)
		check_del_show(&del.sel, true);

	memset(err, 0x55, sizeof(err));
	ret = daqsctl_parse_monitor(argc, argv, err, sizeof(err));
	check_ret(ret, err);
	CHECK(!ret == (argc <= 1));

	memset(err, 0x55, sizeof(err));
	ret = daqsctl_parse_vms(argc, argv, &vms, err, sizeof(err));
	check_ret(ret, err);
	if (!ret)
		check_vms(&vms);

	CHECK(daqsctl_usage(argv[0]) && daqsctl_usage(argv[0])[0]);
	/* a message cut to a tiny buffer still ends in it */
	err[0] = 'x';
	err[1] = 'y';
	ret = daqsctl_parse_set(argc, argv, &set, err, 2);
	if (ret)
		CHECK(err[1] == '\0');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *argv[ARGS_MAX + 2], err[DAQSCTL_ERRLEN];
	struct daqsctl_opts opts;
	enum daqsctl_action action;
	size_t off = 0, n;
	int argc = 1, idx = -1, ret;

	argv[0] = "daqsctl";
	while (off < size && argc <= ARGS_MAX) {
		const uint8_t *nul = memchr(data + off, '\0', size - off);

		n = nul ? (size_t)(nul - (data + off)) : size - off;
		/* each word in its own buffer: ASan sees a read past its NUL */
		if (n > WORD_MAX)
			n = WORD_MAX;
		memcpy(words[argc], data + off, n);
		words[argc][n] = '\0';
		argv[argc] = words[argc];
		argc++;
		off += (nul ? (size_t)(nul - (data + off)) : size - off) + 1;
	}
	argv[argc] = NULL;

	memset(err, 0x55, sizeof(err));
	ret = daqsctl_parse_global(argc, argv, &opts, &action, &idx, err,
				   sizeof(err));
	check_ret(ret, err);
	CHECK(idx >= 1 && idx <= argc);
	if (!ret && action == DAQSCTL_RUN && idx < argc)
		command(argc - idx, argv + idx);
	if (argc > 1)
		command(argc - 1, argv + 1);
	return 0;
}
