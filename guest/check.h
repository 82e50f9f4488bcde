/* SPDX-License-Identifier: MIT */
/*
 * vmgenid check: the platform's VM Generation ID implementation judged line
 * by line against the spec (requirements R1a-R1e and R6 of Microsoft's
 * paper, the AML shape QEMU documents, and the Linux driver's view).
 */
#ifndef VMGENID_GUEST_CHECK_H
#define VMGENID_GUEST_CHECK_H

#include <stdbool.h>

/* Print the report (plain or JSON); the exit code: 1 if any line failed. */
int check_run(bool json);

#endif
