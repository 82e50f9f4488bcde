// SPDX-License-Identifier: MIT
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "vmgenid/bios_loader.h"
#include "vmgenid/endian.h"
#include "vmgenid/log.h"

/*
 * Offsets below are written as literal numbers on purpose: they restate the
 * QEMU command layout independently of the BIOS_LOADER_OFF_* macros.
 */

static unsigned int warnings;

static void count_sink(void *opaque, enum vmgenid_log_level level, const char *module, const char *msg)
{
	(void)opaque;
	(void)msg;
	if (level <= VMGENID_LOG_WARN && strcmp(module, "bios_loader") == 0)
		warnings++;
}

/* ------------------------------------------------------------------ */
/* builder                                                             */
/* ------------------------------------------------------------------ */

static void want_name(uint8_t *want, unsigned int off, const char *name)
{
	memcpy(want + off, name, strlen(name));
}

static void test_build_allocate(void **state)
{
	struct vmgenid_bios_loader l;
	uint8_t want[128] = { 0 };

	(void)state;
	vmgenid_bios_loader_init(&l);
	assert_int_equal(vmgenid_bios_loader_allocate(&l, "etc/vmgenid_guid", 4096,
					      VMGENID_BIOS_LOADER_ZONE_HIGH), 0);
	assert_int_equal(l.script.len, 128);
	want[0] = 0x01;
	want_name(want, 4, "etc/vmgenid_guid");
	want[60] = 0x00;
	want[61] = 0x10;
	want[64] = 0x01;
	assert_memory_equal(l.script.data, want, 128);
	vmgenid_bios_loader_free(&l);
	assert_null(l.script.data);
	assert_int_equal(l.script.len, 0);
}

static void test_build_allocate_fseg_max_name(void **state)
{
	/* 55 characters: the longest name that leaves its terminating NUL. */
	static const char name[] = "0123456789012345678901234567890123456789012345678901234";
	struct vmgenid_bios_loader l;
	uint8_t want[128] = { 0 };

	(void)state;
	assert_int_equal(strlen(name), 55);
	vmgenid_bios_loader_init(&l);
	assert_int_equal(vmgenid_bios_loader_allocate(&l, name, 0x80000000u, VMGENID_BIOS_LOADER_ZONE_FSEG), 0);
	want[0] = 0x01;
	want_name(want, 4, name);
	want[63] = 0x80;
	want[64] = 0x02;
	assert_int_equal(l.script.data[59], 0);
	assert_memory_equal(l.script.data, want, 128);
	vmgenid_bios_loader_free(&l);
}

static void test_build_add_pointer(void **state)
{
	struct vmgenid_bios_loader l;
	uint8_t want[128] = { 0 };

	(void)state;
	vmgenid_bios_loader_init(&l);
	assert_int_equal(vmgenid_bios_loader_add_pointer(&l, "etc/acpi/tables", 0x01020304, 8,
						 "etc/vmgenid_guid"), 0);
	assert_int_equal(l.script.len, 128);
	want[0] = 0x02;
	want_name(want, 4, "etc/acpi/tables");
	want_name(want, 60, "etc/vmgenid_guid");
	want[116] = 0x04;
	want[117] = 0x03;
	want[118] = 0x02;
	want[119] = 0x01;
	want[120] = 8;
	assert_memory_equal(l.script.data, want, 128);
	vmgenid_bios_loader_free(&l);
}

static void test_build_add_checksum(void **state)
{
	struct vmgenid_bios_loader l;
	uint8_t want[128] = { 0 };

	(void)state;
	vmgenid_bios_loader_init(&l);
	assert_int_equal(vmgenid_bios_loader_add_checksum(&l, "etc/acpi/tables", 0x109, 0x100, 0xca), 0);
	want[0] = 0x03;
	want_name(want, 4, "etc/acpi/tables");
	want[60] = 0x09;
	want[61] = 0x01;
	want[64] = 0x00;
	want[65] = 0x01;
	want[68] = 0xca;
	assert_memory_equal(l.script.data, want, 128);
	vmgenid_bios_loader_free(&l);
}

static void test_build_write_pointer(void **state)
{
	struct vmgenid_bios_loader l;
	uint8_t want[128] = { 0 };

	(void)state;
	vmgenid_bios_loader_init(&l);
	assert_int_equal(vmgenid_bios_loader_write_pointer(&l, "etc/vmgenid_addr", 0xa0b0c0d0, 8,
						   "etc/vmgenid_guid", 40), 0);
	want[0] = 0x04;
	want_name(want, 4, "etc/vmgenid_addr");
	want_name(want, 60, "etc/vmgenid_guid");
	want[116] = 0xd0;
	want[117] = 0xc0;
	want[118] = 0xb0;
	want[119] = 0xa0;
	want[120] = 40;
	want[124] = 8;
	assert_memory_equal(l.script.data, want, 128);
	vmgenid_bios_loader_free(&l);
}

static void test_build_appends_in_order(void **state)
{
	struct vmgenid_bios_loader l;

	(void)state;
	vmgenid_bios_loader_init(&l);
	assert_int_equal(vmgenid_bios_loader_allocate(&l, "a", 16, VMGENID_BIOS_LOADER_ZONE_HIGH), 0);
	assert_int_equal(vmgenid_bios_loader_add_checksum(&l, "a", 0, 0, 1), 0);
	assert_int_equal(vmgenid_bios_loader_add_pointer(&l, "a", 0, 1, "a"), 0);
	assert_int_equal(vmgenid_bios_loader_write_pointer(&l, "b", 0, 4, "a", 0), 0);
	assert_int_equal(l.script.len, 4 * 128);
	assert_int_equal(vmgenid_get_le32(l.script.data + 0 * 128), 1);
	assert_int_equal(vmgenid_get_le32(l.script.data + 1 * 128), 3);
	assert_int_equal(vmgenid_get_le32(l.script.data + 2 * 128), 2);
	assert_int_equal(vmgenid_get_le32(l.script.data + 3 * 128), 4);
	vmgenid_bios_loader_free(&l);
}

/* The call must fail with -EINVAL, warn, and leave the script byte for byte as it was. */
#define ASSERT_REJECTED(l, call)                                                   \
	do {                                                                       \
		uint8_t before_[256];                                              \
		size_t len_ = (l)->script.len;                                     \
		unsigned int warned_ = warnings;                                   \
		memcpy(before_, (l)->script.data, len_);                           \
		assert_int_equal((call), -EINVAL);                                 \
		assert_int_equal((l)->script.len, len_);                           \
		assert_memory_equal((l)->script.data, before_, len_);              \
		assert_true(warnings > warned_);                                   \
	} while (0)

