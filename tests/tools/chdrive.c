// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * chdrive - play the host on the daqs channel: connect to the unix socket of
 * a virtio-serial port (QEMU's chardev, or a test's) and run steps against
 * the daqs-agent at the guest's end, printing every frame that comes back
 * decoded, one line each.
 *
 *   chdrive [-i] [-t MS] [-s SEQ] SOCKET [STEP...]
 *
 * Steps come from the arguments (one each) or, without any, from stdin (one
 * a line, '#' starts a comment). With -i, "end RC" follows each step's
 * output and a failed step does not end the run (for a shell coprocess).
 * With -s, requests are numbered from SEQ (default 1), as daqsd starts a
 * session at a random seq: an answer to a seq below SEQ is one the agent
 * still owed an earlier host, printed "stale TYPE seq=N" and ignored.
 *
 *   hello                         HELLO (versions 1..1)
 *   wait-hello TIME               HELLO every second until one is answered
 *   get [SEL]                     GET; SEL: dev NAME | mac MAC | ifindex N
 *   set [SEL] [rate R] [burst B] [mode shape|police] [qlimit T] [lease T]
 *       [fallback R] [flags nocreate,excl]
 *   del [SEL]
 *   garbage N                     N bytes that are not a frame (no 0x89)
 *   huge LEN                      a frame header claiming LEN payload bytes
 *   flood N [SEL]                 N GETs (N <= 2048) in one write; all N
 *                                 answered, in order, none more than -t
 *                                 after the one before; one summary line
 *   corrupt                       a GET whose checksum does not hold
 *   partial N                     the first N bytes of a HELLO, no more
 *   reconnect [TIME]              close the socket, wait, connect again
 *   sleep TIME                    listen for TIME
 *   expect-event NAME [TIME] [dev NAME]   an EVENT (lease_expired,
 *                                 attached, detached, limit_changed,
 *                                 device_gone, device_back, module_loaded,
 *                                 module_unloaded, events_lost,
 *                                 agent_started), received
 *                                 since the last expect-event or within TIME
 *   expect-error ERRNO [TIME]     an ERROR without a seq (EBADMSG, or 74)
 *
 * TIME is milliseconds, or a number with a unit (2s, 500ms). Rates and
 * sizes as daqsctl reads them (50mbit, 64k).
 *
 * Output, one line per frame received, as it is received:
 *   reply hello seq=1 version=1 peer=daqs-agent_v1.2 module=1 rtt_ms=3
 *   reply get seq=2 dev=veth0 ifindex=3 ... tx_bytes=N ... ts=NS rtt_ms=4
 *   reply set seq=3 rtt_ms=2
 *   error seq=4 errno=90 (EMSGSIZE) text="..." rtt_ms=2
 *   event seq=1 lease_expired dev=veth0 ... since_set_ms=2004
 * (since_set_ms: since the last SET was sent). Steps say what they did on
 * lines of their own ("expect-event lease_expired: seq=1 ...", "timeout ...").
 *
 * Step results (-i: "end RC"): 0 answered, 2 answered with an ERROR, 1 no
 * answer in time, 3 an expect-* unmet, 4 a step it cannot parse.
 * Exit status: 0 if every step was 0 or 2; else the first other one (-i:
 * the worst of them, 4 before 1 before 3). A protocol violation by
 * the agent (a frame that is not one, an answer to a seq never sent or
 * answered twice or out of order, a reply of the wrong type, a GET reply
 * without its guest timestamp, ...) prints "violation: ..." and exits 1 at once.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "channel.h"
#include "units.h"

enum { RC_OK, RC_TIMEOUT, RC_ERROR, RC_UNMET, RC_USAGE };

static const char *sock_path;
static int sock_fd = -1;
static int timeout_ms = 5000;
static bool framed;
static struct daqs_ch_decoder dec;
static struct daqs_ch_builder bld;
static uint64_t t_set_sent;	/* when the last SET went out, 0: none */
static uint32_t next_seq = 1, first_seq = 1;
/* where lines go: stdout, or nowhere while a flood is answered */
static FILE *out;
#define putc_out(c) putc((c), out)
static uint32_t last_final;	/* the last request answered in full */
static unsigned long n_replies, n_errors;	/* answers received */

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000U + (uint64_t)ts.tv_nsec / 1000000U;
}

