// SPDX-License-Identifier: MIT
#include <stdio.h>

#include "vmgenid/log.h"

static vmgenid_log_sink_fn log_sink;
static void *log_sink_opaque;
static enum vmgenid_log_level log_max_level = VMGENID_LOG_INFO;

static const char *const level_names[] = {
	[VMGENID_LOG_ERR] = "error",
	[VMGENID_LOG_WARN] = "warning",
	[VMGENID_LOG_INFO] = "info",
	[VMGENID_LOG_DEBUG] = "debug",
};

void vmgenid_log_set_sink(vmgenid_log_sink_fn sink, void *opaque)
{
	log_sink = sink;
	log_sink_opaque = opaque;
}

void vmgenid_log_set_level(enum vmgenid_log_level level)
{
	log_max_level = level;
}

static void log_vmsg(enum vmgenid_log_level level, const char *module, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

static void log_vmsg(enum vmgenid_log_level level, const char *module, const char *fmt, va_list ap)
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

void vmgenid_log_msg(enum vmgenid_log_level level, const char *module, const char *fmt, ...)
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

LOG_AT(vmgenid_pr_err, VMGENID_LOG_ERR)
LOG_AT(vmgenid_pr_warn, VMGENID_LOG_WARN)
LOG_AT(vmgenid_pr_info, VMGENID_LOG_INFO)
LOG_AT(vmgenid_pr_debug, VMGENID_LOG_DEBUG)
