/* SPDX-License-Identifier: MIT */
/*
 * The VMClock device (UAPI.13 "VMClock"; Linux's ptp_vmclock driver and
 * include/uapi/linux/vmclock-abi.h): one page of guest memory holding a
 * struct vmclock_abi, described in ACPI by a device with a _CRS, and a
 * notification when it changes.  See docs/vmclock.md.
 *
 * What this device offers the guest is the clone signal, not a clock: the
 * counter_id says "no precise clock" and clock_status "unknown", so no
 * guest mistakes it for a time source.  vm_generation_counter goes up by one
 * and disruption_marker takes a new value on every snapshot load, and the
 * guest userspace reads both by mmap of /dev/vmclock0.
 *
 * The page's place is the machine's choice (a page-aligned address below
 * 4 GiB, in memory the E820 map marks reserved); the device writes it
 * through guest_mem, following the seq_count protocol on every change.
 */
#ifndef VMGENID_VMCLOCK_H
#define VMGENID_VMCLOCK_H

#include <stdbool.h>
#include <stdint.h>

#include "vmgenid/bios_loader.h"
#include "vmgenid/bytebuf.h"
#include "vmgenid/guest_mem.h"

#ifdef __cplusplus
extern "C" {
#endif

/* struct vmclock_abi, little-endian, as Linux's vmclock-abi.h lays it out. */
#define VMGENID_VMCLOCK_OFF_MAGIC 0x00                 /* le32 */
#define VMGENID_VMCLOCK_OFF_SIZE 0x04                  /* le32 */
#define VMGENID_VMCLOCK_OFF_VERSION 0x08               /* le16 */
#define VMGENID_VMCLOCK_OFF_COUNTER_ID 0x0a            /* u8 */
#define VMGENID_VMCLOCK_OFF_TIME_TYPE 0x0b             /* u8 */
#define VMGENID_VMCLOCK_OFF_SEQ_COUNT 0x0c             /* le32 */
#define VMGENID_VMCLOCK_OFF_DISRUPTION_MARKER 0x10     /* le64 */
#define VMGENID_VMCLOCK_OFF_FLAGS 0x18                 /* le64 */
#define VMGENID_VMCLOCK_OFF_PAD 0x20                   /* u8[2] */
#define VMGENID_VMCLOCK_OFF_CLOCK_STATUS 0x22          /* u8 */
#define VMGENID_VMCLOCK_OFF_SMEARING_HINT 0x23         /* u8 */
#define VMGENID_VMCLOCK_OFF_TAI_OFFSET_SEC 0x24        /* le16, signed */
#define VMGENID_VMCLOCK_OFF_LEAP_INDICATOR 0x26        /* u8 */
#define VMGENID_VMCLOCK_OFF_COUNTER_PERIOD_SHIFT 0x27  /* u8 */
#define VMGENID_VMCLOCK_OFF_COUNTER_VALUE 0x28         /* le64 */
#define VMGENID_VMCLOCK_OFF_COUNTER_PERIOD 0x30        /* le64 */
#define VMGENID_VMCLOCK_OFF_PERIOD_ESTERROR 0x38       /* le64 */
#define VMGENID_VMCLOCK_OFF_PERIOD_MAXERROR 0x40       /* le64 */
#define VMGENID_VMCLOCK_OFF_TIME_SEC 0x48              /* le64 */
#define VMGENID_VMCLOCK_OFF_TIME_FRAC_SEC 0x50         /* le64 */
#define VMGENID_VMCLOCK_OFF_TIME_ESTERROR 0x58         /* le64 */
#define VMGENID_VMCLOCK_OFF_TIME_MAXERROR 0x60         /* le64 */
#define VMGENID_VMCLOCK_OFF_VM_GENERATION_COUNTER 0x68 /* le64 */
#define VMGENID_VMCLOCK_ABI_SIZE 0x70

#define VMGENID_VMCLOCK_MAGIC 0x4b4c4356u /* "VCLK" */
#define VMGENID_VMCLOCK_VERSION 1
#define VMGENID_VMCLOCK_COUNTER_X86_TSC 1
#define VMGENID_VMCLOCK_COUNTER_INVALID 0xff
#define VMGENID_VMCLOCK_TIME_TAI 1
#define VMGENID_VMCLOCK_STATUS_UNKNOWN 0
/* Linux's bit numbers (the UAPI text's table is one lower: it omits TIME_MONOTONIC). */
#define VMGENID_VMCLOCK_FLAG_VM_GEN_COUNTER_PRESENT (1ull << 8)
#define VMGENID_VMCLOCK_FLAG_NOTIFICATION_PRESENT (1ull << 9)

#define VMGENID_VMCLOCK_PAGE_SIZE 4096u /* the size field: a whole page, so it can be mmapped */
#define VMGENID_VMCLOCK_GPE_BIT 6       /* \_GPE._E06; vmgenid has 5 */
#define VMGENID_VMCLOCK_ACPI_HID "AMZNC10C"
#define VMGENID_VMCLOCK_ACPI_CID "VMCLOCK"
#define VMGENID_VMCLOCK_STATE_ID "vmclock"
#define VMGENID_VMCLOCK_STATE_VERSION 1
#define VMGENID_VMCLOCK_STATE_LENGTH 28

struct vmgenid_vmclock;

/*
 * A device whose page is at gpa (page-aligned, below 4 GiB, inside mem,
 * mapped 8-byte aligned).
 * notify raises GPE0 bit VMGENID_VMCLOCK_GPE_BIT and an SCI; it runs after every
 * update of the page.  mem must outlive the device.  NULL with errno
 * EINVAL for a bad gpa, ENOMEM.  Guest memory is not touched until
 * vmgenid_vmclock_reset().
 */
struct vmgenid_vmclock *vmgenid_vmclock_new(const struct vmgenid_guest_mem *mem, uint64_t gpa,
			    void (*notify)(void *opaque), void *opaque);
void vmgenid_vmclock_free(struct vmgenid_vmclock *c);

uint64_t vmgenid_vmclock_get_gpa(const struct vmgenid_vmclock *c);
uint64_t vmgenid_vmclock_get_generation(const struct vmgenid_vmclock *c);
uint64_t vmgenid_vmclock_get_disruption_marker(const struct vmgenid_vmclock *c);
uint32_t vmgenid_vmclock_get_seq_count(const struct vmgenid_vmclock *c);

/*
 * Power-on and machine reset: write the whole page (constant fields, the
 * current counter and marker, zeros elsewhere).  The generation counter
 * survives a reboot, as UAPI.13 asks.  No notification: no guest is running.
 */
void vmgenid_vmclock_reset(struct vmgenid_vmclock *c);

/*
 * The "VMCLOCK" SSDT alone: \_SB.VCLK with _HID AMZNC10C, _CID and _DDN
 * VMCLOCK, a _CRS of Memory32Fixed(ReadOnly, gpa, 4096), and \_GPE._E06
 * doing Notify(\_SB.VCLK, 0x80).
 */
int vmgenid_vmclock_build_ssdt(struct vmgenid_bytebuf *out, uint64_t gpa);

/*
 * Append that SSDT to tables (the blob of fw_cfg file tables_file) with its
 * ADD_CHECKSUM command.  Returns its offset in tables, or negative errno.
 */
long vmgenid_vmclock_build_acpi(struct vmgenid_vmclock *c, struct vmgenid_bytebuf *tables, const char *tables_file,
			struct vmgenid_bios_loader *loader);

/* Snapshot: append the versioned "vmclock" section. */
int vmgenid_vmclock_save(const struct vmgenid_vmclock *c, struct vmgenid_bytebuf *out);
/*
 * Check a section's payload whole (version, length, the page's address
 * against this device's): 0, or -EINVAL with *why.  Changes nothing.
 */
int vmgenid_vmclock_check_state(const struct vmgenid_vmclock *c, const uint8_t *payload, uint32_t length,
			uint32_t version, const char **why);
/* vmgenid_vmclock_check_state(), then take the counter, marker and seq_count. */
int vmgenid_vmclock_load(struct vmgenid_vmclock *c, const uint8_t *payload, uint32_t length, uint32_t version,
		 const char **why);

/*
 * After a load (a restore or a clone): seq_count to odd, the generation
 * counter up by one and a new disruption marker, seq_count to even, then
 * notify.  0, or -EFAULT when the page is not in guest memory.
 */
int vmgenid_vmclock_post_load(struct vmgenid_vmclock *c);

#ifdef __cplusplus
}
#endif

#endif
