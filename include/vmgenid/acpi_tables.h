/* SPDX-License-Identifier: MIT */
/*
 * The ACPI tables of a small PC-like machine (not hardware-reduced), handed
 * to firmware the way QEMU does it: two fw_cfg blobs, "etc/acpi/rsdp" and
 * "etc/acpi/tables", plus BIOS linker/loader commands that place them in
 * guest memory and patch the pointers between them.
 *
 * etc/acpi/tables holds FACS, DSDT, FADT, MADT, the vmgenid and vmclock
 * SSDTs (when those devices are given) and XSDT; etc/acpi/rsdp the ACPI 2.0 RSDP pointing at the
 * XSDT.  Pointers and checksums are left to the loader commands.
 */
#ifndef VMGENID_ACPI_TABLES_H
#define VMGENID_ACPI_TABLES_H

#include <stdbool.h>
#include <stdint.h>

#include "vmgenid/bios_loader.h"
#include "vmgenid/bytebuf.h"

#ifdef __cplusplus
extern "C" {
#endif

struct vmgenid_vmclock;
struct vmgenid_dev;

#define VMGENID_ACPI_RSDP_FILE "etc/acpi/rsdp"
#define VMGENID_ACPI_TABLES_FILE "etc/acpi/tables"

#define VMGENID_ACPI_MAX_VIRTIO_MMIO 8

/*
 * A virtio-mmio device in the DSDT: Device (VRnn) with _HID "LNRO0005",
 * the _UID n and a _CRS of its register window and its interrupt.
 */
struct vmgenid_acpi_virtio_mmio {
	uint32_t base;
	uint32_t size;
	uint32_t irq;   /* a GSI: an IOAPIC pin */
	bool edge;      /* Edge, else Level; always ActiveHigh, Exclusive */
};

struct vmgenid_acpi_machine {
	unsigned int nr_cpus;      /* local APIC ids 0..nr_cpus-1 */
	uint32_t lapic_addr;       /* 0xfee00000 */
	uint32_t ioapic_addr;      /* 0xfec00000, GSI base 0 */
	uint8_t ioapic_id;

	/* Fixed-hardware register blocks in I/O space. */
	uint16_t pm1a_evt_port;    /* PM1a_EVT_BLK: 2 bytes status, 2 bytes enable */
	uint16_t pm1a_cnt_port;    /* PM1a_CNT_BLK: 2 bytes */
	uint16_t pm_tmr_port;      /* PM_TMR_BLK: 4 bytes, 24-bit 3.579545 MHz */
	uint16_t gpe0_port;        /* GPE0_BLK: gpe0_len/2 status bytes, then enable */
	uint8_t gpe0_len;          /* bytes, even */
	uint8_t sci_irq;           /* ISA IRQ of the SCI, level/active-high override */
	uint16_t reset_port;       /* FADT RESET_REG (I/O) */
	uint8_t reset_value;
	uint8_t slp_typ_s5;        /* SLP_TYP value for \_S5 */

	/* Devices described in the DSDT. */
	uint16_t uart_port;        /* COM1 */
	uint8_t uart_irq;
	uint16_t fw_cfg_port;      /* QEMU0002, 12 ports with DMA */
	unsigned int nr_virtio;    /* at most VMGENID_ACPI_MAX_VIRTIO_MMIO */
	struct vmgenid_acpi_virtio_mmio virtio[VMGENID_ACPI_MAX_VIRTIO_MMIO];

	/* Devices with an SSDT of their own; NULL when absent. */
	struct vmgenid_vmclock *vmclock;   /* see vmgenid_vmclock_build_acpi() */
};

/*
 * Build both blobs and append their loader commands (the two ALLOCATEs,
 * every ADD_POINTER and ADD_CHECKSUM).  With vmgenid non-NULL its SSDT and
 * commands are included (see vmgenid_dev_build_acpi()).  0, or negative errno.
 */
int vmgenid_acpi_build_tables(const struct vmgenid_acpi_machine *m, struct vmgenid_dev *vmgenid,
		      struct vmgenid_bytebuf *rsdp, struct vmgenid_bytebuf *tables, struct vmgenid_bios_loader *loader);

#ifdef __cplusplus
}
#endif

#endif
