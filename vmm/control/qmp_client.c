// SPDX-License-Identifier: MIT
/*
 * genvm-qmp: a small QMP client for the shell, tests and benchmarks.
 *
 *   genvm-qmp [-e] [-w EVENT] [-t SECONDS] SOCKET COMMAND [JSON-ARGS]
 *       connect, negotiate, run COMMAND and print its return value as JSON;
 *       an error prints "genvm-qmp: CLASS: desc" and exits 1.  With -e,
 *       events (before and after the reply) are printed as they come, and
 *       after the reply it keeps printing them until genvm hangs up or the
 *       timeout expires; -w EVENT stops once EVENT has been seen (exit 2 if
 *       it never comes).
 *   genvm-qmp --raw [--lines N] [-t SECONDS] SOCKET
 *       send stdin as is, no negotiation, and print everything received,
 *       until genvm hangs up, N lines have come, or, after stdin ends,
 *       SECONDS pass.
 *   genvm-qmp --bench N SOCKET COMMAND [JSON-ARGS]
 *       N round trips one after the other; prints the rate and latency
 *       percentiles.
 *   genvm-qmp --fd FILE SOCKET getfd '{"fdname": NAME}'
 *       as the first form, passing FILE (created or truncated, for
 *       writing) with the request over SCM_RIGHTS, as libvirt passes a save
 *       file; then migrate '{"uri": "fd:NAME"}' writes the snapshot there.
 *   genvm-qmp --fd-read FILE SOCKET getfd '{"fdname": NAME}'
 *       the same with FILE opened for reading, as libvirt passes the save
 *       file to restore: then migrate-incoming '{"uri": "fd:NAME"}'.
 *   genvm-qmp --listen PATH N COMMAND [ARGS...]
 *       bind and listen on the unix socket PATH and run COMMAND with that
 *       socket as descriptor N, as libvirt hands QEMU its monitor socket
 *       (-chardev socket,id=mon,fd=N,server=on).
 *   genvm-qmp --version
 *       "genvm-qmp version X.Y.Z", the version genvm prints.
 *
 * SOCKET is a unix socket path or tcp:HOST:PORT.  Exit status: 0 success,
 * 1 QMP error, 2 connection or protocol trouble, 3 usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define LINE_MAX_BYTES (1u << 20)

struct conn {
	int fd;
	char *buf;
	size_t len, cap;
	int timeout_ms;
	bool print_events;
	const char *wait_event; /* -w */
	bool seen_event;
	long max_lines;         /* --raw --lines */
	int pass_fd;            /* --fd: sent with the next request, then -1 */
};

static void die(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));
static void die(int code, const char *fmt, ...)
{
	va_list ap;

	fputs("genvm-qmp: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(code);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int connect_to(const char *where)
{
	int fd;

	if (!strncmp(where, "tcp:", 4)) {
		char host[256];
		const char *colon = strrchr(where + 4, ':');
		struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res, *ai;
		size_t hlen;
		int ret;

		if (!colon || (hlen = (size_t)(colon - where - 4)) >= sizeof(host))
			die(3, "%s: expected tcp:HOST:PORT", where);
		memcpy(host, where + 4, hlen);
		host[hlen] = '\0';
		ret = getaddrinfo(host[0] ? host : "localhost", colon + 1, &hints, &res);
		if (ret)
			die(2, "%s: %s", where, gai_strerror(ret));
		fd = -1;
		for (ai = res; ai && fd < 0; ai = ai->ai_next) {
			fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
			if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
				close(fd);
				fd = -1;
			}
		}
		freeaddrinfo(res);
		if (fd < 0)
			die(2, "%s: %s", where, strerror(errno));
		return fd;
	}

	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	if (strlen(where) >= sizeof(sa.sun_path))
		die(3, "%s: socket path too long", where);
	memcpy(sa.sun_path, where, strlen(where) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die(2, "%s: %s", where, strerror(errno));
	return fd;
}

/* The first byte of the next request carries the descriptor --fd opened. */
static ssize_t send_with_fd(struct conn *c, const char *buf, size_t len)
{
	union {
		struct cmsghdr align;
		char space[CMSG_SPACE(sizeof(int))];
	} u;
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = u.space, .msg_controllen = sizeof(u.space) };
	struct cmsghdr *cm;
	ssize_t n;

	memset(&u, 0, sizeof(u));
	cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &c->pass_fd, sizeof(int));
	n = sendmsg(c->fd, &msg, MSG_NOSIGNAL);
	if (n > 0) {
		close(c->pass_fd);
		c->pass_fd = -1;
	}
	return n;
}

static void send_all(struct conn *c, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = c->pass_fd >= 0 ? send_with_fd(c, buf, len) : write(c->fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			die(2, "send: %s", n < 0 ? strerror(errno) : "connection closed");
		buf += n;
		len -= (size_t)n;
	}
}

