#!/bin/sh
# The network: the Debian image of scripts/rootfs-image.sh on a virtio-net
# NIC over a tap.  The host pings the guest, gets an answer from its genid
# service (port 7007), sends it 64 MiB of random bytes and gets their
# sha256 back (port 7008), and gets the same 64 MiB back (port 7009), both
# bit-exact.  Then clones: the source is saved; two clones restored at once,
# each in a network namespace of its own (scripts/clone-netns.sh) with the
# same tap name, MAC and guest IP as the source, each answer on 10.0.2.15
# inside their namespace with their own GUID and a new instance ID (the
# image's hook 45-genid-instance), and the host reaches each through its
# veth address (DNAT and SNAT in the namespace; nft is required).  vsock too:
# the source and each clone have a hybrid vsock device, each its own socket
# path, and the image's genid service listens on vsock port 7007 as well
# (genid-vsock.socket), so the host reaches every clone over its path with
# CONNECT 7007, through genvm-qmp --raw.
#
# The guest side is tests/e2e/guest/rootfs/genid-agent (genid.e2e=serve).
# e2e-needs: rootfs
# e2e-needs: net
# e2e-slow
. "$(dirname "$0")/lib.sh"

E2E_TIMEOUT=$((E2E_TIMEOUT * 3))
TMPDIR=$E2E_WORK
export TMPDIR
# Room for the 64 MiB the guest keeps in /dev/shm.
E2E_MEM=384M

disk=$E2E_WORK/net.img
snap=$E2E_WORK/net.snap
q=$E2E_WORK/net-src.sock
src_vsock=$E2E_WORK/net-src.vsock
blob=$E2E_WORK/net-blob
G1=3b9f1a2c-5d6e-4f70-8a9b-0c1d2e3f4a5b
guest=10.0.2.15
tapname=gvtap0
here=$(cd "$(dirname "$0")" && pwd)
netns_sh=$here/clone-netns.sh
[ -x "$netns_sh" ] || netns_sh=$here/../../scripts/clone-netns.sh

fail_all() {
	echo "not ok - net: $1"
	exit 1
}

# iproute2's ip, not busybox's (no tuntap, no netns): L1's busybox ash runs
# its own applet for a bare "ip" whatever PATH says, so it is called by its
# path, here and in clone-netns.sh (GENVM_IP); nested.sh packs it into
# /usr/bin.
GENVM_IP=
for d in /usr/sbin /sbin /usr/bin /bin; do
	if [ -x "$d/ip" ] && case $("$d/ip" -V 2>&1) in *iproute2*) true ;; *) false ;; esac; then
		GENVM_IP=$d/ip
		break
	fi
done
export GENVM_IP
ip() {
	"$GENVM_IP" "$@"
}
[ -n "${E2E_ROOTFS:-}" ] && [ -r "$E2E_ROOTFS" ] ||
	fail_all "the Debian root image (E2E_ROOTFS='${E2E_ROOTFS:-}') is not readable"
[ -n "$GENVM_IP" ] || fail_all "ip from iproute2 is not installed here"
[ -c /dev/net/tun ] || fail_all "/dev/net/tun is missing (the tun module?)"
# ip netns keeps its namespaces under /run/netns.
mkdir -p /run /var/run 2>/dev/null
err=$(cp "$E2E_ROOTFS" "$disk" 2>&1) || fail_all "copy $E2E_ROOTFS: $err"

# One request to HOST PORT, its answer on stdout (busybox nc or a real one).
ask() {
	timeout 60 nc "$1" "$2" </dev/null 2>/dev/null | head -n 1
}

# ask_vsock PATH: the genid service over a hybrid vsock socket: "CONNECT
# 7007", genvm's "OK <hostport>" and the guest's one line, on two lines
# (nothing when genvm closed the socket, as it does when no listener
# accepted).  Up to five tries, 2 s apart: a clone may still be taking in
# the transport reset of its restore (t_vsock's clones retry likewise).
ask_vsock() {
	_try=0
	while [ "$_try" -lt 5 ]; do
		_a=$(printf 'CONNECT 7007\n' |
			timeout 60 "$GENVM_QMP" --raw --lines 2 -t 30 "$1" 2>&1)
		case $_a in "OK "*) break ;; esac
		sleep 2
		_try=$((_try + 1))
	done
	printf '%s\n' "$_a"
}

