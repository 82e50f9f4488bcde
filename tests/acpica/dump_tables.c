// SPDX-License-Identifier: MIT
/*
 * dump_tables OUTDIR: build genvm-like ACPI tables with a vmgenid device, run
 * the table-loader script over a fake guest RAM, then walk the result from
 * the RSDP the way an OS would and write each table, pointers patched, to
 * OUTDIR for iasl and acpiexec: rsdp.dat xsdt.dat facp.dat facs.dat dsdt.aml
 * apic.dat ssdt.aml.  Prints the guest addresses the tests compare against.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmgenid/acpi_table.h"
#include "vmgenid/acpi_tables.h"
#include "vmgenid/endian.h"
#include "vmgenid/guid.h"
#include "vmgenid/vmgenid.h"

#include "../support/loader_env.h"

#define RAM_SIZE (16u << 20)
#define GUID_TEXT "324e6eaf-d1d1-4bf6-bf41-b9bb6c91fb87"

/* Ports and values shared with tables.sh, which checks them in the output. */
static const struct vmgenid_acpi_machine machine = {
	.nr_cpus = 2,
	.lapic_addr = 0xfee00000,
	.ioapic_addr = 0xfec00000,
	.ioapic_id = 2,
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
	.fw_cfg_port = 0x510,
	/* Two virtio-mmio devices where genvm puts its first two. */
	.nr_virtio = 2,
	.virtio = { { 0xfeb00000, 0x200, 16, true }, { 0xfeb00200, 0x200, 17, true } },
};

static const char *outdir;

static int die(const char *what)
{
	fprintf(stderr, "dump_tables: %s\n", what);
	return 1;
}

static int write_file(const char *name, const uint8_t *data, size_t len)
{
	char path[4096];
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), "%s/%s", outdir, name);
	f = fopen(path, "wb");
	if (!f) {
		perror(path);
		return -1;
	}
	ok = fwrite(data, 1, len, f) == len;
	if (fclose(f) || !ok) {
		perror(path);
		return -1;
	}
	return 0;
}

/* Write the SDT at gpa (whole, in RAM, with this signature) to name. */
static int dump_sdt(const struct loader_env *e, uint64_t gpa, const char *sig, const char *name)
{
	const uint8_t *h = loader_env_ptr(e, gpa, VMGENID_ACPI_TABLE_HEADER_SIZE);
	uint32_t len;

	if (!h || memcmp(h, sig, 4)) {
		fprintf(stderr, "dump_tables: no %s at %#llx\n", sig, (unsigned long long)gpa);
		return -1;
	}
	len = vmgenid_get_le32(h + VMGENID_ACPI_TABLE_LENGTH_OFFSET);
	h = loader_env_ptr(e, gpa, len);
	if (!h || len < VMGENID_ACPI_TABLE_HEADER_SIZE) {
		fprintf(stderr, "dump_tables: %s at %#llx: bad length %u\n", sig,
			(unsigned long long)gpa, len);
		return -1;
	}
	printf("%s %#llx %u\n", sig, (unsigned long long)gpa, len);
	return write_file(name, h, len);
}

/* The tables the XSDT may list, and the files they go to. */
static const char *const xsdt_tables[][2] = {
	{ "FACP", "facp.dat" },
	{ "APIC", "apic.dat" },
	{ "SSDT", "ssdt.aml" },
};

