// SPDX-License-Identifier: MIT
/*
 * The AML reader's evaluator (see aml_eval.h for what it knows).  ADDR
 * methods are run statement by statement over the same bounds-checked
 * cursor as the structural walk, with a step budget, so a hostile method
 * can neither loop nor read outside its table.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmgenid/endian.h"

#include "aml_eval.h"

#define EVAL_STEPS 4096 /* terms one evaluation may run */
#define LOCAL_NAMES 8   /* Name()s declared inside the evaluated method */

#define NSLOTS (8 + LOCAL_NAMES)

struct eval {
	struct aml_parser p;
	char scope[AML_READER_PATH_MAX];
	const char *what;  /* "ADDR", "_HID": for messages */
	uint64_t mask;
	struct aml_val slot[NSLOTS]; /* Local0-7, then the method's own Name()s */
	uint8_t slot_seg[LOCAL_NAMES][4];
	unsigned int nnames;
	unsigned int *steps;
	bool returned;
	struct aml_val ret;
};

static int eval_term(struct eval *e, size_t end, unsigned int depth, struct aml_val *out);

static void eval_init(struct eval *e, struct aml_ns *r, unsigned int ti, size_t pos,
		      const char *scope, const char *what, unsigned int *steps)
{
	memset(e, 0, sizeof(*e));
	aml_parse_init(&e->p, r, ti, pos);
	snprintf(e->scope, sizeof(e->scope), "%s", scope);
	e->what = what;
	e->mask = r->tables[ti].int32 ? 0xFFFFFFFFu : UINT64_MAX;
	e->steps = steps;
}

static const char *op_name(uint16_t code)
{
	const struct aml_opinfo *op = aml_parse_opcode(code);

	return op ? op->name : "an unknown opcode";
}

/* The value a reference designates; other values as they are. */
static int deref(struct eval *e, size_t off, const struct aml_val *v, struct aml_val *out)
{
	const struct aml_val *pkg;
	const struct aml_elem *el;

	if (v->type != V_REF) {
		*out = *v;
		return 0;
	}
	pkg = &e->slot[v->slot];
	if (pkg->type != V_PKG || v->idx >= pkg->count)
		return aml_parse_fail(&e->p, off, -EINVAL, "%s: reference to a package element that does "
				      "not exist", e->what);
	el = &pkg->el[v->idx];
	if (el->type == V_UNSET)
		return aml_parse_fail(&e->p, off, -EINVAL, "%s: reads element %llu of a package before it "
				      "is set", e->what, (unsigned long long)v->idx);
	memset(out, 0, sizeof(*out));
	out->type = el->type;
	out->i = el->i;
	out->s = el->s;
	return 0;
}

static int eval_int(struct eval *e, size_t end, unsigned int depth, uint64_t *v)
{
	size_t off = e->p.pos;
	struct aml_val x, y;
	int ret = eval_term(e, end, depth, &x);

	if (!ret)
		ret = deref(e, off, &x, &y);
	if (ret)
		return ret;
	if (y.type != V_INT)
		return aml_parse_fail(&e->p, off, -ENOTSUP, "%s: operand is not an integer", e->what);
	*v = y.i & e->mask;
	return 0;
}

/* A method-local Name() with this segment, or -1. */
static int local_name(const struct eval *e, const struct aml_name *n)
{
	unsigned int i;

	if (n->root || n->up || n->nseg != 1)
		return -1;
	for (i = 0; i < e->nnames; i++) {
		if (!memcmp(e->slot_seg[i], n->segs, 4))
			return (int)(8 + i);
	}
	return -1;
}

static int eval_name(struct eval *e, size_t end, unsigned int depth, struct aml_val *out)
{
	char path[AML_READER_PATH_MAX];
	size_t off = e->p.pos;
	struct aml_name n;
	struct aml_obj *o;
	int ret, s;

	ret = aml_parse_name(&e->p, end, &n);
	if (ret)
		return ret;
	s = local_name(e, &n);
	if (s >= 0) {
		*out = e->slot[s];
		return 0;
	}
	o = aml_parse_lookup(e->p.r, e->scope, &n);
	if (!o && e->p.r->too_complex)
		return aml_parse_fail_complex(&e->p, off);
	if (!o) {
		if (aml_parse_path_join(e->scope, &n, path, sizeof(path)))
			snprintf(path, sizeof(path), "(a bad name)");
		return aml_parse_fail(&e->p, off, -EINVAL, "%s refers to %s, which no table defines",
				      e->what, path);
	}
	switch (o->type) {
	case OBJ_NAME: {
		struct aml_reader_error inner;

		ret = aml_eval_name(e->p.r, o, depth + 1, e->steps, out, &inner);
		if (ret && !e->p.err) {
			/* Where the referenced value went wrong says the most. */
			e->p.err = ret;
			e->p.error = inner;
		}
		return ret;
	}
	case OBJ_FIELD:
		return aml_parse_fail(&e->p, off, -ENOTSUP, "%s reads %s, a field whose value exists only "
				      "at run time (in the VMM's memory or I/O space)", e->what, o->path);
	case OBJ_METHOD:
	case OBJ_EXTERNAL:
		return aml_parse_fail(&e->p, off, -ENOTSUP, "%s calls method %s, which this reader does not "
				      "follow", e->what, o->path);
	default:
		return aml_parse_fail(&e->p, off, -ENOTSUP, "%s reads %s, which is not a data object",
				      e->what, o->path);
	}
}

