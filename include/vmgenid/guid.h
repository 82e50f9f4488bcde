/* SPDX-License-Identifier: MIT */
/*
 * The 128-bit generation ID.
 *
 * struct vmgenid_guid holds the bytes in RFC 4122 order, the order of the text form
 * ("324e6eaf-d1d1-4bf6-bf41-b9bb6c91fb87" is bytes 32 4e 6e af d1 d1 ...).
 * Guest memory holds the Microsoft GUID layout instead: the first three
 * fields (4, 2 and 2 bytes) byte-swapped, the last 8 bytes as they are.
 */
#ifndef VMGENID_GUID_H
#define VMGENID_GUID_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VMGENID_GUID_SIZE 16
#define VMGENID_GUID_STR_LEN 36 /* without the terminating NUL */

struct vmgenid_guid {
	uint8_t bytes[VMGENID_GUID_SIZE];
};

/*
 * Parse the 8-4-4-4-12 hex text form, case-insensitive.  Returns 0, or
 * -EINVAL with *why (if why is non-NULL) set to a static sentence saying
 * what is wrong (empty, wrong length, braces, misplaced dash, bad hex digit).
 * *out is left unchanged on error.
 */
int vmgenid_guid_parse(const char *text, struct vmgenid_guid *out, const char **why);

/*
 * Parse a vmgenid "guid" property value: the text form, or "auto" for a
 * fresh random GUID.  Same error contract as vmgenid_guid_parse(); -EIO (with *why)
 * if no randomness could be had for "auto".
 */
int vmgenid_guid_parse_property(const char *text, struct vmgenid_guid *out, const char **why);

/* Lowercase text form, NUL-terminated; out must hold VMGENID_GUID_STR_LEN + 1. */
void vmgenid_guid_format(const struct vmgenid_guid *g, char *out);

/* A random RFC 4122 version 4 (variant 10) GUID from getrandom(2). */
int vmgenid_guid_generate(struct vmgenid_guid *out);

/* Convert between the RFC 4122 order and the little-endian guest layout. */
void vmgenid_guid_to_le(const struct vmgenid_guid *g, uint8_t le[VMGENID_GUID_SIZE]);
void vmgenid_guid_from_le(const uint8_t le[VMGENID_GUID_SIZE], struct vmgenid_guid *out);

bool vmgenid_guid_equal(const struct vmgenid_guid *a, const struct vmgenid_guid *b);
bool vmgenid_guid_is_null(const struct vmgenid_guid *g);

#ifdef __cplusplus
}
#endif

#endif
