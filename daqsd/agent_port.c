// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The port: a virtio-serial character device found by its name in sysfs,
 * or a unix socket given on the command line.
 *
 * A virtio-serial port whose host side is closed reads as end of file and
 * polls as POLLHUP, at once and for as long as the host is away (there is
 * nothing to wait for). So a lost host is not polled for. The port is put
 * in O_ASYNC mode instead: virtio_console sends SIGIO when the host's side
 * opens or closes and when data comes, and the main loop looks again at
 * once (with a zero-timeout poll, until POLLHUP clears), besides a backoff
 * timer in case a signal is lost. The device stays open meanwhile, so no
 * file has to be opened after the sandbox is in place. A unix socket is
 * closed and connected again.
 *
 * Bytes that come while the port says the host is away are kept for a
 * while: data can overtake the host's "port open", a control message the
 * guest handles in a workqueue, and then they are the connecting host's
 * first request. Bytes still there AGENT_STALE_MS later, the host still
 * away, are of a host that came and went before we read them: they are
 * dropped, not answered to the next host (whose seqs they could match).
 * Their age is counted from when they were first seen, and they are read
 * then, so that bytes coming after them wait their own AGENT_STALE_MS: the
 * last bytes of a daqsd killed with -9 can reach the guest after it saw
 * that daqsd go, and the HELLO of a daqsd started 250 ms later was dropped
 * with them, its own port open still behind (tests/faults.sh: 3 s without
 * control instead of 2 ticks).
 *
 * The port's "host away" runs late the other way too. A host that goes
 * and one that connects right after are two control messages, queued
 * behind the data; under load the guest handles them tens of ms late, so
 * the new host's HELLO can be read (and answered, into a port that still
 * says the old host is there) before the guest has seen the old host go,
 * or read while the port says no host, in the moment between the two.
 * Its answer is then refused (EAGAIN: no host) and, when the read after
 * it says end of stream, was dropped with the old host's stream: the new
 * host waited for it in vain (daqsd: 3 s, then it connects again). So
 * when the port says the host went, the stream of a host that said HELLO
 * less than AGENT_STALE_MS before, and whose answers blocked only because
 * the port said it was away (not because it did not read them), is kept
 * for AGENT_STALE_MS: answers not yet written, input not yet taken. A host
 * seen by then gets them; a host that has been there longer, or did not
 * read, loses what it did not read, as before; and a kept stream no host
 * comes for is dropped. At worst a new host gets answers meant for a host
 * that came and went within AGENT_STALE_MS, the case of the bytes above,
 * and ignores them (daqsd starts each session at a random seq).
 */
#include "agent.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define VPORT_SYSFS "/sys/class/virtio-ports"

