// SPDX-License-Identifier: MIT
/*
 * gen_corpus DIR: write the seed corpora of the fuzz targets into
 * DIR/<target>/, each made by the project's own code, so that fuzzing
 * starts from what genvm and its firmware really exchange:
 *
 *   fw_cfg       a recording of the firmware's side of a boot (the guest
 *                fw_cfg client running the real table-loader over port I/O
 *                and DMA), the same over the port-only interface, and
 *                requests the device must refuse
 *   bios_loader  genvm's table-loader script with its fw_cfg files
 *   snapshot     a whole snapshot file and bare state streams, from the
 *                devices' and KVM codec's own save functions (the fw_cfg
 *                and vmgenid state as that recorded boot left them)
 *   aml_reader   genvm's DSDT and vmgenid SSDT as the loader placed them
 *   qmp, hmp, chardev   sessions and specs as a user writes them
 *
 * The targets read these layouts as fuzz.h describes.  Run it from a fuzz
 * build (docs/fuzzing.md) and commit what changed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "vmgenid/acpi_tables.h"
#include "vmgenid/bios_loader.h"
#include "vmgenid/endian.h"
#include "vmgenid/fw_cfg_guest.h"
#include "vmgenid/state.h"

#include "fuzz.h"
#include "fuzz_firmware.h"
#include "fuzz_machine.h"
#include "kvm_state.h"
#include "msr.h"
#include "pm.h"
#include "snapfile.h"
#include "uart.h"
#include "vm.h"

static const char *outdir;

void vm_irq_line(struct vm *vm, unsigned int irq, int level)
{
	(void)vm;
	(void)irq;
	(void)level;
}

static void die(const char *what)
{
	fprintf(stderr, "gen_corpus: %s\n", what);
	exit(1);
}

static void write_seed(const char *target, const char *name, const void *data, size_t len)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", outdir, target);
	if (mkdir(path, 0777) < 0 && errno != EEXIST)
		die(path);
	snprintf(path, sizeof(path), "%s/%s/%s", outdir, target, name);
	f = fopen(path, "wb");
	if (!f || fwrite(data, 1, len, f) != len || fclose(f))
		die(path);
}

static void write_text(const char *target, const char *name, const char *text)
{
	write_seed(target, name, text, strlen(text));
}

/* ---- fw_cfg: the guest's side recorded as fuzz.h's operations ---- */

struct recorder {
	uint8_t ram[FUZZ_RAM_SIZE];
	uint8_t shadow[FUZZ_RAM_SIZE]; /* RAM as the recording last left it */
	struct fuzz_machine m;
	struct vmgenid_bytebuf ops;
};

/* What the guest itself wrote into RAM since the last port access. */
static void record_ram(struct recorder *r)
{
	size_t i = 0;

	while (i < FUZZ_RAM_SIZE) {
		size_t n = 0;

		if (r->ram[i] == r->shadow[i]) {
			i++;
			continue;
		}
		while (i + n < FUZZ_RAM_SIZE && n < 255 && r->ram[i + n] != r->shadow[i + n])
			n++;
		vmgenid_bytebuf_put_u8(&r->ops, FUZZ_OP_RAM);
		vmgenid_bytebuf_put_le16(&r->ops, (uint16_t)i);
		vmgenid_bytebuf_put_u8(&r->ops, (uint8_t)n);
		vmgenid_bytebuf_append(&r->ops, r->ram + i, n);
		memcpy(r->shadow + i, r->ram + i, n);
		i += n;
	}
}

static void record_port(struct recorder *r, uint16_t port, uint8_t *data, uint32_t len,
			bool is_write)
{
	uint8_t size_code = len == 1 ? 0 : len == 2 ? 1 : len == 4 ? 2 : 3;

	record_ram(r);
	vmgenid_bytebuf_put_u8(&r->ops, (uint8_t)((port - VMGENID_FW_CFG_IO_BASE) |
					  size_code << FUZZ_OP_SIZE_SHIFT |
					  (is_write ? FUZZ_OP_WRITE : 0)));
	if (is_write)
		vmgenid_bytebuf_append(&r->ops, data, len);
	vmgenid_fw_cfg_io(r->m.fw, port - VMGENID_FW_CFG_IO_BASE, data, len, is_write);
	/* What the device wrote by DMA is not the guest's to replay. */
	memcpy(r->shadow, r->ram, FUZZ_RAM_SIZE);
}

