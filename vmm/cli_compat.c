// SPDX-License-Identifier: MIT
/*
 * QEMU's options that management software writes on every command line
 * (libvirt, LXD, Incus): accepted where genvm does what they ask, refused
 * in QEMU's words where it has them, else with genvm's reason.  The table
 * of answers is docs/qemu-compat.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "cli_int.h"

/* A key=value property split in place; the value is NULL for a bare word. */
static const char *split_prop(char *prop)
{
	char *eq = strchr(prop, '=');

	if (!eq)
		return NULL;
	*eq = '\0';
	return eq + 1;
}

/*
 * The next property of a QEMU list (cli_next_prop) into prop, split: *v is
 * its value, NULL for a bare word.  1, 0 at the end, or -1 after saying
 * that a property was too long.
 */
static int next_kv(struct parser *p, const char *arg, const char **pos, char *prop, size_t size,
		   const char **v)
{
	int ret = cli_next_prop(pos, prop, size);

	if (ret < 0)
		return cli_bad(p, arg, "a property is too long");
	*v = ret > 0 ? split_prop(prop) : NULL;
	return ret;
}

static int invalid_param(struct parser *p, const char *arg, const char *key)
{
	char why[96];

	snprintf(why, sizeof(why), "Invalid parameter '%.64s'", key);
	return cli_bad(p, arg, why);
}

/* QEMU's spellings of a boolean; -1 for anything else. */
static int onoff(const char *v, bool *out)
{
	if (v && (!strcmp(v, "on") || !strcmp(v, "yes") || !strcmp(v, "true"))) {
		*out = true;
		return 0;
	}
	if (v && (!strcmp(v, "off") || !strcmp(v, "no") || !strcmp(v, "false"))) {
		*out = false;
		return 0;
	}
	return -1;
}

static int expect_onoff(struct parser *p, const char *arg, const char *key, const char *v,
			bool *out)
{
	char why[128];

	if (onoff(v, out) == 0)
		return 0;
	snprintf(why, sizeof(why), "Parameter '%.64s' expects 'on' or 'off'", key);
	return cli_bad(p, arg, why);
}

/* A switch where only off describes genvm: on is refused with why_on. */
static int expect_off(struct parser *p, const char *arg, const char *key, const char *v,
		      const char *why_on)
{
	bool on;

	if (expect_onoff(p, arg, key, v, &on) < 0)
		return -1;
	return on ? cli_bad(p, arg, why_on) : 0;
}

/* A copy that lives as long as the config (argv's strings do already). */
static const char *pool_dup(struct parser *p, const char *text)
{
	struct genvm_config *cfg = p->cfg;
	size_t len = strlen(text) + 1;
	char *out;

	if (len > sizeof(cfg->text_pool) - cfg->text_used)
		return NULL;
	out = cfg->text_pool + cfg->text_used;
	memcpy(out, text, len);
	cfg->text_used += len;
	return out;
}

/* Append ",key=value" to buf with QEMU's ",," for a comma in value. */
static int append_prop(char *buf, size_t size, const char *key, const char *value)
{
	size_t n = strlen(buf);
	int w = snprintf(buf + n, size - n, "%s%s=", n ? "," : "", key);

	if (w < 0 || (size_t)w >= size - n)
		return -1;
	n += (size_t)w;
	for (const char *c = value; *c; c++) {
		if (n + (*c == ',' ? 2 : 1) >= size)
			return -1;
		if (*c == ',')
			buf[n++] = ',';
		buf[n++] = *c;
	}
	buf[n] = '\0';
	return 0;
}

/* ---- -name, -uuid, and the options with nothing to configure ---- */

/* "NAME" or "guest=NAME[,debug-threads=on|off]" */
int cli_opt_name(struct parser *p, const char *arg)
{
	struct genvm_config *cfg = p->cfg;
	char prop[CLI_NAME_MAX + 8];
	const char *pos = arg;
	bool first = true, ignored;
	int ret;

	while ((ret = cli_next_prop(&pos, prop, sizeof(prop))) > 0) {
		const char *v = split_prop(prop);

		if (!v && first) {
			v = prop;
		} else if (!v) {
			return invalid_param(p, arg, prop);
		} else if (!strcmp(prop, "debug-threads")) {
			/* Thread names for a debugger: nothing the guest or a script sees. */
			if (expect_onoff(p, arg, prop, v, &ignored) < 0)
				return -1;
			first = false;
			continue;
		} else if (!strcmp(prop, "process")) {
			return cli_bad(p, arg, "genvm does not rename its process (process=)");
		} else if (strcmp(prop, "guest")) {
			return invalid_param(p, arg, prop);
		}
		if (strlen(v) > CLI_NAME_MAX)
			return cli_bad(p, arg, "the name is too long (at most 255 bytes)");
		memcpy(cfg->name, v, strlen(v) + 1);
		cfg->name_given = true;
		first = false;
	}
	if (ret < 0)
		return cli_bad(p, arg, "the name is too long (at most 255 bytes)");
	return 0;
}

int cli_opt_uuid(struct parser *p, const char *arg)
{
	const char *why;

	if (vmgenid_guid_parse(arg, &p->cfg->uuid, &why) < 0)
		return cli_bad(p, arg, "failed to parse UUID string: wrong format");
	return 0;
}

int cli_opt_daemonize(struct parser *p, const char *arg)
{
	(void)arg;
	p->cfg->daemonize = true;
	return 0;
}

int cli_opt_pidfile(struct parser *p, const char *arg)
{
	if (!arg[0])
		return cli_bad(p, arg, "empty file name");
	p->cfg->pidfile = arg;
	return 0;
}

int cli_opt_nodefaults(struct parser *p, const char *arg)
{
	(void)arg;
	p->cfg->nodefaults = true;
	return 0;
}

/*
 * -enable-kvm (genvm runs on KVM only), -no-hpet (it has none) and
 * -no-user-config (it reads no configuration file of its own): each asks
 * for what genvm does anyway.
 */
int cli_opt_as_is(struct parser *p, const char *arg)
{
	(void)p;
	(void)arg;
	return 0;
}

/* ---- -machine, -accel, -enable-kvm, -cpu ---- */

