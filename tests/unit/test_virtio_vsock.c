// SPDX-License-Identifier: MIT
/*
 * virtio-vsock's hybrid backend through a simulated guest driver (three
 * queues in the simulated RAM, registers through virtio_mmio_io) and real
 * unix sockets on the host side: the CONNECT handshake and its malformed
 * lines, guest connections to PATH_P and their refusal, bytes both ways
 * under credit, shutdown, the driver's broken chains, and the
 * TRANSPORT_RESET a restore sends.  The worker's rounds are run by hand
 * (virtio_vsock_step with no wait).
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <cmocka.h>

#include "vmgenid/endian.h"

#include "virtio_sim.h"
#include "vsock.h"

#define QSIZE 16u
#define CID 7u

struct tq {
	uint64_t desc, avail, used;
	uint16_t avail_idx, used_seen, next_desc;
};

struct fixture {
	struct vsim s;
	char dir[64];
	char path[128];
	int kick_fd;
	struct virtio_vsock *v;
	struct tq q[3];
};

static void kick(void *opaque, unsigned int queue)
{
	struct fixture *f = opaque;
	uint64_t one = 1;

	(void)queue;
	assert_int_equal(write(f->kick_fd, &one, sizeof(one)), sizeof(one));
}

static void irq(void *opaque)
{
	((struct fixture *)opaque)->s.irqs++;
}

static void step(struct fixture *f)
{
	for (int i = 0; i < 4; i++)
		virtio_vsock_step(f->v, 0);
}

static void driver_init(struct fixture *f)
{
	struct virtio_mmio *d = &f->v->mmio;
	uint64_t features = (1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_F_EVENT_IDX);

	vsim_wr(d, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	vsim_wr(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	vsim_wr(d, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)features);
	vsim_wr(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	vsim_wr(d, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(features >> 32));
	vsim_wr(d, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
					       VIRTIO_STATUS_FEATURES_OK);
	for (unsigned int i = 0; i < 3; i++) {
		struct tq *q = &f->q[i];

		q->desc = vsim_alloc(&f->s, 16 * QSIZE);
		q->avail = vsim_alloc(&f->s, 6 + 2 * QSIZE);
		q->used = vsim_alloc(&f->s, 6 + 8 * QSIZE);
		vsim_wr(d, VIRTIO_MMIO_QUEUE_SEL, i);
		vsim_wr(d, VIRTIO_MMIO_QUEUE_NUM, QSIZE);
		vsim_wr(d, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)q->desc);
		vsim_wr(d, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)q->avail);
		vsim_wr(d, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)q->used);
		vsim_wr(d, VIRTIO_MMIO_QUEUE_READY, 1);
		/* used_event far away: the test counts no interrupts. */
		vmgenid_put_le16(vsim_hva(&f->s, q->avail + 4 + 2 * QSIZE), 0xffff);
	}
	vsim_wr(d, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
					       VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
	assert_int_equal(vsim_rd(d, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET, 0);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char why[256];

	assert_non_null(f);
	vsim_init(&f->s, QSIZE);
	snprintf(f->dir, sizeof(f->dir), "/tmp/vsock-test.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/v.sock", f->dir);
	f->kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	assert_true(f->kick_fd >= 0);
	f->s.ops = (struct virtio_mmio_ops){ .kick = kick, .irq = irq, .opaque = f };
	f->v = virtio_vsock_new(&f->s.mem, CID, f->path, f->kick_fd, &f->s.ops, why, sizeof(why));
	assert_non_null(f->v);
	driver_init(f);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[160];

	virtio_vsock_free(f->v);
	close(f->kick_fd);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	vsim_destroy(&f->s);
	free(f);
	return 0;
}

/* One chain of n buffers (all device-writable or all readable) made available on q. */
static void post(struct fixture *f, unsigned int qi, const uint64_t *addr, const uint32_t *len,
		 unsigned int n, bool writable)
{
	struct tq *q = &f->q[qi];
	uint16_t head = q->next_desc;

	for (unsigned int i = 0; i < n; i++) {
		uint16_t d = (uint16_t)((head + i) % QSIZE);

		vsim_put_desc_at(&f->s, q->desc, d, addr[i], len[i],
				 (uint16_t)((writable ? VIRTQ_DESC_F_WRITE : 0) |
					    (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0)),
				 (uint16_t)((d + 1) % QSIZE));
	}
	q->next_desc = (uint16_t)((head + n) % QSIZE);
	vmgenid_put_le16(vsim_hva(&f->s, q->avail + 4 + 2 * (q->avail_idx % QSIZE)), head);
	q->avail_idx++;
	vmgenid_put_le16(vsim_hva(&f->s, q->avail + 2), q->avail_idx);
	kick(f, qi);
}

/* A receive buffer as Linux 6.1 gives one: header and payload apart. */
static uint64_t post_rx(struct fixture *f, uint32_t payload)
{
	uint64_t a[2] = { vsim_alloc(&f->s, VSOCK_HDR_LEN), vsim_alloc(&f->s, payload) };
	uint32_t l[2] = { VSOCK_HDR_LEN, payload };

	post(f, VSOCK_QUEUE_RX, a, l, 2, true);
	return a[0];
}

static uint16_t used_idx(struct fixture *f, unsigned int qi)
{
	return vmgenid_get_le16(vsim_hva(&f->s, f->q[qi].used + 2));
}

/* The next used element of q: its length, and the buffer's guest address through *id. */
static bool take_used(struct fixture *f, unsigned int qi, uint32_t *id, uint32_t *len)
{
	struct tq *q = &f->q[qi];
	uint8_t *e;

	if (used_idx(f, qi) == q->used_seen)
		return false;
	e = vsim_hva(&f->s, q->used + 4 + 8 * (q->used_seen % QSIZE));
	*id = vmgenid_get_le32(e);
	*len = vmgenid_get_le32(e + 4);
	q->used_seen++;
	return true;
}

struct pkt {
	struct vsock_hdr hdr;
	uint8_t data[256];
};

/* The next packet the device put into a receive buffer (posted with post_rx). */
static bool rx_pkt(struct fixture *f, struct pkt *p)
{
	uint32_t id, len;
	uint64_t hdr, data;
	const uint8_t *h;

	if (!take_used(f, VSOCK_QUEUE_RX, &id, &len))
		return false;
	hdr = vmgenid_get_le64(vsim_hva(&f->s, f->q[0].desc + 16 * id));
	data = vmgenid_get_le64(vsim_hva(&f->s, f->q[0].desc + 16 * ((id + 1) % QSIZE)));
	h = vsim_hva(&f->s, hdr);
	vsock_hdr_decode(h, &p->hdr);
	assert_int_equal(len, VSOCK_HDR_LEN + p->hdr.len);
	assert_true(p->hdr.len <= sizeof(p->data));
	memcpy(p->data, vsim_hva(&f->s, data), p->hdr.len);
	return true;
}

/* A packet from the guest on the transmit queue, header and payload in two buffers. */
static void tx_pkt(struct fixture *f, uint32_t src_port, uint32_t dst_port, uint16_t op,
		   uint32_t flags, uint32_t buf_alloc, uint32_t fwd_cnt, const void *data,
		   uint32_t len)
{
	uint64_t a[2] = { vsim_alloc(&f->s, VSOCK_HDR_LEN), 0 };
	uint32_t l[2] = { VSOCK_HDR_LEN, len };
	const struct vsock_hdr hdr = { .src_cid = CID, .dst_cid = VSOCK_CID_HOST,
				       .src_port = src_port, .dst_port = dst_port, .len = len,
				       .type = VSOCK_TYPE_STREAM, .op = op, .flags = flags,
				       .buf_alloc = buf_alloc, .fwd_cnt = fwd_cnt };

	vsock_hdr_encode(vsim_hva(&f->s, a[0]), &hdr);
	if (len) {
		a[1] = vsim_alloc(&f->s, len);
		memcpy(vsim_hva(&f->s, a[1]), data, len);
	}
	post(f, VSOCK_QUEUE_TX, a, l, len ? 2 : 1, false);
}

static int host_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

static int host_listen(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 4), 0);
	return fd;
}

