// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * ucat - a unix stream socket on stdin and stdout, for shell coprocesses
 * (QEMU's QMP socket, a virtio-serial port's host end).
 *
 *   ucat [-t MS] SOCKET
 *
 * Connects to SOCKET, trying again every 20 ms for up to MS milliseconds
 * (default 10000: QEMU makes its sockets a moment after it starts), then
 * copies stdin to the socket and the socket to stdout until the socket
 * closes. The end of stdin shuts down the sending side only (a QMP reply
 * may still be on its way); the socket closing ends ucat with status 0.
 * Exit status 1: no connection in time, or an I/O error.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int connect_to(const char *path, long timeout_ms)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	long long deadline = now_ms() + timeout_ms;
	struct timespec pause = { 0, 20 * 1000000L };
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "ucat: socket path too long: %s\n", path);
		return -1;
	}
	strcpy(sun.sun_path, path);
	for (;;) {
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0) {
			perror("ucat: socket");
			return -1;
		}
		if (!connect(fd, (struct sockaddr *)&sun, sizeof(sun)))
			return fd;
		close(fd);
		if (now_ms() >= deadline) {
			fprintf(stderr, "ucat: cannot connect to %s: %s\n",
				path, strerror(errno));
			return -1;
		}
		nanosleep(&pause, NULL);
	}
}

/* Copy what is readable on @from to @to; 0 at the end of @from. */
static ssize_t pump(int from, int to)
{
	char buf[65536];
	ssize_t n, k, off;

	do {
		n = read(from, buf, sizeof(buf));
	} while (n < 0 && errno == EINTR);
	if (n <= 0)
		return n;
	for (off = 0; off < n; off += k) {
		k = write(to, buf + off, (size_t)(n - off));
		if (k < 0 && errno == EINTR) {
			k = 0;
			continue;
		}
		if (k <= 0)
			return -1;
	}
	return n;
}

int main(int argc, char **argv)
{
	long timeout_ms = 10000;
	struct pollfd pfd[2];
	int opt, fd, nfds = 2;
	ssize_t n;

	while ((opt = getopt(argc, argv, "t:")) != -1) {
		switch (opt) {
		case 't':
			timeout_ms = strtol(optarg, NULL, 10);
			break;
		default:
			fprintf(stderr, "usage: ucat [-t MS] SOCKET\n");
			return 2;
		}
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "usage: ucat [-t MS] SOCKET\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	fd = connect_to(argv[optind], timeout_ms);
	if (fd < 0)
		return 1;
	pfd[0] = (struct pollfd){ .fd = fd, .events = POLLIN };
	pfd[1] = (struct pollfd){ .fd = STDIN_FILENO, .events = POLLIN };
	for (;;) {
		if (poll(pfd, (nfds_t)nfds, -1) < 0) {
			if (errno == EINTR)
				continue;
			perror("ucat: poll");
			return 1;
		}
		if (pfd[0].revents) {
			n = pump(fd, STDOUT_FILENO);
			if (n == 0)
				return 0;
			if (n < 0) {
				perror("ucat: socket");
				return 1;
			}
		}
		if (nfds == 2 && pfd[1].revents) {
			n = pump(STDIN_FILENO, fd);
			if (n < 0) {
				perror("ucat: stdin");
				return 1;
			}
			if (n == 0) {
				shutdown(fd, SHUT_WR);
				nfds = 1;
			}
		}
	}
}
