/* SPDX-License-Identifier: MIT */
/*
 * The VM Generation ID device (see docs/spec.md).
 *
 * It owns two fw_cfg files: "etc/vmgenid_guid" (4096 bytes, GUID in the
 * little-endian layout at offset 40, zeros elsewhere, read-only) and
 * "etc/vmgenid_addr" (8 bytes, little-endian, written by firmware with the
 * guest address of the GUID), the SSDT that describes it, and the loader
 * commands that tie them together.  When it learns the address (firmware
 * writes it, or a snapshot is loaded), it puts its GUID into guest memory and
 * notifies the guest if the memory held anything else.
 */
#ifndef VMGENID_VMGENID_H
#define VMGENID_VMGENID_H

#include <stdbool.h>
#include <stdint.h>

#include "vmgenid/bios_loader.h"
#include "vmgenid/bytebuf.h"
#include "vmgenid/fw_cfg.h"
#include "vmgenid/guest_mem.h"
#include "vmgenid/guid.h"

#ifdef __cplusplus
extern "C" {
#endif

#define VMGENID_DEV_GUID_FILE "etc/vmgenid_guid"
#define VMGENID_DEV_ADDR_FILE "etc/vmgenid_addr"
#define VMGENID_DEV_BLOB_SIZE 4096
#define VMGENID_DEV_GUID_OFFSET 40
#define VMGENID_DEV_ADDR_SIZE 8
#define VMGENID_DEV_GPE_BIT 5 /* \_GPE._E05 */
#define VMGENID_DEV_STATE_ID "vmgenid"
#define VMGENID_DEV_STATE_VERSION 1

struct vmgenid_dev;

/*
 * notify raises the ACPI event (GPE0 bit VMGENID_DEV_GPE_BIT and an SCI); it
 * runs once per change of the GUID in guest memory.  mem must outlive the
 * device.  NULL on allocation failure.
 */
struct vmgenid_dev *vmgenid_dev_new(const struct vmgenid_guid *guid, const struct vmgenid_guest_mem *mem,
			    void (*notify)(void *opaque), void *opaque);
void vmgenid_dev_free(struct vmgenid_dev *d);

/* Register both fw_cfg files (0 or negative errno). */
int vmgenid_dev_add_fw_cfg(struct vmgenid_dev *d, struct vmgenid_fw_cfg *fw);

/*
 * Append the "VMGENID" SSDT to tables (the blob of fw_cfg file tables_file)
 * and add its loader commands: ALLOCATE of etc/vmgenid_guid (4096 aligned,
 * HIGH), ADD_POINTER of VGIA to the blob, ADD_CHECKSUM of the SSDT, and the
 * WRITE_POINTER of blob + 40 into etc/vmgenid_addr.  The ALLOCATE of
 * tables_file itself is the caller's.  Returns the SSDT's offset in tables
 * (>= 0), or negative errno.
 */
long vmgenid_dev_build_acpi(struct vmgenid_dev *d, struct vmgenid_bytebuf *tables, const char *tables_file,
			struct vmgenid_bios_loader *loader);

/* The SSDT alone, and the offset of VGIA's 32-bit value in it. */
int vmgenid_dev_build_ssdt(struct vmgenid_bytebuf *out, uint32_t vgia, size_t *vgia_value_offset);

const struct vmgenid_guid *vmgenid_dev_get_guid(const struct vmgenid_dev *d);
/* Change the GUID the device holds (and its fw_cfg blob); guest memory is
 * updated on the next vmgenid_dev_post_load() or address write. */
void vmgenid_dev_set_guid(struct vmgenid_dev *d, const struct vmgenid_guid *guid);

/* Guest address of the GUID (0 when firmware has not written one yet). */
uint64_t vmgenid_dev_get_addr(const struct vmgenid_dev *d);

/* Machine reset: forget the address (firmware writes it again). */
void vmgenid_dev_reset(struct vmgenid_dev *d);

/* Snapshot: append / read the versioned "vmgenid" section. */
int vmgenid_dev_save(const struct vmgenid_dev *d, struct vmgenid_bytebuf *out);
/* -EINVAL with *why on a wrong version, length or address; d unchanged then. */
int vmgenid_dev_load(struct vmgenid_dev *d, const uint8_t *payload, uint32_t length, uint32_t version,
		 const char **why);

/*
 * After a load: if the address is valid and the 16 bytes there differ from
 * the GUID, write it and notify.  Returns 1 if it notified, 0 if not, or
 * negative errno when the address is unusable (logged, nothing written).
 */
int vmgenid_dev_post_load(struct vmgenid_dev *d);

#ifdef __cplusplus
}
#endif

#endif
