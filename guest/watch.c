// SPDX-License-Identifier: MIT
/*
 * vmgenid watch.  A generation is the GUID and, where the VM has a VMClock
 * device, its vm_generation_counter.  What says it changed, best first:
 * poll() on /dev/vmclock0 (Linux's ptp_vmclock with notifications; without
 * them the mapped counter is re-read on a timer), a NEW_VMGENID=1 change
 * uevent on the vmgenid device (Linux 6.8 and kernels carrying that patch;
 * reverted upstream in 6.9), and on every kernel since 5.18 the RNG's "crng
 * reseeded due to virtual machine fork" message on /dev/kmsg (both need the
 * vmgenid driver bound).  Without any of them, the GUID is polled.
 * Whatever noticed the change, the generation is then read again, so a
 * change is reported once, with its old and new values.  The last one seen
 * is kept in a state file, so a watch that starts reports what changed
 * while none ran.
 */
#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "genstate.h"
#include "hooks.h"
#include "probe.h"
#include "vmclock_dev.h"
#include "watch.h"

#define KMSG_BUF 16384
#define DEDUP_MS 1000 /* one fork, seen by two sources, when values are unknown */

static const char fork_message[] = "crng reseeded due to virtual machine fork";

/* A generation as one read saw it. */
struct gen {
	bool known; /* the GUID */
	struct vmgenid_guid g;
	bool counter_known;
	uint64_t counter;
};

struct watcher {
	const struct watch_opts *o;
	struct probe p;
	bool have_dev;          /* a vmgenid device in the ACPI tables */
	char dev_why[2 * PLATFORM_WHY_MAX];
	struct vmclock_dev vc;
	bool have_vc;
	char vc_why[PLATFORM_WHY_MAX];  /* why not, or the last read's error */
	int uevent_fd, kmsg_fd;
	bool polling;           /* the GUID, on a timer */
	bool ticking;           /* anything on a timer (polling, or VMClock without poll()) */
	char kmsg_buf[KMSG_BUF];
	size_t kmsg_len;
	struct gen last;
	long long last_event_ms;
	char why[PLATFORM_WHY_MAX * 2 + 8];
	char boot_id[40];
	bool state_warned;
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
		vmgenid_guid_format(&g->g, out);
	else
		snprintf(out, VMGENID_GUID_STR_LEN + 1, "unknown");
}

static void counter_text(const struct gen *g, char *out, size_t cap)
{
	if (g->counter_known)
		snprintf(out, cap, "%" PRIu64, g->counter);
	else
		snprintf(out, cap, "unknown");
}

static struct gen current(struct watcher *w)
{
	struct gen g = { false, { { 0 } }, false, 0 };
	struct vmclock_snap s;
	struct probe_read r;
	char why[PLATFORM_WHY_MAX];

	if (!w->have_dev) {
		snprintf(w->why, sizeof(w->why), "%s", w->dev_why);
	} else if (probe_read_guid(&w->p, &r) == 0) {
		g.known = true;
		g.g = r.guid;
	} else {
		snprintf(w->why, sizeof(w->why), "%s; %s", r.devmem_why, r.fwcfg_why);
	}
	if (!w->have_vc)
		return g;
	if (vmclock_dev_read(w->vc.page, w->vc.len, VMCLOCK_DEV_TRIES, &s, why, sizeof(why)) == 0) {
		g.counter_known = true;
		g.counter = s.counter;
		w->vc_why[0] = '\0';
	} else if (strcmp(why, w->vc_why)) {
		/* Said once per distinct problem, not once per read. */
		fprintf(stderr, "vmgenid: watch: %s: %s\n", VMCLOCK_DEV_PATH, why);
		snprintf(w->vc_why, sizeof(w->vc_why), "%s", why);
	}
	return g;
}

