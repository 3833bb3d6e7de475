// SPDX-License-Identifier: GPL-2.0
/*
 * timeline - one clock for a fault test: what a daqs binding's limit did,
 * and what the test did to it, in the order it happened.
 *
 *   timeline [-i MS] [-e FIFO] [-o FILE] DIR
 *
 * Polls DIR/rate_bps, DIR/lease_state and DIR/lease_left_ms (a binding's
 * sysfs view, /sys/class/net/DEV/daqs) every MS milliseconds (default 10,
 * on absolute deadlines) and prints a line, stamped with CLOCK_MONOTONIC
 * in ns, whenever something changes:
 *
 *   T st rate=R lease=S left=L gap=G   the first poll, and every change
 *                                of the rate in force or of the lease state
 *   T renew rate=R left=L gap=G  a SET with a lease came (lease_left_ms
 *                                grew, or the lease is active again)
 *
 * gap: ms since the poll before, which saw none of it: the change happened
 * between T - gap and T.
 *   T gone                       DIR went away (device, binding or module)
 *   T host TEXT                  a line read from stdin (the host's)
 *   T ev TEXT                    a line read from FIFO (the test's own)
 *   T end polls=N late=K maxgap_ms=X   on SIGTERM or SIGINT
 *
 * late counts polls that came more than one interval after their deadline
 * (the guest was not scheduled), maxgap_ms is the longest time between two
 * polls: the resolution the timeline really had. Lines go to stdout and,
 * with -o, to FILE too, each written whole as it happens.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum { F_RATE, F_STATE, F_LEFT, NFILES };
static const char *const names[NFILES] = { "rate_bps", "lease_state",
					   "lease_left_ms" };

static volatile sig_atomic_t stop;
static FILE *copy;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

__attribute__((format(printf, 2, 3)))
static void out(long long t, const char *fmt, ...)
{
	char line[1200];
	va_list ap;
	int n;

	n = snprintf(line, sizeof(line), "%lld ", t);
	va_start(ap, fmt);
	n += vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	line[n] = '\0';
	fputs(line, stdout);
	fflush(stdout);
	if (copy) {
		fputs(line, copy);
		fflush(copy);
	}
}

/* Lines of @fd as "T KIND LINE"; false at its end. */
static bool relay(int fd, char *buf, size_t *len, size_t cap,
		  const char *kind)
{
	ssize_t n = read(fd, buf + *len, cap - *len - 1);
	char *nl, *p;

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return true;
	if (n <= 0)
		return false;
	*len += (size_t)n;
	buf[*len] = '\0';
	p = buf;
	while ((nl = strchr(p, '\n'))) {
		*nl = '\0';
		if (nl > p && nl[-1] == '\r')
			nl[-1] = '\0';
		out(now_ns(), "%s %s", kind, p);
		p = nl + 1;
	}
	*len -= (size_t)(p - buf);
	memmove(buf, p, *len);
	if (*len == cap - 1) {	/* a line too long: cut it */
		out(now_ns(), "%s %s", kind, buf);
		*len = 0;
	}
	return true;
}

/*
 * One consistent view of the three files: they are read one after the
 * other, and a lease that expires (or a SET that lands) between two reads
 * showed "rate=<old> lease=expired", a state the binding was never in. The
 * files are read again until the rate and the lease state read before are
 * what a second pass reads too (at most 8 passes).
 */
static bool read_pass(const char *dir, int *fds, char vals[NFILES][64]);

static bool read_all(const char *dir, int *fds, char vals[NFILES][64])
{
	char again[NFILES][64];
	int pass;

	if (!read_pass(dir, fds, vals))
		return false;
	for (pass = 0; pass < 8; pass++) {
		if (!read_pass(dir, fds, again))
			return false;
		if (!strcmp(again[F_RATE], vals[F_RATE]) &&
		    !strcmp(again[F_STATE], vals[F_STATE]))
			break;
		memcpy(vals, again, sizeof(again));
	}
	return true;
}

static bool read_pass(const char *dir, int *fds, char vals[NFILES][64])
{
	char path[4096];
	ssize_t n;
	int i;

	for (i = 0; i < NFILES; i++) {
		if (fds[i] < 0) {
			snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
			fds[i] = open(path, O_RDONLY | O_CLOEXEC);
			if (fds[i] < 0)
				goto gone;
		}
		do {
			n = pread(fds[i], vals[i], 63, 0);
		} while (n < 0 && errno == EINTR);
		if (n <= 0)
			goto gone;
		vals[i][n] = '\0';
		vals[i][strcspn(vals[i], " \n")] = '\0';
	}
	return true;
gone:
	for (i = 0; i < NFILES; i++) {
		if (fds[i] >= 0)
			close(fds[i]);
		fds[i] = -1;
	}
	return false;
}

