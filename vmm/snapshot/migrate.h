/* SPDX-License-Identifier: MIT */
/*
 * The outgoing side of a snapshot: QMP's migrate to "file:PATH" or
 * "exec:COMMAND".
 *
 * The main loop stops the vCPUs and collects the device state (small, and
 * consistent only while it holds the machine still); a writer thread then
 * streams header, state and guest RAM out, so QMP keeps answering during
 * a save of any size.  On success the machine stays stopped, as QEMU's
 * does after a migration ("postmigrate"; cont resumes it).  On failure it
 * carries on as it was, and query-migrate says why.
 */
#ifndef GENVM_MIGRATE_H
#define GENVM_MIGRATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct control;
struct migration;

enum migrate_status {
	MIGRATE_NONE, /* none yet: query-migrate returns {} */
	MIGRATE_ACTIVE,
	MIGRATE_COMPLETED,
	MIGRATE_FAILED,
};

struct migrate_info {
	enum migrate_status status;
	uint64_t total_ms; /* from the command to the end, once ended */
	uint64_t bytes;    /* bytes of snapshot written, holes included */
	const char *error; /* MIGRATE_FAILED: why */
};

struct migration *migration_new(struct control *c);
/* Cancels a save in progress (the temporary file goes, a command is killed). */
void migration_free(struct migration *mg);

/* Start a save; 0, or -1 with why filled in (nothing changed then). */
/* fd: a "fd:NAME" URI's descriptor, which the save owns once it started (else -1). */
int migration_start(struct migration *mg, const char *uri, int fd, char *why, size_t why_len);
void migration_info(const struct migration *mg, struct migrate_info *out);
bool migration_active(const struct migration *mg);
const char *migrate_status_name(enum migrate_status s);

#endif
