// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "spawner.h"

#define CMD_MAX 4096 /* a command with its NUL: snapstream's SNAPURI_MAX */

extern char **environ;

enum { MODE_DIRECT, MODE_HELPER, MODE_DENIED };

static int mode = MODE_DIRECT;
static int chan = -1;      /* genvm's end of the helper's socket */
static pid_t helper = 0;

struct request {
	int32_t child_fd;
	char cmd[CMD_MAX];
};

enum { REPLY_STARTED = 1, REPLY_ENDED = 2 };

struct reply {
	int32_t kind;
	int32_t err;    /* REPLY_STARTED: 0 or -errno */
	int32_t pid;
	int32_t status; /* REPLY_ENDED: the wait status */
};

/* posix_spawn of the shell: what both modes run. */
static int spawn_shell(const char *cmd, int child_fd, int pipe_end, pid_t *pid)
{
	char *argv[] = { (char *)"sh", (char *)"-c", (char *)cmd, NULL };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, dfl;
	int err;

	sigemptyset(&none);
	sigemptyset(&dfl);
	sigaddset(&dfl, SIGPIPE); /* genvm ignores it; the command must not */
	err = posix_spawn_file_actions_init(&fa);
	if (err)
		return -err;
	err = posix_spawnattr_init(&attr);
	if (err) {
		posix_spawn_file_actions_destroy(&fa);
		return -err;
	}
	err = posix_spawn_file_actions_adddup2(&fa, pipe_end, child_fd);
	if (!err && child_fd == STDOUT_FILENO)
		err = posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null",
						       O_RDONLY, 0);
	if (!err)
		err = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP |
					       POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
	if (!err)
		err = posix_spawnattr_setpgroup(&attr, 0);
	if (!err)
		err = posix_spawnattr_setsigdefault(&attr, &dfl);
	if (!err)
		err = posix_spawnattr_setsigmask(&attr, &none);
	if (!err)
		err = posix_spawn(pid, "/bin/sh", &fa, &attr, argv, environ);
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&fa);
	return -err;
}

static int send_reply(int fd, const struct reply *r)
{
	ssize_t n;

	do
		n = send(fd, r, sizeof(*r), MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n == (ssize_t)sizeof(*r) ? 0 : -1;
}

/* One request: the command and the pipe end that comes with it. */
static ssize_t recv_request(int fd, struct request *req, int *pipe_end)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = { req, sizeof(*req) };
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = u.buf,
		.msg_controllen = sizeof(u.buf),
	};
	struct cmsghdr *c;
	ssize_t n;

	*pipe_end = -1;
	do
		n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	for (c = n > 0 ? CMSG_FIRSTHDR(&msg) : NULL; c; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
		    c->cmsg_len == CMSG_LEN(sizeof(int)) && *pipe_end < 0)
			memcpy(pipe_end, CMSG_DATA(c), sizeof(int));
	}
	return n;
}

/*
 * The helper: one command at a time, as genvm asks (one migration runs at
 * a time).  It ends when genvm closes the socket or dies.
 */
static void helper_main(int fd)
{
	struct request req;
	int pipe_end;

	for (;;) {
		struct reply r = { .kind = REPLY_STARTED };
		ssize_t n = recv_request(fd, &req, &pipe_end);
		pid_t pid = 0;
		int status;

		if (n <= 0)
			_exit(0);
		if ((size_t)n != sizeof(req) || pipe_end < 0 ||
		    (req.child_fd != STDIN_FILENO && req.child_fd != STDOUT_FILENO) ||
		    !memchr(req.cmd, '\0', sizeof(req.cmd)))
			r.err = -EINVAL;
		else
			r.err = spawn_shell(req.cmd, req.child_fd, pipe_end, &pid);
		if (pipe_end >= 0)
			close(pipe_end);
		r.pid = (int32_t)pid;
		if (send_reply(fd, &r) < 0)
			_exit(0);
		if (r.err)
			continue;
		while (waitpid(pid, &status, 0) < 0) {
			if (errno != EINTR)
				_exit(1);
		}
		r = (struct reply){ .kind = REPLY_ENDED, .pid = (int32_t)pid, .status = status };
		if (send_reply(fd, &r) < 0)
			_exit(0);
	}
}

int spawner_start(void)
{
	pid_t parent = getpid(), pid;
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		fprintf(stderr, "genvm: sandbox: command helper: socketpair: %s\n", strerror(errno));
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "genvm: sandbox: command helper: fork: %s\n", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	if (pid == 0) {
		close(sv[0]);
		/* Gone with genvm, even after a SIGKILL that leaves no EOF behind. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(0);
		/* Out of the terminal's foreground group: Ctrl-C is genvm's to handle. */
		setpgid(0, 0);
		/* No command may gain privileges through a set-user-ID program. */
		prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
		helper_main(sv[1]);
		_exit(0);
	}
	close(sv[1]);
	chan = sv[0];
	helper = pid;
	mode = MODE_HELPER;
	return 0;
}

void spawner_deny(void)
{
	mode = MODE_DENIED;
}

bool spawner_denied(void)
{
	return mode == MODE_DENIED;
}

pid_t spawner_helper_pid(void)
{
	return helper;
}

void spawner_stop(void)
{
	int status;

	if (chan >= 0)
		close(chan);
	chan = -1;
	if (helper > 0) {
		while (waitpid(helper, &status, 0) < 0 && errno == EINTR)
			;
	}
	helper = 0;
	mode = MODE_DIRECT;
}

static int recv_reply(struct reply *r)
{
	ssize_t n;

	do
		n = recv(chan, r, sizeof(*r), 0);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return n == (ssize_t)sizeof(*r) ? 0 : -EPIPE; /* 0 bytes: the helper is gone */
}

static int helper_spawn(const char *cmd, int child_fd, int pipe_end, pid_t *pid)
{
	static struct request req; /* 4 KiB: off the caller's stack */
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = { &req, sizeof(req) };
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = u.buf,
		.msg_controllen = sizeof(u.buf),
	};
	struct cmsghdr *c;
	struct reply r;
	ssize_t n;
	int err;

	if (strlen(cmd) >= sizeof(req.cmd))
		return -ENAMETOOLONG;
	memset(&req, 0, sizeof(req));
	req.child_fd = child_fd;
	strcpy(req.cmd, cmd);
	memset(&u, 0, sizeof(u));
	c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &pipe_end, sizeof(int));
	do
		n = sendmsg(chan, &msg, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	err = recv_reply(&r);
	if (err)
		return err;
	if (r.kind != REPLY_STARTED)
		return -EPROTO;
	if (r.err)
		return r.err;
	*pid = (pid_t)r.pid;
	return 0;
}

int spawner_spawn(const char *cmd, int child_fd, int pipe_end, pid_t *pid)
{
	switch (mode) {
	case MODE_DENIED:
		return -EPERM;
	case MODE_HELPER:
		return helper_spawn(cmd, child_fd, pipe_end, pid);
	default:
		return spawn_shell(cmd, child_fd, pipe_end, pid);
	}
}

int spawner_wait(pid_t pid, int *status)
{
	struct reply r;
	int err;

	if (mode != MODE_HELPER) {
		while (waitpid(pid, status, 0) < 0) {
			if (errno != EINTR)
				return -errno;
		}
		return 0;
	}
	err = recv_reply(&r);
	if (err)
		return err;
	if (r.kind != REPLY_ENDED || r.pid != (int32_t)pid)
		return -EPROTO;
	*status = r.status;
	return 0;
}
