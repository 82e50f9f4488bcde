/* SPDX-License-Identifier: MIT */
/*
 * A stand-in for genvm's control plane (vmm/control/control.c) under the
 * QMP and HMP fuzz targets: the same functions, with a run state that moves
 * as the real one does and a save that only parses its URI (nothing is
 * written, no command runs).  Every operation checks what its callers must
 * guarantee: strings are terminated, and nothing runs after the session
 * was hung up on.
 */
#ifndef VMGENID_FUZZ_FAKE_CONTROL_H
#define VMGENID_FUZZ_FAKE_CONTROL_H

#include <stdbool.h>

#include "control.h"

struct control {
	enum runstate state;
	bool exiting;
	bool hung_up;          /* set by the target: no command may run after */
	int migrate_status;    /* enum migrate_status */
	unsigned int ops;      /* operations carried out */
};

void fake_control_init(struct control *c);

#endif
