// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * fakevm - a guest played on the host, for tests/daqsd-e2e.sh: listens on a
 * unix socket as QEMU does for a virtio-serial port (daqsd connects to it)
 * and answers daqsd as daqs-agent would for one device, "eth0", whose
 * counters grow at min(offered rate, limit in force). Leases expire as in
 * the kernel (the limit falls back to the fallback rate).
 *
 *   fakevm [-r OFFERED_BPS] [-g GARBAGE_BYTES] [-G] [-L FRACTION] [-I]
 *          [-T FILE] SOCKET
 *   fakevm -n [-r OFFERED_BPS] -T FILE
 *
 * -g N: after every 10th GET reply, N random bytes (not frames) are written
 * on the channel as well. -G: only garbage, every 100 ms, no answers at all.
 * Every SET is one line on stdout: "set rate=N lease_ms=N fallback=N".
 *
 * For the verification of its VF's counters (tests/e2e/60-verify.sh):
 * -T FILE: what its VF sends, as the NIC would count it (its bytes plus a
 * 4-byte FCS per 1514-byte frame), written to FILE every 10 ms (a new file
 * renamed over it: daqsd's DAQSD_TEST_VF_STATS hook reads it).
 * -L FRACTION: a liar, whose counters show only this fraction of what it
 * sends. -I: ignores its limit (sends at the offered rate). SIGUSR1: it
 * complies from then on (tells the truth, keeps its limit). SIGUSR2: stops
 * answering (an agent that died, a module unloaded) while its VF keeps
 * sending; again: answers again.
 * -n: no channel at all (a DPDK guest): only its VF's counter.
 * Ends on SIGTERM or SIGINT.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "channel.h"

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static volatile sig_atomic_t stop, honest, mute;
static void on_sig(int s) { (void)s; stop = 1; }
static void on_usr1(int s) { (void)s; honest = 1; }
static void on_usr2(int s) { (void)s; mute = !mute; }

static uint64_t offered = 100000000, rate, set_rate, fallback, wire;
static uint32_t lease_ms;
static uint64_t lease_end, last_ns;
static int expired;
/* the VF's view: what it sent, framed as the NIC counts it */
static double lie = 1.0, sent, reported;
static int ignore_limit;
static const char *vf_file;
static uint64_t vf_written_ns;

static void write_vf(void)
{
	char tmp[4200];
	FILE *f;

	if (!vf_file || (size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", vf_file) >=
			sizeof(tmp))
		return;
	f = fopen(tmp, "w");
	if (!f)
		return;
	fprintf(f, "%.0f\n", sent + sent / 1514 * 4);
	if (fclose(f) == 0)
		rename(tmp, vf_file);
}

static void advance(void)
{
	uint64_t t = now_ns(), r;
	double b;

	if (lease_ms && !expired && t >= lease_end) {
		expired = 1;
		rate = fallback;
		printf("lease expired, fallback=%" PRIu64 "\n", fallback);
		fflush(stdout);
	}
	r = rate && rate < offered && (!ignore_limit || honest) ? rate : offered;
	b = (double)r / 8 * (double)(t - last_ns) / 1e9;
	sent += b;
	reported += honest ? b : b * lie;
	wire = (uint64_t)reported;
	last_ns = t;
	if (t >= vf_written_ns + 10000000ULL) {
		write_vf();
		vf_written_ns = t;
	}
}

static void send_all(int fd, const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n) {
		ssize_t w = write(fd, b, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		b += w;
		n -= (size_t)w;
	}
}

static void garbage(int fd, size_t n)
{
	uint8_t buf[4096];

	while (n) {
		size_t k = n < sizeof(buf) ? n : sizeof(buf), i;

		for (i = 0; i < k; i++)
			buf[i] = (uint8_t)random();
		send_all(fd, buf, k);
		n -= k;
	}
}

static void binding(struct daqs_ch_builder *b, int stats)
{
	daqs_ch_nest_begin(b, DAQS_CH_A_BINDING);
	daqs_ch_put_string(b, DAQS_A_IFNAME, "eth0");
	if (stats) {
		daqs_ch_put_u8(b, DAQS_A_STATE, DAQS_STATE_ATTACHED);
		daqs_ch_put_u64(b, DAQS_A_RATE_BPS, rate);
		daqs_ch_put_u64(b, DAQS_A_SET_RATE_BPS, set_rate);
		daqs_ch_put_u32(b, DAQS_A_LEASE_MS, lease_ms);
		daqs_ch_put_u64(b, DAQS_A_FALLBACK_BPS, fallback);
		daqs_ch_put_u8(b, DAQS_A_LEASE_STATE, !lease_ms ? DAQS_LEASE_NONE :
			       expired ? DAQS_LEASE_EXPIRED : DAQS_LEASE_ACTIVE);
		daqs_ch_put_u32(b, DAQS_A_LEASE_LEFT_MS, lease_ms && !expired ?
				(uint32_t)((lease_end - now_ns()) / 1000000) : 0);
		daqs_ch_nest_begin(b, DAQS_A_STATS);
		daqs_ch_put_u64(b, DAQS_STATS_A_TIMESTAMP_NS, now_ns());
		daqs_ch_put_u64(b, DAQS_STATS_A_TX_BYTES, wire);
		daqs_ch_put_u64(b, DAQS_STATS_A_TX_WIRE_BYTES, wire);
		daqs_ch_nest_end(b);
	}
	daqs_ch_nest_end(b);
}

static void handle(int fd, const struct daqs_ch_frame *f, long garbage_n,
		   unsigned long *gets)
{
	static struct daqs_ch_builder b;
	struct daqs_ch_nla tb[DAQS_CH_A_MAX + 1], btb[DAQS_A_MAX + 1];
	char err[128];
	int errnum = 0, n;

	advance();
	if (daqs_ch_msg_parse(f, tb, &errnum, err, sizeof(err)) ||
	    (f->flags & DAQS_CH_F_REPLY)) {
		daqs_ch_begin(&b, DAQS_CH_T_ERROR, 0, f->seq);
		daqs_ch_put_u32(&b, DAQS_CH_A_ERRNO, errnum ? (uint32_t)errnum : EBADMSG);
		goto out;
	}
	daqs_ch_begin(&b, f->type, DAQS_CH_F_REPLY, f->seq);
	switch (f->type) {
	case DAQS_CH_T_HELLO:
		daqs_ch_put_u32(&b, DAQS_CH_A_VERSION, DAQS_CH_VERSION);
		daqs_ch_put_string(&b, DAQS_CH_A_PEER_NAME, "fakevm");
		daqs_ch_put_u8(&b, DAQS_CH_A_MODULE, 1);
		binding(&b, 0);
		break;
	case DAQS_CH_T_GET:
		binding(&b, 1);
		(*gets)++;
		break;
	case DAQS_CH_T_SET:
		if (!tb[DAQS_CH_A_BINDING].data ||
		    daqs_ch_binding_parse(&tb[DAQS_CH_A_BINDING], f->type,
					  f->flags, btb, err, sizeof(err)))
			break;
		if (btb[DAQS_A_RATE_BPS].data)
			set_rate = rate = daqs_ch_get_u64(&btb[DAQS_A_RATE_BPS]);
		if (btb[DAQS_A_LEASE_MS].data)
			lease_ms = daqs_ch_get_u32(&btb[DAQS_A_LEASE_MS]);
		if (btb[DAQS_A_FALLBACK_BPS].data)
			fallback = daqs_ch_get_u64(&btb[DAQS_A_FALLBACK_BPS]);
		lease_end = now_ns() + (uint64_t)lease_ms * 1000000;
		expired = 0;
		printf("set rate=%" PRIu64 " lease_ms=%u fallback=%" PRIu64 "\n",
		       set_rate, lease_ms, fallback);
		fflush(stdout);
		break;
	default:
		daqs_ch_begin(&b, DAQS_CH_T_ERROR, 0, f->seq);
		daqs_ch_put_u32(&b, DAQS_CH_A_ERRNO, EOPNOTSUPP);
		break;
	}
out:
	n = daqs_ch_end(&b);
	if (n > 0)
		send_all(fd, b.buf, (size_t)n);
	if (garbage_n > 0 && f->type == DAQS_CH_T_GET && *gets % 10 == 0)
		garbage(fd, (size_t)garbage_n);
}

static void serve(int fd, long garbage_n, int only_garbage)
{
	static struct daqs_ch_decoder d;
	struct daqs_ch_frame f;
	enum daqs_ch_dec_result r;
	unsigned long gets = 0;
	uint8_t buf[65536];
	struct pollfd p = { .fd = fd, .events = POLLIN };

	daqs_ch_dec_init(&d);
	while (!stop) {
		int k = poll(&p, 1, vf_file ? 10 : 100);
		ssize_t n;
		size_t off = 0;

		if (vf_file)
			advance();
		if (k == 0 && only_garbage)
			garbage(fd, garbage_n > 0 ? (size_t)garbage_n : 512);
		if (k <= 0)
			continue;
		n = read(fd, buf, sizeof(buf));
		if (n <= 0)
			return;
		if (only_garbage) {
			garbage(fd, garbage_n > 0 ? (size_t)garbage_n : 512);
			continue;
		}
		if (mute)
			continue;	/* read, never answered */
		while (off < (size_t)n) {
			off += daqs_ch_dec_feed(&d, buf + off, (size_t)n - off);
			while ((r = daqs_ch_dec_next(&d, &f)) != DAQS_CH_DEC_NEED)
				if (r == DAQS_CH_DEC_FRAME)
					handle(fd, &f, garbage_n, &gets);
		}
	}
}

int main(int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct sigaction sig = { .sa_handler = on_sig };
	struct sigaction u1 = { .sa_handler = on_usr1 }, u2 = { .sa_handler = on_usr2 };
	long garbage_n = 0;
	int only_garbage = 0, no_channel = 0, ls, c;

	while ((c = getopt(argc, argv, "r:g:GL:IT:n")) != -1) {
		switch (c) {
		case 'r': offered = strtoull(optarg, NULL, 0); break;
		case 'g': garbage_n = strtol(optarg, NULL, 0); break;
		case 'G': only_garbage = 1; break;
		case 'L': lie = strtod(optarg, NULL); break;
		case 'I': ignore_limit = 1; break;
		case 'T': vf_file = optarg; break;
		case 'n': no_channel = 1; break;
		default: goto usage;
		}
	}
	sigaction(SIGTERM, &sig, NULL);
	sigaction(SIGINT, &sig, NULL);
	sigaction(SIGUSR1, &u1, NULL);
	sigaction(SIGUSR2, &u2, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (no_channel) {
		struct timespec tick = { .tv_nsec = 10000000 };

		if (optind != argc || !vf_file)
			goto usage;
		last_ns = now_ns();
		while (!stop) {
			advance();
			nanosleep(&tick, NULL);
		}
		return 0;
	}
	if (optind != argc - 1 || strlen(argv[optind]) >= sizeof(sa.sun_path))
		goto usage;
	srandom((unsigned int)getpid());
	strcpy(sa.sun_path, argv[optind]);
	unlink(sa.sun_path);
	ls = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (ls < 0 || bind(ls, (struct sockaddr *)&sa, sizeof(sa)) ||
	    listen(ls, 1)) {
		perror(sa.sun_path);
		return 1;
	}
	last_ns = now_ns();
	while (!stop) {
		struct pollfd lp = { .fd = ls, .events = POLLIN };
		int fd;

		/* its VF sends while nobody is connected too */
		if (vf_file)
			advance();
		if (poll(&lp, 1, vf_file ? 10 : 1000) <= 0)
			continue;
		fd = accept(ls, NULL, NULL);
		if (fd < 0)
			continue;
		printf("connected\n");
		fflush(stdout);
		serve(fd, garbage_n, only_garbage);
		close(fd);
		printf("disconnected\n");
		fflush(stdout);
	}
	unlink(sa.sun_path);
	return 0;
usage:
	fprintf(stderr, "usage: fakevm [-r OFFERED_BPS] [-g N] [-G] [-L FRACTION] [-I] [-T FILE] SOCKET\n"
		"       fakevm -n [-r OFFERED_BPS] -T FILE\n");
	return 2;
}
