// SPDX-License-Identifier: MIT
/*
 * The QMP protocol layer without a machine: requests go in as bytes, and
 * the test reads back what a client would, one JSON object per line.
 */
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "qmp.h"

struct wire {
	char out[1 << 20];
	size_t len;
	size_t read_pos;
	int hangups;
	int writes; /* io.write calls */
	int calls; /* handler runs, the context the table's commands get */
	/* Hang up as the real channel does once the reply has drained: at
	 * once, closing the session from inside the hangup call. */
	struct qmp *close_on_hangup;
	json_t *cycle; /* what cmd_cyclic made, for the test to break */
};

static void wire_write(void *opaque, const char *buf, size_t len)
{
	struct wire *w = opaque;

	assert_true(w->len + len <= sizeof(w->out));
	memcpy(w->out + w->len, buf, len);
	w->len += len;
	w->writes++;
}

static void wire_hangup(void *opaque)
{
	struct wire *w = opaque;

	w->hangups++;
	if (w->close_on_hangup)
		qmp_close(w->close_on_hangup);
}

/* ---- the command table under test ---- */

static const struct qmp_arg echo_args[] = {
	{ "s", QMP_STRING, false },
	{ "n", QMP_INT, true },
	{ "b", QMP_BOOL, true },
	{ "o", QMP_OBJECT, true },
	{ "a", QMP_ARRAY, true },
	{ "x", QMP_NUMBER, true },
	{ NULL, QMP_ANY, false },
};

static int cmd_echo(struct qmp_call *call)
{
	struct wire *w = call->ctx;

	w->calls++;
	call->ret = json_deep_copy(call->args);
	return 0;
}

static int cmd_fail(struct qmp_call *call)
{
	struct wire *w = call->ctx;

	w->calls++;
	qmp_error(call, "DeviceNotFound", "no %s here", "device");
	return -1;
}

static int cmd_nothing(struct qmp_call *call)
{
	struct wire *w = call->ctx;

	w->calls++;
	return 0;
}

/* A return value that cannot be encoded: an array inside itself. */
static int cmd_cyclic(struct qmp_call *call)
{
	struct wire *w = call->ctx;
	json_t *obj = json_object(), *arr = json_array();

	w->calls++;
	json_object_set_new(obj, "a", arr);
	json_array_append(arr, obj);
	w->cycle = arr;
	call->ret = obj;
	return 0;
}

/* An error text that is not UTF-8 (a byte 0xFF), as a host string might be. */
static int cmd_bad_text(struct qmp_call *call)
{
	struct wire *w = call->ctx;

	w->calls++;
	qmp_error(call, "GenericError", "bad \xff byte");
	return -1;
}

static const struct qmp_cmd table[] = {
	{ "echo", cmd_echo, echo_args, "echo the arguments" },
	{ "fail", cmd_fail, NULL, "always fails" },
	{ "nothing", cmd_nothing, NULL, "returns nothing" },
	{ "cyclic", cmd_cyclic, NULL, "returns what cannot be encoded" },
	{ "bad-text", cmd_bad_text, NULL, "fails with a text that is not UTF-8" },
};

struct fixture {
	struct wire w;
	struct qmp *q;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	const struct qmp_io io = { wire_write, wire_hangup, &f->w };

	f->q = qmp_new(table, sizeof(table) / sizeof(table[0]), &f->w, "genvm 9.8.7", &io);
	assert_non_null(f->q);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	qmp_free(f->q);
	free(f);
	return 0;
}

/* The next message the client would read; NULL when there is none. */
static json_t *next(struct fixture *f)
{
	char *start = f->w.out + f->w.read_pos, *end;
	json_error_t err;
	json_t *v;

	if (f->w.read_pos >= f->w.len)
		return NULL;
	end = memchr(start, '\n', f->w.len - f->w.read_pos);
	assert_non_null(end);
	/* QEMU's monitor ends every line with CRLF. */
	assert_true(end > start && end[-1] == '\r');
	v = json_loadb(start, (size_t)(end - start - 1), 0, &err);
	if (!v)
		fail_msg("not JSON: %.*s (%s)", (int)(end - start), start, err.text);
	f->w.read_pos = (size_t)(end + 1 - f->w.out);
	return v;
}

static void send_str(struct fixture *f, const char *s)
{
	qmp_input(f->q, s, strlen(s));
}

