// SPDX-License-Identifier: MIT
/*
 * The boot layout genvm writes into guest RAM before the first instruction,
 * checked from the guest's side: the zero page as Linux reads it, the E820
 * map, the identity page tables as the MMU walks them, the GDT, the handoff
 * block as the firmware decodes it, and the firmware image where its own
 * header says.  Guest RAM is a plain buffer: no KVM involved.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "vmgenid/bytebuf.h"
#include "vmgenid/endian.h"
#include "vmgenid/log.h"
#include "vmgenid/state.h"

#include "../../firmware/handoff.h"
#include "boot.h"
#include "bzimage.h"
#include "firmware.h"
#include "fw_status.h"
#include "layout.h"
#include "vm.h"

#define RAM (64ull << 20)
#define KERNEL_FILE_SIZE (5 * 512 + 100000)
#define INITRD_SIZE 12345

static char kernel[64] = "/tmp/test_boot_kernel.XXXXXX";
static char initrd[64] = "/tmp/test_boot_initrd.XXXXXX";
static int exit_requests, exit_code;

void vm_request_exit(struct vm *vm, int code)
{
	(void)vm;
	exit_requests++;
	exit_code = code;
}

static void write_file(char *tmpl, const uint8_t *data, size_t len)
{
	int fd = mkstemp(tmpl);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

static int setup(void **state)
{
	uint8_t *k = calloc(1, KERNEL_FILE_SIZE), *i = malloc(INITRD_SIZE);

	(void)state;
	if (!k || !i)
		return -1;
	k[BZ_SETUP_SECTS] = 4;
	k[0x201] = 0x66; /* setup header runs to 0x202 + 0x66 = 0x268 */
	vmgenid_put_le16(k + BZ_BOOT_FLAG, 0xaa55);
	vmgenid_put_le32(k + BZ_HEADER, BZ_HDRS_MAGIC);
	vmgenid_put_le16(k + BZ_VERSION, 0x020f);
	k[BZ_LOADFLAGS] = BZ_LOADED_HIGH;
	vmgenid_put_le32(k + BZ_INITRD_ADDR_MAX, 0x7fffffff);
	vmgenid_put_le16(k + BZ_XLOADFLAGS, BZ_XLF_KERNEL_64);
	vmgenid_put_le32(k + BZ_CMDLINE_SIZE, 2047);
	vmgenid_put_le64(k + BZ_PREF_ADDRESS, 0x1000000);
	vmgenid_put_le32(k + BZ_INIT_SIZE, 0x1000000);
	for (size_t n = 5 * 512; n < KERNEL_FILE_SIZE; n++)
		k[n] = (uint8_t)(n * 7);
	for (size_t n = 0; n < INITRD_SIZE; n++)
		i[n] = (uint8_t)(n * 13 + 1);
	write_file(kernel, k, KERNEL_FILE_SIZE);
	write_file(initrd, i, INITRD_SIZE);
	free(k);
	free(i);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(kernel);
	unlink(initrd);
	return 0;
}

struct fixture {
	struct vm vm;
	struct genvm_config cfg;
	struct boot_info info;
	uint8_t *ram;
};

static void boot(struct fixture *f, bool with_initrd)
{
	uint8_t hdr[BZ_SETUP_HEADER_END];
	const char *why;
	FILE *k;

	memset(f, 0, sizeof(*f));
	f->ram = calloc(1, RAM);
	assert_non_null(f->ram);
	f->vm.ram = f->ram;
	f->vm.ram_size = RAM;
	f->vm.low_size = RAM;
	vmgenid_guest_mem_init(&f->vm.mem);
	assert_int_equal(vmgenid_guest_mem_add(&f->vm.mem, 0, RAM, f->ram), 0);

	f->cfg.ram_size = RAM;
	f->cfg.nr_cpus = 1;
	f->cfg.kernel_path = kernel;
	f->cfg.cmdline = "console=ttyS0 quiet";
	if (with_initrd) {
		f->cfg.initrd_path = initrd;
		f->cfg.initrd_size = INITRD_SIZE;
	}
	k = fopen(kernel, "rb");
	assert_non_null(k);
	assert_int_equal(fread(hdr, 1, sizeof(hdr), k), sizeof(hdr));
	fclose(k);
	assert_int_equal(bzimage_parse(hdr, sizeof(hdr), KERNEL_FILE_SIZE, &f->cfg.kernel, &why), 0);
	assert_int_equal(boot_setup(&f->vm, &f->cfg, &f->info), 0);
}

