// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The real daqsd ($DAQSD, under $VALGRIND when set) against fake guests
 * played by this test over unix sockets, listening as QEMU does
 * (server=on,wait=off):
 *
 *   good   configured (socket =), min 20mbit: a well-behaved agent whose
 *          counters grow at min(demand, limit in force) on its own clock
 *   bad    configured: floods garbage without reading, then stalls; on its
 *          next connections it shakes hands and never answers again
 *   web2   appears in the watched libvirt directory (domain-7-web2/
 *          org.daqs.0) mid-run, well-behaved, min 10mbit; then disappears
 *
 * Checked: good gets SETs with the lease and fallback, renewed before the
 * lease runs out whatever bad does; limits follow the allocator (100 alone,
 * 50/50 with web2, 100 again after it left, a max after a reload); web2 is
 * found by inotify and dropped when its socket goes; `daqsctl vms` shows
 * them, with the tick latency; SIGHUP with a bad file keeps the old
 * configuration; bad files at
 * start exit 2 and start nothing; SIGTERM exits 0 (no leak under valgrind).
 *
 * Then a second daqsd with VMs that name a VF (vf =): one on a PF that does
 * not exist, one (as root) on a veth, which has no VFs: each is a VM with no
 * channel, says why its VF cannot be read in the log and in `daqsctl vms`;
 * a libvirt channel that appears for one is that VM's (not a second VM) and
 * is let go when its socket goes; a reload without its section removes it.
 * Real VFs (netdevsim) are in tests/e2e/60-verify.sh.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "channel.h"
#include "json_check.h"

#define MBIT 1000000ULL
/* renewed every half lease: the other half is the margin for a slow host */
#define LEASE_MS (valgrind() ? 2000U : 1000U)
#define GUEST_CLOCK_OFFSET_NS 1000000000000ULL	/* its own clock */

enum mode { GOOD, BAD };

struct guest {
	const char *name;
	enum mode mode;
	char path[160];
	char dir[120];			/* libvirt: its domain directory */
	int lfd, fd;
	struct daqs_ch_decoder dec;
	uint8_t out[1 << 16];
	size_t out_len;
	unsigned int conns;

	/* the agent's model of its binding */
	uint64_t demand_bps;
	uint64_t limit_bps;		/* set; 0: none */
	uint64_t fallback_bps;
	uint32_t lease_ms;
	uint64_t set_ns;
	bool expired;
	uint64_t bytes, last_ns;

	/* what it saw */
	unsigned int hellos, gets, sets, expiries;
	uint64_t last_set_bps, last_set_fallback;
	uint32_t last_set_lease;
	uint64_t prev_set_ns, max_gap_ns;
	uint64_t min_set_bps;		/* since the test reset it */

	/* bad */
	uint64_t flood_until_ms;
	uint64_t junk_sent;
	bool stalled;
};

struct run {
	char dir[64], conf[96], chan[96], ctl[96], log[96], notify[96];
	pid_t pid;
	struct guest good, bad, web2;
	/* what daqsd told "systemd" */
	int notify_fd;
	unsigned int ready, reloading, watchdog;
	char status[256];
};

static struct run R;
static struct daqs_ch_builder bld;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static uint64_t now_ms(void)
{
	return now_ns() / 1000000ULL;
}

static bool valgrind(void)
{
	const char *v = getenv("VALGRIND");

	return v && *v;
}


/* seconds to wait for anything, longer under valgrind */
static int slow(int s)
{
	return valgrind() ? 3 * s : s;
}

static void dump_log(void)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "echo '--- daqsd log:'; cat %s >&2", R.log);
	if (system(cmd)) {}
}

