#!/bin/sh
# Clones of one snapshot on one host, each in a network namespace of its own
# (docs/snapshot.md, "Networking and clones").  A clone keeps its source's
# NIC: the same MAC, the same guest IP, and genvm opens the same tap name it
# was saved with.  So each clone gets a namespace holding a tap of that name
# with the guest's gateway address, and the host reaches the namespace
# through a veth pair with an address of its own per clone, where NAT
# rules forward everything to the guest's fixed address, from the tap's.
#
# usage: clone-netns.sh up N [TAP] [GUEST_IP]   namespace genvm-clone-N
#        clone-netns.sh run N COMMAND...        run COMMAND (genvm) inside it
#        clone-netns.sh down N                  remove it (tap and veth go too)
#        clone-netns.sh addr N                  the address the host uses
#
# N is 1..250.  TAP defaults to tap0 and GUEST_IP to 10.0.2.15, the guest's
# gateway being 10.0.2.2/24 (the Debian image's systemd-networkd file) with
# the MAC $GENVM_GW_MAC (default 02:00:0a:00:02:02): give the source's tap
# the same, so the gateway a clone's guest remembers is still there.  The
# host's end of clone N is 10.201.N.1/30 on veth gvh-N, the namespace's
# 10.201.N.2 on gvc-N: connecting from the host to 10.201.N.2 reaches clone
# N's guest at GUEST_IP on the same port, and the guest sees it come from
# 10.0.2.2.  Needs root, iproute2 and nft.
set -eu

# iproute2's ip by its path (GENVM_IP, else found here): a bare "ip" may be
# another, as busybox's ash runs its own applet whatever PATH says.
GENVM_IP=${GENVM_IP:-}
for d in /usr/sbin /sbin /usr/bin /bin; do
	[ -z "$GENVM_IP" ] || break
	if [ -x "$d/ip" ] && case $("$d/ip" -V 2>&1) in *iproute2*) true ;; *) false ;; esac; then
		GENVM_IP=$d/ip
	fi
done
ip() {
	"$GENVM_IP" "$@"
}

die() {
	echo "clone-netns: $*" >&2
	exit 1
}

[ $# -ge 2 ] || die "usage: $0 up|run|down|addr N [...]"
cmd=$1 n=$2
shift 2
case $n in
'' | *[!0-9]*) die "N must be a number 1..250, not '$n'" ;;
esac
[ "$n" -ge 1 ] && [ "$n" -le 250 ] || die "N must be 1..250, not $n"
ns=genvm-clone-$n
host_if=gvh-$n
ns_if=gvc-$n
host_addr=10.201.$n.1
ns_addr=10.201.$n.2

case $cmd in
up)
	tap=${1:-tap0}
	guest=${2:-10.0.2.15}
	gw_mac=${GENVM_GW_MAC:-02:00:0a:00:02:02}
	[ -n "$GENVM_IP" ] || die "ip (iproute2) not found"
	ip netns add "$ns"
	# Undo a half-built namespace, so a second try starts clean.
	trap 'ip link del "$host_if" 2>/dev/null; ip netns del "$ns" 2>/dev/null' EXIT
	ip -n "$ns" link set lo up
	# The tap genvm opens by name (persistent: it outlives each genvm).
	ip -n "$ns" tuntap add dev "$tap" mode tap
	# The gateway's MAC as the source saw it, so the guest's neighbour
	# cache, restored with it, is right in every clone.
	ip -n "$ns" link set "$tap" address "$gw_mac"
	ip -n "$ns" addr add 10.0.2.2/24 dev "$tap"
	ip -n "$ns" link set "$tap" up
	ip link add "$host_if" type veth peer name "$ns_if" netns "$ns"
	ip addr add "$host_addr/30" dev "$host_if"
	ip link set "$host_if" up
	ip -n "$ns" addr add "$ns_addr/30" dev "$ns_if"
	ip -n "$ns" link set "$ns_if" up
	ip netns exec "$ns" sh -c 'echo 1 >/proc/sys/net/ipv4/ip_forward'
	# Everything for the namespace's veth address goes on to the guest, and
	# reaches it from the tap's own address (10.0.2.2): the guest answers a
	# neighbour on its link, whatever routes it has or has lost (a restored
	# guest's gateway may be another address, or networkd may be re-adding
	# its routes after the clone's hooks restarted it), and the answers come
	# back through the namespace's connection tracking to the veth.
	if command -v nft >/dev/null; then
		ip netns exec "$ns" nft -f - <<NFT
table ip genvm_clone {
	chain prerouting {
		type nat hook prerouting priority dstnat;
		iifname "$ns_if" ip daddr $ns_addr dnat to $guest
	}
	chain postrouting {
		type nat hook postrouting priority srcnat;
		oifname "$tap" ip daddr $guest ip saddr != 10.0.2.0/24 snat to 10.0.2.2
	}
}
NFT
	else
		echo "clone-netns: nft not found: reach the clone with 'ip netns exec $ns ...'" >&2
	fi
	trap - EXIT
	echo "clone-netns: $ns: tap $tap (10.0.2.2/24), host reaches $guest at $ns_addr via $host_if"
	;;
run)
	[ $# -ge 1 ] || die "run: a command is needed"
	exec "$GENVM_IP" netns exec "$ns" "$@"
	;;
down)
	ip link del "$host_if" 2>/dev/null || true
	ip netns del "$ns"
	;;
addr)
	echo "$ns_addr"
	;;
*)
	die "unknown command '$cmd' (up, run, down, addr)"
	;;
esac
