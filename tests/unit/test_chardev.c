// SPDX-License-Identifier: MIT
/*
 * The -qmp/-monitor channel spellings, and the channels themselves: a real
 * unix socket server, fifos, and the main loop that serves them.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <cmocka.h>

#include "chardev.h"
#include "loop.h"

static void parse_ok(const char *text, struct chardev_spec *s)
{
	const char *why = NULL;

	if (chardev_parse(text, s, &why) != 0)
		fail_msg("'%s' refused: %s", text, why);
}

static void parse_bad(const char *text, const char *why_part)
{
	struct chardev_spec s;
	const char *why = NULL;

	assert_int_equal(chardev_parse(text, &s, &why), -EINVAL);
	assert_non_null(why);
	if (!strstr(why, why_part))
		fail_msg("'%s': reason '%s' lacks '%s'", text, why, why_part);
}

static void test_parse_unix(void **state)
{
	struct chardev_spec s;

	(void)state;
	parse_ok("unix:/tmp/q.sock,server=on,wait=off", &s);
	assert_int_equal(s.kind, CHARDEV_UNIX);
	assert_string_equal(s.path, "/tmp/q.sock");
	assert_true(s.server);
	assert_false(s.wait);
	/* QEMU's default for a server is to wait for the first client. */
	parse_ok("unix:rel.sock,server=on", &s);
	assert_string_equal(s.path, "rel.sock");
	assert_true(s.wait);
	/* Old spellings. */
	parse_ok("unix:/a,server,nowait", &s);
	assert_true(s.server);
	assert_false(s.wait);
	parse_ok("unix:/a,wait=no,server=yes", &s);
	assert_true(s.server);
	assert_false(s.wait);
	/* ",," is a comma in the path. */
	parse_ok("unix:/tmp/a,,b,server=on,wait=off", &s);
	assert_string_equal(s.path, "/tmp/a,b");

	parse_bad("unix:/a", "client mode is not supported");
	parse_bad("unix:/a,server=off", "client mode is not supported");
	parse_bad("unix:/a,wait=off", "wait= needs server=on");
	parse_bad("unix:", "empty socket path");
	parse_bad("unix:,server=on", "empty socket path");
	parse_bad("unix:/a,server=maybe", "expected on or off");
	parse_bad("unix:/a,server=on,bogus=1", "unknown option");
	parse_bad("unix:/a,server=on,nodelay", "unknown option");
	{
		char path[200];

		memset(path, 'p', sizeof(path));
		memcpy(path, "unix:", 5);
		path[sizeof(path) - 1] = '\0';
		parse_bad(path, "too long");
	}
}

static void test_parse_tcp(void **state)
{
	struct chardev_spec s;

	(void)state;
	parse_ok("tcp:127.0.0.1:4444,server=on,wait=off", &s);
	assert_int_equal(s.kind, CHARDEV_TCP);
	assert_string_equal(s.host, "127.0.0.1");
	assert_string_equal(s.port, "4444");
	assert_true(s.server);
	assert_false(s.wait);
	parse_ok("tcp::5555,server=on,nodelay", &s);
	assert_string_equal(s.host, "");
	assert_string_equal(s.port, "5555");
	assert_true(s.wait);
	parse_ok("tcp:[::1]:80,server=on,wait=off,ipv6", &s);
	assert_string_equal(s.host, "::1");
	assert_string_equal(s.port, "80");
	parse_ok("tcp:localhost:65535,server=on,wait=off", &s);
	assert_string_equal(s.host, "localhost");

	parse_bad("tcp:127.0.0.1,server=on", "expected tcp:HOST:PORT");
	parse_bad("tcp:127.0.0.1:0,server=on", "port must be");
	parse_bad("tcp:127.0.0.1:65536,server=on", "port must be");
	parse_bad("tcp:127.0.0.1:http,server=on", "port must be");
	parse_bad("tcp:127.0.0.1:-1,server=on", "port must be");
	parse_bad("tcp:127.0.0.1:,server=on", "port must be");
	parse_bad("tcp:::1:80,server=on", "brackets");
	parse_bad("tcp:127.0.0.1:80", "client mode");
}

/*
 * Host names up to 255 characters fit; longer ones, plain or in brackets,
 * are refused rather than copied past the end of spec.host (issue 14,
 * item 2: 257 to 271 characters overflowed it).
 */
