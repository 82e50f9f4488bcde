// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vmgenid/guid.h"
#include "vmgenid/vmgenid.h"

#include "console.h"
#include "control.h"
#include "cpu_dump.h"
#include "hmp.h"
#include "incoming.h"
#include "loop.h"
#include "machine.h"
#include "migrate.h"
#include "pm.h"
#include "qmp.h"
#include "qmp_cmds.h"
#include "uart.h"
#include "vcpu.h"

#ifndef GENVM_VERSION
#define GENVM_VERSION "unknown"
#endif

/* How long a client gets to read its last replies when genvm exits. */
#define FLUSH_AT_EXIT_MS 500

struct channel {
	struct control *ctl;
	struct chardev *dev;
	struct qmp *qmp; /* exactly one of qmp and hmp */
	struct hmp *hmp;
};

struct control {
	struct machine *m;
	struct loop *loop;
	enum runstate state;
	struct channel chan[CONTROL_MAX_CHANNELS];
	unsigned int nr_chan;
	struct console *console;
	struct migration *migration;
	int exit_code;
	bool shutdown_sent;
	bool reset_pending; /* the guest asked for a reset during a save */
	bool poweroff_pending; /* the guest powered off under -no-shutdown */
	/* -incoming defer: migrate-incoming came (QEMU's "once"); run when it ends. */
	bool incoming_started;
	bool autostart;
	char *incoming_error; /* why migrate-incoming failed, for query-migrate */
	bool console_waiting; /* the console's fd is watched until it takes more */
	bool console_drop_said;
	bool console_backoff; /* a hung-up pty: its watch waits for a timer */
	int pty_in; /* -serial pty: the master again, for the keys (epoll watches each fd once) */
	/* A socket console: its listener and client, and the client's fd again for the UART. */
	struct chardev *console_dev;
	int console_out;
	/* QMP getfd: the last descriptor a client passed, then named ones. */
	int passed_fd;
	struct {
		char name[CONTROL_FD_NAME_MAX + 1];
		int fd; /* -1: a free slot */
	} fds[CONTROL_MAX_FDS];
};

static const char *const exit_reasons[] = {
	[VM_EXIT_HOST_ERROR] = "host-error",
	[VM_EXIT_HOST_QMP_QUIT] = "host-qmp-quit",
	[VM_EXIT_HOST_QMP_SYSTEM_RESET] = "host-qmp-system-reset",
	[VM_EXIT_HOST_SIGNAL] = "host-signal",
	[VM_EXIT_HOST_UI] = "host-ui",
	[VM_EXIT_GUEST_SHUTDOWN] = "guest-shutdown",
	[VM_EXIT_GUEST_RESET] = "guest-reset",
};

struct machine *control_machine(struct control *c)
{
	return c->m;
}

struct loop *control_loop(struct control *c)
{
	return c->loop;
}

bool control_exiting(const struct control *c)
{
	return atomic_load(&c->m->vm.exiting);
}

enum runstate control_runstate(const struct control *c)
{
	return c->state;
}

void control_set_runstate(struct control *c, enum runstate s)
{
	c->state = s;
}

int control_exit_code(const struct control *c)
{
	return c->exit_code;
}

void control_event(struct control *c, const char *name, json_t *data)
{
	for (unsigned int i = 0; i < c->nr_chan; i++) {
		if (c->chan[i].qmp)
			qmp_event(c->chan[i].qmp, name, data ? json_incref(data) : NULL);
	}
	json_decref(data);
}

static json_t *why_data(bool guest, const char *reason)
{
	return json_pack("{s:b,s:s}", "guest", guest, "reason", reason);
}

/* ---- operations ---- */

int control_stop(struct control *c, const char **why)
{
	switch (c->state) {
	case RUNSTATE_INMIGRATE:
		/* As QEMU: the machine stays paused once the incoming state is in. */
		c->autostart = false;
		return 0;
	case RUNSTATE_RUNNING:
		if (machine_pause(c->m) < 0) {
			*why = "cannot stop the vCPUs";
			return -1;
		}
		c->state = RUNSTATE_PAUSED;
		control_event(c, "STOP", NULL);
		return 0;
	default:
		/* Stopped already (prelaunch, paused, migration states): nothing to do. */
		return 0;
	}
}

