#!/bin/sh
# /init of the e2e test guest (busybox sh, PID 1).
#
# Everything the host harness reads is a console line "VMGENID-E2E: key=value".
# The first line is printed before anything else, so the host can time the
# launch-to-/init interval; the last is "VMGENID-E2E: poweroff" right before
# poweroff -f, so the host can time the VMM's exit.  The scenario comes from
# the kernel command line: e2e=boot|idle|demo|shell|tool|abuse|qmp|snapshot|
# vmclock.
# With root=/dev/vdX instead, this is the initramfs of a disk-booted system:
# it mounts that disk and hands over to its /sbin/init (the Debian image of
# scripts/rootfs-image.sh).
echo "VMGENID-E2E: init"

export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev

VGEN=/sys/bus/acpi/devices/QEMUVGID:00
FWCFG_GUID=/sys/firmware/qemu_fw_cfg/by_name/etc/vmgenid_guid/raw

mark() {
	echo "VMGENID-E2E: $*"
}

cmdline_value() {
	for w in $(cat /proc/cmdline); do
		case $w in
		"$1"=*) echo "${w#*=}"; return 0 ;;
		esac
	done
	return 1
}

finish() {
	mark poweroff
	poweroff -f
	# poweroff -f returns only if the power-off request failed.
	mark "error=poweroff -f returned"
	sleep 2
	exit 1
}

dump_dmesg() {
	dmesg | tail -n "${1:-40}" | sed 's/^/VMGENID-E2E: dmesg: /'
}

# The GUID as the guest finds it: VGIA, its address, the 16 bytes there.
mark_guid() {
	addr=
	if out=$(memread vgia); then
		for kv in $out; do
			mark "$kv"
		done
		addr=$(echo "$out" | sed -n 's/^addr=//p')
	else
		mark "vgia=none"
		return 1
	fi
	[ -n "$addr" ] || return 1
	if guid=$(memread read "$addr" 16); then
		mark "guid_le=$guid"
	else
		mark "guid_le=unreadable"
	fi
}

# Prints the facts a test asserts on; judging them is the host's job.
scenario_boot() {
	anomaly=0
	if [ -d "$VGEN" ]; then
		mark acpi_dev=present
	else
		mark acpi_dev=missing
		anomaly=1
	fi
	drv=none
	if [ -e "$VGEN/driver" ]; then
		drv=$(basename "$(readlink "$VGEN/driver")")
	fi
	mark "driver=$drv"
	mark "cpus=$(grep -c '^processor' /proc/cpuinfo)"
	[ "$drv" = vmgenid ] || anomaly=1

	mark_guid || anomaly=1
	if [ -n "$addr" ]; then
		if e820=$(memread e820 "$addr"); then
			mark "$e820"
		else
			mark "e820=none"
		fi
	fi

	# qemu_fw_cfg is a module in Debian's kernel; its sysfs view is how a
	# guest without /dev/mem reads the GUID.
	insmod /lib/modules/qemu_fw_cfg.ko 2>/dev/null
	if [ -r "$FWCFG_GUID" ]; then
		mark "fwcfg_guid_le=$(dd if="$FWCFG_GUID" bs=1 skip=40 count=16 2>/dev/null |
			od -An -tx1 -v | tr -d ' \n')"
	else
		mark fwcfg_guid_le=none
	fi

	errs=$(dmesg | grep -e 'ACPI Error' -e 'AE_')
	mark "dmesg_acpi_errors=$(printf '%s' "$errs" | grep -c .)"
	printf '%s\n' "$errs" | grep . | sed 's/^/VMGENID-E2E: dmesg_error: /'
	[ "$anomaly" = 0 ] || dump_dmesg 60
	mark done
}

# A hostile guest: fwcfg_abuse drives the fw_cfg ports with garbage and
# reports what the device answered; then the guest shows it still works.
scenario_abuse() {
	before=
	addr=$(memread vgia 2>/dev/null | sed -n 's/^addr=//p')
	[ -n "$addr" ] && before=$(memread read "$addr" 16)
	fwcfg_abuse
	mark "abuse_exit=$?"
	after=
	[ -n "$addr" ] && after=$(memread read "$addr" 16)
	mark "guid_before=${before:-none}"
	mark "guid_after=${after:-none}"
	mark "driver=$(basename "$(readlink "$VGEN/driver" 2>/dev/null)" 2>/dev/null)"
	mark "alive=yes"
}