/* the first line of a small sysfs file, without its newline */
static int read_line(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

int agent_port_find(char *path, size_t len)
{
	char file[512], name[64];
	struct dirent *de;
	DIR *dir;
	int ret = -1;

	dir = opendir(VPORT_SYSFS);
	if (!dir)
		return -1;
	while ((de = readdir(dir))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(file, sizeof(file), VPORT_SYSFS "/%s/name", de->d_name);
		if (read_line(file, name, sizeof(name)) ||
		    strcmp(name, DAQS_CH_PORT_NAME))
			continue;
		if ((size_t)snprintf(path, len, "/dev/%s", de->d_name) < len)
			ret = 0;
		break;
	}
	closedir(dir);
	return ret;
}

static int connect_unix(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "socket path '%s' is too long", path);
		return -1;
	}
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "Unable to create socket: %s",
			 strerror(errno));
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		snprintf(err, errlen, "Unable to connect to '%s': %s", path,
			 strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static void forget_io(struct agent *a)
{
	daqs_ch_dec_reset(&a->dec);
	a->in_off = a->in_len = 0;
	a->held = false;
	a->out.off = a->out.len = 0;
	a->out_stuck = false;
	a->hello_ms = 0;
	a->keep_until_ms = 0;
}

static size_t unsent(const struct agent *a)
{
	return a->out.len - a->out.off;
}

/* answers unwritten, input read and not yet taken, a partial frame */
static bool owed(const struct agent *a)
{
	return unsent(a) || a->in_len > a->in_off ||
	       daqs_ch_dec_pending(&a->dec);
}

/* the port says the host went: is the stream perhaps the next host's? */
static bool keep_stream(const struct agent *a, uint64_t now)
{
	return a->kind == AGENT_PORT_VPORT && a->connected && !a->out_stuck &&
	       a->hello_ms && now < a->hello_ms + AGENT_STALE_MS && owed(a);
}

/* bytes read while no host was there: after the input, for the host now here */
static void take_stale(struct agent *a)
{
	size_t left = a->in_len - a->in_off;

	memmove(a->in, a->in + a->in_off, left);
	a->in_off = 0;
	a->in_len = left;
	if (a->stale_len > sizeof(a->in) - left) {
		agent_log_limited(10, "dropped %zu bytes the host wrote before its port opened: no room",
				  a->stale_len - (sizeof(a->in) - left));
		a->stale_len = sizeof(a->in) - left;
	}
	memcpy(a->in + a->in_len, a->stale, a->stale_len);
	a->in_len += a->stale_len;
	/* taken like held input: once the port can be written */
	a->held = true;
}

/* a host is there; true if it gets a stream kept for it */
static bool connected(struct agent *a)
{
	uint64_t now = agent_now_ms();
	bool kept = a->keep_until_ms && now < a->keep_until_ms;

	a->connected = true;
	a->last_rx_ms = now;
	if (!kept)
		forget_io(a);
	a->keep_until_ms = 0;
	if (a->stale_len)
		take_stale(a);
	a->stale_len = 0;
	a->stale_since_ms = 0;
	return kept;
}

/* a virtio-serial port polls POLLHUP for as long as its host side is
 * closed; *data: POLLIN, which such a port also polls for as long, bytes
 * waiting or not (virtio_console: a read would not block, it returns 0):
 * only a read says whether bytes wait (the stale timer once ran from the
 * host's going, not from any bytes, and took a new host's HELLO, its port
 * open a few ms behind, for bytes of one that came and went) */
static bool host_there(int fd, bool *data)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	if (poll(&pfd, 1, 0) < 0) {
		*data = false;
		return false;
	}
	*data = pfd.revents & POLLIN;
	return !(pfd.revents & (POLLHUP | POLLERR));
}

int agent_port_open(struct agent *a, char *err, size_t errlen)
{
	struct stat st;
	bool data;
	int fd;

	if (stat(a->port_path, &st) < 0) {
		snprintf(err, errlen, "Unable to open port '%s': %s",
			 a->port_path, strerror(errno));
		return -1;
	}
	if (S_ISSOCK(st.st_mode)) {
		fd = connect_unix(a->port_path, err, errlen);
		if (fd < 0)
			return -1;
		a->kind = AGENT_PORT_UNIX;
	} else if (S_ISCHR(st.st_mode)) {
		fd = open(a->port_path, O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
		if (fd < 0) {
			snprintf(err, errlen, "Unable to open port '%s': %s",
				 a->port_path, strerror(errno));
			return -1;
		}
		a->kind = AGENT_PORT_VPORT;
		a->port_fd = fd;
		/* SIGIO when the host comes or goes: no polling for it */
		if (fcntl(fd, F_SETOWN, getpid()) < 0 ||
		    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_ASYNC) < 0)
			agent_log("Unable to ask the port for SIGIO: %s; looking every %u ms",
				  strerror(errno), AGENT_BACKOFF_MAX_MS);
		/* no host on the other side yet: wait for it quietly, not
		 * with a "host disconnected" for a host that never was */
		if (!host_there(fd, &data)) {
			forget_io(a);
			a->connected = false;
			a->retry_at_ms = agent_now_ms() + a->backoff_ms;
			return 0;
		}
	} else {
		snprintf(err, errlen,
			 "Unable to open port '%s': not a character device or a socket",
			 a->port_path);
		return -1;
	}
	a->port_fd = fd;
	connected(a);
	return 0;
}

