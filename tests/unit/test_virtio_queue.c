// SPDX-License-Identifier: MIT
/*
 * Split virtqueue walking against a hostile driver: every malformed ring or
 * chain is refused with a reason and nothing consumed, nothing outside
 * guest RAM is ever pointed at, and every walk ends.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "queue.h"
#include "virtio_sim.h"

#define F_NEXT VIRTQ_DESC_F_NEXT
#define F_WRITE VIRTQ_DESC_F_WRITE
#define F_INDIRECT VIRTQ_DESC_F_INDIRECT

struct fixture {
	struct vsim s;
	struct virtq q;
	struct virtq_chain c;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	vsim_init(&f->s, 8);
	vsim_queue(&f->s, &f->q);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	vsim_destroy(&f->s);
	free(f);
	return 0;
}

static bool in_ram(const struct fixture *f, const struct iovec *v)
{
	const uint8_t *p = v->iov_base;

	return p >= f->s.ram && v->iov_len <= VSIM_RAM_SIZE &&
	       (size_t)(p - f->s.ram) <= VSIM_RAM_SIZE - v->iov_len;
}

/* The chain is refused with this reason, and taken again it is refused again. */
static void assert_bad(struct fixture *f, const char *what)
{
	const char *why = NULL;
	uint16_t before = f->q.last_avail;

	assert_int_equal(virtq_pop(&f->s.mem, &f->q, &f->c, &why), -EINVAL);
	assert_non_null(why);
	if (!strstr(why, what))
		fail_msg("expected '%s', got '%s'", what, why);
	assert_int_equal(f->q.last_avail, before);
	assert_int_equal(virtq_pop(&f->s.mem, &f->q, &f->c, &why), -EINVAL);
}

static void test_good_chain(void **state)
{
	struct fixture *f = *state;
	uint64_t hdr = vsim_alloc(&f->s, 16), data = vsim_alloc(&f->s, 4096),
		 st = vsim_alloc(&f->s, 1);
	const char *why;

	assert_int_equal(virtq_pop(&f->s.mem, &f->q, &f->c, &why), 0);
	vsim_put_desc(&f->s, 3, hdr, 16, F_NEXT, 5);
	vsim_put_desc(&f->s, 5, data, 4096, F_NEXT | F_WRITE, 0);
	vsim_put_desc(&f->s, 0, st, 1, F_WRITE, 0);
	vsim_publish(&f->s, 3);
	assert_true(virtq_has_work(&f->s.mem, &f->q));
	assert_int_equal(virtq_pop(&f->s.mem, &f->q, &f->c, &why), 1);
	assert_int_equal(f->c.head, 3);
	assert_int_equal(f->c.nr_out, 1);
	assert_int_equal(f->c.nr_in, 2);
	assert_int_equal(f->c.out_len, 16);
	assert_int_equal(f->c.in_len, 4097);
	assert_ptr_equal(f->c.iov[0].iov_base, vsim_hva(&f->s, hdr));
	assert_ptr_equal(f->c.iov[1].iov_base, vsim_hva(&f->s, data));
	assert_int_equal(f->c.iov[1].iov_len, 4096);
	assert_ptr_equal(f->c.iov[2].iov_base, vsim_hva(&f->s, st));
	assert_false(virtq_has_work(&f->s.mem, &f->q));
	assert_int_equal(virtq_pop(&f->s.mem, &f->q, &f->c, &why), 0);

	/* Returned: the used ring holds it, used idx moved. */
	assert_int_equal(virtq_push(&f->s.mem, &f->q, 3, 4097), 0);
	assert_int_equal(vsim_used_idx(&f->s), 1);
	{
		uint32_t id, len;

		vsim_used_elem(&f->s, 0, &id, &len);
		assert_int_equal(id, 3);
		assert_int_equal(len, 4097);
	}
}