/* What the host side can read right now: -1 nothing yet, 0 EOF, else bytes. */
static ssize_t host_read(int fd, char *buf, size_t len)
{
	ssize_t n = recv(fd, buf, len, MSG_DONTWAIT);

	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return -1;
	if (n < 0 && errno == ECONNRESET)
		return 0;
	assert_true(n >= 0);
	if ((size_t)n < len)
		buf[n] = '\0';
	return n;
}

/* Host program connects to guest port 5000 and the guest accepts: the host port. */
static uint32_t host_to_guest(struct fixture *f, int *fd, const char *first_bytes)
{
	char buf[64], expect[32];
	struct pkt p;

	*fd = host_connect(f->path);
	assert_int_equal(write(*fd, first_bytes, strlen(first_bytes)), (ssize_t)strlen(first_bytes));
	post_rx(f, 256);
	step(f);
	assert_true(rx_pkt(f, &p));
	assert_int_equal(p.hdr.op, VSOCK_OP_REQUEST);
	assert_int_equal(p.hdr.type, VSOCK_TYPE_STREAM);
	assert_int_equal(p.hdr.src_cid, VSOCK_CID_HOST);
	assert_int_equal(p.hdr.dst_cid, CID);
	assert_int_equal(p.hdr.dst_port, 5000);
	assert_true(p.hdr.src_port >= VSOCK_HOST_PORT_FIRST);
	assert_int_equal(p.hdr.buf_alloc, VSOCK_BUF_ALLOC);
	assert_int_equal(host_read(*fd, buf, sizeof(buf)), -1); /* no OK before the guest said yes */
	tx_pkt(f, 5000, p.hdr.src_port, VSOCK_OP_RESPONSE, 0, 4096, 0, NULL, 0);
	step(f);
	snprintf(expect, sizeof(expect), "OK %u\n", p.hdr.src_port);
	assert_int_equal(host_read(*fd, buf, sizeof(buf)), (ssize_t)strlen(expect));
	assert_string_equal(buf, expect);
	return p.hdr.src_port;
}

