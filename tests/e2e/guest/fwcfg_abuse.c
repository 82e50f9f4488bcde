// SPDX-License-Identifier: MIT
/*
 * A hostile guest program for the e2e tests: it drives genvm's fw_cfg
 * ports directly (bad selectors, data port writes, DMA requests pointing
 * outside RAM, writes to read-only files, unknown control bits, garbage
 * addresses written into etc/vmgenid_addr) and prints what the device
 * answered, one "VMGENID-E2E: abuse_NAME=RESULT" line each.  Judging the
 * answers is the host's job; that genvm survives all of it is the point.
 *
 * DMA descriptors must sit in guest-physical memory: the program locks one
 * page and looks its frame up in /proc/self/pagemap (root only).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/io.h>
#include <sys/mman.h>
#include <unistd.h>

#define FW_CFG_SEL 0x510
#define FW_CFG_DATA 0x511
#define FW_CFG_DMA_HI 0x514
#define FW_CFG_DMA_LO 0x518
#define VMGENID_FW_CFG_FILE_DIR 0x19
#define HANDOFF_EXIT_PORT 0x501 /* firmware/handoff.h */

#define DMA_ERROR 0x01u
#define DMA_READ 0x02u
#define DMA_SKIP 0x04u
#define DMA_SELECT 0x08u
#define DMA_WRITE 0x10u

static volatile uint8_t *page;  /* descriptor at 0, data at 64 */
static uint64_t page_pa;

