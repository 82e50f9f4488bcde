// SPDX-License-Identifier: MIT
/*
 * The fw_cfg device driven only through vmgenid_fw_cfg_io(), the way a guest drives
 * it: port writes and reads, and DMA descriptors placed in a RAM array that
 * guest_mem maps at RAM_GPA.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "vmgenid/endian.h"
#include "vmgenid/fw_cfg.h"
#include "vmgenid/log.h"
#include "vmgenid/state.h"

#define RAM_GPA 0x100000ull
#define RAM_SIZE 0x10000ull
#define HIGH_GPA 0x100000000ull /* a second range, above 4 GiB */
#define DESC_OFF 0x100u		/* descriptor, as an offset into ram[] */
#define BUF_OFF 0x1000u		/* transfer buffer, as an offset into ram[] */

static uint8_t ram[RAM_SIZE];
static uint8_t high_ram[4096];

struct ctx {
	struct vmgenid_guest_mem mem;
	struct vmgenid_fw_cfg *fw;
	uint8_t ro[10];	 /* "ro" file: read-only */
	uint8_t rw[8];	 /* "rw" file: guest-writable */
	int ro_key, rw_key;
	unsigned int cb_calls;
	uint32_t cb_offset, cb_len;
	void *cb_opaque;
};

static unsigned int warnings;

static void count_warnings(void *opaque, enum vmgenid_log_level level, const char *module,
			   const char *msg)
{
	(void)opaque;
	(void)msg;
	if (level == VMGENID_LOG_WARN && strcmp(module, "fw_cfg") == 0)
		warnings++;
}

static void rw_written(void *opaque, uint32_t offset, uint32_t len)
{
	struct ctx *c = opaque;

	c->cb_calls++;
	c->cb_offset = offset;
	c->cb_len = len;
	c->cb_opaque = opaque;
}

static int setup(void **state)
{
	static struct ctx c;

	memset(&c, 0, sizeof(c));
	memset(ram, 0, sizeof(ram));
	memset(high_ram, 0, sizeof(high_ram));
	vmgenid_guest_mem_init(&c.mem);
	assert_int_equal(vmgenid_guest_mem_add(&c.mem, RAM_GPA, RAM_SIZE, ram), 0);
	assert_int_equal(vmgenid_guest_mem_add(&c.mem, HIGH_GPA, sizeof(high_ram), high_ram), 0);
	c.fw = vmgenid_fw_cfg_new(&c.mem);
	assert_non_null(c.fw);
	memcpy(c.ro, "0123456789", 10);
	memcpy(c.rw, "abcdefgh", 8);
	c.ro_key = vmgenid_fw_cfg_add_file(c.fw, "ro", c.ro, sizeof(c.ro), false, NULL, NULL);
	c.rw_key = vmgenid_fw_cfg_add_file(c.fw, "rw", c.rw, sizeof(c.rw), true, rw_written, &c);
	assert_int_equal(c.ro_key, VMGENID_FW_CFG_FILE_FIRST);
	assert_int_equal(c.rw_key, VMGENID_FW_CFG_FILE_FIRST + 1);
	warnings = 0;
	vmgenid_log_set_sink(count_warnings, NULL);
	*state = &c;
	return 0;
}

static int teardown(void **state)
{
	struct ctx *c = *state;

	vmgenid_fw_cfg_free(c->fw);
	vmgenid_log_set_sink(NULL, NULL);
	return 0;
}

/* --- the guest's side of the bus ---------------------------------------- */

static void outw(struct vmgenid_fw_cfg *fw, uint16_t port, uint16_t v)
{
	uint8_t b[2];

	vmgenid_put_le16(b, v); /* an x86 CPU puts the low byte on the lowest port */
	vmgenid_fw_cfg_io(fw, port, b, 2, true);
}

static void outl(struct vmgenid_fw_cfg *fw, uint16_t port, uint32_t v)
{
	uint8_t b[4];

	vmgenid_put_le32(b, v);
	vmgenid_fw_cfg_io(fw, port, b, 4, true);
}

static uint32_t inl(struct vmgenid_fw_cfg *fw, uint16_t port)
{
	uint8_t b[4];

	vmgenid_fw_cfg_io(fw, port, b, 4, false);
	return vmgenid_get_le32(b);
}

static uint8_t inb(struct vmgenid_fw_cfg *fw)
{
	uint8_t b = 0x5a;

	vmgenid_fw_cfg_io(fw, VMGENID_FW_CFG_PORT_DATA, &b, 1, false);
	return b;
}

static void select_key(struct vmgenid_fw_cfg *fw, uint16_t key)
{
	outw(fw, VMGENID_FW_CFG_PORT_SEL, key);
}

static void read_data(struct vmgenid_fw_cfg *fw, uint8_t *buf, size_t n)
{
	for (size_t i = 0; i < n; i++)
		buf[i] = inb(fw);
}

static uint32_t bswap32(uint32_t v)
{
	return (v >> 24) | ((v >> 8) & 0xff00u) | ((v << 8) & 0xff0000u) | (v << 24);
}

static void put_desc(uint8_t *p, uint32_t ctl, uint32_t len, uint64_t addr)
{
	vmgenid_put_be32(p, ctl);
	vmgenid_put_be32(p + 4, len);
	vmgenid_put_be64(p + 8, addr);
}

/* Kick a DMA at gpa as an x86 guest does: two byte-swapped outl. */
static void kick(struct vmgenid_fw_cfg *fw, uint64_t gpa)
{
	outl(fw, VMGENID_FW_CFG_PORT_DMA_HI, bswap32((uint32_t)(gpa >> 32)));
	outl(fw, VMGENID_FW_CFG_PORT_DMA_LO, bswap32((uint32_t)gpa));
}

