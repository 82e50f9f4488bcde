#!/usr/bin/env bash
# The machine's ACPI tables as the real ACPICA tools see them, after our
# table-loader executor has placed them and patched every pointer.
#
# usage: BUILD=<meson build dir> tables.sh      (prints TAP)
#
# dump_tables writes each table from fake guest RAM; then every table must
# disassemble with `iasl -d` without an error or warning, data tables must
# recompile to the very same bytes, the DSDT must recompile cleanly, the
# disassembly must hold the objects and FADT fields we put there, and
# acpiexec must load DSDT + SSDT (and our FADT) and evaluate them.
set -u
BUILD=${BUILD:-build}
tool=$(realpath -m "$BUILD/tests/acpica/dump_tables")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() {
	n=$((n + 1))
	failed=$((failed + 1))
	echo "not ok $n - $1"
	if [ -n "${2:-}" ] && [ -s "$2" ]; then
		sed 's/^/# /' "$2" | head -60
	fi
}
check() { # description, log file, command...
	local what=$1 log=$2
	shift 2
	if "$@" >"$log" 2>&1; then ok "$what"; else not_ok "$what" "$log"; fi
}
# Succeeds when file has none of the words ACPICA uses for trouble.
clean() { ! grep -Ei 'error|warning|\*\*\*\*|AE_' "$1" | grep -Ev ' 0 Errors, 0 Warnings' >"$1.bad"; }
# Succeeds when file has a line matching each extended regex given.
has() {
	local f=$1 re
	shift
	for re in "$@"; do
		grep -Eq -- "$re" "$f" || { echo "missing: $re"; return 1; }
	done
}
# Upper-case hex, zero-padded to a width: how iasl and acpiexec print values.
hexw() { printf "%0${2}X" "$(($1))"; }
# A line of iasl's data table disassembly: "[024h 0036   4]  Name : Value".
field() { echo "^\[[0-9A-F]+h [0-9]+ +[0-9]+\] +$1 : $2"; }

if ! command -v iasl >/dev/null || ! command -v acpiexec >/dev/null; then
	echo "1..1"
	echo "not ok 1 - iasl and acpiexec (Debian acpica-tools) are needed"
	exit 1
fi
if [ ! -x "$tool" ]; then
	echo "1..1"
	echo "not ok 1 - $tool is not built"
	exit 1
fi
cd "$work" || exit 1

# --- build and place the tables -----------------------------------------
check "dump_tables builds, loads and writes the tables" dump.log \
	sh -c '"$1" . >addrs && cat addrs' sh "$tool"
addr() { awk -v k="$1" '$1 == k { print $2 }' addrs; }
xsdt=$(addr XSDT) dsdt=$(addr DSDT) facs=$(addr FACS) fadt=$(addr FACP)
madt=$(addr APIC) ssdt=$(addr SSDT) guid=$(addr vmgenid_guid) gaddr=$(addr vmgenid_addr)
: "${xsdt:=0}" "${dsdt:=0}" "${facs:=0}" "${fadt:=0}" "${madt:=0}" "${ssdt:=0}" "${guid:=0}"
: "${gaddr:=0}"

data_tables="xsdt.dat facp.dat facs.dat apic.dat"
aml_tables="dsdt.aml ssdt.aml"

# --- iasl -d: every table disassembles cleanly ---------------------------
# Not the RSDP: iasl 20200925 refuses any raw RSDP, even its own template
# ("does not contain a valid ACPI table", acpica issue #380).  It is checked
# against iasl's data table compiler below instead.
for t in $data_tables $aml_tables; do
	base=${t%.*}
	if [ ! -s "$t" ]; then
		not_ok "iasl -d $t: the table was written"
		continue
	fi
	if iasl -d "$t" >"$base.dis.log" 2>&1 && [ -s "$base.dsl" ] &&
		clean "$base.dis.log" && clean "$base.dsl"; then
		ok "iasl -d $t: no errors, no warnings"
	else
		cat "$base.dis.log.bad" "$base.dsl.bad" >>"$base.dis.log" 2>/dev/null
		not_ok "iasl -d $t: no errors, no warnings" "$base.dis.log"
	fi
done

# --- recompile: data tables round-trip to the same bytes, the DSDT is clean
# iasl puts its own compiler id and revision (header bytes 28..35) into what
# it compiles, and so a new checksum (byte 9): all other bytes must match.
same_but_creator() {
	local diffs
	[ "$(stat -c %s "$1")" = "$(stat -c %s "$2")" ] || { echo "sizes differ"; return 1; }
	diffs=$(cmp -l "$1" "$2" | awk '$1 != 10 && ($1 < 29 || $1 > 36)')
	[ -z "$diffs" ] || { echo "bytes differ (1-based offset, octal):"; echo "$diffs"; return 1; }
}
for t in $data_tables; do
	base=${t%.*}
	if iasl -p "re_$base" "$base.dsl" >"$base.re.log" 2>&1 && clean "$base.re.log" &&
		same_but_creator "$t" "re_$base.aml" >>"$base.re.log" 2>&1; then
		ok "$t: disassembly recompiles to the same table"
	else
		not_ok "$t: disassembly recompiles to the same table" "$base.re.log"
	fi
