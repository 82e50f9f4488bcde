// SPDX-License-Identifier: MIT
/*
 * The human monitor fed arbitrary keys (vmm/control/hmp.c: its line
 * editor, then each line's parsing and commands) over a fake control plane
 * (fake_control.c), and the same bytes as one command line of any length,
 * the way QMP's human-monitor-command hands it over.  The keys are played
 * twice, in one read and cut into three, and must give the same output.
 */
#include <string.h>

#include "fake_control.h"
#include "fuzz.h"
#include "hmp.h"

struct output {
	char *p;
	size_t len, cap;
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

static void out_write(void *opaque, const char *buf, size_t len)
{
	struct output *o = opaque;

	if (o->len + len > o->cap) {
		size_t cap = (o->len + len) * 2;
		char *p = realloc(o->p, cap);

		FUZZ_CHECK(p != NULL);
		o->p = p;
		o->cap = cap;
	}
	memcpy(o->p + o->len, buf, len);
	o->len += len;
}

static void play(struct output *o, struct control *c, const uint8_t *data, size_t size,
		 const size_t *cuts, size_t ncuts)
{
	const struct hmp_io io = { out_write, o };
	struct hmp *h;
	size_t pos = 0;

	memset(o, 0, sizeof(*o));
	fake_control_init(c);
	h = hmp_new(c, &io);
	FUZZ_CHECK(h != NULL);
	hmp_open(h);
	for (size_t i = 0; i <= ncuts; i++) {
		size_t end = i < ncuts ? cuts[i] : size;

		hmp_input(h, data + pos, end - pos);
		pos = end;
	}
	hmp_close(h);
	hmp_free(h);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct output whole, split, line_out;
	static struct control c1, c2, c3;
	const size_t cuts[2] = { size / 3, size - size / 3 };
	char *line;

	play(&whole, &c1, data, size, NULL, 0);
	play(&split, &c2, data, size, cuts, 2);
	FUZZ_CHECK(whole.len == split.len);
	FUZZ_CHECK(!whole.len || !memcmp(whole.p, split.p, whole.len));
	FUZZ_CHECK(c1.ops == c2.ops && c1.state == c2.state);

	/* One line, as long as it comes (up to its first NUL). */
	line = malloc(size + 1);
	FUZZ_CHECK(line != NULL);
	memcpy(line, data, size);
	line[size] = '\0';
	memset(&line_out, 0, sizeof(line_out));
	fake_control_init(&c3);
	hmp_execute(&c3, line, out_write, &line_out);
	free(line);
	free(whole.p);
	free(split.p);
	free(line_out.p);
	return 0;
}
