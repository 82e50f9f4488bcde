// SPDX-License-Identifier: MIT
/*
 * Register layouts and bit positions from the ACPI specification, section
 * 4.8 (fixed hardware programming model).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vmgenid/bytebuf.h"
#include "vmgenid/endian.h"
#include "vmgenid/log.h"
#include "vmgenid/state.h"

#include "pm.h"
#include "vm.h"

#define PM1_STS 0
#define PM1_EN 2
#define PM1_CNT 4
#define PM1_TMR 8

#define PM1_TMR_STS (1u << 0)
#define PM1_GBL_STS (1u << 5)
#define PM1_PWRBTN_STS (1u << 8)
#define PM1_SLPBTN_STS (1u << 9)
#define PM1_RTC_STS (1u << 10)
#define PM1_WAK_STS (1u << 15)
#define PM1_EVENTS (PM1_TMR_STS | PM1_GBL_STS | PM1_PWRBTN_STS | PM1_SLPBTN_STS | PM1_RTC_STS)

#define PM1_CNT_SCI_EN (1u << 0)
#define PM1_CNT_SLP_TYP_SHIFT 10
#define PM1_CNT_SLP_TYP_MASK (7u << PM1_CNT_SLP_TYP_SHIFT)
#define PM1_CNT_SLP_EN (1u << 13)

#define RESET_CPU (1u << 2)

struct pm {
	pthread_mutex_t lock;
	struct vm *vm;
	struct pm_ops ops;
	struct timespec start;
	bool sci;

	uint16_t pm1_sts, pm1_en, pm1_cnt;
	uint8_t gpe_sts[GPE0_LEN / 2];
	uint8_t gpe_en[GPE0_LEN / 2];
	uint8_t reset_reg;
};

struct pm *pm_new(struct vm *vm, const struct pm_ops *ops)
{
	struct pm *pm = calloc(1, sizeof(*pm));

	if (!pm)
		return NULL;
	pthread_mutex_init(&pm->lock, NULL);
	pm->vm = vm;
	pm->ops = *ops;
	/* There is no SMI_CMD: the machine is in ACPI mode from power-on. */
	pm->pm1_cnt = PM1_CNT_SCI_EN;
	clock_gettime(CLOCK_MONOTONIC, &pm->start);
	return pm;
}

void pm_reset(struct pm *pm)
{
	pthread_mutex_lock(&pm->lock);
	pm->pm1_sts = pm->pm1_en = 0;
	pm->pm1_cnt = PM1_CNT_SCI_EN;
	memset(pm->gpe_sts, 0, sizeof(pm->gpe_sts));
	memset(pm->gpe_en, 0, sizeof(pm->gpe_en));
	pm->reset_reg = 0;
	/* The irqchip is new as well, with every line low. */
	pm->sci = false;
	clock_gettime(CLOCK_MONOTONIC, &pm->start);
	pthread_mutex_unlock(&pm->lock);
}

void pm_free(struct pm *pm)
{
	if (!pm)
		return;
	pthread_mutex_destroy(&pm->lock);
	free(pm);
}

static void update_sci(struct pm *pm)
{
	bool level = (pm->pm1_sts & pm->pm1_en & PM1_EVENTS) != 0;

	for (unsigned int i = 0; i < GPE0_LEN / 2; i++)
		level = level || (pm->gpe_sts[i] & pm->gpe_en[i]);
	if (level != pm->sci) {
		pm->sci = level;
		vm_irq_line(pm->vm, PM_SCI_IRQ, level);
	}
}

static uint32_t timer_now(const struct pm *pm)
{
	struct timespec now;
	uint64_t ns;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ns = (uint64_t)(now.tv_sec - pm->start.tv_sec) * 1000000000ull +
	     (uint64_t)now.tv_nsec - (uint64_t)pm->start.tv_nsec;
	/* 128-bit product: ns * 3.58M overflows 64 bits after ~85 minutes. */
	return (uint32_t)((unsigned __int128)ns * PM_TIMER_HZ / 1000000000u);
}

