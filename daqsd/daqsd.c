// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * daqsd: options, the configuration (loaded all or nothing, reloaded the
 * same way on SIGHUP), the VM list, the tick that measures, allocates and
 * pushes, and what systemd hears (READY=1, WATCHDOG=1, STATUS=). See
 * daqsd.h for the map of the sources and daqsd(8) for the user's view.
 */
#include "daqsd.h"
#include "units.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#if __has_include("version.h")
#include "version.h"
#endif
#ifndef DAQS_VERSION
#define DAQS_VERSION "unknown"
#endif

#define EXIT_CONFIG 2
#define ERRLEN 512

/* the clock itself, not the loop's: what a tick's latency is measured in */
static uint64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000U + (uint64_t)ts.tv_nsec / 1000U;
}

uint64_t daqsd_now_ms(struct daqsd *d)
{
	uint64_t us = 0;

	(void)sd_event_now(d->ev, CLOCK_MONOTONIC, &us);
	return us / 1000U;
}

static const char *fmt_rate(char *buf, uint64_t bps)
{
	return daqs_format_rate(buf, DAQS_FMT_LEN, bps);
}

/* ---- configuration ------------------------------------------------------------- */

static int load(struct daqsd *d, struct daqs_config **out, char *err,
		size_t errlen)
{
	if (d->original_dir)
		return daqs_config_load_original(d->original_dir, out, err, errlen);
	return daqs_config_load(d->conf_path, out, err, errlen);
}

static const char *conf_name(const struct daqsd *d)
{
	return d->original_dir ? d->original_dir : d->conf_path;
}

/*
 * The capacity of cfg: its own, else its link's speed, checked against the
 * minimums. 0 with *cap_bps = 0 when the speed is not known yet (the link
 * is down or not there yet: not an error of the file); -EINVAL when the
 * minimums do not fit, with err set.
 */
static int resolve_capacity(struct daqsd *d, struct daqs_config *cfg,
			    uint64_t *cap_bps, char *err, size_t errlen)
{
	char why[ERRLEN];
	uint64_t bps;
	int r;

	*cap_bps = cfg->capacity_bps;
	if (cfg->capacity_bps)
		return 0;
	r = daqsd_link_speed(cfg->link, &bps, why, sizeof(why));
	if (r) {
		if (r != d->link_errno)
			daqsd_log(LOG_WARNING, "%s; no limits until it is known",
				  why);
		d->link_errno = r;
		return 0;
	}
	d->link_errno = 0;
	r = daqs_config_set_capacity(cfg, bps, conf_name(d), err, errlen);
	cfg->capacity_bps = 0;	/* still "from the link" */
	if (r)
		return r;
	*cap_bps = bps;
	return 0;
}

static void set_policy(struct daqsd *d)
{
	daqs_policy_init(&d->policy, d->cfg->policy, d->cfg->tick_ms);
}

/* a new policy or tick: the allocator starts over, from the limits in force */
static void reset_alloc(struct daqsd *d)
{
	size_t i;

	daqs_alloc_state_release(&d->alloc);
	memset(&d->alloc, 0, sizeof(d->alloc));
	for (i = 0; i < d->n_vms; i++)
		memset(&d->vms[i]->st, 0, sizeof(d->vms[i]->st));
}

/* ---- the VMs ---------------------------------------------------------------------- */

struct daqsd_vm *daqsd_add_vm(struct daqsd *d, enum daqsd_vm_source source,
			      const char *name, const char *path)
{
	struct daqsd_vm *vm, **v;

	if (d->n_vms >= DAQS_CONF_VMS_MAX) {
		daqsd_log(LOG_WARNING, "vm %s: more than %d VMs; ignored", name,
			  DAQS_CONF_VMS_MAX);
		return NULL;
	}
	if (d->n_vms == d->cap_vms) {
		size_t cap = d->cap_vms ? 2 * d->cap_vms : 16;

		v = realloc(d->vms, cap * sizeof(*v));
		if (!v)
			return NULL;
		d->vms = v;
		d->cap_vms = cap;
	}
	vm = daqsd_vm_new(d, source, name, path);
	if (!vm) {
		daqsd_log(LOG_ERR, "vm %s: Unable to add it: %s", name,
			  strerror(ENOMEM));
		return NULL;
	}
	daqsd_vm_configure(vm, d->cfg);
	d->vms[d->n_vms++] = vm;
	if (!path[0])
		daqsd_log(LOG_INFO, "vm %s: configured with no channel: verified and capped from VF %s:%u alone",
			  vm->sess.name, vm->conf.vf_pf, vm->conf.vf_index);
	else
		daqsd_log(LOG_INFO, "vm %s: %s %s%s", vm->sess.name,
			  source == DAQSD_VM_CONFIG ? "configured at" : "found at",
			  path, vm->has_conf ? "" :
			  " (no [vm] section: best effort, weight 1)");
	daqsd_vm_start(vm);
	return vm;
}

