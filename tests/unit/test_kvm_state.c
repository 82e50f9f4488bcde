// SPDX-License-Identifier: MIT
/*
 * The KVM state codec: round trips, the byte layout, and every way a
 * payload can be refused.  No /dev/kvm: the ioctl layer is not run here.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "vmgenid/bytebuf.h"
#include "vmgenid/endian.h"
#include "vmgenid/state.h"

#include "kvm_state.h"
#include "vm.h"

#define NR_CPUS 4

/* Offsets into a vcpu payload, from the layout in kvm_state.c. */
#define OFF_FLAGS 4
#define OFF_REGS 8
#define OFF_FPU (8 + 144 + 300)
#define FPU_SIZE 411
#define TAIL_SIZE (6 * 8 + 1024 + 37 + 4) /* debug regs, LAPIC, events, mp_state */

static uint32_t rng = 0x12345678;

static void fill(void *p, size_t n)
{
	uint8_t *b = p;

	for (size_t i = 0; i < n; i++) {
		rng = rng * 1103515245u + 12345u;
		b[i] = (uint8_t)(rng >> 16);
	}
}

/* The only section in buf, as the reader hands it out. */
static void only_section(const struct vmgenid_bytebuf *b, struct vmgenid_state_section *s)
{
	struct vmgenid_state_reader r;
	const char *why = NULL;

	assert_false(vmgenid_bytebuf_failed(b));
	vmgenid_state_reader_init(&r, b->data, b->len);
	assert_int_equal(vmgenid_state_reader_next(&r, s, &why), 1);
	assert_int_equal(vmgenid_state_reader_next(&r, s, &why), 0);
	vmgenid_state_reader_init(&r, b->data, b->len);
	assert_int_equal(vmgenid_state_reader_next(&r, s, &why), 1);
}

/* A section over an exact-size heap copy of payload, so ASan sees overreads. */
static struct vmgenid_state_section section_copy(const char *id, uint32_t version, const uint8_t *payload,
					 size_t len)
{
	struct vmgenid_state_section s;
	uint8_t *copy = malloc(len ? len : 1);

	assert_non_null(copy);
	memcpy(copy, payload, len);
	memset(&s, 0, sizeof(s));
	strcpy(s.id, id);
	s.version = version;
	s.payload = copy;
	s.length = (uint32_t)len;
	return s;
}

static void section_free(struct vmgenid_state_section *s)
{
	free((void *)s->payload);
}

/* ---- Fixtures: every field carried set at random, the rest zero ---- */

static void make_irqchip(struct kvm_state_irqchip *c)
{
	memset(c, 0, sizeof(*c));
	fill(c->pic, sizeof(c->pic));
	c->ioapic.base_address = VM_IOAPIC_ADDR;
	fill(&c->ioapic.ioregsel, 4);
	fill(&c->ioapic.id, 4);
	fill(&c->ioapic.irr, 4);
	fill(c->ioapic.redirtbl, sizeof(c->ioapic.redirtbl));
}

static void make_pit(struct kvm_pit_state2 *p)
{
	memset(p, 0, sizeof(*p));
	fill(p->channels, sizeof(p->channels));
	for (unsigned int i = 0; i < 3; i++)
		p->channels[i].count = i == 0 ? 0x10000 : (p->channels[i].count & 0xffff);
	p->flags = KVM_PIT_FLAGS_HPET_LEGACY | KVM_PIT_FLAGS_SPEAKER_DATA_ON;
}

static void zero_segment_padding(struct kvm_sregs *s)
{
	struct kvm_segment *seg[8] = { &s->cs, &s->ds, &s->es, &s->fs, &s->gs, &s->ss, &s->tr,
				       &s->ldt };

	for (unsigned int i = 0; i < 8; i++)
		seg[i]->padding = 0;
	memset(s->gdt.padding, 0, sizeof(s->gdt.padding));
	memset(s->idt.padding, 0, sizeof(s->idt.padding));
}

static const uint32_t some_msrs[] = {
	0x10, 0x174, 0xc0000082, 0x277, 0x2ff, 0x20f, 0x4b564d01, 0x6e0,
};
#define NR_SOME_MSRS (sizeof(some_msrs) / sizeof(some_msrs[0]))

