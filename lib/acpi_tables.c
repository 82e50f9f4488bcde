// SPDX-License-Identifier: MIT
/*
 * The machine's ACPI tables, laid out the way QEMU hands them to firmware.
 *
 * Every pointer from one table to another is written here as the target's
 * offset inside etc/acpi/tables and turned into a guest address by an
 * ADD_POINTER command; every checksum is then (re)computed by an
 * ADD_CHECKSUM command issued after the last pointer patch into that table.
 * The blobs therefore make sense only once firmware has run the script.
 */
#include <errno.h>
#include <string.h>

#include "vmgenid/acpi_table.h"
#include "vmgenid/acpi_tables.h"
#include "vmgenid/aml.h"
#include "vmgenid/endian.h"
#include "vmgenid/fw_cfg.h"
#include "vmgenid/log.h"
#include "vmgenid/vmclock.h"
#include "vmgenid/vmgenid.h"

#define MOD "acpi"

/*
 * Our tables identify themselves consistently, space padded in full so that
 * the RSDP's copy matches; the vmgenid SSDT keeps QEMU's ids.
 */
static const struct vmgenid_acpi_table_id genvm_id = {
	.oem_id = "GENVM ",
	.oem_table_id = "GENVM   ",
	.oem_revision = 1,
	.creator_id = "GENV",
	.creator_revision = 1,
};

#define RSDP_SIZE 36
#define RSDP_CHECKSUM_OFFSET 8
#define RSDP_V1_LENGTH 20 /* what the first checksum covers */
#define RSDP_XSDT_OFFSET 24
#define RSDP_EXT_CHECKSUM_OFFSET 32

#define FACS_SIZE 64
#define FACS_ALIGN 64

#define FADT_REVISION 6
#define FADT_MINOR_REVISION 0
#define FADT_SIZE 276
#define FADT_FIRMWARE_CTRL 36
#define FADT_DSDT 40
#define FADT_X_FIRMWARE_CTRL 132
#define FADT_X_DSDT 140

/* FADT Flags (ACPI 6.x table 5.10) */
#define FADT_F_WBINVD (1u << 0)
#define FADT_F_PROC_C1 (1u << 2)
#define FADT_F_PWR_BUTTON (1u << 4)
#define FADT_F_SLP_BUTTON (1u << 5)
#define FADT_F_FIX_RTC (1u << 6)
#define FADT_F_RESET_REG_SUP (1u << 10)

/* FADT IA-PC boot architecture flags (ACPI 6.x table 5.11) */
#define FADT_BOOT_LEGACY_DEVICES (1u << 0)
#define FADT_BOOT_8042 (1u << 1)
#define FADT_BOOT_NO_VGA (1u << 2)
#define FADT_BOOT_NO_MSI (1u << 3)
#define FADT_BOOT_NO_CMOS_RTC (1u << 5)

/* Latencies above 100 and 1000 us tell the OS there is no C2 and no C3. */
#define FADT_NO_C2_LATENCY 0x0fff
#define FADT_NO_C3_LATENCY 0x0fff

/* Generic Address Structure */
#define GAS_SYSTEM_IO 1
#define GAS_ACCESS_BYTE 1
#define GAS_ACCESS_WORD 2
#define GAS_ACCESS_DWORD 3

#define MADT_REVISION 5
#define MADT_PCAT_COMPAT (1u << 0)
#define MADT_LOCAL_APIC 0
#define MADT_IO_APIC 1
#define MADT_INT_OVERRIDE 2
#define MADT_LOCAL_APIC_NMI 4
#define MADT_LAPIC_ENABLED (1u << 0)
#define MADT_ALL_PROCESSORS 0xff
/* MPS INTI flags: polarity in bits 0-1, trigger mode in bits 2-3. */
#define MPS_INTI_CONFORMS 0x0000
#define MPS_INTI_ACTIVE_HIGH 0x0001
#define MPS_INTI_LEVEL 0x000c
#define ISA_BUS 0
#define PIT_IRQ 0
#define PIT_GSI 2 /* the 8254 is wired to IOAPIC pin 2, not 0 */
#define LAPIC_LINT1 1