static void expect_none(struct fixture *f)
{
	json_t *v = next(f);

	if (v) {
		char *s = json_dumps(v, 0);

		fail_msg("unexpected message %s", s);
	}
}

/* The reply must be an error of this class and description. */
static void expect_error(struct fixture *f, const char *cls, const char *desc)
{
	json_t *r = next(f), *e;

	assert_non_null(r);
	e = json_object_get(r, "error");
	assert_non_null(e);
	assert_null(json_object_get(r, "return"));
	assert_string_equal(json_string_value(json_object_get(e, "class")), cls);
	if (desc)
		assert_string_equal(json_string_value(json_object_get(e, "desc")), desc);
	assert_int_equal(json_object_size(e), 2);
	json_decref(r);
}

/* The reply must be {"return": <expected JSON>}. */
static void expect_return(struct fixture *f, const char *expected)
{
	json_t *r = next(f), *want = json_loads(expected, JSON_DECODE_ANY, NULL);

	assert_non_null(r);
	assert_non_null(want);
	if (!json_equal(json_object_get(r, "return"), want)) {
		char *s = json_dumps(r, 0);

		fail_msg("got %s, want return %s", s, expected);
	}
	json_decref(want);
	json_decref(r);
}

static void open_session(struct fixture *f)
{
	json_t *g;

	qmp_open(f->q);
	g = next(f);
	assert_non_null(g);
	json_decref(g);
}

static void negotiate(struct fixture *f)
{
	open_session(f);
	send_str(f, "{\"execute\": \"qmp_capabilities\"}");
	expect_return(f, "{}");
	assert_true(qmp_negotiated(f->q));
}

static void test_greeting_shape(void **state)
{
	struct fixture *f = *state;
	json_t *g, *qmp, *ver, *qemu;

	qmp_open(f->q);
	g = next(f);
	assert_non_null(g);
	assert_int_equal(json_object_size(g), 1);
	qmp = json_object_get(g, "QMP");
	assert_true(json_is_object(qmp));
	ver = json_object_get(qmp, "version");
	qemu = json_object_get(ver, "qemu");
	assert_int_equal(json_integer_value(json_object_get(qemu, "major")), QMP_QEMU_MAJOR);
	assert_int_equal(json_integer_value(json_object_get(qemu, "minor")), QMP_QEMU_MINOR);
	assert_int_equal(json_integer_value(json_object_get(qemu, "micro")), QMP_QEMU_MICRO);
	assert_string_equal(json_string_value(json_object_get(ver, "package")), "genvm 9.8.7");
	/* No out-of-band execution, so no capability is offered. */
	assert_true(json_is_array(json_object_get(qmp, "capabilities")));
	assert_int_equal(json_array_size(json_object_get(qmp, "capabilities")), 0);
	json_decref(g);
	expect_none(f);
	assert_false(qmp_negotiated(f->q));
}

static void test_negotiation_required(void **state)
{
	struct fixture *f = *state;

	open_session(f);
	send_str(f, "{\"execute\": \"echo\", \"arguments\": {\"s\": \"x\"}}");
	expect_error(f, "CommandNotFound",
		     "Expecting capabilities negotiation with 'qmp_capabilities'");
	send_str(f, "{\"execute\": \"no-such-command\"}");
	expect_error(f, "CommandNotFound",
		     "Expecting capabilities negotiation with 'qmp_capabilities'");
	send_str(f, "{\"execute\": \"query-version\"}");
	expect_error(f, "CommandNotFound",
		     "Expecting capabilities negotiation with 'qmp_capabilities'");
	assert_int_equal(f->w.calls, 0);

	send_str(f, "{\"execute\": \"qmp_capabilities\", \"arguments\": {}}");
	expect_return(f, "{}");
	send_str(f, "{\"execute\": \"qmp_capabilities\"}");
	expect_error(f, "CommandNotFound",
		     "Capabilities negotiation is already complete, command ignored");
	send_str(f, "{\"execute\": \"nothing\"}");
	expect_return(f, "{}");
	assert_int_equal(f->w.calls, 1);
}