static void test_loops_end(void **state)
{
	struct fixture *f = *state;
	uint64_t b = vsim_alloc(&f->s, 64);

	/* 0 -> 1 -> 0 -> ...: bounded by the queue size. */
	vsim_put_desc(&f->s, 0, b, 64, F_NEXT, 1);
	vsim_put_desc(&f->s, 1, b, 64, F_NEXT, 0);
	vsim_publish(&f->s, 0);
	assert_bad(f, "loops");
	/* A descriptor pointing at itself. */
	vsim_put_desc(&f->s, 0, b, 64, F_NEXT, 0);
	assert_bad(f, "loops");
}

static void test_bad_indices(void **state)
{
	struct fixture *f = *state;
	uint64_t b = vsim_alloc(&f->s, 64);

	vsim_put_desc(&f->s, 0, b, 64, F_NEXT, 8); /* next past the 8-entry table */
	vsim_publish(&f->s, 0);
	assert_bad(f, "past the end of its table");

	vsim_set_avail_idx(&f->s, 0);
	f->q.last_avail = 0;
	vsim_publish(&f->s, 9); /* head past the table */
	assert_bad(f, "past the descriptor table");

	/* The driver claims 9 new entries in an 8-entry ring. */
	vsim_put_desc(&f->s, 0, b, 64, 0, 0);
	vsim_set_avail_idx(&f->s, 9);
	f->q.last_avail = 0;
	assert_bad(f, "more than the queue size");
	/* Or moves backwards (which is the same thing, modulo 2^16). */
	vsim_set_avail_idx(&f->s, 0xfff0);
	assert_bad(f, "more than the queue size");
}

static void test_bad_lengths_and_addresses(void **state)
{
	struct fixture *f = *state;
	uint64_t b = vsim_alloc(&f->s, 64);
	const uint64_t end = VSIM_RAM_BASE + VSIM_RAM_SIZE;

	vsim_publish(&f->s, 0);
	vsim_put_desc(&f->s, 0, b, 0, 0, 0);
	assert_bad(f, "zero-length");
	vsim_put_desc(&f->s, 0, b, 0xffffffffu, 0, 0);
	assert_bad(f, "outside guest RAM");
	vsim_put_desc(&f->s, 0, end - 8, 16, 0, 0); /* straddles the end of RAM */
	assert_bad(f, "outside guest RAM");
	vsim_put_desc(&f->s, 0, VSIM_RAM_BASE - 8, 16, 0, 0); /* starts below RAM */
	assert_bad(f, "outside guest RAM");
	vsim_put_desc(&f->s, 0, 0xfffffffffffffff0ull, 0x20, 0, 0); /* wraps */
	assert_bad(f, "outside guest RAM");
	vsim_put_desc(&f->s, 0, 0x1000, 16, 0, 0); /* well below */
	assert_bad(f, "outside guest RAM");
	/* The last bytes of RAM are fine. */
	vsim_put_desc(&f->s, 0, end - 16, 16, 0, 0);
	assert_int_equal(virtq_pop(&f->s.mem, &f->q, &f->c, &(const char *){ NULL }), 1);
	assert_true(in_ram(f, &f->c.iov[0]));
}

static void test_wrong_direction(void **state)
{
	struct fixture *f = *state;
	uint64_t b = vsim_alloc(&f->s, 64);

	vsim_put_desc(&f->s, 0, b, 16, F_WRITE | F_NEXT, 1);
	vsim_put_desc(&f->s, 1, b, 16, 0, 0);
	vsim_publish(&f->s, 0);
	assert_bad(f, "readable buffer after a writable one");
}

