// SPDX-License-Identifier: MIT
#include <errno.h>
#include <string.h>

#include "vmgenid/endian.h"
#include "vmgenid/log.h"

#include "mmio.h"

#define MOD "virtio-mmio"

#define STATUS_KNOWN                                                                      \
	(VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_DRIVER_OK |        \
	 VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_NEEDS_RESET | VIRTIO_STATUS_FAILED)

void virtio_mmio_init(struct virtio_mmio *d, const struct vmgenid_guest_mem *mem, uint32_t device_id,
		      uint64_t device_features, unsigned int nr_queues, const void *config,
		      uint32_t config_len, const struct virtio_mmio_ops *ops)
{
	memset(d, 0, sizeof(*d));
	pthread_mutex_init(&d->lock, NULL);
	pthread_cond_init(&d->idle, NULL);
	d->mem = mem;
	d->ops = *ops;
	d->device_id = device_id;
	d->device_features = device_features | (1ull << VIRTIO_F_VERSION_1);
	d->nr_queues = nr_queues < VIRTIO_MMIO_MAX_QUEUES ? nr_queues : VIRTIO_MMIO_MAX_QUEUES;
	d->config_len = config_len < VIRTIO_MMIO_CONFIG_MAX ? config_len : VIRTIO_MMIO_CONFIG_MAX;
	if (config)
		memcpy(d->config, config, d->config_len);
	atomic_init(&d->isr, 0u);
}

void virtio_mmio_destroy(struct virtio_mmio *d)
{
	pthread_cond_destroy(&d->idle);
	pthread_mutex_destroy(&d->lock);
}

/* Under the lock: a request in flight finishes before the state it uses goes. */
static void wait_idle(struct virtio_mmio *d)
{
	while (d->busy)
		pthread_cond_wait(&d->idle, &d->lock);
}

/* The driver's buffered InterruptACK writes, applied before isr is looked at. */
static void sync_acks(struct virtio_mmio *d)
{
	if (d->ops.sync)
		d->ops.sync(d->ops.opaque);
}

void virtio_mmio_ack(struct virtio_mmio *d, uint32_t v)
{
	atomic_fetch_and(&d->isr, ~v);
}

/*
 * The driver reads InterruptStatus, writes the value to InterruptACK, then
 * looks at the used rings; the device pushes a used buffer, then sets its
 * bit and signals.  An ACK the driver wrote before the bit was set must be
 * applied before it, or, applied late, it clears a bit whose interrupt the
 * driver then finds empty: a completion waits for the next one.  So the
 * buffered ACKs go first.  An ACK this sync does not see yet was written
 * after the used buffer was visible (coalesced_flush's barrier), so the
 * pass that follows it finds the buffer and the bit it clears is not
 * needed.
 */
static void raise_irq(struct virtio_mmio *d, unsigned int bits)
{
	sync_acks(d);
	atomic_fetch_or(&d->isr, bits);
	d->ops.irq(d->ops.opaque);
}

/*
 * Under the lock: the driver broke the protocol.  2.1.1: the device sets
 * DEVICE_NEEDS_RESET and tells the driver with a configuration change
 * interrupt; it serves nothing more until it is reset.
 */
static void needs_reset(struct virtio_mmio *d, const char *why)
{
	if (d->status & VIRTIO_STATUS_NEEDS_RESET)
		return;
	vmgenid_pr_warn(MOD, "device %u: %s: the device needs a reset", d->device_id, why);
	d->broken = why;
	d->status |= VIRTIO_STATUS_NEEDS_RESET;
	raise_irq(d, VIRTIO_MMIO_INT_CONFIG);
}

static void reset_locked(struct virtio_mmio *d)
{
	wait_idle(d);
	if (d->ops.status && d->status)
		d->ops.status(d->ops.opaque, d->status, 0);
	d->device_features_sel = 0;
	d->driver_features = 0;
	d->driver_features_sel = 0;
	d->queue_sel = 0;
	d->status = 0;
	d->broken = NULL;
	sync_acks(d); /* none left to clear a bit set after the reset */
	atomic_store(&d->isr, 0u);
	for (unsigned int i = 0; i < d->nr_queues; i++)
		virtq_reset(&d->queues[i]);
}

void virtio_mmio_reset(struct virtio_mmio *d)
{
	pthread_mutex_lock(&d->lock);
	reset_locked(d);
	d->config_generation = 0;
	pthread_mutex_unlock(&d->lock);
}

static struct virtq *selected(struct virtio_mmio *d)
{
	return d->queue_sel < d->nr_queues ? &d->queues[d->queue_sel] : NULL;
}

