// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The channel codec: see channel.h for its use and <linux/daqs_channel.h>
 * for the protocol. Every length that comes from the stream is checked
 * against what is held before a byte is read through it.
 */
#include "channel.h"

#include <errno.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define ALIGN4(n) (((n) + 3U) & ~(size_t)3U)
#define NLA_HDRLEN_CH 4U
/* the flag bits of nla_type, as in <linux/netlink.h> */
#define CH_NLA_F_NESTED 0x8000U
#define CH_NLA_F_NET_BYTEORDER 0x4000U
#define CH_NLA_TYPE_MASK 0x3fffU

_Static_assert(DAQS_CH_A_MAX < 64, "allowed masks are 64 bits");
_Static_assert(DAQS_A_MAX < 64, "allowed masks are 64 bits");
_Static_assert(DAQS_STATS_A_MAX < 63, "allowed masks are 64 bits");
_Static_assert(DAQS_CH_FRAME_MAX <= 0xffff, "nla_len of a nest is 16 bits");
_Static_assert(DAQS_CH_HDR_LEN % 4 == 0, "attributes stay 4-byte aligned");

/* ---- CRC32C (Castagnoli, reflected 0x82F63B78) -------------------------- */

static const uint32_t crc32c_table[256] = {
	0x00000000, 0xf26b8303, 0xe13b70f7, 0x1350f3f4,
	0xc79a971f, 0x35f1141c, 0x26a1e7e8, 0xd4ca64eb,
	0x8ad958cf, 0x78b2dbcc, 0x6be22838, 0x9989ab3b,
	0x4d43cfd0, 0xbf284cd3, 0xac78bf27, 0x5e133c24,
	0x105ec76f, 0xe235446c, 0xf165b798, 0x030e349b,
	0xd7c45070, 0x25afd373, 0x36ff2087, 0xc494a384,
	0x9a879fa0, 0x68ec1ca3, 0x7bbcef57, 0x89d76c54,
	0x5d1d08bf, 0xaf768bbc, 0xbc267848, 0x4e4dfb4b,
	0x20bd8ede, 0xd2d60ddd, 0xc186fe29, 0x33ed7d2a,
	0xe72719c1, 0x154c9ac2, 0x061c6936, 0xf477ea35,
	0xaa64d611, 0x580f5512, 0x4b5fa6e6, 0xb93425e5,
	0x6dfe410e, 0x9f95c20d, 0x8cc531f9, 0x7eaeb2fa,
	0x30e349b1, 0xc288cab2, 0xd1d83946, 0x23b3ba45,
	0xf779deae, 0x05125dad, 0x1642ae59, 0xe4292d5a,
	0xba3a117e, 0x4851927d, 0x5b016189, 0xa96ae28a,
	0x7da08661, 0x8fcb0562, 0x9c9bf696, 0x6ef07595,
	0x417b1dbc, 0xb3109ebf, 0xa0406d4b, 0x522bee48,
	0x86e18aa3, 0x748a09a0, 0x67dafa54, 0x95b17957,
	0xcba24573, 0x39c9c670, 0x2a993584, 0xd8f2b687,
	0x0c38d26c, 0xfe53516f, 0xed03a29b, 0x1f682198,
	0x5125dad3, 0xa34e59d0, 0xb01eaa24, 0x42752927,
	0x96bf4dcc, 0x64d4cecf, 0x77843d3b, 0x85efbe38,
	0xdbfc821c, 0x2997011f, 0x3ac7f2eb, 0xc8ac71e8,
	0x1c661503, 0xee0d9600, 0xfd5d65f4, 0x0f36e6f7,
	0x61c69362, 0x93ad1061, 0x80fde395, 0x72966096,
	0xa65c047d, 0x5437877e, 0x4767748a, 0xb50cf789,
	0xeb1fcbad, 0x197448ae, 0x0a24bb5a, 0xf84f3859,
	0x2c855cb2, 0xdeeedfb1, 0xcdbe2c45, 0x3fd5af46,
	0x7198540d, 0x83f3d70e, 0x90a324fa, 0x62c8a7f9,
	0xb602c312, 0x44694011, 0x5739b3e5, 0xa55230e6,
	0xfb410cc2, 0x092a8fc1, 0x1a7a7c35, 0xe811ff36,
	0x3cdb9bdd, 0xceb018de, 0xdde0eb2a, 0x2f8b6829,
	0x82f63b78, 0x709db87b, 0x63cd4b8f, 0x91a6c88c,
	0x456cac67, 0xb7072f64, 0xa457dc90, 0x563c5f93,
	0x082f63b7, 0xfa44e0b4, 0xe9141340, 0x1b7f9043,
	0xcfb5f4a8, 0x3dde77ab, 0x2e8e845f, 0xdce5075c,
	0x92a8fc17, 0x60c37f14, 0x73938ce0, 0x81f80fe3,
	0x55326b08, 0xa759e80b, 0xb4091bff, 0x466298fc,
	0x1871a4d8, 0xea1a27db, 0xf94ad42f, 0x0b21572c,
	0xdfeb33c7, 0x2d80b0c4, 0x3ed04330, 0xccbbc033,
	0xa24bb5a6, 0x502036a5, 0x4370c551, 0xb11b4652,
	0x65d122b9, 0x97baa1ba, 0x84ea524e, 0x7681d14d,
	0x2892ed69, 0xdaf96e6a, 0xc9a99d9e, 0x3bc21e9d,
	0xef087a76, 0x1d63f975, 0x0e330a81, 0xfc588982,
	0xb21572c9, 0x407ef1ca, 0x532e023e, 0xa145813d,
	0x758fe5d6, 0x87e466d5, 0x94b49521, 0x66df1622,
	0x38cc2a06, 0xcaa7a905, 0xd9f75af1, 0x2b9cd9f2,
	0xff56bd19, 0x0d3d3e1a, 0x1e6dcdee, 0xec064eed,
	0xc38d26c4, 0x31e6a5c7, 0x22b65633, 0xd0ddd530,
	0x0417b1db, 0xf67c32d8, 0xe52cc12c, 0x1747422f,
	0x49547e0b, 0xbb3ffd08, 0xa86f0efc, 0x5a048dff,
	0x8ecee914, 0x7ca56a17, 0x6ff599e3, 0x9d9e1ae0,
	0xd3d3e1ab, 0x21b862a8, 0x32e8915c, 0xc083125f,
	0x144976b4, 0xe622f5b7, 0xf5720643, 0x07198540,
	0x590ab964, 0xab613a67, 0xb831c993, 0x4a5a4a90,
	0x9e902e7b, 0x6cfbad78, 0x7fab5e8c, 0x8dc0dd8f,
	0xe330a81a, 0x115b2b19, 0x020bd8ed, 0xf0605bee,
	0x24aa3f05, 0xd6c1bc06, 0xc5914ff2, 0x37faccf1,
	0x69e9f0d5, 0x9b8273d6, 0x88d28022, 0x7ab90321,
	0xae7367ca, 0x5c18e4c9, 0x4f48173d, 0xbd23943e,
	0xf36e6f75, 0x0105ec76, 0x12551f82, 0xe03e9c81,
	0x34f4f86a, 0xc69f7b69, 0xd5cf889d, 0x27a40b9e,
	0x79b737ba, 0x8bdcb4b9, 0x988c474d, 0x6ae7c44e,
	0xbe2da0a5, 0x4c4623a6, 0x5f16d052, 0xad7d5351,
};

