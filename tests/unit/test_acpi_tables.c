// SPDX-License-Identifier: MIT
/*
 * Build the machine's tables, run the real table-loader executor over a fake
 * guest RAM, then read the result the way an OS does: find the RSDP in the
 * BIOS area, follow the XSDT and FADT pointers, check every checksum and field.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "vmgenid/acpi_table.h"
#include "vmgenid/acpi_tables.h"
#include "vmgenid/endian.h"
#include "vmgenid/vmgenid.h"

#include "../support/loader_env.h"

#define RAM_SIZE (4u << 20)

static const struct vmgenid_acpi_machine machine = {
	.nr_cpus = 3,
	.lapic_addr = 0xfee00000,
	.ioapic_addr = 0xfec00000,
	.ioapic_id = 3,
	.pm1a_evt_port = 0x600,
	.pm1a_cnt_port = 0x604,
	.pm_tmr_port = 0x608,
	.gpe0_port = 0x620,
	.gpe0_len = 4,
	.sci_irq = 9,
	.reset_port = 0xcf9,
	.reset_value = 0x06,
	.slp_typ_s5 = 5,
	.uart_port = 0x3f8,
	.uart_irq = 4,
	.fw_cfg_port = 0x510,
};

struct built {
	struct vmgenid_bytebuf rsdp, tables;
	struct vmgenid_bios_loader loader;
	struct loader_env env;
};

/* Guest addresses of what the OS finds. */
struct found {
	uint64_t rsdp, xsdt, fadt, facs, dsdt, madt, ssdt;
	unsigned int nr_xsdt_entries;
};

static void build(struct built *b, const struct vmgenid_acpi_machine *m, struct vmgenid_dev *vmgenid)
{
	memset(b, 0, sizeof(*b));
	vmgenid_bytebuf_init(&b->rsdp);
	vmgenid_bytebuf_init(&b->tables);
	vmgenid_bios_loader_init(&b->loader);
	assert_int_equal(vmgenid_acpi_build_tables(m, vmgenid, &b->rsdp, &b->tables, &b->loader), 0);
}

/* What fw_cfg serves besides the ACPI blobs, when there is a vmgenid device. */
static uint8_t guid_blob[VMGENID_DEV_BLOB_SIZE];
static uint8_t addr_file[VMGENID_DEV_ADDR_SIZE];

static void run(struct built *b, uint64_t high_top)
{
	assert_int_equal(loader_env_init(&b->env, RAM_SIZE, high_top), 0);
	memset(addr_file, 0, sizeof(addr_file));
	assert_int_equal(loader_env_add_file(&b->env, VMGENID_DEV_GUID_FILE, guid_blob,
					     sizeof(guid_blob), false), 0);
	assert_int_equal(loader_env_add_file(&b->env, VMGENID_DEV_ADDR_FILE, addr_file,
					     sizeof(addr_file), true), 0);
	assert_int_equal(loader_env_add_file(&b->env, VMGENID_ACPI_RSDP_FILE, b->rsdp.data,
					     (uint32_t)b->rsdp.len, false), 0);
	assert_int_equal(loader_env_add_file(&b->env, VMGENID_ACPI_TABLES_FILE, b->tables.data,
					     (uint32_t)b->tables.len, false), 0);
	assert_int_equal(loader_env_run(&b->env, &b->loader.script), 0);
}

static void built_free(struct built *b)
{
	loader_env_free(&b->env);
	vmgenid_bios_loader_free(&b->loader);
	vmgenid_bytebuf_free(&b->tables);
	vmgenid_bytebuf_free(&b->rsdp);
}

static uint8_t sum(const uint8_t *p, size_t len)
{
	uint8_t s = 0;

	while (len--)
		s = (uint8_t)(s + *p++);
	return s;
}

static const uint8_t *guest(const struct built *b, uint64_t gpa, uint64_t len)
{
	const uint8_t *p = loader_env_ptr(&b->env, gpa, len);

	assert_non_null(p);
	return p;
}

