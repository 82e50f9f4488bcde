/* SPDX-License-Identifier: MIT */
/*
 * virtio-blk (virtio 1.2, 5.2) over a drive's backend (block/disk.h):
 * IN, OUT, FLUSH and GET_ID, served by the device's worker thread.
 */
#ifndef GENVM_VIRTIO_BLK_H
#define GENVM_VIRTIO_BLK_H

#include <stdint.h>

#include "disk.h"
#include "mmio.h"

#define VIRTIO_ID_BLOCK 2

#define VIRTIO_BLK_F_SEG_MAX 2
#define VIRTIO_BLK_F_RO 5
#define VIRTIO_BLK_F_BLK_SIZE 6
#define VIRTIO_BLK_F_FLUSH 9

#define VIRTIO_BLK_T_IN 0
#define VIRTIO_BLK_T_OUT 1
#define VIRTIO_BLK_T_FLUSH 4
#define VIRTIO_BLK_T_GET_ID 8

#define VIRTIO_BLK_S_OK 0
#define VIRTIO_BLK_S_IOERR 1
#define VIRTIO_BLK_S_UNSUPP 2

#define VIRTIO_BLK_ID_BYTES 20
#define VIRTIO_BLK_SEG_MAX (VIRTQ_MAX_SIZE - 2) /* leaves the header and status */

struct virtio_blk {
	struct virtio_mmio mmio;
	struct disk *disk;     /* not owned */
	uint64_t capacity;     /* sectors */
	char serial[VIRTIO_BLK_ID_BYTES];
	/* The worker's scratch: one request at a time. */
	struct virtq_chain chain;
	struct iovec data[VIRTQ_MAX_SEGS];
};

/* NULL when out of memory.  serial: up to 20 bytes, "" for none. */
struct virtio_blk *virtio_blk_new(const struct vmgenid_guest_mem *mem, struct disk *disk,
				  const char *serial, const struct virtio_mmio_ops *ops);
void virtio_blk_free(struct virtio_blk *b);

/* The worker: serve every request the driver has made available. */
void virtio_blk_process(struct virtio_blk *b);

#endif
