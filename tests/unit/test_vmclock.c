// SPDX-License-Identifier: MIT
/*
 * The VMClock device: its page byte for byte against Linux's
 * include/uapi/linux/vmclock-abi.h, the seq_count protocol of an update,
 * the counter and marker on every load, the snapshot section, its SSDT.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <cmocka.h>

#include "vmgenid/acpi_table.h"
#include "vmgenid/bytebuf.h"
#include "vmgenid/endian.h"
#include "vmgenid/state.h"
#include "vmgenid/vmclock.h"

#define RAM_BASE 0x100000ull
#define RAM_SIZE 0x4000ull
#define PAGE_GPA (RAM_BASE + 0x2000)

static _Alignas(4096) uint8_t ram[RAM_SIZE];
static struct vmgenid_guest_mem mem;

/*
 * struct vmclock_abi as the Linux header declares it, field by field, in
 * the kernel's own types' widths.  Its natural layout is the ABI (the
 * kernel's struct has no packing attribute), so offsetof() here is a
 * second, independent statement of each offset.
 */
struct linux_vmclock_abi {
	uint32_t magic;
	uint32_t size;
	uint16_t version;
	uint8_t counter_id;
	uint8_t time_type;
	uint32_t seq_count;
	uint64_t disruption_marker;
	uint64_t flags;
	uint8_t pad[2];
	uint8_t clock_status;
	uint8_t leap_second_smearing_hint;
	uint16_t tai_offset_sec;
	uint8_t leap_indicator;
	uint8_t counter_period_shift;
	uint64_t counter_value;
	uint64_t counter_period_frac_sec;
	uint64_t counter_period_esterror_rate_frac_sec;
	uint64_t counter_period_maxerror_rate_frac_sec;
	uint64_t time_sec;
	uint64_t time_frac_sec;
	uint64_t time_esterror_nanosec;
	uint64_t time_maxerror_nanosec;
	uint64_t vm_generation_counter;
};

struct notes {
	unsigned int calls;
	uint32_t seq_seen;      /* the page's seq_count when notify ran */
	uint64_t counter_seen;  /* and its vm_generation_counter */
};

static void record_notify(void *opaque)
{
	struct notes *n = opaque;

	n->calls++;
	n->seq_seen = vmgenid_get_le32(ram + (PAGE_GPA - RAM_BASE) + VMGENID_VMCLOCK_OFF_SEQ_COUNT);
	n->counter_seen =
		vmgenid_get_le64(ram + (PAGE_GPA - RAM_BASE) + VMGENID_VMCLOCK_OFF_VM_GENERATION_COUNTER);
}

static uint8_t *page(void)
{
	return ram + (PAGE_GPA - RAM_BASE);
}

/*
 * The device draws each new disruption marker from getrandom() in the
 * middle of an update, after seq_count went odd and before any field
 * changes.  Linked with --wrap=getrandom, this is a window into that
 * moment: it records what a guest would see there, and can script the
 * value drawn.
 */
static struct {
	bool scripted;
	uint64_t value;
	unsigned int calls;
	uint32_t seq;        /* the page's seq_count at the call */
	uint64_t counter;    /* its vm_generation_counter */
	uint64_t marker;     /* its disruption_marker */
} mid;

ssize_t __real_getrandom(void *buf, size_t len, unsigned int flags);
ssize_t __wrap_getrandom(void *buf, size_t len, unsigned int flags);
ssize_t __wrap_getrandom(void *buf, size_t len, unsigned int flags)
{
	mid.calls++;
	mid.seq = vmgenid_get_le32(page() + VMGENID_VMCLOCK_OFF_SEQ_COUNT);
	mid.counter = vmgenid_get_le64(page() + VMGENID_VMCLOCK_OFF_VM_GENERATION_COUNTER);
	mid.marker = vmgenid_get_le64(page() + VMGENID_VMCLOCK_OFF_DISRUPTION_MARKER);
	if (!mid.scripted || len != sizeof(mid.value))
		return __real_getrandom(buf, len, flags);
	memcpy(buf, &mid.value, sizeof(mid.value));
	return (ssize_t)len;
}

