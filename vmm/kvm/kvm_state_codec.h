/* SPDX-License-Identifier: MIT */
/*
 * The codec of KVM's snapshot state (kvm_state.h): the kernel's structs
 * to fixed-width little-endian section payloads and back, every length
 * and count checked.  Pure: it never touches KVM, so the unit tests drive
 * it on any host.  kvm_state_codec.c documents the payloads.
 */
#ifndef GENVM_KVM_STATE_CODEC_H
#define GENVM_KVM_STATE_CODEC_H

#include <linux/kvm.h>
#include <stdbool.h>
#include <stdint.h>

struct vmgenid_state_section;
struct vmgenid_bytebuf;

#define KVM_STATE_VERSION 1

/* The sections' ids (state.h). */
#define KVM_STATE_ID_IRQCHIP "kvm-irqchip"
#define KVM_STATE_ID_PIT "kvm-pit"
#define KVM_STATE_ID_CLOCK "kvm-clock"
#define KVM_STATE_ID_VCPU "vcpu"

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
void kvm_state_encode_irqchip(struct vmgenid_bytebuf *out, const struct kvm_state_irqchip *c);
void kvm_state_encode_pit(struct vmgenid_bytebuf *out, const struct kvm_pit_state2 *p);
void kvm_state_encode_clock(struct vmgenid_bytebuf *out, uint64_t clock);
void kvm_state_encode_vcpu(struct vmgenid_bytebuf *out, const struct kvm_state_vcpu *st);

/* Decode and check a payload: 0, or -1 with *why.  st->xsave points into s. */
int kvm_state_decode_irqchip(const struct vmgenid_state_section *s, struct kvm_state_irqchip *c,
			     const char **why);
int kvm_state_decode_pit(const struct vmgenid_state_section *s, struct kvm_pit_state2 *p,
			 const char **why);
int kvm_state_decode_clock(const struct vmgenid_state_section *s, uint64_t *clock, const char **why);
int kvm_state_decode_vcpu(const struct vmgenid_state_section *s, struct kvm_state_vcpu *st,
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

/* ---- Shared with the ioctl layer ---- */

/* The vCPU event flags a snapshot carries; save drops any other. */
#define KVM_STATE_EVENTS_FLAGS_KNOWN                                                    \
	(KVM_VCPUEVENT_VALID_NMI_PENDING | KVM_VCPUEVENT_VALID_SIPI_VECTOR |            \
	 KVM_VCPUEVENT_VALID_SHADOW | KVM_VCPUEVENT_VALID_SMM | KVM_VCPUEVENT_VALID_PAYLOAD | \
	 KVM_VCPUEVENT_VALID_TRIPLE_FAULT)
/* The x86 run states KVM_SET_MP_STATE knows (the others are s390's). */
bool kvm_state_mp_state_valid(uint32_t mp);

#endif