int control_cont(struct control *c, const char **why)
{
	switch (c->state) {
	case RUNSTATE_RUNNING:
		return 0;
	case RUNSTATE_SHUTDOWN:
	case RUNSTATE_INTERNAL_ERROR:
		*why = "Resetting the Virtual Machine is required";
		return -1;
	case RUNSTATE_INMIGRATE:
		/* As QEMU: not refused, the machine runs once the incoming state is in. */
		c->autostart = true;
		return 0;
	case RUNSTATE_FINISH_MIGRATE:
		*why = "The guest is being saved (migrate); try again when it is done";
		return -1;
	default:
		machine_resume(c->m);
		c->state = RUNSTATE_RUNNING;
		control_event(c, "RESUME", NULL);
		return 0;
	}
}

static int do_reset(struct control *c, bool guest)
{
	if (machine_reset(c->m) < 0) {
		c->state = RUNSTATE_INTERNAL_ERROR;
		vm_request_exit(&c->m->vm, 1);
		return -1;
	}
	control_event(c, "RESET", why_data(guest, guest ? "guest-reset" : "host-qmp-system-reset"));
	return 0;
}

int control_system_reset(struct control *c, const char **why)
{
	/* As QEMU: under -no-reboot a reset request ends the machine. */
	if (c->m->cfg->no_reboot) {
		vm_request_exit_why(&c->m->vm, 0, VM_EXIT_HOST_QMP_SYSTEM_RESET);
		return 0;
	}
	if (c->state == RUNSTATE_INMIGRATE) {
		*why = "Guest state has not been loaded yet (-incoming)";
		return -1;
	}
	if (migration_active(c->migration)) {
		*why = "The guest is being saved (migrate); try again when it is done";
		return -1;
	}
	if (do_reset(c, false) < 0) {
		*why = "the reset failed; genvm is exiting";
		return -1;
	}
	/*
	 * QEMU leaves a machine that was not running in prelaunch after a
	 * reset; from shutdown (-no-shutdown) that is what makes cont work.
	 */
	if (c->state == RUNSTATE_SHUTDOWN)
		c->state = RUNSTATE_PRELAUNCH;
	return 0;
}

int control_powerdown(struct control *c, const char **why)
{
	(void)why;
	control_event(c, "POWERDOWN", NULL);
	pm_press_power_button(c->m->pm);
	return 0;
}

/* SHUTDOWN, once, with the reason of the exit request that won. */
static void send_shutdown(struct control *c)
{
	enum vm_exit_reason why = c->m->vm.exit_reason;
	bool guest = why == VM_EXIT_GUEST_SHUTDOWN || why == VM_EXIT_GUEST_RESET;

	if (c->shutdown_sent)
		return;
	c->shutdown_sent = true;
	control_event(c, "SHUTDOWN", why_data(guest, exit_reasons[why]));
}

void control_quit(struct control *c, enum vm_exit_reason why)
{
	vm_request_exit_why(&c->m->vm, 0, why);
	/*
	 * Now rather than when the loop sees the exit: the event then comes
	 * before quit's reply, as in QEMU, and reaches a stdio client even
	 * when its stdin ends right after "quit".
	 */
	send_shutdown(c);
}

int control_guid(struct control *c, char text[37], const char **why)
{
	if (!c->m->vmgenid) {
		*why = "VM Generation ID device not found";
		return -1;
	}
	vmgenid_guid_format(vmgenid_dev_get_guid(c->m->vmgenid), text);
	return 0;
}

int control_registers(struct control *c, int cpu, FILE *f, const char **why)
{
	struct vm *vm = &c->m->vm;
	unsigned int first = cpu < 0 ? 0 : (unsigned int)cpu;
	unsigned int last = cpu < 0 ? vm->nr_cpus : first + 1;
	int paused_here, ret = 0;

	if (cpu >= 0 && (unsigned int)cpu >= vm->nr_cpus) {
		*why = "no such vCPU";
		return -1;
	}
	/*
	 * KVM hands out a vCPU's registers only between two KVM_RUNs: stop
	 * them for the moment it takes (0 from the pause: this call stopped
	 * them and must restart them; a stopped VM stays stopped).
	 */
	paused_here = vcpu_pause_all(vm);
	if (paused_here < 0) {
		*why = "cannot stop the vCPUs";
		return -1;
	}
	for (unsigned int i = first; i < last; i++) {
		struct cpu_dump d;

		if (cpu_dump_read(vm->vcpus[i], &d, why) < 0) {
			ret = -1;
			break;
		}
		if (cpu < 0)
			fprintf(f, "\nCPU#%u\n", i);
		cpu_dump_print(&d, f);
	}
	if (paused_here == 0)
		vcpu_resume_all(vm);
	return ret;
}