static char *slurp(const char *path)
{
	static char buf[1 << 20];
	ssize_t n;
	int fd = open(path, O_RDONLY);

	buf[0] = '\0';
	if (fd < 0)
		return buf;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

/* ---- the fake guests ---------------------------------------------------------- */

static void guest_listen(struct guest *g)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };

	g->fd = -1;
	daqs_ch_dec_init(&g->dec);
	g->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	assert_true(g->lfd >= 0);
	strcpy(sun.sun_path, g->path);
	assert_int_equal(bind(g->lfd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	assert_int_equal(listen(g->lfd, 4), 0);
}

static void guest_close(struct guest *g)
{
	if (g->fd >= 0)
		close(g->fd);
	if (g->lfd >= 0)
		close(g->lfd);
	g->fd = g->lfd = -1;
}

static void queue(struct guest *g)
{
	int n = daqs_ch_end(&bld);

	assert_true(n > 0);
	if ((size_t)n > sizeof(g->out) - g->out_len)
		return;		/* daqsd does not read: the agent drops it */
	memcpy(g->out + g->out_len, bld.buf, (size_t)n);
	g->out_len += (size_t)n;
}

/* the rate it sends at now, and the lease's state */
static uint64_t in_force(struct guest *g, uint64_t ns)
{
	if (g->limit_bps && g->lease_ms && !g->expired &&
	    ns > g->set_ns + g->lease_ms * 1000000ULL) {
		g->expired = true;
		g->expiries++;
	}
	return g->expired ? g->fallback_bps : g->limit_bps;
}

static void advance(struct guest *g, uint64_t ns)
{
	uint64_t limit = in_force(g, ns), rate = g->demand_bps;

	if (limit && limit < rate)
		rate = limit;
	if (g->last_ns)
		g->bytes += (uint64_t)((double)rate * (double)(ns - g->last_ns) / 8e9);
	g->last_ns = ns;
}

static void answer_get(struct guest *g, uint32_t seq)
{
	static const uint8_t mac[6] = { 0x52, 0x54, 0, 0, 0, 1 };
	uint64_t ns = now_ns(), limit;

	advance(g, ns);
	limit = in_force(g, ns);
	daqs_ch_begin(&bld, DAQS_CH_T_GET, DAQS_CH_F_REPLY, seq);
	daqs_ch_nest_begin(&bld, DAQS_CH_A_BINDING);
	daqs_ch_put_u32(&bld, DAQS_A_IFINDEX, 2);
	daqs_ch_put_string(&bld, DAQS_A_IFNAME, "eth0");
	daqs_ch_put(&bld, DAQS_A_MAC, mac, 6);
	daqs_ch_put_u8(&bld, DAQS_A_STATE, DAQS_STATE_ATTACHED);
	daqs_ch_put_u64(&bld, DAQS_A_RATE_BPS, limit);
	daqs_ch_put_u64(&bld, DAQS_A_SET_RATE_BPS, g->limit_bps);
	daqs_ch_put_u32(&bld, DAQS_A_LEASE_MS, g->lease_ms);
	daqs_ch_put_u64(&bld, DAQS_A_FALLBACK_BPS, g->fallback_bps);
	daqs_ch_put_u8(&bld, DAQS_A_LEASE_STATE, !g->lease_ms ? DAQS_LEASE_NONE :
		       g->expired ? DAQS_LEASE_EXPIRED : DAQS_LEASE_ACTIVE);
	if (g->lease_ms && !g->expired)
		daqs_ch_put_u32(&bld, DAQS_A_LEASE_LEFT_MS,
				(uint32_t)((g->set_ns + g->lease_ms * 1000000ULL - ns) /
					   1000000ULL));
	daqs_ch_nest_begin(&bld, DAQS_A_STATS);
	/* the guest's own clock: daqsd must use it, whatever its origin */
	daqs_ch_put_u64(&bld, DAQS_STATS_A_TIMESTAMP_NS, ns + GUEST_CLOCK_OFFSET_NS);
	daqs_ch_put_u64(&bld, DAQS_STATS_A_TX_BYTES, g->bytes);
	daqs_ch_put_u64(&bld, DAQS_STATS_A_TX_WIRE_BYTES, g->bytes);
	daqs_ch_nest_end(&bld);
	daqs_ch_nest_end(&bld);
	queue(g);
}

static void answer_set(struct guest *g, const struct daqs_ch_frame *f,
		       struct daqs_ch_nla *tb)
{
	struct daqs_ch_nla btb[DAQS_A_MAX + 1];
	uint64_t ns = now_ns();
	char err[128];

	assert_int_equal(daqs_ch_binding_parse(&tb[DAQS_CH_A_BINDING], f->type,
					       f->flags, btb, err, sizeof(err)), 0);
	advance(g, ns);
	assert_non_null(btb[DAQS_A_RATE_BPS].data);
	assert_non_null(btb[DAQS_A_LEASE_MS].data);
	assert_non_null(btb[DAQS_A_FALLBACK_BPS].data);
	g->sets++;
	g->limit_bps = g->last_set_bps = daqs_ch_get_u64(&btb[DAQS_A_RATE_BPS]);
	g->lease_ms = g->last_set_lease = daqs_ch_get_u32(&btb[DAQS_A_LEASE_MS]);
	g->fallback_bps = g->last_set_fallback =
		daqs_ch_get_u64(&btb[DAQS_A_FALLBACK_BPS]);
	if (g->last_set_bps < g->min_set_bps)
		g->min_set_bps = g->last_set_bps;
	g->set_ns = ns;
	g->expired = false;
	if (g->prev_set_ns && ns - g->prev_set_ns > g->max_gap_ns)
		g->max_gap_ns = ns - g->prev_set_ns;
	g->prev_set_ns = ns;
	daqs_ch_begin(&bld, DAQS_CH_T_SET, DAQS_CH_F_REPLY, f->seq);
	queue(g);
}

static void answer(struct guest *g, const struct daqs_ch_frame *f)
{
	struct daqs_ch_nla tb[DAQS_CH_A_MAX + 1];
	char err[128];
	int errnum;

	if (daqs_ch_msg_parse(f, tb, &errnum, err, sizeof(err)))
		fail_msg("%s: daqsd sent an invalid frame: %s", g->name, err);
	assert_int_equal(f->flags, 0);
	switch (f->type) {
	case DAQS_CH_T_HELLO:
		g->hellos++;
		daqs_ch_begin(&bld, DAQS_CH_T_HELLO, DAQS_CH_F_REPLY, f->seq);
		daqs_ch_put_u32(&bld, DAQS_CH_A_VERSION, 1);
		daqs_ch_put_string(&bld, DAQS_CH_A_PEER_NAME, "fake-agent 1");
		daqs_ch_put_u8(&bld, DAQS_CH_A_MODULE, 1);
		daqs_ch_nest_begin(&bld, DAQS_CH_A_BINDING);
		daqs_ch_put_string(&bld, DAQS_A_IFNAME, "eth0");
		daqs_ch_nest_end(&bld);
		queue(g);
		/* bad, after a handshake: never a word again */
		if (g->mode == BAD)
			g->stalled = true;
		break;
	case DAQS_CH_T_GET:
		g->gets++;
		answer_get(g, f->seq);
		break;
	case DAQS_CH_T_SET:
		answer_set(g, f, tb);
		break;
	default:
		fail_msg("%s: daqsd sent type %u", g->name, f->type);
	}
}

static void guest_read(struct guest *g)
{
	uint8_t buf[8192];
	struct daqs_ch_frame f;
	enum daqs_ch_dec_result r;
	size_t off, k;
	ssize_t n;

	n = recv(g->fd, buf, sizeof(buf), MSG_DONTWAIT);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		close(g->fd);
		g->fd = -1;
		return;
	}
	if (n < 0 || (g->mode == BAD && g->stalled))
		return;
	for (off = 0; off < (size_t)n; off += k) {
		k = daqs_ch_dec_feed(&g->dec, buf + off, (size_t)n - off);
		while ((r = daqs_ch_dec_next(&g->dec, &f)) != DAQS_CH_DEC_NEED) {
			if (r != DAQS_CH_DEC_FRAME)
				fail_msg("%s: daqsd sent a bad frame (%d)", g->name, r);
			answer(g, &f);
		}
	}
}