/*
 * FEATURES_OK (3.1.1): only if the driver accepted nothing we did not offer,
 * and accepted VERSION_1 (a legacy driver cannot drive a version 2 window).
 */
static bool features_acceptable(const struct virtio_mmio *d)
{
	return !(d->driver_features & ~d->device_features) &&
	       (d->driver_features & (1ull << VIRTIO_F_VERSION_1));
}

static void write_status(struct virtio_mmio *d, uint32_t v)
{
	uint32_t old = d->status;

	if (v == 0) {
		reset_locked(d);
		return;
	}
	v &= STATUS_KNOWN & ~VIRTIO_STATUS_NEEDS_RESET;
	/* Only a reset clears bits: a driver cannot take back what it said. */
	v |= old & (VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK |
		    VIRTIO_STATUS_DRIVER_OK | VIRTIO_STATUS_NEEDS_RESET);
	if ((v & VIRTIO_STATUS_FEATURES_OK) && !(old & VIRTIO_STATUS_FEATURES_OK) &&
	    !features_acceptable(d))
		v &= ~VIRTIO_STATUS_FEATURES_OK; /* the driver reads it back and gives up */
	d->status = v;
	if ((v & VIRTIO_STATUS_DRIVER_OK) && !(v & VIRTIO_STATUS_FEATURES_OK)) {
		needs_reset(d, "DRIVER_OK without FEATURES_OK");
		return;
	}
	if (d->ops.status && v != old && d->ops.status(d->ops.opaque, old, v)) {
		needs_reset(d, "the vhost backend refused the queues");
		return;
	}
	/* Buffers made available before DRIVER_OK are served now. */
	if ((v & VIRTIO_STATUS_DRIVER_OK) && !(old & VIRTIO_STATUS_DRIVER_OK)) {
		for (unsigned int i = 0; i < d->nr_queues; i++)
			d->ops.kick(d->ops.opaque, i);
	}
}

static void write_queue_ready(struct virtio_mmio *d, struct virtq *q, uint32_t v)
{
	const char *why;

	if (!v) {
		/* Stopping a queue: the request on it finishes first (4.2.3.1). */
		wait_idle(d);
		q->ready = false;
		return;
	}
	if (q->ready)
		return;
	if (!(d->status & VIRTIO_STATUS_FEATURES_OK)) {
		needs_reset(d, "a queue enabled before FEATURES_OK");
		return;
	}
	if (virtq_check(d->mem, q, VIRTQ_MAX_SIZE, &why) < 0) {
		needs_reset(d, why);
		return;
	}
	q->event_idx = d->driver_features & (1ull << VIRTIO_F_EVENT_IDX);
	q->indirect = d->driver_features & (1ull << VIRTIO_F_INDIRECT_DESC);
	q->last_avail = q->used_idx = q->signalled = 0;
	q->ready = true;
}

static void set_half(uint64_t *field, bool high, uint32_t v)
{
	if (high)
		*field = (*field & 0xffffffffull) | ((uint64_t)v << 32);
	else
		*field = (*field & ~0xffffffffull) | v;
}

static void write_reg(struct virtio_mmio *d, uint64_t reg, uint32_t v)
{
	struct virtq *q = selected(d);

	switch (reg) {
	case VIRTIO_MMIO_DEVICE_FEATURES_SEL:
		d->device_features_sel = v;
		break;
	case VIRTIO_MMIO_DRIVER_FEATURES:
		/* Negotiation is over once FEATURES_OK is set (3.1.1). */
		if (!(d->status & VIRTIO_STATUS_FEATURES_OK) && d->driver_features_sel < 2)
			set_half(&d->driver_features, d->driver_features_sel == 1, v);
		break;
	case VIRTIO_MMIO_DRIVER_FEATURES_SEL:
		d->driver_features_sel = v;
		break;
	case VIRTIO_MMIO_QUEUE_SEL:
		d->queue_sel = v;
		break;
	case VIRTIO_MMIO_QUEUE_NUM:
		/* Checked when the queue is enabled; too large to store is too large. */
		if (q && !q->ready)
			q->size = v > 0xffff ? 0 : (uint16_t)v;
		break;
	case VIRTIO_MMIO_QUEUE_READY:
		if (q)
			write_queue_ready(d, q, v);
		break;
	case VIRTIO_MMIO_QUEUE_NOTIFY:
		if (v < d->nr_queues)
			d->ops.kick(d->ops.opaque, v);
		break;
	case VIRTIO_MMIO_INTERRUPT_ACK:
		/* One that exited (KVM's ring was full) comes after those buffered. */
		sync_acks(d);
		virtio_mmio_ack(d, v);
		break;
	case VIRTIO_MMIO_STATUS:
		write_status(d, v);
		break;
	case VIRTIO_MMIO_QUEUE_DESC_LOW:
	case VIRTIO_MMIO_QUEUE_DESC_HIGH:
	case VIRTIO_MMIO_QUEUE_DRIVER_LOW:
	case VIRTIO_MMIO_QUEUE_DRIVER_HIGH:
	case VIRTIO_MMIO_QUEUE_DEVICE_LOW:
	case VIRTIO_MMIO_QUEUE_DEVICE_HIGH:
		/* Addresses of a live queue stay as they were checked. */
		if (!q || q->ready)
			break;
		set_half(reg < VIRTIO_MMIO_QUEUE_DRIVER_LOW ? &q->desc
			 : reg < VIRTIO_MMIO_QUEUE_DEVICE_LOW ? &q->avail
							      : &q->used,
			 reg & 4, v);
		break;
	default:
		break; /* read-only or unknown: ignored */
	}
}

