// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * One VM's socket. QEMU (or libvirt for it) listens on the channel's unix
 * socket (server=on,wait=off); daqsd connects, and connects again with a
 * backoff whenever the connection goes or cannot be made. Everything is
 * non-blocking; reads are bounded per tick, writes by the session's output
 * buffer, and the session's own timers catch a guest that stops answering.
 */
#include "daqsd.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

static void vm_arm(struct daqsd_vm *vm);

/* n more bytes written (SIZE_MAX: the connection is gone) */
static void vm_set_progress(struct daqsd_vm *vm, size_t n)
{
	if (!vm->set_left)
		return;
	vm->set_left = n >= vm->set_left ? 0 : vm->set_left - n;
	if (!vm->set_left)
		daqsd_tick_set_written(vm->d, vm->set_tick);
}

/* the tick's answer came (or will not): one fewer to wait for */
static void vm_round(struct daqsd_vm *vm)
{
	/* the first sample of a connection: control need not wait for the
	 * grid (a restarted daqsd, a restarted agent) */
	if (!vm->pulled && daqsd_sess_controllable(&vm->sess) &&
	    vm->sess.seen.valid) {
		vm->pulled = true;
		daqsd_pull_tick(vm->d);
	}
	if (vm->in_round && !daqsd_sess_awaiting(&vm->sess)) {
		vm->in_round = false;
		daqsd_round_answered(vm->d);
	}
}

/*
 * The VMs' sockets are in an epoll of their own (d->vm_ep), which the loop
 * sees as one source: a wakeup handles a batch of them. As sources of
 * their own, each would cost a loop iteration with its own epoll_wait(),
 * and, level-triggered, each of those would report again every socket
 * still waiting for its turn: with a thousand VMs answering a tick's GETs
 * at once, O(VMs^2) per tick in the kernel (docs/benchmarks.md, control
 * plane). Edge-triggered: vm_io() reads until EAGAIN (or the read budget,
 * which takes the socket out of the set until the tick puts it back, and
 * adding it re-arms it) and vm_flush() writes until EAGAIN.
 */
#define VM_EPOLL_BATCH 256

static void vm_disconnect(struct daqsd_vm *vm, const char *why,
			  uint64_t retry_ms);

static void vm_update_io(struct daqsd_vm *vm)
{
	struct epoll_event ev = { .data.ptr = vm };
	const uint8_t *p;
	uint32_t want = 0;
	int op;

	if (vm->fd < 0)
		return;
	/* a guest over its read budget waits, HUP included, until the tick */
	if (!vm->throttled) {
		/* RDHUP: a peer that shut down its side is read to the end */
		want = EPOLLIN | EPOLLRDHUP | EPOLLET;
		if (daqsd_sess_pending(&vm->sess, &p))
			want |= EPOLLOUT;
	}
	if (want == vm->ep_events)
		return;
	op = !vm->ep_events ? EPOLL_CTL_ADD : !want ? EPOLL_CTL_DEL : EPOLL_CTL_MOD;
	ev.events = want;
	if (epoll_ctl(vm->d->vm_ep, op, vm->fd, &ev) && op != EPOLL_CTL_DEL) {
		char why[96];

		snprintf(why, sizeof(why), "Unable to watch its socket: %s",
			 strerror(errno));
		vm_disconnect(vm, why, 0);
		return;
	}
	vm->ep_events = want;
}

static void vm_disconnect(struct daqsd_vm *vm, const char *why,
			  uint64_t retry_ms)
{
	uint64_t now = daqsd_now_ms(vm->d);

	daqsd_sess_lost(&vm->sess, now, why);
	vm_set_progress(vm, SIZE_MAX);	/* never written: not waited for */
	/* closing it takes it out of d->vm_ep */
	if (vm->fd >= 0)
		close(vm->fd);
	vm->ep_events = 0;
	vm->fd = -1;
	vm->throttled = false;
	if (!retry_ms) {
		retry_ms = vm->backoff_ms;
		vm->backoff_ms *= 2;
		if (vm->backoff_ms > DAQSD_BACKOFF_MAX_MS)
			vm->backoff_ms = DAQSD_BACKOFF_MAX_MS;
	}
	vm->retry_at_ms = now + retry_ms;
}

static void vm_act(struct daqsd_vm *vm, enum daqsd_sess_action act,
		   const char *why)
{
	switch (act) {
	case DAQSD_SESS_OK:
		break;
	case DAQSD_SESS_RECONNECT:
		vm_disconnect(vm, why, 0);
		break;
	case DAQSD_SESS_INCOMPATIBLE:
		daqsd_log(LOG_ERR,
			  "vm %s: no common protocol version; asking again in %us",
			  vm->sess.name, DAQSD_INCOMPATIBLE_RETRY_MS / 1000);
		vm_disconnect(vm, "no common protocol version",
			      DAQSD_INCOMPATIBLE_RETRY_MS);
		break;
	}
}

