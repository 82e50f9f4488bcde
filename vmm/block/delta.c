// SPDX-License-Identifier: MIT
/*
 * The drives' region of a snapshot (format in delta.h) and the lower layer
 * a clone reads the source's blocks from.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmgenid/endian.h"

#include "delta.h"
#include "disk.h"
#include "overlay_int.h"
#include "snapstream.h"
#include "why.h"

#define REGION_MAGIC "GENVMDSK"
#define TRAILER_MAGIC "GENVMDSE"
#define REGION_VERSION 1
#define DESC_OFF 64
#define DESC_SIZE 64
#define CRC_OFF (DISK_REGION_PAGE - 4)
#define FLAG_DELTA 1u
#define CHUNK (1u << 20) /* bytes of blocks moved at a time */

typedef unsigned long long ull;

static uint64_t page_up(uint64_t v)
{
	return (v + DISK_REGION_PAGE - 1) & ~(uint64_t)(DISK_REGION_PAGE - 1);
}

static uint64_t nr_blocks(uint64_t size)
{
	return (size + OVERLAY_BLOCK - 1) / OVERLAY_BLOCK;
}

static uint64_t nr_words(uint64_t size)
{
	return (nr_blocks(size) + 63) / 64;
}

static uint64_t popcount_map(const uint64_t *map, uint64_t words)
{
	uint64_t n = 0;

	for (uint64_t w = 0; w < words; w++)
		n += (uint64_t)__builtin_popcountll(map[w]);
	return n;
}

/* ---- the lower layer --------------------------------------------------- */

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

/* ---- the image's name -------------------------------------------------- */

/* crc32 of [off, off + len) of the image itself (never the overlay). */
static int image_crc(struct disk *d, uint64_t off, uint64_t len, void *buf, uint32_t *crc)
{
	struct iovec v = { .iov_base = buf, .iov_len = (size_t)len };
	int ret = raw_preadv(&d->raw, &v, 1, off);

	if (ret)
		return ret;
	*crc = disk_crc32(0, buf, (size_t)len);
	return 0;
}

static int image_ident(struct disk *d, uint32_t *head, uint32_t *tail)
{
	uint64_t size = disk_size(d);
	uint64_t span = size < DISK_IDENT_SPAN ? size : DISK_IDENT_SPAN;
	void *buf = malloc(DISK_IDENT_SPAN);
	int ret;

	if (!buf)
		return -ENOMEM;
	ret = image_crc(d, 0, span, buf, head);
	if (!ret)
		ret = image_crc(d, size - span, span, buf, tail);
	free(buf);
	return ret;
}

/* ---- saving ------------------------------------------------------------ */

void disk_region_free(struct disk_region *r)
{
	for (unsigned i = 0; i < r->n; i++)
		free(r->drv[i].map);
	memset(r, 0, sizeof(*r));
}

int disk_region_plan(struct disk_region *r, struct disk *const *disks, unsigned n, char *why,
		     size_t why_len)
{
	uint64_t off = DISK_REGION_PAGE;

	memset(r, 0, sizeof(*r));
	if (n == 0)
		return 0;
	if (n > DISK_REGION_MAX_DRIVES)
		return why_say(why, why_len, -E2BIG, "%u drives: a snapshot holds at most %d", n,
			   DISK_REGION_MAX_DRIVES);
	r->n = n;
	for (unsigned i = 0; i < n; i++) {
		struct disk_region_drive *dr = &r->drv[i];
		const struct overlay *ov = disks[i]->ov;

		dr->d = disks[i];
		if (!ov)
			continue;
		/* The disk the guest sees: this run's writes over its snapshot's. */
		dr->words = ov->words;
		dr->map = malloc(ov->words * sizeof(uint64_t) + 1);
		if (!dr->map) {
			disk_region_free(r);
			return why_say(why, why_len, -ENOMEM, "out of memory for a drive's bitmap");
		}
		for (size_t w = 0; w < ov->words; w++)
			dr->map[w] = ov->dirty[w] | (ov->lower ? ov->lower->map[w] : 0);
		dr->blocks = popcount_map(dr->map, dr->words);
		dr->bitmap_off = off;
		off += page_up(dr->words * 8);
		dr->data_off = off;
		off += dr->blocks * OVERLAY_BLOCK;
	}
	r->length = off + DISK_REGION_PAGE;
	return 0;
}

