// SPDX-License-Identifier: MIT
/*
 * The vmgenid device, driven as a guest drives it: through fw_cfg port I/O
 * and DMA on simulated guest RAM.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "vmgenid/acpi_table.h"
#include "vmgenid/bios_loader.h"
#include "vmgenid/endian.h"
#include "vmgenid/state.h"
#include "vmgenid/vmgenid.h"

#include "guest_sim.h"

#define GUID1 "324e6eaf-d1d1-4bf6-bf41-b9bb6c91fb87"
#define GUID2 "b7a4c2e9-0f3d-4a11-9e6c-5d2f8a1b3c4e"
static const uint8_t guid1_le[16] = {
	0xaf, 0x6e, 0x4e, 0x32, 0xd1, 0xd1, 0xf6, 0x4b,
	0xbf, 0x41, 0xb9, 0xbb, 0x6c, 0x91, 0xfb, 0x87,
};

struct fixture {
	struct guest_sim sim;
	struct vmgenid_dev *dev;
	unsigned int notified;
};

static void count_notify(void *opaque)
{
	((struct fixture *)opaque)->notified++;
}

static struct vmgenid_guid parse(const char *text)
{
	struct vmgenid_guid g;

	assert_int_equal(vmgenid_guid_parse(text, &g, NULL), 0);
	return g;
}

static int setup(void **state)
{
	static struct fixture f;
	struct vmgenid_guid g = parse(GUID1);

	memset(&f, 0, sizeof(f));
	guest_sim_init(&f.sim);
	f.dev = vmgenid_dev_new(&g, &f.sim.mem, count_notify, &f);
	assert_non_null(f.dev);
	assert_int_equal(vmgenid_dev_add_fw_cfg(f.dev, f.sim.fw), 0);
	guest_sim_connect(&f.sim);
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	vmgenid_dev_free(f->dev);
	guest_sim_destroy(&f->sim);
	return 0;
}

/* What firmware's WRITE_POINTER does: the GUID's address into etc/vmgenid_addr. */
static void guest_writes_addr(struct fixture *f, uint64_t addr)
{
	uint8_t le[8];

	vmgenid_put_le64(le, addr);
	assert_int_equal(guest_sim_file_write(&f->sim, VMGENID_DEV_ADDR_FILE, 0, le, 8), 0);
}

static void test_guid_blob_layout(void **state)
{
	struct fixture *f = *state;
	static uint8_t blob[VMGENID_DEV_BLOB_SIZE];

	assert_int_equal(guest_sim_file_read(&f->sim, VMGENID_DEV_GUID_FILE, blob, sizeof(blob)),
			 VMGENID_DEV_BLOB_SIZE);
	for (unsigned int i = 0; i < VMGENID_DEV_BLOB_SIZE; i++) {
		if (i >= VMGENID_DEV_GUID_OFFSET && i < VMGENID_DEV_GUID_OFFSET + 16)
			assert_int_equal(blob[i], guid1_le[i - VMGENID_DEV_GUID_OFFSET]);
		else
			assert_int_equal(blob[i], 0);
	}
}

static void test_addr_file_is_writable_8_bytes(void **state)
{
	struct fixture *f = *state;
	uint8_t addr[16];

	assert_int_equal(guest_sim_file_read(&f->sim, VMGENID_DEV_ADDR_FILE, addr, sizeof(addr)), 8);
	/* Nine bytes do not fit: the device refuses the whole write. */
	assert_int_not_equal(guest_sim_file_write(&f->sim, VMGENID_DEV_ADDR_FILE, 0, addr, 9), 0);
	assert_int_equal(f->notified, 0);
}

static void test_good_address_writes_and_notifies_once(void **state)
{
	struct fixture *f = *state;
	uint64_t addr = SIM_RAM_BASE + 0x20000 + VMGENID_DEV_GUID_OFFSET;

	guest_writes_addr(f, addr);
	assert_memory_equal(guest_sim_hva(&f->sim, addr), guid1_le, 16);
	assert_int_equal(f->notified, 1);
	assert_true(vmgenid_dev_get_addr(f->dev) == addr);

	/* The same address again (a reboot): memory already right, no notify. */
	guest_writes_addr(f, addr);
	assert_int_equal(f->notified, 1);
	assert_int_equal(f->sim.warnings, 0);
}

static void test_memory_already_holding_guid_is_not_notified(void **state)
{
	struct fixture *f = *state;
	uint64_t addr = SIM_RAM_BASE + 0x30000;

	memcpy(guest_sim_hva(&f->sim, addr), guid1_le, 16);
	guest_writes_addr(f, addr);
	assert_int_equal(f->notified, 0);
	assert_true(vmgenid_dev_get_addr(f->dev) == addr);
}

