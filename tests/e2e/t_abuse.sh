#!/bin/sh
# A guest that writes garbage to fw_cfg (bad selectors, data port writes, DMA
# into non-RAM or wrapping addresses, writes to read-only files and past the
# end, unknown control bits, a descriptor outside RAM, garbage vmgenid
# addresses) gets the error bit or nothing; genvm logs warnings and keeps
# running, and the vmgenid device keeps working once the real address is back.
. "$(dirname "$0")/lib.sh"

log=$E2E_WORK/abuse.log
vm_boot "$log" e2e=abuse -device vmgenid,guid=324e6eaf-d1d1-4bf6-bf41-b9bb6c91fb87

expect_answers() {
	_bad=0
	for kv in signature=QEMU bad_selector=zeros data_port_write=ignored addr_known=yes \
		dma_good_read=ok dma_read_outside_ram=error dma_read_wrapping=error \
		dma_write_readonly=error readonly_unchanged=yes dma_write_past_end=error \
		dma_unknown_bits=error dma_descriptor_outside_ram=survived \
		addr_misaligned=ok addr_outside_ram=ok addr_zero=ok addr_restored=ok \
		dma_good_read_after=ok done=yes; do
		expect_marker "$log" "abuse_${kv%%=*}" "${kv#*=}" || _bad=1
	done
	return $_bad
}

expect_warnings() {
	_fw=$(grep -c 'fw_cfg.*warning' "$log")
	_vg=$(grep -c 'vmgenid.*warning' "$log")
	[ "$_fw" -ge 1 ] && [ "$_vg" -ge 1 ] && return 0
	echo "expected genvm warnings from fw_cfg and vmgenid, saw $_fw and $_vg"
	return 1
}

expect_guid_kept() {
	expect_marker "$log" guid_before af6e4e32d1d1f64bbf41b9bb6c91fb87 &&
		expect_marker "$log" guid_after af6e4e32d1d1f64bbf41b9bb6c91fb87 &&
		expect_marker "$log" driver vmgenid
}

expect_survived() {
	expect_marker "$log" alive yes || return 1
	[ "$(vmm_status "$log")" = 0 ] && return 0
	echo "$(vmm_exit_reason "$log")"
	return 1
}

tap "abuse: fw_cfg answers garbage with the error bit or nothing" "$log" expect_answers
tap "abuse: genvm logs warnings for bad DMA and bad vmgenid addresses" "$log" expect_warnings
tap "abuse: the GUID in guest memory and the driver are untouched" "$log" expect_guid_kept
tap "abuse: the guest keeps running and powers off; genvm exits 0" "$log" expect_survived
