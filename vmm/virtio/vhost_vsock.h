/* SPDX-License-Identifier: MIT */
/*
 * virtio-vsock served by the host kernel (-device vhost-vsock-device,
 * guest-cid=N): /dev/vhost-vsock moves the receive and transmit queues'
 * packets itself, between the guest's rings and the host's AF_VSOCK
 * sockets, so the CID must be unique on the host.  genvm keeps the
 * transport (registers, features, status), the event queue, and the
 * interrupt: virtio-mmio's InterruptStatus must say "used ring" before the
 * guest looks at a queue, so vhost's call eventfds come to the worker,
 * which sets the bit and sends the edge.
 *
 * The queue notifications go straight to vhost: one KVM_IOEVENTFD per
 * queue, matched on the index written to QueueNotify (queue 2, the event
 * queue, to the slot's own eventfd).  vhost runs while the driver is at
 * DRIVER_OK and the machine is not paused; a pause (snapshots) stops it and
 * reads its ring positions back into the transport's queue state, so a
 * snapshot holds them like any other device's.  After a restore the event
 * queue carries TRANSPORT_RESET, as with the hybrid device.
 */
#ifndef GENVM_VIRTIO_VHOST_VSOCK_H
#define GENVM_VIRTIO_VHOST_VSOCK_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "mmio.h"
#include "vhost.h"

#define VHOST_VSOCK_DEVICE "/dev/vhost-vsock"

struct vhost_vsock {
	struct virtio_mmio mmio;
	uint32_t guest_cid;
	int fd;             /* /dev/vhost-vsock */
	/*
	 * rx, tx: KVM_IOEVENTFD writes the kicks, vhost polls them; vhost
	 * writes the calls, the worker turns them into interrupts.
	 */
	int kick_fd[VHOST_NR_QUEUES];
	int call_fd[VHOST_NR_QUEUES];
	uint64_t backend_features;
	bool running;       /* under mmio.lock */
	bool paused;        /* under mmio.lock: quiesced, vhost stopped */
	atomic_bool reset_pending;
	struct virtq_chain chain;
};

/*
 * Open the device, take ownership, tell it the guest's memory and CID.
 * NULL with a sentence in why (no /dev/vhost-vsock, the CID taken ...).
 */
struct vhost_vsock *vhost_vsock_new(const struct vmgenid_guest_mem *mem, uint32_t guest_cid,
				    const struct virtio_mmio_ops *ops, char *why, size_t why_len);
void vhost_vsock_free(struct vhost_vsock *v);

/* The transport's status hook (mmio.h): start at DRIVER_OK, stop at a reset. */
int vhost_vsock_status(struct vhost_vsock *v, uint32_t old, uint32_t now);

/* Pause and resume with the machine; post_load: run again and reset the guest's transport. */
void vhost_vsock_quiesce(struct vhost_vsock *v);
void vhost_vsock_resume(struct vhost_vsock *v);
void vhost_vsock_post_load(struct vhost_vsock *v, int kick_fd);

/* The worker: wait for vhost's calls and the event queue's kicks (kick_fd), serve them. */
void vhost_vsock_step(struct vhost_vsock *v, int kick_fd, int timeout_ms);

#endif
