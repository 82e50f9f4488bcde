/* SPDX-License-Identifier: MIT */
/*
 * The sandbox (-sandbox on, the default): once the machine is set up,
 * every genvm thread runs under a seccomp-bpf allowlist made for what its
 * kind of thread does (docs/sandbox.md lists them and says why).
 *
 * A filter belongs to a thread and to every thread it starts later, and
 * filters only add up: a thread that enters its own list while it already
 * runs under another gets what both allow.  The main loop starts threads
 * after it entered its list (vCPUs again on every reset, the migration
 * writer), so its list holds every other kind's as well.
 *
 * A call outside the list never runs: the thread gets SIGSYS
 * (SECCOMP_RET_TRAP), whose handler writes one line naming the thread
 * kind and the call, puts the terminal back and ends genvm with status
 * SANDBOX_EXIT_STATUS.  Why a trap rather than SECCOMP_RET_KILL_PROCESS:
 * the kill leaves only "Bad system call" from the shell and, with audit
 * on, a kernel log line an operator may not be able to read; the trap
 * lets genvm say which call in which thread, which is what a bug report
 * needs.  It is no weaker: the call is refused either way, and the filter
 * refuses rt_sigaction and (but in sanitizer builds) sigaltstack, so no
 * one can take the handler's place; a thread that blocks SIGSYS is killed
 * by the kernel instead.
 */
#ifndef GENVM_SANDBOX_H
#define GENVM_SANDBOX_H

#include <stdbool.h>
#include <termios.h>

#define SANDBOX_EXIT_STATUS 159 /* 128 + SIGSYS, as a shell reports that signal */

/* One allowlist per kind of thread.  Add a kind here and in sandbox.c's table. */
enum sandbox_kind {
	SANDBOX_MAIN,    /* the main loop: QMP, monitor, console, reset, migrate */
	SANDBOX_VCPU,    /* KVM_RUN and the port I/O devices */
	SANDBOX_MIGRATE, /* the snapshot writer */
	SANDBOX_DEVICE,  /* a device's I/O worker (virtio-blk, virtio-rng) */
	SANDBOX_VSOCK,   /* the vsock device's worker: its unix sockets */
	SANDBOX_NR_KINDS
};

struct sandbox_config {
	bool spawn; /* exec: commands may start (through spawner.h's helper) */
};

/*
 * Build every kind's filter and install the SIGSYS handler.  Call once,
 * from the main thread, before any thread that will enter a list starts.
 * 0, or -1 with a message on stderr (a kernel without seccomp filters).
 */
int sandbox_prepare(const struct sandbox_config *cfg);
bool sandbox_prepared(void);

/*
 * The calling thread enters its kind's list, for good.  0, or -errno;
 * does nothing (0) when sandbox_prepare() was not called (-sandbox off).
 */
int sandbox_enter(enum sandbox_kind kind);

/* "vCPU thread" and so on, as the SIGSYS message says it. */
const char *sandbox_kind_name(enum sandbox_kind kind);

/* The terminal settings the SIGSYS handler puts back (NULL: none). */
void sandbox_set_tty(const struct termios *saved);

#endif
