// SPDX-License-Identifier: MIT
/*
 * The drives' region of a snapshot (delta.h): a source's overlay saved and
 * given to clones, from a file (read in place) and from a stream (copied),
 * clones of clones, sources without snapshot=on, and every refusal, each
 * of which leaves the clone's drive as it was.
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

#include "vmgenid/endian.h"
#include "vmgenid/state.h"

#include "block_int.h"
#include "delta.h"
#include "disk.h"
#include "disk_images.h"
#include "overlay_int.h"
#include "snapstream.h"

#define PREFIX 8192 /* stands for the header, state and RAM before the region */
#define SZ (256 * 1024 + 1536) /* 65 blocks, the last one short */

static struct disk *open_disk(const char *path, bool snap)
{
	struct disk_options o = { .path = path, .snapshot = snap };
	struct disk *d = NULL;
	char why[256] = "";

	if (disk_open(&o, &d, why, sizeof(why)))
		fail_msg("disk_open %s: %s", path, why);
	return d;
}

static void put(struct disk *d, uint64_t off, uint8_t v, size_t len)
{
	uint8_t buf[8192];
	struct iovec iov = { buf, len };

	assert_true(len <= sizeof(buf));
	memset(buf, v, len);
	assert_int_equal(disk_pwritev(d, &iov, 1, off), 0);
}

/* The whole disk as the guest sees it equals model. */
static void disk_is(struct disk *d, const uint8_t *model)
{
	static uint8_t buf[SZ];
	struct iovec v = { buf, SZ };

	assert_int_equal(disk_preadv(d, &v, 1, 0), 0);
	for (size_t i = 0; i < SZ; i++)
		if (buf[i] != model[i])
			fail_msg("disk byte %zu: %#x, want %#x", i, buf[i], model[i]);
}

static void base_model(uint8_t *model)
{
	for (size_t i = 0; i < SZ; i++)
		model[i] = image_pattern(i);
}

