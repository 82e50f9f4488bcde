// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmgenid/bytebuf.h"
#include "vmgenid/state.h"

#include "devices.h"
#include "kvm_state.h"
#include "machine.h"
#include "pm.h"
#include "snapshot.h"
#include "uart.h"

int snapshot_save_state(struct machine *m, struct vmgenid_bytebuf *out)
{
	if (kvm_state_save_vm(&m->vm, out) < 0)
		return -1;
	for (unsigned int i = 0; i < m->vm.nr_cpus; i++) {
		if (kvm_state_save_vcpu(m->vm.vcpus[i], out) < 0)
			return -1;
	}
	/* The devices' saves fail only by running out of memory: the buffer's sticky failure. */
	pthread_mutex_lock(&m->fw_cfg_lock);
	vmgenid_fw_cfg_save(m->fw_cfg, out);
	if (m->vmgenid)
		vmgenid_dev_save(m->vmgenid, out);
	pthread_mutex_unlock(&m->fw_cfg_lock);
	if (m->vmclock)
		vmgenid_vmclock_save(m->vmclock, out);
	uart_save(m->uart, out);
	pm_save(m->pm, out);
	firmware_status_save(&m->fw_status, out);
	/* The machine is paused, so the virtio devices are quiesced: nothing in flight. */
	virtio_devices_save(m, out);
	if (vmgenid_bytebuf_failed(out)) {
		fprintf(stderr, "genvm: snapshot: out of memory collecting the device state\n");
		return -1;
	}
	return 0;
}

/* The sections of one snapshot, found and checked by the first pass. */
enum {
	SEC_IRQCHIP,
	SEC_PIT,
	SEC_CLOCK,
	SEC_FW_CFG,
	SEC_VMGENID,
	SEC_UART,
	SEC_PM,
	SEC_VMCLOCK,
	SEC_FIRMWARE,
	NR_SINGLE_SECTIONS
};

static const char *const single_ids[NR_SINGLE_SECTIONS] = {
	[SEC_IRQCHIP] = "kvm-irqchip",
	[SEC_PIT] = "kvm-pit",
	[SEC_CLOCK] = "kvm-clock",
	[SEC_FW_CFG] = VMGENID_FW_CFG_STATE_ID,
	[SEC_VMGENID] = VMGENID_DEV_STATE_ID,
	[SEC_UART] = UART_STATE_ID,
	[SEC_PM] = PM_STATE_ID,
	[SEC_VMCLOCK] = VMGENID_VMCLOCK_STATE_ID,
	[SEC_FIRMWARE] = FIRMWARE_STATE_ID,
};

struct found {
	struct vmgenid_state_section single[NR_SINGLE_SECTIONS];
	bool have[NR_SINGLE_SECTIONS];
	struct vmgenid_state_section *vcpu; /* indexed by vCPU id */
	bool *have_vcpu;
	struct vmgenid_state_section virtio[LAYOUT_VIRTIO_MAX]; /* indexed by slot */
	bool have_virtio[LAYOUT_VIRTIO_MAX];
};

static int single_index(const char *id)
{
	for (int i = 0; i < NR_SINGLE_SECTIONS; i++) {
		if (!strcmp(id, single_ids[i]))
			return i;
	}
	return -1;
}