/* writes what the session has queued; false if the connection broke */
static bool vm_flush(struct daqsd_vm *vm)
{
	const uint8_t *p;
	size_t n;
	ssize_t w;
	char why[96];

	while (vm->fd >= 0 && (n = daqsd_sess_pending(&vm->sess, &p))) {
		w = send(vm->fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w > 0) {
			daqsd_sess_written(&vm->sess, (size_t)w);
			vm_set_progress(vm, (size_t)w);
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		snprintf(why, sizeof(why), "write failed: %s",
			 w < 0 ? strerror(errno) : "nothing written");
		vm_disconnect(vm, why, 0);
		return false;
	}
	return true;
}

static void vm_io(struct daqsd_vm *vm, uint32_t revents)
{
	enum daqsd_sess_action act;
	uint8_t buf[4096];
	size_t want;
	ssize_t n;
	char why[96];

	if (revents & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
		for (;;) {
			if (!vm->rx_budget) {
				vm->throttled = true;
				vm->throttles++;
				daqsd_log(LOG_DEBUG,
					  "vm %s: read budget spent; reading again next tick",
					  vm->sess.name);
				break;
			}
			want = vm->rx_budget < sizeof(buf) ? vm->rx_budget :
							      sizeof(buf);
			n = recv(vm->fd, buf, want, MSG_DONTWAIT);
			if (n > 0) {
				vm->rx_budget -= (uint64_t)n;
				vm->rx_bytes += (uint64_t)n;
				act = daqsd_sess_input(&vm->sess, buf, (size_t)n,
						       daqsd_now_ms(vm->d));
				if (act != DAQSD_SESS_OK) {
					vm_act(vm, act, "protocol failure");
					goto out;
				}
				/*
				 * Less than asked: drained. Bytes that come
				 * after make an event of their own, even
				 * edge-triggered; an end of stream seen with
				 * this event (HUP) is read to the end now.
				 */
				if ((size_t)n < want &&
				    !(revents & (EPOLLHUP | EPOLLRDHUP | EPOLLERR)))
					break;
				continue;
			}
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
				break;
			snprintf(why, sizeof(why), "%s",
				 n ? strerror(errno) : "end of stream");
			vm_disconnect(vm, why, 0);
			goto out;
		}
		if (vm->sess.state == DAQSD_SESS_READY)
			vm->backoff_ms = DAQSD_BACKOFF_MIN_MS;
	}
	vm_flush(vm);
out:
	vm_update_io(vm);
	vm_arm(vm);
	vm_round(vm);
}

/*
 * A batch of the VMs' events. Nothing here frees a VM (removals come from
 * discovery and reloads), and a VM disconnected by an earlier event of the
 * batch has fd -1: its later ones are skipped.
 */
static int on_vm_events(sd_event_source *s, int fd, uint32_t revents, void *ud)
{
	struct epoll_event evs[VM_EPOLL_BATCH];
	struct daqsd_vm *vm;
	int i, n;

	(void)s;
	(void)revents;
	(void)ud;
	n = epoll_wait(fd, evs, VM_EPOLL_BATCH, 0);
	for (i = 0; i < n; i++) {
		vm = evs[i].data.ptr;
		if (vm->fd >= 0)
			vm_io(vm, evs[i].events);
	}
	return 0;
}

int daqsd_vm_loop_init(struct daqsd *d, char *err, size_t errlen)
{
	int r;

	d->vm_ep = epoll_create1(EPOLL_CLOEXEC);
	if (d->vm_ep < 0) {
		snprintf(err, errlen, "Unable to create an epoll: %s",
			 strerror(errno));
		return -1;
	}
	r = sd_event_add_io(d->ev, &d->vm_ep_src, d->vm_ep, EPOLLIN,
			    on_vm_events, d);
	if (r < 0) {
		snprintf(err, errlen, "Unable to watch the VMs' epoll: %s",
			 strerror(-r));
		return -1;
	}
	return 0;
}

void daqsd_vm_loop_close(struct daqsd *d)
{
	d->vm_ep_src = sd_event_source_disable_unref(d->vm_ep_src);
	if (d->vm_ep >= 0)
		close(d->vm_ep);
	d->vm_ep = -1;
}

static void vm_connect(struct daqsd_vm *vm)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	uint64_t now = daqsd_now_ms(vm->d);
	int fd, r, e;

	/* no channel (yet): nothing to connect to, no retries */
	if (!vm->path[0]) {
		vm->retry_at_ms = UINT64_MAX;
		return;
	}

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		e = errno;
		goto fail;
	}
	memcpy(sun.sun_path, vm->path, strlen(vm->path) + 1);
	r = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
	if (r < 0) {
		e = errno;
		close(fd);
		goto fail;
	}
	vm->fd = fd;
	vm->ep_events = 0;
	vm->pulled = false;
	vm->connect_errno = 0;
	vm->rx_budget = DAQSD_READ_BUDGET;
	vm->throttled = false;
	daqsd_log(LOG_DEBUG, "vm %s: connected to %s %llu ms after daqsd started",
		  vm->sess.name, vm->path,
		  (unsigned long long)(now - vm->d->start_ms));
	daqsd_sess_connected(&vm->sess, now);
	if (vm_flush(vm))
		vm_update_io(vm);
	return;