/* xsave: NULL for the legacy FPU; nr_xcrs < 0 for no XCRs. */
static void make_vcpu(struct kvm_state_vcpu *st, uint32_t id, const uint8_t *xsave,
		      uint32_t xsave_len, int nr_xcrs, uint32_t nr_msrs)
{
	memset(st, 0, sizeof(*st));
	st->id = id;
	fill(&st->regs, sizeof(st->regs));
	fill(&st->sregs, sizeof(st->sregs));
	zero_segment_padding(&st->sregs);
	if (xsave) {
		st->flags |= KVM_STATE_VCPU_XSAVE;
		st->xsave = xsave;
		st->xsave_len = xsave_len;
	} else {
		fill(&st->fpu, sizeof(st->fpu));
		st->fpu.pad1 = 0;
		st->fpu.pad2 = 0;
	}
	if (nr_xcrs >= 0) {
		st->flags |= KVM_STATE_VCPU_XCRS;
		st->xcrs.nr_xcrs = (uint32_t)nr_xcrs;
		for (int i = 0; i < nr_xcrs; i++) {
			fill(&st->xcrs.xcrs[i].xcr, 4);
			fill(&st->xcrs.xcrs[i].value, 8);
		}
	}
	fill(st->debugregs.db, sizeof(st->debugregs.db));
	fill(&st->debugregs.dr6, 8);
	fill(&st->debugregs.dr7, 8);
	fill(&st->lapic, sizeof(st->lapic));
	fill(&st->events, sizeof(st->events));
	st->events.nmi.pad = 0;
	memset(st->events.reserved, 0, sizeof(st->events.reserved));
	st->events.flags = KVM_VCPUEVENT_VALID_SHADOW | KVM_VCPUEVENT_VALID_SMM;
	st->mp_state.mp_state = KVM_MP_STATE_HALTED;
	assert_true(nr_msrs <= NR_SOME_MSRS);
	st->nr_msrs = nr_msrs;
	for (uint32_t i = 0; i < nr_msrs; i++) {
		st->msrs[i].index = some_msrs[i];
		fill(&st->msrs[i].data, 8);
	}
}

static void encode_vcpu(const struct kvm_state_vcpu *st, struct vmgenid_bytebuf *b,
			struct vmgenid_state_section *s)
{
	vmgenid_bytebuf_init(b);
	kvm_state_encode_vcpu(b, st);
	only_section(b, s);
}

static void assert_vcpu_equal(const struct kvm_state_vcpu *a, const struct kvm_state_vcpu *b)
{
	assert_int_equal(a->id, b->id);
	assert_int_equal(a->flags, b->flags);
	assert_memory_equal(&a->regs, &b->regs, sizeof(a->regs));
	assert_memory_equal(&a->sregs, &b->sregs, sizeof(a->sregs));
	assert_memory_equal(&a->fpu, &b->fpu, sizeof(a->fpu));
	assert_int_equal(a->xsave_len, b->xsave_len);
	if (a->xsave_len)
		assert_memory_equal(a->xsave, b->xsave, a->xsave_len);
	assert_memory_equal(&a->xcrs, &b->xcrs, sizeof(a->xcrs));
	assert_memory_equal(&a->debugregs, &b->debugregs, sizeof(a->debugregs));
	assert_memory_equal(&a->lapic, &b->lapic, sizeof(a->lapic));
	assert_memory_equal(&a->events, &b->events, sizeof(a->events));
	assert_int_equal(a->mp_state.mp_state, b->mp_state.mp_state);
	assert_int_equal(a->nr_msrs, b->nr_msrs);
	assert_memory_equal(a->msrs, b->msrs, a->nr_msrs * sizeof(a->msrs[0]));
}

/* ---- VM sections ---- */

static void test_irqchip_round_trip(void **state)
{
	struct kvm_state_irqchip in, out;
	struct vmgenid_state_section s;
	struct vmgenid_bytebuf b;
	const char *why = NULL;

	(void)state;
	make_irqchip(&in);
	vmgenid_bytebuf_init(&b);
	kvm_state_encode_irqchip(&b, &in);
	only_section(&b, &s);
	assert_string_equal(s.id, "kvm-irqchip");
	assert_int_equal(s.version, 1);
	assert_int_equal(s.length, 244);
	/* Layout spot checks: PIC bytes first, then the IOAPIC's base. */
	assert_int_equal(s.payload[0], in.pic[0].last_irr);
	assert_int_equal(s.payload[31], in.pic[1].elcr_mask);
	assert_int_equal(vmgenid_get_le64(s.payload + 32), VM_IOAPIC_ADDR);
	assert_int_equal(vmgenid_get_le64(s.payload + 52), in.ioapic.redirtbl[0].bits);

	assert_int_equal(kvm_state_decode_irqchip(&s, &out, &why), 0);
	assert_memory_equal(&in, &out, sizeof(in));
	assert_int_equal(kvm_state_check_vm_section(&s, &why), 0);
	vmgenid_bytebuf_free(&b);
}

