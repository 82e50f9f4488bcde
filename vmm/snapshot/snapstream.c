// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "snapfile.h"
#include "snapstream.h"
#include "spawner.h"
#include "why.h"

#define SKIP_CHUNK 16384

typedef unsigned long long ull;

/* ---- URIs ---- */

int snapuri_parse(const char *uri, struct snapuri *out, char *why, size_t why_len)
{
	const char *arg;

	if (!strncmp(uri, "file:", 5)) {
		out->kind = SNAPURI_FILE;
		arg = uri + 5;
		if (!*arg)
			return why_say(why, why_len, -EINVAL, "file: needs a path (file:PATH)");
	} else if (!strncmp(uri, "exec:", 5)) {
		out->kind = SNAPURI_EXEC;
		arg = uri + 5;
		if (!*arg)
			return why_say(why, why_len, -EINVAL,
				   "exec: needs a shell command (exec:COMMAND)");
	} else if (!strncmp(uri, "fd:", 3)) {
		out->kind = SNAPURI_FD;
		arg = uri + 3;
		if (!*arg)
			return why_say(why, why_len, -EINVAL, "fd: needs a name or number (fd:NAME)");
	} else {
		return why_say(why, why_len, -EINVAL,
			   "unsupported URI \"%.200s\": use file:PATH, exec:COMMAND or fd:NAME", uri);
	}
	out->fd = -1;
	if (out->kind == SNAPURI_FD && strspn(arg, "0123456789") == strlen(arg)) {
		/* A number names a descriptor genvm inherited, as in QEMU. */
		if (strlen(arg) > 5 || atoi(arg) > 65535)
			return why_say(why, why_len, -EBADF, "%s is not a file descriptor number", arg);
		out->fd = atoi(arg);
	}
	if (strlen(arg) >= sizeof(out->arg))
		return why_say(why, why_len, -ENAMETOOLONG, "the %s is longer than %d bytes",
			   out->kind == SNAPURI_FILE ? "path" : "command", SNAPURI_MAX - 1);
	strcpy(out->arg, arg);
	return 0;
}

/* ---- commands ---- */

/*
 * The shell starts through the spawner (directly, or through its helper
 * process when the sandbox is on).  The pipe ends are close-on-exec, so
 * neither this child nor one another thread spawns at the same time keeps
 * a copy that would hide the end of the stream.
 */
static int reap(pid_t pid, int *status)
{
	return spawner_wait(pid, status);
}

/* SIGKILL the whole pipeline: the shell's group outlives the shell's exit. */
static void kill_and_reap(pid_t pid)
{
	int status;

	kill(-pid, SIGKILL);
	reap(pid, &status);
}

/* 0 for a clean exit, else -ECHILD and what happened. */
static int check_status(int status, char *why, size_t why_len)
{
	if (WIFEXITED(status)) {
		if (!WEXITSTATUS(status))
			return 0;
		return why_say(why, why_len, -ECHILD, "command exited with status %d",
			   WEXITSTATUS(status));
	}
	if (WIFSIGNALED(status))
		return why_say(why, why_len, -ECHILD, "command killed by signal %d (%s)",
			   WTERMSIG(status), strsignal(WTERMSIG(status)));
	return why_say(why, why_len, -ECHILD, "command ended with wait status %#x", status);
}

/* ---- writing ---- */

/* Remember the first error; later calls return it. */
static int wfail(struct snapwriter *w, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int wfail(struct snapwriter *w, int err, const char *fmt, ...)
{
	va_list ap;

	if (w->err)
		return w->err;
	va_start(ap, fmt);
	vsnprintf(w->why, sizeof(w->why), fmt, ap);
	va_end(ap);
	w->err = err;
	return err;
}

static void split_dir(const char *path, char *dir, size_t size)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		snprintf(dir, size, ".");
	else if (slash == path)
		snprintf(dir, size, "/");
	else
		snprintf(dir, size, "%.*s", (int)(slash - path), path);
}

