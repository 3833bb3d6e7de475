// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * chswap - hosts taking turns on the unix socket of a virtio-serial port
 * (QEMU's chardev), as fast as they can, the way a daqsd restarted right
 * after another host let go meets the daqs-agent at the guest's end:
 *
 *   chswap [-n N] [-t MS] [-l MS] [-T] [-L MS] [-g MS] SOCKET
 *
 * N hosts (default 100), one after the other. Each connects, sends a
 * HELLO at once (as daqsd does, 0-1 ms after connecting) and times its
 * answer from the connect; if none comes in -t MS (default 3000, daqsd's
 * wait), it sends another, as daqsd would after reconnecting. Once
 * answered it sends a GET, waits for its answer and closes; the next host
 * connects at once. With -T every other host also writes a second GET
 * and closes without waiting for it; with -L, each host stays MS longer
 * (reading what comes) before that; with -g, the next host connects MS
 * after the last went, not at once.
 *
 * Every host numbers its requests from a random seq of its own (as daqsd
 * does), so an answer to a seq it did not send is one meant for another
 * host. One to a request an earlier host left unanswered (a -T GET, a
 * HELLO that got no answer in time) is stale: the agent may well write it
 * after QEMU has let the next host in, and a host ignores it (daqsd does);
 * it is counted. Any other (a second answer, a seq no host sent) is
 * misdelivered: counted and printed.
 *
 * Output: a line for each HELLO answered later than -l MS (default 300)
 * or not in -t MS, each request unanswered and each misdelivered answer,
 * then
 *   chswap: N hosts: HELLO answered in p50 A, p90 B, max C ms; L late
 *   (> -l ms), U unanswered in -t ms, S stale answers, M misdelivered,
 *   D hosts dropped by QEMU
 * Exit status 0 if L, U, M and D are all 0; 1 otherwise; 2 on bad usage.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "channel.h"

#define MAX_HOSTS 100000
#define MAX_SENT 64
/* the hosts before the current one whose seqs are remembered */
#define HISTORY 8

static const char *sock_path;
static int wait_ms = 3000, late_ms = 300, linger_ms, gap_ms;

struct host {
	int fd;
	struct daqs_ch_decoder dec;
	uint32_t seqs[MAX_SENT];	/* every seq sent on this connection */
	bool answered[MAX_SENT];
	unsigned int nsent;
	uint32_t next_seq;
	bool dropped;		/* QEMU closed the connection */
};

static unsigned long n_misdelivered, n_stale, n_dropped;
static struct host history[HISTORY];
static unsigned int n_history;

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000U + (uint64_t)ts.tv_nsec / 1000000U;
}

static int host_connect(struct host *h)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	uint64_t deadline = now_ms() + 10000;

	memset(h, 0, sizeof(*h));
	if (getrandom(&h->next_seq, sizeof(h->next_seq), 0) !=
	    (ssize_t)sizeof(h->next_seq))
		h->next_seq = (uint32_t)now_ms() * 2654435761U;
	h->next_seq |= 1;	/* never 0, and room before the wrap */
	h->next_seq &= 0x7fffffffU;
	daqs_ch_dec_init(&h->dec);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", sock_path);
	for (;;) {
		h->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (h->fd < 0) {
			perror("chswap: socket");
			exit(1);
		}
		if (!connect(h->fd, (struct sockaddr *)&sun, sizeof(sun)))
			return 0;
		close(h->fd);
		if (now_ms() >= deadline) {
			fprintf(stderr, "chswap: cannot connect to %s: %s\n",
				sock_path, strerror(errno));
			return -1;
		}
		usleep(10000);
	}
}

