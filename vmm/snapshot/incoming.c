// SPDX-License-Identifier: MIT
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmgenid/vmgenid.h"

#include "cli.h"
#include "devices.h"
#include "incoming.h"
#include "layout.h"
#include "machine.h"
#include "snapdisk.h"
#include "snapshot.h"

static int fail(struct incoming *in, const char *why)
{
	snprintf(in->error, sizeof(in->error), "%s: %s", in->uri_text, why);
	fprintf(stderr, "genvm: incoming: %s\n", in->error);
	return -1;
}

/*
 * -m and -smp may repeat the snapshot's machine, or be left out.  When
 * the machine is built already (-incoming defer), it must be the
 * snapshot's, as QEMU requires of a migration's destination.
 */
static int settle_machine(struct incoming *in, const struct genvm_config *cfg, bool built)
{
	const struct snapfile_header *h = &in->header;
	char why[160], check[96];

	if (built) {
		if (cfg->ram_size != h->ram_size) {
			snprintf(why, sizeof(why),
				 "the snapshot is of a machine with %" PRIu64 "M of memory, this one "
				 "has %" PRIu64 "M (-m)", (uint64_t)(h->ram_size / MiB),
				 (uint64_t)(cfg->ram_size / MiB));
			return fail(in, why);
		}
		if (cfg->nr_cpus != h->nr_cpus) {
			snprintf(why, sizeof(why),
				 "the snapshot is of a machine with %u vCPUs, this one has %u (-smp)",
				 h->nr_cpus, cfg->nr_cpus);
			return fail(in, why);
		}
		return 0;
	}
	if (cfg->ram_size_given && cfg->ram_size != h->ram_size) {
		snprintf(why, sizeof(why),
			 "the snapshot is of a machine with %" PRIu64 "M of memory, -m asks for %"
			 PRIu64 "M", (uint64_t)(h->ram_size / MiB), (uint64_t)(cfg->ram_size / MiB));
		return fail(in, why);
	}
	if (cfg->nr_cpus_given && cfg->nr_cpus != h->nr_cpus) {
		snprintf(why, sizeof(why),
			 "the snapshot is of a machine with %u vCPUs, -smp asks for %u",
			 h->nr_cpus, cfg->nr_cpus);
		return fail(in, why);
	}
	/*
	 * What -m would be refused for, the header is: a sparse or crafted file
	 * can claim any size, and a tiny one would fail only once built.
	 */
	if (cli_check_memory(cfg, h->ram_size, cfg->host_ram, check, sizeof(check)) < 0) {
		if (h->ram_size % MiB)
			snprintf(why, sizeof(why), "memory of %" PRIu64 " bytes: %s", h->ram_size,
				 check);
		else
			snprintf(why, sizeof(why), "memory %" PRIu64 "M: %s",
				 (uint64_t)(h->ram_size / MiB), check);
		return fail(in, why);
	}
	return 0;
}

/* Header and state sections, checked, from the URI in in->uri. */
static int read_header_and_state(struct incoming *in, const struct genvm_config *cfg, bool built)
{
	uint8_t raw[SNAPFILE_HEADER_SIZE];
	char why[256];

	if (snapreader_open(&in->uri, &in->reader, why, sizeof(why)) < 0) {
		/* A descriptor handed over (migrate-incoming fd:NAME) is ours to close. */
		if (built && in->uri.kind == SNAPURI_FD)
			close(in->uri.fd);
		return fail(in, why);
	}
	in->reader_open = true;
	if (snapreader_read(&in->reader, raw, sizeof(raw), why, sizeof(why)) < 0 ||
	    snapfile_decode(raw, sizeof(raw), &in->header, why, sizeof(why)) < 0)
		return fail(in, why);
	if (in->uri.kind == SNAPURI_FILE &&
	    snapfile_check_size(&in->header, in->reader.size, why, sizeof(why)) < 0)
		return fail(in, why);
	if (settle_machine(in, cfg, built) < 0)
		return -1;

	in->state = malloc(in->header.state_length ? in->header.state_length : 1);
	if (!in->state)
		return fail(in, "out of memory for the state sections");
	if (snapreader_skip(&in->reader, in->header.state_offset - SNAPFILE_HEADER_SIZE, why,
			    sizeof(why)) < 0 ||
	    snapreader_read(&in->reader, in->state, in->header.state_length, why, sizeof(why)) < 0 ||
	    snapfile_check_state(&in->header, in->state, why, sizeof(why)) < 0)
		return fail(in, why);
	return 0;
}

