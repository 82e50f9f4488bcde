// SPDX-License-Identifier: MIT
/*
 * The control plane on its main loop, with genvm's real control, loop and
 * migration code and no KVM: a hand-built machine whose RAM is a buffer.
 * Link-time wraps stand in for what needs KVM (pausing vCPUs, reading
 * their state, rebuilding the VM on reset) and record when it happens.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "vmgenid/bytebuf.h"

#include "control.h"
#include "hmp.h"
#include "loop.h"
#include "machine.h"
#include "migrate.h"
#include "snapfile.h"
#include "uart.h"

/* More than a pipe holds: a save to a command that does not read yet blocks. */
#define RAM_SIZE (2u << 20)

static struct control *ctl;
static int resets, resets_during_save;
static int loads, starts, resumes;

int __wrap_machine_pause(struct machine *m);
int __wrap_machine_pause(struct machine *m)
{
	(void)m;
	return 0;
}

void __wrap_machine_resume(struct machine *m);
void __wrap_machine_resume(struct machine *m)
{
	(void)m;
	resumes++;
}

int __wrap_machine_reset(struct machine *m);
int __wrap_machine_reset(struct machine *m)
{
	struct migrate_info info;

	(void)m;
	control_migrate_info(ctl, &info);
	resets++;
	if (info.status == MIGRATE_ACTIVE)
		resets_during_save++;
	return 0;
}

/* No vCPUs to start. */
int __wrap_machine_start(struct machine *m);
int __wrap_machine_start(struct machine *m)
{
	(void)m;
	starts++;
	return 0;
}

/* migrate-incoming: the vCPUs' state is KVM's; RAM is a buffer, filled as mapping would. */

int __wrap_snapshot_load_state(struct machine *m, const uint8_t *state, size_t len, char *why,
			       size_t why_len);
int __wrap_snapshot_load_state(struct machine *m, const uint8_t *state, size_t len, char *why,
			       size_t why_len)
{
	(void)m;
	(void)state;
	(void)len;
	(void)why;
	(void)why_len;
	loads++;
	return 0;
}

int __wrap_vm_map_ram_file(struct vm *vm, int fd, uint64_t offset);
int __wrap_vm_map_ram_file(struct vm *vm, int fd, uint64_t offset)
{
	ssize_t n = pread(fd, vm->ram, vm->ram_size, (off_t)offset);

	return n == (ssize_t)vm->ram_size ? 0 : -EIO;
}

int __wrap_vm_watch_ram_file(struct vm *vm, const char *name, int fd, uint64_t offset,
			     void (*on_fatal)(void));
int __wrap_vm_watch_ram_file(struct vm *vm, const char *name, int fd, uint64_t offset,
			     void (*on_fatal)(void))
{
	(void)vm;
	(void)name;
	(void)fd;
	(void)offset;
	(void)on_fatal;
	return 0;
}

/* No irqchip: the UART's interrupt line goes nowhere. */
void __wrap_vm_irq_line(struct vm *vm, unsigned int irq, int level);
void __wrap_vm_irq_line(struct vm *vm, unsigned int irq, int level)
{
	(void)vm;
	(void)irq;
	(void)level;
}

/* No vCPUs to read: a save of the RAM alone. */
int __wrap_snapshot_save_state(struct machine *m, struct vmgenid_bytebuf *out);
int __wrap_snapshot_save_state(struct machine *m, struct vmgenid_bytebuf *out)
{
	(void)m;
	(void)out;
	return 0;
}

static struct genvm_config cfg;
static struct machine m;
static struct loop *loop;
static char dir[] = "/tmp/test_control.XXXXXX";
static char go[64];
static int console[2]; /* the console's pipe, as a shell makes stdout */
static int console_fd; /* what the UART writes: [1], opened again non-blocking */

/* What machine.c's UART notify does: wake the main loop. */
static void console_output(void *opaque)
{
	machine_request(opaque, MACHINE_REQ_OUTPUT);
}

static int setup(void **state)
{
	(void)state;
	/* As genvm's main(): a destination that goes away is a failed write. */
	signal(SIGPIPE, SIG_IGN);
	if (!mkdtemp(dir))
		return -1;
	snprintf(go, sizeof(go), "%s/go", dir);
	memset(&cfg, 0, sizeof(cfg));
	memset(&m, 0, sizeof(m));
	m.cfg = &cfg;
	m.serial_fd = -1;
	m.vm.nr_cpus = 1;
	m.vm.ram_size = RAM_SIZE;
	m.vm.ram = calloc(1, RAM_SIZE);
	m.vm.exit_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	m.request_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	atomic_init(&m.requests, 0u);
	loop = loop_new();
	/* A pipe as a shell gives genvm for stdout: blocking. */
	if (!m.vm.ram || m.vm.exit_fd < 0 || m.request_fd < 0 || !loop ||
	    pipe2(console, O_CLOEXEC) < 0)
		return -1;
	fcntl(console[0], F_SETFL, O_NONBLOCK);
	console_fd = machine_console_output(console[1]);
	m.uart = uart_new(&m.vm, UART_COM1_IRQ, console_fd);
	if (!m.uart)
		return -1;
	uart_set_output_notify(m.uart, console_output, &m);
	ctl = control_new(&m, loop);
	return ctl ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	control_free(ctl);
	loop_free(loop);
	uart_free(m.uart);
	if (console_fd != console[1])
		close(console_fd);
	close(console[0]);
	close(console[1]);
	close(m.vm.exit_fd);
	close(m.request_fd);
	free(m.vm.ram);
	unlink(go);
	rmdir(dir);
	return 0;
}