static int write_header(struct disk_region *r, struct snapwriter *w, char *why, size_t why_len)
{
	uint8_t page[DISK_REGION_PAGE];
	int ret;

	memset(page, 0, sizeof(page));
	memcpy(page, REGION_MAGIC, 8);
	vmgenid_put_le32(page + 8, REGION_VERSION);
	vmgenid_put_le32(page + 12, r->n);
	vmgenid_put_le32(page + 16, OVERLAY_BLOCK);
	vmgenid_put_le64(page + 24, r->length);
	for (unsigned i = 0; i < r->n; i++) {
		const struct disk_region_drive *dr = &r->drv[i];
		uint8_t *desc = page + DESC_OFF + i * DESC_SIZE;
		uint32_t head, tail;

		ret = image_ident(dr->d, &head, &tail);
		if (ret)
			return why_say(why, why_len, ret, "drive %u (%s): reading the image: %s", i + 1,
				   disk_path(dr->d), strerror(-ret));
		vmgenid_put_le64(desc, disk_size(dr->d));
		vmgenid_put_le32(desc + 12, head);
		vmgenid_put_le32(desc + 16, tail);
		if (dr->map) {
			uint8_t *le = malloc(dr->words * 8 + 1);

			if (!le)
				return why_say(why, why_len, -ENOMEM, "out of memory");
			for (uint64_t k = 0; k < dr->words; k++)
				vmgenid_put_le64(le + k * 8, dr->map[k]);
			vmgenid_put_le32(desc + 8, FLAG_DELTA);
			vmgenid_put_le32(desc + 20, disk_crc32(0, le, (size_t)(dr->words * 8)));
			free(le);
			vmgenid_put_le64(desc + 24, dr->blocks);
			vmgenid_put_le64(desc + 32, dr->bitmap_off);
			vmgenid_put_le64(desc + 40, dr->data_off);
		}
	}
	vmgenid_put_le32(page + CRC_OFF, disk_crc32(0, page, CRC_OFF));
	return snapwriter_write(w, page, sizeof(page));
}

/* Bitmap, padding, then every dirty block in order; *crc covers the blocks. */
static int write_delta(struct disk_region_drive *dr, struct snapwriter *w, uint8_t *buf,
		       uint32_t *crc)
{
	static const uint8_t zeros[DISK_REGION_PAGE];
	struct overlay *ov = dr->d->ov;
	uint64_t bytes = dr->words * 8, nb = ov->nblocks;
	int ret;

	for (uint64_t k = 0; k < dr->words; k += CHUNK / 8) {
		uint64_t m = dr->words - k < CHUNK / 8 ? dr->words - k : CHUNK / 8;

		for (uint64_t j = 0; j < m; j++)
			vmgenid_put_le64(buf + j * 8, dr->map[k + j]);
		ret = snapwriter_write(w, buf, (size_t)(m * 8));
		if (ret)
			return ret;
	}
	if (page_up(bytes) > bytes) {
		ret = snapwriter_write(w, zeros, (size_t)(page_up(bytes) - bytes));
		if (ret)
			return ret;
	}
	*crc = 0;
	/* Runs of consecutive dirty blocks, up to a chunk: one read, one write. */
	for (uint64_t b = 0; b < nb;) {
		if (!((dr->map[b / 64] >> (b % 64)) & 1)) {
			b++;
			continue;
		}
		uint64_t e = b + 1;

		while (e < nb && e - b < CHUNK / OVERLAY_BLOCK && ((dr->map[e / 64] >> (e % 64)) & 1))
			e++;
		uint64_t len = (e - b) * OVERLAY_BLOCK;
		uint64_t have = e == nb ? ov->size - b * OVERLAY_BLOCK : len;
		struct iovec v = { .iov_base = buf, .iov_len = (size_t)have };

		memset(buf + have, 0, (size_t)(len - have));
		ret = overlay_preadv(ov, &v, 1, b * OVERLAY_BLOCK);
		if (ret)
			return ret;
		*crc = disk_crc32(*crc, buf, (size_t)len);
		ret = snapwriter_write(w, buf, (size_t)len);
		if (ret)
			return ret;
		b = e;
	}
	return 0;
}

