/* SPDX-License-Identifier: MIT */
/*
 * The drives in a snapshot: the region after the RAM (snapfile.h, version
 * 2) that names each drive's image and carries the writes of a drive that
 * ran with snapshot=on, so that a clone starts from exactly the disk the
 * source had.  All little-endian, offsets from the region's start:
 *
 *   0     header, 4096 bytes:
 *           0  char magic[8]    "GENVMDSK"
 *           8  le32 version     1
 *          12  le32 nr_drives   1..DISK_REGION_MAX_DRIVES, in device order
 *          16  le32 block_size  4096 (OVERLAY_BLOCK)
 *          20  le32 reserved    0
 *          24  le64 length      the whole region (== the header's disk_length)
 *          32  zeros
 *          64  drive[nr_drives], 64 bytes each:
 *                0  le64 size          the drive's bytes
 *                8  le32 flags         bit 0: a delta (the source ran snapshot=on)
 *               12  le32 head_crc      crc32 of the image's first min(1 MiB, size) bytes
 *               16  le32 tail_crc      crc32 of its last min(1 MiB, size) bytes
 *               20  le32 bitmap_crc    crc32 of the bitmap (delta only)
 *               24  le64 blocks        dirty blocks: set bits in the bitmap
 *               32  le64 bitmap_off    delta only: where its bitmap starts
 *               40  le64 data_off      delta only: where its blocks start
 *               48  zeros to 64
 *           zeros
 *        4092  le32 crc32 of bytes 0..4091
 *   then, for each drive with a delta, in order:
 *         bitmap   ceil(ceil(size / 4096) / 64) le64 words, bit i of word w
 *                  is block 64w + i; zero padding to a page
 *         blocks   `blocks` blocks of 4096 bytes, in block order (the last
 *                  block of a disk whose size is not a multiple of 4096 is
 *                  padded with zeros)
 *   trailer, 4096 bytes:
 *           0  char magic[8]    "GENVMDSE"
 *           8  le32 nr_drives
 *          12  le32 reserved    0
 *          16  le32 data_crc[nr_drives]  crc32 of each drive's blocks (0: none)
 *           zeros
 *        4092  le32 crc32 of bytes 0..4091
 *
 * Every offset is the one this layout gives: a reader computes them and
 * refuses any other.  The blocks' checksums sit in the trailer so that a
 * save streams each block once.
 *
 * The image is named by its size and the checksums of its first and last
 * MiB (the image itself, never the overlay): cheap, and a different
 * filesystem, a different disk or a resized copy differs there.
 */
#ifndef GENVM_DELTA_H
#define GENVM_DELTA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct disk;
struct snapwriter;
struct snapreader;

#define DISK_REGION_MAX_DRIVES 32
#define DISK_REGION_PAGE 4096u
#define DISK_IDENT_SPAN (1u << 20)

/* What a save needs from the drives, gathered while the machine is stopped. */
struct disk_region_drive {
	struct disk *d;
	uint64_t *map;	 /* a delta's bitmap (the overlay's and its snapshot's), or NULL */
	uint64_t words;
	uint64_t blocks;
	uint64_t bitmap_off, data_off;
};

struct disk_region {
	unsigned n;
	struct disk_region_drive drv[DISK_REGION_MAX_DRIVES];
	uint64_t length; /* 0 when there are no drives */
};

/*
 * Plan the region for n drives in command-line order: copy each overlay's
 * bitmap and lay the region out, so the header can give its length before
 * the RAM is written.  The drives must stay quiet until disk_region_save()
 * is done (the machine is stopped and virtio-blk idle).  0 or -errno.
 */
int disk_region_plan(struct disk_region *r, struct disk *const *disks, unsigned n, char *why,
		     size_t why_len);
/*
 * Write the region at the writer's position, which must be where the plan
 * was laid out to start (the header's disk_offset).  Reads each image's
 * first and last MiB and each dirty block once.  0 or -errno.
 */
int disk_region_save(struct disk_region *r, struct snapwriter *w, char *why, size_t why_len);
void disk_region_free(struct disk_region *r);

/*
 * Check a snapshot's region against the drives on the command line and
 * give each snapshot=on drive the source's writes.  The reader must be at
 * or before the region's offset (it reads forward only, so an exec: stream
 * works too).  From a file the blocks stay there and each clone reads them
 * in place, after their checksums were checked once; from a stream they
 * are copied into the drive's private overlay.  Any mismatch (a drive
 * count, a size, an image that is not the one saved, a delta for a drive
 * without snapshot=on, a bitmap past the disk's end, a checksum) fails
 * with one sentence in why, and leaves the drives as they were.
 * region_len 0 (no region) is fine only without drives.
 */
int disk_region_load(struct snapreader *rd, uint64_t region_off, uint64_t region_len,
		     struct disk *const *disks, unsigned n, char *why, size_t why_len);

#endif
