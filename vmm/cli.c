// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "cli_int.h"
#include "layout.h"

#ifndef GENVM_VERSION
#define GENVM_VERSION "unknown"
#endif

struct option_desc {
	const char *name; /* without leading dashes */
	const char *arg;  /* NULL for a flag */
	int (*fn)(struct parser *p, const char *arg);
	const char *help;
};

static int bad(struct parser *p, const char *value, const char *why)
{
	if (value)
		fprintf(p->err, "genvm: %s %s: %s\n", p->opt, value, why);
	else
		fprintf(p->err, "genvm: %s: %s\n", p->opt, why);
	return -1;
}

static int next_prop(const char **pos, char *buf, size_t size);
static const char *prop_value(const char *prop, const char *name);

int cli_bad(struct parser *p, const char *value, const char *why)
{
	return bad(p, value, why);
}

int cli_parse_size(const char *text, uint64_t *bytes, const char **why)
{
	unsigned long long n;
	unsigned int shift = 20;
	char *end;

	if (!text[0] || text[0] < '0' || text[0] > '9') {
		*why = "not a size (expected a number with an optional K, M, G or T suffix)";
		return -EINVAL;
	}
	uint64_t frac = 0, frac_scale = 1;

	errno = 0;
	n = strtoull(text, &end, 10);
	if (errno) {
		*why = "number too large";
		return -EINVAL;
	}
	/* QEMU's "1.5G": a decimal fraction of the unit, at most 9 digits. */
	if (*end == '.') {
		for (end++; *end >= '0' && *end <= '9'; end++) {
			if (frac_scale == 1000000000ull) {
				*why = "too many decimal places";
				return -EINVAL;
			}
			frac = frac * 10 + (uint64_t)(*end - '0');
			frac_scale *= 10;
		}
	}
	switch (*end) {
	case '\0':
		break;
	case 'k':
	case 'K':
		shift = 10;
		end++;
		break;
	case 'm':
	case 'M':
		end++;
		break;
	case 'g':
	case 'G':
		shift = 30;
		end++;
		break;
	case 't':
	case 'T':
		shift = 40;
		end++;
		break;
	default:
		*why = "unknown suffix (expected K, M, G or T)";
		return -EINVAL;
	}
	if (*end == 'B' || *end == 'b')
		end++;
	if (*end) {
		*why = "trailing characters after the size";
		return -EINVAL;
	}
	if (n >= (UINT64_MAX >> shift)) {
		*why = "number too large";
		return -EINVAL;
	}
	/* frac < frac_scale <= 10^9 < 2^30 and shift <= 40: no overflow in 128 bits. */
	{
		unsigned __int128 part = (unsigned __int128)frac << shift;

		if (part % frac_scale) {
			*why = "not a whole number of bytes";
			return -EINVAL;
		}
		*bytes = ((uint64_t)n << shift) + (uint64_t)(part / frac_scale);
	}
	return 0;
}

static uint64_t system_ram(void)
{
	long pages = sysconf(_SC_PHYS_PAGES);
	long page_size = sysconf(_SC_PAGESIZE);

	if (pages <= 0 || page_size <= 0)
		return UINT64_MAX;
	return (uint64_t)pages * (uint64_t)page_size;
}

int cli_check_ram_size(uint64_t size, uint64_t host_ram, char *why, size_t why_len)
{
	if (!host_ram)
		host_ram = system_ram();
	if (size % MiB) {
		snprintf(why, why_len, "memory size must be a whole number of MiB");
		return -EINVAL;
	}
	if (size < LAYOUT_MIN_RAM) {
		snprintf(why, why_len, "too small (at least %" PRIu64 "M)",
			 (uint64_t)(LAYOUT_MIN_RAM / MiB));
		return -EINVAL;
	}
	if (size > host_ram) {
		snprintf(why, why_len, "larger than the host's memory (%" PRIu64 "M)",
			 (uint64_t)(host_ram / MiB));
		return -ENOMEM;
	}
	return 0;
}

int cli_opt_m(struct parser *p, const char *arg)
{
	const char *why;
	char msg[80];
	uint64_t size;
	const char *pos = arg;
	char prop[64], text[64] = "";
	int ret;

	/* QEMU's "-m [size=]SIZE[,slots=N,maxmem=SIZE]"; genvm has no memory hotplug. */
	while ((ret = next_prop(&pos, prop, sizeof(prop))) > 0) {
		const char *v = prop_value(prop, "size");

		if (prop_value(prop, "slots") || prop_value(prop, "maxmem"))
			return bad(p, arg, "genvm has no memory hotplug (slots=, maxmem=)");
		if (!v && strchr(prop, '=')) {
			char key_why[96];

			*strchr(prop, '=') = '\0';
			snprintf(key_why, sizeof(key_why), "Invalid parameter '%s'", prop);
			return bad(p, arg, key_why);
		}
		if (text[0])
			return bad(p, arg, "the size is given twice");
		memcpy(text, v ? v : prop, strlen(v ? v : prop) + 1);
	}
	if (ret < 0)
		return bad(p, arg, "a property is too long");
	if (cli_parse_size(text, &size, &why) < 0)
		return bad(p, arg, why);
	/* The host's memory is checked with the rest, once the kernel is known. */
	if (cli_check_ram_size(size, UINT64_MAX, msg, sizeof(msg)) < 0)
		return bad(p, arg, msg);
	p->cfg->ram_size = size;
	p->cfg->ram_size_given = true;
	return 0;
}

static int opt_kernel(struct parser *p, const char *arg)
{
	p->cfg->kernel_path = arg;
	return 0;
}

static int opt_initrd(struct parser *p, const char *arg)
{
	p->cfg->initrd_path = arg;
	return 0;
}

static int opt_append(struct parser *p, const char *arg)
{
	p->cfg->cmdline = arg;
	return 0;
}

/*
 * Split QEMU-style "a=b,c=d" properties one at a time.  ",," is a literal
 * comma, as in QEMU, so file names may hold one.  1 with the property
 * unescaped in buf, 0 at the end, -1 when it does not fit in buf.
 */
static int next_prop(const char **pos, char *buf, size_t size)
{
	const char *p = *pos;
	size_t n = 0;

	if (!p || !*p)
		return 0;
	for (; *p; p++) {
		if (*p == ',') {
			if (p[1] != ',')
				break;
			p++;
		}
		if (n + 1 >= size)
			return -1;
		buf[n++] = *p;
	}
	buf[n] = '\0';
	*pos = *p ? p + 1 : p;
	return 1;
}

int cli_next_prop(const char **pos, char *buf, size_t size)
{
	return next_prop(pos, buf, size);
}

/* "name=value": value when prop starts with name=, else NULL. */
static const char *prop_value(const char *prop, const char *name)
{
	size_t len = strlen(name);

	return !strncmp(prop, name, len) && prop[len] == '=' ? prop + len + 1 : NULL;
}

