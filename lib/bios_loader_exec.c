// SPDX-License-Identifier: MIT
/*
 * Executor half of the BIOS linker/loader.  It links into the guest
 * firmware as well as the host library, so it calls nothing outside this
 * file and the environment's ops: no libc, not even memcpy.
 *
 * Every command is decoded into locals, checked completely, and only then
 * acted on, so a command that fails leaves guest memory and fw_cfg exactly
 * as the commands before it left them.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmgenid/bios_loader.h"
#include "vmgenid/endian.h"

/* Whether a name field holds a non-empty, NUL-terminated string. */
static bool name_ok(const uint8_t *field)
{
	unsigned int i;

	if (field[0] == 0)
		return false;
	for (i = 1; i < VMGENID_BIOS_LOADER_NAME_SIZE; i++)
		if (field[i] == 0)
			return true;
	return false;
}

static bool name_eq(const char *a, const uint8_t *b)
{
	unsigned int i;

	for (i = 0; i < VMGENID_BIOS_LOADER_NAME_SIZE; i++) {
		if ((uint8_t)a[i] != b[i])
			return false;
		if (b[i] == 0)
			return true;
	}
	return false;
}

static void name_copy(char *dst, const uint8_t *src)
{
	unsigned int i;

	/* Stops at the NUL that name_ok() guaranteed; the tail is never read. */
	for (i = 0; i < VMGENID_BIOS_LOADER_NAME_SIZE; i++) {
		dst[i] = (char)src[i];
		if (src[i] == 0)
			break;
	}
}

static struct vmgenid_bios_loader_file *find_file(struct vmgenid_bios_loader_exec *st, const uint8_t *name)
{
	unsigned int i;

	for (i = 0; i < st->nr_files; i++)
		if (name_eq(st->files[i].name, name))
			return &st->files[i];
	return NULL;
}

static bool ptr_size_ok(uint8_t size)
{
	return size == 1 || size == 2 || size == 4 || size == 8;
}

/* Whether [off, off + len) lies within a file of file_size bytes. */
static bool in_file(uint32_t off, uint32_t len, uint32_t file_size)
{
	return (uint64_t)off + len <= file_size;
}

/* base + add as a size-byte value; false if it wraps or needs more bytes. */
static bool ptr_add(uint64_t base, uint64_t add, uint8_t size, uint64_t *out)
{
	uint64_t sum = base + add;

	if (sum < base)
		return false;
	if (size < 8 && (sum >> (size * 8u)) != 0)
		return false;
	*out = sum;
	return true;
}

static uint64_t get_le_n(const uint8_t *p, uint8_t size)
{
	uint64_t v = 0;
	unsigned int i;

	for (i = size; i > 0; i--)
		v = (v << 8) | p[i - 1];
	return v;
}

