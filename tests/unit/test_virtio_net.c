// SPDX-License-Identifier: MIT
/*
 * virtio-net through a simulated guest, over a SOCK_SEQPACKET pair in
 * place of the tap (one read or write is one frame, as on a tap): what the
 * guest transmits arrives whole, what arrives is received into one buffer
 * or several (MRG_RXBUF, num_buffers), a guest without receive buffers
 * leaves frames waiting without the device spinning or blocking, hostile
 * chains are dropped or stop the device, the tap gets the offloads the
 * driver accepted, and the snapshot part is checked.  The tap backend's
 * own refusals are tested at the end.
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "vmgenid/endian.h"

#include "net.h"
#include "tap.h"
#include "vhost_net.h"
#include "virtio_sim.h"

#define V1 (1ull << VIRTIO_F_VERSION_1)
#define F(x) (1ull << (x))
#define F_NEXT VIRTQ_DESC_F_NEXT
#define F_WRITE VIRTQ_DESC_F_WRITE

/* The transmit queue's rings, apart from vsim's (which is the receive queue). */
#define TX_DESC (VSIM_RAM_BASE + 0x5000)
#define TX_AVAIL (VSIM_RAM_BASE + 0x7000)
#define TX_USED (VSIM_RAM_BASE + 0x8000)
#define QSIZE 16

struct fixture {
	struct vsim s;
	struct virtio_net *n;
	int sock[2]; /* [0] the device's backend, [1] the host's end */
	uint16_t tx_avail;
	unsigned int offload_calls;
	bool offload[3];
};

static struct fixture *current;

static int fake_offload(int fd, bool csum, bool tso4, bool tso6)
{
	(void)fd;
	current->offload_calls++;
	current->offload[0] = csum;
	current->offload[1] = tso4;
	current->offload[2] = tso6;
	return 0;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	vsim_init(&f->s, QSIZE);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, f->sock) < 0)
		return -1;
	fcntl(f->sock[0], F_SETFL, O_NONBLOCK);
	fcntl(f->sock[1], F_SETFL, O_NONBLOCK);
	current = f;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	virtio_net_free(f->n);
	close(f->sock[0]);
	close(f->sock[1]);
	vsim_destroy(&f->s);
	free(f);
	return 0;
}

static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

/* The device, and a driver that accepted features (the receive queue and the transmit queue). */
static void start(struct fixture *f, bool guest_offload, uint64_t features)
{
	const struct virtio_net_backend be = {
		.fd = f->sock[0],
		.guest_offload = guest_offload,
		.set_offload = fake_offload,
	};
	struct virtio_mmio *d;

	f->n = virtio_net_new(&f->s.mem, &be, mac, &f->s.ops);
	assert_non_null(f->n);
	d = &f->n->mmio;
	assert_int_equal(vsim_driver_init(&f->s, d, V1 | features) & VIRTIO_STATUS_NEEDS_RESET, 0);
	vsim_wr(d, VIRTIO_MMIO_QUEUE_SEL, VIRTIO_NET_TXQ);
	vsim_wr(d, VIRTIO_MMIO_QUEUE_NUM, QSIZE);
	vsim_wr(d, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)TX_DESC);
	vsim_wr(d, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)TX_AVAIL);
	vsim_wr(d, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)TX_USED);
	vsim_wr(d, VIRTIO_MMIO_QUEUE_READY, 1);
	assert_int_equal(vsim_rd(d, VIRTIO_MMIO_QUEUE_READY), 1);
}

static void tx_publish(struct fixture *f, uint16_t head)
{
	vmgenid_put_le16(vsim_hva(&f->s, TX_AVAIL + 4 + 2ull * (f->tx_avail % QSIZE)), head);
	f->tx_avail++;
	vmgenid_put_le16(vsim_hva(&f->s, TX_AVAIL + 2), f->tx_avail);
}

