// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * cpload - the control plane's load: N guests played by one process against
 * a real daqsd, for tests/bench/cp.sh (issue 5, part 3).
 *
 *   cpload -n N -d DIR [-t TICK_MS] [-r CAPACITY_BPS] [-s SEED] [-w WARMUP_S]
 *          [-m MEASURE_S] [-T READY_TIMEOUT_S] [-p DAQSD_PID] [-C CTL_SOCKET] [-v]
 *
 * Each guest i (1..N) listens where libvirt would put its channel,
 * DIR/domain-<i>-vm<i>/org.daqs.0 (daqsd finds them with inotify), and
 * answers HELLO, GET, SET and DEL as daqs-agent does when started without a
 * device: no binding in the HELLO reply, a GET answered with the guest's one
 * binding ("eth0", MAC 52:54:xx:xx:xx:xx from i), so daqsd learns it. The
 * binding's counters grow at min(demand(t), limit in force); leases expire
 * to the fallback rate as in the kernel. demand(t) is a synthetic curve per
 * guest, drawn from SEED: a square wave (on/off), a sawtooth ramp or a
 * constant, between 0.05 and 3 times the fair share CAPACITY/N, with a
 * period of 2-8 s and a random phase. The same SEED gives the same curves.
 *
 * All sockets are non-blocking, under one epoll. cpload waits until every
 * guest has received a limit (READY_TIMEOUT_S, default 60), then WARMUP_S
 * (default 3), then measures for MEASURE_S (default 10; 0: serve until
 * SIGTERM, measuring nothing):
 *   - daqsd's CPU (utime+stime of /proc/PID/stat over the window, in % of
 *     one core; cpu_sys_pct: stime alone), VmRSS and VmHWM at the end,
 *     how often it was preempted (nonvoluntary context switches) and the
 *     part of the machine's CPU time its hypervisor stole (-p);
 *   - the guest side of the tick latency: for each round (the GETs of one
 *     tick; a guest's second GET, or one 3/4 tick after the round's first,
 *     starts the next), the time from its first GET received to the last
 *     SET received by a guest of that round; rounds with no SET are not
 *     counted; g_backlog counts the GETs that found the guest's previous
 *     one unread (cpload was behind: its rounds include that delay);
 *   - daqsd's own view of it, from its control socket (-C): the tick_lat_*
 *     fields of the daqsd record, and how many VMs it controls.
 * Then one line on stdout, "cpload key=value ...", and exit 0 (1 if not
 * every guest got a limit, 2 for a usage error). Progress goes to stderr,
 * and with -v one line per round.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "channel.h"
#include "ctlproto.h"
#include "ticklat.h"

#define OUT_MAX 2048U		/* replies not yet written, per guest */
#define ROUNDS 16U		/* rounds still open to their SETs */
#define NSEC 1000000000ULL

enum shape { SQUARE, RAMP, CONSTANT, SHAPES };

struct guest {
	unsigned int id;
	int lfd, fd;
	struct daqs_ch_decoder dec;
	uint8_t out[OUT_MAX];
	size_t out_len;

	/* the binding, as daqs.ko keeps it */
	uint8_t mac[DAQS_MAC_LEN];
	uint64_t rate, set_rate, fallback;	/* rate 0: no limit */
	uint32_t lease_ms;
	uint64_t lease_end_ns;
	bool expired;
	uint64_t wire, last_ns;

	/* its demand */
	enum shape shape;
	uint64_t lo_bps, hi_bps, period_ns, phase_ns;

	uint64_t gets, sets, hellos, connects;
	bool got_set;
	uint64_t round;		/* the round of its last GET; 0: none */
};

struct round {
	uint64_t id;		/* 0: free */
	uint64_t first_get_ns, last_get_ns, last_set_ns;
	unsigned int gets, sets;
};