static void check_refused(struct fixture *f, uint64_t addr)
{
	static uint8_t before[SIM_RAM_SIZE];
	unsigned int warnings = f->sim.warnings;

	memcpy(before, f->sim.ram, SIM_RAM_SIZE);
	guest_writes_addr(f, addr);
	/* Only the DMA scratch page and descriptor may differ. */
	assert_memory_equal(before + 0x2000, f->sim.ram + 0x2000, SIM_RAM_SIZE - 0x2000);
	assert_int_equal(f->notified, 0);
	assert_true(vmgenid_dev_get_addr(f->dev) == 0);
	assert_int_equal(f->sim.warnings, warnings + 1);
}

static void test_bad_addresses_are_refused(void **state)
{
	struct fixture *f = *state;

	check_refused(f, 0);
	check_refused(f, SIM_RAM_BASE + 0x20004);                 /* misaligned */
	check_refused(f, SIM_RAM_BASE + 0x20001);
	check_refused(f, SIM_RAM_BASE + SIM_RAM_SIZE - 8);        /* straddles the end */
	check_refused(f, SIM_RAM_BASE + SIM_RAM_SIZE);            /* just past RAM */
	check_refused(f, 0x8);                                    /* below RAM */
	check_refused(f, 0xfffffffffffffff8ull);                  /* wraps */
}

static void test_bad_address_after_good_forgets_it(void **state)
{
	struct fixture *f = *state;
	uint64_t addr = SIM_RAM_BASE + 0x20000 + VMGENID_DEV_GUID_OFFSET;
	struct vmgenid_guid g2 = parse(GUID2);

	guest_writes_addr(f, addr);
	assert_int_equal(f->notified, 1);
	guest_writes_addr(f, 3);
	assert_true(vmgenid_dev_get_addr(f->dev) == 0);
	/* With no address, a new GUID goes nowhere. */
	vmgenid_dev_set_guid(f->dev, &g2);
	assert_int_equal(vmgenid_dev_post_load(f->dev), 0);
	assert_memory_equal(guest_sim_hva(&f->sim, addr), guid1_le, 16);
	assert_int_equal(f->notified, 1);
}

static void test_set_guid_updates_blob_and_post_load_notifies(void **state)
{
	struct fixture *f = *state;
	uint64_t addr = SIM_RAM_BASE + 0x20000 + VMGENID_DEV_GUID_OFFSET;
	struct vmgenid_guid g2 = parse(GUID2), back;
	static uint8_t blob[VMGENID_DEV_BLOB_SIZE];

	guest_writes_addr(f, addr);
	vmgenid_dev_set_guid(f->dev, &g2);
	assert_true(vmgenid_guid_equal(vmgenid_dev_get_guid(f->dev), &g2));

	/* fw_cfg's copy follows at once, so the guest can read it there. */
	assert_int_equal(guest_sim_file_read(&f->sim, VMGENID_DEV_GUID_FILE, blob, sizeof(blob)),
			 VMGENID_DEV_BLOB_SIZE);
	vmgenid_guid_from_le(blob + VMGENID_DEV_GUID_OFFSET, &back);
	assert_true(vmgenid_guid_equal(&back, &g2));

	assert_int_equal(vmgenid_dev_post_load(f->dev), 1);
	vmgenid_guid_from_le(guest_sim_hva(&f->sim, addr), &back);
	assert_true(vmgenid_guid_equal(&back, &g2));
	assert_int_equal(f->notified, 2);
	assert_int_equal(vmgenid_dev_post_load(f->dev), 0);
	assert_int_equal(f->notified, 2);
}

static void test_reset_forgets_address(void **state)
{
	struct fixture *f = *state;
	uint64_t addr = SIM_RAM_BASE + 0x20000 + VMGENID_DEV_GUID_OFFSET;
	struct vmgenid_guid g2 = parse(GUID2);
	uint8_t file[8];

	guest_writes_addr(f, addr);
	vmgenid_dev_reset(f->dev);
	assert_true(vmgenid_dev_get_addr(f->dev) == 0);
	assert_int_equal(guest_sim_file_read(&f->sim, VMGENID_DEV_ADDR_FILE, file, sizeof(file)), 8);
	assert_true(vmgenid_get_le64(file) == 0);
	vmgenid_dev_set_guid(f->dev, &g2);
	assert_int_equal(vmgenid_dev_post_load(f->dev), 0);
	assert_int_equal(f->notified, 1);
}

