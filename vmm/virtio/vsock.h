/* SPDX-License-Identifier: MIT */
/*
 * virtio-vsock (virtio 1.2, 5.10) with a hybrid backend, as Firecracker
 * has it: the host end of every guest connection is a unix socket, so a
 * guest needs no CID that is unique on the host, and clones of one
 * snapshot can all run with the same configuration.
 *
 *  - genvm listens on the unix socket PATH.  A host program connects,
 *    writes "CONNECT <port>\n" and, once the guest's listener on that
 *    vsock port accepted, reads "OK <hostport>\n"; the socket then carries
 *    the connection's bytes both ways.
 *  - A guest connection to CID 2 (the host) port P becomes a connection to
 *    the unix socket "PATH_P"; nothing listening there means a reset.
 *
 * Everything runs on the device's worker thread, off the vCPUs: one epoll
 * over the queue notifications, the listening socket and the connections.
 * Nothing a peer does can hold that thread up: sockets are non-blocking,
 * bytes from the guest wait in a per-connection buffer no larger than the
 * credit the device gave the guest (buf_alloc), bytes for the guest are
 * read from a socket only when the guest has credit and a buffer for
 * them.  A guest that sends past its credit, or a host program that does
 * not finish its CONNECT line in time, loses its connection alone.
 *
 * After a restore (virtio_vsock_post_load) the device sends the guest
 * VIRTIO_VSOCK_EVENT_TRANSPORT_RESET before anything else, so every
 * socket the guest had at save time fails, and it drops whatever
 * connections it holds that belong to the state before.
 */
#ifndef GENVM_VIRTIO_VSOCK_H
#define GENVM_VIRTIO_VSOCK_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "vmgenid/bytebuf.h"

#include "mmio.h"

#define VIRTIO_ID_VSOCK 19

#define VSOCK_QUEUE_RX 0
#define VSOCK_QUEUE_TX 1
#define VSOCK_QUEUE_EVENT 2

#define VIRTIO_VSOCK_F_STREAM 0

#define VSOCK_CID_HOST 2u
#define VSOCK_CID_MIN 3u                /* 0, 1, 2 are reserved (hypervisor, local, host) */
#define VSOCK_CID_MAX 0xfffffffeu       /* 0xffffffff is VMADDR_CID_ANY */
#define VSOCK_PORT_ANY 0xffffffffu

/* The packet header (5.10.6), 44 bytes, little-endian. */
#define VSOCK_HDR_LEN 44u
#define VSOCK_TYPE_STREAM 1
#define VSOCK_OP_REQUEST 1
#define VSOCK_OP_RESPONSE 2
#define VSOCK_OP_RST 3
#define VSOCK_OP_SHUTDOWN 4
#define VSOCK_OP_RW 5
#define VSOCK_OP_CREDIT_UPDATE 6
#define VSOCK_OP_CREDIT_REQUEST 7
#define VSOCK_SHUTDOWN_RCV 1u
#define VSOCK_SHUTDOWN_SEND 2u
#define VSOCK_EVENT_TRANSPORT_RESET 0u

/* A packet header's fields, in host byte order. */
struct vsock_hdr {
	uint64_t src_cid, dst_cid;
	uint32_t src_port, dst_port, len;
	uint16_t type, op;
	uint32_t flags, buf_alloc, fwd_cnt;
};

/* A header to and from its VSOCK_HDR_LEN little-endian bytes at h. */
void vsock_hdr_encode(uint8_t *h, const struct vsock_hdr *hdr);
void vsock_hdr_decode(const uint8_t *h, struct vsock_hdr *hdr);

