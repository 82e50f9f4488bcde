// SPDX-License-Identifier: MIT
/*
 * genvm's command line, driven as a user would: argv in, a config or a
 * "genvm: ..." message and a refusal out.  Kernel files are synthesized
 * setup headers, so every rule of the boot-protocol check can be broken
 * one at a time.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <cmocka.h>

#include "vmgenid/endian.h"

#include "bzimage.h"
#include "cli.h"

#define HOST_RAM (8ull << 30)
#define GUID_TEXT "324e6eaf-d1d1-4bf6-bf41-b9bb6c91fb87"

static char dir[64];
static char kernel[96], initrd[96], notkernel[96];

struct run {
	enum cli_result result;
	struct genvm_config cfg;
	char *out;
	char *err;
	size_t out_len, err_len;
};

static void make_kernel(const char *path, void (*tweak)(uint8_t *hdr, size_t *len))
{
	uint8_t buf[8192] = { 0 };
	size_t len = sizeof(buf);
	FILE *f;

	buf[BZ_SETUP_SECTS] = 4;
	vmgenid_put_le16(buf + BZ_BOOT_FLAG, 0xaa55);
	vmgenid_put_le32(buf + BZ_HEADER, BZ_HDRS_MAGIC);
	vmgenid_put_le16(buf + BZ_VERSION, 0x020f);
	buf[BZ_LOADFLAGS] = BZ_LOADED_HIGH;
	vmgenid_put_le32(buf + BZ_INITRD_ADDR_MAX, 0x7fffffff);
	vmgenid_put_le32(buf + BZ_KERNEL_ALIGNMENT, 0x200000);
	vmgenid_put_le16(buf + BZ_XLOADFLAGS, BZ_XLF_KERNEL_64);
	vmgenid_put_le32(buf + BZ_CMDLINE_SIZE, 64);
	vmgenid_put_le64(buf + BZ_PREF_ADDRESS, 0x1000000);
	vmgenid_put_le32(buf + BZ_INIT_SIZE, 0x1000000); /* 16M at 16M: fits 48M with room */
	if (tweak)
		tweak(buf, &len);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, len, f), len);
	fclose(f);
}

static int setup(void **state)
{
	FILE *f;

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_cli.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(kernel, sizeof(kernel), "%s/bzImage", dir);
	snprintf(initrd, sizeof(initrd), "%s/initrd", dir);
	snprintf(notkernel, sizeof(notkernel), "%s/notkernel", dir);
	make_kernel(kernel, NULL);
	f = fopen(initrd, "wb");
	if (!f)
		return -1;
	fputs("070701 not really a cpio, the CLI does not care", f);
	fclose(f);
	f = fopen(notkernel, "wb");
	if (!f)
		return -1;
	for (int i = 0; i < 4096; i++)
		fputc('x', f);
	fclose(f);
	return 0;
}

static int teardown(void **state)
{
	char path[128];

	(void)state;
	for (const char *const *n = (const char *const[]){ "bzImage", "initrd", "notkernel",
							      "k2", NULL };
	     *n; n++) {
		snprintf(path, sizeof(path), "%s/%s", dir, *n);
		unlink(path);
	}
	rmdir(dir);
	return 0;
}

/* Parse a NULL-terminated list of arguments (argv[0] added here). */
static void parse_with(struct run *r, uint64_t host_ram, const char *first, ...)
{
	char *argv[64];
	int argc = 0;
	va_list ap;
	FILE *out, *err;

	argv[argc++] = (char *)"genvm";
	va_start(ap, first);
	for (const char *a = first; a && argc < 63; a = va_arg(ap, const char *))
		argv[argc++] = (char *)a;
	va_end(ap);
	argv[argc] = NULL;

	out = open_memstream(&r->out, &r->out_len);
	err = open_memstream(&r->err, &r->err_len);
	assert_non_null(out);
	assert_non_null(err);
	r->result = cli_parse(argc, argv, &r->cfg, host_ram, out, err);
	fclose(out);
	fclose(err);
}

#define parse(r, ...) parse_with(r, HOST_RAM, __VA_ARGS__, NULL)

static void done(struct run *r)
{
	free(r->out);
	free(r->err);
}

/* The run was refused with exactly one "genvm: " line containing what. */
static void assert_refused(struct run *r, const char *what)
{
	assert_int_equal(r->result, CLI_ERROR);
	if (!strstr(r->err, what))
		fail_msg("expected '%s' in: %s", what, r->err);
	assert_memory_equal(r->err, "genvm: ", 7);
	assert_ptr_equal(strchr(r->err, '\n'), r->err + strlen(r->err) - 1);
	done(r);
}

static void test_defaults(void **state)
{
	struct run r;

	(void)state;
	parse(&r, "-kernel", kernel);
	assert_int_equal(r.result, CLI_RUN);
	assert_int_equal(r.cfg.ram_size, 256ull << 20);
	assert_int_equal(r.cfg.nr_cpus, 1);
	assert_string_equal(r.cfg.cmdline, "");
	assert_null(r.cfg.initrd_path);
	assert_false(r.cfg.vmgenid);
	assert_false(r.cfg.nographic);
	assert_false(r.cfg.no_reboot);
	/* The sandbox is on unless said otherwise, and exec: may start commands. */
	assert_true(r.cfg.sandbox);
	assert_true(r.cfg.sandbox_spawn);
	assert_int_equal(r.cfg.kernel.version, 0x020f);
	assert_int_equal(r.cfg.kernel.setup_size, 5 * 512);
	assert_int_equal(r.cfg.kernel.kernel_size, 8192 - 5 * 512);
	assert_int_equal(r.err_len, 0);
	done(&r);
}

static void test_full_command_line(void **state)
{
	struct run r;

	(void)state;
	parse(&r, "-m", "1G", "-smp", "4", "-kernel", kernel, "-initrd", initrd, "-append",
	      "console=ttyS0 quiet", "-device", "vmgenid,guid=" GUID_TEXT, "-nographic",
	      "-no-reboot");
	assert_int_equal(r.result, CLI_RUN);
	assert_int_equal(r.cfg.ram_size, 1ull << 30);
	assert_int_equal(r.cfg.nr_cpus, 4);
	assert_string_equal(r.cfg.kernel_path, kernel);
	assert_string_equal(r.cfg.initrd_path, initrd);
	assert_string_equal(r.cfg.cmdline, "console=ttyS0 quiet");
	assert_int_equal(r.cfg.initrd_size, strlen("070701 not really a cpio, the CLI does not care"));
	assert_true(r.cfg.vmgenid);
	assert_int_equal(r.cfg.guid.bytes[0], 0x32);
	assert_int_equal(r.cfg.guid.bytes[15], 0x87);
	assert_true(r.cfg.nographic);
	assert_true(r.cfg.no_reboot);
	done(&r);
}

static void test_double_dash_and_smp_cpus(void **state)
{
	struct run r;

	(void)state;
	parse(&r, "--m", "size=512M", "--smp", "cpus=2", "--kernel", kernel);
	assert_int_equal(r.result, CLI_RUN);
	assert_int_equal(r.cfg.ram_size, 512ull << 20);
	assert_int_equal(r.cfg.nr_cpus, 2);
	done(&r);
}

static void test_sizes(void **state)
{
	static const struct {
		const char *text;
		uint64_t bytes;
	} good[] = {
		{ "256", 256ull << 20 },  { "256M", 256ull << 20 }, { "256m", 256ull << 20 },
		{ "1G", 1ull << 30 },     { "2g", 2ull << 30 },     { "1T", 1ull << 40 },
		{ "65536K", 64ull << 20 }, { "512MB", 512ull << 20 },
		/* QEMU's decimal fractions of the unit. */
		{ "1.5G", 1536ull << 20 }, { "0.25G", 256ull << 20 }, { "2.", 2ull << 20 },
		{ "0.5K", 512 },          { "1.125M", 1152ull << 10 },
	};
	static const char *const bad[] = { "", "M", "-1", "0.1M", "1.0000000001G", ".5G", "1..5G",
					   "12Q", "1GG", "99999999999999999999",
					   "17179869184G" };
	const char *why;
	uint64_t bytes;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(cli_parse_size(good[i].text, &bytes, &why), 0);
		assert_int_equal(bytes, good[i].bytes);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why = NULL;
		if (cli_parse_size(bad[i], &bytes, &why) != -EINVAL)
			fail_msg("'%s' accepted", bad[i]);
		assert_non_null(why);
	}
}

static void test_memory_refusals(void **state)
{
	struct run r;

	(void)state;
	parse(&r, "-m", "abc", "-kernel", kernel);
	assert_refused(&r, "-m abc: not a size");
	parse(&r, "-m", "16M", "-kernel", kernel);
	assert_refused(&r, "-m 16M: too small");
	parse(&r, "-m", "1000K", "-kernel", kernel);
	assert_refused(&r, "whole number of MiB");
	parse(&r, "-m", "16G", "-kernel", kernel);
	assert_refused(&r, "-m 16384M: larger than the host's memory (8192M)");
	/* The synthesized kernel needs 16M + 16M + the 1M high zone. */
	parse(&r, "-m", "32M", "-kernel", kernel);
	assert_refused(&r, "too small for this kernel (needs at least 33M)");
	parse(&r, "-m", "33M", "-kernel", kernel);
	assert_int_equal(r.result, CLI_RUN);
	done(&r);
	/* QEMU's other spellings: size=, a fraction; no hotplug. */
	parse(&r, "-m", "size=1.5G", "-kernel", kernel);
	assert_int_equal(r.result, CLI_RUN);
	assert_int_equal(r.cfg.ram_size, 1536ull << 20);
	done(&r);
	parse(&r, "-m", "512M,slots=2,maxmem=4G", "-kernel", kernel);
	assert_refused(&r, "genvm has no memory hotplug");
	parse(&r, "-m", "size=512M,bogus=1", "-kernel", kernel);
	assert_refused(&r, "Invalid parameter 'bogus'");
}

