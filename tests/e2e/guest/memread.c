// SPDX-License-Identifier: MIT
/*
 * memread: the e2e guest's window onto the vmgenid page.
 *
 * Runs inside the test guest (statically linked, no libc beyond glibc static).
 * The guest cannot evaluate AML from user space, so the GUID address comes from
 * the VGIA integer in the VMGENID SSDT as Linux exposes it in sysfs.  The page
 * is read through /dev/mem with a cacheable mapping: opening with O_SYNC (what
 * busybox devmem does) asks for an uncached mapping, which conflicts with the
 * write-back mapping the vmgenid driver already holds, and read(2) on /dev/mem
 * refuses addresses above the last RAM page.  Needs iomem=relaxed.
 *
 *   memread vgia            vgia=0x... and addr=0x... (VGIA + 0x28)
 *   memread read PADDR [N]  N (default 16, at most one page) bytes as hex
 *   memread e820 PADDR      the firmware memory map entry holding PADDR
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define ACPI_TABLES_DIR "/sys/firmware/acpi/tables"
#define MEMMAP_DIR "/sys/firmware/memmap"
#define ACPI_HEADER_LEN 36
#define ACPI_OEM_TABLE_ID_OFF 16
#define VMGENID_DEV_GUID_OFFSET 0x28
#define MAX_TABLE_LEN (1u << 20)

#define AML_NAME_OP 0x08
#define AML_ROOT_CHAR 0x5c
#define AML_DWORD_PREFIX 0x0c
#define AML_QWORD_PREFIX 0x0e

static int parse_u64(const char *s, uint64_t *out)
{
	char *end;

	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno || end == s || (*end != '\0' && *end != '\n'))
		return -EINVAL;
	*out = v;
	return 0;
}

static uint64_t get_le(const uint8_t *p, size_t n)
{
	uint64_t v = 0;

	for (size_t i = n; i > 0; i--)
		v = (v << 8) | p[i - 1];
	return v;
}

/* Reads a whole sysfs binary file (ACPI tables report size 0 in stat). */
static int read_file(const char *path, uint8_t **buf, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;

	size_t cap = 4096, used = 0;
	uint8_t *b = malloc(cap);
	int ret = 0;
	if (!b) {
		ret = -ENOMEM;
		goto out;
	}
	for (;;) {
		if (used == cap) {
			if (cap >= MAX_TABLE_LEN) {
				ret = -EFBIG;
				goto out;
			}
			uint8_t *nb = realloc(b, cap * 2);
			if (!nb) {
				ret = -ENOMEM;
				goto out;
			}
			b = nb;
			cap *= 2;
		}
		ssize_t n = read(fd, b + used, cap - used);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			goto out;
		}
		if (n == 0)
			break;
		used += (size_t)n;
	}
	*buf = b;
	*len = used;
	b = NULL;
out:
	free(b);
	close(fd);
	return ret;
}

static int vgia_in_table(const uint8_t *t, size_t len, uint64_t *vgia)
{
	if (len < ACPI_HEADER_LEN || memcmp(t, "SSDT", 4) != 0)
		return -ENOENT;
	/* The OEM table id is space- or NUL-padded to 8 bytes. */
	const uint8_t *id = t + ACPI_OEM_TABLE_ID_OFF;
	if (memcmp(id, "VMGENID", 7) != 0 || (id[7] != ' ' && id[7] != '\0'))
		return -ENOENT;

	for (size_t i = ACPI_HEADER_LEN; i + 6 <= len; i++) {
		size_t p = i;
		if (t[p++] != AML_NAME_OP)
			continue;
		if (t[p] == AML_ROOT_CHAR)
			p++;
		if (p + 5 > len || memcmp(t + p, "VGIA", 4) != 0)
			continue;
		p += 4;
		size_t width = t[p] == AML_DWORD_PREFIX ? 4 :
			       t[p] == AML_QWORD_PREFIX ? 8 : 0;
		p++;
		if (width == 0 || p + width > len)
			continue;
		*vgia = get_le(t + p, width);
		return 0;
	}
	return -ENOENT;
}