static void test_pit_round_trip(void **state)
{
	struct kvm_pit_state2 in, out;
	struct vmgenid_state_section s;
	struct vmgenid_bytebuf b;
	const char *why = NULL;

	(void)state;
	make_pit(&in);
	vmgenid_bytebuf_init(&b);
	kvm_state_encode_pit(&b, &in);
	only_section(&b, &s);
	assert_string_equal(s.id, "kvm-pit");
	assert_int_equal(s.length, 76);
	assert_int_equal(vmgenid_get_le32(s.payload), 0x10000);
	assert_int_equal(vmgenid_get_le64(s.payload + 16), (uint64_t)in.channels[0].count_load_time);
	assert_int_equal(vmgenid_get_le32(s.payload + 72), in.flags);

	assert_int_equal(kvm_state_decode_pit(&s, &out, &why), 0);
	assert_memory_equal(&in, &out, sizeof(in));
	assert_int_equal(kvm_state_check_vm_section(&s, &why), 0);
	vmgenid_bytebuf_free(&b);
}

static void test_clock_round_trip(void **state)
{
	struct vmgenid_state_section s;
	struct vmgenid_bytebuf b;
	const char *why = NULL;
	uint64_t clock = 0;

	(void)state;
	vmgenid_bytebuf_init(&b);
	kvm_state_encode_clock(&b, 0x0123456789abcdefull);
	only_section(&b, &s);
	assert_string_equal(s.id, "kvm-clock");
	assert_int_equal(s.length, 8);
	assert_int_equal(kvm_state_decode_clock(&s, &clock, &why), 0);
	assert_int_equal(clock, 0x0123456789abcdefull);
	assert_int_equal(kvm_state_check_vm_section(&s, &why), 0);
	vmgenid_bytebuf_free(&b);
}

/* Every shorter payload, one byte more, and a wrong version: all refused. */
static void refuse_bad_lengths(const struct vmgenid_state_section *good)
{
	const char *why;
	uint8_t *longer;

	for (uint32_t cut = 0; cut < good->length; cut++) {
		struct vmgenid_state_section s = section_copy(good->id, good->version, good->payload, cut);

		why = NULL;
		assert_int_equal(kvm_state_check_vm_section(&s, &why), -1);
		assert_non_null(why);
		section_free(&s);
	}

	longer = calloc(1, good->length + 1);
	assert_non_null(longer);
	memcpy(longer, good->payload, good->length);
	{
		struct vmgenid_state_section s = section_copy(good->id, good->version, longer,
						      good->length + 1);

		assert_int_equal(kvm_state_check_vm_section(&s, &why), -1);
		assert_non_null(strstr(why, "trailing bytes"));
		section_free(&s);
	}
	free(longer);
	{
		struct vmgenid_state_section s = section_copy(good->id, 2, good->payload, good->length);

		assert_int_equal(kvm_state_check_vm_section(&s, &why), -1);
		assert_non_null(strstr(why, "version"));
		section_free(&s);
	}
}

static void test_vm_sections_refuse_bad_lengths(void **state)
{
	struct kvm_state_irqchip chips;
	struct kvm_pit_state2 pit;
	struct vmgenid_state_reader r;
	struct vmgenid_state_section s;
	struct vmgenid_bytebuf b;
	const char *why = NULL;
	int n = 0;

	(void)state;
	make_irqchip(&chips);
	make_pit(&pit);
	vmgenid_bytebuf_init(&b);
	kvm_state_encode_irqchip(&b, &chips);
	kvm_state_encode_pit(&b, &pit);
	kvm_state_encode_clock(&b, 42);
	assert_false(vmgenid_bytebuf_failed(&b));
	vmgenid_state_reader_init(&r, b.data, b.len);
	while (vmgenid_state_reader_next(&r, &s, &why) == 1) {
		refuse_bad_lengths(&s);
		n++;
	}
	assert_int_equal(n, 3);
	vmgenid_bytebuf_free(&b);
}

