/* SPDX-License-Identifier: MIT */
/*
 * A stand-in for the guest's firmware, so that the examples can show what
 * the guest ends up seeing.  A real VMM does not need any of this: SeaBIOS,
 * OVMF or genvm's own firmware do the same inside the guest.
 *
 * It does what they do: find "etc/table-loader" in the fw_cfg directory,
 * read it, and run it with the library's executor, placing each file the
 * script allocates in guest RAM and writing the addresses it asks for back
 * over fw_cfg DMA.  Each port access goes to vmgenid_fw_cfg_io() exactly as
 * a VMM's vCPU loop forwards an I/O exit on ports 0x510..0x51b.
 *
 * Valid C and C++, all static, so both examples include it.
 */
#ifndef EXAMPLE_FIRMWARE_H
#define EXAMPLE_FIRMWARE_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <vmgenid/bios_loader.h>
#include <vmgenid/endian.h>
#include <vmgenid/fw_cfg.h>
#include <vmgenid/fw_cfg_guest.h>
#include <vmgenid/guest_mem.h>

/* Guest-physical layout of the scratch areas the firmware uses. */
#define FIRMWARE_DMA_DESC 0x1000u  /* the 16-byte fw_cfg DMA descriptor */
#define FIRMWARE_SCRATCH 0x2000u   /* bytes it writes back over DMA */
#define FIRMWARE_FSEG 0xe0000u     /* the F-segment, for the RSDP */
#define FIRMWARE_FSEG_END 0x100000u

struct firmware {
	struct vmgenid_fw_cfg *fw_cfg; /* the VMM's device, reached only through its ports */
	const struct vmgenid_guest_mem *mem;
	struct vmgenid_fw_cfg_guest guest;
	struct vmgenid_fw_cfg_guest_ops ops;
	uint64_t high_next; /* HIGH-zone allocations go down from the top of RAM */
	uint64_t fseg_next;
};

/* One I/O exit: what a VMM's vCPU loop does for ports 0x510..0x51b. */
static void firmware_port(void *opaque, uint16_t port, uint8_t *data, uint32_t len,
			  bool is_write)
{
	struct firmware *f = (struct firmware *)opaque;

	vmgenid_fw_cfg_io(f->fw_cfg, (uint64_t)(port - VMGENID_FW_CFG_IO_BASE), data, len,
			  is_write);
}

static void firmware_outw(void *opaque, uint16_t port, uint16_t value)
{
	uint8_t b[2];

	vmgenid_put_le16(b, value);
	firmware_port(opaque, port, b, 2, true);
}

static uint8_t firmware_inb(void *opaque, uint16_t port)
{
	uint8_t b = 0;

	firmware_port(opaque, port, &b, 1, false);
	return b;
}

static void firmware_outl(void *opaque, uint16_t port, uint32_t value)
{
	uint8_t b[4];

	vmgenid_put_le32(b, value);
	firmware_port(opaque, port, b, 4, true);
}

static uint32_t firmware_inl(void *opaque, uint16_t port)
{
	uint8_t b[4] = { 0, 0, 0, 0 };

	firmware_port(opaque, port, b, 4, false);
	return vmgenid_get_le32(b);
}

/* The executor's view of fw_cfg: sizes, loads into guest RAM, write-backs. */
static int firmware_file_size(void *opaque, const char *name, uint32_t *size)
{
	struct firmware *f = (struct firmware *)opaque;
	uint16_t select;

	return vmgenid_fw_cfg_guest_find(&f->guest, name, &select, size);
}

static int firmware_file_load(void *opaque, const char *name, uint32_t size, uint32_t align,
			      uint8_t zone, uint8_t **data, uint64_t *addr)
{
	struct firmware *f = (struct firmware *)opaque;
	uint16_t select;
	uint32_t found;
	uint64_t a;

	if (vmgenid_fw_cfg_guest_find(&f->guest, name, &select, &found) || found != size)
		return -1;
	if (zone == VMGENID_BIOS_LOADER_ZONE_FSEG) {
		a = (f->fseg_next + align - 1) & ~(uint64_t)(align - 1);
		if (a + size > FIRMWARE_FSEG_END)
			return -1;
		f->fseg_next = a + size;
	} else {
		if (size > f->high_next)
			return -1;
		a = (f->high_next - size) & ~(uint64_t)(align - 1);
		if (a < FIRMWARE_FSEG_END)
			return -1;
		f->high_next = a;
	}
	*data = (uint8_t *)vmgenid_guest_mem_ptr(f->mem, a, size);
	if (!*data || vmgenid_fw_cfg_guest_read(&f->guest, select, *data, a, size))
		return -1;
	*addr = a;
	return 0;
}

static int firmware_file_write(void *opaque, const char *name, uint32_t offset,
			       const uint8_t *src, uint32_t len)
{
	struct firmware *f = (struct firmware *)opaque;
	uint16_t select;
	uint32_t size;

	if (vmgenid_fw_cfg_guest_find(&f->guest, name, &select, &size) ||
	    vmgenid_guest_mem_write(f->mem, FIRMWARE_SCRATCH, src, len))
		return -1;
	return vmgenid_fw_cfg_guest_write(&f->guest, select, offset, FIRMWARE_SCRATCH, len);
}

/*
 * Boot: find and run the table-loader script.  0, or -1 with *why set to
 * what failed.
 */
static int firmware_boot(struct firmware *f, struct vmgenid_fw_cfg *fw_cfg,
			 const struct vmgenid_guest_mem *mem, uint64_t ram_size, const char **why)
{
	struct vmgenid_bios_loader_ops loader_ops;
	struct vmgenid_bios_loader_exec exec;
	uint8_t *script;
	uint64_t script_addr;
	uint32_t len;
	int err;

	memset(f, 0, sizeof(*f));
	f->fw_cfg = fw_cfg;
	f->mem = mem;
	f->high_next = ram_size;
	f->fseg_next = FIRMWARE_FSEG;
	f->ops.opaque = f;
	f->ops.outw = firmware_outw;
	f->ops.inb = firmware_inb;
	f->ops.outl = firmware_outl;
	f->ops.inl = firmware_inl;
	if (vmgenid_fw_cfg_guest_init(&f->guest, &f->ops,
				      (uint8_t *)vmgenid_guest_mem_ptr(mem, FIRMWARE_DMA_DESC, 16),
				      FIRMWARE_DMA_DESC)) {
		*why = "no fw_cfg device";
		return -1;
	}
	if (firmware_file_size(f, VMGENID_BIOS_LOADER_FILE, &len) ||
	    firmware_file_load(f, VMGENID_BIOS_LOADER_FILE, len, 64,
			       VMGENID_BIOS_LOADER_ZONE_HIGH, &script, &script_addr)) {
		*why = "cannot read etc/table-loader";
		return -1;
	}
	loader_ops.opaque = f;
	loader_ops.file_size = firmware_file_size;
	loader_ops.file_load = firmware_file_load;
	loader_ops.file_write = firmware_file_write;
	memset(&exec, 0, sizeof(exec));
	err = vmgenid_bios_loader_run(&exec, script, len, &loader_ops);
	if (err) {
		*why = vmgenid_bios_loader_strerror(err);
		return -1;
	}
	return 0;
}

#endif