uint32_t daqs_crc32c(uint32_t crc, const void *data, size_t len)
{
	const uint8_t *p = data;

	crc = ~crc;
	while (len--)
		crc = crc32c_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

/* ---- little-endian access, whatever the host's order -------------------- */

static void put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put_le32(uint8_t *p, uint32_t v)
{
	put_le16(p, (uint16_t)v);
	put_le16(p + 2, (uint16_t)(v >> 16));
}

static void put_le64(uint8_t *p, uint64_t v)
{
	put_le32(p, (uint32_t)v);
	put_le32(p + 4, (uint32_t)(v >> 32));
}

static uint16_t get_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)get_le16(p) | (uint32_t)get_le16(p + 2) << 16;
}

static uint64_t get_le64(const uint8_t *p)
{
	return (uint64_t)get_le32(p) | (uint64_t)get_le32(p + 4) << 32;
}

/* ---- the builder --------------------------------------------------------- */

void daqs_ch_begin(struct daqs_ch_builder *b, uint8_t type, uint16_t flags,
		   uint32_t seq)
{
	uint8_t *h = b->buf;

	h[0] = DAQS_CH_MAGIC0;
	h[1] = DAQS_CH_MAGIC1;
	h[2] = DAQS_CH_MAGIC2;
	h[3] = DAQS_CH_MAGIC3;
	h[DAQS_CH_OFF_VERSION] = DAQS_CH_VERSION;
	h[DAQS_CH_OFF_TYPE] = type;
	put_le16(h + DAQS_CH_OFF_FLAGS, flags);
	put_le32(h + DAQS_CH_OFF_SEQ, seq);
	memset(h + DAQS_CH_OFF_LENGTH, 0, DAQS_CH_HDR_LEN - DAQS_CH_OFF_LENGTH);
	b->len = DAQS_CH_HDR_LEN;
	b->depth = 0;
	b->failed = false;
}

