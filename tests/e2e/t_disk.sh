#!/bin/sh
# A real system on a virtio disk: the Debian image of scripts/rootfs-image.sh
# boots from virtio-blk to systemd's multi-user target, with the generation
# ID service answering; a file written and synced survives a hard stop and a
# new boot, and e2fsck -n finds the image clean afterwards.  Then clones: a
# source running on the image with snapshot=on writes marker A, syncs and is
# saved (QMP migrate); two clones restored at once with snapshot=on each see
# A, each gets a new GUID, runs the watch unit's hook once, which writes and
# reads back its own marker, neither sees the other's, their first bytes from
# /dev/hwrng after the hooks differ (see check_hwrng), and the
# image's sha256 is the same after both exit.
#
# The guest side is tests/e2e/guest/rootfs/genid-agent (genid.e2e=MODE).
# One file for all of it: each systemd boot takes a minute or two under
# nested emulation, and the nested run is shared.
# e2e-needs: rootfs
# e2e-slow
. "$(dirname "$0")/lib.sh"

# A systemd boot is ten times the initramfs one.
E2E_TIMEOUT=$((E2E_TIMEOUT * 3))
# genvm's snapshot=on overlays live in $TMPDIR (L1 has no /var/tmp).
TMPDIR=$E2E_WORK
export TMPDIR

disk=$E2E_WORK/debian.img
snap=$E2E_WORK/debian.snap
q=$E2E_WORK/disk-src.sock
G1=6f1c2a3b-4d5e-4f60-9a7b-8c9d0e1f2a3b
rng="-device virtio-rng-device"

if [ -z "${E2E_ROOTFS:-}" ] || [ ! -r "$E2E_ROOTFS" ]; then
	echo "not ok - disk: the Debian root image (E2E_ROOTFS='${E2E_ROOTFS:-}') is not readable"
	exit 1
fi
# The image under test is a copy: the cached one (or L1's read-only disk)
# is never written.
if ! err=$(cp "$E2E_ROOTFS" "$disk" 2>&1); then
	echo "not ok - disk: copy $E2E_ROOTFS: $err"
	exit 1
fi

hex16() {
	case $1 in
	????????????????) [ -z "$(printf '%s' "$1" | tr -d 0-9a-f)" ] ;;
	*) false ;;
	esac
}

# check_up LOG GUID: systemd reached multi-user.target on /dev/vda with no
# failed unit, and the generation ID service answered with GUID.
check_up() {
	_v=$(marker "$1" multi_user)
	case $_v in
	"active "*) ;;
	*) echo "multi-user.target: '${_v:-no report}'; $(vmm_exit_reason "$1")"; return 1 ;;
	esac
	case $(marker "$1" root) in
	"/dev/vda rw") ;;
	*) echo "the initramfs did not mount /dev/vda read-write: '$(marker "$1" root)'"; return 1 ;;
	esac
	expect_marker "$1" failed_units none || return 1
	expect_marker "$1" watch active || return 1
	case $(marker "$1" genid) in
	"genid $2 changes=0 "*) ;;
	*) echo "genid service: expected 'genid $2 changes=0 ...', got '$(marker "$1" genid)'"; return 1 ;;
	esac
}

boot_time() {
	marker "$1" multi_user | sed -n 's/.*uptime=//p'
}

# ---- boot, write, hard stop; boot again and read ----

log1=$E2E_WORK/disk-write.log
vm_boot "$log1" "root=/dev/vda genid.e2e=write" \
	-drive "file=$disk,format=raw,if=virtio" $rng -device "vmgenid,guid=$G1"
echo "# boot 1: multi-user.target after $(boot_time "$log1") s of guest uptime"
marker_lines "$log1" blame | sed 's/^/#   blame: /'
tap "disk: Debian boots from virtio-blk to systemd's multi-user target; the genid service answers $G1" \
	"$log1" check_up "$log1" "$G1"