# check_vsock_answer ANSWER WANT: ANSWER (ask_vsock's) is genvm's OK line
# and then WANT, the line the same guest gave over the network.
check_vsock_answer() {
	_ok=$(printf '%s\n' "$1" | sed -n 1p)
	_line=$(printf '%s\n' "$1" | sed -n 2p)
	case $_ok in
	"OK "[0-9]*) ;;
	*) echo "CONNECT 7007 got '$1', not 'OK <port>' and the answer"; return 1 ;;
	esac
	case $_line in
	"genid "*) ;;
	*) echo "after '$_ok' the guest sent '$_line', not 'genid ...'"; return 1 ;;
	esac
	[ "$_line" = "$2" ] || { echo "over vsock: '$_line', over the network: '$2'"; return 1; }
}

# ---- the source on a tap of the host's ----

ip tuntap del dev "$tapname" mode tap 2>/dev/null
ip tuntap add dev "$tapname" mode tap || fail_all "ip tuntap add $tapname failed"
# The gateway MAC clone-netns.sh gives each clone's tap too.
ip link set "$tapname" address 02:00:0a:00:02:02
ip addr add 10.0.2.2/24 dev "$tapname"
ip link set "$tapname" up

slog=$E2E_WORK/net-source.log
vm_start "$slog" "root=/dev/vda genid.e2e=serve" \
	-drive "file=$disk,format=raw,if=virtio,snapshot=on" -device "vmgenid,guid=$G1" \
	-netdev "tap,id=n0,ifname=$tapname,script=no,downscript=no" \
	-device virtio-net-device,netdev=n0 -qmp "unix:$q,server=on,wait=off" \
	-device "vsock,uds=$src_vsock"
src_pid=$VM_PID src_job=$VM_JOB
vm_wait_for "$slog" 'VMGENID-E2E: ready$'
echo "# source: guest network: $(marker "$slog" net), default route: $(marker "$slog" route)"

check_ping() {
	_out=$(ping -c 3 -W 10 "$guest" 2>&1) ||
		{ printf '%s\n' "$_out" | tail -n 3; return 1; }
	printf '%s\n' "$_out" | tail -n 1
}
tap "net: the host pings the guest ($guest) over the tap" "$slog" check_ping

