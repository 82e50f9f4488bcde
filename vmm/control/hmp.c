// SPDX-License-Identifier: MIT
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control.h"
#include "hmp.h"
#include "migrate.h"

#ifndef GENVM_VERSION
#define GENVM_VERSION "unknown"
#endif

#define PROMPT "(qemu) "

struct hmp {
	struct control *ctl;
	struct hmp_io io;
	char line[HMP_LINE_MAX];
	size_t len;
	bool after_cr;  /* swallow the \n of a \r\n */
	unsigned int esc; /* 0: none, 1: after ESC, 2: inside ESC [ ... */
};

struct out {
	void (*write)(void *opaque, const char *buf, size_t len);
	void *opaque;
};

/* printf with QEMU's monitor newlines: every \n goes out as \r\n. */
static void say(const struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(const struct out *o, const char *fmt, ...)
{
	char buf[512];
	const char *p, *nl;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	for (p = buf; (nl = strchr(p, '\n')); p = nl + 1) {
		o->write(o->opaque, p, (size_t)(nl - p));
		o->write(o->opaque, "\r\n", 2);
	}
	if (*p)
		o->write(o->opaque, p, strlen(p));
}

enum hmp_arg_kind {
	HMP_NO_ARG,
	HMP_WORD,      /* at most one word */
	HMP_REST,      /* the rest of the line (a URI with spaces) */
};

struct hmp_cmd {
	const char *names; /* "stop|s": the name, then aliases */
	const char *params;
	const char *help;
	void (*fn)(struct control *c, const struct out *o, const char *arg);
	enum hmp_arg_kind args;
};

struct info_cmd {
	const char *name;
	const char *params;
	const char *help;
	/* arg: what follows the name, NULL if nothing (only with params). */
	void (*fn)(struct control *c, const struct out *o, const char *arg);
};

static void info_status(struct control *c, const struct out *o, const char *arg)
{
	enum runstate s = control_runstate(c);

	(void)arg;
	/* QEMU words it this way: the state in parentheses unless plainly paused. */
	if (s == RUNSTATE_RUNNING)
		say(o, "VM status: running\n");
	else if (s == RUNSTATE_PAUSED)
		say(o, "VM status: paused\n");
	else
		say(o, "VM status: paused (%s)\n", runstate_name(s));
}

static void info_vm_generation_id(struct control *c, const struct out *o, const char *arg)
{
	const char *why;
	char text[37];

	(void)arg;
	if (control_guid(c, text, &why) < 0)
		say(o, "Error: %s\n", why);
	else
		say(o, "%s\n", text);
}

static void info_version(struct control *c, const struct out *o, const char *arg)
{
	(void)c;
	(void)arg;
	say(o, "%d.%d.%d (genvm %s)\n", 7, 2, 0, GENVM_VERSION);
}

/* QEMU's wording, for the fields genvm has. */
static void info_migrate(struct control *c, const struct out *o, const char *arg)
{
	struct migrate_info info;

	(void)arg;
	control_migrate_info(c, &info);
	if (info.status == MIGRATE_NONE)
		return;
	say(o, "Migration status: %s\n", migrate_status_name(info.status));
	say(o, "total time: %llu ms\n", (unsigned long long)info.total_ms);
	if (info.status == MIGRATE_COMPLETED)
		say(o, "transferred ram: %llu kbytes\n", (unsigned long long)(info.bytes >> 10));
	if (info.error)
		say(o, "Error: %s\n", info.error);
}

/* "info registers [-a|vcpu]": vCPU 0's registers by default, as QEMU. */
static void info_registers(struct control *c, const struct out *o, const char *arg)
{
	const char *why = NULL;
	char *text = NULL, *line, *save = NULL;
	size_t len = 0;
	int cpu = 0;
	FILE *f;

	if (arg && !strcmp(arg, "-a")) {
		cpu = -1;
	} else if (arg) {
		char *end;
		long n = strtol(arg, &end, 10);

		if (*end || end == arg || n < 0 || n > 4096) {
			say(o, "Error: '%s' is not -a or a vCPU index\n", arg);
			return;
		}
		cpu = (int)n;
	}
	f = open_memstream(&text, &len);
	if (!f) {
		say(o, "Error: out of memory\n");
		return;
	}
	if (control_registers(c, cpu, f, &why) < 0) {
		fclose(f);
		free(text);
		if (cpu >= 0 && why && !strcmp(why, "no such vCPU"))
			say(o, "CPU#%d not available\n", cpu);
		else
			say(o, "Error: %s\n", why ? why : "cannot read the registers");
		return;
	}
	fclose(f);
	/* Line by line: say() formats into a fixed buffer. */
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		say(o, "%s\n", line);
	free(text);
}

static const struct info_cmd info_cmds[] = {
	{ "migrate", "", "show migration status", info_migrate },
	{ "registers", "[-a|vcpu]",
	  "show the cpu registers (-a: all vCPUs; vcpu: that one; vCPU 0 by default)",
	  info_registers },
	{ "status", "", "show the current VM status (running|paused)", info_status },
	{ "version", "", "show the version of QEMU", info_version },
	{ "vm-generation-id", "", "Show Virtual Machine Generation ID", info_vm_generation_id },
};
#define NR_INFO (sizeof(info_cmds) / sizeof(info_cmds[0]))

static void report(const struct out *o, int ret, const char *why)
{
	if (ret < 0)
		say(o, "Error: %s\n", why ? why : "failed");
}

static void do_stop(struct control *c, const struct out *o, const char *arg)
{
	const char *why = NULL;

	(void)arg;
	report(o, control_stop(c, &why), why);
}

static void do_cont(struct control *c, const struct out *o, const char *arg)
{
	const char *why = NULL;

	(void)arg;
	report(o, control_cont(c, &why), why);
}

static void do_system_reset(struct control *c, const struct out *o, const char *arg)
{
	const char *why = NULL;

	(void)arg;
	report(o, control_system_reset(c, &why), why);
}

static void do_system_powerdown(struct control *c, const struct out *o, const char *arg)
{
	const char *why = NULL;

	(void)arg;
	report(o, control_powerdown(c, &why), why);
}

/* QEMU's monitor takes a URI in double quotes when it has spaces: uri gets it without them. */
static void hmp_uri(char *uri, size_t size, const char *arg)
{
	size_t len = strlen(arg);

	if (len >= 2 && arg[0] == '"' && arg[len - 1] == '"') {
		arg++;
		len -= 2;
	}
	snprintf(uri, size, "%.*s", (int)len, arg);
}

/* migrate [-d] URI: always in the background here, so -d changes nothing. */
static void do_migrate(struct control *c, const struct out *o, const char *arg)
{
	char uri[HMP_LINE_MAX], why[512];

	if (arg && !strncmp(arg, "-d", 2) && (arg[2] == ' ' || arg[2] == '\t'))
		arg += strspn(arg + 2, " \t") + 2;
	if (!arg || !*arg) {
		say(o, "migrate: URI missing (file:PATH or exec:COMMAND)\n");
		return;
	}
	hmp_uri(uri, sizeof(uri), arg);
	if (control_migrate(c, uri, why, sizeof(why)) < 0)
		say(o, "Error: %s\n", why);
}

/* migrate_incoming URI: under -incoming defer, as QMP's migrate-incoming. */
static void do_migrate_incoming(struct control *c, const struct out *o, const char *arg)
{
	char uri[HMP_LINE_MAX], why[HMP_LINE_MAX + 512];

	if (!arg || !*arg) {
		say(o, "migrate_incoming: URI missing (file:PATH, exec:COMMAND or fd:NAME)\n");
		return;
	}
	hmp_uri(uri, sizeof(uri), arg);
	if (control_migrate_incoming(c, uri, why, sizeof(why)) < 0)
		say(o, "Error: %s\n", why);
}

static void do_quit(struct control *c, const struct out *o, const char *arg)
{
	(void)o;
	(void)arg;
	control_quit(c, VM_EXIT_HOST_QMP_QUIT);
}

static void do_info(struct control *c, const struct out *o, const char *arg);
static void do_help(struct control *c, const struct out *o, const char *arg);

static const struct hmp_cmd hmp_cmds[] = {
	{ "cont|c", "", "resume emulation", do_cont, HMP_NO_ARG },
	{ "help|?", "[cmd]", "show the help", do_help, HMP_WORD },
	{ "info", "[subcommand]", "show various information about the system state", do_info,
	  HMP_REST },
	{ "migrate", "[-d] uri", "migrate to URI (file:PATH or exec:COMMAND)", do_migrate,
	  HMP_REST },
	{ "migrate_incoming", "uri", "-incoming defer: restore from URI", do_migrate_incoming,
	  HMP_REST },
	{ "quit|q", "", "quit the emulator", do_quit, HMP_NO_ARG },
	{ "stop|s", "", "stop emulation", do_stop, HMP_NO_ARG },
	{ "system_powerdown", "", "send system power down event", do_system_powerdown, HMP_NO_ARG },
	{ "system_reset", "", "reset the system", do_system_reset, HMP_NO_ARG },
};
#define NR_HMP (sizeof(hmp_cmds) / sizeof(hmp_cmds[0]))

static bool name_matches(const char *names, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = names; *p;) {
		const char *bar = strchr(p, '|');
		size_t len = bar ? (size_t)(bar - p) : strlen(p);

		if (len == n && !strncmp(p, word, n))
			return true;
		p += len + (bar ? 1 : 0);
	}
	return false;
}

