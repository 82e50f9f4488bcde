/* SPDX-License-Identifier: MIT */
/*
 * What the libFuzzer targets of tests/fuzz share: the layout of the inputs
 * the structured targets take (gen_corpus.c writes seeds in the same
 * layouts), and a check that aborts, so that a broken invariant is a crash
 * libFuzzer reports with its input, exactly like a sanitizer finding.
 */
#ifndef VMGENID_FUZZ_H
#define VMGENID_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define FUZZ_CHECK(cond)                                                               \
	do {                                                                           \
		if (!(cond)) {                                                         \
			fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__,   \
				__LINE__, #cond);                                      \
			abort();                                                       \
		}                                                                      \
	} while (0)

/* Taking bytes off the front of an input; past the end everything reads 0. */
struct fuzz_in {
	const uint8_t *p;
	size_t left;
};

static inline uint8_t fuzz_u8(struct fuzz_in *in)
{
	if (!in->left)
		return 0;
	in->left--;
	return *in->p++;
}

static inline uint16_t fuzz_le16(struct fuzz_in *in)
{
	uint16_t lo = fuzz_u8(in);

	return (uint16_t)(lo | fuzz_u8(in) << 8);
}

/* Up to n bytes (fewer at the end of the input): a pointer into it and *got. */
static inline const uint8_t *fuzz_take(struct fuzz_in *in, size_t n, size_t *got)
{
	const uint8_t *p = in->p;

	*got = n < in->left ? n : in->left;
	in->p += *got;
	in->left -= *got;
	return p;
}

/*
 * fw_cfg target: a guest's port I/O and RAM writes against the device.
 * Guest RAM is one range of FUZZ_RAM_SIZE bytes at FUZZ_RAM_BASE.  The
 * input is a list of operations, each starting with a byte b:
 *   b & 0x80  RAM write: le16 offset (mod the RAM size), u8 n, n bytes;
 *             the bytes that would run past the end of RAM are dropped
 *   else      port access at VMGENID_FW_CFG_IO_BASE + (b & 0x0f), of 1 << ((b >> 4)
 *             & 3) bytes, a write when b & 0x40 (then that many data bytes
 *             follow, in bus order: lowest port first)
 */
#define FUZZ_RAM_BASE 0x100000ull
#define FUZZ_RAM_SIZE 0x10000u
#define FUZZ_OP_RAM 0x80u
#define FUZZ_OP_WRITE 0x40u
#define FUZZ_OP_PORT_MASK 0x0fu
#define FUZZ_OP_SIZE_SHIFT 4

/*
 * bios_loader target: fw_cfg files and a table-loader script, run by the
 * firmware's executor over fw_cfg port I/O and DMA.  The input is records,
 * each le16 length then that many bytes.  The first record is the script
 * (etc/table-loader); each later one is a file: a flags byte
 * (FUZZ_FILE_WRITABLE), a NUL-terminated name, then its contents.
 */
#define FUZZ_FILE_WRITABLE 0x01u
#define FUZZ_LOADER_MAX_FILES 16

#endif
