// SPDX-License-Identifier: MIT
/*
 * vhost.c, the part vhost-net and vhost-vsock share, against a vhost that
 * keeps what it is told: ioctl is wrapped at link time and answers for one
 * made-up fd as /dev/vhost-* would, every other fd reaching the kernel.
 * Checked: guest RAM's ranges in the memory table; each ready queue's
 * size, position, rings (as host addresses inside guest RAM) and eventfds
 * handed over, queues the driver left alone skipped; a ring outside guest
 * RAM refused with EFAULT before vhost hears of it; vhost's own refusal
 * passed on; the ring positions taken back when vhost stops, and kept
 * when vhost cannot give them; the worker's wait, which turns each of
 * vhost's calls into the transport's interrupt and drains every eventfd
 * that fired.  A real /dev/vhost-net and /dev/vhost-vsock
 * are the e2e suite's (t_net, t_vsock).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/vhost.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <cmocka.h>

#include "vmgenid/endian.h"

#include "mmio.h"
#include "vhost.h"
#include "virtio_sim.h"

/* A descriptor number no test opens: the wrap answers for it. */
#define FAKE_FD 987

/* The second queue's rings, apart from vsim's (queue 0's). */
#define Q1_DESC (VSIM_RAM_BASE + 0x5000)
#define Q1_AVAIL (VSIM_RAM_BASE + 0x7000)
#define Q1_USED (VSIM_RAM_BASE + 0x8000)
#define Q1_SIZE 8

/* What the fake vhost was told, per queue, and what it answers. */
static struct {
	unsigned int calls;
	unsigned long fail_req; /* this request fails with fail_errno */
	int fail_errno;
	bool told[2];
	struct vhost_vring_state num[2], base[2];
	struct vhost_vring_addr addr[2];
	struct vhost_vring_file kick[2], call[2];
	uint32_t taken[2]; /* VHOST_GET_VRING_BASE's answer */
	uint32_t nregions;
	struct vhost_memory_region regions[4];
} fake;

int __real_ioctl(int fd, unsigned long req, ...);
int __wrap_ioctl(int fd, unsigned long req, ...);
int __wrap_ioctl(int fd, unsigned long req, ...)
{
	struct vhost_vring_state *st;
	struct vhost_vring_file *file;
	struct vhost_vring_addr *addr;
	struct vhost_memory *mem;
	va_list ap;
	void *arg;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (fd != FAKE_FD)
		return __real_ioctl(fd, req, arg);
	fake.calls++;
	if (req == fake.fail_req) {
		errno = fake.fail_errno;
		return -1;
	}
	switch (req) {
	case VHOST_SET_MEM_TABLE:
		mem = arg;
		assert_in_range(mem->nregions, 0, 4);
		fake.nregions = mem->nregions;
		memcpy(fake.regions, mem->regions, mem->nregions * sizeof(mem->regions[0]));
		return 0;
	case VHOST_SET_VRING_NUM:
	case VHOST_SET_VRING_BASE:
	case VHOST_GET_VRING_BASE:
		st = arg;
		assert_in_range(st->index, 0, 1);
		fake.told[st->index] = true;
		if (req == VHOST_SET_VRING_NUM)
			fake.num[st->index] = *st;
		else if (req == VHOST_SET_VRING_BASE)
			fake.base[st->index] = *st;
		else
			st->num = fake.taken[st->index];
		return 0;
	case VHOST_SET_VRING_ADDR:
		addr = arg;
		assert_in_range(addr->index, 0, 1);
		fake.told[addr->index] = true;
		fake.addr[addr->index] = *addr;
		return 0;
	case VHOST_SET_VRING_KICK:
	case VHOST_SET_VRING_CALL:
		file = arg;
		assert_in_range(file->index, 0, 1);
		fake.told[file->index] = true;
		if (req == VHOST_SET_VRING_KICK)
			fake.kick[file->index] = *file;
		else
			fake.call[file->index] = *file;
		return 0;
	default:
		fail_msg("an ioctl vhost.c has no business with: %#lx", req);
		return -1;
	}
}

