/* SPDX-License-Identifier: MIT */
/*
 * The machine's drives in a snapshot: which disks, in which order, and the
 * calls migrate.c and incoming.c make (the region itself is block/delta.c).
 *
 * A snapshot lists the drives in the order of their virtio-blk devices on
 * the command line (their MMIO slots), so the same command line finds the
 * same drives in the same places.
 */
#ifndef GENVM_SNAPDISK_H
#define GENVM_SNAPDISK_H

#include <stddef.h>

#include "delta.h"

struct machine;
struct disk;
struct incoming;

/* The machine's disks in slot order; their count. */
unsigned int snapdisk_list(struct machine *m, struct disk **out);

/* Save: plan the region while the machine is stopped (0, or -1 with why). */
int snapdisk_plan(struct machine *m, struct disk_region *r, char *why, size_t why_len);

/* Restore: check the snapshot's drives against these and give them their writes. */
int snapdisk_load(struct incoming *in, struct machine *m, char *why, size_t why_len);

#endif
