// SPDX-License-Identifier: MIT
/*
 * vmgenid: read, watch and check the Virtual Machine Generation ID from
 * inside a Linux guest.  A static table of commands drives both dispatch
 * and --help.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "check.h"
#include "genstate.h"
#include "hooks.h"
#include "probe.h"
#include "vmclock_dev.h"
#include "watch.h"

static const char *const exit_help =
	"Exit status: 0 success; 1 failure (the ID could not be read, a check\n"
	"failed, or a watch could not start); 2 usage error; 3 no VM generation ID\n"
	"device in the ACPI tables.\n";

static int usage_error(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "vmgenid: %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'vmgenid %s --help'.\n", cmd);
	return EXIT_USAGE;
}

/* getopt's own complaint would name the command as the program. */
static int bad_option(const char *cmd, int c, char **argv)
{
	if (c == ':')
		return usage_error(cmd, "option '%s' needs an argument", argv[optind - 1]);
	return usage_error(cmd, "unknown option '%s'", argv[optind - 1]);
}

/* Errors go to stderr, and as {"error": ...} to stdout under --json. */
static int fail_with(const char *cmd, bool json, int code, const char *msg)
{
	fprintf(stderr, "vmgenid: %s: %s\n", cmd, msg);
	if (json) {
		json_t *o = json_pack("{s:s, s:i}", "error", msg, "exit", code);

		json_dumpf(o, stdout, 0);
		fputc('\n', stdout);
		json_decref(o);
	}
	return code;
}

/* --- read ------------------------------------------------------------------ */

static const char *const read_help =
	"usage: vmgenid read [--json] [--counter]\n"
	"\n"
	"Print the current VM generation ID in the text form QMP's\n"
	"query-vm-generation-id prints (RFC 4122 order, lowercase).\n"
	"\n"
	"The device is found through ACPI (/sys/bus/acpi/devices and the tables\n"
	"in /sys/firmware/acpi/tables), its ADDR evaluated, and the 16 bytes\n"
	"read with an mmap of /dev/mem (root; Debian kernels need iomem=relaxed on\n"
	"the kernel command line).  If that is not possible, the fw_cfg copy in\n"
	"/sys/firmware/qemu_fw_cfg/by_name/etc/vmgenid_guid/raw is read instead\n"
	"(QEMU-style VMMs; modprobe qemu_fw_cfg).  Otherwise the error says what\n"
	"is missing and how to enable it.\n"
	"\n"
	"The VMClock device's generation counter, where the VM has one, is read\n"
	"from /dev/vmclock0 (Linux's ptp_vmclock, 6.13 and later), which needs no\n"
	"root where its node's mode allows (the GUID still needs /dev/mem or\n"
	"fw_cfg).  It goes up by one on every restore or clone.\n"
	"\n"
	"  --json     one JSON object: guid, source (devmem or fw_cfg), address,\n"
	"             device, hid, sysfs, and counter and disruption_marker when\n"
	"             /dev/vmclock0 can be read\n"
	"  --counter  the counter only (no ACPI tables, no /dev/mem); with --json\n"
	"             {counter, disruption_marker, seq_count, source}\n";

/* The counter alone: what an unprivileged process can have. */
static int read_counter(bool json)
{
	char why[PLATFORM_WHY_MAX], msg[PLATFORM_WHY_MAX + 64];
	struct vmclock_dev d;
	struct vmclock_snap s;
	int ret;

	ret = vmclock_dev_open(&d, why, sizeof(why));
	if (!ret) {
		ret = vmclock_dev_read(d.page, d.len, VMCLOCK_DEV_TRIES, &s, why, sizeof(why));
		vmclock_dev_close(&d);
	}
	if (ret) {
		snprintf(msg, sizeof(msg), "cannot read the generation counter: %s", why);
		return fail_with("read", json, ret == -ENOENT ? EXIT_NO_DEVICE : EXIT_FAIL, msg);
	}
	if (!json) {
		printf("%" PRIu64 "\n", s.counter);
	} else {
		char marker[20];
		json_t *o;

		snprintf(marker, sizeof(marker), "%016" PRIx64, s.marker);
		o = json_pack("{s:I, s:s, s:I, s:s}", "counter", (json_int_t)s.counter,
			      "disruption_marker", marker, "seq_count", (json_int_t)s.seq,
			      "source", VMCLOCK_DEV_PATH);
		json_dumpf(o, stdout, 0);
		fputc('\n', stdout);
		json_decref(o);
	}
	return fflush(stdout) ? EXIT_FAIL : EXIT_OK;
}

