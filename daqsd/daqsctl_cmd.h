/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/* The commands of daqsctl; each returns the exit status. */
#ifndef DAQSCTL_CMD_H
#define DAQSCTL_CMD_H

#include "daqsctl.h"

int daqsctl_cmd_show(int argc, char **argv, const struct daqsctl_opts *opts);
int daqsctl_cmd_set(int argc, char **argv, const struct daqsctl_opts *opts);
int daqsctl_cmd_del(int argc, char **argv, const struct daqsctl_opts *opts);
int daqsctl_cmd_monitor(int argc, char **argv, const struct daqsctl_opts *opts);
int daqsctl_cmd_vms(int argc, char **argv, const struct daqsctl_opts *opts);

/* prints a parser's message, and the command's usage if it asks for it */
void daqsctl_parse_failed(int ret, const char *cmd, const char *err);

#endif /* DAQSCTL_CMD_H */
