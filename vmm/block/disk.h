/* SPDX-License-Identifier: MIT */
/*
 * A drive's backend: a raw image (regular file or block device) and, for
 * snapshot=on, a private copy-on-write overlay over it that disappears with
 * the process.  virtio-blk sees only this interface: byte offsets, iovecs,
 * flush.  It knows nothing of virtqueues or guest memory.
 *
 * One thread at a time per disk (the device's worker, or the main loop while
 * the device is quiesced for a snapshot); disks do not share state.
 */
#ifndef GENVM_DISK_H
#define GENVM_DISK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#define DISK_SECTOR 512u

struct disk_options {
	const char *path;
	bool readonly; /* readonly=on: the guest sees VIRTIO_BLK_F_RO */
	bool snapshot; /* snapshot=on: never write the image; writes go to a private overlay */
	bool direct;   /* cache=none: bypass the host page cache (O_DIRECT) */
};

struct disk;

/*
 * Open and check a drive before any guest runs: the path exists, is a
 * regular file or a block device (not a directory), can be opened for
 * reading (and writing unless readonly or snapshot), and its size is a
 * non-zero multiple of 512.  0 with *out set, or -errno with a sentence in
 * why (why_len bytes, NUL-terminated) that names the path.
 */
int disk_open(const struct disk_options *o, struct disk **out, char *why, size_t why_len);
void disk_close(struct disk *d);

uint64_t disk_size(const struct disk *d); /* bytes, a multiple of DISK_SECTOR */
bool disk_readonly(const struct disk *d);
bool disk_snapshot(const struct disk *d); /* snapshot=on: the image is never written */
const char *disk_path(const struct disk *d); /* file=, for messages */

/*
 * Transfer the iovecs at byte offset off.  The caller has checked that
 * [off, off + total length) lies inside the disk; these check it again and
 * return -EINVAL rather than touch anything outside.  Full transfers only:
 * 0 or -errno (short reads past a block device's end are -EIO).  A write to
 * a read-only disk is -EROFS.  With snapshot=on, writes land in the overlay
 * and reads see the overlay over the image; the image is opened read-only.
 */
int disk_preadv(struct disk *d, const struct iovec *iov, int iovcnt, uint64_t off);
int disk_pwritev(struct disk *d, const struct iovec *iov, int iovcnt, uint64_t off);

/* Make completed writes durable (fdatasync of the image; a no-op for an overlay). */
int disk_flush(struct disk *d);

#endif