static void mark(const char *key, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void mark(const char *key, const char *fmt, ...)
{
	va_list ap;

	printf("VMGENID-E2E: abuse_%s=", key);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

static void die(const char *what)
{
	mark("error", "%s: %s", what, strerror(errno));
	exit(1);
}

static void select_item(uint16_t key)
{
	outw(key, FW_CFG_SEL);
}

static void read_data(void *dst, size_t len)
{
	for (size_t i = 0; i < len; i++)
		((uint8_t *)dst)[i] = inb(FW_CFG_DATA);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void vmgenid_put_be32(volatile uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static int find_file(const char *name, uint16_t *key, uint32_t *size)
{
	uint8_t count[4], entry[64];

	select_item(VMGENID_FW_CFG_FILE_DIR);
	read_data(count, 4);
	for (uint32_t i = 0; i < be32(count); i++) {
		read_data(entry, sizeof(entry));
		if (!strncmp((char *)entry + 8, name, 56)) {
			*key = (uint16_t)(entry[4] << 8 | entry[5]);
			*size = be32(entry);
			return 0;
		}
	}
	return -1;
}

/* Physical address of our locked page, from /proc/self/pagemap. */
static uint64_t virt_to_phys(const volatile void *va)
{
	uint64_t entry;
	long psize = sysconf(_SC_PAGESIZE);
	int fd = open("/proc/self/pagemap", O_RDONLY);

	if (fd < 0)
		die("open /proc/self/pagemap");
	if (pread(fd, &entry, sizeof(entry), (off_t)((uintptr_t)va / (uintptr_t)psize * 8)) !=
	    sizeof(entry))
		die("read /proc/self/pagemap");
	close(fd);
	if (!(entry & (1ull << 63)) || !(entry & ((1ull << 55) - 1))) {
		errno = EPERM;
		die("page frame not visible in pagemap");
	}
	return (entry & ((1ull << 55) - 1)) * (uint64_t)psize;
}

/* Start a DMA at descriptor address desc_pa: high half, then low half. */
static void dma_kick(uint64_t desc_pa)
{
	outl(__builtin_bswap32((uint32_t)(desc_pa >> 32)), FW_CFG_DMA_HI);
	outl(__builtin_bswap32((uint32_t)desc_pa), FW_CFG_DMA_LO);
}

/* One DMA request with our page's descriptor; returns the control word after. */
static uint32_t dma(uint32_t control, uint32_t length, uint64_t address)
{
	vmgenid_put_be32(page, control);
	vmgenid_put_be32(page + 4, length);
	vmgenid_put_be32(page + 8, (uint32_t)(address >> 32));
	vmgenid_put_be32(page + 12, (uint32_t)address);
	__sync_synchronize();
	dma_kick(page_pa);
	__sync_synchronize();
	return be32((const uint8_t *)page);
}

static const char *control_name(uint32_t c)
{
	return c == 0 ? "ok" : c == DMA_ERROR ? "error" : "other";
}

static void write_addr_file(uint16_t key, uint64_t value, const char *name)
{
	for (int i = 0; i < 8; i++)
		page[64 + i] = (uint8_t)(value >> (8 * i));
	mark(name, "%s", control_name(dma(DMA_SELECT | DMA_WRITE | (uint32_t)key << 16, 8,
					   page_pa + 64)));
}

/*
 * "fwcfg_abuse status-port CODE": one 32-bit write of CODE to the port on
 * which genvm's firmware reports (HANDOFF_EXIT_PORT), as a guest OS may
 * do long after the firmware has gone.
 */
static int status_port(const char *code_text)
{
	char *end;
	unsigned long code = strtoul(code_text, &end, 0);

	if (*end || code > 0xffffffffu) {
		mark("status_port", "bad code '%s'", code_text);
		return 2;
	}
	if (ioperm(HANDOFF_EXIT_PORT, 4, 1))
		die("ioperm");
	outl((uint32_t)code, HANDOFF_EXIT_PORT);
	mark("status_port", "wrote %#lx", code);
	return 0;
}

int main(int argc, char **argv)
{
	uint8_t sig[4], zeros[8], before[16], after[16], addr_le[8];
	uint16_t guid_key, addr_key;
	uint32_t guid_size, addr_size;
	uint64_t guid_addr = 0;

	if (argc == 3 && !strcmp(argv[1], "status-port"))
		return status_port(argv[2]);
	if (argc == 2 && !strcmp(argv[1], "signature")) {
		if (ioperm(0x510, 12, 1))
			die("ioperm");
		select_item(0);
		read_data(sig, 4);
		mark("signature", "%.4s", sig);
		return 0;
	}
	if (ioperm(0x510, 12, 1))
		die("ioperm");
	page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_LOCKED,
		    -1, 0);
	if (page == MAP_FAILED)
		die("mmap");
	memset((void *)page, 0, 4096);
	page_pa = virt_to_phys(page);

	select_item(0);
	read_data(sig, 4);
	mark("signature", "%.4s", sig);

	/* An item that does not exist reads as zeros. */
	select_item(0x4321);
	read_data(zeros, sizeof(zeros));
	mark("bad_selector", "%s", memcmp(zeros, "\0\0\0\0\0\0\0\0", 8) ? "data" : "zeros");

	/* Writes to the data port are ignored. */
	select_item(0);
	outb(0xee, FW_CFG_DATA);
	select_item(0);
	read_data(sig, 4);
	mark("data_port_write", "%s", memcmp(sig, "QEMU", 4) ? "changed" : "ignored");

	if (find_file("etc/vmgenid_guid", &guid_key, &guid_size) ||
	    find_file("etc/vmgenid_addr", &addr_key, &addr_size)) {
		mark("error", "vmgenid fw_cfg files not found");
		return 1;
	}
	select_item(guid_key);
	read_data(zeros, 8); /* skip to 40 */
	for (int i = 0; i < 32; i++)
		(void)inb(FW_CFG_DATA);
	read_data(before, 16);
	select_item(addr_key);
	read_data(addr_le, 8);
	for (int i = 7; i >= 0; i--)
		guid_addr = guid_addr << 8 | addr_le[i];
	mark("addr_known", "%s", guid_addr ? "yes" : "no");

	/* A good request first, so the errors below mean something. */
	mark("dma_good_read", "%s", control_name(dma(DMA_SELECT | DMA_READ | (uint32_t)guid_key << 16,
						     16, page_pa + 64)));

	/* Into memory that is not guest RAM, or that wraps past 2^64. */
	mark("dma_read_outside_ram", "%s",
	     control_name(dma(DMA_SELECT | DMA_READ | (uint32_t)guid_key << 16, 4096,
			      0xfffffff000000000ull)));
	mark("dma_read_wrapping", "%s",
	     control_name(dma(DMA_SELECT | DMA_READ | (uint32_t)guid_key << 16, 32,
			      0xfffffffffffffff0ull)));

	/* Writing into a read-only file. */
	memset((void *)(page + 64), 0xaa, 16);
	mark("dma_write_readonly", "%s",
	     control_name(dma(DMA_SELECT | DMA_WRITE | (uint32_t)guid_key << 16, 16, page_pa + 64)));
	select_item(guid_key);
	for (int i = 0; i < 40; i++)
		(void)inb(FW_CFG_DATA);
	read_data(after, 16);
	mark("readonly_unchanged", "%s", memcmp(before, after, 16) ? "no" : "yes");

	/* Past the end of the writable file. */
	mark("dma_write_past_end", "%s",
	     control_name(dma(DMA_SELECT | DMA_WRITE | (uint32_t)addr_key << 16, 16, page_pa + 64)));

	/* Control bits the interface does not define. */
	mark("dma_unknown_bits", "%s",
	     control_name(dma(0x8000u | DMA_SELECT | DMA_READ | (uint32_t)guid_key << 16, 16,
			      page_pa + 64)));

	/* A descriptor that is not in RAM at all: nothing to answer into. */
	dma_kick(0xfffffff000000000ull);
	mark("dma_descriptor_outside_ram", "survived");

	/* Garbage GUID addresses: the device must refuse them. */
	write_addr_file(addr_key, guid_addr + 4, "addr_misaligned");
	write_addr_file(addr_key, 0x7ffffffffff00000ull, "addr_outside_ram");
	write_addr_file(addr_key, 0, "addr_zero");
	/* And the real one again, so the device keeps working. */
	write_addr_file(addr_key, guid_addr, "addr_restored");

	mark("dma_good_read_after", "%s",
	     control_name(dma(DMA_SELECT | DMA_READ | (uint32_t)guid_key << 16, 16, page_pa + 64)));
	mark("done", "yes");
	return 0;
}
