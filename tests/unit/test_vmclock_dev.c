// SPDX-License-Identifier: MIT
/*
 * The guest tool's reader of the VMClock page: a page laid out as
 * libvmgenid's device writes it is accepted and read; each corruption
 * (magic, size, version, flags, a short mapping, a seq_count that stays
 * odd) is refused with its reason, within bounded time; a reader racing a
 * writer that follows the seq_count protocol never sees a torn pair.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
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

#include "vmgenid/endian.h"
#include "vmgenid/vmclock.h"

#include "vmclock_dev.h"

static uint8_t page[VMGENID_VMCLOCK_PAGE_SIZE];

static void good_page(uint64_t counter)
{
	memset(page, 0, sizeof(page));
	vmgenid_put_le32(page + VMGENID_VMCLOCK_OFF_MAGIC, VMGENID_VMCLOCK_MAGIC);
	vmgenid_put_le32(page + VMGENID_VMCLOCK_OFF_SIZE, VMGENID_VMCLOCK_PAGE_SIZE);
	vmgenid_put_le16(page + VMGENID_VMCLOCK_OFF_VERSION, 1);
	page[VMGENID_VMCLOCK_OFF_COUNTER_ID] = VMGENID_VMCLOCK_COUNTER_INVALID;
	vmgenid_put_le32(page + VMGENID_VMCLOCK_OFF_SEQ_COUNT, 4);
	vmgenid_put_le64(page + VMGENID_VMCLOCK_OFF_DISRUPTION_MARKER, 0x1122334455667788ull);
	vmgenid_put_le64(page + VMGENID_VMCLOCK_OFF_FLAGS, VMGENID_VMCLOCK_FLAG_VM_GEN_COUNTER_PRESENT |
		 VMGENID_VMCLOCK_FLAG_NOTIFICATION_PRESENT);
	vmgenid_put_le64(page + VMGENID_VMCLOCK_OFF_VM_GENERATION_COUNTER, counter);
}

static void test_good(void **state)
{
	struct vmclock_snap s;
	char why[256] = "";

	(void)state;
	good_page(0x0102030405060708ull);
	assert_int_equal(vmclock_dev_check(page, sizeof(page), why, sizeof(why)), 0);
	assert_int_equal(vmclock_dev_read(page, sizeof(page), 10, &s, why, sizeof(why)), 0);
	assert_true(s.counter == 0x0102030405060708ull);
	assert_true(s.marker == 0x1122334455667788ull);
	assert_int_equal(s.seq, 4);
	assert_true(s.flags == 0x300);
}

static void expect_refused(int want, const char *reason)
{
	struct vmclock_snap s;
	char why[256] = "";

	assert_int_equal(vmclock_dev_check(page, sizeof(page), why, sizeof(why)), want);
	assert_non_null(strstr(why, reason));
	why[0] = '\0';
	assert_int_equal(vmclock_dev_read(page, sizeof(page), 10, &s, why, sizeof(why)), want);
	assert_non_null(strstr(why, reason));
}

static void test_corrupt(void **state)
{
	char why[256] = "";

	(void)state;
	good_page(1);
	vmgenid_put_le32(page + VMGENID_VMCLOCK_OFF_MAGIC, 0x12345678);
	expect_refused(-EINVAL, "bad magic 0x12345678");
	good_page(1);
	vmgenid_put_le32(page + VMGENID_VMCLOCK_OFF_SIZE, VMGENID_VMCLOCK_ABI_SIZE - 1);
	expect_refused(-EINVAL, "size 111 is too small");
	good_page(1);
	vmgenid_put_le32(page + VMGENID_VMCLOCK_OFF_SIZE, VMGENID_VMCLOCK_ABI_SIZE); /* exactly enough is fine */
	assert_int_equal(vmclock_dev_check(page, sizeof(page), why, sizeof(why)), 0);
	good_page(1);
	vmgenid_put_le16(page + VMGENID_VMCLOCK_OFF_VERSION, 2);
	expect_refused(-EINVAL, "version 2, not 1");
	good_page(1);
	vmgenid_put_le64(page + VMGENID_VMCLOCK_OFF_FLAGS, VMGENID_VMCLOCK_FLAG_NOTIFICATION_PRESENT);
	expect_refused(-ENOTSUP, "lack VM_GEN_COUNTER_PRESENT");
	good_page(1);
	assert_int_equal(vmclock_dev_check(page, VMGENID_VMCLOCK_ABI_SIZE - 8, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "only 104 bytes mapped"));
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_odd_forever(void **state)
{
	struct vmclock_snap s;
	char why[256] = "";
	double t0;

	(void)state;
	good_page(3);
	vmgenid_put_le32(page + VMGENID_VMCLOCK_OFF_SEQ_COUNT, 9);
	t0 = now_s();
	assert_int_equal(vmclock_dev_read(page, sizeof(page), VMCLOCK_DEV_TRIES, &s, why,
					  sizeof(why)), -EAGAIN);
	/* 100 spins, then 100 sleeps of a millisecond: well under a second. */
	assert_true(now_s() - t0 < 2.0);
	assert_non_null(strstr(why, "seq_count stays odd after 200 tries (last 9)"));
}