static void guest_write(struct guest *g)
{
	uint8_t junk[16384];
	ssize_t n;
	size_t i;

	if (g->mode == BAD && g->conns == 1 && now_ms() < g->flood_until_ms) {
		/* no magic byte in it: nothing but bytes to skip */
		for (i = 0; i < sizeof(junk); i++)
			junk[i] = (uint8_t)((i * 31 + g->junk_sent) & 0x7f);
		n = send(g->fd, junk, sizeof(junk), MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n > 0)
			g->junk_sent += (uint64_t)n;
		return;
	}
	if (!g->out_len)
		return;
	n = send(g->fd, g->out, g->out_len, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (n > 0) {
		memmove(g->out, g->out + n, g->out_len - (size_t)n);
		g->out_len -= (size_t)n;
	}
}

static void guest_accept(struct guest *g)
{
	int fd = accept4(g->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (fd < 0)
		return;
	/* QEMU serves one connection; the newest one wins here */
	if (g->fd >= 0)
		close(g->fd);
	g->fd = fd;
	g->conns++;
	g->out_len = 0;
	g->stalled = false;
	daqs_ch_dec_reset(&g->dec);
	if (g->mode == BAD && g->conns == 1) {
		/* floods for 1.5 s without reading, then stays silent */
		g->flood_until_ms = now_ms() + 1500;
		g->stalled = true;
	}
}

/* the sd_notify datagrams daqsd sent */
static void read_notify(void)
{
	char buf[1024], *line, *save = NULL;
	ssize_t n;

	while ((n = recv(R.notify_fd, buf, sizeof(buf) - 1, MSG_DONTWAIT)) > 0) {
		buf[n] = '\0';
		for (line = strtok_r(buf, "\n", &save); line;
		     line = strtok_r(NULL, "\n", &save)) {
			if (!strcmp(line, "READY=1"))
				R.ready++;
			else if (!strcmp(line, "RELOADING=1"))
				R.reloading++;
			else if (!strcmp(line, "WATCHDOG=1"))
				R.watchdog++;
			else if (!strncmp(line, "STATUS=", 7))
				snprintf(R.status, sizeof(R.status), "%s", line + 7);
		}
	}
}

/* serves every guest for ms */
static void pump(int ms)
{
	struct guest *gs[] = { &R.good, &R.bad, &R.web2 };
	struct pollfd p[6];
	struct guest *who[6];
	bool listen[6];
	uint64_t end = now_ms() + (uint64_t)ms;
	int n, i;

	do {
		if (R.notify_fd >= 0)
			read_notify();
		n = 0;
		for (i = 0; i < 3; i++) {
			struct guest *g = gs[i];

			if (g->lfd >= 0) {
				p[n] = (struct pollfd){ .fd = g->lfd, .events = POLLIN };
				who[n] = g;
				listen[n++] = true;
			}
			if (g->fd >= 0) {
				short ev = 0;

				if (!(g->mode == BAD && g->conns == 1))
					ev |= POLLIN;
				if (g->out_len || (g->mode == BAD && g->conns == 1 &&
						   now_ms() < g->flood_until_ms))
					ev |= POLLOUT;
				p[n] = (struct pollfd){ .fd = g->fd, .events = ev };
				who[n] = g;
				listen[n++] = false;
			}
		}
		if (poll(p, (nfds_t)n, 5) <= 0)
			continue;
		for (i = 0; i < n; i++) {
			if (!p[i].revents)
				continue;
			if (listen[i]) {
				guest_accept(who[i]);
				continue;
			}
			if (who[i]->fd != p[i].fd)
				continue;
			if (p[i].revents & (POLLIN | POLLHUP | POLLERR))
				guest_read(who[i]);
			if (who[i]->fd >= 0 && (p[i].revents & POLLOUT))
				guest_write(who[i]);
		}
	} while (now_ms() < end);
}

/* pumps until cond() holds, at most s seconds */
static bool wait_for(bool (*cond)(void), int s)
{
	uint64_t end = now_ms() + (uint64_t)slow(s) * 1000;

	while (now_ms() < end) {
		if (cond())
			return true;
		pump(20);
	}
	return cond();
}

/* ---- daqsd -------------------------------------------------------------------- */

static void write_conf(const char *extra_good, const char *broken)
{
	FILE *f = fopen(R.conf, "w");

	assert_non_null(f);
	fprintf(f, "# written by test_daqsd\n"
		"[daqsd]\n"
		"capacity = 100mbit\n"
		"%s"
		"tick = 100ms\n"
		"lease = %ums\n"
		"channel_dir = %s\n"
		"control_socket = %s\n"
		"\n"
		"[vm good]\n"
		"min = 20mbit\n"
		"socket = %s\n"
		"%s"
		"\n"
		"[vm bad]\n"
		"socket = %s\n"
		"\n"
		"[vm web2]\n"
		"min = 10mbit\n",
		broken ? broken : "", LEASE_MS, R.chan, R.ctl, R.good.path,
		extra_good ? extra_good : "", R.bad.path);
	fclose(f);
}

/* daqsd ARGS, stdout and stderr to the log; its pid */
static pid_t spawn(const char *const *args)
{
	const char *daqsd = getenv("DAQSD");
	char *argv[40], *w = NULL, *tok, *save = NULL;
	int argc = 0, fd;
	pid_t pid;

	if (valgrind()) {
		w = strdup(getenv("VALGRIND"));
		for (tok = strtok_r(w, " ", &save); tok && argc < 20;
		     tok = strtok_r(NULL, " ", &save))
			argv[argc++] = tok;
	}
	argv[argc++] = (char *)daqsd;
	while (*args && argc < 38)
		argv[argc++] = (char *)*args++;
	argv[argc] = NULL;
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		fd = open(R.log, O_WRONLY | O_CREAT | O_APPEND, 0600);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		unsetenv("JOURNAL_STREAM");
		unsetenv("WATCHDOG_PID");
		if (R.notify_fd >= 0) {
			/* as systemd would for Type=notify, WatchdogSec=1s */
			setenv("NOTIFY_SOCKET", R.notify, 1);
			setenv("WATCHDOG_USEC", "1000000", 1);
		} else {
			unsetenv("NOTIFY_SOCKET");
			unsetenv("WATCHDOG_USEC");
		}
		execvp(argv[0], argv);
		_exit(127);
	}
	free(w);
	return pid;
}

/* its exit status, waiting at most s seconds (then SIGKILL: -1) */
static int reap(pid_t pid, int s)
{
	uint64_t end = now_ms() + (uint64_t)slow(s) * 1000;
	int status;

	while (now_ms() < end) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) :
						   128 + WTERMSIG(status);
		pump(20);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return -1;
}

