/* SPDX-License-Identifier: MIT */
/*
 * The -nographic console on stdio: keys go to the UART, except QEMU's
 * Ctrl-A commands: C-a x quits, C-a c switches between the guest console
 * and the human monitor (when the monitor shares stdio), C-a h prints
 * help, C-a C-a sends a C-a.  The guest's output reaches stdout straight
 * from the UART, whichever side has the keyboard, as in QEMU.  Under
 * -serial pty the keys come from the pty instead, all of them the guest's.
 */
#ifndef GENVM_CONSOLE_H
#define GENVM_CONSOLE_H

#include <stdbool.h>

#define CONSOLE_ESCAPE 0x01 /* Ctrl-A */

struct control;
struct loop;
struct uart;
struct console;

/*
 * with_monitor: C-a c reaches a human monitor on stdio.  pty_fd >= 0:
 * the keys come from that -serial pty instead, every byte to the guest
 * (the caller keeps the fd).  NULL: no memory.
 */
struct console *console_new(struct control *c, struct loop *l, struct uart *u,
			    bool with_monitor, int pty_fd);
void console_free(struct console *con);
/* Start reading stdin (or the pty). */
int console_start(struct console *con);

#endif
