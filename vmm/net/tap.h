/* SPDX-License-Identifier: MIT */
/*
 * A tap device as a virtio-net backend: opened by name through
 * /dev/net/tun with a virtio-net header in front of every frame, so
 * checksum and segmentation offloads pass between the guest and the host
 * stack unchanged.  A tap that does not exist yet is created; it is not
 * made persistent, so the kernel removes it when genvm's descriptor
 * closes (at exit, or on an error before the guest ran).
 */
#ifndef GENVM_NET_TAP_H
#define GENVM_NET_TAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TAP_NAME_MAX 15 /* IFNAMSIZ - 1 */
/* The header in front of each frame: virtio 1.x's struct virtio_net_hdr with num_buffers. */
#define TAP_VNET_HDR_LEN 12

struct tap {
	int fd;
	char name[TAP_NAME_MAX + 1];
	bool created;      /* it did not exist before genvm opened it */
	bool guest_offload; /* the tap can hand us TCP segments and partial checksums */
};

/*
 * Open (or create) the tap called name ("" lets the kernel pick tapN),
 * non-blocking.  0, or -1 with a sentence for "genvm: ...: <why>" in why.
 */
int tap_open(const char *name, struct tap *t, char *why, size_t why_len);
void tap_close(struct tap *t);

/*
 * What the tap may hand the guest (TUNSETOFFLOAD): frames with a partial
 * checksum, TCP segments over IPv4, over IPv6 (each needs csum).  Without
 * them the host stack finishes checksums and segments before the tap.
 * 0 or -errno.
 */
int tap_set_offload(int fd, bool csum, bool tso4, bool tso6);

#endif
