#!/usr/bin/env bash
# Build the Debian root disk that make demo and the disk e2e scenarios boot:
# Debian bookworm (minbase, systemd) as a raw ext4 image, with the static
# vmgenid guest tool, its watch unit enabled, a hook for it, and a small
# service that answers with the current generation ID.  Cached and
# idempotent: it is built again only when one of its inputs changes.
#
# usage: scripts/rootfs-image.sh [BUILD_DIR]      (default: $BUILD, else build)
#
# Everything comes from Debian's archive through mmdebstrap; nothing else is
# downloaded.  The image holds no kernel and no modules: it boots with the
# kernel and initramfs of scripts/guest-image.sh, whose /init loads the virtio
# and ext4 modules, mounts root=/dev/vda and hands over to systemd.  So one
# image serves any kernel that script fetches.
#
# Results, in $VMGENID_CACHE (default: <repo>/.cache/guest):
#   rootfs.img         raw ext4 image (label vmgenid-root), about 240 MiB
#   rootfs.stamp       the inputs it was built from
#   rootfs-base.tar    Debian's packages as mmdebstrap installed them, kept so
#                      that a change of ours does not fetch them again
#
# What is in it (tests/e2e/guest/rootfs/):
#   /usr/local/bin/vmgenid               the guest tool (build/guest/vmgenid)
#   vmgenid-watch.service                contrib's unit, enabled; its hook
#   /etc/vmgenid/on-change.d/50-genid    gives each clone its own file on the
#                                        disk and reports what the clone sees
#   genid.socket, genid@.service         port 7007 answers with the ID and
#                                        an instance ID
#   genid-vsock.socket, genid-vsock@.service, 71-genid-vsock.rules
#                                        the same on vsock port 7007, started
#                                        by udev when /dev/vsock appears
#   genid-sink/-source sockets           ports 7008/7009: 64 MiB transfer checks
#   20-genvm.network                     systemd-networkd: 10.0.2.15/24 on the
#                                        virtio NIC (and DHCP)
#   on-change.d/20-drain-hwrng           contrib's hook: the hwrng bytes a
#                                        clone restored are dropped
#   on-change.d/40-renew-dhcp-lease,     hooks: renew the lease and the
#   on-change.d/45-genid-instance        instance ID in a clone, before
#                                        50-genid reports the clone
#   genid-report.service                 after multi-user.target: says the
#                                        ID on the console, runs the steps
#                                        the kernel command line asks for
#                                        (genid.e2e=..., see genid-agent)
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-${BUILD:-build}}
case $build in /*) ;; *) build=$repo/$build ;; esac
cache=${VMGENID_CACHE:-$repo/.cache/guest}
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)
files=$repo/tests/e2e/guest/rootfs
suite=bookworm
# mmdebstrap's minbase is the Essential set and apt; these make it a
# system: systemd as PID 1, udev for /dev, e2fsprogs to check its own disk;
# iproute2 to look at its network (systemd-networkd, in the systemd package,
# configures it), iperf3 for bench/net.sh and fio for bench/disk.sh.
packages=systemd,systemd-sysv,udev,kmod,e2fsprogs,util-linux,iproute2,iperf3,fio

scratch=()
trap 'rm -rf "${scratch[@]}"' EXIT

die() {
	echo "rootfs-image: $*" >&2
	exit 1
}

need() {
	command -v "$1" >/dev/null 2>&1 ||
		die "'$1' not found; install the Debian package $2 (scripts/deps.sh does)"
}

need mmdebstrap mmdebstrap
need mke2fs e2fsprogs
need e2fsck e2fsprogs
[ "$(id -u)" = 0 ] ||
	die "must run as root: mmdebstrap's root mode makes the files root's own"

tool=$build/guest/vmgenid
[ -x "$tool" ] || die "$tool missing: build first (meson setup build && ninja -C build)"
! readelf -l "$tool" 2>/dev/null | grep -q INTERP ||
	die "$tool is dynamically linked (a sanitizer build?): use a plain build"

# Documentation, manual pages and translations are a third of minbase and
# nothing here reads them.
nodoc=(
	--dpkgopt='path-exclude=/usr/share/man/*'
	--dpkgopt='path-exclude=/usr/share/doc/*'
	--dpkgopt='path-include=/usr/share/doc/*/copyright'
	--dpkgopt='path-exclude=/usr/share/info/*'
	--dpkgopt='path-exclude=/usr/share/locale/*'
	--dpkgopt='path-exclude=/usr/share/lintian/*'
)

