// SPDX-License-Identifier: MIT
#include <stdio.h>
#include <string.h>

#include "vmgenid/endian.h"

#include "../firmware/handoff.h"
#include "firmware.h"
#include "layout.h"
#include "vm.h"

/* The flat binary, linked in by firmware_blob.S. */
extern const uint8_t genvm_firmware_start[];
extern const uint8_t genvm_firmware_end[];

int firmware_load(struct vm *vm, uint64_t *entry, uint64_t *mem_end)
{
	const uint8_t *img = genvm_firmware_start;
	uint64_t size = (uint64_t)(genvm_firmware_end - genvm_firmware_start);
	uint64_t load, end;
	uint8_t *dst;

	if (size < FW_IMAGE_HEADER_SIZE || vmgenid_get_le32(img + FW_IMAGE_OFF_MAGIC) != FW_IMAGE_MAGIC ||
	    vmgenid_get_le32(img + FW_IMAGE_OFF_VERSION) != FW_IMAGE_VERSION) {
		fprintf(stderr, "genvm: firmware: built-in image has no valid header\n");
		return -1;
	}
	load = vmgenid_get_le64(img + FW_IMAGE_OFF_LOAD);
	*entry = vmgenid_get_le64(img + FW_IMAGE_OFF_ENTRY);
	end = vmgenid_get_le64(img + FW_IMAGE_OFF_MEM_END);
	if (load < LAYOUT_FW_START || end > LAYOUT_FW_END || end < load || end - load < size ||
	    *entry < load || *entry >= load + size) {
		fprintf(stderr, "genvm: firmware: image at %#llx..%#llx does not fit %#llx..%#llx\n",
			(unsigned long long)load, (unsigned long long)end,
			(unsigned long long)LAYOUT_FW_START, (unsigned long long)LAYOUT_FW_END);
		return -1;
	}
	dst = vm_ptr(vm, load, end - load);
	if (!dst) {
		fprintf(stderr, "genvm: firmware: no RAM at %#llx\n", (unsigned long long)load);
		return -1;
	}
	memcpy(dst, img, size);
	memset(dst + size, 0, end - load - size);
	*mem_end = end;
	return 0;
}
