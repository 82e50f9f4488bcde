#!/bin/sh
# The guest half of `make demo` (scripts/demo.sh runs it on the host, or inside
# the nested L1 where the host has no usable KVM): boot the demo guest under
# genvm with a fresh GUID and show what the guest's vmgenid driver sees; then
# snapshot a guest and start two clones of it, each with a new GUID.
set -u
GENVM=${GENVM:?}
guid=$(cat /proc/sys/kernel/random/uuid)

echo "== host: genvm -m 256M -device vmgenid,guid=$guid"
out=$(timeout "${E2E_TIMEOUT:-240}" "$GENVM" -m 256M -kernel "$E2E_KERNEL" \
	-initrd "$E2E_INITRD" \
	-append "console=ttyS0 quiet iomem=relaxed pci=off panic=-1 e2e=demo" \
	-nographic -no-reboot -device "vmgenid,guid=$guid" </dev/null 2>&1)
status=$?
out=$(printf '%s\n' "$out" | tr -d '\r')
# The guest's own report; the kernel's console only when something went wrong.
printf '%s\n' "$out" | grep -e '^== ' -e '^genvm: '
seen=$(printf '%s\n' "$out" | sed -n 's/^== GUID as text: //p')
echo "== host: genvm exited with status $status"
if [ "$seen" = "$guid" ]; then
	echo "== the guest read exactly the GUID genvm was given: $guid"
else
	echo "== MISMATCH: genvm was given $guid, the guest read '${seen:-nothing}'; its console:"
	printf '%s\n' "$out" | tail -n 30 | sed 's/^/   | /'
	exit 1
fi

# ---- snapshot and clones ----
# The same guest (e2e=snapshot: RNG ready, a random marker in its tmpfs) is
# saved over QMP and restored twice at the same time with guid=auto: both
# clones keep the marker, each gets a GUID of its own and each kernel logs
# the VM-fork reseed.
GENVM_QMP=${GENVM_QMP:?}
work=$(mktemp -d "${TMPDIR:-/tmp}/vmgenid-demo.XXXXXX")
pids=
trap 'for p in $pids; do kill "$p" 2>/dev/null; done; rm -rf "$work"' EXIT
append="console=ttyS0 quiet iomem=relaxed panic=-1 e2e=snapshot"

# run NAME ARGS...: a guest in the background, console in $work/NAME.log,
# QMP on $work/NAME.sock.
run() {
	_n=$1
	shift
	# Created here, not by the background job: await may read it first.
	: >"$work/$_n.log"
	timeout "${E2E_TIMEOUT:-240}" "$GENVM" -m 256M -kernel "$E2E_KERNEL" \
		-initrd "$E2E_INITRD" -append "$append" -nographic \
		-qmp "unix:$work/$_n.sock,server=on,wait=off" "$@" </dev/null >>"$work/$_n.log" 2>&1 &
	pids="$pids $!"
}

# seen NAME KEY: the guest's first "VMGENID-E2E: KEY=VALUE".
seen() {
	tr -d '\r' <"$work/$1.log" | sed -n "s/^VMGENID-E2E: $2=//p" | head -n 1
}

# await NAME KEY: until the guest has printed KEY=, or it is gone.
await() {
	_i=0
	while [ -z "$(seen "$1" "$2")" ] && [ $_i -lt $((${E2E_TIMEOUT:-240} * 10)) ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	[ -n "$(seen "$1" "$2")" ] && return 0
	echo "== $1 printed no $2; its console:"
	tr -d '\r' <"$work/$1.log" | tail -n 20 | sed 's/^/   | /'
	exit 1
}

qmp() {
	_s=$1
	shift
	"$GENVM_QMP" -t 20 "$work/$_s.sock" "$@"
}

echo
src=$(cat /proc/sys/kernel/random/uuid)
echo "== host: genvm -m 256M -device vmgenid,guid=$src -qmp ... (e2e=snapshot)"
run source -device "vmgenid,guid=$src"
await source marker
echo "== source guest: GUID $(seen source guid), marker $(seen source marker) in its tmpfs"
snap=$work/base.snap
echo "== host: migrate file:$snap"
qmp source migrate "{\"uri\": \"file:$snap\"}" >/dev/null || exit 1
i=0
while st=$(qmp source query-migrate); do
	case $st in *'"completed"'* | *'"failed"'*) break ;; esac
	[ $i -lt 600 ] || break
	sleep 0.1
	i=$((i + 1))
done
echo "== host: query-migrate says $(echo "$st" | sed 's/^{"status": "\([a-z-]*\)".*/\1/'), the source is $(qmp source query-status | sed 's/^{"status": "\([a-z-]*\)".*/\1/')"
case $st in *'"completed"'*) ;; *) exit 1 ;; esac
qmp source quit >/dev/null
echo "== host: two clones at once: genvm -device vmgenid,guid=auto -incoming file:$snap"
run clone1 -device vmgenid,guid=auto -incoming "file:$snap"
run clone2 -device vmgenid,guid=auto -incoming "file:$snap"
await clone1 marker
await clone2 marker
for c in clone1 clone2; do
	g=$(seen "$c" guid)
	echo "== $c: the guest reads GUID $g (QMP: $(qmp "$c" query-vm-generation-id))"
	echo "== $c: marker $(seen "$c" marker), kernel:"
	tr -d '\r' <"$work/$c.log" | sed -n 's/^VMGENID-E2E: dmesg: /   /p'
	qmp "$c" quit >/dev/null
done
g1=$(seen clone1 guid) g2=$(seen clone2 guid) m=$(seen source marker)
if [ "$g1" != "$g2" ] && [ "$g1" != "$src" ] && [ "$g2" != "$src" ] &&
	[ "$(seen clone1 marker)" = "$m" ] && [ "$(seen clone2 marker)" = "$m" ] &&
	[ "$(seen clone1 reseeds)" = 1 ] && [ "$(seen clone2 reseeds)" = 1 ]; then
	echo "== two clones of one snapshot: same memory, two new GUIDs, one reseed each"
else
	echo "== MISMATCH: source $src; clones $g1 and $g2, reseeds $(seen clone1 reseeds) and $(seen clone2 reseeds)"
	exit 1
fi