void daqsd_remove_vm(struct daqsd *d, struct daqsd_vm *vm, const char *why)
{
	size_t i;

	for (i = 0; i < d->n_vms && d->vms[i] != vm; i++)
		;
	if (i == d->n_vms)
		return;
	memmove(d->vms + i, d->vms + i + 1, (d->n_vms - i - 1) * sizeof(*d->vms));
	d->n_vms--;
	if (vm->in_round) {
		vm->in_round = false;
		daqsd_round_answered(d);
	}
	if (vm->set_left) {
		vm->set_left = 0;
		daqsd_tick_set_written(d, vm->set_tick);
	}
	daqsd_log(LOG_INFO, "vm %s: removed: %s", vm->sess.name, why);
	daqsd_verify_vm_gone(vm);
	daqsd_vm_free(vm);
}

static struct daqsd_vm *vm_named(struct daqsd *d, const char *name)
{
	size_t i;

	for (i = 0; i < d->n_vms; i++)
		if (!strcmp(d->vms[i]->sess.name, name))
			return d->vms[i];
	return NULL;
}

/*
 * A section with a vf and no socket is a VM even when no channel is found
 * for it (DPDK: no agent, maybe no channel at all): verified and capped
 * from its VF alone. Discovery hands it its libvirt channel if one comes.
 */
void daqsd_sync_host_only(struct daqsd *d)
{
	const struct daqs_vm_conf *c;
	size_t j;

	for (j = 0; j < d->cfg->n_vms; j++) {
		c = &d->cfg->vms[j];
		if (c->socket[0] || !c->vf_pf[0] || vm_named(d, c->name))
			continue;
		daqsd_add_vm(d, DAQSD_VM_CONFIG, c->name, "");
	}
}

/* the VMs whose section names a socket, as the configuration now says */
static void sync_config_vms(struct daqsd *d)
{
	const struct daqs_config *cfg = d->cfg;
	const struct daqs_vm_conf *c;
	size_t i, j;

	for (i = d->n_vms; i-- > 0;) {
		struct daqsd_vm *vm = d->vms[i];

		if (vm->source != DAQSD_VM_CONFIG)
			continue;
		c = daqs_config_vm(cfg, vm->sess.name);
		/* host-only (no socket: its vf, and maybe a libvirt channel) */
		if (c && !c->socket[0] && c->vf_pf[0] &&
		    (!vm->path[0] || vm->adopted))
			continue;
		if (!c || !c->socket[0] || strcmp(c->socket, vm->path))
			daqsd_remove_vm(d, vm, "no longer in the configuration");
	}
	for (j = 0; j < cfg->n_vms; j++) {
		c = &cfg->vms[j];
		if (!c->socket[0])
			continue;
		for (i = 0; i < d->n_vms; i++)
			if (d->vms[i]->source == DAQSD_VM_CONFIG &&
			    !strcmp(d->vms[i]->sess.name, c->name))
				break;
		if (i == d->n_vms)
			daqsd_add_vm(d, DAQSD_VM_CONFIG, c->name, c->socket);
	}
	for (i = 0; i < d->n_vms; i++)
		daqsd_vm_configure(d->vms[i], cfg);
	daqsd_sync_host_only(d);
}

/* ---- the tick ------------------------------------------------------------------------ */

static uint64_t fallback_of(const struct daqsd *d, const struct daqsd_vm *vm,
			    size_t present)
{
	uint64_t f = d->cfg->fallback_bps;

	if (!f) {
		/* auto: its minimum, else an equal share of the link */
		f = vm->conf.min_bps;
		if (!f)
			f = d->capacity_bps / (present ? present : 1);
	}
	if (d->capacity_bps && f > d->capacity_bps)
		f = d->capacity_bps;
	return f < DAQS_RATE_MIN_BPS ? DAQS_RATE_MIN_BPS : f;
}

