// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "loop.h"

#define LOOP_MAX_EVENTS 32
#define LOOP_MAX_TIMERS 8

struct loop_fd {
	loop_fd_fn fn;
	void *opaque;
	unsigned int mask;
	uint32_t gen; /* bumped on every add/del, so stale events are dropped */
	bool used;
	bool in_epoll;
	bool always_ready; /* epoll refused it (regular file, /dev/null) */
};

struct loop_timer {
	loop_timer_fn fn;
	void *opaque;
	uint64_t due_ms;
	bool armed;
};

struct loop {
	int epfd;
	bool stop;
	struct loop_fd *fds;
	int nr_fds; /* capacity, indexed by fd */
	struct loop_timer timers[LOOP_MAX_TIMERS];
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

struct loop *loop_new(void)
{
	struct loop *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0) {
		free(l);
		return NULL;
	}
	return l;
}

void loop_free(struct loop *l)
{
	if (!l)
		return;
	close(l->epfd);
	free(l->fds);
	free(l);
}

static uint32_t epoll_mask(unsigned int mask)
{
	return (mask & LOOP_READ ? EPOLLIN : 0u) | (mask & LOOP_WRITE ? EPOLLOUT : 0u);
}

static int grow(struct loop *l, int fd)
{
	int n = l->nr_fds ? l->nr_fds : 16;
	struct loop_fd *p;

	while (n <= fd)
		n *= 2;
	if (n == l->nr_fds)
		return 0;
	p = realloc(l->fds, (size_t)n * sizeof(*p));
	if (!p)
		return -ENOMEM;
	memset(p + l->nr_fds, 0, (size_t)(n - l->nr_fds) * sizeof(*p));
	l->fds = p;
	l->nr_fds = n;
	return 0;
}

/*
 * Bring epoll in line with the entry.  A quiet fd (mask 0) leaves the epoll
 * set altogether: epoll reports hang-ups even for an empty event mask, and
 * a hung-up fd we do not read would wake us forever.
 */
static int sync_fd(struct loop *l, int fd)
{
	struct loop_fd *e = &l->fds[fd];
	struct epoll_event ev = {
		.events = epoll_mask(e->mask),
		.data.u64 = (uint64_t)e->gen << 32 | (uint32_t)fd,
	};
	int op;

	if (e->always_ready)
		return 0;
	if (!e->mask) {
		if (e->in_epoll)
			epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
		e->in_epoll = false;
		return 0;
	}
	op = e->in_epoll ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
	if (epoll_ctl(l->epfd, op, fd, &ev) < 0) {
		/* Files and /dev/null cannot be polled; they never block either. */
		if (errno == EPERM && op == EPOLL_CTL_ADD) {
			e->always_ready = true;
			return 0;
		}
		return -errno;
	}
	e->in_epoll = true;
	return 0;
}

int loop_add_fd(struct loop *l, int fd, unsigned int mask, loop_fd_fn fn, void *opaque)
{
	struct loop_fd *e;
	int ret;

	if (fd < 0 || !fn)
		return -EINVAL;
	ret = grow(l, fd);
	if (ret < 0)
		return ret;
	e = &l->fds[fd];
	if (!e->used) {
		e->in_epoll = false;
		e->always_ready = false;
	}
	e->fn = fn;
	e->opaque = opaque;
	e->mask = mask;
	e->gen++;
	e->used = true;
	ret = sync_fd(l, fd);
	if (ret < 0)
		loop_del_fd(l, fd);
	return ret;
}

int loop_set_mask(struct loop *l, int fd, unsigned int mask)
{
	if (fd < 0 || fd >= l->nr_fds || !l->fds[fd].used)
		return -ENOENT;
	if (l->fds[fd].mask == mask)
		return 0;
	l->fds[fd].mask = mask;
	return sync_fd(l, fd);
}

void loop_del_fd(struct loop *l, int fd)
{
	if (fd < 0 || fd >= l->nr_fds || !l->fds[fd].used)
		return;
	if (l->fds[fd].in_epoll)
		epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
	l->fds[fd].used = false;
	l->fds[fd].in_epoll = false;
	l->fds[fd].always_ready = false;
	l->fds[fd].gen++;
}

