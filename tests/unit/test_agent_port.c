// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * daqs-agent's port (daqsd/agent_port.c) on a fake virtio-serial port:
 * read(), write() and poll() on its fd are linked to a model of Linux's
 * virtio_console (-Wl,--wrap), driven one step of agent.c's loop at a time,
 * with a fake clock and a stand-in relay that answers every request.
 *
 * The model: what the host writes is queued at once (the interrupt), one
 * chunk per write, and read back one chunk at most per read(); whether a
 * host is there (PORT_OPEN, a control message the guest handles in a
 * workqueue) is changed separately by the test, as late as it likes. No
 * host: read() of an empty port returns 0, write() fails with EAGAIN, poll()
 * says POLLHUP (and POLLIN). What the guest writes reaches the host QEMU
 * has let in at that moment, which may be a newer one than the port says.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent.h"

/* ---- the fake port --------------------------------------------------------- */

#define CHUNKS 16
#define HOSTS 4

static struct {
	int fd;
	bool host_connected;	/* what the guest has been told */
	int qemu_host;		/* the host QEMU has let in: 0 none, 1.. */
	bool host_reads;	/* else writes fail with EAGAIN */
	uint8_t chunk[CHUNKS][512];
	size_t len[CHUNKS], off[CHUNKS];
	unsigned int head, n;
	/* what each host received */
	struct daqs_ch_decoder rx[HOSTS + 1];
	uint32_t got[HOSTS + 1][16];	/* the seqs answered to it */
	unsigned int ngot[HOSTS + 1];
} port;

static uint64_t clock_ms = 100000;
static struct agent a;
static char last_log[512];

ssize_t __real_read(int fd, void *buf, size_t n);
ssize_t __real_write(int fd, const void *buf, size_t n);
int __real_poll(struct pollfd *fds, nfds_t nfds, int timeout);
ssize_t __wrap_read(int fd, void *buf, size_t n);
ssize_t __wrap_write(int fd, const void *buf, size_t n);
int __wrap_poll(struct pollfd *fds, nfds_t nfds, int timeout);

ssize_t __wrap_read(int fd, void *buf, size_t n)
{
	unsigned int c = port.head;
	size_t k;

	if (fd != port.fd)
		return __real_read(fd, buf, n);
	if (!port.n) {
		if (!port.host_connected)
			return 0;
		errno = EAGAIN;
		return -1;
	}
	k = port.len[c] - port.off[c];
	if (k > n)
		k = n;
	memcpy(buf, port.chunk[c] + port.off[c], k);
	port.off[c] += k;
	if (port.off[c] == port.len[c]) {
		port.head = (c + 1) % CHUNKS;
		port.n--;
	}
	return (ssize_t)k;
}

ssize_t __wrap_write(int fd, const void *buf, size_t n)
{
	enum daqs_ch_dec_result r;
	struct daqs_ch_frame f;
	int h = port.qemu_host;
	size_t off;

	if (fd != port.fd)
		return __real_write(fd, buf, n);
	if (!port.host_connected || !port.host_reads) {
		errno = EAGAIN;
		return -1;
	}
	if (!h)
		return (ssize_t)n;	/* QEMU: no host, discarded */
	for (off = 0; off < n;) {
		off += daqs_ch_dec_feed(&port.rx[h], (const uint8_t *)buf + off,
					n - off);
		while ((r = daqs_ch_dec_next(&port.rx[h], &f)) != DAQS_CH_DEC_NEED) {
			assert_int_equal(r, DAQS_CH_DEC_FRAME);
			assert_true(f.flags & DAQS_CH_F_REPLY);
			assert_true(port.ngot[h] < 16);
			port.got[h][port.ngot[h]++] = f.seq;
		}
	}
	return (ssize_t)n;
}

int __wrap_poll(struct pollfd *fds, nfds_t nfds, int timeout)
{
	short ev;

	if (nfds != 1 || fds[0].fd != port.fd)
		return __real_poll(fds, nfds, timeout);
	ev = 0;
	if (port.n || !port.host_connected)
		ev |= POLLIN;
	if (port.host_connected && port.host_reads)
		ev |= POLLOUT;
	if (!port.host_connected)
		ev |= POLLHUP;
	fds[0].revents = ev & (fds[0].events | POLLHUP | POLLERR);
	return fds[0].revents ? 1 : 0;
}

/* host h writes a request into the port */
static void host_sends(uint8_t type, uint32_t seq)
{
	struct daqs_ch_builder b;
	unsigned int c = (port.head + port.n) % CHUNKS;
	int n;

	daqs_ch_begin(&b, type, 0, seq);
	if (type == DAQS_CH_T_HELLO)
		daqs_ch_put_string(&b, DAQS_CH_A_PEER_NAME, "test");
	n = daqs_ch_end(&b);
	assert_true(n > 0 && (size_t)n <= sizeof(port.chunk[0]));
	assert_true(port.n < CHUNKS);
	memcpy(port.chunk[c], b.buf, (size_t)n);
	port.len[c] = (size_t)n;
	port.off[c] = 0;
	port.n++;
}

