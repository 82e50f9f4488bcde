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
 * are its notification and interrupt eventfds.  Both devices give vhost
 * their first two queues (receive, transmit); vsock keeps its event queue.
 */
#ifndef GENVM_VIRTIO_VHOST_H
#define GENVM_VIRTIO_VHOST_H

#include "vmgenid/guest_mem.h"

#include "mmio.h"

#define VHOST_NR_QUEUES 2

/*
 * VHOST_NR_QUEUES kick and call eventfds (non-blocking, close-on-exec).
 * 0, or -1 with errno set; either way vhost_close_eventfds closes what is
 * open, so the arrays must start at -1.
 */
int vhost_open_eventfds(int *kick_fd, int *call_fd);
void vhost_close_eventfds(int *kick_fd, int *call_fd);

/*
 * The device worker's wait: up to timeout_ms (-1: for ever) for wake_fd
 * or one of vhost's calls.  Every eventfd that fired is read; a call is
 * the transport's interrupt, raised here because virtio-mmio's
 * InterruptStatus is genvm's to set, not vhost's.
 */
void vhost_forward_calls(struct virtio_mmio *d, const int *call_fd, int wake_fd, int timeout_ms);

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
