#!/bin/sh
# QEMU as the VMM under test: GENVM=tests/e2e/qemu-vmm.sh runs the e2e
# scenarios against the reference implementation, which shows the scenarios
# and the guest image are right independently of genvm.  genvm's CLI is a
# subset of QEMU's, so the arguments pass through unchanged.
exec qemu-system-x86_64 -enable-kvm -M pc -cpu host -vga none -nic none "$@"
