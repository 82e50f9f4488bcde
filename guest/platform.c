// SPDX-License-Identifier: MIT
/*
 * The guest tool's view of the running system (see platform.h).  Reads are
 * small and bounded; sysfs text is parsed defensively, since a fake root in
 * the tests (and odd kernels in the field) may hold anything.
 */
#include <ctype.h>
#include <dirent.h>
#include <setjmp.h>
#include <signal.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <zlib.h>

#include "platform.h"

#define TABLE_MAX (16u << 20) /* no DSDT comes near this */
#define MAX_TABLES 64

const char *platform_root(void)
{
	const char *r = getenv("VMGENID_ROOT");

	return r ? r : "";
}

const char *platform_path(char *buf, size_t cap, const char *path)
{
	snprintf(buf, cap, "%s%s", platform_root(), path);
	return buf;
}

/* Copy src, cut to fit: names from sysfs are short, but not by contract. */
static void copy_str(char *dst, size_t cap, const char *src)
{
	size_t n = strnlen(src, cap - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

static void why_set(char *why, size_t cap, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void why_set(char *why, size_t cap, const char *fmt, ...)
{
	va_list ap;

	if (!why || !cap)
		return;
	va_start(ap, fmt);
	vsnprintf(why, cap, fmt, ap);
	va_end(ap);
}

/* A small text file (first line, trailing newline cut) into buf. */
static int read_text(const char *path, char *buf, size_t cap)
{
	char full[512];
	ssize_t n;
	int fd;

	fd = open(platform_path(full, sizeof(full), path), O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, cap - 1);
	close(fd);
	if (n < 0)
		return -EIO;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

static int read_file(const char *full, uint8_t **data, size_t *len)
{
	size_t cap = 65536, n = 0;
	uint8_t *buf = NULL, *nbuf;
	ssize_t r;
	int fd;

	fd = open(full, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (;;) {
		if (!buf || n == cap) {
			if (buf)
				cap *= 2;
			if (cap > TABLE_MAX) {
				free(buf);
				close(fd);
				return -EFBIG;
			}
			nbuf = realloc(buf, cap);
			if (!nbuf) {
				free(buf);
				close(fd);
				return -ENOMEM;
			}
			buf = nbuf;
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			r = -errno;
			free(buf);
			close(fd);
			return (int)r;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	*data = buf;
	*len = n;
	return 0;
}

/* "SSDT", "SSDT1", "SSDT12" ... in numeric order after the DSDT. */
static int table_rank(const char *name)
{
	if (!strcmp(name, "DSDT"))
		return 0;
	if (strncmp(name, "SSDT", 4))
		return -1;
	if (!name[4])
		return 1;
	for (const char *p = name + 4; *p; p++) {
		if (!isdigit((unsigned char)*p))
			return -1;
	}
	return 2 + atoi(name + 4) % 100000;
}

struct found_table {
	char name[AML_READER_TABLE_NAME_MAX];
	char full[800];
	int rank;
};

static int found_cmp(const void *a, const void *b)
{
	const struct found_table *x = a, *y = b;

	return x->rank - y->rank;
}

static size_t scan_tables(const char *dir, const char *prefix, struct found_table *f,
			  size_t n, size_t cap)
{
	char full[512];
	struct dirent *e;
	DIR *d = opendir(platform_path(full, sizeof(full), dir));

	if (!d)
		return n;
	while ((e = readdir(d)) && n < cap) {
		int rank = table_rank(e->d_name);

		if (rank < 0 || strlen(prefix) + strlen(e->d_name) >= sizeof(f[n].name))
			continue;
		strcpy(f[n].name, prefix);
		strcat(f[n].name, e->d_name);
		snprintf(f[n].full, sizeof(f[n].full), "%s/%s", full, e->d_name);
		/* Runtime-loaded SSDTs come after the static ones. */
		f[n].rank = rank + (*prefix ? 200000 : 0);
		n++;
	}
	closedir(d);
	return n;
}

int platform_load_tables(struct platform_tables *pt, char *why, size_t cap)
{
	struct found_table *f = calloc(MAX_TABLES, sizeof(*f));
	size_t n = 0, i;
	int ret = 0;

	pt->t = NULL;
	pt->n = 0;
	if (!f)
		return -ENOMEM;
	n = scan_tables("/sys/firmware/acpi/tables", "", f, n, MAX_TABLES);
	n = scan_tables("/sys/firmware/acpi/tables/dynamic", "dynamic/", f, n, MAX_TABLES);
	if (!n) {
		why_set(why, cap, "no DSDT or SSDT in /sys/firmware/acpi/tables (not an ACPI "
			"system, ACPI disabled with acpi=off, or sysfs not mounted)");
		free(f);
		return -ENOENT;
	}
	qsort(f, n, sizeof(*f), found_cmp);
	pt->t = calloc(n, sizeof(*pt->t));
	if (!pt->t) {
		free(f);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		uint8_t *data = NULL;
		size_t len = 0;
		char *name;

		ret = read_file(f[i].full, &data, &len);
		if (ret) {
			why_set(why, cap, "cannot read %s: %s%s", f[i].full, strerror(-ret),
				ret == -EACCES ? " (the ACPI tables are readable by root only)" : "");
			break;
		}
		name = strdup(f[i].name);
		if (!name) {
			free(data);
			ret = -ENOMEM;
			break;
		}
		pt->t[pt->n].name = name;
		pt->t[pt->n].data = data;
		pt->t[pt->n].len = len;
		pt->n++;
	}
	free(f);
	if (ret)
		platform_free_tables(pt);
	return ret;
}

void platform_free_tables(struct platform_tables *pt)
{
	size_t i;

	for (i = 0; pt->t && i < pt->n; i++) {
		free((void *)pt->t[i].name);
		free((void *)pt->t[i].data);
	}
	free(pt->t);
	pt->t = NULL;
	pt->n = 0;
}

/* The driver a sysfs device directory is bound to: "" if none. */
static void bound_driver(const char *dir, char *out, size_t cap, char *link, size_t lcap)
{
	char path[512], target[512];
	ssize_t n;

	out[0] = '\0';
	snprintf(path, sizeof(path), "%s/driver", dir);
	n = readlink(path, target, sizeof(target) - 1);
	if (n <= 0)
		return;
	target[n] = '\0';
	copy_str(out, cap, strrchr(target, '/') ? strrchr(target, '/') + 1 : target);
	copy_str(link, lcap, path + strlen(platform_root()));
}

int platform_find_acpi_dev(struct platform_acpi_dev *d)
{
	char dir[512], sub[1024];
	struct dirent *e;
	DIR *dp;
	int ret = -ENOENT;

	dp = opendir(platform_path(dir, sizeof(dir), "/sys/bus/acpi/devices"));
	if (!dp)
		return -ENOENT;
	while (ret && (e = readdir(dp))) {
		char ids[256], *tok, *save = NULL;
		bool match = false;

		if (e->d_name[0] == '.')
			continue;
		memset(d, 0, sizeof(*d));
		snprintf(sub, sizeof(sub), "/sys/bus/acpi/devices/%s/hid", e->d_name);
		if (read_text(sub, d->hid, sizeof(d->hid)) == 0)
			match = aml_reader_is_vmgenid_id(d->hid);
		/* The modalias lists _HID and every _CID: "acpi:HID:CID1:CID2:". */
		snprintf(sub, sizeof(sub), "/sys/bus/acpi/devices/%s/modalias", e->d_name);
		if (!match && read_text(sub, ids, sizeof(ids)) == 0 && !strncmp(ids, "acpi:", 5)) {
			for (tok = strtok_r(ids + 5, ":", &save); tok && !match;
			     tok = strtok_r(NULL, ":", &save)) {
				if (!d->hid[0])
					snprintf(d->hid, sizeof(d->hid), "%s", tok);
				match = aml_reader_is_vmgenid_id(tok);
			}
		}
		if (!match)
			continue;
		copy_str(d->name, sizeof(d->name), e->d_name);
		snprintf(sub, sizeof(sub), "/sys/bus/acpi/devices/%s/path", e->d_name);
		if (read_text(sub, d->path, sizeof(d->path)))
			d->path[0] = '\0';
		/* Before Linux 6.10 an ACPI driver; since, a platform driver on
		 * the physical node. */
		snprintf(sub, sizeof(sub), "%s/%s", dir, e->d_name);
		bound_driver(sub, d->driver, sizeof(d->driver), d->driver_link,
			     sizeof(d->driver_link));
		if (!d->driver[0]) {
			snprintf(sub, sizeof(sub), "%s/%s/physical_node", dir, e->d_name);
			bound_driver(sub, d->driver, sizeof(d->driver), d->driver_link,
				     sizeof(d->driver_link));
		}
		ret = 0;
	}
	closedir(dp);
	return ret;
}

static bool parse_u64(const char *s, uint64_t *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 0);
	return !errno && end != s;
}

static int memmap_sysfs(uint64_t addr, uint64_t last, struct platform_range *r)
{
	char dir[512], sub[640], buf[128];
	struct dirent *e;
	int found = 0;
	DIR *dp;

	dp = opendir(platform_path(dir, sizeof(dir), "/sys/firmware/memmap"));
	if (!dp)
		return -ENOENT;
	while (!found && (e = readdir(dp))) {
		uint64_t start, end;

		if (e->d_name[0] == '.')
			continue;
		snprintf(sub, sizeof(sub), "/sys/firmware/memmap/%s/start", e->d_name);
		if (read_text(sub, buf, sizeof(buf)) || !parse_u64(buf, &start))
			continue;
		snprintf(sub, sizeof(sub), "/sys/firmware/memmap/%s/end", e->d_name);
		if (read_text(sub, buf, sizeof(buf)) || !parse_u64(buf, &end))
			continue;
		if (addr < start || last > end)
			continue;
		snprintf(sub, sizeof(sub), "/sys/firmware/memmap/%s/type", e->d_name);
		if (read_text(sub, r->type, sizeof(r->type)))
			snprintf(r->type, sizeof(r->type), "(unreadable)");
		r->start = start;
		r->end = end;
		snprintf(r->source, sizeof(r->source), "/sys/firmware/memmap/");
		copy_str(r->source + strlen(r->source), sizeof(r->source) - strlen(r->source),
			 e->d_name);
		found = 1;
	}
	closedir(dp);
	return found;
}

/* Top-level /proc/iomem entries ("start-end : type"); zeros unless root. */
static int memmap_iomem(uint64_t addr, uint64_t last, struct platform_range *r)
{
	char path[512], line[256];
	FILE *f = fopen(platform_path(path, sizeof(path), "/proc/iomem"), "re");
	bool nonzero = false;
	int found = 0;

	if (!f)
		return -ENOENT;
	while (!found && fgets(line, sizeof(line), f)) {
		uint64_t start, end;
		char *dash, *colon;

		if (line[0] == ' ' || !(dash = strchr(line, '-')) || !(colon = strstr(line, " : ")))
			continue;
		*dash = '\0';
		if (sscanf(line, "%" SCNx64, &start) != 1 || sscanf(dash + 1, "%" SCNx64, &end) != 1)
			continue;
		nonzero = nonzero || start || end;
		if (addr < start || last > end)
			continue;
		snprintf(r->type, sizeof(r->type), "%s", colon + 3);
		r->type[strcspn(r->type, "\n")] = '\0';
		r->start = start;
		r->end = end;
		snprintf(r->source, sizeof(r->source), "/proc/iomem");
		found = 1;
	}
	fclose(f);
	return nonzero ? found : -ENOENT;
}

int platform_memmap_lookup(uint64_t addr, uint64_t len, struct platform_range *r)
{
	uint64_t last = addr + len - 1;
	int ret;

	memset(r, 0, sizeof(*r));
	if (!len || last < addr)
		return 0;
	ret = memmap_sysfs(addr, last, r);
	if (ret < 0)
		ret = memmap_iomem(addr, last, r);
	return ret;
}

int platform_cache_type(uint64_t addr, uint64_t len, bool *cacheable, char *evidence,
			size_t cap)
{
	char path[512], line[256], pat[160], mtrr[96];
	uint64_t last = addr + len - 1;
	bool have_mtrr = false;
	FILE *f;

	/* PAT: "PAT: [mem 0x...-0x...] write-back", end exclusive. */
	f = fopen(platform_path(path, sizeof(path), "/sys/kernel/debug/x86/pat_memtype_list"),
		  "re");
	if (f) {
		while (fgets(line, sizeof(line), f)) {
			uint64_t start, end;
			char type[48];

			if (sscanf(line, "PAT: [mem 0x%" SCNx64 "-0x%" SCNx64 "] %47s", &start, &end,
				   type) != 3 || addr < start || last >= end)
				continue;
			fclose(f);
			*cacheable = !strcmp(type, "write-back");
			why_set(evidence, cap, "PAT memtype of [0x%" PRIx64 "-0x%" PRIx64 ") is %s "
				"(/sys/kernel/debug/x86/pat_memtype_list)", start, end, type);
			return 1;
		}
		fclose(f);
		/* Linux does not track PAT types in the legacy ISA hole. */
		if (addr >= 0xA0000 && last < 0x100000)
			snprintf(pat, sizeof(pat), "0x%" PRIx64 " is in the legacy ISA range "
				 "(0xa0000-0xfffff), whose caching PAT does not track", addr);
		else
			snprintf(pat, sizeof(pat), "no PAT entry covers it (nothing mapped it with "
				 "a tracked type yet)");
	} else {
		snprintf(pat, sizeof(pat), "no PAT list (mount -t debugfs none /sys/kernel/debug "
			 "to see x86/pat_memtype_list)");
	}
	/* MTRRs can only make it uncached; no entry is not proof of write-back. */
	f = fopen(platform_path(path, sizeof(path), "/proc/mtrr"), "re");
	if (f) {
		while (fgets(line, sizeof(line), f)) {
			uint64_t base, mb;
			char *type = strrchr(line, ':');

			if (sscanf(line, "reg%*d: base=0x%" SCNx64 " (%*[^)]), size=%" SCNu64 "MB",
				   &base, &mb) != 2 || !type)
				continue;
			have_mtrr = true;
			if (addr < base || last >= base + (mb << 20))
				continue;
			type++;
			type += strspn(type, " ");
			type[strcspn(type, "\n")] = '\0';
			if (!strcmp(type, "uncachable")) {
				fclose(f);
				*cacheable = false;
				why_set(evidence, cap, "MTRR makes [0x%" PRIx64 ", +%" PRIu64 " MB) "
					"uncachable (/proc/mtrr)", base, mb);
				return 1;
			}
		}
		fclose(f);
	}
	snprintf(mtrr, sizeof(mtrr), "%s", have_mtrr ? "no variable MTRR makes it uncachable" :
		 "no variable MTRRs in /proc/mtrr");
	why_set(evidence, cap, "%s; %s", pat, mtrr);
	return 0;
}

static char kconfig_file[64];

const char *platform_kconfig_file(void)
{
	return kconfig_file[0] ? kconfig_file : "the kernel's config";
}

const char *platform_kconfig(const char *opt)
{
	char path[512], line[512], want[128];
	const char *res = NULL;
	struct utsname u;
	size_t wl;
	gzFile gz;

	snprintf(want, sizeof(want), "CONFIG_%s", opt);
	wl = strlen(want);
	/* gzopen reads plain files too, so /boot/config-* goes the same way. */
	snprintf(kconfig_file, sizeof(kconfig_file), "/proc/config.gz");
	gz = gzopen(platform_path(path, sizeof(path), kconfig_file), "rb");
	if (!gz && uname(&u) == 0) {
		snprintf(kconfig_file, sizeof(kconfig_file), "/boot/config-%.50s", u.release);
		gz = gzopen(platform_path(path, sizeof(path), kconfig_file), "rb");
	}
	if (!gz) {
		kconfig_file[0] = '\0';
		return NULL;
	}
	while (!res && gzgets(gz, line, sizeof(line))) {
		line[strcspn(line, "\n")] = '\0';
		if (!strncmp(line, want, wl) && line[wl] == '=')
			res = !strcmp(line + wl + 1, "y") ? "y" : !strcmp(line + wl + 1, "m") ? "m"
											     : "other";
		else if (!strncmp(line, "# ", 2) && !strncmp(line + 2, want, wl) &&
			 !strcmp(line + 2 + wl, " is not set"))
			res = "n";
	}
	gzclose(gz);
	return res;
}

bool platform_cmdline_has(const char *word)
{
	char buf[4096], *tok, *save = NULL;

	if (read_text("/proc/cmdline", buf, sizeof(buf)))
		return false;
	for (tok = strtok_r(buf, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
		if (!strcmp(tok, word))
			return true;
	}
	return false;
}

/* Kernel lockdown ("[integrity]" or "[confidentiality]") forbids /dev/mem. */
static bool locked_down(char *mode, size_t cap)
{
	char buf[128], *open, *close;

	if (read_text("/sys/kernel/security/lockdown", buf, sizeof(buf)))
		return false;
	open = strchr(buf, '[');
	close = open ? strchr(open, ']') : NULL;
	if (!open || !close)
		return false;
	*close = '\0';
	snprintf(mode, cap, "%s", open + 1);
	return strcmp(open + 1, "none") != 0;
}

static sigjmp_buf bus_jmp;

static void on_sigbus(int sig)
{
	(void)sig;
	siglongjmp(bus_jmp, 1);
}

/* Copy 16 bytes from a mapping, turning a SIGBUS (nothing behind the
 * address) into a return of false instead of a crash. */
static bool copy_guarded(volatile const uint8_t *p, uint8_t out[16])
{
	struct sigaction sa, old;
	volatile bool ok = false;
	int i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigbus;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, &old);
	if (sigsetjmp(bus_jmp, 1) == 0) {
		for (i = 0; i < 16; i++)
			out[i] = p[i];
		ok = true;
	}
	sigaction(SIGBUS, &old, NULL);
	return ok;
}

int platform_read_devmem(uint64_t addr, uint8_t out[16], char *why, size_t cap)
{
	long page = sysconf(_SC_PAGESIZE);
	uint64_t base = addr & ~((uint64_t)page - 1);
	struct platform_range range;
	char path[512], mode[64];
	const char *cfg;
	void *map;
	bool ok;
	int fd, err;

	if (page <= 0 || (addr & (uint64_t)(page - 1)) + 16 > (uint64_t)page) {
		why_set(why, cap, "/dev/mem: the 16 bytes at 0x%" PRIx64 " cross a page boundary "
			"(not 8-byte aligned inside one page)", addr);
		return -EINVAL;
	}
	/*
	 * ADDR comes from the VMM's tables; if it points outside the firmware's
	 * memory map it may be device memory, where a read can have effects.
	 * (No map to look at: trust it, as the kernel's driver does.)
	 */
	if (platform_memmap_lookup(addr, 16, &range) == 0) {
		why_set(why, cap, "/dev/mem: not reading 0x%" PRIx64 ": no firmware memory map "
			"entry holds it (it may be device memory)", addr);
		return -ERANGE;
	}
	/* Not O_SYNC: that maps uncached, which the kernel refuses because the
	 * vmgenid driver holds the page write-back (a PAT conflict). */
	fd = open(platform_path(path, sizeof(path), "/dev/mem"), O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = errno;
		if (err == ENOENT) {
			cfg = platform_kconfig("DEVMEM");
			if (cfg && !strcmp(cfg, "n"))
				why_set(why, cap, "/dev/mem: this kernel is built without "
					"CONFIG_DEVMEM (\"# CONFIG_DEVMEM is not set\" in %s), so "
					"no process can read physical memory", platform_kconfig_file());
			else
				why_set(why, cap, "/dev/mem does not exist (a kernel without "
					"CONFIG_DEVMEM, or no node: mknod /dev/mem c 1 1)");
		} else if ((err == EACCES || err == EPERM) && geteuid() != 0) {
			why_set(why, cap, "/dev/mem: %s; reading it needs root (CAP_SYS_RAWIO): "
				"run vmgenid as root", strerror(err));
		} else if (err == EPERM && locked_down(mode, sizeof(mode))) {
			why_set(why, cap, "/dev/mem: kernel lockdown (%s mode, "
				"/sys/kernel/security/lockdown) forbids it; boot with lockdown=none "
				"or without Secure Boot's lockdown", mode);
		} else {
			why_set(why, cap, "/dev/mem: %s", strerror(err));
		}
		return -err;
	}
	map = mmap(NULL, (size_t)page, PROT_READ, MAP_SHARED, fd, (off_t)base);
	err = map == MAP_FAILED ? errno : 0;
	close(fd);
	if (err) {
		if (err == EPERM && !platform_cmdline_has("iomem=relaxed"))
			why_set(why, cap, "/dev/mem: the kernel refused to map 0x%" PRIx64 " "
				"(%s): CONFIG_STRICT_DEVMEM/CONFIG_IO_STRICT_DEVMEM keep user "
				"space off memory a driver has claimed, and the vmgenid driver "
				"holds this page; boot with iomem=relaxed", addr, strerror(err));
		else if (err == EPERM)
			why_set(why, cap, "/dev/mem: the kernel refused to map 0x%" PRIx64 " (%s) "
				"even with iomem=relaxed (CONFIG_STRICT_DEVMEM without "
				"CONFIG_IO_STRICT_DEVMEM still forbids System RAM)", addr,
				strerror(err));
		else
			why_set(why, cap, "/dev/mem: cannot map 0x%" PRIx64 ": %s", addr,
				strerror(err));
		return -err;
	}
	ok = copy_guarded((volatile const uint8_t *)map + (addr - base), out);
	munmap(map, (size_t)page);
	if (!ok) {
		why_set(why, cap, "/dev/mem: reading 0x%" PRIx64 " faulted (SIGBUS): nothing "
			"backs that address", addr);
		return -EFAULT;
	}
	return 0;
}

int platform_read_fwcfg(uint8_t out[16], char *why, size_t cap)
{
	static const char *file = "/sys/firmware/qemu_fw_cfg/by_name/etc/vmgenid_guid/raw";
	char path[512];
	const char *cfg;
	struct stat st;
	ssize_t n;
	int fd, err;

	fd = open(platform_path(path, sizeof(path), file), O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = errno;
		if (stat(platform_path(path, sizeof(path), "/sys/firmware/qemu_fw_cfg"), &st)) {
			cfg = platform_kconfig("FW_CFG_SYSFS");
			if (cfg && !strcmp(cfg, "n"))
				why_set(why, cap, "fw_cfg: no /sys/firmware/qemu_fw_cfg: this kernel "
					"is built without CONFIG_FW_CFG_SYSFS (and only VMMs with "
					"QEMU's fw_cfg device, such as QEMU and genvm, offer it)");
			else
				why_set(why, cap, "fw_cfg: no /sys/firmware/qemu_fw_cfg: load the "
					"driver with 'modprobe qemu_fw_cfg' (CONFIG_FW_CFG_SYSFS); only "
					"VMMs with QEMU's fw_cfg device, such as QEMU and genvm, offer "
					"it");
		} else if (err == ENOENT) {
			why_set(why, cap, "fw_cfg: the VMM publishes no etc/vmgenid_guid file");
		} else {
			why_set(why, cap, "fw_cfg: %s: %s%s", file, strerror(err),
				err == EACCES ? " (readable by root only)" : "");
		}
		return -err;
	}
	n = pread(fd, out, 16, 40);
	err = n < 0 ? errno : 0;
	close(fd);
	if (n != 16) {
		why_set(why, cap, "fw_cfg: etc/vmgenid_guid: %s", n < 0 ? strerror(err) :
			"shorter than 56 bytes (no GUID at offset 40)");
		return n < 0 ? -err : -EIO;
	}
	return 0;
}