/* room for an attribute of len value bytes, header written; NULL if none */
static uint8_t *reserve(struct daqs_ch_builder *b, uint16_t type, size_t len)
{
	size_t total = NLA_HDRLEN_CH + len;
	uint8_t *p;

	if (b->failed || len > DAQS_CH_PAYLOAD_MAX ||
	    ALIGN4(total) > sizeof(b->buf) - b->len) {
		b->failed = true;
		return NULL;
	}
	p = b->buf + b->len;
	put_le16(p, (uint16_t)total);
	put_le16(p + 2, type);
	/* the padding, so no stale byte ever leaves */
	memset(p + total, 0, ALIGN4(total) - total);
	b->len += ALIGN4(total);
	return p + NLA_HDRLEN_CH;
}

int daqs_ch_put(struct daqs_ch_builder *b, uint16_t type, const void *data,
		size_t len)
{
	uint8_t *p = reserve(b, type & CH_NLA_TYPE_MASK, len);

	if (!p)
		return -1;
	if (len)
		memcpy(p, data, len);
	return 0;
}

int daqs_ch_put_u8(struct daqs_ch_builder *b, uint16_t type, uint8_t v)
{
	return daqs_ch_put(b, type, &v, 1);
}

int daqs_ch_put_u16(struct daqs_ch_builder *b, uint16_t type, uint16_t v)
{
	uint8_t le[2];

	put_le16(le, v);
	return daqs_ch_put(b, type, le, sizeof(le));
}

int daqs_ch_put_u32(struct daqs_ch_builder *b, uint16_t type, uint32_t v)
{
	uint8_t le[4];

	put_le32(le, v);
	return daqs_ch_put(b, type, le, sizeof(le));
}

int daqs_ch_put_u64(struct daqs_ch_builder *b, uint16_t type, uint64_t v)
{
	uint8_t le[8];

	put_le64(le, v);
	return daqs_ch_put(b, type, le, sizeof(le));
}

int daqs_ch_put_s64(struct daqs_ch_builder *b, uint16_t type, int64_t v)
{
	return daqs_ch_put_u64(b, type, (uint64_t)v);
}

int daqs_ch_put_string(struct daqs_ch_builder *b, uint16_t type,
		       const char *s)
{
	return daqs_ch_put(b, type, s, strlen(s) + 1);
}

int daqs_ch_nest_begin(struct daqs_ch_builder *b, uint16_t type)
{
	size_t off = b->len;

	if (b->depth >= DAQS_CH_NEST_MAX) {
		b->failed = true;
		return -1;
	}
	if (!reserve(b, (type & CH_NLA_TYPE_MASK) | CH_NLA_F_NESTED, 0))
		return -1;
	b->nest[b->depth++] = off;
	return 0;
}

int daqs_ch_nest_end(struct daqs_ch_builder *b)
{
	size_t off;

	if (b->failed || !b->depth) {
		b->failed = true;
		return -1;
	}
	off = b->nest[--b->depth];
	put_le16(b->buf + off, (uint16_t)(b->len - off));
	return 0;
}

size_t daqs_ch_tell(const struct daqs_ch_builder *b)
{
	return b->len;
}

void daqs_ch_trim(struct daqs_ch_builder *b, size_t mark)
{
	if (mark < DAQS_CH_HDR_LEN || mark > b->len)
		return;
	b->len = mark;
	while (b->depth && b->nest[b->depth - 1] >= mark)
		b->depth--;
	b->failed = false;
}

void daqs_ch_set_flags(struct daqs_ch_builder *b, uint16_t flags)
{
	put_le16(b->buf + DAQS_CH_OFF_FLAGS, flags);
}

size_t daqs_ch_room(const struct daqs_ch_builder *b)
{
	return b->failed ? 0 : sizeof(b->buf) - b->len;
}

int daqs_ch_end(struct daqs_ch_builder *b)
{
	uint8_t *h = b->buf;
	uint32_t crc;

	if (b->failed || b->depth) {
		b->failed = true;
		return -1;
	}
	put_le32(h + DAQS_CH_OFF_LENGTH, (uint32_t)(b->len - DAQS_CH_HDR_LEN));
	put_le32(h + DAQS_CH_OFF_HDR_CRC, daqs_crc32c(0, h, DAQS_CH_OFF_HDR_CRC));
	crc = daqs_crc32c(0, h, DAQS_CH_OFF_CRC);
	crc = daqs_crc32c(crc, h + DAQS_CH_HDR_LEN, b->len - DAQS_CH_HDR_LEN);
	put_le32(h + DAQS_CH_OFF_CRC, crc);
	return (int)b->len;
}

