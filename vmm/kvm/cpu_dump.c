// SPDX-License-Identifier: MIT
#include <inttypes.h>
#include <sys/ioctl.h>

#include "cpu_dump.h"
#include "vcpu.h"

#define RFLAGS_CF (1u << 0)
#define RFLAGS_PF (1u << 2)
#define RFLAGS_AF (1u << 4)
#define RFLAGS_ZF (1u << 6)
#define RFLAGS_SF (1u << 7)
#define RFLAGS_DF (1u << 10)
#define RFLAGS_OF (1u << 11)

#define CR0_PE 1ull
#define EFER_LMA (1ull << 10)

/* Descriptor type bits (the low nibble of the access byte). */
#define SEG_ACCESSED 0x1
#define SEG_WRITABLE 0x2 /* data; readable for code */
#define SEG_EXPAND_DOWN 0x4 /* data; conforming for code */
#define SEG_CODE 0x8

int cpu_dump_read(struct vcpu *v, struct cpu_dump *d, const char **why)
{
	if (ioctl(v->fd, KVM_GET_REGS, &d->regs) < 0) {
		*why = "KVM_GET_REGS";
		return -1;
	}
	if (ioctl(v->fd, KVM_GET_SREGS, &d->sregs) < 0) {
		*why = "KVM_GET_SREGS";
		return -1;
	}
	if (ioctl(v->fd, KVM_GET_DEBUGREGS, &d->debugregs) < 0) {
		*why = "KVM_GET_DEBUGREGS";
		return -1;
	}
	if (ioctl(v->fd, KVM_GET_VCPU_EVENTS, &d->events) < 0) {
		*why = "KVM_GET_VCPU_EVENTS";
		return -1;
	}
	if (ioctl(v->fd, KVM_GET_MP_STATE, &d->mp_state) < 0) {
		*why = "KVM_GET_MP_STATE";
		return -1;
	}
	return 0;
}

/*
 * The descriptor's second dword, bits 8-23, as the segment cache holds it
 * (QEMU prints this): type, S, DPL, P, then AVL, L, D/B, G.
 */
static uint32_t seg_flags(const struct kvm_segment *s)
{
	return (uint32_t)(s->type & 0xf) << 8 | (uint32_t)(s->s & 1) << 12 |
	       (uint32_t)(s->dpl & 3) << 13 | (uint32_t)(s->present & 1) << 15 |
	       (uint32_t)(s->avl & 1) << 20 | (uint32_t)(s->l & 1) << 21 |
	       (uint32_t)(s->db & 1) << 22 | (uint32_t)(s->g & 1) << 23;
}

static const char *system_type_name(unsigned int type, bool long_mode)
{
	switch (type) {
	case 0x2: return "LDT";
	case 0x1: return "TSS16-avl";
	case 0x3: return "TSS16-busy";
	case 0x9: return long_mode ? "TSS64-avl" : "TSS32-avl";
	case 0xb: return long_mode ? "TSS64-busy" : "TSS32-busy";
	case 0xc: return long_mode ? "CallGate64" : "CallGate32";
	case 0xe: return long_mode ? "IntGate64" : "IntGate32";
	case 0xf: return long_mode ? "TrapGate64" : "TrapGate32";
	default: return "Reserved";
	}
}

static void print_segment(FILE *f, const char *name, const struct kvm_segment *s,
			  const struct kvm_sregs *sr)
{
	bool long_mode = sr->efer & EFER_LMA;

	fprintf(f, "%-3s=%04x %016" PRIx64 " %08x %08x", name, s->selector, (uint64_t)s->base,
		s->limit, seg_flags(s));
	/* The decoded form means nothing in real mode, where only the base counts. */
	if (!(sr->cr0 & CR0_PE) || !s->present) {
		fputc('\n', f);
		return;
	}
	fprintf(f, " DPL=%u ", s->dpl);
	if (!s->s) {
		fprintf(f, "%s\n", system_type_name(s->type & 0xf, long_mode));
		return;
	}
	if (s->type & SEG_CODE) {
		fputs(s->l ? "CS64" : s->db ? "CS32" : "CS16", f);
		fprintf(f, " [%c%c", s->type & SEG_EXPAND_DOWN ? 'C' : '-',
			s->type & SEG_WRITABLE ? 'R' : '-');
	} else {
		fputs(s->db || long_mode ? "DS  " : "DS16", f);
		fprintf(f, " [%c%c", s->type & SEG_EXPAND_DOWN ? 'E' : '-',
			s->type & SEG_WRITABLE ? 'W' : '-');
	}
	fprintf(f, "%c]\n", s->type & SEG_ACCESSED ? 'A' : '-');
}