static bool log_has(const char *s)
{
	return strstr(slurp(R.log), s) != NULL;
}

/* daqsctl ARGS; its stdout, and its exit status in *rc */
static char *daqsctl(const char *args, int *rc)
{
	static char out[1 << 18];
	char cmd[512];
	size_t n = 0, k;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "%s %s socket %s", getenv("DAQSCTL"), args,
		 R.ctl);
	p = popen(cmd, "r");
	assert_non_null(p);
	while ((k = fread(out + n, 1, sizeof(out) - 1 - n, p)) > 0)
		n += k;
	out[n] = '\0';
	*rc = pclose(p);
	return out;
}

/* the number after "key": in the flat JSON object that begins at o */
static bool json_obj_u64(const char *o, const char *key, uint64_t *v)
{
	const char *end, *k;
	char pat[64];

	if (!o)
		return false;
	end = strchr(o, '}');
	snprintf(pat, sizeof(pat), "\"%s\":", key);
	k = strstr(o, pat);
	if (!k || k > end)
		return false;
	return sscanf(k + strlen(pat), "%" SCNu64, v) == 1;
}

/* key in the JSON object of VM name; false if absent */
static bool json_vm_u64(const char *json, const char *name, const char *key,
			uint64_t *v)
{
	char pat[96];

	snprintf(pat, sizeof(pat), "{\"name\":\"%s\"", name);
	return json_obj_u64(strstr(json, pat), key, v);
}

/* key of the daqsd record */
static bool json_daqsd_u64(const char *json, const char *key, uint64_t *v)
{
	return json_obj_u64(strstr(json, "{\"daqsd\":{"), key, v);
}

static bool json_vm_is(const char *json, const char *name, const char *kv)
{
	char pat[96];
	const char *o, *end, *k;

	snprintf(pat, sizeof(pat), "{\"name\":\"%s\"", name);
	o = strstr(json, pat);
	if (!o)
		return false;
	end = strchr(o, '}');
	k = strstr(o, kv);
	return k && k < end;
}

static int group_setup(void **state)
{
	(void)state;
	memset(&R, 0, sizeof(R));
	R.good.lfd = R.bad.lfd = R.web2.lfd = -1;
	R.notify_fd = -1;
	R.good.fd = R.bad.fd = R.web2.fd = -1;
	strcpy(R.dir, "/tmp/daqsd-test.XXXXXX");
	if (!mkdtemp(R.dir))
		return -1;
	snprintf(R.conf, sizeof(R.conf), "%s/daqsd.conf", R.dir);
	snprintf(R.chan, sizeof(R.chan), "%s/channel", R.dir);
	snprintf(R.ctl, sizeof(R.ctl), "%s/daqsd.sock", R.dir);
	snprintf(R.log, sizeof(R.log), "%s/daqsd.log", R.dir);
	snprintf(R.notify, sizeof(R.notify), "%s/notify", R.dir);
	if (mkdir(R.chan, 0755))
		return -1;
	R.good.name = "good";
	R.good.mode = GOOD;
	R.good.demand_bps = 80 * MBIT;
	snprintf(R.good.path, sizeof(R.good.path), "%s/good.sock", R.dir);
	R.bad.name = "bad";
	R.bad.mode = BAD;
	snprintf(R.bad.path, sizeof(R.bad.path), "%s/bad.sock", R.dir);
	R.web2.name = "web2";
	R.web2.mode = GOOD;
	R.web2.demand_bps = 80 * MBIT;
	snprintf(R.web2.dir, sizeof(R.web2.dir), "%s/domain-7-web2", R.chan);
	snprintf(R.web2.path, sizeof(R.web2.path), "%s/" DAQS_CH_PORT_NAME,
		 R.web2.dir);
	return 0;
}

static int group_teardown(void **state)
{
	char cmd[128];

	(void)state;
	if (R.pid > 0) {
		kill(R.pid, SIGKILL);
		waitpid(R.pid, NULL, 0);
	}
	guest_close(&R.good);
	guest_close(&R.bad);
	guest_close(&R.web2);
	if (R.notify_fd >= 0)
		close(R.notify_fd);
	/* DAQSD_TEST_KEEP=1: the log and the files stay, for a look */
	if (getenv("DAQSD_TEST_KEEP")) {
		fprintf(stderr, "kept %s\n", R.dir);
		return 0;
	}
	snprintf(cmd, sizeof(cmd), "rm -rf %s", R.dir);
	if (system(cmd)) {}
	return 0;
}

/* ---- the tests ------------------------------------------------------------------ */

