// SPDX-License-Identifier: MIT
/*
 * The guest tool's AML reader against the shapes real VMMs emit, built with
 * the library's AML encoder (or, where noted, bytes iasl produced from the
 * ASL in the comment), and against truncated and hostile tables: every one
 * must give the right address or a clear error with a table and an offset,
 * never a crash or a wrong answer.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "vmgenid/acpi_table.h"
#include "vmgenid/acpi_tables.h"
#include "vmgenid/aml.h"
#include "vmgenid/bios_loader.h"
#include "vmgenid/endian.h"
#include "vmgenid/vmgenid.h"

#include "aml_reader.h"
#include "guest_sim.h"
#include "loader_env.h"

#define VGIA 0x07FFF000u

/* --- Helpers ------------------------------------------------------------- */

/* A table of signature sig around body (consumed, with its context). */
static void build_table(struct vmgenid_bytebuf *out, struct vmgenid_aml_ctx *ctx, struct vmgenid_aml *body,
			const char *sig, uint8_t revision)
{
	static const struct vmgenid_acpi_table_id id = {
		.oem_id = "VMGTST",
		.oem_table_id = "AMLREAD",
		.oem_revision = 1,
		.creator_id = "TEST",
		.creator_revision = 1,
	};
	size_t start;

	vmgenid_bytebuf_init(out);
	start = vmgenid_acpi_table_begin(out, sig, revision, &id);
	assert_int_equal(vmgenid_aml_serialize(ctx, body, out), 0);
	vmgenid_acpi_table_end(out, start);
	assert_false(vmgenid_bytebuf_failed(out));
	vmgenid_aml_ctx_free(ctx);
}

/* A DSDT (revision 2) whose body is exactly these bytes, checksum fixed. */
static void raw_table(struct vmgenid_bytebuf *out, const uint8_t *body, size_t len)
{
	static const struct vmgenid_acpi_table_id id = { "VMGTST", "RAW", 1, "TEST", 1 };
	size_t start;

	vmgenid_bytebuf_init(out);
	start = vmgenid_acpi_table_begin(out, "DSDT", 2, &id);
	vmgenid_bytebuf_append(out, body, len);
	vmgenid_acpi_table_end(out, start);
	assert_false(vmgenid_bytebuf_failed(out));
}

static int find(const uint8_t *data, size_t len, const char *name, struct aml_reader_device *d,
		struct aml_reader_report *r)
{
	struct aml_reader_table t = { name, data, len };

	return aml_reader_find_vmgenid(&t, 1, NULL, d, r);
}

static int addr_of(const uint8_t *data, size_t len, uint64_t *addr, struct aml_reader_error *e)
{
	struct aml_reader_table t = { "DSDT", data, len };

	return aml_reader_vmgenid_addr(&t, 1, addr, e);
}

static void assert_contains(const char *haystack, const char *needle)
{
	if (!strstr(haystack, needle))
		fail_msg("\"%s\" does not contain \"%s\"", haystack, needle);
}

/* \_SB.VGEN with the given ids; append ADDR (and more) to the result. */
static struct vmgenid_aml *vgen_device(struct vmgenid_aml_ctx *ctx, const char *name, const char *hid,
			       const char *cid)
{
	struct vmgenid_aml *dev = vmgenid_aml_device(ctx, name);

	if (hid)
		vmgenid_aml_append(dev, vmgenid_aml_name_decl(ctx, "_HID", vmgenid_aml_string(ctx, hid)));
	if (cid)
		vmgenid_aml_append(dev, vmgenid_aml_name_decl(ctx, "_CID", vmgenid_aml_string(ctx, cid)));
	return dev;
}

/* Name (ADDR, Package {lo, hi}) with DWord elements, as Firecracker writes it. */
static struct vmgenid_aml *addr_name_package(struct vmgenid_aml_ctx *ctx, uint32_t lo, uint32_t hi)
{
	struct vmgenid_aml *pkg = vmgenid_aml_package(ctx, 2);

	vmgenid_aml_append(pkg, vmgenid_aml_dword(ctx, lo));
	vmgenid_aml_append(pkg, vmgenid_aml_dword(ctx, hi));
	return vmgenid_aml_name_decl(ctx, "ADDR", pkg);
}

/* A Generic Event Device whose _EVT notifies target on event 5. */
static struct vmgenid_aml *ged_device(struct vmgenid_aml_ctx *ctx, const char *target)
{
	struct vmgenid_aml *dev = vmgenid_aml_device(ctx, "_SB.GED");
	struct vmgenid_aml *crs = vmgenid_aml_resource_template(ctx);
	struct vmgenid_aml *evt = vmgenid_aml_method(ctx, "_EVT", 1, true);
	struct vmgenid_aml *on5 = vmgenid_aml_if(ctx, vmgenid_aml_equal(ctx, vmgenid_aml_arg(ctx, 0), vmgenid_aml_int(ctx, 5)));

	vmgenid_aml_append(dev, vmgenid_aml_name_decl(ctx, "_HID", vmgenid_aml_string(ctx, "ACPI0013")));
	vmgenid_aml_append(crs, vmgenid_aml_interrupt(ctx, VMGENID_AML_INT_CONSUMER | VMGENID_AML_INT_EDGE, 5));
	vmgenid_aml_append(dev, vmgenid_aml_name_decl(ctx, "_CRS", crs));
	vmgenid_aml_append(on5, vmgenid_aml_notify(ctx, vmgenid_aml_name(ctx, target), vmgenid_aml_int(ctx, 0x80)));
	vmgenid_aml_append(evt, on5);
	vmgenid_aml_append(dev, evt);
	return dev;
}

/* --- Our SSDT, QEMU's flow, iasl's form ----------------------------------- */

static void test_our_ssdt(void **state)
{
	static const uint32_t vgias[] = { VGIA, 0x1000, 0xFFFFF000u };
	struct aml_reader_device d;
	struct aml_reader_report r;
	struct vmgenid_bytebuf b;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(vgias) / sizeof(vgias[0]); i++) {
		vmgenid_bytebuf_init(&b);
		assert_int_equal(vmgenid_dev_build_ssdt(&b, vgias[i], NULL), 0);
		assert_int_equal(find(b.data, b.len, "SSDT", &d, &r), 0);
		assert_string_equal(d.path, "\\_SB_.VGEN");
		assert_string_equal(d.table, "SSDT");
		assert_string_equal(d.hid, "QEMUVGID");
		assert_int_equal(d.ncid, 1);
		assert_string_equal(d.cid[0], "VM_Gen_Counter");
		assert_int_equal(d.addr_form, AML_READER_ADDR_METHOD);
		assert_int_equal(d.addr_status, 0);
		assert_int_equal(d.addr_count, 2);
		assert_true(d.addr_integers);
		assert_true(d.addr == (uint64_t)vgias[i] + 0x28);
		assert_int_equal(d.notify_via, AML_READER_NOTIFY_GPE);
		assert_string_equal(d.notify_method, "\\_GPE._E05");
		assert_int_equal(r.ntables, 1);
		assert_int_equal(r.nmalformed, 0);
		assert_int_equal(r.nskipped, 0);
		assert_int_equal(r.nbad_checksum, 0);
		vmgenid_bytebuf_free(&b);
	}
}

/*
 * A revision 1 table has 32-bit integers unless a DSDT says otherwise:
 * VGIA + 0x28 wraps there, exactly as ACPICA computes it.
 */
static void test_integer_width_follows_dsdt(void **state)
{
	struct aml_reader_table t[2];
	struct vmgenid_bytebuf ssdt, dsdt;
	struct vmgenid_aml_ctx *ctx;
	uint64_t addr = 0;
	struct aml_reader_error e;

	(void)state;
	vmgenid_bytebuf_init(&ssdt);
	assert_int_equal(vmgenid_dev_build_ssdt(&ssdt, 0xFFFFFFF0u, NULL), 0);
	assert_int_equal(addr_of(ssdt.data, ssdt.len, &addr, &e), 0);
	assert_true(addr == 0x18);

	ctx = vmgenid_aml_ctx_new();
	build_table(&dsdt, ctx, vmgenid_aml_block(ctx), "DSDT", 2);
	t[0] = (struct aml_reader_table){ "DSDT", dsdt.data, dsdt.len };
	t[1] = (struct aml_reader_table){ "SSDT", ssdt.data, ssdt.len };
	assert_int_equal(aml_reader_vmgenid_addr(t, 2, &addr, &e), 0);
	assert_true(addr == 0x100000018ull);
	vmgenid_bytebuf_free(&ssdt);
	vmgenid_bytebuf_free(&dsdt);
}

/*
 * QEMU's flow: the SSDT as the guest sees it after firmware ran the
 * table-loader (VGIA patched to the blob, checksum redone).  ADDR must name
 * the very address the firmware wrote back into etc/vmgenid_addr, where the
 * GUID is.
 */