static int setup(void **state)
{
	memset(ram, 0xa5, sizeof(ram));
	memset(&mid, 0, sizeof(mid));
	vmgenid_guest_mem_init(&mem);
	assert_int_equal(vmgenid_guest_mem_add(&mem, RAM_BASE, RAM_SIZE, ram), 0);
	*state = NULL;
	return 0;
}

static void test_offsets_match_the_linux_header(void **state)
{
	(void)state;
	/* The values are the header's and UAPI.13's table's (which agree up to 0x60). */
	assert_int_equal(offsetof(struct linux_vmclock_abi, magic), 0x00);
	assert_int_equal(VMGENID_VMCLOCK_OFF_MAGIC, 0x00);
	assert_int_equal(offsetof(struct linux_vmclock_abi, size), VMGENID_VMCLOCK_OFF_SIZE);
	assert_int_equal(VMGENID_VMCLOCK_OFF_SIZE, 0x04);
	assert_int_equal(offsetof(struct linux_vmclock_abi, version), VMGENID_VMCLOCK_OFF_VERSION);
	assert_int_equal(VMGENID_VMCLOCK_OFF_VERSION, 0x08);
	assert_int_equal(offsetof(struct linux_vmclock_abi, counter_id), VMGENID_VMCLOCK_OFF_COUNTER_ID);
	assert_int_equal(VMGENID_VMCLOCK_OFF_COUNTER_ID, 0x0a);
	assert_int_equal(offsetof(struct linux_vmclock_abi, time_type), VMGENID_VMCLOCK_OFF_TIME_TYPE);
	assert_int_equal(VMGENID_VMCLOCK_OFF_TIME_TYPE, 0x0b);
	assert_int_equal(offsetof(struct linux_vmclock_abi, seq_count), VMGENID_VMCLOCK_OFF_SEQ_COUNT);
	assert_int_equal(VMGENID_VMCLOCK_OFF_SEQ_COUNT, 0x0c);
	assert_int_equal(offsetof(struct linux_vmclock_abi, disruption_marker),
			 VMGENID_VMCLOCK_OFF_DISRUPTION_MARKER);
	assert_int_equal(VMGENID_VMCLOCK_OFF_DISRUPTION_MARKER, 0x10);
	assert_int_equal(offsetof(struct linux_vmclock_abi, flags), VMGENID_VMCLOCK_OFF_FLAGS);
	assert_int_equal(VMGENID_VMCLOCK_OFF_FLAGS, 0x18);
	assert_int_equal(offsetof(struct linux_vmclock_abi, pad), VMGENID_VMCLOCK_OFF_PAD);
	assert_int_equal(VMGENID_VMCLOCK_OFF_PAD, 0x20);
	assert_int_equal(offsetof(struct linux_vmclock_abi, clock_status),
			 VMGENID_VMCLOCK_OFF_CLOCK_STATUS);
	assert_int_equal(VMGENID_VMCLOCK_OFF_CLOCK_STATUS, 0x22);
	assert_int_equal(offsetof(struct linux_vmclock_abi, leap_second_smearing_hint),
			 VMGENID_VMCLOCK_OFF_SMEARING_HINT);
	assert_int_equal(VMGENID_VMCLOCK_OFF_SMEARING_HINT, 0x23);
	assert_int_equal(offsetof(struct linux_vmclock_abi, tai_offset_sec),
			 VMGENID_VMCLOCK_OFF_TAI_OFFSET_SEC);
	assert_int_equal(VMGENID_VMCLOCK_OFF_TAI_OFFSET_SEC, 0x24);
	assert_int_equal(offsetof(struct linux_vmclock_abi, leap_indicator),
			 VMGENID_VMCLOCK_OFF_LEAP_INDICATOR);
	assert_int_equal(VMGENID_VMCLOCK_OFF_LEAP_INDICATOR, 0x26);
	assert_int_equal(offsetof(struct linux_vmclock_abi, counter_period_shift),
			 VMGENID_VMCLOCK_OFF_COUNTER_PERIOD_SHIFT);
	assert_int_equal(VMGENID_VMCLOCK_OFF_COUNTER_PERIOD_SHIFT, 0x27);
	assert_int_equal(offsetof(struct linux_vmclock_abi, counter_value),
			 VMGENID_VMCLOCK_OFF_COUNTER_VALUE);
	assert_int_equal(VMGENID_VMCLOCK_OFF_COUNTER_VALUE, 0x28);
	assert_int_equal(offsetof(struct linux_vmclock_abi, counter_period_frac_sec),
			 VMGENID_VMCLOCK_OFF_COUNTER_PERIOD);
	assert_int_equal(VMGENID_VMCLOCK_OFF_COUNTER_PERIOD, 0x30);
	assert_int_equal(offsetof(struct linux_vmclock_abi, counter_period_esterror_rate_frac_sec),
			 VMGENID_VMCLOCK_OFF_PERIOD_ESTERROR);
	assert_int_equal(VMGENID_VMCLOCK_OFF_PERIOD_ESTERROR, 0x38);
	assert_int_equal(offsetof(struct linux_vmclock_abi, counter_period_maxerror_rate_frac_sec),
			 VMGENID_VMCLOCK_OFF_PERIOD_MAXERROR);
	assert_int_equal(VMGENID_VMCLOCK_OFF_PERIOD_MAXERROR, 0x40);
	assert_int_equal(offsetof(struct linux_vmclock_abi, time_sec), VMGENID_VMCLOCK_OFF_TIME_SEC);
	assert_int_equal(VMGENID_VMCLOCK_OFF_TIME_SEC, 0x48);
	assert_int_equal(offsetof(struct linux_vmclock_abi, time_frac_sec),
			 VMGENID_VMCLOCK_OFF_TIME_FRAC_SEC);
	assert_int_equal(VMGENID_VMCLOCK_OFF_TIME_FRAC_SEC, 0x50);
	assert_int_equal(offsetof(struct linux_vmclock_abi, time_esterror_nanosec),
			 VMGENID_VMCLOCK_OFF_TIME_ESTERROR);
	assert_int_equal(VMGENID_VMCLOCK_OFF_TIME_ESTERROR, 0x58);
	assert_int_equal(offsetof(struct linux_vmclock_abi, time_maxerror_nanosec),
			 VMGENID_VMCLOCK_OFF_TIME_MAXERROR);
	assert_int_equal(VMGENID_VMCLOCK_OFF_TIME_MAXERROR, 0x60);
	/* UAPI.13's table says 0x64 here, which would overlap time_maxerror: Linux's 0x68. */
	assert_int_equal(offsetof(struct linux_vmclock_abi, vm_generation_counter),
			 VMGENID_VMCLOCK_OFF_VM_GENERATION_COUNTER);
	assert_int_equal(VMGENID_VMCLOCK_OFF_VM_GENERATION_COUNTER, 0x68);
	assert_int_equal(sizeof(struct linux_vmclock_abi), VMGENID_VMCLOCK_ABI_SIZE);
	assert_int_equal(VMGENID_VMCLOCK_ABI_SIZE, 112);
	/* The header's flag bits: TIME_MONOTONIC is bit 7, then these two. */
	assert_true(VMGENID_VMCLOCK_FLAG_VM_GEN_COUNTER_PRESENT == 0x100);
	assert_true(VMGENID_VMCLOCK_FLAG_NOTIFICATION_PRESENT == 0x200);
}

