/* SPDX-License-Identifier: MIT */
/*
 * Snapshot state sections: each device owns a versioned, fixed-width,
 * little-endian record; this module frames and checks them.
 *
 * A section on disk:
 *   0   char  id[16]   NUL-padded section name ("vmgenid", "fw_cfg", ...)
 *   16  le32  version
 *   20  le32  length   of the payload
 *   24  le32  crc32    of the payload (IEEE 802.3, as zlib)
 *   28  le32  reserved (0)
 *   32  payload[length]
 */
#ifndef VMGENID_STATE_H
#define VMGENID_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "vmgenid/bytebuf.h"

#ifdef __cplusplus
extern "C" {
#endif

#define VMGENID_STATE_ID_SIZE 16
#define VMGENID_STATE_SECTION_HEADER_SIZE 32

uint32_t vmgenid_state_crc32(uint32_t crc, const void *data, size_t len);

/* Writing: begin, put payload with bytebuf_put_*, end. */
size_t vmgenid_state_section_begin(struct vmgenid_bytebuf *b, const char *id, uint32_t version);
void vmgenid_state_section_end(struct vmgenid_bytebuf *b, size_t start);

struct vmgenid_state_section {
	char id[VMGENID_STATE_ID_SIZE + 1];
	uint32_t version;
	const uint8_t *payload;
	uint32_t length;
};

/* Reading a sequence of sections from one buffer. */
struct vmgenid_state_reader {
	const uint8_t *data;
	size_t len;
	size_t pos;
};

void vmgenid_state_reader_init(struct vmgenid_state_reader *r, const void *data, size_t len);

/*
 * Next section: 1 with *s filled, 0 at a clean end of the buffer, or
 * -EBADMSG (truncated header or payload, id not NUL-padded, reserved field
 * set, CRC mismatch) with *why set to a static sentence.
 */
int vmgenid_state_reader_next(struct vmgenid_state_reader *r, struct vmgenid_state_section *s, const char **why);

#ifdef __cplusplus
}
#endif

#endif
