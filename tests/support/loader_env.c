// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "loader_env.h"

int loader_env_init(struct loader_env *e, uint64_t ram_size, uint64_t high_top)
{
	memset(e, 0, sizeof(*e));
	if (ram_size < LOADER_ENV_FSEG_END || high_top > ram_size ||
	    high_top <= LOADER_ENV_FSEG_END)
		return -EINVAL;
	e->ram = calloc(1, ram_size);
	if (!e->ram)
		return -ENOMEM;
	e->ram_size = ram_size;
	e->fseg_next = LOADER_ENV_FSEG_START;
	e->high_next = high_top;
	vmgenid_guest_mem_init(&e->mem);
	return vmgenid_guest_mem_add(&e->mem, 0, ram_size, e->ram);
}

void loader_env_free(struct loader_env *e)
{
	free(e->ram);
	memset(e, 0, sizeof(*e));
}

int loader_env_add_file(struct loader_env *e, const char *name, uint8_t *data, uint32_t size,
			bool writable)
{
	if (e->nr_files == LOADER_ENV_MAX_FILES)
		return -ENOSPC;
	e->files[e->nr_files++] = (struct loader_env_file){ name, data, size, writable };
	return 0;
}

static struct loader_env_file *find_file(struct loader_env *e, const char *name)
{
	unsigned int i;

	for (i = 0; i < e->nr_files; i++)
		if (!strcmp(e->files[i].name, name))
			return &e->files[i];
	return NULL;
}

static int env_file_size(void *opaque, const char *name, uint32_t *size)
{
	struct loader_env_file *f = find_file(opaque, name);

	if (!f)
		return -ENOENT;
	*size = f->size;
	return 0;
}

static int env_file_load(void *opaque, const char *name, uint32_t size, uint32_t align,
			 uint8_t zone, uint8_t **data, uint64_t *addr)
{
	struct loader_env *e = opaque;
	struct loader_env_file *f = find_file(e, name);
	uint64_t a;

	if (!f || size != f->size || !align || (align & (align - 1)))
		return -EINVAL;
	if (zone == VMGENID_BIOS_LOADER_ZONE_FSEG) {
		a = (e->fseg_next + align - 1) & ~((uint64_t)align - 1);
		if (a + size > LOADER_ENV_FSEG_END)
			return -ENOMEM;
		e->fseg_next = a + size;
	} else if (zone == VMGENID_BIOS_LOADER_ZONE_HIGH) {
		if (size > e->high_next)
			return -ENOMEM;
		a = (e->high_next - size) & ~((uint64_t)align - 1);
		if (a < LOADER_ENV_FSEG_END)
			return -ENOMEM;
		e->high_next = a;
	} else {
		return -EINVAL;
	}
	*data = loader_env_ptr(e, a, size ? size : 1);
	if (!*data)
		return -EFAULT;
	memcpy(*data, f->data, size);
	*addr = a;
	return 0;
}

static int env_file_write(void *opaque, const char *name, uint32_t offset, const uint8_t *src,
			  uint32_t len)
{
	struct loader_env_file *f = find_file(opaque, name);

	if (!f || !f->writable || offset > f->size || len > f->size - offset)
		return -EINVAL;
	memcpy(f->data + offset, src, len);
	return 0;
}

int loader_env_run(struct loader_env *e, const struct vmgenid_bytebuf *script)
{
	const struct vmgenid_bios_loader_ops ops = {
		.opaque = e,
		.file_size = env_file_size,
		.file_load = env_file_load,
		.file_write = env_file_write,
	};

	if (script->len > UINT32_MAX)
		return -E2BIG;
	memset(&e->exec, 0, sizeof(e->exec));
	return vmgenid_bios_loader_run(&e->exec, script->data, (uint32_t)script->len, &ops);
}

uint64_t loader_env_addr(const struct loader_env *e, const char *name)
{
	unsigned int i;

	for (i = 0; i < e->exec.nr_files; i++)
		if (!strcmp(e->exec.files[i].name, name))
			return e->exec.files[i].addr;
	return 0;
}

uint8_t *loader_env_ptr(const struct loader_env *e, uint64_t gpa, uint64_t len)
{
	return vmgenid_guest_mem_ptr(&e->mem, gpa, len);
}
