// SPDX-License-Identifier: MIT
/*
 * vmgenid check.  Each requirement becomes one line with a status and the
 * evidence it rests on; "unknown" means this guest cannot observe it (no
 * address, no debugfs, no /dev/mem), which is not a failure of the platform.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <jansson.h>

#include "check.h"
#include "probe.h"

#define MAX_LINES 16
#define EVIDENCE_MAX 640

enum status { PASS, FAIL, UNKNOWN };

static const char *const status_name[] = { "pass", "fail", "unknown" };

struct line {
	const char *id;
	const char *title;
	enum status status;
	char evidence[EVIDENCE_MAX];
};

struct report {
	struct line lines[MAX_LINES];
	unsigned int n;
};

static void add(struct report *r, const char *id, const char *title, enum status st,
		const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void add(struct report *r, const char *id, const char *title, enum status st,
		const char *fmt, ...)
{
	struct line *l;
	va_list ap;

	if (r->n >= MAX_LINES)
		return;
	l = &r->lines[r->n++];
	l->id = id;
	l->title = title;
	l->status = st;
	va_start(ap, fmt);
	vsnprintf(l->evidence, sizeof(l->evidence), fmt, ap);
	va_end(ap);
}

static void check_device(struct report *r, const struct probe *p)
{
	char why[2 * PLATFORM_WHY_MAX];

	if (!p->have_dev) {
		probe_missing(p, why, sizeof(why));
		add(r, "device", "VM generation counter device", FAIL, "%s", why);
		return;
	}
	add(r, "device", "VM generation counter device", PASS, "%s in %s at 0x%zx%s%s%s",
	    p->dev.path, p->dev.table, p->dev.offset, p->have_sysdev ? " (sysfs " : "",
	    p->have_sysdev ? p->sysdev.name : "", p->have_sysdev ? ")" : "");
}

static void check_tables(struct report *r, const struct probe *p)
{
	const struct aml_reader_report *t = &p->report;
	char skipped[AML_READER_MSG_MAX + 64] = "";

	if (p->tables_status) {
		add(r, "tables", "ACPI tables well formed", UNKNOWN, "%s", p->tables_why);
		return;
	}
	if (t->nskipped)
		snprintf(skipped, sizeof(skipped), "; %u construct%s the reader does not know "
			 "skipped (first at %s+0x%zx)", t->nskipped, t->nskipped > 1 ? "s" : "",
			 t->skipped.table, t->skipped.offset);
	if (t->nmalformed) {
		add(r, "tables", "ACPI tables well formed", FAIL, "%s+0x%zx: %s%s",
		    t->malformed.table, t->malformed.offset, t->malformed.msg, skipped);
	} else if (t->nbad_checksum) {
		add(r, "tables", "ACPI tables well formed", FAIL, "%s has a bad checksum "
		    "(%u table%s)%s", t->bad_checksum, t->nbad_checksum,
		    t->nbad_checksum > 1 ? "s" : "", skipped);
	} else {
		add(r, "tables", "ACPI tables well formed", PASS, "%u table%s parsed, checksums "
		    "valid%s", t->ntables, t->ntables == 1 ? "" : "s", skipped);
	}
}

static void list_cids(const struct aml_reader_device *d, char *out, size_t cap)
{
	size_t len = 0;
	unsigned int i;

	out[0] = '\0';
	for (i = 0; i < d->ncid && len < cap; i++)
		len += (size_t)snprintf(out + len, cap - len, "%s\"%s\"", i ? ", " : "", d->cid[i]);
}

static void check_ids(struct report *r, const struct probe *p)
{
	const struct aml_reader_device *d = &p->dev;
	char cids[AML_READER_CID_MAX * (AML_READER_ID_MAX + 4)];
	bool generic = false;
	unsigned int i;

	if (!p->have_dev) {
		add(r, "_CID", "_CID is \"VM_Gen_Counter\"", UNKNOWN, "no device");
		add(r, "R6", "vendor-unique _HID", UNKNOWN, "no device");
		return;
	}
	list_cids(d, cids, sizeof(cids));
	for (i = 0; i < d->ncid; i++)
		generic = generic || !strcasecmp(d->cid[i], "VM_Gen_Counter");
	if (generic)
		add(r, "_CID", "_CID is \"VM_Gen_Counter\"", PASS, "_CID %s", cids);
	else if (d->ncid)
		add(r, "_CID", "_CID is \"VM_Gen_Counter\"", FAIL, "_CID is %s: guests that match "
		    "the spec's compatible ID will not find the device", cids);
	else
		add(r, "_CID", "_CID is \"VM_Gen_Counter\"", FAIL, "the device has no _CID");

	if (!d->hid[0])
		add(r, "R6", "vendor-unique _HID", FAIL, "the device has no _HID");
	else if (!strcasecmp(d->hid, "VM_Gen_Counter"))
		add(r, "R6", "vendor-unique _HID", FAIL, "_HID \"%s\" is the generic compatible "
		    "ID, not a vendor's own", d->hid);
	else
		add(r, "R6", "vendor-unique _HID", PASS, "_HID \"%s\" (not the generic "
		    "\"VM_Gen_Counter\")", d->hid);
}

static void check_addr(struct report *r, const struct probe *p)
{
	const struct aml_reader_device *d = &p->dev;
	const struct aml_reader_error *e = &d->addr_error;

	if (!p->have_dev) {
		add(r, "ADDR", "ADDR yields two integers", UNKNOWN, "no device");
		return;
	}
	if (d->addr_status == 0) {
		add(r, "ADDR", "ADDR yields two integers", PASS, "%s %s.ADDR in %s gives Package "
		    "{0x%" PRIx64 ", 0x%" PRIx64 "}: GUID at 0x%" PRIx64,
		    d->addr_form == AML_READER_ADDR_NAME ? "Name" : "Method", d->path, e->table,
		    d->addr_elem[0], d->addr_elem[1], d->addr);
		return;
	}
	/* What the reader cannot evaluate is not the platform's fault. */
	add(r, "ADDR", "ADDR yields two integers", d->addr_status == -ENOTSUP ? UNKNOWN : FAIL,
	    "%s+0x%zx: %s", e->table, e->offset, e->msg);
}

