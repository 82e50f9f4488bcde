// SPDX-License-Identifier: MIT
#include "devices.h"
#include "incoming.h"
#include "layout.h"
#include "machine.h"
#include "snapdisk.h"

unsigned int snapdisk_list(struct machine *m, struct disk **out)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < m->nr_virtio; i++) {
		struct disk *d = virtio_devices_disk(m, i);

		if (d)
			out[n++] = d;
	}
	return n;
}

int snapdisk_plan(struct machine *m, struct disk_region *r, char *why, size_t why_len)
{
	struct disk *disks[LAYOUT_VIRTIO_MAX];
	unsigned int n = snapdisk_list(m, disks);

	return disk_region_plan(r, disks, n, why, why_len) < 0 ? -1 : 0;
}

int snapdisk_load(struct incoming *in, struct machine *m, char *why, size_t why_len)
{
	struct disk *disks[LAYOUT_VIRTIO_MAX];
	unsigned int n = snapdisk_list(m, disks);

	return disk_region_load(&in->reader, in->header.disk_offset, in->header.disk_length,
				disks, n, why, why_len) < 0 ? -1 : 0;
}
