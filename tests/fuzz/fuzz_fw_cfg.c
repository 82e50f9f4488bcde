// SPDX-License-Identifier: MIT
/*
 * fw_cfg as a guest reaches it: selector and data ports, the DMA address
 * registers and the descriptors they point at, over genvm's own files
 * (vmgenid's writable address file among them) and a small guest RAM that
 * the input also writes into.  Beyond the sanitizers it checks what must
 * hold whatever a guest does: the device's position is one it would accept
 * back, the GUID address it took is usable guest RAM, and its state saves
 * and loads back onto a fresh machine unchanged.
 */
#include <string.h>

#include "vmgenid/endian.h"
#include "vmgenid/state.h"

#include "fuzz.h"
#include "fuzz_machine.h"

static uint8_t ram[FUZZ_RAM_SIZE], ram2[FUZZ_RAM_SIZE];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet_logs();
	return 0;
}

static void ram_write(struct fuzz_in *in)
{
	uint16_t off = (uint16_t)(fuzz_le16(in) % FUZZ_RAM_SIZE);
	size_t n = fuzz_u8(in), got;
	const uint8_t *src = fuzz_take(in, n, &got);

	if (got > FUZZ_RAM_SIZE - off)
		got = FUZZ_RAM_SIZE - off;
	memcpy(ram + off, src, got);
}

static void port_access(struct fuzz_machine *m, uint8_t op, struct fuzz_in *in)
{
	uint32_t len = 1u << ((op >> FUZZ_OP_SIZE_SHIFT) & 3);
	bool is_write = op & FUZZ_OP_WRITE;
	uint8_t data[8] = { 0 };
	size_t got;

	if (is_write)
		memcpy(data, fuzz_take(in, len, &got), got);
	vmgenid_fw_cfg_io(m->fw, op & FUZZ_OP_PORT_MASK, data, len, is_write);
}

/* The selector and offset are always ones the device itself accepts. */
static void check_position(struct fuzz_machine *m)
{
	uint16_t key;
	uint32_t offset;

	vmgenid_fw_cfg_get_position(m->fw, &key, &offset);
	FUZZ_CHECK(vmgenid_fw_cfg_set_position(m->fw, key, offset) == 0);
}

/* A GUID address the device holds is 8-byte aligned guest RAM, or 0. */
static void check_guid_addr(struct fuzz_machine *m)
{
	uint64_t addr = vmgenid_dev_get_addr(m->vmgenid);

	if (!addr)
		return;
	FUZZ_CHECK(addr % 8 == 0);
	FUZZ_CHECK(vmgenid_guest_mem_ptr(&m->mem, addr, 16) != NULL);
}

/* Whatever state the guest reached must survive a snapshot round trip. */
static void check_save_load(struct fuzz_machine *m)
{
	struct fuzz_machine dst;
	struct vmgenid_state_reader r;
	struct vmgenid_state_section s;
	struct vmgenid_bytebuf b;
	const char *why = NULL;
	uint16_t key, key2;
	uint32_t off, off2;
	int n = 0;

	vmgenid_bytebuf_init(&b);
	FUZZ_CHECK(vmgenid_fw_cfg_save(m->fw, &b) == 0);
	FUZZ_CHECK(vmgenid_dev_save(m->vmgenid, &b) == 0);
	memcpy(ram2, ram, sizeof(ram));
	FUZZ_CHECK(fuzz_machine_init(&dst, ram2) == 0);
	vmgenid_state_reader_init(&r, b.data, b.len);
	while (vmgenid_state_reader_next(&r, &s, &why) == 1) {
		if (n++ == 0)
			FUZZ_CHECK(vmgenid_fw_cfg_load(dst.fw, s.payload, s.length, s.version, &why) == 0);
		else
			FUZZ_CHECK(vmgenid_dev_load(dst.vmgenid, s.payload, s.length, s.version,
						&why) == 0);
	}
	FUZZ_CHECK(n == 2);
	vmgenid_fw_cfg_get_position(m->fw, &key, &off);
	vmgenid_fw_cfg_get_position(dst.fw, &key2, &off2);
	FUZZ_CHECK(key == key2 && off == off2);
	FUZZ_CHECK(vmgenid_dev_get_addr(m->vmgenid) == vmgenid_dev_get_addr(dst.vmgenid));
	fuzz_machine_destroy(&dst);
	vmgenid_bytebuf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	struct fuzz_machine m;

	memset(ram, 0, sizeof(ram));
	FUZZ_CHECK(fuzz_machine_init(&m, ram) == 0);
	while (in.left) {
		uint8_t op = fuzz_u8(&in);

		if (op & FUZZ_OP_RAM) {
			ram_write(&in);
			continue;
		}
		port_access(&m, op, &in);
		check_position(&m);
		check_guid_addr(&m);
	}
	check_save_load(&m);
	fuzz_machine_destroy(&m);
	return 0;
}
