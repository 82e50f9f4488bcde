/* SPDX-License-Identifier: MIT */
/*
 * The virtio-mmio transport, version 2 (virtio 1.2, 4.2.2): the register
 * window a guest driver sees, feature negotiation, device status and
 * reset, the interrupt status the driver acknowledges, and the queues'
 * configuration.  Devices (blk.c, rng.c) serve their queues through
 * virtio_mmio_begin/end from their worker thread; the vCPUs reach the
 * registers through virtio_mmio_io.  One lock guards all of it but the
 * interrupt status, an atomic that InterruptACKs buffered by KVM clear
 * from whichever thread drains them (virtio_mmio_ack); the lock is never
 * held while a request is being served, so a slow disk does not hold up a
 * vCPU reading InterruptStatus.
 */
#ifndef GENVM_VIRTIO_MMIO_H
#define GENVM_VIRTIO_MMIO_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "vmgenid/bytebuf.h"
#include "vmgenid/guest_mem.h"

#include "queue.h"

/* Registers (4.2.2, table "MMIO Device Register Layout"). */
#define VIRTIO_MMIO_MAGIC_VALUE 0x000
#define VIRTIO_MMIO_VERSION 0x004
#define VIRTIO_MMIO_DEVICE_ID 0x008
#define VIRTIO_MMIO_VENDOR_ID 0x00c
#define VIRTIO_MMIO_DEVICE_FEATURES 0x010
#define VIRTIO_MMIO_DEVICE_FEATURES_SEL 0x014
#define VIRTIO_MMIO_DRIVER_FEATURES 0x020
#define VIRTIO_MMIO_DRIVER_FEATURES_SEL 0x024
#define VIRTIO_MMIO_QUEUE_SEL 0x030
#define VIRTIO_MMIO_QUEUE_NUM_MAX 0x034
#define VIRTIO_MMIO_QUEUE_NUM 0x038
#define VIRTIO_MMIO_QUEUE_READY 0x044
#define VIRTIO_MMIO_QUEUE_NOTIFY 0x050
#define VIRTIO_MMIO_INTERRUPT_STATUS 0x060
#define VIRTIO_MMIO_INTERRUPT_ACK 0x064
#define VIRTIO_MMIO_STATUS 0x070
#define VIRTIO_MMIO_QUEUE_DESC_LOW 0x080
#define VIRTIO_MMIO_QUEUE_DESC_HIGH 0x084
#define VIRTIO_MMIO_QUEUE_DRIVER_LOW 0x090
#define VIRTIO_MMIO_QUEUE_DRIVER_HIGH 0x094
#define VIRTIO_MMIO_QUEUE_DEVICE_LOW 0x0a0
#define VIRTIO_MMIO_QUEUE_DEVICE_HIGH 0x0a4
#define VIRTIO_MMIO_SHM_LEN_LOW 0x0b0
#define VIRTIO_MMIO_SHM_LEN_HIGH 0x0b4
#define VIRTIO_MMIO_SHM_BASE_LOW 0x0b8
#define VIRTIO_MMIO_SHM_BASE_HIGH 0x0bc
#define VIRTIO_MMIO_CONFIG_GENERATION 0x0fc
#define VIRTIO_MMIO_CONFIG 0x100

#define VIRTIO_MMIO_MAGIC 0x74726976u /* "virt" */
#define VIRTIO_MMIO_VENDOR 0x4d564e47u /* "GNVM" */

#define VIRTIO_MMIO_INT_VRING 1u
#define VIRTIO_MMIO_INT_CONFIG 2u

/* Device status (2.1). */
#define VIRTIO_STATUS_ACKNOWLEDGE 1u
#define VIRTIO_STATUS_DRIVER 2u
#define VIRTIO_STATUS_DRIVER_OK 4u
#define VIRTIO_STATUS_FEATURES_OK 8u
#define VIRTIO_STATUS_NEEDS_RESET 64u
#define VIRTIO_STATUS_FAILED 128u

/* Transport feature bits (6). */
#define VIRTIO_F_INDIRECT_DESC 28
#define VIRTIO_F_EVENT_IDX 29
#define VIRTIO_F_VERSION_1 32

#define VIRTIO_MMIO_MAX_QUEUES 3 /* vsock: rx, tx, event */
#define VIRTIO_MMIO_CONFIG_MAX 64

struct virtio_mmio_ops {
	/* A QueueNotify write reached us (no ioeventfd took it): wake the worker. */
	void (*kick)(void *opaque, unsigned int queue);
	/* InterruptStatus gained a bit: raise the interrupt (an edge). */
	void (*irq)(void *opaque);
	/*
	 * Optional, for a device whose queues the host kernel serves (vhost):
	 * the driver status went from old to now (DRIVER_OK set: start; a
	 * reset: stop), under the transport's lock, on the thread that wrote
	 * it.  Nonzero: the backend refused, and the device needs a reset.
	 */
	int (*status)(void *opaque, uint32_t old, uint32_t now);
	/*
	 * Optional: apply the InterruptACK writes KVM buffered instead of
	 * exiting (virtio_mmio_ack, from kvm/coalesced.h's ring; any
	 * device's, never taking a transport's lock).  Called before
	 * InterruptStatus is read or gains a bit, and before the state is
	 * saved, loaded or reset.
	 */
	void (*sync)(void *opaque);
	void *opaque;
};

