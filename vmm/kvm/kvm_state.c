// SPDX-License-Identifier: MIT
/*
 * The ioctl layer of KVM's snapshot state: gather the kernel's structs
 * and hand them to the codec (kvm_state_codec.c, which also documents the
 * payloads), or take what the codec decoded and apply it.
 */
#include <errno.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "vmgenid/bytebuf.h"
#include "vmgenid/state.h"

#include "kvm_state.h"
#include "msr.h"
#include "vcpu.h"
#include "vm.h"

static int save_fail(const char *what)
{
	fprintf(stderr, "genvm: snapshot: %s: %s\n", what, strerror(errno));
	return -1;
}

static int vcpu_fail(const struct vcpu *v, const char *what)
{
	fprintf(stderr, "genvm: snapshot: vcpu %u: %s: %s\n", v->id, what, strerror(errno));
	return -1;
}

int kvm_state_save_vm(struct vm *vm, struct vmgenid_bytebuf *out)
{
	struct kvm_state_irqchip chips;
	struct kvm_clock_data clock;
	struct kvm_pit_state2 pit;
	struct kvm_irqchip chip;

	for (uint32_t id = KVM_IRQCHIP_PIC_MASTER; id <= KVM_IRQCHIP_IOAPIC; id++) {
		memset(&chip, 0, sizeof(chip));
		chip.chip_id = id;
		if (ioctl(vm->vm_fd, KVM_GET_IRQCHIP, &chip) < 0)
			return save_fail("KVM_GET_IRQCHIP");
		if (id == KVM_IRQCHIP_IOAPIC)
			chips.ioapic = chip.chip.ioapic;
		else
			chips.pic[id] = chip.chip.pic;
	}
	memset(&pit, 0, sizeof(pit));
	if (ioctl(vm->vm_fd, KVM_GET_PIT2, &pit) < 0)
		return save_fail("KVM_GET_PIT2");
	memset(&clock, 0, sizeof(clock));
	if (ioctl(vm->vm_fd, KVM_GET_CLOCK, &clock) < 0)
		return save_fail("KVM_GET_CLOCK");

	kvm_state_encode_irqchip(out, &chips);
	kvm_state_encode_pit(out, &pit);
	kvm_state_encode_clock(out, clock.clock);
	if (vmgenid_bytebuf_failed(out)) {
		fprintf(stderr, "genvm: snapshot: out of memory\n");
		return -1;
	}
	return 0;
}

static int get_msrs_ioctl(void *opaque, struct kvm_msrs *m)
{
	const struct vcpu *v = opaque;

	return ioctl(v->fd, KVM_GET_MSRS, m);
}

/* The known MSRs this KVM saves, read into st; a missing one is a warning. */
static int save_msrs(struct vcpu *v, struct kvm_state_vcpu *st)
{
	struct kvm_msr_list probe = { .nmsrs = 0 };
	struct kvm_msr_list *list;
	uint32_t want[KVM_STATE_MAX_MSRS];
	unsigned int n;

	/* The first call only asks for the count (E2BIG). */
	if (ioctl(v->vm->kvm_fd, KVM_GET_MSR_INDEX_LIST, &probe) < 0 && errno != E2BIG)
		return vcpu_fail(v, "KVM_GET_MSR_INDEX_LIST");
	list = calloc(1, sizeof(*list) + (probe.nmsrs + 1) * sizeof(list->indices[0]));
	if (!list)
		return vcpu_fail(v, "MSR list");
	list->nmsrs = probe.nmsrs;
	if (ioctl(v->vm->kvm_fd, KVM_GET_MSR_INDEX_LIST, list) < 0) {
		free(list);
		return vcpu_fail(v, "KVM_GET_MSR_INDEX_LIST");
	}
	n = kvm_state_msr_select(list->indices, list->nmsrs, want);
	free(list);

	if (kvm_state_read_msrs(st, want, n, get_msrs_ioctl, v) < 0)
		return vcpu_fail(v, "KVM_GET_MSRS");
	for (unsigned int i = 0, j = 0; i < n; i++) {
		if (j < st->nr_msrs && st->msrs[j].index == want[i])
			j++;
		else
			fprintf(stderr, "genvm: snapshot: vcpu %u: MSR %#x unreadable, not saved\n",
				v->id, want[i]);
	}
	return 0;
}

/* The XSAVE area KVM uses for this VM: KVM_CAP_XSAVE2's size, at least the struct. */
static uint32_t xsave_size(const struct vm *vm)
{
	int size = ioctl(vm->vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_XSAVE2);

	return size > (int)KVM_STATE_XSAVE_MIN ? (uint32_t)size : KVM_STATE_XSAVE_MIN;
}

