// SPDX-License-Identifier: MIT
/*
 * Register semantics from the 16550A data sheet (TI/National): IIR reports
 * the highest-priority pending source, reading IIR acknowledges a THR-empty
 * interrupt, writing THR does too, reading RBR drains the FIFO.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmgenid/bytebuf.h"
#include "vmgenid/endian.h"
#include "vmgenid/state.h"

#include "uart.h"
#include "vm.h"

/* Register offsets */
#define REG_RBR_THR_DLL 0
#define REG_IER_DLM 1
#define REG_IIR_FCR 2
#define REG_LCR 3
#define REG_MCR 4
#define REG_LSR 5
#define REG_MSR 6
#define REG_SCR 7

#define IER_RDI 0x01  /* received data available */
#define IER_THRI 0x02 /* THR empty */
#define IER_RLSI 0x04 /* receiver line status */
#define IER_MSI 0x08  /* modem status */

#define IIR_NO_INT 0x01
#define IIR_MSI 0x00
#define IIR_THRI 0x02
#define IIR_RDI 0x04
#define IIR_RLSI 0x06
#define IIR_ID_MASK 0x0f
#define IIR_FIFO_ON 0xc0

#define FCR_ENABLE 0x01
#define FCR_CLEAR_RX 0x02

#define LCR_DLAB 0x80

#define MCR_DTR 0x01
#define MCR_RTS 0x02
#define MCR_OUT1 0x04
#define MCR_OUT2 0x08
#define MCR_LOOP 0x10

#define LSR_DR 0x01
#define LSR_OE 0x02
#define LSR_BI 0x10
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define LSR_ERRORS 0x1e

#define MSR_DCTS 0x01
#define MSR_DDSR 0x02
#define MSR_DELTAS 0x0f
#define MSR_CTS 0x10
#define MSR_DSR 0x20
#define MSR_RI 0x40
#define MSR_DCD 0x80

/* Bigger than the chip's 16 bytes: the guest cannot tell, and pastes fit. */
#define RX_BUF_SIZE 256

struct uart {
	pthread_mutex_t lock;
	struct vm *vm;
	unsigned int irq;
	int out_fd;
	bool line;          /* level we last put on the IRQ line */

	uint8_t ier, iir, fcr, lcr, mcr, lsr, msr, scr, dll, dlm;
	bool thr_ipending;

	uint8_t rx[RX_BUF_SIZE];
	size_t rx_head, rx_count;

	/*
	 * Transmitted bytes on their way to out_fd, which the main loop
	 * writes (uart_flush_output): a ring of UART_OUT_MAX bytes.  Host
	 * state, not the guest's: a reset or a snapshot leaves it alone.
	 */
	uint8_t *out;
	size_t out_head, out_len;
	uint64_t out_dropped;
	void (*out_notify)(void *opaque);
	void *out_opaque;
};

static void power_on(struct uart *u)
{
	u->ier = u->fcr = u->lcr = u->mcr = u->scr = u->dlm = 0;
	u->thr_ipending = false;
	u->rx_head = u->rx_count = 0;
	u->line = false;
	u->iir = IIR_NO_INT;
	u->lsr = LSR_THRE | LSR_TEMT;
	/* A terminal is connected: carrier, data set ready, clear to send. */
	u->msr = MSR_DCD | MSR_DSR | MSR_CTS;
	u->dll = 0x0c; /* 9600 baud, the power-on divisor */
}

struct uart *uart_new(struct vm *vm, unsigned int irq, int out_fd)
{
	struct uart *u = calloc(1, sizeof(*u));

	if (!u)
		return NULL;
	u->out = malloc(UART_OUT_MAX);
	if (!u->out) {
		free(u);
		return NULL;
	}
	pthread_mutex_init(&u->lock, NULL);
	u->vm = vm;
	u->irq = irq;
	u->out_fd = out_fd;
	power_on(u);
	return u;
}

void uart_reset(struct uart *u)
{
	pthread_mutex_lock(&u->lock);
	power_on(u);
	pthread_mutex_unlock(&u->lock);
}

