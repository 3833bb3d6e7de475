// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * daqs-agent: options, start-up (netlink, then the port, then the
 * sandbox) and the event loop. See agent.h and daqs-agent(8).
 */
#include "agent.h"

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "units.h"

#if __has_include("version.h")
#include "version.h"
#endif
#ifndef DAQS_VERSION
#define DAQS_VERSION "unknown"
#endif

static volatile sig_atomic_t stop_signal;
/* the port's SIGIO: its host came or went, or data came */
static volatile sig_atomic_t port_signal;

uint64_t agent_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000U + (uint64_t)ts.tv_nsec / 1000000U;
}

static void vlog(const char *fmt, va_list ap)
{
	char line[512];

	vsnprintf(line, sizeof(line), fmt, ap);
	/* one write per line, so lines from a flood never interleave */
	fprintf(stderr, AGENT_PROG ": %s\n", line);
}

void agent_log(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(fmt, ap);
	va_end(ap);
}

#define LOG_KEYS 16

void agent_log_limited(unsigned int key, const char *fmt, ...)
{
	static struct {
		uint64_t last_ms;
		unsigned long held;
	} keys[LOG_KEYS];
	uint64_t now = agent_now_ms();
	va_list ap;

	key %= LOG_KEYS;
	if (keys[key].last_ms && now < keys[key].last_ms + 1000) {
		keys[key].held++;
		return;
	}
	if (keys[key].held)
		agent_log("(%lu similar messages suppressed)", keys[key].held);
	keys[key].last_ms = now;
	keys[key].held = 0;
	va_start(ap, fmt);
	vlog(fmt, ap);
	va_end(ap);
}

static void on_signal(int sig)
{
	stop_signal = sig;
}

static void on_sigio(int sig)
{
	(void)sig;
	port_signal = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: " AGENT_PROG " [-p PORT] [-d IFNAME | -m MAC] [-v] [--no-sandbox]\n"
		"\n"
		"Relays the daqs host<->guest channel to the daqs kernel module.\n"
		"\n"
		"  -p, --port PORT    a virtio-serial device or a unix socket (default:\n"
		"                     the virtio-serial port named " DAQS_CH_PORT_NAME ")\n"
		"  -d, --device NAME  the device the host controls when it names none;\n"
		"                     requests naming another are refused\n"
		"  -m, --mac MAC      the same, by MAC address\n"
		"  -v, --verbose      log every request\n"
		"      --no-sandbox   keep every capability, no seccomp (debugging)\n"
		"  -h, --help         print this help\n"
		"  -V, --version      print the version\n"
		"See daqs-agent(8).\n");
}

static int parse_args(int argc, char **argv, struct agent *a)
{
	static const struct option opts[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "device", required_argument, NULL, 'd' },
		{ "mac", required_argument, NULL, 'm' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "no-sandbox", no_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":p:d:m:vhV", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (strlen(optarg) >= sizeof(a->port_path)) {
				fprintf(stderr, AGENT_PROG ": port path '%s' is too long\n",
					optarg);
				return 1;
			}
			strcpy(a->port_path, optarg);
			a->port_given = true;
			break;
		case 'd':
			if (!*optarg || strlen(optarg) >= IFNAMSIZ ||
			    strchr(optarg, '/') || strchr(optarg, ' ')) {
				fprintf(stderr, AGENT_PROG ": invalid device name '%s'\n",
					optarg);
				return 1;
			}
			a->pin.type = AGENT_SEL_IFNAME;
			strcpy(a->pin.ifname, optarg);
			break;
		case 'm':
			if (daqs_parse_mac(optarg, a->pin.mac)) {
				fprintf(stderr, AGENT_PROG ": invalid MAC address '%s'\n",
					optarg);
				return 1;
			}
			a->pin.type = AGENT_SEL_MAC;
			break;
		case 'v':
			a->verbose = true;
			break;
		case 'S':
			a->sandbox = false;
			break;
		case 'h':
			usage(stdout);
			return -1;
		case 'V':
			printf(AGENT_PROG " %s (channel protocol %d, generic netlink family %s v%d)\n",
			       DAQS_VERSION, DAQS_CH_VERSION, DAQS_GENL_NAME,
			       DAQS_GENL_VERSION);
			return -1;
		case ':':
			fprintf(stderr, AGENT_PROG ": option '%s' needs a value\n",
				argv[optind - 1]);
			usage(stderr);
			return 1;
		default:
			fprintf(stderr, AGENT_PROG ": unknown option '%s'\n",
				argv[optind - 1]);
			usage(stderr);
			return 1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, AGENT_PROG ": unexpected argument '%s'\n",
			argv[optind]);
		usage(stderr);
		return 1;
	}
	return 0;
}

