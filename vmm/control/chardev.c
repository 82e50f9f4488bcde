// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "chardev.h"
#include "loop.h"

#define READ_CHUNK 4096

struct chardev {
	struct loop *loop;
	struct chardev_spec spec;
	const struct chardev_ops *ops;
	void *opaque;
	char label[160]; /* "-qmp unix:..." for messages */

	int listen_fd;
	int in_fd, out_fd;   /* the client; the same fd for sockets */
	int pend_in, pend_out; /* stdio, fifos, device: opened, not yet started */
	bool own_fds;        /* false for stdio */
	bool blocking_out;   /* stdio: plain blocking writes */
	bool connected;
	bool hangup_pending;
	bool room_wait;      /* ops->room said 0: reading waits for a timer */
	bool unlink_on_free;

	char *out;
	size_t out_len, out_cap;
};

/* ---- parsing ---- */

static int set_flag(const char *value, bool *flag, const char **why)
{
	static const char *const yes[] = { "on", "yes", "true" };
	static const char *const no[] = { "off", "no", "false" };

	if (!value) { /* bare "server": QEMU's old short form */
		*flag = true;
		return 0;
	}
	for (size_t i = 0; i < 3; i++) {
		if (!strcmp(value, yes[i])) {
			*flag = true;
			return 0;
		}
		if (!strcmp(value, no[i])) {
			*flag = false;
			return 0;
		}
	}
	*why = "expected on or off";
	return -EINVAL;
}

/*
 * Copy the first comma-separated field of *p into dst (",," is a literal
 * comma, as in QEMU's option syntax) and advance *p past it.
 */
static int take_field(const char **p, char *dst, size_t size)
{
	size_t n = 0;
	const char *s = *p;

	while (*s) {
		if (*s == ',') {
			if (s[1] != ',')
				break;
			s++;
		}
		if (n + 1 >= size)
			return -ENAMETOOLONG;
		dst[n++] = *s++;
	}
	dst[n] = '\0';
	*p = *s == ',' ? s + 1 : s;
	return 0;
}

static int parse_options(const char *opts, struct chardev_spec *spec, bool socket,
			 const char **why)
{
	bool wait_given = false;

	spec->server = false;
	spec->wait = true;
	while (opts && *opts) {
		char opt[64], *eq;
		const char *value;

		if (take_field(&opts, opt, sizeof(opt)) < 0) {
			*why = "option too long";
			return -EINVAL;
		}
		if (!opt[0])
			continue;
		eq = strchr(opt, '=');
		value = eq ? eq + 1 : NULL;
		if (eq)
			*eq = '\0';
		if (socket && !strcmp(opt, "server")) {
			if (set_flag(value, &spec->server, why) < 0)
				return -EINVAL;
		} else if (socket && !strcmp(opt, "wait")) {
			if (set_flag(value, &spec->wait, why) < 0)
				return -EINVAL;
			wait_given = true;
		} else if (socket && !strcmp(opt, "nowait") && !value) {
			spec->wait = false;
			wait_given = true;
		} else if (spec->kind == CHARDEV_TCP &&
			   (!strcmp(opt, "nodelay") || !strcmp(opt, "ipv4") || !strcmp(opt, "ipv6"))) {
			/* Accepted for compatibility; the address decides the family. */
		} else if (spec->kind == CHARDEV_STDIO && !strcmp(opt, "signal")) {
			bool ignored;

			if (set_flag(value, &ignored, why) < 0)
				return -EINVAL;
		} else {
			*why = "unknown option (this backend takes server=, wait=)";
			return -EINVAL;
		}
	}
	if (socket && !spec->server) {
		*why = wait_given ? "wait= needs server=on" :
				    "client mode is not supported: add server=on";
		return -EINVAL;
	}
	if (!socket)
		spec->wait = false;
	return 0;
}

