// SPDX-License-Identifier: MIT
/*
 * AML encoder, after ACPI 6.x chapter 20 ("ACPI Machine Language
 * Specification").  Nodes are built into an arena and checked as they are
 * built; vmgenid_aml_serialize() measures the tree bottom-up (so every PkgLength is
 * known and minimal) and then writes it in one pass into space reserved in
 * the output buffer, so a failure never leaves half a tree behind.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmgenid/aml.h"
#include "vmgenid/endian.h"
#include "vmgenid/log.h"

/*
 * Where a node may stand.  Each slot that takes a node (a container body,
 * an operand) names the roles it accepts, so a Device passed as a Store
 * operand is an error at build time instead of garbage in the table.
 */
enum {
	ROLE_TERM = 1u << 0,        /* an entry of a TermList */
	ROLE_OPERAND = 1u << 1,     /* a TermArg */
	ROLE_DATA = 1u << 2,        /* a DataRefObject: the value of Name() */
	ROLE_ELEMENT = 1u << 3,     /* a PackageElement */
	ROLE_TARGET = 1u << 4,      /* a SuperName */
	ROLE_NULL_TARGET = 1u << 5, /* NullName, only where a Target may be absent */
	ROLE_FIELD = 1u << 6,       /* a FieldElement */
	ROLE_DESCRIPTOR = 1u << 7,  /* a resource descriptor */
};

#define ROLES_DATA (ROLE_DATA | ROLE_OPERAND | ROLE_ELEMENT)

/* A PkgLength has 28 bits of value. */
#define PKGLEN_MAX 0x0FFFFFFFu

/* Bytes of a resource template's EndTag. */
#define END_TAG_LEN 2

enum aml_kind {
	KIND_PLAIN,
	KIND_IF,
	KIND_ELSE,
	KIND_RESOURCE_TEMPLATE,
	KIND_DUMMY,
};

struct vmgenid_aml {
	struct vmgenid_aml_ctx *ctx;
	struct vmgenid_aml *parent;
	struct vmgenid_aml *first, *last, *next;
	const char *what; /* the ASL construct, for error messages */
	enum aml_kind kind;
	unsigned int roles;
	unsigned int accepts; /* roles vmgenid_aml_append() takes; 0 for a leaf */
	unsigned int nchildren, max_children;
	uint8_t op[2];
	uint8_t op_len;
	bool has_pkglen;
	uint8_t pkglen_bytes; /* from the last measure */
	uint8_t *head;        /* bytes after the PkgLength, before the children */
	size_t head_len;
	size_t size;          /* whole encoding, from the last measure */
	size_t rt_len;        /* resource template: descriptors plus EndTag */
	size_t offset;
};

struct arena_chunk {
	struct arena_chunk *next;
	size_t used, cap;
	max_align_t data[];
};

#define ARENA_CHUNK_SIZE 8192

struct vmgenid_aml_ctx {
	struct arena_chunk *chunks;
	/* Handed out instead of a node once something went wrong. */
	struct vmgenid_aml dummy;
	bool oom;
	char error[256];
};

