// SPDX-License-Identifier: MIT
#include <stdlib.h>
#include <string.h>

#include "vmgenid/acpi_tables.h"
#include "vmgenid/bios_loader.h"
#include "vmgenid/guid.h"
#include "vmgenid/log.h"

#include "acpi_layout.h"
#include "fuzz_machine.h"

static struct vmgenid_bytebuf rsdp, tables;
static struct vmgenid_bios_loader loader;
static int built; /* 0 not yet, 1 done, -1 failed */

static struct vmgenid_guid fuzz_guid(void)
{
	struct vmgenid_guid g;
	const char *why;

	if (vmgenid_guid_parse(FUZZ_GUID_TEXT, &g, &why))
		abort();
	return g;
}

static int build_tables(void)
{
	/* genvm's own tables, as vmm/acpi.c builds them for one vCPU. */
	const struct vmgenid_acpi_machine desc = genvm_acpi_machine(1);
	struct vmgenid_guid g = fuzz_guid();
	struct vmgenid_dev *d;

	if (built)
		return built;
	built = -1;
	d = vmgenid_dev_new(&g, NULL, NULL, NULL);
	if (!d)
		return built;
	vmgenid_bytebuf_init(&rsdp);
	vmgenid_bytebuf_init(&tables);
	vmgenid_bios_loader_init(&loader);
	if (vmgenid_acpi_build_tables(&desc, d, &rsdp, &tables, &loader) == 0)
		built = 1;
	vmgenid_dev_free(d);
	return built;
}

const struct vmgenid_bytebuf *fuzz_machine_tables(void)
{
	return build_tables() > 0 ? &tables : NULL;
}

const struct vmgenid_bytebuf *fuzz_machine_rsdp(void)
{
	return build_tables() > 0 ? &rsdp : NULL;
}

const struct vmgenid_bytebuf *fuzz_machine_loader(void)
{
	return build_tables() > 0 ? &loader.script : NULL;
}

static void count_notify(void *opaque)
{
	((struct fuzz_machine *)opaque)->notified++;
}

static int add_blob(struct vmgenid_fw_cfg *fw, const char *name, const struct vmgenid_bytebuf *b)
{
	/* fw_cfg never writes a read-only file, so sharing the blobs is safe. */
	return vmgenid_fw_cfg_add_file(fw, name, b->data, (uint32_t)b->len, false, NULL, NULL) < 0 ? -1
											    : 0;
}

int fuzz_machine_init(struct fuzz_machine *m, uint8_t *ram)
{
	struct vmgenid_guid g = fuzz_guid();

	memset(m, 0, sizeof(*m));
	m->ram = ram;
	vmgenid_guest_mem_init(&m->mem);
	if (build_tables() < 0 || vmgenid_guest_mem_add(&m->mem, FUZZ_RAM_BASE, FUZZ_RAM_SIZE, ram))
		return -1;
	m->fw = vmgenid_fw_cfg_new(&m->mem);
	m->vmgenid = vmgenid_dev_new(&g, &m->mem, count_notify, m);
	/* The order of vmm/acpi.c, which decides the selectors. */
	if (!m->fw || !m->vmgenid || add_blob(m->fw, VMGENID_ACPI_RSDP_FILE, &rsdp) ||
	    add_blob(m->fw, VMGENID_ACPI_TABLES_FILE, &tables) ||
	    add_blob(m->fw, VMGENID_BIOS_LOADER_FILE, &loader.script) ||
	    vmgenid_dev_add_fw_cfg(m->vmgenid, m->fw)) {
		fuzz_machine_destroy(m);
		return -1;
	}
	return 0;
}

void fuzz_machine_destroy(struct fuzz_machine *m)
{
	vmgenid_fw_cfg_free(m->fw);
	vmgenid_dev_free(m->vmgenid);
	m->fw = NULL;
	m->vmgenid = NULL;
}

static void drop_log(void *opaque, enum vmgenid_log_level level, const char *module, const char *msg)
{
	(void)opaque;
	(void)level;
	(void)module;
	(void)msg;
}

void fuzz_quiet_logs(void)
{
	vmgenid_log_set_sink(drop_log, NULL);
}