/* sleeps up to ms, or less if a signal comes */
static void nap(unsigned int ms, const sigset_t *unblocked)
{
	struct timespec ts = { .tv_sec = ms / 1000,
			       .tv_nsec = (long)(ms % 1000) * 1000000L };

	(void)ppoll(NULL, 0, &ts, unblocked);
}

/* waits until the port exists and opens; false if told to stop first */
static bool open_port(struct agent *a, const sigset_t *unblocked)
{
	char err[AGENT_ERRLEN], last[AGENT_ERRLEN] = "";

	while (!stop_signal) {
		if (!a->port_given && agent_port_find(a->port_path,
						       sizeof(a->port_path)))
			snprintf(err, sizeof(err),
				 "no virtio-serial port named '%s' (is virtio_console loaded?)",
				 DAQS_CH_PORT_NAME);
		else if (!agent_port_open(a, err, sizeof(err)))
			return true;
		/* say it once, not every second */
		if (strcmp(err, last)) {
			agent_log("%s; waiting for it", err);
			strcpy(last, err);
		}
		nap(1000, unblocked);
	}
	return false;
}

static int timeout_to(uint64_t now, uint64_t at, int timeout)
{
	int t = at > now ? (int)(at - now) : 0;

	return timeout < 0 || t < timeout ? t : timeout;
}

/*
 * unblocked: the mask while waiting with no host (SIGIO comes through);
 * with a host, SIGIO stays blocked: its data wakes the poll anyway.
 */