/* Next line (without CR/LF), or NULL on EOF/timeout; valid until the next call. */
static char *read_line(struct conn *c, bool *timed_out)
{
	static char *line;
	static size_t line_cap;
	uint64_t deadline = now_ns() + (uint64_t)c->timeout_ms * 1000000u;

	*timed_out = false;
	for (;;) {
		char *nl = memchr(c->buf, '\n', c->len);

		if (nl) {
			size_t n = (size_t)(nl - c->buf);

			if (n + 1 > line_cap) {
				line_cap = n + 1;
				line = realloc(line, line_cap);
				if (!line)
					die(2, "out of memory");
			}
			memcpy(line, c->buf, n);
			line[n] = '\0';
			if (n && line[n - 1] == '\r')
				line[n - 1] = '\0';
			memmove(c->buf, nl + 1, c->len - n - 1);
			c->len -= n + 1;
			return line;
		}
		if (c->len == c->cap) {
			if (c->cap >= LINE_MAX_BYTES)
				die(2, "reply longer than %u bytes", LINE_MAX_BYTES);
			c->cap = c->cap ? c->cap * 2 : 4096;
			c->buf = realloc(c->buf, c->cap);
			if (!c->buf)
				die(2, "out of memory");
		}

		uint64_t now = now_ns();
		struct pollfd p = { .fd = c->fd, .events = POLLIN };
		int wait = now >= deadline ? 0 : (int)((deadline - now) / 1000000u);
		ssize_t n;

		if (c->timeout_ms >= 0) {
			int r = poll(&p, 1, wait);

			if (r == 0) {
				*timed_out = true;
				return NULL;
			}
			if (r < 0 && errno == EINTR)
				continue;
		}
		n = read(c->fd, c->buf + c->len, c->cap - c->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return NULL;
		c->len += (size_t)n;
	}
}

static json_t *read_message(struct conn *c, const char *waiting_for)
{
	bool timed_out;
	char *line;
	json_error_t err;
	json_t *msg;

	do
		line = read_line(c, &timed_out);
	while (line && !line[0]);
	if (!line)
		die(2, "%s: %s", waiting_for, timed_out ? "timed out" : "connection closed");
	msg = json_loads(line, 0, &err);
	if (!msg || !json_is_object(msg))
		die(2, "%s: not a JSON object: %.200s", waiting_for, line);
	return msg;
}

static void print_json(const json_t *v)
{
	char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_PRESERVE_ORDER);

	if (s) {
		puts(s);
		free(s);
	}
	fflush(stdout);
}

static void note_event(struct conn *c, json_t *msg)
{
	const char *name = json_string_value(json_object_get(msg, "event"));

	if (!name)
		return;
	if (c->print_events)
		print_json(msg);
	if (c->wait_event && !strcmp(name, c->wait_event))
		c->seen_event = true;
}

/* The reply to the request in flight: events before it are shown or dropped. */
static json_t *read_reply(struct conn *c)
{
	for (;;) {
		json_t *msg = read_message(c, "waiting for the reply");

		if (json_object_get(msg, "return") || json_object_get(msg, "error"))
			return msg;
		note_event(c, msg);
		json_decref(msg);
	}
}

static json_t *build_request(const char *cmd, const char *args_text)
{
	json_t *req = json_pack("{s:s}", "execute", cmd);

	if (args_text) {
		json_error_t err;
		json_t *args = json_loads(args_text, 0, &err);

		if (!args || !json_is_object(args))
			die(3, "arguments must be a JSON object: %s", args ? args_text : err.text);
		json_object_set_new(req, "arguments", args);
	}
	return req;
}

/*
 * The request and its newline in one write: genvm runs a request as soon as
 * its JSON is complete, and after "quit" it may be gone before a second
 * write, which would then fail with EPIPE although the command worked.
 */
static void send_json(struct conn *c, const json_t *req)
{
	char *text = json_dumps(req, JSON_COMPACT), *line;
	size_t len;

	if (!text)
		die(2, "out of memory");
	len = strlen(text);
	line = realloc(text, len + 2);
	if (!line) {
		free(text);
		die(2, "out of memory");
	}
	line[len++] = '\n';
	line[len] = '\0';
	send_all(c, line, len);
	free(line);
}

/* 0, or 1 after printing the error. */
static int check_reply(const json_t *reply)
{
	json_t *err = json_object_get(reply, "error");
	const char *cls, *desc;

	if (!err)
		return 0;
	cls = json_string_value(json_object_get(err, "class"));
	desc = json_string_value(json_object_get(err, "desc"));
	fprintf(stderr, "genvm-qmp: %s: %s\n", cls ? cls : "Error", desc ? desc : "(no description)");
	return 1;
}

