// SPDX-License-Identifier: MIT
/*
 * The whole vmgenid handshake without KVM: the device model publishes its
 * files and the table-loader script over fw_cfg, a simulated firmware runs
 * the script with the library's executor (WRITE_POINTER going back over fw_cfg
 * DMA), and we look at "guest RAM" afterwards as the guest OS would.
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

#define TABLES_FILE "etc/acpi/tables"

struct machine {
	struct guest_sim sim;
	struct vmgenid_dev *dev;
	struct vmgenid_bios_loader loader;
	struct vmgenid_bytebuf tables;
	long ssdt_offset;
	unsigned int notified;
	struct vmgenid_bios_loader_exec exec;
};

static void count_notify(void *opaque)
{
	((struct machine *)opaque)->notified++;
}

static void machine_create(struct machine *m, const char *guid_text)
{
	struct vmgenid_guid g;

	memset(m, 0, sizeof(*m));
	assert_int_equal(vmgenid_guid_parse(guid_text, &g, NULL), 0);
	guest_sim_init(&m->sim);
	m->dev = vmgenid_dev_new(&g, &m->sim.mem, count_notify, m);
	assert_non_null(m->dev);

	vmgenid_bios_loader_init(&m->loader);
	vmgenid_bytebuf_init(&m->tables);
	assert_int_equal(vmgenid_bios_loader_allocate(&m->loader, TABLES_FILE, 64, VMGENID_BIOS_LOADER_ZONE_HIGH),
			 0);
	/* Something before the SSDT, so offsets inside the blob matter. */
	vmgenid_bytebuf_append(&m->tables, NULL, 64);
	m->ssdt_offset = vmgenid_dev_build_acpi(m->dev, &m->tables, TABLES_FILE, &m->loader);
	assert_int_equal(m->ssdt_offset, 64);

	assert_true(vmgenid_fw_cfg_add_file(m->sim.fw, VMGENID_BIOS_LOADER_FILE, m->loader.script.data,
				    (uint32_t)m->loader.script.len, false, NULL, NULL) >= 0);
	assert_true(vmgenid_fw_cfg_add_file(m->sim.fw, TABLES_FILE, m->tables.data,
				    (uint32_t)m->tables.len, false, NULL, NULL) >= 0);
	assert_int_equal(vmgenid_dev_add_fw_cfg(m->dev, m->sim.fw), 0);
	guest_sim_connect(&m->sim);
}

static void machine_destroy(struct machine *m)
{
	vmgenid_dev_free(m->dev);
	guest_sim_destroy(&m->sim);
	vmgenid_bios_loader_free(&m->loader);
	vmgenid_bytebuf_free(&m->tables);
}

static uint8_t sum(const uint8_t *p, size_t len)
{
	uint8_t s = 0;

	while (len--)
		s = (uint8_t)(s + *p++);
	return s;
}

static void test_firmware_runs_loader(void **state)
{
	struct machine m;
	uint64_t tables, blob;
	const uint8_t *ssdt;
	uint8_t expect[16];
	struct vmgenid_guid g;

	(void)state;
	machine_create(&m, "324e6eaf-d1d1-4bf6-bf41-b9bb6c91fb87");
	assert_int_equal(guest_sim_run_loader(&m.sim, &m.exec), 0);

	tables = guest_sim_file_addr(&m.exec, TABLES_FILE);
	blob = guest_sim_file_addr(&m.exec, VMGENID_DEV_GUID_FILE);
	assert_true(tables != 0 && tables % 64 == 0);
	assert_true(blob != 0 && blob % 4096 == 0);

	/* The SSDT in guest RAM: VGIA patched to the blob, checksum valid. */
	ssdt = guest_sim_hva(&m.sim, tables + (uint64_t)m.ssdt_offset);
	assert_memory_equal(ssdt, "SSDT", 4);
	assert_int_equal(sum(ssdt, vmgenid_get_le32(ssdt + 4)), 0);
	{
		size_t vgia_off;
		struct vmgenid_bytebuf fresh;

		vmgenid_bytebuf_init(&fresh);
		assert_int_equal(vmgenid_dev_build_ssdt(&fresh, 0, &vgia_off), 0);
		assert_true(vmgenid_get_le32(ssdt + vgia_off) == blob);
		vmgenid_bytebuf_free(&fresh);
	}

	/* The GUID at blob + 40, little-endian; the device learned that address. */
	assert_int_equal(vmgenid_guid_parse("324e6eaf-d1d1-4bf6-bf41-b9bb6c91fb87", &g, NULL), 0);
	vmgenid_guid_to_le(&g, expect);
	assert_memory_equal(guest_sim_hva(&m.sim, blob + VMGENID_DEV_GUID_OFFSET), expect, 16);
	assert_true(vmgenid_dev_get_addr(m.dev) == blob + VMGENID_DEV_GUID_OFFSET);

	/*
	 * The firmware loaded the blob, GUID included, before it wrote the
	 * address back, so the memory already held the GUID: no notification
	 * on a cold boot, just as on a reboot.
	 */
	assert_int_equal(m.notified, 0);
	assert_int_equal(m.sim.warnings, 0);
	machine_destroy(&m);
}

