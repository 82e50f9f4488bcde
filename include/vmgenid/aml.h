/* SPDX-License-Identifier: MIT */
/*
 * AML encoder: build a tree of nodes, serialize it once.
 *
 * All nodes live in one arena (struct aml_ctx) and are freed together.
 * Constructors never fail: on a bad argument (an invalid name, an
 * out-of-range argument) or out of memory they record an error in the
 * context and return a harmless node, and aml_serialize() then refuses to
 * produce output.  That keeps table builders free of error checks after
 * every call, with nothing silently wrong in what comes out.
 *
 * Package lengths are computed from the serialized body, so any PkgLength
 * from 1 to 4 bytes comes out minimal and exact.
 *
 * Names are ASL-style strings: "VGIA", "_SB", "\\_SB.VGEN", "^PCI0.S08",
 * "\\_GPE._E05".  A segment shorter than 4 characters is padded with '_'.
 */
#ifndef VMGENID_AML_H
#define VMGENID_AML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmgenid/bytebuf.h"

struct aml_ctx;
struct aml;

struct aml_ctx *aml_ctx_new(void);
void aml_ctx_free(struct aml_ctx *ctx);

/* NULL when the tree is valid, else a sentence about the first error. */
const char *aml_ctx_error(const struct aml_ctx *ctx);

/* Add child at the end of parent's body (for containers and packages). */
void aml_append(struct aml *parent, struct aml *child);

/*
 * Serialize node (its own encoding: a container's opcode, length and body;
 * a plain block's body only) at the end of out.  Returns 0, or -EINVAL if
 * the context has an error (out unchanged), -ENOMEM on allocation failure
 * (including one while the tree was built).  Records each node's offset in
 * out (see aml_offset()).
 *
 * A node has one place in the tree: as a child or as an operand.  Using it
 * twice is an error; build a new node (aml_local(ctx, 0) ...) for each use.
 */
int aml_serialize(struct aml_ctx *ctx, struct aml *node, struct bytebuf *out);

/*
 * Offset in the output buffer of the first byte of node's encoding, as of
 * the last aml_serialize() that emitted it; (size_t)-1 if it was never
 * emitted.  With aml_dword() this locates a value to patch later (the
 * 32-bit value itself is at offset + 1, after the DWordPrefix).
 */
size_t aml_offset(const struct aml *node);

/* A plain sequence of terms with no encoding of its own (a table body). */
struct aml *aml_block(struct aml_ctx *ctx);

/* --- Data --------------------------------------------------------------- */

/* Smallest encoding: ZeroOp, OneOp, OnesOp (all ones), Byte/Word/DWord/QWordConst. */
struct aml *aml_int(struct aml_ctx *ctx, uint64_t value);
/* Always DWordPrefix + 4 bytes, for values the firmware patches (VGIA). */
struct aml *aml_dword(struct aml_ctx *ctx, uint32_t value);
/* Always QWordPrefix + 8 bytes. */
struct aml *aml_qword(struct aml_ctx *ctx, uint64_t value);
struct aml *aml_zero(struct aml_ctx *ctx);
struct aml *aml_one(struct aml_ctx *ctx);
struct aml *aml_ones(struct aml_ctx *ctx);
/* StringPrefix, ASCII without NUL bytes (refused otherwise), NUL. */
struct aml *aml_string(struct aml_ctx *ctx, const char *s);
/*
 * EISA id "PNP0501" compressed into an Integer as EISAID() does: minimal
 * encoding like aml_int() (as iasl), so a DWordConst for any product
 * number but 0000.
 */
struct aml *aml_eisaid(struct aml_ctx *ctx, const char *id);
/* BufferOp with the given bytes (data may be NULL for zeros). */
struct aml *aml_buffer(struct aml_ctx *ctx, size_t len, const uint8_t *data);
/* PackageOp with NumElements = num_elements; elements via aml_append(). */
struct aml *aml_package(struct aml_ctx *ctx, uint8_t num_elements);

/* --- Names and references --------------------------------------------- */

/* A NameString reference to an object (used as an operand or target). */
struct aml *aml_name(struct aml_ctx *ctx, const char *name);
/* Name(name, value) */
struct aml *aml_name_decl(struct aml_ctx *ctx, const char *name, struct aml *value);
struct aml *aml_local(struct aml_ctx *ctx, unsigned int n); /* Local0..Local7 */
struct aml *aml_arg(struct aml_ctx *ctx, unsigned int n);   /* Arg0..Arg6 */

