// SPDX-License-Identifier: MIT
/*
 * Messages and error texts follow what QEMU 7.2 answers (qapi/qmp-dispatch.c,
 * monitor/qmp.c, the QAPI input visitor), so clients written against QEMU
 * can match on them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "qmp.h"

struct qmp {
	const struct qmp_cmd *cmds;
	size_t nr_cmds;
	void *ctx;
	char package[64];
	struct qmp_io io;

	bool negotiated;
	bool closing; /* hung up on the client: ignore what it still sends */

	/* The request being framed: bytes since its first non-blank one. */
	char *buf;
	size_t len, cap;
	unsigned int depth;
	bool in_string, escape, in_scalar;
	size_t str_start;  /* where the open string began, in buf */
	bool recovering;   /* after a lexical error: skipping to a resync point */
};

static const struct qmp_arg capabilities_args[] = {
	{ "enable", QMP_ARRAY, true },
	{ NULL, QMP_ANY, false },
};

static int cmd_capabilities(struct qmp_call *call);
static int cmd_query_commands(struct qmp_call *call);
static int cmd_query_version(struct qmp_call *call);

/* The protocol's own commands, in every session. */
static const struct qmp_cmd protocol_cmds[] = {
	{ "qmp_capabilities", cmd_capabilities, capabilities_args,
	  "leave capability negotiation (enable: capabilities to turn on; none are offered)" },
	{ "query-commands", cmd_query_commands, NULL, "list the commands" },
	{ "query-version", cmd_query_version, NULL, "the QEMU version genvm follows, and its own" },
};
#define NR_PROTOCOL_CMDS (sizeof(protocol_cmds) / sizeof(protocol_cmds[0]))

/* ---- text that goes into replies: always whole UTF-8 characters ---- */

/* How many bytes a UTF-8 sequence led by c has; 0 if c cannot lead one. */
static size_t utf8_seq_len(unsigned char c)
{
	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		return 2;
	if (c >= 0xE0 && c <= 0xEF)
		return 3;
	if (c >= 0xF0 && c <= 0xF4)
		return 4;
	return 0;
}

/* The length of s's longest prefix of at most max bytes that does not end
 * inside a character (s is valid UTF-8, as every string jansson gives). */
static int utf8_fit(const char *s, size_t max)
{
	size_t n = strnlen(s, max + 1);

	if (n > max) {
		n = max;
		while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
			n--;
	}
	return (int)n;
}

/* Cut s where a character that snprintf truncated begins. */
static void utf8_trim_tail(char *s)
{
	size_t len = strlen(s), lead = len, back;

	for (back = 0; back < 3 && lead > 0 && ((unsigned char)s[lead - 1] & 0xC0) == 0x80; back++)
		lead--;
	if (lead > 0 && lead - 1 + utf8_seq_len((unsigned char)s[lead - 1]) > len)
		s[lead - 1] = '\0';
}

/*
 * src[0..len) as valid UTF-8 in dst (cap > 0 bytes, NUL-terminated): a byte
 * that does not begin a well-formed character becomes U+FFFD, as QEMU's
 * JSON writer shows it, and the copy stops before a character that does
 * not fit whole.
 */
static void utf8_clean(char *dst, size_t cap, const char *src, size_t len)
{
	static const char replacement[] = "\xEF\xBF\xBD";
	size_t i = 0, o = 0, n, k;

	while (i < len) {
		const unsigned char *c = (const unsigned char *)src + i;
		const char *from = src + i;

		n = utf8_seq_len(c[0]);
		for (k = 1; n && k < n; k++) {
			/* Continuations, and no overlong, surrogate or > U+10FFFF forms. */
			if (i + k >= len || (c[k] & 0xC0) != 0x80 ||
			    (k == 1 && ((c[0] == 0xE0 && c[1] < 0xA0) || (c[0] == 0xED && c[1] > 0x9F) ||
					(c[0] == 0xF0 && c[1] < 0x90) || (c[0] == 0xF4 && c[1] > 0x8F))))
				n = 0;
		}
		if (n == 0 || c[0] == 0) {
			/* NUL too: jansson's strings end there. */
			from = replacement;
			n = 3;
			i++;
		} else {
			i += n;
		}
		if (o + n >= cap)
			break;
		memcpy(dst + o, from, n);
		o += n;
	}
	dst[o] = '\0';
}