static void __attribute__((noreturn, format(printf, 1, 2)))
violation(const char *fmt, ...)
{
	va_list ap;

	printf("violation: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	exit(1);
}

/* ---- what was sent, so that every answer can be matched ---------------- */

/* PROBE: a HELLO of wait-hello, whose answer may come any time or never */
enum sent_state { SENT_NONE, SENT_PENDING, SENT_ANSWERED, SENT_ABANDONED,
		  SENT_PROBE };

#define SENT_RING 4096
static struct sent {
	uint32_t seq;
	uint8_t type;
	uint8_t state;
	uint64_t at;
} sent[SENT_RING];

static struct sent *sent_find(uint32_t seq)
{
	struct sent *s = &sent[seq % SENT_RING];

	return s->state != SENT_NONE && s->seq == seq ? s : NULL;
}

static uint32_t sent_new(uint8_t type)
{
	uint32_t seq = next_seq++;
	struct sent *s = &sent[seq % SENT_RING];

	s->seq = seq;
	s->type = type;
	s->state = SENT_PENDING;
	s->at = now_ms();
	return seq;
}

/* ---- unsolicited frames: EVENTs and ERRORs without a seq ---------------- */

struct rx {
	struct daqs_ch_frame f;
	uint8_t payload[DAQS_CH_PAYLOAD_MAX];
	uint64_t at;
	uint64_t since_set;	/* UINT64_MAX: no SET before it */
};

#define QUEUE_MAX 256
static struct rx *queue[QUEUE_MAX];
static unsigned int queued;

static void enqueue(const struct daqs_ch_frame *f, uint64_t at)
{
	struct rx *r;

	if (queued == QUEUE_MAX) {
		free(queue[0]);
		memmove(queue, queue + 1, (QUEUE_MAX - 1) * sizeof(queue[0]));
		queued--;
	}
	r = malloc(sizeof(*r));
	if (!r) {
		perror("chdrive: malloc");
		exit(1);
	}
	r->f = *f;
	memcpy(r->payload, f->payload, f->len);
	r->f.payload = r->payload;
	r->at = at;
	r->since_set = t_set_sent ? at - t_set_sent : UINT64_MAX;
	queue[queued++] = r;
}

static void dequeue(unsigned int i)
{
	free(queue[i]);
	memmove(queue + i, queue + i + 1, (queued - i - 1) * sizeof(queue[0]));
	queued--;
}

/* ---- printing ---------------------------------------------------------- */

static const char *const event_names[] = {
	[DAQS_EVENT_ATTACHED] = "attached",
	[DAQS_EVENT_DETACHED] = "detached",
	[DAQS_EVENT_LIMIT_CHANGED] = "limit_changed",
	[DAQS_EVENT_LEASE_EXPIRED] = "lease_expired",
	[DAQS_EVENT_DEVICE_GONE] = "device_gone",
	[DAQS_EVENT_DEVICE_BACK] = "device_back",
};

static const char *const agent_event_names[] = {
	[DAQS_CH_AGENT_EVENT_MODULE_LOADED] = "module_loaded",
	[DAQS_CH_AGENT_EVENT_MODULE_UNLOADED] = "module_unloaded",
	[DAQS_CH_AGENT_EVENT_LOST] = "events_lost",
	[DAQS_CH_AGENT_EVENT_STARTED] = "agent_started",
};

static const char *name_of(const char *const *names, size_t n, unsigned int v,
			   char *buf, size_t len)
{
	if (v < n && names[v])
		return names[v];
	snprintf(buf, len, "event_%u", v);
	return buf;
}

#define NAME_OF(names, v, buf) \
	name_of(names, sizeof(names) / sizeof(names[0]), v, buf, sizeof(buf))

static void print_u64(const char *name, const struct daqs_ch_nla *a)
{
	if (a->data)
		fprintf(out, " %s=%" PRIu64, name, daqs_ch_get_u64(a));
}

static void print_u32(const char *name, const struct daqs_ch_nla *a)
{
	if (a->data)
		fprintf(out, " %s=%" PRIu32, name, daqs_ch_get_u32(a));
}

/* a string as one word: spaces become '_' */
static void print_word(const char *name, const char *s)
{
	fprintf(out, " %s=", name);
	for (; *s; s++)
		putc_out(*s == ' ' || *s == '\t' || *s == '\n' ? '_' : *s);
}

/*
 * The attributes of a DAQS_CH_A_BINDING (already checked). Returns false if
 * need_ts and it has no DAQS_A_STATS with a DAQS_STATS_A_TIMESTAMP_NS.
 */
static bool print_binding(const struct daqs_ch_nla *nest, uint8_t type,
			  uint16_t flags, bool need_ts)
{
	static const char *const states[] = { "attached", "absent" };
	static const char *const modes[] = { "shape", "police" };
	static const char *const leases[] = { "none", "active", "expired" };
	struct daqs_ch_nla tb[DAQS_A_MAX + 1], st[DAQS_STATS_A_MAX + 1];
	char err[256];
	const uint8_t *m;
	unsigned int v;

	if (daqs_ch_binding_parse(nest, type, flags, tb, err, sizeof(err)))
		violation("%s", err);	/* checked before; cannot happen */
	if (tb[DAQS_A_IFNAME].data)
		print_word("dev", daqs_ch_get_string(&tb[DAQS_A_IFNAME]));
	print_u32("ifindex", &tb[DAQS_A_IFINDEX]);
	if (tb[DAQS_A_MAC].data) {
		m = tb[DAQS_A_MAC].data;
		fprintf(out, " mac=%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2],
		       m[3], m[4], m[5]);
	}
	if (tb[DAQS_A_STATE].data) {
		v = daqs_ch_get_u8(&tb[DAQS_A_STATE]);
		if (v < 2)
			fprintf(out, " state=%s", states[v]);
		else
			fprintf(out, " state=%u", v);
	}
	print_u64("rate_bps", &tb[DAQS_A_RATE_BPS]);
	print_u64("set_rate_bps", &tb[DAQS_A_SET_RATE_BPS]);
	print_u32("burst_bytes", &tb[DAQS_A_BURST_BYTES]);
	if (tb[DAQS_A_MODE].data) {
		v = daqs_ch_get_u8(&tb[DAQS_A_MODE]);
		if (v < 2)
			fprintf(out, " mode=%s", modes[v]);
		else
			fprintf(out, " mode=%u", v);
	}
	print_u32("qlimit_us", &tb[DAQS_A_QLIMIT_US]);
	print_u32("lease_ms", &tb[DAQS_A_LEASE_MS]);
	print_u32("lease_left_ms", &tb[DAQS_A_LEASE_LEFT_MS]);
	if (tb[DAQS_A_LEASE_STATE].data) {
		v = daqs_ch_get_u8(&tb[DAQS_A_LEASE_STATE]);
		if (v < 3)
			fprintf(out, " lease_state=%s", leases[v]);
		else
			fprintf(out, " lease_state=%u", v);
	}
	print_u64("fallback_bps", &tb[DAQS_A_FALLBACK_BPS]);
	if (!tb[DAQS_A_STATS].data)
		return !need_ts;
	if (daqs_ch_parse(tb[DAQS_A_STATS].data, tb[DAQS_A_STATS].len,
			  daqs_ch_stats_policy, DAQS_STATS_A_MAX,
			  DAQS_CH_STATS_ATTRS, st, err, sizeof(err)))
		violation("stats: %s", err);
	print_u64("tx_bytes", &st[DAQS_STATS_A_TX_BYTES]);
	print_u64("tx_packets", &st[DAQS_STATS_A_TX_PACKETS]);
	print_u64("tx_wire_bytes", &st[DAQS_STATS_A_TX_WIRE_BYTES]);
	print_u64("tx_wire_packets", &st[DAQS_STATS_A_TX_WIRE_PACKETS]);
	print_u64("drops_police", &st[DAQS_STATS_A_DROPS_POLICE]);
	print_u64("drops_qlimit", &st[DAQS_STATS_A_DROPS_QLIMIT]);
	print_u64("drops_detach", &st[DAQS_STATS_A_DROPS_DETACH]);
	print_u64("throttled", &st[DAQS_STATS_A_THROTTLED]);
	if (st[DAQS_STATS_A_TOKENS].data)
		fprintf(out, " tokens=%" PRId64, daqs_ch_get_s64(&st[DAQS_STATS_A_TOKENS]));
	print_u32("queued", &st[DAQS_STATS_A_QUEUED]);
	print_u64("ts", &st[DAQS_STATS_A_TIMESTAMP_NS]);
	return !need_ts || (st[DAQS_STATS_A_TIMESTAMP_NS].data &&
			    daqs_ch_get_u64(&st[DAQS_STATS_A_TIMESTAMP_NS]));
}

static const char *errno_name(int e)
{
	const char *n = strerrorname_np(e);

	return n ? n : "?";
}

static void print_error(const struct daqs_ch_frame *f,
			const struct daqs_ch_nla *tb)
{
	uint32_t e = daqs_ch_get_u32(&tb[DAQS_CH_A_ERRNO]);
	const char *s = tb[DAQS_CH_A_ERRMSG].data ?
			daqs_ch_get_string(&tb[DAQS_CH_A_ERRMSG]) : "";

	fprintf(out, "error seq=%" PRIu32 " errno=%" PRIu32 " (%s) text=\"", f->seq, e,
	       errno_name((int)e));
	for (; *s; s++)
		putc_out(*s == '"' ? '\'' : *s);
	putc_out('"');
}

static void print_event(const struct rx *r, const struct daqs_ch_nla *tb)
{
	struct daqs_ch_nla btb[DAQS_A_MAX + 1];
	char buf[32], err[256];

	fprintf(out, "event seq=%" PRIu32, r->f.seq);
	if (tb[DAQS_CH_A_AGENT_EVENT].data) {
		fprintf(out, " %s", NAME_OF(agent_event_names,
				      daqs_ch_get_u8(&tb[DAQS_CH_A_AGENT_EVENT]),
				      buf));
	} else {
		if (daqs_ch_binding_parse(&tb[DAQS_CH_A_BINDING], r->f.type,
					  r->f.flags, btb, err, sizeof(err)))
			violation("event: %s", err);
		if (btb[DAQS_A_EVENT].data)
			fprintf(out, " %s", NAME_OF(event_names,
					      daqs_ch_get_u8(&btb[DAQS_A_EVENT]),
					      buf));
		else
			fprintf(out, " (no DAQS_A_EVENT)");
		print_binding(&tb[DAQS_CH_A_BINDING], r->f.type, r->f.flags,
			      false);
	}
	if (r->since_set != UINT64_MAX)
		fprintf(out, " since_set_ms=%" PRIu64, r->since_set);
	fprintf(out, "\n");
}

/* ---- receiving ----------------------------------------------------------- */

/* "hello", "get", ..., "type_9": the codec's name in lower case, one word */
static void type_name(uint8_t type, char *buf, size_t len)
{
	char tmp[16];
	size_t i;

	snprintf(buf, len, "%s", daqs_ch_type_name(type, tmp, sizeof(tmp)));
	for (i = 0; buf[i]; i++)
		buf[i] = buf[i] == ' ' ? '_' :
			 (char)(buf[i] >= 'A' && buf[i] <= 'Z' ?
				buf[i] - 'A' + 'a' : buf[i]);
}

/*
 * One frame from the agent: checked, printed, queued if unsolicited.
 * Returns the seq it finished answering (a final frame), else 0.
 */
static uint32_t handle(const struct daqs_ch_frame *f, uint64_t at)
{
	struct daqs_ch_nla tb[DAQS_CH_A_MAX + 1];
	const uint8_t *p;
	struct daqs_ch_nla a;
	struct sent *s, *p_s;
	uint32_t q;
	size_t left;
	char err[256], tname[16], want[16];
	unsigned int n;
	int errnum;
	bool final;

	if (daqs_ch_msg_parse(f, tb, &errnum, err, sizeof(err)))
		violation("a malformed frame from the agent (type %u, seq %" PRIu32 "): %s",
			  f->type, f->seq, err);
	if (f->type == DAQS_CH_T_EVENT) {
		enqueue(f, at);
		print_event(queue[queued - 1], tb);
		return 0;
	}
	if (f->type == DAQS_CH_T_ERROR && !f->seq) {
		print_error(f, tb);
		fprintf(out, "\n");
		enqueue(f, at);
		return 0;
	}
	type_name(f->type, tname, sizeof(tname));
	if (f->type != DAQS_CH_T_ERROR && !(f->flags & DAQS_CH_F_REPLY))
		violation("the agent sent a %s request (seq %" PRIu32 ")", tname,
			  f->seq);
	if (f->seq < first_seq) {
		fprintf(out, "stale %s seq=%" PRIu32 "\n", tname, f->seq);
		return 0;
	}
	s = sent_find(f->seq);
	if (!s)
		violation("a %s answer to seq %" PRIu32 ", which was never sent",
			  tname, f->seq);
	if (s->state == SENT_ANSWERED)
		violation("a second answer (%s) to seq %" PRIu32, tname, f->seq);
	if (f->type != DAQS_CH_T_ERROR && f->type != s->type) {
		type_name(s->type, want, sizeof(want));
		violation("a %s reply to seq %" PRIu32 ", which was a %s", tname,
			  f->seq, want);
	}
	final = !(f->flags & DAQS_CH_F_MORE);
	if (s->state == SENT_ABANDONED)
		fprintf(out, "# late answer to seq %" PRIu32 " (given up on)\n", f->seq);

	if (f->type == DAQS_CH_T_ERROR) {
		print_error(f, tb);
	} else if (f->type == DAQS_CH_T_HELLO) {
		if (!tb[DAQS_CH_A_PEER_NAME].data || !tb[DAQS_CH_A_MODULE].data)
			violation("HELLO reply %" PRIu32 " without a peer name or module",
				  f->seq);
		fprintf(out, "reply hello seq=%" PRIu32 " version=%" PRIu32, f->seq,
		       daqs_ch_get_u32(&tb[DAQS_CH_A_VERSION]));
		print_word("peer", daqs_ch_get_string(&tb[DAQS_CH_A_PEER_NAME]));
		fprintf(out, " module=%u", daqs_ch_get_u8(&tb[DAQS_CH_A_MODULE]));
		if (tb[DAQS_CH_A_BINDING].data)
			print_binding(&tb[DAQS_CH_A_BINDING], f->type, f->flags,
				      false);
	} else if (f->type == DAQS_CH_T_GET) {
		/* one line per binding; "(none)" for a frame without any */
		p = f->payload;
		left = f->len;
		n = 0;
		while (daqs_ch_attr_next(&p, &left, &a) > 0) {
			if (n++)
				fprintf(out, "\n");
			fprintf(out, "reply get seq=%" PRIu32, f->seq);
			if (!print_binding(&a, f->type, f->flags, true))
				violation("a GET reply (seq %" PRIu32 ") without DAQS_A_STATS and its guest timestamp",
					  f->seq);
			if (f->flags & DAQS_CH_F_MORE)
				fprintf(out, " more=1");
		}
		if (!n)
			fprintf(out, "reply get seq=%" PRIu32 " (none)", f->seq);
	} else {
		fprintf(out, "reply %s seq=%" PRIu32, tname, f->seq);
	}
	fprintf(out, " rtt_ms=%" PRIu64 "\n", at - s->at);
	if (!final)
		return 0;
	if (s->state == SENT_PENDING) {
		/* in request order: every request before it was answered */
		for (q = last_final + 1; q && q < f->seq; q++) {
			p_s = sent_find(q);
			if (p_s && p_s->state == SENT_PENDING)
				violation("seq %" PRIu32 " was answered, but seq %" PRIu32 " before it never was",
					  f->seq, q);
		}
		last_final = f->seq;
	}
	s->state = SENT_ANSWERED;
	if (f->type == DAQS_CH_T_ERROR)
		n_errors++;
	else
		n_replies++;
	return f->seq;
}

/* reads what the socket has (waiting until deadline for the first bytes) */
static int pump_once(uint64_t deadline, uint32_t want, int *result_type)
{
	enum daqs_ch_dec_result r;
	struct daqs_ch_frame f;
	struct pollfd pfd = { .fd = sock_fd, .events = POLLIN };
	uint8_t buf[8192];
	uint64_t now = now_ms(), at;
	size_t off, k;
	ssize_t n;
	uint32_t done;
	int got = 0;

	if (poll(&pfd, 1, deadline > now ? (int)(deadline - now) : 0) <= 0)
		return 0;
	n = recv(sock_fd, buf, sizeof(buf), MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0) {
		fprintf(out, "# the socket closed (%s)\n", n ? strerror(errno) : "end of file");
		fflush(stdout);
		return -1;
	}
	at = now_ms();
	for (off = 0; off < (size_t)n; off += k) {
		k = daqs_ch_dec_feed(&dec, buf + off, (size_t)n - off);
		while ((r = daqs_ch_dec_next(&dec, &f)) != DAQS_CH_DEC_NEED) {
			if (r != DAQS_CH_DEC_FRAME)
				violation("the agent sent a bad frame (decoder result %d, seq %" PRIu32 ")",
					  r, f.seq);
			done = handle(&f, at);
			if (done && done == want) {
				got = 1;
				*result_type = f.type;
			}
		}
	}
	if (dec.stats.skipped)
		violation("the agent sent %" PRIu64 " bytes that were not a frame",
			  dec.stats.skipped);
	return got;
}

/*
 * Listens until deadline, or until want (if not 0) is answered: returns
 * RC_OK or RC_ERROR then, RC_TIMEOUT otherwise.
 */
static int pump(uint64_t deadline, uint32_t want)
{
	int type = 0, r;

	for (;;) {
		r = pump_once(deadline, want, &type);
		if (r > 0)
			return type == DAQS_CH_T_ERROR ? RC_ERROR : RC_OK;
		if (r < 0) {
			/* QEMU closed us; wait out the rest */
			close(sock_fd);
			sock_fd = -1;
			return RC_TIMEOUT;
		}
		if (now_ms() >= deadline)
			return RC_TIMEOUT;
	}
}

/* ---- sending ------------------------------------------------------------- */

static int do_connect(uint64_t deadline)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(sock_path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "chdrive: socket path too long\n");
		exit(RC_USAGE);
	}
	strcpy(sun.sun_path, sock_path);
	for (;;) {
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0) {
			perror("chdrive: socket");
			exit(1);
		}
		if (!connect(fd, (struct sockaddr *)&sun, sizeof(sun)))
			break;
		close(fd);
		if (now_ms() >= deadline) {
			fprintf(out, "# cannot connect to %s: %s\n", sock_path,
			       strerror(errno));
			return -1;
		}
		usleep(50000);
	}
	sock_fd = fd;
	daqs_ch_dec_init(&dec);
	return 0;
}

