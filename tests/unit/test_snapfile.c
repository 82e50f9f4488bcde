// SPDX-License-Identifier: MIT
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "vmgenid/endian.h"
#include "vmgenid/state.h"

#include "snapfile.h"

#define RAM (64ull << 20)

static const char some_state[] = "pretend these are state sections";

static void layout(struct snapfile_header *h)
{
	snapfile_layout(h, RAM, 2, some_state, sizeof(some_state));
}

/* Re-seal a header after editing it, so the edit reaches the field checks. */
static void reseal(uint8_t *buf)
{
	vmgenid_put_le32(buf + 4092, vmgenid_state_crc32(0, buf, 4092));
}

static void decode_fails(const uint8_t *buf, size_t len, const char *expect)
{
	struct snapfile_header h;
	char why[160] = "";

	memset(&h, 0x5a, sizeof(h));
	assert_int_equal(snapfile_decode(buf, len, &h, why, sizeof(why)), -EBADMSG);
	assert_string_equal(why, expect);
}

static void test_layout(void **state)
{
	static uint8_t page[4097];
	struct snapfile_header h;

	(void)state;
	layout(&h);
	assert_int_equal(h.ram_size, RAM);
	assert_int_equal(h.nr_cpus, 2);
	assert_int_equal(h.state_offset, 4096);
	assert_int_equal(h.state_length, sizeof(some_state));
	assert_int_equal(h.state_crc, vmgenid_state_crc32(0, some_state, sizeof(some_state)));
	assert_int_equal(h.ram_offset, 8192);
	assert_int_equal(h.ram_length, RAM);

	/* No state: RAM right after the header; exactly a page: the next page. */
	snapfile_layout(&h, RAM, 1, NULL, 0);
	assert_int_equal(h.ram_offset, 4096);
	assert_int_equal(h.state_crc, 0);
	snapfile_layout(&h, RAM, 1, page, 4096);
	assert_int_equal(h.ram_offset, 8192);
	snapfile_layout(&h, RAM, 1, page, 4097);
	assert_int_equal(h.ram_offset, 12288);
}

/* The bytes on disk, field by field, as the plan's table has them. */
static void test_encode_layout(void **state)
{
	struct snapfile_header h;
	uint8_t buf[SNAPFILE_HEADER_SIZE];
	size_t i;

	(void)state;
	layout(&h);
	snapfile_encode(&h, buf);
	assert_memory_equal(buf, "GENVMSNP", 8);
	assert_int_equal(vmgenid_get_le32(buf + 8), 1);
	assert_int_equal(vmgenid_get_le32(buf + 12), 4096);
	assert_int_equal(vmgenid_get_le64(buf + 16), RAM);
	assert_int_equal(vmgenid_get_le32(buf + 24), 2);
	assert_int_equal(vmgenid_get_le32(buf + 28), 0);
	assert_int_equal(vmgenid_get_le64(buf + 32), 4096);
	assert_int_equal(vmgenid_get_le64(buf + 40), sizeof(some_state));
	assert_int_equal(vmgenid_get_le32(buf + 48), h.state_crc);
	assert_int_equal(vmgenid_get_le32(buf + 52), 0);
	assert_int_equal(vmgenid_get_le64(buf + 56), 8192);
	assert_int_equal(vmgenid_get_le64(buf + 64), RAM);
	for (i = 72; i < 4092; i++)
		assert_int_equal(buf[i], 0);
	assert_int_equal(vmgenid_get_le32(buf + 4092), vmgenid_state_crc32(0, buf, 4092));
}

static void test_round_trip(void **state)
{
	struct snapfile_header h, d;
	uint8_t buf[SNAPFILE_HEADER_SIZE + 100];
	char why[160] = "untouched";

	(void)state;
	layout(&h);
	h.nr_cpus = 254;
	h.state_offset = 3 * 4096; /* a writer may leave room: still valid */
	h.ram_offset = 1ull << 40;
	snapfile_encode(&h, buf);
	memset(buf + SNAPFILE_HEADER_SIZE, 0xee, 100); /* what follows is not ours */
	assert_int_equal(snapfile_decode(buf, sizeof(buf), &d, why, sizeof(why)), 0);
	/* Field by field: the struct has padding. */
	assert_int_equal(d.ram_size, h.ram_size);
	assert_int_equal(d.nr_cpus, h.nr_cpus);
	assert_int_equal(d.state_offset, h.state_offset);
	assert_int_equal(d.state_length, h.state_length);
	assert_int_equal(d.state_crc, h.state_crc);
	assert_int_equal(d.ram_offset, h.ram_offset);
	assert_int_equal(d.ram_length, h.ram_length);
	assert_string_equal(why, "untouched");
	assert_int_equal(snapfile_check_state(&d, some_state, why, sizeof(why)), 0);
	assert_int_equal(snapfile_check_size(&d, (1ull << 40) + RAM, why, sizeof(why)), 0);
}