static void test_indirect(void **state)
{
	struct fixture *f = *state;
	uint64_t b = vsim_alloc(&f->s, 512), table = vsim_alloc(&f->s, 16 * 4),
		 inner = vsim_alloc(&f->s, 16);
	const char *why;

	vsim_put_desc_at(&f->s, table, 0, b, 16, F_NEXT, 1);
	vsim_put_desc_at(&f->s, table, 1, b + 16, 256, F_NEXT | F_WRITE, 2);
	vsim_put_desc_at(&f->s, table, 2, b + 272, 1, F_WRITE, 0);
	vsim_put_desc(&f->s, 2, table, 16 * 3, F_INDIRECT, 0);
	vsim_publish(&f->s, 2);

	/* Not negotiated: refused. */
	assert_bad(f, "not negotiated");
	f->q.indirect = true;
	assert_int_equal(virtq_pop(&f->s.mem, &f->q, &f->c, &why), 1);
	assert_int_equal(f->c.head, 2);
	assert_int_equal(f->c.nr_out, 1);
	assert_int_equal(f->c.nr_in, 2);
	assert_int_equal(f->c.in_len, 257);

	/* Nested. */
	vsim_put_desc_at(&f->s, inner, 0, b, 16, 0, 0);
	vsim_put_desc_at(&f->s, table, 2, inner, 16, F_INDIRECT, 0);
	vsim_publish(&f->s, 2);
	assert_bad(f, "inside an indirect table");
	/* A loop inside the table ends too. */
	vsim_put_desc_at(&f->s, table, 2, b, 1, F_WRITE | F_NEXT, 0);
	assert_bad(f, "loops");
	vsim_put_desc_at(&f->s, table, 2, b, 1, F_WRITE | F_NEXT, 3); /* next past 3 entries */
	assert_bad(f, "past the end of its table");
	vsim_put_desc_at(&f->s, table, 2, b + 272, 1, F_WRITE, 0);
	/* Table lengths: zero, not a multiple of 16, too many entries, outside RAM. */
	vsim_put_desc(&f->s, 2, table, 0, F_INDIRECT, 0);
	assert_bad(f, "bad length");
	vsim_put_desc(&f->s, 2, table, 40, F_INDIRECT, 0);
	assert_bad(f, "bad length");
	vsim_put_desc(&f->s, 2, table, 16 * (VIRTQ_MAX_SEGS + 1), F_INDIRECT, 0);
	assert_bad(f, "bad length");
	vsim_put_desc(&f->s, 2, VSIM_RAM_BASE + VSIM_RAM_SIZE - 32, 48, F_INDIRECT, 0);
	assert_bad(f, "indirect table is outside guest RAM");
	/* INDIRECT together with NEXT, or after a direct descriptor. */
	vsim_put_desc(&f->s, 2, table, 48, F_INDIRECT | F_NEXT, 3);
	assert_bad(f, "chained with others");
	vsim_put_desc(&f->s, 2, b, 16, F_NEXT, 3);
	vsim_put_desc(&f->s, 3, table, 48, F_INDIRECT, 0);
	assert_bad(f, "chained with others");
}

/* Too many segments: a table of VIRTQ_MAX_SEGS is the most one chain may have. */
static void test_segment_limit(void **state)
{
	struct fixture *f = *state;
	uint64_t table = vsim_alloc(&f->s, 16 * VIRTQ_MAX_SEGS), b = vsim_alloc(&f->s, 16);
	const char *why;

	f->q.indirect = true;
	for (uint16_t i = 0; i < VIRTQ_MAX_SEGS; i++)
		vsim_put_desc_at(&f->s, table, i, b, 16, i + 1u < VIRTQ_MAX_SEGS ? F_NEXT : 0,
				 (uint16_t)(i + 1));
	vsim_put_desc(&f->s, 0, table, 16 * VIRTQ_MAX_SEGS, F_INDIRECT, 0);
	vsim_publish(&f->s, 0);
	assert_int_equal(virtq_pop(&f->s.mem, &f->q, &f->c, &why), 1);
	assert_int_equal(f->c.nr_out, VIRTQ_MAX_SEGS);
	assert_int_equal(f->c.out_len, 16ull * VIRTQ_MAX_SEGS);
}

