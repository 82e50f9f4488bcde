// SPDX-License-Identifier: MIT
/*
 * vmgenid watch.  The kernel says when the generation changed, in the ways
 * its version allows: a NEW_VMGENID=1 change uevent on the vmgenid device
 * (Linux 6.8 and kernels carrying that patch; reverted upstream in 6.9), and
 * on every kernel since 5.18 the RNG's "crng reseeded due to virtual machine
 * fork" message on /dev/kmsg.  Both need the vmgenid driver bound.  Without
 * either, the ID is polled.  Whatever noticed the change, the ID is then
 * read again, so a change is reported once, with its old and new values.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "probe.h"
#include "watch.h"

#define KMSG_BUF 16384
#define DEDUP_MS 1000 /* one fork, seen by two sources, when values are unknown */

static const char fork_message[] = "crng reseeded due to virtual machine fork";

struct gen {
	bool known;
	struct guid g;
};

struct watcher {
	const struct watch_opts *o;
	struct probe p;
	int uevent_fd, kmsg_fd;
	bool polling;
	char kmsg_buf[KMSG_BUF];
	size_t kmsg_len;
	struct gen last;
	long long last_event_ms;
	char why[PLATFORM_WHY_MAX * 2 + 8];
	unsigned int changes;
};

bool watch_uevent_is_vmgenid(const char *msg, size_t len)
{
	size_t i = 0;

	/* "change@/devices/...\0ACTION=change\0...\0NEW_VMGENID=1\0" */
	while (i < len) {
		const char *s = msg + i;
		size_t n = strnlen(s, len - i);

		if (n == 13 && !memcmp(s, "NEW_VMGENID=1", 13))
			return true;
		i += n + 1;
	}
	return false;
}

bool watch_kmsg_is_fork(const char *record)
{
	const char *text = strchr(record, ';');

	/* "6,1234,5678,-;random: crng reseeded ..."; continuation lines start
	 * with a space and carry key=value pairs, never the message. */
	if (record[0] == ' ')
		return false;
	return strstr(text ? text + 1 : record, fork_message) != NULL;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void iso_time(char *out, size_t cap)
{
	struct timespec ts;
	struct tm tm;
	char base[32];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, cap, "%s.%03uZ", base, (unsigned int)(ts.tv_nsec / 1000000) % 1000u);
}

static void gen_text(const struct gen *g, char *out)
{
	if (g->known)
		guid_format(&g->g, out);
	else
		snprintf(out, GUID_STR_LEN + 1, "unknown");
}

static struct gen current(struct watcher *w)
{
	struct probe_read r;
	struct gen g = { false, { { 0 } } };

	if (probe_read_guid(&w->p, &r) == 0) {
		g.known = true;
		g.g = r.guid;
	} else {
		snprintf(w->why, sizeof(w->why), "%s; %s", r.devmem_why, r.fwcfg_why);
	}
	return g;
}

static int open_uevent(char *why, size_t cap)
{
	struct sockaddr_nl sa;
	int fd, err;

	fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
		    NETLINK_KOBJECT_UEVENT);
	if (fd < 0) {
		err = errno;
		snprintf(why, cap, "uevent socket: %s", strerror(err));
		return -err;
	}
	memset(&sa, 0, sizeof(sa));
	sa.nl_family = AF_NETLINK;
	sa.nl_groups = 1; /* the kernel's own uevents */
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		err = errno;
		close(fd);
		snprintf(why, cap, "uevent socket: %s", strerror(err));
		return -err;
	}
	return fd;
}

static int open_kmsg(char *why, size_t cap)
{
	char path[512];
	int fd, err;

	fd = open(platform_path(path, sizeof(path), "/dev/kmsg"), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		err = errno;
		snprintf(why, cap, "/dev/kmsg: %s%s", strerror(err),
			 err == EACCES || err == EPERM ? " (needs root, or CAP_SYSLOG with "
			 "kernel.dmesg_restrict=1)" : "");
		return -err;
	}
	/* Only what is logged from now on (a FIFO in tests cannot seek). */
	lseek(fd, 0, SEEK_END);
	return fd;
}