static int check_sections(struct machine *m, const void *state, size_t len, struct found *f,
			  char *why, size_t why_len)
{
	struct vmgenid_state_reader r;
	struct vmgenid_state_section s;
	const char *what = NULL;
	int ret;

	vmgenid_state_reader_init(&r, state, len);
	while ((ret = vmgenid_state_reader_next(&r, &s, &what)) == 1) {
		int i = single_index(s.id);
		unsigned int id;

		if (!strcmp(s.id, "vcpu")) {
			if (kvm_state_check_vcpu_section(&s, m->vm.nr_cpus, &id, &what) < 0)
				goto bad;
			if (f->have_vcpu[id]) {
				snprintf(why, why_len, "vCPU %u appears twice", id);
				return -1;
			}
			f->vcpu[id] = s;
			f->have_vcpu[id] = true;
			continue;
		}
		if (!strncmp(s.id, VIRTIO_STATE_PREFIX, strlen(VIRTIO_STATE_PREFIX))) {
			if (virtio_devices_check(m, &s, &id, &what) < 0)
				goto bad;
			if (f->have_virtio[id]) {
				snprintf(why, why_len, "section '%s' appears twice", s.id);
				return -1;
			}
			f->virtio[id] = s;
			f->have_virtio[id] = true;
			continue;
		}
		if (i < 0) {
			snprintf(why, why_len, "unknown section '%s' (written by a newer genvm?)",
				 s.id);
			return -1;
		}
		if (f->have[i]) {
			snprintf(why, why_len, "section '%s' appears twice", s.id);
			return -1;
		}
		if (i <= SEC_CLOCK && kvm_state_check_vm_section(&s, &what) < 0)
			goto bad;
		f->single[i] = s;
		f->have[i] = true;
	}
	if (ret < 0) {
		snprintf(why, why_len, "state sections: %s", what);
		return -1;
	}

	for (int i = 0; i < NR_SINGLE_SECTIONS; i++) {
		/* Snapshots from before the firmware section are all past the firmware. */
		if (i == SEC_VMGENID || i == SEC_VMCLOCK || i == SEC_FIRMWARE || f->have[i])
			continue;
		snprintf(why, why_len, "section '%s' is missing", single_ids[i]);
		return -1;
	}
	for (unsigned int i = 0; i < m->vm.nr_cpus; i++) {
		if (!f->have_vcpu[i]) {
			snprintf(why, why_len, "the state of vCPU %u is missing", i);
			return -1;
		}
	}
	for (unsigned int i = 0; i < m->nr_virtio; i++) {
		if (!f->have_virtio[i]) {
			snprintf(why, why_len,
				 "the snapshot has no virtio device %u: the command line gives "
				 "more -drive/-device than the saved machine had", i);
			return -1;
		}
	}
	/* The guest's ACPI tables describe the device or not: both sides must agree. */
	if (f->have[SEC_VMGENID] && !m->vmgenid) {
		snprintf(why, why_len,
			 "the snapshot has a vmgenid device: add -device vmgenid[,guid=...]");
		return -1;
	}
	if (!f->have[SEC_VMGENID] && m->vmgenid) {
		snprintf(why, why_len,
			 "the snapshot has no vmgenid device: remove -device vmgenid");
		return -1;
	}
	if (f->have[SEC_VMCLOCK] != (m->vmclock != NULL)) {
		snprintf(why, why_len, "the snapshot has %s vmclock device: %s -device vmclock",
			 m->vmclock ? "no" : "a", m->vmclock ? "remove" : "add");
		return -1;
	}
	if (m->vmclock) {
		s = f->single[SEC_VMCLOCK];
		if (vmgenid_vmclock_check_state(m->vmclock, s.payload, s.length, s.version, &what) < 0)
			goto bad;
	}
	return 0;
bad:
	snprintf(why, why_len, "section '%s': %s", s.id, what);
	return -1;
}

static int apply_sections(struct machine *m, struct found *f, char *why, size_t why_len)
{
	const struct vmgenid_state_section *s = NULL;
	const char *what = NULL;
	int ret = 0;

	for (int i = SEC_IRQCHIP; i <= SEC_CLOCK; i++) {
		s = &f->single[i];
		if (kvm_state_load_vm(&m->vm, s, &what) < 0)
			goto kvm_bad;
	}
	for (unsigned int i = 0; i < m->vm.nr_cpus; i++) {
		s = &f->vcpu[i];
		if (kvm_state_load_vcpu(m->vm.vcpus[i], s, &what) < 0)
			goto kvm_bad;
	}
	s = &f->single[SEC_FW_CFG];
	pthread_mutex_lock(&m->fw_cfg_lock);
	ret = vmgenid_fw_cfg_load(m->fw_cfg, s->payload, s->length, s->version, &what);
	if (!ret && m->vmgenid) {
		s = &f->single[SEC_VMGENID];
		ret = vmgenid_dev_load(m->vmgenid, s->payload, s->length, s->version, &what);
	}
	pthread_mutex_unlock(&m->fw_cfg_lock);
	if (ret < 0)
		goto bad;
	s = &f->single[SEC_UART];
	if (uart_load(m->uart, s->payload, s->length, s->version, &what) < 0)
		goto bad;
	s = &f->single[SEC_PM];
	if (pm_load(m->pm, s->payload, s->length, s->version, &what) < 0)
		goto bad;
	s = &f->single[SEC_VMCLOCK];
	if (m->vmclock && vmgenid_vmclock_load(m->vmclock, s->payload, s->length, s->version, &what) < 0)
		goto bad;
	/* Checked whole in the first pass: loading cannot fail. */
	for (unsigned int i = 0; i < m->nr_virtio; i++)
		virtio_devices_load(m, i, &f->virtio[i]);
	if (f->have[SEC_FIRMWARE]) {
		s = &f->single[SEC_FIRMWARE];
		if (firmware_status_load(&m->fw_status, s->payload, s->length, s->version,
					 &what) < 0)
			goto bad;
	} else {
		atomic_store(&m->fw_status.done, true);
	}
	return 0;
bad:
	snprintf(why, why_len, "section '%s': %s", s->id, what);
	return -1;
kvm_bad:
	/* The checks passed, so this is KVM saying no: errno says why. */
	snprintf(why, why_len, "section '%s': %s (%s)", s->id, what, strerror(errno));
	return -1;
}

int snapshot_load_state(struct machine *m, const void *state, size_t len, char *why,
			size_t why_len)
{
	struct found f = { 0 };
	int ret = -1;

	f.vcpu = calloc(m->vm.nr_cpus, sizeof(*f.vcpu));
	f.have_vcpu = calloc(m->vm.nr_cpus, sizeof(*f.have_vcpu));
	if (!f.vcpu || !f.have_vcpu)
		snprintf(why, why_len, "out of memory");
	else if (check_sections(m, state, len, &f, why, why_len) == 0)
		ret = apply_sections(m, &f, why, why_len);
	free(f.vcpu);
	free(f.have_vcpu);
	return ret;
}