static void check_notify(struct report *r, const struct probe *p)
{
	const struct aml_reader_device *d = &p->dev;

	if (!p->have_dev) {
		add(r, "notify", "notification path", UNKNOWN, "no device");
		return;
	}
	if (d->notify_via != AML_READER_NOTIFY_NONE) {
		add(r, "notify", "notification path", PASS, "%s (%s) does Notify (%s, 0x80)",
		    d->notify_method, d->notify_via == AML_READER_NOTIFY_GPE ? "GPE" :
		    "Generic Event Device", d->path);
		return;
	}
	add(r, "notify", "notification path", FAIL, "no \\_GPE._Exx/_Lxx method and no GED "
	    "(ACPI0013) _EVT does Notify (%s, 0x80)%s", d->path, p->report.nskipped ?
	    " (some AML was skipped; see the tables line)" : "");
}

static void check_memory(struct report *r, const struct probe *p)
{
	const struct aml_reader_device *d = &p->dev;
	struct platform_range range;
	char evidence[EVIDENCE_MAX];
	bool cacheable = false;
	int ret;

	if (!p->have_dev || d->addr_status) {
		add(r, "R1a", "8-byte aligned", UNKNOWN, "no address");
		add(r, "R1b/R1d", "in reserved memory, not RAM or ACPI", UNKNOWN, "no address");
		add(r, "R1e", "cacheable", UNKNOWN, "no address");
		return;
	}
	add(r, "R1a", "8-byte aligned", d->addr % 8 ? FAIL : PASS, "0x%" PRIx64 " %% 8 = %u",
	    d->addr, (unsigned int)(d->addr % 8));

	ret = platform_memmap_lookup(d->addr, 16, &range);
	if (ret < 0) {
		add(r, "R1b/R1d", "in reserved memory, not RAM or ACPI", UNKNOWN, "no "
		    "/sys/firmware/memmap (CONFIG_FIRMWARE_MEMMAP) and /proc/iomem shows no "
		    "addresses (root only)");
	} else if (ret == 0) {
		add(r, "R1b/R1d", "in reserved memory, not RAM or ACPI", FAIL, "no E820 range "
		    "holds [0x%" PRIx64 ", 0x%" PRIx64 "]", d->addr, d->addr + 15);
	} else {
		bool reserved = !strcasecmp(range.type, "Reserved");
		const char *which = !strcasecmp(range.type, "System RAM") ? " (R1b: the OS may "
				    "use this memory)" : !strncasecmp(range.type, "ACPI", 4) ?
				    " (R1d: ACPI memory, which the OS may reclaim or save)" :
				    reserved ? "" : " (not a Reserved range)";

		add(r, "R1b/R1d", "in reserved memory, not RAM or ACPI", reserved ? PASS : FAIL,
		    "[0x%" PRIx64 "-0x%" PRIx64 "] \"%s\" (%s)%s", range.start, range.end,
		    range.type, range.source, which);
	}

	if (platform_cache_type(d->addr, 16, &cacheable, evidence, sizeof(evidence)) == 1)
		add(r, "R1e", "cacheable", cacheable ? PASS : FAIL, "%s", evidence);
	else
		add(r, "R1e", "cacheable", UNKNOWN, "%s", evidence);
}

