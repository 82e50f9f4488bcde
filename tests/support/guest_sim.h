/* SPDX-License-Identifier: MIT */
/*
 * A simulated guest for library tests: a block of "guest RAM" at a guest
 * physical base that differs from its host address (so host pointers and
 * guest addresses cannot be confused unnoticed), an fw_cfg device on it, and
 * the guest-side fw_cfg client wired to the device's port I/O, as firmware
 * would drive it.
 */
#ifndef VMGENID_TEST_GUEST_SIM_H
#define VMGENID_TEST_GUEST_SIM_H

#include <stdint.h>

#include "vmgenid/fw_cfg.h"
#include "vmgenid/fw_cfg_guest.h"
#include "vmgenid/guest_mem.h"

#define SIM_RAM_BASE 0x100000ull
#define SIM_RAM_SIZE (2u << 20)

struct guest_sim {
	uint8_t *ram;                 /* SIM_RAM_SIZE bytes at SIM_RAM_BASE */
	struct vmgenid_guest_mem mem;
	struct vmgenid_fw_cfg *fw;
	struct vmgenid_fw_cfg_guest_ops ops;
	struct vmgenid_fw_cfg_guest client;
	uint64_t scratch;             /* guest address of a 4 KiB scratch page */
	uint64_t next_free;           /* bump allocator for the loader */
	unsigned int warnings;        /* vmgenid_pr_warn() calls seen while active */
};

/* Allocate RAM, create the device; the client is initialised by guest_sim_boot. */
void guest_sim_init(struct guest_sim *s);
/* Initialise the guest client (after files are registered). */
void guest_sim_connect(struct guest_sim *s);
void guest_sim_destroy(struct guest_sim *s);

static inline uint8_t *guest_sim_hva(struct guest_sim *s, uint64_t gpa)
{
	return vmgenid_guest_mem_ptr(&s->mem, gpa, 1);
}

/* Write len bytes into fw_cfg file name at offset, over DMA, as firmware does. */
int guest_sim_file_write(struct guest_sim *s, const char *name, uint32_t offset,
			 const void *src, uint32_t len);
/* Read a whole fw_cfg file into dst (cap bytes): its size, or -1. */
long guest_sim_file_read(struct guest_sim *s, const char *name, void *dst, uint32_t cap);
/* Run etc/table-loader as firmware would; vmgenid_bios_loader_run's return value. */
int guest_sim_run_loader(struct guest_sim *s, struct vmgenid_bios_loader_exec *exec);
/* Guest address the loader gave file name, or 0. */
uint64_t guest_sim_file_addr(const struct vmgenid_bios_loader_exec *exec, const char *name);

#endif