static void test_notify_once_then_not_again(void **state)
{
	struct machine m;
	uint64_t addr;
	uint8_t le[8];

	(void)state;
	machine_create(&m, "324e6eaf-d1d1-4bf6-bf41-b9bb6c91fb87");
	assert_int_equal(guest_sim_run_loader(&m.sim, &m.exec), 0);
	addr = vmgenid_dev_get_addr(m.dev);

	/* Something in the guest scribbled over the GUID; the next write of
	 * the address restores it and notifies, once. */
	memset(guest_sim_hva(&m.sim, addr), 0xee, 16);
	vmgenid_put_le64(le, addr);
	assert_int_equal(guest_sim_file_write(&m.sim, VMGENID_DEV_ADDR_FILE, 0, le, 8), 0);
	assert_int_equal(m.notified, 1);
	/* A second identical write: nothing to do. */
	assert_int_equal(guest_sim_file_write(&m.sim, VMGENID_DEV_ADDR_FILE, 0, le, 8), 0);
	assert_int_equal(m.notified, 1);
	machine_destroy(&m);
}

static void test_changed_guid_after_state_load_notifies_once(void **state)
{
	struct machine m;
	struct vmgenid_bytebuf saved;
	struct vmgenid_state_reader r;
	struct vmgenid_state_section s;
	struct vmgenid_guid g2, back;
	const char *why = NULL;
	uint64_t addr;

	(void)state;
	machine_create(&m, "324e6eaf-d1d1-4bf6-bf41-b9bb6c91fb87");
	assert_int_equal(guest_sim_run_loader(&m.sim, &m.exec), 0);
	addr = vmgenid_dev_get_addr(m.dev);

	vmgenid_bytebuf_init(&saved);
	assert_int_equal(vmgenid_dev_save(m.dev, &saved), 0);

	/* "Restore" into the same RAM with a new GUID property. */
	assert_int_equal(vmgenid_guid_parse("8b0b0ee0-4f45-4d8c-9d4b-0d1f6f0a7e21", &g2, NULL), 0);
	vmgenid_dev_set_guid(m.dev, &g2);
	vmgenid_dev_reset(m.dev);
	vmgenid_state_reader_init(&r, saved.data, saved.len);
	assert_int_equal(vmgenid_state_reader_next(&r, &s, &why), 1);
	assert_int_equal(vmgenid_dev_load(m.dev, s.payload, s.length, s.version, &why), 0);
	assert_int_equal(vmgenid_state_reader_next(&r, &s, &why), 0);

	assert_int_equal(vmgenid_dev_post_load(m.dev), 1);
	assert_int_equal(m.notified, 1);
	vmgenid_guid_from_le(guest_sim_hva(&m.sim, addr), &back);
	assert_true(vmgenid_guid_equal(&back, &g2));

	/* Loading the same state again with the same GUID: no notification. */
	assert_int_equal(vmgenid_dev_post_load(m.dev), 0);
	assert_int_equal(m.notified, 1);
	vmgenid_bytebuf_free(&saved);
	machine_destroy(&m);
}

static void test_reboot_reruns_loader_without_notify(void **state)
{
	struct machine m;
	uint64_t first;

	(void)state;
	machine_create(&m, "324e6eaf-d1d1-4bf6-bf41-b9bb6c91fb87");
	assert_int_equal(guest_sim_run_loader(&m.sim, &m.exec), 0);
	first = vmgenid_dev_get_addr(m.dev);

	vmgenid_dev_reset(m.dev);
	vmgenid_fw_cfg_reset(m.sim.fw);
	assert_true(vmgenid_dev_get_addr(m.dev) == 0);
	m.sim.next_free = SIM_RAM_BASE + 0x10000;
	guest_sim_connect(&m.sim);
	assert_int_equal(guest_sim_run_loader(&m.sim, &m.exec), 0);
	assert_true(vmgenid_dev_get_addr(m.dev) == first);
	assert_int_equal(m.notified, 0);
	machine_destroy(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_firmware_runs_loader),
		cmocka_unit_test(test_notify_once_then_not_again),
		cmocka_unit_test(test_changed_guid_after_state_load_notifies_once),
		cmocka_unit_test(test_reboot_reruns_loader_without_notify),
	};

	return cmocka_run_group_tests_name("boot_flow", tests, NULL, NULL);
}