static void run_exec(const char *cmd, const char *old, const char *new, const char *method,
		     const char *when)
{
	int status;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		setenv("VMGENID_OLD", old, 1);
		setenv("VMGENID_NEW", new, 1);
		setenv("VMGENID_METHOD", method, 1);
		setenv("VMGENID_TIME", when, 1);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	if (pid < 0) {
		fprintf(stderr, "vmgenid: watch: cannot run '%s': %s\n", cmd, strerror(errno));
		return;
	}
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			return;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status))
		fprintf(stderr, "vmgenid: watch: '%s' exited with status %d\n", cmd,
			WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		fprintf(stderr, "vmgenid: watch: '%s' was killed by signal %d\n", cmd,
			WTERMSIG(status));
}

static void report(struct watcher *w, const struct gen *now, const char *method)
{
	char old[GUID_STR_LEN + 1], new[GUID_STR_LEN + 1], when[40];

	gen_text(&w->last, old);
	gen_text(now, new);
	iso_time(when, sizeof(when));
	if (w->o->json) {
		json_t *o = json_pack("{s:s, s:s, s:s, s:s}", "time", when, "old", old, "new", new,
				      "method", method);

		json_dumpf(o, stdout, 0);
		fputc('\n', stdout);
		json_decref(o);
	} else {
		printf("%s %s -> %s (%s)\n", when, old, new, method);
	}
	fflush(stdout);
	if (w->o->exec)
		run_exec(w->o->exec, old, new, method, when);
	w->changes++;
}

static void trigger(struct watcher *w, const char *method)
{
	struct gen now = current(w);
	long long t = now_ms();

	if (now.known && w->last.known && guid_equal(&now.g, &w->last.g))
		return;
	if (!now.known && !w->last.known && t - w->last_event_ms < DEDUP_MS)
		return;
	if (!now.known && !strcmp(method, "poll"))
		return;
	report(w, &now, method);
	w->last = now;
	w->last_event_ms = t;
}

static void drain_uevent(struct watcher *w)
{
	char buf[8192];
	ssize_t n;

	while ((n = recv(w->uevent_fd, buf, sizeof(buf), 0)) > 0) {
		if (watch_uevent_is_vmgenid(buf, (size_t)n))
			trigger(w, "uevent");
	}
}

/* Returns false once the source is gone (EOF: a FIFO's writer left). */
static bool drain_kmsg(struct watcher *w)
{
	ssize_t n;
	char *nl;

	for (;;) {
		n = read(w->kmsg_fd, w->kmsg_buf + w->kmsg_len, sizeof(w->kmsg_buf) - 1 - w->kmsg_len);
		if (n < 0 && errno == EPIPE)
			continue; /* records were overwritten before we read them */
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return true;
		if (n == 0)
			return false;
		w->kmsg_len += (size_t)n;
		w->kmsg_buf[w->kmsg_len] = '\0';
		while ((nl = strchr(w->kmsg_buf, '\n'))) {
			*nl = '\0';
			if (watch_kmsg_is_fork(w->kmsg_buf))
				trigger(w, "kmsg");
			w->kmsg_len -= (size_t)(nl + 1 - w->kmsg_buf);
			memmove(w->kmsg_buf, nl + 1, w->kmsg_len + 1);
		}
		/* A line longer than the buffer is no record of ours. */
		if (w->kmsg_len >= sizeof(w->kmsg_buf) - 1)
			w->kmsg_len = 0;
	}
}

static void announce(struct watcher *w, const char *uevent_why, const char *kmsg_why)
{
	char text[GUID_STR_LEN + 1];
	const char *sep = "";

	gen_text(&w->last, text);
	fprintf(stderr, "vmgenid: watch: %s, generation %s; detecting changes by", w->p.dev.path,
		text);
	if (w->uevent_fd >= 0) {
		fprintf(stderr, " uevent (NEW_VMGENID=1)");
		sep = ",";
	}
	if (w->kmsg_fd >= 0) {
		fprintf(stderr, "%s kmsg (\"%s\")", sep, fork_message);
		sep = ",";
	}
	if (w->polling)
		fprintf(stderr, "%s polling every %u ms", sep, w->o->interval_ms);
	fputc('\n', stderr);
	if (!strcmp(w->p.sysdev.driver, "vmgenid")) {
		if (w->uevent_fd < 0)
			fprintf(stderr, "vmgenid: watch: no uevents: %s\n", uevent_why);
		if (w->kmsg_fd < 0)
			fprintf(stderr, "vmgenid: watch: no kmsg: %s\n", kmsg_why);
	} else {
		fprintf(stderr, "vmgenid: watch: no kernel events: the vmgenid driver is not "
			"bound to the device\n");
	}
	if (!w->last.known)
		fprintf(stderr, "vmgenid: watch: the ID cannot be read (%s), so changes are "
			"reported as unknown\n", w->why);
}