static void test_qemu_flow_patched_ssdt(void **state)
{
	static const char *guid_text = "324e6eaf-d1d1-4bf6-bf41-b9bb6c91fb87";
	struct vmgenid_bios_loader_exec exec;
	struct vmgenid_bios_loader loader;
	struct aml_reader_device d;
	struct aml_reader_report r;
	struct vmgenid_bytebuf tables;
	struct guest_sim sim;
	struct vmgenid_dev *dev;
	struct vmgenid_guid g, seen;
	uint8_t written[8];
	const uint8_t *ssdt;
	uint64_t base;
	long off;

	(void)state;
	assert_int_equal(vmgenid_guid_parse(guid_text, &g, NULL), 0);
	guest_sim_init(&sim);
	dev = vmgenid_dev_new(&g, &sim.mem, NULL, NULL);
	assert_non_null(dev);
	vmgenid_bios_loader_init(&loader);
	vmgenid_bytebuf_init(&tables);
	assert_int_equal(vmgenid_bios_loader_allocate(&loader, "etc/acpi/tables", 64,
					      VMGENID_BIOS_LOADER_ZONE_HIGH), 0);
	vmgenid_bytebuf_append(&tables, NULL, 128);
	off = vmgenid_dev_build_acpi(dev, &tables, "etc/acpi/tables", &loader);
	assert_int_equal(off, 128);
	assert_true(vmgenid_fw_cfg_add_file(sim.fw, VMGENID_BIOS_LOADER_FILE, loader.script.data,
				    (uint32_t)loader.script.len, false, NULL, NULL) >= 0);
	assert_true(vmgenid_fw_cfg_add_file(sim.fw, "etc/acpi/tables", tables.data,
				    (uint32_t)tables.len, false, NULL, NULL) >= 0);
	assert_int_equal(vmgenid_dev_add_fw_cfg(dev, sim.fw), 0);
	guest_sim_connect(&sim);
	assert_int_equal(guest_sim_run_loader(&sim, &exec), 0);

	base = guest_sim_file_addr(&exec, "etc/acpi/tables");
	ssdt = guest_sim_hva(&sim, base + (uint64_t)off);
	assert_int_equal(find(ssdt, vmgenid_get_le32(ssdt + 4), "SSDT", &d, &r), 0);
	assert_int_equal(r.nbad_checksum, 0);
	assert_true(d.addr_integers);
	assert_int_equal(guest_sim_file_read(&sim, VMGENID_DEV_ADDR_FILE, written, 8), 8);
	assert_true(d.addr == vmgenid_get_le64(written));
	assert_true(d.addr == guest_sim_file_addr(&exec, VMGENID_DEV_GUID_FILE) + 40);
	vmgenid_guid_from_le(guest_sim_hva(&sim, d.addr), &seen);
	assert_true(vmgenid_guid_equal(&seen, &g));

	vmgenid_dev_free(dev);
	vmgenid_bios_loader_free(&loader);
	vmgenid_bytebuf_free(&tables);
	guest_sim_destroy(&sim);
}

/*
 * genvm's whole table set (vmgenid_acpi_build_tables: DSDT with COM1, fw_cfg and
 * \_S5, FADT, MADT, the vmgenid SSDT), placed and patched by the
 * table-loader, and found the way the OS finds it: the RSDP in the BIOS
 * area, the XSDT, the FADT's X_DSDT, the XSDT's SSDT.  The reader must walk
 * all of it without a skip, and ADDR must be what firmware wrote back.
 */
static void test_genvm_machine_tables(void **state)
{
	static const struct vmgenid_acpi_machine machine = {
		.nr_cpus = 2, .lapic_addr = 0xfee00000, .ioapic_addr = 0xfec00000,
		.ioapic_id = 2, .pm1a_evt_port = 0x600, .pm1a_cnt_port = 0x604,
		.pm_tmr_port = 0x608, .gpe0_port = 0x620, .gpe0_len = 4, .sci_irq = 9,
		.reset_port = 0xcf9, .reset_value = 0x06, .slp_typ_s5 = 5,
		.uart_port = 0x3f8, .uart_irq = 4, .fw_cfg_port = 0x510,
	};
	static uint8_t guid_blob[VMGENID_DEV_BLOB_SIZE], addr_file[VMGENID_DEV_ADDR_SIZE];
	struct vmgenid_guid g = { { 0x32, 0x4e, 0x6e, 0xaf } };
	struct aml_reader_table t[4];
	struct aml_reader_device d;
	struct aml_reader_report r;
	struct vmgenid_bytebuf rsdp, tables;
	struct vmgenid_bios_loader loader;
	struct vmgenid_guest_mem no_mem;
	struct loader_env env;
	const uint8_t *p, *xsdt, *fadt;
	struct vmgenid_dev *dev;
	unsigned int nt = 0, i;
	uint64_t a;

	(void)state;
	vmgenid_guest_mem_init(&no_mem);
	dev = vmgenid_dev_new(&g, &no_mem, NULL, NULL);
	assert_non_null(dev);
	vmgenid_bytebuf_init(&rsdp);
	vmgenid_bytebuf_init(&tables);
	vmgenid_bios_loader_init(&loader);
	assert_int_equal(vmgenid_acpi_build_tables(&machine, dev, &rsdp, &tables, &loader), 0);
	assert_int_equal(loader_env_init(&env, 4u << 20, 4u << 20), 0);
	assert_int_equal(loader_env_add_file(&env, VMGENID_DEV_GUID_FILE, guid_blob,
					     sizeof(guid_blob), false), 0);
	assert_int_equal(loader_env_add_file(&env, VMGENID_DEV_ADDR_FILE, addr_file,
					     sizeof(addr_file), true), 0);
	assert_int_equal(loader_env_add_file(&env, VMGENID_ACPI_RSDP_FILE, rsdp.data,
					     (uint32_t)rsdp.len, false), 0);
	assert_int_equal(loader_env_add_file(&env, VMGENID_ACPI_TABLES_FILE, tables.data,
					     (uint32_t)tables.len, false), 0);
	assert_int_equal(loader_env_run(&env, &loader.script), 0);

	for (a = LOADER_ENV_FSEG_START; a < LOADER_ENV_FSEG_END; a += 16) {
		p = loader_env_ptr(&env, a, 36);
		if (p && !memcmp(p, "RSD PTR ", 8))
			break;
	}
	assert_true(a < LOADER_ENV_FSEG_END);
	xsdt = loader_env_ptr(&env, vmgenid_get_le64(p + 24), 36);
	assert_non_null(xsdt);
	for (i = 36; i + 8 <= vmgenid_get_le32(xsdt + 4); i += 8) {
		uint64_t at = vmgenid_get_le64(xsdt + i);
		const uint8_t *h = loader_env_ptr(&env, at, 36);

		assert_non_null(h);
		if (!memcmp(h, "FACP", 4)) {
			fadt = loader_env_ptr(&env, at, vmgenid_get_le32(h + 4));
			assert_non_null(fadt);
			assert_true(vmgenid_get_le32(fadt + 4) >= 148);
			h = loader_env_ptr(&env, vmgenid_get_le64(fadt + 140), 36);
			assert_non_null(h);
			assert_memory_equal(h, "DSDT", 4);
			/* The DSDT first, as the OS loads it. */
			memmove(t + 1, t, nt * sizeof(t[0]));
			t[0] = (struct aml_reader_table){ "DSDT", h, vmgenid_get_le32(h + 4) };
			nt++;
		} else if (!memcmp(h, "SSDT", 4)) {
			t[nt++] = (struct aml_reader_table){ "SSDT", h, vmgenid_get_le32(h + 4) };
		}
	}
	assert_int_equal(nt, 2);
	assert_memory_equal(t[0].data, "DSDT", 4);

	assert_int_equal(aml_reader_find_vmgenid(t, nt, "\\_SB_.VGEN", &d, &r), 0);
	assert_int_equal(r.ntables, 2);
	assert_int_equal(r.nmalformed, 0);
	assert_int_equal(r.nskipped, 0);
	assert_int_equal(r.nbad_checksum, 0);
	assert_string_equal(d.table, "SSDT");
	assert_string_equal(d.hid, "QEMUVGID");
	assert_true(d.addr_integers);
	assert_true(d.addr != 0x28);
	assert_true(d.addr == vmgenid_get_le64(addr_file));
	assert_true(d.addr == loader_env_addr(&env, VMGENID_DEV_GUID_FILE) + 40);
	assert_int_equal(d.notify_via, AML_READER_NOTIFY_GPE);
	assert_string_equal(d.notify_method, "\\_GPE._E05");

	loader_env_free(&env);
	vmgenid_bios_loader_free(&loader);
	vmgenid_bytebuf_free(&tables);
	vmgenid_bytebuf_free(&rsdp);
	vmgenid_dev_free(dev);
}

/*
 * iasl -f output for QEMU's SSDT written with Add into an Index target
 * (what iasl also emits for ASL+ "Local0[Zero] = VGIA + 0x28"):
 *
 *   DefinitionBlock ("", "SSDT", 1, "BOCHS ", "VMGENID", 0x00000001)
 *   {
 *       Name (VGIA, 0x07FFF000)
 *       Scope (\_SB) {
 *           Device (VGEN) {
 *               Name (_HID, "QEMUVGID")
 *               Name (_CID, "VM_Gen_Counter")
 *               Name (_DDN, "VM_Gen_Counter")
 *               Method (_STA, 0, NotSerialized) {
 *                   Store (0x0F, Local0)
 *                   If (LEqual (VGIA, Zero)) { Store (Zero, Local0) }
 *                   Return (Local0)
 *               }
 *               Method (ADDR, 0, NotSerialized) {
 *                   Store (Package (0x02) {}, Local0)
 *                   Add (VGIA, 0x28, Index (Local0, Zero))
 *                   Store (Zero, Index (Local0, One))
 *                   Return (Local0)
 *               }
 *           }
 *       }
 *       Method (\_GPE._E05, 0, NotSerialized) { Notify (\_SB.VGEN, 0x80) }
 *   }
 */