/* Place a descriptor at ram[DESC_OFF], run it, return its control word. */
static uint32_t dma(struct vmgenid_fw_cfg *fw, uint32_t ctl, uint32_t len, uint64_t addr)
{
	put_desc(ram + DESC_OFF, ctl, len, addr);
	kick(fw, RAM_GPA + DESC_OFF);
	return vmgenid_get_be32(ram + DESC_OFF);
}

static uint32_t sel_ctl(int key, uint32_t op)
{
	return (uint32_t)key << 16 | VMGENID_FW_CFG_DMA_CTL_SELECT | op;
}

/* --- traditional interface ---------------------------------------------- */

static void test_signature_and_id(void **state)
{
	struct ctx *c = *state;
	uint8_t buf[5];

	select_key(c->fw, VMGENID_FW_CFG_SIGNATURE);
	read_data(c->fw, buf, 5);
	assert_memory_equal(buf, "QEMU\0", 5);

	select_key(c->fw, VMGENID_FW_CFG_ID);
	read_data(c->fw, buf, 5);
	assert_int_equal(vmgenid_get_le32(buf), VMGENID_FW_CFG_VERSION_TRADITIONAL | VMGENID_FW_CFG_VERSION_DMA);
	assert_int_equal(buf[4], 0);
}

static void test_id_without_dma(void **state)
{
	struct vmgenid_fw_cfg *fw = vmgenid_fw_cfg_new(NULL);
	uint8_t buf[4];

	(void)state;
	assert_non_null(fw);
	select_key(fw, VMGENID_FW_CFG_ID);
	read_data(fw, buf, 4);
	assert_int_equal(vmgenid_get_le32(buf), VMGENID_FW_CFG_VERSION_TRADITIONAL);
	/* No DMA register: reads float high, writes do nothing. */
	assert_int_equal(inl(fw, VMGENID_FW_CFG_PORT_DMA_HI), 0xffffffffu);
	kick(fw, RAM_GPA + DESC_OFF);
	vmgenid_fw_cfg_free(fw);
}

static void test_directory_bytes(void **state)
{
	struct ctx *c = *state;
	static uint8_t data[4][3];
	/* Added out of order; "etc/a" < "etc/aa" < "etc/b" < "ro" < "rw" < "zz" */
	const char *names[] = { "zz", "etc/b", "etc/aa", "etc/a" };
	const uint32_t sizes[] = { 1, 2, 3, 0 };
	int keys[4];
	struct {
		const char *name;
		uint32_t size;
		int key;
	} want[6];
	uint8_t entry[VMGENID_FW_CFG_DIR_ENTRY_SIZE], expect[VMGENID_FW_CFG_DIR_ENTRY_SIZE];

	for (int i = 0; i < 4; i++) {
		keys[i] = vmgenid_fw_cfg_add_file(c->fw, names[i], data[i], sizes[i], false, NULL,
					  NULL);
		assert_int_equal(keys[i], VMGENID_FW_CFG_FILE_FIRST + 2 + i);
	}
	want[0].name = "etc/a", want[0].size = 0, want[0].key = keys[3];
	want[1].name = "etc/aa", want[1].size = 3, want[1].key = keys[2];
	want[2].name = "etc/b", want[2].size = 2, want[2].key = keys[1];
	want[3].name = "ro", want[3].size = 10, want[3].key = c->ro_key;
	want[4].name = "rw", want[4].size = 8, want[4].key = c->rw_key;
	want[5].name = "zz", want[5].size = 1, want[5].key = keys[0];

	select_key(c->fw, VMGENID_FW_CFG_FILE_DIR);
	read_data(c->fw, entry, 4);
	assert_memory_equal(entry, "\0\0\0\6", 4); /* be32 count */
	for (int i = 0; i < 6; i++) {
		memset(expect, 0, sizeof(expect));
		expect[3] = (uint8_t)want[i].size; /* be32 size */
		expect[4] = 0;			   /* be16 select, high byte */
		expect[5] = (uint8_t)want[i].key;
		memcpy(expect + 8, want[i].name, strlen(want[i].name));
		read_data(c->fw, entry, sizeof(entry));
		assert_memory_equal(entry, expect, sizeof(expect));
	}
	assert_int_equal(inb(c->fw), 0); /* end of the directory */
}

static void test_file_read_port(void **state)
{
	struct ctx *c = *state;
	uint8_t buf[12];

	select_key(c->fw, (uint16_t)c->ro_key);
	read_data(c->fw, buf, 4);
	assert_memory_equal(buf, "0123", 4);
	/* Selecting again starts over. */
	select_key(c->fw, (uint16_t)c->ro_key);
	read_data(c->fw, buf, 12);
	assert_memory_equal(buf, "0123456789\0\0", 12);
}

static void test_invalid_selector_reads_zero(void **state)
{
	struct ctx *c = *state;
	const uint16_t keys[] = { 0x0002, 0x1234, VMGENID_FW_CFG_FILE_FIRST + 2, 0x8000, 0xffff };
	uint16_t key;
	uint32_t off;

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		select_key(c->fw, keys[i]);
		assert_int_equal(inb(c->fw), 0);
		assert_int_equal(inb(c->fw), 0);
		vmgenid_fw_cfg_get_position(c->fw, &key, &off);
		assert_int_equal(key, VMGENID_FW_CFG_INVALID);
		assert_int_equal(off, 0);
	}
}

static void test_data_port_write_ignored(void **state)
{
	struct ctx *c = *state;
	uint8_t b = 'X';

	select_key(c->fw, (uint16_t)c->rw_key);
	vmgenid_fw_cfg_io(c->fw, VMGENID_FW_CFG_PORT_DATA, &b, 1, true);
	assert_memory_equal(c->rw, "abcdefgh", 8);
	assert_int_equal(inb(c->fw), 'a'); /* offset did not move either */
}

