// SPDX-License-Identifier: MIT
/*
 * The guest-side fw_cfg client wired to the real device model: its port
 * I/O goes through vmgenid_fw_cfg_io() exactly as a vCPU exit would deliver it, and
 * DMA lands in a RAM array mapped at RAM_GPA.
 *
 * The no-DMA path is tested two ways: a device built without guest memory
 * (its VMGENID_FW_CFG_ID lacks the DMA bit, like an old QEMU), and a DMA-capable
 * device reached through ops that have no outl (a client that cannot do
 * 32-bit port writes must not try DMA).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "vmgenid/endian.h"
#include "vmgenid/fw_cfg.h"
#include "vmgenid/fw_cfg_guest.h"
#include "vmgenid/log.h"

#define RAM_GPA 0x200000ull
#define RAM_SIZE 0x10000u
#define DESC_OFF 0x40u
#define BUF_OFF 0x1000u

static uint8_t ram[RAM_SIZE];

/* What sits on the I/O bus, and how often the client used each port kind. */
struct bus {
	struct vmgenid_fw_cfg *fw; /* NULL: nothing answers at 0x510 */
	bool dma_dead;	   /* outl reaches no one: DMA never completes */
	bool inl_garbage;  /* inl returns something that is not the signature */
	unsigned int inb_calls, outl_calls;
};

struct ctx {
	struct vmgenid_guest_mem mem;
	struct bus bus;
	struct vmgenid_fw_cfg_guest g;
	uint8_t tables[300];
	uint8_t rsdp[20];
	uint8_t guid[4096];
	uint8_t addr[8];
	int tables_key, rsdp_key, guid_key, addr_key;
	unsigned int cb_calls;
	uint32_t cb_offset, cb_len;
};

static void bus_outw(void *opaque, uint16_t port, uint16_t value)
{
	struct bus *b = opaque;
	uint8_t d[2];

	if (!b->fw)
		return;
	vmgenid_put_le16(d, value);
	vmgenid_fw_cfg_io(b->fw, (uint64_t)port - VMGENID_FW_CFG_IO_BASE, d, 2, true);
}

static uint8_t bus_inb(void *opaque, uint16_t port)
{
	struct bus *b = opaque;
	uint8_t d = 0xff;

	b->inb_calls++;
	if (b->fw)
		vmgenid_fw_cfg_io(b->fw, (uint64_t)port - VMGENID_FW_CFG_IO_BASE, &d, 1, false);
	return d;
}

static void bus_outl(void *opaque, uint16_t port, uint32_t value)
{
	struct bus *b = opaque;
	uint8_t d[4];

	b->outl_calls++;
	if (!b->fw || b->dma_dead)
		return;
	vmgenid_put_le32(d, value);
	vmgenid_fw_cfg_io(b->fw, (uint64_t)port - VMGENID_FW_CFG_IO_BASE, d, 4, true);
}

static uint32_t bus_inl(void *opaque, uint16_t port)
{
	struct bus *b = opaque;
	uint8_t d[4] = { 0xff, 0xff, 0xff, 0xff };

	if (b->inl_garbage)
		return 0x12345678;
	if (b->fw)
		vmgenid_fw_cfg_io(b->fw, (uint64_t)port - VMGENID_FW_CFG_IO_BASE, d, 4, false);
	return vmgenid_get_le32(d);
}

static void addr_written(void *opaque, uint32_t offset, uint32_t len)
{
	struct ctx *c = opaque;

	c->cb_calls++;
	c->cb_offset = offset;
	c->cb_len = len;
}

static struct vmgenid_fw_cfg_guest_ops full_ops;
static struct vmgenid_fw_cfg_guest_ops port_only_ops;
static struct vmgenid_fw_cfg_guest_ops no_inl_ops;

static void quiet(void *opaque, enum vmgenid_log_level level, const char *module, const char *msg)
{
	(void)opaque;
	(void)level;
	(void)module;
	(void)msg;
}

/* A machine with the files the table loader will look for. */
static struct ctx *machine(bool with_dma)
{
	static struct ctx c;

	memset(&c, 0, sizeof(c));
	memset(ram, 0, sizeof(ram));
	vmgenid_guest_mem_init(&c.mem);
	assert_int_equal(vmgenid_guest_mem_add(&c.mem, RAM_GPA, RAM_SIZE, ram), 0);
	c.bus.fw = vmgenid_fw_cfg_new(with_dma ? &c.mem : NULL);
	assert_non_null(c.bus.fw);

