// SPDX-License-Identifier: MIT
/*
 * Device discovery and the GUID read shared by read, watch and check.
 * sysfs says which device the kernel enumerated (and where in the
 * namespace); the AML reader then describes it from the tables, preferring
 * the one sysfs named.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "probe.h"

int probe_device(struct probe *p)
{
	struct platform_tables pt;
	int ret;

	memset(p, 0, sizeof(*p));
	p->have_sysdev = platform_find_acpi_dev(&p->sysdev) == 0;
	ret = platform_load_tables(&pt, p->tables_why, sizeof(p->tables_why));
	p->tables_status = ret;
	if (ret)
		return ret;
	ret = aml_reader_find_vmgenid(pt.t, pt.n, p->have_sysdev ? p->sysdev.path : NULL, &p->dev,
				      &p->report);
	platform_free_tables(&pt);
	p->have_dev = ret == 0;
	return ret;
}

void probe_missing(const struct probe *p, char *out, size_t cap)
{
	const struct aml_reader_report *r = &p->report;

	if (p->tables_status && p->tables_status != -ENOENT) {
		snprintf(out, cap, "%s", p->tables_why);
	} else if (p->tables_status) {
		snprintf(out, cap, "no VM generation ID device: %s", p->tables_why);
	} else if (r->nmalformed) {
		snprintf(out, cap, "no VM generation ID device found; %s+0x%zx: %s%s",
			 r->malformed.table, r->malformed.offset, r->malformed.msg,
			 r->nmalformed > 1 ? " (and more malformed tables)" : "");
	} else if (p->have_sysdev && r->nskipped) {
		snprintf(out, cap, "the kernel lists %s (%s) but the AML reader found no such "
			 "device; it skipped what it could not parse, first at %s+0x%zx: %s",
			 p->sysdev.name, p->sysdev.path, r->skipped.table, r->skipped.offset,
			 r->skipped.msg);
	} else if (p->have_sysdev) {
		snprintf(out, cap, "the kernel lists %s (%s) but no ACPI table describes a VM "
			 "generation counter device there", p->sysdev.name, p->sysdev.path);
	} else {
		snprintf(out, cap, "no VM generation ID device in the ACPI tables (no _HID or "
			 "_CID QEMUVGID, VMGENCTR or VM_Gen_Counter): this VMM does not offer "
			 "one (QEMU: -device vmgenid)");
	}
}

void probe_where(const struct probe *p, char *out, size_t cap)
{
	const char *form = p->dev.addr_form == AML_READER_ADDR_NAME ? "Name" : "Method";

	snprintf(out, cap, "%s.ADDR (%s in %s)", p->dev.path, form, p->dev.addr_error.table);
}

int probe_read_devmem(const struct probe *p, struct probe_read *r)
{
	uint8_t le[VMGENID_GUID_SIZE];
	int ret;

	memset(r, 0, sizeof(*r));
	if (!p->have_dev) {
		snprintf(r->devmem_why, sizeof(r->devmem_why), "/dev/mem: no device, so no address");
		return -ENOENT;
	}
	if (p->dev.addr_status) {
		snprintf(r->devmem_why, sizeof(r->devmem_why), "/dev/mem: no address: %s+0x%zx: %s",
			 p->dev.addr_error.table, p->dev.addr_error.offset, p->dev.addr_error.msg);
		return p->dev.addr_status;
	}
	r->addr_known = true;
	r->addr = p->dev.addr;
	ret = platform_read_devmem(p->dev.addr, le, r->devmem_why, sizeof(r->devmem_why));
	if (ret)
		return ret;
	vmgenid_guid_from_le(le, &r->guid);
	r->source = "devmem";
	return 0;
}

int probe_read_guid(const struct probe *p, struct probe_read *r)
{
	uint8_t le[VMGENID_GUID_SIZE];
	int ret;

	ret = probe_read_devmem(p, r);
	if (!ret)
		return 0;
	/* fw_cfg needs no address, only a VMM that publishes the blob. */
	ret = platform_read_fwcfg(le, r->fwcfg_why, sizeof(r->fwcfg_why));
	if (ret)
		return ret;
	vmgenid_guid_from_le(le, &r->guid);
	r->source = "fw_cfg";
	return 0;
}