static int open_file_writer(const struct snapuri *u, struct snapwriter *w,
			    char *why, size_t why_len)
{
	struct stat st;
	int n;

	if (!stat(u->arg, &st) && !S_ISREG(st.st_mode))
		return why_say(why, why_len, -EINVAL,
			   "not a regular file (for a device or a pipe use exec:\"cat > PATH\")");
	n = snprintf(w->tmp, sizeof(w->tmp), "%s.XXXXXX", u->arg);
	if (n < 0 || (size_t)n >= sizeof(w->tmp))
		return why_say(why, why_len, -ENAMETOOLONG, "path is too long");
	snprintf(w->path, sizeof(w->path), "%s", u->arg);
	split_dir(u->arg, w->dir, sizeof(w->dir));
	w->fd = mkostemp(w->tmp, O_CLOEXEC);
	if (w->fd < 0)
		return why_say(why, why_len, -errno, "cannot create a temporary file in %s: %s",
			   w->dir, strerror(errno));
	return 0;
}

static int spawn_failed(char *why, size_t why_len, int err)
{
	if (err == -EPERM && spawner_denied())
		return why_say(why, why_len, err, "-sandbox on,spawn=deny forbids starting commands");
	return why_say(why, why_len, err, "cannot start /bin/sh: %s", strerror(-err));
}

/* Said before the pipe exists: under spawn=deny the sandbox forbids pipe2 too. */
static int check_spawn_allowed(char *why, size_t why_len)
{
	return spawner_denied() ? spawn_failed(why, why_len, -EPERM) : 0;
}

/*
 * Starts the command of an exec: URI with one end of a pipe as its stdin
 * (a save: genvm writes) or its stdout (a restore: genvm reads), and keeps
 * the other end in *fd.
 */
static int open_exec_pipe(const struct snapuri *u, bool genvm_writes, int *fd, pid_t *pid,
			  char *why, size_t why_len)
{
	int fds[2], err = check_spawn_allowed(why, why_len);
	int child_end, own_end;

	if (err)
		return err;
	if (pipe2(fds, O_CLOEXEC))
		return why_say(why, why_len, -errno, "pipe: %s", strerror(errno));
	child_end = genvm_writes ? fds[0] : fds[1];
	own_end = genvm_writes ? fds[1] : fds[0];
	err = spawner_spawn(u->arg, genvm_writes ? STDIN_FILENO : STDOUT_FILENO,
			    child_end, pid);
	close(child_end);
	if (err) {
		close(own_end);
		return spawn_failed(why, why_len, err);
	}
	*fd = own_end;
	return 0;
}

/* The descriptor becomes the stream's, closed with it. */
static int open_fd(const struct snapuri *u, int *fd, char *why, size_t why_len)
{
	struct stat st;

	if (u->fd < 0 || fstat(u->fd, &st) < 0)
		return why_say(why, why_len, -EBADF, "no open file descriptor %s", u->arg);
	*fd = u->fd;
	return 0;
}

int snapwriter_open(const struct snapuri *u, struct snapwriter *w, char *why, size_t why_len)
{
	int err;

	memset(w, 0, sizeof(*w));
	w->kind = u->kind;
	w->fd = -1;
	if (u->kind == SNAPURI_FILE)
		err = open_file_writer(u, w, why, why_len);
	else if (u->kind == SNAPURI_FD)
		err = open_fd(u, &w->fd, why, why_len);
	else
		err = open_exec_pipe(u, true, &w->fd, &w->pid, why, why_len);
	if (err)
		return err;
	w->open = true;
	return 0;
}

static const char *writer_target(const struct snapwriter *w)
{
	return w->kind == SNAPURI_FILE ? w->tmp :
	       w->kind == SNAPURI_FD ? "to the file descriptor" : "to the command";
}

/* All of buf at w->pos: pwrite for a file (holes may precede), write for a pipe. */
static int write_all(struct snapwriter *w, const uint8_t *buf, size_t len)
{
	ssize_t n;

	while (len) {
		if (w->kind == SNAPURI_FILE)
			n = pwrite(w->fd, buf, len, (off_t)w->pos);
		else
			n = write(w->fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EPIPE && w->kind == SNAPURI_EXEC) {
			w->epipe = true;
			return wfail(w, -EPIPE, "the command stopped reading its input "
				     "after at most %llu bytes: %s", (ull)w->pos, strerror(EPIPE));
		}
		if (n < 0)
			return wfail(w, -errno, "writing %s: %s", writer_target(w),
				     strerror(errno));
		if (n == 0) /* never for len > 0; do not spin if it does */
			return wfail(w, -EIO, "writing %s: no progress", writer_target(w));
		buf += n;
		len -= (size_t)n;
		w->pos += (uint64_t)n;
	}
	return 0;
}