# Nothing in this initramfs listens for the power button, so the guest
# does it itself: the ACPI button driver reports the press as KEY_POWER on
# its input device, and the first event read from it powers the guest off.
power_button_handler() {
	insmod /lib/modules/evdev.ko 2>/dev/null
	insmod /lib/modules/button.ko 2>/dev/null
	for dev in /sys/class/input/event*; do
		[ "$(cat "$dev/device/name" 2>/dev/null)" = "Power Button" ] || continue
		mark "power_button=/dev/input/${dev##*/}"
		(
			dd if="/dev/input/${dev##*/}" bs=24 count=1 >/dev/null 2>&1 &&
				mark powerbutton && finish
		) &
		return 0
	done
	mark power_button=none
}

# For the QMP tests: the GUID and what the kernel says about vmgenid, then a
# counter ten times a second until the power button ends it.
scenario_qmp() {
	drv=none
	[ -e "$VGEN/driver" ] && drv=$(basename "$(readlink "$VGEN/driver")")
	mark "driver=$drv"
	mark_guid
	mark "boot_id=$(cat /proc/sys/kernel/random/boot_id)"
	# A notification with an unchanged GUID makes the driver say nothing,
	# but ACPI counts every GPE it handles.
	read -r n _ </sys/firmware/acpi/interrupts/gpe05 || n=unreadable
	mark "gpe05=$n"
	mark "reseeds=$(dmesg | grep -c 'virtual machine fork')"
	power_button_handler
	mark ready
	i=0
	while :; do
		i=$((i + 1))
		mark "tick $i"
		usleep 100000
	done
}

# For the snapshot tests: a guest whose state is worth keeping.  Readies the
# RNG first (Linux logs "crng reseeded due to virtual machine fork" only once
# its crng is initialised), writes a random marker to a tmpfs, then reads the
# vmgenid page ten times a second.  Whenever the GUID changes (a restored
# clone with a new one) it reports the GUID, the kernel's reseed count and
# lines, and the marker; once a second a tick with the reseed count and the
# marker shows that it runs (a clone whose GUID stayed the same reports
# nothing else).  e2e_poll_ms=N reads the page every N ms instead (bench);
# e2e_after_fork=status-port writes the firmware's status port after each
# GUID change (t_faults.sh).
reseeds() {
	dmesg | grep -c 'crng reseeded due to virtual machine fork'
}

le_to_text() {
	echo "$1" | awk '{ printf "%s%s%s%s-%s%s-%s%s-%s-%s\n",
		substr($0,7,2), substr($0,5,2), substr($0,3,2), substr($0,1,2),
		substr($0,11,2), substr($0,9,2), substr($0,15,2), substr($0,13,2),
		substr($0,17,4), substr($0,21,12) }'
}

