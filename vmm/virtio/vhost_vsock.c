// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <linux/vhost.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "vmgenid/endian.h"
#include "vmgenid/log.h"

#include "vhost.h"
#include "vhost_vsock.h"
#include "vsock.h"

#define MOD "vhost-vsock"

/* What genvm's transport can offer on the backend's behalf. */
#define OFFERABLE                                                                          \
	((1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_F_EVENT_IDX) |                      \
	 (1ull << VIRTIO_F_INDIRECT_DESC))

struct vhost_vsock *vhost_vsock_new(const struct vmgenid_guest_mem *mem, uint32_t guest_cid,
				    const struct virtio_mmio_ops *ops, char *why, size_t why_len)
{
	struct vhost_vsock *v = calloc(1, sizeof(*v));
	uint64_t cid = guest_cid;
	uint8_t config[8];

	if (!v) {
		snprintf(why, why_len, "out of memory");
		return NULL;
	}
	v->fd = v->kick_fd[0] = v->kick_fd[1] = v->call_fd[0] = v->call_fd[1] = -1;
	v->guest_cid = guest_cid;
	atomic_init(&v->reset_pending, false);
	v->fd = open(VHOST_VSOCK_DEVICE, O_RDWR | O_CLOEXEC);
	if (v->fd < 0) {
		snprintf(why, why_len, "%s: %s%s", VHOST_VSOCK_DEVICE, strerror(errno),
			 errno == ENOENT ? " (load the vhost_vsock module, or use -device vsock,uds=PATH)"
					 : "");
		goto fail;
	}
	if (ioctl(v->fd, VHOST_SET_OWNER) < 0 ||
	    ioctl(v->fd, VHOST_GET_FEATURES, &v->backend_features) < 0) {
		snprintf(why, why_len, "%s: %s", VHOST_VSOCK_DEVICE, strerror(errno));
		goto fail;
	}
	if (!(v->backend_features & (1ull << VIRTIO_F_VERSION_1))) {
		snprintf(why, why_len, "%s: the host kernel's vhost-vsock lacks VIRTIO_F_VERSION_1",
			 VHOST_VSOCK_DEVICE);
		goto fail;
	}
	if (vhost_set_mem(v->fd, mem) < 0) {
		snprintf(why, why_len, "%s: the guest's memory: %s", VHOST_VSOCK_DEVICE,
			 strerror(errno));
		goto fail;
	}
	if (ioctl(v->fd, VHOST_VSOCK_SET_GUEST_CID, &cid) < 0) {
		if (errno == EADDRINUSE)
			snprintf(why, why_len, "guest-cid=%u is in use by another VM on this host",
				 guest_cid);
		else
			snprintf(why, why_len, "guest-cid=%u: %s", guest_cid, strerror(errno));
		goto fail;
	}
	if (vhost_open_eventfds(v->kick_fd, v->call_fd) < 0) {
		snprintf(why, why_len, "eventfd: %s", strerror(errno));
		goto fail;
	}
	vmgenid_put_le64(config, guest_cid);
	virtio_mmio_init(&v->mmio, mem, VIRTIO_ID_VSOCK, v->backend_features & OFFERABLE, 3, config,
			 sizeof(config), ops);
	return v;
fail:
	if (v->fd >= 0)
		close(v->fd);
	vhost_close_eventfds(v->kick_fd, v->call_fd);
	free(v);
	return NULL;
}

void vhost_vsock_free(struct vhost_vsock *v)
{
	if (!v)
		return;
	pthread_mutex_lock(&v->mmio.lock);
	if (v->running) {
		int off = 0;

		ioctl(v->fd, VHOST_VSOCK_SET_RUNNING, &off);
	}
	pthread_mutex_unlock(&v->mmio.lock);
	if (v->fd >= 0)
		close(v->fd);
	vhost_close_eventfds(v->kick_fd, v->call_fd);
	virtio_mmio_destroy(&v->mmio);
	free(v);
}

