// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "vmgenid/log.h"

#include "../firmware/handoff.h"
#include "devices.h"
#include "layout.h"
#include "legacy.h"
#include "machine.h"
#include "pm.h"
#include "uart.h"
#include "vcpu.h"

static void locked_fw_cfg_io(void *opaque, uint64_t addr, uint8_t *data, uint32_t len,
			     bool is_write)
{
	struct machine *m = opaque;

	pthread_mutex_lock(&m->fw_cfg_lock);
	vmgenid_fw_cfg_io(m->fw_cfg, addr, data, len, is_write);
	pthread_mutex_unlock(&m->fw_cfg_lock);
}

void machine_guest_poweroff(struct machine *m)
{
	if (m->cfg->no_shutdown)
		machine_request(m, MACHINE_REQ_POWEROFF);
	else
		vm_request_exit_why(&m->vm, 0, VM_EXIT_GUEST_SHUTDOWN);
}

static void on_poweroff(void *opaque)
{
	machine_guest_poweroff(opaque);
}

/* vCPU context: with -no-reboot the machine ends, else the main loop resets it. */
static void on_reset(void *opaque)
{
	struct machine *m = opaque;

	if (m->cfg->no_reboot)
		vm_request_exit_why(&m->vm, 0, VM_EXIT_GUEST_RESET);
	else
		machine_request(m, MACHINE_REQ_RESET);
}

/*
 * The device wrote a GUID the guest did not have.  Said on stderr: an
 * operator wants to know when a guest was told, and the tests check that a
 * reboot never tells it.
 */
static void on_vmgenid_notify(void *opaque)
{
	struct machine *m = opaque;
	char text[VMGENID_GUID_STR_LEN + 1];

	vmgenid_guid_format(vmgenid_dev_get_guid(m->vmgenid), text);
	vmgenid_pr_info("vmgenid", "guest memory at %#llx now holds %s: raising GPE %u",
		(unsigned long long)vmgenid_dev_get_addr(m->vmgenid), text, VMGENID_DEV_GPE_BIT);
	pm_raise_gpe(m->pm, VMGENID_DEV_GPE_BIT);
}

/* The VMClock page changed (a restore): the same GPE path as vmgenid's, its own bit. */
static void on_vmclock_notify(void *opaque)
{
	struct machine *m = opaque;

	vmgenid_pr_info("vmclock", "generation counter now %llu: raising GPE %u",
		(unsigned long long)vmgenid_vmclock_get_generation(m->vmclock), VMGENID_VMCLOCK_GPE_BIT);
	pm_raise_gpe(m->pm, VMGENID_VMCLOCK_GPE_BIT);
}

static int add_io(struct machine *m, uint16_t base, uint16_t len, io_fn fn, void *opaque)
{
	int ret = io_register(m->vm.io, base, len, fn, opaque);

	if (ret < 0) {
		fprintf(stderr, "genvm: I/O ports %#x+%u: %s\n", base, len, strerror(-ret));
		return -1;
	}
	return 0;
}

int machine_console_output(int fd)
{
	struct stat st;
	char path[32];
	int flags, own;

	if (fstat(fd, &st) < 0 || S_ISREG(st.st_mode))
		return fd;
	if (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode)) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		own = open(path, O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
		if (own >= 0)
			return own;
	}
	flags = fcntl(fd, F_GETFL);
	if (flags >= 0)
		fcntl(fd, F_SETFL, flags | O_NONBLOCK);
	return fd;
}