/* The FPU: XSAVE when KVM has it (in the legacy FPU's place), else KVM_GET_FPU. */
static int save_fpu(struct vcpu *v, struct kvm_state_vcpu *st, uint8_t **area)
{
	uint32_t size;

	if (ioctl(v->vm->vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_XSAVE) <= 0) {
		if (ioctl(v->fd, KVM_GET_FPU, &st->fpu) < 0)
			return vcpu_fail(v, "KVM_GET_FPU");
		return 0;
	}
	size = xsave_size(v->vm);
	if (size > KVM_STATE_XSAVE_MAX || size % 4) {
		fprintf(stderr, "genvm: snapshot: vcpu %u: XSAVE area of %u bytes unsupported\n",
			v->id, size);
		return -1;
	}
	*area = calloc(1, size);
	if (!*area)
		return vcpu_fail(v, "XSAVE area");
	/* KVM_GET_XSAVE refuses an area larger than the struct. */
	if (ioctl(v->fd, size > KVM_STATE_XSAVE_MIN ? KVM_GET_XSAVE2 : KVM_GET_XSAVE, *area) < 0)
		return vcpu_fail(v, "KVM_GET_XSAVE");
	st->flags |= KVM_STATE_VCPU_XSAVE;
	st->xsave = *area;
	st->xsave_len = size;
	return 0;
}

static int save_vcpu_state(struct vcpu *v, struct kvm_state_vcpu *st, uint8_t **area)
{
	st->id = v->id;
	if (ioctl(v->fd, KVM_GET_REGS, &st->regs) < 0)
		return vcpu_fail(v, "KVM_GET_REGS");
	if (ioctl(v->fd, KVM_GET_SREGS, &st->sregs) < 0)
		return vcpu_fail(v, "KVM_GET_SREGS");
	if (save_fpu(v, st, area) < 0)
		return -1;
	if (ioctl(v->vm->vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_XCRS) > 0) {
		if (ioctl(v->fd, KVM_GET_XCRS, &st->xcrs) < 0)
			return vcpu_fail(v, "KVM_GET_XCRS");
		if (st->xcrs.nr_xcrs > KVM_MAX_XCRS) {
			fprintf(stderr, "genvm: snapshot: vcpu %u: KVM_GET_XCRS: %u XCRs\n", v->id,
				st->xcrs.nr_xcrs);
			return -1;
		}
		st->flags |= KVM_STATE_VCPU_XCRS;
	}
	if (ioctl(v->fd, KVM_GET_DEBUGREGS, &st->debugregs) < 0)
		return vcpu_fail(v, "KVM_GET_DEBUGREGS");
	if (ioctl(v->fd, KVM_GET_LAPIC, &st->lapic) < 0)
		return vcpu_fail(v, "KVM_GET_LAPIC");
	if (ioctl(v->fd, KVM_GET_VCPU_EVENTS, &st->events) < 0)
		return vcpu_fail(v, "KVM_GET_VCPU_EVENTS");
	/* A flag a newer KVM adds is for a feature genvm never enabled. */
	st->events.flags &= KVM_STATE_EVENTS_FLAGS_KNOWN;
	if (ioctl(v->fd, KVM_GET_MP_STATE, &st->mp_state) < 0)
		return vcpu_fail(v, "KVM_GET_MP_STATE");
	if (!kvm_state_mp_state_valid(st->mp_state.mp_state)) {
		fprintf(stderr, "genvm: snapshot: vcpu %u: unknown run state %u\n", v->id,
			st->mp_state.mp_state);
		return -1;
	}
	return save_msrs(v, st);
}

int kvm_state_save_vcpu(struct vcpu *v, struct vmgenid_bytebuf *out)
{
	struct kvm_state_vcpu *st = calloc(1, sizeof(*st));
	uint8_t *area = NULL;
	int ret = -1;

	if (!st)
		return vcpu_fail(v, "vcpu state");
	if (save_vcpu_state(v, st, &area) == 0) {
		kvm_state_encode_vcpu(out, st);
		if (vmgenid_bytebuf_failed(out))
			fprintf(stderr, "genvm: snapshot: out of memory\n");
		else
			ret = 0;
	}
	free(area);
	free(st);
	return ret;
}