/* ---- the decoder --------------------------------------------------------- */

/*
 * The bytes held are buf[off .. len); the first `done` of them are the frame
 * returned last, dropped on the next call. Skipping moves off, never bytes;
 * bytes move only when feeding needs the room.
 */
static const uint8_t magic[4] = {
	DAQS_CH_MAGIC0, DAQS_CH_MAGIC1, DAQS_CH_MAGIC2, DAQS_CH_MAGIC3
};

void daqs_ch_dec_init(struct daqs_ch_decoder *d)
{
	memset(&d->stats, 0, sizeof(d->stats));
	daqs_ch_dec_reset(d);
}

void daqs_ch_dec_reset(struct daqs_ch_decoder *d)
{
	d->off = d->len = d->done = 0;
}

static void drop(struct daqs_ch_decoder *d, size_t n)
{
	d->off += n;
	if (d->off == d->len)
		d->off = d->len = 0;
}

static void skip(struct daqs_ch_decoder *d, size_t n)
{
	d->stats.skipped += n;
	drop(d, n);
}

static void consume_done(struct daqs_ch_decoder *d)
{
	if (d->done) {
		drop(d, d->done);
		d->done = 0;
	}
}

size_t daqs_ch_dec_feed(struct daqs_ch_decoder *d, const void *data, size_t n)
{
	consume_done(d);
	if (n > sizeof(d->buf) - d->len && d->off) {
		memmove(d->buf, d->buf + d->off, d->len - d->off);
		d->len -= d->off;
		d->off = 0;
	}
	if (n > sizeof(d->buf) - d->len)
		n = sizeof(d->buf) - d->len;
	if (n)
		memcpy(d->buf + d->len, data, n);
	d->len += n;
	d->stats.bytes += n;
	return n;
}

/*
 * Where a frame may start in p[0..n): the first whole magic, or a tail
 * that begins like one; n if neither.
 */
static size_t find_magic(const uint8_t *p, size_t n)
{
	const uint8_t *q = p, *end = p + n;
	size_t left;

	while ((q = memchr(q, magic[0], (size_t)(end - q)))) {
		left = (size_t)(end - q);
		if (!memcmp(q, magic, left < 4 ? left : 4))
			return (size_t)(q - p);
		q++;
	}
	return n;
}

static void read_header(const uint8_t *h, struct daqs_ch_frame *f)
{
	f->version = h[DAQS_CH_OFF_VERSION];
	f->type = h[DAQS_CH_OFF_TYPE];
	f->flags = get_le16(h + DAQS_CH_OFF_FLAGS);
	f->seq = get_le32(h + DAQS_CH_OFF_SEQ);
	f->len = get_le32(h + DAQS_CH_OFF_LENGTH);
	f->payload = h + DAQS_CH_HDR_LEN;
}

enum daqs_ch_dec_result daqs_ch_dec_next(struct daqs_ch_decoder *d,
					 struct daqs_ch_frame *f)
{
	const uint8_t *h;
	size_t held, at;
	uint32_t crc;

	consume_done(d);
	/* each turn either returns or skips at least one byte */
	for (;;) {
		held = d->len - d->off;
		at = find_magic(d->buf + d->off, held);
		if (at)
			skip(d, at);
		held = d->len - d->off;
		if (held < DAQS_CH_HDR_LEN)
			return DAQS_CH_DEC_NEED;
		h = d->buf + d->off;
		if (daqs_crc32c(0, h, DAQS_CH_OFF_HDR_CRC) !=
		    get_le32(h + DAQS_CH_OFF_HDR_CRC)) {
			d->stats.bad_header++;
			skip(d, 1);
			continue;
		}
		read_header(h, f);
		if (f->len > DAQS_CH_PAYLOAD_MAX) {
			d->stats.too_long++;
			skip(d, 1);
			return DAQS_CH_DEC_TOO_LONG;
		}
		if (held < DAQS_CH_HDR_LEN + (size_t)f->len)
			return DAQS_CH_DEC_NEED;
		crc = daqs_crc32c(0, h, DAQS_CH_OFF_CRC);
		crc = daqs_crc32c(crc, h + DAQS_CH_HDR_LEN, f->len);
		if (crc != get_le32(h + DAQS_CH_OFF_CRC)) {
			d->stats.bad_crc++;
			skip(d, 1);
			return DAQS_CH_DEC_BAD_CRC;
		}
		d->done = DAQS_CH_HDR_LEN + f->len;
		if (f->version < DAQS_CH_VERSION_MIN ||
		    f->version > DAQS_CH_VERSION) {
			d->stats.bad_version++;
			return DAQS_CH_DEC_BAD_VERSION;
		}
		d->stats.frames++;
		return DAQS_CH_DEC_FRAME;
	}
}