static int check_accel(struct parser *p, const char *arg, const char *accel)
{
	static const char *const others[] = { "tcg", "xen", "hax", "hvf", "nvmm", "whpx", "qtest" };
	char why[128];

	/* "kvm:tcg" is QEMU's try-in-order list: genvm is what its first entry asks for. */
	if (!strcmp(accel, "kvm") || !strncmp(accel, "kvm:", 4))
		return 0;
	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		size_t len = strlen(others[i]);

		if (!strncmp(accel, others[i], len) && (!accel[len] || accel[len] == ':')) {
			snprintf(why, sizeof(why), "genvm runs guests on KVM only (accelerator %.32s)",
				 others[i]);
			return cli_bad(p, arg, why);
		}
	}
	snprintf(why, sizeof(why), "invalid accelerator %.64s", accel);
	return cli_bad(p, arg, why);
}

static bool machine_type_known(const char *type)
{
	return !strcmp(type, "pc") || !strcmp(type, "q35") || !strcmp(type, "microvm") ||
	       !strncmp(type, "pc-i440fx-", 10) || !strncmp(type, "pc-q35-", 7);
}

/*
 * genvm has one machine: a PC without PCI whose devices are on the
 * command line.  QEMU's PC machine types all map onto it; their switches
 * are accepted when they ask for what genvm is anyway.
 */
int cli_opt_machine(struct parser *p, const char *arg)
{
	/* Switches that only turn off a device genvm does not have. */
	static const char *const absent[] = { "usb", "vmport", "graphics", "sata", "smbus",
					      "hpet", "pcspk", "smm", "pit", "nvdimm",
					      "sgx-epc", "x-oem-id", "acpi-pci-hotplug" };
	char prop[128], type[64] = "pc";
	const char *pos = arg, *v;
	bool first = true, b;
	int ret;

	while ((ret = next_kv(p, arg, &pos, prop, sizeof(prop), &v)) > 0) {
		char why[160];
		size_t i;

		if ((!v && first) || (v && !strcmp(prop, "type"))) {
			const char *t = v ? v : prop;

			if (!strcmp(t, "help")) {
				fprintf(p->out, "Supported machines are (all are genvm's one machine):\n"
						"pc, pc-i440fx-*, q35, pc-q35-*, microvm\n");
				return 1;
			}
			if (!machine_type_known(t) || strlen(t) >= sizeof(type))
				return cli_bad(p, arg,
					       "unsupported machine type (genvm's machine answers "
					       "to pc, pc-i440fx-*, q35, pc-q35-* and microvm)");
			memcpy(type, t, strlen(t) + 1);
			first = false;
			continue;
		}
		first = false;
		if (!v)
			return invalid_param(p, arg, prop);
		if (!strcmp(prop, "accel")) {
			if (check_accel(p, arg, v) < 0)
				return -1;
			continue;
		}
		if (!strcmp(prop, "memory-backend")) {
			if (strlen(v) > CLI_ID_MAX || !v[0])
				return cli_bad(p, arg, "not an object id");
			memcpy(p->cfg->mem_backend, v, strlen(v) + 1);
			continue;
		}
		if (!strcmp(prop, "dump-guest-core")) {
			/* Whether a core dump of genvm holds guest RAM: either is honest. */
			if (expect_onoff(p, arg, prop, v, &b) < 0)
				return -1;
			continue;
		}
		if (!strcmp(prop, "mem-merge")) {
			if (expect_off(p, arg, prop, v, "genvm does not offer guest RAM to KSM "
							"(mem-merge=off)") < 0)
				return -1;
			continue;
		}
		if (!strcmp(prop, "kernel_irqchip") || !strcmp(prop, "kernel-irqchip")) {
			if (strcmp(v, "on"))
				return cli_bad(p, arg, "genvm always uses KVM's in-kernel irqchip "
						       "(kernel_irqchip=on)");
			continue;
		}
		for (i = 0; i < sizeof(absent) / sizeof(absent[0]); i++) {
			if (!strcmp(prop, absent[i]))
				break;
		}
		if (i < sizeof(absent) / sizeof(absent[0])) {
			if (!strcmp(v, "auto") || (onoff(v, &b) == 0 && !b))
				continue;
			snprintf(why, sizeof(why), "genvm's machine has no %.32s (%.32s=off)", prop, prop);
			return cli_bad(p, arg, why);
		}
		snprintf(why, sizeof(why), "Property '%s-machine.%.64s' not found", type, prop);
		return cli_bad(p, arg, why);
	}
	return ret;
}

int cli_opt_accel(struct parser *p, const char *arg)
{
	char prop[128];
	const char *pos = arg, *v;
	bool first = true;
	int ret;

	while ((ret = next_kv(p, arg, &pos, prop, sizeof(prop), &v)) > 0) {
		if ((!v && first) || (v && !strcmp(prop, "accel"))) {
			if (check_accel(p, arg, v ? v : prop) < 0)
				return -1;
		} else if (v && !strcmp(prop, "kernel-irqchip")) {
			if (strcmp(v, "on"))
				return cli_bad(p, arg, "genvm always uses KVM's in-kernel irqchip "
						       "(kernel-irqchip=on)");
		} else {
			return invalid_param(p, arg, prop);
		}
		first = false;
	}
	return ret;
}

/* "host" or "max" (the same under KVM), with libvirt's migratable=on|off. */
int cli_opt_cpu(struct parser *p, const char *arg)
{
	char prop[128];
	const char *pos = arg, *v;
	bool first = true, b;
	int ret;

	while ((ret = next_kv(p, arg, &pos, prop, sizeof(prop), &v)) > 0) {
		if (first) {
			if (v || (strcmp(prop, "host") && strcmp(prop, "max")))
				return cli_bad(p, arg, "genvm offers the host's CPU model only "
						       "(-cpu host)");
		} else if (v && !strcmp(prop, "migratable")) {
			if (expect_onoff(p, arg, prop, v, &b) < 0)
				return -1;
		} else {
			return cli_bad(p, arg, "genvm gives the guest the CPU features KVM reports "
					       "and cannot add or remove one");
		}
		first = false;
	}
	return ret;
}

/* ---- -smp ---- */

static int smp_number(struct parser *p, const char *arg, const char *key, const char *v,
		      unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(v, &end, 10);
	if (v[0] < '0' || v[0] > '9' || *end || errno || *out > 4096) {
		char why[96];

		snprintf(why, sizeof(why), "Parameter 'smp.%s' expects integer", key);
		return cli_bad(p, arg, why);
	}
	return 0;
}