done
# (The vmgenid SSDT cannot recompile: iasl rejects QEMU's non-hex _HID "QEMUVGID".)
if iasl -p re_dsdt dsdt.dsl >dsdt.re.log 2>&1 &&
	grep -q " 0 Errors, 0 Warnings, 0 Remarks" dsdt.re.log; then
	ok "dsdt.dsl recompiles with 0 errors, 0 warnings, 0 remarks"
else
	not_ok "dsdt.dsl recompiles with 0 errors, 0 warnings, 0 remarks" dsdt.re.log
fi

# iasl computes both RSDP checksums itself; our bytes must be the same.
cat >rsdp_ref.asl <<END
[0008]                          Signature : "RSD PTR "
[0001]                           Checksum : 00
[0006]                             Oem ID : "GENVM "
[0001]                           Revision : 02
[0004]                       RSDT Address : 00000000
[0004]                             Length : 00000024
[0008]                       XSDT Address : $(hexw "$xsdt" 16)
[0001]                  Extended Checksum : 00
[0003]                           Reserved : 000000
END
check "RSDP equals iasl's: revision 2, XSDT address patched, both checksums" rsdp.chk \
	sh -c 'iasl -p rsdp_ref rsdp_ref.asl && cmp rsdp.dat rsdp_ref.aml'

# --- what the disassembly says -------------------------------------------
check "XSDT lists FACP, APIC and SSDT" xsdt.chk has xsdt.dsl \
	"$(field 'ACPI Table Address +0' "$(hexw "$fadt" 16)")" \
	"$(field 'ACPI Table Address +1' "$(hexw "$madt" 16)")" \
	"$(field 'ACPI Table Address +2' "$(hexw "$ssdt" 16)")"
check "FADT: FACS and DSDT pointers, 32 and 64 bits" facp.chk has facp.dsl \
	"$(field 'FACS Address' "$(hexw "$facs" 8)")" \
	"$(field 'DSDT Address' "$(hexw "$dsdt" 8)")" \
	"$(field 'FACS Address' "$(hexw "$facs" 16)")" \
	"$(field 'DSDT Address' "$(hexw "$dsdt" 16)")" \
	"$(field 'Revision' '06')" "$(field 'Table Length' '00000114')"
check "FADT: SCI, no SMI, PM1a/PM timer/GPE0 blocks of dump_tables' machine" facp2.chk \
	has facp.dsl \
	"$(field 'SCI Interrupt' '0009')" "$(field 'SMI Command Port' '00000000')" \
	"$(field 'PM1A Event Block Address' '00000600')" \
	"$(field 'PM1A Control Block Address' '00000604')" \
	"$(field 'PM Timer Block Address' '00000608')" \
	"$(field 'GPE0 Block Address' '00000620')" \
	"$(field 'PM1 Event Block Length' '04')" "$(field 'PM1 Control Block Length' '02')" \
	"$(field 'PM Timer Block Length' '04')" "$(field 'GPE0 Block Length' '04')" \
	"$(field 'Value to cause reset' '06')" "$(field 'Address' '0000000000000CF9')"
check "FADT flags: not hardware-reduced, 24-bit timer, reset register, fixed power button, no 8042/VGA/MSI/RTC" \
	facp3.chk has facp.dsl \
	"Hardware Reduced \(V5\) : 0" "32-bit PM Timer \(V1\) : 0" \
	"Reset Register Supported \(V2\) : 1" "WBINVD instruction is operational \(V1\) : 1" \
	"All CPUs support C1 \(V1\) : 1" "Control Method Sleep Button \(V1\) : 1" \
	"Control Method Power Button \(V1\) : 0" \
	"Legacy Devices Supported \(V2\) : 1" "8042 Present on ports 60/64 \(V2\) : 0" \
	"VGA Not Present \(V4\) : 1" "MSI Not Supported \(V4\) : 1" \
	"CMOS RTC Not Present \(V5\) : 1"
check "FACS: signature and 64-byte length" facs.chk has facs.dsl \
	"$(field 'Signature' '"FACS"')" "$(field 'Length' '00000040')"
check "MADT: 2 local APICs, IOAPIC, IRQ0->GSI2, IRQ9 level/high, LINT1 NMI" apic.chk sh -c '
	[ "$(grep -c "Subtable Type : 00 \[Processor Local APIC\]" apic.dsl)" = 2 ] &&
	grep -q "Subtable Type : 01 \[I/O APIC\]" apic.dsl &&
	grep -q "Address : FEC00000" apic.dsl &&
	[ "$(grep -c "Subtable Type : 02 \[Interrupt Source Override\]" apic.dsl)" = 2 ] &&
	grep -A4 "Source : 00$" apic.dsl | grep -q "Interrupt : 00000002" &&
	grep -A5 "Source : 09$" apic.dsl | grep -q "Flags (decoded below) : 000D" &&
	grep -q "Subtable Type : 04 \[Local APIC NMI\]" apic.dsl &&
	grep -q "Interrupt Input LINT : 01" apic.dsl'
