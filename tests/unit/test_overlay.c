// SPDX-License-Identifier: MIT
/*
 * snapshot=on: the overlay's bitmap, copy-up of partly written blocks, reads
 * merged from overlay and image, clones that see only their own writes,
 * an image that is never written, and a private file that stays sparse.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "block_int.h"
#include "disk_images.h"
#include "disk.h"
#include "overlay_int.h"

static struct disk *open_snap(const char *path, bool ro)
{
	struct disk_options o = { .path = path, .snapshot = true, .readonly = ro };
	struct disk *d = NULL;
	char why[256] = "";

	if (disk_open(&o, &d, why, sizeof(why)))
		fail_msg("disk_open %s: %s", path, why);
	return d;
}

static struct overlay *ov_of(struct disk *d)
{
	return d->ov;
}

static struct raw *raw_of(struct disk *d)
{
	return &d->raw;
}

static void put(struct disk *d, uint64_t off, uint8_t v, size_t len)
{
	uint8_t *buf = malloc(len);
	struct iovec iov = { buf, len };

	assert_non_null(buf);
	memset(buf, v, len);
	assert_int_equal(disk_pwritev(d, &iov, 1, off), 0);
	free(buf);
}

/* Read [off, off + len) through three iovecs and compare with want. */
static void expect(struct disk *d, uint64_t off, const uint8_t *want, size_t len)
{
	uint8_t *buf = calloc(1, len + 2);
	size_t a = len / 3, b = len / 3 + 1 > len - a ? len - a : len / 3 + 1;
	struct iovec iov[3] = { { buf, a }, { buf + a, b }, { buf + a + b, len - a - b } };

	assert_non_null(buf);
	assert_int_equal(disk_preadv(d, iov, 3, off), 0);
	for (size_t i = 0; i < len; i++)
		if (buf[i] != want[i])
			fail_msg("byte %llu: %#x, want %#x", (unsigned long long)(off + i), buf[i],
				 want[i]);
	free(buf);
}

static int setup(void **state)
{
	(void)state;
	return images_setup("test_overlay");
}

static int teardown(void **state)
{
	(void)state;
	return images_teardown();
}

/*
 * Whole, partial and straddling writes: which blocks become dirty, and what
 * reads see around them.  The disk ends in a short block (size 3.25 blocks).
 */
static void test_bitmap_and_rmw(void **state)
{
	enum { SZ = 3 * 4096 + 1024 };
	char p[300];
	static uint8_t model[SZ];
	struct disk *d;
	struct overlay *ov;

	(void)state;
	make_image(p, sizeof(p), "base.img", SZ);
	for (size_t i = 0; i < SZ; i++)
		model[i] = image_pattern(i);
	d = open_snap(p, false);
	ov = ov_of(d);
	assert_non_null(ov);
	assert_int_equal(ov->nblocks, 4);
	assert_int_equal(overlay_dirty_blocks(ov), 0);
	expect(d, 0, model, SZ);

	put(d, 4096, 0x11, 4096); /* block 1, whole: no copy-up */
	memset(model + 4096, 0x11, 4096);
	assert_int_equal(overlay_dirty_blocks(ov), 1);
	assert_int_equal(ov->dirty[0], 0x2);

	put(d, 100, 0x22, 3); /* block 0, 3 bytes: the rest comes from the image */
	memset(model + 100, 0x22, 3);
	assert_int_equal(ov->dirty[0], 0x3);
	expect(d, 0, model, SZ);

	/* From the middle of block 1 to the middle of block 3 (the short one). */
	put(d, 4096 + 2048, 0x33, 6656);
	memset(model + 4096 + 2048, 0x33, 6656);
	assert_int_equal(ov->dirty[0], 0xf);
	assert_int_equal(overlay_dirty_blocks(ov), 4);
	expect(d, 0, model, SZ);

	/* A partial write to a block already dirty keeps its earlier writes. */
	put(d, 102, 0x44, 1);
	model[102] = 0x44;
	expect(d, 0, model, SZ);
	expect(d, 4095, model + 4095, 2);
	expect(d, SZ - 1, model + SZ - 1, 1);
	disk_close(d);
	image_untouched(p, SZ);
}