/* QEMU's booleans: on/off (and yes/no, true/false). */
static int parse_bool(const char *v, bool *out)
{
	if (!strcmp(v, "on") || !strcmp(v, "yes") || !strcmp(v, "true")) {
		*out = true;
		return 0;
	}
	if (!strcmp(v, "off") || !strcmp(v, "no") || !strcmp(v, "false")) {
		*out = false;
		return 0;
	}
	return -1;
}

/* what: the device's name, or NULL for -drive, whose properties are the whole argument. */
static int bad_prop(struct parser *p, const char *what, const char *prop, const char *why)
{
	if (what)
		fprintf(p->err, "genvm: %s %s: '%s': %s\n", p->opt, what, prop, why);
	else
		fprintf(p->err, "genvm: %s: '%s': %s\n", p->opt, prop, why);
	return -1;
}

static bool valid_id(const char *id)
{
	/* QEMU's rule: a letter, then letters, digits, '-', '.', '_'. */
	if (!((id[0] >= 'a' && id[0] <= 'z') || (id[0] >= 'A' && id[0] <= 'Z')))
		return false;
	for (const char *c = id; *c; c++) {
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		      (*c >= '0' && *c <= '9') || *c == '-' || *c == '.' || *c == '_'))
			return false;
	}
	return true;
}

static int add_virtio(struct parser *p, const char *arg, enum cli_virtio_kind kind,
		      struct cli_virtio **out)
{
	if (p->cfg->nr_virtio == CLI_MAX_VIRTIO)
		return bad(p, arg, "too many virtio devices (at most 8)");
	*out = &p->cfg->virtio[p->cfg->nr_virtio++];
	memset(*out, 0, sizeof(**out));
	(*out)->kind = kind;
	return 0;
}

/*
 * The backend a -device names (drive=ID or netdev=ID): its index among the
 * -drive or -netdev options given so far, or -1 after one line saying why
 * (no such id, or another device has it).
 */
static int find_backend(struct parser *p, const char *arg, enum cli_virtio_kind kind,
			const char *id)
{
	const struct genvm_config *cfg = p->cfg;
	bool net = kind == CLI_VIRTIO_NET;
	unsigned int n = net ? cfg->nr_netdevs : cfg->nr_drives;
	const char *what = net ? "netdev" : "drive";
	char why[160];

	for (unsigned int i = 0; i < n; i++) {
		if (strcmp(net ? cfg->netdevs[i].id : cfg->drives[i].id, id))
			continue;
		if (net ? cfg->netdevs[i].used : cfg->drives[i].used) {
			snprintf(why, sizeof(why), "%s '%s' is already in use by another device", what,
				 id);
			return bad(p, arg, why);
		}
		return (int)i;
	}
	snprintf(why, sizeof(why), "no -%s with id '%s' (give -%s %s,id=%s first)", what, id, what,
		 net ? "tap" : "...,if=none", id);
	return bad(p, arg, why);
}

/* "-drive file=PATH,format=raw,if=virtio|none[,id=ID][,readonly=on][,cache=...][,snapshot=on]" */
static int opt_drive(struct parser *p, const char *arg)
{
	struct genvm_config *cfg = p->cfg;
	struct cli_drive *d;
	const char *pos = arg;
	char prop[CLI_PATH_MAX + 8];
	bool have_if = false;
	int ret;

	if (cfg->nr_drives == CLI_MAX_DRIVES)
		return bad(p, arg, "too many drives (at most 8)");
	d = &cfg->drives[cfg->nr_drives];
	memset(d, 0, sizeof(*d));
	while ((ret = next_prop(&pos, prop, sizeof(prop))) > 0) {
		const char *v;

		if ((v = prop_value(prop, "file"))) {
			if (!*v)
				return bad_prop(p, NULL, prop, "empty file name");
			memcpy(d->file, v, strlen(v) + 1);
		} else if ((v = prop_value(prop, "format"))) {
			if (strcmp(v, "raw"))
				return bad_prop(p, NULL, prop, "unsupported format (genvm reads raw images only)");
		} else if ((v = prop_value(prop, "if"))) {
			if (!strcmp(v, "virtio"))
				d->if_virtio = true;
			else if (strcmp(v, "none"))
				return bad_prop(p, NULL, prop, "unsupported interface (if=virtio or if=none)");
			have_if = true;
		} else if ((v = prop_value(prop, "id"))) {
			if (strlen(v) > CLI_ID_MAX || !valid_id(v))
				return bad_prop(p, NULL, prop,
						"an id is a letter then letters, digits, '-', '.' or '_' (at most 32)");
			memcpy(d->id, v, strlen(v) + 1);
		} else if ((v = prop_value(prop, "readonly"))) {
			if (parse_bool(v, &d->readonly) < 0)
				return bad_prop(p, NULL, prop, "expected on or off");
		} else if ((v = prop_value(prop, "snapshot"))) {
			if (parse_bool(v, &d->snapshot) < 0)
				return bad_prop(p, NULL, prop, "expected on or off");
		} else if ((v = prop_value(prop, "cache"))) {
			if (!strcmp(v, "none"))
				d->direct = true;
			else if (!strcmp(v, "writeback"))
				d->direct = false;
			else
				return bad_prop(p, NULL, prop, "unsupported cache mode (writeback or none)");
		} else {
			return bad_prop(p, NULL, prop, "unknown property");
		}
	}
	if (ret < 0)
		return bad(p, arg, "a property is too long");
	if (!d->file[0])
		return bad(p, arg, "file=PATH is required");
	if (!have_if)
		return bad(p, arg, "if=virtio or if=none is required");
	if (!d->if_virtio && !d->id[0])
		return bad(p, arg, "an if=none drive needs id=ID for -device virtio-blk-device,drive=ID");
	for (unsigned int i = 0; i < cfg->nr_drives; i++) {
		if (d->id[0] && !strcmp(cfg->drives[i].id, d->id)) {
			char why[96];

			snprintf(why, sizeof(why), "drive id '%s' is already used", d->id);
			return bad(p, arg, why);
		}
	}
	if (d->if_virtio) {
		struct cli_virtio *dev;

		if (add_virtio(p, arg, CLI_VIRTIO_BLK, &dev) < 0)
			return -1;
		dev->drive = cfg->nr_drives;
		d->used = true;
	}
	cfg->nr_drives++;
	return 0;
}

