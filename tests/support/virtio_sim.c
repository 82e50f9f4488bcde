// SPDX-License-Identifier: MIT
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "vmgenid/endian.h"

#include "virtio_sim.h"

static void sim_irq(void *opaque)
{
	((struct vsim *)opaque)->irqs++;
}

static void sim_kick(void *opaque, unsigned int queue)
{
	(void)queue;
	((struct vsim *)opaque)->kicks++;
}

void vsim_init(struct vsim *s, uint16_t size)
{
	memset(s, 0, sizeof(*s));
	s->ram = calloc(1, VSIM_RAM_SIZE);
	assert_non_null(s->ram);
	vmgenid_guest_mem_init(&s->mem);
	assert_int_equal(vmgenid_guest_mem_add(&s->mem, VSIM_RAM_BASE, VSIM_RAM_SIZE, s->ram), 0);
	s->size = size;
	s->heap = VSIM_HEAP;
	s->ops = (struct virtio_mmio_ops){ .kick = sim_kick, .irq = sim_irq, .opaque = s };
}

void vsim_destroy(struct vsim *s)
{
	free(s->ram);
}

uint8_t *vsim_hva(struct vsim *s, uint64_t gpa)
{
	uint8_t *p = vmgenid_guest_mem_ptr(&s->mem, gpa, 1);

	assert_non_null(p);
	return p;
}

uint64_t vsim_alloc(struct vsim *s, uint32_t len)
{
	uint64_t at = s->heap;

	s->heap = (s->heap + len + 15) & ~15ull;
	assert_true(s->heap <= VSIM_RAM_BASE + VSIM_RAM_SIZE);
	return at;
}

void vsim_put_desc_at(struct vsim *s, uint64_t table, uint16_t idx, uint64_t addr, uint32_t len,
		      uint16_t flags, uint16_t next)
{
	uint8_t *d = vsim_hva(s, table + 16ull * idx);

	vmgenid_put_le64(d, addr);
	vmgenid_put_le32(d + 8, len);
	vmgenid_put_le16(d + 12, flags);
	vmgenid_put_le16(d + 14, next);
}

void vsim_put_desc(struct vsim *s, uint16_t idx, uint64_t addr, uint32_t len, uint16_t flags,
		   uint16_t next)
{
	vsim_put_desc_at(s, VSIM_DESC, idx, addr, len, flags, next);
}

void vsim_publish(struct vsim *s, uint16_t head)
{
	vmgenid_put_le16(vsim_hva(s, VSIM_AVAIL + 4 + 2ull * (s->avail_idx % s->size)), head);
	s->avail_idx++;
	vmgenid_put_le16(vsim_hva(s, VSIM_AVAIL + 2), s->avail_idx);
}

void vsim_set_avail_idx(struct vsim *s, uint16_t idx)
{
	s->avail_idx = idx;
	vmgenid_put_le16(vsim_hva(s, VSIM_AVAIL + 2), idx);
}

void vsim_set_avail_flags(struct vsim *s, uint16_t flags)
{
	vmgenid_put_le16(vsim_hva(s, VSIM_AVAIL), flags);
}

void vsim_set_used_event(struct vsim *s, uint16_t v)
{
	vmgenid_put_le16(vsim_hva(s, VSIM_AVAIL + 4 + 2ull * s->size), v);
}

uint16_t vsim_avail_event(struct vsim *s)
{
	return vmgenid_get_le16(vsim_hva(s, VSIM_USED + 4 + 8ull * s->size));
}

uint16_t vsim_used_idx(struct vsim *s)
{
	return vmgenid_get_le16(vsim_hva(s, VSIM_USED + 2));
}

void vsim_used_elem(struct vsim *s, uint16_t i, uint32_t *id, uint32_t *len)
{
	const uint8_t *e = vsim_hva(s, VSIM_USED + 4 + 8ull * (i % s->size));

	*id = vmgenid_get_le32(e);
	*len = vmgenid_get_le32(e + 4);
}

void vsim_queue(struct vsim *s, struct virtq *q)
{
	virtq_reset(q);
	q->size = s->size;
	q->desc = VSIM_DESC;
	q->avail = VSIM_AVAIL;
	q->used = VSIM_USED;
	q->ready = true;
}

uint32_t vsim_rd(struct virtio_mmio *d, uint64_t reg)
{
	uint8_t b[4];

	virtio_mmio_io(d, reg, b, 4, false);
	return vmgenid_get_le32(b);
}

void vsim_wr(struct virtio_mmio *d, uint64_t reg, uint32_t v)
{
	uint8_t b[4];

	vmgenid_put_le32(b, v);
	virtio_mmio_io(d, reg, b, 4, true);
}

uint32_t vsim_driver_init(struct vsim *s, struct virtio_mmio *d, uint64_t features)
{
	vsim_wr(d, VIRTIO_MMIO_STATUS, 0);
	vsim_wr(d, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
	vsim_wr(d, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	vsim_wr(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	vsim_wr(d, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)features);
	vsim_wr(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	vsim_wr(d, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(features >> 32));
	vsim_wr(d, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
					       VIRTIO_STATUS_FEATURES_OK);
	if (!(vsim_rd(d, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK))
		return vsim_rd(d, VIRTIO_MMIO_STATUS);
	memset(vsim_hva(s, VSIM_AVAIL), 0, 0x1000);
	memset(vsim_hva(s, VSIM_USED), 0, 0x1000);
	s->avail_idx = 0;
	vsim_wr(d, VIRTIO_MMIO_QUEUE_SEL, 0);
	vsim_wr(d, VIRTIO_MMIO_QUEUE_NUM, s->size);
	vsim_wr(d, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)VSIM_DESC);
	vsim_wr(d, VIRTIO_MMIO_QUEUE_DESC_HIGH, 0);
	vsim_wr(d, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)VSIM_AVAIL);
	vsim_wr(d, VIRTIO_MMIO_QUEUE_DRIVER_HIGH, 0);
	vsim_wr(d, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)VSIM_USED);
	vsim_wr(d, VIRTIO_MMIO_QUEUE_DEVICE_HIGH, 0);
	vsim_wr(d, VIRTIO_MMIO_QUEUE_READY, 1);
	vsim_wr(d, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
					       VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
	return vsim_rd(d, VIRTIO_MMIO_STATUS);
}
