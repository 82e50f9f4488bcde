// SPDX-License-Identifier: MIT
/*
 * Write our VMClock SSDT to a file, for the page at a given address, so that
 * the real ACPICA tools (iasl -d, acpiexec) can judge it.
 * usage: vmclock_ssdt OUT.aml PAGE_ADDRESS
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmgenid/bytebuf.h"
#include "vmgenid/vmclock.h"

int main(int argc, char **argv)
{
	struct vmgenid_bytebuf b;
	unsigned long long gpa;
	char *end;
	FILE *f;
	int ret;

	if (argc != 3) {
		fprintf(stderr, "usage: %s OUT.aml PAGE_ADDRESS\n", argv[0]);
		return 2;
	}
	errno = 0;
	gpa = strtoull(argv[2], &end, 0);
	if (errno || *end) {
		fprintf(stderr, "%s: bad address '%s'\n", argv[0], argv[2]);
		return 2;
	}
	vmgenid_bytebuf_init(&b);
	ret = vmgenid_vmclock_build_ssdt(&b, gpa);
	if (ret) {
		fprintf(stderr, "%s: cannot build the SSDT: %s\n", argv[0], strerror(-ret));
		return 1;
	}
	f = fopen(argv[1], "wb");
	if (!f || fwrite(b.data, 1, b.len, f) != b.len || fclose(f)) {
		fprintf(stderr, "%s: %s: %s\n", argv[0], argv[1], strerror(errno));
		return 1;
	}
	vmgenid_bytebuf_free(&b);
	return 0;
}
