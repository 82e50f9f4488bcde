// SPDX-License-Identifier: MIT
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "snapfile.h"
#include "snapstream.h"
#include "spawner.h"

#define PAGE 4096
#define RAM_PAGES 512 /* 2 MiB */
#define RAM_SIZE ((uint64_t)RAM_PAGES * PAGE)
#define ZERO_RUN_START 256 /* pages 256..383: 512 KiB of zeros, surely a hole */
#define ZERO_RUN_END 384

static char dir[] = "/tmp/test_snapstream.XXXXXX";
static uint8_t *ram;
static const char state_bytes[] = "state sections would be here";

static void path_in_dir(char *out, size_t size, const char *name)
{
	snprintf(out, size, "%s/%s", dir, name);
}

static void uri_of(struct snapuri *u, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void uri_of(struct snapuri *u, const char *fmt, ...)
{
	char text[SNAPURI_MAX + 8];
	char why[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	assert_int_equal(snapuri_parse(text, u, why, sizeof(why)), 0);
}

static int dir_entries(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static void empty_dir(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[512];

	assert_non_null(d);
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		path_in_dir(path, sizeof(path), e->d_name);
		unlink(path);
	}
	closedir(d);
}

static int open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	assert_non_null(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

static void put_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static void expect_file(const char *path, const char *text)
{
	char buf[256] = "";
	FILE *f = fopen(path, "r");
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	assert_string_equal(buf, text);
}

/*
 * Guest RAM with zero pages scattered (every third), one long zero run,
 * and a page that is zero but for its last byte, which must not be lost.
 */
static int setup(void **state)
{
	uint32_t x = 12345;
	size_t i;

	(void)state;
	if (!mkdtemp(dir))
		return -1;
	ram = malloc(RAM_SIZE);
	if (!ram)
		return -1;
	for (i = 0; i < RAM_SIZE; i++) {
		x = x * 1103515245 + 12345;
		ram[i] = (uint8_t)(x >> 16);
	}
	for (i = 0; i < RAM_PAGES; i++)
		if (i % 3 == 0 || (i >= ZERO_RUN_START && i < ZERO_RUN_END))
			memset(ram + i * PAGE, 0, PAGE);
	memset(ram + 7 * PAGE, 0, PAGE);
	ram[8 * PAGE - 1] = 1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	empty_dir();
	rmdir(dir);
	free(ram);
	return 0;
}

/* A whole snapshot as genvm writes one: header, state, padding, RAM. */
static int write_snapshot(struct snapwriter *w)
{
	static const uint8_t zeros[PAGE];
	struct snapfile_header h;
	uint8_t hdr[SNAPFILE_HEADER_SIZE];

	snapfile_layout(&h, RAM_SIZE, 1, state_bytes, sizeof(state_bytes));
	snapfile_encode(&h, hdr);
	snapwriter_write(w, hdr, sizeof(hdr));
	snapwriter_write(w, state_bytes, sizeof(state_bytes));
	snapwriter_write(w, zeros, h.ram_offset - h.state_offset - h.state_length);
	return snapwriter_write_ram(w, ram, RAM_SIZE);
}

static void save(const struct snapuri *u)
{
	struct snapwriter w;
	char why[400] = "";

	assert_int_equal(snapwriter_open(u, &w, why, sizeof(why)), 0);
	assert_int_equal(write_snapshot(&w), 0);
	assert_int_equal(w.pos, 2 * PAGE + RAM_SIZE);
	assert_int_equal(snapwriter_commit(&w, why, sizeof(why)), 0);
	snapwriter_abort(&w); /* harmless after commit */
}

/* Read a snapshot back and compare; returns the reader for more checks. */
static void load(const struct snapuri *u, struct snapreader *r, uint8_t *image)
{
	uint8_t hdr[SNAPFILE_HEADER_SIZE];
	struct snapfile_header h;
	char state[sizeof(state_bytes)];
	char why[400] = "";

	assert_int_equal(snapreader_open(u, r, why, sizeof(why)), 0);
	assert_int_equal(snapreader_read(r, hdr, sizeof(hdr), why, sizeof(why)), 0);
	assert_int_equal(snapfile_decode(hdr, sizeof(hdr), &h, why, sizeof(why)), 0);
	assert_int_equal(h.state_length, sizeof(state));
	assert_int_equal(snapreader_read(r, state, sizeof(state), why, sizeof(why)), 0);
	assert_int_equal(snapfile_check_state(&h, state, why, sizeof(why)), 0);
	assert_int_equal(snapreader_skip(r, h.ram_offset - r->pos, why, sizeof(why)), 0);
	assert_int_equal(r->pos, h.ram_offset);
	assert_int_equal(snapreader_read(r, image, RAM_SIZE, why, sizeof(why)), 0);
	assert_memory_equal(image, ram, RAM_SIZE);
}

static void parse_fails(const char *uri, int err, const char *expect)
{
	struct snapuri u;
	char why[300] = "";

	assert_int_equal(snapuri_parse(uri, &u, why, sizeof(why)), err);
	assert_string_equal(why, expect);
}

static void test_parse(void **state)
{
	struct snapuri u;
	char why[300] = "";
	char *big;

	(void)state;
	assert_int_equal(snapuri_parse("file:/tmp/a b", &u, why, sizeof(why)), 0);
	assert_int_equal(u.kind, SNAPURI_FILE);
	assert_string_equal(u.arg, "/tmp/a b");
	assert_int_equal(snapuri_parse("exec:gzip -c > f", &u, why, sizeof(why)), 0);
	assert_int_equal(u.kind, SNAPURI_EXEC);
	assert_string_equal(u.arg, "gzip -c > f");
	assert_int_equal(snapuri_parse("file:rel", &u, why, sizeof(why)), 0);
	assert_string_equal(u.arg, "rel");
	assert_int_equal(u.fd, -1);
	/* fd:NAME is resolved by the caller; fd:N is the descriptor N. */
	assert_int_equal(snapuri_parse("fd:migrate", &u, why, sizeof(why)), 0);
	assert_int_equal(u.kind, SNAPURI_FD);
	assert_string_equal(u.arg, "migrate");
	assert_int_equal(u.fd, -1);
	assert_int_equal(snapuri_parse("fd:17", &u, why, sizeof(why)), 0);
	assert_int_equal(u.fd, 17);
	parse_fails("fd:", -EINVAL, "fd: needs a name or number (fd:NAME)");
	parse_fails("fd:99999999", -EBADF, "99999999 is not a file descriptor number");

	parse_fails("tcp:1.2.3.4:4444", -EINVAL,
		    "unsupported URI \"tcp:1.2.3.4:4444\": use file:PATH, exec:COMMAND or fd:NAME");
	parse_fails("", -EINVAL, "unsupported URI \"\": use file:PATH, exec:COMMAND or fd:NAME");
	parse_fails("/tmp/snap", -EINVAL,
		    "unsupported URI \"/tmp/snap\": use file:PATH, exec:COMMAND or fd:NAME");
	parse_fails("FILE:/x", -EINVAL,
		    "unsupported URI \"FILE:/x\": use file:PATH, exec:COMMAND or fd:NAME");
	parse_fails("file:", -EINVAL, "file: needs a path (file:PATH)");
	parse_fails("exec:", -EINVAL, "exec: needs a shell command (exec:COMMAND)");

	big = malloc(SNAPURI_MAX + 8);
	assert_non_null(big);
	memcpy(big, "exec:", 5);
	memset(big + 5, 'x', SNAPURI_MAX - 1);
	big[5 + SNAPURI_MAX - 1] = 0;
	assert_int_equal(snapuri_parse(big, &u, why, sizeof(why)), 0); /* just fits */
	big[5 + SNAPURI_MAX - 1] = 'x';
	big[5 + SNAPURI_MAX] = 0;
	parse_fails(big, -ENAMETOOLONG, "the command is longer than 4095 bytes");
	free(big);
}

static void test_file_holes_and_read_back(void **state)
{
	char path[512];
	struct snapuri u;
	struct snapreader r;
	struct stat st;
	uint8_t *image = malloc(RAM_SIZE);
	uint64_t ram_at = 2 * PAGE, size = ram_at + RAM_SIZE;
	char why[200];
	void *map;
	int fd, fds = open_fds();
	off_t at;

	(void)state;
	assert_non_null(image);
	path_in_dir(path, sizeof(path), "snap");
	uri_of(&u, "file:%s", path);
	save(&u);
	assert_int_equal(dir_entries(), 1);

	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, size);
	assert_int_equal(st.st_mode & 0777, 0600);
	/* Zero pages were skipped: far fewer blocks than bytes. */
	assert_true((uint64_t)st.st_blocks * 512 < size - 128 * PAGE);

	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	/* The long zero run is a hole; the nearly-zero page is data. */
	at = lseek(fd, (off_t)(ram_at + ZERO_RUN_START * PAGE), SEEK_HOLE);
	assert_true(at < (off_t)(ram_at + ZERO_RUN_END * PAGE));
	at = lseek(fd, (off_t)(ram_at + ZERO_RUN_START * PAGE), SEEK_DATA);
	assert_true(at >= (off_t)(ram_at + ZERO_RUN_END * PAGE));
	at = lseek(fd, (off_t)(ram_at + 7 * PAGE), SEEK_DATA);
	assert_true(at <= (off_t)(ram_at + 8 * PAGE - 1));
	close(fd);

	load(&u, &r, image);
	assert_int_equal(r.size, size);
	/* What vm.c will do: map the image from the reader's fd. */
	map = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE, r.fd, (off_t)ram_at);
	assert_true(map != MAP_FAILED);
	assert_memory_equal(map, ram, RAM_SIZE);
	munmap(map, RAM_SIZE);
	/* Nothing is left to read. */
	assert_int_equal(snapreader_read(&r, image, 1, why, sizeof(why)), -EBADMSG);
	assert_string_equal(why, "truncated: the stream ended after 2105344 bytes");
	assert_int_equal(snapreader_close(&r, why, sizeof(why)), 0);
	snapreader_abort(&r); /* harmless after close */
	assert_int_equal(open_fds(), fds);

	/* A whole-zero RAM image ends in a hole: the size still comes right. */
	{
		struct snapwriter w;
		uint8_t *zero = calloc(1, RAM_SIZE);

		assert_non_null(zero);
		assert_int_equal(snapwriter_open(&u, &w, why, sizeof(why)), 0);
		assert_int_equal(snapwriter_write(&w, "x", 1), 0);
		assert_int_equal(snapwriter_write_ram(&w, zero, RAM_SIZE), 0);
		assert_int_equal(snapwriter_write_ram(&w, zero, 100), 0); /* a partial page */
		assert_int_equal(snapwriter_commit(&w, why, sizeof(why)), 0);
		assert_int_equal(stat(path, &st), 0);
		assert_int_equal(st.st_size, 1 + RAM_SIZE + 100);
		assert_true(st.st_blocks <= 64);
		free(zero);
	}
	unlink(path);
	free(image);
}

static void test_file_atomic(void **state)
{
	struct snapwriter w;
	struct snapuri u;
	char path[512], why[200];
	int fds = open_fds();

	(void)state;
	path_in_dir(path, sizeof(path), "snap");

	/* No PATH until commit. */
	uri_of(&u, "file:%s", path);
	assert_int_equal(snapwriter_open(&u, &w, why, sizeof(why)), 0);
	assert_int_equal(snapwriter_write(&w, "new", 3), 0);
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(dir_entries(), 1); /* the temporary file */
	assert_int_equal(snapwriter_commit(&w, why, sizeof(why)), 0);
	expect_file(path, "new");
	assert_int_equal(dir_entries(), 1);

	/* The old content until commit, and after an abort. */
	put_file(path, "old");
	assert_int_equal(snapwriter_open(&u, &w, why, sizeof(why)), 0);
	assert_int_equal(snapwriter_write(&w, "newer", 5), 0);
	expect_file(path, "old");
	assert_int_equal(dir_entries(), 2);
	snapwriter_abort(&w);
	snapwriter_abort(&w);
	expect_file(path, "old");
	assert_int_equal(dir_entries(), 1);
	assert_int_equal(snapwriter_commit(&w, why, sizeof(why)), -EBADF);

	assert_int_equal(snapwriter_open(&u, &w, why, sizeof(why)), 0);
	assert_int_equal(snapwriter_write(&w, "newer", 5), 0);
	expect_file(path, "old");
	assert_int_equal(snapwriter_commit(&w, why, sizeof(why)), 0);
	expect_file(path, "newer");
	assert_int_equal(dir_entries(), 1);

	/* A relative path: the temporary file goes to the current directory. */
	{
		char cwd[512];

		assert_non_null(getcwd(cwd, sizeof(cwd)));
		assert_int_equal(chdir(dir), 0);
		uri_of(&u, "file:rel");
		assert_int_equal(snapwriter_open(&u, &w, why, sizeof(why)), 0);
		assert_string_equal(w.dir, ".");
		assert_int_equal(snapwriter_write(&w, "rel", 3), 0);
		assert_int_equal(snapwriter_commit(&w, why, sizeof(why)), 0);
		assert_int_equal(chdir(cwd), 0);
		path_in_dir(cwd, sizeof(cwd), "rel");
		expect_file(cwd, "rel");
	}
	empty_dir();
	assert_int_equal(open_fds(), fds);
}

static void test_file_errors(void **state)
{
	struct snapwriter w;
	struct snapreader r;
	struct snapuri u;
	struct rlimit old, lim;
	char path[512], expect[PATH_MAX + 100], why[400];
	uint8_t *big;
	int fds = open_fds();

	(void)state;
	/* A directory that is not there (root ignores permission bits). */
	path_in_dir(path, sizeof(path), "missing/snap");
	uri_of(&u, "file:%s", path);
	assert_int_equal(snapwriter_open(&u, &w, why, sizeof(why)), -ENOENT);
	snprintf(expect, sizeof(expect),
		 "cannot create a temporary file in %s/missing: No such file or directory", dir);
	assert_string_equal(why, expect);
	snapwriter_abort(&w);

	if (geteuid() != 0) {
		assert_int_equal(chmod(dir, 0555), 0);
		path_in_dir(path, sizeof(path), "snap");
		uri_of(&u, "file:%s", path);
		assert_int_equal(snapwriter_open(&u, &w, why, sizeof(why)), -EACCES);
		snprintf(expect, sizeof(expect),
			 "cannot create a temporary file in %s: Permission denied", dir);
		assert_string_equal(why, expect);
		assert_int_equal(chmod(dir, 0700), 0);
	}

	/* Never rename over a device, a fifo or a directory. */
	uri_of(&u, "file:/dev/null");
	assert_int_equal(snapwriter_open(&u, &w, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "not a regular file (for a device or a pipe use "
			    "exec:\"cat > PATH\")");
	uri_of(&u, "file:%s", dir);
	assert_int_equal(snapwriter_open(&u, &w, why, sizeof(why)), -EINVAL);

	/* A write error (EFBIG past RLIMIT_FSIZE) is kept, reported, cleaned up. */
	big = malloc(1 << 20);
	assert_non_null(big);
	memset(big, 0xaa, 1 << 20);
	path_in_dir(path, sizeof(path), "snap");
	put_file(path, "old");
	uri_of(&u, "file:%s", path);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = 1 << 19;
	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	assert_int_equal(snapwriter_open(&u, &w, why, sizeof(why)), 0);
	assert_int_equal(snapwriter_write(&w, big, 1 << 20), -EFBIG);
	assert_int_equal(snapwriter_write(&w, "x", 1), -EFBIG); /* sticky */
	assert_int_equal(snapwriter_write_ram(&w, big, 4096), -EFBIG);
	assert_int_equal(w.pos, 1 << 19);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	snprintf(expect, sizeof(expect), "writing %s: File too large", w.tmp);
	assert_int_equal(snapwriter_commit(&w, why, sizeof(why)), -EFBIG);
	assert_string_equal(why, expect);
	signal(SIGXFSZ, SIG_DFL);
	expect_file(path, "old");
	assert_int_equal(dir_entries(), 1);
	free(big);

	/* Reading: missing, not a file, shorter than asked. */
	path_in_dir(path, sizeof(path), "absent");
	uri_of(&u, "file:%s", path);
	assert_int_equal(snapreader_open(&u, &r, why, sizeof(why)), -ENOENT);
	assert_string_equal(why, "No such file or directory");
	snapreader_abort(&r);
	uri_of(&u, "file:%s", dir);
	assert_int_equal(snapreader_open(&u, &r, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "not a regular file (for a device or a pipe use "
			    "exec:\"cat PATH\")");
	path_in_dir(path, sizeof(path), "snap");
	uri_of(&u, "file:%s", path);
	assert_int_equal(snapreader_open(&u, &r, why, sizeof(why)), 0);
	assert_int_equal(r.size, 3);
	assert_int_equal(snapreader_read(&r, expect, 2, why, sizeof(why)), 0);
	assert_int_equal(snapreader_read(&r, expect, 2, why, sizeof(why)), -EBADMSG);
	assert_string_equal(why, "truncated: the stream ended after 3 bytes");
	assert_int_equal(snapreader_skip(&r, 0, why, sizeof(why)), 0);
	assert_int_equal(snapreader_skip(&r, 1, why, sizeof(why)), -EBADMSG);
	assert_string_equal(why, "truncated: the stream ended after 3 bytes");
	assert_int_equal(snapreader_close(&r, why, sizeof(why)), 0);
	assert_int_equal(snapreader_read(&r, expect, 1, why, sizeof(why)), -EBADF);
	assert_int_equal(snapreader_open(&u, &r, why, sizeof(why)), 0);
	assert_int_equal(snapreader_skip(&r, 4, why, sizeof(why)), -EBADMSG);
	assert_string_equal(why, "truncated: the stream ended after 3 bytes");
	snapreader_abort(&r);
	empty_dir();
	assert_int_equal(open_fds(), fds);
}

static void test_exec_round_trip(void **state)
{
	struct snapreader r;
	struct snapuri u;
	char why[200];
	uint8_t *image = malloc(RAM_SIZE);
	int fds = open_fds();

	(void)state;
	assert_non_null(image);
	uri_of(&u, "exec:gzip -c > %s/snap.gz", dir);
	save(&u);
	assert_int_equal(dir_entries(), 1);
	uri_of(&u, "exec:gzip -dc %s/snap.gz", dir);
	load(&u, &r, image);
	assert_int_equal(r.size, 0);
	assert_int_equal(snapreader_close(&r, why, sizeof(why)), 0);

	/* The same bytes as a file: snapshot, with its holes filled in. */
	uri_of(&u, "file:%s/snap", dir);
	save(&u);
	{
		char cmd[700];

		snprintf(cmd, sizeof(cmd), "gzip -dc %s/snap.gz | cmp -s - %s/snap", dir, dir);
		assert_int_equal(system(cmd), 0);
	}
	empty_dir();
	free(image);
	assert_int_equal(open_fds(), fds);
}

/* fd:NAME: a descriptor that is written and read in sequence, then closed. */
static void test_fd_round_trip(void **state)
{
	struct snapreader r;
	struct snapuri u;
	char path[300], why[200];
	uint8_t *image = malloc(RAM_SIZE);
	int fds = open_fds(), fd;

	(void)state;
	assert_non_null(image);
	snprintf(path, sizeof(path), "%s/by-fd", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(snapuri_parse("fd:migrate", &u, why, sizeof(why)), 0);
	u.fd = fd;
	save(&u); /* closes fd */
	fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	u.fd = fd;
	load(&u, &r, image);
	assert_int_equal(r.size, 0); /* a stream: no mapping of RAM */
	assert_int_equal(snapreader_close(&r, why, sizeof(why)), 0);
	/* The same bytes as a file: snapshot, holes filled in. */
	uri_of(&u, "file:%s/snap", dir);
	save(&u);
	{
		char cmd[700];

		snprintf(cmd, sizeof(cmd), "cmp -s %s/by-fd %s/snap", dir, dir);
		assert_int_equal(system(cmd), 0);
	}
	/* No descriptor behind the name: refused, nothing opened. */
	assert_int_equal(snapuri_parse("fd:gone", &u, why, sizeof(why)), 0);
	{
		struct snapwriter w;

		assert_int_equal(snapwriter_open(&u, &w, why, sizeof(why)), -EBADF);
		assert_string_equal(why, "no open file descriptor gone");
	}
	empty_dir();
	free(image);
	assert_int_equal(open_fds(), fds);
}

static void test_exec_writer_failures(void **state)
{
	struct snapwriter w;
	struct snapuri u;
	char why[400];
	int fds = open_fds();

	(void)state;
	/* Fails before or after reading: its status either way. */
	uri_of(&u, "exec:exit 3");
	assert_int_equal(snapwriter_open(&u, &w, why, sizeof(why)), 0);
	snapwriter_write(&w, "abc", 3);
	assert_int_equal(snapwriter_commit(&w, why, sizeof(why)), -ECHILD);
	assert_string_equal(why, "command exited with status 3");

	assert_int_equal(snapwriter_open(&u, &w, why, sizeof(why)), 0);
	write_snapshot(&w);
	assert_int_equal(snapwriter_commit(&w, why, sizeof(why)), -ECHILD);
	assert_string_equal(why, "command exited with status 3");

	uri_of(&u, "exec:kill -TERM $$");
	assert_int_equal(snapwriter_open(&u, &w, why, sizeof(why)), 0);
	write_snapshot(&w);
	assert_int_equal(snapwriter_commit(&w, why, sizeof(why)), -ECHILD);
	assert_string_equal(why, "command killed by signal 15 (Terminated)");

	/* Succeeds without reading it all: EPIPE, and genvm lives on. */
	uri_of(&u, "exec:head -c 10 > /dev/null");
	assert_int_equal(snapwriter_open(&u, &w, why, sizeof(why)), 0);
	assert_int_equal(write_snapshot(&w), -EPIPE);
	assert_int_equal(snapwriter_write(&w, "x", 1), -EPIPE);
	assert_int_equal(snapwriter_commit(&w, why, sizeof(why)), -EPIPE);
	assert_memory_equal(why, "the command stopped reading its input after at most ", 52);
	assert_non_null(strstr(why, " bytes: Broken pipe"));

	/* A shell that cannot run the command: sh's own status. */
	uri_of(&u, "exec:/nonexistent/program 2>/dev/null");
	assert_int_equal(snapwriter_open(&u, &w, why, sizeof(why)), 0);
	write_snapshot(&w);
	assert_int_equal(snapwriter_commit(&w, why, sizeof(why)), -ECHILD);
	assert_string_equal(why, "command exited with status 127");
	assert_int_equal(open_fds(), fds);
}

static bool gone(pid_t pid)
{
	char path[64], line[256] = "";
	FILE *f;
	char *p;

	if (kill(pid, 0) && errno == ESRCH)
		return true;
	/* A zombie nobody reaps (pid 1 in a container may not) is gone too. */
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return true;
	if (!fgets(line, sizeof(line), f))
		line[0] = 0;
	fclose(f);
	p = strrchr(line, ')');
	return p && p[1] == ' ' && p[2] == 'Z';
}

static pid_t wait_for_pid_file(const char *path)
{
	int i, pid = 0;

	for (i = 0; i < 500 && !pid; i++) {
		FILE *f = fopen(path, "r");

		if (f) {
			if (fscanf(f, "%d", &pid) != 1)
				pid = 0;
			fclose(f);
		}
		if (!pid)
			usleep(10000);
	}
	assert_true(pid > 0);
	return (pid_t)pid;
}

static void wait_gone(pid_t pid)
{
	int i;

	for (i = 0; i < 500 && !gone(pid); i++)
		usleep(10000);
	assert_true(gone(pid));
}

/* Abort stops the whole pipeline, at once, even a part that never reads. */
static void test_exec_abort(void **state)
{
	struct snapwriter w;
	struct snapreader r;
	struct snapuri u;
	char path[512], why[200];
	pid_t child, shell;
	time_t t0 = time(NULL);
	int fds = open_fds();

	(void)state;
	path_in_dir(path, sizeof(path), "child");
	uri_of(&u, "exec:sleep 100 & echo $! > %s.tmp; mv %s.tmp %s; cat > /dev/null; wait",
	       path, path, path);
	assert_int_equal(snapwriter_open(&u, &w, why, sizeof(why)), 0);
	assert_int_equal(snapwriter_write(&w, "abc", 3), 0);
	child = wait_for_pid_file(path);
	shell = w.pid;
	snapwriter_abort(&w);
	assert_true(gone(shell));
	wait_gone(child);
	snapwriter_abort(&w);
	unlink(path);

	uri_of(&u, "exec:sleep 100 & echo $! > %s.tmp; mv %s.tmp %s; wait", path, path, path);
	assert_int_equal(snapreader_open(&u, &r, why, sizeof(why)), 0);
	child = wait_for_pid_file(path);
	shell = r.pid;
	snapreader_abort(&r);
	assert_true(gone(shell));
	wait_gone(child);
	unlink(path);
	assert_true(time(NULL) - t0 < 20);
	assert_int_equal(open_fds(), fds);
}

static void test_exec_reader_failures(void **state)
{
	struct snapreader r;
	struct snapuri u;
	char buf[256], why[200];
	int fds = open_fds();

	(void)state;
	/* A short stream, from a command that succeeded. */
	uri_of(&u, "exec:head -c 100 /dev/zero");
	assert_int_equal(snapreader_open(&u, &r, why, sizeof(why)), 0);
	assert_int_equal(snapreader_read(&r, buf, 200, why, sizeof(why)), -EBADMSG);
	assert_string_equal(why, "truncated: the stream ended after 100 bytes");
	assert_int_equal(snapreader_close(&r, why, sizeof(why)), 0);

	assert_int_equal(snapreader_open(&u, &r, why, sizeof(why)), 0);
	assert_int_equal(snapreader_skip(&r, 99, why, sizeof(why)), 0);
	assert_int_equal(snapreader_skip(&r, 40000, why, sizeof(why)), -EBADMSG);
	assert_string_equal(why, "truncated: the stream ended after 100 bytes");
	snapreader_abort(&r);

	/* A failing command: its status, from read and from close. */
	uri_of(&u, "exec:gzip -dc %s/absent.gz 2>/dev/null", dir);
	assert_int_equal(snapreader_open(&u, &r, why, sizeof(why)), 0);
	assert_int_equal(snapreader_read(&r, buf, 1, why, sizeof(why)), -ECHILD);
	assert_string_equal(why, "command exited with status 1");
	assert_int_equal(snapreader_close(&r, why, sizeof(why)), -ECHILD);
	assert_string_equal(why, "command exited with status 1");

	/* Data, then failure: close reports it. */
	uri_of(&u, "exec:echo hello; exit 4");
	assert_int_equal(snapreader_open(&u, &r, why, sizeof(why)), 0);
	assert_int_equal(snapreader_read(&r, buf, 6, why, sizeof(why)), 0);
	assert_memory_equal(buf, "hello\n", 6);
	assert_int_equal(snapreader_close(&r, why, sizeof(why)), -ECHILD);
	assert_string_equal(why, "command exited with status 4");

	uri_of(&u, "exec:kill -KILL $$");
	assert_int_equal(snapreader_open(&u, &r, why, sizeof(why)), 0);
	assert_int_equal(snapreader_read(&r, buf, 1, why, sizeof(why)), -ECHILD);
	assert_string_equal(why, "command killed by signal 9 (Killed)");
	snapreader_abort(&r);

	/* Closed early: the command gets SIGPIPE, not an ignored one. */
	uri_of(&u, "exec:exec yes"); /* no shell between us and the signal */
	assert_int_equal(snapreader_open(&u, &r, why, sizeof(why)), 0);
	assert_int_equal(snapreader_read(&r, buf, 4, why, sizeof(why)), 0);
	assert_memory_equal(buf, "y\ny\n", 4);
	assert_int_equal(snapreader_close(&r, why, sizeof(why)), -ECHILD);
	assert_string_equal(why, "command killed by signal 13 (Broken pipe)");

	/* Its stdin is /dev/null, not genvm's. */
	uri_of(&u, "exec:wc -c");
	assert_int_equal(snapreader_open(&u, &r, why, sizeof(why)), 0);
	assert_int_equal(snapreader_read(&r, buf, 2, why, sizeof(why)), 0);
	assert_memory_equal(buf, "0\n", 2);
	assert_int_equal(snapreader_close(&r, why, sizeof(why)), 0);
	assert_int_equal(open_fds(), fds);
}

/* Per test: the same commands again, started by the sandbox's helper process. */
static int spawner_up(void **state)
{
	(void)state;
	return spawner_start() < 0 ? -1 : 0;
}

static int spawner_down(void **state)
{
	(void)state;
	spawner_stop();
	return 0;
}

/* -sandbox on,spawn=deny: both directions refuse, saying why; nothing is left behind. */
static void test_exec_denied(void **state)
{
	struct snapwriter w;
	struct snapreader r;
	struct snapuri u;
	char why[320], path[PATH_MAX];
	int fds = open_fds();

	(void)state;
	spawner_deny();
	uri_of(&u, "exec:cat > %s/never", dir);
	assert_int_equal(snapwriter_open(&u, &w, why, sizeof(why)), -EPERM);
	assert_string_equal(why, "-sandbox on,spawn=deny forbids starting commands");
	uri_of(&u, "exec:echo never");
	assert_int_equal(snapreader_open(&u, &r, why, sizeof(why)), -EPERM);
	assert_string_equal(why, "-sandbox on,spawn=deny forbids starting commands");
	assert_int_equal(open_fds(), fds);
	path_in_dir(path, sizeof(path), "never");
	assert_int_equal(access(path, F_OK), -1);
}

/* A test run with the spawner helper up, named so in the TAP output. */
#define THROUGH_HELPER(f) { #f " through the spawner helper", f, spawner_up, spawner_down, NULL }

int main(void)
{
	/* One group, so the output has one TAP plan (meson reads it as such). */
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_file_holes_and_read_back),
		cmocka_unit_test(test_file_atomic),
		cmocka_unit_test(test_file_errors),
		cmocka_unit_test(test_fd_round_trip),
		cmocka_unit_test(test_exec_round_trip),
		cmocka_unit_test(test_exec_writer_failures),
		cmocka_unit_test(test_exec_abort),
		cmocka_unit_test(test_exec_reader_failures),
		THROUGH_HELPER(test_exec_round_trip),
		THROUGH_HELPER(test_exec_writer_failures),
		THROUGH_HELPER(test_exec_abort),
		THROUGH_HELPER(test_exec_reader_failures),
		THROUGH_HELPER(test_exec_denied),
	};

	/* As genvm's main() does: a reader that goes away is EPIPE, not death. */
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests_name("snapstream", tests, setup, teardown);
}
