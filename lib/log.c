// SPDX-License-Identifier: MIT
#include <stdio.h>

#include "vmgenid/log.h"

static log_sink_fn log_sink;
static void *log_sink_opaque;
static enum log_level log_max_level = LOG_INFO;

static const char *const level_names[] = {
	[LOG_ERR] = "error",
	[LOG_WARN] = "warning",
	[LOG_INFO] = "info",
	[LOG_DEBUG] = "debug",
};

void log_set_sink(log_sink_fn sink, void *opaque)
{
	log_sink = sink;
	log_sink_opaque = opaque;
}

void log_set_level(enum log_level level)
{
	log_max_level = level;
}

static void log_vmsg(enum log_level level, const char *module, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

static void log_vmsg(enum log_level level, const char *module, const char *fmt, va_list ap)
{
	char msg[512];

	if (level > log_max_level)
		return;

	vsnprintf(msg, sizeof(msg), fmt, ap);

	if (log_sink)
		log_sink(log_sink_opaque, level, module, msg);
	else
		fprintf(stderr, "%s: %s: %s\n", module, level_names[level], msg);
}

void log_msg(enum log_level level, const char *module, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, module, fmt, ap);
	va_end(ap);
}

#define LOG_AT(fn, level)                                       \
	void fn(const char *module, const char *fmt, ...)       \
	{                                                       \
		va_list ap;                                     \
		va_start(ap, fmt);                              \
		log_vmsg(level, module, fmt, ap);               \
		va_end(ap);                                     \
	}

LOG_AT(pr_err, LOG_ERR)
LOG_AT(pr_warn, LOG_WARN)
LOG_AT(pr_info, LOG_INFO)
LOG_AT(pr_debug, LOG_DEBUG)
