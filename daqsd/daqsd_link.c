// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The speed of the physical function, when the configuration gives a link
 * and no capacity: ETHTOOL_GLINKSETTINGS (the ioctl `ethtool DEV` uses),
 * then the older ETHTOOL_GSET, then /sys/class/net/DEV/speed. None of them
 * needs a capability. The ioctl goes through an AF_UNIX socket, which the
 * kernel hands to dev_ioctl() like any other, so the unit's
 * RestrictAddressFamilies needs nothing else.
 */
#include "daqsd.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

/* Mbit/s, or 0 if unknown; -errno on failure */
static int64_t ioctl_speed(const char *ifname)
{
	struct {
		struct ethtool_link_settings req;
		uint32_t masks[3 * 127];	/* SCHAR_MAX words, three masks */
	} ls;
	struct ethtool_cmd cmd;
	struct ifreq ifr;
	int fd, e;
	uint32_t speed;

	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);

	/* the handshake: the kernel answers how many mask words it uses */
	memset(&ls, 0, sizeof(ls));
	ls.req.cmd = ETHTOOL_GLINKSETTINGS;
	ifr.ifr_data = (void *)&ls;
	if (!ioctl(fd, SIOCETHTOOL, &ifr) && ls.req.link_mode_masks_nwords < 0) {
		int8_t nwords = (int8_t)-ls.req.link_mode_masks_nwords;

		memset(&ls, 0, sizeof(ls));
		ls.req.cmd = ETHTOOL_GLINKSETTINGS;
		ls.req.link_mode_masks_nwords = nwords;
		if (!ioctl(fd, SIOCETHTOOL, &ifr) && ls.req.cmd == ETHTOOL_GLINKSETTINGS) {
			close(fd);
			speed = ls.req.speed;
			return speed == (uint32_t)SPEED_UNKNOWN ? 0 : speed;
		}
	}
	if (errno == ENODEV) {
		close(fd);
		return -ENODEV;
	}
	memset(&cmd, 0, sizeof(cmd));
	cmd.cmd = ETHTOOL_GSET;
	ifr.ifr_data = (void *)&cmd;
	if (!ioctl(fd, SIOCETHTOOL, &ifr)) {
		close(fd);
		speed = ethtool_cmd_speed(&cmd);
		return speed == (uint32_t)SPEED_UNKNOWN ? 0 : speed;
	}
	e = errno;
	close(fd);
	return -e;
}

static int64_t sysfs_speed(const char *ifname)
{
	char path[64], buf[32];
	long long v;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/sys/class/net/%s/speed", ifname);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ENODEV : -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return n < 0 ? -errno : 0;	/* EINVAL: the link is down */
	buf[n] = '\0';
	v = strtoll(buf, NULL, 10);
	return v > 0 ? v : 0;
}

int daqsd_link_speed(const char *ifname, uint64_t *bps, char *err,
		     size_t errlen)
{
	int64_t mbit;

	if (!ifname[0] || strlen(ifname) >= IFNAMSIZ) {
		snprintf(err, errlen, "invalid interface name '%s'", ifname);
		return -EINVAL;
	}
	mbit = ioctl_speed(ifname);
	if (mbit <= 0 && mbit != -ENODEV)
		mbit = sysfs_speed(ifname);
	if (mbit == -ENODEV) {
		snprintf(err, errlen, "no such interface '%s'", ifname);
		return -ENODEV;
	}
	if (mbit <= 0) {
		snprintf(err, errlen,
			 "the speed of '%s' is not known (is the link down?)",
			 ifname);
		return -ENODATA;
	}
	*bps = (uint64_t)mbit * 1000000ULL;
	return 0;
}