void uart_free(struct uart *u)
{
	if (!u)
		return;
	pthread_mutex_destroy(&u->lock);
	free(u->out);
	free(u);
}

void uart_set_output_notify(struct uart *u, void (*notify)(void *opaque), void *opaque)
{
	pthread_mutex_lock(&u->lock);
	u->out_notify = notify;
	u->out_opaque = opaque;
	pthread_mutex_unlock(&u->lock);
}

int uart_output_fd(const struct uart *u)
{
	return u->out_fd;
}

void uart_set_output_fd(struct uart *u, int fd)
{
	pthread_mutex_lock(&u->lock);
	u->out_fd = fd;
	pthread_mutex_unlock(&u->lock);
}

/*
 * Queue a transmitted byte.  The guest never waits for the host side: a
 * full queue drops the byte and counts it.
 */
static void out_push(struct uart *u, uint8_t c)
{
	if (u->out_fd < 0 && u->out_fd != UART_OUT_HOLD)
		return;
	if (u->out_len == UART_OUT_MAX) {
		/* The first loss is news too: the loop says so. */
		if (u->out_dropped++ == 0 && u->out_notify)
			u->out_notify(u->out_opaque);
		return;
	}
	u->out[(u->out_head + u->out_len) % UART_OUT_MAX] = c;
	/* The main loop hears of the first byte; it writes the rest with it. */
	if (u->out_len++ == 0 && u->out_notify)
		u->out_notify(u->out_opaque);
}

int uart_flush_output(struct uart *u)
{
	int ret = 0;

	pthread_mutex_lock(&u->lock);
	/* Nobody to write to yet: everything waits, as for a full console. */
	if (u->out_fd == UART_OUT_HOLD)
		ret = u->out_len ? 1 : 0;
	while (u->out_len && u->out_fd != UART_OUT_HOLD) {
		size_t run = UART_OUT_MAX - u->out_head;
		ssize_t n = write(u->out_fd, u->out + u->out_head, u->out_len < run ? u->out_len : run);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			ret = 1;
			break;
		}
		if (n <= 0) {
			/* The console failed or went away: what it had is lost. */
			ret = n < 0 ? -errno : -EPIPE;
			u->out_len = 0;
			break;
		}
		u->out_head = (u->out_head + (size_t)n) % UART_OUT_MAX;
		u->out_len -= (size_t)n;
	}
	if (!u->out_len)
		u->out_head = 0;
	pthread_mutex_unlock(&u->lock);
	return ret;
}

uint64_t uart_output_dropped(struct uart *u)
{
	uint64_t n;

	pthread_mutex_lock(&u->lock);
	n = u->out_dropped;
	pthread_mutex_unlock(&u->lock);
	return n;
}

/*
 * Recompute IIR and drive the line.  ISA interrupts are edge-triggered, so a
 * new event while the line is already high needs a fresh rising edge:
 * "pulse" forces one.
 */
static void update_irq(struct uart *u, bool pulse)
{
	uint8_t id = IIR_NO_INT;
	bool level;

	if ((u->ier & IER_RLSI) && (u->lsr & LSR_ERRORS))
		id = IIR_RLSI;
	else if ((u->ier & IER_RDI) && (u->lsr & LSR_DR))
		id = IIR_RDI;
	else if ((u->ier & IER_THRI) && u->thr_ipending)
		id = IIR_THRI;
	else if ((u->ier & IER_MSI) && (u->msr & MSR_DELTAS))
		id = IIR_MSI;
	u->iir = (uint8_t)(id | ((u->fcr & FCR_ENABLE) ? IIR_FIFO_ON : 0));

	level = id != IIR_NO_INT;
	if (level && u->line && pulse) {
		vm_irq_line(u->vm, u->irq, 0);
		vm_irq_line(u->vm, u->irq, 1);
	} else if (level != u->line) {
		vm_irq_line(u->vm, u->irq, level);
	}
	u->line = level;
}