int control_migrate(struct control *c, const char *uri, char *why, size_t why_len)
{
	int fd = -1, ret;

	/*
	 * fd:NAME is a descriptor getfd took under NAME; the save owns it from
	 * here.  A number would be one of genvm's own (a KVM fd, guest RAM's
	 * file): only passed descriptors are written to.
	 */
	if (!strncmp(uri, "fd:", 3) && strspn(uri + 3, "0123456789") == strlen(uri + 3)) {
		snprintf(why, why_len, "fd:N names a descriptor of genvm's own: pass one with "
				       "getfd and use fd:NAME");
		return -1;
	}
	if (!strncmp(uri, "fd:", 3)) {
		fd = control_take_fd(c, uri + 3);
		if (fd < 0) {
			snprintf(why, why_len, "File descriptor named '%s' has not been found",
				 uri + 3);
			return -1;
		}
	}
	ret = migration_start(c->migration, uri, fd, why, why_len);
	if (ret < 0 && fd >= 0)
		close(fd);
	return ret;
}

/* QEMU's MIGRATION event. */
static void migration_event(struct control *c, const char *status)
{
	control_event(c, "MIGRATION", json_pack("{s:s}", "status", status));
}

int control_migrate_incoming(struct control *c, const char *uri, char *why, size_t why_len)
{
	const struct genvm_config *cfg = c->m->cfg;
	struct snapuri *u;
	int ret;

	/* QEMU 7.2's checks, in its order; -incoming URI counts as started. */
	if (c->incoming_started || (cfg->incoming && !cfg->incoming_defer)) {
		snprintf(why, why_len, "The incoming migration has already been started");
		return -1;
	}
	if (!cfg->incoming_defer || c->state != RUNSTATE_INMIGRATE) {
		snprintf(why, why_len, "'-incoming' was not specified on the command line");
		return -1;
	}
	u = malloc(sizeof(*u));
	if (!u) {
		snprintf(why, why_len, "out of memory");
		return -1;
	}
	/* A URI genvm cannot read leaves it waiting for another migrate-incoming. */
	if (snapuri_parse(uri, u, why, why_len) < 0) {
		free(u);
		return -1;
	}
	if (u->kind == SNAPURI_FD && u->fd >= 0) {
		snprintf(why, why_len, "fd:N names a descriptor of genvm's own: pass one with "
				       "getfd and use fd:NAME");
		free(u);
		return -1;
	}
	if (u->kind == SNAPURI_FD) {
		u->fd = control_take_fd(c, u->arg);
		if (u->fd < 0) {
			snprintf(why, why_len, "File descriptor named '%s' has not been found",
				 u->arg);
			free(u);
			return -1;
		}
	}
	c->incoming_started = true;
	migration_event(c, "setup");
	migration_event(c, "active");
	/* In the main loop, as the restore at start: QMP answers when it is done. */
	ret = incoming_restore(c->m, u, NULL, why, why_len);
	free(u);
	if (ret < 0) {
		/*
		 * QEMU exits here; genvm stays, in inmigrate, so that the client
		 * reads why (here and in query-migrate) and quits it.
		 */
		free(c->incoming_error);
		c->incoming_error = strdup(why);
		migration_event(c, "failed");
		return -1;
	}
	migration_event(c, "completed");
	/* The vCPU threads have waited, parked, since control_start(). */
	c->state = RUNSTATE_PAUSED;
	if (c->autostart) {
		machine_resume(c->m);
		c->state = RUNSTATE_RUNNING;
		control_event(c, "RESUME", NULL);
	}
	return 0;
}

const char *control_incoming_error(const struct control *c)
{
	return c->incoming_error;
}

