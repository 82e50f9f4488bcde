// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vm.h"

/* The snapshot file under RAM, for the signals of vm_watch_ram_file(). */
static struct vm *watched;
static char lost_line[600];
static size_t lost_line_len;
static void (*fatal_hook)(void);

static int fail(const char *what)
{
	fprintf(stderr, "genvm: %s: %s\n", what, strerror(errno));
	return -1;
}

static int check_caps(struct vm *vm)
{
	static const struct {
		int cap;
		const char *name;
	} caps[] = {
		{ KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP" },
		{ KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY" },
		{ KVM_CAP_PIT2, "KVM_CAP_PIT2" },
		{ KVM_CAP_IRQ_ROUTING, "KVM_CAP_IRQ_ROUTING" },
		{ KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID" },
		{ KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT" },
	};

	for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
		if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, caps[i].cap) <= 0) {
			fprintf(stderr, "genvm: /dev/kvm: missing %s\n", caps[i].name);
			return -1;
		}
	}
	return 0;
}

/*
 * The PC wiring: ISA IRQs 0-15 go to the two 8259s and to the IOAPIC pin of
 * the same number, except that the PIT (IRQ 0) is on IOAPIC pin 2, which is
 * what the MADT's interrupt source override tells the guest.
 */
static int setup_irq_routing(struct vm *vm)
{
	struct kvm_irq_routing *r;
	unsigned int n = 0;
	int ret;

	r = calloc(1, sizeof(*r) + 48 * sizeof(r->entries[0]));
	if (!r)
		return fail("irq routing");
	for (unsigned int i = 0; i < 16; i++) {
		if (i == 2)
			continue;
		r->entries[n].gsi = i;
		r->entries[n].type = KVM_IRQ_ROUTING_IRQCHIP;
		r->entries[n].u.irqchip.irqchip = i < 8 ? KVM_IRQCHIP_PIC_MASTER
							: KVM_IRQCHIP_PIC_SLAVE;
		r->entries[n].u.irqchip.pin = i & 7;
		n++;
	}
	for (unsigned int i = 0; i < 24; i++) {
		if (i == 2)
			continue;
		r->entries[n].gsi = i;
		r->entries[n].type = KVM_IRQ_ROUTING_IRQCHIP;
		r->entries[n].u.irqchip.irqchip = KVM_IRQCHIP_IOAPIC;
		r->entries[n].u.irqchip.pin = i == 0 ? 2 : i;
		n++;
	}
	r->nr = n;
	ret = ioctl(vm->vm_fd, KVM_SET_GSI_ROUTING, r);
	free(r);
	return ret < 0 ? fail("KVM_SET_GSI_ROUTING") : 0;
}

static int add_slot(struct vm *vm, uint32_t slot, uint64_t gpa, uint64_t size, uint8_t *hva)
{
	struct kvm_userspace_memory_region region = {
		.slot = slot,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (uint64_t)(uintptr_t)hva,
	};

	if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		return fail("KVM_SET_USER_MEMORY_REGION");
	return 0;
}

/*
 * KVM maps a 2 MiB range of the guest with one large page only when the host
 * page behind it is huge and guest and host addresses agree modulo 2 MiB.
 * mmap() promises 4 KiB alignment, so the RAM is placed inside a reservation
 * one alignment larger, at its first 2 MiB boundary, and the slack unmapped.
 * Unaligned, every 4 KiB of RAM the guest touches costs a nested page fault
 * exit (bench/boot.sh counts them).
 */
#define RAM_ALIGN (2u << 20)

static void *map_ram(uint64_t size, int fd, uint64_t offset)
{
	size_t span = size + RAM_ALIGN;
	uint8_t *res, *at;
	void *p;
	int err;

	res = mmap(NULL, span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (res == MAP_FAILED)
		return MAP_FAILED;
	at = res + ((RAM_ALIGN - (uintptr_t)res % RAM_ALIGN) % RAM_ALIGN);
	if (fd >= 0)
		p = mmap(at, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_NORESERVE | MAP_FIXED,
			 fd, (off_t)offset);
	else
		p = mmap(at, size, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);
	if (p == MAP_FAILED) {
		err = errno;
		munmap(res, span);
		errno = err;
		return MAP_FAILED;
	}
	if (at > res)
		munmap(res, (size_t)(at - res));
	if (at + size < res + span)
		munmap(at + size, (size_t)(res + span - (at + size)));
	return p;
}

static int setup_memory(struct vm *vm, uint64_t ram_size, int ram_fd, uint64_t ram_offset)
{
	void *p;

	if (ram_fd >= 0) {
		/*
		 * A snapshot's image, copy-on-write: pages come in as the guest
		 * touches them, and what it writes stays private, so any
		 * number of clones share one file in the page cache.
		 */
		p = map_ram(ram_size, ram_fd, ram_offset);
		if (p == MAP_FAILED)
			return fail("mapping the snapshot's guest RAM");
	} else {
		p = map_ram(ram_size, -1, 0);
		if (p == MAP_FAILED)
			return fail("guest RAM");
		/* Fewer, larger host pages mean fewer faults while the guest boots. */
		madvise(p, ram_size, MADV_HUGEPAGE);
	}
	vm->ram = p;
	vm->ram_size = ram_size;
	vm->low_size = ram_size < VM_PCI_HOLE_START ? ram_size : VM_PCI_HOLE_START;
	vm->high_size = ram_size - vm->low_size;

	vmgenid_guest_mem_init(&vm->mem);
	if (vmgenid_guest_mem_add(&vm->mem, 0, vm->low_size, vm->ram) < 0 ||
	    (vm->high_size &&
	     vmgenid_guest_mem_add(&vm->mem, VM_HIGH_RAM_START, vm->high_size, vm->ram + vm->low_size) < 0)) {
		fprintf(stderr, "genvm: guest memory: cannot describe %lluM of RAM\n",
			(unsigned long long)(ram_size >> 20));
		return -1;
	}
	return 0;
}

/*
 * The KVM side of the machine: the VM with its in-kernel interrupt
 * controllers and PIT, the identity-map and TSS pages, and guest RAM as
 * memory slots.  Everything here is KVM's state alone, so a reset gets a
 * power-on machine by doing it again (vm_rebuild).
 */
static int create_kvm_vm(struct vm *vm)
{
	struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };
	uint64_t identity = VM_KVM_IDENTITY_MAP;

	vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0)
		return fail("KVM_CREATE_VM");
	/* Both must be in place before the first vCPU exists. */
	if (ioctl(vm->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &identity) < 0)
		return fail("KVM_SET_IDENTITY_MAP_ADDR");
	if (ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, (unsigned long)VM_KVM_TSS) < 0)
		return fail("KVM_SET_TSS_ADDR");
	if (ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0)
		return fail("KVM_CREATE_IRQCHIP");
	if (ioctl(vm->vm_fd, KVM_CREATE_PIT2, &pit) < 0)
		return fail("KVM_CREATE_PIT2");
	if (setup_irq_routing(vm) < 0)
		return -1;
	if (add_slot(vm, 0, 0, vm->low_size, vm->ram) < 0)
		return -1;
	if (vm->high_size &&
	    add_slot(vm, 1, VM_HIGH_RAM_START, vm->high_size, vm->ram + vm->low_size) < 0)
		return -1;
	return 0;
}

