// SPDX-License-Identifier: MIT
/*
 * KVM state as snapshot sections, version 1.  All fields little-endian;
 * fields of the kernel structs not listed here (padding, reserved, flags
 * that must be 0) are not stored and are zero on restore.
 *
 * "kvm-irqchip" (244 bytes)
 *   2 x PIC (master, slave), 16 u8 each: last_irr irr imr isr priority_add
 *     irq_base read_reg_select poll special_mask init_state auto_eoi
 *     rotate_on_auto_eoi special_fully_nested_mode init4 elcr elcr_mask
 *   IOAPIC: le64 base_address (must be genvm's), le32 ioregsel, le32 id,
 *     le32 irr, 24 x le64 redirection entry
 * "kvm-pit" (76 bytes)
 *   3 x channel: le32 count (<= 0x10000), le16 latched_count, u8
 *     count_latched status_latched status read_state write_state
 *     write_latch rw_mode mode bcd gate, le64 count_load_time
 *   le32 flags (KVM_PIT_FLAGS_*)
 * "kvm-clock" (8 bytes)
 *   le64 kvmclock in ns (KVM_GET_CLOCK; restored with flags 0)
 * "vcpu"
 *   le32 vcpu id, le32 flags (KVM_STATE_VCPU_*)
 *   regs: 18 x le64: rax rbx rcx rdx rsi rdi rsp rbp r8..r15 rip rflags
 *   sregs: 8 x segment (cs ds es fs gs ss tr ldt), 24 bytes each: le64
 *     base, le32 limit, le16 selector, u8 type present dpl db s l g avl
 *     unusable, u8 0; gdt, idt: le64 base, le16 limit; le64 cr0 cr2 cr3
 *     cr4 cr8 efer apic_base; 4 x le64 interrupt_bitmap
 *   FPU, with KVM_STATE_VCPU_XSAVE: le32 length (KVM_STATE_XSAVE_MIN..MAX,
 *     a multiple of 4), the XSAVE area (KVM_GET_XSAVE/XSAVE2) as is;
 *     without: 8 x 16 bytes fpr, le16 fcw, le16 fsw, u8 ftwx, le16
 *     last_opcode, le64 last_ip, le64 last_dp, 16 x 16 bytes xmm, le32 mxcsr
 *   with KVM_STATE_VCPU_XCRS: le32 count (<= KVM_MAX_XCRS), count x
 *     (le32 xcr, le64 value)
 *   debug registers: le64 db0..db3 dr6 dr7
 *   LAPIC: the 1024-byte register page (KVM_GET_LAPIC) as is
 *   events: u8 exception.injected nr has_error_code pending, le32
 *     exception.error_code, u8 interrupt.injected nr soft shadow, u8
 *     nmi.injected pending masked, le32 sipi_vector, le32 flags, u8
 *     smi.smm pending smm_inside_nmi latched_init, u8 triple_fault.pending,
 *     u8 exception_has_payload, le64 exception_payload
 *   le32 mp_state
 *   le32 count (<= KVM_STATE_MAX_MSRS), count x (le32 index, le64 value),
 *     only known MSRs, each once; the payload ends there.
 */
#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>

#include "vmgenid/bytebuf.h"
#include "vmgenid/endian.h"
#include "vmgenid/state.h"

#include "kvm_state_codec.h"
#include "msr.h"
#include "vm.h"

#define IRQCHIP_PAYLOAD_SIZE (2 * 16 + 8 + 3 * 4 + KVM_IOAPIC_NUM_PINS * 8)
#define PIT_PAYLOAD_SIZE (3 * 24 + 4)
#define MSR_RECORD_SIZE 12u
#define PIT_MAX_COUNT 0x10000u
#define PIT_FLAGS_KNOWN (KVM_PIT_FLAGS_HPET_LEGACY | KVM_PIT_FLAGS_SPEAKER_DATA_ON)
#define VCPU_FLAGS_KNOWN (KVM_STATE_VCPU_XSAVE | KVM_STATE_VCPU_XCRS)

/*
 * The MSRs a snapshot carries, in the order KVM_SET_MSRS applies them.
 * "unlisted": KVM emulates it for every vCPU, yet KVM_GET_MSR_INDEX_LIST
 * leaves it out (MTRRs always; PAT on older kernels), so it is read
 * regardless; an unreadable one is dropped like any other.
 */
