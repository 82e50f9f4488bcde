// SPDX-License-Identifier: MIT
/*
 * An overlay's delta: its dirty bitmap and dirty blocks, as a snapshot
 * carries them, and the lower layer a clone reads them from.
 */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "overlay_int.h"

static uint64_t lower_rank(const struct overlay_lower *lo, uint64_t blk)
{
	uint64_t w = lo->map[blk / 64];
	unsigned bit = (unsigned)(blk % 64);
	uint64_t below = bit ? w & ((1ull << bit) - 1) : 0;

	return lo->rank[blk / 64] + (uint64_t)__builtin_popcountll(below);
}

int overlay_lower_preadv(struct overlay *ov, const struct iovec *iov, int iovcnt, uint64_t off)
{
	const struct overlay_lower *lo = ov->lower;
	uint64_t blk = off / OVERLAY_BLOCK;

	/* The caller's run is consecutive set bits, so the blocks sit end to end. */
	return disk_full_preadv(lo->fd, iov, iovcnt,
				lo->data_off + lower_rank(lo, blk) * OVERLAY_BLOCK +
					off % OVERLAY_BLOCK);
}

void overlay_lower_drop(struct overlay *ov)
{
	struct overlay_lower *lo = ov->lower;

	if (!lo)
		return;
	if (lo->fd >= 0)
		close(lo->fd);
	free(lo->map);
	free(lo->rank);
	free(lo);
	ov->lower = NULL;
}
