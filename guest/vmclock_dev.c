// SPDX-License-Identifier: MIT
/*
 * /dev/vmclock0 for the guest tool (see vmclock_dev.h).  The offsets are
 * libvmgenid's (include/vmgenid/vmclock.h: Linux's vmclock-abi.h layout);
 * every field is read byte by byte from the volatile mapping, so a page
 * the hypervisor changes under us is never torn into a wrong value that
 * the seq_count check would not catch.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "vmgenid/vmclock.h"

#include "platform.h"
#include "vmclock_dev.h"

#define SPIN_TRIES 100 /* an update is a few stores: these cover it */

static uint64_t rd_le(const volatile uint8_t *p, unsigned int n)
{
	uint64_t v = 0;

	for (unsigned int i = n; i-- > 0;)
		v = v << 8 | p[i];
	return v;
}

int vmclock_dev_check(const volatile uint8_t *page, size_t maplen, char *why, size_t cap)
{
	uint32_t magic, size;
	uint16_t version;
	uint64_t flags;

	if (maplen < VMGENID_VMCLOCK_ABI_SIZE) {
		snprintf(why, cap, "only %zu bytes mapped, the page needs %d", maplen,
			 VMGENID_VMCLOCK_ABI_SIZE);
		return -EINVAL;
	}
	magic = (uint32_t)rd_le(page + VMGENID_VMCLOCK_OFF_MAGIC, 4);
	size = (uint32_t)rd_le(page + VMGENID_VMCLOCK_OFF_SIZE, 4);
	version = (uint16_t)rd_le(page + VMGENID_VMCLOCK_OFF_VERSION, 2);
	flags = rd_le(page + VMGENID_VMCLOCK_OFF_FLAGS, 8);
	if (magic != VMGENID_VMCLOCK_MAGIC) {
		snprintf(why, cap, "bad magic 0x%08" PRIx32 " (a VMClock page starts with "
			 "0x%08x, \"VCLK\")", magic, VMGENID_VMCLOCK_MAGIC);
		return -EINVAL;
	}
	if (size < VMGENID_VMCLOCK_ABI_SIZE) {
		snprintf(why, cap, "size %" PRIu32 " is too small to hold vm_generation_counter "
			 "(%d bytes at least)", size, VMGENID_VMCLOCK_ABI_SIZE);
		return -EINVAL;
	}
	if (version != VMGENID_VMCLOCK_VERSION) {
		snprintf(why, cap, "version %u, not %d (the only layout this tool knows)",
			 version, VMGENID_VMCLOCK_VERSION);
		return -EINVAL;
	}
	if (!(flags & VMGENID_VMCLOCK_FLAG_VM_GEN_COUNTER_PRESENT)) {
		snprintf(why, cap, "flags 0x%" PRIx64 " lack VM_GEN_COUNTER_PRESENT: this "
			 "hypervisor keeps no generation counter in it", flags);
		return -ENOTSUP;
	}
	return 0;
}

int vmclock_dev_read(const volatile uint8_t *page, size_t maplen, unsigned int tries,
		     struct vmclock_snap *s, char *why, size_t cap)
{
	uint32_t seq = 0, seq2;
	int ret;

	for (unsigned int i = 0; i < tries; i++) {
		if (i >= SPIN_TRIES)
			nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
		seq = (uint32_t)rd_le(page + VMGENID_VMCLOCK_OFF_SEQ_COUNT, 4);
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (seq & 1)
			continue;
		/* Checked inside the read: a page that went bad mid-way is
		 * caught by seq_count or by the next check. */
		ret = vmclock_dev_check(page, maplen, why, cap);
		if (ret)
			return ret;
		s->counter = rd_le(page + VMGENID_VMCLOCK_OFF_VM_GENERATION_COUNTER, 8);
		s->marker = rd_le(page + VMGENID_VMCLOCK_OFF_DISRUPTION_MARKER, 8);
		s->flags = rd_le(page + VMGENID_VMCLOCK_OFF_FLAGS, 8);
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		seq2 = (uint32_t)rd_le(page + VMGENID_VMCLOCK_OFF_SEQ_COUNT, 4);
		if (seq2 == seq) {
			s->seq = seq;
			return 0;
		}
	}
	snprintf(why, cap, "seq_count %s after %u tries (last %" PRIu32 "): the hypervisor "
		 "never finishes its update, or the page is corrupt",
		 seq & 1 ? "stays odd" : "keeps changing", tries, seq);
	return -EAGAIN;
}

