// SPDX-License-Identifier: MIT
/*
 * The sandbox's allowlists, for real: each case runs in a forked child
 * that builds the filters as genvm does, enters a thread kind's list and
 * makes calls.  An allowed call works; a forbidden one never runs, and the
 * child ends with SANDBOX_EXIT_STATUS and one line on stderr naming the
 * thread kind and the call.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "sandbox.h"
#include "snapstream.h"
#include "spawner.h"

static char dir[] = "/tmp/test_sandbox.XXXXXX";

struct outcome {
	int status;
	char err[2048]; /* the child's stderr */
};

/* Child exit codes that mean the test itself went wrong, not the sandbox. */
#define CHILD_PREPARE_FAILED 90
#define CHILD_ENTER_FAILED 91
#define CHILD_CALL_RETURNED 92
#define CHILD_CALL_FAILED 93

static void path_in_dir(char *out, size_t size, const char *name)
{
	snprintf(out, size, "%s/%s", dir, name);
}

static void enter(enum sandbox_kind kind)
{
	if (sandbox_enter(kind) < 0)
		_exit(CHILD_ENTER_FAILED);
}

/* Run body in a thread of its own and wait for it (the child's main thread stays out). */
static void in_thread(void *(*body)(void *), void *arg)
{
	pthread_t t;

	if (pthread_create(&t, NULL, body, arg) || pthread_join(t, NULL))
		_exit(CHILD_CALL_FAILED);
}

static void run_child(void (*fn)(void), bool prepare, bool spawn, struct outcome *o)
{
	int p[2];
	size_t len = 0;
	ssize_t n;
	pid_t pid;

	memset(o, 0, sizeof(*o));
	assert_int_equal(pipe(p), 0);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		const struct sandbox_config cfg = { .spawn = spawn };

		dup2(p[1], STDERR_FILENO);
		close(p[0]);
		close(p[1]);
		if (prepare && sandbox_prepare(&cfg) < 0)
			_exit(CHILD_PREPARE_FAILED);
		fn();
		_exit(0);
	}
	close(p[1]);
	while ((n = read(p[0], o->err + len, sizeof(o->err) - 1 - len)) > 0)
		len += (size_t)n;
	close(p[0]);
	assert_int_equal(waitpid(pid, &o->status, 0), pid);
}

static void expect_refused(const struct outcome *o, const char *line)
{
	if (!WIFEXITED(o->status) || WEXITSTATUS(o->status) != SANDBOX_EXIT_STATUS)
		fail_msg("child ended with wait status %#x, stderr '%s'", o->status, o->err);
	assert_string_equal(o->err, line);
}

static void expect_clean_exit(const struct outcome *o)
{
	if (!WIFEXITED(o->status) || WEXITSTATUS(o->status) != 0)
		fail_msg("child ended with wait status %#x, stderr '%s'", o->status, o->err);
	assert_string_equal(o->err, "");
}

/* ---- vCPU threads ---- */

static void *vcpu_opens_a_file(void *arg)
{
	char path[256];

	(void)arg;
	path_in_dir(path, sizeof(path), "from-vcpu");
	enter(SANDBOX_VCPU);
	open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	_exit(CHILD_CALL_RETURNED);
}

static void child_vcpu_open(void)
{
	in_thread(vcpu_opens_a_file, NULL);
}

/* The call is refused before it runs: the file is never created. */
static void test_vcpu_forbidden_call_ends_genvm(void **state)
{
	char path[256];
	struct outcome o;

	(void)state;
	run_child(child_vcpu_open, true, true, &o);
	expect_refused(&o, "genvm: sandbox: vCPU thread made a forbidden system call: "
			   "openat (257)\n");
	path_in_dir(path, sizeof(path), "from-vcpu");
	assert_int_equal(access(path, F_OK), -1);
}

