// SPDX-License-Identifier: MIT
/*
 * The raw image: a regular file or a block device, read and written at the
 * guest's byte offsets.  cache=none opens it O_DIRECT; the kernel then wants
 * buffer addresses, offsets and lengths aligned, which a guest's iovecs need
 * not be, so such requests go through an aligned bounce buffer (and a write
 * that covers only part of an aligned block reads that block first).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "block_int.h"

static size_t max_sz(size_t a, size_t b)
{
	return a > b ? a : b;
}

static bool pow2(size_t v)
{
	return v && !(v & (v - 1));
}

/*
 * O_DIRECT's alignment: what the kernel reports (statx STATX_DIOALIGN, Linux
 * 6.1+), else a block device's logical sector, else 4 KiB, which every
 * filesystem and disk in use accepts.
 */
static void raw_dio_align(struct raw *r, bool blockdev)
{
	struct statx stx;
	size_t mem = 0, off = 0;

	if (statx(r->fd, "", AT_EMPTY_PATH, STATX_DIOALIGN, &stx) == 0 &&
	    (stx.stx_mask & STATX_DIOALIGN) && stx.stx_dio_offset_align) {
		mem = stx.stx_dio_mem_align;
		off = stx.stx_dio_offset_align;
	}
	if (!off && blockdev) {
		int ss = 0;

		if (ioctl(r->fd, BLKSSZGET, &ss) == 0 && ss > 0)
			off = mem = (size_t)ss;
	}
	if (!pow2(off) || off > RAW_BOUNCE / 2)
		off = 4096;
	if (!pow2(mem) || mem > off)
		mem = off;
	r->off_align = off;
	r->mem_align = mem;
}

