// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * daqs-agent against a unix socket, the test playing the host: garbage,
 * malformed and valid frames, a cut-off frame, a flood, a disconnect. On a
 * machine without daqs.ko every GET fails, which exercises the error path:
 * the agent must answer with an ERROR frame and keep serving.
 *
 * $DAQS_AGENT is the binary (skipped without it). The agent runs natively
 * with its sandbox (whose capabilities and seccomp mode are checked in
 * /proc), and once more under $VALGRIND, if set, with --no-sandbox
 * (valgrind's own system calls are not on the allow-list).
 */
#include <errno.h>
#include <fcntl.h>
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
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "channel.h"

struct session {
	pid_t pid;
	int lfd, fd;
	char dir[64], sock[128], log[128];
	struct daqs_ch_decoder dec;
	int timeout_ms;		/* for one answer */
	bool module;		/* the agent says daqs.ko is loaded */
	uint32_t seq;
};

/* a frame received, copied out of the decoder */
struct rx {
	struct daqs_ch_frame f;
	uint8_t payload[DAQS_CH_PAYLOAD_MAX];
	struct daqs_ch_nla tb[DAQS_CH_A_MAX + 1];
	unsigned int seq0_errors;	/* unsolicited ERRORs passed by */
};

static struct session native;
static struct daqs_ch_builder bld;

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000U + (uint64_t)ts.tv_nsec / 1000000U;
}

static int wait_readable(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, ms) == 1 ? 0 : -1;
}

static void do_accept(struct session *s)
{
	assert_int_equal(wait_readable(s->lfd, s->timeout_ms * 4), 0);
	s->fd = accept4(s->lfd, NULL, NULL, SOCK_CLOEXEC);
	assert_true(s->fd >= 0);
	daqs_ch_dec_init(&s->dec);
}