/* An SDT at gpa with this signature, whole, inside RAM, summing to zero. */
static const uint8_t *table_at(const struct built *b, uint64_t gpa, const char *sig)
{
	const uint8_t *h = guest(b, gpa, VMGENID_ACPI_TABLE_HEADER_SIZE);
	uint32_t len = vmgenid_get_le32(h + VMGENID_ACPI_TABLE_LENGTH_OFFSET);

	assert_memory_equal(h, sig, 4);
	assert_true(len >= VMGENID_ACPI_TABLE_HEADER_SIZE);
	h = guest(b, gpa, len);
	assert_int_equal(sum(h, len), 0);
	return h;
}

static void find_tables(const struct built *b, struct found *f)
{
	const uint8_t *p = NULL, *xsdt;
	uint64_t a;
	unsigned int i;

	memset(f, 0, sizeof(*f));
	/* An OS scans the BIOS area on 16-byte boundaries for the signature. */
	for (a = LOADER_ENV_FSEG_START; a < LOADER_ENV_FSEG_END; a += 16) {
		p = guest(b, a, 8);
		if (!memcmp(p, "RSD PTR ", 8))
			break;
	}
	assert_true(a < LOADER_ENV_FSEG_END);
	f->rsdp = a;
	p = guest(b, a, 36);
	assert_int_equal(sum(p, 20), 0);
	assert_int_equal(sum(p, 36), 0);
	assert_int_equal(p[15], 2);
	assert_int_equal(vmgenid_get_le32(p + 16), 0);
	assert_int_equal(vmgenid_get_le32(p + 20), 36);
	assert_memory_equal(p + 9, "GENVM ", 6);

	f->xsdt = vmgenid_get_le64(p + 24);
	xsdt = table_at(b, f->xsdt, "XSDT");
	assert_memory_equal(xsdt + 10, "GENVM ", 6);
	f->nr_xsdt_entries = (vmgenid_get_le32(xsdt + 4) - VMGENID_ACPI_TABLE_HEADER_SIZE) / 8;
	for (i = 0; i < f->nr_xsdt_entries; i++) {
		a = vmgenid_get_le64(xsdt + VMGENID_ACPI_TABLE_HEADER_SIZE + 8 * i);
		p = guest(b, a, 4);
		if (!memcmp(p, "FACP", 4))
			f->fadt = a;
		else if (!memcmp(p, "APIC", 4))
			f->madt = a;
		else if (!memcmp(p, "SSDT", 4))
			f->ssdt = a;
		else
			fail_msg("XSDT entry %u points at %.4s", i, (const char *)p);
	}
	assert_int_not_equal(f->fadt, 0);
	assert_int_not_equal(f->madt, 0);

	p = table_at(b, f->fadt, "FACP");
	f->facs = vmgenid_get_le64(p + 132);
	f->dsdt = vmgenid_get_le64(p + 140);
}

static void test_rsdp_xsdt_and_checksums(void **state)
{
	struct built b;
	struct found f;

	(void)state;
	build(&b, &machine, NULL);
	run(&b, RAM_SIZE);
	find_tables(&b, &f);

	/* The RSDP went to FSEG, the tables to the top of RAM. */
	assert_int_equal(f.rsdp, loader_env_addr(&b.env, VMGENID_ACPI_RSDP_FILE));
	assert_true(f.xsdt > loader_env_addr(&b.env, VMGENID_ACPI_TABLES_FILE));
	assert_int_equal(f.nr_xsdt_entries, 2);
	assert_int_equal(f.ssdt, 0);
	table_at(&b, f.dsdt, "DSDT");
	table_at(&b, f.madt, "APIC");
	built_free(&b);
}

/* Pointers are offsets made absolute by the loader, wherever the blob lands. */
static void test_pointers_follow_the_allocation(void **state)
{
	struct built b;
	struct found f1, f2;

	(void)state;
	build(&b, &machine, NULL);
	run(&b, RAM_SIZE);
	find_tables(&b, &f1);
	loader_env_free(&b.env);
	run(&b, RAM_SIZE - 0x123000);
	find_tables(&b, &f2);
	assert_int_equal(f1.xsdt - f2.xsdt, 0x123000);
	assert_int_equal(f1.fadt - f2.fadt, 0x123000);
	assert_int_equal(f1.dsdt - f2.dsdt, 0x123000);
	assert_int_equal(f1.facs - f2.facs, 0x123000);
	built_free(&b);
}

