// SPDX-License-Identifier: MIT
/*
 * The machine as ACPI describes it, built by the library and handed to the
 * firmware the way QEMU does: etc/acpi/rsdp, etc/acpi/tables and the
 * etc/table-loader script that places and links them.
 */
#include <stdio.h>
#include <string.h>

#include "vmgenid/acpi_tables.h"

#include "acpi_layout.h"
#include "layout.h"
#include "machine.h"
#include "pm.h"
#include "uart.h"

static int add_file(struct machine *m, const char *name, struct vmgenid_bytebuf *b)
{
	int ret = vmgenid_fw_cfg_add_file(m->fw_cfg, name, b->data, (uint32_t)b->len, false, NULL, NULL);

	if (ret < 0) {
		fprintf(stderr, "genvm: fw_cfg: cannot add %s: %s\n", name, strerror(-ret));
		return -1;
	}
	return 0;
}

int acpi_setup(struct machine *m)
{
	struct vmgenid_acpi_machine desc = genvm_acpi_machine(m->vm.nr_cpus);
	int ret;

	desc.vmclock = m->vmclock;
	/* Edge-triggered: see virtio/devices.h for why. */
	desc.nr_virtio = m->nr_virtio;
	for (unsigned int i = 0; i < m->nr_virtio; i++)
		desc.virtio[i] = (struct vmgenid_acpi_virtio_mmio){
			.base = (uint32_t)(LAYOUT_VIRTIO_MMIO_BASE + i * LAYOUT_VIRTIO_MMIO_SIZE),
			.size = (uint32_t)LAYOUT_VIRTIO_MMIO_SIZE,
			.irq = LAYOUT_VIRTIO_IRQ_BASE + i,
			.edge = true,
		};
	vmgenid_bytebuf_init(&m->acpi_rsdp);
	vmgenid_bytebuf_init(&m->acpi_tables);
	vmgenid_bios_loader_init(&m->loader);
	ret = vmgenid_acpi_build_tables(&desc, m->vmgenid, &m->acpi_rsdp, &m->acpi_tables, &m->loader);
	if (ret < 0) {
		fprintf(stderr, "genvm: building ACPI tables: %s\n", strerror(-ret));
		return -1;
	}
	if (add_file(m, VMGENID_ACPI_RSDP_FILE, &m->acpi_rsdp) < 0 ||
	    add_file(m, VMGENID_ACPI_TABLES_FILE, &m->acpi_tables) < 0 ||
	    add_file(m, VMGENID_BIOS_LOADER_FILE, &m->loader.script) < 0)
		return -1;
	if (m->vmgenid) {
		ret = vmgenid_dev_add_fw_cfg(m->vmgenid, m->fw_cfg);
		if (ret < 0) {
			fprintf(stderr, "genvm: fw_cfg: cannot add the vmgenid files: %s\n",
				strerror(-ret));
			return -1;
		}
	}
	return 0;
}