static void rec_outw(void *opaque, uint16_t port, uint16_t value)
{
	uint8_t b[2];

	vmgenid_put_le16(b, value);
	record_port(opaque, port, b, 2, true);
}

static uint8_t rec_inb(void *opaque, uint16_t port)
{
	uint8_t b = 0;

	record_port(opaque, port, &b, 1, false);
	return b;
}

static void rec_outl(void *opaque, uint16_t port, uint32_t value)
{
	uint8_t b[4];

	vmgenid_put_le32(b, value);
	record_port(opaque, port, b, 4, true);
}

static uint32_t rec_inl(void *opaque, uint16_t port)
{
	uint8_t b[4] = { 0 };

	record_port(opaque, port, b, 4, false);
	return vmgenid_get_le32(b);
}

/* The recorder's firmware: fuzz_firmware on its RAM, its port I/O recorded. */
#define REC_DESC FUZZ_RAM_BASE
#define REC_SCRATCH (FUZZ_RAM_BASE + FUZZ_FW_SCRATCH)

static uint8_t *hva(struct recorder *r, uint64_t gpa)
{
	return r->ram + (gpa - FUZZ_RAM_BASE);
}

static void recorder_init(struct recorder *r, struct fuzz_firmware *fw)
{
	const struct vmgenid_fw_cfg_guest_ops ops = { r, rec_outw, rec_inb, rec_outl, rec_inl };

	memset(r, 0, sizeof(*r));
	if (fuzz_machine_init(&r->m, r->ram))
		die("cannot build the machine");
	vmgenid_bytebuf_init(&r->ops);
	if (fuzz_firmware_init(fw, r->ram, FUZZ_RAM_BASE, FUZZ_RAM_SIZE, r->m.fw, &ops))
		die("the firmware finds no fw_cfg");
}

static void recorder_destroy(struct recorder *r)
{
	fuzz_machine_destroy(&r->m);
	vmgenid_bytebuf_free(&r->ops);
}

/* The firmware's boot: read etc/table-loader and run it. */
static void firmware_boot(struct fuzz_firmware *fw, struct recorder *r,
			  struct vmgenid_bios_loader_exec *ex)
{
	if (fuzz_firmware_run_loader(fw, ex))
		die("the table-loader failed");
	if (!vmgenid_dev_get_addr(r->m.vmgenid))
		die("the boot left vmgenid without an address");
}

/* A DMA request the guest lays out by hand: descriptor at REC_DESC, then the doorbell. */
static void dma(struct recorder *r, uint32_t ctl, uint32_t len, uint64_t addr)
{
	uint8_t hi[4], lo[4];

	vmgenid_put_be32(hva(r, REC_DESC), ctl);
	vmgenid_put_be32(hva(r, REC_DESC) + 4, len);
	vmgenid_put_be64(hva(r, REC_DESC) + 8, addr);
	vmgenid_put_be32(hi, (uint32_t)(REC_DESC >> 32));
	vmgenid_put_be32(lo, (uint32_t)REC_DESC);
	record_port(r, VMGENID_FW_CFG_IO_BASE + VMGENID_FW_CFG_PORT_DMA_HI, hi, 4, true);
	record_port(r, VMGENID_FW_CFG_IO_BASE + VMGENID_FW_CFG_PORT_DMA_LO, lo, 4, true);
}

static void gen_fw_cfg(struct recorder *r, struct fuzz_firmware *fw,
		       struct vmgenid_bios_loader_exec *ex)
{
	static struct recorder r2;
	struct fuzz_firmware fw2;
	uint16_t sel;
	uint32_t size;
	uint8_t b8[8];

