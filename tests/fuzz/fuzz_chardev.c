// SPDX-License-Identifier: MIT
/*
 * The character-device specs of -qmp, -monitor and -serial
 * (vmm/control/chardev.c's chardev_parse) on arbitrary text.  The spec is
 * parsed into a heap block of exactly its size, so a write past it is a
 * sanitizer report; and what the parser accepts must hold together: every
 * string field terminated inside its array, a TCP port of 1 to 65535.
 */
#include <string.h>

#include "chardev.h"
#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct chardev_spec *spec = malloc(sizeof(*spec));
	char *text = malloc(size + 1);
	const char *why = NULL;
	int ret;

	FUZZ_CHECK(spec && text);
	memcpy(text, data, size);
	text[size] = '\0';
	ret = chardev_parse(text, spec, &why);
	if (ret < 0) {
		FUZZ_CHECK(why != NULL && why[0]);
	} else {
		FUZZ_CHECK(ret == 0);
		FUZZ_CHECK(memchr(spec->path, 0, sizeof(spec->path)) != NULL);
		FUZZ_CHECK(memchr(spec->host, 0, sizeof(spec->host)) != NULL);
		FUZZ_CHECK(memchr(spec->port, 0, sizeof(spec->port)) != NULL);
		if (spec->kind == CHARDEV_TCP) {
			long port = strtol(spec->port, NULL, 10);

			FUZZ_CHECK(port >= 1 && port <= 65535);
		}
		FUZZ_CHECK(spec->kind != CHARDEV_UNIX || spec->path[0]);
	}
	free(text);
	free(spec);
	return 0;
}
