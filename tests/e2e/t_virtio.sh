#!/bin/sh
# virtio-mmio devices seen by a stock Debian kernel: found through the DSDT
# (LNRO0005) only, virtio_mmio binds them, /dev/vda has the drive's size and
# serial and reads and writes reach the image file, a readonly=on drive is
# read-only, and /dev/hwrng serves the host's entropy.
#
# The guest reboots once first, so everything after runs on devices that a
# machine reset re-created on a fresh KVM VM.
#
# The guest's initramfs here is the suite's one plus the virtio modules
# from the same kernel package (dependency order, modinfo: virtio_ring,
# virtio, virtio_mmio, then virtio_blk and virtio-rng) and an /init of its
# own, built in the scenario's scratch directory.
. "$(dirname "$0")/lib.sh"

root=$E2E_WORK/virtio-root
initrd=$E2E_WORK/virtio-initrd.gz
disk=$E2E_WORK/disk-a.img
rodisk=$E2E_WORK/disk-b.img
log=$E2E_WORK/virtio.log

build_initrd() {
	initrd_unpack "$root" virtio_ring virtio virtio_mmio virtio_blk virtio-rng || return 1
	cat >"$root/init" <<'INIT'
#!/bin/sh
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mark() { echo "VMGENID-E2E: $*"; }
mark init
for m in virtio_ring virtio virtio_mmio virtio_blk virtio-rng; do
	err=$(insmod /lib/modules/$m.ko 2>&1) || mark "insmod_error=$m: $err"
done
n=0
while [ ! -b /dev/vdb ] && [ $n -lt 50 ]; do sleep 0.1; n=$((n + 1)); done
# The first boot leaves a note on the disk and reboots: the checks run on a
# machine that has been reset, whose devices had to be attached again.
if [ "$(dd if=/dev/vda bs=512 skip=300 count=1 2>/dev/null | head -c 8)" != REBOOTED ]; then
	printf REBOOTED | dd of=/dev/vda bs=512 seek=300 conv=sync,fsync 2>/dev/null
	mark rebooting
	reboot -f
fi
mark rebooted
for d in /sys/bus/acpi/devices/LNRO0005:*; do
	[ -e "$d" ] || continue
	drv=$(readlink "$d/physical_node/driver")
	mark "acpi_$(basename "$d" | tr : _)=${drv##*/}"
done
mark "irq=$(grep -c virtio /proc/interrupts) $(grep virtio0 /proc/interrupts | grep -o 'IO-APIC *[0-9]*-[a-z]*')"
mark "vda_size=$(cat /sys/block/vda/size)"
mark "vda_serial=$(cat /sys/block/vda/serial 2>/dev/null)"
mark "vdb_size=$(cat /sys/block/vdb/size)"
mark "vdb_ro=$(cat /sys/block/vdb/ro)"
mark "vda_head=$(dd if=/dev/vda bs=16 count=1 2>/dev/null)"
mark "vdb_head=$(dd if=/dev/vdb bs=16 count=1 2>/dev/null)"
printf 'WRITTEN-BY-L2-GUEST' | dd of=/dev/vda bs=512 seek=100 conv=sync,fsync 2>/dev/null
blockdev --flushbufs /dev/vda
echo 3 >/proc/sys/vm/drop_caches
mark "vda_readback=$(dd if=/dev/vda bs=512 skip=100 count=1 2>/dev/null | head -c 19)"
if printf 'x' | dd of=/dev/vdb bs=512 seek=1 conv=sync,fsync 2>/dev/null; then mark vdb_write=accepted; else mark vdb_write=refused; fi
# The last sector, and one past the end (the kernel refuses that itself).
mark "vda_last=$(dd if=/dev/vda bs=512 skip=$(( $(cat /sys/block/vda/size) - 1 )) count=1 2>/dev/null | head -c 9)"
mark "rng_current=$(cat /sys/class/misc/hw_random/rng_current)"
mark "hwrng=$(dd if=/dev/hwrng bs=16 count=1 2>/dev/null | od -An -tx1 | tr -d ' \n')"
mark "hwrng2=$(dd if=/dev/hwrng bs=16 count=1 2>/dev/null | od -An -tx1 | tr -d ' \n')"
dmesg | grep -i -e virtio_ -e vda -e vdb | tail -n 20 | sed 's/^/VMGENID-E2E: dmesg: /'
mark done
# Then write, sync and draw entropy without pause, so that a save catches
# the devices busy; a restored copy goes on counting from where it was.
i=0
while :; do
	i=$((i + 1))
	printf 'TICK%08d' $i | dd of=/dev/vda bs=512 seek=$((200 + i % 16)) conv=sync,fsync 2>/dev/null ||
		mark "write_error=$i"
	mark "tick=$i rng=$(dd if=/dev/hwrng bs=8 count=1 2>/dev/null | od -An -tx1 | tr -d ' \n')"
done
INIT
	chmod 755 "$root/init"
	initrd_pack "$root" "$initrd"
}

