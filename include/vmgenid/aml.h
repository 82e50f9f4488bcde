/* SPDX-License-Identifier: MIT */
/*
 * AML encoder: build a tree of nodes, serialize it once.
 *
 * All nodes live in one arena (struct vmgenid_aml_ctx) and are freed together.
 * Constructors never fail: on a bad argument (an invalid name, an
 * out-of-range argument) or out of memory they record an error in the
 * context and return a harmless node, and vmgenid_aml_serialize() then refuses to
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

#ifdef __cplusplus
extern "C" {
#endif

struct vmgenid_aml_ctx;
struct vmgenid_aml;

struct vmgenid_aml_ctx *vmgenid_aml_ctx_new(void);
void vmgenid_aml_ctx_free(struct vmgenid_aml_ctx *ctx);

/* NULL when the tree is valid, else a sentence about the first error. */
const char *vmgenid_aml_ctx_error(const struct vmgenid_aml_ctx *ctx);

/* Add child at the end of parent's body (for containers and packages). */
void vmgenid_aml_append(struct vmgenid_aml *parent, struct vmgenid_aml *child);

/*
 * Serialize node (its own encoding: a container's opcode, length and body;
 * a plain block's body only) at the end of out.  Returns 0, or -EINVAL if
 * the context has an error (out unchanged), -ENOMEM on allocation failure
 * (including one while the tree was built).  Records each node's offset in
 * out (see vmgenid_aml_offset()).
 *
 * A node has one place in the tree: as a child or as an operand.  Using it
 * twice is an error; build a new node (vmgenid_aml_local(ctx, 0) ...) for each use.
 */
int vmgenid_aml_serialize(struct vmgenid_aml_ctx *ctx, struct vmgenid_aml *node, struct vmgenid_bytebuf *out);

/*
 * Offset in the output buffer of the first byte of node's encoding, as of
 * the last vmgenid_aml_serialize() that emitted it; (size_t)-1 if it was never
 * emitted.  With vmgenid_aml_dword() this locates a value to patch later (the
 * 32-bit value itself is at offset + 1, after the DWordPrefix).
 */
size_t vmgenid_aml_offset(const struct vmgenid_aml *node);

/* A plain sequence of terms with no encoding of its own (a table body). */
struct vmgenid_aml *vmgenid_aml_block(struct vmgenid_aml_ctx *ctx);

/* --- Data --------------------------------------------------------------- */

/* Smallest encoding: ZeroOp, OneOp, OnesOp (all ones), Byte/Word/DWord/QWordConst. */
struct vmgenid_aml *vmgenid_aml_int(struct vmgenid_aml_ctx *ctx, uint64_t value);
/* Always DWordPrefix + 4 bytes, for values the firmware patches (VGIA). */
struct vmgenid_aml *vmgenid_aml_dword(struct vmgenid_aml_ctx *ctx, uint32_t value);
/* Always QWordPrefix + 8 bytes. */
struct vmgenid_aml *vmgenid_aml_qword(struct vmgenid_aml_ctx *ctx, uint64_t value);
struct vmgenid_aml *vmgenid_aml_zero(struct vmgenid_aml_ctx *ctx);
struct vmgenid_aml *vmgenid_aml_one(struct vmgenid_aml_ctx *ctx);
struct vmgenid_aml *vmgenid_aml_ones(struct vmgenid_aml_ctx *ctx);
/* StringPrefix, ASCII without NUL bytes (refused otherwise), NUL. */
struct vmgenid_aml *vmgenid_aml_string(struct vmgenid_aml_ctx *ctx, const char *s);
/*
 * EISA id "PNP0501" compressed into an Integer as EISAID() does: minimal
 * encoding like vmgenid_aml_int() (as iasl), so a DWordConst for any product
 * number but 0000.
 */
struct vmgenid_aml *vmgenid_aml_eisaid(struct vmgenid_aml_ctx *ctx, const char *id);
/* BufferOp with the given bytes (data may be NULL for zeros). */
struct vmgenid_aml *vmgenid_aml_buffer(struct vmgenid_aml_ctx *ctx, size_t len, const uint8_t *data);
/* PackageOp with NumElements = num_elements; elements via vmgenid_aml_append(). */
struct vmgenid_aml *vmgenid_aml_package(struct vmgenid_aml_ctx *ctx, uint8_t num_elements);

/* --- Names and references --------------------------------------------- */

/* A NameString reference to an object (used as an operand or target). */
struct vmgenid_aml *vmgenid_aml_name(struct vmgenid_aml_ctx *ctx, const char *name);
/* Name(name, value) */
struct vmgenid_aml *vmgenid_aml_name_decl(struct vmgenid_aml_ctx *ctx, const char *name, struct vmgenid_aml *value);
struct vmgenid_aml *vmgenid_aml_local(struct vmgenid_aml_ctx *ctx, unsigned int n); /* Local0..Local7 */
struct vmgenid_aml *vmgenid_aml_arg(struct vmgenid_aml_ctx *ctx, unsigned int n);   /* Arg0..Arg6 */

/* --- Namespace containers (append children to them) -------------------- */