scenario_snapshot() {
	# Blocks until the crng is ready; the kernel's jitter entropy gets it
	# there within a second or so even without a hardware RNG.
	dd if=/dev/random of=/dev/null bs=16 count=1 2>/dev/null
	n=0
	until dmesg | grep -q 'crng init done'; do
		[ $n -lt 300 ] || break
		usleep 100000
		n=$((n + 1))
	done
	if dmesg | grep -q 'crng init done'; then
		mark crng=ready
	else
		mark crng=not-ready
	fi
	mkdir -p /mnt/e2e
	mount -t tmpfs tmpfs /mnt/e2e
	head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n' >/mnt/e2e/marker
	addr=$(memread vgia 2>/dev/null | sed -n 's/^addr=//p')
	if [ -z "$addr" ]; then
		mark "guid=none"
		dump_dmesg 40
		return 1
	fi
	last=$(memread read "$addr" 16)
	seen=$(reseeds)
	mark "guid=$(le_to_text "$last")"
	mark "reseeds=$seen"
	mark "marker=$(cat /mnt/e2e/marker)"
	# The same write in the machine that booted: also long after its firmware.
	if [ "$(cmdline_value e2e_after_fork)" = status-port ]; then
		fwcfg_abuse status-port 0x300
		mark "status_port_boot_exit=$?"
	fi
	poll_ms=$(cmdline_value e2e_poll_ms || echo 100)
	per_tick=$((1000 / poll_ms))
	[ "$per_tick" -ge 1 ] || per_tick=1
	mark ready
	i=0
	while :; do
		usleep $((poll_ms * 1000))
		i=$((i + 1))
		cur=$(memread read "$addr" 16 2>&1) || cur="unreadable ($cur)"
		if [ "$cur" != "$last" ]; then
			# A snapshot taken while memread was part-way through the
			# 16 bytes resumes, in a clone, with the rest of them new:
			# one torn value.  Read until two reads agree.
			r=0
			while again=$(memread read "$addr" 16 2>&1) &&
				[ "$again" != "$cur" ] && [ $r -lt 10 ]; do
				cur=$again
				r=$((r + 1))
			done
			last=$cur
			case $cur in
			unreadable*) mark "guid=$cur" ;;
			*) mark "guid=$(le_to_text "$cur")" ;;
			esac
			# The VMM writes the GUID before it raises the GPE, so the
			# change can be seen here before the driver has logged it.
			w=0
			while [ "$(reseeds)" -le "$seen" ] && [ $w -lt $((3 * per_tick)) ]; do
				usleep $((poll_ms * 1000))
				w=$((w + 1))
			done
			seen=$(reseeds)
			mark "reseeds=$seen"
			dmesg | grep 'crng reseeded due to virtual machine fork' |
				sed 's/^/VMGENID-E2E: dmesg: /'
			mark "marker=$(cat /mnt/e2e/marker 2>&1)"
			# e2e_after_fork=status-port: a restored guest writes the
			# firmware's status port (a failure code), which must not
			# end the VMM now that the firmware is long gone.  First a
			# harmless port read shows whether user-space port I/O
			# works here at all (see t_faults.sh).
			if [ "$(cmdline_value e2e_after_fork)" = status-port ]; then
				fwcfg_abuse signature
				mark "port_io_exit=$?"
				fwcfg_abuse status-port 0x300
				mark "status_port_exit=$?"
			fi
		fi
		[ $((i % per_tick)) -ne 0 ] ||
			mark "tick $((i / per_tick)) reseeds=$(reseeds) marker=$(cat /mnt/e2e/marker 2>&1)"
	done
}

# A driver bound to an ACPI device: itself (before 6.10 for vmgenid) or, for
# platform drivers, through the device's physical_node.
acpi_driver() {
	for d in "$1/driver" "$1/physical_node/driver"; do
		[ -e "$d" ] && { basename "$(readlink "$d")"; return 0; }
	done
	echo none
}

vmclock_counter() {
	echo "$1" | sed -n 's/.* counter=\([0-9]*\) .*/\1/p'
}

# For the VMClock tests (a kernel with ptp_vmclock, 6.13 and later): the
# drivers bound, then the page as /dev/vmclock0 shows it (no /dev/mem), read
# five times a second.  When the generation counter changes (a restore), it
# reports the page and the kernel's reseed count.  A poll() on
# /dev/vmclock0, started before, says whether the restore woke it.
scenario_vmclock() {
	mark "kernel=$(uname -r)"
	for m in $(cat /lib/modules/load-order 2>/dev/null); do
		insmod "/lib/modules/$m" 2>/dev/null
	done
	mark "vmgenid_driver=$(acpi_driver "$VGEN")"
	mark "vmclock_driver=$(acpi_driver /sys/bus/acpi/devices/AMZNC10C:00)"
	if [ -c /dev/vmclock0 ]; then
		mark vmclock_dev=present
	else
		mark vmclock_dev=missing
	fi
	dmesg | grep -i vmclock | sed 's/^/VMGENID-E2E: dmesg: /'
	errs=$(dmesg | grep -e 'ACPI Error' -e 'AE_')
	mark "dmesg_acpi_errors=$(printf '%s' "$errs" | grep -c .)"
	printf '%s\n' "$errs" | grep . | sed 's/^/VMGENID-E2E: dmesg_error: /'
	dd if=/dev/random of=/dev/null bs=16 count=1 2>/dev/null
	last=$(vmclockread 2>&1)
	mark "vmclock=$last"
	seen=$(reseeds)
	mark "reseeds=$seen"
	(
		r=$(vmclockread poll 600000 2>&1)
		mark "poll=${r#poll=}"
	) &
	start_tool_watch
	mark ready
	i=0
	while :; do
		usleep 200000
		i=$((i + 1))
		cur=$(vmclockread 2>&1)
		if [ "$(vmclock_counter "$cur")" != "$(vmclock_counter "$last")" ]; then
			last=$cur
			mark "vmclock=$cur"
			w=0
			while [ "$(reseeds)" -le "$seen" ] && [ $w -lt 15 ]; do
				usleep 200000
				w=$((w + 1))
			done
			seen=$(reseeds)
			mark "reseeds=$seen"
			tool_after_change
		fi
		[ $((i % 5)) -ne 0 ] || mark "tick $((i / 5)) reseeds=$(reseeds)"
	done
}