#define DSDT_REVISION 2 /* 64-bit AML integers */
#define XSDT_REVISION 1

static void put_gas(struct vmgenid_bytebuf *b, uint8_t space, uint8_t bit_width, uint8_t access,
		    uint64_t address)
{
	vmgenid_bytebuf_put_u8(b, space);
	vmgenid_bytebuf_put_u8(b, bit_width);
	vmgenid_bytebuf_put_u8(b, 0); /* bit offset */
	vmgenid_bytebuf_put_u8(b, access);
	vmgenid_bytebuf_put_le64(b, address);
}

/* An I/O register block of len bytes, each register access wide. */
static void put_gas_io(struct vmgenid_bytebuf *b, uint16_t port, uint8_t len, uint8_t access)
{
	put_gas(b, GAS_SYSTEM_IO, (uint8_t)(len * 8), access, port);
}

/* An absent block is all zeros. */
static void put_gas_none(struct vmgenid_bytebuf *b)
{
	put_gas(b, 0, 0, 0, 0);
}

/* Store target's offset at field; the loader adds the blob's base to it. */
static int link_pointer(struct vmgenid_bytebuf *tables, size_t field, uint8_t size, size_t target,
			struct vmgenid_bios_loader *loader)
{
	if (vmgenid_bytebuf_failed(tables))
		return -ENOMEM;
	if (size == 8)
		vmgenid_put_le64(tables->data + field, target);
	else
		vmgenid_put_le32(tables->data + field, (uint32_t)target);
	return vmgenid_bios_loader_add_pointer(loader, VMGENID_ACPI_TABLES_FILE, (uint32_t)field, size,
				       VMGENID_ACPI_TABLES_FILE);
}

static int table_checksum(struct vmgenid_bytebuf *tables, size_t start, struct vmgenid_bios_loader *loader)
{
	if (vmgenid_bytebuf_failed(tables))
		return -ENOMEM;
	return vmgenid_bios_loader_add_checksum(loader, VMGENID_ACPI_TABLES_FILE,
					(uint32_t)(start + VMGENID_ACPI_TABLE_CHECKSUM_OFFSET),
					(uint32_t)start, (uint32_t)(tables->len - start));
}

/* The FACS has its own 64-byte header with no checksum. */
static size_t build_facs(struct vmgenid_bytebuf *tables)
{
	size_t start;

	vmgenid_bytebuf_align(tables, FACS_ALIGN);
	start = tables->len;
	vmgenid_bytebuf_append(tables, "FACS", 4);
	vmgenid_bytebuf_put_le32(tables, FACS_SIZE);
	vmgenid_bytebuf_put_le32(tables, 0);  /* hardware signature */
	vmgenid_bytebuf_put_le32(tables, 0);  /* firmware waking vector: no S3 */
	vmgenid_bytebuf_put_le32(tables, 0);  /* global lock */
	vmgenid_bytebuf_put_le32(tables, 0);  /* flags: no S4BIOS, no 64-bit wake */
	vmgenid_bytebuf_put_le64(tables, 0);  /* X firmware waking vector */
	vmgenid_bytebuf_put_u8(tables, 2);    /* version (ACPI 4.0 and later) */
	vmgenid_bytebuf_append(tables, NULL, 3);
	vmgenid_bytebuf_put_le32(tables, 0);  /* OSPM flags */
	vmgenid_bytebuf_append(tables, NULL, 24);
	return start;
}

static struct vmgenid_aml *build_com1(struct vmgenid_aml_ctx *ctx, const struct vmgenid_acpi_machine *m)
{
	struct vmgenid_aml *dev = vmgenid_aml_device(ctx, "COM1");
	struct vmgenid_aml *crs = vmgenid_aml_resource_template(ctx);