static bool send_bytes(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint64_t deadline = now_ms() + (uint64_t)timeout_ms;
	struct pollfd pfd;
	ssize_t k;
	int t;

	if (sock_fd < 0 && do_connect(deadline))
		return false;
	while (n) {
		k = send(sock_fd, b, n, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (k > 0) {
			b += k;
			n -= (size_t)k;
			continue;
		}
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0 && errno != EAGAIN) {
			fprintf(out, "# send: %s\n", strerror(errno));
			return false;
		}
		/* the agent may wait for us to read before it reads on */
		pfd.fd = sock_fd;
		pfd.events = POLLOUT | POLLIN;
		if (now_ms() >= deadline ||
		    poll(&pfd, 1, (int)(deadline - now_ms())) < 0) {
			fprintf(out, "# send: the agent does not read\n");
			return false;
		}
		if ((pfd.revents & POLLIN) && pump_once(now_ms(), 0, &t) < 0)
			return false;
	}
	return true;
}

/* the frame in bld: sends it and waits for its answer */
static int request(uint32_t seq)
{
	int n = daqs_ch_end(&bld), rc;
	struct sent *s = sent_find(seq);

	if (n < 0) {
		fprintf(out, "# the request does not fit in a frame\n");
		return RC_USAGE;
	}
	s->at = now_ms();
	if (s->type == DAQS_CH_T_SET)
		t_set_sent = s->at;
	if (!send_bytes(bld.buf, (size_t)n)) {
		s->state = SENT_ABANDONED;
		return RC_TIMEOUT;
	}
	rc = pump(s->at + (uint64_t)timeout_ms, seq);
	if (rc == RC_TIMEOUT) {
		s->state = SENT_ABANDONED;
		fprintf(out, "timeout: no answer to seq %" PRIu32 " in %d ms\n", seq,
		       timeout_ms);
	}
	return rc;
}

