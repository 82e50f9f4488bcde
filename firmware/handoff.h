/* SPDX-License-Identifier: MIT */
/*
 * What genvm tells the firmware, and how the firmware answers.
 *
 * genvm starts the boot vCPU in 64-bit mode at the firmware's entry with RDI
 * holding the guest address of a handoff block.  The block is little-endian
 * with fixed offsets (both sides go through handoff_encode/handoff_decode,
 * never a struct cast), so either side can grow it by bumping the version.
 *
 * The firmware image itself starts with a header (struct fw_image) that the
 * linker fills in: genvm loads the image where the header says, instead of
 * the two sides agreeing on a constant.
 *
 * The firmware reports back by writing a 32-bit code to HANDOFF_EXIT_PORT:
 * FW_DONE just before it jumps to the kernel, anything else is a failure
 * that genvm turns into "genvm: firmware: ..." and exit status 1.
 */
#ifndef GENVM_FIRMWARE_HANDOFF_H
#define GENVM_FIRMWARE_HANDOFF_H

#ifndef __ASSEMBLER__
#include <stdint.h>

#include "vmgenid/endian.h"
#endif

/* ---- image header, at offset 0 of the flat binary ---- */

#define FW_IMAGE_MAGIC 0x57464d56u /* "VMFW" */
#define FW_IMAGE_VERSION 1
#define FW_IMAGE_OFF_MAGIC 0     /* le32 */
#define FW_IMAGE_OFF_VERSION 4   /* le32 */
#define FW_IMAGE_OFF_LOAD 8      /* le64: guest address of byte 0 of the image */
#define FW_IMAGE_OFF_ENTRY 16    /* le64: 64-bit entry point */
#define FW_IMAGE_OFF_MEM_END 24  /* le64: end of image + bss (all zeroed by genvm) */
#define FW_IMAGE_HEADER_SIZE 32

/* ---- handoff block ---- */

#define HANDOFF_MAGIC 0x4f48564du /* "MVHO" */
#define HANDOFF_VERSION 1
#define HANDOFF_OFF_MAGIC 0            /* le32 */
#define HANDOFF_OFF_VERSION 4          /* le32 */
#define HANDOFF_OFF_BOOT_PARAMS 8      /* le64: Linux zero page */
#define HANDOFF_OFF_KERNEL_ENTRY 16    /* le64: 64-bit entry (load address + 0x200) */
#define HANDOFF_OFF_HIGH_START 24      /* le64: E820-reserved zone for ALLOCATE HIGH */
#define HANDOFF_OFF_HIGH_END 32        /* le64: exclusive */
#define HANDOFF_OFF_FSEG_START 40      /* le64: zone for ALLOCATE FSEG */
#define HANDOFF_OFF_FSEG_END 48        /* le64: exclusive */
#define HANDOFF_SIZE 56

#ifndef __ASSEMBLER__
struct handoff {
	uint32_t magic;
	uint32_t version;
	uint64_t boot_params;
	uint64_t kernel_entry;
	uint64_t high_start, high_end;
	uint64_t fseg_start, fseg_end;
};

static inline void handoff_encode(uint8_t *p, const struct handoff *h)
{
	vmgenid_put_le32(p + HANDOFF_OFF_MAGIC, h->magic);
	vmgenid_put_le32(p + HANDOFF_OFF_VERSION, h->version);
	vmgenid_put_le64(p + HANDOFF_OFF_BOOT_PARAMS, h->boot_params);
	vmgenid_put_le64(p + HANDOFF_OFF_KERNEL_ENTRY, h->kernel_entry);
	vmgenid_put_le64(p + HANDOFF_OFF_HIGH_START, h->high_start);
	vmgenid_put_le64(p + HANDOFF_OFF_HIGH_END, h->high_end);
	vmgenid_put_le64(p + HANDOFF_OFF_FSEG_START, h->fseg_start);
	vmgenid_put_le64(p + HANDOFF_OFF_FSEG_END, h->fseg_end);
}

static inline void handoff_decode(const uint8_t *p, struct handoff *h)
{
	h->magic = vmgenid_get_le32(p + HANDOFF_OFF_MAGIC);
	h->version = vmgenid_get_le32(p + HANDOFF_OFF_VERSION);
	h->boot_params = vmgenid_get_le64(p + HANDOFF_OFF_BOOT_PARAMS);
	h->kernel_entry = vmgenid_get_le64(p + HANDOFF_OFF_KERNEL_ENTRY);
	h->high_start = vmgenid_get_le64(p + HANDOFF_OFF_HIGH_START);
	h->high_end = vmgenid_get_le64(p + HANDOFF_OFF_HIGH_END);
	h->fseg_start = vmgenid_get_le64(p + HANDOFF_OFF_FSEG_START);
	h->fseg_end = vmgenid_get_le64(p + HANDOFF_OFF_FSEG_END);
}
#endif

/* ---- status port ---- */

/*
 * 0x501 is where QEMU's isa-debug-exit usually sits; nothing a PC guest
 * probes lives there.  genvm listens only until FW_DONE.
 */
#define HANDOFF_EXIT_PORT 0x501

/*
 * Codes are (phase << 8) | detail.  For FW_E_LOADER_RUN the detail is the
 * vmgenid_bios_loader_run() error (enum vmgenid_bios_loader_error), so genvm can name it.
 */
#define FW_DONE 0
#ifndef __ASSEMBLER__
enum fw_phase {
	FW_E_HANDOFF = 1,      /* handoff block missing or of another version */
	FW_E_NO_FW_CFG = 2,    /* no "QEMU" signature on the fw_cfg ports */
	FW_E_NO_DMA = 3,       /* fw_cfg without the DMA interface */
	FW_E_NO_LOADER = 4,    /* no etc/table-loader file */
	FW_E_LOADER_SIZE = 5,  /* etc/table-loader larger than the firmware's buffer */
	FW_E_LOADER_READ = 6,  /* reading etc/table-loader failed */
	FW_E_LOADER_RUN = 7,   /* the script failed; detail = bios_loader error */
	FW_E_NO_RSDP = 8,      /* the script did not allocate etc/acpi/rsdp */
	FW_E_RETURNED = 9,     /* the kernel entry returned (cannot happen) */
};

static inline uint32_t fw_code(enum fw_phase phase, uint32_t detail)
{
	return ((uint32_t)phase << 8) | (detail & 0xff);
}
#endif

#endif