fail:
	/* say it once per kind of failure, not every retry */
	if (e != vm->connect_errno)
		daqsd_log(e == ENOENT || e == ECONNREFUSED ? LOG_INFO : LOG_WARNING,
			  "vm %s: Unable to connect to %s: %s; trying again",
			  vm->sess.name, vm->path, strerror(e));
	vm->connect_errno = e;
	vm->retry_at_ms = now + vm->backoff_ms;
	vm->backoff_ms *= 2;
	if (vm->backoff_ms > DAQSD_BACKOFF_MAX_MS)
		vm->backoff_ms = DAQSD_BACKOFF_MAX_MS;
}

static int on_timer(sd_event_source *s, uint64_t usec, void *ud)
{
	struct daqsd_vm *vm = ud;
	uint64_t now = daqsd_now_ms(vm->d), next;
	enum daqsd_sess_action act;

	(void)s;
	(void)usec;
	vm->timer_at_ms = 0;	/* a one-shot: off now */
	if (vm->fd < 0) {
		if (now >= vm->retry_at_ms)
			vm_connect(vm);
	} else {
		act = daqsd_sess_timers(&vm->sess, now, &next);
		if (act == DAQSD_SESS_RECONNECT)
			vm_act(vm, act, "no answer from the agent");
		else
			vm_act(vm, act, NULL);
		if (vm->fd >= 0 && vm_flush(vm))
			vm_update_io(vm);
	}
	vm_arm(vm);
	vm_round(vm);
	return 0;
}

/*
 * The timer: the retry when disconnected, else the session's next one. It
 * is only ever moved earlier: one armed sooner than needed fires, finds
 * nothing to do and is armed again (at most once per request timeout),
 * where moving it after every request and answer would reorder the loop's
 * timer queue twice per VM per tick.
 */
static void vm_arm(struct daqsd_vm *vm)
{
	uint64_t now = daqsd_now_ms(vm->d), at;

	if (!vm->timer)
		return;
	if (vm->fd < 0)
		at = vm->retry_at_ms;
	else
		at = daqsd_sess_next_ms(&vm->sess);
	if (at == UINT64_MAX || (vm->timer_at_ms && vm->timer_at_ms <= at))
		return;
	if (at < now)
		at = now;
	vm->timer_at_ms = at;
	(void)sd_event_source_set_time(vm->timer, at * 1000ULL);
	(void)sd_event_source_set_enabled(vm->timer, SD_EVENT_ONESHOT);
}

struct daqsd_vm *daqsd_vm_new(struct daqsd *d, enum daqsd_vm_source source,
			      const char *name, const char *path)
{
	struct daqsd_vm *vm;

	if (strlen(path) > DAQS_SOCK_PATH_MAX)
		return NULL;
	vm = calloc(1, sizeof(*vm));
	if (!vm)
		return NULL;
	vm->d = d;
	vm->source = source;
	vm->fd = -1;
	vm->backoff_ms = DAQSD_BACKOFF_MIN_MS;
	strcpy(vm->path, path);
	daqsd_sess_init(&vm->sess);
	snprintf(vm->sess.name, sizeof(vm->sess.name), "%s", name);
	vm->sess.log = daqsd_log_line;
	if (sd_event_add_time(d->ev, &vm->timer, CLOCK_MONOTONIC, 0, 1000,
			      on_timer, vm) < 0) {
		free(vm);
		return NULL;
	}
	(void)sd_event_source_set_enabled(vm->timer, SD_EVENT_OFF);
	return vm;
}

void daqsd_vm_free(struct daqsd_vm *vm)
{
	if (!vm)
		return;
	vm->timer = sd_event_source_disable_unref(vm->timer);
	if (vm->fd >= 0)
		close(vm->fd);
	free(vm);
}