static void *vcpu_does_its_work(void *arg)
{
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	int *fds = arg;
	struct timespec ts;
	uint8_t rnd[16];
	void *big;

	enter(SANDBOX_VCPU);
	/* KVM_RUN on a bad fd fails as the kernel says, it is not refused. */
	if (ioctl(-1, KVM_RUN, 0) != -1 || errno != EBADF)
		_exit(CHILD_CALL_FAILED);
	if (ioctl(-1, KVM_IRQ_LINE, NULL) != -1 || errno != EBADF)
		_exit(CHILD_CALL_FAILED);
	pthread_mutex_lock(&lock);
	pthread_mutex_unlock(&lock);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		_exit(CHILD_CALL_FAILED);
	big = malloc(8u << 20); /* mmap, from a new thread's own arena */
	if (!big)
		_exit(CHILD_CALL_FAILED);
	memset(big, 1, 8u << 20);
	free(big);
	if (write(fds[1], "vcpu", 4) != 4)
		_exit(CHILD_CALL_FAILED);
	return NULL;
}

static void child_vcpu_works(void)
{
	int fds[2];
	char buf[4];

	if (pipe(fds) < 0)
		_exit(CHILD_CALL_FAILED);
	in_thread(vcpu_does_its_work, fds);
	if (read(fds[0], buf, 4) != 4 || memcmp(buf, "vcpu", 4))
		_exit(CHILD_CALL_FAILED);
}

static void test_vcpu_allowed_calls_work(void **state)
{
	struct outcome o;

	(void)state;
	run_child(child_vcpu_works, true, true, &o);
	expect_clean_exit(&o);
}

static void *vcpu_creates_a_vm(void *arg)
{
	(void)arg;
	enter(SANDBOX_VCPU);
	ioctl(-1, KVM_CREATE_VM, 0);
	_exit(CHILD_CALL_RETURNED);
}

static void child_vcpu_create_vm(void)
{
	in_thread(vcpu_creates_a_vm, NULL);
}

/* ioctl is on the list for some requests only; the message names the request. */
static void test_vcpu_ioctl_outside_its_requests(void **state)
{
	struct outcome o;

	(void)state;
	run_child(child_vcpu_create_vm, true, true, &o);
	expect_refused(&o, "genvm: sandbox: vCPU thread made a forbidden system call: "
			   "ioctl (16), request 0xae01\n");
}

/* ---- the main loop ---- */

static void *new_vcpu(void *arg)
{
	(void)arg;
	/* Still under the main loop's list: then its own on top. */
	enter(SANDBOX_VCPU);
	if (ioctl(-1, KVM_RUN, 0) != -1 || errno != EBADF)
		_exit(CHILD_CALL_FAILED);
	return NULL;
}

static void child_main_reset_then_fork(void)
{
	/* As in genvm, the first vCPUs start before the main loop enters its list. */
	in_thread(new_vcpu, NULL);
	enter(SANDBOX_MAIN);
	/* system_reset's path: a vCPU thread started, run and joined under the sandbox. */
	in_thread(new_vcpu, NULL);
	in_thread(new_vcpu, NULL);
	if (fork() == 0)
		_exit(CHILD_CALL_RETURNED);
	_exit(CHILD_CALL_RETURNED);
}

/*
 * migrate-incoming under -incoming defer restores from the sandboxed main
 * loop: the snapshot file opened and read, its RAM image mapped over guest
 * RAM in place, the vCPUs' and the VM's state set.  (A bad fd: each call
 * fails with EBADF after the filter let it through.)
 */
static void child_main_restores(void)
{
	static const unsigned long setters[] = {
		KVM_SET_IRQCHIP, KVM_SET_PIT2, KVM_SET_CLOCK, KVM_SET_MSRS, KVM_SET_FPU,
		KVM_SET_XSAVE, KVM_SET_REGS, KVM_SET_XCRS, KVM_SET_SREGS, KVM_SET_MP_STATE,
		KVM_SET_LAPIC, KVM_SET_VCPU_EVENTS, KVM_SET_DEBUGREGS,
	};
	char path[256], byte;
	uint8_t *ram;
	int fd;

	path_in_dir(path, sizeof(path), "snap");
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || ftruncate(fd, 8192) < 0 || pwrite(fd, "S", 1, 4096) != 1)
		_exit(CHILD_CALL_FAILED);
	close(fd);
	ram = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (ram == MAP_FAILED)
		_exit(CHILD_CALL_FAILED);
	enter(SANDBOX_MAIN);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || pread(fd, &byte, 1, 4096) != 1 || byte != 'S')
		_exit(CHILD_CALL_FAILED);
	if (mmap(ram, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_NORESERVE | MAP_FIXED, fd,
		 4096) != ram || ram[0] != 'S')
		_exit(CHILD_CALL_FAILED);
	for (size_t i = 0; i < sizeof(setters) / sizeof(setters[0]); i++) {
		if (ioctl(-1, setters[i], NULL) != -1 || errno != EBADF)
			_exit(CHILD_CALL_FAILED);
	}
	_exit(0);
}

