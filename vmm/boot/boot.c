// SPDX-License-Identifier: MIT
/*
 * Linux x86 boot protocol, 64-bit entry (Documentation/arch/x86/boot.rst):
 * the protected-mode kernel at 1 MiB, a zero page holding a copy of the
 * setup header plus what the loader fills in, and entry at load + 0x200
 * with RSI pointing at the zero page, paging on and identity-mapped.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "vmgenid/endian.h"

#include "../firmware/handoff.h"
#include "boot.h"
#include "bzimage.h"
#include "firmware.h"
#include "layout.h"
#include "vm.h"

/* boot_params fields outside the setup header */
#define BP_EXT_RAMDISK_IMAGE 0x0c0
#define BP_EXT_RAMDISK_SIZE 0x0c4
#define BP_EXT_CMD_LINE_PTR 0x0c8
#define BP_E820_ENTRIES 0x1e8
#define BP_E820_TABLE 0x2d0
#define BP_E820_MAX 128
#define BP_SIZE 0x1000

#define E820_ENTRY_SIZE 20
#define E820_RAM 1
#define E820_RESERVED 2

#define LOADER_TYPE_UNDEFINED 0xff

/* GDT selectors the boot protocol names: __BOOT_CS and __BOOT_DS. */
#define GDT_CODE_SEL 0x10
#define GDT_DATA_SEL 0x18
#define GDT_TSS_SEL 0x20
#define GDT_ENTRIES 6 /* the TSS descriptor takes two slots */

#define PTE_PRESENT 0x1ull
#define PTE_WRITE 0x2ull
#define PTE_LARGE 0x80ull

