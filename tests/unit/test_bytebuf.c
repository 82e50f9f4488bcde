// SPDX-License-Identifier: MIT
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "vmgenid/bytebuf.h"
#include "vmgenid/endian.h"

static void test_append_and_put(void **state)
{
	static const uint8_t expect[] = {
		0xaa,                                           /* u8 */
		0x34, 0x12,                                     /* le16 */
		0x78, 0x56, 0x34, 0x12,                         /* le32 */
		0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01, /* le64 */
		'h', 'i', 0, 0,                                 /* bytes, zeros */
	};
	struct vmgenid_bytebuf b;

	(void)state;
	vmgenid_bytebuf_init(&b);
	vmgenid_bytebuf_put_u8(&b, 0xaa);
	vmgenid_bytebuf_put_le16(&b, 0x1234);
	vmgenid_bytebuf_put_le32(&b, 0x12345678);
	vmgenid_bytebuf_put_le64(&b, 0x0102030405060708ull);
	vmgenid_bytebuf_append(&b, "hi", 2);
	vmgenid_bytebuf_append(&b, NULL, 2);
	assert_false(vmgenid_bytebuf_failed(&b));
	assert_int_equal(b.len, sizeof(expect));
	assert_memory_equal(b.data, expect, sizeof(expect));
	vmgenid_bytebuf_free(&b);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
}

static void test_grows_past_initial_capacity(void **state)
{
	struct vmgenid_bytebuf b;

	(void)state;
	vmgenid_bytebuf_init(&b);
	for (unsigned int i = 0; i < 100000; i++)
		vmgenid_bytebuf_put_u8(&b, (uint8_t)i);
	assert_false(vmgenid_bytebuf_failed(&b));
	assert_int_equal(b.len, 100000);
	for (unsigned int i = 0; i < 100000; i += 4099)
		assert_int_equal(b.data[i], (uint8_t)i);
	vmgenid_bytebuf_free(&b);
}

static void test_align(void **state)
{
	struct vmgenid_bytebuf b;

	(void)state;
	vmgenid_bytebuf_init(&b);
	vmgenid_bytebuf_align(&b, 8);
	assert_int_equal(b.len, 0);
	vmgenid_bytebuf_put_u8(&b, 1);
	vmgenid_bytebuf_align(&b, 8);
	assert_int_equal(b.len, 8);
	vmgenid_bytebuf_align(&b, 8);
	assert_int_equal(b.len, 8);
	vmgenid_bytebuf_align(&b, 64);
	assert_int_equal(b.len, 64);
	vmgenid_bytebuf_free(&b);
}

static void test_failure_is_sticky(void **state)
{
	struct vmgenid_bytebuf b;

	(void)state;
	vmgenid_bytebuf_init(&b);
	vmgenid_bytebuf_put_u8(&b, 1);
	/* A request that cannot be satisfied fails and leaves the contents. */
	assert_null(vmgenid_bytebuf_append(&b, NULL, SIZE_MAX));
	assert_true(vmgenid_bytebuf_failed(&b));
	assert_int_equal(b.len, 1);
	/* Later appends do nothing. */
	assert_null(vmgenid_bytebuf_append(&b, "x", 1));
	vmgenid_bytebuf_put_le32(&b, 7);
	assert_int_equal(b.len, 1);
	vmgenid_bytebuf_free(&b);
	assert_false(vmgenid_bytebuf_failed(&b));
}

static void test_endian_helpers(void **state)
{
	uint8_t p[8];

	(void)state;
	vmgenid_put_be64(p, 0x0102030405060708ull);
	assert_int_equal(p[0], 1);
	assert_int_equal(p[7], 8);
	assert_true(vmgenid_get_be64(p) == 0x0102030405060708ull);
	assert_int_equal(vmgenid_get_le32(p), 0x04030201);
	assert_int_equal(vmgenid_get_be16(p + 6), 0x0708);
	vmgenid_put_le64(p, 0xfedcba9876543210ull);
	assert_true(vmgenid_get_le64(p) == 0xfedcba9876543210ull);
	assert_int_equal(p[0], 0x10);
	vmgenid_put_be32(p, 0xdeadbeef);
	assert_int_equal(vmgenid_get_be32(p), 0xdeadbeef);
	vmgenid_put_le16(p, 0xbeef);
	assert_int_equal(p[0], 0xef);
	assert_int_equal(vmgenid_get_le16(p), 0xbeef);
	vmgenid_put_be16(p, 0xbeef);
	assert_int_equal(p[0], 0xbe);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_append_and_put),
		cmocka_unit_test(test_grows_past_initial_capacity),
		cmocka_unit_test(test_align),
		cmocka_unit_test(test_failure_is_sticky),
		cmocka_unit_test(test_endian_helpers),
	};

	return cmocka_run_group_tests_name("bytebuf", tests, NULL, NULL);
}
