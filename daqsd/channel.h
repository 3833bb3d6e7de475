/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The codec of the daqs host <-> guest channel (<linux/daqs_channel.h>):
 * a frame builder with attribute helpers, an incremental decoder over a
 * byte stream, and a strict attribute parser. Pure C11, no I/O, no
 * allocation: daqsd (host), daqs-agent (guest), the tests and the fuzzer
 * all run exactly this code.
 *
 * Decoding a stream:
 *
 *	struct daqs_ch_decoder d;
 *	struct daqs_ch_frame f;
 *
 *	daqs_ch_dec_init(&d);
 *	while ((n = read(fd, buf, sizeof(buf))) > 0)
 *		for (off = 0; off < n; ) {
 *			off += daqs_ch_dec_feed(&d, buf + off, n - off);
 *			while ((r = daqs_ch_dec_next(&d, &f)) != DAQS_CH_DEC_NEED)
 *				handle(r, &f);	// f.payload points into d
 *		}
 *
 * The decoder holds at most DAQS_CH_FRAME_MAX bytes. When it is full, the
 * next call to daqs_ch_dec_next() always makes room (a full buffer holds a
 * whole frame or bytes to skip), so feeding never stalls.
 */
#ifndef DAQS_CHANNEL_H
#define DAQS_CHANNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/daqs.h>
#include <linux/daqs_channel.h>

#define DAQS_CH_NEST_MAX 4

/* the CRC32C of the protocol; crc32c(0, "123456789", 9) == 0xE3069283 */
uint32_t daqs_crc32c(uint32_t crc, const void *data, size_t len);

/* ---- building a frame -------------------------------------------------- */

/*
 * Any put that does not fit (or a nest left open) marks the builder as
 * failed; daqs_ch_end() then returns -1. So a sequence of puts needs one
 * check, at the end. A mark taken with daqs_ch_tell() can be returned to
 * with daqs_ch_trim(), which also clears a failure that came after it.
 */
struct daqs_ch_builder {
	uint8_t buf[DAQS_CH_FRAME_MAX];
	size_t len;
	size_t nest[DAQS_CH_NEST_MAX];	/* offsets of open nests */
	unsigned int depth;
	bool failed;
};

void daqs_ch_begin(struct daqs_ch_builder *b, uint8_t type, uint16_t flags,
		   uint32_t seq);
int daqs_ch_put(struct daqs_ch_builder *b, uint16_t type, const void *data,
		size_t len);
int daqs_ch_put_u8(struct daqs_ch_builder *b, uint16_t type, uint8_t v);
int daqs_ch_put_u16(struct daqs_ch_builder *b, uint16_t type, uint16_t v);
int daqs_ch_put_u32(struct daqs_ch_builder *b, uint16_t type, uint32_t v);
int daqs_ch_put_u64(struct daqs_ch_builder *b, uint16_t type, uint64_t v);
int daqs_ch_put_s64(struct daqs_ch_builder *b, uint16_t type, int64_t v);
/* with its NUL */
int daqs_ch_put_string(struct daqs_ch_builder *b, uint16_t type,
		       const char *s);
int daqs_ch_nest_begin(struct daqs_ch_builder *b, uint16_t type);
int daqs_ch_nest_end(struct daqs_ch_builder *b);
size_t daqs_ch_tell(const struct daqs_ch_builder *b);
void daqs_ch_trim(struct daqs_ch_builder *b, size_t mark);
/* changes the flags of the frame being built (DAQS_CH_F_MORE once known) */
void daqs_ch_set_flags(struct daqs_ch_builder *b, uint16_t flags);
/* payload bytes that can still be added */
size_t daqs_ch_room(const struct daqs_ch_builder *b);
/* Writes length and checksums; the frame is b->buf[0 .. return value). */
int daqs_ch_end(struct daqs_ch_builder *b);

/* ---- decoding a stream ------------------------------------------------- */

enum daqs_ch_dec_result {
	DAQS_CH_DEC_NEED,	/* nothing more without more bytes */
	DAQS_CH_DEC_FRAME,	/* a good frame of a version we speak */
	/*
	 * A header whose hdr_crc holds, so its seq is worth an answer, but:
	 */
	DAQS_CH_DEC_BAD_VERSION,	/* the whole frame is good; consumed */
	DAQS_CH_DEC_TOO_LONG,	/* its length is over DAQS_CH_PAYLOAD_MAX */
	DAQS_CH_DEC_BAD_CRC,	/* the payload or its crc is damaged */
};

