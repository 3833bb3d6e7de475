// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Discovery: libvirt puts each running domain's channel sockets in
 *
 *   <channel_dir>/domain-<id>-<name>/org.daqs.0
 *
 * (older libvirt: <channel_dir>/<name>.org.daqs.0), creating the directory
 * when the domain starts and removing it when it stops. daqsd watches the
 * channel directory and every domain directory with inotify; any event, or
 * a lost one (IN_Q_OVERFLOW), makes it read the directory again and
 * reconcile: a socket that appeared is a VM to connect to, one that went
 * away is a VM to forget. Reading the directory after adding the watch
 * means a socket created in between is never missed. A channel directory
 * that does not exist yet is looked for again every second.
 */
#include "daqsd.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#define ROOT_MASK (IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | \
		   IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)
#define DOMAIN_MASK (IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | \
		     IN_ONLYDIR)
#define OLD_SUFFIX "." DAQS_CH_PORT_NAME

int daqsd_libvirt_name(const char *entry, char *name, size_t len)
{
	const char *p = entry + strlen(DAQSD_LIBVIRT_DIR_PREFIX);
	const char *digits = p;

	if (strncmp(entry, DAQSD_LIBVIRT_DIR_PREFIX,
		    strlen(DAQSD_LIBVIRT_DIR_PREFIX)))
		return -1;
	while (*p >= '0' && *p <= '9')
		p++;
	if (p == digits || *p != '-' || !p[1] || strlen(p + 1) >= len)
		return -1;
	strcpy(name, p + 1);
	return 0;
}

static struct daqsd_watch *find_watch_wd(struct daqsd *d, int wd)
{
	size_t i;

	for (i = 0; i < d->n_watches; i++)
		if (d->watches[i].wd == wd)
			return &d->watches[i];
	return NULL;
}

static void drop_watch(struct daqsd *d, size_t i, bool rm)
{
	if (rm)
		(void)inotify_rm_watch(d->ino_fd, d->watches[i].wd);
	free(d->watches[i].path);
	d->watches[i] = d->watches[--d->n_watches];
}

static void watch_domain(struct daqsd *d, const char *path)
{
	struct daqsd_watch *w;
	size_t i;
	int wd;

	for (i = 0; i < d->n_watches; i++) {
		if (!strcmp(d->watches[i].path, path)) {
			d->watches[i].mark = true;
			return;
		}
	}
	wd = inotify_add_watch(d->ino_fd, path, DOMAIN_MASK);
	if (wd < 0) {
		if (errno != ENOENT)
			daqsd_log(LOG_WARNING, "Unable to watch %s: %s", path,
				  strerror(errno));
		return;
	}
	/* the same directory under another name (a rename) */
	w = find_watch_wd(d, wd);
	if (w) {
		free(w->path);
		w->path = NULL;
	} else {
		w = realloc(d->watches, (d->n_watches + 1) * sizeof(*w));
		if (!w) {
			(void)inotify_rm_watch(d->ino_fd, wd);
			return;
		}
		d->watches = w;
		w = &d->watches[d->n_watches++];
		w->wd = wd;
	}
	w->path = strdup(path);
	w->mark = true;
	if (!w->path)
		drop_watch(d, (size_t)(w - d->watches), true);
}

static bool is_socket(const char *path)
{
	struct stat st;

	return !lstat(path, &st) && S_ISSOCK(st.st_mode);
}

static void want(struct daqsd *d, const char *name, const char *path)
{
	size_t i;

	for (i = 0; i < d->n_vms; i++) {
		struct daqsd_vm *vm = d->vms[i];

		if (!strcmp(vm->path, path)) {
			vm->mark = true;
			return;
		}
	}
	/* a VM whose section names its socket is that VM, not a second one */
	for (i = 0; i < d->n_vms; i++) {
		struct daqsd_vm *vm = d->vms[i];

		if (vm->source != DAQSD_VM_CONFIG || strcmp(vm->sess.name, name))
			continue;
		/* one known by its vf alone: this is its channel */
		if (!vm->path[0] && !vm->conf.socket[0]) {
			daqsd_vm_adopt(vm, path);
			vm->mark = true;
			return;
		}
		daqsd_log(LOG_DEBUG, "vm %s: %s ignored: its configuration names %s",
			  name, path, vm->path[0] ? vm->path : "no channel");
		return;
	}
	if (daqsd_add_vm(d, DAQSD_VM_LIBVIRT, name, path))
		d->vms[d->n_vms - 1]->mark = true;
}

static bool watch_root(struct daqsd *d)
{
	const char *dir = d->cfg->channel_dir;
	int e;

	if (d->root_wd >= 0 && !strcmp(d->watched_dir, dir))
		return true;
	if (d->root_wd >= 0)
		(void)inotify_rm_watch(d->ino_fd, d->root_wd);
	d->root_wd = inotify_add_watch(d->ino_fd, dir, ROOT_MASK);
	if (d->root_wd < 0) {
		e = errno;
		if (e != d->dir_errno)
			daqsd_log(e == ENOENT ? LOG_INFO : LOG_WARNING,
				  "Unable to watch the channel directory %s: %s; looking again every second",
				  dir, strerror(e));
		d->dir_errno = e;
		d->watched_dir[0] = '\0';
		return false;
	}
	if (d->dir_errno)
		daqsd_log(LOG_INFO, "watching the channel directory %s", dir);
	d->dir_errno = 0;
	snprintf(d->watched_dir, sizeof(d->watched_dir), "%s", dir);
	return true;
}

