// SPDX-License-Identifier: MIT
#include <errno.h>
#include <string.h>

#include "vmgenid/endian.h"
#include "vmgenid/log.h"
#include "vmgenid/state.h"

#define MOD "state"

/* Header field offsets, as laid out in state.h. */
#define OFF_VERSION 16
#define OFF_LENGTH 20
#define OFF_CRC 24
#define OFF_RESERVED 28

/*
 * Reflected CRC-32 (poly 0xEDB88320) four bits at a time: device sections are
 * a few hundred bytes, so a 64-byte table beats a 1 KiB one on cache and
 * needs no run-time initialisation.  Entry n is n pushed through 4 steps.
 */
static const uint32_t crc32_nibble[16] = {
	0x00000000, 0x1db71064, 0x3b6e20c8, 0x26d930ac,
	0x76dc4190, 0x6b6b51f4, 0x4db26158, 0x5005713c,
	0xedb88320, 0xf00f9344, 0xd6d6a3e8, 0xcb61b38c,
	0x9b64c2b0, 0x86d3d2d4, 0xa00ae278, 0xbdbdf21c,
};

uint32_t vmgenid_state_crc32(uint32_t crc, const void *data, size_t len)
{
	const uint8_t *p = data;

	/* Same convention as zlib's crc32(): crc is a finished value, 0 to start. */
	crc = ~crc;
	while (len--) {
		crc ^= *p++;
		crc = (crc >> 4) ^ crc32_nibble[crc & 0x0f];
		crc = (crc >> 4) ^ crc32_nibble[crc & 0x0f];
	}
	return ~crc;
}

size_t vmgenid_state_section_begin(struct vmgenid_bytebuf *b, const char *id, uint32_t version)
{
	size_t start = b->len;
	size_t id_len;
	uint8_t *h;

	id_len = id ? strnlen(id, VMGENID_STATE_ID_SIZE) : 0;
	if (id_len == 0 || id_len >= VMGENID_STATE_ID_SIZE) {
		/* A reader would refuse it; fail the whole image, not just this section. */
		vmgenid_pr_err(MOD, "section id \"%.*s\" must be 1 to %d characters", VMGENID_STATE_ID_SIZE,
		       id ? id : "", VMGENID_STATE_ID_SIZE - 1);
		b->failed = true;
		return start;
	}
	h = vmgenid_bytebuf_append(b, NULL, VMGENID_STATE_SECTION_HEADER_SIZE);
	if (!h)
		return start;
	memcpy(h, id, id_len);
	vmgenid_put_le32(h + OFF_VERSION, version);
	return start;
}

void vmgenid_state_section_end(struct vmgenid_bytebuf *b, size_t start)
{
	size_t length;
	uint8_t *h;

	if (b->failed)
		return;
	if (start > b->len || b->len - start < VMGENID_STATE_SECTION_HEADER_SIZE) {
		vmgenid_pr_err(MOD, "section end at %zu without a header at %zu", b->len, start);
		b->failed = true;
		return;
	}
	length = b->len - start - VMGENID_STATE_SECTION_HEADER_SIZE;
	if (length > UINT32_MAX) {
		vmgenid_pr_err(MOD, "section payload of %zu bytes does not fit a le32 length", length);
		b->failed = true;
		return;
	}
	h = b->data + start;
	vmgenid_put_le32(h + OFF_LENGTH, (uint32_t)length);
	vmgenid_put_le32(h + OFF_CRC, vmgenid_state_crc32(0, h + VMGENID_STATE_SECTION_HEADER_SIZE, length));
}

void vmgenid_state_reader_init(struct vmgenid_state_reader *r, const void *data, size_t len)
{
	r->data = data;
	r->len = len;
	r->pos = 0;
}

/* NULL if the id field holds 1 to 15 characters followed only by NULs. */
static const char *state_check_id(const uint8_t *id)
{
	size_t n = 0, i;

	while (n < VMGENID_STATE_ID_SIZE && id[n])
		n++;
	if (n == 0)
		return "section id is empty";
	if (n == VMGENID_STATE_ID_SIZE)
		return "section id is not NUL-terminated";
	for (i = n; i < VMGENID_STATE_ID_SIZE; i++)
		if (id[i])
			return "section id is not NUL-padded";
	return NULL;
}

int vmgenid_state_reader_next(struct vmgenid_state_reader *r, struct vmgenid_state_section *s, const char **why)
{
	const char *reason;
	const uint8_t *h, *payload;
	size_t avail;
	uint32_t length;

	if (r->pos == r->len)
		return 0;
	/* pos past len only if the caller broke the struct; never index with it. */
	if (r->pos > r->len || r->len - r->pos < VMGENID_STATE_SECTION_HEADER_SIZE) {
		reason = "truncated section header";
		goto bad;
	}
	h = r->data + r->pos;
	avail = r->len - r->pos - VMGENID_STATE_SECTION_HEADER_SIZE;

	reason = state_check_id(h);
	if (reason)
		goto bad;
	if (vmgenid_get_le32(h + OFF_RESERVED) != 0) {
		reason = "reserved field of section header is not zero";
		goto bad;
	}
	length = vmgenid_get_le32(h + OFF_LENGTH);
	/* Compared against what is left, so no sum can overflow. */
	if (length > avail) {
		reason = "truncated section payload: length runs past the end";
		goto bad;
	}
	payload = h + VMGENID_STATE_SECTION_HEADER_SIZE;
	if (vmgenid_state_crc32(0, payload, length) != vmgenid_get_le32(h + OFF_CRC)) {
		reason = "section payload CRC mismatch";
		goto bad;
	}

	memcpy(s->id, h, VMGENID_STATE_ID_SIZE);
	s->id[VMGENID_STATE_ID_SIZE] = '\0';
	s->version = vmgenid_get_le32(h + OFF_VERSION);
	s->payload = payload;
	s->length = length;
	r->pos += VMGENID_STATE_SECTION_HEADER_SIZE + (size_t)length;
	return 1;
bad:
	if (why)
		*why = reason;
	return -EBADMSG;
}