static void aml_fail(struct vmgenid_aml_ctx *ctx, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void aml_fail(struct vmgenid_aml_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	if (ctx->error[0])
		return;
	va_start(ap, fmt);
	vsnprintf(ctx->error, sizeof(ctx->error), fmt, ap);
	va_end(ap);
}

static void aml_fail_oom(struct vmgenid_aml_ctx *ctx)
{
	if (!ctx->error[0])
		ctx->oom = true;
	aml_fail(ctx, "Out of memory while building AML.");
}

/* A caller's string made safe to print inside an error message. */
struct quoted {
	char s[48];
};

static struct quoted quote(const char *s)
{
	struct quoted q;
	size_t i = 0;

	if (!s) {
		snprintf(q.s, sizeof(q.s), "(null)");
		return q;
	}
	q.s[i++] = '"';
	for (; *s && i < sizeof(q.s) - 6; s++)
		q.s[i++] = (*s >= 0x20 && *s < 0x7f) ? *s : '?';
	if (*s) {
		memcpy(q.s + i, "...", 3);
		i += 3;
	}
	q.s[i++] = '"';
	q.s[i] = '\0';
	return q;
}

static void *arena_alloc(struct vmgenid_aml_ctx *ctx, size_t n)
{
	const size_t align = sizeof(max_align_t);
	struct arena_chunk *c = ctx->chunks;
	void *p;

	if (n > SIZE_MAX / 2) {
		aml_fail_oom(ctx);
		return NULL;
	}
	n = (n + align - 1) & ~(align - 1);
	if (!c || c->cap - c->used < n) {
		size_t cap = n > ARENA_CHUNK_SIZE ? n : ARENA_CHUNK_SIZE;

		c = malloc(sizeof(*c) + cap);
		if (!c) {
			aml_fail_oom(ctx);
			return NULL;
		}
		c->used = 0;
		c->cap = cap;
		/* An oversized chunk goes second so the current one stays in use. */
		if (cap > ARENA_CHUNK_SIZE && ctx->chunks) {
			c->next = ctx->chunks->next;
			ctx->chunks->next = c;
		} else {
			c->next = ctx->chunks;
			ctx->chunks = c;
		}
	}
	p = (unsigned char *)c->data + c->used;
	c->used += n;
	return p;
}

struct vmgenid_aml_ctx *vmgenid_aml_ctx_new(void)
{
	struct vmgenid_aml_ctx *ctx = calloc(1, sizeof(*ctx));

	if (!ctx)
		return NULL;
	ctx->dummy.ctx = ctx;
	ctx->dummy.what = "invalid node";
	ctx->dummy.kind = KIND_DUMMY;
	ctx->dummy.roles = ~0u;
	ctx->dummy.accepts = ~0u;
	ctx->dummy.offset = SIZE_MAX;
	return ctx;
}

void vmgenid_aml_ctx_free(struct vmgenid_aml_ctx *ctx)
{
	struct arena_chunk *c, *next;

	if (!ctx)
		return;
	for (c = ctx->chunks; c; c = next) {
		next = c->next;
		free(c);
	}
	free(ctx);
}

const char *vmgenid_aml_ctx_error(const struct vmgenid_aml_ctx *ctx)
{
	if (!ctx)
		return "No AML context (it could not be allocated).";
	return ctx->error[0] ? ctx->error : NULL;
}

size_t vmgenid_aml_offset(const struct vmgenid_aml *node)
{
	return node ? node->offset : SIZE_MAX;
}

static struct vmgenid_aml *node_new(struct vmgenid_aml_ctx *ctx, const char *what, unsigned int roles)
{
	struct vmgenid_aml *n = arena_alloc(ctx, sizeof(*n));

	if (!n)
		return &ctx->dummy;
	memset(n, 0, sizeof(*n));
	n->ctx = ctx;
	n->what = what;
	n->kind = KIND_PLAIN;
	n->roles = roles;
	n->max_children = UINT_MAX;
	n->offset = SIZE_MAX;
	return n;
}

static struct vmgenid_aml *container_new(struct vmgenid_aml_ctx *ctx, const char *what, unsigned int roles,
				 unsigned int accepts)
{
	struct vmgenid_aml *n = node_new(ctx, what, roles);

	if (n->kind != KIND_DUMMY) {
		n->accepts = accepts;
		n->has_pkglen = true;
	}
	return n;
}

static void node_op(struct vmgenid_aml *n, uint8_t op)
{
	if (n->kind != KIND_DUMMY)
		n->op[n->op_len++] = op;
}

/* Room for len head bytes, or NULL (out of memory, or n is the dummy). */
static uint8_t *node_head(struct vmgenid_aml *n, size_t len)
{
	if (n->kind == KIND_DUMMY)
		return NULL;
	n->head = arena_alloc(n->ctx, len);
	if (!n->head)
		return NULL;
	n->head_len = len;
	return n->head;
}

static void link_child(struct vmgenid_aml *parent, struct vmgenid_aml *child)
{
	child->parent = parent;
	if (parent->last)
		parent->last->next = child;
	else
		parent->first = child;
	parent->last = child;
	parent->nchildren++;
}

/* --- Encodings --------------------------------------------------------- */

static size_t int_encode(uint8_t *p, uint64_t v)
{
	if (v == 0) {
		p[0] = 0x00; /* ZeroOp */
		return 1;
	}
	if (v == 1) {
		p[0] = 0x01; /* OneOp */
		return 1;
	}
	if (v == UINT64_MAX) {
		p[0] = 0xFF; /* OnesOp */
		return 1;
	}
	if (v <= 0xFF) {
		p[0] = 0x0A; /* BytePrefix */
		p[1] = (uint8_t)v;
		return 2;
	}
	if (v <= 0xFFFF) {
		p[0] = 0x0B; /* WordPrefix */
		vmgenid_put_le16(p + 1, (uint16_t)v);
		return 3;
	}
	if (v <= 0xFFFFFFFF) {
		p[0] = 0x0C; /* DWordPrefix */
		vmgenid_put_le32(p + 1, (uint32_t)v);
		return 5;
	}
	p[0] = 0x0E; /* QWordPrefix */
	vmgenid_put_le64(p + 1, v);
	return 9;
}

static size_t int_len(uint64_t v)
{
	uint8_t tmp[9];

	return int_encode(tmp, v);
}

/*
 * Bytes of a PkgLength for a body of body bytes: the length counts its own
 * bytes, so the thresholds include them.  0 if it cannot be encoded.
 */
static unsigned int pkglen_bytes(size_t body)
{
	if (body + 1 <= 0x3F)
		return 1;
	if (body + 2 <= 0xFFF)
		return 2;
	if (body + 3 <= 0xFFFFF)
		return 3;
	if (body + 4 <= PKGLEN_MAX)
		return 4;
	return 0;
}

static void pkglen_put(uint8_t *p, unsigned int nbytes, size_t value)
{
	unsigned int i;

	if (nbytes == 1) {
		p[0] = (uint8_t)value;
		return;
	}
	/* Bits 7-6: count of following bytes; 3-0: low nibble; then 8 bits each. */
	p[0] = (uint8_t)(((nbytes - 1) << 6) | (value & 0x0F));
	for (i = 1; i < nbytes; i++)
		p[i] = (uint8_t)(value >> (4 + 8 * (i - 1)));
}

static bool seg_valid(const char *s, size_t len)
{
	size_t i;

	if (len < 1 || len > 4)
		return false;
	if (!((s[0] >= 'A' && s[0] <= 'Z') || s[0] == '_'))
		return false;
	for (i = 1; i < len; i++) {
		if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') ||
		      s[i] == '_'))
			return false;
	}
	return true;
}

static void seg_put(uint8_t *p, const char *s, size_t len)
{
	memcpy(p, s, len);
	memset(p + len, '_', 4 - len);
}

enum name_use {
	NAME_DECLARE, /* needs a final NameSeg: Name, Device, Method, Field's region */
	NAME_SCOPE,   /* may also be a bare prefix: Scope(\) */
	NAME_REFER,   /* may also be empty: NullName */
};

/*
 * Encode the ASL-style name as a NameString into out, or only measure it
 * when out is NULL.  Returns the length, or 0 after recording an error.
 */
