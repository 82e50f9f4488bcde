// SPDX-License-Identifier: MIT
/*
 * The restore's first pass: a snapshot's sections are all checked against
 * the machine before any is applied.  The machine here has real devices
 * (UART, PM, fw_cfg, vmgenid, vmclock) and no KVM behind it, so a state that passes
 * the checks fails at the first ioctl, which shows where applying starts.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "vmgenid/bytebuf.h"
#include "vmgenid/endian.h"
#include "vmgenid/state.h"
#include "vmgenid/vmclock.h"
#include "vmgenid/vmgenid.h"

#include "devices.h"
#include "kvm_state.h"
#include "machine.h"
#include "pm.h"
#include "snapshot.h"
#include "uart.h"
#include "vcpu.h"
#include "vsock.h"

#define NR_CPUS 2
#define VMCLOCK_GPA 0xf000

static uint8_t ram[1 << 16];

/* The firmware status port may end the machine; there is none to end here. */
void vm_request_exit(struct vm *vm, int code)
{
	(void)vm;
	(void)code;
	fail_msg("vm_request_exit called");
}

/* The devices drive interrupt lines; there is no irqchip to tell here. */
void vm_irq_line(struct vm *vm, unsigned int irq, int level)
{
	(void)vm;
	(void)irq;
	(void)level;
}

static void no_notify(void *opaque)
{
	(void)opaque;
}

static const struct pm_ops pm_ops;

struct fixture {
	struct machine m;
	struct vcpu vcpu[NR_CPUS];
	struct vcpu *vcpus[NR_CPUS];
};

static int setup(void **state)
{
	static struct fixture f;
	struct vmgenid_guid g = { { 1, 2, 3 } };

	memset(&f, 0, sizeof(f));
	f.m.vm.vm_fd = -1; /* no KVM: the first ioctl of the apply pass fails */
	f.m.vm.nr_cpus = NR_CPUS;
	f.m.vm.vcpus = f.vcpus;
	for (unsigned int i = 0; i < NR_CPUS; i++) {
		f.vcpu[i].id = i;
		f.vcpu[i].fd = -1;
		f.vcpu[i].vm = &f.m.vm;
		f.vcpus[i] = &f.vcpu[i];
	}
	vmgenid_guest_mem_init(&f.m.vm.mem);
	assert_int_equal(vmgenid_guest_mem_add(&f.m.vm.mem, 0, sizeof(ram), ram), 0);
	pthread_mutex_init(&f.m.fw_cfg_lock, NULL);
	f.m.fw_cfg = vmgenid_fw_cfg_new(&f.m.vm.mem);
	f.m.uart = uart_new(&f.m.vm, UART_COM1_IRQ, -1);
	f.m.pm = pm_new(&f.m.vm, &pm_ops);
	f.m.vmgenid = vmgenid_dev_new(&g, &f.m.vm.mem, no_notify, NULL);
	f.m.vmclock = vmgenid_vmclock_new(&f.m.vm.mem, VMCLOCK_GPA, no_notify, NULL);
	assert_non_null(f.m.vmclock);
	assert_non_null(f.m.fw_cfg);
	assert_non_null(f.m.uart);
	assert_non_null(f.m.pm);
	assert_non_null(f.m.vmgenid);
	assert_int_equal(vmgenid_dev_add_fw_cfg(f.m.vmgenid, f.m.fw_cfg), 0);
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	vmgenid_dev_free(f->m.vmgenid);
	vmgenid_vmclock_free(f->m.vmclock);
	vmgenid_fw_cfg_free(f->m.fw_cfg);
	uart_free(f->m.uart);
	pm_free(f->m.pm);
	pthread_mutex_destroy(&f->m.fw_cfg_lock);
	return 0;
}

enum {
	WITH_IRQCHIP = 1 << 0,
	WITH_PIT = 1 << 1,
	WITH_CLOCK = 1 << 2,
	WITH_VCPU0 = 1 << 3,
	WITH_VCPU1 = 1 << 4,
	WITH_FW_CFG = 1 << 5,
	WITH_VMGENID = 1 << 6,
	WITH_UART = 1 << 7,
	WITH_PM = 1 << 8,
	WITH_VMCLOCK = 1 << 9,
	WITH_ALL = (1 << 10) - 1,
};

static void add_vcpu(struct vmgenid_bytebuf *b, uint32_t id)
{
	static struct kvm_state_vcpu st;

	memset(&st, 0, sizeof(st));
	st.id = id;
	kvm_state_encode_vcpu(b, &st);
}