static uint32_t read_reg(struct virtio_mmio *d, uint64_t reg)
{
	struct virtq *q = selected(d);

	switch (reg) {
	case VIRTIO_MMIO_MAGIC_VALUE:
		return VIRTIO_MMIO_MAGIC;
	case VIRTIO_MMIO_VERSION:
		return 2;
	case VIRTIO_MMIO_DEVICE_ID:
		return d->device_id;
	case VIRTIO_MMIO_VENDOR_ID:
		return VIRTIO_MMIO_VENDOR;
	case VIRTIO_MMIO_DEVICE_FEATURES:
		if (d->device_features_sel > 1)
			return 0;
		return (uint32_t)(d->device_features >> (32 * d->device_features_sel));
	case VIRTIO_MMIO_QUEUE_NUM_MAX:
		return q ? VIRTQ_MAX_SIZE : 0;
	case VIRTIO_MMIO_QUEUE_READY:
		return q ? q->ready : 0;
	case VIRTIO_MMIO_INTERRUPT_STATUS:
		sync_acks(d);
		return atomic_load(&d->isr);
	case VIRTIO_MMIO_STATUS:
		return d->status;
	case VIRTIO_MMIO_SHM_LEN_LOW:
	case VIRTIO_MMIO_SHM_LEN_HIGH:
		return 0xffffffffu; /* no shared memory region (4.2.2: length -1) */
	case VIRTIO_MMIO_CONFIG_GENERATION:
		return d->config_generation;
	default:
		return 0;
	}
}

void virtio_mmio_io(void *opaque, uint64_t addr, uint8_t *data, uint32_t len, bool is_write)
{
	struct virtio_mmio *d = opaque;

	if (addr >= VIRTIO_MMIO_CONFIG) {
		uint64_t off = addr - VIRTIO_MMIO_CONFIG;

		/* The device configuration is read-only here; past its end reads 0. */
		if (is_write)
			return;
		memset(data, 0, len);
		pthread_mutex_lock(&d->lock);
		for (uint32_t i = 0; i < len; i++) {
			if (off + i < d->config_len)
				data[i] = d->config[off + i];
		}
		pthread_mutex_unlock(&d->lock);
		return;
	}
	/* 4.2.2.2: registers are 32-bit, aligned; anything else is ignored. */
	if (len != 4 || (addr & 3)) {
		if (!is_write)
			memset(data, 0, len);
		return;
	}
	pthread_mutex_lock(&d->lock);
	if (is_write)
		write_reg(d, addr, vmgenid_get_le32(data));
	else
		vmgenid_put_le32(data, read_reg(d, addr));
	pthread_mutex_unlock(&d->lock);
}

static bool serving(const struct virtio_mmio *d, unsigned int q)
{
	return q < d->nr_queues && d->queues[q].ready && !d->quiesced &&
	       (d->status & (VIRTIO_STATUS_DRIVER_OK | VIRTIO_STATUS_NEEDS_RESET)) ==
		       VIRTIO_STATUS_DRIVER_OK;
}

int virtio_mmio_begin(struct virtio_mmio *d, unsigned int q, struct virtq_chain *c)
{
	const char *why;
	int ret = 0;

	pthread_mutex_lock(&d->lock);
	if (serving(d, q)) {
		ret = virtq_pop(d->mem, &d->queues[q], c, &why);
		if (ret < 0) {
			needs_reset(d, why);
			ret = 0;
		}
		d->busy = ret > 0;
	}
	pthread_mutex_unlock(&d->lock);
	return ret;
}

