/* SPDX-License-Identifier: MIT */
/*
 * What the guest tool reads from the running Linux system: ACPI tables and
 * devices in sysfs, the firmware memory map, memory types, the kernel's
 * configuration, and the 16 bytes of the generation ID through /dev/mem or
 * the qemu_fw_cfg sysfs interface.
 *
 * Every path is taken relative to platform_root(): "" on a real system, the
 * value of $VMGENID_ROOT when set (the tests build a fake /sys, /proc and
 * /dev/mem there).  Failures come back as negative errno plus a sentence for
 * the user that says what is missing and how to get it.
 */
#ifndef VMGENID_GUEST_PLATFORM_H
#define VMGENID_GUEST_PLATFORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "aml_reader.h"

#define PLATFORM_WHY_MAX 512

const char *platform_root(void);
/* root + path into buf; returns buf. */
const char *platform_path(char *buf, size_t cap, const char *path);

/* The DSDT and SSDTs (also dynamically loaded ones), DSDT first. */
struct platform_tables {
	struct aml_reader_table *t;
	size_t n;
};

int platform_load_tables(struct platform_tables *pt, char *why, size_t cap);
void platform_free_tables(struct platform_tables *pt);

/* A VM generation counter device as the kernel enumerated it. */
struct platform_acpi_dev {
	char name[64];    /* "QEMUVGID:00" */
	char hid[64];     /* from hid, or the modalias's first id */
	char path[128];   /* "\\_SB_.VGEN" */
	char driver[64];  /* bound driver, "" if none */
	char driver_link[160]; /* the sysfs link that names it */
};

/* 0 and *d, or -ENOENT (none, or no /sys/bus/acpi). */
int platform_find_acpi_dev(struct platform_acpi_dev *d);

/* The firmware memory map entry that holds [addr, addr + len). */
struct platform_range {
	uint64_t start, end; /* end inclusive, as sysfs shows it */
	char type[64];       /* "Reserved", "System RAM", "ACPI Tables", ... */
	char source[48];     /* "/sys/firmware/memmap" or "/proc/iomem" */
};

/* 1 covered (*r), 0 not covered by any one entry, -ENOENT no map to read. */
int platform_memmap_lookup(uint64_t addr, uint64_t len, struct platform_range *r);

/*
 * The caching of [addr, addr + len) where the kernel shows it: 1 with
 * *cacheable and evidence, 0 unknown (evidence says why).
 */
int platform_cache_type(uint64_t addr, uint64_t len, bool *cacheable, char *evidence,
			size_t cap);

/* "y", "m", "n" (is not set) for CONFIG_<opt> of the running kernel, or NULL. */
const char *platform_kconfig(const char *opt);
/* Where the last platform_kconfig() looked: "/proc/config.gz", ... */
const char *platform_kconfig_file(void);

/* Is word on the kernel command line? */
bool platform_cmdline_has(const char *word);

/* The 16 bytes at addr through an mmap of /dev/mem (never O_SYNC). */
int platform_read_devmem(uint64_t addr, uint8_t out[16], char *why, size_t cap);
/* The 16 bytes at offset 40 of fw_cfg's etc/vmgenid_guid. */
int platform_read_fwcfg(uint8_t out[16], char *why, size_t cap);

#endif