if ! err=$(build_initrd 2>&1); then
	echo "not ok - virtio: build the guest's initramfs with the virtio modules"
	printf '%s\n' "$err" | sed 's/^/# /'
	exit 0
fi

# ---- bad drives: one line, exit 1, before any guest ----
mkdir -p "$E2E_WORK/bad"
head -c 1000 /dev/zero >"$E2E_WORK/bad/odd.img"
: >"$E2E_WORK/bad/empty.img"
tap "virtio: a missing drive file is refused" /dev/null \
	expect_refused "No such file or directory" -drive "file=$E2E_WORK/bad/none.img,if=virtio"
tap "virtio: a directory as a drive is refused" /dev/null \
	expect_refused "is a directory" -drive "file=$E2E_WORK/bad,if=virtio"
tap "virtio: a drive of 1000 bytes is refused" /dev/null \
	expect_refused "not a non-zero multiple of 512" -drive "file=$E2E_WORK/bad/odd.img,if=virtio"
tap "virtio: an empty drive is refused" /dev/null \
	expect_refused "not a non-zero multiple of 512" -drive "file=$E2E_WORK/bad/empty.img,if=virtio"
tap "virtio: format=qcow2 is refused" /dev/null \
	expect_refused "unsupported format" -drive "file=$E2E_WORK/bad/odd.img,format=qcow2,if=virtio"
tap "virtio: a device naming a missing drive is refused" /dev/null \
	expect_refused "no -drive with id 'd9'" -device virtio-blk-device,drive=d9

# Drive A: 8 MiB with a header and a tail we can recognize; drive B read-only.
dd if=/dev/zero of="$disk" bs=1M count=8 2>/dev/null
printf 'GENVM-DISK-A-HDR' | dd of="$disk" conv=notrunc 2>/dev/null
printf 'LAST-SECT' | dd of="$disk" bs=512 seek=16383 conv=notrunc 2>/dev/null
dd if=/dev/zero of="$rodisk" bs=512 count=100 2>/dev/null
printf 'GENVM-DISK-B-RO!' | dd of="$rodisk" conv=notrunc 2>/dev/null
ro_sum=$(md5sum <"$rodisk")

# shellcheck disable=SC2034 # read by lib.sh (vm_start, expect_refused)
E2E_INITRD=$initrd
q=$E2E_WORK/virtio-src.sock
clone_log=$E2E_WORK/virtio-clone.log
snapfile=$E2E_WORK/virtio.snap
drives="-drive file=$disk,format=raw,if=none,id=d0 -device virtio-blk-device,drive=d0,serial=GENVM-SERIAL-0
	-drive file=$rodisk,format=raw,if=virtio,readonly=on -device virtio-rng-device"

# last_tick LOG: the guest's last completed write-and-read round.
last_tick() {
	sed -n 's/.*VMGENID-E2E: tick=\([0-9]*\) .*/\1/p' "$1" | tail -n 1
}

# One guest: its checks, then a save while it writes, then it quits.
# shellcheck disable=SC2086
vm_start "$log" e2e=virtio -qmp "unix:$q,server=on,wait=off" $drives
src_ok=0
vm_wait_for "$log" 'VMGENID-E2E: tick=' "$E2E_TIMEOUT" 3 && src_ok=1
save_reply=$(qmp "$q" migrate "{\"uri\": \"file:$snapfile\"}" 2>&1)
save_state=$(wait_migrated "$q")
quit_reply=$(qmp "$q" quit 2>&1)
vm_wait_exit 10
# Read once the VMM has exited and its console is all in the log: a line
# the guest printed just before the save can still be on its way through
# the stamper when the save completes.
saved_tick=$(last_tick "$log")
disk_at_save=$(md5sum <"$disk")

check_bound() {
	for u in 0 1 2; do
		expect_marker "$log" "acpi_LNRO0005_0$u" virtio-mmio || return 1
	done
}

check_written() {
	got=$(dd if="$disk" bs=512 skip=100 count=1 2>/dev/null | head -c 19)
	[ "$got" = WRITTEN-BY-L2-GUEST ] || { echo "sector 100 of the image holds '$got'"; return 1; }
}

check_ro_unchanged() {
	[ "$(md5sum <"$rodisk")" = "$ro_sum" ] || { echo "the readonly=on image changed"; return 1; }
}