	for (size_t i = 0; i < sizeof(c.tables); i++)
		c.tables[i] = (uint8_t)(i * 7 + 1);
	memcpy(c.rsdp, "RSD PTR rsdp-payload", 20);
	c.guid[40] = 0xab;
	c.guid[4095] = 0xcd;

	c.tables_key = vmgenid_fw_cfg_add_file(c.bus.fw, "etc/acpi/tables", c.tables,
				       sizeof(c.tables), false, NULL, NULL);
	c.rsdp_key = vmgenid_fw_cfg_add_file(c.bus.fw, "etc/acpi/rsdp", c.rsdp, sizeof(c.rsdp), false,
				     NULL, NULL);
	c.guid_key = vmgenid_fw_cfg_add_file(c.bus.fw, "etc/vmgenid_guid", c.guid, sizeof(c.guid),
				     false, NULL, NULL);
	c.addr_key = vmgenid_fw_cfg_add_file(c.bus.fw, "etc/vmgenid_addr", c.addr, sizeof(c.addr),
				     true, addr_written, &c);
	assert_true(c.tables_key >= VMGENID_FW_CFG_FILE_FIRST && c.addr_key >= VMGENID_FW_CFG_FILE_FIRST);

	full_ops = (struct vmgenid_fw_cfg_guest_ops){
		.opaque = &c.bus,
		.outw = bus_outw,
		.inb = bus_inb,
		.outl = bus_outl,
		.inl = bus_inl,
	};
	port_only_ops = (struct vmgenid_fw_cfg_guest_ops){
		.opaque = &c.bus,
		.outw = bus_outw,
		.inb = bus_inb,
	};
	no_inl_ops = full_ops;
	no_inl_ops.inl = NULL;
	vmgenid_log_set_sink(quiet, NULL);
	return &c;
}

static int setup_dma(void **state)
{
	struct ctx *c = machine(true);

	assert_int_equal(vmgenid_fw_cfg_guest_init(&c->g, &full_ops, ram + DESC_OFF, RAM_GPA + DESC_OFF),
			 0);
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	struct ctx *c = *state;

	vmgenid_fw_cfg_free(c->bus.fw);
	vmgenid_log_set_sink(NULL, NULL);
	return 0;
}

static void test_init_detects_dma(void **state)
{
	struct ctx *c = *state;

	assert_true(c->g.has_dma);
	assert_ptr_equal(c->g.dma_desc, ram + DESC_OFF);
}

static void test_init_without_device(void **state)
{
	struct ctx *c = machine(true);
	struct vmgenid_fw_cfg_guest g;
	struct vmgenid_fw_cfg *fw = c->bus.fw;

	(void)state;
	c->bus.fw = NULL; /* ports float high: 0xff, not "QEMU" */
	assert_int_equal(vmgenid_fw_cfg_guest_init(&g, &full_ops, ram + DESC_OFF, RAM_GPA + DESC_OFF),
			 -1);
	assert_false(g.has_dma);
	assert_int_equal(vmgenid_fw_cfg_guest_init(&g, NULL, ram + DESC_OFF, RAM_GPA + DESC_OFF), -1);
	vmgenid_fw_cfg_free(fw);
	vmgenid_log_set_sink(NULL, NULL);
}

/* A bus where something answers the data port with a fixed byte string. */
struct fake_port {
	const char *bytes;
	unsigned int pos;
};

static void fake_outw(void *opaque, uint16_t port, uint16_t value)
{
	struct fake_port *f = opaque;

	(void)port;
	(void)value;
	f->pos = 0;
}

static uint8_t fake_inb(void *opaque, uint16_t port)
{
	struct fake_port *f = opaque;

	(void)port;
	return (uint8_t)f->bytes[f->pos++ % 4];
}

static void test_init_checks_every_signature_byte(void **state)
{
	const char *const sigs[] = { "XEMU", "QXMU", "QEXU", "QEMX" };
	struct fake_port f;
	const struct vmgenid_fw_cfg_guest_ops ops = {
		.opaque = &f,
		.outw = fake_outw,
		.inb = fake_inb,
	};
	struct vmgenid_fw_cfg_guest g;

	(void)state;
	for (int i = 0; i < 4; i++) {
		f.bytes = sigs[i];
		assert_int_equal(vmgenid_fw_cfg_guest_init(&g, &ops, NULL, 0), -1);
	}
	f.bytes = "QEMU";
	assert_int_equal(vmgenid_fw_cfg_guest_init(&g, &ops, NULL, 0), 0);
}