static const char *why_not(const struct daqsd *d, const struct daqsd_vm *vm)
{
	const struct daqsd_sess *s = &vm->sess;

	if (vm->vf.on && !vm->vf.host_ok && vm->vf.err[0] &&
	    (!vm->path[0] || vm->fd < 0))
		return vm->vf.err;
	if (vm->fd < 0)
		return "not connected";
	if (s->state != DAQSD_SESS_READY)
		return "no handshake yet";
	if (!s->module)
		return "module daqs is not loaded in the guest";
	if (s->dev == DAQSD_DEV_NONE)
		return "no device: the guest has no binding and none is named";
	if (s->dev == DAQSD_DEV_MANY)
		return "no device: several bindings and none is named";
	if (!daqsd_sess_controllable(s))
		return "its device is not known yet";
	if (!d->capacity_bps)
		return "the link's capacity is not known";
	return "?";
}

static const char *demand_word(enum daqs_demand dm)
{
	switch (dm) {
	case DAQS_DEMAND_UNSATISFIED:
		return "wants more";
	case DAQS_DEMAND_SATISFIED:
		return "satisfied";
	case DAQS_DEMAND_HOLD:
		return "holding (no sample)";
	case DAQS_DEMAND_NEW:
		return "new";
	case DAQS_DEMAND_STATIC:
		return "static policy";
	default:
		return "absent";
	}
}

/*
 * One line per change of a VM's limit (beyond the dead band: what is
 * pushed), at most one a second per VM; the changes held back are counted.
 */
static void log_decision(struct daqsd *d, struct daqsd_vm *vm, uint64_t now,
			 size_t present)
{
	char a[DAQS_FMT_LEN], b[DAQS_FMT_LEN], r[DAQS_FMT_LEN], more[48] = "";
	uint64_t cur = vm->present ? vm->limit_bps : 0;

	if (daqsd_limit_changed(vm->prev_limit_bps, cur)) {
		vm->unlogged++;
		vm->prev_limit_bps = cur;
	}
	if (!daqsd_limit_changed(vm->logged_limit_bps, cur)) {
		vm->unlogged = 0;
		return;
	}
	if (vm->log_ms && now < vm->log_ms + DAQSD_DECISION_LOG_MS)
		return;
	if (vm->unlogged > 1)
		snprintf(more, sizeof(more), "; %u changes since the last line",
			 vm->unlogged);
	if (cur && vm->logged_limit_bps)
		daqsd_log(LOG_INFO, "vm %s: limit %s (was %s): %s, rate %s; %zu controlled%s",
			  vm->sess.name, fmt_rate(a, cur),
			  fmt_rate(b, vm->logged_limit_bps),
			  demand_word(vm->st.demand),
			  vm->rate_known ? fmt_rate(r, vm->rate_bps) : "unknown",
			  present, more);
	else if (cur && daqsd_verify_host_mode(vm))
		daqsd_log(LOG_INFO, "vm %s: controlled from the host: limit %s, measured on VF %s:%u%s",
			  vm->sess.name, fmt_rate(a, cur), vm->vf.pf, vm->vf.index,
			  vm->path[0] ? " (its guest is not controllable)" :
			  ", capped there (no channel)");
	else if (cur)
		daqsd_log(LOG_INFO, "vm %s: controlled: limit %s, fallback %s, lease %ums",
			  vm->sess.name, fmt_rate(a, cur),
			  fmt_rate(b, vm->fallback_bps), d->cfg->lease_ms);
	else
		daqsd_log(LOG_NOTICE, "vm %s: not controlled: %s", vm->sess.name,
			  why_not(d, vm));
	vm->logged_limit_bps = cur;
	vm->log_ms = now;
	vm->unlogged = 0;
}

static void update_status(struct daqsd *d)
{
	char status[sizeof(d->status)], c[DAQS_FMT_LEN];
	size_t i, present = 0, connected = 0;

	for (i = 0; i < d->n_vms; i++) {
		present += d->vms[i]->present;
		connected += d->vms[i]->sess.state == DAQSD_SESS_READY;
	}
	if (d->capacity_bps)
		snprintf(status, sizeof(status),
			 "%zu VMs, %zu connected, %zu controlled; %s over %s",
			 d->n_vms, connected, present,
			 daqs_policy_name(d->cfg->policy), fmt_rate(c, d->capacity_bps));
	else
		snprintf(status, sizeof(status),
			 "%zu VMs, %zu connected; waiting for the speed of %s",
			 d->n_vms, connected, d->cfg->link);
	if (strcmp(status, d->status)) {
		strcpy(d->status, status);
		(void)sd_notifyf(0, "STATUS=%s", status);
	}
}

