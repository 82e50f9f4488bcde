// SPDX-License-Identifier: MIT
/*
 * Enter Linux through the 64-bit boot protocol: genvm prepared the zero
 * page; we add the one thing only we know, where the RSDP ended up.  The
 * CPU state the protocol asks for (long mode, identity paging, __BOOT_CS
 * and __BOOT_DS, interrupts off) is the one genvm started us in.
 */
#include "fw.h"

#define BP_ACPI_RSDP_ADDR 0x070

void boot_linux(const struct handoff *h, uint64_t rsdp)
{
	uint8_t *bp = phys(h->boot_params);

	vmgenid_put_le64(bp + BP_ACPI_RSDP_ADDR, rsdp);
	outl(HANDOFF_EXIT_PORT, FW_DONE);
	__asm__ __volatile__("jmp *%0" : : "r"(h->kernel_entry), "S"(h->boot_params) : "memory");
	__builtin_unreachable();
}