static void test_bad_files_start_nothing(void **state)
{
	static const char *const usage[] = { "--bogus", NULL };
	char args_c[] = "-c";
	const char *args[4] = { args_c, R.conf, NULL, NULL };
	char dir[160];
	FILE *f;

	(void)state;
	if (!getenv("DAQSD"))
		skip();
	/* a bad rate: file and line, the token quoted, exit 2 */
	write_conf(NULL, "fallback = 1x\n");
	assert_int_equal(reap(spawn(args), 30), 2);
	assert_true(log_has("daqsd: daqsd.conf:4: invalid rate '1x' for 'fallback'") ||
		    log_has("/daqsd.conf:4: invalid rate '1x' for 'fallback'"));
	assert_int_equal(access(R.ctl, F_OK), -1);

	/* minimums above the capacity */
	f = fopen(R.conf, "w");
	assert_non_null(f);
	fprintf(f, "[daqsd]\ncapacity = 10mbit\ncontrol_socket = %s\n"
		"[vm a]\nmin = 6mbit\n[vm b]\nmin = 6mbit\n", R.ctl);
	fclose(f);
	assert_int_equal(reap(spawn(args), 30), 2);
	assert_true(log_has("daqsd.conf:7: min 6Mbit of vm 'b' brings the minimums to 12Mbit, above the capacity 10Mbit"));
	assert_int_equal(access(R.ctl, F_OK), -1);

	/* the original's files: min_bw.ini in whole Gbit/s */
	snprintf(dir, sizeof(dir), "%s/orig", R.dir);
	assert_int_equal(mkdir(dir, 0755), 0);
	snprintf(dir, sizeof(dir), "%s/orig/defaults.ini", R.dir);
	f = fopen(dir, "w");
	assert_non_null(f);
	fprintf(f, "[DEFAULT]\nhost_interface = lo\n");
	fclose(f);
	snprintf(dir, sizeof(dir), "%s/orig/min_bw.ini", R.dir);
	f = fopen(dir, "w");
	assert_non_null(f);
	fprintf(f, "[DEFAULT]\nvm1 = 1.5\n");
	fclose(f);
	snprintf(dir, sizeof(dir), "%s/orig", R.dir);
	args[0] = "--original-dir";
	args[1] = dir;
	assert_int_equal(reap(spawn(args), 30), 2);
	assert_true(log_has("orig/min_bw.ini:2: invalid minimum '1.5' for vm 'vm1'"));

	/* usage */
	assert_int_equal(reap(spawn(usage), 30), 2);
	assert_true(log_has("daqsd: unknown option '--bogus'"));

	/* the capacity from a link whose speed is not known: not an error of
	 * the file; daqsd waits for it */
	f = fopen(R.conf, "w");
	assert_non_null(f);
	fprintf(f, "[daqsd]\nlink = lo\ncontrol_socket = %s\n[vm a]\nmin = 1gbit\n",
		R.ctl);
	fclose(f);
	args[0] = "-t";
	args[1] = "-c";
	args[2] = R.conf;
	assert_int_equal(reap(spawn(args), 30), 0);
	assert_true(log_has("the speed of 'lo' is not known"));
	assert_true(log_has("policy minimum_guarantee, capacity unknown yet, tick 100ms, lease 1000ms, 1 [vm] sections"));
	f = fopen(R.conf, "w");
	assert_non_null(f);
	fprintf(f, "[daqsd]\nlink = nosuch0\ncontrol_socket = %s\n", R.ctl);
	fclose(f);
	assert_int_equal(reap(spawn(args), 30), 0);
	assert_true(log_has("no such interface 'nosuch0'"));

	/* a link with a speed: a veth says 10000 Mb/s to ethtool (root only,
	 * as CI is; the pair is made and removed with iproute2) */
	if (geteuid() == 0 &&
	    !system("ip link add daqsdut0 type veth peer name daqsdut1 2>/dev/null")) {
		f = fopen(R.conf, "w");
		assert_non_null(f);
		fprintf(f, "[daqsd]\nlink = daqsdut0\ncontrol_socket = %s\n[vm a]\nmin = 1gbit\n",
			R.ctl);
		fclose(f);
		assert_int_equal(reap(spawn(args), 30), 0);
		assert_int_equal(system("ip link del daqsdut0"), 0);
		assert_true(log_has("capacity 10Gbit, tick 100ms"));
	} else {
		print_message("link speed from ethtool: not checked (needs root and veth)\n");
	}
	args[2] = NULL;
}

static bool good_at_100(void)
{
	return R.good.sets >= 3 && R.good.last_set_bps == 100 * MBIT;
}

static void test_start(void **state)
{
	char args_c[] = "-c";
	const char *args[] = { args_c, R.conf, "-v", NULL };
	uint64_t end;

	(void)state;
	if (!getenv("DAQSD"))
		skip();
	write_conf(NULL, NULL);
	assert_int_equal(truncate(R.log, 0), 0);
	{
		struct sockaddr_un sun = { .sun_family = AF_UNIX };

		R.notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		assert_true(R.notify_fd >= 0);
		strcpy(sun.sun_path, R.notify);
		assert_int_equal(bind(R.notify_fd, (struct sockaddr *)&sun,
				      sizeof(sun)), 0);
	}
	guest_listen(&R.good);
	guest_listen(&R.bad);
	R.pid = spawn(args);
	end = now_ms() + (uint64_t)slow(10) * 1000;
	while (access(R.ctl, F_OK) && now_ms() < end)
		pump(20);
	if (access(R.ctl, F_OK)) {
		dump_log();
		fail_msg("no control socket");
	}
	/* good alone: satisfied at 80 of its demand, the leftover lent: 100 */
	if (!wait_for(good_at_100, 10)) {
		dump_log();
		fail_msg("good: %u SETs, last %" PRIu64, R.good.sets,
			 R.good.last_set_bps);
	}
	assert_int_equal(R.good.hellos, 1);
	assert_int_equal(R.good.last_set_lease, LEASE_MS);
	/* systemd heard: ready, alive, and how things are */
	assert_int_equal(R.ready, 1);
	assert_non_null(strstr(R.status, "2 VMs, "));
	/* fallback auto: its minimum */
	assert_int_equal(R.good.last_set_fallback, 20 * MBIT);
}

