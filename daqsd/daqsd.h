/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * daqsd: the host daemon of daqs. It finds each VM's channel (libvirt's
 * directory, watched with inotify, and the sockets its configuration
 * names), speaks the channel protocol to the VM's daqs-agent, and once a
 * tick reads every VM's counters, runs the allocator and pushes the limits
 * that changed, each with a lease.
 *
 *   daqsd.c           options, configuration and reloads, the tick, status
 *   daqsd_vm.c        one VM's socket: connect, read, write, back off
 *   session.c         one VM's protocol, without I/O (tested on its own)
 *   daqsd_discover.c  libvirt's channel directory, with inotify
 *   daqsd_control.c   the control socket (daqsctl vms)
 *   daqsd_link.c      the PF's speed: ethtool ioctl, or sysfs
 *   daqsd_vf.c        the VFs' host counters and caps, over rtnetlink
 *   daqsd_verify.c    each VM's counters against its VF's (verify.h), caps
 *   daqsd_log.c       stderr lines for journald
 *
 * One sd-event loop, no threads: every socket is non-blocking, every buffer
 * bounded, every wait has a timeout, so a guest that misbehaves costs only
 * itself (and a bounded share of one CPU).
 */
#ifndef DAQSD_H
#define DAQSD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <systemd/sd-event.h>

#include "alloc.h"
#include "config.h"
#include "session.h"
#include "ticklat.h"
#include "verify.h"

#define DAQSD_PROG "daqsd"

/* reconnecting to a VM's socket: 100 ms, doubling up to 5 s */
#define DAQSD_BACKOFF_MIN_MS 100U
#define DAQSD_BACKOFF_MAX_MS 5000U
/* an agent that speaks no version of ours is asked again this rarely */
#define DAQSD_INCOMPATIBLE_RETRY_MS 60000U
/* bytes read from one VM per tick; beyond, it waits for the next tick */
#define DAQSD_READ_BUDGET (256U * 1024U)
/* channel directory, link speed, STATUS=: looked at this often */
#define DAQSD_HOUSEKEEPING_MS 1000U
#define DAQSD_LINK_POLL_MS 5000U
/* the answers to a tick's GETs are waited for this part of a tick */
#define DAQSD_COLLECT_DIV 5U
/* one line per VM per this long about its limit */
#define DAQSD_DECISION_LOG_MS 1000U
/* control socket: clients at once, and how long one may take */
#define DAQSD_CLIENTS_MAX 16U
#define DAQSD_CLIENT_TIMEOUT_MS 5000U
/* the name of the channel inside libvirt's per-domain directory */
#define DAQSD_LIBVIRT_DIR_PREFIX "domain-"

enum daqsd_vm_source {
	DAQSD_VM_CONFIG,	/* socket = ... in its [vm] section */
	DAQSD_VM_LIBVIRT,	/* found in the channel directory */
};

struct daqsd;

/*
 * A VM's VF (vf = PF:INDEX in its section): its host counters checked
 * against what the guest reports and the limit it was given (verify.h),
 * and the VF's max_tx_rate, which daqsd owns (daqsd_verify.c).
 */
struct daqsd_vm_vf {
	bool on;			/* vf = in its section */
	char pf[DAQS_IFNAME_MAX + 1];
	uint32_t index;
	struct daqs_verify v;
	enum daqs_verify_guest guest;	/* as in the last sample */
	uint64_t last_guest_ts;		/* of the last guest reading taken */

	/* the host's reading of the last tick */
	bool host_ok;			/* the PF's last answer has the VF */
	bool host_fresh;		/* ... and it is new this tick */
	bool hooked;			/* tx_bytes from DAQSD_TEST_VF_STATS */
	uint64_t host_gen;		/* the PF answer it came from */
	uint64_t host_ns;
	uint64_t host_tx_bytes;
	char err[160];			/* !host_ok: why */
	char logged_err[160];

