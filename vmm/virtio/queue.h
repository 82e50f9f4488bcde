/* SPDX-License-Identifier: MIT */
/*
 * Split virtqueues (virtio 1.2, 2.7): the device's side of the descriptor
 * table, the driver ("avail") ring and the device ("used") ring.
 *
 * Everything here reads guest memory the guest may be rewriting at the
 * same moment, so every descriptor is copied once and checked, every
 * buffer is turned into a host pointer by guest_mem (which refuses
 * anything not wholly inside RAM), and every walk is bounded.  A queue
 * the guest has broken gives an error with a reason; the transport then
 * sets DEVICE_NEEDS_RESET.  Nothing here takes locks: the owner of the
 * queue (its device's worker) calls it.
 */
#ifndef GENVM_VIRTIO_QUEUE_H
#define GENVM_VIRTIO_QUEUE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "vmgenid/guest_mem.h"

#define VIRTQ_DESC_F_NEXT 1u
#define VIRTQ_DESC_F_WRITE 2u
#define VIRTQ_DESC_F_INDIRECT 4u
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1u

#define VIRTQ_DESC_SIZE 16u
/* The largest queue we offer (QueueNumMax). */
#define VIRTQ_MAX_SIZE 256u
/* The most segments one chain may have, direct or through its indirect table. */
#define VIRTQ_MAX_SEGS 1024u

struct virtq {
	/* Set by the driver through the transport. */
	uint16_t size;      /* QueueNum: a power of two, 1..VIRTQ_MAX_SIZE */
	bool ready;
	uint64_t desc;      /* descriptor table, 16-byte aligned */
	uint64_t avail;     /* driver ring, 2-byte aligned */
	uint64_t used;      /* device ring, 4-byte aligned */
	bool event_idx;     /* VIRTIO_F_EVENT_IDX negotiated */
	bool indirect;      /* VIRTIO_F_INDIRECT_DESC negotiated */

	/* The device's position. */
	uint16_t last_avail; /* next driver ring entry to take */
	uint16_t used_idx;   /* next device ring entry to fill */
	uint16_t signalled;  /* used_idx when the driver was last considered for an interrupt */
};

/* One request: device-readable segments first, then device-writable ones. */
struct virtq_chain {
	uint16_t head;
	unsigned int nr_out;
	unsigned int nr_in;
	uint64_t out_len;
	uint64_t in_len;
	struct iovec iov[VIRTQ_MAX_SEGS]; /* out: [0, nr_out), in: [nr_out, nr_out + nr_in) */
};

/* Reset to the state after a device reset: not ready, no addresses. */
void virtq_reset(struct virtq *q);

/*
 * The checks at QueueReady = 1 (2.7 and 4.2.2.2): size a power of two and
 * at most max, rings aligned and wholly inside guest RAM.  0, or -EINVAL
 * with a reason.
 */
int virtq_check(const struct vmgenid_guest_mem *mem, const struct virtq *q, uint16_t max,
		const char **why);

/*
 * Take the next available chain: 1 with *c filled, 0 when the driver has
 * made nothing new available, or -EINVAL with a reason when the ring or the
 * chain is malformed (an index out of range, a loop, an avail index more
 * than size ahead, a zero-length buffer, a buffer outside RAM, a readable
 * segment after a writable one, an indirect table where it must not be, too
 * large, nested or not negotiated).  On an error nothing was consumed.
 * With EVENT_IDX, an empty queue also publishes avail_event, and checks
 * once more so that nothing made available meanwhile goes unnoticed.
 */
int virtq_pop(const struct vmgenid_guest_mem *mem, struct virtq *q, struct virtq_chain *c,
	      const char **why);

/* Return a chain with len bytes written into its writable part: 0 or -EFAULT. */
int virtq_push(const struct vmgenid_guest_mem *mem, struct virtq *q, uint16_t head, uint32_t len);

/*
 * Return n chains at once, published by one used-index update, so a driver
 * never sees the first buffers of a packet without the rest (virtio-net's
 * mergeable receive buffers).  0 or -EFAULT (nothing published).
 */
int virtq_push_many(const struct vmgenid_guest_mem *mem, struct virtq *q, const uint16_t *heads,
		    const uint32_t *lens, unsigned int n);

/*
 * After pushes: whether the driver wants an interrupt for what was pushed
 * since the last call (VIRTQ_AVAIL_F_NO_INTERRUPT, or used_event with
 * EVENT_IDX).
 */
bool virtq_should_notify(const struct vmgenid_guest_mem *mem, struct virtq *q);

/* Whether the driver has made buffers available that are not taken yet. */
bool virtq_has_work(const struct vmgenid_guest_mem *mem, const struct virtq *q);

/* Copy up to len bytes out of / into a chain's segments; the bytes copied. */
size_t iov_copy_from(const struct iovec *iov, unsigned int n, size_t skip, void *dst,
		     size_t len);
size_t iov_copy_to(const struct iovec *iov, unsigned int n, size_t skip, const void *src,
		   size_t len);

#endif
