#!/bin/sh
# The guest tool inside a genvm guest: `vmgenid read` finds the device
# through ACPI, reads /dev/mem and prints the GUID genvm was given, and
# `vmgenid check` passes every line of its conformance report.
. "$(dirname "$0")/lib.sh"

GUID=5a6c8f3e-2b1d-4c7a-9e0f-1d2c3b4a5968
log=$E2E_WORK/tool.log
vm_boot "$log" e2e=tool -device "vmgenid,guid=$GUID"

check_ran() {
	if [ "$(marker "$log" tool)" = missing ]; then
		echo "the guest image has no /bin/vmgenid: build guest/vmgenid (static), then" \
			"scripts/guest-image.sh puts it in"
		return 1
	fi
	expect_booted "$log"
}

check_read() {
	got=$(marker_lines "$log" tool_read)
	st=$(marker "$log" tool_read_exit)
	[ "$st" = 0 ] && [ "$got" = "$GUID" ] && return 0
	echo "vmgenid read exited '$st' and printed:"
	printf '%s\n' "$got"
	return 1
}

check_source() {
	json=$(marker_lines "$log" tool_read_json)
	case $json in
	*'"source": "devmem"'*) return 0 ;;
	esac
	echo "vmgenid read --json: $json"
	return 1
}

# check_line ID: the report's line for ID says pass.
check_line() {
	line=$(marker_lines "$log" tool_check | awk -v id="$1" '$2 == id')
	case $line in
	pass*) return 0 ;;
	'') echo "vmgenid check printed no $1 line; $(vmm_exit_reason "$log")" ;;
	*) echo "$line" ;;
	esac
	return 1
}

check_summary() {
	summary=$(marker_lines "$log" tool_check | tail -n 1)
	st=$(marker "$log" tool_check_exit)
	[ "$st" = 0 ] && [ "$summary" = "12 pass, 0 fail, 0 unknown" ] && return 0
	echo "vmgenid check exited '$st':"
	marker_lines "$log" tool_check
	return 1
}

# What the tool said, for the record (and the docs).
marker_lines "$log" tool_read_json | sed 's/^/# vmgenid read --json: /'
marker_lines "$log" tool_check | sed 's/^/# vmgenid check: /'

tap "tool: the guest runs vmgenid read and check" "$log" check_ran
tap "tool: vmgenid read prints the GUID genvm was given" "$log" check_read
tap "tool: vmgenid read got it through /dev/mem" "$log" check_source
for id in device tables _CID R6 ADDR notify R1a R1b/R1d R1e driver guid fw_cfg; do
	tap "tool: vmgenid check: $id passes" "$log" check_line "$id"
done
tap "tool: vmgenid check passes every line and exits 0" "$log" check_summary