static struct guest *guests;
static unsigned int n_guests, n_ready;
static uint64_t start_ns, tick_ns = 100000000ULL;
static struct round rounds[ROUNDS];
static uint64_t cur_round;
static uint64_t win_start_ns, win_end_ns;	/* 0: not measuring */
static uint32_t *lat_us;
static size_t n_lat, cap_lat;
static uint64_t bad_frames, overflows, drops, backlog;
static struct daqs_ch_builder bld;
static volatile sig_atomic_t stop;
static bool verbose;

static void on_sig(int s)
{
	(void)s;
	stop = 1;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NSEC + (uint64_t)ts.tv_nsec;
}

/* splitmix64: one stream per guest, from the seed */
static uint64_t mix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* uniform in [lo, hi) */
static double uniform(uint64_t *s, double lo, double hi)
{
	return lo + (hi - lo) * (double)(mix(s) >> 11) / 9007199254740992.0;
}

static uint64_t demand(const struct guest *g, uint64_t t)
{
	uint64_t x = (t - start_ns + g->phase_ns) % g->period_ns;
	double f = (double)x / (double)g->period_ns;

	switch (g->shape) {
	case SQUARE:
		return f < 0.5 ? g->hi_bps : g->lo_bps;
	case RAMP:
		return g->lo_bps + (uint64_t)((double)(g->hi_bps - g->lo_bps) * f);
	default:
		return (g->lo_bps + g->hi_bps) / 2;
	}
}

/* the counters, up to now */
static void advance(struct guest *g, uint64_t t)
{
	uint64_t r, d;

	if (g->lease_ms && !g->expired && t >= g->lease_end_ns) {
		g->expired = true;
		g->rate = g->fallback;
	}
	d = demand(g, t);
	r = g->rate && g->rate < d ? g->rate : d;
	if (t > g->last_ns)
		g->wire += (uint64_t)((double)r / 8 * (double)(t - g->last_ns) / 1e9);
	g->last_ns = t;
}

/* ---- the guest side of the tick latency -------------------------------------- */

static void record_lat(uint64_t ns)
{
	uint32_t *p;

	if (n_lat == cap_lat) {
		cap_lat = cap_lat ? 2 * cap_lat : 1024;
		p = realloc(lat_us, cap_lat * sizeof(*p));
		if (!p) {
			drops++;
			return;
		}
		lat_us = p;
	}
	lat_us[n_lat++] = ns / 1000 > UINT32_MAX ? UINT32_MAX : (uint32_t)(ns / 1000);
}

static void round_close(struct round *r)
{
	if (verbose && r->id)
		fprintf(stderr, "cpload: round %" PRIu64 " at %.3f s: %u GETs over %.3f ms, %u SETs, last %.3f ms after the first GET\n",
			r->id, (double)(r->first_get_ns - start_ns) / 1e9, r->gets,
			(double)(r->last_get_ns - r->first_get_ns) / 1e6, r->sets,
			(double)(r->last_set_ns - r->first_get_ns) / 1e6);
	if (r->id && r->sets && win_start_ns && r->first_get_ns >= win_start_ns &&
	    (!win_end_ns || r->first_get_ns < win_end_ns))
		record_lat(r->last_set_ns - r->first_get_ns);
	r->id = 0;
}

static void round_get(struct guest *g, uint64_t t)
{
	struct round *r = &rounds[cur_round % ROUNDS];

	/*
	 * A guest's second GET in a round is the next tick's, unless it
	 * comes less than a quarter tick after the round began: then both
	 * waited in its socket while cpload was behind (counted).
	 */
	if (cur_round && g->round == cur_round &&
	    t - r->first_get_ns <= tick_ns / 4)
		backlog++;
	else if (!cur_round || g->round == cur_round ||
		 t - r->first_get_ns > tick_ns * 3 / 4) {
		r = &rounds[++cur_round % ROUNDS];
		round_close(r);
		r->id = cur_round;
		r->first_get_ns = t;
		r->last_set_ns = t;
		r->gets = r->sets = 0;
	}
	r->last_get_ns = t;
	r->gets++;
	g->round = cur_round;
}

static void round_set(struct guest *g, uint64_t t)
{
	struct round *r = &rounds[g->round % ROUNDS];

	if (g->round && r->id == g->round) {
		r->last_set_ns = t;
		r->sets++;
	}
}

