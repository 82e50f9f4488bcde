/* SPDX-License-Identifier: MIT */
/*
 * A growable byte array: the output of the AML serializer, the ACPI table
 * blobs, the table-loader script and snapshot sections.
 *
 * Allocation failure is sticky (like an error flag in a stream): appends
 * after a failure do nothing and vmgenid_bytebuf_failed() reports it once at the end,
 * so builders do not need a check after every byte.
 */
#ifndef VMGENID_BYTEBUF_H
#define VMGENID_BYTEBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct vmgenid_bytebuf {
	uint8_t *data;
	size_t len;
	size_t cap;
	bool failed;
};

void vmgenid_bytebuf_init(struct vmgenid_bytebuf *b);
void vmgenid_bytebuf_free(struct vmgenid_bytebuf *b);

/*
 * Append n bytes from src (or n zero bytes when src is NULL).  Returns a
 * pointer to the appended bytes inside the buffer, valid until the next
 * append, or NULL when the buffer has failed.
 */
uint8_t *vmgenid_bytebuf_append(struct vmgenid_bytebuf *b, const void *src, size_t n);
void vmgenid_bytebuf_put_u8(struct vmgenid_bytebuf *b, uint8_t v);
void vmgenid_bytebuf_put_le16(struct vmgenid_bytebuf *b, uint16_t v);
void vmgenid_bytebuf_put_le32(struct vmgenid_bytebuf *b, uint32_t v);
void vmgenid_bytebuf_put_le64(struct vmgenid_bytebuf *b, uint64_t v);

/* Append zero bytes until len is a multiple of align (a power of two). */
void vmgenid_bytebuf_align(struct vmgenid_bytebuf *b, size_t align);

static inline bool vmgenid_bytebuf_failed(const struct vmgenid_bytebuf *b)
{
	return b->failed;
}

#ifdef __cplusplus
}
#endif

#endif
