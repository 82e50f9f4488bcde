/* SPDX-License-Identifier: MIT */
/*
 * A 16550A UART: what Linux's 8250 driver needs for a serial console.
 * Transmitted bytes go to an output fd at once (so THR is always empty);
 * received bytes are pushed in by the main loop.
 */
#ifndef GENVM_UART_H
#define GENVM_UART_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define UART_COM1_BASE 0x3f8
#define UART_COM1_IRQ 4
#define UART_NR_PORTS 8

struct vm;
struct uart;

/* out_fd receives what the guest transmits. NULL on allocation failure. */
struct uart *uart_new(struct vm *vm, unsigned int irq, int out_fd);
void uart_free(struct uart *u);
/* Power-on register state, IRQ line low (the irqchip is reset too). */
void uart_reset(struct uart *u);

/* The port I/O callback (io_fn), for io_register(). */
void uart_io(void *opaque, uint64_t addr, uint8_t *data, uint32_t len, bool is_write);

/*
 * Snapshot: append the "uart" section (registers and unread received
 * bytes); load checks the whole payload before it changes anything, then
 * drives the IRQ line from the restored registers (the irqchip must be
 * restored first).  Load: 0, or -EINVAL with *why.
 */
#define UART_STATE_ID "uart"
#define UART_STATE_VERSION 1
struct bytebuf;
int uart_save(struct uart *u, struct bytebuf *out);
int uart_load(struct uart *u, const uint8_t *payload, uint32_t length, uint32_t version,
	      const char **why);

/* How many bytes uart_receive() would take now. */
size_t uart_rx_room(struct uart *u);
/* Queue bytes from the host side as received data; returns how many fit. */
size_t uart_receive(struct uart *u, const uint8_t *buf, size_t len);

#endif