static int eval_package(struct eval *e, size_t off, size_t end, unsigned int depth, bool var,
			struct aml_val *out)
{
	size_t pkg_end;
	uint64_t count;
	unsigned int i;
	int ret;

	ret = aml_parse_pkglen(&e->p, end, &pkg_end, var ? "VarPackage" : "Package", off);
	if (ret)
		return ret;
	if (var) {
		ret = eval_int(e, pkg_end, depth + 1, &count);
	} else {
		ret = aml_parse_need(&e->p, pkg_end, 1, "Package");
		count = ret ? 0 : aml_parse_peek(&e->p, 0);
		e->p.pos += ret ? 0 : 1;
	}
	if (ret)
		return ret;
	if (count > AML_EVAL_PKG_MAX)
		return aml_parse_fail(&e->p, off, -ENOTSUP, "%s: package of %llu elements (this reader "
											   "holds at most %d)", e->what, (unsigned long long)count, AML_EVAL_PKG_MAX);
	memset(out, 0, sizeof(*out));
	out->type = V_PKG;
	out->count = (unsigned int)count;
	for (i = 0; e->p.pos < pkg_end; i++) {
		size_t el_off = e->p.pos;
		struct aml_val v;

		if (i >= out->count)
			return aml_parse_fail(&e->p, el_off, -EINVAL, "%s: package lists more elements than "
					      "its count of %u", e->what, out->count);
		if (aml_parse_name_start(aml_parse_peek(&e->p, 0)))
			ret = eval_name(e, pkg_end, depth + 1, &v);
		else if (aml_parse_is_data(&e->p, pkg_end))
			ret = eval_term(e, pkg_end, depth + 1, &v);
		else
			ret = aml_parse_fail(&e->p, el_off, -EINVAL, "opcode 0x%02x in a package",
					     aml_parse_peek(&e->p, 0));
		if (ret)
			return ret;
		if (v.type != V_INT && v.type != V_STR)
			return aml_parse_fail(&e->p, el_off, -ENOTSUP, "%s: nested package", e->what);
		out->el[i].type = v.type;
		out->el[i].i = v.i & e->mask;
		out->el[i].s = v.s;
	}
	return 0;
}

enum target_kind { TGT_NONE, TGT_SLOT, TGT_ELEM };

struct target {
	enum target_kind kind;
	unsigned int slot;
	uint64_t idx;
};

/* The object operand of Index() when it is written through: a slot. */
static int eval_slot_operand(struct eval *e, size_t end, unsigned int *slot)
{
	size_t off = e->p.pos;
	struct aml_name n;
	uint8_t b;
	int ret, s;

	ret = aml_parse_need(&e->p, end, 1, "Index operand");
	if (ret)
		return ret;
	b = aml_parse_peek(&e->p, 0);
	if (b >= OP_LOCAL0 && b <= OP_LOCAL7) {
		e->p.pos++;
		*slot = (unsigned int)(b - OP_LOCAL0);
		return 0;
	}
	if (aml_parse_name_start(b)) {
		ret = aml_parse_name(&e->p, end, &n);
		if (ret)
			return ret;
		s = local_name(e, &n);
		if (s >= 0) {
			*slot = (unsigned int)s;
			return 0;
		}
		return aml_parse_fail(&e->p, off, -ENOTSUP, "%s writes into a package outside the method; "
				      "not evaluated", e->what);
	}
	return aml_parse_fail(&e->p, off, -ENOTSUP, "%s: Index into something other than a local or "
			      "a Name of the method", e->what);
}