/* The page after power-on, every byte of it. */
static void test_page_bytes_after_reset(void **state)
{
	static const uint8_t want[VMGENID_VMCLOCK_ABI_SIZE] = {
		0x56, 0x43, 0x4c, 0x4b,                         /* 0x00 magic "VCLK" */
		0x00, 0x10, 0x00, 0x00,                         /* 0x04 size 4096 */
		0x01, 0x00,                                     /* 0x08 version 1 */
		0xff,                                           /* 0x0a counter_id INVALID */
		0x01,                                           /* 0x0b time_type TAI */
		0x00, 0x00, 0x00, 0x00,                         /* 0x0c seq_count */
		0, 0, 0, 0, 0, 0, 0, 0,                         /* 0x10 disruption_marker */
		0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* 0x18 flags: bits 8, 9 */
		0x00, 0x00,                                     /* 0x20 pad */
		0x00,                                           /* 0x22 clock_status UNKNOWN */
		/* 0x23 .. 0x67: hint, TAI offset, leap, shift, counter and time: zero */
		[0x68] = 0,                                     /* 0x68 vm_generation_counter */
	};
	struct vmgenid_vmclock *c = vmgenid_vmclock_new(&mem, PAGE_GPA, NULL, NULL);

	(void)state;
	assert_non_null(c);
	/* Nothing is written before reset: the machine decides when (not on a restore). */
	assert_int_equal(page()[0], 0xa5);
	vmgenid_vmclock_reset(c);
	assert_memory_equal(page(), want, sizeof(want));
	for (size_t i = sizeof(want); i < VMGENID_VMCLOCK_PAGE_SIZE; i++)
		assert_int_equal(page()[i], 0);
	/* Neighbouring memory is untouched. */
	assert_int_equal(page()[-1], 0xa5);
	assert_int_equal(page()[VMGENID_VMCLOCK_PAGE_SIZE], 0xa5);
	vmgenid_vmclock_free(c);
}

