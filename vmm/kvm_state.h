/* SPDX-License-Identifier: MIT */
/*
 * KVM's side of a snapshot: the in-kernel irqchip, PIT and clock of the VM,
 * and everything KVM holds for each vCPU, as state sections (state.h).
 *
 * Two layers.  The codec turns the kernel's structs into fixed-width
 * little-endian payloads and back, field by field, and checks every length
 * and count; it never touches KVM, so the unit tests drive it on any host.
 * The ioctl layer on top only gathers and applies the structs.
 *
 * All of it runs with the vCPUs paused (vcpu_pause_all): the vCPU ioctls
 * are issued from the calling thread while the vCPU threads are parked.
 */
#ifndef GENVM_KVM_STATE_H
#define GENVM_KVM_STATE_H

#include <linux/kvm.h>
#include <stdbool.h>
#include <stdint.h>

struct vm;
struct vcpu;
struct state_section;
struct bytebuf;

#define KVM_STATE_VERSION 1

/* Append "kvm-irqchip", "kvm-pit", "kvm-clock".  0 or -1 (printed, "genvm: snapshot: ..."). */
int kvm_state_save_vm(struct vm *vm, struct bytebuf *out);
/* Append one "vcpu" section (payload starts with le32 vcpu id).  0 or -1 (printed). */
int kvm_state_save_vcpu(struct vcpu *v, struct bytebuf *out);

/*
 * Check a section's payload without touching KVM: 0, or -1 with *why (a
 * static sentence naming what is wrong).  Used to validate a whole snapshot
 * before anything is applied.
 */
int kvm_state_check_vm_section(const struct state_section *s, const char **why);
int kvm_state_check_vcpu_section(const struct state_section *s, unsigned int nr_cpus,
				 unsigned int *vcpu_id, const char **why);

/*
 * Apply (after the check passed): 0 or -1 with *why; when an ioctl failed,
 * errno still says why it did.  Order: guest RAM first, then the VM's
 * sections, then the vCPUs (kvm_state.c explains why).
 */
int kvm_state_load_vm(struct vm *vm, const struct state_section *s, const char **why);
int kvm_state_load_vcpu(struct vcpu *v, const struct state_section *s, const char **why);

/* ---- The codec: pure, exposed for the unit tests. ---- */

#define KVM_STATE_MAX_MSRS 64
/* The XSAVE area: at least struct kvm_xsave; AMX makes it ~11 KiB today. */
#define KVM_STATE_XSAVE_MIN ((uint32_t)sizeof(struct kvm_xsave))
#define KVM_STATE_XSAVE_MAX (1u << 20)

/* vcpu payload flags: which FPU ioctl filled the state, whether XCRs are there. */
#define KVM_STATE_VCPU_XSAVE (1u << 0)
#define KVM_STATE_VCPU_XCRS (1u << 1)

struct kvm_state_irqchip {
	struct kvm_pic_state pic[2]; /* master, slave */
	struct kvm_ioapic_state ioapic;
};

struct kvm_state_vcpu {
	uint32_t id;
	uint32_t flags;
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct kvm_fpu fpu;        /* without KVM_STATE_VCPU_XSAVE */
	const uint8_t *xsave;      /* with it: xsave_len bytes, not owned */
	uint32_t xsave_len;
	struct kvm_xcrs xcrs;      /* with KVM_STATE_VCPU_XCRS */
	struct kvm_debugregs debugregs;
	struct kvm_lapic_state lapic;
	struct kvm_vcpu_events events;
	struct kvm_mp_state mp_state;
	uint32_t nr_msrs;
	struct kvm_msr_entry msrs[KVM_STATE_MAX_MSRS];
};

/* Append a whole section (begin, payload, end); failure is the buffer's. */
void kvm_state_encode_irqchip(struct bytebuf *out, const struct kvm_state_irqchip *c);
void kvm_state_encode_pit(struct bytebuf *out, const struct kvm_pit_state2 *p);
void kvm_state_encode_clock(struct bytebuf *out, uint64_t clock);
void kvm_state_encode_vcpu(struct bytebuf *out, const struct kvm_state_vcpu *st);

/* Decode and check a payload: 0, or -1 with *why.  st->xsave points into s. */
int kvm_state_decode_irqchip(const struct state_section *s, struct kvm_state_irqchip *c,
			     const char **why);
int kvm_state_decode_pit(const struct state_section *s, struct kvm_pit_state2 *p,
			 const char **why);
int kvm_state_decode_clock(const struct state_section *s, uint64_t *clock, const char **why);
int kvm_state_decode_vcpu(const struct state_section *s, struct kvm_state_vcpu *st,
			  const char **why);

/* Is index one of the MSRs genvm saves and restores? */
bool kvm_state_msr_known(uint32_t index);
/*
 * The MSRs to save, in restore order: the known ones KVM lists in
 * KVM_GET_MSR_INDEX_LIST (listed[]), plus the MTRRs and PAT, which KVM
 * emulates for every vCPU but some kernels leave out of that list.  out
 * has room for KVM_STATE_MAX_MSRS; returns the count.
 */
unsigned int kvm_state_msr_select(const uint32_t *listed, uint32_t nr_listed, uint32_t *out);

/*
 * Read want[0..n) into st->msrs through get (KVM_GET_MSRS: returns how many
 * entries it read, stopping at the first it cannot).  An unreadable MSR is
 * left out and the rest read on; the caller can tell which by what is
 * missing.  0, or -1 with errno when get fails outright.
 */
typedef int kvm_state_get_msrs_fn(void *opaque, struct kvm_msrs *m);
int kvm_state_read_msrs(struct kvm_state_vcpu *st, const uint32_t *want, unsigned int n,
			kvm_state_get_msrs_fn *get, void *opaque);

#endif