int vmclock_dev_open(struct vmclock_dev *d, char *why, size_t cap)
{
	struct stat st;
	void *map;
	int err, ret, n;

	memset(d, 0, sizeof(*d));
	d->fd = -1;
	platform_path(d->path, sizeof(d->path), VMCLOCK_DEV_PATH);
	d->fd = open(d->path, O_RDONLY | O_CLOEXEC);
	if (d->fd < 0) {
		err = errno;
		if (err == ENOENT)
			snprintf(why, cap, "%s: no such device (no VMClock device, or no "
				 "ptp_vmclock driver: Linux 6.13 and later, modprobe ptp_vmclock)",
				 VMCLOCK_DEV_PATH);
		else
			snprintf(why, cap, "%s: %s%s", VMCLOCK_DEV_PATH, strerror(err),
				 err == EACCES ? " (the driver leaves it to root; a udev rule "
				 "can open it to a group)" : "");
		return -err;
	}
	/* A regular file standing in for the device (tests) must hold a page,
	 * or the mapping's tail would fault. */
	if (fstat(d->fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size < VMGENID_VMCLOCK_PAGE_SIZE) {
		snprintf(why, cap, "%s: %lld bytes, not a page", VMCLOCK_DEV_PATH,
			 (long long)st.st_size);
		vmclock_dev_close(d);
		return -EINVAL;
	}
	/* The driver maps exactly one page at offset 0, read-only. */
	map = mmap(NULL, VMGENID_VMCLOCK_PAGE_SIZE, PROT_READ, MAP_SHARED, d->fd, 0);
	if (map == MAP_FAILED) {
		err = errno;
		snprintf(why, cap, "%s: mmap: %s%s", VMCLOCK_DEV_PATH, strerror(err),
			 err == ENODEV ? " (the driver offers no mapping: the page's size field "
			 "is below 4096)" : "");
		vmclock_dev_close(d);
		return -err;
	}
	d->page = map;
	d->len = VMGENID_VMCLOCK_PAGE_SIZE;
	n = snprintf(why, cap, "%s: not a usable VMClock page: ", VMCLOCK_DEV_PATH);
	if (n < 0 || (size_t)n >= cap)
		n = 0;
	ret = vmclock_dev_check(d->page, d->len, why + n, cap - (size_t)n);
	if (ret) {
		vmclock_dev_close(d);
		return ret;
	}
	/*
	 * Does poll() wait for a change?  After a read, a driver that handles
	 * the notification reports nothing until seq_count moves; one without
	 * a poll handler (Linux 6.13's first driver) reports readable at once,
	 * as does a regular file.  Then the page is re-read on a timer.
	 */
	vmclock_dev_arm(d);
	if (rd_le(d->page + VMGENID_VMCLOCK_OFF_FLAGS, 8) & VMGENID_VMCLOCK_FLAG_NOTIFICATION_PRESENT) {
		struct pollfd p = { .fd = d->fd, .events = POLLIN };

		d->can_poll = poll(&p, 1, 0) == 0;
	}
	return 0;
}

void vmclock_dev_arm(struct vmclock_dev *d)
{
	uint8_t buf[VMGENID_VMCLOCK_ABI_SIZE];

	/* At offset 0 every time: a read past the page returns nothing and
	 * so tells the driver nothing. */
	if (pread(d->fd, buf, sizeof(buf), 0) < 0 && errno == ESPIPE) {
		if (lseek(d->fd, 0, SEEK_SET) == 0 && read(d->fd, buf, sizeof(buf)) < 0)
			return;
	}
}

void vmclock_dev_close(struct vmclock_dev *d)
{
	if (d->page)
		munmap((void *)(uintptr_t)d->page, d->len);
	if (d->fd >= 0)
		close(d->fd);
	d->page = NULL;
	d->fd = -1;
	d->can_poll = false;
}
