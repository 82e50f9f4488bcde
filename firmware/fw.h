/* SPDX-License-Identifier: MIT */
/*
 * What the firmware's phases share: port I/O, the COM1 console, failure.
 * Guest-physical memory is identity-mapped (genvm's page tables), so a
 * guest address is also a pointer.
 */
#ifndef GENVM_FW_H
#define GENVM_FW_H

#include <stddef.h>
#include <stdint.h>

#include "handoff.h"

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ __volatile__("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outw(uint16_t port, uint16_t v)
{
	__asm__ __volatile__("outw %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outl(uint16_t port, uint32_t v)
{
	__asm__ __volatile__("outl %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;

	__asm__ __volatile__("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint32_t inl(uint16_t port)
{
	uint32_t v;

	__asm__ __volatile__("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline void *phys(uint64_t addr)
{
	return (void *)(uintptr_t)addr;
}

/* serial.c */
void serial_puts(const char *s);
void serial_put_hex(uint64_t v);

/* Print "genvm-fw: <reason>", report code to genvm, stop.  Never returns. */
__attribute__((noreturn)) void fw_fail(uint32_t code, const char *reason);

/* string.c: what the compiler may call even in freestanding code. */
void *memcpy(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int fw_streq(const char *a, const char *b);

/* tables.c */
void fw_cfg_setup(void);
/* Run etc/table-loader; returns the RSDP's guest address. */
uint64_t load_tables(const struct handoff *h);

/* linux.c */
__attribute__((noreturn)) void boot_linux(const struct handoff *h, uint64_t rsdp);

#endif
