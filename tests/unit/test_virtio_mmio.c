// SPDX-License-Identifier: MIT
/*
 * The virtio-mmio transport driven through its registers as a guest driver
 * does it: identification, feature negotiation, queue setup, status and
 * reset, interrupt status and acknowledgement, configuration space, the
 * device giving up on a misbehaving driver, and its snapshot state.
 */
#include <errno.h>
#include <linux/kvm.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "vmgenid/endian.h"
#include "vmgenid/state.h"

#include "coalesced.h"
#include "mmio.h"
#include "virtio_sim.h"

#define V1 (1ull << VIRTIO_F_VERSION_1)
#define INDIRECT (1ull << VIRTIO_F_INDIRECT_DESC)
#define EVENT_IDX (1ull << VIRTIO_F_EVENT_IDX)
#define DEV_FEATURE (1ull << 5)
#define OK_STATUS                                                                          \
	(VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK |     \
	 VIRTIO_STATUS_DRIVER_OK)

struct fixture {
	struct vsim s;
	struct virtio_mmio d;
	struct virtq_chain c;
};

static const uint8_t config[12] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	vsim_init(&f->s, 16);
	virtio_mmio_init(&f->d, &f->s.mem, 4, DEV_FEATURE | INDIRECT | EVENT_IDX, 1, config,
			 sizeof(config), &f->s.ops);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	virtio_mmio_destroy(&f->d);
	vsim_destroy(&f->s);
	free(f);
	return 0;
}