static void assert_gas_io(const uint8_t *g, uint16_t port, uint8_t bits, uint8_t access)
{
	assert_int_equal(g[0], 1); /* SystemIO */
	assert_int_equal(g[1], bits);
	assert_int_equal(g[2], 0);
	assert_int_equal(g[3], access); /* 1 byte, 2 word, 3 dword */
	assert_int_equal(vmgenid_get_le64(g + 4), port);
}

static void test_fadt(void **state)
{
	struct built b;
	struct found f;
	const uint8_t *p, *facs;

	(void)state;
	build(&b, &machine, NULL);
	run(&b, RAM_SIZE);
	find_tables(&b, &f);
	p = table_at(&b, f.fadt, "FACP");
	assert_int_equal(vmgenid_get_le32(p + 4), 276);
	assert_int_equal(p[8], 6);

	/* 32-bit and 64-bit forms agree and point at the right things. */
	assert_int_equal(vmgenid_get_le32(p + 36), f.facs);
	assert_int_equal(vmgenid_get_le32(p + 40), f.dsdt);
	facs = guest(&b, f.facs, 64);
	assert_memory_equal(facs, "FACS", 4);
	assert_int_equal(vmgenid_get_le32(facs + 4), 64);
	assert_int_equal(f.facs % 64, 0);
	table_at(&b, f.dsdt, "DSDT");

	assert_int_equal(vmgenid_get_le16(p + 46), machine.sci_irq);
	assert_int_equal(vmgenid_get_le32(p + 48), 0);  /* SMI_CMD: no SMM */
	assert_int_equal(vmgenid_get_le32(p + 56), machine.pm1a_evt_port);
	assert_int_equal(vmgenid_get_le32(p + 60), 0);
	assert_int_equal(vmgenid_get_le32(p + 64), machine.pm1a_cnt_port);
	assert_int_equal(vmgenid_get_le32(p + 76), machine.pm_tmr_port);
	assert_int_equal(vmgenid_get_le32(p + 80), machine.gpe0_port);
	assert_int_equal(vmgenid_get_le32(p + 84), 0);
	assert_int_equal(p[88], 4);
	assert_int_equal(p[89], 2);
	assert_int_equal(p[91], 4);
	assert_int_equal(p[92], machine.gpe0_len);
	assert_int_equal(p[93], 0);
	assert_true(vmgenid_get_le16(p + 96) > 100);   /* no C2 */
	assert_true(vmgenid_get_le16(p + 98) > 1000);  /* no C3 */

	/* IAPC_BOOT_ARCH: legacy devices (COM1), no 8042, no VGA, no MSI, no RTC. */
	assert_int_equal(vmgenid_get_le16(p + 109), 0x0001 | 0x0004 | 0x0008 | 0x0020);
	/* Flags: WBINVD, PROC_C1, SLP_BUTTON, FIX_RTC, RESET_REG_SUP; not
	 * PWR_BUTTON (bit 4), which would say there is no fixed power button,
	 * nor TMR_VAL_EXT (24-bit timer) nor HW_REDUCED. */
	assert_int_equal(vmgenid_get_le32(p + 112), 0x0001 | 0x0004 | 0x0020 | 0x0040 | 0x0400);
	assert_int_equal(vmgenid_get_le32(p + 112) & 0x0010, 0);

	assert_gas_io(p + 116, machine.reset_port, 8, 1);
	assert_int_equal(p[128], machine.reset_value);

	assert_gas_io(p + 148, machine.pm1a_evt_port, 32, 2);
	assert_int_equal(vmgenid_get_le64(p + 160 + 4), 0); /* no PM1b */
	assert_gas_io(p + 172, machine.pm1a_cnt_port, 16, 2);
	assert_int_equal(vmgenid_get_le64(p + 184 + 4), 0);
	assert_gas_io(p + 208, machine.pm_tmr_port, 32, 3);
	assert_gas_io(p + 220, machine.gpe0_port, (uint8_t)(machine.gpe0_len * 8), 1);
	assert_int_equal(vmgenid_get_le64(p + 232 + 4), 0); /* no GPE1 */
	assert_int_equal(vmgenid_get_le64(p + 244 + 4), 0); /* no sleep registers */
	assert_int_equal(vmgenid_get_le64(p + 256 + 4), 0);
	assert_memory_equal(p + 268, "GENVM\0\0\0", 8);
	built_free(&b);
}

