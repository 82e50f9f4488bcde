// SPDX-License-Identifier: MIT
/*
 * The raw backend through disk.h (and raw.c where a test must see how the
 * image was opened): iovec I/O, bounds, read-only, flush, cache=none with
 * iovecs the kernel would refuse O_DIRECT, and the open-time refusals.
 *
 * Files live in $TMPDIR or /var/tmp.  cache=none needs a filesystem with
 * O_DIRECT there; if it has none these tests fail and say so, they do not
 * skip (TMPDIR=/some/disk/dir picks another).
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

static void file_bytes(const char *path, uint64_t off, void *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(pread(fd, buf, len, (off_t)off), (ssize_t)len);
	close(fd);
}

static struct disk *open_ok(const char *path, bool ro, bool snap, bool direct)
{
	struct disk_options o = { .path = path, .readonly = ro, .snapshot = snap, .direct = direct };
	struct disk *d = NULL;
	char why[256] = "";
	int ret = disk_open(&o, &d, why, sizeof(why));

	if (ret)
		fail_msg("disk_open %s: %s", path, why);
	return d;
}

static void open_fails(const char *path, bool direct, int err, const char *expect)
{
	struct disk_options o = { .path = path, .direct = direct };
	struct disk *d = (struct disk *)1;
	char why[256] = "";

	assert_int_equal(disk_open(&o, &d, why, sizeof(why)), err);
	assert_null(d);
	assert_string_equal(why, expect);
}

static int setup(void **state)
{
	(void)state;
	return images_setup("test_disk");
}

static int teardown(void **state)
{
	(void)state;
	return images_teardown();
}

static void test_open_refusals(void **state)
{
	char p[300], expect[400];

	(void)state;
	snprintf(p, sizeof(p), "%s/missing.img", image_dir);
	snprintf(expect, sizeof(expect), "%s: No such file or directory", p);
	open_fails(p, false, -ENOENT, expect);

	snprintf(expect, sizeof(expect), "%s: is a directory", image_dir);
	open_fails(image_dir, false, -EISDIR, expect);

	snprintf(p, sizeof(p), "%s/fifo", image_dir);
	assert_int_equal(mkfifo(p, 0600), 0);
	snprintf(expect, sizeof(expect), "%s: not a regular file or block device", p);
	open_fails(p, false, -EINVAL, expect);

	make_image(p, sizeof(p), "odd.img", 1000);
	snprintf(expect, sizeof(expect), "%s: size 1000 is not a non-zero multiple of 512", p);
	open_fails(p, false, -EINVAL, expect);

	make_image(p, sizeof(p), "empty.img", 0);
	snprintf(expect, sizeof(expect), "%s: size 0 is not a non-zero multiple of 512", p);
	open_fails(p, false, -EINVAL, expect);

	/* No write permission: a writable drive is refused, readonly=on is fine. */
	if (geteuid() != 0) {
		make_image(p, sizeof(p), "ro.img", 4096);
		assert_int_equal(chmod(p, 0400), 0);
		snprintf(expect, sizeof(expect), "%s: Permission denied", p);
		open_fails(p, false, -EACCES, expect);
		disk_close(open_ok(p, true, false, false));
	}
}

/* A second writer of one image is refused; readers share it. */
static void test_locking(void **state)
{
	char p[300], expect[400];
	struct disk *a, *b;

	(void)state;
	make_image(p, sizeof(p), "lock.img", 8192);
	a = open_ok(p, false, false, false);
	snprintf(expect, sizeof(expect), "%s: in use by another process (a lock held)", p);
	open_fails(p, false, -EAGAIN, expect);
	disk_close(a);

	a = open_ok(p, true, false, false);
	b = open_ok(p, false, true, false); /* snapshot=on only reads the image */
	snprintf(expect, sizeof(expect), "%s: in use by another process (a lock held)", p);
	open_fails(p, false, -EAGAIN, expect);
	disk_close(a);
	disk_close(b);
	disk_close(open_ok(p, false, false, false));
}

