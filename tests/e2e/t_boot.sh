#!/bin/sh
# Boot Debian's kernel with a fixed GUID and check, from inside the guest, that
# its vmgenid driver binds to our device and reads our GUID from reserved RAM.
. "$(dirname "$0")/lib.sh"

GUID=324e6eaf-d1d1-4bf6-bf41-b9bb6c91fb87
# Little-endian layout: the first three fields byte-swapped.
GUID_LE=af6e4e32d1d1f64bbf41b9bb6c91fb87

# Two vCPUs here (one elsewhere): the MADT and SMP bring-up get exercised once.
E2E_SMP=2
log=$E2E_WORK/boot.log
vm_boot "$log" e2e=boot -device "vmgenid,guid=$GUID"

check_addr() {
	vgia=$(marker "$log" vgia)
	addr=$(marker "$log" addr)
	case $vgia$addr in
	*[!0-9a-fx]* | '') echo "no usable vgia/addr markers (vgia='$vgia' addr='$addr')"; return 1 ;;
	esac
	[ $((vgia)) -ne 0 ] || { echo "VGIA is 0: the firmware never patched the SSDT"; return 1; }
	[ $((addr)) -eq $((vgia + 0x28)) ] || { echo "addr $addr != VGIA $vgia + 0x28"; return 1; }
	[ $((addr % 8)) -eq 0 ] || { echo "addr $addr is not 8-byte aligned"; return 1; }
}

check_e820() {
	addr=$(marker "$log" addr)
	e820=$(marker "$log" e820)
	[ -n "$addr" ] && [ -n "$e820" ] ||
		{ echo "no addr/e820 markers (addr='$addr' e820='$e820')"; return 1; }
	range=${e820%% *}
	type=${e820#* }
	start=${range%-*}
	end=${range#*-}
	[ "$type" = Reserved ] ||
		{ echo "$addr lies in $range of type '$type', not 'Reserved'"; return 1; }
	# All 16 bytes, not just the first, must be inside (sysfs end is inclusive).
	[ $((addr)) -ge $((start)) ] && [ $((addr + 15)) -le $((end)) ] ||
		{ echo "GUID at $addr runs out of $range"; return 1; }
}

check_dmesg() {
	n=$(marker "$log" dmesg_acpi_errors)
	[ "$n" = 0 ] && return 0
	[ -n "$n" ] || { echo "no dmesg_acpi_errors marker; $(vmm_exit_reason "$log")"; return 1; }
	echo "$n dmesg lines with 'ACPI Error' or 'AE_':"
	marker_lines "$log" dmesg_error
	return 1
}

# Timed from the kernel's last console line before it writes S5 ("reboot:
# Power down"), so the limit measures genvm, not how long an emulated guest
# kernel takes to shut down; the init's own marker is the fallback.
check_poweroff() {
	st=$(vmm_status "$log")
	t0=$(sed -n 's/^\([0-9.]*\) .*reboot: Power down.*/\1/p' "$log" | head -n 1)
	what="the guest kernel's power-off"
	if [ -z "$t0" ]; then
		t0=$(marker_time "$log" poweroff)
		what="the poweroff marker"
	fi
	t1=$(vmm_exit_time "$log")
	[ -n "$t0" ] || { echo "the guest never printed its poweroff marker; $(vmm_exit_reason "$log")"; return 1; }
	[ "$st" = 0 ] || { echo "$(vmm_exit_reason "$log") after the guest's poweroff -f"; return 1; }
	float_le "$t0" "$t1" 1.0 ||
		{ echo "the VMM exited $(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')s after $what (limit 1 s)"; return 1; }
}

tap "boot: guest runs /init and its boot scenario" "$log" expect_booted "$log"
tap "boot: guest sees both vCPUs of -smp 2" "$log" expect_marker "$log" cpus 2
tap "boot: /sys/bus/acpi/devices/QEMUVGID:00 exists" "$log" expect_marker "$log" acpi_dev present
tap "boot: QEMUVGID:00 is bound to the vmgenid driver" "$log" expect_marker "$log" driver vmgenid
tap "boot: 16 bytes at VGIA+0x28 are $GUID in LE layout" "$log" expect_marker "$log" guid_le "$GUID_LE"
tap "boot: GUID address is VGIA+0x28, nonzero and 8-byte aligned" "$log" check_addr
tap "boot: GUID address is inside an E820 Reserved range" "$log" check_e820
tap "boot: fw_cfg etc/vmgenid_guid holds the GUID at offset 40" "$log" expect_marker "$log" fwcfg_guid_le "$GUID_LE"
tap "boot: dmesg has no 'ACPI Error' and no 'AE_'" "$log" check_dmesg
tap "boot: poweroff -f ends the VMM with exit 0 within 1 s" "$log" check_poweroff
