// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "vmgenid/endian.h"
#include "vmgenid/state.h"

#include "snapfile.h"
#include "why.h"

/* Field offsets: see the table in snapfile.h. */
#define OFF_MAGIC 0
#define OFF_VERSION 8
#define OFF_HEADER_SIZE 12
#define OFF_RAM_SIZE 16
#define OFF_NR_CPUS 24
#define OFF_FLAGS 28
#define OFF_STATE_OFFSET 32
#define OFF_STATE_LENGTH 40
#define OFF_STATE_CRC 48
#define OFF_RESERVED 52
#define OFF_RAM_OFFSET 56
#define OFF_RAM_LENGTH 64
#define OFF_DISK_OFFSET 72
#define OFF_DISK_LENGTH 80
#define OFF_ZEROS_V1 72
#define OFF_ZEROS_V2 88
#define OFF_HEADER_CRC (SNAPFILE_HEADER_SIZE - 4)

#define MAGIC_LEN 8

typedef unsigned long long ull;

static uint64_t page_up(uint64_t v)
{
	return (v + SNAPFILE_PAGE - 1) & ~(uint64_t)(SNAPFILE_PAGE - 1);
}

void snapfile_layout(struct snapfile_header *h, uint64_t ram_size, uint32_t nr_cpus,
		     const void *state, uint64_t state_length)
{
	memset(h, 0, sizeof(*h));
	h->ram_size = ram_size;
	h->nr_cpus = nr_cpus;
	h->state_offset = SNAPFILE_HEADER_SIZE;
	h->state_length = state_length;
	h->state_crc = state_length ? vmgenid_state_crc32(0, state, (size_t)state_length) : 0;
	h->ram_offset = page_up(h->state_offset + state_length);
	h->ram_length = ram_size;
}

void snapfile_layout_disks(struct snapfile_header *h, uint64_t disk_length)
{
	h->disk_length = disk_length;
	h->disk_offset = disk_length ? page_up(h->ram_offset + h->ram_length) : 0;
}

void snapfile_encode(const struct snapfile_header *h, uint8_t out[SNAPFILE_HEADER_SIZE])
{
	memset(out, 0, SNAPFILE_HEADER_SIZE);
	memcpy(out + OFF_MAGIC, SNAPFILE_MAGIC, MAGIC_LEN);
	vmgenid_put_le32(out + OFF_VERSION, h->disk_length ? 2 : 1);
	vmgenid_put_le32(out + OFF_HEADER_SIZE, SNAPFILE_HEADER_SIZE);
	vmgenid_put_le64(out + OFF_RAM_SIZE, h->ram_size);
	vmgenid_put_le32(out + OFF_NR_CPUS, h->nr_cpus);
	vmgenid_put_le64(out + OFF_STATE_OFFSET, h->state_offset);
	vmgenid_put_le64(out + OFF_STATE_LENGTH, h->state_length);
	vmgenid_put_le32(out + OFF_STATE_CRC, h->state_crc);
	vmgenid_put_le64(out + OFF_RAM_OFFSET, h->ram_offset);
	vmgenid_put_le64(out + OFF_RAM_LENGTH, h->ram_length);
	if (h->disk_length) {
		vmgenid_put_le64(out + OFF_DISK_OFFSET, h->disk_offset);
		vmgenid_put_le64(out + OFF_DISK_LENGTH, h->disk_length);
	}
	vmgenid_put_le32(out + OFF_HEADER_CRC, vmgenid_state_crc32(0, out, OFF_HEADER_CRC));
}

/* Reserved words and the zero tail: the first non-zero byte, or 0 if none. */
static size_t first_reserved_byte(const uint8_t *buf, uint32_t version)
{
	size_t i;

	for (i = OFF_RESERVED; i < OFF_RESERVED + 4; i++)
		if (buf[i])
			return i;
	for (i = version == 1 ? OFF_ZEROS_V1 : OFF_ZEROS_V2; i < OFF_HEADER_CRC; i++)
		if (buf[i])
			return i;
	return 0;
}

/* The layout's arithmetic: every offset aligned, nothing overlaps or wraps. */
static int check_layout(const struct snapfile_header *h, char *why, size_t why_len)
{
	uint64_t state_end;

	if (h->ram_size == 0)
		return why_say(why, why_len, -EBADMSG, "RAM size is 0");
	if (h->ram_size % SNAPFILE_PAGE)
		return why_say(why, why_len, -EBADMSG, "RAM size %llu is not a multiple of %d",
			    (ull)h->ram_size, SNAPFILE_PAGE);
	if (h->ram_length != h->ram_size)
		return why_say(why, why_len, -EBADMSG, "RAM length %llu differs from RAM size %llu",
			    (ull)h->ram_length, (ull)h->ram_size);
	if (h->nr_cpus == 0 || h->nr_cpus > SNAPFILE_MAX_CPUS)
		return why_say(why, why_len, -EBADMSG, "%u vCPUs is out of range (1 to %d)",
			    h->nr_cpus, SNAPFILE_MAX_CPUS);
	if (h->state_offset % SNAPFILE_PAGE)
		return why_say(why, why_len, -EBADMSG, "state offset %llu is not a multiple of %d",
			    (ull)h->state_offset, SNAPFILE_PAGE);
	if (h->state_offset < SNAPFILE_HEADER_SIZE)
		return why_say(why, why_len, -EBADMSG, "state offset %llu overlaps the header",
			    (ull)h->state_offset);
	if (h->state_length > SNAPFILE_STATE_MAX)
		return why_say(why, why_len, -EBADMSG, "state length %llu is over the limit of %u bytes",
			    (ull)h->state_length, SNAPFILE_STATE_MAX);
	if (h->state_offset > UINT64_MAX - h->state_length)
		return why_say(why, why_len, -EBADMSG, "state offset %llu plus length %llu overflows",
			    (ull)h->state_offset, (ull)h->state_length);
	state_end = h->state_offset + h->state_length;
	if (h->ram_offset % SNAPFILE_PAGE)
		return why_say(why, why_len, -EBADMSG, "RAM offset %llu is not a multiple of %d",
			    (ull)h->ram_offset, SNAPFILE_PAGE);
	if (h->ram_offset < state_end)
		return why_say(why, why_len, -EBADMSG, "RAM offset %llu overlaps the state (which ends at %llu)",
			    (ull)h->ram_offset, (ull)state_end);
	if (h->ram_offset > UINT64_MAX - h->ram_length)
		return why_say(why, why_len, -EBADMSG, "RAM offset %llu plus length %llu overflows",
			    (ull)h->ram_offset, (ull)h->ram_length);
	return 0;
}

