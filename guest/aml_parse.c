// SPDX-License-Identifier: MIT
/*
 * The structural walk of the AML reader (ACPI 6.x chapter 20 grammar):
 * PkgLengths, names, the namespace, and a table-driven parser of terms.
 *
 * Pass 1 (declare) walks containers and records every named object with its
 * absolute path and where its bytes are; Method bodies are stepped over by
 * their PkgLength.  Pass 3 (scan) walks the bodies of event methods, noting
 * Notify (x, 0x80) and the methods they call.  A PkgLength must fit inside
 * its enclosing object; recursion is bounded by AML_MAX_DEPTH.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmgenid/endian.h"

#include "aml_parse.h"

#define MAX_OBJECTS 32768 /* named objects over all tables */

static const struct aml_opinfo opcodes[] = {
	{ 0x00, "Zero", "", 0, OBJ_NONE },
	{ 0x01, "One", "", 0, OBJ_NONE },
	{ 0x06, "Alias", "nn", 2, OBJ_OTHER },
	{ 0x08, "Name", "nD", 1, OBJ_NAME },
	{ 0x0A, "BytePrefix", "b", 0, OBJ_NONE },
	{ 0x0B, "WordPrefix", "w", 0, OBJ_NONE },
	{ 0x0C, "DWordPrefix", "d", 0, OBJ_NONE },
	{ 0x0D, "String", "z", 0, OBJ_NONE },
	{ 0x0E, "QWordPrefix", "q", 0, OBJ_NONE },
	{ 0x10, "Scope", "pnL", 1, OBJ_NONE },
	{ 0x11, "Buffer", "ptR", 0, OBJ_NONE },
	{ 0x12, "Package", "pbE", 0, OBJ_NONE },
	{ 0x13, "VarPackage", "ptE", 0, OBJ_NONE },
	{ 0x14, "Method", "pnbR", 1, OBJ_METHOD },
	{ 0x15, "External", "nbb", 1, OBJ_EXTERNAL },
	{ 0x70, "Store", "ts", 0, OBJ_NONE },
	{ 0x71, "RefOf", "s", 0, OBJ_NONE },
	{ 0x72, "Add", "ttT", 0, OBJ_NONE },
	{ 0x73, "Concatenate", "ttT", 0, OBJ_NONE },
	{ 0x74, "Subtract", "ttT", 0, OBJ_NONE },
	{ 0x75, "Increment", "s", 0, OBJ_NONE },
	{ 0x76, "Decrement", "s", 0, OBJ_NONE },
	{ 0x77, "Multiply", "ttT", 0, OBJ_NONE },
	{ 0x78, "Divide", "ttTT", 0, OBJ_NONE },
	{ 0x79, "ShiftLeft", "ttT", 0, OBJ_NONE },
	{ 0x7A, "ShiftRight", "ttT", 0, OBJ_NONE },
	{ 0x7B, "And", "ttT", 0, OBJ_NONE },
	{ 0x7C, "NAnd", "ttT", 0, OBJ_NONE },
	{ 0x7D, "Or", "ttT", 0, OBJ_NONE },
	{ 0x7E, "NOr", "ttT", 0, OBJ_NONE },
	{ 0x7F, "XOr", "ttT", 0, OBJ_NONE },
	{ 0x80, "Not", "tT", 0, OBJ_NONE },
	{ 0x81, "FindSetLeftBit", "tT", 0, OBJ_NONE },
	{ 0x82, "FindSetRightBit", "tT", 0, OBJ_NONE },
	{ 0x83, "DerefOf", "t", 0, OBJ_NONE },
	{ 0x84, "ConcatenateResTemplate", "ttT", 0, OBJ_NONE },
	{ 0x85, "Mod", "ttT", 0, OBJ_NONE },
	{ 0x86, "Notify", "st", 0, OBJ_NONE },
	{ 0x87, "SizeOf", "s", 0, OBJ_NONE },
	{ 0x88, "Index", "ttT", 0, OBJ_NONE },
	{ 0x89, "Match", "tbtbtt", 0, OBJ_NONE },
	{ 0x8A, "CreateDWordField", "ttn", 1, OBJ_FIELD },
	{ 0x8B, "CreateWordField", "ttn", 1, OBJ_FIELD },
	{ 0x8C, "CreateByteField", "ttn", 1, OBJ_FIELD },
	{ 0x8D, "CreateBitField", "ttn", 1, OBJ_FIELD },
	{ 0x8E, "ObjectType", "s", 0, OBJ_NONE },
	{ 0x8F, "CreateQWordField", "ttn", 1, OBJ_FIELD },
	{ 0x90, "LAnd", "tt", 0, OBJ_NONE },
	{ 0x91, "LOr", "tt", 0, OBJ_NONE },
	{ 0x92, "LNot", "t", 0, OBJ_NONE },
	{ 0x93, "LEqual", "tt", 0, OBJ_NONE },
	{ 0x94, "LGreater", "tt", 0, OBJ_NONE },
	{ 0x95, "LLess", "tt", 0, OBJ_NONE },
	{ 0x96, "ToBuffer", "tT", 0, OBJ_NONE },
	{ 0x97, "ToDecimalString", "tT", 0, OBJ_NONE },
	{ 0x98, "ToHexString", "tT", 0, OBJ_NONE },
	{ 0x99, "ToInteger", "tT", 0, OBJ_NONE },
	{ 0x9C, "ToString", "ttT", 0, OBJ_NONE },
	{ 0x9D, "CopyObject", "ts", 0, OBJ_NONE },
	{ 0x9E, "Mid", "tttT", 0, OBJ_NONE },
	{ 0x9F, "Continue", "", 0, OBJ_NONE },
	{ 0xA0, "If", "ptL", 0, OBJ_NONE },
	{ 0xA1, "Else", "pL", 0, OBJ_NONE },
	{ 0xA2, "While", "ptL", 0, OBJ_NONE },
	{ 0xA3, "Noop", "", 0, OBJ_NONE },
	{ 0xA4, "Return", "t", 0, OBJ_NONE },
	{ 0xA5, "Break", "", 0, OBJ_NONE },
	{ 0xCC, "BreakPoint", "", 0, OBJ_NONE },
	{ 0xFF, "Ones", "", 0, OBJ_NONE },
	{ 0x5B01, "Mutex", "nb", 1, OBJ_OTHER },
	{ 0x5B02, "Event", "n", 1, OBJ_OTHER },
	{ 0x5B12, "CondRefOf", "sT", 0, OBJ_NONE },
	{ 0x5B13, "CreateField", "tttn", 1, OBJ_FIELD },
	{ 0x5B1F, "LoadTable", "tttttt", 0, OBJ_NONE },
	{ 0x5B20, "Load", "ns", 0, OBJ_NONE },
	{ 0x5B21, "Stall", "t", 0, OBJ_NONE },
	{ 0x5B22, "Sleep", "t", 0, OBJ_NONE },
	{ 0x5B23, "Acquire", "sw", 0, OBJ_NONE },
	{ 0x5B24, "Signal", "s", 0, OBJ_NONE },
	{ 0x5B25, "Wait", "st", 0, OBJ_NONE },
	{ 0x5B26, "Reset", "s", 0, OBJ_NONE },
	{ 0x5B27, "Release", "s", 0, OBJ_NONE },
	{ 0x5B28, "FromBCD", "tT", 0, OBJ_NONE },
	{ 0x5B29, "ToBCD", "tT", 0, OBJ_NONE },
	{ 0x5B2A, "Unload", "s", 0, OBJ_NONE },
	{ 0x5B30, "Revision", "", 0, OBJ_NONE },
	{ 0x5B31, "Debug", "", 0, OBJ_NONE },
	{ 0x5B32, "Fatal", "bdt", 0, OBJ_NONE },
	{ 0x5B33, "Timer", "", 0, OBJ_NONE },
	{ 0x5B80, "OperationRegion", "nbtt", 1, OBJ_OTHER },
	{ 0x5B81, "Field", "pnbR", 0, OBJ_NONE },
	{ 0x5B82, "Device", "pnL", 1, OBJ_DEVICE },
	{ 0x5B83, "Processor", "pnbdbL", 1, OBJ_OTHER },
	{ 0x5B84, "PowerResource", "pnbwL", 1, OBJ_OTHER },
	{ 0x5B85, "ThermalZone", "pnL", 1, OBJ_OTHER },
	{ 0x5B86, "IndexField", "pnnbR", 0, OBJ_NONE },
	{ 0x5B87, "BankField", "pnntbR", 0, OBJ_NONE },
	{ 0x5B88, "DataRegion", "nttt", 1, OBJ_OTHER },
};