check_hwrng() {
	a=$(marker "$log" hwrng)
	b=$(marker "$log" hwrng2)
	[ ${#a} -eq 32 ] && [ "$a" != "$b" ] && [ "$a" != 00000000000000000000000000000000 ] ||
		{ echo "hwrng reads '$a' then '$b'"; return 1; }
}

check_exit() {
	[ "$quit_reply" = '{}' ] || { echo "quit answered '$quit_reply'"; return 1; }
	[ "$(vmm_status "$log")" = 0 ] || { vmm_exit_reason "$log"; return 1; }
}

check_rebooted() {
	grep -q 'VMGENID-E2E: rebooting$' "$log" && grep -q 'VMGENID-E2E: rebooted$' "$log" ||
		{ echo "the guest did not go through its reboot; $(vmm_exit_reason "$log")"; return 1; }
}

tap "virtio: the guest writes, reboots (a machine reset) and finds its note" "$log" check_rebooted
tap "virtio: guest runs its checks" "$log" expect_booted "$log"
tap "virtio: the three LNRO0005 devices are bound to virtio-mmio" "$log" check_bound
tap "virtio: /dev/vda has the image's 16384 sectors" "$log" expect_marker "$log" vda_size 16384
tap "virtio: /dev/vda's serial is GENVM-SERIAL-0 (GET_ID)" "$log" expect_marker "$log" vda_serial GENVM-SERIAL-0
tap "virtio: /dev/vda reads the image" "$log" expect_marker "$log" vda_head GENVM-DISK-A-HDR
tap "virtio: /dev/vda reads its last sector" "$log" expect_marker "$log" vda_last LAST-SECT
tap "virtio: a write to /dev/vda reaches the image file" "$log" check_written
tap "virtio: the readonly=on drive is /dev/vdb, 100 sectors" "$log" expect_marker "$log" vdb_size 100
tap "virtio: the readonly=on drive is read-only in the guest (VIRTIO_BLK_F_RO)" "$log" expect_marker "$log" vdb_ro 1
tap "virtio: /dev/vdb reads its image" "$log" expect_marker "$log" vdb_head GENVM-DISK-B-RO!
tap "virtio: a write to the readonly=on drive is refused" "$log" expect_marker "$log" vdb_write refused
tap "virtio: the readonly=on image is unchanged" "$log" check_ro_unchanged
tap "virtio: hw_random uses virtio_rng" "$log" expect_marker "$log" rng_current virtio_rng.0
tap "virtio: /dev/hwrng gives fresh bytes" "$log" check_hwrng
tap "virtio: the guest reads back what it wrote after dropping its caches" "$log" expect_marker "$log" vda_readback WRITTEN-BY-L2-GUEST
tap "virtio: QMP quit after the save ends the VMM with exit 0" "$log" check_exit
echo "# guest: $(marker "$log" irq) (virtio lines in /proc/interrupts, the first one's pin and trigger)"
marker_lines "$log" dmesg | sed 's/^/# guest dmesg: /'

# ---- the restore of the guest saved while it wrote ----
# shellcheck disable=SC2086
vm_start "$clone_log" e2e=virtio -incoming "file:$snapfile" -qmp "unix:$q.2,server=on,wait=off" $drives
clone_ok=0
vm_wait_for "$clone_log" 'VMGENID-E2E: tick=' 60 3 && clone_ok=1
qmp "$q.2" quit >/dev/null 2>&1
vm_wait_exit 10

check_saved() {
	[ "$src_ok" = 1 ] || { echo "the guest never wrote 3 rounds; $(vmm_exit_reason "$log")"; return 1; }
	[ "$save_reply" = '{}' ] || { echo "migrate answered '$save_reply'"; return 1; }
	case $save_state in *'"completed"'*) ;; *) echo "query-migrate: $save_state"; return 1 ;; esac
}

check_restored() {
	[ "$clone_ok" = 1 ] || { echo "the restored guest did not write 3 rounds; $(vmm_exit_reason "$clone_log")"; return 1; }
	first=$(sed -n 's/.*VMGENID-E2E: tick=\([0-9]*\) .*/\1/p' "$clone_log" | head -n 1)
	[ -n "$saved_tick" ] && [ "$first" -ge "$saved_tick" ] && [ "$first" -le $((saved_tick + 1)) ] ||
		{ echo "the source's last round was $saved_tick, the restored guest's first $first"; return 1; }
	if grep -e write_error -e 'needs a reset' "$clone_log" "$log"; then return 1; fi
	last=$(last_tick "$clone_log")
	got=$(dd if="$disk" bs=512 skip=$((200 + last % 16)) count=1 2>/dev/null | head -c 12)
	[ "$got" = "$(printf 'TICK%08d' "$last")" ] ||
		{ echo "sector $((200 + last % 16)) holds '$got' after round $last"; return 1; }
	[ "$(md5sum <"$disk")" != "$disk_at_save" ] || { echo "the restored guest changed nothing on disk"; return 1; }
}

check_fresh_rng() {
	a=$(sed -n 's/.*VMGENID-E2E: tick=[0-9]* rng=//p' "$clone_log" | head -n 1)
	b=$(sed -n 's/.*VMGENID-E2E: tick=[0-9]* rng=//p' "$clone_log" | sed -n 2p)
	[ ${#a} -eq 16 ] && [ "$a" != "$b" ] || { echo "the restored guest's hwrng gave '$a' then '$b'"; return 1; }
}

tap "virtio: a save while the guest writes and syncs completes" "$log" check_saved
tap "virtio: the restored guest goes on writing from its saved round, to the same disk" "$clone_log" check_restored
tap "virtio: the restored guest's /dev/hwrng answers with fresh bytes" "$clone_log" check_fresh_rng
