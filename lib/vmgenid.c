// SPDX-License-Identifier: MIT
/*
 * The VM Generation ID device: constants, state, construction, the fw_cfg
 * write callback, ACPI, snapshot save/load and post-load, in that order.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vmgenid/acpi_table.h"
#include "vmgenid/aml.h"
#include "vmgenid/endian.h"
#include "vmgenid/log.h"
#include "vmgenid/state.h"
#include "vmgenid/vmgenid.h"

#define VMGENID_GUID_ALIGN 8 /* R1a */

struct vmgenid_dev {
	struct vmgenid_guid guid;
	const struct vmgenid_guest_mem *mem;
	void (*notify)(void *opaque);
	void *notify_opaque;

	/* Guest address of the GUID (blob + 40), validated; 0 = not known. */
	uint64_t addr;

	/* Backing store of the two fw_cfg files, referenced by fw_cfg. */
	uint8_t guid_blob[VMGENID_DEV_BLOB_SIZE];
	uint8_t addr_file[VMGENID_DEV_ADDR_SIZE];
};

static void vmgenid_fill_blob(struct vmgenid_dev *d)
{
	/*
	 * Bytes 0..35 stay zero: OVMF probes allocated blobs for an ACPI table
	 * header, and an all-zero one is not mistaken for a table.
	 */
	memset(d->guid_blob, 0, sizeof(d->guid_blob));
	vmgenid_guid_to_le(&d->guid, d->guid_blob + VMGENID_DEV_GUID_OFFSET);
}

struct vmgenid_dev *vmgenid_dev_new(const struct vmgenid_guid *guid, const struct vmgenid_guest_mem *mem,
			    void (*notify)(void *opaque), void *opaque)
{
	struct vmgenid_dev *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->guid = *guid;
	d->mem = mem;
	d->notify = notify;
	d->notify_opaque = opaque;
	vmgenid_fill_blob(d);
	return d;
}

void vmgenid_dev_free(struct vmgenid_dev *d)
{
	free(d);
}

const struct vmgenid_guid *vmgenid_dev_get_guid(const struct vmgenid_dev *d)
{
	return &d->guid;
}

void vmgenid_dev_set_guid(struct vmgenid_dev *d, const struct vmgenid_guid *guid)
{
	d->guid = *guid;
	vmgenid_fill_blob(d);
}

uint64_t vmgenid_dev_get_addr(const struct vmgenid_dev *d)
{
	return d->addr;
}

/* 0 if all 16 GUID bytes at addr are aligned guest RAM, else -EFAULT/-EINVAL. */
static int vmgenid_check_addr(const struct vmgenid_dev *d, uint64_t addr)
{
	if (addr == 0 || addr % VMGENID_GUID_ALIGN)
		return -EINVAL;
	if (!vmgenid_guest_mem_ptr(d->mem, addr, VMGENID_GUID_SIZE))
		return -EFAULT;
	return 0;
}

/*
 * Put the GUID into guest memory if it is not already there, and tell the
 * guest.  Comparing first is what keeps a reboot (firmware writing the same
 * address again) or a restore with an unchanged GUID from notifying.
 */
static int vmgenid_update_guest(struct vmgenid_dev *d)
{
	uint8_t *p;

	if (!d->addr)
		return 0;
	p = vmgenid_guest_mem_ptr(d->mem, d->addr, VMGENID_GUID_SIZE);
	if (!p)
		return -EFAULT;
	if (!memcmp(p, d->guid_blob + VMGENID_DEV_GUID_OFFSET, VMGENID_GUID_SIZE))
		return 0;
	memcpy(p, d->guid_blob + VMGENID_DEV_GUID_OFFSET, VMGENID_GUID_SIZE);
	if (d->notify)
		d->notify(d->notify_opaque);
	return 1;
}

/* Firmware wrote (part of) etc/vmgenid_addr over DMA. */
static void vmgenid_addr_written(void *opaque, uint32_t offset, uint32_t len)
{
	struct vmgenid_dev *d = opaque;
	uint64_t addr = vmgenid_get_le64(d->addr_file);
	int ret;

	(void)offset;
	(void)len;
	ret = vmgenid_check_addr(d, addr);
	if (ret) {
		vmgenid_pr_warn("vmgenid", "guest wrote unusable GUID address %#llx (%s); ignored",
			(unsigned long long)addr,
			ret == -EINVAL ? "zero or not 8-byte aligned" : "not in guest RAM");
		d->addr = 0;
		return;
	}
	d->addr = addr;
	vmgenid_update_guest(d);
}