/* QEMU lets host h in (0: the host went); the guest is told later */
static void qemu_host(int h)
{
	port.qemu_host = h;
	if (h)
		daqs_ch_dec_init(&port.rx[h]);
}

/* the seqs host h was answered, in order */
static void expect_answers(int h, unsigned int n, ...)
{
	unsigned int i;
	va_list ap;

	if (port.ngot[h] != n) {
		fail_msg("host %d got %u answers, expected %u (last log: %s)",
			 h, port.ngot[h], n, last_log);
	}
	va_start(ap, n);
	for (i = 0; i < n; i++)
		assert_int_equal(port.got[h][i], va_arg(ap, unsigned int));
	va_end(ap);
}

/* ---- what daqs-agent links agent_port.c with ----------------------------- */

uint64_t agent_now_ms(void)
{
	return clock_ms;
}

void agent_log(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last_log, sizeof(last_log), fmt, ap);
	va_end(ap);
	print_message("agent: %s\n", last_log);
}

void agent_log_limited(unsigned int key, const char *fmt, ...)
{
	va_list ap;

	(void)key;
	va_start(ap, fmt);
	vsnprintf(last_log, sizeof(last_log), fmt, ap);
	va_end(ap);
	print_message("agent: %s\n", last_log);
}

/* the relay: every frame gets a reply of its type and seq */
void agent_handle(struct agent *ag, enum daqs_ch_dec_result r,
		  const struct daqs_ch_frame *f)
{
	struct daqs_ch_builder b;
	int n;

	assert_int_equal(r, DAQS_CH_DEC_FRAME);
	daqs_ch_begin(&b, f->type, DAQS_CH_F_REPLY, f->seq);
	n = daqs_ch_end(&b);
	assert_true(n > 0);
	agent_port_queue(ag, b.buf, (size_t)n);
}

/* ---- agent.c's loop, one pass, for the port alone -------------------------- */

static void loop_once(void)
{
	struct pollfd pfd = { .fd = port.fd };

	if (!a.connected) {
		agent_port_retry(&a);
		return;
	}
	pfd.events = (a.held ? POLLOUT : POLLIN) |
		     (a.out.len > a.out.off ? POLLOUT : 0);
	if (!__wrap_poll(&pfd, 1, 0))
		return;
	if (a.held && (pfd.revents & (POLLHUP | POLLERR))) {
		agent_port_lost(&a, "end of stream");
		return;
	}
	if (!agent_port_read(&a))
		agent_port_lost(&a, "end of stream");
}

static void run(unsigned int passes)
{
	while (passes--)
		loop_once();
}

static int setup(void **state)
{
	char err[AGENT_ERRLEN];

	(void)state;
	memset(&port, 0, sizeof(port));
	port.fd = -1;
	port.host_reads = true;
	memset(&a, 0, sizeof(a));
	a.port_fd = -1;
	a.backoff_ms = AGENT_BACKOFF_MIN_MS;
	daqs_ch_dec_init(&a.dec);
	/* /dev/null is a character device: opened as a virtio-serial port,
	 * whose fd the model then takes over */
	strcpy(a.port_path, "/dev/null");
	assert_int_equal(agent_port_open(&a, err, sizeof(err)), 0);
	assert_int_equal(a.kind, AGENT_PORT_VPORT);
	port.fd = a.port_fd;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	close(a.port_fd);
	return 0;
}

/* host 1 there since the start, said HELLO long ago */
static void host1_settled(void)
{
	qemu_host(1);
	port.host_connected = true;
	a.connected = false;
	run(1);
	assert_true(a.connected);
	host_sends(DAQS_CH_T_HELLO, 100);
	run(2);
	expect_answers(1, 1, 100);
	clock_ms += 10 * AGENT_STALE_MS;
}

/*
 * The bug of daqsd-e2e's restart: host 1 goes, host 2 connects at once and
 * writes its HELLO; the guest has handled host 1's "port close" but not
 * host 2's "port open", so the HELLO is read while the port says no host,
 * its answer cannot be written, and the read after it says end of stream.
 * Host 2 gets its answer once the port says it is there.
 */
static void test_hello_before_port_open(void **state)
{
	(void)state;
	host1_settled();
	host_sends(DAQS_CH_T_GET, 101);
	run(2);
	expect_answers(1, 2, 100, 101);

	qemu_host(0);
	port.host_connected = false;	/* host 1's PORT_OPEN 0, handled */
	qemu_host(2);
	host_sends(DAQS_CH_T_HELLO, 200);
	clock_ms += 1;
	run(4);
	assert_false(a.connected);
	clock_ms += 5;
	port.host_connected = true;	/* host 2's PORT_OPEN 1, late */
	run(3);
	assert_true(a.connected);
	expect_answers(2, 1, 200);
	host_sends(DAQS_CH_T_GET, 201);
	run(2);
	expect_answers(2, 2, 200, 201);
	expect_answers(1, 2, 100, 101);
}

/*
 * Later still: both control messages are behind. Host 2's HELLO is read
 * while the port still says host 1 is there, and answered (QEMU gives the
 * answer to host 2); then the guest handles host 1's "port close" and host
 * 2's GET is read while the port says no host. Its answer waits for the
 * "port open".
 */
