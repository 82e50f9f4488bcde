// SPDX-License-Identifier: MIT
/*
 * Write our vmgenid SSDT to a file, VGIA set as the loader would patch it,
 * so that the real ACPICA tools (iasl -d, acpiexec) can judge it.
 * usage: vmgenid_ssdt OUT.aml VGIA
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmgenid/bytebuf.h"
#include "vmgenid/vmgenid.h"

int main(int argc, char **argv)
{
	struct vmgenid_bytebuf b;
	unsigned long long vgia;
	char *end;
	FILE *f;

	if (argc != 3) {
		fprintf(stderr, "usage: %s OUT.aml VGIA\n", argv[0]);
		return 2;
	}
	errno = 0;
	vgia = strtoull(argv[2], &end, 0);
	if (errno || *end || vgia > UINT32_MAX) {
		fprintf(stderr, "%s: bad VGIA '%s'\n", argv[0], argv[2]);
		return 2;
	}
	vmgenid_bytebuf_init(&b);
	if (vmgenid_dev_build_ssdt(&b, (uint32_t)vgia, NULL)) {
		fprintf(stderr, "%s: cannot build the SSDT\n", argv[0]);
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
