// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "io.h"

struct io_range {
	uint16_t base;
	uint16_t len;
	io_fn fn;
	void *opaque;
};

struct io_bus {
	struct io_range ranges[IO_MAX_RANGES];
	unsigned int nr;
};

struct io_bus *io_bus_new(void)
{
	return calloc(1, sizeof(struct io_bus));
}

void io_bus_free(struct io_bus *bus)
{
	free(bus);
}

int io_register(struct io_bus *bus, uint16_t base, uint16_t len, io_fn fn, void *opaque)
{
	uint32_t end = (uint32_t)base + len;

	if (len == 0 || end > 0x10000 || !fn)
		return -EINVAL;
	for (unsigned int i = 0; i < bus->nr; i++) {
		const struct io_range *r = &bus->ranges[i];

		if (base < (uint32_t)r->base + r->len && r->base < end)
			return -EINVAL;
	}
	if (bus->nr == IO_MAX_RANGES)
		return -ENOSPC;
	bus->ranges[bus->nr++] = (struct io_range){ base, len, fn, opaque };
	return 0;
}

void io_dispatch(const struct io_bus *bus, uint16_t port, uint8_t *data, uint32_t len,
		 bool is_write)
{
	if (!is_write)
		memset(data, 0xff, len);
	for (unsigned int i = 0; i < bus->nr; i++) {
		const struct io_range *r = &bus->ranges[i];

		if (port < r->base || port - r->base >= r->len)
			continue;
		if ((uint32_t)port - r->base + len > r->len)
			return;
		r->fn(r->opaque, (uint64_t)(port - r->base), data, len, is_write);
		return;
	}
}
