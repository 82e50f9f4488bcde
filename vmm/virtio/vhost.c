// SPDX-License-Identifier: MIT
#include <errno.h>
#include <linux/vhost.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "vmgenid/log.h"

#include "vmgenid/endian.h"

#include "vhost.h"

#define MOD "vhost"

int vhost_open_eventfds(int *kick_fd, int *call_fd)
{
	for (unsigned int i = 0; i < VHOST_NR_QUEUES; i++) {
		kick_fd[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (kick_fd[i] < 0)
			return -1;
		call_fd[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (call_fd[i] < 0)
			return -1;
	}
	return 0;
}

void vhost_close_eventfds(int *kick_fd, int *call_fd)
{
	for (unsigned int i = 0; i < VHOST_NR_QUEUES; i++) {
		if (kick_fd[i] >= 0)
			close(kick_fd[i]);
		if (call_fd[i] >= 0)
			close(call_fd[i]);
		kick_fd[i] = call_fd[i] = -1;
	}
}

void vhost_forward_calls(struct virtio_mmio *d, const int *call_fd, int wake_fd, int timeout_ms)
{
	struct pollfd p[1 + VHOST_NR_QUEUES] = { { .fd = wake_fd, .events = POLLIN } };
	uint64_t n;

	for (unsigned int i = 0; i < VHOST_NR_QUEUES; i++)
		p[1 + i] = (struct pollfd){ .fd = call_fd[i], .events = POLLIN };
	if (poll(p, 1 + VHOST_NR_QUEUES, timeout_ms) <= 0)
		return;
	for (unsigned int i = 0; i < 1 + VHOST_NR_QUEUES; i++) {
		if (!(p[i].revents & POLLIN))
			continue;
		if (read(p[i].fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
			vmgenid_pr_warn(MOD, "eventfd: %s", strerror(errno));
		if (i > 0)
			virtio_mmio_interrupt(d);
	}
}

int vhost_set_mem(int fd, const struct vmgenid_guest_mem *mem)
{
	struct vhost_memory *table;
	int ret, err;

	/* Guest RAM as vhost must see it: the mappings genvm's own devices use. */
	table = calloc(1, sizeof(*table) + mem->nr_ranges * sizeof(table->regions[0]));
	if (!table) {
		errno = ENOMEM;
		return -1;
	}
	table->nregions = mem->nr_ranges;
	for (unsigned int i = 0; i < mem->nr_ranges; i++) {
		table->regions[i].guest_phys_addr = mem->ranges[i].gpa;
		table->regions[i].memory_size = mem->ranges[i].size;
		table->regions[i].userspace_addr = (uint64_t)(uintptr_t)mem->ranges[i].hva;
	}
	ret = ioctl(fd, VHOST_SET_MEM_TABLE, table);
	err = errno;
	free(table);
	errno = err;
	return ret < 0 ? -1 : 0;
}

int vhost_give_queues(int fd, const struct virtio_mmio *d, unsigned int nr, const int *kick_fd,
		      const int *call_fd)
{
	for (unsigned int i = 0; i < nr; i++) {
		const struct virtq *q = &d->queues[i];
		struct vhost_vring_state num = { .index = i, .num = q->size };
		struct vhost_vring_state base = { .index = i, .num = q->last_avail };
		struct vhost_vring_file kick = { .index = i, .fd = kick_fd[i] };
		struct vhost_vring_file call = { .index = i, .fd = call_fd[i] };
		struct vhost_vring_addr addr = { .index = i };
		void *desc, *avail, *used;

		if (!q->ready)
			continue;
		/* virtq_check saw these inside RAM when the driver enabled the queue. */
		desc = vmgenid_guest_mem_ptr(d->mem, q->desc, 16ull * q->size);
		avail = vmgenid_guest_mem_ptr(d->mem, q->avail, 6ull + 2ull * q->size);
		used = vmgenid_guest_mem_ptr(d->mem, q->used, 6ull + 8ull * q->size);
		if (!desc || !avail || !used) {
			errno = EFAULT;
			return -1;
		}
		addr.desc_user_addr = (uint64_t)(uintptr_t)desc;
		addr.avail_user_addr = (uint64_t)(uintptr_t)avail;
		addr.used_user_addr = (uint64_t)(uintptr_t)used;
		if (ioctl(fd, VHOST_SET_VRING_NUM, &num) < 0 ||
		    ioctl(fd, VHOST_SET_VRING_BASE, &base) < 0 ||
		    ioctl(fd, VHOST_SET_VRING_ADDR, &addr) < 0 ||
		    ioctl(fd, VHOST_SET_VRING_KICK, &kick) < 0 ||
		    ioctl(fd, VHOST_SET_VRING_CALL, &call) < 0)
			return -1;
	}
	return 0;
}

void vhost_take_queues(int fd, struct virtio_mmio *d, unsigned int nr)
{
	for (unsigned int i = 0; i < nr; i++) {
		struct virtq *q = &d->queues[i];
		struct vhost_vring_state base = { .index = i };
		uint8_t idx[2];

		if (!q->ready || ioctl(fd, VHOST_GET_VRING_BASE, &base) < 0)
			continue;
		q->last_avail = (uint16_t)base.num;
		/* vhost published everything it used: the ring's own index is the truth. */
		if (vmgenid_guest_mem_read(d->mem, q->used + 2, idx, 2) == 0)
			q->used_idx = q->signalled = vmgenid_get_le16(idx);
	}
}