static void put_le_n(uint8_t *p, uint8_t size, uint64_t v)
{
	unsigned int i;

	for (i = 0; i < size; i++) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

static int cmd_allocate(struct vmgenid_bios_loader_exec *st, const uint8_t *cmd,
			const struct vmgenid_bios_loader_ops *ops)
{
	const uint8_t *name = cmd + VMGENID_BIOS_LOADER_OFF_FILE;
	uint32_t align = vmgenid_get_le32(cmd + VMGENID_BIOS_LOADER_OFF_ALLOC_ALIGN);
	uint8_t zone = cmd[VMGENID_BIOS_LOADER_OFF_ALLOC_ZONE];
	struct vmgenid_bios_loader_file *f;
	uint32_t size;
	uint8_t *data = NULL;
	uint64_t addr = 0;

	if (!name_ok(name))
		return VMGENID_BIOS_LOADER_E_NAME;
	if (align == 0 || (align & (align - 1)))
		return VMGENID_BIOS_LOADER_E_ALIGN;
	if (zone != VMGENID_BIOS_LOADER_ZONE_HIGH && zone != VMGENID_BIOS_LOADER_ZONE_FSEG)
		return VMGENID_BIOS_LOADER_E_ZONE;
	if (find_file(st, name))
		return VMGENID_BIOS_LOADER_E_DUPLICATE;
	if (st->nr_files >= VMGENID_BIOS_LOADER_MAX_FILES)
		return VMGENID_BIOS_LOADER_E_TOO_MANY;
	/* An empty file can hold no table, and a zero-byte allocation has no address. */
	if (ops->file_size(ops->opaque, (const char *)name, &size) != 0 || size == 0)
		return VMGENID_BIOS_LOADER_E_NO_FILE;

	if (ops->file_load(ops->opaque, (const char *)name, size, align, zone, &data, &addr) != 0)
		return VMGENID_BIOS_LOADER_E_ALLOC;
	/* Later pointer arithmetic trusts addr; refuse a placement that could wrap. */
	if (!data || (addr & (align - 1)) || addr + size < addr)
		return VMGENID_BIOS_LOADER_E_ALLOC;

	f = &st->files[st->nr_files++];
	name_copy(f->name, name);
	f->data = data;
	f->addr = addr;
	f->size = size;
	return 0;
}

static int cmd_add_pointer(struct vmgenid_bios_loader_exec *st, const uint8_t *cmd)
{
	const uint8_t *dest_name = cmd + VMGENID_BIOS_LOADER_OFF_FILE;
	const uint8_t *src_name = cmd + VMGENID_BIOS_LOADER_OFF_SRC_FILE;
	uint32_t offset = vmgenid_get_le32(cmd + VMGENID_BIOS_LOADER_OFF_PTR_OFFSET);
	uint8_t size = cmd[VMGENID_BIOS_LOADER_OFF_PTR_SIZE];
	struct vmgenid_bios_loader_file *dest, *src;
	uint64_t value;

	if (!name_ok(dest_name) || !name_ok(src_name))
		return VMGENID_BIOS_LOADER_E_NAME;
	dest = find_file(st, dest_name);
	src = find_file(st, src_name);
	if (!dest || !src)
		return VMGENID_BIOS_LOADER_E_NO_FILE;
	if (!ptr_size_ok(size))
		return VMGENID_BIOS_LOADER_E_PTR_SIZE;
	if (!in_file(offset, size, dest->size))
		return VMGENID_BIOS_LOADER_E_RANGE;
	if (!ptr_add(get_le_n(dest->data + offset, size), src->addr, size, &value))
		return VMGENID_BIOS_LOADER_E_OVERFLOW;

	put_le_n(dest->data + offset, size, value);
	return 0;
}

static int cmd_add_checksum(struct vmgenid_bios_loader_exec *st, const uint8_t *cmd)
{
	const uint8_t *name = cmd + VMGENID_BIOS_LOADER_OFF_FILE;
	uint32_t offset = vmgenid_get_le32(cmd + VMGENID_BIOS_LOADER_OFF_CKSUM_OFFSET);
	uint32_t start = vmgenid_get_le32(cmd + VMGENID_BIOS_LOADER_OFF_CKSUM_START);
	uint32_t length = vmgenid_get_le32(cmd + VMGENID_BIOS_LOADER_OFF_CKSUM_LENGTH);
	struct vmgenid_bios_loader_file *f;
	uint8_t sum = 0;
	uint32_t i;

	if (!name_ok(name))
		return VMGENID_BIOS_LOADER_E_NAME;
	f = find_file(st, name);
	if (!f)
		return VMGENID_BIOS_LOADER_E_NO_FILE;
	if (!in_file(start, length, f->size) || offset >= f->size || offset < start ||
	    offset - start >= length)
		return VMGENID_BIOS_LOADER_E_RANGE;

	/*
	 * Subtracting the current sum, checksum byte included, makes the range
	 * sum to zero whatever the byte held before.
	 */
	for (i = 0; i < length; i++)
		sum = (uint8_t)(sum + f->data[start + i]);
	f->data[offset] = (uint8_t)(f->data[offset] - sum);
	return 0;
}

static int cmd_write_pointer(struct vmgenid_bios_loader_exec *st, const uint8_t *cmd,
			     const struct vmgenid_bios_loader_ops *ops)
{
	const uint8_t *dest_name = cmd + VMGENID_BIOS_LOADER_OFF_FILE;
	const uint8_t *src_name = cmd + VMGENID_BIOS_LOADER_OFF_SRC_FILE;
	uint32_t dst_offset = vmgenid_get_le32(cmd + VMGENID_BIOS_LOADER_OFF_WRPTR_DST_OFFSET);
	uint32_t src_offset = vmgenid_get_le32(cmd + VMGENID_BIOS_LOADER_OFF_WRPTR_SRC_OFFSET);
	uint8_t size = cmd[VMGENID_BIOS_LOADER_OFF_WRPTR_SIZE];
	struct vmgenid_bios_loader_file *src;
	uint32_t dest_size;
	uint64_t value;
	uint8_t buf[8];

	if (!name_ok(dest_name) || !name_ok(src_name))
		return VMGENID_BIOS_LOADER_E_NAME;
	src = find_file(st, src_name);
	/* The destination lives in fw_cfg only; it need not be allocated. */
	if (!src || ops->file_size(ops->opaque, (const char *)dest_name, &dest_size) != 0)
		return VMGENID_BIOS_LOADER_E_NO_FILE;
	if (!ptr_size_ok(size))
		return VMGENID_BIOS_LOADER_E_PTR_SIZE;
	if (!in_file(dst_offset, size, dest_size) || src_offset >= src->size)
		return VMGENID_BIOS_LOADER_E_RANGE;
	if (!ptr_add(src->addr, src_offset, size, &value))
		return VMGENID_BIOS_LOADER_E_OVERFLOW;

	put_le_n(buf, size, value);
	if (!ops->file_write ||
	    ops->file_write(ops->opaque, (const char *)dest_name, dst_offset, buf, size) != 0)
		return VMGENID_BIOS_LOADER_E_WRITE;
	return 0;
}

int vmgenid_bios_loader_run(struct vmgenid_bios_loader_exec *st, const uint8_t *script, uint32_t len,
		    const struct vmgenid_bios_loader_ops *ops)
{
	uint32_t n = len / VMGENID_BIOS_LOADER_CMD_SIZE;
	uint32_t i;
	int err;

	st->nr_files = 0;
	st->failed_cmd = 0;
	/* A torn script may be missing commands that the rest depends on. */
	if (len % VMGENID_BIOS_LOADER_CMD_SIZE) {
		st->failed_cmd = n;
		return -VMGENID_BIOS_LOADER_E_LENGTH;
	}

	for (i = 0; i < n; i++) {
		const uint8_t *cmd = script + (size_t)i * VMGENID_BIOS_LOADER_CMD_SIZE;

		switch (vmgenid_get_le32(cmd + VMGENID_BIOS_LOADER_OFF_COMMAND)) {
		case VMGENID_BIOS_LOADER_CMD_ALLOCATE:
			err = cmd_allocate(st, cmd, ops);
			break;
		case VMGENID_BIOS_LOADER_CMD_ADD_POINTER:
			err = cmd_add_pointer(st, cmd);
			break;
		case VMGENID_BIOS_LOADER_CMD_ADD_CHECKSUM:
			err = cmd_add_checksum(st, cmd);
			break;
		case VMGENID_BIOS_LOADER_CMD_WRITE_POINTER:
			err = cmd_write_pointer(st, cmd, ops);
			break;
		default:
			/* Padding, or a command from a newer VMM that we may ignore. */
			err = 0;
			break;
		}
		if (err) {
			st->failed_cmd = i;
			return -err;
		}
	}
	st->failed_cmd = n;
	return 0;
}

const char *vmgenid_bios_loader_strerror(int err)
{
	static const char *const msgs[VMGENID_BIOS_LOADER_E_COUNT] = {
		[VMGENID_BIOS_LOADER_OK] = "success",
		[VMGENID_BIOS_LOADER_E_LENGTH] = "script length is not a multiple of 128 bytes",
		[VMGENID_BIOS_LOADER_E_NAME] = "file name is empty or not NUL-terminated",
		[VMGENID_BIOS_LOADER_E_NO_FILE] = "file is not in fw_cfg or not allocated",
		[VMGENID_BIOS_LOADER_E_DUPLICATE] = "file is allocated twice",
		[VMGENID_BIOS_LOADER_E_TOO_MANY] = "too many files allocated",
		[VMGENID_BIOS_LOADER_E_ALIGN] = "alignment is zero or not a power of two",
		[VMGENID_BIOS_LOADER_E_ZONE] = "allocation zone is unknown",
		[VMGENID_BIOS_LOADER_E_PTR_SIZE] = "pointer size is not 1, 2, 4 or 8",
		[VMGENID_BIOS_LOADER_E_RANGE] = "offset or range lies outside the file",
		[VMGENID_BIOS_LOADER_E_OVERFLOW] = "pointer value does not fit its size",
		[VMGENID_BIOS_LOADER_E_ALLOC] = "could not allocate or load the file",
		[VMGENID_BIOS_LOADER_E_WRITE] = "could not write the pointer back to fw_cfg",
	};

	if (err > 0 || err <= -VMGENID_BIOS_LOADER_E_COUNT)
		return "unknown loader error";
	return msgs[-err];
}
