/* SPDX-License-Identifier: MIT */
/*
 * Where things go in guest-physical memory at boot.  Everything below 1 MiB
 * except the BIOS areas is scratch that Linux reclaims after boot (it keeps
 * the first megabyte out of its allocator anyway).
 */
#ifndef GENVM_LAYOUT_H
#define GENVM_LAYOUT_H

#define MiB (1ull << 20)
#define GiB (1ull << 30)

#define LAYOUT_HANDOFF 0x1000ull     /* firmware handoff block */
#define LAYOUT_GDT 0x2000ull
#define LAYOUT_PML4 0x3000ull
#define LAYOUT_PDPT 0x4000ull
#define LAYOUT_PD 0x5000ull          /* four pages: 0..4 GiB in 2 MiB pages */
#define LAYOUT_BOOT_PARAMS 0x10000ull /* Linux zero page */
#define LAYOUT_CMDLINE 0x20000ull
#define LAYOUT_CMDLINE_MAX 0x10000ull
#define LAYOUT_FW_START 0x30000ull   /* the firmware image must fit here .. */
#define LAYOUT_FW_END 0x9fc00ull     /* .. below the EBDA */
#define LAYOUT_EBDA 0x9fc00ull       /* reserved from here to 1 MiB */
#define LAYOUT_FSEG_START 0xe0000ull /* ALLOCATE FSEG: the RSDP */
#define LAYOUT_FSEG_END 0x100000ull
#define LAYOUT_KERNEL 0x100000ull    /* protected-mode kernel */

/* ALLOCATE HIGH: ACPI tables and the vmgenid page, E820-reserved. */
#define LAYOUT_HIGH_ZONE_SIZE (1ull * MiB)

#define LAYOUT_MIN_RAM (32ull * MiB)

/*
 * virtio-mmio windows: 0x200 bytes each (registers to 0xff, config space
 * from 0x100), packed from just below the IOAPIC, where QEMU's microvm puts
 * them too.  RAM never reaches here (it stops at 3 GiB below 4 GiB), and
 * neither does the E820-reserved KVM page at 0xfeffc000.  Device n has
 * IOAPIC pin 16 + n: pins 16..23 are not ISA lines, so no PIC shares them
 * and no MADT override is needed; the DSDT gives their trigger mode.
 */
#define LAYOUT_VIRTIO_MMIO_BASE 0xfeb00000ull
#define LAYOUT_VIRTIO_MMIO_SIZE 0x200ull
#define LAYOUT_VIRTIO_MAX 8
#define LAYOUT_VIRTIO_IRQ_BASE 16u

#endif