static void test_madt(void **state)
{
	struct built b;
	struct found f;
	const uint8_t *p, *e, *end;
	unsigned int lapics = 0, ioapics = 0, nmis = 0, overrides = 0;
	uint16_t irq0_flags = 0xffff, sci_flags = 0xffff;
	uint32_t irq0_gsi = 0, sci_gsi = 0;

	(void)state;
	build(&b, &machine, NULL);
	run(&b, RAM_SIZE);
	find_tables(&b, &f);
	p = table_at(&b, f.madt, "APIC");
	assert_int_equal(vmgenid_get_le32(p + 36), machine.lapic_addr);
	assert_int_equal(vmgenid_get_le32(p + 40), 1); /* PCAT_COMPAT */

	end = p + vmgenid_get_le32(p + 4);
	for (e = p + 44; e < end; e += e[1]) {
		assert_true(e[1] >= 2 && e + e[1] <= end);
		switch (e[0]) {
		case 0:
			assert_int_equal(e[1], 8);
			assert_int_equal(e[2], lapics); /* UID */
			assert_int_equal(e[3], lapics); /* APIC id */
			assert_int_equal(vmgenid_get_le32(e + 4), 1);
			lapics++;
			break;
		case 1:
			assert_int_equal(e[1], 12);
			assert_int_equal(e[2], machine.ioapic_id);
			assert_int_equal(vmgenid_get_le32(e + 4), machine.ioapic_addr);
			assert_int_equal(vmgenid_get_le32(e + 8), 0);
			ioapics++;
			break;
		case 2:
			assert_int_equal(e[1], 10);
			assert_int_equal(e[2], 0); /* ISA */
			if (e[3] == 0) {
				irq0_gsi = vmgenid_get_le32(e + 4);
				irq0_flags = vmgenid_get_le16(e + 8);
			} else if (e[3] == machine.sci_irq) {
				sci_gsi = vmgenid_get_le32(e + 4);
				sci_flags = vmgenid_get_le16(e + 8);
			}
			overrides++;
			break;
		case 4:
			assert_int_equal(e[1], 6);
			assert_int_equal(e[2], 0xff);
			assert_int_equal(vmgenid_get_le16(e + 3), 0);
			assert_int_equal(e[5], 1); /* LINT1 */
			nmis++;
			break;
		default:
			fail_msg("unexpected MADT entry type %u", e[0]);
		}
	}
	assert_ptr_equal(e, end);
	assert_int_equal(lapics, machine.nr_cpus);
	assert_int_equal(ioapics, 1);
	assert_int_equal(nmis, 1);
	assert_int_equal(overrides, 2);
	assert_int_equal(irq0_gsi, 2);
	assert_int_equal(irq0_flags, 0);
	assert_int_equal(sci_gsi, 9);
	assert_int_equal(sci_flags, 0x000d);
	built_free(&b);
}

static const uint8_t *memfind(const uint8_t *hay, size_t len, const void *needle, size_t n)
{
	size_t i;

	for (i = 0; i + n <= len; i++)
		if (!memcmp(hay + i, needle, n))
			return hay + i;
	return NULL;
}

static void assert_contains(const uint8_t *t, const void *needle, size_t n)
{
	if (!memfind(t, vmgenid_get_le32(t + 4), needle, n))
		fail_msg("table %.4s lacks an expected byte sequence", (const char *)t);
}

static void assert_not_contains(const uint8_t *t, const void *needle, size_t n)
{
	if (memfind(t, vmgenid_get_le32(t + 4), needle, n))
		fail_msg("table %.4s has an unexpected byte sequence", (const char *)t);
}

