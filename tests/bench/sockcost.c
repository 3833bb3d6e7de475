// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * sockcost - what this machine charges for one 100-byte send() and recv()
 * on a unix stream socket, for tests/bench/cp.sh: the floor under daqsd's
 * cost per message.
 *
 *   sockcost N ROUNDS
 *
 * N socketpairs; ROUNDS times, one send on each in turn, then as many
 * recvs (in blocks of 100 rounds, so no socket's buffer fills). With N = 1 the socket stays in the caches; with N = 1000 each call
 * meets a socket last touched a thousand calls ago, as daqsd's do with a
 * thousand VMs. Prints "sockets=N send_us=X recv_us=Y".
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	char buf[128] = { 0 };
	double t0, t_send = 0, t_recv = 0;
	long n, rounds, i, k, b, block, ops;
	int (*sp)[2];

	if (argc != 3 || (n = atol(argv[1])) < 1 || (rounds = atol(argv[2])) < 1 ||
	    n > 100000) {
		fprintf(stderr, "usage: sockcost N ROUNDS\n");
		return 2;
	}
	sp = calloc((size_t)n, sizeof(*sp));
	if (!sp)
		return 1;
	for (i = 0; i < n; i++) {
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
			       sp[i])) {
			perror("sockcost: socketpair");
			return 1;
		}
	}
	ops = n * rounds;
	for (k = 0; k < rounds; k += block) {
		block = rounds - k < 100 ? rounds - k : 100;
		t0 = now_s();
		for (b = 0; b < block; b++)
			for (i = 0; i < n; i++)
				if (send(sp[i][0], buf, 100,
					 MSG_DONTWAIT | MSG_NOSIGNAL) != 100)
					return 1;
		t_send += now_s() - t0;
		t0 = now_s();
		for (b = 0; b < block; b++)
			for (i = 0; i < n; i++)
				if (recv(sp[i][1], buf, 100, MSG_DONTWAIT) != 100)
					return 1;
		t_recv += now_s() - t0;
	}
	printf("sockets=%ld send_us=%.2f recv_us=%.2f\n", n,
	       t_send / (double)ops * 1e6, t_recv / (double)ops * 1e6);
	for (i = 0; i < n; i++) {
		close(sp[i][0]);
		close(sp[i][1]);
	}
	free(sp);
	return 0;
}