/* What the device gives each connection: its credit to the guest. */
#define VSOCK_BUF_ALLOC (256u * 1024u)
/* The most connections at once; more host clients are closed at once. */
#define VSOCK_MAX_CONNS 128u
/* "CONNECT 4294967294\n" is 19 bytes; longer lines are refused. */
#define VSOCK_CONNECT_LINE_MAX 32u
/* How long a host client has to write its line, and the guest to answer it. */
#define VSOCK_HANDSHAKE_MS 5000u
/* How long a connection the guest closed may take to hand its last bytes to the host. */
#define VSOCK_LINGER_MS 5000u
/* Host ports of host-initiated connections: from here up, as Firecracker does. */
#define VSOCK_HOST_PORT_FIRST (1u << 30)
/* Guest resets for connections genvm has no record of, waiting for a receive buffer. */
#define VSOCK_RST_QUEUE 64u
/* The longest uds= path: PATH_4294967295 must fit a sockaddr_un. */
#define VSOCK_UDS_MAX 96u

struct vsock_conn;

struct virtio_vsock {
	struct virtio_mmio mmio;
	uint32_t guest_cid;
	char path[VSOCK_UDS_MAX + 1];
	int listen_fd;
	int epoll_fd;
	int kick_fd;                /* not owned: the slot's QueueNotify eventfd */

	/* The worker's own: connections, in no order. */
	struct vsock_conn *conns[VSOCK_MAX_CONNS];
	unsigned int nr_conns;
	unsigned int next_conn;     /* where the next round of sends to the guest starts */
	uint32_t next_host_port;
	struct {
		uint32_t src_port, dst_port; /* as the guest will see them */
	} rst[VSOCK_RST_QUEUE];
	unsigned int rst_head, rst_len;
	bool warned;                /* one warning for a misbehaving driver */

	/* Set by post_load (another thread), taken by the worker. */
	atomic_bool reset_pending;
	bool event_owed;            /* TRANSPORT_RESET not yet in an event buffer */
	uint64_t hold_until;        /* new traffic waits for the guest to take the event in */
	int hold_avail;             /* the event queue's avail idx when the event went */
	bool was_ok;                /* DRIVER_OK when last looked at */

	struct virtq_chain chain;   /* scratch: one request at a time */
};

/*
 * Bind the listening socket at path (a stale socket left by an earlier run
 * is replaced; a live one or any other file is not) and set up the epoll
 * that kick_fd wakes.  NULL with a sentence in why.
 */
struct virtio_vsock *virtio_vsock_new(const struct vmgenid_guest_mem *mem, uint32_t guest_cid,
				      const char *path, int kick_fd,
				      const struct virtio_mmio_ops *ops, char *why, size_t why_len);
/* Close everything and remove the socket file. */
void virtio_vsock_free(struct virtio_vsock *v);

/*
 * One round of the worker: wait up to timeout_ms (-1: until something
 * happens, or the nearest deadline) and serve what is ready.  The worker
 * thread loops on it; tests call it directly.
 */
void virtio_vsock_step(struct virtio_vsock *v, int timeout_ms);

/* After a restore: reset the guest's transport, drop the old connections. */
void virtio_vsock_post_load(struct virtio_vsock *v);

/*
 * A "CONNECT <port>\n" line from a host client, in buf[0..len).  1: a
 * whole line, *port and *line_len (newline included) set; 0: no newline
 * yet and still room for one; -1: malformed, *why says how (too long, no
 * "CONNECT ", not a number, out of range).
 */
int vsock_parse_connect(const char *buf, size_t len, uint32_t *port, size_t *line_len,
			const char **why);

/* The device's part of its "virtio.N" section, after the transport's. */
#define VSOCK_STATE_VERSION 1u
#define VSOCK_STATE_LEN 13u /* le32 version, le64 guest CID, u8 backend */
#define VSOCK_BACKEND_HYBRID 0
#define VSOCK_BACKEND_VHOST 1
void vsock_save_tail(uint32_t guest_cid, uint8_t backend, struct vmgenid_bytebuf *out);
int vsock_check_tail(const uint8_t *p, uint32_t len, uint8_t backend, const char **why);

#endif