void daqsd_vm_configure(struct daqsd_vm *vm, const struct daqs_config *cfg)
{
	const struct daqs_vm_conf *c = daqs_config_vm(cfg, vm->sess.name);
	struct daqsd_sess *s = &vm->sess;
	bool was_mac = s->conf_is_mac;
	enum daqsd_dev was = s->conf_dev;

	vm->has_conf = c != NULL;
	if (c)
		vm->conf = *c;
	else
		memset(&vm->conf, 0, sizeof(vm->conf));
	s->tick_ms = cfg->tick_ms;
	s->conf_dev = DAQSD_DEV_UNKNOWN;
	s->conf_is_mac = false;
	daqsd_verify_configure(vm);
	if (c && c->device_kind == DAQS_DEVICE_IFNAME) {
		s->conf_dev = DAQSD_DEV_CONFIG;
		snprintf(s->conf_ifname, sizeof(s->conf_ifname), "%s", c->ifname);
	} else if (c && c->device_kind == DAQS_DEVICE_MAC) {
		s->conf_dev = DAQSD_DEV_CONFIG;
		s->conf_is_mac = true;
		memcpy(s->conf_mac, c->mac, DAQS_MAC_LEN);
	}
	/* another device: the handshake again, so it is read afresh */
	if (vm->fd >= 0 && s->state != DAQSD_SESS_DOWN &&
	    (was != s->conf_dev || was_mac != s->conf_is_mac))
		vm_disconnect(vm, "its device changed in the configuration",
			      DAQSD_BACKOFF_MIN_MS);
}

bool daqsd_vm_ask(struct daqsd_vm *vm, uint64_t now_ms)
{
	bool sent;

	/* a new tick, a new read budget */
	vm->rx_budget = DAQSD_READ_BUDGET;
	vm->throttled = false;
	vm->in_round = false;
	if (vm->fd < 0)
		return false;
	sent = daqsd_sess_ask(&vm->sess, now_ms);
	if (vm_flush(vm))
		vm_update_io(vm);
	vm_arm(vm);
	/* counted by the caller: no vm_round() here */
	vm->in_round = sent && daqsd_sess_awaiting(&vm->sess);
	return vm->in_round;
}

bool daqsd_vm_push(struct daqsd_vm *vm, uint64_t now_ms,
		   const struct daqsd_push *push, bool *unsent)
{
	uint64_t sets = vm->sess.n.sets;
	const uint8_t *p;
	bool queued;

	*unsent = false;
	vm->in_round = false;
	if (vm->fd < 0)
		return false;
	daqsd_sess_push(&vm->sess, now_ms, push);
	queued = vm->sess.n.sets != sets;
	if (queued) {
		/*
		 * The SET is the last frame queued (but for the probe GET
		 * that follows a connection's first SET, counted along):
		 * it is written when everything pending now is.
		 */
		vm->set_left = daqsd_sess_pending(&vm->sess, &p);
		vm->set_tick = vm->d->ticks;
	}
	if (vm_flush(vm))
		vm_update_io(vm);
	vm_arm(vm);
	*unsent = queued && vm->set_left;
	return queued;
}

void daqsd_vm_start(struct daqsd_vm *vm)
{
	if (vm->fd < 0) {
		vm_connect(vm);
		vm_arm(vm);
	}
}

void daqsd_vm_adopt(struct daqsd_vm *vm, const char *path)
{
	if (strlen(path) > DAQS_SOCK_PATH_MAX || vm->fd >= 0)
		return;
	strcpy(vm->path, path);
	vm->adopted = true;
	vm->backoff_ms = DAQSD_BACKOFF_MIN_MS;
	daqsd_log(LOG_INFO, "vm %s: its channel is found at %s", vm->sess.name,
		  path);
	daqsd_vm_start(vm);
}

void daqsd_vm_detach(struct daqsd_vm *vm, const char *why)
{
	if (vm->fd >= 0)
		vm_disconnect(vm, why, 0);
	if (vm->in_round) {
		vm->in_round = false;
		daqsd_round_answered(vm->d);
	}
	daqsd_log(LOG_INFO, "vm %s: %s; verified from VF %s:%u alone again",
		  vm->sess.name, why, vm->conf.vf_pf, vm->conf.vf_index);
	vm->path[0] = '\0';
	vm->adopted = false;
	vm->retry_at_ms = UINT64_MAX;
	vm->timer_at_ms = 0;
	(void)sd_event_source_set_enabled(vm->timer, SD_EVENT_OFF);
}
