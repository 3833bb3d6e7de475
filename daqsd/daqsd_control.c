// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The control socket: a unix stream socket where `daqsctl vms` asks for the
 * state of every VM. The protocol is ctlproto.h's: one request line, an
 * answer of records, then daqsd closes the connection. At most
 * DAQSD_CLIENTS_MAX clients at once, each with DAQSD_CLIENT_TIMEOUT_MS to
 * send its line and read the answer; a client that does not read is
 * dropped, never waited for.
 */
#include "daqsd.h"
#include "ctlproto.h"
#include "units.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#if __has_include("version.h")
#include "version.h"
#endif
#ifndef DAQS_VERSION
#define DAQS_VERSION "unknown"
#endif

struct daqsd_client {
	struct daqsd *d;
	struct daqsd_client *next;
	int fd;
	sd_event_source *io;
	sd_event_source *timer;
	char in[DAQS_CTL_REQUEST_MAX];
	size_t in_len;
	struct daqs_ctl_buf out;
	size_t out_off;
	bool answered;
};

static const char *demand_name(enum daqs_demand d)
{
	switch (d) {
	case DAQS_DEMAND_ABSENT:
		return "absent";
	case DAQS_DEMAND_NEW:
		return "new";
	case DAQS_DEMAND_HOLD:
		return "hold";
	case DAQS_DEMAND_SATISFIED:
		return "satisfied";
	case DAQS_DEMAND_UNSATISFIED:
		return "unsatisfied";
	case DAQS_DEMAND_STATIC:
		return "static";
	}
	return "?";
}

static const char *lease_name(uint8_t st)
{
	switch (st) {
	case DAQS_LEASE_NONE:
		return "none";
	case DAQS_LEASE_ACTIVE:
		return "active";
	case DAQS_LEASE_EXPIRED:
		return "expired";
	}
	return "?";
}

