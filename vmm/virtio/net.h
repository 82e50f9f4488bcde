/* SPDX-License-Identifier: MIT */
/*
 * virtio-net (virtio 1.2, 5.1): one receive and one transmit queue over a
 * packet backend (a tap, net/tap.h), served by the device's worker thread.
 *
 * Every frame crosses the backend with the 12-byte virtio-net header in
 * front, the same bytes the guest's driver reads and writes, so transmit
 * is one writev of the guest's buffers.  Receive reads one frame into a
 * buffer of the device's and copies it into as many receive buffers as it
 * needs (one, or several with MRG_RXBUF).  When the guest has no receive
 * buffer, the frame waits here and the backend is not read again until the
 * guest adds buffers; meanwhile the host's tap queue fills and drops, and
 * nothing else in genvm waits.
 */
#ifndef GENVM_VIRTIO_NET_H
#define GENVM_VIRTIO_NET_H

#include <stdbool.h>
#include <stdint.h>

#include "vmgenid/bytebuf.h"

#include "mmio.h"

#define VIRTIO_ID_NET 1

#define VIRTIO_NET_F_CSUM 0
#define VIRTIO_NET_F_GUEST_CSUM 1
#define VIRTIO_NET_F_MAC 5
#define VIRTIO_NET_F_GUEST_TSO4 7
#define VIRTIO_NET_F_GUEST_TSO6 8
#define VIRTIO_NET_F_HOST_TSO4 11
#define VIRTIO_NET_F_HOST_TSO6 12
#define VIRTIO_NET_F_MRG_RXBUF 15
#define VIRTIO_NET_F_STATUS 16

#define VIRTIO_NET_S_LINK_UP 1u

#define VIRTIO_NET_HDR_F_NEEDS_CSUM 1u
#define VIRTIO_NET_HDR_GSO_NONE 0u
#define VIRTIO_NET_HDR_GSO_TCPV4 1u
#define VIRTIO_NET_HDR_GSO_TCPV6 4u
#define VIRTIO_NET_HDR_GSO_ECN 0x80u

#define VIRTIO_NET_HDR_LEN 12u
#define VIRTIO_NET_RXQ 0u
#define VIRTIO_NET_TXQ 1u
/* The largest frame either way: a 64 KiB TCP segment with its headers, and the header. */
#define VIRTIO_NET_MAX_FRAME (65536u + 4096u)
/* Transmit chains served before receive gets its turn. */
#define VIRTIO_NET_TX_BUDGET 256u
#define VIRTIO_NET_MAC_LEN 6

struct virtio_net_backend {
	int fd; /* one read or write is one frame with its header (a tap with IFF_VNET_HDR) */
	bool guest_offload; /* the backend can pass partial checksums and TCP segments in */
	/* Tell it what the guest accepted (tap_set_offload); 0 or -errno. */
	int (*set_offload)(int fd, bool csum, bool tso4, bool tso6);
};

struct virtio_net {
	struct virtio_mmio mmio;
	struct virtio_net_backend be;
	uint8_t mac[VIRTIO_NET_MAC_LEN];

	/* The offloads the backend was last set to (features bits), and whether ever. */
	uint64_t offload;
	bool offload_known;

	/* A frame read from the backend, waiting for receive buffers (rx_len > 0). */
	uint8_t *rx_frame;
	uint32_t rx_len;
	bool rx_stalled; /* the guest had no room: do not read the backend until it kicks */
	bool backend_lost; /* the tap went away (deleted, detached): read it no more */

	/* Counters, for the log and the tests. */
	uint64_t rx_frames, tx_frames, rx_dropped, tx_dropped;

	struct virtq_chain chain;
	uint16_t heads[VIRTQ_MAX_SIZE];
	uint32_t lens[VIRTQ_MAX_SIZE];
};

/* NULL when out of memory. */
struct virtio_net *virtio_net_new(const struct vmgenid_guest_mem *mem,
				  const struct virtio_net_backend *be, const uint8_t *mac,
				  const struct virtio_mmio_ops *ops);
void virtio_net_free(struct virtio_net *n);

/*
 * The worker: transmit what the guest queued, then receive what the
 * backend has while the guest has room.  true when transmit stopped at its
 * budget with more to do (call again without waiting).
 */
bool virtio_net_process(struct virtio_net *n);
/*
 * Set the backend's offloads to the GUEST_* ones in features (what the
 * driver accepted) unless they are set so already.  The worker does it
 * before each round; vhost (vhost_net.h), which has no rounds, when it
 * starts and stops.
 */
void virtio_net_apply_offload(struct virtio_net *n, uint64_t features);
/* Whether the worker should wait for the backend to become readable (no frame is waiting). */
bool virtio_net_wants_backend(const struct virtio_net *n);
/*
 * The backend reported an error or hang-up (poll): stop reading it, once
 * logged, so a deleted tap does not make the worker spin.  Transmitted
 * frames are dropped from then on, as the writes fail.
 */
void virtio_net_backend_lost(struct virtio_net *n, const char *why);

/*
 * The device's own part of its snapshot section, after the transport's:
 * a version byte, the MAC and the link status.  check: it is what this
 * device would have written (the same MAC); len bytes exactly.
 */
#define VIRTIO_NET_STATE_LEN 9u
void virtio_net_save(const struct virtio_net *n, struct vmgenid_bytebuf *out);
int virtio_net_check(const struct virtio_net *n, const uint8_t *p, uint32_t len,
		     const char **why);

#endif