static int parse_tcp(const char *addr, struct chardev_spec *spec, const char **why)
{
	char hostport[CHARDEV_HOST_MAX + 16];
	const char *colon;
	char *end;
	unsigned long port;
	size_t hlen;

	if (take_field(&addr, hostport, sizeof(hostport)) < 0) {
		*why = "address too long";
		return -EINVAL;
	}
	colon = strrchr(hostport, ':');
	if (!colon) {
		*why = "expected tcp:HOST:PORT";
		return -EINVAL;
	}
	hlen = (size_t)(colon - hostport);
	/* [v6 address] */
	if (hlen >= 2 && hostport[0] == '[' && hostport[hlen - 1] == ']') {
		if (hlen - 2 >= sizeof(spec->host))
			goto too_long;
		memcpy(spec->host, hostport + 1, hlen - 2);
		spec->host[hlen - 2] = '\0';
	} else if (memchr(hostport, ':', hlen)) {
		*why = "an IPv6 address needs brackets: tcp:[ADDR]:PORT";
		return -EINVAL;
	} else {
		if (hlen >= sizeof(spec->host))
			goto too_long;
		memcpy(spec->host, hostport, hlen);
		spec->host[hlen] = '\0';
	}
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (!colon[1] || *end || errno || port == 0 || port > 65535 || colon[1] < '0' ||
	    colon[1] > '9') {
		*why = "port must be a number from 1 to 65535";
		return -EINVAL;
	}
	snprintf(spec->port, sizeof(spec->port), "%lu", port);
	return parse_options(addr, spec, true, why);
too_long:
	/* hostport has room for more than spec->host holds: say so, copy nothing. */
	*why = "host name too long (at most 255 characters)";
	return -EINVAL;
}

int chardev_parse(const char *text, struct chardev_spec *spec, const char **why)
{
	const char *rest;

	memset(spec, 0, sizeof(*spec));
	if (!strcmp(text, "stdio") || !strncmp(text, "stdio,", 6)) {
		spec->kind = CHARDEV_STDIO;
		return parse_options(text[5] ? text + 6 : NULL, spec, false, why);
	}
	if (!strncmp(text, "unix:", 5)) {
		spec->kind = CHARDEV_UNIX;
		rest = text + 5;
		if (take_field(&rest, spec->path, sizeof(spec->path)) < 0) {
			*why = "socket path too long (at most 107 bytes)";
			return -EINVAL;
		}
		if (!spec->path[0]) {
			*why = "empty socket path";
			return -EINVAL;
		}
		return parse_options(rest, spec, true, why);
	}
	if (!strncmp(text, "tcp:", 4)) {
		spec->kind = CHARDEV_TCP;
		return parse_tcp(text + 4, spec, why);
	}
	if (!strncmp(text, "pipe:", 5)) {
		spec->kind = CHARDEV_PIPE;
		rest = text + 5;
		/* Room for the ".out" suffix. */
		if (take_field(&rest, spec->path, sizeof(spec->path) - 4) < 0) {
			*why = "path too long";
			return -EINVAL;
		}
		if (!spec->path[0]) {
			*why = "empty path";
			return -EINVAL;
		}
		return parse_options(rest, spec, false, why);
	}
	if (!strncmp(text, "/dev/", 5)) {
		spec->kind = CHARDEV_DEVICE;
		rest = text;
		if (take_field(&rest, spec->path, sizeof(spec->path)) < 0) {
			*why = "path too long";
			return -EINVAL;
		}
		return parse_options(rest, spec, false, why);
	}
	*why = "unknown character device (expected unix:PATH,server=on, tcp:HOST:PORT,server=on, "
	       "stdio, pipe:PATH or a /dev path)";
	return -EINVAL;
}

/* ---- runtime ---- */

static void on_room_retry(struct loop *l, void *opaque);

static void fail(const struct chardev *c, const char *what, int err)
{
	fprintf(stderr, "genvm: %s: %s: %s\n", c->label, what, strerror(err));
}