static void done_locked(struct virtio_mmio *d)
{
	d->busy = false;
	pthread_cond_broadcast(&d->idle);
}

void virtio_mmio_end(struct virtio_mmio *d, unsigned int q, uint16_t head, uint32_t len)
{
	struct virtq *vq = &d->queues[q];

	pthread_mutex_lock(&d->lock);
	if (virtq_push(d->mem, vq, head, len) < 0)
		needs_reset(d, "the used ring is outside guest RAM");
	else if (virtq_should_notify(d->mem, vq))
		raise_irq(d, VIRTIO_MMIO_INT_VRING);
	done_locked(d);
	pthread_mutex_unlock(&d->lock);
}

void virtio_mmio_end_many(struct virtio_mmio *d, unsigned int q, const uint16_t *heads,
			  const uint32_t *lens, unsigned int n)
{
	struct virtq *vq = &d->queues[q];

	pthread_mutex_lock(&d->lock);
	if (virtq_push_many(d->mem, vq, heads, lens, n) < 0)
		needs_reset(d, "the used ring is outside guest RAM");
	else if (virtq_should_notify(d->mem, vq))
		raise_irq(d, VIRTIO_MMIO_INT_VRING);
	done_locked(d);
	pthread_mutex_unlock(&d->lock);
}

void virtio_mmio_unpop(struct virtio_mmio *d, unsigned int q, unsigned int n)
{
	pthread_mutex_lock(&d->lock);
	/* A reset in between would have waited for us: the queue is the one we took from. */
	d->queues[q].last_avail = (uint16_t)(d->queues[q].last_avail - n);
	done_locked(d);
	pthread_mutex_unlock(&d->lock);
}

uint64_t virtio_mmio_driver_features(struct virtio_mmio *d)
{
	uint64_t f;

	pthread_mutex_lock(&d->lock);
	f = d->status & VIRTIO_STATUS_FEATURES_OK ? d->driver_features : 0;
	pthread_mutex_unlock(&d->lock);
	return f;
}

void virtio_mmio_fail(struct virtio_mmio *d, const char *why)
{
	pthread_mutex_lock(&d->lock);
	needs_reset(d, why);
	done_locked(d);
	pthread_mutex_unlock(&d->lock);
}

void virtio_mmio_interrupt(struct virtio_mmio *d)
{
	raise_irq(d, VIRTIO_MMIO_INT_VRING);
}

void virtio_mmio_quiesce(struct virtio_mmio *d)
{
	pthread_mutex_lock(&d->lock);
	d->quiesced = true;
	wait_idle(d);
	pthread_mutex_unlock(&d->lock);
}

void virtio_mmio_resume(struct virtio_mmio *d)
{
	pthread_mutex_lock(&d->lock);
	d->quiesced = false;
	pthread_mutex_unlock(&d->lock);
	for (unsigned int i = 0; i < d->nr_queues; i++)
		d->ops.kick(d->ops.opaque, i);
}

/* Section payload, version 1, little-endian. */
#define SAVE_FIXED 45u
#define SAVE_QUEUE 34u
#define Q_EVENT_IDX 1u
#define Q_INDIRECT 2u

void virtio_mmio_save(struct virtio_mmio *d, struct vmgenid_bytebuf *out)
{
	pthread_mutex_lock(&d->lock);
	sync_acks(d); /* the guest's ACKs are part of the state it saw */
	vmgenid_bytebuf_put_le32(out, d->device_id);
	vmgenid_bytebuf_put_le64(out, d->device_features);
	vmgenid_bytebuf_put_le64(out, d->driver_features);
	vmgenid_bytebuf_put_le32(out, d->device_features_sel);
	vmgenid_bytebuf_put_le32(out, d->driver_features_sel);
	vmgenid_bytebuf_put_le32(out, d->queue_sel);
	vmgenid_bytebuf_put_le32(out, d->status);
	vmgenid_bytebuf_put_le32(out, d->config_generation);
	vmgenid_bytebuf_put_le32(out, atomic_load(&d->isr));
	vmgenid_bytebuf_put_u8(out, (uint8_t)d->nr_queues);
	for (unsigned int i = 0; i < d->nr_queues; i++) {
		const struct virtq *q = &d->queues[i];

		vmgenid_bytebuf_put_le16(out, q->size);
		vmgenid_bytebuf_put_u8(out, q->ready);
		vmgenid_bytebuf_put_u8(out, (uint8_t)((q->event_idx ? Q_EVENT_IDX : 0) |
					      (q->indirect ? Q_INDIRECT : 0)));
		vmgenid_bytebuf_put_le64(out, q->desc);
		vmgenid_bytebuf_put_le64(out, q->avail);
		vmgenid_bytebuf_put_le64(out, q->used);
		vmgenid_bytebuf_put_le16(out, q->last_avail);
		vmgenid_bytebuf_put_le16(out, q->used_idx);
		vmgenid_bytebuf_put_le16(out, q->signalled);
	}
	pthread_mutex_unlock(&d->lock);
}