/* Version 2's disk region: after the RAM, aligned, not wrapping. */
static int check_disks(const struct snapfile_header *h, char *why, size_t why_len)
{
	uint64_t ram_end = h->ram_offset + h->ram_length;

	if (h->disk_length == 0)
		return why_say(why, why_len, -EBADMSG, "version 2 with an empty disk region");
	if (h->disk_offset % SNAPFILE_PAGE)
		return why_say(why, why_len, -EBADMSG, "disk region offset %llu is not a multiple of %d",
			    (ull)h->disk_offset, SNAPFILE_PAGE);
	if (h->disk_offset < ram_end)
		return why_say(why, why_len, -EBADMSG,
			    "disk region offset %llu overlaps the RAM (which ends at %llu)",
			    (ull)h->disk_offset, (ull)ram_end);
	if (h->disk_offset > UINT64_MAX - h->disk_length)
		return why_say(why, why_len, -EBADMSG, "disk region offset %llu plus length %llu overflows",
			    (ull)h->disk_offset, (ull)h->disk_length);
	return 0;
}

int snapfile_decode(const uint8_t *buf, size_t len, struct snapfile_header *h,
		    char *why, size_t why_len)
{
	struct snapfile_header d;
	uint32_t version, header_size, flags, crc;
	size_t bad;

	if (len < SNAPFILE_HEADER_SIZE)
		return why_say(why, why_len, -EBADMSG, "truncated: %zu bytes, the header alone needs %d",
			    len, SNAPFILE_HEADER_SIZE);
	if (memcmp(buf + OFF_MAGIC, SNAPFILE_MAGIC, MAGIC_LEN))
		return why_say(why, why_len, -EBADMSG, "not a genvm snapshot (bad magic)");
	version = vmgenid_get_le32(buf + OFF_VERSION);
	if (version < 1 || version > SNAPFILE_VERSION)
		return why_say(why, why_len, -EBADMSG,
			    "snapshot format version %u is not supported (this genvm reads 1 to %d)",
			    version, SNAPFILE_VERSION);
	header_size = vmgenid_get_le32(buf + OFF_HEADER_SIZE);
	if (header_size != SNAPFILE_HEADER_SIZE)
		return why_say(why, why_len, -EBADMSG,
			    "header size %u is not supported (this genvm reads %d)",
			    header_size, SNAPFILE_HEADER_SIZE);
	crc = vmgenid_state_crc32(0, buf, OFF_HEADER_CRC);
	if (crc != vmgenid_get_le32(buf + OFF_HEADER_CRC))
		return why_say(why, why_len, -EBADMSG, "header checksum mismatch: the file is corrupt");
	flags = vmgenid_get_le32(buf + OFF_FLAGS);
	if (flags)
		return why_say(why, why_len, -EBADMSG, "unknown header flags %#x", flags);
	bad = first_reserved_byte(buf, version);
	if (bad)
		return why_say(why, why_len, -EBADMSG, "reserved header byte at offset %zu is not zero", bad);

	d.ram_size = vmgenid_get_le64(buf + OFF_RAM_SIZE);
	d.nr_cpus = vmgenid_get_le32(buf + OFF_NR_CPUS);
	d.state_offset = vmgenid_get_le64(buf + OFF_STATE_OFFSET);
	d.state_length = vmgenid_get_le64(buf + OFF_STATE_LENGTH);
	d.state_crc = vmgenid_get_le32(buf + OFF_STATE_CRC);
	d.ram_offset = vmgenid_get_le64(buf + OFF_RAM_OFFSET);
	d.ram_length = vmgenid_get_le64(buf + OFF_RAM_LENGTH);
	d.disk_offset = version >= 2 ? vmgenid_get_le64(buf + OFF_DISK_OFFSET) : 0;
	d.disk_length = version >= 2 ? vmgenid_get_le64(buf + OFF_DISK_LENGTH) : 0;
	if (check_layout(&d, why, why_len))
		return -EBADMSG;
	if (version >= 2 && check_disks(&d, why, why_len))
		return -EBADMSG;
	*h = d;
	return 0;
}

int snapfile_check_size(const struct snapfile_header *h, uint64_t file_size,
			char *why, size_t why_len)
{
	/* decode ruled out a wrap */
	uint64_t need = h->disk_length ? h->disk_offset + h->disk_length
				       : h->ram_offset + h->ram_length;

	if (file_size < need)
		return why_say(why, why_len, -EBADMSG, "truncated: the file has %llu bytes, its header says %llu",
			    (ull)file_size, (ull)need);
	return 0;
}

int snapfile_check_state(const struct snapfile_header *h, const void *state,
			 char *why, size_t why_len)
{
	uint32_t crc = vmgenid_state_crc32(0, state, (size_t)h->state_length);

	if (crc != h->state_crc)
		return why_say(why, why_len, -EBADMSG, "state checksum mismatch: the file is corrupt");
	return 0;
}
