// SPDX-License-Identifier: MIT
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "vmgenid/bytebuf.h"

#include "control.h"
#include "loop.h"
#include "machine.h"
#include "migrate.h"
#include "sandbox.h"
#include "snapdisk.h"
#include "snapfile.h"
#include "snapshot.h"
#include "snapstream.h"

struct migration {
	struct control *ctl;
	struct machine *m;
	struct loop *loop;
	int done_fd; /* the writer thread's "finished", for the main loop */

	enum migrate_status status;
	enum runstate resume_state; /* where a failed save leaves the machine */
	struct timespec start;
	uint64_t total_ms;
	uint64_t bytes;
	char error[SNAPURI_MAX + 400];

	/* Owned by the writer thread while it runs. */
	pthread_t thread;
	bool thread_live;
	struct snapuri uri;
	struct snapwriter w;
	struct vmgenid_bytebuf state;
	struct disk_region disks; /* planned while stopped, written after the RAM */
	int thread_ret;
	char thread_why[320];
};

static const char *const status_names[] = {
	[MIGRATE_NONE] = "none",
	[MIGRATE_ACTIVE] = "active",
	[MIGRATE_COMPLETED] = "completed",
	[MIGRATE_FAILED] = "failed",
};

const char *migrate_status_name(enum migrate_status s)
{
	return (unsigned int)s < sizeof(status_names) / sizeof(status_names[0]) ? status_names[s]
										   : "unknown";
}

static uint64_t ms_since(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (uint64_t)(now.tv_sec - t0->tv_sec) * 1000u +
	       (uint64_t)((now.tv_nsec - t0->tv_nsec) / 1000000);
}

/* Zeros up to the snapshot offset "to" (the gaps the layout leaves). */
static void pad_to(struct snapwriter *w, uint64_t to)
{
	static const uint8_t zeros[SNAPFILE_PAGE];

	while (w->pos < to) {
		uint64_t n = to - w->pos < sizeof(zeros) ? to - w->pos : sizeof(zeros);

		if (snapwriter_write(w, zeros, (size_t)n) < 0)
			return;
	}
}

/*
 * Header, state, RAM, commit.  The machine is stopped and the main loop
 * leaves it so until this thread says it is done: RAM is stable.
 */
static void *writer_thread(void *arg)
{
	struct migration *mg = arg;
	struct vm *vm = &mg->m->vm;
	struct snapfile_header h;
	uint8_t header[SNAPFILE_HEADER_SIZE];
	uint64_t one = 1;
	int err = sandbox_enter(SANDBOX_MIGRATE);

	if (err < 0) {
		snapwriter_abort(&mg->w);
		snprintf(mg->thread_why, sizeof(mg->thread_why), "sandbox: %s", strerror(-err));
		mg->thread_ret = err;
		goto done;
	}
	snapfile_layout(&h, vm->ram_size, vm->nr_cpus, mg->state.data, mg->state.len);
	snapfile_layout_disks(&h, mg->disks.length);
	snapfile_encode(&h, header);
	/* Writes are sticky on error; commit reports the first one. */
	snapwriter_write(&mg->w, header, sizeof(header));
	pad_to(&mg->w, h.state_offset);
	snapwriter_write(&mg->w, mg->state.data, mg->state.len);
	pad_to(&mg->w, h.ram_offset);
	snapwriter_write_ram(&mg->w, vm->ram, vm->ram_size);
	if (mg->disks.length) {
		pad_to(&mg->w, h.disk_offset);
		/* The drives stay quiesced: the machine is stopped until this thread is done. */
		if (disk_region_save(&mg->disks, &mg->w, mg->thread_why, sizeof(mg->thread_why)) &&
		    !mg->w.err) {
			/* A drive failed, not the writer: make sure nothing is committed. */
			snapwriter_abort(&mg->w);
			mg->thread_ret = -EIO;
			goto done;
		}
	}
	mg->bytes = mg->w.pos;
	mg->thread_ret = snapwriter_commit(&mg->w, mg->thread_why, sizeof(mg->thread_why));
done:
	if (write(mg->done_fd, &one, sizeof(one)) < 0)
		fprintf(stderr, "genvm: migrate: eventfd: %s\n", strerror(errno));
	return NULL;
}

/* QEMU's MIGRATION event, which libvirt waits for rather than polling. */
static void migration_event(struct migration *mg, const char *status)
{
	control_event(mg->ctl, "MIGRATION", json_pack("{s:s}", "status", status));
}

/* Main loop: the writer is done; settle the run state. */
static void on_done(struct loop *l, int fd, unsigned int events, void *opaque)
{
	struct migration *mg = opaque;
	struct control *c = mg->ctl;
	const char *why = NULL;
	uint64_t n;

	(void)l;
	(void)events;
	if (read(fd, &n, sizeof(n)) < 0 || !mg->thread_live)
		return;
	pthread_join(mg->thread, NULL);
	mg->thread_live = false;
	vmgenid_bytebuf_free(&mg->state);
	disk_region_free(&mg->disks);
	mg->total_ms = ms_since(&mg->start);
	if (mg->thread_ret == 0) {
		mg->status = MIGRATE_COMPLETED;
		control_set_runstate(c, RUNSTATE_POSTMIGRATE);
		migration_event(mg, "completed");
	} else {
		snprintf(mg->error, sizeof(mg->error), "%s: %s", mg->uri.arg, mg->thread_why);
		fprintf(stderr, "genvm: migrate: %s\n", mg->error);
		mg->status = MIGRATE_FAILED;
		migration_event(mg, "failed");
		/* The save cost the guest nothing: it goes on as it was. */
		control_set_runstate(c, RUNSTATE_PAUSED);
		if (mg->resume_state == RUNSTATE_RUNNING)
			control_cont(c, &why);
		else
			control_set_runstate(c, mg->resume_state);
	}
	/* RAM is ours again: a guest reset that came meanwhile happens now. */
	control_migration_ended(c);
}

