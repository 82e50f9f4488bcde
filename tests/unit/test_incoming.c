// SPDX-License-Identifier: MIT
/*
 * -incoming's first step, incoming_open(), on crafted snapshot files: the
 * memory size a header claims gets the checks -m gets, with the same
 * reasons, before anything is built.  The files are sparse: a header can
 * claim terabytes that the disk never holds.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "cli.h"
#include "incoming.h"
#include "layout.h"
#include "machine.h"
#include "snapfile.h"
#include "vm.h"

/* The firmware status port may end the machine; there is none to end here. */
void vm_request_exit(struct vm *vm, int code)
{
	(void)vm;
	(void)code;
	fail_msg("vm_request_exit called");
}

/* snapshot.c's devices drive interrupt lines; nothing is restored here. */
void vm_irq_line(struct vm *vm, unsigned int irq, int level)
{
	(void)vm;
	(void)irq;
	(void)level;
}

/*
 * incoming_restore()'s RAM mapping: no machine is restored far enough here
 * to map RAM (tests/unit/test_control.c does, with a real file).
 */
static int maps;

int vm_map_ram_file(struct vm *vm, int fd, uint64_t offset)
{
	(void)vm;
	(void)fd;
	(void)offset;
	maps++;
	return 0;
}

int vm_watch_ram_file(struct vm *vm, const char *name, int fd, uint64_t offset,
		      void (*on_fatal)(void))
{
	(void)vm;
	(void)name;
	(void)fd;
	(void)offset;
	(void)on_fatal;
	return 0;
}

static char dir[] = "/tmp/test_incoming.XXXXXX";
static char path[64], uri[80];
static uint64_t last_ram_size;

/* A snapshot of ram_size bytes, holes where its RAM would be. */
static void write_snapshot(uint64_t ram_size)
{
	struct snapfile_header h;
	uint8_t raw[SNAPFILE_HEADER_SIZE];
	int fd;

	last_ram_size = ram_size;
	snapfile_layout(&h, ram_size, 1, NULL, 0);
	snapfile_encode(&h, raw);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, raw, sizeof(raw)), (ssize_t)sizeof(raw));
	assert_int_equal(ftruncate(fd, (off_t)(h.ram_offset + ram_size)), 0);
	close(fd);
}

/*
 * incoming_open() on the file with host_ram bytes of host memory; its
 * return value, and what it printed on stderr in msg.
 */
static int open_with(uint64_t host_ram, bool m_given, uint64_t m, char *msg, size_t msg_len)
{
	struct genvm_config cfg;
	struct incoming in;
	FILE *err = tmpfile();
	int saved = dup(STDERR_FILENO), ret;
	size_t n;

	assert_non_null(err);
	memset(&cfg, 0, sizeof(cfg));
	cfg.incoming = uri;
	cfg.host_ram = host_ram;
	cfg.ram_size = m_given ? m : CLI_DEFAULT_RAM;
	cfg.ram_size_given = m_given;
	cfg.nr_cpus = 1;
	fflush(stderr);
	dup2(fileno(err), STDERR_FILENO);
	ret = incoming_open(&in, &cfg);
	incoming_close(&in);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	rewind(err);
	n = fread(msg, 1, msg_len - 1, err);
	msg[n] = '\0';
	fclose(err);
	/* On success the machine is the snapshot's. */
	if (ret == 0)
		assert_int_equal(cfg.ram_size, last_ram_size);
	return ret;
}

static int setup(void **state)
{
	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/snap", dir);
	snprintf(uri, sizeof(uri), "file:%s", path);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(path);
	rmdir(dir);
	return 0;
}

static void expect_refused(uint64_t ram_size, uint64_t host_ram, const char *reason)
{
	char msg[512], want[512];

	write_snapshot(ram_size);
	assert_int_equal(open_with(host_ram, false, 0, msg, sizeof(msg)), -1);
	snprintf(want, sizeof(want), "genvm: incoming: %s: %s\n", path, reason);
	assert_string_equal(msg, want);
}

/* 4 TiB on a host with 1 GiB: -m 4T would be refused the same way. */
static void test_terabytes_refused(void **state)
{
	(void)state;
	expect_refused(4ull << 40, 1ull << 30,
		       "memory 4194304M: larger than the host's memory (1024M)");
}