static void format_vm(struct daqs_ctl_buf *b, const struct daqsd_vm *vm,
		      uint64_t now)
{
	const struct daqsd_sess *s = &vm->sess;
	const struct daqsd_sess_counters *n = &s->n;

	daqs_ctl_begin(b, "vm");
	daqs_ctl_str(b, "name", s->name);
	daqs_ctl_str(b, "source", vm->source == DAQSD_VM_CONFIG ? "config" :
					"libvirt");
	daqs_ctl_str(b, "socket", vm->path);
	daqs_ctl_bool(b, "configured", vm->has_conf);
	daqs_ctl_bool(b, "connected", vm->fd >= 0);
	daqs_ctl_str(b, "state", daqsd_sess_state_name(s->state));
	if (s->state == DAQSD_SESS_READY) {
		daqs_ctl_str(b, "agent", s->peer);
		daqs_ctl_u64(b, "protocol", s->version);
		daqs_ctl_bool(b, "module", s->module);
	}
	if (s->dev_name[0])
		daqs_ctl_str(b, "device", s->dev_name);
	daqs_ctl_str(b, "device_from", daqsd_dev_name(s->state == DAQSD_SESS_READY ?
						      s->dev : s->conf_dev));
	daqs_ctl_bool(b, "controlled", vm->present);
	daqs_ctl_str(b, "demand", demand_name(vm->st.demand));
	if (vm->present && vm->st.demand_bps != DAQS_DEMAND_UNBOUNDED &&
	    vm->st.demand != DAQS_DEMAND_STATIC)
		daqs_ctl_u64(b, "demand_bps", vm->st.demand_bps);
	if (vm->rate_known)
		daqs_ctl_u64(b, "rate_bps", vm->rate_bps);
	daqs_ctl_u64(b, "min_bps", vm->conf.min_bps);
	if (vm->conf.max_bps)
		daqs_ctl_u64(b, "max_bps", vm->conf.max_bps);
	daqs_ctl_u64(b, "weight", vm->has_conf ? vm->conf.weight : 1);
	if (vm->present) {
		daqs_ctl_u64(b, "alloc_bps", vm->st.alloc_bps);
		daqs_ctl_u64(b, "limit_bps", vm->limit_bps);
		daqs_ctl_u64(b, "fallback_bps", vm->fallback_bps);
	}
	if (s->pushed_bps)
		daqs_ctl_u64(b, "pushed_bps", s->pushed_bps);
	if (s->pushed_ms && now >= s->pushed_ms)
		daqs_ctl_u64(b, "pushed_ms_ago", now - s->pushed_ms);
	if (s->seen.valid && s->seen.has_limit)
		daqs_ctl_u64(b, "in_force_bps", s->seen.rate_bps);
	if (s->seen.valid && s->seen.has_lease_state) {
		daqs_ctl_str(b, "lease_state", lease_name(s->seen.lease_state));
		if (s->seen.lease_state == DAQS_LEASE_ACTIVE)
			daqs_ctl_u64(b, "lease_left_ms", s->seen.lease_left_ms);
	}
	daqsd_verify_format(b, vm);
	daqs_ctl_u64(b, "connects", n->connects);
	daqs_ctl_u64(b, "gets", n->gets);
	daqs_ctl_u64(b, "sets", n->sets);
	daqs_ctl_u64(b, "samples", n->samples);
	daqs_ctl_u64(b, "counter_resets", n->counter_resets);
	daqs_ctl_u64(b, "errors", n->errors);
	daqs_ctl_u64(b, "set_errors", n->set_errors);
	daqs_ctl_u64(b, "timeouts", n->timeouts);
	daqs_ctl_u64(b, "stalls", n->stalls);
	daqs_ctl_u64(b, "stale", n->stale);
	daqs_ctl_u64(b, "bad_frames", n->bad_frames);
	daqs_ctl_u64(b, "skipped_bytes", s->dec.stats.skipped);
	daqs_ctl_u64(b, "events", n->events);
	daqs_ctl_u64(b, "lease_expired", n->lease_expired);
	daqs_ctl_u64(b, "out_full", n->out_full);
	daqs_ctl_u64(b, "throttled", vm->throttles);
	daqs_ctl_u64(b, "rx_bytes", vm->rx_bytes);
	if (s->last_error[0])
		daqs_ctl_str(b, "last_error", s->last_error);
	daqs_ctl_end(b);
}

/* how long the last ticks took to send their limits (ticklat.h) */
static void format_ticklat(struct daqs_ctl_buf *b, const struct daqsd *d,
			   uint64_t now)
{
	struct daqsd_ticklat_sum sum;

	daqsd_ticklat_summary(&d->lat, now, DAQSD_TICKLAT_WINDOW_MS, &sum);
	daqs_ctl_u64(b, "tick_lat_timed", d->lat.count);
	daqs_ctl_u64(b, "tick_lat_late", d->lat_late);
	daqs_ctl_u64(b, "tick_lat_window_ms", DAQSD_TICKLAT_WINDOW_MS);
	daqs_ctl_u64(b, "tick_lat_n", sum.n);
	if (!sum.n)
		return;
	daqs_ctl_u64(b, "tick_lat_p50_us", sum.p50_us);
	daqs_ctl_u64(b, "tick_lat_p99_us", sum.p99_us);
	daqs_ctl_u64(b, "tick_lat_max_us", sum.max_us);
}

