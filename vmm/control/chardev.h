/* SPDX-License-Identifier: MIT */
/*
 * Host ends of the management channels (-qmp, -monitor), in QEMU's
 * character-device spelling:
 *
 *   unix:PATH,server=on[,wait=on|off]     listening unix socket
 *   tcp:[HOST]:PORT,server=on[,wait=...]  listening TCP socket
 *   stdio                                 stdin and stdout
 *   pipe:PATH                             fifos PATH.in (to genvm) and
 *                                         PATH.out (from genvm), else PATH
 *   /dev/ttyS1, any other path            a device opened read-write
 *   (-chardev socket,fd=N,server=on)      a listening socket genvm inherited,
 *                                         as libvirt passes its monitor's
 *
 * A server serves one client at a time: later clients wait in the listen
 * backlog until the current one hangs up (QEMU does the same).  wait=on,
 * the default for a server as in QEMU, makes genvm wait for the first
 * client before it starts the guest.  Client mode (server=off) is not
 * supported.
 */
#ifndef GENVM_CHARDEV_H
#define GENVM_CHARDEV_H

#include <stdbool.h>
#include <stddef.h>

#define CHARDEV_PATH_MAX 108 /* sun_path */
#define CHARDEV_HOST_MAX 256

/*
 * Output a client has not read yet: past CHARDEV_BACKLOG genvm stops
 * reading its requests until it catches up (a flood answers itself);
 * past CHARDEV_OUT_MAX it is dropped.
 */
#define CHARDEV_BACKLOG (64u << 10)
#define CHARDEV_OUT_MAX (1u << 20)

enum chardev_kind {
	CHARDEV_UNIX,
	CHARDEV_TCP,
	CHARDEV_STDIO,
	CHARDEV_PIPE,
	CHARDEV_DEVICE,
	CHARDEV_FD,    /* a listening socket passed in; no text spelling */
};

struct chardev_spec {
	enum chardev_kind kind;
	char path[CHARDEV_PATH_MAX]; /* unix socket, pipe base name, device */
	char host[CHARDEV_HOST_MAX]; /* tcp; empty: every address */
	char port[8];
	int fd;                      /* CHARDEV_FD: the inherited listening socket */
	bool server;
	bool wait;
};

/* Parse a spec; 0, or -EINVAL with *why (a static string). */
int chardev_parse(const char *text, struct chardev_spec *spec, const char **why);

/* What the frontend (QMP, monitor) hears from its channel. */
struct chardev_ops {
	void (*opened)(void *opaque);
	void (*received)(void *opaque, const void *buf, size_t len);
	void (*closed)(void *opaque);
	/*
	 * A descriptor a client passed with SCM_RIGHTS (unix sockets), before
	 * the bytes it came with; the callee owns it.  NULL: it is closed.
	 */
	void (*fd_received)(void *opaque, int fd);
	/*
	 * How many bytes received() takes now (NULL: any number).  At 0 the
	 * channel stops reading and looks again every CHARDEV_ROOM_RETRY_MS:
	 * a console's UART has a small receive FIFO and what is read must fit.
	 */
	size_t (*room)(void *opaque);
};

#define CHARDEV_ROOM_RETRY_MS 10

struct loop;
struct chardev;

/*
 * Open the host end: bind and listen, open the fifos or the device.  NULL
 * on failure, with "genvm: <opt> <spec>: <why>" printed.  Nothing reaches
 * ops before chardev_start().
 */
struct chardev *chardev_open(struct loop *l, const struct chardev_spec *spec, const char *opt,
			     const char *text, const struct chardev_ops *ops, void *opaque);
/*
 * Begin serving: accept clients, or connect stdio, the fifos or the device
 * (ops->opened runs).  With wait=on this blocks until the first client
 * connects.  0 or -1 (printed).
 */
int chardev_start(struct chardev *c);
/* Close everything, removing a unix socket's path. */
void chardev_free(struct chardev *c);

/* Queue bytes for the current client (dropped when there is none). */
void chardev_write(struct chardev *c, const void *buf, size_t len);
/* Bytes queued and not yet written. */
size_t chardev_pending(const struct chardev *c);
/* Hang up on the current client once its queued output is written. */
void chardev_hangup(struct chardev *c);
/* Write what is queued, blocking up to timeout_ms (at exit). */
void chardev_flush(struct chardev *c, int timeout_ms);
bool chardev_connected(const struct chardev *c);
/* The connected client's descriptor (a socket's, for writing too), or -1. */
int chardev_client_fd(const struct chardev *c);

#endif
