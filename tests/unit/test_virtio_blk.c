// SPDX-License-Identifier: MIT
/*
 * virtio-blk requests through a simulated guest: reads and writes land in
 * the right place of the disk and of guest RAM, a request past the end or
 * onto a read-only disk gets IOERR and touches nothing, FLUSH reaches the
 * backend, GET_ID answers the serial.  The disk is an in-memory fake of
 * block/disk.h that also checks the device never asks it for anything
 * outside the image.  virtio-rng fills buffers the same way.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "vmgenid/endian.h"

#include "blk.h"
#include "rng.h"
#include "virtio_sim.h"

#define DISK_BYTES (64u * 512u)

struct disk {
	uint8_t data[DISK_BYTES];
	bool readonly;
	unsigned int flushes;
	unsigned int calls;
};

uint64_t disk_size(const struct disk *d)
{
	(void)d;
	return DISK_BYTES;
}

bool disk_readonly(const struct disk *d)
{
	return d->readonly;
}

static int transfer(struct disk *d, const struct iovec *iov, int n, uint64_t off, bool write)
{
	d->calls++;
	for (int i = 0; i < n; i++) {
		/* The device's own range check must have caught this. */
		assert_true(off <= DISK_BYTES && iov[i].iov_len <= DISK_BYTES - off);
		if (write)
			memcpy(d->data + off, iov[i].iov_base, iov[i].iov_len);
		else
			memcpy(iov[i].iov_base, d->data + off, iov[i].iov_len);
		off += iov[i].iov_len;
	}
	return 0;
}

int disk_preadv(struct disk *d, const struct iovec *iov, int iovcnt, uint64_t off)
{
	return transfer(d, iov, iovcnt, off, false);
}

int disk_pwritev(struct disk *d, const struct iovec *iov, int iovcnt, uint64_t off)
{
	assert_false(d->readonly);
	return transfer(d, iov, iovcnt, off, true);
}

int disk_flush(struct disk *d)
{
	d->flushes++;
	return 0;
}

#define V1 (1ull << VIRTIO_F_VERSION_1)
#define F_NEXT VIRTQ_DESC_F_NEXT
#define F_WRITE VIRTQ_DESC_F_WRITE

struct fixture {
	struct vsim s;
	struct disk disk;
	struct virtio_blk *b;
	uint64_t hdr, data, status;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	vsim_init(&f->s, 16);
	for (unsigned int i = 0; i < DISK_BYTES; i++)
		f->disk.data[i] = (uint8_t)(i / 512 + 1); /* sector n holds n + 1 */
	f->hdr = vsim_alloc(&f->s, 16);
	f->data = vsim_alloc(&f->s, 4096);
	f->status = vsim_alloc(&f->s, 1);
	*state = f;
	return 0;
}