static void test_build_rejects_bad_args(void **state)
{
	static const char long_name[] = "01234567890123456789012345678901234567890123456789012345";
	struct vmgenid_bios_loader l;

	(void)state;
	assert_int_equal(strlen(long_name), 56);
	vmgenid_bios_loader_init(&l);
	assert_int_equal(vmgenid_bios_loader_allocate(&l, "a", 16, VMGENID_BIOS_LOADER_ZONE_HIGH), 0);

	/* Names */
	ASSERT_REJECTED(&l, vmgenid_bios_loader_allocate(&l, "", 16, VMGENID_BIOS_LOADER_ZONE_HIGH));
	ASSERT_REJECTED(&l, vmgenid_bios_loader_allocate(&l, NULL, 16, VMGENID_BIOS_LOADER_ZONE_HIGH));
	ASSERT_REJECTED(&l, vmgenid_bios_loader_allocate(&l, long_name, 16, VMGENID_BIOS_LOADER_ZONE_HIGH));
	ASSERT_REJECTED(&l, vmgenid_bios_loader_add_pointer(&l, "a", 0, 4, ""));
	ASSERT_REJECTED(&l, vmgenid_bios_loader_add_pointer(&l, long_name, 0, 4, "a"));
	ASSERT_REJECTED(&l, vmgenid_bios_loader_add_checksum(&l, "", 0, 0, 1));
	ASSERT_REJECTED(&l, vmgenid_bios_loader_write_pointer(&l, "", 0, 8, "a", 0));
	ASSERT_REJECTED(&l, vmgenid_bios_loader_write_pointer(&l, "b", 0, 8, long_name, 0));

	/* Alignment and zone */
	ASSERT_REJECTED(&l, vmgenid_bios_loader_allocate(&l, "b", 0, VMGENID_BIOS_LOADER_ZONE_HIGH));
	ASSERT_REJECTED(&l, vmgenid_bios_loader_allocate(&l, "b", 3, VMGENID_BIOS_LOADER_ZONE_HIGH));
	ASSERT_REJECTED(&l, vmgenid_bios_loader_allocate(&l, "b", 0x80000001u, VMGENID_BIOS_LOADER_ZONE_HIGH));
	ASSERT_REJECTED(&l, vmgenid_bios_loader_allocate(&l, "b", 16, 0));
	ASSERT_REJECTED(&l, vmgenid_bios_loader_allocate(&l, "b", 16, 3));

	/* Pointer sizes */
	ASSERT_REJECTED(&l, vmgenid_bios_loader_add_pointer(&l, "a", 0, 0, "a"));
	ASSERT_REJECTED(&l, vmgenid_bios_loader_add_pointer(&l, "a", 0, 3, "a"));
	ASSERT_REJECTED(&l, vmgenid_bios_loader_add_pointer(&l, "a", 0, 16, "a"));
	ASSERT_REJECTED(&l, vmgenid_bios_loader_write_pointer(&l, "b", 0, 3, "a", 0));
	ASSERT_REJECTED(&l, vmgenid_bios_loader_write_pointer(&l, "b", 0, 0, "a", 0));

	/* Checksum byte outside the range it covers */
	ASSERT_REJECTED(&l, vmgenid_bios_loader_add_checksum(&l, "a", 9, 10, 20));
	ASSERT_REJECTED(&l, vmgenid_bios_loader_add_checksum(&l, "a", 30, 10, 20));
	ASSERT_REJECTED(&l, vmgenid_bios_loader_add_checksum(&l, "a", 10, 10, 0));
	ASSERT_REJECTED(&l, vmgenid_bios_loader_add_checksum(&l, "a", 0xfffffff5u, 0xfffffff0u, 0x20));

	/* Edges that are fine */
	assert_int_equal(vmgenid_bios_loader_add_checksum(&l, "a", 29, 10, 20), 0);
	assert_int_equal(vmgenid_bios_loader_add_checksum(&l, "a", 0xfffffffeu, 0xfffffff0u, 0xf), 0);
	assert_int_equal(l.script.len, 3 * 128);
	vmgenid_bios_loader_free(&l);
}

/* ------------------------------------------------------------------ */
/* executor: a fake firmware environment                              */
/* ------------------------------------------------------------------ */

/*
 * Guest RAM is two static arrays at guest addresses that no host pointer
 * will ever equal, so mixing up data and addr shows in the results.
 */
#define FSEG_BASE 0xe0000ull
#define FSEG_SIZE 0x20000u
#define HIGH_BASE 0x100000ull
#define HIGH_SIZE 0x10000u
#define RAM_FILL 0xcc

static uint8_t fseg_ram[FSEG_SIZE];
static uint8_t high_ram[HIGH_SIZE];

#define MAX_FAKE_FILES 24
#define MAX_ALLOCS 32

struct fake_file {
	char name[64];
	uint8_t data[4096];
	uint32_t size;
	bool writable;
};

struct fake_alloc {
	uint8_t *data;
	uint32_t size;
};

struct fake_env {
	struct fake_file files[MAX_FAKE_FILES];
	unsigned int nr_files;
	uint64_t high_base; /* guest address of high_ram[0] */
	uint32_t fseg_used, high_used;
	struct fake_alloc allocs[MAX_ALLOCS];
	unsigned int nr_allocs;
	const char *fail_load; /* file whose load the environment refuses */
	bool fail_write;
	unsigned int loads, writes;
};

static struct fake_env env;
static struct fake_env snap_env;
static uint8_t snap_fseg[FSEG_SIZE];
static uint8_t snap_high[HIGH_SIZE];

static struct fake_file *fake_find(const char *name)
{
	unsigned int i;

	for (i = 0; i < env.nr_files; i++)
		if (strcmp(env.files[i].name, name) == 0)
			return &env.files[i];
	return NULL;
}

static int fake_file_size(void *opaque, const char *name, uint32_t *size)
{
	struct fake_file *f = fake_find(name);

	assert_ptr_equal(opaque, &env);
	if (!f)
		return -ENOENT;
	*size = f->size;
	return 0;
}

static int fake_file_load(void *opaque, const char *name, uint32_t size, uint32_t align,
			  uint8_t zone, uint8_t **data, uint64_t *addr)
{
	struct fake_file *f = fake_find(name);
	uint8_t *ram;
	uint64_t base, gpa;
	uint32_t *used, ram_size;

	assert_ptr_equal(opaque, &env);
	/* The executor asks only for what fw_cfg has, at its real size. */
	assert_non_null(f);
	assert_int_equal(size, f->size);
	assert_true(align != 0 && (align & (align - 1)) == 0);
	if (env.fail_load && strcmp(env.fail_load, name) == 0)
		return -ENOMEM;
	if (zone == VMGENID_BIOS_LOADER_ZONE_FSEG) {
		ram = fseg_ram;
		base = FSEG_BASE;
		used = &env.fseg_used;
		ram_size = FSEG_SIZE;
	} else {
		assert_int_equal(zone, VMGENID_BIOS_LOADER_ZONE_HIGH);
		ram = high_ram;
		base = env.high_base;
		used = &env.high_used;
		ram_size = HIGH_SIZE;
	}
	gpa = (base + *used + align - 1) & ~((uint64_t)align - 1);
	if (gpa - base + size > ram_size)
		return -ENOMEM;
	memcpy(ram + (gpa - base), f->data, size);
	*used = (uint32_t)(gpa - base + size);
	*data = ram + (gpa - base);
	*addr = gpa;
	assert_true(env.nr_allocs < MAX_ALLOCS);
	env.allocs[env.nr_allocs].data = *data;
	env.allocs[env.nr_allocs].size = size;
	env.nr_allocs++;
	env.loads++;
	return 0;
}