int disk_region_save(struct disk_region *r, struct snapwriter *w, char *why, size_t why_len)
{
	uint8_t trailer[DISK_REGION_PAGE];
	uint64_t start = w->pos;
	uint8_t *buf;
	int ret;

	if (!r->n)
		return 0;
	ret = write_header(r, w, why, why_len);
	if (ret)
		return why[0] ? ret : why_say(why, why_len, ret, "writing the drives: %s", strerror(-ret));
	buf = malloc(CHUNK);
	if (!buf)
		return why_say(why, why_len, -ENOMEM, "out of memory");
	memset(trailer, 0, sizeof(trailer));
	memcpy(trailer, TRAILER_MAGIC, 8);
	vmgenid_put_le32(trailer + 8, r->n);
	for (unsigned i = 0; i < r->n; i++) {
		uint32_t crc = 0;

		if (!r->drv[i].map)
			continue;
		ret = write_delta(&r->drv[i], w, buf, &crc);
		if (ret) {
			free(buf);
			return why_say(why, why_len, ret, "drive %u (%s): saving its writes: %s", i + 1,
				   disk_path(r->drv[i].d), strerror(-ret));
		}
		vmgenid_put_le32(trailer + 16 + 4 * i, crc);
	}
	free(buf);
	vmgenid_put_le32(trailer + CRC_OFF, disk_crc32(0, trailer, CRC_OFF));
	ret = snapwriter_write(w, trailer, sizeof(trailer));
	if (ret)
		return why_say(why, why_len, ret, "writing the drives: %s", strerror(-ret));
	if (w->pos - start != r->length)
		return why_say(why, why_len, -EIO, "the drives took %llu bytes, planned %llu",
			   (ull)(w->pos - start), (ull)r->length);
	return 0;
}

/* ---- loading ----------------------------------------------------------- */

struct load_drive {
	uint64_t size, blocks, bitmap_off, data_off, words;
	uint32_t flags, head, tail, bitmap_crc;
	uint64_t *map;
	uint32_t data_crc;
	bool copied;   /* blocks went into the private overlay (a stream) */
	bool attached; /* the overlay reads them from the snapshot file */
};

struct load {
	struct snapreader *rd;
	uint64_t region_off, region_len;
	struct disk *const *disks;
	unsigned n;
	struct load_drive drv[DISK_REGION_MAX_DRIVES];
	char *why;
	size_t why_len;
};

/* Read len bytes at region offset off (forward only). */
static int region_read(struct load *l, uint64_t off, void *buf, size_t len)
{
	uint64_t at = l->region_off + off;

	if (l->rd->pos > at)
		return why_say(l->why, l->why_len, -EIO, "disk region: reading backwards");
	if (snapreader_skip(l->rd, at - l->rd->pos, l->why, l->why_len) < 0)
		return -EBADMSG;
	return snapreader_read(l->rd, buf, len, l->why, l->why_len) < 0 ? -EBADMSG : 0;
}

static bool zeros(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i])
			return false;
	return true;
}

