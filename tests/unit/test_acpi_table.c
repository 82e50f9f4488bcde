// SPDX-License-Identifier: MIT
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "vmgenid/acpi_table.h"
#include "vmgenid/endian.h"

/*
 * What iasl 20200925 produced for
 *
 * DefinitionBlock ("", "SSDT", 1, "BOCHS ", "VMGENID ", 0x00000001)
 * {
 *     Name (VGIA, 0x07FFF000)
 *     Method (\_GPE._E05, 0, NotSerialized)
 *     {
 *         Notify (\_SB, 0x80)
 *     }
 * }
 *
 * The body is copied as opaque bytes so that only the framing is tested.
 */
static const uint8_t ssdt[] = {
	0x53, 0x53, 0x44, 0x54, 0x43, 0x00, 0x00, 0x00, 0x01, 0x39, 0x42, 0x4f,
	0x43, 0x48, 0x53, 0x20, 0x56, 0x4d, 0x47, 0x45, 0x4e, 0x49, 0x44, 0x20,
	0x01, 0x00, 0x00, 0x00, 0x49, 0x4e, 0x54, 0x4c, 0x25, 0x09, 0x20, 0x20,
	/* body */
	0x08, 0x56, 0x47, 0x49, 0x41, 0x0c, 0x00, 0xf0, 0xff, 0x07, 0x14, 0x14,
	0x5c, 0x2e, 0x5f, 0x47, 0x50, 0x45, 0x5f, 0x45, 0x30, 0x35, 0x00, 0x86,
	0x5c, 0x5f, 0x53, 0x42, 0x5f, 0x0a, 0x80,
};

static const struct vmgenid_acpi_table_id iasl_id = {
	.oem_id = "BOCHS ",
	.oem_table_id = "VMGENID ",
	.oem_revision = 1,
	.creator_id = "INTL",
	.creator_revision = 0x20200925,
};

static void test_matches_iasl(void **state)
{
	struct vmgenid_bytebuf b;
	size_t start;

	(void)state;
	vmgenid_bytebuf_init(&b);
	start = vmgenid_acpi_table_begin(&b, "SSDT", 1, &iasl_id);
	assert_int_equal(start, 0);
	assert_int_equal(b.len, VMGENID_ACPI_TABLE_HEADER_SIZE);
	/* Until the end, length and checksum are zero. */
	assert_int_equal(vmgenid_get_le32(b.data + VMGENID_ACPI_TABLE_LENGTH_OFFSET), 0);
	assert_int_equal(b.data[VMGENID_ACPI_TABLE_CHECKSUM_OFFSET], 0);
	vmgenid_bytebuf_append(&b, ssdt + VMGENID_ACPI_TABLE_HEADER_SIZE, sizeof(ssdt) - VMGENID_ACPI_TABLE_HEADER_SIZE);
	vmgenid_acpi_table_end(&b, start);
	assert_int_equal(b.len, sizeof(ssdt));
	assert_memory_equal(b.data, ssdt, sizeof(ssdt));
	assert_int_equal(vmgenid_acpi_checksum(b.data, b.len), 0);
	vmgenid_bytebuf_free(&b);
}

/* A table after other bytes: offsets are relative to its start. */
static void test_table_not_at_start(void **state)
{
	static const struct vmgenid_acpi_table_id id = {
		.oem_id = "ABCDEFGHIJ",   /* cut to 6 */
		.oem_table_id = "XY",     /* padded to 8 */
		.oem_revision = 0x11223344,
		.creator_id = "C",
		.creator_revision = 0x55667788,
	};
	static const uint8_t header[] = {
		'F', 'A', 'C', 'P', 46, 0, 0, 0, 6, 0 /* checksum, checked below */,
		'A', 'B', 'C', 'D', 'E', 'F',
		'X', 'Y', 0, 0, 0, 0, 0, 0,
		0x44, 0x33, 0x22, 0x11,
		'C', 0, 0, 0,
		0x88, 0x77, 0x66, 0x55,
	};
	struct vmgenid_bytebuf b;
	size_t start;
	uint8_t sum = 0;
	size_t i;

	(void)state;
	vmgenid_bytebuf_init(&b);
	vmgenid_bytebuf_append(&b, "prefix", 6);
	start = vmgenid_acpi_table_begin(&b, "FACP", 6, &id);
	assert_int_equal(start, 6);
	vmgenid_bytebuf_append(&b, "0123456789", 10);
	vmgenid_acpi_table_end(&b, start);

	assert_int_equal(b.len, 6 + 46);
	assert_memory_equal(b.data, "prefix", 6);
	assert_memory_equal(b.data + 6, header, 9);
	assert_memory_equal(b.data + 6 + 10, header + 10, sizeof(header) - 10);
	assert_memory_equal(b.data + 6 + 36, "0123456789", 10);
	for (i = 6; i < b.len; i++)
		sum = (uint8_t)(sum + b.data[i]);
	assert_int_equal(sum, 0);
	assert_int_equal(vmgenid_acpi_checksum(b.data + 6, 46), 0);
	vmgenid_bytebuf_free(&b);
}

