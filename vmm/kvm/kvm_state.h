/* SPDX-License-Identifier: MIT */
/*
 * KVM's side of a snapshot: the in-kernel irqchip, PIT and clock of the VM,
 * and everything KVM holds for each vCPU, as state sections (state.h).
 *
 * Two layers.  The codec (kvm_state_codec.h) turns the kernel's structs
 * into fixed-width little-endian payloads and back, field by field, and
 * checks every length and count; it never touches KVM, so the unit tests
 * drive it on any host.  The ioctl layer on top (kvm_state.c) only gathers
 * and applies the structs.
 *
 * All of it runs with the vCPUs paused (vcpu_pause_all): the vCPU ioctls
 * are issued from the calling thread while the vCPU threads are parked.
 */
#ifndef GENVM_KVM_STATE_H
#define GENVM_KVM_STATE_H

#include "kvm_state_codec.h"

struct vm;
struct vcpu;
struct vmgenid_state_section;
struct vmgenid_bytebuf;

/* Append "kvm-irqchip", "kvm-pit", "kvm-clock".  0 or -1 (printed, "genvm: snapshot: ..."). */
int kvm_state_save_vm(struct vm *vm, struct vmgenid_bytebuf *out);
/* Append one "vcpu" section (payload starts with le32 vcpu id).  0 or -1 (printed). */
int kvm_state_save_vcpu(struct vcpu *v, struct vmgenid_bytebuf *out);

/*
 * Check a section's payload without touching KVM: 0, or -1 with *why (a
 * static sentence naming what is wrong).  Used to validate a whole snapshot
 * before anything is applied.
 */
int kvm_state_check_vm_section(const struct vmgenid_state_section *s, const char **why);
int kvm_state_check_vcpu_section(const struct vmgenid_state_section *s, unsigned int nr_cpus,
				 unsigned int *vcpu_id, const char **why);

/*
 * Apply (after the check passed): 0 or -1 with *why; when an ioctl failed,
 * errno still says why it did.  Order: guest RAM first, then the VM's
 * sections, then the vCPUs (kvm_state.c explains why).
 */
int kvm_state_load_vm(struct vm *vm, const struct vmgenid_state_section *s, const char **why);
int kvm_state_load_vcpu(struct vcpu *v, const struct vmgenid_state_section *s, const char **why);

#endif
