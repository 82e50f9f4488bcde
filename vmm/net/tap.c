// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "tap.h"

int tap_set_offload(int fd, bool csum, bool tso4, bool tso6)
{
	unsigned int flags = 0;

	if (csum) {
		flags |= TUN_F_CSUM;
		if (tso4)
			flags |= TUN_F_TSO4;
		if (tso6)
			flags |= TUN_F_TSO6;
	}
	return ioctl(fd, TUNSETOFFLOAD, (unsigned long)flags) < 0 ? -errno : 0;
}

int tap_open(const char *name, struct tap *t, char *why, size_t why_len)
{
	struct ifreq ifr;
	unsigned int features = 0;
	int hdr = TAP_VNET_HDR_LEN;
	const char *step;

	memset(t, 0, sizeof(*t));
	t->fd = -1;
	if (strlen(name) > TAP_NAME_MAX) {
		snprintf(why, why_len, "ifname=%s: longer than %d characters", name, TAP_NAME_MAX);
		return -1;
	}
	/* Only for the log and the docs' promise: TUNSETIFF itself creates or attaches. */
	t->created = !name[0] || !if_nametoindex(name);
	t->fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (t->fd < 0) {
		snprintf(why, why_len, "/dev/net/tun: %s", strerror(errno));
		return -1;
	}
	step = "TUNGETFEATURES";
	if (ioctl(t->fd, TUNGETFEATURES, &features) < 0)
		goto fail;
	if (!(features & IFF_VNET_HDR)) {
		snprintf(why, why_len, "ifname=%s: this kernel's tap has no virtio-net header",
			 name);
		goto out;
	}
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	memcpy(ifr.ifr_name, name, strlen(name));
	step = "TUNSETIFF";
	if (ioctl(t->fd, TUNSETIFF, &ifr) < 0)
		goto fail;
	memcpy(t->name, ifr.ifr_name, TAP_NAME_MAX);
	step = "TUNSETVNETHDRSZ";
	if (ioctl(t->fd, TUNSETVNETHDRSZ, &hdr) < 0)
		goto fail;
	/* Whether the guest may be offered offloads; none until its driver accepts them. */
	t->guest_offload = tap_set_offload(t->fd, true, true, true) == 0;
	step = "TUNSETOFFLOAD";
	if (tap_set_offload(t->fd, false, false, false) < 0)
		goto fail;
	return 0;
fail:
	if (errno == EBUSY)
		snprintf(why, why_len, "ifname=%s: %s: the tap is in use by another process", name,
			 step);
	else if (errno == EINVAL && !strcmp(step, "TUNSETIFF"))
		snprintf(why, why_len, "ifname=%s: %s: not a tap device (or one of another kind)",
			 name, step);
	else
		snprintf(why, why_len, "ifname=%s: %s: %s", name, step, strerror(errno));
out:
	close(t->fd);
	t->fd = -1;
	return -1;
}

void tap_close(struct tap *t)
{
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
}
