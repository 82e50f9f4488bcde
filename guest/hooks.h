/* SPDX-License-Identifier: MIT */
/*
 * What vmgenid watch runs on a change: one command (--exec) and the
 * executables of a drop-in directory (default /etc/vmgenid/on-change.d),
 * in lexical order, one at a time, each with the change in its environment
 * and a timeout.  A hook that fails or hangs is logged (and killed, with
 * its process group) and the next one runs all the same.
 */
#ifndef VMGENID_GUEST_HOOKS_H
#define VMGENID_GUEST_HOOKS_H

#include <stdbool.h>
#include <stddef.h>

#define HOOKS_DIR "/etc/vmgenid/on-change.d"
#define HOOKS_TIMEOUT_S 60
#define HOOKS_MAX 256
#define HOOKS_GRACE_MS 2000 /* between SIGTERM and SIGKILL on a timeout */

enum hook_outcome {
	HOOK_OK,
	HOOK_FAILED,    /* nonzero exit or killed by a signal */
	HOOK_TIMED_OUT, /* killed after its timeout */
	HOOK_NOT_RUN,   /* fork or exec impossible */
};

/*
 * Run argv (argv[0] a path) with env ("KEY=VALUE" strings, NULL-ended) added
 * to ours, stdin /dev/null and stdout sent to our stderr (stdout carries the
 * change reports), for at most timeout_ms.  label names it in the log.
 */
enum hook_outcome hooks_run(char *const argv[], char *const env[], unsigned int timeout_ms,
			    const char *label);

/*
 * The hooks of dir, sorted (strcmp, so the C locale's order): regular
 * files (or links to them) with an execute bit, without a leading '.', a
 * trailing '~' or a package manager's ".dpkg-" suffix.  0 with *names
 * (free with hooks_free) and *n; -ENOENT without the directory; other
 * errors with why.
 */
int hooks_list(const char *dir, char ***names, size_t *n, char *why, size_t cap);
void hooks_free(char **names, size_t n);

struct hooks_result {
	unsigned int ran, failed, timed_out;
};

/* Every hook of dir in order, as hooks_run runs one. */
void hooks_run_dir(const char *dir, char *const env[], unsigned int timeout_ms,
		   struct hooks_result *r);

#endif