int main(int argc, char **argv)
{
	char vals[NFILES][64], prev[NFILES][64] = { "", "", "" };
	char inbuf[1024], evbuf[1024];
	size_t inlen = 0, evlen = 0;
	long long next, t, last_poll = 0, maxgap = 0, gap, interval_ns;
	unsigned long long polls = 0, late = 0;
	int fds[NFILES] = { -1, -1, -1 };
	const char *fifo = NULL, *dir;
	bool present = false, first = true, in_open = true;
	struct pollfd pfd[2];
	struct sigaction sa;
	long interval_ms = 10;
	int opt, evfd = -1, i;

	while ((opt = getopt(argc, argv, "i:e:o:")) != -1) {
		switch (opt) {
		case 'i':
			interval_ms = strtol(optarg, NULL, 10);
			break;
		case 'e':
			fifo = optarg;
			break;
		case 'o':
			copy = fopen(optarg, "a");
			if (!copy) {
				perror("timeline: -o");
				return 1;
			}
			break;
		default:
			goto usage;
		}
	}
	if (optind + 1 != argc || interval_ms <= 0)
		goto usage;
	dir = argv[optind];
	if (fifo) {
		if (mkfifo(fifo, 0600) && errno != EEXIST) {
			perror("timeline: mkfifo");
			return 1;
		}
		/* read-write: no end of file when a writer closes it */
		evfd = open(fifo, O_RDWR | O_NONBLOCK | O_CLOEXEC);
		if (evfd < 0) {
			perror("timeline: fifo");
			return 1;
		}
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	fcntl(STDIN_FILENO, F_SETFL, fcntl(STDIN_FILENO, F_GETFL) | O_NONBLOCK);

	interval_ns = interval_ms * 1000000LL;
	next = now_ns();
	while (!stop) {
		t = now_ns();
		if (t >= next) {
			gap = last_poll ? t - last_poll : 0;
			if (gap > maxgap)
				maxgap = gap;
			if (t - next > interval_ns)
				late++;
			last_poll = t;
			polls++;
			next += interval_ns;
			if (next < t)
				next = t + interval_ns;
			if (!read_all(dir, fds, vals)) {
				if (present || first)
					out(t, "gone");
				present = false;
				first = false;
				continue;
			}
			if (first || !present || strcmp(vals[F_RATE], prev[F_RATE]) ||
			    strcmp(vals[F_STATE], prev[F_STATE]))
				out(t, "st rate=%s lease=%s left=%s gap=%lld",
				    vals[F_RATE], vals[F_STATE], vals[F_LEFT],
				    gap / 1000000);
			if (present && !strcmp(vals[F_STATE], "active") &&
			    (strcmp(prev[F_STATE], "active") ||
			     atol(vals[F_LEFT]) > atol(prev[F_LEFT])))
				out(t, "renew rate=%s left=%s gap=%lld", vals[F_RATE],
				    vals[F_LEFT], gap / 1000000);
			for (i = 0; i < NFILES; i++)
				strcpy(prev[i], vals[i]);
			present = true;
			first = false;
			continue;
		}
		pfd[0] = (struct pollfd){ .fd = in_open ? STDIN_FILENO : -1,
					  .events = POLLIN };
		pfd[1] = (struct pollfd){ .fd = evfd, .events = POLLIN };
		if (poll(pfd, 2, (int)((next - t + 999999) / 1000000)) <= 0)
			continue;
		if (pfd[0].revents &&
		    !relay(STDIN_FILENO, inbuf, &inlen, sizeof(inbuf), "host"))
			in_open = false;
		if (pfd[1].revents)
			relay(evfd, evbuf, &evlen, sizeof(evbuf), "ev");
	}
	out(now_ns(), "end polls=%llu late=%llu maxgap_ms=%lld", polls, late,
	    maxgap / 1000000);
	return 0;
usage:
	fprintf(stderr, "usage: timeline [-i MS] [-e FIFO] [-o FILE] DIR\n");
	return 2;
}