static void test_init_checks_dma_signature(void **state)
{
	struct ctx *c = machine(true);
	struct vmgenid_fw_cfg_guest g;

	(void)state;
	c->bus.inl_garbage = true;
	assert_int_equal(vmgenid_fw_cfg_guest_init(&g, &full_ops, ram + DESC_OFF, RAM_GPA + DESC_OFF),
			 0);
	assert_false(g.has_dma);
	/* No descriptor memory: no DMA either. */
	c->bus.inl_garbage = false;
	assert_int_equal(vmgenid_fw_cfg_guest_init(&g, &full_ops, NULL, 0), 0);
	assert_false(g.has_dma);
	vmgenid_fw_cfg_free(c->bus.fw);
	vmgenid_log_set_sink(NULL, NULL);
}

static void test_find(void **state)
{
	struct ctx *c = *state;
	uint16_t sel = 0;
	uint32_t size = 0;
	char long_name[VMGENID_FW_CFG_FILE_NAME_MAX + 1];

	assert_int_equal(vmgenid_fw_cfg_guest_find(&c->g, "etc/acpi/tables", &sel, &size), 0);
	assert_int_equal(sel, c->tables_key);
	assert_int_equal(size, 300);
	assert_int_equal(vmgenid_fw_cfg_guest_find(&c->g, "etc/acpi/rsdp", &sel, &size), 0);
	assert_int_equal(sel, c->rsdp_key);
	assert_int_equal(size, 20);
	assert_int_equal(vmgenid_fw_cfg_guest_find(&c->g, "etc/vmgenid_addr", &sel, &size), 0);
	assert_int_equal(sel, c->addr_key);
	assert_int_equal(size, 8);

	/* The last entry in name order, with DMA skips between entries:
	 * far fewer port reads than the 4 + 4 * 64 of a full walk. */
	c->bus.inb_calls = 0;
	assert_int_equal(vmgenid_fw_cfg_guest_find(&c->g, "etc/vmgenid_guid", &sel, &size), 0);
	assert_int_equal(sel, c->guid_key);
	assert_int_equal(size, 4096);
	assert_true(c->bus.inb_calls < 100);

	/* A prefix of real names, a longer name, and names that cannot exist. */
	sel = 0x7777;
	assert_int_equal(vmgenid_fw_cfg_guest_find(&c->g, "etc/acpi", &sel, &size), -1);
	assert_int_equal(vmgenid_fw_cfg_guest_find(&c->g, "etc/acpi/rsdpX", &sel, &size), -1);
	assert_int_equal(vmgenid_fw_cfg_guest_find(&c->g, "zzz", &sel, &size), -1);
	assert_int_equal(sel, 0x7777);
	/* Names no entry can have are turned down without touching the device. */
	c->bus.inb_calls = 0;
	assert_int_equal(vmgenid_fw_cfg_guest_find(&c->g, "", &sel, &size), -1);
	memset(long_name, 'e', sizeof(long_name) - 1);
	long_name[VMGENID_FW_CFG_FILE_NAME_MAX] = '\0';
	assert_int_equal(vmgenid_fw_cfg_guest_find(&c->g, long_name, &sel, &size), -1);
	assert_int_equal(c->bus.inb_calls, 0);
	assert_int_equal(sel, 0x7777);

	/* Still finds things after failed lookups. */
	assert_int_equal(vmgenid_fw_cfg_guest_find(&c->g, "etc/acpi/rsdp", &sel, &size), 0);
	assert_int_equal(sel, c->rsdp_key);
}

/*
 * With a directory copy, one DMA transfer reads the directory and every
 * look-up after it touches no port; the answers are those of the port walk.
 */