/*
 * "N[,sockets=S][,dies=D][,cores=C][,threads=T][,maxcpus=M]", computed as
 * QEMU 7.2 does (missing sockets first, then cores, threads default to 1)
 * and refused in its words when the topology does not multiply out.
 * genvm has no CPU hotplug, so maxcpus must equal N.
 */
int cli_opt_smp(struct parser *p, const char *arg)
{
	static const char *const keys[] = { "cpus", "sockets", "dies", "cores", "threads",
					     "maxcpus" };
	unsigned long val[6] = { 0 }; /* in keys' order; 0: not given */
	unsigned long n, s, d, c, t, m;
	char prop[64], why[256];
	const char *pos = arg, *v;
	bool first = true;
	int ret;

	while ((ret = next_kv(p, arg, &pos, prop, sizeof(prop), &v)) > 0) {
		size_t k = 0;

		if (!v && first) {
			v = prop;
		} else {
			for (k = 0; k < 6 && (!v || strcmp(prop, keys[k])); k++)
				;
			if (k == 6 || (!strcmp(prop, "cpus") && !v)) {
				snprintf(why, sizeof(why), "Parameter 'smp.%.32s' is unexpected", prop);
				return cli_bad(p, arg, why);
			}
		}
		if (smp_number(p, arg, keys[k], v, &val[k]) < 0)
			return -1;
		if (!val[k])
			return cli_bad(p, arg, k ? "CPU topology parameters must be greater than zero" :
					       "number of CPUs must be between 1 and 254");
		first = false;
	}
	if (ret < 0)
		return -1;

	n = val[0];
	d = val[2] ? val[2] : 1;
	t = val[4] ? val[4] : 1;
	m = val[5] ? val[5] : n;
	if (!m) { /* no count: the topology's product */
		s = val[1] ? val[1] : 1;
		c = val[3] ? val[3] : 1;
		m = s * d * c * t;
	} else {
		c = val[3] ? val[3] : 1;
		s = val[1] ? val[1] : (m / (d * c * t) ? m / (d * c * t) : 1);
		if (!val[3] && val[1])
			c = m / (s * d * t) ? m / (s * d * t) : 1;
	}
	if (!n)
		n = m;
	if (s * d * c * t != m) {
		snprintf(why, sizeof(why),
			 "Invalid CPU topology: product of the hierarchy must match maxcpus: "
			 "sockets (%lu) * %s%lu%s cores (%lu) * threads (%lu) != maxcpus (%lu)",
			 s, val[2] ? "dies (" : "", val[2] ? d : 0, val[2] ? ") *" : "", c, t, m);
		if (!val[2])
			snprintf(why, sizeof(why),
				 "Invalid CPU topology: product of the hierarchy must match "
				 "maxcpus: sockets (%lu) * cores (%lu) * threads (%lu) != "
				 "maxcpus (%lu)",
				 s, c, t, m);
		return cli_bad(p, arg, why);
	}
	if (m < n) {
		snprintf(why, sizeof(why),
			 "Invalid CPU topology: maxcpus must be equal to or greater than smp: "
			 "sockets (%lu) * cores (%lu) * threads (%lu) == maxcpus (%lu) < "
			 "smp_cpus (%lu)",
			 s, c, t, m, n);
		return cli_bad(p, arg, why);
	}
	if (m > n)
		return cli_bad(p, arg, "genvm has no CPU hotplug: maxcpus must equal the CPU count");
	if (n < 1 || n > CLI_MAX_CPUS)
		return cli_bad(p, arg, "number of CPUs must be between 1 and 254");
	p->cfg->nr_cpus = (unsigned int)n;
	p->cfg->nr_cpus_given = true;
	return 0;
}

/* ---- -chardev, -mon, -serial ---- */

static struct cli_named_chardev *find_chardev(struct genvm_config *cfg, const char *id)
{
	for (unsigned int i = 0; i < cfg->nr_chardevs; i++) {
		if (!strcmp(cfg->chardevs[i].id, id))
			return &cfg->chardevs[i];
	}
	return NULL;
}

/* An inherited socket must be one that listens: genvm serves, never connects. */
static int check_socket_fd(struct parser *p, const char *arg, const char *v, int *fd_out)
{
	char why[128], *end;
	int listening = 0;
	socklen_t len = sizeof(listening);
	struct stat st;
	long fd;

	errno = 0;
	fd = strtol(v, &end, 10);
	if (v[0] < '0' || v[0] > '9' || *end || errno || fd > 65535) {
		snprintf(why, sizeof(why), "Parameter 'fd' expects a file descriptor number");
		return cli_bad(p, arg, why);
	}
	if (fstat((int)fd, &st) < 0 || !S_ISSOCK(st.st_mode)) {
		snprintf(why, sizeof(why), "File descriptor '%ld' is not a socket", fd);
		return cli_bad(p, arg, why);
	}
	if (getsockopt((int)fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) < 0 || !listening) {
		snprintf(why, sizeof(why),
			 "file descriptor %ld is not a listening socket (genvm serves its channels)",
			 fd);
		return cli_bad(p, arg, why);
	}
	/* Nothing genvm starts (exec: commands) should hold the monitor's socket. */
	fcntl((int)fd, F_SETFD, FD_CLOEXEC);
	*fd_out = (int)fd;
	return 0;
}

/*
 * "BACKEND,id=ID,..." (or "backend=BACKEND,..." from -readconfig):
 * socket (path=, host=/port=, or an inherited fd=; server=on), stdio,
 * pipe,path=, serial|tty,path=, file,path= and null.
 */
