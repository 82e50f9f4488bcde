/* SPDX-License-Identifier: MIT */
#ifndef GENVM_WHY_H
#define GENVM_WHY_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

/*
 * The modules that parse files and streams (snapshots, disk deltas) report a
 * failure as a negative errno plus a sentence in a caller's buffer, so that
 * the caller can say "genvm: <what>: <why>" once, in its own words about
 * <what>.  This fills the buffer (when there is one) and returns err, so a
 * failure is one statement: `return why_say(why, len, -EINVAL, "...", ...);`.
 * Inline so that each user needs no extra module in its build list.
 */
static inline int why_say(char *why, size_t why_len, int err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static inline int why_say(char *why, size_t why_len, int err, const char *fmt, ...)
{
	va_list ap;

	if (why && why_len) {
		va_start(ap, fmt);
		vsnprintf(why, why_len, fmt, ap);
		va_end(ap);
	}
	return err;
}

#endif