	/* 1: the whole boot over DMA (the recorder r stays for the snapshot seeds). */
	recorder_init(r, fw);
	firmware_boot(fw, r, ex);
	record_ram(r);
	write_seed("fw_cfg", "boot_dma", r->ops.data, r->ops.len);

	/* 2: a firmware without DMA reads the directory and the signature port by port. */
	recorder_init(&r2, &fw2);
	fw2.g.has_dma = false;
	if (vmgenid_fw_cfg_guest_find(&fw2.g, VMGENID_DEV_GUID_FILE, &sel, &size))
		die("no vmgenid file");
	write_seed("fw_cfg", "directory_ports", r2.ops.data, r2.ops.len);
	recorder_destroy(&r2);

	/* 3: requests the device must refuse, and odd accesses, each answered. */
	recorder_init(&r2, &fw2);
	r2.ops.len = 0; /* without the client's probing */
	dma(&r2, 0x100u, 16, REC_SCRATCH);                                /* unknown bit */
	dma(&r2, VMGENID_FW_CFG_DMA_CTL_READ, 16, FUZZ_RAM_BASE + FUZZ_RAM_SIZE - 8); /* past RAM */
	dma(&r2, (uint32_t)VMGENID_FW_CFG_FILE_FIRST << 16 | VMGENID_FW_CFG_DMA_CTL_SELECT |
		 VMGENID_FW_CFG_DMA_CTL_WRITE, 8, REC_SCRATCH);                   /* read-only */
	dma(&r2, (uint32_t)(VMGENID_FW_CFG_FILE_FIRST + 4) << 16 | VMGENID_FW_CFG_DMA_CTL_SELECT |
		 VMGENID_FW_CFG_DMA_CTL_WRITE, 16, REC_SCRATCH);                  /* past the end */
	dma(&r2, (uint32_t)(VMGENID_FW_CFG_FILE_FIRST + 4) << 16 | VMGENID_FW_CFG_DMA_CTL_SELECT |
		 VMGENID_FW_CFG_DMA_CTL_SKIP, 4, 0);                              /* skip, then */
	vmgenid_put_le64(hva(&r2, REC_SCRATCH), FUZZ_RAM_BASE + 0x3028);
	dma(&r2, VMGENID_FW_CFG_DMA_CTL_WRITE, 4, REC_SCRATCH);                   /* a torn address */
	vmgenid_put_be64(b8, REC_DESC);
	vmgenid_put_be32(hva(&r2, REC_DESC), VMGENID_FW_CFG_DMA_CTL_READ);
	record_port(&r2, VMGENID_FW_CFG_IO_BASE + VMGENID_FW_CFG_PORT_DMA_HI, b8, 8, true); /* 64-bit doorbell */
	record_port(&r2, VMGENID_FW_CFG_IO_BASE + VMGENID_FW_CFG_PORT_DMA_HI, b8, 8, false); /* "QEMU CFG" */
	record_port(&r2, VMGENID_FW_CFG_IO_BASE + VMGENID_FW_CFG_PORT_DATA, b8, 1, true);   /* ignored */
	record_port(&r2, VMGENID_FW_CFG_IO_BASE + 2, b8, 2, false);                 /* no port */
	write_seed("fw_cfg", "refused", r2.ops.data, r2.ops.len);
	recorder_destroy(&r2);
}

/* ---- bios_loader: records of script and files ---- */

static void put_record(struct vmgenid_bytebuf *b, const void *data, size_t len)
{
	if (len > 0xffff)
		die("a file too large for a record");
	vmgenid_bytebuf_put_le16(b, (uint16_t)len);
	vmgenid_bytebuf_append(b, data, len);
}

static void put_file(struct vmgenid_bytebuf *b, const char *name, const void *data, size_t len,
		     bool writable)
{
	struct vmgenid_bytebuf rec;

	vmgenid_bytebuf_init(&rec);
	vmgenid_bytebuf_put_u8(&rec, writable ? FUZZ_FILE_WRITABLE : 0);
	vmgenid_bytebuf_append(&rec, name, strlen(name) + 1);
	vmgenid_bytebuf_append(&rec, data, len);
	put_record(b, rec.data, rec.len);
	vmgenid_bytebuf_free(&rec);
}

