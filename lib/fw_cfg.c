// SPDX-License-Identifier: MIT
/*
 * fw_cfg device model: the traditional selector/data ports and the DMA
 * interface of QEMU's docs/specs/fw_cfg, checked against QEMU's behaviour
 * where the spec is silent (reads past the end return zeros, a DMA read past
 * the end zero-fills, the DMA address register clears after each transfer).
 *
 * Where we are stricter than QEMU: a DMA request is validated as a whole
 * before anything happens, so a bad one (unknown control bits, a target
 * range outside guest RAM, a write into a read-only item or past its end)
 * reports ERROR and leaves the selector, the offset, the item data and guest
 * memory (apart from the control word) exactly as they were.  QEMU instead
 * selects first and may leave a partial transfer behind.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vmgenid/endian.h"
#include "vmgenid/fw_cfg.h"
#include "vmgenid/log.h"
#include "vmgenid/state.h"

#define FW_CFG_NR_KEYS (VMGENID_FW_CFG_FILE_FIRST + VMGENID_FW_CFG_MAX_FILES)
#define FW_CFG_DIR_MAX_SIZE (4 + VMGENID_FW_CFG_MAX_FILES * VMGENID_FW_CFG_DIR_ENTRY_SIZE)

/* Control bits a guest may set: the operations, plus the selector field. */
#define DMA_CTL_KNOWN                                                                  \
	(VMGENID_FW_CFG_DMA_CTL_ERROR | VMGENID_FW_CFG_DMA_CTL_READ | VMGENID_FW_CFG_DMA_CTL_SKIP |            \
	 VMGENID_FW_CFG_DMA_CTL_SELECT | VMGENID_FW_CFG_DMA_CTL_WRITE | 0xffff0000u)

struct fw_cfg_item {
	const uint8_t *data;
	uint8_t *wdata; /* same bytes as data, set only for guest-writable items */
	uint32_t len;
	bool present;
	vmgenid_fw_cfg_write_cb write_cb;
	void *cb_opaque;
};

struct vmgenid_fw_cfg {
	const struct vmgenid_guest_mem *mem; /* NULL: no DMA interface */
	struct fw_cfg_item items[FW_CFG_NR_KEYS];
	uint16_t cur_key;
	uint32_t cur_offset;
	uint64_t dma_addr;
	uint32_t nr_files;
	uint8_t id[4];
	uint8_t dir[FW_CFG_DIR_MAX_SIZE];
};

static const uint8_t fw_cfg_signature[4] = { 'Q', 'E', 'M', 'U' };

static const struct fw_cfg_item *item_get(const struct vmgenid_fw_cfg *fw, uint16_t key)
{
	if (key >= FW_CFG_NR_KEYS || !fw->items[key].present)
		return NULL;
	return &fw->items[key];
}

static void item_set(struct vmgenid_fw_cfg *fw, uint16_t key, const uint8_t *data, uint32_t len)
{
	fw->items[key] = (struct fw_cfg_item){
		.data = data,
		.len = len,
		.present = true,
	};
}

struct vmgenid_fw_cfg *vmgenid_fw_cfg_new(const struct vmgenid_guest_mem *mem)
{
	struct vmgenid_fw_cfg *fw = calloc(1, sizeof(*fw));
	uint32_t features = VMGENID_FW_CFG_VERSION_TRADITIONAL;

	if (!fw)
		return NULL;
	fw->mem = mem;
	if (mem)
		features |= VMGENID_FW_CFG_VERSION_DMA;
	vmgenid_put_le32(fw->id, features);
	item_set(fw, VMGENID_FW_CFG_SIGNATURE, fw_cfg_signature, sizeof(fw_cfg_signature));
	item_set(fw, VMGENID_FW_CFG_ID, fw->id, sizeof(fw->id));
	/* count 0 (the array is zeroed); the length grows with every file */
	item_set(fw, VMGENID_FW_CFG_FILE_DIR, fw->dir, 4);
	vmgenid_fw_cfg_reset(fw);
	return fw;
}

void vmgenid_fw_cfg_free(struct vmgenid_fw_cfg *fw)
{
	free(fw);
}

