/* SPDX-License-Identifier: MIT */
/*
 * A vCPU's registers as text, laid out as QEMU's "info registers" shows them
 * for x86, so that whoever reads one reads the other: for the human
 * monitor, and for the line genvm prints when a guest triple-faults.
 */
#ifndef GENVM_CPU_DUMP_H
#define GENVM_CPU_DUMP_H

#include <linux/kvm.h>
#include <stdbool.h>
#include <stdio.h>

struct vcpu;

struct cpu_dump {
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct kvm_debugregs debugregs;
	struct kvm_vcpu_events events;
	struct kvm_mp_state mp_state;
};

/*
 * Read vCPU v's registers (KVM_GET_*): 0, or -1 with why naming the ioctl
 * KVM refused.  The vCPU must not be in KVM_RUN (paused, or its own thread).
 */
int cpu_dump_read(struct vcpu *v, struct cpu_dump *d, const char **why);

/* The registers as "info registers" prints them, each line ending in \n. */
void cpu_dump_print(const struct cpu_dump *d, FILE *f);

/* One line: RIP, RSP, CS, CR0/2/3/4, EFER (no newline). */
void cpu_dump_summary(const struct cpu_dump *d, char *buf, size_t len);

#endif