static void test_dsdt_objects(void **state)
{
	/* Name (\_S5, Package (0x04) { 0x05, Zero, Zero, Zero }) */
	static const uint8_t s5[] = { 0x08, '\\', '_', 'S', '5', '_',
				      0x12, 0x07, 0x04, 0x0a, 0x05, 0x00, 0x00, 0x00 };
	/* Name (_HID, EisaId ("PNP0501")) */
	static const uint8_t com1_hid[] = { 0x08, '_', 'H', 'I', 'D', 0x0c, 0x41, 0xd0, 0x05, 0x01 };
	/* IO (Decode16, 0x03F8, 0x03F8, 0x00, 0x08) IRQNoFlags () {4} */
	static const uint8_t com1_res[] = { 0x47, 0x01, 0xf8, 0x03, 0xf8, 0x03, 0x00, 0x08,
					    0x22, 0x10, 0x00 };
	/* Name (_HID, "QEMU0002") */
	static const uint8_t fwcf_hid[] = { 0x08, '_', 'H', 'I', 'D', 0x0d,
					    'Q', 'E', 'M', 'U', '0', '0', '0', '2', 0x00 };
	/* IO (Decode16, 0x0510, 0x0510, 0x01, 0x0C) */
	static const uint8_t fwcf_res[] = { 0x47, 0x01, 0x10, 0x05, 0x10, 0x05, 0x01, 0x0c };
	/* Name (_STA, 0x0B) */
	static const uint8_t fwcf_sta[] = { 0x08, '_', 'S', 'T', 'A', 0x0a, 0x0b };
	struct built b;
	struct found f;
	const uint8_t *d;

	(void)state;
	build(&b, &machine, NULL);
	run(&b, RAM_SIZE);
	find_tables(&b, &f);
	d = table_at(&b, f.dsdt, "DSDT");
	assert_int_equal(d[8], 2); /* 64-bit integers */
	assert_contains(d, s5, sizeof(s5));
	assert_contains(d, "COM1", 4);
	assert_contains(d, com1_hid, sizeof(com1_hid));
	assert_contains(d, com1_res, sizeof(com1_res));
	assert_contains(d, "FWCF", 4);
	assert_contains(d, fwcf_hid, sizeof(fwcf_hid));
	assert_contains(d, fwcf_res, sizeof(fwcf_res));
	assert_contains(d, fwcf_sta, sizeof(fwcf_sta));
	built_free(&b);
}

/*
 * virtio-mmio devices, golden bytes from iasl 20200925 for:
 *   Device (VR00) {
 *       Name (_HID, "LNRO0005")
 *       Name (_UID, Zero)
 *       Name (_CCA, One)
 *       Name (_CRS, ResourceTemplate () {
 *           Memory32Fixed (ReadWrite, 0xFEB00000, 0x00000200, )
 *           Interrupt (ResourceConsumer, Edge, ActiveHigh, Exclusive, ,, ) { 0x00000010 }
 *       })
 *   }
 * and VR01 the same with _UID One, 0xFEB00200 and interrupt 0x11.
 */