int watch_run(const struct watch_opts *o)
{
	char uevent_why[256] = "", kmsg_why[256] = "", msg[2 * PLATFORM_WHY_MAX];
	struct watcher *w = calloc(1, sizeof(*w));
	struct pollfd fds[2];
	long long next_poll;
	int ret, n, timeout;

	if (!w) {
		fprintf(stderr, "vmgenid: watch: out of memory\n");
		return EXIT_FAIL;
	}
	w->o = o;
	w->uevent_fd = w->kmsg_fd = -1;
	ret = probe_device(&w->p);
	if (ret) {
		probe_missing(&w->p, msg, sizeof(msg));
		fprintf(stderr, "vmgenid: watch: %s\n", msg);
		free(w);
		return ret == -ENOENT ? EXIT_NO_DEVICE : EXIT_FAIL;
	}
	w->last = current(w);
	/* The kernel only speaks up about a device its driver holds. */
	if (w->p.have_sysdev && !strcmp(w->p.sysdev.driver, "vmgenid")) {
		w->uevent_fd = open_uevent(uevent_why, sizeof(uevent_why));
		w->kmsg_fd = open_kmsg(kmsg_why, sizeof(kmsg_why));
	}
	w->polling = w->last.known && (o->interval_given || (w->uevent_fd < 0 && w->kmsg_fd < 0));
	if (w->uevent_fd < 0 && w->kmsg_fd < 0 && !w->polling) {
		fprintf(stderr, "vmgenid: watch: nothing to watch with: no kernel events (%s) and "
			"the ID cannot be read to poll it (%s)\n",
			w->p.have_sysdev && w->p.sysdev.driver[0] ? kmsg_why :
			"the vmgenid driver is not bound", w->why);
		free(w);
		return EXIT_FAIL;
	}
	announce(w, uevent_why, kmsg_why);
	next_poll = now_ms() + o->interval_ms;

	while (!(o->once && w->changes)) {
		n = 0;
		if (w->uevent_fd >= 0)
			fds[n++] = (struct pollfd){ .fd = w->uevent_fd, .events = POLLIN };
		if (w->kmsg_fd >= 0)
			fds[n++] = (struct pollfd){ .fd = w->kmsg_fd, .events = POLLIN };
		if (!n && !w->polling) {
			fprintf(stderr, "vmgenid: watch: /dev/kmsg closed and nothing else to "
				"watch with\n");
			break;
		}
		timeout = -1;
		if (w->polling) {
			long long left = next_poll - now_ms();

			timeout = left < 0 ? 0 : (int)left;
		}
		ret = poll(fds, (nfds_t)n, timeout);
		if (ret < 0 && errno == EINTR)
			continue;
		if (ret < 0) {
			fprintf(stderr, "vmgenid: watch: poll: %s\n", strerror(errno));
			break;
		}
		/* On schedule even when kmsg is busy with other messages. */
		if (w->polling && now_ms() >= next_poll) {
			trigger(w, "poll");
			next_poll = now_ms() + o->interval_ms;
		}
		for (int i = 0; ret > 0 && i < n; i++) {
			if (!fds[i].revents)
				continue;
			if (fds[i].fd == w->uevent_fd) {
				drain_uevent(w);
			} else if (!drain_kmsg(w)) {
				close(w->kmsg_fd);
				w->kmsg_fd = -1;
			}
		}
	}
	if (w->uevent_fd >= 0)
		close(w->uevent_fd);
	if (w->kmsg_fd >= 0)
		close(w->kmsg_fd);
	ret = o->once && w->changes ? EXIT_OK : EXIT_FAIL;
	free(w);
	return ret;
}
