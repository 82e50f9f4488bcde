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
static void build_table(struct bytebuf *out, struct aml_ctx *ctx, struct aml *body,
			const char *sig, uint8_t revision)
{
	static const struct acpi_table_id id = {
		.oem_id = "VMGTST",
		.oem_table_id = "AMLREAD",
		.oem_revision = 1,
		.creator_id = "TEST",
		.creator_revision = 1,
	};
	size_t start;

	bytebuf_init(out);
	start = acpi_table_begin(out, sig, revision, &id);
	assert_int_equal(aml_serialize(ctx, body, out), 0);
	acpi_table_end(out, start);
	assert_false(bytebuf_failed(out));
	aml_ctx_free(ctx);
}

/* A DSDT (revision 2) whose body is exactly these bytes, checksum fixed. */
static void raw_table(struct bytebuf *out, const uint8_t *body, size_t len)
{
	static const struct acpi_table_id id = { "VMGTST", "RAW", 1, "TEST", 1 };
	size_t start;

	bytebuf_init(out);
	start = acpi_table_begin(out, "DSDT", 2, &id);
	bytebuf_append(out, body, len);
	acpi_table_end(out, start);
	assert_false(bytebuf_failed(out));
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
static struct aml *vgen_device(struct aml_ctx *ctx, const char *name, const char *hid,
			       const char *cid)
{
	struct aml *dev = aml_device(ctx, name);

	if (hid)
		aml_append(dev, aml_name_decl(ctx, "_HID", aml_string(ctx, hid)));
	if (cid)
		aml_append(dev, aml_name_decl(ctx, "_CID", aml_string(ctx, cid)));
	return dev;
}

/* Name (ADDR, Package {lo, hi}) with DWord elements, as Firecracker writes it. */
static struct aml *addr_name_package(struct aml_ctx *ctx, uint32_t lo, uint32_t hi)
{
	struct aml *pkg = aml_package(ctx, 2);

	aml_append(pkg, aml_dword(ctx, lo));
	aml_append(pkg, aml_dword(ctx, hi));
	return aml_name_decl(ctx, "ADDR", pkg);
}

/* A Generic Event Device whose _EVT notifies target on event 5. */
static struct aml *ged_device(struct aml_ctx *ctx, const char *target)
{
	struct aml *dev = aml_device(ctx, "_SB.GED");
	struct aml *crs = aml_resource_template(ctx);
	struct aml *evt = aml_method(ctx, "_EVT", 1, true);
	struct aml *on5 = aml_if(ctx, aml_equal(ctx, aml_arg(ctx, 0), aml_int(ctx, 5)));

	aml_append(dev, aml_name_decl(ctx, "_HID", aml_string(ctx, "ACPI0013")));
	aml_append(crs, aml_interrupt(ctx, AML_INT_CONSUMER | AML_INT_EDGE, 5));
	aml_append(dev, aml_name_decl(ctx, "_CRS", crs));
	aml_append(on5, aml_notify(ctx, aml_name(ctx, target), aml_int(ctx, 0x80)));
	aml_append(evt, on5);
	aml_append(dev, evt);
	return dev;
}

/* --- Our SSDT, QEMU's flow, iasl's form ----------------------------------- */

static void test_our_ssdt(void **state)
{
	static const uint32_t vgias[] = { VGIA, 0x1000, 0xFFFFF000u };
	struct aml_reader_device d;
	struct aml_reader_report r;
	struct bytebuf b;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(vgias) / sizeof(vgias[0]); i++) {
		bytebuf_init(&b);
		assert_int_equal(vmgenid_build_ssdt(&b, vgias[i], NULL), 0);
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
		bytebuf_free(&b);
	}
}

/*
 * A revision 1 table has 32-bit integers unless a DSDT says otherwise:
 * VGIA + 0x28 wraps there, exactly as ACPICA computes it.
 */
