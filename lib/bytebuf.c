// SPDX-License-Identifier: MIT
#include <stdlib.h>
#include <string.h>

#include "vmgenid/bytebuf.h"
#include "vmgenid/endian.h"

void vmgenid_bytebuf_init(struct vmgenid_bytebuf *b)
{
	memset(b, 0, sizeof(*b));
}

void vmgenid_bytebuf_free(struct vmgenid_bytebuf *b)
{
	free(b->data);
	vmgenid_bytebuf_init(b);
}

static bool bytebuf_reserve(struct vmgenid_bytebuf *b, size_t n)
{
	size_t need, cap;
	uint8_t *data;

	if (b->failed)
		return false;
	if (n > SIZE_MAX - b->len)
		goto fail;
	need = b->len + n;
	if (need <= b->cap)
		return true;

	cap = b->cap ? b->cap : 256;
	while (cap < need) {
		if (cap > SIZE_MAX / 2)
			goto fail;
		cap *= 2;
	}
	data = realloc(b->data, cap);
	if (!data)
		goto fail;
	b->data = data;
	b->cap = cap;
	return true;
fail:
	b->failed = true;
	return false;
}

uint8_t *vmgenid_bytebuf_append(struct vmgenid_bytebuf *b, const void *src, size_t n)
{
	uint8_t *dst;

	if (!bytebuf_reserve(b, n))
		return NULL;
	dst = b->data + b->len;
	if (n) {
		if (src)
			memcpy(dst, src, n);
		else
			memset(dst, 0, n);
	}
	b->len += n;
	return dst;
}

void vmgenid_bytebuf_put_u8(struct vmgenid_bytebuf *b, uint8_t v)
{
	vmgenid_bytebuf_append(b, &v, 1);
}

void vmgenid_bytebuf_put_le16(struct vmgenid_bytebuf *b, uint16_t v)
{
	uint8_t *p = vmgenid_bytebuf_append(b, NULL, 2);

	if (p)
		vmgenid_put_le16(p, v);
}

void vmgenid_bytebuf_put_le32(struct vmgenid_bytebuf *b, uint32_t v)
{
	uint8_t *p = vmgenid_bytebuf_append(b, NULL, 4);

	if (p)
		vmgenid_put_le32(p, v);
}

void vmgenid_bytebuf_put_le64(struct vmgenid_bytebuf *b, uint64_t v)
{
	uint8_t *p = vmgenid_bytebuf_append(b, NULL, 8);

	if (p)
		vmgenid_put_le64(p, v);
}

void vmgenid_bytebuf_align(struct vmgenid_bytebuf *b, size_t align)
{
	size_t rem = b->len & (align - 1);

	if (rem)
		vmgenid_bytebuf_append(b, NULL, align - rem);
}
