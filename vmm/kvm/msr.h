/* SPDX-License-Identifier: MIT */
/*
 * Model-specific register numbers genvm touches: those it sets up for a
 * booting vCPU (vcpu.c) and those a snapshot carries (kvm_state*.c).  From
 * the Intel SDM vol. 4, AMD's APM vol. 2 and Linux's KVM paravirtual ABI
 * (Documentation/virt/kvm/x86/msr.rst).
 */
#ifndef GENVM_MSR_H
#define GENVM_MSR_H

#define MSR_IA32_TSC 0x10
#define MSR_IA32_TSC_ADJUST 0x3b
#define MSR_IA32_SPEC_CTRL 0x48
#define MSR_IA32_SYSENTER_CS 0x174
#define MSR_IA32_SYSENTER_ESP 0x175
#define MSR_IA32_SYSENTER_EIP 0x176
#define MSR_IA32_MISC_ENABLE 0x1a0
#define MSR_MTRR_PHYS_BASE0 0x200 /* base/mask pairs up to 0x20f */
#define MSR_MTRR_FIX_64K_00000 0x250
#define MSR_MTRR_FIX_16K_80000 0x258
#define MSR_MTRR_FIX_16K_A0000 0x259
#define MSR_MTRR_FIX_4K_C0000 0x268 /* eight of them, up to 0x26f */
#define MSR_IA32_CR_PAT 0x277
#define MSR_MTRR_DEF_TYPE 0x2ff
#define MSR_IA32_TSC_DEADLINE 0x6e0
#define MSR_STAR 0xc0000081
#define MSR_LSTAR 0xc0000082
#define MSR_CSTAR 0xc0000083
#define MSR_SYSCALL_MASK 0xc0000084
#define MSR_KERNEL_GS_BASE 0xc0000102
#define MSR_TSC_AUX 0xc0000103
#define MSR_KVM_WALL_CLOCK_NEW 0x4b564d00
#define MSR_KVM_SYSTEM_TIME_NEW 0x4b564d01
#define MSR_KVM_ASYNC_PF_EN 0x4b564d02
#define MSR_KVM_STEAL_TIME 0x4b564d03
#define MSR_KVM_PV_EOI_EN 0x4b564d04
#define MSR_KVM_POLL_CONTROL 0x4b564d05
#define MSR_KVM_ASYNC_PF_INT 0x4b564d06

#endif
