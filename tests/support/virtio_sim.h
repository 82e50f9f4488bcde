/* SPDX-License-Identifier: MIT */
/*
 * A guest's virtio driver in miniature, for the virtio unit tests: guest
 * RAM at a base that is not its host address, one split queue laid out in
 * it, descriptor and ring writes as a driver does them, and the transport's
 * registers driven through virtio_mmio_io as a vCPU would.
 */
#ifndef GENVM_TEST_VIRTIO_SIM_H
#define GENVM_TEST_VIRTIO_SIM_H

#include <stdint.h>

#include "vmgenid/guest_mem.h"

#include "mmio.h"
#include "queue.h"

#define VSIM_RAM_BASE 0x200000ull
#define VSIM_RAM_SIZE (1u << 20)
#define VSIM_DESC (VSIM_RAM_BASE + 0x1000)
#define VSIM_AVAIL (VSIM_RAM_BASE + 0x3000)
#define VSIM_USED (VSIM_RAM_BASE + 0x4000)
#define VSIM_HEAP (VSIM_RAM_BASE + 0x10000)

struct vsim {
	uint8_t *ram;
	struct vmgenid_guest_mem mem;
	uint16_t size;        /* queue size the driver uses */
	uint16_t avail_idx;   /* the driver's shadow */
	uint64_t heap;        /* bump allocator for buffers and tables */
	unsigned int irqs;    /* ops.irq calls */
	unsigned int kicks;   /* ops.kick calls */
	struct virtio_mmio_ops ops;
};

void vsim_init(struct vsim *s, uint16_t size);
void vsim_destroy(struct vsim *s);

uint8_t *vsim_hva(struct vsim *s, uint64_t gpa);
uint64_t vsim_alloc(struct vsim *s, uint32_t len);

/* Descriptor idx of the main table (or of a table at gpa with vsim_put_desc_at). */
void vsim_put_desc(struct vsim *s, uint16_t idx, uint64_t addr, uint32_t len, uint16_t flags,
		   uint16_t next);
void vsim_put_desc_at(struct vsim *s, uint64_t table, uint16_t idx, uint64_t addr, uint32_t len,
		      uint16_t flags, uint16_t next);
/* Make the chain at head available (driver ring entry, then idx). */
void vsim_publish(struct vsim *s, uint16_t head);
void vsim_set_avail_idx(struct vsim *s, uint16_t idx);
void vsim_set_avail_flags(struct vsim *s, uint16_t flags);
void vsim_set_used_event(struct vsim *s, uint16_t v);
uint16_t vsim_avail_event(struct vsim *s);
uint16_t vsim_used_idx(struct vsim *s);
void vsim_used_elem(struct vsim *s, uint16_t i, uint32_t *id, uint32_t *len);

/* A virtq set up as the transport does it at QueueReady. */
void vsim_queue(struct vsim *s, struct virtq *q);

/* Registers. */
uint32_t vsim_rd(struct virtio_mmio *d, uint64_t reg);
void vsim_wr(struct virtio_mmio *d, uint64_t reg, uint32_t v);

/*
 * The driver's init sequence (3.1.1) for queue 0 with these features:
 * the device status read back at the end.
 */
uint32_t vsim_driver_init(struct vsim *s, struct virtio_mmio *d, uint64_t features);

#endif