int kvm_state_check_vm_section(const struct vmgenid_state_section *s, const char **why)
{
	struct kvm_state_irqchip chips;
	struct kvm_pit_state2 pit;
	uint64_t clock;

	if (!strcmp(s->id, KVM_STATE_ID_IRQCHIP))
		return kvm_state_decode_irqchip(s, &chips, why);
	if (!strcmp(s->id, KVM_STATE_ID_PIT))
		return kvm_state_decode_pit(s, &pit, why);
	if (!strcmp(s->id, KVM_STATE_ID_CLOCK))
		return kvm_state_decode_clock(s, &clock, why);
	*why = "not a KVM VM state section";
	return -1;
}

int kvm_state_check_vcpu_section(const struct vmgenid_state_section *s, unsigned int nr_cpus,
				 unsigned int *vcpu_id, const char **why)
{
	struct kvm_state_vcpu *st;
	int ret = -1;

	if (strcmp(s->id, KVM_STATE_ID_VCPU)) {
		*why = "not a vcpu state section";
		return -1;
	}
	st = malloc(sizeof(*st));
	if (!st) {
		*why = "out of memory";
		return -1;
	}
	if (kvm_state_decode_vcpu(s, st, why) == 0) {
		if (st->id >= nr_cpus) {
			*why = "vcpu state is for a vCPU the machine does not have";
		} else {
			*vcpu_id = st->id;
			ret = 0;
		}
	}
	free(st);
	return ret;
}

/* 0, or -1 with *why and errno from the ioctl. */
static int set(int fd, unsigned long req, void *arg, const char *what, const char **why)
{
	if (ioctl(fd, req, arg) < 0) {
		*why = what;
		return -1;
	}
	return 0;
}

int kvm_state_load_vm(struct vm *vm, const struct vmgenid_state_section *s, const char **why)
{
	struct kvm_state_irqchip chips;
	struct kvm_irqchip chip;

	if (!strcmp(s->id, KVM_STATE_ID_IRQCHIP)) {
		if (kvm_state_decode_irqchip(s, &chips, why) < 0)
			return -1;
		for (uint32_t id = KVM_IRQCHIP_PIC_MASTER; id <= KVM_IRQCHIP_IOAPIC; id++) {
			memset(&chip, 0, sizeof(chip));
			chip.chip_id = id;
			if (id == KVM_IRQCHIP_IOAPIC)
				chip.chip.ioapic = chips.ioapic;
			else
				chip.chip.pic = chips.pic[id];
			if (set(vm->vm_fd, KVM_SET_IRQCHIP, &chip, "KVM refused the irqchip state",
				why) < 0)
				return -1;
		}
		return 0;
	}
	if (!strcmp(s->id, KVM_STATE_ID_PIT)) {
		struct kvm_pit_state2 pit;

		if (kvm_state_decode_pit(s, &pit, why) < 0)
			return -1;
		return set(vm->vm_fd, KVM_SET_PIT2, &pit, "KVM refused the PIT state", why);
	}
	if (!strcmp(s->id, KVM_STATE_ID_CLOCK)) {
		struct kvm_clock_data clock;
		uint64_t ns;

		if (kvm_state_decode_clock(s, &ns, why) < 0)
			return -1;
		memset(&clock, 0, sizeof(clock));
		clock.clock = ns;
		/* flags 0: the clock reads .clock now, whatever the host's time. */
		return set(vm->vm_fd, KVM_SET_CLOCK, &clock, "KVM refused the clock", why);
	}
	*why = "not a KVM VM state section";
	return -1;
}

/* KVM_SET_MSRS of the entries of st whose index is (or is not) 'only'. */
static int set_msrs(struct vcpu *v, const struct kvm_state_vcpu *st, uint32_t only, bool match,
		    const char **why)
{
	struct kvm_msrs *m = calloc(1, sizeof(*m) + (st->nr_msrs + 1) * sizeof(m->entries[0]));
	uint32_t n = 0;
	int ret;

	if (!m) {
		*why = "out of memory";
		return -1;
	}
	for (uint32_t i = 0; i < st->nr_msrs; i++) {
		if ((st->msrs[i].index == only) != match)
			continue;
		m->entries[n].index = st->msrs[i].index;
		m->entries[n].data = st->msrs[i].data;
		n++;
	}
	m->nmsrs = n;
	ret = n ? ioctl(v->fd, KVM_SET_MSRS, m) : 0;
	free(m);
	if (ret < 0) {
		*why = "KVM refused the vCPU's MSRs";
		return -1;
	}
	/* KVM stops at the first MSR it refuses and says how many it took. */
	if ((uint32_t)ret != n) {
		*why = "KVM refused one of the vCPU's MSRs";
		errno = EINVAL;
		return -1;
	}
	return 0;
}