static void test_wrong_size_accesses(void **state)
{
	struct ctx *c = *state;
	uint8_t b[8];
	uint16_t key;
	uint32_t off;

	select_key(c->fw, (uint16_t)c->ro_key);
	assert_int_equal(inb(c->fw), '0');

	/* Selector written with 1 and 4 bytes: ignored. */
	b[0] = VMGENID_FW_CFG_SIGNATURE;
	vmgenid_fw_cfg_io(c->fw, VMGENID_FW_CFG_PORT_SEL, b, 1, true);
	memset(b, 0, 4);
	vmgenid_fw_cfg_io(c->fw, VMGENID_FW_CFG_PORT_SEL, b, 4, true);
	vmgenid_fw_cfg_get_position(c->fw, &key, &off);
	assert_int_equal(key, c->ro_key);
	assert_int_equal(off, 1);

	/* Reads of the wrong size or at a missing port float high and move nothing. */
	vmgenid_fw_cfg_io(c->fw, VMGENID_FW_CFG_PORT_DATA, b, 2, false);
	assert_memory_equal(b, "\xff\xff", 2);
	vmgenid_fw_cfg_io(c->fw, VMGENID_FW_CFG_PORT_SEL, b, 2, false);
	assert_memory_equal(b, "\xff\xff", 2);
	vmgenid_fw_cfg_io(c->fw, 2, b, 1, false);
	assert_int_equal(b[0], 0xff);
	vmgenid_fw_cfg_io(c->fw, VMGENID_FW_CFG_PORT_DMA_HI, b, 2, false);
	assert_memory_equal(b, "\xff\xff", 2);
	vmgenid_fw_cfg_io(c->fw, VMGENID_FW_CFG_PORT_DMA_LO, b, 8, false);
	assert_memory_equal(b, "\xff\xff\xff\xff\xff\xff\xff\xff", 8);
	vmgenid_fw_cfg_io(c->fw, 12, b, 1, false);
	assert_int_equal(b[0], 0xff);
	assert_int_equal(inb(c->fw), '1');

	/* DMA register: a 2-byte or misplaced write does not start anything. */
	put_desc(ram + DESC_OFF, sel_ctl(c->ro_key, VMGENID_FW_CFG_DMA_CTL_READ), 4,
		 RAM_GPA + BUF_OFF);
	vmgenid_put_be32(b, (uint32_t)(RAM_GPA + DESC_OFF));
	vmgenid_fw_cfg_io(c->fw, VMGENID_FW_CFG_PORT_DMA_LO, b, 2, true);
	vmgenid_fw_cfg_io(c->fw, VMGENID_FW_CFG_PORT_DMA_LO + 2, b, 4, true);
	vmgenid_fw_cfg_io(c->fw, VMGENID_FW_CFG_PORT_DMA_LO, b, 8, true);
	assert_int_equal(vmgenid_get_be32(ram + DESC_OFF), sel_ctl(c->ro_key, VMGENID_FW_CFG_DMA_CTL_READ));
	assert_int_equal(ram[BUF_OFF], 0);
	assert_int_equal(warnings, 0);
}

static void test_dma_signature(void **state)
{
	struct ctx *c = *state;
	uint8_t b[8];

	vmgenid_fw_cfg_io(c->fw, VMGENID_FW_CFG_PORT_DMA_HI, b, 8, false);
	assert_memory_equal(b, "QEMU CFG", 8);
	assert_int_equal(vmgenid_get_be64(b), VMGENID_FW_CFG_DMA_SIGNATURE);
	vmgenid_fw_cfg_io(c->fw, VMGENID_FW_CFG_PORT_DMA_HI, b, 4, false);
	assert_memory_equal(b, "QEMU", 4);
	vmgenid_fw_cfg_io(c->fw, VMGENID_FW_CFG_PORT_DMA_LO, b, 4, false);
	assert_memory_equal(b, " CFG", 4);
	/* What an x86 inl() sees, once swapped back. */
	assert_int_equal(bswap32(inl(c->fw, VMGENID_FW_CFG_PORT_DMA_HI)), 0x51454d55u);
}

/* --- DMA ----------------------------------------------------------------- */

static void test_dma_read(void **state)
{
	struct ctx *c = *state;

	assert_int_equal(dma(c->fw, sel_ctl(c->ro_key, VMGENID_FW_CFG_DMA_CTL_READ), 4,
			     RAM_GPA + BUF_OFF),
			 0);
	assert_memory_equal(ram + BUF_OFF, "0123", 4);
	assert_int_equal(ram[BUF_OFF + 4], 0);
	/* Without SELECT the next read continues where the last one stopped. */
	assert_int_equal(dma(c->fw, VMGENID_FW_CFG_DMA_CTL_READ, 3, RAM_GPA + BUF_OFF + 4), 0);
	assert_memory_equal(ram + BUF_OFF, "0123456", 7);
	/* And so does the data port. */
	assert_int_equal(inb(c->fw), '7');
	assert_int_equal(warnings, 0);
}