static void gen_bios_loader(void)
{
	const struct vmgenid_bytebuf *script = fuzz_machine_loader();
	const struct vmgenid_bytebuf *tables = fuzz_machine_tables(), *rsdp = fuzz_machine_rsdp();
	static uint8_t ram[FUZZ_RAM_SIZE];
	struct fuzz_machine m;
	uint8_t guid_blob[VMGENID_DEV_BLOB_SIZE], addr[VMGENID_DEV_ADDR_SIZE] = { 0 };
	struct vmgenid_bytebuf b;
	struct vmgenid_guid g;
	const char *why;

	if (fuzz_machine_init(&m, ram) || vmgenid_guid_parse(FUZZ_GUID_TEXT, &g, &why))
		die("cannot build the machine");
	memset(guid_blob, 0, sizeof(guid_blob));
	vmgenid_guid_to_le(&g, guid_blob + VMGENID_DEV_GUID_OFFSET);
	vmgenid_bytebuf_init(&b);
	put_record(&b, script->data, script->len);
	put_file(&b, VMGENID_ACPI_RSDP_FILE, rsdp->data, rsdp->len, false);
	put_file(&b, VMGENID_ACPI_TABLES_FILE, tables->data, tables->len, false);
	put_file(&b, VMGENID_DEV_GUID_FILE, guid_blob, sizeof(guid_blob), false);
	put_file(&b, VMGENID_DEV_ADDR_FILE, addr, sizeof(addr), true);
	write_seed("bios_loader", "genvm", b.data, b.len);
	vmgenid_bytebuf_free(&b);
	fuzz_machine_destroy(&m);
}

/* ---- snapshot: sections from the save functions, and a whole file ---- */

static void put_vcpu(struct vmgenid_bytebuf *b, uint32_t id, bool xsave)
{
	static struct kvm_state_vcpu st;
	static uint8_t area[KVM_STATE_XSAVE_MIN];

	memset(&st, 0, sizeof(st));
	st.id = id;
	st.regs.rip = 0xfff0;
	st.regs.rflags = 2;
	st.sregs.cr0 = 0x60000010;
	st.mp_state.mp_state = id ? KVM_MP_STATE_UNINITIALIZED : KVM_MP_STATE_RUNNABLE;
	st.nr_msrs = 3;
	st.msrs[0] = (struct kvm_msr_entry){ .index = MSR_IA32_TSC, .data = 123456 };
	st.msrs[1] = (struct kvm_msr_entry){ .index = MSR_IA32_CR_PAT, .data = 0x7040600070406ull };
	st.msrs[2] = (struct kvm_msr_entry){ .index = MSR_KVM_SYSTEM_TIME_NEW, .data = 0x3001 };
	if (xsave) {
		st.flags = KVM_STATE_VCPU_XSAVE | KVM_STATE_VCPU_XCRS;
		st.xsave = area;
		st.xsave_len = sizeof(area);
		st.xcrs.nr_xcrs = 1;
		st.xcrs.xcrs[0].value = 7;
	}
	kvm_state_encode_vcpu(b, &st);
}

static void put_state(struct vmgenid_bytebuf *b, struct fuzz_machine *m, unsigned int nr_cpus,
		      bool xsave)
{
	static const struct kvm_state_irqchip chip = { .ioapic = { .base_address =
									  VM_IOAPIC_ADDR } };
	static const struct kvm_pit_state2 pit;
	static const struct pm_ops pm_ops;
	struct vm vm = { .vm_fd = -1 };
	struct uart *u = uart_new(&vm, UART_COM1_IRQ, -1);
	struct pm *pm = pm_new(&vm, &pm_ops);

	if (!u || !pm)
		die("cannot build the devices");
	kvm_state_encode_irqchip(b, &chip);
	kvm_state_encode_pit(b, &pit);
	kvm_state_encode_clock(b, 987654321);
	for (unsigned int i = 0; i < nr_cpus; i++)
		put_vcpu(b, i, xsave);
	if (vmgenid_fw_cfg_save(m->fw, b) || vmgenid_dev_save(m->vmgenid, b) || uart_save(u, b) ||
	    pm_save(pm, b) || vmgenid_bytebuf_failed(b))
		die("a device cannot save");
	uart_free(u);
	pm_free(pm);
}

