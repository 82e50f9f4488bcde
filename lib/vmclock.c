// SPDX-License-Identifier: MIT
/*
 * The VMClock device: state, construction, the page and its update
 * protocol, ACPI, snapshot save/load and post-load, in that order.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "vmgenid/acpi_table.h"
#include "vmgenid/aml.h"
#include "vmgenid/endian.h"
#include "vmgenid/log.h"
#include "vmgenid/state.h"
#include "vmgenid/vmclock.h"

#define MOD "vmclock"
#define FOUR_GIB 0x100000000ull

struct vmgenid_vmclock {
	const struct vmgenid_guest_mem *mem;
	uint64_t gpa;
	void (*notify)(void *opaque);
	void *notify_opaque;

	/* The device's copy of what the page says; the guest's copy is never read back. */
	uint32_t seq_count;
	uint64_t disruption_marker;
	uint64_t generation;
};

/*
 * A page ACPI's Memory32Fixed can describe, wholly in guest memory, and
 * mapped at a host address where seq_count's 32-bit stores are aligned.
 */
static bool vmclock_gpa_ok(const struct vmgenid_guest_mem *mem, uint64_t gpa)
{
	uint8_t *p;

	if (gpa % VMGENID_VMCLOCK_PAGE_SIZE || gpa >= FOUR_GIB || FOUR_GIB - gpa < VMGENID_VMCLOCK_PAGE_SIZE)
		return false;
	p = vmgenid_guest_mem_ptr(mem, gpa, VMGENID_VMCLOCK_PAGE_SIZE);
	return p && (uintptr_t)p % 8 == 0;
}

