/* SPDX-License-Identifier: MIT */
/*
 * Inside the AML reader: the byte cursor, names and the namespace built by
 * the structural walk of the tables (aml_parse.c).  Not a public interface:
 * only aml_reader.c and aml_eval.c include it.
 *
 * Every read goes through a struct aml_parser against an explicit end (the
 * enclosing object's end); errors are recorded once, with the table name and
 * byte offset, by aml_parse_fail(), which returns the errno it was given.
 */
#ifndef VMGENID_GUEST_AML_PARSE_H
#define VMGENID_GUEST_AML_PARSE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "aml_reader.h"

#define AML_HEADER_SIZE 36
#define AML_MAX_DEPTH 48   /* nesting of terms, containers and Name references */
#define AML_MAX_CALLS 16   /* method calls remembered per scanned method */

enum {
	OP_ZERO = 0x00,
	OP_ONE = 0x01,
	OP_ALIAS = 0x06,
	OP_NAME = 0x08,
	OP_BYTE = 0x0A,
	OP_WORD = 0x0B,
	OP_DWORD = 0x0C,
	OP_STRING = 0x0D,
	OP_QWORD = 0x0E,
	OP_SCOPE = 0x10,
	OP_BUFFER = 0x11,
	OP_PACKAGE = 0x12,
	OP_VAR_PACKAGE = 0x13,
	OP_METHOD = 0x14,
	OP_EXTERNAL = 0x15,
	OP_DUAL_NAME = 0x2E,
	OP_MULTI_NAME = 0x2F,
	OP_EXT = 0x5B,
	OP_ROOT = 0x5C,
	OP_PARENT = 0x5E,
	OP_LOCAL0 = 0x60,
	OP_LOCAL7 = 0x67,
	OP_ARG0 = 0x68,
	OP_ARG6 = 0x6E,
	OP_STORE = 0x70,
	OP_ADD = 0x72,
	OP_SUBTRACT = 0x74,
	OP_MULTIPLY = 0x77,
	OP_SHIFT_LEFT = 0x79,
	OP_SHIFT_RIGHT = 0x7A,
	OP_AND = 0x7B,
	OP_OR = 0x7D,
	OP_XOR = 0x7F,
	OP_DEREF_OF = 0x83,
	OP_NOTIFY = 0x86,
	OP_INDEX = 0x88,
	OP_NOOP = 0xA3,
	OP_RETURN = 0xA4,
	OP_ONES = 0xFF,
	/* ExtOpPrefix 0x5B, then: */
	OP_X_REVISION = 0x5B30,
	OP_X_DEBUG = 0x5B31,
	OP_X_FIELD = 0x5B81,
	OP_X_DEVICE = 0x5B82,
	OP_X_INDEX_FIELD = 0x5B86,
	OP_X_BANK_FIELD = 0x5B87,
};

enum aml_obj_type {
	OBJ_NONE,   /* a Scope: opens a path, declares nothing */
	OBJ_DEVICE,
	OBJ_METHOD,
	OBJ_NAME,
	OBJ_FIELD,  /* a field unit or buffer field: a value only at run time */
	OBJ_EXTERNAL,
	OBJ_OTHER,  /* regions, mutexes, processors, ... */
};

/*
 * Operand formats, one character per operand in encoding order:
 *   p PkgLength (later operands end where it ends)
 *   n NameString        t TermArg           s SuperName      T Target
 *   b w d q  1, 2, 4, 8 bytes               z NUL-terminated string
 *   D a data object (the value of a Name)   E package elements up to the end
 *   L TermList up to the end                R raw bytes up to the end
 */
struct aml_opinfo {
	uint16_t code;
	const char *name;
	const char *args;
	uint8_t decl;        /* which 'n' operand declares an object (1-based), 0: none */
	enum aml_obj_type type;  /* of that object */
};

struct aml_obj {
	char path[AML_READER_PATH_MAX];
	uint64_t hash;  /* of path, for the name index */
	enum aml_obj_type type;
	unsigned int table;
	/* NAME: its value's encoding; METHOD: its body; others: the opcode. */
	size_t start, end;
	unsigned int nargs;
	bool scanned;  /* METHOD: the notify search has walked its body */
};

struct aml_tbl {
	const char *name;
	const uint8_t *data;
	size_t len;    /* from the header; never more than the buffer */
	bool int32;    /* revision < 2: integers are 32 bits wide */
};

