// SPDX-License-Identifier: MIT
/*
 * What -incoming reads: a snapshot file's header, its state sections, and
 * each section's loader, on a machine with genvm's real devices and no KVM
 * behind it (the first KVM ioctl of the apply pass fails, as in
 * tests/unit/test_snapshot.c).
 *
 * An input that starts with the snapshot magic is a whole file: it is read
 * once as it is, and once more with its checksums made right, so that the
 * fuzzer reaches past them.  Any other input is a bare stream of sections
 * (checksums made right) for a 2-vCPU machine.
 *
 * Beyond the sanitizers: every refusal says why, a refused section leaves
 * its device as it was, and whatever a loader accepts it saves again in a
 * form that loads back into the same bytes (for every section but pm,
 * whose timer runs on between the two saves).
 */
#include <stdlib.h>
#include <string.h>

#include "vmgenid/endian.h"
#include "vmgenid/state.h"

#include "fuzz.h"
#include "fuzz_machine.h"
#include "kvm_state.h"
#include "machine.h"
#include "pm.h"
#include "snapfile.h"
#include "snapshot.h"
#include "uart.h"
#include "vcpu.h"

#define SECTION_NR_CPUS 2

/* The devices drive interrupt lines; there is no irqchip here. */
void vm_irq_line(struct vm *vm, unsigned int irq, int level)
{
	(void)vm;
	(void)irq;
	(void)level;
}

/* Only a virtio worker that cannot enter the sandbox calls this: none runs here. */
void vm_request_exit(struct vm *vm, int code)
{
	(void)vm;
	(void)code;
	abort();
}

static const struct pm_ops pm_ops;

struct devices {
	uint8_t ram[FUZZ_RAM_SIZE];
	struct fuzz_machine fm;
	struct vm vm;
	struct uart *uart;
	struct pm *pm;
};

/* Two sets: the one the input is loaded into, and a fresh one for round trips. */
static struct devices dev_a, dev_b;
static struct machine mach;
static struct vcpu vcpus[SNAPFILE_MAX_CPUS];
static struct vcpu *vcpu_ptrs[SNAPFILE_MAX_CPUS];
static uint8_t *work; /* a writable copy of the input */
static size_t work_cap;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet_logs();
	return 0;
}

static void devices_init(struct devices *d)
{
	memset(d->ram, 0, sizeof(d->ram));
	memset(&d->vm, 0, sizeof(d->vm));
	d->vm.vm_fd = -1;
	FUZZ_CHECK(fuzz_machine_init(&d->fm, d->ram) == 0);
	d->uart = uart_new(&d->vm, UART_COM1_IRQ, -1);
	d->pm = pm_new(&d->vm, &pm_ops);
	FUZZ_CHECK(d->uart && d->pm);
}

static void devices_destroy(struct devices *d)
{
	fuzz_machine_destroy(&d->fm);
	uart_free(d->uart);
	pm_free(d->pm);
}

/* ---- the devices' sections: load, and the save/load round trip ---- */

enum dev_kind { DEV_FW_CFG, DEV_VMGENID, DEV_UART, DEV_PM, DEV_NONE };

static enum dev_kind dev_kind(const char *id)
{
	if (!strcmp(id, VMGENID_FW_CFG_STATE_ID))
		return DEV_FW_CFG;
	if (!strcmp(id, VMGENID_DEV_STATE_ID))
		return DEV_VMGENID;
	if (!strcmp(id, UART_STATE_ID))
		return DEV_UART;
	if (!strcmp(id, PM_STATE_ID))
		return DEV_PM;
	return DEV_NONE;
}

static int dev_load(struct devices *d, enum dev_kind k, const struct vmgenid_state_section *s,
		    const char **why)
{
	switch (k) {
	case DEV_FW_CFG:
		return vmgenid_fw_cfg_load(d->fm.fw, s->payload, s->length, s->version, why);
	case DEV_VMGENID:
		return vmgenid_dev_load(d->fm.vmgenid, s->payload, s->length, s->version, why);
	case DEV_UART:
		return uart_load(d->uart, s->payload, s->length, s->version, why);
	case DEV_PM:
		return pm_load(d->pm, s->payload, s->length, s->version, why);
	default:
		return -1;
	}
}

static int dev_save(struct devices *d, enum dev_kind k, struct vmgenid_bytebuf *out)
{
	switch (k) {
	case DEV_FW_CFG:
		return vmgenid_fw_cfg_save(d->fm.fw, out);
	case DEV_VMGENID:
		return vmgenid_dev_save(d->fm.vmgenid, out);
	case DEV_UART:
		return uart_save(d->uart, out);
	case DEV_PM:
		return pm_save(d->pm, out);
	default:
		return -1;
	}
}

