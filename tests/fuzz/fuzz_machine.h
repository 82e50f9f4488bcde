/* SPDX-License-Identifier: MIT */
/*
 * genvm's fw_cfg as a guest finds it, without KVM: the ACPI tables, the
 * table-loader script and the vmgenid device's two files, on a small guest
 * RAM (FUZZ_RAM_SIZE bytes at FUZZ_RAM_BASE).  The fw_cfg target drives it
 * with fuzzed port I/O; gen_corpus records a real firmware session against
 * it, so the seeds and the target see the same files at the same selectors.
 */
#ifndef VMGENID_FUZZ_MACHINE_H
#define VMGENID_FUZZ_MACHINE_H

#include <stdint.h>

#include "vmgenid/bytebuf.h"
#include "vmgenid/fw_cfg.h"
#include "vmgenid/guest_mem.h"
#include "vmgenid/vmgenid.h"

#include "fuzz.h"

#define FUZZ_GUID_TEXT "324e6eaf-d1d1-4bf6-bf41-b9bb6c91fb87"

struct fuzz_machine {
	uint8_t *ram; /* the caller's FUZZ_RAM_SIZE bytes */
	struct vmgenid_guest_mem mem;
	struct vmgenid_fw_cfg *fw;
	struct vmgenid_dev *vmgenid;
	unsigned int notified; /* vmgenid notifications */
};

/* 0, or -1 when out of memory (the caller aborts). */
int fuzz_machine_init(struct fuzz_machine *m, uint8_t *ram);
void fuzz_machine_destroy(struct fuzz_machine *m);

/* The ACPI blobs the machine serves (built once, shared, read-only). */
const struct vmgenid_bytebuf *fuzz_machine_tables(void);
const struct vmgenid_bytebuf *fuzz_machine_rsdp(void);
const struct vmgenid_bytebuf *fuzz_machine_loader(void);

/* Drop the library's log lines: a fuzzer provokes millions of warnings. */
void fuzz_quiet_logs(void);

#endif