static void unboot(struct fixture *f)
{
	free(f->ram);
}

static const uint8_t *zero_page(struct fixture *f)
{
	return f->ram + LAYOUT_BOOT_PARAMS;
}

static void test_zero_page(void **state)
{
	struct fixture f;
	const uint8_t *bp;

	(void)state;
	boot(&f, true);
	bp = zero_page(&f);
	/* The setup header is the file's, with the loader's fields filled in. */
	assert_int_equal(vmgenid_get_le32(bp + BZ_HEADER), BZ_HDRS_MAGIC);
	assert_int_equal(vmgenid_get_le16(bp + BZ_VERSION), 0x020f);
	assert_int_equal(vmgenid_get_le32(bp + BZ_INIT_SIZE), 0x1000000);
	assert_int_equal(bp[BZ_TYPE_OF_LOADER], 0xff);
	assert_int_equal(bp[BZ_LOADFLAGS], BZ_LOADED_HIGH | BZ_CAN_USE_HEAP);
	assert_int_equal(vmgenid_get_le32(bp + BZ_CMD_LINE_PTR), LAYOUT_CMDLINE);
	assert_string_equal((const char *)f.ram + LAYOUT_CMDLINE, "console=ttyS0 quiet");
	/* The firmware fills acpi_rsdp_addr in later. */
	assert_int_equal(vmgenid_get_le64(bp + 0x070), 0);
	/* Nothing before the header but what the loader put there. */
	for (size_t i = 0x1e9; i < BZ_SETUP_SECTS; i++)
		assert_int_equal(bp[i], 0);
	unboot(&f);
}

static void test_kernel_and_initrd_placement(void **state)
{
	struct fixture f;
	const uint8_t *bp;
	uint64_t addr;

	(void)state;
	boot(&f, true);
	bp = zero_page(&f);
	/* The protected-mode part, byte for byte, at 1 MiB. */
	for (size_t n = 0; n < KERNEL_FILE_SIZE - 5 * 512; n += 997)
		assert_int_equal(f.ram[LAYOUT_KERNEL + n], (uint8_t)((n + 5 * 512) * 7));
	assert_int_equal(f.info.kernel_entry, LAYOUT_KERNEL + 0x200);

	addr = vmgenid_get_le32(bp + BZ_RAMDISK_IMAGE) | (uint64_t)vmgenid_get_le32(bp + 0x0c0) << 32;
	assert_int_equal(addr, f.info.initrd_addr);
	assert_int_equal(vmgenid_get_le32(bp + BZ_RAMDISK_SIZE), INITRD_SIZE);
	/* Page aligned, as high as it goes below the reserved zone, clear of the kernel. */
	assert_int_equal(addr % 4096, 0);
	assert_true(addr + INITRD_SIZE <= RAM - LAYOUT_HIGH_ZONE_SIZE);
	assert_true(addr + INITRD_SIZE + 4096 > RAM - LAYOUT_HIGH_ZONE_SIZE);
	assert_true(addr >= 0x1000000 + 0x1000000);
	for (size_t n = 0; n < INITRD_SIZE; n += 101)
		assert_int_equal(f.ram[addr + n], (uint8_t)(n * 13 + 1));
	unboot(&f);

	boot(&f, false);
	assert_int_equal(vmgenid_get_le32(zero_page(&f) + BZ_RAMDISK_IMAGE), 0);
	assert_int_equal(vmgenid_get_le32(zero_page(&f) + BZ_RAMDISK_SIZE), 0);
	unboot(&f);
}

