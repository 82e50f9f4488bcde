#!/bin/sh
# vsock between host programs and a Debian guest kernel's AF_VSOCK sockets,
# through genvm's hybrid device (-device vsock,uds=PATH):
#  - host to guest: CONNECT 5000 on PATH reaches the guest's listener, 1 MiB
#    goes there and back bit-exact;
#  - guest to host: the guest's connection to CID 2 port 6000 reaches the
#    unix socket PATH_6000, 1 MiB there and back; port 6001, where nothing
#    listens on the source, is refused (a reset, not a hang);
#  - a host connection open at save time: two clones of the snapshot, each
#    with its own socket path, reset it (the guest's reader sees the error),
#    and new connections to each clone work both ways.
# And the bad inputs: one line, exit 1, before any guest.  Where L1 has
# /dev/vhost-vsock, -device vhost-vsock-device is checked too.
#
# The guest's initramfs is the suite's one plus the virtio and vsock
# modules (modinfo order: virtio_ring, virtio, virtio_mmio, vsock,
# vmw_vsock_virtio_transport_common, vmw_vsock_virtio_transport) and an
# /init of its own; vsockio (tests/e2e/guest/vsockio.c) is both ends.
. "$(dirname "$0")/lib.sh"

root=$E2E_WORK/vsock-root
initrd=$E2E_WORK/vsock-initrd.gz
log=$E2E_WORK/vsock.log
mods="virtio_ring virtio virtio_mmio vsock vmw_vsock_virtio_transport_common vmw_vsock_virtio_transport"
size=1048576

build_initrd() {
	# shellcheck disable=SC2086 # the module names, one word each
	initrd_unpack "$root" $mods || return 1
	[ -x "$root/bin/vsockio" ] || { echo "the suite's initramfs has no /bin/vsockio (scripts/guest-image.sh)"; return 1; }
	cat >"$root/init" <<INIT
#!/bin/sh
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mark() { echo "VMGENID-E2E: \$*"; }
mark init
for m in $mods; do
	err=\$(insmod /lib/modules/\$m.ko 2>&1) || mark "insmod_error=\$m: \$err"
done
# insmod probes the device: the transport is there once it returns.
mark "vsock_dev=\$(ls /sys/bus/virtio/drivers/vmw_vsock_virtio_transport | grep virtio)"
vsockio guest-echo 5000 &
sleep 0.5
mark vsock_ready
mark "g2h=\$(vsockio guest-connect 6000 $size 2>&1 | tr '\n' ' ')"
# Port 6001: refused on the source, where nothing listens; each clone has a
# listener at its own PATH_6001, and the first success is marked.
(
	vsockio guest-connect 6001 4096 >/dev/null 2>&1
	mark "refused=\$?"
	while :; do
		r=\$(vsockio guest-connect 6001 $size 2>&1) && { mark "g2h_clone=\$r"; break; }
		sleep 1
	done
) &
mark done
i=0
while :; do
	i=\$((i + 1))
	mark "tick=\$i"
	sleep 1
done
INIT
	chmod 755 "$root/init"
	initrd_pack "$root" "$initrd"
}

if ! err=$(build_initrd 2>&1); then
	echo "not ok - vsock: build the guest's initramfs with the vsock modules"
	printf '%s\n' "$err" | sed 's/^/# /'
	exit 0
fi
vsockio=$root/bin/vsockio
# Each guest here lives through a boot, 1 MiB each way and a save: under a
# loaded nested L1 that is more than one boot's time, as t_disk's guests.
E2E_TIMEOUT=$((E2E_TIMEOUT * 3))

# ---- bad input: one line, exit 1, before any guest ----
mkdir -p "$E2E_WORK/vsbad"
: >"$E2E_WORK/vsbad/file"
tap "vsock: a socket path in a missing directory is refused" /dev/null \
	expect_refused "No such file or directory" -device "vsock,uds=$E2E_WORK/vsbad/none/v.sock"
tap "vsock: a socket path where a file is is refused" /dev/null \
	expect_refused "exists and is not a socket" -device "vsock,uds=$E2E_WORK/vsbad/file"
tap "vsock: guest-cid=2 is refused" /dev/null \
	expect_refused "a guest CID is 3 to 4294967294" -device "vsock,guest-cid=2,uds=$E2E_WORK/vsbad/v.sock"
tap "vsock: a second vsock device is refused" /dev/null \
	expect_refused "only one vsock device is allowed" -device "vsock,uds=$E2E_WORK/vsbad/a.sock" \
	-device "vsock,uds=$E2E_WORK/vsbad/b.sock"

