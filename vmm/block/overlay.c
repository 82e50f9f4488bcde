// SPDX-License-Identifier: MIT
/*
 * snapshot=on: a private copy-on-write overlay over a read-only image.
 *
 * Writes go to a sparse file of the disk's size that nobody else can open
 * (O_TMPFILE, or a name unlinked at once) and vanishes with the process; a
 * bitmap of OVERLAY_BLOCK blocks says which blocks it holds.  A write that
 * covers part of a block not yet in the overlay first copies that block
 * from below, so a dirty block is always whole.  Reads take each block from
 * the first layer that has it: the private file, then (for a clone) the
 * delta its snapshot carried, then the image.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "block_int.h"
#include "overlay_int.h"

static bool bit_get(const uint64_t *map, uint64_t i)
{
	return (map[i / 64] >> (i % 64)) & 1;
}

static void bit_set(uint64_t *map, uint64_t i)
{
	map[i / 64] |= 1ull << (i % 64);
}

/*
 * The private file.  $TMPDIR, else /var/tmp (QEMU's choice too: /tmp is
 * often RAM, and a guest can fill its disk).  O_TMPFILE leaves no name at
 * all; filesystems without it get a name that is unlinked at once.
 */
static int overlay_tmpfile(char *why, size_t why_len)
{
	const char *dir = getenv("TMPDIR");
	char path[4096];
	int fd, err;

	if (!dir || !*dir)
		dir = "/var/tmp";
	fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0)
		return fd;
	if (snprintf(path, sizeof(path), "%s/genvm-overlay-XXXXXX", dir) >= (int)sizeof(path)) {
		snprintf(why, why_len, "snapshot=on: TMPDIR is too long");
		return -ENAMETOOLONG;
	}
	fd = mkostemp(path, O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		snprintf(why, why_len, "snapshot=on: cannot create the overlay in %s: %s", dir,
			 strerror(errno));
		return err;
	}
	unlink(path);
	return fd;
}

int overlay_new(struct raw *base, struct overlay **out, char *why, size_t why_len)
{
	struct overlay *ov = calloc(1, sizeof(*ov));
	int err;

	*out = NULL;
	if (!ov) {
		snprintf(why, why_len, "snapshot=on: out of memory");
		return -ENOMEM;
	}
	ov->base = base;
	ov->size = base->size;
	ov->nblocks = (base->size + OVERLAY_BLOCK - 1) / OVERLAY_BLOCK;
	ov->words = (size_t)((ov->nblocks + 63) / 64);
	ov->dirty = calloc(ov->words, sizeof(uint64_t));
	ov->block = malloc(OVERLAY_BLOCK);
	if (!ov->dirty || !ov->block) {
		snprintf(why, why_len, "snapshot=on: out of memory for the overlay's bitmap");
		err = -ENOMEM;
		goto fail;
	}
	ov->fd = overlay_tmpfile(why, why_len);
	if (ov->fd < 0) {
		err = ov->fd;
		goto fail;
	}
	/* Sparse: the file takes room only for blocks the guest writes. */
	if (ftruncate(ov->fd, (off_t)ov->size) < 0) {
		err = -errno;
		snprintf(why, why_len, "snapshot=on: cannot size the overlay: %s", strerror(errno));
		close(ov->fd);
		goto fail;
	}
	*out = ov;
	return 0;
fail:
	free(ov->dirty);
	free(ov->block);
	free(ov);
	return err;
}

void overlay_free(struct overlay *ov)
{
	if (!ov)
		return;
	close(ov->fd);
	overlay_lower_drop(ov);
	free(ov->dirty);
	free(ov->block);
	free(ov);
}

uint64_t overlay_dirty_blocks(const struct overlay *ov)
{
	return ov->ndirty;
}

int overlay_fd(const struct overlay *ov)
{
	return ov->fd;
}

enum layer { L_PRIVATE, L_DELTA, L_BASE };

static enum layer layer_of(const struct overlay *ov, uint64_t blk)
{
	if (bit_get(ov->dirty, blk))
		return L_PRIVATE;
	if (ov->lower && bit_get(ov->lower->map, blk))
		return L_DELTA;
	return L_BASE;
}

/* Bytes [off, off + len), all in blocks of one layer, from that layer. */
static int layer_read(struct overlay *ov, enum layer l, const struct iovec *iov, int iovcnt,
		      uint64_t off)
{
	switch (l) {
	case L_PRIVATE:
		return disk_full_preadv(ov->fd, iov, iovcnt, off);
	case L_DELTA:
		return overlay_lower_preadv(ov, iov, iovcnt, off);
	default:
		return raw_preadv(ov->base, iov, iovcnt, off);
	}
}