static void fd_received(void *opaque, int fd)
{
	struct control *c = ((struct channel *)opaque)->ctl;

	/* QEMU keeps the last one a message brought, for the getfd that follows. */
	if (c->passed_fd >= 0)
		close(c->passed_fd);
	c->passed_fd = fd;
}

int control_getfd(struct control *c, const char *name, const char **why)
{
	int free_slot = -1;

	if (c->passed_fd < 0) {
		*why = "No file descriptor supplied via SCM_RIGHTS";
		return -1;
	}
	if (name[0] >= '0' && name[0] <= '9') {
		*why = "Parameter 'fdname' expects a name not starting with a digit";
		return -1;
	}
	if (strlen(name) > CONTROL_FD_NAME_MAX) {
		*why = "the name is too long (at most 64 bytes)";
		return -1;
	}
	for (int i = 0; i < CONTROL_MAX_FDS; i++) {
		/* The same name again replaces the descriptor, as in QEMU. */
		if (c->fds[i].fd >= 0 && !strcmp(c->fds[i].name, name)) {
			close(c->fds[i].fd);
			c->fds[i].fd = -1;
		}
		if (c->fds[i].fd < 0 && free_slot < 0)
			free_slot = i;
	}
	if (free_slot < 0) {
		*why = "too many named file descriptors (at most 8): closefd some";
		return -1;
	}
	memcpy(c->fds[free_slot].name, name, strlen(name) + 1);
	c->fds[free_slot].fd = c->passed_fd;
	c->passed_fd = -1;
	return 0;
}

int control_take_fd(struct control *c, const char *name)
{
	for (int i = 0; i < CONTROL_MAX_FDS; i++) {
		if (c->fds[i].fd >= 0 && !strcmp(c->fds[i].name, name)) {
			int fd = c->fds[i].fd;

			c->fds[i].fd = -1;
			return fd;
		}
	}
	return -1;
}

void control_migrate_info(struct control *c, struct migrate_info *out)
{
	migration_info(c->migration, out);
}

void control_restore_times(struct control *c, struct restore_times *out)
{
	*out = c->m->restore;
	if (out->restored)
		out->end_ns[RESTORE_FIRST_RUN] = atomic_load(&c->m->vm.first_run_ns);
}

struct strbuf {
	char *p;
	size_t len;
};

static void strbuf_write(void *opaque, const char *buf, size_t len)
{
	struct strbuf *s = opaque;
	char *p = realloc(s->p, s->len + len + 1);

	if (!p)
		return;
	memcpy(p + s->len, buf, len);
	s->len += len;
	p[s->len] = '\0';
	s->p = p;
}

void control_hmp_command(struct control *c, const char *line, char **out)
{
	struct strbuf s = { NULL, 0 };

	hmp_execute(c, line, strbuf_write, &s);
	*out = s.p ? s.p : strdup("");
}

/* ---- the machine's wake-ups ---- */

static void on_exit_fd(struct loop *l, int fd, unsigned int events, void *opaque)
{
	struct control *c = opaque;

	(void)fd;
	(void)events;
	c->exit_code = c->m->vm.exit_code;
	c->state = RUNSTATE_SHUTDOWN;
	send_shutdown(c);
	for (unsigned int i = 0; i < c->nr_chan; i++)
		chardev_flush(c->chan[i].dev, FLUSH_AT_EXIT_MS);
	loop_stop(l);
}

/*
 * -no-shutdown: QEMU's order, SHUTDOWN then STOP, and the machine stays,
 * its vCPUs stopped, until quit (or system_reset and cont).  The event is
 * sent here, not through send_shutdown(): quit sends its own later.
 */
static void guest_powered_off(struct control *c)
{
	bool was_running = c->state == RUNSTATE_RUNNING;

	if (c->state == RUNSTATE_SHUTDOWN)
		return;
	control_event(c, "SHUTDOWN", why_data(true, exit_reasons[VM_EXIT_GUEST_SHUTDOWN]));
	if (machine_pause(c->m) < 0) {
		fprintf(stderr, "genvm: -no-shutdown: cannot stop the vCPUs\n");
		c->state = RUNSTATE_INTERNAL_ERROR;
		vm_request_exit(&c->m->vm, 1);
		return;
	}
	c->state = RUNSTATE_SHUTDOWN;
	if (was_running)
		control_event(c, "STOP", NULL);
}

