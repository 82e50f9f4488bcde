// SPDX-License-Identifier: MIT
/* iovec arithmetic and full positioned transfers for the block backends. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "block_int.h"

int64_t disk_iov_total(const struct iovec *iov, int iovcnt)
{
	uint64_t total = 0;

	if (iovcnt < 0 || (iovcnt > 0 && !iov))
		return -1;
	for (int i = 0; i < iovcnt; i++) {
		if (iov[i].iov_len > (uint64_t)INT64_MAX - total)
			return -1;
		total += iov[i].iov_len;
	}
	return (int64_t)total;
}

int disk_iov_slice(const struct iovec *iov, int iovcnt, size_t skip, size_t len,
		   struct iovec *out)
{
	int n = 0;

	for (int i = 0; i < iovcnt && len > 0; i++) {
		size_t l = iov[i].iov_len;

		if (skip >= l) {
			skip -= l;
			continue;
		}
		size_t take = l - skip < len ? l - skip : len;

		out[n].iov_base = (char *)iov[i].iov_base + skip;
		out[n].iov_len = take;
		n++;
		len -= take;
		skip = 0;
	}
	return n;
}

/* Walk [skip, skip + len) of iov, copying to or from buf. */
static void iov_copy(const struct iovec *iov, int iovcnt, size_t skip, char *buf, size_t len,
		     bool to_buf)
{
	for (int i = 0; i < iovcnt && len > 0; i++) {
		size_t l = iov[i].iov_len;

		if (skip >= l) {
			skip -= l;
			continue;
		}
		size_t take = l - skip < len ? l - skip : len;
		char *p = (char *)iov[i].iov_base + skip;

		if (to_buf)
			memcpy(buf, p, take);
		else
			memcpy(p, buf, take);
		buf += take;
		len -= take;
		skip = 0;
	}
}

void disk_iov_to_buf(const struct iovec *iov, int iovcnt, size_t skip, void *buf, size_t len)
{
	iov_copy(iov, iovcnt, skip, buf, len, true);
}

void disk_iov_from_buf(const struct iovec *iov, int iovcnt, size_t skip, const void *buf,
		       size_t len)
{
	iov_copy(iov, iovcnt, skip, (char *)buf, len, false);
}

/*
 * preadv/pwritev until every byte moved.  A short count (a signal, a
 * request past IOV_MAX entries, a block device's end) resumes on a private
 * copy of the remaining iovecs; a zero count means the file ended: -EIO.
 */
static int full_xfer(int fd, const struct iovec *iov, int iovcnt, uint64_t off, bool write)
{
	struct iovec small[16];
	struct iovec *v = small;
	int64_t total = disk_iov_total(iov, iovcnt);
	int ret = 0;

	if (total < 0)
		return -EINVAL;
	if (total == 0)
		return 0;
	if (off > (uint64_t)INT64_MAX - (uint64_t)total)
		return -EINVAL;
	if ((size_t)iovcnt > sizeof(small) / sizeof(small[0])) {
		v = calloc((size_t)iovcnt, sizeof(*v));
		if (!v)
			return -ENOMEM;
	}
	memcpy(v, iov, (size_t)iovcnt * sizeof(*v));

	struct iovec *cur = v;
	int cnt = iovcnt;

	while (cnt > 0) {
		int batch = cnt < IOV_MAX ? cnt : IOV_MAX;
		ssize_t n = write ? pwritev(fd, cur, batch, (off_t)off)
				  : preadv(fd, cur, batch, (off_t)off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			break;
		}
		if (n == 0) {
			ret = -EIO;
			break;
		}
		off += (uint64_t)n;
		size_t left = (size_t)n;

		while (cnt > 0 && left >= cur->iov_len) {
			left -= cur->iov_len;
			cur++;
			cnt--;
		}
		if (cnt > 0) {
			cur->iov_base = (char *)cur->iov_base + left;
			cur->iov_len -= left;
			/* Zero-length entries left behind are skipped next round. */
			while (cnt > 0 && cur->iov_len == 0) {
				cur++;
				cnt--;
			}
		}
	}
	if (v != small)
		free(v);
	return ret;
}

int disk_full_preadv(int fd, const struct iovec *iov, int iovcnt, uint64_t off)
{
	return full_xfer(fd, iov, iovcnt, off, false);
}

int disk_full_pwritev(int fd, const struct iovec *iov, int iovcnt, uint64_t off)
{
	return full_xfer(fd, iov, iovcnt, off, true);
}

int disk_full_pread(int fd, void *buf, size_t len, uint64_t off)
{
	struct iovec v = { .iov_base = buf, .iov_len = len };

	return full_xfer(fd, &v, 1, off, false);
}

int disk_full_pwrite(int fd, const void *buf, size_t len, uint64_t off)
{
	struct iovec v = { .iov_base = (void *)buf, .iov_len = len };

	return full_xfer(fd, &v, 1, off, true);
}