static void test_dma_read_past_end_zero_fills(void **state)
{
	struct ctx *c = *state;
	uint16_t key;
	uint32_t off;

	memset(ram + BUF_OFF, 0xaa, 32);
	assert_int_equal(dma(c->fw, sel_ctl(c->ro_key, VMGENID_FW_CFG_DMA_CTL_READ), 16,
			     RAM_GPA + BUF_OFF),
			 0);
	assert_memory_equal(ram + BUF_OFF, "0123456789\0\0\0\0\0\0", 16);
	assert_int_equal(ram[BUF_OFF + 16], 0xaa);
	vmgenid_fw_cfg_get_position(c->fw, &key, &off);
	assert_int_equal(off, 10);

	/* From an invalid selector: all zeros. */
	memset(ram + BUF_OFF, 0xaa, 32);
	assert_int_equal(dma(c->fw, sel_ctl(0x1234, VMGENID_FW_CFG_DMA_CTL_READ), 8,
			     RAM_GPA + BUF_OFF),
			 0);
	assert_memory_equal(ram + BUF_OFF, "\0\0\0\0\0\0\0\0\xaa", 9);
	vmgenid_fw_cfg_get_position(c->fw, &key, &off);
	assert_int_equal(key, VMGENID_FW_CFG_INVALID);
	assert_int_equal(off, 0);
}

static void test_dma_skip_and_select(void **state)
{
	struct ctx *c = *state;

	/* SELECT alone selects and moves no data. */
	select_key(c->fw, VMGENID_FW_CFG_SIGNATURE);
	assert_int_equal(dma(c->fw, sel_ctl(c->ro_key, 0), 5, RAM_GPA + BUF_OFF), 0);
	assert_int_equal(ram[BUF_OFF], 0);
	assert_int_equal(inb(c->fw), '0');

	assert_int_equal(dma(c->fw, sel_ctl(c->ro_key, VMGENID_FW_CFG_DMA_CTL_SKIP), 6, 0), 0);
	assert_int_equal(dma(c->fw, VMGENID_FW_CFG_DMA_CTL_READ, 2, RAM_GPA + BUF_OFF), 0);
	assert_memory_equal(ram + BUF_OFF, "67", 2);
	/* Skipping past the end stops at the end. */
	assert_int_equal(dma(c->fw, VMGENID_FW_CFG_DMA_CTL_SKIP, 100, 0), 0);
	assert_int_equal(inb(c->fw), 0);
	assert_int_equal(dma(c->fw, sel_ctl(c->ro_key, VMGENID_FW_CFG_DMA_CTL_SKIP), 9, 0), 0);
	assert_int_equal(inb(c->fw), '9');
}

static void test_dma_write(void **state)
{
	struct ctx *c = *state;

	memcpy(ram + BUF_OFF, "XYZ", 3);
	assert_int_equal(dma(c->fw, sel_ctl(c->rw_key, VMGENID_FW_CFG_DMA_CTL_SKIP), 2, 0), 0);
	assert_int_equal(dma(c->fw, VMGENID_FW_CFG_DMA_CTL_WRITE, 3, RAM_GPA + BUF_OFF), 0);
	assert_memory_equal(c->rw, "abXYZfgh", 8);
	assert_int_equal(c->cb_calls, 1);
	assert_int_equal(c->cb_offset, 2);
	assert_int_equal(c->cb_len, 3);
	assert_ptr_equal(c->cb_opaque, c);

	/* SELECT|WRITE writes at offset 0, up to the very end. */
	memcpy(ram + BUF_OFF, "12345678", 8);
	assert_int_equal(dma(c->fw, sel_ctl(c->rw_key, VMGENID_FW_CFG_DMA_CTL_WRITE), 8,
			     RAM_GPA + BUF_OFF),
			 0);
	assert_memory_equal(c->rw, "12345678", 8);
	assert_int_equal(c->cb_calls, 2);
	assert_int_equal(c->cb_offset, 0);
	assert_int_equal(c->cb_len, 8);

	/* And reading it back over DMA gives the new bytes. */
	assert_int_equal(dma(c->fw, sel_ctl(c->rw_key, VMGENID_FW_CFG_DMA_CTL_READ), 8,
			     RAM_GPA + BUF_OFF + 16),
			 0);
	assert_memory_equal(ram + BUF_OFF + 16, "12345678", 8);
	assert_int_equal(warnings, 0);
}

static void test_dma_write_refused(void **state)
{
	struct ctx *c = *state;
	uint16_t key;
	uint32_t off;

	memcpy(ram + BUF_OFF, "XXXXXXXXXXXX", 12);

	/* Read-only file. */
	assert_int_equal(dma(c->fw, sel_ctl(c->ro_key, VMGENID_FW_CFG_DMA_CTL_WRITE), 2,
			     RAM_GPA + BUF_OFF),
			 VMGENID_FW_CFG_DMA_CTL_ERROR);
	assert_memory_equal(c->ro, "0123456789", 10);
	assert_int_equal(warnings, 1);

	/* Fixed items are read-only too. */
	assert_int_equal(dma(c->fw, sel_ctl(VMGENID_FW_CFG_SIGNATURE, VMGENID_FW_CFG_DMA_CTL_WRITE), 2,
			     RAM_GPA + BUF_OFF),
			 VMGENID_FW_CFG_DMA_CTL_ERROR);
	assert_int_equal(warnings, 2);

	/* Past the end of a writable file: nothing lands, not even a prefix. */
	select_key(c->fw, VMGENID_FW_CFG_SIGNATURE);
	assert_int_equal(dma(c->fw, sel_ctl(c->rw_key, VMGENID_FW_CFG_DMA_CTL_WRITE), 9,
			     RAM_GPA + BUF_OFF),
			 VMGENID_FW_CFG_DMA_CTL_ERROR);
	assert_int_equal(dma(c->fw, sel_ctl(c->rw_key, VMGENID_FW_CFG_DMA_CTL_SKIP), 6, 0), 0);
	assert_int_equal(dma(c->fw, VMGENID_FW_CFG_DMA_CTL_WRITE, 3, RAM_GPA + BUF_OFF),
			 VMGENID_FW_CFG_DMA_CTL_ERROR);
	assert_memory_equal(c->rw, "abcdefgh", 8);
	assert_int_equal(c->cb_calls, 0);
	assert_int_equal(warnings, 4);
	/* A refused request leaves the position alone. */
	vmgenid_fw_cfg_get_position(c->fw, &key, &off);
	assert_int_equal(key, c->rw_key);
	assert_int_equal(off, 6);

	/* Invalid selector: nothing to write into. */
	assert_int_equal(dma(c->fw, sel_ctl(0x1234, VMGENID_FW_CFG_DMA_CTL_WRITE), 1,
			     RAM_GPA + BUF_OFF),
			 VMGENID_FW_CFG_DMA_CTL_ERROR);
	vmgenid_fw_cfg_get_position(c->fw, &key, &off);
	assert_int_equal(key, c->rw_key);
	assert_int_equal(warnings, 5);
}