wrote=$(marker "$log1" wrote)
check_write() {
	hex16 "$wrote" || { echo "wrote: '$wrote' is not 8 random bytes in hex"; return 1; }
	[ "$(vmm_status "$log1")" = 0 ] || { vmm_exit_reason "$log1"; return 1; }
}
tap "disk: the guest writes a file, syncs and stops at once (no unmount); genvm exits 0" \
	"$log1" check_write

log2=$E2E_WORK/disk-read.log
vm_boot "$log2" "root=/dev/vda genid.e2e=read" \
	-drive "file=$disk,format=raw,if=virtio" $rng -device "vmgenid,guid=$G1"
check_read() {
	check_up "$log2" "$G1" || return 1
	expect_marker "$log2" persist "$wrote" || return 1
	[ "$(vmm_status "$log2")" = 0 ] || { vmm_exit_reason "$log2"; return 1; }
}
tap "disk: after a new boot the file still holds $wrote" "$log2" check_read

check_fsck() {
	_out=$(e2fsck -fn "$disk" 2>&1) || { printf '%s\n' "$_out" | tail -n 8; return 1; }
}
tap "disk: e2fsck -fn finds the image clean after the clean poweroff" "$log2" check_fsck

# ---- a source with snapshot=on, saved; two clones at once ----

sum0=$(sha256sum "$disk" | cut -d' ' -f1)
slog=$E2E_WORK/disk-source.log
vm_start "$slog" "root=/dev/vda genid.e2e=source" \
	-drive "file=$disk,format=raw,if=virtio,snapshot=on" $rng -device "vmgenid,guid=$G1" \
	-qmp "unix:$q,server=on,wait=off"
src_pid=$VM_PID src_job=$VM_JOB
vm_wait_for "$slog" 'VMGENID-E2E: ready$'
marker_a=$(marker "$slog" marker_a)
echo "# source: multi-user.target after $(boot_time "$slog") s of guest uptime"
check_source() {
	check_up "$slog" "$G1" || return 1
	hex16 "$marker_a" || { echo "marker_a: '$marker_a' is not 8 random bytes in hex"; return 1; }
	expect_marker "$slog" hook_runs 0
}
tap "disk: the source (snapshot=on) boots and writes marker A=$marker_a" "$slog" check_source

tap "disk: the source is saved with QMP migrate (RAM and its disk writes)" "$slog" \
	qmp_save "$q" "file:$snap"
qmp "$q" quit >/dev/null 2>&1
VM_PID=$src_pid VM_JOB=$src_job
vm_wait_exit 20

for c in 1 2; do
	# -no-reboot: a clone that died would otherwise boot afresh from the
	# disk and pass for a clone whose kernel never saw the change.
	vm_start "$E2E_WORK/disk-clone$c.log" "root=/dev/vda genid.e2e=source" \
		-drive "file=$disk,format=raw,if=virtio,snapshot=on" $rng -device "vmgenid,guid=auto" \
		-no-reboot -incoming "file:$snap"
	eval "clone_pid_$c=\$VM_PID clone_job_$c=\$VM_JOB"
done
for c in 1 2; do
	vm_wait_for "$E2E_WORK/disk-clone$c.log" 'VMM-EXIT: '
	eval "VM_PID=\$clone_pid_$c VM_JOB=\$clone_job_$c"
	vm_wait_exit 5
done