static int fake_file_write(void *opaque, const char *name, uint32_t offset, const uint8_t *src,
			   uint32_t len)
{
	struct fake_file *f = fake_find(name);

	assert_ptr_equal(opaque, &env);
	if (env.fail_write)
		return -EIO;
	assert_non_null(f);
	/* The executor must have checked the range already. */
	assert_true((uint64_t)offset + len <= f->size);
	if (!f->writable)
		return -EPERM;
	memcpy(f->data + offset, src, len);
	env.writes++;
	return 0;
}

static struct vmgenid_bios_loader_ops ops = {
	.opaque = &env,
	.file_size = fake_file_size,
	.file_load = fake_file_load,
	.file_write = fake_file_write,
};

static void env_reset(void)
{
	memset(&env, 0, sizeof(env));
	env.high_base = HIGH_BASE;
	memset(fseg_ram, RAM_FILL, sizeof(fseg_ram));
	memset(high_ram, RAM_FILL, sizeof(high_ram));
	ops.file_write = fake_file_write;
}

static struct fake_file *add_file(const char *name, uint32_t size, bool writable)
{
	struct fake_file *f = &env.files[env.nr_files++];

	assert_true(env.nr_files <= MAX_FAKE_FILES);
	assert_true(size <= sizeof(f->data));
	snprintf(f->name, sizeof(f->name), "%s", name);
	f->size = size;
	f->writable = writable;
	return f;
}

/* Every byte of guest RAM outside the allocations still holds the fill. */
static void assert_outside_allocs_untouched(void)
{
	static uint8_t mask_fseg[FSEG_SIZE], mask_high[HIGH_SIZE];
	unsigned int i;
	uint32_t j;

	memset(mask_fseg, 0, sizeof(mask_fseg));
	memset(mask_high, 0, sizeof(mask_high));
	for (i = 0; i < env.nr_allocs; i++) {
		struct fake_alloc *a = &env.allocs[i];

		if (a->data >= fseg_ram && a->data < fseg_ram + FSEG_SIZE)
			memset(mask_fseg + (a->data - fseg_ram), 1, a->size);
		else
			memset(mask_high + (a->data - high_ram), 1, a->size);
	}
	for (j = 0; j < FSEG_SIZE; j++)
		if (!mask_fseg[j])
			assert_int_equal(fseg_ram[j], RAM_FILL);
	for (j = 0; j < HIGH_SIZE; j++)
		if (!mask_high[j])
			assert_int_equal(high_ram[j], RAM_FILL);
}

static uint8_t sum8(const uint8_t *p, uint32_t len)
{
	uint8_t s = 0;

	while (len--)
		s = (uint8_t)(s + *p++);
	return s;
}

/* ---- the standard fw_cfg contents: a cut-down ACPI set plus vmgenid ---- */

#define F_RSDP "etc/acpi/rsdp"
#define F_TABLES "etc/acpi/tables"
#define F_GUID "etc/vmgenid_guid"
#define F_ADDR "etc/vmgenid_addr"

/*
 * etc/acpi/tables (192 bytes):
 *   0..15    filler
 *   16..79   SSDT, checksum at 25, VGIA (4 bytes) at 56
 *   80..119  RSDT, checksum at 89, entry (4 bytes) at 116 -> SSDT
 *   120..163 XSDT, checksum at 129, entry (8 bytes) at 156 -> SSDT
 *   168, 172, 176: stored values for the overflow tests
 */
#define SSDT_OFF 16
#define RSDT_OFF 80
#define XSDT_OFF 120
#define TABLES_SIZE 192

static const uint8_t guid_le[16] = {
	0x8a, 0xbf, 0x4b, 0x46, 0xcd, 0x68, 0x3f, 0x41,
	0x9e, 0x73, 0x2a, 0x11, 0x0c, 0x8d, 0x05, 0x91,
};

static void table_header(uint8_t *t, const char *sig, uint32_t len, uint8_t junk_cksum)
{
	uint32_t i;

	for (i = 0; i < len; i++)
		t[i] = (uint8_t)(i * 7 + 3);
	memcpy(t, sig, 4);
	vmgenid_put_le32(t + 4, len);
	t[8] = 1;
	t[9] = junk_cksum; /* the loader must fix whatever is there */
}

static void setup_std(void)
{
	struct fake_file *f;
	uint8_t *t;

	f = add_file(F_RSDP, 36, false);
	memcpy(f->data, "RSD PTR ", 8);
	f->data[8] = 0x5a;
	memcpy(f->data + 9, "BOCHS ", 6);
	f->data[15] = 2;
	vmgenid_put_le32(f->data + 16, RSDT_OFF);
	vmgenid_put_le32(f->data + 20, 36);
	vmgenid_put_le64(f->data + 24, XSDT_OFF);
	f->data[32] = 0xa5;

	f = add_file(F_TABLES, TABLES_SIZE, false);
	t = f->data;
	memset(t, 0x11, SSDT_OFF);
	table_header(t + SSDT_OFF, "SSDT", 64, 0x33);
	vmgenid_put_le32(t + SSDT_OFF + 40, 0); /* VGIA: offset 0 inside the GUID blob */
	table_header(t + RSDT_OFF, "RSDT", 40, 0x44);
	vmgenid_put_le32(t + RSDT_OFF + 36, SSDT_OFF);
	table_header(t + XSDT_OFF, "XSDT", 44, 0x55);
	vmgenid_put_le64(t + XSDT_OFF + 36, SSDT_OFF);
	vmgenid_put_le32(t + 168, 0x00000fff);
	vmgenid_put_le32(t + 172, 0x00001000);
	vmgenid_put_le64(t + 176, 0xfffffffffffffff0ull);

	f = add_file(F_GUID, 4096, false);
	memcpy(f->data + 40, guid_le, sizeof(guid_le));

	add_file(F_ADDR, 8, true);
	add_file("etc/readonly", 8, false);
	add_file("etc/empty", 0, false);
}

/* ---- the happy path: a script built the way QEMU builds its own ---- */

