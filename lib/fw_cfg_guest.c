// SPDX-License-Identifier: MIT
/*
 * fw_cfg as firmware sees it.  Freestanding: nothing from libc, not even
 * memcpy, so that it links into the guest firmware as it is.  lib/meson.build
 * links it alone with -ffreestanding -nostdlib and no undefined symbols
 * allowed, so a stray libc call (or a loop GCC turns into one) fails the
 * build.
 *
 * Byte order on the ports, written down once for the guest side:
 *   selector (0x510)  outw(key): the I/O-port selector is little-endian, and
 *                     so is an x86 outw, so the key goes out as it is.
 *   data (0x511)      byte-wide, no order.
 *   DMA (0x514/0x518) the register is big-endian (most significant byte at
 *                     the lowest port), but outl puts the least significant
 *                     byte there, so each 32-bit half goes out byte-swapped:
 *                     outl(0x514, bswap32(addr >> 32)), then
 *                     outl(0x518, bswap32(addr)), which starts the transfer.
 *                     inl() of the same ports returns "QEMU" / " CFG" in the
 *                     same swapped form.
 * The descriptor itself lives in guest memory and is big-endian field by
 * field (vmgenid_put_be32/vmgenid_put_be64).
 */
#include <stddef.h>

#include "vmgenid/endian.h"
#include "vmgenid/fw_cfg.h"
#include "vmgenid/fw_cfg_guest.h"

#define PORT_SEL (VMGENID_FW_CFG_IO_BASE + VMGENID_FW_CFG_PORT_SEL)
#define PORT_DATA (VMGENID_FW_CFG_IO_BASE + VMGENID_FW_CFG_PORT_DATA)
#define PORT_DMA_HI (VMGENID_FW_CFG_IO_BASE + VMGENID_FW_CFG_PORT_DMA_HI)
#define PORT_DMA_LO (VMGENID_FW_CFG_IO_BASE + VMGENID_FW_CFG_PORT_DMA_LO)

/*
 * QEMU completes a transfer before the outl returns, but the spec allows a
 * device to finish later, so poll; the bound turns a device that never
 * answers into an error instead of a hang.
 */
#define DMA_POLL_MAX 1000000u

static uint32_t bswap32(uint32_t v)
{
	return (v >> 24) | ((v >> 8) & 0xff00u) | ((v << 8) & 0xff0000u) | (v << 24);
}

static void select_key(const struct vmgenid_fw_cfg_guest *g, uint16_t key)
{
	g->ops->outw(g->ops->opaque, PORT_SEL, key);
}

static void read_port(const struct vmgenid_fw_cfg_guest *g, uint8_t *dst, uint32_t len)
{
	for (uint32_t i = 0; i < len; i++)
		dst[i] = g->ops->inb(g->ops->opaque, PORT_DATA);
}

/* Keeps the compiler from moving descriptor stores past the kick. */
static void compiler_barrier(void)
{
	__asm__ __volatile__("" ::: "memory");
}

static int dma_run(struct vmgenid_fw_cfg_guest *g, uint32_t ctl, uint32_t len, uint64_t addr)
{
	const volatile uint8_t *status = g->dma_desc;
	uint32_t ctl_now;

	vmgenid_put_be32(g->dma_desc, ctl);
	vmgenid_put_be32(g->dma_desc + 4, len);
	vmgenid_put_be64(g->dma_desc + 8, addr);
	compiler_barrier();

	g->ops->outl(g->ops->opaque, PORT_DMA_HI, bswap32((uint32_t)(g->dma_desc_addr >> 32)));
	g->ops->outl(g->ops->opaque, PORT_DMA_LO, bswap32((uint32_t)g->dma_desc_addr));

	for (uint32_t i = 0; i < DMA_POLL_MAX; i++) {
		ctl_now = (uint32_t)status[0] << 24 | (uint32_t)status[1] << 16 |
			  (uint32_t)status[2] << 8 | status[3];
		/* Done: everything but the error bit cleared (the selector too). */
		if (!(ctl_now & ~VMGENID_FW_CFG_DMA_CTL_ERROR))
			return (ctl_now & VMGENID_FW_CFG_DMA_CTL_ERROR) ? -1 : 0;
	}
	return -1;
}

static bool dma_probe(const struct vmgenid_fw_cfg_guest *g)
{
	const struct vmgenid_fw_cfg_guest_ops *ops = g->ops;
	uint8_t id[4];

	if (!ops->outl || !g->dma_desc)
		return false;
	select_key(g, VMGENID_FW_CFG_ID);
	read_port(g, id, sizeof(id));
	if (!(vmgenid_get_le32(id) & VMGENID_FW_CFG_VERSION_DMA))
		return false;
	/* The register's signature is a second opinion when we can read it. */
	if (ops->inl &&
	    (bswap32(ops->inl(ops->opaque, PORT_DMA_HI)) != (uint32_t)(VMGENID_FW_CFG_DMA_SIGNATURE >> 32) ||
	     bswap32(ops->inl(ops->opaque, PORT_DMA_LO)) != (uint32_t)VMGENID_FW_CFG_DMA_SIGNATURE))
		return false;
	return true;
}

int vmgenid_fw_cfg_guest_init(struct vmgenid_fw_cfg_guest *g, const struct vmgenid_fw_cfg_guest_ops *ops,
		      uint8_t *dma_desc, uint64_t dma_desc_addr)
{
	uint8_t sig[4];

	g->ops = ops;
	g->dma_desc = dma_desc;
	g->dma_desc_addr = dma_desc_addr;
	g->has_dma = false;
	g->dir = NULL;
	g->dir_cap = 0;
	g->dir_read = false;
	if (!ops || !ops->outw || !ops->inb)
		return -1;

	select_key(g, VMGENID_FW_CFG_SIGNATURE);
	read_port(g, sig, sizeof(sig));
	if (sig[0] != 'Q' || sig[1] != 'E' || sig[2] != 'M' || sig[3] != 'U')
		return -1;
	g->has_dma = dma_probe(g);
	return 0;
}