int vmgenid_dev_add_fw_cfg(struct vmgenid_dev *d, struct vmgenid_fw_cfg *fw)
{
	int ret;

	ret = vmgenid_fw_cfg_add_file(fw, VMGENID_DEV_GUID_FILE, d->guid_blob, sizeof(d->guid_blob), false,
			      NULL, NULL);
	if (ret < 0)
		return ret;
	ret = vmgenid_fw_cfg_add_file(fw, VMGENID_DEV_ADDR_FILE, d->addr_file, sizeof(d->addr_file), true,
			      vmgenid_addr_written, d);
	return ret < 0 ? ret : 0;
}

void vmgenid_dev_reset(struct vmgenid_dev *d)
{
	d->addr = 0;
	memset(d->addr_file, 0, sizeof(d->addr_file));
}

/* ---- ACPI ---- */

/* _STA: present and enabled once firmware has patched VGIA, absent before. */
static struct vmgenid_aml *vmgenid_sta(struct vmgenid_aml_ctx *ctx)
{
	struct vmgenid_aml *method = vmgenid_aml_method(ctx, "_STA", 0, false);
	struct vmgenid_aml *if_unset = vmgenid_aml_if(ctx, vmgenid_aml_equal(ctx, vmgenid_aml_name(ctx, "VGIA"), vmgenid_aml_zero(ctx)));

	vmgenid_aml_append(method, vmgenid_aml_store(ctx, vmgenid_aml_int(ctx, 0x0f), vmgenid_aml_local(ctx, 0)));
	vmgenid_aml_append(if_unset, vmgenid_aml_store(ctx, vmgenid_aml_zero(ctx), vmgenid_aml_local(ctx, 0)));
	vmgenid_aml_append(method, if_unset);
	vmgenid_aml_append(method, vmgenid_aml_return(ctx, vmgenid_aml_local(ctx, 0)));
	return method;
}

/* ADDR: Package {low 32 bits, high 32 bits} of the GUID's address. */
static struct vmgenid_aml *vmgenid_addr_method(struct vmgenid_aml_ctx *ctx)
{
	struct vmgenid_aml *method = vmgenid_aml_method(ctx, "ADDR", 0, false);
	struct vmgenid_aml *guid_addr = vmgenid_aml_add(ctx, vmgenid_aml_name(ctx, "VGIA"),
					vmgenid_aml_int(ctx, VMGENID_DEV_GUID_OFFSET), NULL);

	vmgenid_aml_append(method, vmgenid_aml_store(ctx, vmgenid_aml_package(ctx, 2), vmgenid_aml_local(ctx, 0)));
	vmgenid_aml_append(method, vmgenid_aml_store(ctx, guid_addr,
				     vmgenid_aml_index(ctx, vmgenid_aml_local(ctx, 0), vmgenid_aml_zero(ctx), NULL)));
	vmgenid_aml_append(method, vmgenid_aml_store(ctx, vmgenid_aml_zero(ctx),
				     vmgenid_aml_index(ctx, vmgenid_aml_local(ctx, 0), vmgenid_aml_one(ctx), NULL)));
	vmgenid_aml_append(method, vmgenid_aml_return(ctx, vmgenid_aml_local(ctx, 0)));
	return method;
}

int vmgenid_dev_build_ssdt(struct vmgenid_bytebuf *out, uint32_t vgia, size_t *vgia_value_offset)
{
	static const struct vmgenid_acpi_table_id id = {
		.oem_id = "BOCHS ",
		.oem_table_id = "VMGENID",
		.oem_revision = 1,
		.creator_id = "BXPC",
		.creator_revision = 1,
	};
	struct vmgenid_aml_ctx *ctx = vmgenid_aml_ctx_new();
	struct vmgenid_aml *body, *vgia_value, *sb, *dev, *gpe;
	size_t start;
	int ret;

	if (!ctx)
		return -ENOMEM;

	body = vmgenid_aml_block(ctx);
	/* A DWord, never a shorter encoding: the loader patches 4 bytes here. */
	vgia_value = vmgenid_aml_dword(ctx, vgia);
	vmgenid_aml_append(body, vmgenid_aml_name_decl(ctx, "VGIA", vgia_value));

	sb = vmgenid_aml_scope(ctx, "\\_SB");
	dev = vmgenid_aml_device(ctx, "VGEN");
	/* R6: a _HID unique to the vendor; QEMU's, so guests that know it bind. */
	vmgenid_aml_append(dev, vmgenid_aml_name_decl(ctx, "_HID", vmgenid_aml_string(ctx, "QEMUVGID")));
	/* The _CID Linux and Windows match on. */
	vmgenid_aml_append(dev, vmgenid_aml_name_decl(ctx, "_CID", vmgenid_aml_string(ctx, "VM_Gen_Counter")));
	vmgenid_aml_append(dev, vmgenid_aml_name_decl(ctx, "_DDN", vmgenid_aml_string(ctx, "VM_Gen_Counter")));
	vmgenid_aml_append(dev, vmgenid_sta(ctx));
	vmgenid_aml_append(dev, vmgenid_addr_method(ctx));
	vmgenid_aml_append(sb, dev);
	vmgenid_aml_append(body, sb);

	/* The first unused GPE handler; the device raises GPE0 bit 5. */
	gpe = vmgenid_aml_method(ctx, "\\_GPE._E05", 0, false);
	vmgenid_aml_append(gpe, vmgenid_aml_notify(ctx, vmgenid_aml_name(ctx, "\\_SB.VGEN"), vmgenid_aml_int(ctx, 0x80)));
	vmgenid_aml_append(body, gpe);

	start = vmgenid_acpi_table_begin(out, "SSDT", 1, &id);
	ret = vmgenid_aml_serialize(ctx, body, out);
	if (ret) {
		out->len = start;
		goto out;
	}
	vmgenid_acpi_table_end(out, start);
	if (vmgenid_bytebuf_failed(out)) {
		ret = -ENOMEM;
		goto out;
	}
	if (vgia_value_offset)
		*vgia_value_offset = vmgenid_aml_offset(vgia_value) + 1 - start;
out:
	if (ret)
		vmgenid_pr_err("vmgenid", "cannot build SSDT: %s",
		       vmgenid_aml_ctx_error(ctx) ? vmgenid_aml_ctx_error(ctx) : "out of memory");
	vmgenid_aml_ctx_free(ctx);
	return ret;
}