const struct aml_opinfo *aml_parse_opcode(uint16_t code)
{
	size_t i;

	for (i = 0; i < sizeof(opcodes) / sizeof(opcodes[0]); i++) {
		if (opcodes[i].code == code)
			return &opcodes[i];
	}
	return NULL;
}

void aml_parse_error_set(struct aml_reader_error *e, const char *table, size_t offset,
			 const char *fmt, va_list ap)
{
	snprintf(e->table, sizeof(e->table), "%s", table ? table : "");
	e->offset = offset;
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
}

int aml_parse_fail(struct aml_parser *p, size_t off, int err, const char *fmt, ...)
{
	va_list ap;

	if (!p->err) {
		p->err = err;
		va_start(ap, fmt);
		aml_parse_error_set(&p->error, p->t->name, off, fmt, ap);
		va_end(ap);
	}
	return err;
}

void aml_parse_skip_note(struct aml_parser *p, size_t off, const char *fmt, ...)
{
	struct aml_reader_report *rep = p->r->report;
	va_list ap;

	if (rep->nskipped++ == 0) {
		va_start(ap, fmt);
		aml_parse_error_set(&rep->skipped, p->t->name, off, fmt, ap);
		va_end(ap);
	}
}

void aml_parse_init(struct aml_parser *p, struct aml_ns *r, unsigned int ti, size_t pos)
{
	memset(p, 0, sizeof(*p));
	p->r = r;
	p->ti = ti;
	p->t = &r->tables[ti];
	p->pos = pos;
}