static size_t name_string(struct vmgenid_aml_ctx *ctx, const char *what, const char *name,
			  enum name_use use, uint8_t *out)
{
	const char *p = name, *segs;
	size_t nprefix = 0, nseg = 0, len, seglen;

	if (!name) {
		aml_fail(ctx, "%s: the name is missing.", what);
		return 0;
	}
	if (*p == '\\') {
		p++;
		nprefix = 1;
	} else {
		while (*p == '^') {
			p++;
			nprefix++;
		}
	}
	segs = p;
	while (*p) {
		seglen = strcspn(p, ".");
		if (!seg_valid(p, seglen)) {
			aml_fail(ctx, "%s: %s is not a valid name (segments of 1 to 4 characters "
				 "A-Z, 0-9 or _, not starting with a digit).",
				 what, quote(name).s);
			return 0;
		}
		nseg++;
		p += seglen;
		if (*p == '.') {
			p++;
			if (!*p) {
				aml_fail(ctx, "%s: %s ends with a dot.", what, quote(name).s);
				return 0;
			}
		}
	}
	if (nseg == 0 && (use == NAME_DECLARE || (use == NAME_SCOPE && nprefix == 0))) {
		aml_fail(ctx, "%s: %s has no name segment.", what, quote(name).s);
		return 0;
	}
	if (nseg > 255) {
		aml_fail(ctx, "%s: %s has more than 255 segments.", what, quote(name).s);
		return 0;
	}

	len = nprefix + 4 * nseg + (nseg == 0 || nseg == 2 ? 1 : nseg >= 3 ? 2 : 0);
	if (!out)
		return len;

	memset(out, name[0], nprefix); /* RootChar '\' or ParentPrefixChar '^' */
	out += nprefix;
	if (nseg == 0) {
		*out = 0x00; /* NullName */
		return len;
	}
	if (nseg == 2) {
		*out++ = 0x2E; /* DualNamePrefix */
	} else if (nseg >= 3) {
		*out++ = 0x2F; /* MultiNamePrefix */
		*out++ = (uint8_t)nseg;
	}
	for (p = segs; *p; out += 4) {
		seglen = strcspn(p, ".");
		seg_put(out, p, seglen);
		p += seglen;
		if (*p == '.')
			p++;
	}
	return len;
}

/* A node whose head is a NameString followed by extra bytes (at *tail). */
static struct vmgenid_aml *named_new(struct vmgenid_aml_ctx *ctx, struct vmgenid_aml *n, const char *name,
			     enum name_use use, size_t extra, uint8_t **tail)
{
	size_t len;
	uint8_t *h;

	if (n->kind == KIND_DUMMY)
		return n;
	len = name_string(ctx, n->what, name, use, NULL);
	if (!len)
		return &ctx->dummy;
	h = node_head(n, len + extra);
	if (!h)
		return &ctx->dummy;
	name_string(ctx, n->what, name, use, h);
	if (tail)
		*tail = h + len;
	return n;
}

/* --- Operands ---------------------------------------------------------- */

struct operand {
	struct vmgenid_aml *node;
	unsigned int roles;
	const char *slot;
};

static bool operands_ok(struct vmgenid_aml_ctx *ctx, const char *what, const struct operand *ops,
			size_t count)
{
	size_t i, j;

	for (i = 0; i < count; i++) {
		struct vmgenid_aml *o = ops[i].node;

		if (!o) {
			aml_fail(ctx, "%s: the %s is missing.", what, ops[i].slot);
			return false;
		}
		if (o->ctx != ctx) {
			aml_fail(ctx, "%s: the %s belongs to another AML context.", what,
				 ops[i].slot);
			return false;
		}
		if (o->kind == KIND_DUMMY)
			return false; /* its error is already recorded */
		if (o->parent) {
			aml_fail(ctx, "%s: the %s (%s) is already part of the tree; "
				 "build a new node for each use.", what, ops[i].slot, o->what);
			return false;
		}
		if (!(o->roles & ops[i].roles)) {
			aml_fail(ctx, "%s: %s cannot be the %s.", what, o->what, ops[i].slot);
			return false;
		}
		for (j = 0; j < i; j++) {
			if (ops[j].node == o) {
				aml_fail(ctx, "%s: the same %s node is used twice; "
					 "build a new node for each use.", what, o->what);
				return false;
			}
		}
	}
	return true;
}

static void operands_link(struct vmgenid_aml *n, const struct operand *ops, size_t count)
{
	size_t i;

	if (n->kind == KIND_DUMMY)
		return;
	for (i = 0; i < count; i++)
		link_child(n, ops[i].node);
}

/* An expression or statement: opcode, then its operands in order. */
static struct vmgenid_aml *op_new(struct vmgenid_aml_ctx *ctx, const char *what, unsigned int roles,
			  uint8_t op, const struct operand *ops, size_t count)
{
	struct vmgenid_aml *n;

	if (!ctx)
		return NULL;
	if (!operands_ok(ctx, what, ops, count))
		return &ctx->dummy;
	n = node_new(ctx, what, roles);
	node_op(n, op);
	operands_link(n, ops, count);
	return n;
}

/* --- Tree -------------------------------------------------------------- */