static void rx_push(struct uart *u, uint8_t c)
{
	if (u->rx_count == RX_BUF_SIZE) {
		u->lsr |= LSR_OE;
		return;
	}
	u->rx[(u->rx_head + u->rx_count) % RX_BUF_SIZE] = c;
	u->rx_count++;
	u->lsr |= LSR_DR;
}

static uint8_t rx_pop(struct uart *u)
{
	uint8_t c = 0;

	if (u->rx_count) {
		c = u->rx[u->rx_head];
		u->rx_head = (u->rx_head + 1) % RX_BUF_SIZE;
		u->rx_count--;
	}
	if (!u->rx_count)
		u->lsr &= (uint8_t)~LSR_DR;
	return c;
}

static void transmit(struct uart *u, uint8_t c)
{
	if (u->mcr & MCR_LOOP)
		rx_push(u, c);
	else
		out_push(u, c);
	/* Sent at once: the holding register is empty again. */
	u->lsr |= LSR_THRE | LSR_TEMT;
	u->thr_ipending = true;
	update_irq(u, true);
}

/* In loopback the modem inputs follow the modem outputs. */
static uint8_t read_msr(struct uart *u)
{
	uint8_t v = u->msr;

	if (u->mcr & MCR_LOOP) {
		v = (uint8_t)(((u->mcr & MCR_RTS) ? MSR_CTS : 0) |
			      ((u->mcr & MCR_DTR) ? MSR_DSR : 0) |
			      ((u->mcr & MCR_OUT1) ? MSR_RI : 0) |
			      ((u->mcr & MCR_OUT2) ? MSR_DCD : 0));
	}
	u->msr &= (uint8_t)~MSR_DELTAS;
	update_irq(u, false);
	return v;
}

static uint8_t uart_read(struct uart *u, unsigned int reg)
{
	uint8_t v;

	switch (reg) {
	case REG_RBR_THR_DLL:
		if (u->lcr & LCR_DLAB)
			return u->dll;
		v = rx_pop(u);
		update_irq(u, false);
		return v;
	case REG_IER_DLM:
		return (u->lcr & LCR_DLAB) ? u->dlm : u->ier;
	case REG_IIR_FCR:
		v = u->iir;
		if ((v & IIR_ID_MASK) == IIR_THRI) {
			u->thr_ipending = false;
			update_irq(u, false);
		}
		return v;
	case REG_LCR:
		return u->lcr;
	case REG_MCR:
		return u->mcr;
	case REG_LSR:
		v = u->lsr;
		if (u->lsr & (LSR_OE | LSR_BI)) {
			u->lsr &= (uint8_t)~(LSR_OE | LSR_BI);
			update_irq(u, false);
		}
		return v;
	case REG_MSR:
		return read_msr(u);
	default:
		return u->scr;
	}
}

static void uart_write(struct uart *u, unsigned int reg, uint8_t v)
{
	uint8_t changed;

	switch (reg) {
	case REG_RBR_THR_DLL:
		if (u->lcr & LCR_DLAB)
			u->dll = v;
		else
			transmit(u, v);
		break;
	case REG_IER_DLM:
		if (u->lcr & LCR_DLAB) {
			u->dlm = v;
			break;
		}
		changed = (u->ier ^ v) & 0x0f;
		u->ier = v & 0x0f;
		if (changed & IER_THRI)
			u->thr_ipending = (u->ier & IER_THRI) && (u->lsr & LSR_THRE);
		if (changed)
			update_irq(u, true);
		break;
	case REG_IIR_FCR:
		u->fcr = v & 0xc9;
		if (v & FCR_CLEAR_RX) {
			u->rx_head = u->rx_count = 0;
			u->lsr &= (uint8_t)~LSR_DR;
		}
		update_irq(u, false);
		break;
	case REG_LCR:
		u->lcr = v;
		break;
	case REG_MCR:
		u->mcr = v & 0x1f;
		break;
	case REG_SCR:
		u->scr = v;
		break;
	default:
		/* LSR and MSR are read-only. */
		break;
	}
}