/* --- Namespace containers (append children to them) -------------------- */

struct aml *aml_scope(struct aml_ctx *ctx, const char *name);
struct aml *aml_device(struct aml_ctx *ctx, const char *name);
/* nargs 0..7; serialized selects Serialized vs NotSerialized. */
struct aml *aml_method(struct aml_ctx *ctx, const char *name, unsigned int nargs,
		       bool serialized);

/* --- Statements and expressions ---------------------------------------- */

struct aml *aml_if(struct aml_ctx *ctx, struct aml *predicate); /* append body */
struct aml *aml_else(struct aml_ctx *ctx);                      /* append body */
struct aml *aml_equal(struct aml_ctx *ctx, struct aml *a, struct aml *b);   /* LEqual */
struct aml *aml_store(struct aml_ctx *ctx, struct aml *value, struct aml *target);
/* Add(a, b, target); target NULL means no target (NullName). */
struct aml *aml_add(struct aml_ctx *ctx, struct aml *a, struct aml *b, struct aml *target);
/* Index(object, index, target); target NULL means no target. */
struct aml *aml_index(struct aml_ctx *ctx, struct aml *object, struct aml *index,
		      struct aml *target);
struct aml *aml_return(struct aml_ctx *ctx, struct aml *value);
struct aml *aml_notify(struct aml_ctx *ctx, struct aml *object, struct aml *value);

/* --- Operation regions and fields -------------------------------------- */

enum aml_region_space {
	AML_SYSTEM_MEMORY = 0x00,
	AML_SYSTEM_IO = 0x01,
};

enum aml_field_access {
	AML_ANY_ACC = 0,
	AML_BYTE_ACC = 1,
	AML_WORD_ACC = 2,
	AML_DWORD_ACC = 3,
	AML_QWORD_ACC = 4,
	AML_BUFFER_ACC = 5,
};

enum aml_field_update {
	AML_PRESERVE = 0,
	AML_WRITE_AS_ONES = 1,
	AML_WRITE_AS_ZEROS = 2,
};

/* OperationRegion(name, space, offset, length) */
struct aml *aml_operation_region(struct aml_ctx *ctx, const char *name,
				 enum aml_region_space space, struct aml *offset,
				 struct aml *length);
/* Field(region, access, NoLock/Lock, update); append aml_named_field/aml_reserved_field. */
struct aml *aml_field(struct aml_ctx *ctx, const char *region, enum aml_field_access access,
		      bool lock, enum aml_field_update update);
struct aml *aml_named_field(struct aml_ctx *ctx, const char *name, unsigned int bits);
struct aml *aml_reserved_field(struct aml_ctx *ctx, unsigned int bits);

/* --- Resource templates ------------------------------------------------- */

/* ResourceTemplate(): a Buffer of descriptors; the EndTag is added for you. */
struct aml *aml_resource_template(struct aml_ctx *ctx);
/* IO(Decode16 if decode16 else Decode10, min, max, align, length) */
struct aml *aml_io(struct aml_ctx *ctx, bool decode16, uint16_t min, uint16_t max,
		   uint8_t align, uint8_t length);
/* IRQNoFlags() { irq }: edge, active high, exclusive. */
struct aml *aml_irq_no_flags(struct aml_ctx *ctx, uint8_t irq);

enum aml_interrupt_flags {
	AML_INT_CONSUMER = 1 << 0,
	AML_INT_EDGE = 1 << 1,        /* else level */
	AML_INT_ACTIVE_LOW = 1 << 2,  /* else active high */
	AML_INT_SHARED = 1 << 3,      /* else exclusive */
};
/* Interrupt(ResourceConsumer/Producer, ..., ) { irq } (extended descriptor) */
struct aml *aml_interrupt(struct aml_ctx *ctx, unsigned int flags, uint32_t irq);
/* Memory32Fixed(ReadWrite if rw else ReadOnly, base, length) */
struct aml *aml_memory32_fixed(struct aml_ctx *ctx, bool rw, uint32_t base, uint32_t length);

#endif
