// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * libFuzzer target for daqsd/channel.c: the stream decoder and the message
 * parsers, i.e. everything a peer's bytes reach.
 *
 * The input is used twice:
 *  1. as a byte stream, fed in chunks whose sizes come from the first byte,
 *     with the decoder's invariants checked after every step and every
 *     decoded frame parsed as a message;
 *  2. as a frame payload of every type and flag combination, so the
 *     attribute parsers are reached without the fuzzer having to forge
 *     CRC32C checksums.
 * Seeds: tests/fuzz/corpus/channel/ (one frame of each message type).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "channel.h"

static struct daqs_ch_decoder dec;

#define CHECK(c) do { if (!(c)) abort(); } while (0)

static void parse_message(const struct daqs_ch_frame *f)
{
	struct daqs_ch_nla tb[DAQS_CH_A_MAX + 1], btb[DAQS_A_MAX + 1], a;
	char err[DAQS_CH_ERRMSG_MAX];
	const uint8_t *p;
	size_t left;
	int errnum;

	if (daqs_ch_msg_parse(f, tb, &errnum, err, sizeof(err))) {
		CHECK(errnum > 0);
		CHECK(memchr(err, '\0', sizeof(err)));
		return;
	}
	/* a valid message: every binding in it parses again on its own */
	p = f->payload;
	left = f->len;
	while (daqs_ch_attr_next(&p, &left, &a) > 0) {
		if (a.type != DAQS_CH_A_BINDING)
			continue;
		CHECK(!daqs_ch_binding_parse(&a, f->type, f->flags, btb, err,
					     sizeof(err)));
		if (btb[DAQS_A_IFNAME].data)
			CHECK(strlen(daqs_ch_get_string(&btb[DAQS_A_IFNAME])) <
			      btb[DAQS_A_IFNAME].len);
	}
	if (tb[DAQS_CH_A_ERRMSG].data)
		CHECK(strlen(daqs_ch_get_string(&tb[DAQS_CH_A_ERRMSG])) <
		      DAQS_CH_ERRMSG_MAX);
}

static void as_stream(const uint8_t *data, size_t size)
{
	size_t chunk, off = 0, k, frame_bytes = 0;
	struct daqs_ch_frame f;
	enum daqs_ch_dec_result r;
	bool abandon;

	if (!size)
		return;
	chunk = (data[0] & 0x3f) + 1;
	abandon = data[0] & 0x40;
	data++;
	size--;
	daqs_ch_dec_init(&dec);
	while (off < size) {
		k = daqs_ch_dec_feed(&dec, data + off,
				     size - off < chunk ? size - off : chunk);
		off += k;
		while ((r = daqs_ch_dec_next(&dec, &f)) != DAQS_CH_DEC_NEED) {
			CHECK(f.len <= DAQS_CH_PAYLOAD_MAX ||
			      r == DAQS_CH_DEC_TOO_LONG);
			if (r == DAQS_CH_DEC_FRAME || r == DAQS_CH_DEC_BAD_VERSION) {
				/* the frame lies within the decoder's buffer */
				CHECK(f.payload >= dec.buf + DAQS_CH_HDR_LEN);
				CHECK(f.payload + f.len <= dec.buf + sizeof(dec.buf));
				frame_bytes += DAQS_CH_HDR_LEN + f.len;
			}
			if (r == DAQS_CH_DEC_FRAME)
				parse_message(&f);
		}
		CHECK(daqs_ch_dec_pending(&dec) <= DAQS_CH_FRAME_MAX);
		CHECK(dec.stats.bytes == off);
		CHECK(dec.stats.skipped + frame_bytes +
		      daqs_ch_dec_pending(&dec) == off);
		/* a full buffer must have made room */
		CHECK(k || daqs_ch_dec_pending(&dec) < DAQS_CH_FRAME_MAX);
	}
	if (abandon)
		while (daqs_ch_dec_abandon(&dec))
			while (daqs_ch_dec_next(&dec, &f) != DAQS_CH_DEC_NEED)
				;
}

static void as_payload(const uint8_t *data, size_t size)
{
	static const uint16_t flags[] = {
		0, DAQS_CH_F_REPLY, DAQS_CH_F_REPLY | DAQS_CH_F_MORE,
	};
	struct daqs_ch_frame f = { .version = DAQS_CH_VERSION };
	unsigned int t, i;

	if (size > DAQS_CH_PAYLOAD_MAX)
		size = DAQS_CH_PAYLOAD_MAX;
	f.payload = data;
	f.len = (uint32_t)size;
	for (t = 1; t <= DAQS_CH_T_MAX; t++)
		for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
			f.type = (uint8_t)t;
			f.flags = flags[i];
			parse_message(&f);
		}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	as_stream(data, size);
	as_payload(data, size);
	return 0;
}
