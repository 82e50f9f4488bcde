// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/if_tun.h>
#include <linux/kvm.h>
#include <linux/vhost.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include "sandbox.h"

/*
 * One rule: a system call, allowed (or, with err, answered with that
 * errno) when every argument condition holds.  Several rules for one call
 * add up (any may match).
 */
struct rule {
	int nr;
	int err;              /* 0: allow; else refuse with this errno, quietly */
	unsigned int flags;
	unsigned int nargs;
	struct scmp_arg_cmp arg[2];
};

#define RULE_SPAWN 1u  /* only when exec: commands may start */
#define RULE_SELF_A0 2u /* arg[0] compares with genvm's pid, filled in at prepare */

#define ALLOW(name) { .nr = SCMP_SYS(name) }
#define ALLOW_SPAWN(name) { .nr = SCMP_SYS(name), .flags = RULE_SPAWN }
#define ALLOW_IF(name, a) { .nr = SCMP_SYS(name), .nargs = 1, .arg = { a } }
#define ALLOW_IF2(name, a, b) { .nr = SCMP_SYS(name), .nargs = 2, .arg = { a, b } }
#define REFUSE(name, e) { .nr = SCMP_SYS(name), .err = (e) }

#define ARG_EQ(n, v) { .arg = (n), .op = SCMP_CMP_EQ, .datum_a = (v) }
#define ARG_MASKED(n, mask, v) { .arg = (n), .op = SCMP_CMP_MASKED_EQ, .datum_a = (mask), .datum_b = (v) }
/* No page may become executable: genvm never loads code after setup. */
#define NO_EXEC(n) ARG_MASKED(n, PROT_EXEC, 0)
/* ioctl's request is an unsigned int for the kernel: compare those 32 bits. */
#define IOCTL_IS(req) ARG_MASKED(1, 0xffffffffu, (req))

/*
 * Every thread: what glibc does on its own (locks, memory, the clock, the
 * thread's end), logging to stderr, and the eventfds that wake the main
 * loop.
 */
static const struct rule base_rules[] = {
	ALLOW(futex),
	ALLOW(write),              /* stderr, stdout (the UART), eventfds */
	ALLOW(exit),               /* a thread's end */
	ALLOW(exit_group),         /* genvm's end, and the SIGSYS handler's */
	ALLOW(rt_sigreturn),       /* back from the vCPU kick and from SIGINT/SIGTERM */
	ALLOW(rt_sigprocmask),     /* glibc masks signals around some calls */
	ALLOW(restart_syscall),
	ALLOW_IF(mmap, NO_EXEC(2)), /* malloc; a new malloc arena in a new thread */
	ALLOW_IF(mprotect, NO_EXEC(2)),
	ALLOW(munmap),
	ALLOW(mremap),             /* realloc of a large block */
	ALLOW(madvise),            /* free(), and a thread's stack at its end */
	ALLOW(brk),
	ALLOW(clock_gettime),      /* the vDSO falls back to it on some clock sources */
	ALLOW(clock_getres),
	ALLOW(gettimeofday),
	ALLOW(clock_nanosleep),
	ALLOW(nanosleep),
	ALLOW(getpid),
	ALLOW(gettid),
	ALLOW(sched_yield),
	ALLOW(sched_getaffinity),  /* malloc sizes its arenas by the CPUs it may use */
	ALLOW(getrandom),          /* malloc's and mkostemp's randomness, guid=auto */
	/* raise() and pthread_kill(): signals to genvm's own threads only. */
	{ .nr = SCMP_SYS(tgkill), .flags = RULE_SELF_A0, .nargs = 1, .arg = { ARG_EQ(0, 0) } },
	ALLOW_IF(ioctl, IOCTL_IS(TCGETS)), /* isatty() */
	/* The SIGSYS handler puts the terminal back (tcsetattr on stdin). */
	ALLOW_IF2(ioctl, ARG_EQ(0, STDIN_FILENO), IOCTL_IS(TCSETS)),
#if defined(__SANITIZE_ADDRESS__)
	/* AddressSanitizer gives each new thread an alternate signal stack. */
	ALLOW(sigaltstack),
#endif
};