# check_clone N OTHER: what clone N's hook and agent reported.
check_clone() {
	_l=$E2E_WORK/disk-clone$1.log
	_o=$E2E_WORK/disk-clone$2.log
	_g=$(marker "$_l" clone_guid | cut -d' ' -f1)
	_og=$(marker "$_o" clone_guid | cut -d' ' -f1)
	grep -q 'VMGENID-E2E: clone_done$' "$_l" ||
		{ echo "the clone's hook never reported; $(vmm_exit_reason "$_l")"; return 1; }
	case $_g in
	"" | unknown | "$G1") echo "clone GUID: '$_g' (the source had $G1)"; return 1 ;;
	esac
	[ "$_g" != "$_og" ] || { echo "both clones have GUID $_g"; return 1; }
	expect_marker "$_l" hook_runs 1 || return 1
	expect_marker "$_l" marker_a "$marker_a" || return 1
	_own=$(marker "$_l" own_marker)
	hex16 "$_own" || { echo "own marker: '$_own' is not 8 random bytes in hex"; return 1; }
	# Its own file and the source's, and not the other clone's.
	expect_marker "$_l" markers "clone-$_g source" || return 1
	expect_marker "$_l" reseeds 1 || return 1
	case $(marker "$_l" genid) in
	"genid $_g changes=1 "*) ;;
	*) echo "genid service: expected 'genid $_g changes=1 ...', got '$(marker "$_l" genid)'"; return 1 ;;
	esac
	[ "$(vmm_status "$_l")" = 0 ] || { vmm_exit_reason "$_l"; return 1; }
}
for c in 1 2; do
	o=$((3 - c))
	tap "disk: clone $c has a new GUID, its hook ran once, it sees A and its own marker, not clone $o's" \
		"$E2E_WORK/disk-clone$c.log" check_clone "$c" "$o"
done

# /dev/hwrng in the clones.  Linux's virtio_rng keeps one 64-byte request
# posted and genvm fills it at once, so at the save the source held 64
# device bytes it had not handed out; both clones restore them, and the
# first reader in a clone would get them (docs/devices.md says why genvm
# cannot change them).  The image's 20-drain-hwrng hook (contrib/) reads and
# drops 128 bytes in each new generation, before 50-genid, whose agent then
# reads 128: its first 64 and the 64 after them must differ between the
# clones.  hwrng_thread is the count of sleeps of the kernel's hwrng thread
# (which takes 64 bytes once a reseed interval) at the source's "ready" and
# before each clone's read: before the hook, a clone whose thread had not
# run since the save got the source's 64 bytes first.
check_hwrng() {
	_h1=$(marker "$E2E_WORK/disk-clone1.log" hwrng)
	_h2=$(marker "$E2E_WORK/disk-clone2.log" hwrng)
	_n1=$(marker "$E2E_WORK/disk-clone1.log" hwrng_next)
	_n2=$(marker "$E2E_WORK/disk-clone2.log" hwrng_next)
	expect_marker "$E2E_WORK/disk-clone1.log" rng virtio_rng.0 || return 1
	[ "${#_h1}" = 128 ] && [ "${#_h2}" = 128 ] && [ "${#_n1}" = 128 ] && [ "${#_n2}" = 128 ] ||
		{ echo "expected 128 bytes from each /dev/hwrng: '$_h1$_n1' '$_h2$_n2'"; return 1; }
	[ "$_n1" != "$_n2" ] || { echo "both clones read $_n1 after their first 64 bytes"; return 1; }
	[ "$_h1" != "$_h2" ] || { echo "both clones' first 64 bytes are $_h1"; return 1; }
}
echo "# hwrng: source at ready: $(marker "$slog" hwrng_thread)"
for c in 1 2; do
	_l=$E2E_WORK/disk-clone$c.log
	echo "# hwrng: clone $c: $(marker "$_l" hwrng_thread); first $(marker "$_l" hwrng | cut -c1-16)... next $(marker "$_l" hwrng_next | cut -c1-16)..."
done
tap "disk: the clones' first 64 bytes from /dev/hwrng (virtio-rng) differ, and the 64 after them" \
	"$E2E_WORK/disk-clone1.log" check_hwrng

check_base() {
	_s=$(sha256sum "$disk" | cut -d' ' -f1)
	[ "$_s" = "$sum0" ] || { echo "sha256 before the source $sum0, after the clones $_s"; return 1; }
}
tap "disk: the image's sha256 is unchanged after the snapshot=on source and both clones" \
	"$slog" check_base
# The next scenario in this L1 (t_net) gets the memory back (E2E_WORK is tmpfs).
rm -f "$disk" "$snap"
