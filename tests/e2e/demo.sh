#!/bin/sh
# The guest half of `make demo` (scripts/demo.sh runs it on the host, or inside
# the nested L1 where the host has no usable KVM): boot the Debian image of
# scripts/rootfs-image.sh from a virtio disk under genvm, with systemd and the
# generation ID service up; save it over QMP; start two clones of it at once,
# each on its own snapshot=on overlay of the same image, and show what each
# clone's watch unit hook saw and wrote.  The guest's side is
# tests/e2e/guest/rootfs/genid-agent (genid.e2e=demo).
set -u
GENVM=${GENVM:?}
GENVM_QMP=${GENVM_QMP:?}
E2E_ROOTFS=${E2E_ROOTFS:?the Debian root image (scripts/rootfs-image.sh)}
work=$(mktemp -d "${TMPDIR:-/tmp}/vmgenid-demo.XXXXXX")
pids=
trap 'for p in $pids; do kill "$p" 2>/dev/null; done; rm -rf "$work"' EXIT
# genvm keeps each snapshot=on overlay in $TMPDIR (L1 has no /var/tmp).
TMPDIR=$work
export TMPDIR
# A systemd boot under nested emulation takes a minute or two.
limit=${E2E_TIMEOUT:-240}
limit=$((limit * 3))
# pci=off: genvm has no PCI bus (its devices are virtio-mmio, found through
# ACPI), and the kernel's probe of the legacy PCI configuration ports costs
# some 33000 exits to the VMM, a large part of a nested boot
# (docs/performance.md).
append="console=ttyS0 quiet iomem=relaxed panic=-1 pci=off root=/dev/vda genid.e2e=demo"
# The clones and the source share one image, which none of them writes
# (snapshot=on).  It is a copy in $work: in the nested L1, E2E_ROOTFS is the
# L1's own read-only disk.
img=$work/debian.img
drive="file=$img,format=raw,if=virtio,snapshot=on"

# run NAME ARGS...: a guest in the background, console in $work/NAME.log,
# QMP on $work/NAME.sock.
run() {
	_n=$1
	shift
	# Created here, not by the background job: await may read it first.
	: >"$work/$_n.log"
	{
		timeout "$limit" "$GENVM" -m 256M -kernel "$E2E_KERNEL" -initrd "$E2E_INITRD" \
			-append "$append" -nographic -drive "$drive" -device virtio-rng-device \
			-qmp "unix:$work/$_n.sock,server=on,wait=off" "$@" </dev/null 2>&1
		echo "genvm: exited with status $?"
	} >>"$work/$_n.log" &
	pids="$pids $!"
}

# seen NAME KEY: the guest's first "VMGENID-E2E: KEY=VALUE".
seen() {
	tr -d '\r' <"$work/$1.log" | sed -n "s/^VMGENID-E2E: $2=//p" | head -n 1
}

# said NAME WORD: the guest has printed the line "VMGENID-E2E: WORD".
said() {
	tr -d '\r' <"$work/$1.log" | grep -q "^VMGENID-E2E: $2\$"
}

# await NAME WORD: until the guest has said WORD, or it is gone.
await() {
	_i=0
	while ! said "$1" "$2" && [ $_i -lt $((limit * 10)) ] &&
		! grep -q '^genvm: exited' "$work/$1.log"; do
		sleep 0.1
		_i=$((_i + 1))
	done
	said "$1" "$2" && return 0
	echo "== $1 never said $2; its console:"
	tr -d '\r' <"$work/$1.log" | tail -n 20 | sed 's/^/   | /'
	exit 1
}

qmp() {
	_s=$1
	shift
	"$GENVM_QMP" -t 20 "$work/$_s.sock" "$@"
}

elapsed() {
	read -r _now _ </proc/uptime
	awk -v a="$t0" -v b="$_now" 'BEGIN { printf "%.0f", b - a }'
}

