// SPDX-License-Identifier: MIT
#include <endian.h>
#include <errno.h>
#include <string.h>

#include "vmgenid/endian.h"

#include "queue.h"

/* Ring layouts (2.7.6, 2.7.8): flags, idx, ring[size], then the event field. */
#define AVAIL_IDX 2u
#define AVAIL_RING 4u
#define USED_IDX 2u
#define USED_RING 4u
#define USED_ELEM_SIZE 8u

static uint64_t avail_bytes(uint16_t size)
{
	return AVAIL_RING + 2ull * size + 2; /* + used_event */
}

static uint64_t used_bytes(uint16_t size)
{
	return USED_RING + (uint64_t)USED_ELEM_SIZE * size + 2; /* + avail_event */
}

void virtq_reset(struct virtq *q)
{
	memset(q, 0, sizeof(*q));
}

int virtq_check(const struct vmgenid_guest_mem *mem, const struct virtq *q, uint16_t max,
		const char **why)
{
	if (q->size == 0 || q->size > max || (q->size & (q->size - 1))) {
		*why = "queue size is not a power of two within QueueNumMax";
		return -EINVAL;
	}
	if ((q->desc & 15) || (q->avail & 1) || (q->used & 3)) {
		*why = "queue ring addresses are misaligned";
		return -EINVAL;
	}
	if (!vmgenid_guest_mem_ptr(mem, q->desc, (uint64_t)VIRTQ_DESC_SIZE * q->size) ||
	    !vmgenid_guest_mem_ptr(mem, q->avail, avail_bytes(q->size)) ||
	    !vmgenid_guest_mem_ptr(mem, q->used, used_bytes(q->size))) {
		*why = "a queue ring is outside guest RAM";
		return -EINVAL;
	}
	return 0;
}

/*
 * The ring fields the driver and the device both touch are read and written
 * with atomics (virtq_check saw to their alignment), ordered as 2.7.13 asks:
 * read avail idx, then the entries it covers; write used entries, then used
 * idx; and a full barrier between publishing used idx (or avail_event) and
 * reading the driver's suppression fields.  A ring outside RAM reads as 0
 * and is not written: virtq_check keeps that from happening in practice.
 */
static uint16_t load16(const struct vmgenid_guest_mem *mem, uint64_t gpa)
{
	uint16_t *p = vmgenid_guest_mem_ptr(mem, gpa, 2);

	return p ? le16toh(__atomic_load_n(p, __ATOMIC_ACQUIRE)) : 0;
}

static void store16(const struct vmgenid_guest_mem *mem, uint64_t gpa, uint16_t v)
{
	uint16_t *p = vmgenid_guest_mem_ptr(mem, gpa, 2);

	if (p)
		__atomic_store_n(p, htole16(v), __ATOMIC_RELEASE);
}

static uint16_t avail_idx(const struct vmgenid_guest_mem *mem, const struct virtq *q)
{
	return load16(mem, q->avail + AVAIL_IDX);
}

bool virtq_has_work(const struct vmgenid_guest_mem *mem, const struct virtq *q)
{
	return q->ready && avail_idx(mem, q) != q->last_avail;
}

struct desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

static int read_desc(const struct vmgenid_guest_mem *mem, uint64_t table, uint32_t i, struct desc *d)
{
	uint8_t raw[VIRTQ_DESC_SIZE];

	if (vmgenid_guest_mem_read(mem, table + (uint64_t)i * VIRTQ_DESC_SIZE, raw, sizeof(raw)) < 0)
		return -EFAULT;
	d->addr = vmgenid_get_le64(raw);
	d->len = vmgenid_get_le32(raw + 8);
	d->flags = vmgenid_get_le16(raw + 12);
	d->next = vmgenid_get_le16(raw + 14);
	return 0;
}

static int fail(const char **why, const char *what)
{
	*why = what;
	return -EINVAL;
}

/* Walk the chain at head into c.  Bounded: each table is walked at most its size. */
static int walk_chain(const struct vmgenid_guest_mem *mem, const struct virtq *q, uint16_t head,
		      struct virtq_chain *c, const char **why)
{
	uint64_t table = q->desc;
	uint32_t table_size = q->size, i = head, steps = 0;
	bool in_indirect = false;
	struct desc d;

	c->head = head;
	c->nr_out = c->nr_in = 0;
	c->out_len = c->in_len = 0;
	for (;;) {
		void *buf;

		if (i >= table_size)
			return fail(why, "a descriptor index is past the end of its table");
		if (++steps > table_size)
			return fail(why, "a descriptor chain loops");
		if (read_desc(mem, table, i, &d) < 0)
			return fail(why, "a descriptor table is outside guest RAM");
		if (d.flags & VIRTQ_DESC_F_INDIRECT) {
			if (!q->indirect)
				return fail(why, "an indirect descriptor, not negotiated");
			if (in_indirect)
				return fail(why, "an indirect table inside an indirect table");
			/* Linux and the spec: an indirect table is the whole chain. */
			if (steps != 1 || (d.flags & VIRTQ_DESC_F_NEXT))
				return fail(why, "an indirect descriptor chained with others");
			if (d.len == 0 || d.len % VIRTQ_DESC_SIZE ||
			    d.len / VIRTQ_DESC_SIZE > VIRTQ_MAX_SEGS)
				return fail(why, "an indirect table of a bad length");
			if (!vmgenid_guest_mem_ptr(mem, d.addr, d.len))
				return fail(why, "an indirect table is outside guest RAM");
			table = d.addr;
			table_size = d.len / VIRTQ_DESC_SIZE;
			i = 0;
			steps = 0;
			in_indirect = true;
			continue;
		}
		if (d.len == 0)
			return fail(why, "a zero-length buffer");
		buf = vmgenid_guest_mem_ptr(mem, d.addr, d.len);
		if (!buf)
			return fail(why, "a buffer is outside guest RAM");
		if (c->nr_out + c->nr_in == VIRTQ_MAX_SEGS)
			return fail(why, "a chain of too many buffers");
		if (d.flags & VIRTQ_DESC_F_WRITE) {
			c->in_len += d.len;
			c->nr_in++;
		} else {
			if (c->nr_in)
				return fail(why, "a device-readable buffer after a writable one");
			c->out_len += d.len;
			c->nr_out++;
		}
		c->iov[c->nr_out + c->nr_in - 1] = (struct iovec){ buf, d.len };
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			return 0;
		i = d.next;
	}
}

