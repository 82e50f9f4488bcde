// SPDX-License-Identifier: MIT
/*
 * crc32 (zlib's, as vmgenid_state_crc32() computes it) eight bytes at a time.  The
 * disk region checksums every block a snapshot carries, at a save and at
 * each clone's restore: vmgenid_state_crc32's four bits a step (~50 to 200 MB/s)
 * would make a 1 GiB delta cost seconds each time; eight tables of 256
 * words let one step fold in eight bytes.
 *
 * Table 0 is the usual byte-at-a-time table (reflected polynomial
 * 0xEDB88320); table k advances a byte's contribution by k more zero
 * bytes, so the eight bytes of a step are looked up independently and
 * XORed together.
 */
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "block_int.h"

static uint32_t tab[8][256];
static pthread_once_t tab_once = PTHREAD_ONCE_INIT;

static void tab_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1)));
		tab[0][i] = c;
	}
	for (int k = 1; k < 8; k++) {
		for (int i = 0; i < 256; i++)
			tab[k][i] = (tab[k - 1][i] >> 8) ^ tab[0][tab[k - 1][i] & 0xff];
	}
}

static uint32_t le32_at(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

uint32_t disk_crc32(uint32_t crc, const void *data, size_t len)
{
	const uint8_t *p = data;

	pthread_once(&tab_once, tab_init);
	crc = ~crc;
	while (len >= 8) {
		uint32_t lo = crc ^ le32_at(p), hi = le32_at(p + 4);

		crc = tab[7][lo & 0xff] ^ tab[6][(lo >> 8) & 0xff] ^ tab[5][(lo >> 16) & 0xff] ^
		      tab[4][lo >> 24] ^ tab[3][hi & 0xff] ^ tab[2][(hi >> 8) & 0xff] ^
		      tab[1][(hi >> 16) & 0xff] ^ tab[0][hi >> 24];
		p += 8;
		len -= 8;
	}
	while (len--)
		crc = (crc >> 8) ^ tab[0][(crc ^ *p++) & 0xff];
	return ~crc;
}