/*
 * KVM_CAP_COALESCED_MMIO is the ring's page offset in the vCPU mmap (0: no
 * ring).  A ring that would lie past the mapping KVM_GET_VCPU_MMAP_SIZE
 * gives is not used: a zone registered then would swallow writes nobody
 * reads.
 */
static void find_coalesced_ring(struct vm *vm)
{
	long page = sysconf(_SC_PAGESIZE);
	int off = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_COALESCED_MMIO);

	vm->page_size = page > 0 ? (size_t)page : 4096;
	vm->coalesced_offset = 0;
	if (off > 0 && ((size_t)off + 1) * vm->page_size <= (size_t)vm->vcpu_mmap_size)
		vm->coalesced_offset = (size_t)off * vm->page_size;
	vm->coalesced.kvm_ring = vm->coalesced_offset != 0;
}

int vm_rebuild(struct vm *vm)
{
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	vm->vm_fd = -1;
	return create_kvm_vm(vm);
}

int vm_create(struct vm *vm, uint64_t ram_size, unsigned int nr_cpus, int ram_fd,
	      uint64_t ram_offset)
{
	int ret;

	memset(vm, 0, sizeof(*vm));
	vm->kvm_fd = vm->vm_fd = vm->exit_fd = vm->ram_file_fd = -1;
	vm->nr_cpus = nr_cpus;
	pthread_mutex_init(&vm->run_lock, NULL);
	pthread_cond_init(&vm->run_cond, NULL);
	atomic_init(&vm->pause_req, false);
	coalesced_init(&vm->coalesced);

	vm->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm->kvm_fd < 0)
		return fail("/dev/kvm");
	ret = ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0);
	if (ret != KVM_API_VERSION) {
		fprintf(stderr, "genvm: /dev/kvm: API version %d, expected %d\n", ret,
			KVM_API_VERSION);
		return -1;
	}
	if (check_caps(vm) < 0)
		return -1;
	ret = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);
	if (ret > 0 && nr_cpus > (unsigned int)ret) {
		fprintf(stderr, "genvm: -smp %u: KVM supports at most %d vCPUs\n", nr_cpus, ret);
		return -1;
	}
	vm->vcpu_mmap_size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (vm->vcpu_mmap_size < (int)sizeof(struct kvm_run))
		return fail("KVM_GET_VCPU_MMAP_SIZE");
	find_coalesced_ring(vm);
	if (setup_memory(vm, ram_size, ram_fd, ram_offset) < 0 || create_kvm_vm(vm) < 0)
		return -1;

	vm->io = io_bus_new();
	vm->mmio = io_bus_new();
	vm->vcpus = calloc(nr_cpus, sizeof(*vm->vcpus));
	if (!vm->io || !vm->mmio || !vm->vcpus)
		return fail("allocating the machine");
	vm->exit_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vm->exit_fd < 0)
		return fail("eventfd");
	return 0;
}