/* Scattered iovecs of odd lengths read and write the right bytes. */
static void rw_iovecs(bool direct)
{
	enum { SZ = 1 << 20 };
	char p[300];
	uint8_t a[700], b[3], c[4096 - 703 + 512], got[4608], want[4608];
	struct iovec iov[3] = { { a, sizeof(a) }, { b, sizeof(b) }, { c, sizeof(c) } };
	struct disk *d;

	make_image(p, sizeof(p), direct ? "rw-direct.img" : "rw.img", SZ);
	d = open_ok(p, false, false, direct);
	assert_int_equal(disk_size(d), SZ);
	assert_false(disk_readonly(d));

	/* Read 4608 bytes at sector 3 (an offset O_DIRECT cannot take as 4 KiB). */
	assert_int_equal(disk_preadv(d, iov, 3, 3 * 512), 0);
	for (size_t i = 0; i < sizeof(want); i++)
		want[i] = image_pattern(3 * 512 + i);
	memcpy(got, a, sizeof(a));
	memcpy(got + sizeof(a), b, sizeof(b));
	memcpy(got + sizeof(a) + sizeof(b), c, sizeof(c));
	assert_memory_equal(got, want, sizeof(want));

	/* Write a pattern there; the sectors around it stay as they were. */
	memset(a, 0xa1, sizeof(a));
	memset(b, 0xb2, sizeof(b));
	memset(c, 0xc3, sizeof(c));
	assert_int_equal(disk_pwritev(d, iov, 3, 3 * 512), 0);
	assert_int_equal(disk_flush(d), 0);
	disk_close(d);

	uint8_t file[6 * 4096];

	file_bytes(p, 0, file, sizeof(file));
	for (size_t i = 0; i < sizeof(file); i++) {
		uint8_t e = image_pattern(i);

		if (i >= 1536 && i < 1536 + 700)
			e = 0xa1;
		else if (i >= 1536 + 700 && i < 1536 + 703)
			e = 0xb2;
		else if (i >= 1536 + 703 && i < 1536 + 4608)
			e = 0xc3;
		if (file[i] != e)
			fail_msg("byte %zu: %#x, want %#x", i, file[i], e);
	}
}

static void test_rw_iovecs(void **state)
{
	(void)state;
	rw_iovecs(false);
}

static void test_direct_unaligned(void **state)
{
	(void)state;
	rw_iovecs(true);
}

/* cache=none opens O_DIRECT and large aligned transfers go straight through. */
static void test_direct_aligned_and_large(void **state)
{
	enum { SZ = 4 << 20 };
	char p[300];
	struct raw r;
	char why[256] = "";
	uint8_t *buf = aligned_alloc(4096, 3 << 20), *odd = malloc((3 << 20) + 1);

	(void)state;
	assert_non_null(buf);
	assert_non_null(odd);
	make_image(p, sizeof(p), "big.img", SZ);
	if (raw_open(&r, p, true, true, why, sizeof(why)))
		fail_msg("cache=none in %s: %s", image_dir, why);
	assert_true(fcntl(r.fd, F_GETFL) & O_DIRECT);
	assert_true(r.off_align >= 512 && r.off_align <= 65536);

	struct iovec v = { buf, 3 << 20 };

	assert_int_equal(raw_preadv(&r, &v, 1, 4096), 0);
	for (size_t i = 0; i < v.iov_len; i++)
		if (buf[i] != image_pattern(4096 + i))
			fail_msg("aligned read byte %zu", i);

	/* 3 MiB through the 1 MiB bounce buffer from a misaligned address. */
	struct iovec w = { odd + 1, 3 << 20 };

	memset(odd + 1, 0x5e, 3 << 20);
	assert_int_equal(raw_pwritev(&r, &w, 1, 512), 0);
	memset(odd, 0, (3 << 20) + 1);
	assert_int_equal(raw_preadv(&r, &w, 1, 512), 0);
	for (size_t i = 0; i < w.iov_len; i++)
		if (odd[1 + i] != 0x5e)
			fail_msg("bounced byte %zu", i);
	assert_true(fcntl(r.fd, F_GETFL) & O_DIRECT);
	raw_close(&r);

	uint8_t edge[2];

	file_bytes(p, 511, edge, 1);
	file_bytes(p, 512 + (3 << 20), edge + 1, 1);
	assert_int_equal(edge[0], image_pattern(511));
	assert_int_equal(edge[1], image_pattern(512 + (3 << 20)));
	free(buf);
	free(odd);
}

/*
 * An image whose size is a multiple of 512 but not of the O_DIRECT
 * granularity: its last sectors are read and written in place and the file
 * does not grow.  The granularity is forced to 4 KiB (stricter than the
 * kernel asks is always allowed) so the test does not depend on the host's.
 */
static void test_direct_tail(void **state)
{
	enum { SZ = 8192 + 1536 };
	char p[300], why[256] = "";
	uint8_t buf[2048], back[2049];
	struct iovec v = { buf, sizeof(buf) };
	struct raw r;
	struct stat st;

	(void)state;
	make_image(p, sizeof(p), "tail.img", SZ);
	if (raw_open(&r, p, true, true, why, sizeof(why)))
		fail_msg("cache=none in %s: %s", image_dir, why);
	r.off_align = r.mem_align = 4096;
	memset(buf, 0x77, sizeof(buf));
	/* 512 bytes below the 8 KiB boundary (bounced RMW) and 1536 above it. */
	assert_int_equal(raw_pwritev(&r, &v, 1, SZ - 2048), 0);
	assert_true(fcntl(r.fd, F_GETFL) & O_DIRECT);
	memset(buf, 0, sizeof(buf));
	assert_int_equal(raw_preadv(&r, &v, 1, SZ - 2048), 0);
	memset(back, 0x77, sizeof(buf));
	assert_memory_equal(buf, back, sizeof(buf));
	raw_close(&r);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_size, SZ);
	file_bytes(p, SZ - 2049, back, sizeof(back));
	assert_int_equal(back[0], image_pattern(SZ - 2049));
	for (size_t i = 1; i < sizeof(back); i++)
		assert_int_equal(back[i], 0x77);
	file_bytes(p, 4096, back, 4096 - 512 > sizeof(back) ? sizeof(back) : 4096 - 512);
	for (size_t i = 0; i < sizeof(back); i++)
		assert_int_equal(back[i], image_pattern(4096 + i));
}

