/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * daqsd's end of one VM's channel: the protocol state machine, without I/O
 * and without a clock. The caller (daqsd_vm.c) owns the socket and hands
 * over the bytes it reads, the bytes the session wants written, and the
 * time; a test drives the same code with an injected clock and a fake
 * agent (tests/unit/test_session.c).
 *
 *            connected()              HELLO reply, version 1
 *   DOWN ------------------> HELLO ------------------------> READY
 *     ^                        |                               |
 *     +------------------------+-------------------------------+
 *        lost(): EOF, write error, a stall, an incompatible agent
 *
 * In READY, a tick has two halves:
 *   - ask(): a GET, whose answer gives the sample of the tick that ended,
 *     measured under the limit that was in force during it;
 *   - push(), once the samples are in and the allocator has run: a SET
 *     when the limit differs from the last one sent (by more than the dead
 *     band, DAQSD_PUSH_DEADBAND), when half the lease
 *     has passed since (a renewal), or when the guest says its limit is not
 *     ours (lease expired, binding recreated); every SET carries the lease
 *     and the fallback rate.
 * Asking before pushing keeps each sample under one limit: a SET sent
 * before the GET of the same tick would make the next sample mix the old
 * and the new limit, and the allocator would take a VM held to its new
 * limit for one that wants more.
 * The first SET of a connection is followed at once by a GET (a probe)
 * that reads back the limit and lease in force: its counters only move the
 * reference of the next rate, which is then measured under the new limit
 * alone. A GET asked less than half a tick after the last one is not sent:
 * the last one's sample is the tick's.
 * The agent answers requests in order, so a reply to seq k means that the
 * requests before k will never be answered: they are counted as lost.
 *
 * Rates come from two samples of the guest: the bytes the binding sent
 * (DAQS_STATS_A_TX_WIRE_BYTES) and the guest's CLOCK_MONOTONIC when it read
 * them (DAQS_STATS_A_TIMESTAMP_NS). Host times (when the reply arrived) are
 * never used: a reply delayed by a busy guest or a full socket would make a
 * wrong rate. A first sample, counters that went back (a binding recreated,
 * a guest rebooted), a timestamp that did not advance, or samples further
 * apart than DAQSD_RATE_MAX_TICKS ticks give no rate: the allocator then
 * HOLDs the VM's share instead of guessing.
 */
#ifndef DAQSD_SESSION_H
#define DAQSD_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "channel.h"

/* frames waiting to be written; HELLO, GET and SET are < 128 bytes each */
#define DAQSD_OUT_MAX (8U * 1024U)
/* requests sent and not yet answered */
#define DAQSD_INFLIGHT_MAX 8U
/* GETs among them: a slow guest gets one every other tick, not a queue */
#define DAQSD_GETS_INFLIGHT_MAX 2U
/* a request unanswered this long is lost (at least 2 ticks) */
#define DAQSD_REQ_TIMEOUT_MS 1000U
/* nothing at all received this long while waiting: reconnect (or 5 ticks) */
#define DAQSD_STALL_MS 3000U
/* a partial frame whose rest has not come this long is given up */
#define DAQSD_PARTIAL_MS 1000U
/* a refused SET is tried again after this long, not every tick */
#define DAQSD_SET_RETRY_MS 1000U
/* without the module in the guest, GET only this often (to notice it) */
#define DAQSD_NOMODULE_POLL_MS 1000U
/* samples further apart than this many ticks make no rate */
#define DAQSD_RATE_MAX_TICKS 4U
/* samples closer than this make no rate (and are not kept) */
#define DAQSD_RATE_MIN_NS 1000000ULL
/*
 * A limit that moved by less than 1/this (0.5%) is not pushed until the
 * next renewal: measurement noise moves a satisfied VM's share a little
 * every tick, and the datapath holds a rate within 1% anyway.
 */
#define DAQSD_PUSH_DEADBAND 200U
/* -v: the first this many steps of a connection, timed */
#define DAQSD_DBG_STEPS 12U
/* one message of a kind per VM per this long */
#define DAQSD_LOG_INTERVAL_MS 1000U

/* ---- the rate of one binding, from guest samples ------------------------- */

enum daqsd_rate_result {
	DAQSD_RATE_OK,		/* *rate_bps is set */
	DAQSD_RATE_FIRST,	/* no previous sample */
	DAQSD_RATE_RESET,	/* counters went back: recreated, rebooted */
	DAQSD_RATE_CLOCK,	/* the guest's timestamp did not advance */
	DAQSD_RATE_SHORT,	/* too close to the previous sample: ignored */
	DAQSD_RATE_STALE,	/* too far from the previous sample */
};

struct daqsd_rate {
	bool have;		/* a previous sample */
	uint64_t ts_ns;		/* its guest CLOCK_MONOTONIC */
	uint64_t bytes;		/* its tx_wire_bytes */
	uint64_t held;		/* its held count (daqsd_seen); not read by
				 * daqsd_rate_update() */
};

