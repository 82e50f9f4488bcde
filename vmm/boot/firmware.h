/* SPDX-License-Identifier: MIT */
/*
 * The guest firmware image built from firmware/ and linked into genvm.
 */
#ifndef GENVM_FIRMWARE_H
#define GENVM_FIRMWARE_H

#include <stdint.h>

struct vm;

/* Copy the image into guest RAM where its header says; -1 (printed) on error. */
int firmware_load(struct vm *vm, uint64_t *entry, uint64_t *mem_end);

#endif