struct fixture {
	struct vsim s;
	struct virtio_mmio d;
};

static const int kick_fd[2] = { 40, 41 };
static const int call_fd[2] = { 50, 51 };

/* Two queues the driver made ready, with positions of their own. */
static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct virtq *q1;

	if (!f)
		return -1;
	vsim_init(&f->s, 16);
	virtio_mmio_init(&f->d, &f->s.mem, 19, 1ull << VIRTIO_F_VERSION_1, 2, NULL, 0,
			 &f->s.ops);
	vsim_queue(&f->s, &f->d.queues[0]);
	f->d.queues[0].last_avail = 5;
	q1 = &f->d.queues[1];
	virtq_reset(q1);
	q1->size = Q1_SIZE;
	q1->desc = Q1_DESC;
	q1->avail = Q1_AVAIL;
	q1->used = Q1_USED;
	q1->last_avail = 0xfffe;
	q1->ready = true;
	memset(&fake, 0, sizeof(fake));
	fake.fail_req = ~0ul;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	virtio_mmio_destroy(&f->d);
	vsim_destroy(&f->s);
	free(f);
	return 0;
}

static uint64_t hva(struct fixture *f, uint64_t gpa)
{
	return (uint64_t)(uintptr_t)vsim_hva(&f->s, gpa);
}

/* vhost reads guest RAM through the same mappings genvm does. */
static void test_mem_table(void **state)
{
	struct fixture *f = *state;
	struct vmgenid_guest_mem two = f->s.mem;
	static uint8_t high[8192];

	assert_int_equal(vmgenid_guest_mem_add(&two, 0x100000000ull, sizeof(high), high), 0);
	assert_int_equal(vhost_set_mem(FAKE_FD, &two), 0);
	assert_int_equal(fake.nregions, 2);
	assert_int_equal(fake.regions[0].guest_phys_addr, VSIM_RAM_BASE);
	assert_int_equal(fake.regions[0].memory_size, VSIM_RAM_SIZE);
	assert_int_equal(fake.regions[0].userspace_addr, (uint64_t)(uintptr_t)f->s.ram);
	assert_int_equal(fake.regions[1].guest_phys_addr, 0x100000000ull);
	assert_int_equal(fake.regions[1].memory_size, sizeof(high));
	assert_int_equal(fake.regions[1].userspace_addr, (uint64_t)(uintptr_t)high);

	/* vhost's refusal comes back as its errno (and the table is not leaked). */
	fake.fail_req = VHOST_SET_MEM_TABLE;
	fake.fail_errno = ENOMEM;
	errno = 0;
	assert_int_equal(vhost_set_mem(FAKE_FD, &two), -1);
	assert_int_equal(errno, ENOMEM);
}

/* Each ready queue: size, where the guest's driver left it, its rings and eventfds. */
static void test_give_queues(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(vhost_give_queues(FAKE_FD, &f->d, 2, kick_fd, call_fd), 0);
	assert_int_equal(fake.calls, 10);
	for (unsigned int i = 0; i < 2; i++) {
		assert_int_equal(fake.num[i].index, i);
		assert_int_equal(fake.base[i].index, i);
		assert_int_equal(fake.addr[i].index, i);
		assert_int_equal(fake.kick[i].index, i);
		assert_int_equal(fake.kick[i].fd, kick_fd[i]);
		assert_int_equal(fake.call[i].index, i);
		assert_int_equal(fake.call[i].fd, call_fd[i]);
	}
	assert_int_equal(fake.num[0].num, 16);
	assert_int_equal(fake.base[0].num, 5);
	assert_int_equal(fake.addr[0].desc_user_addr, hva(f, VSIM_DESC));
	assert_int_equal(fake.addr[0].avail_user_addr, hva(f, VSIM_AVAIL));
	assert_int_equal(fake.addr[0].used_user_addr, hva(f, VSIM_USED));
	assert_int_equal(fake.num[1].num, Q1_SIZE);
	assert_int_equal(fake.base[1].num, 0xfffe);
	assert_int_equal(fake.addr[1].desc_user_addr, hva(f, Q1_DESC));
	assert_int_equal(fake.addr[1].avail_user_addr, hva(f, Q1_AVAIL));
	assert_int_equal(fake.addr[1].used_user_addr, hva(f, Q1_USED));
}

