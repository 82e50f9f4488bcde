// SPDX-License-Identifier: MIT
/*
 * The watch's hooks: the directory's executables in strcmp order with
 * dotfiles, backups, package leftovers and non-executables left out; each
 * run with the given environment; a failure reported as one; a hook past
 * its timeout killed with what it started, in bounded time; the rest of
 * the directory run all the same.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "hooks.h"

static char dir[64];

static void put(const char *name, const char *body, mode_t mode)
{
	char path[160];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "#!/bin/sh\n%s\n", body);
	fclose(f);
	assert_int_equal(chmod(path, mode), 0);
}

static void slurp(const char *name, char *out, size_t cap)
{
	char path[160];
	size_t n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	out[0] = '\0';
	f = fopen(path, "r");
	if (!f)
		return;
	n = fread(out, 1, cap - 1, f);
	out[n] = '\0';
	fclose(f);
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/hooks.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_list(void **state)
{
	char **names, why[256];
	size_t n;

	(void)state;
	put("b", "", 0755);
	put("a-10", "", 0700);
	put("A", "", 0755);
	put(".hidden", "", 0755);
	put("old~", "", 0755);
	put("x.dpkg-dist", "", 0755);
	put("plain", "", 0644);
	assert_int_equal(hooks_list(dir, &names, &n, why, sizeof(why)), 0);
	assert_int_equal(n, 3);
	assert_string_equal(names[0], "A");
	assert_string_equal(names[1], "a-10");
	assert_string_equal(names[2], "b");
	hooks_free(names, n);
	assert_int_equal(hooks_list("/nonexistent/hooks", &names, &n, why, sizeof(why)), -ENOENT);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_run(void **state)
{
	char e1[] = "VMGENID_NEW=new-one", e2[] = "VMGENID_METHOD=test";
	char *env[] = { e1, e2, NULL };
	char path[160], body[512], got[256];
	char *argv[] = { path, NULL };

	(void)state;
	snprintf(body, sizeof(body), "echo \"$VMGENID_NEW $VMGENID_METHOD\" >%s/env.out\n"
		 "read x && echo \"stdin gave $x\" >>%s/env.out\nexit 0", dir, dir);
	put("env", body, 0755);
	snprintf(path, sizeof(path), "%s/env", dir);
	assert_int_equal(hooks_run(argv, env, 5000, "env"), HOOK_OK);
	slurp("env.out", got, sizeof(got));
	/* The environment arrived; stdin is /dev/null, so read saw nothing. */
	assert_string_equal(got, "new-one test\n");

	put("fails", "exit 4", 0755);
	snprintf(path, sizeof(path), "%s/fails", dir);
	assert_int_equal(hooks_run(argv, env, 5000, "fails"), HOOK_FAILED);
	put("killed", "kill -9 $$", 0755);
	snprintf(path, sizeof(path), "%s/killed", dir);
	assert_int_equal(hooks_run(argv, env, 5000, "killed"), HOOK_FAILED);
	snprintf(path, sizeof(path), "%s/missing", dir);
	assert_int_equal(hooks_run(argv, env, 5000, "missing"), HOOK_FAILED);
}

static void test_timeout(void **state)
{
	char path[160], body[512], got[64];
	char *argv[] = { path, NULL };
	double t0, dt;
	long child;

	(void)state;
	/* A hook that starts a child, then hangs ignoring SIGTERM. */
	snprintf(body, sizeof(body), "trap '' TERM\nsleep 60 &\necho $! >%s/child.pid\n"
		 "while :; do sleep 1; done", dir);
	put("hangs", body, 0755);
	snprintf(path, sizeof(path), "%s/hangs", dir);
	t0 = now_s();
	assert_int_equal(hooks_run(argv, NULL, 300, "hangs"), HOOK_TIMED_OUT);
	dt = now_s() - t0;
	/* 0.3 s, then the 2 s grace for SIGTERM it ignores, then SIGKILL. */
	assert_true(dt >= 0.3 && dt < 4.0);
	slurp("child.pid", got, sizeof(got));
	child = strtol(got, NULL, 10);
	assert_true(child > 1);
	usleep(100000);
	/* The whole group went: the child it left behind is gone (or a zombie
	 * of init's, which kill(0) cannot tell apart; /proc can). */
	{
		char st[64], line[256] = "";
		FILE *f;

		snprintf(st, sizeof(st), "/proc/%ld/stat", child);
		f = fopen(st, "r");
		if (f) {
			if (!fgets(line, sizeof(line), f))
				line[0] = '\0';
			fclose(f);
			assert_non_null(strstr(line, ") Z"));
		}
	}
}

static void test_run_dir(void **state)
{
	char body[256], got[256];
	struct hooks_result r;

	(void)state;
	snprintf(body, sizeof(body), "echo 1 >>%s/order", dir);
	put("10-a", body, 0755);
	snprintf(body, sizeof(body), "echo 2 >>%s/order; sleep 30", dir);
	put("20-hangs", body, 0755);
	snprintf(body, sizeof(body), "echo 3 >>%s/order; exit 1", dir);
	put("30-fails", body, 0755);
	snprintf(body, sizeof(body), "echo 4 >>%s/order", dir);
	put("40-d", body, 0755);
	hooks_run_dir(dir, NULL, 300, &r);
	slurp("order", got, sizeof(got));
	assert_string_equal(got, "1\n2\n3\n4\n");
	assert_int_equal(r.ran, 4);
	assert_int_equal(r.failed, 2);
	assert_int_equal(r.timed_out, 1);
	hooks_run_dir("/nonexistent/hooks", NULL, 300, &r);
	assert_int_equal(r.ran, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_run, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_run_dir, setup, teardown),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
