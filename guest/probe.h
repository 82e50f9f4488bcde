/* SPDX-License-Identifier: MIT */
/*
 * Finding the VM generation ID and reading it, as every command of the tool
 * does: the device from sysfs and the ACPI tables, its address from ADDR,
 * the 16 bytes from /dev/mem or, failing that, from fw_cfg.
 */
#ifndef VMGENID_GUEST_PROBE_H
#define VMGENID_GUEST_PROBE_H

#include <stdbool.h>
#include <stdint.h>

#include "vmgenid/guid.h"

#include "aml_reader.h"
#include "platform.h"

/* Exit codes of the tool (see vmgenid --help). */
enum {
	EXIT_OK = 0,
	EXIT_FAIL = 1,      /* could not do it, or a check failed */
	EXIT_USAGE = 2,
	EXIT_NO_DEVICE = 3, /* no VM generation ID device */
};

struct probe {
	bool have_sysdev;
	struct platform_acpi_dev sysdev;
	int tables_status;                /* 0, or why the tables could not be read */
	char tables_why[PLATFORM_WHY_MAX];
	struct aml_reader_report report;
	bool have_dev;                    /* the AML describes the device */
	struct aml_reader_device dev;
};

/*
 * Look for the device.  Returns 0 (p->dev valid), -ENOENT (no device; see
 * probe_missing()), or the tables' error.  p is always filled in as far as
 * it got.
 */
int probe_device(struct probe *p);

/* A sentence on why there is no device, for the user. */
void probe_missing(const struct probe *p, char *out, size_t cap);

/* The address as "in SSDT+0x96 (Method)": ADDR's source, for messages. */
void probe_where(const struct probe *p, char *out, size_t cap);

struct probe_read {
	struct vmgenid_guid guid;
	const char *source;           /* "devmem" or "fw_cfg" */
	bool addr_known;
	uint64_t addr;
	char devmem_why[PLATFORM_WHY_MAX]; /* why /dev/mem did not work ("" if it did) */
	char fwcfg_why[PLATFORM_WHY_MAX];  /* why fw_cfg did not (if it was tried) */
};

/* The GUID: /dev/mem at ADDR first, fw_cfg second.  0 or negative errno. */
int probe_read_guid(const struct probe *p, struct probe_read *r);

/* Only /dev/mem (for comparing the two sources). */
int probe_read_devmem(const struct probe *p, struct probe_read *r);

#endif
