// SPDX-License-Identifier: MIT
/*
 * How long each phase of a restore (-incoming) took, as query-migrate on the
 * destination reports it (docs/qmp.md, "x-restore-phases"): where the time
 * between launch and a running clone goes, measured with CLOCK_MONOTONIC by
 * genvm itself rather than guessed from outside.
 */
#ifndef GENVM_RESTORE_TIMES_H
#define GENVM_RESTORE_TIMES_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

/* In the order they happen; each ends where the next begins. */
enum restore_phase {
	RESTORE_OPEN,      /* read and check the header and state sections */
	RESTORE_MAP,       /* create the VM, map the RAM image */
	RESTORE_STATE,     /* fill RAM (exec:), load vCPU and device state */
	RESTORE_VMGENID,   /* write the new GUID, notify the guest */
	RESTORE_FIRST_RUN, /* until a vCPU's first KVM_RUN */
	RESTORE_NR_PHASES,
};

struct restore_times {
	bool restored;   /* the machine came from -incoming */
	uint64_t start_ns; /* genvm's start */
	uint64_t end_ns[RESTORE_NR_PHASES]; /* 0: not reached (yet) */
};

uint64_t restore_clock_ns(void);

const char *restore_phase_name(enum restore_phase p);

/*
 * [{"phase": NAME, "us": DURATION, "end-us": SINCE_START}, ...], in phase
 * order, the phases reached so far only (the first KVM_RUN may not have
 * happened yet, under -S); NULL when out of memory.
 */
json_t *restore_times_json(const struct restore_times *t);

#endif
