/* SPDX-License-Identifier: MIT */
/*
 * The KVM virtual machine: /dev/kvm, in-kernel irqchip and PIT, guest RAM,
 * the port I/O and MMIO buses, and the one way out (vm_request_exit).
 *
 * Guest-physical RAM is a single host mapping.  Below 3 GiB it is one
 * range; a larger guest continues at 4 GiB, leaving 3..4 GiB to the IOAPIC,
 * the local APIC and KVM's private pages.
 */
#ifndef GENVM_VM_H
#define GENVM_VM_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "vmgenid/guest_mem.h"

#include "coalesced.h"
#include "io.h"

#define VM_PCI_HOLE_START 0xc0000000ull /* 3 GiB */
#define VM_HIGH_RAM_START 0x100000000ull /* 4 GiB */
#define VM_KVM_IDENTITY_MAP 0xfeffc000ull /* one page, then three for the TSS */
#define VM_KVM_TSS (VM_KVM_IDENTITY_MAP + 0x1000)
#define VM_KVM_PRIVATE_SIZE 0x4000ull
#define VM_IOAPIC_ADDR 0xfec00000u
#define VM_LAPIC_ADDR 0xfee00000u

struct vcpu;

/* Why the machine stops: the "reason" of QEMU's SHUTDOWN event. */
enum vm_exit_reason {
	VM_EXIT_HOST_ERROR,
	VM_EXIT_HOST_QMP_QUIT,
	VM_EXIT_HOST_QMP_SYSTEM_RESET, /* system_reset under -no-reboot */
	VM_EXIT_HOST_SIGNAL,
	VM_EXIT_HOST_UI,               /* C-a x, the monitor's quit */
	VM_EXIT_GUEST_SHUTDOWN,        /* ACPI S5 */
	VM_EXIT_GUEST_RESET,           /* a guest reset under -no-reboot */
};

struct vm {
	int kvm_fd;
	int vm_fd;
	int vcpu_mmap_size;

	uint8_t *ram;        /* one mapping of ram_size bytes */
	uint64_t ram_size;
	uint64_t low_size;   /* bytes at guest-physical 0 */
	uint64_t high_size;  /* bytes at VM_HIGH_RAM_START */
	struct vmgenid_guest_mem mem;

	struct io_bus *io;
	struct io_bus *mmio; /* below 4 GiB, outside RAM: the virtio-mmio windows */

	/*
	 * Writes KVM buffers instead of exiting (coalesced.h): the ring page
	 * is at coalesced_offset bytes into every vCPU's mmap, 0 when KVM
	 * has no usable ring and nothing is coalesced.  vCPU 0's mapping is
	 * the one read.
	 */
	size_t coalesced_offset;
	size_t page_size;
	struct coalesced coalesced;

	unsigned int nr_cpus;
	struct vcpu **vcpus;

	/* What a triple fault does: the machine's reset (vCPU thread context). */
	void (*on_triple_fault)(void *opaque);
	void *on_triple_fault_opaque;

	/*
	 * Pause: while pause_req is set, every vCPU thread parks outside
	 * KVM_RUN.  run_lock guards the counters, pause_req's writes and the
	 * vCPUs' immediate_exit flags; run_cond announces both parking and
	 * release.  See vcpu_pause_all().
	 */
	pthread_mutex_t run_lock;
	pthread_cond_t run_cond;
	atomic_bool pause_req;
	bool paused;             /* every live vCPU thread is parked */
	bool threads_quit;       /* parked threads return (vcpu_join_all) */
	unsigned int nr_active;  /* vCPU threads started and not yet returned */
	unsigned int nr_parked;

	/* Exit request: the first code wins, exit_fd wakes the main loop. */
	int exit_fd;
	atomic_bool exiting;
	/* CLOCK_MONOTONIC ns of the first KVM_RUN of any vCPU, 0 before: restore_times. */
	_Atomic uint64_t first_run_ns;
	int exit_code;
	enum vm_exit_reason exit_reason;

