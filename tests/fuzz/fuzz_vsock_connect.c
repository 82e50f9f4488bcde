// SPDX-License-Identifier: MIT
/*
 * The hybrid vsock device's "CONNECT <port>\n" line (vmm/virtio/vsock.c's
 * vsock_parse_connect) on arbitrary bytes, as a host program may write
 * them.  The input sits in a heap block of exactly its size, so a read past
 * it is a sanitizer report; and an accepted line must hold together: it
 * ends at its first newline inside the input and inside the 32-byte limit,
 * its first word is "connect" in any case, and its second names a port
 * below 4294967295 that its digits spell.  "Need more" only while no
 * newline came and there is room.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fuzz.h"
#include "vsock.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size ? size : 1);
	const char *why = NULL, *nl;
	size_t line_len = 0;
	uint32_t port = 0;
	int ret;

	FUZZ_CHECK(buf != NULL);
	memcpy(buf, data, size);
	ret = vsock_parse_connect(buf, size, &port, &line_len, &why);
	nl = memchr(buf, '\n', size);
	if (ret < 0) {
		FUZZ_CHECK(why != NULL && why[0]);
	} else if (ret == 0) {
		FUZZ_CHECK(!nl && size < VSOCK_CONNECT_LINE_MAX);
	} else {
		size_t i = 0, end = line_len - 1, digits = 0;
		uint64_t v = 0;

		FUZZ_CHECK(ret == 1 && nl && (size_t)(nl - buf) + 1 == line_len);
		FUZZ_CHECK(line_len <= VSOCK_CONNECT_LINE_MAX && line_len > 9);
		while (i < end && isspace((unsigned char)buf[i]))
			i++;
		FUZZ_CHECK(end - i > 7 && !strncasecmp(buf + i, "connect", 7));
		i += 7;
		FUZZ_CHECK(isspace((unsigned char)buf[i]));
		while (i < end && isspace((unsigned char)buf[i]))
			i++;
		if (buf[i] == '+')
			i++;
		for (; i < end && !isspace((unsigned char)buf[i]); i++, digits++) {
			FUZZ_CHECK(buf[i] >= '0' && buf[i] <= '9');
			v = v * 10 + (uint64_t)(buf[i] - '0');
		}
		FUZZ_CHECK(digits > 0 && v == port && port < VSOCK_PORT_ANY);
	}
	free(buf);
	return 0;
}
