/* SPDX-License-Identifier: MIT */
/*
 * genvm's QMP commands: one static table of {name, handler, arguments,
 * help}; a new command is a handler and a row.  The handlers get the
 * control plane (struct control) as call->ctx.
 */
#ifndef GENVM_QMP_CMDS_H
#define GENVM_QMP_CMDS_H

#include <stddef.h>

#include "qmp.h"

extern const struct qmp_cmd genvm_qmp_cmds[];
extern const size_t genvm_qmp_nr_cmds;

#endif