	vmgenid_aml_append(dev, vmgenid_aml_name_decl(ctx, "_HID", vmgenid_aml_eisaid(ctx, "PNP0501")));
	vmgenid_aml_append(dev, vmgenid_aml_name_decl(ctx, "_UID", vmgenid_aml_one(ctx)));
	vmgenid_aml_append(dev, vmgenid_aml_name_decl(ctx, "_STA", vmgenid_aml_int(ctx, 0x0f)));
	vmgenid_aml_append(crs, vmgenid_aml_io(ctx, true, m->uart_port, m->uart_port, 0, 8));
	vmgenid_aml_append(crs, vmgenid_aml_irq_no_flags(ctx, m->uart_irq));
	vmgenid_aml_append(dev, vmgenid_aml_name_decl(ctx, "_CRS", crs));
	return dev;
}

/*
 * The fw_cfg device as QEMU describes it, so that Linux's qemu_fw_cfg driver
 * binds and exposes the files under /sys/firmware/qemu_fw_cfg.  _STA 0x0B:
 * present, enabled, functioning, but not shown in UI.
 */
static struct vmgenid_aml *build_fw_cfg(struct vmgenid_aml_ctx *ctx, const struct vmgenid_acpi_machine *m)
{
	struct vmgenid_aml *dev = vmgenid_aml_device(ctx, "FWCF");
	struct vmgenid_aml *crs = vmgenid_aml_resource_template(ctx);

	vmgenid_aml_append(dev, vmgenid_aml_name_decl(ctx, "_HID", vmgenid_aml_string(ctx, "QEMU0002")));
	vmgenid_aml_append(dev, vmgenid_aml_name_decl(ctx, "_STA", vmgenid_aml_int(ctx, 0x0b)));
	vmgenid_aml_append(crs, vmgenid_aml_io(ctx, true, m->fw_cfg_port, m->fw_cfg_port, 1, VMGENID_FW_CFG_IO_SIZE));
	vmgenid_aml_append(dev, vmgenid_aml_name_decl(ctx, "_CRS", crs));
	return dev;
}

/*
 * A virtio-mmio device as Linux's virtio_mmio driver finds it through ACPI
 * (its acpi_match_table has LNRO0005), named and numbered as QEMU's
 * microvm does.  _CCA One: DMA is cache-coherent, as it is on a PC.
 */
static struct vmgenid_aml *build_virtio_mmio(struct vmgenid_aml_ctx *ctx, unsigned int n,
				     const struct vmgenid_acpi_virtio_mmio *v)
{
	char name[5] = { 'V', 'R', (char)('0' + n / 10 % 10), (char)('0' + n % 10), '\0' };
	struct vmgenid_aml *dev = vmgenid_aml_device(ctx, name);
	struct vmgenid_aml *crs = vmgenid_aml_resource_template(ctx);

	vmgenid_aml_append(dev, vmgenid_aml_name_decl(ctx, "_HID", vmgenid_aml_string(ctx, "LNRO0005")));
	vmgenid_aml_append(dev, vmgenid_aml_name_decl(ctx, "_UID", vmgenid_aml_int(ctx, n)));
	vmgenid_aml_append(dev, vmgenid_aml_name_decl(ctx, "_CCA", vmgenid_aml_one(ctx)));
	vmgenid_aml_append(crs, vmgenid_aml_memory32_fixed(ctx, true, v->base, v->size));
	vmgenid_aml_append(crs, vmgenid_aml_interrupt(ctx, VMGENID_AML_INT_CONSUMER | (v->edge ? VMGENID_AML_INT_EDGE : 0), v->irq));
	vmgenid_aml_append(dev, vmgenid_aml_name_decl(ctx, "_CRS", crs));
	return dev;
}