static const struct {
	uint32_t index;
	bool unlisted;
} msr_table[] = {
	{ MSR_IA32_SYSENTER_CS, false },
	{ MSR_IA32_SYSENTER_ESP, false },
	{ MSR_IA32_SYSENTER_EIP, false },
	{ MSR_STAR, false },
	{ MSR_LSTAR, false },
	{ MSR_CSTAR, false },
	{ MSR_SYSCALL_MASK, false },
	{ MSR_KERNEL_GS_BASE, false },
	{ MSR_TSC_AUX, false },
	{ MSR_IA32_MISC_ENABLE, false },
	{ MSR_IA32_SPEC_CTRL, false },
	{ MSR_IA32_CR_PAT, true },
	{ MSR_MTRR_DEF_TYPE, true },
	{ MSR_MTRR_FIX_64K_00000, true },
	{ MSR_MTRR_FIX_16K_80000, true },
	{ MSR_MTRR_FIX_16K_A0000, true },
	{ MSR_MTRR_FIX_4K_C0000 + 0, true },
	{ MSR_MTRR_FIX_4K_C0000 + 1, true },
	{ MSR_MTRR_FIX_4K_C0000 + 2, true },
	{ MSR_MTRR_FIX_4K_C0000 + 3, true },
	{ MSR_MTRR_FIX_4K_C0000 + 4, true },
	{ MSR_MTRR_FIX_4K_C0000 + 5, true },
	{ MSR_MTRR_FIX_4K_C0000 + 6, true },
	{ MSR_MTRR_FIX_4K_C0000 + 7, true },
	{ MSR_MTRR_PHYS_BASE0 + 0, true },
	{ MSR_MTRR_PHYS_BASE0 + 1, true },
	{ MSR_MTRR_PHYS_BASE0 + 2, true },
	{ MSR_MTRR_PHYS_BASE0 + 3, true },
	{ MSR_MTRR_PHYS_BASE0 + 4, true },
	{ MSR_MTRR_PHYS_BASE0 + 5, true },
	{ MSR_MTRR_PHYS_BASE0 + 6, true },
	{ MSR_MTRR_PHYS_BASE0 + 7, true },
	{ MSR_MTRR_PHYS_BASE0 + 8, true },
	{ MSR_MTRR_PHYS_BASE0 + 9, true },
	{ MSR_MTRR_PHYS_BASE0 + 10, true },
	{ MSR_MTRR_PHYS_BASE0 + 11, true },
	{ MSR_MTRR_PHYS_BASE0 + 12, true },
	{ MSR_MTRR_PHYS_BASE0 + 13, true },
	{ MSR_MTRR_PHYS_BASE0 + 14, true },
	{ MSR_MTRR_PHYS_BASE0 + 15, true },
	{ MSR_IA32_TSC, false },
	{ MSR_IA32_TSC_ADJUST, false },
	/*
	 * kvmclock and the PV MSRs point KVM at guest pages: RAM is loaded
	 * before.  WALL_CLOCK makes KVM write the boot epoch from the current
	 * kvmclock, so KVM_SET_CLOCK (kvm_state_load_vm) comes before too.
	 * ASYNC_PF_INT names the vector that ASYNC_PF_EN then enables.
	 */
	{ MSR_KVM_SYSTEM_TIME_NEW, false },
	{ MSR_KVM_WALL_CLOCK_NEW, false },
	{ MSR_KVM_STEAL_TIME, false },
	{ MSR_KVM_PV_EOI_EN, false },
	{ MSR_KVM_POLL_CONTROL, false },
	{ MSR_KVM_ASYNC_PF_INT, false },
	{ MSR_KVM_ASYNC_PF_EN, false },
	/* Held back on restore until after the LAPIC: see load_vcpu_state() (kvm_state.c). */
	{ MSR_IA32_TSC_DEADLINE, false },
};

#define MSR_TABLE_SIZE (sizeof(msr_table) / sizeof(msr_table[0]))
_Static_assert(MSR_TABLE_SIZE <= KVM_STATE_MAX_MSRS, "msr_table outgrew KVM_STATE_MAX_MSRS");

/* ---- Writing ---- */

static void put_bytes(struct vmgenid_bytebuf *b, const void *p, size_t n)
{
	vmgenid_bytebuf_append(b, p, n);
}