/* virtio-blk-device,drive=ID[,serial=S][,id=NAME] */
static int device_virtio_blk(struct parser *p, const char *arg, const char *props)
{
	struct genvm_config *cfg = p->cfg;
	char prop[128], drive[CLI_ID_MAX + 1] = "", serial[CLI_SERIAL_MAX + 1] = "";
	const char *pos = props;
	struct cli_virtio *dev;
	int i, ret;

	while ((ret = next_prop(&pos, prop, sizeof(prop))) > 0) {
		const char *v;

		if ((v = prop_value(prop, "drive"))) {
			if (strlen(v) > CLI_ID_MAX)
				return bad_prop(p, "virtio-blk-device", prop, "no such drive");
			memcpy(drive, v, strlen(v) + 1);
		} else if ((v = prop_value(prop, "serial"))) {
			if (strlen(v) > CLI_SERIAL_MAX)
				return bad_prop(p, "virtio-blk-device", prop,
						"longer than the 20 bytes virtio-blk can report");
			memcpy(serial, v, strlen(v) + 1);
		} else if (!prop_value(prop, "id")) {
			return bad_prop(p, "virtio-blk-device", prop, "unknown property");
		}
	}
	if (ret < 0)
		return bad(p, arg, "a property is too long");
	if (!drive[0])
		return bad(p, arg, "drive=ID is required");
	i = find_backend(p, arg, CLI_VIRTIO_BLK, drive);
	if (i < 0)
		return -1;
	if (add_virtio(p, arg, CLI_VIRTIO_BLK, &dev) < 0)
		return -1;
	dev->drive = (unsigned int)i;
	memcpy(dev->serial, serial, sizeof(serial));
	cfg->drives[i].used = true;
	return 0;
}

/* virtio-rng-device[,id=NAME] */
static int device_virtio_rng(struct parser *p, const char *arg, const char *props)
{
	const char *pos = props;
	struct cli_virtio *dev;
	char prop[128];
	int ret;

	while ((ret = next_prop(&pos, prop, sizeof(prop))) > 0) {
		if (!prop_value(prop, "id"))
			return bad_prop(p, "virtio-rng-device", prop, "unknown property");
	}
	if (ret < 0)
		return bad(p, arg, "a property is too long");
	return add_virtio(p, arg, CLI_VIRTIO_RNG, &dev);
}

/*
 * "vsock[,guest-cid=N],uds=PATH" (hybrid, docs/devices.md says why the
 * name) and "vhost-vsock-device,guest-cid=N" (QEMU's).  One of either:
 * a Linux guest drives a single virtio vsock transport.
 */
static int device_vsock_common(struct parser *p, const char *arg, const char *props, bool vhost)
{
	const char *name = vhost ? "vhost-vsock-device" : "vsock";
	struct cli_vsock *vs = &p->cfg->vsock;
	const char *pos = props;
	bool have_cid = false;
	struct cli_virtio *dev;
	char prop[CLI_PATH_MAX + 8];
	int ret;

	for (unsigned int i = 0; i < p->cfg->nr_virtio; i++) {
		if (p->cfg->virtio[i].kind == CLI_VIRTIO_VSOCK ||
		    p->cfg->virtio[i].kind == CLI_VIRTIO_VHOST_VSOCK)
			return bad(p, arg, "only one vsock device is allowed (a guest drives one)");
	}
	memset(vs, 0, sizeof(*vs));
	vs->guest_cid = 3;
	while ((ret = next_prop(&pos, prop, sizeof(prop))) > 0) {
		const char *v;

		if ((v = prop_value(prop, "guest-cid"))) {
			char *end;
			unsigned long long cid;

			errno = 0;
			cid = strtoull(v, &end, 10);
			if (!*v || *end || errno || v[0] == '-' || v[0] == '+')
				return bad_prop(p, name, prop, "expected a number");
			if (cid < 3 || cid > 0xfffffffeull)
				return bad_prop(p, name, prop,
						"a guest CID is 3 to 4294967294 (0-2 are reserved)");
			vs->guest_cid = (uint32_t)cid;
			have_cid = true;
		} else if (!vhost && (v = prop_value(prop, "uds"))) {
			if (!*v)
				return bad_prop(p, name, prop, "empty path");
			if (strlen(v) > CLI_VSOCK_UDS_MAX)
				return bad_prop(p, name, prop,
						"longer than 96 bytes (PATH_PORT must fit a unix "
						"socket address)");
			memcpy(vs->uds, v, strlen(v) + 1);
		} else if (!prop_value(prop, "id")) {
			return bad_prop(p, name, prop, "unknown property");
		}
	}
	if (ret < 0)
		return bad(p, arg, "a property is too long");
	if (vhost && !have_cid)
		return bad(p, arg, "guest-cid=N is required (a CID unique on this host, 3 or more)");
	if (!vhost && !vs->uds[0])
		return bad(p, arg, "uds=PATH is required (the unix socket host programs connect to)");
	return add_virtio(p, arg, vhost ? CLI_VIRTIO_VHOST_VSOCK : CLI_VIRTIO_VSOCK, &dev);
}

static int device_vsock(struct parser *p, const char *arg, const char *props)
{
	return device_vsock_common(p, arg, props, false);
}

static int device_vhost_vsock(struct parser *p, const char *arg, const char *props)
{
	return device_vsock_common(p, arg, props, true);
}

/* ---- networking: -netdev tap, -device virtio-net-device, -nic ---- */

/*
 * One property of a tap netdev into nd: 1 when it was one, 0 when it is
 * not a tap property, -1 when it was and is wrong (printed).
 */
static int tap_prop(struct parser *p, const char *what, const char *prop, struct cli_netdev *nd)
{
	const char *v;
	bool on;

	if ((v = prop_value(prop, "id"))) {
		if (strlen(v) > CLI_ID_MAX || !valid_id(v))
			return bad_prop(p, what, prop,
					"an id is a letter then letters, digits, '-', '.' or '_' (at most 32)");
		memcpy(nd->id, v, strlen(v) + 1);
		return 1;
	}
	if ((v = prop_value(prop, "ifname"))) {
		if (!*v || strlen(v) > CLI_IFNAME_MAX || strpbrk(v, "/ \t\n:"))
			return bad_prop(p, what, prop,
					"an interface name is 1 to 15 characters without '/', ':' or spaces");
		memcpy(nd->ifname, v, strlen(v) + 1);
		return 1;
	}
	if ((v = prop_value(prop, "script")) || (v = prop_value(prop, "downscript"))) {
		if (strcmp(v, "no"))
			return bad_prop(p, what, prop,
					"genvm runs no scripts: give script=no,downscript=no and set the tap up yourself");
		return 1;
	}
	if ((v = prop_value(prop, "vhost"))) {
		if (parse_bool(v, &on) < 0)
			return bad_prop(p, what, prop, "expected on or off");
		nd->vhost = on;
		return 1;
	}
	return 0;
}