/* A queue the driver did not enable is none of vhost's business. */
static void test_give_skips_unready(void **state)
{
	struct fixture *f = *state;

	f->d.queues[0].ready = false;
	assert_int_equal(vhost_give_queues(FAKE_FD, &f->d, 2, kick_fd, call_fd), 0);
	assert_int_equal(fake.calls, 5);
	assert_false(fake.told[0]);
	assert_true(fake.told[1]);

	/* And only the first nr queues are vhost's. */
	memset(&fake, 0, sizeof(fake));
	fake.fail_req = ~0ul;
	f->d.queues[0].ready = true;
	assert_int_equal(vhost_give_queues(FAKE_FD, &f->d, 1, kick_fd, call_fd), 0);
	assert_int_equal(fake.calls, 5);
	assert_true(fake.told[0]);
	assert_false(fake.told[1]);
}

/*
 * A ring that does not lie whole in guest RAM (a queue state that did not
 * pass virtq_check, say from a snapshot): EFAULT, and vhost is told
 * nothing of that queue.  Each of the three rings is checked, the used
 * ring up to its avail_event.
 */
static void test_give_refuses_rings_outside_ram(void **state)
{
	struct fixture *f = *state;
	const uint64_t end = VSIM_RAM_BASE + VSIM_RAM_SIZE;
	struct virtq *q1 = &f->d.queues[1];
	const struct {
		uint64_t desc, avail, used;
	} bad[] = {
		{ end - 16ull * Q1_SIZE + 16, Q1_AVAIL, Q1_USED },
		{ Q1_DESC, end - (6ull + 2ull * Q1_SIZE) + 1, Q1_USED },
		{ Q1_DESC, Q1_AVAIL, end - (6ull + 8ull * Q1_SIZE) + 2 },
		{ Q1_DESC, Q1_AVAIL, VSIM_RAM_BASE - 8 },
	};

	/* The last byte of RAM is a ring's to use. */
	q1->used = end - (6ull + 8ull * Q1_SIZE);
	assert_int_equal(vhost_give_queues(FAKE_FD, &f->d, 2, kick_fd, call_fd), 0);
	assert_int_equal(fake.addr[1].used_user_addr, hva(f, q1->used));

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&fake, 0, sizeof(fake));
		fake.fail_req = ~0ul;
		q1->desc = bad[i].desc;
		q1->avail = bad[i].avail;
		q1->used = bad[i].used;
		errno = 0;
		assert_int_equal(vhost_give_queues(FAKE_FD, &f->d, 2, kick_fd, call_fd), -1);
		assert_int_equal(errno, EFAULT);
		assert_true(fake.told[0]);
		assert_false(fake.told[1]);
		assert_int_equal(fake.calls, 5);
	}
}