long vmgenid_dev_build_acpi(struct vmgenid_dev *d, struct vmgenid_bytebuf *tables, const char *tables_file,
			struct vmgenid_bios_loader *loader)
{
	size_t start = tables->len, vgia_offset;
	int ret;

	(void)d;
	/* VGIA starts as 0: the ADD_POINTER adds the blob's base to it. */
	ret = vmgenid_dev_build_ssdt(tables, 0, &vgia_offset);
	if (ret)
		return ret;
	if (tables->len - start > UINT32_MAX || start > UINT32_MAX - (tables->len - start))
		return -E2BIG;

	ret = vmgenid_bios_loader_allocate(loader, VMGENID_DEV_GUID_FILE, 4096, VMGENID_BIOS_LOADER_ZONE_HIGH);
	if (!ret)
		ret = vmgenid_bios_loader_add_pointer(loader, tables_file, (uint32_t)(start + vgia_offset),
					      4, VMGENID_DEV_GUID_FILE);
	if (!ret)
		ret = vmgenid_bios_loader_add_checksum(loader, tables_file,
					       (uint32_t)(start + VMGENID_ACPI_TABLE_CHECKSUM_OFFSET),
					       (uint32_t)start, (uint32_t)(tables->len - start));
	/*
	 * Source offset 40: firmware reports the address of the GUID itself,
	 * while VGIA holds the blob's base and ADDR adds the 0x28.
	 */
	if (!ret)
		ret = vmgenid_bios_loader_write_pointer(loader, VMGENID_DEV_ADDR_FILE, 0, VMGENID_DEV_ADDR_SIZE,
						VMGENID_DEV_GUID_FILE, VMGENID_DEV_GUID_OFFSET);
	return ret ? ret : (long)start;
}

/* ---- snapshot ---- */

int vmgenid_dev_save(const struct vmgenid_dev *d, struct vmgenid_bytebuf *out)
{
	size_t start = vmgenid_state_section_begin(out, VMGENID_DEV_STATE_ID, VMGENID_DEV_STATE_VERSION);

	/* Only the address: the GUID is the destination's property (the spec). */
	vmgenid_bytebuf_put_le64(out, d->addr);
	vmgenid_state_section_end(out, start);
	return vmgenid_bytebuf_failed(out) ? -ENOMEM : 0;
}

int vmgenid_dev_load(struct vmgenid_dev *d, const uint8_t *payload, uint32_t length, uint32_t version,
		 const char **why)
{
	uint64_t addr;

	if (version != VMGENID_DEV_STATE_VERSION) {
		*why = "unsupported vmgenid state version";
		return -EINVAL;
	}
	if (length != 8) {
		*why = "vmgenid state has the wrong length";
		return -EINVAL;
	}
	addr = vmgenid_get_le64(payload);
	if (addr && vmgenid_check_addr(d, addr)) {
		*why = "vmgenid state holds an address outside guest RAM or misaligned";
		return -EINVAL;
	}
	d->addr = addr;
	vmgenid_put_le64(d->addr_file, addr);
	return 0;
}

int vmgenid_dev_post_load(struct vmgenid_dev *d)
{
	int ret = vmgenid_update_guest(d);

	if (ret < 0)
		vmgenid_pr_warn("vmgenid", "GUID address %#llx is not in guest RAM; guest not updated",
			(unsigned long long)d->addr);
	return ret;
}
