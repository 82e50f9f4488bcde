// SPDX-License-Identifier: MIT
#include <errno.h>
#include <linux/kvm.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "vmgenid/log.h"

#include "coalesced.h"

#define MOD "coalesced-mmio"

void coalesced_init(struct coalesced *c)
{
	memset(c, 0, sizeof(*c));
	pthread_mutex_init(&c->lock, NULL);
}

void coalesced_destroy(struct coalesced *c)
{
	pthread_mutex_destroy(&c->lock);
}

int coalesced_add_zone(struct coalesced *c, uint64_t addr, uint32_t len, coalesced_fn fn,
		       void *opaque)
{
	const uint32_t entry_max = sizeof(((struct kvm_coalesced_mmio *)0)->data);
	int ret = 0;

	if (!fn || len == 0 || len > entry_max || addr + len < addr)
		return -EINVAL;
	pthread_mutex_lock(&c->lock);
	for (unsigned int i = 0; i < c->nr_zones && !ret; i++) {
		const struct coalesced_zone *z = &c->zones[i];

		if (addr < z->addr + z->len && z->addr < addr + len)
			ret = -EINVAL;
	}
	if (!ret && c->nr_zones == COALESCED_MAX_ZONES)
		ret = -ENOSPC;
	if (!ret)
		c->zones[c->nr_zones++] = (struct coalesced_zone){ addr, len, fn, opaque };
	pthread_mutex_unlock(&c->lock);
	return ret;
}

void coalesced_del_zone(struct coalesced *c, uint64_t addr)
{
	pthread_mutex_lock(&c->lock);
	for (unsigned int i = 0; i < c->nr_zones; i++) {
		if (c->zones[i].addr == addr) {
			c->zones[i] = c->zones[--c->nr_zones];
			break;
		}
	}
	pthread_mutex_unlock(&c->lock);
}

int coalesced_register(struct coalesced *c, int vm_fd, uint64_t addr, uint32_t len)
{
	static atomic_bool said;
	struct kvm_coalesced_mmio_zone z = { .addr = addr, .size = len };

	if (!c->kvm_ring)
		return 1;
	if (ioctl(vm_fd, KVM_REGISTER_COALESCED_MMIO, &z) == 0)
		return 0;
	if (!atomic_exchange(&said, true))
		fprintf(stderr, "genvm: KVM_REGISTER_COALESCED_MMIO %#llx: %s: those writes exit\n",
			(unsigned long long)addr, strerror(errno));
	return 1;
}

/*
 * One entry: its zone's callback if address and length are exactly a
 * zone's (a guest's byte write into the middle of a register is buffered
 * by KVM all the same, and is dropped here as the register would ignore
 * it), nothing otherwise.  The entry is copied first: KVM may reuse the
 * slot as soon as first moves past it, and the callback sees one value.
 */
static void apply(struct coalesced *c, const struct kvm_coalesced_mmio *slot)
{
	struct kvm_coalesced_mmio e;

	memcpy(&e, slot, sizeof(e));
	if (!e.pio) {
		for (unsigned int i = 0; i < c->nr_zones; i++) {
			const struct coalesced_zone *z = &c->zones[i];

			if (e.phys_addr == z->addr && e.len == z->len) {
				z->fn(z->opaque, e.data, e.len);
				c->applied++;
				return;
			}
		}
	}
	c->dropped++;
}

static void drain_locked(struct coalesced *c)
{
	struct kvm_coalesced_mmio_ring *r = c->ring;
	uint32_t first, last;

	if (!r)
		return;
	/* last after the entries it covers: KVM fills an entry, then moves last. */
	last = __atomic_load_n(&r->last, __ATOMIC_ACQUIRE);
	first = __atomic_load_n(&r->first, __ATOMIC_RELAXED);
	if (first >= c->max || last >= c->max) {
		/* Not a ring KVM keeps: read nothing from it rather than past its end. */
		if (!c->warned)
			vmgenid_pr_warn(MOD, "ring indices out of range (first %u, last %u, %u entries): ignored",
					first, last, c->max);
		c->warned = true;
		return;
	}
	while (first != last) {
		apply(c, &r->coalesced_mmio[first]);
		first = (first + 1) % c->max;
	}
	/* The applied entries go back to KVM only now: it may overwrite them then. */
	__atomic_store_n(&r->first, first, __ATOMIC_RELEASE);
}

void coalesced_attach(struct coalesced *c, void *page, size_t page_size)
{
	size_t head = sizeof(struct kvm_coalesced_mmio_ring);
	size_t entry = sizeof(struct kvm_coalesced_mmio);

	pthread_mutex_lock(&c->lock);
	c->ring = page_size > head + entry ? page : NULL;
	c->max = c->ring ? (uint32_t)((page_size - head) / entry) : 0;
	pthread_mutex_unlock(&c->lock);
}

void coalesced_detach(struct coalesced *c)
{
	pthread_mutex_lock(&c->lock);
	drain_locked(c);
	c->ring = NULL;
	c->max = 0;
	pthread_mutex_unlock(&c->lock);
}

void coalesced_flush(struct coalesced *c)
{
	/*
	 * A device publishes a used buffer, then flushes, then sets its
	 * InterruptStatus bit.  The guest's ACK write (a VM exit into KVM,
	 * which fills the entry under a spinlock) comes before its look at
	 * the used ring.  With a full barrier on both sides, either this
	 * flush sees the ACK, or the guest's pass that follows the ACK sees
	 * the used buffer: a bit a late ACK clears was never needed.
	 */
	atomic_thread_fence(memory_order_seq_cst);
	pthread_mutex_lock(&c->lock);
	drain_locked(c);
	pthread_mutex_unlock(&c->lock);
}