/* ---- steps ----------------------------------------------------------------- */

#define MAX_WORDS 32

static int parse_ms(const char *s, uint64_t *ms)
{
	char *end;

	errno = 0;
	*ms = strtoull(s, &end, 10);
	if (!errno && end != s && !*end)
		return 0;
	return daqs_parse_time(s, 1000000, ms) ? -1 : 0;
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(out, "bad step: ");
	va_start(ap, fmt);
	vfprintf(out, fmt, ap);
	va_end(ap);
	fprintf(out, "\n");
	return RC_USAGE;
}

/* a selector at w[*i] (dev X, mac M, ifindex N), into the open nest */
static int put_selector(char **w, int nw, int *i, bool *have)
{
	uint8_t mac[6];
	char *end;
	unsigned long v;

	if (*i + 1 >= nw)
		return 0;
	if (!strcmp(w[*i], "dev")) {
		if (strlen(w[*i + 1]) >= 16)
			return usage_error("device name '%s' too long", w[*i + 1]);
		daqs_ch_put_string(&bld, DAQS_A_IFNAME, w[*i + 1]);
	} else if (!strcmp(w[*i], "mac")) {
		if (daqs_parse_mac(w[*i + 1], mac))
			return usage_error("bad MAC '%s'", w[*i + 1]);
		daqs_ch_put(&bld, DAQS_A_MAC, mac, 6);
	} else if (!strcmp(w[*i], "ifindex")) {
		v = strtoul(w[*i + 1], &end, 10);
		if (*end || v > UINT32_MAX)
			return usage_error("bad ifindex '%s'", w[*i + 1]);
		daqs_ch_put_u32(&bld, DAQS_A_IFINDEX, (uint32_t)v);
	} else {
		return 0;
	}
	*i += 2;
	*have = true;
	return 0;
}