void vm_destroy(struct vm *vm)
{
	free(vm->vcpus);
	io_bus_free(vm->io);
	io_bus_free(vm->mmio);
	if (vm->ram)
		munmap(vm->ram, vm->ram_size);
	if (vm->exit_fd >= 0)
		close(vm->exit_fd);
	if (vm->ram_file_fd >= 0) {
		/* Lease and handlers go with the file: the mapping is gone. */
		close(vm->ram_file_fd);
		watched = NULL;
	}
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	pthread_cond_destroy(&vm->run_cond);
	pthread_mutex_destroy(&vm->run_lock);
	coalesced_destroy(&vm->coalesced);
	memset(vm, 0, sizeof(*vm));
}

void vm_irq_line(struct vm *vm, unsigned int irq, int level)
{
	struct kvm_irq_level l = { .irq = irq, .level = (uint32_t)level };

	if (ioctl(vm->vm_fd, KVM_IRQ_LINE, &l) < 0)
		fprintf(stderr, "genvm: KVM_IRQ_LINE %u: %s\n", irq, strerror(errno));
}

void vm_request_exit_why(struct vm *vm, int code, enum vm_exit_reason why)
{
	uint64_t one = 1;
	bool expected = false;

	if (!atomic_compare_exchange_strong(&vm->exiting, &expected, true))
		return;
	vm->exit_code = code;
	vm->exit_reason = why;
	if (write(vm->exit_fd, &one, sizeof(one)) < 0)
		fprintf(stderr, "genvm: exit request: %s\n", strerror(errno));
}

void vm_request_exit(struct vm *vm, int code)
{
	vm_request_exit_why(vm, code, VM_EXIT_HOST_ERROR);
}

/* ---- a restored machine's snapshot file ---- */

