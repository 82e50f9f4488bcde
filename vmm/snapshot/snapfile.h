/* SPDX-License-Identifier: MIT */
/*
 * The snapshot file's header, version 1 or 2.  All little-endian:
 *
 *    0    char  magic[8]      "GENVMSNP"
 *    8    le32  version       1, or 2 when the file has a disk region
 *   12    le32  header_size   4096
 *   16    le64  ram_size      guest RAM bytes
 *   24    le32  nr_cpus
 *   28    le32  flags         0 (reserved)
 *   32    le64  state_offset  4096
 *   40    le64  state_length  bytes of state sections (lib/state.c framing)
 *   48    le32  vmgenid_state_crc32   vmgenid_state_crc32() of those bytes
 *   52    le32  reserved      0
 *   56    le64  ram_offset    page aligned, >= state_offset + state_length
 *   64    le64  ram_length    == ram_size
 *   72    le64  disk_offset   version 2: page aligned, >= ram_offset + ram_length
 *   80    le64  disk_length   version 2: bytes of the disk region, > 0
 *   88    zeros up to 4092    (version 1: zeros from 72)
 * 4092    le32  header_crc32  vmgenid_state_crc32() of bytes 0..4091
 *
 * The state sections follow at state_offset, then zero padding, then the
 * guest RAM image at ram_offset, then (version 2) the drives' region at
 * disk_offset (its own format: vmm/block/delta.h).  A file may leave holes
 * for zero pages; an exec: stream carries the same bytes in the same order.
 * A snapshot without drives is written as version 1, byte for byte as
 * before drives existed.
 *
 * Everything here works on memory: reading and writing the bytes is
 * snapstream's job.
 */
#ifndef GENVM_SNAPFILE_H
#define GENVM_SNAPFILE_H

#include <stddef.h>
#include <stdint.h>

#define SNAPFILE_MAGIC "GENVMSNP"
#define SNAPFILE_VERSION 2 /* the newest this genvm reads and writes */
#define SNAPFILE_HEADER_SIZE 4096
#define SNAPFILE_PAGE 4096
#define SNAPFILE_MAX_CPUS 254

/*
 * The state sections are read into memory before anything is checked, so a
 * header that passes its checksum but claims gigabytes of state is refused
 * rather than believed.  Real state is a few KiB per vCPU.
 */
#define SNAPFILE_STATE_MAX (16u << 20)

struct snapfile_header {
	uint64_t ram_size;
	uint32_t nr_cpus;
	uint64_t state_offset, state_length;
	uint32_t state_crc;
	uint64_t ram_offset, ram_length;
	uint64_t disk_offset, disk_length; /* 0, 0: no disk region (version 1) */
};

/*
 * Lay out a header for state_length bytes of sections and ram_size bytes
 * of RAM: the state at 4096, the RAM at the next page boundary after it.
 * state_crc is computed from state (which may be NULL when state_length
 * is 0).
 */
void snapfile_layout(struct snapfile_header *h, uint64_t ram_size, uint32_t nr_cpus,
		     const void *state, uint64_t state_length);

/*
 * Give the layout a disk region of disk_length bytes at the first page
 * boundary after the RAM (0: none, and the file stays version 1).
 */
void snapfile_layout_disks(struct snapfile_header *h, uint64_t disk_length);

/* Serialize: magic, version, the fields, zeros, and the header CRC. */
void snapfile_encode(const struct snapfile_header *h, uint8_t out[SNAPFILE_HEADER_SIZE]);

/*
 * Decode and validate len bytes read from the start of a snapshot.  Returns
 * 0 with *h filled, or -EBADMSG with a sentence in why (why_len bytes,
 * always NUL-terminated) saying what is wrong: a short header, bad magic,
 * an unsupported version or header size, a header checksum mismatch,
 * non-zero reserved fields, or fields that cannot describe a snapshot
 * (offsets not page aligned, overlapping, past 2^64; RAM size 0, not a page
 * multiple or not equal to the RAM length; 0 or more than 254 vCPUs; state
 * larger than SNAPFILE_STATE_MAX).  The checksum is checked after the
 * version, so that a future format gets "version N is not supported".
 */
int snapfile_decode(const uint8_t *buf, size_t len, struct snapfile_header *h,
		    char *why, size_t why_len);

/* Whether a file of file_size bytes holds everything h describes. */
int snapfile_check_size(const struct snapfile_header *h, uint64_t file_size,
			char *why, size_t why_len);

/* Whether h->state_length bytes at state match h->state_crc. */
int snapfile_check_state(const struct snapfile_header *h, const void *state,
			 char *why, size_t why_len);

#endif