/* Ending twice (after more bytes) refreshes length and checksum. */
static void test_end_again(void **state)
{
	struct vmgenid_bytebuf b;
	size_t start;

	(void)state;
	vmgenid_bytebuf_init(&b);
	start = vmgenid_acpi_table_begin(&b, "SSDT", 2, &iasl_id);
	vmgenid_acpi_table_end(&b, start);
	assert_int_equal(vmgenid_get_le32(b.data + 4), 36);
	assert_int_equal(vmgenid_acpi_checksum(b.data, b.len), 0);
	vmgenid_bytebuf_append(&b, "\x01\x02\x03", 3);
	vmgenid_acpi_table_end(&b, start);
	assert_int_equal(vmgenid_get_le32(b.data + 4), 39);
	assert_int_equal(vmgenid_acpi_checksum(b.data, b.len), 0);
	vmgenid_bytebuf_free(&b);
}

static void test_end_with_bad_start_does_nothing(void **state)
{
	struct vmgenid_bytebuf b;
	uint8_t copy[40];

	(void)state;
	vmgenid_bytebuf_init(&b);
	vmgenid_acpi_table_begin(&b, "SSDT", 1, &iasl_id);
	vmgenid_bytebuf_append(&b, "abcd", 4);
	memcpy(copy, b.data, sizeof(copy));
	vmgenid_acpi_table_end(&b, 10);  /* fewer than 36 bytes after it */
	vmgenid_acpi_table_end(&b, 100); /* past the end */
	assert_int_equal(b.len, 40);
	assert_memory_equal(b.data, copy, sizeof(copy));
	vmgenid_bytebuf_free(&b);
}

static void test_missing_ids_are_nul(void **state)
{
	static const struct vmgenid_acpi_table_id empty = { 0 };
	struct vmgenid_bytebuf b;

	(void)state;
	vmgenid_bytebuf_init(&b);
	vmgenid_acpi_table_begin(&b, "WAET", 1, &empty);
	vmgenid_acpi_table_begin(&b, "WAET", 1, NULL);
	assert_int_equal(b.len, 72);
	assert_memory_equal(b.data + 10, "\0\0\0\0\0\0", 6);
	assert_memory_equal(b.data + 16, "\0\0\0\0\0\0\0\0", 8);
	assert_memory_equal(b.data + 28, "\0\0\0\0", 4);
	assert_memory_equal(b.data, b.data + 36, 36);
	vmgenid_bytebuf_free(&b);
}

static void test_checksum(void **state)
{
	static const uint8_t zero[4] = { 0 };
	static const uint8_t bytes[] = { 0x01, 0x02, 0xff };

	(void)state;
	assert_int_equal(vmgenid_acpi_checksum(zero, sizeof(zero)), 0);
	assert_int_equal(vmgenid_acpi_checksum(NULL, 0), 0);
	/* 1 + 2 + 255 = 258 = 2 mod 256, so 254 makes it zero. */
	assert_int_equal(vmgenid_acpi_checksum(bytes, sizeof(bytes)), 254);
	assert_int_equal(vmgenid_acpi_checksum(ssdt, sizeof(ssdt)), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_matches_iasl),
		cmocka_unit_test(test_table_not_at_start),
		cmocka_unit_test(test_end_again),
		cmocka_unit_test(test_end_with_bad_start_does_nothing),
		cmocka_unit_test(test_missing_ids_are_nul),
		cmocka_unit_test(test_checksum),
	};

	return cmocka_run_group_tests_name("acpi_table", tests, NULL, NULL);
}