static int dump_all(const struct loader_env *e)
{
	const uint8_t *rsdp = NULL, *xsdt, *fadt, *facs;
	uint64_t a, xsdt_addr, entry;
	uint32_t n, i;
	const char *sig;
	size_t k;

	for (a = LOADER_ENV_FSEG_START; a < LOADER_ENV_FSEG_END; a += 16) {
		rsdp = loader_env_ptr(e, a, 36);
		if (rsdp && !memcmp(rsdp, "RSD PTR ", 8))
			break;
		rsdp = NULL;
	}
	if (!rsdp)
		return die("no RSDP in the BIOS area");
	printf("RSDP %#llx 36\n", (unsigned long long)a);
	if (write_file("rsdp.dat", rsdp, 36))
		return -1;

	xsdt_addr = vmgenid_get_le64(rsdp + 24);
	if (dump_sdt(e, xsdt_addr, "XSDT", "xsdt.dat"))
		return -1;
	xsdt = loader_env_ptr(e, xsdt_addr, VMGENID_ACPI_TABLE_HEADER_SIZE);
	n = (vmgenid_get_le32(xsdt + VMGENID_ACPI_TABLE_LENGTH_OFFSET) - VMGENID_ACPI_TABLE_HEADER_SIZE) / 8;
	xsdt = loader_env_ptr(e, xsdt_addr, VMGENID_ACPI_TABLE_HEADER_SIZE + 8 * (uint64_t)n);
	for (i = 0; i < n; i++) {
		entry = vmgenid_get_le64(xsdt + VMGENID_ACPI_TABLE_HEADER_SIZE + 8 * i);
		sig = (const char *)loader_env_ptr(e, entry, 4);
		if (!sig)
			return die("XSDT entry outside RAM");
		for (k = 0; k < sizeof(xsdt_tables) / sizeof(xsdt_tables[0]); k++)
			if (!memcmp(sig, xsdt_tables[k][0], 4))
				break;
		if (k == sizeof(xsdt_tables) / sizeof(xsdt_tables[0]))
			return die("unexpected table in the XSDT");
		if (dump_sdt(e, entry, xsdt_tables[k][0], xsdt_tables[k][1]))
			return -1;
		if (memcmp(sig, "FACP", 4))
			continue;

		fadt = loader_env_ptr(e, entry, 148);
		if (dump_sdt(e, vmgenid_get_le64(fadt + 140), "DSDT", "dsdt.aml"))
			return -1;
		facs = loader_env_ptr(e, vmgenid_get_le64(fadt + 132), 64);
		if (!facs || memcmp(facs, "FACS", 4))
			return die("X_FIRMWARE_CTRL does not point at the FACS");
		printf("FACS %#llx 64\n", (unsigned long long)vmgenid_get_le64(fadt + 132));
		if (write_file("facs.dat", facs, 64))
			return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static uint8_t guid_blob[VMGENID_DEV_BLOB_SIZE];
	static uint8_t addr_file[VMGENID_DEV_ADDR_SIZE];
	struct vmgenid_bytebuf rsdp, tables;
	struct vmgenid_bios_loader loader;
	struct loader_env env;
	struct vmgenid_dev *vmgenid;
	struct vmgenid_guid guid;
	int err, rc = 1;

	if (argc != 2) {
		fprintf(stderr, "usage: dump_tables OUTDIR\n");
		return 2;
	}
	outdir = argv[1];

	if (vmgenid_guid_parse(GUID_TEXT, &guid, NULL) || loader_env_init(&env, RAM_SIZE, RAM_SIZE))
		return die("setup failed");
	vmgenid = vmgenid_dev_new(&guid, &env.mem, NULL, NULL);
	if (!vmgenid)
		return die("vmgenid_dev_new failed");

	vmgenid_bytebuf_init(&rsdp);
	vmgenid_bytebuf_init(&tables);
	vmgenid_bios_loader_init(&loader);
	err = vmgenid_acpi_build_tables(&machine, vmgenid, &rsdp, &tables, &loader);
	if (err) {
		fprintf(stderr, "dump_tables: vmgenid_acpi_build_tables: %s\n", strerror(-err));
		goto out;
	}
	if (write_file("table-loader", loader.script.data, loader.script.len))
		goto out;

	/* What fw_cfg would serve; the GUID blob's content does not matter here. */
	vmgenid_guid_to_le(&guid, guid_blob + VMGENID_DEV_GUID_OFFSET);
	if (loader_env_add_file(&env, VMGENID_ACPI_RSDP_FILE, rsdp.data, (uint32_t)rsdp.len, false) ||
	    loader_env_add_file(&env, VMGENID_ACPI_TABLES_FILE, tables.data, (uint32_t)tables.len,
				false) ||
	    loader_env_add_file(&env, VMGENID_DEV_GUID_FILE, guid_blob, sizeof(guid_blob), false) ||
	    loader_env_add_file(&env, VMGENID_DEV_ADDR_FILE, addr_file, sizeof(addr_file), true)) {
		die("fw_cfg files");
		goto out;
	}
	err = loader_env_run(&env, &loader.script);
	if (err) {
		fprintf(stderr, "dump_tables: loader command %u: %s\n", env.exec.failed_cmd,
			vmgenid_bios_loader_strerror(err));
		goto out;
	}
	printf("vmgenid_guid %#llx\n", (unsigned long long)loader_env_addr(&env,
									   VMGENID_DEV_GUID_FILE));
	printf("vmgenid_addr %#llx\n", (unsigned long long)vmgenid_get_le64(addr_file));
	if (dump_all(&env))
		goto out;
	rc = 0;
out:
	vmgenid_bios_loader_free(&loader);
	vmgenid_bytebuf_free(&tables);
	vmgenid_bytebuf_free(&rsdp);
	vmgenid_dev_free(vmgenid);
	loader_env_free(&env);
	return rc;
}