static void gen_snapshot(struct recorder *booted)
{
	struct snapfile_header h;
	uint8_t header[SNAPFILE_HEADER_SIZE];
	struct vmgenid_bytebuf state, file;

	vmgenid_bytebuf_init(&state);
	put_state(&state, &booted->m, 2, false);
	write_seed("snapshot", "sections", state.data, state.len);
	vmgenid_bytebuf_free(&state);

	vmgenid_bytebuf_init(&state);
	put_state(&state, &booted->m, 2, true);
	write_seed("snapshot", "sections_xsave", state.data, state.len);
	vmgenid_bytebuf_free(&state);

	/* A whole file of a 1-vCPU machine with one page of RAM. */
	vmgenid_bytebuf_init(&state);
	put_state(&state, &booted->m, 1, false);
	snapfile_layout(&h, SNAPFILE_PAGE, 1, state.data, state.len);
	snapfile_encode(&h, header);
	vmgenid_bytebuf_init(&file);
	vmgenid_bytebuf_append(&file, header, sizeof(header));
	vmgenid_bytebuf_append(&file, state.data, state.len);
	vmgenid_bytebuf_append(&file, NULL, h.ram_offset - file.len);
	vmgenid_bytebuf_append(&file, booted->ram, SNAPFILE_PAGE);
	if (vmgenid_bytebuf_failed(&file))
		die("out of memory");
	write_seed("snapshot", "file", file.data, file.len);
	vmgenid_bytebuf_free(&file);
	vmgenid_bytebuf_free(&state);
}

/* ---- aml_reader: the DSDT and SSDT the recorded boot placed ---- */

static void gen_aml(struct recorder *booted, const struct vmgenid_bios_loader_exec *ex)
{
	const struct vmgenid_bios_loader_file *f = NULL;
	struct vmgenid_bytebuf both;
	uint32_t pos = 0;

	for (unsigned int i = 0; i < ex->nr_files; i++)
		if (!strcmp(ex->files[i].name, VMGENID_ACPI_TABLES_FILE))
			f = &ex->files[i];
	if (!f)
		die("the loader placed no tables");
	vmgenid_bytebuf_init(&both);
	/* The blob is the tables back to back, each as long as its header says. */
	while (f->size - pos >= 8) {
		const uint8_t *t = f->data + pos;
		uint32_t len = vmgenid_get_le32(t + 4);

		if (len < 8 || len > f->size - pos)
			die("the tables blob does not walk");
		if (!memcmp(t, "DSDT", 4) || !memcmp(t, "SSDT", 4)) {
			vmgenid_bytebuf_append(&both, t, len);
			if (!memcmp(t, "SSDT", 4))
				write_seed("aml_reader", "ssdt", t, len);
		}
		pos += len;
	}
	(void)booted;
	write_seed("aml_reader", "dsdt_ssdt", both.data, both.len);
	vmgenid_bytebuf_free(&both);
}

/* ---- the text protocols ---- */

static void put_request(struct vmgenid_bytebuf *b, json_t *req)
{
	char *text = json_dumps(req, JSON_PRESERVE_ORDER | JSON_COMPACT);

	if (!text)
		die("jansson");
	vmgenid_bytebuf_append(b, text, strlen(text));
	vmgenid_bytebuf_append(b, "\r\n", 2);
	free(text);
	json_decref(req);
}