static int step_hello(void)
{
	uint32_t seq = sent_new(DAQS_CH_T_HELLO);

	daqs_ch_begin(&bld, DAQS_CH_T_HELLO, 0, seq);
	daqs_ch_put_u32(&bld, DAQS_CH_A_VERSION_MIN, 1);
	daqs_ch_put_u32(&bld, DAQS_CH_A_VERSION_MAX, 1);
	daqs_ch_put_string(&bld, DAQS_CH_A_PEER_NAME, "chdrive");
	return request(seq);
}

static bool answered_since(uint32_t first)
{
	struct sent *s;
	uint32_t q;

	for (q = first; q < next_seq; q++) {
		s = sent_find(q);
		if (s && s->type == DAQS_CH_T_HELLO && s->state == SENT_ANSWERED)
			return true;
	}
	return false;
}

/* a HELLO a second until one of them (any) is answered */
static int step_wait_hello(uint64_t total)
{
	uint64_t end = now_ms() + total, t;
	uint32_t first = next_seq, seq;
	int n, type;

	while (now_ms() < end) {
		seq = sent_new(DAQS_CH_T_HELLO);
		daqs_ch_begin(&bld, DAQS_CH_T_HELLO, 0, seq);
		daqs_ch_put_u32(&bld, DAQS_CH_A_VERSION_MIN, 1);
		daqs_ch_put_u32(&bld, DAQS_CH_A_VERSION_MAX, 1);
		daqs_ch_put_string(&bld, DAQS_CH_A_PEER_NAME, "chdrive");
		n = daqs_ch_end(&bld);
		sent_find(seq)->state = SENT_PROBE;
		if (!send_bytes(bld.buf, (size_t)n)) {
			/* no QEMU yet, or it dropped us */
			if (sock_fd >= 0)
				close(sock_fd);
			sock_fd = -1;
			usleep(200000);
			continue;
		}
		t = now_ms() + 1000;
		if (t > end)
			t = end;
		while (now_ms() < t && sock_fd >= 0 && !answered_since(first))
			if (pump_once(t, 0, &type) < 0) {
				close(sock_fd);
				sock_fd = -1;
			}
		if (answered_since(first))
			return RC_OK;
		if (sock_fd < 0)
			usleep(200000);
	}
	fprintf(out, "timeout: no HELLO answered in %" PRIu64 " ms\n", total);
	return RC_TIMEOUT;
}