static void test_parse_tcp_long_host(void **state)
{
	char text[CHARDEV_HOST_MAX + 64];
	struct chardev_spec s;
	size_t n;

	(void)state;
	for (n = CHARDEV_HOST_MAX - 4; n <= CHARDEV_HOST_MAX + 20; n++) {
		memset(text, 0, sizeof(text));
		memcpy(text, "tcp:", 4);
		memset(text + 4, 'A', n);
		strcpy(text + 4 + n, ":1,server=on");
		if (n < CHARDEV_HOST_MAX) {
			parse_ok(text, &s);
			assert_int_equal(strlen(s.host), n);
			assert_string_equal(s.port, "1");
		} else {
			/* Past the longest address at all, that is what it says. */
			parse_bad(text, n + 2 < CHARDEV_HOST_MAX + 16 ? "host name too long (at most 255 "
					"characters)" : "address too long");
		}

		/* The bracketed form: the brackets are not part of the name. */
		memset(text, 0, sizeof(text));
		memcpy(text, "tcp:[", 5);
		memset(text + 5, 'a', n);
		strcpy(text + 5 + n, "]:1,server=on");
		if (n < CHARDEV_HOST_MAX) {
			parse_ok(text, &s);
			assert_int_equal(strlen(s.host), n);
		} else {
			parse_bad(text, n + 4 < CHARDEV_HOST_MAX + 16 ? "host name too long (at most 255 "
					"characters)" : "address too long");
		}
	}
}

static void test_parse_others(void **state)
{
	struct chardev_spec s;

	(void)state;
	parse_ok("stdio", &s);
	assert_int_equal(s.kind, CHARDEV_STDIO);
	assert_false(s.wait);
	parse_ok("stdio,signal=off", &s);
	assert_int_equal(s.kind, CHARDEV_STDIO);
	parse_ok("pipe:/run/vm/qmp", &s);
	assert_int_equal(s.kind, CHARDEV_PIPE);
	assert_string_equal(s.path, "/run/vm/qmp");
	assert_false(s.wait);
	parse_ok("/dev/ttyS1", &s);
	assert_int_equal(s.kind, CHARDEV_DEVICE);
	assert_string_equal(s.path, "/dev/ttyS1");

	parse_bad("stdio,server=on", "unknown option");
	parse_bad("stdiox", "unknown character device");
	parse_bad("pipe:", "empty path");
	parse_bad("pipe:/a,server=on", "unknown option");
	parse_bad("vc", "unknown character device");
	parse_bad("file:/tmp/x", "unknown character device");
	parse_bad("", "unknown character device");
	parse_bad("tmp/sock", "unknown character device");
}

/* ---- the channels at work ---- */

struct frontend {
	int opened, closed;
	char got[256];
	size_t got_len;
	struct chardev *dev;
	bool echo; /* write back what arrives */
	size_t echoed;
};

static void fe_opened(void *opaque)
{
	struct frontend *fe = opaque;

	fe->opened++;
}

static void fe_received(void *opaque, const void *buf, size_t len)
{
	struct frontend *fe = opaque;

	if (fe->echo) {
		fe->echoed += len;
		chardev_write(fe->dev, buf, len);
		return;
	}
	assert_true(fe->got_len + len <= sizeof(fe->got));
	memcpy(fe->got + fe->got_len, buf, len);
	fe->got_len += len;
}

static void fe_closed(void *opaque)
{
	struct frontend *fe = opaque;

	fe->closed++;
}

static const struct chardev_ops fe_ops = { fe_opened, fe_received, fe_closed, NULL, NULL };

static void stop_loop(struct loop *l, void *opaque)
{
	(void)opaque;
	loop_stop(l);
}

/* Let the loop serve for ms milliseconds. */
static void spin(struct loop *l, unsigned int ms)
{
	assert_int_equal(loop_add_timer(l, ms, stop_loop, NULL), 0);
	assert_int_equal(loop_run(l), 0);
}