static void read_boot_id(char *out, size_t cap)
{
	char path[512];
	ssize_t n = -1;
	int fd;

	out[0] = '\0';
	fd = open(platform_path(path, sizeof(path), "/proc/sys/kernel/random/boot_id"),
		  O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, out, cap - 1);
		close(fd);
	}
	out[n > 0 ? n : 0] = '\0';
	out[strcspn(out, "\n")] = '\0';
}

static void gen_to_state(const struct watcher *w, const struct gen *g, struct genstate *s)
{
	memset(s, 0, sizeof(*s));
	s->guid_known = g->known;
	s->guid = g->g;
	s->counter_known = g->counter_known;
	s->counter = g->counter;
	snprintf(s->boot_id, sizeof(s->boot_id), "%s", w->boot_id);
}

static void save_state(struct watcher *w)
{
	char why[1200];
	struct genstate s;

	if (!w->o->state_dir)
		return;
	gen_to_state(w, &w->last, &s);
	if (genstate_save(w->o->state_dir, &s, why, sizeof(why)) && !w->state_warned) {
		fprintf(stderr, "vmgenid: watch: state not kept (%s): a change while no watch "
			"runs will go unnoticed\n", why);
		w->state_warned = true;
	}
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

/* --exec, then the drop-in directory, each with the change in its environment. */
static void run_hooks(struct watcher *w, const char *old, const char *new, const char *method,
		      const char *when, const struct gen *now)
{
	char e_old[64], e_new[64], e_method[64], e_time[64], e_cold[64], e_cnew[64], c[24];
	char *env[] = { e_old, e_new, e_method, e_time, e_cold, e_cnew, NULL };
	struct hooks_result r;

	snprintf(e_old, sizeof(e_old), "VMGENID_OLD=%s", old);
	snprintf(e_new, sizeof(e_new), "VMGENID_NEW=%s", new);
	snprintf(e_method, sizeof(e_method), "VMGENID_METHOD=%s", method);
	snprintf(e_time, sizeof(e_time), "VMGENID_TIME=%s", when);
	counter_text(&w->last, c, sizeof(c));
	snprintf(e_cold, sizeof(e_cold), "VMGENID_COUNTER_OLD=%s", c);
	counter_text(now, c, sizeof(c));
	snprintf(e_cnew, sizeof(e_cnew), "VMGENID_COUNTER_NEW=%s", c);
	if (w->o->exec) {
		char *argv[] = { "/bin/sh", "-c", (char *)w->o->exec, NULL };
		char label[300];

		snprintf(label, sizeof(label), "'%.250s'", w->o->exec);
		hooks_run(argv, env, w->o->hook_timeout_ms, label);
	}
	if (w->o->hooks_dir) {
		hooks_run_dir(w->o->hooks_dir, env, w->o->hook_timeout_ms, &r);
		if (r.failed)
			fprintf(stderr, "vmgenid: watch: %u of %u hooks failed for this change "
				"(%u timed out)\n", r.failed, r.ran, r.timed_out);
	}
}

static void report(struct watcher *w, const struct gen *now, const char *method)
{
	char old[VMGENID_GUID_STR_LEN + 1], new[VMGENID_GUID_STR_LEN + 1], when[40], c0[24], c1[24];

	gen_text(&w->last, old);
	gen_text(now, new);
	counter_text(&w->last, c0, sizeof(c0));
	counter_text(now, c1, sizeof(c1));
	iso_time(when, sizeof(when));
	if (w->o->json) {
		json_t *o = json_pack("{s:s, s:s, s:s, s:s}", "time", when, "old", old, "new", new,
				      "method", method);

		if (w->have_vc || w->last.counter_known || now->counter_known) {
			json_object_set_new(o, "counter_old", w->last.counter_known ?
					    json_integer((json_int_t)w->last.counter) : json_null());
			json_object_set_new(o, "counter_new", now->counter_known ?
					    json_integer((json_int_t)now->counter) : json_null());
		}
		json_dumpf(o, stdout, 0);
		fputc('\n', stdout);
		json_decref(o);
	} else if (w->have_vc || w->last.counter_known || now->counter_known) {
		printf("%s %s -> %s (%s) counter %s -> %s\n", when, old, new, method, c0, c1);
	} else {
		printf("%s %s -> %s (%s)\n", when, old, new, method);
	}
	fflush(stdout);
	run_hooks(w, old, new, method, when, now);
	w->changes++;
	/* Kept only once the hooks are done: a watch stopped in the middle
	 * reports the change again when it starts. */
	w->last = *now;
	save_state(w);
}

/*
 * Something says the generation may have changed (an event), or a timer
 * fired (timer): read it again, and report it if it did change.
 */
static void trigger(struct watcher *w, const char *method, bool timer)
{
	struct gen now = current(w);
	long long t = now_ms();
	bool by_guid = now.known && w->last.known;
	bool by_counter = now.counter_known && w->last.counter_known;

	if (by_guid || by_counter) {
		bool guid_moved = by_guid && !vmgenid_guid_equal(&now.g, &w->last.g);
		bool counter_moved = by_counter && now.counter != w->last.counter;

		if (!guid_moved && !counter_moved) {
			/* Same generation; keep whatever this read learnt. */
			if (now.known)
				w->last.known = true, w->last.g = now.g;
			if (now.counter_known)
				w->last.counter_known = true, w->last.counter = now.counter;
			return;
		}
		if (timer)
			method = counter_moved ? "vmclock" : "poll";
	} else {
		/* Nothing to compare: only a kernel event says something
		 * happened, and one fork seen by two sources is one change. */
		if (timer)
			return;
		if (t - w->last_event_ms < DEDUP_MS)
			return;
	}
	w->last_event_ms = t;
	report(w, &now, method);
}

static void drain_uevent(struct watcher *w)
{
	char buf[8192];
	ssize_t n;

	while ((n = recv(w->uevent_fd, buf, sizeof(buf), 0)) > 0) {
		if (watch_uevent_is_vmgenid(buf, (size_t)n))
			trigger(w, "uevent", false);
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
				trigger(w, "kmsg", false);
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
	char text[VMGENID_GUID_STR_LEN + 1], c[24];
	const char *sep = "";

	gen_text(&w->last, text);
	if (w->have_dev)
		fprintf(stderr, "vmgenid: watch: %s, generation %s", w->p.dev.path, text);
	else
		fprintf(stderr, "vmgenid: watch: no VM generation ID device (%s)", w->dev_why);
	if (w->have_vc) {
		counter_text(&w->last, c, sizeof(c));
		fprintf(stderr, "; VMClock %s, counter %s", VMCLOCK_DEV_PATH, c);
	}
	fprintf(stderr, "; detecting changes by");
	if (w->have_vc && w->vc.can_poll) {
		fprintf(stderr, " vmclock (poll() on %s)", VMCLOCK_DEV_PATH);
		sep = ",";
	} else if (w->have_vc) {
		fprintf(stderr, " vmclock (re-reading %s every %u ms: its driver does not "
			"wake poll())", VMCLOCK_DEV_PATH, w->o->interval_ms);
		sep = ",";
	}
	if (w->uevent_fd >= 0) {
		fprintf(stderr, "%s uevent (NEW_VMGENID=1)", sep);
		sep = ",";
	}
	if (w->kmsg_fd >= 0) {
		fprintf(stderr, "%s kmsg (\"%s\")", sep, fork_message);
		sep = ",";
	}
	if (w->polling)
		fprintf(stderr, "%s polling every %u ms", sep, w->o->interval_ms);
	fputc('\n', stderr);
	if (!w->have_vc && w->vc_why[0])
		fprintf(stderr, "vmgenid: watch: no VMClock: %s\n", w->vc_why);
	if (w->have_dev && w->p.have_sysdev && !strcmp(w->p.sysdev.driver, "vmgenid")) {
		if (w->uevent_fd < 0)
			fprintf(stderr, "vmgenid: watch: no uevents: %s\n", uevent_why);
		if (w->kmsg_fd < 0)
			fprintf(stderr, "vmgenid: watch: no kmsg: %s\n", kmsg_why);
	} else if (w->have_dev) {
		fprintf(stderr, "vmgenid: watch: no kernel events: the vmgenid driver is not "
			"bound to the device\n");
	}
	if (w->have_dev && !w->last.known)
		fprintf(stderr, "vmgenid: watch: the ID cannot be read (%s), so changes are "
			"reported as unknown\n", w->why);
}

static void announce_hooks(const struct watch_opts *o)
{
	char why[1200];
	char **names;
	size_t n;
	int ret;

	if (o->state_dir)
		fprintf(stderr, "vmgenid: watch: state kept in %s/%s\n", o->state_dir,
			GENSTATE_FILE);
	if (!o->hooks_dir)
		return;
	ret = hooks_list(o->hooks_dir, &names, &n, why, sizeof(why));
	if (ret == -ENOENT) {
		fprintf(stderr, "vmgenid: watch: no hooks (%s does not exist)\n", o->hooks_dir);
	} else if (ret) {
		fprintf(stderr, "vmgenid: watch: hooks: %s\n", why);
	} else {
		fprintf(stderr, "vmgenid: watch: %zu hook%s in %s, %u s timeout each%s", n,
			n == 1 ? "" : "s", o->hooks_dir, o->hook_timeout_ms / 1000, n ? ":" : "");
		for (size_t i = 0; i < n; i++)
			fprintf(stderr, " %s", names[i]);
		fputc('\n', stderr);
		hooks_free(names, n);
	}
}

/*
 * What changed while no watch ran: the state file against the generation
 * now.  Reported once (as method "missed"), then the state is the present.
 */
static void check_missed(struct watcher *w)
{
	struct genstate saved, now_s;
	struct gen now = w->last;
	char why[1200];
	int ret;

	if (!w->o->state_dir)
		return;
	ret = genstate_load(w->o->state_dir, &saved, why, sizeof(why));
	if (ret && ret != -ENOENT)
		fprintf(stderr, "vmgenid: watch: ignoring the state file: %s\n", why);
	if (ret) {
		save_state(w);
		return;
	}
	gen_to_state(w, &w->last, &now_s);
	switch (genstate_compare(&saved, &now_s)) {
	case GENSTATE_CHANGED:
		w->last.known = saved.guid_known;
		w->last.g = saved.guid;
		w->last.counter_known = saved.counter_known;
		w->last.counter = saved.counter;
		report(w, &now, "missed"); /* saves the state */
		return;
	case GENSTATE_UNKNOWN:
		fprintf(stderr, "vmgenid: watch: cannot tell whether the generation changed "
			"since the last watch: the GUID was not readable %s, and a counter from "
			"another boot says nothing (it starts afresh at power-on)\n",
			now.known ? "then" : "now");
		break;
	case GENSTATE_SAME:
		break;
	}
	save_state(w);
}

int watch_run(const struct watch_opts *o)
{
	char uevent_why[256] = "", kmsg_why[256] = "";
	struct watcher *w = calloc(1, sizeof(*w));
	struct pollfd fds[3];
	long long next_tick;
	int ret, n, timeout, dev_ret, vc_ret;

	if (!w) {
		fprintf(stderr, "vmgenid: watch: out of memory\n");
		return EXIT_FAIL;
	}
	w->o = o;
	w->uevent_fd = w->kmsg_fd = -1;
	dev_ret = probe_device(&w->p);
	w->have_dev = dev_ret == 0;
	if (dev_ret)
		probe_missing(&w->p, w->dev_why, sizeof(w->dev_why));
	vc_ret = vmclock_dev_open(&w->vc, w->vc_why, sizeof(w->vc_why));
	w->have_vc = vc_ret == 0;
	if (vc_ret == -ENOENT)
		w->vc_why[0] = '\0'; /* no VMClock is the common case, not news */
	if (!w->have_dev && !w->have_vc) {
		fprintf(stderr, "vmgenid: watch: %s\n", w->dev_why);
		if (w->vc_why[0])
			fprintf(stderr, "vmgenid: watch: and no VMClock: %s\n", w->vc_why);
		free(w);
		return dev_ret == -ENOENT && vc_ret == -ENOENT ? EXIT_NO_DEVICE : EXIT_FAIL;
	}
	read_boot_id(w->boot_id, sizeof(w->boot_id));
	w->last = current(w);
	/* The kernel only speaks up about a device its driver holds. */
	if (w->have_dev && w->p.have_sysdev && !strcmp(w->p.sysdev.driver, "vmgenid")) {
		w->uevent_fd = open_uevent(uevent_why, sizeof(uevent_why));
		w->kmsg_fd = open_kmsg(kmsg_why, sizeof(kmsg_why));
	}
	w->polling = w->last.known &&
		     (o->interval_given || (w->uevent_fd < 0 && w->kmsg_fd < 0 && !w->have_vc));
	w->ticking = w->polling || (w->have_vc && !w->vc.can_poll);
	if (w->uevent_fd < 0 && w->kmsg_fd < 0 && !w->have_vc && !w->polling) {
		fprintf(stderr, "vmgenid: watch: nothing to watch with: no kernel events (%s) and "
			"the ID cannot be read to poll it (%s)\n",
			w->p.have_sysdev && w->p.sysdev.driver[0] ? kmsg_why :
			"the vmgenid driver is not bound", w->why);
		free(w);
		return EXIT_FAIL;
	}
	announce(w, uevent_why, kmsg_why);
	announce_hooks(o);
	check_missed(w);
	next_tick = now_ms() + o->interval_ms;

	while (!(o->once && w->changes)) {
		n = 0;
		if (w->have_vc && w->vc.can_poll)
			fds[n++] = (struct pollfd){ .fd = w->vc.fd, .events = POLLIN };
		if (w->uevent_fd >= 0)
			fds[n++] = (struct pollfd){ .fd = w->uevent_fd, .events = POLLIN };
		if (w->kmsg_fd >= 0)
			fds[n++] = (struct pollfd){ .fd = w->kmsg_fd, .events = POLLIN };
		if (!n && !w->ticking) {
			fprintf(stderr, "vmgenid: watch: /dev/kmsg closed and nothing else to "
				"watch with\n");
			break;
		}
		timeout = -1;
		if (w->ticking) {
			long long left = next_tick - now_ms();

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
		if (w->ticking && now_ms() >= next_tick) {
			trigger(w, "poll", true);
			next_tick = now_ms() + o->interval_ms;
		}
		for (int i = 0; ret > 0 && i < n; i++) {
			if (!fds[i].revents)
				continue;
			if (w->have_vc && fds[i].fd == w->vc.fd) {
				if (fds[i].revents & (POLLHUP | POLLERR | POLLNVAL)) {
					fprintf(stderr, "vmgenid: watch: %s stopped waking poll() "
						"(revents 0x%x): re-reading it every %u ms instead\n",
						VMCLOCK_DEV_PATH, (unsigned int)fds[i].revents,
						o->interval_ms);
					w->vc.can_poll = false;
					w->ticking = true;
					next_tick = now_ms() + o->interval_ms;
					continue;
				}
				/* Tell the driver what we saw before reading, so a
				 * change after the read wakes the next poll(). */
				vmclock_dev_arm(&w->vc);
				trigger(w, "vmclock", false);
			} else if (fds[i].fd == w->uevent_fd) {
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
	vmclock_dev_close(&w->vc);
	ret = o->once && w->changes ? EXIT_OK : EXIT_FAIL;
	free(w);
	return ret;
}