/*
 * The main loop: QMP and monitor sockets, the console, the timers; pause
 * and resume (the guest's clock), system_reset (a new KVM VM with new
 * vCPUs and their threads), migrate (the state, a file or a command, the
 * writer thread).
 */
static const struct rule main_rules[] = {
	ALLOW(read),
	ALLOW(readv),
	ALLOW(writev),
	ALLOW(close),
	ALLOW(epoll_wait),
	ALLOW(epoll_pwait),
	ALLOW(epoll_ctl),
	ALLOW(poll),               /* a blocking stdio channel, the exit flush */
	ALLOW(ppoll),
	ALLOW(accept4),            /* a QMP or monitor client */
	ALLOW(accept),
	ALLOW(recvmsg),            /* a QMP client's bytes and the fds it passes (getfd) */
	ALLOW(setsockopt),         /* TCP_NODELAY on a tcp: client */
	ALLOW(fcntl),
	ALLOW(openat),             /* migrate's temporary file and its directory */
	ALLOW(newfstatat),         /* stat() and fstat() */
	ALLOW(fstat),
	ALLOW(lseek),
	ALLOW(unlink),             /* a failed save's temporary file; the socket at exit */
	ALLOW(rename),
	ALLOW(fsync),
	ALLOW(ftruncate),
	ALLOW(pwrite64),
	/* Threads only, never a process: CLONE_THREAD must be set. */
	ALLOW_IF(clone, ARG_MASKED(0, CLONE_THREAD, CLONE_THREAD)),
	/* clone3's flags are in memory a filter cannot read: glibc falls back to clone. */
	REFUSE(clone3, ENOSYS),
	ALLOW(set_robust_list),    /* a new thread's first calls, before its own list */
	ALLOW(rseq),
	ALLOW_IF(prctl, ARG_EQ(0, PR_SET_NO_NEW_PRIVS)), /* ... and it enters that list */
	ALLOW_IF2(seccomp, ARG_EQ(0, SECCOMP_SET_MODE_FILTER), ARG_EQ(1, 0)),
	ALLOW_IF(ioctl, IOCTL_IS(TCSETS)), /* the terminal back at exit */
	/* exec: commands, through the helper process (spawner.h). */
	ALLOW_SPAWN(pipe2),
	ALLOW_SPAWN(sendmsg),
	ALLOW_SPAWN(recvfrom),
	{ .nr = SCMP_SYS(kill), .flags = RULE_SPAWN, .nargs = 1, .arg = { ARG_EQ(1, SIGKILL) } },
};

/* The KVM requests of the main loop (kvm, VM and vCPU fds alike). */
static const unsigned long main_ioctls[] = {
	/* system_reset: a new VM, as at startup */
	KVM_CREATE_VM, KVM_SET_IDENTITY_MAP_ADDR, KVM_SET_TSS_ADDR, KVM_CREATE_IRQCHIP,
	KVM_CREATE_PIT2, KVM_SET_GSI_ROUTING, KVM_SET_USER_MEMORY_REGION, KVM_CREATE_VCPU,
	KVM_GET_SUPPORTED_CPUID, KVM_SET_CPUID2, KVM_SET_MSRS, KVM_SET_LAPIC, KVM_SET_SREGS,
	KVM_SET_FPU, KVM_SET_REGS,
	/* ...and the virtio devices' queue-notify and interrupt eventfds wired into it, */
	KVM_IOEVENTFD, KVM_IRQFD,
	/* ...and their InterruptACK registers buffered in KVM's coalesced ring */
	KVM_REGISTER_COALESCED_MMIO,
	/* stop and cont: the guest's clock, kvmclock's "paused on purpose" */
	KVM_GET_CLOCK, KVM_SET_CLOCK, KVM_KVMCLOCK_CTRL,
	/* migrate: the machine's state */
	KVM_CHECK_EXTENSION, KVM_GET_IRQCHIP, KVM_GET_PIT2, KVM_GET_MSR_INDEX_LIST, KVM_GET_MSRS,
	KVM_GET_FPU, KVM_GET_XSAVE, KVM_GET_XSAVE2, KVM_GET_XCRS, KVM_GET_LAPIC,
	/* migrate-incoming (-incoming defer): the state is loaded from the main loop */
	KVM_SET_IRQCHIP, KVM_SET_PIT2, KVM_SET_XSAVE, KVM_SET_XCRS, KVM_SET_VCPU_EVENTS,
	KVM_SET_DEBUGREGS, KVM_SET_MP_STATE,
	/* (and what the vCPU list allows: registers for "info registers", IRQ lines) */
};