static const uint8_t iasl_add_into_index[] = {
	0x53, 0x53, 0x44, 0x54, 0xc8, 0x00, 0x00, 0x00, 0x01, 0x3d, 0x42, 0x4f,
	0x43, 0x48, 0x53, 0x20, 0x56, 0x4d, 0x47, 0x45, 0x4e, 0x49, 0x44, 0x00,
	0x01, 0x00, 0x00, 0x00, 0x49, 0x4e, 0x54, 0x4c, 0x25, 0x09, 0x20, 0x20,
	0x08, 0x56, 0x47, 0x49, 0x41, 0x0c, 0x00, 0xf0, 0xff, 0x07, 0x10, 0x4f,
	0x07, 0x5c, 0x5f, 0x53, 0x42, 0x5f, 0x5b, 0x82, 0x46, 0x07, 0x56, 0x47,
	0x45, 0x4e, 0x08, 0x5f, 0x48, 0x49, 0x44, 0x0d, 0x51, 0x45, 0x4d, 0x55,
	0x56, 0x47, 0x49, 0x44, 0x00, 0x08, 0x5f, 0x43, 0x49, 0x44, 0x0d, 0x56,
	0x4d, 0x5f, 0x47, 0x65, 0x6e, 0x5f, 0x43, 0x6f, 0x75, 0x6e, 0x74, 0x65,
	0x72, 0x00, 0x08, 0x5f, 0x44, 0x44, 0x4e, 0x0d, 0x56, 0x4d, 0x5f, 0x47,
	0x65, 0x6e, 0x5f, 0x43, 0x6f, 0x75, 0x6e, 0x74, 0x65, 0x72, 0x00, 0x14,
	0x17, 0x5f, 0x53, 0x54, 0x41, 0x00, 0x70, 0x0a, 0x0f, 0x60, 0xa0, 0x0a,
	0x93, 0x56, 0x47, 0x49, 0x41, 0x00, 0x70, 0x00, 0x60, 0xa4, 0x60, 0x14,
	0x1e, 0x41, 0x44, 0x44, 0x52, 0x00, 0x70, 0x12, 0x02, 0x02, 0x60, 0x72,
	0x56, 0x47, 0x49, 0x41, 0x0a, 0x28, 0x88, 0x60, 0x00, 0x00, 0x70, 0x00,
	0x88, 0x60, 0x01, 0x00, 0xa4, 0x60, 0x14, 0x19, 0x5c, 0x2e, 0x5f, 0x47,
	0x50, 0x45, 0x5f, 0x45, 0x30, 0x35, 0x00, 0x86, 0x5c, 0x2e, 0x5f, 0x53,
	0x42, 0x5f, 0x56, 0x47, 0x45, 0x4e, 0x0a, 0x80,
};

static void test_iasl_add_into_index(void **state)
{
	struct aml_reader_device d;
	struct aml_reader_report r;

	(void)state;
	assert_int_equal(find(iasl_add_into_index, sizeof(iasl_add_into_index), "SSDT", &d, &r),
			 0);
	assert_int_equal(r.nbad_checksum, 0);
	assert_int_equal(r.nskipped, 0);
	assert_int_equal(d.addr_status, 0);
	assert_true(d.addr == VGIA + 0x28);
	assert_int_equal(d.notify_via, AML_READER_NOTIFY_GPE);
	assert_string_equal(d.notify_method, "\\_GPE._E05");
}

/*
 * iasl -f output for a 64-bit address split into its halves (revision 2,
 * so integers are 64 bits):
 *
 *   DefinitionBlock ("", "SSDT", 2, "VMGNID", "HIGHADDR", 0x00000001)
 *   {
 *       Name (VGIA, 0x0000000123456000)
 *       Scope (\_SB) {
 *           Device (VGEN) {
 *               Name (_HID, "QEMUVGID")
 *               Name (_CID, "VM_Gen_Counter")
 *               Method (ADDR, 0, NotSerialized) {
 *                   Local0 = Package (0x02) {}
 *                   Local0 [Zero] = ((VGIA & 0xFFFFFFFF) + 0x28)
 *                   Local0 [One] = (VGIA >> 0x20)
 *                   Return (Local0)
 *               }
 *           }
 *       }
 *   }
 */
static const uint8_t iasl_high_address[] = {
	0x53, 0x53, 0x44, 0x54, 0x91, 0x00, 0x00, 0x00, 0x02, 0xa3, 0x56, 0x4d,
	0x47, 0x4e, 0x49, 0x44, 0x48, 0x49, 0x47, 0x48, 0x41, 0x44, 0x44, 0x52,
	0x01, 0x00, 0x00, 0x00, 0x49, 0x4e, 0x54, 0x4c, 0x25, 0x09, 0x20, 0x20,
	0x08, 0x56, 0x47, 0x49, 0x41, 0x0e, 0x00, 0x60, 0x45, 0x23, 0x01, 0x00,
	0x00, 0x00, 0x10, 0x4e, 0x05, 0x5c, 0x5f, 0x53, 0x42, 0x5f, 0x5b, 0x82,
	0x45, 0x05, 0x56, 0x47, 0x45, 0x4e, 0x08, 0x5f, 0x48, 0x49, 0x44, 0x0d,
	0x51, 0x45, 0x4d, 0x55, 0x56, 0x47, 0x49, 0x44, 0x00, 0x08, 0x5f, 0x43,
	0x49, 0x44, 0x0d, 0x56, 0x4d, 0x5f, 0x47, 0x65, 0x6e, 0x5f, 0x43, 0x6f,
	0x75, 0x6e, 0x74, 0x65, 0x72, 0x00, 0x14, 0x2a, 0x41, 0x44, 0x44, 0x52,
	0x00, 0x70, 0x12, 0x02, 0x02, 0x60, 0x72, 0x7b, 0x56, 0x47, 0x49, 0x41,
	0x0c, 0xff, 0xff, 0xff, 0xff, 0x00, 0x0a, 0x28, 0x88, 0x60, 0x00, 0x00,
	0x7a, 0x56, 0x47, 0x49, 0x41, 0x0a, 0x20, 0x88, 0x60, 0x01, 0x00, 0xa4,
	0x60,
};

static void test_iasl_high_address(void **state)
{
	struct aml_reader_device d;

	(void)state;
	assert_int_equal(find(iasl_high_address, sizeof(iasl_high_address), "SSDT", &d, NULL), 0);
	assert_int_equal(d.addr_status, 0);
	assert_true(d.addr == 0x123456028ull);
	/* No GPE method and no GED in this table. */
	assert_int_equal(d.notify_via, AML_READER_NOTIFY_NONE);
	assert_string_equal(d.notify_method, "");
}

/* Method variants: a package in a Name of the method, a Local holding the sum. */
static void test_method_variants(void **state)
{
	struct vmgenid_aml_ctx *ctx = vmgenid_aml_ctx_new();
	struct vmgenid_aml *body = vmgenid_aml_block(ctx);
	struct vmgenid_aml *sb = vmgenid_aml_scope(ctx, "\\_SB");
	struct vmgenid_aml *dev = vgen_device(ctx, "VGEN", "VMGENCTR", NULL);
	struct vmgenid_aml *m = vmgenid_aml_method(ctx, "ADDR", 0, true);
	struct vmgenid_aml *pkg = vmgenid_aml_package(ctx, 2);
	struct vmgenid_bytebuf b;
	struct aml_reader_device d;

	(void)state;
	vmgenid_aml_append(body, vmgenid_aml_name_decl(ctx, "VGIA", vmgenid_aml_dword(ctx, VGIA)));
	/* Name (PKG, Package {0, 0}); Add (VGIA, 0x100, Local1);
	 * Store (Local1, Index (PKG, 0)); Return (PKG) */
	vmgenid_aml_append(pkg, vmgenid_aml_zero(ctx));
	vmgenid_aml_append(pkg, vmgenid_aml_zero(ctx));
	vmgenid_aml_append(m, vmgenid_aml_name_decl(ctx, "PKG", pkg));
	vmgenid_aml_append(m, vmgenid_aml_add(ctx, vmgenid_aml_name(ctx, "VGIA"), vmgenid_aml_int(ctx, 0x100), vmgenid_aml_local(ctx, 1)));
	vmgenid_aml_append(m, vmgenid_aml_store(ctx, vmgenid_aml_local(ctx, 1),
				vmgenid_aml_index(ctx, vmgenid_aml_name(ctx, "PKG"), vmgenid_aml_zero(ctx), NULL)));
	vmgenid_aml_append(m, vmgenid_aml_return(ctx, vmgenid_aml_name(ctx, "PKG")));
	vmgenid_aml_append(dev, m);
	vmgenid_aml_append(sb, dev);
	vmgenid_aml_append(body, sb);
	build_table(&b, ctx, body, "SSDT", 1);

	assert_int_equal(find(b.data, b.len, "SSDT", &d, NULL), 0);
	assert_string_equal(d.hid, "VMGENCTR");
	assert_int_equal(d.addr_status, 0);
	assert_true(d.addr == VGIA + 0x100);
	vmgenid_bytebuf_free(&b);
}

/* --- Name (ADDR, Package {lo, hi}): Firecracker and this machine ----------- */

static void test_name_package(void **state)
{
	struct vmgenid_aml_ctx *ctx = vmgenid_aml_ctx_new();
	struct vmgenid_aml *body = vmgenid_aml_block(ctx);
	struct vmgenid_aml *dev = vgen_device(ctx, "\\_SB.VGEN", "VMGENCTR", "VM_Gen_Counter");
	struct aml_reader_device d;
	struct aml_reader_report r;
	struct vmgenid_bytebuf b;

	(void)state;
	vmgenid_aml_append(dev, addr_name_package(ctx, 0x12345678u, 0x9));
	vmgenid_aml_append(body, dev);
	vmgenid_aml_append(body, ged_device(ctx, "\\_SB.VGEN"));
	build_table(&b, ctx, body, "DSDT", 2);

	assert_int_equal(find(b.data, b.len, "DSDT", &d, &r), 0);
	assert_int_equal(d.addr_form, AML_READER_ADDR_NAME);
	assert_true(d.addr == 0x912345678ull);
	assert_int_equal(d.notify_via, AML_READER_NOTIFY_GED);
	assert_string_equal(d.notify_method, "\\_SB_.GED_._EVT");
	assert_int_equal(r.nskipped, 0);
	vmgenid_bytebuf_free(&b);
}

/*
 * The shape of this development machine's own DSDT (a Firecracker-style
 * VMM): relative two-segment device names at the root, DWord package
 * elements even for 0, a VMCLOCK device and a GED whose _EVT notifies both.
 * (The real VCLK _CRS is a QWordMemory; Memory32Fixed stands in for it.)
 */