static void test_smp_refusals(void **state)
{
	struct run r;

	(void)state;
	parse(&r, "-smp", "0", "-kernel", kernel);
	assert_refused(&r, "-smp 0: number of CPUs must be between 1 and 254");
	parse(&r, "-smp", "255", "-kernel", kernel);
	assert_refused(&r, "between 1 and 254");
	parse(&r, "-smp", "two", "-kernel", kernel);
	assert_refused(&r, "genvm: -smp two: Parameter 'smp.cpus' expects integer\n");
	parse(&r, "-smp", "2x", "-kernel", kernel);
	assert_refused(&r, "Parameter 'smp.cpus' expects integer");
	/* QEMU 7.2's words for a topology that does not multiply out. */
	parse(&r, "-smp", "4,sockets=1,cores=1,threads=1", "-kernel", kernel);
	assert_refused(&r, "genvm: -smp 4,sockets=1,cores=1,threads=1: Invalid CPU topology: "
			   "product of the hierarchy must match maxcpus: sockets (1) * cores (1) * "
			   "threads (1) != maxcpus (4)\n");
	parse(&r, "-smp", "4,sockets=1,dies=1,cores=3,threads=1", "-kernel", kernel);
	assert_refused(&r, "sockets (1) * dies (1) * cores (3) * threads (1) != maxcpus (4)\n");
	parse(&r, "-smp", "2,maxcpus=1", "-kernel", kernel);
	assert_refused(&r, "Invalid CPU topology: maxcpus must be equal to or greater than smp: "
			   "sockets (1) * cores (1) * threads (1) == maxcpus (1) < smp_cpus (2)");
	/* No CPU hotplug: maxcpus is the count. */
	parse(&r, "-smp", "2,sockets=2,cores=1,threads=1,maxcpus=4", "-kernel", kernel);
	assert_refused(&r, "sockets (2) * cores (1) * threads (1) != maxcpus (4)");
	parse(&r, "-smp", "2,sockets=4,maxcpus=4", "-kernel", kernel);
	assert_refused(&r, "genvm has no CPU hotplug: maxcpus must equal the CPU count");
	parse(&r, "-smp", "cpus=2,foo=1", "-kernel", kernel);
	assert_refused(&r, "genvm: -smp cpus=2,foo=1: Parameter 'smp.foo' is unexpected\n");
}

static void test_smp_topology(void **state)
{
	static const struct {
		const char *arg;
		unsigned int cpus;
	} good[] = {
		{ "1,sockets=1,cores=1,threads=1", 1 }, /* libvirt's */
		{ "4,sockets=1,cores=2,threads=2", 4 },
		{ "sockets=2,cores=2", 4 },               /* the count is the product */
		{ "cpus=6,cores=3", 6 },                  /* sockets computed: 2 */
		{ "8,sockets=2,dies=2,cores=2,threads=1,maxcpus=8", 8 },
		{ "3", 3 },
	};
	struct run r;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		parse(&r, "-smp", good[i].arg, "-kernel", kernel);
		if (r.result != CLI_RUN)
			fail_msg("-smp %s refused: %s", good[i].arg, r.err);
		assert_int_equal(r.cfg.nr_cpus, good[i].cpus);
		assert_true(r.cfg.nr_cpus_given);
		done(&r);
	}
}

/* What libvirt writes for a guest with a vmgenid device, less its PCI and disks. */
static void test_libvirt_command_line(void **state)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char chardev[160], sock[96], pidfile[96];
	struct run r;
	int fd;

	(void)state;
	snprintf(sock, sizeof(sock), "%s/monitor.sock", dir);
	snprintf(pidfile, sizeof(pidfile), "%s/vm.pid", dir);
	memcpy(sa.sun_path, sock, strlen(sock) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 1), 0);
	snprintf(chardev, sizeof(chardev), "socket,id=charmonitor,fd=%d,server=on,wait=off", fd);
	parse(&r, "-name", "guest=vm1,debug-threads=on", "-S", "-machine",
	      "pc-i440fx-7.2,usb=off,dump-guest-core=off,accel=kvm", "-accel", "kvm", "-cpu", "host,migratable=on",
	      "-m", "256", "-smp", "1,sockets=1,cores=1,threads=1", "-uuid", GUID_TEXT,
	      "-no-user-config", "-nodefaults", "-chardev", chardev, "-mon",
	      "chardev=charmonitor,id=monitor,mode=control", "-device",
	      "{\"driver\":\"vmgenid\",\"guid\":\"" GUID_TEXT "\",\"id\":\"vmgenid0\"}",
	      "-daemonize", "-pidfile", pidfile, "-kernel", kernel);
	if (r.result != CLI_RUN)
		fail_msg("refused: %s", r.err);
	assert_string_equal(r.cfg.name, "vm1");
	assert_true(r.cfg.name_given);
	assert_int_equal(r.cfg.uuid.bytes[0], 0x32);
	assert_int_equal(r.cfg.uuid.bytes[15], 0x87);
	assert_true(r.cfg.vmgenid);
	assert_int_equal(r.cfg.guid.bytes[0], 0x32);
	assert_true(r.cfg.start_paused);
	assert_true(r.cfg.daemonize);
	assert_string_equal(r.cfg.pidfile, pidfile);
	assert_int_equal(r.cfg.nr_qmp, 1);
	assert_int_equal(r.cfg.qmp[0].spec.kind, CHARDEV_FD);
	assert_int_equal(r.cfg.qmp[0].spec.fd, fd);
	assert_false(r.cfg.qmp[0].spec.wait);
	assert_int_equal(r.cfg.nr_monitor, 0);
	/* -nodefaults and -daemonize: no console unless -serial says where. */
	assert_true(r.cfg.serial_null);
	done(&r);

	/* mode=readline is the human monitor; -name NAME is the short form. */
	snprintf(chardev, sizeof(chardev), "socket,id=hmp,path=%s/h.sock,server=on,wait=off", dir);
	parse(&r, "-name", "vm2", "-chardev", chardev, "-mon", "hmp", "-kernel", kernel);
	assert_int_equal(r.result, CLI_RUN);
	assert_string_equal(r.cfg.name, "vm2");
	assert_int_equal(r.cfg.nr_monitor, 1);
	assert_int_equal(r.cfg.monitor[0].spec.kind, CHARDEV_UNIX);
	assert_false(r.cfg.serial_null);
	done(&r);

	/* The rest of what libvirt 9 writes for QEMU 7.2 (less PCI devices and -no-shutdown). */
	parse(&r, "-name", "guest=vm1,debug-threads=on", "-S", "-object",
	      "{\"qom-type\":\"secret\",\"id\":\"masterKey0\",\"format\":\"raw\","
	      "\"file\":\"/var/lib/libvirt/qemu/domain-1-vm1/master-key.aes\"}",
	      "-machine", "pc-q35-7.2,usb=off,vmport=off,dump-guest-core=off,memory-backend=pc.ram",
	      "-accel", "kvm", "-cpu", "host,migratable=on", "-m", "512", "-object",
	      "{\"qom-type\":\"memory-backend-ram\",\"id\":\"pc.ram\",\"size\":536870912}",
	      "-overcommit", "mem-lock=off", "-smp", "2,sockets=2,cores=1,threads=1",
	      "-no-user-config", "-nodefaults", "-rtc", "base=utc,driftfix=slew", "-global",
	      "kvm-pit.lost_tick_policy=delay", "-no-hpet", "-global", "ICH9-LPC.disable_s3=1",
	      "-global", "ICH9-LPC.disable_s4=1", "-boot", "strict=on", "-device",
	      "{\"driver\":\"vmgenid\",\"guid\":\"" GUID_TEXT "\",\"id\":\"vmgenid0\"}",
	      "-sandbox", "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny",
	      "-msg", "timestamp=on", "-kernel", kernel);
	if (r.result != CLI_RUN)
		fail_msg("refused: %s", r.err);
	assert_int_equal(r.cfg.ram_size, 512ull << 20);
	assert_int_equal(r.cfg.nr_cpus, 2);
	assert_true(r.cfg.msg_timestamp);
	assert_false(r.cfg.sandbox_spawn);
	done(&r);
	/* The backend's size is the RAM's; keyval spelling too. */
	parse(&r, "-machine", "q35,memory-backend=mem", "-object", "memory-backend-ram,id=mem,size=1G",
	      "-kernel", kernel);
	assert_int_equal(r.result, CLI_RUN);
	assert_int_equal(r.cfg.ram_size, 1ull << 30);
	done(&r);
	parse(&r, "-machine", "q35,memory-backend=mem", "-m", "512", "-object",
	      "memory-backend-ram,id=mem,size=1G", "-kernel", kernel);
	assert_refused(&r, "genvm: -machine: the memory backend's size differs from -m's\n");
	parse(&r, "-machine", "q35,memory-backend=nope", "-kernel", kernel);
	assert_refused(&r, "memory-backend=nope: no -object memory-backend-ram with that id");
	parse(&r, "-object", "memory-backend-file,id=m,size=1G,mem-path=/dev/hugepages", "-kernel", kernel);
	assert_refused(&r, "genvm has no 'memory-backend-file' objects (memory-backend-ram and secret only)");
	parse(&r, "-object", "memory-backend-ram,id=m,size=1G,share=on", "-kernel", kernel);
	assert_refused(&r, "Property 'memory-backend-ram.share' not found");
	parse(&r, "-object", "iothread,id=io1", "-kernel", kernel);
	assert_refused(&r, "genvm has no 'iothread' objects");
	parse(&r, "-no-shutdown", "-kernel", kernel);
	assert_int_equal(r.result, CLI_RUN);
	assert_true(r.cfg.no_shutdown);
	done(&r);
	parse(&r, "-kernel", kernel);
	assert_int_equal(r.result, CLI_RUN);
	assert_false(r.cfg.no_shutdown);
	done(&r);
	parse(&r, "-rtc", "base=localtime", "-kernel", kernel);
	assert_refused(&r, "genvm has no RTC");
	parse(&r, "-global", "PIIX4_PM.disable_s3=0", "-kernel", kernel);
	assert_refused(&r, "genvm's machine cannot be changed so");
	parse(&r, "-overcommit", "mem-lock=on", "-kernel", kernel);
	assert_refused(&r, "genvm neither locks guest RAM");
	parse(&r, "-boot", "order=c", "-kernel", kernel);
	assert_refused(&r, "genvm boots -kernel itself");

	/* An fd that is not a listening socket. */
	parse(&r, "-chardev", "socket,id=c,fd=0,server=on,wait=off", "-kernel", kernel);
	assert_refused(&r, "genvm: -chardev socket,id=c,fd=0,server=on,wait=off: File descriptor '0' is not a socket\n");
	close(fd);
	unlink(sock);
}