uint64_t overlay_block_len(const struct overlay *ov, uint64_t blk)
{
	uint64_t start = blk * OVERLAY_BLOCK;

	return ov->size - start < OVERLAY_BLOCK ? ov->size - start : OVERLAY_BLOCK;
}

int overlay_preadv(struct overlay *ov, const struct iovec *iov, int iovcnt, uint64_t off)
{
	int64_t total = disk_iov_total(iov, iovcnt);
	struct iovec *part;
	uint64_t end, pos;
	int ret = 0;

	if (total < 0 || (uint64_t)total > ov->size || off > ov->size - (uint64_t)total)
		return -EINVAL;
	if (total == 0)
		return 0;
	part = calloc((size_t)iovcnt, sizeof(*part));
	if (!part)
		return -ENOMEM;
	end = off + (uint64_t)total;
	/* One transfer per run of blocks that live in the same layer. */
	for (pos = off; pos < end && !ret;) {
		uint64_t blk = pos / OVERLAY_BLOCK;
		enum layer l = layer_of(ov, blk);
		uint64_t run_end = (blk + 1) * OVERLAY_BLOCK;

		while (run_end < end && layer_of(ov, run_end / OVERLAY_BLOCK) == l)
			run_end += OVERLAY_BLOCK;
		if (run_end > end)
			run_end = end;
		int n = disk_iov_slice(iov, iovcnt, (size_t)(pos - off), (size_t)(run_end - pos),
				       part);

		ret = layer_read(ov, l, part, n, pos);
		pos = run_end;
	}
	free(part);
	return ret;
}

/*
 * Copy block blk up from the layers below into the private file, so that a
 * write covering part of it leaves the rest as the guest last saw it.
 */
static int copy_up(struct overlay *ov, uint64_t blk)
{
	uint64_t start = blk * OVERLAY_BLOCK;
	size_t len = (size_t)overlay_block_len(ov, blk);
	struct iovec v = { .iov_base = ov->block, .iov_len = len };
	int ret = layer_read(ov, layer_of(ov, blk), &v, 1, start);

	if (ret)
		return ret;
	return disk_full_pwrite(ov->fd, ov->block, len, start);
}

int overlay_pwritev(struct overlay *ov, const struct iovec *iov, int iovcnt, uint64_t off)
{
	int64_t total = disk_iov_total(iov, iovcnt);
	uint64_t end, first, last;
	int ret;

	if (total < 0 || (uint64_t)total > ov->size || off > ov->size - (uint64_t)total)
		return -EINVAL;
	if (total == 0)
		return 0;
	end = off + (uint64_t)total;
	first = off / OVERLAY_BLOCK;
	last = (end - 1) / OVERLAY_BLOCK;
	/* Only the first and last blocks can be partly covered. */
	if (off % OVERLAY_BLOCK && !bit_get(ov->dirty, first)) {
		ret = copy_up(ov, first);
		if (ret)
			return ret;
		bit_set(ov->dirty, first);
		ov->ndirty++;
	}
	if (end - last * OVERLAY_BLOCK < overlay_block_len(ov, last) && !bit_get(ov->dirty, last)) {
		ret = copy_up(ov, last);
		if (ret)
			return ret;
		bit_set(ov->dirty, last);
		ov->ndirty++;
	}
	ret = disk_full_pwritev(ov->fd, iov, iovcnt, off);
	if (ret)
		return ret;
	/* Mark only after the data is there: a failed write leaves the old view. */
	for (uint64_t b = first; b <= last; b++) {
		if (!bit_get(ov->dirty, b)) {
			bit_set(ov->dirty, b);
			ov->ndirty++;
		}
	}
	return 0;
}

int overlay_put_block(struct overlay *ov, uint64_t blk, const void *buf)
{
	int ret;

	if (blk >= ov->nblocks)
		return -EINVAL;
	ret = disk_full_pwrite(ov->fd, buf, (size_t)overlay_block_len(ov, blk),
			       blk * OVERLAY_BLOCK);
	if (ret)
		return ret;
	if (!bit_get(ov->dirty, blk)) {
		bit_set(ov->dirty, blk);
		ov->ndirty++;
	}
	return 0;
}

int overlay_reset(struct overlay *ov)
{
	overlay_lower_drop(ov);
	memset(ov->dirty, 0, ov->words * sizeof(uint64_t));
	ov->ndirty = 0;
	/* Give the blocks back: the file is as sparse as when it was made. */
	if (ftruncate(ov->fd, 0) < 0 || ftruncate(ov->fd, (off_t)ov->size) < 0)
		return -errno;
	return 0;
}