static int grow_in(struct daqsd *d)
{
	struct daqs_vm_in *in;
	uint64_t *limits;
	size_t cap;

	if (d->n_vms <= d->cap_in)
		return 0;
	cap = d->n_vms + 16;
	in = realloc(d->in, cap * sizeof(*in));
	if (!in)
		return -ENOMEM;
	d->in = in;
	limits = realloc(d->limits, cap * sizeof(*limits));
	if (!limits)
		return -ENOMEM;
	d->limits = limits;
	d->cap_in = cap;
	return 0;
}

/* the tick that began at lat_t0_us has sent its limits (late: or not all,
 * and the next one begins) */
static void tick_timed(struct daqsd *d, bool late)
{
	uint64_t now = mono_us();

	daqsd_ticklat_add(&d->lat, now / 1000U, now - d->lat_t0_us);
	if (late)
		d->lat_late++;
}

/*
 * The tick's second half, when every GET of its first half is answered (or
 * the collect window is over): the samples to the allocator, the limits
 * that changed to the guests.
 */
static void decide(struct daqsd *d)
{
	uint64_t now = daqsd_now_ms(d), rate = 0;
	struct daqsd_push push;
	size_t i, n = d->n_vms, present = 0, queued = 0, unsent = 0;
	bool alloc_ok = false, left;
	int r;

	d->collecting = false;
	d->lat_open = false;
	d->lat_tick = d->ticks;
	d->awaiting = 0;
	(void)sd_event_source_set_enabled(d->collect, SD_EVENT_OFF);
	if (grow_in(d)) {
		daqsd_log(LOG_ERR, "tick: %s", strerror(ENOMEM));
		return;
	}
	for (i = 0; i < n; i++) {
		struct daqsd_vm *vm = d->vms[i];
		struct daqs_vm_in *in = &d->in[i];

		memset(in, 0, sizeof(*in));
		in->name = vm->sess.name;
		in->present = daqsd_sess_controllable(&vm->sess) &&
			      d->capacity_bps;
		in->rate_known = daqsd_sess_take_sample(&vm->sess, &rate);
		in->rate_bps = in->rate_known ? rate : 0;
		in->limited = in->rate_known && vm->sess.limited;
		in->limit_bps = daqsd_sess_in_force(&vm->sess);
		in->min_bps = vm->conf.min_bps;
		in->max_bps = vm->conf.max_bps;
		in->weight = vm->has_conf ? vm->conf.weight : 1;
		in->st = vm->st;
		daqsd_verify_sample(d, vm, in, now);
		vm->rate_known = in->rate_known;
		if (in->rate_known)
			vm->rate_bps = in->rate_bps;
		present += in->present;
		d->limits[i] = 0;
	}
	if (n && d->capacity_bps) {
		r = daqs_alloc(&d->policy, d->capacity_bps, d->in, n, d->limits,
			       &d->alloc);
		if (r)
			daqsd_log(LOG_ERR, "the allocator failed: %s; limits unchanged",
				  strerror(-r));
		alloc_ok = !r;
	}
	for (i = 0; i < n; i++) {
		struct daqsd_vm *vm = d->vms[i];

		if (alloc_ok)
			vm->st = d->in[i].st;
		vm->present = d->in[i].present && alloc_ok && d->limits[i];
		if (alloc_ok)
			vm->limit_bps = d->limits[i];
		vm->fallback_bps = fallback_of(d, vm, present);
		push.limit_bps = vm->present ? vm->limit_bps : 0;
		push.fallback_bps = vm->fallback_bps;
		push.lease_ms = d->cfg->lease_ms;
		queued += daqsd_vm_push(vm, now, &push, &left);
		unsent += left;
		daqsd_verify_cap(d, vm, now);
		log_decision(d, vm, now, present);
	}
	/* the tick's latency: now, or when its last SET is written */
	if (queued && !unsent)
		tick_timed(d, false);
	d->lat_unsent = unsent;
	d->lat_open = queued && unsent;
}

