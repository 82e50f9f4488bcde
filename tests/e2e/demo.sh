#!/bin/sh
# The guest half of `make demo` (scripts/demo.sh runs it on the host, or inside
# the nested L1 where the host has no usable KVM): boot the demo guest under
# genvm with a fresh GUID and show what the guest's vmgenid driver sees.
set -u
GENVM=${GENVM:?}
guid=$(cat /proc/sys/kernel/random/uuid)

echo "== host: genvm -m 256M -device vmgenid,guid=$guid"
out=$(timeout "${E2E_TIMEOUT:-240}" "$GENVM" -m 256M -kernel "$E2E_KERNEL" \
	-initrd "$E2E_INITRD" \
	-append "console=ttyS0 quiet iomem=relaxed pci=off panic=-1 e2e=demo" \
	-nographic -no-reboot -device "vmgenid,guid=$guid" </dev/null 2>&1)
status=$?
printf '%s\n' "$out" | tr -d '\r' | grep -v -e '^VMGENID-E2E' -e '^$'
seen=$(printf '%s\n' "$out" | tr -d '\r' | sed -n 's/^== GUID as text: //p')
echo "== host: genvm exited with status $status"
if [ "$seen" = "$guid" ]; then
	echo "== the guest read exactly the GUID genvm was given: $guid"
else
	echo "== MISMATCH: genvm was given $guid, the guest read '${seen:-nothing}'"
	exit 1
fi