static void test_get_before_port_open(void **state)
{
	(void)state;
	host1_settled();
	qemu_host(0);
	qemu_host(2);
	host_sends(DAQS_CH_T_HELLO, 200);
	clock_ms += 1;
	run(2);
	expect_answers(2, 1, 200);
	host_sends(DAQS_CH_T_GET, 201);
	port.host_connected = false;	/* host 1's PORT_OPEN 0 */
	clock_ms += 3;
	run(4);
	assert_false(a.connected);
	clock_ms += 3;
	port.host_connected = true;	/* host 2's PORT_OPEN 1 */
	run(3);
	expect_answers(2, 2, 200, 201);
	expect_answers(1, 1, 100);
}

/*
 * A host that has been there a while writes a GET and goes before the agent
 * reads it: the answer is its own loss, not the next host's, even when the
 * next one comes at once.
 */
static void test_settled_host_answers_dropped(void **state)
{
	(void)state;
	host1_settled();
	host_sends(DAQS_CH_T_GET, 101);
	qemu_host(0);
	port.host_connected = false;
	run(4);
	assert_false(a.connected);
	qemu_host(2);
	port.host_connected = true;
	host_sends(DAQS_CH_T_HELLO, 200);
	run(4);
	expect_answers(2, 1, 200);
	expect_answers(1, 1, 100);
}

/*
 * A new host that does not read, then goes: what it did not read is not
 * kept for the next one, however recent its HELLO.
 */
static void test_host_not_reading_answers_dropped(void **state)
{
	(void)state;
	host1_settled();
	qemu_host(0);
	port.host_connected = false;
	run(2);
	qemu_host(2);
	port.host_connected = true;
	run(1);
	assert_true(a.connected);
	port.host_reads = false;
	host_sends(DAQS_CH_T_HELLO, 200);
	run(3);
	assert_true(a.held);
	expect_answers(2, 0);
	qemu_host(0);
	port.host_connected = false;
	port.host_reads = true;
	run(3);
	assert_false(a.connected);
	qemu_host(3);
	port.host_connected = true;
	host_sends(DAQS_CH_T_HELLO, 300);
	run(4);
	expect_answers(3, 1, 300);
}

/*
 * A HELLO read while the port says no host, and no host comes within
 * AGENT_STALE_MS: its answer is dropped, and the host that comes later
 * starts clean.
 */
static void test_kept_answer_expires(void **state)
{
	(void)state;
	host1_settled();
	qemu_host(0);
	port.host_connected = false;
	qemu_host(2);
	host_sends(DAQS_CH_T_HELLO, 200);
	qemu_host(0);		/* host 2 came and went */
	run(4);
	assert_false(a.connected);
	clock_ms += AGENT_STALE_MS;
	run(2);
	assert_int_equal(a.out.len, a.out.off);
	qemu_host(3);
	port.host_connected = true;
	run(1);
	assert_true(a.connected);
	host_sends(DAQS_CH_T_HELLO, 300);
	run(2);
	expect_answers(3, 1, 300);
	expect_answers(2, 0);
}

/*
 * tests/faults.sh, daqsd killed with -9 and started again: the last bytes
 * of the killed daqsd reach the guest after it has seen that host go, and
 * wait in the port; the new daqsd connects a moment before they are
 * AGENT_STALE_MS old and writes its HELLO, which is read before the
 * guest handles its "port open". Only the old bytes are dropped: the HELLO
 * was dropped with them, and the new daqsd waited 3 s for its answer.
 */
static void test_stale_bytes_then_new_host(void **state)
{
	(void)state;
	host1_settled();
	qemu_host(0);
	port.host_connected = false;
	run(2);
	assert_false(a.connected);
	host_sends(DAQS_CH_T_GET, 101);	/* host 1's last, in flight */
	run(1);
	clock_ms += AGENT_STALE_MS - 50;
	run(1);
	qemu_host(2);
	host_sends(DAQS_CH_T_HELLO, 200);
	clock_ms += 60;
	run(2);
	assert_false(a.connected);
	clock_ms += 5;
	port.host_connected = true;	/* host 2's PORT_OPEN 1 */
	run(4);
	assert_true(a.connected);
	expect_answers(2, 1, 200);
	expect_answers(1, 1, 100);
}

/* bytes waiting with no host that are young when it comes are its own */
static void test_young_bytes_kept_for_new_host(void **state)
{
	(void)state;
	host1_settled();
	qemu_host(0);
	port.host_connected = false;
	run(2);
	qemu_host(2);
	host_sends(DAQS_CH_T_HELLO, 200);
	run(1);
	clock_ms += AGENT_STALE_MS - 10;
	run(1);
	port.host_connected = true;
	run(4);
	expect_answers(2, 1, 200);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_hello_before_port_open,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_get_before_port_open,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_settled_host_answers_dropped,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_host_not_reading_answers_dropped,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_kept_answer_expires,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_stale_bytes_then_new_host,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_young_bytes_kept_for_new_host,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