static void test_this_machine_dsdt_shape(void **state)
{
	static const struct vmgenid_acpi_table_id id = { "FIRECK", "FCVMDSDT", 0, "FCAT", 0x20240119 };
	struct vmgenid_aml_ctx *ctx = vmgenid_aml_ctx_new();
	struct vmgenid_aml *body = vmgenid_aml_block(ctx);
	struct vmgenid_aml *vgen = vgen_device(ctx, "_SB.VGEN", "VMGENCTR", "VM_Gen_Counter");
	struct vmgenid_aml *vclk = vgen_device(ctx, "_SB.VCLK", "AMZNC10C", "VMCLOCK");
	struct vmgenid_aml *sta = vmgenid_aml_method(ctx, "_STA", 0, false);
	struct vmgenid_aml *crs = vmgenid_aml_resource_template(ctx);
	struct vmgenid_aml *ged = vmgenid_aml_device(ctx, "_SB.GED");
	struct vmgenid_aml *ged_crs = vmgenid_aml_resource_template(ctx);
	struct vmgenid_aml *evt = vmgenid_aml_method(ctx, "_EVT", 1, true);
	struct vmgenid_aml *on5 = vmgenid_aml_if(ctx, vmgenid_aml_equal(ctx, vmgenid_aml_arg(ctx, 0), vmgenid_aml_int(ctx, 5)));
	struct vmgenid_aml *on6 = vmgenid_aml_if(ctx, vmgenid_aml_equal(ctx, vmgenid_aml_arg(ctx, 0), vmgenid_aml_int(ctx, 6)));
	struct aml_reader_device d;
	struct aml_reader_report r;
	struct vmgenid_bytebuf b;
	size_t start;

	(void)state;
	vmgenid_aml_append(vgen, vmgenid_aml_name_decl(ctx, "_DDN", vmgenid_aml_string(ctx, "VM_Gen_Counter")));
	vmgenid_aml_append(vgen, addr_name_package(ctx, 0x000DFFF0u, 0));
	vmgenid_aml_append(body, vgen);

	vmgenid_aml_append(vclk, vmgenid_aml_name_decl(ctx, "_DDN", vmgenid_aml_string(ctx, "VMCLOCK")));
	vmgenid_aml_append(sta, vmgenid_aml_return(ctx, vmgenid_aml_int(ctx, 0x0F)));
	vmgenid_aml_append(vclk, sta);
	vmgenid_aml_append(crs, vmgenid_aml_memory32_fixed(ctx, false, 0xDE000, 0x1000));
	vmgenid_aml_append(vclk, vmgenid_aml_name_decl(ctx, "_CRS", crs));
	vmgenid_aml_append(body, vclk);

	vmgenid_aml_append(ged, vmgenid_aml_name_decl(ctx, "_HID", vmgenid_aml_string(ctx, "ACPI0013")));
	vmgenid_aml_append(ged_crs, vmgenid_aml_interrupt(ctx, VMGENID_AML_INT_CONSUMER | VMGENID_AML_INT_EDGE, 5));
	vmgenid_aml_append(ged_crs, vmgenid_aml_interrupt(ctx, VMGENID_AML_INT_CONSUMER | VMGENID_AML_INT_EDGE, 6));
	vmgenid_aml_append(ged, vmgenid_aml_name_decl(ctx, "_CRS", ged_crs));
	vmgenid_aml_append(on5, vmgenid_aml_notify(ctx, vmgenid_aml_name(ctx, "\\_SB.VGEN"), vmgenid_aml_int(ctx, 0x80)));
	vmgenid_aml_append(on6, vmgenid_aml_notify(ctx, vmgenid_aml_name(ctx, "\\_SB.VCLK"), vmgenid_aml_int(ctx, 0x80)));
	vmgenid_aml_append(evt, on5);
	vmgenid_aml_append(evt, on6);
	vmgenid_aml_append(ged, evt);
	vmgenid_aml_append(body, ged);

	vmgenid_bytebuf_init(&b);
	start = vmgenid_acpi_table_begin(&b, "DSDT", 2, &id);
	assert_int_equal(vmgenid_aml_serialize(ctx, body, &b), 0);
	vmgenid_acpi_table_end(&b, start);
	vmgenid_aml_ctx_free(ctx);

	assert_int_equal(find(b.data, b.len, "DSDT", &d, &r), 0);
	assert_string_equal(d.path, "\\_SB_.VGEN");
	assert_string_equal(d.hid, "VMGENCTR");
	assert_string_equal(d.cid[0], "VM_Gen_Counter");
	assert_int_equal(d.addr_form, AML_READER_ADDR_NAME);
	assert_true(d.addr == 0xDFFF0);
	assert_int_equal(d.notify_via, AML_READER_NOTIFY_GED);
	assert_string_equal(d.notify_method, "\\_SB_.GED_._EVT");
	assert_int_equal(r.nmalformed + r.nskipped + r.nbad_checksum, 0);
	vmgenid_bytebuf_free(&b);
}

/* Hyper-V: _HID MSFT1002, a _CID package, ADDR from operation region fields. */
static void test_hyperv_fields_unsupported(void **state)
{
	struct vmgenid_aml_ctx *ctx = vmgenid_aml_ctx_new();
	struct vmgenid_aml *body = vmgenid_aml_block(ctx);
	struct vmgenid_aml *dev = vgen_device(ctx, "\\_SB.GENC", "MSFT1002", NULL);
	struct vmgenid_aml *cids = vmgenid_aml_package(ctx, 3);
	struct vmgenid_aml *field = vmgenid_aml_field(ctx, "GCRG", VMGENID_AML_DWORD_ACC, false, VMGENID_AML_PRESERVE);
	struct vmgenid_aml *m = vmgenid_aml_method(ctx, "ADDR", 0, false);
	struct vmgenid_aml *pkg = vmgenid_aml_package(ctx, 2);
	struct aml_reader_device d;
	struct aml_reader_error e;
	struct vmgenid_bytebuf b;
	uint64_t addr = 0;

	(void)state;
	vmgenid_aml_append(body, vmgenid_aml_operation_region(ctx, "GCRG", VMGENID_AML_SYSTEM_MEMORY,
					      vmgenid_aml_dword(ctx, 0xFED40000u), vmgenid_aml_int(ctx, 8)));
	vmgenid_aml_append(field, vmgenid_aml_named_field(ctx, "GCAL", 32));
	vmgenid_aml_append(field, vmgenid_aml_named_field(ctx, "GCAH", 32));
	vmgenid_aml_append(body, field);
	vmgenid_aml_append(cids, vmgenid_aml_string(ctx, "VM_Gen_Counter"));
	vmgenid_aml_append(cids, vmgenid_aml_string(ctx, "VMGENCTR"));
	vmgenid_aml_append(cids, vmgenid_aml_string(ctx, "Hyper_V_Gen_Counter_V1"));
	vmgenid_aml_append(dev, vmgenid_aml_name_decl(ctx, "_CID", cids));
	vmgenid_aml_append(pkg, vmgenid_aml_zero(ctx));
	vmgenid_aml_append(pkg, vmgenid_aml_zero(ctx));
	vmgenid_aml_append(m, vmgenid_aml_name_decl(ctx, "LPKG", pkg));
	vmgenid_aml_append(m, vmgenid_aml_store(ctx, vmgenid_aml_name(ctx, "GCAL"),
				vmgenid_aml_index(ctx, vmgenid_aml_name(ctx, "LPKG"), vmgenid_aml_zero(ctx), NULL)));
	vmgenid_aml_append(m, vmgenid_aml_store(ctx, vmgenid_aml_name(ctx, "GCAH"),
				vmgenid_aml_index(ctx, vmgenid_aml_name(ctx, "LPKG"), vmgenid_aml_one(ctx), NULL)));
	vmgenid_aml_append(m, vmgenid_aml_return(ctx, vmgenid_aml_name(ctx, "LPKG")));
	vmgenid_aml_append(dev, m);
	vmgenid_aml_append(body, dev);
	build_table(&b, ctx, body, "DSDT", 2);

	assert_int_equal(find(b.data, b.len, "DSDT", &d, NULL), 0);
	assert_string_equal(d.hid, "MSFT1002");
	assert_int_equal(d.ncid, 3);
	assert_string_equal(d.cid[2], "Hyper_V_Gen_Counter_V1");
	assert_int_equal(d.addr_status, -ENOTSUP);
	assert_int_equal(addr_of(b.data, b.len, &addr, &e), -ENOTSUP);
	assert_contains(e.msg, "\\GCAL");
	assert_contains(e.msg, "field");
	assert_string_equal(e.table, "DSDT");
	assert_true(e.offset > 36 && e.offset < b.len);
	assert_true(addr == 0);
	vmgenid_bytebuf_free(&b);
}

/* --- Identification ------------------------------------------------------- */

static void test_ids(void **state)
{
	(void)state;
	assert_true(aml_reader_is_vmgenid_id("QEMUVGID"));
	assert_true(aml_reader_is_vmgenid_id("VMGENCTR"));
	assert_true(aml_reader_is_vmgenid_id("VM_Gen_Counter"));
	assert_true(aml_reader_is_vmgenid_id("VM_GEN_COUNTER"));
	assert_true(aml_reader_is_vmgenid_id("vm_gen_counter"));
	assert_true(aml_reader_is_vmgenid_id("HYPER_V_GEN_COUNTER_V1"));
	assert_false(aml_reader_is_vmgenid_id("PNP0A03"));
	assert_false(aml_reader_is_vmgenid_id("VM_Gen_Counte"));
	assert_false(aml_reader_is_vmgenid_id(""));
	assert_false(aml_reader_is_vmgenid_id(NULL));
}