/* At least n bytes left before end. */
int aml_parse_need(struct aml_parser *p, size_t end, size_t n, const char *what)
{
	if (p->pos > end || end - p->pos < n)
		return aml_parse_fail(p, p->pos, -EINVAL, "%s runs past the end of its enclosing object "
				      "(which ends at 0x%zx)", what, end);
	return 0;
}


/* --- Encodings ------------------------------------------------------------- */

/* The value of a PkgLength (a byte count, or a bit count inside a field list). */
static int read_pkglen_value(struct aml_parser *p, size_t end, size_t *value)
{
	size_t off = p->pos, v;
	unsigned int nbytes, i;
	uint8_t lead;
	int ret;

	ret = aml_parse_need(p, end, 1, "PkgLength");
	if (ret)
		return ret;
	lead = aml_parse_peek(p, 0);
	nbytes = lead >> 6;
	if (nbytes == 0) {
		v = lead & 0x3F;
	} else {
		if (lead & 0x30)
			return aml_parse_fail(p, off, -EINVAL, "PkgLength lead byte 0x%02x has reserved "
					      "bits 4-5 set", lead);
		ret = aml_parse_need(p, end, 1 + nbytes, "PkgLength");
		if (ret)
			return ret;
		v = lead & 0x0F;
		for (i = 1; i <= nbytes; i++)
			v |= (size_t)aml_parse_peek(p, i) << (4 + 8 * (i - 1));
	}
	p->pos += 1 + nbytes;
	*value = v;
	return 0;
}

/* A PkgLength that delimits an object: it must fit in [its start, end). */
int aml_parse_pkglen(struct aml_parser *p, size_t end, size_t *pkg_end, const char *what,
		     size_t op_off)
{
	size_t start = p->pos, len;
	int ret = read_pkglen_value(p, end, &len);

	if (ret)
		return ret;
	if (len < p->pos - start)
		return aml_parse_fail(p, start, -EINVAL, "%s at 0x%zx: PkgLength %zu is shorter than its "
				      "own encoding", what, op_off, len);
	if (len > end - start)
		return aml_parse_fail(p, start, -EINVAL, "%s at 0x%zx: PkgLength 0x%zx goes past the end of "
				      "the enclosing object (0x%zx bytes left)", what, op_off, len,
			    end - start);
	*pkg_end = start + len;
	return 0;
}

static bool lead_char(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') || c == '_';
}

static bool name_char(uint8_t c)
{
	return lead_char(c) || (c >= '0' && c <= '9');
}

bool aml_parse_name_start(uint8_t c)
{
	return lead_char(c) || c == OP_ROOT || c == OP_PARENT || c == OP_DUAL_NAME ||
	       c == OP_MULTI_NAME;
}

int aml_parse_name(struct aml_parser *p, size_t end, struct aml_name *n)
{
	size_t off = p->pos;
	unsigned int i, j;
	int ret;

	memset(n, 0, sizeof(*n));
	if (p->pos < end && aml_parse_peek(p, 0) == OP_ROOT) {
		n->root = true;
		p->pos++;
	} else {
		while (p->pos < end && aml_parse_peek(p, 0) == OP_PARENT) {
			n->up++;
			p->pos++;
		}
	}
	ret = aml_parse_need(p, end, 1, "name string");
	if (ret)
		return ret;
	switch (aml_parse_peek(p, 0)) {
	case 0x00: /* NullName */
		p->pos++;
		return 0;
	case OP_DUAL_NAME:
		p->pos++;
		n->nseg = 2;
		break;
	case OP_MULTI_NAME:
		p->pos++;
		ret = aml_parse_need(p, end, 1, "name string");
		if (ret)
			return ret;
		n->nseg = aml_parse_peek(p, 0);
		p->pos++;
		if (n->nseg == 0)
			return aml_parse_fail(p, off, -EINVAL, "MultiNamePrefix with a segment count of 0");
		break;
	default:
		n->nseg = 1;
	}
	ret = aml_parse_need(p, end, 4 * (size_t)n->nseg, "name string");
	if (ret)
		return ret;
	n->segs = p->t->data + p->pos;
	for (i = 0; i < n->nseg; i++) {
		const uint8_t *s = n->segs + 4 * i;

		for (j = 0; j < 4; j++) {
			if (!(j == 0 ? lead_char(s[j]) : name_char(s[j])))
				return aml_parse_fail(p, p->pos + 4 * i + j, -EINVAL,
						      "byte 0x%02x is not valid in a name segment", s[j]);
		}
	}
	p->pos += 4 * (size_t)n->nseg;
	return 0;
}

/* Paths are "\\" or "\\SEG1.SEG2"; cut the last segment. */
void aml_parse_path_up(char *path)
{
	char *dot = strrchr(path, '.');

	if (dot)
		*dot = '\0';
	else
		path[1] = '\0';
}


