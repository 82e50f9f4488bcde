// SPDX-License-Identifier: MIT
/* The port I/O bus: registration rules and dispatch as the vCPU loop does it. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "io.h"

struct probe {
	int calls;
	uint64_t addr;
	uint32_t len;
	bool is_write;
	uint8_t written[4];
};

static void probe_io(void *opaque, uint64_t addr, uint8_t *data, uint32_t len, bool is_write)
{
	struct probe *p = opaque;

	p->calls++;
	p->addr = addr;
	p->len = len;
	p->is_write = is_write;
	if (is_write)
		memcpy(p->written, data, len);
	else
		memset(data, 0x42, len);
}

static void test_register_rules(void **state)
{
	struct io_bus *bus = io_bus_new();
	struct probe p = { 0 };

	(void)state;
	assert_int_equal(io_register(bus, 0x3f8, 8, probe_io, &p), 0);
	assert_int_equal(io_register(bus, 0x3f8, 0, probe_io, &p), -EINVAL);
	assert_int_equal(io_register(bus, 0x3ff, 1, probe_io, &p), -EINVAL); /* overlaps the end */
	assert_int_equal(io_register(bus, 0x3f0, 9, probe_io, &p), -EINVAL); /* overlaps the start */
	assert_int_equal(io_register(bus, 0x3f0, 8, probe_io, &p), 0);       /* adjacent is fine */
	assert_int_equal(io_register(bus, 0x400, 1, probe_io, &p), 0);
	assert_int_equal(io_register(bus, 0xffff, 2, probe_io, &p), -EINVAL); /* past 64K */
	assert_int_equal(io_register(bus, 0x500, 1, NULL, &p), -EINVAL);
	for (uint16_t i = 0; i < IO_MAX_RANGES - 3; i++)
		assert_int_equal(io_register(bus, (uint16_t)(0x1000 + i), 1, probe_io, &p), 0);
	assert_int_equal(io_register(bus, 0x2000, 1, probe_io, &p), -ENOSPC);
	io_bus_free(bus);
}

static void test_dispatch(void **state)
{
	struct io_bus *bus = io_bus_new();
	struct probe a = { 0 }, b = { 0 };
	uint8_t data[4];

	(void)state;
	assert_int_equal(io_register(bus, 0x510, 12, probe_io, &a), 0);
	assert_int_equal(io_register(bus, 0x3f8, 8, probe_io, &b), 0);

	/* Addresses reach the device relative to its base. */
	memcpy(data, "\x19\x00", 2);
	io_dispatch(bus, 0x510, data, 2, true);
	assert_int_equal(a.calls, 1);
	assert_int_equal(a.addr, 0);
	assert_int_equal(a.len, 2);
	assert_true(a.is_write);
	assert_memory_equal(a.written, "\x19\x00", 2);
	io_dispatch(bus, 0x518, data, 4, false);
	assert_int_equal(a.addr, 8);
	assert_memory_equal(data, "\x42\x42\x42\x42", 4);
	io_dispatch(bus, 0x3fd, data, 1, false);
	assert_int_equal(b.calls, 1);
	assert_int_equal(b.addr, 5);

	/* Nobody there: reads float high, writes vanish. */
	memset(data, 0, sizeof(data));
	io_dispatch(bus, 0x80, data, 4, false);
	assert_memory_equal(data, "\xff\xff\xff\xff", 4);
	io_dispatch(bus, 0x80, data, 1, true);
	/* Straddling the end of a range is nobody's access either. */
	memset(data, 0, sizeof(data));
	io_dispatch(bus, 0x51a, data, 4, false);
	assert_memory_equal(data, "\xff\xff\xff\xff", 4);
	io_dispatch(bus, 0x3ff, data, 2, true);
	assert_int_equal(a.calls, 2);
	assert_int_equal(b.calls, 1);
	io_bus_free(bus);
}

/* The MMIO flavour: 64-bit windows, no 64 KiB limit, no wrap-around. */
static void test_mmio_ranges(void **state)
{
	struct io_bus *bus = io_bus_new();
	struct probe a = { 0 };
	uint8_t data[4];

	(void)state;
	assert_int_equal(io_register_range(bus, 0xfeb00000, 0x200, probe_io, &a), 0);
	assert_int_equal(io_register_range(bus, 0xfeb001fc, 8, probe_io, &a), -EINVAL);
	assert_int_equal(io_register_range(bus, UINT64_MAX - 4, 8, probe_io, &a), -EINVAL);
	io_dispatch_addr(bus, 0xfeb00070, data, 4, false);
	assert_int_equal(a.calls, 1);
	assert_int_equal(a.addr, 0x70);
	/* The last dword is inside; one byte further is not. */
	io_dispatch_addr(bus, 0xfeb001fc, data, 4, false);
	assert_int_equal(a.calls, 2);
	assert_int_equal(a.addr, 0x1fc);
	memset(data, 0, sizeof(data));
	io_dispatch_addr(bus, 0xfeb001fd, data, 4, false);
	assert_int_equal(a.calls, 2);
	assert_memory_equal(data, "\xff\xff\xff\xff", 4);
	io_bus_free(bus);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_register_rules),
		cmocka_unit_test(test_dispatch),
		cmocka_unit_test(test_mmio_ranges),
	};

	return cmocka_run_group_tests_name("io", tests, NULL, NULL);
}