check "DSDT: \\_S5, COM1 (PNP0501, 0x3F8, IRQ 4), fw_cfg (QEMU0002, 0x510, 12 ports)" \
	dsdt.chk has dsdt.dsl \
	'Name \(\\_S5, Package \(0x04\)' \
	"Device \(COM1\)" 'Name \(_HID, EisaId \("PNP0501"\)' \
	"0x03F8, +// Range Minimum" "IRQNoFlags \(\)" '\{4\}' \
	"Device \(FWCF\)" 'Name \(_HID, "QEMU0002"\)' "Name \(_STA, 0x0B\)" \
	"0x0510, +// Range Minimum" "0x0C, +// Length"
check "DSDT: two virtio-mmio devices (LNRO0005, 0x200 bytes at 0xFEB00000 and 0xFEB00200, edge GSIs 16, 17)" \
	dsdtv.chk has dsdt.dsl \
	"Device \(VR00\)" "Device \(VR01\)" 'Name \(_HID, "LNRO0005"\)' \
	"Name \(_UID, Zero\)" "Name \(_UID, One\)" "Name \(_CCA, One\)" \
	"Memory32Fixed \(ReadWrite," "0xFEB00000, +// Address Base" "0xFEB00200, +// Address Base" \
	"0x00000200, +// Address Length" \
	"Interrupt \(ResourceConsumer, Edge, ActiveHigh, Exclusive, ,, \)" \
	"0x00000010," "0x00000011,"
check "SSDT: vmgenid device, VGIA patched to the GUID blob" ssdt.chk has ssdt.dsl \
	'Name \(_HID, "QEMUVGID"\)' "Name \(VGIA, 0x$(hexw "$guid" 8)\)" "_E05"

# --- acpiexec ------------------------------------------------------------
acpiexec -b "evaluate \_S5; evaluate \_SB.VGEN._STA; evaluate \_SB.VGEN.ADDR; \
evaluate \_SB.COM1._CRS; evaluate \_SB.FWCF._STA; evaluate \_SB.FWCF._CRS; \
evaluate \_SB.VR01._HID; evaluate \_SB.VR01._UID; evaluate \_SB.VR01._CRS; \
evaluate \_GPE._E05" dsdt.aml ssdt.aml >exec.out 2>&1
exec_ok() {
	has exec.out "2 ACPI AML tables successfully acquired and loaded" \
		"Evaluation of .*_S5 returned" "Contains 4 Elements" \
		"\[Integer\] = 0000000000000005" \
		"Evaluation of .*_SB.VGEN._STA returned" "\[Integer\] = 000000000000000F" \
		"\[Integer\] = $(hexw "$gaddr" 16)" \
		"47 01 F8 03 F8 03 00 08 22 10 00 79" \
		"\[Integer\] = 000000000000000B" "47 01 10 05 10 05 01 0C 79" \
		'\[String\] Length 08 = "LNRO0005"' "\[Integer\] = 0000000000000001" \
		"86 09 00 01 00 02 B0 FE 00 02 00 00 89 06 00 03" "01 11 00 00 00 79" \
		"Received a Device Notify on \[VGEN\] .* Value 0x80" || return 1
	[ "$((gaddr))" = "$((guid + 40))" ] || { echo "vmgenid_addr is not GUID blob + 40"; return 1; }
	! grep -Ei 'error|warning|AE_[A-Z]' exec.out | grep -v 'AE_OK'
}
if exec_ok >exec.why 2>&1; then
	ok "acpiexec: \\_S5 = {5,0,0,0}, VGEN present, ADDR = GUID address, _E05 notifies, VR01 is LNRO0005 #1"
else
	cat exec.out >>exec.why
	not_ok "acpiexec: \\_S5 = {5,0,0,0}, VGEN present, ADDR = GUID address, _E05 notifies, VR01 is LNRO0005 #1" \
		exec.why
fi

# With our FADT too: ACPICA's FADT checks (32/64-bit mismatches, register
# widths) speak as "ACPI Warning/Error" or "Firmware Error" lines.
acpiexec -b "evaluate \_S5" facp.dat dsdt.aml ssdt.aml >fadt.out 2>&1
if has fadt.out "FACP .* \(v06 GENVM  GENVM " "Initialized GPE 00 to 0F \[_GPE\] 2 regs" \
	>fadt.why 2>&1 && ! grep -Ei 'ACPI (BIOS )?(Error|Warning)|Firmware (Error|Warning)' \
	fadt.out >>fadt.why; then
	ok "acpiexec takes our FADT: no ACPICA table warnings, 16 GPEs"
else
	cat fadt.out >>fadt.why
	not_ok "acpiexec takes our FADT: no ACPICA table warnings, 16 GPEs" fadt.why
fi

echo "1..$n"
[ "$failed" -eq 0 ]