/*
 * Takes one sample; max_dt_ns: samples further apart make no rate. On
 * DAQSD_RATE_SHORT the previous sample is kept, otherwise this one
 * replaces it.
 */
enum daqsd_rate_result daqsd_rate_update(struct daqsd_rate *r, uint64_t ts_ns,
					 uint64_t bytes, uint64_t max_dt_ns,
					 uint64_t *rate_bps);
const char *daqsd_rate_result_name(enum daqsd_rate_result res);

/* true if to_bps differs from from_bps by more than the dead band */
bool daqsd_limit_changed(uint64_t from_bps, uint64_t to_bps);

/* ---- the session ---------------------------------------------------------- */

enum daqsd_sess_state {
	DAQSD_SESS_DOWN,	/* no connection */
	DAQSD_SESS_HELLO,	/* HELLO sent, waiting for its reply */
	DAQSD_SESS_READY,	/* GET and SET each tick */
};

/* which device of the guest this VM's limit applies to */
enum daqsd_dev {
	DAQSD_DEV_UNKNOWN,	/* not known yet */
	DAQSD_DEV_CONFIG,	/* named by the configuration: the selector */
	DAQSD_DEV_AGENT,	/* the agent was started with one (-d/-m) */
	DAQSD_DEV_LEARNED,	/* the only binding in the guest: its MAC */
	DAQSD_DEV_NONE,		/* the guest has no binding and none is named */
	DAQSD_DEV_MANY,		/* several bindings and none is named */
};

/* what the caller should do after input or timers */
enum daqsd_sess_action {
	DAQSD_SESS_OK,
	DAQSD_SESS_RECONNECT,	/* drop the connection; try again later */
	DAQSD_SESS_INCOMPATIBLE,	/* drop it; try again much later */
};

struct daqsd_sess_counters {
	uint64_t connects;	/* connections made */
	uint64_t hellos;	/* handshakes completed */
	uint64_t gets, sets;	/* requests sent */
	uint64_t samples;	/* GET replies with counters */
	uint64_t rates;		/* ... that made a rate */
	uint64_t counter_resets;	/* ... whose counters went back */
	uint64_t errors;	/* ERROR frames */
	uint64_t set_errors;	/* ... of them answering a SET */
	uint64_t timeouts;	/* requests never answered */
	uint64_t stale;		/* replies to nothing we wait for */
	uint64_t bad_frames;	/* damaged, refused or unexpected frames */
	uint64_t events;	/* EVENT frames */
	uint64_t lease_expired;	/* ... saying a lease expired */
	uint64_t stalls;	/* connections dropped for silence */
	uint64_t out_full;	/* frames not queued: the guest does not read */
};

/* the binding as the last GET reply showed it */
struct daqsd_seen {
	bool valid;
	char ifname[16];
	bool has_mac;
	uint8_t mac[DAQS_MAC_LEN];
	uint8_t state;		/* enum daqs_state */
	bool has_limit;		/* rate_bps and set_rate_bps were given */
	bool has_lease_state;
	uint64_t rate_bps;	/* in force now (the fallback after expiry) */
	uint64_t set_rate_bps;	/* last set */
	uint64_t fallback_bps;
	uint32_t lease_ms;
	uint32_t lease_left_ms;
	uint8_t lease_state;	/* enum daqs_lease_state */
	uint64_t ts_ns;
	uint64_t wire_bytes;
	/* packets the limit delayed or dropped: throttled + police + qlimit */
	bool has_held;
	uint64_t held;
};

struct daqsd_inflight {
	uint32_t seq;
	uint8_t type;		/* DAQS_CH_T_* */
	uint64_t sent_ms;
	uint64_t rate_bps;	/* SET: what it asked for */
	bool probe;		/* GET: a probe (see session.c), no sample */
};

/* how the session reports; prio is a syslog level (LOG_ERR ...) */
typedef void daqsd_log_fn(void *ctx, int prio, const char *line);

/* what push() is asked to push */
struct daqsd_push {
	uint64_t limit_bps;	/* 0: do not push anything (not controlled) */
	uint64_t fallback_bps;
	uint32_t lease_ms;
};

#define DAQSD_SESS_LOG_KEYS 16

struct daqsd_sess {
	/* set by the caller; may change between ticks */
	char name[64];			/* the VM, in messages */
	uint32_t tick_ms;
	enum daqsd_dev conf_dev;	/* DAQSD_DEV_CONFIG or _UNKNOWN */
	bool conf_is_mac;
	char conf_ifname[16];
	uint8_t conf_mac[DAQS_MAC_LEN];
	daqsd_log_fn *log;
	void *log_ctx;

