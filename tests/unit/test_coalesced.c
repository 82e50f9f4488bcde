// SPDX-License-Identifier: MIT
/*
 * The coalesced MMIO ring's consumer, fed a plain page laid out as KVM's
 * struct kvm_coalesced_mmio_ring: what KVM appends is applied in order,
 * across the wrap, exactly once; indices out of range and entries that
 * match no zone are ignored.
 */
#include <errno.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "coalesced.h"

#define PAGE 4096u
#define ZONE_A 0xfeb00064ull
#define ZONE_B 0xfeb00264ull
#define MAX_SEEN 20000

static _Alignas(64) uint8_t page[PAGE];

struct seen {
	unsigned int n;
	char zone[MAX_SEEN];
	uint32_t value[MAX_SEEN];
};

static struct seen seen;

static void on_a(void *opaque, const uint8_t *data, uint32_t len)
{
	uint32_t v;

	assert_int_equal(len, 4);
	memcpy(&v, data, 4);
	assert_true(seen.n < MAX_SEEN);
	seen.zone[seen.n] = *(const char *)opaque;
	seen.value[seen.n++] = v;
}

static struct kvm_coalesced_mmio_ring *ring(void)
{
	return (struct kvm_coalesced_mmio_ring *)page;
}

static uint32_t ring_max(void)
{
	return (PAGE - sizeof(struct kvm_coalesced_mmio_ring)) / sizeof(struct kvm_coalesced_mmio);
}

/* As KVM's coalesced_mmio_write: fill the slot at last, then move last (0: ring full). */
static int kvm_append(uint64_t addr, uint32_t len, uint32_t pio, uint32_t value)
{
	struct kvm_coalesced_mmio_ring *r = ring();
	uint32_t last = __atomic_load_n(&r->last, __ATOMIC_RELAXED);
	uint32_t first = __atomic_load_n(&r->first, __ATOMIC_ACQUIRE);
	struct kvm_coalesced_mmio *e = &r->coalesced_mmio[last];

	if ((last + 1) % ring_max() == first)
		return 0;
	e->phys_addr = addr;
	e->len = len;
	e->pio = pio;
	memset(e->data, 0, sizeof(e->data));
	memcpy(e->data, &value, len < 4 ? len : 4);
	__atomic_store_n(&r->last, (last + 1) % ring_max(), __ATOMIC_RELEASE);
	return 1;
}

static const char name_a = 'A', name_b = 'B';

static void setup_two_zones(struct coalesced *c)
{
	memset(page, 0, sizeof(page));
	memset(&seen, 0, sizeof(seen));
	coalesced_init(c);
	assert_int_equal(coalesced_add_zone(c, ZONE_A, 4, on_a, (void *)&name_a), 0);
	assert_int_equal(coalesced_add_zone(c, ZONE_B, 4, on_a, (void *)&name_b), 0);
	coalesced_attach(c, page, PAGE);
}

static void test_zone_rules(void **state)
{
	struct coalesced c;

	(void)state;
	coalesced_init(&c);
	assert_int_equal(coalesced_add_zone(&c, ZONE_A, 4, on_a, NULL), 0);
	assert_int_equal(coalesced_add_zone(&c, ZONE_A + 2, 4, on_a, NULL), -EINVAL); /* overlap */
	assert_int_equal(coalesced_add_zone(&c, ZONE_A - 2, 4, on_a, NULL), -EINVAL);
	assert_int_equal(coalesced_add_zone(&c, ZONE_A + 4, 4, on_a, NULL), 0);      /* adjacent */
	assert_int_equal(coalesced_add_zone(&c, 0x1000, 0, on_a, NULL), -EINVAL);
	assert_int_equal(coalesced_add_zone(&c, 0x1000, 9, on_a, NULL), -EINVAL); /* > an entry */
	assert_int_equal(coalesced_add_zone(&c, 0x1000, 4, NULL, NULL), -EINVAL);
	assert_int_equal(coalesced_add_zone(&c, UINT64_MAX - 1, 4, on_a, NULL), -EINVAL);
	for (unsigned int i = 2; i < COALESCED_MAX_ZONES; i++)
		assert_int_equal(coalesced_add_zone(&c, 0x1000 + 8 * i, 4, on_a, NULL), 0);
	assert_int_equal(coalesced_add_zone(&c, 0x9000, 4, on_a, NULL), -ENOSPC);
	/* A device gone frees its zone; the address can be claimed again. */
	coalesced_del_zone(&c, ZONE_A);
	assert_int_equal(coalesced_add_zone(&c, ZONE_A, 4, on_a, NULL), 0);
	/* No ring in this KVM: nothing to register, the writes keep exiting. */
	assert_int_equal(coalesced_register(&c, -1, ZONE_A, 4), 1);
	/* A ring, but KVM refuses (here: no VM at all): the same fallback. */
	c.kvm_ring = true;
	assert_int_equal(coalesced_register(&c, -1, ZONE_A, 4), 1);
	coalesced_destroy(&c);
}