# shellcheck disable=SC2034 # read by lib.sh (vm_start, expect_refused)
E2E_INITRD=$initrd
src=$E2E_WORK/vs-src.sock
q=$E2E_WORK/vs-src.qmp
snapfile=$E2E_WORK/vsock.snap

# Host side first: the guest connects to PATH_6000 as soon as it is up.
"$vsockio" uds-echo "${src}_6000" >"$E2E_WORK/vs-echo-src.out" 2>&1 &
echo_src=$!
vm_start "$log" e2e=vsock -qmp "unix:$q,server=on,wait=off" -device "vsock,guest-cid=3,uds=$src"
src_ok=0
vm_wait_for "$log" 'VMGENID-E2E: done$' "$E2E_TIMEOUT" && src_ok=1

h2g=$("$vsockio" uds-connect "$src" 5000 "$size" 2>&1)
"$vsockio" uds-hold "$src" 5000 >"$E2E_WORK/vs-hold.out" 2>&1 &
hold=$!
vm_wait_for "$log" 'vsock_conn_open port=5000' 30 2
vm_wait_for "$log" 'VMGENID-E2E: refused=' 30
save_reply=$(qmp "$q" migrate "{\"uri\": \"file:$snapfile\"}" 2>&1)
save_state=$(wait_migrated "$q")
quit_reply=$(qmp "$q" quit 2>&1)
vm_wait_exit 10
kill "$echo_src" "$hold" 2>/dev/null

check_source() {
	[ "$src_ok" = 1 ] || { echo "the guest never finished its start; $(vmm_exit_reason "$log")"; return 1; }
	if grep 'insmod_error' "$log"; then return 1; fi
	case $h2g in "ok $size bytes both ways") ;; *) echo "host to guest: $h2g"; return 1 ;; esac
}

check_g2h() {
	expect_marker "$log" g2h "ok $size bytes both ways "
}

check_refused() {
	# vsockio exits 2 when the connection was reset or refused.
	expect_marker "$log" refused 2
}

check_saved() {
	[ "$save_reply" = '{}' ] || { echo "migrate answered '$save_reply'"; return 1; }
	case $save_state in *'"completed"'*) ;; *) echo "query-migrate: $save_state"; return 1 ;; esac
	[ "$quit_reply" = '{}' ] || { echo "quit answered '$quit_reply'"; return 1; }
	[ ! -e "$src" ] || { echo "the source's socket $src is still there after it quit"; return 1; }
}

tap "vsock: host to guest, 1 MiB there and back over CONNECT 5000" "$log" check_source
tap "vsock: guest to host CID 2 port 6000 reaches PATH_6000, 1 MiB there and back" "$log" check_g2h
tap "vsock: a guest connection to a port nobody listens on is reset" "$log" check_refused
tap "vsock: a save with a host connection open completes" "$log" check_saved

# ---- two clones, each with its own socket path ----
for n in 1 2; do
	c=$E2E_WORK/vs-clone$n.sock
	"$vsockio" uds-echo "${c}_6001" >"$E2E_WORK/vs-echo-$n.out" 2>&1 &
	eval "echo_$n=\$!"
	vm_start "$E2E_WORK/vs-clone$n.log" e2e=vsock -incoming "file:$snapfile" \
		-qmp "unix:$E2E_WORK/vs-clone$n.qmp,server=on,wait=off" -device "vsock,guest-cid=3,uds=$c"
	eval "pid_$n=\$VM_PID job_$n=\$VM_JOB"
done

check_clone() { # N
	_log=$E2E_WORK/vs-clone$1.log _c=$E2E_WORK/vs-clone$1.sock
	vm_wait_for "$_log" 'vsock_conn_end port=5000' 60 ||
		{ echo "the connection open at save time did not end in the clone; $(vmm_exit_reason "$_log")"; return 1; }
	_how=$(sed -n 's/.*vsock_conn_end port=5000 how=//p' "$_log" | head -n 1)
	case $_how in ECONNRESET|ENOTCONN) ;; *) echo "the guest's reader ended with '$_how', not a reset"; return 1 ;; esac
	# New connections: the first may meet the guest still taking in the reset.
	_r=
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		_r=$("$vsockio" uds-connect "$_c" 5000 "$size" 2>&1) && break
		sleep 1
	done
	case $_r in "ok $size bytes both ways") ;; *) echo "host to clone $1: $_r"; return 1 ;; esac
	vm_wait_for "$_log" 'VMGENID-E2E: g2h_clone=' 60 ||
		{ echo "clone $1 never reached its PATH_6001"; return 1; }
	expect_marker "$_log" g2h_clone "ok $size bytes both ways"
}

tap "vsock: clone 1 resets the saved connection, then serves new ones both ways" \
	"$E2E_WORK/vs-clone1.log" check_clone 1
