// SPDX-License-Identifier: MIT
/*
 * The VMClock page as guest userspace sees it, through Linux's ptp_vmclock
 * driver and no /dev/mem: /dev/vmclock0 mapped read-only, read under the
 * seq_count protocol.  Static, for the e2e test guest's initramfs.
 *
 *   vmclockread [DEV]          one line: magic, size, version, flags,
 *                              seq_count, vm_generation_counter,
 *                              disruption_marker (exit 1: no device, bad
 *                              page, or an update that never ends)
 *   vmclockread poll MS [DEV]  read() once (which is what tells the driver
 *                              what this reader has seen), then poll() for
 *                              up to MS ms: poll=in, poll=hup (the device
 *                              sends no notifications), poll=timeout
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define PAGE 4096
#define OFF_MAGIC 0x00
#define OFF_SIZE 0x04
#define OFF_VERSION 0x08
#define OFF_SEQ 0x0c
#define OFF_MARKER 0x10
#define OFF_FLAGS 0x18
#define OFF_COUNTER 0x68
#define MAGIC 0x4b4c4356u
/* An update holds seq_count odd for microseconds: this many tries is seconds. */
#define MAX_TRIES 1000000

static uint32_t le32(const volatile uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint64_t le64(const volatile uint8_t *p)
{
	return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

static int show(const char *dev)
{
	int fd = open(dev, O_RDONLY);
	const volatile uint8_t *p;
	uint64_t counter = 0, marker = 0, flags = 0;
	uint32_t seq = 0, seq2;
	long tries;

	if (fd < 0) {
		fprintf(stderr, "vmclockread: %s: %s\n", dev, strerror(errno));
		return 1;
	}
	p = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED) {
		fprintf(stderr, "vmclockread: mmap %s: %s\n", dev, strerror(errno));
		return 1;
	}
	if (le32(p + OFF_MAGIC) != MAGIC || le32(p + OFF_SIZE) < PAGE ||
	    (p[OFF_VERSION] | p[OFF_VERSION + 1] << 8) != 1) {
		fprintf(stderr, "vmclockread: bad page: magic %#x size %u version %u\n",
			le32(p + OFF_MAGIC), le32(p + OFF_SIZE),
			p[OFF_VERSION] | p[OFF_VERSION + 1] << 8);
		return 1;
	}
	for (tries = 0; tries < MAX_TRIES; tries++) {
		seq = le32(p + OFF_SEQ);
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (seq & 1)
			continue;
		counter = le64(p + OFF_COUNTER);
		marker = le64(p + OFF_MARKER);
		flags = le64(p + OFF_FLAGS);
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		seq2 = le32(p + OFF_SEQ);
		if (seq2 == seq)
			break;
	}
	if (tries == MAX_TRIES) {
		fprintf(stderr, "vmclockread: seq_count never settles (last %u)\n", seq);
		return 1;
	}
	printf("magic=%#x size=%u version=1 flags=%#" PRIx64 " seq=%u counter=%" PRIu64
	       " marker=%016" PRIx64 "\n",
	       MAGIC, le32(p + OFF_SIZE), flags, seq, counter, marker);
	return 0;
}

static int wait_change(long ms, const char *dev)
{
	int fd = open(dev, O_RDONLY);
	struct pollfd pfd;
	char buf[PAGE];
	int n;

	if (fd < 0) {
		fprintf(stderr, "vmclockread: %s: %s\n", dev, strerror(errno));
		return 1;
	}
	if (read(fd, buf, sizeof(buf)) < 0) {
		fprintf(stderr, "vmclockread: read %s: %s\n", dev, strerror(errno));
		return 1;
	}
	pfd = (struct pollfd){ .fd = fd, .events = POLLIN };
	n = poll(&pfd, 1, (int)ms);
	if (n < 0) {
		fprintf(stderr, "vmclockread: poll: %s\n", strerror(errno));
		return 1;
	}
	if (n == 0)
		puts("poll=timeout");
	else if (pfd.revents & POLLHUP)
		puts("poll=hup");
	else if (pfd.revents & POLLIN)
		puts("poll=in");
	else
		printf("poll=revents:%#x\n", pfd.revents);
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 3 && !strcmp(argv[1], "poll"))
		return wait_change(strtol(argv[2], NULL, 10), argc > 3 ? argv[3] : "/dev/vmclock0");
	return show(argc > 1 ? argv[1] : "/dev/vmclock0");
}
