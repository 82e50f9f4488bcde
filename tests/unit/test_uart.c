// SPDX-License-Identifier: MIT
/*
 * The 16550A model, driven only through its port callback as the guest's
 * 8250 driver would, with the interrupt line observed through a stand-in
 * for KVM_IRQ_LINE.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <cmocka.h>

#include "vmgenid/bytebuf.h"
#include "vmgenid/state.h"

#include "uart.h"
#include "vm.h"

/* Registers */
#define THR 0
#define RBR 0
#define DLL 0
#define IER 1
#define DLM 1
#define IIR 2
#define FCR 2
#define LCR 3
#define MCR 4
#define LSR 5
#define MSR 6
#define SCR 7

static int line_level;
static int line_rises; /* 0 -> 1 transitions seen */

void vm_irq_line(struct vm *vm, unsigned int irq, int level)
{
	(void)vm;
	assert_int_equal(irq, UART_COM1_IRQ);
	if (level && !line_level)
		line_rises++;
	line_level = level;
}

struct fixture {
	struct uart *u;
	int pipe[2];
};

static int setup(void **state)
{
	static struct fixture f;

	line_level = 0;
	line_rises = 0;
	if (pipe(f.pipe) < 0)
		return -1;
	fcntl(f.pipe[0], F_SETFL, O_NONBLOCK);
	f.u = uart_new(NULL, UART_COM1_IRQ, f.pipe[1]);
	*state = &f;
	return f.u ? 0 : -1;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	uart_free(f->u);
	close(f->pipe[0]);
	close(f->pipe[1]);
	return 0;
}

static uint8_t rd(struct uart *u, unsigned int reg)
{
	uint8_t v = 0xee;

	uart_io(u, reg, &v, 1, false);
	return v;
}

static void wr(struct uart *u, unsigned int reg, uint8_t v)
{
	uart_io(u, reg, &v, 1, true);
}

static void test_reset_state(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(rd(f->u, LSR), 0x60); /* THRE | TEMT */
	assert_int_equal(rd(f->u, IIR), 0x01); /* nothing pending, FIFOs off */
	assert_int_equal(rd(f->u, IER), 0);
	/* A terminal is attached: DCD, DSR, CTS. */
	assert_int_equal(rd(f->u, MSR) & 0xf0, 0xb0);
	assert_int_equal(line_level, 0);
}

static void test_transmit_goes_to_the_fd(void **state)
{
	struct fixture *f = *state;
	char buf[8];

	wr(f->u, THR, 'o');
	wr(f->u, THR, 'k');
	/* Queued: the main loop writes it. */
	assert_int_equal(uart_flush_output(f->u), 0);
	assert_int_equal(read(f->pipe[0], buf, sizeof(buf)), 2);
	assert_memory_equal(buf, "ok", 2);
	assert_int_equal(rd(f->u, LSR) & 0x60, 0x60);
	/* Without IER the line never moves. */
	assert_int_equal(line_rises, 0);
}

static void test_thre_interrupt(void **state)
{
	struct fixture *f = *state;

	/* Enabling THRI with an empty THR raises it at once. */
	wr(f->u, IER, 0x02);
	assert_int_equal(line_level, 1);
	assert_int_equal(rd(f->u, IIR) & 0x0f, 0x02);
	/* Reading IIR acknowledged it. */
	assert_int_equal(line_level, 0);
	assert_int_equal(rd(f->u, IIR) & 0x0f, 0x01);

	/* Each byte sent makes THR empty again: a fresh edge each time. */
	wr(f->u, THR, 'a');
	assert_int_equal(line_level, 1);
	assert_int_equal(line_rises, 2);
	wr(f->u, THR, 'b');
	assert_int_equal(line_rises, 3);
	assert_int_equal(rd(f->u, IIR) & 0x0f, 0x02);
	assert_int_equal(line_level, 0);

	/* Disabling THRI drops a pending one. */
	wr(f->u, THR, 'c');
	assert_int_equal(line_level, 1);
	wr(f->u, IER, 0);
	assert_int_equal(line_level, 0);
	assert_int_equal(rd(f->u, IIR) & 0x0f, 0x01);
}