static void test_check(void **state)
{
	struct fixture *f = *state;
	struct virtq q;
	const char *why;

	vsim_queue(&f->s, &q);
	assert_int_equal(virtq_check(&f->s.mem, &q, 256, &why), 0);
	q.size = 6;
	assert_int_equal(virtq_check(&f->s.mem, &q, 256, &why), -EINVAL);
	assert_non_null(strstr(why, "power of two"));
	q.size = 0;
	assert_int_equal(virtq_check(&f->s.mem, &q, 256, &why), -EINVAL);
	q.size = 512;
	assert_int_equal(virtq_check(&f->s.mem, &q, 256, &why), -EINVAL);
	q.size = 8;
	q.desc = VSIM_DESC + 8;
	assert_int_equal(virtq_check(&f->s.mem, &q, 256, &why), -EINVAL);
	assert_non_null(strstr(why, "misaligned"));
	q.desc = VSIM_DESC;
	q.used = VSIM_RAM_BASE + VSIM_RAM_SIZE - 64; /* 8 entries need 70 bytes */
	assert_int_equal(virtq_check(&f->s.mem, &q, 256, &why), -EINVAL);
	assert_non_null(strstr(why, "outside guest RAM"));
	q.used = VSIM_USED;
	q.avail = 0x1000;
	assert_int_equal(virtq_check(&f->s.mem, &q, 256, &why), -EINVAL);
}

static void push_one(struct fixture *f)
{
	uint64_t b = vsim_alloc(&f->s, 16);
	const char *why;

	vsim_put_desc(&f->s, 0, b, 16, F_WRITE, 0);
	vsim_publish(&f->s, 0);
	assert_int_equal(virtq_pop(&f->s.mem, &f->q, &f->c, &why), 1);
	assert_int_equal(virtq_push(&f->s.mem, &f->q, 0, 16), 0);
}

static void test_interrupt_suppression(void **state)
{
	struct fixture *f = *state;

	assert_false(virtq_should_notify(&f->s.mem, &f->q)); /* nothing pushed */
	push_one(f);
	assert_true(virtq_should_notify(&f->s.mem, &f->q));
	assert_false(virtq_should_notify(&f->s.mem, &f->q)); /* already told */
	vsim_set_avail_flags(&f->s, VIRTQ_AVAIL_F_NO_INTERRUPT);
	push_one(f);
	assert_false(virtq_should_notify(&f->s.mem, &f->q));
}

static void test_event_idx(void **state)
{
	struct fixture *f = *state;
	const char *why;

	f->q.event_idx = true;
	/* The flags mean nothing with EVENT_IDX; used_event does. */
	vsim_set_avail_flags(&f->s, VIRTQ_AVAIL_F_NO_INTERRUPT);
	vsim_set_used_event(&f->s, 0); /* interrupt when entry 0 is used */
	push_one(f);
	assert_true(virtq_should_notify(&f->s.mem, &f->q));
	vsim_set_used_event(&f->s, 2); /* not before entry 2 */
	push_one(f);
	assert_false(virtq_should_notify(&f->s.mem, &f->q));
	push_one(f);
	assert_true(virtq_should_notify(&f->s.mem, &f->q));
	/* An empty queue publishes where to kick next. */
	assert_int_equal(virtq_pop(&f->s.mem, &f->q, &f->c, &why), 0);
	assert_int_equal(vsim_avail_event(&f->s), 3);
}

static void test_iov_copy(void **state)
{
	uint8_t a[3] = { 0 }, b[5] = { 0 }, out[8];
	struct iovec v[2] = { { a, 3 }, { b, 5 } };

	(void)state;
	assert_int_equal(iov_copy_to(v, 2, 2, "wxyz", 4), 4);
	assert_memory_equal(a, "\0\0w", 3);
	assert_memory_equal(b, "xyz\0\0", 5);
	assert_int_equal(iov_copy_from(v, 2, 1, out, 8), 7);
	assert_memory_equal(out, "\0wxyz\0\0", 7);
	assert_int_equal(iov_copy_to(v, 2, 8, "q", 1), 0); /* past the end: nothing */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_good_chain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_loops_end, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_indices, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_lengths_and_addresses, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_direction, setup, teardown),
		cmocka_unit_test_setup_teardown(test_indirect, setup, teardown),
		cmocka_unit_test_setup_teardown(test_segment_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_check, setup, teardown),
		cmocka_unit_test_setup_teardown(test_interrupt_suppression, setup, teardown),
		cmocka_unit_test_setup_teardown(test_event_idx, setup, teardown),
		cmocka_unit_test(test_iov_copy),
	};

	return cmocka_run_group_tests_name("virtio_queue", tests, NULL, NULL);
}
