/* SPDX-License-Identifier: MIT */
/*
 * The 128-bit generation ID.
 *
 * struct guid holds the bytes in RFC 4122 order, the order of the text form
 * ("324e6eaf-d1d1-4bf6-bf41-b9bb6c91fb87" is bytes 32 4e 6e af d1 d1 ...).
 * Guest memory holds the Microsoft GUID layout instead: the first three
 * fields (4, 2 and 2 bytes) byte-swapped, the last 8 bytes as they are.
 */
#ifndef VMGENID_GUID_H
#define VMGENID_GUID_H

#include <stdbool.h>
#include <stdint.h>

#define GUID_SIZE 16
#define GUID_STR_LEN 36 /* without the terminating NUL */

struct guid {
	uint8_t bytes[GUID_SIZE];
};

/*
 * Parse the 8-4-4-4-12 hex text form, case-insensitive.  Returns 0, or
 * -EINVAL with *why (if why is non-NULL) set to a static sentence saying
 * what is wrong (empty, wrong length, braces, misplaced dash, bad hex digit).
 * *out is left unchanged on error.
 */
int guid_parse(const char *text, struct guid *out, const char **why);

/*
 * Parse a vmgenid "guid" property value: the text form, or "auto" for a
 * fresh random GUID.  Same error contract as guid_parse(); -EIO (with *why)
 * if no randomness could be had for "auto".
 */
int guid_parse_property(const char *text, struct guid *out, const char **why);

/* Lowercase text form, NUL-terminated; out must hold GUID_STR_LEN + 1. */
void guid_format(const struct guid *g, char *out);

/* A random RFC 4122 version 4 (variant 10) GUID from getrandom(2). */
int guid_generate(struct guid *out);

/* Convert between the RFC 4122 order and the little-endian guest layout. */
void guid_to_le(const struct guid *g, uint8_t le[GUID_SIZE]);
void guid_from_le(const uint8_t le[GUID_SIZE], struct guid *out);

bool guid_equal(const struct guid *a, const struct guid *b);
bool guid_is_null(const struct guid *g);

#endif
