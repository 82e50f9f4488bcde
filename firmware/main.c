// SPDX-License-Identifier: MIT
/*
 * genvm's firmware, as a boot script: find fw_cfg, let etc/table-loader
 * place the ACPI tables and the vmgenid page (writing the page's address
 * back over DMA), then enter Linux through its 64-bit boot protocol.
 */
#include "fw.h"

void fw_main(uint64_t handoff_addr);

void fw_main(uint64_t handoff_addr)
{
	struct handoff h;
	uint64_t rsdp;

	handoff_decode(phys(handoff_addr), &h);
	if (h.magic != HANDOFF_MAGIC || h.version != HANDOFF_VERSION)
		fw_fail(fw_code(FW_E_HANDOFF, 0), "bad handoff block");

	fw_cfg_setup();
	rsdp = load_tables(&h);
	boot_linux(&h, rsdp);
}
