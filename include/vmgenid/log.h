/* SPDX-License-Identifier: MIT */
/*
 * Logging with a module prefix: vmgenid_pr_warn("vmgenid", "bad address %#llx", a).
 * Library code never prints directly; it goes through here so that a VMM
 * can route messages (genvm: stderr) and tests can count warnings.
 */
#ifndef VMGENID_LOG_H
#define VMGENID_LOG_H

#include <stdarg.h>

#ifdef __cplusplus
extern "C" {
#endif

enum vmgenid_log_level {
	VMGENID_LOG_ERR,
	VMGENID_LOG_WARN,
	VMGENID_LOG_INFO,
	VMGENID_LOG_DEBUG,
};

typedef void (*vmgenid_log_sink_fn)(void *opaque, enum vmgenid_log_level level, const char *module,
			    const char *msg);

/* Replace the sink (NULL restores the default: stderr, debug hidden). */
void vmgenid_log_set_sink(vmgenid_log_sink_fn sink, void *opaque);
/* Messages above this level are dropped before formatting (default VMGENID_LOG_INFO). */
void vmgenid_log_set_level(enum vmgenid_log_level level);

void vmgenid_log_msg(enum vmgenid_log_level level, const char *module, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * vmgenid_log_msg() at one level.  Functions rather than macros, so that the
 * header defines no macro a program's own logging (or syslog's) could meet.
 */
void vmgenid_pr_err(const char *module, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void vmgenid_pr_warn(const char *module, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void vmgenid_pr_info(const char *module, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void vmgenid_pr_debug(const char *module, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#ifdef __cplusplus
}
#endif

#endif