/* The one section a bytebuf holds. */
static struct vmgenid_state_section only_section(const struct vmgenid_bytebuf *b)
{
	struct vmgenid_state_reader r;
	struct vmgenid_state_section s;
	const char *why = NULL;

	vmgenid_state_reader_init(&r, b->data, b->len);
	FUZZ_CHECK(vmgenid_state_reader_next(&r, &s, &why) == 1);
	FUZZ_CHECK(vmgenid_state_reader_next(&r, &s, &why) == 0);
	return s;
}

static void dev_section(const struct vmgenid_state_section *s)
{
	enum dev_kind k = dev_kind(s->id);
	struct vmgenid_bytebuf before, first, second;
	const char *why = NULL;
	struct vmgenid_state_section saved;

	if (k == DEV_NONE)
		return;
	vmgenid_bytebuf_init(&before);
	vmgenid_bytebuf_init(&first);
	vmgenid_bytebuf_init(&second);
	FUZZ_CHECK(dev_save(&dev_a, k, &before) == 0);
	if (dev_load(&dev_a, k, s, &why) < 0) {
		FUZZ_CHECK(why != NULL);
		/* Refused: nothing changed (pm's timer aside, which is not compared). */
		FUZZ_CHECK(dev_save(&dev_a, k, &first) == 0);
		if (k != DEV_PM)
			FUZZ_CHECK(first.len == before.len &&
				   !memcmp(first.data, before.data, first.len));
		goto out;
	}
	if (k == DEV_VMGENID)
		(void)vmgenid_dev_post_load(dev_a.fm.vmgenid);
	FUZZ_CHECK(dev_save(&dev_a, k, &first) == 0);
	saved = only_section(&first);
	FUZZ_CHECK(dev_load(&dev_b, k, &saved, &why) == 0);
	FUZZ_CHECK(dev_save(&dev_b, k, &second) == 0);
	if (k != DEV_PM)
		FUZZ_CHECK(first.len == second.len && !memcmp(first.data, second.data, first.len));
out:
	vmgenid_bytebuf_free(&before);
	vmgenid_bytebuf_free(&first);
	vmgenid_bytebuf_free(&second);
}

/* KVM's sections: decode, encode, decode again, and the two encodings agree. */
static void kvm_section(const struct vmgenid_state_section *s)
{
	static struct kvm_state_vcpu st, st2;
	struct kvm_state_irqchip chip, chip2;
	struct kvm_pit_state2 pit, pit2;
	uint64_t clock, clock2;
	struct vmgenid_bytebuf a, b;
	struct vmgenid_state_section sa;
	const char *why = NULL;
	int ret;

	vmgenid_bytebuf_init(&a);
	vmgenid_bytebuf_init(&b);
	if (!strcmp(s->id, KVM_STATE_ID_IRQCHIP)) {
		if ((ret = kvm_state_decode_irqchip(s, &chip, &why)) == 0) {
			kvm_state_encode_irqchip(&a, &chip);
			sa = only_section(&a);
			FUZZ_CHECK(kvm_state_decode_irqchip(&sa, &chip2, &why) == 0);
			kvm_state_encode_irqchip(&b, &chip2);
		}
	} else if (!strcmp(s->id, KVM_STATE_ID_PIT)) {
		if ((ret = kvm_state_decode_pit(s, &pit, &why)) == 0) {
			kvm_state_encode_pit(&a, &pit);
			sa = only_section(&a);
			FUZZ_CHECK(kvm_state_decode_pit(&sa, &pit2, &why) == 0);
			kvm_state_encode_pit(&b, &pit2);
		}
	} else if (!strcmp(s->id, KVM_STATE_ID_CLOCK)) {
		if ((ret = kvm_state_decode_clock(s, &clock, &why)) == 0) {
			kvm_state_encode_clock(&a, clock);
			sa = only_section(&a);
			FUZZ_CHECK(kvm_state_decode_clock(&sa, &clock2, &why) == 0);
			kvm_state_encode_clock(&b, clock2);
		}
	} else if (!strcmp(s->id, KVM_STATE_ID_VCPU)) {
		if ((ret = kvm_state_decode_vcpu(s, &st, &why)) == 0) {
			kvm_state_encode_vcpu(&a, &st);
			sa = only_section(&a);
			FUZZ_CHECK(kvm_state_decode_vcpu(&sa, &st2, &why) == 0);
			kvm_state_encode_vcpu(&b, &st2);
		}
	} else {
		ret = 0;
	}
	FUZZ_CHECK(ret == 0 || why != NULL);
	FUZZ_CHECK(!vmgenid_bytebuf_failed(&a) && !vmgenid_bytebuf_failed(&b));
	FUZZ_CHECK(a.len == b.len && (!a.len || !memcmp(a.data, b.data, a.len)));
	vmgenid_bytebuf_free(&a);
	vmgenid_bytebuf_free(&b);
}

