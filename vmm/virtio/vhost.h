/* SPDX-License-Identifier: MIT */
/*
 * A virtio-mmio device's queues handed to the host kernel's vhost
 * (/dev/vhost-net, /dev/vhost-vsock) and taken back: what vhost_net.c and
 * vhost_vsock.c share.  Each device opens its own vhost fd, checks its own
 * features and says when to start and stop (the tap backend, RUNNING);
 * this part tells vhost where guest RAM is, where each ring lies in it and
 * where the ring positions stand, and, when vhost stops, reads those
 * positions back into the transport's queue state, so that a snapshot
 * holds them as it would with genvm's own worker serving the queues.
 *
 * vhost's queue i is the transport's queue i; kick_fd[i] and call_fd[i]
 * are its notification and interrupt eventfds.
 */
#ifndef GENVM_VIRTIO_VHOST_H
#define GENVM_VIRTIO_VHOST_H

#include "vmgenid/guest_mem.h"

#include "mmio.h"

/* VHOST_SET_MEM_TABLE with guest RAM's ranges; 0, or -1 with errno set. */
int vhost_set_mem(int fd, const struct vmgenid_guest_mem *mem);

/*
 * Queues 0 .. nr - 1 that the driver made ready (the others are skipped):
 * size, ring position (last_avail), ring addresses, kick and call.
 * Under the transport's lock.  0, or -1 with errno set: EFAULT for a ring
 * outside guest RAM (vhost is not asked anything about that queue), else
 * the errno of the ioctl that failed.
 */
int vhost_give_queues(int fd, const struct virtio_mmio *d, unsigned int nr, const int *kick_fd,
		      const int *call_fd);

/*
 * After vhost stopped (the device's own ioctl), under the transport's
 * lock: each ready queue's positions back from vhost and the used ring.  A
 * queue vhost cannot report on keeps the state it had.
 */
void vhost_take_queues(int fd, struct virtio_mmio *d, unsigned int nr);

#endif
