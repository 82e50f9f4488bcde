// SPDX-License-Identifier: MIT
#include <errno.h>
#include <linux/kvm.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "vmgenid/endian.h"

#include "blk.h"
#include "devices.h"
#include "disk.h"
#include "layout.h"
#include "machine.h"
#include "net.h"
#include "rng.h"
#include "sandbox.h"
#include "vhost_net.h"
#include "vhost_vsock.h"
#include "vsock.h"
#include "tap.h"

struct virtio_slot {
	struct machine *m;
	unsigned int index;
	uint64_t base;
	unsigned int gsi;
	enum cli_virtio_kind kind;
	struct virtio_mmio *mmio;
	struct virtio_blk *blk;
	struct virtio_rng *rng;
	struct virtio_vsock *vsock;
	struct vhost_vsock *vhost;
	struct virtio_net *net;
	struct vhost_net *vnet; /* the NIC's frames moved by the host kernel (vhost=on) */
	struct disk *disk;

	int kick_fd; /* QueueNotify: KVM_IOEVENTFD, or written by the MMIO handler */
	int irq_fd;  /* KVM_IRQFD on gsi */
	pthread_t thread;
	bool thread_live;
	atomic_bool stop;
};

static void slot_kick(void *opaque, unsigned int queue)
{
	struct virtio_slot *s = opaque;
	uint64_t one = 1;

	/* vhost's own queues (a notification no ioeventfd took, or a resume's). */
	int fd = s->vhost && queue < 2 ? s->vhost->kick_fd[queue]
		 : s->vnet && queue < 2 ? s->vnet->kick_fd[queue]
					 : s->kick_fd;

	if (write(fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		fprintf(stderr, "genvm: virtio.%u: kick: %s\n", s->index, strerror(errno));
}

static int slot_status(void *opaque, uint32_t old, uint32_t now)
{
	struct virtio_slot *s = opaque;

	if (s->vnet)
		return vhost_net_status(s->vnet, old, now);
	return vhost_vsock_status(s->vhost, old, now);
}

static void slot_irq(void *opaque)
{
	struct virtio_slot *s = opaque;
	uint64_t one = 1;

	if (write(s->irq_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		fprintf(stderr, "genvm: virtio.%u: interrupt: %s\n", s->index, strerror(errno));
}

/* Buffered InterruptACKs, of every device (any thread, any device's lock held). */
static void slot_sync(void *opaque)
{
	struct virtio_slot *s = opaque;

	coalesced_flush(&s->m->vm.coalesced);
}

/* One InterruptACK write KVM buffered at this slot's register (coalesced.h). */
static void slot_ack(void *opaque, const uint8_t *data, uint32_t len)
{
	struct virtio_slot *s = opaque;

	if (len == 4)
		virtio_mmio_ack(s->mmio, vmgenid_get_le32(data));
}

/*
 * A worker enters its seccomp list once the sandbox is prepared, which it
 * is not yet when the workers start.  false: that failed, the machine is
 * told to exit and the worker must stop.
 */
static bool enter_sandbox(struct virtio_slot *s, enum sandbox_kind kind, bool *sandboxed)
{
	int err;

	if (*sandboxed || !sandbox_prepared())
		return true;
	err = sandbox_enter(kind);
	if (err < 0) {
		fprintf(stderr, "genvm: virtio.%u: sandbox: %s\n", s->index, strerror(-err));
		vm_request_exit(&s->m->vm, 1);
		return false;
	}
	*sandboxed = true;
	return true;
}

/*
 * vsock's worker waits on sockets as well as on its queues (vsock.h).  It
 * looks for the sandbox at least every 100 ms until it is in: host
 * programs may connect before the vCPUs run.  Without a sandbox it just
 * waits.
 */
static void *vsock_worker(struct virtio_slot *s)
{
	bool sandboxed = !s->m->cfg->sandbox;

	while (!atomic_load(&s->stop)) {
		/* vhost-net's worker only waits on eventfds and interrupts: a device's list. */
		if (!enter_sandbox(s, s->vnet ? SANDBOX_DEVICE : SANDBOX_VSOCK, &sandboxed))
			break;
		if (s->vsock)
			virtio_vsock_step(s->vsock, sandboxed ? -1 : 100);
		else if (s->vnet)
			vhost_net_step(s->vnet, s->kick_fd, sandboxed ? -1 : 100);
		else
			vhost_vsock_step(s->vhost, s->kick_fd, sandboxed ? -1 : 100);
	}
	return NULL;
}

/*
 * A NIC's worker waits for a kick or a frame on its tap, but not for the
 * tap while a frame waits for the guest's receive buffers (that would
 * spin); more: transmit has work left, do not wait at all.
 */
static int wait_net(struct virtio_slot *s, bool more)
{
	struct pollfd p[2] = {
		{ .fd = s->kick_fd, .events = POLLIN },
		{ .fd = s->net->be.fd, .events = POLLIN },
	};
	nfds_t nfds = virtio_net_wants_backend(s->net) ? 2 : 1;
	uint64_t n;

	if (poll(p, nfds, more ? 0 : -1) < 0)
		return errno == EINTR ? 0 : -1;
	if (p[1].revents & (POLLERR | POLLHUP | POLLNVAL))
		virtio_net_backend_lost(s->net, "poll: error or hang-up");
	if ((p[0].revents & POLLIN) && read(s->kick_fd, &n, sizeof(n)) < 0 && errno != EINTR)
		return -1;
	return 0;
}

static void *worker(void *arg)
{
	struct virtio_slot *s = arg;
	bool sandboxed = false, more = false;
	uint64_t n;

	if (s->vsock || s->vhost || s->vnet)
		return vsock_worker(s);
	for (;;) {
		if (s->net ? wait_net(s, more) < 0
			   : read(s->kick_fd, &n, sizeof(n)) < 0 && errno != EINTR && errno != EAGAIN) {
			fprintf(stderr, "genvm: virtio.%u: worker: %s\n", s->index, strerror(errno));
			break;
		}
		if (atomic_load(&s->stop))
			break;
		/*
		 * Workers start with the machine, before the sandbox is
		 * prepared; the guest can kick a queue only once the vCPUs
		 * run, which is after it.  So the first request a worker
		 * serves is the moment to enter its own list.
		 */
		if (!enter_sandbox(s, SANDBOX_DEVICE, &sandboxed))
			break;
		if (s->blk)
			virtio_blk_process(s->blk);
		else if (s->net)
			more = virtio_net_process(s->net);
		else
			virtio_rng_process(s->rng);
	}
	return NULL;
}

/* Wire the eventfds into the current KVM VM (a reset makes a new one). */
static int attach(struct virtio_slot *s)
{
	struct kvm_ioeventfd io = {
		.addr = s->base + VIRTIO_MMIO_QUEUE_NOTIFY,
		.len = 4,
		.fd = s->kick_fd,
	};
	struct kvm_irqfd irq = { .fd = (uint32_t)s->irq_fd, .gsi = s->gsi };
	int vm_fd = s->m->vm.vm_fd;
	const int *vhost_kick = s->vhost ? s->vhost->kick_fd : s->vnet ? s->vnet->kick_fd : NULL;

	/*
	 * vhost takes its queues' notifications itself, told apart by the index
	 * written; vsock's event queue's (index 2) is the slot's, registered
	 * below (a vhost NIC has no third queue).
	 */
	for (unsigned int q = 0; vhost_kick && q < 3; q++) {
		io.flags = KVM_IOEVENTFD_FLAG_DATAMATCH;
		io.datamatch = q;
		io.fd = q < 2 ? vhost_kick[q] : s->kick_fd;
		if (q < 2 && ioctl(vm_fd, KVM_IOEVENTFD, &io) < 0) {
			fprintf(stderr, "genvm: virtio.%u: KVM_IOEVENTFD: %s\n", s->index,
				strerror(errno));
			return -1;
		}
	}
	if (!s->vnet && ioctl(vm_fd, KVM_IOEVENTFD, &io) < 0) {
		fprintf(stderr, "genvm: virtio.%u: KVM_IOEVENTFD: %s\n", s->index, strerror(errno));
		return -1;
	}
	if (ioctl(vm_fd, KVM_IRQFD, &irq) < 0) {
		fprintf(stderr, "genvm: virtio.%u: KVM_IRQFD: %s\n", s->index, strerror(errno));
		return -1;
	}
	/*
	 * The driver's InterruptACK write, once per interrupt, need not stop
	 * the vCPU: KVM buffers it, and the transport applies it before
	 * InterruptStatus is next read or set (mmio.h, ops.sync).  Without
	 * the ring it exits as any register write does.
	 */
	coalesced_register(&s->m->vm.coalesced, vm_fd, s->base + VIRTIO_MMIO_INTERRUPT_ACK, 4);
	return 0;
}

int virtio_devices_open_drives(struct machine *m)
{
	for (unsigned int i = 0; i < m->cfg->nr_drives; i++) {
		const struct cli_drive *d = &m->cfg->drives[i];
		const struct disk_options o = {
			.path = d->file,
			.readonly = d->readonly,
			.snapshot = d->snapshot,
			.direct = d->direct,
		};
		char why[512];

		/* disk_open's sentence names the file. */
		if (disk_open(&o, &m->disks[i], why, sizeof(why)) < 0) {
			fprintf(stderr, "genvm: -drive: %s\n", why);
			return -1;
		}
	}
	return 0;
}

void virtio_devices_close_drives(struct machine *m)
{
	for (unsigned int i = 0; i < CLI_MAX_DRIVES; i++) {
		if (m->disks[i])
			disk_close(m->disks[i]);
		m->disks[i] = NULL;
	}
}

/*
 * A netdev's problem, named as the user wrote it: -nic makes its netdev
 * itself, under an id the user never saw, so its errors name the -nic (as
 * QEMU's do, located at the option).
 */
static void netdev_error(const struct cli_netdev *nd, const char *why)
{
	if (nd->nic)
		fprintf(stderr, "genvm: -nic tap: %s\n", why); /* tap_open's why names the ifname */
	else
		fprintf(stderr, "genvm: -netdev tap,id=%s: %s\n", nd->id, why);
}

int virtio_devices_open_netdevs(struct machine *m)
{
	for (unsigned int i = 0; i < m->cfg->nr_netdevs; i++) {
		const struct cli_netdev *nd = &m->cfg->netdevs[i];
		char why[256];

		m->taps[i] = calloc(1, sizeof(*m->taps[i]));
		if (!m->taps[i]) {
			fprintf(stderr, "genvm: -netdev: out of memory\n");
			return -1;
		}
		m->taps[i]->fd = -1;
		if (tap_open(nd->ifname, m->taps[i], why, sizeof(why)) < 0) {
			netdev_error(nd, why);
			return -1;
		}
	}
	return 0;
}

void virtio_devices_close_netdevs(struct machine *m)
{
	for (unsigned int i = 0; i < CLI_MAX_NETDEVS; i++) {
		if (m->taps[i]) {
			tap_close(m->taps[i]);
			free(m->taps[i]);
		}
		m->taps[i] = NULL;
	}
}

static int create_slot(struct machine *m, unsigned int n)
{
	const struct cli_virtio *c = &m->cfg->virtio[n];
	const struct virtio_mmio_ops ops = { .kick = slot_kick, .irq = slot_irq, .sync = slot_sync };
	struct virtio_slot *s = calloc(1, sizeof(*s));
	struct virtio_mmio_ops slot_ops = ops;
	int ret;

	if (!s) {
		fprintf(stderr, "genvm: virtio: out of memory\n");
		return -1;
	}
	m->virtio[n] = s;
	s->m = m;
	s->index = n;
	s->kind = c->kind;
	s->base = LAYOUT_VIRTIO_MMIO_BASE + n * LAYOUT_VIRTIO_MMIO_SIZE;
	s->gsi = LAYOUT_VIRTIO_IRQ_BASE + n;
	s->kick_fd = eventfd(0, EFD_CLOEXEC);
	s->irq_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	atomic_init(&s->stop, false);
	if (s->kick_fd < 0 || s->irq_fd < 0) {
		fprintf(stderr, "genvm: virtio.%u: eventfd: %s\n", n, strerror(errno));
		return -1;
	}
	slot_ops.opaque = s;
	if (c->kind == CLI_VIRTIO_BLK) {
		s->disk = m->disks[c->drive];
		s->blk = virtio_blk_new(&m->vm.mem, s->disk, c->serial, &slot_ops);
		s->mmio = s->blk ? &s->blk->mmio : NULL;
	} else if (c->kind == CLI_VIRTIO_VSOCK) {
		char why[CLI_PATH_MAX + 128];

		s->vsock = virtio_vsock_new(&m->vm.mem, m->cfg->vsock.guest_cid, m->cfg->vsock.uds,
					    s->kick_fd, &slot_ops, why, sizeof(why));
		if (!s->vsock) {
			fprintf(stderr, "genvm: -device vsock: uds=%s\n", why);
			return -1;
		}
		s->mmio = &s->vsock->mmio;
	} else if (c->kind == CLI_VIRTIO_VHOST_VSOCK) {
		char why[256];

		slot_ops.status = slot_status;
		s->vhost = vhost_vsock_new(&m->vm.mem, m->cfg->vsock.guest_cid, &slot_ops, why,
					   sizeof(why));
		if (!s->vhost) {
			fprintf(stderr, "genvm: -device vhost-vsock-device: %s\n", why);
			return -1;
		}
		s->mmio = &s->vhost->mmio;
	} else if (c->kind == CLI_VIRTIO_NET) {
		const struct tap *t = m->taps[c->netdev];
		const struct cli_netdev *nd = &m->cfg->netdevs[c->netdev];
		const struct virtio_net_backend be = {
			.fd = t->fd,
			.guest_offload = t->guest_offload,
			.set_offload = tap_set_offload,
		};

		if (nd->vhost)
			slot_ops.status = slot_status;
		s->net = virtio_net_new(&m->vm.mem, &be, c->mac, &slot_ops);
		s->mmio = s->net ? &s->net->mmio : NULL;
		if (s->net && nd->vhost) {
			char why[256];

			s->vnet = vhost_net_new(VHOST_NET_DEVICE, &m->vm.mem, s->net, t->fd, why,
						sizeof(why));
			if (!s->vnet) {
				netdev_error(nd, why);
				return -1;
			}
		}
	} else {
		s->rng = virtio_rng_new(&m->vm.mem, &slot_ops);
		s->mmio = s->rng ? &s->rng->mmio : NULL;
	}
	if (!s->mmio) {
		fprintf(stderr, "genvm: virtio: out of memory\n");
		return -1;
	}
	ret = io_register_range(m->vm.mmio, s->base, LAYOUT_VIRTIO_MMIO_SIZE, virtio_mmio_io,
				s->mmio);
	if (ret < 0) {
		fprintf(stderr, "genvm: virtio.%u: MMIO window %#llx: %s\n", n,
			(unsigned long long)s->base, strerror(-ret));
		return -1;
	}
	ret = coalesced_add_zone(&m->vm.coalesced, s->base + VIRTIO_MMIO_INTERRUPT_ACK, 4, slot_ack,
				 s);
	if (ret < 0) {
		fprintf(stderr, "genvm: virtio.%u: InterruptACK zone: %s\n", n, strerror(-ret));
		return -1;
	}
	ret = pthread_create(&s->thread, NULL, worker, s);
	if (ret) {
		fprintf(stderr, "genvm: virtio.%u: worker thread: %s\n", n, strerror(ret));
		return -1;
	}
	s->thread_live = true;
	return 0;
}

int virtio_devices_create(struct machine *m)
{
	m->nr_virtio = m->cfg->nr_virtio;
	for (unsigned int i = 0; i < m->nr_virtio; i++) {
		if (create_slot(m, i) < 0)
			return -1;
	}
	return 0;
}

int virtio_devices_attach(struct machine *m)
{
	for (unsigned int i = 0; i < m->nr_virtio; i++) {
		if (attach(m->virtio[i]) < 0)
			return -1;
	}
	return 0;
}

int virtio_devices_reset(struct machine *m)
{
	for (unsigned int i = 0; i < m->nr_virtio; i++) {
		virtio_mmio_reset(m->virtio[i]->mmio);
		if (attach(m->virtio[i]) < 0)
			return -1;
	}
	return 0;
}

void virtio_devices_quiesce(struct machine *m)
{
	for (unsigned int i = 0; i < m->nr_virtio; i++) {
		if (m->virtio[i]->vhost)
			vhost_vsock_quiesce(m->virtio[i]->vhost);
		else if (m->virtio[i]->vnet)
			vhost_net_quiesce(m->virtio[i]->vnet);
		else
			virtio_mmio_quiesce(m->virtio[i]->mmio);
	}
}

void virtio_devices_resume(struct machine *m)
{
	for (unsigned int i = 0; i < m->nr_virtio; i++) {
		if (m->virtio[i]->vhost)
			vhost_vsock_resume(m->virtio[i]->vhost);
		else if (m->virtio[i]->vnet)
			vhost_net_resume(m->virtio[i]->vnet);
		else
			virtio_mmio_resume(m->virtio[i]->mmio);
	}
}

struct disk *virtio_devices_disk(struct machine *m, unsigned int n)
{
	return n < m->nr_virtio ? m->virtio[n]->disk : NULL;
}

void virtio_devices_destroy(struct machine *m)
{
	for (unsigned int i = 0; i < LAYOUT_VIRTIO_MAX; i++) {
		struct virtio_slot *s = m->virtio[i];
		uint64_t one = 1;

		if (!s)
			continue;
		coalesced_del_zone(&m->vm.coalesced, s->base + VIRTIO_MMIO_INTERRUPT_ACK);
		if (s->thread_live) {
			atomic_store(&s->stop, true);
			if (write(s->kick_fd, &one, sizeof(one)) < 0)
				fprintf(stderr, "genvm: virtio.%u: stop: %s\n", i, strerror(errno));
			pthread_join(s->thread, NULL);
		}
		virtio_blk_free(s->blk);
		virtio_rng_free(s->rng);
		virtio_vsock_free(s->vsock);
		vhost_vsock_free(s->vhost);
		vhost_net_free(s->vnet); /* before its device */
		virtio_net_free(s->net);
		if (s->kick_fd >= 0)
			close(s->kick_fd);
		if (s->irq_fd >= 0)
			close(s->irq_fd);
		free(s);
		m->virtio[i] = NULL;
	}
	m->nr_virtio = 0;
}

/*
 * Section "virtio.N", version 1: the transport's state (mmio.c), then for a
 * disk its size in bytes (le64) and whether it is read-only (u8), so that a
 * restore onto another disk is refused rather than shown a different disk;
 * for a NIC its own versioned part (net.c: the MAC and link status).  The
 * tap is not in it: a clone opens the tap its command line names.
 */
#define BLK_TAIL 9u

int virtio_devices_save(struct machine *m, struct vmgenid_bytebuf *out)
{
	for (unsigned int i = 0; i < m->nr_virtio; i++) {
		struct virtio_slot *s = m->virtio[i];
		char id[VMGENID_STATE_ID_SIZE];
		size_t start;

		snprintf(id, sizeof(id), VIRTIO_STATE_PREFIX "%c", (char)('0' + i));
		start = vmgenid_state_section_begin(out, id, VIRTIO_STATE_VERSION);
		virtio_mmio_save(s->mmio, out);
		if (s->disk) {
			vmgenid_bytebuf_put_le64(out, disk_size(s->disk));
			vmgenid_bytebuf_put_u8(out, disk_readonly(s->disk));
		}
		if (s->vsock)
			vsock_save_tail(s->vsock->guest_cid, VSOCK_BACKEND_HYBRID, out);
		if (s->vhost)
			vsock_save_tail(s->vhost->guest_cid, VSOCK_BACKEND_VHOST, out);
		if (s->net)
			virtio_net_save(s->net, out);
		vmgenid_state_section_end(out, start);
	}
	return vmgenid_bytebuf_failed(out) ? -ENOMEM : 0;
}

int virtio_devices_check(struct machine *m, const struct vmgenid_state_section *sec, unsigned int *slot,
			 const char **why)
{
	const char *num = sec->id + strlen(VIRTIO_STATE_PREFIX);
	struct virtio_slot *s;
	uint32_t used;

	if (num[0] < '0' || num[0] > '9' || num[1]) {
		*why = "not a virtio section name";
		return -EINVAL;
	}
	*slot = (unsigned int)(num[0] - '0');
	if (*slot >= m->nr_virtio) {
		*why = "the snapshot has more virtio devices than the command line gives";
		return -EINVAL;
	}
	s = m->virtio[*slot];
	if (sec->version != VIRTIO_STATE_VERSION) {
		*why = "unsupported virtio state version";
		return -EINVAL;
	}
	if (virtio_mmio_check(s->mmio, sec->payload, sec->length, &used, why) < 0)
		return -EINVAL;
	if (s->vsock || s->vhost)
		return vsock_check_tail(sec->payload + used, sec->length - used,
					s->vhost ? VSOCK_BACKEND_VHOST : VSOCK_BACKEND_HYBRID, why);
	if (s->net)
		return virtio_net_check(s->net, sec->payload + used, sec->length - used, why);
	if (sec->length != used + (s->disk ? BLK_TAIL : 0)) {
		*why = "virtio state has the wrong length";
		return -EINVAL;
	}
	if (s->disk) {
		const uint8_t *tail = sec->payload + used;

		if (vmgenid_get_le64(tail) != disk_size(s->disk)) {
			*why = "the drive's size differs from the snapshot's disk";
			return -EINVAL;
		}
		if (tail[8] != disk_readonly(s->disk)) {
			*why = "the drive's readonly= differs from the snapshot's";
			return -EINVAL;
		}
	}
	return 0;
}

void virtio_devices_load(struct machine *m, unsigned int slot, const struct vmgenid_state_section *s)
{
	virtio_mmio_load(m->virtio[slot]->mmio, s->payload);
}

void virtio_devices_post_load(struct machine *m)
{
	for (unsigned int i = 0; i < m->nr_virtio; i++) {
		if (m->virtio[i]->vsock)
			virtio_vsock_post_load(m->virtio[i]->vsock);
		if (m->virtio[i]->vhost)
			vhost_vsock_post_load(m->virtio[i]->vhost, m->virtio[i]->kick_fd);
		if (m->virtio[i]->vnet)
			vhost_net_post_load(m->virtio[i]->vnet);
	}
}
