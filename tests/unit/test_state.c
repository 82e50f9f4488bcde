// SPDX-License-Identifier: MIT
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "vmgenid/bytebuf.h"
#include "vmgenid/endian.h"
#include "vmgenid/log.h"
#include "vmgenid/state.h"

#define WHY_HEADER "truncated section header"
#define WHY_PAYLOAD "truncated section payload: length runs past the end"
#define WHY_EMPTY_ID "section id is empty"
#define WHY_ID_NUL "section id is not NUL-terminated"
#define WHY_ID_PAD "section id is not NUL-padded"
#define WHY_RESERVED "reserved field of section header is not zero"
#define WHY_CRC "section payload CRC mismatch"

static void test_crc32_known_values(void **state)
{
	static const char fox[] = "The quick brown fox jumps over the lazy dog";
	uint8_t zero = 0;

	(void)state;
	/* The CRC-32 check value, and two more computed with zlib.crc32(). */
	assert_int_equal(vmgenid_state_crc32(0, "123456789", 9), 0xcbf43926);
	assert_int_equal(vmgenid_state_crc32(0, fox, strlen(fox)), 0x414fa339);
	assert_int_equal(vmgenid_state_crc32(0, &zero, 1), 0xd202ef8d);
	assert_int_equal(vmgenid_state_crc32(0, NULL, 0), 0);
	assert_int_equal(vmgenid_state_crc32(0x12345678, "", 0), 0x12345678);
}

static void test_crc32_chains(void **state)
{
	static const char fox[] = "The quick brown fox jumps over the lazy dog";
	size_t len = strlen(fox), cut;

	(void)state;
	for (cut = 0; cut <= len; cut++) {
		uint32_t crc = vmgenid_state_crc32(0, fox, cut);

		assert_int_equal(vmgenid_state_crc32(crc, fox + cut, len - cut), 0x414fa339);
	}
}

/* Three sections: a typical one, an empty payload, a 15-character id. */
static void build_image(struct vmgenid_bytebuf *b, size_t *ends)
{
	size_t start;
	uint32_t i;

	vmgenid_bytebuf_init(b);
	start = vmgenid_state_section_begin(b, "vmgenid", 1);
	assert_int_equal(start, 0);
	vmgenid_bytebuf_put_le64(b, 0x0ffff028);
	vmgenid_state_section_end(b, start);
	ends[0] = b->len;

	start = vmgenid_state_section_begin(b, "empty", 7);
	assert_int_equal(start, ends[0]);
	vmgenid_state_section_end(b, start);
	ends[1] = b->len;

	start = vmgenid_state_section_begin(b, "fifteen-chars-x", 0xdeadbeef);
	for (i = 0; i < 100; i++)
		vmgenid_bytebuf_put_u8(b, (uint8_t)(i * 7));
	vmgenid_state_section_end(b, start);
	ends[2] = b->len;
	assert_false(vmgenid_bytebuf_failed(b));
}

static void test_writer_layout(void **state)
{
	/* Payload le64 0x0ffff028; CRC from zlib.crc32(bytes.fromhex("28f0ff0f00000000")). */
	static const uint8_t expect[] = {
		'v', 'm', 'g', 'e', 'n', 'i', 'd', 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0x01, 0x00, 0x00, 0x00, /* version */
		0x08, 0x00, 0x00, 0x00, /* length */
		0x4e, 0xa0, 0x5b, 0x4d, /* crc32 */
		0x00, 0x00, 0x00, 0x00, /* reserved */
		0x28, 0xf0, 0xff, 0x0f, 0x00, 0x00, 0x00, 0x00,
	};
	struct vmgenid_bytebuf b;
	size_t ends[3];

	(void)state;
	build_image(&b, ends);
	assert_int_equal(ends[0], sizeof(expect));
	assert_memory_equal(b.data, expect, sizeof(expect));
	/* The empty section: header only, length 0, CRC of nothing is 0. */
	assert_int_equal(ends[1] - ends[0], VMGENID_STATE_SECTION_HEADER_SIZE);
	assert_int_equal(vmgenid_get_le32(b.data + ends[0] + 16), 7);
	assert_int_equal(vmgenid_get_le32(b.data + ends[0] + 20), 0);
	assert_int_equal(vmgenid_get_le32(b.data + ends[0] + 24), 0);
	assert_int_equal(ends[2] - ends[1], VMGENID_STATE_SECTION_HEADER_SIZE + 100);
	assert_int_equal(vmgenid_get_le32(b.data + ends[1] + 20), 100);
	vmgenid_bytebuf_free(&b);
}