int raw_open(struct raw *r, const char *path, bool writable, bool direct, char *why,
	     size_t why_len)
{
	struct stat st;
	int flags = (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC | O_NONBLOCK;
	int err;

	memset(r, 0, sizeof(*r));
	r->fd = -1;
	/* Look before opening: opening a FIFO would block, a directory is no disk. */
	if (stat(path, &st) < 0) {
		err = -errno;
		snprintf(why, why_len, "%s: %s", path, strerror(errno));
		return err;
	}
	if (S_ISDIR(st.st_mode)) {
		snprintf(why, why_len, "%s: is a directory", path);
		return -EISDIR;
	}
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
		snprintf(why, why_len, "%s: not a regular file or block device", path);
		return -EINVAL;
	}
	if (direct)
		flags |= O_DIRECT;
	r->fd = open(path, flags);
	if (r->fd < 0) {
		err = -errno;
		if (direct && errno == EINVAL)
			snprintf(why, why_len,
				 "%s: cache=none: the filesystem does not support O_DIRECT", path);
		else
			snprintf(why, why_len, "%s: %s", path, strerror(errno));
		return err;
	}
	/* The path may have changed between stat and open: judge what was opened. */
	if (fstat(r->fd, &st) < 0 || (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))) {
		snprintf(why, why_len, "%s: not a regular file or block device", path);
		err = -EINVAL;
		goto fail;
	}
	int fl = fcntl(r->fd, F_GETFL);

	if (fl < 0 || fcntl(r->fd, F_SETFL, fl & ~O_NONBLOCK) < 0) {
		err = -errno;
		snprintf(why, why_len, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (S_ISBLK(st.st_mode)) {
		if (ioctl(r->fd, BLKGETSIZE64, &r->size) < 0) {
			err = -errno;
			snprintf(why, why_len, "%s: cannot read the device's size: %s", path,
				 strerror(errno));
			goto fail;
		}
	} else {
		r->size = (uint64_t)st.st_size;
	}
	if (r->size == 0 || r->size % 512) {
		snprintf(why, why_len, "%s: size %llu is not a non-zero multiple of 512", path,
			 (unsigned long long)r->size);
		err = -EINVAL;
		goto fail;
	}
	/*
	 * Lock the image as QEMU does (open file description locks, so two
	 * drives of one process conflict too): one writer and no readers, or
	 * any number of readers.  Another genvm, or a QEMU, writing the image
	 * under a clone's base would change what the clone reads.
	 */
	struct flock lk = { .l_type = (short)(writable ? F_WRLCK : F_RDLCK), .l_whence = SEEK_SET };

	if (fcntl(r->fd, F_OFD_SETLK, &lk) < 0) {
		err = -errno;
		if (errno == EAGAIN || errno == EACCES)
			snprintf(why, why_len, "%s: in use by another process (%s lock held)", path,
				 writable ? "a" : "a write");
		else
			snprintf(why, why_len, "%s: cannot lock: %s", path, strerror(errno));
		goto fail;
	}
	r->writable = writable;
	r->direct = direct;
	if (direct) {
		raw_dio_align(r, S_ISBLK(st.st_mode));
		r->bounce = aligned_alloc(max_sz(r->mem_align, 4096), RAW_BOUNCE);
		if (!r->bounce) {
			err = -ENOMEM;
			snprintf(why, why_len, "%s: out of memory", path);
			goto fail;
		}
	}
	return 0;
fail:
	close(r->fd);
	r->fd = -1;
	return err;
}

void raw_close(struct raw *r)
{
	if (r->fd >= 0)
		close(r->fd);
	free(r->bounce);
	r->fd = -1;
	r->bounce = NULL;
}

/* Can the kernel take these iovecs O_DIRECT as they are? */
static bool dio_aligned(const struct raw *r, const struct iovec *iov, int iovcnt, uint64_t off,
			uint64_t len)
{
	if (off % r->off_align || len % r->off_align)
		return false;
	for (int i = 0; i < iovcnt; i++) {
		if ((uintptr_t)iov[i].iov_base % r->mem_align || iov[i].iov_len % r->off_align)
			return false;
	}
	return true;
}

/*
 * Move [off, off + len) through the bounce buffer in aligned windows.  A
 * write whose window the data does not cover whole reads the window first,
 * so the bytes around the guest's range are written back unchanged.
 */
static int dio_bounce(struct raw *r, const struct iovec *iov, int iovcnt, uint64_t off,
		      uint64_t len, bool write)
{
	uint64_t a0 = off - off % r->off_align;
	uint64_t end = off + len;
	uint64_t a1 = end % r->off_align ? end + (r->off_align - end % r->off_align) : end;

	for (uint64_t w0 = a0; w0 < a1; w0 += RAW_BOUNCE) {
		uint64_t w1 = a1 - w0 < RAW_BOUNCE ? a1 : w0 + RAW_BOUNCE;
		uint64_t d0 = off > w0 ? off : w0; /* the guest's bytes in this window */
		uint64_t d1 = end < w1 ? end : w1;
		size_t wlen = (size_t)(w1 - w0);
		char *b = r->bounce;
		int ret;

		if (!write || d0 != w0 || d1 != w1) {
			ret = disk_full_pread(r->fd, b, wlen, w0);
			if (ret)
				return ret;
		}
		if (write) {
			disk_iov_to_buf(iov, iovcnt, (size_t)(d0 - off), b + (d0 - w0),
					(size_t)(d1 - d0));
			ret = disk_full_pwrite(r->fd, b, wlen, w0);
			if (ret)
				return ret;
		} else {
			disk_iov_from_buf(iov, iovcnt, (size_t)(d0 - off), b + (d0 - w0),
					  (size_t)(d1 - d0));
		}
	}
	return 0;
}

static int raw_xfer(struct raw *r, const struct iovec *iov, int iovcnt, uint64_t off, bool write);

/*
 * A file whose size is not a multiple of the O_DIRECT granularity has a
 * tail that no aligned transfer can reach without running past the end (a
 * write there would grow the file).  The part of a request in that tail goes
 * through the page cache: O_DIRECT is cleared on the fd for the transfer
 * (one thread per disk, so nobody else sees it) and set again.
 */
static int dio_split_tail(struct raw *r, const struct iovec *iov, int iovcnt, uint64_t off,
			  uint64_t len, uint64_t tail, bool write)
{
	struct iovec *part = calloc((size_t)iovcnt, sizeof(*part));
	int ret = 0, n, fl;

	if (!part)
		return -ENOMEM;
	if (off < tail) {
		n = disk_iov_slice(iov, iovcnt, 0, (size_t)(tail - off), part);
		ret = raw_xfer(r, part, n, off, write);
		if (ret)
			goto out;
	}
	uint64_t t0 = off > tail ? off : tail;

	n = disk_iov_slice(iov, iovcnt, (size_t)(t0 - off), (size_t)(off + len - t0), part);
	fl = fcntl(r->fd, F_GETFL);
	if (fl < 0 || fcntl(r->fd, F_SETFL, fl & ~O_DIRECT) < 0) {
		ret = -errno;
		goto out;
	}
	ret = write ? disk_full_pwritev(r->fd, part, n, t0) : disk_full_preadv(r->fd, part, n, t0);
	if (fcntl(r->fd, F_SETFL, fl) < 0 && !ret)
		ret = -errno;
out:
	free(part);
	return ret;
}

static int raw_xfer(struct raw *r, const struct iovec *iov, int iovcnt, uint64_t off, bool write)
{
	int64_t total = disk_iov_total(iov, iovcnt);

	if (total < 0 || (uint64_t)total > r->size || off > r->size - (uint64_t)total)
		return -EINVAL;
	if (write && !r->writable)
		return -EROFS;
	if (total == 0)
		return 0;
	if (r->direct) {
		uint64_t tail = r->size - r->size % r->off_align;

		if (off + (uint64_t)total > tail)
			return dio_split_tail(r, iov, iovcnt, off, (uint64_t)total, tail, write);
		if (!dio_aligned(r, iov, iovcnt, off, (uint64_t)total))
			return dio_bounce(r, iov, iovcnt, off, (uint64_t)total, write);
	}
	return write ? disk_full_pwritev(r->fd, iov, iovcnt, off)
		     : disk_full_preadv(r->fd, iov, iovcnt, off);
}

int raw_preadv(struct raw *r, const struct iovec *iov, int iovcnt, uint64_t off)
{
	return raw_xfer(r, iov, iovcnt, off, false);
}

int raw_pwritev(struct raw *r, const struct iovec *iov, int iovcnt, uint64_t off)
{
	return raw_xfer(r, iov, iovcnt, off, true);
}

int raw_flush(struct raw *r)
{
	while (fdatasync(r->fd) < 0) {
		if (errno != EINTR)
			return -errno;
	}
	return 0;
}
