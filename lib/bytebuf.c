// SPDX-License-Identifier: MIT
#include <stdlib.h>
#include <string.h>

#include "vmgenid/bytebuf.h"
#include "vmgenid/endian.h"

void bytebuf_init(struct bytebuf *b)
{
	memset(b, 0, sizeof(*b));
}

void bytebuf_free(struct bytebuf *b)
{
	free(b->data);
	bytebuf_init(b);
}

static bool bytebuf_reserve(struct bytebuf *b, size_t n)
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

uint8_t *bytebuf_append(struct bytebuf *b, const void *src, size_t n)
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

void bytebuf_put_u8(struct bytebuf *b, uint8_t v)
{
	bytebuf_append(b, &v, 1);
}

void bytebuf_put_le16(struct bytebuf *b, uint16_t v)
{
	uint8_t *p = bytebuf_append(b, NULL, 2);

	if (p)
		put_le16(p, v);
}

void bytebuf_put_le32(struct bytebuf *b, uint32_t v)
{
	uint8_t *p = bytebuf_append(b, NULL, 4);

	if (p)
		put_le32(p, v);
}

void bytebuf_put_le64(struct bytebuf *b, uint64_t v)
{
	uint8_t *p = bytebuf_append(b, NULL, 8);

	if (p)
		put_le64(p, v);
}

void bytebuf_align(struct bytebuf *b, size_t align)
{
	size_t rem = b->len & (align - 1);

	if (rem)
		bytebuf_append(b, NULL, align - rem);
}
