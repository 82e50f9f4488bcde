/* SPDX-License-Identifier: MIT */
/*
 * The QEMU Machine Protocol, server side, with no knowledge of the machine
 * or of sockets: bytes come in through qmp_input(), replies and events
 * leave through the write callback, and commands come from a table.
 *
 * Wire behaviour follows QEMU 7.2: a greeting
 *   {"QMP": {"version": {"qemu": {...}, "package": "..."}, "capabilities": []}}
 * then capability negotiation (every command but qmp_capabilities answers
 * CommandNotFound "Expecting capabilities negotiation with
 * 'qmp_capabilities'"), then {"execute": NAME, "arguments": {...}, "id": X}
 * requests answered by {"return": ...} or {"error": {"class", "desc"}}, with
 * "id" echoed.  Requests may arrive back to back or split across reads:
 * each top-level JSON value is one request.
 *
 * Input limit: a request larger than QMP_MAX_REQUEST bytes gets a
 * GenericError and the connection is closed.  Nothing a client sends can
 * stop the guest.
 */
#ifndef GENVM_QMP_H
#define GENVM_QMP_H

#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#define QMP_MAX_REQUEST (64u * 1024u)

/* QEMU's version triple we claim, and what "package" says. */
#define QMP_QEMU_MAJOR 7
#define QMP_QEMU_MINOR 2
#define QMP_QEMU_MICRO 0

enum qmp_type {
	QMP_STRING,
	QMP_INT,
	QMP_BOOL,
	QMP_NUMBER,
	QMP_OBJECT,
	QMP_ARRAY,
	QMP_ANY,
};

struct qmp_arg {
	const char *name;
	enum qmp_type type;
	bool optional;
};

struct qmp_call;

/* 0 with call->ret set (or left NULL for {}), or -1 after qmp_error(). */
typedef int (*qmp_fn)(struct qmp_call *call);

struct qmp_cmd {
	const char *name;
	qmp_fn fn;
	const struct qmp_arg *args; /* terminated by a NULL name; NULL: none */
	const char *help;
};

struct qmp_call {
	void *ctx;          /* from qmp_new() */
	struct qmp *qmp;
	const struct qmp_cmd *cmd;
	json_t *args;       /* validated against cmd->args; never NULL */
	json_t *ret;        /* set by the handler (a new reference) */
	const char *err_class;
	char err_desc[256];
};

/* Fail the call with QEMU error class cls ("GenericError", ...). */
void qmp_error(struct qmp_call *call, const char *cls, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Where a session's bytes go, and how it asks for the connection to end. */
struct qmp_io {
	void (*write)(void *opaque, const char *buf, size_t len);
	void (*hangup)(void *opaque);
	void *opaque;
};

struct qmp;

/* cmds[0..nr) are the machine's commands; package is e.g. "genvm 0.1.0". */
struct qmp *qmp_new(const struct qmp_cmd *cmds, size_t nr, void *ctx, const char *package,
		    const struct qmp_io *io);
void qmp_free(struct qmp *q);

/* A client connected: send the greeting, start negotiation. */
void qmp_open(struct qmp *q);
/* Bytes from the client; complete requests are answered at once. */
void qmp_input(struct qmp *q, const void *buf, size_t len);
/* The client went away: drop partial input and the negotiated state. */
void qmp_close(struct qmp *q);

/* Send an event (data may be NULL; the reference is stolen) if negotiated. */
void qmp_event(struct qmp *q, const char *name, json_t *data);

/* Has the client left capability negotiation? */
bool qmp_negotiated(const struct qmp *q);

/* A command by name: the protocol's own, then the table's; NULL if none. */
const struct qmp_cmd *qmp_find(const struct qmp *q, const char *name);

#endif