/* The host's real memory when none is given, as for -m. */
static void test_larger_than_this_host(void **state)
{
	uint64_t host = (uint64_t)sysconf(_SC_PHYS_PAGES) * (uint64_t)sysconf(_SC_PAGESIZE);
	char reason[128];

	(void)state;
	snprintf(reason, sizeof(reason), "memory 8388608M: larger than the host's memory (%lluM)",
		 (unsigned long long)(host / MiB));
	expect_refused(8ull << 40, 0, reason);
}

static void test_tiny_refused(void **state)
{
	(void)state;
	expect_refused(1 * MiB, 1ull << 30, "memory 1M: too small (at least 32M)");
}

static void test_not_whole_mib_refused(void **state)
{
	(void)state;
	expect_refused(3 * 4096, 1ull << 30,
		       "memory of 12288 bytes: memory size must be a whole number of MiB");
}

/* The messages are -m's own: the same checks, one piece of code. */
static void test_same_reasons_as_m(void **state)
{
	char why[96];
	struct genvm_config cfg;

	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	assert_int_not_equal(cli_check_memory(&cfg, 4ull << 40, 1ull << 30, why, sizeof(why)), 0);
	assert_string_equal(why, "larger than the host's memory (1024M)");
	assert_int_not_equal(cli_check_memory(&cfg, MiB, 1ull << 30, why, sizeof(why)), 0);
	assert_string_equal(why, "too small (at least 32M)");
}

static void test_reasonable_size_accepted(void **state)
{
	char msg[512];

	(void)state;
	write_snapshot(64 * MiB);
	assert_int_equal(open_with(1ull << 30, false, 0, msg, sizeof(msg)), 0);
	assert_string_equal(msg, "");
	/* -m may repeat the snapshot's size. */
	assert_int_equal(open_with(1ull << 30, true, 64 * MiB, msg, sizeof(msg)), 0);
	assert_string_equal(msg, "");
}

/*
 * -incoming defer: the machine is built before migrate-incoming names the
 * snapshot, so -m and -smp (or their defaults) must be the snapshot's,
 * as QEMU requires of a destination; the refusal says which and changes
 * nothing (RAM is not mapped).  A descriptor handed over is closed.
 */
static void test_built_machine_must_match(void **state)
{
	struct genvm_config cfg;
	struct machine *m = calloc(1, sizeof(*m));
	struct snapuri u;
	char why[600], want[600];
	int fd;

	(void)state;
	assert_non_null(m);
	memset(&cfg, 0, sizeof(cfg));
	cfg.ram_size = 128 * MiB;
	cfg.nr_cpus = 1;
	m->cfg = &cfg;
	write_snapshot(64 * MiB);
	assert_int_equal(snapuri_parse(uri, &u, why, sizeof(why)), 0);
	maps = 0;
	assert_int_equal(incoming_restore(m, &u, NULL, why, sizeof(why)), -1);
	snprintf(want, sizeof(want),
		 "%s: the snapshot is of a machine with 64M of memory, this one has 128M (-m)", path);
	assert_string_equal(why, want);
	cfg.ram_size = 64 * MiB;
	cfg.nr_cpus = 2;
	assert_int_equal(incoming_restore(m, &u, NULL, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "the snapshot is of a machine with 1 vCPUs, this one has 2 (-smp)"));
	assert_int_equal(maps, 0);

	/* fd:NAME, as control.c resolves it: the restore owns the descriptor. */
	fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(snapuri_parse("fd:migrate", &u, why, sizeof(why)), 0);
	u.fd = fd;
	assert_int_equal(incoming_restore(m, &u, NULL, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "migrate: the snapshot is of a machine with 1 vCPUs"));
	assert_int_equal(fcntl(fd, F_GETFD), -1);
	/* A bad header: the reader's reason, the descriptor closed all the same. */
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	u.fd = fd;
	assert_int_equal(incoming_restore(m, &u, NULL, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "migrate: "));
	assert_int_equal(fcntl(fd, F_GETFD), -1);
	assert_int_equal(maps, 0);
	free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_terabytes_refused),
		cmocka_unit_test(test_larger_than_this_host),
		cmocka_unit_test(test_tiny_refused),
		cmocka_unit_test(test_not_whole_mib_refused),
		cmocka_unit_test(test_same_reasons_as_m),
		cmocka_unit_test(test_reasonable_size_accepted),
		cmocka_unit_test(test_built_machine_must_match),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
