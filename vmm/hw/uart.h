/* SPDX-License-Identifier: MIT */
/*
 * A 16550A UART: what Linux's 8250 driver needs for a serial console.
 * Transmitted bytes are queued at once (so THR is always empty) and the
 * main loop writes them to the output fd without ever blocking on it: a
 * console nobody reads loses output beyond UART_OUT_MAX bytes, counted,
 * and never stalls the guest or the loop.  Received bytes are pushed in by
 * the main loop.
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

/* Transmitted bytes waiting for the output fd, at most. */
#define UART_OUT_MAX (256u << 10)

/*
 * out_fd receives what the guest transmits (-1: nothing does); it should
 * be non-blocking.  NULL on allocation failure.
 */
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
struct vmgenid_bytebuf;
int uart_save(struct uart *u, struct vmgenid_bytebuf *out);
int uart_load(struct uart *u, const uint8_t *payload, uint32_t length, uint32_t version,
	      const char **why);

/*
 * Output.  notify runs (in a vCPU thread, under the UART's lock: it may
 * only wake someone) when transmitted bytes start waiting, and when the
 * first byte is dropped; that someone
 * then calls uart_flush_output() until it returns 0.  Flush writes what
 * it can: 0 when all is written, 1 when out_fd would block (wait until it
 * is writable), -errno when it failed (the bytes are dropped, uncounted,
 * as for a console that went away).
 */
void uart_set_output_notify(struct uart *u, void (*notify)(void *opaque), void *opaque);
int uart_flush_output(struct uart *u);
int uart_output_fd(const struct uart *u);
/*
 * Where the output goes from now on (main loop): an fd, -1 (nowhere:
 * dropped), or UART_OUT_HOLD: queued, flush writing nothing and
 * answering 1, as for a console that would block.  A socket console
 * holds while no client is connected (uart_new() takes it too).
 */
#define UART_OUT_HOLD (-2)
void uart_set_output_fd(struct uart *u, int fd);
/* Bytes the guest sent that did not fit in the queue. */
uint64_t uart_output_dropped(struct uart *u);

/* How many bytes uart_receive() would take now. */
size_t uart_rx_room(struct uart *u);
/* Queue bytes from the host side as received data; returns how many fit. */
size_t uart_receive(struct uart *u, const uint8_t *buf, size_t len);

#endif