	/*
	 * A restored machine's RAM maps its snapshot file (vm_watch_ram_file):
	 * our own descriptor of it (-1 when RAM is anonymous), where the image
	 * ends in it, and whether it changed under us.
	 */
	int ram_file_fd;
	uint64_t ram_file_end;
	atomic_bool ram_file_lost;
	atomic_bool ram_file_reported;
};

/*
 * Open KVM and build the VM with its memory; prints why on failure (-1).
 * RAM is anonymous, or with ram_fd >= 0 a private (copy-on-write) mapping
 * of ram_size bytes of that file from ram_offset (page-aligned).
 */
int vm_create(struct vm *vm, uint64_t ram_size, unsigned int nr_cpus, int ram_fd,
	      uint64_t ram_offset);
void vm_destroy(struct vm *vm);

/*
 * Replace the KVM VM by a fresh one over the same guest RAM (whose
 * contents stay): in-kernel irqchip, PIT and kvmclock as at power-on.  The
 * vCPUs must have been destroyed first.  -1 (printed) on failure.
 */
int vm_rebuild(struct vm *vm);

/* Level of an ISA/IOAPIC interrupt line (KVM_IRQ_LINE); any thread. */
void vm_irq_line(struct vm *vm, unsigned int irq, int level);

/*
 * Ask the machine to stop with the given process exit status.  Any thread,
 * any number of times; the first request decides the status.
 */
void vm_request_exit(struct vm *vm, int code);
/* The same, saying why (vm_request_exit says VM_EXIT_HOST_ERROR). */
void vm_request_exit_why(struct vm *vm, int code, enum vm_exit_reason why);

/*
 * A snapshot file mapped as RAM must not change while the machine runs: a
 * truncated page is a SIGBUS in any host thread that touches it and an
 * EFAULT from KVM_RUN; a page rewritten in place changes under the guest.
 * vm_watch_ram_file() guards the file fd (the one vm_create() mapped, at
 * offset) for as long as the VM lives:
 *  - a read lease: whoever opens it for writing or truncates it makes us
 *    end (status 1) before the change, then the change proceeds;
 *  - without a lease (the file system or the owner refuses one), a SIGBUS
 *    handler: a host access to a vanished page ends genvm at once, and
 *    vm_ram_file_check() lets KVM_RUN's EFAULT path do the same.
 * Either way one line says "genvm: incoming: NAME changed under a running
 * machine", never a core dump.  on_fatal (may be NULL) runs in the SIGBUS
 * handler before _exit, so it must be async-signal-safe (tcsetattr).
 * Setup thread only; one VM per process.  -1 (printed) on failure.
 */
int vm_watch_ram_file(struct vm *vm, const char *name, int fd, uint64_t offset,
		      void (*on_fatal)(void));
/*
 * The signal handlers alone, with on_fatal: -incoming defer calls it
 * before the sandbox, which refuses sigaction; vm_watch_ram_file() then
 * finds them in place (else it installs them itself).
 */
int vm_ram_file_prepare(void (*on_fatal)(void));

/*
 * -incoming defer: the snapshot file's RAM image replaces guest RAM where
 * it is (the memory slots keep their addresses), copy-on-write as
 * vm_create() maps it.  Before any vCPU has run.  0, or -errno.
 */
int vm_map_ram_file(struct vm *vm, int fd, uint64_t offset);

/* After KVM_RUN's EFAULT: true (and the VM marked) when the file shrank or changed. */
bool vm_ram_file_check(struct vm *vm);
/* Print the line, once, if the file changed; true when it did. */
bool vm_ram_file_report(struct vm *vm);

/* Host pointer for [gpa, gpa+len) of guest RAM, or NULL. */
static inline void *vm_ptr(struct vm *vm, uint64_t gpa, uint64_t len)
{
	return vmgenid_guest_mem_ptr(&vm->mem, gpa, len);
}

#endif