static void load_section(struct vmgenid_bytebuf *saved, struct vmgenid_dev *dst, int expect, const char **why)
{
	struct vmgenid_state_reader r;
	struct vmgenid_state_section s;
	const char *rwhy = NULL;

	vmgenid_state_reader_init(&r, saved->data, saved->len);
	assert_int_equal(vmgenid_state_reader_next(&r, &s, &rwhy), 1);
	assert_string_equal(s.id, VMGENID_DEV_STATE_ID);
	assert_int_equal(vmgenid_dev_load(dst, s.payload, s.length, s.version, why), expect);
}

static void test_save_load_with_new_guid_notifies(void **state)
{
	struct fixture *f = *state;
	uint64_t addr = SIM_RAM_BASE + 0x20000 + VMGENID_DEV_GUID_OFFSET;
	struct vmgenid_guid g2 = parse(GUID2), back;
	struct vmgenid_dev *restored;
	struct vmgenid_bytebuf saved;
	const char *why = NULL;

	guest_writes_addr(f, addr);
	vmgenid_bytebuf_init(&saved);
	assert_int_equal(vmgenid_dev_save(f->dev, &saved), 0);

	/* The destination's property wins: a new device with another GUID. */
	restored = vmgenid_dev_new(&g2, &f->sim.mem, count_notify, f);
	assert_non_null(restored);
	load_section(&saved, restored, 0, &why);
	assert_true(vmgenid_dev_get_addr(restored) == addr);
	assert_int_equal(vmgenid_dev_post_load(restored), 1);
	vmgenid_guid_from_le(guest_sim_hva(&f->sim, addr), &back);
	assert_true(vmgenid_guid_equal(&back, &g2));
	assert_int_equal(f->notified, 2);
	vmgenid_dev_free(restored);

	/* The same GUID as before: no write, no notification. */
	restored = vmgenid_dev_new(&g2, &f->sim.mem, count_notify, f);
	load_section(&saved, restored, 0, &why);
	assert_int_equal(vmgenid_dev_post_load(restored), 0);
	assert_int_equal(f->notified, 2);
	vmgenid_dev_free(restored);
	vmgenid_bytebuf_free(&saved);
}

static void test_load_rejects_bad_state(void **state)
{
	struct fixture *f = *state;
	uint64_t addr = SIM_RAM_BASE + 0x20000 + VMGENID_DEV_GUID_OFFSET;
	uint8_t payload[9] = { 0 };
	const char *why;

	guest_writes_addr(f, addr);

	why = NULL;
	assert_int_equal(vmgenid_dev_load(f->dev, payload, 8, 2, &why), -EINVAL);
	assert_non_null(why);
	why = NULL;
	assert_int_equal(vmgenid_dev_load(f->dev, payload, 9, 1, &why), -EINVAL);
	assert_non_null(why);
	why = NULL;
	assert_int_equal(vmgenid_dev_load(f->dev, payload, 4, 1, &why), -EINVAL);
	assert_non_null(why);
	vmgenid_put_le64(payload, addr + 4);
	why = NULL;
	assert_int_equal(vmgenid_dev_load(f->dev, payload, 8, 1, &why), -EINVAL);
	assert_non_null(why);
	vmgenid_put_le64(payload, SIM_RAM_BASE + SIM_RAM_SIZE);
	assert_int_equal(vmgenid_dev_load(f->dev, payload, 8, 1, &why), -EINVAL);
	/* Rejected loads left the device as it was. */
	assert_true(vmgenid_dev_get_addr(f->dev) == addr);

	/* Zero is a valid saved address: firmware had not run yet. */
	vmgenid_put_le64(payload, 0);
	assert_int_equal(vmgenid_dev_load(f->dev, payload, 8, 1, &why), 0);
	assert_true(vmgenid_dev_get_addr(f->dev) == 0);
}