static int eval_target(struct eval *e, size_t end, unsigned int depth, struct target *t)
{
	size_t off = e->p.pos;
	struct aml_name n;
	uint64_t idx;
	uint8_t b;
	int ret, s;

	memset(t, 0, sizeof(*t));
	ret = aml_parse_need(&e->p, end, 1, "target");
	if (ret)
		return ret;
	b = aml_parse_peek(&e->p, 0);
	if (b == 0x00) {
		e->p.pos++;
		return 0;
	}
	if (b >= OP_LOCAL0 && b <= OP_LOCAL7) {
		e->p.pos++;
		t->kind = TGT_SLOT;
		t->slot = (unsigned int)(b - OP_LOCAL0);
		return 0;
	}
	if (b == OP_EXT && e->p.pos + 1 < end && aml_parse_peek(&e->p, 1) == (OP_X_DEBUG & 0xFF)) {
		e->p.pos += 2;
		return 0;
	}
	if (aml_parse_name_start(b)) {
		ret = aml_parse_name(&e->p, end, &n);
		if (ret)
			return ret;
		s = local_name(e, &n);
		if (s < 0)
			return aml_parse_fail(&e->p, off, -ENOTSUP, "%s writes to a namespace object; "
					      "not evaluated", e->what);
		t->kind = TGT_SLOT;
		t->slot = (unsigned int)s;
		return 0;
	}
	if (b == OP_INDEX) {
		e->p.pos++;
		ret = eval_slot_operand(e, end, &t->slot);
		if (!ret)
			ret = eval_int(e, end, depth + 1, &idx);
		if (ret)
			return ret;
		ret = aml_parse_need(&e->p, end, 1, "Index target");
		if (ret)
			return ret;
		if (aml_parse_peek(&e->p, 0) != 0x00)
			return aml_parse_fail(&e->p, e->p.pos, -ENOTSUP, "%s: Index with a target of its own "
					      "used as a target", e->what);
		e->p.pos++;
		t->kind = TGT_ELEM;
		t->idx = idx;
		return 0;
	}
	return aml_parse_fail(&e->p, off, -ENOTSUP, "%s stores into %s, which this reader does not "
			      "evaluate", e->what, op_name(b));
}

static int store(struct eval *e, size_t off, const struct target *t, const struct aml_val *v)
{
	struct aml_val *pkg;
	struct aml_val x;
	int ret;

	switch (t->kind) {
	case TGT_NONE:
		return 0;
	case TGT_SLOT:
		e->slot[t->slot] = *v;
		return 0;
	case TGT_ELEM:
		pkg = &e->slot[t->slot];
		if (pkg->type != V_PKG)
			return aml_parse_fail(&e->p, off, -EINVAL, "%s: Index into something that is not "
					      "a package", e->what);
		if (t->idx >= pkg->count)
			return aml_parse_fail(&e->p, off, -EINVAL, "%s: Index %llu is outside the package of "
					      "%u elements", e->what, (unsigned long long)t->idx, pkg->count);
		ret = deref(e, off, v, &x);
		if (ret)
			return ret;
		if (x.type != V_INT && x.type != V_STR)
			return aml_parse_fail(&e->p, off, -ENOTSUP, "%s: nested package", e->what);
		pkg->el[t->idx].type = x.type;
		pkg->el[t->idx].i = x.i;
		pkg->el[t->idx].s = x.s;
		return 0;
	}
	return -EINVAL;
}

static uint64_t arith(uint16_t op, uint64_t a, uint64_t b)
{
	switch (op) {
	case OP_ADD: return a + b;
	case OP_SUBTRACT: return a - b;
	case OP_MULTIPLY: return a * b;
	case OP_SHIFT_LEFT: return b >= 64 ? 0 : a << b;
	case OP_SHIFT_RIGHT: return b >= 64 ? 0 : a >> b;
	case OP_AND: return a & b;
	case OP_OR: return a | b;
	default: return a ^ b;
	}
}

static int eval_const(struct eval *e, size_t end, uint8_t b, struct aml_val *out)
{
	size_t n = b == OP_BYTE ? 1 : b == OP_WORD ? 2 : b == OP_DWORD ? 4 : 8;
	const uint8_t *d;
	int ret = aml_parse_need(&e->p, end, n, op_name(b));

	if (ret)
		return ret;
	d = e->p.t->data + e->p.pos;
	out->type = V_INT;
	out->i = n == 1 ? d[0] : n == 2 ? vmgenid_get_le16(d) : n == 4 ? vmgenid_get_le32(d) : vmgenid_get_le64(d);
	out->i &= e->mask;
	e->p.pos += n;
	return 0;
}