static uint16_t tx_used_idx(struct fixture *f)
{
	return vmgenid_get_le16(vsim_hva(&f->s, TX_USED + 2));
}

static uint32_t status(struct fixture *f)
{
	return vsim_rd(&f->n->mmio, VIRTIO_MMIO_STATUS);
}

/* A frame of len bytes after a zeroed 12-byte header, payload bytes i * 7 + seed. */
static void make_frame(uint8_t *buf, size_t len, uint8_t seed)
{
	memset(buf, 0, VIRTIO_NET_HDR_LEN);
	for (size_t i = VIRTIO_NET_HDR_LEN; i < len; i++)
		buf[i] = (uint8_t)(i * 7 + seed);
}

static void test_config_and_features(void **state)
{
	struct fixture *f = *state;
	uint8_t cfg[8];

	start(f, false, F(VIRTIO_NET_F_MAC));
	assert_int_equal(vsim_rd(&f->n->mmio, VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_NET);
	virtio_mmio_io(&f->n->mmio, VIRTIO_MMIO_CONFIG, cfg, 8, false);
	assert_memory_equal(cfg, mac, 6);
	assert_int_equal(vmgenid_get_le16(cfg + 6), VIRTIO_NET_S_LINK_UP);
	assert_true(f->n->mmio.device_features & F(VIRTIO_NET_F_MRG_RXBUF));
	assert_true(f->n->mmio.device_features & F(VIRTIO_NET_F_HOST_TSO4));
	assert_true(f->n->mmio.device_features & F(VIRTIO_NET_F_CSUM));
	/* A backend that cannot hand over segments: the guest is not offered them. */
	assert_false(f->n->mmio.device_features & F(VIRTIO_NET_F_GUEST_TSO4));
	assert_false(f->n->mmio.device_features & F(VIRTIO_NET_F_GUEST_CSUM));
	virtio_net_free(f->n);
	f->n = NULL;
	start(f, true, F(VIRTIO_NET_F_MAC));
	assert_true(f->n->mmio.device_features & F(VIRTIO_NET_F_GUEST_TSO6));
}

static void test_transmit(void **state)
{
	struct fixture *f = *state;
	uint64_t hdr = vsim_alloc(&f->s, 12), data = vsim_alloc(&f->s, 1500);
	uint8_t frame[1512], got[2000];
	ssize_t r;

	start(f, false, 0);
	make_frame(frame, sizeof(frame), 3);
	memcpy(vsim_hva(&f->s, hdr), frame, 12);
	memcpy(vsim_hva(&f->s, data), frame + 12, 1500);
	vsim_put_desc_at(&f->s, TX_DESC, 0, hdr, 12, F_NEXT, 1);
	vsim_put_desc_at(&f->s, TX_DESC, 1, data, 1500, 0, 0);
	tx_publish(f, 0);
	assert_false(virtio_net_process(f->n));
	assert_int_equal(tx_used_idx(f), 1);
	r = read(f->sock[1], got, sizeof(got));
	assert_int_equal(r, sizeof(frame));
	assert_memory_equal(got, frame, sizeof(frame));
	assert_int_equal(f->n->tx_frames, 1);
	assert_true(f->s.irqs >= 1);
}

static void test_transmit_refusals(void **state)
{
	struct fixture *f = *state;
	uint64_t buf = vsim_alloc(&f->s, 64);
	uint8_t got[64];

	start(f, false, 0);
	/* A writable segment in a transmit chain, and a chain shorter than the header. */
	vsim_put_desc_at(&f->s, TX_DESC, 0, buf, 32, F_NEXT, 1);
	vsim_put_desc_at(&f->s, TX_DESC, 1, buf + 32, 32, F_WRITE, 0);
	tx_publish(f, 0);
	vsim_put_desc_at(&f->s, TX_DESC, 2, buf, 11, 0, 0);
	tx_publish(f, 2);
	virtio_net_process(f->n);
	/* Both given back, nothing sent, the device still serving. */
	assert_int_equal(tx_used_idx(f), 2);
	assert_int_equal(f->n->tx_dropped, 2);
	assert_int_equal(read(f->sock[1], got, sizeof(got)), -1);
	assert_int_equal(errno, EAGAIN);
	assert_int_equal(status(f) & VIRTIO_STATUS_NEEDS_RESET, 0);
	/* A descriptor loop is the ring's fault: the device stops, the host does not. */
	vsim_put_desc_at(&f->s, TX_DESC, 3, buf, 32, F_NEXT, 4);
	vsim_put_desc_at(&f->s, TX_DESC, 4, buf, 32, F_NEXT, 3);
	tx_publish(f, 3);
	virtio_net_process(f->n);
	assert_true(status(f) & VIRTIO_STATUS_NEEDS_RESET);
	assert_int_equal(tx_used_idx(f), 2);
}

static void test_receive_one_buffer(void **state)
{
	struct fixture *f = *state;
	uint64_t buf = vsim_alloc(&f->s, 2048);
	uint8_t frame[1000];
	uint32_t id, len;
	const uint8_t *g;

	start(f, false, 0);
	vsim_put_desc(&f->s, 0, buf, 2048, F_WRITE, 0);
	vsim_publish(&f->s, 0);
	make_frame(frame, sizeof(frame), 9);
	frame[0] = 2; /* DATA_VALID from the host: no flags reach a guest without GUEST_CSUM */
	assert_int_equal(write(f->sock[1], frame, sizeof(frame)), sizeof(frame));
	virtio_net_process(f->n);
	assert_int_equal(vsim_used_idx(&f->s), 1);
	vsim_used_elem(&f->s, 0, &id, &len);
	assert_int_equal(id, 0);
	assert_int_equal(len, sizeof(frame));
	g = vsim_hva(&f->s, buf);
	assert_int_equal(g[0], 0);
	assert_int_equal(vmgenid_get_le16(g + 10), 1); /* num_buffers */
	assert_memory_equal(g + 12, frame + 12, sizeof(frame) - 12);
	assert_int_equal(f->n->rx_frames, 1);
}

static void test_receive_mergeable(void **state)
{
	struct fixture *f = *state;
	uint64_t buf[3];
	uint8_t frame[3000], joined[3 * 1536];
	uint32_t id, len, total = 0;

	start(f, true, F(VIRTIO_NET_F_MRG_RXBUF) | F(VIRTIO_NET_F_GUEST_CSUM));
	for (uint16_t i = 0; i < 3; i++) {
		buf[i] = vsim_alloc(&f->s, 1536);
		vsim_put_desc(&f->s, i, buf[i], 1536, F_WRITE, 0);
		vsim_publish(&f->s, i);
	}
	make_frame(frame, sizeof(frame), 1);
	frame[0] = VIRTIO_NET_HDR_F_NEEDS_CSUM; /* kept: the guest accepted partial checksums */
	assert_int_equal(write(f->sock[1], frame, sizeof(frame)), sizeof(frame));
	virtio_net_process(f->n);
	/* Two buffers, published together; the third is left for the next frame. */
	assert_int_equal(vsim_used_idx(&f->s), 2);
	for (uint16_t i = 0; i < 2; i++) {
		vsim_used_elem(&f->s, i, &id, &len);
		assert_int_equal(id, i);
		memcpy(joined + total, vsim_hva(&f->s, buf[i]), len);
		total += len;
	}
	assert_int_equal(total, sizeof(frame));
	assert_int_equal(joined[0], VIRTIO_NET_HDR_F_NEEDS_CSUM);
	assert_int_equal(vmgenid_get_le16(joined + 10), 2);
	assert_memory_equal(joined + 12, frame + 12, sizeof(frame) - 12);
	/* The offloads the driver accepted reached the backend: checksums, no segments. */
	assert_true(f->offload_calls >= 1);
	assert_true(f->offload[0]);
	assert_false(f->offload[1]);
	/* A frame larger than all the buffers left: it waits, nothing is published. */
	assert_int_equal(write(f->sock[1], frame, sizeof(frame)), sizeof(frame));
	virtio_net_process(f->n);
	assert_int_equal(vsim_used_idx(&f->s), 2);
	assert_false(virtio_net_wants_backend(f->n));
	vsim_put_desc(&f->s, 3, vsim_alloc(&f->s, 1536), 1536, F_WRITE, 0);
	vsim_publish(&f->s, 3);
	virtio_net_process(f->n);
	assert_int_equal(vsim_used_idx(&f->s), 4);
	assert_true(virtio_net_wants_backend(f->n));
}

static void test_no_buffers_never_blocks(void **state)
{
	struct fixture *f = *state;
	uint64_t buf = vsim_alloc(&f->s, 2048);
	uint8_t frame[200];
	unsigned int sent = 0;

	start(f, false, 0);
	make_frame(frame, sizeof(frame), 5);
	/* A flood with no receive buffer: the device takes one frame and waits. */
	while (sent < 64 && write(f->sock[1], frame, sizeof(frame)) == sizeof(frame))
		sent++;
	assert_true(sent > 1);
	virtio_net_process(f->n);
	virtio_net_process(f->n);
	assert_false(virtio_net_wants_backend(f->n));
	assert_int_equal(vsim_used_idx(&f->s), 0);
	assert_int_equal(f->n->rx_frames + f->n->rx_dropped, 0);
	/* One buffer: the waiting frame, in order, and the rest stays on the backend. */
	vsim_put_desc(&f->s, 0, buf, 2048, F_WRITE, 0);
	vsim_publish(&f->s, 0);
	virtio_net_process(f->n);
	assert_int_equal(vsim_used_idx(&f->s), 1);
	assert_int_equal(f->n->rx_frames, 1);
	assert_false(virtio_net_wants_backend(f->n));
}

static void test_backend_lost(void **state)
{
	struct fixture *f = *state;
	uint64_t buf = vsim_alloc(&f->s, 2048);

	start(f, false, 0);
	vsim_put_desc(&f->s, 0, buf, 2048, F_WRITE, 0);
	vsim_publish(&f->s, 0);
	/* The host's end goes away: the read fails at once, once; the worker stops reading. */
	close(f->sock[0]);
	f->sock[0] = open("/dev/null", O_WRONLY);
	f->n->be.fd = f->sock[0];
	virtio_net_process(f->n);
	assert_true(f->n->backend_lost);
	assert_false(virtio_net_wants_backend(f->n));
	virtio_net_process(f->n);
	assert_int_equal(vsim_used_idx(&f->s), 0);
	assert_int_equal(status(f) & VIRTIO_STATUS_NEEDS_RESET, 0);
}

static void test_receive_refusals(void **state)
{
	struct fixture *f = *state;
	uint64_t small = vsim_alloc(&f->s, 100), big = vsim_alloc(&f->s, 2048);
	uint8_t frame[500];

	start(f, false, 0);
	/* Without MRG_RXBUF one buffer must hold the frame: too small, the frame is dropped. */
	vsim_put_desc(&f->s, 0, small, 100, F_WRITE, 0);
	vsim_publish(&f->s, 0);
	make_frame(frame, sizeof(frame), 2);
	assert_int_equal(write(f->sock[1], frame, sizeof(frame)), sizeof(frame));
	/* A segment offload the guest never accepted: dropped too. */
	make_frame(frame, 60, 2);
	frame[1] = VIRTIO_NET_HDR_GSO_TCPV4;
	assert_int_equal(write(f->sock[1], frame, 60), 60);
	/* Shorter than a header: dropped. */
	assert_int_equal(write(f->sock[1], frame, 8), 8);
	make_frame(frame, 90, 2);
	assert_int_equal(write(f->sock[1], frame, 90), 90);
	virtio_net_process(f->n);
	assert_int_equal(f->n->rx_dropped, 3);
	assert_int_equal(vsim_used_idx(&f->s), 1); /* the small buffer took the 90-byte frame */
	assert_int_equal(status(f) & VIRTIO_STATUS_NEEDS_RESET, 0);
	/* A receive buffer the device may not write: the device stops, nothing is written. */
	vsim_put_desc(&f->s, 1, big, 2048, 0, 0);
	vsim_publish(&f->s, 1);
	memset(vsim_hva(&f->s, big), 0xee, 64);
	assert_int_equal(write(f->sock[1], frame, 90), 90);
	virtio_net_process(f->n);
	assert_true(status(f) & VIRTIO_STATUS_NEEDS_RESET);
	assert_int_equal(*vsim_hva(&f->s, big), 0xee);
	assert_int_equal(vsim_used_idx(&f->s), 1);
}

static void test_receive_buffer_smaller_than_header(void **state)
{
	struct fixture *f = *state;
	uint64_t tiny = vsim_alloc(&f->s, 8);
	uint8_t frame[90];

	start(f, false, F(VIRTIO_NET_F_MRG_RXBUF));
	vsim_put_desc(&f->s, 0, tiny, 8, F_WRITE, 0);
	vsim_publish(&f->s, 0);
	make_frame(frame, sizeof(frame), 4);
	assert_int_equal(write(f->sock[1], frame, sizeof(frame)), sizeof(frame));
	virtio_net_process(f->n);
	assert_true(status(f) & VIRTIO_STATUS_NEEDS_RESET);
	assert_int_equal(vsim_used_idx(&f->s), 0);
}

static void test_offload_follows_reset(void **state)
{
	struct fixture *f = *state;

	start(f, true, F(VIRTIO_NET_F_GUEST_CSUM) | F(VIRTIO_NET_F_GUEST_TSO4) |
			       F(VIRTIO_NET_F_GUEST_TSO6));
	virtio_net_process(f->n);
	assert_true(f->offload[0] && f->offload[1] && f->offload[2]);
	vsim_wr(&f->n->mmio, VIRTIO_MMIO_STATUS, 0);
	virtio_net_process(f->n);
	assert_false(f->offload[0] || f->offload[1] || f->offload[2]);
}

static void test_snapshot_part(void **state)
{
	struct fixture *f = *state;
	const struct virtio_net_backend be = { .fd = f->sock[0] };
	static const uint8_t other_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x57 };
	struct virtio_net *other;
	struct vmgenid_bytebuf b;
	const char *why = NULL;
	uint8_t p[VIRTIO_NET_STATE_LEN];

	start(f, false, 0);
	vmgenid_bytebuf_init(&b);
	virtio_net_save(f->n, &b);
	assert_false(vmgenid_bytebuf_failed(&b));
	assert_int_equal(b.len, VIRTIO_NET_STATE_LEN);
	memcpy(p, b.data, sizeof(p));
	vmgenid_bytebuf_free(&b);
	assert_int_equal(virtio_net_check(f->n, p, sizeof(p), &why), 0);
	assert_int_equal(virtio_net_check(f->n, p, sizeof(p) - 1, &why), -EINVAL);
	assert_string_equal(why, "virtio-net state has the wrong length");
	other = virtio_net_new(&f->s.mem, &be, other_mac, &f->s.ops);
	assert_non_null(other);
	assert_int_equal(virtio_net_check(other, p, sizeof(p), &why), -EINVAL);
	assert_non_null(strstr(why, "MAC differs"));
	virtio_net_free(other);
	p[0] = 2;
	assert_int_equal(virtio_net_check(f->n, p, sizeof(p), &why), -EINVAL);
	assert_string_equal(why, "unsupported virtio-net state version");
	p[0] = 1;
	p[8] = 0x80;
	assert_int_equal(virtio_net_check(f->n, p, sizeof(p), &why), -EINVAL);
}