/* ---- the channel ------------------------------------------------------------------ */

static void guest_close(struct guest *g)
{
	if (g->fd < 0)
		return;
	close(g->fd);
	g->fd = -1;
	g->out_len = 0;
}

static void arm(int ep, struct guest *g, bool out)
{
	struct epoll_event ev = {
		.events = EPOLLIN | (out ? EPOLLOUT : 0),
		.data.u64 = (uint64_t)(g - guests) << 1 | 1,
	};

	(void)epoll_ctl(ep, EPOLL_CTL_MOD, g->fd, &ev);
}

/* writes what is queued; false if the connection broke */
static bool flush_out(int ep, struct guest *g)
{
	ssize_t w;

	while (g->out_len) {
		w = send(g->fd, g->out, g->out_len, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (w > 0) {
			memmove(g->out, g->out + w, g->out_len - (size_t)w);
			g->out_len -= (size_t)w;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			arm(ep, g, true);
			return true;
		}
		guest_close(g);
		return false;
	}
	arm(ep, g, false);
	return true;
}

static void reply(int ep, struct guest *g)
{
	int n = daqs_ch_end(&bld);
	ssize_t w = 0;

	if (n < 0)
		return;
	if (!g->out_len) {
		w = send(g->fd, bld.buf, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
		    errno != EINTR) {
			guest_close(g);
			return;
		}
		if (w < 0)
			w = 0;
		if (w == n)
			return;
	}
	if ((size_t)(n - w) > OUT_MAX - g->out_len) {
		overflows++;	/* daqsd does not read: as a full port */
		guest_close(g);
		return;
	}
	memcpy(g->out + g->out_len, bld.buf + w, (size_t)(n - w));
	g->out_len += (size_t)(n - w);
	flush_out(ep, g);
}

static void put_binding(struct guest *g, uint64_t t)
{
	daqs_ch_nest_begin(&bld, DAQS_CH_A_BINDING);
	daqs_ch_put_string(&bld, DAQS_A_IFNAME, "eth0");
	daqs_ch_put(&bld, DAQS_A_MAC, g->mac, DAQS_MAC_LEN);
	daqs_ch_put_u8(&bld, DAQS_A_STATE, DAQS_STATE_ATTACHED);
	daqs_ch_put_u64(&bld, DAQS_A_RATE_BPS, g->rate);
	daqs_ch_put_u64(&bld, DAQS_A_SET_RATE_BPS, g->set_rate);
	daqs_ch_put_u32(&bld, DAQS_A_LEASE_MS, g->lease_ms);
	daqs_ch_put_u64(&bld, DAQS_A_FALLBACK_BPS, g->fallback);
	daqs_ch_put_u8(&bld, DAQS_A_LEASE_STATE, !g->lease_ms ? DAQS_LEASE_NONE :
		       g->expired ? DAQS_LEASE_EXPIRED : DAQS_LEASE_ACTIVE);
	daqs_ch_put_u32(&bld, DAQS_A_LEASE_LEFT_MS, g->lease_ms && !g->expired ?
			(uint32_t)((g->lease_end_ns - t) / 1000000) : 0);
	daqs_ch_nest_begin(&bld, DAQS_A_STATS);
	daqs_ch_put_u64(&bld, DAQS_STATS_A_TIMESTAMP_NS, t);
	daqs_ch_put_u64(&bld, DAQS_STATS_A_TX_BYTES, g->wire);
	daqs_ch_put_u64(&bld, DAQS_STATS_A_TX_WIRE_BYTES, g->wire);
	daqs_ch_nest_end(&bld);
	daqs_ch_nest_end(&bld);
}

static void handle(int ep, struct guest *g, const struct daqs_ch_frame *f)
{
	struct daqs_ch_nla tb[DAQS_CH_A_MAX + 1], btb[DAQS_A_MAX + 1];
	uint64_t t = now_ns();
	char err[128];
	int errnum = 0;

	advance(g, t);
	if (daqs_ch_msg_parse(f, tb, &errnum, err, sizeof(err)) ||
	    (f->flags & DAQS_CH_F_REPLY)) {
		bad_frames++;
		daqs_ch_begin(&bld, DAQS_CH_T_ERROR, 0, f->seq);
		daqs_ch_put_u32(&bld, DAQS_CH_A_ERRNO, errnum ? (uint32_t)errnum : EBADMSG);
		reply(ep, g);
		return;
	}
	daqs_ch_begin(&bld, f->type, DAQS_CH_F_REPLY, f->seq);
	switch (f->type) {
	case DAQS_CH_T_HELLO:
		daqs_ch_put_u32(&bld, DAQS_CH_A_VERSION, DAQS_CH_VERSION);
		daqs_ch_put_string(&bld, DAQS_CH_A_PEER_NAME, "cpload");
		daqs_ch_put_u8(&bld, DAQS_CH_A_MODULE, 1);
		g->hellos++;
		break;
	case DAQS_CH_T_GET:
		round_get(g, t);
		put_binding(g, t);
		g->gets++;
		break;
	case DAQS_CH_T_SET:
		if (!tb[DAQS_CH_A_BINDING].data ||
		    daqs_ch_binding_parse(&tb[DAQS_CH_A_BINDING], f->type,
					  f->flags, btb, err, sizeof(err))) {
			bad_frames++;
			daqs_ch_begin(&bld, DAQS_CH_T_ERROR, 0, f->seq);
			daqs_ch_put_u32(&bld, DAQS_CH_A_ERRNO, EINVAL);
			break;
		}
		if (btb[DAQS_A_RATE_BPS].data)
			g->set_rate = g->rate = daqs_ch_get_u64(&btb[DAQS_A_RATE_BPS]);
		if (btb[DAQS_A_LEASE_MS].data)
			g->lease_ms = daqs_ch_get_u32(&btb[DAQS_A_LEASE_MS]);
		if (btb[DAQS_A_FALLBACK_BPS].data)
			g->fallback = daqs_ch_get_u64(&btb[DAQS_A_FALLBACK_BPS]);
		g->lease_end_ns = t + (uint64_t)g->lease_ms * 1000000ULL;
		g->expired = false;
		g->sets++;
		if (!g->got_set) {
			g->got_set = true;
			n_ready++;
		}
		round_set(g, t);
		break;
	case DAQS_CH_T_DEL:
		g->rate = g->set_rate = g->fallback = 0;
		g->lease_ms = 0;
		g->expired = false;
		break;
	default:
		daqs_ch_begin(&bld, DAQS_CH_T_ERROR, 0, f->seq);
		daqs_ch_put_u32(&bld, DAQS_CH_A_ERRNO, EOPNOTSUPP);
		break;
	}
	reply(ep, g);
}

static void on_conn(int ep, struct guest *g, uint32_t events)
{
	struct daqs_ch_frame f;
	enum daqs_ch_dec_result r;
	uint8_t buf[8192];
	size_t off;
	ssize_t n;

	if ((events & EPOLLOUT) && !flush_out(ep, g))
		return;
	if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		return;
	for (;;) {
		n = recv(g->fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			guest_close(g);
			return;
		}
		for (off = 0; off < (size_t)n && g->fd >= 0;) {
			off += daqs_ch_dec_feed(&g->dec, buf + off, (size_t)n - off);
			while (g->fd >= 0 &&
			       (r = daqs_ch_dec_next(&g->dec, &f)) != DAQS_CH_DEC_NEED) {
				if (r == DAQS_CH_DEC_FRAME)
					handle(ep, g, &f);
				else
					bad_frames++;
			}
		}
		if (g->fd < 0 || (size_t)n < sizeof(buf))
			return;
	}
}

static void on_listen(int ep, struct guest *g)
{
	struct epoll_event ev = { .events = EPOLLIN };
	int fd;

	fd = accept4(g->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return;
	/* a host that comes again replaces the one before, as on a port */
	guest_close(g);
	g->fd = fd;
	g->connects++;
	daqs_ch_dec_reset(&g->dec);
	ev.data.u64 = (uint64_t)(g - guests) << 1 | 1;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev)) {
		perror("cpload: epoll_ctl");
		guest_close(g);
	}
}