static void test_run_qemu_like_script(void **state)
{
	struct vmgenid_bios_loader l;
	struct vmgenid_bios_loader_exec st;
	const struct vmgenid_bios_loader_file *rsdp, *guid, *tables;
	const uint8_t *t, *r;
	uint8_t *c;
	uint64_t tables_addr;

	(void)state;
	env_reset();
	setup_std();
	vmgenid_bios_loader_init(&l);
	assert_int_equal(vmgenid_bios_loader_allocate(&l, F_RSDP, 16, VMGENID_BIOS_LOADER_ZONE_FSEG), 0);
	assert_int_equal(vmgenid_bios_loader_allocate(&l, F_GUID, 4096, VMGENID_BIOS_LOADER_ZONE_HIGH), 0);
	assert_int_equal(vmgenid_bios_loader_allocate(&l, F_TABLES, 64, VMGENID_BIOS_LOADER_ZONE_HIGH), 0);
	/* Padding and a command from the future: both skipped, neither validated. */
	assert_non_null(vmgenid_bytebuf_append(&l.script, NULL, 128));
	c = vmgenid_bytebuf_append(&l.script, NULL, 128);
	assert_non_null(c);
	memset(c, 'X', 128);
	vmgenid_put_le32(c, 0x77);
	assert_int_equal(vmgenid_bios_loader_write_pointer(&l, F_ADDR, 0, 8, F_GUID, 40), 0);
	assert_int_equal(vmgenid_bios_loader_add_pointer(&l, F_TABLES, SSDT_OFF + 40, 4, F_GUID), 0);
	assert_int_equal(vmgenid_bios_loader_add_checksum(&l, F_TABLES, SSDT_OFF + 9, SSDT_OFF, 64), 0);
	assert_int_equal(vmgenid_bios_loader_add_pointer(&l, F_TABLES, RSDT_OFF + 36, 4, F_TABLES), 0);
	assert_int_equal(vmgenid_bios_loader_add_checksum(&l, F_TABLES, RSDT_OFF + 9, RSDT_OFF, 40), 0);
	assert_int_equal(vmgenid_bios_loader_add_pointer(&l, F_TABLES, XSDT_OFF + 36, 8, F_TABLES), 0);
	assert_int_equal(vmgenid_bios_loader_add_checksum(&l, F_TABLES, XSDT_OFF + 9, XSDT_OFF, 44), 0);
	assert_int_equal(vmgenid_bios_loader_add_pointer(&l, F_RSDP, 16, 4, F_TABLES), 0);
	assert_int_equal(vmgenid_bios_loader_add_pointer(&l, F_RSDP, 24, 8, F_TABLES), 0);
	assert_int_equal(vmgenid_bios_loader_add_checksum(&l, F_RSDP, 8, 0, 20), 0);
	assert_int_equal(vmgenid_bios_loader_add_checksum(&l, F_RSDP, 32, 0, 36), 0);
	assert_int_equal(l.script.len, 16 * 128);

	assert_int_equal(vmgenid_bios_loader_run(&st, l.script.data, (uint32_t)l.script.len, &ops), 0);
	assert_int_equal(st.failed_cmd, 16);
	assert_int_equal(st.nr_files, 3);
	assert_int_equal(env.loads, 3);
	assert_int_equal(env.writes, 1);

	/* Placement: FSEG for the RSDP, aligned blobs in HIGH. */
	rsdp = &st.files[0];
	guid = &st.files[1];
	tables = &st.files[2];
	assert_string_equal(rsdp->name, F_RSDP);
	assert_string_equal(guid->name, F_GUID);
	assert_string_equal(tables->name, F_TABLES);
	assert_int_equal(rsdp->addr, FSEG_BASE);
	assert_ptr_equal(rsdp->data, fseg_ram);
	assert_int_equal(rsdp->size, 36);
	assert_int_equal(guid->addr, HIGH_BASE);
	assert_ptr_equal(guid->data, high_ram);
	assert_int_equal(guid->size, 4096);
	tables_addr = HIGH_BASE + 0x1000;
	assert_int_equal(tables->addr, tables_addr);
	assert_ptr_equal(tables->data, high_ram + 0x1000);
	assert_int_equal(tables->size, TABLES_SIZE);

	/* Pointers: guest addresses plus the offsets stored beforehand. */
	t = high_ram + 0x1000;
	r = fseg_ram;
	assert_int_equal(vmgenid_get_le32(t + SSDT_OFF + 40), HIGH_BASE);
	assert_int_equal(vmgenid_get_le32(t + RSDT_OFF + 36), tables_addr + SSDT_OFF);
	assert_int_equal(vmgenid_get_le64(t + XSDT_OFF + 36), tables_addr + SSDT_OFF);
	assert_int_equal(vmgenid_get_le32(r + 16), tables_addr + RSDT_OFF);
	assert_int_equal(vmgenid_get_le64(r + 24), tables_addr + XSDT_OFF);

	/* Checksums: each range sums to zero although the bytes held junk. */
	assert_int_equal(sum8(t + SSDT_OFF, 64), 0);
	assert_int_equal(sum8(t + RSDT_OFF, 40), 0);
	assert_int_equal(sum8(t + XSDT_OFF, 44), 0);
	assert_int_equal(sum8(r, 20), 0);
	assert_int_equal(sum8(r, 36), 0);
	/* ... and only the checksum bytes changed besides the pointers. */
	assert_memory_equal(t, fake_find(F_TABLES)->data, SSDT_OFF + 9);
	assert_memory_equal(r + 9, fake_find(F_RSDP)->data + 9, 7);

	/* The GUID is in RAM, and its address went back over fw_cfg. */
	assert_memory_equal(high_ram + 40, guid_le, 16);
	assert_int_equal(vmgenid_get_le64(fake_find(F_ADDR)->data), HIGH_BASE + 40);

	/* fw_cfg's own copies were only read, never patched. */
	assert_int_equal(vmgenid_get_le32(fake_find(F_RSDP)->data + 16), RSDT_OFF);
	assert_int_equal(fake_find(F_TABLES)->data[SSDT_OFF + 9], 0x33);
	assert_outside_allocs_untouched();
	vmgenid_bios_loader_free(&l);
}

/* ---- scripts assembled by hand, to say what the builder refuses to ---- */

struct script {
	uint8_t buf[40 * 128];
	uint32_t len;
};

static uint8_t *s_cmd(struct script *s, uint32_t type)
{
	uint8_t *c = s->buf + s->len;

	assert_true(s->len + 128 <= sizeof(s->buf));
	memset(c, 0, 128);
	vmgenid_put_le32(c, type);
	s->len += 128;
	return c;
}

/* Up to 56 bytes of name, so a 56-character name has no terminator. */
static void s_name(uint8_t *c, unsigned int off, const char *name)
{
	size_t n = strlen(name);

	memcpy(c + off, name, n < 56 ? n : 56);
}