static void uri(struct snapuri *u, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void uri(struct snapuri *u, const char *fmt, ...)
{
	char text[1024], why[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	assert_int_equal(snapuri_parse(text, u, why, sizeof(why)), 0);
}

/* Save n drives' region after PREFIX bytes of filler; its length. */
static uint64_t save(const struct snapuri *u, struct disk *const *disks, unsigned n)
{
	static const uint8_t filler[PREFIX];
	struct disk_region r;
	struct snapwriter w;
	char why[320] = "";

	assert_int_equal(disk_region_plan(&r, disks, n, why, sizeof(why)), 0);
	assert_int_equal(snapwriter_open(u, &w, why, sizeof(why)), 0);
	assert_int_equal(snapwriter_write(&w, filler, sizeof(filler)), 0);
	if (disk_region_save(&r, &w, why, sizeof(why)))
		fail_msg("save: %s", why);
	if (snapwriter_commit(&w, why, sizeof(why)))
		fail_msg("commit: %s", why);
	uint64_t len = r.length;

	disk_region_free(&r);
	return len;
}

/* Load; 0 or the error, with the sentence in why. */
static int load(const struct snapuri *u, uint64_t len, struct disk *const *disks, unsigned n,
		char *why, size_t why_len)
{
	struct snapreader rd;
	char cwhy[200];
	int ret;

	assert_int_equal(snapreader_open(u, &rd, why, why_len), 0);
	ret = disk_region_load(&rd, PREFIX, len, disks, n, why, why_len);
	if (ret)
		snapreader_abort(&rd);
	else
		assert_int_equal(snapreader_close(&rd, cwhy, sizeof(cwhy)), 0);
	return ret;
}

static void load_ok(const struct snapuri *u, uint64_t len, struct disk *const *disks, unsigned n)
{
	char why[320] = "";

	if (load(u, len, disks, n, why, sizeof(why)))
		fail_msg("load: %s", why);
}

static void load_fails(const struct snapuri *u, uint64_t len, struct disk *const *disks,
		       unsigned n, int err, const char *expect)
{
	char why[320] = "";

	assert_int_equal(load(u, len, disks, n, why, sizeof(why)), err);
	assert_string_equal(why, expect);
	/* Nothing changed: no writes and no lower layer on any drive. */
	for (unsigned i = 0; i < n; i++) {
		if (disks[i]->ov) {
			assert_int_equal(overlay_dirty_blocks(disks[i]->ov), 0);
			assert_null(disks[i]->ov->lower);
		}
	}
}

static int setup(void **state)
{
	(void)state;
	return images_setup("test_overlay_delta");
}

static int teardown(void **state)
{
	(void)state;
	return images_teardown();
}

/* A source's writes: whole blocks, a partial one, and the short last block. */
static void source_writes(struct disk *d, uint8_t *model)
{
	put(d, 0, 0xa1, 4096);
	memset(model, 0xa1, 4096);
	put(d, 5 * 4096 + 100, 0xa2, 10);
	memset(model + 5 * 4096 + 100, 0xa2, 10);
	put(d, 6 * 4096, 0xa3, 8192);
	memset(model + 6 * 4096, 0xa3, 8192);
	put(d, SZ - 700, 0xa4, 700);
	memset(model + SZ - 700, 0xa4, 700);
}

/*
 * From a file: the region is laid out as documented, two clones start with
 * the source's writes read in place (nothing copied), and each then sees
 * only its own writes.
 */
static void test_file_round_trip(void **state)
{
	static uint8_t model[SZ], m1[SZ], m2[SZ];
	char img[300], snap[300];
	struct snapuri u;
	struct disk *src, *c1, *c2;
	uint64_t len;
	struct stat st;

	(void)state;
	make_image(img, sizeof(img), "base.img", SZ);
	image_path(snap, sizeof(snap), "snap");
	base_model(model);
	src = open_disk(img, true);
	source_writes(src, model);
	uri(&u, "file:%s", snap);
	len = save(&u, &src, 1);
	/* header, bitmap (2 words, a page), 5 blocks, trailer */
	assert_int_equal(len, 4096 + 4096 + 5 * 4096 + 4096);
	assert_int_equal(stat(snap, &st), 0);
	assert_int_equal(st.st_size, PREFIX + len);
	disk_close(src);

	c1 = open_disk(img, true);
	c2 = open_disk(img, true);
	load_ok(&u, len, &c1, 1);
	load_ok(&u, len, &c2, 1);
	assert_non_null(c1->ov->lower);
	assert_int_equal(c1->ov->lower->count, 5);
	assert_int_equal(overlay_dirty_blocks(c1->ov), 0);
	disk_is(c1, model);
	disk_is(c2, model);

	memcpy(m1, model, SZ);
	memcpy(m2, model, SZ);
	put(c1, 4096 + 10, 0xc1, 20); /* a clean block */
	memset(m1 + 4096 + 10, 0xc1, 20);
	put(c1, 5 * 4096, 0xc1, 50); /* a block the source wrote: copied up from the delta */
	memset(m1 + 5 * 4096, 0xc1, 50);
	put(c2, 6 * 4096 + 4000, 0xc2, 200);
	memset(m2 + 6 * 4096 + 4000, 0xc2, 200);
	disk_is(c1, m1);
	disk_is(c2, m2);
	disk_close(c1);
	disk_close(c2);
	image_untouched(img, SZ);
}

/* From a stream (exec:): the blocks are copied into the clone's overlay. */
static void test_stream_round_trip(void **state)
{
	static uint8_t model[SZ];
	char img[300], snap[300];
	struct snapuri w, r;
	struct disk *src, *c;
	uint64_t len;

	(void)state;
	make_image(img, sizeof(img), "base.img", SZ);
	image_path(snap, sizeof(snap), "snap-stream");
	base_model(model);
	src = open_disk(img, true);
	source_writes(src, model);
	uri(&w, "exec:cat > '%s'", snap);
	len = save(&w, &src, 1);
	disk_close(src);

	c = open_disk(img, true);
	uri(&r, "exec:cat '%s'", snap);
	load_ok(&r, len, &c, 1);
	assert_null(c->ov->lower);
	assert_int_equal(overlay_dirty_blocks(c->ov), 5);
	disk_is(c, model);
	disk_close(c);
	image_untouched(img, SZ);
}

/* readonly=on with snapshot=on: the clone reads the source's writes, writes nothing. */
static void test_readonly_clone(void **state)
{
	static uint8_t model[SZ];
	char img[300], snap[300], why[256] = "";
	struct snapuri u;
	struct disk_options o = { .path = img, .snapshot = true, .readonly = true };
	struct disk *d;
	uint64_t len;
	uint8_t b[512];
	struct iovec v = { b, sizeof(b) };

	(void)state;
	make_image(img, sizeof(img), "base.img", SZ);
	image_path(snap, sizeof(snap), "snap-ro");
	uri(&u, "file:%s", snap);
	base_model(model);
	d = open_disk(img, true);
	source_writes(d, model);
	len = save(&u, &d, 1);
	disk_close(d);

	assert_int_equal(disk_open(&o, &d, why, sizeof(why)), 0);
	load_ok(&u, len, &d, 1);
	disk_is(d, model);
	assert_int_equal(disk_pwritev(d, &v, 1, 0), -EROFS);
	disk_is(d, model);
	disk_close(d);
	image_untouched(img, SZ);
}

/* A clone saved again carries its snapshot's writes and its own. */
static void test_clone_of_clone(void **state)
{
	static uint8_t model[SZ];
	char img[300], s1[300], s2[300];
	struct snapuri u1, u2;
	struct disk *d;
	uint64_t l1, l2;

	(void)state;
	make_image(img, sizeof(img), "base.img", SZ);
	base_model(model);
	image_path(s1, sizeof(s1), "gen1");
	image_path(s2, sizeof(s2), "gen2");
	uri(&u1, "file:%s", s1);
	uri(&u2, "file:%s", s2);
	d = open_disk(img, true);
	source_writes(d, model);
	l1 = save(&u1, &d, 1);
	disk_close(d);

	d = open_disk(img, true);
	load_ok(&u1, l1, &d, 1);
	put(d, 30 * 4096, 0xd1, 4096);
	memset(model + 30 * 4096, 0xd1, 4096);
	put(d, 100, 0xd2, 1); /* over the source's block 0 */
	model[100] = 0xd2;
	l2 = save(&u2, &d, 1);
	disk_close(d);
	assert_int_equal(unlink(s1), 0); /* generation 2 needs nothing of generation 1 */

	d = open_disk(img, true);
	load_ok(&u2, l2, &d, 1);
	assert_int_equal(d->ov->lower->count, 6);
	disk_is(d, model);
	disk_close(d);
	image_untouched(img, SZ);
}

/*
 * A source writing its image: the region names the image and carries no
 * writes.  A copy taken while the source is stopped is accepted; another
 * image is refused by its first or last MiB or by its size.
 */
static void test_source_without_snapshot(void **state)
{
	static uint8_t model[SZ];
	char img[300], copy[300], other[300], snap[300], cmd[700];
	struct snapuri u;
	struct disk *d;
	uint64_t len;
	char expect[600];
	int fd;

	(void)state;
	make_image(img, sizeof(img), "direct.img", SZ);
	image_path(snap, sizeof(snap), "snap-direct");
	uri(&u, "file:%s", snap);
	base_model(model);
	d = open_disk(img, false);
	source_writes(d, model);
	assert_int_equal(disk_flush(d), 0);
	len = save(&u, &d, 1);
	assert_int_equal(len, 2 * 4096);
	disk_close(d);

	image_path(copy, sizeof(copy), "copy.img");
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", img, copy);
	assert_int_equal(system(cmd), 0);
	d = open_disk(copy, true);
	load_ok(&u, len, &d, 1);
	disk_is(d, model);
	disk_close(d);
	d = open_disk(copy, false);
	load_ok(&u, len, &d, 1);
	disk_close(d);

	/* The same size, another byte: refused. */
	fd = open(copy, O_WRONLY | O_CLOEXEC);
	assert_int_equal(pwrite(fd, "x", 1, SZ - 1), 1);
	close(fd);
	d = open_disk(copy, true);
	snprintf(expect, sizeof(expect),
		 "drive 1 (%s): not the image the snapshot was taken with (its first MiB differs)",
		 copy);
	load_fails(&u, len, &d, 1, -EINVAL, expect);
	disk_close(d);

	make_image(other, sizeof(other), "other.img", SZ); /* the unwritten base */
	d = open_disk(other, true);
	snprintf(expect, sizeof(expect),
		 "drive 1 (%s): not the image the snapshot was taken with (its first MiB differs)",
		 other);
	load_fails(&u, len, &d, 1, -EINVAL, expect);
	disk_close(d);

	make_image(other, sizeof(other), "small.img", SZ - 512);
	d = open_disk(other, true);
	snprintf(expect, sizeof(expect),
		 "drive 1 (%s): the snapshot's drive has %d bytes, this image %d", other, SZ,
		 SZ - 512);
	load_fails(&u, len, &d, 1, -EINVAL, expect);
	disk_close(d);

	/* An image past 2 MiB: its first and last MiB are told apart. */
	make_image(img, sizeof(img), "large.img", 3 << 20);
	d = open_disk(img, false);
	len = save(&u, &d, 1);
	disk_close(d);
	fd = open(img, O_WRONLY | O_CLOEXEC);
	assert_int_equal(pwrite(fd, "x", 1, (3 << 20) - 1), 1);
	close(fd);
	d = open_disk(img, true);
	snprintf(expect, sizeof(expect),
		 "drive 1 (%s): not the image the snapshot was taken with (its last MiB differs)",
		 img);
	load_fails(&u, len, &d, 1, -EINVAL, expect);
	disk_close(d);
	/* The middle is not looked at: the cheap check's limit, in docs/snapshot.md. */
	fd = open(img, O_WRONLY | O_CLOEXEC);
	assert_int_equal(pwrite(fd, &(uint8_t){ image_pattern((3 << 20) - 1) }, 1, (3 << 20) - 1), 1);
	assert_int_equal(pwrite(fd, "x", 1, 3 << 19), 1);
	close(fd);
	d = open_disk(img, true);
	load_ok(&u, len, &d, 1);
	disk_close(d);
}

/* Drives that do not match the snapshot's. */
static void test_drive_mismatch(void **state)
{
	static uint8_t model[SZ];
	char img[300], snap[300], expect[600];
	struct snapuri u;
	struct disk *d[2];
	uint64_t len;

	(void)state;
	make_image(img, sizeof(img), "base.img", SZ);
	image_path(snap, sizeof(snap), "snap-mismatch");
	uri(&u, "file:%s", snap);
	base_model(model);
	d[0] = open_disk(img, true);
	source_writes(d[0], model);
	len = save(&u, d, 1);
	disk_close(d[0]);

	/* The snapshot's writes need an overlay to go to. */
	d[0] = open_disk(img, false);
	snprintf(expect, sizeof(expect),
		 "drive 1 (%s): the snapshot carries the source's writes to it; restore it "
		 "with snapshot=on", img);
	load_fails(&u, len, d, 1, -EINVAL, expect);
	disk_close(d[0]);
	image_untouched(img, SZ);

	/* A drive the snapshot has no record of. */
	d[0] = open_disk(img, true);
	d[1] = open_disk(img, true);
	load_fails(&u, len, d, 2, -EINVAL,
		   "the snapshot has 1 drive, the command line 2: give the same -drive options "
		   "in the same order");
	/* A snapshot with no drives at all (version 1, or none saved). */
	load_fails(&u, 0, d, 1, -EINVAL,
		   "the snapshot has no drives, the command line 1: give the same -drive "
		   "options as the source had");
	/* A drive saved but left off the command line. */
	load_fails(&u, len, d, 0, -EINVAL,
		   "the snapshot has 1 drive, the command line 0: give the same -drive options "
		   "in the same order");
	disk_close(d[0]);
	disk_close(d[1]);
}

/* Read the saved file, edit it, write it back. */
static uint8_t *slurp(const char *path, size_t *len)
{
	struct stat st;
	uint8_t *buf;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	buf = malloc((size_t)st.st_size);
	assert_non_null(buf);
	assert_int_equal(pread(fd, buf, (size_t)st.st_size, 0), st.st_size);
	close(fd);
	*len = (size_t)st.st_size;
	return buf;
}

static void spit(const char *path, const uint8_t *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_TRUNC | O_CREAT | O_CLOEXEC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, len), (ssize_t)len);
	close(fd);
}