static void test_capabilities_arguments(void **state)
{
	struct fixture *f = *state;

	open_session(f);
	send_str(f, "{\"execute\": \"qmp_capabilities\", \"arguments\": {\"enable\": [\"oob\"]}}");
	expect_error(f, "GenericError", "Capability oob not available");
	send_str(f, "{\"execute\": \"qmp_capabilities\", \"arguments\": {\"enable\": [\"x\"]}}");
	expect_error(f, "GenericError", "Parameter 'enable[0]' does not accept value 'x'");
	send_str(f, "{\"execute\": \"qmp_capabilities\", \"arguments\": {\"enable\": \"oob\"}}");
	expect_error(f, "GenericError", "Invalid parameter type for 'enable', expected: array");
	send_str(f, "{\"execute\": \"qmp_capabilities\", \"arguments\": {\"other\": 1}}");
	expect_error(f, "GenericError", "Parameter 'other' is unexpected");
	assert_false(qmp_negotiated(f->q));
	send_str(f, "{\"execute\": \"qmp_capabilities\", \"arguments\": {\"enable\": []}}");
	expect_return(f, "{}");
	assert_true(qmp_negotiated(f->q));
}

static void test_id_echoed(void **state)
{
	struct fixture *f = *state;
	json_t *r, *want;

	negotiate(f);
	send_str(f, "{\"execute\": \"nothing\", \"id\": {\"tag\": [1, \"two\"]}}");
	r = next(f);
	assert_non_null(r);
	want = json_loads("{\"tag\": [1, \"two\"]}", 0, NULL);
	assert_true(json_equal(json_object_get(r, "id"), want));
	json_decref(want);
	assert_true(json_is_object(json_object_get(r, "return")));
	json_decref(r);

	/* Errors carry it too, as long as the request was an object. */
	send_str(f, "{\"id\": 42, \"execute\": \"fail\"}");
	r = next(f);
	assert_int_equal(json_integer_value(json_object_get(r, "id")), 42);
	assert_string_equal(json_string_value(json_object_get(json_object_get(r, "error"), "class")),
			    "DeviceNotFound");
	assert_string_equal(json_string_value(json_object_get(json_object_get(r, "error"), "desc")),
			    "no device here");
	json_decref(r);
	send_str(f, "{\"id\": \"abc\", \"execute\": \"nope\"}");
	r = next(f);
	assert_string_equal(json_string_value(json_object_get(r, "id")), "abc");
	json_decref(r);
	send_str(f, "{\"execute\": \"nothing\"}");
	r = next(f);
	assert_null(json_object_get(r, "id"));
	json_decref(r);
}

/*
 * A message leaves in one write, CRLF included: a client waiting for the
 * line is woken once per reply, not once per piece.
 */
static void test_one_write_per_message(void **state)
{
	struct fixture *f = *state;
	json_t *r;

	/* The greeting and the capabilities reply: two messages. */
	negotiate(f);
	assert_int_equal(f->w.writes, 2);
	f->w.writes = 0;
	send_str(f, "{\"execute\": \"nothing\", \"id\": 7}");
	assert_int_equal(f->w.writes, 1);
	assert_true(memcmp(f->w.out + f->w.len - 2, "\r\n", 2) == 0);
	r = next(f);
	assert_int_equal(json_integer_value(json_object_get(r, "id")), 7);
	json_decref(r);
	/* An error reply too, and the fixed one for a reply that cannot be
	 * encoded. */
	f->w.writes = 0;
	send_str(f, "{\"execute\": \"fail\"}");
	assert_int_equal(f->w.writes, 1);
	json_decref(next(f));
	f->w.writes = 0;
	send_str(f, "{\"execute\": \"cyclic\"}");
	assert_int_equal(f->w.writes, 1);
	assert_true(memcmp(f->w.out + f->w.len - 2, "\r\n", 2) == 0);
	/* The cycle cmd_cyclic made, broken so that it can be freed. */
	json_array_clear(f->w.cycle);
}