static void test_order(void **state)
{
	struct coalesced c;

	(void)state;
	setup_two_zones(&c);
	coalesced_flush(&c); /* empty: nothing */
	assert_int_equal(seen.n, 0);
	assert_true(kvm_append(ZONE_A, 4, 0, 1));
	assert_true(kvm_append(ZONE_B, 4, 0, 2));
	assert_true(kvm_append(ZONE_A, 4, 0, 3));
	coalesced_flush(&c);
	assert_int_equal(seen.n, 3);
	assert_int_equal(seen.zone[0], 'A');
	assert_int_equal(seen.value[0], 1);
	assert_int_equal(seen.zone[1], 'B');
	assert_int_equal(seen.value[1], 2);
	assert_int_equal(seen.zone[2], 'A');
	assert_int_equal(seen.value[2], 3);
	/* Handed back to KVM: first caught up with last, and nothing twice. */
	assert_int_equal(ring()->first, 3);
	assert_int_equal(ring()->last, 3);
	coalesced_flush(&c);
	assert_int_equal(seen.n, 3);
	assert_int_equal(c.applied, 3);
	assert_int_equal(c.dropped, 0);
	coalesced_destroy(&c);
}

static void test_wrap_around(void **state)
{
	struct coalesced c;
	uint32_t max = ring_max();

	(void)state;
	setup_two_zones(&c);
	assert_int_equal(c.max, max);
	ring()->first = ring()->last = max - 2;
	for (uint32_t v = 10; v < 15; v++)
		assert_true(kvm_append(v & 1 ? ZONE_B : ZONE_A, 4, 0, v));
	assert_int_equal(ring()->last, 3); /* max-2, max-1, 0, 1, 2 */
	coalesced_flush(&c);
	assert_int_equal(seen.n, 5);
	for (uint32_t i = 0; i < 5; i++) {
		assert_int_equal(seen.value[i], 10 + i);
		assert_int_equal(seen.zone[i], (10 + i) & 1 ? 'B' : 'A');
	}
	assert_int_equal(ring()->first, 3);

	/* A full ring (KVM keeps one slot free) is drained whole. */
	memset(&seen, 0, sizeof(seen));
	for (uint32_t v = 0; kvm_append(ZONE_A, 4, 0, v); v++)
		;
	coalesced_flush(&c);
	assert_int_equal(seen.n, max - 1);
	for (uint32_t i = 0; i < max - 1; i++)
		assert_int_equal(seen.value[i], i);
	coalesced_destroy(&c);
}

static void test_out_of_range_indices(void **state)
{
	struct coalesced c;
	uint32_t max = ring_max();

	(void)state;
	setup_two_zones(&c);
	assert_true(kvm_append(ZONE_A, 4, 0, 7));
	ring()->last = max; /* past the last slot */
	coalesced_flush(&c);
	assert_int_equal(seen.n, 0);
	assert_int_equal(ring()->first, 0); /* left alone */
	ring()->last = 0xffffffffu;
	coalesced_flush(&c);
	assert_int_equal(seen.n, 0);
	ring()->last = 1;
	ring()->first = max + 100;
	coalesced_flush(&c);
	assert_int_equal(seen.n, 0);
	assert_true(c.warned);
	/* Sane again: served as usual. */
	ring()->first = 0;
	coalesced_flush(&c);
	assert_int_equal(seen.n, 1);
	assert_int_equal(seen.value[0], 7);

	/* A page too small for one entry is not a ring. */
	coalesced_attach(&c, page, sizeof(struct kvm_coalesced_mmio_ring));
	assert_null(c.ring);
	coalesced_flush(&c);
	coalesced_destroy(&c);
}