int cli_opt_chardev(struct parser *p, const char *arg)
{
	static const char *const known[] = { "vc", "ringbuf", "memory", "udp", "msmouse",
					      "wctablet", "braille", "testdev", "spicevmc",
					      "spiceport", "parallel", "qemu-vdagent", "mux" };
	struct genvm_config *cfg = p->cfg;
	struct cli_named_chardev nc;
	char prop[CHARDEV_PATH_MAX + 16], backend[32] = "", why[192];
	char path[CLI_PATH_MAX] = "";
	const char *pos = arg;
	bool first = true, have_fd = false, server = false, wait = true, b;
	int ret, fd = -1;

	memset(&nc, 0, sizeof(nc));
	while ((ret = cli_next_prop(&pos, prop, sizeof(prop))) > 0) {
		const char *v = split_prop(prop);

		if ((!v && first) || (v && !strcmp(prop, "backend"))) {
			snprintf(backend, sizeof(backend), "%.31s", v ? v : prop);
		} else if (!v && !strcmp(prop, "server")) {
			server = true;
		} else if (!v && !strcmp(prop, "nowait")) {
			wait = false;
		} else if (!v) {
			return invalid_param(p, arg, prop);
		} else if (!strcmp(prop, "id")) {
			if (strlen(v) > CLI_ID_MAX)
				return cli_bad(p, arg, "the id is too long (at most 32)");
			memcpy(nc.id, v, strlen(v) + 1);
		} else if (!strcmp(prop, "path")) {
			if (strlen(v) >= sizeof(path))
				return cli_bad(p, arg, "path too long");
			memcpy(path, v, strlen(v) + 1);
		} else if (!strcmp(prop, "fd")) {
			if (check_socket_fd(p, arg, v, &fd) < 0)
				return -1;
			have_fd = true;
		} else if (!strcmp(prop, "host")) {
			if (strlen(v) >= sizeof(nc.spec.host))
				return cli_bad(p, arg, "host name too long");
			memcpy(nc.spec.host, v, strlen(v) + 1);
		} else if (!strcmp(prop, "port")) {
			if (strlen(v) >= sizeof(nc.spec.port) || !v[0])
				return cli_bad(p, arg, "not a port number");
			memcpy(nc.spec.port, v, strlen(v) + 1);
		} else if (!strcmp(prop, "server")) {
			if (expect_onoff(p, arg, prop, v, &server) < 0)
				return -1;
		} else if (!strcmp(prop, "wait")) {
			if (expect_onoff(p, arg, prop, v, &wait) < 0)
				return -1;
		} else if (!strcmp(prop, "signal") || !strcmp(prop, "nodelay")) {
			if (expect_onoff(p, arg, prop, v, &b) < 0)
				return -1;
		} else if (!strcmp(prop, "append")) {
			if (expect_onoff(p, arg, prop, v, &nc.append) < 0)
				return -1;
		} else {
			return invalid_param(p, arg, prop);
		}
		first = false;
	}
	if (ret < 0)
		return cli_bad(p, arg, "a property is too long");
	if (!nc.id[0])
		return cli_bad(p, arg, "chardev: no id specified");
	if (find_chardev(cfg, nc.id)) {
		snprintf(why, sizeof(why), "Duplicate ID '%s' for chardev", nc.id);
		return cli_bad(p, arg, why);
	}
	if (cfg->nr_chardevs == CLI_MAX_NAMED_CHARDEVS)
		return cli_bad(p, arg, "too many -chardev (at most 8)");

	if (!strcmp(backend, "socket")) {
		if (!server)
			return cli_bad(p, arg, "client mode is not supported: add server=on");
		if (have_fd) {
			nc.spec.kind = CHARDEV_FD;
			nc.spec.fd = fd;
		} else if (path[0]) {
			if (strlen(path) >= sizeof(nc.spec.path))
				return cli_bad(p, arg, "socket path too long (at most 107 bytes)");
			nc.spec.kind = CHARDEV_UNIX;
			memcpy(nc.spec.path, path, strlen(path) + 1);
		} else if (nc.spec.port[0]) {
			nc.spec.kind = CHARDEV_TCP;
		} else {
			return cli_bad(p, arg, "a socket needs path=, host= and port=, or fd=");
		}
		nc.spec.server = true;
		nc.spec.wait = wait;
	} else if (!strcmp(backend, "stdio")) {
		nc.spec.kind = CHARDEV_STDIO;
	} else if (!strcmp(backend, "pipe") || !strcmp(backend, "serial") ||
		   !strcmp(backend, "tty")) {
		if (!path[0])
			return cli_bad(p, arg, "path= is required");
		if (strlen(path) + (backend[0] == 'p' ? 4 : 0) >= sizeof(nc.spec.path))
			return cli_bad(p, arg, "path too long");
		nc.spec.kind = backend[0] == 'p' ? CHARDEV_PIPE : CHARDEV_DEVICE;
		memcpy(nc.spec.path, path, strlen(path) + 1);
	} else if (!strcmp(backend, "file")) {
		if (!path[0])
			return cli_bad(p, arg, "path= is required");
		nc.file = pool_dup(p, path);
		if (!nc.file)
			return cli_bad(p, arg, "too many long texts on the command line");
	} else if (!strcmp(backend, "null")) {
		nc.is_null = true;
	} else if (!strcmp(backend, "pty")) {
		nc.is_pty = true;
	} else {
		for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
			if (!strcmp(backend, known[i])) {
				snprintf(why, sizeof(why),
					 "genvm has no '%s' character backend (socket, stdio, pipe, "
					 "serial, file, null, pty)",
					 backend);
				return cli_bad(p, arg, why);
			}
		}
		snprintf(why, sizeof(why), "'%s' is not a valid char driver name", backend);
		return cli_bad(p, arg, why);
	}
	if (have_fd && strcmp(backend, "socket"))
		return invalid_param(p, arg, "fd");
	nc.text = arg;
	cfg->chardevs[cfg->nr_chardevs++] = nc;
	return 0;
}