static void test_envelope_errors(void **state)
{
	struct fixture *f = *state;

	negotiate(f);
	send_str(f, "[1, 2]");
	expect_error(f, "GenericError", "QMP input must be a JSON object");
	send_str(f, "\"execute\"");
	expect_error(f, "GenericError", "QMP input must be a JSON object");
	send_str(f, "42\n");
	expect_error(f, "GenericError", "QMP input must be a JSON object");
	send_str(f, "{}");
	expect_error(f, "GenericError", "QMP input lacks member 'execute'");
	send_str(f, "{\"execute\": 1}");
	expect_error(f, "GenericError", "QMP input member 'execute' must be a string");
	send_str(f, "{\"execute\": \"nothing\", \"arguments\": [1]}");
	expect_error(f, "GenericError", "QMP input member 'arguments' must be an object");
	send_str(f, "{\"execute\": \"nothing\", \"bogus\": true}");
	expect_error(f, "GenericError", "QMP input member 'bogus' is unexpected");
	/* No out-of-band execution was negotiated. */
	send_str(f, "{\"exec-oob\": \"nothing\"}");
	expect_error(f, "GenericError", "QMP input member 'exec-oob' is unexpected");
	send_str(f, "{\"execute\": \"nope\"}");
	expect_error(f, "CommandNotFound", "The command nope has not been found");
	assert_int_equal(f->w.calls, 0);
}

static void test_parse_errors(void **state)
{
	struct fixture *f = *state;
	json_t *r;
	const char *desc;

	negotiate(f);
	send_str(f, "{bad json}");
	r = next(f);
	desc = json_string_value(json_object_get(json_object_get(r, "error"), "desc"));
	assert_non_null(desc);
	assert_true(strncmp(desc, "JSON parse error, ", 18) == 0);
	json_decref(r);
	send_str(f, "{\"execute\": \"nothing\", \"execute\": \"fail\"}");
	r = next(f);
	desc = json_string_value(json_object_get(json_object_get(r, "error"), "desc"));
	assert_true(strncmp(desc, "JSON parse error, ", 18) == 0);
	json_decref(r);
	send_str(f, "garbage\n");
	r = next(f);
	desc = json_string_value(json_object_get(json_object_get(r, "error"), "desc"));
	assert_true(strncmp(desc, "JSON parse error, ", 18) == 0);
	json_decref(r);
	send_str(f, "}");
	r = next(f);
	assert_non_null(json_object_get(r, "error"));
	json_decref(r);
	/* The session goes on. */
	send_str(f, "{\"execute\": \"nothing\"}");
	expect_return(f, "{}");
	assert_int_equal(f->w.hangups, 0);
}

static void test_argument_validation(void **state)
{
	struct fixture *f = *state;

	negotiate(f);
	send_str(f, "{\"execute\": \"echo\"}");
	expect_error(f, "GenericError", "Parameter 's' is missing");
	send_str(f, "{\"execute\": \"echo\", \"arguments\": {\"n\": 1}}");
	expect_error(f, "GenericError", "Parameter 's' is missing");
	send_str(f, "{\"execute\": \"echo\", \"arguments\": {\"s\": 5}}");
	expect_error(f, "GenericError", "Invalid parameter type for 's', expected: string");
	send_str(f, "{\"execute\": \"echo\", \"arguments\": {\"s\": \"\", \"n\": \"5\"}}");
	expect_error(f, "GenericError", "Invalid parameter type for 'n', expected: integer");
	send_str(f, "{\"execute\": \"echo\", \"arguments\": {\"s\": \"\", \"n\": 1.5}}");
	expect_error(f, "GenericError", "Invalid parameter type for 'n', expected: integer");
	send_str(f, "{\"execute\": \"echo\", \"arguments\": {\"s\": \"\", \"b\": 0}}");
	expect_error(f, "GenericError", "Invalid parameter type for 'b', expected: boolean");
	send_str(f, "{\"execute\": \"echo\", \"arguments\": {\"s\": \"\", \"o\": []}}");
	expect_error(f, "GenericError", "Invalid parameter type for 'o', expected: object");
	send_str(f, "{\"execute\": \"echo\", \"arguments\": {\"s\": \"\", \"a\": {}}}");
	expect_error(f, "GenericError", "Invalid parameter type for 'a', expected: array");
	send_str(f, "{\"execute\": \"echo\", \"arguments\": {\"s\": \"\", \"x\": null}}");
	expect_error(f, "GenericError", "Invalid parameter type for 'x', expected: number");
	send_str(f, "{\"execute\": \"echo\", \"arguments\": {\"s\": \"\", \"zz\": 1}}");
	expect_error(f, "GenericError", "Parameter 'zz' is unexpected");
	send_str(f, "{\"execute\": \"nothing\", \"arguments\": {\"zz\": 1}}");
	expect_error(f, "GenericError", "Parameter 'zz' is unexpected");
	assert_int_equal(f->w.calls, 0);

	/* Integers are numbers; optional arguments may be left out. */
	send_str(f, "{\"execute\": \"echo\", \"arguments\": {\"s\": \"hi\", \"x\": 3, \"b\": true,"
		    " \"a\": [1], \"o\": {\"k\": null}, \"n\": -7}}");
	expect_return(f, "{\"s\": \"hi\", \"x\": 3, \"b\": true, \"a\": [1], \"o\": {\"k\": null},"
			 " \"n\": -7}");
	send_str(f, "{\"execute\": \"echo\", \"arguments\": {\"s\": \"only\"}}");
	expect_return(f, "{\"s\": \"only\"}");
	assert_int_equal(f->w.calls, 2);
}

