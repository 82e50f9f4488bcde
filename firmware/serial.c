// SPDX-License-Identifier: MIT
/*
 * Output only, polled, on COM1 as genvm leaves it: nothing to configure, the
 * bytes go to genvm's stdout whatever the divisor says.
 */
#include "fw.h"

#define COM1 0x3f8
#define COM1_LSR (COM1 + 5)
#define LSR_THRE 0x20

static void serial_putc(char c)
{
	/* Bounded: a UART that never empties must not hang the error path. */
	for (unsigned int i = 0; i < 100000 && !(inb(COM1_LSR) & LSR_THRE); i++)
		;
	outb(COM1, (uint8_t)c);
}

void serial_puts(const char *s)
{
	for (; *s; s++) {
		if (*s == '\n')
			serial_putc('\r');
		serial_putc(*s);
	}
}

void serial_put_hex(uint64_t v)
{
	static const char digits[] = "0123456789abcdef";
	char buf[19];
	int i = 18;

	buf[i] = '\0';
	do {
		buf[--i] = digits[v & 0xf];
		v >>= 4;
	} while (v && i > 2);
	buf[--i] = 'x';
	buf[--i] = '0';
	serial_puts(buf + i);
}

void fw_fail(uint32_t code, const char *reason)
{
	serial_puts("genvm-fw: ");
	serial_puts(reason);
	serial_puts("\n");
	outl(HANDOFF_EXIT_PORT, code);
	for (;;)
		__asm__ __volatile__("cli; hlt");
}