static void update_mask(struct chardev *c)
{
	unsigned int mask = 0;

	if (!c->connected)
		return;
	if (c->out_len && !c->blocking_out) {
		/* A fifo or device has its own out fd; a socket shares one. */
		if (c->out_fd != c->in_fd)
			loop_set_mask(c->loop, c->out_fd, LOOP_WRITE);
		else
			mask |= LOOP_WRITE;
	} else if (c->out_fd != c->in_fd && !c->blocking_out) {
		loop_set_mask(c->loop, c->out_fd, 0);
	}
	/* Back-pressure: no new requests while their answers pile up, or no room. */
	if (!c->hangup_pending && !c->room_wait &&
	    (c->out_len < CHARDEV_BACKLOG || c->blocking_out))
		mask |= LOOP_READ;
	loop_set_mask(c->loop, c->in_fd, mask);
}

static void disconnect(struct chardev *c)
{
	if (!c->connected)
		return;
	loop_del_fd(c->loop, c->in_fd);
	if (c->out_fd != c->in_fd)
		loop_del_fd(c->loop, c->out_fd);
	if (c->own_fds) {
		close(c->in_fd);
		if (c->out_fd != c->in_fd)
			close(c->out_fd);
	}
	c->in_fd = c->out_fd = -1;
	c->connected = false;
	c->hangup_pending = false;
	c->out_len = 0;
	if (c->listen_fd >= 0)
		loop_set_mask(c->loop, c->listen_fd, LOOP_READ);
	c->ops->closed(c->opaque);
}

/* Write what the fd takes now; false when the client is gone. */
static bool drain(struct chardev *c)
{
	size_t done = 0;

	while (done < c->out_len) {
		ssize_t n = write(c->out_fd, c->out + done, c->out_len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0) {
			c->out_len = 0;
			return false;
		}
		done += (size_t)n;
	}
	memmove(c->out, c->out + done, c->out_len - done);
	c->out_len -= done;
	return true;
}

static void after_write(struct chardev *c, bool alive)
{
	if (!alive || (c->hangup_pending && !c->out_len))
		disconnect(c);
	else
		update_mask(c);
}

/*
 * A read, and on a unix socket a recvmsg that also takes the descriptors
 * a client passes (QMP getfd).  Any beyond what fits are closed.
 */
static ssize_t receive(struct chardev *c, char *buf, size_t len)
{
	union {
		struct cmsghdr align;
		char space[CMSG_SPACE(4 * sizeof(int))];
	} control;
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = control.space, .msg_controllen = sizeof(control.space) };
	ssize_t n;

	if (c->spec.kind != CHARDEV_UNIX && c->spec.kind != CHARDEV_FD)
		return read(c->in_fd, buf, len);
	n = recvmsg(c->in_fd, &msg, MSG_CMSG_CLOEXEC);
	if (n < 0 && errno == ENOTSOCK)
		return read(c->in_fd, buf, len);
	for (struct cmsghdr *cm = n < 0 ? NULL : CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
		size_t nfds;

		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		nfds = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < nfds; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(fd));
			if (c->ops->fd_received)
				c->ops->fd_received(c->opaque, fd);
			else
				close(fd);
		}
	}
	return n;
}

static void on_room_retry(struct loop *l, void *opaque)
{
	struct chardev *c = opaque;

	(void)l;
	c->room_wait = false;
	update_mask(c);
}

static void on_client(struct loop *l, int fd, unsigned int events, void *opaque)
{
	struct chardev *c = opaque;
	char buf[READ_CHUNK];
	size_t want = sizeof(buf);

	(void)l;
	if ((events & LOOP_WRITE) && fd == c->out_fd) {
		after_write(c, drain(c));
		if (!c->connected)
			return;
	}
	if (!(events & LOOP_READ) || fd != c->in_fd || c->hangup_pending ||
	    (c->out_len >= CHARDEV_BACKLOG && !c->blocking_out) || c->room_wait)
		return;
	/* Read no more than the frontend takes: what is read must be delivered. */
	if (c->ops->room) {
		size_t room = c->ops->room(c->opaque);

		if (!room) {
			c->room_wait = true;
			update_mask(c);
			loop_add_timer(c->loop, CHARDEV_ROOM_RETRY_MS, on_room_retry, c);
			return;
		}
		if (room < want)
			want = room;
	}
	for (;;) {
		ssize_t n = receive(c, buf, want);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			disconnect(c);
			return;
		}
		c->ops->received(c->opaque, buf, (size_t)n);
		/* One chunk per wakeup: other fds get their turn. */
		return;
	}
}

