/* SPDX-License-Identifier: MIT */
/*
 * Byte-order helpers for wire formats and guest memory.
 *
 * Every multi-byte value that crosses into guest memory, a fw_cfg blob or a
 * snapshot goes through these: never a cast of a packed struct.  Header-only
 * and free of libc so the guest firmware can use it too.
 */
#ifndef VMGENID_ENDIAN_H
#define VMGENID_ENDIAN_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

static inline void vmgenid_put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void vmgenid_put_le32(uint8_t *p, uint32_t v)
{
	vmgenid_put_le16(p, (uint16_t)v);
	vmgenid_put_le16(p + 2, (uint16_t)(v >> 16));
}

static inline void vmgenid_put_le64(uint8_t *p, uint64_t v)
{
	vmgenid_put_le32(p, (uint32_t)v);
	vmgenid_put_le32(p + 4, (uint32_t)(v >> 32));
}

static inline uint16_t vmgenid_get_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static inline uint32_t vmgenid_get_le32(const uint8_t *p)
{
	return (uint32_t)vmgenid_get_le16(p) | ((uint32_t)vmgenid_get_le16(p + 2) << 16);
}

static inline uint64_t vmgenid_get_le64(const uint8_t *p)
{
	return (uint64_t)vmgenid_get_le32(p) | ((uint64_t)vmgenid_get_le32(p + 4) << 32);
}

static inline void vmgenid_put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void vmgenid_put_be32(uint8_t *p, uint32_t v)
{
	vmgenid_put_be16(p, (uint16_t)(v >> 16));
	vmgenid_put_be16(p + 2, (uint16_t)v);
}

static inline void vmgenid_put_be64(uint8_t *p, uint64_t v)
{
	vmgenid_put_be32(p, (uint32_t)(v >> 32));
	vmgenid_put_be32(p + 4, (uint32_t)v);
}

static inline uint16_t vmgenid_get_be16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static inline uint32_t vmgenid_get_be32(const uint8_t *p)
{
	return ((uint32_t)vmgenid_get_be16(p) << 16) | vmgenid_get_be16(p + 2);
}

static inline uint64_t vmgenid_get_be64(const uint8_t *p)
{
	return ((uint64_t)vmgenid_get_be32(p) << 32) | vmgenid_get_be32(p + 4);
}

#ifdef __cplusplus
}
#endif

#endif
