// SPDX-License-Identifier: MIT
/*
 * The watch's state file: what is written reads back the same, a file that
 * is not ours is refused line by line, the save is whole (no state.tmp
 * left, parents made), and the comparison follows its rules: GUIDs decide,
 * counters only within one boot.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "genstate.h"

#define G1 "324e6eaf-d1d1-4bf6-bf41-b9bb6c91fb87"
#define G2 "8b0b0ee0-4f45-4d8c-9d4b-0d1f6f0a7e21"
#define BOOT1 "11111111-2222-3333-4444-555555555555"

static struct genstate make(const char *guid, long long counter, const char *boot)
{
	struct genstate s;

	memset(&s, 0, sizeof(s));
	if (guid) {
		s.guid_known = true;
		assert_int_equal(vmgenid_guid_parse(guid, &s.guid, NULL), 0);
	}
	if (counter >= 0) {
		s.counter_known = true;
		s.counter = (uint64_t)counter;
	}
	snprintf(s.boot_id, sizeof(s.boot_id), "%s", boot);
	return s;
}

static void test_round_trip(void **state)
{
	struct genstate a = make(G1, 7, BOOT1), b;
	char text[512], why[128];
	size_t n;

	(void)state;
	a.counter = UINT64_MAX;
	n = genstate_format(&a, text, sizeof(text));
	assert_non_null(strstr(text, "guid=" G1 "\ncounter=18446744073709551615\nboot_id=" BOOT1 "\n"));
	assert_int_equal(genstate_parse(text, n, &b, why, sizeof(why)), 0);
	assert_memory_equal(&a, &b, sizeof(a));

	a = make(NULL, -1, "");
	n = genstate_format(&a, text, sizeof(text));
	assert_non_null(strstr(text, "guid=unknown\ncounter=unknown\nboot_id=\n"));
	assert_int_equal(genstate_parse(text, n, &b, why, sizeof(why)), 0);
	assert_false(b.guid_known);
	assert_false(b.counter_known);
	assert_string_equal(b.boot_id, "");
}

static void expect_bad(const char *text, const char *reason)
{
	struct genstate s;
	char why[128] = "";

	assert_int_equal(genstate_parse(text, strlen(text), &s, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, reason));
}

static void test_parse(void **state)
{
	const char nul[] = "guid=unknown\ncou\0nter=1\n";
	struct genstate s;
	char why[128], longline[400];

	(void)state;
	/* A newer version's keys, comments, blank lines, no final newline. */
	{
		const char *t = "# x\n\nfuture=1\ncounter=5";

		assert_int_equal(genstate_parse(t, strlen(t), &s, why, sizeof(why)), 0);
	}
	assert_true(s.counter_known && s.counter == 5);
	expect_bad("guid=" G1 "x\n", "line 1: guid");
	expect_bad("counter=5\ncounter=-1\n", "line 2: counter '-1' is not a number");
	expect_bad("counter=99999999999999999999\n", "is not a number");
	expect_bad("counter=\n", "is not a number");
	expect_bad("hello\n", "line 1 is not KEY=VALUE");
	expect_bad("boot_id=0123456789012345678901234567890123456789\n", "boot_id too long");
	memset(longline, 'a', sizeof(longline) - 1);
	longline[sizeof(longline) - 1] = '\0';
	expect_bad(longline, "line 1 is longer than 255 bytes");
	assert_int_equal(genstate_parse(nul, sizeof(nul) - 1, &s, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "line 2 holds a NUL byte"));
}

static void test_save_load(void **state)
{
	char dir[64], sub[256], path[300], why[1200];
	struct genstate a = make(G2, 3, BOOT1), b;
	FILE *f;

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/genstate.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(sub, sizeof(sub), "%s/a/b", dir);
	assert_int_equal(genstate_load(sub, &b, why, sizeof(why)), -ENOENT);
	assert_int_equal(genstate_save(sub, &a, why, sizeof(why)), 0);
	snprintf(path, sizeof(path), "%s/state.tmp", sub);
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(genstate_load(sub, &b, why, sizeof(why)), 0);
	assert_memory_equal(&a, &b, sizeof(a));
	/* Replaced, not appended. */
	a = make(G1, 4, BOOT1);
	assert_int_equal(genstate_save(sub, &a, why, sizeof(why)), 0);
	assert_int_equal(genstate_load(sub, &b, why, sizeof(why)), 0);
	assert_memory_equal(&a, &b, sizeof(a));

	snprintf(path, sizeof(path), "%s/state", sub);
	f = fopen(path, "w");
	assert_non_null(f);
	for (int i = 0; i < GENSTATE_MAX + 10; i++)
		fputc('#', f);
	fclose(f);
	assert_int_equal(genstate_load(sub, &b, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "larger than 4096 bytes"));
	f = fopen(path, "w");
	fputs("guid=nope\n", f);
	fclose(f);
	assert_int_equal(genstate_load(sub, &b, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "/a/b/state: line 1: guid 'nope' is not a UUID"));

	/* A directory that cannot be made: an error with the reason. */
	snprintf(sub, sizeof(sub), "%.200s/state/x", path);
	assert_int_equal(genstate_save(sub, &a, why, sizeof(why)), -ENOTDIR);
	assert_non_null(strstr(why, "cannot create"));

	unlink(path);
	snprintf(sub, sizeof(sub), "%s/a/b", dir);
	rmdir(sub);
	snprintf(sub, sizeof(sub), "%s/a", dir);
	rmdir(sub);
	rmdir(dir);
}

static void test_compare(void **state)
{
	const char *boot2 = "99999999-2222-3333-4444-555555555555";
	struct genstate a, b;

	(void)state;
	/* GUIDs decide whatever the counters say. */
	a = make(G1, 5, BOOT1), b = make(G1, 9, boot2);
	assert_int_equal(genstate_compare(&a, &b), GENSTATE_SAME);
	a = make(G1, 5, BOOT1), b = make(G2, 5, BOOT1);
	assert_int_equal(genstate_compare(&a, &b), GENSTATE_CHANGED);
	/* Counters: within one boot only. */
	a = make(NULL, 5, BOOT1), b = make(NULL, 6, BOOT1);
	assert_int_equal(genstate_compare(&a, &b), GENSTATE_CHANGED);
	a = make(NULL, 5, BOOT1), b = make(G1, 5, BOOT1);
	assert_int_equal(genstate_compare(&a, &b), GENSTATE_SAME);
	a = make(NULL, 5, BOOT1), b = make(NULL, 0, boot2);
	assert_int_equal(genstate_compare(&a, &b), GENSTATE_UNKNOWN);
	a = make(NULL, 5, ""), b = make(NULL, 6, "");
	assert_int_equal(genstate_compare(&a, &b), GENSTATE_UNKNOWN);
	a = make(G1, -1, BOOT1), b = make(NULL, 6, BOOT1);
	assert_int_equal(genstate_compare(&a, &b), GENSTATE_UNKNOWN);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_save_load),
		cmocka_unit_test(test_compare),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