size_t daqs_ch_dec_pending(const struct daqs_ch_decoder *d)
{
	return d->len - d->off - d->done;
}

bool daqs_ch_dec_abandon(struct daqs_ch_decoder *d)
{
	consume_done(d);
	if (d->len == d->off)
		return false;
	d->stats.abandoned++;
	skip(d, 1);
	return true;
}

/* ---- attributes ---------------------------------------------------------- */

const struct daqs_ch_policy daqs_ch_top_policy[DAQS_CH_A_MAX + 1] = {
	[DAQS_CH_A_VERSION_MIN] = { DAQS_CH_KIND_U32, 0 },
	[DAQS_CH_A_VERSION_MAX] = { DAQS_CH_KIND_U32, 0 },
	[DAQS_CH_A_VERSION] = { DAQS_CH_KIND_U32, 0 },
	[DAQS_CH_A_PEER_NAME] = { DAQS_CH_KIND_STRING, DAQS_CH_PEER_NAME_MAX },
	[DAQS_CH_A_MODULE] = { DAQS_CH_KIND_U8, 0 },
	[DAQS_CH_A_BINDING] = { DAQS_CH_KIND_NESTED, 0 },
	[DAQS_CH_A_ERRNO] = { DAQS_CH_KIND_U32, 0 },
	[DAQS_CH_A_ERRMSG] = { DAQS_CH_KIND_STRING, DAQS_CH_ERRMSG_MAX },
	[DAQS_CH_A_AGENT_EVENT] = { DAQS_CH_KIND_U8, 0 },
};

/* the same types as the "daqs" family's policy (daqs_nl.c, kmod/netlink.c) */
const struct daqs_ch_policy daqs_ch_binding_policy[DAQS_A_MAX + 1] = {
	[DAQS_A_IFINDEX] = { DAQS_CH_KIND_U32, 0 },
	[DAQS_A_IFNAME] = { DAQS_CH_KIND_STRING, IFNAMSIZ },
	[DAQS_A_MAC] = { DAQS_CH_KIND_BINARY, DAQS_MAC_LEN },
	[DAQS_A_STATE] = { DAQS_CH_KIND_U8, 0 },
	[DAQS_A_RATE_BPS] = { DAQS_CH_KIND_U64, 0 },
	[DAQS_A_BURST_BYTES] = { DAQS_CH_KIND_U32, 0 },
	[DAQS_A_MODE] = { DAQS_CH_KIND_U8, 0 },
	[DAQS_A_QLIMIT_US] = { DAQS_CH_KIND_U32, 0 },
	[DAQS_A_LEASE_MS] = { DAQS_CH_KIND_U32, 0 },
	[DAQS_A_FALLBACK_BPS] = { DAQS_CH_KIND_U64, 0 },
	[DAQS_A_LEASE_LEFT_MS] = { DAQS_CH_KIND_U32, 0 },
	[DAQS_A_LEASE_STATE] = { DAQS_CH_KIND_U8, 0 },
	[DAQS_A_SET_RATE_BPS] = { DAQS_CH_KIND_U64, 0 },
	[DAQS_A_SET_FLAGS] = { DAQS_CH_KIND_U32, 0 },
	[DAQS_A_STATS] = { DAQS_CH_KIND_NESTED, 0 },
	[DAQS_A_EVENT] = { DAQS_CH_KIND_U8, 0 },
};

const struct daqs_ch_policy daqs_ch_stats_policy[DAQS_STATS_A_MAX + 1] = {
	[DAQS_STATS_A_TIMESTAMP_NS] = { DAQS_CH_KIND_U64, 0 },
	[DAQS_STATS_A_TX_BYTES] = { DAQS_CH_KIND_U64, 0 },
	[DAQS_STATS_A_TX_PACKETS] = { DAQS_CH_KIND_U64, 0 },
	[DAQS_STATS_A_TX_WIRE_BYTES] = { DAQS_CH_KIND_U64, 0 },
	[DAQS_STATS_A_TX_WIRE_PACKETS] = { DAQS_CH_KIND_U64, 0 },
	[DAQS_STATS_A_DROPS_POLICE] = { DAQS_CH_KIND_U64, 0 },
	[DAQS_STATS_A_DROPS_QLIMIT] = { DAQS_CH_KIND_U64, 0 },
	[DAQS_STATS_A_DROPS_DETACH] = { DAQS_CH_KIND_U64, 0 },
	[DAQS_STATS_A_THROTTLED] = { DAQS_CH_KIND_U64, 0 },
	[DAQS_STATS_A_TOKENS] = { DAQS_CH_KIND_S64, 0 },
	[DAQS_STATS_A_QUEUED] = { DAQS_CH_KIND_U32, 0 },
};