static void test_protocol_commands(void **state)
{
	struct fixture *f = *state;
	const char *names[] = { "qmp_capabilities", "query-commands", "query-version", "echo",
				"fail", "nothing", "cyclic", "bad-text" };
	json_t *r, *list, *v;
	size_t i;

	negotiate(f);
	send_str(f, "{\"execute\": \"query-version\"}");
	expect_return(f, "{\"qemu\": {\"micro\": 0, \"minor\": 2, \"major\": 7},"
			 " \"package\": \"genvm 9.8.7\"}");
	send_str(f, "{\"execute\": \"query-commands\"}");
	r = next(f);
	list = json_object_get(r, "return");
	assert_int_equal(json_array_size(list), 8);
	json_array_foreach(list, i, v) {
		assert_int_equal(json_object_size(v), 1);
		assert_string_equal(json_string_value(json_object_get(v, "name")), names[i]);
	}
	json_decref(r);
	assert_non_null(qmp_find(f->q, "echo"));
	assert_non_null(qmp_find(f->q, "query-version"));
	assert_null(qmp_find(f->q, "ech"));
}

static void test_framing(void **state)
{
	struct fixture *f = *state;
	const char *req = "{\"execute\": \"echo\", \"arguments\": {\"s\": \"}]{[\\\"\\\\\"}}";

	negotiate(f);
	/* Back to back, then blank lines and CRLF. */
	send_str(f, "{\"execute\":\"nothing\"}{\"execute\":\"nothing\"}\r\n\n  \t{\"execute\":"
		    "\"nothing\", \"id\": 3}");
	expect_return(f, "{}");
	expect_return(f, "{}");
	expect_return(f, "{}");
	/* Byte by byte, brackets and escaped quotes inside a string. */
	for (size_t i = 0; req[i]; i++) {
		expect_none(f);
		qmp_input(f->q, &req[i], 1);
	}
	expect_return(f, "{\"s\": \"}]{[\\\"\\\\\"}");
	/* A bare word ends at the next structural character. */
	send_str(f, "1{\"execute\": \"nothing\"}");
	expect_error(f, "GenericError", "QMP input must be a JSON object");
	expect_return(f, "{}");
	expect_none(f);
}

/* The error's desc, which must be there and (being JSON) valid UTF-8. */
static char *error_desc(struct fixture *f, json_t **id)
{
	json_t *r = next(f), *e;
	char *desc;

	assert_non_null(r);
	e = json_object_get(r, "error");
	assert_non_null(e);
	desc = strdup(json_string_value(json_object_get(e, "desc")));
	if (id)
		*id = json_incref(json_object_get(r, "id"));
	json_decref(r);
	return desc;
}

/* "x" times lead ASCII bytes, then n two-byte characters (U+00E9). */
static char *accented(size_t lead, size_t n)
{
	char *s = malloc(lead + 2 * n + 1);

	memset(s, 'x', lead);
	for (size_t i = 0; i < n; i++)
		memcpy(s + lead + 2 * i, "\xC3\xA9", 2);
	s[lead + 2 * n] = '\0';
	return s;
}

/*
 * Texts that quote the client are cut to a length; a cut inside a
 * character made the reply unencodable, and no reply went out at all
 * (issue 14, item 3).  Every request gets exactly one reply.
 */
