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
#   E2E_SCENARIO_TIMEOUT seconds one t_*.sh may take (default 900; three times
#                        that for one that says "# e2e-slow", as the
#                        scenarios that boot systemd from the root disk do)
#   VMGENID_E2E_KEEP=1   keep the console logs (their directory is printed)
#   VMGENID_E2E_ONLY     run only these scenarios, e.g. "t_qmp t_boot" (for
#                        development; make check runs all but those marked
#                        "# e2e-opt-in", which run only when named here)
#   E2E_KERNEL_NEW, E2E_INITRD_NEW
#                        the kernel with ptp_vmclock t_vmclock boots (set here
#                        from scripts/kernel-fetch.sh: Debian 13 backports')
#   E2E_KERNEL_612, E2E_INITRD_612
#                        Debian 13's kernel, for t_kernel612 (likewise)
set -u
here=$(cd "$(dirname "$0")" && pwd)
# Scenarios marked "# e2e-opt-in" run only when VMGENID_E2E_ONLY names them.
if [ -z "${VMGENID_E2E_ONLY:-}" ]; then
	for _t in "$here"/t_*.sh; do
		grep -q '^# e2e-opt-in' "$_t" ||
			VMGENID_E2E_ONLY="${VMGENID_E2E_ONLY:-} $(basename "$_t" .sh)"
	done
	export VMGENID_E2E_ONLY
fi

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
	# The Debian root disk, for the scenarios that say they boot it.
	for t in "$here"/t_*.sh; do
		name=$(basename "$t" .sh)
		case " ${VMGENID_E2E_ONLY:-$name} " in
		*" $name "*) grep -q '^# e2e-needs: rootfs' "$t" || continue ;;
		*) continue ;;
		esac
		first=2
		if img_err=$(bash "$repo/scripts/rootfs-image.sh" "$BUILD" 2>&1); then
			echo "ok 2 - root disk: Debian bookworm ext4 image"
			E2E_ROOTFS=$cache/rootfs.img
			export E2E_ROOTFS
		else
			echo "not ok 2 - root disk (scripts/rootfs-image.sh)"
			printf '%s\n' "$img_err" | sed 's/^/# /'
		fi
		break
	done
	E2E_KERNEL=$cache/vmlinuz
	E2E_INITRD=$cache/initrd.cpio.gz
	E2E_TIMEOUT=${E2E_TIMEOUT:-60}
	# t_vmclock needs a kernel with ptp_vmclock: Debian 13 backports';
	# t_kernel612 Debian 13's own.
	case " ${VMGENID_E2E_ONLY:-t_kernel612} " in
	*" t_kernel612 "*)
		if out=$(bash "$repo/scripts/kernel-fetch.sh" --initrd "$BUILD" trixie 2>&1); then
			E2E_KERNEL_612=$cache/kernel-trixie/vmlinuz
			E2E_INITRD_612=$cache/initrd-trixie.cpio.gz
			export E2E_KERNEL_612 E2E_INITRD_612
		else
			printf '%s\n' "$out" | sed 's/^/# kernel-fetch: /'
		fi ;;
	esac
	case " ${VMGENID_E2E_ONLY:-t_vmclock} " in
	*" t_vmclock "*)
		if out=$(bash "$repo/scripts/kernel-fetch.sh" --initrd "$BUILD" trixie-backports 2>&1)
		then
			E2E_KERNEL_NEW=$cache/kernel-trixie-backports/vmlinuz
			E2E_INITRD_NEW=$cache/initrd-trixie-backports.cpio.gz
			export E2E_KERNEL_NEW E2E_INITRD_NEW
		else
			printf '%s\n' "$out" | sed 's/^/# kernel-fetch: /'
		fi ;;
	esac
fi
E2E_SCENARIO_TIMEOUT=${E2E_SCENARIO_TIMEOUT:-900}
export E2E_KERNEL E2E_INITRD E2E_TIMEOUT GENVM GENVM_QMP

E2E_WORK=$(mktemp -d "${TMPDIR:-/tmp}/vmgenid-e2e.XXXXXX")
export E2E_WORK
if [ "${VMGENID_E2E_KEEP:-0}" = 1 ]; then
	echo "# console logs kept in $E2E_WORK"
else
	trap 'rm -rf "$E2E_WORK"' EXIT
fi