/* The image is opened O_RDONLY: no path in genvm can write it. */
static void test_base_never_written(void **state)
{
	enum { SZ = 64 * 1024 };
	char p[300];
	uint8_t b[512];
	struct iovec v = { b, sizeof(b) };
	struct disk *d;

	(void)state;
	make_image(p, sizeof(p), "ro-base.img", SZ);
	assert_int_equal(chmod(p, 0444), 0); /* as a shared base usually is */
	d = open_snap(p, false);
	assert_int_equal(fcntl(raw_of(d)->fd, F_GETFL) & O_ACCMODE, O_RDONLY);
	assert_false(raw_of(d)->writable);
	memset(b, 0xab, sizeof(b));
	assert_int_equal(raw_pwritev(raw_of(d), &v, 1, 0), -EROFS);
	assert_int_equal(pwrite(raw_of(d)->fd, b, sizeof(b), 0), -1);
	assert_int_equal(errno, EBADF);
	for (uint64_t o = 0; o < SZ; o += 4096)
		put(d, o + 7, 0xcd, 300);
	assert_int_equal(disk_flush(d), 0);
	disk_close(d);
	image_untouched(p, SZ);
}

/* readonly=on with snapshot=on: an overlay for reads, and writes refused. */
static void test_readonly_snapshot(void **state)
{
	char p[300];
	uint8_t b[512];
	struct iovec v = { b, sizeof(b) };
	struct disk *d;

	(void)state;
	make_image(p, sizeof(p), "ro-snap.img", 8192);
	d = open_snap(p, true);
	assert_true(disk_readonly(d));
	assert_non_null(ov_of(d));
	assert_int_equal(disk_pwritev(d, &v, 1, 0), -EROFS);
	assert_int_equal(overlay_dirty_blocks(ov_of(d)), 0);
	disk_close(d);
	image_untouched(p, 8192);
}

/* N clones of one image: each reads its own writes and nobody else's. */
static void test_clones(void **state)
{
	enum { SZ = 1 << 20, N = 3 };
	char p[300];
	struct disk *d[N];
	uint8_t want[4096];

	(void)state;
	make_image(p, sizeof(p), "shared.img", SZ);
	for (int i = 0; i < N; i++)
		d[i] = open_snap(p, false);
	for (int i = 0; i < N; i++) {
		put(d[i], 8192, (uint8_t)(0xa0 + i), 4096);
		put(d[i], 65536 + (uint64_t)i * 4096, (uint8_t)(0xb0 + i), 512);
	}
	for (int i = 0; i < N; i++) {
		memset(want, 0xa0 + i, sizeof(want));
		expect(d[i], 8192, want, sizeof(want));
		for (int j = 0; j < N; j++) {
			uint64_t o = 65536 + (uint64_t)j * 4096;

			for (size_t k = 0; k < sizeof(want); k++)
				want[k] = i == j && k < 512 ? (uint8_t)(0xb0 + i) : image_pattern(o + k);
			expect(d[i], o, want, sizeof(want));
		}
	}
	for (int i = 0; i < N; i++)
		disk_close(d[i]);
	image_untouched(p, SZ);
}

/*
 * The private file: no name anywhere, the disk's size, and room taken only
 * for blocks written (64 MiB disk, 3 blocks written).
 */
static void test_private_file_sparse(void **state)
{
	enum { SZ = 64 << 20 };
	char p[300];
	struct stat st;
	struct disk *d;
	int fd;

	(void)state;
	snprintf(p, sizeof(p), "%s/big.img", image_dir);
	fd = open(p, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, SZ), 0);
	close(fd);
	d = open_snap(p, false);
	put(d, 0, 1, 4096);
	put(d, 32 << 20, 2, 100);
	put(d, SZ - 4096, 3, 4096);
	assert_int_equal(fstat(overlay_fd(ov_of(d)), &st), 0);
	assert_int_equal(st.st_nlink, 0);
	assert_int_equal(st.st_size, SZ);
	assert_int_equal(overlay_dirty_blocks(ov_of(d)), 3);
	/* st_blocks is in 512-byte units; allow a few blocks of filesystem metadata. */
	assert_true((uint64_t)st.st_blocks * 512 >= 3 * 4096);
	assert_true((uint64_t)st.st_blocks * 512 <= 3 * 4096 + 16 * 4096);
	disk_close(d);
}