static void test_qemu_option_refusals(void **state)
{
	static const struct {
		const char *opt, *arg, *msg;
	} bad[] = {
		{ "-uuid", "xyz", "genvm: -uuid xyz: failed to parse UUID string: wrong format\n" },
		{ "-name", "guest=x,bogus=1", "genvm: -name guest=x,bogus=1: Invalid parameter 'bogus'\n" },
		{ "-machine", "bogus", "genvm: -machine bogus: unsupported machine type" },
		{ "-M", "pc,foo=bar", "Property 'pc-machine.foo' not found" },
		{ "-machine", "q35,usb=on", "genvm's machine has no usb (usb=off)" },
		{ "-machine", "pc,accel=tcg", "genvm runs guests on KVM only" },
		{ "-accel", "foo", "genvm: -accel foo: invalid accelerator foo\n" },
		{ "-accel", "tcg", "genvm runs guests on KVM only (accelerator tcg)" },
		{ "-cpu", "qemu64", "genvm offers the host's CPU model only (-cpu host)" },
		{ "-machine", "pc,mem-merge=on",
		  "genvm: -machine pc,mem-merge=on: genvm does not offer guest RAM to KSM (mem-merge=off)\n" },
		{ "-boot", "menu=on", "genvm: -boot menu=on: genvm has no boot menu (menu=off)\n" },
		{ "-boot", "menu=maybe", "genvm: -boot menu=maybe: Parameter 'menu' expects 'on' or 'off'\n" },
		{ "-msg", "guest-name=on", "genvm does not put the guest's name in its messages (guest-name=off)" },
		{ "-overcommit", "cpu-pm=on", "genvm neither locks guest RAM" },
		/* Longer than the property buffer (64 bytes for -boot and -smp). */
		{ "-boot", "order=cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc",
		  "genvm: -boot order=cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc: "
		  "a property is too long\n" },
		{ "-smp", "2,cores=1111111111111111111111111111111111111111111111111111111111111111",
		  "a property is too long" },
		{ "-cpu", "host,+avx512f", "cannot add or remove one" },
		{ "-device", "{\"driver\":\"vmgenid\",\"guid\":\"xyz\"}",
		  "genvm: -device {\"driver\":\"vmgenid\",\"guid\":\"xyz\"}: Property 'vmgenid.guid' "
		  "doesn't take value 'xyz'\n" },
		{ "-device", "{\"driver\":\"vmgenid\",\"bogus\":\"xyz\"}", "Property 'vmgenid.bogus' not found" },
		{ "-device", "{\"guid\":\"auto\"}", "Parameter 'driver' is missing" },
		{ "-device", "{\"driver\":", "not a JSON object" },
		{ "-device", "{\"driver\":\"e1000\"}", "'e1000' is not a valid device model name" },
		{ "-chardev", "socket,path=/tmp/x,server=on", "chardev: no id specified" },
		{ "-chardev", "bogus,id=x", "'bogus' is not a valid char driver name" },
		{ "-chardev", "vc,id=x", "genvm has no 'vc' character backend" },
		{ "-chardev", "pty,id=x", "genvm: -chardev pty,id=x: no -mon or -serial uses it\n" },
		{ "-chardev", "socket,id=x,path=/tmp/x", "client mode is not supported: add server=on" },
		{ "-chardev", "null,id=x", "genvm: -chardev null,id=x: no -mon or -serial uses it\n" },
		{ "-mon", "chardev=nope", "genvm: -mon chardev=nope: chardev \"nope\" not found\n" },
		{ "-serial", "bogus:", "genvm: -serial bogus:: 'bogus:' is not a valid char driver\n" },
		{ "-serial", "vc", "genvm's console goes to stdio, file:PATH, pty, unix:PATH,server=on, "
				   "tcp:HOST:PORT,server=on, null or none" },
		{ "-serial", "unix:/tmp/c.sock", "genvm: -serial unix:/tmp/c.sock: client mode is not "
						 "supported: add server=on\n" },
		{ "-readconfig", "/nonexistent.cfg",
		  "genvm: -readconfig /nonexistent.cfg: Could not open '/nonexistent.cfg': No such file or directory\n" },
	};
	struct run r;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		parse(&r, "-kernel", kernel, bad[i].opt, bad[i].arg);
		if (r.result != CLI_ERROR || !strstr(r.err, bad[i].msg))
			fail_msg("%s %s: expected '%s', got: %s", bad[i].opt, bad[i].arg, bad[i].msg,
				 r.err);
		assert_ptr_equal(strchr(r.err, '\n'), r.err + strlen(r.err) - 1);
		done(&r);
	}
	/* The console on a pty: QEMU's label, serial0 or the chardev's id. */
	parse(&r, "-kernel", kernel, "-serial", "pty");
	assert_int_equal(r.result, CLI_RUN);
	assert_true(r.cfg.serial_pty);
	assert_string_equal(r.cfg.serial_pty_label, "serial0");
	done(&r);
	parse(&r, "-kernel", kernel, "-chardev", "pty,id=charserial0", "-serial", "chardev:charserial0",
	      "-daemonize");
	assert_int_equal(r.result, CLI_RUN);
	assert_true(r.cfg.serial_pty);
	assert_false(r.cfg.serial_null);
	assert_string_equal(r.cfg.serial_pty_label, "charserial0");
	done(&r);
	parse(&r, "-kernel", kernel, "-chardev", "pty,id=m", "-mon", "chardev=m");
	assert_refused(&r, "a monitor needs a two-way chardev");
	parse(&r, "-kernel", kernel, "-chardev", "null,id=a", "-chardev", "null,id=a");
	assert_refused(&r, "genvm: -chardev null,id=a: Duplicate ID 'a' for chardev\n");
	parse(&r, "-kernel", kernel, "-daemonize", "-nographic");
	assert_refused(&r, "genvm: -daemonize: -nographic cannot be used with -daemonize\n");
	parse(&r, "-kernel", kernel, "-daemonize", "-qmp", "stdio");
	assert_refused(&r, "cannot use stdio with -daemonize");
	parse(&r, "-kernel", kernel, "-serial", "null", "-serial", "stdio");
	assert_refused(&r, "genvm has one serial port");
	parse(&r, "-kernel", kernel, "-uuid");
	assert_refused(&r, "genvm: -uuid: requires an argument\n");
	parse(&r, "-kernel", kernel, "-pidfile");
	assert_refused(&r, "genvm: -pidfile: requires an argument\n");
}