void qmp_error(struct qmp_call *call, const char *cls, const char *fmt, ...)
{
	va_list ap;
	int n;

	call->err_class = cls;
	va_start(ap, fmt);
	n = vsnprintf(call->err_desc, sizeof(call->err_desc), fmt, ap);
	va_end(ap);
	if (n >= (int)sizeof(call->err_desc))
		utf8_trim_tail(call->err_desc);
}

struct qmp *qmp_new(const struct qmp_cmd *cmds, size_t nr, void *ctx, const char *package,
		    const struct qmp_io *io)
{
	struct qmp *q = calloc(1, sizeof(*q));

	if (!q)
		return NULL;
	q->cmds = cmds;
	q->nr_cmds = nr;
	q->ctx = ctx;
	snprintf(q->package, sizeof(q->package), "%s", package);
	q->io = *io;
	return q;
}

void qmp_free(struct qmp *q)
{
	if (!q)
		return;
	free(q->buf);
	free(q);
}

/* Keys in the order they were set; everything past ASCII as \uXXXX, as
 * QEMU's JSON writer puts it (a stray 0xFF reads "stray '\uFFFD'"). */
#define DUMP_FLAGS (JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII)

/*
 * One line per message, ending in CRLF as QEMU's monitor writes it, and in
 * one write: a reply in two pieces wakes a waiting client twice.  text is
 * json_dumps's, freed here; false if there was none to send.
 */
static bool send_line(struct qmp *q, char *text)
{
	size_t len;
	char *line;

	if (!text)
		return false;
	len = strlen(text);
	line = realloc(text, len + 3);
	if (!line) {
		q->io.write(q->io.opaque, text, len);
		q->io.write(q->io.opaque, "\r\n", 2);
		free(text);
		return true;
	}
	memcpy(line + len, "\r\n", 3);
	q->io.write(q->io.opaque, line, len + 2);
	free(line);
	return true;
}

static void send_json(struct qmp *q, json_t *obj)
{
	send_line(q, json_dumps(obj, DUMP_FLAGS));
	json_decref(obj);
}

static json_t *version_info(const struct qmp *q)
{
	return json_pack("{s:{s:i,s:i,s:i},s:s}", "qemu", "micro", QMP_QEMU_MICRO, "minor",
			 QMP_QEMU_MINOR, "major", QMP_QEMU_MAJOR, "package", q->package);
}

static void reset_framing(struct qmp *q)
{
	q->len = 0;
	q->depth = 0;
	q->in_string = q->escape = q->in_scalar = false;
	q->recovering = false;
}

void qmp_open(struct qmp *q)
{
	q->negotiated = false;
	q->closing = false;
	reset_framing(q);
	/* No capability is offered: genvm has no out-of-band execution. */
	send_json(q, json_pack("{s:{s:o,s:[]}}", "QMP", "version", version_info(q),
			       "capabilities"));
}

void qmp_close(struct qmp *q)
{
	q->negotiated = false;
	q->closing = false;
	reset_framing(q);
}

bool qmp_negotiated(const struct qmp *q)
{
	return q->negotiated;
}

/* What a client gets when its reply could not be built or encoded. */
#define FALLBACK_DESC "genvm could not encode the reply"

/*
 * Every request gets exactly one reply: reply (a reference stolen; NULL if
 * building it failed) with id, or else a fixed GenericError with the id,
 * or without it if even that does not encode.
 */
static void send_reply(struct qmp *q, json_t *reply, json_t *id)
{
	static const char fixed[] =
		"{\"error\": {\"class\": \"GenericError\", \"desc\": \"" FALLBACK_DESC "\"}}\r\n";
	char *text = NULL;

	if (reply && (!id || json_object_set(reply, "id", id) == 0))
		text = json_dumps(reply, DUMP_FLAGS);
	json_decref(reply);
	if (!text && id) {
		reply = json_pack("{s:{s:s,s:s},s:O}", "error", "class", "GenericError", "desc",
				  FALLBACK_DESC, "id", id);
		text = reply ? json_dumps(reply, DUMP_FLAGS) : NULL;
		json_decref(reply);
	}
	if (!send_line(q, text))
		q->io.write(q->io.opaque, fixed, sizeof(fixed) - 1);
}

