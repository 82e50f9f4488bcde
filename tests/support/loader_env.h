/* SPDX-License-Identifier: MIT */
/*
 * A stand-in for guest firmware in host tests: a flat guest RAM from address
 * 0, a table of fw_cfg-like files, and the bios_loader_ops that the real
 * table-loader executor needs.  FSEG allocations go up from 0xE0000, HIGH
 * ones down from a chosen top, as SeaBIOS and our firmware do.
 */
#ifndef VMGENID_TEST_LOADER_ENV_H
#define VMGENID_TEST_LOADER_ENV_H

#include <stdbool.h>
#include <stdint.h>

#include "vmgenid/bios_loader.h"
#include "vmgenid/bytebuf.h"
#include "vmgenid/guest_mem.h"

#define LOADER_ENV_MAX_FILES 8
#define LOADER_ENV_FSEG_START 0xe0000u
#define LOADER_ENV_FSEG_END 0x100000u

struct loader_env_file {
	const char *name;
	uint8_t *data;
	uint32_t size;
	bool writable;
};

struct loader_env {
	struct vmgenid_guest_mem mem;
	uint8_t *ram;
	uint64_t ram_size;
	uint64_t fseg_next;
	uint64_t high_next; /* HIGH allocations end below this */
	struct loader_env_file files[LOADER_ENV_MAX_FILES];
	unsigned int nr_files;
	struct vmgenid_bios_loader_exec exec;
};

/* RAM of ram_size bytes at 0; HIGH allocations go down from high_top. 0 or -errno. */
int loader_env_init(struct loader_env *e, uint64_t ram_size, uint64_t high_top);
void loader_env_free(struct loader_env *e);

/* The data is referenced, not copied; writable files take WRITE_POINTER writes. */
int loader_env_add_file(struct loader_env *e, const char *name, uint8_t *data, uint32_t size,
			bool writable);

/* Run a table-loader script: vmgenid_bios_loader_run()'s result. */
int loader_env_run(struct loader_env *e, const struct vmgenid_bytebuf *script);

/* Guest address of an allocated file, or 0. */
uint64_t loader_env_addr(const struct loader_env *e, const char *name);

/* Host view of [gpa, gpa + len), or NULL when it is not all in RAM. */
uint8_t *loader_env_ptr(const struct loader_env *e, uint64_t gpa, uint64_t len);

#endif