void vmgenid_aml_append(struct vmgenid_aml *parent, struct vmgenid_aml *child)
{
	struct vmgenid_aml_ctx *ctx;
	struct vmgenid_aml *p;

	if (!parent || !child) {
		ctx = parent ? parent->ctx : child ? child->ctx : NULL;
		if (ctx)
			aml_fail(ctx, "vmgenid_aml_append: the %s is missing.", parent ? "child" : "parent");
		return;
	}
	ctx = parent->ctx;
	if (child->ctx != ctx) {
		aml_fail(ctx, "vmgenid_aml_append: the %s belongs to another AML context.", child->what);
		return;
	}
	if (parent->kind == KIND_DUMMY || child->kind == KIND_DUMMY)
		return; /* the error that made the dummy is already recorded */
	if (!parent->accepts) {
		aml_fail(ctx, "vmgenid_aml_append: %s is not a container.", parent->what);
		return;
	}
	if (child->parent) {
		aml_fail(ctx, "vmgenid_aml_append: the %s is already part of the tree; "
			 "build a new node for each use.", child->what);
		return;
	}
	for (p = parent; p; p = p->parent) {
		if (p == child) {
			aml_fail(ctx, "vmgenid_aml_append: the %s would contain itself.", child->what);
			return;
		}
	}
	if (!(child->roles & parent->accepts)) {
		aml_fail(ctx, "vmgenid_aml_append: %s cannot go inside %s.", child->what, parent->what);
		return;
	}
	if (parent->nchildren >= parent->max_children) {
		aml_fail(ctx, "vmgenid_aml_append: the %s already has its %u elements.", parent->what,
			 parent->max_children);
		return;
	}
	if (child->kind == KIND_ELSE && (!parent->last || parent->last->kind != KIND_IF)) {
		aml_fail(ctx, "vmgenid_aml_append: an Else must directly follow an If.");
		return;
	}
	link_child(parent, child);
}

struct vmgenid_aml *vmgenid_aml_block(struct vmgenid_aml_ctx *ctx)
{
	struct vmgenid_aml *n;

	if (!ctx)
		return NULL;
	n = node_new(ctx, "block", ROLE_TERM);
	if (n->kind != KIND_DUMMY)
		n->accepts = ROLE_TERM;
	return n;
}

/* --- Serialization ----------------------------------------------------- */

static bool measure(struct vmgenid_aml_ctx *ctx, struct vmgenid_aml *n)
{
	size_t body = n->head_len;
	struct vmgenid_aml *c;

	for (c = n->first; c; c = c->next) {
		if (!measure(ctx, c))
			return false;
		body += c->size;
	}
	if (n->kind == KIND_RESOURCE_TEMPLATE) {
		n->rt_len = body + END_TAG_LEN;
		body = int_len(n->rt_len) + n->rt_len;
	}
	if (n->has_pkglen) {
		unsigned int nbytes = pkglen_bytes(body);

		if (!nbytes) {
			aml_fail(ctx, "vmgenid_aml_serialize: the %s is %zu bytes long, more than a "
				 "PkgLength can describe.", n->what, body);
			return false;
		}
		n->pkglen_bytes = (uint8_t)nbytes;
		body += nbytes;
	}
	n->size = n->op_len + body;
	return true;
}

static void emit(struct vmgenid_aml *n, uint8_t *base, size_t origin, size_t *pos)
{
	struct vmgenid_aml *c;

	n->offset = origin + *pos;
	if (n->op_len) {
		memcpy(base + *pos, n->op, n->op_len);
		*pos += n->op_len;
	}
	if (n->has_pkglen) {
		pkglen_put(base + *pos, n->pkglen_bytes, n->size - n->op_len);
		*pos += n->pkglen_bytes;
	}
	if (n->kind == KIND_RESOURCE_TEMPLATE)
		*pos += int_encode(base + *pos, n->rt_len); /* BufferSize */
	if (n->head_len) {
		memcpy(base + *pos, n->head, n->head_len);
		*pos += n->head_len;
	}
	for (c = n->first; c; c = c->next)
		emit(c, base, origin, pos);
	if (n->kind == KIND_RESOURCE_TEMPLATE) {
		base[(*pos)++] = 0x79; /* EndTag: small item 0xF, length 1 */
		base[(*pos)++] = 0x00; /* checksum 0: "treat as correct" */
	}
}

int vmgenid_aml_serialize(struct vmgenid_aml_ctx *ctx, struct vmgenid_aml *node, struct vmgenid_bytebuf *out)
{
	static uint8_t nothing;
	size_t origin, pos = 0;
	uint8_t *base;

	if (!ctx || !node || !out)
		return -EINVAL;
	if (!ctx->error[0] && node->ctx != ctx)
		aml_fail(ctx, "vmgenid_aml_serialize: the node belongs to another AML context.");
	if (!ctx->error[0])
		measure(ctx, node);
	if (ctx->error[0]) {
		vmgenid_pr_err("aml", "not serializing: %s", ctx->error);
		return ctx->oom ? -ENOMEM : -EINVAL;
	}

	origin = out->len;
	if (node->size == 0) {
		/* An empty block: nothing to append, but record where it is. */
		emit(node, &nothing, origin, &pos);
		return 0;
	}
	base = vmgenid_bytebuf_append(out, NULL, node->size);
	if (!base)
		return -ENOMEM;
	emit(node, base, origin, &pos);
	return 0;
}

/* --- Data -------------------------------------------------------------- */

static struct vmgenid_aml *bytes_new(struct vmgenid_aml_ctx *ctx, const char *what, unsigned int roles,
			     const uint8_t *bytes, size_t len)
{
	struct vmgenid_aml *n;
	uint8_t *h;

	if (!ctx)
		return NULL;
	n = node_new(ctx, what, roles);
	h = node_head(n, len);
	if (!h)
		return &ctx->dummy;
	memcpy(h, bytes, len);
	return n;
}

struct vmgenid_aml *vmgenid_aml_int(struct vmgenid_aml_ctx *ctx, uint64_t value)
{
	uint8_t b[9];

	return bytes_new(ctx, "Integer", ROLES_DATA, b, int_encode(b, value));
}

