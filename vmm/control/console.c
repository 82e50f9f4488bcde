// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "console.h"
#include "control.h"
#include "hmp.h"
#include "loop.h"
#include "uart.h"

#define UART_RETRY_MS 10
/* A pty nobody has open reads EIO and hangs up at once: QEMU looks again each second. */
#define PTY_RETRY_MS 1000

struct console {
	struct control *ctl;
	struct loop *loop;
	struct uart *uart;
	struct hmp *hmp;  /* the multiplexed monitor, or NULL */
	bool to_monitor;  /* C-a c: keys go to the monitor */
	bool monitor_seen;
	bool escape;
	bool reading;
	int in_fd;        /* stdin, or the -serial pty's master */
	bool pty;         /* keys from a pty: no C-a commands, as QEMU's pty */
};

static void write_stdout(void *opaque, const char *buf, size_t len)
{
	(void)opaque;
	while (len) {
		ssize_t n = write(STDOUT_FILENO, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		buf += n;
		len -= (size_t)n;
	}
}

static void say(const char *text)
{
	write_stdout(NULL, text, strlen(text));
}

static void switch_focus(struct console *con)
{
	con->to_monitor = !con->to_monitor;
	if (!con->to_monitor) {
		say("\r\n");
		return;
	}
	/* QEMU greets the first time and shows the prompt every time. */
	if (!con->monitor_seen) {
		con->monitor_seen = true;
		say("\r\n");
		hmp_open(con->hmp);
	} else {
		say("\r\n");
		hmp_prompt(con->hmp);
	}
}

static void help(const struct console *con)
{
	say("\r\n");
	say("C-a h    print this help\r\n");
	say("C-a x    exit emulator\r\n");
	if (con->hmp)
		say("C-a c    switch between console and monitor\r\n");
	say("C-a C-a  sends C-a\r\n");
}

/* One key.  The caller read no more bytes than the UART has room for. */
static void key(struct console *con, unsigned char ch)
{
	if (con->escape) {
		con->escape = false;
		switch (ch) {
		case 'x':
			fprintf(stderr, "\r\ngenvm: terminated by C-a x\r\n");
			control_quit(con->ctl, VM_EXIT_HOST_UI);
			return;
		case 'h':
		case '?':
			help(con);
			return;
		case 'c':
			if (con->hmp)
				switch_focus(con);
			return;
		case CONSOLE_ESCAPE:
		case 'a':
			ch = CONSOLE_ESCAPE;
			break;
		default:
			return;
		}
	} else if (ch == CONSOLE_ESCAPE && !con->pty) {
		con->escape = true;
		return;
	}
	if (con->to_monitor)
		hmp_input(con->hmp, &ch, 1);
	else
		uart_receive(con->uart, &ch, 1);
}

static void on_retry(struct loop *l, void *opaque);

static void on_stdin(struct loop *l, int fd, unsigned int events, void *opaque)
{
	struct console *con = opaque;
	unsigned char buf[256];
	size_t want = sizeof(buf);
	ssize_t n;

	(void)events;
	/* Read no more than the UART takes: what we read we must deliver. */
	if (!con->to_monitor) {
		size_t room = uart_rx_room(con->uart);

		if (!room) {
			loop_set_mask(l, fd, 0);
			loop_add_timer(l, UART_RETRY_MS, on_retry, con);
			return;
		}
		if (room < want)
			want = room;
	}
	n = read(fd, buf, want);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0 && con->pty) {
		/* Nobody has the pty open (EIO): quiet until someone may. */
		loop_set_mask(l, fd, 0);
		loop_add_timer(l, PTY_RETRY_MS, on_retry, con);
		return;
	}
	if (n <= 0) {
		loop_del_fd(l, fd);
		con->reading = false;
		return;
	}
	for (ssize_t i = 0; i < n; i++)
		key(con, buf[i]);
}

static void on_retry(struct loop *l, void *opaque)
{
	struct console *con = opaque;

	if (con->reading)
		loop_set_mask(l, con->in_fd, LOOP_READ);
}

static void hmp_write(void *opaque, const char *buf, size_t len)
{
	write_stdout(opaque, buf, len);
}

struct console *console_new(struct control *c, struct loop *l, struct uart *u,
			    bool with_monitor, int pty_fd)
{
	struct console *con = calloc(1, sizeof(*con));
	const struct hmp_io io = { .write = hmp_write, .opaque = NULL };

	if (!con)
		return NULL;
	con->in_fd = pty_fd >= 0 ? pty_fd : STDIN_FILENO;
	con->pty = pty_fd >= 0;
	con->ctl = c;
	con->loop = l;
	con->uart = u;
	if (with_monitor) {
		con->hmp = hmp_new(c, &io);
		if (!con->hmp) {
			free(con);
			return NULL;
		}
	}
	return con;
}

void console_free(struct console *con)
{
	if (!con)
		return;
	if (con->reading)
		loop_del_fd(con->loop, con->in_fd);
	loop_del_timer(con->loop, on_retry, con);
	hmp_free(con->hmp);
	free(con);
}

int console_start(struct console *con)
{
	int ret = loop_add_fd(con->loop, con->in_fd, LOOP_READ, on_stdin, con);

	if (ret < 0) {
		fprintf(stderr, "genvm: console: %s: %s\n", con->pty ? "pty" : "stdin",
			strerror(-ret));
		return -1;
	}
	con->reading = true;
	return 0;
}