static int read_file_into(const char *path, uint64_t offset, uint8_t *dst, uint64_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	uint64_t done = 0;

	if (fd < 0)
		goto fail;
	while (done < len) {
		ssize_t n = pread(fd, dst + done, len - done, (off_t)(offset + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO; /* the file shrank under us */
			close(fd);
			goto fail;
		}
		done += (uint64_t)n;
	}
	close(fd);
	return 0;
fail:
	fprintf(stderr, "genvm: %s: %s\n", path, strerror(errno));
	return -1;
}

static int setup_page_tables(struct vm *vm)
{
	uint8_t *pml4 = vm_ptr(vm, LAYOUT_PML4, 0x1000);
	uint8_t *pdpt = vm_ptr(vm, LAYOUT_PDPT, 0x1000);
	uint8_t *pd = vm_ptr(vm, LAYOUT_PD, 4 * 0x1000);

	if (!pml4 || !pdpt || !pd)
		return -1;
	memset(pml4, 0, 0x1000);
	memset(pdpt, 0, 0x1000);
	vmgenid_put_le64(pml4, LAYOUT_PDPT | PTE_PRESENT | PTE_WRITE);
	for (uint64_t i = 0; i < 4; i++)
		vmgenid_put_le64(pdpt + 8 * i, (LAYOUT_PD + i * 0x1000) | PTE_PRESENT | PTE_WRITE);
	for (uint64_t i = 0; i < 4 * 512; i++)
		vmgenid_put_le64(pd + 8 * i, (i << 21) | PTE_PRESENT | PTE_WRITE | PTE_LARGE);
	return 0;
}

static int setup_gdt(struct vm *vm, struct vcpu_boot_state *cpu)
{
	static const uint64_t gdt[GDT_ENTRIES] = {
		0,
		0,
		0x00af9b000000ffffull, /* 0x10: 64-bit code, present, DPL 0 */
		0x00cf93000000ffffull, /* 0x18: 4 GiB data, present, DPL 0 */
		0x00008b0000000067ull, /* 0x20: busy 64-bit TSS at 0, limit 0x67 */
		0,                     /* upper half of the TSS descriptor */
	};
	uint8_t *p = vm_ptr(vm, LAYOUT_GDT, sizeof(gdt));

	if (!p)
		return -1;
	for (size_t i = 0; i < GDT_ENTRIES; i++)
		vmgenid_put_le64(p + 8 * i, gdt[i]);
	cpu->gdt_base = LAYOUT_GDT;
	cpu->gdt_limit = sizeof(gdt) - 1;
	cpu->code_sel = GDT_CODE_SEL;
	cpu->data_sel = GDT_DATA_SEL;
	cpu->tss_sel = GDT_TSS_SEL;
	return 0;
}

static void e820_add(uint8_t *bp, uint64_t addr, uint64_t size, uint32_t type)
{
	uint8_t n = bp[BP_E820_ENTRIES];
	uint8_t *e = bp + BP_E820_TABLE + (size_t)n * E820_ENTRY_SIZE;

	if (size == 0 || n >= BP_E820_MAX)
		return;
	vmgenid_put_le64(e, addr);
	vmgenid_put_le64(e + 8, size);
	vmgenid_put_le32(e + 16, type);
	bp[BP_E820_ENTRIES] = (uint8_t)(n + 1);
}

/*
 * The map Linux gets.  The high zone is reserved, not ACPI: it holds the
 * vmgenid page, which the spec wants in reserved memory (R1d), beside the
 * ACPI tables, and the VMClock page, which UAPI.13 wants outside both RAM
 * and ACPI ranges.
 */
static void setup_e820(struct vm *vm, uint8_t *bp, uint64_t high_start)
{
	e820_add(bp, 0, LAYOUT_EBDA, E820_RAM);
	e820_add(bp, LAYOUT_EBDA, LAYOUT_KERNEL - LAYOUT_EBDA, E820_RESERVED);
	e820_add(bp, LAYOUT_KERNEL, high_start - LAYOUT_KERNEL, E820_RAM);
	e820_add(bp, high_start, vm->low_size - high_start, E820_RESERVED);
	e820_add(bp, VM_KVM_IDENTITY_MAP, VM_KVM_PRIVATE_SIZE, E820_RESERVED);
	e820_add(bp, VM_HIGH_RAM_START, vm->high_size, E820_RAM);
}

static int load_kernel(struct vm *vm, const struct genvm_config *cfg, uint8_t *bp)
{
	const struct bzimage *bz = &cfg->kernel;
	uint8_t setup[BP_SIZE];
	uint64_t hdr_end;
	uint8_t *dst;

	/* The header says how long it is: byte 0x201 is a jump over it. */
	if (read_file_into(cfg->kernel_path, 0, setup, BZ_SETUP_HEADER_END) < 0)
		return -1;
	hdr_end = 0x202 + (uint64_t)setup[0x201];
	if (hdr_end < BZ_SETUP_HEADER_END)
		hdr_end = BZ_SETUP_HEADER_END;
	if (hdr_end > BP_E820_TABLE)
		hdr_end = BP_E820_TABLE;
	if (read_file_into(cfg->kernel_path, 0, setup, hdr_end) < 0)
		return -1;
	memcpy(bp + BZ_SETUP_SECTS, setup + BZ_SETUP_SECTS, hdr_end - BZ_SETUP_SECTS);

	dst = vm_ptr(vm, LAYOUT_KERNEL, bz->kernel_size);
	if (!dst || bzimage_ram_needed(bz) > vm->low_size) {
		fprintf(stderr, "genvm: -kernel %s: does not fit in guest RAM\n", cfg->kernel_path);
		return -1;
	}
	if (read_file_into(cfg->kernel_path, bz->setup_size, dst, bz->kernel_size) < 0)
		return -1;

	bp[BZ_TYPE_OF_LOADER] = LOADER_TYPE_UNDEFINED;
	bp[BZ_LOADFLAGS] = (uint8_t)(bz->loadflags | BZ_CAN_USE_HEAP);
	vmgenid_put_le16(bp + BZ_HEAP_END_PTR, 0xfe00);
	return 0;
}

static int load_initrd(struct vm *vm, const struct genvm_config *cfg, uint8_t *bp,
		       uint64_t high_start, uint64_t *initrd_addr)
{
	uint64_t top = high_start, addr;
	uint8_t *dst;

	*initrd_addr = 0;
	if (!cfg->initrd_path)
		return 0;
	/* Highest page-aligned spot that the kernel can reach and does not use. */
	if (top > (uint64_t)cfg->kernel.initrd_addr_max + 1)
		top = (uint64_t)cfg->kernel.initrd_addr_max + 1;
	if (cfg->initrd_size > top) {
		fprintf(stderr, "genvm: -initrd %s: does not fit below %#llx\n", cfg->initrd_path,
			(unsigned long long)top);
		return -1;
	}
	addr = (top - cfg->initrd_size) & ~0xfffull;
	if (addr < bzimage_ram_needed(&cfg->kernel)) {
		fprintf(stderr, "genvm: -initrd %s: does not fit beside the kernel in %lluM\n",
			cfg->initrd_path, (unsigned long long)(vm->ram_size / MiB));
		return -1;
	}
	dst = vm_ptr(vm, addr, cfg->initrd_size ? cfg->initrd_size : 1);
	if (!dst)
		return -1;
	if (cfg->initrd_size && read_file_into(cfg->initrd_path, 0, dst, cfg->initrd_size) < 0)
		return -1;
	vmgenid_put_le32(bp + BZ_RAMDISK_IMAGE, (uint32_t)addr);
	vmgenid_put_le32(bp + BZ_RAMDISK_SIZE, (uint32_t)cfg->initrd_size);
	vmgenid_put_le32(bp + BP_EXT_RAMDISK_IMAGE, (uint32_t)(addr >> 32));
	vmgenid_put_le32(bp + BP_EXT_RAMDISK_SIZE, (uint32_t)(cfg->initrd_size >> 32));
	*initrd_addr = addr;
	return 0;
}

static int load_cmdline(struct vm *vm, const struct genvm_config *cfg, uint8_t *bp)
{
	size_t len = strlen(cfg->cmdline);
	uint8_t *dst = vm_ptr(vm, LAYOUT_CMDLINE, LAYOUT_CMDLINE_MAX);

	if (!dst || len >= LAYOUT_CMDLINE_MAX) {
		fprintf(stderr, "genvm: -append: command line too long\n");
		return -1;
	}
	memcpy(dst, cfg->cmdline, len + 1);
	vmgenid_put_le32(bp + BZ_CMD_LINE_PTR, (uint32_t)LAYOUT_CMDLINE);
	vmgenid_put_le32(bp + BP_EXT_CMD_LINE_PTR, 0);
	return 0;
}

int boot_setup(struct vm *vm, const struct genvm_config *cfg, struct boot_info *out)
{
	uint64_t high_start = vm->low_size - LAYOUT_HIGH_ZONE_SIZE;
	uint64_t fw_entry, fw_end;
	struct handoff h;
	uint8_t *bp, *ho;

	memset(out, 0, sizeof(*out));
	bp = vm_ptr(vm, LAYOUT_BOOT_PARAMS, BP_SIZE);
	ho = vm_ptr(vm, LAYOUT_HANDOFF, HANDOFF_SIZE);
	if (!bp || !ho || vm->low_size < LAYOUT_MIN_RAM) {
		fprintf(stderr, "genvm: guest RAM too small for the boot layout\n");
		return -1;
	}
	memset(bp, 0, BP_SIZE);

	if (firmware_load(vm, &fw_entry, &fw_end) < 0 || load_kernel(vm, cfg, bp) < 0 ||
	    load_initrd(vm, cfg, bp, high_start, &out->initrd_addr) < 0 ||
	    load_cmdline(vm, cfg, bp) < 0 || setup_page_tables(vm) < 0 ||
	    setup_gdt(vm, &out->cpu) < 0)
		return -1;
	setup_e820(vm, bp, high_start);

	h = (struct handoff){
		.magic = HANDOFF_MAGIC,
		.version = HANDOFF_VERSION,
		.boot_params = LAYOUT_BOOT_PARAMS,
		.kernel_entry = LAYOUT_KERNEL + BZ_ENTRY64_OFFSET,
		.high_start = high_start,
		.high_end = LAYOUT_VMCLOCK_PAGE(vm->low_size),
		.fseg_start = LAYOUT_FSEG_START,
		.fseg_end = LAYOUT_FSEG_END,
	};
	handoff_encode(ho, &h);

	out->kernel_entry = h.kernel_entry;
	out->high_start = h.high_start;
	out->high_end = h.high_end;
	out->cpu.rip = fw_entry;
	out->cpu.rsp = fw_end & ~0xfull;
	out->cpu.rdi = LAYOUT_HANDOFF;
	out->cpu.cr3 = LAYOUT_PML4;
	return 0;
}