/* nd filled in: check it against the others and keep it. */
static int add_netdev(struct parser *p, const char *arg, const struct cli_netdev *nd)
{
	struct genvm_config *cfg = p->cfg;
	char why[96];

	if (cfg->nr_netdevs == CLI_MAX_NETDEVS)
		return bad(p, arg, "too many netdevs (at most 8)");
	for (unsigned int i = 0; i < cfg->nr_netdevs; i++) {
		if (!strcmp(cfg->netdevs[i].id, nd->id)) {
			snprintf(why, sizeof(why), "netdev id '%s' is already used", nd->id);
			return bad(p, arg, why);
		}
		if (nd->ifname[0] && !strcmp(cfg->netdevs[i].ifname, nd->ifname)) {
			snprintf(why, sizeof(why), "ifname '%s' is already netdev '%s''s", nd->ifname,
				 cfg->netdevs[i].id);
			return bad(p, arg, why);
		}
	}
	cfg->netdevs[cfg->nr_netdevs++] = *nd;
	return 0;
}

/* "tap,..." or another type: the properties after "tap,", or NULL (printed). */
static const char *netdev_type(struct parser *p, const char *arg)
{
	if (!strcmp(arg, "tap"))
		return "";
	if (!strncmp(arg, "tap,", 4))
		return arg + 4;
	bad(p, arg, "unsupported netdev type (genvm has tap)");
	return NULL;
}

/* -netdev tap,id=ID[,ifname=NAME][,script=no][,downscript=no][,vhost=on|off] */
static int opt_netdev(struct parser *p, const char *arg)
{
	const char *pos = netdev_type(p, arg);
	struct cli_netdev nd = { .used = false };
	char prop[128];
	int ret;

	if (!pos)
		return -1;
	while ((ret = next_prop(&pos, prop, sizeof(prop))) > 0) {
		int r = tap_prop(p, "tap", prop, &nd);

		if (r < 0)
			return -1;
		if (r == 0)
			return bad_prop(p, "tap", prop, "unknown property");
	}
	if (ret < 0)
		return bad(p, arg, "a property is too long");
	if (!nd.id[0])
		return bad(p, arg, "id=ID is required");
	return add_netdev(p, arg, &nd);
}

/* "52:54:00:12:34:56" (or with '-'): a unicast address, not all zero. */
static int parse_mac(const char *text, uint8_t *mac, const char **why)
{
	static const char hex[] = "0123456789abcdef";

	*why = "expected six hex bytes like 52:54:00:12:34:56";
	if (strlen(text) != 17)
		return -1;
	for (unsigned int i = 0; i < CLI_MAC_LEN; i++) {
		const char *t = text + 3 * i;
		/* Only letters fold to lower case: '|0x20' would make control bytes digits. */
		const char *hi = t[0] >= 'A' ? strchr(hex, t[0] | 0x20) : t[0] ? strchr(hex, t[0]) : NULL;
		const char *lo = t[1] >= 'A' ? strchr(hex, t[1] | 0x20) : t[1] ? strchr(hex, t[1]) : NULL;

		if (!hi || !lo || (i < CLI_MAC_LEN - 1 && t[2] != ':' && t[2] != '-'))
			return -1;
		mac[i] = (uint8_t)((hi - hex) << 4 | (lo - hex));
	}
	if (mac[0] & 1) {
		*why = "a multicast address cannot be a NIC's MAC";
		return -1;
	}
	if (!(mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5])) {
		*why = "the all-zero address cannot be a NIC's MAC";
		return -1;
	}
	return 0;
}

/*
 * QEMU's default MAC (net/net.c): 52:54:00:12:34:XX with the lowest XX from
 * 0x56 that no NIC before this one has, its own or a default; so a NIC
 * given 52:54:00:12:34:56 makes the next default ...:57, never a second
 * ...:56 on the same link.  NICs after this one do not count, as in QEMU,
 * where each takes its address when it is created.
 */
static uint8_t default_mac_byte(const struct genvm_config *cfg, const struct cli_virtio *dev)
{
	static const uint8_t prefix[CLI_MAC_LEN - 1] = { 0x52, 0x54, 0x00, 0x12, 0x34 };
	unsigned int b;

	for (b = 0x56; b < 0xff; b++) {
		bool taken = false;

		for (const struct cli_virtio *o = cfg->virtio; o < dev && !taken; o++)
			taken = o->kind == CLI_VIRTIO_NET && !memcmp(o->mac, prefix, sizeof(prefix)) &&
				o->mac[5] == b;
		if (!taken)
			break;
	}
	return (uint8_t)b; /* at most CLI_MAX_VIRTIO NICs: one is always free */
}

/* The NIC on netdev index nd, with mac or (mac NULL) QEMU's next default. */
static int add_nic(struct parser *p, const char *arg, unsigned int nd, const uint8_t *mac)
{
	static const uint8_t base[CLI_MAC_LEN] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
	struct cli_virtio *dev;

	if (add_virtio(p, arg, CLI_VIRTIO_NET, &dev) < 0)
		return -1;
	dev->netdev = nd;
	if (mac) {
		memcpy(dev->mac, mac, CLI_MAC_LEN);
	} else {
		memcpy(dev->mac, base, CLI_MAC_LEN);
		dev->mac[5] = default_mac_byte(p->cfg, dev);
	}
	p->cfg->netdevs[nd].used = true;
	return 0;
}

/* virtio-net-device,netdev=ID[,mac=MAC][,id=NAME] */
static int device_virtio_net(struct parser *p, const char *arg, const char *props)
{
	char prop[128], netdev[CLI_ID_MAX + 1] = "";
	uint8_t mac[CLI_MAC_LEN];
	bool have_mac = false;
	const char *pos = props, *mac_why;
	int i, ret;

	while ((ret = next_prop(&pos, prop, sizeof(prop))) > 0) {
		const char *v;

		if ((v = prop_value(prop, "netdev"))) {
			if (strlen(v) > CLI_ID_MAX)
				return bad_prop(p, "virtio-net-device", prop, "no such netdev");
			memcpy(netdev, v, strlen(v) + 1);
		} else if ((v = prop_value(prop, "mac"))) {
			if (parse_mac(v, mac, &mac_why) < 0)
				return bad_prop(p, "virtio-net-device", prop, mac_why);
			have_mac = true;
		} else if (!prop_value(prop, "id")) {
			return bad_prop(p, "virtio-net-device", prop, "unknown property");
		}
	}
	if (ret < 0)
		return bad(p, arg, "a property is too long");
	if (!netdev[0])
		return bad(p, arg, "netdev=ID is required");
	i = find_backend(p, arg, CLI_VIRTIO_NET, netdev);
	if (i < 0)
		return -1;
	return add_nic(p, arg, (unsigned int)i, have_mac ? mac : NULL);
}