static void test_identity(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(vsim_rd(&f->d, VIRTIO_MMIO_MAGIC_VALUE), 0x74726976);
	assert_int_equal(vsim_rd(&f->d, VIRTIO_MMIO_VERSION), 2);
	assert_int_equal(vsim_rd(&f->d, VIRTIO_MMIO_DEVICE_ID), 4);
	assert_int_equal(vsim_rd(&f->d, VIRTIO_MMIO_VENDOR_ID), VIRTIO_MMIO_VENDOR);
	/* Feature banks: 0 low, 1 high (VERSION_1 is bit 32), then nothing. */
	vsim_wr(&f->d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	assert_int_equal(vsim_rd(&f->d, VIRTIO_MMIO_DEVICE_FEATURES),
			 (uint32_t)(DEV_FEATURE | INDIRECT | EVENT_IDX));
	vsim_wr(&f->d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	assert_int_equal(vsim_rd(&f->d, VIRTIO_MMIO_DEVICE_FEATURES), 1);
	vsim_wr(&f->d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 2);
	assert_int_equal(vsim_rd(&f->d, VIRTIO_MMIO_DEVICE_FEATURES), 0);
	/* Queue 0 exists, queue 1 does not. */
	assert_int_equal(vsim_rd(&f->d, VIRTIO_MMIO_QUEUE_NUM_MAX), VIRTQ_MAX_SIZE);
	vsim_wr(&f->d, VIRTIO_MMIO_QUEUE_SEL, 1);
	assert_int_equal(vsim_rd(&f->d, VIRTIO_MMIO_QUEUE_NUM_MAX), 0);
	vsim_wr(&f->d, VIRTIO_MMIO_QUEUE_READY, 1); /* ignored */
	assert_int_equal(vsim_rd(&f->d, VIRTIO_MMIO_QUEUE_READY), 0);
	/* No shared memory regions: length all ones. */
	assert_int_equal(vsim_rd(&f->d, VIRTIO_MMIO_SHM_LEN_LOW), 0xffffffffu);
	assert_int_equal(vsim_rd(&f->d, VIRTIO_MMIO_SHM_LEN_HIGH), 0xffffffffu);
}

static void test_register_widths(void **state)
{
	struct fixture *f = *state;
	uint8_t b[8];

	/* Registers are 32-bit: a byte read gives 0, a byte write does nothing. */
	memset(b, 0xaa, sizeof(b));
	virtio_mmio_io(&f->d, VIRTIO_MMIO_MAGIC_VALUE, b, 1, false);
	assert_int_equal(b[0], 0);
	virtio_mmio_io(&f->d, VIRTIO_MMIO_MAGIC_VALUE + 2, b, 4, false); /* misaligned */
	assert_int_equal(vmgenid_get_le32(b), 0);
	b[0] = VIRTIO_STATUS_ACKNOWLEDGE;
	virtio_mmio_io(&f->d, VIRTIO_MMIO_STATUS, b, 1, true);
	assert_int_equal(vsim_rd(&f->d, VIRTIO_MMIO_STATUS), 0);
	/* Configuration space: any width, any offset; past its end reads 0; writes ignored. */
	virtio_mmio_io(&f->d, VIRTIO_MMIO_CONFIG + 1, b, 1, false);
	assert_int_equal(b[0], 2);
	virtio_mmio_io(&f->d, VIRTIO_MMIO_CONFIG + 2, b, 2, false);
	assert_int_equal(vmgenid_get_le16(b), 0x0403);
	virtio_mmio_io(&f->d, VIRTIO_MMIO_CONFIG + 8, b, 8, false);
	assert_memory_equal(b, "\x09\x0a\x0b\x0c\0\0\0\0", 8);
	memset(b, 0x55, 4);
	virtio_mmio_io(&f->d, VIRTIO_MMIO_CONFIG, b, 4, true);
	virtio_mmio_io(&f->d, VIRTIO_MMIO_CONFIG, b, 4, false);
	assert_int_equal(vmgenid_get_le32(b), 0x04030201);
	assert_int_equal(vsim_rd(&f->d, VIRTIO_MMIO_CONFIG_GENERATION), 0);
}

static void test_negotiation(void **state)
{
	struct fixture *f = *state;

	/* A legacy driver (no VERSION_1) is refused FEATURES_OK. */
	assert_false(vsim_driver_init(&f->s, &f->d, DEV_FEATURE) & VIRTIO_STATUS_FEATURES_OK);
	/* So is one that accepts a feature never offered. */
	assert_false(vsim_driver_init(&f->s, &f->d, V1 | (1ull << 7)) &
		     VIRTIO_STATUS_FEATURES_OK);
	assert_false(vsim_driver_init(&f->s, &f->d, V1 | (1ull << 40)) &
		     VIRTIO_STATUS_FEATURES_OK);
	assert_int_equal(vsim_driver_init(&f->s, &f->d, V1 | DEV_FEATURE | INDIRECT), OK_STATUS);
	assert_int_equal(f->d.driver_features, V1 | DEV_FEATURE | INDIRECT);
	assert_true(f->d.queues[0].indirect);
	assert_false(f->d.queues[0].event_idx);
	/* After FEATURES_OK, features cannot change. */
	vsim_wr(&f->d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	vsim_wr(&f->d, VIRTIO_MMIO_DRIVER_FEATURES, 0);
	assert_int_equal(f->d.driver_features, V1 | DEV_FEATURE | INDIRECT);
	/* Nor can status bits be taken back except by a reset. */
	vsim_wr(&f->d, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
	assert_int_equal(vsim_rd(&f->d, VIRTIO_MMIO_STATUS), OK_STATUS);
}

static void test_queue_setup(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(vsim_driver_init(&f->s, &f->d, V1), OK_STATUS);
	assert_int_equal(vsim_rd(&f->d, VIRTIO_MMIO_QUEUE_READY), 1);
	assert_int_equal(f->d.queues[0].desc, VSIM_DESC);
	assert_int_equal(f->d.queues[0].avail, VSIM_AVAIL);
	assert_int_equal(f->d.queues[0].used, VSIM_USED);
	assert_int_equal(f->d.queues[0].size, 16);
	/* A live queue's addresses and size stay as checked. */
	vsim_wr(&f->d, VIRTIO_MMIO_QUEUE_DESC_LOW, 0x1000);
	vsim_wr(&f->d, VIRTIO_MMIO_QUEUE_NUM, 3);
	assert_int_equal(f->d.queues[0].desc, VSIM_DESC);
	assert_int_equal(f->d.queues[0].size, 16);
	/* Stopped, they can change. */
	vsim_wr(&f->d, VIRTIO_MMIO_QUEUE_READY, 0);
	assert_int_equal(vsim_rd(&f->d, VIRTIO_MMIO_QUEUE_READY), 0);
	vsim_wr(&f->d, VIRTIO_MMIO_QUEUE_DEVICE_HIGH, 1);
	assert_int_equal(f->d.queues[0].used, VSIM_USED | (1ull << 32));
}

static void assert_needs_reset(struct fixture *f, unsigned int irqs_before)
{
	assert_true(vsim_rd(&f->d, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
	assert_true(vsim_rd(&f->d, VIRTIO_MMIO_INTERRUPT_STATUS) & VIRTIO_MMIO_INT_CONFIG);
	assert_int_equal(f->s.irqs, irqs_before + 1);
}

static void test_bad_queue_sizes(void **state)
{
	struct fixture *f = *state;

	f->s.size = 12; /* not a power of two */
	vsim_driver_init(&f->s, &f->d, V1);
	assert_needs_reset(f, 0);
	assert_int_equal(vsim_rd(&f->d, VIRTIO_MMIO_QUEUE_READY), 0);
	/* A reset brings it back; a queue bigger than QueueNumMax is refused too. */
	f->s.size = 512;
	vsim_driver_init(&f->s, &f->d, V1);
	assert_needs_reset(f, 1);
	f->s.size = 256;
	assert_int_equal(vsim_driver_init(&f->s, &f->d, V1), OK_STATUS);
}

static void test_misbehaving_driver(void **state)
{
	struct fixture *f = *state;

	/* DRIVER_OK without FEATURES_OK. */
	vsim_wr(&f->d, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
						   VIRTIO_STATUS_DRIVER_OK);
	assert_needs_reset(f, 0);
	/* A queue enabled before FEATURES_OK. */
	vsim_wr(&f->d, VIRTIO_MMIO_STATUS, 0);
	vsim_wr(&f->d, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	vsim_wr(&f->d, VIRTIO_MMIO_QUEUE_NUM, 16);
	vsim_wr(&f->d, VIRTIO_MMIO_QUEUE_READY, 1);
	assert_needs_reset(f, 1);
	/* A ring outside RAM. */
	vsim_wr(&f->d, VIRTIO_MMIO_STATUS, 0);
	vsim_wr(&f->d, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	vsim_wr(&f->d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	vsim_wr(&f->d, VIRTIO_MMIO_DRIVER_FEATURES, 1);
	vsim_wr(&f->d, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
						   VIRTIO_STATUS_FEATURES_OK);
	vsim_wr(&f->d, VIRTIO_MMIO_QUEUE_NUM, 16);
	vsim_wr(&f->d, VIRTIO_MMIO_QUEUE_DESC_LOW, 0x10000000);
	vsim_wr(&f->d, VIRTIO_MMIO_QUEUE_READY, 1);
	assert_needs_reset(f, 2);
	assert_int_equal(vsim_rd(&f->d, VIRTIO_MMIO_QUEUE_READY), 0);
}

static void test_malformed_chain_needs_reset(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(vsim_driver_init(&f->s, &f->d, V1), OK_STATUS);
	vsim_put_desc(&f->s, 0, VSIM_HEAP, 16, VIRTQ_DESC_F_NEXT, 0); /* loops */
	vsim_publish(&f->s, 0);
	assert_int_equal(virtio_mmio_begin(&f->d, 0, &f->c), 0);
	assert_needs_reset(f, 0);
	assert_string_equal(f->d.broken, "a descriptor chain loops");
	/* Nothing more is served until the driver resets the device. */
	vsim_put_desc(&f->s, 0, VSIM_HEAP, 16, 0, 0);
	assert_int_equal(virtio_mmio_begin(&f->d, 0, &f->c), 0);
	assert_int_equal(vsim_driver_init(&f->s, &f->d, V1), OK_STATUS);
	vsim_publish(&f->s, 0);
	assert_int_equal(virtio_mmio_begin(&f->d, 0, &f->c), 1);
	virtio_mmio_end(&f->d, 0, f->c.head, 0);
}

static void test_requests_and_interrupts(void **state)
{
	struct fixture *f = *state;
	uint32_t id, len;

	assert_int_equal(vsim_driver_init(&f->s, &f->d, V1), OK_STATUS);
	/* Notify reaches the device for queues that exist only. */
	vsim_wr(&f->d, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	vsim_wr(&f->d, VIRTIO_MMIO_QUEUE_NOTIFY, 1);
	assert_int_equal(f->s.kicks, 2); /* one from DRIVER_OK, one here */
	vsim_put_desc(&f->s, 4, VSIM_HEAP, 64, VIRTQ_DESC_F_WRITE, 0);
	vsim_publish(&f->s, 4);
	assert_int_equal(virtio_mmio_begin(&f->d, 0, &f->c), 1);
	assert_true(f->d.busy);
	virtio_mmio_end(&f->d, 0, f->c.head, 17);
	assert_false(f->d.busy);
	vsim_used_elem(&f->s, 0, &id, &len);
	assert_int_equal(id, 4);
	assert_int_equal(len, 17);
	assert_int_equal(f->s.irqs, 1);
	assert_int_equal(vsim_rd(&f->d, VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_VRING);
	/* A second completion before the ack: the bit stays, another edge is sent. */
	vsim_publish(&f->s, 4);
	assert_int_equal(virtio_mmio_begin(&f->d, 0, &f->c), 1);
	virtio_mmio_end(&f->d, 0, f->c.head, 1);
	assert_int_equal(f->s.irqs, 2);
	vsim_wr(&f->d, VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INT_VRING);
	assert_int_equal(vsim_rd(&f->d, VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	/* Quiesced: nothing handed out; resumed: the worker is kicked. */
	vsim_publish(&f->s, 4);
	virtio_mmio_quiesce(&f->d);
	assert_int_equal(virtio_mmio_begin(&f->d, 0, &f->c), 0);
	virtio_mmio_resume(&f->d);
	assert_int_equal(f->s.kicks, 3);
	assert_int_equal(virtio_mmio_begin(&f->d, 0, &f->c), 1);
	virtio_mmio_end(&f->d, 0, f->c.head, 1);
}

static void test_reset(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(vsim_driver_init(&f->s, &f->d, V1 | EVENT_IDX), OK_STATUS);
	vsim_put_desc(&f->s, 0, VSIM_HEAP, 64, VIRTQ_DESC_F_WRITE, 0);
	vsim_publish(&f->s, 0);
	assert_int_equal(virtio_mmio_begin(&f->d, 0, &f->c), 1);
	virtio_mmio_end(&f->d, 0, f->c.head, 1);
	vsim_wr(&f->d, VIRTIO_MMIO_QUEUE_SEL, 0);
	vsim_wr(&f->d, VIRTIO_MMIO_STATUS, 0);
	assert_int_equal(vsim_rd(&f->d, VIRTIO_MMIO_STATUS), 0);
	assert_int_equal(vsim_rd(&f->d, VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	assert_int_equal(vsim_rd(&f->d, VIRTIO_MMIO_QUEUE_READY), 0);
	assert_int_equal(f->d.driver_features, 0);
	assert_int_equal(f->d.queues[0].last_avail, 0);
	assert_int_equal(f->d.queues[0].desc, 0);
	assert_int_equal(virtio_mmio_begin(&f->d, 0, &f->c), 0);
}

struct resetter {
	struct virtio_mmio *d;
	atomic_bool done;
};

static void *reset_thread(void *arg)
{
	struct resetter *r = arg;

	vsim_wr(r->d, VIRTIO_MMIO_STATUS, 0);
	atomic_store(&r->done, true);
	return NULL;
}

/*
 * A driver reset while a request is being served waits for it: the
 * request's buffers stay the guest's business until it is answered.  The
 * registers the interrupt handler reads do not wait.
 */
static void test_reset_waits_for_request(void **state)
{
	struct fixture *f = *state;
	struct resetter r = { .d = &f->d };
	pthread_t t;

	assert_int_equal(vsim_driver_init(&f->s, &f->d, V1), OK_STATUS);
	vsim_put_desc(&f->s, 0, VSIM_HEAP, 64, VIRTQ_DESC_F_WRITE, 0);
	vsim_publish(&f->s, 0);
	assert_int_equal(virtio_mmio_begin(&f->d, 0, &f->c), 1);
	atomic_init(&r.done, false);
	assert_int_equal(pthread_create(&t, NULL, reset_thread, &r), 0);
	usleep(100 * 1000);
	assert_false(atomic_load(&r.done));
	/* Meanwhile another vCPU reads InterruptStatus and Status at once. */
	assert_int_equal(vsim_rd(&f->d, VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	virtio_mmio_end(&f->d, 0, f->c.head, 1);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_true(atomic_load(&r.done));
	assert_int_equal(vsim_rd(&f->d, VIRTIO_MMIO_STATUS), 0);
	assert_int_equal(vsim_used_idx(&f->s), 1); /* answered before the reset */
}

static void test_state_round_trip(void **state)
{
	struct fixture *f = *state;
	struct virtio_mmio other;
	struct vmgenid_bytebuf b;
	const char *why;
	uint32_t used;

	assert_int_equal(vsim_driver_init(&f->s, &f->d, V1 | EVENT_IDX | INDIRECT), OK_STATUS);
	vsim_put_desc(&f->s, 0, VSIM_HEAP, 64, VIRTQ_DESC_F_WRITE, 0);
	vsim_publish(&f->s, 0);
	assert_int_equal(virtio_mmio_begin(&f->d, 0, &f->c), 1);
	virtio_mmio_end(&f->d, 0, f->c.head, 1);
	vmgenid_bytebuf_init(&b);
	virtio_mmio_save(&f->d, &b);
	assert_false(vmgenid_bytebuf_failed(&b));

	virtio_mmio_init(&other, &f->s.mem, 4, DEV_FEATURE | INDIRECT | EVENT_IDX, 1, config,
			 sizeof(config), &f->s.ops);
	assert_int_equal(virtio_mmio_check(&other, b.data, (uint32_t)b.len, &used, &why), 0);
	assert_int_equal(used, b.len);
	f->s.irqs = f->s.kicks = 0;
	virtio_mmio_load(&other, b.data);
	assert_int_equal(other.status, OK_STATUS);
	assert_int_equal(other.driver_features, V1 | EVENT_IDX | INDIRECT);
	assert_true(other.queues[0].ready && other.queues[0].event_idx && other.queues[0].indirect);
	assert_int_equal(other.queues[0].last_avail, 1);
	assert_int_equal(other.queues[0].used_idx, 1);
	assert_int_equal(other.queues[0].desc, VSIM_DESC);
	/* The pending interrupt is raised again, the worker kicked. */
	assert_int_equal(atomic_load(&other.isr), VIRTIO_MMIO_INT_VRING);
	assert_int_equal(f->s.irqs, 1);
	assert_int_equal(f->s.kicks, 1);
	/* The restored device serves the next request where the saved one stopped. */
	vsim_publish(&f->s, 0);
	assert_int_equal(virtio_mmio_begin(&other, 0, &f->c), 1);
	virtio_mmio_end(&other, 0, f->c.head, 1);
	assert_int_equal(vsim_used_idx(&f->s), 2);
	virtio_mmio_destroy(&other);
	vmgenid_bytebuf_free(&b);
}

/*
 * InterruptACK buffered in KVM's coalesced ring (kvm/coalesced.h), as
 * genvm registers it: a page laid out as the ring, the transport's
 * ops.sync draining it into virtio_mmio_ack.
 */
#define ACK_GPA 0xfeb00064ull

struct acked {
	struct vsim *s;
	struct virtio_mmio d;
	struct coalesced c;
	_Alignas(64) uint8_t page[4096];
};

static void acked_sync(void *opaque)
{
	coalesced_flush(&((struct acked *)opaque)->c);
}

static void acked_ack(void *opaque, const uint8_t *data, uint32_t len)
{
	(void)len;
	virtio_mmio_ack(&((struct acked *)opaque)->d, vmgenid_get_le32(data));
}

static void acked_irq(void *opaque)
{
	((struct acked *)opaque)->s->irqs++;
}

static void acked_kick(void *opaque, unsigned int queue)
{
	(void)queue;
	((struct acked *)opaque)->s->kicks++;
}

/* The guest's ACK write as KVM records it instead of exiting. */
static void buffered_ack(struct acked *a, uint32_t v)
{
	struct kvm_coalesced_mmio_ring *r = (struct kvm_coalesced_mmio_ring *)a->page;
	struct kvm_coalesced_mmio *e = &r->coalesced_mmio[r->last];

	e->phys_addr = ACK_GPA;
	e->len = 4;
	e->pio = 0;
	vmgenid_put_le32(e->data, v);
	r->last = (r->last + 1) % a->c.max;
}

static struct acked *acked_new(struct vsim *s)
{
	const struct virtio_mmio_ops ops = {
		.kick = acked_kick, .irq = acked_irq, .sync = acked_sync,
	};
	struct acked *a = calloc(1, sizeof(*a));
	struct virtio_mmio_ops o = ops;

	assert_non_null(a);
	a->s = s;
	o.opaque = a;
	coalesced_init(&a->c);
	assert_int_equal(coalesced_add_zone(&a->c, ACK_GPA, 4, acked_ack, a), 0);
	coalesced_attach(&a->c, a->page, sizeof(a->page));
	virtio_mmio_init(&a->d, &s->mem, 4, DEV_FEATURE | INDIRECT | EVENT_IDX, 1, config,
			 sizeof(config), &o);
	return a;
}

static void acked_free(struct acked *a)
{
	virtio_mmio_destroy(&a->d);
	coalesced_destroy(&a->c);
	free(a);
}

static void complete_one(struct fixture *f, struct virtio_mmio *d)
{
	vsim_publish(&f->s, 0);
	assert_int_equal(virtio_mmio_begin(d, 0, &f->c), 1);
	virtio_mmio_end(d, 0, f->c.head, 1);
}

/*
 * The guest reads InterruptStatus, writes it to InterruptACK (buffered,
 * no exit), and the device completes another request before anything
 * drained the ring.  The ACK came first, so the new bit must survive it:
 * the device applies buffered ACKs before it sets a bit.  Applied at the
 * next read instead, the ACK would clear the new bit, and the driver
 * would find its interrupt empty.
 */
static void test_buffered_ack_before_new_interrupt(void **state)
{
	struct fixture *f = *state;
	struct acked *a = acked_new(&f->s);
	struct vmgenid_bytebuf b;

	assert_int_equal(vsim_driver_init(&f->s, &a->d, V1), OK_STATUS);
	vsim_put_desc(&f->s, 0, VSIM_HEAP, 64, VIRTQ_DESC_F_WRITE, 0);
	complete_one(f, &a->d);
	assert_int_equal(f->s.irqs, 1);
	assert_int_equal(vsim_rd(&a->d, VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_VRING);
	buffered_ack(a, VIRTIO_MMIO_INT_VRING);
	complete_one(f, &a->d);
	assert_int_equal(f->s.irqs, 2);
	assert_int_equal(vsim_rd(&a->d, VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_VRING);
	assert_int_equal(a->c.applied, 1);

	/* A buffered ACK with nothing after it: the next read sees it applied. */
	buffered_ack(a, VIRTIO_MMIO_INT_VRING);
	assert_int_equal(vsim_rd(&a->d, VIRTIO_MMIO_INTERRUPT_STATUS), 0);

	/* An ACK that exited (KVM's ring was full) comes after the buffered ones. */
	complete_one(f, &a->d);
	buffered_ack(a, VIRTIO_MMIO_INT_VRING);
	buffered_ack(a, 0);
	vsim_wr(&a->d, VIRTIO_MMIO_INTERRUPT_ACK, 0);
	assert_int_equal(atomic_load(&a->d.isr), 0);
	assert_int_equal(a->c.applied, 4);

	/* A snapshot records the status with the guest's ACKs applied. */
	complete_one(f, &a->d);
	buffered_ack(a, VIRTIO_MMIO_INT_VRING);
	vmgenid_bytebuf_init(&b);
	virtio_mmio_save(&a->d, &b);
	assert_false(vmgenid_bytebuf_failed(&b));
	assert_int_equal(vmgenid_get_le32(b.data + 40), 0);
	vmgenid_bytebuf_free(&b);

	/* Nor does an ACK from before a load clear the loaded state's bits. */
	complete_one(f, &a->d);
	vmgenid_bytebuf_init(&b);
	virtio_mmio_save(&a->d, &b);
	assert_int_equal(vmgenid_get_le32(b.data + 40), VIRTIO_MMIO_INT_VRING);
	buffered_ack(a, VIRTIO_MMIO_INT_VRING);
	virtio_mmio_load(&a->d, b.data);
	assert_int_equal(vsim_rd(&a->d, VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_VRING);
	vmgenid_bytebuf_free(&b);
	acked_free(a);
}

/* Each damage is refused by check, which changes nothing. */
static void test_state_refusals(void **state)
{
	struct fixture *f = *state;
	struct virtio_mmio rng, ro;
	struct vmgenid_bytebuf b;
	const char *why;
	uint32_t used;
	uint8_t *p;

	assert_int_equal(vsim_driver_init(&f->s, &f->d, V1), OK_STATUS);
	vmgenid_bytebuf_init(&b);
	virtio_mmio_save(&f->d, &b);
	p = b.data;
	assert_int_equal(virtio_mmio_check(&f->d, p, (uint32_t)b.len - 1, &used, &why), -EINVAL);
	assert_non_null(strstr(why, "truncated"));
	/* Another device type in the slot, or other features (readonly changed). */
	virtio_mmio_init(&rng, &f->s.mem, 2, DEV_FEATURE | INDIRECT | EVENT_IDX, 1, NULL, 0,
			 &f->s.ops);
	assert_int_equal(virtio_mmio_check(&rng, p, (uint32_t)b.len, &used, &why), -EINVAL);
	assert_non_null(strstr(why, "another kind"));
	virtio_mmio_init(&ro, &f->s.mem, 4, INDIRECT | EVENT_IDX, 1, NULL, 0, &f->s.ops);
	assert_int_equal(virtio_mmio_check(&ro, p, (uint32_t)b.len, &used, &why), -EINVAL);
	assert_non_null(strstr(why, "features differ"));
	/* Driver features never offered; unknown status bits; a bad ready flag. */
	vmgenid_put_le64(p + 12, V1 | (1ull << 3));
	assert_int_equal(virtio_mmio_check(&f->d, p, (uint32_t)b.len, &used, &why), -EINVAL);
	vmgenid_put_le64(p + 12, V1);
	vmgenid_put_le32(p + 32, 0x10f);
	assert_int_equal(virtio_mmio_check(&f->d, p, (uint32_t)b.len, &used, &why), -EINVAL);
	vmgenid_put_le32(p + 32, OK_STATUS);
	p[45 + 2] = 2;
	assert_int_equal(virtio_mmio_check(&f->d, p, (uint32_t)b.len, &used, &why), -EINVAL);
	p[45 + 2] = 1;
	/* A ready queue whose rings are not in this guest's RAM, or of a bad size. */
	vmgenid_put_le64(p + 45 + 4, 0x40000000);
	assert_int_equal(virtio_mmio_check(&f->d, p, (uint32_t)b.len, &used, &why), -EINVAL);
	assert_non_null(strstr(why, "outside guest RAM"));
	vmgenid_put_le64(p + 45 + 4, VSIM_DESC);
	vmgenid_put_le16(p + 45, 24);
	assert_int_equal(virtio_mmio_check(&f->d, p, (uint32_t)b.len, &used, &why), -EINVAL);
	vmgenid_put_le16(p + 45, 16);
	assert_int_equal(virtio_mmio_check(&f->d, p, (uint32_t)b.len, &used, &why), 0);
	virtio_mmio_destroy(&rng);
	virtio_mmio_destroy(&ro);
	vmgenid_bytebuf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_identity, setup, teardown),
		cmocka_unit_test_setup_teardown(test_register_widths, setup, teardown),
		cmocka_unit_test_setup_teardown(test_negotiation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queue_setup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_queue_sizes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_misbehaving_driver, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed_chain_needs_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_requests_and_interrupts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset_waits_for_request, setup, teardown),
		cmocka_unit_test_setup_teardown(test_buffered_ack_before_new_interrupt, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_state_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_state_refusals, setup, teardown),
	};

	return cmocka_run_group_tests_name("virtio_mmio", tests, NULL, NULL);
}