static void test_dma_descriptor_outside_ram(void **state)
{
	struct ctx *c = *state;
	static uint8_t before[RAM_SIZE];
	uint16_t key;
	uint32_t off;

	select_key(c->fw, (uint16_t)c->ro_key);
	memset(ram, 0x33, sizeof(ram));
	memcpy(before, ram, sizeof(ram));

	/* Wholly outside: below RAM, in the hole, wrapping. */
	kick(c->fw, RAM_GPA - 0x1000);
	kick(c->fw, RAM_GPA + RAM_SIZE);
	kick(c->fw, 0xfffffffffffffff8ull);
	assert_memory_equal(ram, before, sizeof(ram));
	assert_int_equal(warnings, 3);

	/* Straddling the end of RAM: the control word is inside, so it gets ERROR. */
	vmgenid_put_be32(ram + RAM_SIZE - 8, sel_ctl(c->rw_key, VMGENID_FW_CFG_DMA_CTL_READ));
	vmgenid_put_be32(ram + RAM_SIZE - 4, 8); /* the address field would be past RAM */
	kick(c->fw, RAM_GPA + RAM_SIZE - 8);
	assert_int_equal(vmgenid_get_be32(ram + RAM_SIZE - 8), VMGENID_FW_CFG_DMA_CTL_ERROR);
	assert_int_equal(warnings, 4);

	vmgenid_fw_cfg_get_position(c->fw, &key, &off);
	assert_int_equal(key, c->ro_key);
	assert_int_equal(off, 0);
}

static void test_dma_target_outside_ram(void **state)
{
	struct ctx *c = *state;
	static uint8_t before[RAM_SIZE];
	const uint32_t ctl = sel_ctl(c->ro_key, VMGENID_FW_CFG_DMA_CTL_READ);

	memset(ram, 0x44, sizeof(ram));

	/* Wraps around 2^64. */
	put_desc(ram + DESC_OFF, ctl, 32, 0xfffffffffffffff0ull);
	memcpy(before, ram, sizeof(ram));
	kick(c->fw, RAM_GPA + DESC_OFF);
	assert_int_equal(vmgenid_get_be32(ram + DESC_OFF), VMGENID_FW_CFG_DMA_CTL_ERROR);
	vmgenid_put_be32(before + DESC_OFF, VMGENID_FW_CFG_DMA_CTL_ERROR);
	assert_memory_equal(ram, before, sizeof(ram));

	/* Runs past the end of RAM by one byte: no partial copy. */
	put_desc(ram + DESC_OFF, ctl, 16, RAM_GPA + RAM_SIZE - 15);
	memcpy(before, ram, sizeof(ram));
	kick(c->fw, RAM_GPA + DESC_OFF);
	vmgenid_put_be32(before + DESC_OFF, VMGENID_FW_CFG_DMA_CTL_ERROR);
	assert_memory_equal(ram, before, sizeof(ram));

	/* Starts in the hole below the high range and ends inside it. */
	put_desc(ram + DESC_OFF, ctl, 8, HIGH_GPA - 4);
	kick(c->fw, RAM_GPA + DESC_OFF);
	assert_int_equal(vmgenid_get_be32(ram + DESC_OFF), VMGENID_FW_CFG_DMA_CTL_ERROR);

	/* A write whose source is outside RAM changes nothing. */
	assert_int_equal(dma(c->fw, sel_ctl(c->rw_key, VMGENID_FW_CFG_DMA_CTL_WRITE), 4,
			     RAM_GPA + RAM_SIZE),
			 VMGENID_FW_CFG_DMA_CTL_ERROR);
	assert_memory_equal(c->rw, "abcdefgh", 8);
	assert_int_equal(c->cb_calls, 0);
	assert_int_equal(warnings, 4);
}

static void test_dma_control_bits(void **state)
{
	struct ctx *c = *state;

	/* Bits 5..15 mean nothing to us: refuse rather than guess. */
	for (uint32_t bit = 0x20; bit <= 0x8000; bit <<= 1) {
		assert_int_equal(dma(c->fw, sel_ctl(c->ro_key, VMGENID_FW_CFG_DMA_CTL_READ | bit), 4,
				     RAM_GPA + BUF_OFF),
				 VMGENID_FW_CFG_DMA_CTL_ERROR);
		assert_int_equal(ram[BUF_OFF], 0);
	}
	assert_int_equal(warnings, 11);

	/* The error bit is an output: set on input, it is ignored. */
	assert_int_equal(dma(c->fw, sel_ctl(c->ro_key, VMGENID_FW_CFG_DMA_CTL_READ |
							   VMGENID_FW_CFG_DMA_CTL_ERROR),
			     2, RAM_GPA + BUF_OFF),
			 0);
	assert_memory_equal(ram + BUF_OFF, "01", 2);

	/* READ wins over WRITE and SKIP, as in QEMU. */
	assert_int_equal(dma(c->fw, VMGENID_FW_CFG_DMA_CTL_READ | VMGENID_FW_CFG_DMA_CTL_WRITE |
					     VMGENID_FW_CFG_DMA_CTL_SKIP,
			     2, RAM_GPA + BUF_OFF),
			 0);
	assert_memory_equal(ram + BUF_OFF, "23", 2);
	assert_memory_equal(c->ro, "0123456789", 10);

	/* No operation at all: success, nothing moves. */
	assert_int_equal(dma(c->fw, 0, 4, RAM_GPA + BUF_OFF), 0);
	assert_int_equal(inb(c->fw), '4');
	assert_int_equal(warnings, 11);
}