/*
 * The header codec against bytes written out by hand from virtio 1.2
 * 5.10.6 (le64 src_cid, le64 dst_cid, le32 src_port, le32 dst_port, le32
 * len, le16 type, le16 op, le32 flags, le32 buf_alloc, le32 fwd_cnt).  The
 * other tests build and read headers with the same codec, so this is the
 * one that catches a field in the wrong place or order.
 */
static void test_hdr_bytes(void **state)
{
	static const uint8_t want[VSOCK_HDR_LEN] = {
		0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01, /* src_cid */
		0x18, 0x17, 0x16, 0x15, 0x14, 0x13, 0x12, 0x11, /* dst_cid */
		0x24, 0x23, 0x22, 0x21,                         /* src_port */
		0x34, 0x33, 0x32, 0x31,                         /* dst_port */
		0x44, 0x43, 0x42, 0x41,                         /* len */
		0x52, 0x51,                                     /* type */
		0x62, 0x61,                                     /* op */
		0x74, 0x73, 0x72, 0x71,                         /* flags */
		0x84, 0x83, 0x82, 0x81,                         /* buf_alloc */
		0x94, 0x93, 0x92, 0x91,                         /* fwd_cnt */
	};
	const struct vsock_hdr hdr = { .src_cid = 0x0102030405060708u,
				       .dst_cid = 0x1112131415161718u,
				       .src_port = 0x21222324u, .dst_port = 0x31323334u,
				       .len = 0x41424344u, .type = 0x5152u, .op = 0x6162u,
				       .flags = 0x71727374u, .buf_alloc = 0x81828384u,
				       .fwd_cnt = 0x91929394u };
	uint8_t buf[VSOCK_HDR_LEN + 1];
	struct vsock_hdr got;

	(void)state;
	memset(buf, 0xee, sizeof(buf));
	vsock_hdr_encode(buf, &hdr);
	assert_memory_equal(buf, want, VSOCK_HDR_LEN);
	assert_int_equal(buf[VSOCK_HDR_LEN], 0xee); /* nothing past the header */
	memset(&got, 0, sizeof(got));
	vsock_hdr_decode(want, &got);
	assert_int_equal(got.src_cid, hdr.src_cid);
	assert_int_equal(got.dst_cid, hdr.dst_cid);
	assert_int_equal(got.src_port, hdr.src_port);
	assert_int_equal(got.dst_port, hdr.dst_port);
	assert_int_equal(got.len, hdr.len);
	assert_int_equal(got.type, hdr.type);
	assert_int_equal(got.op, hdr.op);
	assert_int_equal(got.flags, hdr.flags);
	assert_int_equal(got.buf_alloc, hdr.buf_alloc);
	assert_int_equal(got.fwd_cnt, hdr.fwd_cnt);
}