static void test_dsdt_virtio_mmio(void **state)
{
	static const uint8_t vr00[] = {
		0x5b, 0x82, 0x41, 0x04, 'V', 'R', '0', '0',                   /* Device, PkgLength 0x44 */
		0x08, '_', 'H', 'I', 'D', 0x0d, 'L', 'N', 'R', 'O', '0', '0', '0', '5', 0x00,
		0x08, '_', 'U', 'I', 'D', 0x00,                               /* Zero */
		0x08, '_', 'C', 'C', 'A', 0x01,                               /* One */
		0x08, '_', 'C', 'R', 'S', 0x11, 0x1a, 0x0a, 0x17,             /* Buffer (0x17) */
		0x86, 0x09, 0x00, 0x01, 0x00, 0x00, 0xb0, 0xfe, 0x00, 0x02, 0x00, 0x00, /* Memory32Fixed */
		0x89, 0x06, 0x00, 0x03, 0x01, 0x10, 0x00, 0x00, 0x00,         /* Interrupt: consumer, edge */
		0x79, 0x00,                                                   /* EndTag */
	};
	static const uint8_t vr01[] = {
		0x5b, 0x82, 0x41, 0x04, 'V', 'R', '0', '1',
		0x08, '_', 'H', 'I', 'D', 0x0d, 'L', 'N', 'R', 'O', '0', '0', '0', '5', 0x00,
		0x08, '_', 'U', 'I', 'D', 0x01,
		0x08, '_', 'C', 'C', 'A', 0x01,
		0x08, '_', 'C', 'R', 'S', 0x11, 0x1a, 0x0a, 0x17,
		0x86, 0x09, 0x00, 0x01, 0x00, 0x02, 0xb0, 0xfe, 0x00, 0x02, 0x00, 0x00,
		0x89, 0x06, 0x00, 0x03, 0x01, 0x11, 0x00, 0x00, 0x00,
		0x79, 0x00,
	};
	/* The same device, level-triggered as QEMU's microvm declares it: flags 0x01. */
	static const uint8_t level_irq[] = { 0x89, 0x06, 0x00, 0x01, 0x01, 0x10, 0x00, 0x00, 0x00 };
	struct vmgenid_acpi_machine m = machine;
	struct built b;
	struct found f;
	const uint8_t *d;

	(void)state;
	m.nr_virtio = 2;
	m.virtio[0] = (struct vmgenid_acpi_virtio_mmio){ 0xfeb00000, 0x200, 16, true };
	m.virtio[1] = (struct vmgenid_acpi_virtio_mmio){ 0xfeb00200, 0x200, 17, true };
	build(&b, &m, NULL);
	run(&b, RAM_SIZE);
	find_tables(&b, &f);
	d = table_at(&b, f.dsdt, "DSDT");
	assert_contains(d, vr00, sizeof(vr00));
	assert_contains(d, vr01, sizeof(vr01));
	built_free(&b);

	m.nr_virtio = 1;
	m.virtio[0].edge = false;
	build(&b, &m, NULL);
	run(&b, RAM_SIZE);
	find_tables(&b, &f);
	d = table_at(&b, f.dsdt, "DSDT");
	assert_contains(d, level_irq, sizeof(level_irq));
	assert_not_contains(d, "VR01", 4);
	built_free(&b);

	/* No devices, no LNRO0005. */
	build(&b, &machine, NULL);
	run(&b, RAM_SIZE);
	find_tables(&b, &f);
	assert_not_contains(table_at(&b, f.dsdt, "DSDT"), "LNRO0005", 8);
	built_free(&b);
}

/* Decoded ADD_CHECKSUM commands, to tie each table to its own command. */
static unsigned int checksum_cmds(const struct vmgenid_bytebuf *script, const char *file,
				  uint32_t (*cmds)[3], unsigned int max)
{
	unsigned int n = 0;
	size_t off;

	for (off = 0; off + VMGENID_BIOS_LOADER_CMD_SIZE <= script->len; off += VMGENID_BIOS_LOADER_CMD_SIZE) {
		const uint8_t *c = script->data + off;

		if (vmgenid_get_le32(c) != VMGENID_BIOS_LOADER_CMD_ADD_CHECKSUM || strcmp((const char *)c + 4, file))
			continue;
		assert_true(n < max);
		cmds[n][0] = vmgenid_get_le32(c + 60);
		cmds[n][1] = vmgenid_get_le32(c + 64);
		cmds[n][2] = vmgenid_get_le32(c + 68);
		n++;
	}
	return n;
}