struct vmgenid_aml *vmgenid_aml_dword(struct vmgenid_aml_ctx *ctx, uint32_t value)
{
	uint8_t b[5];

	b[0] = 0x0C; /* DWordPrefix */
	vmgenid_put_le32(b + 1, value);
	return bytes_new(ctx, "Integer", ROLES_DATA, b, sizeof(b));
}

struct vmgenid_aml *vmgenid_aml_qword(struct vmgenid_aml_ctx *ctx, uint64_t value)
{
	uint8_t b[9];

	b[0] = 0x0E; /* QWordPrefix */
	vmgenid_put_le64(b + 1, value);
	return bytes_new(ctx, "Integer", ROLES_DATA, b, sizeof(b));
}

struct vmgenid_aml *vmgenid_aml_zero(struct vmgenid_aml_ctx *ctx)
{
	return vmgenid_aml_int(ctx, 0);
}

struct vmgenid_aml *vmgenid_aml_one(struct vmgenid_aml_ctx *ctx)
{
	return vmgenid_aml_int(ctx, 1);
}

struct vmgenid_aml *vmgenid_aml_ones(struct vmgenid_aml_ctx *ctx)
{
	return vmgenid_aml_int(ctx, UINT64_MAX);
}

struct vmgenid_aml *vmgenid_aml_string(struct vmgenid_aml_ctx *ctx, const char *s)
{
	struct vmgenid_aml *n;
	uint8_t *h;
	size_t i, len;

	if (!ctx)
		return NULL;
	if (!s) {
		aml_fail(ctx, "String: the string is missing.");
		return &ctx->dummy;
	}
	len = strlen(s);
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		/* AsciiCharList is 0x01-0x7F; control characters have no place in a name or id. */
		if (c < 0x20 || c >= 0x7F) {
			aml_fail(ctx, "String: %s has byte 0x%02X at %zu; only printable ASCII "
				 "is allowed.", quote(s).s, c, i);
			return &ctx->dummy;
		}
	}
	n = node_new(ctx, "String", ROLES_DATA);
	h = node_head(n, len + 2);
	if (!h)
		return &ctx->dummy;
	h[0] = 0x0D; /* StringPrefix */
	memcpy(h + 1, s, len);
	h[len + 1] = 0x00; /* NullChar */
	return n;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

struct vmgenid_aml *vmgenid_aml_eisaid(struct vmgenid_aml_ctx *ctx, const char *id)
{
	uint32_t v = 0;
	uint8_t be[4];
	int i;

	if (!ctx)
		return NULL;
	if (!id || strlen(id) != 7) {
		aml_fail(ctx, "EISAID: %s is not a 7-character EISA id like \"PNP0A03\".",
			 quote(id).s);
		return &ctx->dummy;
	}
	for (i = 0; i < 3; i++) {
		if (id[i] < 'A' || id[i] > 'Z') {
			aml_fail(ctx, "EISAID: %s must start with three letters A-Z.", quote(id).s);
			return &ctx->dummy;
		}
		/* Five bits per letter, 'A' = 1, from bit 26 down (bit 31 stays 0). */
		v |= (uint32_t)(id[i] - '@') << (26 - 5 * i);
	}
	for (i = 3; i < 7; i++) {
		int d = hex_digit(id[i]);

		if (d < 0) {
			aml_fail(ctx, "EISAID: %s must end with four hex digits 0-9, A-F.",
				 quote(id).s);
			return &ctx->dummy;
		}
		v |= (uint32_t)d << (4 * (6 - i));
	}
	/* The compressed id is stored byte-swapped: manufacturer bytes first in memory. */
	vmgenid_put_be32(be, v);
	return vmgenid_aml_int(ctx, vmgenid_get_le32(be));
}

struct vmgenid_aml *vmgenid_aml_buffer(struct vmgenid_aml_ctx *ctx, size_t len, const uint8_t *data)
{
	struct vmgenid_aml *n;
	uint8_t *h;
	size_t size_len;

	if (!ctx)
		return NULL;
	if (len > PKGLEN_MAX) {
		aml_fail(ctx, "Buffer: %zu bytes are more than an AML Buffer can hold.", len);
		return &ctx->dummy;
	}
	size_len = int_len(len);
	n = container_new(ctx, "Buffer", ROLES_DATA, 0);
	node_op(n, 0x11); /* BufferOp */
	h = node_head(n, size_len + len);
	if (!h)
		return &ctx->dummy;
	int_encode(h, len); /* BufferSize */
	if (data)
		memcpy(h + size_len, data, len);
	else
		memset(h + size_len, 0, len);
	return n;
}

struct vmgenid_aml *vmgenid_aml_package(struct vmgenid_aml_ctx *ctx, uint8_t num_elements)
{
	struct vmgenid_aml *n;
	uint8_t *h;

	if (!ctx)
		return NULL;
	n = container_new(ctx, "Package", ROLES_DATA, ROLE_ELEMENT);
	node_op(n, 0x12); /* PackageOp */
	h = node_head(n, 1);
	if (!h)
		return &ctx->dummy;
	h[0] = num_elements; /* NumElements */
	n->max_children = num_elements;
	return n;
}

/* --- Names and references ---------------------------------------------- */

struct vmgenid_aml *vmgenid_aml_name(struct vmgenid_aml_ctx *ctx, const char *name)
{
	unsigned int roles;

	if (!ctx)
		return NULL;
	/* A bare NameString in a TermList is a method invocation. */
	roles = ROLE_TERM | ROLE_OPERAND | ROLE_ELEMENT | ROLE_TARGET;
	if (name && !name[0])
		roles = ROLE_NULL_TARGET;
	return named_new(ctx, node_new(ctx, "name reference", roles), name, NAME_REFER, 0, NULL);
}