void daqsd_tick_set_written(struct daqsd *d, uint64_t tick)
{
	if (!d->lat_open || tick != d->lat_tick || !d->lat_unsent)
		return;
	if (!--d->lat_unsent) {
		d->lat_open = false;
		tick_timed(d, false);
	}
}

void daqsd_round_answered(struct daqsd *d)
{
	uint64_t now;

	if (!d->collecting || !d->awaiting || --d->awaiting)
		return;
	/* all in: decide from the loop, not from inside a VM's callback */
	(void)sd_event_now(d->ev, CLOCK_MONOTONIC, &now);
	(void)sd_event_source_set_time(d->collect, now);
	(void)sd_event_source_set_enabled(d->collect, SD_EVENT_ONESHOT);
}

static int on_collect(sd_event_source *s, uint64_t usec, void *ud)
{
	(void)s;
	(void)usec;
	decide(ud);
	return 0;
}

/* the tick's first half: every VM is asked for its counters */
static void tick(struct daqsd *d)
{
	uint64_t now = daqsd_now_ms(d), at;
	size_t i;

	/* the last tick's answers never all came: decide without them */
	if (d->collecting)
		decide(d);
	/* its SETs are not all written: timed as this long, counted late */
	if (d->lat_open) {
		d->lat_open = false;
		tick_timed(d, true);
	}
	d->lat_t0_us = mono_us();
	d->ticks++;
	(void)sd_event_now(d->ev, CLOCK_MONOTONIC, &d->last_tick_us);
	d->collecting = true;
	d->awaiting = 0;
	/* the VFs' counters first: read as near the guests' as can be */
	daqsd_vf_ask(d, now);
	for (i = 0; i < d->n_vms; i++)
		d->awaiting += daqsd_vm_ask(d->vms[i], now);
	if (!d->awaiting) {
		decide(d);
		return;
	}
	(void)sd_event_now(d->ev, CLOCK_MONOTONIC, &at);
	at += (d->cfg->tick_ms / DAQSD_COLLECT_DIV ?
	       d->cfg->tick_ms / DAQSD_COLLECT_DIV : 1) * 1000ULL;
	(void)sd_event_source_set_time(d->collect, at);
	(void)sd_event_source_set_enabled(d->collect, SD_EVENT_ONESHOT);
}

static int on_tick(sd_event_source *s, uint64_t usec, void *ud)
{
	struct daqsd *d = ud;
	uint64_t period = d->cfg->tick_ms * 1000ULL, now;

	(void)usec;
	tick(d);
	(void)sd_event_now(d->ev, CLOCK_MONOTONIC, &now);
	/* on the grid, without drift; a tick that came late is not repeated */
	d->next_tick_us += period;
	if (d->next_tick_us <= now)
		d->next_tick_us = now + period - (now - d->next_tick_us) % period;
	(void)sd_event_source_set_time(s, d->next_tick_us);
	(void)sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
	return 0;
}

void daqsd_pull_tick(struct daqsd *d)
{
	uint64_t now, half = d->cfg->tick_ms * 500ULL;

	(void)sd_event_now(d->ev, CLOCK_MONOTONIC, &now);
	/*
	 * Not while a tick collects (its decision takes the new sample), and
	 * at most one pulled tick per half tick: a guest that reconnects in a
	 * loop cannot make the others' ticks shorter than that.
	 */
	if (d->collecting || now < d->last_tick_us + half ||
	    d->next_tick_us <= now)
		return;
	daqsd_log(LOG_DEBUG, "tick pulled forward by %llu ms: a VM became controllable",
		  (unsigned long long)((d->next_tick_us - now) / 1000U));
	/* on_tick() puts the grid a period after now */
	d->next_tick_us = now;
	(void)sd_event_source_set_time(d->tick, now);
	(void)sd_event_source_set_enabled(d->tick, SD_EVENT_ONESHOT);
}

static void restart_tick(struct daqsd *d)
{
	uint64_t now;

	(void)sd_event_now(d->ev, CLOCK_MONOTONIC, &now);
	d->next_tick_us = now + d->cfg->tick_ms * 1000ULL;
	(void)sd_event_source_set_time(d->tick, d->next_tick_us);
	(void)sd_event_source_set_enabled(d->tick, SD_EVENT_ONESHOT);
}

/* ---- housekeeping: the link, the channel directory, STATUS= ------------------- */

