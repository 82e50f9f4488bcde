// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <linux/vhost.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "vmgenid/log.h"

#include "vhost.h"
#include "vhost_net.h"

#define MOD "vhost-net"

#define BIT(f) (1ull << (f))
/*
 * What virtio_net offers that concerns the rings: vhost must do all of it,
 * so a NIC offers the same with vhost=on as with vhost=off and a snapshot
 * of either restores onto the other.  The device's own bits (MAC, the
 * offloads) are the tap's business, not vhost's.
 */
#define RING_FEATURES                                                                      \
	(BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_F_EVENT_IDX) | BIT(VIRTIO_F_INDIRECT_DESC) |  \
	 BIT(VIRTIO_NET_F_MRG_RXBUF))

struct vhost_net *vhost_net_new(const char *device, const struct vmgenid_guest_mem *mem,
				struct virtio_net *net, int tap_fd, char *why, size_t why_len)
{
	struct vhost_net *v = calloc(1, sizeof(*v));

	if (!v) {
		snprintf(why, why_len, "out of memory");
		return NULL;
	}
	v->net = net;
	v->tap_fd = tap_fd;
	v->fd = v->kick_fd[0] = v->kick_fd[1] = v->call_fd[0] = v->call_fd[1] = -1;
	v->fd = open(device, O_RDWR | O_CLOEXEC);
	if (v->fd < 0) {
		/* QEMU's words, so scripts that look for them find them. */
		snprintf(why, why_len, "tap: open vhost char device failed: %s%s", strerror(errno),
			 errno == ENOENT ? " (load the vhost_net module, or use vhost=off)" : "");
		goto fail;
	}
	if (ioctl(v->fd, VHOST_SET_OWNER) < 0 ||
	    ioctl(v->fd, VHOST_GET_FEATURES, &v->backend_features) < 0) {
		snprintf(why, why_len, "vhost-net: %s: %s", device, strerror(errno));
		goto fail;
	}
	if ((v->backend_features & RING_FEATURES) != RING_FEATURES) {
		snprintf(why, why_len,
			 "vhost-net: %s lacks VERSION_1, EVENT_IDX, INDIRECT_DESC or MRG_RXBUF",
			 device);
		goto fail;
	}
	if (vhost_set_mem(v->fd, mem) < 0) {
		snprintf(why, why_len, "vhost-net: the guest's memory: %s", strerror(errno));
		goto fail;
	}
	if (vhost_open_eventfds(v->kick_fd, v->call_fd) < 0) {
		snprintf(why, why_len, "eventfd: %s", strerror(errno));
		goto fail;
	}
	return v;
fail:
	vhost_net_free(v);
	return NULL;
}

/* Under the lock: detach the tap from vhost's queues and take its ring positions back. */
static void stop_locked(struct vhost_net *v)
{
	struct virtio_mmio *d = &v->net->mmio;

	if (!v->running)
		return;
	v->running = false;
	for (unsigned int i = 0; i < VHOST_NR_QUEUES; i++) {
		struct vhost_vring_file off = { .index = i, .fd = -1 };

		if (ioctl(v->fd, VHOST_NET_SET_BACKEND, &off) < 0)
			vmgenid_pr_warn(MOD, "stopping queue %u: %s", i, strerror(errno));
	}
	vhost_take_queues(v->fd, d, VHOST_NR_QUEUES);
}

/* Under the lock: hand the rings and the tap to vhost. */
static int start_locked(struct vhost_net *v)
{
	struct virtio_mmio *d = &v->net->mmio;
	uint64_t features = d->driver_features & v->backend_features & RING_FEATURES;

	if (v->running || v->paused)
		return 0;
	/* The tap hands the guest only the offloads its driver accepted, as without vhost. */
	virtio_net_apply_offload(v->net, d->driver_features);
	if (ioctl(v->fd, VHOST_SET_FEATURES, &features) < 0)
		goto fail;
	if (vhost_give_queues(v->fd, d, VHOST_NR_QUEUES, v->kick_fd, v->call_fd) < 0)
		goto fail;
	v->running = true;
	for (unsigned int i = 0; i < VHOST_NR_QUEUES; i++) {
		struct vhost_vring_file be = { .index = i, .fd = v->tap_fd };

		if (d->queues[i].ready && ioctl(v->fd, VHOST_NET_SET_BACKEND, &be) < 0) {
			int err = errno;

			stop_locked(v);
			errno = err;
			goto fail;
		}
	}
	return 0;
fail:
	vmgenid_pr_warn(MOD, "starting the queues: %s", strerror(errno));
	return -1;
}

void vhost_net_free(struct vhost_net *v)
{
	if (!v)
		return;
	if (v->running) {
		pthread_mutex_lock(&v->net->mmio.lock);
		stop_locked(v);
		pthread_mutex_unlock(&v->net->mmio.lock);
	}
	if (v->fd >= 0)
		close(v->fd);
	vhost_close_eventfds(v->kick_fd, v->call_fd);
	free(v);
}

int vhost_net_status(struct vhost_net *v, uint32_t old, uint32_t now)
{
	if (!now) {
		stop_locked(v);
		/* A reset driver has accepted nothing: the tap finishes everything again. */
		virtio_net_apply_offload(v->net, 0);
		return 0;
	}
	if ((now & VIRTIO_STATUS_DRIVER_OK) && !(old & VIRTIO_STATUS_DRIVER_OK))
		return start_locked(v);
	return 0;
}

static bool driver_ok_locked(const struct vhost_net *v)
{
	return (v->net->mmio.status & (VIRTIO_STATUS_DRIVER_OK | VIRTIO_STATUS_NEEDS_RESET)) ==
	       VIRTIO_STATUS_DRIVER_OK;
}

void vhost_net_quiesce(struct vhost_net *v)
{
	pthread_mutex_lock(&v->net->mmio.lock);
	stop_locked(v);
	v->paused = true;
	pthread_mutex_unlock(&v->net->mmio.lock);
	virtio_mmio_quiesce(&v->net->mmio);
}

void vhost_net_resume(struct vhost_net *v)
{
	pthread_mutex_lock(&v->net->mmio.lock);
	v->paused = false;
	if (driver_ok_locked(v) && start_locked(v) < 0)
		v->net->mmio.status |= VIRTIO_STATUS_NEEDS_RESET;
	pthread_mutex_unlock(&v->net->mmio.lock);
	virtio_mmio_resume(&v->net->mmio);
}

void vhost_net_post_load(struct vhost_net *v)
{
	/* The transport state is loaded: vhost takes the rings where the snapshot left them. */
	pthread_mutex_lock(&v->net->mmio.lock);
	stop_locked(v);
	if (driver_ok_locked(v) && start_locked(v) < 0)
		v->net->mmio.status |= VIRTIO_STATUS_NEEDS_RESET;
	pthread_mutex_unlock(&v->net->mmio.lock);
}

void vhost_net_step(struct vhost_net *v, int stop_fd, int timeout_ms)
{
	vhost_forward_calls(&v->net->mmio, v->call_fd, stop_fd, timeout_ms);
}
