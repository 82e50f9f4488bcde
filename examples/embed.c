// SPDX-License-Identifier: MIT
/*
 * Embedding the VM Generation ID device in a VMM, in C (docs/embedding.md).
 *
 * The VMM part is struct machine and machine_build(): guest RAM, the fw_cfg
 * device, the vmgenid device with its GPE callback, the ACPI tables and the
 * table-loader script as fw_cfg files.  Then a boot (firmware.h plays the
 * guest's firmware), a snapshot, a clone from it with a new GUID, and a
 * GUID changed at run time.  Each step prints what the guest now sees.
 *
 * Build: cc embed.c $(pkg-config --cflags --libs libvmgenid)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vmgenid/acpi_tables.h>
#include <vmgenid/bios_loader.h>
#include <vmgenid/bytebuf.h>
#include <vmgenid/fw_cfg.h>
#include <vmgenid/guest_mem.h>
#include <vmgenid/guid.h>
#include <vmgenid/log.h>
#include <vmgenid/state.h>
#include <vmgenid/vmgenid.h>

#include "firmware.h"

#define RAM_SIZE (4u << 20)

struct machine {
	uint8_t *ram;
	struct vmgenid_guest_mem mem;
	struct vmgenid_fw_cfg *fw_cfg;
	struct vmgenid_dev *vmgenid;
	/* fw_cfg references these blobs: they live as long as the machine. */
	struct vmgenid_bytebuf rsdp, tables;
	struct vmgenid_bios_loader loader;
	unsigned int gpe0_sts; /* the GPE0 status bits the VMM's ACPI PM block holds */
};

/*
 * The device's notification: set GPE0 status bit 5 and raise the SCI.  It
 * runs inside the library call that changed the GUID in guest memory, on
 * that caller's thread.
 */
static void raise_gpe(void *opaque)
{
	struct machine *m = opaque;

	m->gpe0_sts |= 1u << VMGENID_DEV_GPE_BIT;
	printf("vmm: GPE0 bit %d set, SCI raised\n", VMGENID_DEV_GPE_BIT);
}

static int add_blob(struct machine *m, const char *name, struct vmgenid_bytebuf *b)
{
	if (vmgenid_bytebuf_failed(b) || b->len > UINT32_MAX)
		return -ENOMEM;
	int ret = vmgenid_fw_cfg_add_file(m->fw_cfg, name, b->data, (uint32_t)b->len, false, NULL,
					  NULL);
	return ret < 0 ? ret : 0;
}

/*
 * Everything a VMM sets up before its first vCPU runs.  ram is the guest's
 * RAM (a clone passes a copy of its source's).  0 or negative errno.
 */
static int machine_build(struct machine *m, uint8_t *ram, const struct vmgenid_guid *guid)
{
	const struct vmgenid_acpi_machine desc = {
		.nr_cpus = 1,
		.lapic_addr = 0xfee00000u,
		.ioapic_addr = 0xfec00000u,
		.pm1a_evt_port = 0x600,
		.pm1a_cnt_port = 0x604,
		.pm_tmr_port = 0x608,
		.gpe0_port = 0x620,
		.gpe0_len = 4,
		.sci_irq = 9,
		.reset_port = 0xcf9,
		.reset_value = 0x06,
		.slp_typ_s5 = 5,
		.uart_port = 0x3f8,
		.uart_irq = 4,
		.fw_cfg_port = VMGENID_FW_CFG_IO_BASE,
	};
	int ret;

	memset(m, 0, sizeof(*m));
	m->ram = ram;
	vmgenid_guest_mem_init(&m->mem);
	ret = vmgenid_guest_mem_add(&m->mem, 0, RAM_SIZE, ram);
	if (ret < 0)
		return ret;

	m->fw_cfg = vmgenid_fw_cfg_new(&m->mem);
	m->vmgenid = vmgenid_dev_new(guid, &m->mem, raise_gpe, m);
	if (!m->fw_cfg || !m->vmgenid)
		return -ENOMEM;

	/* FACS, DSDT, FADT, MADT, the vmgenid SSDT, XSDT, the RSDP, and the script. */
	vmgenid_bytebuf_init(&m->rsdp);
	vmgenid_bytebuf_init(&m->tables);
	vmgenid_bios_loader_init(&m->loader);
	ret = vmgenid_acpi_build_tables(&desc, m->vmgenid, &m->rsdp, &m->tables, &m->loader);
	if (ret < 0)
		return ret;
	if ((ret = add_blob(m, VMGENID_ACPI_RSDP_FILE, &m->rsdp)) < 0 ||
	    (ret = add_blob(m, VMGENID_ACPI_TABLES_FILE, &m->tables)) < 0 ||
	    (ret = add_blob(m, VMGENID_BIOS_LOADER_FILE, &m->loader.script)) < 0)
		return ret;
	/* etc/vmgenid_guid and the writable etc/vmgenid_addr. */
	return vmgenid_dev_add_fw_cfg(m->vmgenid, m->fw_cfg);
}

static void machine_free(struct machine *m)
{
	vmgenid_dev_free(m->vmgenid);
	vmgenid_fw_cfg_free(m->fw_cfg);
	vmgenid_bytebuf_free(&m->rsdp);
	vmgenid_bytebuf_free(&m->tables);
	vmgenid_bios_loader_free(&m->loader);
}

