/* SPDX-License-Identifier: MIT */
/*
 * The whole machine: VM, devices, firmware configuration, boot layout.
 * Built once from the configuration, run until the guest powers off.
 */
#ifndef GENVM_MACHINE_H
#define GENVM_MACHINE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "vmgenid/bios_loader.h"
#include "vmgenid/bytebuf.h"
#include "vmgenid/fw_cfg.h"
#include "vmgenid/vmclock.h"
#include "vmgenid/vmgenid.h"

#include "boot.h"
#include "cli.h"
#include "firmware.h"
#include "fw_status.h"
#include "layout.h"
#include "legacy.h"
#include "restore_times.h"
#include "vm.h"

struct uart;
struct pm;
struct virtio_slot;
struct disk;
struct tap;

struct machine {
	const struct genvm_config *cfg;
	struct vm vm;
	struct uart *uart;
	struct pm *pm;
	struct legacy_i8042 i8042;
	struct firmware_status fw_status;

	/* fw_cfg is not thread-safe; vCPUs take this around every access. */
	pthread_mutex_t fw_cfg_lock;
	struct vmgenid_fw_cfg *fw_cfg;
	struct vmgenid_dev *vmgenid;
	struct vmgenid_vmclock *vmclock; /* its page: LAYOUT_VMCLOCK_PAGE(vm.low_size) */

	/* The -drive backends, by cfg->drives index; virtio-mmio devices in slot order. */
	struct disk *disks[CLI_MAX_DRIVES];
	struct virtio_slot *virtio[LAYOUT_VIRTIO_MAX];
	unsigned int nr_virtio;
	/* The -netdev taps, by cfg->netdevs index. */
	struct tap *taps[CLI_MAX_NETDEVS];

	/* What fw_cfg serves; referenced, so it lives as long as the machine. */
	struct vmgenid_bytebuf acpi_rsdp;
	struct vmgenid_bytebuf acpi_tables;
	struct vmgenid_bios_loader loader;

	struct boot_info boot;

	/* When each phase of -incoming ended (main.c); first_run is vm's. */
	struct restore_times restore;

	/*
	 * kvmclock as it read when the vCPUs were paused: restored on resume,
	 * so the guest's clock does not advance while it is stopped (what
	 * QEMU does too).  Valid while clock_saved.
	 */
	uint64_t paused_clock;
	bool clock_saved;

	/*
	 * Requests from vCPU threads (MACHINE_REQ_*), carried out by the main
	 * loop, which request_fd (an eventfd) wakes.
	 */
	atomic_uint requests;
	int request_fd;
	int serial_fd; /* the console's own fd (/dev/null, stdout opened again), or -1 */
};

#define MACHINE_REQ_RESET 1u  /* the guest asked for a reset */
#define MACHINE_REQ_OUTPUT 2u /* console output waits to be written */
#define MACHINE_REQ_POWEROFF 4u /* the guest powered off under -no-shutdown */

/*
 * Build everything up to, not including, starting the vCPUs (-1, printed).
 * RAM as vm_create() takes it.  With cfg->incoming nothing is loaded into
 * RAM and the vCPUs keep KVM's reset state: a snapshot provides both.
 */
int machine_create(struct machine *m, const struct genvm_config *cfg, int ram_fd,
		   uint64_t ram_offset);
/* Start the vCPUs. */
int machine_start(struct machine *m);
/* Stop the vCPUs and free everything. */
void machine_destroy(struct machine *m);

/*
 * Stop every vCPU outside KVM_RUN and wait until all are parked (or gone,
 * when the guest is exiting), then freeze kvmclock.  Idempotent: pausing a
 * paused machine returns 0 at once.  Guest memory and device state are
 * then stable until machine_resume(), which is idempotent too.  Called from
 * the main loop's thread, never from a vCPU thread (-EDEADLK).
 */
int machine_pause(struct machine *m);
void machine_resume(struct machine *m);
bool machine_is_paused(struct machine *m);

/*
 * A full system reset, from the main loop: a fresh KVM VM and vCPUs over
 * the same RAM, devices at power-on state, firmware, kernel and initrd
 * loaded again, so the firmware runs its table-loader again and writes the
 * vmgenid address back.  The GUID is the device's and stays; the guest
 * sees no notification since memory already holds it.  A paused machine
 * stays paused.  0, or -1 (printed): the machine is then unusable.
 */
int machine_reset(struct machine *m);

/*
 * The fd to write the guest console to, for what goes to fd (stdout): the
 * main loop writes it and must never block on it.  A pipe or terminal is
 * opened again as a file description of our own with O_NONBLOCK (setting
 * it on stdout itself would change it for whoever shares it: the shell,
 * the terminal) and that new fd returned; a socket, which cannot be
 * opened again, gets O_NONBLOCK; a regular file never blocks and is
 * written through fd itself, at its offset.
 */
int machine_console_output(int fd);

/*
 * The guest powered off (ACPI S5; vCPU context): genvm ends, or under
 * -no-shutdown the main loop stops the machine and keeps serving QMP.
 */
void machine_guest_poweroff(struct machine *m);

/*
 * -serial pty: a new pseudo-terminal in raw mode, its path (name, len
 * bytes) announced on stderr in QEMU's words with label; the master's fd,
 * non-blocking, for the console's output and input.  -1 (printed).
 */
int machine_console_pty(const char *label, char *name, size_t len);

/* Ask the main loop to act (any thread); take the pending requests. */
void machine_request(struct machine *m, unsigned int req);
unsigned int machine_take_requests(struct machine *m);

/* acpi.c: build the tables and loader script and put them in fw_cfg. */
int acpi_setup(struct machine *m);

#endif