static void test_reply_cut_inside_character(void **state)
{
	struct fixture *f = *state;
	char req[1024], want[256], *name, *desc;
	size_t lead;

	open_session(f);
	for (lead = 0; lead < 2; lead++) {
		/* Before negotiation: the value of enable[0], cut to 64 bytes. */
		name = accented(lead, 60);
		snprintf(req, sizeof(req), "{\"execute\": \"qmp_capabilities\", \"arguments\": "
			 "{\"enable\": [\"%s\"]}}", name);
		send_str(f, req);
		desc = error_desc(f, NULL);
		snprintf(want, sizeof(want), "Parameter 'enable[0]' does not accept value '%.*s'",
			 (int)(lead + (64 - lead) / 2 * 2), name);
		assert_string_equal(desc, want);
		free(desc);
		expect_none(f);
		free(name);
	}
	send_str(f, "{\"execute\": \"qmp_capabilities\"}");
	expect_return(f, "{}");
	for (lead = 0; lead < 2; lead++) {
		/* A command name, cut to 64 bytes. */
		name = accented(lead, 60);
		snprintf(req, sizeof(req), "{\"execute\": \"%s\", \"id\": 7}", name);
		send_str(f, req);
		{
			json_t *id;

			desc = error_desc(f, &id);
			assert_int_equal(json_integer_value(id), 7);
			json_decref(id);
		}
		snprintf(want, sizeof(want), "The command %.*s has not been found",
			 (int)(lead + (64 - lead) / 2 * 2), name);
		assert_string_equal(desc, want);
		free(desc);
		expect_none(f);

		/* An envelope member, cut to 64 bytes. */
		snprintf(req, sizeof(req), "{\"execute\": \"nothing\", \"%s\": 1}", name);
		send_str(f, req);
		desc = error_desc(f, NULL);
		snprintf(want, sizeof(want), "QMP input member '%.*s' is unexpected",
			 (int)(lead + (64 - lead) / 2 * 2), name);
		assert_string_equal(desc, want);
		free(desc);
		expect_none(f);
		free(name);

		/* An argument name in a 255-byte description: cut where it fills up. */
		name = accented(lead, 200);
		snprintf(req, sizeof(req), "{\"execute\": \"nothing\", \"arguments\": {\"%s\": 1}}",
			 name);
		send_str(f, req);
		desc = error_desc(f, NULL);
		assert_true(strlen(desc) >= 253 && strlen(desc) <= 255);
		assert_memory_equal(desc, "Parameter 'x", lead ? 12 : 11);
		assert_memory_equal(desc + 11, name, strlen(desc) - 11);
		free(desc);
		expect_none(f);
		free(name);
	}
	assert_int_equal(f->w.calls, 0);
}

/* A reply that cannot be built or encoded still answers, once. */
static void test_reply_that_cannot_be_encoded(void **state)
{
	struct fixture *f = *state;
	json_t *id;
	char *desc;

	negotiate(f);
	send_str(f, "{\"execute\": \"cyclic\", \"id\": \"c1\"}");
	desc = error_desc(f, &id);
	assert_string_equal(desc, "genvm could not encode the reply");
	assert_string_equal(json_string_value(id), "c1");
	json_decref(id);
	free(desc);
	expect_none(f);
	/* Break the loop the command made, so that it is freed. */
	json_array_clear(f->w.cycle);

	send_str(f, "{\"execute\": \"bad-text\"}");
	desc = error_desc(f, NULL);
	assert_string_equal(desc, "bad \xEF\xBF\xBD byte");
	free(desc);
	expect_none(f);
	send_str(f, "{\"execute\": \"nothing\"}");
	expect_return(f, "{}");
	assert_int_equal(f->w.calls, 3);
}

/* The reply must be "JSON parse error, ..." (jansson's words after it). */
static void expect_parse_error(struct fixture *f)
{
	char *desc = error_desc(f, NULL);

	if (strncmp(desc, "JSON parse error, ", 18))
		fail_msg("not a parse error: %s", desc);
	free(desc);
}

/*
 * A byte that JSON cannot have there is a lexical error, as in QEMU's
 * lexer: the partial request is dropped, one GenericError says "JSON parse
 * error, stray '...'", and input resumes at the next newline, structural
 * character, control byte or 0xFF (issue 14, item 5: genvm used to keep
 * the partial request, and every later one, until the client hung up).
 */