static void test_post_load_bumps_counter_and_marker(void **state)
{
	struct notes n = { 0 };
	struct vmgenid_vmclock *c = vmgenid_vmclock_new(&mem, PAGE_GPA, record_notify, &n);
	uint64_t marker[4];

	(void)state;
	assert_non_null(c);
	vmgenid_vmclock_reset(c);
	assert_int_equal(n.calls, 0);
	marker[0] = vmgenid_vmclock_get_disruption_marker(c);
	for (unsigned int i = 1; i < 4; i++) {
		assert_int_equal(vmgenid_vmclock_post_load(c), 0);
		assert_int_equal(n.calls, i);
		/* By one each time, in the device and on the page. */
		assert_int_equal(vmgenid_vmclock_get_generation(c), i);
		assert_int_equal(vmgenid_get_le64(page() + VMGENID_VMCLOCK_OFF_VM_GENERATION_COUNTER), i);
		/* Two increments per update: odd, then even again. */
		assert_int_equal(vmgenid_vmclock_get_seq_count(c), 2 * i);
		assert_int_equal(vmgenid_get_le32(page() + VMGENID_VMCLOCK_OFF_SEQ_COUNT), 2 * i);
		marker[i] = vmgenid_vmclock_get_disruption_marker(c);
		assert_int_equal(vmgenid_get_le64(page() + VMGENID_VMCLOCK_OFF_DISRUPTION_MARKER), marker[i]);
		for (unsigned int j = 0; j < i; j++)
			assert_true(marker[i] != marker[j]);
		/* The notification comes after the update is complete. */
		assert_int_equal(n.seq_seen, 2 * i);
		assert_int_equal(n.counter_seen, i);
	}
	vmgenid_vmclock_free(c);
}

/* A reboot keeps the generation and repairs a page the guest scribbled on. */
static void test_reset_keeps_generation(void **state)
{
	struct notes n = { 0 };
	struct vmgenid_vmclock *c = vmgenid_vmclock_new(&mem, PAGE_GPA, record_notify, &n);
	uint64_t marker;

	(void)state;
	assert_non_null(c);
	vmgenid_vmclock_reset(c);
	assert_int_equal(vmgenid_vmclock_post_load(c), 0);
	marker = vmgenid_vmclock_get_disruption_marker(c);
	memset(page(), 0x33, VMGENID_VMCLOCK_PAGE_SIZE);
	vmgenid_vmclock_reset(c);
	assert_int_equal(n.calls, 1);
	assert_int_equal(vmgenid_get_le32(page() + VMGENID_VMCLOCK_OFF_MAGIC), VMGENID_VMCLOCK_MAGIC);
	assert_int_equal(vmgenid_get_le32(page() + VMGENID_VMCLOCK_OFF_SEQ_COUNT), 2);
	assert_int_equal(vmgenid_get_le64(page() + VMGENID_VMCLOCK_OFF_VM_GENERATION_COUNTER), 1);
	assert_int_equal(vmgenid_get_le64(page() + VMGENID_VMCLOCK_OFF_DISRUPTION_MARKER), marker);
	assert_int_equal(page()[VMGENID_VMCLOCK_PAGE_SIZE - 1], 0);
	vmgenid_vmclock_free(c);
}