/* Two candidates: the first wins, unless sysfs named the other; EISA ids read. */
static void test_choice_and_eisa_ids(void **state)
{
	struct vmgenid_aml_ctx *ctx = vmgenid_aml_ctx_new();
	struct vmgenid_aml *body = vmgenid_aml_block(ctx);
	struct vmgenid_aml *a = vmgenid_aml_device(ctx, "\\_SB.VGEA");
	struct vmgenid_aml *b2 = vgen_device(ctx, "\\_SB.VGEB", "QEMUVGID", NULL);
	struct aml_reader_table t;
	struct aml_reader_device d;
	struct vmgenid_bytebuf b;

	(void)state;
	vmgenid_aml_append(a, vmgenid_aml_name_decl(ctx, "_HID", vmgenid_aml_eisaid(ctx, "PNP0A08")));
	vmgenid_aml_append(a, vmgenid_aml_name_decl(ctx, "_CID", vmgenid_aml_string(ctx, "VM_GEN_COUNTER")));
	vmgenid_aml_append(a, addr_name_package(ctx, 0x1000, 0));
	vmgenid_aml_append(b2, addr_name_package(ctx, 0x2000, 0));
	vmgenid_aml_append(body, a);
	vmgenid_aml_append(body, b2);
	build_table(&b, ctx, body, "DSDT", 2);
	t = (struct aml_reader_table){ "DSDT", b.data, b.len };

	assert_int_equal(aml_reader_find_vmgenid(&t, 1, NULL, &d, NULL), 0);
	assert_string_equal(d.path, "\\_SB_.VGEA");
	assert_string_equal(d.hid, "PNP0A08");
	assert_true(d.addr == 0x1000);
	assert_int_equal(aml_reader_find_vmgenid(&t, 1, "\\_SB_.VGEB", &d, NULL), 0);
	assert_string_equal(d.path, "\\_SB_.VGEB");
	assert_true(d.addr == 0x2000);
	assert_int_equal(aml_reader_find_vmgenid(&t, 1, "\\_SB_.NONE", &d, NULL), 0);
	assert_string_equal(d.path, "\\_SB_.VGEA");
	vmgenid_bytebuf_free(&b);
}

static void test_no_device_and_no_addr(void **state)
{
	struct vmgenid_aml_ctx *ctx = vmgenid_aml_ctx_new();
	struct vmgenid_aml *body = vmgenid_aml_block(ctx);
	struct vmgenid_aml *pci = vmgenid_aml_device(ctx, "\\_SB.PCI0");
	struct aml_reader_device d;
	struct aml_reader_error e;
	struct vmgenid_bytebuf b;
	uint64_t addr = 0;

	(void)state;
	vmgenid_aml_append(pci, vmgenid_aml_name_decl(ctx, "_HID", vmgenid_aml_eisaid(ctx, "PNP0A03")));
	vmgenid_aml_append(body, pci);
	build_table(&b, ctx, body, "DSDT", 2);
	assert_int_equal(find(b.data, b.len, "DSDT", &d, NULL), -ENOENT);
	assert_int_equal(addr_of(b.data, b.len, &addr, &e), -ENOENT);
	assert_contains(e.msg, "no VM generation ID device");
	vmgenid_bytebuf_free(&b);

	/* The device, but no ADDR. */
	ctx = vmgenid_aml_ctx_new();
	body = vmgenid_aml_block(ctx);
	vmgenid_aml_append(body, vgen_device(ctx, "\\_SB.VGEN", "QEMUVGID", "VM_Gen_Counter"));
	build_table(&b, ctx, body, "SSDT", 1);
	assert_int_equal(find(b.data, b.len, "SSDT", &d, NULL), 0);
	assert_int_equal(d.addr_form, AML_READER_ADDR_MISSING);
	assert_int_equal(d.addr_status, -ENOENT);
	assert_int_equal(addr_of(b.data, b.len, &addr, &e), -ENOENT);
	assert_contains(e.msg, "\\_SB_.VGEN has no ADDR");
	assert_true(addr == 0);
	vmgenid_bytebuf_free(&b);
}

/* --- ADDR that does not yield two integers --------------------------------- */

enum bad_addr {
	BAD_INTEGER,    /* Return (0x1000) */
	BAD_ONE_ELEM,   /* Return (Package (1) {0x1000}) via a Name */
	BAD_STRING,     /* Name (ADDR, Package {"x", 0}) */
	BAD_IF,         /* If (...) in ADDR */
	BAD_NO_RETURN,
	BAD_UNSET_LOCAL,
	BAD_INDEX,      /* Store (0, Index (Local0, 5)) on a package of 2 */
	BAD_ARGS,       /* Method (ADDR, 1) */
};

static void bad_addr_table(struct vmgenid_bytebuf *b, enum bad_addr kind)
{
	struct vmgenid_aml_ctx *ctx = vmgenid_aml_ctx_new();
	struct vmgenid_aml *body = vmgenid_aml_block(ctx);
	struct vmgenid_aml *dev = vgen_device(ctx, "\\_SB.VGEN", "QEMUVGID", NULL);
	struct vmgenid_aml *m = vmgenid_aml_method(ctx, "ADDR", kind == BAD_ARGS ? 1 : 0, false);
	struct vmgenid_aml *pkg;

	switch (kind) {
	case BAD_INTEGER:
		vmgenid_aml_append(m, vmgenid_aml_return(ctx, vmgenid_aml_int(ctx, 0x1000)));
		break;
	case BAD_ONE_ELEM:
		pkg = vmgenid_aml_package(ctx, 1);
		vmgenid_aml_append(pkg, vmgenid_aml_int(ctx, 0x1000));
		vmgenid_aml_append(m, vmgenid_aml_name_decl(ctx, "ONE", pkg));
		vmgenid_aml_append(m, vmgenid_aml_return(ctx, vmgenid_aml_name(ctx, "ONE")));
		break;
	case BAD_STRING:
		pkg = vmgenid_aml_package(ctx, 2);
		vmgenid_aml_append(pkg, vmgenid_aml_string(ctx, "x"));
		vmgenid_aml_append(pkg, vmgenid_aml_zero(ctx));
		m = vmgenid_aml_name_decl(ctx, "ADDR", pkg);
		break;
	case BAD_IF: {
		struct vmgenid_aml *cond = vmgenid_aml_if(ctx, vmgenid_aml_equal(ctx, vmgenid_aml_one(ctx), vmgenid_aml_one(ctx)));

		vmgenid_aml_append(cond, vmgenid_aml_return(ctx, vmgenid_aml_int(ctx, 1)));
		vmgenid_aml_append(m, cond);
		break;
	}
	case BAD_NO_RETURN:
		vmgenid_aml_append(m, vmgenid_aml_store(ctx, vmgenid_aml_one(ctx), vmgenid_aml_local(ctx, 0)));
		break;
	case BAD_UNSET_LOCAL:
		vmgenid_aml_append(m, vmgenid_aml_return(ctx, vmgenid_aml_local(ctx, 3)));
		break;
	case BAD_INDEX:
		vmgenid_aml_append(m, vmgenid_aml_store(ctx, vmgenid_aml_package(ctx, 2), vmgenid_aml_local(ctx, 0)));
		vmgenid_aml_append(m, vmgenid_aml_store(ctx, vmgenid_aml_zero(ctx),
					vmgenid_aml_index(ctx, vmgenid_aml_local(ctx, 0), vmgenid_aml_int(ctx, 5), NULL)));
		vmgenid_aml_append(m, vmgenid_aml_return(ctx, vmgenid_aml_local(ctx, 0)));
		break;
	case BAD_ARGS:
		vmgenid_aml_append(m, vmgenid_aml_return(ctx, vmgenid_aml_arg(ctx, 0)));
		break;
	}
	vmgenid_aml_append(dev, m);
	vmgenid_aml_append(body, dev);
	build_table(b, ctx, body, "DSDT", 2);
}

static void test_addr_wrong_shapes(void **state)
{
	static const struct {
		enum bad_addr kind;
		int err;
		const char *says;
	} cases[] = {
		{ BAD_INTEGER, -EINVAL, "an integer, not a package" },
		{ BAD_ONE_ELEM, -EINVAL, "package of 1 elements, not two integers" },
		{ BAD_STRING, -EINVAL, "package of 2 elements, not two integers" },
		{ BAD_IF, -ENOTSUP, "uses If" },
		{ BAD_NO_RETURN, -EINVAL, "without returning" },
		{ BAD_UNSET_LOCAL, -EINVAL, "Local3 before setting it" },
		{ BAD_INDEX, -EINVAL, "Index 5 is outside the package of 2" },
		{ BAD_ARGS, -ENOTSUP, "takes 1 arguments" },
	};
	struct aml_reader_error e;
	struct vmgenid_bytebuf b;
	uint64_t addr;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bad_addr_table(&b, cases[i].kind);
		addr = 0;
		assert_int_equal(addr_of(b.data, b.len, &addr, &e), cases[i].err);
		assert_contains(e.msg, cases[i].says);
		assert_string_equal(e.table, "DSDT");
		assert_true(e.offset >= 36 && e.offset < b.len);
		assert_true(addr == 0);
		vmgenid_bytebuf_free(&b);
	}
}

/* --- Truncated tables -------------------------------------------------------- */

/*
 * Every prefix of our SSDT: cut as it is (the header still claims the full
 * length) it is refused as truncated; with the header's length shrunk to
 * match, the only prefix that yields a device is the one that ends exactly
 * after Scope (\_SB), and it yields the right address.  Everything else is
 * malformed (with an offset inside the prefix) or has no device yet.
 */
