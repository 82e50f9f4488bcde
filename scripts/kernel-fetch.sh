#!/usr/bin/env bash
# Fetch Debian's newer guest kernels: 13's (trixie, 6.12) and its backports'
# (trixie-backports, 7.3 at the time of writing), beside the Debian 12 kernel
# that scripts/guest-image.sh caches.  Cached and idempotent.
#
# usage: scripts/kernel-fetch.sh [--initrd BUILD_DIR] [SUITE...]
#        (default suites: trixie trixie-backports)
#
# apt-get runs against a sources list of our own, with its lists, cache and
# state in the cache directory (Dir::Etc::sourcelist, Dir::State,
# Dir::Cache) and Debian's archive keyring: the machine's apt configuration
# is read by nothing here and changed by nothing.  Packages are unpacked with
# dpkg -x, never installed.  Newer kernels split the image: linux-image-VER
# is a stub depending on linux-binary-VER (vmlinuz, under
# usr/lib/modules/VER/) and linux-modules-VER; all of them are fetched.
#
# Results, in $VMGENID_CACHE (default: <repo>/.cache/guest), per suite:
#   kernel-VER/vmlinuz, config     the kernel
#   kernel-VER/modules/*.ko        the test guest's modules (qemu_fw_cfg,
#                                  button, evdev and, where the kernel has it,
#                                  ptp_vmclock), dependencies first in
#                                  modules/load-order
#   initrd-SUITE.cpio.gz           with --initrd: the test guest's initramfs
#                                  for that kernel (see guest_initrd)
#   kernel-SUITE                   a symlink to kernel-VER
# Prints "SUITE VER" for each.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
cache=${VMGENID_CACHE:-$repo/.cache/guest}
mirror=${VMGENID_DEBIAN_MIRROR:-http://deb.debian.org/debian}
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)

# The test guest's modules; ptp_vmclock only where the kernel has it (6.13+).
wanted_modules=(qemu_fw_cfg button evdev)
optional_modules=(ptp_vmclock)

scratch=()
trap 'rm -rf "${scratch[@]}"' EXIT

die() {
	echo "kernel-fetch: $*" >&2
	exit 1
}

for t in apt-get:apt dpkg:dpkg modinfo:kmod; do
	command -v "${t%%:*}" >/dev/null 2>&1 ||
		die "'${t%%:*}' not found; install the Debian package ${t#*:} (scripts/deps.sh does)"
done
[ -r "$keyring" ] || die "$keyring missing; install debian-archive-keyring"

# apt SUITE ARGS...: apt-get/apt-cache confined to the suite's private tree.
apt_opts() {
	local dir=$cache/apt/$1
	echo "-o Dir::Etc::sourcelist=$dir/sources.list -o Dir::Etc::sourceparts=$dir/empty"
	echo "-o Dir::Etc::preferences=$dir/empty/none -o Dir::Etc::preferencesparts=$dir/empty"
	echo "-o Dir::State=$dir/state -o Dir::State::status=$dir/state/status"
	echo "-o Dir::Cache=$dir/cache -o Acquire::Languages=none -o APT::Architecture=amd64"
	echo "-o APT::Architectures=amd64 -o Debug::NoLocking=1"
	# Root downloads unsandboxed: _apt may not write to the cache.
	[ "$(id -u)" != 0 ] || echo "-o APT::Sandbox::User=root"
}
apt_suite() {
	local suite=$1 cmd=$2
	shift 2
	# shellcheck disable=SC2046
	"$cmd" $(apt_opts "$suite") "$@"
}

apt_update() {
	local suite=$1 dir=$cache/apt/$1
	mkdir -p "$dir/empty" "$dir/state/lists/partial" "$dir/cache/archives/partial"
	: >"$dir/state/status"
	echo "deb [signed-by=$keyring] $mirror $suite main" >"$dir/sources.list"
	# Lists from today are good enough: a kernel update is not urgent here.
	if [ -n "$(find "$dir/state/lists" -maxdepth 1 -name '*_InRelease' -mmin -1440 2>/dev/null)" ]
	then
		return 0
	fi
	apt_suite "$suite" apt-get update -qq >"$dir/update.log" 2>&1 || {
		cat "$dir/update.log" >&2
		die "apt-get update for $suite failed (no network access to $mirror?)"
	}
}

# The image package linux-image-amd64 depends on in that suite.
resolve_image() {
	apt_suite "$1" apt-cache depends linux-image-amd64 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-image-[0-9].*-amd64\)$/\1/p' | head -n 1
}

