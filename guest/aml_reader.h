/* SPDX-License-Identifier: MIT */
/*
 * A small, bounds-checked reader of DSDT/SSDT bodies: just enough AML to find
 * a VM generation counter device, evaluate its ADDR and find the event
 * method that notifies it.
 *
 * It never reads outside the buffers it is given, validates every PkgLength
 * against the object that encloses it, bounds its recursion and its
 * evaluation steps, and describes whatever it cannot handle by table name
 * and byte offset.  It is not an AML interpreter: ADDR is evaluated for the
 * shapes VMMs emit (QEMU's Method building Package {VGIA + 0x28, 0} with
 * Store/Add/Index, iasl's Add-into-Index form of it, Hyper-V's local
 * package, and Firecracker's Name (ADDR, Package {lo, hi})), and anything
 * else is reported as unsupported rather than guessed.
 */
#ifndef VMGENID_GUEST_AML_READER_H
#define VMGENID_GUEST_AML_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AML_READER_TABLE_NAME_MAX 16
#define AML_READER_PATH_MAX 128
#define AML_READER_ID_MAX 32
#define AML_READER_CID_MAX 4
#define AML_READER_MSG_MAX 224
#define AML_READER_MAX_STEPS (1ul << 24)

/* One ACPI table as read from /sys/firmware/acpi/tables (header included). */
struct aml_reader_table {
	const char *name; /* "DSDT", "SSDT2": used in messages */
	const uint8_t *data;
	size_t len;
};

/* Where and what: "SSDT+0x4f: PkgLength ... goes past ...". */
struct aml_reader_error {
	char table[AML_READER_TABLE_NAME_MAX];
	size_t offset; /* from the start of the table, header included */
	char msg[AML_READER_MSG_MAX];
};

enum aml_reader_addr_form {
	AML_READER_ADDR_MISSING, /* the device has no ADDR child */
	AML_READER_ADDR_NAME,    /* Name (ADDR, Package {...}) */
	AML_READER_ADDR_METHOD,  /* Method (ADDR) returning a package */
	AML_READER_ADDR_OTHER,   /* ADDR is some other kind of object */
};

enum aml_reader_notify_via {
	AML_READER_NOTIFY_NONE,
	AML_READER_NOTIFY_GPE, /* a \_GPE._Exx or _Lxx method */
	AML_READER_NOTIFY_GED, /* _EVT of a Generic Event Device (ACPI0013) */
};

struct aml_reader_device {
	char path[AML_READER_PATH_MAX]; /* "\\_SB_.VGEN" */
	char table[AML_READER_TABLE_NAME_MAX];
	size_t offset; /* of its DeviceOp */
	char hid[AML_READER_ID_MAX]; /* "" when the device has no _HID */
	char cid[AML_READER_CID_MAX][AML_READER_ID_MAX];
	unsigned int ncid;

	enum aml_reader_addr_form addr_form;
	/* 0 when ADDR evaluated to a package; else negative errno, see addr_error. */
	int addr_status;
	struct aml_reader_error addr_error;
	unsigned int addr_count; /* elements of the package */
	bool addr_integers;      /* exactly two, both integers: addr is valid */
	uint64_t addr_elem[2];   /* the two integers as ADDR gave them */
	uint64_t addr;           /* element 0 | element 1 << 32, as Linux combines them */

	enum aml_reader_notify_via notify_via;
	char notify_method[AML_READER_PATH_MAX]; /* the event method, "" if none */
};

/* What the reader thought of the tables as a whole. */
struct aml_reader_report {
	unsigned int ntables;      /* tables walked to the end */
	unsigned int nmalformed;   /* tables abandoned because their AML is malformed */
	struct aml_reader_error malformed; /* the first such problem */
	unsigned int nskipped;     /* constructs the reader does not know, skipped */
	struct aml_reader_error skipped;   /* the first one */
	unsigned int nbad_checksum;
	char bad_checksum[AML_READER_TABLE_NAME_MAX]; /* the first table with one */
	/* The reader's work: slots of its name index it looked at, for names
	 * declared and names looked up.  Bounded: past AML_READER_MAX_STEPS the
	 * tables are refused as too complex. */
	unsigned long lookup_steps;
	/* Bytes of method bodies the notify search walked: each body once, so
	 * never more than the tables hold. */
	unsigned long scan_bytes;
};

/*
 * True if id (a _HID or _CID, case-insensitive) names a VM generation
 * counter: QEMUVGID, VMGENCTR, VM_Gen_Counter, FCVMGID (older Firecracker),
 * Hyper_V_Gen_Counter_V1 and MSFT1002 (Hyper-V).
 */
bool aml_reader_is_vmgenid_id(const char *id);

/*
 * Walk the tables (DSDT first, then the SSDTs, as the OS loads them) and
 * describe the first VM generation counter device, or the one at want_path
 * ("\\_SB_.VGEN", as /sys/bus/acpi/devices/X/path spells it) when that is
 * non-NULL and names such a device.
 *
 * Returns 0 with *dev filled in (ADDR's outcome is in dev->addr_status),
 * -ENOENT if no table describes such a device, -ENOMEM.  report (may be
 * NULL) says which tables could not be read and why, in every case.
 */
int aml_reader_find_vmgenid(const struct aml_reader_table *tables, size_t ntables,
			    const char *want_path, struct aml_reader_device *dev,
			    struct aml_reader_report *report);

/*
 * The address of the GUID, or an error with a sentence in *err (table and
 * offset where there is one): -ENOENT no device (or no ADDR), -EINVAL
 * malformed AML or an ADDR that does not yield two integers, -ENOTSUP an
 * ADDR this reader cannot evaluate, -ENOMEM.
 */
int aml_reader_vmgenid_addr(const struct aml_reader_table *tables, size_t ntables,
			    uint64_t *addr, struct aml_reader_error *err);

#endif