# Asked here, not in check_service: tap runs its check in a subshell, and
# the clones' checks need the source's instance ID.
src_answer=$(ask "$guest" 7007)
check_service() {
	case $src_answer in
	"genid $G1 changes=0 "*instance=*) echo "$src_answer" ;;
	*) echo "port 7007 answered '$src_answer'"; return 1 ;;
	esac
}
tap "net: the guest's genid service answers over the network with $G1" "$slog" check_service
src_instance=${src_answer##*instance=}

src_vsock_answer=$(ask_vsock "$src_vsock")
echo "# source over vsock: $(printf '%s' "$src_vsock_answer" | tr '\n' ' ')"
check_src_vsock() {
	check_vsock_answer "$src_vsock_answer" "$src_answer" || {
		echo "the guest's vsock listener (genid-vsock.socket): $(marker "$slog" vsock)"
		return 1
	}
}
tap "net: the same answer over vsock (CONNECT 7007 on the source's socket path)" "$slog" \
	check_src_vsock

check_to_guest() {
	head -c 67108864 /dev/urandom >"$blob" || return 1
	_want=$(sha256sum "$blob" | cut -d' ' -f1)
	_got=$(timeout 300 nc "$guest" 7008 <"$blob" | cut -d' ' -f1)
	[ "$_got" = "$_want" ] || { echo "sent sha256 $_want, the guest read $_got"; return 1; }
	echo "sha256 $_want"
}
tap "net: 64 MiB host to guest arrive bit-exact (sha256)" "$slog" check_to_guest

check_from_guest() {
	_want=$(sha256sum "$blob" | cut -d' ' -f1)
	timeout 300 nc "$guest" 7009 </dev/null >"$blob.back"
	_size=$(wc -c <"$blob.back")
	_got=$(sha256sum "$blob.back" | cut -d' ' -f1)
	[ "$_got" = "$_want" ] ||
		{ echo "expected sha256 $_want, got $_got ($_size bytes)"; return 1; }
	echo "sha256 $_got, $_size bytes"
}
tap "net: the same 64 MiB guest to host arrive bit-exact (sha256)" "$slog" check_from_guest
rm -f "$blob" "$blob.back"

tap "net: the source (on its tap) is saved with QMP migrate" "$slog" qmp_save "$q" "file:$snap"
qmp "$q" quit >/dev/null 2>&1
VM_PID=$src_pid VM_JOB=$src_job
vm_wait_exit 20
ip tuntap del dev "$tapname" mode tap 2>/dev/null

# ---- two clones, each in its namespace, same tap name, MAC and IP ----

real_genvm=$GENVM
# Clone 2 moves its frames through the host kernel's vhost-net where L1 has
# it (l1-init.sh loads Debian's vhost_net): restored from a vhost=off
# source, vhost takes the rings where the snapshot left them.
vhost_2=off
[ -c /dev/vhost-net ] && vhost_2=on
echo "# clone 2: vhost=$vhost_2"
for c in 1 2; do
	vhost=off
	[ "$c" = 1 ] || vhost=$vhost_2
	"$netns_sh" down "$c" >/dev/null 2>&1
	if ! out=$("$netns_sh" up "$c" "$tapname" "$guest" 2>&1); then
		echo "not ok - net: clone-netns.sh up $c"
		printf '%s\n' "$out" | sed 's/^/# /'
		exit 1
	fi
	echo "# $out"
	# vm_start runs $GENVM: here genvm inside the namespace.
	printf '#!/bin/sh\nexec %s netns exec genvm-clone-%s %s "$@"\n' "$GENVM_IP" "$c" "$real_genvm" \
		>"$E2E_WORK/genvm-ns$c"
	chmod 755 "$E2E_WORK/genvm-ns$c"
	GENVM=$E2E_WORK/genvm-ns$c
	vm_start "$E2E_WORK/net-clone$c.log" "root=/dev/vda genid.e2e=serve" \
		-drive "file=$disk,format=raw,if=virtio,snapshot=on" -device "vmgenid,guid=auto" \
		-netdev "tap,id=n0,ifname=$tapname,script=no,downscript=no,vhost=$vhost" \
		-device virtio-net-device,netdev=n0 -qmp "unix:$E2E_WORK/net-clone$c.sock,server=on,wait=off" \
		-device "vsock,uds=$E2E_WORK/clone-$c.vsock" -incoming "file:$snap"
	eval "clone_pid_$c=\$VM_PID clone_job_$c=\$VM_JOB"
done
GENVM=$real_genvm

# The clone's answer once its hooks ran: the service answers with the new
# GUID as soon as the guest's driver has it, but the hooks (40 renews the
# lease, restarting systemd-networkd in this image; 45 the instance ID; 50
# counts the change) run after it, seconds later under emulation.  So the
# answer counts: the one with changes= above 0.
clone_answer() {
	_n=0
	while [ "$_n" -lt 60 ]; do
		_a=$(ip netns exec "genvm-clone-$1" timeout 20 nc "$guest" 7007 </dev/null 2>/dev/null | head -n 1)
		case $_a in
		"genid $G1 "* | "" | *" changes=0 "*) ;;
		*) echo "$_a"; return 0 ;;
		esac
		sleep 2
		_n=$((_n + 1))
	done
	echo "$_a"
}
ans1=$(clone_answer 1)
ans2=$(clone_answer 2)
echo "# clone 1: $ans1"
echo "# clone 2: $ans2"
# What the hooks left of the guest's network, as its agent reports it.
for c in 1 2; do
	if vm_wait_for "$E2E_WORK/net-clone$c.log" 'VMGENID-E2E: clone_done$' 60; then
		echo "# clone $c: guest network after its hooks: $(marker "$E2E_WORK/net-clone$c.log" net)," \
			"default route: $(marker "$E2E_WORK/net-clone$c.log" route)"
	else
		echo "# clone $c: its agent has not reported yet (clone_done)"
	fi
