// SPDX-License-Identifier: MIT
#include <errno.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "cpu_dump.h"
#include "msr.h"
#include "sandbox.h"
#include "vcpu.h"
#include "vm.h"

#define VCPU_KICK_SIGNAL SIGUSR1
#define MAX_CPUID_ENTRIES 256

#define CPUID_1_ECX_HYPERVISOR (1u << 31)
#define CPUID_1_EDX_HTT (1u << 28)
#define KVM_CPUID_SIGNATURE 0x40000000u
#define KVM_CPUID_FEATURES 0x40000001u

#define MISC_ENABLE_FAST_STRING 1ull
#define MTRR_ENABLE (1ull << 11)
#define MTRR_TYPE_WB 6ull

#define APIC_LVT0 0x350
#define APIC_LVT1 0x360
#define APIC_MODE_MASK 0x700u
#define APIC_MODE_NMI 0x400u
#define APIC_MODE_EXTINT 0x700u

#define CR0_PE (1ull << 0)
#define CR0_MP (1ull << 1)
#define CR0_ET (1ull << 4)
#define CR0_NE (1ull << 5)
#define CR0_WP (1ull << 16)
#define CR0_PG (1ull << 31)
#define CR4_PAE (1ull << 5)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)

static int fail(const struct vcpu *v, const char *what)
{
	fprintf(stderr, "genvm: vcpu %u: %s: %s\n", v->id, what, strerror(errno));
	return -1;
}

static unsigned int bits_for(unsigned int n)
{
	unsigned int b = 0;

	while ((1u << b) < n)
		b++;
	return b;
}

/*
 * Topology: one package with nr_cpus cores of one thread each, APIC id =
 * vCPU index.  Leaves 0xB and 0x1F say so; leaf 4 agrees on the core count.
 */
static void set_topology(struct kvm_cpuid_entry2 *e, unsigned int id, unsigned int nr_cpus)
{
	if (e->index == 0) {
		e->eax = 0;
		e->ebx = 1;
		e->ecx = (1u << 8) | 0; /* SMT level */
	} else if (e->index == 1) {
		e->eax = bits_for(nr_cpus);
		e->ebx = nr_cpus;
		e->ecx = (2u << 8) | 1; /* core level */
	} else {
		e->eax = 0;
		e->ebx = 0;
		e->ecx = e->index;
	}
	e->edx = id;
}

static void filter_cpuid(struct kvm_cpuid2 *c, unsigned int id, unsigned int nr_cpus)
{
	bool has_kvm_leaf = false;

	for (uint32_t i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];

		switch (e->function) {
		case 1:
			e->ebx = (e->ebx & 0xffffu) | (id << 24) | ((nr_cpus & 0xffu) << 16);
			e->ecx |= CPUID_1_ECX_HYPERVISOR;
			if (nr_cpus > 1)
				e->edx |= CPUID_1_EDX_HTT;
			break;
		case 4:
			if (e->eax & 0x1f) {
				e->eax &= ~(0x3fu << 26);
				e->eax |= (nr_cpus - 1) << 26;
			}
			break;
		case 0xa:
			/* No PMU: we do not virtualize the host's counters. */
			e->eax = e->ebx = e->ecx = e->edx = 0;
			break;
		case 0xb:
		case 0x1f:
			set_topology(e, id, nr_cpus);
			break;
		case KVM_CPUID_SIGNATURE:
			has_kvm_leaf = true;
			break;
		default:
			break;
		}
	}

	/*
	 * kvmclock needs the KVM signature leaf; KVM reports it, but a guest
	 * without it silently falls back to slower clocks, so make sure.
	 */
	if (!has_kvm_leaf && c->nent + 1 < MAX_CPUID_ENTRIES) {
		struct kvm_cpuid_entry2 *e = &c->entries[c->nent++];

		memset(e, 0, sizeof(*e));
		e->function = KVM_CPUID_SIGNATURE;
		e->eax = KVM_CPUID_FEATURES;
		memcpy(&e->ebx, "KVMK", 4);
		memcpy(&e->ecx, "VMKV", 4);
		memcpy(&e->edx, "M\0\0\0", 4);
	}
}