static int load_fpu(struct vcpu *v, struct kvm_state_vcpu *st, const char **why)
{
	uint8_t *area;
	uint32_t size;
	int ret;

	if (!(st->flags & KVM_STATE_VCPU_XSAVE))
		return set(v->fd, KVM_SET_FPU, &st->fpu, "KVM refused the FPU state", why);
	if (ioctl(v->vm->vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_XSAVE) <= 0) {
		*why = "the snapshot's FPU state is XSAVE, which this KVM lacks";
		errno = ENOTSUP;
		return -1;
	}
	/* KVM_SET_XSAVE reads the whole of this host's area: the rest stays zero (init state). */
	size = xsave_size(v->vm);
	if (st->xsave_len > size) {
		*why = "the snapshot's XSAVE area is larger than this host's";
		errno = ENOTSUP;
		return -1;
	}
	area = calloc(1, size);
	if (!area) {
		*why = "out of memory";
		return -1;
	}
	memcpy(area, st->xsave, st->xsave_len);
	ret = set(v->fd, KVM_SET_XSAVE, area, "KVM refused the XSAVE state", why);
	free(area);
	return ret;
}

/*
 * The order is QEMU's (kvm_arch_put_registers), for these reasons:
 * - regs, FPU and XCRs depend on no mode; XCR0 is checked against the
 *   CPUID the vCPU was created with, not against the XSAVE image.
 * - sregs before the MSRs and the LAPIC: they carry EFER and the APIC
 *   base, and the LAPIC page is read according to the APIC's mode.
 * - MSRs: TSC before TSC_ADJUST and the kvmclock MSRs; WALL_CLOCK needs
 *   the VM's clock already set (kvm_state_load_vm() comes first) and the
 *   PV MSRs need guest RAM in place.
 * - mp_state, then the LAPIC, then the events: a latched INIT and the SIPI
 *   vector in the events land in the LAPIC's pending events.
 * - TSC_DEADLINE after the LAPIC (KVM ignores it unless LVTT is in
 *   TSC-deadline mode) and after the TSC (it is in guest TSC units).
 * - debug registers last, as QEMU does; nothing depends on them.
 */
static int load_vcpu_state(struct vcpu *v, struct kvm_state_vcpu *st, const char **why)
{
	if (set(v->fd, KVM_SET_REGS, &st->regs, "KVM refused the registers", why) < 0 ||
	    load_fpu(v, st, why) < 0)
		return -1;
	if (st->flags & KVM_STATE_VCPU_XCRS) {
		if (ioctl(v->vm->vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_XCRS) <= 0) {
			*why = "the snapshot has XCRs, which this KVM lacks";
			errno = ENOTSUP;
			return -1;
		}
		if (set(v->fd, KVM_SET_XCRS, &st->xcrs, "KVM refused the XCRs", why) < 0)
			return -1;
	}
	if (set(v->fd, KVM_SET_SREGS, &st->sregs, "KVM refused the special registers", why) < 0 ||
	    set_msrs(v, st, MSR_IA32_TSC_DEADLINE, false, why) < 0 ||
	    set(v->fd, KVM_SET_MP_STATE, &st->mp_state, "KVM refused the run state", why) < 0 ||
	    set(v->fd, KVM_SET_LAPIC, &st->lapic, "KVM refused the LAPIC state", why) < 0 ||
	    set_msrs(v, st, MSR_IA32_TSC_DEADLINE, true, why) < 0)
		return -1;
	/* GET reports neither; SET takes the NMI and SIPI fields only when asked. */
	st->events.flags |= KVM_VCPUEVENT_VALID_NMI_PENDING | KVM_VCPUEVENT_VALID_SIPI_VECTOR;
	if (set(v->fd, KVM_SET_VCPU_EVENTS, &st->events, "KVM refused the pending events", why) < 0)
		return -1;
	return set(v->fd, KVM_SET_DEBUGREGS, &st->debugregs, "KVM refused the debug registers",
		   why);
}

int kvm_state_load_vcpu(struct vcpu *v, const struct vmgenid_state_section *s, const char **why)
{
	struct kvm_state_vcpu *st = malloc(sizeof(*st));
	int ret = -1;

	if (!st) {
		*why = "out of memory";
		return -1;
	}
	if (kvm_state_decode_vcpu(s, st, why) < 0)
		goto out;
	if (st->id != v->id) {
		*why = "vcpu state is for another vCPU";
		goto out;
	}
	ret = load_vcpu_state(v, st, why);
out:
	free(st);
	return ret;
}