static void send_error(struct qmp *q, const char *cls, const char *desc, json_t *id)
{
	/* A description may quote what the client sent: whole characters only. */
	char clean[2 * sizeof(((struct qmp_call *)0)->err_desc)];

	utf8_clean(clean, sizeof(clean), desc, strlen(desc));
	send_reply(q, json_pack("{s:{s:s,s:s}}", "error", "class", cls, "desc", clean), id);
}

static const char *type_name(enum qmp_type t)
{
	switch (t) {
	case QMP_STRING:
		return "string";
	case QMP_INT:
		return "integer";
	case QMP_BOOL:
		return "boolean";
	case QMP_NUMBER:
		return "number";
	case QMP_OBJECT:
		return "object";
	case QMP_ARRAY:
		return "array";
	default:
		return "value";
	}
}

static bool type_ok(enum qmp_type t, const json_t *v)
{
	switch (t) {
	case QMP_STRING:
		return json_is_string(v);
	case QMP_INT:
		return json_is_integer(v);
	case QMP_BOOL:
		return json_is_boolean(v);
	case QMP_NUMBER:
		return json_is_number(v);
	case QMP_OBJECT:
		return json_is_object(v);
	case QMP_ARRAY:
		return json_is_array(v);
	default:
		return true;
	}
}

/* What QEMU's input visitor says, in the order it says it. */
static int check_args(struct qmp_call *call)
{
	const struct qmp_arg *a = call->cmd->args;
	const char *key;
	json_t *v;

	for (; a && a->name; a++) {
		v = json_object_get(call->args, a->name);
		if (!v) {
			if (a->optional)
				continue;
			qmp_error(call, "GenericError", "Parameter '%s' is missing", a->name);
			return -1;
		}
		if (!type_ok(a->type, v)) {
			qmp_error(call, "GenericError", "Invalid parameter type for '%s', expected: %s",
				  a->name, type_name(a->type));
			return -1;
		}
	}
	json_object_foreach(call->args, key, v) {
		bool known = false;

		for (a = call->cmd->args; a && a->name && !known; a++)
			known = !strcmp(a->name, key);
		if (!known) {
			qmp_error(call, "GenericError", "Parameter '%s' is unexpected", key);
			return -1;
		}
	}
	return 0;
}

const struct qmp_cmd *qmp_find(const struct qmp *q, const char *name)
{
	for (size_t i = 0; i < NR_PROTOCOL_CMDS; i++) {
		if (!strcmp(protocol_cmds[i].name, name))
			return &protocol_cmds[i];
	}
	for (size_t i = 0; i < q->nr_cmds; i++) {
		if (!strcmp(q->cmds[i].name, name))
			return &q->cmds[i];
	}
	return NULL;
}

/* The envelope checks of qmp_dispatch_check_obj(); NULL and *desc on error. */
static const char *check_envelope(json_t *req, const char **desc, char *buf, size_t size)
{
	const char *key, *execute = NULL;
	json_t *v;

	if (!json_is_object(req)) {
		*desc = "QMP input must be a JSON object";
		return NULL;
	}
	json_object_foreach(req, key, v) {
		if (!strcmp(key, "execute")) {
			if (!json_is_string(v)) {
				*desc = "QMP input member 'execute' must be a string";
				return NULL;
			}
			execute = json_string_value(v);
		} else if (!strcmp(key, "arguments")) {
			if (!json_is_object(v)) {
				*desc = "QMP input member 'arguments' must be an object";
				return NULL;
			}
		} else if (strcmp(key, "id")) {
			snprintf(buf, size, "QMP input member '%.*s' is unexpected", utf8_fit(key, 64),
				 key);
			*desc = buf;
			return NULL;
		}
	}
	if (!execute)
		*desc = "QMP input lacks member 'execute'";
	return execute;
}

