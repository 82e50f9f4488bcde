// SPDX-License-Identifier: MIT
#include <string.h>


#include "fuzz_firmware.h"
#include "fw_cfg_ports.h"

static uint8_t *hva(struct fuzz_firmware *f, uint64_t gpa)
{
	return f->ram + (gpa - f->base);
}

int fuzz_firmware_init(struct fuzz_firmware *f, uint8_t *ram, uint64_t base, uint64_t size,
		       struct vmgenid_fw_cfg *fw, const struct vmgenid_fw_cfg_guest_ops *ops)
{
	*f = (struct fuzz_firmware){ .ram = ram, .base = base, .size = size, .fw = fw,
				     .next = base + FUZZ_FW_HEAP };
	f->ops = ops ? *ops : fw_cfg_ports_ops(fw);
	return vmgenid_fw_cfg_guest_init(&f->g, &f->ops, ram, base);
}

/* Whether [gpa, gpa + len) is RAM the allocator may hand out. */
static bool heap_fits(const struct fuzz_firmware *f, uint64_t gpa, uint64_t len)
{
	uint64_t end = f->base + f->size;

	return gpa >= f->base + FUZZ_FW_HEAP && gpa <= end && len <= end - gpa;
}

static int file_size(void *opaque, const char *name, uint32_t *size)
{
	struct fuzz_firmware *f = opaque;
	uint16_t sel;

	return vmgenid_fw_cfg_guest_find(&f->g, name, &sel, size) ? -1 : 0;
}

static int file_load(void *opaque, const char *name, uint32_t size, uint32_t align,
		     uint8_t zone, uint8_t **data, uint64_t *addr)
{
	struct fuzz_firmware *f = opaque;
	uint64_t at = (f->next + align - 1) & ~((uint64_t)align - 1);
	uint16_t sel;
	uint32_t actual;

	(void)zone; /* one zone: the RAM is small */
	if (at < f->next || !heap_fits(f, at, size) ||
	    vmgenid_fw_cfg_guest_find(&f->g, name, &sel, &actual) || actual != size ||
	    vmgenid_fw_cfg_guest_read(&f->g, sel, hva(f, at), at, size))
		return -1;
	f->next = at + size;
	*data = hva(f, at);
	*addr = at;
	return 0;
}

static int file_write(void *opaque, const char *name, uint32_t offset, const uint8_t *src,
		      uint32_t len)
{
	struct fuzz_firmware *f = opaque;
	uint64_t scratch = f->base + FUZZ_FW_SCRATCH;
	uint16_t sel;
	uint32_t size;

	if (len > FUZZ_FW_HEAP - FUZZ_FW_SCRATCH || vmgenid_fw_cfg_guest_find(&f->g, name, &sel, &size))
		return -1;
	memcpy(hva(f, scratch), src, len);
	return vmgenid_fw_cfg_guest_write(&f->g, sel, offset, scratch, len);
}

int fuzz_firmware_run_loader(struct fuzz_firmware *f, struct vmgenid_bios_loader_exec *ex)
{
	const struct vmgenid_bios_loader_ops ops = { f, file_size, file_load, file_write };
	uint64_t at = f->next;
	uint16_t sel;
	uint32_t size;

	memset(ex, 0, sizeof(*ex));
	if (vmgenid_fw_cfg_guest_find(&f->g, VMGENID_BIOS_LOADER_FILE, &sel, &size) || !heap_fits(f, at, size) ||
	    vmgenid_fw_cfg_guest_read(&f->g, sel, hva(f, at), at, size))
		return -VMGENID_BIOS_LOADER_E_NO_FILE;
	f->next = at + size;
	return vmgenid_bios_loader_run(ex, hva(f, at), size, &ops);
}
