/* SPDX-License-Identifier: MIT */
/*
 * The machine's control plane, on the main loop: run state, the operations
 * QMP and the human monitor share (stop, cont, reset, power button, quit,
 * the GUID), QMP events, the management channels (-qmp, -monitor) and the
 * console, and the requests that arrive from vCPU threads.
 */
#ifndef GENVM_CONTROL_H
#define GENVM_CONTROL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "chardev.h"
#include "vm.h"

#define CONTROL_MAX_CHANNELS 8
#define CONTROL_MAX_FDS 8        /* getfd's named descriptors */
#define CONTROL_FD_NAME_MAX 64

/* QEMU's RunState names, those genvm can be in. */
enum runstate {
	RUNSTATE_PRELAUNCH,      /* -S: built, never ran */
	RUNSTATE_RUNNING,
	RUNSTATE_PAUSED,         /* stop */
	RUNSTATE_SHUTDOWN,       /* the guest is going away */
	RUNSTATE_INTERNAL_ERROR,
	RUNSTATE_INMIGRATE,      /* -incoming: waiting for the state */
	RUNSTATE_POSTMIGRATE,    /* state sent, vCPUs stopped */
	RUNSTATE_FINISH_MIGRATE, /* saving state */
	RUNSTATE_RESTORE_VM,
	RUNSTATE_SAVE_VM,
};

struct machine;
struct loop;
struct console;
struct control;

/*
 * QMP's name of a run state (query-status).  Inline so that the fuzz
 * targets' stand-in for this module answers with the same names.
 */
static inline const char *runstate_name(enum runstate s)
{
	static const char *const names[] = {
		[RUNSTATE_PRELAUNCH] = "prelaunch",
		[RUNSTATE_RUNNING] = "running",
		[RUNSTATE_PAUSED] = "paused",
		[RUNSTATE_SHUTDOWN] = "shutdown",
		[RUNSTATE_INTERNAL_ERROR] = "internal-error",
		[RUNSTATE_INMIGRATE] = "inmigrate",
		[RUNSTATE_POSTMIGRATE] = "postmigrate",
		[RUNSTATE_FINISH_MIGRATE] = "finish-migrate",
		[RUNSTATE_RESTORE_VM] = "restore-vm",
		[RUNSTATE_SAVE_VM] = "save-vm",
	};

	if ((unsigned int)s >= sizeof(names) / sizeof(names[0]))
		return "debug";
	return names[s];
}

/*
 * Build the control plane for machine m on loop l: watch the machine's exit
 * and request eventfds, open every -qmp and -monitor channel of the config
 * and the console.  -1 (printed) on failure.
 */
struct control *control_new(struct machine *m, struct loop *l);
void control_free(struct control *c);

/* Start serving the channels (wait=on blocks here) then the vCPUs. */
int control_start(struct control *c);
/* The process exit status once the loop has returned. */
int control_exit_code(const struct control *c);

struct machine *control_machine(struct control *c);
struct loop *control_loop(struct control *c);
/* An exit has been requested (quit, power-off, error): genvm is ending. */
bool control_exiting(const struct control *c);
enum runstate control_runstate(const struct control *c);
void control_set_runstate(struct control *c, enum runstate s);

/*
 * The operations.  Each returns 0, or -1 with *why set to a message for
 * the user (QMP's desc, HMP's "Error: ...").
 */
int control_stop(struct control *c, const char **why);
int control_cont(struct control *c, const char **why);
int control_system_reset(struct control *c, const char **why);
int control_powerdown(struct control *c, const char **why);
void control_quit(struct control *c, enum vm_exit_reason why);
/* The GUID as lowercase text (37 bytes with the NUL); -1 without the device. */
int control_guid(struct control *c, char text[37], const char **why);

/*
 * "info registers": vCPU cpu's registers (every vCPU's, each after a
 * "CPU#n" line, when cpu < 0) printed to f.  A running VM is stopped only
 * while they are read.  -1 with why: no such vCPU, or KVM refused.
 */
int control_registers(struct control *c, int cpu, FILE *f, const char **why);

/*
 * Save the machine to a "file:PATH" or "exec:COMMAND" URI in the
 * background (see migrate.h): 0 once started, or -1 with why.
 */
struct migrate_info;
int control_migrate(struct control *c, const char *uri, char *why, size_t why_len);

/*
 * QMP migrate-incoming under -incoming defer: restore the machine from
 * "file:PATH", "exec:COMMAND" or "fd:NAME" (getfd's), with the MIGRATION
 * events setup, active, then completed or failed, and run it unless -S
 * (or stop) said otherwise and no cont came.  0, or -1 with why (QEMU's
 * words for a migrate-incoming out of place).  A failed restore leaves
 * the machine in inmigrate for good; control_incoming_error() says why.
 */
int control_migrate_incoming(struct control *c, const char *uri, char *why, size_t why_len);
const char *control_incoming_error(const struct control *c);
void control_migrate_info(struct control *c, struct migrate_info *out);

/*
 * QMP getfd: name the descriptor the client passed last (SCM_RIGHTS);
 * 0, or -1 with QEMU's why.  control_take_fd() hands a named one over
 * (the caller closes it), -1 if there is none by that name.
 */
int control_getfd(struct control *c, const char *name, const char **why);
int control_take_fd(struct control *c, const char *name);
/* From the migration, once a save has ended: what waited for it happens now. */
void control_migration_ended(struct control *c);

/* The restore's phase times (restored false: the machine booted). */
struct restore_times;
void control_restore_times(struct control *c, struct restore_times *out);

/* Send a QMP event to every negotiated client (data stolen, may be NULL). */
void control_event(struct control *c, const char *name, json_t *data);

/* The human monitor's commands, for human-monitor-command: output into *out. */
void control_hmp_command(struct control *c, const char *line, char **out);

#endif