static void dispatch(struct qmp *q, json_t *req)
{
	struct qmp_call call = { .ctx = q->ctx, .qmp = q };
	const char *name, *desc = NULL;
	json_t *id = json_object_get(req, "id"), *reply;
	char buf[128];

	if (!json_is_object(req))
		id = NULL;
	name = check_envelope(req, &desc, buf, sizeof(buf));
	if (!name) {
		send_error(q, "GenericError", desc, id);
		return;
	}
	call.cmd = qmp_find(q, name);
	/* Until negotiation only qmp_capabilities exists. */
	if (!q->negotiated && (!call.cmd || call.cmd->fn != cmd_capabilities)) {
		send_error(q, "CommandNotFound",
			   "Expecting capabilities negotiation with 'qmp_capabilities'", id);
		return;
	}
	if (!call.cmd) {
		snprintf(buf, sizeof(buf), "The command %.*s has not been found", utf8_fit(name, 64),
			 name);
		send_error(q, "CommandNotFound", buf, id);
		return;
	}
	call.args = json_object_get(req, "arguments");
	call.args = call.args ? json_incref(call.args) : json_object();
	if (check_args(&call) == 0 && call.cmd->fn(&call) == 0) {
		reply = json_pack("{s:o}", "return", call.ret ? call.ret : json_object());
		send_reply(q, reply, id);
	} else {
		json_decref(call.ret);
		send_error(q, call.err_class ? call.err_class : "GenericError",
			   call.err_desc[0] ? call.err_desc : "command failed", id);
	}
	json_decref(call.args);
}

static void handle_request(struct qmp *q, const char *text, size_t len)
{
	json_error_t err;
	json_t *req;
	char desc[JSON_ERROR_TEXT_LENGTH + 32];

	req = json_loadb(text, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &err);
	if (!req) {
		snprintf(desc, sizeof(desc), "JSON parse error, %s", err.text);
		send_error(q, "GenericError", desc, NULL);
		return;
	}
	dispatch(q, req);
	json_decref(req);
}

static bool append(struct qmp *q, char ch)
{
	if (q->len == q->cap) {
		size_t cap = q->cap ? q->cap * 2 : 256;
		char *p;

		if (cap > QMP_MAX_REQUEST)
			cap = QMP_MAX_REQUEST;
		p = realloc(q->buf, cap);
		if (!p)
			return false;
		q->buf = p;
		q->cap = cap;
	}
	q->buf[q->len++] = ch;
	return true;
}

static void complete(struct qmp *q)
{
	handle_request(q, q->buf, q->len);
	reset_framing(q);
}