static void start(struct fixture *f, bool readonly, const char *serial)
{
	f->disk.readonly = readonly;
	f->b = virtio_blk_new(&f->s.mem, &f->disk, serial, &f->s.ops);
	assert_non_null(f->b);
	assert_int_equal(vsim_driver_init(&f->s, &f->b->mmio,
					  V1 | (1ull << VIRTIO_BLK_F_FLUSH) |
						  (readonly ? 1ull << VIRTIO_BLK_F_RO : 0)),
			 VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
				 VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	virtio_blk_free(f->b);
	vsim_destroy(&f->s);
	free(f);
	return 0;
}

/* header, data (len bytes, device-writable for reads) and status: run it, return the status. */
static int request(struct fixture *f, uint32_t type, uint64_t sector, uint32_t len,
		   uint32_t *used_len)
{
	uint8_t *h = vsim_hva(&f->s, f->hdr);
	bool to_guest = type == VIRTIO_BLK_T_IN || type == VIRTIO_BLK_T_GET_ID;
	uint16_t before = vsim_used_idx(&f->s);
	uint32_t id;

	vmgenid_put_le32(h, type);
	vmgenid_put_le32(h + 4, 0);
	vmgenid_put_le64(h + 8, sector);
	*vsim_hva(&f->s, f->status) = 0xee;
	if (len) {
		vsim_put_desc(&f->s, 0, f->hdr, 16, F_NEXT, 1);
		vsim_put_desc(&f->s, 1, f->data, len, (uint16_t)(F_NEXT | (to_guest ? F_WRITE : 0)), 2);
	} else {
		vsim_put_desc(&f->s, 0, f->hdr, 16, F_NEXT, 2);
	}
	vsim_put_desc(&f->s, 2, f->status, 1, F_WRITE, 0);
	vsim_publish(&f->s, 0);
	virtio_blk_process(f->b);
	assert_int_equal(vsim_used_idx(&f->s), (uint16_t)(before + 1));
	vsim_used_elem(&f->s, before, &id, used_len);
	assert_int_equal(id, 0);
	return *vsim_hva(&f->s, f->status);
}

static void test_config(void **state)
{
	struct fixture *f = *state;
	uint8_t b[8];

	start(f, false, "");
	virtio_mmio_io(&f->b->mmio, VIRTIO_MMIO_CONFIG, b, 8, false);
	assert_int_equal(vmgenid_get_le64(b), DISK_BYTES / 512);
	virtio_mmio_io(&f->b->mmio, VIRTIO_MMIO_CONFIG + 12, b, 4, false);
	assert_int_equal(vmgenid_get_le32(b), VIRTIO_BLK_SEG_MAX);
	virtio_mmio_io(&f->b->mmio, VIRTIO_MMIO_CONFIG + 20, b, 4, false);
	assert_int_equal(vmgenid_get_le32(b), 512);
	assert_int_equal(vsim_rd(&f->b->mmio, VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_BLOCK);
	assert_false(f->b->mmio.device_features & (1ull << VIRTIO_BLK_F_RO));
	assert_true(f->b->mmio.device_features & (1ull << VIRTIO_BLK_F_FLUSH));
}

static void test_read_write(void **state)
{
	struct fixture *f = *state;
	uint8_t *data;
	uint32_t used;

	start(f, false, "");
	data = vsim_hva(&f->s, f->data);
	assert_int_equal(request(f, VIRTIO_BLK_T_IN, 3, 1024, &used), VIRTIO_BLK_S_OK);
	assert_int_equal(used, 1025);
	assert_int_equal(data[0], 4);
	assert_int_equal(data[1023], 5);
	memset(data, 0xab, 512);
	assert_int_equal(request(f, VIRTIO_BLK_T_OUT, 63, 512, &used), VIRTIO_BLK_S_OK);
	assert_int_equal(used, 1);
	assert_int_equal(f->disk.data[63 * 512], 0xab);
	assert_int_equal(f->disk.data[DISK_BYTES - 1], 0xab);
	assert_int_equal(f->disk.data[62 * 512], 63);
	/* Interrupt raised, worker went idle. */
	assert_true(f->s.irqs >= 1);
	assert_false(f->b->mmio.busy);
}

static void test_past_the_end(void **state)
{
	struct fixture *f = *state;
	uint8_t before[DISK_BYTES];
	uint32_t used;

	start(f, false, "");
	memcpy(before, f->disk.data, DISK_BYTES);
	memset(vsim_hva(&f->s, f->data), 0x77, 4096);
	/* One sector past the end, straddling it, far past it, and wrapping 64 bits. */
	assert_int_equal(request(f, VIRTIO_BLK_T_IN, 64, 512, &used), VIRTIO_BLK_S_IOERR);
	assert_int_equal(request(f, VIRTIO_BLK_T_IN, 63, 1024, &used), VIRTIO_BLK_S_IOERR);
	assert_int_equal(request(f, VIRTIO_BLK_T_OUT, 63, 1024, &used), VIRTIO_BLK_S_IOERR);
	assert_int_equal(request(f, VIRTIO_BLK_T_OUT, 1ull << 62, 512, &used),
			 VIRTIO_BLK_S_IOERR);
	assert_int_equal(request(f, VIRTIO_BLK_T_OUT, UINT64_MAX, 512, &used),
			 VIRTIO_BLK_S_IOERR);
	/* Not a whole number of sectors. */
	assert_int_equal(request(f, VIRTIO_BLK_T_OUT, 0, 100, &used), VIRTIO_BLK_S_IOERR);
	assert_int_equal(f->disk.calls, 0);
	assert_memory_equal(f->disk.data, before, DISK_BYTES);
	assert_int_equal(*vsim_hva(&f->s, f->data), 0x77);
	/* The device keeps working. */
	assert_int_equal(request(f, VIRTIO_BLK_T_IN, 0, 512, &used), VIRTIO_BLK_S_OK);
	assert_false(vsim_rd(&f->b->mmio, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
}

static void test_readonly(void **state)
{
	struct fixture *f = *state;
	uint32_t used;

	start(f, true, "");
	assert_true(f->b->mmio.device_features & (1ull << VIRTIO_BLK_F_RO));
	assert_int_equal(request(f, VIRTIO_BLK_T_OUT, 0, 512, &used), VIRTIO_BLK_S_IOERR);
	assert_int_equal(f->disk.data[0], 1);
	assert_int_equal(request(f, VIRTIO_BLK_T_IN, 0, 512, &used), VIRTIO_BLK_S_OK);
}

static void test_flush_get_id_unsupported(void **state)
{
	struct fixture *f = *state;
	uint8_t *data;
	uint32_t used;

	start(f, false, "SN-42");
	data = vsim_hva(&f->s, f->data);
	assert_int_equal(request(f, VIRTIO_BLK_T_FLUSH, 0, 0, &used), VIRTIO_BLK_S_OK);
	assert_int_equal(f->disk.flushes, 1);
	memset(data, 0xcc, 64);
	assert_int_equal(request(f, VIRTIO_BLK_T_GET_ID, 0, 64, &used), VIRTIO_BLK_S_OK);
	assert_int_equal(used, 21);
	assert_memory_equal(data, "SN-42\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 20);
	assert_int_equal(data[20], 0xcc); /* never more than 20 bytes */
	assert_int_equal(request(f, 11 /* DISCARD: not offered */, 0, 16, &used),
			 VIRTIO_BLK_S_UNSUPP);
}

static void test_malformed_requests(void **state)
{
	struct fixture *f = *state;
	uint8_t *h;
	uint32_t id, used;

	start(f, false, "");
	h = vsim_hva(&f->s, f->hdr);
	/* A header shorter than 16 bytes: IOERR. */
	vmgenid_put_le32(h, VIRTIO_BLK_T_IN);
	vsim_put_desc(&f->s, 0, f->hdr, 8, F_NEXT, 2);
	vsim_put_desc(&f->s, 2, f->status, 1, F_WRITE, 0);
	vsim_publish(&f->s, 0);
	virtio_blk_process(f->b);
	assert_int_equal(*vsim_hva(&f->s, f->status), VIRTIO_BLK_S_IOERR);
	vsim_used_elem(&f->s, 0, &id, &used);
	assert_int_equal(used, 1);
	/* No writable status byte at all: nothing to answer with, the device needs a reset. */
	vsim_put_desc(&f->s, 0, f->hdr, 16, 0, 0);
	vsim_publish(&f->s, 0);
	virtio_blk_process(f->b);
	assert_true(vsim_rd(&f->b->mmio, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
	assert_int_equal(vsim_used_idx(&f->s), 1);
	assert_false(f->b->mmio.busy);
	assert_int_equal(f->disk.calls, 0);
}

static void test_rng(void **state)
{
	struct fixture *f = *state;
	struct virtio_rng *r = virtio_rng_new(&f->s.mem, &f->s.ops);
	uint64_t a = vsim_alloc(&f->s, 64), big = vsim_alloc(&f->s, VIRTIO_RNG_MAX_REQUEST + 512);
	uint8_t zero[64] = { 0 };
	uint32_t id, len;

	assert_non_null(r);
	assert_int_equal(vsim_rd(&r->mmio, VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_RNG);
	vsim_driver_init(&f->s, &r->mmio, V1);
	vsim_put_desc(&f->s, 0, a, 32, F_WRITE | F_NEXT, 1);
	vsim_put_desc(&f->s, 1, a + 32, 32, F_WRITE, 0);
	vsim_publish(&f->s, 0);
	virtio_rng_process(r);
	vsim_used_elem(&f->s, 0, &id, &len);
	assert_int_equal(len, 64);
	assert_memory_not_equal(vsim_hva(&f->s, a), zero, 32);
	assert_memory_not_equal(vsim_hva(&f->s, a + 32), zero, 32);
	/* A huge request gets its cap, and the guest is told how much. */
	vsim_put_desc(&f->s, 0, big, VIRTIO_RNG_MAX_REQUEST + 512, F_WRITE, 0);
	vsim_publish(&f->s, 0);
	virtio_rng_process(r);
	vsim_used_elem(&f->s, 1, &id, &len);
	assert_int_equal(len, VIRTIO_RNG_MAX_REQUEST);
	assert_memory_equal(vsim_hva(&f->s, big + VIRTIO_RNG_MAX_REQUEST), zero, 64);
	virtio_rng_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_config, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_write, setup, teardown),
		cmocka_unit_test_setup_teardown(test_past_the_end, setup, teardown),
		cmocka_unit_test_setup_teardown(test_readonly, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flush_get_id_unsupported, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed_requests, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rng, setup, teardown),
	};

	return cmocka_run_group_tests_name("virtio_blk", tests, NULL, NULL);
}
