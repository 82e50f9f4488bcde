/* SPDX-License-Identifier: MIT */
/*
 * ACPI fixed hardware of a PC that is not hardware-reduced: the PM1a event
 * and control blocks, the PM timer, the GPE0 block and the reset register,
 * as the FADT describes them.  The SCI (level, active high) is asserted
 * while any enabled PM1 or GPE0 status bit is set.
 */
#ifndef GENVM_PM_H
#define GENVM_PM_H

#include <stdbool.h>
#include <stdint.h>

#define PM_BASE 0x600
#define PM1A_EVT_PORT (PM_BASE + 0x0) /* 2 bytes status, 2 bytes enable */
#define PM1A_CNT_PORT (PM_BASE + 0x4) /* 2 bytes */
#define PM_TMR_PORT (PM_BASE + 0x8)   /* 4 bytes */
#define PM_BLOCK_LEN 12
#define GPE0_PORT 0x620
#define GPE0_LEN 4 /* 2 status bytes, 2 enable bytes: 16 GPEs */
#define PM_SCI_IRQ 9
#define PM_RESET_PORT 0xcf9
#define PM_RESET_VALUE 0x06 /* CPU reset + system reset */
#define PM_SLP_TYP_S5 5

#define PM_TIMER_HZ 3579545u

struct vm;
struct pm;

/* What the machine does on S5 and on reset requests. */
struct pm_ops {
	void *opaque;
	void (*poweroff)(void *opaque);
	void (*reset)(void *opaque);
};

struct pm *pm_new(struct vm *vm, const struct pm_ops *ops);
void pm_free(struct pm *pm);
/* Power-on register state, SCI low (the machine's irqchip is reset too). */
void pm_reset(struct pm *pm);

/* io_fn callbacks: the PM1/timer block, GPE0, and the reset register. */
void pm_io(void *opaque, uint64_t addr, uint8_t *data, uint32_t len, bool is_write);
void pm_gpe_io(void *opaque, uint64_t addr, uint8_t *data, uint32_t len, bool is_write);
void pm_reset_io(void *opaque, uint64_t addr, uint8_t *data, uint32_t len, bool is_write);

/* Set GPE0 status bit and update the SCI.  Any thread. */
void pm_raise_gpe(struct pm *pm, unsigned int bit);
/* Press the power button (PWRBTN_STS): system_powerdown.  Any thread. */
void pm_press_power_button(struct pm *pm);

/* Register state, for tests. */
uint16_t pm_gpe_status(struct pm *pm);

/*
 * Snapshot: the "pm" section holds the PM1, GPE0 and reset registers and
 * the PM timer's count, which goes on from there after a load.  Load
 * checks everything first and then drives the SCI from the restored
 * registers (the irqchip must be restored first): 0, or -EINVAL with *why.
 */
#define PM_STATE_ID "pm"
#define PM_STATE_VERSION 1
struct vmgenid_bytebuf;
int pm_save(struct pm *pm, struct vmgenid_bytebuf *out);
int pm_load(struct pm *pm, const uint8_t *payload, uint32_t length, uint32_t version,
	    const char **why);

#endif