tap "vsock: clone 2 resets the saved connection, then serves new ones both ways" \
	"$E2E_WORK/vs-clone2.log" check_clone 2
for n in 1 2; do
	qmp "$E2E_WORK/vs-clone$n.qmp" quit >/dev/null 2>&1
	eval "VM_PID=\$pid_$n VM_JOB=\$job_$n"
	vm_wait_exit 10
	eval "kill \$echo_$n" 2>/dev/null
done

# ---- the host kernel's vhost-vsock, where there is one ----
# The host's ends are AF_VSOCK sockets here: vsockio listens on port 6000
# for the guest, and connects to the guest's CID.  A save with a connection
# open, and a clone under another CID, go through vhost's stop and restart.
if [ -c /dev/vhost-vsock ]; then
	vlog=$E2E_WORK/vhost.log
	vq=$E2E_WORK/vhost.qmp
	vsnap=$E2E_WORK/vhost.snap
	"$vsockio" guest-echo 6000 >"$E2E_WORK/vhost-echo.out" 2>&1 &
	vecho=$!
	vm_start "$vlog" e2e=vsock -qmp "unix:$vq,server=on,wait=off" \
		-device vhost-vsock-device,guest-cid=4242
	vhost_ok=0
	vm_wait_for "$vlog" 'VMGENID-E2E: done$' "$E2E_TIMEOUT" && vhost_ok=1
	vh2g=$("$vsockio" vsock-connect 4242 5000 "$size" 2>&1)
	taken=$(expect_refused "guest-cid=4242 is in use by another VM" \
		-device vhost-vsock-device,guest-cid=4242 2>&1) && taken=ok
	# A connection held across the save (the host's end is a plain AF_VSOCK socket).
	"$vsockio" vsock-hold 4242 5000 >/dev/null 2>&1 &
	vhold=$!
	vm_wait_for "$vlog" 'vsock_conn_open port=5000' 30 2
	vsave=$(qmp "$vq" migrate "{\"uri\": \"file:$vsnap\"}" 2>&1)
	wait_migrated "$vq" >/dev/null
	qmp "$vq" quit >/dev/null 2>&1
	vm_wait_exit 10
	kill "$vhold" 2>/dev/null
	vclog=$E2E_WORK/vhost-clone.log
	vm_start "$vclog" e2e=vsock -incoming "file:$vsnap" \
		-qmp "unix:$vq.2,server=on,wait=off" -device vhost-vsock-device,guest-cid=4243
	check_vhost() {
		[ "$vhost_ok" = 1 ] || { echo "the guest never finished its start; $(vmm_exit_reason "$vlog")"; return 1; }
		case $vh2g in "ok $size bytes both ways") ;; *) echo "host to guest: $vh2g"; return 1 ;; esac
		expect_marker "$vlog" g2h "ok $size bytes both ways " || return 1
		vm_wait_for "$vlog" 'VMGENID-E2E: refused=' 30 || { echo "no answer to the guest's connect"; return 1; }
		expect_marker "$vlog" refused 2
	}
	check_cid_taken() {
		[ "$taken" = ok ] || { echo "$taken"; return 1; }
	}
	check_vhost_clone() {
		[ "$vsave" = '{}' ] || { echo "migrate answered '$vsave'"; return 1; }
		vm_wait_for "$vclog" 'vsock_conn_end port=5000' 60 ||
			{ echo "the connection open at save time did not end in the clone; $(vmm_exit_reason "$vclog")"; return 1; }
		_how=$(sed -n 's/.*vsock_conn_end port=5000 how=//p' "$vclog" | head -n 1)
		case $_how in ECONNRESET|ENOTCONN) ;; *) echo "the guest's reader ended with '$_how'"; return 1 ;; esac
		_r=
		for _ in 1 2 3 4 5 6 7 8 9 10; do
			_r=$("$vsockio" vsock-connect 4243 5000 "$size" 2>&1) && break
			sleep 1
		done
		case $_r in "ok $size bytes both ways") ;; *) echo "host to the clone: $_r"; return 1 ;; esac
	}
	tap "vsock: vhost-vsock-device: 1 MiB each way between the host's AF_VSOCK and the guest" \
		"$vlog" check_vhost
	tap "vsock: vhost-vsock-device with a CID another VM holds is refused" /dev/null check_cid_taken
	tap "vsock: vhost-vsock-device: a clone (guest-cid=4243) resets the saved connection, serves new ones" \
		"$vclog" check_vhost_clone
	qmp "$vq.2" quit >/dev/null 2>&1
	vm_wait_exit 10
	kill "$vecho" 2>/dev/null
else
	echo "# no /dev/vhost-vsock here: vhost-vsock-device not checked"
fi