static struct vmgenid_vmclock *loaded_device(struct notes *n, uint32_t seq, uint64_t marker,
				     uint64_t generation)
{
	struct vmgenid_vmclock *c = vmgenid_vmclock_new(&mem, PAGE_GPA, record_notify, n);
	uint8_t payload[VMGENID_VMCLOCK_STATE_LENGTH];
	const char *why = NULL;

	assert_non_null(c);
	vmgenid_put_le64(payload, PAGE_GPA);
	vmgenid_put_le32(payload + 8, seq);
	vmgenid_put_le64(payload + 12, marker);
	vmgenid_put_le64(payload + 20, generation);
	assert_int_equal(vmgenid_vmclock_load(c, payload, sizeof(payload), VMGENID_VMCLOCK_STATE_VERSION, &why),
			 0);
	return c;
}

/*
 * The order of an update as a guest on another vCPU would see it: in the
 * middle, seq_count is odd and the fields still hold the old values; at
 * the notification, seq_count is even and the fields hold the new ones.
 */
static void test_update_order(void **state)
{
	struct notes n = { 0 };
	struct vmgenid_vmclock *c = loaded_device(&n, 6, 500, 9);

	(void)state;
	vmgenid_vmclock_reset(c);
	mid.scripted = true;
	mid.value = 0xfeedface;
	assert_int_equal(vmgenid_vmclock_post_load(c), 0);
	assert_int_equal(mid.calls, 1);
	assert_int_equal(mid.seq, 7);
	assert_int_equal(mid.counter, 9);
	assert_int_equal(mid.marker, 500);
	assert_int_equal(n.calls, 1);
	assert_int_equal(n.seq_seen, 8);
	assert_int_equal(n.counter_seen, 10);
	assert_int_equal(vmgenid_get_le64(page() + VMGENID_VMCLOCK_OFF_DISRUPTION_MARKER), 0xfeedface);

	/* A draw equal to the old marker would be no change: the device moves on by one. */
	mid.value = 0xfeedface;
	assert_int_equal(vmgenid_vmclock_post_load(c), 0);
	assert_int_equal(vmgenid_vmclock_get_disruption_marker(c), 0xfeedfaceull + 1);
	vmgenid_vmclock_free(c);
}

/*
 * A guest reader on another thread, as Linux's driver reads: seq_count
 * (even), the fields, seq_count again.  Whatever it accepts must be
 * consistent: after k updates seq_count is 2k and the counter is k.  A
 * writer that changed the counter without first making seq_count odd would
 * let it accept a new counter with the old seq_count.
 */
struct reader {
	atomic_bool stop;
	unsigned long accepted, torn;
};

static void *reader_thread(void *opaque)
{
	struct reader *r = opaque;
	const uint8_t *p = page();

	while (!atomic_load(&r->stop)) {
		uint32_t seq1 = __atomic_load_n((const uint32_t *)(const void *)
						(p + VMGENID_VMCLOCK_OFF_SEQ_COUNT), __ATOMIC_ACQUIRE);
		uint64_t counter;
		uint32_t seq2;

		if (seq1 & 1)
			continue;
		counter = __atomic_load_n((const uint64_t *)(const void *)
					  (p + VMGENID_VMCLOCK_OFF_VM_GENERATION_COUNTER),
					  __ATOMIC_RELAXED);
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		seq2 = __atomic_load_n((const uint32_t *)(const void *)(p + VMGENID_VMCLOCK_OFF_SEQ_COUNT),
				       __ATOMIC_RELAXED);
		if (seq1 != seq2)
			continue;
		r->accepted++;
		if (counter != seq1 / 2)
			r->torn++;
	}
	return NULL;
}