static void test_dma_64bit_address(void **state)
{
	struct ctx *c = *state;
	uint8_t b[8];

	/* A descriptor above 4 GiB needs the high half. */
	put_desc(high_ram + 64, sel_ctl(c->ro_key, VMGENID_FW_CFG_DMA_CTL_READ), 3, HIGH_GPA + 256);
	kick(c->fw, HIGH_GPA + 64);
	assert_int_equal(vmgenid_get_be32(high_ram + 64), 0);
	assert_memory_equal(high_ram + 256, "012", 3);

	/* One 64-bit write (MMIO-style) also starts a transfer. */
	put_desc(high_ram + 64, VMGENID_FW_CFG_DMA_CTL_READ, 2, HIGH_GPA + 512);
	vmgenid_put_be64(b, HIGH_GPA + 64);
	vmgenid_fw_cfg_io(c->fw, VMGENID_FW_CFG_PORT_DMA_HI, b, 8, true);
	assert_int_equal(vmgenid_get_be32(high_ram + 64), 0);
	assert_memory_equal(high_ram + 512, "34", 2);

	/*
	 * The register clears after each transfer, so a guest that writes
	 * only the low half (as SeaBIOS does) reaches low memory.
	 */
	put_desc(ram + DESC_OFF, VMGENID_FW_CFG_DMA_CTL_READ, 1, RAM_GPA + BUF_OFF);
	outl(c->fw, VMGENID_FW_CFG_PORT_DMA_LO, bswap32((uint32_t)(RAM_GPA + DESC_OFF)));
	assert_int_equal(vmgenid_get_be32(ram + DESC_OFF), 0);
	assert_int_equal(ram[BUF_OFF], '5');
	assert_int_equal(warnings, 0);
}

static void test_reset(void **state)
{
	struct ctx *c = *state;
	uint16_t key;
	uint32_t off;

	select_key(c->fw, (uint16_t)c->ro_key);
	(void)inb(c->fw);
	(void)inb(c->fw);
	/* A half-written DMA address must not survive the reset. */
	outl(c->fw, VMGENID_FW_CFG_PORT_DMA_HI, bswap32(1));
	vmgenid_fw_cfg_reset(c->fw);

	vmgenid_fw_cfg_get_position(c->fw, &key, &off);
	assert_int_equal(key, VMGENID_FW_CFG_SIGNATURE);
	assert_int_equal(off, 0);
	assert_int_equal(inb(c->fw), 'Q');

	put_desc(ram + DESC_OFF, sel_ctl(c->ro_key, VMGENID_FW_CFG_DMA_CTL_READ), 2,
		 RAM_GPA + BUF_OFF);
	outl(c->fw, VMGENID_FW_CFG_PORT_DMA_LO, bswap32((uint32_t)(RAM_GPA + DESC_OFF)));
	assert_int_equal(vmgenid_get_be32(ram + DESC_OFF), 0);
	assert_memory_equal(ram + BUF_OFF, "01", 2);
	assert_int_equal(warnings, 0);
}

/* --- host API ------------------------------------------------------------ */

static void test_add_file_errors(void **state)
{
	struct ctx *c = *state;
	static uint8_t byte;
	char name[64];

	assert_int_equal(vmgenid_fw_cfg_add_file(c->fw, "ro", &byte, 1, false, NULL, NULL), -EINVAL);
	assert_int_equal(vmgenid_fw_cfg_add_file(c->fw, "", &byte, 1, false, NULL, NULL), -EINVAL);
	assert_int_equal(vmgenid_fw_cfg_add_file(c->fw, NULL, &byte, 1, false, NULL, NULL), -EINVAL);
	assert_int_equal(vmgenid_fw_cfg_add_file(c->fw, "x", NULL, 1, false, NULL, NULL), -EINVAL);

	memset(name, 'n', sizeof(name));
	name[VMGENID_FW_CFG_FILE_NAME_MAX] = '\0'; /* 56 characters: no room for the NUL */
	assert_int_equal(vmgenid_fw_cfg_add_file(c->fw, name, &byte, 1, false, NULL, NULL), -EINVAL);
	name[VMGENID_FW_CFG_FILE_NAME_MAX - 1] = '\0'; /* 55: the longest that fits */
	assert_int_equal(vmgenid_fw_cfg_add_file(c->fw, name, &byte, 1, false, NULL, NULL),
			 VMGENID_FW_CFG_FILE_FIRST + 2);

	/* Fill the directory; the next one does not fit. */
	for (int i = 3; i < VMGENID_FW_CFG_MAX_FILES; i++) {
		snprintf(name, sizeof(name), "f%02d", i);
		assert_int_equal(vmgenid_fw_cfg_add_file(c->fw, name, &byte, 1, false, NULL, NULL),
				 VMGENID_FW_CFG_FILE_FIRST + i);
	}
	assert_int_equal(vmgenid_fw_cfg_add_file(c->fw, "last", &byte, 1, false, NULL, NULL),
			 -ENOSPC);

	/* The full directory still reads back in order and in full. */
	select_key(c->fw, VMGENID_FW_CFG_FILE_DIR);
	{
		uint8_t hdr[4], entry[VMGENID_FW_CFG_DIR_ENTRY_SIZE];
		char prev[VMGENID_FW_CFG_FILE_NAME_MAX] = "";

		read_data(c->fw, hdr, 4);
		assert_int_equal(vmgenid_get_be32(hdr), VMGENID_FW_CFG_MAX_FILES);
		for (int i = 0; i < VMGENID_FW_CFG_MAX_FILES; i++) {
			read_data(c->fw, entry, sizeof(entry));
			assert_true(strcmp(prev, (const char *)entry + 8) < 0);
			memcpy(prev, entry + 8, sizeof(prev));
		}
		assert_int_equal(inb(c->fw), 0);
	}
}