int vmgenid_fw_cfg_add_bytes(struct vmgenid_fw_cfg *fw, uint16_t key, const void *data, uint32_t len)
{
	if (key == VMGENID_FW_CFG_SIGNATURE || key == VMGENID_FW_CFG_ID || key == VMGENID_FW_CFG_FILE_DIR ||
	    key >= VMGENID_FW_CFG_FILE_FIRST || fw->items[key].present || (!data && len)) {
		vmgenid_pr_warn("fw_cfg", "cannot add item %#x", key);
		return -EINVAL;
	}
	item_set(fw, key, data, len);
	return 0;
}

static const char *dir_name(const struct vmgenid_fw_cfg *fw, uint32_t index)
{
	return (const char *)&fw->dir[4 + index * VMGENID_FW_CFG_DIR_ENTRY_SIZE + 8];
}

int vmgenid_fw_cfg_add_file(struct vmgenid_fw_cfg *fw, const char *name, void *data, uint32_t len,
		    bool writable, vmgenid_fw_cfg_write_cb cb, void *opaque)
{
	size_t name_len = name ? strnlen(name, VMGENID_FW_CFG_FILE_NAME_MAX) : 0;
	uint32_t index;
	uint16_t key;
	uint8_t *entry;

	if (name_len == 0 || name_len >= VMGENID_FW_CFG_FILE_NAME_MAX || (!data && len)) {
		vmgenid_pr_warn("fw_cfg", "bad file name or data for \"%.*s\"", (int)name_len,
			name ? name : "");
		return -EINVAL;
	}
	/* Names are NUL-padded to 56 bytes, so strcmp stops inside the entry. */
	for (index = 0; index < fw->nr_files; index++) {
		int cmp = strcmp(name, dir_name(fw, index));

		if (cmp == 0) {
			vmgenid_pr_warn("fw_cfg", "file \"%s\" added twice", name);
			return -EINVAL;
		}
		if (cmp < 0)
			break;
	}
	if (fw->nr_files == VMGENID_FW_CFG_MAX_FILES) {
		vmgenid_pr_warn("fw_cfg", "no room for file \"%s\"", name);
		return -ENOSPC;
	}

	/*
	 * Selectors follow the order of addition and never move, so the value
	 * we return stays valid; only the directory is sorted.
	 */
	key = (uint16_t)(VMGENID_FW_CFG_FILE_FIRST + fw->nr_files);
	item_set(fw, key, data, len);
	if (writable) {
		fw->items[key].wdata = data;
		fw->items[key].write_cb = cb;
		fw->items[key].cb_opaque = opaque;
	}

	entry = &fw->dir[4 + index * VMGENID_FW_CFG_DIR_ENTRY_SIZE];
	memmove(entry + VMGENID_FW_CFG_DIR_ENTRY_SIZE, entry,
		(size_t)(fw->nr_files - index) * VMGENID_FW_CFG_DIR_ENTRY_SIZE);
	memset(entry, 0, VMGENID_FW_CFG_DIR_ENTRY_SIZE);
	vmgenid_put_be32(entry, len);
	vmgenid_put_be16(entry + 4, key);
	memcpy(entry + 8, name, name_len);

	fw->nr_files++;
	vmgenid_put_be32(fw->dir, fw->nr_files);
	fw->items[VMGENID_FW_CFG_FILE_DIR].len = 4 + fw->nr_files * VMGENID_FW_CFG_DIR_ENTRY_SIZE;
	return key;
}

static void select_key(struct vmgenid_fw_cfg *fw, uint16_t key)
{
	/* A key without an item reads as zeros either way; one value keeps
	 * snapshots simple. */
	fw->cur_key = item_get(fw, key) ? key : VMGENID_FW_CFG_INVALID;
	fw->cur_offset = 0;
}

static uint8_t data_read(struct vmgenid_fw_cfg *fw)
{
	const struct fw_cfg_item *it = item_get(fw, fw->cur_key);

	if (!it || fw->cur_offset >= it->len)
		return 0;
	return it->data[fw->cur_offset++];
}