static void test_connect_line(void **state)
{
	static const struct {
		const char *line;
		int ret;
		const char *why;
	} cases[] = {
		{ "CONNECT 5000\n", 1, NULL },
		{ "CONNECT 0\n", 1, NULL },
		{ "CONNECT 4294967294\n", 1, NULL },
		{ "CONNECT 52\nhello", 1, NULL },
		/* Firecracker's muxer takes these too (words on whitespace, any case). */
		{ "connect 5\n", 1, NULL },
		{ "Connect\t5\r\n", 1, NULL },
		{ "  CONNECT  7  \n", 1, NULL },
		{ "CONNECT 7 extra words\n", 1, NULL },
		{ "CONNECT +7\n", 1, NULL },
		{ "CONN", 0, NULL },
		{ "CONNECT 12", 0, NULL },
		{ "CONNECT 4294967295\n", -1, "out of range" },
		{ "CONNECT 99999999999999999\n", -1, "out of range" },
		{ "CONNECT 12a\n", -1, "not a decimal number" },
		{ "CONNECT -1\n", -1, "not a decimal number" },
		{ "CONNECT +\n", -1, "not a decimal number" },
		{ "CONNECT \n", -1, "no port number" },
		{ "CONNECT\n", -1, "no port number" },
		{ "CONNECTS 5\n", -1, "does not start with" },
		{ "CONNEC 5\n", -1, "does not start with" },
		{ "\n", -1, "does not start with" },
		{ "GET / HTTP/1.0\r\n", -1, "does not start with" },
		{ "CONNECT 0000000000000000000000005\n", -1, "too long" },
		{ "CONNECT 0000000000000000000000000", -1, "too long" },
		{ "CONNECT 00000000000000000000000", 0, NULL }, /* 31: a newline still fits */
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *why = NULL;
		uint32_t port = 0;
		size_t line_len = 0;
		int ret = vsock_parse_connect(cases[i].line, strlen(cases[i].line), &port, &line_len,
					      &why);

		if (ret != cases[i].ret)
			fail_msg("'%s': %d, not %d", cases[i].line, ret, cases[i].ret);
		if (ret < 0 && !strstr(why, cases[i].why))
			fail_msg("'%s': '%s', not '%s'", cases[i].line, why, cases[i].why);
	}
	{
		const char *why;
		uint32_t port;
		size_t line_len;

		assert_int_equal(vsock_parse_connect("CONNECT 52\nhello", 16, &port, &line_len, &why), 1);
		assert_int_equal(port, 52);
		assert_int_equal(line_len, 11); /* "hello" stays for the guest */
		assert_int_equal(vsock_parse_connect("connect\t9 x\r\nab", 15, &port, &line_len, &why), 1);
		assert_int_equal(port, 9);
		assert_int_equal(line_len, 13);
	}
}

