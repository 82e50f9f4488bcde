/* SPDX-License-Identifier: MIT */
/*
 * vCPUs: CPUID and MSRs for Linux, the local APIC's LINT pins, the boot
 * vCPU's long-mode entry state, and one thread per vCPU running KVM_RUN.
 */
#ifndef GENVM_VCPU_H
#define GENVM_VCPU_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct vm;
struct kvm_run;

struct vcpu {
	struct vm *vm;
	unsigned int id;
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	int started;
};

/* Where the boot vCPU starts: 64-bit mode with these tables already in RAM. */
struct vcpu_boot_state {
	uint64_t rip;
	uint64_t rsp;
	uint64_t rdi;
	uint64_t cr3;       /* PML4 */
	uint64_t gdt_base;
	uint16_t gdt_limit;
	uint16_t code_sel;  /* a 64-bit code descriptor in that GDT */
	uint16_t data_sel;
	uint16_t tss_sel;
};

/* Create and configure vCPU id (printing why on failure: -1). */
struct vcpu *vcpu_create(struct vm *vm, unsigned int id);
void vcpu_destroy(struct vcpu *v);

/* Put the boot vCPU into the state above (-1 on failure, printed). */
int vcpu_set_boot_state(struct vcpu *v, const struct vcpu_boot_state *s);

/* Start the thread (-1 on failure); stop all threads and join them. */
int vcpu_start(struct vcpu *v);
void vcpu_stop_all(struct vm *vm);

/*
 * Pause: kick every vCPU out of KVM_RUN and wait until each has parked (or
 * returned).  0 when this call paused them, 1 when they already were.
 * Resume: release them; 0, or 1 when nothing was paused.  Both -EDEADLK
 * from a vCPU thread, which cannot wait for itself.  One controlling
 * thread (the main loop) calls them.
 */
int vcpu_pause_all(struct vm *vm);
int vcpu_resume_all(struct vm *vm);
/*
 * End every vCPU thread without ending the VM (a reset rebuilds the
 * vCPUs).  Call with the vCPUs paused; they stay paused for the next
 * vcpu_start().  -EDEADLK from a vCPU thread.
 */
int vcpu_join_all(struct vm *vm);
/* Before vcpu_start(): threads start parked (QEMU's -S). */
void vcpu_request_pause(struct vm *vm);
bool vcpu_in_vcpu_thread(void);

#endif
