// SPDX-License-Identifier: MIT
#include <stdint.h>

#include "vmgenid/endian.h"

#include "fw_cfg_ports.h"

static void ports_outw(void *fw, uint16_t port, uint16_t value)
{
	uint8_t b[2];

	vmgenid_put_le16(b, value);
	vmgenid_fw_cfg_io(fw, port - VMGENID_FW_CFG_IO_BASE, b, 2, true);
}

static uint8_t ports_inb(void *fw, uint16_t port)
{
	uint8_t b = 0;

	vmgenid_fw_cfg_io(fw, port - VMGENID_FW_CFG_IO_BASE, &b, 1, false);
	return b;
}

static void ports_outl(void *fw, uint16_t port, uint32_t value)
{
	uint8_t b[4];

	vmgenid_put_le32(b, value);
	vmgenid_fw_cfg_io(fw, port - VMGENID_FW_CFG_IO_BASE, b, 4, true);
}

static uint32_t ports_inl(void *fw, uint16_t port)
{
	uint8_t b[4] = { 0 };

	vmgenid_fw_cfg_io(fw, port - VMGENID_FW_CFG_IO_BASE, b, 4, false);
	return vmgenid_get_le32(b);
}

struct vmgenid_fw_cfg_guest_ops fw_cfg_ports_ops(struct vmgenid_fw_cfg *fw)
{
	return (struct vmgenid_fw_cfg_guest_ops){
		.opaque = fw,
		.outw = ports_outw,
		.inb = ports_inb,
		.outl = ports_outl,
		.inl = ports_inl,
	};
}