static void test_serial(void **state)
{
	char file[96], chardev[128];
	struct run r;

	(void)state;
	snprintf(file, sizeof(file), "file:%s/console.log", dir);
	parse(&r, "-kernel", kernel, "-serial", file);
	assert_int_equal(r.result, CLI_RUN);
	assert_string_equal(r.cfg.serial_file, file + 5);
	done(&r);
	snprintf(chardev, sizeof(chardev), "file,id=charserial0,path=%s/c,,1.log", dir);
	parse(&r, "-kernel", kernel, "-nodefaults", "-chardev", chardev, "-serial", "chardev:charserial0");
	assert_int_equal(r.result, CLI_RUN);
	assert_non_null(strstr(r.cfg.serial_file, "/c,1.log"));
	assert_false(r.cfg.serial_null);
	assert_false(r.cfg.serial_append);
	done(&r);
	parse(&r, "-kernel", kernel, "-chardev", "file,id=s,path=/x.log,append=on", "-serial",
	      "chardev:s");
	assert_int_equal(r.result, CLI_RUN);
	assert_string_equal(r.cfg.serial_file, "/x.log");
	assert_true(r.cfg.serial_append);
	done(&r);
	parse(&r, "-kernel", kernel, "-serial", "null");
	assert_int_equal(r.result, CLI_RUN);
	assert_true(r.cfg.serial_null);
	done(&r);
	parse(&r, "-kernel", kernel, "-nodefaults");
	assert_true(r.cfg.serial_null);
	done(&r);
	parse(&r, "-kernel", kernel, "-nodefaults", "-serial", "stdio");
	assert_false(r.cfg.serial_null);
	assert_true(r.cfg.serial_stdout);
	done(&r);

	/* The console on a listening socket: -serial unix:/tcp:, or a socket chardev. */
	parse(&r, "-kernel", kernel, "-serial", "unix:/tmp/c.sock,server=on,wait=off");
	assert_int_equal(r.result, CLI_RUN);
	assert_true(r.cfg.serial_socket);
	assert_int_equal(r.cfg.serial_chardev.spec.kind, CHARDEV_UNIX);
	assert_string_equal(r.cfg.serial_chardev.spec.path, "/tmp/c.sock");
	assert_false(r.cfg.serial_chardev.spec.wait);
	assert_false(r.cfg.serial_null);
	done(&r);
	/* wait=on (QEMU's default for a server): the guest starts once a client is there. */
	parse(&r, "-kernel", kernel, "-serial", "tcp:127.0.0.1:4555,server=on");
	assert_int_equal(r.result, CLI_RUN);
	assert_int_equal(r.cfg.serial_chardev.spec.kind, CHARDEV_TCP);
	assert_true(r.cfg.serial_chardev.spec.wait);
	done(&r);
	parse(&r, "-kernel", kernel, "-nodefaults", "-daemonize", "-chardev",
	      "socket,id=charserial0,path=/tmp/c.sock,server=on,wait=off", "-serial",
	      "chardev:charserial0");
	assert_int_equal(r.result, CLI_RUN);
	assert_true(r.cfg.serial_socket);
	assert_false(r.cfg.serial_null);
	assert_string_equal(r.cfg.serial_chardev.spec.path, "/tmp/c.sock");
	assert_string_equal(r.cfg.serial_chardev.text,
			    "socket,id=charserial0,path=/tmp/c.sock,server=on,wait=off");
	done(&r);
	/* One socket, one user: the console and a monitor cannot share it. */
	parse(&r, "-kernel", kernel, "-chardev", "socket,id=s,path=/tmp/c.sock,server=on,wait=off",
	      "-serial", "chardev:s", "-mon", "chardev=s");
	assert_refused(&r, "Device 's' is in use");
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* The sections LXD and Incus write, those genvm has devices for. */
static void test_readconfig(void **state)
{
	char cfgfile[96], sock[96], text[1024], expect[256];
	struct run r;

	(void)state;
	snprintf(cfgfile, sizeof(cfgfile), "%s/qemu.conf", dir);
	snprintf(sock, sizeof(sock), "%s/qmp.sock", dir);
	snprintf(text, sizeof(text),
		 "# Machine\n[machine]\ngraphics = \"off\"\ntype = \"q35\"\naccel = \"kvm\"\n"
		 "usb = \"off\"\n\n[memory]\nsize = \"1024M\"\n\n[smp-opts]\ncpus = \"2\"\n"
		 "sockets = \"1\"\ncores = \"2\"\nthreads = \"1\"\n\n"
		 "[chardev \"monitor\"]\n  backend = \"socket\"\n  path = \"%s\"\n"
		 "  server = \"on\"\n  wait = \"off\"\n\n[mon]\n  chardev = \"monitor\"\n"
		 "  mode = \"control\"\n\n"
		 "# VM generation ID\n[device \"dev-lxd_vmgenid\"]\ndriver = \"vmgenid\"\n"
		 "guid = \"" GUID_TEXT "\"\n",
		 sock);
	write_file(cfgfile, text);
	parse(&r, "-kernel", kernel, "-S", "-readconfig", cfgfile);
	if (r.result != CLI_RUN)
		fail_msg("refused: %s", r.err);
	assert_true(r.cfg.vmgenid);
	assert_int_equal(r.cfg.guid.bytes[0], 0x32);
	assert_int_equal(r.cfg.ram_size, 1024ull << 20);
	assert_int_equal(r.cfg.nr_cpus, 2);
	assert_int_equal(r.cfg.nr_qmp, 1);
	assert_string_equal(r.cfg.qmp[0].spec.path, sock);
	done(&r);

	write_file(cfgfile, "[device \"vmgenid0\"]\n  driver = \"vmgenid\"\n  guid = \"xyz\"\n");
	parse(&r, "-kernel", kernel, "-readconfig", cfgfile);
	snprintf(expect, sizeof(expect), "genvm: %s:1: Property 'vmgenid.guid' doesn't take value 'xyz'\n",
		 cfgfile);
	assert_refused(&r, expect);
	write_file(cfgfile, "[bogus]\n  a = \"b\"\n");
	parse(&r, "-kernel", kernel, "-readconfig", cfgfile);
	snprintf(expect, sizeof(expect), "genvm: %s:1: There is no option group 'bogus'\n", cfgfile);
	assert_refused(&r, expect);
	write_file(cfgfile, "[global]\n");
	parse(&r, "-kernel", kernel, "-readconfig", cfgfile);
	assert_refused(&r, "genvm does not read [global] sections");
	write_file(cfgfile, "[device \"x\"]\ndriver = vmgenid\n");
	parse(&r, "-kernel", kernel, "-readconfig", cfgfile);
	snprintf(expect, sizeof(expect), "genvm: %s:2: parse error\n", cfgfile);
	assert_refused(&r, expect);
	write_file(cfgfile, "[device \"a\"]\ndriver = \"vmgenid\"\n[device \"b\"]\ndriver = \"vmgenid\"\n");
	parse(&r, "-kernel", kernel, "-readconfig", cfgfile);
	assert_refused(&r, ":3: at most one vmgenid device is permitted\n");
	write_file(cfgfile, "[device \"p\"]\ndriver = \"pcie-root-port\"\nbus = \"pcie.0\"\n");
	parse(&r, "-kernel", kernel, "-readconfig", cfgfile);
	assert_refused(&r, "'pcie-root-port' is not a valid device model name");
	write_file(cfgfile, "key = \"v\"\n");
	parse(&r, "-kernel", kernel, "-readconfig", cfgfile);
	assert_refused(&r, ":1: no group defined\n");
	unlink(cfgfile);
}

static void test_kernel_refusals(void **state)
{
	char missing[128];
	struct run r;

	(void)state;
	parse(&r, "-m", "256M");
	assert_refused(&r, "genvm: -kernel: a kernel is required");
	snprintf(missing, sizeof(missing), "%s/nope", dir);
	parse(&r, "-kernel", missing);
	assert_refused(&r, "No such file or directory");
	parse(&r, "-kernel", dir);
	assert_refused(&r, "not a regular file");
	parse(&r, "-kernel", notkernel);
	assert_refused(&r, "not a bzImage (no \"HdrS\" boot header)");
}

static void old_protocol(uint8_t *h, size_t *len)
{
	(void)len;
	vmgenid_put_le16(h + BZ_VERSION, 0x020b);
}

static void not_64bit(uint8_t *h, size_t *len)
{
	(void)len;
	vmgenid_put_le16(h + BZ_XLOADFLAGS, 0);
}

static void zimage(uint8_t *h, size_t *len)
{
	(void)len;
	h[BZ_LOADFLAGS] = 0;
}

static void truncated(uint8_t *h, size_t *len)
{
	(void)h;
	*len = 5 * 512;
}

static void too_short(uint8_t *h, size_t *len)
{
	(void)h;
	*len = 0x200;
}

static void no_boot_flag(uint8_t *h, size_t *len)
{
	(void)len;
	vmgenid_put_le16(h + BZ_BOOT_FLAG, 0);
}

static void huge_init_size(uint8_t *h, size_t *len)
{
	(void)len;
	vmgenid_put_le32(h + BZ_INIT_SIZE, 0x10000000);
}

static void test_bad_boot_headers(void **state)
{
	static const struct {
		void (*tweak)(uint8_t *, size_t *);
		const char *why;
	} cases[] = {
		{ old_protocol, "boot protocol older than 2.12" },
		{ not_64bit, "not a 64-bit kernel (XLF_KERNEL_64 not set)" },
		{ zimage, "a zImage, not a bzImage" },
		{ truncated, "truncated" },
		{ too_short, "too short to be a bzImage" },
		{ no_boot_flag, "not a bzImage" },
	};
	char k2[128];
	struct run r;

	(void)state;
	snprintf(k2, sizeof(k2), "%s/k2", dir);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		make_kernel(k2, cases[i].tweak);
		parse(&r, "-kernel", k2);
		assert_refused(&r, cases[i].why);
	}
	/* A kernel that needs 256M + 16M does not fit the default 256M. */
	make_kernel(k2, huge_init_size);
	parse(&r, "-kernel", k2);
	assert_refused(&r, "-m 256M: too small for this kernel (needs at least 273M)");
	parse(&r, "-m", "512M", "-kernel", k2);
	assert_int_equal(r.result, CLI_RUN);
	done(&r);
}

static void test_initrd_and_append_refusals(void **state)
{
	char missing[128], longline[80];
	struct run r;

	(void)state;
	snprintf(missing, sizeof(missing), "%s/nope", dir);
	parse(&r, "-kernel", kernel, "-initrd", missing);
	assert_refused(&r, "-initrd");
	parse(&r, "-kernel", kernel, "-initrd", missing);
	assert_refused(&r, "No such file or directory");
	parse(&r, "-kernel", kernel, "-initrd", dir);
	assert_refused(&r, "not a regular file");
	/* The synthesized kernel takes 64 bytes of command line. */
	memset(longline, 'a', 65);
	longline[65] = '\0';
	parse(&r, "-kernel", kernel, "-append", longline);
	assert_refused(&r, "-append: longer than this kernel accepts (64 bytes)");
	longline[64] = '\0';
	parse(&r, "-kernel", kernel, "-append", longline);
	assert_int_equal(r.result, CLI_RUN);
	done(&r);
}

