/* SPDX-License-Identifier: MIT */
/*
 * The x86 Linux boot protocol's setup header (Documentation/arch/x86/boot.rst):
 * check that a file is a bzImage genvm can start through the 64-bit entry,
 * and pull out what the loader needs.
 */
#ifndef GENVM_BZIMAGE_H
#define GENVM_BZIMAGE_H

#include <stddef.h>
#include <stdint.h>

/* Offsets inside the file (= inside boot_params for the setup header). */
#define BZ_SETUP_SECTS 0x1f1
#define BZ_BOOT_FLAG 0x1fe
#define BZ_HEADER 0x202
#define BZ_VERSION 0x206
#define BZ_TYPE_OF_LOADER 0x210
#define BZ_LOADFLAGS 0x211
#define BZ_RAMDISK_IMAGE 0x218
#define BZ_RAMDISK_SIZE 0x21c
#define BZ_HEAP_END_PTR 0x224
#define BZ_CMD_LINE_PTR 0x228
#define BZ_INITRD_ADDR_MAX 0x22c
#define BZ_KERNEL_ALIGNMENT 0x230
#define BZ_RELOCATABLE 0x234
#define BZ_XLOADFLAGS 0x236
#define BZ_CMDLINE_SIZE 0x238
#define BZ_PREF_ADDRESS 0x258
#define BZ_INIT_SIZE 0x260
#define BZ_SETUP_HEADER_END 0x268 /* through init_size and handover_offset */

#define BZ_HDRS_MAGIC 0x53726448u /* "HdrS" */
#define BZ_MIN_VERSION 0x020c     /* 2.12: xloadflags */
#define BZ_LOADED_HIGH 0x01
#define BZ_CAN_USE_HEAP 0x80
#define BZ_XLF_KERNEL_64 0x0001
#define BZ_ENTRY64_OFFSET 0x200

struct bzimage {
	uint16_t version;
	uint8_t loadflags;
	uint16_t xloadflags;
	uint32_t initrd_addr_max;
	uint32_t kernel_alignment;
	uint32_t cmdline_size;
	uint64_t pref_address;
	uint32_t init_size;
	uint64_t setup_size;  /* bytes before the protected-mode kernel */
	uint64_t kernel_size; /* protected-mode kernel bytes */
};

/*
 * Check the first len bytes of a file of file_size bytes.  0, or -EINVAL
 * with *why set to a static sentence.
 */
int bzimage_parse(const uint8_t *buf, size_t len, uint64_t file_size, struct bzimage *out,
		  const char **why);

/* Lowest end of guest RAM (exclusive) the decompressed kernel needs. */
uint64_t bzimage_ram_needed(const struct bzimage *bz);

#endif
