// SPDX-License-Identifier: MIT
#include <stdio.h>
#include <string.h>

#include "vmgenid/bios_loader.h"
#include "vmgenid/endian.h"
#include "vmgenid/log.h"

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

	if (size < FW_IMAGE_HEADER_SIZE || get_le32(img + FW_IMAGE_OFF_MAGIC) != FW_IMAGE_MAGIC ||
	    get_le32(img + FW_IMAGE_OFF_VERSION) != FW_IMAGE_VERSION) {
		fprintf(stderr, "genvm: firmware: built-in image has no valid header\n");
		return -1;
	}
	load = get_le64(img + FW_IMAGE_OFF_LOAD);
	*entry = get_le64(img + FW_IMAGE_OFF_ENTRY);
	end = get_le64(img + FW_IMAGE_OFF_MEM_END);
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

static const char *phase_text(uint32_t phase)
{
	switch (phase) {
	case FW_E_HANDOFF:
		return "bad handoff block";
	case FW_E_NO_FW_CFG:
		return "no fw_cfg device";
	case FW_E_NO_DMA:
		return "fw_cfg has no DMA interface";
	case FW_E_NO_LOADER:
		return "no etc/table-loader";
	case FW_E_LOADER_SIZE:
		return "etc/table-loader too large";
	case FW_E_LOADER_READ:
		return "reading etc/table-loader failed";
	case FW_E_LOADER_RUN:
		return "etc/table-loader failed";
	case FW_E_NO_RSDP:
		return "the table-loader allocated no etc/acpi/rsdp";
	case FW_E_RETURNED:
		return "the kernel entry returned";
	default:
		return "unknown error";
	}
}

const char *firmware_describe(uint32_t code)
{
	static char buf[160];
	uint32_t phase = code >> 8, detail = code & 0xff;

	if (phase == FW_E_LOADER_RUN)
		snprintf(buf, sizeof(buf), "%s: %s", phase_text(phase),
			 bios_loader_strerror(-(int)detail));
	else
		snprintf(buf, sizeof(buf), "%s (code %#x)", phase_text(phase), code);
	return buf;
}

void firmware_status_io(void *opaque, uint64_t addr, uint8_t *data, uint32_t len, bool is_write)
{
	struct firmware_status *fs = opaque;
	uint32_t code = 0;

	if (!is_write || addr != 0 || len != 4)
		return;
	/* After the handoff this port belongs to nobody: the guest OS cannot kill us. */
	if (atomic_exchange(&fs->done, true)) {
		pr_warn("firmware", "write to the status port after boot ignored");
		return;
	}
	code = get_le32(data);
	if (code == FW_DONE)
		return;
	fprintf(stderr, "genvm: firmware: %s\n", firmware_describe(code));
	vm_request_exit(fs->vm, 1);
}
