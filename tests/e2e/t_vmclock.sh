#!/bin/sh
# VMClock on a kernel whose ptp_vmclock binds it (Debian 13 backports' 7.3,
# from scripts/kernel-fetch.sh): a guest with -device vmclock and a vmgenid
# boots (e2e=vmclock), both drivers bind, /dev/vmclock0 shows the page to a
# program without /dev/mem (vmclockread: mmap of the device).  The guest is
# saved over QMP and restored; the clone is saved and restored again: each
# restore raises vm_generation_counter by exactly one and changes the
# disruption marker, the vmgenid driver reseeds once, and a poll() on
# /dev/vmclock0 that was waiting when the guest was saved wakes up.  Last, the
# suite's usual 6.1 guest boots with the device, which it has no driver for.
#
# E2E_KERNEL_NEW and E2E_INITRD_NEW name that kernel and its initramfs.
. "$(dirname "$0")/lib.sh"

dir=$E2E_WORK/vmclock
mkdir -p "$dir"
src_log=$dir/src.log
src_sock=$dir/src.sock

# qmp and wait_migrated: lib.sh.

# page_field LOG first|last KEY: a field of the first or last page a guest reported.
page_field() {
	_pick=1p
	[ "$2" = first ] || _pick='$p'
	sed -n 's/.*VMGENID-E2E: vmclock=//p' "$1" | sed -n "$_pick" |
		sed -n "s/.*$3=\([^ ]*\).*/\1/p"
}

# last_reseeds LOG: the guest's last reseed count (reseeds= and tick lines).
last_reseeds() {
	sed -n 's/.*VMGENID-E2E: .*reseeds=\([0-9]*\).*/\1/p' "$1" | tail -n 1
}

if [ ! -f "${E2E_KERNEL_NEW:-}" ] || [ ! -f "${E2E_INITRD_NEW:-}" ]; then
	echo "not ok - vmclock: a kernel with ptp_vmclock (scripts/kernel-fetch.sh --initrd BUILD trixie-backports)"
	echo "# E2E_KERNEL_NEW='${E2E_KERNEL_NEW:-}' E2E_INITRD_NEW='${E2E_INITRD_NEW:-}'"
	exit 0
fi
E2E_KERNEL_OLD=$E2E_KERNEL E2E_INITRD_OLD=$E2E_INITRD
E2E_KERNEL=$E2E_KERNEL_NEW
E2E_INITRD=$E2E_INITRD_NEW

vm_start "$src_log" e2e=vmclock -device vmgenid -device vmclock \
	-qmp "unix:$src_sock,server=on,wait=off"
vm_wait_for "$src_log" 'VMGENID-E2E: ready'

check_bound() {
	echo "# guest kernel $(marker "$src_log" kernel)"
	marker_lines "$src_log" dmesg | sed 's/^/# dmesg: /'
	expect_marker "$src_log" dmesg_acpi_errors 0 &&
		expect_marker "$src_log" vmclock_driver vmclock &&
		expect_marker "$src_log" vmclock_dev present &&
		expect_marker "$src_log" vmgenid_driver vmgenid
}
check_page() {
	_p=$(marker "$src_log" vmclock)
	echo "# /dev/vmclock0: $_p"
	case $_p in
	"magic=0x4b4c4356 size=4096 version=1 flags=0x300 seq=0 counter=0 "*) ;;
	*) echo "expected magic 0x4b4c4356, size 4096, version 1, flags 0x300, seq 0," \
		"counter 0; got '$_p'"; return 1 ;;
	esac
}
tap "vmclock: ptp_vmclock binds AMZNC10C, /dev/vmclock0 exists, vmgenid binds too, no ACPI error" \
	"$src_log" check_bound
tap "vmclock: the guest maps /dev/vmclock0 and reads the page (counter 0)" "$src_log" check_page