struct vmgenid_aml *vmgenid_aml_name_decl(struct vmgenid_aml_ctx *ctx, const char *name, struct vmgenid_aml *value)
{
	const struct operand ops[] = { { value, ROLE_DATA, "value" } };
	struct vmgenid_aml *n;

	if (!ctx)
		return NULL;
	if (!name_string(ctx, "Name", name, NAME_DECLARE, NULL) ||
	    !operands_ok(ctx, "Name", ops, 1))
		return &ctx->dummy;
	n = node_new(ctx, "Name", ROLE_TERM);
	node_op(n, 0x08); /* NameOp */
	n = named_new(ctx, n, name, NAME_DECLARE, 0, NULL);
	operands_link(n, ops, 1);
	return n;
}

struct vmgenid_aml *vmgenid_aml_local(struct vmgenid_aml_ctx *ctx, unsigned int n)
{
	uint8_t op;

	if (!ctx)
		return NULL;
	if (n > 7) {
		aml_fail(ctx, "Local%u: there are only Local0 to Local7.", n);
		return &ctx->dummy;
	}
	op = (uint8_t)(0x60 + n); /* Local0Op + n */
	return bytes_new(ctx, "Local", ROLE_OPERAND | ROLE_TARGET, &op, 1);
}

struct vmgenid_aml *vmgenid_aml_arg(struct vmgenid_aml_ctx *ctx, unsigned int n)
{
	uint8_t op;

	if (!ctx)
		return NULL;
	if (n > 6) {
		aml_fail(ctx, "Arg%u: there are only Arg0 to Arg6.", n);
		return &ctx->dummy;
	}
	op = (uint8_t)(0x68 + n); /* Arg0Op + n */
	return bytes_new(ctx, "Arg", ROLE_OPERAND | ROLE_TARGET, &op, 1);
}

/* --- Namespace containers ---------------------------------------------- */

struct vmgenid_aml *vmgenid_aml_scope(struct vmgenid_aml_ctx *ctx, const char *name)
{
	struct vmgenid_aml *n;

	if (!ctx)
		return NULL;
	n = container_new(ctx, "Scope", ROLE_TERM, ROLE_TERM);
	node_op(n, 0x10); /* ScopeOp */
	return named_new(ctx, n, name, NAME_SCOPE, 0, NULL);
}

struct vmgenid_aml *vmgenid_aml_device(struct vmgenid_aml_ctx *ctx, const char *name)
{
	struct vmgenid_aml *n;

	if (!ctx)
		return NULL;
	n = container_new(ctx, "Device", ROLE_TERM, ROLE_TERM);
	node_op(n, 0x5B); /* ExtOpPrefix */
	node_op(n, 0x82); /* DeviceOp */
	return named_new(ctx, n, name, NAME_DECLARE, 0, NULL);
}

struct vmgenid_aml *vmgenid_aml_method(struct vmgenid_aml_ctx *ctx, const char *name, unsigned int nargs,
		       bool serialized)
{
	struct vmgenid_aml *n;
	uint8_t *flags = NULL;

	if (!ctx)
		return NULL;
	if (nargs > 7) {
		aml_fail(ctx, "Method: %s declares %u arguments; at most 7 are possible.",
			 quote(name).s, nargs);
		return &ctx->dummy;
	}
	n = container_new(ctx, "Method", ROLE_TERM, ROLE_TERM);
	node_op(n, 0x14); /* MethodOp */
	n = named_new(ctx, n, name, NAME_DECLARE, 1, &flags);
	if (flags) /* MethodFlags: ArgCount in 2-0, SerializeFlag in 3, SyncLevel 0 */
		*flags = (uint8_t)(nargs | (serialized ? 1u << 3 : 0));
	return n;
}

/* --- Statements and expressions ---------------------------------------- */

struct vmgenid_aml *vmgenid_aml_if(struct vmgenid_aml_ctx *ctx, struct vmgenid_aml *predicate)
{
	const struct operand ops[] = { { predicate, ROLE_OPERAND, "predicate" } };
	struct vmgenid_aml *n;

	if (!ctx)
		return NULL;
	if (!operands_ok(ctx, "If", ops, 1))
		return &ctx->dummy;
	n = container_new(ctx, "If", ROLE_TERM, ROLE_TERM);
	if (n->kind == KIND_DUMMY)
		return n;
	n->kind = KIND_IF;
	node_op(n, 0xA0); /* IfOp */
	operands_link(n, ops, 1);
	return n;
}

struct vmgenid_aml *vmgenid_aml_else(struct vmgenid_aml_ctx *ctx)
{
	struct vmgenid_aml *n;

	if (!ctx)
		return NULL;
	n = container_new(ctx, "Else", ROLE_TERM, ROLE_TERM);
	if (n->kind == KIND_DUMMY)
		return n;
	n->kind = KIND_ELSE;
	node_op(n, 0xA1); /* ElseOp */
	return n;
}

struct vmgenid_aml *vmgenid_aml_equal(struct vmgenid_aml_ctx *ctx, struct vmgenid_aml *a, struct vmgenid_aml *b)
{
	const struct operand ops[] = {
		{ a, ROLE_OPERAND, "first operand" },
		{ b, ROLE_OPERAND, "second operand" },
	};

	return op_new(ctx, "LEqual", ROLE_TERM | ROLE_OPERAND, 0x93 /* LEqualOp */, ops, 2);
}

struct vmgenid_aml *vmgenid_aml_store(struct vmgenid_aml_ctx *ctx, struct vmgenid_aml *value, struct vmgenid_aml *target)
{
	const struct operand ops[] = {
		{ value, ROLE_OPERAND, "value" },
		{ target, ROLE_TARGET, "target" },
	};

