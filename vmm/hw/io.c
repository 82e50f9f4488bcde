// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "io.h"

struct io_range {
	uint64_t base;
	uint64_t len;
	io_fn fn;
	void *opaque;
};

/* The same bus serves ports (limit 64 KiB) and MMIO (the whole 64-bit space). */
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

int io_register_range(struct io_bus *bus, uint64_t base, uint64_t len, io_fn fn, void *opaque)
{
	if (len == 0 || base + len < base || !fn)
		return -EINVAL;
	for (unsigned int i = 0; i < bus->nr; i++) {
		const struct io_range *r = &bus->ranges[i];

		if (base < r->base + r->len && r->base < base + len)
			return -EINVAL;
	}
	if (bus->nr == IO_MAX_RANGES)
		return -ENOSPC;
	bus->ranges[bus->nr++] = (struct io_range){ base, len, fn, opaque };
	return 0;
}

int io_register(struct io_bus *bus, uint16_t base, uint16_t len, io_fn fn, void *opaque)
{
	if ((uint32_t)base + len > 0x10000)
		return -EINVAL;
	return io_register_range(bus, base, len, fn, opaque);
}

void io_dispatch_addr(const struct io_bus *bus, uint64_t addr, uint8_t *data, uint32_t len,
		      bool is_write)
{
	if (!is_write)
		memset(data, 0xff, len);
	for (unsigned int i = 0; i < bus->nr; i++) {
		const struct io_range *r = &bus->ranges[i];

		if (addr < r->base || addr - r->base >= r->len)
			continue;
		if (len > r->len - (addr - r->base))
			return;
		r->fn(r->opaque, addr - r->base, data, len, is_write);
		return;
	}
}

void io_dispatch(const struct io_bus *bus, uint16_t port, uint8_t *data, uint32_t len,
		 bool is_write)
{
	io_dispatch_addr(bus, port, data, len, is_write);
}