static void check_driver(struct report *r, const struct probe *p)
{
	char mod[512];
	const char *cfg;
	struct stat st;

	if (!p->have_sysdev) {
		add(r, "driver", "kernel driver bound", FAIL, "the kernel enumerated no VM "
		    "generation counter device in /sys/bus/acpi/devices%s",
		    p->have_dev ? " (is _STA 0?)" : "");
		return;
	}
	if (!strcmp(p->sysdev.driver, "vmgenid")) {
		add(r, "driver", "kernel driver bound", PASS, "%s is bound to vmgenid (%s)",
		    p->sysdev.name, p->sysdev.driver_link);
		return;
	}
	if (p->sysdev.driver[0]) {
		add(r, "driver", "kernel driver bound", FAIL, "%s is bound to %s, not vmgenid",
		    p->sysdev.name, p->sysdev.driver);
		return;
	}
	cfg = platform_kconfig("VMGENID");
	if (cfg && !strcmp(cfg, "n"))
		add(r, "driver", "kernel driver bound", UNKNOWN, "this kernel is built without "
		    "CONFIG_VMGENID, so nothing binds %s", p->sysdev.name);
	else if (cfg && !strcmp(cfg, "m") &&
		 stat(platform_path(mod, sizeof(mod), "/sys/module/vmgenid"), &st))
		add(r, "driver", "kernel driver bound", UNKNOWN, "the vmgenid module is not "
		    "loaded (modprobe vmgenid)");
	else
		add(r, "driver", "kernel driver bound", FAIL, "no driver bound to %s although "
		    "the kernel has the vmgenid driver: it rejected the device (see dmesg)",
		    p->sysdev.name);
}