static bool is_blank(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

/*
 * Bytes that QEMU's JSON lexer (qobject/json-lexer.c) takes for a lexical
 * error.  Outside strings: anything but blanks, structural characters,
 * quotes, and what numbers and the lowercase keywords are made of (QEMU
 * also refuses '+', '.' and 'E' where a token starts; here jansson refuses
 * them when the value is parsed).  Inside strings: control characters and
 * 0xFE, 0xFF, which UTF-8 never uses.
 */
static bool lexical_error(const struct qmp *q, char ch)
{
	unsigned char c = (unsigned char)ch;

	if (q->in_string)
		return c < 0x20 || c >= 0xFE;
	if (is_blank(ch) || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
		return false;
	return !strchr("{}[],:\"'-+.E", ch) || ch == '\0';
}

/*
 * Where QEMU's lexer ends its error recovery: a structural character, a
 * control character other than tab, or 0xFE/0xFF.  A client can thus send
 * a newline, or ESC or 0xFF and a newline, to get back to a clean state.
 */
static bool resync_point(char ch)
{
	unsigned char c = (unsigned char)ch;

	return (c < 0x20 && c != '\t') || c >= 0xFE || (ch && strchr("{}[]:,", ch));
}

/*
 * A lexical error, as QEMU answers it: the request so far is dropped,
 * one GenericError "JSON parse error, stray 'TOKEN'" goes out (TOKEN the
 * offending byte, or the unfinished string up to it), and input is skipped
 * up to the next resync point.
 */
static void lexical_error_reply(struct qmp *q, char ch)
{
	char str[256] = "", last[4] = "", desc[sizeof(str) + 48];
	size_t n;

	if (q->in_string) {
		/* The string so far (quote included), as much of it as fits. */
		n = q->len - q->str_start;
		utf8_clean(str, sizeof(str), q->buf + q->str_start, n < 200 ? n : 200);
	}
	/* A NUL ends QEMU's token text, as it would a C string. */
	if (ch)
		utf8_clean(last, sizeof(last), &ch, 1);
	snprintf(desc, sizeof(desc), "JSON parse error, stray '%s%s'", str, last);
	send_error(q, "GenericError", desc, NULL);
	reset_framing(q);
	q->recovering = true;
}

/*
 * Framing: find where each top-level value ends (brackets balanced outside
 * strings, a string closed, or a bare word ended) and hand those bytes to
 * jansson, which does the parsing.  Only lexical errors are caught here,
 * since they decide where the next request starts.
 */
static void frame(struct qmp *q, char ch)
{
	if (q->recovering) {
		if (!resync_point(ch))
			return;
		q->recovering = false;
	}
	if (lexical_error(q, ch)) {
		/* QEMU's lexer ends a number or keyword first, then stumbles. */
		if (q->in_scalar)
			complete(q);
		lexical_error_reply(q, ch);
		return;
	}
	if (q->in_scalar) {
		if (is_blank(ch) || ch == '{' || ch == '[' || ch == '"') {
			complete(q);
			if (is_blank(ch))
				return;
		} else {
			append(q, ch);
			return;
		}
	}
	if (q->in_string) {
		append(q, ch);
		if (q->escape)
			q->escape = false;
		else if (ch == '\\')
			q->escape = true;
		else if (ch == '"') {
			q->in_string = false;
			if (q->depth == 0)
				complete(q);
		}
		return;
	}
	if (q->len == 0 && is_blank(ch))
		return;
	append(q, ch);
	switch (ch) {
	case '{':
	case '[':
		q->depth++;
		break;
	case '}':
	case ']':
		if (q->depth <= 1) {
			complete(q);
			return;
		}
		q->depth--;
		break;
	case '"':
		q->in_string = true;
		q->str_start = q->len - 1;
		break;
	default:
		if (q->depth == 0 && !is_blank(ch))
			q->in_scalar = true;
		break;
	}
}

void qmp_input(struct qmp *q, const void *data, size_t len)
{
	const char *p = data;

	for (size_t i = 0; i < len && !q->closing; i++) {
		frame(q, p[i]);
		if (q->len >= QMP_MAX_REQUEST) {
			char desc[96];

			snprintf(desc, sizeof(desc), "QMP request too large (limit %u bytes), closing",
				 QMP_MAX_REQUEST);
			send_error(q, "GenericError", desc, NULL);
			reset_framing(q);
			q->closing = true;
			q->io.hangup(q->io.opaque);
			/*
			 * Nothing after it runs, whatever hangup did: the channel
			 * may already have closed the session (qmp_close clears
			 * closing), and the rest of this read is the same client's.
			 */
			return;
		}
	}
}

void qmp_event(struct qmp *q, const char *name, json_t *data)
{
	struct timeval tv;
	json_t *ev;

	if (!q->negotiated || q->closing) {
		json_decref(data);
		return;
	}
	gettimeofday(&tv, NULL);
	ev = json_pack("{s:{s:I,s:I},s:s}", "timestamp", "seconds", (json_int_t)tv.tv_sec,
		       "microseconds", (json_int_t)tv.tv_usec, "event", name);
	if (data)
		json_object_set_new(ev, "data", data);
	send_json(q, ev);
}

/* ---- the protocol's commands ---- */

static int cmd_capabilities(struct qmp_call *call)
{
	json_t *enable = json_object_get(call->args, "enable"), *v;
	size_t i;

	if (call->qmp->negotiated) {
		qmp_error(call, "CommandNotFound",
			  "Capabilities negotiation is already complete, command ignored");
		return -1;
	}
	json_array_foreach(enable, i, v) {
		if (!json_is_string(v)) {
			qmp_error(call, "GenericError",
				  "Invalid parameter type for 'enable[%zu]', expected: string", i);
			return -1;
		}
		if (strcmp(json_string_value(v), "oob")) {
			qmp_error(call, "GenericError",
				  "Parameter 'enable[%zu]' does not accept value '%.*s'", i,
				  utf8_fit(json_string_value(v), 64), json_string_value(v));
			return -1;
		}
		qmp_error(call, "GenericError", "Capability oob not available");
		return -1;
	}
	call->qmp->negotiated = true;
	return 0;
}

static int cmd_query_commands(struct qmp_call *call)
{
	json_t *list = json_array();

	for (size_t i = 0; i < NR_PROTOCOL_CMDS; i++)
		json_array_append_new(list, json_pack("{s:s}", "name", protocol_cmds[i].name));
	for (size_t i = 0; i < call->qmp->nr_cmds; i++)
		json_array_append_new(list, json_pack("{s:s}", "name", call->qmp->cmds[i].name));
	call->ret = list;
	return 0;
}

static int cmd_query_version(struct qmp_call *call)
{
	call->ret = version_info(call->qmp);
	return 0;
}