# Packages of the same kernel the image package depends on (the split ones).
split_parts() {
	local suite=$1 pkg=$2 ver=${2#linux-image-}
	apt_suite "$suite" apt-cache depends "$pkg" 2>/dev/null |
		sed -n "s/^ *Depends: \(linux-[a-z]*-$ver\)\$/\1/p" | grep -v "^$pkg\$" || true
}

# Module name -> file in the unpacked tree (names use - and _ alike).
module_path() {
	local name=$1 root=$2
	find "$root/lib/modules" "$root/usr/lib/modules" \( -name "$name.ko*" -o \
		-name "${name//-/_}.ko*" -o -name "${name//_/-}.ko*" \) -print -quit 2>/dev/null
}

declare -A module_seen
module_order=()
add_module() {
	local name=$1 root=$2 path dep
	[ -n "${module_seen[$name]:-}" ] && return 0
	module_seen[$name]=1
	path=$(module_path "$name" "$root")
	[ -n "$path" ] || return 1
	for dep in $(modinfo -F depends "$path" | tr ',' ' '); do
		add_module "$dep" "$root" || die "module $name needs $dep, which is missing"
	done
	module_order+=("$path")
}

fetch_suite() {
	local suite=$1 pkg parts tmp root kver kdir src m path base
	apt_update "$suite"
	pkg=$(resolve_image "$suite")
	[ -n "$pkg" ] || die "$suite: linux-image-amd64 depends on no linux-image-*-amd64"
	kver=${pkg#linux-image-}
	kdir=$cache/kernel-$kver
	if [ -f "$kdir/.complete" ]; then
		ln -sfn "kernel-$kver" "$cache/kernel-$suite"
		echo "$suite $kver"
		return 0
	fi
	parts=$(split_parts "$suite" "$pkg")
	tmp=$(mktemp -d "$cache/fetch.XXXXXX")
	scratch+=("$tmp")
	echo "kernel-fetch: downloading $pkg $parts" >&2
	# shellcheck disable=SC2086
	(cd "$tmp" && apt_suite "$suite" apt-get download -q "$pkg" $parts >download.log 2>&1) || {
		cat "$tmp/download.log" >&2
		die "apt-get download $pkg $parts failed"
	}
	root=$tmp/root
	for deb in "$tmp"/*.deb; do
		dpkg -x "$deb" "$root"
	done
	mkdir -p "$tmp/out/modules"
	# Older packages keep vmlinuz and config in /boot, split ones beside the modules.
	for src in "$root/boot/vmlinuz-$kver" "$root/usr/lib/modules/$kver/vmlinuz" \
		"$root/lib/modules/$kver/vmlinuz"; do
		[ -f "$src" ] && cp "$src" "$tmp/out/vmlinuz" && break
	done
	[ -f "$tmp/out/vmlinuz" ] || die "$pkg $parts: no vmlinuz for $kver"
	for src in "$root/boot/config-$kver" "$root/usr/lib/modules/$kver/config" \
		"$root/lib/modules/$kver/config"; do
		[ -f "$src" ] && cp "$src" "$tmp/out/config" && break
	done
	[ -f "$tmp/out/config" ] || die "$pkg $parts: no config for $kver"
	grep -q '^CONFIG_VMGENID=y' "$tmp/out/config" || die "$pkg is built without CONFIG_VMGENID=y"
	module_seen=()
	module_order=()
	for m in "${wanted_modules[@]}"; do
		add_module "$m" "$root" || die "$pkg has no module $m"
	done
	for m in "${optional_modules[@]}"; do
		add_module "$m" "$root" || echo "kernel-fetch: $kver has no $m" >&2
	done
	for path in "${module_order[@]}"; do
		base=$(basename "$path")
		case $base in
		*.ko) cp "$path" "$tmp/out/modules/$base" ;;
		*.ko.xz) xz -dc "$path" >"$tmp/out/modules/${base%.xz}" ;;
		*.ko.gz) gzip -dc "$path" >"$tmp/out/modules/${base%.gz}" ;;
		*.ko.zst) zstd -qdc "$path" >"$tmp/out/modules/${base%.zst}" ;;
		*) die "unknown module format: $base" ;;
		esac
		echo "${base%.ko*}.ko" >>"$tmp/out/modules/load-order"
	done
	rm -rf "$kdir"
	mv "$tmp/out" "$kdir"
	echo "$kver" >"$kdir/.complete"
	ln -sfn "kernel-$kver" "$cache/kernel-$suite"
	echo "$suite $kver"
}

# The test guest's initramfs for a suite's kernel: the Debian 12 one that
# scripts/guest-image.sh built (busybox, /init, the test programs) with a
# second cpio archive after it, which the kernel unpacks over the first:
# this kernel's modules and their load-order, and vmclockread.
guest_initrd() {
	local suite=$1 kdir=$cache/kernel-$1 base=$cache/initrd.cpio.gz reader=$build/tests/e2e/guest/vmclockread tmp
	[ -f "$base" ] || die "$base missing: run scripts/guest-image.sh first"
	[ -x "$reader" ] || die "$reader missing: build first (ninja -C $build)"
	tmp=$(mktemp -d "$cache/initrd.XXXXXX")
	scratch+=("$tmp")
	mkdir -p "$tmp/root/lib/modules" "$tmp/root/bin"
	cp "$kdir/modules/"*.ko "$kdir/modules/load-order" "$tmp/root/lib/modules/"
	install -m 0755 "$reader" "$tmp/root/bin/vmclockread"
	{
		cat "$base"
		(cd "$tmp/root" && find . -print0 | LC_ALL=C sort -z |
			cpio --null -o -H newc -R 0:0 --reproducible --quiet) | gzip -6 -n
	} >"$tmp/initrd.cpio.gz"
	mv "$tmp/initrd.cpio.gz" "$cache/initrd-$suite.cpio.gz"
}

build= build_initrd=0
if [ "${1:-}" = --initrd ]; then
	# --initrd BUILD_DIR SUITE...: also write kernel-VER/initrd.cpio.gz.
	build=${2:?--initrd needs the build directory}
	case $build in /*) ;; *) build=$repo/$build ;; esac
	build_initrd=1
	shift 2
fi
suites=("$@")
[ ${#suites[@]} -gt 0 ] || suites=(trixie trixie-backports)
for s in "${suites[@]}"; do
	case $s in
	trixie | trixie-backports)
		fetch_suite "$s"
		if [ -n "$build" ] && [ "$build_initrd" = 1 ]; then
			guest_initrd "$s"
		fi ;;
	*) die "unknown suite '$s' (trixie, trixie-backports)" ;;
	esac
done