/* scope + name (no search rules); -EINVAL above the root, -ENAMETOOLONG. */
int aml_parse_path_join(const char *scope, const struct aml_name *n, char *out, size_t cap)
{
	size_t len;
	unsigned int i;

	if (n->root || strlen(scope) >= cap) {
		snprintf(out, cap, "\\");
	} else {
		snprintf(out, cap, "%s", scope);
		for (i = 0; i < n->up; i++) {
			if (aml_parse_path_is_root(out))
				return -EINVAL;
			aml_parse_path_up(out);
		}
	}
	len = strlen(out);
	for (i = 0; i < n->nseg; i++) {
		bool root = len == 1;

		if (len + (root ? 4 : 5) >= cap)
			return -ENAMETOOLONG;
		if (!root)
			out[len++] = '.';
		memcpy(out + len, n->segs + 4 * i, 4);
		len += 4;
		out[len] = '\0';
	}
	return 0;
}

static int join_or_fail(struct aml_parser *p, size_t off, const char *scope,
			const struct aml_name *n, char *out, size_t cap)
{
	int ret = aml_parse_path_join(scope, n, out, cap);

	if (ret == -EINVAL)
		return aml_parse_fail(p, off, -EINVAL, "name with ^ prefixes climbs above the root "
				      "(from scope %s)", scope);
	if (ret)
		return aml_parse_fail(p, off, -EINVAL, "name path under %s is longer than %d characters",
				      scope, AML_READER_PATH_MAX - 1);
	return 0;
}

/* --- Namespace --------------------------------------------------------------- */

/*
 * Paths are hashed with 64-bit FNV-1a, which runs byte by byte: the hash of
 * "\\A.B.SEG" continues from that of "\\A.B", so the upward search hashes
 * only the segment at each scope.  The slot comes from the hash mixed
 * (MurmurHash3's finalizer), so that its low bits depend on every byte.
 */
#define FNV_BASIS 0xcbf29ce484222325ull
#define FNV_PRIME 0x100000001b3ull

static uint64_t fnv(uint64_t h, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ (uint8_t)s[i]) * FNV_PRIME;
	return h;
}

static size_t slot_of(const struct aml_ns *r, uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return (size_t)h & r->index_mask;
}

/* One more index slot looked at; false once the work bound is reached. */
static bool step(struct aml_ns *r)
{
	if (r->steps >= AML_READER_MAX_STEPS) {
		r->too_complex = true;
		return false;
	}
	r->steps++;
	return true;
}

/* Does path equal a[0..alen) followed by b[0..blen)? */
static bool path_is(const char *path, const char *a, size_t alen, const char *b, size_t blen)
{
	return !memcmp(path, a, alen) && !memcmp(path + alen, b, blen) && !path[alen + blen];
}

/*
 * The index slot of the path a[0..alen) b[0..blen) (hash h): the one holding
 * it, or the empty one where it would go; NULL when the work bound is
 * reached.  In two parts so that the upward search need not copy its scope.
 */
static uint32_t *index_slot(struct aml_ns *r, uint64_t h, const char *a, size_t alen,
			    const char *b, size_t blen)
{
	size_t s;

	if (!r->index)
		return NULL;
	for (s = slot_of(r, h);; s = (s + 1) & r->index_mask) {
		uint32_t *slot = &r->index[s];
		const struct aml_obj *o;

		if (!step(r))
			return NULL;
		if (!*slot)
			return slot;
		o = &r->objs[*slot - 1];
		if (o->hash == h && path_is(o->path, a, alen, b, blen))
			return slot;
	}
}

/* Index objs[i]: a path's first object wins, except that a later real
 * object wins over an External (as the search used to pick them). */
static bool index_add(struct aml_ns *r, size_t i)
{
	struct aml_obj *o = &r->objs[i];
	uint32_t *slot = index_slot(r, o->hash, o->path, strlen(o->path), "", 0);

	if (!slot)
		return false;
	if (!*slot || (r->objs[*slot - 1].type == OBJ_EXTERNAL && o->type != OBJ_EXTERNAL))
		*slot = (uint32_t)(i + 1);
	return true;
}

/* Index objs[0..nobjs) again into nslots slots (a power of two). */
static int index_rebuild(struct aml_ns *r, size_t nslots)
{
	uint32_t *index = calloc(nslots, sizeof(*index));
	size_t i;

	if (!index)
		return -ENOMEM;
	free(r->index);
	r->index = index;
	r->index_mask = nslots - 1;
	for (i = 0; i < r->nobjs; i++) {
		if (!index_add(r, i))
			return -E2BIG;
	}
	return 0;
}

int aml_parse_fail_complex(struct aml_parser *p, size_t off)
{
	return aml_parse_fail(p, off, -E2BIG, "the tables are too complex to read: more than %lu "
			      "name lookup steps", AML_READER_MAX_STEPS);
}

struct aml_obj *aml_parse_find(struct aml_ns *r, const char *path)
{
	size_t len = strlen(path);
	uint32_t *slot = index_slot(r, fnv(FNV_BASIS, path, len), path, len, "", 0);

	return slot && *slot ? &r->objs[*slot - 1] : NULL;
}

/* The object a name refers to from scope, with ACPI's upward search for
 * single-segment relative names. */