static void negotiate(struct conn *c)
{
	json_t *greeting = read_message(c, "waiting for the greeting"), *req, *reply;

	if (!json_object_get(greeting, "QMP"))
		die(2, "the server did not greet with a QMP object");
	json_decref(greeting);
	req = build_request("qmp_capabilities", NULL);
	send_json(c, req);
	json_decref(req);
	reply = read_reply(c);
	if (check_reply(reply))
		exit(2);
	json_decref(reply);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static uint64_t percentile(const uint64_t *v, size_t n, unsigned int pct)
{
	size_t i = (n * pct + 99) / 100;

	return v[i ? i - 1 : 0];
}

static int bench(struct conn *c, long n, const char *cmd, const char *args)
{
	json_t *req = build_request(cmd, args);
	char *text = json_dumps(req, JSON_COMPACT);
	size_t len = strlen(text);
	uint64_t *lat = calloc((size_t)n, sizeof(*lat)), t0, total;

	if (!lat)
		die(2, "out of memory");
	text = realloc(text, len + 2);
	text[len++] = '\n';
	t0 = now_ns();
	for (long i = 0; i < n; i++) {
		uint64_t s = now_ns();
		json_t *reply;

		send_all(c, text, len);
		reply = read_reply(c);
		lat[i] = now_ns() - s;
		if (check_reply(reply))
			return 1;
		json_decref(reply);
	}
	total = now_ns() - t0;
	qsort(lat, (size_t)n, sizeof(*lat), cmp_u64);
	printf("round_trips=%ld per_second=%.0f p50_us=%.1f p90_us=%.1f p99_us=%.1f max_us=%.1f\n",
	       n, (double)n * 1e9 / (double)total, (double)percentile(lat, (size_t)n, 50) / 1e3,
	       (double)percentile(lat, (size_t)n, 90) / 1e3,
	       (double)percentile(lat, (size_t)n, 99) / 1e3, (double)lat[n - 1] / 1e3);
	free(lat);
	free(text);
	json_decref(req);
	return 0;
}

static bool send_some(struct conn *c, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = send(c->fd, buf, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		buf += n;
		len -= (size_t)n;
	}
	return true;
}

/* stdin to the socket as is; everything back to stdout. */
static int raw(struct conn *c)
{
	bool stdin_open = true;
	uint64_t linger_until = 0;
	long lines_left = c->max_lines;
	char buf[65536];

	for (;;) {
		struct pollfd p[2] = { { .fd = c->fd, .events = POLLIN },
				       { .fd = STDIN_FILENO, .events = POLLIN } };
		int wait = -1;
		ssize_t n;

		if (!stdin_open) {
			uint64_t now = now_ns();

			if (now >= linger_until)
				return 0;
			wait = (int)((linger_until - now) / 1000000u) + 1;
		}
		if (poll(p, stdin_open ? 2 : 1, wait) < 0) {
			if (errno == EINTR)
				continue;
			die(2, "poll: %s", strerror(errno));
		}
		if (p[0].revents) {
			n = read(c->fd, buf, sizeof(buf));
			if (n <= 0)
				return 0; /* the server hung up */
			if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n)
				return 2;
			fflush(stdout);
			for (ssize_t k = 0; k < n && c->max_lines; k++) {
				if (buf[k] == '\n' && --lines_left == 0)
					return 0;
			}
		}
		if (stdin_open && p[1].revents) {
			n = read(STDIN_FILENO, buf, sizeof(buf));
			/*
			 * genvm may hang up while we send (a request over its
			 * limit): stop sending, keep reading what it said.
			 */
			if (n <= 0 || !send_some(c, buf, (size_t)n)) {
				stdin_open = false;
				linger_until = now_ns() + (uint64_t)c->timeout_ms * 1000000u;
			}
		}
	}
}

static void usage(void)
{
	fputs("usage: genvm-qmp [-e] [-w EVENT] [-t SECONDS] SOCKET COMMAND [JSON-ARGS]\n"
	      "       genvm-qmp --raw [--lines N] [-t SECONDS] SOCKET\n"
	      "       genvm-qmp --bench N SOCKET COMMAND [JSON-ARGS]\n"
	      "       genvm-qmp --fd FILE SOCKET getfd '{\"fdname\": NAME}'\n"
	      "       genvm-qmp --fd-read FILE SOCKET getfd '{\"fdname\": NAME}'\n"
	      "       genvm-qmp --listen PATH N COMMAND [ARGS...]\n"
	      "       genvm-qmp --version\n"
	      "SOCKET: a unix socket path or tcp:HOST:PORT\n"
	      "  -e, --events     print events; after the reply, until genvm hangs up\n"
	      "  -w, --wait-event EVENT  print events until EVENT has come\n"
	      "  --lines N        --raw: stop after N lines from genvm\n"
	      "  -t, --timeout S  give up waiting after S seconds (default 10; --raw: how\n"
	      "                   long to keep reading after stdin ends, default 1)\n",
	      stderr);
	exit(3);
}