/* "chardev=ID[,mode=control|readline][,id=ID][,pretty=off]" */
int cli_opt_mon(struct parser *p, const char *arg)
{
	struct genvm_config *cfg = p->cfg;
	struct cli_named_chardev *nc = NULL;
	struct cli_chardev *list;
	unsigned int *nr;
	bool control = false, b;
	char prop[64], why[128];
	const char *pos = arg;
	int ret;

	while ((ret = cli_next_prop(&pos, prop, sizeof(prop))) > 0) {
		const char *v = split_prop(prop);

		if (!v || !strcmp(prop, "chardev")) {
			const char *want = v ? v : prop; /* QEMU's implied key is chardev */

			nc = find_chardev(cfg, want);
			if (!nc) {
				snprintf(why, sizeof(why), "chardev \"%.64s\" not found", want);
				return cli_bad(p, arg, why);
			}
		} else if (!strcmp(prop, "mode")) {
			if (!strcmp(v, "control"))
				control = true;
			else if (!strcmp(v, "readline"))
				control = false;
			else
				return cli_bad(p, arg, "Parameter 'mode' does not accept value");
		} else if (!strcmp(prop, "pretty")) {
			if (expect_onoff(p, arg, prop, v, &b) < 0)
				return -1;
			if (b)
				return cli_bad(p, arg, "genvm writes QMP one reply a line (pretty=off)");
		} else if (strcmp(prop, "id")) {
			return invalid_param(p, arg, prop);
		}
	}
	if (ret < 0)
		return cli_bad(p, arg, "a property is too long");
	if (!nc)
		return cli_bad(p, arg, "chardev=ID is required");
	if (nc->file || nc->is_null || nc->is_pty)
		return cli_bad(p, arg, "a monitor needs a two-way chardev (socket, stdio, pipe, "
				       "serial)");
	if (nc->used) {
		snprintf(why, sizeof(why), "Device '%s' is in use", nc->id);
		return cli_bad(p, arg, why);
	}
	list = control ? cfg->qmp : cfg->monitor;
	nr = control ? &cfg->nr_qmp : &cfg->nr_monitor;
	if (*nr == CLI_MAX_CHARDEVS)
		return cli_bad(p, arg, "too many (at most 4)");
	list[*nr].spec = nc->spec;
	list[*nr].text = nc->text;
	(*nr)++;
	nc->used = true;
	return 0;
}

/*
 * The console (COM1): stdio (the default), file:PATH, pty, a listening
 * socket (unix:PATH,server=on / tcp:HOST:PORT,server=on), null, none, or
 * chardev:ID naming one of those.  genvm has one serial port.
 */
int cli_opt_serial(struct parser *p, const char *arg)
{
	struct genvm_config *cfg = p->cfg;
	char why[192];

	if (cfg->serial_given)
		return cli_bad(p, arg, "genvm has one serial port (-serial is given twice)");
	cfg->serial_given = true;
	if (!strcmp(arg, "stdio"))
		return 0;
	if (!strcmp(arg, "null") || !strcmp(arg, "none")) {
		cfg->serial_null = true;
		return 0;
	}
	if (!strncmp(arg, "file:", 5) && arg[5]) {
		cfg->serial_file = arg + 5;
		return 0;
	}
	/* QEMU's label for the console's own chardev. */
	if (!strcmp(arg, "pty")) {
		cfg->serial_pty = true;
		memcpy(cfg->serial_pty_label, "serial0", sizeof("serial0"));
		return 0;
	}
	if (!strncmp(arg, "chardev:", 8)) {
		struct cli_named_chardev *nc = find_chardev(cfg, arg + 8);

		if (!nc) {
			snprintf(why, sizeof(why), "chardev \"%.64s\" not found", arg + 8);
			return cli_bad(p, arg, why);
		}
		if (nc->used) {
			snprintf(why, sizeof(why), "Device '%s' is in use", nc->id);
			return cli_bad(p, arg, why);
		}
		nc->used = true;
		if (nc->file) {
			cfg->serial_file = nc->file;
			cfg->serial_append = nc->append;
		}
		else if (nc->is_null)
			cfg->serial_null = true;
		else if (nc->is_pty) {
			cfg->serial_pty = true;
			memcpy(cfg->serial_pty_label, nc->id, strlen(nc->id) + 1);
		} else if (nc->spec.kind == CHARDEV_UNIX || nc->spec.kind == CHARDEV_TCP ||
			   nc->spec.kind == CHARDEV_FD) {
			cfg->serial_socket = true;
			cfg->serial_chardev.spec = nc->spec;
			cfg->serial_chardev.text = nc->text;
		} else if (nc->spec.kind != CHARDEV_STDIO)
			return cli_bad(p, arg, "genvm's console goes to stdio, a file, a pty, a "
					       "socket or null");
		return 0;
	}
	/* A listening socket, in -qmp's spelling: one client at a time has the console. */
	if (!strncmp(arg, "unix:", 5) || !strncmp(arg, "tcp:", 4)) {
		const char *cwhy = NULL;

		if (chardev_parse(arg, &cfg->serial_chardev.spec, &cwhy) < 0)
			return cli_bad(p, arg, cwhy);
		if (!cfg->serial_chardev.spec.server)
			return cli_bad(p, arg, "client mode is not supported: add server=on");
		cfg->serial_chardev.text = arg;
		cfg->serial_socket = true;
		return 0;
	}
	{
		static const char *const other[] = { "vc", "mon:", "udp:", "pipe:", "telnet:",
						     "/dev/", "msmouse", "braille", "chardev:" };

		for (size_t i = 0; i < sizeof(other) / sizeof(other[0]); i++) {
			if (!strncmp(arg, other[i], strlen(other[i])))
				return cli_bad(p, arg, "genvm's console goes to stdio, file:PATH, "
						       "pty, unix:PATH,server=on, "
						       "tcp:HOST:PORT,server=on, null or none");
		}
	}
	snprintf(why, sizeof(why), "'%.64s' is not a valid char driver", arg);
	return cli_bad(p, arg, why);
}

/* ---- JSON -device ---- */

int cli_device_json(struct parser *p, const char *arg)
{
	json_error_t jerr;
	json_t *obj = json_loads(arg, JSON_REJECT_DUPLICATES, &jerr), *v;
	const char *key, *driver = NULL;
	char props[1024] = "", why[192];
	int ret = -1;

	if (!obj || !json_is_object(obj)) {
		snprintf(why, sizeof(why), "not a JSON object (%s)", obj ? "another value" : jerr.text);
		cli_bad(p, arg, why);
		goto out;
	}
	json_object_foreach(obj, key, v) {
		char text[64];
		const char *value = text;

		if (!strcmp(key, "driver")) {
			if (!json_is_string(v)) {
				cli_bad(p, arg, "Invalid parameter type for 'driver', expected: string");
				goto out;
			}
			driver = json_string_value(v);
			continue;
		}
		if (json_is_string(v))
			value = json_string_value(v);
		else if (json_is_integer(v))
			snprintf(text, sizeof(text), "%lld", (long long)json_integer_value(v));
		else if (json_is_boolean(v))
			value = json_is_true(v) ? "on" : "off";
		else {
			snprintf(why, sizeof(why), "Invalid parameter type for '%.64s'", key);
			cli_bad(p, arg, why);
			goto out;
		}
		if (append_prop(props, sizeof(props), key, value) < 0) {
			cli_bad(p, arg, "too many properties");
			goto out;
		}
	}
	if (!driver) {
		cli_bad(p, arg, "Parameter 'driver' is missing");
		goto out;
	}
	ret = cli_device(p, arg, driver, strlen(driver), props[0] ? props : NULL);
out:
	json_decref(obj);
	return ret;
}