static void help_line(const struct out *o, const struct hmp_cmd *cmd)
{
	say(o, "%s %s -- %s\n", cmd->names, cmd->params, cmd->help);
}

static void list_info(const struct out *o)
{
	for (size_t i = 0; i < NR_INFO; i++)
		say(o, "info %s%s%s -- %s\n", info_cmds[i].name, *info_cmds[i].params ? " " : "",
		    info_cmds[i].params, info_cmds[i].help);
}

/* arg: "NAME [ARG]" as typed, or NULL. */
static void do_info(struct control *c, const struct out *o, const char *arg)
{
	const char *rest;
	size_t n;

	if (!arg) {
		list_info(o);
		return;
	}
	n = strcspn(arg, " \t");
	rest = arg + n + strspn(arg + n, " \t");
	for (size_t i = 0; i < NR_INFO; i++) {
		const struct info_cmd *cmd = &info_cmds[i];

		if (strlen(cmd->name) != n || strncmp(cmd->name, arg, n))
			continue;
		/* One word at most, and only where the command takes one. */
		if (*rest && (!*cmd->params || rest[strcspn(rest, " \t")])) {
			say(o, "info: extraneous characters at the end of line\n");
			return;
		}
		cmd->fn(c, o, *rest ? rest : NULL);
		return;
	}
	list_info(o);
}