	return op_new(ctx, "Store", ROLE_TERM | ROLE_OPERAND, 0x70 /* StoreOp */, ops, 2);
}

struct vmgenid_aml *vmgenid_aml_add(struct vmgenid_aml_ctx *ctx, struct vmgenid_aml *a, struct vmgenid_aml *b, struct vmgenid_aml *target)
{
	struct operand ops[] = {
		{ a, ROLE_OPERAND, "first operand" },
		{ b, ROLE_OPERAND, "second operand" },
		{ target, ROLE_TARGET | ROLE_NULL_TARGET, "target" },
	};

	if (!ctx)
		return NULL;
	if (!target)
		ops[2].node = vmgenid_aml_name(ctx, "");
	return op_new(ctx, "Add", ROLE_TERM | ROLE_OPERAND, 0x72 /* AddOp */, ops, 3);
}

struct vmgenid_aml *vmgenid_aml_index(struct vmgenid_aml_ctx *ctx, struct vmgenid_aml *object, struct vmgenid_aml *index,
		      struct vmgenid_aml *target)
{
	struct operand ops[] = {
		{ object, ROLE_OPERAND, "object" },
		{ index, ROLE_OPERAND, "index" },
		{ target, ROLE_TARGET | ROLE_NULL_TARGET, "target" },
	};

	if (!ctx)
		return NULL;
	if (!target)
		ops[2].node = vmgenid_aml_name(ctx, "");
	/* Index yields a reference, so it can itself be a Store target. */
	return op_new(ctx, "Index", ROLE_TERM | ROLE_OPERAND | ROLE_TARGET,
		      0x88 /* IndexOp */, ops, 3);
}

struct vmgenid_aml *vmgenid_aml_return(struct vmgenid_aml_ctx *ctx, struct vmgenid_aml *value)
{
	const struct operand ops[] = { { value, ROLE_OPERAND, "value" } };

	return op_new(ctx, "Return", ROLE_TERM, 0xA4 /* ReturnOp */, ops, 1);
}

struct vmgenid_aml *vmgenid_aml_notify(struct vmgenid_aml_ctx *ctx, struct vmgenid_aml *object, struct vmgenid_aml *value)
{
	const struct operand ops[] = {
		{ object, ROLE_TARGET, "object" },
		{ value, ROLE_OPERAND, "value" },
	};

	return op_new(ctx, "Notify", ROLE_TERM, 0x86 /* NotifyOp */, ops, 2);
}

/* --- Operation regions and fields -------------------------------------- */

struct vmgenid_aml *vmgenid_aml_operation_region(struct vmgenid_aml_ctx *ctx, const char *name,
				 enum vmgenid_aml_region_space space, struct vmgenid_aml *offset,
				 struct vmgenid_aml *length)
{
	const struct operand ops[] = {
		{ offset, ROLE_OPERAND, "offset" },
		{ length, ROLE_OPERAND, "length" },
	};
	uint8_t *tail = NULL;
	struct vmgenid_aml *n;

	if (!ctx)
		return NULL;
	if ((unsigned int)space > 0xFF) {
		aml_fail(ctx, "OperationRegion: space %u does not fit RegionSpace.",
			 (unsigned int)space);
		return &ctx->dummy;
	}
	if (!name_string(ctx, "OperationRegion", name, NAME_DECLARE, NULL) ||
	    !operands_ok(ctx, "OperationRegion", ops, 2))
		return &ctx->dummy;
	n = node_new(ctx, "OperationRegion", ROLE_TERM);
	node_op(n, 0x5B); /* ExtOpPrefix */
	node_op(n, 0x80); /* OpRegionOp */
	n = named_new(ctx, n, name, NAME_DECLARE, 1, &tail);
	if (tail)
		*tail = (uint8_t)space; /* RegionSpace */
	operands_link(n, ops, 2);
	return n;
}

struct vmgenid_aml *vmgenid_aml_field(struct vmgenid_aml_ctx *ctx, const char *region, enum vmgenid_aml_field_access access,
		      bool lock, enum vmgenid_aml_field_update update)
{
	uint8_t *flags = NULL;
	struct vmgenid_aml *n;

	if (!ctx)
		return NULL;
	if ((unsigned int)access > VMGENID_AML_BUFFER_ACC || (unsigned int)update > VMGENID_AML_WRITE_AS_ZEROS) {
		aml_fail(ctx, "Field: access type %u or update rule %u is out of range.",
			 (unsigned int)access, (unsigned int)update);
		return &ctx->dummy;
	}
	n = container_new(ctx, "Field", ROLE_TERM, ROLE_FIELD);
	node_op(n, 0x5B); /* ExtOpPrefix */
	node_op(n, 0x81); /* FieldOp */
	n = named_new(ctx, n, region, NAME_DECLARE, 1, &flags);
	/* FieldFlags: AccessType in 3-0, LockRule in 4, UpdateRule in 6-5 */
	if (flags)
		*flags = (uint8_t)((unsigned int)access | (lock ? 1u << 4 : 0) |
				   ((unsigned int)update << 5));
	return n;
}

/*
 * A field's bit count is written in PkgLength form but does not count its
 * own bytes.  The byte count is still chosen as if it did, which is what
 * iasl emits (63 bits take two bytes); decoders only read the value.
 */
static size_t field_len_put(uint8_t *p, unsigned int bits)
{
	unsigned int nbytes = pkglen_bytes(bits);

	if (!nbytes)
		nbytes = 4;
	if (p)
		pkglen_put(p, nbytes, bits);
	return nbytes;
}