static int setup_cpuid(struct vcpu *v)
{
	struct kvm_cpuid2 *c;
	int ret;

	c = calloc(1, sizeof(*c) + MAX_CPUID_ENTRIES * sizeof(c->entries[0]));
	if (!c)
		return fail(v, "cpuid");
	c->nent = MAX_CPUID_ENTRIES - 1;
	if (ioctl(v->vm->kvm_fd, KVM_GET_SUPPORTED_CPUID, c) < 0) {
		free(c);
		return fail(v, "KVM_GET_SUPPORTED_CPUID");
	}
	filter_cpuid(c, v->id, v->vm->nr_cpus);
	ret = ioctl(v->fd, KVM_SET_CPUID2, c);
	free(c);
	return ret < 0 ? fail(v, "KVM_SET_CPUID2") : 0;
}

static int setup_msrs(struct vcpu *v)
{
	static const struct {
		uint32_t index;
		uint64_t value;
	} boot_msrs[] = {
		{ MSR_IA32_SYSENTER_CS, 0 },
		{ MSR_IA32_SYSENTER_ESP, 0 },
		{ MSR_IA32_SYSENTER_EIP, 0 },
		{ MSR_STAR, 0 },
		{ MSR_CSTAR, 0 },
		{ MSR_KERNEL_GS_BASE, 0 },
		{ MSR_SYSCALL_MASK, 0 },
		{ MSR_LSTAR, 0 },
		{ MSR_IA32_MISC_ENABLE, MISC_ENABLE_FAST_STRING },
		/* Firmware would enable MTRRs with write-back as the default. */
		{ MSR_MTRR_DEF_TYPE, MTRR_ENABLE | MTRR_TYPE_WB },
	};
	const size_t n = sizeof(boot_msrs) / sizeof(boot_msrs[0]);
	struct kvm_msrs *m;
	int ret;

	m = calloc(1, sizeof(*m) + n * sizeof(m->entries[0]));
	if (!m)
		return fail(v, "msrs");
	for (size_t i = 0; i < n; i++) {
		m->entries[i].index = boot_msrs[i].index;
		m->entries[i].data = boot_msrs[i].value;
	}
	m->nmsrs = (uint32_t)n;
	ret = ioctl(v->fd, KVM_SET_MSRS, m);
	if (ret >= 0 && (size_t)ret < n) {
		fprintf(stderr, "genvm: vcpu %u: KVM_SET_MSRS: MSR %#x refused\n", v->id,
			m->entries[ret].index);
		ret = -1;
	} else if (ret < 0) {
		fail(v, "KVM_SET_MSRS");
	}
	free(m);
	return ret < 0 ? -1 : 0;
}

static uint32_t lapic_get(const struct kvm_lapic_state *s, unsigned int reg)
{
	uint32_t v;

	memcpy(&v, &s->regs[reg], sizeof(v));
	return v;
}

static void lapic_set(struct kvm_lapic_state *s, unsigned int reg, uint32_t v)
{
	memcpy(&s->regs[reg], &v, sizeof(v));
}

/* As on a PC: the 8259 arrives on LINT0 (ExtINT), NMIs on LINT1. */
static int setup_lapic(struct vcpu *v)
{
	struct kvm_lapic_state s;

	if (ioctl(v->fd, KVM_GET_LAPIC, &s) < 0)
		return fail(v, "KVM_GET_LAPIC");
	lapic_set(&s, APIC_LVT0, (lapic_get(&s, APIC_LVT0) & ~APIC_MODE_MASK) | APIC_MODE_EXTINT);
	lapic_set(&s, APIC_LVT1, (lapic_get(&s, APIC_LVT1) & ~APIC_MODE_MASK) | APIC_MODE_NMI);
	if (ioctl(v->fd, KVM_SET_LAPIC, &s) < 0)
		return fail(v, "KVM_SET_LAPIC");
	return 0;
}

struct vcpu *vcpu_create(struct vm *vm, unsigned int id)
{
	struct vcpu *v = calloc(1, sizeof(*v));
	void *run;

