/* SPDX-License-Identifier: MIT */
/*
 * Starting "/bin/sh -c COMMAND" for exec: snapshots, and waiting for it.
 *
 * Three modes, chosen once by main() before any guest runs:
 *
 *   direct   (the default; -sandbox off) genvm posix_spawns the shell
 *            itself and waitpids it.
 *   helper   (-sandbox on, spawn=allow) a small process forked from genvm
 *            at startup, before the sandbox and before guest RAM exists,
 *            starts the commands and reports their exit.  A seccomp filter
 *            survives fork and execve and cannot be removed, so a shell
 *            started by a sandboxed thread would run, and die, under
 *            genvm's allowlist; the helper has no filter.  genvm talks to
 *            it over a socket: a command and one fd go over, a pid and
 *            later an exit status come back.  The helper sets
 *            no_new_privs, so the commands cannot gain privileges through
 *            set-user-ID programs (QEMU's elevateprivileges=children).
 *   denied   (-sandbox on, spawn=deny) nothing is started: -EPERM.
 *
 * Either way the command runs in a process group of its own (kill(-pid)
 * reaches a whole pipeline), with child_fd (0 or 1) on pipe_end; when
 * child_fd is 1 its stdin is /dev/null.  Its other streams are genvm's
 * (the helper's copies of them).  SIGPIPE is back at its default and the
 * signal mask is empty.
 */
#ifndef GENVM_SPAWNER_H
#define GENVM_SPAWNER_H

#include <stdbool.h>
#include <sys/types.h>

/* Fork the helper (0, or -1 with a message on stderr). */
int spawner_start(void);
/* From now on spawner_spawn() refuses (-sandbox spawn=deny). */
void spawner_deny(void);
bool spawner_denied(void);
/* The helper's pid, or 0 when there is none. */
pid_t spawner_helper_pid(void);
/* Close the channel and reap the helper; back to the direct mode. */
void spawner_stop(void);

/*
 * Start "/bin/sh -c cmd" with child_fd on pipe_end.  0 with *pid, or
 * -errno (-EPERM when denied).  pipe_end stays the caller's to close.
 */
int spawner_spawn(const char *cmd, int child_fd, int pipe_end, pid_t *pid);
/* Wait for the command started as pid: 0 with its wait status, or -errno. */
int spawner_wait(pid_t pid, int *status);

#endif