/* Step over n bytes of the selected item. */
static int skip(struct vmgenid_fw_cfg_guest *g, uint32_t n)
{
	if (n == 0)
		return 0;
	if (g->has_dma)
		return dma_run(g, VMGENID_FW_CFG_DMA_CTL_SKIP, n, 0);
	while (n--)
		(void)g->ops->inb(g->ops->opaque, PORT_DATA);
	return 0;
}

void vmgenid_fw_cfg_guest_cache_dir(struct vmgenid_fw_cfg_guest *g, uint8_t *buf, uint64_t addr, uint32_t cap)
{
	g->dir = buf;
	g->dir_addr = addr;
	g->dir_cap = buf ? cap : 0;
	g->dir_read = false;
}

/*
 * The look-up in the directory copy: 0 found, -1 not there, 1 no usable
 * copy (no DMA, no buffer, or a directory larger than it).
 */
static int find_in_copy(struct vmgenid_fw_cfg_guest *g, const char *name, size_t name_len,
			uint16_t *select, uint32_t *size)
{
	uint32_t count;

	if (!g->has_dma || !g->dir || g->dir_cap < 4)
		return 1;
	if (!g->dir_read) {
		/* Past the item's end the device fills with zeros. */
		if (dma_run(g, (uint32_t)VMGENID_FW_CFG_FILE_DIR << 16 | VMGENID_FW_CFG_DMA_CTL_SELECT |
				       VMGENID_FW_CFG_DMA_CTL_READ,
			    g->dir_cap, g->dir_addr))
			return 1;
		g->dir_read = true;
	}
	count = vmgenid_get_be32(g->dir);
	if (count > (g->dir_cap - 4) / VMGENID_FW_CFG_DIR_ENTRY_SIZE)
		return 1;
	for (uint32_t i = 0; i < count; i++) {
		const uint8_t *e = g->dir + 4 + (size_t)i * VMGENID_FW_CFG_DIR_ENTRY_SIZE;
		const uint8_t *n = e + 8;
		size_t j = 0;

		while (j < name_len && n[j] == (uint8_t)name[j])
			j++;
		if (j == name_len && n[j] == 0) {
			*select = vmgenid_get_be16(e + 4);
			*size = vmgenid_get_be32(e);
			return 0;
		}
	}
	return -1;
}

int vmgenid_fw_cfg_guest_find(struct vmgenid_fw_cfg_guest *g, const char *name, uint16_t *select,
		      uint32_t *size)
{
	uint8_t word[4], hdr[8];
	uint32_t count, j;
	size_t name_len = 0;

	while (name_len < VMGENID_FW_CFG_FILE_NAME_MAX && name[name_len])
		name_len++;
	if (name_len == 0 || name_len >= VMGENID_FW_CFG_FILE_NAME_MAX)
		return -1;
	switch (find_in_copy(g, name, name_len, select, size)) {
	case 0:
		return 0;
	case -1:
		return -1;
	default:
		break;
	}

	select_key(g, VMGENID_FW_CFG_FILE_DIR);
	read_port(g, word, sizeof(word));
	count = vmgenid_get_be32(word);

	for (uint32_t i = 0; i < count; i++) {
		read_port(g, hdr, sizeof(hdr));
		/*
		 * Compare while reading and stop at the first difference:
		 * most names share only a short prefix, so this saves most
		 * of the port reads (the rest is one DMA skip).
		 */
		for (j = 0; j < VMGENID_FW_CFG_FILE_NAME_MAX; j++) {
			uint8_t c = g->ops->inb(g->ops->opaque, PORT_DATA);

			if (c != (uint8_t)name[j])
				break;
			if (c == 0) {
				*select = vmgenid_get_be16(hdr + 4);
				*size = vmgenid_get_be32(hdr);
				return 0;
			}
		}
		/* j bytes matched and the next one was read too. */
		if (skip(g, VMGENID_FW_CFG_FILE_NAME_MAX - (j + 1)))
			return -1;
	}
	return -1;
}

int vmgenid_fw_cfg_guest_read(struct vmgenid_fw_cfg_guest *g, uint16_t select, void *dst, uint64_t addr,
		      uint32_t len)
{
	if (g->has_dma)
		return dma_run(g, (uint32_t)select << 16 | VMGENID_FW_CFG_DMA_CTL_SELECT |
				       VMGENID_FW_CFG_DMA_CTL_READ,
			       len, addr);
	if (!dst && len)
		return -1;
	select_key(g, select);
	read_port(g, dst, len);
	return 0;
}

int vmgenid_fw_cfg_guest_write(struct vmgenid_fw_cfg_guest *g, uint16_t select, uint32_t offset,
		       uint64_t addr, uint32_t len)
{
	uint32_t sel = (uint32_t)select << 16 | VMGENID_FW_CFG_DMA_CTL_SELECT;

	if (!g->has_dma)
		return -1;
	if (offset) {
		if (dma_run(g, sel | VMGENID_FW_CFG_DMA_CTL_SKIP, offset, 0))
			return -1;
		return dma_run(g, VMGENID_FW_CFG_DMA_CTL_WRITE, len, addr);
	}
	return dma_run(g, sel | VMGENID_FW_CFG_DMA_CTL_WRITE, len, addr);
}