static void test_host_to_guest(void **state)
{
	struct fixture *f = *state;
	char buf[64];
	uint32_t hp;
	struct pkt p;
	int fd;

	/* Bytes right after the line are the stream's first: the guest gets them. */
	hp = host_to_guest(f, &fd, "CONNECT 5000\nhello");
	post_rx(f, 256);
	step(f);
	assert_true(rx_pkt(f, &p));
	assert_int_equal(p.hdr.op, VSOCK_OP_RW);
	assert_int_equal(p.hdr.src_port, hp);
	assert_int_equal(p.hdr.dst_port, 5000);
	assert_int_equal(p.hdr.len, 5);
	assert_memory_equal(p.data, "hello", 5);

	tx_pkt(f, 5000, hp, VSOCK_OP_RW, 0, 4096, 5, "world", 5);
	step(f);
	assert_int_equal(host_read(fd, buf, sizeof(buf)), 5);
	assert_string_equal(buf, "world");

	/* The host shuts its side: the guest reads EOF (SHUTDOWN, SEND). */
	shutdown(fd, SHUT_WR);
	post_rx(f, 256);
	step(f);
	assert_true(rx_pkt(f, &p));
	assert_int_equal(p.hdr.op, VSOCK_OP_SHUTDOWN);
	assert_int_equal(p.hdr.flags, VSOCK_SHUTDOWN_SEND);
	/* The guest closes: both ways shut; the device answers RST and closes the host end. */
	tx_pkt(f, 5000, hp, VSOCK_OP_SHUTDOWN, VSOCK_SHUTDOWN_RCV | VSOCK_SHUTDOWN_SEND, 4096, 5,
	       NULL, 0);
	post_rx(f, 256);
	step(f);
	assert_true(rx_pkt(f, &p));
	assert_int_equal(p.hdr.op, VSOCK_OP_RST);
	assert_int_equal(host_read(fd, buf, sizeof(buf)), 0);
	close(fd);
}

static void test_bad_lines(void **state)
{
	static const char *const lines[] = {
		"CONNECT 00000000000000000000000000000005\n", /* too long */
		"CONNECT 000000000000000000000000000000",      /* too long, no newline */
		"CONNECT port\n",                              /* not a number */
		"CONNECT 4294967295\n",                        /* VMADDR_PORT_ANY */
		"CONNECT 12345678901\n",                       /* past 32 bits */
		"HELLO\n",
		"CONNECT 50",                                  /* then a hangup mid-line */
	};
	struct fixture *f = *state;
	struct pkt p;
	char buf[16];

	post_rx(f, 256);
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		int fd = host_connect(f->path);

		assert_int_equal(write(fd, lines[i], strlen(lines[i])), (ssize_t)strlen(lines[i]));
		if (i + 1 == sizeof(lines) / sizeof(lines[0])) {
			step(f);
			/* Half a line waits... */
			assert_int_equal(host_read(fd, buf, sizeof(buf)), -1);
			shutdown(fd, SHUT_WR);
		}
		step(f);
		/* ...a bad or cut-off line is closed without a word, and the guest hears nothing. */
		assert_int_equal(host_read(fd, buf, sizeof(buf)), 0);
		assert_false(rx_pkt(f, &p));
		close(fd);
	}
	/* And the device still serves a good one. */
	{
		int fd;

		host_to_guest(f, &fd, "CONNECT 5000\n");
		close(fd);
	}
}

static void test_guest_refused(void **state)
{
	struct fixture *f = *state;
	struct pkt p;

	/* Nothing listens at PATH_7000: the guest's connect is reset. */
	post_rx(f, 256);
	tx_pkt(f, 1234, 7000, VSOCK_OP_REQUEST, 0, 4096, 0, NULL, 0);
	step(f);
	assert_true(rx_pkt(f, &p));
	assert_int_equal(p.hdr.op, VSOCK_OP_RST);
	assert_int_equal(p.hdr.src_port, 7000);
	assert_int_equal(p.hdr.dst_port, 1234);
	/* A guest packet for a connection never made: reset too. */
	post_rx(f, 256);
	tx_pkt(f, 1235, 7001, VSOCK_OP_RW, 0, 4096, 0, "x", 1);
	step(f);
	assert_true(rx_pkt(f, &p));
	assert_int_equal(p.hdr.op, VSOCK_OP_RST);
	assert_int_equal(p.hdr.dst_port, 1235);
}

