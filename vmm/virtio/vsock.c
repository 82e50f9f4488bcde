// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "vmgenid/endian.h"
#include "vmgenid/log.h"

#include "vsock.h"

#define MOD "virtio-vsock"

/* epoll tags: the low 32 bits of the event data; the fd is in the high 32. */
#define TAG_KICK 0u
#define TAG_LISTEN 1u
#define TAG_CONN 2u /* + the connection's slot */

/* The largest payload one packet to the guest carries (Linux's own limit). */
#define MAX_PAYLOAD (64u * 1024u)
/* How long the guest gets to take in a TRANSPORT_RESET before new traffic. */
#define RESET_HOLD_MS 2000u

enum conn_state {
	C_LINE,        /* host client: waiting for its CONNECT line */
	C_REQUEST,     /* host client: REQUEST owed to or sent to the guest */
	C_ESTABLISHED,
	C_CLOSING,     /* the guest shut both ways: last bytes to the host, then RST */
};

/* Control packets a connection owes the guest. */
#define OWE_REQUEST 1u
#define OWE_RESPONSE 2u
#define OWE_SHUTDOWN 4u /* host EOF: SHUTDOWN with SEND */
#define OWE_CREDIT 8u

struct vsock_conn {
	int fd;
	unsigned int slot;
	enum conn_state state;
	uint32_t host_port, guest_port;
	uint64_t deadline;      /* ms on CLOCK_MONOTONIC, 0: none */
	unsigned int owed;
	bool request_sent;
	bool readable, writable;
	bool host_eof, guest_no_send, guest_no_recv, shut_wr;

	/* Guest to host: bytes taken from the guest and not yet written (a ring). */
	uint8_t *buf;
	uint32_t head, used;
	uint32_t recv_cnt, fwd_cnt, fwd_told;

