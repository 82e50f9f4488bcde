// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmgenid/endian.h"
#include "vmgenid/log.h"

#include "net.h"

#define MOD "virtio-net"

#define CONFIG_LEN 8u /* struct virtio_net_config: mac[6], le16 status */
#define STATE_VERSION 1u

#define BIT(f) (1ull << (f))
#define GUEST_OFFLOADS                                                                      \
	(BIT(VIRTIO_NET_F_GUEST_CSUM) | BIT(VIRTIO_NET_F_GUEST_TSO4) | BIT(VIRTIO_NET_F_GUEST_TSO6))

/* Header fields (5.1.6): flags, gso_type, hdr_len, gso_size, csum_start, csum_offset, num_buffers. */
#define HDR_FLAGS 0
#define HDR_GSO_TYPE 1
#define HDR_NUM_BUFFERS 10

struct virtio_net *virtio_net_new(const struct vmgenid_guest_mem *mem,
				  const struct virtio_net_backend *be, const uint8_t *mac,
				  const struct virtio_mmio_ops *ops)
{
	struct virtio_net *n = calloc(1, sizeof(*n));
	uint8_t config[CONFIG_LEN];
	/*
	 * The guest may always send partial checksums and TCP segments: the
	 * tap takes them with the header and the host stack finishes them.
	 * What the guest may receive that way depends on the tap.
	 */
	uint64_t features = BIT(VIRTIO_NET_F_MAC) | BIT(VIRTIO_NET_F_STATUS) |
			    BIT(VIRTIO_NET_F_MRG_RXBUF) | BIT(VIRTIO_NET_F_CSUM) |
			    BIT(VIRTIO_NET_F_HOST_TSO4) | BIT(VIRTIO_NET_F_HOST_TSO6) |
			    BIT(VIRTIO_F_INDIRECT_DESC) | BIT(VIRTIO_F_EVENT_IDX);

	if (!n)
		return NULL;
	n->rx_frame = malloc(VIRTIO_NET_MAX_FRAME);
	if (!n->rx_frame) {
		free(n);
		return NULL;
	}
	n->be = *be;
	memcpy(n->mac, mac, VIRTIO_NET_MAC_LEN);
	if (be->guest_offload)
		features |= GUEST_OFFLOADS;
	memcpy(config, mac, VIRTIO_NET_MAC_LEN);
	vmgenid_put_le16(config + 6, VIRTIO_NET_S_LINK_UP);
	virtio_mmio_init(&n->mmio, mem, VIRTIO_ID_NET, features, 2, config, sizeof(config), ops);
	return n;
}

void virtio_net_free(struct virtio_net *n)
{
	if (!n)
		return;
	virtio_mmio_destroy(&n->mmio);
	free(n->rx_frame);
	free(n);
}

/*
 * The backend hands the guest only what the guest's driver accepted:
 * after a reset (features 0) and after a restore (the snapshot's
 * features), this runs again before the next frame is read.
 */
void virtio_net_apply_offload(struct virtio_net *n, uint64_t features)
{
	uint64_t want = features & GUEST_OFFLOADS;
	int err;

	if (n->offload_known && want == n->offload)
		return;
	n->offload = want;
	n->offload_known = true;
	if (!n->be.set_offload)
		return;
	err = n->be.set_offload(n->be.fd, want & BIT(VIRTIO_NET_F_GUEST_CSUM),
				want & BIT(VIRTIO_NET_F_GUEST_TSO4),
				want & BIT(VIRTIO_NET_F_GUEST_TSO6));
	if (err < 0)
		vmgenid_pr_warn(MOD, "setting the tap's offloads: %s", strerror(-err));
}