static void s_alloc(struct script *s, const char *name, uint32_t align, uint8_t zone)
{
	uint8_t *c = s_cmd(s, 1);

	s_name(c, 4, name);
	vmgenid_put_le32(c + 60, align);
	c[64] = zone;
}

static void s_pointer(struct script *s, const char *dest, uint32_t off, uint8_t size,
		      const char *src)
{
	uint8_t *c = s_cmd(s, 2);

	s_name(c, 4, dest);
	s_name(c, 60, src);
	vmgenid_put_le32(c + 116, off);
	c[120] = size;
}

static void s_cksum(struct script *s, const char *name, uint32_t off, uint32_t start,
		    uint32_t length)
{
	uint8_t *c = s_cmd(s, 3);

	s_name(c, 4, name);
	vmgenid_put_le32(c + 60, off);
	vmgenid_put_le32(c + 64, start);
	vmgenid_put_le32(c + 68, length);
}

static void s_wrptr(struct script *s, const char *dest, uint32_t dst_off, uint8_t size,
		    const char *src, uint32_t src_off)
{
	uint8_t *c = s_cmd(s, 4);

	s_name(c, 4, dest);
	s_name(c, 60, src);
	vmgenid_put_le32(c + 116, dst_off);
	vmgenid_put_le32(c + 120, src_off);
	c[124] = size;
}

/* tables, then the GUID blob, both HIGH. */
static void s_std_prefix(struct script *s)
{
	s->len = 0;
	s_alloc(s, F_TABLES, 64, VMGENID_BIOS_LOADER_ZONE_HIGH);
	s_alloc(s, F_GUID, 4096, VMGENID_BIOS_LOADER_ZONE_HIGH);
}

static void snapshot(void)
{
	snap_env = env;
	memcpy(snap_fseg, fseg_ram, sizeof(snap_fseg));
	memcpy(snap_high, high_ram, sizeof(snap_high));
}

static void assert_same_as_snapshot(void)
{
	unsigned int i;

	assert_memory_equal(fseg_ram, snap_fseg, sizeof(snap_fseg));
	assert_memory_equal(high_ram, snap_high, sizeof(snap_high));
	assert_int_equal(env.loads, snap_env.loads);
	assert_int_equal(env.writes, snap_env.writes);
	assert_int_equal(env.nr_files, snap_env.nr_files);
	for (i = 0; i < env.nr_files; i++)
		assert_memory_equal(env.files[i].data, snap_env.files[i].data,
				    sizeof(env.files[i].data));
}

typedef void (*setup_fn)(void);

/*
 * The last command of s is the bad one.  Everything before it must run
 * cleanly; with it, the run must stop there with err, leaving guest RAM
 * and fw_cfg exactly as the good prefix alone leaves them.
 */
static void expect_failure(setup_fn setup, const struct script *s, int err)
{
	struct vmgenid_bios_loader_exec st;
	uint32_t n = s->len / 128;
	int ret;

	env_reset();
	setup();
	ret = vmgenid_bios_loader_run(&st, s->buf, s->len - 128, &ops);
	assert_int_equal(ret, 0);
	assert_int_equal(st.failed_cmd, n - 1);
	snapshot();

	env_reset();
	setup();
	ret = vmgenid_bios_loader_run(&st, s->buf, s->len, &ops);
	if (ret != -err)
		fail_msg("command %u: got %d (%s), want %d (%s)", n - 1, ret,
			 vmgenid_bios_loader_strerror(ret), -err, vmgenid_bios_loader_strerror(-err));
	assert_int_equal(st.failed_cmd, n - 1);
	assert_same_as_snapshot();
	assert_outside_allocs_untouched();
}

#define NAME56 "etc/acpi/tables_with_a_name_that_has_no_terminator_xxxxx"

static void test_err_length(void **state)
{
	struct vmgenid_bios_loader_exec st;
	struct script s;

	(void)state;
	s_std_prefix(&s);
	s_wrptr(&s, F_ADDR, 0, 8, F_GUID, 40);

	/* Nothing runs from a torn script, not even its complete commands. */
	env_reset();
	setup_std();
	snapshot();
	assert_int_equal(vmgenid_bios_loader_run(&st, s.buf, s.len - 1, &ops), -VMGENID_BIOS_LOADER_E_LENGTH);
	assert_int_equal(st.failed_cmd, 2);
	assert_int_equal(st.nr_files, 0);
	assert_same_as_snapshot();

	assert_int_equal(vmgenid_bios_loader_run(&st, s.buf, 2 * 128 + 1, &ops), -VMGENID_BIOS_LOADER_E_LENGTH);
	assert_int_equal(st.failed_cmd, 2);
	assert_int_equal(vmgenid_bios_loader_run(&st, s.buf, 127, &ops), -VMGENID_BIOS_LOADER_E_LENGTH);
	assert_int_equal(st.failed_cmd, 0);
	assert_same_as_snapshot();

	/* An empty script is a complete one. */
	assert_int_equal(vmgenid_bios_loader_run(&st, s.buf, 0, &ops), 0);
	assert_int_equal(st.failed_cmd, 0);
	assert_int_equal(st.nr_files, 0);
}

static void test_err_name(void **state)
{
	struct script s;

	(void)state;
	assert_int_equal(strlen(NAME56), 56);

	s_std_prefix(&s);
	s_alloc(&s, NAME56, 16, VMGENID_BIOS_LOADER_ZONE_HIGH);
	expect_failure(setup_std, &s, VMGENID_BIOS_LOADER_E_NAME);

	s_std_prefix(&s);
	s_alloc(&s, "", 16, VMGENID_BIOS_LOADER_ZONE_HIGH);
	expect_failure(setup_std, &s, VMGENID_BIOS_LOADER_E_NAME);

	s_std_prefix(&s);
	s_pointer(&s, F_TABLES, 0, 4, NAME56);
	expect_failure(setup_std, &s, VMGENID_BIOS_LOADER_E_NAME);

	s_std_prefix(&s);
	s_pointer(&s, "", 0, 4, F_GUID);
	expect_failure(setup_std, &s, VMGENID_BIOS_LOADER_E_NAME);

	s_std_prefix(&s);
	s_cksum(&s, NAME56, 25, 16, 64);
	expect_failure(setup_std, &s, VMGENID_BIOS_LOADER_E_NAME);

	s_std_prefix(&s);
	s_wrptr(&s, NAME56, 0, 8, F_GUID, 40);
	expect_failure(setup_std, &s, VMGENID_BIOS_LOADER_E_NAME);

	s_std_prefix(&s);
	s_wrptr(&s, F_ADDR, 0, 8, "", 40);
	expect_failure(setup_std, &s, VMGENID_BIOS_LOADER_E_NAME);
}