static int connect_unix(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	strcpy(sa.sun_path, path);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

/* Read what is there within ms; returns the count (0 on EOF/nothing). */
static ssize_t read_some(int fd, char *buf, size_t len, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	if (poll(&p, 1, ms) <= 0)
		return -1;
	return read(fd, buf, len);
}

static void tmp_path(char *buf, size_t len, const char *what)
{
	snprintf(buf, len, "/tmp/test_chardev.%d.%s", (int)getpid(), what);
}

static void test_unix_server_one_client_at_a_time(void **state)
{
	struct loop *l = loop_new();
	struct frontend fe = { 0 };
	struct chardev_spec spec;
	char path[108], text[160], buf[64];
	struct stat st;
	int a, b;

	(void)state;
	tmp_path(path, sizeof(path), "sock");
	snprintf(text, sizeof(text), "unix:%s,server=on,wait=off", path);
	parse_ok(text, &spec);
	fe.dev = chardev_open(l, &spec, "-qmp", text, &fe_ops, &fe);
	assert_non_null(fe.dev);
	assert_int_equal(chardev_start(fe.dev), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));

	a = connect_unix(path);
	spin(l, 20);
	assert_int_equal(fe.opened, 1);
	assert_true(chardev_connected(fe.dev));
	/* A second client waits in the backlog: not served. */
	b = connect_unix(path);
	spin(l, 20);
	assert_int_equal(fe.opened, 1);

	assert_int_equal(write(a, "hello", 5), 5);
	spin(l, 20);
	assert_int_equal(fe.got_len, 5);
	assert_memory_equal(fe.got, "hello", 5);
	chardev_write(fe.dev, "reply", 5);
	assert_int_equal(read_some(a, buf, sizeof(buf), 500), 5);
	assert_memory_equal(buf, "reply", 5);
	/* Nothing reached b. */
	assert_int_equal(read_some(b, buf, sizeof(buf), 20), -1);

	/* a hangs up: b is served. */
	close(a);
	spin(l, 20);
	assert_int_equal(fe.closed, 1);
	assert_int_equal(fe.opened, 2);
	chardev_write(fe.dev, "second", 6);
	assert_int_equal(read_some(b, buf, sizeof(buf), 500), 6);
	assert_memory_equal(buf, "second", 6);

	/* genvm hangs up after the queued output. */
	chardev_write(fe.dev, "bye", 3);
	chardev_hangup(fe.dev);
	spin(l, 20);
	assert_int_equal(read_some(b, buf, sizeof(buf), 500), 3);
	assert_int_equal(read_some(b, buf, sizeof(buf), 500), 0);
	assert_int_equal(fe.closed, 2);
	assert_false(chardev_connected(fe.dev));
	close(b);

	/* And a new client after that. */
	a = connect_unix(path);
	spin(l, 20);
	assert_int_equal(fe.opened, 3);
	close(a);
	spin(l, 20);

	chardev_free(fe.dev);
	/* The socket goes with the channel. */
	assert_int_equal(stat(path, &st), -1);
	loop_free(l);
}

/* A client that sends and never reads: genvm stops reading it, then drops it. */
static void test_backpressure(void **state)
{
	struct loop *l = loop_new();
	struct frontend fe = { .echo = true };
	struct chardev_spec spec;
	char path[108], text[160], chunk[4096];
	size_t sent = 0;
	int a;

	(void)state;
	memset(chunk, 'x', sizeof(chunk));
	tmp_path(path, sizeof(path), "bp");
	snprintf(text, sizeof(text), "unix:%s,server=on,wait=off", path);
	parse_ok(text, &spec);
	fe.dev = chardev_open(l, &spec, "-qmp", text, &fe_ops, &fe);
	assert_non_null(fe.dev);
	assert_int_equal(chardev_start(fe.dev), 0);
	a = connect_unix(path);
	fcntl(a, F_SETFL, O_NONBLOCK);
	spin(l, 20);
	assert_int_equal(fe.opened, 1);

	/*
	 * Echoed data piles up in genvm: once past the backlog it stops
	 * reading, so the client's writes block long before CHARDEV_OUT_MAX.
	 */
	for (int round = 0; round < 200; round++) {
		while (write(a, chunk, sizeof(chunk)) > 0)
			sent += sizeof(chunk);
		spin(l, 2);
	}
	assert_true(chardev_pending(fe.dev) >= CHARDEV_BACKLOG);
	assert_true(chardev_pending(fe.dev) <= CHARDEV_BACKLOG + 4096);
	assert_true(chardev_connected(fe.dev));
	{
		size_t before = fe.echoed;

		spin(l, 20);
		assert_int_equal(fe.echoed, before);
		assert_true(sent > fe.echoed);
	}

	/* Once the client reads, genvm reads again. */
	{
		char buf[65536];
		ssize_t n;
		size_t drained = 0;

		for (int i = 0; i < 400 && chardev_connected(fe.dev); i++) {
			while ((n = read(a, buf, sizeof(buf))) > 0)
				drained += (size_t)n;
			spin(l, 2);
		}
		assert_true(drained > CHARDEV_BACKLOG);
	}
	close(a);
	spin(l, 20);
	assert_int_equal(fe.closed, 1);
	chardev_free(fe.dev);
	loop_free(l);
}