/* ---- the whole state, as a restore reads it ---- */

static void load_state(const uint8_t *state, size_t len, unsigned int nr_cpus)
{
	struct vmgenid_state_reader r;
	struct vmgenid_state_section s;
	const char *why = NULL;
	char text[256] = "";

	devices_init(&dev_a);
	devices_init(&dev_b);
	memset(&mach, 0, sizeof(mach));
	mach.vm.vm_fd = -1;
	mach.vm.nr_cpus = nr_cpus;
	mach.vm.vcpus = vcpu_ptrs;
	mach.vm.mem = dev_a.fm.mem;
	for (unsigned int i = 0; i < nr_cpus; i++) {
		vcpus[i] = (struct vcpu){ .vm = &mach.vm, .id = i, .fd = -1 };
		vcpu_ptrs[i] = &vcpus[i];
	}
	pthread_mutex_init(&mach.fw_cfg_lock, NULL);
	mach.fw_cfg = dev_a.fm.fw;
	mach.vmgenid = dev_a.fm.vmgenid;
	mach.uart = dev_a.uart;
	mach.pm = dev_a.pm;

	/* Without KVM even a perfect state fails, at its first ioctl; always with a reason. */
	FUZZ_CHECK(snapshot_load_state(&mach, state, len, text, sizeof(text)) < 0);
	FUZZ_CHECK(text[0] != '\0');
	pthread_mutex_destroy(&mach.fw_cfg_lock);

	vmgenid_state_reader_init(&r, state, len);
	while (vmgenid_state_reader_next(&r, &s, &why) == 1) {
		kvm_section(&s);
		dev_section(&s);
	}
	devices_destroy(&dev_a);
	devices_destroy(&dev_b);
}

/* Make every section's CRC right, as far as the framing holds together. */
static void fix_section_crcs(uint8_t *p, size_t len)
{
	size_t pos = 0;

	while (len - pos >= VMGENID_STATE_SECTION_HEADER_SIZE) {
		uint8_t *h = p + pos;
		uint32_t n = vmgenid_get_le32(h + 20);

		if (n > len - pos - VMGENID_STATE_SECTION_HEADER_SIZE)
			break;
		vmgenid_put_le32(h + 24, vmgenid_state_crc32(0, h + VMGENID_STATE_SECTION_HEADER_SIZE, n));
		pos += VMGENID_STATE_SECTION_HEADER_SIZE + n;
	}
}

static void read_file(const uint8_t *buf, size_t len)
{
	struct snapfile_header h;
	char why[256] = "";

	if (snapfile_decode(buf, len, &h, why, sizeof(why)) < 0) {
		FUZZ_CHECK(why[0] != '\0');
		return;
	}
	/* An exec: stream is not checked against a size; carry on either way. */
	(void)snapfile_check_size(&h, len, why, sizeof(why));
	if (h.state_offset > len || h.state_length > len - h.state_offset)
		return;
	if (snapfile_check_state(&h, buf + h.state_offset, why, sizeof(why)) < 0)
		return;
	load_state(buf + h.state_offset, (size_t)h.state_length, h.nr_cpus);
}

static void fix_file_crcs(uint8_t *buf, size_t len)
{
	uint64_t off = vmgenid_get_le64(buf + 32), n = vmgenid_get_le64(buf + 40);

	if (off <= len && n <= len - off) {
		fix_section_crcs(buf + off, (size_t)n);
		vmgenid_put_le32(buf + 48, vmgenid_state_crc32(0, buf + off, (size_t)n));
	}
	vmgenid_put_le32(buf + SNAPFILE_HEADER_SIZE - 4, vmgenid_state_crc32(0, buf, SNAPFILE_HEADER_SIZE - 4));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	bool is_file = size >= 8 && !memcmp(data, SNAPFILE_MAGIC, 8);

	if (size > work_cap) {
		free(work);
		work = malloc(size);
		FUZZ_CHECK(work != NULL);
		work_cap = size;
	}
	if (size)
		memcpy(work, data, size);
	if (is_file) {
		read_file(work, size);
		if (size < SNAPFILE_HEADER_SIZE)
			return 0;
		fix_file_crcs(work, size);
		read_file(work, size);
		return 0;
	}
	fix_section_crcs(work, size);
	load_state(work, size, SECTION_NR_CPUS);
	return 0;
}