static int build_dsdt(struct vmgenid_bytebuf *tables, const struct vmgenid_acpi_machine *m, size_t *start)
{
	struct vmgenid_aml_ctx *ctx = vmgenid_aml_ctx_new();
	struct vmgenid_aml *body, *s5, *sb;
	const char *why;
	int err;

	if (!ctx)
		return -ENOMEM;
	body = vmgenid_aml_block(ctx);

	/* SLP_TYPa, SLP_TYPb and two reserved values. */
	s5 = vmgenid_aml_package(ctx, 4);
	vmgenid_aml_append(s5, vmgenid_aml_int(ctx, m->slp_typ_s5));
	vmgenid_aml_append(s5, vmgenid_aml_zero(ctx));
	vmgenid_aml_append(s5, vmgenid_aml_zero(ctx));
	vmgenid_aml_append(s5, vmgenid_aml_zero(ctx));
	vmgenid_aml_append(body, vmgenid_aml_name_decl(ctx, "\\_S5", s5));

	sb = vmgenid_aml_scope(ctx, "\\_SB");
	vmgenid_aml_append(sb, build_com1(ctx, m));
	vmgenid_aml_append(sb, build_fw_cfg(ctx, m));
	for (unsigned int i = 0; i < m->nr_virtio && i < VMGENID_ACPI_MAX_VIRTIO_MMIO; i++)
		vmgenid_aml_append(sb, build_virtio_mmio(ctx, i, &m->virtio[i]));
	vmgenid_aml_append(body, sb);

	*start = vmgenid_acpi_table_begin(tables, "DSDT", DSDT_REVISION, &genvm_id);
	err = vmgenid_aml_serialize(ctx, body, tables);
	if (err) {
		why = vmgenid_aml_ctx_error(ctx);
		vmgenid_pr_err(MOD, "DSDT: %s", why ? why : "out of memory");
	} else {
		vmgenid_acpi_table_end(tables, *start);
	}
	vmgenid_aml_ctx_free(ctx);
	return err;
}