struct aml_obj *aml_parse_lookup(struct aml_ns *r, const char *scope, const struct aml_name *n)
{
	char path[AML_READER_PATH_MAX];
	size_t ends[AML_READER_PATH_MAX], nlevels = 0, len, i;
	uint64_t hashes[AML_READER_PATH_MAX], h = FNV_BASIS;
	uint32_t *slot;

	if (n->nseg == 0)
		return NULL;
	if (n->root || n->up || n->nseg > 1) {
		if (aml_parse_path_join(scope, n, path, sizeof(path)))
			return NULL;
		return aml_parse_find(r, path);
	}
	/* The hash of each scope from the root down: "\\", "\\A", "\\A.B"... */
	len = strnlen(scope, sizeof(path) - 1);
	h = fnv(FNV_BASIS, scope, 1);
	ends[0] = 1;
	hashes[0] = h;
	nlevels = 1;
	for (i = 1; len > 1 && i <= len; i++) {
		if (i == len || scope[i] == '.') {
			ends[nlevels] = i;
			hashes[nlevels++] = h;
		}
		if (i < len)
			h = fnv(h, scope + i, 1);
	}
	/* Innermost first; "\\" + SEG has no dot, every other scope has one. */
	while (nlevels--) {
		size_t at = ends[nlevels], seglen = nlevels ? 5 : 4;
		char seg[5] = { '.' };

		if (at + seglen >= sizeof(path))
			continue;
		memcpy(seg + 1, n->segs, 4);
		h = fnv(hashes[nlevels], seg + 5 - seglen, seglen);
		slot = index_slot(r, h, scope, at, seg + 5 - seglen, seglen);
		if (!slot)
			return NULL;
		if (*slot)
			return &r->objs[*slot - 1];
	}
	return NULL;
}

static int declare(struct aml_parser *p, size_t off, const char *path, enum aml_obj_type type,
		   size_t start, size_t end, unsigned int nargs)
{
	struct aml_ns *r = p->r;
	struct aml_obj *o;
	int ret;

	if (r->nobjs == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 256;
		struct aml_obj *objs;

		if (r->cap >= MAX_OBJECTS)
			return aml_parse_fail(p, off, -EINVAL, "more than %d named objects", MAX_OBJECTS);
		objs = realloc(r->objs, cap * sizeof(*objs));
		if (!objs)
			return aml_parse_fail(p, off, -ENOMEM, "out of memory");
		r->objs = objs;
		r->cap = cap;
		ret = index_rebuild(r, 2 * cap);
		if (ret == -ENOMEM)
			return aml_parse_fail(p, off, -ENOMEM, "out of memory");
		if (ret)
			return aml_parse_fail_complex(p, off);
	}
	o = &r->objs[r->nobjs];
	snprintf(o->path, sizeof(o->path), "%s", path);
	o->hash = fnv(FNV_BASIS, o->path, strlen(o->path));
	o->type = type;
	o->table = p->ti;
	o->start = start;
	o->end = end;
	o->nargs = nargs;
	o->scanned = false;
	if (!index_add(r, r->nobjs))
		return aml_parse_fail_complex(p, off);
	r->nobjs++;
	return 0;
}

/* --- Structural walk (passes 1 and 3) ------------------------------------------ */

static int parse_term(struct aml_parser *p, const char *scope, size_t end, unsigned int depth);

int aml_parse_termlist(struct aml_parser *p, const char *scope, size_t end, unsigned int depth)
{
	struct aml_reader_report *rep = p->r->report;

	while (p->pos < end) {
		int ret = parse_term(p, scope, end, depth);

		/*
		 * An opcode we do not know: the rest of this list cannot be
		 * delimited, but the enclosing object's PkgLength still can, so
		 * the namespace walk goes on after it.
		 */
		if (ret == -ENOTSUP && p->declare) {
			if (rep->nskipped++ == 0)
				rep->skipped = p->error;
			p->err = 0;
			p->pos = end;
			return 0;
		}
		if (ret)
			return ret;
	}
	return 0;
}

static int parse_supername(struct aml_parser *p, const char *scope, size_t end, unsigned int depth,
			   char *path, size_t cap)
{
	size_t off = p->pos;
	struct aml_name n;
	uint8_t b;
	int ret;

	if (path)
		path[0] = '\0';
	ret = aml_parse_need(p, end, 1, "operand");
	if (ret)
		return ret;
	b = aml_parse_peek(p, 0);
	if (b >= OP_LOCAL0 && b <= OP_ARG6) {
		p->pos++;
		return 0;
	}
	if (aml_parse_name_start(b)) {
		struct aml_obj *o;

		ret = aml_parse_name(p, end, &n);
		if (ret || !path)
			return ret;
		o = aml_parse_lookup(p->r, scope, &n);
		if (!o && p->r->too_complex)
			return aml_parse_fail_complex(p, off);
		if (o)
			snprintf(path, cap, "%s", o->path);
		else if (aml_parse_path_join(scope, &n, path, cap))
			path[0] = '\0';
		return 0;
	}
	if (b == OP_EXT && p->pos + 1 < end && aml_parse_peek(p, 1) == (OP_X_DEBUG & 0xFF)) {
		p->pos += 2;
		return 0;
	}
	if (b == 0x71 || b == OP_DEREF_OF || b == OP_INDEX)
		return parse_term(p, scope, end, depth + 1);
	return aml_parse_fail(p, off, -EINVAL, "opcode 0x%02x where a name, local, argument or "
			      "reference was expected", b);
}