static void test_truncated_every_prefix(void **state)
{
	struct aml_reader_device d;
	struct aml_reader_report r;
	struct aml_reader_error e;
	struct vmgenid_bytebuf b;
	unsigned int whole = 0;
	uint64_t addr;
	uint8_t *cut;
	size_t len;
	int ret;

	(void)state;
	vmgenid_bytebuf_init(&b);
	assert_int_equal(vmgenid_dev_build_ssdt(&b, VGIA, NULL), 0);
	for (len = 0; len < b.len; len++) {
		/* Exactly len bytes on the heap, so ASan sees any overread. */
		cut = malloc(len ? len : 1);
		assert_non_null(cut);
		memcpy(cut, b.data, len);
		assert_int_equal(addr_of(cut, len, &addr, &e), -EINVAL);
		assert_contains(e.msg, len < 36 ? "shorter than the 36-byte table header"
						: "truncated");
		if (len < 36) {
			free(cut);
			continue;
		}

		vmgenid_put_le32(cut + 4, (uint32_t)len);
		cut[9] = 0;
		cut[9] = vmgenid_acpi_checksum(cut, len);
		ret = find(cut, len, "SSDT", &d, &r);
		if (ret == 0) {
			/* Only a cut right before Method (\_GPE._E05) leaves the
			 * device whole; it has no notify path then. */
			whole++;
			assert_int_equal(b.data[len], 0x14);
			assert_true(d.addr_integers);
			assert_true(d.addr == VGIA + 0x28);
			assert_int_equal(d.notify_via, AML_READER_NOTIFY_NONE);
		} else if (r.nmalformed) {
			assert_int_equal(ret, -ENOENT);
			assert_string_equal(r.malformed.table, "SSDT");
			assert_true(r.malformed.offset >= 36 && r.malformed.offset <= len);
			assert_true(r.malformed.msg[0] != '\0');
			assert_int_equal(addr_of(cut, len, &addr, &e), -EINVAL);
			assert_true(e.offset == r.malformed.offset);
		} else {
			/* No device yet: an empty body, or a cut before Scope (\_SB). */
			assert_int_equal(ret, -ENOENT);
			assert_true(len == 36 || b.data[len] == 0x10);
		}
		free(cut);
	}
	assert_int_equal(whole, 1);
	vmgenid_bytebuf_free(&b);
}

/* The Firecracker-style DSDT cut everywhere: never a device with a wrong ADDR. */
static void test_truncated_name_package(void **state)
{
	struct vmgenid_aml_ctx *ctx = vmgenid_aml_ctx_new();
	struct vmgenid_aml *body = vmgenid_aml_block(ctx);
	struct vmgenid_aml *dev = vgen_device(ctx, "_SB.VGEN", "VMGENCTR", "VM_Gen_Counter");
	struct aml_reader_device d;
	struct vmgenid_bytebuf b;
	uint8_t *cut;
	size_t len;
	int ret;

	(void)state;
	vmgenid_aml_append(dev, addr_name_package(ctx, 0xDFFF0, 0));
	vmgenid_aml_append(body, dev);
	vmgenid_aml_append(body, ged_device(ctx, "\\_SB.VGEN"));
	build_table(&b, ctx, body, "DSDT", 2);
	for (len = 36; len <= b.len; len++) {
		cut = malloc(len);
		assert_non_null(cut);
		memcpy(cut, b.data, len);
		vmgenid_put_le32(cut + 4, (uint32_t)len);
		ret = find(cut, len, "DSDT", &d, NULL);
		if (ret == 0) {
			assert_true(d.addr_integers);
			assert_true(d.addr == 0xDFFF0);
		}
		free(cut);
	}
	vmgenid_bytebuf_free(&b);
}

/* --- Hostile PkgLengths and names ---------------------------------------------- */

static void test_hostile_lengths(void **state)
{
	/* DSDT bodies; offsets are from the start of the table (body at 36). */
	static const struct {
		const char *what;
		uint8_t body[48];
		size_t len;
		size_t offset;
		const char *says;
	} cases[] = {
		{ "Scope longer than the table", { 0x10, 0x3F, 0x5C, 0x00 }, 4, 37,
		  "goes past the end" },
		{ "PkgLength lead byte with reserved bits", { 0x10, 0x70, 0x00, 0x5C, 0x00 }, 5, 37,
		  "reserved bits" },
		{ "PkgLength of zero", { 0x10, 0x00, 0x5C }, 3, 37, "shorter than its own" },
		{ "4-byte PkgLength of 0x0FFFFFFF", { 0x10, 0xCF, 0xFF, 0xFF, 0xFF, 0x5C, 0x00 }, 7,
		  37, "PkgLength 0xfffffff goes past" },
		/* Scope (\) of 9 bytes holding a Device that claims 0x20: the table
		 * goes on (Noops), the Scope does not. */
		{ "Device longer than its Scope",
		  { 0x10, 0x09, 0x5C, 0x00, 0x5B, 0x82, 0x20, 'V', 'G', 'E', 'N', 0xA3, 0xA3,
		    0xA3, 0xA3, 0xA3, 0xA3, 0xA3, 0xA3, 0xA3, 0xA3, 0xA3, 0xA3, 0xA3, 0xA3, 0xA3,
		    0xA3, 0xA3, 0xA3, 0xA3, 0xA3, 0xA3, 0xA3, 0xA3, 0xA3, 0xA3, 0xA3, 0xA3, 0xA3 },
		  40, 42, "Device at 0x28: PkgLength 0x20 goes past the end of the enclosing "
		  "object (0x4 bytes left)" },
		{ "name cut short", { 0x08, 'V', 'G' }, 3, 37, "name string runs past" },
		{ "MultiNamePrefix of 0 segments", { 0x08, 0x2F, 0x00, 0x00 }, 4, 37,
		  "segment count of 0" },
		{ "MultiNamePrefix past the end", { 0x08, 0x2F, 0xFF, 'A', 'B', 'C', 'D', 0x00 }, 8,
		  39, "name string runs past" },
		{ "bad name character", { 0x08, 'A', 'b', 'C', 'D', 0x00 }, 6, 38,
		  "byte 0x62 is not valid in a name segment" },
		{ "unterminated string", { 0x08, 'A', 'B', 'C', 'D', 0x0D, 'x', 'y' }, 8, 41,
		  "string is not terminated" },
		{ "Package longer than the table",
		  { 0x08, 'A', 'D', 'D', 'R', 0x12, 0x30, 0x02, 0x00 }, 9, 42, "goes past" },
		{ "Name of a non-data object", { 0x08, 'A', 'B', 'C', 'D', 0x70, 0x00, 0x60 }, 8,
		  41, "where a data object" },
		{ "DWord cut short", { 0x08, 'A', 'B', 'C', 'D', 0x0C, 0x01, 0x02 }, 8, 42,
		  "runs past the end" },
		{ "Method longer than the table",
		  { 0x14, 0x20, 'A', 'D', 'D', 'R', 0x00, 0xA4, 0x00 }, 9, 37, "goes past" },
		{ "Scope climbing above the root", { 0x10, 0x06, 0x5E, 'A', 'B', 'C', 'D' }, 7, 36,
		  "above the root" },
	};
	struct aml_reader_report r;
	struct aml_reader_device d;
	struct aml_reader_error e;
	struct vmgenid_bytebuf b;
	uint8_t *copy;
	uint64_t addr;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		raw_table(&b, cases[i].body, cases[i].len);
		copy = malloc(b.len);
		assert_non_null(copy);
		memcpy(copy, b.data, b.len);
		print_message("# %s\n", cases[i].what);
		assert_int_equal(find(copy, b.len, "DSDT", &d, &r), -ENOENT);
		assert_int_equal(r.nmalformed, 1);
		assert_int_equal(r.ntables, 0);
		assert_int_equal(addr_of(copy, b.len, &addr, &e), -EINVAL);
		assert_string_equal(e.table, "DSDT");
		assert_int_equal(e.offset, cases[i].offset);
		assert_contains(e.msg, cases[i].says);
		free(copy);
		vmgenid_bytebuf_free(&b);
	}
}

/* A PkgLength inside ADDR's body that overruns the method: ADDR's error, not a crash. */
static void test_hostile_length_in_addr(void **state)
{
	static const uint8_t body[] = {
		/* Device (VGEN) { Name (_HID, "QEMUVGID")
		 *   Method (ADDR) { Return (Package with PkgLength 0x3F) } } */
		0x5B, 0x82, 0x21, 'V', 'G', 'E', 'N',
		0x08, '_', 'H', 'I', 'D', 0x0D, 'Q', 'E', 'M', 'U', 'V', 'G', 'I', 'D', 0x00,
		0x14, 0x0C, 'A', 'D', 'D', 'R', 0x00, 0xA4, 0x12, 0x3F, 0x02, 0x00, 0x00,
	};
	struct aml_reader_device d;
	struct aml_reader_report r;
	struct vmgenid_bytebuf b;

	(void)state;
	raw_table(&b, body, sizeof(body));
	assert_int_equal(find(b.data, b.len, "DSDT", &d, &r), 0);
	assert_int_equal(r.nmalformed, 0);
	assert_string_equal(d.path, "\\VGEN");
	assert_int_equal(d.addr_form, AML_READER_ADDR_METHOD);
	assert_int_equal(d.addr_status, -EINVAL);
	assert_int_equal(d.addr_error.offset, 36 + 31);
	assert_contains(d.addr_error.msg, "Package at 0x42: PkgLength 0x3f goes past");
	vmgenid_bytebuf_free(&b);
}

/* An opcode the reader does not know: that container is skipped, noted, and
 * the walk goes on to find the device after it. */
static void test_unknown_opcode_skipped(void **state)
{
	static const uint8_t body[] = {
		/* Scope (\) { <0x5B 0xFE: no such opcode> 1 2 3 } */
		0x10, 0x08, 0x5C, 0x00, 0x5B, 0xFE, 0x01, 0x02, 0x03,
		/* Device (VGEN) { Name (_HID, "VMGENCTR") Name (ADDR, Package {0x10}) } */
		0x5B, 0x82, 0x1F, 'V', 'G', 'E', 'N',
		0x08, '_', 'H', 'I', 'D', 0x0D, 'V', 'M', 'G', 'E', 'N', 'C', 'T', 'R', 0x00,
		0x08, 'A', 'D', 'D', 'R', 0x12, 0x05, 0x02, 0x0A, 0x10, 0x00,
	};
	struct aml_reader_device d;
	struct aml_reader_report r;
	struct vmgenid_bytebuf b;

	(void)state;
	raw_table(&b, body, sizeof(body));
	assert_int_equal(find(b.data, b.len, "DSDT", &d, &r), 0);
	assert_int_equal(r.nmalformed, 0);
	assert_int_equal(r.nskipped, 1);
	assert_int_equal(r.skipped.offset, 40);
	assert_contains(r.skipped.msg, "unknown opcode 0x5bfe");
	assert_true(d.addr == 0x10);
	vmgenid_bytebuf_free(&b);
}

