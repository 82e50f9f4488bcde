/* SPDX-License-Identifier: MIT */
/*
 * The guest firmware image built from firmware/ and linked into genvm, and
 * the port on which the firmware reports success or failure.
 */
#ifndef GENVM_FIRMWARE_H
#define GENVM_FIRMWARE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct vm;

/* Copy the image into guest RAM where its header says; -1 (printed) on error. */
int firmware_load(struct vm *vm, uint64_t *entry, uint64_t *mem_end);

struct firmware_status {
	struct vm *vm;
	atomic_bool done;
};

/* io_fn for HANDOFF_EXIT_PORT. */
void firmware_status_io(void *opaque, uint64_t addr, uint8_t *data, uint32_t len, bool is_write);

/* "etc/table-loader failed: ..." for a status code (static buffer: setup thread only). */
const char *firmware_describe(uint32_t code);

#endif