static void gen_qmp(void)
{
	static const char *const plain[] = {
		"query-status", "query-vm-generation-id", "query-version", "query-commands",
		"stop", "cont", "system_reset", "system_powerdown", "query-migrate",
	};
	struct vmgenid_bytebuf b;

	vmgenid_bytebuf_init(&b);
	put_request(&b, json_pack("{s:s}", "execute", "qmp_capabilities"));
	for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++)
		put_request(&b, json_pack("{s:s,s:I}", "execute", plain[i], "id", (json_int_t)i));
	put_request(&b, json_pack("{s:s,s:{s:s}}", "execute", "human-monitor-command",
				  "arguments", "command-line", "info vm-generation-id"));
	put_request(&b, json_pack("{s:s,s:{s:s,s:b}}", "execute", "migrate", "arguments",
				  "uri", "file:/var/lib/vm/base.snap", "detach", 1));
	put_request(&b, json_pack("{s:s,s:s}", "execute", "quit", "id", "last"));
	write_seed("qmp", "session", b.data, b.len);
	vmgenid_bytebuf_free(&b);

	/* Refusals: before negotiation, bad envelopes and arguments, broken JSON. */
	vmgenid_bytebuf_init(&b);
	put_request(&b, json_pack("{s:s}", "execute", "query-status"));
	put_request(&b, json_pack("{s:s,s:{s:[s]}}", "execute", "qmp_capabilities",
				  "arguments", "enable", "oob"));
	put_request(&b, json_pack("{s:s}", "execute", "qmp_capabilities"));
	put_request(&b, json_pack("{s:s}", "execute", "no-such-command"));
	put_request(&b, json_pack("{s:s,s:{s:i}}", "execute", "migrate", "arguments", "uri", 1));
	put_request(&b, json_pack("{s:s,s:{s:s,s:i}}", "execute", "human-monitor-command",
				  "arguments", "command-line", "info registers -a", "cpu-index",
				  0));
	put_request(&b, json_pack("{s:i,s:s}", "execute", 5, "unexpected", "x"));
	put_request(&b, json_pack("[s]", "execute"));
	vmgenid_bytebuf_append(&b, "\"scalar\" 42 true {\"execute\": \"stop\"\n", 37);
	vmgenid_bytebuf_append(&b, "{\"execute\":\"query-status\",\"execute\":\"stop\"}\r\n", 45);
	write_seed("qmp", "refusals", b.data, b.len);
	vmgenid_bytebuf_free(&b);
}

static void gen_hmp(void)
{
	write_text("hmp", "commands",
		   "help\r\ninfo\r\ninfo status\r\ninfo vm-generation-id\r\ninfo version\r\n"
		   "info migrate\r\ninfo registers\r\ninfo registers -a\r\ninfo registers 1\r\n"
		   "stop\r\ncont\r\nsystem_reset\nsystem_powerdown\nhelp info\nhelp stop\n");
	write_text("hmp", "migrate",
		   "migrate -d \"file:/var/lib/vm/base snap\"\rinfo migrate\r\n"
		   "migrate exec:gzip -c > /tmp/x.gz\nmigrate\nmigrate bogus:x\nq\n");
	write_text("hmp", "editing",
		   "inf\x7fo stat\bus\r\n\x1b[A\x1bOB\x1b[1;5Cstop extra\r\nbogus\r\n"
		   "info status now\r\ninfo registers x\r\n");
}

static void gen_chardev(void)
{
	static const char *const specs[] = {
		"unix:/run/vm.qmp,server=on,wait=off",
		"tcp:127.0.0.1:4444,server=on,wait=off",
		"tcp:[::1]:4444,server=on",
		"tcp::5555,server",
		"stdio",
		"stdio,signal=off",
		"pipe:/tmp/vm-monitor",
		"/dev/ttyS1",
	};

	for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
		char name[16];

		snprintf(name, sizeof(name), "spec%zu", i);
		write_text("chardev", name, specs[i]);
	}
}

int main(int argc, char **argv)
{
	static struct recorder booted;
	struct fuzz_firmware fw;
	struct vmgenid_bios_loader_exec ex;

	if (argc != 2) {
		fprintf(stderr, "usage: gen_corpus DIR\n");
		return 2;
	}
	outdir = argv[1];
	fuzz_quiet_logs();
	gen_fw_cfg(&booted, &fw, &ex);
	gen_bios_loader();
	gen_snapshot(&booted);
	gen_aml(&booted, &ex);
	gen_qmp();
	gen_hmp();
	gen_chardev();
	recorder_destroy(&booted);
	return 0;
}