static void test_seq_count_protects_concurrent_readers(void **state)
{
	struct vmgenid_vmclock *c = vmgenid_vmclock_new(&mem, PAGE_GPA, NULL, NULL);
	struct reader r = { .accepted = 0, .torn = 0 };
	pthread_t t;

	(void)state;
	assert_non_null(c);
	vmgenid_vmclock_reset(c);
	atomic_init(&r.stop, false);
	assert_int_equal(pthread_create(&t, NULL, reader_thread, &r), 0);
	for (unsigned int i = 0; i < 20000; i++)
		assert_int_equal(vmgenid_vmclock_post_load(c), 0);
	atomic_store(&r.stop, true);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(r.torn, 0);
	assert_int_equal(vmgenid_get_le32(page() + VMGENID_VMCLOCK_OFF_SEQ_COUNT), 40000);
	vmgenid_vmclock_free(c);
}

/* A guest that left seq_count odd does not make the device's update look done early. */
static void test_update_from_odd_guest_seq(void **state)
{
	struct notes n = { 0 };
	struct vmgenid_vmclock *c = vmgenid_vmclock_new(&mem, PAGE_GPA, record_notify, &n);

	(void)state;
	assert_non_null(c);
	vmgenid_vmclock_reset(c);
	vmgenid_put_le32(page() + VMGENID_VMCLOCK_OFF_SEQ_COUNT, 7);
	assert_int_equal(vmgenid_vmclock_post_load(c), 0);
	/* The device's own count rules: 0 -> 1 -> 2, even at the end. */
	assert_int_equal(vmgenid_get_le32(page() + VMGENID_VMCLOCK_OFF_SEQ_COUNT), 2);
	assert_int_equal(n.seq_seen, 2);
	vmgenid_vmclock_free(c);
}

static void test_new_refuses_bad_pages(void **state)
{
	(void)state;
	errno = 0;
	assert_null(vmgenid_vmclock_new(&mem, PAGE_GPA + 8, NULL, NULL));
	assert_int_equal(errno, EINVAL);
	/* Half in RAM, half out; wholly out; below RAM. */
	assert_null(vmgenid_vmclock_new(&mem, RAM_BASE + RAM_SIZE - 0x800, NULL, NULL));
	assert_null(vmgenid_vmclock_new(&mem, RAM_BASE + RAM_SIZE, NULL, NULL));
	assert_null(vmgenid_vmclock_new(&mem, RAM_BASE - 0x1000, NULL, NULL));
	assert_null(vmgenid_vmclock_new(&mem, 0xfffffffffffff000ull, NULL, NULL));
}

/* A mapping where seq_count could not be stored in one aligned access. */
static void test_new_refuses_misaligned_mapping(void **state)
{
	struct vmgenid_guest_mem odd;

	(void)state;
	vmgenid_guest_mem_init(&odd);
	assert_int_equal(vmgenid_guest_mem_add(&odd, RAM_BASE, RAM_SIZE - 8, ram + 4), 0);
	errno = 0;
	assert_null(vmgenid_vmclock_new(&odd, PAGE_GPA, NULL, NULL));
	assert_int_equal(errno, EINVAL);
}

static void test_save_layout_and_round_trip(void **state)
{
	struct notes n = { 0 };
	struct vmgenid_vmclock *c = loaded_device(&n, 10, 0x1122334455667788ull, 41), *d;
	struct vmgenid_state_reader r;
	struct vmgenid_state_section s;
	const char *why = NULL;
	struct vmgenid_bytebuf b;

	(void)state;
	vmgenid_bytebuf_init(&b);
	assert_int_equal(vmgenid_vmclock_save(c, &b), 0);
	vmgenid_state_reader_init(&r, b.data, b.len);
	assert_int_equal(vmgenid_state_reader_next(&r, &s, &why), 1);
	assert_string_equal(s.id, "vmclock");
	assert_int_equal(s.version, 1);
	assert_int_equal(s.length, VMGENID_VMCLOCK_STATE_LENGTH);
	assert_int_equal(vmgenid_get_le64(s.payload), PAGE_GPA);
	assert_int_equal(vmgenid_get_le32(s.payload + 8), 10);
	assert_int_equal(vmgenid_get_le64(s.payload + 12), 0x1122334455667788ull);
	assert_int_equal(vmgenid_get_le64(s.payload + 20), 41);

	/* A restore: the destination takes the state, then post-load bumps it. */
	d = vmgenid_vmclock_new(&mem, PAGE_GPA, record_notify, &n);
	assert_non_null(d);
	assert_int_equal(vmgenid_vmclock_load(d, s.payload, s.length, s.version, &why), 0);
	assert_int_equal(n.calls, 0);
	assert_int_equal(vmgenid_vmclock_post_load(d), 0);
	assert_int_equal(n.calls, 1);
	assert_int_equal(vmgenid_vmclock_get_generation(d), 42);
	assert_int_equal(vmgenid_vmclock_get_seq_count(d), 12);
	assert_true(vmgenid_vmclock_get_disruption_marker(d) != 0x1122334455667788ull);
	assert_int_equal(vmgenid_get_le64(page() + VMGENID_VMCLOCK_OFF_VM_GENERATION_COUNTER), 42);
	vmgenid_bytebuf_free(&b);
	vmgenid_vmclock_free(c);
	vmgenid_vmclock_free(d);
}

