/* SPDX-License-Identifier: MIT */
/*
 * The human monitor (HMP): QEMU's "(qemu) " prompt with the commands that
 * make sense for genvm: info status, info vm-generation-id, info version,
 * stop, cont, system_reset, system_powerdown, quit, help.  Output uses
 * CRLF line ends and the wording of QEMU's monitor, so scripts written for
 * QEMU read it the same way.
 */
#ifndef GENVM_HMP_H
#define GENVM_HMP_H

#include <stdbool.h>
#include <stddef.h>

#define HMP_LINE_MAX 1024

struct control;
struct hmp;

struct hmp_io {
	void (*write)(void *opaque, const char *buf, size_t len);
	void *opaque;
};

struct hmp *hmp_new(struct control *c, const struct hmp_io *io);
void hmp_free(struct hmp *h);

/* A client connected (or the console switched here): banner, prompt. */
void hmp_open(struct hmp *h);
/* Keys: a minimal line editor (backspace; escape sequences are dropped). */
void hmp_input(struct hmp *h, const void *buf, size_t len);
/* The client left: forget the half-typed line. */
void hmp_close(struct hmp *h);
/* Show the prompt again (the console switched back to the monitor). */
void hmp_prompt(struct hmp *h);

/* Run one command line, its output going to out. */
void hmp_execute(struct control *c, const char *line,
		 void (*out)(void *opaque, const char *buf, size_t len), void *opaque);

#endif
