#!/usr/bin/env bash
# Build the test and demo guest: Debian's generic amd64 kernel plus a busybox
# initramfs.  Cached and idempotent: a second run with the same kernel and the
# same guest files changes nothing.
#
# usage: scripts/guest-image.sh [BUILD_DIR]      (default: $BUILD, else build)
#
# The kernel is fetched with apt-get download and unpacked with dpkg -x; it is
# never installed on the host.  The generic flavour is the one with
# CONFIG_VMGENID=y (the cloud flavour lacks it).
#
# Results, in $VMGENID_CACHE (default: <repo>/.cache/guest):
#   vmlinuz            the guest kernel
#   initrd.cpio.gz     busybox, /init (tests/e2e/guest/init.sh), memread,
#                      the virtio and ext4 modules with lib/modules/load-order
#   modules/*.ko       kvm modules for running KVM inside a TCG guest, with
#                      modules/load-order (dependencies first)
#   kernel-version     e.g. 6.1.0-56-amd64
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-${BUILD:-build}}
case $build in /*) ;; *) build=$repo/$build ;; esac
cache=${VMGENID_CACHE:-$repo/.cache/guest}
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)

# Modules that make /dev/kvm work in a TCG guest with emulated SVM (kvm-amd)
# or on Intel hosts (kvm-intel), the fw_cfg sysfs driver the test guest
# uses to read etc/vmgenid_guid, and the ACPI power button driver with the
# event device through which the test guest sees system_powerdown.  Then
# the virtio-mmio transport and its disk and entropy devices, which Debian
# builds as modules and which only ACPI (LNRO0005) announces, and ext4 with
# the crc32c its checksums ask the crypto API for by name (no modprobe in the
# initramfs to find it), so the initramfs can mount a root disk.  virtio_pci
# is for the nested e2e path only: its L1 gets disk images as QEMU's PCI
# virtio disks.  The vsock guest transport (with vsock and the common part)
# is for t_vsock's guest; vhost_vsock gives the nested L1, which loads every
# module listed here, a /dev/vhost-vsock.  virtio_net is the guests' NIC;
# tun, veth and nftables' NAT are L1's, for the network scenario's taps and
# its clones' network namespaces, which the host reaches through a veth and
# NAT rules, and vhost_net for bench/net.sh's QEMU with vhost=on.
wanted_modules=(irqbypass ccp kvm kvm-amd kvm-intel qemu_fw_cfg button evdev
	virtio virtio_ring virtio_mmio virtio_blk virtio-rng crc32c_generic ext4
	virtio_pci vmw_vsock_virtio_transport vhost_vsock virtio_net tun veth nft_chain_nat
	nft_nat vhost_net)
# The ones that go into the test guest's initramfs; init.sh loads these
# itself, when a scenario needs them.
guest_modules=(qemu_fw_cfg button evdev)
# The ones init.sh loads at once, in the order of lib/modules/load-order
# (dependencies first, as modinfo names them).
guest_boot_modules=(virtio virtio_ring virtio_mmio virtio_blk virtio-rng virtio_net crc32c_generic
	ext4)
# Loaded by init.sh only before it mounts a root disk (lib/modules/pci-order):
# the virtio PCI transport, for a disk-booted guest under QEMU -M pc, whose
# -drive if=virtio is a PCI device (bench/disk.sh compares genvm with it).
guest_pci_modules=(virtio_pci)
# Loaded by init.sh before it mounts a root disk, and only when the machine
# has a virtio vsock device (lib/modules/vsock-order): the guest transport
# with the vsock core, so that the Debian image's genid service listens on
# vsock too (tests/e2e/guest/rootfs/genid-vsock.socket).
guest_vsock_modules=(vmw_vsock_virtio_transport)

# Scratch dirs live in the cache (same filesystem, so results move in
# atomically) and go away however the script ends.
scratch=()
trap 'rm -rf "${scratch[@]}"' EXIT

die() {
	echo "guest-image: $*" >&2
	exit 1
}

need() {
	command -v "$1" >/dev/null 2>&1 ||
		die "'$1' not found; install the Debian package $2 (scripts/deps.sh does)"
}

need apt-get apt
need dpkg dpkg
need modinfo kmod
need cpio cpio
need gzip gzip

busybox=$(command -v busybox || true)
[ -n "$busybox" ] || die "busybox not found; install busybox-static"
! readelf -l "$busybox" 2>/dev/null | grep -q INTERP ||
	die "$busybox is not static; install busybox-static"

memread=$build/tests/e2e/guest/memread
[ -x "$memread" ] ||
	die "$memread missing: build first (meson setup build && ninja -C build)"
# The guest tool is optional here: its own issue may not have landed yet.
abuse=$build/tests/e2e/guest/fwcfg_abuse
[ -x "$abuse" ] ||
	die "$abuse missing: build first (meson setup build && ninja -C build)"
vsockio=$build/tests/e2e/guest/vsockio
[ -x "$vsockio" ] ||
	die "$vsockio missing: build first (meson setup build && ninja -C build)"
guest_tool=$build/guest/vmgenid
[ -x "$guest_tool" ] || guest_tool=
if [ -n "$guest_tool" ] && readelf -l "$guest_tool" 2>/dev/null | grep -q INTERP; then
	echo "guest-image: $guest_tool is dynamically linked; the guest has no libc, leaving it out" >&2
	guest_tool=
fi

# The linux-image-amd64 metapackage depends on exactly one ABI-versioned
# image package; that is the kernel we use.
resolve_kernel_pkg() {
	apt-cache depends linux-image-amd64 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-image-[0-9].*-amd64\)$/\1/p' | head -n 1
}

kpkg=${VMGENID_KERNEL_PKG:-$(resolve_kernel_pkg)}
if [ -z "$kpkg" ] && [ "$(id -u)" = 0 ]; then
	echo "guest-image: apt knows no linux-image-amd64; running apt-get update" >&2
	apt-get update -qq >&2 || die "apt-get update failed: no network access to the Debian archive?"
	kpkg=$(resolve_kernel_pkg)
fi
if [ -z "$kpkg" ]; then
	# Offline with an old cache is still a working guest.
	old=$(cat "$cache/kernel-version" 2>/dev/null || true)
	[ -n "$old" ] && [ -f "$cache/kernel-$old/vmlinuz" ] ||
		die "cannot resolve linux-image-amd64 (run 'apt-get update' as root, or set VMGENID_KERNEL_PKG)"
	kpkg=linux-image-$old
	echo "guest-image: apt cannot resolve linux-image-amd64; keeping cached $kpkg" >&2
fi
kver=${kpkg#linux-image-}
kdir=$cache/kernel-$kver

# Module name -> file, following modinfo's depends (names use - and _ alike).
declare -A module_seen=()
module_order=()
module_path() {
	local name=$1 alt=${1//-/_} alt2=${1//_/-}
	find "$2/lib/modules" \( -name "$name.ko*" -o -name "$alt.ko*" -o -name "$alt2.ko*" \) \
		-print -quit
}
add_module() {
	local name=$1 root=$2 path dep
	[ -n "${module_seen[$name]:-}" ] && return 0
	module_seen[$name]=1
	path=$(module_path "$name" "$root")
	[ -n "$path" ] || die "$kpkg has no module $name"
	for dep in $(modinfo -F depends "$path" | tr ',' ' '); do
		add_module "$dep" "$root"
	done
	module_order+=("$path")
}

fetch_kernel() {
	local tmp deb path base
	tmp=$(mktemp -d "$cache/fetch.XXXXXX")
	scratch+=("$tmp")
	echo "guest-image: downloading $kpkg" >&2
	# apt's _apt sandbox user may not write to the cache; root downloads
	# unsandboxed, which is fine for a file we only unpack.
	(cd "$tmp" && apt-get download -q "$kpkg" >download.log 2>&1) || {
		cat "$tmp/download.log" >&2
		die "apt-get download $kpkg failed (no network access to the Debian archive, or stale apt lists: run 'apt-get update')"
	}
	deb=$(ls "$tmp"/*.deb)
	dpkg -x "$deb" "$tmp/root"
	mkdir -p "$tmp/out/modules"
	cp "$tmp/root/boot/vmlinuz-$kver" "$tmp/out/vmlinuz"
	cp "$tmp/root/boot/config-$kver" "$tmp/out/config"
	grep -q '^CONFIG_VMGENID=y' "$tmp/out/config" ||
		die "$kpkg is built without CONFIG_VMGENID=y"
	for m in "${wanted_modules[@]}"; do
		add_module "$m" "$tmp/root"
	done
	for path in "${module_order[@]}"; do
		base=$(basename "$path")
		case $base in
		*.ko) cp "$path" "$tmp/out/modules/$base" ;;
		*.ko.xz) xz -dc "$path" >"$tmp/out/modules/${base%.xz}" ;;
		*.ko.gz) gzip -dc "$path" >"$tmp/out/modules/${base%.gz}" ;;
		*.ko.zst) need zstd zstd
			zstd -qdc "$path" >"$tmp/out/modules/${base%.zst}" ;;
		*) die "unknown module format: $base" ;;
		esac
		echo "${base%.ko*}.ko" >>"$tmp/out/modules/load-order"
	done
	rm -rf "$kdir"
	mv "$tmp/out" "$kdir"
	echo "$kver" >"$kdir/.complete"
}

# A cache from before a module joined the list is fetched again.
kernel_cached() {
	local m
	[ -f "$kdir/.complete" ] || return 1
	for m in "${wanted_modules[@]}"; do
		[ -f "$kdir/modules/$m.ko" ] || [ -f "$kdir/modules/${m//-/_}.ko" ] ||
			[ -f "$kdir/modules/${m//_/-}.ko" ] || return 1
	done
}
kernel_cached || fetch_kernel

init=$repo/tests/e2e/guest/init.sh
stamp=$( {
	echo "$kver"
	sha256sum "$0" "$init" "$busybox" "$memread" "$abuse" "$vsockio" ${guest_tool:+"$guest_tool"} |
		cut -d' ' -f1
} | sha256sum | cut -d' ' -f1)

if [ "$(cat "$cache/initrd.stamp" 2>/dev/null)" = "$stamp" ] &&
	[ -f "$cache/initrd.cpio.gz" ] &&
	[ "$(readlink "$cache/vmlinuz")" = "kernel-$kver/vmlinuz" ]; then
	exit 0
fi

echo "guest-image: building initramfs for $kver" >&2
tmp=$(mktemp -d "$cache/initrd.XXXXXX")
scratch+=("$tmp")
root=$tmp/root
mkdir -p "$root"/{bin,dev,proc,sys,tmp,lib/modules}
install -m 0755 "$init" "$root/init"
install -m 0755 "$busybox" "$root/bin/busybox"
for applet in $("$busybox" --list); do
	[ "$applet" = busybox ] || ln -s busybox "$root/bin/$applet"
done
install -m 0755 "$memread" "$root/bin/memread"
install -m 0755 "$abuse" "$root/bin/fwcfg_abuse"
install -m 0755 "$vsockio" "$root/bin/vsockio"
[ -z "$guest_tool" ] || install -m 0755 "$guest_tool" "$root/bin/vmgenid"
for m in "${guest_modules[@]}"; do
	cp "$kdir/modules/$m.ko" "$root/lib/modules/"
done
# The boot modules and what they depend on, dependencies first.
declare -A boot_seen=()
add_boot_module() {
	local name=$1 order=${2:-load-order} file dep
	[ -n "${boot_seen[${name//-/_}]:-}" ] && return 0
	boot_seen[${name//-/_}]=1
	for file in "$kdir/modules/$name.ko" "$kdir/modules/${name//-/_}.ko" \
		"$kdir/modules/${name//_/-}.ko" ""; do
		[ -z "$file" ] || [ -f "$file" ] && break
	done
	[ -n "$file" ] || die "the cached $kver modules lack $name"
	for dep in $(modinfo -F depends "$file" | tr ',' ' '); do
		add_boot_module "$dep" "$order"
	done
	cp "$file" "$root/lib/modules/"
	basename "$file" >>"$root/lib/modules/$order"
}
for m in "${guest_boot_modules[@]}"; do
	add_boot_module "$m"
done
for m in "${guest_pci_modules[@]}"; do
	add_boot_module "$m" pci-order
done
for m in "${guest_vsock_modules[@]}"; do
	add_boot_module "$m" vsock-order
done
(cd "$root" && find . -print0 | LC_ALL=C sort -z |
	cpio --null -o -H newc -R 0:0 --reproducible --quiet) |
	gzip -6 -n >"$tmp/initrd.cpio.gz"

mv "$tmp/initrd.cpio.gz" "$cache/initrd.cpio.gz"
ln -sfn "kernel-$kver/vmlinuz" "$cache/vmlinuz"
ln -sfn "kernel-$kver/modules" "$cache/modules"
echo "$kver" >"$cache/kernel-version"
echo "$stamp" >"$cache/initrd.stamp"
