// SPDX-License-Identifier: MIT
/*
 * Reply shapes are those of QEMU 7.2 (its qapi schema).  There is deliberately no
 * command that sets the GUID: the specification leaves it out.
 */
#include <stdlib.h>

#include "control.h"
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
	{ "query-status", cmd_query_status, NULL, "run state: running, paused, prelaunch, ..." },
	{ "query-vm-generation-id", cmd_query_vm_generation_id, NULL,
	  "the VM Generation ID device's GUID" },
	{ "quit", cmd_quit, NULL, "exit genvm" },
	{ "stop", cmd_stop, NULL, "pause the guest's vCPUs" },
	{ "system_powerdown", cmd_system_powerdown, NULL, "press the ACPI power button" },
	{ "system_reset", cmd_system_reset, NULL, "reset the machine" },
};

const size_t genvm_qmp_nr_cmds = sizeof(genvm_qmp_cmds) / sizeof(genvm_qmp_cmds[0]);