static void test_find_in_copy(void **state)
{
	struct ctx *c = *state;
	uint8_t *copy = ram + BUF_OFF;
	uint16_t sel = 0;
	uint32_t size = 0;

	vmgenid_fw_cfg_guest_cache_dir(&c->g, copy, RAM_GPA + BUF_OFF, 4096);
	c->bus.inb_calls = 0;
	c->bus.outl_calls = 0;
	assert_int_equal(vmgenid_fw_cfg_guest_find(&c->g, "etc/acpi/tables", &sel, &size), 0);
	assert_int_equal(sel, c->tables_key);
	assert_int_equal(size, 300);
	assert_int_equal(vmgenid_fw_cfg_guest_find(&c->g, "etc/vmgenid_guid", &sel, &size), 0);
	assert_int_equal(sel, c->guid_key);
	assert_int_equal(size, 4096);
	assert_int_equal(vmgenid_fw_cfg_guest_find(&c->g, "etc/vmgenid_addr", &sel, &size), 0);
	assert_int_equal(sel, c->addr_key);
	assert_int_equal(size, 8);
	sel = 0x7777;
	assert_int_equal(vmgenid_fw_cfg_guest_find(&c->g, "etc/acpi", &sel, &size), -1);
	assert_int_equal(vmgenid_fw_cfg_guest_find(&c->g, "etc/acpi/rsdpX", &sel, &size), -1);
	assert_int_equal(vmgenid_fw_cfg_guest_find(&c->g, "zzz", &sel, &size), -1);
	assert_int_equal(sel, 0x7777);
	assert_int_equal(c->bus.inb_calls, 0);
	/* One transfer: the two outl of a single DMA kick. */
	assert_int_equal(c->bus.outl_calls, 2);

	/* A copy too small for the directory: the ports answer, rightly. */
	vmgenid_fw_cfg_guest_cache_dir(&c->g, copy, RAM_GPA + BUF_OFF, 4 + VMGENID_FW_CFG_DIR_ENTRY_SIZE);
	c->bus.inb_calls = 0;
	assert_int_equal(vmgenid_fw_cfg_guest_find(&c->g, "etc/acpi/rsdp", &sel, &size), 0);
	assert_int_equal(sel, c->rsdp_key);
	assert_int_equal(size, 20);
	assert_true(c->bus.inb_calls > 0);

	/* init drops the copy: a stale one is never searched. */
	vmgenid_fw_cfg_guest_cache_dir(&c->g, copy, RAM_GPA + BUF_OFF, 4096);
	assert_int_equal(vmgenid_fw_cfg_guest_find(&c->g, "etc/acpi/rsdp", &sel, &size), 0);
	memset(copy, 0, 4096);
	assert_int_equal(vmgenid_fw_cfg_guest_init(&c->g, &full_ops, ram + DESC_OFF, RAM_GPA + DESC_OFF), 0);
	assert_null(c->g.dir);
	assert_int_equal(vmgenid_fw_cfg_guest_find(&c->g, "etc/acpi/rsdp", &sel, &size), 0);
	assert_int_equal(sel, c->rsdp_key);
}

static void test_read_dma(void **state)
{
	struct ctx *c = *state;
	uint16_t sel;
	uint32_t size;

	assert_int_equal(vmgenid_fw_cfg_guest_find(&c->g, "etc/acpi/tables", &sel, &size), 0);
	c->bus.inb_calls = 0;
	c->bus.outl_calls = 0;
	assert_int_equal(vmgenid_fw_cfg_guest_read(&c->g, sel, NULL, RAM_GPA + BUF_OFF, size), 0);
	assert_memory_equal(ram + BUF_OFF, c->tables, sizeof(c->tables));
	assert_int_equal(c->bus.inb_calls, 0); /* it really went over DMA */
	assert_int_equal(c->bus.outl_calls, 2);
	assert_int_equal(vmgenid_get_be32(ram + DESC_OFF), 0);

	/* A 4 KiB file in one request. */
	assert_int_equal(vmgenid_fw_cfg_guest_read(&c->g, (uint16_t)c->guid_key, NULL,
					   RAM_GPA + BUF_OFF, 4096),
			 0);
	assert_int_equal(ram[BUF_OFF + 40], 0xab);
	assert_int_equal(ram[BUF_OFF + 4095], 0xcd);
}

static void test_read_dma_error(void **state)
{
	struct ctx *c = *state;

	/* Target runs past the end of RAM: the device flags it, we report it. */
	assert_int_equal(vmgenid_fw_cfg_guest_read(&c->g, (uint16_t)c->rsdp_key, NULL,
					   RAM_GPA + RAM_SIZE - 10, 20),
			 -1);
	assert_int_equal(ram[RAM_SIZE - 10], 0);
}

