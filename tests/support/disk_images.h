/* SPDX-License-Identifier: MIT */
/*
 * Disk images for the block layer's unit tests: a private directory under
 * $TMPDIR (default /var/tmp, a real disk: O_DIRECT is refused by tmpfs),
 * images filled with a pattern that differs at every sector, and the check
 * that an image still holds it (nothing wrote the base of a snapshot=on
 * drive).
 */
#ifndef VMGENID_TEST_DISK_IMAGES_H
#define VMGENID_TEST_DISK_IMAGES_H

#include <stddef.h>
#include <stdint.h>

/* The directory images_setup() made; empty before. */
extern char image_dir[256];

/* Makes image_dir as $TMPDIR/NAME-XXXXXX: 0 or -1 (cmocka group setup). */
int images_setup(const char *name);
/* Removes image_dir and everything in it: 0 or -1. */
int images_teardown(void);

/* Byte i of every test image. */
uint8_t image_pattern(uint64_t i);
/* image_dir/NAME into out. */
void image_path(char *out, size_t len, const char *name);
/* Creates image_dir/NAME of len bytes of image_pattern(); its path into path. */
void make_image(char *path, size_t path_len, const char *name, uint64_t len);
/* Asserts the file is len bytes long and still image_pattern() in every byte. */
void image_untouched(const char *path, uint64_t len);

#endif
