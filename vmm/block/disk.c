// SPDX-License-Identifier: MIT
/*
 * A drive: the raw image, and for snapshot=on the private overlay that
 * takes its writes.  This file holds the checks every request gets (bounds,
 * read-only) and picks the layer; raw.c and overlay.c move the bytes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "block_int.h"
#include "disk.h"

int disk_open(const struct disk_options *o, struct disk **out, char *why, size_t why_len)
{
	struct disk *d;
	int ret;

	*out = NULL;
	if (!o->path || !*o->path) {
		snprintf(why, why_len, "a drive needs file=PATH");
		return -EINVAL;
	}
	d = calloc(1, sizeof(*d));
	if (!d) {
		snprintf(why, why_len, "%s: out of memory", o->path);
		return -ENOMEM;
	}
	d->readonly = o->readonly;
	d->path = strdup(o->path);
	if (!d->path) {
		free(d);
		snprintf(why, why_len, "%s: out of memory", o->path);
		return -ENOMEM;
	}
	/* snapshot=on opens the image O_RDONLY: nothing below can write it. */
	ret = raw_open(&d->raw, o->path, !o->readonly && !o->snapshot, o->direct, why, why_len);
	if (ret) {
		free(d->path);
		free(d);
		return ret;
	}
	/*
	 * readonly=on with snapshot=on still gets an overlay: a clone's drive
	 * then reads the source's writes that its snapshot carried.
	 */
	if (o->snapshot) {
		ret = overlay_new(&d->raw, &d->ov, why, why_len);
		if (ret) {
			raw_close(&d->raw);
			free(d->path);
			free(d);
			return ret;
		}
	}
	*out = d;
	return 0;
}

void disk_close(struct disk *d)
{
	if (!d)
		return;
	overlay_free(d->ov);
	raw_close(&d->raw);
	free(d->path);
	free(d);
}

uint64_t disk_size(const struct disk *d)
{
	return d->raw.size;
}

bool disk_readonly(const struct disk *d)
{
	return d->readonly;
}

bool disk_snapshot(const struct disk *d)
{
	return d->ov != NULL;
}

const char *disk_path(const struct disk *d)
{
	return d->path;
}

static int disk_check(const struct disk *d, const struct iovec *iov, int iovcnt, uint64_t off)
{
	int64_t total = disk_iov_total(iov, iovcnt);

	if (total < 0 || (uint64_t)total > d->raw.size || off > d->raw.size - (uint64_t)total)
		return -EINVAL;
	return 0;
}

int disk_preadv(struct disk *d, const struct iovec *iov, int iovcnt, uint64_t off)
{
	int ret = disk_check(d, iov, iovcnt, off);

	if (ret)
		return ret;
	return d->ov ? overlay_preadv(d->ov, iov, iovcnt, off)
		     : raw_preadv(&d->raw, iov, iovcnt, off);
}

int disk_pwritev(struct disk *d, const struct iovec *iov, int iovcnt, uint64_t off)
{
	int ret = disk_check(d, iov, iovcnt, off);

	if (ret)
		return ret;
	if (d->readonly)
		return -EROFS;
	return d->ov ? overlay_pwritev(d->ov, iov, iovcnt, off)
		     : raw_pwritev(&d->raw, iov, iovcnt, off);
}

int disk_flush(struct disk *d)
{
	/* The overlay dies with the process: there is nothing to make durable. */
	if (d->ov || d->readonly)
		return 0;
	return raw_flush(&d->raw);
}