static void test_loader_script_shape(void **state)
{
	struct built b;
	const uint8_t *c;
	uint32_t cks[8][3];
	unsigned int n, i;
	size_t off;

	(void)state;
	build(&b, &machine, NULL);
	assert_int_equal(b.loader.script.len % VMGENID_BIOS_LOADER_CMD_SIZE, 0);

	c = b.loader.script.data;
	assert_int_equal(vmgenid_get_le32(c), VMGENID_BIOS_LOADER_CMD_ALLOCATE);
	assert_string_equal((const char *)c + 4, VMGENID_ACPI_RSDP_FILE);
	assert_int_equal(vmgenid_get_le32(c + 60), 16);
	assert_int_equal(c[64], VMGENID_BIOS_LOADER_ZONE_FSEG);
	c += VMGENID_BIOS_LOADER_CMD_SIZE;
	assert_int_equal(vmgenid_get_le32(c), VMGENID_BIOS_LOADER_CMD_ALLOCATE);
	assert_string_equal((const char *)c + 4, VMGENID_ACPI_TABLES_FILE);
	assert_int_equal(vmgenid_get_le32(c + 60), 64);
	assert_int_equal(c[64], VMGENID_BIOS_LOADER_ZONE_HIGH);

	/* One ADD_CHECKSUM per SDT in the blob (DSDT, FADT, MADT, XSDT), each
	 * over exactly that table, checksum byte at offset 9. */
	n = checksum_cmds(&b.loader.script, VMGENID_ACPI_TABLES_FILE, cks, 8);
	assert_int_equal(n, 4);
	for (i = 0; i < n; i++) {
		const uint8_t *t = b.tables.data + cks[i][1];

		assert_int_equal(cks[i][0], cks[i][1] + 9);
		assert_int_equal(cks[i][2], vmgenid_get_le32(t + 4));
	}
	assert_memory_equal(b.tables.data + cks[0][1], "DSDT", 4);
	assert_memory_equal(b.tables.data + cks[1][1], "FACP", 4);
	assert_memory_equal(b.tables.data + cks[2][1], "APIC", 4);
	assert_memory_equal(b.tables.data + cks[3][1], "XSDT", 4);

	/* RSDP: the 20-byte checksum, then the 36-byte one that covers it. */
	n = checksum_cmds(&b.loader.script, VMGENID_ACPI_RSDP_FILE, cks, 8);
	assert_int_equal(n, 2);
	assert_int_equal(cks[0][0], 8);
	assert_int_equal(cks[0][2], 20);
	assert_int_equal(cks[1][0], 32);
	assert_int_equal(cks[1][2], 36);

	/* Only two allocations and nothing written back without vmgenid. */
	for (off = 2 * VMGENID_BIOS_LOADER_CMD_SIZE; off < b.loader.script.len;
	     off += VMGENID_BIOS_LOADER_CMD_SIZE) {
		uint32_t cmd = vmgenid_get_le32(b.loader.script.data + off);

		assert_true(cmd == VMGENID_BIOS_LOADER_CMD_ADD_POINTER ||
			    cmd == VMGENID_BIOS_LOADER_CMD_ADD_CHECKSUM);
	}
	built_free(&b);
}

/* Where the SSDT's Name (VGIA, DWordConst) value lies, found by its encoding. */
static const uint8_t *find_vgia(const uint8_t *ssdt)
{
	static const uint8_t name_vgia[] = { 0x08, 'V', 'G', 'I', 'A', 0x0c };
	uint32_t len = vmgenid_get_le32(ssdt + 4);
	const uint8_t *p = memfind(ssdt, len, name_vgia, sizeof(name_vgia));

	assert_non_null(p);
	/* Exactly one: a second match would make this test ambiguous. */
	assert_null(memfind(p + 1, len - (size_t)(p + 1 - ssdt), name_vgia, sizeof(name_vgia)));
	return p + sizeof(name_vgia);
}

