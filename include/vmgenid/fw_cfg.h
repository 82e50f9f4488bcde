/* SPDX-License-Identifier: MIT */
/*
 * fw_cfg device model (the host side of QEMU's firmware configuration
 * interface), with no knowledge of KVM: a VMM forwards port I/O to
 * vmgenid_fw_cfg_io() and supplies guest memory for DMA.
 *
 * Ports, relative to VMGENID_FW_CFG_IO_BASE (0x510):
 *   0x0  selector, 16-bit write (little-endian, as on x86)
 *   0x1  data, 8-bit read of the selected item at the current offset
 *   0x4  DMA address, big-endian: a 32-bit write at 0x4 sets the high half,
 *        a 32-bit write at 0x8 sets the low half and starts the transfer,
 *        a 64-bit write at 0x4 does both; reads give "QEMU CFG".
 *
 * Every guest-supplied address goes through guest_mem; a bad DMA request
 * sets the error bit in its control word and changes nothing else.
 */
#ifndef VMGENID_FW_CFG_H
#define VMGENID_FW_CFG_H

#include <stdbool.h>
#include <stdint.h>

#include "vmgenid/bytebuf.h"
#include "vmgenid/guest_mem.h"

#ifdef __cplusplus
extern "C" {
#endif

#define VMGENID_FW_CFG_IO_BASE 0x510
#define VMGENID_FW_CFG_IO_SIZE 12 /* 0x510..0x51b */
#define VMGENID_FW_CFG_PORT_SEL 0x0
#define VMGENID_FW_CFG_PORT_DATA 0x1
#define VMGENID_FW_CFG_PORT_DMA_HI 0x4
#define VMGENID_FW_CFG_PORT_DMA_LO 0x8

/* Well-known selectors */
#define VMGENID_FW_CFG_SIGNATURE 0x0000
#define VMGENID_FW_CFG_ID 0x0001
#define VMGENID_FW_CFG_FILE_DIR 0x0019
#define VMGENID_FW_CFG_FILE_FIRST 0x0020
#define VMGENID_FW_CFG_MAX_FILES 64
/* What the selector holds when the guest selected a key with no item. */
#define VMGENID_FW_CFG_INVALID 0xffff

/* VMGENID_FW_CFG_ID feature bits */
#define VMGENID_FW_CFG_VERSION_TRADITIONAL (1u << 0)
#define VMGENID_FW_CFG_VERSION_DMA (1u << 1)

/* DMA control word bits (big-endian in guest memory) */
#define VMGENID_FW_CFG_DMA_CTL_ERROR 0x01u
#define VMGENID_FW_CFG_DMA_CTL_READ 0x02u
#define VMGENID_FW_CFG_DMA_CTL_SKIP 0x04u
#define VMGENID_FW_CFG_DMA_CTL_SELECT 0x08u
#define VMGENID_FW_CFG_DMA_CTL_WRITE 0x10u

/* Value read back from the DMA address register: "QEMU CFG" */
#define VMGENID_FW_CFG_DMA_SIGNATURE 0x51454d5520434647ull

/* One directory entry: be32 size, be16 select, u16 reserved, name[56]. */
#define VMGENID_FW_CFG_FILE_NAME_MAX 56
#define VMGENID_FW_CFG_DIR_ENTRY_SIZE 64

/* The DMA descriptor the guest points at: be32 control, be32 length, be64 address. */
#define VMGENID_FW_CFG_DMA_DESC_SIZE 16

struct vmgenid_fw_cfg;

/*
 * Called after a guest write into a writable file has landed in its data:
 * offset and len describe the bytes written.
 */
typedef void (*vmgenid_fw_cfg_write_cb)(void *opaque, uint32_t offset, uint32_t len);

/*
 * mem is used for DMA; it must outlive the device.  A NULL mem gives a
 * device without DMA (VMGENID_FW_CFG_ID lacks the DMA bit, the DMA ports are
 * absent), as an older QEMU would be.  NULL on allocation failure.
 */
struct vmgenid_fw_cfg *vmgenid_fw_cfg_new(const struct vmgenid_guest_mem *mem);
void vmgenid_fw_cfg_free(struct vmgenid_fw_cfg *fw);

/*
 * Add an item under a fixed selector (below VMGENID_FW_CFG_FILE_FIRST; SIGNATURE,
 * ID and FILE_DIR are the device's own).  The data is referenced, not
 * copied: it must outlive the device, and changes to it are visible to the
 * guest.  -EINVAL for a reserved or used selector.
 */
int vmgenid_fw_cfg_add_bytes(struct vmgenid_fw_cfg *fw, uint16_t key, const void *data, uint32_t len);

/*
 * Add a named file (name: 1..55 chars).  It gets the next free selector from
 * VMGENID_FW_CFG_FILE_FIRST; the directory is kept sorted by name, as QEMU does.
 * Read-only files take writable=false and cb=NULL.  Data is referenced as
 * for vmgenid_fw_cfg_add_bytes().  Returns the selector (>= VMGENID_FW_CFG_FILE_FIRST), or
 * -EINVAL (bad name, duplicate), -ENOSPC (directory full).
 */
int vmgenid_fw_cfg_add_file(struct vmgenid_fw_cfg *fw, const char *name, void *data, uint32_t len,
		    bool writable, vmgenid_fw_cfg_write_cb cb, void *opaque);

/*
 * The single I/O entry point: port is relative to VMGENID_FW_CFG_IO_BASE, data holds
 * len bytes (little-endian host order for port values, as an x86 CPU puts
 * them on the bus).  Accesses of a size or at a port the device does not
 * have are ignored (writes) or read as all ones (reads).
 */
void vmgenid_fw_cfg_io(void *opaque, uint64_t port, uint8_t *data, uint32_t len, bool is_write);

/*
 * Forget the selector, offset and DMA address, as on a machine reset.  Like
 * QEMU, this leaves VMGENID_FW_CFG_SIGNATURE selected at offset 0.
 */
void vmgenid_fw_cfg_reset(struct vmgenid_fw_cfg *fw);

/*
 * Selector and offset, for snapshots.  The key is VMGENID_FW_CFG_INVALID when the
 * guest selected a key that has no item.  set: -EINVAL unless key names an
 * item and offset <= its length, or key is VMGENID_FW_CFG_INVALID and offset is 0.
 */
void vmgenid_fw_cfg_get_position(const struct vmgenid_fw_cfg *fw, uint16_t *key, uint32_t *offset);
int vmgenid_fw_cfg_set_position(struct vmgenid_fw_cfg *fw, uint16_t key, uint32_t offset);

/*
 * Snapshot: the "fw_cfg" section holds the selector, offset and DMA address
 * register, and the contents of every guest-writable file by name.  Load
 * onto a device built with the same files: everything is checked first (the
 * position names an item, each file exists, is writable and has the same
 * size), and only then applied, without calling the write callbacks.
 * Returns 0, or -EINVAL with *why; fw unchanged then.
 */
#define VMGENID_FW_CFG_STATE_ID "fw_cfg"
#define VMGENID_FW_CFG_STATE_VERSION 1
int vmgenid_fw_cfg_save(const struct vmgenid_fw_cfg *fw, struct vmgenid_bytebuf *out);
int vmgenid_fw_cfg_load(struct vmgenid_fw_cfg *fw, const uint8_t *payload, uint32_t length, uint32_t version,
		const char **why);

#ifdef __cplusplus
}
#endif

#endif
