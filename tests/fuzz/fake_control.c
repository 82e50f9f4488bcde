// SPDX-License-Identifier: MIT
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "fake_control.h"
#include "hmp.h"
#include "snapstream.h"
#include "fuzz.h"
#include "fuzz_machine.h"
#include "machine.h"
#include "migrate.h"
#include "restore_times.h"

void fake_control_init(struct control *c)
{
	memset(c, 0, sizeof(*c));
	c->state = RUNSTATE_RUNNING;
	c->migrate_status = MIGRATE_NONE;
}

/* Every operation: a session that was hung up on sends nothing more. */
static void op(struct control *c)
{
	FUZZ_CHECK(!c->hung_up);
	c->ops++;
}

const char *migrate_status_name(enum migrate_status s)
{
	static const char *const names[] = { "none", "active", "completed", "failed" };

	FUZZ_CHECK((size_t)s < sizeof(names) / sizeof(names[0]));
	return names[s];
}

bool control_exiting(const struct control *c)
{
	return c->exiting;
}

enum runstate control_runstate(const struct control *c)
{
	return c->state;
}

int control_stop(struct control *c, const char **why)
{
	op(c);
	if (c->exiting) {
		*why = "genvm is exiting";
		return -1;
	}
	if (c->state == RUNSTATE_RUNNING)
		c->state = RUNSTATE_PAUSED;
	return 0;
}

int control_cont(struct control *c, const char **why)
{
	op(c);
	if (c->state == RUNSTATE_SHUTDOWN || c->exiting) {
		*why = "the guest is shutting down";
		return -1;
	}
	c->state = RUNSTATE_RUNNING;
	return 0;
}

int control_system_reset(struct control *c, const char **why)
{
	op(c);
	if (c->migrate_status == MIGRATE_ACTIVE) {
		*why = "a migration is in progress";
		return -1;
	}
	return 0;
}

int control_powerdown(struct control *c, const char **why)
{
	(void)why;
	op(c);
	return 0;
}

void control_quit(struct control *c, enum vm_exit_reason why)
{
	(void)why;
	op(c);
	c->exiting = true;
	c->state = RUNSTATE_SHUTDOWN;
}

int control_guid(struct control *c, char text[37], const char **why)
{
	(void)why;
	op(c);
	snprintf(text, 37, "%s", FUZZ_GUID_TEXT);
	return 0;
}

int control_registers(struct control *c, int cpu, FILE *f, const char **why)
{
	op(c);
	if (cpu > 1) {
		*why = "no such vCPU";
		return -1;
	}
	for (int i = cpu < 0 ? 0 : cpu; i <= (cpu < 0 ? 1 : cpu); i++) {
		if (cpu < 0)
			fprintf(f, "CPU#%d\n", i);
		fprintf(f, "RAX=%016x RBX=%016x\nRIP=%016x RFL=%08x\n", i, 0, 0xfff0, 2);
	}
	return 0;
}

int control_migrate(struct control *c, const char *uri, char *why, size_t why_len)
{
	static struct snapuri u;

	op(c);
	FUZZ_CHECK(uri != NULL && why != NULL && why_len > 0);
	(void)strlen(uri);
	/* The real parser decides; nothing is ever written or run. */
	if (snapuri_parse(uri, &u, why, why_len) < 0) {
		FUZZ_CHECK(memchr(why, 0, why_len) != NULL && why[0]);
		return -1;
	}
	FUZZ_CHECK(memchr(u.arg, 0, sizeof(u.arg)) != NULL && u.arg[0]);
	c->migrate_status = MIGRATE_COMPLETED;
	c->state = RUNSTATE_POSTMIGRATE;
	return 0;
}

/* Never under -incoming defer here: QEMU's refusal, after the real URI parser. */
int control_migrate_incoming(struct control *c, const char *uri, char *why, size_t why_len)
{
	static struct snapuri u;

	op(c);
	FUZZ_CHECK(uri != NULL && why != NULL && why_len > 0);
	if (snapuri_parse(uri, &u, why, why_len) < 0) {
		FUZZ_CHECK(memchr(why, 0, why_len) != NULL && why[0]);
		return -1;
	}
	snprintf(why, why_len, "'-incoming' was not specified on the command line");
	return -1;
}

const char *control_incoming_error(const struct control *c)
{
	(void)c;
	return NULL;
}

/* query-name and query-uuid read the config: a machine started with none of them. */
struct machine *control_machine(struct control *c)
{
	static struct genvm_config cfg;
	static struct machine m;

	op(c);
	m.cfg = &cfg;
	return &m;
}

/* No client passes descriptors here: getfd has nothing to name. */
int control_getfd(struct control *c, const char *name, const char **why)
{
	op(c);
	FUZZ_CHECK(name != NULL && why != NULL);
	(void)strlen(name);
	*why = "No file descriptor supplied via SCM_RIGHTS";
	return -1;
}

int control_take_fd(struct control *c, const char *name)
{
	op(c);
	FUZZ_CHECK(name != NULL);
	(void)strlen(name);
	return -1;
}

void control_migrate_info(struct control *c, struct migrate_info *out)
{
	op(c);
	memset(out, 0, sizeof(*out));
	out->status = (enum migrate_status)c->migrate_status;
	out->total_ms = 12;
	out->bytes = 256u << 20;
}

/* A restored machine, so that query-migrate's restore phases are encoded too. */
void control_restore_times(struct control *c, struct restore_times *out)
{
	op(c);
	memset(out, 0, sizeof(*out));
	out->restored = true;
	out->start_ns = 1000000u;
	for (unsigned int i = 0; i < RESTORE_NR_PHASES; i++)
		out->end_ns[i] = 1000000u * (i + 2);
}

struct strbuf {
	char *p;
	size_t len;
};

static void strbuf_write(void *opaque, const char *buf, size_t len)
{
	struct strbuf *s = opaque;
	char *p = realloc(s->p, s->len + len + 1);

	FUZZ_CHECK(p != NULL);
	memcpy(p + s->len, buf, len);
	s->len += len;
	p[s->len] = '\0';
	s->p = p;
}

void control_hmp_command(struct control *c, const char *line, char **out)
{
	struct strbuf s = { NULL, 0 };

	op(c);
	FUZZ_CHECK(line != NULL);
	hmp_execute(c, line, strbuf_write, &s);
	*out = s.p ? s.p : strdup("");
	FUZZ_CHECK(*out != NULL);
}
