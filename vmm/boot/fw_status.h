/* SPDX-License-Identifier: MIT */
/*
 * The port on which genvm's firmware reports success or failure
 * (HANDOFF_EXIT_PORT), and whether the firmware phase is over.
 */
#ifndef GENVM_FW_STATUS_H
#define GENVM_FW_STATUS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct vm;

/*
 * The firmware phase: from power-on (or reset) to the first report on
 * HANDOFF_EXIT_PORT.  A failure reported in it ends genvm with status 1;
 * anything written to the port after it is ignored and logged once.
 */
struct firmware_status {
	struct vm *vm;
	atomic_bool done;   /* the phase is over */
	atomic_bool warned; /* a later write has been logged */
};

/* io_fn for HANDOFF_EXIT_PORT. */
void firmware_status_io(void *opaque, uint64_t addr, uint8_t *data, uint32_t len, bool is_write);

/*
 * Snapshot: the "firmware" section says whether the phase was over; a
 * machine restored from a snapshot taken after it (or from one written
 * before the section existed) does not run the firmware again.  Load: 0,
 * or -EINVAL with *why.
 */
#define FIRMWARE_STATE_ID "firmware"
#define FIRMWARE_STATE_VERSION 1
struct vmgenid_bytebuf;
int firmware_status_save(struct firmware_status *fs, struct vmgenid_bytebuf *out);
int firmware_status_load(struct firmware_status *fs, const uint8_t *payload, uint32_t length,
			 uint32_t version, const char **why);

/* "etc/table-loader failed: ..." for a status code (static buffer: setup thread only). */
const char *firmware_describe(uint32_t code);

#endif
