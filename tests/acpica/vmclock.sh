#!/usr/bin/env bash
# Our VMClock SSDT judged by the real ACPICA tools (TAP).
#  - iasl -d disassembles it with no error or warning, into the device,
#    ids, resource and GPE method we mean;
#  - acpiexec evaluates _HID, _CID, _DDN and _CRS (a Memory32Fixed of the
#    page) and runs \_GPE._E06's Notify of the device.
set -u
tool=${BUILD:-build}/tests/acpica/vmclock_ssdt
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
page=0x0FFFF000

n=0
fails=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() {
	n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"
	[ -n "${2:-}" ] && sed 's/^/# /' "$2"
}
# ok/not_ok on a command's status, its output shown on failure.
check() {
	local what=$1 log=$2
	shift 2
	if "$@" >>"$log" 2>&1; then ok "$what"; else not_ok "$what" "$log"; fi
}

echo "1..9"
for t in iasl acpiexec; do
	if ! command -v $t >/dev/null; then
		echo "Bail out! $t not installed (scripts/deps.sh installs acpica-tools)"
		exit 1
	fi
done
if [ ! -x "$tool" ]; then
	echo "Bail out! $tool not built"
	exit 1
fi
"$tool" "$work/vmclock.aml" $page || { echo "Bail out! $tool failed"; exit 1; }
# The library refuses what ACPI could not describe or Linux could not map.
if "$tool" "$work/bad.aml" 0x0FFFF800 2>/dev/null || "$tool" "$work/bad.aml" 0x100000000 2>/dev/null
then
	not_ok "a page not aligned or above 4 GiB is refused"
else
	ok "a page not aligned or above 4 GiB is refused"
fi

# 2-3: disassembly is clean and holds what we built
(cd "$work" && iasl -d vmclock.aml >iasl.log 2>&1)
if [ $? -eq 0 ] && [ -s "$work/vmclock.dsl" ] &&
	! grep -qiE 'error|warning' "$work/iasl.log" "$work/vmclock.dsl"; then
	ok "iasl -d disassembles the SSDT with no error or warning"
else
	not_ok "iasl -d disassembles the SSDT with no error or warning" "$work/iasl.log"
fi
has() {
	local re
	for re in "$@"; do
		grep -Eq -- "$re" "$work/vmclock.dsl" || { echo "missing: $re"; return 1; }
	done
}
check "the disassembly has the device, its ids, its page and the GPE method" "$work/has.log" \
	has 'DefinitionBlock \("", "SSDT", 1, "GENVM ", "VMCLOCK ", 0x00000001\)' \
	'Device \(VCLK\)' 'Name \(_HID, "AMZNC10C"\)' 'Name \(_CID, "VMCLOCK"\)' \
	'Name \(_DDN, "VMCLOCK"\)' 'Memory32Fixed \(ReadOnly,' \
	'0x0FFFF000, +// Address Base' '0x00001000, +// Address Length' \
	'Method \(\\_GPE._E06, 0, NotSerialized\)' 'Notify \(\\_SB.VCLK, 0x80\)'

# 4-9: evaluation
eval_aml() {
	acpiexec -b "$1" "$work/vmclock.aml" >"$work/exec.log" 2>&1
}
expect_eval() { # what, method, regex
	eval_aml "evaluate $2"
	if grep -Eq -- "$3" "$work/exec.log" && ! grep -q 'AE_' "$work/exec.log"; then
		ok "$1"
	else
		not_ok "$1" "$work/exec.log"
	fi
}
expect_eval "_HID evaluates to AMZNC10C" '\_SB.VCLK._HID' '"AMZNC10C"'
expect_eval "_CID evaluates to VMCLOCK" '\_SB.VCLK._CID' '"VMCLOCK"'
expect_eval "_DDN evaluates to VMCLOCK" '\_SB.VCLK._DDN' '"VMCLOCK"'
# Memory32Fixed: 0x86, length 9, info byte 0 (read-only), base, length, end tag.
expect_eval "_CRS is a Memory32Fixed of the 4 KiB page" '\_SB.VCLK._CRS' \
	'86 09 00 00 00 F0 FF 0F 00 10 00 00 79'
eval_aml 'resources \_SB.VCLK'
if grep -Eqi 'Memory32Fixed|Fixed Memory Range' "$work/exec.log" &&
	grep -Eqi 'Address *: *0FFFF000|Address.*0x0*FFFF000' "$work/exec.log" &&
	grep -Eqi 'Length.*(00001000|0x0*1000)' "$work/exec.log"; then
	ok "ACPICA's resource walk of _CRS finds the page (as Linux's driver does)"
else
	not_ok "ACPICA's resource walk of _CRS finds the page (as Linux's driver does)" \
		"$work/exec.log"
fi
eval_aml 'evaluate \_GPE._E06'
if grep -qi 'notify.*VCLK.*0x80\|VCLK.*notify.*0x80' "$work/exec.log" &&
	! grep -q 'AE_' "$work/exec.log"; then
	ok "_GPE._E06 notifies VCLK with 0x80"
else
	not_ok "_GPE._E06 notifies VCLK with 0x80" "$work/exec.log"
fi
[ "$fails" -eq 0 ]