static bool bad_stalled_twice(void)
{
	return R.bad.conns >= 3;
}

static void test_bad_guest_costs_only_itself(void **state)
{
	unsigned int sets;
	uint64_t v;
	char *out;
	int rc;

	(void)state;
	if (!getenv("DAQSD"))
		skip();
	sets = R.good.sets;
	R.good.max_gap_ns = 0;
	R.good.prev_set_ns = 0;
	R.good.min_set_bps = UINT64_MAX;
	/* bad floods, stalls, reconnects, stalls again */
	if (!wait_for(bad_stalled_twice, 20)) {
		dump_log();
		fail_msg("bad was connected %u times", R.bad.conns);
	}
	assert_true(R.bad.junk_sent > 100000);
	/* meanwhile good kept its limit and its lease, renewed in time */
	assert_true(R.good.sets > sets + 3);
	assert_int_equal(R.good.expiries, 0);
	assert_true(R.good.max_gap_ns < LEASE_MS * 1000000ULL);
	/*
	 * bad, while it shakes hands and then says nothing, HOLDs the share
	 * it had (a missing sample changes nothing) until it is dropped; good
	 * still gets all it uses, and its headroom: 80 x 1.04 + the floor
	 */
	if (R.good.min_set_bps < 83 * MBIT)
		fail_msg("good was held to %" PRIu64, R.good.min_set_bps);

	out = daqsctl("-j vms", &rc);
	assert_int_equal(rc, 0);
	assert_true(json_valid(out));
	assert_true(json_vm_u64(out, "bad", "skipped_bytes", &v));
	assert_true(v > 100000);
	assert_true(json_vm_u64(out, "bad", "stalls", &v));
	assert_true(v >= 2);
	assert_true(json_vm_u64(out, "good", "errors", &v));
	assert_int_equal(v, 0);
	assert_true(json_vm_u64(out, "good", "timeouts", &v));
	assert_int_equal(v, 0);
	assert_true(json_vm_is(out, "good", "\"controlled\":true"));
	/* the ticks that sent good its limits were timed, in order */
	{
		uint64_t timed, n, p50, p99, max;

		assert_true(json_daqsd_u64(out, "tick_lat_timed", &timed));
		assert_true(json_daqsd_u64(out, "tick_lat_n", &n));
		assert_true(json_daqsd_u64(out, "tick_lat_p50_us", &p50));
		assert_true(json_daqsd_u64(out, "tick_lat_p99_us", &p99));
		assert_true(json_daqsd_u64(out, "tick_lat_max_us", &max));
		assert_true(timed > 0 && n > 0 && n <= timed);
		assert_true(p50 <= p99 && p99 <= max);
	}
	assert_true(log_has("vm bad: disconnected: no answer from the agent"));
	/* the watchdog, at half of WATCHDOG_USEC (1 s), all along */
	if (R.watchdog < 6)
		fail_msg("%u WATCHDOG=1", R.watchdog);

	/* bad's domain stops; good has the link again */
	guest_close(&R.bad);
	assert_int_equal(unlink(R.bad.path), 0);
	R.good.sets = 0;
	if (!wait_for(good_at_100, 10)) {
		dump_log();
		fail_msg("good's last limit %" PRIu64, R.good.last_set_bps);
	}
}

static bool web2_shares(void)
{
	return R.web2.sets >= 3 &&
	       R.web2.last_set_bps >= 48 * MBIT && R.web2.last_set_bps <= 52 * MBIT &&
	       R.good.last_set_bps >= 48 * MBIT && R.good.last_set_bps <= 52 * MBIT;
}

static void test_discovered_in_libvirt_dir(void **state)
{
	uint64_t v;
	char *out;
	int rc;

	(void)state;
	if (!getenv("DAQSD"))
		skip();
	/* libvirt starts a domain: its directory, then QEMU's socket */
	assert_int_equal(mkdir(R.web2.dir, 0755), 0);
	pump(50);
	guest_listen(&R.web2);
	if (!wait_for(web2_shares, 15)) {
		dump_log();
		fail_msg("web2: %u hellos, %u SETs, last %" PRIu64 "; good last %" PRIu64,
			 R.web2.hellos, R.web2.sets, R.web2.last_set_bps,
			 R.good.last_set_bps);
	}
	/* a second more: the samples now all come from the 50/50 limits */
	pump(slow(1) * 1000);
	assert_true(web2_shares());
	assert_true(log_has("vm web2: found at"));
	/* its [vm web2] section applies to the discovered VM: its minimum */
	assert_int_equal(R.web2.last_set_fallback, 10 * MBIT);

	out = daqsctl("-j vms", &rc);
	assert_int_equal(rc, 0);
	assert_true(json_valid(out));
	assert_non_null(strstr(out, "\"daqsd\":{"));
	assert_true(json_vm_is(out, "web2", "\"source\":\"libvirt\""));
	assert_true(json_vm_is(out, "web2", "\"connected\":true"));
	assert_true(json_vm_is(out, "web2", "\"lease_state\":\"active\""));
	assert_true(json_vm_u64(out, "web2", "min_bps", &v));
	assert_int_equal(v, 10 * MBIT);
	assert_true(json_vm_u64(out, "good", "limit_bps", &v));
	assert_true(v >= 48 * MBIT && v <= 52 * MBIT);
	assert_true(json_vm_u64(out, "good", "rate_bps", &v));
	assert_true(v >= 45 * MBIT && v <= 55 * MBIT);
	if (!json_vm_is(out, "good", "\"demand\":\"unsatisfied\"")) {
		dump_log();
		fail_msg("good's demand: %s", out);
	}

	out = daqsctl("vms", &rc);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(out, "\nvm good source config configured yes connected yes state ready controlled yes\n"));
	assert_non_null(strstr(out, "vm web2 source libvirt"));
	assert_non_null(strstr(out, "lease-state active"));
	assert_non_null(strstr(out, "agent \"fake-agent 1\""));
}