/* The header page: its own fields, then each drive against the command line. */
static int load_header(struct load *l)
{
	uint8_t page[DISK_REGION_PAGE];
	uint64_t off = DISK_REGION_PAGE;
	unsigned nr;
	int ret;

	ret = region_read(l, 0, page, sizeof(page));
	if (ret)
		return ret;
	if (memcmp(page, REGION_MAGIC, 8))
		return why_say(l->why, l->why_len, -EBADMSG, "disk region: bad magic");
	if (vmgenid_get_le32(page + 8) != REGION_VERSION)
		return why_say(l->why, l->why_len, -EBADMSG,
			   "disk region version %u is not supported (this genvm reads %d)",
			   vmgenid_get_le32(page + 8), REGION_VERSION);
	if (disk_crc32(0, page, CRC_OFF) != vmgenid_get_le32(page + CRC_OFF))
		return why_say(l->why, l->why_len, -EBADMSG,
			   "disk region: header checksum mismatch: the file is corrupt");
	nr = vmgenid_get_le32(page + 12);
	if (nr == 0 || nr > DISK_REGION_MAX_DRIVES)
		return why_say(l->why, l->why_len, -EBADMSG, "disk region: %u drives is out of range", nr);
	if (vmgenid_get_le32(page + 16) != OVERLAY_BLOCK || vmgenid_get_le32(page + 20) || !zeros(page + 32, 32) ||
	    !zeros(page + DESC_OFF + nr * DESC_SIZE, CRC_OFF - DESC_OFF - nr * DESC_SIZE))
		return why_say(l->why, l->why_len, -EBADMSG,
			   "disk region: unknown block size or reserved bytes set");
	if (vmgenid_get_le64(page + 24) != l->region_len)
		return why_say(l->why, l->why_len, -EBADMSG,
			   "disk region: its length %llu differs from the header's %llu",
			   (ull)vmgenid_get_le64(page + 24), (ull)l->region_len);
	if (nr != l->n)
		return why_say(l->why, l->why_len, -EINVAL,
			   "the snapshot has %u drive%s, the command line %u: give the same "
			   "-drive options in the same order", nr, nr == 1 ? "" : "s", l->n);

	for (unsigned i = 0; i < nr; i++) {
		const uint8_t *desc = page + DESC_OFF + i * DESC_SIZE;
		struct load_drive *ld = &l->drv[i];

		ld->size = vmgenid_get_le64(desc);
		ld->flags = vmgenid_get_le32(desc + 8);
		ld->head = vmgenid_get_le32(desc + 12);
		ld->tail = vmgenid_get_le32(desc + 16);
		ld->bitmap_crc = vmgenid_get_le32(desc + 20);
		ld->blocks = vmgenid_get_le64(desc + 24);
		ld->bitmap_off = vmgenid_get_le64(desc + 32);
		ld->data_off = vmgenid_get_le64(desc + 40);
		if ((ld->flags & ~FLAG_DELTA) || !zeros(desc + 48, 16))
			return why_say(l->why, l->why_len, -EBADMSG,
				   "disk region: drive %u has unknown flags or reserved bytes", i + 1);
		if (ld->size == 0 || ld->size % 512 || ld->size > (1ull << 62))
			return why_say(l->why, l->why_len, -EBADMSG,
				   "disk region: drive %u has an impossible size %llu", i + 1,
				   (ull)ld->size);
		if (!(ld->flags & FLAG_DELTA)) {
			if (ld->blocks || ld->bitmap_off || ld->data_off || ld->bitmap_crc)
				return why_say(l->why, l->why_len, -EBADMSG,
					   "disk region: drive %u has no delta but describes one",
					   i + 1);
			continue;
		}
		/* A delta lies where the layout puts it, and fits its disk. */
		ld->words = nr_words(ld->size);
		if (ld->blocks > nr_blocks(ld->size))
			return why_say(l->why, l->why_len, -EBADMSG,
				   "disk region: drive %u claims %llu written blocks of a %llu-block "
				   "disk", i + 1, (ull)ld->blocks, (ull)nr_blocks(ld->size));
		if (ld->bitmap_off != off)
			return why_say(l->why, l->why_len, -EBADMSG,
				   "disk region: drive %u's bitmap is at %llu, not %llu", i + 1,
				   (ull)ld->bitmap_off, (ull)off);
		/* Sizes are at most 2^62, so each step fits; the sum is checked. */
		uint64_t step = page_up(ld->words * 8);

		if (off > UINT64_MAX - step - DISK_REGION_PAGE)
			return why_say(l->why, l->why_len, -EBADMSG, "disk region: too large");
		off += step;
		if (ld->data_off != off)
			return why_say(l->why, l->why_len, -EBADMSG,
				   "disk region: drive %u's blocks are at %llu, not %llu", i + 1,
				   (ull)ld->data_off, (ull)off);
		step = ld->blocks * OVERLAY_BLOCK;
		if (off > UINT64_MAX - step - DISK_REGION_PAGE)
			return why_say(l->why, l->why_len, -EBADMSG, "disk region: too large");
		off += step;
	}
	if (off + DISK_REGION_PAGE != l->region_len)
		return why_say(l->why, l->why_len, -EBADMSG,
			   "disk region: %llu bytes, its drives need %llu", (ull)l->region_len,
			   (ull)(off + DISK_REGION_PAGE));

	/* Now the drives: the same images, and an overlay for any writes. */
	for (unsigned i = 0; i < nr; i++) {
		struct load_drive *ld = &l->drv[i];
		struct disk *d = l->disks[i];
		uint32_t head, tail;

		if (ld->size != disk_size(d))
			return why_say(l->why, l->why_len, -EINVAL,
				   "drive %u (%s): the snapshot's drive has %llu bytes, this image "
				   "%llu", i + 1, disk_path(d), (ull)ld->size, (ull)disk_size(d));
		ret = image_ident(d, &head, &tail);
		if (ret)
			return why_say(l->why, l->why_len, ret, "drive %u (%s): reading the image: %s",
				   i + 1, disk_path(d), strerror(-ret));
		if (head != ld->head || tail != ld->tail)
			return why_say(l->why, l->why_len, -EINVAL,
				   "drive %u (%s): not the image the snapshot was taken with (its %s "
				   "MiB differs)", i + 1, disk_path(d), head != ld->head ? "first" : "last");
		if (ld->blocks && !d->ov)
			return why_say(l->why, l->why_len, -EINVAL,
				   "drive %u (%s): the snapshot carries the source's writes to it; "
				   "restore it with snapshot=on", i + 1, disk_path(d));
		if (d->ov && (d->ov->ndirty || d->ov->lower))
			return why_say(l->why, l->why_len, -EBUSY,
				   "drive %u (%s): its overlay is already in use", i + 1, disk_path(d));
	}
	return 0;
}

