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

	struct daqsd_sess sess;		/* the name is sess.name */
};

struct daqsd_watch {
	int wd;
	char *path;
	bool mark;
};

struct daqsd_client;

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
/* connect now (at start, after discovery) */
void daqsd_vm_start(struct daqsd_vm *vm);
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