static void test_vm_sections_refuse_bad_values(void **state)
{
	struct kvm_state_irqchip chips;
	struct kvm_pit_state2 pit;
	struct vmgenid_state_section s;
	struct vmgenid_bytebuf b;
	const char *why = NULL;

	(void)state;
	make_irqchip(&chips);
	chips.ioapic.base_address = VM_IOAPIC_ADDR + 0x1000;
	vmgenid_bytebuf_init(&b);
	kvm_state_encode_irqchip(&b, &chips);
	only_section(&b, &s);
	assert_int_equal(kvm_state_check_vm_section(&s, &why), -1);
	assert_string_equal(why, "kvm-irqchip state puts the IOAPIC at another address");
	vmgenid_bytebuf_free(&b);

	make_pit(&pit);
	pit.channels[2].count = 0x10001;
	vmgenid_bytebuf_init(&b);
	kvm_state_encode_pit(&b, &pit);
	only_section(&b, &s);
	assert_int_equal(kvm_state_check_vm_section(&s, &why), -1);
	assert_string_equal(why, "kvm-pit state has a channel count above 65536");
	vmgenid_bytebuf_free(&b);

	make_pit(&pit);
	pit.flags = 4;
	vmgenid_bytebuf_init(&b);
	kvm_state_encode_pit(&b, &pit);
	only_section(&b, &s);
	assert_int_equal(kvm_state_check_vm_section(&s, &why), -1);
	assert_string_equal(why, "kvm-pit state has unknown flags");
	vmgenid_bytebuf_free(&b);

	/* A section that is not the VM's. */
	vmgenid_bytebuf_init(&b);
	kvm_state_encode_clock(&b, 1);
	only_section(&b, &s);
	strcpy(s.id, "kvm-clocks");
	assert_int_equal(kvm_state_check_vm_section(&s, &why), -1);
	assert_string_equal(why, "not a KVM VM state section");
	strcpy(s.id, "vcpu");
	assert_int_equal(kvm_state_check_vm_section(&s, &why), -1);
	vmgenid_bytebuf_free(&b);
}

/* ---- vcpu sections ---- */

static void round_trip_vcpu(const struct kvm_state_vcpu *in, size_t expect_len)
{
	struct kvm_state_vcpu *out = malloc(sizeof(*out));
	struct vmgenid_state_section s;
	struct vmgenid_bytebuf b;
	const char *why = NULL;
	unsigned int id = 99;

	assert_non_null(out);
	encode_vcpu(in, &b, &s);
	assert_string_equal(s.id, "vcpu");
	assert_int_equal(s.version, 1);
	assert_int_equal(s.length, expect_len);
	assert_int_equal(vmgenid_get_le32(s.payload), in->id);
	assert_int_equal(vmgenid_get_le32(s.payload + OFF_FLAGS), in->flags);
	assert_int_equal(vmgenid_get_le64(s.payload + OFF_REGS), in->regs.rax);
	assert_int_equal(vmgenid_get_le64(s.payload + OFF_REGS + 17 * 8), in->regs.rflags);
	/* The MSRs end the payload. */
	assert_int_equal(vmgenid_get_le32(s.payload + s.length - 4 - in->nr_msrs * 12), in->nr_msrs);

	assert_int_equal(kvm_state_decode_vcpu(&s, out, &why), 0);
	assert_vcpu_equal(in, out);
	if (in->xsave_len)
		assert_ptr_equal(out->xsave, s.payload + OFF_FPU + 4);
	assert_int_equal(kvm_state_check_vcpu_section(&s, NR_CPUS, &id, &why), 0);
	assert_int_equal(id, in->id);
	vmgenid_bytebuf_free(&b);
	free(out);
}

static void test_vcpu_round_trip_fpu(void **state)
{
	struct kvm_state_vcpu *st = malloc(sizeof(*st));

	(void)state;
	assert_non_null(st);
	/* The nested test machine: no XSAVE, no XCRs. */
	make_vcpu(st, 1, NULL, 0, -1, NR_SOME_MSRS);
	round_trip_vcpu(st, OFF_FPU + FPU_SIZE + TAIL_SIZE + 4 + NR_SOME_MSRS * 12);
	/* Legacy FPU with XCRs, and no MSRs at all. */
	make_vcpu(st, 0, NULL, 0, 1, 0);
	round_trip_vcpu(st, OFF_FPU + FPU_SIZE + 4 + 12 + TAIL_SIZE + 4);
	free(st);
}

