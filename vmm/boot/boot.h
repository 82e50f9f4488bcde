/* SPDX-License-Identifier: MIT */
/*
 * Everything in guest RAM before the first instruction: the firmware, the
 * Linux kernel, initrd and command line, the zero page with its E820 map,
 * identity page tables for the low 4 GiB, a GDT, and the handoff block.
 */
#ifndef GENVM_BOOT_H
#define GENVM_BOOT_H

#include <stdint.h>

#include "cli.h"
#include "vcpu.h"

struct vm;

struct boot_info {
	struct vcpu_boot_state cpu; /* how to start the boot vCPU */
	uint64_t kernel_entry;
	uint64_t initrd_addr;
	uint64_t high_start, high_end; /* the ALLOCATE HIGH zone */
};

/* Load and lay out everything; -1 with a message on failure. */
int boot_setup(struct vm *vm, const struct genvm_config *cfg, struct boot_info *out);

#endif