/* Under the lock: hand the rings to vhost and let it run. */
static int start_locked(struct vhost_vsock *v)
{
	struct virtio_mmio *d = &v->mmio;
	uint64_t features = d->driver_features & v->backend_features;
	int on = 1;

	if (v->running || v->paused)
		return 0;
	if (ioctl(v->fd, VHOST_SET_FEATURES, &features) < 0)
		goto fail;
	if (vhost_give_queues(v->fd, d, VHOST_NR_QUEUES, v->kick_fd, v->call_fd) < 0)
		goto fail;
	if (ioctl(v->fd, VHOST_VSOCK_SET_RUNNING, &on) < 0)
		goto fail;
	v->running = true;
	return 0;
fail:
	vmgenid_pr_warn(MOD, "starting the queues: %s", strerror(errno));
	return -1;
}

/* Under the lock: stop vhost and take its ring positions into the transport's state. */
static void stop_locked(struct vhost_vsock *v)
{
	struct virtio_mmio *d = &v->mmio;
	int off = 0;

	if (!v->running)
		return;
	if (ioctl(v->fd, VHOST_VSOCK_SET_RUNNING, &off) < 0)
		vmgenid_pr_warn(MOD, "stopping: %s", strerror(errno));
	v->running = false;
	vhost_take_queues(v->fd, d, VHOST_NR_QUEUES);
}

int vhost_vsock_status(struct vhost_vsock *v, uint32_t old, uint32_t now)
{
	if (!now) {
		stop_locked(v);
		return 0;
	}
	if ((now & VIRTIO_STATUS_DRIVER_OK) && !(old & VIRTIO_STATUS_DRIVER_OK))
		return start_locked(v);
	return 0;
}

static bool driver_ok_locked(const struct vhost_vsock *v)
{
	return (v->mmio.status & (VIRTIO_STATUS_DRIVER_OK | VIRTIO_STATUS_NEEDS_RESET)) ==
	       VIRTIO_STATUS_DRIVER_OK;
}

void vhost_vsock_quiesce(struct vhost_vsock *v)
{
	pthread_mutex_lock(&v->mmio.lock);
	stop_locked(v);
	v->paused = true;
	pthread_mutex_unlock(&v->mmio.lock);
	virtio_mmio_quiesce(&v->mmio);
}

void vhost_vsock_resume(struct vhost_vsock *v)
{
	pthread_mutex_lock(&v->mmio.lock);
	v->paused = false;
	if (driver_ok_locked(v) && start_locked(v) < 0)
		v->mmio.status |= VIRTIO_STATUS_NEEDS_RESET;
	pthread_mutex_unlock(&v->mmio.lock);
	virtio_mmio_resume(&v->mmio);
}

void vhost_vsock_post_load(struct vhost_vsock *v, int kick_fd)
{
	uint64_t one = 1;

	/* The transport state is loaded: vhost takes the rings where the snapshot left them. */
	pthread_mutex_lock(&v->mmio.lock);
	stop_locked(v);
	if (driver_ok_locked(v) && start_locked(v) < 0)
		v->mmio.status |= VIRTIO_STATUS_NEEDS_RESET;
	pthread_mutex_unlock(&v->mmio.lock);
	atomic_store(&v->reset_pending, true);
	if (write(kick_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		vmgenid_pr_warn(MOD, "waking the worker: %s", strerror(errno));
}

void vhost_vsock_step(struct vhost_vsock *v, int kick_fd, int timeout_ms)
{
	uint8_t ev[4];

	/* The event queue's kick, or the post-load wake, is what the reset waits for. */
	vhost_forward_calls(&v->mmio, v->call_fd, kick_fd, timeout_ms);
	if (!atomic_load(&v->reset_pending) ||
	    virtio_mmio_begin(&v->mmio, VSOCK_QUEUE_EVENT, &v->chain) <= 0)
		return;
	atomic_store(&v->reset_pending, false);
	if (v->chain.in_len < sizeof(ev)) {
		virtio_mmio_fail(&v->mmio, "an event buffer shorter than an event");
		return;
	}
	vmgenid_put_le32(ev, VSOCK_EVENT_TRANSPORT_RESET);
	iov_copy_to(v->chain.iov + v->chain.nr_out, v->chain.nr_in, 0, ev, sizeof(ev));
	virtio_mmio_end(&v->mmio, VSOCK_QUEUE_EVENT, v->chain.head, sizeof(ev));
}
