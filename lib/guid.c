// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/random.h>

#include "vmgenid/guid.h"
#include "vmgenid/log.h"

#define MOD "guid"

/* Text offsets of the four dashes in 8-4-4-4-12. */
static bool guid_is_dash_pos(size_t i)
{
	return i == 8 || i == 13 || i == 18 || i == 23;
}

/* Locale-independent on purpose: the property text is ASCII by definition. */
static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/*
 * Decode exactly VMGENID_GUID_STR_LEN characters.  Returns NULL on success, else the
 * reason; out is written only on success.
 */
static const char *guid_decode(const char *text, struct vmgenid_guid *out)
{
	struct vmgenid_guid g;
	size_t i, n = 0;
	int hi = -1;

	for (i = 0; i < VMGENID_GUID_STR_LEN; i++) {
		int v;

		if (guid_is_dash_pos(i)) {
			if (text[i] != '-')
				return "dash missing or misplaced: expected 8-4-4-4-12 hex digits";
			continue;
		}
		if (text[i] == '-')
			return "dash missing or misplaced: expected 8-4-4-4-12 hex digits";
		v = hex_value(text[i]);
		if (v < 0)
			return "bad hex digit: only 0-9, a-f and A-F are allowed";
		if (hi < 0) {
			hi = v;
		} else {
			g.bytes[n++] = (uint8_t)(hi << 4 | v);
			hi = -1;
		}
	}
	*out = g;
	return NULL;
}

int vmgenid_guid_parse(const char *text, struct vmgenid_guid *out, const char **why)
{
	const char *reason;
	struct vmgenid_guid g;
	size_t len;

	if (!text || !*text) {
		reason = "empty GUID: expected 8-4-4-4-12 hex digits";
		goto bad;
	}
	len = strlen(text);
	if (text[0] == '{' || text[len - 1] == '}') {
		reason = "braces are not accepted: write the GUID without { }";
		goto bad;
	}
	if (is_blank(text[0]) || is_blank(text[len - 1])) {
		reason = "leading or trailing whitespace around the GUID";
		goto bad;
	}
	if (len < VMGENID_GUID_STR_LEN) {
		reason = "too short: a GUID has 36 characters (8-4-4-4-12)";
		goto bad;
	}
	if (len > VMGENID_GUID_STR_LEN) {
		/* Tell "GUID plus junk" apart from a GUID with a field too long. */
		if (!guid_decode(text, &g))
			reason = "unexpected characters after the GUID";
		else
			reason = "too long: a GUID has 36 characters (8-4-4-4-12)";
		goto bad;
	}
	reason = guid_decode(text, out);
	if (reason)
		goto bad;
	return 0;
bad:
	if (why)
		*why = reason;
	return -EINVAL;
}

int vmgenid_guid_parse_property(const char *text, struct vmgenid_guid *out, const char **why)
{
	/* Exact match, as QEMU does: "AUTO" is neither a GUID nor the keyword. */
	if (text && !strcmp(text, "auto")) {
		if (vmgenid_guid_generate(out)) {
			if (why)
				*why = "no randomness available to generate a GUID for guid=auto";
			return -EIO;
		}
		return 0;
	}
	return vmgenid_guid_parse(text, out, why);
}

void vmgenid_guid_format(const struct vmgenid_guid *g, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i, o = 0;

	for (i = 0; i < VMGENID_GUID_SIZE; i++) {
		/* Dashes go after bytes 3, 5, 7 and 9 (the 8-4-4-4 boundaries). */
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = digits[g->bytes[i] >> 4];
		out[o++] = digits[g->bytes[i] & 0x0f];
	}
	out[o] = '\0';
}

int vmgenid_guid_generate(struct vmgenid_guid *out)
{
	struct vmgenid_guid g;
	size_t got = 0;

	while (got < sizeof(g.bytes)) {
		ssize_t n = getrandom(g.bytes + got, sizeof(g.bytes) - got, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			/* Zero would loop forever; getrandom never means it for 16 bytes. */
			vmgenid_pr_err(MOD, "getrandom failed: %s", n < 0 ? strerror(errno) : "no bytes");
			return -EIO;
		}
		got += (size_t)n;
	}
	/* RFC 4122 section 4.4: version 4 in byte 6, variant 10 in byte 8. */
	g.bytes[6] = (uint8_t)((g.bytes[6] & 0x0f) | 0x40);
	g.bytes[8] = (uint8_t)((g.bytes[8] & 0x3f) | 0x80);
	*out = g;
	return 0;
}

/* Byte i of the little-endian layout comes from byte le_order[i] of RFC 4122 order. */
static const uint8_t le_order[VMGENID_GUID_SIZE] = {
	3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15,
};

void vmgenid_guid_to_le(const struct vmgenid_guid *g, uint8_t le[VMGENID_GUID_SIZE])
{
	uint8_t tmp[VMGENID_GUID_SIZE];
	size_t i;

	/* Through a copy, so that le may alias g->bytes. */
	for (i = 0; i < VMGENID_GUID_SIZE; i++)
		tmp[i] = g->bytes[le_order[i]];
	memcpy(le, tmp, VMGENID_GUID_SIZE);
}

void vmgenid_guid_from_le(const uint8_t le[VMGENID_GUID_SIZE], struct vmgenid_guid *out)
{
	struct vmgenid_guid g;
	size_t i;

	/* Through a copy, so that le may alias out->bytes. */
	for (i = 0; i < VMGENID_GUID_SIZE; i++)
		g.bytes[le_order[i]] = le[i];
	*out = g;
}

bool vmgenid_guid_equal(const struct vmgenid_guid *a, const struct vmgenid_guid *b)
{
	return !memcmp(a->bytes, b->bytes, VMGENID_GUID_SIZE);
}

bool vmgenid_guid_is_null(const struct vmgenid_guid *g)
{
	static const struct vmgenid_guid null_guid;

	return vmgenid_guid_equal(g, &null_guid);
}