	enum daqsd_sess_state state;
	uint32_t next_seq;
	uint32_t hello_seq;		/* the HELLO of this connection */
	struct daqsd_inflight q[DAQSD_INFLIGHT_MAX];	/* oldest first */
	unsigned int nq;
	uint64_t waiting_since_ms;	/* a request unanswered since; 0: none */
	uint32_t round_seq;		/* the tick's GET, until answered */
	struct daqs_ch_decoder dec;
	uint8_t out[DAQSD_OUT_MAX];
	size_t out_off, out_len;
	uint64_t connected_ms;
	uint64_t last_rx_ms;		/* any byte */
	uint64_t last_frame_ms;		/* a good frame */

	/* what the agent said */
	uint32_t version;
	char peer[DAQS_CH_PEER_NAME_MAX];
	bool module;			/* the daqs family is there */
	enum daqsd_dev dev;
	char dev_name[48];		/* "eth0 52:54:00:12:34:56" */
	uint8_t learned_mac[DAQS_MAC_LEN];
	char last_error[160];

	/* a GET reply in progress (frames with DAQS_CH_F_MORE) */
	unsigned int get_bindings;
	struct daqsd_seen get_first;

	/* the binding and its rate */
	struct daqsd_seen seen;
	uint64_t seen_ms;
	struct daqsd_rate rate;
	bool fresh;			/* a sample since the last take_sample() */
	bool rate_known;
	uint64_t rate_bps;		/* the last rate made */
	bool limited;			/* ... and the limit held packets back
					 * during it (the held count grew) */
	uint64_t last_get_ms;

	/* pushing */
	uint64_t pushed_bps;		/* last SET sent; 0: none, or failed */
	uint64_t pushed_ms;
	uint64_t acked_bps;		/* last SET the guest accepted */
	bool set_acked;			/* ... on this connection */
	uint64_t acked_ms;
	uint64_t set_retry_ms;		/* after a refusal, not before */
	bool force_set;			/* the guest's limit is not ours */
	bool probed;			/* the first SET's probe GET was sent */
	bool get_probe;			/* the GET being answered is one */

	unsigned int dbg_left;		/* -v lines left on this connection */
	struct daqsd_sess_counters n;
	struct {
		uint64_t last_ms;
		unsigned long held;
	} rl[DAQSD_SESS_LOG_KEYS];
};

/* A session in DOWN; name, tick_ms, the device and log are the caller's. */
void daqsd_sess_init(struct daqsd_sess *s);
/* The socket is connected: forgets the old stream, queues a HELLO. */
void daqsd_sess_connected(struct daqsd_sess *s, uint64_t now_ms);
/* The connection is gone (why: for the log, or NULL). */
void daqsd_sess_lost(struct daqsd_sess *s, uint64_t now_ms, const char *why);
/* Bytes read from the socket; all are taken. */
enum daqsd_sess_action daqsd_sess_input(struct daqsd_sess *s, const void *p,
					size_t n, uint64_t now_ms);
/*
 * The first half of a tick: a GET. True if it was sent; its answer is then
 * awaited (daqsd_sess_awaiting()) until it comes, fails or is lost.
 */
bool daqsd_sess_ask(struct daqsd_sess *s, uint64_t now_ms);
bool daqsd_sess_awaiting(const struct daqsd_sess *s);
/* The second half: a SET, if one is needed. */
void daqsd_sess_push(struct daqsd_sess *s, uint64_t now_ms,
		     const struct daqsd_push *push);
/*
 * Requests unanswered too long, a partial frame given up, a silent peer.
 * Returns what to do; *next_ms: when to call again (UINT64_MAX: never).
 */
enum daqsd_sess_action daqsd_sess_timers(struct daqsd_sess *s, uint64_t now_ms,
					 uint64_t *next_ms);
/* when daqsd_sess_timers() has work next (UINT64_MAX: never) */
uint64_t daqsd_sess_next_ms(const struct daqsd_sess *s);
/* READY, the module loaded and a device known: its limit can be pushed. */
bool daqsd_sess_controllable(const struct daqsd_sess *s);
/*
 * The rate of the last tick, if a sample came since the last call and it
 * made a rate. Clears the sample.
 */
bool daqsd_sess_take_sample(struct daqsd_sess *s, uint64_t *rate_bps);
/* The limit in force in the guest, 0 if unknown. */
uint64_t daqsd_sess_in_force(const struct daqsd_sess *s);
/* Bytes to write; then daqsd_sess_written() with how many went. */
size_t daqsd_sess_pending(const struct daqsd_sess *s, const uint8_t **p);
void daqsd_sess_written(struct daqsd_sess *s, size_t n);

const char *daqsd_sess_state_name(enum daqsd_sess_state st);
const char *daqsd_dev_name(enum daqsd_dev dev);

#endif /* DAQSD_SESSION_H */