int virtq_pop(const struct vmgenid_guest_mem *mem, struct virtq *q, struct virtq_chain *c,
	      const char **why)
{
	uint16_t idx = avail_idx(mem, q), head;

	if (idx == q->last_avail && q->event_idx) {
		/*
		 * Tell the driver where to kick us next, then look again: it
		 * may have added a buffer after our first look but before it
		 * saw the new avail_event, and then it will not kick.
		 */
		store16(mem, q->used + USED_RING + (uint64_t)USED_ELEM_SIZE * q->size,
			q->last_avail);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		idx = avail_idx(mem, q);
	}
	if (idx == q->last_avail)
		return 0;
	if ((uint16_t)(idx - q->last_avail) > q->size)
		return fail(why, "the driver ring index moved more than the queue size");
	head = load16(mem, q->avail + AVAIL_RING + 2ull * (q->last_avail & (q->size - 1)));
	if (head >= q->size)
		return fail(why, "a driver ring entry is past the descriptor table");
	if (walk_chain(mem, q, head, c, why) < 0)
		return -EINVAL;
	q->last_avail++;
	return 1;
}

int virtq_push(const struct vmgenid_guest_mem *mem, struct virtq *q, uint16_t head, uint32_t len)
{
	uint8_t elem[USED_ELEM_SIZE];
	uint64_t at = q->used + USED_RING + (uint64_t)USED_ELEM_SIZE * (q->used_idx & (q->size - 1));

	vmgenid_put_le32(elem, head);
	vmgenid_put_le32(elem + 4, len);
	if (vmgenid_guest_mem_write(mem, at, elem, sizeof(elem)) < 0)
		return -EFAULT;
	q->used_idx++;
	store16(mem, q->used + USED_IDX, q->used_idx);
	return 0;
}

int virtq_push_many(const struct vmgenid_guest_mem *mem, struct virtq *q, const uint16_t *heads,
		    const uint32_t *lens, unsigned int n)
{
	uint8_t elem[USED_ELEM_SIZE];

	for (unsigned int i = 0; i < n; i++) {
		uint16_t slot = (uint16_t)(q->used_idx + i) & (uint16_t)(q->size - 1);

		vmgenid_put_le32(elem, heads[i]);
		vmgenid_put_le32(elem + 4, lens[i]);
		if (vmgenid_guest_mem_write(mem, q->used + USED_RING + (uint64_t)USED_ELEM_SIZE * slot, elem,
				    sizeof(elem)) < 0)
			return -EFAULT;
	}
	/* One index update: the driver sees all n entries at once or none. */
	q->used_idx = (uint16_t)(q->used_idx + n);
	store16(mem, q->used + USED_IDX, q->used_idx);
	return 0;
}

bool virtq_should_notify(const struct vmgenid_guest_mem *mem, struct virtq *q)
{
	uint16_t old = q->signalled, now = q->used_idx;

	q->signalled = now;
	if (old == now)
		return false;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (q->event_idx) {
		uint16_t event = load16(mem, q->avail + AVAIL_RING + 2ull * q->size);

		/* 2.7.10: interrupt when used idx has passed used_event since last time. */
		return (uint16_t)(now - event - 1) < (uint16_t)(now - old);
	}
	return !(load16(mem, q->avail) & VIRTQ_AVAIL_F_NO_INTERRUPT);
}

/* Walks [skip, skip + len) of iov, copying into or out of buf; says how much moved. */
static size_t iov_walk_copy(const struct iovec *iov, unsigned int n, size_t skip, uint8_t *buf,
			    size_t len, bool into_iov)
{
	size_t done = 0;

	for (unsigned int i = 0; i < n && done < len; i++) {
		uint8_t *at;
		size_t take;

		if (skip >= iov[i].iov_len) {
			skip -= iov[i].iov_len;
			continue;
		}
		at = (uint8_t *)iov[i].iov_base + skip;
		take = iov[i].iov_len - skip;
		if (take > len - done)
			take = len - done;
		if (into_iov)
			memcpy(at, buf + done, take);
		else
			memcpy(buf + done, at, take);
		done += take;
		skip = 0;
	}
	return done;
}

size_t iov_copy_from(const struct iovec *iov, unsigned int n, size_t skip, void *dst,
		     size_t len)
{
	return iov_walk_copy(iov, n, skip, dst, len, false);
}

size_t iov_copy_to(const struct iovec *iov, unsigned int n, size_t skip, const void *src,
		   size_t len)
{
	/* The walk only reads buf when copying into the iovecs. */
	return iov_walk_copy(iov, n, skip, (uint8_t *)(uintptr_t)src, len, true);
}