static void put_pic(struct vmgenid_bytebuf *b, const struct kvm_pic_state *p)
{
	const uint8_t f[16] = {
		p->last_irr, p->irr, p->imr, p->isr, p->priority_add, p->irq_base,
		p->read_reg_select, p->poll, p->special_mask, p->init_state, p->auto_eoi,
		p->rotate_on_auto_eoi, p->special_fully_nested_mode, p->init4, p->elcr,
		p->elcr_mask,
	};

	put_bytes(b, f, sizeof(f));
}

void kvm_state_encode_irqchip(struct vmgenid_bytebuf *out, const struct kvm_state_irqchip *c)
{
	size_t start = vmgenid_state_section_begin(out, KVM_STATE_ID_IRQCHIP, KVM_STATE_VERSION);

	put_pic(out, &c->pic[0]);
	put_pic(out, &c->pic[1]);
	vmgenid_bytebuf_put_le64(out, c->ioapic.base_address);
	vmgenid_bytebuf_put_le32(out, c->ioapic.ioregsel);
	vmgenid_bytebuf_put_le32(out, c->ioapic.id);
	vmgenid_bytebuf_put_le32(out, c->ioapic.irr);
	for (unsigned int i = 0; i < KVM_IOAPIC_NUM_PINS; i++)
		vmgenid_bytebuf_put_le64(out, c->ioapic.redirtbl[i].bits);
	vmgenid_state_section_end(out, start);
}

void kvm_state_encode_pit(struct vmgenid_bytebuf *out, const struct kvm_pit_state2 *p)
{
	size_t start = vmgenid_state_section_begin(out, KVM_STATE_ID_PIT, KVM_STATE_VERSION);

	for (unsigned int i = 0; i < 3; i++) {
		const struct kvm_pit_channel_state *ch = &p->channels[i];
		const uint8_t f[10] = {
			ch->count_latched, ch->status_latched, ch->status, ch->read_state,
			ch->write_state, ch->write_latch, ch->rw_mode, ch->mode, ch->bcd,
			ch->gate,
		};

		vmgenid_bytebuf_put_le32(out, ch->count);
		vmgenid_bytebuf_put_le16(out, ch->latched_count);
		put_bytes(out, f, sizeof(f));
		vmgenid_bytebuf_put_le64(out, (uint64_t)ch->count_load_time);
	}
	vmgenid_bytebuf_put_le32(out, p->flags);
	vmgenid_state_section_end(out, start);
}

void kvm_state_encode_clock(struct vmgenid_bytebuf *out, uint64_t clock)
{
	size_t start = vmgenid_state_section_begin(out, KVM_STATE_ID_CLOCK, KVM_STATE_VERSION);

	vmgenid_bytebuf_put_le64(out, clock);
	vmgenid_state_section_end(out, start);
}

static void put_segment(struct vmgenid_bytebuf *b, const struct kvm_segment *s)
{
	const uint8_t f[10] = {
		s->type, s->present, s->dpl, s->db, s->s, s->l, s->g, s->avl, s->unusable, 0,
	};

	vmgenid_bytebuf_put_le64(b, s->base);
	vmgenid_bytebuf_put_le32(b, s->limit);
	vmgenid_bytebuf_put_le16(b, s->selector);
	put_bytes(b, f, sizeof(f));
}

static void put_dtable(struct vmgenid_bytebuf *b, const struct kvm_dtable *d)
{
	vmgenid_bytebuf_put_le64(b, d->base);
	vmgenid_bytebuf_put_le16(b, d->limit);
}

static void put_regs(struct vmgenid_bytebuf *b, const struct kvm_regs *r)
{
	const uint64_t f[18] = {
		r->rax, r->rbx, r->rcx, r->rdx, r->rsi, r->rdi, r->rsp, r->rbp, r->r8, r->r9,
		r->r10, r->r11, r->r12, r->r13, r->r14, r->r15, r->rip, r->rflags,
	};

	for (unsigned int i = 0; i < 18; i++)
		vmgenid_bytebuf_put_le64(b, f[i]);
}

