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

void log_msg(enum log_level level, const char *module, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (level > log_max_level)
		return;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);

	if (log_sink)
		log_sink(log_sink_opaque, level, module, msg);
	else
		fprintf(stderr, "%s: %s: %s\n", module, level_names[level], msg);
}
