// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Least privilege, once the port and the netlink sockets are open:
 * CAP_NET_ADMIN only (the daqs family wants it for SET and DEL), in the
 * effective, permitted and bounding sets, none inheritable or ambient,
 * no_new_privs; then a seccomp allow-list of the system calls the event
 * loop makes. Anything else kills the process: a compromised agent cannot
 * exec, open a file or create a socket other than AF_UNIX (to reconnect a
 * unix-socket port).
 */
#include "agent.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

int agent_drop_caps(char *err, size_t errlen)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[2];
	const uint32_t keep = 1U << CAP_NET_ADMIN;	/* CAP_NET_ADMIN < 32 */
	int cap;

	if (syscall(SYS_capget, &hdr, data) < 0) {
		snprintf(err, errlen, "Unable to read capabilities: %s",
			 strerror(errno));
		return -1;
	}
	/* the bounding set needs CAP_SETPCAP, so it goes first; without it
	 * (not root) there is nothing to drop from it that could be used */
	if (data[0].effective & (1U << CAP_SETPCAP))
		for (cap = 0; cap < 64; cap++) {
			if (cap == CAP_NET_ADMIN)
				continue;
			if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) {
				if (errno == EINVAL)
					break;	/* past the last one */
				snprintf(err, errlen,
					 "Unable to drop capability %d: %s", cap,
					 strerror(errno));
				return -1;
			}
		}
	(void)prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);

	data[0].permitted &= keep;
	data[0].effective = data[0].permitted;
	data[0].inheritable = 0;
	memset(&data[1], 0, sizeof(data[1]));
	if (syscall(SYS_capset, &hdr, data) < 0) {
		snprintf(err, errlen, "Unable to drop capabilities: %s",
			 strerror(errno));
		return -1;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		snprintf(err, errlen, "Unable to set no_new_privs: %s",
			 strerror(errno));
		return -1;
	}
	return 0;
}

/* what the event loop, libnl, stdio and malloc need, and no more */
static const int allowed[] = {
	SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(close),
	SCMP_SYS(poll), SCMP_SYS(ppoll),
	SCMP_SYS(recvmsg), SCMP_SYS(recvfrom), SCMP_SYS(sendmsg),
	SCMP_SYS(sendto),
	/* joining the daqs events group when the module comes */
	SCMP_SYS(setsockopt),
	SCMP_SYS(getsockopt),
	SCMP_SYS(getsockname),
	SCMP_SYS(fcntl),
	SCMP_SYS(clock_gettime), SCMP_SYS(clock_nanosleep),
	SCMP_SYS(nanosleep), SCMP_SYS(gettimeofday),
	SCMP_SYS(getpid), SCMP_SYS(gettid),
	SCMP_SYS(rt_sigprocmask), SCMP_SYS(rt_sigreturn),
	SCMP_SYS(restart_syscall),
	SCMP_SYS(exit), SCMP_SYS(exit_group),
	SCMP_SYS(brk), SCMP_SYS(munmap), SCMP_SYS(mremap),
	SCMP_SYS(madvise), SCMP_SYS(futex),
	SCMP_SYS(getrandom),
	SCMP_SYS(fstat),
};

int agent_seccomp(bool unix_reconnect, char *err, size_t errlen)
{
	scmp_filter_ctx ctx;
	size_t i;
	int ret = 0;

	ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	if (!ctx) {
		snprintf(err, errlen, "Unable to set up seccomp");
		return -1;
	}
	for (i = 0; i < sizeof(allowed) / sizeof(allowed[0]) && !ret; i++)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, allowed[i], 0);
	/* memory, but never executable */
	if (!ret)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1,
				       SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	if (!ret)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
				       SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	/* glibc's fstat(): newfstatat(fd, "", buf, AT_EMPTY_PATH) */
	if (!ret)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(newfstatat), 1,
				       SCMP_A3(SCMP_CMP_EQ, AT_EMPTY_PATH));
	if (!ret && unix_reconnect) {
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
				       SCMP_A0(SCMP_CMP_EQ, AF_UNIX));
		if (!ret)
			ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW,
					       SCMP_SYS(connect), 0);
	}
	if (!ret)
		ret = seccomp_load(ctx);
	seccomp_release(ctx);
	if (ret < 0) {
		snprintf(err, errlen, "Unable to install the seccomp filter: %s",
			 strerror(-ret));
		return -1;
	}
	return 0;
}