static void test_e820(void **state)
{
	static const struct {
		uint64_t addr, size;
		uint32_t type;
	} want[] = {
		{ 0, 0x9fc00, 1 },
		{ 0x9fc00, 0x100000 - 0x9fc00, 2 },            /* EBDA, VGA, BIOS: FSEG */
		{ 0x100000, RAM - (1 << 20) - 0x100000, 1 },
		{ RAM - (1 << 20), 1 << 20, 2 },               /* the HIGH zone: reserved */
		{ VM_KVM_IDENTITY_MAP, VM_KVM_PRIVATE_SIZE, 2 },
	};
	struct fixture f;
	const uint8_t *bp;

	(void)state;
	boot(&f, true);
	bp = zero_page(&f);
	assert_int_equal(bp[0x1e8], sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const uint8_t *e = bp + 0x2d0 + 20 * i;

		assert_int_equal(vmgenid_get_le64(e), want[i].addr);
		assert_int_equal(vmgenid_get_le64(e + 8), want[i].size);
		assert_int_equal(vmgenid_get_le32(e + 16), want[i].type);
	}
	/*
	 * The zone the firmware allocates HIGH from is the reserved one, but
	 * for its last page: the VMClock page, reserved too.
	 */
	assert_int_equal(f.info.high_start, RAM - (1 << 20));
	assert_int_equal(f.info.high_end, RAM - 4096);
	unboot(&f);
}

static void test_e820_above_4g(void **state)
{
	struct fixture f;
	const uint8_t *bp, *e;

	(void)state;
	boot(&f, false);
	/* Pretend the machine has 1 GiB above 4 GiB: the map must say so. */
	f.vm.high_size = 1ull << 30;
	memset(f.ram + LAYOUT_BOOT_PARAMS, 0, 4096);
	assert_int_equal(boot_setup(&f.vm, &f.cfg, &f.info), 0);
	bp = zero_page(&f);
	assert_int_equal(bp[0x1e8], 6);
	e = bp + 0x2d0 + 20 * 5;
	assert_int_equal(vmgenid_get_le64(e), 1ull << 32);
	assert_int_equal(vmgenid_get_le64(e + 8), 1ull << 30);
	assert_int_equal(vmgenid_get_le32(e + 16), 1);
	unboot(&f);
}

/* What the MMU does with an address under genvm's page tables. */
static uint64_t translate(struct fixture *f, uint64_t va)
{
	uint64_t pml4e = vmgenid_get_le64(f->ram + f->info.cpu.cr3 + 8 * ((va >> 39) & 511));
	uint64_t pdpte, pde;

	assert_int_equal(pml4e & 1, 1);
	pdpte = vmgenid_get_le64(f->ram + (pml4e & ~0xfffull) + 8 * ((va >> 30) & 511));
	assert_int_equal(pdpte & 1, 1);
	assert_int_equal(pdpte & 0x80, 0);
	pde = vmgenid_get_le64(f->ram + (pdpte & ~0xfffull) + 8 * ((va >> 21) & 511));
	assert_int_equal(pde & 0x83, 0x83); /* present, writable, 2 MiB */
	return (pde & ~0x1fffffull) | (va & 0x1fffff);
}