static void test_pipe(void **state)
{
	struct loop *l = loop_new();
	struct frontend fe = { 0 };
	struct chardev_spec spec;
	char base[108], in[120], out[120], text[160], buf[32];
	int w, r;

	(void)state;
	tmp_path(base, sizeof(base), "pipe");
	snprintf(in, sizeof(in), "%s.in", base);
	snprintf(out, sizeof(out), "%s.out", base);
	assert_int_equal(mkfifo(in, 0600), 0);
	assert_int_equal(mkfifo(out, 0600), 0);
	snprintf(text, sizeof(text), "pipe:%s", base);
	parse_ok(text, &spec);
	fe.dev = chardev_open(l, &spec, "-qmp", text, &fe_ops, &fe);
	assert_non_null(fe.dev);
	/* Nothing happens before start. */
	assert_int_equal(fe.opened, 0);
	assert_int_equal(chardev_start(fe.dev), 0);
	assert_int_equal(fe.opened, 1);

	w = open(in, O_WRONLY | O_NONBLOCK);
	r = open(out, O_RDONLY | O_NONBLOCK);
	assert_true(w >= 0 && r >= 0);
	assert_int_equal(write(w, "ping", 4), 4);
	spin(l, 20);
	assert_int_equal(fe.got_len, 4);
	assert_memory_equal(fe.got, "ping", 4);
	chardev_write(fe.dev, "pong", 4);
	spin(l, 20);
	assert_int_equal(read_some(r, buf, sizeof(buf), 500), 4);
	assert_memory_equal(buf, "pong", 4);
	/* The writer going away is no hang-up for a fifo. */
	close(w);
	spin(l, 20);
	assert_int_equal(fe.closed, 0);
	close(r);
	chardev_free(fe.dev);
	unlink(in);
	unlink(out);
	loop_free(l);
}

static void test_open_failures(void **state)
{
	struct loop *l = loop_new();
	struct frontend fe = { 0 };
	struct chardev_spec spec;
	char path[108], text[160];
	int fd;

	(void)state;
	/* A regular file in the socket's place is never removed. */
	tmp_path(path, sizeof(path), "file");
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	assert_true(fd >= 0);
	close(fd);
	snprintf(text, sizeof(text), "unix:%s,server=on,wait=off", path);
	parse_ok(text, &spec);
	assert_null(chardev_open(l, &spec, "-qmp", text, &fe_ops, &fe));
	assert_int_equal(access(path, F_OK), 0);
	unlink(path);

	parse_ok("pipe:/nonexistent/dir/q", &spec);
	assert_null(chardev_open(l, &spec, "-qmp", "pipe:/nonexistent/dir/q", &fe_ops, &fe));
	parse_ok("/dev/nonexistent-tty", &spec);
	assert_null(chardev_open(l, &spec, "-qmp", "/dev/nonexistent-tty", &fe_ops, &fe));
	assert_int_equal(fe.opened, 0);
	loop_free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_unix),
		cmocka_unit_test(test_parse_tcp),
		cmocka_unit_test(test_parse_tcp_long_host),
		cmocka_unit_test(test_parse_others),
		cmocka_unit_test(test_unix_server_one_client_at_a_time),
		cmocka_unit_test(test_backpressure),
		cmocka_unit_test(test_pipe),
		cmocka_unit_test(test_open_failures),
	};

	return cmocka_run_group_tests_name("chardev", tests, NULL, NULL);
}