static int find_vgia(uint64_t *vgia)
{
	DIR *d = opendir(ACPI_TABLES_DIR);
	if (!d) {
		fprintf(stderr, "memread: %s: %s\n", ACPI_TABLES_DIR, strerror(errno));
		return -1;
	}
	int ret = -1;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, "SSDT", 4) != 0)
			continue;
		char path[512];
		snprintf(path, sizeof(path), "%s/%s", ACPI_TABLES_DIR, e->d_name);
		uint8_t *t = NULL;
		size_t len = 0;
		int err = read_file(path, &t, &len);
		if (err) {
			fprintf(stderr, "memread: %s: %s\n", path, strerror(-err));
			continue;
		}
		err = vgia_in_table(t, len, vgia);
		free(t);
		if (err == 0) {
			ret = 0;
			break;
		}
	}
	closedir(d);
	if (ret)
		fprintf(stderr, "memread: no SSDT with OEM table id VMGENID and a VGIA name\n");
	return ret;
}

static int cmd_vgia(void)
{
	uint64_t vgia;

	if (find_vgia(&vgia))
		return 1;
	printf("vgia=0x%" PRIx64 "\naddr=0x%" PRIx64 "\n", vgia,
	       vgia + VMGENID_DEV_GUID_OFFSET);
	return 0;
}

static int cmd_read(uint64_t paddr, uint64_t len)
{
	long page = sysconf(_SC_PAGESIZE);
	if (page <= 0)
		page = 4096;
	uint64_t base = paddr & ~((uint64_t)page - 1);
	uint64_t skip = paddr - base;
	if (len == 0 || len > (uint64_t)page) {
		fprintf(stderr, "memread: length must be 1..%ld\n", page);
		return 1;
	}
	size_t maplen = (size_t)(skip + len);

	/* No O_SYNC: the mapping must be cacheable like the driver's. */
	int fd = open("/dev/mem", O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		perror("memread: /dev/mem");
		return 1;
	}
	void *m = mmap(NULL, maplen, PROT_READ, MAP_SHARED, fd, (off_t)base);
	if (m == MAP_FAILED) {
		fprintf(stderr, "memread: mmap /dev/mem at 0x%" PRIx64 ": %s\n", base,
			strerror(errno));
		close(fd);
		return 1;
	}
	const volatile uint8_t *p = (const volatile uint8_t *)m + skip;
	for (uint64_t i = 0; i < len; i++)
		printf("%02x", p[i]);
	printf("\n");
	munmap(m, maplen);
	close(fd);
	return 0;
}

static int read_memmap_value(const char *entry, const char *field, char *buf,
			     size_t size)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s/%s", MEMMAP_DIR, entry, field);
	FILE *f = fopen(path, "re");
	if (!f)
		return -errno;
	if (!fgets(buf, (int)size, f)) {
		fclose(f);
		return -EIO;
	}
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

static int cmd_e820(uint64_t paddr)
{
	DIR *d = opendir(MEMMAP_DIR);
	if (!d) {
		fprintf(stderr, "memread: %s: %s\n", MEMMAP_DIR, strerror(errno));
		return 1;
	}
	int ret = 1;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		char s[64], en[64], type[128];
		uint64_t start, end;
		if (read_memmap_value(e->d_name, "start", s, sizeof(s)) ||
		    read_memmap_value(e->d_name, "end", en, sizeof(en)) ||
		    read_memmap_value(e->d_name, "type", type, sizeof(type)) ||
		    parse_u64(s, &start) || parse_u64(en, &end))
			continue;
		/* sysfs "end" is inclusive. */
		if (paddr >= start && paddr <= end) {
			printf("e820=0x%" PRIx64 "-0x%" PRIx64 " %s\n", start, end, type);
			ret = 0;
			break;
		}
	}
	closedir(d);
	if (ret)
		fprintf(stderr, "memread: 0x%" PRIx64 " is in no %s entry\n", paddr,
			MEMMAP_DIR);
	return ret;
}

static int usage(void)
{
	fprintf(stderr,
		"usage: memread vgia\n"
		"       memread read PADDR [LEN]\n"
		"       memread e820 PADDR\n");
	return 2;
}

int main(int argc, char **argv)
{
	uint64_t a, n = 16;

	if (argc == 2 && strcmp(argv[1], "vgia") == 0)
		return cmd_vgia();
	if ((argc == 3 || argc == 4) && strcmp(argv[1], "read") == 0) {
		if (parse_u64(argv[2], &a) || (argc == 4 && parse_u64(argv[3], &n))) {
			fprintf(stderr, "memread: bad number\n");
			return 2;
		}
		return cmd_read(a, n);
	}
	if (argc == 3 && strcmp(argv[1], "e820") == 0) {
		if (parse_u64(argv[2], &a)) {
			fprintf(stderr, "memread: bad address '%s'\n", argv[2]);
			return 2;
		}
		return cmd_e820(a);
	}
	return usage();
}