/* What the guest's driver would read: 16 bytes at the address, in GUID order. */
static void print_guest_view(const char *who, const struct machine *m)
{
	uint64_t addr = vmgenid_dev_get_addr(m->vmgenid);
	uint8_t le[VMGENID_GUID_SIZE];
	struct vmgenid_guid g;
	char text[VMGENID_GUID_STR_LEN + 1];

	if (vmgenid_guest_mem_read(&m->mem, addr, le, sizeof(le)) < 0) {
		printf("%s: no GUID in guest memory\n", who);
		return;
	}
	vmgenid_guid_from_le(le, &g);
	vmgenid_guid_format(&g, text);
	printf("%s: guest reads %s at %#llx\n", who, text, (unsigned long long)addr);
}

/* A snapshot: one state section per device, as a VMM's save writes them. */
static int machine_save(const struct machine *m, struct vmgenid_bytebuf *out)
{
	int ret = vmgenid_fw_cfg_save(m->fw_cfg, out);

	return ret < 0 ? ret : vmgenid_dev_save(m->vmgenid, out);
}

/* Load every section into the device it names, then let the device act. */
static int machine_load(struct machine *m, const struct vmgenid_bytebuf *in)
{
	struct vmgenid_state_reader r;
	struct vmgenid_state_section s;
	const char *why = NULL;
	int ret;

	vmgenid_state_reader_init(&r, in->data, in->len);
	while ((ret = vmgenid_state_reader_next(&r, &s, &why)) == 1) {
		if (!strcmp(s.id, VMGENID_FW_CFG_STATE_ID))
			ret = vmgenid_fw_cfg_load(m->fw_cfg, s.payload, s.length, s.version, &why);
		else if (!strcmp(s.id, VMGENID_DEV_STATE_ID))
			ret = vmgenid_dev_load(m->vmgenid, s.payload, s.length, s.version, &why);
		else
			ret = 0; /* a section for a device this VMM does not have */
		if (ret < 0)
			break;
	}
	if (ret < 0) {
		fprintf(stderr, "embed: snapshot refused: %s\n", why);
		return ret;
	}
	/* After every section is in: the new GUID goes to memory, the GPE fires. */
	return vmgenid_dev_post_load(m->vmgenid);
}

static int parse_guid(const char *text, struct vmgenid_guid *g)
{
	const char *why = NULL;

	if (vmgenid_guid_parse(text, g, &why) < 0) {
		fprintf(stderr, "embed: %s: %s\n", text, why);
		return -1;
	}
	return 0;
}

int main(void)
{
	struct machine src, clone;
	struct vmgenid_guid g1, g2, g3;
	struct vmgenid_bytebuf snap;
	uint8_t *ram = calloc(1, RAM_SIZE), *clone_ram = calloc(1, RAM_SIZE);
	struct firmware fw;
	const char *why = NULL;
	int notified, status = 1;

	vmgenid_bytebuf_init(&snap);
	if (!ram || !clone_ram || parse_guid("324e6eaf-d1d1-4bf6-bf41-b9bb6c91fb87", &g1) ||
	    parse_guid("8a1e6a2c-5d3f-4b6e-9c1a-2b3c4d5e6f70", &g2) ||
	    parse_guid("0f0e0d0c-0b0a-4908-8706-050403020100", &g3))
		goto out_ram;

	/* 1. The source machine boots: firmware runs the table-loader. */
	if (machine_build(&src, ram, &g1) < 0) {
		fprintf(stderr, "embed: building the machine failed\n");
		goto out_src;
	}
	if (firmware_boot(&fw, src.fw_cfg, &src.mem, RAM_SIZE, &why) < 0) {
		fprintf(stderr, "embed: firmware: %s\n", why);
		goto out_src;
	}
	printf("boot: firmware wrote the GUID address %#llx\n",
	       (unsigned long long)vmgenid_dev_get_addr(src.vmgenid));
	print_guest_view("boot", &src);

	/* 2. Snapshot: the device state, and the RAM (here: a copy of it). */
	if (machine_save(&src, &snap) < 0 || vmgenid_bytebuf_failed(&snap))
		goto out_src;
	memcpy(clone_ram, ram, RAM_SIZE);
	printf("save: %zu bytes of device state\n", snap.len);

	/* 3. A clone: the same machine built again, with its own GUID, loads it. */
	if (machine_build(&clone, clone_ram, &g2) < 0) {
		fprintf(stderr, "embed: building the clone failed\n");
		goto out_clone;
	}
	notified = machine_load(&clone, &snap);
	if (notified < 0)
		goto out_clone;
	printf("clone: post_load %s the guest\n", notified ? "notified" : "did not notify");
	print_guest_view("clone", &clone);
	print_guest_view("source", &src);

	/* 4. A new GUID at run time (a management command): set, then apply. */
	vmgenid_dev_set_guid(clone.vmgenid, &g3);
	notified = vmgenid_dev_post_load(clone.vmgenid);
	printf("set: post_load %s the guest\n", notified > 0 ? "notified" : "did not notify");
	print_guest_view("set", &clone);
	printf("clone: GPE0 status %#x\n", clone.gpe0_sts);
	status = 0;

out_clone:
	machine_free(&clone);
out_src:
	machine_free(&src);
out_ram:
	vmgenid_bytebuf_free(&snap);
	free(ram);
	free(clone_ram);
	return status;
}