/* ---- -readconfig ---- */

struct section {
	char group[32];
	char id[CLI_ID_MAX + 1];
	char props[2048];
	char driver[64];  /* [device]: driver; [chardev]: backend */
	unsigned int line;
	bool open;
};

/* One section, dispatched to the option its group stands for. */
static int run_section(struct parser *p, struct section *s, const char *file)
{
	char where[CLI_PATH_MAX + 16], args[2304];
	const char *saved = p->opt, *text;
	int ret = -1;

	if (!s->open)
		return 0;
	s->open = false;
	snprintf(where, sizeof(where), "%s:%u", file, s->line);
	p->opt = where;
	if (!strcmp(s->group, "device")) {
		if (!s->driver[0]) {
			cli_bad(p, NULL, "'' is not a valid device model name");
		} else {
			snprintf(args, sizeof(args), "%s", s->props);
			if (s->id[0])
				append_prop(args, sizeof(args), "id", s->id);
			ret = cli_device(p, NULL, s->driver, strlen(s->driver),
					 args[0] ? args : NULL);
		}
	} else if (!strcmp(s->group, "chardev")) {
		snprintf(args, sizeof(args), "backend=%s", s->driver);
		if (s->id[0])
			append_prop(args, sizeof(args), "id", s->id);
		if (s->props[0])
			snprintf(args + strlen(args), sizeof(args) - strlen(args), ",%s", s->props);
		text = pool_dup(p, args);
		ret = text ? cli_opt_chardev(p, text) : cli_bad(p, NULL, "too many long texts");
	} else {
		static const struct {
			const char *group;
			int (*fn)(struct parser *p, const char *arg);
		} groups[] = {
			{ "machine", cli_opt_machine }, { "memory", cli_opt_m },
			{ "smp-opts", cli_opt_smp },    { "mon", cli_opt_mon },
			{ "name", cli_opt_name },       { "accel", cli_opt_accel },
		};

		for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++) {
			if (!strcmp(s->group, groups[i].group)) {
				text = pool_dup(p, s->props);
				ret = text ? groups[i].fn(p, text) :
					     cli_bad(p, NULL, "too many long texts");
				break;
			}
		}
	}
	p->opt = saved;
	return ret;
}

static bool group_known(const char *g)
{
	/* Sections genvm reads; QEMU's other groups are refused by name below. */
	static const char *const ours[] = { "device", "chardev", "machine", "memory",
					    "smp-opts", "mon", "name", "accel" };

	for (size_t i = 0; i < sizeof(ours) / sizeof(ours[0]); i++) {
		if (!strcmp(g, ours[i]))
			return true;
	}
	return false;
}

static bool group_qemu(const char *g)
{
	static const char *const qemu[] = { "drive", "global", "boot-opts", "object", "fsdev",
					    "netdev", "numa", "rtc", "spice", "vnc", "sandbox",
					    "msg", "icount", "overcommit", "incoming", "add-fd",
					    "fw_cfg", "option-rom", "tpmdev", "iscsi", "audiodev" };

	for (size_t i = 0; i < sizeof(qemu) / sizeof(qemu[0]); i++) {
		if (!strcmp(g, qemu[i]))
			return true;
	}
	return false;
}

/* One line of QEMU's config syntax: [group], [group "id"], key = "value". */
static int config_line(struct parser *p, struct section *s, char *line, const char *file,
		       unsigned int lineno)
{
	char where[CLI_PATH_MAX + 16], key[64], value[1024], why[160];
	char group[32], id[CLI_ID_MAX + 1];
	int n = 0;

	snprintf(where, sizeof(where), "%s:%u", file, lineno);
	while (*line == ' ' || *line == '\t')
		line++;
	line[strcspn(line, "\r\n")] = '\0';
	if (!line[0] || line[0] == '#')
		return 0;
	if (line[0] == '[') {
		if (run_section(p, s, file) < 0)
			return -1;
		memset(s, 0, sizeof(*s));
		if (sscanf(line, "[%31[^] \"] \"%32[^\"]\"]%n", group, id, &n) == 2 && !line[n]) {
			memcpy(s->id, id, strlen(id) + 1);
		} else if (n = 0, sscanf(line, "[%31[^] \"]]%n", group, &n) != 1 || line[n]) {
			p->opt = where;
			return cli_bad(p, NULL, "parse error");
		}
		p->opt = where;
		if (!group_known(group)) {
			if (group_qemu(group))
				snprintf(why, sizeof(why), "genvm does not read [%s] sections", group);
			else
				snprintf(why, sizeof(why), "There is no option group '%s'", group);
			return cli_bad(p, NULL, why);
		}
		memcpy(s->group, group, strlen(group) + 1);
		s->line = lineno;
		s->open = true;
		return 0;
	}
	p->opt = where;
	if (sscanf(line, "%63[^ \t=] = \"%1023[^\"]\"%n", key, value, &n) != 2 || line[n]) {
		/* An empty value has no characters for %[ to match. */
		n = 0;
		if (sscanf(line, "%63[^ \t=] = \"\"%n", key, &n) != 1 || line[n] || !n)
			return cli_bad(p, NULL, "parse error");
		value[0] = '\0';
	}
	if (!s->open)
		return cli_bad(p, NULL, "no group defined");
	if ((!strcmp(s->group, "device") && !strcmp(key, "driver")) ||
	    (!strcmp(s->group, "chardev") && !strcmp(key, "backend"))) {
		if (strlen(value) >= sizeof(s->driver))
			return cli_bad(p, NULL, "value too long");
		memcpy(s->driver, value, strlen(value) + 1);
		return 0;
	}
	if (append_prop(s->props, sizeof(s->props), key, value) < 0)
		return cli_bad(p, NULL, "the section is too long");
	return 0;
}