/*
 * Carry out one DMA descriptor.  Returns NULL on success, or why it was
 * refused; in that case nothing has changed.
 */
static const char *dma_run(struct vmgenid_fw_cfg *fw, uint32_t ctl, uint32_t len, uint64_t addr)
{
	uint16_t key = fw->cur_key;
	uint32_t offset = fw->cur_offset;
	const struct fw_cfg_item *it;
	uint32_t avail, n;
	bool wrote = false;
	uint8_t *ram;

	if (ctl & ~DMA_CTL_KNOWN)
		return "unknown control bits";
	if (ctl & VMGENID_FW_CFG_DMA_CTL_SELECT) {
		key = (uint16_t)(ctl >> 16);
		offset = 0;
		if (!item_get(fw, key))
			key = VMGENID_FW_CFG_INVALID;
	}
	it = item_get(fw, key);
	avail = it ? it->len - offset : 0;
	n = len < avail ? len : avail;

	/* One operation per descriptor, with QEMU's precedence. */
	if (ctl & VMGENID_FW_CFG_DMA_CTL_READ) {
		if (len) {
			ram = vmgenid_guest_mem_ptr(fw->mem, addr, len);
			if (!ram)
				return "read target outside guest RAM";
			if (n)
				memcpy(ram, it->data + offset, n);
			memset(ram + n, 0, len - n);
		}
	} else if (ctl & VMGENID_FW_CFG_DMA_CTL_WRITE) {
		if (len) {
			if (!it || !it->wdata)
				return "write to a read-only item";
			if (len > avail)
				return "write past the end of the item";
			ram = vmgenid_guest_mem_ptr(fw->mem, addr, len);
			if (!ram)
				return "write source outside guest RAM";
			memmove(it->wdata + offset, ram, len);
			wrote = true;
		}
	} else if (!(ctl & VMGENID_FW_CFG_DMA_CTL_SKIP)) {
		n = 0; /* a bare SELECT (or nothing at all) moves no data */
	}

	fw->cur_key = key;
	fw->cur_offset = offset + n;
	if (wrote && it->write_cb)
		it->write_cb(it->cb_opaque, offset, len);
	return NULL;
}

static void dma_transfer(struct vmgenid_fw_cfg *fw)
{
	uint64_t desc_addr = fw->dma_addr;
	uint8_t desc[VMGENID_FW_CFG_DMA_DESC_SIZE];
	uint8_t status[4];
	const char *why;

	/* The guest writes a fresh address for every request (SeaBIOS only
	 * writes the low half and relies on this). */
	fw->dma_addr = 0;

	/* One copy, decoded once: another vCPU rewriting the descriptor
	 * cannot change what we validated. */
	if (vmgenid_guest_mem_read(fw->mem, desc_addr, desc, sizeof(desc)))
		why = "descriptor outside guest RAM";
	else
		why = dma_run(fw, vmgenid_get_be32(desc), vmgenid_get_be32(desc + 4), vmgenid_get_be64(desc + 8));

	if (why)
		vmgenid_pr_warn("fw_cfg", "DMA request at %#llx refused: %s",
			(unsigned long long)desc_addr, why);
	vmgenid_put_be32(status, why ? VMGENID_FW_CFG_DMA_CTL_ERROR : 0);
	/* If even the control word is outside RAM, there is no one to tell. */
	(void)vmgenid_guest_mem_write(fw->mem, desc_addr, status, sizeof(status));
}

/*
 * The DMA address register is big-endian: its most significant byte is the
 * one at the lowest port address.  data[] holds the bytes as they appear on
 * the bus, lowest port first, so vmgenid_get_be32() yields the register value.  An
 * x86 guest's outl() puts the low byte of its operand on the lowest port, so
 * it must pass bswap32() of each address half (what SeaBIOS's cpu_to_be32()
 * and Linux's iowrite32be() do).
 */