static void format_status(struct daqsd *d, struct daqs_ctl_buf *b)
{
	const struct daqs_config *cfg = d->cfg;
	uint64_t now = daqsd_now_ms(d);
	size_t i;

	daqs_ctl_begin(b, "daqsd");
	daqs_ctl_str(b, "version", DAQS_VERSION);
	daqs_ctl_str(b, "config", d->conf_path ? d->conf_path : d->original_dir);
	daqs_ctl_str(b, "policy", daqs_policy_name(cfg->policy));
	if (d->capacity_bps)
		daqs_ctl_u64(b, "capacity_bps", d->capacity_bps);
	if (cfg->link[0])
		daqs_ctl_str(b, "link", cfg->link);
	daqs_ctl_u64(b, "tick_ms", cfg->tick_ms);
	daqs_ctl_u64(b, "lease_ms", cfg->lease_ms);
	if (cfg->fallback_bps)
		daqs_ctl_u64(b, "fallback_bps", cfg->fallback_bps);
	daqs_ctl_str(b, "channel_dir", cfg->channel_dir);
	daqs_ctl_bool(b, "channel_dir_watched", d->watched_dir[0] != '\0');
	daqs_ctl_u64(b, "ticks", d->ticks);
	format_ticklat(b, d, now);
	daqs_ctl_u64(b, "verify_interval_ms", cfg->verify_interval_ms);
	daqs_ctl_u64(b, "verify_tolerance_bp", cfg->verify_tolerance_bp);
	daqs_ctl_u64(b, "verify_limit_tolerance_bp", cfg->verify_limit_tolerance_bp);
	daqs_ctl_u64(b, "verify_strikes", cfg->verify_strikes);
	daqs_ctl_u64(b, "verify_hold_ms", cfg->verify_hold_ms);
	if (d->vf.n_pfs)
		daqs_ctl_u64(b, "vf_read_max_us", d->vf.slow_max_us);
	if (d->vf.hook)
		daqs_ctl_str(b, "vf_stats_hook", d->vf.hook);
	daqs_ctl_u64(b, "vms", d->n_vms);
	daqs_ctl_end(b);
	for (i = 0; i < d->n_vms; i++)
		format_vm(b, d->vms[i], now);
	daqs_ctl_begin(b, "end");
	daqs_ctl_end(b);
}

static void client_free(struct daqsd_client *c)
{
	struct daqsd *d = c->d;
	struct daqsd_client **pp;

	for (pp = &d->clients; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	d->n_clients--;
	c->io = sd_event_source_disable_unref(c->io);
	c->timer = sd_event_source_disable_unref(c->timer);
	close(c->fd);
	daqs_ctl_buf_free(&c->out);
	free(c);
}

static void client_answer(struct daqsd_client *c, char *line)
{
	size_t n = strlen(line);

	if (n && line[n - 1] == '\r')
		line[n - 1] = '\0';
	if (!strcmp(line, "vms")) {
		format_status(c->d, &c->out);
	} else {
		daqs_ctl_begin(&c->out, "error");
		daqs_ctl_str(&c->out, "message", "unknown request (try 'vms')");
		daqs_ctl_end(&c->out);
	}
	if (c->out.failed) {
		daqs_ctl_buf_free(&c->out);
		daqs_ctl_begin(&c->out, "error");
		daqs_ctl_str(&c->out, "message", "out of memory");
		daqs_ctl_end(&c->out);
	}
	c->answered = true;
}

/* false when the client is done (or gone) and freed */
static bool client_write(struct daqsd_client *c)
{
	ssize_t w;

	while (c->out_off < c->out.len) {
		w = send(c->fd, c->out.p + c->out_off, c->out.len - c->out_off,
			 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w > 0) {
			c->out_off += (size_t)w;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			(void)sd_event_source_set_io_events(c->io, EPOLLOUT);
			return true;
		}
		break;
	}
	client_free(c);
	return false;
}

static int on_client(sd_event_source *s, int fd, uint32_t revents, void *ud)
{
	struct daqsd_client *c = ud;
	char *nl;
	ssize_t n;

	(void)s;
	if (c->answered) {
		client_write(c);
		return 0;
	}
	(void)revents;
	n = recv(fd, c->in + c->in_len, sizeof(c->in) - 1 - c->in_len,
		 MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0) {
		client_free(c);
		return 0;
	}
	c->in_len += (size_t)n;
	c->in[c->in_len] = '\0';
	nl = memchr(c->in, '\n', c->in_len);
	if (nl) {
		*nl = '\0';
		client_answer(c, c->in);
	} else if (c->in_len == sizeof(c->in) - 1 || memchr(c->in, '\0', c->in_len)) {
		daqs_ctl_begin(&c->out, "error");
		daqs_ctl_str(&c->out, "message", "request too long or not text");
		daqs_ctl_end(&c->out);
		c->answered = true;
	} else {
		return 0;
	}
	client_write(c);
	return 0;
}

static int on_client_timeout(sd_event_source *s, uint64_t usec, void *ud)
{
	(void)s;
	(void)usec;
	client_free(ud);
	return 0;
}

static int on_accept(sd_event_source *s, int fd, uint32_t revents, void *ud)
{
	struct daqsd *d = ud;
	struct daqsd_client *c;
	uint64_t now_us;
	int cfd;

	(void)s;
	(void)revents;
	for (;;) {
		cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd < 0)
			return 0;
		if (d->n_clients >= DAQSD_CLIENTS_MAX) {
			daqsd_log(LOG_WARNING,
				  "control socket: %u clients already; refusing one",
				  d->n_clients);
			close(cfd);
			continue;
		}
		c = calloc(1, sizeof(*c));
		if (!c) {
			close(cfd);
			continue;
		}
		c->d = d;
		c->fd = cfd;
		(void)sd_event_now(d->ev, CLOCK_MONOTONIC, &now_us);
		if (sd_event_add_io(d->ev, &c->io, cfd, EPOLLIN, on_client, c) < 0 ||
		    sd_event_add_time(d->ev, &c->timer, CLOCK_MONOTONIC,
				      now_us + DAQSD_CLIENT_TIMEOUT_MS * 1000ULL,
				      1000, on_client_timeout, c) < 0) {
			sd_event_source_disable_unref(c->io);
			close(cfd);
			free(c);
			continue;
		}
		c->next = d->clients;
		d->clients = c;
		d->n_clients++;
	}
}