static void test_vcpu_round_trip_xsave(void **state)
{
	struct kvm_state_vcpu *st = malloc(sizeof(*st));
	uint8_t *area = malloc(8192);

	(void)state;
	assert_non_null(st);
	assert_non_null(area);
	fill(area, 8192);
	make_vcpu(st, 3, area, 4096, 2, 3);
	round_trip_vcpu(st, OFF_FPU + 4 + 4096 + 4 + 2 * 12 + TAIL_SIZE + 4 + 3 * 12);
	/* KVM_GET_XSAVE2's larger area; all sixteen XCRs. */
	make_vcpu(st, 2, area, 8192, KVM_MAX_XCRS, NR_SOME_MSRS);
	round_trip_vcpu(st, OFF_FPU + 4 + 8192 + 4 + KVM_MAX_XCRS * 12 + TAIL_SIZE + 4 +
				    NR_SOME_MSRS * 12);
	free(area);
	free(st);
}

/* Decode a copy of s patched by the caller; returns why (checks -1). */
static const char *refuse_vcpu(const struct vmgenid_state_section *s, unsigned int nr_cpus)
{
	const char *why = NULL;
	unsigned int id = 12345;

	assert_int_equal(kvm_state_check_vcpu_section(s, nr_cpus, &id, &why), -1);
	assert_non_null(why);
	assert_int_equal(id, 12345);
	return why;
}

static void test_vcpu_every_truncation_refused(void **state)
{
	struct kvm_state_vcpu *st = malloc(sizeof(*st));
	uint8_t *area = malloc(4096);
	struct vmgenid_state_section good;
	struct vmgenid_bytebuf b;

	(void)state;
	assert_non_null(st);
	assert_non_null(area);
	fill(area, 4096);
	for (int variant = 0; variant < 2; variant++) {
		if (variant)
			make_vcpu(st, 1, area, 4096, 1, NR_SOME_MSRS);
		else
			make_vcpu(st, 1, NULL, 0, -1, NR_SOME_MSRS);
		encode_vcpu(st, &b, &good);
		for (uint32_t cut = 0; cut < good.length; cut++) {
			struct vmgenid_state_section s = section_copy("vcpu", 1, good.payload, cut);

			refuse_vcpu(&s, NR_CPUS);
			section_free(&s);
		}
		/* One byte more: trailing. */
		{
			uint8_t *longer = calloc(1, good.length + 1);
			struct vmgenid_state_section s;

			assert_non_null(longer);
			memcpy(longer, good.payload, good.length);
			s = section_copy("vcpu", 1, longer, good.length + 1);
			assert_string_equal(refuse_vcpu(&s, NR_CPUS),
					    "vcpu state has trailing bytes");
			section_free(&s);
			free(longer);
		}
		vmgenid_bytebuf_free(&b);
	}
	free(area);
	free(st);
}

/* Encode st, let patch() change the payload copy, and return the refusal. */
static const char *refuse_patched(const struct kvm_state_vcpu *st, size_t off, uint32_t v32,
				  unsigned int nr_cpus)
{
	struct vmgenid_state_section good, s;
	struct vmgenid_bytebuf b;
	const char *why;
	uint8_t *copy;

	encode_vcpu(st, &b, &good);
	copy = malloc(good.length);
	assert_non_null(copy);
	memcpy(copy, good.payload, good.length);
	if (off != SIZE_MAX)
		vmgenid_put_le32(copy + off, v32);
	s = section_copy("vcpu", 1, copy, good.length);
	why = refuse_vcpu(&s, nr_cpus);
	section_free(&s);
	free(copy);
	vmgenid_bytebuf_free(&b);
	return why;
}

static void test_vcpu_bad_version_and_id(void **state)
{
	struct kvm_state_vcpu *st = malloc(sizeof(*st));
	struct vmgenid_state_section good, s;
	struct vmgenid_bytebuf b;
	const char *why = NULL;
	unsigned int id = 0;

	(void)state;
	assert_non_null(st);
	make_vcpu(st, NR_CPUS - 1, NULL, 0, -1, 2);
	encode_vcpu(st, &b, &good);
	assert_int_equal(kvm_state_check_vcpu_section(&good, NR_CPUS, &id, &why), 0);
	assert_int_equal(id, NR_CPUS - 1);
	/* One CPU fewer: the id is out of range. */
	assert_string_equal(refuse_vcpu(&good, NR_CPUS - 1),
			    "vcpu state is for a vCPU the machine does not have");
	assert_string_equal(refuse_patched(st, 0, 0xffffffffu, NR_CPUS),
			    "vcpu state is for a vCPU the machine does not have");

	s = section_copy("vcpu", 0, good.payload, good.length);
	assert_string_equal(refuse_vcpu(&s, NR_CPUS), "unsupported vcpu state version");
	section_free(&s);
	s = section_copy("vcpu", 2, good.payload, good.length);
	assert_string_equal(refuse_vcpu(&s, NR_CPUS), "unsupported vcpu state version");
	section_free(&s);
	s = section_copy("kvm-clock", 1, good.payload, good.length);
	assert_string_equal(refuse_vcpu(&s, NR_CPUS), "not a vcpu state section");
	section_free(&s);
	vmgenid_bytebuf_free(&b);
	free(st);
}