static int build_fadt(struct vmgenid_bytebuf *tables, const struct vmgenid_acpi_machine *m, size_t facs,
		      size_t dsdt, struct vmgenid_bios_loader *loader)
{
	size_t start = vmgenid_acpi_table_begin(tables, "FACP", FADT_REVISION, &genvm_id);
	/*
	 * PWR_BUTTON clear: the power button is fixed hardware (PM1 PWRBTN_STS
	 * and _EN), which system_powerdown presses; set would tell the OS there
	 * is none and it would never listen.  SLP_BUTTON set: no sleep button.
	 */
	uint32_t flags = FADT_F_WBINVD | FADT_F_PROC_C1 | FADT_F_SLP_BUTTON | FADT_F_FIX_RTC |
			 FADT_F_RESET_REG_SUP;
	uint16_t boot_arch = FADT_BOOT_LEGACY_DEVICES | FADT_BOOT_NO_VGA | FADT_BOOT_NO_MSI |
			     FADT_BOOT_NO_CMOS_RTC;
	int err;

	vmgenid_bytebuf_put_le32(tables, 0);             /* FIRMWARE_CTRL, linked below */
	vmgenid_bytebuf_put_le32(tables, 0);             /* DSDT, linked below */
	vmgenid_bytebuf_put_u8(tables, 0);               /* reserved (ACPI 1.0 INT_MODEL) */
	vmgenid_bytebuf_put_u8(tables, 0);               /* Preferred_PM_Profile: unspecified */
	vmgenid_bytebuf_put_le16(tables, m->sci_irq);    /* SCI_INT */
	/* No SMM: SMI_CMD 0 says the machine is always in ACPI mode (SCI_EN set). */
	vmgenid_bytebuf_put_le32(tables, 0);             /* SMI_CMD */
	vmgenid_bytebuf_put_u8(tables, 0);               /* ACPI_ENABLE */
	vmgenid_bytebuf_put_u8(tables, 0);               /* ACPI_DISABLE */
	vmgenid_bytebuf_put_u8(tables, 0);               /* S4BIOS_REQ */
	vmgenid_bytebuf_put_u8(tables, 0);               /* PSTATE_CNT */
	vmgenid_bytebuf_put_le32(tables, m->pm1a_evt_port);
	vmgenid_bytebuf_put_le32(tables, 0);             /* PM1b_EVT_BLK */
	vmgenid_bytebuf_put_le32(tables, m->pm1a_cnt_port);
	vmgenid_bytebuf_put_le32(tables, 0);             /* PM1b_CNT_BLK */
	vmgenid_bytebuf_put_le32(tables, 0);             /* PM2_CNT_BLK */
	vmgenid_bytebuf_put_le32(tables, m->pm_tmr_port);
	vmgenid_bytebuf_put_le32(tables, m->gpe0_port);
	vmgenid_bytebuf_put_le32(tables, 0);             /* GPE1_BLK */
	vmgenid_bytebuf_put_u8(tables, 4);               /* PM1_EVT_LEN */
	vmgenid_bytebuf_put_u8(tables, 2);               /* PM1_CNT_LEN */
	vmgenid_bytebuf_put_u8(tables, 0);               /* PM2_CNT_LEN */
	vmgenid_bytebuf_put_u8(tables, 4);               /* PM_TMR_LEN */
	vmgenid_bytebuf_put_u8(tables, m->gpe0_len);
	vmgenid_bytebuf_put_u8(tables, 0);               /* GPE1_BLK_LEN */
	vmgenid_bytebuf_put_u8(tables, 0);               /* GPE1_BASE */
	vmgenid_bytebuf_put_u8(tables, 0);               /* CST_CNT */
	vmgenid_bytebuf_put_le16(tables, FADT_NO_C2_LATENCY);
	vmgenid_bytebuf_put_le16(tables, FADT_NO_C3_LATENCY);
	vmgenid_bytebuf_put_le16(tables, 0);             /* FLUSH_SIZE: WBINVD works */
	vmgenid_bytebuf_put_le16(tables, 0);             /* FLUSH_STRIDE */
	vmgenid_bytebuf_put_u8(tables, 0);               /* DUTY_OFFSET */
	vmgenid_bytebuf_put_u8(tables, 0);               /* DUTY_WIDTH */
	vmgenid_bytebuf_put_u8(tables, 0);               /* DAY_ALRM: no RTC */
	vmgenid_bytebuf_put_u8(tables, 0);               /* MON_ALRM */
	vmgenid_bytebuf_put_u8(tables, 0);               /* CENTURY */
	vmgenid_bytebuf_put_le16(tables, boot_arch);     /* IAPC_BOOT_ARCH */
	vmgenid_bytebuf_put_u8(tables, 0);               /* reserved */
	vmgenid_bytebuf_put_le32(tables, flags);
	put_gas(tables, GAS_SYSTEM_IO, 8, GAS_ACCESS_BYTE, m->reset_port); /* RESET_REG */
	vmgenid_bytebuf_put_u8(tables, m->reset_value);
	vmgenid_bytebuf_put_le16(tables, 0);             /* ARM_BOOT_ARCH */
	vmgenid_bytebuf_put_u8(tables, FADT_MINOR_REVISION);
	vmgenid_bytebuf_put_le64(tables, 0);             /* X_FIRMWARE_CTRL, linked below */
	vmgenid_bytebuf_put_le64(tables, 0);             /* X_DSDT, linked below */
	/* PM1 status/enable/control are 16-bit registers, GPE ones 8-bit. */
	put_gas_io(tables, m->pm1a_evt_port, 4, GAS_ACCESS_WORD);   /* X_PM1a_EVT_BLK */
	put_gas_none(tables);                                        /* X_PM1b_EVT_BLK */
	put_gas_io(tables, m->pm1a_cnt_port, 2, GAS_ACCESS_WORD);   /* X_PM1a_CNT_BLK */
	put_gas_none(tables);                                        /* X_PM1b_CNT_BLK */
	put_gas_none(tables);                                        /* X_PM2_CNT_BLK */
	put_gas_io(tables, m->pm_tmr_port, 4, GAS_ACCESS_DWORD);    /* X_PM_TMR_BLK */
	put_gas_io(tables, m->gpe0_port, m->gpe0_len, GAS_ACCESS_BYTE); /* X_GPE0_BLK */
	put_gas_none(tables);                                        /* X_GPE1_BLK */
	put_gas_none(tables);                   /* SLEEP_CONTROL_REG: not hw-reduced */
	put_gas_none(tables);                   /* SLEEP_STATUS_REG */
	/* Hypervisor vendor identity: an 8-byte identifier, not a string. */
	vmgenid_bytebuf_append(tables, "GENVM\0\0\0", 8);
	vmgenid_acpi_table_end(tables, start);

	if (vmgenid_bytebuf_failed(tables))
		return -ENOMEM;
	if (tables->len - start != FADT_SIZE) {
		vmgenid_pr_err(MOD, "FADT is %zu bytes, not %d", tables->len - start, FADT_SIZE);
		return -EINVAL;
	}

	/*
	 * Both the 32-bit and the 64-bit forms: the blob is allocated below
	 * 4 GiB, and equal values are what ACPICA expects when both are set.
	 */
	err = link_pointer(tables, start + FADT_FIRMWARE_CTRL, 4, facs, loader);
	if (!err)
		err = link_pointer(tables, start + FADT_DSDT, 4, dsdt, loader);
	if (!err)
		err = link_pointer(tables, start + FADT_X_FIRMWARE_CTRL, 8, facs, loader);
	if (!err)
		err = link_pointer(tables, start + FADT_X_DSDT, 8, dsdt, loader);
	if (!err)
		err = table_checksum(tables, start, loader);
	return err;
}