/* A writer that follows the protocol: odd, fields, even; marker = 3 * counter. */
static volatile uint8_t shared[VMGENID_VMCLOCK_PAGE_SIZE];
static volatile int stop_writer;

static void store32(volatile uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void store64(volatile uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void *writer(void *arg)
{
	uint32_t seq = 0;
	uint64_t c = 0;

	(void)arg;
	while (!__atomic_load_n(&stop_writer, __ATOMIC_ACQUIRE)) {
		store32(shared + VMGENID_VMCLOCK_OFF_SEQ_COUNT, ++seq);
		__atomic_thread_fence(__ATOMIC_RELEASE);
		c++;
		store64(shared + VMGENID_VMCLOCK_OFF_VM_GENERATION_COUNTER, c);
		store64(shared + VMGENID_VMCLOCK_OFF_DISRUPTION_MARKER, 3 * c);
		__atomic_thread_fence(__ATOMIC_RELEASE);
		store32(shared + VMGENID_VMCLOCK_OFF_SEQ_COUNT, ++seq);
	}
	return NULL;
}

static void test_race(void **state)
{
	struct vmclock_snap s;
	char why[256];
	pthread_t t;
	int ok = 0;

	(void)state;
	good_page(0);
	vmgenid_put_le64(page + VMGENID_VMCLOCK_OFF_DISRUPTION_MARKER, 0);
	vmgenid_put_le32(page + VMGENID_VMCLOCK_OFF_SEQ_COUNT, 0);
	for (size_t i = 0; i < sizeof(page); i++)
		shared[i] = page[i];
	stop_writer = 0;
	assert_int_equal(pthread_create(&t, NULL, writer, NULL), 0);
	for (int i = 0; i < 20000; i++) {
		if (vmclock_dev_read(shared, sizeof(shared), VMCLOCK_DEV_TRIES, &s, why,
				     sizeof(why)))
			continue; /* a busy writer may outlast the tries: bounded, not wrong */
		assert_true(s.marker == 3 * s.counter);
		assert_int_equal(s.seq & 1, 0);
		ok++;
	}
	__atomic_store_n(&stop_writer, 1, __ATOMIC_RELEASE);
	pthread_join(t, NULL);
	assert_true(ok > 0);
}

/* /dev/vmclock0 under VMGENID_ROOT: a regular file with the page. */
static char root[64];

static void write_dev(const void *data, size_t len)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/dev/vmclock0", root);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
}

static void test_open(void **state)
{
	struct vmclock_dev d;
	struct vmclock_snap s;
	char path[128], why[512];

	(void)state;
	snprintf(root, sizeof(root), "/tmp/vmclock_dev.XXXXXX");
	assert_non_null(mkdtemp(root));
	setenv("VMGENID_ROOT", root, 1);
	assert_int_equal(vmclock_dev_open(&d, why, sizeof(why)), -ENOENT);
	assert_non_null(strstr(why, "no such device"));
	snprintf(path, sizeof(path), "%s/dev", root);
	assert_int_equal(mkdir(path, 0755), 0);

	good_page(42);
	write_dev(page, sizeof(page));
	assert_int_equal(vmclock_dev_open(&d, why, sizeof(why)), 0);
	/* A file is always readable: no waiting in poll() on it. */
	assert_false(d.can_poll);
	assert_int_equal(vmclock_dev_read(d.page, d.len, 10, &s, why, sizeof(why)), 0);
	assert_true(s.counter == 42);
	vmclock_dev_close(&d);

	write_dev(page, 100);
	assert_int_equal(vmclock_dev_open(&d, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "100 bytes, not a page"));

	vmgenid_put_le32(page + VMGENID_VMCLOCK_OFF_MAGIC, 0);
	write_dev(page, sizeof(page));
	assert_int_equal(vmclock_dev_open(&d, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "/dev/vmclock0: not a usable VMClock page: bad magic"));

	snprintf(path, sizeof(path), "%s/dev/vmclock0", root);
	unlink(path);
	snprintf(path, sizeof(path), "%s/dev", root);
	rmdir(path);
	rmdir(root);
	unsetenv("VMGENID_ROOT");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_corrupt),
		cmocka_unit_test(test_odd_forever),
		cmocka_unit_test(test_race),
		cmocka_unit_test(test_open),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