static void test_receive(void **state)
{
	struct fixture *f = *state;
	const uint8_t in[] = "hi";

	/* Data without RDI enabled: DR set, no interrupt. */
	assert_int_equal(uart_receive(f->u, in, 2), 2);
	assert_int_equal(rd(f->u, LSR) & 0x01, 0x01);
	assert_int_equal(line_level, 0);

	wr(f->u, IER, 0x01);
	assert_int_equal(line_level, 1);
	assert_int_equal(rd(f->u, IIR) & 0x0f, 0x04);
	assert_int_equal(rd(f->u, RBR), 'h');
	assert_int_equal(line_level, 1);
	assert_int_equal(rd(f->u, RBR), 'i');
	/* Drained: DR clear, line low, IIR idle. */
	assert_int_equal(rd(f->u, LSR) & 0x01, 0);
	assert_int_equal(line_level, 0);
	assert_int_equal(rd(f->u, IIR) & 0x0f, 0x01);

	/* New data is a new edge. */
	assert_int_equal(uart_receive(f->u, in, 1), 1);
	assert_int_equal(line_level, 1);
	assert_int_equal(line_rises, 2);
}

static void test_receive_priority_over_thre(void **state)
{
	struct fixture *f = *state;
	const uint8_t in = 'x';

	wr(f->u, IER, 0x03);
	uart_receive(f->u, &in, 1);
	assert_int_equal(rd(f->u, IIR) & 0x0f, 0x04);
	assert_int_equal(rd(f->u, RBR), 'x');
	assert_int_equal(rd(f->u, IIR) & 0x0f, 0x02);
}

static void test_receive_room_and_overrun(void **state)
{
	struct fixture *f = *state;
	uint8_t big[300];
	size_t room = uart_rx_room(f->u);

	memset(big, 'z', sizeof(big));
	assert_true(room > 16);
	assert_int_equal(uart_receive(f->u, big, sizeof(big)), room);
	assert_int_equal(uart_rx_room(f->u), 0);
	assert_int_equal(uart_receive(f->u, big, 1), 0);
	/* FCR bit 1 clears the receive FIFO. */
	wr(f->u, FCR, 0x03);
	assert_int_equal(rd(f->u, LSR) & 0x01, 0);
	assert_int_equal(uart_rx_room(f->u), room);
	assert_int_equal(rd(f->u, IIR) & 0xc0, 0xc0); /* FIFOs on */
}

static void test_divisor_latch(void **state)
{
	struct fixture *f = *state;
	char buf[4];

	wr(f->u, LCR, 0x83);
	wr(f->u, DLL, 0x01);
	wr(f->u, DLM, 0x00);
	assert_int_equal(rd(f->u, DLL), 0x01);
	assert_int_equal(rd(f->u, DLM), 0x00);
	/* With DLAB set, offset 0 is not THR: nothing is sent. */
	assert_int_equal(read(f->pipe[0], buf, sizeof(buf)), -1);
	wr(f->u, LCR, 0x03);
	assert_int_equal(rd(f->u, LCR), 0x03);
	assert_int_equal(rd(f->u, IER), 0);
}

static void test_loopback(void **state)
{
	struct fixture *f = *state;
	char buf[4];
	const uint8_t in = 'q';

	/* The 8250 driver's probe: MCR loop with OUT2 | RTS, expect DCD | CTS. */
	wr(f->u, MCR, 0x1a);
	assert_int_equal(rd(f->u, MSR) & 0xf0, 0x90);
	wr(f->u, MCR, 0x1f);
	assert_int_equal(rd(f->u, MSR) & 0xf0, 0xf0);
	/* Sent bytes come back instead of leaving; the outside is cut off. */
	wr(f->u, THR, 'L');
	assert_int_equal(read(f->pipe[0], buf, sizeof(buf)), -1);
	assert_int_equal(uart_receive(f->u, &in, 1), 0);
	assert_int_equal(rd(f->u, RBR), 'L');
	wr(f->u, MCR, 0x03);
	assert_int_equal(rd(f->u, MSR) & 0xf0, 0xb0);
}

