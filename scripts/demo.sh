#!/usr/bin/env bash
# make demo: build genvm, fetch the guest (Debian's kernel, and a Debian
# bookworm root disk built with mmdebstrap), boot the Debian system from a
# virtio disk with systemd and a generation ID service up, save it over QMP,
# and start two clones of it at once on snapshot=on overlays of the same
# image: each gets a new GUID, the kernel's VM-fork reseed, one run of the
# vmgenid watch unit's hook, and its own write to the disk.
#
# With hardware KVM the guest runs right here.  Where /dev/kvm is missing or
# is PVM-only (it cannot run Debian's kernel), it runs one level down inside a
# QEMU TCG guest with nested SVM, as the e2e tests do: slower, same result.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

bash scripts/deps.sh
echo "demo: building"
bash scripts/build.sh build
echo "demo: preparing the guest kernel and the Debian root disk (cached after the first run; the first takes minutes)"
bash scripts/guest-image.sh build >/dev/null
bash scripts/rootfs-image.sh build >/dev/null

hardware_kvm() {
	[ -c /dev/kvm ] || return 1
	[ -d /sys/module/kvm_pvm ] || return 0
	[ -d /sys/module/kvm_intel ] || [ -d /sys/module/kvm_amd ]
}

export GENVM=$repo/build/vmm/genvm
export GENVM_QMP=$repo/build/vmm/genvm-qmp
cache=${VMGENID_CACHE:-$repo/.cache/guest}
if hardware_kvm; then
	E2E_KERNEL=$cache/vmlinuz E2E_INITRD=$cache/initrd.cpio.gz E2E_TIMEOUT=60 \
		E2E_ROOTFS=$cache/rootfs.img sh tests/e2e/demo.sh
else
	echo "demo: no usable /dev/kvm here; running genvm inside a TCG guest with nested SVM (a few minutes)"
	out=$(mktemp)
	trap 'rm -f "$out"' EXIT
	VMGENID_L1_MAIN=demo.sh BUILD=$repo/build bash tests/e2e/nested.sh | tee "$out" |
		grep -v -e '^ok ' -e '^1\.\.' -e '^# L1 initramfs'
	grep -q '^== two clones of one running Debian system' "$out"
fi
