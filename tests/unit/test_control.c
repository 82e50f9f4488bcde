// SPDX-License-Identifier: MIT
/*
 * The control plane on its main loop, with genvm's real control, loop and
 * migration code and no KVM: a hand-built machine whose RAM is a buffer.
 * Link-time wraps stand in for what needs KVM (pausing vCPUs, reading
 * their state, rebuilding the VM on reset) and record when it happens.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <cmocka.h>

#include "vmgenid/bytebuf.h"

#include "control.h"
#include "loop.h"
#include "machine.h"
#include "migrate.h"

/* More than a pipe holds: a save to a command that does not read yet blocks. */
#define RAM_SIZE (2u << 20)

static struct control *ctl;
static int resets, resets_during_save;

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

/* No vCPUs to read: a save of the RAM alone. */
int __wrap_snapshot_save_state(struct machine *m, struct bytebuf *out);
int __wrap_snapshot_save_state(struct machine *m, struct bytebuf *out)
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
	if (!m.vm.ram || m.vm.exit_fd < 0 || m.request_fd < 0 || !loop)
		return -1;
	ctl = control_new(&m, loop);
	return ctl ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	control_free(ctl);
	loop_free(loop);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_guest_reset_waits_for_the_save),
		cmocka_unit_test(test_guest_reset_after_a_failed_save),
	};

	return cmocka_run_group_tests_name("control", tests, setup, teardown);
}