static int writer_usable(struct snapwriter *w)
{
	if (w->err)
		return w->err;
	if (!w->open)
		return -EBADF;
	return 0;
}

int snapwriter_write(struct snapwriter *w, const void *buf, size_t len)
{
	int err = writer_usable(w);

	return err ? err : write_all(w, buf, len);
}

static bool all_zero(const uint8_t *p, size_t len)
{
	/* Each byte equals the next, and the first is 0. */
	return !len || (!p[0] && !memcmp(p, p + 1, len - 1));
}

int snapwriter_write_ram(struct snapwriter *w, const uint8_t *ram, uint64_t len)
{
	uint64_t off = 0, run = 0; /* run: start of the data not yet written */
	int err = writer_usable(w);

	if (err)
		return err;
	if (w->kind != SNAPURI_FILE)
		return write_all(w, ram, (size_t)len);
	while (off < len) {
		size_t chunk = len - off < SNAPFILE_PAGE ? (size_t)(len - off) : SNAPFILE_PAGE;

		if (all_zero(ram + off, chunk)) {
			err = write_all(w, ram + run, (size_t)(off - run));
			if (err)
				return err;
			w->pos += chunk; /* a hole: the file is sized at commit */
			run = off + chunk;
		}
		off += chunk;
	}
	return write_all(w, ram + run, (size_t)(off - run));
}

/* The directory entry must be on disk too; some filesystems cannot say. */
static int sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), err = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd) && errno != EINVAL && errno != ENOTSUP)
		err = -errno;
	close(fd);
	return err;
}

static int commit_file(struct snapwriter *w)
{
	int fd = w->fd, err;

	if (ftruncate(fd, (off_t)w->pos))
		return wfail(w, -errno, "sizing %s: %s", w->tmp, strerror(errno));
	if (fsync(fd))
		return wfail(w, -errno, "fsync of %s: %s", w->tmp, strerror(errno));
	w->fd = -1;
	if (close(fd))
		return wfail(w, -errno, "closing %s: %s", w->tmp, strerror(errno));
	if (rename(w->tmp, w->path))
		return wfail(w, -errno, "renaming %s into place: %s", w->tmp, strerror(errno));
	w->open = false; /* from here on the snapshot is PATH's */
	err = sync_dir(w->dir);
	if (err)
		return wfail(w, err, "fsync of directory %s: %s (the snapshot is in place "
			     "but may not survive a crash)", w->dir, strerror(-err));
	return 0;
}

static int commit_exec(struct snapwriter *w)
{
	char what[sizeof(w->why)];
	int status, err;

	close(w->fd);
	w->fd = -1;
	err = reap(w->pid, &status);
	w->open = false;
	if (err)
		return wfail(w, err, "waiting for the command: %s", strerror(-err));
	err = check_status(status, what, sizeof(what));
	if (err) {
		/* Its own failure explains a broken pipe better than EPIPE does. */
		w->err = 0;
		return wfail(w, err, "%s", what);
	}
	return w->err;
}

/* Whoever passed the descriptor reads the end of the stream when it closes. */
static int commit_fd(struct snapwriter *w)
{
	int fd = w->fd;

	w->fd = -1;
	w->open = false;
	if (close(fd))
		return wfail(w, -errno, "closing the file descriptor: %s", strerror(errno));
	return 0;
}

int snapwriter_commit(struct snapwriter *w, char *why, size_t why_len)
{
	int err;

	if (!w->open)
		return why_say(why, why_len, -EBADF, "the snapshot writer is not open");
	if (w->kind == SNAPURI_EXEC)
		err = commit_exec(w);
	else if (w->kind == SNAPURI_FD)
		err = w->err ? w->err : commit_fd(w);
	else
		err = w->err ? w->err : commit_file(w);
	if (err) {
		snapwriter_abort(w);
		why_say(why, why_len, err, "%s", w->why);
	}
	return err;
}

void snapwriter_abort(struct snapwriter *w)
{
	if (!w->open)
		return;
	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
	if (w->kind == SNAPURI_FILE)
		unlink(w->tmp);
	else if (w->kind == SNAPURI_EXEC)
		kill_and_reap(w->pid);
	w->open = false;
}

/* ---- reading ---- */