/* A delta's bitmap: its checksum, no block past the end, the count it claims. */
static int load_bitmap(struct load *l, unsigned i)
{
	struct load_drive *ld = &l->drv[i];
	uint64_t bytes = ld->words * 8, nb = nr_blocks(ld->size);
	uint8_t *le = malloc(bytes + 1);
	int ret;

	ld->map = calloc(ld->words + 1, sizeof(uint64_t));
	if (!le || !ld->map) {
		free(le);
		return why_say(l->why, l->why_len, -ENOMEM, "out of memory for drive %u's bitmap", i + 1);
	}
	ret = region_read(l, ld->bitmap_off, le, (size_t)bytes);
	if (!ret && disk_crc32(0, le, (size_t)bytes) != ld->bitmap_crc)
		ret = why_say(l->why, l->why_len, -EBADMSG,
			  "drive %u: the disk delta's bitmap is corrupt (checksum mismatch)", i + 1);
	for (uint64_t k = 0; !ret && k < ld->words; k++)
		ld->map[k] = vmgenid_get_le64(le + k * 8);
	free(le);
	if (ret)
		return ret;
	if (nb % 64 && (ld->map[ld->words - 1] >> (nb % 64)))
		return why_say(l->why, l->why_len, -EBADMSG,
			   "drive %u: the disk delta's bitmap marks blocks past the end of the disk",
			   i + 1);
	if (popcount_map(ld->map, ld->words) != ld->blocks)
		return why_say(l->why, l->why_len, -EBADMSG,
			   "drive %u: the disk delta's bitmap marks %llu blocks, its header says %llu",
			   i + 1, (ull)popcount_map(ld->map, ld->words), (ull)ld->blocks);
	return 0;
}

/*
 * A delta's blocks, read once in order for their checksum.  From a stream
 * they also go into the drive's private overlay, since they cannot be read
 * again later.
 */
static int load_blocks(struct load *l, unsigned i, uint8_t *buf)
{
	struct load_drive *ld = &l->drv[i];
	struct overlay *ov = l->disks[i]->ov;
	bool copy = l->rd->kind != SNAPURI_FILE;
	uint64_t done = 0, blk = 0;
	int ret;

	ld->data_crc = 0;
	while (done < ld->blocks) {
		uint64_t m = ld->blocks - done < CHUNK / OVERLAY_BLOCK ? ld->blocks - done
								      : CHUNK / OVERLAY_BLOCK;

		ret = region_read(l, ld->data_off + done * OVERLAY_BLOCK, buf,
				  (size_t)(m * OVERLAY_BLOCK));
		if (ret)
			return ret;
		ld->data_crc = disk_crc32(ld->data_crc, buf, (size_t)(m * OVERLAY_BLOCK));
		for (uint64_t k = 0; copy && k < m; k++) {
			while (!((ld->map[blk / 64] >> (blk % 64)) & 1))
				blk++;
			ld->copied = true;
			ret = overlay_put_block(ov, blk, buf + k * OVERLAY_BLOCK);
			if (ret)
				return why_say(l->why, l->why_len, ret,
					   "drive %u (%s): copying the disk delta: %s", i + 1,
					   disk_path(l->disks[i]), strerror(-ret));
			blk++;
		}
		done += m;
	}
	return 0;
}