void cpu_dump_print(const struct cpu_dump *d, FILE *f)
{
	const struct kvm_regs *r = &d->regs;
	const struct kvm_sregs *s = &d->sregs;
	uint32_t fl = (uint32_t)r->rflags;

	fprintf(f,
		"RAX=%016" PRIx64 " RBX=%016" PRIx64 " RCX=%016" PRIx64 " RDX=%016" PRIx64 "\n"
		"RSI=%016" PRIx64 " RDI=%016" PRIx64 " RBP=%016" PRIx64 " RSP=%016" PRIx64 "\n"
		"R8 =%016" PRIx64 " R9 =%016" PRIx64 " R10=%016" PRIx64 " R11=%016" PRIx64 "\n"
		"R12=%016" PRIx64 " R13=%016" PRIx64 " R14=%016" PRIx64 " R15=%016" PRIx64 "\n",
		(uint64_t)r->rax, (uint64_t)r->rbx, (uint64_t)r->rcx, (uint64_t)r->rdx,
		(uint64_t)r->rsi, (uint64_t)r->rdi, (uint64_t)r->rbp, (uint64_t)r->rsp,
		(uint64_t)r->r8, (uint64_t)r->r9, (uint64_t)r->r10, (uint64_t)r->r11,
		(uint64_t)r->r12, (uint64_t)r->r13, (uint64_t)r->r14, (uint64_t)r->r15);
	/* CPL is the DPL of SS (of CS in real mode, where both are 0). */
	fprintf(f, "RIP=%016" PRIx64 " RFL=%08x [%c%c%c%c%c%c%c] CPL=%u II=%u A20=1 SMM=%u HLT=%u\n",
		(uint64_t)r->rip, fl, fl & RFLAGS_DF ? 'D' : '-', fl & RFLAGS_OF ? 'O' : '-',
		fl & RFLAGS_SF ? 'S' : '-', fl & RFLAGS_ZF ? 'Z' : '-', fl & RFLAGS_AF ? 'A' : '-',
		fl & RFLAGS_PF ? 'P' : '-', fl & RFLAGS_CF ? 'C' : '-', s->ss.dpl & 3u,
		d->events.interrupt.shadow ? 1u : 0u, d->events.smi.smm ? 1u : 0u,
		d->mp_state.mp_state == KVM_MP_STATE_HALTED ? 1u : 0u);
	print_segment(f, "ES", &s->es, s);
	print_segment(f, "CS", &s->cs, s);
	print_segment(f, "SS", &s->ss, s);
	print_segment(f, "DS", &s->ds, s);
	print_segment(f, "FS", &s->fs, s);
	print_segment(f, "GS", &s->gs, s);
	print_segment(f, "LDT", &s->ldt, s);
	print_segment(f, "TR", &s->tr, s);
	fprintf(f, "GDT=     %016" PRIx64 " %08x\n", (uint64_t)s->gdt.base, s->gdt.limit);
	fprintf(f, "IDT=     %016" PRIx64 " %08x\n", (uint64_t)s->idt.base, s->idt.limit);
	fprintf(f, "CR0=%08" PRIx64 " CR2=%016" PRIx64 " CR3=%016" PRIx64 " CR4=%08" PRIx64 "\n",
		(uint64_t)s->cr0, (uint64_t)s->cr2, (uint64_t)s->cr3, (uint64_t)s->cr4);
	fprintf(f, "DR0=%016" PRIx64 " DR1=%016" PRIx64 " DR2=%016" PRIx64 " DR3=%016" PRIx64 "\n",
		(uint64_t)d->debugregs.db[0], (uint64_t)d->debugregs.db[1],
		(uint64_t)d->debugregs.db[2], (uint64_t)d->debugregs.db[3]);
	fprintf(f, "DR6=%016" PRIx64 " DR7=%016" PRIx64 "\n", (uint64_t)d->debugregs.dr6,
		(uint64_t)d->debugregs.dr7);
	fprintf(f, "EFER=%016" PRIx64 "\n", (uint64_t)s->efer);
}

void cpu_dump_summary(const struct cpu_dump *d, char *buf, size_t len)
{
	const struct kvm_sregs *s = &d->sregs;

	snprintf(buf, len,
		 "rip %#" PRIx64 " rsp %#" PRIx64 " cs %#x cr0 %#" PRIx64 " cr2 %#" PRIx64
		 " cr3 %#" PRIx64 " cr4 %#" PRIx64 " efer %#" PRIx64,
		 (uint64_t)d->regs.rip, (uint64_t)d->regs.rsp, s->cs.selector, (uint64_t)s->cr0,
		 (uint64_t)s->cr2, (uint64_t)s->cr3, (uint64_t)s->cr4, (uint64_t)s->efer);
}