static void reseal(uint8_t *page)
{
	vmgenid_put_le32(page + 4092, vmgenid_state_crc32(0, page, 4092));
}

/*
 * Corrupt or forged regions: each refused with its sentence, the clone's
 * drive unchanged, from a file and from a stream.
 */
static void test_bad_regions(void **state)
{
	static uint8_t model[SZ];
	char img[300], snap[300], bad[300];
	struct snapuri u, ub, ue;
	struct disk *d;
	uint64_t len;
	uint8_t *orig, *b;
	size_t flen;
	uint8_t *hdr, *desc, *map, *data, *trailer;

	(void)state;
	make_image(img, sizeof(img), "base.img", SZ);
	image_path(snap, sizeof(snap), "snap-good");
	image_path(bad, sizeof(bad), "snap-bad");
	uri(&u, "file:%s", snap);
	uri(&ub, "file:%s", bad);
	uri(&ue, "exec:cat '%s'", bad);
	base_model(model);
	d = open_disk(img, true);
	source_writes(d, model);
	len = save(&u, &d, 1);
	disk_close(d);
	orig = slurp(snap, &flen);
	b = malloc(flen);
	assert_non_null(b);
	hdr = b + PREFIX;
	desc = hdr + 64;
	map = hdr + 4096;
	data = hdr + 8192;
	trailer = hdr + len - 4096;
	d = open_disk(img, true);

#define CASE(edit, err, expect)                                                \
	do {                                                                   \
		memcpy(b, orig, flen);                                         \
		edit;                                                          \
		spit(bad, b, flen);                                            \
		load_fails(&ub, len, &d, 1, err, expect);                      \
		load_fails(&ue, len, &d, 1, err, expect);                      \
	} while (0)

	CASE(data[4096 * 3 + 7] ^= 1, -EBADMSG,
	     "drive 1: the disk delta's blocks are corrupt (checksum mismatch)");
	CASE(data[4096 * 4 + 4095] ^= 0x80, -EBADMSG,
	     "drive 1: the disk delta's blocks are corrupt (checksum mismatch)");
	CASE(map[0] ^= 2, -EBADMSG,
	     "drive 1: the disk delta's bitmap is corrupt (checksum mismatch)");
	CASE(hdr[100] ^= 1, -EBADMSG,
	     "disk region: header checksum mismatch: the file is corrupt");
	CASE(hdr[0] = 'X', -EBADMSG, "disk region: bad magic");
	CASE(trailer[20] ^= 1, -EBADMSG, "disk region: the trailer is corrupt");
	/*
	 * Block 64 (the last) moved to block 65 of a 65-block disk, sealed with
	 * a right checksum: the count and the layout still agree.
	 */
	CASE((map[8] = 0x2, vmgenid_put_le32(desc + 20, vmgenid_state_crc32(0, map, 16)), reseal(hdr)),
	     -EBADMSG, "drive 1: the disk delta's bitmap marks blocks past the end of the disk");
	/* A bitmap whose count disagrees with its header. */
	CASE((vmgenid_put_le64(desc + 24, 4), reseal(hdr)), -EBADMSG,
	     "disk region: 32768 bytes, its drives need 28672");
	CASE((map[0] |= 0x4, vmgenid_put_le32(desc + 20, vmgenid_state_crc32(0, map, 16)), reseal(hdr)),
	     -EBADMSG, "drive 1: the disk delta's bitmap marks 6 blocks, its header says 5");
	CASE((vmgenid_put_le64(desc + 24, 1000), reseal(hdr)), -EBADMSG,
	     "disk region: drive 1 claims 1000 written blocks of a 65-block disk");
	CASE((vmgenid_put_le64(desc + 32, 0), reseal(hdr)), -EBADMSG,
	     "disk region: drive 1's bitmap is at 0, not 4096");
	CASE((vmgenid_put_le32(desc + 8, 3), reseal(hdr)), -EBADMSG,
	     "disk region: drive 1 has unknown flags or reserved bytes");
	CASE((vmgenid_put_le64(hdr + 24, len + 1), reseal(hdr)), -EBADMSG,
	     "disk region: its length 32769 differs from the header's 32768");
	CASE((vmgenid_put_le32(hdr + 8, 2), reseal(hdr)), -EBADMSG,
	     "disk region version 2 is not supported (this genvm reads 1)");

	/* Truncated in the blocks: a file's read and a stream's both end early. */
	spit(bad, orig, PREFIX + 8192 + 4096);
	load_fails(&ub, len, &d, 1, -EBADMSG, "truncated: the stream ended after 20480 bytes");
	load_fails(&ue, len, &d, 1, -EBADMSG, "truncated: the stream ended after 20480 bytes");

	/* And the good one still loads into the drive that refused all those. */
	load_ok(&u, len, &d, 1);
	disk_is(d, model);
	disk_close(d);
	free(b);
	free(orig);
	image_untouched(img, SZ);
#undef CASE
}