static void poll_link(struct daqsd *d, uint64_t now)
{
	char a[DAQS_FMT_LEN], b[DAQS_FMT_LEN], why[ERRLEN];
	uint64_t bps, sum = 0;
	size_t i;
	int r;

	if (!d->capacity_from_link || now < d->link_checked_ms + DAQSD_LINK_POLL_MS)
		return;
	d->link_checked_ms = now;
	r = daqsd_link_speed(d->cfg->link, &bps, why, sizeof(why));
	if (r) {
		if (r != d->link_errno)
			daqsd_log(LOG_WARNING, "%s; keeping the capacity at %s", why,
				  d->capacity_bps ? fmt_rate(a, d->capacity_bps) :
				  "unknown (no limits)");
		d->link_errno = r;
		return;
	}
	d->link_errno = 0;
	if (bps == d->capacity_bps)
		return;
	if (bps > DAQS_ALLOC_CAPACITY_MAX) {
		daqsd_log(LOG_WARNING, "link %s: speed %s is beyond the allocator; ignored",
			  d->cfg->link, fmt_rate(a, bps));
		return;
	}
	daqsd_log(LOG_NOTICE, "link %s: speed %s (was %s)", d->cfg->link,
		  fmt_rate(a, bps), d->capacity_bps ? fmt_rate(b, d->capacity_bps) :
		  "unknown");
	for (i = 0; i < d->cfg->n_vms; i++)
		sum += d->cfg->vms[i].min_bps;
	if (sum > bps)
		daqsd_log(LOG_WARNING,
			  "the minimums add up to %s, more than the link's %s: scaled down while it lasts",
			  fmt_rate(a, sum), fmt_rate(b, bps));
	d->capacity_bps = bps;
}

static int on_housekeeping(sd_event_source *s, uint64_t usec, void *ud)
{
	struct daqsd *d = ud;
	uint64_t now = daqsd_now_ms(d);

	(void)usec;
	if (!d->watched_dir[0])
		daqsd_discover_scan(d);
	poll_link(d, now);
	update_status(d);
	(void)sd_event_source_set_time(s, (now + DAQSD_HOUSEKEEPING_MS) * 1000ULL);
	(void)sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
	return 0;
}

/* ---- reload ------------------------------------------------------------------------- */

static void reload(struct daqsd *d)
{
	struct daqs_config *cfg = NULL, *old = d->cfg;
	char err[ERRLEN], a[DAQS_FMT_LEN];
	uint64_t cap;
	bool fresh_alloc;

	(void)sd_notify(0, "RELOADING=1");
	daqsd_log(LOG_INFO, "SIGHUP: reloading %s", conf_name(d));
	if (load(d, &cfg, err, sizeof(err)) ||
	    resolve_capacity(d, cfg, &cap, err, sizeof(err))) {
		daqsd_log(LOG_ERR, "reload failed, keeping the running configuration: %s",
			  err);
		daqs_config_free(cfg);
		(void)sd_notify(0, "READY=1");
		return;
	}
	if (strcmp(cfg->control_socket, old->control_socket))
		daqsd_log(LOG_WARNING,
			  "control_socket changed to %s: it takes effect at the next start (still %s)",
			  cfg->control_socket, d->ctl_path);
	fresh_alloc = cfg->policy != old->policy || cfg->tick_ms != old->tick_ms;
	d->cfg = cfg;
	d->capacity_from_link = !cfg->capacity_bps;
	if (cap || !d->capacity_from_link)
		d->capacity_bps = cap;
	d->link_checked_ms = daqsd_now_ms(d);
	set_policy(d);
	if (fresh_alloc)
		reset_alloc(d);
	if (cfg->tick_ms != old->tick_ms)
		restart_tick(d);
	sync_config_vms(d);
	daqsd_discover_scan(d);
	daqs_config_free(old);
	daqsd_log(LOG_INFO, "reloaded %s: policy %s, capacity %s, tick %ums, lease %ums, %zu [vm] sections",
		  conf_name(d), daqs_policy_name(cfg->policy),
		  d->capacity_bps ? fmt_rate(a, d->capacity_bps) : "unknown",
		  cfg->tick_ms, cfg->lease_ms, cfg->n_vms);
	update_status(d);
	(void)sd_notify(0, "READY=1");
}

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si,
		     void *ud)
{
	struct daqsd *d = ud;

	(void)s;
	if (si->ssi_signo == SIGHUP) {
		reload(d);
		return 0;
	}
	daqsd_log(LOG_INFO, "exiting on signal %u", si->ssi_signo);
	return sd_event_exit(d->ev, 0);
}