/*
 * A vCPU: KVM_RUN and the port I/O it exits for.  The devices behind the
 * ports only touch guest memory, raise interrupts, write the console and
 * log, and wake the main loop through an eventfd: the base list and these
 * requests are all it needs.
 */
static const unsigned long vcpu_ioctls[] = {
	KVM_RUN,
	KVM_IRQ_LINE, /* UART and SCI interrupts */
	/* Where the guest was, when a vCPU stops on an error. */
	KVM_GET_REGS, KVM_GET_SREGS, KVM_GET_DEBUGREGS, KVM_GET_VCPU_EVENTS, KVM_GET_MP_STATE,
	/*
	 * vhost-vsock-device: the driver's DRIVER_OK hands the rings to the
	 * host kernel, its reset takes them back, on the vCPU that wrote the
	 * status (and a pause or a restore does the same from the main loop).
	 * Only a /dev/vhost-vsock fd opened at setup answers these.
	 */
	VHOST_SET_FEATURES, VHOST_SET_VRING_NUM, VHOST_SET_VRING_BASE, VHOST_SET_VRING_ADDR,
	VHOST_SET_VRING_KICK, VHOST_SET_VRING_CALL, VHOST_GET_VRING_BASE, VHOST_VSOCK_SET_RUNNING,
	/*
	 * -netdev tap,vhost=on: the same, with the tap as both queues'
	 * backend, and the tap's offloads set to what the driver accepted.
	 */
	VHOST_NET_SET_BACKEND, TUNSETOFFLOAD,
};

/*
 * The migration writer: the snapshot into a temporary file (holes for zero
 * pages), then ftruncate, fsync, rename onto the path and fsync of the
 * directory; or into a command's pipe, then the command's exit status
 * from the helper.  A failure removes the file or kills the command.
 */
/*
 * A vCPU whose KVM_RUN fails with EFAULT in a restored machine asks whether
 * the snapshot file under its RAM shrank (vm_ram_file_check): an fstat of
 * that open file, which glibc makes as newfstatat(fd, "", AT_EMPTY_PATH).
 * No path is looked up, so only that form is allowed.
 */
static const struct rule vcpu_rules[] = {
	ALLOW_IF(newfstatat, ARG_EQ(3, AT_EMPTY_PATH)),
	ALLOW(fstat),
};

static const struct rule migrate_rules[] = {
	/* the drives' part of a snapshot: image checksums, overlay blocks */
	ALLOW(preadv),
	ALLOW(preadv2),
	ALLOW(pread64),
	/* cache=none: a drive's unaligned tail is read with O_DIRECT off for a moment */
	ALLOW_IF(fcntl, ARG_EQ(1, F_GETFL)),
	ALLOW_IF(fcntl, ARG_EQ(1, F_SETFL)),
	ALLOW(pwrite64),
	ALLOW(ftruncate),
	ALLOW(fsync),
	ALLOW(close),
	ALLOW(rename),
	ALLOW(openat), /* the directory, to fsync it */
	ALLOW(unlink),
	ALLOW_SPAWN(recvfrom),
	{ .nr = SCMP_SYS(kill), .flags = RULE_SPAWN, .nargs = 1, .arg = { ARG_EQ(1, SIGKILL) } },
};