static bool web2_gone(void)
{
	return !log_has("vm web2: removed") ? false :
	       R.good.last_set_bps == 100 * MBIT;
}

static void test_disappears(void **state)
{
	char *out;
	int rc;

	(void)state;
	if (!getenv("DAQSD"))
		skip();
	/* the domain stops: QEMU's socket and libvirt's directory go */
	guest_close(&R.web2);
	assert_int_equal(unlink(R.web2.path), 0);
	assert_int_equal(rmdir(R.web2.dir), 0);
	if (!wait_for(web2_gone, 10)) {
		dump_log();
		fail_msg("good's last limit %" PRIu64, R.good.last_set_bps);
	}
	out = daqsctl("-j vms", &rc);
	assert_int_equal(rc, 0);
	assert_null(strstr(out, "\"web2\""));
	assert_non_null(strstr(out, "\"good\""));
}

static bool reload_failed(void)
{
	return log_has("reload failed, keeping the running configuration");
}

static bool good_at_60(void)
{
	return R.good.last_set_bps == 60 * MBIT;
}

static void test_sighup(void **state)
{
	unsigned int sets;

	(void)state;
	if (!getenv("DAQSD"))
		skip();
	/* a bad file: logged, the old one keeps running */
	write_conf("max = 60mbit\n", "tick = 5ms\n");
	assert_int_equal(kill(R.pid, SIGHUP), 0);
	if (!wait_for(reload_failed, 10)) {
		dump_log();
		fail_msg("no reload failure logged");
	}
	assert_true(log_has("daqsd.conf:4: tick '5ms' is outside 10ms..10s"));
	pump(100);
	assert_int_equal(R.reloading, 1);
	assert_int_equal(R.ready, 2);
	sets = R.good.sets;
	pump(slow(1) * 1000);
	assert_int_equal(kill(R.pid, 0), 0);
	assert_true(R.good.sets > sets);
	assert_int_equal(R.good.last_set_bps, 100 * MBIT);
	assert_int_equal(R.good.expiries, 0);

	/* a good one: good's max applies at once */
	write_conf("max = 60mbit\n", NULL);
	assert_int_equal(kill(R.pid, SIGHUP), 0);
	if (!wait_for(good_at_60, 10)) {
		dump_log();
		fail_msg("good's last limit %" PRIu64, R.good.last_set_bps);
	}
	assert_true(log_has("reloaded "));
	assert_int_equal(R.good.expiries, 0);
}

static void test_sigterm(void **state)
{
	int rc;

	(void)state;
	if (!getenv("DAQSD"))
		skip();
	assert_int_equal(kill(R.pid, SIGTERM), 0);
	rc = reap(R.pid, 20);
	R.pid = 0;
	if (rc)
		dump_log();
	/* 0: a clean exit, and under valgrind no leak or error either */
	assert_int_equal(rc, 0);
	assert_int_equal(access(R.ctl, F_OK), -1);
	assert_true(log_has("exiting on signal 15"));
}

static bool vf_errors_logged(void)
{
	return log_has("vm dpdk: vf nosuch0:3: no such interface 'nosuch0'; not verified");
}

static bool dpdk_adopted(void)
{
	return R.web2.hellos >= 1 && R.web2.gets >= 2 &&
	       log_has("vm dpdk: its channel is found at");
}

static bool dpdk_detached(void)
{
	return log_has("vm dpdk: its channel's socket is gone; verified from VF nosuch0:3 alone again");
}

static bool dpdk_removed(void)
{
	return log_has("vm dpdk: removed: no longer in the configuration");
}

static void write_vf_conf(bool dpdk, bool veth)
{
	FILE *f = fopen(R.conf, "w");

	assert_non_null(f);
	fprintf(f, "[daqsd]\ncapacity = 100mbit\ntick = 100ms\nverify_interval = 500ms\n"
		"verify_tolerance = 2.5%%\ncontrol_socket = %s\nchannel_dir = %s\n"
		"[vm other]\nmin = 1mbit\n%s%s", R.ctl, R.chan,
		dpdk ? "[vm dpdk]\nvf = nosuch0:3\n" : "",
		veth ? "[vm vethvm]\nvf = daqsdut2:0\n" : "");
	fclose(f);
}