/* -nic tap[,id=ID][,ifname=NAME][,script=no][,downscript=no][,vhost=on|off][,mac=MAC][,model=M] */
static int opt_nic(struct parser *p, const char *arg)
{
	const char *pos, *v, *mac_why;
	struct cli_netdev nd = { .used = false };
	uint8_t mac[CLI_MAC_LEN];
	bool have_mac = false;
	char prop[128];
	int ret;

	if (!strcmp(arg, "none"))
		return 0; /* QEMU's "no network": genvm has none unless asked */
	pos = netdev_type(p, arg);
	if (!pos)
		return -1;
	while ((ret = next_prop(&pos, prop, sizeof(prop))) > 0) {
		int r = tap_prop(p, "tap", prop, &nd);

		if (r < 0)
			return -1;
		if (r > 0)
			continue;
		if ((v = prop_value(prop, "mac"))) {
			if (parse_mac(v, mac, &mac_why) < 0)
				return bad_prop(p, "tap", prop, mac_why);
			have_mac = true;
		} else if ((v = prop_value(prop, "model"))) {
			if (strcmp(v, "virtio") && strcmp(v, "virtio-net-device"))
				return bad_prop(p, "tap", prop,
						"unsupported model (genvm has virtio-net-device)");
		} else {
			return bad_prop(p, "tap", prop, "unknown property");
		}
	}
	if (ret < 0)
		return bad(p, arg, "a property is too long");
	/* QEMU names the netdev itself; a leading '_' cannot clash with a user's id. */
	if (!nd.id[0])
		snprintf(nd.id, sizeof(nd.id), "_nic%u", p->cfg->nr_netdevs);
	nd.nic = true;
	if (add_netdev(p, arg, &nd) < 0)
		return -1;
	return add_nic(p, arg, p->cfg->nr_netdevs - 1, have_mac ? mac : NULL);
}

/* A netdev nothing uses is most likely a typo in a -device: say so, as for drives. */
static int check_netdevs(struct parser *p)
{
	for (unsigned int i = 0; i < p->cfg->nr_netdevs; i++) {
		const struct cli_netdev *nd = &p->cfg->netdevs[i];

		if (!nd->used) {
			fprintf(p->err, "genvm: -netdev id=%s: no -device virtio-net-device,netdev=%s "
					"uses it\n", nd->id, nd->id);
			return -1;
		}
	}
	return 0;
}

/* "vmclock[,id=NAME]": QEMU's device has no other property either. */
static int device_vmclock(struct parser *p, const char *arg, const char *prop)
{
	if (p->cfg->vmclock)
		return bad(p, arg, "only one vmclock device is allowed");
	while (prop && *prop) {
		const char *next = strchr(prop, ',');
		size_t len = next ? (size_t)(next - prop) : strlen(prop);

		if (!(len >= 3 && !strncmp(prop, "id=", 3))) {
			fprintf(p->err, "genvm: %s vmclock: unknown property '%.*s'\n", p->opt,
				(int)len, prop);
			return -1;
		}
		prop = next ? next + 1 : NULL;
	}
	p->cfg->vmclock = true;
	return 0;
}

/*
 * "vmgenid[,guid=UUID|auto][,id=NAME]".  The refusals are QEMU 7.2's words,
 * which scripts written for it may look for.
 */
static int device_vmgenid(struct parser *p, const char *arg, const char *props)
{
	const char *pos = props;
	struct vmgenid_guid guid;
	bool have_guid = false;
	char prop[128];
	int ret;

	if (p->cfg->vmgenid)
		return bad(p, arg, "at most one vmgenid device is permitted");

	while ((ret = next_prop(&pos, prop, sizeof(prop))) > 0) {
		const char *v, *why;
		char msg[192];

		if ((v = prop_value(prop, "guid"))) {
			if (vmgenid_guid_parse_property(v, &guid, &why) < 0) {
				snprintf(msg, sizeof(msg),
					 "Property 'vmgenid.guid' doesn't take value '%.64s'", v);
				return bad(p, arg, msg);
			}
			have_guid = true;
		} else if (prop_value(prop, "id")) {
			/* Accepted for QEMU compatibility; nothing refers to the id yet. */
		} else {
			char *eq = strchr(prop, '=');

			if (eq)
				*eq = '\0';
			snprintf(msg, sizeof(msg), "Property 'vmgenid.%.64s' not found", prop);
			return bad(p, arg, msg);
		}
	}
	if (ret < 0)
		return bad(p, arg, "a property is too long");

	if (!have_guid) {
		const char *why;

		/* QEMU's default for the property is "auto". */
		if (vmgenid_guid_parse_property("auto", &guid, &why) < 0)
			return bad(p, arg, why);
	}
	p->cfg->vmgenid = true;
	p->cfg->guid = guid;
	return 0;
}

int cli_device(struct parser *p, const char *where, const char *driver, size_t driver_len,
	       const char *props)
{
	static const struct {
		const char *name;
		int (*fn)(struct parser *p, const char *arg, const char *props);
	} drivers[] = {
		{ "vmgenid", device_vmgenid },
		{ "vmclock", device_vmclock },
		{ "virtio-blk-device", device_virtio_blk },
		{ "virtio-rng-device", device_virtio_rng },
		{ "vsock", device_vsock },
		{ "vhost-vsock-device", device_vhost_vsock },
		{ "virtio-net-device", device_virtio_net },
	};
	char why[160];

	for (size_t i = 0; i < sizeof(drivers) / sizeof(drivers[0]); i++) {
		if (driver_len == strlen(drivers[i].name) &&
		    !strncmp(driver, drivers[i].name, driver_len))
			return drivers[i].fn(p, where, props);
	}
	/* QEMU's words, then what genvm has instead. */
	snprintf(why, sizeof(why),
		 "'%.*s' is not a valid device model name (genvm has vmgenid, vmclock, "
		 "virtio-blk-device, virtio-rng-device, vsock, vhost-vsock-device, "
		 "virtio-net-device)",
		 (int)(driver_len > 64 ? 64 : driver_len), driver);
	return bad(p, where, why);
}

static int opt_device(struct parser *p, const char *arg)
{
	const char *driver_end = strchr(arg, ',');
	size_t driver_len = driver_end ? (size_t)(driver_end - arg) : strlen(arg);

	/* libvirt writes -device as a JSON object since QEMU 6.0. */
	if (arg[0] == '{')
		return cli_device_json(p, arg);
	return cli_device(p, arg, arg, driver_len, driver_end ? driver_end + 1 : NULL);
}

static int opt_nographic(struct parser *p, const char *arg)
{
	(void)arg;
	p->cfg->nographic = true;
	return 0;
}

static int opt_no_reboot(struct parser *p, const char *arg)
{
	(void)arg;
	p->cfg->no_reboot = true;
	return 0;
}

static int opt_S(struct parser *p, const char *arg)
{
	(void)arg;
	p->cfg->start_paused = true;
	return 0;
}

static int add_chardev(struct parser *p, const char *arg, struct cli_chardev *list,
		       unsigned int *nr)
{
	const char *why;

	if (*nr == CLI_MAX_CHARDEVS)
		return bad(p, arg, "too many (at most 4)");
	if (chardev_parse(arg, &list[*nr].spec, &why) < 0)
		return bad(p, arg, why);
	list[*nr].text = arg;
	(*nr)++;
	return 0;
}