int cli_opt_readconfig(struct parser *p, const char *arg)
{
	const char *saved = p->opt;
	struct section *s = calloc(1, sizeof(*s));
	char line[2048], why[CLI_PATH_MAX + 64];
	unsigned int lineno = 0;
	int ret = 0;
	FILE *f;

	if (!s)
		return cli_bad(p, arg, "out of memory");
	f = fopen(arg, "re");
	if (!f) {
		snprintf(why, sizeof(why), "Could not open '%s': %s", arg, strerror(errno));
		free(s);
		return cli_bad(p, arg, why);
	}
	while (ret == 0 && fgets(line, sizeof(line), f)) {
		lineno++;
		if (!strchr(line, '\n') && !feof(f)) {
			char where[CLI_PATH_MAX + 16];

			snprintf(where, sizeof(where), "%s:%u", arg, lineno);
			p->opt = where;
			ret = cli_bad(p, NULL, "line too long");
			break;
		}
		ret = config_line(p, s, line, arg, lineno);
	}
	if (ret == 0 && ferror(f)) {
		snprintf(why, sizeof(why), "read error: %s", strerror(errno));
		p->opt = saved;
		ret = cli_bad(p, arg, why);
	}
	if (ret == 0)
		ret = run_section(p, s, arg);
	fclose(f);
	free(s);
	p->opt = saved;
	return ret < 0 ? -1 : 0;
}

/* ---- after the whole command line ---- */

int cli_compat_check(struct parser *p)
{
	struct genvm_config *cfg = p->cfg;

	for (unsigned int i = 0; i < cfg->nr_chardevs; i++) {
		const struct cli_named_chardev *nc = &cfg->chardevs[i];

		/* QEMU would create it anyway; here it would only hold an fd or a path. */
		if (!nc->used) {
			fprintf(p->err, "genvm: -chardev %s: no -mon or -serial uses it\n", nc->text);
			return -1;
		}
	}
	if (cfg->daemonize) {
		p->opt = "-daemonize";
		if (cfg->nographic)
			return cli_bad(p, NULL, "-nographic cannot be used with -daemonize");
		for (unsigned int i = 0; i < cfg->nr_qmp; i++) {
			if (cfg->qmp[i].spec.kind == CHARDEV_STDIO)
				goto stdio;
		}
		for (unsigned int i = 0; i < cfg->nr_monitor; i++) {
			if (cfg->monitor[i].spec.kind == CHARDEV_STDIO)
				goto stdio;
		}
		/* A daemon's stdout is /dev/null: the console goes where -serial says, or nowhere. */
		if (!cfg->serial_file && !cfg->serial_pty && !cfg->serial_socket)
			cfg->serial_null = true;
	}
	/* -machine memory-backend=ID: the RAM is that object's size (which -m may repeat). */
	if (cfg->mem_backend[0]) {
		char why[128];

		p->opt = "-machine";
		if (strcmp(cfg->mem_backend, cfg->ram_object)) {
			snprintf(why, sizeof(why), "memory-backend=%s: no -object memory-backend-ram "
						   "with that id", cfg->mem_backend);
			return cli_bad(p, NULL, why);
		}
		if (cfg->ram_size_given && cfg->ram_size != cfg->ram_object_size)
			return cli_bad(p, NULL, "the memory backend's size differs from -m's");
		cfg->ram_size = cfg->ram_object_size;
		cfg->ram_size_given = true;
	}
	/* QEMU's -nodefaults leaves the machine without a console unless -serial adds one. */
	if (cfg->nodefaults && !cfg->serial_given)
		cfg->serial_null = true;
	return 0;
stdio:
	return cli_bad(p, NULL, "cannot use stdio with -daemonize");
}

/* ---- what else libvirt writes on every command line ---- */

/* A size given as bytes (JSON) or with a suffix ("1G"); a plain number is bytes here. */
static int object_size(const char *v, uint64_t *out)
{
	const char *why;
	char *end;

	errno = 0;
	*out = strtoull(v, &end, 10);
	if (v[0] >= '0' && v[0] <= '9' && !*end && !errno)
		return 0;
	return cli_parse_size(v, out, &why);
}

/*
 * "memory-backend-ram,id=ID,size=SIZE" (guest RAM for -machine
 * memory-backend=ID, which libvirt writes since QEMU 5.0) or a "secret"
 * (libvirt's master key: nothing in genvm uses one), in QEMU's keyval or
 * JSON ("qom-type") spelling.
 */
int cli_opt_object(struct parser *p, const char *arg)
{
	struct genvm_config *cfg = p->cfg;
	char props[1024] = "", prop[256], type[48] = "", id[CLI_ID_MAX + 1] = "", why[160];
	const char *pos, *v;
	uint64_t size = 0;
	int ret;

	if (arg[0] == '{') {
		json_t *obj = json_loads(arg, JSON_REJECT_DUPLICATES, NULL), *jv;
		const char *key;

		if (!json_is_object(obj)) {
			json_decref(obj);
			return cli_bad(p, arg, "not a JSON object");
		}
		json_object_foreach(obj, key, jv) {
			char text[32];
			const char *value = text;

			if (json_is_string(jv))
				value = json_string_value(jv);
			else if (json_is_integer(jv))
				snprintf(text, sizeof(text), "%lld", (long long)json_integer_value(jv));
			else if (json_is_boolean(jv))
				value = json_is_true(jv) ? "on" : "off";
			else
				value = "";
			if (append_prop(props, sizeof(props), !strcmp(key, "qom-type") ? "qom-type" : key,
					value) < 0) {
				json_decref(obj);
				return cli_bad(p, arg, "too many properties");
			}
		}
		json_decref(obj);
	} else {
		/* keyval: the first word is the type. */
		snprintf(props, sizeof(props), "qom-type=%s", arg);
	}
	pos = props;
	while ((ret = next_kv(p, arg, &pos, prop, sizeof(prop), &v)) > 0) {
		if (!v)
			return invalid_param(p, arg, prop);
		if (!strcmp(prop, "qom-type")) {
			snprintf(type, sizeof(type), "%.47s", v);
		} else if (!strcmp(prop, "id")) {
			if (strlen(v) > CLI_ID_MAX)
				return cli_bad(p, arg, "the id is too long (at most 32)");
			memcpy(id, v, strlen(v) + 1);
		} else if (strcmp(type, "memory-backend-ram") && strcmp(type, "secret")) {
			/* A type genvm lacks is refused as such below, whatever its properties. */
		} else if (!strcmp(type, "memory-backend-ram") && !strcmp(prop, "size")) {
			if (object_size(v, &size) < 0)
				return cli_bad(p, arg, "Parameter 'size' expects a size");
		} else if (!strcmp(type, "secret") &&
			   (!strcmp(prop, "format") || !strcmp(prop, "file") || !strcmp(prop, "data") ||
			    !strcmp(prop, "keyid") || !strcmp(prop, "iv"))) {
			/* Unused: a secret only matters to what refers to it. */
		} else {
			snprintf(why, sizeof(why), "Property '%.40s.%.40s' not found",
				 type[0] ? type : "object", prop);
			return cli_bad(p, arg, why);
		}
	}
	if (ret < 0)
		return -1;
	if (!id[0])
		return cli_bad(p, arg, "Parameter 'id' is missing");
	if (!strcmp(type, "secret"))
		return 0;
	if (strcmp(type, "memory-backend-ram")) {
		snprintf(why, sizeof(why),
			 "genvm has no '%s' objects (memory-backend-ram and secret only)", type);
		return cli_bad(p, arg, why);
	}
	if (!size)
		return cli_bad(p, arg, "Parameter 'size' is missing");
	if (cfg->ram_object[0])
		return cli_bad(p, arg, "genvm's guest RAM is one memory backend");
	memcpy(cfg->ram_object, id, strlen(id) + 1);
	cfg->ram_object_size = size;
	return 0;
}