/* Once, from whichever path sees the change first. */
static bool say_lost(struct vm *vm)
{
	if (atomic_exchange(&vm->ram_file_reported, true))
		return false;
	if (write(STDERR_FILENO, lost_line, lost_line_len) < 0) {
		/* Nowhere left to say it. */
	}
	return true;
}

/* SIGIO: someone opens the file for writing or truncates it; we go first. */
static void on_lease_break(int sig)
{
	struct vm *vm = watched;

	(void)sig;
	if (!vm)
		return;
	atomic_store(&vm->ram_file_lost, true);
	vm_request_exit(vm, 1);
}

static void on_sigbus(int sig, siginfo_t *si, void *ctx)
{
	struct vm *vm = watched;
	uint8_t *a = si->si_addr;

	(void)ctx;
	if (vm && vm->ram && a >= vm->ram && a < vm->ram + vm->ram_size) {
		atomic_store(&vm->ram_file_lost, true);
		say_lost(vm);
		if (fatal_hook)
			fatal_hook();
		_exit(1);
	}
	/* Not guest RAM: the fault is ours, and returning repeats it unhandled. */
	signal(sig, SIG_DFL);
}

/* Installed ahead by vm_ram_file_prepare(): vm_watch_ram_file() leaves them. */
static bool handlers_prepared;

static int install_handlers(void (*on_fatal)(void))
{
	struct sigaction bus = { .sa_sigaction = on_sigbus, .sa_flags = SA_SIGINFO };
	struct sigaction io = { .sa_handler = on_lease_break, .sa_flags = SA_RESTART };

	fatal_hook = on_fatal;
	sigemptyset(&bus.sa_mask);
	sigemptyset(&io.sa_mask);
	if (sigaction(SIGBUS, &bus, NULL) < 0 || sigaction(SIGIO, &io, NULL) < 0)
		return fail("signal handlers for the snapshot file");
	return 0;
}

int vm_ram_file_prepare(void (*on_fatal)(void))
{
	if (install_handlers(on_fatal) < 0)
		return -1;
	handlers_prepared = true;
	return 0;
}

int vm_map_ram_file(struct vm *vm, int fd, uint64_t offset)
{
	void *p = mmap(vm->ram, vm->ram_size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_NORESERVE | MAP_FIXED, fd, (off_t)offset);

	return p == MAP_FAILED ? -errno : 0;
}

int vm_watch_ram_file(struct vm *vm, const char *name, int fd, uint64_t offset,
		      void (*on_fatal)(void))
{
	int n;

	n = snprintf(lost_line, sizeof(lost_line),
		     "genvm: incoming: %s changed under a running machine\n", name);
	lost_line_len = n < 0 ? 0 : (size_t)n < sizeof(lost_line) ? (size_t)n : sizeof(lost_line) - 1;
	vm->ram_file_end = offset + vm->ram_size;
	vm->ram_file_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (vm->ram_file_fd < 0)
		return fail("the snapshot file");
	watched = vm;
	if (handlers_prepared) {
		if (on_fatal)
			fatal_hook = on_fatal;
	} else if (install_handlers(on_fatal) < 0) {
		return -1;
	}
	/*
	 * The lease is the better guard (nothing changes before we are gone)
	 * but not always there: another owner, a file system without leases,
	 * fs.leases-enable=0.  The SIGBUS and EFAULT paths cover those.
	 */
	if (fcntl(vm->ram_file_fd, F_SETLEASE, F_RDLCK) < 0) {
		/* Not an error: the restore works, only the guard is weaker. */
	}
	return 0;
}

bool vm_ram_file_check(struct vm *vm)
{
	struct stat st;

	if (vm->ram_file_fd < 0)
		return false;
	if (!atomic_load(&vm->ram_file_lost) &&
	    (fstat(vm->ram_file_fd, &st) < 0 || (uint64_t)st.st_size < vm->ram_file_end))
		atomic_store(&vm->ram_file_lost, true);
	return atomic_load(&vm->ram_file_lost);
}

bool vm_ram_file_report(struct vm *vm)
{
	if (!atomic_load(&vm->ram_file_lost))
		return false;
	say_lost(vm);
	return true;
}