	/* the hardware cap, in Mbit/s as IFLA_VF_RATE has it; 0: none */
	bool cap_known;			/* seen_* read from the PF */
	uint32_t seen_mbit, seen_min_mbit;
	uint32_t want_mbit;		/* what daqsd wants in force */
	bool cap_pending;		/* an RTM_SETLINK not answered yet */
	bool have_acked;
	uint32_t acked_mbit;		/* the last one the PF accepted ... */
	uint64_t acked_ns;		/* ... at this time */
	uint64_t cap_retry_ms;		/* after a failure, not before */
	uint64_t cap_sets, cap_errors;
	char cap_err[96];
	uint64_t cap_log_ms;

	/* the log: one line per change of verdict, at most one a second */
	enum daqs_verdict logged;
	unsigned int changes;		/* since the last line */
	uint64_t log_ms;
};

struct daqsd_vm {
	struct daqsd *d;
	enum daqsd_vm_source source;
	char path[DAQS_SOCK_PATH_MAX + 1];
	bool has_conf;			/* a [vm NAME] section */
	struct daqs_vm_conf conf;
	bool mark;			/* discovery: still there */

	/* the socket */
	int fd;
	uint32_t ep_events;		/* in d->vm_ep with these; 0: not */
	sd_event_source *timer;
	uint64_t timer_at_ms;		/* when it fires; 0: off */
	uint64_t backoff_ms;
	uint64_t retry_at_ms;		/* while not connected */
	int connect_errno;		/* last logged failure */
	uint64_t rx_budget;		/* bytes left to read this tick */
	bool throttled;			/* budget spent: reading waits */
	bool in_round;			/* the tick waits for its answer */
	bool pulled;			/* this connection pulled a tick */
	uint64_t throttles;
	uint64_t rx_bytes;
	/* the tick latency: bytes up to the end of the last SET still to write */
	size_t set_left;
	uint64_t set_tick;		/* the tick that SET belongs to */

	/* the allocator's view */
	struct daqs_vm_alloc st;
	bool present;
	bool rate_known;
	uint64_t rate_bps;
	uint64_t limit_bps;		/* allocated this tick */
	uint64_t fallback_bps;

	/* the decision log */
	uint64_t logged_limit_bps;
	uint64_t prev_limit_bps;	/* last tick's */
	uint64_t log_ms;
	unsigned int unlogged;		/* changes since the last line */

	/* source config, no socket: a libvirt channel found for it */
	bool adopted;
	struct daqsd_vm_vf vf;

	struct daqsd_sess sess;		/* the name is sess.name */
};

struct daqsd_watch {
	int wd;
	char *path;
	bool mark;
};

struct daqsd_client;
struct nl_sock;

/* a PF as its last RTM_GETLINK answer showed it (daqsd_vf.c) */
struct daqsd_vf_info {
	bool valid;			/* the PF reported it */
	bool hooked;			/* tx_bytes from the test hook */
	uint64_t tx_bytes;		/* IFLA_VF_STATS_TX_BYTES */
	uint32_t max_tx_rate;		/* Mbit/s; 0: none */
	uint32_t min_tx_rate;
};

struct daqsd_pf {
	char name[DAQS_IFNAME_MAX + 1];
	int ifindex;			/* 0: not known */
	bool mark;
	bool asked;			/* a request on its way */
	uint32_t seq;
	uint64_t asked_ms;
	bool valid;			/* the last answer was good */
	int err;
	char why[160];			/* !valid: why */
	uint64_t ns;			/* CLOCK_MONOTONIC of the last answer */
	uint64_t gen;			/* answers and failures so far */
	uint64_t answers;
	uint32_t num_vf;
	struct daqsd_vf_info *vfs;	/* num_vf of them */
	size_t cap_vfs;
};

/* an RTM_SETLINK of a VF's rate, until its answer */
#define DAQSD_CAP_REQS_MAX 64U
struct daqsd_cap_req {
	uint32_t seq;
	char pf[DAQS_IFNAME_MAX + 1];
	uint32_t vf;
	uint32_t mbit;
	uint64_t sent_ms;
	char vm[64];
};

struct daqsd_vfmon {
	struct nl_sock *sk;		/* NULL: not open */
	sd_event_source *src;
	uint64_t retry_ms;		/* opening failed: not before */
	char err[160];
	bool recv_err_logged;
	const char *hook;		/* DAQSD_TEST_VF_STATS, or NULL */
	struct daqsd_pf *pfs;
	size_t n_pfs, cap_pfs;
	struct daqsd_cap_req reqs[DAQSD_CAP_REQS_MAX];
	size_t n_reqs;
	uint64_t slow_max_us;		/* the slowest round of requests */
	uint64_t slow_log_ms;
};