# The guest tool on the same guest, as a service would run it, with no
# /dev/mem at all: `vmgenid watch` with its state in /run/vmgenid and two
# drop-in hooks that print what they were given.  A second state directory
# is written now by a watch that then stops, so that after a restore a
# watch started afresh reports the change it missed.
start_tool_watch() {
	[ -x /bin/vmgenid ] || { mark tool=missing; return; }
	rm -f /dev/mem
	mkdir -p /etc/vmgenid/on-change.d
	for h in 10-first 20-second; do
		printf '#!/bin/sh\necho "VMGENID-E2E: hook %s counter=$VMGENID_COUNTER_OLD->$VMGENID_COUNTER_NEW guid=$VMGENID_OLD->$VMGENID_NEW method=$VMGENID_METHOD" >/dev/console\n' \
			"$h" >/etc/vmgenid/on-change.d/$h
		chmod +x /etc/vmgenid/on-change.d/$h
	done
	vmgenid watch --no-hooks --state-dir /run/vmgenid-missed >/dev/null 2>&1 &
	p=$!
	n=0
	while [ ! -s /run/vmgenid-missed/state ] && [ $n -lt 100 ]; do
		usleep 100000
		n=$((n + 1))
	done
	kill $p 2>/dev/null
	vmgenid watch --state-dir /run/vmgenid >/tmp/watch.out 2>/tmp/watch.err &
	n=0
	while ! grep -q 'detecting changes' /tmp/watch.err && [ $n -lt 100 ]; do
		usleep 100000
		n=$((n + 1))
	done
	sed 's/^/VMGENID-E2E: watch_err: /' /tmp/watch.err
	mark "missed_state=$(grep -c . /run/vmgenid-missed/state 2>/dev/null)"
	mark "tool_read=$(vmgenid read 2>&1 | head -n 1)"
	mark "tool_counter=$(vmgenid read --counter 2>&1 | head -n 1)"
}

# After a restore: what the running watch printed, and what a watch that
# starts now says about the state written before the save.
tool_after_change() {
	[ -x /bin/vmgenid ] || return
	n=0
	while [ "$(grep -c . /tmp/watch.out)" -lt "$(vmclock_counter "$last")" ] && [ $n -lt 50 ]; do
		usleep 100000
		n=$((n + 1))
	done
	sed 's/^/VMGENID-E2E: watch_out: /' /tmp/watch.out
	timeout 20 vmgenid watch --once --no-hooks --state-dir /run/vmgenid-missed \
		>/tmp/missed.out 2>/tmp/missed.err
	mark "missed_exit=$?"
	sed 's/^/VMGENID-E2E: missed_out: /' /tmp/missed.out
}

# Stays up a moment after boot so the host can look at the VMM (bench/boot).
scenario_idle() {
	mark ready
	sleep "$(cmdline_value e2e_idle || echo 2)"
}

scenario_demo() {
	echo
	echo "== vmgenid demo guest: $(uname -r)"
	if [ -e "$VGEN/driver" ]; then
		echo "== $VGEN bound to driver $(basename "$(readlink "$VGEN/driver")")"
	else
		echo "== $VGEN: no driver bound"
	fi
	out=$(memread vgia) && addr=$(echo "$out" | sed -n 's/^addr=//p')
	if [ -n "$addr" ]; then
		le=$(memread read "$addr" 16)
		echo "== GUID at $addr (little-endian bytes): $le"
		echo "$le" | awk '{ printf "== GUID as text: %s%s%s%s-%s%s-%s%s-%s-%s\n",
			substr($0,7,2), substr($0,5,2), substr($0,3,2), substr($0,1,2),
			substr($0,11,2), substr($0,9,2), substr($0,15,2), substr($0,13,2),
			substr($0,17,4), substr($0,21,12) }'
		echo "== $(memread e820 "$addr")"
	fi
	[ -x /bin/vmgenid ] && echo "== vmgenid read (the guest tool): $(/bin/vmgenid read 2>&1)"
	dmesg | grep -i -e vmgenid -e 'virtual machine' | sed 's/^/== dmesg: /'
	echo
}