/* sends one request; returns its seq */
static uint32_t host_send(struct host *h, uint8_t type)
{
	struct daqs_ch_builder b;
	uint32_t seq = h->next_seq++;
	const uint8_t *p;
	ssize_t k;
	int n;

	daqs_ch_begin(&b, type, 0, seq);
	if (type == DAQS_CH_T_HELLO) {
		daqs_ch_put_u32(&b, DAQS_CH_A_VERSION_MIN, 1);
		daqs_ch_put_u32(&b, DAQS_CH_A_VERSION_MAX, 1);
		daqs_ch_put_string(&b, DAQS_CH_A_PEER_NAME, "chswap");
	}
	n = daqs_ch_end(&b);
	if (h->nsent < MAX_SENT) {
		h->seqs[h->nsent] = seq;
		h->answered[h->nsent++] = false;
	}
	for (p = b.buf; n > 0; p += k, n -= (int)k) {
		k = send(h->fd, p, (size_t)n, MSG_NOSIGNAL);
		if (k < 0 && errno == EINTR) {
			k = 0;
			continue;
		}
		if (k <= 0) {
			h->dropped = true;
			break;
		}
	}
	return seq;
}

static int sent_index(const struct host *h, uint32_t seq)
{
	unsigned int i;

	for (i = 0; i < h->nsent; i++)
		if (h->seqs[i] == seq)
			return (int)i;
	return -1;
}

static bool is_answered(const struct host *h, uint32_t seq)
{
	int i = sent_index(h, seq);

	return i >= 0 && h->answered[i];
}

/* an answer to a request an earlier host sent: true if it is stale */
static bool earlier_host(uint32_t seq, unsigned long id, uint8_t type)
{
	unsigned int k;
	int i;

	for (k = 0; k < n_history; k++) {
		i = sent_index(&history[k], seq);
		if (i < 0)
			continue;
		if (history[k].answered[i]) {
			printf("host %lu: a second answer (type %u) to seq %" PRIu32
			       ", an earlier host's\n", id, type, seq);
			return false;
		}
		return true;
	}
	printf("host %lu: an answer (type %u) to seq %" PRIu32
	       ", which no host sent\n", id, type, seq);
	return false;
}

static bool any_answered(const struct host *h, const uint32_t *seqs,
			 unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (is_answered(h, seqs[i]))
			return true;
	return false;
}

/* reads what comes until deadline or until one of want[] is answered */
static void host_pump(struct host *h, unsigned long id, uint64_t deadline,
		      const uint32_t *want, unsigned int nwant)
{
	enum daqs_ch_dec_result r;
	struct daqs_ch_frame f;
	uint8_t buf[8192];
	struct pollfd pfd;
	size_t off;
	uint64_t t;
	ssize_t n;
	int i;

	while (!h->dropped) {
		t = now_ms();
		if (any_answered(h, want, nwant) || t >= deadline)
			return;
		pfd.fd = h->fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, (int)(deadline - t)) <= 0)
			continue;
		n = read(h->fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			h->dropped = true;
			n_dropped++;
			printf("host %lu: QEMU closed the connection\n", id);
			return;
		}
		for (off = 0; off < (size_t)n;) {
			off += daqs_ch_dec_feed(&h->dec, buf + off, (size_t)n - off);
			while ((r = daqs_ch_dec_next(&h->dec, &f)) != DAQS_CH_DEC_NEED) {
				if (r != DAQS_CH_DEC_FRAME)
					continue;
				if (f.type == DAQS_CH_T_EVENT ||
				    (f.type == DAQS_CH_T_ERROR && !f.seq))
					continue;
				i = sent_index(h, f.seq);
				if (i < 0) {
					if (earlier_host(f.seq, id, f.type))
						n_stale++;
					else
						n_misdelivered++;
					continue;
				}
				if (!(f.flags & DAQS_CH_F_MORE))
					h->answered[i] = true;
			}
		}
	}
}

