/* SPDX-License-Identifier: MIT */
/*
 * What vmgenid watch saw last, kept on disk (default /var/lib/vmgenid/state)
 * so that a watch starting later can tell whether the VM changed while no
 * watch ran: a clone booted cold from a copied disk, a restore during a
 * service restart.  A small key=value text file, replaced atomically.
 */
#ifndef VMGENID_GUEST_GENSTATE_H
#define VMGENID_GUEST_GENSTATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmgenid/guid.h"

#define GENSTATE_FILE "state"
#define GENSTATE_MAX 4096 /* a state file is under 200 bytes; more is not ours */

struct genstate {
	bool guid_known;
	struct vmgenid_guid guid;
	bool counter_known;
	uint64_t counter;  /* VMClock's vm_generation_counter */
	char boot_id[40];  /* the kernel's boot_id, "" if unknown */
};

/* The file's text; 0, or -EINVAL with why (a line it cannot take). */
int genstate_parse(const char *text, size_t len, struct genstate *s, char *why, size_t cap);
/* The file's text for s, NUL-terminated; the length. */
size_t genstate_format(const struct genstate *s, char *out, size_t cap);

/* DIR/state: 0, -ENOENT (never written), or an error with why. */
int genstate_load(const char *dir, struct genstate *s, char *why, size_t cap);
/* Written to DIR/state.tmp, synced, renamed over DIR/state (DIR made if
 * missing, with its parents); 0 or negative errno with why. */
int genstate_save(const char *dir, const struct genstate *s, char *why, size_t cap);

enum genstate_verdict {
	GENSTATE_SAME,
	GENSTATE_CHANGED,
	GENSTATE_UNKNOWN, /* nothing the two have in common tells */
};

/*
 * Did the generation change between saved and now?  The GUIDs decide when
 * both are known.  Without them the counters decide, but only within one
 * boot: a VMM starts the counter afresh at power-on, so across boots a
 * different counter may be a plain power cycle and an equal one a clone.
 */
enum genstate_verdict genstate_compare(const struct genstate *saved, const struct genstate *now);

#endif
