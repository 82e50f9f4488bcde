#!/bin/sh
# /init of the L1 guest that nested.sh boots under TCG: give it /dev/kvm with
# Debian's kvm modules, run the e2e suite (run.sh) and hand its TAP back to the
# host on the serial console, every line prefixed "L1-TAP: ".
echo "VMGENID-L1: init"

export PATH=/bin:/usr/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
# -serial pty (t_qemu_cli) opens /dev/ptmx, which needs devpts beside it.
mkdir -p /dev/pts
mount -t devpts -o ptmxmode=0666 devpts /dev/pts
mount -t tmpfs tmpfs /tmp

l1() {
	echo "VMGENID-L1: $*"
}

# kvm-amd needs SVM, kvm-intel VMX; TCG's -cpu max emulates the former.
for m in $(cat /lib/modules/load-order); do
	case $m in
	kvm-amd.ko) grep -qw svm /proc/cpuinfo || continue ;;
	kvm-intel.ko) grep -qw vmx /proc/cpuinfo || continue ;;
	qemu_fw_cfg.ko | button.ko | evdev.ko) continue ;; # for L2 guests
	esac
	err=$(insmod "/lib/modules/$m" 2>&1) || l1 "insmod $m: $err"
done
# The diagnostics go first: the host reports kvm=missing as soon as it sees it.
if [ -c /dev/kvm ]; then
	l1 kvm=ok
else
	l1 "cpu flags: $(grep -m1 -o -w -e svm -e vmx /proc/cpuinfo || echo 'neither svm nor vmx')"
	dmesg | grep -i -e kvm -e svm | tail -n 10 | sed 's/^/VMGENID-L1: dmesg: /'
	l1 kvm=missing
fi

# A heartbeat: nested.sh takes a long silence on the console for a stopped L1.
while sleep 15; do
	read -r up _ </proc/uptime
	l1 "alive $up"
done &

set -a
. /e2e/env
set +a

# Transparent huge pages as nested.sh asks (L1_THP, "never" for the e2e
# suite): Debian's kernel backs anonymous memory with them "always", and
# genvm asks for them on guest RAM.  Under TCG each 2 MiB page that KVM
# faults in for an L2 guest is cleared twice (init_on_alloc, then the
# fault), one of them without a reschedule point; in a loaded emulator
# that held a genvm vCPU thread in the kernel for 22 s (a soft lockup), and
# the one L1 kernel death in t_disk was in that same thread's kernel path.
if [ -n "${L1_THP:-}" ] && [ -w /sys/kernel/mm/transparent_hugepage/enabled ]; then
	echo "$L1_THP" >/sys/kernel/mm/transparent_hugepage/enabled
	l1 "thp=$(cat /sys/kernel/mm/transparent_hugepage/enabled)"
fi
VMGENID_E2E_L1=1 sh "/e2e/${L1_MAIN:-run.sh}" 2>&1 | while IFS= read -r line; do
	echo "L1-TAP: $line"
done
l1 done
poweroff -f