static void test_bad_checksum_reported(void **state)
{
	struct aml_reader_report r;
	struct aml_reader_device d;
	struct vmgenid_bytebuf b;

	(void)state;
	vmgenid_bytebuf_init(&b);
	assert_int_equal(vmgenid_dev_build_ssdt(&b, VGIA, NULL), 0);
	b.data[9] ^= 0x55;
	assert_int_equal(find(b.data, b.len, "SSDT3", &d, &r), 0);
	assert_int_equal(r.nbad_checksum, 1);
	assert_string_equal(r.bad_checksum, "SSDT3");
	assert_true(d.addr == VGIA + 0x28);
	vmgenid_bytebuf_free(&b);
}

/* --- Deep nesting ---------------------------------------------------------------- */

static void test_deep_scopes(void **state)
{
	struct vmgenid_aml_ctx *ctx = vmgenid_aml_ctx_new();
	struct vmgenid_aml *body = vmgenid_aml_block(ctx), *outer, *inner;
	struct aml_reader_report r;
	struct aml_reader_device d;
	struct vmgenid_bytebuf b;
	int i;

	(void)state;
	/* 1000 Scope (\) inside each other: paths stay short, depth does not. */
	outer = vmgenid_aml_scope(ctx, "\\");
	inner = outer;
	for (i = 1; i < 1000; i++) {
		struct vmgenid_aml *s = vmgenid_aml_scope(ctx, "\\");

		vmgenid_aml_append(inner, s);
		inner = s;
	}
	vmgenid_aml_append(inner, vgen_device(ctx, "VGEN", "QEMUVGID", NULL));
	vmgenid_aml_append(body, outer);
	build_table(&b, ctx, body, "DSDT", 2);
	assert_int_equal(find(b.data, b.len, "DSDT", &d, &r), -ENOENT);
	assert_int_equal(r.nmalformed, 1);
	assert_contains(r.malformed.msg, "nested deeper than 48 levels");
	vmgenid_bytebuf_free(&b);

	/* 40 nested relative scopes: the path outgrows 127 characters first. */
	ctx = vmgenid_aml_ctx_new();
	body = vmgenid_aml_block(ctx);
	outer = vmgenid_aml_scope(ctx, "S000");
	inner = outer;
	for (i = 1; i < 40; i++) {
		struct vmgenid_aml *s = vmgenid_aml_device(ctx, "S001");

		vmgenid_aml_append(inner, s);
		inner = s;
	}
	vmgenid_aml_append(body, outer);
	build_table(&b, ctx, body, "DSDT", 2);
	assert_int_equal(find(b.data, b.len, "DSDT", &d, &r), -ENOENT);
	assert_int_equal(r.nmalformed, 1);
	assert_contains(r.malformed.msg, "longer than 127 characters");
	vmgenid_bytebuf_free(&b);
}

static void test_deep_expression_in_addr(void **state)
{
	struct vmgenid_aml_ctx *ctx = vmgenid_aml_ctx_new();
	struct vmgenid_aml *body = vmgenid_aml_block(ctx);
	struct vmgenid_aml *dev = vgen_device(ctx, "\\_SB.VGEN", "QEMUVGID", NULL);
	struct vmgenid_aml *m = vmgenid_aml_method(ctx, "ADDR", 0, false);
	struct vmgenid_aml *expr = vmgenid_aml_int(ctx, 0x1000);
	struct aml_reader_error e;
	struct vmgenid_bytebuf b;
	uint64_t addr;
	int i;

	(void)state;
	for (i = 0; i < 300; i++)
		expr = vmgenid_aml_add(ctx, expr, vmgenid_aml_one(ctx), NULL);
	vmgenid_aml_append(m, vmgenid_aml_return(ctx, expr));
	vmgenid_aml_append(dev, m);
	vmgenid_aml_append(body, dev);
	build_table(&b, ctx, body, "DSDT", 2);
	assert_int_equal(addr_of(b.data, b.len, &addr, &e), -EINVAL);
	assert_contains(e.msg, "ADDR: terms nested deeper than 48 levels");
	vmgenid_bytebuf_free(&b);
}

/* ADDR's package names a Name whose package names ADDR: bounded, then refused. */
static void test_names_referring_to_each_other(void **state)
{
	struct vmgenid_aml_ctx *ctx = vmgenid_aml_ctx_new();
	struct vmgenid_aml *body = vmgenid_aml_block(ctx);
	struct vmgenid_aml *dev = vgen_device(ctx, "\\_SB.VGEN", "QEMUVGID", NULL);
	struct vmgenid_aml *p1 = vmgenid_aml_package(ctx, 2), *p2 = vmgenid_aml_package(ctx, 1);
	struct aml_reader_error e;
	struct vmgenid_bytebuf b;
	uint64_t addr;

	(void)state;
	vmgenid_aml_append(p1, vmgenid_aml_name(ctx, "LOOP"));
	vmgenid_aml_append(p1, vmgenid_aml_zero(ctx));
	vmgenid_aml_append(dev, vmgenid_aml_name_decl(ctx, "ADDR", p1));
	vmgenid_aml_append(p2, vmgenid_aml_name(ctx, "ADDR"));
	vmgenid_aml_append(dev, vmgenid_aml_name_decl(ctx, "LOOP", p2));
	vmgenid_aml_append(body, dev);
	build_table(&b, ctx, body, "DSDT", 2);
	assert_true(addr_of(b.data, b.len, &addr, &e) < 0);
	assert_true(strstr(e.msg, "refer to each other") || strstr(e.msg, "nested"));
	vmgenid_bytebuf_free(&b);
}

/*
 * A method call whose argument declares an object, just as the namespace
 * array is full (the 257th object): the declaration grows the array while
 * the call's argument loop still uses the method it looked up.  Issue 14,
 * item 1: a heap use-after-free under ASan before the fix.
 */
static void test_call_argument_declares_257th_object(void **state)
{
	/* Method (MTHD, 2) {} */
	static const uint8_t method[] = { 0x14, 0x06, 'M', 'T', 'H', 'D', 0x02 };
	/* MTHD (Name (ZZZZ, Zero), Zero) */
	static const uint8_t call[] = { 'M', 'T', 'H', 'D', 0x08, 'Z', 'Z', 'Z', 'Z', 0x00, 0x00 };
	/* Device (VGEN) { Name (_HID, "VMGENCTR") Name (ADDR, Package {0x10, 0}) } */
	static const uint8_t dev[] = {
		0x5B, 0x82, 0x20, 'V', 'G', 'E', 'N',
		0x08, '_', 'H', 'I', 'D', 0x0D, 'V', 'M', 'G', 'E', 'N', 'C', 'T', 'R', 0x00,
		0x08, 'A', 'D', 'D', 'R', 0x12, 0x06, 0x02, 0x0A, 0x10, 0x0A, 0x00,
	};
	struct aml_reader_device d;
	struct aml_reader_report r;
	struct vmgenid_bytebuf body, b;
	unsigned int i;

	(void)state;
	vmgenid_bytebuf_init(&body);
	vmgenid_bytebuf_append(&body, method, sizeof(method));
	/* 255 more: the array (256 slots at first) is full. */
	for (i = 0; i < 255; i++) {
		uint8_t name[] = { 0x08, 'N', (uint8_t)('0' + i / 100), (uint8_t)('0' + i / 10 % 10),
				   (uint8_t)('0' + i % 10), 0x00 };

		vmgenid_bytebuf_append(&body, name, sizeof(name));
	}
	vmgenid_bytebuf_append(&body, call, sizeof(call));
	vmgenid_bytebuf_append(&body, dev, sizeof(dev));
	assert_false(vmgenid_bytebuf_failed(&body));
	raw_table(&b, body.data, body.len);
	assert_int_equal(find(b.data, b.len, "DSDT", &d, &r), 0);
	assert_int_equal(r.nmalformed, 0);
	assert_int_equal(r.ntables, 1);
	assert_string_equal(d.path, "\\VGEN");
	assert_true(d.addr == 0x10);
	vmgenid_bytebuf_free(&b);
	vmgenid_bytebuf_free(&body);
}

/* --- Work bounds ------------------------------------------------------------ */

/* opcode (1 or 2 bytes), a PkgLength of 1 to 4 bytes, the 4-byte name, body. */
static void put_named_pkg(struct vmgenid_bytebuf *out, const uint8_t *op, size_t oplen, const char *name,
			  const uint8_t *body, size_t len)
{
	size_t total = 4 + len, n = 1;
	uint8_t pkg[4];
	unsigned int i;

	/* The PkgLength counts its own bytes. */
	while (n < 4 && total + n > (n == 1 ? 0x3Fu : (1u << (4 + 8 * (n - 1)))) - 1)
		n++;
	total += n;
	if (n == 1) {
		pkg[0] = (uint8_t)total;
	} else {
		pkg[0] = (uint8_t)((n - 1) << 6 | (total & 0x0F));
		for (i = 1; i < n; i++)
			pkg[i] = (uint8_t)(total >> (4 + 8 * (i - 1)));
	}
	vmgenid_bytebuf_append(out, op, oplen);
	vmgenid_bytebuf_append(out, pkg, n);
	vmgenid_bytebuf_append(out, name, 4);
	vmgenid_bytebuf_append(out, body, len);
}

/* body wrapped in depth nested Scope (Sxxx) { ... }. */
static void nest_scopes(struct vmgenid_bytebuf *body, unsigned int depth)
{
	static const uint8_t scope_op[] = { 0x10 };
	unsigned int i;

	for (i = 0; i < depth; i++) {
		struct vmgenid_bytebuf outer;
		char name[5];

		snprintf(name, sizeof(name), "S%03u", (depth - 1 - i) % 1000);
		vmgenid_bytebuf_init(&outer);
		put_named_pkg(&outer, scope_op, 1, name, body->data, body->len);
		assert_false(vmgenid_bytebuf_failed(&outer));
		vmgenid_bytebuf_free(body);
		*body = outer;
	}
}

