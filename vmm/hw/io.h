/* SPDX-License-Identifier: MIT */
/*
 * The I/O buses: devices register ranges, the vCPU loop dispatches
 * KVM_EXIT_IO (the port bus) and KVM_EXIT_MMIO (the MMIO bus) to them.  An
 * address nobody claims reads as all ones and ignores writes, as on a PC's
 * ISA bus.
 */
#ifndef GENVM_IO_H
#define GENVM_IO_H

#include <stdbool.h>
#include <stdint.h>

/*
 * One callback type for every device: addr is relative to the start of the
 * registered range, data holds len bytes in guest (little-endian) order.
 * On a read the device fills data; it may leave it as is (all ones).
 */
typedef void (*io_fn)(void *opaque, uint64_t addr, uint8_t *data, uint32_t len, bool is_write);

#define IO_MAX_RANGES 32

struct io_bus;

struct io_bus *io_bus_new(void);
void io_bus_free(struct io_bus *bus);

/* 0, -EINVAL (empty or overlapping range), -ENOSPC. Setup time only. */
int io_register(struct io_bus *bus, uint16_t base, uint16_t len, io_fn fn, void *opaque);

/* The same for MMIO: any 64-bit range that does not wrap. */
int io_register_range(struct io_bus *bus, uint64_t base, uint64_t len, io_fn fn, void *opaque);

/*
 * Dispatch one access.  Safe from any thread once setup is over; the
 * devices do their own locking.  An access that straddles the end of a
 * range is treated as unclaimed.
 */
void io_dispatch(const struct io_bus *bus, uint16_t port, uint8_t *data, uint32_t len,
		 bool is_write);
void io_dispatch_addr(const struct io_bus *bus, uint64_t addr, uint8_t *data, uint32_t len,
		      bool is_write);

#endif