echo
src=$(cat /proc/sys/kernel/random/uuid)
cp "$E2E_ROOTFS" "$img" || exit 1
echo "== host: genvm -m 256M -drive file=$img,format=raw,if=virtio,snapshot=on -device virtio-rng-device -device vmgenid,guid=$src"
read -r t0 _ </proc/uptime
run source -device "vmgenid,guid=$src"
await source ready
echo "== source: systemd reached multi-user.target ($(seen source multi_user | cut -d' ' -f1)) $(elapsed) s after launch; kernel $(seen source kernel), root $(seen source root | awk '{ print $1, $2 }')"
echo "== source: units failed: $(seen source failed_units); vmgenid-watch.service: $(seen source watch)"
echo "== source: the genid service on 127.0.0.1:7007 answers: $(seen source genid)"
echo "== source: wrote marker A $(seen source marker_a) to /var/lib/genid/markers/source and synced"

snap=$work/debian.snap
echo "== host: migrate file:$snap"
qmp source migrate "{\"uri\": \"file:$snap\"}" >/dev/null || exit 1
i=0
while st=$(qmp source query-migrate); do
	case $st in *'"completed"'* | *'"failed"'*) break ;; esac
	[ $i -lt 1200 ] || break
	sleep 0.1
	i=$((i + 1))
done
echo "== host: query-migrate says $(echo "$st" | sed 's/^{"status": "\([a-z-]*\)".*/\1/'); snapshot $(($(stat -c %s "$snap") >> 20)) MiB (RAM, devices, the disk's writes)"
case $st in *'"completed"'*) ;; *) exit 1 ;; esac
qmp source quit >/dev/null

echo "== host: two clones at once, each: genvm ... -drive $img,snapshot=on -device vmgenid,guid=auto -incoming file:$snap"
read -r t0 _ </proc/uptime
run clone1 -device vmgenid,guid=auto -incoming "file:$snap"
run clone2 -device vmgenid,guid=auto -incoming "file:$snap"
await clone1 clone_done
await clone2 clone_done
for c in clone1 clone2; do
	g=$(seen "$c" clone_guid | cut -d' ' -f1)
	echo "== $c: new GUID $g (the watch unit's hook saw $(seen "$c" clone_guid | sed 's/^[^ ]* old=//') -> $g)"
	tr -d '\r' <"$work/$c.log" | sed -n 's/^VMGENID-E2E: dmesg: /== '"$c"': kernel: /p'
	echo "== $c: the hook ran $(seen "$c" hook_runs) time(s); it wrote /var/lib/genid/markers/clone-$g = $(seen "$c" own_marker)"
	echo "== $c: files in /var/lib/genid/markers: $(seen "$c" markers); marker A reads $(seen "$c" marker_a)"
	echo "== $c: the genid service answers: $(seen "$c" genid)"
	echo "== $c: first bytes of /dev/hwrng ($(seen "$c" rng)): $(seen "$c" hwrng | cut -c1-32)"
done
echo "== host: both clones reported within $(elapsed) s of their launch"

g1=$(seen clone1 clone_guid | cut -d' ' -f1) g2=$(seen clone2 clone_guid | cut -d' ' -f1)
a=$(seen source marker_a)
if [ "$g1" != "$g2" ] && [ "$g1" != "$src" ] && [ "$g2" != "$src" ] &&
	[ "$(seen clone1 marker_a)" = "$a" ] && [ "$(seen clone2 marker_a)" = "$a" ] &&
	[ "$(seen clone1 markers)" = "clone-$g1 source" ] &&
	[ "$(seen clone2 markers)" = "clone-$g2 source" ] &&
	[ "$(seen clone1 hook_runs)" = 1 ] && [ "$(seen clone2 hook_runs)" = 1 ] &&
	[ "$(seen clone1 reseeds)" = 1 ] && [ "$(seen clone2 reseeds)" = 1 ]; then
	echo "== two clones of one running Debian system: two new GUIDs, one reseed and one hook run each, each its own write on one shared image"
else
	echo "== MISMATCH: source $src; clones $g1 and $g2, hook runs $(seen clone1 hook_runs) and $(seen clone2 hook_runs), reseeds $(seen clone1 reseeds) and $(seen clone2 reseeds), markers '$(seen clone1 markers)' and '$(seen clone2 markers)'"
	exit 1
fi
