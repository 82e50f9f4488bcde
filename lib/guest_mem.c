// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "vmgenid/guest_mem.h"

void vmgenid_guest_mem_init(struct vmgenid_guest_mem *mem)
{
	memset(mem, 0, sizeof(*mem));
}

/* Last address of [gpa, gpa + size), or false if that wraps past 2^64. */
static bool range_last(uint64_t gpa, uint64_t size, uint64_t *last)
{
	if (size == 0 || size - 1 > UINT64_MAX - gpa)
		return false;
	*last = gpa + (size - 1);
	return true;
}

int vmgenid_guest_mem_add(struct vmgenid_guest_mem *mem, uint64_t gpa, uint64_t size, void *hva)
{
	uint64_t last;

	if (!hva || !range_last(gpa, size, &last))
		return -EINVAL;
	for (unsigned int i = 0; i < mem->nr_ranges; i++) {
		const struct vmgenid_guest_mem_range *r = &mem->ranges[i];
		uint64_t r_last = r->gpa + (r->size - 1);

		if (gpa <= r_last && r->gpa <= last)
			return -EINVAL;
	}
	if (mem->nr_ranges == VMGENID_GUEST_MEM_MAX_RANGES)
		return -ENOSPC;

	mem->ranges[mem->nr_ranges++] = (struct vmgenid_guest_mem_range){
		.gpa = gpa,
		.size = size,
		.hva = hva,
	};
	return 0;
}

void *vmgenid_guest_mem_ptr(const struct vmgenid_guest_mem *mem, uint64_t gpa, uint64_t len)
{
	uint64_t last;

	if (!range_last(gpa, len, &last))
		return NULL;
	for (unsigned int i = 0; i < mem->nr_ranges; i++) {
		const struct vmgenid_guest_mem_range *r = &mem->ranges[i];

		if (gpa >= r->gpa && last - r->gpa <= r->size - 1)
			return r->hva + (gpa - r->gpa);
	}
	return NULL;
}

int vmgenid_guest_mem_read(const struct vmgenid_guest_mem *mem, uint64_t gpa, void *dst, uint64_t len)
{
	const void *src = vmgenid_guest_mem_ptr(mem, gpa, len);

	if (!src)
		return -EFAULT;
	memcpy(dst, src, len);
	return 0;
}

int vmgenid_guest_mem_write(const struct vmgenid_guest_mem *mem, uint64_t gpa, const void *src, uint64_t len)
{
	void *dst = vmgenid_guest_mem_ptr(mem, gpa, len);

	if (!dst)
		return -EFAULT;
	memcpy(dst, src, len);
	return 0;
}