/*
 * A guest reset rebuilds RAM (firmware, kernel, initrd) while a save's
 * writer thread reads it: it waits for the save to end, then happens.
 */
static void run_requests(struct control *c)
{
	if (migration_active(c->migration))
		return;
	if (c->poweroff_pending) {
		c->poweroff_pending = false;
		c->reset_pending = false; /* a powered-off machine does not reboot */
		if (!atomic_load(&c->m->vm.exiting))
			guest_powered_off(c);
	}
	if (!c->reset_pending)
		return;
	c->reset_pending = false;
	if (!atomic_load(&c->m->vm.exiting))
		do_reset(c, true);
}

/*
 * Console output: written from here, never blocking.  A console fd that
 * would block is watched until writable; what the guest sends meanwhile
 * queues in the UART, and beyond its queue is dropped and counted.
 */
static void on_console_writable(struct loop *l, int fd, unsigned int events, void *opaque);

static void pump_console(struct control *c)
{
	struct uart *u = c->m->uart;
	int fd = uart_output_fd(u), more = uart_flush_output(u);

	/* A socket console without a client (UART_OUT_HOLD): its connect pumps. */
	if (more > 0 && fd >= 0 && !c->console_waiting && !c->console_backoff) {
		if (loop_add_fd(c->loop, fd, LOOP_WRITE, on_console_writable, c) == 0)
			c->console_waiting = true;
	} else if (more <= 0 && c->console_waiting) {
		loop_del_fd(c->loop, fd);
		c->console_waiting = false;
	}
	if (!c->console_drop_said && uart_output_dropped(u)) {
		c->console_drop_said = true;
		fprintf(stderr,
			"genvm: serial: the console's output is not being read; beyond %u KiB "
			"it is dropped (the count comes at exit)\n",
			UART_OUT_MAX >> 10);
	}
}

static void on_console_retry(struct loop *l, void *opaque)
{
	struct control *c = opaque;

	(void)l;
	c->console_backoff = false;
	pump_console(c);
}

static void on_console_writable(struct loop *l, int fd, unsigned int events, void *opaque)
{
	struct control *c = opaque;
	struct pollfd p = { .fd = fd, .events = POLLOUT };

	(void)events;
	/*
	 * A pty whose other end was closed reports a hang-up, which the loop
	 * passes on as writable, while its buffer is full: look again in a
	 * second rather than spin; the UART's queue holds the output.
	 */
	if (c->pty_in >= 0 && poll(&p, 1, 0) == 1 && !(p.revents & POLLOUT)) {
		loop_del_fd(l, fd);
		c->console_waiting = false;
		c->console_backoff = true;
		loop_add_timer(l, 1000, on_console_retry, c);
		return;
	}
	pump_console(c);
}

