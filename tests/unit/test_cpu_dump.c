// SPDX-License-Identifier: MIT
/*
 * The register dump of "info registers": lines checked against the ones
 * QEMU prints for the same state (a Linux kernel at rest in 64-bit mode, a
 * CPU just out of reset), so that a dump from either reads the same.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cpu_dump.h"
#include "vcpu.h"

static struct kvm_segment seg(uint16_t sel, uint64_t base, uint32_t limit, uint8_t type,
			      uint8_t s, uint8_t l, uint8_t db, uint8_t g)
{
	struct kvm_segment x = {
		.base = base, .limit = limit, .selector = sel, .type = type, .present = 1,
		.dpl = (uint8_t)(sel & 3), .db = db, .s = s, .l = l, .g = g,
	};
	return x;
}

/* Linux 6.1 idling in its kernel: the state of a typical QEMU dump. */
static void linux_idle(struct cpu_dump *d)
{
	memset(d, 0, sizeof(*d));
	d->regs.rax = 0x1234;
	d->regs.rsp = 0xffffffff82603e58;
	d->regs.r8 = 8;
	d->regs.r15 = 0xf;
	d->regs.rip = 0xffffffff81c3c4ce;
	d->regs.rflags = 0x246;
	d->sregs.cs = seg(0x10, 0, 0xffffffff, 0xb, 1, 1, 0, 1);
	d->sregs.ss = seg(0x18, 0, 0xffffffff, 0x3, 1, 0, 1, 1);
	d->sregs.ds = seg(0, 0, 0xffffffff, 0, 1, 0, 0, 0);
	d->sregs.ds.present = 0;
	d->sregs.es = d->sregs.ds;
	d->sregs.fs = d->sregs.ds;
	d->sregs.gs = seg(0, 0xffff88800f600000, 0xffffffff, 0, 1, 0, 0, 0);
	d->sregs.gs.present = 0;
	d->sregs.ldt = seg(0, 0, 0xffff, 0x2, 0, 0, 0, 0);
	d->sregs.ldt.present = 0;
	d->sregs.tr = seg(0x40, 0xfffffe0000003000, 0x4087, 0xb, 0, 0, 0, 0);
	d->sregs.gdt.base = 0xfffffe0000001000;
	d->sregs.gdt.limit = 0x7f;
	d->sregs.idt.base = 0xfffffe0000000000;
	d->sregs.idt.limit = 0xfff;
	d->sregs.cr0 = 0x80050033;
	d->sregs.cr2 = 0x7ffd1234;
	d->sregs.cr3 = 0x2a10000;
	d->sregs.cr4 = 0x3506f0;
	d->sregs.efer = 0xd01;
	d->debugregs.dr6 = 0xffff0ff0;
	d->debugregs.dr7 = 0x400;
	d->mp_state.mp_state = KVM_MP_STATE_HALTED;
}

static char *print(const struct cpu_dump *d)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	cpu_dump_print(d, f);
	assert_int_equal(fclose(f), 0);
	return text;
}

static void assert_has_line(const char *text, const char *line)
{
	const char *p = text;
	size_t n = strlen(line);

	while ((p = strstr(p, line))) {
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return;
		p += n;
	}
	fail_msg("no line '%s' in:\n%s", line, text);
}

static void test_long_mode_kernel(void **state)
{
	struct cpu_dump d;
	char *text;

	(void)state;
	linux_idle(&d);
	text = print(&d);
	assert_has_line(text, "RAX=0000000000001234 RBX=0000000000000000 RCX=0000000000000000 "
			      "RDX=0000000000000000");
	assert_has_line(text, "RSI=0000000000000000 RDI=0000000000000000 RBP=0000000000000000 "
			      "RSP=ffffffff82603e58");
	assert_has_line(text, "R8 =0000000000000008 R9 =0000000000000000 R10=0000000000000000 "
			      "R11=0000000000000000");
	assert_has_line(text, "R12=0000000000000000 R13=0000000000000000 R14=0000000000000000 "
			      "R15=000000000000000f");
	assert_has_line(text, "RIP=ffffffff81c3c4ce RFL=00000246 [---Z-P-] CPL=0 II=0 A20=1 SMM=0 HLT=1");
	/* These three are the lines QEMU prints for Linux's kernel segments. */
	assert_has_line(text, "CS =0010 0000000000000000 ffffffff 00a09b00 DPL=0 CS64 [-RA]");
	assert_has_line(text, "SS =0018 0000000000000000 ffffffff 00c09300 DPL=0 DS   [-WA]");
	assert_has_line(text, "TR =0040 fffffe0000003000 00004087 00008b00 DPL=0 TSS64-busy");
	assert_has_line(text, "DS =0000 0000000000000000 ffffffff 00001000");
	assert_has_line(text, "GS =0000 ffff88800f600000 ffffffff 00001000");
	assert_has_line(text, "LDT=0000 0000000000000000 0000ffff 00000200");
	assert_has_line(text, "GDT=     fffffe0000001000 0000007f");
	assert_has_line(text, "IDT=     fffffe0000000000 00000fff");
	assert_has_line(text, "CR0=80050033 CR2=000000007ffd1234 CR3=0000000002a10000 CR4=003506f0");
	assert_has_line(text, "DR0=0000000000000000 DR1=0000000000000000 DR2=0000000000000000 "
			      "DR3=0000000000000000");
	assert_has_line(text, "DR6=00000000ffff0ff0 DR7=0000000000000400");
	assert_has_line(text, "EFER=0000000000000d01");
	free(text);
}

