// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * daqsd's log: one line per message on stderr. Under systemd, stderr is a
 * journald stream ($JOURNAL_STREAM names it), which reads a "<N>" prefix
 * as the priority; elsewhere lines start with "daqsd: ".
 */
#include "daqsd.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

static bool to_journal;
static bool log_debug;

void daqsd_log_init(bool verbose)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	log_debug = verbose;
	to_journal = js && sscanf(js, "%llu:%llu", &dev, &ino) == 2 &&
		     !fstat(STDERR_FILENO, &st) &&
		     (unsigned long long)st.st_dev == dev &&
		     (unsigned long long)st.st_ino == ino;
}

void daqsd_log_line(void *ctx, int prio, const char *line)
{
	(void)ctx;
	if (prio >= LOG_DEBUG && !log_debug)
		return;
	/* one write per line, so lines never interleave */
	if (to_journal)
		fprintf(stderr, "<%d>%s\n", prio, line);
	else
		fprintf(stderr, DAQSD_PROG ": %s\n", line);
}

void daqsd_log(int prio, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	daqsd_log_line(NULL, prio, line);
}