# save SOCK FILE, then quit that VMM.
save() {
	_r=1
	if qmp "$1" migrate "{\"uri\": \"file:$2\"}" >/dev/null; then
		# wait_migrated prints the last reply: only a failed save's is news.
		_st=$(wait_migrated "$1") && _r=0 || echo "$_st"
	fi
	qmp "$1" quit >/dev/null 2>&1
	return $_r
}

# The guest tool (vmgenid watch, no /dev/mem in the guest): it said at the
# start that it watches /dev/vmclock0 with poll().
check_tool_start() {
	marker_lines "$src_log" watch_err | sed 's/^/# vmgenid watch: /'
	if [ "$(marker "$src_log" tool)" = missing ]; then
		echo "the guest image has no /bin/vmgenid"
		return 1
	fi
	marker_lines "$src_log" watch_err |
		grep -q 'detecting changes by vmclock (poll() on /dev/vmclock0)' ||
		{ echo "vmgenid watch does not watch /dev/vmclock0 with poll()"; return 1; }
	expect_marker "$src_log" missed_state 4
}
tap "vmclock: vmgenid watch (no /dev/mem) starts on /dev/vmclock0 with poll(), its state written" \
	"$src_log" check_tool_start
# 7.3: the tool reads the GUID QMP reports (no /dev/mem: through fw_cfg)
# and the counter.
src_guid=$(qmp "$src_sock" query-vm-generation-id 2>&1)
check_tool_read() {
	_g=$(marker "$src_log" tool_read)
	echo "# 7.3: vmgenid read: $_g; read --counter: $(marker "$src_log" tool_counter); QMP: $src_guid"
	case $src_guid in
	*"\"$_g\""*) ;;
	*) echo "vmgenid read printed '$_g', QMP says $src_guid"; return 1 ;;
	esac
	expect_marker "$src_log" tool_counter 0
}
tap "vmclock: 7.3: vmgenid read prints the GUID QMP reports (fw_cfg) and the counter 0" \
	"$src_log" check_tool_read

# restore NAME FILE: a clone with a new GUID, watched until its counter changes.
restore() {
	vm_start "$dir/$1.log" e2e=vmclock -device vmgenid,guid=auto -device vmclock \
		-qmp "unix:$dir/$1.sock,server=on,wait=off" -incoming "file:$2"
	# The restored guest's console starts where it was saved: its first
	# words are the new page and the reseed count that follows it.
	vm_wait_for "$dir/$1.log" 'VMGENID-E2E: reseeds=' 90
}

# check_restore BEFORE-LOG AFTER-LOG N: the first page after the restore has
# counter N and a disruption marker unlike the last one before; one more
# reseed.
check_restore() {
	_c=$(page_field "$2" first counter)
	_m0=$(page_field "$1" last marker)
	_m1=$(page_field "$2" first marker)
	echo "# before: $(sed -n 's/.*VMGENID-E2E: vmclock=//p' "$1" | tail -n 1)"
	echo "# after:  $(sed -n 's/.*VMGENID-E2E: vmclock=//p' "$2" | head -n 1)"
	[ "$_c" = "$3" ] || { echo "counter after the restore: expected $3, got '$_c'"; return 1; }
	[ -n "$_m1" ] && [ "$_m1" != "$_m0" ] ||
		{ echo "disruption marker did not change ('$_m0' -> '$_m1')"; return 1; }
	_r0=$(last_reseeds "$1")
	_r=$(sed -n 's/.*VMGENID-E2E: reseeds=//p' "$2" | head -n 1)
	[ -n "$_r0" ] && [ -n "$_r" ] && [ "$_r" -eq $((_r0 + 1)) ] ||
		{ echo "vmgenid reseeds: expected one more than '$_r0', got '$_r'"; return 1; }
}
check_poll() {
	if grep -q 'VMGENID-E2E: poll=' "$src_log"; then
		echo "poll() returned before the save: $(marker "$src_log" poll)"
		return 1
	fi
	vm_wait_for "$1" 'VMGENID-E2E: poll=' 5
	expect_marker "$1" poll in
}

