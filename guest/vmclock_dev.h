/* SPDX-License-Identifier: MIT */
/*
 * The VMClock page as guest userspace sees it: /dev/vmclock0 (Linux's
 * ptp_vmclock, 6.13 and later) mapped read-only, its vm_generation_counter
 * read under the seq_count protocol, and poll() where the driver wakes
 * readers on a change.  No root needed where the device node allows it.
 *
 * The page is the hypervisor's; nothing in it is trusted.  A bad magic,
 * size or version, or a seq_count that never settles, is an error with a
 * sentence for the user, after a bounded number of tries: never a spin.
 */
#ifndef VMGENID_GUEST_VMCLOCK_DEV_H
#define VMGENID_GUEST_VMCLOCK_DEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VMCLOCK_DEV_PATH "/dev/vmclock0"
/* Tries before a seq_count that stays odd (or keeps moving) is an error:
 * the first ones spin, the rest sleep a millisecond each, so the whole
 * wait is bounded to about a tenth of a second. */
#define VMCLOCK_DEV_TRIES 200

/* What one consistent read of the page gave. */
struct vmclock_snap {
	uint32_t seq;
	uint64_t counter;  /* vm_generation_counter */
	uint64_t marker;   /* disruption_marker */
	uint64_t flags;
};

/*
 * Is the page (maplen bytes mapped) a VMClock page with a generation
 * counter?  0, or -EINVAL (bad magic, size, version) / -ENOTSUP (no
 * VM_GEN_COUNTER_PRESENT) with why set.
 */
int vmclock_dev_check(const volatile uint8_t *page, size_t maplen, char *why, size_t cap);

/*
 * One consistent read: seq_count even and unchanged across the fields.
 * 0, -EINVAL (the page went bad) or -EAGAIN (no consistent read in tries
 * tries) with why set.
 */
int vmclock_dev_read(const volatile uint8_t *page, size_t maplen, unsigned int tries,
		     struct vmclock_snap *s, char *why, size_t cap);

struct vmclock_dev {
	int fd;
	const volatile uint8_t *page;
	size_t len;
	bool can_poll; /* poll() wakes on a change (after vmclock_dev_arm()) */
	char path[512];
};

/*
 * Open and map /dev/vmclock0 (below VMGENID_ROOT) and check the page.
 * -ENOENT when there is none; other errors with why set.
 */
int vmclock_dev_open(struct vmclock_dev *d, char *why, size_t cap);
void vmclock_dev_close(struct vmclock_dev *d);

/*
 * Tell the driver what this reader has seen (a read() at offset 0), so a
 * poll() after it reports POLLIN only on the next change.
 */
void vmclock_dev_arm(struct vmclock_dev *d);

#endif