scenario_shell() {
	setsid cttyhack sh
}

# The guest tool (guest/vmgenid) as a user runs it; debugfs shows it the PAT
# types (R1e), qemu_fw_cfg the fw_cfg copy of the GUID.
scenario_tool() {
	if [ ! -x /bin/vmgenid ]; then
		mark tool=missing
		mark done
		return
	fi
	mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
	insmod /lib/modules/qemu_fw_cfg.ko 2>/dev/null
	out=$(vmgenid read 2>&1)
	mark "tool_read_exit=$?"
	printf '%s\n' "$out" | sed 's/^/VMGENID-E2E: tool_read: /'
	vmgenid read --json 2>&1 | sed 's/^/VMGENID-E2E: tool_read_json: /'
	vmgenid check >/tmp/check 2>&1
	mark "tool_check_exit=$?"
	sed 's/^/VMGENID-E2E: tool_check: /' /tmp/check
	mark done
}

# The virtio-mmio transport, its disk and entropy drivers, and ext4, in the
# order scripts/guest-image.sh wrote (dependencies first).  Debian builds them
# all as modules; without virtio devices they load and find nothing.
load_boot_modules() {
	[ -f /lib/modules/load-order ] || return 0
	for m in $(cat /lib/modules/load-order); do
		err=$(insmod "/lib/modules/$m" 2>&1) || mark "insmod_error=$m: $err"
	done
}

# root=DEV [ro]: mount the disk and run its init as PID 1.  The ACPI power
# button and its event device are loaded for a root system that handles the
# power key (systemd-logind does; the image of scripts/rootfs-image.sh masks
# it and powers off on its own).  The wait is for the disk's probe, which
# the virtio_blk module does asynchronously.
switch_to_root() {
	insmod /lib/modules/evdev.ko 2>/dev/null
	insmod /lib/modules/button.ko 2>/dev/null
	# A virtio disk on PCI (QEMU -M pc): its transport, after the rest.
	for m in $(cat /lib/modules/pci-order 2>/dev/null); do
		insmod "/lib/modules/$m" 2>/dev/null
	done
	# A virtio vsock device (ID 19, on either transport): its driver and the
	# vsock core, so that the root system has AF_VSOCK (the Debian image
	# has no modules; its genid service then listens on vsock as well).
	# Only then: the vsock core makes /dev/vsock with or without a device,
	# and the image starts its vsock listener when /dev/vsock appears.
	if grep -qsx 0x0013 /sys/bus/virtio/devices/*/device; then
		for m in $(cat /lib/modules/vsock-order 2>/dev/null); do
			err=$(insmod "/lib/modules/$m" 2>&1) || mark "insmod_error=$m: $err"
		done
	fi
	n=0
	while [ ! -b "$1" ] && [ $n -lt 100 ]; do
		usleep 100000
		n=$((n + 1))
	done
	if [ ! -b "$1" ]; then
		mark "error=no block device $1"
		ls /sys/bus/virtio/devices /sys/class/block 2>&1 | sed 's/^/VMGENID-E2E: ls: /'
		dump_dmesg 30
		finish
	fi
	mode=rw
	case " $(cat /proc/cmdline) " in *" ro "*) mode=ro ;; esac
	mkdir -p /newroot
	if ! err=$(mount -t ext4 -o "$mode" "$1" /newroot 2>&1); then
		mark "error=mount $1: $err"
		dump_dmesg 20
		finish
	fi
	# Debian's /sbin/init is an absolute link, which resolves only
	# inside the new root.
	if [ ! -L /newroot/sbin/init ] && [ ! -x /newroot/sbin/init ]; then
		mark "error=$1 has no /sbin/init"
		finish
	fi
	mark "root=$1 $mode"
	mount --move /dev /newroot/dev
	umount /proc /sys
	exec switch_root /newroot /sbin/init
}

load_boot_modules
root=$(cmdline_value root || true)
[ -z "$root" ] || switch_to_root "$root"

scenario=$(cmdline_value e2e || echo none)
mark "scenario=$scenario"
case $scenario in
boot | idle | demo | shell | tool | abuse | qmp | snapshot | vmclock) "scenario_$scenario" ;;
*) mark "error=unknown scenario '$scenario' (e2e=boot|idle|demo|shell|tool|abuse|qmp|snapshot|vmclock)" ;;
esac
finish