static int open_file_reader(const struct snapuri *u, struct snapreader *r,
			    char *why, size_t why_len)
{
	struct stat st;

	r->fd = open(u->arg, O_RDONLY | O_CLOEXEC);
	if (r->fd < 0)
		return why_say(why, why_len, -errno, "%s", strerror(errno));
	if (fstat(r->fd, &st)) {
		int err = -errno;

		close(r->fd);
		return why_say(why, why_len, err, "fstat: %s", strerror(-err));
	}
	if (!S_ISREG(st.st_mode)) {
		close(r->fd);
		return why_say(why, why_len, -EINVAL,
			   "not a regular file (for a device or a pipe use exec:\"cat PATH\")");
	}
	r->size = (uint64_t)st.st_size;
	return 0;
}


int snapreader_open(const struct snapuri *u, struct snapreader *r, char *why, size_t why_len)
{
	int err;

	memset(r, 0, sizeof(*r));
	r->kind = u->kind;
	r->fd = -1;
	if (u->kind == SNAPURI_FILE)
		err = open_file_reader(u, r, why, why_len);
	else if (u->kind == SNAPURI_FD)
		err = open_fd(u, &r->fd, why, why_len);
	else
		err = open_exec_pipe(u, false, &r->fd, &r->pid, why, why_len);
	if (err)
		return err;
	r->open = true;
	return 0;
}

/*
 * The stream ended early.  A command that closed its output has usually
 * exited, and if it failed, that is the better explanation.
 */
static int ended(struct snapreader *r, char *why, size_t why_len)
{
	int err;

	if (r->kind == SNAPURI_EXEC && r->pid) {
		err = reap(r->pid, &r->status);
		if (err)
			return why_say(why, why_len, err, "waiting for the command: %s",
				   strerror(-err));
		r->pid = 0;
		err = check_status(r->status, why, why_len);
		if (err)
			return err;
	}
	return why_say(why, why_len, -EBADMSG, "truncated: the stream ended after %llu bytes",
		   (ull)r->pos);
}

int snapreader_read(struct snapreader *r, void *buf, size_t len, char *why, size_t why_len)
{
	uint8_t *p = buf;
	ssize_t n;

	if (!r->open)
		return why_say(why, why_len, -EBADF, "the snapshot reader is not open");
	while (len) {
		if (r->kind == SNAPURI_FILE)
			n = pread(r->fd, p, len, (off_t)r->pos);
		else
			n = read(r->fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return why_say(why, why_len, -errno, "read: %s", strerror(errno));
		if (n == 0)
			return ended(r, why, why_len);
		p += n;
		len -= (size_t)n;
		r->pos += (uint64_t)n;
	}
	return 0;
}

int snapreader_skip(struct snapreader *r, uint64_t n, char *why, size_t why_len)
{
	uint8_t junk[SKIP_CHUNK];
	int err;

	if (!r->open)
		return why_say(why, why_len, -EBADF, "the snapshot reader is not open");
	if (r->kind == SNAPURI_FILE) {
		/* The size is known: no need to touch the bytes. */
		if (r->pos > r->size || n > r->size - r->pos) {
			r->pos = r->size > r->pos ? r->size : r->pos;
			return ended(r, why, why_len);
		}
		r->pos += n;
		return 0;
	}
	while (n) {
		size_t chunk = n < sizeof(junk) ? (size_t)n : sizeof(junk);

		err = snapreader_read(r, junk, chunk, why, why_len);
		if (err)
			return err;
		n -= chunk;
	}
	return 0;
}

int snapreader_close(struct snapreader *r, char *why, size_t why_len)
{
	int err;

	if (!r->open)
		return 0;
	close(r->fd);
	r->fd = -1;
	r->open = false;
	if (r->kind != SNAPURI_EXEC)
		return 0;
	if (r->pid) { /* else a read at the end of the stream reaped it */
		err = reap(r->pid, &r->status);
		r->pid = 0;
		if (err)
			return why_say(why, why_len, err, "waiting for the command: %s",
				   strerror(-err));
	}
	return check_status(r->status, why, why_len);
}

void snapreader_abort(struct snapreader *r)
{
	if (!r->open)
		return;
	close(r->fd);
	r->fd = -1;
	r->open = false;
	if (r->kind == SNAPURI_EXEC && r->pid) {
		kill_and_reap(r->pid);
		r->pid = 0;
	}
}