static bool dma_io(struct vmgenid_fw_cfg *fw, uint64_t port, uint8_t *data, uint32_t len,
		   bool is_write)
{
	if (!fw->mem)
		return false;
	if (!is_write) {
		if (port == VMGENID_FW_CFG_PORT_DMA_HI && len == 8)
			vmgenid_put_be64(data, VMGENID_FW_CFG_DMA_SIGNATURE);
		else if (port == VMGENID_FW_CFG_PORT_DMA_HI && len == 4)
			vmgenid_put_be32(data, (uint32_t)(VMGENID_FW_CFG_DMA_SIGNATURE >> 32));
		else if (port == VMGENID_FW_CFG_PORT_DMA_LO && len == 4)
			vmgenid_put_be32(data, (uint32_t)VMGENID_FW_CFG_DMA_SIGNATURE);
		else
			return false;
		return true;
	}
	if (port == VMGENID_FW_CFG_PORT_DMA_HI && len == 8) {
		fw->dma_addr = vmgenid_get_be64(data);
		dma_transfer(fw);
	} else if (port == VMGENID_FW_CFG_PORT_DMA_HI && len == 4) {
		fw->dma_addr = (uint64_t)vmgenid_get_be32(data) << 32;
	} else if (port == VMGENID_FW_CFG_PORT_DMA_LO && len == 4) {
		fw->dma_addr |= vmgenid_get_be32(data);
		dma_transfer(fw);
	} else {
		return false;
	}
	return true;
}

void vmgenid_fw_cfg_io(void *opaque, uint64_t port, uint8_t *data, uint32_t len, bool is_write)
{
	struct vmgenid_fw_cfg *fw = opaque;
	bool handled = false;

	if (port == VMGENID_FW_CFG_PORT_SEL && len == 2 && is_write) {
		/* The selector is little-endian on the I/O port variant. */
		select_key(fw, vmgenid_get_le16(data));
		handled = true;
	} else if (port == VMGENID_FW_CFG_PORT_DATA && len == 1) {
		/* Data port writes have been ignored since QEMU 2.4. */
		if (!is_write)
			data[0] = data_read(fw);
		handled = true;
	} else {
		handled = dma_io(fw, port, data, len, is_write);
	}
	if (!handled && !is_write)
		memset(data, 0xff, len);
}

void vmgenid_fw_cfg_reset(struct vmgenid_fw_cfg *fw)
{
	select_key(fw, VMGENID_FW_CFG_SIGNATURE);
	fw->dma_addr = 0;
}

void vmgenid_fw_cfg_get_position(const struct vmgenid_fw_cfg *fw, uint16_t *key, uint32_t *offset)
{
	*key = fw->cur_key;
	*offset = fw->cur_offset;
}

int vmgenid_fw_cfg_set_position(struct vmgenid_fw_cfg *fw, uint16_t key, uint32_t offset)
{
	const struct fw_cfg_item *it = item_get(fw, key);

	if (key == VMGENID_FW_CFG_INVALID ? offset != 0 : !it || offset > it->len)
		return -EINVAL;
	fw->cur_key = key;
	fw->cur_offset = offset;
	return 0;
}

/* ---- snapshot ----
 * Payload: le16 key, le16 0, le32 offset, le64 DMA address, le32 count,
 * then count times { name[56] NUL-padded, le32 length, data[length] }.
 */
#define STATE_FIXED 20
#define STATE_FILE_HEAD (VMGENID_FW_CFG_FILE_NAME_MAX + 4)

int vmgenid_fw_cfg_save(const struct vmgenid_fw_cfg *fw, struct vmgenid_bytebuf *out)
{
	size_t start = vmgenid_state_section_begin(out, VMGENID_FW_CFG_STATE_ID, VMGENID_FW_CFG_STATE_VERSION);
	uint32_t nr_writable = 0;

	for (uint32_t i = 0; i < fw->nr_files; i++)
		nr_writable += fw->items[VMGENID_FW_CFG_FILE_FIRST + i].wdata != NULL;
	vmgenid_bytebuf_put_le16(out, fw->cur_key);
	vmgenid_bytebuf_put_le16(out, 0);
	vmgenid_bytebuf_put_le32(out, fw->cur_offset);
	vmgenid_bytebuf_put_le64(out, fw->dma_addr);
	vmgenid_bytebuf_put_le32(out, nr_writable);
	for (uint32_t i = 0; i < fw->nr_files; i++) {
		const uint8_t *entry = &fw->dir[4 + i * VMGENID_FW_CFG_DIR_ENTRY_SIZE];
		const struct fw_cfg_item *it = item_get(fw, vmgenid_get_be16(entry + 4));

		if (!it || !it->wdata)
			continue;
		vmgenid_bytebuf_append(out, entry + 8, VMGENID_FW_CFG_FILE_NAME_MAX);
		vmgenid_bytebuf_put_le32(out, it->len);
		vmgenid_bytebuf_append(out, it->data, it->len);
	}
	vmgenid_state_section_end(out, start);
	return vmgenid_bytebuf_failed(out) ? -ENOMEM : 0;
}