/* Returns true when the write asks for S5. */
static bool write_cnt(struct pm *pm, uint16_t v)
{
	unsigned int typ = (v & PM1_CNT_SLP_TYP_MASK) >> PM1_CNT_SLP_TYP_SHIFT;

	/* SLP_EN is write-only and SCI_EN stays set. */
	pm->pm1_cnt = (uint16_t)((v & ~PM1_CNT_SLP_EN) | PM1_CNT_SCI_EN);
	if (!(v & PM1_CNT_SLP_EN))
		return false;
	if (typ == PM_SLP_TYP_S5)
		return true;
	vmgenid_pr_warn("pm", "sleep type %u requested; only S5 (%u) is supported", typ, PM_SLP_TYP_S5);
	return false;
}

/*
 * The block is a set of 16-bit registers and a 32-bit timer; Linux uses the
 * widths the FADT gives, but any aligned byte or word access works here.
 */
void pm_io(void *opaque, uint64_t addr, uint8_t *data, uint32_t len, bool is_write)
{
	struct pm *pm = opaque;
	bool poweroff = false;
	uint16_t v;

	if (addr >= PM1_TMR) {
		if (!is_write) {
			uint8_t t[4];
			uint32_t now = timer_now(pm);

			for (unsigned int i = 0; i < 4; i++)
				t[i] = (uint8_t)(now >> (8 * i));
			for (uint32_t i = 0; i < len && addr - PM1_TMR + i < 4; i++)
				data[i] = t[addr - PM1_TMR + i];
		}
		return;
	}
	/* One register at a time: byte or word, not across registers. */
	if (len > 2 || (len == 2 && (addr & 1)))
		return;

	pthread_mutex_lock(&pm->lock);
	if (is_write) {
		unsigned int reg = (unsigned int)addr & ~1u;
		unsigned int shift = 8 * ((unsigned int)addr & 1);
		uint16_t cur, mask = (uint16_t)(len == 2 ? 0xffffu : 0xffu << shift);

		v = (uint16_t)(len == 2 ? (unsigned int)(data[0] | data[1] << 8)
					: (unsigned int)data[0] << shift);
		switch (reg) {
		case PM1_STS:
			pm->pm1_sts &= (uint16_t)~(v & mask);
			break;
		case PM1_EN:
			pm->pm1_en = (uint16_t)((pm->pm1_en & ~mask) | (v & mask));
			break;
		case PM1_CNT:
			cur = pm->pm1_cnt;
			poweroff = write_cnt(pm, (uint16_t)((cur & ~mask) | (v & mask)));
			break;
		default:
			break;
		}
		update_sci(pm);
	} else {
		switch (addr & ~1u) {
		case PM1_STS:
			v = pm->pm1_sts;
			break;
		case PM1_EN:
			v = pm->pm1_en;
			break;
		case PM1_CNT:
			v = pm->pm1_cnt;
			break;
		default:
			v = 0xffff;
			break;
		}
		if (len == 2) {
			data[0] = (uint8_t)v;
			data[1] = (uint8_t)(v >> 8);
		} else {
			data[0] = (uint8_t)(v >> (8 * (addr & 1)));
		}
	}
	pthread_mutex_unlock(&pm->lock);

	if (poweroff && pm->ops.poweroff)
		pm->ops.poweroff(pm->ops.opaque);
}

void pm_gpe_io(void *opaque, uint64_t addr, uint8_t *data, uint32_t len, bool is_write)
{
	struct pm *pm = opaque;
	const uint32_t half = GPE0_LEN / 2;

	pthread_mutex_lock(&pm->lock);
	for (uint32_t i = 0; i < len && addr + i < GPE0_LEN; i++) {
		uint64_t a = addr + i;
		uint8_t *reg = a < half ? &pm->gpe_sts[a] : &pm->gpe_en[a - half];

		if (!is_write)
			data[i] = *reg;
		else if (a < half)
			*reg &= (uint8_t)~data[i]; /* write one to clear */
		else
			*reg = data[i];
	}
	if (is_write)
		update_sci(pm);
	pthread_mutex_unlock(&pm->lock);
}

void pm_reset_io(void *opaque, uint64_t addr, uint8_t *data, uint32_t len, bool is_write)
{
	struct pm *pm = opaque;
	bool reset = false;

	if (addr != 0 || len != 1)
		return;
	pthread_mutex_lock(&pm->lock);
	if (is_write) {
		/* Bit 2 going 0 -> 1 starts the reset; bit 1 picks hard or soft. */
		reset = (data[0] & RESET_CPU) && !(pm->reset_reg & RESET_CPU);
		pm->reset_reg = data[0] & (uint8_t)~RESET_CPU;
	} else {
		data[0] = pm->reset_reg;
	}
	pthread_mutex_unlock(&pm->lock);
	if (reset && pm->ops.reset)
		pm->ops.reset(pm->ops.opaque);
}

