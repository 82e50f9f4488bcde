// SPDX-License-Identifier: MIT
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "vmgenid/guest_mem.h"

static uint8_t low[4096];
static uint8_t high[8192];

static void setup_two_ranges(struct vmgenid_guest_mem *mem)
{
	vmgenid_guest_mem_init(mem);
	assert_int_equal(vmgenid_guest_mem_add(mem, 0, sizeof(low), low), 0);
	assert_int_equal(vmgenid_guest_mem_add(mem, 0x100000000ull, sizeof(high), high), 0);
}

static void test_ptr_inside_ranges(void **state)
{
	struct vmgenid_guest_mem mem;

	(void)state;
	setup_two_ranges(&mem);
	assert_ptr_equal(vmgenid_guest_mem_ptr(&mem, 0, 1), low);
	assert_ptr_equal(vmgenid_guest_mem_ptr(&mem, 4095, 1), low + 4095);
	assert_ptr_equal(vmgenid_guest_mem_ptr(&mem, 0, 4096), low);
	assert_ptr_equal(vmgenid_guest_mem_ptr(&mem, 0x100000000ull + 100, 16), high + 100);
	assert_ptr_equal(vmgenid_guest_mem_ptr(&mem, 0x100000000ull + 8176, 16), high + 8176);
}

static void test_ptr_refuses_outside(void **state)
{
	struct vmgenid_guest_mem mem;

	(void)state;
	setup_two_ranges(&mem);
	/* One byte past the end, straddling the end, in the hole, zero length. */
	assert_null(vmgenid_guest_mem_ptr(&mem, 4096, 1));
	assert_null(vmgenid_guest_mem_ptr(&mem, 4090, 16));
	assert_null(vmgenid_guest_mem_ptr(&mem, 0x80000000ull, 16));
	assert_null(vmgenid_guest_mem_ptr(&mem, 0, 0));
	assert_null(vmgenid_guest_mem_ptr(&mem, 0x100000000ull + 8177, 16));
	assert_null(vmgenid_guest_mem_ptr(&mem, 0x100000000ull - 1, 2));
	/* Lengths and addresses chosen so that gpa + len wraps around. */
	assert_null(vmgenid_guest_mem_ptr(&mem, UINT64_MAX, 2));
	assert_null(vmgenid_guest_mem_ptr(&mem, 16, UINT64_MAX));
	assert_null(vmgenid_guest_mem_ptr(&mem, 0x100000000ull, UINT64_MAX - 0xffffffffull));
}

static void test_read_write(void **state)
{
	struct vmgenid_guest_mem mem;
	uint8_t buf[16];

	(void)state;
	setup_two_ranges(&mem);
	memset(low, 0, sizeof(low));
	assert_int_equal(vmgenid_guest_mem_write(&mem, 8, "0123456789abcdef", 16), 0);
	assert_memory_equal(low + 8, "0123456789abcdef", 16);
	assert_int_equal(vmgenid_guest_mem_read(&mem, 12, buf, 4), 0);
	assert_memory_equal(buf, "4567", 4);

	/* A refused access copies nothing in either direction. */
	memset(buf, 0x5a, sizeof(buf));
	assert_int_equal(vmgenid_guest_mem_read(&mem, 4088, buf, 16), -EFAULT);
	assert_int_equal(buf[0], 0x5a);
	low[4095] = 0x11;
	assert_int_equal(vmgenid_guest_mem_write(&mem, 4088, buf, 16), -EFAULT);
	assert_int_equal(low[4095], 0x11);
}

static void test_add_rejects_bad_ranges(void **state)
{
	struct vmgenid_guest_mem mem;
	static uint8_t extra[16];

	(void)state;
	setup_two_ranges(&mem);
	assert_int_equal(vmgenid_guest_mem_add(&mem, 0x2000, 0, extra), -EINVAL);
	assert_int_equal(vmgenid_guest_mem_add(&mem, 0x2000, 16, NULL), -EINVAL);
	assert_int_equal(vmgenid_guest_mem_add(&mem, UINT64_MAX - 7, 16, extra), -EINVAL);
	/* Overlaps: inside, straddling the start, straddling the end. */
	assert_int_equal(vmgenid_guest_mem_add(&mem, 16, 16, extra), -EINVAL);
	assert_int_equal(vmgenid_guest_mem_add(&mem, 0x100000000ull - 8, 16, extra), -EINVAL);
	assert_int_equal(vmgenid_guest_mem_add(&mem, 0x100000000ull + 8184, 16, extra), -EINVAL);
	assert_int_equal(mem.nr_ranges, 2);
	/* Adjacent is fine; then the table fills up. */
	assert_int_equal(vmgenid_guest_mem_add(&mem, 4096, 16, extra), 0);
	assert_int_equal(vmgenid_guest_mem_add(&mem, 0x10000, 16, extra), 0);
	assert_int_equal(vmgenid_guest_mem_add(&mem, 0x20000, 16, extra), -ENOSPC);
	/* An access may not run from one range into an adjacent one. */
	assert_null(vmgenid_guest_mem_ptr(&mem, 4088, 16));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ptr_inside_ranges),
		cmocka_unit_test(test_ptr_refuses_outside),
		cmocka_unit_test(test_read_write),
		cmocka_unit_test(test_add_rejects_bad_ranges),
	};

	return cmocka_run_group_tests_name("guest_mem", tests, NULL, NULL);
}