static void test_lexical_error_resync(void **state)
{
	struct fixture *f = *state;

	negotiate(f);
	/* The sequence: a cut request swallows the next, as in QEMU. */
	send_str(f, "{\"execute\": \n");
	send_str(f, "{\"execute\": \"nothing\"}\n");
	expect_none(f);
	send_str(f, "\x1b\n");
	expect_error(f, "GenericError", "JSON parse error, stray '\x1b'");
	expect_none(f);
	send_str(f, "{\"execute\": \"nothing\"}\n");
	expect_return(f, "{}");
	assert_int_equal(f->w.calls, 1);

	/* 0xFF shows as U+FFFD, as QEMU's JSON writer shows it; each one is
	 * a resync point, and an error again. */
	send_str(f, "\xff\xff{\"execute\": \"nothing\"}");
	/* On the wire as QEMU writes it: ASCII only. */
	assert_non_null(memmem(f->w.out + f->w.read_pos, f->w.len - f->w.read_pos,
			       "stray '\\uFFFD'\"}}\r\n", sizeof("stray '\\uFFFD'\"}}\r\n") - 1));
	expect_error(f, "GenericError", "JSON parse error, stray '\xEF\xBF\xBD'");
	expect_error(f, "GenericError", "JSON parse error, stray '\xEF\xBF\xBD'");
	expect_return(f, "{}");

	/* Skipped up to the structural character: 'junk' is not seen. */
	send_str(f, "[1, \x01junk{\"execute\": \"nothing\"}");
	expect_error(f, "GenericError", "JSON parse error, stray '\x01'");
	expect_return(f, "{}");

	/* In a string, the token is the string so far; its '}' then stands
	 * alone, which is a syntax error of its own. */
	send_str(f, "{\"execute\": \"noth\x02ing\"}\n");
	expect_error(f, "GenericError", "JSON parse error, stray '\"noth\x02'");
	expect_parse_error(f);
	send_str(f, "{\"execute\": \"echo\", \"arguments\": {\"s\": \"\xc3\xa9\xfe\"}}\n");
	expect_error(f, "GenericError", "JSON parse error, stray '\"\xC3\xA9\xEF\xBF\xBD'");
	expect_parse_error(f);
	expect_parse_error(f);

	/* Outside strings: an uppercase word, and a word cut by ESC (ended
	 * first, then the stray byte). */
	send_str(f, "{\"execute\": Nothing}\n");
	expect_error(f, "GenericError", "JSON parse error, stray 'N'");
	expect_parse_error(f);
	send_str(f, "nul\x1b\n");
	expect_parse_error(f);
	expect_error(f, "GenericError", "JSON parse error, stray '\x1b'");
	qmp_input(f->q, "\0\n", 2);
	expect_error(f, "GenericError", "JSON parse error, stray ''");

	/* Tab is no resync point: the request after it is skipped too. */
	send_str(f, "\x1b\t{\"execute\": \"nothing\"}");
	expect_error(f, "GenericError", "JSON parse error, stray '\x1b'");
	expect_return(f, "{}");
	expect_none(f);

	/* And what has no stray byte is untouched by all this. */
	send_str(f, "{\"execute\": \"echo\", \"arguments\": {\"s\": \"\\u001b\\t\xc3\xa9" "E\", "
		    "\"x\": -1.5E+3}}");
	expect_return(f, "{\"s\": \"\\u001b\\t\xc3\xa9" "E\", \"x\": -1500.0}");
	assert_int_equal(f->w.hangups, 0);
	assert_int_equal(f->w.calls, 5);
}

static void test_size_limit(void **state)
{
	struct fixture *f = *state;
	size_t big = QMP_MAX_REQUEST - 200;
	char *req = malloc(QMP_MAX_REQUEST + 100);
	int n;

	negotiate(f);
	/* Just under the limit: served. */
	n = sprintf(req, "{\"execute\": \"echo\", \"arguments\": {\"s\": \"");
	memset(req + n, 'a', big);
	strcpy(req + n + big, "\"}}");
	send_str(f, req);
	{
		json_t *r = next(f);

		assert_int_equal(strlen(json_string_value(
					 json_object_get(json_object_get(r, "return"), "s"))),
				 big);
		json_decref(r);
	}
	/* Over it: an error, a hang-up, and what follows is ignored. */
	memset(req + n, 'a', QMP_MAX_REQUEST);
	strcpy(req + n + QMP_MAX_REQUEST, "\"}}{\"execute\": \"nothing\"}");
	send_str(f, req);
	expect_error(f, "GenericError", "QMP request too large (limit 65536 bytes), closing");
	assert_int_equal(f->w.hangups, 1);
	expect_none(f);
	send_str(f, "{\"execute\": \"nothing\"}");
	expect_none(f);
	assert_int_equal(f->w.calls, 1);
	/* The next client starts afresh. */
	qmp_close(f->q);
	open_session(f);
	send_str(f, "{\"execute\": \"nothing\"}");
	expect_error(f, "CommandNotFound",
		     "Expecting capabilities negotiation with 'qmp_capabilities'");
	free(req);
}

