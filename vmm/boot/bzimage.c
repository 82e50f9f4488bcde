// SPDX-License-Identifier: MIT
#include <errno.h>

#include "vmgenid/endian.h"

#include "bzimage.h"
#include "layout.h"

int bzimage_parse(const uint8_t *buf, size_t len, uint64_t file_size, struct bzimage *out,
		  const char **why)
{
	struct bzimage bz = { 0 };
	unsigned int setup_sects;

	if (len < BZ_SETUP_HEADER_END || file_size < BZ_SETUP_HEADER_END) {
		*why = "too short to be a bzImage";
		return -EINVAL;
	}
	if (vmgenid_get_le32(buf + BZ_HEADER) != BZ_HDRS_MAGIC || vmgenid_get_le16(buf + BZ_BOOT_FLAG) != 0xaa55) {
		*why = "not a bzImage (no \"HdrS\" boot header)";
		return -EINVAL;
	}
	bz.version = vmgenid_get_le16(buf + BZ_VERSION);
	if (bz.version < BZ_MIN_VERSION) {
		*why = "boot protocol older than 2.12 (no 64-bit entry point)";
		return -EINVAL;
	}
	bz.loadflags = buf[BZ_LOADFLAGS];
	bz.xloadflags = vmgenid_get_le16(buf + BZ_XLOADFLAGS);
	if (!(bz.xloadflags & BZ_XLF_KERNEL_64)) {
		*why = "not a 64-bit kernel (XLF_KERNEL_64 not set)";
		return -EINVAL;
	}
	if (!(bz.loadflags & BZ_LOADED_HIGH)) {
		*why = "a zImage, not a bzImage (not loaded high)";
		return -EINVAL;
	}
	setup_sects = buf[BZ_SETUP_SECTS];
	if (setup_sects == 0)
		setup_sects = 4; /* what the protocol says 0 means */
	bz.setup_size = (uint64_t)(setup_sects + 1) * 512;
	if (file_size <= bz.setup_size) {
		*why = "truncated (no protected-mode kernel after the setup code)";
		return -EINVAL;
	}
	bz.kernel_size = file_size - bz.setup_size;
	bz.initrd_addr_max = vmgenid_get_le32(buf + BZ_INITRD_ADDR_MAX);
	bz.kernel_alignment = vmgenid_get_le32(buf + BZ_KERNEL_ALIGNMENT);
	bz.cmdline_size = vmgenid_get_le32(buf + BZ_CMDLINE_SIZE);
	bz.pref_address = vmgenid_get_le64(buf + BZ_PREF_ADDRESS);
	bz.init_size = vmgenid_get_le32(buf + BZ_INIT_SIZE);
	*out = bz;
	return 0;
}

uint64_t bzimage_ram_needed(const struct bzimage *bz)
{
	uint64_t base = bz->pref_address > LAYOUT_KERNEL ? bz->pref_address : LAYOUT_KERNEL;
	uint64_t size = bz->init_size > bz->kernel_size ? bz->init_size : bz->kernel_size;

	return base + size;
}
