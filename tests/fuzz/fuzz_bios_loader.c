// SPDX-License-Identifier: MIT
/*
 * The table-loader executor as the firmware runs it: a fuzzed script and
 * fuzzed fw_cfg files, found, read and written back through the guest-side
 * fw_cfg client over port I/O and DMA into guest RAM (fuzz_firmware.c).
 * Input layout: fuzz.h.  Beyond the sanitizers it checks that the
 * executor's report is one it documents and that every file it placed lies
 * in guest RAM where it says.
 */
#include <stdlib.h>
#include <string.h>

#include "vmgenid/bios_loader.h"

#include "fuzz.h"
#include "fuzz_firmware.h"
#include "fuzz_machine.h"

/* Room for genvm's tables several times over, at an address that is not 0. */
#define RAM_BASE 0x100000ull
#define RAM_SIZE (256u << 10)

static uint8_t ram[RAM_SIZE];
static struct vmgenid_guest_mem mem;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet_logs();
	vmgenid_guest_mem_init(&mem);
	FUZZ_CHECK(vmgenid_guest_mem_add(&mem, RAM_BASE, RAM_SIZE, ram) == 0);
	return 0;
}

struct record {
	const uint8_t *data;
	size_t len;
};

static bool next_record(struct fuzz_in *in, struct record *r)
{
	size_t want;

	if (!in->left)
		return false;
	want = fuzz_le16(in);
	r->data = fuzz_take(in, want, &r->len);
	return true;
}

/* A file record: flags, NUL-terminated name, contents.  Copied: DMA may write it. */
static void add_file(struct vmgenid_fw_cfg *fw, const struct record *r, uint8_t **copies,
		     unsigned int *nr)
{
	const uint8_t *nul;
	size_t name_len, len;
	uint8_t *copy;

	if (r->len < 2 || *nr == FUZZ_LOADER_MAX_FILES)
		return;
	nul = memchr(r->data + 1, 0, r->len - 1);
	if (!nul)
		return;
	name_len = (size_t)(nul - (r->data + 1));
	len = r->len - 1 - name_len - 1;
	copy = malloc(len ? len : 1);
	FUZZ_CHECK(copy != NULL);
	memcpy(copy, nul + 1, len);
	copies[(*nr)++] = copy;
	/* Bad names and duplicates are the device's to refuse. */
	(void)vmgenid_fw_cfg_add_file(fw, (const char *)r->data + 1, copy, (uint32_t)len,
			      r->data[0] & FUZZ_FILE_WRITABLE, NULL, NULL);
}

static void check_result(const struct vmgenid_bios_loader_exec *ex, int ret,
			 size_t script_len)
{
	FUZZ_CHECK(ret <= 0 && ret > -VMGENID_BIOS_LOADER_E_COUNT);
	FUZZ_CHECK(strcmp(vmgenid_bios_loader_strerror(ret), "unknown loader error") != 0);
	FUZZ_CHECK(ex->failed_cmd <= script_len / VMGENID_BIOS_LOADER_CMD_SIZE);
	FUZZ_CHECK(ret != 0 || ex->failed_cmd == script_len / VMGENID_BIOS_LOADER_CMD_SIZE);
	FUZZ_CHECK(ex->nr_files <= VMGENID_BIOS_LOADER_MAX_FILES);
	for (unsigned int i = 0; i < ex->nr_files; i++) {
		const struct vmgenid_bios_loader_file *f = &ex->files[i];

		FUZZ_CHECK(f->size > 0);
		FUZZ_CHECK(memchr(f->name, 0, sizeof(f->name)) != NULL);
		FUZZ_CHECK(vmgenid_guest_mem_ptr(&mem, f->addr, f->size) == f->data);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	uint8_t *copies[FUZZ_LOADER_MAX_FILES];
	unsigned int nr = 0;
	struct vmgenid_bios_loader_exec ex;
	struct fuzz_firmware f;
	struct record script, r;
	struct vmgenid_fw_cfg *fw;
	int ret;

	if (!next_record(&in, &script) || script.len == 0)
		return 0;
	memset(ram, 0, sizeof(ram));
	fw = vmgenid_fw_cfg_new(&mem);
	FUZZ_CHECK(fw != NULL);
	FUZZ_CHECK(vmgenid_fw_cfg_add_file(fw, VMGENID_BIOS_LOADER_FILE, (void *)script.data,
				   (uint32_t)script.len, false, NULL, NULL) >= 0);
	while (next_record(&in, &r))
		add_file(fw, &r, copies, &nr);
	FUZZ_CHECK(fuzz_firmware_init(&f, ram, RAM_BASE, RAM_SIZE, fw, NULL) == 0);
	ret = fuzz_firmware_run_loader(&f, &ex);
	check_result(&ex, ret, script.len);
	vmgenid_fw_cfg_free(fw);
	for (unsigned int i = 0; i < nr; i++)
		free(copies[i]);
	return 0;
}
