/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * daqs-agent: the guest's end of the daqs channel. It reads requests from
 * the virtio-serial port org.daqs.0, turns each into exactly one command of
 * the "daqs" generic netlink family, and writes back the answer; it also
 * forwards the family's events. Nothing else: no exec, no files, one
 * capability (CAP_NET_ADMIN) and a seccomp allow-list.
 *
 *   agent.c          options, the event loop, logging
 *   agent_port.c     finding, opening and watching the port
 *   agent_relay.c    requests -> netlink -> replies; kernel events
 *   agent_sandbox.c  capabilities and seccomp
 *
 * What the host sends can fail a request, never the agent: every path from
 * the port ends in a reply, an ERROR frame or a counter.
 */
#ifndef DAQS_AGENT_H
#define DAQS_AGENT_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "channel.h"
#include "daqs_nl.h"

#define AGENT_PROG "daqs-agent"
#define AGENT_ERRLEN 256

/* unsent frames: the answers to one request (a GET of every binding may
 * fill it: ENOBUFS) and events; a host that does not read stalls its own
 * requests and loses events, never us */
#ifndef AGENT_OUT_MAX
#define AGENT_OUT_MAX (64U * 1024U)
#endif
/* a partial frame this old is given up (the rest never comes) */
#define AGENT_STALL_MS 1000U
/* a host that went away: look again after 10 ms, doubling up to 100 ms,
 * so a restarted daqsd is heard within one tick */
#define AGENT_BACKOFF_MIN_MS 10U
#define AGENT_BACKOFF_MAX_MS 100U
/* bytes in a port whose host is away are the next host's if it shows up
 * within this long (they can overtake its "port open"), else stale; and
 * the answers to a host that said HELLO this recently, when the port says
 * it went, are kept this long for the host seen next (agent_port.c) */
#define AGENT_STALE_MS 250U
/* at most one ERROR about skipped bytes per this long */
#define AGENT_GARBAGE_REPORT_MS 1000U

enum agent_sel_type {
	AGENT_SEL_NONE,
	AGENT_SEL_IFNAME,
	AGENT_SEL_MAC,
};

struct agent_sel {
	enum agent_sel_type type;
	char ifname[IFNAMSIZ];
	uint8_t mac[DAQS_MAC_LEN];
};

enum agent_port_kind {
	AGENT_PORT_VPORT,	/* a virtio-serial character device */
	AGENT_PORT_UNIX,	/* a unix stream socket (tests, other hosts) */
};

struct agent_out {
	uint8_t buf[AGENT_OUT_MAX];
	size_t off, len;	/* unsent: buf[off .. len) */
};

struct agent_counters {
	uint64_t requests;	/* valid requests handled */
	uint64_t errors;	/* ERROR frames sent */
	uint64_t bad_frames;	/* frames or messages refused */
	uint64_t events;	/* EVENT frames sent */
	uint64_t dropped;	/* frames not sent: no host, or queue full */
	uint64_t disconnects;
};

struct agent {
	/* configuration */
	char port_path[256];	/* "" until found */
	bool port_given;	/* -p: never look in sysfs */
	struct agent_sel pin;	/* the device, if configured */
	bool sandbox;
	bool verbose;

	/* the port */
	enum agent_port_kind kind;
	int port_fd;		/* -1 while closed (unix socket only) */
	bool connected;
	unsigned int backoff_ms;
	uint64_t retry_at_ms;	/* while !connected */
	/* bytes read from the port while no host was there, the first of
	 * them at stale_since_ms: the next host's, unless AGENT_STALE_MS
	 * old by then */
	uint8_t stale[4096];
	size_t stale_len;
	uint64_t stale_since_ms;
	uint64_t last_rx_ms;
	uint64_t hello_ms;	/* this stream's last HELLO was handled; 0: none */
	uint64_t lost_ms;	/* the host was last seen to go */
	/* !connected: the stream (answers, input) is kept for a host seen
	 * before this; 0: nothing kept */
	uint64_t keep_until_ms;
	bool out_stuck;		/* a write blocked with the host there */
	struct daqs_ch_decoder dec;
	/* read from the port, not yet through the decoder: a request is taken
	 * only when every answer before it is out (see agent_port_read) */
	uint8_t in[4096];
	size_t in_off, in_len;
	bool held;		/* input waits for the host to read */
	struct agent_out out;
	uint64_t garbage_reported;	/* dec.stats.skipped when last told */
	uint64_t garbage_report_ms;

	/* netlink: one socket for requests, one for events */
	struct daqs_nl nl;
	struct daqs_nl ev;
	int ctrl_grp;		/* nlctrl "notify", or negative */
	bool ev_joined;		/* in the daqs "events" group */
	uint32_t event_seq;
	bool announced;		/* the first host was told we started */

	struct daqs_ch_builder reply;	/* the frame being built */
	struct agent_counters n;
};

/* agent.c */
uint64_t agent_now_ms(void);
void agent_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* a log line at most once a second per key; counts what it holds back */
void agent_log_limited(unsigned int key, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* agent_port.c */
/* Finds the port named DAQS_CH_PORT_NAME: 0 and its /dev path, or -1. */
int agent_port_find(char *path, size_t len);
/* Opens a->port_path (device or unix socket): 0, or -1 with err set. */
int agent_port_open(struct agent *a, char *err, size_t errlen);
/*
 * The host went away: forget its bytes and what we owed it (unless it had
 * only just said HELLO: then they are kept AGENT_STALE_MS for the host
 * seen next, see agent_port.c); retry later.
 */
void agent_port_lost(struct agent *a, const char *why);
/* When retry_at_ms has come: true if the host is back. */
bool agent_port_retry(struct agent *a);
/*
 * Reads what there is and handles it; false if the host went away. A
 * request is handled only once every answer queued before it has been
 * written: while the host does not take them, a->held is set and the rest
 * of the input waits (and so does the host's writer), instead of answers
 * being dropped.
 */
bool agent_port_read(struct agent *a);
/*
 * Hands held input to the decoder and every result to the relay, one at a
 * time, each once the answers before it are written (else sets a->held);
 * false if the host went away.
 */
bool agent_port_consume(struct agent *a);
/* Writes what is queued, as far as it goes; false if the host went away. */
bool agent_port_flush(struct agent *a);
/* Queues a finished frame; false (and counted) if there is no room. */
bool agent_port_queue(struct agent *a, const uint8_t *frame, size_t len);

/* agent_relay.c */
/* Opens both netlink sockets; the family may come later. */
int agent_nl_open(struct agent *a, char *err, size_t errlen);
void agent_nl_close(struct agent *a);
/* Every result of the decoder but DAQS_CH_DEC_NEED. */
void agent_handle(struct agent *a, enum daqs_ch_dec_result r,
		  const struct daqs_ch_frame *f);
/* One ERROR (seq 0) if bytes were skipped since the last one, rate-limited. */
void agent_report_garbage(struct agent *a, uint64_t now_ms);
/* Reads the events socket and forwards what it holds. */
void agent_events(struct agent *a);
/* Tells the first host seen that this agent started: what it wrote before is lost. */
void agent_announce(struct agent *a);
void agent_send_error(struct agent *a, uint32_t seq, int errnum,
		      const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* agent_sandbox.c */
/* Keeps CAP_NET_ADMIN only (if held), in every set and the bounding set. */
int agent_drop_caps(char *err, size_t errlen);
/* The allow-list; unix_reconnect: may open and connect AF_UNIX sockets. */
int agent_seccomp(bool unix_reconnect, char *err, size_t errlen);

#endif /* DAQS_AGENT_H */