struct vmgenid_vmclock *vmgenid_vmclock_new(const struct vmgenid_guest_mem *mem, uint64_t gpa,
			    void (*notify)(void *opaque), void *opaque)
{
	struct vmgenid_vmclock *c;

	if (!vmclock_gpa_ok(mem, gpa)) {
		errno = EINVAL;
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->mem = mem;
	c->gpa = gpa;
	c->notify = notify;
	c->notify_opaque = opaque;
	return c;
}

void vmgenid_vmclock_free(struct vmgenid_vmclock *c)
{
	free(c);
}

uint64_t vmgenid_vmclock_get_gpa(const struct vmgenid_vmclock *c)
{
	return c->gpa;
}

uint64_t vmgenid_vmclock_get_generation(const struct vmgenid_vmclock *c)
{
	return c->generation;
}

uint64_t vmgenid_vmclock_get_disruption_marker(const struct vmgenid_vmclock *c)
{
	return c->disruption_marker;
}

uint32_t vmgenid_vmclock_get_seq_count(const struct vmgenid_vmclock *c)
{
	return c->seq_count;
}

/* ---- the page ---- */

/*
 * seq_count is the one field a guest may read while we write: one aligned
 * 32-bit store (the page is page-aligned in a page-aligned mapping), never
 * four byte stores.
 */
static void vmclock_store_seq(uint8_t *page, uint32_t seq)
{
	uint32_t le;

	vmgenid_put_le32((uint8_t *)&le, seq);
	__atomic_store_n((uint32_t *)(void *)(page + VMGENID_VMCLOCK_OFF_SEQ_COUNT), le, __ATOMIC_RELAXED);
}

/*
 * Every field but seq_count.  No precise clock: counter_id INVALID and
 * clock_status UNKNOWN, so the counter/time fields stay zero and Linux
 * registers no PTP clock, only /dev/vmclock0.  TAI is what UAPI.13
 * recommends as the time type, should a clock ever be added.
 */
static void vmclock_fill(const struct vmgenid_vmclock *c, uint8_t *page)
{
	vmgenid_put_le32(page + VMGENID_VMCLOCK_OFF_MAGIC, VMGENID_VMCLOCK_MAGIC);
	vmgenid_put_le32(page + VMGENID_VMCLOCK_OFF_SIZE, VMGENID_VMCLOCK_PAGE_SIZE);
	vmgenid_put_le16(page + VMGENID_VMCLOCK_OFF_VERSION, VMGENID_VMCLOCK_VERSION);
	page[VMGENID_VMCLOCK_OFF_COUNTER_ID] = VMGENID_VMCLOCK_COUNTER_INVALID;
	page[VMGENID_VMCLOCK_OFF_TIME_TYPE] = VMGENID_VMCLOCK_TIME_TAI;
	vmgenid_put_le64(page + VMGENID_VMCLOCK_OFF_DISRUPTION_MARKER, c->disruption_marker);
	vmgenid_put_le64(page + VMGENID_VMCLOCK_OFF_FLAGS,
		 VMGENID_VMCLOCK_FLAG_VM_GEN_COUNTER_PRESENT | VMGENID_VMCLOCK_FLAG_NOTIFICATION_PRESENT);
	page[VMGENID_VMCLOCK_OFF_CLOCK_STATUS] = VMGENID_VMCLOCK_STATUS_UNKNOWN;
	vmgenid_put_le64(page + VMGENID_VMCLOCK_OFF_VM_GENERATION_COUNTER, c->generation);
}

void vmgenid_vmclock_reset(struct vmgenid_vmclock *c)
{
	uint8_t *page = vmgenid_guest_mem_ptr(c->mem, c->gpa, VMGENID_VMCLOCK_PAGE_SIZE);

	/* vmgenid_vmclock_new() checked the page; the memory cannot have moved since. */
	if (!page)
		return;
	memset(page, 0, VMGENID_VMCLOCK_PAGE_SIZE);
	vmclock_fill(c, page);
	vmclock_store_seq(page, c->seq_count);
}

/* A marker unlike the last: random, so that two clones of one snapshot differ too. */
static uint64_t vmclock_new_marker(uint64_t old)
{
	uint64_t v;

	if (getrandom(&v, sizeof(v), GRND_NONBLOCK) != (ssize_t)sizeof(v) || v == old)
		v = old + 1;
	return v;
}

/*
 * The update protocol of UAPI.13: seq_count to odd, the fields, seq_count to
 * even, then the notification.  The release fences keep the stores in that
 * order as other CPUs (the guest's vCPUs) see them; they pair with the
 * read barriers a guest puts between reading seq_count and the fields.
 */
static int vmclock_update(struct vmgenid_vmclock *c)
{
	uint8_t *page = vmgenid_guest_mem_ptr(c->mem, c->gpa, VMGENID_VMCLOCK_PAGE_SIZE);

	if (!page)
		return -EFAULT;
	/* Odd whatever the page held: even a seq_count the guest scribbled over. */
	c->seq_count = (c->seq_count | 1u);
	vmclock_store_seq(page, c->seq_count);
	__atomic_thread_fence(__ATOMIC_RELEASE);

	c->generation++;
	c->disruption_marker = vmclock_new_marker(c->disruption_marker);
	vmclock_fill(c, page);

	__atomic_thread_fence(__ATOMIC_RELEASE);
	c->seq_count++;
	vmclock_store_seq(page, c->seq_count);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (c->notify)
		c->notify(c->notify_opaque);
	return 0;
}

/* ---- ACPI ---- */

int vmgenid_vmclock_build_ssdt(struct vmgenid_bytebuf *out, uint64_t gpa)
{
	static const struct vmgenid_acpi_table_id id = {
		.oem_id = "GENVM ",
		.oem_table_id = "VMCLOCK ",
		.oem_revision = 1,
		.creator_id = "GENV",
		.creator_revision = 1,
	};
	struct vmgenid_aml_ctx *ctx;
	struct vmgenid_aml *body, *sb, *dev, *crs, *gpe;
	size_t start;
	int ret;

	if (gpa % VMGENID_VMCLOCK_PAGE_SIZE || gpa >= FOUR_GIB || FOUR_GIB - gpa < VMGENID_VMCLOCK_PAGE_SIZE)
		return -EINVAL;
	ctx = vmgenid_aml_ctx_new();
	if (!ctx)
		return -ENOMEM;

	body = vmgenid_aml_block(ctx);
	sb = vmgenid_aml_scope(ctx, "\\_SB");
	dev = vmgenid_aml_device(ctx, "VCLK");
	/* UAPI.13's ACPI binding: Linux matches the _HID (6.13+) or the _CID (later). */
	vmgenid_aml_append(dev, vmgenid_aml_name_decl(ctx, "_HID", vmgenid_aml_string(ctx, VMGENID_VMCLOCK_ACPI_HID)));
	vmgenid_aml_append(dev, vmgenid_aml_name_decl(ctx, "_CID", vmgenid_aml_string(ctx, VMGENID_VMCLOCK_ACPI_CID)));
	vmgenid_aml_append(dev, vmgenid_aml_name_decl(ctx, "_DDN", vmgenid_aml_string(ctx, VMGENID_VMCLOCK_ACPI_CID)));
	crs = vmgenid_aml_resource_template(ctx);
	/* Read-only: the guest has nothing to write there. */
	vmgenid_aml_append(crs, vmgenid_aml_memory32_fixed(ctx, false, (uint32_t)gpa, VMGENID_VMCLOCK_PAGE_SIZE));
	vmgenid_aml_append(dev, vmgenid_aml_name_decl(ctx, "_CRS", crs));
	vmgenid_aml_append(sb, dev);
	vmgenid_aml_append(body, sb);

	gpe = vmgenid_aml_method(ctx, "\\_GPE._E06", 0, false);
	vmgenid_aml_append(gpe, vmgenid_aml_notify(ctx, vmgenid_aml_name(ctx, "\\_SB.VCLK"), vmgenid_aml_int(ctx, 0x80)));
	vmgenid_aml_append(body, gpe);

	start = vmgenid_acpi_table_begin(out, "SSDT", 1, &id);
	ret = vmgenid_aml_serialize(ctx, body, out);
	if (ret)
		out->len = start;
	else
		vmgenid_acpi_table_end(out, start);
	if (!ret && vmgenid_bytebuf_failed(out))
		ret = -ENOMEM;
	if (ret)
		vmgenid_pr_err(MOD, "cannot build SSDT: %s",
		       vmgenid_aml_ctx_error(ctx) ? vmgenid_aml_ctx_error(ctx) : "out of memory");
	vmgenid_aml_ctx_free(ctx);
	return ret;
}

long vmgenid_vmclock_build_acpi(struct vmgenid_vmclock *c, struct vmgenid_bytebuf *tables, const char *tables_file,
			struct vmgenid_bios_loader *loader)
{
	size_t start = tables->len;
	int ret;

	/* The page's address is fixed by the machine: no pointer for the loader to patch. */
	ret = vmgenid_vmclock_build_ssdt(tables, c->gpa);
	if (ret)
		return ret;
	if (tables->len > UINT32_MAX)
		return -E2BIG;
	ret = vmgenid_bios_loader_add_checksum(loader, tables_file,
				       (uint32_t)(start + VMGENID_ACPI_TABLE_CHECKSUM_OFFSET),
				       (uint32_t)start, (uint32_t)(tables->len - start));
	return ret ? ret : (long)start;
}

/* ---- snapshot ---- */

int vmgenid_vmclock_save(const struct vmgenid_vmclock *c, struct vmgenid_bytebuf *out)
{
	size_t start = vmgenid_state_section_begin(out, VMGENID_VMCLOCK_STATE_ID, VMGENID_VMCLOCK_STATE_VERSION);

	vmgenid_bytebuf_put_le64(out, c->gpa);
	vmgenid_bytebuf_put_le32(out, c->seq_count);
	vmgenid_bytebuf_put_le64(out, c->disruption_marker);
	vmgenid_bytebuf_put_le64(out, c->generation);
	vmgenid_state_section_end(out, start);
	return vmgenid_bytebuf_failed(out) ? -ENOMEM : 0;
}

int vmgenid_vmclock_check_state(const struct vmgenid_vmclock *c, const uint8_t *payload, uint32_t length,
			uint32_t version, const char **why)
{
	if (version != VMGENID_VMCLOCK_STATE_VERSION) {
		*why = "unsupported vmclock state version";
		return -EINVAL;
	}
	if (length != VMGENID_VMCLOCK_STATE_LENGTH) {
		*why = "vmclock state has the wrong length";
		return -EINVAL;
	}
	/* The guest's ACPI tables name the page: it cannot move under a running guest. */
	if (vmgenid_get_le64(payload) != c->gpa) {
		*why = "vmclock state names a page at another address than this machine's";
		return -EINVAL;
	}
	if (vmgenid_get_le32(payload + 8) & 1u) {
		*why = "vmclock state was saved in the middle of an update (odd seq_count)";
		return -EINVAL;
	}
	return 0;
}

int vmgenid_vmclock_load(struct vmgenid_vmclock *c, const uint8_t *payload, uint32_t length, uint32_t version,
		 const char **why)
{
	int ret = vmgenid_vmclock_check_state(c, payload, length, version, why);

	if (ret)
		return ret;
	c->seq_count = vmgenid_get_le32(payload + 8);
	c->disruption_marker = vmgenid_get_le64(payload + 12);
	c->generation = vmgenid_get_le64(payload + 20);
	return 0;
}

int vmgenid_vmclock_post_load(struct vmgenid_vmclock *c)
{
	int ret = vmclock_update(c);

	if (ret < 0)
		vmgenid_pr_warn(MOD, "page %#llx is not in guest memory; guest not updated",
			(unsigned long long)c->gpa);
	return ret;
}