static void test_identity_paging_and_gdt(void **state)
{
	static const uint64_t probes[] = { 0, 0x1000, 0x9fc00, 0xe0000, 0x100200, 0x3ff00000,
					   0xbfffffff, 0xfec00000, 0xfee00000, 0xffffffff };
	struct fixture f;
	const uint8_t *gdt;

	(void)state;
	boot(&f, false);
	for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++)
		assert_int_equal(translate(&f, probes[i]), probes[i]);
	/* Nothing above 4 GiB is mapped. */
	assert_int_equal(vmgenid_get_le64(f.ram + f.info.cpu.cr3 + 8), 0);

	/* __BOOT_CS and __BOOT_DS, as the 64-bit boot protocol names them. */
	assert_int_equal(f.info.cpu.code_sel, 0x10);
	assert_int_equal(f.info.cpu.data_sel, 0x18);
	gdt = f.ram + f.info.cpu.gdt_base;
	/* Code: present, DPL 0, code, L=1 D=0. */
	assert_int_equal((vmgenid_get_le64(gdt + 0x10) >> 40) & 0xff, 0x9b);
	assert_int_equal((vmgenid_get_le64(gdt + 0x10) >> 53) & 3, 1);
	/* Data: present, writable, D/B=1. */
	assert_int_equal((vmgenid_get_le64(gdt + 0x18) >> 40) & 0xff, 0x93);
	assert_int_equal((vmgenid_get_le64(gdt + 0x18) >> 54) & 1, 1);
	/* TR: a busy 64-bit TSS descriptor, two slots. */
	assert_int_equal(f.info.cpu.tss_sel, 0x20);
	assert_int_equal((vmgenid_get_le64(gdt + 0x20) >> 40) & 0xff, 0x8b);
	assert_true(f.info.cpu.gdt_limit >= 0x2f);
	unboot(&f);
}

static void test_handoff_and_firmware(void **state)
{
	extern const uint8_t genvm_firmware_start[];
	struct fixture f;
	struct handoff h;
	uint64_t load;

	(void)state;
	boot(&f, true);
	assert_int_equal(f.info.cpu.rdi, LAYOUT_HANDOFF);
	handoff_decode(f.ram + f.info.cpu.rdi, &h);
	assert_int_equal(h.magic, HANDOFF_MAGIC);
	assert_int_equal(h.version, HANDOFF_VERSION);
	assert_int_equal(h.boot_params, LAYOUT_BOOT_PARAMS);
	assert_int_equal(h.kernel_entry, LAYOUT_KERNEL + 0x200);
	assert_int_equal(h.high_start, RAM - (1 << 20));
	assert_int_equal(h.high_end, RAM - 4096);
	assert_int_equal(h.fseg_start, 0xe0000);
	assert_int_equal(h.fseg_end, 0x100000);

	/* The built firmware sits where its header says, entry inside it. */
	load = vmgenid_get_le64(genvm_firmware_start + FW_IMAGE_OFF_LOAD);
	assert_int_equal(vmgenid_get_le32(f.ram + load), FW_IMAGE_MAGIC);
	assert_memory_equal(f.ram + load, genvm_firmware_start, FW_IMAGE_HEADER_SIZE);
	assert_int_equal(f.info.cpu.rip, vmgenid_get_le64(genvm_firmware_start + FW_IMAGE_OFF_ENTRY));
	assert_true(f.info.cpu.rip > load);
	assert_true(load >= LAYOUT_FW_START);
	assert_true(vmgenid_get_le64(genvm_firmware_start + FW_IMAGE_OFF_MEM_END) <= LAYOUT_FW_END);
	unboot(&f);
}

static void status(struct firmware_status *fs, uint32_t code, uint32_t len)
{
	uint8_t d[4];

	vmgenid_put_le32(d, code);
	firmware_status_io(fs, 0, d, len, true);
}

static void test_firmware_status_port(void **state)
{
	struct firmware_status fs = { 0 };

	(void)state;
	exit_requests = 0;
	/* Wrong width: not a report. */
	status(&fs, fw_code(FW_E_NO_FW_CFG, 0), 1);
	assert_int_equal(exit_requests, 0);
	/* A failure stops the machine with status 1 ... */
	status(&fs, fw_code(FW_E_LOADER_RUN, 3), 4);
	assert_int_equal(exit_requests, 1);
	assert_int_equal(exit_code, 1);
	assert_non_null(strstr(firmware_describe(fw_code(FW_E_LOADER_RUN, 3)),
			       "etc/table-loader failed: "));

	/* ... success does not, and after it the guest cannot use the port. */
	atomic_store(&fs.done, false);
	exit_requests = 0;
	status(&fs, FW_DONE, 4);
	assert_int_equal(exit_requests, 0);
	status(&fs, fw_code(FW_E_NO_DMA, 0), 4);
	assert_int_equal(exit_requests, 0);
}