	if (!v) {
		fprintf(stderr, "genvm: vcpu %u: out of memory\n", id);
		return NULL;
	}
	v->vm = vm;
	v->id = id;
	v->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, (unsigned long)id);
	if (v->fd < 0) {
		fail(v, "KVM_CREATE_VCPU");
		free(v);
		return NULL;
	}
	run = mmap(NULL, (size_t)vm->vcpu_mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
	if (run == MAP_FAILED) {
		fail(v, "mmap kvm_run");
		close(v->fd);
		free(v);
		return NULL;
	}
	v->run = run;
	/* The ring is the VM's, in every vCPU's mapping: vCPU 0's is read. */
	if (id == 0 && vm->coalesced_offset)
		coalesced_attach(&vm->coalesced, (uint8_t *)run + vm->coalesced_offset,
				 vm->page_size);
	if (setup_cpuid(v) < 0 || setup_msrs(v) < 0 || setup_lapic(v) < 0) {
		vcpu_destroy(v);
		return NULL;
	}
	return v;
}

void vcpu_destroy(struct vcpu *v)
{
	if (!v)
		return;
	/* Device workers may still flush (machine_destroy, a reset): not from this page. */
	if (v->id == 0 && v->vm->coalesced_offset)
		coalesced_detach(&v->vm->coalesced);
	munmap(v->run, (size_t)v->vm->vcpu_mmap_size);
	close(v->fd);
	free(v);
}

static void set_segment(struct kvm_segment *s, uint16_t sel, uint8_t type, bool code)
{
	memset(s, 0, sizeof(*s));
	s->base = 0;
	s->limit = 0xffffffff;
	s->selector = sel;
	s->type = type;
	s->present = 1;
	s->s = 1;
	s->g = 1;
	s->l = code;
	s->db = !code;
}

int vcpu_set_boot_state(struct vcpu *v, const struct vcpu_boot_state *st)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	struct kvm_fpu fpu;

	if (ioctl(v->fd, KVM_GET_SREGS, &sregs) < 0)
		return fail(v, "KVM_GET_SREGS");
	set_segment(&sregs.cs, st->code_sel, 0xb, true);
	set_segment(&sregs.ds, st->data_sel, 0x3, false);
	sregs.es = sregs.fs = sregs.gs = sregs.ss = sregs.ds;
	memset(&sregs.tr, 0, sizeof(sregs.tr));
	sregs.tr.selector = st->tss_sel;
	sregs.tr.limit = 0x67;
	sregs.tr.type = 0xb; /* busy 64-bit TSS */
	sregs.tr.present = 1;
	sregs.gdt.base = st->gdt_base;
	sregs.gdt.limit = st->gdt_limit;
	sregs.idt.base = 0;
	sregs.idt.limit = 0;
	sregs.cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_PG;
	sregs.cr3 = st->cr3;
	sregs.cr4 = CR4_PAE;
	sregs.efer = EFER_LME | EFER_LMA;
	if (ioctl(v->fd, KVM_SET_SREGS, &sregs) < 0)
		return fail(v, "KVM_SET_SREGS");

	memset(&fpu, 0, sizeof(fpu));
	fpu.fcw = 0x37f;
	fpu.mxcsr = 0x1f80;
	if (ioctl(v->fd, KVM_SET_FPU, &fpu) < 0)
		return fail(v, "KVM_SET_FPU");

	memset(&regs, 0, sizeof(regs));
	regs.rflags = 0x2;
	regs.rip = st->rip;
	regs.rsp = st->rsp;
	regs.rdi = st->rdi;
	if (ioctl(v->fd, KVM_SET_REGS, &regs) < 0)
		return fail(v, "KVM_SET_REGS");
	return 0;
}

static void handle_io(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	uint32_t size = run->io.size;
	uint64_t total = (uint64_t)size * run->io.count;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;

	/* KVM never does otherwise; the check keeps a broken kernel from hurting us. */
	if (size == 0 || size > 4 || run->io.data_offset + total > (uint64_t)v->vm->vcpu_mmap_size)
		return;
	for (uint32_t i = 0; i < run->io.count; i++, data += size)
		io_dispatch(v->vm->io, run->io.port, data, size,
			    run->io.direction == KVM_EXIT_IO_OUT);
}

/* Claimed windows go to their device; elsewhere reads float high, writes vanish. */
static void handle_mmio(struct vcpu *v)
{
	struct kvm_run *run = v->run;

	if (run->mmio.len == 0 || run->mmio.len > sizeof(run->mmio.data))
		return;
	io_dispatch_addr(v->vm->mmio, run->mmio.phys_addr, run->mmio.data, run->mmio.len,
			 run->mmio.is_write);
}

