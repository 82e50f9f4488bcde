// SPDX-License-Identifier: MIT
/*
 * A restored machine's RAM maps its snapshot file: vm_watch_ram_file()
 * must turn a change of that file into one line and status 1, never a
 * SIGBUS core dump.  The "RAM" here is a private mapping of a temporary
 * file, as vm_create() makes it; no KVM is involved.
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
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "vm.h"

#define OFFSET 4096
#define RAM_SIZE (4 * 4096)

static char path[] = "/tmp/test_vm_ram_file.XXXXXX";
static struct vm vm;
static char want[256];

/* Written and closed: a read lease needs a file nobody has open for writing. */
static void make_file(void)
{
	uint8_t buf[OFFSET + RAM_SIZE];
	int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);

	assert_true(fd >= 0);
	memset(buf, 0x5a, sizeof(buf));
	assert_int_equal(write(fd, buf, sizeof(buf)), (ssize_t)sizeof(buf));
	close(fd);
}

/* What vm_create() does for a restore, minus KVM. */
static void map_ram(void)
{
	int rd = open(path, O_RDONLY | O_CLOEXEC);

	assert_true(rd >= 0);
	memset(&vm, 0, sizeof(vm));
	vm.ram_file_fd = -1;
	vm.exit_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	assert_true(vm.exit_fd >= 0);
	vm.ram_size = RAM_SIZE;
	vm.ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE, rd, OFFSET);
	assert_true(vm.ram != MAP_FAILED);
	assert_int_equal(vm_watch_ram_file(&vm, path, rd, OFFSET, NULL), 0);
	close(rd);
}

static void unmap_ram(void)
{
	munmap(vm.ram, RAM_SIZE);
	close(vm.exit_fd);
	if (vm.ram_file_fd >= 0)
		close(vm.ram_file_fd);
}

static int setup(void **state)
{
	int fd = mkstemp(path);

	(void)state;
	if (fd < 0)
		return -1;
	close(fd);
	snprintf(want, sizeof(want), "genvm: incoming: %s changed under a running machine\n", path);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(path);
	return 0;
}

/*
 * Someone opens the file to rewrite it: genvm is asked to end (status 1)
 * while the writer waits, and reports the change once.
 */
static void test_lease_break_ends_the_machine(void **state)
{
	struct pollfd p;
	pid_t writer;
	int status, ret;

	(void)state;
	make_file();
	map_ram();
	writer = fork();
	assert_true(writer >= 0);
	if (writer == 0) {
		/*
		 * Through exec: a forked child shares the leased file (its
		 * descriptor and the RAM mapping) until it execs, so its own
		 * open would wait out the kernel's lease-break-time (45 s).
		 */
		execl("/bin/sh", "sh", "-c", ": >\"$1\"", "sh", path, (char *)NULL);
		_exit(127);
	}
	p = (struct pollfd){ .fd = vm.exit_fd, .events = POLLIN };
	/* The lease-break signal itself interrupts the wait. */
	do
		ret = poll(&p, 1, 10000);
	while (ret < 0 && errno == EINTR);
	if (ret != 1) {
		kill(writer, SIGKILL);
		waitpid(writer, &status, 0);
		fail_msg("no exit request within 10 s: the file has no read lease");
	}
	assert_true(atomic_load(&vm.exiting));
	assert_int_equal(vm.exit_code, 1);
	assert_true(atomic_load(&vm.ram_file_lost));
	/* Letting go of the file lets the writer in. */
	unmap_ram();
	assert_int_equal(waitpid(writer, &status, 0), writer);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* Without a lease: the file shrinks, a host thread touches a page that went. */
static void test_sigbus_on_vanished_page(void **state)
{
	int pipefd[2], status;
	char out[512] = "";
	ssize_t n;
	pid_t child;

	(void)state;
	make_file();
	assert_int_equal(pipe(pipefd), 0);
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		volatile uint8_t *ram;

		dup2(pipefd[1], STDERR_FILENO);
		map_ram();
		ram = vm.ram;
		/* A page written before the change is the machine's own. */
		ram[0] = 1;
		fcntl(vm.ram_file_fd, F_SETLEASE, F_UNLCK);
		if (truncate(path, OFFSET + 4096) < 0)
			_exit(3);
		if (!vm_ram_file_check(&vm))
			_exit(4);
		(void)ram[0];
		(void)ram[2 * 4096];
		_exit(0); /* not reached: the read above raises SIGBUS */
	}
	close(pipefd[1]);
	n = read(pipefd[0], out, sizeof(out) - 1);
	out[n > 0 ? n : 0] = '\0';
	close(pipefd[0]);
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 1);
	assert_string_equal(out, want);
}

/* The EFAULT path's question: a file that did not change is not reported. */
static void test_check_and_report(void **state)
{
	int pipefd[2], saved;
	char out[512] = "";
	ssize_t n;

	(void)state;
	make_file();
	map_ram();
	assert_false(vm_ram_file_check(&vm));
	assert_false(vm_ram_file_report(&vm));
	fcntl(vm.ram_file_fd, F_SETLEASE, F_UNLCK);
	assert_int_equal(truncate(path, OFFSET), 0);
	assert_true(vm_ram_file_check(&vm));
	assert_int_equal(pipe(pipefd), 0);
	saved = dup(STDERR_FILENO);
	dup2(pipefd[1], STDERR_FILENO);
	assert_true(vm_ram_file_report(&vm));
	assert_true(vm_ram_file_report(&vm));
	dup2(saved, STDERR_FILENO);
	close(saved);
	close(pipefd[1]);
	n = read(pipefd[0], out, sizeof(out) - 1);
	out[n > 0 ? n : 0] = '\0';
	close(pipefd[0]);
	/* Once, however many paths saw it. */
	assert_string_equal(out, want);
	unmap_ram();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lease_break_ends_the_machine),
		cmocka_unit_test(test_sigbus_on_vanished_page),
		cmocka_unit_test(test_check_and_report),
	};

	return cmocka_run_group_tests_name("vm_ram_file", tests, setup, teardown);
}
