// SPDX-License-Identifier: MIT
/*
 * Reply shapes are those of QEMU 7.2 (its qapi schema).  There is deliberately no
 * command that sets the GUID: the specification leaves it out.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "control.h"
#include "machine.h"
#include "migrate.h"
#include "restore_times.h"
#include "snapstream.h"
#include "qmp_cmds.h"

static int fail(struct qmp_call *call, const char *why)
{
	qmp_error(call, "GenericError", "%s", why ? why : "failed");
	return -1;
}

static int cmd_query_vm_generation_id(struct qmp_call *call)
{
	const char *why = NULL;
	char text[37];

	if (control_guid(call->ctx, text, &why) < 0)
		return fail(call, why);
	call->ret = json_pack("{s:s}", "guid", text);
	return 0;
}

static int cmd_query_status(struct qmp_call *call)
{
	enum runstate s = control_runstate(call->ctx);

	call->ret = json_pack("{s:s,s:b,s:b}", "status", runstate_name(s), "singlestep", 0,
			      "running", s == RUNSTATE_RUNNING);
	return 0;
}

static int cmd_stop(struct qmp_call *call)
{
	const char *why = NULL;

	return control_stop(call->ctx, &why) < 0 ? fail(call, why) : 0;
}

static int cmd_cont(struct qmp_call *call)
{
	const char *why = NULL;

	return control_cont(call->ctx, &why) < 0 ? fail(call, why) : 0;
}

static int cmd_system_reset(struct qmp_call *call)
{
	const char *why = NULL;

	return control_system_reset(call->ctx, &why) < 0 ? fail(call, why) : 0;
}

static int cmd_system_powerdown(struct qmp_call *call)
{
	const char *why = NULL;

	return control_powerdown(call->ctx, &why) < 0 ? fail(call, why) : 0;
}

static int cmd_quit(struct qmp_call *call)
{
	control_quit(call->ctx, VM_EXIT_HOST_QMP_QUIT);
	return 0;
}

/* QEMU 7.2's arguments; only a plain save to a URI is supported. */
static const struct qmp_arg migrate_args[] = {
	{ "uri", QMP_STRING, false },
	{ "blk", QMP_BOOL, true },
	{ "inc", QMP_BOOL, true },
	{ "detach", QMP_BOOL, true },
	{ "resume", QMP_BOOL, true },
	{ NULL, QMP_ANY, false },
};

static int cmd_migrate(struct qmp_call *call)
{
	const char *uri = json_string_value(json_object_get(call->args, "uri"));
	char why[512];

	if (json_is_true(json_object_get(call->args, "blk")) ||
	    json_is_true(json_object_get(call->args, "inc")))
		return fail(call, "genvm has no block devices to migrate (blk, inc)");
	if (json_is_true(json_object_get(call->args, "resume")))
		return fail(call, "genvm cannot resume a postcopy migration (resume)");
	if (control_migrate(call->ctx, uri, why, sizeof(why)) < 0)
		return fail(call, why);
	return 0;
}

/* QEMU 7.2's argument; the URI as migrate's, file: too. */
static const struct qmp_arg migrate_incoming_args[] = {
	{ "uri", QMP_STRING, false },
	{ NULL, QMP_ANY, false },
};

static int cmd_migrate_incoming(struct qmp_call *call)
{
	const char *uri = json_string_value(json_object_get(call->args, "uri"));
	char why[SNAPURI_MAX + 512];

	if (control_migrate_incoming(call->ctx, uri, why, sizeof(why)) < 0)
		return fail(call, why);
	return 0;
}

static int cmd_query_migrate(struct qmp_call *call)
{
	struct migrate_info info;
	struct restore_times rt;

	control_migrate_info(call->ctx, &info);
	control_restore_times(call->ctx, &rt);
	if (info.status == MIGRATE_NONE) {
		/* A destination's incoming migration is over once QMP answers (QEMU says so too). */
		const char *in_error = control_incoming_error(call->ctx);

		if (in_error)
			call->ret = json_pack("{s:s,s:s}", "status", "failed", "error-desc", in_error);
		else
			call->ret = rt.restored ? json_pack("{s:s}", "status", "completed")
						: json_object();
	} else {
		call->ret = json_pack("{s:s,s:I}", "status", migrate_status_name(info.status),
				      "total-time", (json_int_t)info.total_ms);
		if (call->ret && info.status == MIGRATE_COMPLETED)
			json_object_set_new(call->ret, "ram",
					    json_pack("{s:I}", "total", (json_int_t)info.bytes));
		if (call->ret && info.error)
			json_object_set_new(call->ret, "error-desc", json_string(info.error));
	}
	if (call->ret && rt.restored)
		json_object_set_new(call->ret, "x-restore-phases", restore_times_json(&rt));
	return 0;
}

/* -name: {} without one, as QEMU answers. */
static int cmd_query_name(struct qmp_call *call)
{
	const struct genvm_config *cfg = control_machine(call->ctx)->cfg;

	call->ret = cfg->name_given ? json_pack("{s:s}", "name", cfg->name) : json_object();
	return 0;
}

