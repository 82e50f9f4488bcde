// SPDX-License-Identifier: MIT
#include <string.h>

#include "legacy.h"

#define I8042_CMD_PULSE_RESET 0xfe

void legacy_ignore_io(void *opaque, uint64_t addr, uint8_t *data, uint32_t len, bool is_write)
{
	(void)opaque;
	(void)addr;
	(void)data;
	(void)len;
	(void)is_write;
}

/*
 * No RTC: reads give 0, so "update in progress" is never set and nothing
 * waits on it.  Linux takes wall-clock time from kvmclock.
 */
void legacy_cmos_io(void *opaque, uint64_t addr, uint8_t *data, uint32_t len, bool is_write)
{
	(void)opaque;
	(void)addr;
	if (!is_write)
		memset(data, 0, len);
}

/*
 * Status reads give 0 (input buffer empty) so a reboot path that waits for
 * the controller before pulsing goes straight on.  With no PNP0303 in the
 * DSDT, Linux's i8042 driver does not look further.
 */
void legacy_i8042_io(void *opaque, uint64_t addr, uint8_t *data, uint32_t len, bool is_write)
{
	const struct legacy_i8042 *k = opaque;

	if (addr != 0 || len != 1)
		return;
	if (!is_write) {
		data[0] = 0;
		return;
	}
	if (data[0] == I8042_CMD_PULSE_RESET && k->reset)
		k->reset(k->opaque);
}