int daqs_ch_attr_next(const uint8_t **p, size_t *len, struct daqs_ch_nla *a)
{
	uint16_t nla_len, nla_type;
	size_t step;

	if (!*len)
		return 0;
	if (*len < NLA_HDRLEN_CH)
		return -1;
	nla_len = get_le16(*p);
	nla_type = get_le16(*p + 2);
	if (nla_len < NLA_HDRLEN_CH || nla_len > *len ||
	    (nla_type & CH_NLA_F_NET_BYTEORDER))
		return -1;
	a->type = nla_type & CH_NLA_TYPE_MASK;
	a->len = (uint16_t)(nla_len - NLA_HDRLEN_CH);
	a->data = *p + NLA_HDRLEN_CH;
	/* the last attribute's padding may be left out, as in netlink */
	step = ALIGN4((size_t)nla_len);
	if (step > *len)
		step = *len;
	*p += step;
	*len -= step;
	return 1;
}

static void fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static const char *const kind_names[] = {
	[DAQS_CH_KIND_NONE] = "none", [DAQS_CH_KIND_U8] = "u8",
	[DAQS_CH_KIND_U16] = "u16", [DAQS_CH_KIND_U32] = "u32",
	[DAQS_CH_KIND_U64] = "u64", [DAQS_CH_KIND_S64] = "s64",
	[DAQS_CH_KIND_STRING] = "string", [DAQS_CH_KIND_BINARY] = "binary",
	[DAQS_CH_KIND_NESTED] = "nested",
};

/* whether a's length fits its kind; nested: whole attributes inside */
static int check_value(const struct daqs_ch_nla *a,
		       const struct daqs_ch_policy *pol, char *err,
		       size_t errlen)
{
	static const uint8_t int_len[] = {
		[DAQS_CH_KIND_U8] = 1, [DAQS_CH_KIND_U16] = 2,
		[DAQS_CH_KIND_U32] = 4, [DAQS_CH_KIND_U64] = 8,
		[DAQS_CH_KIND_S64] = 8,
	};
	struct daqs_ch_nla in;
	const uint8_t *p;
	size_t left;
	int ret;

	switch (pol->kind) {
	case DAQS_CH_KIND_U8:
	case DAQS_CH_KIND_U16:
	case DAQS_CH_KIND_U32:
	case DAQS_CH_KIND_U64:
	case DAQS_CH_KIND_S64:
		if (a->len == int_len[pol->kind])
			return 0;
		fail(err, errlen, "attribute %u (%s) has length %u", a->type,
		     kind_names[pol->kind], a->len);
		return -1;
	case DAQS_CH_KIND_STRING:
		if (!a->len || a->len > pol->len || a->data[a->len - 1]) {
			fail(err, errlen,
			     "attribute %u (string) is not NUL-terminated within %u bytes",
			     a->type, pol->len);
			return -1;
		}
		return 0;
	case DAQS_CH_KIND_BINARY:
		if (a->len == pol->len)
			return 0;
		fail(err, errlen, "attribute %u has length %u, not %u", a->type,
		     a->len, pol->len);
		return -1;
	case DAQS_CH_KIND_NESTED:
		p = a->data;
		left = a->len;
		while ((ret = daqs_ch_attr_next(&p, &left, &in)) > 0)
			;
		if (!ret)
			return 0;
		fail(err, errlen, "attribute %u (nested) holds a truncated attribute",
		     a->type);
		return -1;
	default:
		fail(err, errlen, "attribute %u is not allowed here", a->type);
		return -1;
	}
}

int daqs_ch_parse(const uint8_t *p, size_t len,
		  const struct daqs_ch_policy *pol, unsigned int max,
		  uint64_t allowed, struct daqs_ch_nla *tb, char *err,
		  size_t errlen)
{
	struct daqs_ch_nla a;
	int ret;

	memset(tb, 0, (max + 1) * sizeof(*tb));
	while ((ret = daqs_ch_attr_next(&p, &len, &a)) > 0) {
		if (a.type > max || a.type >= 64 ||
		    !(allowed & DAQS_CH_BIT(a.type)) ||
		    pol[a.type].kind == DAQS_CH_KIND_NONE) {
			fail(err, errlen, "attribute %u is not allowed here",
			     a.type);
			return -1;
		}
		if (tb[a.type].data) {
			fail(err, errlen, "attribute %u appears twice", a.type);
			return -1;
		}
		if (check_value(&a, &pol[a.type], err, errlen))
			return -1;
		tb[a.type] = a;
	}
	if (ret < 0) {
		fail(err, errlen, "truncated attribute");
		return -1;
	}
	return 0;
}

