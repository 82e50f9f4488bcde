/* SPDX-License-Identifier: MIT */
/*
 * What cli.c shares with cli_compat.c, the options management software
 * (libvirt, LXD, Incus) writes: the parser's state, the property splitter
 * and the -device dispatch.  Not for other modules: they read the config.
 */
#ifndef GENVM_CLI_INT_H
#define GENVM_CLI_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "cli.h"

struct parser {
	struct genvm_config *cfg;
	FILE *out;
	FILE *err;
	const char *opt; /* the option as the user spelled it, or "FILE:LINE" */
};

/* "genvm: OPT VALUE: why" (VALUE may be NULL); returns -1. */
int cli_bad(struct parser *p, const char *value, const char *why);
/* The next "a=b" of a QEMU property list (",," is a comma): 1, 0 at the end, -1 too long. */
int cli_next_prop(const char **pos, char *buf, size_t size);
/* -device DRIVER with props ("a=b,c=d" or NULL); where names it in messages. */
int cli_device(struct parser *p, const char *where, const char *driver, size_t driver_len,
	       const char *props);
/* -m's argument ("1.5G", "size=512M"), for -m and for -readconfig's [memory]. */
int cli_opt_m(struct parser *p, const char *arg);

/* cli_compat.c: the options' handlers. */
int cli_opt_name(struct parser *p, const char *arg);
int cli_opt_uuid(struct parser *p, const char *arg);
/* The switches that ask for what genvm is anyway (-enable-kvm, -no-hpet...): accepted. */
int cli_opt_as_is(struct parser *p, const char *arg);
int cli_opt_daemonize(struct parser *p, const char *arg);
int cli_opt_pidfile(struct parser *p, const char *arg);
int cli_opt_nodefaults(struct parser *p, const char *arg);
int cli_opt_machine(struct parser *p, const char *arg);
int cli_opt_accel(struct parser *p, const char *arg);
int cli_opt_cpu(struct parser *p, const char *arg);
int cli_opt_smp(struct parser *p, const char *arg);
int cli_opt_chardev(struct parser *p, const char *arg);
int cli_opt_mon(struct parser *p, const char *arg);
int cli_opt_serial(struct parser *p, const char *arg);
int cli_opt_readconfig(struct parser *p, const char *arg);
int cli_opt_object(struct parser *p, const char *arg);
int cli_opt_overcommit(struct parser *p, const char *arg);
int cli_opt_rtc(struct parser *p, const char *arg);
int cli_opt_global(struct parser *p, const char *arg);
int cli_opt_boot(struct parser *p, const char *arg);
int cli_opt_msg(struct parser *p, const char *arg);
int cli_opt_no_shutdown(struct parser *p, const char *arg);
/* A JSON -device ('{"driver":"vmgenid","guid":...}') as libvirt writes it. */
int cli_device_json(struct parser *p, const char *arg);
/* After the whole command line: the checks that need all of it. */
int cli_compat_check(struct parser *p);

#endif