static int set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	return fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 ? -errno : 0;
}

static int attach(struct chardev *c, int in_fd, int out_fd)
{
	int ret;

	c->in_fd = in_fd;
	c->out_fd = out_fd;
	c->connected = true;
	c->room_wait = false;
	loop_del_timer(c->loop, on_room_retry, c);
	c->out_len = 0;
	ret = loop_add_fd(c->loop, in_fd, LOOP_READ, on_client, c);
	if (ret == 0 && out_fd != in_fd && !c->blocking_out)
		ret = loop_add_fd(c->loop, out_fd, 0, on_client, c);
	if (ret < 0) {
		fail(c, "watching the channel", -ret);
		c->connected = false;
		loop_del_fd(c->loop, in_fd);
		return ret;
	}
	if (c->listen_fd >= 0)
		loop_set_mask(c->loop, c->listen_fd, 0);
	c->ops->opened(c->opaque);
	return 0;
}

static int accept_client(struct chardev *c, bool block)
{
	int fd;

	do
		fd = accept4(c->listen_fd, NULL, NULL, SOCK_CLOEXEC | (block ? 0 : SOCK_NONBLOCK));
	while (fd < 0 && errno == EINTR);
	if (fd < 0)
		return -errno;
	if (block && set_nonblock(fd) < 0) {
		close(fd);
		return -EIO;
	}
	if (c->spec.kind == CHARDEV_TCP) {
		int one = 1;

		/* Replies are small and a client waits for each one. */
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
	if (attach(c, fd, fd) < 0) {
		close(fd);
		return -EIO;
	}
	return 0;
}

static void on_listen(struct loop *l, int fd, unsigned int events, void *opaque)
{
	struct chardev *c = opaque;
	int ret;

	(void)l;
	(void)fd;
	(void)events;
	if (c->connected)
		return;
	ret = accept_client(c, false);
	if (ret < 0 && ret != -EAGAIN && ret != -EWOULDBLOCK && ret != -ECONNABORTED)
		fail(c, "accept", -ret);
}

static int listen_unix(struct chardev *c)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int fd;

	memcpy(sa.sun_path, c->spec.path, strlen(c->spec.path) + 1);
	/* A socket left behind by an earlier run; never a file of another kind. */
	if (lstat(c->spec.path, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(c->spec.path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		fail(c, "socket", errno);
		return -1;
	}
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 8) < 0) {
		fail(c, c->spec.path, errno);
		close(fd);
		return -1;
	}
	c->unlink_on_free = true;
	return fd;
}

static int listen_tcp(struct chardev *c)
{
	struct addrinfo hints = {
		.ai_family = AF_UNSPEC,
		.ai_socktype = SOCK_STREAM,
		.ai_flags = AI_PASSIVE | AI_NUMERICSERV,
	};
	struct addrinfo *res, *ai;
	int fd = -1, err = 0, ret;

	ret = getaddrinfo(c->spec.host[0] ? c->spec.host : NULL, c->spec.port, &hints, &res);
	if (ret) {
		fprintf(stderr, "genvm: %s: %s\n", c->label, gai_strerror(ret));
		return -1;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		int one = 1;

		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
			    ai->ai_protocol);
		if (fd < 0) {
			err = errno;
			continue;
		}
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 8) == 0)
			break;
		err = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		fail(c, "listen", err ? err : EADDRNOTAVAIL);
	return fd;
}