/*
 * A device's I/O worker (virtio-blk's requests, virtio-rng's entropy,
 * virtio-net's frames): it waits on its eventfds, reads and writes the disk
 * image at offsets, makes writes durable, reads and writes frames on its
 * tap, and interrupts the guest.  It opens nothing: the image and the tap
 * are opened before the sandbox.
 */
static const struct rule device_rules[] = {
	ALLOW(read),     /* eventfds, a frame from the tap */
	ALLOW(writev),   /* a frame to the tap, from the guest's buffers */
	/* cache=none: an unaligned tail of the image is done with O_DIRECT off */
	ALLOW_IF(fcntl, ARG_EQ(1, F_GETFL)),
	ALLOW_IF(fcntl, ARG_EQ(1, F_SETFL)),
	ALLOW(ppoll),
	ALLOW(poll),
	ALLOW(preadv),
	ALLOW(pwritev),
	ALLOW(preadv2),
	ALLOW(pwritev2),
	ALLOW(pread64),
	ALLOW(pwrite64),
	ALLOW(fdatasync),
	ALLOW(fsync),
	ALLOW(fallocate), /* discard and write-zeroes punch holes */
	ALLOW(lseek),
};

static const unsigned long device_ioctls[] = {
	KVM_IRQ_LINE,
	TUNSETOFFLOAD, /* the tap hands the guest the offloads its driver accepted */
};

/*
 * The vsock worker (virtio/vsock.h): an epoll over its queue notifications
 * and its unix sockets; it accepts host programs on the listening socket
 * and connects to PATH_P for the guest, so it may make unix sockets and
 * nothing else (it opens no file).
 */
static const struct rule vsock_rules[] = {
	ALLOW(read),     /* the eventfd */
	ALLOW(epoll_wait),
	ALLOW(epoll_pwait),
	ALLOW(epoll_ctl),
	ALLOW(accept4),
	ALLOW_IF(socket, ARG_EQ(0, AF_UNIX)),
	ALLOW(connect),
	ALLOW(sendmsg),
	ALLOW(sendto),   /* send() */
	ALLOW(recvmsg),
	ALLOW(recvfrom), /* recv(), the CONNECT line peeked */
	ALLOW(shutdown),
	ALLOW(close),
	ALLOW(poll),     /* vhost-vsock's worker: the call eventfds */
	ALLOW(ppoll),
};