static void test_ssdt_header_and_vgia(void **state)
{
	struct vmgenid_bytebuf b;
	size_t off;
	uint8_t sum = 0;

	(void)state;
	vmgenid_bytebuf_init(&b);
	vmgenid_bytebuf_append(&b, "prefix", 6);
	assert_int_equal(vmgenid_dev_build_ssdt(&b, 0x07fff000, &off), 0);
	const uint8_t *t = b.data + 6;
	size_t len = b.len - 6;

	assert_memory_equal(t, "SSDT", 4);
	/* Same size as QEMU's table in the spec's dump: 0xCA bytes. */
	assert_int_equal(vmgenid_get_le32(t + 4), 202);
	assert_int_equal(len, 202);
	assert_int_equal(t[8], 1);
	assert_memory_equal(t + 10, "BOCHS ", 6);
	assert_memory_equal(t + 16, "VMGENID\0", 8);
	assert_int_equal(vmgenid_get_le32(t + 24), 1);
	assert_memory_equal(t + 28, "BXPC", 4);
	assert_int_equal(vmgenid_get_le32(t + 32), 1);
	for (size_t i = 0; i < len; i++)
		sum = (uint8_t)(sum + t[i]);
	assert_int_equal(sum, 0);
	/* Name (VGIA, DWordConst): 08 'VGIA' 0C <value> */
	assert_int_equal(t[off - 1], 0x0c);
	assert_memory_equal(t + off - 5, "VGIA", 4);
	assert_int_equal(vmgenid_get_le32(t + off), 0x07fff000);
	vmgenid_bytebuf_free(&b);
}

/*
 * The SSDT QEMU 7.2 (Debian 1:7.2+dfsg-7) gave a Linux guest with -m 256
 * and -device vmgenid, read from /sys/firmware/acpi/tables/SSDT: VGIA was
 * patched to 0x0FFFF000 and the checksum fixed by SeaBIOS.  Built with the
 * same VGIA, ours must match it byte for byte, checksum included.
 */
static const uint8_t qemu_ssdt[202] = {
	0x53, 0x53, 0x44, 0x54, 0xca, 0x00, 0x00, 0x00, 0x01, 0x43, 0x42, 0x4f,
	0x43, 0x48, 0x53, 0x20, 0x56, 0x4d, 0x47, 0x45, 0x4e, 0x49, 0x44, 0x00,
	0x01, 0x00, 0x00, 0x00, 0x42, 0x58, 0x50, 0x43, 0x01, 0x00, 0x00, 0x00,
	0x08, 0x56, 0x47, 0x49, 0x41, 0x0c, 0x00, 0xf0, 0xff, 0x0f, 0x10, 0x41,
	0x08, 0x5c, 0x5f, 0x53, 0x42, 0x5f, 0x5b, 0x82, 0x48, 0x07, 0x56, 0x47,
	0x45, 0x4e, 0x08, 0x5f, 0x48, 0x49, 0x44, 0x0d, 0x51, 0x45, 0x4d, 0x55,
	0x56, 0x47, 0x49, 0x44, 0x00, 0x08, 0x5f, 0x43, 0x49, 0x44, 0x0d, 0x56,
	0x4d, 0x5f, 0x47, 0x65, 0x6e, 0x5f, 0x43, 0x6f, 0x75, 0x6e, 0x74, 0x65,
	0x72, 0x00, 0x08, 0x5f, 0x44, 0x44, 0x4e, 0x0d, 0x56, 0x4d, 0x5f, 0x47,
	0x65, 0x6e, 0x5f, 0x43, 0x6f, 0x75, 0x6e, 0x74, 0x65, 0x72, 0x00, 0x14,
	0x17, 0x5f, 0x53, 0x54, 0x41, 0x00, 0x70, 0x0a, 0x0f, 0x60, 0xa0, 0x0a,
	0x93, 0x56, 0x47, 0x49, 0x41, 0x00, 0x70, 0x00, 0x60, 0xa4, 0x60, 0x14,
	0x20, 0x41, 0x44, 0x44, 0x52, 0x00, 0x70, 0x12, 0x02, 0x02, 0x60, 0x70,
	0x72, 0x56, 0x47, 0x49, 0x41, 0x0a, 0x28, 0x00, 0x88, 0x60, 0x00, 0x00,
	0x70, 0x00, 0x88, 0x60, 0x01, 0x00, 0xa4, 0x60, 0x14, 0x19, 0x5c, 0x2e,
	0x5f, 0x47, 0x50, 0x45, 0x5f, 0x45, 0x30, 0x35, 0x00, 0x86, 0x5c, 0x2e,
	0x5f, 0x53, 0x42, 0x5f, 0x56, 0x47, 0x45, 0x4e, 0x0a, 0x80
};

static void test_ssdt_matches_qemu(void **state)
{
	struct vmgenid_bytebuf b;
	size_t off;

	(void)state;
	vmgenid_bytebuf_init(&b);
	assert_int_equal(vmgenid_dev_build_ssdt(&b, 0x0ffff000, &off), 0);
	assert_int_equal(b.len, sizeof(qemu_ssdt));
	assert_memory_equal(b.data, qemu_ssdt, sizeof(qemu_ssdt));
	assert_int_equal(off, 42);
	vmgenid_bytebuf_free(&b);
}