/* The counter into a read --json object, when there is one to read. */
static void json_add_counter(json_t *o)
{
	char why[PLATFORM_WHY_MAX], marker[20];
	struct vmclock_dev d;
	struct vmclock_snap s;
	int ret;

	ret = vmclock_dev_open(&d, why, sizeof(why));
	if (ret == -ENOENT)
		return;
	if (!ret) {
		ret = vmclock_dev_read(d.page, d.len, VMCLOCK_DEV_TRIES, &s, why, sizeof(why));
		vmclock_dev_close(&d);
	}
	if (ret) {
		json_object_set_new(o, "counter_error", json_string(why));
		return;
	}
	snprintf(marker, sizeof(marker), "%016" PRIx64, s.marker);
	json_object_set_new(o, "counter", json_integer((json_int_t)s.counter));
	json_object_set_new(o, "disruption_marker", json_string(marker));
}

static int cmd_read(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "counter", no_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char msg[3 * PLATFORM_WHY_MAX], text[VMGENID_GUID_STR_LEN + 1];
	struct probe_read r;
	struct probe p;
	bool json = false, counter = false;
	int c, ret;

	while ((c = getopt_long(argc, argv, "+:jch", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'c':
			counter = true;
			break;
		case 'h':
			fputs(read_help, stdout);
			return EXIT_OK;
		default:
			return bad_option("read", c, argv);
		}
	}
	if (optind < argc)
		return usage_error("read", "unexpected argument '%s'", argv[optind]);
	if (counter)
		return read_counter(json);

	ret = probe_device(&p);
	if (ret == -ENOENT) {
		probe_missing(&p, msg, sizeof(msg));
		/* Without a device fw_cfg may still carry the blob, but then
		 * the guest has no notification either: say so, do not guess. */
		return fail_with("read", json, EXIT_NO_DEVICE, msg);
	}
	if (ret)
		return fail_with("read", json, EXIT_FAIL, p.tables_why);

	ret = probe_read_guid(&p, &r);
	if (ret) {
		char at[32] = "";

		if (r.addr_known)
			snprintf(at, sizeof(at), " at 0x%" PRIx64, r.addr);
		snprintf(msg, sizeof(msg), "cannot read the generation ID of %s%s:\n  %s\n  %s",
			 p.dev.path, at, r.devmem_why, r.fwcfg_why);
		return fail_with("read", json, EXIT_FAIL, msg);
	}
	vmgenid_guid_format(&r.guid, text);
	if (!json) {
		printf("%s\n", text);
	} else {
		json_t *o = json_pack("{s:s, s:s, s:s, s:s}", "guid", text, "source", r.source,
				      "device", p.dev.path, "hid", p.dev.hid);

		if (r.addr_known)
			json_object_set_new(o, "address", json_integer((json_int_t)r.addr));
		if (p.have_sysdev)
			json_object_set_new(o, "sysfs", json_string(p.sysdev.name));
		if (r.devmem_why[0])
			json_object_set_new(o, "devmem_error", json_string(r.devmem_why));
		json_add_counter(o);
		json_dumpf(o, stdout, 0);
		fputc('\n', stdout);
		json_decref(o);
	}
	return fflush(stdout) ? EXIT_FAIL : EXIT_OK;
}

/* --- watch ------------------------------------------------------------------ */

static const char *const watch_help =
	"usage: vmgenid watch [--json] [--exec CMD] [--interval MS] [--once]\n"
	"                     [--state-dir DIR | --no-state] [--hooks-dir DIR | --no-hooks]\n"
	"                     [--hook-timeout S]\n"
	"\n"
	"Wait for the VM's generation to change (the VM was restored from a\n"
	"snapshot or cloned) and print one line per change:\n"
	"  TIME OLD -> NEW (METHOD)\n"
	"  TIME OLD -> NEW (METHOD) counter C0 -> C1      (with a VMClock device)\n"
	"TIME is ISO 8601 UTC; OLD and NEW are GUIDs, or 'unknown' when the ID\n"
	"cannot be read (see vmgenid read); C0 and C1 are VMClock's\n"
	"vm_generation_counter.  METHOD says how it was noticed:\n"
	"  vmclock the counter in /dev/vmclock0 moved (poll() on it where the\n"
	"          driver wakes it, Linux 7.x; else re-read every --interval ms)\n"
	"  uevent  the kernel's NEW_VMGENID=1 change event on the vmgenid device\n"
	"          (Linux 6.8, and kernels carrying that patch)\n"
	"  kmsg    the kernel's \"crng reseeded due to virtual machine fork\"\n"
	"          message on /dev/kmsg\n"
	"  poll    reading the ID every --interval milliseconds\n"
	"  missed  at the start: it changed since the generation the state file\n"
	"          holds, while no watch ran\n"
	"/dev/vmclock0 is preferred, then kernel events; the ID is polled when\n"
	"there is nothing else, or when --interval is given.  Which sources are\n"
	"in use is printed on stderr at the start.\n"
	"\n"
	"After each change, --exec's command and then every executable in the\n"
	"hooks directory (lexical order; names starting with '.' or ending in '~'\n"
	"are skipped) run one at a time, with VMGENID_OLD, VMGENID_NEW,\n"
	"VMGENID_METHOD, VMGENID_TIME, VMGENID_COUNTER_OLD and VMGENID_COUNTER_NEW\n"
	"in their environment and their output on stderr.  One that fails or\n"
	"outlives --hook-timeout (then killed, with its process group) is logged\n"
	"and the next runs all the same.\n"
	"\n"
	"  --json           one JSON object per change: time, old, new, method,\n"
	"                   and counter_old, counter_new with a VMClock device\n"
	"  --exec CMD       run CMD with /bin/sh -c after each change\n"
	"  --interval MS    poll every MS milliseconds (default 1000 when polling)\n"
	"  --once           exit after the first change\n"
	"  --state-dir DIR  keep the generation last seen in DIR/state (default\n"
	"                   $VMGENID_STATE_DIR, else /var/lib/vmgenid)\n"
	"  --no-state       keep none (no missed change is reported at the start)\n"
	"  --hooks-dir DIR  the drop-in hooks (default $VMGENID_HOOKS_DIR, else\n"
	"                   /etc/vmgenid/on-change.d)\n"
	"  --no-hooks       run none\n"
	"  --hook-timeout S seconds each hook may run (default 60)\n";

static int cmd_watch(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "exec", required_argument, NULL, 'e' },
		{ "interval", required_argument, NULL, 'i' },
		{ "once", no_argument, NULL, 'o' },
		{ "state-dir", required_argument, NULL, 's' },
		{ "no-state", no_argument, NULL, 'S' },
		{ "hooks-dir", required_argument, NULL, 'd' },
		{ "no-hooks", no_argument, NULL, 'D' },
		{ "hook-timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct watch_opts o = { .interval_ms = 1000, .hook_timeout_ms = HOOKS_TIMEOUT_S * 1000 };
	char state_default[512], hooks_default[512];
	const char *env;
	bool no_state = false, no_hooks = false;
	unsigned long ms;
	char *end;
	int c;

	/* The defaults follow VMGENID_ROOT, as every system path does. */
	env = getenv("VMGENID_STATE_DIR");
	o.state_dir = env && *env ? env : platform_path(state_default, sizeof(state_default),
							 "/var/lib/vmgenid");
	env = getenv("VMGENID_HOOKS_DIR");
	o.hooks_dir = env && *env ? env : platform_path(hooks_default, sizeof(hooks_default),
							 HOOKS_DIR);
	while ((c = getopt_long(argc, argv, "+:je:i:os:Sd:Dt:h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			o.json = true;
			break;
		case 'e':
			o.exec = optarg;
			break;
		case 'i':
			errno = 0;
			ms = strtoul(optarg, &end, 10);
			if (errno || end == optarg || *end || ms < 10 || ms > 3600000)
				return usage_error("watch", "--interval '%s': expected milliseconds "
						   "from 10 to 3600000", optarg);
			o.interval_ms = (unsigned int)ms;
			o.interval_given = true;
			break;
		case 'o':
			o.once = true;
			break;
		case 's':
			if (!*optarg)
				return usage_error("watch", "--state-dir: empty (--no-state keeps none)");
			o.state_dir = optarg;
			break;
		case 'S':
			no_state = true;
			break;
		case 'd':
			if (!*optarg)
				return usage_error("watch", "--hooks-dir: empty (--no-hooks runs none)");
			o.hooks_dir = optarg;
			break;
		case 'D':
			no_hooks = true;
			break;
		case 't':
			errno = 0;
			ms = strtoul(optarg, &end, 10);
			if (errno || end == optarg || *end || ms < 1 || ms > 86400)
				return usage_error("watch", "--hook-timeout '%s': expected seconds "
						   "from 1 to 86400", optarg);
			o.hook_timeout_ms = (unsigned int)ms * 1000;
			break;
		case 'h':
			fputs(watch_help, stdout);
			return EXIT_OK;
		default:
			return bad_option("watch", c, argv);
		}
	}
	if (optind < argc)
		return usage_error("watch", "unexpected argument '%s'", argv[optind]);
	if (no_state)
		o.state_dir = NULL;
	if (no_hooks)
		o.hooks_dir = NULL;
	return watch_run(&o);
}

/* --- check ------------------------------------------------------------------ */

static const char *const check_help =
	"usage: vmgenid check [--json]\n"
	"\n"
	"Report how this platform implements the VM Generation ID specification,\n"
	"one line per requirement: pass, fail or unknown (not observable here),\n"
	"then the evidence.\n"
	"  device   a device with a VM generation counter _HID or _CID\n"
	"  tables   the ACPI tables parse (PkgLengths, names) and checksum\n"
	"  _CID     _CID is \"VM_Gen_Counter\"\n"
	"  R6       the _HID is vendor-unique (not just the generic _CID)\n"
	"  ADDR     ADDR yields a package of two integers\n"
	"  notify   a \\_GPE._Exx/_Lxx method or a GED _EVT does Notify(dev, 0x80)\n"
	"  R1a      the GUID address is 8-byte aligned\n"
	"  R1b/R1d  it lies in an E820 reserved range (not RAM, not ACPI memory)\n"
	"  R1e      it is mapped cacheable (PAT list in debugfs, MTRRs)\n"
	"  driver   the kernel's vmgenid driver is bound to the device\n"
	"  guid     the GUID can be read and is not all zeros\n"
	"  fw_cfg   the fw_cfg copy (if any) equals the GUID in memory\n"
	"\n"
	"  --json   one JSON object: device, checks[] (id, status, title,\n"
	"           evidence), and the pass/fail/unknown counts\n"
	"\n"
	"Exits 1 if any line fails.\n";

static int cmd_check(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool json = false;
	int c;

	while ((c = getopt_long(argc, argv, "+:jh", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'h':
			fputs(check_help, stdout);
			return EXIT_OK;
		default:
			return bad_option("check", c, argv);
		}
	}
	if (optind < argc)
		return usage_error("check", "unexpected argument '%s'", argv[optind]);
	return check_run(json);
}

/* --- dispatch ----------------------------------------------------------------- */

static const struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
} commands[] = {
	{ "read", cmd_read, "print the current VM generation ID" },
	{ "watch", cmd_watch, "wait for the generation ID to change; one line per change" },
	{ "check", cmd_check, "report how the platform implements the VM Generation ID spec" },
};

static void usage(FILE *out)
{
	size_t i;

	fputs("usage: vmgenid <command> [options]\n"
	      "\n"
	      "Read the Virtual Machine Generation ID from inside a Linux guest, and\n"
	      "learn when it changes (the VM was cloned or restored from a snapshot).\n"
	      "\n"
	      "Commands:\n", out);
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-6s %s\n", commands[i].name, commands[i].summary);
	fputs("\nRun 'vmgenid <command> --help' for its options; 'vmgenid --version'\n"
	      "prints the version.\n\n", out);
	fputs(exit_help, out);
	fputs("\nEnvironment: VMGENID_ROOT, if set, is prepended to every /sys, /proc\n"
	      "and /dev path and to the default state and hooks directories (for\n"
	      "tests against a fake tree); VMGENID_STATE_DIR and VMGENID_HOOKS_DIR\n"
	      "(see vmgenid watch --help).\n", out);
}

int main(int argc, char **argv)
{
	size_t i;

	opterr = 0;
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		printf("vmgenid %s\n", VMGENID_VERSION);
		return fflush(stdout) ? EXIT_FAIL : EXIT_OK;
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].fn(argc - 1, argv + 1);
	}
	fprintf(stderr, "vmgenid: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return EXIT_USAGE;
}