void agent_port_lost(struct agent *a, const char *why)
{
	size_t pending = daqs_ch_dec_pending(&a->dec);
	uint64_t now = agent_now_ms();
	bool keep = keep_stream(a, now);

	if (a->connected && keep) {
		agent_log("host disconnected (%s); keeping %zu bytes of answers and %zu of input for %u ms: it said HELLO %llu ms ago, its \"port open\" may be behind",
			  why, unsent(a), a->in_len - a->in_off + pending,
			  AGENT_STALE_MS,
			  (unsigned long long)(now - a->hello_ms));
	} else if (a->connected) {
		char dropped[64] = "";

		if (unsent(a))
			snprintf(dropped, sizeof(dropped),
				 "; dropping %zu bytes of answers", unsent(a));
		agent_log("host disconnected (%s)%s%s", why, dropped,
			  pending ? "; dropping a partial frame" : "");
	}
	if (a->connected) {
		a->n.disconnects++;
		a->lost_ms = now;
	}
	a->connected = false;
	if (keep)
		a->keep_until_ms = now + AGENT_STALE_MS;
	else
		forget_io(a);
	if (a->kind == AGENT_PORT_UNIX && a->port_fd >= 0) {
		close(a->port_fd);
		a->port_fd = -1;
	}
	a->retry_at_ms = agent_now_ms() + a->backoff_ms;
	a->backoff_ms *= 2;
	if (a->backoff_ms > AGENT_BACKOFF_MAX_MS)
		a->backoff_ms = AGENT_BACKOFF_MAX_MS;
}

/* bytes in a port with no host: read them, from now on they age */
static void read_stale(struct agent *a, uint64_t now)
{
	ssize_t n;
	int i;

	for (i = 0; i < 64 && a->stale_len < sizeof(a->stale); i++) {
		n = read(a->port_fd, a->stale + a->stale_len,
			 sizeof(a->stale) - a->stale_len);
		if (n <= 0 && !(n < 0 && errno == EINTR))
			break;
		if (n > 0)
			a->stale_len += (size_t)n;
	}
	if (a->stale_len)
		a->stale_since_ms = now;
}

/* called when retry_at_ms has come or SIGIO said so: is the host back? */
bool agent_port_retry(struct agent *a)
{
	char err[AGENT_ERRLEN];

	if (a->kind == AGENT_PORT_UNIX) {
		/* the path was a socket when we started: no stat() again */
		a->port_fd = connect_unix(a->port_path, err, sizeof(err));
		if (a->port_fd >= 0) {
			connected(a);
			agent_log("host connected");
			return true;
		}
	} else {
		uint64_t now = agent_now_ms();
		size_t kept;
		bool data;

		if (a->keep_until_ms && now >= a->keep_until_ms) {
			agent_log_limited(11, "dropped %zu bytes of answers kept for a host that did not come back",
					  unsent(a));
			forget_io(a);
		}
		/* bytes of a host that came and went: forget them */
		if (a->stale_len && now >= a->stale_since_ms + AGENT_STALE_MS) {
			agent_log_limited(10, "dropped %zu bytes of a host that came and went",
					  a->stale_len);
			a->stale_len = 0;
			a->stale_since_ms = 0;
		}
		kept = unsent(a);
		if (host_there(a->port_fd, &data)) {
			if (!connected(a))
				kept = 0;
			if (kept)
				agent_log("host connected, %llu ms after the last went: writing the %zu bytes of answers kept",
					  (unsigned long long)(now - a->lost_ms),
					  kept);
			else if (a->verbose && a->lost_ms)
				agent_log("host connected, %llu ms after the last went",
					  (unsigned long long)(now - a->lost_ms));
			else
				agent_log("host connected");
			return true;
		}
		/* newer bytes wait in the port until these are dealt with */
		if (data && !a->stale_len)
			read_stale(a, now);
	}
	a->retry_at_ms = agent_now_ms() + a->backoff_ms;
	a->backoff_ms *= 2;
	if (a->backoff_ms > AGENT_BACKOFF_MAX_MS)
		a->backoff_ms = AGENT_BACKOFF_MAX_MS;
	/* and look again when the bytes read are old */
	if (a->stale_len && a->retry_at_ms > a->stale_since_ms + AGENT_STALE_MS)
		a->retry_at_ms = a->stale_since_ms + AGENT_STALE_MS;
	return false;
}