static void remember(const struct host *h)
{
	memmove(history + 1, history, (HISTORY - 1) * sizeof(history[0]));
	history[0] = *h;
	if (n_history < HISTORY)
		n_history++;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	unsigned long n_hosts = 100, i, n_late = 0, n_unanswered = 0, n_lat = 0;
	uint64_t *lat, t_conn, t, deadline;
	uint32_t hellos[MAX_SENT], get;
	unsigned int nh;
	bool tails = false;
	struct host h;
	int c;

	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((c = getopt(argc, argv, "n:t:l:TL:g:h")) != -1) {
		switch (c) {
		case 'n':
			n_hosts = strtoul(optarg, NULL, 10);
			break;
		case 't':
			wait_ms = atoi(optarg);
			break;
		case 'l':
			late_ms = atoi(optarg);
			break;
		case 'T':
			tails = true;
			break;
		case 'L':
			linger_ms = atoi(optarg);
			break;
		case 'g':
			gap_ms = atoi(optarg);
			break;
		default:
			fprintf(stderr, "usage: chswap [-n N] [-t MS] [-l MS] [-T] [-L MS] [-g MS] SOCKET\n");
			return c == 'h' ? 0 : 2;
		}
	}
	if (optind + 1 != argc || !n_hosts || n_hosts > MAX_HOSTS ||
	    wait_ms <= 0 || late_ms <= 0 || linger_ms < 0 || gap_ms < 0) {
		fprintf(stderr, "usage: chswap [-n N] [-t MS] [-l MS] [-T] [-L MS] [-g MS] SOCKET\n");
		return 2;
	}
	sock_path = argv[optind];
	lat = calloc(n_hosts, sizeof(*lat));
	if (!lat)
		return 1;

	for (i = 1; i <= n_hosts; i++) {
		if (gap_ms && i > 1)
			usleep((useconds_t)gap_ms * 1000);
		if (host_connect(&h))
			return 1;
		t_conn = now_ms();
		/* a HELLO at once; another each wait_ms, as a reconnecting
		 * daqsd would send; any of them answered will do */
		nh = 0;
		deadline = t_conn;
		while (!h.dropped && nh < 4 && !any_answered(&h, hellos, nh)) {
			hellos[nh++] = host_send(&h, DAQS_CH_T_HELLO);
			deadline += (uint64_t)wait_ms;
			host_pump(&h, i, deadline, hellos, nh);
		}
		t = now_ms() - t_conn;
		if (!any_answered(&h, hellos, nh)) {
			printf("host %lu: no answer to %u HELLOs in %" PRIu64 " ms\n",
			       i, nh, t);
			n_unanswered++;
			close(h.fd);
			remember(&h);
			continue;
		}
		lat[n_lat++] = t;
		if (nh > 1) {
			n_unanswered++;
			printf("host %lu: HELLO unanswered in %d ms; answered %" PRIu64
			       " ms after the connect, to HELLO %u\n", i, wait_ms, t, nh);
		} else if (t > (uint64_t)late_ms) {
			n_late++;
			printf("host %lu: HELLO answered %" PRIu64 " ms after the connect\n",
			       i, t);
		}
		get = host_send(&h, DAQS_CH_T_GET);
		host_pump(&h, i, now_ms() + (uint64_t)wait_ms, &get, 1);
		if (!h.dropped && !is_answered(&h, get)) {
			n_unanswered++;
			printf("host %lu: GET seq %" PRIu32 " unanswered in %d ms\n",
			       i, get, wait_ms);
		}
		if (linger_ms)
			host_pump(&h, i, now_ms() + (uint64_t)linger_ms, NULL, 0);
		/* a request left behind: written, not waited for */
		if (tails && i % 2)
			(void)host_send(&h, DAQS_CH_T_GET);
		close(h.fd);
		remember(&h);
	}

	qsort(lat, n_lat, sizeof(*lat), cmp_u64);
	printf("chswap: %lu hosts: HELLO answered in p50 %" PRIu64 ", p90 %" PRIu64
	       ", max %" PRIu64 " ms; %lu late (> %d ms), %lu unanswered in %d ms, "
	       "%lu stale answers, %lu misdelivered, %lu hosts dropped by QEMU\n",
	       n_hosts, n_lat ? lat[n_lat / 2] : 0,
	       n_lat ? lat[n_lat * 9 / 10] : 0, n_lat ? lat[n_lat - 1] : 0,
	       n_late, late_ms, n_unanswered, wait_ms, n_stale, n_misdelivered,
	       n_dropped);
	free(lat);
	return n_late || n_unanswered || n_misdelivered || n_dropped ? 1 : 0;
}
