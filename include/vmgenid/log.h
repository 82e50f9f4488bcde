/* SPDX-License-Identifier: MIT */
/*
 * Logging with a module prefix: pr_warn("vmgenid", "bad address %#llx", a).
 * Library code never prints directly; it goes through here so that a VMM
 * can route messages (genvm: stderr) and tests can count warnings.
 */
#ifndef VMGENID_LOG_H
#define VMGENID_LOG_H

#include <stdarg.h>

enum log_level {
	LOG_ERR,
	LOG_WARN,
	LOG_INFO,
	LOG_DEBUG,
};

typedef void (*log_sink_fn)(void *opaque, enum log_level level, const char *module,
			    const char *msg);

/* Replace the sink (NULL restores the default: stderr, debug hidden). */
void log_set_sink(log_sink_fn sink, void *opaque);
/* Messages above this level are dropped before formatting (default LOG_INFO). */
void log_set_level(enum log_level level);

void log_msg(enum log_level level, const char *module, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * log_msg() at one level.  Functions rather than macros, so that the
 * header defines no macro a program's own logging (or syslog's) could meet.
 */
void pr_err(const char *module, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void pr_warn(const char *module, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void pr_info(const char *module, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void pr_debug(const char *module, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