static void test_round_trip(void **state)
{
	struct vmgenid_state_reader r;
	struct vmgenid_state_section s;
	struct vmgenid_bytebuf b;
	size_t ends[3];
	const char *why = NULL;
	uint32_t i;

	(void)state;
	build_image(&b, ends);
	vmgenid_state_reader_init(&r, b.data, b.len);

	assert_int_equal(vmgenid_state_reader_next(&r, &s, &why), 1);
	assert_string_equal(s.id, "vmgenid");
	assert_int_equal(s.version, 1);
	assert_int_equal(s.length, 8);
	assert_ptr_equal(s.payload, b.data + VMGENID_STATE_SECTION_HEADER_SIZE);
	assert_int_equal(vmgenid_get_le64(s.payload), 0x0ffff028);

	assert_int_equal(vmgenid_state_reader_next(&r, &s, &why), 1);
	assert_string_equal(s.id, "empty");
	assert_int_equal(s.version, 7);
	assert_int_equal(s.length, 0);

	assert_int_equal(vmgenid_state_reader_next(&r, &s, &why), 1);
	assert_string_equal(s.id, "fifteen-chars-x");
	assert_int_equal(s.id[VMGENID_STATE_ID_SIZE - 1], '\0');
	assert_int_equal(s.version, 0xdeadbeef);
	assert_int_equal(s.length, 100);
	for (i = 0; i < 100; i++)
		assert_int_equal(s.payload[i], (uint8_t)(i * 7));

	/* Clean end, and it stays the end. */
	assert_int_equal(vmgenid_state_reader_next(&r, &s, &why), 0);
	assert_int_equal(vmgenid_state_reader_next(&r, &s, &why), 0);
	assert_null(why);
	vmgenid_bytebuf_free(&b);
}

static void test_empty_buffer(void **state)
{
	static const uint8_t nothing[1];
	struct vmgenid_state_reader r;
	struct vmgenid_state_section s;

	(void)state;
	vmgenid_state_reader_init(&r, NULL, 0);
	assert_int_equal(vmgenid_state_reader_next(&r, &s, NULL), 0);
	vmgenid_state_reader_init(&r, nothing, 0);
	assert_int_equal(vmgenid_state_reader_next(&r, &s, NULL), 0);
}

/* Read every section of data[0..len); return the last result and count. */
static int read_all(const uint8_t *data, size_t len, size_t *count, const char **why)
{
	struct vmgenid_state_reader r;
	struct vmgenid_state_section s;
	int ret;

	*count = 0;
	vmgenid_state_reader_init(&r, data, len);
	while ((ret = vmgenid_state_reader_next(&r, &s, why)) == 1)
		(*count)++;
	return ret;
}

static void test_truncated_anywhere(void **state)
{
	struct vmgenid_bytebuf b;
	size_t ends[3], cut;

	(void)state;
	build_image(&b, ends);
	for (cut = 0; cut < b.len; cut++) {
		/* An exact-size heap copy, so ASan sees any read past the cut. */
		uint8_t *copy = malloc(cut ? cut : 1);
		const char *why = NULL;
		size_t count, whole = 0, k;
		int ret;

		assert_non_null(copy);
		memcpy(copy, b.data, cut);
		ret = read_all(copy, cut, &count, &why);
		for (k = 0; k < 3; k++)
			if (cut >= ends[k])
				whole++;
		assert_int_equal(count, whole);
		if (cut == 0 || cut == ends[0] || cut == ends[1]) {
			assert_int_equal(ret, 0);
		} else {
			size_t into = cut - (whole ? ends[whole - 1] : 0);

			assert_int_equal(ret, -EBADMSG);
			assert_string_equal(why, into < VMGENID_STATE_SECTION_HEADER_SIZE ? WHY_HEADER :
										   WHY_PAYLOAD);
		}
		free(copy);
	}
	vmgenid_bytebuf_free(&b);
}