static int opt_qmp(struct parser *p, const char *arg)
{
	return add_chardev(p, arg, p->cfg->qmp, &p->cfg->nr_qmp);
}

static int opt_monitor(struct parser *p, const char *arg)
{
	if (!strcmp(arg, "none")) {
		p->cfg->monitor_none = true;
		return 0;
	}
	return add_chardev(p, arg, p->cfg->monitor, &p->cfg->nr_monitor);
}

static int opt_help(struct parser *p, const char *arg);

/* The URI's syntax only: whether the snapshot is there is for the restore. */
static int opt_incoming(struct parser *p, const char *arg)
{
	if ((!strncmp(arg, "file:", 5) && arg[5]) || (!strncmp(arg, "exec:", 5) && arg[5])) {
		p->cfg->incoming = arg;
		return 0;
	}
	/* fd:N, a descriptor genvm inherited (libvirt's restore from a save file). */
	if (!strncmp(arg, "fd:", 3) && arg[3] && strlen(arg) < 9 &&
	    strspn(arg + 3, "0123456789") == strlen(arg + 3)) {
		if (fcntl(atoi(arg + 3), F_GETFD) < 0)
			return bad(p, arg, "not an open file descriptor");
		/* Only genvm reads it: not the commands it may start. */
		fcntl(atoi(arg + 3), F_SETFD, FD_CLOEXEC);
		p->cfg->incoming = arg;
		return 0;
	}
	/* QMP migrate-incoming gives the URI later (libvirt's and LXD's restore). */
	if (!strcmp(arg, "defer")) {
		p->cfg->incoming = arg;
		p->cfg->incoming_defer = true;
		return 0;
	}
	return bad(p, arg, "expected file:PATH, exec:COMMAND, fd:N or defer");
}

/* QEMU's spellings of a boolean. */
static int parse_onoff(const char *v, size_t len, bool *out)
{
	static const char *const yes[] = { "on", "yes", "true", "y" };
	static const char *const no[] = { "off", "no", "false", "n" };

	for (size_t i = 0; i < 4; i++) {
		if (strlen(yes[i]) == len && !strncmp(v, yes[i], len)) {
			*out = true;
			return 0;
		}
		if (strlen(no[i]) == len && !strncmp(v, no[i], len)) {
			*out = false;
			return 0;
		}
	}
	return -1;
}

/*
 * "on|off[,obsolete=..][,elevateprivileges=..][,spawn=..][,resourcecontrol=..]",
 * QEMU's -sandbox.  QEMU's filter is a denylist and "allow" leaves a group
 * of calls off it; genvm's is an allowlist without those groups, so it
 * takes what it can honour: spawn either way, the others only as deny
 * (elevateprivileges=children too: the commands exec: starts run with
 * no_new_privs, as QEMU's children do).  Under off, as in QEMU, the
 * parameters are checked and change nothing.
 */
static int opt_sandbox(struct parser *p, const char *arg)
{
	const char *s = arg, *next;
	bool on, spawn = true;
	size_t len;

	next = strchr(s, ',');
	len = next ? (size_t)(next - s) : strlen(s);
	if (len >= 7 && !strncmp(s, "enable=", 7)) {
		s += 7;
		len -= 7;
	}
	if (parse_onoff(s, len, &on) < 0)
		return bad(p, arg, "Parameter 'enable' expects 'on' or 'off'");
	for (s = next ? next + 1 : NULL; s; s = next ? next + 1 : NULL) {
		const char *eq, *v;
		size_t klen, vlen;
		char why[160];

		next = strchr(s, ',');
		len = next ? (size_t)(next - s) : strlen(s);
		eq = memchr(s, '=', len);
		klen = eq ? (size_t)(eq - s) : len;
		v = eq ? eq + 1 : s + len;
		vlen = eq ? len - klen - 1 : 0;
#define KEY_IS(k) (klen == strlen(k) && !strncmp(s, k, klen))
#define VAL_IS(x) (vlen == strlen(x) && !strncmp(v, x, vlen))
		if (KEY_IS("spawn")) {
			if (!VAL_IS("allow") && !VAL_IS("deny"))
				return bad(p, arg, "invalid argument for spawn");
			spawn = VAL_IS("allow");
			continue;
		}
		if (KEY_IS("obsolete") || KEY_IS("resourcecontrol")) {
			if (!VAL_IS("allow") && !VAL_IS("deny")) {
				snprintf(why, sizeof(why), "invalid argument for %.*s", (int)klen, s);
				return bad(p, arg, why);
			}
		} else if (KEY_IS("elevateprivileges")) {
			if (!VAL_IS("allow") && !VAL_IS("deny") && !VAL_IS("children"))
				return bad(p, arg, "invalid argument for elevateprivileges");
		} else {
			snprintf(why, sizeof(why), "Invalid parameter '%.*s'", (int)klen, s);
			return bad(p, arg, why);
		}
		if (on && VAL_IS("allow")) {
			if (KEY_IS("obsolete"))
				return bad(p, arg, "genvm makes no obsolete system calls to allow "
					   "(only obsolete=deny)");
			if (KEY_IS("resourcecontrol"))
				return bad(p, arg, "genvm never changes CPU affinity or scheduling "
					   "(only resourcecontrol=deny)");
			return bad(p, arg, "genvm never changes its user or group "
				   "(only elevateprivileges=deny or children)");
		}
#undef KEY_IS
#undef VAL_IS
	}
	p->cfg->sandbox = on;
	p->cfg->sandbox_spawn = spawn;
	return 0;
}

static int opt_version(struct parser *p, const char *arg)
{
	(void)arg;
	/* QEMU's shape: scripts that parse "NAME version X.Y.Z" read ours too. */
	fprintf(p->out, "genvm version %s\nCopyright (c) 2026 the vmgenid authors\n", GENVM_VERSION);
	return 1;
}