static void put_sregs(struct vmgenid_bytebuf *b, const struct kvm_sregs *s)
{
	const struct kvm_segment *seg[8] = {
		&s->cs, &s->ds, &s->es, &s->fs, &s->gs, &s->ss, &s->tr, &s->ldt,
	};
	const uint64_t f[7] = { s->cr0, s->cr2, s->cr3, s->cr4, s->cr8, s->efer, s->apic_base };

	for (unsigned int i = 0; i < 8; i++)
		put_segment(b, seg[i]);
	put_dtable(b, &s->gdt);
	put_dtable(b, &s->idt);
	for (unsigned int i = 0; i < 7; i++)
		vmgenid_bytebuf_put_le64(b, f[i]);
	for (unsigned int i = 0; i < 4; i++)
		vmgenid_bytebuf_put_le64(b, s->interrupt_bitmap[i]);
}

static void put_fpu(struct vmgenid_bytebuf *b, const struct kvm_fpu *f)
{
	put_bytes(b, f->fpr, sizeof(f->fpr));
	vmgenid_bytebuf_put_le16(b, f->fcw);
	vmgenid_bytebuf_put_le16(b, f->fsw);
	vmgenid_bytebuf_put_u8(b, f->ftwx);
	vmgenid_bytebuf_put_le16(b, f->last_opcode);
	vmgenid_bytebuf_put_le64(b, f->last_ip);
	vmgenid_bytebuf_put_le64(b, f->last_dp);
	put_bytes(b, f->xmm, sizeof(f->xmm));
	vmgenid_bytebuf_put_le32(b, f->mxcsr);
}

static void put_events(struct vmgenid_bytebuf *b, const struct kvm_vcpu_events *e)
{
	const uint8_t f[7] = {
		e->interrupt.injected, e->interrupt.nr, e->interrupt.soft, e->interrupt.shadow,
		e->nmi.injected, e->nmi.pending, e->nmi.masked,
	};
	const uint8_t smi[6] = {
		e->smi.smm, e->smi.pending, e->smi.smm_inside_nmi, e->smi.latched_init,
		e->triple_fault.pending, e->exception_has_payload,
	};

	vmgenid_bytebuf_put_u8(b, e->exception.injected);
	vmgenid_bytebuf_put_u8(b, e->exception.nr);
	vmgenid_bytebuf_put_u8(b, e->exception.has_error_code);
	vmgenid_bytebuf_put_u8(b, e->exception.pending);
	vmgenid_bytebuf_put_le32(b, e->exception.error_code);
	put_bytes(b, f, sizeof(f));
	vmgenid_bytebuf_put_le32(b, e->sipi_vector);
	vmgenid_bytebuf_put_le32(b, e->flags);
	put_bytes(b, smi, sizeof(smi));
	vmgenid_bytebuf_put_le64(b, e->exception_payload);
}

/* The caller keeps the counts within what kvm_state_decode_vcpu() accepts. */
void kvm_state_encode_vcpu(struct vmgenid_bytebuf *out, const struct kvm_state_vcpu *st)
{
	size_t start = vmgenid_state_section_begin(out, KVM_STATE_ID_VCPU, KVM_STATE_VERSION);
	const struct kvm_debugregs *d = &st->debugregs;

	vmgenid_bytebuf_put_le32(out, st->id);
	vmgenid_bytebuf_put_le32(out, st->flags);
	put_regs(out, &st->regs);
	put_sregs(out, &st->sregs);
	if (st->flags & KVM_STATE_VCPU_XSAVE) {
		vmgenid_bytebuf_put_le32(out, st->xsave_len);
		put_bytes(out, st->xsave, st->xsave_len);
	} else {
		put_fpu(out, &st->fpu);
	}
	if (st->flags & KVM_STATE_VCPU_XCRS) {
		vmgenid_bytebuf_put_le32(out, st->xcrs.nr_xcrs);
		for (uint32_t i = 0; i < st->xcrs.nr_xcrs; i++) {
			vmgenid_bytebuf_put_le32(out, st->xcrs.xcrs[i].xcr);
			vmgenid_bytebuf_put_le64(out, st->xcrs.xcrs[i].value);
		}
	}
	for (unsigned int i = 0; i < 4; i++)
		vmgenid_bytebuf_put_le64(out, d->db[i]);
	vmgenid_bytebuf_put_le64(out, d->dr6);
	vmgenid_bytebuf_put_le64(out, d->dr7);
	put_bytes(out, st->lapic.regs, sizeof(st->lapic.regs));
	put_events(out, &st->events);
	vmgenid_bytebuf_put_le32(out, st->mp_state.mp_state);
	vmgenid_bytebuf_put_le32(out, st->nr_msrs);
	for (uint32_t i = 0; i < st->nr_msrs; i++) {
		vmgenid_bytebuf_put_le32(out, st->msrs[i].index);
		vmgenid_bytebuf_put_le64(out, st->msrs[i].data);
	}
	vmgenid_state_section_end(out, start);
}