static void test_load_refusals_change_nothing(void **state)
{
	static const struct {
		uint32_t version, length;
		uint64_t gpa;
		uint32_t seq;
		const char *why;
	} cases[] = {
		{ 2, VMGENID_VMCLOCK_STATE_LENGTH, PAGE_GPA, 0, "unsupported vmclock state version" },
		{ 0, VMGENID_VMCLOCK_STATE_LENGTH, PAGE_GPA, 0, "unsupported vmclock state version" },
		{ 1, VMGENID_VMCLOCK_STATE_LENGTH - 1, PAGE_GPA, 0, "wrong length" },
		{ 1, VMGENID_VMCLOCK_STATE_LENGTH + 1, PAGE_GPA, 0, "wrong length" },
		{ 1, VMGENID_VMCLOCK_STATE_LENGTH, PAGE_GPA + 0x1000, 0, "another address" },
		{ 1, VMGENID_VMCLOCK_STATE_LENGTH, 0, 0, "another address" },
		{ 1, VMGENID_VMCLOCK_STATE_LENGTH, PAGE_GPA, 5, "odd seq_count" },
	};
	struct notes n = { 0 };
	struct vmgenid_vmclock *c = loaded_device(&n, 4, 99, 3);
	uint8_t payload[VMGENID_VMCLOCK_STATE_LENGTH + 1];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *why = NULL;

		memset(payload, 0, sizeof(payload));
		vmgenid_put_le64(payload, cases[i].gpa);
		vmgenid_put_le32(payload + 8, cases[i].seq);
		vmgenid_put_le64(payload + 12, 1234);
		vmgenid_put_le64(payload + 20, 77);
		assert_int_equal(vmgenid_vmclock_check_state(c, payload, cases[i].length, cases[i].version,
						     &why), -EINVAL);
		assert_non_null(why);
		why = NULL;
		assert_int_equal(vmgenid_vmclock_load(c, payload, cases[i].length, cases[i].version, &why),
				 -EINVAL);
		if (!strstr(why, cases[i].why))
			fail_msg("case %zu: expected '%s' in '%s'", i, cases[i].why, why);
		assert_int_equal(vmgenid_vmclock_get_seq_count(c), 4);
		assert_int_equal(vmgenid_vmclock_get_disruption_marker(c), 99);
		assert_int_equal(vmgenid_vmclock_get_generation(c), 3);
	}
	assert_int_equal(n.calls, 0);
	vmgenid_vmclock_free(c);
}

/*
 * The SSDT's AML body, compared with what iasl 20200925 compiles from (the header differs: iasl signs
 * itself as creator):
 *
 *   DefinitionBlock ("", "SSDT", 1, "GENVM ", "VMCLOCK ", 1) {
 *     Scope (\_SB) {
 *       Device (VCLK) {
 *         Name (_HID, "AMZNC10C")
 *         Name (_CID, "VMCLOCK")
 *         Name (_DDN, "VMCLOCK")
 *         Name (_CRS, ResourceTemplate () {
 *           Memory32Fixed (ReadOnly, 0x0FFFF000, 0x00001000)
 *         })
 *       }
 *     }
 *     Method (\_GPE._E06, 0, NotSerialized) { Notify (\_SB.VCLK, 0x80) }
 *   }
 */