static void loop(struct agent *a, const sigset_t *unblocked)
{
	sigset_t with_host = *unblocked;
	struct pollfd pfd[2];
	struct timespec ts;
	uint64_t now;
	int timeout, n, port_i;

	sigaddset(&with_host, SIGIO);
	while (!stop_signal) {
		now = agent_now_ms();
		if (!a->connected && (port_signal || now >= a->retry_at_ms)) {
			port_signal = 0;
			agent_port_retry(a);
		}
		/* before any answer: a host that was there before us lost
		 * what it asked meanwhile (daqsd asks again at once) */
		if (a->connected && !a->announced)
			agent_announce(a);

		timeout = -1;
		if (!a->connected)
			timeout = timeout_to(now, a->retry_at_ms, timeout);
		else if (!a->held && daqs_ch_dec_pending(&a->dec))
			timeout = timeout_to(now, a->last_rx_ms + AGENT_STALL_MS,
					     timeout);
		if (a->connected && a->dec.stats.skipped != a->garbage_reported)
			timeout = timeout_to(now, a->garbage_report_ms +
					     AGENT_GARBAGE_REPORT_MS, timeout);

		n = 0;
		pfd[n].fd = nl_socket_get_fd(a->ev.sk);
		pfd[n++].events = POLLIN;
		port_i = -1;
		if (a->connected) {
			port_i = n;
			pfd[n].fd = a->port_fd;
			/* held input goes on when our answers are out */
			pfd[n++].events = (a->held ? POLLOUT : POLLIN) |
				(a->out.len > a->out.off ? POLLOUT : 0);
		}
		ts.tv_sec = timeout / 1000;
		ts.tv_nsec = (long)(timeout % 1000) * 1000000L;
		if (ppoll(pfd, (nfds_t)n, timeout < 0 ? NULL : &ts,
			  a->connected ? &with_host : unblocked) < 0) {
			if (errno == EINTR)
				continue;
			agent_log("poll: %s", strerror(errno));
			nap(100, unblocked);
			continue;
		}

		if (pfd[0].revents)
			agent_events(a);
		if (port_i >= 0 && a->connected && pfd[port_i].revents) {
			/* data first: a host may write and then hang up; but
			 * one that hung up will not read what is held back */
			if (a->held && (pfd[port_i].revents & (POLLHUP | POLLERR))) {
				agent_port_lost(a, "end of stream");
				continue;
			}
			if ((pfd[port_i].revents &
			     (POLLIN | POLLOUT | POLLHUP | POLLERR)) &&
			    !agent_port_read(a)) {
				agent_port_lost(a, "end of stream");
				continue;
			}
		}
		if (!a->connected)
			continue;

		now = agent_now_ms();
		/* a cut-off frame whose rest never came: look past it */
		if (!a->held && daqs_ch_dec_pending(&a->dec) &&
		    now >= a->last_rx_ms + AGENT_STALL_MS) {
			agent_log_limited(9, "giving up a partial frame of %zu bytes",
					  daqs_ch_dec_pending(&a->dec));
			a->last_rx_ms = now;
			/* what follows it, in turn with the answers */
			while (a->connected && !a->held &&
			       daqs_ch_dec_abandon(&a->dec))
				if (!agent_port_consume(a)) {
					agent_port_lost(a, "write failed");
					break;
				}
			if (!a->connected)
				continue;
		}
		agent_report_garbage(a, now);
		if (a->out.len > a->out.off && !agent_port_flush(a))
			agent_port_lost(a, "write failed");
	}
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	char err[AGENT_ERRLEN], dev[DAQS_FMT_LEN];
	sigset_t block, unblocked;
	struct agent *a;
	int ret, status = 1;

	a = calloc(1, sizeof(*a));
	if (!a) {
		fprintf(stderr, AGENT_PROG ": %s\n", strerror(ENOMEM));
		return 1;
	}
	a->port_fd = -1;
	a->sandbox = true;
	a->ctrl_grp = -1;
	a->backoff_ms = AGENT_BACKOFF_MIN_MS;
	daqs_ch_dec_init(&a->dec);
	ret = parse_args(argc, argv, a);
	if (ret) {
		free(a);
		return ret < 0 ? 0 : 1;
	}

	/* signals arrive only while waiting in ppoll(), so none is missed */
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGIO);
	sigprocmask(SIG_BLOCK, &block, &unblocked);
	sigdelset(&unblocked, SIGTERM);
	sigdelset(&unblocked, SIGINT);
	sigdelset(&unblocked, SIGHUP);
	sigdelset(&unblocked, SIGIO);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = on_sigio;
	sigaction(SIGIO, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);

	if (agent_nl_open(a, err, sizeof(err))) {
		agent_log("%s", err);
		goto out_free;
	}
	if (!open_port(a, &unblocked)) {
		status = 0;
		goto out_nl;
	}
	if (a->sandbox) {
		if (agent_drop_caps(err, sizeof(err)) ||
		    agent_seccomp(a->kind == AGENT_PORT_UNIX, err, sizeof(err))) {
			agent_log("%s; not running without the sandbox", err);
			goto out_port;
		}
	}
	if (a->pin.type == AGENT_SEL_MAC)
		daqs_format_mac(dev, sizeof(dev), a->pin.mac);
	else
		snprintf(dev, sizeof(dev), "%s", a->pin.ifname);
	agent_log("serving %s%s%s", a->port_path,
		  a->pin.type == AGENT_SEL_NONE ? "" : " for ", dev);
	if (!a->sandbox)
		agent_log("warning: running without the sandbox");

	loop(a, &unblocked);
	agent_log("exiting on signal %d: %llu requests, %llu errors sent, %llu bad frames, %llu bytes skipped, %llu events, %llu frames dropped",
		  (int)stop_signal, (unsigned long long)a->n.requests,
		  (unsigned long long)a->n.errors,
		  (unsigned long long)a->n.bad_frames,
		  (unsigned long long)a->dec.stats.skipped,
		  (unsigned long long)a->n.events,
		  (unsigned long long)a->n.dropped);
	status = 0;
out_port:
	if (a->port_fd >= 0)
		close(a->port_fd);
out_nl:
	agent_nl_close(a);
out_free:
	free(a);
	return status;
}