/* Patch one header or payload byte of section 0 and expect one error. */
static void expect_corrupt(const struct vmgenid_bytebuf *b, size_t off, uint8_t xor_mask,
			   const char *expect_why)
{
	uint8_t *copy = malloc(b->len);
	const char *why = NULL;
	size_t count;

	assert_non_null(copy);
	memcpy(copy, b->data, b->len);
	copy[off] ^= xor_mask;
	assert_int_equal(read_all(copy, b->len, &count, &why), -EBADMSG);
	assert_int_equal(count, 0);
	assert_non_null(why);
	assert_string_equal(why, expect_why);
	free(copy);
}

static void test_payload_or_crc_flip_fails_crc(void **state)
{
	struct vmgenid_bytebuf b;
	size_t ends[3], i;
	int bit;

	(void)state;
	build_image(&b, ends);
	for (i = VMGENID_STATE_SECTION_HEADER_SIZE; i < ends[0]; i++)
		for (bit = 0; bit < 8; bit++)
			expect_corrupt(&b, i, (uint8_t)(1u << bit), WHY_CRC);
	for (i = 24; i < 28; i++)
		expect_corrupt(&b, i, 0x01, WHY_CRC);
	vmgenid_bytebuf_free(&b);
}

static void test_bad_header_fields(void **state)
{
	struct vmgenid_bytebuf b;
	size_t ends[3], i;

	(void)state;
	build_image(&b, ends);
	/* 'v' ^ 'v' = 0: empty id. */
	expect_corrupt(&b, 0, 'v', WHY_EMPTY_ID);
	/* Junk after the NUL that ends "vmgenid", at each padding position. */
	for (i = 8; i < VMGENID_STATE_ID_SIZE; i++)
		expect_corrupt(&b, i, 'x', WHY_ID_PAD);
	for (i = 28; i < 32; i++)
		expect_corrupt(&b, i, 0x80, WHY_RESERVED);
	vmgenid_bytebuf_free(&b);
}

static void test_id_without_nul(void **state)
{
	struct vmgenid_state_reader r;
	struct vmgenid_state_section s;
	struct vmgenid_bytebuf b;
	size_t ends[3];
	const char *why = NULL;

	(void)state;
	build_image(&b, ends);
	/* Fill all 16 id bytes of the third section: no room for a NUL. */
	b.data[ends[1] + 15] = 'y';
	vmgenid_state_reader_init(&r, b.data, b.len);
	assert_int_equal(vmgenid_state_reader_next(&r, &s, &why), 1);
	assert_int_equal(vmgenid_state_reader_next(&r, &s, &why), 1);
	assert_int_equal(vmgenid_state_reader_next(&r, &s, &why), -EBADMSG);
	assert_string_equal(why, WHY_ID_NUL);
	/* A failed read does not move on: the same error again. */
	why = NULL;
	assert_int_equal(vmgenid_state_reader_next(&r, &s, &why), -EBADMSG);
	assert_string_equal(why, WHY_ID_NUL);
	vmgenid_bytebuf_free(&b);
}