static void test_unknown_entries_ignored(void **state)
{
	struct coalesced c;

	(void)state;
	setup_two_zones(&c);
	assert_true(kvm_append(0xfeb00464ull, 4, 0, 0xdead)); /* no zone there */
	assert_true(kvm_append(ZONE_A + 1, 1, 0, 0xbe));      /* a byte inside the zone */
	assert_true(kvm_append(ZONE_A, 2, 0, 0xbeef));        /* the zone, the wrong size */
	assert_true(kvm_append(ZONE_A, 4, 1, 0x1234));        /* a port, not MMIO */
	assert_true(kvm_append(ZONE_B, 4, 0, 5));
	coalesced_flush(&c);
	assert_int_equal(seen.n, 1);
	assert_int_equal(seen.zone[0], 'B');
	assert_int_equal(seen.value[0], 5);
	assert_int_equal(c.dropped, 4);
	assert_int_equal(c.applied, 1);
	assert_int_equal(ring()->first, ring()->last); /* dropped ones are consumed too */
	coalesced_destroy(&c);
}

static void test_detach_drains_then_forgets(void **state)
{
	struct coalesced c;

	(void)state;
	setup_two_zones(&c);
	assert_true(kvm_append(ZONE_A, 4, 0, 1));
	coalesced_detach(&c);
	assert_int_equal(seen.n, 1);
	/* The page may be unmapped now: whatever lands there is not read. */
	assert_true(kvm_append(ZONE_A, 4, 0, 2));
	coalesced_flush(&c);
	assert_int_equal(seen.n, 1);
	/* A zone removed while entries wait: they are dropped, not delivered. */
	coalesced_attach(&c, page, PAGE);
	coalesced_del_zone(&c, ZONE_A);
	coalesced_flush(&c);
	assert_int_equal(seen.n, 1);
	assert_int_equal(c.dropped, 1);
	coalesced_destroy(&c);
}

/*
 * KVM appends from one thread while two others flush, as a vCPU and a
 * device worker do: every write arrives exactly once, in order.
 */
#define RACE_WRITES 15000u

static atomic_bool race_done;

static void *race_producer(void *arg)
{
	(void)arg;
	for (uint32_t v = 0; v < RACE_WRITES;) {
		if (kvm_append(v & 1 ? ZONE_B : ZONE_A, 4, 0, v))
			v++;
	}
	atomic_store(&race_done, true);
	return NULL;
}

static void *race_consumer(void *arg)
{
	struct coalesced *c = arg;

	while (!atomic_load(&race_done))
		coalesced_flush(c);
	coalesced_flush(c);
	return NULL;
}

static void test_concurrent_flushes(void **state)
{
	struct coalesced c;
	pthread_t p, c1, c2;

	(void)state;
	setup_two_zones(&c);
	atomic_store(&race_done, false);
	assert_int_equal(pthread_create(&c1, NULL, race_consumer, &c), 0);
	assert_int_equal(pthread_create(&c2, NULL, race_consumer, &c), 0);
	assert_int_equal(pthread_create(&p, NULL, race_producer, NULL), 0);
	pthread_join(p, NULL);
	pthread_join(c1, NULL);
	pthread_join(c2, NULL);
	assert_int_equal(seen.n, RACE_WRITES);
	for (uint32_t i = 0; i < RACE_WRITES; i++) {
		assert_int_equal(seen.value[i], i);
		assert_int_equal(seen.zone[i], i & 1 ? 'B' : 'A');
	}
	coalesced_destroy(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_zone_rules),
		cmocka_unit_test(test_order),
		cmocka_unit_test(test_wrap_around),
		cmocka_unit_test(test_out_of_range_indices),
		cmocka_unit_test(test_unknown_entries_ignored),
		cmocka_unit_test(test_detach_drains_then_forgets),
		cmocka_unit_test(test_concurrent_flushes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
