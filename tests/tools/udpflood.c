// SPDX-License-Identifier: GPL-2.0
/*
 * udpflood - send UDP datagrams as fast as the kernel takes them, or count
 * the ones that arrive; every datagram counted, for tests that add up
 * counters.
 *
 *   udpflood [-s BYTES] [-t SECONDS] [-E] ADDR PORT    send
 *   udpflood -l PORT [-t SECONDS]                      receive
 *
 * Sending: BYTES of payload per datagram (default 1472: 1514 on Ethernet),
 * with sendto() on an unconnected, blocking socket (so an ICMP error from
 * the peer never fails a later send, and a full socket buffer makes the
 * sender wait as a shaped device wants). Runs SECONDS (default: until
 * SIGTERM or SIGINT). -E: after a failed send wait 1 ms (a device that is
 * gone for a while must not cost the CPU the test needs). At the end it
 * prints one line:
 *
 *   sent=N bytes=B errors=E errno=LAST seconds=S
 *
 * sent counts the datagrams sendto() accepted: the kernel's UDP
 * OutDatagrams plus SndbufErrors (a datagram dropped below the socket,
 * e.g. by daqs in police mode, is accepted: the socket does not see it).
 * Receiving: prints "received=N bytes=B seconds=S" at the end.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int usage(void)
{
	fprintf(stderr, "usage: udpflood [-s BYTES] [-t SECONDS] [-E] ADDR PORT\n"
		"       udpflood -l PORT [-t SECONDS]\n");
	return 2;
}

int main(int argc, char **argv)
{
	unsigned long long sent = 0, bytes = 0, errors = 0;
	struct timespec pause = { 0, 1000000L };
	struct sockaddr_in sin = { .sin_family = AF_INET };
	double seconds = 0, start, end;
	int opt, fd, last_errno = 0, rcvbuf = 4 << 20;
	long size = 1472, listen_port = -1;
	bool err_pause = false;
	struct sigaction sa;
	static char buf[65536];
	ssize_t n;

	while ((opt = getopt(argc, argv, "s:t:El:")) != -1) {
		switch (opt) {
		case 's':
			size = strtol(optarg, NULL, 10);
			break;
		case 't':
			seconds = strtod(optarg, NULL);
			break;
		case 'E':
			err_pause = true;
			break;
		case 'l':
			listen_port = strtol(optarg, NULL, 10);
			break;
		default:
			return usage();
		}
	}
	if (size < 1 || size > 65507 || seconds < 0)
		return usage();
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;	/* no SA_RESTART: a blocked send ends */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		perror("udpflood: socket");
		return 1;
	}
	start = now_s();
	end = seconds > 0 ? start + seconds : 0;

	if (listen_port >= 0) {
		if (optind != argc || listen_port > 65535)
			return usage();
		setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf));
		sin.sin_port = htons((uint16_t)listen_port);
		if (bind(fd, (struct sockaddr *)&sin, sizeof(sin))) {
			perror("udpflood: bind");
			return 1;
		}
		if (end) {
			struct timeval tv = { 0, 200000 };

			setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		}
		while (!stop && (!end || now_s() < end)) {
			n = recv(fd, buf, sizeof(buf), 0);
			if (n >= 0) {
				sent++;
				bytes += (unsigned long long)n;
			}
		}
		printf("received=%llu bytes=%llu seconds=%.3f\n", sent, bytes,
		       now_s() - start);
		return 0;
	}

	if (optind + 2 != argc || inet_pton(AF_INET, argv[optind], &sin.sin_addr) != 1)
		return usage();
	sin.sin_port = htons((uint16_t)strtol(argv[optind + 1], NULL, 10));
	while (!stop) {
		if (end && !(sent & 63) && now_s() >= end)
			break;
		n = sendto(fd, buf, (size_t)size, 0, (struct sockaddr *)&sin,
			   sizeof(sin));
		if (n == size) {
			sent++;
			bytes += (unsigned long long)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		errors++;
		last_errno = n < 0 ? errno : EMSGSIZE;
		if (err_pause)
			nanosleep(&pause, NULL);
		if (end && now_s() >= end)
			break;
	}
	printf("sent=%llu bytes=%llu errors=%llu errno=%s seconds=%.3f\n", sent,
	       bytes, errors, last_errno ? strerrorname_np(last_errno) : "0",
	       now_s() - start);
	return 0;
}