static void test_huge_lengths(void **state)
{
	static const uint32_t lengths[] = {
		0xffffffff, 0xffffffe0, 0x80000000, 9,
	};
	struct vmgenid_bytebuf b;
	size_t ends[3], i;

	(void)state;
	build_image(&b, ends);
	for (i = 0; i < sizeof(lengths) / sizeof(lengths[0]); i++) {
		struct vmgenid_state_reader r;
		struct vmgenid_state_section s;
		uint8_t *copy = malloc(ends[0]);
		const char *why = NULL;

		/* Only the first section, so 9 is one byte past the end. */
		assert_non_null(copy);
		memcpy(copy, b.data, ends[0]);
		vmgenid_put_le32(copy + 20, lengths[i]);
		vmgenid_state_reader_init(&r, copy, ends[0]);
		assert_int_equal(vmgenid_state_reader_next(&r, &s, &why), -EBADMSG);
		assert_string_equal(why, WHY_PAYLOAD);
		free(copy);
	}
	/* A shorter length is caught too: the CRC then covers fewer bytes. */
	vmgenid_put_le32(b.data + 20, 7);
	{
		size_t count;
		const char *why = NULL;

		assert_int_equal(read_all(b.data, b.len, &count, &why), -EBADMSG);
		assert_string_equal(why, WHY_CRC);
	}
	vmgenid_bytebuf_free(&b);
}

static int errors_logged;

static void count_errors(void *opaque, enum vmgenid_log_level level, const char *module,
			 const char *msg)
{
	(void)opaque;
	(void)msg;
	if (level == VMGENID_LOG_ERR && !strcmp(module, "state"))
		errors_logged++;
}

static int restore_log(void **state)
{
	(void)state;
	vmgenid_log_set_sink(NULL, NULL);
	return 0;
}

static void test_writer_rejects_bad_ids(void **state)
{
	static const char *const bad[] = { "sixteen-chars-xx", "", NULL,
					    "a-much-longer-section-name" };
	size_t i;

	(void)state;
	vmgenid_log_set_sink(count_errors, NULL);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct vmgenid_bytebuf b;
		size_t start;

		errors_logged = 0;
		vmgenid_bytebuf_init(&b);
		vmgenid_bytebuf_put_le32(&b, 0x11223344);
		start = vmgenid_state_section_begin(&b, bad[i], 1);
		assert_int_equal(start, 4);
		assert_true(vmgenid_bytebuf_failed(&b));
		assert_int_equal(errors_logged, 1);
		/* Nothing written, and the rest of the image is a no-op. */
		assert_int_equal(b.len, 4);
		vmgenid_bytebuf_put_le32(&b, 1);
		vmgenid_state_section_end(&b, start);
		assert_int_equal(b.len, 4);
		vmgenid_bytebuf_free(&b);
	}
}

static void test_writer_end_without_header(void **state)
{
	struct vmgenid_bytebuf b;

	(void)state;
	vmgenid_log_set_sink(count_errors, NULL);
	errors_logged = 0;
	vmgenid_bytebuf_init(&b);
	vmgenid_bytebuf_append(&b, NULL, 16);
	vmgenid_state_section_end(&b, 0);
	assert_true(vmgenid_bytebuf_failed(&b));
	vmgenid_bytebuf_free(&b);

	vmgenid_bytebuf_init(&b);
	vmgenid_state_section_end(&b, 100);
	assert_true(vmgenid_bytebuf_failed(&b));
	vmgenid_bytebuf_free(&b);
	assert_int_equal(errors_logged, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crc32_known_values),
		cmocka_unit_test(test_crc32_chains),
		cmocka_unit_test(test_writer_layout),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_empty_buffer),
		cmocka_unit_test(test_truncated_anywhere),
		cmocka_unit_test(test_payload_or_crc_flip_fails_crc),
		cmocka_unit_test(test_bad_header_fields),
		cmocka_unit_test(test_id_without_nul),
		cmocka_unit_test(test_huge_lengths),
		cmocka_unit_test_teardown(test_writer_rejects_bad_ids, restore_log),
		cmocka_unit_test_teardown(test_writer_end_without_header, restore_log),
	};

	return cmocka_run_group_tests_name("state", tests, NULL, NULL);
}