done

# check_clone ANSWER OTHER: a new GUID and a new instance ID (the hook in
# on-change.d ran), neither the other clone's.
check_clone() {
	_g=$(echo "$1" | cut -d' ' -f2)
	_og=$(echo "$2" | cut -d' ' -f2)
	_i=${1##*instance=}
	case $1 in
	"genid "*" changes="*" instance="?*) ;;
	*) echo "expected 'genid NEW-GUID changes=N ... instance=ID', got '$1'"; return 1 ;;
	esac
	[ "$_g" != "$G1" ] || { echo "the clone still has the source's GUID"; return 1; }
	[ "$_g" != "$_og" ] || { echo "both clones have GUID $_g"; return 1; }
	[ "$_i" != "$src_instance" ] || { echo "instance ID $_i is the source's"; return 1; }
	[ "$_i" != "${2##*instance=}" ] || { echo "both clones have instance ID $_i"; return 1; }
}
tap "net: clone 1 answers on $guest in its namespace with its own GUID and instance ID" \
	"$E2E_WORK/net-clone1.log" check_clone "$ans1" "$ans2"
tap "net: clone 2 (vhost=$vhost_2) answers on $guest in its namespace with its own GUID and instance ID" \
	"$E2E_WORK/net-clone2.log" check_clone "$ans2" "$ans1"

# From the host itself: each clone at its namespace's veth address.
check_host_reach() {
	command -v nft >/dev/null || { echo "nft is not installed: no DNAT into the namespaces"; return 1; }
	for _c in 1 2; do
		_a=$(ask "$("$netns_sh" addr "$_c")" 7007)
		eval "_want=\$ans$_c"
		[ "$_a" = "$_want" ] ||
			{ echo "clone $_c at $("$netns_sh" addr "$_c"): '$_a', expected '$_want'"; return 1; }
	done
	echo "10.201.1.2 and 10.201.2.2 reach clone 1 and clone 2"
}
tap "net: the host reaches each clone through its namespace's veth address" \
	"$E2E_WORK/net-clone1.log" check_host_reach

# And over vsock: each clone's own socket path reaches that clone's guest,
# which answers as it did over the network (its own GUID and instance ID).
vsock_1=$(ask_vsock "$E2E_WORK/clone-1.vsock")
vsock_2=$(ask_vsock "$E2E_WORK/clone-2.vsock")
echo "# clone 1 over vsock: $(printf '%s' "$vsock_1" | tr '\n' ' ')"
echo "# clone 2 over vsock: $(printf '%s' "$vsock_2" | tr '\n' ' ')"
check_vsock_reach() {
	for _c in 1 2; do
		eval "_got=\$vsock_$_c _want=\$ans$_c"
		_r=$(check_vsock_answer "$_got" "$_want") || { echo "clone $_c: $_r"; return 1; }
		case $_got in
		*"genid $G1 "*) echo "clone $_c answers over vsock with the source's GUID"; return 1 ;;
		esac
	done
}
tap "net: the host reaches each clone over its own vsock socket path (CONNECT 7007)" \
	"$E2E_WORK/net-clone1.log" check_vsock_reach

for c in 1 2; do
	qmp "$E2E_WORK/net-clone$c.sock" quit >/dev/null 2>&1
	eval "VM_PID=\$clone_pid_$c VM_JOB=\$clone_job_$c"
	vm_wait_exit 20
	"$netns_sh" down "$c" >/dev/null 2>&1
done
# The next scenario in this L1 gets the memory back (E2E_WORK is tmpfs).
rm -f "$disk" "$snap"
