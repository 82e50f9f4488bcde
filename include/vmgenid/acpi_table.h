/* SPDX-License-Identifier: MIT */
/*
 * ACPI system description table framing: the 36-byte header, its length and
 * checksum.  A builder calls vmgenid_acpi_table_begin(), appends the body, and calls
 * vmgenid_acpi_table_end(); it never fills a header by hand.
 */
#ifndef VMGENID_ACPI_TABLE_H
#define VMGENID_ACPI_TABLE_H

#include <stddef.h>
#include <stdint.h>

#include "vmgenid/bytebuf.h"

#ifdef __cplusplus
extern "C" {
#endif

#define VMGENID_ACPI_TABLE_HEADER_SIZE 36
#define VMGENID_ACPI_TABLE_LENGTH_OFFSET 4
#define VMGENID_ACPI_TABLE_CHECKSUM_OFFSET 9

struct vmgenid_acpi_table_id {
	const char *oem_id;       /* up to 6 chars, NUL padded (as QEMU does) */
	const char *oem_table_id; /* up to 8 chars, NUL padded */
	uint32_t oem_revision;
	const char *creator_id;   /* up to 4 chars, NUL padded */
	uint32_t creator_revision;
};

/*
 * Append a header for signature (4 chars) and revision with length and
 * checksum zero.  Returns the table's start offset in b.
 */
size_t vmgenid_acpi_table_begin(struct vmgenid_bytebuf *b, const char *signature, uint8_t revision,
			const struct vmgenid_acpi_table_id *id);

/* Patch the length (b->len - start) and set the checksum so the table sums to 0. */
void vmgenid_acpi_table_end(struct vmgenid_bytebuf *b, size_t start);

/* The byte that, added to the sum of data[0..len), makes it zero mod 256. */
uint8_t vmgenid_acpi_checksum(const uint8_t *data, size_t len);

#ifdef __cplusplus
}
#endif

#endif
