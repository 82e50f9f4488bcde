// SPDX-License-Identifier: MIT
/*
 * ACPI fixed hardware through its ports, as Linux's ACPICA drives it: GPE
 * status and enable, the SCI level on IRQ 9, S5 through PM1a_CNT, the
 * reset register, the PM timer.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "vmgenid/bytebuf.h"
#include "vmgenid/state.h"

#include "pm.h"
#include "vm.h"

static int sci_level;
static int sci_changes;
static int poweroffs;
static int resets;

void vm_irq_line(struct vm *vm, unsigned int irq, int level)
{
	(void)vm;
	assert_int_equal(irq, PM_SCI_IRQ);
	if (level != sci_level)
		sci_changes++;
	sci_level = level;
}

static void on_poweroff(void *opaque)
{
	(void)opaque;
	poweroffs++;
}

static void on_reset(void *opaque)
{
	(void)opaque;
	resets++;
}

static int setup(void **state)
{
	const struct pm_ops ops = { .poweroff = on_poweroff, .reset = on_reset };

	sci_level = sci_changes = poweroffs = resets = 0;
	*state = pm_new(NULL, &ops);
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	pm_free(*state);
	return 0;
}

static uint8_t gpe_rd(struct pm *pm, unsigned int off)
{
	uint8_t v = 0xee;

	pm_gpe_io(pm, off, &v, 1, false);
	return v;
}

static void gpe_wr(struct pm *pm, unsigned int off, uint8_t v)
{
	pm_gpe_io(pm, off, &v, 1, true);
}

static uint16_t pm_rd16(struct pm *pm, unsigned int port)
{
	uint8_t d[2] = { 0xee, 0xee };

	pm_io(pm, port - PM_BASE, d, 2, false);
	return (uint16_t)(d[0] | d[1] << 8);
}

static void pm_wr16(struct pm *pm, unsigned int port, uint16_t v)
{
	uint8_t d[2] = { (uint8_t)v, (uint8_t)(v >> 8) };

	pm_io(pm, port - PM_BASE, d, 2, true);
}

static uint32_t tmr_rd(struct pm *pm)
{
	uint8_t d[4];

	pm_io(pm, PM_TMR_PORT - PM_BASE, d, 4, false);
	return (uint32_t)d[0] | (uint32_t)d[1] << 8 | (uint32_t)d[2] << 16 | (uint32_t)d[3] << 24;
}

static void test_gpe_raises_sci_only_when_enabled(void **state)
{
	struct pm *pm = *state;

	pm_raise_gpe(pm, 5);
	assert_int_equal(gpe_rd(pm, 0), 0x20);
	assert_int_equal(pm_gpe_status(pm), 0x20);
	assert_int_equal(sci_level, 0);

	/* Enabling a GPE whose status is already set asserts the SCI. */
	gpe_wr(pm, GPE0_LEN / 2, 0x20);
	assert_int_equal(gpe_rd(pm, GPE0_LEN / 2), 0x20);
	assert_int_equal(sci_level, 1);

	/* Write-one-to-clear: writing other bits leaves bit 5 alone. */
	gpe_wr(pm, 0, 0x10);
	assert_int_equal(gpe_rd(pm, 0), 0x20);
	assert_int_equal(sci_level, 1);
	gpe_wr(pm, 0, 0x20);
	assert_int_equal(gpe_rd(pm, 0), 0);
	assert_int_equal(sci_level, 0);

	/* Raised while enabled: straight to the SCI; masked: drops it. */
	pm_raise_gpe(pm, 5);
	assert_int_equal(sci_level, 1);
	gpe_wr(pm, GPE0_LEN / 2, 0);
	assert_int_equal(sci_level, 0);
	assert_int_equal(sci_changes, 4);
}

static void test_gpe_second_byte_and_bounds(void **state)
{
	struct pm *pm = *state;
	uint8_t both[2] = { 0, 0x01 };

	pm_raise_gpe(pm, 8);
	assert_int_equal(gpe_rd(pm, 1), 0x01);
	pm_gpe_io(pm, GPE0_LEN / 2, both, 2, true);
	assert_int_equal(sci_level, 1);
	/* Bits past the block do not exist. */
	pm_raise_gpe(pm, 8 * GPE0_LEN);
	pm_raise_gpe(pm, 1000);
	assert_int_equal(pm_gpe_status(pm), 0x0100);
}

