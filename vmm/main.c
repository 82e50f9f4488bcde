// SPDX-License-Identifier: MIT
/*
 * genvm: parse the command line, build the machine, run it, and keep the
 * console (stdin into the UART, Ctrl-A x to quit) until the guest is done.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "vmgenid/log.h"

#include "cli.h"
#include "machine.h"
#include "uart.h"

#define ESCAPE_CHAR 0x01 /* Ctrl-A, as in QEMU */

static struct termios saved_tty;
static int tty_saved;
static struct vm *signal_vm;
static volatile sig_atomic_t caught_signal;

static void restore_tty(void)
{
	if (tty_saved) {
		tcsetattr(STDIN_FILENO, TCSANOW, &saved_tty);
		tty_saved = 0;
	}
}

/*
 * Raw input so every key reaches the guest, Ctrl-C included; output keeps
 * its newline translation, as QEMU's stdio does.
 */
static void raw_tty(void)
{
	struct termios t;

	if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &saved_tty) < 0)
		return;
	tty_saved = 1;
	atexit(restore_tty);
	t = saved_tty;
	t.c_iflag &= (tcflag_t) ~(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON);
	t.c_oflag |= OPOST;
	t.c_lflag &= (tcflag_t) ~(ECHO | ECHONL | ICANON | IEXTEN | ISIG);
	t.c_cflag &= (tcflag_t) ~(CSIZE | PARENB);
	t.c_cflag |= CS8;
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	tcsetattr(STDIN_FILENO, TCSANOW, &t);
}

/*
 * Library messages go to stderr as "genvm: module: level: text".  A guest
 * can provoke warnings at will (bad fw_cfg DMA, bad vmgenid addresses), so
 * at most LOG_BURST of them per second get through; the rest are counted.
 */
#define LOG_BURST 10

struct log_limit {
	pthread_mutex_t lock;
	time_t window;
	unsigned int in_window;
	unsigned long suppressed;
};

static void log_sink(void *opaque, enum log_level level, const char *module, const char *msg)
{
	static const char *const names[] = { "error", "warning", "info", "debug" };
	struct log_limit *l = opaque;
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	pthread_mutex_lock(&l->lock);
	if (now.tv_sec != l->window) {
		if (l->suppressed)
			fprintf(stderr, "genvm: %lu more messages suppressed\n", l->suppressed);
		l->window = now.tv_sec;
		l->in_window = 0;
		l->suppressed = 0;
	}
	if (l->in_window++ < LOG_BURST)
		fprintf(stderr, "genvm: %s: %s: %s\n", module,
			(unsigned int)level < 4 ? names[level] : "message", msg);
	else
		l->suppressed++;
	pthread_mutex_unlock(&l->lock);
}

static void log_flush(struct log_limit *l)
{
	pthread_mutex_lock(&l->lock);
	if (l->suppressed)
		fprintf(stderr, "genvm: %lu more messages suppressed\n", l->suppressed);
	l->suppressed = 0;
	pthread_mutex_unlock(&l->lock);
}

static void on_signal(int sig)
{
	caught_signal = sig;
	if (signal_vm)
		vm_request_exit(signal_vm, 1);
}

static void setup_signals(struct vm *vm)
{
	struct sigaction sa = { .sa_handler = on_signal };

	signal_vm = vm;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	/* A closed stdout is reported by write(), not by killing us. */
	signal(SIGPIPE, SIG_IGN);
}

struct console {
	struct machine *m;
	bool escape;
	bool eof;
};

/* Pass keys to the UART, except the Ctrl-A commands. */
static void console_input(struct console *c, const uint8_t *buf, size_t len)
{
	static const char help[] = "\r\nC-a x    exit genvm\r\nC-a C-a  send C-a\r\n";

	for (size_t i = 0; i < len; i++) {
		uint8_t ch = buf[i];

		if (c->escape) {
			c->escape = false;
			if (ch == 'x') {
				fprintf(stderr, "\r\ngenvm: terminated by C-a x\r\n");
				vm_request_exit(&c->m->vm, 0);
				return;
			}
			if (ch == 'h' || ch == '?') {
				if (write(STDOUT_FILENO, help, sizeof(help) - 1) < 0)
					break;
				continue;
			}
			if (ch != ESCAPE_CHAR && ch != 'a')
				continue;
			ch = ESCAPE_CHAR;
		} else if (ch == ESCAPE_CHAR) {
			c->escape = true;
			continue;
		}
		/* uart_rx_room() was checked, and only we fill the buffer. */
		uart_receive(c->m->uart, &ch, 1);
	}
}

static int run_loop(struct machine *m)
{
	struct console con = { .m = m, .eof = !m->cfg->nographic };
	uint8_t buf[256];

	for (;;) {
		struct pollfd fds[2] = {
			{ .fd = m->vm.exit_fd, .events = POLLIN },
			{ .fd = STDIN_FILENO, .events = POLLIN },
		};
		size_t room = con.eof ? 0 : uart_rx_room(m->uart);
		/* Full UART: look again soon instead of reading what we cannot queue. */
		int nfds = room ? 2 : 1, timeout = (!con.eof && !room) ? 10 : -1;

		if (poll(fds, (nfds_t)nfds, timeout) < 0 && errno != EINTR) {
			perror("genvm: poll");
			return 1;
		}
		/* The eventfd, not the flag: it is written after the exit code. */
		if (fds[0].revents & POLLIN)
			break;
		if (nfds == 2 && (fds[1].revents & (POLLIN | POLLHUP | POLLERR))) {
			ssize_t n = read(STDIN_FILENO, buf, room < sizeof(buf) ? room : sizeof(buf));

			if (n > 0)
				console_input(&con, buf, (size_t)n);
			else if (n == 0 || (errno != EINTR && errno != EAGAIN))
				con.eof = true;
		}
	}
	if (caught_signal)
		fprintf(stderr, "genvm: terminating on signal %d\n", (int)caught_signal);
	return m->vm.exit_code;
}

int main(int argc, char **argv)
{
	static struct log_limit limit = { .lock = PTHREAD_MUTEX_INITIALIZER };
	struct genvm_config cfg;
	struct machine m;
	int ret;

	switch (cli_parse(argc, argv, &cfg, 0, stdout, stderr)) {
	case CLI_RUN:
		break;
	case CLI_EXIT:
		return 0;
	default:
		return 1;
	}

	log_set_sink(log_sink, &limit);
	if (machine_create(&m, &cfg) < 0) {
		machine_destroy(&m);
		return 1;
	}
	setup_signals(&m.vm);
	if (cfg.nographic)
		raw_tty();
	if (machine_start(&m) < 0) {
		vm_request_exit(&m.vm, 1);
		ret = 1;
	} else {
		ret = run_loop(&m);
	}
	machine_destroy(&m);
	log_flush(&limit);
	restore_tty();
	return ret;
}