/* ---- Reading: a cursor that reads zeros once it has run short ---- */

struct cursor {
	const uint8_t *p;
	size_t len;
	size_t pos;
	bool short_read;
};

static void cur_init(struct cursor *c, const struct vmgenid_state_section *s)
{
	c->p = s->payload;
	c->len = s->length;
	c->pos = 0;
	c->short_read = false;
}

static size_t cur_left(const struct cursor *c)
{
	return c->short_read ? 0 : c->len - c->pos;
}

static const uint8_t *cur_take(struct cursor *c, size_t n)
{
	const uint8_t *at;

	if (n > cur_left(c)) {
		c->short_read = true;
		return NULL;
	}
	at = c->p + c->pos;
	c->pos += n;
	return at;
}

static uint8_t get_u8(struct cursor *c)
{
	const uint8_t *p = cur_take(c, 1);

	return p ? p[0] : 0;
}

static uint16_t get_u16(struct cursor *c)
{
	const uint8_t *p = cur_take(c, 2);

	return p ? vmgenid_get_le16(p) : 0;
}

static uint32_t get_u32(struct cursor *c)
{
	const uint8_t *p = cur_take(c, 4);

	return p ? vmgenid_get_le32(p) : 0;
}

static uint64_t get_u64(struct cursor *c)
{
	const uint8_t *p = cur_take(c, 8);

	return p ? vmgenid_get_le64(p) : 0;
}

static void get_bytes(struct cursor *c, void *dst, size_t n)
{
	const uint8_t *p = cur_take(c, n);

	if (p)
		memcpy(dst, p, n);
}

/* Whole-payload verdicts, once everything was read. */
static int cur_finish(const struct cursor *c, const char *truncated, const char *trailing,
		      const char **why)
{
	if (c->short_read) {
		*why = truncated;
		return -1;
	}
	if (c->pos != c->len) {
		*why = trailing;
		return -1;
	}
	return 0;
}

static void get_pic(struct cursor *c, struct kvm_pic_state *p)
{
	p->last_irr = get_u8(c);
	p->irr = get_u8(c);
	p->imr = get_u8(c);
	p->isr = get_u8(c);
	p->priority_add = get_u8(c);
	p->irq_base = get_u8(c);
	p->read_reg_select = get_u8(c);
	p->poll = get_u8(c);
	p->special_mask = get_u8(c);
	p->init_state = get_u8(c);
	p->auto_eoi = get_u8(c);
	p->rotate_on_auto_eoi = get_u8(c);
	p->special_fully_nested_mode = get_u8(c);
	p->init4 = get_u8(c);
	p->elcr = get_u8(c);
	p->elcr_mask = get_u8(c);
}

int kvm_state_decode_irqchip(const struct vmgenid_state_section *s, struct kvm_state_irqchip *ch,
			     const char **why)
{
	struct cursor c;

	memset(ch, 0, sizeof(*ch));
	if (s->version != KVM_STATE_VERSION) {
		*why = "unsupported kvm-irqchip state version";
		return -1;
	}
	cur_init(&c, s);
	get_pic(&c, &ch->pic[0]);
	get_pic(&c, &ch->pic[1]);
	ch->ioapic.base_address = get_u64(&c);
	ch->ioapic.ioregsel = get_u32(&c);
	ch->ioapic.id = get_u32(&c);
	ch->ioapic.irr = get_u32(&c);
	for (unsigned int i = 0; i < KVM_IOAPIC_NUM_PINS; i++)
		ch->ioapic.redirtbl[i].bits = get_u64(&c);
	if (cur_finish(&c, "kvm-irqchip state is truncated", "kvm-irqchip state has trailing bytes",
		       why) < 0)
		return -1;
	/* KVM moves the IOAPIC to whatever address the state names. */
	if (ch->ioapic.base_address != VM_IOAPIC_ADDR) {
		*why = "kvm-irqchip state puts the IOAPIC at another address";
		return -1;
	}
	return 0;
}