static int parse_target(struct aml_parser *p, const char *scope, size_t end, unsigned int depth)
{
	int ret = aml_parse_need(p, end, 1, "target");

	if (ret)
		return ret;
	if (aml_parse_peek(p, 0) == 0x00) {
		p->pos++;
		return 0;
	}
	return parse_supername(p, scope, end, depth, NULL, 0);
}

bool aml_parse_is_data(const struct aml_parser *p, size_t end)
{
	switch (aml_parse_peek(p, 0)) {
	case OP_ZERO: case OP_ONE: case OP_ONES: case OP_BYTE: case OP_WORD: case OP_DWORD:
	case OP_QWORD: case OP_STRING: case OP_BUFFER: case OP_PACKAGE: case OP_VAR_PACKAGE:
		return true;
	case OP_EXT:
		return p->pos + 1 < end && aml_parse_peek(p, 1) == (OP_X_REVISION & 0xFF);
	default:
		return false;
	}
}

/* The value of Name(): a data object, never an expression. */
static int parse_data(struct aml_parser *p, const char *scope, size_t end, unsigned int depth)
{
	int ret = aml_parse_need(p, end, 1, "data object");

	if (ret)
		return ret;
	if (!aml_parse_is_data(p, end))
		return aml_parse_fail(p, p->pos, -EINVAL, "opcode 0x%02x where a data object (integer, "
											      "string, buffer or package) was expected", aml_parse_peek(p, 0));
	return parse_term(p, scope, end, depth);
}

static int parse_elements(struct aml_parser *p, const char *scope, size_t end, unsigned int depth)
{
	struct aml_name n;
	int ret;

	while (p->pos < end) {
		if (aml_parse_name_start(aml_parse_peek(p, 0)))
			ret = aml_parse_name(p, end, &n);
		else
			ret = parse_data(p, scope, end, depth);
		if (ret)
			return ret;
	}
	return 0;
}

/* A Field/IndexField/BankField list: declare its named field units. */
static int parse_field_list(struct aml_parser *p, const char *scope, size_t end)
{
	char path[AML_READER_PATH_MAX];
	struct aml_name n;
	size_t off, bits;
	int ret;

	while (p->pos < end) {
		off = p->pos;
		switch (aml_parse_peek(p, 0)) {
		case 0x00: /* ReservedField */
			p->pos++;
			ret = read_pkglen_value(p, end, &bits);
			break;
		case 0x01: /* AccessField: type, attribute */
			ret = aml_parse_need(p, end, 3, "AccessField");
			p->pos += ret ? 0 : 3;
			break;
		case 0x03: /* ExtendedAccessField: type, attribute, length */
			ret = aml_parse_need(p, end, 4, "ExtendedAccessField");
			p->pos += ret ? 0 : 4;
			break;
		default:
			if (!lead_char(aml_parse_peek(p, 0))) {
				/* ConnectField and anything newer: stop declaring. */
				aml_parse_skip_note(p, off, "field list entry 0x%02x not understood; rest of "
						    "the list skipped", aml_parse_peek(p, 0));
				p->pos = end;
				return 0;
			}
			ret = aml_parse_need(p, end, 4, "field name");
			if (ret)
				return ret;
			n.root = false;
			n.up = 0;
			n.nseg = 1;
			n.segs = p->t->data + p->pos;
			if (!name_char(n.segs[1]) || !name_char(n.segs[2]) || !name_char(n.segs[3]))
				return aml_parse_fail(p, off, -EINVAL, "invalid field name");
			p->pos += 4;
			ret = read_pkglen_value(p, end, &bits);
			if (ret)
				return ret;
			ret = join_or_fail(p, off, scope, &n, path, sizeof(path));
			if (!ret)
				ret = declare(p, off, path, OBJ_FIELD, off, p->pos, 0);
		}
		if (ret)
			return ret;
	}
	return 0;
}

/* A name in a TermArg position: a reference, or a call with its arguments. */
static int parse_name_term(struct aml_parser *p, const char *scope, size_t end, unsigned int depth)
{
	struct aml_name n;
	struct aml_obj *o;
	unsigned int i, nargs;
	int ret = aml_parse_name(p, end, &n);

	if (ret)
		return ret;
	o = aml_parse_lookup(p->r, scope, &n);
	if (!o && p->r->too_complex)
		return aml_parse_fail_complex(p, p->pos);
	if (!o || (o->type != OBJ_METHOD && o->type != OBJ_EXTERNAL))
		return 0;
	if (p->scan && o->type == OBJ_METHOD && p->scan->ncalls < AML_MAX_CALLS)
		p->scan->calls[p->scan->ncalls++] = o;
	/*
	 * o points into the namespace array, which an argument that declares
	 * an object (Name (X, 0) passed as an argument) may reallocate: take
	 * what is needed from it now and do not touch it again.
	 */
	nargs = o->nargs;
	o = NULL;
	for (i = 0; i < nargs; i++) {
		ret = parse_term(p, scope, end, depth + 1);
		if (ret)
			return ret;
	}
	return 0;
}