void daqsd_discover_scan(struct daqsd *d)
{
	char name[DAQS_VM_NAME_MAX + 32], path[PATH_MAX];
	size_t i, n, dirlen;
	struct dirent *de;
	struct stat st;
	DIR *dir = NULL;

	for (i = 0; i < d->n_vms; i++)
		d->vms[i]->mark = false;
	for (i = 0; i < d->n_watches; i++)
		d->watches[i].mark = false;

	if (watch_root(d))
		dir = opendir(d->watched_dir);
	dirlen = strlen(d->watched_dir);
	while (dir && (de = readdir(dir))) {
		n = strlen(de->d_name);
		if (dirlen + n + sizeof(DAQS_CH_PORT_NAME) + 2 > sizeof(path))
			continue;
		if (!daqsd_libvirt_name(de->d_name, name, sizeof(name))) {
			snprintf(path, sizeof(path), "%s/%s", d->watched_dir,
				 de->d_name);
			if (lstat(path, &st) || !S_ISDIR(st.st_mode))
				continue;
			watch_domain(d, path);
			snprintf(path, sizeof(path), "%s/%s/%s", d->watched_dir,
				 de->d_name, DAQS_CH_PORT_NAME);
		} else if (n > strlen(OLD_SUFFIX) &&
			   !strcmp(de->d_name + n - strlen(OLD_SUFFIX), OLD_SUFFIX) &&
			   n - strlen(OLD_SUFFIX) < sizeof(name)) {
			memcpy(name, de->d_name, n - strlen(OLD_SUFFIX));
			name[n - strlen(OLD_SUFFIX)] = '\0';
			snprintf(path, sizeof(path), "%s/%s", d->watched_dir,
				 de->d_name);
		} else {
			continue;
		}
		if (strlen(path) > DAQS_SOCK_PATH_MAX) {
			daqsd_log(LOG_WARNING,
				  "vm %s: %s is longer than a socket path may be",
				  name, path);
			continue;
		}
		if (is_socket(path))
			want(d, name, path);
	}
	if (dir)
		closedir(dir);

	for (i = d->n_watches; i-- > 0;)
		if (!d->watches[i].mark)
			drop_watch(d, i, true);
	for (i = d->n_vms; i-- > 0;) {
		struct daqsd_vm *vm = d->vms[i];

		if (vm->source == DAQSD_VM_LIBVIRT && !vm->mark)
			daqsd_remove_vm(d, vm, "its socket is gone");
		else if (vm->adopted && !vm->mark)
			daqsd_vm_detach(vm, "its channel's socket is gone");
	}
	/* a libvirt VM gone whose section has a vf: known by it alone now */
	daqsd_sync_host_only(d);
}

static int on_inotify(sd_event_source *s, int fd, uint32_t revents, void *ud)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	const struct inotify_event *ev;
	struct daqsd *d = ud;
	struct daqsd_watch *w;
	bool rescan = false;
	ssize_t n;
	char *p;

	(void)s;
	(void)revents;
	for (;;) {
		n = read(fd, buf, sizeof(buf));
		if (n <= 0)
			break;
		for (p = buf; p < buf + n; p += sizeof(*ev) + ev->len) {
			ev = (const struct inotify_event *)p;
			rescan = true;
			if (ev->mask & IN_IGNORED) {
				if (ev->wd == d->root_wd) {
					d->root_wd = -1;
					d->watched_dir[0] = '\0';
				}
				w = find_watch_wd(d, ev->wd);
				if (w)
					drop_watch(d, (size_t)(w - d->watches), false);
			}
			if (ev->wd == d->root_wd &&
			    (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF))) {
				(void)inotify_rm_watch(d->ino_fd, d->root_wd);
				d->root_wd = -1;
				d->watched_dir[0] = '\0';
			}
		}
	}
	if (rescan)
		daqsd_discover_scan(d);
	return 0;
}

int daqsd_discover_init(struct daqsd *d, char *err, size_t errlen)
{
	int r;

	d->root_wd = -1;
	d->ino_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (d->ino_fd < 0) {
		snprintf(err, errlen, "Unable to start inotify: %s",
			 strerror(errno));
		return -1;
	}
	r = sd_event_add_io(d->ev, &d->ino_src, d->ino_fd, EPOLLIN, on_inotify, d);
	if (r < 0) {
		snprintf(err, errlen, "Unable to watch inotify: %s", strerror(-r));
		close(d->ino_fd);
		d->ino_fd = -1;
		return -1;
	}
	return 0;
}

void daqsd_discover_close(struct daqsd *d)
{
	while (d->n_watches)
		drop_watch(d, d->n_watches - 1, false);
	free(d->watches);
	d->watches = NULL;
	d->ino_src = sd_event_source_disable_unref(d->ino_src);
	if (d->ino_fd >= 0)
		close(d->ino_fd);
	d->ino_fd = -1;
	d->root_wd = -1;
}
