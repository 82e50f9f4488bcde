// SPDX-License-Identifier: MIT
/*
 * genvm: parse the command line, build the machine and its control plane
 * (QMP, monitor, console), then run the main loop until the machine exits.
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
#include "control.h"
#include "incoming.h"
#include "loop.h"
#include "machine.h"
#include "sandbox.h"
#include "spawner.h"
#include "vcpu.h"

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
	sandbox_set_tty(&saved_tty);
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

static void log_sink(void *opaque, enum vmgenid_log_level level, const char *module, const char *msg)
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
		vm_request_exit_why(signal_vm, 1, VM_EXIT_HOST_SIGNAL);
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

int main(int argc, char **argv)
{
	static struct log_limit limit = { .lock = PTHREAD_MUTEX_INITIALIZER };
	struct genvm_config cfg;
	struct incoming in = { 0 };
	struct restore_times restore = { .start_ns = restore_clock_ns() };
	uint64_t ram_offset = 0;
	int ram_fd = -1;
	struct control *ctl;
	struct loop *loop;
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

	/*
	 * The command helper forks first, while genvm is small and has no
	 * threads, no guest RAM and no KVM fds for it to inherit.
	 */
	if (cfg.sandbox && cfg.sandbox_spawn && spawner_start() < 0)
		return 1;
	if (cfg.sandbox && !cfg.sandbox_spawn)
		spawner_deny();

	vmgenid_log_set_sink(log_sink, &limit);
	if (cfg.incoming) {
		if (incoming_open(&in, &cfg) < 0) {
			incoming_close(&in);
			return 1;
		}
		ram_fd = incoming_ram_fd(&in, &ram_offset);
		restore.end_ns[RESTORE_OPEN] = restore_clock_ns();
	}
	if (machine_create(&m, &cfg, ram_fd, ram_offset) < 0 ||
	    (ram_fd >= 0 && vm_watch_ram_file(&m.vm, in.uri.arg, ram_fd, ram_offset,
					      restore_tty) < 0)) {
		incoming_close(&in);
		machine_destroy(&m);
		return 1;
	}
	restore.end_ns[RESTORE_MAP] = restore_clock_ns();
	if (cfg.incoming && incoming_finish(&in, &m) < 0) {
		incoming_close(&in);
		machine_destroy(&m);
		return 1;
	}
	if (cfg.incoming) {
		restore.end_ns[RESTORE_STATE] = in.loaded_ns;
		restore.end_ns[RESTORE_VMGENID] = restore_clock_ns();
		restore.restored = true;
		m.restore = restore;
	}
	incoming_close(&in);
	loop = loop_new();
	if (!loop) {
		fprintf(stderr, "genvm: main loop: %s\n", strerror(errno));
		machine_destroy(&m);
		return 1;
	}
	ctl = control_new(&m, loop);
	if (!ctl) {
		loop_free(loop);
		machine_destroy(&m);
		return 1;
	}
	setup_signals(&m.vm);
	if (cfg.nographic)
		raw_tty();
	/* Before control_start(): the vCPU threads enter their list as they start. */
	if (cfg.sandbox) {
		const struct sandbox_config sc = { .spawn = cfg.sandbox_spawn };

		if (sandbox_prepare(&sc) < 0) {
			control_free(ctl);
			loop_free(loop);
			machine_destroy(&m);
			restore_tty();
			return 1;
		}
	}
	if (control_start(ctl) < 0) {
		vm_request_exit(&m.vm, 1);
		ret = 1;
	} else if ((ret = sandbox_enter(SANDBOX_MAIN)) < 0) {
		fprintf(stderr, "genvm: sandbox: %s: %s\n", sandbox_kind_name(SANDBOX_MAIN),
			strerror(-ret));
		vm_request_exit(&m.vm, 1);
		ret = 1;
	} else {
		ret = loop_run(loop);
		if (ret < 0)
			fprintf(stderr, "genvm: main loop: %s\n", strerror(-ret));
		ret = ret < 0 ? 1 : control_exit_code(ctl);
		if (vm_ram_file_report(&m.vm))
			ret = 1;
		else if (caught_signal)
			fprintf(stderr, "genvm: terminating on signal %d\n", (int)caught_signal);
	}
	/* The vCPUs stop first: nothing may use the channels after this. */
	vcpu_stop_all(&m.vm);
	control_free(ctl);
	loop_free(loop);
	machine_destroy(&m);
	log_flush(&limit);
	restore_tty();
	return ret;
}