/* One "key=on|off" list where only off describes genvm. */
static int only_off(struct parser *p, const char *arg, const char *const *keys, size_t nr,
		    const char *why_on)
{
	char prop[64];
	const char *pos = arg, *v;
	int ret;

	while ((ret = next_kv(p, arg, &pos, prop, sizeof(prop), &v)) > 0) {
		size_t i;

		for (i = 0; i < nr && strcmp(prop, keys[i]); i++)
			;
		if (i == nr || !v)
			return invalid_param(p, arg, prop);
		if (expect_off(p, arg, prop, v, why_on) < 0)
			return -1;
	}
	return ret;
}

int cli_opt_overcommit(struct parser *p, const char *arg)
{
	static const char *const keys[] = { "mem-lock", "cpu-pm" };

	return only_off(p, arg, keys, 2, "genvm neither locks guest RAM nor passes CPU power "
					 "management through (mem-lock=off, cpu-pm=off)");
}

/* genvm has no RTC: the guest keeps time with kvmclock, which is UTC-based. */
int cli_opt_rtc(struct parser *p, const char *arg)
{
	char prop[64];
	const char *pos = arg, *v;
	int ret;

	while ((ret = next_kv(p, arg, &pos, prop, sizeof(prop), &v)) > 0) {
		if (v && !strcmp(prop, "base") && !strcmp(v, "utc"))
			continue;
		if (v && !strcmp(prop, "clock") && !strcmp(v, "host"))
			continue;
		if (v && !strcmp(prop, "driftfix") && (!strcmp(v, "slew") || !strcmp(v, "none")))
			continue; /* catching up RTC interrupts: there are none */
		if (!v || (strcmp(prop, "base") && strcmp(prop, "clock") && strcmp(prop, "driftfix")))
			return invalid_param(p, arg, prop);
		return cli_bad(p, arg, "genvm has no RTC; the guest's clock is the host's, in UTC "
				       "(base=utc, clock=host)");
	}
	return ret;
}

/* The -global settings libvirt writes that say what genvm's machine already is. */
int cli_opt_global(struct parser *p, const char *arg)
{
	static const char *const as_is[] = {
		"kvm-pit.lost_tick_policy=delay", /* KVM's in-kernel PIT reinjects, as genvm's does */
		"ICH9-LPC.disable_s3=1", "ICH9-LPC.disable_s4=1", /* genvm's ACPI has S5 only */
		"PIIX4_PM.disable_s3=1", "PIIX4_PM.disable_s4=1",
	};

	for (size_t i = 0; i < sizeof(as_is) / sizeof(as_is[0]); i++) {
		if (!strcmp(arg, as_is[i]))
			return 0;
	}
	return cli_bad(p, arg, "genvm's machine cannot be changed so (docs/qemu-compat.md lists "
			       "the -global settings that describe it)");
}

/* genvm loads -kernel itself: no boot devices to order, no menu. */
int cli_opt_boot(struct parser *p, const char *arg)
{
	char prop[64];
	const char *pos = arg, *v;
	bool b;
	int ret;

	while ((ret = next_kv(p, arg, &pos, prop, sizeof(prop), &v)) > 0) {
		if (v && !strcmp(prop, "strict")) {
			if (expect_onoff(p, arg, prop, v, &b) < 0)
				return -1;
		} else if (v && !strcmp(prop, "menu")) {
			if (expect_off(p, arg, prop, v, "genvm has no boot menu (menu=off)") < 0)
				return -1;
		} else if (v) {
			return cli_bad(p, arg, "genvm boots -kernel itself: there is no boot order");
		} else {
			return invalid_param(p, arg, prop);
		}
	}
	return ret;
}

int cli_opt_msg(struct parser *p, const char *arg)
{
	char prop[64];
	const char *pos = arg, *v;
	int ret;

	while ((ret = next_kv(p, arg, &pos, prop, sizeof(prop), &v)) > 0) {
		if (v && !strcmp(prop, "timestamp")) {
			if (expect_onoff(p, arg, prop, v, &p->cfg->msg_timestamp) < 0)
				return -1;
		} else if (v && !strcmp(prop, "guest-name")) {
			if (expect_off(p, arg, prop, v, "genvm does not put the guest's name in its "
							"messages (guest-name=off)") < 0)
				return -1;
		} else {
			return invalid_param(p, arg, prop);
		}
	}
	return ret;
}

/* libvirt's: a guest power-off leaves genvm stopped, serving QMP until quit. */
int cli_opt_no_shutdown(struct parser *p, const char *arg)
{
	(void)arg;
	p->cfg->no_shutdown = true;
	return 0;
}