/* Every length short of a whole header, including nothing at all. */
static void test_truncated_header(void **state)
{
	struct snapfile_header h;
	uint8_t buf[SNAPFILE_HEADER_SIZE];
	char expect[80];
	size_t len;

	(void)state;
	layout(&h);
	snapfile_encode(&h, buf);
	for (len = 0; len < SNAPFILE_HEADER_SIZE; len++) {
		snprintf(expect, sizeof(expect),
			 "truncated: %zu bytes, the header alone needs 4096", len);
		decode_fails(buf, len, expect);
	}
}

static void test_identity_fields(void **state)
{
	struct snapfile_header h;
	uint8_t buf[SNAPFILE_HEADER_SIZE], bad[SNAPFILE_HEADER_SIZE];
	size_t i;

	(void)state;
	layout(&h);
	snapfile_encode(&h, buf);

	/* Any byte of the magic, sealed or not. */
	for (i = 0; i < 8; i++) {
		memcpy(bad, buf, sizeof(bad));
		bad[i] ^= 0x20;
		decode_fails(bad, sizeof(bad), "not a genvm snapshot (bad magic)");
		reseal(bad);
		decode_fails(bad, sizeof(bad), "not a genvm snapshot (bad magic)");
	}

	/* A later version is named even though its checksum may live elsewhere. */
	memcpy(bad, buf, sizeof(bad));
	vmgenid_put_le32(bad + 8, 3);
	decode_fails(bad, sizeof(bad),
		     "snapshot format version 3 is not supported (this genvm reads 1 to 2)");
	vmgenid_put_le32(bad + 8, 0);
	decode_fails(bad, sizeof(bad),
		     "snapshot format version 0 is not supported (this genvm reads 1 to 2)");

	memcpy(bad, buf, sizeof(bad));
	vmgenid_put_le32(bad + 12, 8192);
	reseal(bad);
	decode_fails(bad, sizeof(bad), "header size 8192 is not supported (this genvm reads 4096)");
}

/* Flip each bit of the header, one at a time: the checksum catches all. */
static void test_header_crc(void **state)
{
	struct snapfile_header h;
	uint8_t buf[SNAPFILE_HEADER_SIZE], bad[SNAPFILE_HEADER_SIZE];
	size_t i;
	int bit;

	(void)state;
	layout(&h);
	snapfile_encode(&h, buf);
	for (i = 16; i < SNAPFILE_HEADER_SIZE; i++) {
		for (bit = 0; bit < 8; bit++) {
			memcpy(bad, buf, sizeof(bad));
			bad[i] ^= (uint8_t)(1u << bit);
			decode_fails(bad, sizeof(bad),
				     "header checksum mismatch: the file is corrupt");
		}
	}
}

static void test_reserved(void **state)
{
	struct snapfile_header h;
	uint8_t buf[SNAPFILE_HEADER_SIZE], bad[SNAPFILE_HEADER_SIZE];
	char expect[80];
	size_t i;

	(void)state;
	layout(&h);
	snapfile_encode(&h, buf);

	memcpy(bad, buf, sizeof(bad));
	vmgenid_put_le32(bad + 28, 0x80);
	reseal(bad);
	decode_fails(bad, sizeof(bad), "unknown header flags 0x80");

	for (i = 52; i < 4092; i++) {
		if (i == 56)
			i = 72; /* skip ram_offset and ram_length */
		memcpy(bad, buf, sizeof(bad));
		bad[i] = 1;
		reseal(bad);
		snprintf(expect, sizeof(expect),
			 "reserved header byte at offset %zu is not zero", i);
		decode_fails(bad, sizeof(bad), expect);
	}
}

/* Encode h (a valid layout, then edited), seal it, expect this sentence. */
static void field_fails(const struct snapfile_header *h, const char *expect)
{
	uint8_t buf[SNAPFILE_HEADER_SIZE];

	snapfile_encode(h, buf);
	decode_fails(buf, sizeof(buf), expect);
}