uint8_t daqs_ch_get_u8(const struct daqs_ch_nla *a)
{
	return a->data[0];
}

uint16_t daqs_ch_get_u16(const struct daqs_ch_nla *a)
{
	return get_le16(a->data);
}

uint32_t daqs_ch_get_u32(const struct daqs_ch_nla *a)
{
	return get_le32(a->data);
}

uint64_t daqs_ch_get_u64(const struct daqs_ch_nla *a)
{
	return get_le64(a->data);
}

int64_t daqs_ch_get_s64(const struct daqs_ch_nla *a)
{
	return (int64_t)get_le64(a->data);
}

const char *daqs_ch_get_string(const struct daqs_ch_nla *a)
{
	return (const char *)a->data;
}

/* ---- messages ------------------------------------------------------------ */

static bool is_request_type(uint8_t type)
{
	return type == DAQS_CH_T_HELLO || type == DAQS_CH_T_GET ||
	       type == DAQS_CH_T_SET || type == DAQS_CH_T_DEL;
}

uint64_t daqs_ch_top_attrs(uint8_t type, uint16_t flags)
{
	bool reply = flags & DAQS_CH_F_REPLY;

	switch (type) {
	case DAQS_CH_T_HELLO:
		if (reply)
			return DAQS_CH_BIT(DAQS_CH_A_VERSION) |
			       DAQS_CH_BIT(DAQS_CH_A_PEER_NAME) |
			       DAQS_CH_BIT(DAQS_CH_A_MODULE) |
			       DAQS_CH_BIT(DAQS_CH_A_BINDING);
		return DAQS_CH_BIT(DAQS_CH_A_VERSION_MIN) |
		       DAQS_CH_BIT(DAQS_CH_A_VERSION_MAX) |
		       DAQS_CH_BIT(DAQS_CH_A_PEER_NAME);
	case DAQS_CH_T_GET:
		return DAQS_CH_BIT(DAQS_CH_A_BINDING);
	case DAQS_CH_T_SET:
	case DAQS_CH_T_DEL:
		return reply ? 0 : DAQS_CH_BIT(DAQS_CH_A_BINDING);
	case DAQS_CH_T_ERROR:
		return DAQS_CH_BIT(DAQS_CH_A_ERRNO) |
		       DAQS_CH_BIT(DAQS_CH_A_ERRMSG);
	case DAQS_CH_T_EVENT:
		return DAQS_CH_BIT(DAQS_CH_A_BINDING) |
		       DAQS_CH_BIT(DAQS_CH_A_AGENT_EVENT);
	default:
		return 0;
	}
}

uint64_t daqs_ch_binding_attrs(uint8_t type, uint16_t flags)
{
	bool reply = flags & DAQS_CH_F_REPLY;

	switch (type) {
	case DAQS_CH_T_HELLO:
		return reply ? DAQS_CH_SELECTORS : 0;
	case DAQS_CH_T_GET:
		return reply ? DAQS_CH_GET_REPLY_ATTRS : DAQS_CH_SELECTORS;
	case DAQS_CH_T_SET:
		return reply ? 0 : DAQS_CH_SELECTORS | DAQS_CH_SET_ATTRS;
	case DAQS_CH_T_DEL:
		return reply ? 0 : DAQS_CH_SELECTORS;
	case DAQS_CH_T_EVENT:
		return DAQS_CH_EVENT_ATTRS;
	default:
		return 0;
	}
}

int daqs_ch_binding_parse(const struct daqs_ch_nla *nest, uint8_t type,
			  uint16_t flags, struct daqs_ch_nla tb[DAQS_A_MAX + 1],
			  char *err, size_t errlen)
{
	struct daqs_ch_nla stats[DAQS_STATS_A_MAX + 1];
	char why[DAQS_CH_ERRMSG_MAX - 32];
	unsigned int nsel = 0, i;

	if (daqs_ch_parse(nest->data, nest->len, daqs_ch_binding_policy,
			  DAQS_A_MAX, daqs_ch_binding_attrs(type, flags), tb,
			  why, sizeof(why))) {
		fail(err, errlen, "binding: %s", why);
		return -1;
	}
	if (tb[DAQS_A_STATS].data &&
	    daqs_ch_parse(tb[DAQS_A_STATS].data, tb[DAQS_A_STATS].len,
			  daqs_ch_stats_policy, DAQS_STATS_A_MAX,
			  DAQS_CH_STATS_ATTRS, stats, why, sizeof(why))) {
		fail(err, errlen, "binding: stats: %s", why);
		return -1;
	}
	if (!(flags & DAQS_CH_F_REPLY) && is_request_type(type)) {
		for (i = 0; i <= DAQS_A_MAX; i++)
			if ((DAQS_CH_SELECTORS & DAQS_CH_BIT(i)) && tb[i].data)
				nsel++;
		if (nsel > 1) {
			fail(err, errlen,
			     "binding: more than one device selector (ifindex, ifname, mac)");
			return -1;
		}
	}
	return 0;
}

