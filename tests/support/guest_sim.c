// SPDX-License-Identifier: MIT
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "vmgenid/bios_loader.h"
#include "vmgenid/log.h"

#include "fw_cfg_ports.h"
#include "guest_sim.h"

static struct guest_sim *active_sim;

static void sim_log_sink(void *opaque, enum vmgenid_log_level level, const char *module, const char *msg)
{
	(void)opaque;
	(void)module;
	(void)msg;
	if (active_sim && level == VMGENID_LOG_WARN)
		active_sim->warnings++;
}

void guest_sim_init(struct guest_sim *s)
{
	memset(s, 0, sizeof(*s));
	s->ram = calloc(1, SIM_RAM_SIZE);
	assert_non_null(s->ram);
	vmgenid_guest_mem_init(&s->mem);
	assert_int_equal(vmgenid_guest_mem_add(&s->mem, SIM_RAM_BASE, SIM_RAM_SIZE, s->ram), 0);
	s->fw = vmgenid_fw_cfg_new(&s->mem);
	assert_non_null(s->fw);
	s->ops = fw_cfg_ports_ops(s->fw);
	/* Low 64 KiB: descriptor and scratch; the loader allocates above. */
	s->scratch = SIM_RAM_BASE + 0x1000;
	s->next_free = SIM_RAM_BASE + 0x10000;
	active_sim = s;
	vmgenid_log_set_sink(sim_log_sink, NULL);
}

void guest_sim_connect(struct guest_sim *s)
{
	assert_int_equal(vmgenid_fw_cfg_guest_init(&s->client, &s->ops, guest_sim_hva(s, SIM_RAM_BASE),
					   SIM_RAM_BASE), 0);
}

void guest_sim_destroy(struct guest_sim *s)
{
	vmgenid_log_set_sink(NULL, NULL);
	active_sim = NULL;
	vmgenid_fw_cfg_free(s->fw);
	free(s->ram);
	memset(s, 0, sizeof(*s));
}

int guest_sim_file_write(struct guest_sim *s, const char *name, uint32_t offset,
			 const void *src, uint32_t len)
{
	uint16_t select;
	uint32_t size;

	if (len > 0x1000 || vmgenid_fw_cfg_guest_find(&s->client, name, &select, &size))
		return -1;
	memcpy(guest_sim_hva(s, s->scratch), src, len);
	return vmgenid_fw_cfg_guest_write(&s->client, select, offset, s->scratch, len);
}

long guest_sim_file_read(struct guest_sim *s, const char *name, void *dst, uint32_t cap)
{
	uint16_t select;
	uint32_t size;

	if (vmgenid_fw_cfg_guest_find(&s->client, name, &select, &size) || size > cap || size > 0x1000)
		return -1;
	if (vmgenid_fw_cfg_guest_read(&s->client, select, guest_sim_hva(s, s->scratch), s->scratch, size))
		return -1;
	memcpy(dst, guest_sim_hva(s, s->scratch), size);
	return size;
}

/* ---- the loader's environment, as firmware provides it ---- */

static int sim_file_size(void *opaque, const char *name, uint32_t *size)
{
	struct guest_sim *s = opaque;
	uint16_t select;

	return vmgenid_fw_cfg_guest_find(&s->client, name, &select, size) ? -1 : 0;
}

static int sim_file_load(void *opaque, const char *name, uint32_t size, uint32_t align,
			 uint8_t zone, uint8_t **data, uint64_t *addr)
{
	struct guest_sim *s = opaque;
	uint16_t select;
	uint32_t actual;
	uint64_t at;

	(void)zone;
	if (vmgenid_fw_cfg_guest_find(&s->client, name, &select, &actual) || actual != size)
		return -1;
	at = (s->next_free + align - 1) & ~((uint64_t)align - 1);
	if (!vmgenid_guest_mem_ptr(&s->mem, at, size ? size : 1))
		return -1;
	if (size && vmgenid_fw_cfg_guest_read(&s->client, select, guest_sim_hva(s, at), at, size))
		return -1;
	s->next_free = at + size;
	*data = guest_sim_hva(s, at);
	*addr = at;
	return 0;
}

static int sim_file_write(void *opaque, const char *name, uint32_t offset, const uint8_t *src,
			  uint32_t len)
{
	return guest_sim_file_write(opaque, name, offset, src, len) ? -1 : 0;
}

int guest_sim_run_loader(struct guest_sim *s, struct vmgenid_bios_loader_exec *exec)
{
	const struct vmgenid_bios_loader_ops ops = {
		.opaque = s,
		.file_size = sim_file_size,
		.file_load = sim_file_load,
		.file_write = sim_file_write,
	};
	uint16_t select;
	uint32_t size;
	uint64_t at;

	if (vmgenid_fw_cfg_guest_find(&s->client, VMGENID_BIOS_LOADER_FILE, &select, &size))
		return -VMGENID_BIOS_LOADER_E_NO_FILE;
	at = s->next_free;
	assert_non_null(vmgenid_guest_mem_ptr(&s->mem, at, size));
	assert_int_equal(vmgenid_fw_cfg_guest_read(&s->client, select, guest_sim_hva(s, at), at, size), 0);
	s->next_free = at + size;
	memset(exec, 0, sizeof(*exec));
	return vmgenid_bios_loader_run(exec, guest_sim_hva(s, at), size, &ops);
}

uint64_t guest_sim_file_addr(const struct vmgenid_bios_loader_exec *exec, const char *name)
{
	for (unsigned int i = 0; i < exec->nr_files; i++)
		if (!strcmp(exec->files[i].name, name))
			return exec->files[i].addr;
	return 0;
}