static void check_guid(struct report *r, const struct probe *p)
{
	char text[VMGENID_GUID_STR_LEN + 1], fw[VMGENID_GUID_STR_LEN + 1];
	struct probe_read mem, any;
	uint8_t le[VMGENID_GUID_SIZE];
	struct vmgenid_guid g;
	int ret_mem, ret_fw;

	ret_mem = probe_read_devmem(p, &mem);
	ret_fw = platform_read_fwcfg(le, any.fwcfg_why, sizeof(any.fwcfg_why));
	if (ret_mem && ret_fw) {
		add(r, "guid", "GUID readable, not all zeros", UNKNOWN, "%s; %s", mem.devmem_why,
		    any.fwcfg_why);
	} else {
		const char *src = ret_mem ? "fw_cfg" : "/dev/mem";

		if (ret_mem)
			vmgenid_guid_from_le(le, &mem.guid);
		vmgenid_guid_format(&mem.guid, text);
		add(r, "guid", "GUID readable, not all zeros", vmgenid_guid_is_null(&mem.guid) ? FAIL :
		    PASS, "%s from %s%s", text, src, vmgenid_guid_is_null(&mem.guid) ?
		    ": the VMM never wrote the GUID" : "");
	}

	if (ret_mem || ret_fw) {
		add(r, "fw_cfg", "fw_cfg copy equals memory", UNKNOWN, "%s",
		    ret_fw ? any.fwcfg_why : mem.devmem_why);
		return;
	}
	vmgenid_guid_from_le(le, &g);
	vmgenid_guid_format(&mem.guid, text);
	vmgenid_guid_format(&g, fw);
	if (vmgenid_guid_equal(&g, &mem.guid))
		add(r, "fw_cfg", "fw_cfg copy equals memory", PASS, "both hold %s", text);
	else
		add(r, "fw_cfg", "fw_cfg copy equals memory", FAIL, "memory holds %s, fw_cfg's "
		    "etc/vmgenid_guid holds %s", text, fw);
}

static void print_plain(const struct report *r, const struct probe *p)
{
	unsigned int i, count[3] = { 0, 0, 0 };

	printf("vmgenid check: %s\n", p->have_dev ? p->dev.path : "(no device)");
	for (i = 0; i < r->n; i++) {
		const struct line *l = &r->lines[i];

		count[l->status]++;
		printf("%-7s %-8s %s: %s\n", status_name[l->status], l->id, l->title, l->evidence);
	}
	printf("%u pass, %u fail, %u unknown\n", count[PASS], count[FAIL], count[UNKNOWN]);
}

static void print_json(const struct report *r, const struct probe *p)
{
	unsigned int i, count[3] = { 0, 0, 0 };
	json_t *o = json_object(), *checks = json_array(), *dev = json_object();

	if (p->have_dev) {
		json_t *cids = json_array();

		for (i = 0; i < p->dev.ncid; i++)
			json_array_append_new(cids, json_string(p->dev.cid[i]));
		json_object_set_new(dev, "path", json_string(p->dev.path));
		json_object_set_new(dev, "table", json_string(p->dev.table));
		json_object_set_new(dev, "hid", json_string(p->dev.hid));
		json_object_set_new(dev, "cid", cids);
		if (!p->dev.addr_status)
			json_object_set_new(dev, "address", json_integer((json_int_t)p->dev.addr));
	}
	if (p->have_sysdev)
		json_object_set_new(dev, "sysfs", json_string(p->sysdev.name));
	for (i = 0; i < r->n; i++) {
		const struct line *l = &r->lines[i];

		count[l->status]++;
		json_array_append_new(checks, json_pack("{s:s, s:s, s:s, s:s}", "id", l->id,
							"status", status_name[l->status],
							"title", l->title, "evidence",
							l->evidence));
	}
	json_object_set_new(o, "device", dev);
	json_object_set_new(o, "checks", checks);
	json_object_set_new(o, "pass", json_integer(count[PASS]));
	json_object_set_new(o, "fail", json_integer(count[FAIL]));
	json_object_set_new(o, "unknown", json_integer(count[UNKNOWN]));
	json_dumpf(o, stdout, 0);
	fputc('\n', stdout);
	json_decref(o);
}

int check_run(bool json)
{
	struct report r;
	struct probe p;
	unsigned int i;
	int ret = EXIT_OK;

	memset(&r, 0, sizeof(r));
	probe_device(&p);
	check_device(&r, &p);
	check_tables(&r, &p);
	check_ids(&r, &p);
	check_addr(&r, &p);
	check_notify(&r, &p);
	check_memory(&r, &p);
	check_driver(&r, &p);
	check_guid(&r, &p);
	if (json)
		print_json(&r, &p);
	else
		print_plain(&r, &p);
	for (i = 0; i < r.n; i++) {
		if (r.lines[i].status == FAIL)
			ret = EXIT_FAIL;
	}
	return fflush(stdout) ? EXIT_FAIL : ret;
}