static void put_madt_override(struct vmgenid_bytebuf *b, uint8_t irq, uint32_t gsi, uint16_t flags)
{
	vmgenid_bytebuf_put_u8(b, MADT_INT_OVERRIDE);
	vmgenid_bytebuf_put_u8(b, 10);
	vmgenid_bytebuf_put_u8(b, ISA_BUS);
	vmgenid_bytebuf_put_u8(b, irq);
	vmgenid_bytebuf_put_le32(b, gsi);
	vmgenid_bytebuf_put_le16(b, flags);
}

static int build_madt(struct vmgenid_bytebuf *tables, const struct vmgenid_acpi_machine *m, size_t *start,
		      struct vmgenid_bios_loader *loader)
{
	unsigned int cpu;

	*start = vmgenid_acpi_table_begin(tables, "APIC", MADT_REVISION, &genvm_id);
	vmgenid_bytebuf_put_le32(tables, m->lapic_addr);
	/* The 8259 pair is there too: the OS must mask it before using the IOAPIC. */
	vmgenid_bytebuf_put_le32(tables, MADT_PCAT_COMPAT);

	for (cpu = 0; cpu < m->nr_cpus; cpu++) {
		vmgenid_bytebuf_put_u8(tables, MADT_LOCAL_APIC);
		vmgenid_bytebuf_put_u8(tables, 8);
		vmgenid_bytebuf_put_u8(tables, (uint8_t)cpu); /* ACPI processor UID */
		vmgenid_bytebuf_put_u8(tables, (uint8_t)cpu); /* APIC ID */
		vmgenid_bytebuf_put_le32(tables, MADT_LAPIC_ENABLED);
	}

	vmgenid_bytebuf_put_u8(tables, MADT_IO_APIC);
	vmgenid_bytebuf_put_u8(tables, 12);
	vmgenid_bytebuf_put_u8(tables, m->ioapic_id);
	vmgenid_bytebuf_put_u8(tables, 0);
	vmgenid_bytebuf_put_le32(tables, m->ioapic_addr);
	vmgenid_bytebuf_put_le32(tables, 0); /* GSI base */