/* -uuid, or the nil UUID. */
static int cmd_query_uuid(struct qmp_call *call)
{
	char text[37];

	vmgenid_guid_format(&control_machine(call->ctx)->cfg->uuid, text);
	call->ret = json_pack("{s:s}", "UUID", text);
	return 0;
}

static int cmd_query_target(struct qmp_call *call)
{
	call->ret = json_pack("{s:s}", "arch", "x86_64");
	return 0;
}

/* genvm runs on KVM or not at all. */
static int cmd_query_kvm(struct qmp_call *call)
{
	call->ret = json_pack("{s:b,s:b}", "enabled", 1, "present", 1);
	return 0;
}

static const struct qmp_arg fdname_args[] = {
	{ "fdname", QMP_STRING, false },
	{ NULL, QMP_ANY, false },
};

static int cmd_getfd(struct qmp_call *call)
{
	const char *why = NULL;

	if (control_getfd(call->ctx, json_string_value(json_object_get(call->args, "fdname")),
			  &why) < 0)
		return fail(call, why);
	return 0;
}

static int cmd_closefd(struct qmp_call *call)
{
	const char *name = json_string_value(json_object_get(call->args, "fdname"));
	int fd = control_take_fd(call->ctx, name);

	if (fd < 0) {
		qmp_error(call, "GenericError", "File descriptor named '%.64s' not found", name);
		return -1;
	}
	close(fd);
	return 0;
}

static const struct qmp_arg caps_args[] = {
	{ "capabilities", QMP_ARRAY, false },
	{ NULL, QMP_ANY, false },
};

/*
 * libvirt sets capabilities before a save.  genvm's save has none of
 * QEMU's optional behaviours, so each may be asked off; "events" on too,
 * since genvm sends MIGRATION regardless.
 */
static int cmd_migrate_set_capabilities(struct qmp_call *call)
{
	json_t *caps = json_object_get(call->args, "capabilities"), *cap;
	size_t i;

	json_array_foreach(caps, i, cap) {
		const char *name = json_string_value(json_object_get(cap, "capability"));
		json_t *state = json_object_get(cap, "state");

		if (!name || !json_is_boolean(state)) {
			qmp_error(call, "GenericError",
				  "Parameter 'capabilities' expects {\"capability\": NAME, \"state\": BOOL}");
			return -1;
		}
		if (json_is_true(state) && strcmp(name, "events")) {
			qmp_error(call, "GenericError",
				  "genvm does not support migration capability '%.64s'", name);
			return -1;
		}
	}
	return 0;
}

static const struct qmp_arg hmc_args[] = {
	{ "command-line", QMP_STRING, false },
	{ "cpu-index", QMP_INT, true },
	{ NULL, QMP_ANY, false },
};

static int cmd_human_monitor_command(struct qmp_call *call)
{
	const char *line = json_string_value(json_object_get(call->args, "command-line"));
	char *out;

	control_hmp_command(call->ctx, line, &out);
	call->ret = json_string(out);
	free(out);
	if (!call->ret)
		return fail(call, "the monitor's output is not valid UTF-8");
	return 0;
}

const struct qmp_cmd genvm_qmp_cmds[] = {
	{ "closefd", cmd_closefd, fdname_args, "close a descriptor getfd named" },
	{ "cont", cmd_cont, NULL, "resume the guest" },
	{ "getfd", cmd_getfd, fdname_args,
	  "name the descriptor passed with this command (SCM_RIGHTS), for migrate fd:NAME" },
	{ "human-monitor-command", cmd_human_monitor_command, hmc_args,
	  "run a human monitor command, return its output" },
	{ "migrate", cmd_migrate, migrate_args,
	  "save the machine to file:PATH, exec:COMMAND or fd:NAME (in the background)" },
	{ "migrate-incoming", cmd_migrate_incoming, migrate_incoming_args,
	  "-incoming defer: restore from file:PATH, exec:COMMAND or fd:NAME" },
	{ "migrate-set-capabilities", cmd_migrate_set_capabilities, caps_args,
	  "accepted with every capability off (events may be on)" },
	{ "query-kvm", cmd_query_kvm, NULL, "{\"enabled\": true, \"present\": true}" },
	{ "query-name", cmd_query_name, NULL, "the -name given" },
	{ "query-target", cmd_query_target, NULL, "{\"arch\": \"x86_64\"}" },
	{ "query-uuid", cmd_query_uuid, NULL, "the -uuid given, or the nil UUID" },
	{ "query-migrate", cmd_query_migrate, NULL, "progress of the last migrate" },
	{ "query-status", cmd_query_status, NULL, "run state: running, paused, prelaunch, ..." },
	{ "query-vm-generation-id", cmd_query_vm_generation_id, NULL,
	  "the VM Generation ID device's GUID" },
	{ "quit", cmd_quit, NULL, "exit genvm" },
	{ "stop", cmd_stop, NULL, "pause the guest's vCPUs" },
	{ "system_powerdown", cmd_system_powerdown, NULL, "press the ACPI power button" },
	{ "system_reset", cmd_system_reset, NULL, "reset the machine" },
};

const size_t genvm_qmp_nr_cmds = sizeof(genvm_qmp_cmds) / sizeof(genvm_qmp_cmds[0]);