static void transmit(struct virtio_net *n, unsigned int *budget)
{
	struct virtq_chain *c = &n->chain;

	while (*budget && virtio_mmio_begin(&n->mmio, VIRTIO_NET_TXQ, c) > 0) {
		ssize_t w;

		(*budget)--;
		/*
		 * A transmit chain is the header and the frame, all readable.
		 * Anything else is dropped, and the guest gets its buffers back.
		 */
		if (c->nr_in || c->out_len < VIRTIO_NET_HDR_LEN ||
		    c->out_len > VIRTIO_NET_MAX_FRAME) {
			n->tx_dropped++;
			virtio_mmio_end(&n->mmio, VIRTIO_NET_TXQ, c->head, 0);
			continue;
		}
		do {
			w = writev(n->be.fd, c->iov, (int)c->nr_out);
		} while (w < 0 && errno == EINTR);
		/* A full or downed tap, or a header the host refuses: the frame is lost, as on a wire. */
		if (w < 0)
			n->tx_dropped++;
		else
			n->tx_frames++;
		virtio_mmio_end(&n->mmio, VIRTIO_NET_TXQ, c->head, 0);
	}
}

enum rx_result { RX_DONE, RX_NO_ROOM, RX_DROPPED };

/*
 * Whether the frame's header asks for what the driver did not accept: a
 * partial checksum without GUEST_CSUM, a segment without GUEST_TSO.  The
 * tap's offloads follow the features, so this is a frame from before a
 * change of them.
 */
static bool header_acceptable(const uint8_t *hdr, uint64_t features)
{
	uint8_t gso = hdr[HDR_GSO_TYPE] & (uint8_t)~VIRTIO_NET_HDR_GSO_ECN;

	if ((hdr[HDR_FLAGS] & VIRTIO_NET_HDR_F_NEEDS_CSUM) &&
	    !(features & BIT(VIRTIO_NET_F_GUEST_CSUM)))
		return false;
	if (gso == VIRTIO_NET_HDR_GSO_TCPV4)
		return features & BIT(VIRTIO_NET_F_GUEST_TSO4);
	if (gso == VIRTIO_NET_HDR_GSO_TCPV6)
		return features & BIT(VIRTIO_NET_F_GUEST_TSO6);
	return gso == VIRTIO_NET_HDR_GSO_NONE;
}

/* The waiting frame into receive buffers. */
static enum rx_result deliver(struct virtio_net *n, uint64_t features)
{
	struct virtq_chain *c = &n->chain;
	bool mergeable = features & BIT(VIRTIO_NET_F_MRG_RXBUF);
	unsigned int max = mergeable ? VIRTQ_MAX_SIZE : 1, nbufs = 0;
	struct iovec first[VIRTIO_NET_HDR_LEN];
	unsigned int nfirst = 0;
	uint32_t copied = 0;
	uint8_t count[2];

	if (!header_acceptable(n->rx_frame, features))
		return RX_DROPPED;
	if (!(features & BIT(VIRTIO_NET_F_GUEST_CSUM)))
		n->rx_frame[HDR_FLAGS] = 0; /* 5.1.6.4.1: no flags without GUEST_CSUM */
	vmgenid_put_le16(n->rx_frame + HDR_NUM_BUFFERS, 1);
	while (copied < n->rx_len) {
		size_t got;

		if (nbufs == max) {
			/* One buffer too small for the frame: the frame goes, the buffer stays. */
			virtio_mmio_unpop(&n->mmio, VIRTIO_NET_RXQ, nbufs);
			return RX_DROPPED;
		}
		if (virtio_mmio_begin(&n->mmio, VIRTIO_NET_RXQ, c) <= 0) {
			virtio_mmio_unpop(&n->mmio, VIRTIO_NET_RXQ, nbufs);
			return RX_NO_ROOM;
		}
		/* 5.1.6.3: receive buffers are device-writable, each able to hold the header. */
		if (c->nr_out || c->in_len < VIRTIO_NET_HDR_LEN) {
			virtio_mmio_fail(&n->mmio, c->nr_out ? "a receive buffer the device may not write"
							     : "a receive buffer smaller than the header");
			return RX_DROPPED;
		}
		if (nbufs == 0) {
			/* Zero-length segments are refused, so 12 of them hold the header. */
			nfirst = c->nr_in < VIRTIO_NET_HDR_LEN ? c->nr_in : VIRTIO_NET_HDR_LEN;
			memcpy(first, c->iov, nfirst * sizeof(first[0]));
		}
		got = iov_copy_to(c->iov, c->nr_in, 0, n->rx_frame + copied, n->rx_len - copied);
		n->heads[nbufs] = c->head;
		n->lens[nbufs] = (uint32_t)got;
		nbufs++;
		copied += (uint32_t)got;
	}
	if (nbufs > 1) {
		vmgenid_put_le16(count, (uint16_t)nbufs);
		iov_copy_to(first, nfirst, HDR_NUM_BUFFERS, count, sizeof(count));
	}
	virtio_mmio_end_many(&n->mmio, VIRTIO_NET_RXQ, n->heads, n->lens, nbufs);
	return RX_DONE;
}

