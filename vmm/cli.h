/* SPDX-License-Identifier: MIT */
/*
 * genvm's command line: the QEMU spelling of the options that matter here.
 * Parsing checks everything it can before a VM exists (the kernel's boot
 * header, the initrd, memory against the host and the kernel), so a bad
 * command line never starts a guest.
 */
#ifndef GENVM_CLI_H
#define GENVM_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "vmgenid/guid.h"

#include "bzimage.h"
#include "chardev.h"

#define CLI_DEFAULT_RAM (256ull << 20)
#define CLI_MAX_CPUS 254 /* xAPIC ids 0..254 */
#define CLI_MAX_CHARDEVS 4 /* -qmp and -monitor channels, each */

#define CLI_MAX_DRIVES 8
#define CLI_MAX_VIRTIO 8 /* virtio-mmio windows, see layout.h */
#define CLI_PATH_MAX 4096
#define CLI_ID_MAX 32
#define CLI_SERIAL_MAX 20 /* the virtio-blk GET_ID answer */
#define CLI_NAME_MAX 255 /* -name */
#define CLI_MAX_NAMED_CHARDEVS 8 /* -chardev ...,id=ID */
#define CLI_TEXT_POOL 8192 /* texts -readconfig and -mon make, which argv does not hold */

/* -drive file=PATH,format=raw,if=virtio|none[,id=ID][,readonly=on][,cache=...][,snapshot=on] */
struct cli_drive {
	char file[CLI_PATH_MAX];
	char id[CLI_ID_MAX + 1]; /* "" when none was given */
	bool readonly;
	bool snapshot;
	bool direct;      /* cache=none */
	bool if_virtio;   /* the drive makes its own virtio-blk device */
	bool used;        /* a device is attached to it */
};

/* -netdev tap,id=ID[,ifname=NAME][,script=no][,downscript=no][,vhost=off] */
#define CLI_MAX_NETDEVS 8
#define CLI_IFNAME_MAX 15 /* IFNAMSIZ - 1 */
#define CLI_MAC_LEN 6
struct cli_netdev {
	char id[CLI_ID_MAX + 1];
	char ifname[CLI_IFNAME_MAX + 1]; /* "" lets the kernel name it */
	bool used;                       /* a virtio-net device is attached to it */
	bool vhost;                      /* vhost=on: the host kernel's vhost-net moves the frames */
	bool nic;                        /* made by -nic: errors name -nic, not an id never written */
};

enum cli_virtio_kind {
	CLI_VIRTIO_BLK,
	CLI_VIRTIO_RNG,
	CLI_VIRTIO_VSOCK,       /* -device vsock: hybrid, over unix sockets */
	CLI_VIRTIO_VHOST_VSOCK, /* -device vhost-vsock-device: the host kernel's */
	CLI_VIRTIO_NET,
};

/* The one vsock device (a Linux guest drives one virtio vsock transport). */
#define CLI_VSOCK_UDS_MAX 96 /* PATH_4294967295 must fit a sockaddr_un */
struct cli_vsock {
	uint32_t guest_cid;
	char uds[CLI_VSOCK_UDS_MAX + 1]; /* hybrid only */
};

/* One virtio-mmio device, in command-line order: that order is its slot. */
struct cli_virtio {
	enum cli_virtio_kind kind;
	unsigned int drive; /* blk: index into drives[] */
	char serial[CLI_SERIAL_MAX + 1];
	unsigned int netdev;      /* net: index into netdevs[] */
	uint8_t mac[CLI_MAC_LEN]; /* net: given, or QEMU's default 52:54:00:12:34:56 + n */
};

struct cli_chardev {
	const char *text; /* as given, for messages */
	struct chardev_spec spec;
};

/* -chardev BACKEND,id=ID,...: used by -mon chardev=ID or -serial chardev:ID. */
struct cli_named_chardev {
	char id[CLI_ID_MAX + 1];
	const char *text;
	const char *file;        /* file,path=P: a console's output only */
	bool append;             /* file,append=on */
	bool is_null;            /* null */
	bool is_pty;             /* pty: a pseudo-terminal for the console */
	bool used;
	struct chardev_spec spec; /* a channel backend (socket, stdio, pipe, serial) */
};