static void test_scratch_and_odd_accesses(void **state)
{
	struct fixture *f = *state;
	uint8_t wide[2] = { 0x12, 0x34 };

	wr(f->u, SCR, 0x5a);
	assert_int_equal(rd(f->u, SCR), 0x5a);
	/* LSR and MSR ignore writes. */
	wr(f->u, LSR, 0);
	assert_int_equal(rd(f->u, LSR) & 0x60, 0x60);
	/* Wider accesses and offsets past the block are ignored. */
	uart_io(f->u, SCR - 1, wide, 2, true);
	assert_int_equal(rd(f->u, SCR), 0x5a);
	wide[0] = 0xaa;
	uart_io(f->u, 8, wide, 1, true);
	uart_io(f->u, 8, wide, 1, false);
	assert_int_equal(wide[0], 0xaa);
}

/* Save into a bytebuf and hand back the one section's payload. */
static void save_section(struct uart *u, struct vmgenid_bytebuf *b, struct vmgenid_state_section *sec)
{
	struct vmgenid_state_reader r;
	const char *why = NULL;

	vmgenid_bytebuf_init(b);
	assert_int_equal(uart_save(u, b), 0);
	vmgenid_state_reader_init(&r, b->data, b->len);
	assert_int_equal(vmgenid_state_reader_next(&r, sec, &why), 1);
	assert_string_equal(sec->id, UART_STATE_ID);
	assert_int_equal(sec->version, UART_STATE_VERSION);
}

static void test_snapshot_round_trip(void **state)
{
	struct fixture *f = *state;
	struct vmgenid_state_section sec;
	struct vmgenid_bytebuf b;
	const char *why = NULL;
	struct uart *copy;

	/* Divisor 3, 8N1, FIFOs on, receive interrupt on, two unread bytes. */
	wr(f->u, LCR, 0x83);
	wr(f->u, DLL, 3);
	wr(f->u, LCR, 0x03);
	wr(f->u, FCR, 0x01);
	wr(f->u, MCR, 0x0b);
	wr(f->u, SCR, 0x5a);
	wr(f->u, IER, 0x01);
	assert_int_equal(uart_receive(f->u, (const uint8_t *)"hi", 2), 2);
	assert_int_equal(line_level, 1);
	save_section(f->u, &b, &sec);

	copy = uart_new(NULL, UART_COM1_IRQ, f->pipe[1]);
	assert_non_null(copy);
	line_level = 0;
	line_rises = 0;
	assert_int_equal(uart_load(copy, sec.payload, sec.length, sec.version, &why), 0);
	/* The pending receive interrupt is on the line again. */
	assert_int_equal(line_level, 1);
	assert_int_equal(rd(copy, SCR), 0x5a);
	assert_int_equal(rd(copy, LCR), 0x03);
	assert_int_equal(rd(copy, MCR), 0x0b);
	assert_int_equal(rd(copy, IIR) & 0x0f, 0x04);
	assert_int_equal(rd(copy, RBR), 'h');
	assert_int_equal(rd(copy, RBR), 'i');
	assert_int_equal(rd(copy, LSR) & 0x01, 0);
	assert_int_equal(line_level, 0);
	wr(copy, LCR, 0x83);
	assert_int_equal(rd(copy, DLL), 3);
	uart_free(copy);
	vmgenid_bytebuf_free(&b);
}

static void test_snapshot_bad_payloads_change_nothing(void **state)
{
	struct fixture *f = *state;
	struct vmgenid_state_section sec;
	struct vmgenid_bytebuf b;
	uint8_t bad[14 + 256];
	const char *why;

	wr(f->u, SCR, 0x77);
	assert_int_equal(uart_receive(f->u, (const uint8_t *)"abc", 3), 3);
	save_section(f->u, &b, &sec);
	memcpy(bad, sec.payload, sec.length);
	wr(f->u, SCR, 0x11);

	/* Every truncation. */
	for (uint32_t len = 0; len < sec.length; len++) {
		why = NULL;
		assert_int_equal(uart_load(f->u, bad, len, 1, &why), -EINVAL);
		assert_non_null(why);
	}
	why = NULL;
	assert_int_equal(uart_load(f->u, bad, sec.length, 2, &why), -EINVAL);
	assert_non_null(strstr(why, "version"));
	/* A count beyond the buffer, or one that disagrees with the length. */
	bad[12] = 0x01;
	bad[13] = 0x01;
	assert_int_equal(uart_load(f->u, bad, sec.length, 1, &why), -EINVAL);
	bad[12] = 4;
	bad[13] = 0;
	assert_int_equal(uart_load(f->u, bad, sec.length, 1, &why), -EINVAL);
	bad[12] = 3;
	bad[10] = 2;
	assert_int_equal(uart_load(f->u, bad, sec.length, 1, &why), -EINVAL);
	assert_non_null(strstr(why, "flag"));
	/* Nothing was applied. */
	assert_int_equal(rd(f->u, SCR), 0x11);
	assert_int_equal(rd(f->u, RBR), 'a');
	vmgenid_bytebuf_free(&b);
}

