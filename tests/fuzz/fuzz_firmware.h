/* SPDX-License-Identifier: MIT */
/*
 * Guest firmware in miniature, as genvm's firmware/ does it: the guest-side
 * fw_cfg client (lib/fw_cfg_guest.c) on a guest RAM, a bump allocator, and
 * the table-loader executor run over them.  The bios_loader target runs it
 * on fuzzed files; gen_corpus records it (its port I/O hooks) to make the
 * fw_cfg seeds.  RAM layout: the DMA descriptor at the base, a scratch page
 * after it, allocations from FUZZ_FW_HEAP on.
 */
#ifndef VMGENID_FUZZ_FIRMWARE_H
#define VMGENID_FUZZ_FIRMWARE_H

#include <stdint.h>

#include "vmgenid/bios_loader.h"
#include "vmgenid/fw_cfg.h"
#include "vmgenid/fw_cfg_guest.h"

#define FUZZ_FW_SCRATCH 0x1000u /* offsets from the RAM base */
#define FUZZ_FW_HEAP 0x2000u

struct fuzz_firmware {
	uint8_t *ram;
	uint64_t base;
	uint64_t size;
	struct vmgenid_fw_cfg *fw;
	struct vmgenid_fw_cfg_guest_ops ops;
	struct vmgenid_fw_cfg_guest g;
	uint64_t next; /* the bump allocator: next free guest address */
};

/*
 * Connect to fw (the device) through ops, or straight to vmgenid_fw_cfg_io() when
 * ops is NULL.  0, or -1 if the client finds no fw_cfg.
 */
int fuzz_firmware_init(struct fuzz_firmware *f, uint8_t *ram, uint64_t base, uint64_t size,
		       struct vmgenid_fw_cfg *fw, const struct vmgenid_fw_cfg_guest_ops *ops);

/*
 * Read etc/table-loader into RAM and run it, as the firmware does: the
 * executor's result, or -VMGENID_BIOS_LOADER_E_NO_FILE when the script itself
 * cannot be found or read.
 */
int fuzz_firmware_run_loader(struct fuzz_firmware *f, struct vmgenid_bios_loader_exec *ex);

#endif