static void test_bounds(void **state)
{
	char p[300];
	uint8_t buf[1024];
	struct iovec v = { buf, sizeof(buf) };
	struct iovec huge[2] = { { buf, SIZE_MAX / 2 + 1 }, { buf, SIZE_MAX / 2 + 1 } };
	struct disk *d;

	(void)state;
	make_image(p, sizeof(p), "bounds.img", 8192);
	d = open_ok(p, false, false, false);
	assert_int_equal(disk_preadv(d, &v, 1, 8192 - 1024), 0);
	assert_int_equal(disk_preadv(d, &v, 1, 8192 - 512), -EINVAL);
	assert_int_equal(disk_pwritev(d, &v, 1, 8192 - 512), -EINVAL);
	assert_int_equal(disk_preadv(d, &v, 1, UINT64_MAX - 100), -EINVAL);
	assert_int_equal(disk_pwritev(d, &v, 1, UINT64_MAX - 100), -EINVAL);
	assert_int_equal(disk_preadv(d, huge, 2, 0), -EINVAL);
	assert_int_equal(disk_pwritev(d, &v, -1, 0), -EINVAL);
	assert_int_equal(disk_preadv(d, &v, 0, 8192), 0); /* nothing, at the end: fine */
	disk_close(d);

	/* The refused write changed nothing; the file did not grow. */
	struct stat st;

	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_size, 8192);
	file_bytes(p, 8192 - 512, buf, 512);
	for (int i = 0; i < 512; i++)
		assert_int_equal(buf[i], image_pattern(8192 - 512 + (uint64_t)i));
}

/* readonly=on: writes are -EROFS and the image is opened O_RDONLY. */
static void test_readonly(void **state)
{
	char p[300];
	uint8_t buf[512];
	struct iovec v = { buf, sizeof(buf) };
	struct disk *d;
	struct raw r;
	char why[256];

	(void)state;
	make_image(p, sizeof(p), "readonly.img", 4096);
	d = open_ok(p, true, false, false);
	assert_true(disk_readonly(d));
	memset(buf, 0xee, sizeof(buf));
	assert_int_equal(disk_pwritev(d, &v, 1, 0), -EROFS);
	assert_int_equal(disk_flush(d), 0);
	assert_int_equal(disk_preadv(d, &v, 1, 0), 0);
	assert_int_equal(buf[0], image_pattern(0));
	disk_close(d);

	assert_int_equal(raw_open(&r, p, false, false, why, sizeof(why)), 0);
	assert_int_equal(fcntl(r.fd, F_GETFL) & O_ACCMODE, O_RDONLY);
	assert_int_equal(raw_pwritev(&r, &v, 1, 0), -EROFS);
	raw_close(&r);
}

/* FLUSH is fdatasync: it succeeds on a file, and fails on an fd that cannot sync. */
static void test_flush(void **state)
{
	char p[300];
	struct raw r;
	char why[256];

	(void)state;
	make_image(p, sizeof(p), "flush.img", 4096);
	assert_int_equal(raw_open(&r, p, true, false, why, sizeof(why)), 0);
	assert_int_equal(raw_flush(&r), 0);
	close(r.fd);
	assert_int_equal(raw_flush(&r), -EBADF);
	r.fd = -1;
	raw_close(&r);
}

/* More iovecs than one preadv takes (IOV_MAX) still move every byte. */
static void test_many_iovecs(void **state)
{
	enum { N = 1500 };
	char p[300];
	static uint8_t bytes[N];
	static struct iovec v[N];
	struct disk *d;

	(void)state;
	make_image(p, sizeof(p), "many.img", 4096);
	d = open_ok(p, false, false, false);
	for (int i = 0; i < N; i++)
		v[i] = (struct iovec){ &bytes[i], 1 };
	assert_int_equal(disk_preadv(d, v, N, 100), 0);
	for (int i = 0; i < N; i++)
		assert_int_equal(bytes[i], image_pattern(100 + (uint64_t)i));
	disk_close(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_refusals),
		cmocka_unit_test(test_locking),
		cmocka_unit_test(test_rw_iovecs),
		cmocka_unit_test(test_direct_unaligned),
		cmocka_unit_test(test_direct_aligned_and_large),
		cmocka_unit_test(test_direct_tail),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_readonly),
		cmocka_unit_test(test_flush),
		cmocka_unit_test(test_many_iovecs),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