static void test_vcpu_bad_counts(void **state)
{
	struct kvm_state_vcpu *st = malloc(sizeof(*st));
	uint8_t *area = malloc(4096);
	size_t msr_count_at, xcr_count_at;

	(void)state;
	assert_non_null(st);
	assert_non_null(area);
	fill(area, 4096);
	make_vcpu(st, 1, area, 4096, 1, 3);
	msr_count_at = OFF_FPU + 4 + 4096 + 4 + 12 + TAIL_SIZE;
	xcr_count_at = OFF_FPU + 4 + 4096;

	/* MSR count: more than the payload holds, far more, fewer than it holds. */
	assert_string_equal(refuse_patched(st, msr_count_at, 4, NR_CPUS),
			    "vcpu state's MSR count runs past the end of the section");
	assert_string_equal(refuse_patched(st, msr_count_at, KVM_STATE_MAX_MSRS + 1, NR_CPUS),
			    "vcpu state has more MSRs than genvm saves");
	assert_string_equal(refuse_patched(st, msr_count_at, 0xffffffffu, NR_CPUS),
			    "vcpu state has more MSRs than genvm saves");
	assert_string_equal(refuse_patched(st, msr_count_at, 2, NR_CPUS),
			    "vcpu state has trailing bytes");

	/* XSAVE length: too short, not a multiple of 4, too large, past the end. */
	assert_string_equal(refuse_patched(st, OFF_FPU, 4092, NR_CPUS),
			    "vcpu state has an XSAVE area of impossible length");
	assert_string_equal(refuse_patched(st, OFF_FPU, 4098, NR_CPUS),
			    "vcpu state has an XSAVE area of impossible length");
	assert_string_equal(refuse_patched(st, OFF_FPU, KVM_STATE_XSAVE_MAX + 4, NR_CPUS),
			    "vcpu state has an XSAVE area of impossible length");
	assert_string_equal(refuse_patched(st, OFF_FPU, 0xfffffffcu, NR_CPUS),
			    "vcpu state has an XSAVE area of impossible length");
	assert_string_equal(refuse_patched(st, OFF_FPU, KVM_STATE_XSAVE_MAX, NR_CPUS),
			    "vcpu state's XSAVE area runs past the end of the section");
	/* 4100 is plausible but shifts everything after it: caught by the end. */
	assert_non_null(refuse_patched(st, OFF_FPU, 4100, NR_CPUS));
	assert_non_null(refuse_patched(st, OFF_FPU, 0, NR_CPUS));

	/* XCR count. */
	assert_string_equal(refuse_patched(st, xcr_count_at, KVM_MAX_XCRS + 1, NR_CPUS),
			    "vcpu state has more XCRs than KVM takes");
	assert_non_null(refuse_patched(st, xcr_count_at, 2, NR_CPUS));
	free(area);
	free(st);
}

static void test_vcpu_bad_values(void **state)
{
	struct kvm_state_vcpu *st = malloc(sizeof(*st));
	size_t msrs_at, tail_at;

	(void)state;
	assert_non_null(st);
	make_vcpu(st, 0, NULL, 0, -1, 3);
	tail_at = OFF_FPU + FPU_SIZE;
	msrs_at = tail_at + TAIL_SIZE + 4;

	assert_string_equal(refuse_patched(st, OFF_FLAGS, 4, NR_CPUS),
			    "vcpu state has unknown flags");
	assert_string_equal(refuse_patched(st, OFF_FLAGS, 0x80000000u, NR_CPUS),
			    "vcpu state has unknown flags");
	/* The XSAVE flag on a legacy FPU payload: the lengths no longer fit. */
	assert_non_null(refuse_patched(st, OFF_FLAGS, KVM_STATE_VCPU_XSAVE, NR_CPUS));

	/* An MSR genvm does not restore, and one listed twice. */
	assert_string_equal(refuse_patched(st, msrs_at + 12, 0x3a /* FEATURE_CONTROL */, NR_CPUS),
			    "vcpu state holds an MSR genvm does not restore");
	assert_string_equal(refuse_patched(st, msrs_at + 24, some_msrs[0], NR_CPUS),
			    "vcpu state holds an MSR twice");

	/* mp_state sits just before the MSR count; event flags 8 bytes into events. */
	assert_string_equal(refuse_patched(st, msrs_at - 8, KVM_MP_STATE_STOPPED, NR_CPUS),
			    "vcpu state has an unknown run state");
	assert_string_equal(refuse_patched(st, msrs_at - 8, 11, NR_CPUS),
			    "vcpu state has an unknown run state");
	assert_string_equal(refuse_patched(st, tail_at + 48 + 1024 + 19, 0x40, NR_CPUS),
			    "vcpu state has unknown event flags");
	free(st);
}

