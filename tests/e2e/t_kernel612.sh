#!/bin/sh
# Debian 13's kernel (6.12), where vmgenid is a platform driver bound
# through the ACPI device's physical_node: the driver binds, the guest tool
# reads the GUID genvm was given and passes its check, and a clone with a
# new GUID reseeds the kernel's RNG exactly once.  (Debian 12's 6.1 is the
# suite's usual guest; 7.3 is covered by t_vmclock.)
#
# E2E_KERNEL_612 and E2E_INITRD_612 name that kernel and its initramfs.
. "$(dirname "$0")/lib.sh"

GUID=6d1f0a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b
dir=$E2E_WORK/k612
mkdir -p "$dir"

if [ ! -f "${E2E_KERNEL_612:-}" ] || [ ! -f "${E2E_INITRD_612:-}" ]; then
	echo "not ok - 6.12: Debian 13's kernel (scripts/kernel-fetch.sh --initrd BUILD trixie)"
	echo "# E2E_KERNEL_612='${E2E_KERNEL_612:-}' E2E_INITRD_612='${E2E_INITRD_612:-}'"
	exit 0
fi
E2E_KERNEL=$E2E_KERNEL_612
E2E_INITRD=$E2E_INITRD_612

qmp() {
	_sock=$1
	shift
	"$GENVM_QMP" -t 20 "$_sock" "$@"
}

log=$dir/tool.log
vm_boot "$log" e2e=tool -device "vmgenid,guid=$GUID"
marker_lines "$log" tool_check | sed 's/^/# 6.12: vmgenid check: /'
check_line() {
	_l=$(marker_lines "$log" tool_check | awk -v id="$1" '$2 == id')
	case $_l in
	pass*) [ -z "${2:-}" ] || case $_l in *"$2"*) ;; *) echo "$_l"; return 1 ;; esac
		return 0 ;;
	'') echo "vmgenid check printed no $1 line; $(vmm_exit_reason "$log")" ;;
	*) echo "$_l" ;;
	esac
	return 1
}
check_read() {
	_got=$(marker_lines "$log" tool_read)
	[ "$(marker "$log" tool_read_exit)" = 0 ] && [ "$_got" = "$GUID" ] && return 0
	echo "vmgenid read printed '$_got'"
	return 1
}
tap "6.12: vmgenid is bound as a platform driver (physical_node/driver)" "$log" \
	check_line driver physical_node/driver
tap "6.12: vmgenid read prints the GUID genvm was given" "$log" check_read
tap "6.12: vmgenid check finds the device and its notify path" "$log" check_line notify

# One clone: saved over QMP, restored with a new GUID.
src=$dir/src.log
vm_start "$src" e2e=snapshot -device "vmgenid,guid=$GUID" \
	-qmp "unix:$dir/src.sock,server=on,wait=off"
saved=0
if vm_wait_for "$src" 'VMGENID-E2E: ready$'; then
	qmp "$dir/src.sock" migrate "{\"uri\": \"file:$dir/snap\"}" >/dev/null
	_n=0
	while [ $_n -lt 600 ]; do
		case $(qmp "$dir/src.sock" query-migrate 2>&1) in
		*'"completed"'*) saved=1; break ;;
		*'"failed"'* | genvm-qmp:*) break ;;
		esac
		sleep 0.1
		_n=$((_n + 1))
	done
fi
qmp "$dir/src.sock" quit >/dev/null 2>&1
vm_wait_exit 20
clone=$dir/clone.log
if [ "$saved" = 1 ]; then
	vm_start "$clone" e2e=snapshot -device vmgenid,guid=auto \
		-qmp "unix:$dir/clone.sock,server=on,wait=off" -incoming "file:$dir/snap"
	vm_wait_for "$clone" 'VMGENID-E2E: reseeds=' 90
	qmp "$dir/clone.sock" query-vm-generation-id >"$dir/clone.guid" 2>&1
	qmp "$dir/clone.sock" quit >/dev/null 2>&1
	vm_wait_exit 20
else
	echo "0 VMM-EXIT: 1 (the source was not saved)" >"$clone"
fi
check_clone() {
	_r0=$(marker "$src" reseeds)
	_g=$(sed -n 's/.*VMGENID-E2E: guid=//p' "$clone" | head -n 1)
	_r=$(sed -n 's/.*VMGENID-E2E: reseeds=//p' "$clone" | head -n 1)
	echo "# 6.12 clone: guid $_g, reseeds $_r0 -> $_r; QMP: $(cat "$dir/clone.guid" 2>/dev/null)"
	[ "$saved" = 1 ] || { echo "the source was not saved"; return 1; }
	[ -n "$_g" ] && [ "$_g" != "$GUID" ] && grep -q "\"$_g\"" "$dir/clone.guid" ||
		{ echo "the clone's guest reads '$_g', not the new GUID QMP reports"; return 1; }
	[ -n "$_r0" ] && [ -n "$_r" ] && [ "$_r" -eq $((_r0 + 1)) ] ||
		{ echo "reseeds: expected one more than '$_r0', got '$_r'"; return 1; }
}
tap "6.12: a clone with a new GUID: the guest reads it, the kernel reseeds once" "$clone" check_clone