int incoming_open(struct incoming *in, struct genvm_config *cfg)
{
	char why[256];

	memset(in, 0, sizeof(*in));
	in->uri_text = cfg->incoming;
	if (snapuri_parse(cfg->incoming, &in->uri, why, sizeof(why)) < 0)
		return fail(in, why);
	/* Messages name the file or command, as the user wrote it. */
	in->uri_text = in->uri.arg;
	if (read_header_and_state(in, cfg, false) < 0)
		return -1;
	cfg->ram_size = in->header.ram_size;
	cfg->nr_cpus = in->header.nr_cpus;
	return 0;
}

int incoming_restore(struct machine *m, const struct snapuri *uri, void (*on_fatal)(void),
		     char *why, size_t why_len)
{
	struct restore_times restore = { .start_ns = restore_clock_ns() };
	struct incoming *in = calloc(1, sizeof(*in));
	uint64_t offset = 0;
	int ret = -1, fd, err;

	if (!in) {
		snprintf(why, why_len, "out of memory");
		if (uri->kind == SNAPURI_FD)
			close(uri->fd);
		return -1;
	}
	in->uri = *uri;
	in->uri_text = in->uri.arg;
	if (read_header_and_state(in, m->cfg, true) < 0)
		goto out;
	restore.end_ns[RESTORE_OPEN] = restore_clock_ns();
	/* A file's RAM image is mapped over guest RAM, as -incoming file: maps it. */
	fd = incoming_ram_fd(in, &offset);
	if (fd >= 0) {
		err = vm_map_ram_file(&m->vm, fd, offset);
		if (err < 0) {
			char text[160];

			snprintf(text, sizeof(text), "mapping the snapshot's guest RAM: %s",
				 strerror(-err));
			fail(in, text);
			goto out;
		}
		if (vm_watch_ram_file(&m->vm, in->uri.arg, fd, offset, on_fatal) < 0) {
			fail(in, "cannot watch the snapshot file");
			goto out;
		}
	}
	restore.end_ns[RESTORE_MAP] = restore_clock_ns();
	if (incoming_finish(in, m) < 0)
		goto out;
	restore.end_ns[RESTORE_STATE] = in->loaded_ns;
	restore.end_ns[RESTORE_VMGENID] = restore_clock_ns();
	restore.restored = true;
	m->restore = restore;
	ret = 0;
out:
	if (ret < 0)
		snprintf(why, why_len, "%s", in->error);
	incoming_close(in);
	free(in);
	return ret;
}

int incoming_ram_fd(const struct incoming *in, uint64_t *offset)
{
	if (in->uri.kind != SNAPURI_FILE)
		return -1;
	*offset = in->header.ram_offset;
	return in->reader.fd;
}

int incoming_finish(struct incoming *in, struct machine *m)
{
	const struct snapfile_header *h = &in->header;
	char why[256];
	int ret;

	if (in->uri.kind != SNAPURI_FILE) { /* a stream: RAM comes after the state */
		uint64_t pos = h->state_offset + h->state_length;

		if (snapreader_skip(&in->reader, h->ram_offset - pos, why, sizeof(why)) < 0 ||
		    snapreader_read(&in->reader, m->vm.ram, h->ram_length, why, sizeof(why)) < 0)
			return fail(in, why);
	}
	/* The drives' region follows the RAM; it is checked before any guest runs. */
	char dwhy[SNAPURI_MAX + 256];

	if (snapdisk_load(in, m, dwhy, sizeof(dwhy)) < 0)
		return fail(in, dwhy);
	/* The command must also have succeeded: a failing gunzip is a bad image. */
	ret = snapreader_close(&in->reader, why, sizeof(why));
	in->reader_open = false;
	if (ret < 0)
		return fail(in, why);
	if (snapshot_load_state(m, in->state, h->state_length, why, sizeof(why)) < 0)
		return fail(in, why);
	/*
	 * The destination's GUID wins (the spec): guid=auto or another
	 * explicit GUID is written and the guest notified; the same GUID as
	 * the source had means no write and no notification.
	 */
	in->loaded_ns = restore_clock_ns();
	if (m->vmgenid)
		vmgenid_dev_post_load(m->vmgenid);
	/* Every load is a new generation for VMClock, whatever the GUID did. */
	if (m->vmclock)
		vmgenid_vmclock_post_load(m->vmclock);
	/* The host ends of the guest's vsock connections stayed with the source. */
	virtio_devices_post_load(m);
	return 0;
}

void incoming_close(struct incoming *in)
{
	/* Only a failed restore gets here with the reader open. */
	if (in->reader_open)
		snapreader_abort(&in->reader);
	in->reader_open = false;
	free(in->state);
	in->state = NULL;
}