static const struct option_desc options[] = {
	{ "m", "SIZE", cli_opt_m,
	  "guest RAM (1.5G, 512M; suffix K, M, G or T; plain number: MiB; default 256M)" },
	{ "smp", "N[,sockets=S,cores=C,threads=T,maxcpus=N]", cli_opt_smp,
	  "number of vCPUs (default 1); a topology must multiply to N" },
	{ "kernel", "BZIMAGE", opt_kernel, "Linux kernel to boot (64-bit bzImage)" },
	{ "initrd", "FILE", opt_initrd, "initial ramdisk" },
	{ "append", "CMDLINE", opt_append, "kernel command line" },
	{ "device", "vmgenid[,guid=UUID|auto]", opt_device,
	  "add the VM generation ID device (guid defaults to auto), or vmclock (VMClock)" },
	{ "device", "virtio-blk-device,drive=ID[,serial=S]", NULL,
	  "a virtio disk for the -drive with if=none,id=ID" },
	{ "device", "virtio-rng-device", NULL, "a virtio entropy source (host getrandom())" },
	{ "device", "vsock,uds=PATH[,guest-cid=N]", NULL,
	  "vsock to host programs over unix sockets: PATH takes CONNECT <port>, "
	  "guest connections to port P reach PATH_P (guest-cid defaults to 3)" },
	{ "device", "vhost-vsock-device,guest-cid=N", NULL,
	  "vsock through the host kernel's /dev/vhost-vsock (N unique on the host)" },
	{ "device", "virtio-net-device,netdev=ID[,mac=MAC]", NULL,
	  "a virtio NIC on the -netdev with id=ID (MAC default 52:54:00:12:34:56, +1 per NIC)" },
	{ "netdev", "tap,id=ID,ifname=NAME[,script=no,downscript=no,vhost=off]", opt_netdev,
	  "a tap device (opened, or created and removed at exit) for a virtio-net-device" },
	{ "nic", "tap,ifname=NAME[,mac=MAC,...]", opt_nic, "-netdev tap and its virtio-net-device at once" },
	{ "drive", "file=PATH,format=raw,if=virtio|none[,...]", opt_drive,
	  "a raw disk image; if=virtio adds its device; id=ID, readonly=on, "
	  "cache=writeback|none, snapshot=on (writes go to a private overlay)" },
	{ "nographic", NULL, opt_nographic, "serial console on stdin/stdout (Ctrl-A x quits)" },
	{ "no-reboot", NULL, opt_no_reboot, "exit instead of rebooting" },
	{ "S", NULL, opt_S, "do not start the vCPUs (QMP/monitor 'cont' does)" },
	{ "qmp", "DEV", opt_qmp,
	  "QMP on DEV: unix:PATH,server=on[,wait=off], tcp:HOST:PORT,server=on, stdio, "
	  "pipe:PATH, /dev/..." },
	{ "monitor", "DEV", opt_monitor, "human monitor on DEV (as -qmp), or none" },
	{ "incoming", "URI", opt_incoming,
	  "start from a snapshot: file:PATH, exec:COMMAND that writes it to stdout, fd:N, "
	  "or defer (QMP migrate-incoming gives the URI)" },
	{ "sandbox", "on|off[,spawn=deny]", opt_sandbox,
	  "seccomp allowlist per genvm thread (default on; docs/sandbox.md); "
	  "spawn=deny: no exec: commands" },
	/* QEMU's options that libvirt and LXD write (docs/qemu-compat.md). */
	{ "name", "NAME[,debug-threads=on]", cli_opt_name, "the guest's name (QMP query-name)" },
	{ "uuid", "UUID", cli_opt_uuid, "the guest's UUID (QMP query-uuid)" },
	{ "machine", "pc|q35|microvm[,accel=kvm,...]", cli_opt_machine,
	  "accepted for QEMU's machine types: genvm has one machine" },
	{ "M", "TYPE", cli_opt_machine, NULL },
	{ "accel", "kvm", cli_opt_accel, "KVM, the only accelerator genvm has" },
	{ "enable-kvm", NULL, cli_opt_as_is, "the same as -accel kvm" },
	{ "cpu", "host", cli_opt_cpu, "the host's CPU model, the only one genvm offers" },
	{ "chardev", "BACKEND,id=ID[,...]", cli_opt_chardev,
	  "socket (path=, host=/port= or fd=), stdio, pipe, serial, file, null or pty, for -mon "
	  "and -serial" },
	{ "mon", "chardev=ID[,mode=control|readline]", cli_opt_mon,
	  "QMP (mode=control) or the monitor on a -chardev" },
	{ "serial", "DEV", cli_opt_serial,
	  "the console: stdio (default), file:PATH, pty, unix:PATH,server=on[,wait=off], "
	  "tcp:HOST:PORT,server=on[,wait=off] (one client at a time), null, none or chardev:ID" },
	{ "readconfig", "FILE", cli_opt_readconfig,
	  "QEMU config file sections: [device], [machine], [memory], [smp-opts], [chardev], [mon]" },
	{ "daemonize", NULL, cli_opt_daemonize, "detach once the guest is set up" },
	{ "pidfile", "FILE", cli_opt_pidfile, "write genvm's process id to FILE" },
	{ "nodefaults", NULL, cli_opt_nodefaults, "no default console (give -serial)" },
	{ "no-user-config", NULL, cli_opt_as_is, "accepted: genvm reads no config file" },
	{ "object", "memory-backend-ram,id=ID,size=SIZE", cli_opt_object,
	  "guest RAM for -machine memory-backend=ID (also as JSON); secret objects are accepted" },
	{ "overcommit", "mem-lock=off", cli_opt_overcommit, "accepted as off: genvm does not lock RAM" },
	{ "rtc", "base=utc[,driftfix=slew]", cli_opt_rtc, "accepted: genvm has no RTC (kvmclock)" },
	{ "global", "DRIVER.PROP=VALUE", cli_opt_global,
	  "the few libvirt writes that describe genvm as it is (docs/qemu-compat.md)" },
	{ "no-hpet", NULL, cli_opt_as_is, "accepted: genvm has no HPET" },
	{ "boot", "strict=on[,menu=off]", cli_opt_boot, "accepted: genvm boots -kernel directly" },
	{ "msg", "timestamp=on|off", cli_opt_msg, "prefix genvm's messages with the time" },
	{ "no-shutdown", NULL, cli_opt_no_shutdown, "on guest power-off stop and wait for quit" },
	{ "help", NULL, opt_help, "print this help and exit" },
	{ "h", NULL, opt_help, NULL },
	{ "version", NULL, opt_version, "print the version and exit" },
};

static int opt_help(struct parser *p, const char *arg)
{
	(void)arg;
	fprintf(p->out, "usage: genvm -kernel BZIMAGE [options]\n\n");
	for (size_t i = 0; i < sizeof(options) / sizeof(options[0]); i++) {
		const struct option_desc *o = &options[i];
		char left[96];

		if (!o->help)
			continue;
		snprintf(left, sizeof(left), "-%s%s%s", o->name, o->arg ? " " : "",
			 o->arg ? o->arg : "");
		if (strlen(left) > 32)
			fprintf(p->out, "  %s\n  %-32s %s\n", left, "", o->help);
		else
			fprintf(p->out, "  %-32s %s\n", left, o->help);
	}
	fprintf(p->out, "\nWith -nographic, C-a c switches stdio between the console and the "
			"monitor,\nC-a x quits, C-a h lists the keys.\n");
	return 1;
}

static const struct option_desc *find_option(const char *arg)
{
	const char *name = arg + 1;

	/* Like QEMU, "-opt" and "--opt" are the same option. */
	if (name[0] == '-')
		name++;
	for (size_t i = 0; i < sizeof(options) / sizeof(options[0]); i++) {
		if (!strcmp(options[i].name, name) && options[i].fn)
			return &options[i];
	}
	return NULL;
}