struct genvm_config {
	uint64_t ram_size;
	unsigned int nr_cpus;
	const char *kernel_path;
	const char *initrd_path;
	const char *cmdline;
	bool vmgenid;
	struct vmgenid_guid guid;
	bool vmclock;       /* -device vmclock */
	bool nographic;
	bool no_reboot;
	bool no_shutdown;  /* a guest power-off stops the vCPUs; quit ends genvm */
	bool start_paused;  /* -S */
	struct cli_chardev qmp[CLI_MAX_CHARDEVS];
	unsigned int nr_qmp;
	struct cli_chardev monitor[CLI_MAX_CHARDEVS];
	unsigned int nr_monitor;
	bool monitor_none;  /* -monitor none */
	const char *incoming; /* -incoming file:PATH | exec:COMMAND | fd:N | defer */
	bool incoming_defer;  /* -incoming defer: QMP migrate-incoming gives the URI */
	bool sandbox;         /* -sandbox on (the default) */
	bool sandbox_spawn;   /* -sandbox spawn=allow (the default): exec: may start commands */
	bool ram_size_given;  /* -m was on the command line */
	bool nr_cpus_given;   /* -smp was */
	struct cli_drive drives[CLI_MAX_DRIVES];
	unsigned int nr_drives;
	struct cli_virtio virtio[CLI_MAX_VIRTIO];
	unsigned int nr_virtio;
	struct cli_vsock vsock; /* when a virtio[] entry is a vsock */
	struct cli_netdev netdevs[CLI_MAX_NETDEVS];
	unsigned int nr_netdevs;
	uint64_t host_ram;    /* memory is checked against this (0: the system's) */

	/* QEMU's options for management software (cli_compat.c, docs/qemu-compat.md). */
	char name[CLI_NAME_MAX + 1]; /* -name: QMP query-name */
	bool name_given;
	struct vmgenid_guid uuid;     /* -uuid: QMP query-uuid (zero when not given, as QEMU's) */
	bool daemonize;       /* -daemonize */
	const char *pidfile;  /* -pidfile */
	bool nodefaults;      /* -nodefaults: no console unless -serial names one */
	bool serial_given;    /* -serial was on the command line */
	bool serial_null;     /* -serial null|none: the console's output is dropped */
	bool serial_pty;      /* -serial pty (or a pty chardev): the console on a new pty */
	char serial_pty_label[CLI_ID_MAX + 1]; /* its label in "char device redirected" */
	const char *serial_file; /* -serial file:PATH: the console's output goes there */
	bool serial_socket;   /* -serial unix:|tcp:, or a socket chardev: the console there */
	struct cli_chardev serial_chardev; /* ... its listening socket */
	bool serial_append;   /* ... after what the file holds (-chardev file,append=on) */
	char mem_backend[CLI_ID_MAX + 1]; /* -machine memory-backend=ID */
	char ram_object[CLI_ID_MAX + 1];  /* -object memory-backend-ram,id=ID ... */
	uint64_t ram_object_size;         /* ... size=SIZE */
	bool msg_timestamp;   /* -msg timestamp=on: genvm's messages are prefixed with the time */
	struct cli_named_chardev chardevs[CLI_MAX_NAMED_CHARDEVS];
	unsigned int nr_chardevs;
	char text_pool[CLI_TEXT_POOL];
	size_t text_used;

	/* Derived: who owns stdio. */
	bool mux_monitor;   /* -nographic: C-a c reaches a monitor on stdio */
	bool serial_stdout; /* the guest console writes to stdout */

	/* Filled in from the files. */
	struct bzimage kernel;
	uint64_t kernel_file_size;
	uint64_t initrd_size;
};

enum cli_result {
	CLI_RUN = 0,   /* config is complete: start the machine */
	CLI_EXIT = 1,  /* --help or --version was printed: exit 0 */
	CLI_ERROR = -1 /* a message went to err: exit 1 */
};

/*
 * Parse argv.  host_ram is the host's memory in bytes (0: ask the system).
 * Messages go to err as "genvm: <what>: <why>", help and version to out.
 */
enum cli_result cli_parse(int argc, char **argv, struct genvm_config *cfg, uint64_t host_ram,
			  FILE *out, FILE *err);

/*
 * Guest memory of size bytes against what genvm accepts, for -m and for a
 * snapshot's header alike: a whole number of MiB, at least 32M, at most
 * host_ram (0: the system's memory).  0, or -EINVAL/-ENOMEM with a reason
 * in why ("too small (at least 32M)").  cli_check_memory() adds that the
 * kernel and initrd of cfg fit below 3G, as a reset boots them.
 */
int cli_check_ram_size(uint64_t size, uint64_t host_ram, char *why, size_t why_len);
int cli_check_memory(const struct genvm_config *cfg, uint64_t size, uint64_t host_ram,
		     char *why, size_t why_len);

/* "256M", "1G", "512" (MiB): 0 or -EINVAL with *why. */
int cli_parse_size(const char *text, uint64_t *bytes, const char **why);

#endif