struct kind {
	const char *name;
	const struct rule *rules;
	size_t nr_rules;
	const unsigned long *ioctls;
	size_t nr_ioctls;
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const struct kind kinds[SANDBOX_NR_KINDS] = {
	[SANDBOX_MAIN] = { "main loop thread", main_rules, N(main_rules), main_ioctls,
			   N(main_ioctls) },
	[SANDBOX_VCPU] = { "vCPU thread", vcpu_rules, N(vcpu_rules), vcpu_ioctls,
			   N(vcpu_ioctls) },
	[SANDBOX_MIGRATE] = { "migration writer thread", migrate_rules, N(migrate_rules), NULL,
			      0 },
	[SANDBOX_DEVICE] = { "device worker thread", device_rules, N(device_rules),
			     device_ioctls, N(device_ioctls) },
	[SANDBOX_VSOCK] = { "vsock worker thread", vsock_rules, N(vsock_rules), NULL, 0 },
};

/* ---- what the SIGSYS handler needs, ready before any filter ---- */

#define NAMES_MAX 512
#define NAME_LEN 32

static char names[NAMES_MAX][NAME_LEN];
static struct sock_fprog progs[SANDBOX_NR_KINDS];
static bool prepared;
static struct termios tty;
static volatile sig_atomic_t have_tty;
static _Thread_local int current_kind = -1;

const char *sandbox_kind_name(enum sandbox_kind kind)
{
	return (unsigned int)kind < SANDBOX_NR_KINDS ? kinds[kind].name : "thread";
}

void sandbox_set_tty(const struct termios *saved)
{
	if (saved)
		tty = *saved;
	have_tty = saved != NULL;
}

bool sandbox_prepared(void)
{
	return prepared;
}

static void put(char *buf, size_t *n, size_t cap, const char *s)
{
	while (*s && *n + 1 < cap)
		buf[(*n)++] = *s++;
}

static void put_num(char *buf, size_t *n, size_t cap, unsigned long v, unsigned int base)
{
	char digits[24];
	size_t i = 0;

	do {
		digits[i++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v && i < sizeof(digits));
	while (i && *n + 1 < cap)
		buf[(*n)++] = digits[--i];
}

/*
 * Async-signal-safe to the end: a message built by hand, one write(),
 * tcsetattr(), _exit().  It never returns, so the refused call never
 * appears to have failed to the code that made it.
 */
static void on_sigsys(int sig, siginfo_t *si, void *ucontext)
{
	const ucontext_t *uc = ucontext;
	int kind = current_kind;
	int nr = si->si_syscall;
	char msg[256];
	size_t n = 0;

	(void)sig;
	put(msg, &n, sizeof(msg), "genvm: sandbox: ");
	put(msg, &n, sizeof(msg), kind >= 0 ? kinds[kind].name : "new thread");
	put(msg, &n, sizeof(msg), " made a forbidden system call: ");
	if (si->si_arch != AUDIT_ARCH_X86_64)
		put(msg, &n, sizeof(msg), "(not x86-64)");
	else if (nr >= 0 && nr < NAMES_MAX && names[nr][0])
		put(msg, &n, sizeof(msg), names[nr]);
	else
		put(msg, &n, sizeof(msg), "unknown");
	put(msg, &n, sizeof(msg), " (");
	if (nr < 0) {
		put(msg, &n, sizeof(msg), "-");
		nr = -nr;
	}
	put_num(msg, &n, sizeof(msg), (unsigned long)nr, 10);
	put(msg, &n, sizeof(msg), ")");
	if (si->si_arch == AUDIT_ARCH_X86_64 && si->si_syscall == SCMP_SYS(ioctl)) {
		/* Which request: the second argument, still in rsi. */
		put(msg, &n, sizeof(msg), ", request 0x");
		put_num(msg, &n, sizeof(msg),
			(unsigned long)uc->uc_mcontext.gregs[REG_RSI] & 0xffffffffu, 16);
	}
	msg[n++] = '\n';
	if (write(STDERR_FILENO, msg, n) < 0) {
		/* Nowhere to say it: the exit status still does. */
	}
	if (have_tty)
		tcsetattr(STDIN_FILENO, TCSANOW, &tty);
	/* The system call itself: a sanitizer's _exit() would do more first. */
	syscall(SYS_exit_group, SANDBOX_EXIT_STATUS);
}

static int add_rule(scmp_filter_ctx ctx, const struct rule *r, const struct sandbox_config *cfg)
{
	struct scmp_arg_cmp arg[2];
	int ret;

	if ((r->flags & RULE_SPAWN) && !cfg->spawn)
		return 0;
	memcpy(arg, r->arg, sizeof(arg));
	if (r->flags & RULE_SELF_A0)
		arg[0].datum_a = (scmp_datum_t)getpid();
	ret = seccomp_rule_add_array(ctx, r->err ? SCMP_ACT_ERRNO((uint32_t)r->err) : SCMP_ACT_ALLOW,
				     r->nr, r->nargs, arg);
	/* The main list gathers every kind's: the same rule twice is fine. */
	return ret == -EEXIST ? 0 : ret;
}

static int add_kind(scmp_filter_ctx ctx, const struct kind *k, const struct sandbox_config *cfg)
{
	int ret = 0;

	for (size_t i = 0; i < k->nr_rules && !ret; i++)
		ret = add_rule(ctx, &k->rules[i], cfg);
	for (size_t i = 0; i < k->nr_ioctls && !ret; i++) {
		const struct rule r = ALLOW_IF(ioctl, IOCTL_IS(k->ioctls[i]));

		ret = add_rule(ctx, &r, cfg);
	}
	return ret;
}

/* libseccomp's BPF, through a memfd, into progs[kind]. */
static int export_bpf(scmp_filter_ctx ctx, struct sock_fprog *prog)
{
	int fd = memfd_create("genvm-seccomp", MFD_CLOEXEC), ret;
	struct stat st;
	void *insns;

	if (fd < 0)
		return -errno;
	ret = seccomp_export_bpf(ctx, fd);
	if (ret == 0 && fstat(fd, &st) < 0)
		ret = -errno;
	if (ret == 0 && (st.st_size <= 0 || st.st_size % (off_t)sizeof(struct sock_filter) ||
			 st.st_size / (off_t)sizeof(struct sock_filter) > BPF_MAXINSNS))
		ret = -E2BIG;
	if (ret == 0) {
		insns = malloc((size_t)st.st_size);
		if (!insns)
			ret = -ENOMEM;
		else if (pread(fd, insns, (size_t)st.st_size, 0) != st.st_size) {
			free(insns);
			ret = -EIO;
		} else {
			prog->filter = insns;
			prog->len = (unsigned short)(st.st_size / (off_t)sizeof(struct sock_filter));
		}
	}
	close(fd);
	return ret;
}

static int build(enum sandbox_kind kind, const struct sandbox_config *cfg)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_TRAP);
	int ret;

