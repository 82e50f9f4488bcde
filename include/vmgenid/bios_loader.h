/* SPDX-License-Identifier: MIT */
/*
 * The BIOS linker/loader script ("etc/table-loader"): a sequence of 128-byte
 * little-endian commands that tells firmware to allocate fw_cfg files in
 * guest memory, patch pointers between them, fix checksums, and write
 * addresses back into (writable) fw_cfg files.
 *
 * Command layout (offsets in bytes; names NUL-padded to 56):
 *   0   le32 command: 1 ALLOCATE, 2 ADD_POINTER, 3 ADD_CHECKSUM, 4 WRITE_POINTER
 *   ALLOCATE:      4 file[56], 60 le32 align, 64 u8 zone (1 HIGH, 2 FSEG)
 *   ADD_POINTER:   4 dest_file[56], 60 src_file[56], 116 le32 offset, 120 u8 size
 *   ADD_CHECKSUM:  4 file[56], 60 le32 offset, 64 le32 start, 68 le32 length
 *   WRITE_POINTER: 4 dest_file[56], 60 src_file[56], 116 le32 dst_offset,
 *                  120 le32 src_offset, 124 u8 size
 *
 * ADD_POINTER adds the guest address of src_file to the size-byte
 * little-endian value already at dest_file+offset, so the builder's caller
 * stores the offset it wants inside src_file there beforehand.  ADD_CHECKSUM
 * changes file[offset], which lies inside [start, start + length), so that
 * the range sums to 0 mod 256.  WRITE_POINTER sends the guest address of
 * src_file + src_offset, size bytes little-endian, to offset dst_offset of
 * the fw_cfg file dest_file, which is written back, never allocated.
 *
 * The builder half (vmgenid_bios_loader_init .. _free) is host code.  The executor
 * half (vmgenid_bios_loader_run) is freestanding C with no libc, compiled into the
 * guest firmware and into host tests alike.
 */
#ifndef VMGENID_BIOS_LOADER_H
#define VMGENID_BIOS_LOADER_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VMGENID_BIOS_LOADER_FILE "etc/table-loader"
#define VMGENID_BIOS_LOADER_CMD_SIZE 128
#define VMGENID_BIOS_LOADER_NAME_SIZE 56

#define VMGENID_BIOS_LOADER_CMD_ALLOCATE 1
#define VMGENID_BIOS_LOADER_CMD_ADD_POINTER 2
#define VMGENID_BIOS_LOADER_CMD_ADD_CHECKSUM 3
#define VMGENID_BIOS_LOADER_CMD_WRITE_POINTER 4

#define VMGENID_BIOS_LOADER_ZONE_HIGH 1 /* anywhere in RAM below 4 GiB */
#define VMGENID_BIOS_LOADER_ZONE_FSEG 2 /* the 0xE0000-0xFFFFF BIOS area */

/* Field offsets inside one command, shared by the builder and the executor. */
#define VMGENID_BIOS_LOADER_OFF_COMMAND 0
#define VMGENID_BIOS_LOADER_OFF_FILE 4      /* file / dest_file */
#define VMGENID_BIOS_LOADER_OFF_SRC_FILE 60 /* ADD_POINTER, WRITE_POINTER */
#define VMGENID_BIOS_LOADER_OFF_ALLOC_ALIGN 60
#define VMGENID_BIOS_LOADER_OFF_ALLOC_ZONE 64
#define VMGENID_BIOS_LOADER_OFF_PTR_OFFSET 116
#define VMGENID_BIOS_LOADER_OFF_PTR_SIZE 120
#define VMGENID_BIOS_LOADER_OFF_CKSUM_OFFSET 60
#define VMGENID_BIOS_LOADER_OFF_CKSUM_START 64
#define VMGENID_BIOS_LOADER_OFF_CKSUM_LENGTH 68
#define VMGENID_BIOS_LOADER_OFF_WRPTR_DST_OFFSET 116
#define VMGENID_BIOS_LOADER_OFF_WRPTR_SRC_OFFSET 120
#define VMGENID_BIOS_LOADER_OFF_WRPTR_SIZE 124

/* ---- builder (host) ---- */
#ifndef VMGENID_FREESTANDING
#include "vmgenid/bytebuf.h"

struct vmgenid_bios_loader {
	struct vmgenid_bytebuf script;
};

void vmgenid_bios_loader_init(struct vmgenid_bios_loader *l);
void vmgenid_bios_loader_free(struct vmgenid_bios_loader *l);

/*
 * Each appends one command and returns 0, or -EINVAL (name NULL, empty or
 * longer than 55 chars, alignment zero or not a power of two, zone unknown,
 * pointer size not 1/2/4/8, checksum offset outside [start, start + length)
 * or start + length overflowing 32 bits) with the script unchanged, or
 * -ENOMEM.
 */