struct vmgenid_aml *vmgenid_aml_scope(struct vmgenid_aml_ctx *ctx, const char *name);
struct vmgenid_aml *vmgenid_aml_device(struct vmgenid_aml_ctx *ctx, const char *name);
/* nargs 0..7; serialized selects Serialized vs NotSerialized. */
struct vmgenid_aml *vmgenid_aml_method(struct vmgenid_aml_ctx *ctx, const char *name, unsigned int nargs,
		       bool serialized);

/* --- Statements and expressions ---------------------------------------- */

struct vmgenid_aml *vmgenid_aml_if(struct vmgenid_aml_ctx *ctx, struct vmgenid_aml *predicate); /* append body */
struct vmgenid_aml *vmgenid_aml_else(struct vmgenid_aml_ctx *ctx);                      /* append body */
struct vmgenid_aml *vmgenid_aml_equal(struct vmgenid_aml_ctx *ctx, struct vmgenid_aml *a, struct vmgenid_aml *b);   /* LEqual */
struct vmgenid_aml *vmgenid_aml_store(struct vmgenid_aml_ctx *ctx, struct vmgenid_aml *value, struct vmgenid_aml *target);
/* Add(a, b, target); target NULL means no target (NullName). */
struct vmgenid_aml *vmgenid_aml_add(struct vmgenid_aml_ctx *ctx, struct vmgenid_aml *a, struct vmgenid_aml *b, struct vmgenid_aml *target);
/* Index(object, index, target); target NULL means no target. */
struct vmgenid_aml *vmgenid_aml_index(struct vmgenid_aml_ctx *ctx, struct vmgenid_aml *object, struct vmgenid_aml *index,
		      struct vmgenid_aml *target);
struct vmgenid_aml *vmgenid_aml_return(struct vmgenid_aml_ctx *ctx, struct vmgenid_aml *value);
struct vmgenid_aml *vmgenid_aml_notify(struct vmgenid_aml_ctx *ctx, struct vmgenid_aml *object, struct vmgenid_aml *value);

/* --- Operation regions and fields -------------------------------------- */

enum vmgenid_aml_region_space {
	VMGENID_AML_SYSTEM_MEMORY = 0x00,
	VMGENID_AML_SYSTEM_IO = 0x01,
};

enum vmgenid_aml_field_access {
	VMGENID_AML_ANY_ACC = 0,
	VMGENID_AML_BYTE_ACC = 1,
	VMGENID_AML_WORD_ACC = 2,
	VMGENID_AML_DWORD_ACC = 3,
	VMGENID_AML_QWORD_ACC = 4,
	VMGENID_AML_BUFFER_ACC = 5,
};

enum vmgenid_aml_field_update {
	VMGENID_AML_PRESERVE = 0,
	VMGENID_AML_WRITE_AS_ONES = 1,
	VMGENID_AML_WRITE_AS_ZEROS = 2,
};

/* OperationRegion(name, space, offset, length) */
struct vmgenid_aml *vmgenid_aml_operation_region(struct vmgenid_aml_ctx *ctx, const char *name,
				 enum vmgenid_aml_region_space space, struct vmgenid_aml *offset,
				 struct vmgenid_aml *length);
/* Field(region, access, NoLock/Lock, update); append vmgenid_aml_named_field/vmgenid_aml_reserved_field. */
struct vmgenid_aml *vmgenid_aml_field(struct vmgenid_aml_ctx *ctx, const char *region, enum vmgenid_aml_field_access access,
		      bool lock, enum vmgenid_aml_field_update update);
struct vmgenid_aml *vmgenid_aml_named_field(struct vmgenid_aml_ctx *ctx, const char *name, unsigned int bits);
struct vmgenid_aml *vmgenid_aml_reserved_field(struct vmgenid_aml_ctx *ctx, unsigned int bits);

/* --- Resource templates ------------------------------------------------- */

/* ResourceTemplate(): a Buffer of descriptors; the EndTag is added for you. */
struct vmgenid_aml *vmgenid_aml_resource_template(struct vmgenid_aml_ctx *ctx);
/* IO(Decode16 if decode16 else Decode10, min, max, align, length) */
struct vmgenid_aml *vmgenid_aml_io(struct vmgenid_aml_ctx *ctx, bool decode16, uint16_t min, uint16_t max,
		   uint8_t align, uint8_t length);
/* IRQNoFlags() { irq }: edge, active high, exclusive. */
struct vmgenid_aml *vmgenid_aml_irq_no_flags(struct vmgenid_aml_ctx *ctx, uint8_t irq);

enum vmgenid_aml_interrupt_flags {
	VMGENID_AML_INT_CONSUMER = 1 << 0,
	VMGENID_AML_INT_EDGE = 1 << 1,        /* else level */
	VMGENID_AML_INT_ACTIVE_LOW = 1 << 2,  /* else active high */
	VMGENID_AML_INT_SHARED = 1 << 3,      /* else exclusive */
};
/* Interrupt(ResourceConsumer/Producer, ..., ) { irq } (extended descriptor) */
struct vmgenid_aml *vmgenid_aml_interrupt(struct vmgenid_aml_ctx *ctx, unsigned int flags, uint32_t irq);
/* Memory32Fixed(ReadWrite if rw else ReadOnly, base, length) */
struct vmgenid_aml *vmgenid_aml_memory32_fixed(struct vmgenid_aml_ctx *ctx, bool rw, uint32_t base, uint32_t length);

#ifdef __cplusplus
}
#endif

#endif