/*
 * Say what went wrong and where the guest was: RIP, CR2 and CR3 tell
 * firmware from kernel and usually name the faulting access.
 */
static void report_stop(struct vcpu *v, const char *why)
{
	struct cpu_dump d;
	const char *err;
	char where[256];

	if (cpu_dump_read(v, &d, &err) < 0) {
		fprintf(stderr, "genvm: vcpu %u: %s\n", v->id, why);
		return;
	}
	/*
	 * On AMD, KVM answers a shutdown by resetting the vCPU (the VMCB is
	 * undefined after one), so the registers are the reset vector's:
	 * say so rather than point at 0xfff0.
	 */
	if (d.regs.rip == 0xfff0 && d.sregs.cs.selector == 0xf000 && !(d.sregs.cr0 & CR0_PE)) {
		fprintf(stderr, "genvm: vcpu %u: %s (KVM reset the vCPU: where it was is lost)\n",
			v->id, why);
		return;
	}
	cpu_dump_summary(&d, where, sizeof(where));
	fprintf(stderr, "genvm: vcpu %u: %s (%s)\n", v->id, why, where);
}

static void fatal_exit(struct vcpu *v, const char *why)
{
	report_stop(v, why);
	vm_request_exit(v->vm, 1);
}

static _Thread_local struct vcpu *current_vcpu;

/*
 * Park while a pause is requested, then clear immediate_exit for the next
 * KVM_RUN.  Clearing under run_lock orders it against every writer of the
 * flag (pause and stop take the lock too), so a request that comes later
 * sets it again and is never lost.  False when the VM is exiting.
 */
static bool vcpu_park(struct vcpu *v)
{
	struct vm *vm = v->vm;
	bool go_on;

	pthread_mutex_lock(&vm->run_lock);
	if (atomic_load(&vm->pause_req) && !atomic_load(&vm->exiting) && !vm->threads_quit) {
		vm->nr_parked++;
		pthread_cond_broadcast(&vm->run_cond);
		while (atomic_load(&vm->pause_req) && !atomic_load(&vm->exiting) &&
		       !vm->threads_quit)
			pthread_cond_wait(&vm->run_cond, &vm->run_lock);
		vm->nr_parked--;
	}
	v->run->immediate_exit = 0;
	go_on = !atomic_load(&vm->exiting) && !vm->threads_quit;
	pthread_mutex_unlock(&vm->run_lock);
	return go_on;
}

static void wait_for_pause(struct vcpu *v)
{
	struct vm *vm = v->vm;

	pthread_mutex_lock(&vm->run_lock);
	while (!atomic_load(&vm->pause_req) && !atomic_load(&vm->exiting) && !vm->threads_quit)
		pthread_cond_wait(&vm->run_cond, &vm->run_lock);
	pthread_mutex_unlock(&vm->run_lock);
}