static void test_sci_en_and_power_button(void **state)
{
	struct pm *pm = *state;

	/* No SMI_CMD: ACPI mode from the start, and it stays so. */
	assert_int_equal(pm_rd16(pm, PM1A_CNT_PORT) & 1, 1);
	pm_wr16(pm, PM1A_CNT_PORT, 0);
	assert_int_equal(pm_rd16(pm, PM1A_CNT_PORT) & 1, 1);

	pm_press_power_button(pm);
	assert_int_equal(pm_rd16(pm, PM1A_EVT_PORT) & 0x100, 0x100);
	assert_int_equal(sci_level, 0);
	pm_wr16(pm, PM1A_EVT_PORT + 2, 0x100);
	assert_int_equal(pm_rd16(pm, PM1A_EVT_PORT + 2), 0x100);
	assert_int_equal(sci_level, 1);
	pm_wr16(pm, PM1A_EVT_PORT, 0x100);
	assert_int_equal(pm_rd16(pm, PM1A_EVT_PORT) & 0x100, 0);
	assert_int_equal(sci_level, 0);
}

static void test_s5_powers_off(void **state)
{
	struct pm *pm = *state;
	uint8_t hi;

	/* SLP_TYP alone, or another sleep type with SLP_EN, does nothing. */
	pm_wr16(pm, PM1A_CNT_PORT, PM_SLP_TYP_S5 << 10);
	assert_int_equal(poweroffs, 0);
	pm_wr16(pm, PM1A_CNT_PORT, (3 << 10) | (1 << 13));
	assert_int_equal(poweroffs, 0);
	/* SLP_EN reads back as 0. */
	assert_int_equal(pm_rd16(pm, PM1A_CNT_PORT) & (1 << 13), 0);

	/* ACPICA writes SLP_TYP, then SLP_TYP | SLP_EN; a byte write works too. */
	hi = (uint8_t)(((PM_SLP_TYP_S5 << 10) | (1 << 13)) >> 8);
	pm_io(pm, PM1A_CNT_PORT - PM_BASE + 1, &hi, 1, true);
	assert_int_equal(poweroffs, 1);
}

static void test_reset_register(void **state)
{
	struct pm *pm = *state;
	uint8_t v = 0x02;

	pm_reset_io(pm, 0, &v, 1, true);
	assert_int_equal(resets, 0);
	v = 0xee;
	pm_reset_io(pm, 0, &v, 1, false);
	assert_int_equal(v, 0x02);
	v = PM_RESET_VALUE;
	pm_reset_io(pm, 0, &v, 1, true);
	assert_int_equal(resets, 1);
	/* Wrong width: ignored. */
	{
		uint8_t w[2] = { PM_RESET_VALUE, 0 };

		pm_reset_io(pm, 0, w, 2, true);
		assert_int_equal(resets, 1);
	}
}

static void test_pm_timer_runs_at_3_58_mhz(void **state)
{
	struct pm *pm = *state;
	struct timespec ts = { 0, 20 * 1000 * 1000 };
	uint32_t t0, t1, ticks;

	t0 = tmr_rd(pm);
	nanosleep(&ts, NULL);
	t1 = tmr_rd(pm);
	ticks = t1 - t0;
	/* 20 ms is 71591 ticks; allow for a slow, busy test machine. */
	assert_true(ticks >= 71000);
	assert_true(ticks < 71591 * 20);
	/* Writes to the timer do nothing. */
	{
		uint8_t z[4] = { 0, 0, 0, 0 };

		pm_io(pm, PM_TMR_PORT - PM_BASE, z, 4, true);
		assert_true(tmr_rd(pm) - t0 >= ticks);
	}
}

static void *raiser(void *arg)
{
	for (int i = 0; i < 10000; i++)
		pm_raise_gpe(arg, 5);
	return NULL;
}

/* The notify path runs on a vCPU thread while others touch the block. */
static void test_raise_from_threads(void **state)
{
	struct pm *pm = *state;
	pthread_t t;

	gpe_wr(pm, GPE0_LEN / 2, 0x20);
	assert_int_equal(pthread_create(&t, NULL, raiser, pm), 0);
	for (int i = 0; i < 10000; i++)
		gpe_wr(pm, 0, 0x20);
	pthread_join(t, NULL);
	pm_raise_gpe(pm, 5);
	assert_int_equal(gpe_rd(pm, 0), 0x20);
	assert_int_equal(sci_level, 1);
	gpe_wr(pm, 0, 0x20);
	assert_int_equal(sci_level, 0);
}

