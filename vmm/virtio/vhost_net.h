/* SPDX-License-Identifier: MIT */
/*
 * virtio-net with the host kernel moving the frames (-netdev tap,vhost=on):
 * /dev/vhost-net reads and writes the guest's receive and transmit rings
 * and the tap itself.  The device stays virtio_net (net.h: registers,
 * features, MAC, snapshot part); this is its data path in place of the
 * worker's.  The tap keeps its 12-byte virtio-net header, so vhost passes
 * the header through and the offloads work as without vhost.
 *
 * As with vhost-vsock (vhost_vsock.h): the queue notifications go straight
 * to vhost through one KVM_IOEVENTFD per queue; vhost's calls come to the
 * slot's worker, which sets InterruptStatus and sends the edge, as
 * virtio-mmio needs.  vhost runs while the driver is at DRIVER_OK and the
 * machine is not paused; stopping detaches the tap from both queues and
 * reads vhost's ring positions back into the transport's queue state, so
 * a snapshot holds them as with vhost=off.
 */
#ifndef GENVM_VIRTIO_VHOST_NET_H
#define GENVM_VIRTIO_VHOST_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net.h"
#include "vhost.h"

#define VHOST_NET_DEVICE "/dev/vhost-net"

struct vhost_net {
	struct virtio_net *net; /* the device whose rings vhost serves */
	int fd;                 /* /dev/vhost-net */
	int tap_fd;             /* the backend of both queues while running */
	/*
	 * rx, tx: KVM_IOEVENTFD writes the kicks, vhost polls them; vhost
	 * writes the calls, the worker turns them into interrupts.
	 */
	int kick_fd[VHOST_NR_QUEUES];
	int call_fd[VHOST_NR_QUEUES];
	uint64_t backend_features;
	bool running;           /* under net->mmio.lock */
	bool paused;            /* under net->mmio.lock: quiesced, vhost stopped */
};

/*
 * Open device (VHOST_NET_DEVICE; tests give another path), take ownership,
 * check it can serve virtio_net's rings (VERSION_1, EVENT_IDX,
 * INDIRECT_DESC, MRG_RXBUF) and give it the guest's memory.  NULL with a
 * sentence in why; without the device QEMU's "tap: open vhost char device
 * failed: <errno>".
 */
struct vhost_net *vhost_net_new(const char *device, const struct vmgenid_guest_mem *mem,
				struct virtio_net *net, int tap_fd, char *why, size_t why_len);
void vhost_net_free(struct vhost_net *v);

/* The transport's status hook (mmio.h), under the lock: start at DRIVER_OK, stop at a reset. */
int vhost_net_status(struct vhost_net *v, uint32_t old, uint32_t now);

/* Pause and resume with the machine; post_load: run from the restored ring positions. */
void vhost_net_quiesce(struct vhost_net *v);
void vhost_net_resume(struct vhost_net *v);
void vhost_net_post_load(struct vhost_net *v);

/* The worker: wait for vhost's calls (and stop_fd, to end), raise the interrupt. */
void vhost_net_step(struct vhost_net *v, int stop_fd, int timeout_ms);

#endif