static int step_request(uint8_t type, char **w, int nw)
{
	uint32_t seq = sent_new(type);
	uint64_t v;
	uint32_t flags;
	bool have = false;
	char *tok, *save;
	int i = 1, rc;

	daqs_ch_begin(&bld, type, 0, seq);
	daqs_ch_nest_begin(&bld, DAQS_CH_A_BINDING);
	rc = put_selector(w, nw, &i, &have);
	if (rc)
		return rc;
	while (type == DAQS_CH_T_SET && i + 1 < nw) {
		const char *k = w[i], *val = w[i + 1];

		if (!strcmp(k, "rate") || !strcmp(k, "fallback")) {
			if (daqs_parse_rate(val, &v))
				return usage_error("bad rate '%s'", val);
			daqs_ch_put_u64(&bld, k[0] == 'r' ? DAQS_A_RATE_BPS :
					DAQS_A_FALLBACK_BPS, v);
		} else if (!strcmp(k, "burst")) {
			if (daqs_parse_size(val, &v) || v > UINT32_MAX)
				return usage_error("bad burst '%s'", val);
			daqs_ch_put_u32(&bld, DAQS_A_BURST_BYTES, (uint32_t)v);
		} else if (!strcmp(k, "mode")) {
			if (strcmp(val, "shape") && strcmp(val, "police"))
				return usage_error("bad mode '%s'", val);
			daqs_ch_put_u8(&bld, DAQS_A_MODE, val[0] == 'p' ?
				       DAQS_MODE_POLICE : DAQS_MODE_SHAPE);
		} else if (!strcmp(k, "qlimit")) {
			if (daqs_parse_time(val, 1000, &v) || v > UINT32_MAX)
				return usage_error("bad qlimit '%s'", val);
			daqs_ch_put_u32(&bld, DAQS_A_QLIMIT_US, (uint32_t)v);
		} else if (!strcmp(k, "lease")) {
			if (parse_ms(val, &v) || v > UINT32_MAX)
				return usage_error("bad lease '%s'", val);
			daqs_ch_put_u32(&bld, DAQS_A_LEASE_MS, (uint32_t)v);
		} else if (!strcmp(k, "flags")) {
			char copy[64];

			snprintf(copy, sizeof(copy), "%s", val);
			flags = 0;
			for (tok = strtok_r(copy, ",", &save); tok;
			     tok = strtok_r(NULL, ",", &save)) {
				if (!strcmp(tok, "nocreate"))
					flags |= DAQS_SET_F_NOCREATE;
				else if (!strcmp(tok, "excl"))
					flags |= DAQS_SET_F_EXCL;
				else
					flags |= (uint32_t)strtoul(tok, NULL, 0);
			}
			daqs_ch_put_u32(&bld, DAQS_A_SET_FLAGS, flags);
		} else {
			break;
		}
		i += 2;
	}
	if (i < nw)
		return usage_error("unexpected '%s'", w[i]);
	if (have || type == DAQS_CH_T_SET)
		daqs_ch_nest_end(&bld);
	else
		daqs_ch_trim(&bld, DAQS_CH_HDR_LEN);	/* no binding at all */
	return request(seq);
}

/*
 * N GETs (of SEL, or of every binding) in one write, then their answers,
 * which must all come, in order; one summary line, not one per answer.
 */
static int step_flood(unsigned long n, char **w, int nw)
{
	uint64_t start = now_ms(), deadline;
	unsigned long replies = n_replies, errors = n_errors, got;
	uint32_t last = 0;
	uint8_t *buf;
	size_t len = 0;
	unsigned long i;
	bool have;
	int k, rc = RC_OK, t;

	if (n > SENT_RING / 2)
		return usage_error("flood: at most %d", SENT_RING / 2);
	buf = malloc(n * 64);
	if (!buf)
		return usage_error("flood: out of memory");
	for (i = 0; i < n; i++) {
		last = sent_new(DAQS_CH_T_GET);
		daqs_ch_begin(&bld, DAQS_CH_T_GET, 0, last);
		daqs_ch_nest_begin(&bld, DAQS_CH_A_BINDING);
		have = false;
		k = 2;
		if ((rc = put_selector(w, nw, &k, &have)))
			goto out;
		if (k < nw) {
			rc = usage_error("unexpected '%s'", w[k]);
			goto out;
		}
		if (have)
			daqs_ch_nest_end(&bld);
		else
			daqs_ch_trim(&bld, DAQS_CH_HDR_LEN);
		k = daqs_ch_end(&bld);
		memcpy(buf + len, bld.buf, (size_t)k);
		len += (size_t)k;
	}
	out = fopen("/dev/null", "w");
	if (!out)
		out = stdout;
	if (!send_bytes(buf, len)) {
		rc = RC_TIMEOUT;
	} else {
		deadline = now_ms() + (uint64_t)timeout_ms;
		while (sent_find(last)->state == SENT_PENDING &&
		       now_ms() < deadline && sock_fd >= 0) {
			got = n_replies + n_errors;
			if (pump_once(deadline, 0, &t) < 0) {
				close(sock_fd);
				sock_fd = -1;
			}
			if (n_replies + n_errors != got)
				deadline = now_ms() + (uint64_t)timeout_ms;
		}
	}
	if (out != stdout)
		fclose(out);
	out = stdout;
	got = n_replies - replies + n_errors - errors;
	fprintf(out, "flood %lu: %lu answered (%lu replies, %lu errors) in %" PRIu64 " ms\n",
		n, got, n_replies - replies, n_errors - errors, now_ms() - start);
	if (rc == RC_OK && got != n)
		rc = RC_TIMEOUT;
	for (i = 0; rc != RC_OK && i < n; i++)
		if (sent_find(last - (uint32_t)i)->state == SENT_PENDING)
			sent_find(last - (uint32_t)i)->state = SENT_ABANDONED;
out:
	free(buf);
	return rc;
}

/* bytes that never hold a magic: no 0x89 */
static int step_garbage(unsigned long n)
{
	static uint32_t x = 2463534242U;
	uint8_t buf[4096];
	size_t k, i;

	while (n) {
		k = n < sizeof(buf) ? n : sizeof(buf);
		for (i = 0; i < k; i++) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			buf[i] = (uint8_t)x == DAQS_CH_MAGIC0 ? 0 : (uint8_t)x;
		}
		if (!send_bytes(buf, k))
			return RC_TIMEOUT;
		n -= k;
	}
	fprintf(out, "sent garbage\n");
	return RC_OK;
}

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

/* a GET header claiming len payload bytes, with a good header checksum */
static int step_huge(uint32_t len)
{
	uint32_t seq = sent_new(DAQS_CH_T_GET), crc;
	struct sent *s = sent_find(seq);
	uint8_t h[DAQS_CH_HDR_LEN] = { DAQS_CH_MAGIC0, DAQS_CH_MAGIC1,
				       DAQS_CH_MAGIC2, DAQS_CH_MAGIC3,
				       DAQS_CH_VERSION, DAQS_CH_T_GET };
	int rc;

	put_le32(h + DAQS_CH_OFF_SEQ, seq);
	put_le32(h + DAQS_CH_OFF_LENGTH, len);
	put_le32(h + DAQS_CH_OFF_HDR_CRC, daqs_crc32c(0, h, 16));
	crc = daqs_crc32c(0, h, 20);
	put_le32(h + DAQS_CH_OFF_CRC, crc);
	s->at = now_ms();
	if (!send_bytes(h, sizeof(h))) {
		s->state = SENT_ABANDONED;
		return RC_TIMEOUT;
	}
	rc = pump(s->at + (uint64_t)timeout_ms, seq);
	if (rc == RC_TIMEOUT) {
		s->state = SENT_ABANDONED;
		fprintf(out, "timeout: no answer to seq %" PRIu32 "\n", seq);
	}
	return rc;
}