/* The first vCPU to get here stamps it; later ones find it taken. */
static void note_first_run(struct vm *vm)
{
	struct timespec ts;
	uint64_t none = 0;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	atomic_compare_exchange_strong(&vm->first_run_ns, &none,
				       (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec);
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *v = arg;
	struct kvm_run *run = v->run;
	bool io_pending = false; /* the last KVM_RUN returned an I/O or MMIO exit */
	char why[128];
	int err;

	current_vcpu = v;
	/* Before the guest runs a single instruction here. */
	err = sandbox_enter(SANDBOX_VCPU);
	if (err < 0) {
		fprintf(stderr, "genvm: vcpu %u: sandbox: %s\n", v->id, strerror(-err));
		vm_request_exit(v->vm, 1);
	}
	while (!err && !atomic_load(&v->vm->exiting)) {
		if (io_pending && atomic_load(&v->vm->pause_req)) {
			/*
			 * KVM finishes an I/O or MMIO exit (an "in" value into
			 * RAX, RIP past the instruction) only on the next
			 * KVM_RUN.  Before parking, run once with
			 * immediate_exit set: KVM completes the instruction
			 * and returns EINTR without entering the guest (KVM's
			 * API doc, kvm_run.immediate_exit), so the state a
			 * snapshot reads while we are parked is consistent.
			 * A string I/O may exit again for more data: served
			 * below, and we come back here.
			 */
			pthread_mutex_lock(&v->vm->run_lock);
			run->immediate_exit = 1;
			pthread_mutex_unlock(&v->vm->run_lock);
		} else if ((atomic_load(&v->vm->pause_req) || run->immediate_exit) &&
			   !vcpu_park(v)) {
			break;
		}
		io_pending = false;
		if (!atomic_load_explicit(&v->vm->first_run_ns, memory_order_relaxed))
			note_first_run(v->vm);
		if (ioctl(v->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			/* A page of the snapshot under RAM is gone: said once, at exit. */
			if (errno == EFAULT && vm_ram_file_check(v->vm)) {
				vm_request_exit(v->vm, 1);
				break;
			}
			snprintf(why, sizeof(why), "KVM_RUN: %s", strerror(errno));
			fatal_exit(v, why);
			break;
		}
		/*
		 * Writes KVM buffered (the virtio-mmio InterruptACKs) happened
		 * before this access: they take effect first, whatever device
		 * it is for.
		 */
		if ((run->exit_reason == KVM_EXIT_IO || run->exit_reason == KVM_EXIT_MMIO) &&
		    v->vm->coalesced_offset)
			coalesced_flush(&v->vm->coalesced);
		switch (run->exit_reason) {
		case KVM_EXIT_IO:
			handle_io(v);
			io_pending = true;
			break;
		case KVM_EXIT_MMIO:
			handle_mmio(v);
			io_pending = true;
			break;
		case KVM_EXIT_INTR:
			break;
		case KVM_EXIT_SHUTDOWN:
			/* A triple fault: what a PC does next is reset. */
			report_stop(v, "triple fault");
			if (v->vm->on_triple_fault)
				v->vm->on_triple_fault(v->vm->on_triple_fault_opaque);
			else
				vm_request_exit(v->vm, 1);
			/* A shut-down vCPU cannot run on: wait for the reset or the exit. */
			wait_for_pause(v);
			break;
		case KVM_EXIT_FAIL_ENTRY:
			snprintf(why, sizeof(why), "KVM_EXIT_FAIL_ENTRY, reason %#llx",
				 (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
			fatal_exit(v, why);
			break;
		case KVM_EXIT_INTERNAL_ERROR:
			snprintf(why, sizeof(why), "KVM internal error, suberror %u",
				 run->internal.suberror);
			fatal_exit(v, why);
			break;
		default:
			snprintf(why, sizeof(why), "unexpected KVM exit %u", run->exit_reason);
			fatal_exit(v, why);
			break;
		}
	}
	pthread_mutex_lock(&v->vm->run_lock);
	v->vm->nr_active--;
	pthread_cond_broadcast(&v->vm->run_cond);
	pthread_mutex_unlock(&v->vm->run_lock);
	return NULL;
}

static void kick_handler(int sig)
{
	(void)sig;
}

int vcpu_start(struct vcpu *v)
{
	static atomic_flag handler_set = ATOMIC_FLAG_INIT;
	pthread_attr_t attr;
	int ret;

	if (!atomic_flag_test_and_set(&handler_set)) {
		/* No SA_RESTART: the signal must make KVM_RUN return. */
		struct sigaction sa = { .sa_handler = kick_handler };

		sigemptyset(&sa.sa_mask);
		sigaction(VCPU_KICK_SIGNAL, &sa, NULL);
	}
	pthread_mutex_lock(&v->vm->run_lock);
	v->vm->nr_active++;
	pthread_mutex_unlock(&v->vm->run_lock);
	/*
	 * 1 MiB of stack, not glibc's 8: an 8 MiB stack holds a 2 MiB-aligned
	 * range, which a host with transparent huge pages "always" backs with
	 * a 2 MiB page as soon as the thread touches it (bench/boot.sh saw
	 * genvm's memory beyond guest RAM grow from 1.1 to 3.1 MiB that way).
	 */
	ret = pthread_attr_init(&attr);
	if (!ret) {
		ret = pthread_attr_setstacksize(&attr, 1u << 20);
		if (!ret)
			ret = pthread_create(&v->thread, &attr, vcpu_thread, v);
		pthread_attr_destroy(&attr);
	}
	if (ret) {
		pthread_mutex_lock(&v->vm->run_lock);
		v->vm->nr_active--;
		pthread_cond_broadcast(&v->vm->run_cond);
		pthread_mutex_unlock(&v->vm->run_lock);
		fprintf(stderr, "genvm: vcpu %u: thread: %s\n", v->id, strerror(ret));
		return -1;
	}
	v->started = 1;
	return 0;
}

/*
 * immediate_exit covers the window between a thread's last check and its
 * next KVM_RUN; the signal covers a thread already inside KVM_RUN.  The
 * caller holds run_lock.
 */
static void kick_all_locked(struct vm *vm)
{
	for (unsigned int i = 0; i < vm->nr_cpus; i++) {
		struct vcpu *v = vm->vcpus[i];

		if (!v || !v->started)
			continue;
		v->run->immediate_exit = 1;
		pthread_kill(v->thread, VCPU_KICK_SIGNAL);
	}
}

int vcpu_pause_all(struct vm *vm)
{
	if (current_vcpu)
		return -EDEADLK;
	pthread_mutex_lock(&vm->run_lock);
	if (vm->paused) {
		pthread_mutex_unlock(&vm->run_lock);
		return 1;
	}
	atomic_store(&vm->pause_req, true);
	kick_all_locked(vm);
	/* A thread waiting in wait_for_pause() hears no signal. */
	pthread_cond_broadcast(&vm->run_cond);
	while (vm->nr_parked < vm->nr_active)
		pthread_cond_wait(&vm->run_cond, &vm->run_lock);
	vm->paused = true;
	pthread_mutex_unlock(&vm->run_lock);
	return 0;
}

int vcpu_resume_all(struct vm *vm)
{
	if (current_vcpu)
		return -EDEADLK;
	pthread_mutex_lock(&vm->run_lock);
	if (!atomic_load(&vm->pause_req)) {
		pthread_mutex_unlock(&vm->run_lock);
		return 1;
	}
	atomic_store(&vm->pause_req, false);
	vm->paused = false;
	pthread_cond_broadcast(&vm->run_cond);
	pthread_mutex_unlock(&vm->run_lock);
	return 0;
}

void vcpu_request_pause(struct vm *vm)
{
	pthread_mutex_lock(&vm->run_lock);
	atomic_store(&vm->pause_req, true);
	vm->paused = true;
	pthread_mutex_unlock(&vm->run_lock);
}

bool vcpu_in_vcpu_thread(void)
{
	return current_vcpu != NULL;
}

static void join_all(struct vm *vm)
{
	for (unsigned int i = 0; i < vm->nr_cpus; i++) {
		struct vcpu *v = vm->vcpus[i];

		if (!v || !v->started)
			continue;
		/*
		 * A kick can land just before a thread blocks in a device
		 * (a console write to a stalled reader): kick again until
		 * it is out.
		 */
		for (;;) {
			struct timespec deadline;

			clock_gettime(CLOCK_REALTIME, &deadline);
			deadline.tv_nsec += 100 * 1000 * 1000;
			if (deadline.tv_nsec >= 1000000000) {
				deadline.tv_sec++;
				deadline.tv_nsec -= 1000000000;
			}
			if (pthread_timedjoin_np(v->thread, NULL, &deadline) != ETIMEDOUT)
				break;
			pthread_kill(v->thread, VCPU_KICK_SIGNAL);
		}
		v->started = 0;
	}
}

void vcpu_stop_all(struct vm *vm)
{
	pthread_mutex_lock(&vm->run_lock);
	atomic_store(&vm->exiting, true);
	kick_all_locked(vm);
	/* Parked threads wake up, see exiting, and return. */
	pthread_cond_broadcast(&vm->run_cond);
	pthread_mutex_unlock(&vm->run_lock);
	join_all(vm);
}

int vcpu_join_all(struct vm *vm)
{
	if (current_vcpu)
		return -EDEADLK;
	pthread_mutex_lock(&vm->run_lock);
	vm->threads_quit = true;
	kick_all_locked(vm);
	pthread_cond_broadcast(&vm->run_cond);
	pthread_mutex_unlock(&vm->run_lock);
	join_all(vm);
	pthread_mutex_lock(&vm->run_lock);
	vm->threads_quit = false;
	pthread_mutex_unlock(&vm->run_lock);
	return 0;
}
