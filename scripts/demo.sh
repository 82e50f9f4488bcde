#!/usr/bin/env bash
# make demo: build genvm, fetch the guest (Debian's kernel + busybox), boot it
# with a fresh generation ID and show, from inside the guest, the vmgenid
# driver bound to our device and the GUID it reads; then save a guest to a
# snapshot file and start two clones of it at once, each logging the kernel's
# VM-fork reseed with a GUID of its own.
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
echo "demo: preparing the guest image (cached after the first run)"
bash scripts/guest-image.sh build >/dev/null

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
		sh tests/e2e/demo.sh
else
	echo "demo: no usable /dev/kvm here; running genvm inside a TCG guest with nested SVM (about a minute)"
	out=$(mktemp)
	trap 'rm -f "$out"' EXIT
	VMGENID_L1_MAIN=demo.sh BUILD=$repo/build bash tests/e2e/nested.sh | tee "$out" |
		grep -v -e '^ok ' -e '^1\.\.' -e '^# L1 initramfs'
	grep -q '^== the guest read exactly the GUID' "$out"
	grep -q '^== two clones of one snapshot' "$out"
fi