static void test_with_vmgenid(void **state)
{
	struct vmgenid_guest_mem no_mem;
	struct vmgenid_dev *d;
	struct vmgenid_guid guid = { { 0x32, 0x4e, 0x6e, 0xaf, 0xd1, 0xd1, 0x4b, 0xf6,
			       0xbf, 0x41, 0xb9, 0xbb, 0x6c, 0x91, 0xfb, 0x87 } };
	struct built b;
	struct found f;
	const uint8_t *ssdt;
	uint64_t blob;

	(void)state;
	vmgenid_guest_mem_init(&no_mem);
	d = vmgenid_dev_new(&guid, &no_mem, NULL, NULL);
	assert_non_null(d);
	build(&b, &machine, d);

	/* The two ACPI allocations still come first, whatever vmgenid adds. */
	assert_int_equal(vmgenid_get_le32(b.loader.script.data), VMGENID_BIOS_LOADER_CMD_ALLOCATE);
	assert_string_equal((const char *)b.loader.script.data + 4, VMGENID_ACPI_RSDP_FILE);
	assert_string_equal((const char *)b.loader.script.data + VMGENID_BIOS_LOADER_CMD_SIZE + 4,
			    VMGENID_ACPI_TABLES_FILE);

	run(&b, RAM_SIZE);
	find_tables(&b, &f);
	assert_int_equal(f.nr_xsdt_entries, 3);
	assert_int_not_equal(f.ssdt, 0);
	ssdt = table_at(&b, f.ssdt, "SSDT");
	assert_memory_equal(ssdt + 10, "BOCHS ", 6);
	assert_memory_equal(ssdt + 16, "VMGENID", 7);
	assert_memory_equal(ssdt + 28, "BXPC", 4);

	/* VGIA holds the blob's base; firmware reported the GUID's address. */
	blob = loader_env_addr(&b.env, VMGENID_DEV_GUID_FILE);
	assert_int_not_equal(blob, 0);
	assert_int_equal(blob % 4096, 0);
	assert_int_equal(vmgenid_get_le32(find_vgia(ssdt)), blob);
	assert_int_equal(vmgenid_get_le64(addr_file), blob + VMGENID_DEV_GUID_OFFSET);

	/* The SSDT sits in the tables blob between the MADT and the XSDT. */
	assert_true(f.ssdt > f.madt && f.ssdt < f.xsdt);
	built_free(&b);
	vmgenid_dev_free(d);
}

static void expect_rejected(const struct vmgenid_acpi_machine *m)
{
	struct vmgenid_bytebuf rsdp, tables;
	struct vmgenid_bios_loader loader;

	vmgenid_bytebuf_init(&rsdp);
	vmgenid_bytebuf_init(&tables);
	vmgenid_bios_loader_init(&loader);
	assert_int_equal(vmgenid_acpi_build_tables(m, NULL, &rsdp, &tables, &loader), -EINVAL);
	assert_int_equal(rsdp.len, 0);
	assert_int_equal(tables.len, 0);
	assert_int_equal(loader.script.len, 0);
	vmgenid_bios_loader_free(&loader);
	vmgenid_bytebuf_free(&tables);
	vmgenid_bytebuf_free(&rsdp);
}

static void test_bad_machine(void **state)
{
	struct vmgenid_acpi_machine m;

	(void)state;
	m = machine;
	m.nr_cpus = 0;
	expect_rejected(&m);
	m.nr_cpus = 256;
	expect_rejected(&m);
	m = machine;
	m.gpe0_len = 3;
	expect_rejected(&m);
	m.gpe0_len = 0;
	expect_rejected(&m);
	m = machine;
	m.sci_irq = 16;
	expect_rejected(&m);
	m = machine;
	m.slp_typ_s5 = 8;
	expect_rejected(&m);
	m = machine;
	m.pm_tmr_port = 0;
	expect_rejected(&m);
}

static void test_many_cpus(void **state)
{
	struct vmgenid_acpi_machine m = machine;
	struct built b;
	struct found f;
	const uint8_t *p;

	(void)state;
	m.nr_cpus = 255;
	build(&b, &m, NULL);
	run(&b, RAM_SIZE);
	find_tables(&b, &f);
	p = table_at(&b, f.madt, "APIC");
	/* header, 8 bytes, 255 local APICs, IOAPIC, 2 overrides, NMI */
	assert_int_equal(vmgenid_get_le32(p + 4), 44 + 255 * 8 + 12 + 2 * 10 + 6);
	p += 44 + 254 * 8;
	assert_int_equal(p[0], 0);
	assert_int_equal(p[2], 254);
	assert_int_equal(p[3], 254);
	built_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rsdp_xsdt_and_checksums),
		cmocka_unit_test(test_pointers_follow_the_allocation),
		cmocka_unit_test(test_fadt),
		cmocka_unit_test(test_madt),
		cmocka_unit_test(test_dsdt_objects),
		cmocka_unit_test(test_dsdt_virtio_mmio),
		cmocka_unit_test(test_loader_script_shape),
		cmocka_unit_test(test_with_vmgenid),
		cmocka_unit_test(test_bad_machine),
		cmocka_unit_test(test_many_cpus),
	};

	return cmocka_run_group_tests_name("acpi_tables", tests, NULL, NULL);
}
