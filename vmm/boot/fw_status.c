// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdio.h>

#include "vmgenid/bios_loader.h"
#include "vmgenid/bytebuf.h"
#include "vmgenid/endian.h"
#include "vmgenid/log.h"
#include "vmgenid/state.h"

#include "../firmware/handoff.h"
#include "fw_status.h"
#include "vm.h"

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
			 vmgenid_bios_loader_strerror(-(int)detail));
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
	/*
	 * Only the firmware phase may end the machine here.  After the
	 * handoff, or in a machine restored after it, the port belongs to
	 * nobody: the guest OS cannot kill us, and cannot fill the log either.
	 */
	if (atomic_exchange(&fs->done, true)) {
		if (!atomic_exchange(&fs->warned, true))
			vmgenid_pr_warn("firmware", "write to the status port after boot ignored");
		return;
	}
	code = vmgenid_get_le32(data);
	if (code == FW_DONE)
		return;
	fprintf(stderr, "genvm: firmware: %s\n", firmware_describe(code));
	vm_request_exit(fs->vm, 1);
}

int firmware_status_save(struct firmware_status *fs, struct vmgenid_bytebuf *out)
{
	size_t start = vmgenid_state_section_begin(out, FIRMWARE_STATE_ID, FIRMWARE_STATE_VERSION);

	vmgenid_bytebuf_put_u8(out, atomic_load(&fs->done));
	vmgenid_state_section_end(out, start);
	return vmgenid_bytebuf_failed(out) ? -ENOMEM : 0;
}

int firmware_status_load(struct firmware_status *fs, const uint8_t *payload, uint32_t length,
			 uint32_t version, const char **why)
{
	if (version != FIRMWARE_STATE_VERSION) {
		*why = "unsupported firmware state version";
		return -EINVAL;
	}
	if (length != 1 || payload[0] > 1) {
		*why = "firmware state is not one byte of 0 or 1";
		return -EINVAL;
	}
	atomic_store(&fs->done, payload[0] == 1);
	return 0;
}