static int eval_term(struct eval *e, size_t end, unsigned int depth, struct aml_val *out)
{
	size_t off = e->p.pos;
	struct target t;
	uint64_t a, b2;
	struct aml_name n;
	uint16_t code;
	uint8_t b;
	int ret;

	memset(out, 0, sizeof(*out));
	if (depth > AML_MAX_DEPTH)
		return aml_parse_fail(&e->p, off, -EINVAL, "%s: terms nested deeper than %d levels",
				      e->what, AML_MAX_DEPTH);
	if (++*e->steps > EVAL_STEPS)
		return aml_parse_fail(&e->p, off, -ENOTSUP, "%s takes more than %d steps to evaluate",
				      e->what, EVAL_STEPS);
	ret = aml_parse_need(&e->p, end, 1, "term");
	if (ret)
		return ret;
	b = aml_parse_peek(&e->p, 0);
	if (b >= OP_LOCAL0 && b <= OP_LOCAL7) {
		e->p.pos++;
		*out = e->slot[b - OP_LOCAL0];
		if (out->type == V_UNSET)
			return aml_parse_fail(&e->p, off, -EINVAL, "%s reads Local%d before setting it",
					      e->what, b - OP_LOCAL0);
		return 0;
	}
	if (b >= OP_ARG0 && b <= OP_ARG6)
		return aml_parse_fail(&e->p, off, -ENOTSUP, "%s reads Arg%d, but it is evaluated without "
				      "arguments", e->what, b - OP_ARG0);
	if (aml_parse_name_start(b))
		return eval_name(e, end, depth, out);
	code = b;
	if (b == OP_EXT) {
		ret = aml_parse_need(&e->p, end, 2, "extended opcode");
		if (ret)
			return ret;
		code = (uint16_t)(OP_EXT << 8 | aml_parse_peek(&e->p, 1));
	}
	e->p.pos += code > 0xFF ? 2 : 1;
	switch (code) {
	case OP_ZERO:
	case OP_ONE:
	case OP_ONES:
		out->type = V_INT;
		out->i = (b == OP_ZERO ? 0 : b == OP_ONE ? 1 : UINT64_MAX) & e->mask;
		return 0;
	case OP_BYTE:
	case OP_WORD:
	case OP_DWORD:
	case OP_QWORD:
		return eval_const(e, end, b, out);
	case OP_X_REVISION:
		out->type = V_INT;
		out->i = 2;
		return 0;
	case OP_STRING: {
		const uint8_t *s = e->p.t->data + e->p.pos;
		const uint8_t *nul = e->p.pos < end ? memchr(s, 0, end - e->p.pos) : NULL;

		if (!nul)
			return aml_parse_fail(&e->p, off, -EINVAL, "string is not terminated before the end "
					      "of its enclosing object (0x%zx)", end);
		out->type = V_STR;
		out->s = (const char *)s;
		e->p.pos += (size_t)(nul - s) + 1;
		return 0;
	}
	case OP_PACKAGE:
	case OP_VAR_PACKAGE:
		return eval_package(e, off, end, depth, code == OP_VAR_PACKAGE, out);
	case OP_STORE:
		ret = eval_term(e, end, depth + 1, out);
		if (!ret)
			ret = eval_target(e, end, depth + 1, &t);
		return ret ? ret : store(e, off, &t, out);
	case OP_ADD:
	case OP_SUBTRACT:
	case OP_MULTIPLY:
	case OP_SHIFT_LEFT:
	case OP_SHIFT_RIGHT:
	case OP_AND:
	case OP_OR:
	case OP_XOR:
		ret = eval_int(e, end, depth + 1, &a);
		if (!ret)
			ret = eval_int(e, end, depth + 1, &b2);
		if (!ret)
			ret = eval_target(e, end, depth + 1, &t);
		if (ret)
			return ret;
		out->type = V_INT;
		out->i = arith(code, a, b2) & e->mask;
		return store(e, off, &t, out);
	case OP_INDEX: {
		struct aml_parser save = e->p;
		unsigned int slot;

		/* A local package: a reference that Store() can write through. */
		if (eval_slot_operand(e, end, &slot) == 0) {
			ret = eval_int(e, end, depth + 1, &a);
			if (!ret)
				ret = eval_target(e, end, depth + 1, &t);
			if (ret)
				return ret;
			out->type = V_REF;
			out->slot = slot;
			out->idx = a;
			return store(e, off, &t, out);
		}
		/* Any other package: just the element's value. */
		e->p = save;
		{
			struct aml_val pkg;

			ret = eval_term(e, end, depth + 1, &pkg);
			if (!ret)
				ret = eval_int(e, end, depth + 1, &a);
			if (!ret)
				ret = eval_target(e, end, depth + 1, &t);
			if (ret)
				return ret;
			if (pkg.type != V_PKG || a >= pkg.count || pkg.el[a].type == V_UNSET)
				return aml_parse_fail(&e->p, off, -EINVAL, "%s: Index %llu of something that "
						      "has no such element", e->what, (unsigned long long)a);
			out->type = pkg.el[a].type;
			out->i = pkg.el[a].i;
			out->s = pkg.el[a].s;
			return store(e, off, &t, out);
		}
	}
	case OP_DEREF_OF: {
		struct aml_val r;

		ret = eval_term(e, end, depth + 1, &r);
		return ret ? ret : deref(e, off, &r, out);
	}
	case OP_RETURN: {
		struct aml_val r;

		ret = eval_term(e, end, depth + 1, &r);
		if (!ret)
			ret = deref(e, off, &r, &e->ret);
		if (ret)
			return ret;
		e->returned = true;
		out->type = V_UNSET;
		return 0;
	}
	case OP_NOOP:
		return 0;
	case OP_NAME:
		ret = aml_parse_name(&e->p, end, &n);
		if (ret)
			return ret;
		if (n.root || n.up || n.nseg != 1)
			return aml_parse_fail(&e->p, off, -ENOTSUP, "%s declares a Name outside itself",
					      e->what);
		if (e->nnames >= LOCAL_NAMES)
			return aml_parse_fail(&e->p, off, -ENOTSUP, "%s declares more than %d Names",
					      e->what, LOCAL_NAMES);
		ret = aml_parse_need(&e->p, end, 1, "Name value");
		if (ret)
			return ret;
		if (!aml_parse_is_data(&e->p, end))
			return aml_parse_fail(&e->p, e->p.pos, -EINVAL, "%s: Name value is not a data "
					      "object", e->what);
		ret = eval_term(e, end, depth + 1, out);
		if (ret)
			return ret;
		memcpy(e->slot_seg[e->nnames], n.segs, 4);
		e->slot[8 + e->nnames++] = *out;
		return 0;
	default:
		return aml_parse_fail(&e->p, off, -ENOTSUP, "%s uses %s (0x%0*x), which this reader does "
				      "not evaluate", e->what, op_name(code), code > 0xFF ? 4 : 2, code);
	}
}