static void test_tap_refusals(void **state)
{
	struct tap t;
	char why[256];

	(void)state;
	assert_int_equal(tap_open("name-longer-than-15", &t, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "longer than 15"));
	assert_int_equal(t.fd, -1);
	/* "lo" exists and is no tap: refused, whatever this host allows. */
	assert_int_equal(tap_open("lo", &t, why, sizeof(why)), -1);
	assert_true(strstr(why, "ifname=lo") || strstr(why, "/dev/net/tun"));
	assert_int_equal(t.fd, -1);
}

/* A tap genvm creates is gone when it closes it (root with /dev/net/tun only). */
static void test_tap_created_and_removed(void **state)
{
	struct tap t;
	char why[256];

	(void)state;
	if (tap_open("gvtest0", &t, why, sizeof(why)) < 0) {
		print_message("# cannot create taps here (%s)\n", why);
		skip();
	}
	assert_true(t.created);
	assert_string_equal(t.name, "gvtest0");
	assert_true(if_nametoindex("gvtest0") > 0);
	/* A tap someone holds (here: this test) is refused and left as it was. */
	{
		struct tap other;

		assert_int_equal(tap_open("gvtest0", &other, why, sizeof(why)), -1);
		assert_non_null(strstr(why, "ifname=gvtest0: "));
		assert_non_null(strstr(why, "the tap is in use by another process"));
		assert_int_equal(other.fd, -1);
		assert_true(if_nametoindex("gvtest0") > 0);
	}
	tap_close(&t);
	assert_int_equal(if_nametoindex("gvtest0"), 0);
}

