/* SPDX-License-Identifier: MIT */
/*
 * The guest side of fw_cfg: what firmware does to find and read files and to
 * write into them over DMA.  Freestanding (no libc), so the same code runs in
 * our guest firmware and, with port I/O routed to the device model, in host
 * tests.
 */
#ifndef VMGENID_FW_CFG_GUEST_H
#define VMGENID_FW_CFG_GUEST_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct vmgenid_fw_cfg_guest_ops {
	void *opaque;
	void (*outw)(void *opaque, uint16_t port, uint16_t value);
	uint8_t (*inb)(void *opaque, uint16_t port);
	void (*outl)(void *opaque, uint16_t port, uint32_t value);
	uint32_t (*inl)(void *opaque, uint16_t port);
};

struct vmgenid_fw_cfg_guest {
	const struct vmgenid_fw_cfg_guest_ops *ops;
	/* A 16-byte DMA descriptor in guest memory: host view and guest address. */
	uint8_t *dma_desc;
	uint64_t dma_desc_addr;
	bool has_dma;
	/* The directory copy of vmgenid_fw_cfg_guest_cache_dir (dir NULL: none). */
	uint8_t *dir;
	uint64_t dir_addr;
	uint32_t dir_cap;
	bool dir_read;
};

/*
 * Check the "QEMU" signature and the DMA feature bit.  Returns 0, or -1 when
 * there is no fw_cfg device.
 */
int vmgenid_fw_cfg_guest_init(struct vmgenid_fw_cfg_guest *g, const struct vmgenid_fw_cfg_guest_ops *ops,
		      uint8_t *dma_desc, uint64_t dma_desc_addr);

/*
 * Give the client guest memory (host view buf, guest address addr, cap
 * bytes) for a copy of the file directory.  With DMA, the next look-up reads
 * the directory into it in one transfer and every look-up then searches the
 * copy: without it each look-up reads the directory through the data port,
 * a VM exit per byte.  A directory larger than cap is looked up through the
 * ports as before.  The copy is kept until vmgenid_fw_cfg_guest_init, so it is for
 * clients that run while the directory cannot change (firmware).
 */
void vmgenid_fw_cfg_guest_cache_dir(struct vmgenid_fw_cfg_guest *g, uint8_t *buf, uint64_t addr, uint32_t cap);

/* Look a file up in the directory: 0 with *select and *size, or -1. */
int vmgenid_fw_cfg_guest_find(struct vmgenid_fw_cfg_guest *g, const char *name, uint16_t *select,
		      uint32_t *size);

/*
 * Read len bytes of item select into guest memory at addr (DMA when
 * available; dst is the host view of addr, used for the port fallback).
 * 0, or -1 if the device flagged an error.
 */
int vmgenid_fw_cfg_guest_read(struct vmgenid_fw_cfg_guest *g, uint16_t select, void *dst, uint64_t addr,
		      uint32_t len);

/*
 * DMA write of len bytes from guest memory at addr into item select,
 * starting offset bytes in (a SKIP first, then a WRITE).  0, or -1 if the
 * device flagged an error or has no DMA.
 */
int vmgenid_fw_cfg_guest_write(struct vmgenid_fw_cfg_guest *g, uint16_t select, uint32_t offset,
		       uint64_t addr, uint32_t len);

#ifdef __cplusplus
}
#endif

#endif