static void test_integer_width_follows_dsdt(void **state)
{
	struct aml_reader_table t[2];
	struct bytebuf ssdt, dsdt;
	struct aml_ctx *ctx;
	uint64_t addr = 0;
	struct aml_reader_error e;

	(void)state;
	bytebuf_init(&ssdt);
	assert_int_equal(vmgenid_build_ssdt(&ssdt, 0xFFFFFFF0u, NULL), 0);
	assert_int_equal(addr_of(ssdt.data, ssdt.len, &addr, &e), 0);
	assert_true(addr == 0x18);

	ctx = aml_ctx_new();
	build_table(&dsdt, ctx, aml_block(ctx), "DSDT", 2);
	t[0] = (struct aml_reader_table){ "DSDT", dsdt.data, dsdt.len };
	t[1] = (struct aml_reader_table){ "SSDT", ssdt.data, ssdt.len };
	assert_int_equal(aml_reader_vmgenid_addr(t, 2, &addr, &e), 0);
	assert_true(addr == 0x100000018ull);
	bytebuf_free(&ssdt);
	bytebuf_free(&dsdt);
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
	struct bios_loader_exec exec;
	struct bios_loader loader;
	struct aml_reader_device d;
	struct aml_reader_report r;
	struct bytebuf tables;
	struct guest_sim sim;
	struct vmgenid *dev;
	struct guid g, seen;
	uint8_t written[8];
	const uint8_t *ssdt;
	uint64_t base;
	long off;

	(void)state;
	assert_int_equal(guid_parse(guid_text, &g, NULL), 0);
	guest_sim_init(&sim);
	dev = vmgenid_new(&g, &sim.mem, NULL, NULL);
	assert_non_null(dev);
	bios_loader_init(&loader);
	bytebuf_init(&tables);
	assert_int_equal(bios_loader_allocate(&loader, "etc/acpi/tables", 64,
					      BIOS_LOADER_ZONE_HIGH), 0);
	bytebuf_append(&tables, NULL, 128);
	off = vmgenid_build_acpi(dev, &tables, "etc/acpi/tables", &loader);
	assert_int_equal(off, 128);
	assert_true(fw_cfg_add_file(sim.fw, BIOS_LOADER_FILE, loader.script.data,
				    (uint32_t)loader.script.len, false, NULL, NULL) >= 0);
	assert_true(fw_cfg_add_file(sim.fw, "etc/acpi/tables", tables.data,
				    (uint32_t)tables.len, false, NULL, NULL) >= 0);
	assert_int_equal(vmgenid_add_fw_cfg(dev, sim.fw), 0);
	guest_sim_connect(&sim);
	assert_int_equal(guest_sim_run_loader(&sim, &exec), 0);

	base = guest_sim_file_addr(&exec, "etc/acpi/tables");
	ssdt = guest_sim_hva(&sim, base + (uint64_t)off);
	assert_int_equal(find(ssdt, get_le32(ssdt + 4), "SSDT", &d, &r), 0);
	assert_int_equal(r.nbad_checksum, 0);
	assert_true(d.addr_integers);
	assert_int_equal(guest_sim_file_read(&sim, VMGENID_ADDR_FILE, written, 8), 8);
	assert_true(d.addr == get_le64(written));
	assert_true(d.addr == guest_sim_file_addr(&exec, VMGENID_GUID_FILE) + 40);
	guid_from_le(guest_sim_hva(&sim, d.addr), &seen);
	assert_true(guid_equal(&seen, &g));

	vmgenid_free(dev);
	bios_loader_free(&loader);
	bytebuf_free(&tables);
	guest_sim_destroy(&sim);
}

/*
 * genvm's whole table set (acpi_build_tables: DSDT with COM1, fw_cfg and
 * \_S5, FADT, MADT, the vmgenid SSDT), placed and patched by the
 * table-loader, and found the way the OS finds it: the RSDP in the BIOS
 * area, the XSDT, the FADT's X_DSDT, the XSDT's SSDT.  The reader must walk
 * all of it without a skip, and ADDR must be what firmware wrote back.
 */