static void test_fields(void **state)
{
	struct snapfile_header h, good;

	(void)state;
	layout(&good);

	h = good;
	h.ram_size = h.ram_length = 0;
	field_fails(&h, "RAM size is 0");
	h = good;
	h.ram_size = h.ram_length = RAM + 512;
	field_fails(&h, "RAM size 67109376 is not a multiple of 4096");
	h = good;
	h.ram_length = RAM - 4096;
	field_fails(&h, "RAM length 67104768 differs from RAM size 67108864");

	h = good;
	h.nr_cpus = 0;
	field_fails(&h, "0 vCPUs is out of range (1 to 254)");
	h.nr_cpus = 255;
	field_fails(&h, "255 vCPUs is out of range (1 to 254)");
	h.nr_cpus = UINT32_MAX;
	field_fails(&h, "4294967295 vCPUs is out of range (1 to 254)");

	h = good;
	h.state_offset = 4097;
	field_fails(&h, "state offset 4097 is not a multiple of 4096");
	h.state_offset = 0;
	field_fails(&h, "state offset 0 overlaps the header");
	h = good;
	h.state_length = SNAPFILE_STATE_MAX + 1ull;
	field_fails(&h, "state length 16777217 is over the limit of 16777216 bytes");
	h = good;
	h.state_offset = UINT64_MAX - 4095;
	h.state_length = 8192;
	field_fails(&h, "state offset 18446744073709547520 plus length 8192 overflows");

	h = good;
	h.ram_offset = 8192 + 8;
	field_fails(&h, "RAM offset 8200 is not a multiple of 4096");
	h.ram_offset = 4096;
	field_fails(&h, "RAM offset 4096 overlaps the state (which ends at 4129)");
	h.ram_offset = 0;
	field_fails(&h, "RAM offset 0 overlaps the state (which ends at 4129)");
	h.ram_offset = UINT64_MAX - 4095;
	field_fails(&h, "RAM offset 18446744073709547520 plus length 67108864 overflows");

	/* Exactly at the edges: state ending on the RAM, RAM ending at 2^64. */
	h = good;
	h.state_length = 4096;
	h.ram_offset = 8192;
	h.ram_length = h.ram_size = 4096;
	{
		uint8_t buf[SNAPFILE_HEADER_SIZE];
		struct snapfile_header d;

		snapfile_encode(&h, buf);
		assert_int_equal(snapfile_decode(buf, sizeof(buf), &d, NULL, 0), 0);
		h.ram_offset = UINT64_MAX - 4095;
		snapfile_encode(&h, buf);
		assert_int_equal(snapfile_decode(buf, sizeof(buf), &d, NULL, 0), -EBADMSG);
		h.ram_offset = UINT64_MAX - 8191;
		snapfile_encode(&h, buf);
		assert_int_equal(snapfile_decode(buf, sizeof(buf), &d, NULL, 0), 0);
	}
}

static void test_check_size(void **state)
{
	struct snapfile_header h;
	char why[120];

	(void)state;
	layout(&h);
	assert_int_equal(snapfile_check_size(&h, 8192 + RAM, why, sizeof(why)), 0);
	assert_int_equal(snapfile_check_size(&h, 8192 + RAM + 1, why, sizeof(why)), 0);
	assert_int_equal(snapfile_check_size(&h, 8192 + RAM - 1, why, sizeof(why)), -EBADMSG);
	assert_string_equal(why, "truncated: the file has 67117055 bytes, its header says 67117056");
	assert_int_equal(snapfile_check_size(&h, 0, why, sizeof(why)), -EBADMSG);
	assert_string_equal(why, "truncated: the file has 0 bytes, its header says 67117056");
}

/*
 * Version 2: a disk region after the RAM.  Its fields are where the table
 * says, they round-trip, a file without one stays version 1, and a version
 * 1 file with anything in those bytes is refused.
 */
