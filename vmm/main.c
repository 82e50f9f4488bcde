// SPDX-License-Identifier: MIT
/*
 * genvm: parse the command line, build the machine and its control plane
 * (QMP, monitor, console), then run the main loop until the machine exits.
 */
#include <errno.h>
#include <fcntl.h>
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
	bool timestamp; /* -msg timestamp=on: QEMU's "2026-12-06T01:02:03.456789Z " first */
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
	if (l->in_window++ < LOG_BURST) {
		char stamp[96] = "";

		if (l->timestamp) {
			struct timespec wall;
			struct tm tm;

			clock_gettime(CLOCK_REALTIME, &wall);
			gmtime_r(&wall.tv_sec, &tm);
			snprintf(stamp, sizeof(stamp), "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ ",
				 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
				 tm.tm_sec, wall.tv_nsec / 1000);
		}
		fprintf(stderr, "%sgenvm: %s: %s: %s\n", stamp, module,
			(unsigned int)level < 4 ? names[level] : "message", msg);
	}
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

/*
 * -daemonize, as QEMU does it: the parent waits until the machine and its
 * channels are set up and exits 0 then, or 1 if the child failed first, so
 * whoever started genvm knows the sockets exist when it returns.
 */
static int daemon_pipe = -1;
static const char *pidfile_path;

static void remove_pidfile(void)
{
	if (pidfile_path)
		unlink(pidfile_path);
}

static int daemonize_start(void)
{
	int fds[2];
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC) < 0) {
		fprintf(stderr, "genvm: -daemonize: %s\n", strerror(errno));
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "genvm: -daemonize: %s\n", strerror(errno));
		return -1;
	}
	if (pid > 0) {
		char ok = 1;

		close(fds[1]);
		while (read(fds[0], &ok, 1) < 0 && errno == EINTR)
			;
		_exit(ok == 0 ? 0 : 1);
	}
	close(fds[0]);
	daemon_pipe = fds[1];
	setsid();
	return 0;
}

/* The child is set up: stdio goes to /dev/null and the parent may go. */
static void daemonize_ready(void)
{
	char ok = 0;
	int null;

	if (daemon_pipe < 0)
		return;
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null >= 0) {
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		dup2(null, STDERR_FILENO);
		close(null);
	}
	while (write(daemon_pipe, &ok, 1) < 0 && errno == EINTR)
		;
	close(daemon_pipe);
	daemon_pipe = -1;
}

/* QEMU's -pidfile: the process id and a newline, removed at exit. */
static int write_pidfile(const char *path)
{
	char text[24];
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644), len;

	if (fd < 0) {
		fprintf(stderr, "genvm: -pidfile %s: %s\n", path, strerror(errno));
		return -1;
	}
	len = snprintf(text, sizeof(text), "%ld\n", (long)getpid());
	if (write(fd, text, (size_t)len) != len) {
		fprintf(stderr, "genvm: -pidfile %s: %s\n", path, strerror(errno));
		close(fd);
		unlink(path);
		return -1;
	}
	close(fd);
	pidfile_path = path;
	atexit(remove_pidfile);
	return 0;
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
	bool started;
	int ret;

	switch (cli_parse(argc, argv, &cfg, 0, stdout, stderr)) {
	case CLI_RUN:
		break;
	case CLI_EXIT:
		return 0;
	default:
		return 1;
	}

	if (cfg.daemonize && daemonize_start() < 0)
		return 1;
	if (cfg.pidfile && write_pidfile(cfg.pidfile) < 0)
		return 1;

	/*
	 * The command helper forks first, while genvm is small and has no
	 * threads, no guest RAM and no KVM fds for it to inherit.
	 */
	if (cfg.sandbox && cfg.sandbox_spawn && spawner_start() < 0)
		return 1;
	if (cfg.sandbox && !cfg.sandbox_spawn)
		spawner_deny();

	limit.timestamp = cfg.msg_timestamp;
	vmgenid_log_set_sink(log_sink, &limit);
	/* -incoming defer: the machine is built as -m and -smp say; migrate-incoming loads it. */
	const bool restore_now = cfg.incoming && !cfg.incoming_defer;

	if (restore_now) {
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
	if (restore_now && incoming_finish(&in, &m) < 0) {
		incoming_close(&in);
		machine_destroy(&m);
		return 1;
	}
	/* The sandbox refuses sigaction: the snapshot file's guards go in now. */
	if (cfg.incoming_defer && vm_ram_file_prepare(restore_tty) < 0) {
		machine_destroy(&m);
		return 1;
	}
	if (restore_now) {
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
	started = control_start(ctl) == 0;
	/* A daemon's parent returns once the channels are open; before the sandbox, which keeps /dev/null shut. */
	if (started)
		daemonize_ready();
	if (!started) {
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
	remove_pidfile();
	pidfile_path = NULL;
	return ret;
}
