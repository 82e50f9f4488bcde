/* SPDX-License-Identifier: MIT */
/*
 * Ports every PC guest touches even without the devices behind them: the
 * POST code port (Linux's I/O delay), the CMOS index/data pair, and the
 * keyboard controller's command port, whose 0xFE "pulse reset line" is one
 * of the ways Linux reboots.
 */
#ifndef GENVM_LEGACY_H
#define GENVM_LEGACY_H

#include <stdbool.h>
#include <stdint.h>

#define LEGACY_POST_PORT 0x80
#define LEGACY_CMOS_PORT 0x70 /* 2 ports */
#define LEGACY_I8042_CMD_PORT 0x64

/* io_fn callbacks.  opaque for the i8042 one is passed to reset(). */
void legacy_ignore_io(void *opaque, uint64_t addr, uint8_t *data, uint32_t len, bool is_write);
void legacy_cmos_io(void *opaque, uint64_t addr, uint8_t *data, uint32_t len, bool is_write);

struct legacy_i8042 {
	void (*reset)(void *opaque);
	void *opaque;
};
void legacy_i8042_io(void *opaque, uint64_t addr, uint8_t *data, uint32_t len, bool is_write);

#endif