static void test_write_dma(void **state)
{
	struct ctx *c = *state;
	uint16_t sel;
	uint32_t size;

	assert_int_equal(vmgenid_fw_cfg_guest_find(&c->g, "etc/vmgenid_addr", &sel, &size), 0);
	vmgenid_put_le64(ram + BUF_OFF, 0x0ffff028ull);
	assert_int_equal(vmgenid_fw_cfg_guest_write(&c->g, sel, 0, RAM_GPA + BUF_OFF, size), 0);
	assert_int_equal(vmgenid_get_le64(c->addr), 0x0ffff028ull);
	assert_int_equal(c->cb_calls, 1);
	assert_int_equal(c->cb_offset, 0);
	assert_int_equal(c->cb_len, 8);

	/* At an offset: SKIP then WRITE. */
	memcpy(ram + BUF_OFF, "\x11\x22\x33\x44", 4);
	assert_int_equal(vmgenid_fw_cfg_guest_write(&c->g, sel, 4, RAM_GPA + BUF_OFF, 4), 0);
	assert_memory_equal(c->addr, "\x28\xf0\xff\x0f\x11\x22\x33\x44", 8);
	assert_int_equal(c->cb_calls, 2);
	assert_int_equal(c->cb_offset, 4);
	assert_int_equal(c->cb_len, 4);

	/* Reading it back through the same client. */
	assert_int_equal(vmgenid_fw_cfg_guest_read(&c->g, sel, NULL, RAM_GPA + BUF_OFF + 64, 8), 0);
	assert_memory_equal(ram + BUF_OFF + 64, c->addr, 8);
}

static void test_write_refused(void **state)
{
	struct ctx *c = *state;

	memset(ram + BUF_OFF, 0xee, 16);
	/* Past the end, from an offset and from the start. */
	assert_int_equal(vmgenid_fw_cfg_guest_write(&c->g, (uint16_t)c->addr_key, 6, RAM_GPA + BUF_OFF, 4),
			 -1);
	assert_int_equal(vmgenid_fw_cfg_guest_write(&c->g, (uint16_t)c->addr_key, 9, RAM_GPA + BUF_OFF, 1),
			 -1);
	assert_int_equal(vmgenid_fw_cfg_guest_write(&c->g, (uint16_t)c->addr_key, 0, RAM_GPA + BUF_OFF, 9),
			 -1);
	/* Read-only file. */
	assert_int_equal(vmgenid_fw_cfg_guest_write(&c->g, (uint16_t)c->guid_key, 0, RAM_GPA + BUF_OFF, 4),
			 -1);
	assert_memory_equal(c->addr, "\0\0\0\0\0\0\0\0", 8);
	assert_int_equal(c->guid[0], 0);
	assert_int_equal(c->cb_calls, 0);
}

static void test_dma_that_never_completes(void **state)
{
	struct ctx *c = *state;

	/* The descriptor keeps its READ bit: the poll gives up instead of hanging. */
	c->bus.dma_dead = true;
	assert_int_equal(vmgenid_fw_cfg_guest_read(&c->g, (uint16_t)c->rsdp_key, NULL,
					   RAM_GPA + BUF_OFF, 20),
			 -1);
	assert_int_equal(ram[BUF_OFF], 0);
	assert_int_equal(vmgenid_fw_cfg_guest_write(&c->g, (uint16_t)c->addr_key, 0, RAM_GPA + BUF_OFF,
					    8),
			 -1);
	assert_int_equal(c->cb_calls, 0);
}

/* Everything a loader needs, through ports only. */
static void check_port_path(struct ctx *c, struct vmgenid_fw_cfg_guest *g)
{
	uint8_t buf[300];
	uint16_t sel;
	uint32_t size;

	assert_false(g->has_dma);
	c->bus.outl_calls = 0;
	assert_int_equal(vmgenid_fw_cfg_guest_find(g, "etc/vmgenid_guid", &sel, &size), 0);
	assert_int_equal(sel, c->guid_key);
	assert_int_equal(size, 4096);
	assert_int_equal(vmgenid_fw_cfg_guest_find(g, "etc/acpi/tables", &sel, &size), 0);
	assert_int_equal(vmgenid_fw_cfg_guest_find(g, "etc/acpi", &sel, &size), -1);
	assert_int_equal(vmgenid_fw_cfg_guest_find(g, "etc/acpi/tables", &sel, &size), 0);
	memset(buf, 0, sizeof(buf));
	assert_int_equal(vmgenid_fw_cfg_guest_read(g, sel, buf, RAM_GPA + BUF_OFF, size), 0);
	assert_memory_equal(buf, c->tables, sizeof(c->tables));
	assert_int_equal(ram[BUF_OFF], 0); /* went to dst, not through DMA */
	assert_int_equal(vmgenid_fw_cfg_guest_read(g, sel, NULL, RAM_GPA + BUF_OFF, 4), -1);

	/* Writing needs DMA: refused, and nothing is attempted. */
	assert_int_equal(vmgenid_fw_cfg_guest_write(g, (uint16_t)c->addr_key, 0, RAM_GPA + BUF_OFF, 8),
			 -1);
	assert_int_equal(c->cb_calls, 0);
	assert_int_equal(c->bus.outl_calls, 0);
}