/* A drive's overlay already holding writes is not overwritten by a load. */
static void test_overlay_in_use(void **state)
{
	static uint8_t model[SZ];
	char img[300], snap[300], expect[600];
	struct snapuri u;
	struct disk *d;
	uint64_t len;

	(void)state;
	make_image(img, sizeof(img), "base.img", SZ);
	image_path(snap, sizeof(snap), "snap-busy");
	uri(&u, "file:%s", snap);
	base_model(model);
	d = open_disk(img, true);
	source_writes(d, model);
	len = save(&u, &d, 1);
	disk_close(d);

	d = open_disk(img, true);
	put(d, 0, 0xee, 512);
	snprintf(expect, sizeof(expect), "drive 1 (%s): its overlay is already in use", img);
	char why[320] = "";

	assert_int_equal(load(&u, len, &d, 1, why, sizeof(why)), -EBUSY);
	assert_string_equal(why, expect);
	assert_int_equal(overlay_dirty_blocks(d->ov), 1);
	disk_close(d);
}

/*
 * The region's checksums are zlib's crc32 (docs/snapshot.md), computed
 * eight bytes at a time: the same value as vmgenid_state_crc32() for every length
 * and alignment, started fresh or continued.
 */
static void test_crc32(void **state)
{
	static uint8_t buf[4096 + 16];
	unsigned seed = 7;

	(void)state;
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)rand_r(&seed);
	assert_int_equal(disk_crc32(0, "123456789", 9), 0xCBF43926); /* the check value */
	assert_int_equal(disk_crc32(0, buf, 0), 0);
	for (size_t off = 0; off < 9; off++) {
		for (size_t len = 0; len < 70; len++)
			assert_int_equal(disk_crc32(0, buf + off, len), vmgenid_state_crc32(0, buf + off, len));
		assert_int_equal(disk_crc32(0, buf + off, 4096), vmgenid_state_crc32(0, buf + off, 4096));
	}
	uint32_t half = disk_crc32(0, buf, 1001);

	assert_int_equal(disk_crc32(half, buf + 1001, 3000), vmgenid_state_crc32(0, buf, 4001));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crc32),
		cmocka_unit_test(test_file_round_trip),
		cmocka_unit_test(test_stream_round_trip),
		cmocka_unit_test(test_readonly_clone),
		cmocka_unit_test(test_clone_of_clone),
		cmocka_unit_test(test_source_without_snapshot),
		cmocka_unit_test(test_drive_mismatch),
		cmocka_unit_test(test_bad_regions),
		cmocka_unit_test(test_overlay_in_use),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
