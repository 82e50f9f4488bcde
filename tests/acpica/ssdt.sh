#!/usr/bin/env bash
# Our vmgenid SSDT judged by the real ACPICA tools (TAP).
#  - iasl -d disassembles it with no error or warning, into the objects and
#    values of the spec's listing (tests/acpica/vmgenid_ssdt.expected);
#  - acpiexec evaluates _STA (0 while VGIA is 0, 0x0F once patched), ADDR
#    (Package {VGIA + 0x28, 0}) and runs \_GPE._E05's Notify.
set -u
here=$(cd "$(dirname "$0")" && pwd)
tool=${BUILD:-build}/tests/acpica/vmgenid_ssdt
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

n=0
fails=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() {
	n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"
	[ -n "${2:-}" ] && sed 's/^/# /' "$2"
}

echo "1..8"
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

"$tool" "$work/unpatched.aml" 0 && "$tool" "$work/patched.aml" 0x07FFF000 ||
	{ echo "Bail out! $tool failed"; exit 1; }

# 1-2: disassembly is clean
(cd "$work" && iasl -d patched.aml >iasl.log 2>&1)
if [ $? -eq 0 ] && [ -s "$work/patched.dsl" ]; then
	ok "iasl -d disassembles the SSDT"
else
	not_ok "iasl -d disassembles the SSDT" "$work/iasl.log"
fi
if grep -qiE 'error|warning' "$work/iasl.log" "$work/patched.dsl" 2>/dev/null; then
	not_ok "iasl -d reports no errors or warnings" "$work/iasl.log"
else
	ok "iasl -d reports no errors or warnings"
fi

# 3: same objects and values as the spec's listing (comments, blank lines
# and indentation differ between iasl versions, so they are dropped; newer
# iasl writes Index (Local0, Zero) as Local0 [Zero])
sed -e '/^ *\/\*/,/\*\//d' -e 's|  *//.*$||' -e 's/^ *//' -e '/^$/d' \
	-e 's/^DefinitionBlock ("[^"]*", /DefinitionBlock ("", /' \
	-e 's/^\(Local[0-7]\) \[\([A-Za-z0-9]*\)\]/Index (\1, \2)/' \
	"$work/patched.dsl" >"$work/normalized.dsl"
if diff -u "$here/vmgenid_ssdt.expected" "$work/normalized.dsl" >"$work/diff"; then
	ok "disassembly matches the spec's listing"
else
	not_ok "disassembly matches the spec's listing" "$work/diff"
fi

# 4-8: evaluation
eval_aml() {
	acpiexec -b "$2" "$work/$1" >"$work/exec.log" 2>&1
}

eval_aml unpatched.aml 'evaluate \_SB.VGEN._STA'
if grep -q '\[Integer\] = 0000000000000000' "$work/exec.log" && ! grep -q 'AE_' "$work/exec.log"; then
	ok "_STA is 0 while VGIA is 0"
else
	not_ok "_STA is 0 while VGIA is 0" "$work/exec.log"
fi

eval_aml patched.aml 'evaluate \_SB.VGEN._STA'
if grep -q '\[Integer\] = 000000000000000F' "$work/exec.log" && ! grep -q 'AE_' "$work/exec.log"; then
	ok "_STA is 0x0F once VGIA is patched"
else
	not_ok "_STA is 0x0F once VGIA is patched" "$work/exec.log"
fi

eval_aml patched.aml 'evaluate \_SB.VGEN.ADDR'
if grep -q 'Package\] Contains 2 Elements' "$work/exec.log" &&
	grep -A2 'Contains 2 Elements' "$work/exec.log" | sed -n 2p | grep -q '= 0000000007FFF028' &&
	grep -A2 'Contains 2 Elements' "$work/exec.log" | sed -n 3p | grep -q '= 0000000000000000'; then
	ok "ADDR returns Package {VGIA + 0x28, 0}"
else
	not_ok "ADDR returns Package {VGIA + 0x28, 0}" "$work/exec.log"
fi

eval_aml patched.aml 'evaluate \_GPE._E05'
if grep -qi 'notify.*VGEN.*0x80\|VGEN.*notify.*0x80' "$work/exec.log" && ! grep -q 'AE_' "$work/exec.log"; then
	ok "_GPE._E05 notifies VGEN with 0x80"
else
	not_ok "_GPE._E05 notifies VGEN with 0x80" "$work/exec.log"
fi

eval_aml patched.aml 'evaluate \_SB.VGEN._HID'
if grep -q 'QEMUVGID' "$work/exec.log" && ! grep -q 'AE_' "$work/exec.log"; then
	ok "_HID evaluates to QEMUVGID"
else
	not_ok "_HID evaluates to QEMUVGID" "$work/exec.log"
fi
[ "$fails" -eq 0 ]
