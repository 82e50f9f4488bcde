/* SPDX-License-Identifier: MIT */
/*
 * genvm starts us in 64-bit mode with paging on (low 4 GiB identity-mapped),
 * interrupts off, and RDI = the handoff block.  Take our own stack and go.
 */
#include "handoff.h"

	.section .fw_header, "a"
	.long FW_IMAGE_MAGIC
	.long FW_IMAGE_VERSION
	.quad __fw_start
	.quad fw_entry
	.quad __fw_mem_end

	.section .text.entry, "ax"
	.globl fw_entry
	.type fw_entry, @function
fw_entry:
	cli
	cld
	leaq fw_stack_top(%rip), %rsp
	xorl %ebp, %ebp
	call fw_main
1:	hlt
	jmp 1b

	.section .bss
	.balign 16
fw_stack:
	.skip 16384
fw_stack_top:

	.section .note.GNU-stack, "", @progbits