/* ---- start and stop --------------------------------------------------------------- */

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: " DAQSD_PROG " [-c FILE | --original-dir DIR] [-t] [-v]\n"
		"\n"
		"Sets the transmit limits of every VM's daqs-agent from one allocator.\n"
		"\n"
		"  -c, --config FILE     the configuration (default " DAQS_CONF_PATH ")\n"
		"      --original-dir DIR  the original DAQS's defaults.ini, min_bw.ini\n"
		"                        and payments.ini instead\n"
		"  -t, --test            check the configuration and exit\n"
		"  -v, --verbose         log debugging details too\n"
		"  -h, --help            print this help\n"
		"  -V, --version         print the version\n"
		"See daqsd(8).\n");
}

/* 0: run; -1: exit 0; > 0: exit with it */
static int parse_args(int argc, char **argv, struct daqsd *d, bool *test)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "original-dir", required_argument, NULL, 'O' },
		{ "test", no_argument, NULL, 't' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":c:tvhV", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			d->conf_path = optarg;
			break;
		case 'O':
			d->original_dir = optarg;
			break;
		case 't':
			*test = true;
			break;
		case 'v':
			d->verbose = true;
			break;
		case 'h':
			usage(stdout);
			return -1;
		case 'V':
			printf(DAQSD_PROG " %s (channel protocol %d)\n", DAQS_VERSION,
			       DAQS_CH_VERSION);
			return -1;
		case ':':
			fprintf(stderr, DAQSD_PROG ": option '%s' needs a value\n",
				argv[optind - 1]);
			usage(stderr);
			return EXIT_CONFIG;
		default:
			fprintf(stderr, DAQSD_PROG ": unknown option '%s'\n",
				argv[optind - 1]);
			usage(stderr);
			return EXIT_CONFIG;
		}
	}
	if (optind < argc) {
		fprintf(stderr, DAQSD_PROG ": unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return EXIT_CONFIG;
	}
	if (d->conf_path && d->original_dir) {
		fprintf(stderr, DAQSD_PROG ": give -c or --original-dir, not both\n");
		return EXIT_CONFIG;
	}
	if (!d->original_dir && !d->conf_path)
		d->conf_path = DAQS_CONF_PATH;
	return 0;
}

/*
 * A socket per VM: a thousand VMs need more than the usual soft limit of
 * 1024 files. The hard limit is ours to take (daqsd.service sets both, as
 * its system call filter refuses setrlimit()).
 */
static void raise_nofile(void)
{
	struct rlimit rl;
	rlim_t cur;

	if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur >= rl.rlim_max)
		return;
	cur = rl.rlim_cur;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl))
		daqsd_log(LOG_WARNING,
			  "Unable to raise the open files limit from %llu to %llu: %s; fewer than %llu VMs can connect",
			  (unsigned long long)cur, (unsigned long long)rl.rlim_max,
			  strerror(errno), (unsigned long long)cur);
}

static int setup(struct daqsd *d, char *err, size_t errlen)
{
	static const int sigs[] = { SIGTERM, SIGINT, SIGHUP };
	uint64_t now;
	size_t i;
	int r;

	r = sd_event_default(&d->ev);
	if (r < 0) {
		snprintf(err, errlen, "Unable to create the event loop: %s",
			 strerror(-r));
		return -1;
	}
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		r = sd_event_add_signal(d->ev, NULL, sigs[i], on_signal, d);
		if (r < 0) {
			snprintf(err, errlen, "Unable to handle signal %d: %s",
				 sigs[i], strerror(-r));
			return -1;
		}
	}
	/* WATCHDOG=1 at half of WatchdogSec=, from the loop itself */
	(void)sd_event_set_watchdog(d->ev, true);
	if (daqsd_vm_loop_init(d, err, errlen) ||
	    daqsd_discover_init(d, err, errlen) ||
	    daqsd_control_open(d, d->cfg->control_socket, err, errlen))
		return -1;
	(void)sd_event_now(d->ev, CLOCK_MONOTONIC, &now);
	d->start_ms = now / 1000U;
	d->next_tick_us = now + d->cfg->tick_ms * 1000ULL;
	r = sd_event_add_time(d->ev, &d->tick, CLOCK_MONOTONIC, d->next_tick_us,
			      1000, on_tick, d);
	/* 1 us: the decision right after the last answer, not when sd-event
	 * would coalesce wakeups (up to 1 ms later, 10% of a 10 ms tick) */
	if (r >= 0)
		r = sd_event_add_time(d->ev, &d->collect, CLOCK_MONOTONIC, 0, 1,
				      on_collect, d);
	if (r >= 0)
		r = sd_event_source_set_enabled(d->collect, SD_EVENT_OFF);
	if (r >= 0)
		r = sd_event_add_time(d->ev, &d->housekeeping, CLOCK_MONOTONIC,
				      now + DAQSD_HOUSEKEEPING_MS * 1000ULL,
				      10000, on_housekeeping, d);
	if (r < 0) {
		snprintf(err, errlen, "Unable to add a timer: %s", strerror(-r));
		return -1;
	}
	return 0;
}