static void test_guest_to_host(void **state)
{
	struct fixture *f = *state;
	char path[160], buf[64];
	int lfd, fd;
	struct pkt p;

	snprintf(path, sizeof(path), "%s_6000", f->path);
	lfd = host_listen(path);
	/* The guest's buf_alloc is 8: the device sends no more than that unacknowledged. */
	post_rx(f, 256);
	tx_pkt(f, 1234, 6000, VSOCK_OP_REQUEST, 0, 8, 0, NULL, 0);
	step(f);
	assert_true(rx_pkt(f, &p));
	assert_int_equal(p.hdr.op, VSOCK_OP_RESPONSE);
	assert_int_equal(p.hdr.src_port, 6000);
	assert_int_equal(p.hdr.dst_port, 1234);
	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	assert_true(fd >= 0);

	tx_pkt(f, 1234, 6000, VSOCK_OP_RW, 0, 8, 0, "ping", 4);
	step(f);
	assert_int_equal(host_read(fd, buf, sizeof(buf)), 4);
	assert_string_equal(buf, "ping");

	assert_int_equal(write(fd, "0123456789abcdefghij", 20), 20);
	post_rx(f, 256);
	post_rx(f, 256);
	step(f);
	assert_true(rx_pkt(f, &p));
	assert_int_equal(p.hdr.op, VSOCK_OP_RW);
	assert_int_equal(p.hdr.len, 8);
	assert_memory_equal(p.data, "01234567", 8);
	assert_false(rx_pkt(f, &p)); /* out of credit: the second buffer stays free */
	/* The guest read them and says so: 8 more. */
	tx_pkt(f, 1234, 6000, VSOCK_OP_CREDIT_UPDATE, 0, 8, 8, NULL, 0);
	step(f);
	assert_true(rx_pkt(f, &p));
	assert_int_equal(p.hdr.len, 8);
	assert_memory_equal(p.data, "89abcdef", 8);
	/* A credit request is answered with the device's credit. */
	post_rx(f, 256);
	tx_pkt(f, 1234, 6000, VSOCK_OP_CREDIT_REQUEST, 0, 8, 8, NULL, 0);
	step(f);
	assert_true(rx_pkt(f, &p));
	assert_int_equal(p.hdr.op, VSOCK_OP_CREDIT_UPDATE);
	assert_int_equal(p.hdr.buf_alloc, VSOCK_BUF_ALLOC);
	assert_int_equal(p.hdr.fwd_cnt, 4);
	/* The guest resets: the host end closes. */
	tx_pkt(f, 1234, 6000, VSOCK_OP_RST, 0, 8, 16, NULL, 0);
	step(f);
	assert_int_equal(host_read(fd, buf, sizeof(buf)), 0);
	close(fd);
	close(lfd);
}

/*
 * A host program that never reads: the guest's bytes wait, up to the
 * credit the device gave, and a guest that sends past it loses that
 * connection alone.
 */
static void test_flood(void **state)
{
	struct fixture *f = *state;
	uint64_t big = vsim_alloc(&f->s, 64 * 1024);
	bool reset = false;
	char path[160];
	int lfd, fd, i;
	struct pkt p;

	snprintf(path, sizeof(path), "%s_6001", f->path);
	lfd = host_listen(path);
	post_rx(f, 256);
	tx_pkt(f, 99, 6001, VSOCK_OP_REQUEST, 0, 4096, 0, NULL, 0);
	step(f);
	assert_true(rx_pkt(f, &p));
	assert_int_equal(p.hdr.op, VSOCK_OP_RESPONSE);
	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	assert_true(fd >= 0);
	memset(vsim_hva(&f->s, big), 'z', 64 * 1024);
	/* 64 KiB at a time, never read: the socket fills, then the device's buffer. */
	for (i = 0; i < 32 && !reset; i++) {
		uint64_t a[2] = { vsim_alloc(&f->s, VSOCK_HDR_LEN), big };
		uint32_t l[2] = { VSOCK_HDR_LEN, 64 * 1024 };
		const struct vsock_hdr hdr = { .src_cid = CID, .dst_cid = VSOCK_CID_HOST,
					       .src_port = 99, .dst_port = 6001, .len = 64 * 1024,
					       .type = VSOCK_TYPE_STREAM, .op = VSOCK_OP_RW,
					       .buf_alloc = 4096 };

		vsock_hdr_encode(vsim_hva(&f->s, a[0]), &hdr);
		post(f, VSOCK_QUEUE_TX, a, l, 2, false);
		post_rx(f, 256);
		step(f);
		while (rx_pkt(f, &p)) {
			if (p.hdr.op == VSOCK_OP_RST) {
				assert_int_equal(p.hdr.dst_port, 99);
				reset = true;
			} else {
				assert_int_equal(p.hdr.op, VSOCK_OP_CREDIT_UPDATE);
			}
		}
	}
	/* The credit itself went through; past the socket and the buffer it ended. */
	assert_true(reset);
	assert_true(i > (int)(VSOCK_BUF_ALLOC / (64 * 1024)));
	/* The device went on serving meanwhile: a host connection works. */
	{
		int hfd;

		host_to_guest(f, &hfd, "CONNECT 5000\n");
		close(hfd);
	}
	close(fd);
	close(lfd);
}

