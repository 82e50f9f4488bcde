// SPDX-License-Identifier: MIT
/*
 * The guest tool's AML reader on whatever tables a hostile hypervisor could
 * give it.  The input is the tables back to back, as the tool reads them
 * from /sys/firmware/acpi/tables: the first is the DSDT, the rest SSDTs;
 * each ends where its header's length says (the rest of the input when that
 * length cannot be right).  Beyond the sanitizers: the reader's strings are
 * terminated, and the device it finds first is the one it finds again when
 * asked for it by path, with the same ADDR.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "vmgenid/endian.h"

#include "aml_reader.h"
#include "fuzz.h"

#define MAX_TABLES 8
#define ACPI_HEADER 36

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

static size_t split(const uint8_t *data, size_t size, struct aml_reader_table *t,
		    char names[MAX_TABLES][AML_READER_TABLE_NAME_MAX])
{
	size_t n = 0, pos = 0;

	while (pos < size && n < MAX_TABLES) {
		size_t left = size - pos, len = left;

		if (left >= ACPI_HEADER) {
			uint32_t claimed = vmgenid_get_le32(data + pos + 4);

			if (claimed >= ACPI_HEADER && claimed <= left)
				len = claimed;
		}
		if (n == 0)
			snprintf(names[n], AML_READER_TABLE_NAME_MAX, "DSDT");
		else
			snprintf(names[n], AML_READER_TABLE_NAME_MAX, "SSDT%zu", n);
		t[n] = (struct aml_reader_table){ names[n], data + pos, len };
		n++;
		pos += len;
	}
	return n;
}

static void check_terminated(const char *s, size_t cap)
{
	FUZZ_CHECK(memchr(s, 0, cap) != NULL);
}

static void check_device(const struct aml_reader_device *d)
{
	check_terminated(d->path, sizeof(d->path));
	check_terminated(d->table, sizeof(d->table));
	check_terminated(d->hid, sizeof(d->hid));
	check_terminated(d->notify_method, sizeof(d->notify_method));
	check_terminated(d->addr_error.msg, sizeof(d->addr_error.msg));
	FUZZ_CHECK(d->ncid <= AML_READER_CID_MAX);
	for (unsigned int i = 0; i < d->ncid; i++)
		check_terminated(d->cid[i], sizeof(d->cid[i]));
	if (d->addr_integers)
		FUZZ_CHECK(d->addr == (d->addr_elem[0] | d->addr_elem[1] << 32));
}

static void check_report(const struct aml_reader_report *r, size_t ntables)
{
	FUZZ_CHECK(r->ntables + r->nmalformed <= ntables);
	check_terminated(r->malformed.msg, sizeof(r->malformed.msg));
	check_terminated(r->skipped.msg, sizeof(r->skipped.msg));
	check_terminated(r->bad_checksum, sizeof(r->bad_checksum));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct aml_reader_device dev, again;
	struct aml_reader_table tables[MAX_TABLES];
	char names[MAX_TABLES][AML_READER_TABLE_NAME_MAX];
	struct aml_reader_report rep, rep2;
	size_t n = split(data, size, tables, names);
	int ret;

	memset(&rep, 0, sizeof(rep));
	ret = aml_reader_find_vmgenid(tables, n, NULL, &dev, &rep);
	FUZZ_CHECK(ret == 0 || ret == -ENOENT || ret == -ENOMEM);
	check_report(&rep, n);
	if (ret != 0)
		return 0;
	check_device(&dev);

	memset(&rep2, 0, sizeof(rep2));
	ret = aml_reader_find_vmgenid(tables, n, dev.path, &again, &rep2);
	FUZZ_CHECK(ret == 0);
	FUZZ_CHECK(!strcmp(again.path, dev.path) && again.offset == dev.offset);
	FUZZ_CHECK(again.addr_status == dev.addr_status && again.addr == dev.addr);
	return 0;
}