static void test_vcpu_accepts_every_run_state(void **state)
{
	static const uint32_t ok[] = {
		KVM_MP_STATE_RUNNABLE, KVM_MP_STATE_UNINITIALIZED, KVM_MP_STATE_INIT_RECEIVED,
		KVM_MP_STATE_HALTED, KVM_MP_STATE_SIPI_RECEIVED, KVM_MP_STATE_AP_RESET_HOLD,
		KVM_MP_STATE_SUSPENDED,
	};
	struct kvm_state_vcpu *st = malloc(sizeof(*st));
	struct vmgenid_state_section s;
	struct vmgenid_bytebuf b;
	const char *why = NULL;
	unsigned int id;

	(void)state;
	assert_non_null(st);
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		make_vcpu(st, 0, NULL, 0, -1, 0);
		st->mp_state.mp_state = ok[i];
		encode_vcpu(st, &b, &s);
		assert_int_equal(kvm_state_check_vcpu_section(&s, 1, &id, &why), 0);
		vmgenid_bytebuf_free(&b);
	}
	free(st);
}

/* ---- MSR selection and reading ---- */

static void test_msr_select(void **state)
{
	/* What a KVM might list: some known, some not, in its own order. */
	static const uint32_t listed[] = {
		0x4b564d01, 0x10, 0x3a, 0xc0000082, 0x48, 0x6e0, 0xdeadbeef,
	};
	uint32_t out[KVM_STATE_MAX_MSRS];
	unsigned int n, i;

	(void)state;
	n = kvm_state_msr_select(listed, sizeof(listed) / sizeof(listed[0]), out);
	/* LSTAR, SPEC_CTRL; PAT and the 28 MTRRs; TSC, SYSTEM_TIME, TSC_DEADLINE. */
	assert_int_equal(n, 2 + 29 + 3);
	assert_int_equal(out[0], 0xc0000082);
	assert_int_equal(out[1], 0x48);
	assert_int_equal(out[2], 0x277); /* PAT: read even when not listed */
	assert_int_equal(out[3], 0x2ff);
	assert_int_equal(out[n - 3], 0x10);
	assert_int_equal(out[n - 2], 0x4b564d01);
	assert_int_equal(out[n - 1], 0x6e0); /* TSC_DEADLINE last */
	for (i = 0; i < n; i++) {
		assert_true(kvm_state_msr_known(out[i]));
		assert_int_not_equal(out[i], 0x3a);
	}
	/* A KVM that lists nothing still gets the MTRRs and PAT tried. */
	assert_int_equal(kvm_state_msr_select(NULL, 0, out), 29);

	assert_true(kvm_state_msr_known(0xc0000084));
	assert_true(kvm_state_msr_known(0x4b564d06));
	assert_true(kvm_state_msr_known(0x20f));
	assert_false(kvm_state_msr_known(0x210));
	assert_false(kvm_state_msr_known(0x4b564d07));
	assert_false(kvm_state_msr_known(0));
}

/* A fake KVM_GET_MSRS: MSRs in bad[] cannot be read; value = index * 3. */
struct fake_kvm {
	uint32_t bad[4];
	unsigned int nr_bad;
	unsigned int calls;
	int fail_call; /* this call fails outright (-1, EIO); -1 for never */
	int overcount; /* claim this many more than asked */
};

static int fake_get_msrs(void *opaque, struct kvm_msrs *m)
{
	struct fake_kvm *k = opaque;
	uint32_t i;

	if ((int)k->calls++ == k->fail_call) {
		errno = EIO;
		return -1;
	}
	for (i = 0; i < m->nmsrs; i++) {
		for (unsigned int j = 0; j < k->nr_bad; j++)
			if (m->entries[i].index == k->bad[j])
				return (int)i;
		m->entries[i].data = (uint64_t)m->entries[i].index * 3;
	}
	return (int)i + k->overcount;
}

