/* SPDX-License-Identifier: MIT */
/*
 * The overlay's insides, shared by overlay.c (the I/O paths) and delta.c
 * (saving the overlay into a snapshot and starting one from it).
 */
#ifndef GENVM_OVERLAY_INT_H
#define GENVM_OVERLAY_INT_H

#include <stdint.h>
#include <sys/uio.h>

#include "block_int.h"

/*
 * A clone's middle layer: the dirty blocks its snapshot carried, read in
 * place from the snapshot file.  Block i (a set bit in map) is stored at
 * data_off + rank(i) * OVERLAY_BLOCK, where rank(i) counts the set bits
 * before i; rank[w] holds that count for the start of word w.
 */
struct overlay_lower {
	int fd;
	uint64_t data_off;
	uint64_t *map;
	uint64_t *rank;
	uint64_t count;
};

struct overlay {
	struct raw *base;
	uint64_t size;
	uint64_t nblocks;
	size_t words;	  /* of the bitmaps */
	int fd;		  /* the private file */
	uint64_t *dirty;  /* blocks in the private file */
	uint64_t ndirty;
	char *block;	  /* one block, for copy-up */
	struct overlay_lower *lower; /* NULL unless a clone started from a delta */
};

/* Bytes in block blk: OVERLAY_BLOCK, less for a short last block. */
uint64_t overlay_block_len(const struct overlay *ov, uint64_t blk);
/* Put one block (block_len bytes of buf) in the private file and mark it. */
int overlay_put_block(struct overlay *ov, uint64_t blk, const void *buf);
/* Forget every write and the lower layer: the overlay as overlay_new made it. */
int overlay_reset(struct overlay *ov);

/* Read bytes of blocks that are all in the lower layer. */
int overlay_lower_preadv(struct overlay *ov, const struct iovec *iov, int iovcnt, uint64_t off);
void overlay_lower_drop(struct overlay *ov);

#endif