static void test_disk_region(void **state)
{
	struct snapfile_header h, d, good;
	uint8_t buf[SNAPFILE_HEADER_SIZE];
	char why[160];

	(void)state;
	layout(&h);
	snapfile_layout_disks(&h, 0);
	assert_int_equal(h.disk_offset, 0);
	snapfile_encode(&h, buf);
	assert_int_equal(vmgenid_get_le32(buf + 8), 1);
	assert_int_equal(vmgenid_get_le64(buf + 72), 0);

	snapfile_layout_disks(&h, 3 * 4096 + 12);
	assert_int_equal(h.disk_offset, 8192 + RAM);
	snapfile_encode(&h, buf);
	assert_int_equal(vmgenid_get_le32(buf + 8), 2);
	assert_int_equal(vmgenid_get_le64(buf + 72), 8192 + RAM);
	assert_int_equal(vmgenid_get_le64(buf + 80), 3 * 4096 + 12);
	assert_int_equal(snapfile_decode(buf, sizeof(buf), &d, why, sizeof(why)), 0);
	assert_int_equal(d.ram_offset, h.ram_offset);
	assert_int_equal(d.disk_offset, h.disk_offset);
	assert_int_equal(d.disk_length, h.disk_length);
	for (size_t i = 88; i < 4092; i++)
		assert_int_equal(buf[i], 0);

	/* The region is part of the file's size. */
	assert_int_equal(snapfile_check_size(&h, 8192 + RAM + 3 * 4096 + 12, why, sizeof(why)), 0);
	assert_int_equal(snapfile_check_size(&h, 8192 + RAM + 3 * 4096 + 11, why, sizeof(why)),
			 -EBADMSG);
	assert_string_equal(why, "truncated: the file has 67129355 bytes, its header says 67129356");

	/* Version 1 has zeros there. */
	layout(&h);
	snapfile_encode(&h, buf);
	vmgenid_put_le64(buf + 72, 8192 + RAM);
	reseal(buf);
	decode_fails(buf, sizeof(buf), "reserved header byte at offset 73 is not zero");

	/* Version 2 past its fields has zeros too. */
	good = h;
	snapfile_layout_disks(&good, 4096);
	snapfile_encode(&good, buf);
	buf[88] = 1;
	reseal(buf);
	decode_fails(buf, sizeof(buf), "reserved header byte at offset 88 is not zero");

	h = good;
	h.disk_offset += 1;
	field_fails(&h, "disk region offset 67117057 is not a multiple of 4096");
	h = good;
	h.disk_offset -= 4096;
	field_fails(&h, "disk region offset 67112960 overlaps the RAM (which ends at 67117056)");
	h = good;
	h.disk_length = UINT64_MAX - 4095;
	field_fails(&h, "disk region offset 67117056 plus length 18446744073709547520 overflows");
	/* A version 2 header with no region: encode writes version 1, so forge it. */
	snapfile_encode(&good, buf);
	vmgenid_put_le64(buf + 80, 0);
	reseal(buf);
	decode_fails(buf, sizeof(buf), "version 2 with an empty disk region");
}

static void test_check_state(void **state)
{
	struct snapfile_header h;
	char copy[sizeof(some_state)];
	char why[120];
	size_t i;

	(void)state;
	layout(&h);
	assert_int_equal(snapfile_check_state(&h, some_state, why, sizeof(why)), 0);
	for (i = 0; i < sizeof(copy); i++) {
		memcpy(copy, some_state, sizeof(copy));
		copy[i] ^= 1;
		assert_int_equal(snapfile_check_state(&h, copy, why, sizeof(why)), -EBADMSG);
		assert_string_equal(why, "state checksum mismatch: the file is corrupt");
	}

	/* No state at all is consistent with a zero CRC, and only with that. */
	snapfile_layout(&h, RAM, 1, NULL, 0);
	assert_int_equal(snapfile_check_state(&h, NULL, why, sizeof(why)), 0);
	h.state_crc = 1;
	assert_int_equal(snapfile_check_state(&h, NULL, why, sizeof(why)), -EBADMSG);
}

/* A small why buffer gets a truncated, terminated sentence. */
static void test_small_why(void **state)
{
	uint8_t buf[16] = { 0 };
	struct snapfile_header h;
	char why[8];

	(void)state;
	memset(why, 'x', sizeof(why));
	assert_int_equal(snapfile_decode(buf, sizeof(buf), &h, why, sizeof(why)), -EBADMSG);
	assert_string_equal(why, "truncat");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layout),
		cmocka_unit_test(test_encode_layout),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_truncated_header),
		cmocka_unit_test(test_identity_fields),
		cmocka_unit_test(test_header_crc),
		cmocka_unit_test(test_reserved),
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_check_size),
		cmocka_unit_test(test_disk_region),
		cmocka_unit_test(test_check_state),
		cmocka_unit_test(test_small_why),
	};

	return cmocka_run_group_tests_name("snapfile", tests, NULL, NULL);
}