/* vhost's refusal stops the handover there, with its errno. */
static void test_give_passes_vhost_refusal_on(void **state)
{
	struct fixture *f = *state;
	int fd;

	fake.fail_req = VHOST_SET_VRING_ADDR;
	fake.fail_errno = EINVAL;
	errno = 0;
	assert_int_equal(vhost_give_queues(FAKE_FD, &f->d, 2, kick_fd, call_fd), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(fake.calls, 3);
	assert_false(fake.told[1]);
	assert_int_equal(fake.kick[0].fd, 0);

	/* A descriptor that is no vhost at all: the kernel's own answer. */
	fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	assert_true(fd >= 0);
	errno = 0;
	assert_int_equal(vhost_give_queues(fd, &f->d, 2, kick_fd, call_fd), -1);
	assert_int_equal(errno, ENOTTY);
	close(fd);
}

/*
 * vhost stopped: where it is in the driver ring comes from vhost, where
 * it is in the used ring from the used ring itself (vhost published all it
 * used), and the interrupt bookkeeping starts from there.
 */
static void test_take_queues(void **state)
{
	struct fixture *f = *state;
	struct virtq *q0 = &f->d.queues[0], *q1 = &f->d.queues[1];

	q0->used_idx = q0->signalled = 4;
	vmgenid_put_le16(vsim_hva(&f->s, VSIM_USED + 2), 7);
	vmgenid_put_le16(vsim_hva(&f->s, Q1_USED + 2), 2);
	fake.taken[0] = 9;
	fake.taken[1] = 3;
	vhost_take_queues(FAKE_FD, &f->d, 2);
	assert_int_equal(fake.calls, 2);
	assert_int_equal(q0->last_avail, 9);
	assert_int_equal(q0->used_idx, 7);
	assert_int_equal(q0->signalled, 7);
	assert_int_equal(q1->last_avail, 3);
	assert_int_equal(q1->used_idx, 2);
	assert_int_equal(q1->signalled, 2);
	/* The guest's rings are read, not written. */
	assert_int_equal(vsim_used_idx(&f->s), 7);
}

/* What vhost cannot tell, or a queue it never had, keeps the transport's state. */
static void test_take_keeps_what_vhost_cannot_give(void **state)
{
	struct fixture *f = *state;
	struct virtq *q0 = &f->d.queues[0], *q1 = &f->d.queues[1];
	int fd;

	q0->used_idx = q0->signalled = 4;
	q1->used_idx = q1->signalled = 1;
	vmgenid_put_le16(vsim_hva(&f->s, VSIM_USED + 2), 7);
	vmgenid_put_le16(vsim_hva(&f->s, Q1_USED + 2), 2);
	fake.taken[0] = fake.taken[1] = 9;

	/* Queue 0 never ready, queue 1 vhost will not report on. */
	q0->ready = false;
	fake.fail_req = VHOST_GET_VRING_BASE;
	fake.fail_errno = EINVAL;
	vhost_take_queues(FAKE_FD, &f->d, 2);
	assert_int_equal(fake.calls, 1);
	assert_int_equal(q0->last_avail, 5);
	assert_int_equal(q0->used_idx, 4);
	assert_int_equal(q1->last_avail, 0xfffe);
	assert_int_equal(q1->used_idx, 1);
	assert_int_equal(q1->signalled, 1);

	/* A descriptor that is no vhost: nothing changes either. */
	q0->ready = true;
	fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	assert_true(fd >= 0);
	vhost_take_queues(fd, &f->d, 2);
	close(fd);
	assert_int_equal(q0->last_avail, 5);
	assert_int_equal(q0->used_idx, 4);
	assert_int_equal(q1->last_avail, 0xfffe);

	/* A used ring outside RAM: vhost's position taken, the used index kept. */
	fake.fail_req = ~0ul;
	q1->used = VSIM_RAM_BASE + VSIM_RAM_SIZE;
	vhost_take_queues(FAKE_FD, &f->d, 2);
	assert_int_equal(q1->last_avail, 9);
	assert_int_equal(q1->used_idx, 1);
	assert_int_equal(q1->signalled, 1);
	assert_int_equal(q0->used_idx, 7);
}

/* Pending count of an eventfd, read without blocking (0: nothing pending). */
static uint64_t pending(int fd)
{
	uint64_t n = 0;

	if (read(fd, &n, sizeof(n)) < 0)
		assert_int_equal(errno, EAGAIN);
	return n;
}

/* Real eventfds, non-blocking and closed on exec; closing leaves -1 behind. */
static void test_eventfds(void **state)
{
	int kick[VHOST_NR_QUEUES] = { -1, -1 }, call[VHOST_NR_QUEUES] = { -1, -1 };
	uint64_t one = 1;

	(void)state;
	assert_int_equal(vhost_open_eventfds(kick, call), 0);
	for (unsigned int i = 0; i < VHOST_NR_QUEUES; i++) {
		assert_true(kick[i] >= 0 && call[i] >= 0);
		assert_true(fcntl(kick[i], F_GETFD) & FD_CLOEXEC);
		assert_true(fcntl(call[i], F_GETFL) & O_NONBLOCK);
		assert_int_equal(pending(call[i]), 0);
		assert_int_equal(write(kick[i], &one, sizeof(one)), sizeof(one));
		assert_int_equal(pending(kick[i]), 1);
	}
	assert_int_not_equal(kick[0], kick[1]);
	assert_int_not_equal(call[0], call[1]);
	vhost_close_eventfds(kick, call);
	for (unsigned int i = 0; i < VHOST_NR_QUEUES; i++)
		assert_true(kick[i] == -1 && call[i] == -1);
	/* Twice is harmless: the error path of a half-built device does it. */
	vhost_close_eventfds(kick, call);
}

/*
 * Each call vhost made is one interrupt on the transport (the VRING bit
 * set), and every eventfd that fired is drained, so the next wait does
 * not return at once for the same event.  A wake is drained but raises
 * nothing.
 */
static void test_forward_calls(void **state)
{
	struct fixture *f = *state;
	int kick[VHOST_NR_QUEUES] = { -1, -1 }, call[VHOST_NR_QUEUES] = { -1, -1 };
	int wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	uint64_t one = 1;

	assert_true(wake >= 0);
	assert_int_equal(vhost_open_eventfds(kick, call), 0);

	/* Nothing fired: the wait times out and raises nothing. */
	vhost_forward_calls(&f->d, call, wake, 0);
	assert_int_equal(f->s.irqs, 0);
	assert_int_equal(vsim_rd(&f->d, VIRTIO_MMIO_INTERRUPT_STATUS), 0);

	/* A call on the second queue. */
	assert_int_equal(write(call[1], &one, sizeof(one)), sizeof(one));
	vhost_forward_calls(&f->d, call, wake, 1000);
	assert_int_equal(f->s.irqs, 1);
	assert_int_equal(vsim_rd(&f->d, VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_VRING);
	assert_int_equal(pending(call[1]), 0);
	vsim_wr(&f->d, VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INT_VRING);

	/* Both queues and the wake at once: two interrupts, all drained. */
	assert_int_equal(write(call[0], &one, sizeof(one)), sizeof(one));
	assert_int_equal(write(call[1], &one, sizeof(one)), sizeof(one));
	assert_int_equal(write(wake, &one, sizeof(one)), sizeof(one));
	vhost_forward_calls(&f->d, call, wake, 1000);
	assert_int_equal(f->s.irqs, 3);
	assert_int_equal(pending(call[0]), 0);
	assert_int_equal(pending(call[1]), 0);
	assert_int_equal(pending(wake), 0);

	/* The wake alone: no interrupt. */
	vsim_wr(&f->d, VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INT_VRING);
	assert_int_equal(write(wake, &one, sizeof(one)), sizeof(one));
	vhost_forward_calls(&f->d, call, wake, 1000);
	assert_int_equal(f->s.irqs, 3);
	assert_int_equal(vsim_rd(&f->d, VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	assert_int_equal(pending(wake), 0);

	vhost_close_eventfds(kick, call);
	close(wake);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_mem_table, setup, teardown),
		cmocka_unit_test_setup_teardown(test_give_queues, setup, teardown),
		cmocka_unit_test_setup_teardown(test_give_skips_unready, setup, teardown),
		cmocka_unit_test_setup_teardown(test_give_refuses_rings_outside_ram, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_give_passes_vhost_refusal_on, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_take_queues, setup, teardown),
		cmocka_unit_test_setup_teardown(test_take_keeps_what_vhost_cannot_give, setup,
						teardown),
		cmocka_unit_test(test_eventfds),
		cmocka_unit_test_setup_teardown(test_forward_calls, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