static void teardown(struct daqsd *d)
{
	while (d->n_vms)
		daqsd_remove_vm(d, d->vms[d->n_vms - 1], "daqsd stops");
	/* the caps those released: answered before the loop goes */
	daqsd_vf_close(d);
	free(d->vms);
	daqsd_vm_loop_close(d);
	free(d->in);
	free(d->limits);
	daqsd_control_close(d);
	daqsd_discover_close(d);
	d->tick = sd_event_source_disable_unref(d->tick);
	d->collect = sd_event_source_disable_unref(d->collect);
	d->housekeeping = sd_event_source_disable_unref(d->housekeeping);
	d->ev = sd_event_unref(d->ev);
	daqs_alloc_state_release(&d->alloc);
	daqs_config_free(d->cfg);
}

int main(int argc, char **argv)
{
	struct daqsd d = { .ino_fd = -1, .ctl_fd = -1, .root_wd = -1,
			   .vm_ep = -1 };
	char err[ERRLEN], a[DAQS_FMT_LEN];
	bool test = false;
	sigset_t block;
	int r;

	r = parse_args(argc, argv, &d, &test);
	if (r)
		return r < 0 ? 0 : r;
	daqsd_log_init(d.verbose);
	daqsd_vf_init(&d);

	/* all or nothing: a bad file starts nothing */
	if (load(&d, &d.cfg, err, sizeof(err)) ||
	    resolve_capacity(&d, d.cfg, &d.capacity_bps, err, sizeof(err))) {
		daqsd_log(LOG_ERR, "%s", err);
		daqs_config_free(d.cfg);
		return EXIT_CONFIG;
	}
	d.capacity_from_link = !d.cfg->capacity_bps;
	if (test) {
		printf("%s: policy %s, capacity %s, tick %ums, lease %ums, %zu [vm] sections\n",
		       conf_name(&d), daqs_policy_name(d.cfg->policy),
		       d.capacity_bps ? fmt_rate(a, d.capacity_bps) : "unknown yet",
		       d.cfg->tick_ms, d.cfg->lease_ms, d.cfg->n_vms);
		daqs_config_free(d.cfg);
		return 0;
	}

	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	sigprocmask(SIG_BLOCK, &block, NULL);
	signal(SIGPIPE, SIG_IGN);

	set_policy(&d);
	raise_nofile();
	if (setup(&d, err, sizeof(err))) {
		daqsd_log(LOG_ERR, "%s", err);
		teardown(&d);
		return 1;
	}
	daqsd_log(LOG_INFO, "daqsd %s: %s, policy %s, capacity %s, tick %ums, lease %ums, control %s",
		  DAQS_VERSION, conf_name(&d), daqs_policy_name(d.cfg->policy),
		  d.capacity_bps ? fmt_rate(a, d.capacity_bps) : "unknown yet",
		  d.cfg->tick_ms, d.cfg->lease_ms, d.ctl_path);
	sync_config_vms(&d);
	daqsd_discover_scan(&d);
	update_status(&d);
	(void)sd_notify(0, "READY=1");

	r = sd_event_loop(d.ev);
	(void)sd_notify(0, "STOPPING=1");
	if (r < 0)
		daqsd_log(LOG_ERR, "event loop: %s", strerror(-r));
	teardown(&d);
	return r < 0 ? 1 : 0;
}