/* The integer a constant term encodes, without consuming it. */
static bool peek_const(const struct aml_parser *p, size_t end, uint64_t *v)
{
	size_t left = end - p->pos;

	switch (aml_parse_peek(p, 0)) {
	case OP_ZERO: *v = 0; return true;
	case OP_ONE: *v = 1; return true;
	case OP_ONES: *v = UINT64_MAX; return true;
	case OP_BYTE: if (left < 2) return false; *v = aml_parse_peek(p, 1); return true;
	case OP_WORD: if (left < 3) return false; *v = vmgenid_get_le16(p->t->data + p->pos + 1); return true;
	case OP_DWORD: if (left < 5) return false; *v = vmgenid_get_le32(p->t->data + p->pos + 1); return true;
	case OP_QWORD: if (left < 9) return false; *v = vmgenid_get_le64(p->t->data + p->pos + 1); return true;
	default: return false;
	}
}

static int parse_notify(struct aml_parser *p, const char *scope, size_t end, unsigned int depth)
{
	char path[AML_READER_PATH_MAX];
	uint64_t value = 0;
	bool is_const;
	int ret;

	ret = parse_supername(p, scope, end, depth, path, sizeof(path));
	if (ret)
		return ret;
	ret = aml_parse_need(p, end, 1, "Notify value");
	if (ret)
		return ret;
	is_const = peek_const(p, end, &value);
	ret = parse_term(p, scope, end, depth + 1);
	if (ret)
		return ret;
	/* 0x80: the "status change" notification the spec asks for. */
	if (p->scan && is_const && value == 0x80 && !strcmp(path, p->scan->target))
		p->scan->found = true;
	return 0;
}

static int skip_bytes(struct aml_parser *p, size_t end, size_t n, const char *what)
{
	int ret = aml_parse_need(p, end, n, what);

	if (!ret)
		p->pos += n;
	return ret;
}

static int parse_op(struct aml_parser *p, const char *scope, size_t end, unsigned int depth,
		    const struct aml_opinfo *op, size_t off)
{
	char decl[AML_READER_PATH_MAX] = "";
	size_t limit = end, pkg_end = 0, data_start = 0, body = 0, flags_at = 0;
	unsigned int names = 0, bytes = 0;
	bool has_pkg = false;
	const char *a;
	struct aml_name n;
	int ret = 0;

	if (op->code == OP_NOTIFY)
		return parse_notify(p, scope, end, depth);
	for (a = op->args; *a && !ret; a++) {
		switch (*a) {
		case 'p':
			ret = aml_parse_pkglen(p, end, &pkg_end, op->name, off);
			limit = pkg_end;
			has_pkg = true;
			break;
		case 'n':
			ret = aml_parse_name(p, limit, &n);
			if (!ret && ++names == op->decl) {
				/* Scope (\) is fine; an object without a name is not. */
				if (n.nseg == 0 && op->type != OBJ_NONE)
					return aml_parse_fail(p, off, -EINVAL, "%s declares an object with "
							      "an empty name", op->name);
				ret = join_or_fail(p, off, scope, &n, decl, sizeof(decl));
			}
			break;
		case 'b':
			if (bytes++ == 0)
				flags_at = p->pos;
			ret = skip_bytes(p, limit, 1, op->name);
			break;
		case 'w':
			ret = skip_bytes(p, limit, 2, op->name);
			break;
		case 'd':
			ret = skip_bytes(p, limit, 4, op->name);
			break;
		case 'q':
			ret = skip_bytes(p, limit, 8, op->name);
			break;
		case 'z': {
			const uint8_t *s = p->t->data + p->pos;
			const uint8_t *nul = p->pos < limit ? memchr(s, 0, limit - p->pos) : NULL;

			if (!nul)
				return aml_parse_fail(p, off, -EINVAL, "string is not terminated before the end "
						      "of its enclosing object (0x%zx)", limit);
			p->pos += (size_t)(nul - s) + 1;
			break;
		}
		case 't':
			ret = parse_term(p, scope, limit, depth + 1);
			break;
		case 's':
			ret = parse_supername(p, scope, limit, depth, NULL, 0);
			break;
		case 'T':
			ret = parse_target(p, scope, limit, depth);
			break;
		case 'D':
			data_start = p->pos;
			ret = parse_data(p, scope, limit, depth + 1);
			break;
		case 'E':
			ret = parse_elements(p, scope, limit, depth + 1);
			break;
		case 'L':
			if (p->declare && op->decl && op->type != OBJ_NONE)
				ret = declare(p, off, decl, op->type, off, limit, 0);
			if (!ret)
				ret = aml_parse_termlist(p, op->decl ? decl : scope, limit, depth + 1);
			break;
		case 'R':
			body = p->pos;
			if (p->declare && (op->code == OP_X_FIELD || op->code == OP_X_INDEX_FIELD ||
					   op->code == OP_X_BANK_FIELD))
				ret = parse_field_list(p, scope, limit);
			p->pos = limit;
			break;
		}
	}
	if (ret)
		return ret;
	if (has_pkg)
		p->pos = pkg_end;
	if (!p->declare || !op->decl || op->type == OBJ_NONE || strchr(op->args, 'L'))
		return 0;
	switch (op->type) {
	case OBJ_METHOD:
		return declare(p, off, decl, OBJ_METHOD, body, pkg_end,
			       p->t->data[flags_at] & 0x07);
	case OBJ_NAME:
		return declare(p, off, decl, OBJ_NAME, data_start, p->pos, 0);
	case OBJ_EXTERNAL:
		/* Only methods matter: their argument count says how to parse calls. */
		if (p->t->data[flags_at] != 8)
			return 0;
		return declare(p, off, decl, OBJ_EXTERNAL, off, p->pos,
			       p->t->data[flags_at + 1] & 0x07);
	default:
		return declare(p, off, decl, op->type, off, p->pos, 0);
	}
}

