#!/bin/sh
# guid=auto: each launch draws a fresh random (version 4) GUID.
. "$(dirname "$0")/lib.sh"

log1=$E2E_WORK/auto1.log
log2=$E2E_WORK/auto2.log
vm_boot "$log1" e2e=boot -device vmgenid,guid=auto
vm_boot "$log2" e2e=boot -device vmgenid,guid=auto

# In the LE layout the version nibble leads byte 7 and the variant bits lead
# byte 8 (the last 8 bytes are not swapped).
check_v4() {
	for l in "$log1" "$log2"; do
		le=$(marker "$l" guid_le)
		case $le in
		??????????????4?[89ab]???????????????) ;;
		'') echo "$l: no guid_le marker; $(vmm_exit_reason "$l")"; return 1 ;;
		*) echo "$l: $(le_to_uuid "$le") (LE $le) is not version 4 / variant 10"; return 1 ;;
		esac
		[ ${#le} -eq 32 ] || { echo "$l: '$le' is not 16 bytes"; return 1; }
	done
}

check_bound() {
	expect_marker "$log1" driver vmgenid && expect_marker "$log2" driver vmgenid
}

check_differ() {
	a=$(marker "$log1" guid_le)
	b=$(marker "$log2" guid_le)
	[ -n "$a" ] && [ -n "$b" ] || { echo "missing guid_le markers ('$a', '$b')"; return 1; }
	[ "$a" != "$b" ] || { echo "both boots read $(le_to_uuid "$a")"; return 1; }
}

tap "guid=auto: both boots bind vmgenid" "$log2" check_bound
tap "guid=auto: the guest reads a valid version-4 GUID" "$log1" check_v4
tap "guid=auto: two boots read different GUIDs" "$log2" check_differ