int kvm_state_decode_pit(const struct vmgenid_state_section *s, struct kvm_pit_state2 *p,
			 const char **why)
{
	struct cursor c;

	memset(p, 0, sizeof(*p));
	if (s->version != KVM_STATE_VERSION) {
		*why = "unsupported kvm-pit state version";
		return -1;
	}
	cur_init(&c, s);
	for (unsigned int i = 0; i < 3; i++) {
		struct kvm_pit_channel_state *ch = &p->channels[i];

		ch->count = get_u32(&c);
		ch->latched_count = get_u16(&c);
		ch->count_latched = get_u8(&c);
		ch->status_latched = get_u8(&c);
		ch->status = get_u8(&c);
		ch->read_state = get_u8(&c);
		ch->write_state = get_u8(&c);
		ch->write_latch = get_u8(&c);
		ch->rw_mode = get_u8(&c);
		ch->mode = get_u8(&c);
		ch->bcd = get_u8(&c);
		ch->gate = get_u8(&c);
		ch->count_load_time = (int64_t)get_u64(&c);
	}
	p->flags = get_u32(&c);
	if (cur_finish(&c, "kvm-pit state is truncated", "kvm-pit state has trailing bytes",
		       why) < 0)
		return -1;
	for (unsigned int i = 0; i < 3; i++) {
		if (p->channels[i].count > PIT_MAX_COUNT) {
			*why = "kvm-pit state has a channel count above 65536";
			return -1;
		}
	}
	if (p->flags & ~(uint32_t)PIT_FLAGS_KNOWN) {
		*why = "kvm-pit state has unknown flags";
		return -1;
	}
	return 0;
}

int kvm_state_decode_clock(const struct vmgenid_state_section *s, uint64_t *clock, const char **why)
{
	struct cursor c;

	if (s->version != KVM_STATE_VERSION) {
		*why = "unsupported kvm-clock state version";
		return -1;
	}
	cur_init(&c, s);
	*clock = get_u64(&c);
	return cur_finish(&c, "kvm-clock state is truncated", "kvm-clock state has trailing bytes",
			  why);
}

static void get_segment(struct cursor *c, struct kvm_segment *s)
{
	s->base = get_u64(c);
	s->limit = get_u32(c);
	s->selector = get_u16(c);
	s->type = get_u8(c);
	s->present = get_u8(c);
	s->dpl = get_u8(c);
	s->db = get_u8(c);
	s->s = get_u8(c);
	s->l = get_u8(c);
	s->g = get_u8(c);
	s->avl = get_u8(c);
	s->unusable = get_u8(c);
	get_u8(c); /* padding, written as 0 */
}

static void get_regs(struct cursor *c, struct kvm_regs *r)
{
	__u64 *f[18] = {
		&r->rax, &r->rbx, &r->rcx, &r->rdx, &r->rsi, &r->rdi, &r->rsp, &r->rbp, &r->r8,
		&r->r9, &r->r10, &r->r11, &r->r12, &r->r13, &r->r14, &r->r15, &r->rip, &r->rflags,
	};

	for (unsigned int i = 0; i < 18; i++)
		*f[i] = get_u64(c);
}

static void get_sregs(struct cursor *c, struct kvm_sregs *s)
{
	struct kvm_segment *seg[8] = {
		&s->cs, &s->ds, &s->es, &s->fs, &s->gs, &s->ss, &s->tr, &s->ldt,
	};
	__u64 *f[7] = { &s->cr0, &s->cr2, &s->cr3, &s->cr4, &s->cr8, &s->efer, &s->apic_base };

	for (unsigned int i = 0; i < 8; i++)
		get_segment(c, seg[i]);
	s->gdt.base = get_u64(c);
	s->gdt.limit = get_u16(c);
	s->idt.base = get_u64(c);
	s->idt.limit = get_u16(c);
	for (unsigned int i = 0; i < 7; i++)
		*f[i] = get_u64(c);
	for (unsigned int i = 0; i < 4; i++)
		s->interrupt_bitmap[i] = get_u64(c);
}