static int check_flags(const struct daqs_ch_frame *f, char *err,
		       size_t errlen)
{
	uint16_t ok;

	if (is_request_type(f->type))
		ok = f->type == DAQS_CH_T_GET ? __DAQS_CH_F_ALL : DAQS_CH_F_REPLY;
	else
		ok = 0;
	if ((f->flags & DAQS_CH_F_MORE) && !(f->flags & DAQS_CH_F_REPLY))
		ok = 0;
	if (!(f->flags & ~ok))
		return 0;
	fail(err, errlen, "flags 0x%x are not valid on this message type",
	     f->flags);
	return -1;
}

int daqs_ch_msg_parse(const struct daqs_ch_frame *f,
		      struct daqs_ch_nla tb[DAQS_CH_A_MAX + 1], int *errnum,
		      char *err, size_t errlen)
{
	struct daqs_ch_nla btb[DAQS_A_MAX + 1], a;
	const uint8_t *p = f->payload;
	size_t left = f->len;
	bool first = true;
	int ret;

	memset(tb, 0, (DAQS_CH_A_MAX + 1) * sizeof(*tb));
	*errnum = EINVAL;
	if (f->type < 1 || f->type > DAQS_CH_T_MAX) {
		*errnum = EOPNOTSUPP;
		fail(err, errlen, "unknown message type %u", f->type);
		return -1;
	}
	if (check_flags(f, err, errlen))
		return -1;

	if (f->type == DAQS_CH_T_GET && (f->flags & DAQS_CH_F_REPLY)) {
		/* a list of bindings: each one checked, the first kept */
		while ((ret = daqs_ch_attr_next(&p, &left, &a)) > 0) {
			if (a.type != DAQS_CH_A_BINDING) {
				fail(err, errlen, "attribute %u is not allowed here",
				     a.type);
				return -1;
			}
			if (daqs_ch_binding_parse(&a, f->type, f->flags, btb,
						  err, errlen))
				return -1;
			if (first)
				tb[DAQS_CH_A_BINDING] = a;
			first = false;
		}
		if (ret < 0) {
			fail(err, errlen, "truncated attribute");
			return -1;
		}
		return 0;
	}

	if (daqs_ch_parse(p, left, daqs_ch_top_policy, DAQS_CH_A_MAX,
			  daqs_ch_top_attrs(f->type, f->flags), tb, err, errlen))
		return -1;
	if (tb[DAQS_CH_A_BINDING].data &&
	    daqs_ch_binding_parse(&tb[DAQS_CH_A_BINDING], f->type, f->flags,
				  btb, err, errlen))
		return -1;

	switch (f->type) {
	case DAQS_CH_T_SET:
		if (!(f->flags & DAQS_CH_F_REPLY) && !tb[DAQS_CH_A_BINDING].data) {
			fail(err, errlen, "SET without a binding attribute");
			return -1;
		}
		break;
	case DAQS_CH_T_HELLO:
		if ((f->flags & DAQS_CH_F_REPLY) && !tb[DAQS_CH_A_VERSION].data) {
			fail(err, errlen, "HELLO reply without a version");
			return -1;
		}
		break;
	case DAQS_CH_T_ERROR:
		if (!tb[DAQS_CH_A_ERRNO].data) {
			fail(err, errlen, "ERROR without an errno");
			return -1;
		}
		break;
	case DAQS_CH_T_EVENT:
		if (!tb[DAQS_CH_A_BINDING].data == !tb[DAQS_CH_A_AGENT_EVENT].data) {
			fail(err, errlen,
			     "EVENT needs exactly one of binding and agent event");
			return -1;
		}
		break;
	}
	return 0;
}

const char *daqs_ch_type_name(uint8_t type, char *buf, size_t len)
{
	static const char *const names[] = {
		[DAQS_CH_T_HELLO] = "HELLO", [DAQS_CH_T_GET] = "GET",
		[DAQS_CH_T_SET] = "SET", [DAQS_CH_T_DEL] = "DEL",
		[DAQS_CH_T_ERROR] = "ERROR", [DAQS_CH_T_EVENT] = "EVENT",
	};

	if (type < sizeof(names) / sizeof(names[0]) && names[type])
		return names[type];
	snprintf(buf, len, "type %u", type);
	return buf;
}