void pm_raise_gpe(struct pm *pm, unsigned int bit)
{
	if (bit >= 8 * (GPE0_LEN / 2))
		return;
	pthread_mutex_lock(&pm->lock);
	pm->gpe_sts[bit / 8] |= (uint8_t)(1u << (bit % 8));
	update_sci(pm);
	pthread_mutex_unlock(&pm->lock);
}

void pm_press_power_button(struct pm *pm)
{
	pthread_mutex_lock(&pm->lock);
	pm->pm1_sts |= PM1_PWRBTN_STS;
	update_sci(pm);
	pthread_mutex_unlock(&pm->lock);
}

uint16_t pm_gpe_status(struct pm *pm)
{
	uint16_t v;

	pthread_mutex_lock(&pm->lock);
	v = (uint16_t)(pm->gpe_sts[0] | pm->gpe_sts[1] << 8);
	pthread_mutex_unlock(&pm->lock);
	return v;
}

/* ---- snapshot ---- */

#define PM_STATE_LEN 16

int pm_save(struct pm *pm, struct vmgenid_bytebuf *out)
{
	size_t start = vmgenid_state_section_begin(out, PM_STATE_ID, PM_STATE_VERSION);

	pthread_mutex_lock(&pm->lock);
	vmgenid_bytebuf_put_le16(out, pm->pm1_sts);
	vmgenid_bytebuf_put_le16(out, pm->pm1_en);
	vmgenid_bytebuf_put_le16(out, pm->pm1_cnt);
	vmgenid_bytebuf_append(out, pm->gpe_sts, sizeof(pm->gpe_sts));
	vmgenid_bytebuf_append(out, pm->gpe_en, sizeof(pm->gpe_en));
	vmgenid_bytebuf_put_u8(out, pm->reset_reg);
	vmgenid_bytebuf_put_u8(out, 0);
	vmgenid_bytebuf_put_le32(out, timer_now(pm));
	pthread_mutex_unlock(&pm->lock);
	vmgenid_state_section_end(out, start);
	return vmgenid_bytebuf_failed(out) ? -ENOMEM : 0;
}

int pm_load(struct pm *pm, const uint8_t *payload, uint32_t length, uint32_t version,
	    const char **why)
{
	uint64_t ticks, ns;

	if (version != PM_STATE_VERSION) {
		*why = "unsupported pm state version";
		return -EINVAL;
	}
	if (length != PM_STATE_LEN) {
		*why = "pm state has the wrong length";
		return -EINVAL;
	}
	if (payload[11] != 0) {
		*why = "pm state has a reserved byte set";
		return -EINVAL;
	}

	pthread_mutex_lock(&pm->lock);
	pm->pm1_sts = vmgenid_get_le16(payload);
	pm->pm1_en = vmgenid_get_le16(payload + 2);
	pm->pm1_cnt = (uint16_t)(vmgenid_get_le16(payload + 4) | PM1_CNT_SCI_EN);
	memcpy(pm->gpe_sts, payload + 6, sizeof(pm->gpe_sts));
	memcpy(pm->gpe_en, payload + 8, sizeof(pm->gpe_en));
	pm->reset_reg = payload[10];
	/* Move the timer's origin back so that it reads on from the saved count. */
	ticks = vmgenid_get_le32(payload + 12);
	ns = ticks * 1000000000ull / PM_TIMER_HZ;
	clock_gettime(CLOCK_MONOTONIC, &pm->start);
	pm->start.tv_sec -= (time_t)(ns / 1000000000ull);
	pm->start.tv_nsec -= (long)(ns % 1000000000ull);
	if (pm->start.tv_nsec < 0) {
		pm->start.tv_nsec += 1000000000l;
		pm->start.tv_sec--;
	}
	/* KVM's level for the SCI source is low in a restored irqchip. */
	pm->sci = false;
	update_sci(pm);
	pthread_mutex_unlock(&pm->lock);
	return 0;
}