/* A well-formed state with the sections of mask, in a shuffled order. */
static void build(struct fixture *f, struct vmgenid_bytebuf *b, unsigned int mask)
{
	static struct kvm_state_irqchip chip = { .ioapic = { .base_address = VM_IOAPIC_ADDR } };
	static const struct kvm_pit_state2 pit;

	vmgenid_bytebuf_init(b);
	if (mask & WITH_PM)
		assert_int_equal(pm_save(f->m.pm, b), 0);
	if (mask & WITH_VCPU1)
		add_vcpu(b, 1);
	if (mask & WITH_IRQCHIP)
		kvm_state_encode_irqchip(b, &chip);
	if (mask & WITH_FW_CFG)
		assert_int_equal(vmgenid_fw_cfg_save(f->m.fw_cfg, b), 0);
	if (mask & WITH_PIT)
		kvm_state_encode_pit(b, &pit);
	if (mask & WITH_VMGENID)
		assert_int_equal(vmgenid_dev_save(f->m.vmgenid, b), 0);
	if (mask & WITH_CLOCK)
		kvm_state_encode_clock(b, 123456789);
	if (mask & WITH_VMCLOCK)
		assert_int_equal(vmgenid_vmclock_save(f->m.vmclock, b), 0);
	if (mask & WITH_VCPU0)
		add_vcpu(b, 0);
	if (mask & WITH_UART)
		assert_int_equal(uart_save(f->m.uart, b), 0);
	assert_false(vmgenid_bytebuf_failed(b));
}

static void expect_refused(struct fixture *f, const struct vmgenid_bytebuf *b, const char *what)
{
	char why[256] = "";

	assert_int_equal(snapshot_load_state(&f->m, b->data, b->len, why, sizeof(why)), -1);
	if (!strstr(why, what))
		fail_msg("expected '%s' in: %s", what, why);
}

/* Scratch register 0x3ff: a device whose state would show a premature apply. */
static uint8_t uart_scratch(struct uart *u)
{
	uint8_t v = 0;

	uart_io(u, 7, &v, 1, false);
	return v;
}

static void test_complete_state_reaches_kvm_first(void **state)
{
	struct fixture *f = *state;
	struct vmgenid_bytebuf b;
	uint8_t v = 0x5a;

	uart_io(f->m.uart, 7, &v, 1, true);
	build(f, &b, WITH_ALL);
	v = 0;
	uart_io(f->m.uart, 7, &v, 1, true);
	/* Everything checks out; the VM's irqchip is applied first and fails. */
	expect_refused(f, &b, "section 'kvm-irqchip': KVM refused the irqchip state");
	assert_int_equal(uart_scratch(f->m.uart), 0);
	vmgenid_bytebuf_free(&b);
}

static void test_missing_sections(void **state)
{
	static const struct {
		unsigned int drop;
		const char *what;
	} cases[] = {
		{ WITH_IRQCHIP, "section 'kvm-irqchip' is missing" },
		{ WITH_PIT, "section 'kvm-pit' is missing" },
		{ WITH_CLOCK, "section 'kvm-clock' is missing" },
		{ WITH_FW_CFG, "section 'fw_cfg' is missing" },
		{ WITH_UART, "section 'uart' is missing" },
		{ WITH_PM, "section 'pm' is missing" },
		{ WITH_VCPU0, "the state of vCPU 0 is missing" },
		{ WITH_VCPU1, "the state of vCPU 1 is missing" },
		{ WITH_VMGENID, "the snapshot has no vmgenid device" },
		{ WITH_VMCLOCK, "the snapshot has no vmclock device: remove -device vmclock" },
	};
	struct fixture *f = *state;
	struct vmgenid_bytebuf b;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		build(f, &b, WITH_ALL & ~cases[i].drop);
		expect_refused(f, &b, cases[i].what);
		vmgenid_bytebuf_free(&b);
	}
}

static void test_vmgenid_on_one_side_only(void **state)
{
	struct fixture *f = *state;
	struct vmgenid_dev *dev = f->m.vmgenid;
	struct vmgenid_bytebuf b;

	build(f, &b, WITH_ALL);
	f->m.vmgenid = NULL;
	expect_refused(f, &b, "add -device vmgenid");
	f->m.vmgenid = dev;
	vmgenid_bytebuf_free(&b);
}

static void test_vmclock_on_one_side_only(void **state)
{
	struct fixture *f = *state;
	struct vmgenid_vmclock *dev = f->m.vmclock;
	struct vmgenid_bytebuf b;

	build(f, &b, WITH_ALL);
	f->m.vmclock = NULL;
	expect_refused(f, &b, "the snapshot has a vmclock device: add -device vmclock");
	f->m.vmclock = dev;
	vmgenid_bytebuf_free(&b);
}