static void stop_loop(struct loop *l, void *opaque)
{
	(void)opaque;
	loop_stop(l);
}

/* Run the main loop for ms milliseconds. */
static void run_for(unsigned int ms)
{
	assert_int_equal(loop_add_timer(loop, ms, stop_loop, NULL), 0);
	assert_int_equal(loop_run(loop), 0);
}

static enum migrate_status save_status(void)
{
	struct migrate_info info;

	control_migrate_info(ctl, &info);
	return info.status;
}

/*
 * A guest reset (0xCF9, i8042, triple fault: all a vCPU's request) that
 * arrives while a save streams RAM out waits for the save, then happens.
 */
static void test_guest_reset_waits_for_the_save(void **state)
{
	char uri[256], why[256] = "";

	(void)state;
	/* A destination that takes nothing until the test says "go". */
	snprintf(uri, sizeof(uri),
		 "exec:while [ ! -e %s ]; do sleep 0.01; done; cat >/dev/null", go);
	resets = resets_during_save = 0;
	assert_int_equal(control_migrate(ctl, uri, why, sizeof(why)), 0);
	assert_int_equal(save_status(), MIGRATE_ACTIVE);

	/* What a vCPU does on a reset write, just before it parks. */
	machine_request(&m, MACHINE_REQ_RESET);
	run_for(300);
	assert_int_equal(save_status(), MIGRATE_ACTIVE);
	assert_int_equal(resets, 0);

	/* The destination reads; the save ends; then the reset happens. */
	close(open(go, O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
	for (int i = 0; i < 100 && save_status() == MIGRATE_ACTIVE; i++)
		run_for(50);
	assert_int_equal(save_status(), MIGRATE_COMPLETED);
	assert_int_equal(resets, 1);
	assert_int_equal(resets_during_save, 0);
	/* A saved machine stays stopped, reset or not, until cont. */
	assert_int_equal(control_runstate(ctl), RUNSTATE_POSTMIGRATE);

	/* With no save running, a reset request is carried out at once. */
	machine_request(&m, MACHINE_REQ_RESET);
	run_for(50);
	assert_int_equal(resets, 2);
}

/* A save that fails also gives the waiting reset its turn. */
static void test_guest_reset_after_a_failed_save(void **state)
{
	char why[256] = "";

	(void)state;
	resets = resets_during_save = 0;
	assert_int_equal(control_migrate(ctl, "exec:sleep 0.3; exit 3", why, sizeof(why)), 0);
	machine_request(&m, MACHINE_REQ_RESET);
	run_for(100);
	assert_int_equal(resets, 0);
	for (int i = 0; i < 100 && save_status() == MIGRATE_ACTIVE; i++)
		run_for(50);
	assert_int_equal(save_status(), MIGRATE_FAILED);
	assert_int_equal(resets, 1);
	assert_int_equal(resets_during_save, 0);
}

#define FLOOD (3 * UART_OUT_MAX)

static atomic_bool flood_done;

/* A vCPU printing as fast as it can. */
static void *flood(void *arg)
{
	(void)arg;
	for (size_t i = 0; i < FLOOD; i++) {
		uint8_t b = (uint8_t)('a' + i % 26);

		uart_io(m.uart, 0, &b, 1, true);
	}
	atomic_store(&flood_done, true);
	return NULL;
}

static int ticks;

static void tick(struct loop *l, void *opaque)
{
	(void)opaque;
	/* The loop can take the UART's lock, as the console's input does. */
	uart_rx_room(m.uart);
	ticks++;
	loop_add_timer(l, 10, tick, NULL);
}

static size_t drain_pipe(void)
{
	uint8_t buf[65536];
	size_t got = 0;
	ssize_t n;

	while ((n = read(console[0], buf, sizeof(buf))) > 0)
		got += (size_t)n;
	return got;
}

/*
 * A console nobody reads (a full pipe on stdout): the guest's output
 * never blocks the vCPU or the main loop; beyond the queue it is dropped
 * and counted, and once the pipe is read again the rest arrives.
 */
static void test_console_nobody_reads(void **state)
{
	pthread_t vcpu;
	size_t got = 0;
	uint64_t dropped;

	(void)state;
	ticks = 0;
	atomic_store(&flood_done, false);
	assert_int_equal(pthread_create(&vcpu, NULL, flood, NULL), 0);
	assert_int_equal(loop_add_timer(loop, 10, tick, NULL), 0);
	for (int i = 0; i < 100 && !atomic_load(&flood_done); i++)
		run_for(50);
	/* Before the fix the vCPU sat in write() with the UART locked. */
	assert_true(atomic_load(&flood_done));
	assert_int_equal(pthread_join(vcpu, NULL), 0);
	/*
	 * The loop runs on with the console still stalled: a 10 ms timer
	 * keeps firing (loosely counted: a loaded host delays timers).
	 */
	ticks = 0;
	run_for(500);
	assert_true(ticks >= 5);
	dropped = uart_output_dropped(m.uart);
	assert_true(dropped > 0);
	assert_true(dropped <= FLOOD - UART_OUT_MAX);

	/* Someone reads again: the loop writes the queue out as the pipe drains. */
	for (int i = 0; i < 200 && got + dropped < FLOOD; i++) {
		got += drain_pipe();
		run_for(10);
	}
	got += drain_pipe();
	assert_int_equal(got + dropped, FLOOD);
	assert_int_equal(uart_flush_output(m.uart), 0);
	loop_del_timer(loop, tick, NULL);
	/* The shared description, which others may write, stays blocking. */
	assert_int_equal(fcntl(console[1], F_GETFL) & O_NONBLOCK, 0);
}

/* A QMP request, with a descriptor over SCM_RIGHTS when pass >= 0; the loop answers. */
static void qmp_send(int sock, const char *json, int pass)
{
	union {
		struct cmsghdr align;
		char space[CMSG_SPACE(sizeof(int))];
	} u;
	struct iovec iov = { .iov_base = (void *)json, .iov_len = strlen(json) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (pass >= 0) {
		struct cmsghdr *cm;

		memset(&u, 0, sizeof(u));
		msg.msg_control = u.space;
		msg.msg_controllen = sizeof(u.space);
		cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &pass, sizeof(int));
	}
	assert_int_equal(sendmsg(sock, &msg, 0), (ssize_t)strlen(json));
}

/* Everything the client has been sent so far, after the loop ran ms. */
static char qmp_out[8192];

static const char *qmp_read(int sock, unsigned int ms)
{
	size_t len = 0;
	ssize_t n;

	run_for(ms);
	while ((n = recv(sock, qmp_out + len, sizeof(qmp_out) - 1 - len, MSG_DONTWAIT)) > 0)
		len += (size_t)n;
	qmp_out[len] = '\0';
	return qmp_out;
}

static void expect_reply(int sock, const char *request, int pass, const char *reply)
{
	const char *got;

	qmp_send(sock, request, pass);
	got = qmp_read(sock, 30);
	if (!strstr(got, reply))
		fail_msg("%s: expected %s, got %s", request, reply, got);
}

/*
 * What libvirt asks of the guest it started, and its save: getfd with the
 * destination passed over SCM_RIGHTS, migrate to fd:NAME, MIGRATION events.
 */
static void test_qmp_management(void **state)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	static char all[32768];
	char path[96], text[512];
	const char *got = "";
	struct stat st;
	int sock, out;

	(void)state;
	/* This test builds its own control plane, with a QMP channel. */
	control_free(ctl);
	snprintf(path, sizeof(path), "%s/qmp.sock", dir);
	memcpy(cfg.name, "vm1", 4);
	cfg.name_given = true;
	assert_int_equal(vmgenid_guid_parse("324e6eaf-d1d1-4bf6-bf41-b9bb6c91fb87", &cfg.uuid, &got), 0);
	cfg.qmp[0].text = path;
	cfg.qmp[0].spec.kind = CHARDEV_UNIX;
	memcpy(cfg.qmp[0].spec.path, path, strlen(path) + 1);
	cfg.qmp[0].spec.server = true;
	cfg.nr_qmp = 1;
	ctl = control_new(&m, loop);
	assert_non_null(ctl);
	assert_int_equal(control_start(ctl), 0);

	memcpy(sa.sun_path, path, strlen(path) + 1);
	sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_int_equal(connect(sock, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_non_null(strstr(qmp_read(sock, 30), "{\"QMP\": "));
	expect_reply(sock, "{\"execute\": \"qmp_capabilities\"}", -1, "{\"return\": {}}");
	/* QEMU 7.2's answers, word for word. */
	expect_reply(sock, "{\"execute\": \"query-name\"}", -1, "{\"return\": {\"name\": \"vm1\"}}");
	expect_reply(sock, "{\"execute\": \"query-uuid\"}", -1,
		     "{\"return\": {\"UUID\": \"324e6eaf-d1d1-4bf6-bf41-b9bb6c91fb87\"}}");
	expect_reply(sock, "{\"execute\": \"query-target\"}", -1, "{\"return\": {\"arch\": \"x86_64\"}}");
	expect_reply(sock, "{\"execute\": \"query-kvm\"}", -1,
		     "{\"return\": {\"enabled\": true, \"present\": true}}");
	cfg.name_given = false;
	expect_reply(sock, "{\"execute\": \"query-name\"}", -1, "{\"return\": {}}");

	/* getfd's refusals, in QEMU's words. */
	expect_reply(sock, "{\"execute\": \"getfd\", \"arguments\": {\"fdname\": \"migrate\"}}", -1,
		     "\"desc\": \"No file descriptor supplied via SCM_RIGHTS\"");
	expect_reply(sock, "{\"execute\": \"migrate\", \"arguments\": {\"uri\": \"fd:migrate\"}}", -1,
		     "\"desc\": \"File descriptor named 'migrate' has not been found\"");
	expect_reply(sock, "{\"execute\": \"migrate\", \"arguments\": {\"uri\": \"fd:2\"}}", -1,
		     "fd:N names a descriptor of genvm's own");
	expect_reply(sock, "{\"execute\": \"closefd\", \"arguments\": {\"fdname\": \"x\"}}", -1,
		     "\"desc\": \"File descriptor named 'x' not found\"");
	expect_reply(sock,
		     "{\"execute\": \"migrate-set-capabilities\", \"arguments\": {\"capabilities\": "
		     "[{\"capability\": \"events\", \"state\": true}, {\"capability\": \"xbzrle\", "
		     "\"state\": false}]}}",
		     -1, "{\"return\": {}}");
	expect_reply(sock,
		     "{\"execute\": \"migrate-set-capabilities\", \"arguments\": {\"capabilities\": "
		     "[{\"capability\": \"postcopy-ram\", \"state\": true}]}}",
		     -1, "genvm does not support migration capability 'postcopy-ram'");

	/* The save: a file passed by descriptor, as libvirt's virsh save does. */
	snprintf(text, sizeof(text), "%s/saved", dir);
	out = open(text, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(out >= 0);
	expect_reply(sock, "{\"execute\": \"getfd\", \"arguments\": {\"fdname\": \"migrate\"}}", out,
		     "{\"return\": {}}");
	close(out); /* genvm holds its own copy now */
	qmp_send(sock, "{\"execute\": \"migrate\", \"arguments\": {\"uri\": \"fd:migrate\"}}", -1);
	all[0] = '\0';
	for (int i = 0; i < 200 && !strstr(all, "\"completed\""); i++)
		strncat(all, qmp_read(sock, 20), sizeof(all) - strlen(all) - 1);
	/* QEMU's MIGRATION events of a save, in order. */
	{
		const char *setup_ev = strstr(all, "\"event\": \"MIGRATION\", \"data\": {\"status\": \"setup\"}");
		const char *active = strstr(all, "{\"status\": \"active\"}");
		const char *done_ev = strstr(all, "{\"status\": \"completed\"}");

		if (!setup_ev || !active || !done_ev || setup_ev > active || active > done_ev)
			fail_msg("MIGRATION events out of order or missing: %s", all);
	}
	assert_int_equal(save_status(), MIGRATE_COMPLETED);
	snprintf(text, sizeof(text), "%s/saved", dir);
	assert_int_equal(stat(text, &st), 0);
	assert_true((uint64_t)st.st_size > RAM_SIZE);
	/* The name went with the save: a second migrate finds none. */
	expect_reply(sock, "{\"execute\": \"migrate\", \"arguments\": {\"uri\": \"fd:migrate\"}}", -1,
		     "has not been found");
	unlink(text);
	close(sock);
}

/*
 * -no-shutdown: the guest's power-off stops the machine, QMP stays, and
 * the machine ends only with quit; system_reset then cont runs it again.
 */
static void test_no_shutdown(void **state)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char path[96];
	const char *got, *shut, *stop;
	int sock;

	(void)state;
	control_free(ctl);
	snprintf(path, sizeof(path), "%s/qmp2.sock", dir);
	memset(cfg.qmp, 0, sizeof(cfg.qmp));
	cfg.qmp[0].text = path;
	cfg.qmp[0].spec.kind = CHARDEV_UNIX;
	memcpy(cfg.qmp[0].spec.path, path, strlen(path) + 1);
	cfg.qmp[0].spec.server = true;
	cfg.nr_qmp = 1;
	cfg.no_shutdown = true;
	ctl = control_new(&m, loop);
	assert_non_null(ctl);
	assert_int_equal(control_start(ctl), 0);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_int_equal(connect(sock, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_non_null(strstr(qmp_read(sock, 30), "{\"QMP\": "));
	expect_reply(sock, "{\"execute\": \"qmp_capabilities\"}", -1, "{\"return\": {}}");
	assert_int_equal(control_runstate(ctl), RUNSTATE_RUNNING);

	machine_guest_poweroff(&m);
	got = qmp_read(sock, 30);
	shut = strstr(got, "\"event\": \"SHUTDOWN\", \"data\": {\"guest\": true, "
			   "\"reason\": \"guest-shutdown\"}");
	stop = strstr(got, "\"event\": \"STOP\"");
	if (!shut || !stop || stop < shut)
		fail_msg("expected SHUTDOWN then STOP, got %s", got);
	assert_false(control_exiting(ctl));
	expect_reply(sock, "{\"execute\": \"query-status\"}", -1,
		     "{\"return\": {\"status\": \"shutdown\", \"singlestep\": false, "
		     "\"running\": false}}");
	expect_reply(sock, "{\"execute\": \"cont\"}", -1,
		     "\"desc\": \"Resetting the Virtual Machine is required\"");
	/* A second power-off (the request raced the pause) changes nothing. */
	machine_guest_poweroff(&m);
	assert_null(strstr(qmp_read(sock, 30), "SHUTDOWN"));

	resets = 0;
	expect_reply(sock, "{\"execute\": \"system_reset\"}", -1, "{\"return\": {}}");
	assert_int_equal(resets, 1);
	assert_int_equal(control_runstate(ctl), RUNSTATE_PRELAUNCH);
	expect_reply(sock, "{\"execute\": \"cont\"}", -1, "{\"return\": {}}");
	assert_int_equal(control_runstate(ctl), RUNSTATE_RUNNING);

	/* Once more off, then quit: its own SHUTDOWN, the host's, and genvm ends. */
	machine_guest_poweroff(&m);
	qmp_read(sock, 30);
	assert_int_equal(control_runstate(ctl), RUNSTATE_SHUTDOWN);
	qmp_send(sock, "{\"execute\": \"quit\"}", -1);
	got = qmp_read(sock, 30);
	if (!strstr(got, "\"data\": {\"guest\": false, \"reason\": \"host-qmp-quit\"}"))
		fail_msg("expected quit's SHUTDOWN, got %s", got);
	assert_true(control_exiting(ctl));
	close(sock);
	cfg.no_shutdown = false;
	/* The machine lives on for the tests after this one. */
	{
		uint64_t n;

		atomic_store(&m.vm.exiting, false);
		assert_int_equal(read(m.vm.exit_fd, &n, sizeof(n)), sizeof(n));
	}
}

/* What the pty's other end has read within ms, appended to buf. */
static void pty_read(int fd, char *buf, size_t size, const char *want, unsigned int ms)
{
	size_t len = strlen(buf);
	ssize_t n;

	for (unsigned int t = 0; t < ms && !strstr(buf, want); t += 20) {
		run_for(20);
		while ((n = read(fd, buf + len, size - 1 - len)) > 0)
			len += (size_t)n;
		buf[len] = '\0';
	}
}

/*
 * -serial pty: the console on a pseudo-terminal.  Output waits in the
 * UART's queue while nobody has the pty open, then reaches whoever opens
 * it; what they type reaches the guest unchanged (no C-a commands).
 */
static void test_console_pty(void **state)
{
	char name[64], got[256] = "";
	const char *hello = "hello\001x";
	struct termios t;
	uint8_t b;
	int master, s;

	(void)state;
	control_free(ctl);
	uart_free(m.uart);
	master = machine_console_pty("c", name, sizeof(name));
	assert_true(master >= 0);
	assert_memory_equal(name, "/dev/pts/", 9);
	assert_true(fcntl(master, F_GETFL) & O_NONBLOCK);
	m.serial_fd = master;
	cfg.serial_pty = true;
	m.uart = uart_new(&m.vm, UART_COM1_IRQ, master);
	assert_non_null(m.uart);
	uart_set_output_notify(m.uart, console_output, &m);
	ctl = control_new(&m, loop);
	assert_non_null(ctl);
	assert_int_equal(control_start(ctl), 0);

	/* Nobody has it open: the guest prints anyway, and the loop goes on. */
	for (size_t i = 0; i < strlen(hello); i++) {
		b = (uint8_t)hello[i];
		uart_io(m.uart, 0, &b, 1, true);
	}
	run_for(100);

	s = open(name, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	assert_true(s >= 0);
	/* Raw: no echo, no CR added, bytes as they are. */
	assert_int_equal(tcgetattr(s, &t), 0);
	assert_int_equal(t.c_lflag & (ECHO | ICANON), 0);
	pty_read(s, got, sizeof(got), hello, 3000);
	assert_string_equal(got, hello);

	/* Keys: C-a is the guest's, not a command (C-a x would quit). */
	assert_int_equal(write(s, "\001x", 2), 2);
	got[0] = '\0';
	for (int i = 0; i < 200 && strlen(got) < 2; i++) {
		uint8_t lsr;

		run_for(10);
		uart_io(m.uart, 5, &lsr, 1, false); /* LSR: bit 0, data ready */
		if (lsr & 1) {
			uart_io(m.uart, 0, &b, 1, false);
			got[strlen(got) + 1] = '\0';
			got[strlen(got)] = (char)b;
		}
	}
	assert_string_equal(got, "\001x");
	assert_false(control_exiting(ctl));

	/*
	 * The reader goes away and the guest prints more than the pty holds:
	 * the hang-up must not spin the loop (it did: ~all of a CPU).
	 */
	close(s);
	for (int i = 0; i < 65536; i++) {
		b = 'z';
		uart_io(m.uart, 0, &b, 1, true);
	}
	run_for(50);
	{
		struct timespec t0, t1;
		long used_ms;

		clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);
		run_for(400);
		clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t1);
		used_ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
		if (used_ms > 100)
			fail_msg("the loop spun on the hung-up pty: %ld ms of CPU in 400 ms", used_ms);
	}
	control_free(ctl);
	ctl = control_new(&m, loop);
	cfg.serial_pty = false;
	close(master);
	m.serial_fd = -1;
}

static void guest_prints(const char *text, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		uint8_t b = (uint8_t)text[i];

		uart_io(m.uart, 0, &b, 1, true);
	}
}

/* What the guest reads from its UART within ms (LSR bit 0, then RBR). */
static void guest_reads(char *got, size_t size, size_t want, unsigned int ms)
{
	size_t len = 0;

	for (unsigned int t = 0; t < ms && len < want && len + 1 < size; t += 10) {
		uint8_t lsr, b;

		run_for(10);
		for (;;) {
			uart_io(m.uart, 5, &lsr, 1, false);
			if (!(lsr & 1) || len + 1 >= size)
				break;
			uart_io(m.uart, 0, &b, 1, false);
			got[len++] = (char)b;
		}
	}
	got[len] = '\0';
}

static int connect_unix(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	memcpy(sa.sun_path, path, strlen(path) + 1);
	assert_int_equal(connect(sock, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return sock;
}

/*
 * The console on a socket (-serial unix:PATH,server=on,wait=off): output
 * waits in the UART's queue while nobody is connected and reaches the
 * client that connects; the client's bytes reach the guest, all of them
 * even beyond the UART's FIFO; one client at a time, as QEMU: a second
 * waits, unserved, until the first hangs up, then gets what the guest
 * printed meanwhile.
 */
static void test_console_socket(void **state)
{
	static char big[3000];
	char path[96], got[4096] = "";
	int a, b;

	(void)state;
	control_free(ctl);
	snprintf(path, sizeof(path), "%s/console.sock", dir);
	cfg.serial_socket = true;
	cfg.serial_chardev.text = path;
	cfg.serial_chardev.spec.kind = CHARDEV_UNIX;
	memcpy(cfg.serial_chardev.spec.path, path, strlen(path) + 1);
	cfg.serial_chardev.spec.server = true;
	uart_set_output_fd(m.uart, UART_OUT_HOLD);
	ctl = control_new(&m, loop);
	assert_non_null(ctl);
	assert_int_equal(control_start(ctl), 0);

	/* Nobody connected: the output waits. */
	guest_prints("early\n", 6);
	run_for(50);
	a = connect_unix(path);
	pty_read(a, got, sizeof(got), "early\n", 2000);
	assert_string_equal(got, "early\n");

	/* Keys: more than the FIFO holds, every byte delivered in order. */
	for (size_t i = 0; i < sizeof(big) - 1; i++)
		big[i] = (char)('a' + i % 26);
	assert_int_equal(write(a, big, sizeof(big) - 1), (ssize_t)sizeof(big) - 1);
	guest_reads(got, sizeof(got), sizeof(big) - 1, 5000);
	assert_string_equal(got, big);

	/* A second client waits while the first has the console. */
	b = connect_unix(path);
	guest_prints("one\n", 4);
	got[0] = '\0';
	pty_read(a, got, sizeof(got), "one\n", 2000);
	assert_string_equal(got, "one\n");
	got[0] = '\0';
	pty_read(b, got, sizeof(got), "x", 200);
	assert_string_equal(got, "");
	/* The first goes; what the guest prints then is the second's. */
	close(a);
	run_for(50);
	guest_prints("two\n", 4);
	got[0] = '\0';
	pty_read(b, got, sizeof(got), "two\n", 2000);
	assert_string_equal(got, "two\n");
	close(b);
	run_for(50);
	/* Nobody again: held, not dropped, not an error. */
	guest_prints("three\n", 6);
	run_for(50);
	assert_false(control_exiting(ctl));
	a = connect_unix(path);
	got[0] = '\0';
	pty_read(a, got, sizeof(got), "three\n", 2000);
	assert_string_equal(got, "three\n");
	close(a);
	control_free(ctl);
	cfg.serial_socket = false;
	uart_set_output_fd(m.uart, console_fd);
	ctl = control_new(&m, loop);
}

/* A snapshot of the test machine (RAM_SIZE, one vCPU, no state sections), RAM filled with fill. */
static void write_snapshot(const char *file, uint8_t fill)
{
	struct snapfile_header h;
	uint8_t raw[SNAPFILE_HEADER_SIZE];
	uint8_t *ram = malloc(RAM_SIZE);
	int fd;

	assert_non_null(ram);
	memset(ram, fill, RAM_SIZE);
	snapfile_layout(&h, RAM_SIZE, 1, NULL, 0);
	snapfile_encode(&h, raw);
	fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, raw, sizeof(raw), 0), (ssize_t)sizeof(raw));
	assert_int_equal(pwrite(fd, ram, RAM_SIZE, (off_t)h.ram_offset), (ssize_t)RAM_SIZE);
	close(fd);
	free(ram);
}

/* A control plane with QMP on a unix socket, started; the client, greeted. */
static int defer_client(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int sock;

	unlink(path);
	cfg.qmp[0].text = path;
	cfg.qmp[0].spec.kind = CHARDEV_UNIX;
	memcpy(cfg.qmp[0].spec.path, path, strlen(path) + 1);
	cfg.qmp[0].spec.server = true;
	cfg.nr_qmp = 1;
	ctl = control_new(&m, loop);
	assert_non_null(ctl);
	assert_int_equal(control_start(ctl), 0);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_int_equal(connect(sock, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_non_null(strstr(qmp_read(sock, 30), "{\"QMP\": "));
	expect_reply(sock, "{\"execute\": \"qmp_capabilities\"}", -1, "{\"return\": {}}");
	return sock;
}

/* Every MIGRATION status in all, in this order, and no other. */
static void expect_migration_events(const char *all, const char *const *want, unsigned int n)
{
	const char *p = all;

	for (unsigned int i = 0; i < n; i++) {
		char ev[128];
		const char *at;

		snprintf(ev, sizeof(ev), "\"event\": \"MIGRATION\", \"data\": {\"status\": \"%s\"}",
			 want[i]);
		at = strstr(p, ev);
		if (!at)
			fail_msg("no MIGRATION %s after the ones before it: %s", want[i], all);
		p = at + strlen(ev);
	}
	if (strstr(p, "\"MIGRATION\""))
		fail_msg("a MIGRATION event too many: %s", all);
}

static void hmp_out(void *opaque, const char *buf, size_t len)
{
	vmgenid_bytebuf_append(opaque, buf, len);
}

/* What the human monitor answers to one command line (as human-monitor-command). */
static const char *hmp(const char *line)
{
	static char text[1024];
	struct vmgenid_bytebuf b;

	vmgenid_bytebuf_init(&b);
	hmp_execute(ctl, line, hmp_out, &b);
	vmgenid_bytebuf_put_u8(&b, 0);
	assert_false(vmgenid_bytebuf_failed(&b));
	snprintf(text, sizeof(text), "%s", (const char *)b.data);
	vmgenid_bytebuf_free(&b);
	return text;
}

/*
 * -incoming defer as libvirt drives it: genvm waits in inmigrate with
 * QMP up, the vCPUs not started; migrate-incoming with a file passed by
 * getfd (fd:NAME) or file:PATH restores the machine (its RAM is the
 * snapshot's), sends QEMU's MIGRATION events, and runs it, or leaves it
 * paused under -S until cont.  Misplaced calls get QEMU 7.2's words; a
 * bad snapshot is an error and genvm stays in inmigrate, answering.
 */
static void test_incoming_defer(void **state)
{
	static const char *const ok_events[] = { "setup", "active", "completed" };
	static const char *const failed_events[] = { "setup", "active", "failed" };
	static char all[sizeof(qmp_out)];
	char path[96], snap[96], text[512], want[160];
	int sock, in;

	(void)state;
	snprintf(path, sizeof(path), "%s/qmp-defer.sock", dir);
	snprintf(snap, sizeof(snap), "%s/defer.snap", dir);
	write_snapshot(snap, 0xa5);
	control_free(ctl);
	cfg.ram_size = RAM_SIZE;
	cfg.nr_cpus = 1;

	/* No -incoming at all: QEMU's refusal. */
	sock = defer_client(path);
	expect_reply(sock, "{\"execute\": \"migrate-incoming\", \"arguments\": {\"uri\": \"file:/x\"}}",
		     -1, "\"desc\": \"'-incoming' was not specified on the command line\"");
	close(sock);
	control_free(ctl);
	/* -incoming URI: that incoming has been started already. */
	cfg.incoming = "file:/x";
	sock = defer_client(path);
	expect_reply(sock, "{\"execute\": \"migrate-incoming\", \"arguments\": {\"uri\": \"file:/x\"}}",
		     -1, "\"desc\": \"The incoming migration has already been started\"");
	close(sock);
	control_free(ctl);

	/* -incoming defer: waiting; the vCPU threads started, parked, not resumed. */
	cfg.incoming = "defer";
	cfg.incoming_defer = true;
	memset(m.vm.ram, 0, RAM_SIZE);
	starts = loads = resumes = 0;
	sock = defer_client(path);
	assert_int_equal(starts, 1);
	expect_reply(sock, "{\"execute\": \"query-status\"}", -1,
		     "{\"return\": {\"status\": \"inmigrate\", \"singlestep\": false, \"running\": false}}");
	expect_reply(sock, "{\"execute\": \"query-migrate\"}", -1, "{\"return\": {}}");
	expect_reply(sock, "{\"execute\": \"migrate\", \"arguments\": {\"uri\": \"file:/x\"}}", -1,
		     "cannot save the machine in state 'inmigrate'");
	/* URIs genvm cannot use leave it waiting. */
	expect_reply(sock, "{\"execute\": \"migrate-incoming\", \"arguments\": {\"uri\": \"fd:nosuch\"}}",
		     -1, "\"desc\": \"File descriptor named 'nosuch' has not been found\"");
	expect_reply(sock, "{\"execute\": \"migrate-incoming\", \"arguments\": {\"uri\": \"fd:3\"}}",
		     -1, "fd:N names a descriptor of genvm's own");
	expect_reply(sock, "{\"execute\": \"migrate-incoming\", \"arguments\": {\"uri\": \"tcp:0:4444\"}}",
		     -1, "unsupported URI");
	expect_reply(sock, "{\"execute\": \"migrate-incoming\"}", -1, "\"class\": \"GenericError\"");
	/*
	 * The monitor's migrate_incoming and migrate take a URI with spaces in
	 * double quotes, as QEMU's, and pass it on without them: the name
	 * looked up is the one inside.
	 */
	assert_string_equal(hmp("migrate_incoming \"fd:no such\""),
			    "Error: File descriptor named 'no such' has not been found\r\n");
	assert_string_equal(hmp("migrate_incoming fd:nosuch"),
			    "Error: File descriptor named 'nosuch' has not been found\r\n");
	assert_string_equal(hmp("migrate_incoming"),
			    "migrate_incoming: URI missing (file:PATH, exec:COMMAND or fd:NAME)\r\n");
	assert_string_equal(hmp("migrate -d \"fd:no such\""),
			    "Error: File descriptor named 'no such' has not been found\r\n");
	assert_string_equal(hmp("migrate \"fd:no such\""),
			    "Error: File descriptor named 'no such' has not been found\r\n");
	assert_int_equal(control_runstate(ctl), RUNSTATE_INMIGRATE);
	/* libvirt's restore: the save file passed with getfd, then fd:NAME. */
	in = open(snap, O_RDONLY | O_CLOEXEC);
	assert_true(in >= 0);
	expect_reply(sock, "{\"execute\": \"getfd\", \"arguments\": {\"fdname\": \"migrate\"}}", in,
		     "{\"return\": {}}");
	close(in);
	qmp_send(sock, "{\"execute\": \"migrate-incoming\", \"arguments\": {\"uri\": \"fd:migrate\"}}",
		 -1);
	memcpy(all, qmp_read(sock, 100), sizeof(all));
	expect_migration_events(all, ok_events, 3);
	if (!strstr(all, "{\"return\": {}}") || !strstr(all, "\"event\": \"RESUME\""))
		fail_msg("migrate-incoming: no return or no RESUME: %s", all);
	assert_int_equal(loads, 1);
	assert_int_equal(resumes, 1);
	assert_int_equal(((uint8_t *)m.vm.ram)[0], 0xa5);
	assert_int_equal(((uint8_t *)m.vm.ram)[RAM_SIZE - 1], 0xa5);
	assert_int_equal(control_runstate(ctl), RUNSTATE_RUNNING);
	expect_reply(sock, "{\"execute\": \"query-migrate\"}", -1, "\"status\": \"completed\"");
	/* Once only, as QEMU. */
	expect_reply(sock, "{\"execute\": \"migrate-incoming\", \"arguments\": {\"uri\": \"fd:migrate\"}}",
		     -1, "\"desc\": \"The incoming migration has already been started\"");
	close(sock);
	control_free(ctl);

	/* -S with file:PATH: paused after the restore; cont runs it. */
	cfg.start_paused = true;
	memset(m.vm.ram, 0, RAM_SIZE);
	write_snapshot(snap, 0x5a);
	starts = loads = resumes = 0;
	sock = defer_client(path);
	snprintf(text, sizeof(text),
		 "{\"execute\": \"migrate-incoming\", \"arguments\": {\"uri\": \"file:%s\"}}", snap);
	expect_reply(sock, text, -1, "{\"return\": {}}");
	assert_int_equal(((uint8_t *)m.vm.ram)[4096], 0x5a);
	assert_int_equal(loads, 1);
	assert_int_equal(resumes, 0);
	expect_reply(sock, "{\"execute\": \"query-status\"}", -1, "\"status\": \"paused\"");
	expect_reply(sock, "{\"execute\": \"cont\"}", -1, "\"event\": \"RESUME\"");
	assert_int_equal(resumes, 1);
	expect_reply(sock, "{\"execute\": \"query-status\"}", -1, "\"status\": \"running\"");
	close(sock);
	control_free(ctl);

	/* -S, but cont before the incoming (QEMU accepts it): the machine runs at the end. */
	resumes = 0;
	sock = defer_client(path);
	expect_reply(sock, "{\"execute\": \"cont\"}", -1, "{\"return\": {}}");
	expect_reply(sock, "{\"execute\": \"query-status\"}", -1, "\"status\": \"inmigrate\"");
	snprintf(text, sizeof(text),
		 "{\"execute\": \"migrate-incoming\", \"arguments\": {\"uri\": \"file:%s\"}}", snap);
	expect_reply(sock, text, -1, "\"event\": \"RESUME\"");
	assert_int_equal(resumes, 1);
	assert_int_equal(control_runstate(ctl), RUNSTATE_RUNNING);
	close(sock);
	control_free(ctl);

	/* A bad snapshot: the reason, MIGRATION failed, and genvm still answers. */
	cfg.start_paused = false;
	loads = resumes = 0;
	assert_int_equal(truncate(snap, 100), 0);
	sock = defer_client(path);
	snprintf(text, sizeof(text),
		 "{\"execute\": \"migrate-incoming\", \"arguments\": {\"uri\": \"file:%s\"}}", snap);
	qmp_send(sock, text, -1);
	memcpy(all, qmp_read(sock, 100), sizeof(all));
	expect_migration_events(all, failed_events, 3);
	snprintf(want, sizeof(want), "\"desc\": \"%s: ", snap);
	if (!strstr(all, want) || !strstr(all, "\"class\": \"GenericError\""))
		fail_msg("a failed migrate-incoming without its reason: %s", all);
	assert_int_equal(resumes, 0);
	assert_int_equal(loads, 0);
	expect_reply(sock, "{\"execute\": \"query-status\"}", -1, "\"status\": \"inmigrate\"");
	expect_reply(sock, "{\"execute\": \"query-migrate\"}", -1, "\"status\": \"failed\", \"error-desc\": ");
	expect_reply(sock, "{\"execute\": \"migrate-incoming\", \"arguments\": {\"uri\": \"file:/x\"}}",
		     -1, "The incoming migration has already been started");
	assert_false(control_exiting(ctl));
	close(sock);
	control_free(ctl);

	cfg.incoming = NULL;
	cfg.incoming_defer = false;
	cfg.nr_qmp = 0;
	unlink(snap);
	ctl = control_new(&m, loop);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_guest_reset_waits_for_the_save),
		cmocka_unit_test(test_guest_reset_after_a_failed_save),
		cmocka_unit_test(test_console_nobody_reads),
		/* Last: it replaces the shared control plane with one that has QMP. */
		cmocka_unit_test(test_qmp_management),
		cmocka_unit_test(test_no_shutdown),
		cmocka_unit_test(test_console_pty),
		cmocka_unit_test(test_incoming_defer),
		cmocka_unit_test(test_console_socket),
	};

	return cmocka_run_group_tests_name("control", tests, setup, teardown);
}
