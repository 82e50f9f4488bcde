// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vmgenid/endian.h"
#include "vmgenid/log.h"

#include "blk.h"

#define MOD "virtio-blk"

#define REQ_HEADER 16u /* le32 type, le32 reserved, le64 sector */
#define CONFIG_LEN 60u /* struct virtio_blk_config up to write_zeroes_may_unmap */

struct virtio_blk *virtio_blk_new(const struct vmgenid_guest_mem *mem, struct disk *disk,
				  const char *serial, const struct virtio_mmio_ops *ops)
{
	struct virtio_blk *b = calloc(1, sizeof(*b));
	uint8_t config[CONFIG_LEN] = { 0 };
	uint64_t features = (1ull << VIRTIO_BLK_F_SEG_MAX) | (1ull << VIRTIO_BLK_F_BLK_SIZE) |
			    (1ull << VIRTIO_BLK_F_FLUSH) | (1ull << VIRTIO_F_INDIRECT_DESC) |
			    (1ull << VIRTIO_F_EVENT_IDX);

	if (!b)
		return NULL;
	b->disk = disk;
	b->capacity = disk_size(disk) / DISK_SECTOR;
	/* NUL-padded, and not NUL-terminated when all 20 bytes are used (5.2.6). */
	memcpy(b->serial, serial, strnlen(serial, sizeof(b->serial)));
	if (disk_readonly(disk))
		features |= 1ull << VIRTIO_BLK_F_RO;
	vmgenid_put_le64(config, b->capacity);                 /* capacity, in 512-byte sectors */
	vmgenid_put_le32(config + 12, VIRTIO_BLK_SEG_MAX);     /* seg_max */
	vmgenid_put_le32(config + 20, DISK_SECTOR);            /* blk_size */
	virtio_mmio_init(&b->mmio, mem, VIRTIO_ID_BLOCK, features, 1, config, sizeof(config), ops);
	return b;
}

void virtio_blk_free(struct virtio_blk *b)
{
	if (!b)
		return;
	virtio_mmio_destroy(&b->mmio);
	free(b);
}

/* Point dst at len bytes of src from byte skip on; the number of iovecs. */
static int iov_slice(const struct iovec *src, unsigned int n, uint64_t skip, uint64_t len,
		     struct iovec *dst)
{
	int count = 0;

	for (unsigned int i = 0; i < n && len; i++) {
		uint64_t take;

		if (skip >= src[i].iov_len) {
			skip -= src[i].iov_len;
			continue;
		}
		take = src[i].iov_len - skip;
		if (take > len)
			take = len;
		dst[count++] = (struct iovec){ (uint8_t *)src[i].iov_base + skip, take };
		len -= take;
		skip = 0;
	}
	return count;
}

/* [sector, sector + bytes / 512) inside the disk, without overflow. */
static bool in_range(const struct virtio_blk *b, uint64_t sector, uint64_t bytes)
{
	return bytes % DISK_SECTOR == 0 && sector <= b->capacity &&
	       bytes / DISK_SECTOR <= b->capacity - sector;
}

/*
 * Serve one request; its status byte is the chain's last writable byte.
 * The status, or -1 when the chain has no status byte to write (then the
 * device needs a reset: there is no way to answer).  *written: bytes put
 * into the writable part, the status included.
 */
static int serve(struct virtio_blk *b, uint32_t *written)
{
	struct virtq_chain *c = &b->chain;
	const struct iovec *in = c->iov + c->nr_out;
	uint8_t hdr[REQ_HEADER];
	uint64_t sector, data_len, off;
	uint32_t type;
	int n, ret;

	*written = 1;
	if (c->nr_in == 0)
		return -1;
	if (c->out_len < REQ_HEADER)
		return VIRTIO_BLK_S_IOERR;
	iov_copy_from(c->iov, c->nr_out, 0, hdr, sizeof(hdr));
	type = vmgenid_get_le32(hdr);
	sector = vmgenid_get_le64(hdr + 8);
	switch (type) {
	case VIRTIO_BLK_T_IN:
		/* Header only in the readable part; data then status in the writable one. */
		data_len = c->in_len - 1;
		if (c->out_len != REQ_HEADER || !in_range(b, sector, data_len))
			return VIRTIO_BLK_S_IOERR;
		n = iov_slice(in, c->nr_in, 0, data_len, b->data);
		off = sector * DISK_SECTOR;
		ret = data_len ? disk_preadv(b->disk, b->data, n, off) : 0;
		if (ret < 0)
			return VIRTIO_BLK_S_IOERR;
		/* The used length is 32 bits; a larger read is told as the most it can say. */
		*written = data_len < UINT32_MAX ? (uint32_t)(data_len + 1) : UINT32_MAX;
		return VIRTIO_BLK_S_OK;
	case VIRTIO_BLK_T_OUT:
		data_len = c->out_len - REQ_HEADER;
		if (c->in_len != 1 || !in_range(b, sector, data_len) || disk_readonly(b->disk))
			return VIRTIO_BLK_S_IOERR;
		n = iov_slice(c->iov, c->nr_out, REQ_HEADER, data_len, b->data);
		off = sector * DISK_SECTOR;
		ret = data_len ? disk_pwritev(b->disk, b->data, n, off) : 0;
		return ret < 0 ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK;
	case VIRTIO_BLK_T_FLUSH:
		return disk_flush(b->disk) < 0 ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK;
	case VIRTIO_BLK_T_GET_ID:
		/* 5.2.6: up to 20 bytes, NUL-padded when shorter. */
		data_len = c->in_len - 1;
		if (data_len > VIRTIO_BLK_ID_BYTES)
			data_len = VIRTIO_BLK_ID_BYTES;
		iov_copy_to(in, c->nr_in, 0, b->serial, data_len);
		*written = (uint32_t)(data_len + 1);
		return VIRTIO_BLK_S_OK;
	default:
		return VIRTIO_BLK_S_UNSUPP;
	}
}

void virtio_blk_process(struct virtio_blk *b)
{
	struct virtq_chain *c = &b->chain;

	while (virtio_mmio_begin(&b->mmio, 0, c) > 0) {
		uint32_t written;
		int status = serve(b, &written);
		uint8_t s;

		if (status < 0) {
			virtio_mmio_fail(&b->mmio, "a request without a status byte");
			continue;
		}
		s = (uint8_t)status;
		iov_copy_to(c->iov + c->nr_out, c->nr_in, c->in_len - 1, &s, 1);
		virtio_mmio_end(&b->mmio, 0, c->head, written);
	}
}