static void decode_queue(const uint8_t *p, struct virtq *q)
{
	memset(q, 0, sizeof(*q));
	q->size = vmgenid_get_le16(p);
	q->ready = p[2];
	q->event_idx = p[3] & Q_EVENT_IDX;
	q->indirect = p[3] & Q_INDIRECT;
	q->desc = vmgenid_get_le64(p + 4);
	q->avail = vmgenid_get_le64(p + 12);
	q->used = vmgenid_get_le64(p + 20);
	q->last_avail = vmgenid_get_le16(p + 28);
	q->used_idx = vmgenid_get_le16(p + 30);
	q->signalled = vmgenid_get_le16(p + 32);
}

int virtio_mmio_check(const struct virtio_mmio *d, const uint8_t *p, uint32_t len,
		      uint32_t *used, const char **why)
{
	uint64_t driver_features;
	uint32_t status;

	if (len < SAVE_FIXED || len < SAVE_FIXED + (uint32_t)p[44] * SAVE_QUEUE) {
		*why = "virtio transport state is truncated";
		return -EINVAL;
	}
	if (vmgenid_get_le32(p) != d->device_id) {
		*why = "the snapshot has another kind of virtio device in this slot";
		return -EINVAL;
	}
	if (vmgenid_get_le64(p + 4) != d->device_features) {
		*why = "the device's features differ from the snapshot's (was readonly= changed?)";
		return -EINVAL;
	}
	driver_features = vmgenid_get_le64(p + 12);
	status = vmgenid_get_le32(p + 32);
	if (driver_features & ~d->device_features) {
		*why = "the driver's features were never offered";
		return -EINVAL;
	}
	if (status & ~STATUS_KNOWN || vmgenid_get_le32(p + 40) > 3) {
		*why = "virtio status or interrupt status has unknown bits";
		return -EINVAL;
	}
	if (p[44] != d->nr_queues) {
		*why = "the device has another number of queues";
		return -EINVAL;
	}
	for (unsigned int i = 0; i < d->nr_queues; i++) {
		const uint8_t *qp = p + SAVE_FIXED + i * SAVE_QUEUE;
		struct virtq q;

		if (qp[2] > 1 || qp[3] > (Q_EVENT_IDX | Q_INDIRECT)) {
			*why = "a queue flag is out of range";
			return -EINVAL;
		}
		decode_queue(qp, &q);
		if (q.ready && virtq_check(d->mem, &q, VIRTQ_MAX_SIZE, why) < 0)
			return -EINVAL;
	}
	*used = SAVE_FIXED + d->nr_queues * SAVE_QUEUE;
	return 0;
}

void virtio_mmio_load(struct virtio_mmio *d, const uint8_t *p)
{
	uint32_t isr;

	pthread_mutex_lock(&d->lock);
	wait_idle(d);
	d->driver_features = vmgenid_get_le64(p + 12);
	d->device_features_sel = vmgenid_get_le32(p + 20);
	d->driver_features_sel = vmgenid_get_le32(p + 24);
	d->queue_sel = vmgenid_get_le32(p + 28);
	d->status = vmgenid_get_le32(p + 32);
	d->config_generation = vmgenid_get_le32(p + 36);
	isr = vmgenid_get_le32(p + 40);
	sync_acks(d); /* ACKs from before the load must not clear the loaded bits */
	atomic_store(&d->isr, isr);
	d->broken = NULL;
	for (unsigned int i = 0; i < d->nr_queues; i++)
		decode_queue(p + SAVE_FIXED + i * SAVE_QUEUE, &d->queues[i]);
	/*
	 * The restored IOAPIC may or may not still hold the edge: sending it
	 * again costs the driver at most one look at InterruptStatus.
	 */
	if (isr)
		d->ops.irq(d->ops.opaque);
	pthread_mutex_unlock(&d->lock);
	for (unsigned int i = 0; i < d->nr_queues; i++)
		d->ops.kick(d->ops.opaque, i);
}
