/* SPDX-License-Identifier: MIT */
/*
 * Bounds-checked access to guest physical memory.
 *
 * Guest RAM is a few host mappings, each covering one guest-physical range.
 * Device code never adds a guest address to a host pointer itself: it asks
 * here, and an access that is not entirely inside one range (including one
 * whose end overflows 64 bits) is refused.  That is what keeps a guest that
 * writes any address it likes into a device register from making the host
 * read or write out of bounds.
 */
#ifndef VMGENID_GUEST_MEM_H
#define VMGENID_GUEST_MEM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VMGENID_GUEST_MEM_MAX_RANGES 4

struct vmgenid_guest_mem_range {
	uint64_t gpa;  /* first guest-physical address */
	uint64_t size; /* bytes, > 0 */
	uint8_t *hva;  /* host mapping of gpa */
};

struct vmgenid_guest_mem {
	struct vmgenid_guest_mem_range ranges[VMGENID_GUEST_MEM_MAX_RANGES];
	unsigned int nr_ranges;
};

void vmgenid_guest_mem_init(struct vmgenid_guest_mem *mem);

/*
 * Add a range.  -EINVAL for a zero size, a NULL mapping, an end that
 * overflows, or an overlap with a range already added; -ENOSPC when full.
 */
int vmgenid_guest_mem_add(struct vmgenid_guest_mem *mem, uint64_t gpa, uint64_t size, void *hva);

/*
 * Host pointer to [gpa, gpa + len) if all of it lies inside one range, else
 * NULL.  len 0 is refused too (NULL): no caller has a use for it.
 */
void *vmgenid_guest_mem_ptr(const struct vmgenid_guest_mem *mem, uint64_t gpa, uint64_t len);

/* Copy in/out; 0, or -EFAULT (nothing copied) when vmgenid_guest_mem_ptr() refuses. */
int vmgenid_guest_mem_read(const struct vmgenid_guest_mem *mem, uint64_t gpa, void *dst, uint64_t len);
int vmgenid_guest_mem_write(const struct vmgenid_guest_mem *mem, uint64_t gpa, const void *src, uint64_t len);

#ifdef __cplusplus
}
#endif

#endif