# Two stages, each cached: Debian's packages installed (rootfs-base.tar,
# the slow part: minutes, mostly downloading), then our files on top and the
# ext4 image (seconds), so a change to the guest tool or the units does not
# fetch Debian again.
base_stamp=$(echo "$suite $packages ${nodoc[*]}" | sha256sum | cut -d' ' -f1)
inputs=("$0" "$tool" "$repo/contrib/vmgenid-watch.service"
	"$repo/contrib/on-change.d/40-renew-dhcp-lease" "$repo/contrib/on-change.d/20-drain-hwrng"
	"$files"/*)
stamp=$( {
	echo "$base_stamp"
	sha256sum "${inputs[@]}" | cut -d' ' -f1
} | sha256sum | cut -d' ' -f1)

if [ "$(cat "$cache/rootfs.stamp" 2>/dev/null)" = "$stamp" ] && [ -f "$cache/rootfs.img" ]; then
	exit 0
fi

tmp=$(mktemp -d "$cache/rootfs.XXXXXX")
scratch+=("$tmp")
root=$tmp/root

if [ "$(cat "$cache/rootfs-base.stamp" 2>/dev/null)" != "$base_stamp" ] ||
	[ ! -f "$cache/rootfs-base.tar" ]; then
	echo "rootfs-image: installing Debian $suite ($packages) with mmdebstrap" >&2
	# Root mode: we are root, and it needs neither user namespaces nor
	# fakechroot.  Its output is kept for the failure message only.
	if ! mmdebstrap --mode=root --variant=minbase --format=tar \
		--include="$packages" "${nodoc[@]}" --aptopt='Acquire::Retries "3"' \
		"$suite" "$tmp/base.tar" >"$tmp/mmdebstrap.log" 2>&1; then
		tail -n 30 "$tmp/mmdebstrap.log" >&2
		die "mmdebstrap failed (no access to Debian's archive?)"
	fi
	mv "$tmp/base.tar" "$cache/rootfs-base.tar"
	echo "$base_stamp" >"$cache/rootfs-base.stamp"
fi

echo "rootfs-image: building the root image" >&2
mkdir "$root"
tar -xpf "$cache/rootfs-base.tar" --xattrs --xattrs-include='*' --numeric-owner -C "$root"

install -D -m 0755 "$tool" "$root/usr/local/bin/vmgenid"
install -D -m 0644 "$repo/contrib/vmgenid-watch.service" "$root/etc/systemd/system/vmgenid-watch.service"
# The unit runs every executable in the drop-in directory (docs/guest-tool.md).
install -D -m 0755 "$files/on-change" "$root/etc/vmgenid/on-change.d/50-genid"
install -D -m 0755 "$files/genid-agent" "$root/usr/local/sbin/genid-agent"
install -D -m 0755 "$files/genid-answer" "$root/usr/local/sbin/genid-answer"
for u in genid.socket genid@.service genid-report.service genid-sink.socket \
	genid-sink@.service genid-source.socket genid-source@.service genid-vsock.socket \
	genid-vsock@.service; do
	install -D -m 0644 "$files/$u" "$root/etc/systemd/system/$u"
done
# The vsock listener is not enabled: udev starts it with the vsock device,
# so a machine without one neither fails it nor waits for it.
install -D -m 0644 "$files/71-genid-vsock.rules" "$root/etc/udev/rules.d/71-genid-vsock.rules"
# The network: systemd-networkd on the virtio NIC; on a generation change the
# DHCP lease and the genid service's instance ID are renewed.
install -D -m 0644 "$files/20-genvm.network" "$root/etc/systemd/network/20-genvm.network"
install -D -m 0755 "$repo/contrib/on-change.d/40-renew-dhcp-lease" \
	"$root/etc/vmgenid/on-change.d/40-renew-dhcp-lease"
install -D -m 0755 "$repo/contrib/on-change.d/20-drain-hwrng" \
	"$root/etc/vmgenid/on-change.d/20-drain-hwrng"
install -D -m 0755 "$files/45-genid-instance" "$root/etc/vmgenid/on-change.d/45-genid-instance"

# systemctl enable, by hand: the links its [Install] sections ask for.
wants=$root/etc/systemd/system
mkdir -p "$wants/multi-user.target.wants" "$wants/sockets.target.wants"
ln -sf ../vmgenid-watch.service "$wants/multi-user.target.wants/vmgenid-watch.service"
ln -sf ../genid-report.service "$wants/multi-user.target.wants/genid-report.service"
ln -sf ../genid.socket "$wants/sockets.target.wants/genid.socket"
ln -sf ../genid-sink.socket "$wants/sockets.target.wants/genid-sink.socket"
ln -sf ../genid-source.socket "$wants/sockets.target.wants/genid-source.socket"
ln -sf /lib/systemd/system/systemd-networkd.service \
	"$wants/multi-user.target.wants/systemd-networkd.service"
ln -sf /lib/systemd/system/systemd-networkd.socket \
	"$wants/sockets.target.wants/systemd-networkd.socket"
# bench/net.sh's peer in the guest (Debian's unit, not enabled by default).
[ ! -e "$root/lib/systemd/system/iperf3.service" ] ||
	ln -sf /lib/systemd/system/iperf3.service "$wants/multi-user.target.wants/iperf3.service"
# Masked: what a disk-booted microVM without a screen, network, D-Bus or
# clock to keep does not need and would only slow its boot with (logind
# needs D-Bus; the gettys would put login prompts among the console lines).
for u in systemd-logind.service getty@tty1.service serial-getty@ttyS0.service \
	apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer e2scrub_reap.service \
	fstrim.timer systemd-networkd-wait-online.service proc-sys-fs-binfmt_misc.automount; do
	ln -sf /dev/null "$wants/$u"
done
# Masked too, for the boot's length (make demo's source boots this image
# under nested emulation, where every unit started costs seconds): the
# units whose work dpkg's own triggers did when the image was built, and
# that every boot of the pristine image (ConditionNeedsUpdate, first boot)
# would redo (ld.so.cache, hwdb.bin, the journal catalog, system users);
# the first-boot prompts a console without a user cannot answer; utmp for
# logins nobody makes; mounts and services for facilities nothing here
# uses (pstore, debugfs, tracefs, configfs, fuse, huge pages, POSIX message
# queues, binfmt_misc); and a timer that backs up dpkg's database.  Measured
# (bench/disk.sh's slowest units, nested): getty-static.service, which
# starts gettys on tty2-6 when logind is missing (36 s of a 140 s userspace
# boot), and systemd-user-sessions.service (15 s), which lifts a login ban
# for logins nobody makes here.
for u in getty-static.service systemd-user-sessions.service ldconfig.service \
	systemd-hwdb-update.service systemd-journal-catalog-update.service systemd-update-done.service \
	systemd-sysusers.service systemd-firstboot.service \
	systemd-update-utmp.service systemd-update-utmp-runlevel.service systemd-pstore.service \
	sys-kernel-debug.mount sys-kernel-tracing.mount sys-kernel-config.mount \
	sys-fs-fuse-connections.mount dev-hugepages.mount dev-mqueue.mount systemd-binfmt.service \
	dpkg-db-backup.timer; do
	ln -sf /dev/null "$wants/$u"
done

# The journal in RAM only: nothing here reads it after a reboot, and moving
# it to the disk (systemd-journal-flush.service) took 12 s of the boot.
mkdir -p "$root/etc/systemd/journald.conf.d"
printf '[Journal]\nStorage=volatile\n' >"$root/etc/systemd/journald.conf.d/volatile.conf"

echo vmgenid-guest >"$root/etc/hostname"
# No fsck at boot (pass 0): the initramfs mounts the disk read-write, and the
# tests check it with e2fsck -n from outside.
printf '/dev/vda / ext4 rw,errors=remount-ro 0 0\n' >"$root/etc/fstab"
# Empty: each system booted from the image makes its own machine ID at its
# first boot (a clone keeps its source's, as any copy of a running system).
: >"$root/etc/machine-id"
# The hwdb sources are compiled into hwdb.bin, which udev reads.
rm -rf "$root"/usr/lib/udev/hwdb.d/*.hwdb
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin \
	"$root"/var/cache/apt/archives/*.deb "$root"/var/log/*.log

# Size: the files plus room for ext4's own metadata and journal, the
# systemd journal and the guests' writes; no blocks reserved for root, who
# is the only user.
used=$(du -sm "$root" | cut -f1)
size=$(((used + used / 8 + 48 + 15) / 16 * 16))
mke2fs -q -t ext4 -m 0 -L vmgenid-root -d "$root" -E lazy_itable_init=0,lazy_journal_init=0 \
	"$tmp/rootfs.img" "${size}M" >/dev/null
e2fsck -fn "$tmp/rootfs.img" >"$tmp/fsck.log" 2>&1 || {
	cat "$tmp/fsck.log" >&2
	die "the new image does not pass e2fsck -n"
}
mv "$tmp/rootfs.img" "$cache/rootfs.img"
echo "$stamp" >"$cache/rootfs.stamp"
echo "rootfs-image: $cache/rootfs.img: ${size} MiB, $used MiB of files" >&2