static void test_bad_chains(void **state)
{
	struct fixture *f = *state;
	uint64_t a[1];
	uint32_t l[1], id, len;
	struct pkt p;

	/* Shorter than a header, or a length past its buffers: dropped, no answer. */
	a[0] = vsim_alloc(&f->s, 16);
	l[0] = 16;
	post_rx(f, 256);
	post(f, VSOCK_QUEUE_TX, a, l, 1, false);
	step(f);
	assert_true(take_used(f, VSOCK_QUEUE_TX, &id, &len));
	assert_int_equal(len, 0);
	tx_pkt(f, 1, 6000, VSOCK_OP_REQUEST, 0, 0, 0, NULL, 0);
	vmgenid_put_le32(vsim_hva(&f->s, vmgenid_get_le64(vsim_hva(&f->s, f->q[1].desc +
						16 * ((f->q[1].next_desc + QSIZE - 1) % QSIZE))) + 24),
		 100);
	step(f);
	assert_false(rx_pkt(f, &p));
	assert_int_equal(vsim_rd(&f->v->mmio, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET, 0);

	/* A receive buffer that cannot hold a header: the device needs a reset. */
	a[0] = vsim_alloc(&f->s, 8);
	l[0] = 8;
	{
		int fd = host_connect(f->path);

		assert_int_equal(write(fd, "CONNECT 1\n", 10), 10);
		f->q[0].used_seen = used_idx(f, 0);
		/* The posted 256-byte buffer goes first: take it, then the short one. */
		step(f);
		assert_true(rx_pkt(f, &p));
		post(f, VSOCK_QUEUE_RX, a, l, 1, true);
		tx_pkt(f, 1, p.hdr.src_port, VSOCK_OP_CREDIT_REQUEST, 0, 0, 0, NULL, 0);
		step(f);
		assert_int_equal(vsim_rd(&f->v->mmio, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET,
				 VIRTIO_STATUS_NEEDS_RESET);
		close(fd);
	}
}

static void test_transport_reset(void **state)
{
	struct fixture *f = *state;
	uint64_t ev = vsim_alloc(&f->s, 4), ev2 = vsim_alloc(&f->s, 4);
	uint32_t l = 4, id, len;
	char buf[16];
	struct pkt p;
	int old, fresh;

	host_to_guest(f, &old, "CONNECT 5000\n");
	post(f, VSOCK_QUEUE_EVENT, &ev, &l, 1, true);
	step(f);
	assert_int_equal(used_idx(f, VSOCK_QUEUE_EVENT), 0); /* nothing to say yet */

	/* A restore: the guest gets TRANSPORT_RESET, the old host end is closed. */
	virtio_vsock_post_load(f->v);
	step(f);
	assert_true(take_used(f, VSOCK_QUEUE_EVENT, &id, &len));
	assert_int_equal(len, 4);
	assert_int_equal(vmgenid_get_le32(vsim_hva(&f->s, ev)), VSOCK_EVENT_TRANSPORT_RESET);
	assert_int_equal(host_read(old, buf, sizeof(buf)), 0);
	close(old);

	/* A new client waits until the guest has taken the event in (its buffer comes back)... */
	fresh = host_connect(f->path);
	assert_int_equal(write(fresh, "CONNECT 5000\n", 13), 13);
	post_rx(f, 256);
	step(f);
	assert_false(rx_pkt(f, &p));
	post(f, VSOCK_QUEUE_EVENT, &ev2, &l, 1, true);
	step(f);
	/* ...and is offered then. */
	assert_true(rx_pkt(f, &p));
	assert_int_equal(p.hdr.op, VSOCK_OP_REQUEST);
	assert_int_equal(p.hdr.dst_port, 5000);
	close(fresh);
}

static void test_bad_paths(void **state)
{
	struct fixture *f = *state;
	char why[256], path[160];
	struct virtio_vsock *v;
	int fd;

	/* A directory that is not there. */
	snprintf(path, sizeof(path), "%s/missing/v.sock", f->dir);
	v = virtio_vsock_new(&f->s.mem, CID, path, f->kick_fd, &f->s.ops, why, sizeof(why));
	assert_null(v);
	assert_non_null(strstr(why, "No such file or directory"));
	/* A regular file stays. */
	snprintf(path, sizeof(path), "%s/file", f->dir);
	fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	close(fd);
	v = virtio_vsock_new(&f->s.mem, CID, path, f->kick_fd, &f->s.ops, why, sizeof(why));
	assert_null(v);
	assert_non_null(strstr(why, "exists and is not a socket"));
	/* The live socket of another device stays too. */
	v = virtio_vsock_new(&f->s.mem, CID, f->path, f->kick_fd, &f->s.ops, why, sizeof(why));
	assert_null(v);
	assert_non_null(strstr(why, "another process listens there"));
	/* A stale one (nobody listens) is replaced. */
	snprintf(path, sizeof(path), "%s/stale.sock", f->dir);
	fd = host_listen(path);
	close(fd);
	v = virtio_vsock_new(&f->s.mem, CID, path, f->kick_fd, &f->s.ops, why, sizeof(why));
	assert_non_null(v);
	virtio_vsock_free(v);
	/* ...and removed at the end. */
	assert_int_equal(access(path, F_OK), -1);
}

static void test_state_tail(void **state)
{
	struct vmgenid_bytebuf b;
	const char *why;

	(void)state;
	vmgenid_bytebuf_init(&b);
	vsock_save_tail(CID, VSOCK_BACKEND_HYBRID, &b);
	assert_int_equal(b.len, VSOCK_STATE_LEN);
	assert_int_equal(vsock_check_tail(b.data, (uint32_t)b.len, VSOCK_BACKEND_HYBRID, &why), 0);
	assert_int_equal(vsock_check_tail(b.data, (uint32_t)b.len - 1, VSOCK_BACKEND_HYBRID, &why),
			 -EINVAL);
	assert_non_null(strstr(why, "wrong length"));
	assert_int_equal(vsock_check_tail(b.data, (uint32_t)b.len, VSOCK_BACKEND_VHOST, &why), -EINVAL);
	assert_non_null(strstr(why, "vhost-vsock-device"));
	b.data[0] = 2;
	assert_int_equal(vsock_check_tail(b.data, (uint32_t)b.len, VSOCK_BACKEND_HYBRID, &why), -EINVAL);
	assert_non_null(strstr(why, "version"));
	b.data[0] = 1;
	vmgenid_put_le64(b.data + 4, 2);
	assert_int_equal(vsock_check_tail(b.data, (uint32_t)b.len, VSOCK_BACKEND_HYBRID, &why), -EINVAL);
	assert_non_null(strstr(why, "CID"));
	vmgenid_bytebuf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hdr_bytes),
		cmocka_unit_test(test_connect_line),
		cmocka_unit_test_setup_teardown(test_host_to_guest, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_lines, setup, teardown),
		cmocka_unit_test_setup_teardown(test_guest_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_guest_to_host, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flood, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_chains, setup, teardown),
		cmocka_unit_test_setup_teardown(test_transport_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_paths, setup, teardown),
		cmocka_unit_test(test_state_tail),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