/* Out of reset: real mode, where only selector, base, limit and flags mean anything. */
static void test_real_mode(void **state)
{
	struct cpu_dump d;
	char *text;

	(void)state;
	memset(&d, 0, sizeof(d));
	d.regs.rip = 0xfff0;
	d.regs.rflags = 0x2;
	d.regs.rdx = 0x663;
	d.sregs.cs = seg(0xf000, 0xffff0000, 0xffff, 0xb, 1, 0, 0, 0);
	d.sregs.ss = seg(0, 0, 0xffff, 0x3, 1, 0, 0, 0);
	d.sregs.cr0 = 0x60000010;
	d.debugregs.dr6 = 0xffff0ff0;
	d.debugregs.dr7 = 0x400;
	d.events.interrupt.shadow = 1;
	d.events.smi.smm = 1;
	text = print(&d);
	assert_has_line(text, "RIP=000000000000fff0 RFL=00000002 [-------] CPL=0 II=1 A20=1 SMM=1 HLT=0");
	assert_has_line(text, "CS =f000 00000000ffff0000 0000ffff 00009b00");
	assert_has_line(text, "SS =0000 0000000000000000 0000ffff 00009300");
	assert_has_line(text, "CR0=60000010 CR2=0000000000000000 CR3=0000000000000000 CR4=00000000");
	free(text);
}

/* Every flag letter in its place, and a 16/32-bit protected mode decode. */
static void test_flags_and_legacy_segments(void **state)
{
	struct cpu_dump d;
	char *text;

	(void)state;
	memset(&d, 0, sizeof(d));
	d.regs.rflags = 0xcd7; /* OF DF SF ZF AF PF CF, and the reserved bit 1 */
	d.sregs.cr0 = 1;
	d.sregs.cs = seg(0x8, 0, 0xffffffff, 0xe, 1, 0, 1, 1);  /* conforming, readable */
	d.sregs.ds = seg(0x10, 0, 0xffff, 0x6, 1, 0, 0, 0);     /* expand-down, writable */
	d.sregs.es = seg(0x18, 0, 0xffff, 0x8, 1, 0, 0, 0);     /* execute-only 16-bit */
	d.sregs.tr = seg(0x20, 0x1000, 0x67, 0x9, 0, 0, 0, 0);
	d.sregs.ss = seg(0x13, 0, 0xffffffff, 0x3, 1, 0, 1, 1);
	text = print(&d);
	assert_has_line(text, "RIP=0000000000000000 RFL=00000cd7 [DOSZAPC] CPL=3 II=0 A20=1 SMM=0 HLT=0");
	assert_has_line(text, "CS =0008 0000000000000000 ffffffff 00c09e00 DPL=0 CS32 [CR-]");
	assert_has_line(text, "DS =0010 0000000000000000 0000ffff 00009600 DPL=0 DS16 [EW-]");
	assert_has_line(text, "ES =0018 0000000000000000 0000ffff 00009800 DPL=0 CS16 [---]");
	assert_has_line(text, "TR =0020 0000000000001000 00000067 00008900 DPL=0 TSS32-avl");
	assert_has_line(text, "SS =0013 0000000000000000 ffffffff 00c0f300 DPL=3 DS   [-WA]");
	free(text);
}

static void test_summary(void **state)
{
	struct cpu_dump d;
	char buf[256];

	(void)state;
	linux_idle(&d);
	cpu_dump_summary(&d, buf, sizeof(buf));
	assert_string_equal(buf, "rip 0xffffffff81c3c4ce rsp 0xffffffff82603e58 cs 0x10 cr0 0x80050033 "
				 "cr2 0x7ffd1234 cr3 0x2a10000 cr4 0x3506f0 efer 0xd01");
	/* Cut to the buffer, still a string. */
	cpu_dump_summary(&d, buf, 12);
	assert_string_equal(buf, "rip 0xfffff");
}

/* A vCPU KVM will not read (here: no vCPU fd at all) names the ioctl. */
static void test_read_failure_names_the_ioctl(void **state)
{
	struct vcpu v = { .fd = -1 };
	struct cpu_dump d;
	const char *why = NULL;

	(void)state;
	assert_int_equal(cpu_dump_read(&v, &d, &why), -1);
	assert_string_equal(why, "KVM_GET_REGS");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_long_mode_kernel),
		cmocka_unit_test(test_real_mode),
		cmocka_unit_test(test_flags_and_legacy_segments),
		cmocka_unit_test(test_summary),
		cmocka_unit_test(test_read_failure_names_the_ioctl),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