/* a decoded frame; payload points into the decoder until its next call */
struct daqs_ch_frame {
	uint8_t version;
	uint8_t type;
	uint16_t flags;
	uint32_t seq;
	uint32_t len;
	const uint8_t *payload;
};

struct daqs_ch_dec_stats {
	uint64_t bytes;		/* fed in */
	uint64_t frames;	/* DAQS_CH_DEC_FRAME */
	uint64_t skipped;	/* bytes that were not part of a good frame */
	uint64_t bad_header;	/* magic found, hdr_crc wrong */
	uint64_t too_long;
	uint64_t bad_crc;
	uint64_t bad_version;
	uint64_t abandoned;	/* partial frames given up by daqs_ch_dec_abandon */
};

struct daqs_ch_decoder {
	uint8_t buf[DAQS_CH_FRAME_MAX];
	size_t off;		/* the bytes held are buf[off .. len) */
	size_t len;
	size_t done;		/* bytes of the frame last returned */
	struct daqs_ch_dec_stats stats;
};

void daqs_ch_dec_init(struct daqs_ch_decoder *d);
/* Forgets every byte held (the peer reconnected); keeps the counters. */
void daqs_ch_dec_reset(struct daqs_ch_decoder *d);
/* Takes up to n bytes; returns how many (less only when full). */
size_t daqs_ch_dec_feed(struct daqs_ch_decoder *d, const void *data, size_t n);
/* The next result; f is filled for every result but DAQS_CH_DEC_NEED. */
enum daqs_ch_dec_result daqs_ch_dec_next(struct daqs_ch_decoder *d,
					 struct daqs_ch_frame *f);
/* Bytes held that are not yet a frame: a partial frame if not 0. */
size_t daqs_ch_dec_pending(const struct daqs_ch_decoder *d);
/*
 * Gives up on a partial frame whose rest never came (the stream went quiet
 * with a cut-off frame in it): skips its first byte and looks again at what
 * follows. Returns true if there was one. Call it after a timeout.
 */
bool daqs_ch_dec_abandon(struct daqs_ch_decoder *d);

/* ---- parsing attributes ------------------------------------------------- */

enum daqs_ch_attr_kind {
	DAQS_CH_KIND_NONE,	/* not allowed here */
	DAQS_CH_KIND_U8,
	DAQS_CH_KIND_U16,
	DAQS_CH_KIND_U32,
	DAQS_CH_KIND_U64,
	DAQS_CH_KIND_S64,
	DAQS_CH_KIND_STRING,	/* NUL-terminated; len: the maximum with NUL */
	DAQS_CH_KIND_BINARY,	/* len: the exact length */
	DAQS_CH_KIND_NESTED,
};

struct daqs_ch_policy {
	uint8_t kind;		/* enum daqs_ch_attr_kind */
	uint16_t len;
};

struct daqs_ch_nla {
	uint16_t type;		/* without the flag bits; 0: absent */
	uint16_t len;		/* of the value */
	const uint8_t *data;
};

/* one policy per level; indexed by attribute number */
extern const struct daqs_ch_policy daqs_ch_top_policy[DAQS_CH_A_MAX + 1];
extern const struct daqs_ch_policy daqs_ch_binding_policy[DAQS_A_MAX + 1];
extern const struct daqs_ch_policy daqs_ch_stats_policy[DAQS_STATS_A_MAX + 1];

/*
 * Iterates over the attributes of p[0..len): returns 1 and fills a, 0 at
 * the end, -1 if the rest is not a whole attribute.
 */
int daqs_ch_attr_next(const uint8_t **p, size_t *len, struct daqs_ch_nla *a);

/*
 * Parses every attribute of p[0..len) into tb[0..max] (cleared first),
 * checking each against pol and the mask of allowed numbers (bit n: type n
 * may appear). Duplicates are refused. On error returns -1 and writes why
 * into err ("attribute 5 (u64) has length 4").
 */
int daqs_ch_parse(const uint8_t *p, size_t len,
		  const struct daqs_ch_policy *pol, unsigned int max,
		  uint64_t allowed, struct daqs_ch_nla *tb, char *err,
		  size_t errlen);

