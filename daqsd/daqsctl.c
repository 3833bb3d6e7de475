// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * daqsctl: show and set the transmit limits of the daqs kernel module.
 * A table of commands, as in wg(8); each lives in daqsctl_<command>.c.
 */
#include "daqsctl_cmd.h"

#include <stdio.h>
#include <string.h>

/* written by the Makefile from `git describe` */
#if __has_include("version.h")
#include "version.h"
#endif
#ifndef DAQS_VERSION
#define DAQS_VERSION "unknown"
#endif

static const struct {
	const char *name;
	int (*run)(int argc, char **argv, const struct daqsctl_opts *opts);
	const char *description;
} commands[] = {
	{ "show", daqsctl_cmd_show, "Shows bindings: their limits and counters" },
	{ "set", daqsctl_cmd_set, "Creates a binding or changes its limit" },
	{ "del", daqsctl_cmd_del, "Forgets a binding" },
	{ "monitor", daqsctl_cmd_monitor, "Prints binding events as they happen" },
	{ "vms", daqsctl_cmd_vms, "Shows daqsd's VMs: demand, rate, limit, lease (host)" },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

void daqsctl_parse_failed(int ret, const char *cmd, const char *err)
{
	fprintf(stderr, DAQSCTL_PROG ": %s\n", err);
	if (ret == DAQSCTL_PARSE_USAGE)
		fprintf(stderr, "Usage: " DAQSCTL_PROG " %s\n",
			daqsctl_usage(cmd));
}

static void show_help(FILE *f)
{
	size_t i;

	fprintf(f, "Usage: " DAQSCTL_PROG " %s\n\n", daqsctl_usage(""));
	fprintf(f, "Options:\n"
		   "  -j, --json     print show, monitor and vms output as JSON\n"
		   "  -h, --help     print this help\n"
		   "  -V, --version  print the version\n\n");
	fprintf(f, "Commands (without one: show):\n");
	for (i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %-8s %s\n           " DAQSCTL_PROG " %s\n",
			commands[i].name, commands[i].description,
			daqsctl_usage(commands[i].name));
	fprintf(f, "\nRATE: 200mbit, 1.5gbit, 10mbps (bytes/s), 1000 (bit/s)\n"
		   "SIZE: 64k, 1m, 1500 (bytes; k = 1024)\n"
		   "TIME: 2s, 50ms, 500us (a unit is required)\n"
		   "See daqsctl(8).\n");
}

int main(int argc, char **argv)
{
	static char show_cmd[] = "show";
	char *default_argv[] = { show_cmd, NULL };
	char err[DAQSCTL_ERRLEN];
	struct daqsctl_opts opts;
	enum daqsctl_action action;
	int ret, idx;
	size_t i;

	ret = daqsctl_parse_global(argc, argv, &opts, &action, &idx, err,
				   sizeof(err));
	if (ret) {
		daqsctl_parse_failed(ret, "", err);
		return 1;
	}
	if (action == DAQSCTL_HELP) {
		show_help(stdout);
		return 0;
	}
	if (action == DAQSCTL_VERSION) {
		printf(DAQSCTL_PROG " %s (generic netlink family %s v%d)\n",
		       DAQS_VERSION, DAQS_GENL_NAME, DAQS_GENL_VERSION);
		return 0;
	}
	if (idx >= argc)
		return daqsctl_cmd_show(1, default_argv, &opts);
	if (!strcmp(argv[idx], "help")) {
		show_help(stdout);
		return 0;
	}
	for (i = 0; i < NCOMMANDS; i++)
		if (!strcmp(argv[idx], commands[i].name))
			return commands[i].run(argc - idx, argv + idx, &opts);

	snprintf(err, sizeof(err), "unknown command '%s'", argv[idx]);
	daqsctl_parse_failed(DAQSCTL_PARSE_USAGE, "", err);
	return 1;
}
