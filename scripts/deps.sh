#!/usr/bin/env bash
# Install the Debian packages that building, testing and the guest image need.
# Idempotent: installs only what is missing, so a second run does nothing.
set -eu

packages=(
	gcc g++ libc6-dev make pkg-config meson ninja-build  # build; g++ for the C++ header test and example
	libcmocka-dev                                    # unit tests
	libjansson-dev                                   # QMP JSON
	libseccomp-dev                                   # genvm's -sandbox
	zlib1g-dev                                       # guest tool reads /proc/config.gz
	acpica-tools                                     # iasl, acpiexec peers
	busybox-static cpio kmod                         # guest initramfs, kvm modules
	debian-archive-keyring xz-utils                  # kernel-fetch.sh: trixie's lists, modules
	qemu-system-x86                                  # nested KVM harness, benchmarks
	clang libclang-rt-14-dev                         # fuzz targets (libFuzzer, Debian 12's clang 14)
	gnuplot-nox                                      # bench/plot.sh
	mmdebstrap e2fsprogs                             # Debian root disk image
	iproute2 nftables iperf3                         # network e2e (netns, NAT), bench/net.sh
	scdoc                                            # man pages (docs/man)
	build-essential debhelper dpkg-dev fakeroot      # make deb
	lintian man-db                                   # its test
)

missing=()
for p in "${packages[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done

if [ "${#missing[@]}" -eq 0 ]; then
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing Debian packages: ${missing[*]}" >&2
	echo "deps: run as root (or: sudo apt-get install -y ${missing[*]})" >&2
	exit 1
fi

echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