/* the value of a validated attribute */
uint8_t daqs_ch_get_u8(const struct daqs_ch_nla *a);
uint16_t daqs_ch_get_u16(const struct daqs_ch_nla *a);
uint32_t daqs_ch_get_u32(const struct daqs_ch_nla *a);
uint64_t daqs_ch_get_u64(const struct daqs_ch_nla *a);
int64_t daqs_ch_get_s64(const struct daqs_ch_nla *a);
const char *daqs_ch_get_string(const struct daqs_ch_nla *a);

/* ---- messages ---------------------------------------------------------- */

#define DAQS_CH_BIT(n) (1ULL << (n))

/* the device selectors, in a DAQS_CH_A_BINDING */
#define DAQS_CH_SELECTORS (DAQS_CH_BIT(DAQS_A_IFINDEX) | \
	DAQS_CH_BIT(DAQS_A_IFNAME) | DAQS_CH_BIT(DAQS_A_MAC))
/* what a SET may carry besides a selector */
#define DAQS_CH_SET_ATTRS (DAQS_CH_BIT(DAQS_A_RATE_BPS) | \
	DAQS_CH_BIT(DAQS_A_BURST_BYTES) | DAQS_CH_BIT(DAQS_A_MODE) | \
	DAQS_CH_BIT(DAQS_A_QLIMIT_US) | DAQS_CH_BIT(DAQS_A_LEASE_MS) | \
	DAQS_CH_BIT(DAQS_A_FALLBACK_BPS) | DAQS_CH_BIT(DAQS_A_SET_FLAGS))
/* what a GET reply or an EVENT may carry */
#define DAQS_CH_INFO_ATTRS (DAQS_CH_SELECTORS | \
	DAQS_CH_BIT(DAQS_A_STATE) | DAQS_CH_BIT(DAQS_A_RATE_BPS) | \
	DAQS_CH_BIT(DAQS_A_BURST_BYTES) | DAQS_CH_BIT(DAQS_A_MODE) | \
	DAQS_CH_BIT(DAQS_A_QLIMIT_US) | DAQS_CH_BIT(DAQS_A_LEASE_MS) | \
	DAQS_CH_BIT(DAQS_A_FALLBACK_BPS) | DAQS_CH_BIT(DAQS_A_LEASE_LEFT_MS) | \
	DAQS_CH_BIT(DAQS_A_LEASE_STATE) | DAQS_CH_BIT(DAQS_A_SET_RATE_BPS))
#define DAQS_CH_GET_REPLY_ATTRS (DAQS_CH_INFO_ATTRS | DAQS_CH_BIT(DAQS_A_STATS))
#define DAQS_CH_EVENT_ATTRS (DAQS_CH_INFO_ATTRS | DAQS_CH_BIT(DAQS_A_EVENT))
#define DAQS_CH_STATS_ATTRS ((DAQS_CH_BIT(DAQS_STATS_A_MAX + 1) - 1) & \
	~(DAQS_CH_BIT(DAQS_STATS_A_UNSPEC) | DAQS_CH_BIT(DAQS_STATS_A_PAD)))

/* the top-level attributes a message may carry */
uint64_t daqs_ch_top_attrs(uint8_t type, uint16_t flags);
/* the DAQS_A_* a DAQS_CH_A_BINDING of this message may carry */
uint64_t daqs_ch_binding_attrs(uint8_t type, uint16_t flags);

/*
 * Checks a frame as a whole: a known type, flags that fit it (requests have
 * none, ERROR and EVENT only their own), and top-level attributes that are
 * allowed and well-formed; a DAQS_CH_A_BINDING is checked too (with its
 * DAQS_A_STATS), every one of them in a GET reply. tb gets the top-level
 * attributes (for a GET reply: the first binding). Returns 0, or -1 with
 * err set; *errnum then says which errno an ERROR should carry.
 */
int daqs_ch_msg_parse(const struct daqs_ch_frame *f,
		      struct daqs_ch_nla tb[DAQS_CH_A_MAX + 1], int *errnum,
		      char *err, size_t errlen);
/* a DAQS_CH_A_BINDING, checked against daqs_ch_binding_attrs() */
int daqs_ch_binding_parse(const struct daqs_ch_nla *nest, uint8_t type,
			  uint16_t flags, struct daqs_ch_nla tb[DAQS_A_MAX + 1],
			  char *err, size_t errlen);

/* "HELLO", "GET", ...; "type 9" for others (buf of 16 bytes) */
const char *daqs_ch_type_name(uint8_t type, char *buf, size_t len);

#endif /* DAQS_CHANNEL_H */