struct migration *migration_new(struct control *c)
{
	struct migration *mg = calloc(1, sizeof(*mg));

	if (!mg)
		return NULL;
	mg->ctl = c;
	mg->m = control_machine(c);
	mg->loop = control_loop(c);
	mg->done_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (mg->done_fd < 0 || loop_add_fd(mg->loop, mg->done_fd, LOOP_READ, on_done, mg) < 0) {
		if (mg->done_fd >= 0)
			close(mg->done_fd);
		free(mg);
		return NULL;
	}
	vmgenid_bytebuf_init(&mg->state);
	return mg;
}

void migration_free(struct migration *mg)
{
	if (!mg)
		return;
	if (mg->thread_live) {
		/*
		 * genvm is exiting mid-save.  A command may never drain its
		 * pipe: kill it, and the writer's next write fails.  A file
		 * save ends by itself.  Either way the writer cleans up.
		 */
		if (mg->w.kind == SNAPURI_EXEC && mg->w.pid > 0)
			kill(-mg->w.pid, SIGKILL);
		pthread_join(mg->thread, NULL);
	}
	loop_del_fd(mg->loop, mg->done_fd);
	close(mg->done_fd);
	vmgenid_bytebuf_free(&mg->state);
	disk_region_free(&mg->disks);
	free(mg);
}

bool migration_active(const struct migration *mg)
{
	return mg && mg->status == MIGRATE_ACTIVE;
}

void migration_info(const struct migration *mg, struct migrate_info *out)
{
	memset(out, 0, sizeof(*out));
	out->status = mg->status;
	if (mg->status == MIGRATE_ACTIVE) {
		out->total_ms = ms_since(&mg->start);
	} else {
		out->total_ms = mg->total_ms;
		out->bytes = mg->bytes;
	}
	if (mg->status == MIGRATE_FAILED)
		out->error = mg->error;
}

int migration_start(struct migration *mg, const char *uri, int fd, char *why, size_t why_len)
{
	struct control *c = mg->ctl;
	enum runstate state = control_runstate(c);
	const char *stop_why = NULL;
	char msg[320];
	int ret;

	if (mg->status == MIGRATE_ACTIVE) {
		snprintf(why, why_len, "There's a migration process in progress");
		return -1;
	}
	if (control_exiting(c) || state == RUNSTATE_INMIGRATE || state == RUNSTATE_SHUTDOWN ||
	    state == RUNSTATE_INTERNAL_ERROR) {
		snprintf(why, why_len, "cannot save the machine in state '%s'",
			 runstate_name(state));
		return -1;
	}
	if (snapuri_parse(uri, &mg->uri, msg, sizeof(msg)) < 0) {
		snprintf(why, why_len, "%s", msg);
		return -1;
	}
	if (mg->uri.kind == SNAPURI_FD && fd >= 0)
		mg->uri.fd = fd;
	if (snapwriter_open(&mg->uri, &mg->w, msg, sizeof(msg)) < 0) {
		snprintf(why, why_len, "%s: %s", mg->uri.arg, msg);
		return -1;
	}

	clock_gettime(CLOCK_MONOTONIC, &mg->start);
	mg->resume_state = state;
	if (state == RUNSTATE_RUNNING && control_stop(c, &stop_why) < 0) {
		snapwriter_abort(&mg->w);
		snprintf(why, why_len, "%s", stop_why);
		return -1;
	}
	control_set_runstate(c, RUNSTATE_FINISH_MIGRATE);

	vmgenid_bytebuf_free(&mg->state);
	vmgenid_bytebuf_init(&mg->state);
	if (snapshot_save_state(mg->m, &mg->state) < 0) {
		snprintf(why, why_len, "collecting the machine's state failed");
		goto undo;
	}
	if (snapdisk_plan(mg->m, &mg->disks, msg, sizeof(msg)) < 0) {
		snprintf(why, why_len, "%s", msg);
		goto undo;
	}
	mg->error[0] = '\0';
	mg->bytes = 0;
	mg->status = MIGRATE_ACTIVE;
	ret = pthread_create(&mg->thread, NULL, writer_thread, mg);
	if (ret) {
		mg->status = MIGRATE_FAILED;
		snprintf(why, why_len, "cannot start the writer thread: %s", strerror(ret));
		snprintf(mg->error, sizeof(mg->error), "%s", why);
		goto undo;
	}
	mg->thread_live = true;
	migration_event(mg, "setup");
	migration_event(mg, "active");
	return 0;

undo:
	snapwriter_abort(&mg->w);
	vmgenid_bytebuf_free(&mg->state);
	disk_region_free(&mg->disks);
	control_set_runstate(c, RUNSTATE_PAUSED);
	if (mg->resume_state == RUNSTATE_RUNNING)
		control_cont(c, &stop_why);
	else
		control_set_runstate(c, mg->resume_state);
	return -1;
}