static void test_add_bytes(void **state)
{
	struct ctx *c = *state;
	static const uint8_t val[2] = { 0x34, 0x12 };

	assert_int_equal(vmgenid_fw_cfg_add_bytes(c->fw, VMGENID_FW_CFG_SIGNATURE, val, 2), -EINVAL);
	assert_int_equal(vmgenid_fw_cfg_add_bytes(c->fw, VMGENID_FW_CFG_ID, val, 2), -EINVAL);
	assert_int_equal(vmgenid_fw_cfg_add_bytes(c->fw, VMGENID_FW_CFG_FILE_DIR, val, 2), -EINVAL);
	assert_int_equal(vmgenid_fw_cfg_add_bytes(c->fw, VMGENID_FW_CFG_FILE_FIRST, val, 2), -EINVAL);
	assert_int_equal(vmgenid_fw_cfg_add_bytes(c->fw, 0xffff, val, 2), -EINVAL);
	assert_int_equal(vmgenid_fw_cfg_add_bytes(c->fw, 0x05, NULL, 2), -EINVAL);
	assert_int_equal(vmgenid_fw_cfg_add_bytes(c->fw, 0x05, val, 2), 0);
	assert_int_equal(vmgenid_fw_cfg_add_bytes(c->fw, 0x05, val, 2), -EINVAL);

	select_key(c->fw, 0x05);
	assert_int_equal(inb(c->fw), 0x34);
	assert_int_equal(inb(c->fw), 0x12);
	assert_int_equal(inb(c->fw), 0);
	/* Fixed items are read-only to DMA writes. */
	ram[BUF_OFF] = 0x99;
	assert_int_equal(dma(c->fw, sel_ctl(0x05, VMGENID_FW_CFG_DMA_CTL_WRITE), 1, RAM_GPA + BUF_OFF),
			 VMGENID_FW_CFG_DMA_CTL_ERROR);
	assert_int_equal(val[0], 0x34);
}

static void test_position(void **state)
{
	struct ctx *c = *state;
	struct vmgenid_fw_cfg *copy;
	uint8_t ro2[10];
	uint16_t key;
	uint32_t off;

	select_key(c->fw, (uint16_t)c->ro_key);
	(void)inb(c->fw);
	(void)inb(c->fw);
	(void)inb(c->fw);
	vmgenid_fw_cfg_get_position(c->fw, &key, &off);
	assert_int_equal(key, c->ro_key);
	assert_int_equal(off, 3);

	/* Restore into a device built the same way: reading continues. */
	copy = vmgenid_fw_cfg_new(&c->mem);
	assert_non_null(copy);
	memcpy(ro2, "abcdefghij", 10);
	assert_int_equal(vmgenid_fw_cfg_add_file(copy, "ro", ro2, 10, false, NULL, NULL), c->ro_key);
	assert_int_equal(vmgenid_fw_cfg_set_position(copy, key, off), 0);
	assert_int_equal(inb(copy), 'd');

	/* Refused: absent key, offset past the end.  Position unchanged. */
	assert_int_equal(vmgenid_fw_cfg_set_position(copy, 0x1234, 0), -EINVAL);
	assert_int_equal(vmgenid_fw_cfg_set_position(copy, VMGENID_FW_CFG_FILE_FIRST + 1, 0), -EINVAL);
	assert_int_equal(vmgenid_fw_cfg_set_position(copy, (uint16_t)c->ro_key, 11), -EINVAL);
	assert_int_equal(vmgenid_fw_cfg_set_position(copy, VMGENID_FW_CFG_INVALID, 1), -EINVAL);
	assert_int_equal(inb(copy), 'e');

	/* The end of an item and the invalid selector are valid states. */
	assert_int_equal(vmgenid_fw_cfg_set_position(copy, (uint16_t)c->ro_key, 10), 0);
	assert_int_equal(inb(copy), 0);
	assert_int_equal(vmgenid_fw_cfg_set_position(copy, VMGENID_FW_CFG_INVALID, 0), 0);
	assert_int_equal(inb(copy), 0);
	assert_int_equal(vmgenid_fw_cfg_set_position(copy, VMGENID_FW_CFG_FILE_DIR, 4), 0);
	assert_int_equal(inb(copy), 0); /* first entry's be32 size starts 0x00 */
	vmgenid_fw_cfg_get_position(copy, &key, &off);
	assert_int_equal(key, VMGENID_FW_CFG_FILE_DIR);
	assert_int_equal(off, 5);
	vmgenid_fw_cfg_free(copy);
}