static int load_trailer(struct load *l)
{
	uint8_t page[DISK_REGION_PAGE];
	int ret = region_read(l, l->region_len - DISK_REGION_PAGE, page, sizeof(page));

	if (ret)
		return ret;
	if (memcmp(page, TRAILER_MAGIC, 8) || disk_crc32(0, page, CRC_OFF) != vmgenid_get_le32(page + CRC_OFF))
		return why_say(l->why, l->why_len, -EBADMSG,
			   "disk region: the trailer is corrupt");
	if (vmgenid_get_le32(page + 8) != l->n || vmgenid_get_le32(page + 12) ||
	    !zeros(page + 16 + 4 * l->n, CRC_OFF - 16 - 4 * l->n))
		return why_say(l->why, l->why_len, -EBADMSG,
			   "disk region: the trailer does not match its header");
	for (unsigned i = 0; i < l->n; i++) {
		if (vmgenid_get_le32(page + 16 + 4 * i) != l->drv[i].data_crc)
			return why_say(l->why, l->why_len, -EBADMSG,
				   "drive %u: the disk delta's blocks are corrupt (checksum mismatch)",
				   i + 1);
	}
	return 0;
}

/* Give a drive its snapshot's blocks as a lower layer read in place. */
static int attach_lower(struct load *l, unsigned i)
{
	struct load_drive *ld = &l->drv[i];
	struct overlay *ov = l->disks[i]->ov;
	struct overlay_lower *lo = calloc(1, sizeof(*lo));
	uint64_t acc = 0;

	if (!lo)
		return -ENOMEM;
	lo->rank = calloc(ld->words + 1, sizeof(uint64_t));
	lo->fd = fcntl(l->rd->fd, F_DUPFD_CLOEXEC, 0);
	if (!lo->rank || lo->fd < 0) {
		int err = lo->fd < 0 ? -errno : -ENOMEM;

		if (lo->fd >= 0)
			close(lo->fd);
		free(lo->rank);
		free(lo);
		return err;
	}
	for (uint64_t k = 0; k < ld->words; k++) {
		lo->rank[k] = acc;
		acc += (uint64_t)__builtin_popcountll(ld->map[k]);
	}
	lo->map = ld->map;
	ld->map = NULL;
	lo->count = acc;
	lo->data_off = l->region_off + ld->data_off;
	ov->lower = lo;
	ld->attached = true;
	return 0;
}

int disk_region_load(struct snapreader *rd, uint64_t region_off, uint64_t region_len,
		     struct disk *const *disks, unsigned n, char *why, size_t why_len)
{
	struct load l = { .rd = rd, .region_off = region_off, .region_len = region_len,
			  .disks = disks, .n = n, .why = why, .why_len = why_len };
	uint8_t *buf = NULL;
	unsigned i;
	int ret;

	if (!region_len) {
		if (!n)
			return 0;
		return why_say(why, why_len, -EINVAL,
			   "the snapshot has no drives, the command line %u: give the same "
			   "-drive options as the source had", n);
	}
	if (n > DISK_REGION_MAX_DRIVES)
		return why_say(why, why_len, -E2BIG, "%u drives: a snapshot holds at most %d", n,
			   DISK_REGION_MAX_DRIVES);
	if (region_len < DISK_REGION_PAGE * 2)
		return why_say(why, why_len, -EBADMSG, "disk region: %llu bytes is too short",
			   (ull)region_len);
	ret = load_header(&l);
	if (ret)
		goto out;
	buf = malloc(CHUNK);
	if (!buf) {
		ret = why_say(why, why_len, -ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < n && !ret; i++) {
		if (!(l.drv[i].flags & FLAG_DELTA))
			continue;
		ret = load_bitmap(&l, i);
		if (!ret && l.drv[i].blocks)
			ret = load_blocks(&l, i, buf);
	}
	if (!ret)
		ret = load_trailer(&l);
	/* Everything checked: only now do the drives change. */
	for (i = 0; i < n && !ret; i++) {
		if (l.drv[i].blocks && rd->kind == SNAPURI_FILE) {
			ret = attach_lower(&l, i);
			if (ret)
				why_say(why, why_len, ret, "drive %u (%s): %s", i + 1, disk_path(disks[i]),
				    strerror(-ret));
		}
	}
out:
	if (ret) {
		for (i = 0; i < n; i++) {
			if (l.drv[i].copied || l.drv[i].attached)
				overlay_reset(disks[i]->ov);
		}
	}
	for (i = 0; i < n; i++)
		free(l.drv[i].map);
	free(buf);
	return ret;
}
