/* SPDX-License-Identifier: MIT */
/*
 * The machine's state as snapshot sections, out and back in.
 *
 * Saving happens with the vCPUs paused: KVM's VM-wide state (irqchip, PIT,
 * kvmclock), each vCPU, then the devices.  Restoring goes in two passes over
 * the sections: the first checks that each is known, well formed, present
 * exactly once and fits this machine, without touching anything; only then
 * does the second apply them, KVM first, so that devices that drive an
 * interrupt line do it into the restored irqchip.
 */
#ifndef GENVM_SNAPSHOT_H
#define GENVM_SNAPSHOT_H

#include <stddef.h>

struct vmgenid_bytebuf;
struct machine;

/* Append every section of a paused machine: 0, or -1 (printed). */
int snapshot_save_state(struct machine *m, struct vmgenid_bytebuf *out);

/*
 * Apply sections to a machine built from the same configuration (vCPUs
 * created, not started).  0, or -1 with why (a sentence naming the section
 * and what is wrong) filled in.
 */
int snapshot_load_state(struct machine *m, const void *state, size_t len, char *why,
			size_t why_len);

#endif