static void test_err_align(void **state)
{
	static const uint32_t bad[] = { 0, 3, 12, 0x80000001u, 0xffffffffu };
	struct script s;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		s_std_prefix(&s);
		s_alloc(&s, F_RSDP, bad[i], VMGENID_BIOS_LOADER_ZONE_FSEG);
		expect_failure(setup_std, &s, VMGENID_BIOS_LOADER_E_ALIGN);
	}
}

static void test_err_zone(void **state)
{
	static const uint8_t bad[] = { 0, 3, 0xff };
	struct script s;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad); i++) {
		s_std_prefix(&s);
		s_alloc(&s, F_RSDP, 16, bad[i]);
		expect_failure(setup_std, &s, VMGENID_BIOS_LOADER_E_ZONE);
	}
}

static void test_err_duplicate(void **state)
{
	struct script s;

	(void)state;
	s_std_prefix(&s);
	s_alloc(&s, F_GUID, 8, VMGENID_BIOS_LOADER_ZONE_FSEG);
	expect_failure(setup_std, &s, VMGENID_BIOS_LOADER_E_DUPLICATE);
}

static void setup_many(void)
{
	char name[16];
	unsigned int i;

	for (i = 0; i <= VMGENID_BIOS_LOADER_MAX_FILES; i++) {
		snprintf(name, sizeof(name), "etc/f%02u", i);
		add_file(name, 16, false)->data[0] = (uint8_t)i;
	}
}

static void test_err_too_many(void **state)
{
	struct script s;
	char name[16];
	unsigned int i;

	(void)state;
	s.len = 0;
	/* Exactly the maximum runs (checked by expect_failure), one more does not. */
	for (i = 0; i <= VMGENID_BIOS_LOADER_MAX_FILES; i++) {
		snprintf(name, sizeof(name), "etc/f%02u", i);
		s_alloc(&s, name, 16, VMGENID_BIOS_LOADER_ZONE_HIGH);
	}
	expect_failure(setup_many, &s, VMGENID_BIOS_LOADER_E_TOO_MANY);
	assert_int_equal(env.loads, VMGENID_BIOS_LOADER_MAX_FILES);
}

static void test_err_no_file(void **state)
{
	struct script s;

	(void)state;
	s_std_prefix(&s);
	s_alloc(&s, "etc/missing", 16, VMGENID_BIOS_LOADER_ZONE_HIGH);
	expect_failure(setup_std, &s, VMGENID_BIOS_LOADER_E_NO_FILE);

	s_std_prefix(&s);
	s_alloc(&s, "etc/empty", 16, VMGENID_BIOS_LOADER_ZONE_HIGH);
	expect_failure(setup_std, &s, VMGENID_BIOS_LOADER_E_NO_FILE);

	/* In fw_cfg but never allocated, as destination and as source. */
	s_std_prefix(&s);
	s_pointer(&s, F_RSDP, 16, 4, F_TABLES);
	expect_failure(setup_std, &s, VMGENID_BIOS_LOADER_E_NO_FILE);

	s_std_prefix(&s);
	s_pointer(&s, F_TABLES, 0, 4, F_RSDP);
	expect_failure(setup_std, &s, VMGENID_BIOS_LOADER_E_NO_FILE);

	s_std_prefix(&s);
	s_cksum(&s, F_RSDP, 8, 0, 20);
	expect_failure(setup_std, &s, VMGENID_BIOS_LOADER_E_NO_FILE);

	s_std_prefix(&s);
	s_wrptr(&s, F_ADDR, 0, 8, F_RSDP, 0);
	expect_failure(setup_std, &s, VMGENID_BIOS_LOADER_E_NO_FILE);

	s_std_prefix(&s);
	s_wrptr(&s, "etc/missing", 0, 8, F_GUID, 40);
	expect_failure(setup_std, &s, VMGENID_BIOS_LOADER_E_NO_FILE);
}

static void setup_refuse_rsdp(void)
{
	setup_std();
	env.fail_load = F_RSDP;
}

static void test_err_alloc(void **state)
{
	struct vmgenid_bios_loader_exec st;
	struct script s;

	(void)state;
	s_std_prefix(&s);
	s_alloc(&s, F_RSDP, 16, VMGENID_BIOS_LOADER_ZONE_FSEG);
	expect_failure(setup_refuse_rsdp, &s, VMGENID_BIOS_LOADER_E_ALLOC);

	/*
	 * An environment that places a blob where its end wraps past 2^64 is
	 * refused too, since every later pointer would be computed from it.
	 */
	s.len = 0;
	s_alloc(&s, F_GUID, 4096, VMGENID_BIOS_LOADER_ZONE_HIGH);
	env_reset();
	setup_std();
	env.high_base = 0xfffffffffffff000ull;
	assert_int_equal(vmgenid_bios_loader_run(&st, s.buf, s.len, &ops), -VMGENID_BIOS_LOADER_E_ALLOC);
	assert_int_equal(st.failed_cmd, 0);
	assert_int_equal(st.nr_files, 0);
}

static void test_err_ptr_size(void **state)
{
	static const uint8_t bad[] = { 0, 3, 5, 7, 16, 0xff };
	struct script s;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad); i++) {
		s_std_prefix(&s);
		s_pointer(&s, F_TABLES, 0, bad[i], F_GUID);
		expect_failure(setup_std, &s, VMGENID_BIOS_LOADER_E_PTR_SIZE);

		s_std_prefix(&s);
		s_wrptr(&s, F_ADDR, 0, bad[i], F_GUID, 40);
		expect_failure(setup_std, &s, VMGENID_BIOS_LOADER_E_PTR_SIZE);
	}
}