static int warnings;

static void count_warnings(void *opaque, enum vmgenid_log_level level, const char *module,
			   const char *msg)
{
	(void)opaque;
	(void)msg;
	if (level == VMGENID_LOG_WARN && !strcmp(module, "firmware"))
		warnings++;
}

/* The "firmware" section as a snapshot carries it: saved, then read back. */
static int save_and_load(struct firmware_status *from, struct firmware_status *to)
{
	struct vmgenid_bytebuf b;
	struct vmgenid_state_reader r;
	struct vmgenid_state_section sec;
	const char *why = NULL;
	int ret;

	vmgenid_bytebuf_init(&b);
	assert_int_equal(firmware_status_save(from, &b), 0);
	vmgenid_state_reader_init(&r, b.data, b.len);
	assert_int_equal(vmgenid_state_reader_next(&r, &sec, &why), 1);
	assert_string_equal(sec.id, FIRMWARE_STATE_ID);
	ret = firmware_status_load(to, sec.payload, sec.length, sec.version, &why);
	vmgenid_bytebuf_free(&b);
	return ret;
}

/*
 * A machine restored after its firmware ran: the guest OS writing the
 * status port (any value, any number of times) neither ends genvm nor
 * fills its log.  One restored during the firmware phase still has it.
 */
static void test_status_port_after_restore(void **state)
{
	struct firmware_status src = { 0 }, dst = { 0 };
	const uint8_t bad[2] = { 2, 0 };
	const char *why = NULL;

	(void)state;
	exit_requests = 0;
	warnings = 0;
	vmgenid_log_set_sink(count_warnings, NULL);
	atomic_store(&src.done, true);
	assert_int_equal(save_and_load(&src, &dst), 0);
	for (int i = 0; i < 5; i++) {
		status(&dst, fw_code(FW_E_LOADER_RUN, 3), 4);
		status(&dst, FW_DONE, 4);
	}
	assert_int_equal(exit_requests, 0);
	assert_int_equal(warnings, 1);

	/* Saved in the firmware phase (-S before cont): its report still counts. */
	atomic_store(&src.done, false);
	memset(&dst, 0, sizeof(dst));
	atomic_store(&dst.done, true);
	assert_int_equal(save_and_load(&src, &dst), 0);
	status(&dst, fw_code(FW_E_NO_DMA, 0), 4);
	assert_int_equal(exit_requests, 1);

	/* Payloads that are not one flag byte change nothing. */
	atomic_store(&dst.done, false);
	assert_int_equal(firmware_status_load(&dst, bad, 1, FIRMWARE_STATE_VERSION, &why), -EINVAL);
	assert_int_equal(firmware_status_load(&dst, bad + 1, 2, FIRMWARE_STATE_VERSION, &why),
			 -EINVAL);
	assert_int_equal(firmware_status_load(&dst, bad + 1, 1, 2, &why), -EINVAL);
	assert_false(atomic_load(&dst.done));
	vmgenid_log_set_sink(NULL, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_zero_page),
		cmocka_unit_test(test_kernel_and_initrd_placement),
		cmocka_unit_test(test_e820),
		cmocka_unit_test(test_e820_above_4g),
		cmocka_unit_test(test_identity_paging_and_gdt),
		cmocka_unit_test(test_handoff_and_firmware),
		cmocka_unit_test(test_firmware_status_port),
		cmocka_unit_test(test_status_port_after_restore),
	};

	return cmocka_run_group_tests_name("boot", tests, setup, teardown);
}