/* ---- setup ---------------------------------------------------------------------- */

static int guest_init(int ep, struct guest *g, unsigned int id, const char *dir,
		      uint64_t fair_bps, uint64_t seed)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct epoll_event ev = { .events = EPOLLIN };
	uint64_t s = seed ^ ((uint64_t)id * 0xd1b54a32d192ed03ULL);
	char d[sizeof(sa.sun_path)];
	int n;

	g->id = id;
	g->fd = -1;
	daqs_ch_dec_init(&g->dec);
	g->mac[0] = 0x52;
	g->mac[1] = 0x54;
	g->mac[2] = (uint8_t)(id >> 24);
	g->mac[3] = (uint8_t)(id >> 16);
	g->mac[4] = (uint8_t)(id >> 8);
	g->mac[5] = (uint8_t)id;
	g->shape = (enum shape)(mix(&s) % SHAPES);
	g->lo_bps = (uint64_t)(uniform(&s, 0.05, 0.5) * (double)fair_bps);
	g->hi_bps = (uint64_t)(uniform(&s, 1.5, 3.0) * (double)fair_bps);
	g->period_ns = (uint64_t)(uniform(&s, 2.0, 8.0) * (double)NSEC);
	g->phase_ns = mix(&s) % g->period_ns;
	g->last_ns = now_ns();

	n = snprintf(d, sizeof(d), "%s/domain-%u-vm%u", dir, id, id);
	if (n < 0 || (size_t)n >= sizeof(d) ||
	    (size_t)snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/" DAQS_CH_PORT_NAME,
			     d) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "cpload: %s: the socket path is too long\n", dir);
		return -1;
	}
	if (mkdir(d, 0755) && errno != EEXIST) {
		fprintf(stderr, "cpload: Unable to create %s: %s\n", d, strerror(errno));
		return -1;
	}
	unlink(sa.sun_path);
	g->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (g->lfd < 0 || bind(g->lfd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    listen(g->lfd, 4)) {
		fprintf(stderr, "cpload: Unable to listen on %s: %s\n", sa.sun_path,
			strerror(errno));
		return -1;
	}
	ev.data.u64 = (uint64_t)(g - guests) << 1;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, g->lfd, &ev)) {
		perror("cpload: epoll_ctl");
		return -1;
	}
	return 0;
}