int vmgenid_bios_loader_allocate(struct vmgenid_bios_loader *l, const char *file, uint32_t align, uint8_t zone);
int vmgenid_bios_loader_add_pointer(struct vmgenid_bios_loader *l, const char *dest_file, uint32_t dest_offset,
			    uint8_t size, const char *src_file);
int vmgenid_bios_loader_add_checksum(struct vmgenid_bios_loader *l, const char *file, uint32_t checksum_offset,
			     uint32_t start, uint32_t length);
int vmgenid_bios_loader_write_pointer(struct vmgenid_bios_loader *l, const char *dest_file, uint32_t dst_offset,
			      uint8_t size, const char *src_file, uint32_t src_offset);
#endif

/* ---- executor (freestanding) ---- */

#define VMGENID_BIOS_LOADER_MAX_FILES 16

/* What the executor needs from its environment (firmware, or a test). */
struct vmgenid_bios_loader_ops {
	void *opaque;
	/* Size of fw_cfg file name: 0, or negative if there is no such file. */
	int (*file_size)(void *opaque, const char *name, uint32_t *size);
	/*
	 * Allocate size bytes aligned to align in zone and read file name into
	 * them.  0 with *data (where the executor can touch the bytes) and
	 * *addr (their guest-physical address), or negative.
	 */
	int (*file_load)(void *opaque, const char *name, uint32_t size, uint32_t align,
			 uint8_t zone, uint8_t **data, uint64_t *addr);
	/* Write len bytes from src into fw_cfg file name at offset: 0 or negative. */
	int (*file_write)(void *opaque, const char *name, uint32_t offset, const uint8_t *src,
			  uint32_t len);
};

struct vmgenid_bios_loader_file {
	char name[VMGENID_BIOS_LOADER_NAME_SIZE];
	uint8_t *data;
	uint64_t addr;
	uint32_t size;
};

struct vmgenid_bios_loader_exec {
	struct vmgenid_bios_loader_file files[VMGENID_BIOS_LOADER_MAX_FILES];
	unsigned int nr_files;
	/*
	 * Index of the command that stopped the run (for a torn script, of the
	 * incomplete one); after a complete run, the number of commands.
	 */
	unsigned int failed_cmd;
};

/* Distinct reasons a run stops; vmgenid_bios_loader_run() returns 0 or one of these, negated. */
enum vmgenid_bios_loader_error {
	VMGENID_BIOS_LOADER_OK = 0,
	VMGENID_BIOS_LOADER_E_LENGTH,      /* script length not a multiple of 128 */
	VMGENID_BIOS_LOADER_E_NAME,        /* file name not NUL-terminated, or empty */
	VMGENID_BIOS_LOADER_E_NO_FILE,     /* fw_cfg has no such file (or it is empty) / not allocated */
	VMGENID_BIOS_LOADER_E_DUPLICATE,   /* file allocated twice */
	VMGENID_BIOS_LOADER_E_TOO_MANY,    /* more than VMGENID_BIOS_LOADER_MAX_FILES allocations */
	VMGENID_BIOS_LOADER_E_ALIGN,       /* alignment zero or not a power of two */
	VMGENID_BIOS_LOADER_E_ZONE,        /* unknown zone */
	VMGENID_BIOS_LOADER_E_PTR_SIZE,    /* pointer size not 1, 2, 4 or 8 */
	VMGENID_BIOS_LOADER_E_RANGE,       /* offset/size/start/length outside the file */
	VMGENID_BIOS_LOADER_E_OVERFLOW,    /* patched pointer does not fit its size */
	VMGENID_BIOS_LOADER_E_ALLOC,       /* environment could not allocate or load */
	VMGENID_BIOS_LOADER_E_WRITE,       /* environment could not write back */
	VMGENID_BIOS_LOADER_E_COUNT
};

/*
 * Run a script: decode each command, check it completely, then act, so a bad
 * command stops the run before it touches memory.  Command 0 (padding) and
 * unknown commands are skipped, as firmware does for forward compatibility.
 * Returns 0 or -enum vmgenid_bios_loader_error, with st->failed_cmd set.
 */
int vmgenid_bios_loader_run(struct vmgenid_bios_loader_exec *st, const uint8_t *script, uint32_t len,
		    const struct vmgenid_bios_loader_ops *ops);

/* A short static description of a vmgenid_bios_loader_run() error code (0 or negative). */
const char *vmgenid_bios_loader_strerror(int err);

#ifdef __cplusplus
}
#endif

#endif
