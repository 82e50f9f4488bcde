// SPDX-License-Identifier: MIT
/*
 * A QMP session fed arbitrary bytes: the real framing, parser, dispatcher
 * and command table (vmm/control/qmp.c, qmp_cmds.c, and the human monitor
 * behind human-monitor-command) over a fake control plane
 * (fake_control.c).  Each input is played twice, once in one read and once
 * cut into three, and both sessions must answer with the same bytes.  Every
 * message must be one JSON object of a kind QMP sends, an input of JSON
 * values gets one reply per value, and nothing may run
 * after the session hung up on its client (closed from inside the hangup
 * callback, as the channel may do).
 */
#include <string.h>

#include <jansson.h>

#include "fake_control.h"
#include "fuzz.h"
#include "qmp.h"
#include "qmp_cmds.h"

struct session {
	struct control ctl;
	struct qmp *q;
	char *out;
	size_t len, cap;
	unsigned int messages;
	bool crlf_due; /* a message was written; its CRLF comes next */
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

static void check_message(const char *buf, size_t len)
{
	json_error_t err;
	json_t *m = json_loadb(buf, len, 0, &err);
	json_t *e;

	FUZZ_CHECK(m != NULL && json_is_object(m));
	FUZZ_CHECK(json_object_get(m, "return") || json_object_get(m, "error") ||
		   json_object_get(m, "QMP") || json_object_get(m, "event"));
	e = json_object_get(m, "error");
	if (e) {
		FUZZ_CHECK(json_is_string(json_object_get(e, "class")));
		FUZZ_CHECK(json_is_string(json_object_get(e, "desc")));
		FUZZ_CHECK(json_string_length(json_object_get(e, "desc")) > 0);
	}
	json_decref(m);
}

static void session_write(void *opaque, const char *buf, size_t len)
{
	struct session *s = opaque;

	/*
	 * A message and its CRLF in one write (qmp.c's usual way), or, when it
	 * could not join them, the message then the CRLF alone: never anything
	 * else in between.
	 */
	if (s->crlf_due) {
		FUZZ_CHECK(len == 2 && !memcmp(buf, "\r\n", 2));
		s->crlf_due = false;
	} else if (len > 2 && !memcmp(buf + len - 2, "\r\n", 2)) {
		check_message(buf, len - 2);
		s->messages++;
	} else {
		check_message(buf, len);
		s->messages++;
		s->crlf_due = true;
	}
	if (s->len + len > s->cap) {
		size_t cap = (s->len + len) * 2;
		char *p = realloc(s->out, cap);

		FUZZ_CHECK(p != NULL);
		s->out = p;
		s->cap = cap;
	}
	memcpy(s->out + s->len, buf, len);
	s->len += len;
}

/*
 * What the channel does at worst: the client is gone at once (no output was
 * pending), so the session closes inside the callback, and whatever else
 * that client sent must never run.
 */
static void session_hangup(void *opaque)
{
	struct session *s = opaque;

	s->ctl.hung_up = true;
	qmp_close(s->q);
}

/* Feed data in reads that end at the cuts (ascending offsets). */
static void play(struct session *s, const uint8_t *data, size_t size, const size_t *cuts,
		 size_t ncuts)
{
	const struct qmp_io io = { session_write, session_hangup, s };
	struct qmp *q;
	size_t pos = 0;

	memset(s, 0, sizeof(*s));
	fake_control_init(&s->ctl);
	q = qmp_new(genvm_qmp_cmds, genvm_qmp_nr_cmds, &s->ctl, "genvm fuzz", &io);
	FUZZ_CHECK(q != NULL);
	s->q = q;
	qmp_open(q);
	/* A closed connection reads nothing more. */
	for (size_t i = 0; i <= ncuts && !s->ctl.hung_up; i++) {
		size_t end = i < ncuts ? cuts[i] : size;

		qmp_input(q, data + pos, end - pos);
		pos = end;
	}
	FUZZ_CHECK(!s->crlf_due);
	if (!s->ctl.hung_up)
		qmp_close(q);
	qmp_free(q);
}

static bool is_blank(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/*
 * When the input is nothing but JSON values (jansson reads them one after
 * the other, each ended by a blank or by the next value's bracket or quote,
 * and none near the size limit), QMP owes exactly one reply to each: the
 * number of values, or -1 when the input is anything else.
 */
static long count_values(const uint8_t *data, size_t size)
{
	size_t pos = 0;
	long n = 0;

	for (;;) {
		json_error_t err;
		json_t *v;
		size_t used;

		while (pos < size && is_blank(data[pos]))
			pos++;
		if (pos == size)
			return n;
		v = json_loadb((const char *)data + pos, size - pos,
			       JSON_DECODE_ANY | JSON_DISABLE_EOF_CHECK, &err);
		if (!v)
			return -1;
		used = (size_t)err.position;
		/* A bare word is answered only once something ends it. */
		if (!json_is_object(v) && !json_is_array(v) && !json_is_string(v) &&
		    (pos + used == size || !(is_blank(data[pos + used]) ||
					     data[pos + used] == '{' || data[pos + used] == '[' ||
					     data[pos + used] == '"')))
			n = -1;
		json_decref(v);
		if (n < 0 || used == 0 || used >= QMP_MAX_REQUEST / 2)
			return -1;
		pos += used;
		n++;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct session whole, split;
	const size_t cuts[2] = { size / 3, size - size / 3 };
	long values;

	play(&whole, data, size, NULL, 0);
	play(&split, data, size, cuts, 2);
	FUZZ_CHECK(whole.len == split.len);
	FUZZ_CHECK(!whole.len || !memcmp(whole.out, split.out, whole.len));
	FUZZ_CHECK(whole.ctl.ops == split.ctl.ops);
	/* The greeting, then one reply per request. */
	values = whole.ctl.hung_up ? -1 : count_values(data, size);
	if (values >= 0)
		FUZZ_CHECK(whole.messages == 1 + (unsigned long)values);
	free(whole.out);
	free(split.out);
	return 0;
}