static void test_fallback_device_without_dma(void **state)
{
	struct ctx *c = machine(false);
	struct vmgenid_fw_cfg_guest g;

	(void)state;
	assert_int_equal(vmgenid_fw_cfg_guest_init(&g, &full_ops, ram + DESC_OFF, RAM_GPA + DESC_OFF),
			 0);
	check_port_path(c, &g);
	vmgenid_fw_cfg_free(c->bus.fw);
	vmgenid_log_set_sink(NULL, NULL);
}

/* Without inl there is no second opinion: the ID bit alone must decide. */
static void test_fallback_device_without_dma_no_inl(void **state)
{
	struct ctx *c = machine(false);
	struct vmgenid_fw_cfg_guest g;

	(void)state;
	assert_int_equal(vmgenid_fw_cfg_guest_init(&g, &no_inl_ops, ram + DESC_OFF, RAM_GPA + DESC_OFF),
			 0);
	check_port_path(c, &g);
	vmgenid_fw_cfg_free(c->bus.fw);
	vmgenid_log_set_sink(NULL, NULL);
}

static void test_dma_without_inl(void **state)
{
	struct ctx *c = machine(true);
	struct vmgenid_fw_cfg_guest g;

	(void)state;
	assert_int_equal(vmgenid_fw_cfg_guest_init(&g, &no_inl_ops, ram + DESC_OFF, RAM_GPA + DESC_OFF),
			 0);
	assert_true(g.has_dma);
	assert_int_equal(vmgenid_fw_cfg_guest_read(&g, (uint16_t)c->rsdp_key, NULL, RAM_GPA + BUF_OFF,
					   20),
			 0);
	assert_memory_equal(ram + BUF_OFF, c->rsdp, 20);
	vmgenid_fw_cfg_free(c->bus.fw);
	vmgenid_log_set_sink(NULL, NULL);
}

static void test_fallback_ops_without_outl(void **state)
{
	struct ctx *c = machine(true);
	struct vmgenid_fw_cfg_guest g;

	(void)state;
	assert_int_equal(vmgenid_fw_cfg_guest_init(&g, &port_only_ops, ram + DESC_OFF,
					   RAM_GPA + DESC_OFF),
			 0);
	check_port_path(c, &g);
	vmgenid_fw_cfg_free(c->bus.fw);
	vmgenid_log_set_sink(NULL, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_init_detects_dma, setup_dma, teardown),
		cmocka_unit_test(test_init_without_device),
		cmocka_unit_test(test_init_checks_every_signature_byte),
		cmocka_unit_test(test_init_checks_dma_signature),
		cmocka_unit_test_setup_teardown(test_find, setup_dma, teardown),
		cmocka_unit_test_setup_teardown(test_find_in_copy, setup_dma, teardown),
		cmocka_unit_test_setup_teardown(test_read_dma, setup_dma, teardown),
		cmocka_unit_test_setup_teardown(test_read_dma_error, setup_dma, teardown),
		cmocka_unit_test_setup_teardown(test_write_dma, setup_dma, teardown),
		cmocka_unit_test_setup_teardown(test_write_refused, setup_dma, teardown),
		cmocka_unit_test_setup_teardown(test_dma_that_never_completes, setup_dma, teardown),
		cmocka_unit_test(test_fallback_device_without_dma),
		cmocka_unit_test(test_fallback_device_without_dma_no_inl),
		cmocka_unit_test(test_dma_without_inl),
		cmocka_unit_test(test_fallback_ops_without_outl),
	};

	return cmocka_run_group_tests_name("fw_cfg_guest", tests, NULL, NULL);
}
