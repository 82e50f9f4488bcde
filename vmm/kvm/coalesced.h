/* SPDX-License-Identifier: MIT */
/*
 * KVM's coalesced MMIO ring, the consumer side.  A guest write to a zone
 * registered with KVM_REGISTER_COALESCED_MMIO does not return from
 * KVM_RUN: KVM appends it (address, length, data) to one ring page per VM,
 * which every vCPU's mmap shows at the page offset KVM_CAP_COALESCED_MMIO
 * reports, and leaves it to the VMM to apply later.  "Later" must come
 * before anything that could observe the write: coalesced_flush() applies
 * every buffered write, in the order the guest made them, to the callback
 * of its zone.
 *
 * genvm coalesces only virtio-mmio's InterruptACK (virtio/devices.c), whose
 * effect nobody sees until InterruptStatus is read, the device sets a new
 * bit, or the state is saved; each of those flushes first.
 *
 * The ring is shared by the whole VM: vCPU threads and device workers
 * flush it, so consuming it takes a lock.  The page is writable by KVM and
 * by us, never by the guest; still, an index out of range makes the flush
 * stop rather than read past the page, and an entry that matches no zone
 * exactly (address and length) is dropped.
 */
#ifndef GENVM_COALESCED_H
#define GENVM_COALESCED_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define COALESCED_MAX_ZONES 16

/* A buffered write of len bytes (guest byte order) reached its zone. */
typedef void (*coalesced_fn)(void *opaque, const uint8_t *data, uint32_t len);

struct coalesced_zone {
	uint64_t addr;
	uint32_t len;
	coalesced_fn fn;
	void *opaque;
};

struct coalesced {
	pthread_mutex_t lock;
	bool kvm_ring; /* KVM has a ring genvm can read (vm.c): zones are worth registering */
	struct kvm_coalesced_mmio_ring *ring; /* NULL: nothing is buffered */
	uint32_t max;                         /* entries the ring page holds */
	struct coalesced_zone zones[COALESCED_MAX_ZONES];
	unsigned int nr_zones;
	/* Under the lock: writes applied, entries dropped (no zone, bad length). */
	uint64_t applied;
	uint64_t dropped;
	bool warned; /* a bad index was reported once */
};

void coalesced_init(struct coalesced *c);
void coalesced_destroy(struct coalesced *c);

/*
 * Where buffered writes go: writes of exactly len bytes at addr (setup
 * time, once per zone; del forgets the zone of addr when its device
 * goes).  0, -EINVAL (empty, wrapping, longer than an entry's 8 bytes,
 * overlapping, no fn), -ENOSPC.
 */
int coalesced_add_zone(struct coalesced *c, uint64_t addr, uint32_t len, coalesced_fn fn,
		       void *opaque);
void coalesced_del_zone(struct coalesced *c, uint64_t addr);

/*
 * Have the KVM VM vm_fd buffer guest writes of [addr, addr + len) instead
 * of exiting (KVM_REGISTER_COALESCED_MMIO): once per KVM VM, a rebuilt one
 * needs it again.  0 when the writes are buffered from now on; 1 when
 * they keep exiting (no ring, or KVM refused the zone: said once), which
 * is correct, only slower.
 */
int coalesced_register(struct coalesced *c, int vm_fd, uint64_t addr, uint32_t len);

/*
 * The ring page (page_size bytes, laid out as struct
 * kvm_coalesced_mmio_ring) to read from now on; detach applies what it
 * still holds and forgets it, before the mapping goes (vcpu_destroy).
 */
void coalesced_attach(struct coalesced *c, void *page, size_t page_size);
void coalesced_detach(struct coalesced *c);

/*
 * Apply every write buffered so far, oldest first, and hand the entries
 * back to KVM.  Any thread; cheap when the ring is empty.  It begins with
 * a full barrier, so what the caller wrote before (a used ring entry) is
 * visible to a guest whose later buffered write this flush does not see.
 */
void coalesced_flush(struct coalesced *c);

#endif