static void test_vf(void **state)
{
	char args_c[] = "-c";
	const char *args[] = { args_c, R.conf, NULL };
	uint64_t v, end;
	bool veth;
	char *out;
	FILE *f;
	int rc;

	(void)state;
	if (!getenv("DAQSD"))
		skip();
	assert_int_equal(truncate(R.log, 0), 0);
	/* a bad vf: the file, the line, the token; nothing starts */
	f = fopen(R.conf, "w");
	assert_non_null(f);
	fprintf(f, "[daqsd]\ncapacity = 100mbit\ncontrol_socket = %s\n"
		"[vm a]\nvf = eth0\n", R.ctl);
	fclose(f);
	assert_int_equal(reap(spawn(args), 30), 2);
	assert_true(log_has("daqsd.conf:5: invalid VF 'eth0' for 'vf' (PF:INDEX, such as ens1f0:3)"));
	assert_int_equal(access(R.ctl, F_OK), -1);

	/* a PF with no VFs: a veth (root only, as CI is) */
	veth = geteuid() == 0 &&
	       !system("ip link del daqsdut2 2>/dev/null; "
		       "ip link add daqsdut2 type veth peer name daqsdut3 2>/dev/null");
	if (!veth)
		print_message("a vf on a PF without VFs: not checked (needs root and veth)\n");
	write_vf_conf(true, veth);
	R.pid = spawn(args);
	end = now_ms() + (uint64_t)slow(10) * 1000;
	while (access(R.ctl, F_OK) && now_ms() < end)
		pump(20);
	if (!wait_for(vf_errors_logged, 10)) {
		dump_log();
		fail_msg("no vf error logged");
	}
	assert_true(log_has("vm dpdk: configured with no channel: verified and capped from VF nosuch0:3 alone"));
	out = daqsctl("-j vms", &rc);
	assert_int_equal(rc, 0);
	assert_true(json_valid(out));
	assert_true(json_vm_is(out, "dpdk", "\"vf\":\"nosuch0:3\""));
	assert_true(json_vm_is(out, "dpdk", "\"vf_mode\":\"host-only\""));
	assert_true(json_vm_is(out, "dpdk", "\"verify\":\"pending\""));
	assert_true(json_vm_is(out, "dpdk", "\"controlled\":false"));
	assert_true(json_vm_is(out, "dpdk", "\"vf_error\":\"no such interface 'nosuch0'\""));
	assert_true(json_vm_u64(out, "dpdk", "cap_errors", &v));
	assert_int_equal(v, 0);
	assert_false(json_vm_is(out, "other", "\"vf\""));
	assert_true(json_daqsd_u64(out, "verify_interval_ms", &v));
	assert_int_equal(v, 500);
	assert_true(json_daqsd_u64(out, "verify_tolerance_bp", &v));
	assert_int_equal(v, 250);
	assert_true(json_daqsd_u64(out, "verify_strikes", &v));
	assert_int_equal(v, 3);
	if (veth) {
		assert_true(log_has("vm vethvm: vf daqsdut2:0: daqsdut2 has no VFs: it is not an SR-IOV physical function; not verified"));
		assert_true(json_vm_is(out, "vethvm", "\"vf_error\":\"daqsdut2 has no VFs: it is not an SR-IOV physical function\""));
	}
	out = daqsctl("vms", &rc);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(out, "\n  vf nosuch0:3 vf-mode host-only verify pending strikes 0 cap-want 0bit\n"));
	assert_non_null(strstr(out, " verify-interval 500ms verify-tolerance 2.5% verify-limit-tolerance 10% verify-strikes 3 verify-hold 10s "));
	assert_non_null(strstr(out, "\n  vf-error \"no such interface 'nosuch0'\"\n"));

	/* libvirt starts it with a channel after all: that is the same VM */
	memset(&R.web2, 0, sizeof(R.web2));
	R.web2.name = "dpdk";
	R.web2.mode = GOOD;
	R.web2.demand_bps = 10 * MBIT;
	R.web2.lfd = R.web2.fd = -1;
	snprintf(R.web2.dir, sizeof(R.web2.dir), "%s/domain-9-dpdk", R.chan);
	snprintf(R.web2.path, sizeof(R.web2.path), "%s/" DAQS_CH_PORT_NAME,
		 R.web2.dir);
	assert_int_equal(mkdir(R.web2.dir, 0755), 0);
	pump(50);
	guest_listen(&R.web2);
	if (!wait_for(dpdk_adopted, 10)) {
		dump_log();
		fail_msg("dpdk: %u hellos, %u gets", R.web2.hellos, R.web2.gets);
	}
	out = daqsctl("-j vms", &rc);
	assert_int_equal(rc, 0);
	assert_true(json_valid(out));
	assert_true(json_vm_is(out, "dpdk", "\"source\":\"config\""));
	assert_true(json_vm_is(out, "dpdk", "\"connected\":true"));
	assert_true(json_vm_is(out, "dpdk", "\"vf_mode\":\"guest\""));
	assert_true(json_daqsd_u64(out, "vms", &v));
	assert_int_equal(v, veth ? 2 : 1);	/* not a second dpdk */
	/* the domain stops: known by its vf alone again */
	guest_close(&R.web2);
	assert_int_equal(unlink(R.web2.path), 0);
	assert_int_equal(rmdir(R.web2.dir), 0);
	if (!wait_for(dpdk_detached, 10)) {
		dump_log();
		fail_msg("dpdk not let go");
	}
	out = daqsctl("-j vms", &rc);
	assert_int_equal(rc, 0);
	assert_true(json_vm_is(out, "dpdk", "\"vf_mode\":\"host-only\""));
	assert_true(json_vm_is(out, "dpdk", "\"connected\":false"));
	/* its section goes */
	write_vf_conf(false, veth);
	assert_int_equal(kill(R.pid, SIGHUP), 0);
	if (!wait_for(dpdk_removed, 10)) {
		dump_log();
		fail_msg("dpdk not removed");
	}
	assert_int_equal(kill(R.pid, SIGTERM), 0);
	rc = reap(R.pid, 20);
	R.pid = 0;
	if (rc)
		dump_log();
	assert_int_equal(rc, 0);
	if (veth)
		assert_int_equal(system("ip link del daqsdut2"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_files_start_nothing),
		cmocka_unit_test(test_start),
		cmocka_unit_test(test_bad_guest_costs_only_itself),
		cmocka_unit_test(test_discovered_in_libvirt_dir),
		cmocka_unit_test(test_disappears),
		cmocka_unit_test(test_sighup),
		cmocka_unit_test(test_sigterm),
		cmocka_unit_test(test_vf),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests_name("daqsd", tests, group_setup,
					   group_teardown);
}