/*
 * Many random writes and reads against a model in memory; with cache=none
 * the image's reads (copy-up included) go through O_DIRECT's bounce buffer.
 */
static void random_against_model(bool direct)
{
	enum { SZ = 256 * 1024 + 512 };
	char p[300], why[256] = "";
	static uint8_t model[SZ], buf[SZ];
	struct disk_options o = { .path = p, .snapshot = true, .direct = direct };
	struct disk *d = NULL;
	unsigned seed = 12345;

	make_image(p, sizeof(p), "random.img", SZ);
	for (size_t i = 0; i < SZ; i++)
		model[i] = image_pattern(i);
	if (disk_open(&o, &d, why, sizeof(why)))
		fail_msg("disk_open: %s", why);
	assert_int_equal(!!(fcntl(d->raw.fd, F_GETFL) & O_DIRECT), direct);
	for (int round = 0; round < 2000; round++) {
		uint64_t off = (uint64_t)(rand_r(&seed) % SZ);
		size_t len = (size_t)(rand_r(&seed) % 20000) + 1;

		if (off + len > SZ)
			len = (size_t)(SZ - off);
		if (rand_r(&seed) % 2) {
			uint8_t v = (uint8_t)rand_r(&seed);

			put(d, off, v, len);
			memset(model + off, v, len);
		} else {
			expect(d, off, model + off, len);
		}
	}
	struct iovec v = { buf, SZ };

	assert_int_equal(disk_preadv(d, &v, 1, 0), 0);
	assert_memory_equal(buf, model, SZ);
	disk_close(d);
	image_untouched(p, SZ);
}

static void test_random_against_model(void **state)
{
	(void)state;
	random_against_model(false);
}

static void test_random_direct(void **state)
{
	(void)state;
	random_against_model(true);
}

/* Bounds: the overlay refuses what the raw disk refuses, and writes nothing. */
static void test_bounds(void **state)
{
	char p[300];
	uint8_t b[1024];
	struct iovec v = { b, sizeof(b) };
	struct disk *d;

	(void)state;
	make_image(p, sizeof(p), "ov-bounds.img", 8192);
	d = open_snap(p, false);
	assert_int_equal(disk_pwritev(d, &v, 1, 8192 - 512), -EINVAL);
	assert_int_equal(overlay_pwritev(ov_of(d), &v, 1, 8192 - 512), -EINVAL);
	assert_int_equal(overlay_preadv(ov_of(d), &v, 1, UINT64_MAX - 10), -EINVAL);
	assert_int_equal(overlay_dirty_blocks(ov_of(d)), 0);
	disk_close(d);
}

/* An overlay that cannot be created is a clear error at open. */
static void test_tmpdir_missing(void **state)
{
	char p[300], why[256] = "", old[256] = "";
	struct disk_options o = { .path = p, .snapshot = true };
	struct disk *d = NULL;
	const char *t = getenv("TMPDIR");

	(void)state;
	make_image(p, sizeof(p), "tmpdir.img", 4096);
	if (t)
		snprintf(old, sizeof(old), "%s", t);
	setenv("TMPDIR", "/nonexistent-genvm-dir", 1);
	assert_int_equal(disk_open(&o, &d, why, sizeof(why)), -ENOENT);
	assert_null(d);
	assert_string_equal(why, "snapshot=on: cannot create the overlay in "
				 "/nonexistent-genvm-dir: No such file or directory");
	if (t)
		setenv("TMPDIR", old, 1);
	else
		unsetenv("TMPDIR");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bitmap_and_rmw),
		cmocka_unit_test(test_base_never_written),
		cmocka_unit_test(test_readonly_snapshot),
		cmocka_unit_test(test_clones),
		cmocka_unit_test(test_private_file_sparse),
		cmocka_unit_test(test_random_against_model),
		cmocka_unit_test(test_random_direct),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_tmpdir_missing),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