static int check_kernel(struct parser *p)
{
	struct genvm_config *cfg = p->cfg;
	uint8_t hdr[BZ_SETUP_HEADER_END];
	const char *why;
	struct stat st;
	ssize_t n;
	int fd;

	p->opt = "-kernel";
	if (!cfg->kernel_path)
		return bad(p, NULL, "a kernel is required");
	fd = open(cfg->kernel_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return bad(p, cfg->kernel_path, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return bad(p, cfg->kernel_path, "not a regular file");
	}
	n = pread(fd, hdr, sizeof(hdr), 0);
	close(fd);
	if (n < 0)
		return bad(p, cfg->kernel_path, strerror(errno));
	if (bzimage_parse(hdr, (size_t)n, (uint64_t)st.st_size, &cfg->kernel, &why) < 0)
		return bad(p, cfg->kernel_path, why);
	cfg->kernel_file_size = (uint64_t)st.st_size;
	if (strlen(cfg->cmdline) > cfg->kernel.cmdline_size) {
		char msg[80];

		snprintf(msg, sizeof(msg), "longer than this kernel accepts (%u bytes)",
			 cfg->kernel.cmdline_size);
		p->opt = "-append";
		return bad(p, NULL, msg);
	}
	return 0;
}

static int check_initrd(struct parser *p)
{
	struct genvm_config *cfg = p->cfg;
	struct stat st;
	int fd;

	if (!cfg->initrd_path)
		return 0;
	p->opt = "-initrd";
	fd = open(cfg->initrd_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return bad(p, cfg->initrd_path, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return bad(p, cfg->initrd_path, "not a regular file");
	}
	close(fd);
	cfg->initrd_size = (uint64_t)st.st_size;
	return 0;
}

int cli_check_memory(const struct genvm_config *cfg, uint64_t size, uint64_t host_ram,
		     char *why, size_t why_len)
{
	uint64_t low = size < 3 * GiB ? size : 3 * GiB;
	uint64_t need, initrd = (cfg->initrd_size + 0xfff) & ~0xfffull;
	int ret = cli_check_ram_size(size, host_ram, why, why_len);

	if (ret < 0)
		return ret;
	need = bzimage_ram_needed(&cfg->kernel) + initrd + LAYOUT_HIGH_ZONE_SIZE;
	if (need > low) {
		snprintf(why, why_len, "too small for this kernel%s (needs at least %" PRIu64 "M)",
			 cfg->initrd_path ? " and initrd" : "", (uint64_t)((need + MiB - 1) / MiB));
		return -EINVAL;
	}
	return 0;
}

/* A drive nothing uses is most likely a typo in a -device: say so. */
static int check_drives(struct parser *p)
{
	for (unsigned int i = 0; i < p->cfg->nr_drives; i++) {
		const struct cli_drive *d = &p->cfg->drives[i];

		if (!d->used) {
			fprintf(p->err, "genvm: -drive id=%s: no -device virtio-blk-device,drive=%s "
					"uses it\n", d->id, d->id);
			return -1;
		}
	}
	return 0;
}

static int check_memory(struct parser *p, uint64_t host_ram)
{
	char value[32], why[96];

	snprintf(value, sizeof(value), "%" PRIu64 "M", (uint64_t)(p->cfg->ram_size / MiB));
	p->opt = "-m";
	if (cli_check_memory(p->cfg, p->cfg->ram_size, host_ram, why, sizeof(why)) < 0)
		return bad(p, value, why);
	return 0;
}

/*
 * stdio goes to one user, as in QEMU: -nographic (console, and a monitor
 * behind C-a c unless -monitor says otherwise), or one -qmp, or one
 * -monitor.  The guest console writes to stdout only when it owns stdio or
 * nothing does.
 */
static int check_stdio(struct parser *p)
{
	struct genvm_config *cfg = p->cfg;
	const char *owner = cfg->nographic ? "-nographic" : NULL;
	struct {
		const char *opt;
		const struct cli_chardev *list;
		unsigned int nr;
	} uses[] = {
		{ "-qmp", cfg->qmp, cfg->nr_qmp },
		{ "-monitor", cfg->monitor, cfg->nr_monitor },
	};

	for (size_t u = 0; u < 2; u++) {
		for (unsigned int i = 0; i < uses[u].nr; i++) {
			if (uses[u].list[i].spec.kind != CHARDEV_STDIO)
				continue;
			if (owner) {
				char why[64];

				snprintf(why, sizeof(why), "stdio is already used by %s", owner);
				p->opt = uses[u].opt;
				return bad(p, uses[u].list[i].text, why);
			}
			owner = uses[u].opt;
		}
	}
	cfg->mux_monitor = cfg->nographic && !cfg->nr_monitor && !cfg->monitor_none;
	cfg->serial_stdout = !owner || cfg->nographic;
	return 0;
}

enum cli_result cli_parse(int argc, char **argv, struct genvm_config *cfg, uint64_t host_ram,
			  FILE *out, FILE *err)
{
	struct parser p = { .cfg = cfg, .out = out, .err = err };

	memset(cfg, 0, sizeof(*cfg));
	cfg->ram_size = CLI_DEFAULT_RAM;
	cfg->nr_cpus = 1;
	cfg->cmdline = "";
	cfg->sandbox = true;
	cfg->sandbox_spawn = true;
	cfg->host_ram = host_ram;

	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];
		const struct option_desc *o = arg[0] == '-' ? find_option(arg) : NULL;
		int ret;

		if (!o) {
			/* QEMU's words: scripts written for it may look for them. */
			if (arg[0] == '-')
				fprintf(err, "genvm: %s: invalid option\n", arg);
			else
				fprintf(err, "genvm: unexpected argument '%s' (try --help)\n", arg);
			return CLI_ERROR;
		}
		p.opt = arg;
		if (o->arg && i + 1 >= argc) {
			bad(&p, NULL, "requires an argument");
			return CLI_ERROR;
		}
		ret = o->fn(&p, o->arg ? argv[++i] : NULL);
		if (ret < 0)
			return CLI_ERROR;
		if (ret > 0)
			return CLI_EXIT;
	}

	if (cfg->incoming && !strncmp(cfg->incoming, "exec:", 5) && cfg->sandbox &&
	    !cfg->sandbox_spawn) {
		p.opt = "-incoming";
		bad(&p, cfg->incoming, "-sandbox on,spawn=deny forbids starting commands");
		return CLI_ERROR;
	}
	if (cli_compat_check(&p) < 0 || check_drives(&p) < 0 || check_netdevs(&p) < 0 ||
	    check_stdio(&p) < 0 || check_kernel(&p) < 0 || check_initrd(&p) < 0 ||
	    check_memory(&p, host_ram) < 0)
		return CLI_ERROR;
	return CLI_RUN;
}