struct daqsd {
	sd_event *ev;
	const char *conf_path;		/* -c, or NULL */
	const char *original_dir;	/* --original-dir, or NULL */
	bool verbose;

	struct daqs_config *cfg;
	struct daqs_policy policy;
	struct daqs_alloc_state alloc;
	bool capacity_from_link;	/* cfg gave a link, no capacity */
	uint64_t capacity_bps;		/* 0: not known yet */
	uint64_t link_checked_ms;
	int link_errno;			/* last logged failure */

	struct daqsd_vm **vms;
	size_t n_vms, cap_vms;
	struct daqs_vm_in *in;		/* the allocator's arrays */
	uint64_t *limits;
	size_t cap_in;

	uint64_t start_ms;		/* when the loop was set up */
	sd_event_source *tick;
	uint64_t next_tick_us;
	uint64_t last_tick_us;		/* when the last tick began */
	uint64_t ticks;
	sd_event_source *collect;	/* a tick's answers are all in, or late */
	size_t awaiting;		/* answers the tick still waits for */
	bool collecting;
	sd_event_source *housekeeping;

	/*
	 * The tick latency (ticklat.h): from a tick's start (its timer's
	 * callback) until the last SET it queued is written to its socket.
	 * Ticks that send no SET are not timed.
	 */
	uint64_t lat_t0_us;		/* CLOCK_MONOTONIC at the tick's start */
	uint64_t lat_tick;		/* the tick being waited for */
	size_t lat_unsent;		/* its SETs not all written yet */
	bool lat_open;			/* lat_unsent is being counted down */
	uint64_t lat_late;		/* not all written when the next began */
	struct daqsd_ticklat lat;

	/* discovery */
	int ino_fd;
	sd_event_source *ino_src;
	char watched_dir[DAQS_DIR_PATH_MAX + 1];	/* "": not watched */
	int root_wd;
	int dir_errno;			/* last logged failure */
	struct daqsd_watch *watches;
	size_t n_watches;

	/* control socket */
	int ctl_fd;
	sd_event_source *ctl_src;
	char ctl_path[DAQS_SOCK_PATH_MAX + 1];
	struct daqsd_client *clients;
	unsigned int n_clients;

	char status[256];		/* last STATUS= sent */

	/* every VM's socket (daqsd_vm.c), one source of the loop */
	int vm_ep;
	sd_event_source *vm_ep_src;

	/* the VFs' host counters and caps (daqsd_vf.c) */
	struct daqsd_vfmon vf;
};

/* daqsd.c */
uint64_t daqsd_now_ms(struct daqsd *d);
/* a VM found or configured: created, connected at once; NULL if no room */
struct daqsd_vm *daqsd_add_vm(struct daqsd *d, enum daqsd_vm_source source,
			      const char *name, const char *path);
void daqsd_remove_vm(struct daqsd *d, struct daqsd_vm *vm, const char *why);
/* a VM's answer to the tick's GET came, failed or was lost */
void daqsd_round_answered(struct daqsd *d);
/*
 * A VM has just become controllable (its first sample on a connection):
 * the next tick now rather than on the grid, if none is under way and the
 * last one began at least half a tick ago.
 */
void daqsd_pull_tick(struct daqsd *d);
/* the last SET a VM queued in tick `tick` is written (or never will be) */
void daqsd_tick_set_written(struct daqsd *d, uint64_t tick);
/* a VM for every section with a vf and no socket that has none yet */
void daqsd_sync_host_only(struct daqsd *d);

/* daqsd_vm.c */
struct daqsd_vm *daqsd_vm_new(struct daqsd *d, enum daqsd_vm_source source,
			      const char *name, const char *path);