/*
 * The channel closes the session from inside the hangup when the error
 * drains at once; what followed the oversized request in the same read
 * must not run (issue 14, item 4: a quit there used to be executed).
 */
static void test_size_limit_stops_at_once(void **state)
{
	static const char after[] = "{\"execute\": \"qmp_capabilities\"}{\"execute\": \"nothing\"}";
	struct fixture *f = *state;
	size_t n = QMP_MAX_REQUEST; /* the limit is reached on its last byte */
	char *req = malloc(n + sizeof(after));

	negotiate(f);
	f->w.close_on_hangup = f->q;
	req[0] = '[';
	memset(req + 1, '1', n - 1);
	memcpy(req + n, after, sizeof(after));
	qmp_input(f->q, req, n + sizeof(after) - 1);
	expect_error(f, "GenericError", "QMP request too large (limit 65536 bytes), closing");
	assert_int_equal(f->w.hangups, 1);
	expect_none(f);
	assert_int_equal(f->w.calls, 0);
	assert_false(qmp_negotiated(f->q));
	free(req);
}

static void test_disconnect_mid_request(void **state)
{
	struct fixture *f = *state;

	negotiate(f);
	send_str(f, "{\"execute\": \"echo\", \"arguments\": {\"s\": \"half");
	expect_none(f);
	qmp_close(f->q);
	assert_false(qmp_negotiated(f->q));
	open_session(f);
	send_str(f, "{\"execute\": \"qmp_capabilities\"}");
	expect_return(f, "{}");
	send_str(f, "{\"execute\": \"nothing\"}");
	expect_return(f, "{}");
	assert_int_equal(f->w.calls, 1);
}

static void test_events(void **state)
{
	struct fixture *f = *state;
	json_t *e, *ts;

	open_session(f);
	/* Not before negotiation, as QEMU. */
	qmp_event(f->q, "STOP", NULL);
	expect_none(f);
	send_str(f, "{\"execute\": \"qmp_capabilities\"}");
	expect_return(f, "{}");

	qmp_event(f->q, "STOP", NULL);
	e = next(f);
	assert_string_equal(json_string_value(json_object_get(e, "event")), "STOP");
	assert_null(json_object_get(e, "data"));
	ts = json_object_get(e, "timestamp");
	assert_true(json_integer_value(json_object_get(ts, "seconds")) > 1600000000);
	assert_true(json_integer_value(json_object_get(ts, "microseconds")) >= 0);
	assert_true(json_integer_value(json_object_get(ts, "microseconds")) < 1000000);
	assert_int_equal(json_object_size(e), 2);
	json_decref(e);

	qmp_event(f->q, "SHUTDOWN", json_pack("{s:b,s:s}", "guest", 1, "reason", "guest-shutdown"));
	e = next(f);
	assert_string_equal(json_string_value(json_object_get(e, "event")), "SHUTDOWN");
	ts = json_pack("{s:b,s:s}", "guest", 1, "reason", "guest-shutdown");
	assert_true(json_equal(json_object_get(e, "data"), ts));
	json_decref(ts);
	json_decref(e);
	expect_none(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_greeting_shape, setup, teardown),
		cmocka_unit_test_setup_teardown(test_negotiation_required, setup, teardown),
		cmocka_unit_test_setup_teardown(test_capabilities_arguments, setup, teardown),
		cmocka_unit_test_setup_teardown(test_id_echoed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_one_write_per_message, setup, teardown),
		cmocka_unit_test_setup_teardown(test_envelope_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_parse_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_argument_validation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_protocol_commands, setup, teardown),
		cmocka_unit_test_setup_teardown(test_framing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reply_cut_inside_character, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reply_that_cannot_be_encoded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lexical_error_resync, setup, teardown),
		cmocka_unit_test_setup_teardown(test_size_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_size_limit_stops_at_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_disconnect_mid_request, setup, teardown),
		cmocka_unit_test_setup_teardown(test_events, setup, teardown),
	};

	return cmocka_run_group_tests_name("qmp", tests, NULL, NULL);
}