/* a GET of every binding whose frame checksum does not hold */
static int step_corrupt(void)
{
	uint32_t seq = sent_new(DAQS_CH_T_GET);
	int n, rc;
	struct sent *s = sent_find(seq);

	daqs_ch_begin(&bld, DAQS_CH_T_GET, 0, seq);
	n = daqs_ch_end(&bld);
	bld.buf[DAQS_CH_OFF_CRC] ^= 1;
	s->at = now_ms();
	if (!send_bytes(bld.buf, (size_t)n)) {
		s->state = SENT_ABANDONED;
		return RC_TIMEOUT;
	}
	rc = pump(s->at + (uint64_t)timeout_ms, seq);
	if (rc == RC_TIMEOUT) {
		s->state = SENT_ABANDONED;
		fprintf(out, "timeout: no answer to seq %" PRIu32 "\n", seq);
	}
	return rc;
}

static int step_partial(unsigned long k)
{
	uint32_t seq = sent_new(DAQS_CH_T_HELLO);
	int n;

	daqs_ch_begin(&bld, DAQS_CH_T_HELLO, 0, seq);
	daqs_ch_put_string(&bld, DAQS_CH_A_PEER_NAME, "chdrive partial");
	n = daqs_ch_end(&bld);
	if (k >= (unsigned long)n)
		return usage_error("partial: a HELLO is only %d bytes", n);
	sent_find(seq)->state = SENT_ABANDONED;
	if (!send_bytes(bld.buf, k))
		return RC_TIMEOUT;
	fprintf(out, "sent %lu of %d bytes of seq %" PRIu32 "\n", k, n, seq);
	return RC_OK;
}

static int step_reconnect(uint64_t ms)
{
	unsigned int i;

	if (sock_fd >= 0)
		close(sock_fd);
	sock_fd = -1;
	/* nothing pending survives a connection */
	for (i = 0; i < SENT_RING; i++)
		if (sent[i].state == SENT_PENDING)
			sent[i].state = SENT_ABANDONED;
	usleep((useconds_t)(ms * 1000));
	if (do_connect(now_ms() + (uint64_t)timeout_ms))
		return RC_TIMEOUT;
	fprintf(out, "reconnected\n");
	return RC_OK;
}

static int step_expect(bool event, char **w, int nw)
{
	uint64_t wait = (uint64_t)timeout_ms, start = now_ms();
	const char *dev = NULL;
	struct daqs_ch_nla tb[DAQS_CH_A_MAX + 1], btb[DAQS_A_MAX + 1];
	char err[256], buf[32];
	const char *name;
	unsigned int i, want_errno = 0;
	int errnum, j, e;
	bool match;

	if (nw < 2)
		return usage_error("%s needs a name", w[0]);
	for (j = 2; j < nw; j++) {
		if (!strcmp(w[j], "dev") && j + 1 < nw)
			dev = w[++j];
		else if (parse_ms(w[j], &wait))
			return usage_error("unexpected '%s'", w[j]);
	}
	if (!event) {
		for (e = 1; e < 4096; e++) {
			name = strerrorname_np(e);
			if (name && !strcmp(name, w[1]))
				break;
		}
		want_errno = e < 4096 ? (unsigned int)e :
			     (unsigned int)strtoul(w[1], NULL, 10);
		if (!want_errno)
			return usage_error("unknown errno '%s'", w[1]);
	}
	for (;;) {
		for (i = 0; i < queued; i++) {
			const struct rx *r = queue[i];

			if (daqs_ch_msg_parse(&r->f, tb, &errnum, err, sizeof(err)))
				continue;
			if (!event) {
				match = r->f.type == DAQS_CH_T_ERROR &&
					daqs_ch_get_u32(&tb[DAQS_CH_A_ERRNO]) == want_errno;
			} else if (r->f.type != DAQS_CH_T_EVENT) {
				match = false;
			} else if (tb[DAQS_CH_A_AGENT_EVENT].data) {
				match = !dev && !strcmp(w[1], NAME_OF(agent_event_names,
					daqs_ch_get_u8(&tb[DAQS_CH_A_AGENT_EVENT]), buf));
			} else {
				daqs_ch_binding_parse(&tb[DAQS_CH_A_BINDING],
						      r->f.type, r->f.flags, btb,
						      err, sizeof(err));
				match = btb[DAQS_A_EVENT].data &&
					!strcmp(w[1], NAME_OF(event_names,
						daqs_ch_get_u8(&btb[DAQS_A_EVENT]), buf)) &&
					(!dev || (btb[DAQS_A_IFNAME].data &&
						  !strcmp(dev, daqs_ch_get_string(&btb[DAQS_A_IFNAME]))));
			}
			if (!match)
				continue;
			fprintf(out, "%s %s: seq=%" PRIu32, w[0], w[1], r->f.seq);
			if (r->since_set != UINT64_MAX)
				fprintf(out, " since_set_ms=%" PRIu64, r->since_set);
			fprintf(out, " waited_ms=%" PRIu64 "\n",
			       r->at > start ? r->at - start : 0);
			dequeue(i);
			return RC_OK;
		}
		if (now_ms() >= start + wait)
			break;
		if (sock_fd < 0) {
			usleep(50000);
			continue;
		}
		(void)pump_once(start + wait, 0, &errnum);
	}
	fprintf(out, "%s %s: none in %" PRIu64 " ms\n", w[0], w[1], wait);
	return RC_UNMET;
}

/* splits line into words in place */
static int split(char *line, char **w)
{
	char *save, *tok;
	int n = 0;

	line[strcspn(line, "#")] = '\0';
	for (tok = strtok_r(line, " \t\r\n", &save); tok && n < MAX_WORDS;
	     tok = strtok_r(NULL, " \t\r\n", &save))
		w[n++] = tok;
	return n;
}

