// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Output of show and monitor.
 *
 * Pretty: "key value" pairs, every key unique in a binding, so one awk or
 * grep per value works on it as well as on tc -s. Numbers that a user sets
 * are printed in the same units the parser reads (200Mbit, 64KiB, 50ms);
 * counters are exact integers, to be compared with ip -s link.
 *
 *   dev eth0 mac 52:54:00:12:34:56 ifindex 2 state attached
 *     rate 200Mbit burst 64KiB mode shape qlimit 50ms
 *     lease 2s fallback 10Mbit lease-state active lease-left 1.5s set-rate 200Mbit
 *     tx-bytes 1500 tx-packets 1 tx-wire-bytes 1500 tx-wire-packets 1
 *     drops-police 0 drops-qlimit 0 drops-detach 0 throttled 0 tokens 65536 queued 0
 *
 * A monitor event is the same pairs on one line after "event NAME".
 *
 * JSON: the attribute names of daqs.h in lower case (rate_bps, stats.tx_bytes,
 * ...), numbers as JSON numbers in the attribute's unit, enums as their name
 * in lower case (a value this program does not know: as a number).
 */
#include "daqsctl.h"
#include "units.h"

#include <stdarg.h>
#include <string.h>

static const char *const state_names[] = {
	[DAQS_STATE_ATTACHED] = "attached",
	[DAQS_STATE_ABSENT] = "absent",
};

static const char *const mode_names[] = {
	[DAQS_MODE_SHAPE] = "shape",
	[DAQS_MODE_POLICE] = "police",
};

static const char *const lease_state_names[] = {
	[DAQS_LEASE_NONE] = "none",
	[DAQS_LEASE_ACTIVE] = "active",
	[DAQS_LEASE_EXPIRED] = "expired",
};

static const char *const event_names[] = {
	[DAQS_EVENT_UNSPEC] = NULL,
	[DAQS_EVENT_ATTACHED] = "attached",
	[DAQS_EVENT_DETACHED] = "detached",
	[DAQS_EVENT_LIMIT_CHANGED] = "limit_changed",
	[DAQS_EVENT_LEASE_EXPIRED] = "lease_expired",
	[DAQS_EVENT_DEVICE_GONE] = "device_gone",
	[DAQS_EVENT_DEVICE_BACK] = "device_back",
};

_Static_assert(ARRAY_SIZE(state_names) == __DAQS_STATE_MAX, "state names");
_Static_assert(ARRAY_SIZE(mode_names) == __DAQS_MODE_MAX, "mode names");
_Static_assert(ARRAY_SIZE(lease_state_names) == __DAQS_LEASE_MAX,
	       "lease state names");
_Static_assert(ARRAY_SIZE(event_names) == __DAQS_EVENT_MAX, "event names");

#define ENUM_NAME(table, v) ((v) < ARRAY_SIZE(table) ? (table)[v] : NULL)

const char *daqsctl_state_name(unsigned int state)
{
	return ENUM_NAME(state_names, state);
}

const char *daqsctl_mode_name(unsigned int mode)
{
	return ENUM_NAME(mode_names, mode);
}

const char *daqsctl_lease_state_name(unsigned int lease_state)
{
	return ENUM_NAME(lease_state_names, lease_state);
}

const char *daqsctl_event_name(unsigned int event)
{
	return ENUM_NAME(event_names, event);
}

/*
 * One writer for both formats: pretty separates pairs with a space and
 * groups with group_sep; JSON writes "key":value with commas.
 */
struct out {
	FILE *f;
	bool json;
	const char *group_sep;	/* pretty only */
	bool first;
	bool new_group;
};

static void sep(struct out *o)
{
	if (o->first)
		o->first = false;
	else if (o->json)
		fputc(',', o->f);
	else
		fputs(o->new_group ? o->group_sep : " ", o->f);
	o->new_group = false;
}

static void group(struct out *o)
{
	o->new_group = true;
}

