// SPDX-License-Identifier: MIT
/*
 * Host half of the BIOS linker/loader: appends 128-byte commands to the
 * "etc/table-loader" script.  Arguments are checked here as strictly as the
 * executor checks them, so a script we build never fails in our firmware
 * for a reason the VMM could have caught.
 */
#include <errno.h>
#include <string.h>

#include "vmgenid/bios_loader.h"
#include "vmgenid/endian.h"
#include "vmgenid/log.h"

#define MOD "bios_loader"

void vmgenid_bios_loader_init(struct vmgenid_bios_loader *l)
{
	vmgenid_bytebuf_init(&l->script);
}

void vmgenid_bios_loader_free(struct vmgenid_bios_loader *l)
{
	vmgenid_bytebuf_free(&l->script);
}

static bool name_ok(const char *name)
{
	size_t n;

	if (!name) {
		vmgenid_pr_warn(MOD, "missing file name");
		return false;
	}
	/* One byte of the field must stay NUL for the firmware's sake. */
	n = strnlen(name, VMGENID_BIOS_LOADER_NAME_SIZE);
	if (n == 0 || n >= VMGENID_BIOS_LOADER_NAME_SIZE) {
		vmgenid_pr_warn(MOD, "bad file name \"%.*s\"", VMGENID_BIOS_LOADER_NAME_SIZE, name);
		return false;
	}
	return true;
}

static bool ptr_size_ok(uint8_t size)
{
	if (size == 1 || size == 2 || size == 4 || size == 8)
		return true;
	vmgenid_pr_warn(MOD, "bad pointer size %u", size);
	return false;
}

/* A zero-filled command of type cmd appended to the script, or NULL. */
static uint8_t *new_cmd(struct vmgenid_bios_loader *l, uint32_t cmd)
{
	uint8_t *c = vmgenid_bytebuf_append(&l->script, NULL, VMGENID_BIOS_LOADER_CMD_SIZE);

	if (c)
		vmgenid_put_le32(c + VMGENID_BIOS_LOADER_OFF_COMMAND, cmd);
	return c;
}

static void put_name(uint8_t *c, unsigned int off, const char *name)
{
	/* The command is already zero-filled, so this leaves NUL padding. */
	memcpy(c + off, name, strlen(name));
}

int vmgenid_bios_loader_allocate(struct vmgenid_bios_loader *l, const char *file, uint32_t align, uint8_t zone)
{
	uint8_t *c;

	if (!name_ok(file))
		return -EINVAL;
	if (align == 0 || (align & (align - 1))) {
		vmgenid_pr_warn(MOD, "%s: alignment %#x is not a power of two", file, align);
		return -EINVAL;
	}
	if (zone != VMGENID_BIOS_LOADER_ZONE_HIGH && zone != VMGENID_BIOS_LOADER_ZONE_FSEG) {
		vmgenid_pr_warn(MOD, "%s: unknown zone %u", file, zone);
		return -EINVAL;
	}
	c = new_cmd(l, VMGENID_BIOS_LOADER_CMD_ALLOCATE);
	if (!c)
		return -ENOMEM;
	put_name(c, VMGENID_BIOS_LOADER_OFF_FILE, file);
	vmgenid_put_le32(c + VMGENID_BIOS_LOADER_OFF_ALLOC_ALIGN, align);
	c[VMGENID_BIOS_LOADER_OFF_ALLOC_ZONE] = zone;
	return 0;
}

int vmgenid_bios_loader_add_pointer(struct vmgenid_bios_loader *l, const char *dest_file, uint32_t dest_offset,
			    uint8_t size, const char *src_file)
{
	uint8_t *c;

	if (!name_ok(dest_file) || !name_ok(src_file) || !ptr_size_ok(size))
		return -EINVAL;
	c = new_cmd(l, VMGENID_BIOS_LOADER_CMD_ADD_POINTER);
	if (!c)
		return -ENOMEM;
	put_name(c, VMGENID_BIOS_LOADER_OFF_FILE, dest_file);
	put_name(c, VMGENID_BIOS_LOADER_OFF_SRC_FILE, src_file);
	vmgenid_put_le32(c + VMGENID_BIOS_LOADER_OFF_PTR_OFFSET, dest_offset);
	c[VMGENID_BIOS_LOADER_OFF_PTR_SIZE] = size;
	return 0;
}

int vmgenid_bios_loader_add_checksum(struct vmgenid_bios_loader *l, const char *file, uint32_t checksum_offset,
			     uint32_t start, uint32_t length)
{
	uint8_t *c;

	if (!name_ok(file))
		return -EINVAL;
	/*
	 * The checksum byte is summed with the rest, which is what lets the
	 * firmware fix it by subtracting the current sum.
	 */
	if ((uint64_t)start + length > UINT32_MAX || checksum_offset < start ||
	    checksum_offset - start >= length) {
		vmgenid_pr_warn(MOD, "%s: checksum at %#x outside [%#x, +%#x)", file, checksum_offset,
			start, length);
		return -EINVAL;
	}
	c = new_cmd(l, VMGENID_BIOS_LOADER_CMD_ADD_CHECKSUM);
	if (!c)
		return -ENOMEM;
	put_name(c, VMGENID_BIOS_LOADER_OFF_FILE, file);
	vmgenid_put_le32(c + VMGENID_BIOS_LOADER_OFF_CKSUM_OFFSET, checksum_offset);
	vmgenid_put_le32(c + VMGENID_BIOS_LOADER_OFF_CKSUM_START, start);
	vmgenid_put_le32(c + VMGENID_BIOS_LOADER_OFF_CKSUM_LENGTH, length);
	return 0;
}

int vmgenid_bios_loader_write_pointer(struct vmgenid_bios_loader *l, const char *dest_file, uint32_t dst_offset,
			      uint8_t size, const char *src_file, uint32_t src_offset)
{
	uint8_t *c;

	if (!name_ok(dest_file) || !name_ok(src_file) || !ptr_size_ok(size))
		return -EINVAL;
	c = new_cmd(l, VMGENID_BIOS_LOADER_CMD_WRITE_POINTER);
	if (!c)
		return -ENOMEM;
	put_name(c, VMGENID_BIOS_LOADER_OFF_FILE, dest_file);
	put_name(c, VMGENID_BIOS_LOADER_OFF_SRC_FILE, src_file);
	vmgenid_put_le32(c + VMGENID_BIOS_LOADER_OFF_WRPTR_DST_OFFSET, dst_offset);
	vmgenid_put_le32(c + VMGENID_BIOS_LOADER_OFF_WRPTR_SRC_OFFSET, src_offset);
	c[VMGENID_BIOS_LOADER_OFF_WRPTR_SIZE] = size;
	return 0;
}
