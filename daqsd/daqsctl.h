/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * daqsctl: the guest-side command line for the daqs generic netlink family,
 * and on the host `daqsctl vms`, which asks daqsd over its control socket.
 *
 * Three layers, so the first two can be unit-tested without a kernel:
 *   daqsctl_parse.c   argv -> plain request structs (no I/O)
 *   daqsctl_format.c  plain reply structs -> text or JSON on a FILE *
 *   daqsctl_nl.c and one file per command: the netlink I/O
 *
 * The client checks syntax and that a value fits its attribute; the kernel
 * checks meaning (qlimit range, lease needs a fallback, ...) and says why in
 * its extack message, which daqsctl prints. One rule, one place.
 */
#ifndef DAQSCTL_H
#define DAQSCTL_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <linux/daqs.h>

#define DAQSCTL_PROG "daqsctl"

/* Parser results. Both mean exit status 1; only a usage error shows usage. */
#define DAQSCTL_PARSE_OK 0
#define DAQSCTL_PARSE_USAGE (-1)	/* unknown keyword, missing value */
#define DAQSCTL_PARSE_INVALID (-2)	/* a value that does not parse */

#define DAQSCTL_ERRLEN 256

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#endif

enum daqsctl_sel_type {
	DAQSCTL_SEL_NONE,
	DAQSCTL_SEL_DEV,	/* sent as DAQS_A_IFNAME */
	DAQSCTL_SEL_MAC,	/* sent as DAQS_A_MAC */
};

struct daqsctl_selector {
	enum daqsctl_sel_type type;
	char ifname[IFNAMSIZ];
	uint8_t mac[DAQS_MAC_LEN];
};

struct daqsctl_opts {
	bool json;
};

/* what main() should do after the global options */
enum daqsctl_action {
	DAQSCTL_RUN,		/* run the command at argv[*cmd_index] */
	DAQSCTL_HELP,
	DAQSCTL_VERSION,
};

struct daqs_show_req {
	struct daqsctl_selector sel;	/* DAQSCTL_SEL_NONE: dump all */
};

struct daqs_del_req {
	struct daqsctl_selector sel;
};

/* daqsd's control socket, as in daqsd.conf's control_socket */
#define DAQSCTL_DAQSD_SOCKET "/run/daqsd.sock"

struct daqs_vms_req {
	char socket[108];		/* sizeof(sun_path) */
	bool json;			/* -j after the command, too */
};

/* which fields of a set request were given; others keep their value */
enum {
	DAQS_SET_HAS_RATE = 1U << 0,
	DAQS_SET_HAS_BURST = 1U << 1,
	DAQS_SET_HAS_MODE = 1U << 2,
	DAQS_SET_HAS_QLIMIT = 1U << 3,
	DAQS_SET_HAS_LEASE = 1U << 4,
	DAQS_SET_HAS_FALLBACK = 1U << 5,
	DAQS_SET_HAS_FLAGS = 1U << 6,
};

struct daqs_set_req {
	struct daqsctl_selector sel;
	unsigned int has;		/* DAQS_SET_HAS_* */
	uint64_t rate_bps;
	uint32_t burst_bytes;
	uint8_t mode;			/* enum daqs_mode */
	uint32_t qlimit_us;
	uint32_t lease_ms;
	uint64_t fallback_bps;
	uint32_t set_flags;		/* enum daqs_set_flag */
};

/*
 * One GET reply or EVENT, decoded. A field is valid only if its attribute
 * was present: DAQSCTL_HAS(b, DAQS_A_RATE_BPS), DAQSCTL_STATS_HAS(b, ...).
 * Absent fields are left out of every output format.
 */
struct daqs_stats_info {
	uint32_t present;		/* 1U << DAQS_STATS_A_* */
	uint64_t timestamp_ns;
	uint64_t tx_bytes;
	uint64_t tx_packets;
	uint64_t tx_wire_bytes;
	uint64_t tx_wire_packets;
	uint64_t drops_police;
	uint64_t drops_qlimit;
	uint64_t drops_detach;
	uint64_t throttled;
	int64_t tokens;
	uint32_t queued;
};

struct daqs_binding_info {
	uint64_t present;		/* 1ULL << DAQS_A_* */
	uint8_t event;			/* enum daqs_event */
	uint32_t ifindex;
	char ifname[IFNAMSIZ];
	uint8_t mac[DAQS_MAC_LEN];
	uint8_t state;			/* enum daqs_state */
	uint64_t rate_bps;
	uint32_t burst_bytes;
	uint8_t mode;			/* enum daqs_mode */
	uint32_t qlimit_us;
	uint32_t lease_ms;
	uint64_t fallback_bps;
	uint32_t lease_left_ms;
	uint8_t lease_state;		/* enum daqs_lease_state */
	uint64_t set_rate_bps;
	struct daqs_stats_info stats;	/* valid if DAQSCTL_HAS(b, DAQS_A_STATS) */
};

_Static_assert(DAQS_A_MAX < 64, "present mask too small");
_Static_assert(DAQS_STATS_A_MAX < 32, "stats present mask too small");

#define DAQSCTL_HAS(b, attr) (!!((b)->present & (1ULL << (attr))))
#define DAQSCTL_STATS_HAS(b, attr) (!!((b)->stats.present & (1U << (attr))))

/* daqsctl_parse.c */
int daqsctl_parse_global(int argc, char **argv, struct daqsctl_opts *opts,
			 enum daqsctl_action *action, int *cmd_index,
			 char *err, size_t errlen);
/* argv[0] is the command name, as in main() */
int daqsctl_parse_show(int argc, char **argv, struct daqs_show_req *out,
		       char *err, size_t errlen);
int daqsctl_parse_set(int argc, char **argv, struct daqs_set_req *out,
		      char *err, size_t errlen);
int daqsctl_parse_del(int argc, char **argv, struct daqs_del_req *out,
		      char *err, size_t errlen);
int daqsctl_parse_monitor(int argc, char **argv, char *err, size_t errlen);
int daqsctl_parse_vms(int argc, char **argv, struct daqs_vms_req *out,
		      char *err, size_t errlen);
/* the text after "Usage: daqsctl " for cmd; the general one if unknown */
const char *daqsctl_usage(const char *cmd);
/* "device 'eth0'" or "MAC '52:54:00:12:34:56'", for messages */
const char *daqsctl_selector_name(const struct daqsctl_selector *sel,
				  char *buf, size_t len);

/* daqsctl_format.c */
const char *daqsctl_state_name(unsigned int state);
const char *daqsctl_mode_name(unsigned int mode);
const char *daqsctl_lease_state_name(unsigned int lease_state);
const char *daqsctl_event_name(unsigned int event);
/* show: one block (pretty) or one JSON object, no trailing newline for JSON */
void daqsctl_format_binding(FILE *f, const struct daqs_binding_info *b,
			    bool json);
/* show: all of them; blank-line separated, or a JSON array; ends in '\n' */
void daqsctl_format_bindings(FILE *f, const struct daqs_binding_info *b,
			     size_t n, bool json);
/* monitor: exactly one line, ending in '\n' */
void daqsctl_format_event(FILE *f, const struct daqs_binding_info *b,
			  bool json);
/* order of show: by name (eth2 before eth10), then MAC */
int daqsctl_binding_cmp(const void *a, const void *b);
/* s as a JSON string; bytes outside printable ASCII as \u00XX */
void daqsctl_json_string(FILE *f, const char *s);

#endif /* DAQSCTL_H */
