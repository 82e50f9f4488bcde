// SPDX-License-Identifier: MIT
/*
 * The ACPI phase: the library's table-loader executor, with fw_cfg for
 * files and two bump allocators (the E820-reserved high zone and the FSEG)
 * for memory.
 */
#include "vmgenid/bios_loader.h"
#include "vmgenid/fw_cfg.h"
#include "vmgenid/fw_cfg_guest.h"

#include "fw.h"

#define LOADER_MAX_SIZE (64 * VMGENID_BIOS_LOADER_CMD_SIZE * 8) /* 512 commands */
#define WRITE_MAX 64
/* VMGENID_ACPI_RSDP_FILE of acpi_tables.h, a host-only header. */
#define RSDP_FILE "etc/acpi/rsdp"

static uint8_t dma_desc[VMGENID_FW_CFG_DMA_DESC_SIZE] __attribute__((aligned(16)));
static uint8_t script[LOADER_MAX_SIZE] __attribute__((aligned(16)));
static uint8_t write_buf[WRITE_MAX] __attribute__((aligned(16)));
/* The fw_cfg file directory, read once: room for 63 entries. */
static uint8_t dir_copy[4096] __attribute__((aligned(16)));
static struct vmgenid_bios_loader_exec exec_state;
static struct vmgenid_fw_cfg_guest fw_cfg;

static void port_outw(void *opaque, uint16_t port, uint16_t v)
{
	(void)opaque;
	outw(port, v);
}

static uint8_t port_inb(void *opaque, uint16_t port)
{
	(void)opaque;
	return inb(port);
}

static void port_outl(void *opaque, uint16_t port, uint32_t v)
{
	(void)opaque;
	outl(port, v);
}

static uint32_t port_inl(void *opaque, uint16_t port)
{
	(void)opaque;
	return inl(port);
}

static const struct vmgenid_fw_cfg_guest_ops port_ops = {
	.outw = port_outw,
	.inb = port_inb,
	.outl = port_outl,
	.inl = port_inl,
};

void fw_cfg_setup(void)
{
	if (vmgenid_fw_cfg_guest_init(&fw_cfg, &port_ops, dma_desc, (uint64_t)(uintptr_t)dma_desc) < 0)
		fw_fail(fw_code(FW_E_NO_FW_CFG, 0), "no fw_cfg device");
	/* WRITE_POINTER goes back over DMA; without it the device cannot work. */
	if (!fw_cfg.has_dma)
		fw_fail(fw_code(FW_E_NO_DMA, 0), "fw_cfg has no DMA interface");
	/* Every look-up of the loader script then costs no VM exit. */
	vmgenid_fw_cfg_guest_cache_dir(&fw_cfg, dir_copy, (uint64_t)(uintptr_t)dir_copy, sizeof(dir_copy));
}

struct zone {
	uint64_t next, end;
};

struct alloc_ctx {
	struct zone high, fseg;
};

static int op_file_size(void *opaque, const char *name, uint32_t *size)
{
	uint16_t select;

	(void)opaque;
	return vmgenid_fw_cfg_guest_find(&fw_cfg, name, &select, size);
}

static int op_file_load(void *opaque, const char *name, uint32_t size, uint32_t align,
			uint8_t zone_id, uint8_t **data, uint64_t *addr)
{
	struct alloc_ctx *a = opaque;
	struct zone *z;
	uint16_t select;
	uint32_t file_size;
	uint64_t start;

	if (zone_id == VMGENID_BIOS_LOADER_ZONE_HIGH)
		z = &a->high;
	else if (zone_id == VMGENID_BIOS_LOADER_ZONE_FSEG)
		z = &a->fseg;
	else
		return -1;
	if (align == 0 || (align & (align - 1)))
		return -1;
	start = (z->next + align - 1) & ~((uint64_t)align - 1);
	if (start < z->next || start > z->end || z->end - start < size)
		return -1;
	if (vmgenid_fw_cfg_guest_find(&fw_cfg, name, &select, &file_size) < 0 || file_size != size)
		return -1;
	if (vmgenid_fw_cfg_guest_read(&fw_cfg, select, phys(start), start, size) < 0)
		return -1;
	z->next = start + size;
	*data = phys(start);
	*addr = start;
	return 0;
}

/* DMA reads the bytes from guest memory we own, not from the executor's stack. */
static int op_file_write(void *opaque, const char *name, uint32_t offset, const uint8_t *src,
			 uint32_t len)
{
	uint16_t select;
	uint32_t size;

	(void)opaque;
	if (len > WRITE_MAX || vmgenid_fw_cfg_guest_find(&fw_cfg, name, &select, &size) < 0)
		return -1;
	memcpy(write_buf, src, len);
	return vmgenid_fw_cfg_guest_write(&fw_cfg, select, offset, (uint64_t)(uintptr_t)write_buf, len);
}

uint64_t load_tables(const struct handoff *h)
{
	struct alloc_ctx zones = {
		.high = { h->high_start, h->high_end },
		.fseg = { h->fseg_start, h->fseg_end },
	};
	const struct vmgenid_bios_loader_ops ops = {
		.opaque = &zones,
		.file_size = op_file_size,
		.file_load = op_file_load,
		.file_write = op_file_write,
	};
	uint16_t select;
	uint32_t size;
	int ret;

	if (vmgenid_fw_cfg_guest_find(&fw_cfg, VMGENID_BIOS_LOADER_FILE, &select, &size) < 0)
		fw_fail(fw_code(FW_E_NO_LOADER, 0), "no etc/table-loader in fw_cfg");
	if (size > sizeof(script))
		fw_fail(fw_code(FW_E_LOADER_SIZE, 0), "etc/table-loader too large");
	if (vmgenid_fw_cfg_guest_read(&fw_cfg, select, script, (uint64_t)(uintptr_t)script, size) < 0)
		fw_fail(fw_code(FW_E_LOADER_READ, 0), "reading etc/table-loader failed");

	ret = vmgenid_bios_loader_run(&exec_state, script, size, &ops);
	if (ret < 0)
		fw_fail(fw_code(FW_E_LOADER_RUN, (uint32_t)-ret), vmgenid_bios_loader_strerror(ret));

	for (unsigned int i = 0; i < exec_state.nr_files; i++) {
		if (fw_streq(exec_state.files[i].name, RSDP_FILE))
			return exec_state.files[i].addr;
	}
	fw_fail(fw_code(FW_E_NO_RSDP, 0), "etc/table-loader did not place etc/acpi/rsdp");
}