/*
 * vhost=on without a usable /dev/vhost-net: QEMU's sentence when there is
 * no device, the device named when it is not a vhost device; nothing is
 * left open either way.  (A real vhost-net is the e2e suite's, t_net.)
 */
static void test_vhost_refusals(void **state)
{
	struct vsim s;
	struct virtio_net *n;
	const struct virtio_net_backend be = { .fd = -1 };
	const struct virtio_mmio_ops ops = { .kick = NULL };
	char why[256];
	int before, after;

	(void)state;
	vsim_init(&s, QSIZE);
	n = virtio_net_new(&s.mem, &be, mac, &ops);
	assert_non_null(n);
	before = open("/dev/null", O_RDONLY);
	assert_true(before >= 0);
	close(before);

	assert_null(vhost_net_new("/nonexistent/vhost-net", &s.mem, n, -1, why, sizeof(why)));
	assert_string_equal(why, "tap: open vhost char device failed: No such file or directory "
				 "(load the vhost_net module, or use vhost=off)");
	/* Opened, but VHOST_SET_OWNER is not something /dev/null answers. */
	assert_null(vhost_net_new("/dev/null", &s.mem, n, -1, why, sizeof(why)));
	assert_string_equal(why, "vhost-net: /dev/null: Inappropriate ioctl for device");

	/* The lowest free descriptor is the same: nothing leaked. */
	after = open("/dev/null", O_RDONLY);
	assert_int_equal(after, before);
	close(after);
	virtio_net_free(n);
	vsim_destroy(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_config_and_features, setup, teardown),
		cmocka_unit_test_setup_teardown(test_transmit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_transmit_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_receive_one_buffer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_receive_mergeable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_buffers_never_blocks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_receive_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backend_lost, setup, teardown),
		cmocka_unit_test_setup_teardown(test_receive_buffer_smaller_than_header, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_offload_follows_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_snapshot_part, setup, teardown),
		cmocka_unit_test(test_vhost_refusals),
		cmocka_unit_test(test_tap_refusals),
		cmocka_unit_test(test_tap_created_and_removed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