static int wait_first_client(struct chardev *c)
{
	int ret;

	fprintf(stderr, "genvm: %s: waiting for a connection\n", c->label);
	for (;;) {
		struct pollfd p = { .fd = c->listen_fd, .events = POLLIN };

		if (poll(&p, 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			fail(c, "poll", errno);
			return -1;
		}
		ret = accept_client(c, false);
		if (ret == 0)
			return 0;
		if (ret != -EAGAIN && ret != -EWOULDBLOCK && ret != -ECONNABORTED) {
			fail(c, "accept", -ret);
			return -1;
		}
	}
}

static int open_rw(struct chardev *c, const char *path)
{
	int fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (isatty(fd)) {
		struct termios t;

		/* Bytes through unchanged, no echo, no line discipline. */
		if (tcgetattr(fd, &t) == 0) {
			cfmakeraw(&t);
			tcsetattr(fd, TCSANOW, &t);
		}
	}
	(void)c;
	return fd;
}

static int open_pipe(struct chardev *c)
{
	char in[CHARDEV_PATH_MAX + 4], out[CHARDEV_PATH_MAX + 4];
	int in_fd, out_fd, fd;

	snprintf(in, sizeof(in), "%s.in", c->spec.path);
	snprintf(out, sizeof(out), "%s.out", c->spec.path);
	/* Read-write opens of a fifo neither block nor ever read EOF. */
	in_fd = open_rw(c, in);
	out_fd = in_fd < 0 ? -1 : open_rw(c, out);
	if (in_fd >= 0 && out_fd >= 0) {
		c->pend_in = in_fd;
		c->pend_out = out_fd;
		return 0;
	}
	if (in_fd >= 0)
		close(in_fd);
	/* QEMU's fallback: one bidirectional PATH. */
	fd = open_rw(c, c->spec.path);
	if (fd < 0) {
		fprintf(stderr, "genvm: %s: neither %s and %s nor %s can be opened: %s\n", c->label,
			in, out, c->spec.path, strerror(-fd));
		return -1;
	}
	c->pend_in = c->pend_out = fd;
	return 0;
}

struct chardev *chardev_open(struct loop *l, const struct chardev_spec *spec, const char *opt,
			     const char *text, const struct chardev_ops *ops, void *opaque)
{
	struct chardev *c = calloc(1, sizeof(*c));
	int ret = 0, fd;

	if (!c) {
		fprintf(stderr, "genvm: %s %s: out of memory\n", opt, text);
		return NULL;
	}
	c->loop = l;
	c->spec = *spec;
	c->ops = ops;
	c->opaque = opaque;
	c->listen_fd = c->in_fd = c->out_fd = -1;
	c->own_fds = true;
	snprintf(c->label, sizeof(c->label), "%s %s", opt, text);

	c->pend_in = c->pend_out = -1;
	switch (spec->kind) {
	case CHARDEV_UNIX:
	case CHARDEV_TCP:
		c->listen_fd = spec->kind == CHARDEV_UNIX ? listen_unix(c) : listen_tcp(c);
		/* Quiet until chardev_start(). */
		if (c->listen_fd < 0 || loop_add_fd(l, c->listen_fd, 0, on_listen, c) < 0)
			ret = -1;
		break;
	case CHARDEV_FD:
		/* Ours from now on: it is closed with the channel, never unlinked. */
		c->listen_fd = fcntl(spec->fd, F_DUPFD_CLOEXEC, 3);
		if (c->listen_fd < 0 || set_nonblock(c->listen_fd) < 0 ||
		    loop_add_fd(l, c->listen_fd, 0, on_listen, c) < 0) {
			fail(c, "the inherited socket", errno);
			ret = -1;
		} else {
			close(spec->fd);
		}
		break;
	case CHARDEV_STDIO:
		c->own_fds = false;
		c->blocking_out = true;
		c->pend_in = STDIN_FILENO;
		c->pend_out = STDOUT_FILENO;
		break;
	case CHARDEV_PIPE:
		ret = open_pipe(c);
		break;
	case CHARDEV_DEVICE:
		fd = open_rw(c, spec->path);
		if (fd < 0) {
			fail(c, spec->path, -fd);
			ret = -1;
		}
		c->pend_in = c->pend_out = fd;
		break;
	}
	if (ret < 0) {
		chardev_free(c);
		return NULL;
	}
	return c;
}

int chardev_start(struct chardev *c)
{
	int in = c->pend_in, out = c->pend_out;

	if (c->listen_fd >= 0) {
		if (c->spec.wait)
			return wait_first_client(c);
		return loop_set_mask(c->loop, c->listen_fd, LOOP_READ) < 0 ? -1 : 0;
	}
	if (in < 0)
		return 0;
	c->pend_in = c->pend_out = -1;
	if (attach(c, in, out) < 0) {
		if (c->own_fds) {
			close(in);
			if (out != in)
				close(out);
		}
		return -1;
	}
	return 0;
}

void chardev_free(struct chardev *c)
{
	if (!c)
		return;
	if (c->connected) {
		loop_del_fd(c->loop, c->in_fd);
		if (c->out_fd != c->in_fd)
			loop_del_fd(c->loop, c->out_fd);
		if (c->own_fds) {
			close(c->in_fd);
			if (c->out_fd != c->in_fd)
				close(c->out_fd);
		}
	}
	if (c->listen_fd >= 0) {
		loop_del_fd(c->loop, c->listen_fd);
		close(c->listen_fd);
	}
	if (c->own_fds && c->pend_in >= 0) {
		close(c->pend_in);
		if (c->pend_out != c->pend_in)
			close(c->pend_out);
	}
	if (c->unlink_on_free)
		unlink(c->spec.path);
	free(c->out);
	loop_del_timer(c->loop, on_room_retry, c);
	free(c);
}

static bool write_blocking(struct chardev *c, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(c->out_fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			struct pollfd p = { .fd = c->out_fd, .events = POLLOUT };

			poll(&p, 1, -1);
			continue;
		}
		if (n <= 0)
			return false;
		buf += n;
		len -= (size_t)n;
	}
	return true;
}