static void test_vmgenid_device(void **state)
{
	struct run r;
	struct genvm_config first;

	(void)state;
	parse(&r, "-kernel", kernel, "-device", "vmgenid");
	assert_int_equal(r.result, CLI_RUN);
	assert_true(r.cfg.vmgenid);
	/* No guid means auto: a random version-4 GUID, fresh each time. */
	assert_int_equal(r.cfg.guid.bytes[6] >> 4, 4);
	assert_int_equal(r.cfg.guid.bytes[8] >> 6, 2);
	first = r.cfg;
	done(&r);
	parse(&r, "-kernel", kernel, "-device", "vmgenid,guid=auto,id=vmgenid0");
	assert_int_equal(r.result, CLI_RUN);
	assert_int_equal(r.cfg.guid.bytes[6] >> 4, 4);
	assert_memory_not_equal(r.cfg.guid.bytes, first.guid.bytes, 16);
	done(&r);
	parse(&r, "-kernel", kernel, "-device", "vmgenid,guid=" GUID_TEXT);
	assert_int_equal(r.result, CLI_RUN);
	assert_int_equal(r.cfg.guid.bytes[0], 0x32);
	done(&r);
}

static void test_vmgenid_refusals(void **state)
{
	struct run r;

	(void)state;
	parse(&r, "-kernel", kernel, "-device", "vmgenid", "-device", "vmgenid,guid=auto");
	assert_refused(&r, "genvm: -device vmgenid,guid=auto: at most one vmgenid device is permitted\n");
	/* The bad value is echoed, with vmgenid_guid_parse's reason. */
	parse(&r, "-kernel", kernel, "-device", "vmgenid,guid=324e6eaf-d1d1-4bf6-bf41");
	assert_refused(&r, "genvm: -device vmgenid,guid=324e6eaf-d1d1-4bf6-bf41: Property 'vmgenid.guid' doesn't take value '324e6eaf-d1d1-4bf6-bf41'\n");
	parse(&r, "-kernel", kernel, "-device", "vmgenid,guid=324e6eaf-d1d1-4bf6-bf41-b9bb6c91fbzz");
	assert_refused(&r, "Property 'vmgenid.guid' doesn't take value '324e6eaf-d1d1-4bf6-bf41-b9bb6c91fbzz'");
	parse(&r, "-kernel", kernel, "-device", "vmgenid,guid=");
	assert_refused(&r, "Property 'vmgenid.guid' doesn't take value ''");
	parse(&r, "-kernel", kernel, "-device", "vmgenid,color=blue");
	assert_refused(&r, "genvm: -device vmgenid,color=blue: Property 'vmgenid.color' not found");
	parse(&r, "-kernel", kernel, "-device", "virtio-scsi-device");
	assert_refused(&r, "genvm: -device virtio-scsi-device: 'virtio-scsi-device' is not a valid "
			   "device model name");
	parse(&r, "-kernel", kernel, "-device", "vmgenidx");
	assert_refused(&r, "'vmgenidx' is not a valid device model name");
}

static void test_vmclock_device(void **state)
{
	struct run r;

	(void)state;
	parse(&r, "-kernel", kernel);
	assert_false(r.cfg.vmclock);
	done(&r);
	parse(&r, "-kernel", kernel, "-device", "vmclock");
	assert_int_equal(r.result, CLI_RUN);
	assert_true(r.cfg.vmclock);
	assert_false(r.cfg.vmgenid);
	done(&r);
	/* Either order, with QEMU's id= accepted, beside a vmgenid. */
	parse(&r, "-kernel", kernel, "-device", "vmclock,id=clk0", "-device", "vmgenid");
	assert_int_equal(r.result, CLI_RUN);
	assert_true(r.cfg.vmclock);
	assert_true(r.cfg.vmgenid);
	done(&r);

	parse(&r, "-kernel", kernel, "-device", "vmclock", "-device", "vmclock");
	assert_refused(&r, "genvm: -device vmclock: only one vmclock device is allowed");
	parse(&r, "-kernel", kernel, "-device", "vmclock,guid=auto");
	assert_refused(&r, "genvm: -device vmclock: unknown property 'guid=auto'");
	parse(&r, "-kernel", kernel, "-device", "vmclock,id=a,tsc=on");
	assert_refused(&r, "unknown property 'tsc=on'");
	parse(&r, "-kernel", kernel, "-device", "vmclockx");
	assert_refused(&r, "is not a valid device model name (genvm has vmgenid, vmclock, "
			   "virtio-blk-device, virtio-rng-device, vsock, vhost-vsock-device, "
			   "virtio-net-device)");
}

static void test_vsock(void **state)
{
	char long_path[128];
	struct run r;

	(void)state;
	parse(&r, "-kernel", kernel, "-device", "virtio-rng-device", "-device",
	      "vsock,guest-cid=42,uds=/run/vm/v.sock,id=vs0");
	assert_int_equal(r.result, CLI_RUN);
	assert_int_equal(r.cfg.nr_virtio, 2);
	assert_int_equal(r.cfg.virtio[1].kind, CLI_VIRTIO_VSOCK);
	assert_int_equal(r.cfg.vsock.guest_cid, 42);
	assert_string_equal(r.cfg.vsock.uds, "/run/vm/v.sock");
	done(&r);
	/* The guest CID only names the guest to itself here: 3 unless given. */
	parse(&r, "-kernel", kernel, "-device", "vsock,uds=/v.sock");
	assert_int_equal(r.result, CLI_RUN);
	assert_int_equal(r.cfg.vsock.guest_cid, 3);
	done(&r);
	parse(&r, "-kernel", kernel, "-device", "vhost-vsock-device,guest-cid=4294967294");
	assert_int_equal(r.result, CLI_RUN);
	assert_int_equal(r.cfg.virtio[0].kind, CLI_VIRTIO_VHOST_VSOCK);
	assert_int_equal(r.cfg.vsock.guest_cid, 4294967294u);
	done(&r);

	parse(&r, "-kernel", kernel, "-device", "vsock,guest-cid=2,uds=/v.sock");
	assert_refused(&r, "genvm: -device vsock: 'guest-cid=2': a guest CID is 3 to 4294967294 "
			   "(0-2 are reserved)");
	parse(&r, "-kernel", kernel, "-device", "vhost-vsock-device,guest-cid=0");
	assert_refused(&r, "genvm: -device vhost-vsock-device: 'guest-cid=0': a guest CID is 3");
	parse(&r, "-kernel", kernel, "-device", "vsock,guest-cid=4294967295,uds=/v.sock");
	assert_refused(&r, "'guest-cid=4294967295': a guest CID is 3 to 4294967294");
	parse(&r, "-kernel", kernel, "-device", "vsock,guest-cid=3x,uds=/v.sock");
	assert_refused(&r, "'guest-cid=3x': expected a number");
	parse(&r, "-kernel", kernel, "-device", "vsock,guest-cid=-5,uds=/v.sock");
	assert_refused(&r, "'guest-cid=-5': expected a number");
	parse(&r, "-kernel", kernel, "-device", "vsock,guest-cid=");
	assert_refused(&r, "'guest-cid=': expected a number");
	parse(&r, "-kernel", kernel, "-device", "vsock,guest-cid=5");
	assert_refused(&r, "genvm: -device vsock,guest-cid=5: uds=PATH is required");
	parse(&r, "-kernel", kernel, "-device", "vsock,uds=");
	assert_refused(&r, "'uds=': empty path");
	/* PATH_4294967295 must fit the 108 bytes of a unix socket address. */
	snprintf(long_path, sizeof(long_path), "vsock,uds=/%096d", 0);
	parse(&r, "-kernel", kernel, "-device", long_path);
	assert_refused(&r, "longer than 96 bytes (PATH_PORT must fit a unix socket address)");
	snprintf(long_path, sizeof(long_path), "vsock,uds=/%095d", 0);
	parse(&r, "-kernel", kernel, "-device", long_path);
	assert_int_equal(r.result, CLI_RUN);
	done(&r);
	parse(&r, "-kernel", kernel, "-device", "vhost-vsock-device");
	assert_refused(&r, "guest-cid=N is required");
	parse(&r, "-kernel", kernel, "-device", "vhost-vsock-device,guest-cid=5,uds=/v.sock");
	assert_refused(&r, "'uds=/v.sock': unknown property");
	parse(&r, "-kernel", kernel, "-device", "vsock,uds=/v.sock,port=5");
	assert_refused(&r, "'port=5': unknown property");
	/* One vsock device, of either kind. */
	parse(&r, "-kernel", kernel, "-device", "vsock,uds=/a.sock", "-device", "vsock,uds=/b.sock");
	assert_refused(&r, "genvm: -device vsock,uds=/b.sock: only one vsock device is allowed");
	parse(&r, "-kernel", kernel, "-device", "vsock,uds=/a.sock", "-device",
	      "vhost-vsock-device,guest-cid=9");
	assert_refused(&r, "only one vsock device is allowed");
}