/*
 * A vmclock section this machine cannot take is refused by the first pass,
 * before KVM hears of anything (the apply pass would fail at the irqchip).
 */
static void test_vmclock_state_checked_before_apply(void **state)
{
	struct fixture *f = *state;
	struct vmgenid_vmclock *other = vmgenid_vmclock_new(&f->m.vm.mem, VMCLOCK_GPA - 0x1000, no_notify, NULL);
	struct vmgenid_bytebuf b;

	assert_non_null(other);
	build(f, &b, WITH_ALL & ~WITH_VMCLOCK);
	assert_int_equal(vmgenid_vmclock_save(other, &b), 0);
	expect_refused(f, &b, "section 'vmclock': vmclock state names a page at another address");
	vmgenid_bytebuf_free(&b);
	vmgenid_vmclock_free(other);
}

static void test_duplicates_unknown_and_foreign_vcpus(void **state)
{
	struct fixture *f = *state;
	struct vmgenid_bytebuf b;
	size_t start;

	build(f, &b, WITH_ALL);
	assert_int_equal(uart_save(f->m.uart, &b), 0);
	expect_refused(f, &b, "section 'uart' appears twice");
	vmgenid_bytebuf_free(&b);

	build(f, &b, WITH_ALL);
	add_vcpu(&b, 1);
	expect_refused(f, &b, "vCPU 1 appears twice");
	vmgenid_bytebuf_free(&b);

	/* A vCPU this machine does not have: the snapshot is of another one. */
	build(f, &b, WITH_ALL);
	add_vcpu(&b, NR_CPUS);
	expect_refused(f, &b, "section 'vcpu'");
	vmgenid_bytebuf_free(&b);

	build(f, &b, WITH_ALL);
	start = vmgenid_state_section_begin(&b, "usb-ehci", 1);
	vmgenid_bytebuf_put_le32(&b, 0);
	vmgenid_state_section_end(&b, start);
	expect_refused(f, &b, "unknown section 'usb-ehci'");
	vmgenid_bytebuf_free(&b);
}

static void test_damaged_framing(void **state)
{
	struct fixture *f = *state;
	struct vmgenid_bytebuf b;

	build(f, &b, WITH_ALL);
	/* A payload byte of the first section: its CRC no longer matches. */
	b.data[VMGENID_STATE_SECTION_HEADER_SIZE] ^= 0x40;
	expect_refused(f, &b, "state sections:");
	b.data[VMGENID_STATE_SECTION_HEADER_SIZE] ^= 0x40;
	/* Cut in the middle of the last section. */
	expect_refused(f, &(struct vmgenid_bytebuf){ .data = b.data, .len = b.len - 3 }, "state sections:");
	vmgenid_bytebuf_free(&b);
}

/*
 * Random damage inside payloads, with each section's CRC made to match
 * again so the damage reaches the decoders: every result is a refusal
 * (or the KVM failure a well-formed state ends in here), never a crash or
 * an out-of-bounds read, which the sanitizer build would catch.
 */
static void fix_crcs(uint8_t *data, size_t len)
{
	size_t pos = 0;

	while (pos + VMGENID_STATE_SECTION_HEADER_SIZE <= len) {
		uint32_t plen = vmgenid_get_le32(data + pos + 20);

		if (plen > len - pos - VMGENID_STATE_SECTION_HEADER_SIZE)
			return;
		vmgenid_put_le32(data + pos + 24,
			 vmgenid_state_crc32(0, data + pos + VMGENID_STATE_SECTION_HEADER_SIZE, plen));
		pos += VMGENID_STATE_SECTION_HEADER_SIZE + plen;
	}
}

static void test_random_damage_is_refused(void **state)
{
	struct fixture *f = *state;
	struct vmgenid_bytebuf b;
	uint8_t *copy;
	unsigned int seed = 12345, refused_early = 0;
	char why[256];

	build(f, &b, WITH_ALL);
	copy = malloc(b.len);
	assert_non_null(copy);
	for (int i = 0; i < 3000; i++) {
		memcpy(copy, b.data, b.len);
		for (int n = 1 + rand_r(&seed) % 4; n > 0; n--) {
			size_t at = (size_t)rand_r(&seed) % b.len;

			copy[at] = (uint8_t)rand_r(&seed);
		}
		fix_crcs(copy, b.len);
		assert_int_equal(snapshot_load_state(&f->m, copy, b.len, why, sizeof(why)), -1);
		assert_true(why[0] != '\0');
		refused_early += strstr(why, "KVM refused") == NULL;
	}
	/*
	 * Damage to ids, lengths, counts and flags is caught by the checks
	 * (about one case in seven with this seed); a changed register value
	 * is a valid state, and only KVM can judge it.
	 */
	assert_true(refused_early > 0);
	free(copy);
	vmgenid_bytebuf_free(&b);
}