int loop_add_timer(struct loop *l, unsigned int ms, loop_timer_fn fn, void *opaque)
{
	struct loop_timer *free_slot = NULL;

	for (unsigned int i = 0; i < LOOP_MAX_TIMERS; i++) {
		struct loop_timer *t = &l->timers[i];

		if (t->armed && t->fn == fn && t->opaque == opaque) {
			free_slot = t;
			break;
		}
		if (!t->armed && !free_slot)
			free_slot = t;
	}
	if (!free_slot)
		return -ENOSPC;
	*free_slot = (struct loop_timer){ fn, opaque, now_ms() + ms, true };
	return 0;
}

void loop_del_timer(struct loop *l, loop_timer_fn fn, void *opaque)
{
	for (unsigned int i = 0; i < LOOP_MAX_TIMERS; i++) {
		if (l->timers[i].armed && l->timers[i].fn == fn && l->timers[i].opaque == opaque)
			l->timers[i].armed = false;
	}
}

static bool any_always_ready(const struct loop *l)
{
	for (int fd = 0; fd < l->nr_fds; fd++) {
		if (l->fds[fd].used && l->fds[fd].always_ready && l->fds[fd].mask)
			return true;
	}
	return false;
}

/* Milliseconds until the next timer, or -1 for none. */
static bool any_armed(const struct loop *l)
{
	for (unsigned int i = 0; i < LOOP_MAX_TIMERS; i++) {
		if (l->timers[i].armed)
			return true;
	}
	return false;
}

/*
 * The clock is read only when a timer is armed: where the kernel's clock
 * source has no vDSO path (a TCG guest's), each read is a system call, two
 * per wakeup of an idle loop serving QMP.
 */
static int next_timeout(const struct loop *l)
{
	uint64_t now, best = UINT64_MAX;

	if (any_always_ready(l))
		return 0;
	for (unsigned int i = 0; i < LOOP_MAX_TIMERS; i++) {
		if (l->timers[i].armed && l->timers[i].due_ms < best)
			best = l->timers[i].due_ms;
	}
	if (best == UINT64_MAX)
		return -1;
	now = now_ms();
	return best <= now ? 0 : (int)(best - now > 60000 ? 60000 : best - now);
}

static void run_timers(struct loop *l)
{
	uint64_t now;

	if (!any_armed(l))
		return;
	now = now_ms();
	for (unsigned int i = 0; i < LOOP_MAX_TIMERS && !l->stop; i++) {
		struct loop_timer *t = &l->timers[i];

		if (t->armed && t->due_ms <= now) {
			t->armed = false;
			t->fn(l, t->opaque);
		}
	}
}

int loop_run(struct loop *l)
{
	struct epoll_event evs[LOOP_MAX_EVENTS];

	l->stop = false;
	while (!l->stop) {
		int n = epoll_wait(l->epfd, evs, LOOP_MAX_EVENTS, next_timeout(l));

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (int i = 0; i < n && !l->stop; i++) {
			int fd = (int)(uint32_t)evs[i].data.u64;
			uint32_t gen = (uint32_t)(evs[i].data.u64 >> 32);
			unsigned int got = 0;
			struct loop_fd *e;

			if (fd >= l->nr_fds)
				continue;
			e = &l->fds[fd];
			if (!e->used || e->gen != gen)
				continue;
			if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLRDHUP))
				got |= LOOP_READ;
			if (evs[i].events & (EPOLLOUT | EPOLLERR))
				got |= LOOP_WRITE;
			got &= e->mask;
			/* A hang-up with only LOOP_WRITE wanted still has to be seen. */
			if (!got && (evs[i].events & (EPOLLHUP | EPOLLERR)))
				got = e->mask;
			if (got)
				e->fn(l, fd, got, e->opaque);
		}
		for (int fd = 0; fd < l->nr_fds && !l->stop; fd++) {
			struct loop_fd *e = &l->fds[fd];

			if (e->used && e->always_ready && e->mask)
				e->fn(l, fd, e->mask, e->opaque);
		}
		run_timers(l);
	}
	return 0;
}

void loop_stop(struct loop *l)
{
	l->stop = true;
}