static void do_help(struct control *c, const struct out *o, const char *arg)
{
	(void)c;
	if (arg && !strcmp(arg, "info")) {
		list_info(o);
		return;
	}
	for (size_t i = 0; i < NR_HMP; i++) {
		if (!arg || name_matches(hmp_cmds[i].names, arg))
			help_line(o, &hmp_cmds[i]);
	}
}

void hmp_execute(struct control *c, const char *line,
		 void (*write)(void *opaque, const char *buf, size_t len), void *opaque)
{
	const struct out o = { write, opaque };
	char buf[HMP_LINE_MAX], *word, *arg, *extra, *save = NULL;

	snprintf(buf, sizeof(buf), "%s", line);
	word = strtok_r(buf, " \t", &save);
	if (!word)
		return;
	arg = strtok_r(NULL, " \t", &save);
	extra = strtok_r(NULL, " \t", &save);
	for (size_t i = 0; i < NR_HMP; i++) {
		const struct hmp_cmd *cmd = &hmp_cmds[i];

		if (!name_matches(cmd->names, word))
			continue;
		if (cmd->args == HMP_REST) {
			/* Everything after the command word, trailing blanks dropped. */
			const char *rest = line + strspn(line, " \t");
			size_t n;

			rest += strcspn(rest, " \t");
			rest += strspn(rest, " \t");
			n = strlen(rest);
			while (n && (rest[n - 1] == ' ' || rest[n - 1] == '\t' ||
				     rest[n - 1] == '\r' || rest[n - 1] == '\n'))
				n--;
			snprintf(buf, sizeof(buf), "%.*s", (int)n, rest);
			cmd->fn(c, &o, n ? buf : NULL);
			return;
		}
		if ((arg && cmd->args == HMP_NO_ARG) || extra) {
			say(&o, "%s: extraneous characters at the end of line\n", word);
			return;
		}
		cmd->fn(c, &o, arg);
		return;
	}
	say(&o, "unknown command: '%s'\n", word);
}

struct hmp *hmp_new(struct control *c, const struct hmp_io *io)
{
	struct hmp *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->ctl = c;
	h->io = *io;
	return h;
}

void hmp_free(struct hmp *h)
{
	free(h);
}

void hmp_prompt(struct hmp *h)
{
	h->io.write(h->io.opaque, PROMPT, sizeof(PROMPT) - 1);
}

void hmp_open(struct hmp *h)
{
	const struct out o = { h->io.write, h->io.opaque };

	hmp_close(h);
	say(&o, "genvm %s monitor - type 'help' for more information\n", GENVM_VERSION);
	hmp_prompt(h);
}

void hmp_close(struct hmp *h)
{
	h->len = 0;
	h->after_cr = false;
	h->esc = 0;
}

static void enter(struct hmp *h)
{
	h->line[h->len] = '\0';
	h->len = 0;
	h->io.write(h->io.opaque, "\r\n", 2);
	hmp_execute(h->ctl, h->line, h->io.write, h->io.opaque);
	/* After quit there is no one left to prompt for. */
	if (!control_exiting(h->ctl))
		hmp_prompt(h);
}

void hmp_input(struct hmp *h, const void *buf, size_t len)
{
	const unsigned char *p = buf;

	for (size_t i = 0; i < len; i++) {
		unsigned char ch = p[i];
		bool after_cr = h->after_cr;

		h->after_cr = false;
		if (h->esc == 1) {
			h->esc = ch == '[' || ch == 'O' ? 2 : 0;
			continue;
		}
		if (h->esc == 2) {
			/* Parameters and intermediates run until a final byte. */
			if (ch >= 0x40 && ch <= 0x7e)
				h->esc = 0;
			continue;
		}
		switch (ch) {
		case '\r':
			h->after_cr = true;
			enter(h);
			break;
		case '\n':
			if (!after_cr)
				enter(h);
			break;
		case 0x7f:
		case '\b':
			if (h->len) {
				h->len--;
				h->io.write(h->io.opaque, "\b \b", 3);
			}
			break;
		case 0x1b:
			h->esc = 1;
			break;
		default:
			if (ch >= 0x20 && ch < 0x7f && h->len + 1 < sizeof(h->line)) {
				h->line[h->len++] = (char)ch;
				h->io.write(h->io.opaque, (const char *)&p[i], 1);
			}
			break;
		}
	}
}
