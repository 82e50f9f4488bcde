// SPDX-License-Identifier: MIT
/*
 * The public headers as an embedder meets them: after <syslog.h>, after
 * QEMU's declarations of the names this library used to have, and (built a
 * second time as test_headers_cpp from test_headers_cpp.cpp) in C++.  That
 * it compiles is half the test: a header that defined LOG_ERR, declared
 * aml_int() or an enumerator AML_SYSTEM_MEMORY, or lacked extern "C", would
 * stop the build here.  The other half runs: syslog's constants keep their
 * values, and calls into every part of the library link and work from this
 * language (a C++ call to a function declared without extern "C" would not
 * link).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <syslog.h>

#ifdef __cplusplus
extern "C" { /* cmocka.h declares its functions without it */
#endif
#include <cmocka.h>
#ifdef __cplusplus
}
#endif

/*
 * A few of QEMU's own declarations (include/hw/acpi/aml-build.h,
 * include/hw/nvram/fw_cfg.h, include/hw/acpi/vmgenid.h), so that a header
 * that still declared one of these names with its own type fails to compile.
 */
typedef struct Aml Aml;
typedef struct FWCfgState FWCfgState;
typedef struct VmGenIdState VmGenIdState;
typedef struct BIOSLinker BIOSLinker;
typedef struct GArray GArray;
typedef enum {
	AML_SYSTEM_MEMORY = 0x00,
	AML_SYSTEM_IO = 0x01,
} AmlRegionSpace;
typedef enum {
	AML_ANY_ACC = 0,
	AML_BYTE_ACC = 1,
} AmlAccessType;
Aml *aml_int(const uint64_t val);
Aml *aml_name(const char *name_format, ...);
void aml_append(Aml *parent_ctx, Aml *child);
void fw_cfg_add_bytes(FWCfgState *s, uint16_t key, void *data, size_t len);
void fw_cfg_add_file(FWCfgState *s, const char *filename, void *data, size_t len);
void vmgenid_build_acpi(VmGenIdState *vms, GArray *table_data, GArray *guid,
			BIOSLinker *linker, const char *oem_id);
void vmgenid_add_fw_cfg(VmGenIdState *vms, FWCfgState *s, GArray *guid);
#define VMGENID_GUID "guid"
#define VMGENID_FW_CFG_SIZE 4096

#include <vmgenid/acpi_table.h>
#include <vmgenid/acpi_tables.h>
#include <vmgenid/aml.h>
#include <vmgenid/bios_loader.h>
#include <vmgenid/bytebuf.h>
#include <vmgenid/endian.h>
#include <vmgenid/fw_cfg.h>
#include <vmgenid/fw_cfg_guest.h>
#include <vmgenid/guest_mem.h>
#include <vmgenid/guid.h>
#include <vmgenid/log.h>
#include <vmgenid/state.h>
#include <vmgenid/vmclock.h>
#include <vmgenid/vmgenid.h>

static void test_syslog_names_untouched(void **state)
{
	(void)state;
	/* syslog's priorities (RFC 5424), not our levels. */
	assert_int_equal(LOG_ERR, 3);
	assert_int_equal(LOG_WARNING, 4);
	assert_int_equal(LOG_INFO, 6);
	assert_int_equal(LOG_DEBUG, 7);
	assert_int_equal(VMGENID_LOG_ERR, 0);
	assert_int_equal(VMGENID_LOG_DEBUG, 3);
	assert_string_equal(VMGENID_GUID, "guid");
}

static int sink_calls;
static enum vmgenid_log_level sink_level;
static char sink_msg[64];

static void sink(void *opaque, enum vmgenid_log_level level, const char *module,
		 const char *msg)
{
	(void)opaque;
	(void)module;
	sink_calls++;
	sink_level = level;
	strncpy(sink_msg, msg, sizeof(sink_msg) - 1);
}

static void test_log_links(void **state)
{
	(void)state;
	vmgenid_log_set_sink(sink, NULL);
	vmgenid_pr_warn("test", "%s %d", "warned", 7);
	vmgenid_log_set_sink(NULL, NULL);
	assert_int_equal(sink_calls, 1);
	assert_int_equal(sink_level, VMGENID_LOG_WARN);
	assert_string_equal(sink_msg, "warned 7");
}