if save "$src_sock" "$dir/snap1"; then
	echo "ok - vmclock: the guest is saved (QMP migrate)"
else
	echo "not ok - vmclock: the guest is saved (QMP migrate)"
fi
vm_wait_exit 20

restore r1 "$dir/snap1"
tap "vmclock: restore 1: counter 0 -> 1, new disruption marker, one reseed" "$dir/r1.log" \
	check_restore "$src_log" "$dir/r1.log" 1
tap "vmclock: restore 1: a poll() on /dev/vmclock0 waiting since the save wakes" \
	"$dir/r1.log" check_poll "$dir/r1.log"
# check_tool LOG FROM TO: the running watch reported the restore once (its
# hooks ran once each, in order, with the counters and two different
# GUIDs), and a watch started afresh reported it as missed.
check_tool() {
	vm_wait_for "$1" 'VMGENID-E2E: missed_exit=' 60
	vm_wait_for "$1" 'VMGENID-E2E: hook 20-second' 10
	marker_lines "$1" watch_out | sed 's/^/# watch: /'
	marker_lines "$1" missed_out | sed 's/^/# watch started after the restore: /'
	grep 'VMGENID-E2E: hook ' "$1" | sed 's/^[0-9.]* /# /'
	_h=$(sed -n 's/.*VMGENID-E2E: hook \([^ ]*\) counter=\([^ ]*\) .*/\1 \2/p' "$1")
	[ "$_h" = "10-first $2->$3
20-second $2->$3" ] || { echo "hooks: expected 10-first then 20-second, once each, with $2->$3"; return 1; }
	_g=$(sed -n 's/.*VMGENID-E2E: hook 10-first .* guid=\([^ ]*\) .*/\1/p' "$1")
	case $_g in
	unknown* | *unknown | '') echo "the hook got no GUIDs: '$_g'"; return 1 ;;
	esac
	[ "${_g%%->*}" != "${_g#*->}" ] || { echo "the hook's old and new GUIDs are equal: $_g"; return 1; }
	_w=$(marker_lines "$1" watch_out | grep -c " counter $2 -> $3\$")
	[ "$_w" = 1 ] || { echo "the watch reported counter $2 -> $3 $_w times"; return 1; }
	expect_marker "$1" missed_exit 0 &&
		marker_lines "$1" missed_out | grep -q "(missed) counter $2 -> $3\$" ||
		{ echo "no missed change reported by a watch started after the restore"; return 1; }
}
tap "vmclock: restore 1: vmgenid watch reports it once, hooks run once each in order; a new watch reports it as missed" \
	"$dir/r1.log" check_tool "$dir/r1.log" 0 1
save "$dir/r1.sock" "$dir/snap2" >/dev/null
vm_wait_exit 20

restore r2 "$dir/snap2"
tap "vmclock: restore of the restored guest: counter 1 -> 2" "$dir/r2.log" \
	check_restore "$dir/r1.log" "$dir/r2.log" 2
tap "vmclock: restore 2: vmgenid watch and its hooks once more (1 -> 2), the missed change too" \
	"$dir/r2.log" check_tool "$dir/r2.log" 1 2
qmp "$dir/r2.sock" quit >/dev/null 2>&1
vm_wait_exit 20

# A kernel without the driver (Debian 12's 6.1, the suite's usual guest)
# loads the extra SSDT without a word and binds vmgenid as before.
old_log=$dir/old-kernel.log
E2E_KERNEL=$E2E_KERNEL_OLD
E2E_INITRD=$E2E_INITRD_OLD
vm_boot "$old_log" e2e=boot -device vmgenid -device vmclock
check_old_kernel() {
	expect_booted "$old_log" && expect_marker "$old_log" driver vmgenid &&
		expect_marker "$old_log" dmesg_acpi_errors 0
}
tap "vmclock: a 6.1 guest (no ptp_vmclock) boots with it, binds vmgenid, no ACPI error" \
	"$old_log" check_old_kernel