static void check_cmd_name(const uint8_t *cmd, size_t at, const char *name)
{
	char field[VMGENID_BIOS_LOADER_NAME_SIZE] = { 0 };

	strncpy(field, name, sizeof(field) - 1);
	assert_memory_equal(cmd + at, field, sizeof(field));
}

static void test_build_acpi_loader_commands(void **state)
{
	struct fixture *f = *state;
	struct vmgenid_bios_loader l;
	struct vmgenid_bytebuf tables;
	long start;
	const uint8_t *c;
	size_t vgia_off;
	struct vmgenid_bytebuf ssdt;

	vmgenid_bios_loader_init(&l);
	vmgenid_bytebuf_init(&tables);
	vmgenid_bytebuf_append(&tables, NULL, 100);
	start = vmgenid_dev_build_acpi(f->dev, &tables, "etc/acpi/tables", &l);
	assert_int_equal(start, 100);
	assert_int_equal(l.script.len, 4 * VMGENID_BIOS_LOADER_CMD_SIZE);

	vmgenid_bytebuf_init(&ssdt);
	assert_int_equal(vmgenid_dev_build_ssdt(&ssdt, 0, &vgia_off), 0);
	assert_int_equal(tables.len, 100 + ssdt.len);
	assert_memory_equal(tables.data + 100, ssdt.data, ssdt.len);

	c = l.script.data;
	assert_int_equal(vmgenid_get_le32(c), VMGENID_BIOS_LOADER_CMD_ALLOCATE);
	check_cmd_name(c, 4, VMGENID_DEV_GUID_FILE);
	assert_int_equal(vmgenid_get_le32(c + 60), 4096);
	assert_int_equal(c[64], VMGENID_BIOS_LOADER_ZONE_HIGH);

	c += VMGENID_BIOS_LOADER_CMD_SIZE;
	assert_int_equal(vmgenid_get_le32(c), VMGENID_BIOS_LOADER_CMD_ADD_POINTER);
	check_cmd_name(c, 4, "etc/acpi/tables");
	check_cmd_name(c, 60, VMGENID_DEV_GUID_FILE);
	assert_int_equal(vmgenid_get_le32(c + 116), 100 + vgia_off);
	assert_int_equal(c[120], 4);

	c += VMGENID_BIOS_LOADER_CMD_SIZE;
	assert_int_equal(vmgenid_get_le32(c), VMGENID_BIOS_LOADER_CMD_ADD_CHECKSUM);
	check_cmd_name(c, 4, "etc/acpi/tables");
	assert_int_equal(vmgenid_get_le32(c + 60), 100 + VMGENID_ACPI_TABLE_CHECKSUM_OFFSET);
	assert_int_equal(vmgenid_get_le32(c + 64), 100);
	assert_int_equal(vmgenid_get_le32(c + 68), ssdt.len);

	c += VMGENID_BIOS_LOADER_CMD_SIZE;
	assert_int_equal(vmgenid_get_le32(c), VMGENID_BIOS_LOADER_CMD_WRITE_POINTER);
	check_cmd_name(c, 4, VMGENID_DEV_ADDR_FILE);
	check_cmd_name(c, 60, VMGENID_DEV_GUID_FILE);
	assert_int_equal(vmgenid_get_le32(c + 116), 0);
	assert_int_equal(vmgenid_get_le32(c + 120), VMGENID_DEV_GUID_OFFSET);
	assert_int_equal(c[124], 8);

	vmgenid_bytebuf_free(&ssdt);
	vmgenid_bytebuf_free(&tables);
	vmgenid_bios_loader_free(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_guid_blob_layout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_addr_file_is_writable_8_bytes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_good_address_writes_and_notifies_once, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_memory_already_holding_guid_is_not_notified,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_addresses_are_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_address_after_good_forgets_it, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_set_guid_updates_blob_and_post_load_notifies,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset_forgets_address, setup, teardown),
		cmocka_unit_test_setup_teardown(test_save_load_with_new_guid_notifies, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_load_rejects_bad_state, setup, teardown),
		cmocka_unit_test(test_ssdt_header_and_vgia),
		cmocka_unit_test(test_ssdt_matches_qemu),
		cmocka_unit_test_setup_teardown(test_build_acpi_loader_commands, setup, teardown),
	};

	return cmocka_run_group_tests_name("vmgenid", tests, NULL, NULL);
}
