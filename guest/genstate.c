// SPDX-License-Identifier: MIT
/*
 * The watch's state file (see genstate.h).  Written as state.tmp, fsynced,
 * renamed, and the directory fsynced: a crash leaves the old file or the
 * new one, never half of one.  Read back defensively: it is only a file.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "genstate.h"

static bool parse_u64_dec(const char *s, uint64_t *v)
{
	char *end;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	*v = strtoull(s, &end, 10);
	return !errno && !*end;
}

int genstate_parse(const char *text, size_t len, struct genstate *s, char *why, size_t cap)
{
	char line[256];
	size_t i = 0, lineno = 0;

	memset(s, 0, sizeof(*s));
	while (i < len) {
		const char *nl = memchr(text + i, '\n', len - i);
		size_t n = nl ? (size_t)(nl - (text + i)) : len - i;
		char *val;

		lineno++;
		if (n >= sizeof(line)) {
			snprintf(why, cap, "line %zu is longer than %zu bytes", lineno, sizeof(line) - 1);
			return -EINVAL;
		}
		memcpy(line, text + i, n);
		line[n] = '\0';
		i += n + 1;
		if (memchr(line, '\0', n)) {
			snprintf(why, cap, "line %zu holds a NUL byte", lineno);
			return -EINVAL;
		}
		if (!line[0] || line[0] == '#')
			continue;
		val = strchr(line, '=');
		if (!val) {
			snprintf(why, cap, "line %zu is not KEY=VALUE", lineno);
			return -EINVAL;
		}
		*val++ = '\0';
		if (!strcmp(line, "guid")) {
			s->guid_known = strcmp(val, "unknown") != 0;
			if (s->guid_known && vmgenid_guid_parse(val, &s->guid, NULL)) {
				snprintf(why, cap, "line %zu: guid '%.40s' is not a UUID", lineno, val);
				return -EINVAL;
			}
		} else if (!strcmp(line, "counter")) {
			s->counter_known = strcmp(val, "unknown") != 0;
			if (s->counter_known && !parse_u64_dec(val, &s->counter)) {
				snprintf(why, cap, "line %zu: counter '%.30s' is not a number", lineno,
					 val);
				return -EINVAL;
			}
		} else if (!strcmp(line, "boot_id")) {
			if (strlen(val) >= sizeof(s->boot_id)) {
				snprintf(why, cap, "line %zu: boot_id too long", lineno);
				return -EINVAL;
			}
			strcpy(s->boot_id, val);
		}
		/* Other keys: a newer version's; ignored, not an error. */
	}
	return 0;
}

size_t genstate_format(const struct genstate *s, char *out, size_t cap)
{
	char g[VMGENID_GUID_STR_LEN + 1] = "unknown", c[24] = "unknown";
	int n;

	if (s->guid_known)
		vmgenid_guid_format(&s->guid, g);
	if (s->counter_known)
		snprintf(c, sizeof(c), "%" PRIu64, s->counter);
	n = snprintf(out, cap, "# vmgenid watch: the generation it saw last (replaced as a whole)\n"
		     "guid=%s\ncounter=%s\nboot_id=%s\n", g, c, s->boot_id);
	return n < 0 ? 0 : (size_t)n;
}

int genstate_load(const char *dir, struct genstate *s, char *why, size_t cap)
{
	char path[1024], text[GENSTATE_MAX + 2], sub[200];
	ssize_t n;
	size_t len = 0;
	int fd, err;

	memset(s, 0, sizeof(*s));
	snprintf(path, sizeof(path), "%s/%s", dir, GENSTATE_FILE);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		err = errno;
		if (err != ENOENT)
			snprintf(why, cap, "%s: %s", path, strerror(err));
		return -err;
	}
	/* One byte more than a state file may hold tells a larger file apart. */
	while (len < sizeof(text) - 1) {
		n = read(fd, text + len, sizeof(text) - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = errno;
			close(fd);
			snprintf(why, cap, "%s: %s", path, strerror(err));
			return -err;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (len > GENSTATE_MAX) {
		snprintf(why, cap, "%s: larger than %d bytes, not a state file of ours", path,
			 GENSTATE_MAX);
		return -EINVAL;
	}
	text[len] = '\0';
	if (genstate_parse(text, len, s, sub, sizeof(sub))) {
		snprintf(why, cap, "%s: %s", path, sub);
		return -EINVAL;
	}
	return 0;
}

/* mkdir -p: /var/lib exists on every system, a --state-dir's parents may not. */
static int make_dirs(const char *dir)
{
	char p[1024];
	size_t n = strlen(dir);

	if (n >= sizeof(p))
		return -ENAMETOOLONG;
	memcpy(p, dir, n + 1);
	for (size_t i = 1; i <= n; i++) {
		if (p[i] != '/' && p[i] != '\0')
			continue;
		p[i] = '\0';
		if (mkdir(p, 0755) && errno != EEXIST)
			return -errno;
		p[i] = i == n ? '\0' : '/';
	}
	return 0;
}

int genstate_save(const char *dir, const struct genstate *s, char *why, size_t cap)
{
	char path[1024], tmp[1040], text[512];
	size_t len = genstate_format(s, text, sizeof(text));
	int fd, err = 0, dfd;

	err = make_dirs(dir);
	if (err) {
		snprintf(why, cap, "cannot create %s: %s", dir, strerror(-err));
		return err;
	}
	snprintf(path, sizeof(path), "%s/%s", dir, GENSTATE_FILE);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0) {
		err = errno;
		snprintf(why, cap, "%s: %s", tmp, strerror(err));
		return -err;
	}
	if (write(fd, text, len) != (ssize_t)len)
		err = errno ? errno : EIO;
	if (!err && fsync(fd))
		err = errno;
	if (close(fd) && !err)
		err = errno;
	if (!err && rename(tmp, path))
		err = errno;
	if (err) {
		snprintf(why, cap, "cannot write %s: %s", path, strerror(err));
		unlink(tmp);
		return -err;
	}
	/* The rename itself is durable only once the directory is. */
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	return 0;
}

enum genstate_verdict genstate_compare(const struct genstate *saved, const struct genstate *now)
{
	if (saved->guid_known && now->guid_known)
		return vmgenid_guid_equal(&saved->guid, &now->guid) ? GENSTATE_SAME : GENSTATE_CHANGED;
	if (saved->counter_known && now->counter_known && saved->boot_id[0] &&
	    !strcmp(saved->boot_id, now->boot_id))
		return saved->counter == now->counter ? GENSTATE_SAME : GENSTATE_CHANGED;
	return GENSTATE_UNKNOWN;
}