static void guest_fini(struct guest *g, const char *dir)
{
	char p[PATH_MAX];

	guest_close(g);
	if (g->lfd >= 0)
		close(g->lfd);
	snprintf(p, sizeof(p), "%s/domain-%u-vm%u/" DAQS_CH_PORT_NAME, dir, g->id, g->id);
	unlink(p);
	snprintf(p, sizeof(p), "%s/domain-%u-vm%u", dir, g->id, g->id);
	rmdir(p);
}

/* ---- daqsd, seen from outside ---------------------------------------------------- */

struct proc_sample {
	bool ok;
	uint64_t cpu_ticks;	/* utime + stime */
	uint64_t sys_ticks;	/* stime: in the kernel */
	uint64_t rss_kib, hwm_kib;
	uint64_t nvcsw;		/* preempted (nonvoluntary_ctxt_switches) */
	uint64_t all_ticks, steal_ticks;	/* the machine's, /proc/stat */
};

/* the machine's CPU time and the part stolen by its hypervisor */
static void stat_read(struct proc_sample *ps)
{
	unsigned long long v[8] = { 0 };
	char buf[512];
	FILE *f = fopen("/proc/stat", "r");
	int i;

	if (!f)
		return;
	if (fgets(buf, sizeof(buf), f) &&
	    sscanf(buf, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0],
		   &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]) == 8) {
		for (i = 0; i < 8; i++)
			ps->all_ticks += v[i];
		ps->steal_ticks = v[7];
	}
	fclose(f);
}