struct vmgenid_aml *vmgenid_aml_named_field(struct vmgenid_aml_ctx *ctx, const char *name, unsigned int bits)
{
	struct vmgenid_aml *n;
	uint8_t *h;
	size_t seglen;

	if (!ctx)
		return NULL;
	seglen = name ? strlen(name) : 0;
	if (!name || !seg_valid(name, seglen)) {
		aml_fail(ctx, "Field: %s is not a valid field name (one segment of 1 to 4 "
			 "characters A-Z, 0-9 or _, not starting with a digit).", quote(name).s);
		return &ctx->dummy;
	}
	if (bits == 0 || bits > PKGLEN_MAX) {
		aml_fail(ctx, "Field: %s cannot be %u bits wide.", quote(name).s, bits);
		return &ctx->dummy;
	}
	n = node_new(ctx, "named field", ROLE_FIELD);
	h = node_head(n, 4 + field_len_put(NULL, bits));
	if (!h)
		return &ctx->dummy;
	seg_put(h, name, seglen);
	field_len_put(h + 4, bits);
	return n;
}

struct vmgenid_aml *vmgenid_aml_reserved_field(struct vmgenid_aml_ctx *ctx, unsigned int bits)
{
	struct vmgenid_aml *n;
	uint8_t *h;

	if (!ctx)
		return NULL;
	if (bits > PKGLEN_MAX) {
		aml_fail(ctx, "Field: a reserved field cannot be %u bits wide.", bits);
		return &ctx->dummy;
	}
	n = node_new(ctx, "reserved field", ROLE_FIELD);
	h = node_head(n, 1 + field_len_put(NULL, bits));
	if (!h)
		return &ctx->dummy;
	h[0] = 0x00; /* ReservedField */
	field_len_put(h + 1, bits);
	return n;
}

/* --- Resource templates ------------------------------------------------ */

struct vmgenid_aml *vmgenid_aml_resource_template(struct vmgenid_aml_ctx *ctx)
{
	struct vmgenid_aml *n;

	if (!ctx)
		return NULL;
	n = container_new(ctx, "ResourceTemplate", ROLES_DATA, ROLE_DESCRIPTOR);
	if (n->kind == KIND_DUMMY)
		return n;
	n->kind = KIND_RESOURCE_TEMPLATE;
	node_op(n, 0x11); /* BufferOp */
	return n;
}

static struct vmgenid_aml *descriptor_new(struct vmgenid_aml_ctx *ctx, const char *what, const uint8_t *bytes,
				  size_t len)
{
	return bytes_new(ctx, what, ROLE_DESCRIPTOR, bytes, len);
}

struct vmgenid_aml *vmgenid_aml_io(struct vmgenid_aml_ctx *ctx, bool decode16, uint16_t min, uint16_t max,
		   uint8_t align, uint8_t length)
{
	uint8_t d[8];

	d[0] = 0x47; /* small item: I/O port descriptor (0x08), length 7 */
	d[1] = decode16 ? 0x01 : 0x00; /* Information: bit 0 = 16-bit decode */
	vmgenid_put_le16(d + 2, min);
	vmgenid_put_le16(d + 4, max);
	d[6] = align;
	d[7] = length;
	return descriptor_new(ctx, "IO", d, sizeof(d));
}

struct vmgenid_aml *vmgenid_aml_irq_no_flags(struct vmgenid_aml_ctx *ctx, uint8_t irq)
{
	uint8_t d[3];

	if (!ctx)
		return NULL;
	if (irq > 15) {
		aml_fail(ctx, "IRQNoFlags: IRQ %u is not one of 0-15.", irq);
		return &ctx->dummy;
	}
	d[0] = 0x22; /* small item: IRQ descriptor (0x04), length 2: no flags byte */
	vmgenid_put_le16(d + 1, (uint16_t)(1u << irq)); /* IRQ mask */
	return descriptor_new(ctx, "IRQNoFlags", d, sizeof(d));
}

struct vmgenid_aml *vmgenid_aml_interrupt(struct vmgenid_aml_ctx *ctx, unsigned int flags, uint32_t irq)
{
	const unsigned int known = VMGENID_AML_INT_CONSUMER | VMGENID_AML_INT_EDGE | VMGENID_AML_INT_ACTIVE_LOW |
				   VMGENID_AML_INT_SHARED;
	uint8_t d[9];

	if (!ctx)
		return NULL;
	if (flags & ~known) {
		aml_fail(ctx, "Interrupt: unknown flags 0x%X.", flags & ~known);
		return &ctx->dummy;
	}
	d[0] = 0x89; /* large item: Extended Interrupt descriptor (0x09) */
	vmgenid_put_le16(d + 1, 6); /* length after this field, with one interrupt */
	d[3] = (uint8_t)flags; /* the enum bits are the descriptor's flag bits */
	d[4] = 1; /* interrupt table length */
	vmgenid_put_le32(d + 5, irq);
	return descriptor_new(ctx, "Interrupt", d, sizeof(d));
}

struct vmgenid_aml *vmgenid_aml_memory32_fixed(struct vmgenid_aml_ctx *ctx, bool rw, uint32_t base, uint32_t length)
{
	uint8_t d[12];

	d[0] = 0x86; /* large item: 32-bit Fixed Memory Range descriptor (0x06) */
	vmgenid_put_le16(d + 1, 9); /* length after this field */
	d[3] = rw ? 0x01 : 0x00; /* Information: bit 0 = read/write */
	vmgenid_put_le32(d + 4, base);
	vmgenid_put_le32(d + 8, length);
	return descriptor_new(ctx, "Memory32Fixed", d, sizeof(d));
}