	if (!ctx)
		return -ENOMEM;
	/* A 32-bit or x32 call is not on any list either. */
	ret = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_TRAP);
	for (size_t i = 0; i < N(base_rules) && !ret; i++)
		ret = add_rule(ctx, &base_rules[i], cfg);
	if (!ret)
		ret = add_kind(ctx, &kinds[kind], cfg);
	/* Threads the main loop starts inherit its list: it must hold theirs. */
	for (unsigned int k = 0; kind == SANDBOX_MAIN && k < SANDBOX_NR_KINDS && !ret; k++)
		ret = add_kind(ctx, &kinds[k], cfg);
	if (!ret)
		ret = export_bpf(ctx, &progs[kind]);
	seccomp_release(ctx);
	return ret;
}

int sandbox_prepare(const struct sandbox_config *cfg)
{
	struct sigaction sa = { .sa_sigaction = on_sigsys, .sa_flags = SA_SIGINFO };
	int ret;

	if (prepared)
		return 0;
	if (prctl(PR_GET_SECCOMP, 0, 0, 0, 0) < 0) {
		fprintf(stderr, "genvm: -sandbox on: this kernel has no seccomp (%s); "
			"use -sandbox off\n", strerror(errno));
		return -1;
	}
	for (int nr = 0; nr < NAMES_MAX; nr++) {
		char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_X86_64, nr);

		if (name)
			snprintf(names[nr], sizeof(names[nr]), "%s", name);
		free(name);
	}
	for (unsigned int k = 0; k < SANDBOX_NR_KINDS; k++) {
		ret = build((enum sandbox_kind)k, cfg);
		if (ret < 0) {
			fprintf(stderr, "genvm: sandbox: building the %s filter: %s\n",
				kinds[k].name, strerror(-ret));
			return -1;
		}
	}
	/* Every signal stays deliverable while the handler runs: it only exits. */
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSYS, &sa, NULL) < 0) {
		fprintf(stderr, "genvm: sandbox: SIGSYS handler: %s\n", strerror(errno));
		return -1;
	}
	prepared = true;
	return 0;
}

int sandbox_enter(enum sandbox_kind kind)
{
	int prev = current_kind;

	if (!prepared)
		return 0;
	if ((unsigned int)kind >= SANDBOX_NR_KINDS)
		return -EINVAL;
	/* Required of an unprivileged filter; it also forbids gaining privileges. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	current_kind = (int)kind;
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &progs[kind]) < 0) {
		int err = -errno;

		current_kind = prev;
		return err;
	}
	return 0;
}