static int notified;

static void count_notify(void *opaque)
{
	(void)opaque;
	notified++;
}

/*
 * A console nobody reads: the guest's writes never block, the queue keeps
 * UART_OUT_MAX bytes beyond what the pipe holds, the rest is counted as
 * dropped; what does arrive is the guest's output, in order, once read.
 */
static void test_output_nobody_reads(void **state)
{
	struct fixture *f = *state;
	const size_t total = 2 * UART_OUT_MAX + 12345;
	size_t got = 0;
	uint8_t buf[4096];
	int in_pipe = 0;
	ssize_t n;

	fcntl(f->pipe[1], F_SETFL, O_NONBLOCK);
	notified = 0;
	uart_set_output_notify(f->u, count_notify, NULL);
	for (size_t i = 0; i < total; i++)
		wr(f->u, THR, (uint8_t)(i % 251));
	/* The loop heard of the first byte and of the first loss, no more. */
	assert_int_equal(notified, 2);
	assert_int_equal(uart_output_dropped(f->u), total - UART_OUT_MAX);
	/* The pipe takes what it holds; the rest waits for it to drain. */
	assert_int_equal(uart_flush_output(f->u), 1);
	assert_int_equal(ioctl(f->pipe[0], FIONREAD, &in_pipe), 0);
	assert_true(in_pipe > 0 && (size_t)in_pipe < UART_OUT_MAX);
	while (got < UART_OUT_MAX) {
		n = read(f->pipe[0], buf, sizeof(buf));
		if (n <= 0) {
			assert_true(uart_flush_output(f->u) >= 0);
			continue;
		}
		for (ssize_t i = 0; i < n; i++)
			assert_int_equal(buf[i], (uint8_t)((got + (size_t)i) % 251));
		got += (size_t)n;
	}
	assert_int_equal(uart_flush_output(f->u), 0);
	assert_int_equal(read(f->pipe[0], buf, sizeof(buf)), -1);
	assert_int_equal(got + uart_output_dropped(f->u), total);
	/* Drained: the next byte is news to the loop again. */
	wr(f->u, THR, 'x');
	assert_int_equal(notified, 3);
}

/* No console at all: nothing queues, nothing is counted. */
static void test_output_without_fd(void **state)
{
	struct uart *u = uart_new(NULL, UART_COM1_IRQ, -1);

	(void)state;
	assert_non_null(u);
	for (int i = 0; i < 1000; i++)
		wr(u, THR, 'z');
	assert_int_equal(uart_flush_output(u), 0);
	assert_int_equal(uart_output_dropped(u), 0);
	uart_free(u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_reset_state, setup, teardown),
		cmocka_unit_test_setup_teardown(test_transmit_goes_to_the_fd, setup, teardown),
		cmocka_unit_test_setup_teardown(test_output_nobody_reads, setup, teardown),
		cmocka_unit_test(test_output_without_fd),
		cmocka_unit_test_setup_teardown(test_thre_interrupt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_receive, setup, teardown),
		cmocka_unit_test_setup_teardown(test_receive_priority_over_thre, setup, teardown),
		cmocka_unit_test_setup_teardown(test_receive_room_and_overrun, setup, teardown),
		cmocka_unit_test_setup_teardown(test_divisor_latch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_loopback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_scratch_and_odd_accesses, setup, teardown),
		cmocka_unit_test_setup_teardown(test_snapshot_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_snapshot_bad_payloads_change_nothing, setup,
						teardown),
	};

	return cmocka_run_group_tests_name("uart", tests, NULL, NULL);
}