static void test_err_range(void **state)
{
	struct script s;

	(void)state;
	/* ADD_POINTER: past the end, straddling it, and an offset that wraps. */
	s_std_prefix(&s);
	s_pointer(&s, F_TABLES, TABLES_SIZE, 1, F_GUID);
	expect_failure(setup_std, &s, VMGENID_BIOS_LOADER_E_RANGE);

	s_std_prefix(&s);
	s_pointer(&s, F_TABLES, TABLES_SIZE - 3, 4, F_GUID);
	expect_failure(setup_std, &s, VMGENID_BIOS_LOADER_E_RANGE);

	s_std_prefix(&s);
	s_pointer(&s, F_TABLES, 0xffffffffu, 8, F_GUID);
	expect_failure(setup_std, &s, VMGENID_BIOS_LOADER_E_RANGE);

	/* ADD_CHECKSUM: range past the end or wrapping, offset outside file or range. */
	s_std_prefix(&s);
	s_cksum(&s, F_TABLES, 0, 0, TABLES_SIZE + 1);
	expect_failure(setup_std, &s, VMGENID_BIOS_LOADER_E_RANGE);

	s_std_prefix(&s);
	s_cksum(&s, F_TABLES, 0, 0xffffffffu, 2);
	expect_failure(setup_std, &s, VMGENID_BIOS_LOADER_E_RANGE);

	s_std_prefix(&s);
	s_cksum(&s, F_TABLES, TABLES_SIZE, 0, TABLES_SIZE);
	expect_failure(setup_std, &s, VMGENID_BIOS_LOADER_E_RANGE);

	s_std_prefix(&s);
	s_cksum(&s, F_TABLES, 0xffffffffu, 16, 64);
	expect_failure(setup_std, &s, VMGENID_BIOS_LOADER_E_RANGE);

	s_std_prefix(&s);
	s_cksum(&s, F_TABLES, 10, 16, 64);
	expect_failure(setup_std, &s, VMGENID_BIOS_LOADER_E_RANGE);

	s_std_prefix(&s);
	s_cksum(&s, F_TABLES, 80, 16, 64);
	expect_failure(setup_std, &s, VMGENID_BIOS_LOADER_E_RANGE);

	s_std_prefix(&s);
	s_cksum(&s, F_TABLES, 16, 16, 0);
	expect_failure(setup_std, &s, VMGENID_BIOS_LOADER_E_RANGE);

	/* WRITE_POINTER: destination range in the fw_cfg file, source offset in the blob. */
	s_std_prefix(&s);
	s_wrptr(&s, F_ADDR, 1, 8, F_GUID, 40);
	expect_failure(setup_std, &s, VMGENID_BIOS_LOADER_E_RANGE);

	s_std_prefix(&s);
	s_wrptr(&s, F_ADDR, 0xffffffffu, 8, F_GUID, 40);
	expect_failure(setup_std, &s, VMGENID_BIOS_LOADER_E_RANGE);

	s_std_prefix(&s);
	s_wrptr(&s, F_ADDR, 0, 8, F_GUID, 4096);
	expect_failure(setup_std, &s, VMGENID_BIOS_LOADER_E_RANGE);

	s_std_prefix(&s);
	s_wrptr(&s, F_ADDR, 0, 8, F_GUID, 0xffffffffu);
	expect_failure(setup_std, &s, VMGENID_BIOS_LOADER_E_RANGE);
}

static void setup_above_4g(void)
{
	setup_std();
	env.high_base = 0x100000000ull;
}

static void setup_just_below_4g(void)
{
	setup_std();
	/* tables at 0xfffff000, the GUID blob at 4 GiB */
	env.high_base = 0xfffff000ull;
}

static void test_err_overflow(void **state)
{
	struct script s;

	(void)state;
	/* A 4-byte pointer (RSDT entry, VGIA) to a blob above 4 GiB. */
	s_std_prefix(&s);
	s_pointer(&s, F_TABLES, SSDT_OFF + 40, 4, F_GUID);
	expect_failure(setup_above_4g, &s, VMGENID_BIOS_LOADER_E_OVERFLOW);

	s_std_prefix(&s);
	s_pointer(&s, F_TABLES, RSDT_OFF + 36, 4, F_TABLES);
	expect_failure(setup_above_4g, &s, VMGENID_BIOS_LOADER_E_OVERFLOW);

	/* Stored value plus address just fits 32 bits, then one more does not. */
	s_std_prefix(&s);
	s_pointer(&s, F_TABLES, 168, 4, F_TABLES);
	s_pointer(&s, F_TABLES, 172, 4, F_TABLES);
	expect_failure(setup_just_below_4g, &s, VMGENID_BIOS_LOADER_E_OVERFLOW);

	/* 1- and 2-byte pointers cannot reach 1 MiB. */
	s_std_prefix(&s);
	s_pointer(&s, F_TABLES, 0, 2, F_GUID);
	expect_failure(setup_std, &s, VMGENID_BIOS_LOADER_E_OVERFLOW);

	s_std_prefix(&s);
	s_pointer(&s, F_TABLES, 0, 1, F_GUID);
	expect_failure(setup_std, &s, VMGENID_BIOS_LOADER_E_OVERFLOW);

	/* An 8-byte addition that wraps around 2^64. */
	s_std_prefix(&s);
	s_pointer(&s, F_TABLES, 176, 8, F_TABLES);
	expect_failure(setup_std, &s, VMGENID_BIOS_LOADER_E_OVERFLOW);

	/* WRITE_POINTER of a 4-byte address above 4 GiB, and of a 2-byte one. */
	s_std_prefix(&s);
	s_wrptr(&s, F_ADDR, 0, 4, F_GUID, 40);
	expect_failure(setup_above_4g, &s, VMGENID_BIOS_LOADER_E_OVERFLOW);

	s_std_prefix(&s);
	s_wrptr(&s, F_ADDR, 0, 2, F_GUID, 40);
	expect_failure(setup_std, &s, VMGENID_BIOS_LOADER_E_OVERFLOW);
}

static void setup_write_fails(void)
{
	setup_std();
	env.fail_write = true;
}

static void setup_no_write_op(void)
{
	setup_std();
	ops.file_write = NULL;
}

static void test_err_write(void **state)
{
	struct script s;

	(void)state;
	s_std_prefix(&s);
	s_wrptr(&s, F_ADDR, 0, 8, F_GUID, 40);
	expect_failure(setup_write_fails, &s, VMGENID_BIOS_LOADER_E_WRITE);

	s_std_prefix(&s);
	s_wrptr(&s, "etc/readonly", 0, 8, F_GUID, 40);
	expect_failure(setup_std, &s, VMGENID_BIOS_LOADER_E_WRITE);

	s_std_prefix(&s);
	s_wrptr(&s, F_ADDR, 0, 8, F_GUID, 40);
	expect_failure(setup_no_write_op, &s, VMGENID_BIOS_LOADER_E_WRITE);
	ops.file_write = fake_file_write;
}

/* ---- edges that must succeed ---- */

