/* SPDX-License-Identifier: MIT */
/*
 * The pieces behind disk.h: iovec arithmetic, the raw image (raw.c) and the
 * copy-on-write overlay (overlay.c).  Only vmm/block/ and its tests include
 * this; virtio-blk sees disk.h alone.
 */
#ifndef GENVM_BLOCK_INT_H
#define GENVM_BLOCK_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

/* ---- iovecs ------------------------------------------------------------ */

/* Sum of the lengths, or -1 when iovcnt is negative or the sum overflows. */
int64_t disk_iov_total(const struct iovec *iov, int iovcnt);
/*
 * Describe bytes [skip, skip + len) of iov in out (room for iovcnt entries,
 * which always suffices).  Returns the number of entries written; the
 * caller guarantees skip + len <= the total.
 */
int disk_iov_slice(const struct iovec *iov, int iovcnt, size_t skip, size_t len,
		   struct iovec *out);
/* Copy between iov (from byte skip on) and a flat buffer. */
void disk_iov_to_buf(const struct iovec *iov, int iovcnt, size_t skip, void *buf, size_t len);
void disk_iov_from_buf(const struct iovec *iov, int iovcnt, size_t skip, const void *buf,
		       size_t len);

/* Full positioned transfers on any fd: loops over short counts and EINTR. */
int disk_full_preadv(int fd, const struct iovec *iov, int iovcnt, uint64_t off);
int disk_full_pwritev(int fd, const struct iovec *iov, int iovcnt, uint64_t off);
int disk_full_pread(int fd, void *buf, size_t len, uint64_t off);
int disk_full_pwrite(int fd, const void *buf, size_t len, uint64_t off);

/* zlib's crc32 (equal to vmgenid_state_crc32()), faster: crc.c. */
uint32_t disk_crc32(uint32_t crc, const void *data, size_t len);

/* ---- the raw image ----------------------------------------------------- */

struct raw {
	int fd;
	uint64_t size;
	bool writable;	/* opened O_RDWR */
	bool direct;	/* opened O_DIRECT */
	size_t mem_align; /* O_DIRECT: buffer address alignment */
	size_t off_align; /* O_DIRECT: offset and length granularity */
	void *bounce;	  /* O_DIRECT: aligned buffer, RAW_BOUNCE bytes */
};

/* The bounce buffer's size: the largest O_DIRECT transfer through it. */
#define RAW_BOUNCE (1u << 20)

int raw_open(struct raw *r, const char *path, bool writable, bool direct, char *why,
	     size_t why_len);
void raw_close(struct raw *r);
/* Bounds are the caller's (disk.c, overlay.c); these only move bytes. */
int raw_preadv(struct raw *r, const struct iovec *iov, int iovcnt, uint64_t off);
int raw_pwritev(struct raw *r, const struct iovec *iov, int iovcnt, uint64_t off);
int raw_flush(struct raw *r);

/* ---- the copy-on-write overlay ----------------------------------------- */

/*
 * The overlay's granularity.  4 KiB is the guest filesystems' block and the
 * host's page and filesystem block: a guest's ordinary writes cover whole
 * blocks (no read-modify-write), the private file's allocation matches its
 * bitmap bit for bit (st_blocks counts exactly the dirty blocks), and the
 * bitmap costs 32 KiB per GiB of disk.
 */
#define OVERLAY_BLOCK 4096u

struct overlay;

/* A private overlay over base (which it reads and never writes). */
int overlay_new(struct raw *base, struct overlay **out, char *why, size_t why_len);
void overlay_free(struct overlay *ov);
int overlay_preadv(struct overlay *ov, const struct iovec *iov, int iovcnt, uint64_t off);
int overlay_pwritev(struct overlay *ov, const struct iovec *iov, int iovcnt, uint64_t off);
/* Blocks written so far (tests, and the size of a saved delta). */
uint64_t overlay_dirty_blocks(const struct overlay *ov);
/* The private file's fd (tests check it stays sparse). */
int overlay_fd(const struct overlay *ov);

/* ---- a drive (disk.c) ----------------------------------------------- */

struct disk {
	struct raw raw;
	struct overlay *ov; /* snapshot=on */
	bool readonly;
	char *path;
};

#endif