static int run_step(char *line)
{
	char *w[MAX_WORDS];
	int nw = split(line, w);
	uint64_t v;
	char *end;
	unsigned long n;

	if (!nw)
		return -1;	/* nothing to do */
	if (!strcmp(w[0], "hello") && nw == 1)
		return step_hello();
	if (!strcmp(w[0], "wait-hello") && nw <= 2) {
		if (nw == 2 && parse_ms(w[1], &v))
			return usage_error("bad time '%s'", w[1]);
		return step_wait_hello(nw == 2 ? v : (uint64_t)timeout_ms);
	}
	if (!strcmp(w[0], "get"))
		return step_request(DAQS_CH_T_GET, w, nw);
	if (!strcmp(w[0], "set"))
		return step_request(DAQS_CH_T_SET, w, nw);
	if (!strcmp(w[0], "del"))
		return step_request(DAQS_CH_T_DEL, w, nw);
	if ((!strcmp(w[0], "garbage") || !strcmp(w[0], "partial") ||
	     !strcmp(w[0], "huge")) && nw == 2) {
		n = strtoul(w[1], &end, 0);
		if (*end || !n)
			return usage_error("bad count '%s'", w[1]);
		if (w[0][0] == 'g')
			return step_garbage(n);
		if (w[0][0] == 'p')
			return step_partial(n);
		if (n > UINT32_MAX)
			return usage_error("bad length '%s'", w[1]);
		return step_huge((uint32_t)n);
	}
	if (!strcmp(w[0], "flood") && nw >= 2) {
		n = strtoul(w[1], &end, 0);
		if (*end || !n)
			return usage_error("bad count '%s'", w[1]);
		return step_flood(n, w, nw);
	}
	if (!strcmp(w[0], "corrupt") && nw == 1)
		return step_corrupt();
	if (!strcmp(w[0], "reconnect") && nw <= 2) {
		v = 0;
		if (nw == 2 && parse_ms(w[1], &v))
			return usage_error("bad time '%s'", w[1]);
		return step_reconnect(v);
	}
	if (!strcmp(w[0], "sleep") && nw == 2) {
		if (parse_ms(w[1], &v))
			return usage_error("bad time '%s'", w[1]);
		v += now_ms();
		while (now_ms() < v) {
			if (sock_fd >= 0)
				(void)pump(v, 0);
			else
				usleep(10000);
		}
		return RC_OK;
	}
	if (!strcmp(w[0], "expect-event"))
		return step_expect(true, w, nw);
	if (!strcmp(w[0], "expect-error"))
		return step_expect(false, w, nw);
	return usage_error("unknown step '%s'", w[0]);
}

/* -i and stdin: the worst result so far decides the exit status */
static int worst(int status, int rc)
{
	static const int rank[] = { [RC_OK] = 0, [RC_ERROR] = 0,
				    [RC_TIMEOUT] = 2, [RC_UNMET] = 1,
				    [RC_USAGE] = 3 };

	if (rc < 0)
		return status;
	return rank[rc] > rank[status] ? rc : status;
}

/* one line from stdin, pumping the socket while none is there */
static char *read_line(char *buf, size_t len)
{
	static char in[8192];
	static size_t have;
	static bool eof;
	struct pollfd pfd[2];
	char *nl;
	ssize_t n;
	size_t k;
	int t;

	for (;;) {
		nl = memchr(in, '\n', have);
		if (nl || (eof && have)) {
			k = nl ? (size_t)(nl - in) + 1 : have;
			snprintf(buf, len, "%.*s", (int)k, in);
			memmove(in, in + k, have - k);
			have -= k;
			return buf;
		}
		if (eof)
			return NULL;
		if (have == sizeof(in)) {
			have = 0;	/* a line that long is no step */
			continue;
		}
		pfd[0].fd = 0;
		pfd[0].events = POLLIN;
		pfd[1].fd = sock_fd;
		pfd[1].events = POLLIN;
		if (poll(pfd, sock_fd >= 0 ? 2 : 1, -1) < 0 && errno != EINTR)
			return NULL;
		if (sock_fd >= 0 && pfd[1].revents &&
		    pump_once(now_ms(), 0, &t) < 0) {
			close(sock_fd);
			sock_fd = -1;
		}
		if (pfd[0].revents) {
			n = read(0, in + have, sizeof(in) - have);
			if (n <= 0)
				eof = true;
			else
				have += (size_t)n;
		}
	}
}

int main(int argc, char **argv)
{
	char line[8192];
	int c, rc, status = RC_OK;

	setvbuf(stdout, NULL, _IOLBF, 0);
	out = stdout;
	while ((c = getopt(argc, argv, "it:s:h")) != -1) {
		switch (c) {
		case 'i':
			framed = true;
			break;
		case 't':
			timeout_ms = atoi(optarg);
			if (timeout_ms <= 0)
				timeout_ms = 5000;
			break;
		case 's':
			next_seq = first_seq = (uint32_t)strtoul(optarg, NULL, 10);
			if (!first_seq)
				next_seq = first_seq = 1;
			break;
		default:
			fprintf(stderr, "usage: chdrive [-i] [-t MS] [-s SEQ] SOCKET [STEP...]\n");
			return c == 'h' ? 0 : RC_USAGE;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "usage: chdrive [-i] [-t MS] [-s SEQ] SOCKET [STEP...]\n");
		return RC_USAGE;
	}
	sock_path = argv[optind++];
	if (do_connect(now_ms() + (uint64_t)timeout_ms))
		return 1;

	if (optind < argc) {
		for (; optind < argc; optind++) {
			snprintf(line, sizeof(line), "%s", argv[optind]);
			rc = run_step(line);
			if (rc == RC_OK || rc == RC_ERROR || rc < 0)
				continue;
			return rc;
		}
		return RC_OK;
	}
	while (read_line(line, sizeof(line))) {
		rc = run_step(line);
		if (rc < 0 && !framed)
			continue;
		if (framed) {
			fprintf(out, "end %d\n", rc < 0 ? 0 : rc);
			status = worst(status, rc);
			continue;
		}
		if (rc != RC_OK && rc != RC_ERROR)
			return rc;
	}
	return status;
}
