#!/bin/sh
# A snapshot taken early in a guest's boot (docs/snapshot.md, "Faults"): a
# guest started under -S is saved half a second after cont, long before its
# kernel has ACPI or the vmgenid driver up, and restored with guid=auto.
# It must boot on, and its driver must find the clone's GUID.  (Firecracker
# documents a guest crash for this case.)  Part of the fault tests; apart
# from t_faults.sh so that each stays within E2E_SCENARIO_TIMEOUT.
. "$(dirname "$0")/lib.sh"

dir=$E2E_WORK/faults-early
mkdir -p "$dir"

# Saved a moment after cont, long before the kernel has ACPI (or the
# vmgenid driver) up; restored with guid=auto, the guest boots on and its
# driver finds the clone's GUID, not the source's.
EARLY_GUID=0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d
early=$dir/early.snap
qe=$E2E_WORK/faults-early.sock
early_log=$E2E_WORK/faults-early.log
vm_start "$early_log" e2e=boot -device "vmgenid,guid=$EARLY_GUID" \
	-qmp "unix:$qe,server=on,wait=off" -S
wait_socket "$qe"
early_cont=$(qmp "$qe" cont 2>&1)
sleep 0.5
early_reply=$(qmp "$qe" migrate "{\"uri\": \"file:$early\"}" 2>&1)
early_status=$(wait_migrated "$qe")
early_saved=$?
early_at=$(grep -c 'VMGENID-E2E: init$' "$early_log")
qmp "$qe" quit >/dev/null 2>&1
vm_wait_exit 10
early_clone=
if [ "$early_saved" = 0 ]; then
	clone_start early "file:$early" auto
	wait_socket "$E2E_WORK/clone-early.sock"
	early_clone=$(clone_guid early)
	vm_wait_exit "$E2E_TIMEOUT"
fi
check_early() {
	_log=$E2E_WORK/clone-early.log
	[ "$early_cont" = '{}' ] && [ "$early_reply" = '{}' ] && [ "$early_saved" = 0 ] ||
		{ echo "cont '$early_cont', migrate '$early_reply', query-migrate: $early_status"; return 1; }
	[ "$early_at" = 0 ] || { echo "the source had reached /init already: not early"; return 1; }
	expect_booted "$_log" || return 1
	expect_marker "$_log" driver vmgenid || return 1
	expect_marker "$_log" dmesg_acpi_errors 0 || return 1
	_read=$(le_to_uuid "$(marker "$_log" guid_le)")
	[ -n "$early_clone" ] && [ "$early_clone" != "$EARLY_GUID" ] ||
		{ echo "QMP gave the clone's GUID as '$early_clone'"; return 1; }
	[ "$_read" = "$early_clone" ] ||
		{ echo "the guest read $_read, the clone's GUID is $early_clone"; return 1; }
	[ "$(vmm_status "$_log")" = 0 ] || { echo "$(vmm_exit_reason "$_log")"; return 1; }
}
tap "faults: a snapshot taken early in the boot, restored with guid=auto, boots on; the driver reads the new GUID" \
	"$E2E_WORK/clone-early.log" check_early