static int parse_term(struct aml_parser *p, const char *scope, size_t end, unsigned int depth)
{
	size_t off = p->pos;
	const struct aml_opinfo *op;
	uint16_t code;
	uint8_t b;
	int ret;

	if (depth > AML_MAX_DEPTH)
		return aml_parse_fail(p, off, -EINVAL, "objects nested deeper than %d levels", AML_MAX_DEPTH);
	ret = aml_parse_need(p, end, 1, "term");
	if (ret)
		return ret;
	b = aml_parse_peek(p, 0);
	if (b >= OP_LOCAL0 && b <= OP_ARG6) {
		p->pos++;
		return 0;
	}
	if (aml_parse_name_start(b))
		return parse_name_term(p, scope, end, depth);
	code = b;
	if (b == OP_EXT) {
		ret = aml_parse_need(p, end, 2, "extended opcode");
		if (ret)
			return ret;
		code = (uint16_t)(OP_EXT << 8 | aml_parse_peek(p, 1));
	}
	op = aml_parse_opcode(code);
	if (!op)
		return aml_parse_fail(p, off, -ENOTSUP, "unknown opcode 0x%0*x", code > 0xFF ? 4 : 2, code);
	p->pos += code > 0xFF ? 2 : 1;
	return parse_op(p, scope, end, depth, op, off);
}

/* --- Tables ------------------------------------------------------------------- */

int aml_parse_table_check(struct aml_ns *r, const struct aml_reader_table *in, struct aml_tbl *t)
{
	struct aml_reader_report *rep = r->report;
	struct aml_parser p;
	uint32_t len;
	uint8_t sum = 0;
	size_t i;

	memset(t, 0, sizeof(*t));
	t->name = in->name ? in->name : "table";
	t->data = in->data;
	memset(&p, 0, sizeof(p));
	p.t = t;
	if (!in->data || in->len < AML_HEADER_SIZE) {
		aml_parse_fail(&p, 0, -EINVAL, "%zu bytes, shorter than the 36-byte table header",
			       in->data ? in->len : 0);
		goto bad;
	}
	len = vmgenid_get_le32(in->data + 4);
	if (memcmp(in->data, "DSDT", 4) && memcmp(in->data, "SSDT", 4)) {
		aml_parse_fail(&p, 0, -EINVAL, "signature is not DSDT or SSDT");
		goto bad;
	}
	if (len < AML_HEADER_SIZE) {
		aml_parse_fail(&p, 4, -EINVAL, "header length %u is shorter than the header", len);
		goto bad;
	}
	if (len > in->len) {
		aml_parse_fail(&p, 4, -EINVAL, "header says %u bytes but only %zu are there (truncated)",
			       len, in->len);
		goto bad;
	}
	t->len = len;
	t->int32 = in->data[8] < 2;
	for (i = 0; i < len; i++)
		sum = (uint8_t)(sum + in->data[i]);
	if (sum && rep->nbad_checksum++ == 0)
		snprintf(rep->bad_checksum, sizeof(rep->bad_checksum), "%s", t->name);
	return 0;
bad:
	if (rep->nmalformed++ == 0)
		rep->malformed = p.error;
	t->len = 0;
	return -EINVAL;
}

/* Pass 1 over one table; on malformed AML its objects are dropped, as the OS
 * would refuse the table. */
void aml_parse_table_walk(struct aml_ns *r, unsigned int ti)
{
	struct aml_reader_report *rep = r->report;
	size_t first = r->nobjs;
	struct aml_parser p;
	int ret;

	aml_parse_init(&p, r, ti, AML_HEADER_SIZE);
	p.declare = true;
	ret = aml_parse_termlist(&p, "\\", r->tables[ti].len, 0);
	if (ret) {
		if (rep->nmalformed++ == 0)
			rep->malformed = p.error;
		/* Its names leave the index too (a failure here leaves lookups
		 * failing, too_complex or without an index, never wrong). */
		r->nobjs = first;
		if (r->index && index_rebuild(r, r->index_mask + 1))
			r->too_complex = true;
		return;
	}
	rep->ntables++;
}
