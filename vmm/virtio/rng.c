// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "vmgenid/log.h"

#include "rng.h"

struct virtio_rng *virtio_rng_new(const struct vmgenid_guest_mem *mem, const struct virtio_mmio_ops *ops)
{
	struct virtio_rng *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	virtio_mmio_init(&r->mmio, mem, VIRTIO_ID_RNG,
			 (1ull << VIRTIO_F_INDIRECT_DESC) | (1ull << VIRTIO_F_EVENT_IDX), 1, NULL, 0,
			 ops);
	return r;
}

void virtio_rng_free(struct virtio_rng *r)
{
	if (!r)
		return;
	virtio_mmio_destroy(&r->mmio);
	free(r);
}

/* Fill len bytes; getrandom() gives at most 32 MiB a call and may be interrupted. */
static size_t fill(uint8_t *p, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = getrandom(p + done, len - done, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			vmgenid_pr_warn("virtio-rng", "getrandom: %s", strerror(errno));
			break;
		}
		done += (size_t)n;
	}
	return done;
}

void virtio_rng_process(struct virtio_rng *r)
{
	struct virtq_chain *c = &r->chain;

	while (virtio_mmio_begin(&r->mmio, 0, c) > 0) {
		size_t budget = VIRTIO_RNG_MAX_REQUEST, total = 0;

		/* Readable buffers mean nothing to this device: only the writable ones count. */
		for (unsigned int i = c->nr_out; i < c->nr_out + c->nr_in && budget; i++) {
			size_t want = c->iov[i].iov_len < budget ? c->iov[i].iov_len : budget;
			size_t got = fill(c->iov[i].iov_base, want);

			total += got;
			budget -= got;
			if (got < want)
				break;
		}
		virtio_mmio_end(&r->mmio, 0, c->head, (uint32_t)total);
	}
}