static void test_main_restores_under_its_list(void **state)
{
	struct outcome o;
	char path[256];

	(void)state;
	run_child(child_main_restores, true, true, &o);
	path_in_dir(path, sizeof(path), "snap");
	unlink(path);
	expect_clean_exit(&o);
}

/* Threads yes (the main list holds each kind's), processes no. */
static void test_main_starts_threads_not_processes(void **state)
{
	struct outcome o;

	(void)state;
	run_child(child_main_reset_then_fork, true, true, &o);
	expect_refused(&o, "genvm: sandbox: main loop thread made a forbidden system call: "
			   "clone (56)\n");
}

static void child_main_exec_mapping(void)
{
	enter(SANDBOX_MAIN);
	mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	_exit(CHILD_CALL_RETURNED);
}

static void test_main_maps_nothing_executable(void **state)
{
	struct outcome o;

	(void)state;
	run_child(child_main_exec_mapping, true, true, &o);
	expect_refused(&o, "genvm: sandbox: main loop thread made a forbidden system call: "
			   "mmap (9)\n");
}

static void child_main_pipe(void)
{
	int fds[2];

	enter(SANDBOX_MAIN);
	if (pipe2(fds, O_CLOEXEC) < 0)
		_exit(CHILD_CALL_FAILED);
}

/* migrate exec: needs a pipe; under spawn=deny it has no business with one. */
static void test_spawn_deny_narrows_the_main_list(void **state)
{
	struct outcome o;

	(void)state;
	run_child(child_main_pipe, true, true, &o);
	expect_clean_exit(&o);
	run_child(child_main_pipe, true, false, &o);
	expect_refused(&o, "genvm: sandbox: main loop thread made a forbidden system call: "
			   "pipe2 (293)\n");
}

static void child_main_runs_a_command(void)
{
	char buf[256] = "";
	int fds[2], status;
	ssize_t n;
	pid_t pid;

	if (spawner_start() < 0 || pipe2(fds, O_CLOEXEC) < 0)
		_exit(CHILD_CALL_FAILED);
	enter(SANDBOX_MAIN);
	if (spawner_spawn("grep -E '^(Seccomp|NoNewPrivs):' /proc/self/status", STDOUT_FILENO,
			  fds[1], &pid) < 0)
		_exit(CHILD_CALL_FAILED);
	close(fds[1]);
	n = read(fds[0], buf, sizeof(buf) - 1);
	if (n <= 0 || spawner_wait(pid, &status) < 0 || status != 0)
		_exit(CHILD_CALL_FAILED);
	/* What the command said about itself, for the parent to check. */
	if (write(STDERR_FILENO, buf, (size_t)n) != n)
		_exit(CHILD_CALL_FAILED);
}

/* exec: commands start outside the filter, without privileges to gain. */
static void test_commands_run_outside_the_sandbox(void **state)
{
	struct outcome o;

	(void)state;
	run_child(child_main_runs_a_command, true, true, &o);
	if (!WIFEXITED(o.status) || WEXITSTATUS(o.status) != 0)
		fail_msg("child ended with wait status %#x, stderr '%s'", o.status, o.err);
	assert_string_equal(o.err, "NoNewPrivs:\t1\nSeccomp:\t0\n");
}

static void child_main_denied_exec_save(void)
{
	struct snapwriter w;
	struct snapuri u;
	char why[320];

	spawner_deny();
	enter(SANDBOX_MAIN);
	if (snapuri_parse("exec:cat > /dev/null", &u, why, sizeof(why)) < 0 ||
	    snapwriter_open(&u, &w, why, sizeof(why)) != -EPERM)
		_exit(CHILD_CALL_FAILED);
	fprintf(stderr, "%s\n", why);
}

/* migrate exec: under spawn=deny: an answer, not a forbidden pipe2. */
static void test_spawn_deny_refuses_exec_save_in_words(void **state)
{
	struct outcome o;

	(void)state;
	run_child(child_main_denied_exec_save, true, false, &o);
	if (!WIFEXITED(o.status) || WEXITSTATUS(o.status) != 0)
		fail_msg("child ended with wait status %#x, stderr '%s'", o.status, o.err);
	assert_string_equal(o.err, "-sandbox on,spawn=deny forbids starting commands\n");
}