/* At exit: what is queued gets up to ms to go, then the count of what did not. */
static void drain_console(struct control *c, int ms)
{
	struct uart *u = c->m->uart;
	struct pollfd p = { .fd = uart_output_fd(u), .events = POLLOUT };
	struct timespec t0, now;
	uint64_t dropped;

	if (c->console_waiting)
		loop_del_fd(c->loop, p.fd);
	c->console_waiting = false;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (p.fd >= 0 && uart_flush_output(u) > 0) {
		long left;

		clock_gettime(CLOCK_MONOTONIC, &now);
		left = ms - ((now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000);
		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			break;
	}
	dropped = uart_output_dropped(u);
	if (dropped)
		fprintf(stderr, "genvm: serial: %llu bytes of console output were dropped: "
				"nobody read them\n",
			(unsigned long long)dropped);
}

void control_migration_ended(struct control *c)
{
	run_requests(c);
}

static void on_request_fd(struct loop *l, int fd, unsigned int events, void *opaque)
{
	struct control *c = opaque;
	unsigned int req = machine_take_requests(c->m);

	(void)l;
	(void)fd;
	(void)events;
	if (req & MACHINE_REQ_OUTPUT)
		pump_console(c);
	if (req & MACHINE_REQ_RESET)
		c->reset_pending = true;
	if (req & MACHINE_REQ_POWEROFF)
		c->poweroff_pending = true;
	run_requests(c);
}

/* ---- channels ---- */

static void chan_write(void *opaque, const char *buf, size_t len)
{
	struct channel *ch = opaque;

	chardev_write(ch->dev, buf, len);
}

static void chan_hangup(void *opaque)
{
	struct channel *ch = opaque;

	chardev_hangup(ch->dev);
}

static void chan_opened(void *opaque)
{
	struct channel *ch = opaque;

	if (ch->qmp)
		qmp_open(ch->qmp);
	else
		hmp_open(ch->hmp);
}

static void chan_received(void *opaque, const void *buf, size_t len)
{
	struct channel *ch = opaque;

	if (ch->qmp)
		qmp_input(ch->qmp, buf, len);
	else
		hmp_input(ch->hmp, buf, len);
}

static void chan_closed(void *opaque)
{
	struct channel *ch = opaque;

	if (ch->qmp)
		qmp_close(ch->qmp);
	else
		hmp_close(ch->hmp);
}

static const struct chardev_ops chan_ops = {
	.opened = chan_opened,
	.received = chan_received,
	.closed = chan_closed,
	.fd_received = fd_received,
};

/*
 * The console on a socket (-serial unix:..., -chardev socket for -serial
 * chardev:ID): chardev.c listens and serves one client at a time, as for
 * QMP; the UART writes the client's socket itself, through a descriptor
 * of its own (epoll watches each fd once), and holds its output in its
 * queue while nobody is connected.  The client's bytes go to the UART as
 * they are, no more than its FIFO takes.
 */
static void console_sock_opened(void *opaque)
{
	struct control *c = opaque;
	int fd = chardev_client_fd(c->console_dev);

	c->console_out = fd >= 0 ? fcntl(fd, F_DUPFD_CLOEXEC, 0) : -1;
	if (c->console_out < 0) {
		fprintf(stderr, "genvm: -serial %s: %s\n", c->m->cfg->serial_chardev.text,
			strerror(errno));
		return;
	}
	uart_set_output_fd(c->m->uart, c->console_out);
	c->console_drop_said = false;
	pump_console(c);
}

static void console_sock_received(void *opaque, const void *buf, size_t len)
{
	struct control *c = opaque;

	uart_receive(c->m->uart, buf, len);
}

static size_t console_sock_room(void *opaque)
{
	struct control *c = opaque;

	return uart_rx_room(c->m->uart);
}

static void console_sock_closed(void *opaque)
{
	struct control *c = opaque;

	if (c->console_out < 0)
		return;
	if (c->console_waiting)
		loop_del_fd(c->loop, c->console_out);
	c->console_waiting = false;
	uart_set_output_fd(c->m->uart, UART_OUT_HOLD);
	close(c->console_out);
	c->console_out = -1;
}

static const struct chardev_ops console_sock_ops = {
	.opened = console_sock_opened,
	.received = console_sock_received,
	.closed = console_sock_closed,
	.room = console_sock_room,
};

static int add_channel(struct control *c, const struct cli_chardev *cd, const char *opt,
		       bool qmp)
{
	struct channel *ch = &c->chan[c->nr_chan];

	ch->ctl = c;
	if (qmp) {
		const struct qmp_io io = { chan_write, chan_hangup, ch };

		ch->qmp = qmp_new(genvm_qmp_cmds, genvm_qmp_nr_cmds, c, "genvm " GENVM_VERSION,
				  &io);
	} else {
		const struct hmp_io io = { chan_write, ch };

		ch->hmp = hmp_new(c, &io);
	}
	if (!ch->qmp && !ch->hmp) {
		fprintf(stderr, "genvm: %s %s: out of memory\n", opt, cd->text);
		return -1;
	}
	ch->dev = chardev_open(c->loop, &cd->spec, opt, cd->text, &chan_ops, ch);
	c->nr_chan++;
	return ch->dev ? 0 : -1;
}

struct control *control_new(struct machine *m, struct loop *l)
{
	const struct genvm_config *cfg = m->cfg;
	struct control *c = calloc(1, sizeof(*c));

	if (!c) {
		fprintf(stderr, "genvm: control: out of memory\n");
		return NULL;
	}
	c->passed_fd = -1;
	c->pty_in = -1;
	c->console_out = -1;
	for (int i = 0; i < CONTROL_MAX_FDS; i++)
		c->fds[i].fd = -1;
	c->m = m;
	c->loop = l;
	c->autostart = !cfg->start_paused;
	/* A restored machine has run before: -S leaves it paused, as QEMU says. */
	if (cfg->incoming_defer)
		c->state = RUNSTATE_INMIGRATE;
	else if (cfg->start_paused)
		c->state = cfg->incoming ? RUNSTATE_PAUSED : RUNSTATE_PRELAUNCH;
	else
		c->state = RUNSTATE_RUNNING;
	if (loop_add_fd(l, m->vm.exit_fd, LOOP_READ, on_exit_fd, c) < 0 ||
	    loop_add_fd(l, m->request_fd, LOOP_READ, on_request_fd, c) < 0) {
		fprintf(stderr, "genvm: main loop: cannot watch the machine\n");
		goto fail;
	}
	for (unsigned int i = 0; i < cfg->nr_qmp; i++) {
		if (add_channel(c, &cfg->qmp[i], "-qmp", true) < 0)
			goto fail;
	}
	for (unsigned int i = 0; i < cfg->nr_monitor; i++) {
		if (add_channel(c, &cfg->monitor[i], "-monitor", false) < 0)
			goto fail;
	}
	c->migration = migration_new(c);
	if (!c->migration) {
		fprintf(stderr, "genvm: migration: %s\n", strerror(errno));
		goto fail;
	}
	if (cfg->serial_pty && m->serial_fd >= 0) {
		c->pty_in = fcntl(m->serial_fd, F_DUPFD_CLOEXEC, 0);
		if (c->pty_in < 0) {
			fprintf(stderr, "genvm: -serial pty: %s\n", strerror(errno));
			goto fail;
		}
	}
	if (cfg->serial_socket && m->uart) {
		c->console_dev = chardev_open(l, &cfg->serial_chardev.spec, "-serial",
					      cfg->serial_chardev.text, &console_sock_ops, c);
		if (!c->console_dev)
			goto fail;
	} else if (cfg->nographic || c->pty_in >= 0) {
		c->console = console_new(c, l, m->uart, cfg->mux_monitor && c->pty_in < 0,
					 c->pty_in);
		if (!c->console) {
			fprintf(stderr, "genvm: console: out of memory\n");
			goto fail;
		}
	}
	return c;
fail:
	control_free(c);
	return NULL;
}

int control_start(struct control *c)
{
	for (unsigned int i = 0; i < c->nr_chan; i++) {
		if (chardev_start(c->chan[i].dev) < 0)
			return -1;
	}
	if (c->console && console_start(c->console) < 0)
		return -1;
	/* wait=on: the guest starts once the console has its client. */
	if (c->console_dev && chardev_start(c->console_dev) < 0)
		return -1;
	/*
	 * -incoming defer's vCPU threads start too, parked (machine_create()
	 * asked them to), until migrate-incoming has loaded their state: here,
	 * before the sandbox, since glibc's first pthread_create() installs
	 * signal handlers, which the main loop's list refuses.
	 */
	return machine_start(c->m);
}

void control_free(struct control *c)
{
	if (!c)
		return;
	/* First: a save in progress reads guest RAM until it has ended. */
	migration_free(c->migration);
	/* The vCPUs have stopped: the console's last output, and what was lost. */
	if (c->m->uart)
		drain_console(c, FLUSH_AT_EXIT_MS);
	console_free(c->console);
	chardev_free(c->console_dev);
	if (c->console_out >= 0)
		close(c->console_out);
	for (unsigned int i = 0; i < c->nr_chan; i++) {
		chardev_free(c->chan[i].dev);
		qmp_free(c->chan[i].qmp);
		hmp_free(c->chan[i].hmp);
	}
	loop_del_fd(c->loop, c->m->vm.exit_fd);
	loop_del_fd(c->loop, c->m->request_fd);
	if (c->passed_fd >= 0)
		close(c->passed_fd);
	loop_del_timer(c->loop, on_console_retry, c);
	if (c->pty_in >= 0)
		close(c->pty_in);
	for (int i = 0; i < CONTROL_MAX_FDS; i++) {
		if (c->fds[i].fd >= 0)
			close(c->fds[i].fd);
	}
	free(c->incoming_error);
	free(c);
}
