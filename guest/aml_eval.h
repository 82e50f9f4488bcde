/* SPDX-License-Identifier: MIT */
/*
 * Inside the AML reader: a deliberately small evaluator for the values the
 * reader needs (_HID, _CID, ADDR).  It knows integers, strings, flat
 * packages, Local0-7 and a method's own Name()s; Store, Add, Subtract,
 * Multiply, And, Or, XOr, ShiftLeft, ShiftRight, Index, DerefOf and Return.
 * Anything else is -ENOTSUP with a sentence saying what and where.
 */
#ifndef VMGENID_GUEST_AML_EVAL_H
#define VMGENID_GUEST_AML_EVAL_H

#include "aml_parse.h"

#define AML_EVAL_PKG_MAX 8 /* elements of a package the evaluator holds */

enum aml_val_type { V_UNSET, V_INT, V_STR, V_PKG, V_REF };

struct aml_elem {
	enum aml_val_type type; /* V_UNSET, V_INT or V_STR */
	uint64_t i;
	const char *s;      /* NUL-terminated inside its table */
};

struct aml_val {
	enum aml_val_type type;
	uint64_t i;
	const char *s;
	unsigned int count;
	struct aml_elem el[AML_EVAL_PKG_MAX];
	unsigned int slot; /* V_REF: element idx of the package in slot */
	uint64_t idx;
};

/* The value of a Name() object; depth guards Names that refer to each other. */
int aml_eval_name(struct aml_ns *r, const struct aml_obj *o, unsigned int depth,
		  unsigned int *steps, struct aml_val *out, struct aml_reader_error *err);
/* Run a method that takes no arguments; *out is what it returns. */
int aml_eval_method(struct aml_ns *r, const struct aml_obj *m, struct aml_val *out,
		    struct aml_reader_error *err);

#endif