	put_madt_override(tables, PIT_IRQ, PIT_GSI, MPS_INTI_CONFORMS);
	/* The SCI is level triggered, active high (ACPI 6.x 5.2.12.5). */
	put_madt_override(tables, m->sci_irq, m->sci_irq, MPS_INTI_LEVEL | MPS_INTI_ACTIVE_HIGH);

	/* LINT1 of every local APIC is the NMI input, as on PC hardware. */
	vmgenid_bytebuf_put_u8(tables, MADT_LOCAL_APIC_NMI);
	vmgenid_bytebuf_put_u8(tables, 6);
	vmgenid_bytebuf_put_u8(tables, MADT_ALL_PROCESSORS);
	vmgenid_bytebuf_put_le16(tables, MPS_INTI_CONFORMS);
	vmgenid_bytebuf_put_u8(tables, LAPIC_LINT1);

	vmgenid_acpi_table_end(tables, *start);
	return table_checksum(tables, *start, loader);
}

static int build_xsdt(struct vmgenid_bytebuf *tables, const size_t *entries, unsigned int nr_entries,
		      size_t *start, struct vmgenid_bios_loader *loader)
{
	unsigned int i;
	int err;

	*start = vmgenid_acpi_table_begin(tables, "XSDT", XSDT_REVISION, &genvm_id);
	vmgenid_bytebuf_append(tables, NULL, 8 * (size_t)nr_entries);
	vmgenid_acpi_table_end(tables, *start);
	for (i = 0; i < nr_entries; i++) {
		err = link_pointer(tables, *start + VMGENID_ACPI_TABLE_HEADER_SIZE + 8 * (size_t)i, 8,
				   entries[i], loader);
		if (err)
			return err;
	}
	return table_checksum(tables, *start, loader);
}

/* The RSDP is no SDT: its own 36-byte layout with two checksums. */
static int build_rsdp(struct vmgenid_bytebuf *rsdp, size_t xsdt, struct vmgenid_bios_loader *loader)
{
	size_t start = rsdp->len;
	uint8_t *p;
	int err;

	p = vmgenid_bytebuf_append(rsdp, NULL, RSDP_SIZE);
	if (!p)
		return -ENOMEM;
	memcpy(p, "RSD PTR ", 8);
	memcpy(p + 9, genvm_id.oem_id, 6);
	p[15] = 2;                          /* revision: ACPI 2.0+ */
	vmgenid_put_le32(p + 16, 0);                /* RsdtAddress: XSDT only */
	vmgenid_put_le32(p + 20, RSDP_SIZE);        /* Length */
	vmgenid_put_le64(p + RSDP_XSDT_OFFSET, xsdt);

	/* The extended checksum covers the first one, so it must come last. */
	err = vmgenid_bios_loader_add_pointer(loader, VMGENID_ACPI_RSDP_FILE, (uint32_t)(start + RSDP_XSDT_OFFSET),
				      8, VMGENID_ACPI_TABLES_FILE);
	if (!err)
		err = vmgenid_bios_loader_add_checksum(loader, VMGENID_ACPI_RSDP_FILE,
					       (uint32_t)(start + RSDP_CHECKSUM_OFFSET),
					       (uint32_t)start, RSDP_V1_LENGTH);
	if (!err)
		err = vmgenid_bios_loader_add_checksum(loader, VMGENID_ACPI_RSDP_FILE,
					       (uint32_t)(start + RSDP_EXT_CHECKSUM_OFFSET),
					       (uint32_t)start, RSDP_SIZE);
	return err;
}