static void test_run_small_pointers_and_edges(void **state)
{
	struct vmgenid_bios_loader_exec st;
	struct script s;
	struct fake_file *f;
	const uint8_t *b;

	(void)state;
	env_reset();
	env.high_base = 0x80;
	add_file("a", 64, false);
	f = add_file("b", 64, false);
	f->data[0] = 0x05;
	vmgenid_put_le16(f->data + 1, 0x0300);
	vmgenid_put_le32(f->data + 60, 0x10);
	f->data[63] = 0x99;
	add_file("w", 2, true);

	s.len = 0;
	s_alloc(&s, "a", 16, VMGENID_BIOS_LOADER_ZONE_HIGH);
	s_alloc(&s, "b", 1, VMGENID_BIOS_LOADER_ZONE_HIGH);
	s_pointer(&s, "b", 0, 1, "a");
	s_pointer(&s, "b", 1, 2, "a");
	s_pointer(&s, "b", 60, 4, "a"); /* ends exactly at the end of b */
	s_cksum(&s, "b", 63, 0, 64);    /* checksum byte last in its range */
	s_wrptr(&s, "w", 0, 2, "b", 63); /* src_offset at the last byte */
	assert_int_equal(vmgenid_bios_loader_run(&st, s.buf, s.len, &ops), 0);
	assert_int_equal(st.failed_cmd, 7);

	assert_int_equal(st.files[0].addr, 0x80);
	assert_int_equal(st.files[1].addr, 0xc0);
	b = st.files[1].data;
	assert_ptr_equal(b, high_ram + 0x40);
	assert_int_equal(b[0], 0x85);
	assert_int_equal(vmgenid_get_le16(b + 1), 0x0380);
	assert_int_equal(vmgenid_get_le32(b + 60) & 0x00ffffff, 0x90);
	assert_int_equal(sum8(b, 64), 0);
	assert_int_equal(vmgenid_get_le16(fake_find("w")->data), 0xc0 + 63);
	assert_outside_allocs_untouched();
}

static void test_run_resets_state(void **state)
{
	struct vmgenid_bios_loader_exec st;
	struct script s;

	(void)state;
	s_std_prefix(&s);
	env_reset();
	setup_std();
	assert_int_equal(vmgenid_bios_loader_run(&st, s.buf, s.len, &ops), 0);
	assert_int_equal(st.nr_files, 2);
	/* A second run on the same state starts from no files, so no duplicate. */
	env_reset();
	setup_std();
	assert_int_equal(vmgenid_bios_loader_run(&st, s.buf, s.len, &ops), 0);
	assert_int_equal(st.nr_files, 2);
}

/*
 * Random scripts over the standard files, with fields drawn from values near
 * every boundary.  Whatever comes back must be a known code, and the run
 * must not write outside its allocations (ASan and the fill check watch).
 */
static uint32_t rng_state = 12345;

static uint32_t rnd(void)
{
	rng_state = rng_state * 1103515245u + 12345u;
	return rng_state >> 8;
}

static void test_run_random_scripts(void **state)
{
	static const char *const names[] = {
		F_RSDP, F_TABLES, F_GUID, F_ADDR, "etc/readonly", "etc/empty", "etc/missing",
		"", NAME56,
	};
	static const uint32_t nums[] = {
		0, 1, 8, 9, 16, 20, 36, 40, 56, 63, 64, 191, 192, 4095, 4096, 0x80000000u,
		0xfffffff0u, 0xffffffffu,
	};
	static const uint8_t sizes[] = { 0, 1, 2, 3, 4, 8, 16 };
#define PICK(a) ((a)[rnd() % (sizeof(a) / sizeof((a)[0]))])
	struct vmgenid_bios_loader_exec st;
	struct script s;
	unsigned int iter, i, ncmd;
	int ret;

	(void)state;
	for (iter = 0; iter < 3000; iter++) {
		s.len = 0;
		ncmd = 1 + rnd() % 12;
		for (i = 0; i < ncmd; i++) {
			switch (rnd() % 6) {
			case 0:
			case 1:
				s_alloc(&s, PICK(names), rnd() % 2 ? PICK(nums) : 1u << (rnd() % 13),
					(uint8_t)(rnd() % 4));
				break;
			case 2:
				s_pointer(&s, PICK(names), rnd() % 2 ? PICK(nums) : rnd() % 200,
					  PICK(sizes), PICK(names));
				break;
			case 3:
				s_cksum(&s, PICK(names), PICK(nums), PICK(nums), PICK(nums));
				break;
			case 4:
				s_wrptr(&s, PICK(names), PICK(nums), PICK(sizes), PICK(names),
					PICK(nums));
				break;
			default:
				s_cmd(&s, rnd() % 8);
				break;
			}
		}
		env_reset();
		setup_std();
		if (rnd() % 4 == 0)
			env.high_base = 0xfffff000ull;
		ret = vmgenid_bios_loader_run(&st, s.buf, s.len, &ops);
		assert_true(ret <= 0 && ret > -VMGENID_BIOS_LOADER_E_COUNT);
		assert_true(st.nr_files <= VMGENID_BIOS_LOADER_MAX_FILES);
		if (ret == 0)
			assert_int_equal(st.failed_cmd, ncmd);
		else
			assert_true(st.failed_cmd < ncmd);
		assert_outside_allocs_untouched();
	}
#undef PICK
}

static void test_strerror(void **state)
{
	int i, j;

	(void)state;
	for (i = 0; i < VMGENID_BIOS_LOADER_E_COUNT; i++) {
		const char *m = vmgenid_bios_loader_strerror(-i);

		assert_non_null(m);
		assert_true(strlen(m) > 5);
		for (j = 0; j < i; j++)
			assert_string_not_equal(m, vmgenid_bios_loader_strerror(-j));
	}
	assert_string_equal(vmgenid_bios_loader_strerror(-VMGENID_BIOS_LOADER_E_OVERFLOW),
			    "pointer value does not fit its size");
	assert_string_equal(vmgenid_bios_loader_strerror(-VMGENID_BIOS_LOADER_E_COUNT), "unknown loader error");
	assert_string_equal(vmgenid_bios_loader_strerror(1), "unknown loader error");
	assert_string_equal(vmgenid_bios_loader_strerror(-1000), "unknown loader error");
}

static int group_setup(void **state)
{
	(void)state;
	vmgenid_log_set_sink(count_sink, NULL);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	vmgenid_log_set_sink(NULL, NULL);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_build_allocate),
		cmocka_unit_test(test_build_allocate_fseg_max_name),
		cmocka_unit_test(test_build_add_pointer),
		cmocka_unit_test(test_build_add_checksum),
		cmocka_unit_test(test_build_write_pointer),
		cmocka_unit_test(test_build_appends_in_order),
		cmocka_unit_test(test_build_rejects_bad_args),
		cmocka_unit_test(test_run_qemu_like_script),
		cmocka_unit_test(test_run_small_pointers_and_edges),
		cmocka_unit_test(test_run_resets_state),
		cmocka_unit_test(test_err_length),
		cmocka_unit_test(test_err_name),
		cmocka_unit_test(test_err_align),
		cmocka_unit_test(test_err_zone),
		cmocka_unit_test(test_err_duplicate),
		cmocka_unit_test(test_err_too_many),
		cmocka_unit_test(test_err_no_file),
		cmocka_unit_test(test_err_alloc),
		cmocka_unit_test(test_err_ptr_size),
		cmocka_unit_test(test_err_range),
		cmocka_unit_test(test_err_overflow),
		cmocka_unit_test(test_err_write),
		cmocka_unit_test(test_run_random_scripts),
		cmocka_unit_test(test_strerror),
	};

	return cmocka_run_group_tests_name("bios_loader", tests, group_setup, group_teardown);
}