static void test_drives(void **state)
{
	struct run r;

	(void)state;
	/* Two disks and an entropy source, in command-line order. */
	parse(&r, "-kernel", kernel, "-drive", "file=/a.img,format=raw,if=virtio",
	      "-device", "virtio-rng-device",
	      "-drive", "file=/b,,c.img,if=none,id=d1,readonly=on,cache=none,snapshot=on",
	      "-device", "virtio-blk-device,drive=d1,serial=SN-42");
	assert_int_equal(r.result, CLI_RUN);
	assert_int_equal(r.cfg.nr_drives, 2);
	assert_string_equal(r.cfg.drives[0].file, "/a.img");
	assert_true(r.cfg.drives[0].if_virtio);
	assert_false(r.cfg.drives[0].readonly);
	assert_false(r.cfg.drives[0].direct);
	assert_false(r.cfg.drives[0].snapshot);
	assert_string_equal(r.cfg.drives[1].file, "/b,c.img"); /* ",," is a comma */
	assert_string_equal(r.cfg.drives[1].id, "d1");
	assert_true(r.cfg.drives[1].readonly);
	assert_true(r.cfg.drives[1].direct);
	assert_true(r.cfg.drives[1].snapshot);
	assert_false(r.cfg.drives[1].if_virtio);
	assert_int_equal(r.cfg.nr_virtio, 3);
	assert_int_equal(r.cfg.virtio[0].kind, CLI_VIRTIO_BLK);
	assert_int_equal(r.cfg.virtio[0].drive, 0);
	assert_string_equal(r.cfg.virtio[0].serial, "");
	assert_int_equal(r.cfg.virtio[1].kind, CLI_VIRTIO_RNG);
	assert_int_equal(r.cfg.virtio[2].kind, CLI_VIRTIO_BLK);
	assert_int_equal(r.cfg.virtio[2].drive, 1);
	assert_string_equal(r.cfg.virtio[2].serial, "SN-42");
	done(&r);
	/* format= may be left out (raw is all there is); cache=writeback is the default. */
	parse(&r, "-kernel", kernel, "-drive", "if=virtio,file=/a.img,cache=writeback,readonly=off");
	assert_int_equal(r.result, CLI_RUN);
	assert_int_equal(r.cfg.nr_virtio, 1);
	assert_false(r.cfg.drives[0].readonly);
	done(&r);
}

static void test_drive_refusals(void **state)
{
	struct run r;

	(void)state;
	parse(&r, "-kernel", kernel, "-drive", "file=/a.img,format=qcow2,if=virtio");
	assert_refused(&r, "'format=qcow2': unsupported format");
	parse(&r, "-kernel", kernel, "-drive", "file=/a.img,if=ide");
	assert_refused(&r, "'if=ide': unsupported interface");
	parse(&r, "-kernel", kernel, "-drive", "file=/a.img,format=raw");
	assert_refused(&r, "if=virtio or if=none is required");
	parse(&r, "-kernel", kernel, "-drive", "format=raw,if=virtio");
	assert_refused(&r, "file=PATH is required");
	parse(&r, "-kernel", kernel, "-drive", "file=,if=virtio");
	assert_refused(&r, "empty file name");
	parse(&r, "-kernel", kernel, "-drive", "file=/a.img,if=virtio,readonly=maybe");
	assert_refused(&r, "'readonly=maybe': expected on or off");
	parse(&r, "-kernel", kernel, "-drive", "file=/a.img,if=virtio,cache=unsafe");
	assert_refused(&r, "'cache=unsafe': unsupported cache mode");
	parse(&r, "-kernel", kernel, "-drive", "file=/a.img,if=virtio,aio=native");
	assert_refused(&r, "'aio=native': unknown property");
	parse(&r, "-kernel", kernel, "-drive", "file=/a.img,if=none");
	assert_refused(&r, "needs id=ID");
	parse(&r, "-kernel", kernel, "-drive", "file=/a.img,if=none,id=9x");
	assert_refused(&r, "'id=9x': an id is a letter");
	/* A drive id used twice, or never used. */
	parse(&r, "-kernel", kernel, "-drive", "file=/a.img,if=none,id=d0",
	      "-drive", "file=/b.img,if=none,id=d0");
	assert_refused(&r, "drive id 'd0' is already used");
	parse(&r, "-kernel", kernel, "-drive", "file=/a.img,if=none,id=d0");
	assert_refused(&r, "genvm: -drive id=d0: no -device virtio-blk-device,drive=d0 uses it");
	/* A device naming a drive that is not there, or is taken. */
	parse(&r, "-kernel", kernel, "-device", "virtio-blk-device,drive=nope");
	assert_refused(&r, "no -drive with id 'nope' (give -drive ...,if=none,id=nope first)");
	parse(&r, "-kernel", kernel, "-device", "virtio-blk-device");
	assert_refused(&r, "drive=ID is required");
	parse(&r, "-kernel", kernel, "-drive", "file=/a.img,if=none,id=d0",
	      "-device", "virtio-blk-device,drive=d0", "-device", "virtio-blk-device,drive=d0");
	assert_refused(&r, "drive 'd0' is already in use");
	parse(&r, "-kernel", kernel, "-drive", "file=/a.img,if=virtio,id=d0",
	      "-device", "virtio-blk-device,drive=d0");
	assert_refused(&r, "drive 'd0' is already in use");
	parse(&r, "-kernel", kernel, "-drive", "file=/a.img,if=none,id=d0",
	      "-device", "virtio-blk-device,drive=d0,serial=123456789012345678901");
	assert_refused(&r, "longer than the 20 bytes");
	parse(&r, "-kernel", kernel, "-drive", "file=/a.img,if=none,id=d0",
	      "-device", "virtio-blk-device,drive=d0,num-queues=4");
	assert_refused(&r, "'num-queues=4': unknown property");
	parse(&r, "-kernel", kernel, "-device", "virtio-rng-device,rng=rng0");
	assert_refused(&r, "'rng=rng0': unknown property");
	/* At most eight virtio devices: the MMIO windows there are. */
	parse(&r, "-kernel", kernel, "-device", "virtio-rng-device", "-device", "virtio-rng-device",
	      "-device", "virtio-rng-device", "-device", "virtio-rng-device",
	      "-device", "virtio-rng-device", "-device", "virtio-rng-device",
	      "-device", "virtio-rng-device", "-device", "virtio-rng-device",
	      "-device", "virtio-rng-device");
	assert_refused(&r, "too many virtio devices");
}

static void test_option_refusals(void **state)
{
	struct run r;

	(void)state;
	parse(&r, "-kernel", kernel, "-x");
	assert_refused(&r, "genvm: -x: invalid option\n");
	parse(&r, "-kernel", kernel, "--bogus");
	assert_refused(&r, "genvm: --bogus: invalid option\n");
	parse(&r, "-kernel", kernel, "stray");
	assert_refused(&r, "unexpected argument 'stray'");
	parse(&r, "-kernel");
	assert_refused(&r, "genvm: -kernel: requires an argument\n");
	parse(&r, "-kernel", kernel, "-m");
	assert_refused(&r, "genvm: -m: requires an argument\n");
}

static void test_incoming(void **state)
{
	struct run r;

	(void)state;
	parse(&r, "-kernel", kernel, "-incoming", "file:/tmp/vm.snap");
	assert_int_equal(r.result, CLI_RUN);
	assert_string_equal(r.cfg.incoming, "file:/tmp/vm.snap");
	/* Neither given: the snapshot's machine will be adopted. */
	assert_false(r.cfg.ram_size_given);
	assert_false(r.cfg.nr_cpus_given);
	done(&r);

	parse(&r, "-m", "512M", "-smp", "2", "-kernel", kernel, "-incoming",
	      "exec:gzip -dc /tmp/vm.snap.gz");
	assert_int_equal(r.result, CLI_RUN);
	assert_string_equal(r.cfg.incoming, "exec:gzip -dc /tmp/vm.snap.gz");
	assert_true(r.cfg.ram_size_given);
	assert_true(r.cfg.nr_cpus_given);
	done(&r);

	parse(&r, "-kernel", kernel, "-incoming", "tcp:0:4444");
	assert_refused(&r, "genvm: -incoming tcp:0:4444: expected file:PATH, exec:COMMAND, fd:N or defer");
	/* fd:N is an inherited descriptor, checked open. */
	parse(&r, "-kernel", kernel, "-incoming", "fd:0");
	assert_int_equal(r.result, CLI_RUN);
	assert_string_equal(r.cfg.incoming, "fd:0");
	done(&r);
	parse(&r, "-kernel", kernel, "-incoming", "fd:999");
	assert_refused(&r, "genvm: -incoming fd:999: not an open file descriptor\n");
	parse(&r, "-kernel", kernel, "-incoming", "fd:x");
	assert_refused(&r, "expected file:PATH, exec:COMMAND, fd:N or defer");
	/* defer: QMP migrate-incoming gives the URI later. */
	parse(&r, "-kernel", kernel, "-incoming", "defer", "-S");
	assert_int_equal(r.result, CLI_RUN);
	assert_string_equal(r.cfg.incoming, "defer");
	assert_true(r.cfg.incoming_defer);
	assert_true(r.cfg.start_paused);
	done(&r);
	parse(&r, "-kernel", kernel, "-incoming", "file:/tmp/x.snap");
	assert_int_equal(r.result, CLI_RUN);
	assert_false(r.cfg.incoming_defer);
	done(&r);
	parse(&r, "-kernel", kernel, "-incoming", "deferred");
	assert_refused(&r, "genvm: -incoming deferred: expected file:PATH, exec:COMMAND, fd:N or defer");
	parse(&r, "-kernel", kernel, "-incoming", "file:");
	assert_refused(&r, "expected file:PATH, exec:COMMAND, fd:N or defer");
	parse(&r, "-kernel", kernel, "-incoming", "exec:");
	assert_refused(&r, "expected file:PATH, exec:COMMAND, fd:N or defer");
	parse(&r, "-kernel", kernel, "-incoming");
	assert_refused(&r, "genvm: -incoming: requires an argument");
}

