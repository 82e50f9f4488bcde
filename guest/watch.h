/* SPDX-License-Identifier: MIT */
/*
 * vmgenid watch: block until the generation changes (the GUID, or VMClock's
 * generation counter), report each change and run the hooks for it; at the
 * start, report a change that happened while no watch ran.
 */
#ifndef VMGENID_GUEST_WATCH_H
#define VMGENID_GUEST_WATCH_H

#include <stdbool.h>
#include <stddef.h>

struct watch_opts {
	bool json;
	const char *exec;        /* run with /bin/sh -c after each change, or NULL */
	unsigned int interval_ms;
	bool interval_given;     /* poll even when kernel events are available */
	bool once;               /* stop after the first change */
	const char *state_dir;   /* NULL: no state file */
	const char *hooks_dir;   /* NULL: no drop-in hooks */
	unsigned int hook_timeout_ms;
};

/* Runs until a signal (or the first change with once); the exit code. */
int watch_run(const struct watch_opts *o);

/* Does a NUL-separated uevent message carry NEW_VMGENID=1? */
bool watch_uevent_is_vmgenid(const char *msg, size_t len);

/* Is this /dev/kmsg record the RNG's VM fork reseed? */
bool watch_kmsg_is_fork(const char *record);

#endif
