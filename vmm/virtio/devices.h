/* SPDX-License-Identifier: MIT */
/*
 * The machine's virtio-mmio devices: one per slot of layout.h (window at
 * LAYOUT_VIRTIO_MMIO_BASE + n * 0x200, IOAPIC pin 16 + n), in command-line
 * order, each with its drive, its worker thread and its two eventfds.
 *
 * Notifications never reach userspace on a vCPU: QueueNotify is a
 * KVM_IOEVENTFD that wakes the device's worker.  Completions are a
 * KVM_IRQFD on the device's pin, which KVM turns into an edge (it raises
 * and lowers the line at once).  So the pin is edge-triggered, and the DSDT
 * says so: InterruptStatus is a latch the driver reads and acknowledges,
 * and every time the device sets a bit in it, it sends a new edge, also
 * while earlier bits are unacknowledged.  The driver's handler reads the
 * status after its interrupt is accepted, so an edge that comes while it
 * runs leads to one more pass, never to a lost completion.  A level line
 * would need a resamplefd and a thread lowering the line on EOI when the
 * status is clear; edges need neither, as Firecracker found.
 *
 * While the machine is paused (machine_pause) the devices are quiesced: no
 * request is in flight, none is started, guest memory and the drives stay
 * as they are until machine_resume.  Snapshots and disk overlays rely on it.
 */
#ifndef GENVM_VIRTIO_DEVICES_H
#define GENVM_VIRTIO_DEVICES_H

#include <stdbool.h>
#include <stdint.h>

#include "vmgenid/bytebuf.h"
#include "vmgenid/state.h"

struct machine;
struct virtio_slot;
struct disk;

#define VIRTIO_STATE_VERSION 1
#define VIRTIO_STATE_PREFIX "virtio." /* section ids virtio.0 .. virtio.7 */

/*
 * Open every -drive into m->disks (a missing file, a directory, a size that
 * is not a multiple of 512 ...: one "genvm: ..." line, -1), first thing, so
 * a bad drive stops genvm before a VM exists.  close: all of them.
 */
int virtio_devices_open_drives(struct machine *m);
void virtio_devices_close_drives(struct machine *m);
/*
 * Open every -netdev's tap into m->taps, right after the drives and for the
 * same reason: a tap genvm may not open stops it before a VM exists.
 */
int virtio_devices_open_netdevs(struct machine *m);
void virtio_devices_close_netdevs(struct machine *m);
/* Create the devices over the open drives, claim their windows, start their workers.  -1 printed. */
int virtio_devices_create(struct machine *m);
/* Register their ioeventfds and irqfds with the machine's KVM VM.  -1 printed. */
int virtio_devices_attach(struct machine *m);
/* After vm_rebuild (a machine reset): back to power-on state, attached to the new VM. */
int virtio_devices_reset(struct machine *m);
void virtio_devices_quiesce(struct machine *m);
void virtio_devices_resume(struct machine *m);
void virtio_devices_destroy(struct machine *m);

/* The drive behind slot n, or NULL (not a disk). */
struct disk *virtio_devices_disk(struct machine *m, unsigned int n);

/* One section per device; quiesced by the caller (the machine is paused). */
int virtio_devices_save(struct machine *m, struct vmgenid_bytebuf *out);
/*
 * A "virtio.N" section: check that it fits slot N of this machine (same
 * device, same features, a drive of the same size, rings in RAM) without
 * changing anything; *slot says which.  Then load applies a checked one.
 */
int virtio_devices_check(struct machine *m, const struct vmgenid_state_section *s, unsigned int *slot,
			 const char **why);
void virtio_devices_load(struct machine *m, unsigned int slot, const struct vmgenid_state_section *s);
/* After a whole restore: vsock resets the guest's transport (vsock.h). */
void virtio_devices_post_load(struct machine *m);

#endif