static char disk_small[64], disk_big[64];

static void make_disk(char *path, size_t size, const char *name)
{
	FILE *fp;

	snprintf(path, 64, "/tmp/test_snapshot.%d.%s", (int)getpid(), name);
	fp = fopen(path, "wb");
	assert_non_null(fp);
	assert_int_equal(ftruncate(fileno(fp), (off_t)size), 0);
	fclose(fp);
}

/* Slots as the command line gives them: a disk (this file, readonly or not), then an rng. */
static void virtio_machine(struct fixture *f, struct genvm_config *cfg, const char *disk,
			   bool readonly, bool rng_first)
{
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->drives[0].file, sizeof(cfg->drives[0].file), "%s", disk);
	cfg->drives[0].readonly = readonly;
	cfg->drives[0].if_virtio = true;
	cfg->nr_drives = 1;
	cfg->virtio[rng_first ? 1 : 0] = (struct cli_virtio){ .kind = CLI_VIRTIO_BLK, .drive = 0 };
	cfg->virtio[rng_first ? 0 : 1] = (struct cli_virtio){ .kind = CLI_VIRTIO_RNG };
	cfg->nr_virtio = 2;
	f->m.cfg = cfg;
	/* A fresh bus: windows are claimed for the machine's life. */
	io_bus_free(f->m.vm.mmio);
	f->m.vm.mmio = io_bus_new();
	assert_non_null(f->m.vm.mmio);
	assert_int_equal(virtio_devices_open_drives(&f->m), 0);
	assert_int_equal(virtio_devices_create(&f->m), 0);
}

/*
 * The virtio sections go through the same first pass: a state from the
 * same command line passes on to KVM; a disk of another size, another
 * device order, a readonly change, a missing, doubled or extra device are
 * refused before anything is applied.
 */
static void test_virtio_sections(void **state)
{
	static struct genvm_config cfg, other;
	struct fixture *f = *state;
	struct vmgenid_bytebuf b, saved;
	size_t start;

	make_disk(disk_small, 1 << 20, "small");
	make_disk(disk_big, 2 << 20, "big");
	virtio_machine(f, &cfg, disk_small, false, false);
	vmgenid_bytebuf_init(&saved);
	assert_int_equal(virtio_devices_save(&f->m, &saved), 0);
	assert_non_null(memmem(saved.data, saved.len, "virtio.0", 8));
	assert_non_null(memmem(saved.data, saved.len, "virtio.1", 8));

	build(f, &b, WITH_ALL);
	vmgenid_bytebuf_append(&b, saved.data, saved.len);
	expect_refused(f, &b, "section 'kvm-irqchip': KVM refused");
	vmgenid_bytebuf_free(&b);

	build(f, &b, WITH_ALL);
	expect_refused(f, &b, "the snapshot has no virtio device 0");
	vmgenid_bytebuf_free(&b);

	build(f, &b, WITH_ALL);
	vmgenid_bytebuf_append(&b, saved.data, saved.len);
	vmgenid_bytebuf_append(&b, saved.data, saved.len);
	expect_refused(f, &b, "section 'virtio.0' appears twice");
	vmgenid_bytebuf_free(&b);

	build(f, &b, WITH_ALL);
	vmgenid_bytebuf_append(&b, saved.data, saved.len);
	start = vmgenid_state_section_begin(&b, "virtio.5", VIRTIO_STATE_VERSION);
	vmgenid_bytebuf_put_le32(&b, 0);
	vmgenid_state_section_end(&b, start);
	expect_refused(f, &b, "more virtio devices than the command line gives");
	vmgenid_bytebuf_free(&b);

	virtio_devices_destroy(&f->m);
	virtio_devices_close_drives(&f->m);
	struct {
		const char *disk;
		bool readonly, rng_first;
		const char *what;
	} cases[] = {
		{ disk_big, false, false, "the drive's size differs from the snapshot's disk" },
		{ disk_small, false, true, "another kind of virtio device" },
		{ disk_small, true, false, "features differ" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		virtio_machine(f, &other, cases[i].disk, cases[i].readonly, cases[i].rng_first);
		build(f, &b, WITH_ALL);
		vmgenid_bytebuf_append(&b, saved.data, saved.len);
		expect_refused(f, &b, cases[i].what);
		vmgenid_bytebuf_free(&b);
		virtio_devices_destroy(&f->m);
		virtio_devices_close_drives(&f->m);
	}
	vmgenid_bytebuf_free(&saved);
	io_bus_free(f->m.vm.mmio);
	f->m.vm.mmio = NULL;
	f->m.cfg = NULL;
	unlink(disk_small);
	unlink(disk_big);
}

/* One virtio slot: the hybrid vsock device on a socket in /tmp, or an rng. */
static void vsock_machine(struct fixture *f, struct genvm_config *cfg, enum cli_virtio_kind kind)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->virtio[0] = (struct cli_virtio){ .kind = kind };
	cfg->nr_virtio = 1;
	cfg->vsock.guest_cid = 7;
	snprintf(cfg->vsock.uds, sizeof(cfg->vsock.uds), "/tmp/test_snapshot.%d.sock", (int)getpid());
	f->m.cfg = cfg;
	io_bus_free(f->m.vm.mmio);
	f->m.vm.mmio = io_bus_new();
	assert_non_null(f->m.vm.mmio);
	assert_int_equal(virtio_devices_create(&f->m), 0);
}