static void receive(struct virtio_net *n, uint64_t features)
{
	/* A bound, so a flood on the tap cannot keep transmit from its turn. */
	for (unsigned int budget = VIRTIO_NET_TX_BUDGET; budget; budget--) {
		if (!n->rx_len) {
			ssize_t r = read(n->be.fd, n->rx_frame, VIRTIO_NET_MAX_FRAME);

			if (r < 0) {
				if (errno != EAGAIN && errno != EINTR)
					virtio_net_backend_lost(n, strerror(errno));
				return;
			}
			if ((size_t)r <= VIRTIO_NET_HDR_LEN) {
				n->rx_dropped++;
				continue;
			}
			n->rx_len = (uint32_t)r;
		}
		switch (deliver(n, features)) {
		case RX_NO_ROOM:
			n->rx_stalled = true;
			return;
		case RX_DROPPED:
			n->rx_dropped++;
			break;
		case RX_DONE:
			n->rx_frames++;
			break;
		}
		n->rx_len = 0;
	}
}

bool virtio_net_process(struct virtio_net *n)
{
	uint64_t features = virtio_mmio_driver_features(&n->mmio);
	unsigned int budget = VIRTIO_NET_TX_BUDGET;

	virtio_net_apply_offload(n, features);
	transmit(n, &budget);
	n->rx_stalled = false;
	if (!n->backend_lost)
		receive(n, features);
	return budget == 0;
}

bool virtio_net_wants_backend(const struct virtio_net *n)
{
	return !n->rx_stalled && !n->backend_lost;
}

void virtio_net_backend_lost(struct virtio_net *n, const char *why)
{
	if (n->backend_lost)
		return;
	n->backend_lost = true;
	vmgenid_pr_warn(MOD, "the tap failed (%s): the guest receives nothing more", why);
}

void virtio_net_save(const struct virtio_net *n, struct vmgenid_bytebuf *out)
{
	vmgenid_bytebuf_put_u8(out, STATE_VERSION);
	vmgenid_bytebuf_append(out, n->mac, VIRTIO_NET_MAC_LEN);
	vmgenid_bytebuf_put_le16(out, VIRTIO_NET_S_LINK_UP);
}

int virtio_net_check(const struct virtio_net *n, const uint8_t *p, uint32_t len,
		     const char **why)
{
	if (len != VIRTIO_NET_STATE_LEN) {
		*why = "virtio-net state has the wrong length";
		return -EINVAL;
	}
	if (p[0] != STATE_VERSION) {
		*why = "unsupported virtio-net state version";
		return -EINVAL;
	}
	if (memcmp(p + 1, n->mac, VIRTIO_NET_MAC_LEN)) {
		*why = "the NIC's MAC differs from the snapshot's (give the source's mac=)";
		return -EINVAL;
	}
	if (vmgenid_get_le16(p + 7) & ~VIRTIO_NET_S_LINK_UP) {
		*why = "virtio-net link status has unknown bits";
		return -EINVAL;
	}
	return 0;
}