# run_scenario SCRIPT: runs it in a session of its own (a background job of a
# shell without job control leads no group, so setsid need not fork and $! is
# the session) and kills that session if the script is still running after
# E2E_SCENARIO_TIMEOUT seconds, listing what was left.  Every wait in a
# scenario is bounded, so that is a bug; it must be reported as one rather
# than eat the whole suite's time.
run_scenario() {
	_limit=$E2E_SCENARIO_TIMEOUT
	grep -q '^# e2e-slow' "$1" && _limit=$((_limit * 3))
	setsid sh "$1" &
	_pid=$!
	_t=0
	while kill -0 "$_pid" 2>/dev/null; do
		if [ "$_t" -ge "$_limit" ]; then
			echo "not ok - $(basename "$1" .sh) still running after ${_limit}s (E2E_SCENARIO_TIMEOUT): killed"
			ps -e -o pid,ppid,sid,stat,args 2>&1 |
				awk -v s="$_pid" 'NR == 1 || $3 == s { print "# " $0 }'
			# By session, as timeout(1) gives what it runs a group of
			# its own; by listing, as busybox pkill -s is not reliable.
			kill -KILL $(ps -e -o pid,sid | awk -v s="$_pid" '$2 == s { print $1 }') 2>/dev/null
			break
		fi
		sleep 1
		_t=$((_t + 1))
	done
	wait "$_pid"
}

# run_nested_scenario SCRIPT: run_scenario inside the L1 guest, where KVM is
# nested SVM emulated by TCG.  There, now and then, a guest kernel dies of a
# triple fault at a random point of its boot, and not only under genvm: QEMU
# as the VMM, booting the same guest 37 times in the same L1, lost one boot
# that way.  A scenario that failed with a guest triple fault runs once
# more, in a fresh scratch dir; the first attempt is shown, commented out,
# so nothing is hidden, and the second one counts.  On hardware KVM a triple fault is always a failure.
run_nested_scenario() {
	_out=$E2E_WORK/$(basename "$1" .sh).first
	run_scenario "$1" >"$_out"
	_rc=$?
	if grep -q '^not ok' "$_out" && grep -q 'genvm: vcpu [0-9]*: triple fault' "$_out"; then
		echo "# $(basename "$1" .sh): a guest triple-faulted (nested emulation); the first attempt, not counted:"
		sed 's/^/#   first attempt: /' "$_out"
		echo "# $(basename "$1" .sh): running it again"
		# In a scratch dir of its own: the first attempt's files (a
		# snapshot it saved, say) must not meet checks of what is left.
		(
			E2E_WORK=$E2E_WORK/$(basename "$1" .sh).retry
			mkdir -p "$E2E_WORK" && run_scenario "$1"
		)
		return
	fi
	cat "$_out"
	return "$_rc"
}

# A script that dies without reporting a failure still fails.  The begin and
# end lines also let nested.sh tell which scenario a stalled L1 was running.
for t in "$here"/t_*.sh; do
	name=$(basename "$t" .sh)
	case " ${VMGENID_E2E_ONLY:-$name} " in
	*" $name "*) ;;
	*) continue ;;
	esac
	read -r t0 _ </proc/uptime
	echo "E2E-SCRIPT-BEGIN $name"
	if [ "${VMGENID_E2E_L1:-0}" = 1 ]; then
		run_nested_scenario "$t"
	else
		run_scenario "$t"
	fi
	rc=$?
	read -r t1 _ </proc/uptime
	echo "E2E-SCRIPT-EXIT $name $rc $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", b - a }')"
done | awk -v n="$first" '
	function emit(s) { print s; fflush() }
	/^E2E-SCRIPT-BEGIN / { emit("# " $2 ": begin"); failed = 0; next }
	/^E2E-SCRIPT-EXIT / {
		if ($3 != 0 && !failed) {
			n++; fails++
			emit("not ok " n " - " $2 " exited with status " $3)
		}
		emit("# " $2 ": end after " $4 " s")
		failed = 0
		next
	}
	/^not ok/ { n++; fails++; failed = 1; sub(/^not ok( [0-9]+)?/, ""); emit("not ok " n $0); next }
	/^ok/ { n++; sub(/^ok( [0-9]+)?/, ""); emit("ok " n $0); next }
	/^#/ { emit($0); next }
	{ emit("# " $0) }
	END { emit("1.." n); exit fails > 0 }'