static void test_ssdt_matches_iasl(void **state)
{
	static const uint8_t body[] = {
		0x10, 0x41, 0x05, 0x5c, 0x5f, 0x53, 0x42, 0x5f,
		0x5b, 0x82, 0x48, 0x04, 0x56, 0x43, 0x4c, 0x4b,
		0x08, 0x5f, 0x48, 0x49, 0x44, 0x0d, 0x41, 0x4d,
		0x5a, 0x4e, 0x43, 0x31, 0x30, 0x43, 0x00, 0x08,
		0x5f, 0x43, 0x49, 0x44, 0x0d, 0x56, 0x4d, 0x43,
		0x4c, 0x4f, 0x43, 0x4b, 0x00, 0x08, 0x5f, 0x44,
		0x44, 0x4e, 0x0d, 0x56, 0x4d, 0x43, 0x4c, 0x4f,
		0x43, 0x4b, 0x00, 0x08, 0x5f, 0x43, 0x52, 0x53,
		0x11, 0x11, 0x0a, 0x0e, 0x86, 0x09, 0x00, 0x00,
		0x00, 0xf0, 0xff, 0x0f, 0x00, 0x10, 0x00, 0x00,
		0x79, 0x00, 0x14, 0x19, 0x5c, 0x2e, 0x5f, 0x47,
		0x50, 0x45, 0x5f, 0x45, 0x30, 0x36, 0x00, 0x86,
		0x5c, 0x2e, 0x5f, 0x53, 0x42, 0x5f, 0x56, 0x43,
		0x4c, 0x4b, 0x0a, 0x80,
	};
	struct vmgenid_bytebuf b;

	(void)state;
	vmgenid_bytebuf_init(&b);
	assert_int_equal(vmgenid_vmclock_build_ssdt(&b, 0x0ffff000), 0);
	assert_int_equal(b.len, VMGENID_ACPI_TABLE_HEADER_SIZE + sizeof(body));
	assert_memory_equal(b.data, "SSDT", 4);
	assert_int_equal(vmgenid_get_le32(b.data + 4), b.len);
	assert_memory_equal(b.data + 10, "GENVM VMCLOCK ", 14);
	assert_int_equal(vmgenid_acpi_checksum(b.data, b.len), 0);
	assert_memory_equal(b.data + VMGENID_ACPI_TABLE_HEADER_SIZE, body, sizeof(body));
	vmgenid_bytebuf_free(&b);

	/* Not aligned, or above what Memory32Fixed can say: refused, nothing written. */
	vmgenid_bytebuf_init(&b);
	assert_int_equal(vmgenid_vmclock_build_ssdt(&b, 0x0ffff800), -EINVAL);
	assert_int_equal(vmgenid_vmclock_build_ssdt(&b, 0x100000000ull), -EINVAL);
	assert_int_equal(vmgenid_vmclock_build_ssdt(&b, 0xfffff000ull + 0x1000), -EINVAL);
	assert_int_equal(b.len, 0);
	vmgenid_bytebuf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_offsets_match_the_linux_header),
		cmocka_unit_test_setup(test_page_bytes_after_reset, setup),
		cmocka_unit_test_setup(test_post_load_bumps_counter_and_marker, setup),
		cmocka_unit_test_setup(test_reset_keeps_generation, setup),
		cmocka_unit_test_setup(test_update_order, setup),
		cmocka_unit_test_setup(test_seq_count_protects_concurrent_readers, setup),
		cmocka_unit_test_setup(test_update_from_odd_guest_seq, setup),
		cmocka_unit_test_setup(test_new_refuses_bad_pages, setup),
		cmocka_unit_test_setup(test_new_refuses_misaligned_mapping, setup),
		cmocka_unit_test_setup(test_save_layout_and_round_trip, setup),
		cmocka_unit_test_setup(test_load_refusals_change_nothing, setup),
		cmocka_unit_test_setup(test_ssdt_matches_iasl, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