static void test_management_channels(void **state)
{
	struct run r;

	(void)state;
	parse(&r, "-kernel", kernel, "-S", "-qmp", "unix:/tmp/q.sock,server=on,wait=off", "-qmp",
	      "tcp:127.0.0.1:4444,server=on,wait=off", "-monitor", "unix:/tmp/m.sock,server=on");
	assert_int_equal(r.result, CLI_RUN);
	assert_true(r.cfg.start_paused);
	assert_int_equal(r.cfg.nr_qmp, 2);
	assert_string_equal(r.cfg.qmp[0].text, "unix:/tmp/q.sock,server=on,wait=off");
	assert_int_equal(r.cfg.qmp[0].spec.kind, CHARDEV_UNIX);
	assert_false(r.cfg.qmp[0].spec.wait);
	assert_int_equal(r.cfg.qmp[1].spec.kind, CHARDEV_TCP);
	assert_int_equal(r.cfg.nr_monitor, 1);
	assert_true(r.cfg.monitor[0].spec.wait);
	/* Nothing on stdio: the guest console keeps stdout, no monitor behind C-a c. */
	assert_true(r.cfg.serial_stdout);
	assert_false(r.cfg.mux_monitor);
	done(&r);

	/* -nographic: console on stdio, the monitor behind C-a c. */
	parse(&r, "-kernel", kernel, "-nographic", "-qmp", "unix:/q,server=on");
	assert_int_equal(r.result, CLI_RUN);
	assert_true(r.cfg.serial_stdout);
	assert_true(r.cfg.mux_monitor);
	assert_false(r.cfg.start_paused);
	done(&r);
	/* ... unless the monitor is elsewhere or none. */
	parse(&r, "-kernel", kernel, "-nographic", "-monitor", "unix:/m,server=on");
	assert_false(r.cfg.mux_monitor);
	done(&r);
	parse(&r, "-kernel", kernel, "-nographic", "-monitor", "none");
	assert_false(r.cfg.mux_monitor);
	assert_int_equal(r.cfg.nr_monitor, 0);
	done(&r);

	/* QMP on stdio: the console must not write into the protocol. */
	parse(&r, "-kernel", kernel, "-qmp", "stdio");
	assert_int_equal(r.result, CLI_RUN);
	assert_false(r.cfg.serial_stdout);
	done(&r);
	parse(&r, "-kernel", kernel, "-monitor", "stdio");
	assert_false(r.cfg.serial_stdout);
	done(&r);
}

static void test_management_refusals(void **state)
{
	struct run r;

	(void)state;
	parse(&r, "-kernel", kernel, "-nographic", "-qmp", "stdio");
	assert_refused(&r, "-qmp stdio: stdio is already used by -nographic");
	parse(&r, "-kernel", kernel, "-nographic", "-monitor", "stdio");
	assert_refused(&r, "-monitor stdio: stdio is already used by -nographic");
	parse(&r, "-kernel", kernel, "-qmp", "stdio", "-monitor", "stdio");
	assert_refused(&r, "-monitor stdio: stdio is already used by -qmp");
	parse(&r, "-kernel", kernel, "-qmp", "unix:/q");
	assert_refused(&r, "-qmp unix:/q: client mode is not supported");
	parse(&r, "-kernel", kernel, "-qmp", "vc");
	assert_refused(&r, "-qmp vc: unknown character device");
	parse(&r, "-kernel", kernel, "-monitor", "tcp:1.2.3.4:0,server=on");
	assert_refused(&r, "port must be");
	{
		/* A host name longer than 255 characters: one line, nothing overflows. */
		char arg[300] = "tcp:";

		memset(arg + 4, 'A', 269);
		strcpy(arg + 4 + 269, ":1,server=on");
		parse(&r, "-kernel", kernel, "-qmp", arg);
		assert_refused(&r, "host name too long (at most 255 characters)");
	}
	parse(&r, "-kernel", kernel, "-qmp", "pipe:/a", "-qmp", "pipe:/b", "-qmp", "pipe:/c",
	      "-qmp", "pipe:/d", "-qmp", "pipe:/e");
	assert_refused(&r, "-qmp pipe:/e: too many (at most 4)");
	parse(&r, "-kernel", kernel, "-qmp");
	assert_refused(&r, "genvm: -qmp: requires an argument");
}

static void test_nics(void **state)
{
	struct run r;

	(void)state;
	/* Two NICs on taps: the first with QEMU's default MAC, one given, one more default. */
	parse(&r, "-kernel", kernel, "-netdev", "tap,id=n0,ifname=tap0,script=no,downscript=no",
	      "-device", "virtio-net-device,netdev=n0",
	      "-netdev", "tap,id=n1,ifname=tap1,vhost=off",
	      "-device", "virtio-net-device,netdev=n1,mac=02:AB:cd:00:00:01,id=nic1",
	      "-nic", "tap,ifname=tap2,script=no,model=virtio-net-device");
	assert_int_equal(r.result, CLI_RUN);
	assert_int_equal(r.cfg.nr_netdevs, 3);
	assert_string_equal(r.cfg.netdevs[0].id, "n0");
	assert_string_equal(r.cfg.netdevs[0].ifname, "tap0");
	assert_string_equal(r.cfg.netdevs[2].ifname, "tap2");
	assert_int_equal(r.cfg.nr_virtio, 3);
	assert_int_equal(r.cfg.virtio[0].kind, CLI_VIRTIO_NET);
	assert_int_equal(r.cfg.virtio[0].netdev, 0);
	assert_memory_equal(r.cfg.virtio[0].mac, ((uint8_t[]){ 0x52, 0x54, 0, 0x12, 0x34, 0x56 }), 6);
	assert_int_equal(r.cfg.virtio[1].netdev, 1);
	/* vhost=off as without it; vhost=on is the netdev's, whichever NIC uses it. */
	assert_false(r.cfg.netdevs[0].vhost);
	assert_false(r.cfg.netdevs[1].vhost);
	assert_memory_equal(r.cfg.virtio[1].mac, ((uint8_t[]){ 0x02, 0xab, 0xcd, 0, 0, 1 }), 6);
	assert_int_equal(r.cfg.virtio[2].kind, CLI_VIRTIO_NET);
	assert_int_equal(r.cfg.virtio[2].netdev, 2);
	assert_memory_equal(r.cfg.virtio[2].mac, ((uint8_t[]){ 0x52, 0x54, 0, 0x12, 0x34, 0x57 }), 6);
	done(&r);
	/* vhost=on, on -netdev and on -nic: the netdev asks for the host's vhost-net. */
	parse(&r, "-kernel", kernel, "-netdev", "tap,id=n0,ifname=tap0,vhost=on",
	      "-device", "virtio-net-device,netdev=n0", "-nic", "tap,ifname=tap1,vhost=on",
	      "-nic", "tap,ifname=tap2");
	assert_int_equal(r.result, CLI_RUN);
	assert_int_equal(r.cfg.nr_netdevs, 3);
	assert_true(r.cfg.netdevs[0].vhost);
	assert_true(r.cfg.netdevs[1].vhost);
	assert_false(r.cfg.netdevs[2].vhost);
	/* Errors about a -nic's tap name the -nic (devices.c), not its made-up id. */
	assert_false(r.cfg.netdevs[0].nic);
	assert_true(r.cfg.netdevs[1].nic);
	assert_true(r.cfg.netdevs[2].nic);
	done(&r);
	/*
	 * QEMU's default skips the addresses NICs before it have, given or
	 * default: a given ...:56 first makes the default ...:57, a given
	 * ...:58 then makes the next default ...:59.  A later NIC does not
	 * count: the default before it keeps ...:56 even if it is given later.
	 */
	parse(&r, "-kernel", kernel, "-nic", "tap,ifname=t0,mac=52:54:00:12:34:56", "-nic",
	      "tap,ifname=t1", "-nic", "tap,ifname=t2,mac=52:54:00:12:34:58", "-nic",
	      "tap,ifname=t3", "-nic", "tap,ifname=t4,mac=02:54:00:12:34:5a", "-nic", "tap,ifname=t5");
	assert_int_equal(r.result, CLI_RUN);
	assert_int_equal(r.cfg.virtio[1].mac[5], 0x57);
	assert_int_equal(r.cfg.virtio[3].mac[5], 0x59);
	assert_int_equal(r.cfg.virtio[5].mac[5], 0x5a);
	assert_memory_equal(r.cfg.virtio[5].mac, ((uint8_t[]){ 0x52, 0x54, 0, 0x12, 0x34, 0x5a }), 6);
	done(&r);
	parse(&r, "-kernel", kernel, "-nic", "tap,ifname=t0", "-nic",
	      "tap,ifname=t1,mac=52:54:00:12:34:56");
	assert_int_equal(r.result, CLI_RUN);
	assert_int_equal(r.cfg.virtio[0].mac[5], 0x56);
	done(&r);
	/* -nic none is QEMU's "no network". */
	parse(&r, "-kernel", kernel, "-nic", "none");
	assert_int_equal(r.result, CLI_RUN);
	assert_int_equal(r.cfg.nr_virtio, 0);
	done(&r);
}