/* Save c->fw, return the section (payload points into b). */
static void save_section(struct vmgenid_fw_cfg *fw, struct vmgenid_bytebuf *b, struct vmgenid_state_section *sec)
{
	struct vmgenid_state_reader r;
	const char *why = NULL;

	vmgenid_bytebuf_init(b);
	assert_int_equal(vmgenid_fw_cfg_save(fw, b), 0);
	vmgenid_state_reader_init(&r, b->data, b->len);
	assert_int_equal(vmgenid_state_reader_next(&r, sec, &why), 1);
	assert_string_equal(sec->id, VMGENID_FW_CFG_STATE_ID);
	assert_int_equal(vmgenid_state_reader_next(&r, sec + 1, &why), 0);
}

static void test_snapshot_round_trip(void **state)
{
	struct ctx *c = *state;
	struct vmgenid_state_section sec[2];
	struct vmgenid_bytebuf b;
	struct vmgenid_fw_cfg *copy;
	uint8_t ro2[10] = "0123456789", rw2[8] = "ZZZZZZZZ";
	const char *why = NULL;

	/* The guest wrote into the writable file and is half-way through "ro". */
	memcpy(ram + BUF_OFF, "WXYZ", 4);
	assert_int_equal(dma(c->fw, sel_ctl((uint16_t)c->rw_key, VMGENID_FW_CFG_DMA_CTL_WRITE), 4,
			     RAM_GPA + BUF_OFF), 0);
	select_key(c->fw, (uint16_t)c->ro_key);
	(void)inb(c->fw);
	(void)inb(c->fw);
	save_section(c->fw, &b, sec);

	copy = vmgenid_fw_cfg_new(&c->mem);
	assert_non_null(copy);
	assert_int_equal(vmgenid_fw_cfg_add_file(copy, "ro", ro2, sizeof(ro2), false, NULL, NULL),
			 c->ro_key);
	assert_int_equal(vmgenid_fw_cfg_add_file(copy, "rw", rw2, sizeof(rw2), true, rw_written, c),
			 c->rw_key);
	c->cb_calls = 0;
	assert_int_equal(vmgenid_fw_cfg_load(copy, sec[0].payload, sec[0].length, sec[0].version, &why),
			 0);
	assert_memory_equal(rw2, "WXYZefgh", 8);
	/* A load is not a guest write: no callback. */
	assert_int_equal(c->cb_calls, 0);
	assert_int_equal(inb(copy), '2');
	vmgenid_fw_cfg_free(copy);
	vmgenid_bytebuf_free(&b);
}

static void test_snapshot_refused_changes_nothing(void **state)
{
	struct ctx *c = *state;
	struct vmgenid_state_section sec[2];
	struct vmgenid_bytebuf b;
	uint8_t bad[128];
	struct vmgenid_fw_cfg *other;
	uint8_t rw_small[4] = "1234";
	const char *why;

	select_key(c->fw, (uint16_t)c->ro_key);
	(void)inb(c->fw);
	save_section(c->fw, &b, sec);
	assert_true(sec[0].length <= sizeof(bad));
	memcpy(bad, sec[0].payload, sec[0].length);
	memcpy(c->rw, "abcdefgh", 8);
	select_key(c->fw, VMGENID_FW_CFG_SIGNATURE);

	for (uint32_t len = 0; len < sec[0].length; len++) {
		why = NULL;
		assert_int_equal(vmgenid_fw_cfg_load(c->fw, bad, len, 1, &why), -EINVAL);
		assert_non_null(why);
	}
	assert_int_equal(vmgenid_fw_cfg_load(c->fw, bad, sec[0].length, 2, &why), -EINVAL);
	/* A selector with no item. */
	bad[0] = 0x34;
	assert_int_equal(vmgenid_fw_cfg_load(c->fw, bad, sec[0].length, 1, &why), -EINVAL);
	assert_non_null(strstr(why, "selects"));
	bad[0] = sec[0].payload[0];
	/* A file name this device lacks. */
	bad[20] = 'x';
	assert_int_equal(vmgenid_fw_cfg_load(c->fw, bad, sec[0].length, 1, &why), -EINVAL);
	assert_non_null(strstr(why, "does not have"));
	bad[20] = sec[0].payload[20];
	/* Trailing bytes. */
	assert_int_equal(vmgenid_fw_cfg_load(c->fw, bad, sec[0].length + 1, 1, &why), -EINVAL);
	assert_int_equal(inb(c->fw), 'Q');

	/* The same name with another size, on a device built differently. */
	other = vmgenid_fw_cfg_new(&c->mem);
	assert_non_null(other);
	assert_int_equal(vmgenid_fw_cfg_add_file(other, "rw", rw_small, 4, true, NULL, NULL),
			 VMGENID_FW_CFG_FILE_FIRST);
	assert_int_equal(vmgenid_fw_cfg_load(other, bad, sec[0].length, 1, &why), -EINVAL);
	assert_memory_equal(rw_small, "1234", 4);
	vmgenid_fw_cfg_free(other);
	vmgenid_bytebuf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_signature_and_id, setup, teardown),
		cmocka_unit_test(test_id_without_dma),
		cmocka_unit_test_setup_teardown(test_directory_bytes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_read_port, setup, teardown),
		cmocka_unit_test_setup_teardown(test_invalid_selector_reads_zero, setup, teardown),
		cmocka_unit_test_setup_teardown(test_data_port_write_ignored, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_size_accesses, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dma_signature, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dma_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dma_read_past_end_zero_fills, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dma_skip_and_select, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dma_write, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dma_write_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dma_descriptor_outside_ram, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dma_target_outside_ram, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dma_control_bits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dma_64bit_address, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_add_file_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_add_bytes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_position, setup, teardown),
		cmocka_unit_test_setup_teardown(test_snapshot_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_snapshot_refused_changes_nothing, setup,
						teardown),
	};

	return cmocka_run_group_tests_name("fw_cfg", tests, NULL, NULL);
}