/* A 4-character name from a number: F plus three base-36 digits. */
static void field_name(unsigned int i, char out[5])
{
	static const char digits[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";

	out[0] = 'F';
	out[1] = digits[i / 1296 % 36];
	out[2] = digits[i / 36 % 36];
	out[3] = digits[i % 36];
	out[4] = '\0';
}

/*
 * The table: 26,000 field units at the root (130 KB), then 2,000
 * references to them from 20 scopes down.  Each reference searches 21
 * scopes; a scan of every object per scope was 1.1 billion name
 * comparisons (2 to 4 s).  Indexed, it is a few slots per scope.
 * (Issue 14, item 6.)
 */
static void test_many_names_deep_references(void **state)
{
	static const uint8_t region[] = {
		/* OperationRegion (OPR0, SystemMemory, Zero, 0x1000) */
		0x5B, 0x80, 'O', 'P', 'R', '0', 0x00, 0x00, 0x0B, 0x00, 0x10,
	};
	static const uint8_t field_op[] = { 0x5B, 0x81 };
	static const uint8_t dev[] = {
		0x5B, 0x82, 0x20, 'V', 'G', 'E', 'N',
		0x08, '_', 'H', 'I', 'D', 0x0D, 'V', 'M', 'G', 'E', 'N', 'C', 'T', 'R', 0x00,
		0x08, 'A', 'D', 'D', 'R', 0x12, 0x06, 0x02, 0x0A, 0x10, 0x0A, 0x00,
	};
	const unsigned int nfields = 26000, nrefs = 2000, depth = 20;
	struct aml_reader_device d;
	struct aml_reader_report r;
	struct vmgenid_bytebuf fields, refs, body, b;
	unsigned int i;
	char name[5];

	(void)state;
	vmgenid_bytebuf_init(&fields);
	vmgenid_bytebuf_put_u8(&fields, 0x01); /* AnyAcc, NoLock, Preserve */
	for (i = 0; i < nfields; i++) {
		field_name(i, name);
		vmgenid_bytebuf_append(&fields, name, 4);
		vmgenid_bytebuf_put_u8(&fields, 0x01); /* one bit */
	}
	vmgenid_bytebuf_init(&refs);
	for (i = 0; i < nrefs; i++) {
		field_name(i * 13 % nfields, name);
		vmgenid_bytebuf_append(&refs, name, 4);
	}
	nest_scopes(&refs, depth);
	vmgenid_bytebuf_init(&body);
	vmgenid_bytebuf_append(&body, region, sizeof(region));
	/* The Field's "name" operand is the region it lives in; flags follow. */
	put_named_pkg(&body, field_op, 2, "OPR0", fields.data, fields.len);
	vmgenid_bytebuf_append(&body, refs.data, refs.len);
	vmgenid_bytebuf_append(&body, dev, sizeof(dev));
	assert_false(vmgenid_bytebuf_failed(&body));
	raw_table(&b, body.data, body.len);
	assert_true(b.len > 130000);

	assert_int_equal(find(b.data, b.len, "DSDT", &d, &r), 0);
	assert_int_equal(r.nmalformed, 0);
	assert_int_equal(r.nskipped, 0);
	assert_string_equal(d.path, "\\VGEN");
	assert_true(d.addr == 0x10);
	/* Declaring 26,000 names and 2,000 searches of 21 scopes: a few
	 * slots each, where a scan of every name took 1.1 billion. */
	if (r.lookup_steps > 4ul * (nfields + nrefs * (depth + 1)))
		fail_msg("%lu lookup steps", r.lookup_steps);
	vmgenid_bytebuf_free(&b);
	vmgenid_bytebuf_free(&body);
	vmgenid_bytebuf_free(&refs);
	vmgenid_bytebuf_free(&fields);
}

/*
 * 16 MiB of names that no table defines, 24 scopes down: 100 million
 * slots to look at even indexed.  The reader stops at its bound and says
 * the table is too complex; the work it did stays within the bound.
 */
static void test_lookup_work_is_bounded(void **state)
{
	const size_t len = (16u << 20) - 4096;
	struct aml_reader_device d;
	struct aml_reader_report r;
	struct vmgenid_bytebuf refs, body, b;
	size_t i;

	(void)state;
	vmgenid_bytebuf_init(&body);
	vmgenid_bytebuf_init(&refs);
	for (i = 0; i + 4 <= len; i += 4)
		vmgenid_bytebuf_append(&refs, "QQQQ", 4);
	nest_scopes(&refs, 24);
	/* Name (QQQR, Zero) first: there is a namespace to search. */
	vmgenid_bytebuf_append(&body, "\x08QQQR\x00", 6);
	vmgenid_bytebuf_append(&body, refs.data, refs.len);
	assert_false(vmgenid_bytebuf_failed(&body));
	raw_table(&b, body.data, body.len);
	assert_true(b.len <= 16u << 20);

	assert_int_equal(find(b.data, b.len, "DSDT", &d, &r), -ENOENT);
	assert_int_equal(r.nmalformed, 1);
	assert_contains(r.malformed.msg, "too complex");
	assert_true(r.lookup_steps <= AML_READER_MAX_STEPS);
	assert_true(r.lookup_steps >= AML_READER_MAX_STEPS / 2);
	vmgenid_bytebuf_free(&b);
	vmgenid_bytebuf_free(&body);
	vmgenid_bytebuf_free(&refs);
}

/*
 * An event method calls one method 16 times, which calls a large one 16
 * times: the notify search walked the large body up to 63 times.  Each
 * body is walked once now.
 */
static void test_notify_search_walks_each_body_once(void **state)
{
	static const uint8_t method_op[] = { 0x14 };
	static const uint8_t scope_op[] = { 0x10 };
	const size_t big = 256u << 10;
	struct aml_reader_device d;
	struct aml_reader_report r;
	struct vmgenid_bytebuf gpe, e00, mb, mc, body, b;
	unsigned int i;

	(void)state;
	vmgenid_bytebuf_init(&e00);
	vmgenid_bytebuf_put_u8(&e00, 0x00); /* no arguments */
	for (i = 0; i < 16; i++)
		vmgenid_bytebuf_append(&e00, "MTB_", 4);
	vmgenid_bytebuf_init(&mb);
	vmgenid_bytebuf_put_u8(&mb, 0x00);
	for (i = 0; i < 16; i++)
		vmgenid_bytebuf_append(&mb, "MTC_", 4);
	vmgenid_bytebuf_init(&mc);
	vmgenid_bytebuf_put_u8(&mc, 0x00);
	for (i = 0; i < big; i++)
		vmgenid_bytebuf_put_u8(&mc, 0xA3); /* Noop */
	vmgenid_bytebuf_init(&body);
	put_named_pkg(&body, method_op, 1, "MTB_", mb.data, mb.len);
	put_named_pkg(&body, method_op, 1, "MTC_", mc.data, mc.len);
	vmgenid_bytebuf_init(&gpe);
	put_named_pkg(&gpe, method_op, 1, "_E00", e00.data, e00.len);
	put_named_pkg(&body, scope_op, 1, "_GPE", gpe.data, gpe.len);
	vmgenid_bytebuf_append(&body, "\x5B\x82\x20VGEN\x08_HID\x0DVMGENCTR\x00"
		       "\x08" "ADDR\x12\x06\x02\x0A\x10\x0A\x00", 34);
	assert_false(vmgenid_bytebuf_failed(&body));
	raw_table(&b, body.data, body.len);

	assert_int_equal(find(b.data, b.len, "DSDT", &d, &r), 0);
	assert_true(d.addr == 0x10);
	assert_int_equal(d.notify_via, AML_READER_NOTIFY_NONE);
	if (r.scan_bytes > b.len)
		fail_msg("walked %lu bytes of method bodies in a %zu-byte table", r.scan_bytes, b.len);
	assert_true(r.scan_bytes > big);
	vmgenid_bytebuf_free(&b);
	vmgenid_bytebuf_free(&body);
	vmgenid_bytebuf_free(&gpe);
	vmgenid_bytebuf_free(&mc);
	vmgenid_bytebuf_free(&mb);
	vmgenid_bytebuf_free(&e00);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_our_ssdt),
		cmocka_unit_test(test_integer_width_follows_dsdt),
		cmocka_unit_test(test_qemu_flow_patched_ssdt),
		cmocka_unit_test(test_genvm_machine_tables),
		cmocka_unit_test(test_iasl_add_into_index),
		cmocka_unit_test(test_iasl_high_address),
		cmocka_unit_test(test_method_variants),
		cmocka_unit_test(test_name_package),
		cmocka_unit_test(test_this_machine_dsdt_shape),
		cmocka_unit_test(test_hyperv_fields_unsupported),
		cmocka_unit_test(test_ids),
		cmocka_unit_test(test_choice_and_eisa_ids),
		cmocka_unit_test(test_no_device_and_no_addr),
		cmocka_unit_test(test_addr_wrong_shapes),
		cmocka_unit_test(test_truncated_every_prefix),
		cmocka_unit_test(test_truncated_name_package),
		cmocka_unit_test(test_hostile_lengths),
		cmocka_unit_test(test_hostile_length_in_addr),
		cmocka_unit_test(test_unknown_opcode_skipped),
		cmocka_unit_test(test_bad_checksum_reported),
		cmocka_unit_test(test_deep_scopes),
		cmocka_unit_test(test_deep_expression_in_addr),
		cmocka_unit_test(test_names_referring_to_each_other),
		cmocka_unit_test(test_call_argument_declares_257th_object),
		cmocka_unit_test(test_many_names_deep_references),
		cmocka_unit_test(test_lookup_work_is_bounded),
		cmocka_unit_test(test_notify_search_walks_each_body_once),
	};

	return cmocka_run_group_tests_name("aml_reader", tests, NULL, NULL);
}