void uart_io(void *opaque, uint64_t addr, uint8_t *data, uint32_t len, bool is_write)
{
	struct uart *u = opaque;

	/* Byte registers: wider accesses are not something a driver does. */
	if (len != 1 || addr >= UART_NR_PORTS)
		return;
	pthread_mutex_lock(&u->lock);
	if (is_write)
		uart_write(u, (unsigned int)addr, data[0]);
	else
		data[0] = uart_read(u, (unsigned int)addr);
	pthread_mutex_unlock(&u->lock);
}

size_t uart_rx_room(struct uart *u)
{
	size_t room;

	pthread_mutex_lock(&u->lock);
	room = RX_BUF_SIZE - u->rx_count;
	pthread_mutex_unlock(&u->lock);
	return room;
}

size_t uart_receive(struct uart *u, const uint8_t *buf, size_t len)
{
	size_t n = 0;

	pthread_mutex_lock(&u->lock);
	/* Loopback disconnects the receiver from the outside. */
	if (!(u->mcr & MCR_LOOP)) {
		while (n < len && u->rx_count < RX_BUF_SIZE)
			rx_push(u, buf[n++]);
		if (n)
			update_irq(u, true);
	}
	pthread_mutex_unlock(&u->lock);
	return n;
}

/* ---- snapshot ---- */

/* The ten registers, thr_ipending, the line level, le16 count, the bytes. */
#define UART_STATE_FIXED 14

int uart_save(struct uart *u, struct vmgenid_bytebuf *out)
{
	size_t start = vmgenid_state_section_begin(out, UART_STATE_ID, UART_STATE_VERSION);

	pthread_mutex_lock(&u->lock);
	const uint8_t regs[10] = { u->ier, u->iir, u->fcr, u->lcr, u->mcr,
				   u->lsr, u->msr, u->scr, u->dll, u->dlm };

	vmgenid_bytebuf_append(out, regs, sizeof(regs));
	vmgenid_bytebuf_put_u8(out, u->thr_ipending);
	vmgenid_bytebuf_put_u8(out, u->line);
	/* Unread input in arrival order, so the ring's position is not state. */
	vmgenid_bytebuf_put_le16(out, (uint16_t)u->rx_count);
	for (size_t i = 0; i < u->rx_count; i++)
		vmgenid_bytebuf_put_u8(out, u->rx[(u->rx_head + i) % RX_BUF_SIZE]);
	pthread_mutex_unlock(&u->lock);
	vmgenid_state_section_end(out, start);
	return vmgenid_bytebuf_failed(out) ? -ENOMEM : 0;
}

int uart_load(struct uart *u, const uint8_t *payload, uint32_t length, uint32_t version,
	      const char **why)
{
	uint16_t count;

	if (version != UART_STATE_VERSION) {
		*why = "unsupported uart state version";
		return -EINVAL;
	}
	if (length < UART_STATE_FIXED) {
		*why = "uart state is truncated";
		return -EINVAL;
	}
	count = vmgenid_get_le16(payload + 12);
	if (count > RX_BUF_SIZE || length != UART_STATE_FIXED + (uint32_t)count) {
		*why = "uart state has the wrong length for its receive buffer";
		return -EINVAL;
	}
	if (payload[10] > 1 || payload[11] > 1) {
		*why = "uart state has a flag that is neither 0 nor 1";
		return -EINVAL;
	}

	pthread_mutex_lock(&u->lock);
	u->ier = payload[0];
	u->iir = payload[1];
	u->fcr = payload[2];
	u->lcr = payload[3];
	u->mcr = payload[4];
	u->lsr = payload[5];
	u->msr = payload[6];
	u->scr = payload[7];
	u->dll = payload[8];
	u->dlm = payload[9];
	u->thr_ipending = payload[10];
	u->rx_head = 0;
	u->rx_count = count;
	memcpy(u->rx, payload + UART_STATE_FIXED, count);
	/*
	 * The restored irqchip has its own idea of the line; KVM's level for
	 * this source starts low, so raise it again if the registers say so.
	 */
	u->line = false;
	update_irq(u, false);
	pthread_mutex_unlock(&u->lock);
	return 0;
}