static void proc_read(long pid, struct proc_sample *ps)
{
	char path[64], buf[1024], *p;
	unsigned long long ut, st;
	FILE *f;
	int i;

	memset(ps, 0, sizeof(*ps));
	stat_read(ps);
	if (pid <= 0)
		return;
	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return;
	p = fgets(buf, sizeof(buf), f) ? strrchr(buf, ')') : NULL;
	fclose(f);
	if (!p)
		return;
	/* after the name: state (3) ... utime (14), stime (15) */
	p += 2;
	for (i = 3; i < 14 && p; i++) {
		p = strchr(p, ' ');
		if (p)
			p++;
	}
	if (!p || sscanf(p, "%llu %llu", &ut, &st) != 2)
		return;
	ps->cpu_ticks = ut + st;
	ps->sys_ticks = st;
	snprintf(path, sizeof(path), "/proc/%ld/status", pid);
	f = fopen(path, "r");
	if (!f)
		return;
	while (fgets(buf, sizeof(buf), f)) {
		unsigned long long v;

		if (sscanf(buf, "VmRSS: %llu kB", &v) == 1)
			ps->rss_kib = v;
		else if (sscanf(buf, "VmHWM: %llu kB", &v) == 1)
			ps->hwm_kib = v;
		else if (sscanf(buf, "nonvoluntary_ctxt_switches: %llu", &v) == 1)
			ps->nvcsw = v;
	}
	fclose(f);
	ps->ok = true;
}

struct ctl_view {
	bool ok;
	uint64_t timed, late, n, p50, p99, max, vms, controlled;
	bool have_pctl;
};

/* `vms` on daqsd's control socket: its daqsd record and its VMs */
static void ctl_read(const char *path, struct ctl_view *cv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct pollfd pfd = { .events = POLLIN };
	struct daqs_ctl_rec *rec = calloc(1, sizeof(*rec));
	size_t len = 0, cap = 1 << 16;
	char *buf = malloc(cap), *line, *nl, *np;
	uint64_t deadline = now_ns() + 5 * NSEC;
	const char *v;
	ssize_t n;
	int fd = -1;

	memset(cv, 0, sizeof(*cv));
	if (!path || !buf || !rec || strlen(path) >= sizeof(sa.sun_path))
		goto out;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    write(fd, "vms\n", 4) != 4)
		goto out;
	pfd.fd = fd;
	for (;;) {
		if (len + 1 >= cap) {
			np = realloc(buf, cap * 2);
			if (!np)
				goto out;
			buf = np;
			cap *= 2;
		}
		if (now_ns() > deadline || poll(&pfd, 1, 1000) < 0)
			goto out;
		n = read(fd, buf + len, cap - 1 - len);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0)
			goto out;
		if (!n)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	for (line = buf; line && *line; line = nl) {
		nl = strchr(line, '\n');
		if (nl)
			*nl++ = '\0';
		if (daqs_ctl_parse(line, rec))
			continue;
		if (!strcmp(rec->kind, "daqsd")) {
			(void)daqs_ctl_get_u64(rec, "tick_lat_timed", &cv->timed);
			(void)daqs_ctl_get_u64(rec, "tick_lat_late", &cv->late);
			(void)daqs_ctl_get_u64(rec, "tick_lat_n", &cv->n);
			(void)daqs_ctl_get_u64(rec, "vms", &cv->vms);
			cv->have_pctl =
				!daqs_ctl_get_u64(rec, "tick_lat_p50_us", &cv->p50) &&
				!daqs_ctl_get_u64(rec, "tick_lat_p99_us", &cv->p99) &&
				!daqs_ctl_get_u64(rec, "tick_lat_max_us", &cv->max);
		} else if (!strcmp(rec->kind, "vm")) {
			v = daqs_ctl_get(rec, "controlled");
			cv->controlled += v && !strcmp(v, "yes");
		} else if (!strcmp(rec->kind, "end")) {
			cv->ok = true;
		}
	}
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	free(rec);
}

/* ---- main ------------------------------------------------------------------------ */