static int check_machine(const struct vmgenid_acpi_machine *m)
{
	/* APIC ids and processor UIDs are one byte; 0xff means "all". */
	if (m->nr_cpus < 1 || m->nr_cpus > 255) {
		vmgenid_pr_err(MOD, "%u CPUs: the MADT describes 1 to 255", m->nr_cpus);
		return -EINVAL;
	}
	if (!m->gpe0_len || m->gpe0_len % 2) {
		vmgenid_pr_err(MOD, "GPE0 block length %u: must be even and non-zero", m->gpe0_len);
		return -EINVAL;
	}
	if (!m->pm1a_evt_port || !m->pm1a_cnt_port || !m->pm_tmr_port || !m->gpe0_port ||
	    !m->reset_port) {
		vmgenid_pr_err(MOD, "a fixed-hardware register block has no I/O port");
		return -EINVAL;
	}
	if (m->sci_irq >= 16 || m->sci_irq == PIT_IRQ || m->uart_irq >= 16) {
		vmgenid_pr_err(MOD, "SCI IRQ %u / UART IRQ %u: need ISA IRQs (SCI not 0)", m->sci_irq,
		       m->uart_irq);
		return -EINVAL;
	}
	if (m->slp_typ_s5 > 7) {
		vmgenid_pr_err(MOD, "SLP_TYP %u does not fit its 3 bits", m->slp_typ_s5);
		return -EINVAL;
	}
	return 0;
}

int vmgenid_acpi_build_tables(const struct vmgenid_acpi_machine *m, struct vmgenid_dev *vmgenid,
		      struct vmgenid_bytebuf *rsdp, struct vmgenid_bytebuf *tables, struct vmgenid_bios_loader *loader)
{
	size_t rsdp_len = rsdp->len, tables_len = tables->len, script_len = loader->script.len;
	size_t facs, dsdt, fadt, madt, xsdt, xsdt_entries[4];
	unsigned int nr_entries = 0;
	long ssdt;
	int err;

	err = check_machine(m);
	if (err)
		return err;

	err = vmgenid_bios_loader_allocate(loader, VMGENID_ACPI_RSDP_FILE, 16, VMGENID_BIOS_LOADER_ZONE_FSEG);
	if (!err)
		err = vmgenid_bios_loader_allocate(loader, VMGENID_ACPI_TABLES_FILE, FACS_ALIGN,
					   VMGENID_BIOS_LOADER_ZONE_HIGH);
	if (err)
		goto fail;

	facs = build_facs(tables);
	err = build_dsdt(tables, m, &dsdt);
	if (!err)
		err = table_checksum(tables, dsdt, loader);
	if (err)
		goto fail;
	fadt = tables->len;
	err = build_fadt(tables, m, facs, dsdt, loader);
	if (err)
		goto fail;
	xsdt_entries[nr_entries++] = fadt;
	err = build_madt(tables, m, &madt, loader);
	if (err)
		goto fail;
	xsdt_entries[nr_entries++] = madt;

	if (vmgenid) {
		ssdt = vmgenid_dev_build_acpi(vmgenid, tables, VMGENID_ACPI_TABLES_FILE, loader);
		if (ssdt < 0) {
			err = (int)ssdt;
			goto fail;
		}
		xsdt_entries[nr_entries++] = (size_t)ssdt;
	}
	if (m->vmclock) {
		ssdt = vmgenid_vmclock_build_acpi(m->vmclock, tables, VMGENID_ACPI_TABLES_FILE, loader);
		if (ssdt < 0) {
			err = (int)ssdt;
			goto fail;
		}
		xsdt_entries[nr_entries++] = (size_t)ssdt;
	}

	err = build_xsdt(tables, xsdt_entries, nr_entries, &xsdt, loader);
	if (!err)
		err = build_rsdp(rsdp, xsdt, loader);
	if (!err && (vmgenid_bytebuf_failed(tables) || vmgenid_bytebuf_failed(rsdp) ||
		     vmgenid_bytebuf_failed(&loader->script)))
		err = -ENOMEM;
	if (!err && tables->len > UINT32_MAX)
		err = -E2BIG;
	if (!err)
		return 0;
fail:
	/* Leave no half-built blob or script behind for a caller to hand out. */
	rsdp->len = rsdp_len < rsdp->len ? rsdp_len : rsdp->len;
	tables->len = tables_len < tables->len ? tables_len : tables->len;
	loader->script.len = script_len < loader->script.len ? script_len : loader->script.len;
	return err;
}