int daqsd_control_open(struct daqsd *d, const char *path, char *err,
		       size_t errlen)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, probe, r;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "control socket path '%s' is too long", path);
		return -1;
	}
	strcpy(sun.sun_path, path);
	if (!lstat(path, &st)) {
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, errlen, "%s exists and is not a socket", path);
			return -1;
		}
		/* a socket that answers belongs to a daqsd that runs */
		probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (probe >= 0 && !connect(probe, (struct sockaddr *)&sun,
					   sizeof(sun))) {
			close(probe);
			snprintf(err, errlen,
				 "another daqsd is listening on %s", path);
			return -1;
		}
		if (probe >= 0)
			close(probe);
		(void)unlink(path);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "Unable to create the control socket: %s",
			 strerror(errno));
		return -1;
	}
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) ||
	    chmod(path, 0660) || listen(fd, 16)) {
		snprintf(err, errlen, "Unable to listen on %s: %s", path,
			 strerror(errno));
		close(fd);
		(void)unlink(path);
		return -1;
	}
	r = sd_event_add_io(d->ev, &d->ctl_src, fd, EPOLLIN, on_accept, d);
	if (r < 0) {
		snprintf(err, errlen, "Unable to watch %s: %s", path, strerror(-r));
		close(fd);
		(void)unlink(path);
		return -1;
	}
	d->ctl_fd = fd;
	snprintf(d->ctl_path, sizeof(d->ctl_path), "%s", path);
	return 0;
}

void daqsd_control_close(struct daqsd *d)
{
	while (d->clients)
		client_free(d->clients);
	d->ctl_src = sd_event_source_disable_unref(d->ctl_src);
	if (d->ctl_fd >= 0) {
		close(d->ctl_fd);
		(void)unlink(d->ctl_path);
	}
	d->ctl_fd = -1;
}