void daqsctl_json_string(FILE *f, const char *s)
{
	const unsigned char *p;

	fputc('"', f);
	for (p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20 || *p >= 0x7f)
			/* interface names are bytes, not UTF-8: keep it valid */
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

static void key(struct out *o, const char *pretty, const char *json)
{
	sep(o);
	if (o->json) {
		daqsctl_json_string(o->f, json);
		fputc(':', o->f);
	} else {
		fprintf(o->f, "%s ", pretty);
	}
}

/* a value that is a string in JSON and a bare word in pretty output */
static void put_str(struct out *o, const char *pretty, const char *json,
		    const char *v)
{
	key(o, pretty, json);
	if (o->json)
		daqsctl_json_string(o->f, v);
	else
		fputs(v, o->f);
}

static void put_u64(struct out *o, const char *pretty, const char *json,
		    uint64_t v)
{
	key(o, pretty, json);
	fprintf(o->f, "%llu", (unsigned long long)v);
}

static void put_s64(struct out *o, const char *pretty, const char *json,
		    int64_t v)
{
	key(o, pretty, json);
	fprintf(o->f, "%lld", (long long)v);
}

static void put_enum(struct out *o, const char *pretty, const char *json,
		     const char *name, unsigned int v)
{
	key(o, pretty, json);
	if (name && o->json)
		daqsctl_json_string(o->f, name);
	else if (name)
		fputs(name, o->f);
	else if (o->json)
		fprintf(o->f, "%u", v);
	else
		fprintf(o->f, "unknown(%u)", v);
}

/* pretty: text, in the unit a user would type; JSON: the raw number */
static void put_unit(struct out *o, const char *pretty, const char *json,
		     uint64_t v, const char *text)
{
	if (o->json)
		put_u64(o, pretty, json, v);
	else
		put_str(o, pretty, json, text);
}

static void put_rate(struct out *o, const char *pretty, const char *json,
		     uint64_t bps)
{
	char buf[DAQS_FMT_LEN];

	put_unit(o, pretty, json, bps, daqs_format_rate(buf, sizeof(buf), bps));
}

static void put_size(struct out *o, const char *pretty, const char *json,
		     uint32_t bytes)
{
	char buf[DAQS_FMT_LEN];

	put_unit(o, pretty, json, bytes,
		 daqs_format_size(buf, sizeof(buf), bytes));
}

static void put_time(struct out *o, const char *pretty, const char *json,
		     uint32_t v, uint32_t unit_ns)
{
	char buf[DAQS_FMT_LEN];

	put_unit(o, pretty, json, v,
		 daqs_format_time(buf, sizeof(buf), v, unit_ns));
}

#define HAS(a) DAQSCTL_HAS(b, DAQS_A_##a)
#define SHAS(a) DAQSCTL_STATS_HAS(b, DAQS_STATS_A_##a)

static void put_lease(struct out *o, const struct daqs_binding_info *b)
{
	/* no lease: the other lease fields say nothing */
	if (!o->json && HAS(LEASE_MS) && !b->lease_ms &&
	    (!HAS(LEASE_STATE) || b->lease_state == DAQS_LEASE_NONE)) {
		put_str(o, "lease", "lease_ms", "none");
		return;
	}
	if (HAS(LEASE_MS))
		put_time(o, "lease", "lease_ms", b->lease_ms, 1000000U);
	if (HAS(FALLBACK_BPS))
		put_rate(o, "fallback", "fallback_bps", b->fallback_bps);
	/* JSON keeps the order of the attributes in daqs.h */
	if (HAS(LEASE_LEFT_MS) && o->json)
		put_u64(o, "lease-left", "lease_left_ms", b->lease_left_ms);
	if (HAS(LEASE_STATE))
		put_enum(o, "lease-state", "lease_state",
			 daqsctl_lease_state_name(b->lease_state),
			 b->lease_state);
	if (HAS(LEASE_LEFT_MS) && !o->json)
		put_time(o, "lease-left", "lease_left_ms", b->lease_left_ms,
			 1000000U);
	if (HAS(SET_RATE_BPS))
		put_rate(o, "set-rate", "set_rate_bps", b->set_rate_bps);
}

static void put_stats(struct out *o, const struct daqs_binding_info *b)
{
	struct out inner = *o;

	if (o->json) {
		key(o, "stats", "stats");
		fputc('{', o->f);
		inner.first = true;
		o = &inner;
	} else {
		group(o);
	}
	if (SHAS(TIMESTAMP_NS) && o->json)
		put_u64(o, "timestamp", "timestamp_ns", b->stats.timestamp_ns);
	if (SHAS(TX_BYTES))
		put_u64(o, "tx-bytes", "tx_bytes", b->stats.tx_bytes);
	if (SHAS(TX_PACKETS))
		put_u64(o, "tx-packets", "tx_packets", b->stats.tx_packets);
	if (SHAS(TX_WIRE_BYTES))
		put_u64(o, "tx-wire-bytes", "tx_wire_bytes",
			b->stats.tx_wire_bytes);
	if (SHAS(TX_WIRE_PACKETS))
		put_u64(o, "tx-wire-packets", "tx_wire_packets",
			b->stats.tx_wire_packets);
	group(o);
	if (SHAS(DROPS_POLICE))
		put_u64(o, "drops-police", "drops_police",
			b->stats.drops_police);
	if (SHAS(DROPS_QLIMIT))
		put_u64(o, "drops-qlimit", "drops_qlimit",
			b->stats.drops_qlimit);
	if (SHAS(DROPS_DETACH))
		put_u64(o, "drops-detach", "drops_detach",
			b->stats.drops_detach);
	if (SHAS(THROTTLED))
		put_u64(o, "throttled", "throttled", b->stats.throttled);
	if (SHAS(TOKENS))
		put_s64(o, "tokens", "tokens", b->stats.tokens);
	if (SHAS(QUEUED))
		put_u64(o, "queued", "queued", b->stats.queued);
	if (o->json)
		fputc('}', o->f);
}

static void put_binding(struct out *o, const struct daqs_binding_info *b,
			bool with_stats)
{
	char mac[DAQS_FMT_LEN];

	/* pretty starts with what selects it: "dev eth0" */
	if (HAS(IFNAME) && !o->json)
		put_str(o, "dev", "ifname", b->ifname);
	if (HAS(MAC) && !o->json)
		put_str(o, "mac", "mac", daqs_format_mac(mac, sizeof(mac), b->mac));
	if (HAS(IFINDEX))
		put_u64(o, "ifindex", "ifindex", b->ifindex);
	if (HAS(IFNAME) && o->json)
		put_str(o, "dev", "ifname", b->ifname);
	if (HAS(MAC) && o->json)
		put_str(o, "mac", "mac", daqs_format_mac(mac, sizeof(mac), b->mac));
	if (HAS(STATE))
		put_enum(o, "state", "state", daqsctl_state_name(b->state),
			 b->state);
	group(o);
	if (HAS(RATE_BPS))
		put_rate(o, "rate", "rate_bps", b->rate_bps);
	if (HAS(BURST_BYTES))
		put_size(o, "burst", "burst_bytes", b->burst_bytes);
	if (HAS(MODE))
		put_enum(o, "mode", "mode", daqsctl_mode_name(b->mode), b->mode);
	if (HAS(QLIMIT_US))
		put_time(o, "qlimit", "qlimit_us", b->qlimit_us, 1000U);
	group(o);
	put_lease(o, b);
	if (with_stats && HAS(STATS))
		put_stats(o, b);
}

void daqsctl_format_binding(FILE *f, const struct daqs_binding_info *b,
			    bool json)
{
	struct out o = { .f = f, .json = json, .group_sep = "\n  ",
			 .first = true };

	if (json)
		fputc('{', f);
	put_binding(&o, b, true);
	fputs(json ? "}" : "\n", f);
}

void daqsctl_format_bindings(FILE *f, const struct daqs_binding_info *b,
			     size_t n, bool json)
{
	size_t i;

	if (json)
		fputc('[', f);
	for (i = 0; i < n; i++) {
		if (i)
			fputs(json ? "," : "\n", f);
		daqsctl_format_binding(f, &b[i], json);
	}
	if (json)
		fputs("]\n", f);
}

void daqsctl_format_event(FILE *f, const struct daqs_binding_info *b,
			  bool json)
{
	struct out o = { .f = f, .json = json, .group_sep = " ",
			 .first = true };

	if (json)
		fputc('{', f);
	if (HAS(EVENT))
		put_enum(&o, "event", "event", daqsctl_event_name(b->event),
			 b->event);
	put_binding(&o, b, false);
	fputs(json ? "}\n" : "\n", f);
}

int daqsctl_binding_cmp(const void *pa, const void *pb)
{
	const struct daqs_binding_info *a = pa, *b = pb;
	/* version order, so eth2 comes before eth10 */
	int r = strverscmp(a->ifname, b->ifname);

	return r ? r : memcmp(a->mac, b->mac, sizeof(a->mac));
}