/* argv: [wrapper words...] agent -p SOCK -v [--no-sandbox] */
static void start(struct session *s, const char *wrapper, bool sandbox)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	const char *agent = getenv("DAQS_AGENT");
	char *argv[32], *w = NULL, *tok, *save = NULL;
	int argc = 0, fd;

	memset(s, 0, sizeof(*s));
	s->fd = -1;
	s->timeout_ms = wrapper ? 15000 : 3000;
	strcpy(s->dir, "/tmp/daqs-agent-test.XXXXXX");
	assert_non_null(mkdtemp(s->dir));
	snprintf(s->sock, sizeof(s->sock), "%s/port", s->dir);
	snprintf(s->log, sizeof(s->log), "%s/agent.log", s->dir);
	s->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(s->lfd >= 0);
	strcpy(sun.sun_path, s->sock);
	assert_int_equal(bind(s->lfd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	assert_int_equal(listen(s->lfd, 4), 0);

	if (wrapper) {
		w = strdup(wrapper);
		for (tok = strtok_r(w, " ", &save); tok && argc < 20;
		     tok = strtok_r(NULL, " ", &save))
			argv[argc++] = tok;
	}
	argv[argc++] = (char *)agent;
	argv[argc++] = "-p";
	argv[argc++] = s->sock;
	argv[argc++] = "-v";
	if (!sandbox)
		argv[argc++] = "--no-sandbox";
	argv[argc] = NULL;

	s->pid = fork();
	assert_true(s->pid >= 0);
	if (!s->pid) {
		fd = open(s->log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execvp(argv[0], argv);
		_exit(127);
	}
	free(w);
	do_accept(s);
}

/* SIGTERM, and its exit status (valgrind's errors make it 1) */
static int stop(struct session *s)
{
	char cmd[256];
	int status = -1;

	if (s->fd >= 0)
		close(s->fd);
	kill(s->pid, SIGTERM);
	assert_int_equal(waitpid(s->pid, &status, 0), s->pid);
	close(s->lfd);
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		snprintf(cmd, sizeof(cmd), "cat %s >&2", s->log);
		if (system(cmd)) {}
	}
	snprintf(cmd, sizeof(cmd), "rm -rf %s", s->dir);
	if (system(cmd)) {}
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void send_raw(struct session *s, const void *p, size_t n)
{
	assert_int_equal(send(s->fd, p, n, MSG_NOSIGNAL), (ssize_t)n);
}

static void send_built(struct session *s)
{
	int n = daqs_ch_end(&bld);

	assert_true(n > 0);
	send_raw(s, bld.buf, (size_t)n);
}

/*
 * The next frame of (type, seq), passing unsolicited ERRORs (seq 0) and
 * EVENTs. Fails after the session's timeout.
 */
static void expect(struct session *s, uint8_t type, uint32_t seq,
		   struct rx *rx)
{
	uint64_t end = now_ms() + (uint64_t)s->timeout_ms;
	enum daqs_ch_dec_result r;
	uint8_t buf[4096];
	ssize_t n;
	int errnum;
	char err[256];

	rx->seq0_errors = 0;
	for (;;) {
		while ((r = daqs_ch_dec_next(&s->dec, &rx->f)) != DAQS_CH_DEC_NEED) {
			assert_int_equal(r, DAQS_CH_DEC_FRAME);
			memcpy(rx->payload, rx->f.payload, rx->f.len);
			rx->f.payload = rx->payload;
			assert_int_equal(daqs_ch_msg_parse(&rx->f, rx->tb, &errnum,
							   err, sizeof(err)), 0);
			if (rx->f.type == type && rx->f.seq == seq)
				return;
			if (rx->f.type == DAQS_CH_T_ERROR && !rx->f.seq) {
				rx->seq0_errors++;
				continue;
			}
			if (rx->f.type == DAQS_CH_T_EVENT)
				continue;
			fail_msg("expected type %u seq %u, got type %u seq %u",
				 type, seq, rx->f.type, rx->f.seq);
		}
		if (now_ms() >= end)
			fail_msg("no answer of type %u for seq %u", type, seq);
		if (wait_readable(s->fd, (int)(end - now_ms())))
			continue;
		n = recv(s->fd, buf, sizeof(buf), 0);
		assert_true(n > 0);
		assert_int_equal(daqs_ch_dec_feed(&s->dec, buf, (size_t)n), n);
	}
}

static void expect_error(struct session *s, uint32_t seq, int errnum,
			 const char *text)
{
	struct rx rx;

	expect(s, DAQS_CH_T_ERROR, seq, &rx);
	assert_int_equal(daqs_ch_get_u32(&rx.tb[DAQS_CH_A_ERRNO]), errnum);
	if (text && !strstr(daqs_ch_get_string(&rx.tb[DAQS_CH_A_ERRMSG]), text))
		fail_msg("error text '%s' lacks '%s'",
			 daqs_ch_get_string(&rx.tb[DAQS_CH_A_ERRMSG]), text);
}

static void hello(struct session *s)
{
	struct rx rx;
	uint32_t seq = ++s->seq;

	daqs_ch_begin(&bld, DAQS_CH_T_HELLO, 0, seq);
	daqs_ch_put_u32(&bld, DAQS_CH_A_VERSION_MIN, 1);
	daqs_ch_put_u32(&bld, DAQS_CH_A_VERSION_MAX, 4);
	daqs_ch_put_string(&bld, DAQS_CH_A_PEER_NAME, "test_agent");
	send_built(s);
	expect(s, DAQS_CH_T_HELLO, seq, &rx);
	assert_int_equal(rx.f.flags, DAQS_CH_F_REPLY);
	assert_int_equal(daqs_ch_get_u32(&rx.tb[DAQS_CH_A_VERSION]), 1);
	assert_memory_equal(daqs_ch_get_string(&rx.tb[DAQS_CH_A_PEER_NAME]),
			    "daqs-agent ", 11);
	s->module = daqs_ch_get_u8(&rx.tb[DAQS_CH_A_MODULE]);
}

/* garbage (without a magic byte), then a GET of every binding */
static void garbage_then_get(struct session *s)
{
	uint8_t junk[1000], both[sizeof(junk) + DAQS_CH_HDR_LEN];
	struct rx rx;
	uint32_t seq = ++s->seq;
	size_t i;

	for (i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)(i * 7 + 1) == 0x89 ? 0 : (uint8_t)(i * 7 + 1);
	daqs_ch_begin(&bld, DAQS_CH_T_GET, 0, seq);
	assert_int_equal(daqs_ch_end(&bld), DAQS_CH_HDR_LEN);
	/* in one write, so the agent reads both at once and answers the GET
	 * before it reports the garbage */
	memcpy(both, junk, sizeof(junk));
	memcpy(both + sizeof(junk), bld.buf, DAQS_CH_HDR_LEN);
	send_raw(s, both, sizeof(both));
	if (s->module) {
		expect(s, DAQS_CH_T_GET, seq, &rx);
		assert_true(rx.f.flags & DAQS_CH_F_REPLY);
	} else {
		expect_error(s, seq, ENOSYS, "module daqs is not loaded");
	}
	/* the garbage is reported once, as an ERROR without a seq */
	expect_error(s, 0, EBADMSG, "skipped 1000 bytes");
}

/* a frame of everything: header fields as given, checksums made right */
static void send_forged(struct session *s, uint8_t version, uint32_t len,
			bool good_crc)
{
	uint8_t f[DAQS_CH_HDR_LEN + 8] = { 0x89, 'D', 'Q', 'S' };
	uint32_t seq = ++s->seq, crc;

	f[4] = version;
	f[5] = DAQS_CH_T_GET;
	memcpy(f + 8, &seq, 4);		/* little-endian host */
	memcpy(f + 12, &len, 4);
	crc = daqs_crc32c(0, f, 16);
	memcpy(f + 16, &crc, 4);
	crc = daqs_crc32c(daqs_crc32c(0, f, 20), f + 24,
			  len <= 8 ? len : 8) ^ (good_crc ? 0 : 1);
	memcpy(f + 20, &crc, 4);
	send_raw(s, f, DAQS_CH_HDR_LEN + (len <= 8 ? len : 8));
}

static void bad_frames(struct session *s)
{
	uint8_t mac[6] = { 0x52, 0x54, 0, 1, 2, 3 };

	send_forged(s, 1, 8, false);
	expect_error(s, s->seq, EBADMSG, "checksum");
	send_forged(s, 2, 0, true);
	expect_error(s, s->seq, EPROTONOSUPPORT, "version 2");
	send_forged(s, 1, 100000, true);
	expect_error(s, s->seq, EMSGSIZE, "100000");

	daqs_ch_begin(&bld, 42, 0, ++s->seq);
	send_built(s);
	expect_error(s, s->seq, EOPNOTSUPP, "unknown message type 42");

	daqs_ch_begin(&bld, DAQS_CH_T_GET, DAQS_CH_F_REPLY, ++s->seq);
	send_built(s);
	expect_error(s, s->seq, EINVAL, "GET reply is not a request");

	daqs_ch_begin(&bld, DAQS_CH_T_EVENT, 0, ++s->seq);
	daqs_ch_put_u8(&bld, DAQS_CH_A_AGENT_EVENT, 1);
	send_built(s);
	expect_error(s, s->seq, EINVAL, "not a request");

	/* a SET needs a device: this agent has none configured */
	daqs_ch_begin(&bld, DAQS_CH_T_SET, 0, ++s->seq);
	daqs_ch_nest_begin(&bld, DAQS_CH_A_BINDING);
	daqs_ch_put_u64(&bld, DAQS_A_RATE_BPS, 1000000);
	daqs_ch_nest_end(&bld);
	send_built(s);
	expect_error(s, s->seq, EINVAL, "no device");

	/* what only the kernel may say, the host may not */
	daqs_ch_begin(&bld, DAQS_CH_T_SET, 0, ++s->seq);
	daqs_ch_nest_begin(&bld, DAQS_CH_A_BINDING);
	daqs_ch_put(&bld, DAQS_A_MAC, mac, 6);
	daqs_ch_put_u8(&bld, DAQS_A_STATE, 0);
	daqs_ch_nest_end(&bld);
	send_built(s);
	expect_error(s, s->seq, EINVAL, "SET: binding: attribute 4 is not allowed");

	daqs_ch_begin(&bld, DAQS_CH_T_DEL, 0, ++s->seq);
	daqs_ch_put_u32(&bld, DAQS_CH_A_ERRNO, 1);
	send_built(s);
	expect_error(s, s->seq, EINVAL, "attribute 7 is not allowed");

	daqs_ch_begin(&bld, DAQS_CH_T_HELLO, 0, ++s->seq);
	daqs_ch_put_u32(&bld, DAQS_CH_A_VERSION_MIN, 2);
	daqs_ch_put_u32(&bld, DAQS_CH_A_VERSION_MAX, 3);
	send_built(s);
	expect_error(s, s->seq, EPROTONOSUPPORT, "no common protocol version");

	/* a well-formed SET for a MAC: the kernel's turn (or its absence) */
	daqs_ch_begin(&bld, DAQS_CH_T_SET, 0, ++s->seq);
	daqs_ch_nest_begin(&bld, DAQS_CH_A_BINDING);
	daqs_ch_put(&bld, DAQS_A_MAC, mac, 6);
	daqs_ch_put_u64(&bld, DAQS_A_RATE_BPS, 1000000);
	daqs_ch_nest_end(&bld);
	send_built(s);
	if (!s->module)
		expect_error(s, s->seq, ENOSYS, "module daqs is not loaded");
	hello(s);
}

/* a frame cut off, then silence: the agent gives it up and hears on */
static void cut_off_frame(struct session *s)
{
	struct rx rx;
	uint32_t seq;
	int n;

	daqs_ch_begin(&bld, DAQS_CH_T_SET, 0, 999);
	daqs_ch_nest_begin(&bld, DAQS_CH_A_BINDING);
	daqs_ch_put_string(&bld, DAQS_A_IFNAME, "eth0");
	for (n = 0; n < 20; n++)
		daqs_ch_put_u64(&bld, DAQS_A_RATE_BPS, 1);
	daqs_ch_nest_end(&bld);
	n = daqs_ch_end(&bld);
	assert_true(n > 200);
	send_raw(s, bld.buf, 40);

	/* a HELLO shorter than the rest the cut-off frame claims */
	seq = ++s->seq;
	daqs_ch_begin(&bld, DAQS_CH_T_HELLO, 0, seq);
	send_built(s);
	expect(s, DAQS_CH_T_HELLO, seq, &rx);
	/* and the bytes given up are reported */
	expect_error(s, 0, EBADMSG, "skipped");
}

/* a frame in pieces, one byte at a time */
static void byte_by_byte(struct session *s)
{
	struct rx rx;
	uint32_t seq = ++s->seq;
	int n, i;

	daqs_ch_begin(&bld, DAQS_CH_T_HELLO, 0, seq);
	daqs_ch_put_string(&bld, DAQS_CH_A_PEER_NAME, "slow host");
	n = daqs_ch_end(&bld);
	for (i = 0; i < n; i++)
		send_raw(s, bld.buf + i, 1);
	expect(s, DAQS_CH_T_HELLO, seq, &rx);
}

static void flood(struct session *s)
{
	static uint8_t junk[256 * 1024];
	uint32_t x = 1;
	struct rx rx;
	size_t i, off;
	ssize_t n;
	uint32_t seq;

	for (i = 0; i < sizeof(junk); i++) {
		x = x * 1103515245U + 12345U;
		junk[i] = (uint8_t)(x >> 16);
		if (i % 97 == 0 && i + 5 < sizeof(junk))
			junk[i] = 0x89;		/* false starts */
	}
	/* the agent answers while we write: read as we go */
	for (off = 0; off < sizeof(junk); off += (size_t)n) {
		n = send(s->fd, junk + off, sizeof(junk) - off,
			 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			assert_int_equal(errno, EAGAIN);
			n = 0;
			usleep(1000);
		}
	}
	seq = ++s->seq;
	daqs_ch_begin(&bld, DAQS_CH_T_HELLO, 0, seq);
	send_built(s);
	expect(s, DAQS_CH_T_HELLO, seq, &rx);
	/* rate-limited: not one ERROR per bad byte */
	assert_true(rx.seq0_errors <= 3);
}

/*
 * Requests back to back, their answers together far more than the agent's
 * 64 KiB queue: a host that reads gets every one of them, in order (the
 * agent once dropped what did not fit in one read's worth of answers).
 */
static void pipelined(struct session *s)
{
	enum { N = 1500 };
	static uint8_t req[N * 64];
	struct pollfd p = { .fd = s->fd };
	enum daqs_ch_dec_result r;
	struct daqs_ch_frame f;
	uint32_t first = s->seq + 1, want = first;
	uint64_t end = now_ms() + (uint64_t)s->timeout_ms * 4;
	size_t len = 0, off = 0, used;
	uint8_t buf[8192];
	ssize_t n;
	int i, k;

	for (i = 0; i < N; i++) {
		daqs_ch_begin(&bld, DAQS_CH_T_GET, 0, ++s->seq);
		daqs_ch_nest_begin(&bld, DAQS_CH_A_BINDING);
		daqs_ch_put_string(&bld, DAQS_A_IFNAME, "lo");
		daqs_ch_nest_end(&bld);
		k = daqs_ch_end(&bld);
		assert_true(k > 0);
		memcpy(req + len, bld.buf, (size_t)k);
		len += (size_t)k;
	}
	while (want < first + N) {
		assert_true(now_ms() < end);
		p.events = POLLIN | (off < len ? POLLOUT : 0);
		assert_true(poll(&p, 1, 1000) >= 0);
		if ((p.revents & POLLOUT) && off < len) {
			n = send(s->fd, req + off, len - off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
			if (n > 0)
				off += (size_t)n;
		}
		if (!(p.revents & POLLIN))
			continue;
		n = recv(s->fd, buf, sizeof(buf), MSG_DONTWAIT);
		assert_true(n > 0);
		for (used = 0; used < (size_t)n; ) {
			used += daqs_ch_dec_feed(&s->dec, buf + used,
						 (size_t)n - used);
			while ((r = daqs_ch_dec_next(&s->dec, &f)) !=
			       DAQS_CH_DEC_NEED) {
				assert_int_equal(r, DAQS_CH_DEC_FRAME);
				if (f.type == DAQS_CH_T_EVENT ||
				    (f.type == DAQS_CH_T_ERROR && !f.seq))
					continue;
				/* an answer to each, in order: none skipped */
				assert_int_equal(f.seq, want);
				if (!(f.flags & DAQS_CH_F_MORE))
					want++;
			}
		}
	}
}

static void reconnect(struct session *s)
{
	close(s->fd);
	s->fd = -1;
	do_accept(s);
	hello(s);
	/* and again, with half a frame left behind */
	daqs_ch_begin(&bld, DAQS_CH_T_HELLO, 0, 77);
	send_raw(s, bld.buf, 10);
	close(s->fd);
	do_accept(s);
	hello(s);
}

/* ---- the native agent, with its sandbox --------------------------------- */

/*
 * A sanitizer's leak check at exit needs ptrace, which the sandbox forbids:
 * the Makefile sets DAQS_AGENT_NO_SANDBOX=1 for SANITIZE=1 builds.
 */
static bool no_sandbox(void)
{
	const char *v = getenv("DAQS_AGENT_NO_SANDBOX");

	return v && *v && strcmp(v, "0");
}

static int group_setup(void **state)
{
	(void)state;
	if (!getenv("DAQS_AGENT"))
		return 0;
	start(&native, NULL, !no_sandbox());
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	/* normally test_exit has stopped it */
	if (getenv("DAQS_AGENT") && native.pid > 0)
		stop(&native);
	return 0;
}

#define NEED_AGENT() do { if (!getenv("DAQS_AGENT")) skip(); } while (0)

static void test_hello(void **state)
{
	(void)state;
	NEED_AGENT();
	hello(&native);
}

static void test_garbage_then_get(void **state)
{
	(void)state;
	NEED_AGENT();
	garbage_then_get(&native);
}

static void test_bad_frames(void **state)
{
	(void)state;
	NEED_AGENT();
	bad_frames(&native);
}

static void test_cut_off_frame(void **state)
{
	(void)state;
	NEED_AGENT();
	cut_off_frame(&native);
}

static void test_byte_by_byte(void **state)
{
	(void)state;
	NEED_AGENT();
	byte_by_byte(&native);
}

static void test_flood(void **state)
{
	(void)state;
	NEED_AGENT();
	flood(&native);
}

static void test_pipelined(void **state)
{
	(void)state;
	NEED_AGENT();
	pipelined(&native);
}

static void test_reconnect(void **state)
{
	(void)state;
	NEED_AGENT();
	reconnect(&native);
}

/* the value of "Key:\t..." in /proc/PID/status */
static void proc_status(pid_t pid, const char *key, char *val, size_t len)
{
	char path[64], line[256];
	size_t klen = strlen(key);
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	assert_non_null(f);
	val[0] = '\0';
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, klen) && line[klen] == ':') {
			snprintf(val, len, "%s", line + klen + 1 +
				 strspn(line + klen + 1, " \t"));
			val[strcspn(val, "\n")] = '\0';
		}
	fclose(f);
}

static void test_sandbox(void **state)
{
	char v[64];

	(void)state;
	NEED_AGENT();
	if (no_sandbox())
		skip();
	proc_status(native.pid, "Seccomp", v, sizeof(v));
	assert_string_equal(v, "2");
	proc_status(native.pid, "NoNewPrivs", v, sizeof(v));
	assert_string_equal(v, "1");
	proc_status(native.pid, "CapInh", v, sizeof(v));
	assert_string_equal(v, "0000000000000000");
	if (geteuid())
		skip();		/* had no capabilities to begin with */
	proc_status(native.pid, "CapEff", v, sizeof(v));
	assert_string_equal(v, "0000000000001000");	/* CAP_NET_ADMIN */
	proc_status(native.pid, "CapPrm", v, sizeof(v));
	assert_string_equal(v, "0000000000001000");
	proc_status(native.pid, "CapBnd", v, sizeof(v));
	assert_string_equal(v, "0000000000001000");
	/* and it still works */
	hello(&native);
}

/* SIGTERM: a clean exit (status 0), even after all of the above */
static void test_exit(void **state)
{
	(void)state;
	NEED_AGENT();
	assert_int_equal(stop(&native), 0);
	native.pid = 0;
}

/* ---- the same under valgrind --------------------------------------------- */

static void test_valgrind(void **state)
{
	const char *vg = getenv("VALGRIND");
	struct session s;

	(void)state;
	NEED_AGENT();
	if (!vg || !*vg)
		skip();
	start(&s, vg, false);
	hello(&s);
	garbage_then_get(&s);
	bad_frames(&s);
	cut_off_frame(&s);
	byte_by_byte(&s);
	pipelined(&s);
	reconnect(&s);
	assert_int_equal(stop(&s), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hello),
		cmocka_unit_test(test_garbage_then_get),
		cmocka_unit_test(test_bad_frames),
		cmocka_unit_test(test_cut_off_frame),
		cmocka_unit_test(test_byte_by_byte),
		cmocka_unit_test(test_flood),
		cmocka_unit_test(test_pipelined),
		cmocka_unit_test(test_reconnect),
		cmocka_unit_test(test_sandbox),
		cmocka_unit_test(test_exit),
		cmocka_unit_test(test_valgrind),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests_name("agent", tests, group_setup,
					   group_teardown);
}