	/* Host to guest: the guest's credit. */
	uint32_t guest_buf_alloc, guest_fwd_cnt, sent_cnt;
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static bool connect_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/*
 * The line is read as Firecracker's muxer reads it, so that a client
 * written for Firecracker works unchanged: words split on any whitespace,
 * the first "connect" in any case, the second the port; more words are
 * ignored.  A line over 32 bytes is refused, as Firecracker's buffer ends
 * there.
 */
int vsock_parse_connect(const char *buf, size_t len, uint32_t *port, size_t *line_len,
			const char **why)
{
	static const char verb[] = "connect";
	const char *nl = memchr(buf, '\n', len);
	size_t i = 0, end, w;
	uint64_t v = 0;

	if (!nl) {
		if (len >= VSOCK_CONNECT_LINE_MAX) {
			*why = "the line is too long";
			return -1;
		}
		return 0;
	}
	end = (size_t)(nl - buf);
	if (end + 1 > VSOCK_CONNECT_LINE_MAX) {
		*why = "the line is too long";
		return -1;
	}
	while (i < end && connect_space(buf[i]))
		i++;
	for (w = 0; i < end && !connect_space(buf[i]); i++, w++) {
		if (w >= sizeof(verb) - 1 || (buf[i] | 0x20) != verb[w])
			break;
	}
	if (w != sizeof(verb) - 1 || (i < end && !connect_space(buf[i]))) {
		*why = "the line does not start with \"CONNECT\"";
		return -1;
	}
	while (i < end && connect_space(buf[i]))
		i++;
	if (i == end) {
		*why = "no port number";
		return -1;
	}
	if (buf[i] == '+') /* a sign, as Rust's u32 parse takes it */
		i++;
	for (w = 0; i < end && !connect_space(buf[i]); i++, w++) {
		if (buf[i] < '0' || buf[i] > '9') {
			*why = "the port is not a decimal number";
			return -1;
		}
		v = v * 10 + (uint64_t)(buf[i] - '0');
		if (v > UINT32_MAX)
			v = UINT32_MAX + 1ull; /* stays out of range however many digits follow */
	}
	if (w == 0) {
		*why = "the port is not a decimal number";
		return -1;
	}
	/* VMADDR_PORT_ANY is no port to connect to. */
	if (v >= VSOCK_PORT_ANY) {
		*why = "the port is out of range (0 to 4294967294)";
		return -1;
	}
	*port = (uint32_t)v;
	*line_len = end + 1;
	return 1;
}

/* ---- setup ---- */

/* A socket file left by a run that is gone can be replaced; anything else stays. */
static int prepare_path(const char *path, const struct sockaddr_un *sa, char *why, size_t why_len)
{
	struct stat st;
	int fd, ret;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : (snprintf(why, why_len, "%s: %s", path, strerror(errno)), -1);
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(why, why_len, "%s: exists and is not a socket", path);
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(why, why_len, "socket: %s", strerror(errno));
		return -1;
	}
	ret = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
	close(fd);
	if (ret == 0) {
		snprintf(why, why_len, "%s: another process listens there", path);
		return -1;
	}
	if (errno != ECONNREFUSED) {
		snprintf(why, why_len, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (unlink(path) < 0) {
		snprintf(why, why_len, "%s: removing a stale socket: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

static int epoll_add(int ep, int fd, uint32_t events, uint32_t tag)
{
	struct epoll_event e = { .events = events, .data.u64 = ((uint64_t)(uint32_t)fd << 32) | tag };

	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
}

struct virtio_vsock *virtio_vsock_new(const struct vmgenid_guest_mem *mem, uint32_t guest_cid,
				      const char *path, int kick_fd,
				      const struct virtio_mmio_ops *ops, char *why, size_t why_len)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct virtio_vsock *v;
	uint8_t config[8];

	if (strlen(path) > VSOCK_UDS_MAX) {
		snprintf(why, why_len, "%s: longer than %u bytes", path, VSOCK_UDS_MAX);
		return NULL;
	}
	v = calloc(1, sizeof(*v));
	if (!v) {
		snprintf(why, why_len, "out of memory");
		return NULL;
	}
	v->listen_fd = v->epoll_fd = -1;
	v->kick_fd = kick_fd;
	v->guest_cid = guest_cid;
	v->next_host_port = VSOCK_HOST_PORT_FIRST;
	atomic_init(&v->reset_pending, false);
	memcpy(v->path, path, strlen(path) + 1);
	vmgenid_put_le64(config, guest_cid); /* struct virtio_vsock_config: le64 guest_cid */
	virtio_mmio_init(&v->mmio, mem, VIRTIO_ID_VSOCK,
			 (1ull << VIRTIO_VSOCK_F_STREAM) | (1ull << VIRTIO_F_EVENT_IDX) |
				 (1ull << VIRTIO_F_INDIRECT_DESC),
			 3, config, sizeof(config), ops);

	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (prepare_path(path, &sa, why, why_len) < 0)
		goto fail;
	v->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (v->listen_fd < 0 || bind(v->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		snprintf(why, why_len, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (listen(v->listen_fd, 64) < 0) {
		snprintf(why, why_len, "%s: listen: %s", path, strerror(errno));
		unlink(path);
		goto fail;
	}
	v->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (v->epoll_fd < 0 || epoll_add(v->epoll_fd, kick_fd, EPOLLIN, TAG_KICK) < 0 ||
	    epoll_add(v->epoll_fd, v->listen_fd, EPOLLIN, TAG_LISTEN) < 0) {
		snprintf(why, why_len, "epoll: %s", strerror(errno));
		unlink(path);
		goto fail;
	}
	return v;
fail:
	if (v->listen_fd >= 0)
		close(v->listen_fd);
	if (v->epoll_fd >= 0)
		close(v->epoll_fd);
	virtio_mmio_destroy(&v->mmio);
	free(v);
	return NULL;
}

static void conn_free(struct virtio_vsock *v, struct vsock_conn *c)
{
	v->conns[c->slot] = NULL;
	v->nr_conns--;
	close(c->fd);
	free(c->buf);
	free(c);
}

void virtio_vsock_free(struct virtio_vsock *v)
{
	if (!v)
		return;
	for (unsigned int i = 0; i < VSOCK_MAX_CONNS; i++) {
		if (v->conns[i])
			conn_free(v, v->conns[i]);
	}
	if (v->listen_fd >= 0) {
		close(v->listen_fd);
		unlink(v->path);
	}
	if (v->epoll_fd >= 0)
		close(v->epoll_fd);
	virtio_mmio_destroy(&v->mmio);
	free(v);
}

void virtio_vsock_post_load(struct virtio_vsock *v)
{
	uint64_t one = 1;

	atomic_store(&v->reset_pending, true);
	if (write(v->kick_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		vmgenid_pr_warn(MOD, "waking the worker: %s", strerror(errno));
}

/* ---- connections ---- */

static void warn_once(struct virtio_vsock *v, const char *what)
{
	if (v->warned)
		return;
	v->warned = true;
	vmgenid_pr_warn(MOD, "the driver %s (dropped; further ones are not reported)", what);
}

static void queue_rst(struct virtio_vsock *v, uint32_t host_port, uint32_t guest_port)
{
	/* Full: the guest's own connect timeout ends what the reset would have. */
	if (v->rst_len == VSOCK_RST_QUEUE)
		return;
	v->rst[(v->rst_head + v->rst_len) % VSOCK_RST_QUEUE].src_port = host_port;
	v->rst[(v->rst_head + v->rst_len) % VSOCK_RST_QUEUE].dst_port = guest_port;
	v->rst_len++;
}

/* End a connection; rst: tell the guest (it knows of the connection). */
static void conn_kill(struct virtio_vsock *v, struct vsock_conn *c, bool rst)
{
	if (rst)
		queue_rst(v, c->host_port, c->guest_port);
	conn_free(v, c);
}

static struct vsock_conn *conn_new(struct virtio_vsock *v, int fd)
{
	struct vsock_conn *c;
	unsigned int i;

	if (v->nr_conns == VSOCK_MAX_CONNS)
		return NULL;
	for (i = 0; v->conns[i]; i++)
		;
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->fd = fd;
	c->slot = i;
	c->writable = true;
	if (epoll_add(v->epoll_fd, fd, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, TAG_CONN + i) < 0) {
		free(c);
		return NULL;
	}
	v->conns[i] = c;
	v->nr_conns++;
	return c;
}

static struct vsock_conn *conn_find(struct virtio_vsock *v, uint32_t host_port, uint32_t guest_port)
{
	for (unsigned int i = 0; i < VSOCK_MAX_CONNS; i++) {
		struct vsock_conn *c = v->conns[i];

		if (c && c->state != C_LINE && c->host_port == host_port &&
		    c->guest_port == guest_port)
			return c;
	}
	return NULL;
}

static bool host_port_used(struct virtio_vsock *v, uint32_t port)
{
	for (unsigned int i = 0; i < VSOCK_MAX_CONNS; i++) {
		if (v->conns[i] && v->conns[i]->state != C_LINE && v->conns[i]->host_port == port)
			return true;
	}
	return false;
}

static uint32_t alloc_host_port(struct virtio_vsock *v)
{
	/* At most VSOCK_MAX_CONNS ports are in use: this ends within that many tries. */
	do {
		uint32_t p = v->next_host_port;

		v->next_host_port = p >= VSOCK_PORT_ANY - 1 ? VSOCK_HOST_PORT_FIRST : p + 1;
		if (!host_port_used(v, p))
			return p;
	} while (1);
}

/* What the guest may still send us, as it last heard: what we owe it a credit update for. */
static void check_credit(struct vsock_conn *c)
{
	uint32_t guest_view = VSOCK_BUF_ALLOC - (c->recv_cnt - c->fwd_told);

	if (c->fwd_cnt != c->fwd_told && guest_view < VSOCK_BUF_ALLOC / 2)
		c->owed |= OWE_CREDIT;
}

/* Write buffered guest bytes to the host; false if the connection ended. */
static bool conn_flush(struct virtio_vsock *v, struct vsock_conn *c)
{
	while (c->used && c->writable) {
		uint32_t first = VSOCK_BUF_ALLOC - c->head;
		struct iovec iov[2] = {
			{ c->buf + c->head, c->used < first ? c->used : first },
			{ c->buf, c->used > first ? c->used - first : 0 },
		};
		struct msghdr msg = { .msg_iov = iov, .msg_iovlen = iov[1].iov_len ? 2 : 1 };
		ssize_t n = sendmsg(c->fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				c->writable = false;
				break;
			}
			if (errno == EINTR)
				continue;
			/* The host end is gone: nothing the guest sends can arrive any more. */
			conn_kill(v, c, true);
			return false;
		}
		c->head = (c->head + (uint32_t)n) % VSOCK_BUF_ALLOC;
		c->used -= (uint32_t)n;
		c->fwd_cnt += (uint32_t)n;
	}
	if (!c->used && c->buf) {
		free(c->buf); /* an idle connection holds no buffer */
		c->buf = NULL;
		c->head = 0;
	}
	if (!c->used && c->guest_no_send && !c->shut_wr && c->state == C_ESTABLISHED) {
		shutdown(c->fd, SHUT_WR);
		c->shut_wr = true;
	}
	if (!c->used && c->state == C_CLOSING) {
		conn_kill(v, c, true);
		return false;
	}
	check_credit(c);
	return true;
}

/* ---- guest to host ---- */

void vsock_hdr_encode(uint8_t *h, const struct vsock_hdr *hdr)
{
	vmgenid_put_le64(h, hdr->src_cid);
	vmgenid_put_le64(h + 8, hdr->dst_cid);
	vmgenid_put_le32(h + 16, hdr->src_port);
	vmgenid_put_le32(h + 20, hdr->dst_port);
	vmgenid_put_le32(h + 24, hdr->len);
	vmgenid_put_le16(h + 28, hdr->type);
	vmgenid_put_le16(h + 30, hdr->op);
	vmgenid_put_le32(h + 32, hdr->flags);
	vmgenid_put_le32(h + 36, hdr->buf_alloc);
	vmgenid_put_le32(h + 40, hdr->fwd_cnt);
}

void vsock_hdr_decode(const uint8_t *h, struct vsock_hdr *hdr)
{
	hdr->src_cid = vmgenid_get_le64(h);
	hdr->dst_cid = vmgenid_get_le64(h + 8);
	hdr->src_port = vmgenid_get_le32(h + 16);
	hdr->dst_port = vmgenid_get_le32(h + 20);
	hdr->len = vmgenid_get_le32(h + 24);
	hdr->type = vmgenid_get_le16(h + 28);
	hdr->op = vmgenid_get_le16(h + 30);
	hdr->flags = vmgenid_get_le32(h + 32);
	hdr->buf_alloc = vmgenid_get_le32(h + 36);
	hdr->fwd_cnt = vmgenid_get_le32(h + 40);
}

/* A guest REQUEST to the host: connect to PATH_<port>, or reset. */
static void guest_connect(struct virtio_vsock *v, const struct vsock_hdr *p)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct vsock_conn *c;
	int fd;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s_%u", v->path, p->dst_port);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		queue_rst(v, p->dst_port, p->src_port);
		return;
	}
	/* A unix socket connects at once or not at all (EAGAIN: its backlog is full). */
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || !(c = conn_new(v, fd))) {
		close(fd);
		queue_rst(v, p->dst_port, p->src_port);
		return;
	}
	c->state = C_ESTABLISHED;
	c->host_port = p->dst_port;
	c->guest_port = p->src_port;
	c->guest_buf_alloc = p->buf_alloc;
	c->guest_fwd_cnt = p->fwd_cnt;
	c->owed |= OWE_RESPONSE;
}

/* Payload bytes of the chain from byte skip: into the host socket, the rest into the ring. */
static bool take_payload(struct virtio_vsock *v, struct vsock_conn *c, uint32_t len)
{
	const struct virtq_chain *ch = &v->chain;
	uint32_t done = 0;

	if (!c->used && c->writable) {
		struct iovec iov[VIRTQ_MAX_SEGS];
		size_t skip = VSOCK_HDR_LEN, left = len;
		unsigned int n = 0;
		struct msghdr msg = { .msg_iov = iov };
		ssize_t w;

		for (unsigned int i = 0; i < ch->nr_out && left; i++) {
			size_t seg = ch->iov[i].iov_len;

			if (skip >= seg) {
				skip -= seg;
				continue;
			}
			iov[n].iov_base = (uint8_t *)ch->iov[i].iov_base + skip;
			iov[n].iov_len = seg - skip < left ? seg - skip : left;
			left -= iov[n].iov_len;
			n++;
			skip = 0;
		}
		msg.msg_iovlen = n;
		do
			w = sendmsg(c->fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
		while (w < 0 && errno == EINTR);
		if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
			conn_kill(v, c, true);
			return false;
		}
		if (w < 0 || (uint32_t)w < len)
			c->writable = false;
		done = w > 0 ? (uint32_t)w : 0;
		c->fwd_cnt += done;
	}
	if (done < len) {
		uint32_t tail = (c->head + c->used) % VSOCK_BUF_ALLOC, rest = len - done;
		uint32_t first = VSOCK_BUF_ALLOC - tail < rest ? VSOCK_BUF_ALLOC - tail : rest;

		if (!c->buf && !(c->buf = malloc(VSOCK_BUF_ALLOC))) {
			conn_kill(v, c, true);
			return false;
		}
		iov_copy_from(ch->iov, ch->nr_out, VSOCK_HDR_LEN + done, c->buf + tail, first);
		iov_copy_from(ch->iov, ch->nr_out, VSOCK_HDR_LEN + done + first, c->buf, rest - first);
		c->used += rest;
	}
	return conn_flush(v, c);
}

static void guest_packet(struct virtio_vsock *v)
{
	const struct virtq_chain *ch = &v->chain;
	uint8_t h[VSOCK_HDR_LEN];
	struct vsock_conn *c;
	struct vsock_hdr p;

	if (ch->out_len < VSOCK_HDR_LEN) {
		warn_once(v, "sent a packet shorter than its header");
		return;
	}
	iov_copy_from(ch->iov, ch->nr_out, 0, h, sizeof(h));
	vsock_hdr_decode(h, &p);
	if (p.len > ch->out_len - VSOCK_HDR_LEN) {
		warn_once(v, "sent a packet whose length is past its buffers");
		return;
	}
	/* Only the guest's own address to the host's makes sense here. */
	if (p.src_cid != v->guest_cid || p.dst_cid != VSOCK_CID_HOST) {
		warn_once(v, "sent a packet with a foreign address");
		return;
	}
	c = conn_find(v, p.dst_port, p.src_port);
	if (p.type != VSOCK_TYPE_STREAM) {
		if (c)
			conn_kill(v, c, false);
		if (p.op != VSOCK_OP_RST)
			queue_rst(v, p.dst_port, p.src_port);
		return;
	}
	if (!c) {
		if (p.op == VSOCK_OP_REQUEST)
			guest_connect(v, &p);
		else if (p.op != VSOCK_OP_RST)
			queue_rst(v, p.dst_port, p.src_port);
		return;
	}
	c->guest_buf_alloc = p.buf_alloc;
	c->guest_fwd_cnt = p.fwd_cnt;
	switch (p.op) {
	case VSOCK_OP_RESPONSE:
		if (c->state == C_REQUEST && c->request_sent) {
			char ok[24];
			int n = snprintf(ok, sizeof(ok), "OK %u\n", c->host_port);

			/* The socket is new: its send buffer has room for a line. */
			if (send(c->fd, ok, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL) != n) {
				conn_kill(v, c, true);
				return;
			}
			c->state = C_ESTABLISHED;
			c->deadline = 0;
			/* What the client sent after its line waits in the socket. */
			c->readable = true;
		} else {
			conn_kill(v, c, true);
		}
		return;
	case VSOCK_OP_RST:
		conn_kill(v, c, false);
		return;
	case VSOCK_OP_SHUTDOWN:
		if (c->state != C_ESTABLISHED)
			return;
		c->guest_no_send |= !!(p.flags & VSOCK_SHUTDOWN_SEND);
		c->guest_no_recv |= !!(p.flags & VSOCK_SHUTDOWN_RCV);
		if (c->guest_no_send && c->guest_no_recv) {
			c->state = C_CLOSING;
			c->deadline = now_ms() + VSOCK_LINGER_MS;
		}
		conn_flush(v, c);
		return;
	case VSOCK_OP_RW:
		if (c->state != C_ESTABLISHED || c->guest_no_send) {
			conn_kill(v, c, true);
			return;
		}
		/* More than the credit the guest was given: it broke the protocol. */
		if (p.len > VSOCK_BUF_ALLOC - (c->recv_cnt - c->fwd_cnt)) {
			warn_once(v, "sent past its credit");
			conn_kill(v, c, true);
			return;
		}
		c->recv_cnt += p.len;
		if (p.len)
			take_payload(v, c, p.len);
		return;
	case VSOCK_OP_CREDIT_UPDATE:
		return;
	case VSOCK_OP_CREDIT_REQUEST:
		c->owed |= OWE_CREDIT;
		return;
	default: /* a second REQUEST, an unknown op */
		conn_kill(v, c, true);
		return;
	}
}

static void drain_tx(struct virtio_vsock *v)
{
	while (virtio_mmio_begin(&v->mmio, VSOCK_QUEUE_TX, &v->chain) > 0) {
		uint16_t head = v->chain.head;

		guest_packet(v);
		virtio_mmio_end(&v->mmio, VSOCK_QUEUE_TX, head, 0);
	}
}

/* ---- host to guest ---- */

static uint32_t credit(const struct vsock_conn *c)
{
	uint32_t in_flight = c->sent_cnt - c->guest_fwd_cnt;

	return in_flight < c->guest_buf_alloc ? c->guest_buf_alloc - in_flight : 0;
}

static bool wants_data(const struct vsock_conn *c)
{
	return c->state == C_ESTABLISHED && c->readable && !c->host_eof && !c->guest_no_recv &&
	       credit(c) > 0;
}

static bool has_output(const struct vsock_conn *c)
{
	return (c->owed & (OWE_RESPONSE | OWE_SHUTDOWN | OWE_CREDIT)) ||
	       (c->state == C_REQUEST && (c->owed & OWE_REQUEST)) || wants_data(c);
}

static void put_hdr(struct virtio_vsock *v, uint8_t *h, uint32_t host_port, uint32_t guest_port,
		    uint32_t len, uint16_t op, uint32_t flags, const struct vsock_conn *c)
{
	const struct vsock_hdr hdr = {
		.src_cid = VSOCK_CID_HOST,
		.dst_cid = v->guest_cid,
		.src_port = host_port,
		.dst_port = guest_port,
		.len = len,
		.type = VSOCK_TYPE_STREAM,
		.op = op,
		.flags = flags,
		.buf_alloc = c ? VSOCK_BUF_ALLOC : 0,
		.fwd_cnt = c ? c->fwd_cnt : 0,
	};

	vsock_hdr_encode(h, &hdr);
}

/* Host bytes straight into the receive buffer, after the header's room. */
static ssize_t read_into_chain(struct virtio_vsock *v, struct vsock_conn *c, uint32_t room)
{
	const struct virtq_chain *ch = &v->chain;
	const struct iovec *in = ch->iov + ch->nr_out;
	struct iovec iov[VIRTQ_MAX_SEGS];
	size_t skip = VSOCK_HDR_LEN, left = room;
	unsigned int n = 0;
	struct msghdr msg = { .msg_iov = iov };
	ssize_t r;

	for (unsigned int i = 0; i < ch->nr_in && left; i++) {
		size_t seg = in[i].iov_len;

		if (skip >= seg) {
			skip -= seg;
			continue;
		}
		iov[n].iov_base = (uint8_t *)in[i].iov_base + skip;
		iov[n].iov_len = seg - skip < left ? seg - skip : left;
		left -= iov[n].iov_len;
		n++;
		skip = 0;
	}
	msg.msg_iovlen = n;
	do
		r = recvmsg(c->fd, &msg, MSG_DONTWAIT);
	while (r < 0 && errno == EINTR);
	return r;
}

/* Fill the receive buffer in v->chain for c; the bytes written. */
static uint32_t conn_output(struct virtio_vsock *v, struct vsock_conn *c)
{
	uint8_t h[VSOCK_HDR_LEN];
	uint32_t len = 0;
	uint16_t op;
	uint32_t flags = 0;

	if (c->owed & OWE_RESPONSE) {
		c->owed &= ~OWE_RESPONSE;
		op = VSOCK_OP_RESPONSE;
	} else if (c->state == C_REQUEST && (c->owed & OWE_REQUEST)) {
		c->owed &= ~OWE_REQUEST;
		c->request_sent = true;
		c->deadline = now_ms() + VSOCK_HANDSHAKE_MS;
		op = VSOCK_OP_REQUEST;
	} else if (wants_data(c)) {
		uint32_t room = (uint32_t)(v->chain.in_len - VSOCK_HDR_LEN);
		ssize_t r;

		if (room > credit(c))
			room = credit(c);
		if (room > MAX_PAYLOAD)
			room = MAX_PAYLOAD;
		r = room ? read_into_chain(v, c, room) : -1;
		if (r > 0) {
			op = VSOCK_OP_RW;
			len = (uint32_t)r;
			c->sent_cnt += len;
			/* Short: the socket is empty for now (epoll says when it is not). */
			if (len < room)
				c->readable = false;
		} else if (r == 0) {
			c->host_eof = true;
			c->readable = false;
			op = VSOCK_OP_SHUTDOWN;
			flags = VSOCK_SHUTDOWN_SEND;
		} else if (errno == EAGAIN || errno == EWOULDBLOCK) {
			/* Nothing after all: the buffer carries a credit update instead. */
			c->readable = false;
			op = VSOCK_OP_CREDIT_UPDATE;
		} else {
			put_hdr(v, h, c->host_port, c->guest_port, 0, VSOCK_OP_RST, 0, NULL);
			conn_free(v, c);
			goto out;
		}
	} else if (c->owed & OWE_SHUTDOWN) {
		c->owed &= ~OWE_SHUTDOWN;
		op = VSOCK_OP_SHUTDOWN;
		flags = VSOCK_SHUTDOWN_SEND;
	} else {
		c->owed &= ~OWE_CREDIT;
		op = VSOCK_OP_CREDIT_UPDATE;
	}
	put_hdr(v, h, c->host_port, c->guest_port, len, op, flags, c);
	c->fwd_told = c->fwd_cnt;
	if (op != VSOCK_OP_CREDIT_UPDATE)
		c->owed &= ~OWE_CREDIT; /* every header carries the credit */
out:
	iov_copy_to(v->chain.iov + v->chain.nr_out, v->chain.nr_in, 0, h, sizeof(h));
	return VSOCK_HDR_LEN + len;
}

static bool rx_held(struct virtio_vsock *v);

static struct vsock_conn *next_output(struct virtio_vsock *v)
{
	for (unsigned int k = 0; k < VSOCK_MAX_CONNS; k++) {
		unsigned int i = (v->next_conn + k) % VSOCK_MAX_CONNS;
		struct vsock_conn *c = v->conns[i];

		if (c && has_output(c)) {
			v->next_conn = (i + 1) % VSOCK_MAX_CONNS; /* round robin */
			return c;
		}
	}
	return NULL;
}

static void fill_rx(struct virtio_vsock *v)
{
	while (!rx_held(v)) {
		struct vsock_conn *c = v->rst_len ? NULL : next_output(v);
		uint8_t h[VSOCK_HDR_LEN];
		uint32_t len;

		if (!v->rst_len && !c)
			return;
		if (virtio_mmio_begin(&v->mmio, VSOCK_QUEUE_RX, &v->chain) <= 0)
			return;
		/* The chain is ours until end: nothing below begins another. */
		if (v->chain.in_len < VSOCK_HDR_LEN) {
			virtio_mmio_fail(&v->mmio, "a receive buffer shorter than a packet header");
			return;
		}
		if (!c) {
			put_hdr(v, h, v->rst[v->rst_head].src_port, v->rst[v->rst_head].dst_port, 0,
				VSOCK_OP_RST, 0, NULL);
			v->rst_head = (v->rst_head + 1) % VSOCK_RST_QUEUE;
			v->rst_len--;
			iov_copy_to(v->chain.iov + v->chain.nr_out, v->chain.nr_in, 0, h, sizeof(h));
			len = VSOCK_HDR_LEN;
		} else {
			len = conn_output(v, c);
		}
		virtio_mmio_end(&v->mmio, VSOCK_QUEUE_RX, v->chain.head, len);
	}
}

/* ---- transport resets ---- */

static bool driver_ok(struct virtio_vsock *v)
{
	bool ok;

	pthread_mutex_lock(&v->mmio.lock);
	ok = (v->mmio.status & (VIRTIO_STATUS_DRIVER_OK | VIRTIO_STATUS_NEEDS_RESET)) ==
	     VIRTIO_STATUS_DRIVER_OK;
	pthread_mutex_unlock(&v->mmio.lock);
	return ok;
}

/* The guest's idea of every connection is gone: so are ours, but host clients not yet offered. */
static void drop_guest_state(struct virtio_vsock *v)
{
	for (unsigned int i = 0; i < VSOCK_MAX_CONNS; i++) {
		struct vsock_conn *c = v->conns[i];

		if (c && !(c->state == C_LINE || (c->state == C_REQUEST && !c->request_sent)))
			conn_free(v, c);
	}
	v->rst_len = 0;
}

static int avail_idx(struct virtio_vsock *v, unsigned int q)
{
	uint8_t raw[2];
	uint64_t gpa;
	bool ready;

	pthread_mutex_lock(&v->mmio.lock);
	ready = v->mmio.queues[q].ready;
	gpa = v->mmio.queues[q].avail + 2;
	pthread_mutex_unlock(&v->mmio.lock);
	if (!ready || vmgenid_guest_mem_read(v->mmio.mem, gpa, raw, 2) < 0)
		return -1;
	return vmgenid_get_le16(raw);
}

/*
 * After a TRANSPORT_RESET the guest resets every connected socket when its
 * event handler runs; a connection offered before that would be reset with
 * the old ones.  Linux hands the event buffer back once it has handled the
 * event, so new traffic waits for that (or RESET_HOLD_MS).
 */
static bool rx_held(struct virtio_vsock *v)
{
	if (!v->hold_until)
		return false;
	if (now_ms() >= v->hold_until || avail_idx(v, VSOCK_QUEUE_EVENT) != v->hold_avail) {
		v->hold_until = 0;
		return false;
	}
	return true;
}

static void send_event(struct virtio_vsock *v)
{
	uint8_t ev[4];
	int idx;

	if (!v->event_owed || virtio_mmio_begin(&v->mmio, VSOCK_QUEUE_EVENT, &v->chain) <= 0)
		return;
	if (v->chain.in_len < sizeof(ev)) {
		virtio_mmio_fail(&v->mmio, "an event buffer shorter than an event");
		return;
	}
	vmgenid_put_le32(ev, VSOCK_EVENT_TRANSPORT_RESET);
	iov_copy_to(v->chain.iov + v->chain.nr_out, v->chain.nr_in, 0, ev, sizeof(ev));
	idx = avail_idx(v, VSOCK_QUEUE_EVENT);
	virtio_mmio_end(&v->mmio, VSOCK_QUEUE_EVENT, v->chain.head, sizeof(ev));
	v->event_owed = false;
	v->hold_avail = idx;
	v->hold_until = now_ms() + RESET_HOLD_MS;
}

/* ---- host side ---- */

static void accept_clients(struct virtio_vsock *v)
{
	for (;;) {
		int fd = accept4(v->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct vsock_conn *c;

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			return;
		}
		c = conn_new(v, fd);
		if (!c) {
			close(fd); /* the table is full: this client alone goes */
			continue;
		}
		c->state = C_LINE;
		c->deadline = now_ms() + VSOCK_HANDSHAKE_MS;
	}
}

/*
 * The CONNECT line, peeked so that bytes after it stay in the socket for
 * the guest.  A malformed line or a hangup before its end closes the
 * client without a word, as Firecracker does.
 */
static void read_line(struct virtio_vsock *v, struct vsock_conn *c, uint32_t events)
{
	char line[VSOCK_CONNECT_LINE_MAX];
	size_t line_len;
	const char *why;
	uint32_t port;
	ssize_t n;
	int ret;

	n = recv(c->fd, line, sizeof(line), MSG_PEEK | MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (n <= 0) {
		conn_free(v, c);
		return;
	}
	ret = vsock_parse_connect(line, (size_t)n, &port, &line_len, &why);
	/* Half a line from a client that hung up will never be whole. */
	if (ret == 0 && !(events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
		return;
	if (ret <= 0 || recv(c->fd, line, line_len, MSG_DONTWAIT) != (ssize_t)line_len) {
		conn_free(v, c);
		return;
	}
	c->state = C_REQUEST;
	c->guest_port = port;
	c->host_port = alloc_host_port(v);
	c->owed |= OWE_REQUEST;
	c->deadline = now_ms() + VSOCK_HANDSHAKE_MS;
}

static void conn_event(struct virtio_vsock *v, struct vsock_conn *c, uint32_t events)
{
	if (c->state == C_LINE) {
		if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
			read_line(v, c, events);
		return;
	}
	if (c->state == C_REQUEST) {
		/* Bytes after the line wait for the guest; a vanished client does not. */
		if (events & (EPOLLHUP | EPOLLERR))
			conn_kill(v, c, c->request_sent);
		return;
	}
	if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		c->readable = true;
	if (events & EPOLLOUT) {
		c->writable = true;
		conn_flush(v, c);
	}
}

static void expire(struct virtio_vsock *v, uint64_t now)
{
	for (unsigned int i = 0; i < VSOCK_MAX_CONNS; i++) {
		struct vsock_conn *c = v->conns[i];

		if (c && c->deadline && now >= c->deadline)
			conn_kill(v, c, c->state != C_LINE && (c->state != C_REQUEST || c->request_sent));
	}
}

static int next_timeout(struct virtio_vsock *v, int timeout_ms, uint64_t now)
{
	uint64_t soonest = v->hold_until;

	for (unsigned int i = 0; i < VSOCK_MAX_CONNS; i++) {
		const struct vsock_conn *c = v->conns[i];

		if (c && c->deadline && (!soonest || c->deadline < soonest))
			soonest = c->deadline;
	}
	if (soonest) {
		uint64_t wait = soonest > now ? soonest - now : 0;

		if (timeout_ms < 0 || wait < (uint64_t)timeout_ms)
			timeout_ms = (int)wait;
	}
	return timeout_ms;
}

void virtio_vsock_step(struct virtio_vsock *v, int timeout_ms)
{
	struct epoll_event ev[32];
	bool ok;
	int n;

	n = epoll_wait(v->epoll_fd, ev, 32, next_timeout(v, timeout_ms, now_ms()));
	for (int i = 0; i < n; i++) {
		uint32_t tag = (uint32_t)ev[i].data.u64;
		int fd = (int)(ev[i].data.u64 >> 32);
		uint64_t count;

		if (tag == TAG_KICK) {
			if (read(v->kick_fd, &count, sizeof(count)) < 0 && errno != EAGAIN)
				vmgenid_pr_warn(MOD, "queue notification: %s", strerror(errno));
		} else if (tag == TAG_LISTEN) {
			accept_clients(v);
		} else if (tag - TAG_CONN < VSOCK_MAX_CONNS && v->conns[tag - TAG_CONN] &&
			   v->conns[tag - TAG_CONN]->fd == fd) {
			conn_event(v, v->conns[tag - TAG_CONN], ev[i].events);
		}
	}
	if (atomic_exchange(&v->reset_pending, false)) {
		drop_guest_state(v);
		v->event_owed = true;
	}
	/* A driver reset (or a machine reset) ends every connection the guest had. */
	ok = driver_ok(v);
	if (v->was_ok && !ok)
		drop_guest_state(v);
	v->was_ok = ok;
	expire(v, now_ms());
	send_event(v);
	drain_tx(v);
	fill_rx(v);
}

/* ---- snapshot ---- */

void vsock_save_tail(uint32_t guest_cid, uint8_t backend, struct vmgenid_bytebuf *out)
{
	vmgenid_bytebuf_put_le32(out, VSOCK_STATE_VERSION);
	vmgenid_bytebuf_put_le64(out, guest_cid);
	vmgenid_bytebuf_put_u8(out, backend);
}

int vsock_check_tail(const uint8_t *p, uint32_t len, uint8_t backend, const char **why)
{
	uint64_t cid;

	if (len != VSOCK_STATE_LEN) {
		*why = "vsock state has the wrong length";
		return -EINVAL;
	}
	if (vmgenid_get_le32(p) != VSOCK_STATE_VERSION) {
		*why = "unsupported vsock state version";
		return -EINVAL;
	}
	cid = vmgenid_get_le64(p + 4);
	if (cid < VSOCK_CID_MIN || cid > VSOCK_CID_MAX) {
		*why = "the snapshot's guest CID is out of range";
		return -EINVAL;
	}
	if (p[12] > VSOCK_BACKEND_VHOST) {
		*why = "the snapshot's vsock backend is unknown";
		return -EINVAL;
	}
	if (p[12] != backend) {
		*why = p[12] == VSOCK_BACKEND_VHOST
			       ? "the snapshot's vsock is vhost-vsock-device, the command line's is vsock"
			       : "the snapshot's vsock is vsock (uds=), the command line's is "
				 "vhost-vsock-device";
		return -EINVAL;
	}
	/* Another CID is fine: the guest reads it again on the TRANSPORT_RESET it gets. */
	return 0;
}
