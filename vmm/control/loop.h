/* SPDX-License-Identifier: MIT */
/*
 * The main loop: one thread waits on every host-side fd (QMP, the human
 * monitor, the console, machine requests) and runs their callbacks, in the
 * manner of redis's ae.  vCPU threads never run these callbacks; they only
 * wake the loop through an eventfd.
 */
#ifndef GENVM_LOOP_H
#define GENVM_LOOP_H

#include <stdbool.h>
#include <stdint.h>

#define LOOP_READ 1u
#define LOOP_WRITE 2u

struct loop;

/*
 * Called with the events that happened (LOOP_READ for readable, hang-up or
 * error too, so a read can see EOF; LOOP_WRITE for writable).
 */
typedef void (*loop_fd_fn)(struct loop *l, int fd, unsigned int events, void *opaque);
typedef void (*loop_timer_fn)(struct loop *l, void *opaque);

struct loop *loop_new(void);
void loop_free(struct loop *l);

/*
 * Watch fd for mask (LOOP_READ | LOOP_WRITE).  Adding an fd that is
 * already watched replaces its callback and mask.  A mask of 0 keeps the
 * fd registered but quiet.  0 or negative errno.
 */
int loop_add_fd(struct loop *l, int fd, unsigned int mask, loop_fd_fn fn, void *opaque);
int loop_set_mask(struct loop *l, int fd, unsigned int mask);
/* Forget fd (it is not closed).  Safe from inside any callback. */
void loop_del_fd(struct loop *l, int fd);

/*
 * One-shot timer, ms from now; re-arming an armed timer (same fn and
 * opaque) moves it.  0 or -ENOSPC.
 */
int loop_add_timer(struct loop *l, unsigned int ms, loop_timer_fn fn, void *opaque);
void loop_del_timer(struct loop *l, loop_timer_fn fn, void *opaque);

/* Run until loop_stop(); 0, or negative errno when waiting fails. */
int loop_run(struct loop *l);
/* Make loop_run() return after the current callback.  Loop thread only. */
void loop_stop(struct loop *l);

#endif