static void test_nic_refusals(void **state)
{
	struct run r;

	(void)state;
	parse(&r, "-kernel", kernel, "-device", "virtio-net-device,netdev=nope");
	assert_refused(&r, "no -netdev with id 'nope' (give -netdev tap,id=nope first)");
	parse(&r, "-kernel", kernel, "-device", "virtio-net-device");
	assert_refused(&r, "netdev=ID is required");
	parse(&r, "-kernel", kernel, "-netdev", "tap,id=n0,ifname=tap0");
	assert_refused(&r, "genvm: -netdev id=n0: no -device virtio-net-device,netdev=n0 uses it");
	parse(&r, "-kernel", kernel, "-netdev", "tap,id=n0", "-device", "virtio-net-device,netdev=n0",
	      "-device", "virtio-net-device,netdev=n0");
	assert_refused(&r, "netdev 'n0' is already in use by another device");
	parse(&r, "-kernel", kernel, "-netdev", "tap,id=n0", "-netdev", "tap,id=n0");
	assert_refused(&r, "netdev id 'n0' is already used");
	parse(&r, "-kernel", kernel, "-netdev", "tap,id=n0,ifname=t", "-netdev", "tap,id=n1,ifname=t");
	assert_refused(&r, "ifname 't' is already netdev 'n0''s");
	parse(&r, "-kernel", kernel, "-netdev", "tap,ifname=tap0");
	assert_refused(&r, "id=ID is required");
	parse(&r, "-kernel", kernel, "-netdev", "user,id=n0");
	assert_refused(&r, "genvm: -netdev user,id=n0: unsupported netdev type (genvm has tap)");
	parse(&r, "-kernel", kernel, "-netdev", "tap,id=n0,vhost=sure");
	assert_refused(&r, "'vhost=sure': expected on or off");
	parse(&r, "-kernel", kernel, "-netdev", "tap,id=n0,script=/etc/qemu-ifup");
	assert_refused(&r, "genvm runs no scripts");
	parse(&r, "-kernel", kernel, "-netdev", "tap,id=n0,ifname=a-name-longer-than15");
	assert_refused(&r, "an interface name is 1 to 15 characters");
	parse(&r, "-kernel", kernel, "-netdev", "tap,id=n0,ifname=../x");
	assert_refused(&r, "an interface name is 1 to 15 characters");
	parse(&r, "-kernel", kernel, "-netdev", "tap,id=n0,queues=4");
	assert_refused(&r, "'queues=4': unknown property");
	/* MACs: six hex bytes, unicast, not zero. */
	parse(&r, "-kernel", kernel, "-netdev", "tap,id=n0",
	      "-device", "virtio-net-device,netdev=n0,mac=52:54:00:12:34");
	assert_refused(&r, "'mac=52:54:00:12:34': expected six hex bytes");
	parse(&r, "-kernel", kernel, "-netdev", "tap,id=n0",
	      "-device", "virtio-net-device,netdev=n0,mac=52:54:00:12:34:zz");
	assert_refused(&r, "expected six hex bytes");
	parse(&r, "-kernel", kernel, "-netdev", "tap,id=n0",
	      "-device", "virtio-net-device,netdev=n0,mac=52.54.00.12.34.56");
	assert_refused(&r, "expected six hex bytes");
	/* Control bytes 0x10-0x19 are not digits, though 0x20 above them are. */
	parse(&r, "-kernel", kernel, "-netdev", "tap,id=n0",
	      "-device", "virtio-net-device,netdev=n0,mac=52:54:00:12:34:\x15\x16");
	assert_refused(&r, "expected six hex bytes");
	parse(&r, "-kernel", kernel, "-netdev", "tap,id=n0",
	      "-device", "virtio-net-device,netdev=n0,mac=01:00:5e:00:00:01");
	assert_refused(&r, "a multicast address cannot be a NIC's MAC");
	parse(&r, "-kernel", kernel, "-nic", "tap,mac=00:00:00:00:00:00");
	assert_refused(&r, "the all-zero address");
	parse(&r, "-kernel", kernel, "-nic", "tap,model=e1000");
	assert_refused(&r, "'model=e1000': unsupported model");
	parse(&r, "-kernel", kernel, "-nic", "user");
	assert_refused(&r, "unsupported netdev type");
	parse(&r, "-kernel", kernel, "-netdev", "tap,id=n0",
	      "-device", "virtio-net-device,netdev=n0,rx_queue_size=1024");
	assert_refused(&r, "'rx_queue_size=1024': unknown property");
}

static void test_sandbox(void **state)
{
	static const struct {
		const char *arg;
		bool on, spawn;
	} good[] = {
		{ "on", true, true },
		{ "off", false, true },
		{ "enable=off", false, true },
		{ "yes", true, true },
		{ "on,spawn=deny", true, false },
		{ "on,spawn=allow,obsolete=deny,elevateprivileges=deny,resourcecontrol=deny",
		  true, true },
		{ "on,elevateprivileges=children", true, true },
		/* Off, as in QEMU, checks the parameters and honours none. */
		{ "off,obsolete=allow,spawn=deny", false, false },
	};
	static const struct {
		const char *arg, *why;
	} refused[] = {
		{ "maybe", "genvm: -sandbox maybe: Parameter 'enable' expects 'on' or 'off'" },
		{ "", "Parameter 'enable' expects 'on' or 'off'" },
		{ "on,spawn=maybe", "genvm: -sandbox on,spawn=maybe: invalid argument for spawn" },
		{ "on,spawn", "invalid argument for spawn" },
		{ "on,obsolete=yes", "invalid argument for obsolete" },
		{ "on,resourcecontrol=", "invalid argument for resourcecontrol" },
		{ "on,elevateprivileges=root", "invalid argument for elevateprivileges" },
		{ "on,debug=1", "genvm: -sandbox on,debug=1: Invalid parameter 'debug'" },
		{ "off,debug=1", "Invalid parameter 'debug'" },
		{ "on,obsolete=allow", "genvm makes no obsolete system calls to allow" },
		{ "on,resourcecontrol=allow", "genvm never changes CPU affinity or scheduling" },
		{ "on,elevateprivileges=allow", "genvm never changes its user or group" },
	};
	struct run r;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		parse(&r, "-kernel", kernel, "-sandbox", good[i].arg);
		if (r.result != CLI_RUN)
			fail_msg("-sandbox %s refused: %s", good[i].arg, r.err);
		assert_int_equal(r.cfg.sandbox, good[i].on);
		assert_int_equal(r.cfg.sandbox_spawn, good[i].spawn);
		done(&r);
	}
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		parse(&r, "-kernel", kernel, "-sandbox", refused[i].arg);
		assert_refused(&r, refused[i].why);
	}
	/* The last one counts, as for QEMU's other options. */
	parse(&r, "-kernel", kernel, "-sandbox", "off", "-sandbox", "on");
	assert_int_equal(r.result, CLI_RUN);
	assert_true(r.cfg.sandbox);
	done(&r);

	/* Nothing may start a command under spawn=deny: a restore through one neither. */
	parse(&r, "-kernel", kernel, "-sandbox", "on,spawn=deny", "-incoming", "exec:cat f");
	assert_refused(&r, "genvm: -incoming exec:cat f: -sandbox on,spawn=deny forbids "
			   "starting commands");
	parse(&r, "-kernel", kernel, "-sandbox", "on,spawn=deny", "-incoming", "file:f");
	assert_int_equal(r.result, CLI_RUN);
	done(&r);
	parse(&r, "-kernel", kernel, "-sandbox", "off,spawn=deny", "-incoming", "exec:cat f");
	assert_int_equal(r.result, CLI_RUN);
	done(&r);
}

static void test_help_and_version(void **state)
{
	struct run r;

	(void)state;
	parse(&r, "--help");
	assert_int_equal(r.result, CLI_EXIT);
	assert_non_null(strstr(r.out, "usage: genvm"));
	for (const char *const *o = (const char *const[]){ "-m SIZE", "-smp N", "-kernel",
							      "-initrd", "-append", "-device vmgenid",
							      "-nographic", "-no-reboot", "-version",
							      "-qmp DEV", "-monitor DEV", "-S ",
							      "-sandbox on|off",
							      "C-a c", NULL };
	     *o; o++) {
		if (!strstr(r.out, *o))
			fail_msg("help lacks %s", *o);
	}
	assert_int_equal(r.err_len, 0);
	done(&r);
	/* Help wins over what follows, even a bad option. */
	parse(&r, "-h", "-bogus");
	assert_int_equal(r.result, CLI_EXIT);
	done(&r);
	parse(&r, "--version");
	assert_int_equal(r.result, CLI_EXIT);
	assert_string_equal(r.out, "genvm version " GENVM_VERSION
			    "\nCopyright (c) 2026 the vmgenid authors\n");
	assert_int_equal(r.err_len, 0);
	done(&r);
	parse(&r, "-version");
	assert_int_equal(r.result, CLI_EXIT);
	assert_memory_equal(r.out, "genvm version " GENVM_VERSION "\n",
			    strlen("genvm version " GENVM_VERSION "\n"));
	done(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_full_command_line),
		cmocka_unit_test(test_double_dash_and_smp_cpus),
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_memory_refusals),
		cmocka_unit_test(test_smp_refusals),
		cmocka_unit_test(test_smp_topology),
		cmocka_unit_test(test_libvirt_command_line),
		cmocka_unit_test(test_qemu_option_refusals),
		cmocka_unit_test(test_serial),
		cmocka_unit_test(test_readconfig),
		cmocka_unit_test(test_kernel_refusals),
		cmocka_unit_test(test_bad_boot_headers),
		cmocka_unit_test(test_initrd_and_append_refusals),
		cmocka_unit_test(test_vmgenid_device),
		cmocka_unit_test(test_vmgenid_refusals),
		cmocka_unit_test(test_vmclock_device),
		cmocka_unit_test(test_drives),
		cmocka_unit_test(test_drive_refusals),
		cmocka_unit_test(test_option_refusals),
		cmocka_unit_test(test_incoming),
		cmocka_unit_test(test_vsock),
		cmocka_unit_test(test_management_channels),
		cmocka_unit_test(test_management_refusals),
		cmocka_unit_test(test_nics),
		cmocka_unit_test(test_nic_refusals),
		cmocka_unit_test(test_sandbox),
		cmocka_unit_test(test_help_and_version),
	};

	return cmocka_run_group_tests_name("cli", tests, setup, teardown);
}
