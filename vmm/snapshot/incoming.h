/* SPDX-License-Identifier: MIT */
/*
 * -incoming: start a machine from a snapshot instead of booting it.
 *
 * incoming_open() runs before the machine exists: it reads and checks the
 * header and the state sections, and settles the machine's memory size and
 * vCPU count (the snapshot's, which -m and -smp may repeat but not
 * contradict).  A file: snapshot's RAM image is then mapped copy-on-write
 * by vm_create(); an exec: stream's is read into anonymous RAM by
 * incoming_finish(), which also applies the state and updates the vmgenid
 * device.  Any failure is printed as "genvm: incoming: ..." and no vCPU
 * has run.
 */
#ifndef GENVM_INCOMING_H
#define GENVM_INCOMING_H

#include <stdint.h>

#include "snapfile.h"
#include "snapstream.h"

struct genvm_config;
struct machine;

struct incoming {
	const char *uri_text;
	struct snapuri uri;
	struct snapreader reader;
	bool reader_open;
	struct snapfile_header header;
	uint8_t *state;
	uint64_t loaded_ns; /* state loaded, GUID not yet written (restore_times) */
	char error[SNAPURI_MAX + 320]; /* the last failure, as printed without "genvm: incoming: " */
};

/* 0, or -1 (printed).  cfg's ram_size and nr_cpus are the snapshot's after. */
int incoming_open(struct incoming *in, struct genvm_config *cfg);

/* The RAM image for vm_create(): a file descriptor and offset, or -1. */
int incoming_ram_fd(const struct incoming *in, uint64_t *offset);

/* Fill RAM (exec:), load the state, update the GUID: 0, or -1 (printed). */
int incoming_finish(struct incoming *in, struct machine *m);

void incoming_close(struct incoming *in);

/*
 * -incoming defer, at QMP migrate-incoming: the whole restore into the
 * machine m built already (its -m and -smp must be the snapshot's), whose
 * vCPUs have not run.  uri is parsed; an SNAPURI_FD's descriptor is taken
 * over (closed at the end, whatever happens).  The same checks, RAM
 * (mapped for file:, read for a stream), state, GUID change and notify as
 * -incoming URI, and m->restore's phase times.  0, or -1 with why (also
 * printed as "genvm: incoming: ..."); a failure after the header and
 * state were read leaves RAM or vCPU state partly loaded.  on_fatal as for
 * vm_watch_ram_file().
 */
int incoming_restore(struct machine *m, const struct snapuri *uri, void (*on_fatal)(void),
		     char *why, size_t why_len);

#endif