static void get_fpu(struct cursor *c, struct kvm_fpu *f)
{
	get_bytes(c, f->fpr, sizeof(f->fpr));
	f->fcw = get_u16(c);
	f->fsw = get_u16(c);
	f->ftwx = get_u8(c);
	f->last_opcode = get_u16(c);
	f->last_ip = get_u64(c);
	f->last_dp = get_u64(c);
	get_bytes(c, f->xmm, sizeof(f->xmm));
	f->mxcsr = get_u32(c);
}

static void get_events(struct cursor *c, struct kvm_vcpu_events *e)
{
	e->exception.injected = get_u8(c);
	e->exception.nr = get_u8(c);
	e->exception.has_error_code = get_u8(c);
	e->exception.pending = get_u8(c);
	e->exception.error_code = get_u32(c);
	e->interrupt.injected = get_u8(c);
	e->interrupt.nr = get_u8(c);
	e->interrupt.soft = get_u8(c);
	e->interrupt.shadow = get_u8(c);
	e->nmi.injected = get_u8(c);
	e->nmi.pending = get_u8(c);
	e->nmi.masked = get_u8(c);
	e->sipi_vector = get_u32(c);
	e->flags = get_u32(c);
	e->smi.smm = get_u8(c);
	e->smi.pending = get_u8(c);
	e->smi.smm_inside_nmi = get_u8(c);
	e->smi.latched_init = get_u8(c);
	e->triple_fault.pending = get_u8(c);
	e->exception_has_payload = get_u8(c);
	e->exception_payload = get_u64(c);
}

bool kvm_state_msr_known(uint32_t index)
{
	for (size_t i = 0; i < MSR_TABLE_SIZE; i++)
		if (msr_table[i].index == index)
			return true;
	return false;
}

bool kvm_state_mp_state_valid(uint32_t mp)
{
	switch (mp) {
	case KVM_MP_STATE_RUNNABLE:
	case KVM_MP_STATE_UNINITIALIZED:
	case KVM_MP_STATE_INIT_RECEIVED:
	case KVM_MP_STATE_HALTED:
	case KVM_MP_STATE_SIPI_RECEIVED:
	case KVM_MP_STATE_AP_RESET_HOLD:
	case KVM_MP_STATE_SUSPENDED:
		return true;
	default:
		return false;
	}
}

/* The variable-length parts; NULL, or what is wrong. */
static const char *get_xsave(struct cursor *c, struct kvm_state_vcpu *st)
{
	uint32_t len = get_u32(c);

	if (c->short_read)
		return "vcpu state is truncated";
	if (len < KVM_STATE_XSAVE_MIN || len > KVM_STATE_XSAVE_MAX || len % 4)
		return "vcpu state has an XSAVE area of impossible length";
	if (len > cur_left(c))
		return "vcpu state's XSAVE area runs past the end of the section";
	st->xsave = cur_take(c, len);
	st->xsave_len = len;
	return NULL;
}

static const char *get_xcrs(struct cursor *c, struct kvm_xcrs *x)
{
	uint32_t n = get_u32(c);

	if (c->short_read)
		return "vcpu state is truncated";
	if (n > KVM_MAX_XCRS)
		return "vcpu state has more XCRs than KVM takes";
	x->nr_xcrs = n;
	for (uint32_t i = 0; i < n; i++) {
		x->xcrs[i].xcr = get_u32(c);
		x->xcrs[i].value = get_u64(c);
	}
	return NULL;
}

static const char *get_msrs(struct cursor *c, struct kvm_state_vcpu *st)
{
	uint32_t n = get_u32(c);

	if (c->short_read)
		return "vcpu state is truncated";
	if (n > KVM_STATE_MAX_MSRS)
		return "vcpu state has more MSRs than genvm saves";
	/* The MSRs end the payload: their count says exactly how long it is. */
	if ((size_t)n * MSR_RECORD_SIZE > cur_left(c))
		return "vcpu state's MSR count runs past the end of the section";
	if ((size_t)n * MSR_RECORD_SIZE < cur_left(c))
		return "vcpu state has trailing bytes";
	st->nr_msrs = n;
	for (uint32_t i = 0; i < n; i++) {
		st->msrs[i].index = get_u32(c);
		st->msrs[i].data = get_u64(c);
		if (!kvm_state_msr_known(st->msrs[i].index))
			return "vcpu state holds an MSR genvm does not restore";
		for (uint32_t j = 0; j < i; j++)
			if (st->msrs[j].index == st->msrs[i].index)
				return "vcpu state holds an MSR twice";
	}
	return NULL;
}

