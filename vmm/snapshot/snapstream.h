/* SPDX-License-Identifier: MIT */
/*
 * Moving a snapshot's bytes to and from where the user said, in QEMU's
 * spellings:
 *
 *   file:PATH       a regular file.  Saving writes a temporary file
 *                   "PATH.XXXXXX" beside PATH (mode 0600: it holds guest
 *                   memory), fsyncs it, renames it onto PATH and fsyncs the
 *                   directory, so PATH holds either the old file or the
 *                   whole new snapshot.  Zero pages of RAM become holes.
 *   exec:COMMAND    "/bin/sh -c COMMAND" in its own process group, reading
 *                   the snapshot on its stdin (saving) or writing it to its
 *                   stdout (restoring; its stdin is then /dev/null).  Its
 *                   other standard streams are genvm's.  A non-zero exit
 *                   status is an error.
 *   fd:NAME         a file descriptor: for migrate, one a QMP client passed
 *                   with getfd under NAME (the caller resolves it); for
 *                   -incoming, fd:N, one genvm inherited.  Read and written
 *                   in sequence, like a pipe, and closed at the end.
 *
 * Why mkstemp and rename rather than O_TMPFILE and linkat: linkat cannot
 * replace an existing PATH, so it would need a second name and a rename
 * anyway, and O_TMPFILE is missing on some filesystems (older NFS, FUSE).
 * The cost is a stray PATH.XXXXXX if genvm dies mid-save.  A PATH that
 * exists and is not a regular file (a device, a fifo) is refused rather
 * than replaced; a symlink is replaced, not followed.
 *
 * Why posix_spawn: glibc's clones without copying the page tables of a
 * process that maps all of guest RAM, and it is safe while other threads
 * run.  The child gets SIGPIPE back at its default and an empty signal
 * mask; genvm keeps SIGPIPE ignored (main() does so, and callers of this
 * module must), so a command that stops reading is an EPIPE, not a crash.
 * Commands start through spawner.h: under the sandbox a helper process
 * outside it starts them, and under spawn=deny they are refused.
 *
 * Messages never repeat the URI: the caller prefixes it, as in
 * "genvm: incoming: PATH: truncated: the stream ended after 4096 bytes".
 * They carry errno's text where there is one.  Every why buffer is
 * always NUL-terminated.  Functions return 0 or a negative errno
 * (-EBADMSG for bad data, -ECHILD for a command that failed).
 */
#ifndef GENVM_SNAPSTREAM_H
#define GENVM_SNAPSTREAM_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define SNAPURI_MAX 4096 /* path or command, with its NUL */

enum snapuri_kind {
	SNAPURI_FILE,
	SNAPURI_EXEC,
	SNAPURI_FD,
};

struct snapuri {
	enum snapuri_kind kind;
	char arg[SNAPURI_MAX]; /* the path, the shell command or the fd's name */
	int fd;                /* SNAPURI_FD: the descriptor (N for "fd:N"), else -1 */
};

/* "file:PATH", "exec:COMMAND" or "fd:NAME", all non-empty; anything else says so. */
int snapuri_parse(const char *uri, struct snapuri *out, char *why, size_t why_len);

/*
 * Writing.  Errors are sticky, as in bytebuf: after the first failure
 * every write returns the same error without doing anything, and commit
 * reports it with its message.  So a caller may write the header, the
 * state and the RAM and look only at commit's answer, or stop early.
 */
struct snapwriter {
	enum snapuri_kind kind;
	int fd;         /* the temporary file, or the pipe to the command */
	pid_t pid;      /* exec: the shell, leader of its process group */
	uint64_t pos;   /* bytes of the snapshot so far, holes included */
	bool open;
	bool epipe;     /* exec: the command stopped reading */
	int err;        /* the first error, or 0 */
	char why[320];  /* ... and what it was */
	char path[PATH_MAX];
	char tmp[PATH_MAX];
	char dir[PATH_MAX];
};

/* Create the temporary file or start the command. */
int snapwriter_open(const struct snapuri *u, struct snapwriter *w, char *why, size_t why_len);
/* The next len bytes, in order (EINTR and short writes handled). */
int snapwriter_write(struct snapwriter *w, const void *buf, size_t len);
/*
 * The next len bytes, a RAM image: to a file, all-zero 4 KiB pages (counted
 * from ram) are skipped and stay holes; to a command, everything is written.
 */
int snapwriter_write_ram(struct snapwriter *w, const uint8_t *ram, uint64_t len);
/*
 * Finish: file: size the file, fsync, close, rename onto PATH, fsync the
 * directory.  exec: close the pipe and wait for the shell; a non-zero
 * status or a signal is an error, and outranks a write error (a command
 * that failed usually stopped reading first).  On any error nothing is
 * left behind, as by abort.  The writer is closed either way.
 */
int snapwriter_commit(struct snapwriter *w, char *why, size_t why_len);
/*
 * Give up: remove the temporary file, or SIGKILL the command's process
 * group and reap the shell.  PATH keeps its old content.  Safe after
 * commit and after a failed open (it does nothing).
 */
void snapwriter_abort(struct snapwriter *w);

/*
 * Reading.  For a file the caller may use fd and size directly (to mmap
 * the RAM image MAP_PRIVATE); for a command size is 0 and only sequential
 * reads work.
 */
struct snapreader {
	enum snapuri_kind kind;
	int fd;         /* the file, or the pipe from the command */
	pid_t pid;      /* exec: the shell; 0 once reaped */
	uint64_t size;  /* file: its size; exec: 0 */
	uint64_t pos;   /* bytes consumed so far */
	bool open;
	int status;     /* exec: wait status once reaped */
};

/* Open the file read-only (a regular file only), or start the command. */
int snapreader_open(const struct snapuri *u, struct snapreader *r, char *why, size_t why_len);
/*
 * Exactly len bytes, or an error: "truncated: the stream ended after N
 * bytes" (-EBADMSG), or for a command that ended its output by failing,
 * its exit status instead (-ECHILD).
 */
int snapreader_read(struct snapreader *r, void *buf, size_t len, char *why, size_t why_len);
/* Pass over n bytes (the padding before the RAM), with read's errors. */
int snapreader_skip(struct snapreader *r, uint64_t n, char *why, size_t why_len);
/*
 * Done reading: close, and for a command wait for it and report a
 * non-zero status or a signal.  A command still writing when this is
 * called gets SIGPIPE, which counts as failure: read everything first.
 */
int snapreader_close(struct snapreader *r, char *why, size_t why_len);
/* Give up: close, SIGKILL the command's process group, reap it. */
void snapreader_abort(struct snapreader *r);

#endif