bool agent_port_consume(struct agent *a)
{
	enum daqs_ch_dec_result r;
	struct daqs_ch_frame f;

	for (;;) {
		if (a->out.len > a->out.off) {
			if (!agent_port_flush(a))
				return false;
			if (a->out.len > a->out.off) {
				a->held = true;
				return true;
			}
		}
		r = daqs_ch_dec_next(&a->dec, &f);
		if (r != DAQS_CH_DEC_NEED) {
			/* the start of a host's session, perhaps a new host's */
			if (r == DAQS_CH_DEC_FRAME && f.type == DAQS_CH_T_HELLO &&
			    !(f.flags & DAQS_CH_F_REPLY))
				a->hello_ms = agent_now_ms();
			agent_handle(a, r, &f);
			/* a handler never closes the port; but be sure */
			if (!a->connected)
				return false;
			continue;
		}
		if (a->in_off == a->in_len) {
			/* the stall timer starts again with what we read next */
			if (a->held)
				a->last_rx_ms = agent_now_ms();
			a->held = false;
			return true;
		}
		a->in_off += daqs_ch_dec_feed(&a->dec, a->in + a->in_off,
					      a->in_len - a->in_off);
	}
}

bool agent_port_read(struct agent *a)
{
	ssize_t n;
	int i;

	/* a bounded batch, so events are not starved by a chatty host */
	for (i = 0; i < 16; i++) {
		if (!agent_port_consume(a))
			return false;
		if (a->held)
			return true;	/* the host reads our answers first */
		n = read(a->port_fd, a->in, sizeof(a->in));
		if (n > 0) {
			a->last_rx_ms = agent_now_ms();
			a->in_off = 0;
			a->in_len = (size_t)n;
			continue;
		}
		if (n == 0)
			return false;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return true;
		agent_log_limited(1, "Unable to read the port: %s",
				  strerror(errno));
		return false;
	}
	return agent_port_consume(a);
}

bool agent_port_flush(struct agent *a)
{
	struct agent_out *o = &a->out;
	ssize_t n;

	while (o->off < o->len) {
		if (a->kind == AGENT_PORT_UNIX)
			n = send(a->port_fd, o->buf + o->off, o->len - o->off,
				 MSG_NOSIGNAL);
		else
			n = write(a->port_fd, o->buf + o->off, o->len - o->off);
		if (n > 0) {
			o->off += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			bool data;

			/* refused because the port says the host is away,
			 * or because the host there does not read */
			if (a->kind != AGENT_PORT_VPORT ||
			    host_there(a->port_fd, &data))
				a->out_stuck = true;
			return true;
		}
		return false;
	}
	o->off = o->len = 0;
	a->out_stuck = false;
	return true;
}

bool agent_port_queue(struct agent *a, const uint8_t *frame, size_t len)
{
	struct agent_out *o = &a->out;

	if (!a->connected) {
		a->n.dropped++;
		return false;
	}
	if (len > sizeof(o->buf) - o->len && o->off) {
		memmove(o->buf, o->buf + o->off, o->len - o->off);
		o->len -= o->off;
		o->off = 0;
	}
	if (len > sizeof(o->buf) - o->len) {
		a->n.dropped++;
		agent_log_limited(2, "the host is not reading; dropping frames");
		return false;
	}
	memcpy(o->buf + o->len, frame, len);
	o->len += len;
	return true;
}