static void test_guid_and_endian_link(void **state)
{
	struct vmgenid_guid g;
	char text[VMGENID_GUID_STR_LEN + 1];
	uint8_t le[VMGENID_GUID_SIZE];
	const char *why = NULL;

	(void)state;
	assert_int_equal(vmgenid_guid_parse("324E6EAF-D1D1-4BF6-BF41-B9BB6C91FB87", &g, &why), 0);
	vmgenid_guid_format(&g, text);
	assert_string_equal(text, "324e6eaf-d1d1-4bf6-bf41-b9bb6c91fb87");
	vmgenid_guid_to_le(&g, le);
	assert_int_equal(vmgenid_get_le32(le), 0x324e6eafu);
	assert_int_equal(vmgenid_get_be32(g.bytes), 0x324e6eafu);
}

static void test_device_tables_and_state_link(void **state)
{
	static uint8_t ram[2 * 4096];
	struct vmgenid_guest_mem mem;
	struct vmgenid_guid g;
	struct vmgenid_bytebuf tables, saved;
	struct vmgenid_bios_loader loader;
	struct vmgenid_state_reader r;
	struct vmgenid_state_section s;
	const char *why = NULL;

	(void)state;
	vmgenid_guest_mem_init(&mem);
	assert_int_equal(vmgenid_guest_mem_add(&mem, 0, sizeof(ram), ram), 0);
	assert_int_equal(vmgenid_guid_parse("324e6eaf-d1d1-4bf6-bf41-b9bb6c91fb87", &g, NULL), 0);

	struct vmgenid_fw_cfg *fw = vmgenid_fw_cfg_new(&mem);
	struct vmgenid_dev *dev = vmgenid_dev_new(&g, &mem, NULL, NULL);
	assert_non_null(fw);
	assert_non_null(dev);
	assert_int_equal(vmgenid_dev_add_fw_cfg(dev, fw), 0);

	vmgenid_bytebuf_init(&tables);
	vmgenid_bios_loader_init(&loader);
	long off = vmgenid_dev_build_acpi(dev, &tables, VMGENID_ACPI_TABLES_FILE, &loader);
	assert_true(off >= 0);
	assert_false(vmgenid_bytebuf_failed(&tables));
	assert_memory_equal(tables.data + off, "SSDT", 4);
	/* ALLOCATE, ADD_POINTER, ADD_CHECKSUM, WRITE_POINTER */
	assert_int_equal(loader.script.len, 4 * VMGENID_BIOS_LOADER_CMD_SIZE);

	vmgenid_bytebuf_init(&saved);
	assert_int_equal(vmgenid_dev_save(dev, &saved), 0);
	vmgenid_state_reader_init(&r, saved.data, saved.len);
	assert_int_equal(vmgenid_state_reader_next(&r, &s, &why), 1);
	assert_string_equal(s.id, VMGENID_DEV_STATE_ID);
	assert_int_equal(vmgenid_dev_load(dev, s.payload, s.length, s.version, &why), 0);

	vmgenid_bytebuf_free(&saved);
	vmgenid_bios_loader_free(&loader);
	vmgenid_bytebuf_free(&tables);
	vmgenid_dev_free(dev);
	vmgenid_fw_cfg_free(fw);
}

static void test_aml_links(void **state)
{
	struct vmgenid_bytebuf out;
	struct vmgenid_aml_ctx *ctx = vmgenid_aml_ctx_new();

	(void)state;
	assert_non_null(ctx);
	vmgenid_bytebuf_init(&out);
	struct vmgenid_aml *block = vmgenid_aml_block(ctx);
	vmgenid_aml_append(block, vmgenid_aml_name_decl(ctx, "VAL0", vmgenid_aml_int(ctx, 1)));
	assert_int_equal(vmgenid_aml_serialize(ctx, block, &out), 0);
	/* Name (VAL0, One): NameOp, the name, OneOp */
	const uint8_t expect[] = { 0x08, 'V', 'A', 'L', '0', 0x01 };
	assert_int_equal(out.len, sizeof(expect));
	assert_memory_equal(out.data, expect, sizeof(expect));
	vmgenid_bytebuf_free(&out);
	vmgenid_aml_ctx_free(ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_syslog_names_untouched),
		cmocka_unit_test(test_log_links),
		cmocka_unit_test(test_guid_and_endian_link),
		cmocka_unit_test(test_device_tables_and_state_link),
		cmocka_unit_test(test_aml_links),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