/* The value of a Name() object (depth guards Names that refer to each other). */
int aml_eval_name(struct aml_ns *r, const struct aml_obj *o, unsigned int depth,
		  unsigned int *steps, struct aml_val *out, struct aml_reader_error *err)
{
	char scope[AML_READER_PATH_MAX];
	struct eval *e;
	int ret;

	/* Heap, not stack: these nest once per Name that refers to another. */
	e = malloc(sizeof(*e));
	if (!e)
		return -ENOMEM;
	snprintf(scope, sizeof(scope), "%s", o->path);
	aml_parse_path_up(scope);
	eval_init(e, r, o->table, o->start, scope, o->path, steps);
	if (depth > AML_MAX_DEPTH)
		ret = aml_parse_fail(&e->p, o->start, -EINVAL, "Names refer to each other more than %d "
				     "levels deep", AML_MAX_DEPTH);
	else
		ret = eval_term(e, o->end, depth, out);
	if (!ret && out->type == V_REF)
		ret = aml_parse_fail(&e->p, o->start, -EINVAL, "a Name holds a reference");
	if (ret && err)
		*err = e->p.error;
	free(e);
	return ret;
}

int aml_eval_method(struct aml_ns *r, const struct aml_obj *m, struct aml_val *out,
		    struct aml_reader_error *err)
{
	unsigned int steps = 0;
	struct eval *e = malloc(sizeof(*e));
	int ret = 0;

	if (!e)
		return -ENOMEM;
	eval_init(e, r, m->table, m->start, m->path, "ADDR", &steps);
	if (m->nargs)
		ret = aml_parse_fail(&e->p, m->start, -ENOTSUP, "ADDR takes %u arguments", m->nargs);
	while (!ret && !e->returned && e->p.pos < m->end) {
		struct aml_val v;

		ret = eval_term(e, m->end, 1, &v);
	}
	if (!ret && !e->returned)
		ret = aml_parse_fail(&e->p, m->start, -EINVAL, "ADDR ends without returning a value");
	if (ret)
		*err = e->p.error;
	else
		*out = e->ret;
	free(e);
	return ret;
}
