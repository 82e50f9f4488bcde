// SPDX-License-Identifier: MIT
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "disk_images.h"

char image_dir[256];

int images_setup(const char *name)
{
	const char *t = getenv("TMPDIR");

	snprintf(image_dir, sizeof(image_dir), "%s/%s-XXXXXX", t && *t ? t : "/var/tmp", name);
	return mkdtemp(image_dir) ? 0 : -1;
}

int images_teardown(void)
{
	char cmd[300];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", image_dir);
	return system(cmd) == 0 ? 0 : -1;
}

uint8_t image_pattern(uint64_t i)
{
	return (uint8_t)(i * 7 + (i >> 9) * 13 + 1);
}

void image_path(char *out, size_t len, const char *name)
{
	snprintf(out, len, "%s/%s", image_dir, name);
}

void make_image(char *path, size_t path_len, const char *name, uint64_t len)
{
	static uint8_t buf[65536];
	int fd;

	image_path(path, path_len, name);
	fd = open(path, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	for (uint64_t o = 0; o < len; o += sizeof(buf)) {
		size_t n = len - o < sizeof(buf) ? (size_t)(len - o) : sizeof(buf);

		for (size_t i = 0; i < n; i++)
			buf[i] = image_pattern(o + i);
		assert_int_equal(pwrite(fd, buf, n, (off_t)o), (ssize_t)n);
	}
	close(fd);
}

void image_untouched(const char *path, uint64_t len)
{
	static uint8_t buf[65536];
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(st.st_size, len);
	for (uint64_t o = 0; o < len; o += sizeof(buf)) {
		size_t n = len - o < sizeof(buf) ? (size_t)(len - o) : sizeof(buf);

		assert_int_equal(pread(fd, buf, n, (off_t)o), (ssize_t)n);
		for (size_t i = 0; i < n; i++)
			if (buf[i] != image_pattern(o + i))
				fail_msg("image byte %llu changed", (unsigned long long)(o + i));
	}
	close(fd);
}