static void test_snapshot_round_trip(void **state)
{
	const struct pm_ops ops = { .poweroff = on_poweroff, .reset = on_reset };
	struct pm *pm = *state;
	struct vmgenid_state_section sec;
	struct vmgenid_state_reader r;
	struct vmgenid_bytebuf b;
	const char *why = NULL;
	struct pm *copy;
	uint32_t before, after;

	gpe_wr(pm, 2, 1u << 5);            /* enable GPE 5 */
	pm_wr16(pm, PM1A_EVT_PORT + 2, 0x100); /* enable the power button */
	pm_raise_gpe(pm, 5);
	assert_int_equal(sci_level, 1);
	before = tmr_rd(pm);
	vmgenid_bytebuf_init(&b);
	assert_int_equal(pm_save(pm, &b), 0);
	vmgenid_state_reader_init(&r, b.data, b.len);
	assert_int_equal(vmgenid_state_reader_next(&r, &sec, &why), 1);
	assert_string_equal(sec.id, PM_STATE_ID);

	copy = pm_new(NULL, &ops);
	assert_non_null(copy);
	sci_level = 0;
	assert_int_equal(pm_load(copy, sec.payload, sec.length, sec.version, &why), 0);
	/* The pending GPE asserts the SCI of the new machine. */
	assert_int_equal(sci_level, 1);
	assert_int_equal(pm_gpe_status(copy), 1u << 5);
	assert_int_equal(gpe_rd(copy, 2), 1u << 5);
	assert_int_equal(pm_rd16(copy, PM1A_EVT_PORT + 2), 0x100);
	/* The timer goes on from the saved count (within a second), not from 0. */
	after = tmr_rd(copy);
	assert_true((uint32_t)(after - before) < PM_TIMER_HZ);
	/* Acknowledging the GPE drops the SCI as before. */
	gpe_wr(copy, 0, 1u << 5);
	assert_int_equal(sci_level, 0);
	pm_free(copy);
	vmgenid_bytebuf_free(&b);
}

static void test_snapshot_bad_payloads_change_nothing(void **state)
{
	struct pm *pm = *state;
	struct vmgenid_bytebuf b;
	struct vmgenid_state_reader r;
	struct vmgenid_state_section sec;
	uint8_t bad[16];
	const char *why = NULL;

	vmgenid_bytebuf_init(&b);
	gpe_wr(pm, 2, 0x20);
	assert_int_equal(pm_save(pm, &b), 0);
	vmgenid_state_reader_init(&r, b.data, b.len);
	assert_int_equal(vmgenid_state_reader_next(&r, &sec, &why), 1);
	assert_int_equal(sec.length, sizeof(bad));
	memcpy(bad, sec.payload, sizeof(bad));
	gpe_wr(pm, 2, 0x01);
	for (uint32_t len = 0; len < sizeof(bad); len++)
		assert_int_equal(pm_load(pm, bad, len, 1, &why), -EINVAL);
	assert_int_equal(pm_load(pm, bad, sizeof(bad), 9, &why), -EINVAL);
	assert_non_null(strstr(why, "version"));
	bad[11] = 1;
	assert_int_equal(pm_load(pm, bad, sizeof(bad), 1, &why), -EINVAL);
	assert_int_equal(gpe_rd(pm, 2), 0x01);
	vmgenid_bytebuf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_gpe_raises_sci_only_when_enabled, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gpe_second_byte_and_bounds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sci_en_and_power_button, setup, teardown),
		cmocka_unit_test_setup_teardown(test_s5_powers_off, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset_register, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pm_timer_runs_at_3_58_mhz, setup, teardown),
		cmocka_unit_test_setup_teardown(test_raise_from_threads, setup, teardown),
		cmocka_unit_test_setup_teardown(test_snapshot_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_snapshot_bad_payloads_change_nothing, setup,
						teardown),
	};

	return cmocka_run_group_tests_name("pm", tests, NULL, NULL);
}