static void usage(void)
{
	fprintf(stderr,
		"usage: cpload -n N -d DIR [-t TICK_MS] [-r CAPACITY_BPS] [-s SEED]\n"
		"              [-w WARMUP_S] [-m MEASURE_S] [-T READY_TIMEOUT_S]\n"
		"              [-p DAQSD_PID] [-C CTL_SOCKET] [-v]\n");
}

static bool num(const char *s, uint64_t *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 0);
	return !errno && end != s && !*end && *s != '-';
}

int main(int argc, char **argv)
{
	uint64_t n = 0, tick_ms = 100, cap = 10000000000ULL, seed = 1, warm = 3,
		 measure = 10, ready_to = 60, pid = 0, t, ready_at = 0,
		 gets0 = 0, sets0 = 0, gets = 0, sets = 0, hellos = 0, connects = 0;
	const char *dir = NULL, *ctl = NULL;
	struct sigaction sig = { .sa_handler = on_sig };
	struct epoll_event evs[256];
	struct proc_sample p0, p1;
	struct ctl_view cv;
	struct rlimit rl;
	unsigned int i;
	int c, ep, k, rc = 0;
	double wall_s, cpu_pct = -1, sys_pct = -1;

	while ((c = getopt(argc, argv, "n:d:t:r:s:w:m:T:p:C:v")) != -1) {
		uint64_t *dst = NULL;

		switch (c) {
		case 'v': verbose = true; continue;
		case 'n': dst = &n; break;
		case 'd': dir = optarg; continue;
		case 't': dst = &tick_ms; break;
		case 'r': dst = &cap; break;
		case 's': dst = &seed; break;
		case 'w': dst = &warm; break;
		case 'm': dst = &measure; break;
		case 'T': dst = &ready_to; break;
		case 'p': dst = &pid; break;
		case 'C': ctl = optarg; continue;
		default: usage(); return 2;
		}
		if (!num(optarg, dst)) {
			fprintf(stderr, "cpload: -%c: '%s' is not a number\n", c, optarg);
			return 2;
		}
	}
	if (optind != argc || !dir || !n || n > 100000 || !tick_ms) {
		usage();
		return 2;
	}
	/* two descriptors a guest */
	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	sigaction(SIGTERM, &sig, NULL);
	sigaction(SIGINT, &sig, NULL);
	signal(SIGPIPE, SIG_IGN);
	tick_ns = tick_ms * 1000000ULL;
	n_guests = (unsigned int)n;
	start_ns = now_ns();
	ep = epoll_create1(EPOLL_CLOEXEC);
	guests = calloc(n_guests, sizeof(*guests));
	if (ep < 0 || !guests) {
		perror("cpload");
		return 1;
	}
	if (mkdir(dir, 0755) && errno != EEXIST) {
		fprintf(stderr, "cpload: Unable to create %s: %s\n", dir, strerror(errno));
		return 1;
	}
	for (i = 0; i < n_guests; i++) {
		guests[i].lfd = -1;
		guests[i].fd = -1;
	}
	for (i = 0; i < n_guests; i++) {
		if (guest_init(ep, &guests[i], i + 1, dir, cap / n, seed)) {
			rc = 1;
			goto out;
		}
	}
	fprintf(stderr, "cpload: %u guests listening in %s\n", n_guests, dir);

	while (!stop) {
		k = epoll_wait(ep, evs, sizeof(evs) / sizeof(evs[0]), 10);
		for (c = 0; c < k; c++) {
			struct guest *g = &guests[evs[c].data.u64 >> 1];

			if (evs[c].data.u64 & 1) {
				if (g->fd >= 0)
					on_conn(ep, g, evs[c].events);
			} else {
				on_listen(ep, g);
			}
		}
		t = now_ns();
		if (!ready_at && (n_ready == n_guests ||
				  t - start_ns > ready_to * NSEC)) {
			ready_at = t;
			fprintf(stderr, "cpload: %u of %u guests have a limit after %.1f s\n",
				n_ready, n_guests, (double)(t - start_ns) / 1e9);
			if (!measure)
				continue;
		}
		if (!measure || !ready_at)
			continue;
		if (!win_start_ns && t >= ready_at + warm * NSEC) {
			proc_read((long)pid, &p0);
			win_start_ns = now_ns();
			for (i = 0; i < n_guests; i++) {
				gets0 += guests[i].gets;
				sets0 += guests[i].sets;
			}
		}
		if (win_start_ns && t >= win_start_ns + measure * NSEC) {
			proc_read((long)pid, &p1);
			win_end_ns = now_ns();
			break;
		}
	}
	if (!win_end_ns) {
		if (measure)
			rc = 1;
		goto out;
	}
	/* the rounds still open, and their SETs so far */
	for (i = 0; i < ROUNDS; i++)
		round_close(&rounds[i]);
	ctl_read(ctl, &cv);
	for (i = 0; i < n_guests; i++) {
		gets += guests[i].gets;
		sets += guests[i].sets;
		hellos += guests[i].hellos;
		connects += guests[i].connects;
	}
	wall_s = (double)(win_end_ns - win_start_ns) / 1e9;
	if (p0.ok && p1.ok) {
		cpu_pct = (double)(p1.cpu_ticks - p0.cpu_ticks) /
			  (double)sysconf(_SC_CLK_TCK) / wall_s * 100.0;
		sys_pct = (double)(p1.sys_ticks - p0.sys_ticks) /
			  (double)sysconf(_SC_CLK_TCK) / wall_s * 100.0;
	}
	daqsd_pctl_sort(lat_us, n_lat);
	printf("cpload guests=%u tick_ms=%" PRIu64 " window_s=%.2f ready=%u"
	       " cpu_pct=%.2f cpu_sys_pct=%.2f rss_kib=%" PRIu64 " hwm_kib=%" PRIu64,
	       n_guests, tick_ms, wall_s, n_ready, cpu_pct, sys_pct, p1.rss_kib,
	       p1.hwm_kib);
	if (cv.ok && cv.have_pctl)
		printf(" d_p50_us=%" PRIu64 " d_p99_us=%" PRIu64 " d_max_us=%" PRIu64,
		       cv.p50, cv.p99, cv.max);
	else
		printf(" d_p50_us=NA d_p99_us=NA d_max_us=NA");
	printf(" preempted_per_s=%.0f steal_pct=%.2f",
	       p0.ok && p1.ok ? (double)(p1.nvcsw - p0.nvcsw) / wall_s : -1.0,
	       p1.all_ticks > p0.all_ticks ?
	       100.0 * (double)(p1.steal_ticks - p0.steal_ticks) /
	       (double)(p1.all_ticks - p0.all_ticks) : -1.0);
	printf(" d_n=%" PRIu64 " d_timed=%" PRIu64 " d_late=%" PRIu64
	       " d_controlled=%" PRIu64,
	       cv.n, cv.timed, cv.late, cv.controlled);
	if (n_lat)
		printf(" g_p50_us=%" PRIu32 " g_p99_us=%" PRIu32 " g_max_us=%" PRIu32,
		       daqsd_pctl(lat_us, n_lat, 500), daqsd_pctl(lat_us, n_lat, 990),
		       lat_us[n_lat - 1]);
	else
		printf(" g_p50_us=NA g_p99_us=NA g_max_us=NA");
	printf(" g_rounds=%zu g_backlog=%" PRIu64 " gets_per_s=%.0f sets_per_s=%.0f hellos=%" PRIu64
	       " connects=%" PRIu64 " bad_frames=%" PRIu64 " overflows=%" PRIu64 "\n",
	       n_lat, backlog, (double)(gets - gets0) / wall_s, (double)(sets - sets0) / wall_s,
	       hellos, connects, bad_frames, overflows);
	fflush(stdout);
	if (n_ready != n_guests)
		rc = 1;
out:
	for (i = 0; i < n_guests; i++)
		guest_fini(&guests[i], dir);
	free(guests);
	free(lat_us);
	close(ep);
	return rc;
}
