// SPDX-License-Identifier: GPL-2.0
/*
 * nlsend - send one hand-built request to the daqs family, for tests that
 * need requests daqsctl would refuse to build (unknown mode, read-only
 * attributes, several selectors, a raw ifindex).
 *
 *   nlsend get|set|del [TYPE:ATTR=VALUE]...
 *
 * TYPE is u8, u32, u64 or str; ATTR is the attribute's number or its name
 * without DAQS_A_ (RATE_BPS, MODE, ...). Prints "ok" or "error <errno>:
 * <extack>" and exits 0 or 1.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daqs_nl.h"

static const char *const names[] = {
	[DAQS_A_IFINDEX] = "IFINDEX", [DAQS_A_IFNAME] = "IFNAME",
	[DAQS_A_MAC] = "MAC", [DAQS_A_STATE] = "STATE",
	[DAQS_A_RATE_BPS] = "RATE_BPS", [DAQS_A_BURST_BYTES] = "BURST_BYTES",
	[DAQS_A_MODE] = "MODE", [DAQS_A_QLIMIT_US] = "QLIMIT_US",
	[DAQS_A_LEASE_MS] = "LEASE_MS", [DAQS_A_FALLBACK_BPS] = "FALLBACK_BPS",
	[DAQS_A_LEASE_LEFT_MS] = "LEASE_LEFT_MS",
	[DAQS_A_LEASE_STATE] = "LEASE_STATE",
	[DAQS_A_SET_RATE_BPS] = "SET_RATE_BPS", [DAQS_A_SET_FLAGS] = "SET_FLAGS",
	[DAQS_A_STATS] = "STATS", [DAQS_A_EVENT] = "EVENT", [DAQS_A_PAD] = "PAD",
};

static int attr_id(const char *s)
{
	char *end;
	long n = strtol(s, &end, 0);
	size_t i;

	if (*s && !*end)
		return (int)n;
	for (i = 1; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i] && !strcmp(names[i], s))
			return (int)i;
	return -1;
}

static int put(struct nl_msg *msg, char *arg)
{
	char *colon = strchr(arg, ':'), *eq = strchr(arg, '=');
	unsigned long long v;
	int id;

	if (!colon || !eq || eq < colon)
		return -1;
	*colon = *eq = '\0';
	id = attr_id(colon + 1);
	if (id < 0)
		return -1;
	if (!strcmp(arg, "str"))
		return nla_put_string(msg, id, eq + 1);
	v = strtoull(eq + 1, NULL, 0);
	if (!strcmp(arg, "u8"))
		return nla_put_u8(msg, id, (uint8_t)v);
	if (!strcmp(arg, "u32"))
		return nla_put_u32(msg, id, (uint32_t)v);
	if (!strcmp(arg, "u64"))
		return nla_put_u64(msg, id, v);
	return -1;
}

int main(int argc, char **argv)
{
	struct daqs_nl_result res;
	struct daqs_nl nl;
	char err[256];
	struct nl_msg *msg;
	uint8_t cmd;
	int i, ret;

	if (argc < 2) {
		fprintf(stderr, "usage: nlsend get|set|del [TYPE:ATTR=VALUE]...\n");
		return 2;
	}
	if (!strcmp(argv[1], "get"))
		cmd = DAQS_CMD_GET;
	else if (!strcmp(argv[1], "set"))
		cmd = DAQS_CMD_SET;
	else if (!strcmp(argv[1], "del"))
		cmd = DAQS_CMD_DEL;
	else
		return 2;
	if (daqs_nl_open(&nl, err, sizeof(err))) {
		fprintf(stderr, "nlsend: %s\n", err);
		return 1;
	}
	msg = daqs_nl_msg(&nl, cmd, 0);
	if (!msg)
		return 1;
	for (i = 2; i < argc; i++) {
		if (put(msg, argv[i]) < 0) {
			fprintf(stderr, "nlsend: invalid attribute '%s'\n", argv[i]);
			nlmsg_free(msg);
			daqs_nl_close(&nl);
			return 2;
		}
	}
	ret = daqs_nl_request(&nl, msg, NULL, NULL, &res);
	daqs_nl_close(&nl);
	if (!ret) {
		printf("ok\n");
		return 0;
	}
	printf("error %d: %s\n", res.err, daqs_nl_strerror(&res));
	return 1;
}