static struct fw_cfg_item *file_by_name(struct vmgenid_fw_cfg *fw, const uint8_t *name)
{
	for (uint32_t i = 0; i < fw->nr_files; i++) {
		const uint8_t *entry = &fw->dir[4 + i * VMGENID_FW_CFG_DIR_ENTRY_SIZE];

		if (!memcmp(entry + 8, name, VMGENID_FW_CFG_FILE_NAME_MAX))
			return &fw->items[vmgenid_get_be16(entry + 4)];
	}
	return NULL;
}

/* Walk the files: check only (apply false), or copy them in (apply true). */
static int load_files(struct vmgenid_fw_cfg *fw, const uint8_t *p, uint32_t left, uint32_t count,
		      bool apply, const char **why)
{
	for (uint32_t n = 0; n < count; n++) {
		struct fw_cfg_item *it;
		uint32_t len;

		if (left < STATE_FILE_HEAD) {
			*why = "fw_cfg state is truncated";
			return -EINVAL;
		}
		if (p[VMGENID_FW_CFG_FILE_NAME_MAX - 1] != 0) {
			*why = "fw_cfg state has a file name that is not NUL-terminated";
			return -EINVAL;
		}
		it = file_by_name(fw, p);
		len = vmgenid_get_le32(p + VMGENID_FW_CFG_FILE_NAME_MAX);
		if (!it || !it->wdata) {
			*why = "fw_cfg state has a writable file this machine does not have";
			return -EINVAL;
		}
		if (len != it->len || left - STATE_FILE_HEAD < len) {
			*why = "fw_cfg state has a writable file of the wrong size";
			return -EINVAL;
		}
		if (apply)
			memcpy(it->wdata, p + STATE_FILE_HEAD, len);
		p += STATE_FILE_HEAD + len;
		left -= STATE_FILE_HEAD + len;
	}
	if (left) {
		*why = "fw_cfg state has bytes after its last file";
		return -EINVAL;
	}
	return 0;
}

int vmgenid_fw_cfg_load(struct vmgenid_fw_cfg *fw, const uint8_t *payload, uint32_t length, uint32_t version,
		const char **why)
{
	const struct fw_cfg_item *it;
	uint16_t key;
	uint32_t offset, count;

	if (version != VMGENID_FW_CFG_STATE_VERSION) {
		*why = "unsupported fw_cfg state version";
		return -EINVAL;
	}
	if (length < STATE_FIXED) {
		*why = "fw_cfg state is truncated";
		return -EINVAL;
	}
	key = vmgenid_get_le16(payload);
	offset = vmgenid_get_le32(payload + 4);
	count = vmgenid_get_le32(payload + 16);
	it = item_get(fw, key);
	if (vmgenid_get_le16(payload + 2) != 0 ||
	    (key == VMGENID_FW_CFG_INVALID ? offset != 0 : !it || offset > it->len)) {
		*why = "fw_cfg state selects an item this machine does not have";
		return -EINVAL;
	}
	if (load_files(fw, payload + STATE_FIXED, length - STATE_FIXED, count, false, why) < 0)
		return -EINVAL;
	load_files(fw, payload + STATE_FIXED, length - STATE_FIXED, count, true, why);
	fw->cur_key = key;
	fw->cur_offset = offset;
	fw->dma_addr = vmgenid_get_le64(payload + 8);
	return 0;
}
