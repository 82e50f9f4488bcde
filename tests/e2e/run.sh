#!/bin/sh
# End-to-end tests: boot Debian's kernel under genvm and check, from inside the
# guest, what the vmgenid driver sees.  Runs every tests/e2e/t_*.sh and prints
# one TAP stream (numbered here, plan last).
#
# Where the host has hardware KVM the scenarios run right here.  Where it has
# no /dev/kvm, or only a PVM one (kvm_pvm runs nothing but PVM-aware guest
# kernels, and Debian's is not), they run one level down: nested.sh boots a TCG
# guest whose emulated SVM gives it a /dev/kvm through Debian's kvm-amd, and
# that guest runs this same script (VMGENID_E2E_L1=1).  Never skipped: a
# missing prerequisite is a failed test with a message.
#
# Environment:
#   BUILD                meson build dir (default: build)
#   GENVM                the VMM under test (default: $BUILD/vmm/genvm);
#                        tests/e2e/qemu-vmm.sh runs the same tests on QEMU
#   GENVM_QMP            the QMP client (default: $BUILD/vmm/genvm-qmp)
#   VMGENID_CACHE        guest image cache (see scripts/guest-image.sh)
#   VMGENID_E2E_NESTED   1: always go one level down; 0: never
#   E2E_TIMEOUT          seconds one guest boot may take
#   VMGENID_E2E_KEEP=1   keep the console logs (their directory is printed)
#   VMGENID_E2E_ONLY     run only these scenarios, e.g. "t_qmp t_boot" (for
#                        development; make check runs them all)
set -u
here=$(cd "$(dirname "$0")" && pwd)

hardware_kvm() {
	[ -c /dev/kvm ] || return 1
	[ -d /sys/module/kvm_pvm ] || return 0
	[ -d /sys/module/kvm_intel ] || [ -d /sys/module/kvm_amd ]
}

first=0
if [ -z "${VMGENID_E2E_L1:-}" ]; then
	repo=$(cd "$here/../.." && pwd)
	BUILD=${BUILD:-build}
	case $BUILD in /*) ;; *) BUILD=$repo/$BUILD ;; esac
	GENVM=${GENVM:-$BUILD/vmm/genvm}
	GENVM_QMP=${GENVM_QMP:-$BUILD/vmm/genvm-qmp}
	export BUILD GENVM GENVM_QMP

	nested=${VMGENID_E2E_NESTED:-}
	if [ -z "$nested" ]; then
		if hardware_kvm; then nested=0; else nested=1; fi
	fi
	if [ "$nested" = 1 ]; then
		if [ ! -c /dev/kvm ]; then
			echo "# no /dev/kvm: running the e2e tests inside a TCG guest with nested SVM"
		elif ! hardware_kvm; then
			echo "# /dev/kvm is PVM (kvm_pvm), which cannot run Debian's kernel: going nested"
		fi
		exec bash "$here/nested.sh"
	fi

	if img_err=$(bash "$repo/scripts/guest-image.sh" "$BUILD" 2>&1); then
		cache=${VMGENID_CACHE:-$repo/.cache/guest}
		echo "ok 1 - guest image: Debian $(cat "$cache/kernel-version") kernel + busybox initramfs"
	else
		echo "not ok 1 - guest image (scripts/guest-image.sh)"
		printf '%s\n' "$img_err" | sed 's/^/# /'
		echo "1..1"
		exit 1
	fi
	first=1
	E2E_KERNEL=$cache/vmlinuz
	E2E_INITRD=$cache/initrd.cpio.gz
	E2E_TIMEOUT=${E2E_TIMEOUT:-60}
fi
export E2E_KERNEL E2E_INITRD E2E_TIMEOUT GENVM GENVM_QMP

E2E_WORK=$(mktemp -d "${TMPDIR:-/tmp}/vmgenid-e2e.XXXXXX")
export E2E_WORK
if [ "${VMGENID_E2E_KEEP:-0}" = 1 ]; then
	echo "# console logs kept in $E2E_WORK"
else
	trap 'rm -rf "$E2E_WORK"' EXIT
fi

# A script that dies without reporting a failure still fails.
for t in "$here"/t_*.sh; do
	case " ${VMGENID_E2E_ONLY:-$(basename "$t" .sh)} " in
	*" $(basename "$t" .sh) "*) ;;
	*) continue ;;
	esac
	sh "$t"
	echo "E2E-SCRIPT-EXIT $(basename "$t") $?"
done | awk -v n="$first" '
	function emit(s) { print s; fflush() }
	/^E2E-SCRIPT-EXIT / {
		if ($3 != 0 && !failed) {
			n++; fails++
			emit("not ok " n " - " $2 " exited with status " $3)
		}
		failed = 0
		next
	}
	/^not ok/ { n++; fails++; failed = 1; sub(/^not ok( [0-9]+)?/, ""); emit("not ok " n $0); next }
	/^ok/ { n++; sub(/^ok( [0-9]+)?/, ""); emit("ok " n $0); next }
	/^#/ { emit($0); next }
	{ emit("# " $0) }
	END { emit("1.." n); exit fails > 0 }'