int machine_console_pty(const char *label, char *name, size_t len)
{
	struct termios t;
	int fd = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);

	if (fd < 0 || grantpt(fd) < 0 || unlockpt(fd) < 0 || ptsname_r(fd, name, len) != 0) {
		fprintf(stderr, "genvm: -serial pty: %s\n", strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	/* Raw, as QEMU makes it: the guest's bytes pass unchanged, both ways. */
	if (tcgetattr(fd, &t) == 0) {
		cfmakeraw(&t);
		tcsetattr(fd, TCSANOW, &t);
	}
	/* QEMU's line, word for word: scripts (and libvirt) read the path from it. */
	fprintf(stderr, "char device redirected to %s (label %s)\n", name, label);
	return fd;
}

static int console_out_fd(struct machine *m)
{
	int fd;

	/* A socket console: the output waits in the UART's queue until a client connects. */
	if (m->cfg->serial_socket)
		return UART_OUT_HOLD;
	if (m->cfg->serial_pty) {
		char name[64];

		m->serial_fd = machine_console_pty(m->cfg->serial_pty_label, name, sizeof(name));
		return m->serial_fd;
	}

	/* -serial file:PATH starts the file afresh, as QEMU's file backend does, unless append=on. */
	if (m->cfg->serial_file) {
		m->serial_fd = open(m->cfg->serial_file,
				    O_WRONLY | O_CREAT | O_CLOEXEC | O_NOCTTY |
					    (m->cfg->serial_append ? O_APPEND : O_TRUNC),
				    0644);
		if (m->serial_fd < 0)
			fprintf(stderr, "genvm: -serial file:%s: %s\n", m->cfg->serial_file,
				strerror(errno));
		return m->serial_fd;
	}
	/* stdout carries QMP or the monitor, or -serial null: the console has nowhere to go. */
	if (!m->cfg->serial_stdout || m->cfg->serial_null) {
		m->serial_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
		if (m->serial_fd < 0)
			fprintf(stderr, "genvm: /dev/null: %s\n", strerror(errno));
		return m->serial_fd;
	}
	fd = machine_console_output(STDOUT_FILENO);
	if (fd != STDOUT_FILENO)
		m->serial_fd = fd;
	return fd;
}

/* vCPU context, under the UART's lock: console output is waiting. */
static void on_console_output(void *opaque)
{
	machine_request(opaque, MACHINE_REQ_OUTPUT);
}

static int create_devices(struct machine *m)
{
	const struct pm_ops pm_ops = { .opaque = m, .poweroff = on_poweroff, .reset = on_reset };

	int out = console_out_fd(m);

	if (out < 0 && out != UART_OUT_HOLD)
		return -1;
	m->uart = uart_new(&m->vm, UART_COM1_IRQ, out);
	m->pm = pm_new(&m->vm, &pm_ops);
	m->fw_cfg = vmgenid_fw_cfg_new(&m->vm.mem);
	if (!m->uart || !m->pm || !m->fw_cfg) {
		fprintf(stderr, "genvm: creating devices: out of memory\n");
		return -1;
	}
	uart_set_output_notify(m->uart, on_console_output, m);
	pthread_mutex_init(&m->fw_cfg_lock, NULL);
	if (m->cfg->vmgenid) {
		m->vmgenid = vmgenid_dev_new(&m->cfg->guid, &m->vm.mem, on_vmgenid_notify, m);
		if (!m->vmgenid) {
			fprintf(stderr, "genvm: vmgenid: out of memory\n");
			return -1;
		}
	}
	if (m->cfg->vmclock) {
		m->vmclock = vmgenid_vmclock_new(&m->vm.mem, LAYOUT_VMCLOCK_PAGE(m->vm.low_size),
					 on_vmclock_notify, m);
		if (!m->vmclock) {
			fprintf(stderr, "genvm: vmclock: %s\n", strerror(errno));
			return -1;
		}
	}
	m->i8042 = (struct legacy_i8042){ .reset = on_reset, .opaque = m };
	m->vm.on_triple_fault = on_reset;
	m->vm.on_triple_fault_opaque = m;
	m->fw_status.vm = &m->vm;
	atomic_init(&m->fw_status.done, false);
	atomic_init(&m->fw_status.warned, false);

	if (add_io(m, UART_COM1_BASE, UART_NR_PORTS, uart_io, m->uart) < 0 ||
	    add_io(m, PM_BASE, PM_BLOCK_LEN, pm_io, m->pm) < 0 ||
	    add_io(m, GPE0_PORT, GPE0_LEN, pm_gpe_io, m->pm) < 0 ||
	    add_io(m, PM_RESET_PORT, 1, pm_reset_io, m->pm) < 0 ||
	    add_io(m, VMGENID_FW_CFG_IO_BASE, VMGENID_FW_CFG_IO_SIZE, locked_fw_cfg_io, m) < 0 ||
	    add_io(m, HANDOFF_EXIT_PORT, 4, firmware_status_io, &m->fw_status) < 0 ||
	    add_io(m, LEGACY_I8042_CMD_PORT, 1, legacy_i8042_io, &m->i8042) < 0 ||
	    add_io(m, LEGACY_CMOS_PORT, 2, legacy_cmos_io, NULL) < 0 ||
	    add_io(m, LEGACY_POST_PORT, 1, legacy_ignore_io, NULL) < 0)
		return -1;
	return 0;
}

static int create_vcpus(struct machine *m, bool boot)
{
	for (unsigned int i = 0; i < m->vm.nr_cpus; i++) {
		m->vm.vcpus[i] = vcpu_create(&m->vm, i);
		if (!m->vm.vcpus[i])
			return -1;
	}
	return boot ? vcpu_set_boot_state(m->vm.vcpus[0], &m->boot.cpu) : 0;
}

int machine_create(struct machine *m, const struct genvm_config *cfg, int ram_fd,
		   uint64_t ram_offset)
{
	/* An incoming machine's RAM and vCPUs come from the snapshot instead. */
	bool boot = !cfg->incoming;

	memset(m, 0, sizeof(*m));
	m->cfg = cfg;
	m->serial_fd = -1;
	atomic_init(&m->requests, 0);
	/* First: machine_destroy() relies on what it initializes. */
	m->request_fd = -1;
	/* Drives first: a bad one stops genvm before a VM exists. */
	m->vm.kvm_fd = m->vm.vm_fd = m->vm.exit_fd = -1;
	if (virtio_devices_open_drives(m) < 0 || virtio_devices_open_netdevs(m) < 0)
		return -1;
	if (vm_create(&m->vm, cfg->ram_size, cfg->nr_cpus, ram_fd, ram_offset) < 0)
		return -1;
	m->request_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (m->request_fd < 0) {
		fprintf(stderr, "genvm: eventfd: %s\n", strerror(errno));
		return -1;
	}
	if (create_devices(m) < 0 || virtio_devices_create(m) < 0 ||
	    virtio_devices_attach(m) < 0 || acpi_setup(m) < 0 ||
	    (boot && boot_setup(&m->vm, cfg, &m->boot) < 0))
		return -1;
	/* An incoming machine's page is in the snapshot's RAM, and post-load updates it. */
	if (boot && m->vmclock)
		vmgenid_vmclock_reset(m->vmclock);
	/*
	 * Paused means quiesced too, from the start: -S then cont, or a save
	 * before cont.  -incoming defer's vCPUs start parked too, after the
	 * restore, and run if the control plane resumes them.
	 */
	if (cfg->start_paused || cfg->incoming_defer) {
		vcpu_request_pause(&m->vm);
		virtio_devices_quiesce(m);
	}
	return create_vcpus(m, boot);
}

void machine_request(struct machine *m, unsigned int req)
{
	uint64_t one = 1;

	atomic_fetch_or(&m->requests, req);
	if (write(m->request_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		fprintf(stderr, "genvm: machine request: %s\n", strerror(errno));
}

unsigned int machine_take_requests(struct machine *m)
{
	uint64_t n;

	if (read(m->request_fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		fprintf(stderr, "genvm: machine request: %s\n", strerror(errno));
	return atomic_exchange(&m->requests, 0u);
}

int machine_reset(struct machine *m)
{
	bool was_paused = machine_is_paused(m);
	int ret = machine_pause(m);

	if (ret < 0)
		return -1;
	/* Resets the old machine's vCPUs asked for are history now; output is not. */
	atomic_fetch_and(&m->requests, ~MACHINE_REQ_RESET);
	vcpu_join_all(&m->vm);
	for (unsigned int i = 0; i < m->vm.nr_cpus; i++) {
		vcpu_destroy(m->vm.vcpus[i]);
		m->vm.vcpus[i] = NULL;
	}
	m->clock_saved = false;
	if (vm_rebuild(&m->vm) < 0)
		return -1;

	pm_reset(m->pm);
	uart_reset(m->uart);
	pthread_mutex_lock(&m->fw_cfg_lock);
	vmgenid_fw_cfg_reset(m->fw_cfg);
	if (m->vmgenid)
		vmgenid_dev_reset(m->vmgenid);
	pthread_mutex_unlock(&m->fw_cfg_lock);
	atomic_store(&m->fw_status.done, false);
	if (virtio_devices_reset(m) < 0)
		return -1;

	/* The page again as at power-on, with the generation it had: a reboot is no clone. */
	if (m->vmclock)
		vmgenid_vmclock_reset(m->vmclock);
	if (boot_setup(&m->vm, m->cfg, &m->boot) < 0 || create_vcpus(m, true) < 0 ||
	    machine_start(m) < 0)
		return -1;
	if (!was_paused)
		machine_resume(m);
	return 0;
}

int machine_start(struct machine *m)
{
	for (unsigned int i = 0; i < m->vm.nr_cpus; i++) {
		if (vcpu_start(m->vm.vcpus[i]) < 0)
			return -1;
	}
	return 0;
}

int machine_pause(struct machine *m)
{
	struct kvm_clock_data clock = { 0 };
	int ret = vcpu_pause_all(&m->vm);

	if (ret != 0)
		return ret < 0 ? ret : 0;
	/* Requests in flight complete; none start until machine_resume(). */
	virtio_devices_quiesce(m);
	if (ioctl(m->vm.vm_fd, KVM_GET_CLOCK, &clock) == 0) {
		m->paused_clock = clock.clock;
		m->clock_saved = true;
	} else {
		fprintf(stderr, "genvm: KVM_GET_CLOCK: %s\n", strerror(errno));
	}
	/*
	 * Tell a kvmclock guest it was stopped on purpose, so its soft-lockup
	 * watchdog does not fire on resume.  EINVAL when the guest has not
	 * enabled kvmclock (yet): nothing to tell then.
	 */
	for (unsigned int i = 0; i < m->vm.nr_cpus; i++) {
		struct vcpu *v = m->vm.vcpus[i];

		if (v && v->started)
			ioctl(v->fd, KVM_KVMCLOCK_CTRL, 0);
	}
	return 0;
}

void machine_resume(struct machine *m)
{
	if (!machine_is_paused(m))
		return;
	if (m->clock_saved) {
		struct kvm_clock_data clock = { .clock = m->paused_clock };

		if (ioctl(m->vm.vm_fd, KVM_SET_CLOCK, &clock) < 0)
			fprintf(stderr, "genvm: KVM_SET_CLOCK: %s\n", strerror(errno));
		m->clock_saved = false;
	}
	virtio_devices_resume(m);
	vcpu_resume_all(&m->vm);
}

bool machine_is_paused(struct machine *m)
{
	bool paused;

	pthread_mutex_lock(&m->vm.run_lock);
	paused = atomic_load(&m->vm.pause_req);
	pthread_mutex_unlock(&m->vm.run_lock);
	return paused;
}

void machine_destroy(struct machine *m)
{
	if (m->request_fd >= 0)
		close(m->request_fd);
	if (m->serial_fd >= 0)
		close(m->serial_fd);
	if (m->vm.vcpus) {
		vcpu_stop_all(&m->vm);
		for (unsigned int i = 0; i < m->vm.nr_cpus; i++)
			vcpu_destroy(m->vm.vcpus[i]);
	}
	virtio_devices_destroy(m);
	virtio_devices_close_drives(m);
	virtio_devices_close_netdevs(m);
	if (m->vmgenid)
		vmgenid_dev_free(m->vmgenid);
	if (m->vmclock)
		vmgenid_vmclock_free(m->vmclock);
	if (m->fw_cfg) {
		vmgenid_fw_cfg_free(m->fw_cfg);
		pthread_mutex_destroy(&m->fw_cfg_lock);
	}
	vmgenid_bios_loader_free(&m->loader);
	vmgenid_bytebuf_free(&m->acpi_tables);
	vmgenid_bytebuf_free(&m->acpi_rsdp);
	pm_free(m->pm);
	uart_free(m->uart);
	vm_destroy(&m->vm);
}