struct aml_ns {
	struct aml_tbl *tables;
	size_t ntables;
	struct aml_obj *objs;
	size_t nobjs, cap;
	/*
	 * The name index: open addressing over paths, slot = object index + 1
	 * (0: empty), one slot per distinct path holding the object a lookup
	 * of that path finds.  Twice as many slots as objs has room for.
	 */
	uint32_t *index;
	size_t index_mask;
	struct aml_reader_report *report;
	unsigned int scans;
	unsigned long steps;  /* index slots looked at so far (report->lookup_steps) */
	bool too_complex;     /* steps reached AML_READER_MAX_STEPS: lookups fail */
};

/* What a walk of an event method found. */
struct aml_scan {
	const char *target;
	bool found;
	const struct aml_obj *calls[AML_MAX_CALLS];
	unsigned int ncalls;
};

struct aml_parser {
	struct aml_ns *r;
	unsigned int ti;
	const struct aml_tbl *t;
	size_t pos;
	bool declare;       /* pass 1: record objects, do not enter Method bodies */
	struct aml_scan *scan;  /* pass 3: note Notify()s and calls */
	int err;            /* the first error of this walk, 0 if none */
	struct aml_reader_error error;
};

struct aml_name {
	bool root;
	unsigned int up;   /* ^ prefixes */
	unsigned int nseg;
	const uint8_t *segs;
};

static inline uint8_t aml_parse_peek(const struct aml_parser *p, size_t ahead)
{
	return p->t->data[p->pos + ahead];
}

static inline bool aml_parse_path_is_root(const char *path)
{
	return path[0] == '\\' && path[1] == '\0';
}

const struct aml_opinfo *aml_parse_opcode(uint16_t code);

void aml_parse_init(struct aml_parser *p, struct aml_ns *r, unsigned int ti, size_t pos);
void aml_parse_error_set(struct aml_reader_error *e, const char *table, size_t offset,
			 const char *fmt, va_list ap) __attribute__((format(printf, 4, 0)));
/* Record the first error of this walk (table, offset, sentence); returns err. */
int aml_parse_fail(struct aml_parser *p, size_t off, int err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Note a construct the reader steps over, in the report (the first is kept). */
void aml_parse_skip_note(struct aml_parser *p, size_t off, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* At least n bytes left before end, else -EINVAL naming what. */
int aml_parse_need(struct aml_parser *p, size_t end, size_t n, const char *what);
/* A PkgLength that must fit inside [its start, end); *pkg_end is where it ends. */
int aml_parse_pkglen(struct aml_parser *p, size_t end, size_t *pkg_end, const char *what,
		     size_t op_off);
int aml_parse_name(struct aml_parser *p, size_t end, struct aml_name *n);
bool aml_parse_name_start(uint8_t c);
/* A constant data object (integer, string, buffer, package) starts here. */
bool aml_parse_is_data(const struct aml_parser *p, size_t end);

/* Absolute paths: "\\" or "\\_SB_.VGEN".  join: -EINVAL above the root,
 * -ENAMETOOLONG past AML_READER_PATH_MAX. */
void aml_parse_path_up(char *path);
int aml_parse_path_join(const char *scope, const struct aml_name *n, char *out, size_t cap);

/* The object at path; lookup applies ACPI's upward search for single
 * segment relative names.  Both are a few index probes per scope; past
 * AML_READER_MAX_STEPS probes in all they find nothing and set
 * r->too_complex. */
struct aml_obj *aml_parse_find(struct aml_ns *r, const char *path);
struct aml_obj *aml_parse_lookup(struct aml_ns *r, const char *scope, const struct aml_name *n);

/* Walk terms up to end: declaring objects (p->declare) or noting Notify()s
 * and calls (p->scan). */
int aml_parse_termlist(struct aml_parser *p, const char *scope, size_t end, unsigned int depth);

/* Check a table's header (length, signature; checksum into the report). */
int aml_parse_table_check(struct aml_ns *r, const struct aml_reader_table *in,
			  struct aml_tbl *t);
/* The sentence for a walk that stopped because the tables are too complex. */
int aml_parse_fail_complex(struct aml_parser *p, size_t off);

/* Pass 1 over one table; a malformed table's objects are dropped. */
void aml_parse_table_walk(struct aml_ns *r, unsigned int ti);

#endif