void chardev_write(struct chardev *c, const void *buf, size_t len)
{
	if (!c->connected || c->hangup_pending || !len)
		return;
	if (c->blocking_out) {
		if (!write_blocking(c, buf, len))
			disconnect(c);
		return;
	}
	if (c->out_len + len > CHARDEV_OUT_MAX) {
		/* It has stopped reading: holding more for it is a leak. */
		fprintf(stderr, "genvm: %s: client does not read its replies, disconnecting\n",
			c->label);
		c->out_len = 0;
		disconnect(c);
		return;
	}
	if (c->out_len + len > c->out_cap) {
		size_t cap = c->out_cap ? c->out_cap : 4096;
		char *p;

		while (cap < c->out_len + len)
			cap *= 2;
		p = realloc(c->out, cap);
		if (!p) {
			disconnect(c);
			return;
		}
		c->out = p;
		c->out_cap = cap;
	}
	memcpy(c->out + c->out_len, buf, len);
	c->out_len += len;
	after_write(c, drain(c));
}

size_t chardev_pending(const struct chardev *c)
{
	return c->out_len;
}

void chardev_hangup(struct chardev *c)
{
	if (!c->connected)
		return;
	c->hangup_pending = true;
	after_write(c, true);
}

void chardev_flush(struct chardev *c, int timeout_ms)
{
	while (c->connected && c->out_len && !c->blocking_out) {
		struct pollfd p = { .fd = c->out_fd, .events = POLLOUT };

		if (poll(&p, 1, timeout_ms) <= 0)
			return;
		if (!drain(c))
			return;
	}
}

int chardev_client_fd(const struct chardev *c)
{
	return c->connected ? c->out_fd : -1;
}

bool chardev_connected(const struct chardev *c)
{
	return c->connected;
}