static void test_genvm_machine_tables(void **state)
{
	static const struct acpi_machine machine = {
		.nr_cpus = 2, .lapic_addr = 0xfee00000, .ioapic_addr = 0xfec00000,
		.ioapic_id = 2, .pm1a_evt_port = 0x600, .pm1a_cnt_port = 0x604,
		.pm_tmr_port = 0x608, .gpe0_port = 0x620, .gpe0_len = 4, .sci_irq = 9,
		.reset_port = 0xcf9, .reset_value = 0x06, .slp_typ_s5 = 5,
		.uart_port = 0x3f8, .uart_irq = 4, .fw_cfg_port = 0x510,
	};
	static uint8_t guid_blob[VMGENID_BLOB_SIZE], addr_file[VMGENID_ADDR_SIZE];
	struct guid g = { { 0x32, 0x4e, 0x6e, 0xaf } };
	struct aml_reader_table t[4];
	struct aml_reader_device d;
	struct aml_reader_report r;
	struct bytebuf rsdp, tables;
	struct bios_loader loader;
	struct guest_mem no_mem;
	struct loader_env env;
	const uint8_t *p, *xsdt, *fadt;
	struct vmgenid *dev;
	unsigned int nt = 0, i;
	uint64_t a;

	(void)state;
	guest_mem_init(&no_mem);
	dev = vmgenid_new(&g, &no_mem, NULL, NULL);
	assert_non_null(dev);
	bytebuf_init(&rsdp);
	bytebuf_init(&tables);
	bios_loader_init(&loader);
	assert_int_equal(acpi_build_tables(&machine, dev, &rsdp, &tables, &loader), 0);
	assert_int_equal(loader_env_init(&env, 4u << 20, 4u << 20), 0);
	assert_int_equal(loader_env_add_file(&env, VMGENID_GUID_FILE, guid_blob,
					     sizeof(guid_blob), false), 0);
	assert_int_equal(loader_env_add_file(&env, VMGENID_ADDR_FILE, addr_file,
					     sizeof(addr_file), true), 0);
	assert_int_equal(loader_env_add_file(&env, ACPI_RSDP_FILE, rsdp.data,
					     (uint32_t)rsdp.len, false), 0);
	assert_int_equal(loader_env_add_file(&env, ACPI_TABLES_FILE, tables.data,
					     (uint32_t)tables.len, false), 0);
	assert_int_equal(loader_env_run(&env, &loader.script), 0);

	for (a = LOADER_ENV_FSEG_START; a < LOADER_ENV_FSEG_END; a += 16) {
		p = loader_env_ptr(&env, a, 36);
		if (p && !memcmp(p, "RSD PTR ", 8))
			break;
	}
	assert_true(a < LOADER_ENV_FSEG_END);
	xsdt = loader_env_ptr(&env, get_le64(p + 24), 36);
	assert_non_null(xsdt);
	for (i = 36; i + 8 <= get_le32(xsdt + 4); i += 8) {
		uint64_t at = get_le64(xsdt + i);
		const uint8_t *h = loader_env_ptr(&env, at, 36);

		assert_non_null(h);
		if (!memcmp(h, "FACP", 4)) {
			fadt = loader_env_ptr(&env, at, get_le32(h + 4));
			assert_non_null(fadt);
			assert_true(get_le32(fadt + 4) >= 148);
			h = loader_env_ptr(&env, get_le64(fadt + 140), 36);
			assert_non_null(h);
			assert_memory_equal(h, "DSDT", 4);
			/* The DSDT first, as the OS loads it. */
			memmove(t + 1, t, nt * sizeof(t[0]));
			t[0] = (struct aml_reader_table){ "DSDT", h, get_le32(h + 4) };
			nt++;
		} else if (!memcmp(h, "SSDT", 4)) {
			t[nt++] = (struct aml_reader_table){ "SSDT", h, get_le32(h + 4) };
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
	assert_true(d.addr == get_le64(addr_file));
	assert_true(d.addr == loader_env_addr(&env, VMGENID_GUID_FILE) + 40);
	assert_int_equal(d.notify_via, AML_READER_NOTIFY_GPE);
	assert_string_equal(d.notify_method, "\\_GPE._E05");

	loader_env_free(&env);
	bios_loader_free(&loader);
	bytebuf_free(&tables);
	bytebuf_free(&rsdp);
	vmgenid_free(dev);
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
	struct aml_ctx *ctx = aml_ctx_new();
	struct aml *body = aml_block(ctx);
	struct aml *sb = aml_scope(ctx, "\\_SB");
	struct aml *dev = vgen_device(ctx, "VGEN", "VMGENCTR", NULL);
	struct aml *m = aml_method(ctx, "ADDR", 0, true);
	struct aml *pkg = aml_package(ctx, 2);
	struct bytebuf b;
	struct aml_reader_device d;

	(void)state;
	aml_append(body, aml_name_decl(ctx, "VGIA", aml_dword(ctx, VGIA)));
	/* Name (PKG, Package {0, 0}); Add (VGIA, 0x100, Local1);
	 * Store (Local1, Index (PKG, 0)); Return (PKG) */
	aml_append(pkg, aml_zero(ctx));
	aml_append(pkg, aml_zero(ctx));
	aml_append(m, aml_name_decl(ctx, "PKG", pkg));
	aml_append(m, aml_add(ctx, aml_name(ctx, "VGIA"), aml_int(ctx, 0x100), aml_local(ctx, 1)));
	aml_append(m, aml_store(ctx, aml_local(ctx, 1),
				aml_index(ctx, aml_name(ctx, "PKG"), aml_zero(ctx), NULL)));
	aml_append(m, aml_return(ctx, aml_name(ctx, "PKG")));
	aml_append(dev, m);
	aml_append(sb, dev);
	aml_append(body, sb);
	build_table(&b, ctx, body, "SSDT", 1);

	assert_int_equal(find(b.data, b.len, "SSDT", &d, NULL), 0);
	assert_string_equal(d.hid, "VMGENCTR");
	assert_int_equal(d.addr_status, 0);
	assert_true(d.addr == VGIA + 0x100);
	bytebuf_free(&b);
}

/* --- Name (ADDR, Package {lo, hi}): Firecracker and this machine ----------- */

static void test_name_package(void **state)
{
	struct aml_ctx *ctx = aml_ctx_new();
	struct aml *body = aml_block(ctx);
	struct aml *dev = vgen_device(ctx, "\\_SB.VGEN", "VMGENCTR", "VM_Gen_Counter");
	struct aml_reader_device d;
	struct aml_reader_report r;
	struct bytebuf b;

	(void)state;
	aml_append(dev, addr_name_package(ctx, 0x12345678u, 0x9));
	aml_append(body, dev);
	aml_append(body, ged_device(ctx, "\\_SB.VGEN"));
	build_table(&b, ctx, body, "DSDT", 2);

	assert_int_equal(find(b.data, b.len, "DSDT", &d, &r), 0);
	assert_int_equal(d.addr_form, AML_READER_ADDR_NAME);
	assert_true(d.addr == 0x912345678ull);
	assert_int_equal(d.notify_via, AML_READER_NOTIFY_GED);
	assert_string_equal(d.notify_method, "\\_SB_.GED_._EVT");
	assert_int_equal(r.nskipped, 0);
	bytebuf_free(&b);
}

/*
 * The shape of this development machine's own DSDT (a Firecracker-style
 * VMM): relative two-segment device names at the root, DWord package
 * elements even for 0, a VMCLOCK device and a GED whose _EVT notifies both.
 * (The real VCLK _CRS is a QWordMemory; Memory32Fixed stands in for it.)
 */
static void test_this_machine_dsdt_shape(void **state)
{
	static const struct acpi_table_id id = { "FIRECK", "FCVMDSDT", 0, "FCAT", 0x20240119 };
	struct aml_ctx *ctx = aml_ctx_new();
	struct aml *body = aml_block(ctx);
	struct aml *vgen = vgen_device(ctx, "_SB.VGEN", "VMGENCTR", "VM_Gen_Counter");
	struct aml *vclk = vgen_device(ctx, "_SB.VCLK", "AMZNC10C", "VMCLOCK");
	struct aml *sta = aml_method(ctx, "_STA", 0, false);
	struct aml *crs = aml_resource_template(ctx);
	struct aml *ged = aml_device(ctx, "_SB.GED");
	struct aml *ged_crs = aml_resource_template(ctx);
	struct aml *evt = aml_method(ctx, "_EVT", 1, true);
	struct aml *on5 = aml_if(ctx, aml_equal(ctx, aml_arg(ctx, 0), aml_int(ctx, 5)));
	struct aml *on6 = aml_if(ctx, aml_equal(ctx, aml_arg(ctx, 0), aml_int(ctx, 6)));
	struct aml_reader_device d;
	struct aml_reader_report r;
	struct bytebuf b;
	size_t start;

	(void)state;
	aml_append(vgen, aml_name_decl(ctx, "_DDN", aml_string(ctx, "VM_Gen_Counter")));
	aml_append(vgen, addr_name_package(ctx, 0x000DFFF0u, 0));
	aml_append(body, vgen);

	aml_append(vclk, aml_name_decl(ctx, "_DDN", aml_string(ctx, "VMCLOCK")));
	aml_append(sta, aml_return(ctx, aml_int(ctx, 0x0F)));
	aml_append(vclk, sta);
	aml_append(crs, aml_memory32_fixed(ctx, false, 0xDE000, 0x1000));
	aml_append(vclk, aml_name_decl(ctx, "_CRS", crs));
	aml_append(body, vclk);

	aml_append(ged, aml_name_decl(ctx, "_HID", aml_string(ctx, "ACPI0013")));
	aml_append(ged_crs, aml_interrupt(ctx, AML_INT_CONSUMER | AML_INT_EDGE, 5));
	aml_append(ged_crs, aml_interrupt(ctx, AML_INT_CONSUMER | AML_INT_EDGE, 6));
	aml_append(ged, aml_name_decl(ctx, "_CRS", ged_crs));
	aml_append(on5, aml_notify(ctx, aml_name(ctx, "\\_SB.VGEN"), aml_int(ctx, 0x80)));
	aml_append(on6, aml_notify(ctx, aml_name(ctx, "\\_SB.VCLK"), aml_int(ctx, 0x80)));
	aml_append(evt, on5);
	aml_append(evt, on6);
	aml_append(ged, evt);
	aml_append(body, ged);

	bytebuf_init(&b);
	start = acpi_table_begin(&b, "DSDT", 2, &id);
	assert_int_equal(aml_serialize(ctx, body, &b), 0);
	acpi_table_end(&b, start);
	aml_ctx_free(ctx);

	assert_int_equal(find(b.data, b.len, "DSDT", &d, &r), 0);
	assert_string_equal(d.path, "\\_SB_.VGEN");
	assert_string_equal(d.hid, "VMGENCTR");
	assert_string_equal(d.cid[0], "VM_Gen_Counter");
	assert_int_equal(d.addr_form, AML_READER_ADDR_NAME);
	assert_true(d.addr == 0xDFFF0);
	assert_int_equal(d.notify_via, AML_READER_NOTIFY_GED);
	assert_string_equal(d.notify_method, "\\_SB_.GED_._EVT");
	assert_int_equal(r.nmalformed + r.nskipped + r.nbad_checksum, 0);
	bytebuf_free(&b);
}

/* Hyper-V: _HID MSFT1002, a _CID package, ADDR from operation region fields. */
static void test_hyperv_fields_unsupported(void **state)
{
	struct aml_ctx *ctx = aml_ctx_new();
	struct aml *body = aml_block(ctx);
	struct aml *dev = vgen_device(ctx, "\\_SB.GENC", "MSFT1002", NULL);
	struct aml *cids = aml_package(ctx, 3);
	struct aml *field = aml_field(ctx, "GCRG", AML_DWORD_ACC, false, AML_PRESERVE);
	struct aml *m = aml_method(ctx, "ADDR", 0, false);
	struct aml *pkg = aml_package(ctx, 2);
	struct aml_reader_device d;
	struct aml_reader_error e;
	struct bytebuf b;
	uint64_t addr = 0;

	(void)state;
	aml_append(body, aml_operation_region(ctx, "GCRG", AML_SYSTEM_MEMORY,
					      aml_dword(ctx, 0xFED40000u), aml_int(ctx, 8)));
	aml_append(field, aml_named_field(ctx, "GCAL", 32));
	aml_append(field, aml_named_field(ctx, "GCAH", 32));
	aml_append(body, field);
	aml_append(cids, aml_string(ctx, "VM_Gen_Counter"));
	aml_append(cids, aml_string(ctx, "VMGENCTR"));
	aml_append(cids, aml_string(ctx, "Hyper_V_Gen_Counter_V1"));
	aml_append(dev, aml_name_decl(ctx, "_CID", cids));
	aml_append(pkg, aml_zero(ctx));
	aml_append(pkg, aml_zero(ctx));
	aml_append(m, aml_name_decl(ctx, "LPKG", pkg));
	aml_append(m, aml_store(ctx, aml_name(ctx, "GCAL"),
				aml_index(ctx, aml_name(ctx, "LPKG"), aml_zero(ctx), NULL)));
	aml_append(m, aml_store(ctx, aml_name(ctx, "GCAH"),
				aml_index(ctx, aml_name(ctx, "LPKG"), aml_one(ctx), NULL)));
	aml_append(m, aml_return(ctx, aml_name(ctx, "LPKG")));
	aml_append(dev, m);
	aml_append(body, dev);
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
	bytebuf_free(&b);
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
	struct aml_ctx *ctx = aml_ctx_new();
	struct aml *body = aml_block(ctx);
	struct aml *a = aml_device(ctx, "\\_SB.VGEA");
	struct aml *b2 = vgen_device(ctx, "\\_SB.VGEB", "QEMUVGID", NULL);
	struct aml_reader_table t;
	struct aml_reader_device d;
	struct bytebuf b;

	(void)state;
	aml_append(a, aml_name_decl(ctx, "_HID", aml_eisaid(ctx, "PNP0A08")));
	aml_append(a, aml_name_decl(ctx, "_CID", aml_string(ctx, "VM_GEN_COUNTER")));
	aml_append(a, addr_name_package(ctx, 0x1000, 0));
	aml_append(b2, addr_name_package(ctx, 0x2000, 0));
	aml_append(body, a);
	aml_append(body, b2);
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
	bytebuf_free(&b);
}

static void test_no_device_and_no_addr(void **state)
{
	struct aml_ctx *ctx = aml_ctx_new();
	struct aml *body = aml_block(ctx);
	struct aml *pci = aml_device(ctx, "\\_SB.PCI0");
	struct aml_reader_device d;
	struct aml_reader_error e;
	struct bytebuf b;
	uint64_t addr = 0;

	(void)state;
	aml_append(pci, aml_name_decl(ctx, "_HID", aml_eisaid(ctx, "PNP0A03")));
	aml_append(body, pci);
	build_table(&b, ctx, body, "DSDT", 2);
	assert_int_equal(find(b.data, b.len, "DSDT", &d, NULL), -ENOENT);
	assert_int_equal(addr_of(b.data, b.len, &addr, &e), -ENOENT);
	assert_contains(e.msg, "no VM generation ID device");
	bytebuf_free(&b);

	/* The device, but no ADDR. */
	ctx = aml_ctx_new();
	body = aml_block(ctx);
	aml_append(body, vgen_device(ctx, "\\_SB.VGEN", "QEMUVGID", "VM_Gen_Counter"));
	build_table(&b, ctx, body, "SSDT", 1);
	assert_int_equal(find(b.data, b.len, "SSDT", &d, NULL), 0);
	assert_int_equal(d.addr_form, AML_READER_ADDR_MISSING);
	assert_int_equal(d.addr_status, -ENOENT);
	assert_int_equal(addr_of(b.data, b.len, &addr, &e), -ENOENT);
	assert_contains(e.msg, "\\_SB_.VGEN has no ADDR");
	assert_true(addr == 0);
	bytebuf_free(&b);
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

static void bad_addr_table(struct bytebuf *b, enum bad_addr kind)
{
	struct aml_ctx *ctx = aml_ctx_new();
	struct aml *body = aml_block(ctx);
	struct aml *dev = vgen_device(ctx, "\\_SB.VGEN", "QEMUVGID", NULL);
	struct aml *m = aml_method(ctx, "ADDR", kind == BAD_ARGS ? 1 : 0, false);
	struct aml *pkg;

	switch (kind) {
	case BAD_INTEGER:
		aml_append(m, aml_return(ctx, aml_int(ctx, 0x1000)));
		break;
	case BAD_ONE_ELEM:
		pkg = aml_package(ctx, 1);
		aml_append(pkg, aml_int(ctx, 0x1000));
		aml_append(m, aml_name_decl(ctx, "ONE", pkg));
		aml_append(m, aml_return(ctx, aml_name(ctx, "ONE")));
		break;
	case BAD_STRING:
		pkg = aml_package(ctx, 2);
		aml_append(pkg, aml_string(ctx, "x"));
		aml_append(pkg, aml_zero(ctx));
		m = aml_name_decl(ctx, "ADDR", pkg);
		break;
	case BAD_IF: {
		struct aml *cond = aml_if(ctx, aml_equal(ctx, aml_one(ctx), aml_one(ctx)));

		aml_append(cond, aml_return(ctx, aml_int(ctx, 1)));
		aml_append(m, cond);
		break;
	}
	case BAD_NO_RETURN:
		aml_append(m, aml_store(ctx, aml_one(ctx), aml_local(ctx, 0)));
		break;
	case BAD_UNSET_LOCAL:
		aml_append(m, aml_return(ctx, aml_local(ctx, 3)));
		break;
	case BAD_INDEX:
		aml_append(m, aml_store(ctx, aml_package(ctx, 2), aml_local(ctx, 0)));
		aml_append(m, aml_store(ctx, aml_zero(ctx),
					aml_index(ctx, aml_local(ctx, 0), aml_int(ctx, 5), NULL)));
		aml_append(m, aml_return(ctx, aml_local(ctx, 0)));
		break;
	case BAD_ARGS:
		aml_append(m, aml_return(ctx, aml_arg(ctx, 0)));
		break;
	}
	aml_append(dev, m);
	aml_append(body, dev);
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
	struct bytebuf b;
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
		bytebuf_free(&b);
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
	struct bytebuf b;
	unsigned int whole = 0;
	uint64_t addr;
	uint8_t *cut;
	size_t len;
	int ret;

	(void)state;
	bytebuf_init(&b);
	assert_int_equal(vmgenid_build_ssdt(&b, VGIA, NULL), 0);
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

		put_le32(cut + 4, (uint32_t)len);
		cut[9] = 0;
		cut[9] = acpi_checksum(cut, len);
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
	bytebuf_free(&b);
}

/* The Firecracker-style DSDT cut everywhere: never a device with a wrong ADDR. */
static void test_truncated_name_package(void **state)
{
	struct aml_ctx *ctx = aml_ctx_new();
	struct aml *body = aml_block(ctx);
	struct aml *dev = vgen_device(ctx, "_SB.VGEN", "VMGENCTR", "VM_Gen_Counter");
	struct aml_reader_device d;
	struct bytebuf b;
	uint8_t *cut;
	size_t len;
	int ret;

	(void)state;
	aml_append(dev, addr_name_package(ctx, 0xDFFF0, 0));
	aml_append(body, dev);
	aml_append(body, ged_device(ctx, "\\_SB.VGEN"));
	build_table(&b, ctx, body, "DSDT", 2);
	for (len = 36; len <= b.len; len++) {
		cut = malloc(len);
		assert_non_null(cut);
		memcpy(cut, b.data, len);
		put_le32(cut + 4, (uint32_t)len);
		ret = find(cut, len, "DSDT", &d, NULL);
		if (ret == 0) {
			assert_true(d.addr_integers);
			assert_true(d.addr == 0xDFFF0);
		}
		free(cut);
	}
	bytebuf_free(&b);
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
	struct bytebuf b;
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
		bytebuf_free(&b);
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
	struct bytebuf b;

	(void)state;
	raw_table(&b, body, sizeof(body));
	assert_int_equal(find(b.data, b.len, "DSDT", &d, &r), 0);
	assert_int_equal(r.nmalformed, 0);
	assert_string_equal(d.path, "\\VGEN");
	assert_int_equal(d.addr_form, AML_READER_ADDR_METHOD);
	assert_int_equal(d.addr_status, -EINVAL);
	assert_int_equal(d.addr_error.offset, 36 + 31);
	assert_contains(d.addr_error.msg, "Package at 0x42: PkgLength 0x3f goes past");
	bytebuf_free(&b);
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
	struct bytebuf b;

	(void)state;
	raw_table(&b, body, sizeof(body));
	assert_int_equal(find(b.data, b.len, "DSDT", &d, &r), 0);
	assert_int_equal(r.nmalformed, 0);
	assert_int_equal(r.nskipped, 1);
	assert_int_equal(r.skipped.offset, 40);
	assert_contains(r.skipped.msg, "unknown opcode 0x5bfe");
	assert_true(d.addr == 0x10);
	bytebuf_free(&b);
}

static void test_bad_checksum_reported(void **state)
{
	struct aml_reader_report r;
	struct aml_reader_device d;
	struct bytebuf b;

	(void)state;
	bytebuf_init(&b);
	assert_int_equal(vmgenid_build_ssdt(&b, VGIA, NULL), 0);
	b.data[9] ^= 0x55;
	assert_int_equal(find(b.data, b.len, "SSDT3", &d, &r), 0);
	assert_int_equal(r.nbad_checksum, 1);
	assert_string_equal(r.bad_checksum, "SSDT3");
	assert_true(d.addr == VGIA + 0x28);
	bytebuf_free(&b);
}

/* --- Deep nesting ---------------------------------------------------------------- */

static void test_deep_scopes(void **state)
{
	struct aml_ctx *ctx = aml_ctx_new();
	struct aml *body = aml_block(ctx), *outer, *inner;
	struct aml_reader_report r;
	struct aml_reader_device d;
	struct bytebuf b;
	int i;

	(void)state;
	/* 1000 Scope (\) inside each other: paths stay short, depth does not. */
	outer = aml_scope(ctx, "\\");
	inner = outer;
	for (i = 1; i < 1000; i++) {
		struct aml *s = aml_scope(ctx, "\\");

		aml_append(inner, s);
		inner = s;
	}
	aml_append(inner, vgen_device(ctx, "VGEN", "QEMUVGID", NULL));
	aml_append(body, outer);
	build_table(&b, ctx, body, "DSDT", 2);
	assert_int_equal(find(b.data, b.len, "DSDT", &d, &r), -ENOENT);
	assert_int_equal(r.nmalformed, 1);
	assert_contains(r.malformed.msg, "nested deeper than 48 levels");
	bytebuf_free(&b);

	/* 40 nested relative scopes: the path outgrows 127 characters first. */
	ctx = aml_ctx_new();
	body = aml_block(ctx);
	outer = aml_scope(ctx, "S000");
	inner = outer;
	for (i = 1; i < 40; i++) {
		struct aml *s = aml_device(ctx, "S001");

		aml_append(inner, s);
		inner = s;
	}
	aml_append(body, outer);
	build_table(&b, ctx, body, "DSDT", 2);
	assert_int_equal(find(b.data, b.len, "DSDT", &d, &r), -ENOENT);
	assert_int_equal(r.nmalformed, 1);
	assert_contains(r.malformed.msg, "longer than 127 characters");
	bytebuf_free(&b);
}

static void test_deep_expression_in_addr(void **state)
{
	struct aml_ctx *ctx = aml_ctx_new();
	struct aml *body = aml_block(ctx);
	struct aml *dev = vgen_device(ctx, "\\_SB.VGEN", "QEMUVGID", NULL);
	struct aml *m = aml_method(ctx, "ADDR", 0, false);
	struct aml *expr = aml_int(ctx, 0x1000);
	struct aml_reader_error e;
	struct bytebuf b;
	uint64_t addr;
	int i;

	(void)state;
	for (i = 0; i < 300; i++)
		expr = aml_add(ctx, expr, aml_one(ctx), NULL);
	aml_append(m, aml_return(ctx, expr));
	aml_append(dev, m);
	aml_append(body, dev);
	build_table(&b, ctx, body, "DSDT", 2);
	assert_int_equal(addr_of(b.data, b.len, &addr, &e), -EINVAL);
	assert_contains(e.msg, "ADDR: terms nested deeper than 48 levels");
	bytebuf_free(&b);
}

/* ADDR's package names a Name whose package names ADDR: bounded, then refused. */
static void test_names_referring_to_each_other(void **state)
{
	struct aml_ctx *ctx = aml_ctx_new();
	struct aml *body = aml_block(ctx);
	struct aml *dev = vgen_device(ctx, "\\_SB.VGEN", "QEMUVGID", NULL);
	struct aml *p1 = aml_package(ctx, 2), *p2 = aml_package(ctx, 1);
	struct aml_reader_error e;
	struct bytebuf b;
	uint64_t addr;

	(void)state;
	aml_append(p1, aml_name(ctx, "LOOP"));
	aml_append(p1, aml_zero(ctx));
	aml_append(dev, aml_name_decl(ctx, "ADDR", p1));
	aml_append(p2, aml_name(ctx, "ADDR"));
	aml_append(dev, aml_name_decl(ctx, "LOOP", p2));
	aml_append(body, dev);
	build_table(&b, ctx, body, "DSDT", 2);
	assert_true(addr_of(b.data, b.len, &addr, &e) < 0);
	assert_true(strstr(e.msg, "refer to each other") || strstr(e.msg, "nested"));
	bytebuf_free(&b);
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
	struct bytebuf body, b;
	unsigned int i;

	(void)state;
	bytebuf_init(&body);
	bytebuf_append(&body, method, sizeof(method));
	/* 255 more: the array (256 slots at first) is full. */
	for (i = 0; i < 255; i++) {
		uint8_t name[] = { 0x08, 'N', (uint8_t)('0' + i / 100), (uint8_t)('0' + i / 10 % 10),
				   (uint8_t)('0' + i % 10), 0x00 };

		bytebuf_append(&body, name, sizeof(name));
	}
	bytebuf_append(&body, call, sizeof(call));
	bytebuf_append(&body, dev, sizeof(dev));
	assert_false(bytebuf_failed(&body));
	raw_table(&b, body.data, body.len);
	assert_int_equal(find(b.data, b.len, "DSDT", &d, &r), 0);
	assert_int_equal(r.nmalformed, 0);
	assert_int_equal(r.ntables, 1);
	assert_string_equal(d.path, "\\VGEN");
	assert_true(d.addr == 0x10);
	bytebuf_free(&b);
	bytebuf_free(&body);
}

/* --- Work bounds ------------------------------------------------------------ */

/* opcode (1 or 2 bytes), a PkgLength of 1 to 4 bytes, the 4-byte name, body. */
static void put_named_pkg(struct bytebuf *out, const uint8_t *op, size_t oplen, const char *name,
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
	bytebuf_append(out, op, oplen);
	bytebuf_append(out, pkg, n);
	bytebuf_append(out, name, 4);
	bytebuf_append(out, body, len);
}

/* body wrapped in depth nested Scope (Sxxx) { ... }. */
static void nest_scopes(struct bytebuf *body, unsigned int depth)
{
	static const uint8_t scope_op[] = { 0x10 };
	unsigned int i;

	for (i = 0; i < depth; i++) {
		struct bytebuf outer;
		char name[5];

		snprintf(name, sizeof(name), "S%03u", (depth - 1 - i) % 1000);
		bytebuf_init(&outer);
		put_named_pkg(&outer, scope_op, 1, name, body->data, body->len);
		assert_false(bytebuf_failed(&outer));
		bytebuf_free(body);
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
	struct bytebuf fields, refs, body, b;
	unsigned int i;
	char name[5];

	(void)state;
	bytebuf_init(&fields);
	bytebuf_put_u8(&fields, 0x01); /* AnyAcc, NoLock, Preserve */
	for (i = 0; i < nfields; i++) {
		field_name(i, name);
		bytebuf_append(&fields, name, 4);
		bytebuf_put_u8(&fields, 0x01); /* one bit */
	}
	bytebuf_init(&refs);
	for (i = 0; i < nrefs; i++) {
		field_name(i * 13 % nfields, name);
		bytebuf_append(&refs, name, 4);
	}
	nest_scopes(&refs, depth);
	bytebuf_init(&body);
	bytebuf_append(&body, region, sizeof(region));
	/* The Field's "name" operand is the region it lives in; flags follow. */
	put_named_pkg(&body, field_op, 2, "OPR0", fields.data, fields.len);
	bytebuf_append(&body, refs.data, refs.len);
	bytebuf_append(&body, dev, sizeof(dev));
	assert_false(bytebuf_failed(&body));
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
	bytebuf_free(&b);
	bytebuf_free(&body);
	bytebuf_free(&refs);
	bytebuf_free(&fields);
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
	struct bytebuf refs, body, b;
	size_t i;

	(void)state;
	bytebuf_init(&body);
	bytebuf_init(&refs);
	for (i = 0; i + 4 <= len; i += 4)
		bytebuf_append(&refs, "QQQQ", 4);
	nest_scopes(&refs, 24);
	/* Name (QQQR, Zero) first: there is a namespace to search. */
	bytebuf_append(&body, "\x08QQQR\x00", 6);
	bytebuf_append(&body, refs.data, refs.len);
	assert_false(bytebuf_failed(&body));
	raw_table(&b, body.data, body.len);
	assert_true(b.len <= 16u << 20);

	assert_int_equal(find(b.data, b.len, "DSDT", &d, &r), -ENOENT);
	assert_int_equal(r.nmalformed, 1);
	assert_contains(r.malformed.msg, "too complex");
	assert_true(r.lookup_steps <= AML_READER_MAX_STEPS);
	assert_true(r.lookup_steps >= AML_READER_MAX_STEPS / 2);
	bytebuf_free(&b);
	bytebuf_free(&body);
	bytebuf_free(&refs);
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
	struct bytebuf gpe, e00, mb, mc, body, b;
	unsigned int i;

	(void)state;
	bytebuf_init(&e00);
	bytebuf_put_u8(&e00, 0x00); /* no arguments */
	for (i = 0; i < 16; i++)
		bytebuf_append(&e00, "MTB_", 4);
	bytebuf_init(&mb);
	bytebuf_put_u8(&mb, 0x00);
	for (i = 0; i < 16; i++)
		bytebuf_append(&mb, "MTC_", 4);
	bytebuf_init(&mc);
	bytebuf_put_u8(&mc, 0x00);
	for (i = 0; i < big; i++)
		bytebuf_put_u8(&mc, 0xA3); /* Noop */
	bytebuf_init(&body);
	put_named_pkg(&body, method_op, 1, "MTB_", mb.data, mb.len);
	put_named_pkg(&body, method_op, 1, "MTC_", mc.data, mc.len);
	bytebuf_init(&gpe);
	put_named_pkg(&gpe, method_op, 1, "_E00", e00.data, e00.len);
	put_named_pkg(&body, scope_op, 1, "_GPE", gpe.data, gpe.len);
	bytebuf_append(&body, "\x5B\x82\x20VGEN\x08_HID\x0DVMGENCTR\x00"
		       "\x08" "ADDR\x12\x06\x02\x0A\x10\x0A\x00", 34);
	assert_false(bytebuf_failed(&body));
	raw_table(&b, body.data, body.len);

	assert_int_equal(find(b.data, b.len, "DSDT", &d, &r), 0);
	assert_true(d.addr == 0x10);
	assert_int_equal(d.notify_via, AML_READER_NOTIFY_NONE);
	if (r.scan_bytes > b.len)
		fail_msg("walked %lu bytes of method bodies in a %zu-byte table", r.scan_bytes, b.len);
	assert_true(r.scan_bytes > big);
	bytebuf_free(&b);
	bytebuf_free(&body);
	bytebuf_free(&gpe);
	bytebuf_free(&mc);
	bytebuf_free(&mb);
	bytebuf_free(&e00);
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