/* --listen PATH N COMMAND...: never returns. */
static void listen_and_exec(const char *path, const char *num, char **cmd)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char *end;
	long n = strtol(num, &end, 10);
	int fd;

	if (*end || n < 3 || n > 1000 || strlen(path) >= sizeof(sa.sun_path))
		usage();
	memcpy(sa.sun_path, path, strlen(path) + 1);
	unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 8) < 0)
		die(2, "%s: %s", path, strerror(errno));
	/* No close-on-exec: the command inherits it as descriptor N. */
	if (fd != n && (dup2(fd, (int)n) < 0 || close(fd) < 0))
		die(2, "dup2: %s", strerror(errno));
	execvp(cmd[0], cmd);
	die(2, "%s: %s", cmd[0], strerror(errno));
}

int main(int argc, char **argv)
{
	struct conn c = { .timeout_ms = -1, .pass_fd = -1 };
	bool raw_mode = false;
	long bench_n = 0;
	int i = 1, ret, pass_fd = -1;

	for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "-e") || !strcmp(a, "--events")) {
			c.print_events = true;
		} else if ((!strcmp(a, "-t") || !strcmp(a, "--timeout")) && i + 1 < argc) {
			char *end;
			double s = strtod(argv[++i], &end);

			if (*end || s < 0 || s > 86400)
				usage();
			c.timeout_ms = (int)(s * 1000);
		} else if (!strcmp(a, "--listen") && i + 3 < argc) {
			listen_and_exec(argv[i + 1], argv[i + 2], argv + i + 3);
		} else if (!strcmp(a, "--fd") && i + 1 < argc) {
			pass_fd = open(argv[++i], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
			if (pass_fd < 0)
				die(2, "%s: %s", argv[i], strerror(errno));
		} else if (!strcmp(a, "--fd-read") && i + 1 < argc) {
			pass_fd = open(argv[++i], O_RDONLY | O_CLOEXEC);
			if (pass_fd < 0)
				die(2, "%s: %s", argv[i], strerror(errno));
		} else if (!strcmp(a, "--raw")) {
			raw_mode = true;
		} else if (!strcmp(a, "--lines") && i + 1 < argc) {
			char *end;

			c.max_lines = strtol(argv[++i], &end, 10);
			if (*end || c.max_lines < 1)
				usage();
		} else if ((!strcmp(a, "-w") || !strcmp(a, "--wait-event")) && i + 1 < argc) {
			c.wait_event = argv[++i];
			c.print_events = true;
		} else if (!strcmp(a, "--bench") && i + 1 < argc) {
			char *end;

			bench_n = strtol(argv[++i], &end, 10);
			if (*end || bench_n < 1 || bench_n > 100000000)
				usage();
		} else if (!strcmp(a, "-V") || !strcmp(a, "--version")) {
			printf("genvm-qmp version %s\n", GENVM_VERSION);
			return fflush(stdout) ? 2 : 0;
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage();
		} else {
			usage();
		}
	}
	if (raw_mode ? argc - i != 1 : (argc - i < 2 || argc - i > 3))
		usage();
	if (c.timeout_ms < 0)
		c.timeout_ms = raw_mode ? 1000 : 10000;
	/* A closed connection is an error to report, not a reason to die. */
	signal(SIGPIPE, SIG_IGN);
	c.fd = connect_to(argv[i]);
	if (raw_mode)
		return raw(&c);

	negotiate(&c);
	c.pass_fd = pass_fd; /* with the command, not with qmp_capabilities */
	if (bench_n)
		return bench(&c, bench_n, argv[i + 1], argc - i == 3 ? argv[i + 2] : NULL);

	json_t *req = build_request(argv[i + 1], argc - i == 3 ? argv[i + 2] : NULL);
	json_t *reply;

	send_json(&c, req);
	reply = read_reply(&c);
	ret = check_reply(reply);
	if (!ret)
		print_json(json_object_get(reply, "return"));
	if (!ret && c.print_events && !c.seen_event) {
		bool timed_out;
		char *line;

		while ((line = read_line(&c, &timed_out))) {
			json_t *msg;

			if (!line[0])
				continue;
			puts(line);
			fflush(stdout);
			msg = json_loads(line, 0, NULL);
			if (msg)
				note_event(&c, msg);
			json_decref(msg);
			if (c.seen_event)
				break;
		}
		if (c.wait_event && !c.seen_event) {
			fprintf(stderr, "genvm-qmp: no %s event (%s)\n", c.wait_event,
				timed_out ? "timed out" : "connection closed");
			ret = 2;
		}
	}
	json_decref(reply);
	json_decref(req);
	return ret;
}