/* ---- the migration writer and device workers ---- */

static void *writer_renames_then_connects(void *arg)
{
	char from[256], to[256];

	(void)arg;
	path_in_dir(from, sizeof(from), "snap.tmp");
	path_in_dir(to, sizeof(to), "snap");
	enter(SANDBOX_MIGRATE);
	if (rename(from, to) < 0)
		_exit(CHILD_CALL_FAILED);
	socket(AF_UNIX, SOCK_STREAM, 0);
	_exit(CHILD_CALL_RETURNED);
}

static void child_writer(void)
{
	in_thread(writer_renames_then_connects, NULL);
}

static void test_writer_commits_but_has_no_sockets(void **state)
{
	char from[256], to[256];
	struct outcome o;
	int fd;

	(void)state;
	path_in_dir(from, sizeof(from), "snap.tmp");
	path_in_dir(to, sizeof(to), "snap");
	fd = open(from, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	close(fd);
	run_child(child_writer, true, true, &o);
	expect_refused(&o, "genvm: sandbox: migration writer thread made a forbidden system "
			   "call: socket (41)\n");
	assert_int_equal(access(to, F_OK), 0);
	assert_int_equal(access(from, F_OK), -1);
	unlink(to);
}

static void *worker_reads_then_opens(void *arg)
{
	int fd = *(int *)arg;
	char buf[5] = "";

	enter(SANDBOX_DEVICE);
	if (pread(fd, buf, 4, 0) != 4 || memcmp(buf, "disk", 4) || fdatasync(fd) < 0)
		_exit(CHILD_CALL_FAILED);
	open("/dev/null", O_RDONLY | O_CLOEXEC);
	_exit(CHILD_CALL_RETURNED);
}

static void child_worker(void)
{
	char path[256];
	int fd;

	path_in_dir(path, sizeof(path), "disk.img");
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		_exit(CHILD_CALL_FAILED);
	in_thread(worker_reads_then_opens, &fd);
}

static void test_device_worker_does_io_but_opens_nothing(void **state)
{
	char path[256];
	struct outcome o;
	int fd;

	(void)state;
	path_in_dir(path, sizeof(path), "disk.img");
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "disk", 4), 4);
	close(fd);
	run_child(child_worker, true, true, &o);
	expect_refused(&o, "genvm: sandbox: device worker thread made a forbidden system "
			   "call: openat (257)\n");
	unlink(path);
}

/* ---- -sandbox off ---- */

static void child_off(void)
{
	int fd;

	/* Never prepared: entering changes nothing. */
	if (sandbox_enter(SANDBOX_VCPU) != 0 || sandbox_prepared())
		_exit(CHILD_ENTER_FAILED);
	if (prctl(PR_GET_SECCOMP, 0, 0, 0, 0) != 0)
		_exit(CHILD_CALL_FAILED);
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		_exit(CHILD_CALL_FAILED);
	close(fd);
}

static void test_off_changes_nothing(void **state)
{
	struct outcome o;

	(void)state;
	run_child(child_off, false, true, &o);
	expect_clean_exit(&o);
}

static int setup(void **state)
{
	(void)state;
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	return rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vcpu_forbidden_call_ends_genvm),
		cmocka_unit_test(test_vcpu_allowed_calls_work),
		cmocka_unit_test(test_vcpu_ioctl_outside_its_requests),
		cmocka_unit_test(test_main_starts_threads_not_processes),
		cmocka_unit_test(test_main_restores_under_its_list),
		cmocka_unit_test(test_main_maps_nothing_executable),
		cmocka_unit_test(test_spawn_deny_narrows_the_main_list),
		cmocka_unit_test(test_spawn_deny_refuses_exec_save_in_words),
		cmocka_unit_test(test_commands_run_outside_the_sandbox),
		cmocka_unit_test(test_writer_commits_but_has_no_sockets),
		cmocka_unit_test(test_device_worker_does_io_but_opens_nothing),
		cmocka_unit_test(test_off_changes_nothing),
	};

	return cmocka_run_group_tests_name("sandbox", tests, setup, teardown);
}
