/* SPDX-License-Identifier: MIT */
/*
 * virtio-rng (virtio 1.2, 5.4): one queue of device-writable buffers,
 * filled from the host's getrandom() by the device's worker thread.  A
 * clone restored from a snapshot draws fresh host entropy at once.
 */
#ifndef GENVM_VIRTIO_RNG_H
#define GENVM_VIRTIO_RNG_H

#include "mmio.h"

#define VIRTIO_ID_RNG 4
/* The most bytes one request gets: a guest asking for gigabytes waits its turn. */
#define VIRTIO_RNG_MAX_REQUEST 65536u

struct virtio_rng {
	struct virtio_mmio mmio;
	struct virtq_chain chain;
};

struct virtio_rng *virtio_rng_new(const struct vmgenid_guest_mem *mem, const struct virtio_mmio_ops *ops);
void virtio_rng_free(struct virtio_rng *r);
void virtio_rng_process(struct virtio_rng *r);

#endif
