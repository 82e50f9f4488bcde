// SPDX-License-Identifier: MIT
/*
 * ACPI system description table header (ACPI 6.x section 5.2.6): framing
 * only.  Length and checksum are patched at the end because both depend on
 * the body.
 */
#include <string.h>

#include "vmgenid/acpi_table.h"
#include "vmgenid/endian.h"
#include "vmgenid/log.h"

/*
 * Append s cut or NUL-padded to exactly len bytes.  NUL, not space: that is
 * what QEMU and iasl emit ("VMGENID\0"), and our SSDT must match QEMU's byte
 * for byte.  Callers wanting spaces pass them ("BOCHS ").
 */
static void put_padded(struct vmgenid_bytebuf *b, const char *s, size_t len)
{
	uint8_t *p = vmgenid_bytebuf_append(b, NULL, len);
	size_t n;

	if (!p)
		return;
	n = s ? strnlen(s, len) : 0;
	memcpy(p, s ? s : "", n);
	memset(p + n, 0, len - n);
}

size_t vmgenid_acpi_table_begin(struct vmgenid_bytebuf *b, const char *signature, uint8_t revision,
			const struct vmgenid_acpi_table_id *id)
{
	static const struct vmgenid_acpi_table_id none;
	size_t start = b->len;

	if (!id)
		id = &none;
	put_padded(b, signature, 4);       /* Signature */
	vmgenid_bytebuf_put_le32(b, 0);            /* Length, patched by vmgenid_acpi_table_end() */
	vmgenid_bytebuf_put_u8(b, revision);       /* Revision */
	vmgenid_bytebuf_put_u8(b, 0);              /* Checksum, patched by vmgenid_acpi_table_end() */
	put_padded(b, id->oem_id, 6);      /* OEMID */
	put_padded(b, id->oem_table_id, 8); /* OEM Table ID */
	vmgenid_bytebuf_put_le32(b, id->oem_revision);
	put_padded(b, id->creator_id, 4);  /* Creator ID */
	vmgenid_bytebuf_put_le32(b, id->creator_revision);
	return start;
}

void vmgenid_acpi_table_end(struct vmgenid_bytebuf *b, size_t start)
{
	size_t len;
	uint8_t *t;

	if (vmgenid_bytebuf_failed(b))
		return;
	if (start > b->len || b->len - start < VMGENID_ACPI_TABLE_HEADER_SIZE ||
	    b->len - start > UINT32_MAX) {
		vmgenid_pr_err("acpi", "table at %zu: bad bounds (buffer is %zu bytes)", start, b->len);
		return;
	}
	len = b->len - start;
	t = b->data + start;
	vmgenid_put_le32(t + VMGENID_ACPI_TABLE_LENGTH_OFFSET, (uint32_t)len);
	t[VMGENID_ACPI_TABLE_CHECKSUM_OFFSET] = 0;
	t[VMGENID_ACPI_TABLE_CHECKSUM_OFFSET] = vmgenid_acpi_checksum(t, len);
}

uint8_t vmgenid_acpi_checksum(const uint8_t *data, size_t len)
{
	uint8_t sum = 0;
	size_t i;

	for (i = 0; i < len; i++)
		sum = (uint8_t)(sum + data[i]);
	return (uint8_t)(0 - sum);
}
