// SPDX-License-Identifier: MIT
/*
 * Reply shapes are those of QEMU 7.2 (its qapi schema).  There is deliberately no
 * command that sets the GUID: the specification leaves it out.
 */
#include <stdlib.h>

#include "control.h"
#include "migrate.h"
#include "restore_times.h"
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

static int cmd_query_migrate(struct qmp_call *call)
{
	struct migrate_info info;
	struct restore_times rt;

	control_migrate_info(call->ctx, &info);
	control_restore_times(call->ctx, &rt);
	if (info.status == MIGRATE_NONE) {
		/* A destination's incoming migration is over once QMP answers (QEMU says so too). */
		call->ret = rt.restored ? json_pack("{s:s}", "status", "completed") : json_object();
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
	{ "cont", cmd_cont, NULL, "resume the guest" },
	{ "human-monitor-command", cmd_human_monitor_command, hmc_args,
	  "run a human monitor command, return its output" },
	{ "migrate", cmd_migrate, migrate_args,
	  "save the machine to file:PATH or exec:COMMAND (in the background)" },
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