static void test_read_msrs_drops_unreadable(void **state)
{
	static const uint32_t want[] = { 0x174, 0x175, 0x176, 0x10, 0x277, 0x6e0 };
	struct kvm_state_vcpu *st = malloc(sizeof(*st));
	struct fake_kvm k = { .bad = { 0x174, 0x10, 0x6e0 }, .nr_bad = 3, .fail_call = -1 };

	(void)state;
	assert_non_null(st);
	assert_int_equal(kvm_state_read_msrs(st, want, 6, fake_get_msrs, &k), 0);
	assert_int_equal(st->nr_msrs, 3);
	assert_int_equal(st->msrs[0].index, 0x175);
	assert_int_equal(st->msrs[0].data, 0x175 * 3);
	assert_int_equal(st->msrs[1].index, 0x176);
	assert_int_equal(st->msrs[2].index, 0x277);
	assert_int_equal(st->msrs[2].data, 0x277 * 3);
	assert_int_equal(st->msrs[2].reserved, 0);
	/* Fails at 0x174, 0x10 and 0x6e0; reads 0x175..0x176 and 0x277 between. */
	assert_int_equal(k.calls, 3);

	/* All readable: one call. */
	k.nr_bad = 0;
	k.calls = 0;
	assert_int_equal(kvm_state_read_msrs(st, want, 6, fake_get_msrs, &k), 0);
	assert_int_equal(st->nr_msrs, 6);
	assert_int_equal(k.calls, 1);

	/* None readable: nothing saved, one call per MSR. */
	memcpy(k.bad, want, 4 * sizeof(want[0]));
	k.nr_bad = 4;
	k.calls = 0;
	assert_int_equal(kvm_state_read_msrs(st, want, 4, fake_get_msrs, &k), 0);
	assert_int_equal(st->nr_msrs, 0);
	assert_int_equal(k.calls, 4);

	/* Nothing wanted: no call. */
	k.calls = 0;
	assert_int_equal(kvm_state_read_msrs(st, want, 0, fake_get_msrs, &k), 0);
	assert_int_equal(st->nr_msrs, 0);
	assert_int_equal(k.calls, 0);
	free(st);
}

static void test_read_msrs_errors(void **state)
{
	static const uint32_t want[] = { 0x174, 0x175, 0x176 };
	struct kvm_state_vcpu *st = malloc(sizeof(*st));
	struct fake_kvm k = { .bad = { 0x175 }, .nr_bad = 1, .fail_call = 1 };

	(void)state;
	assert_non_null(st);
	/* The retry after the unreadable one fails outright: an error, errno kept. */
	errno = 0;
	assert_int_equal(kvm_state_read_msrs(st, want, 3, fake_get_msrs, &k), -1);
	assert_int_equal(errno, EIO);

	/* A KVM claiming more than it was asked for is held to what it was asked. */
	k = (struct fake_kvm){ .fail_call = -1, .overcount = 5 };
	assert_int_equal(kvm_state_read_msrs(st, want, 3, fake_get_msrs, &k), 0);
	assert_int_equal(st->nr_msrs, 3);

	/* More than a vcpu state can hold. */
	errno = 0;
	assert_int_equal(kvm_state_read_msrs(st, want, KVM_STATE_MAX_MSRS + 1, fake_get_msrs, &k),
			 -1);
	assert_int_equal(errno, E2BIG);
	free(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_irqchip_round_trip),
		cmocka_unit_test(test_pit_round_trip),
		cmocka_unit_test(test_clock_round_trip),
		cmocka_unit_test(test_vm_sections_refuse_bad_lengths),
		cmocka_unit_test(test_vm_sections_refuse_bad_values),
		cmocka_unit_test(test_vcpu_round_trip_fpu),
		cmocka_unit_test(test_vcpu_round_trip_xsave),
		cmocka_unit_test(test_vcpu_every_truncation_refused),
		cmocka_unit_test(test_vcpu_bad_version_and_id),
		cmocka_unit_test(test_vcpu_bad_counts),
		cmocka_unit_test(test_vcpu_bad_values),
		cmocka_unit_test(test_vcpu_accepts_every_run_state),
		cmocka_unit_test(test_msr_select),
		cmocka_unit_test(test_read_msrs_drops_unreadable),
		cmocka_unit_test(test_read_msrs_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