int kvm_state_decode_vcpu(const struct vmgenid_state_section *s, struct kvm_state_vcpu *st,
			  const char **why)
{
	struct kvm_debugregs *d = &st->debugregs;
	const char *bad;
	struct cursor c;

	memset(st, 0, sizeof(*st));
	if (s->version != KVM_STATE_VERSION) {
		*why = "unsupported vcpu state version";
		return -1;
	}
	cur_init(&c, s);
	st->id = get_u32(&c);
	st->flags = get_u32(&c);
	get_regs(&c, &st->regs);
	get_sregs(&c, &st->sregs);
	if (c.short_read) {
		*why = "vcpu state is truncated";
		return -1;
	}
	if (st->flags & ~VCPU_FLAGS_KNOWN) {
		*why = "vcpu state has unknown flags";
		return -1;
	}
	bad = NULL;
	if (st->flags & KVM_STATE_VCPU_XSAVE)
		bad = get_xsave(&c, st);
	else
		get_fpu(&c, &st->fpu);
	if (!bad && (st->flags & KVM_STATE_VCPU_XCRS))
		bad = get_xcrs(&c, &st->xcrs);
	if (bad) {
		*why = bad;
		return -1;
	}
	for (unsigned int i = 0; i < 4; i++)
		d->db[i] = get_u64(&c);
	d->dr6 = get_u64(&c);
	d->dr7 = get_u64(&c);
	get_bytes(&c, st->lapic.regs, sizeof(st->lapic.regs));
	get_events(&c, &st->events);
	st->mp_state.mp_state = get_u32(&c);
	bad = get_msrs(&c, st);
	if (bad) {
		*why = bad;
		return -1;
	}
	if (cur_finish(&c, "vcpu state is truncated", "vcpu state has trailing bytes", why) < 0)
		return -1;
	if (st->events.flags & ~(uint32_t)KVM_STATE_EVENTS_FLAGS_KNOWN) {
		*why = "vcpu state has unknown event flags";
		return -1;
	}
	if (!kvm_state_mp_state_valid(st->mp_state.mp_state)) {
		*why = "vcpu state has an unknown run state";
		return -1;
	}
	return 0;
}

unsigned int kvm_state_msr_select(const uint32_t *listed, uint32_t nr_listed, uint32_t *out)
{
	unsigned int n = 0;

	for (size_t i = 0; i < MSR_TABLE_SIZE; i++) {
		bool take = msr_table[i].unlisted;

		for (uint32_t j = 0; j < nr_listed && !take; j++)
			take = listed[j] == msr_table[i].index;
		if (take)
			out[n++] = msr_table[i].index;
	}
	return n;
}

int kvm_state_read_msrs(struct kvm_state_vcpu *st, const uint32_t *want, unsigned int n,
			kvm_state_get_msrs_fn *get, void *opaque)
{
	struct kvm_msrs *m;
	unsigned int pos = 0;

	st->nr_msrs = 0;
	if (n > KVM_STATE_MAX_MSRS) {
		errno = E2BIG;
		return -1;
	}
	m = calloc(1, sizeof(*m) + (n ? n : 1) * sizeof(m->entries[0]));
	if (!m)
		return -1;
	while (pos < n) {
		unsigned int ask = n - pos, got;
		int ret;

		memset(m->entries, 0, ask * sizeof(m->entries[0]));
		for (unsigned int i = 0; i < ask; i++)
			m->entries[i].index = want[pos + i];
		m->nmsrs = ask;
		ret = get(opaque, m);
		if (ret < 0) {
			int err = errno;

			free(m);
			errno = err;
			return -1;
		}
		got = (unsigned int)ret < ask ? (unsigned int)ret : ask;
		for (unsigned int i = 0; i < got; i++) {
			st->msrs[st->nr_msrs].index = m->entries[i].index;
			st->msrs[st->nr_msrs].reserved = 0;
			st->msrs[st->nr_msrs].data = m->entries[i].data;
			st->nr_msrs++;
		}
		/* KVM stopped at an MSR it cannot read: leave that one out, go on. */
		pos += got;
		if (pos < n)
			pos++;
	}
	free(m);
	return 0;
}