void daqsd_vm_free(struct daqsd_vm *vm);
/* the configuration of its [vm] section (or none) and the tick */
void daqsd_vm_configure(struct daqsd_vm *vm, const struct daqs_config *cfg);
/* a tick's first half: a new read budget and a GET; true if awaited */
bool daqsd_vm_ask(struct daqsd_vm *vm, uint64_t now_ms);
/*
 * its second half: the limit, if it must be sent. True if a SET was
 * queued; *unsent: it is not all written yet (daqsd_tick_set_written()
 * comes when it is).
 */
bool daqsd_vm_push(struct daqsd_vm *vm, uint64_t now_ms,
		   const struct daqsd_push *push, bool *unsent);
/* connect now (at start, after discovery); a VM with no path never does */
void daqsd_vm_start(struct daqsd_vm *vm);
/* a host-only VM's channel, found by discovery; and gone again */
void daqsd_vm_adopt(struct daqsd_vm *vm, const char *path);
void daqsd_vm_detach(struct daqsd_vm *vm, const char *why);
/* the epoll of the VMs' sockets, in the loop */
int daqsd_vm_loop_init(struct daqsd *d, char *err, size_t errlen);
void daqsd_vm_loop_close(struct daqsd *d);

/* daqsd_discover.c */
int daqsd_discover_init(struct daqsd *d, char *err, size_t errlen);
void daqsd_discover_close(struct daqsd *d);
/* (re)reads the channel directory and reconciles the VMs found there */
void daqsd_discover_scan(struct daqsd *d);
/* "domain-3-web1" -> "web1"; 0, or -1 if it is not such a name */
int daqsd_libvirt_name(const char *entry, char *name, size_t len);

/* daqsd_control.c */
int daqsd_control_open(struct daqsd *d, const char *path, char *err,
		       size_t errlen);
void daqsd_control_close(struct daqsd *d);

/* daqsd_vf.c */
void daqsd_vf_init(struct daqsd *d);
/* the tick's start: an RTM_GETLINK for every PF a VM names */
void daqsd_vf_ask(struct daqsd *d, uint64_t now_ms);
const struct daqsd_pf *daqsd_vf_pf(const struct daqsd *d, const char *name);
/* an RTM_SETLINK of VF idx's rate (Mbit/s, 0: none); the answer comes to
 * daqsd_verify_cap_done(). 0, or -errno if it could not be sent. */
int daqsd_vf_set_rate(struct daqsd *d, const char *pf, uint32_t idx,
		      uint32_t max_mbit, uint32_t min_mbit, const char *vm);
/* at exit: waits (a second at most) for the answers, then closes */
void daqsd_vf_close(struct daqsd *d);

/* daqsd_verify.c */
struct daqs_ctl_buf;
/* its [vm] section changed: a new VF releases the old one's cap */
void daqsd_verify_configure(struct daqsd_vm *vm);
/* the VM goes: its VF's cap is released */
void daqsd_verify_vm_gone(struct daqsd_vm *vm);
/*
 * decide(), before the allocator: the VM's sample, judged; in is its
 * input, which the host's counters replace when its guest's cannot be had
 * (no channel, not controllable) or trusted (untrusted).
 */
void daqsd_verify_sample(struct daqsd *d, struct daqsd_vm *vm,
			 struct daqs_vm_in *in, uint64_t now_ms);
/* ... after it: the VF's cap follows the VM's limit when it must */
void daqsd_verify_cap(struct daqsd *d, struct daqsd_vm *vm, uint64_t now_ms);
void daqsd_verify_cap_done(struct daqsd *d, const struct daqsd_cap_req *req,
			   int err);
/* controlled from the host alone (its guest is not) */
bool daqsd_verify_host_mode(const struct daqsd_vm *vm);
/* its fields in a vm record of the control socket */
void daqsd_verify_format(struct daqs_ctl_buf *b, const struct daqsd_vm *vm);

/* daqsd_link.c: the link's speed; -ENODEV, -ENODATA (unknown), ... */
int daqsd_link_speed(const char *ifname, uint64_t *bps, char *err,
		     size_t errlen);

/* daqsd_log.c: syslog priorities (LOG_ERR ...), one line each */
void daqsd_log_init(bool verbose);
void daqsd_log(int prio, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* the sessions' sink */
void daqsd_log_line(void *ctx, int prio, const char *line);

#endif /* DAQSD_H */