struct virtio_mmio {
	pthread_mutex_t lock;
	pthread_cond_t idle;        /* signalled when busy drops */
	const struct vmgenid_guest_mem *mem;
	struct virtio_mmio_ops ops;

	/* What the device is. */
	uint32_t device_id;
	uint64_t device_features;
	unsigned int nr_queues;
	uint8_t config[VIRTIO_MMIO_CONFIG_MAX];
	uint32_t config_len;

	/* What the driver made of it: the guest-visible state, saved whole. */
	uint32_t device_features_sel;
	uint64_t driver_features;
	uint32_t driver_features_sel;
	uint32_t queue_sel;
	uint32_t status;
	uint32_t config_generation;
	atomic_uint isr;
	struct virtq queues[VIRTIO_MMIO_MAX_QUEUES];

	/* A request is being served outside the lock; reset waits for it. */
	bool busy;
	/* A snapshot is being taken: hand out no new requests. */
	bool quiesced;
	/* Why the device last gave up on the driver (for the log), or NULL. */
	const char *broken;
};

void virtio_mmio_init(struct virtio_mmio *d, const struct vmgenid_guest_mem *mem, uint32_t device_id,
		      uint64_t device_features, unsigned int nr_queues, const void *config,
		      uint32_t config_len, const struct virtio_mmio_ops *ops);
void virtio_mmio_destroy(struct virtio_mmio *d);

/* The register window, as an io_fn. */
void virtio_mmio_io(void *opaque, uint64_t addr, uint8_t *data, uint32_t len, bool is_write);

/*
 * An InterruptACK write of v that KVM buffered (ops.sync delivers it): the
 * same effect as the register write, without the transport's lock, so
 * that it may be applied from under another device's lock.
 */
void virtio_mmio_ack(struct virtio_mmio *d, uint32_t v);

/* Back to power-on state (a machine reset): waits for a request in flight. */
void virtio_mmio_reset(struct virtio_mmio *d);

/*
 * The worker's side.  begin: the next request of queue q, if the driver is
 * ready and the device neither broken nor quiesced; 1 with *c filled (the
 * device is then busy until end or fail), 0 for nothing to do.  A
 * malformed ring sets DEVICE_NEEDS_RESET and returns 0.  end: give the
 * chain back with len bytes written, and interrupt the driver if it wants
 * one.  fail: the request itself was beyond answering (no status byte to
 * write): DEVICE_NEEDS_RESET.
 */
int virtio_mmio_begin(struct virtio_mmio *d, unsigned int q, struct virtq_chain *c);
void virtio_mmio_end(struct virtio_mmio *d, unsigned int q, uint16_t head, uint32_t len);
void virtio_mmio_fail(struct virtio_mmio *d, const char *why);
/* A queue served elsewhere (vhost) used buffers: the used-ring interrupt. */
void virtio_mmio_interrupt(struct virtio_mmio *d);
/*
 * Several chains taken by begin (the device stays busy from the first
 * begin on): end_many returns them all under one used-index update;
 * unpop gives the last n back untouched, for a packet they cannot hold
 * all of.  Either ends the busy period.
 */
void virtio_mmio_end_many(struct virtio_mmio *d, unsigned int q, const uint16_t *heads,
			  const uint32_t *lens, unsigned int n);
void virtio_mmio_unpop(struct virtio_mmio *d, unsigned int q, unsigned int n);
/* The features the driver accepted, once FEATURES_OK is set (else 0). */
uint64_t virtio_mmio_driver_features(struct virtio_mmio *d);

/*
 * Snapshots: quiesce waits until no request is in flight and holds new
 * ones back, so the queues and guest memory are stable; resume lets them go
 * and kicks the worker for what arrived meanwhile.
 */
void virtio_mmio_quiesce(struct virtio_mmio *d);
void virtio_mmio_resume(struct virtio_mmio *d);

/*
 * The transport's state in a snapshot section's payload (the caller frames
 * the section and adds the device's own bytes after it).  check: whether
 * payload holds a transport state this device can take (same device, same
 * features, queues inside this guest's RAM), and how many bytes it used;
 * nothing changes.  load: apply a checked state; raises the interrupt
 * again if one was pending and kicks the worker.
 */
void virtio_mmio_save(struct virtio_mmio *d, struct vmgenid_bytebuf *out);
int virtio_mmio_check(const struct virtio_mmio *d, const uint8_t *payload, uint32_t len,
		      uint32_t *used, const char **why);
void virtio_mmio_load(struct virtio_mmio *d, const uint8_t *payload);

#endif