/* saved's one section again, its payload changed by edit, or len bytes shorter. */
static void reframe(struct vmgenid_bytebuf *b, const struct vmgenid_bytebuf *saved, size_t tail_off, uint8_t value,
		    uint32_t shorter)
{
	uint32_t len = vmgenid_get_le32(saved->data + 20);
	uint8_t *payload = malloc(len);
	size_t start;

	assert_non_null(payload);
	memcpy(payload, saved->data + VMGENID_STATE_SECTION_HEADER_SIZE, len);
	if (value != 0xff)
		payload[len - VSOCK_STATE_LEN + tail_off] = value;
	start = vmgenid_state_section_begin(b, "virtio.0", VIRTIO_STATE_VERSION);
	vmgenid_bytebuf_append(b, payload, len - shorter);
	vmgenid_state_section_end(b, start);
	free(payload);
}

/*
 * vsock's part of its virtio section: the transport's state then a
 * version, the guest CID and the backend.  The same command line passes the
 * first pass; a damaged or foreign tail, or another device in the slot, is
 * refused before anything is applied.
 */
static void test_vsock_section(void **state)
{
	static struct genvm_config cfg, other;
	struct fixture *f = *state;
	struct vmgenid_bytebuf b, saved;
	static const struct {
		size_t off;
		uint8_t value;
		uint32_t shorter;
		const char *what;
	} cases[] = {
		{ 0, 2, 0, "unsupported vsock state version" },
		{ 4, 2, 0, "guest CID is out of range" },
		{ 12, VSOCK_BACKEND_VHOST, 0, "the command line's is vsock" },
		{ 12, 9, 0, "backend is unknown" },
		{ 0, 0xff, 1, "vsock state has the wrong length" },
	};

	vsock_machine(f, &cfg, CLI_VIRTIO_VSOCK);
	vmgenid_bytebuf_init(&saved);
	assert_int_equal(virtio_devices_save(&f->m, &saved), 0);
	assert_int_equal(vmgenid_get_le32(saved.data + VMGENID_STATE_SECTION_HEADER_SIZE), VIRTIO_ID_VSOCK);

	build(f, &b, WITH_ALL);
	vmgenid_bytebuf_append(&b, saved.data, saved.len);
	expect_refused(f, &b, "section 'kvm-irqchip': KVM refused");
	vmgenid_bytebuf_free(&b);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		build(f, &b, WITH_ALL);
		reframe(&b, &saved, cases[i].off, cases[i].value, cases[i].shorter);
		expect_refused(f, &b, cases[i].what);
		vmgenid_bytebuf_free(&b);
	}
	virtio_devices_destroy(&f->m);

	vsock_machine(f, &other, CLI_VIRTIO_RNG);
	build(f, &b, WITH_ALL);
	vmgenid_bytebuf_append(&b, saved.data, saved.len);
	expect_refused(f, &b, "another kind of virtio device");
	vmgenid_bytebuf_free(&b);
	virtio_devices_destroy(&f->m);
	vmgenid_bytebuf_free(&saved);
	io_bus_free(f->m.vm.mmio);
	f->m.vm.mmio = NULL;
	f->m.cfg = NULL;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_complete_state_reaches_kvm_first, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_missing_sections, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vmgenid_on_one_side_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vmclock_on_one_side_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vmclock_state_checked_before_apply, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_duplicates_unknown_and_foreign_vcpus, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_damaged_framing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_random_damage_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_virtio_sections, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vsock_section, setup, teardown),
	};

	return cmocka_run_group_tests_name("snapshot", tests, NULL, NULL);
}
