#!/usr/bin/env bash
# bench/net: the network of a Debian guest (scripts/rootfs-image.sh) on a
# tap, genvm's virtio-net against QEMU's (-M microvm, virtio-net-device over
# virtio-mmio as genvm's), each with vhost=off, and with vhost=on where
# /dev/vhost-net is, in the same run, as ratios:
#   - TCP throughput host to guest and guest to host: iperf3 from Debian at
#     both ends (the guest's iperf3.service), BENCH_NET_SECONDS each;
#   - request latency: a new TCP connection to the guest's genid service
#     (port 7007) until its one-line answer, BENCH_ROUNDS times (median);
#   - clone to first reply: each VMM saves the running guest and is started
#     again from it (genvm -incoming file:, QEMU -incoming exec:cat); from
#     launch until the restored guest's service answers over the tap.
# Over the host to guest transfer it also counts the VM's exits (bench/lib.sh:
# KVM_RUN returns and hardware exits by reason), in all and per MiB received.
# QEMU's guest gets the same devices over virtio-mmio (its microvm machine,
# which describes them in ACPI as genvm does), so only the VMMs differ.
#
# Without hardware KVM the whole bench runs inside one nested L1 guest
# (bench/lib.sh): there only ratios mean anything, and TCG's slowness is in
# every figure.
#
# usage: bench/net.sh [RUNS]        (default BENCH_RUNS, else 3)
# env:   BUILD, GENVM, GENVM_QMP, VMGENID_CACHE, QEMU, BENCH_MEM (default 512M),
#        BENCH_NET_SECONDS (default 10), BENCH_ROUNDS (default 20),
#        BENCH_TIMEOUT (s per boot or restore), BENCH_VMMS (default
#        genvm,qemu and, with /dev/vhost-net, genvm-vhost,qemu-vhost), BENCH_SMOKE=1 (one run, 2 s,
#        5 rounds: checks that the bench works, not a measurement),
#        BENCH_NESTED=1, BENCH_L1_MEM
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
runs=${1:-${BENCH_RUNS:-3}}
seconds=${BENCH_NET_SECONDS:-10}
rounds=${BENCH_ROUNDS:-20}
if [ "${BENCH_SMOKE:-0}" = 1 ]; then
	runs=1 seconds=2 rounds=5
fi
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$repo/$BUILD ;; esac
GENVM=${GENVM:-$BUILD/vmm/genvm}
GENVM_QMP=${GENVM_QMP:-$BUILD/vmm/genvm-qmp}
QEMU=${QEMU:-qemu-system-x86_64}
mem=${BENCH_MEM:-512M}
cache=${VMGENID_CACHE:-$repo/.cache/guest}
append="console=ttyS0 quiet panic=-1 root=/dev/vda genid.e2e=serve"
guest=10.0.2.15
tapname=gvbench0
# What L1 needs besides genvm and QEMU: iperf3, and ip for the tap.
bench_l1_bins="iperf3 $(command -v ip || echo ip)"
bench_l1_net=1

bench_name=net
. "$repo/bench/lib.sh"

[[ $runs =~ ^[1-9][0-9]*$ ]] || die "RUNS must be a positive number, not '$runs'"
[[ $seconds =~ ^[1-9][0-9]*$ ]] || die "BENCH_NET_SECONDS must be a positive number"
[ "${BENCH_IN_L1:-}" ] || {
	command -v iperf3 >/dev/null || die "iperf3 not found (Debian package iperf3; scripts/deps.sh)"
	bash "$repo/scripts/rootfs-image.sh" "$BUILD" >/dev/null || die "building the Debian image failed"
}
bench_place "$@"
# iproute2's ip before busybox's (L1 has both; only iproute2's has tuntap).
for d in /usr/sbin /sbin /usr/bin; do
	if [ -x "$d/ip" ] && case $("$d/ip" -V 2>&1) in *iproute2*) true ;; *) false ;; esac; then
		PATH=$d:$PATH
		break
	fi
done
[ -x "$GENVM" ] || die "no genvm at '$GENVM'"
command -v "$QEMU" >/dev/null || die "$QEMU not found (Debian package qemu-system-x86)"
command -v iperf3 >/dev/null || die "iperf3 not found"
command -v ip >/dev/null || die "ip (iproute2) not found"
[ -c /dev/kvm ] || die "no /dev/kvm"
run_timeout=${BENCH_TIMEOUT:-$([ "$bench_mode" = nested ] && echo 1200 || echo 120)}
rootfs=${E2E_ROOTFS:-$cache/rootfs.img}
[ -r "$rootfs" ] || die "no Debian image at $rootfs"
bench_guest
make_workdir
cp "$rootfs" "$work/disk.img"
# QEMU keeps snapshot=on's overlay in TMPDIR, else /var/tmp, which L1 lacks.
export TMPDIR=$work

# BENCH_VMMS=genvm,qemu: vhost=off only, the issue's target in half the time.
if [ -n "${BENCH_VMMS:-}" ]; then
	IFS=', ' read -r -a vmms <<<"$BENCH_VMMS"
	[ "${vmms[0]:-}" = genvm ] && [ "${vmms[1]:-}" = qemu ] ||
		die "BENCH_VMMS must start with 'genvm qemu', not '${vmms[*]}'"
	for v in "${vmms[@]:2}"; do
		case $v in
		genvm-vhost | qemu-vhost) [ -c /dev/vhost-net ] || die "BENCH_VMMS: $v needs /dev/vhost-net" ;;
		*) die "BENCH_VMMS: no VMM '$v' (genvm, qemu, genvm-vhost, qemu-vhost)" ;;
		esac
	done
else
	vmms=(genvm qemu)
	[ -c /dev/vhost-net ] && vmms+=(genvm-vhost qemu-vhost)
fi
kvm_counts_init

# The VMM's command line for the guest on the tap ($1: genvm, qemu, and -vhost).
net_cmd() {
	local blk=(-drive "file=$work/disk.img,format=raw,if=none,id=d0,snapshot=on"
		-device virtio-blk-device,drive=d0)
	case $1 in
	genvm | genvm-vhost)
		echo "$GENVM" -m "$mem" "${blk[@]}" \
			-netdev "tap,id=n0,ifname=$tapname,script=no,downscript=no,vhost=$([ "$1" = genvm ] && echo off || echo on)" \
			-device virtio-net-device,netdev=n0 ;;
	qemu | qemu-vhost)
		echo "$QEMU" -accel kvm -M microvm -cpu host -m "$mem" -nic none "${blk[@]}" \
			-netdev "tap,id=n0,ifname=$tapname,script=no,downscript=no,vhost=$([ "$1" = qemu ] && echo off || echo on)" \
			-device virtio-net-device,netdev=n0 ;;
	esac
}

tap_up() {
	ip link del "$tapname" 2>/dev/null || true
	ip tuntap add dev "$tapname" mode tap
	ip addr add 10.0.2.2/24 dev "$tapname"
	ip link set "$tapname" up
}

# reply: one answer of the guest's service, or nothing within 2 s.
reply() {
	timeout 2 bash -c "exec 3<>/dev/tcp/$guest/7007 && head -n 1 <&3" 2>/dev/null || true
}

# iperf3 host<->guest: "MBIT_S MIB", the rate and the amount the receiver counted.
iperf() {
	local out
	out=$(iperf3 -c "$guest" -t "$seconds" -J "$@" 2>&1) || { echo "0 0"; return; }
	sed -n '/"sum_received"/,/}/{
		s/.*"bytes":[[:space:]]*\([0-9.e+]*\).*/b \1/p
		s/.*"bits_per_second":[[:space:]]*\([0-9.e+]*\).*/r \1/p
	}' <<<"$out" | awk '$1 == "b" && b == "" { b = $2 } $1 == "r" && r == "" { r = $2 }
		END { printf "%.1f %.1f\n", r / 1e6, b / 1048576 }'
}

# per_mib COUNT MIB: COUNT per MiB moved, rounded; 0 when nothing moved.
per_mib() {
	awk -v c="$1" -v m="$2" 'BEGIN { printf "%d", (m > 0 ? c / m + 0.5 : 0) }'
}

# exits_of "k=v ...": the hardware exits by reason (exit.*), summed.
exits_of() {
	tr ' ' '\n' <<<"$1" | awk -F= '$1 ~ /^exit\./ { n += $2 } END { print n + 0 }'
}

declare -A tx=() rx=() lat=() clone=()

# one_run VMM I: boot, measure, save; then restore and time the first reply.
one_run() {
	local v=$1 log=$work/$1-$2.log sock=$work/$1.sock cmd i t0 t1 ms st uri in mbit mib c
	read -r -a cmd <<<"$(net_cmd "$v")"
	tap_up
	rm -f "$sock"
	"${cmd[@]}" -kernel "$kernel" -initrd "$initrd" -append "$append" -nographic \
		-qmp "unix:$sock,server=on,wait=off" </dev/null >"$log" 2>&1 &
	local pid=$!
	bg_pids+=("$pid")
	local deadline=$((SECONDS + run_timeout))
	until grep -q 'VMGENID-E2E: ready' "$log"; do
		((SECONDS < deadline)) || die "$v: the guest never came up: $(tail -n 5 "$log")"
		kill -0 "$pid" 2>/dev/null || die "$v exited: $(tail -n 5 "$log")"
		sleep 0.2
	done
	until [ -n "$(reply)" ]; do
		((SECONDS < deadline)) || die "$v: the guest's service never answered on $guest"
		sleep 0.2
	done
	# Host to guest, with the VM's exits counted over it: the receive path
	# is where genvm's and QEMU's devices differ most in work per frame.
	kvm_counts_reset
	read -r mbit mib <<<"$(iperf)"
	kill -STOP "$pid"
	c=$(kvm_counts "$pid")
	kill -CONT "$pid"
	counts[$v]+="$c per_mib.kvm_run_returns=$(per_mib "$(count_of "$c" kvm_run_returns)" "$mib")"
	counts[$v]+=" per_mib.exits=$(per_mib "$(exits_of "$c")" "$mib")"$'\n'
	tx[$v]+="$mbit "
	read -r mbit mib <<<"$(iperf -R)"
	rx[$v]+="$mbit "
	local l=""
	for ((i = 0; i < rounds; i++)); do
		t0=$EPOCHREALTIME
		[ -n "$(reply)" ] || die "$v: no answer in round $i"
		t1=$EPOCHREALTIME
		l+="$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) * 1000 }') "
	done
	lat[$v]+="$(stats "$l" | cut -d' ' -f1) "
	# Save it, then time a restore to its first reply over the network.
	if [[ $v == genvm* ]]; then
		uri="file:$work/$v.snap" in="file:$work/$v.snap"
	else
		uri="exec:cat > $work/$v.snap" in="exec:cat $work/$v.snap"
	fi
	"$GENVM_QMP" -t 60 "$sock" migrate "{\"uri\": \"$uri\"}" >/dev/null || die "$v: migrate failed"
	for ((i = 0; i < run_timeout * 10; i++)); do
		st=$("$GENVM_QMP" -t 60 "$sock" query-migrate)
		[[ $st == *'"status": "completed"'* ]] && break
		[[ $st == *'"status": "failed"'* ]] && die "$v: the save failed: $st"
		sleep 0.1
	done
	"$GENVM_QMP" -t 10 "$sock" quit >/dev/null 2>&1 || true
	wait "$pid" 2>/dev/null || true
	tap_up
	t0=$EPOCHREALTIME
	"${cmd[@]}" -kernel "$kernel" -initrd "$initrd" -append "$append" -nographic \
		-incoming "$in" </dev/null >"$log.clone" 2>&1 &
	pid=$!
	bg_pids+=("$pid")
	deadline=$((SECONDS + run_timeout))
	until [ -n "$(reply)" ]; do
		((SECONDS < deadline)) || die "$v: the restored guest never answered"
		kill -0 "$pid" 2>/dev/null || die "$v -incoming exited: $(tail -n 5 "$log.clone")"
		sleep 0.02
	done
	t1=$EPOCHREALTIME
	ms=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) * 1000 }')
	clone[$v]+="$ms "
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	printf '  run %d %-11s host->guest %9s Mbit/s  guest->host %9s Mbit/s  request %8s ms  clone->reply %9s ms\n' \
		"$2" "$v" "$(awk '{ print $NF }' <<<"${tx[$v]}")" "$(awk '{ print $NF }' <<<"${rx[$v]}")" \
		"$(awk '{ print $NF }' <<<"${lat[$v]}")" "$ms"
}

bench_header
echo "== bench/net: Debian $(cat "$cache/kernel-version" 2>/dev/null || echo "$kver") guest, -m $mem, tap $tapname, iperf3 ${seconds}s, $rounds requests, $runs run(s)"
[ -c /dev/vhost-net ] || echo "   (no /dev/vhost-net here: vhost=on is left out)"
for ((r = 1; r <= runs; r++)); do
	for v in "${vmms[@]}"; do
		one_run "$v" "$r"
	done
done
ip link del "$tapname" 2>/dev/null || true

echo
printf '%-11s %22s %22s %14s %16s\n' VMM "host->guest Mbit/s" "guest->host Mbit/s" "request ms" "clone->reply ms"
for v in "${vmms[@]}"; do
	printf '%-11s %22s %22s %14s %16s\n' "$v" "$(stats "${tx[$v]}" | cut -d' ' -f1)" \
		"$(stats "${rx[$v]}" | cut -d' ' -f1)" "$(stats "${lat[$v]}" | cut -d' ' -f1)" \
		"$(stats "${clone[$v]}" | cut -d' ' -f1)"
done
# genvm against each QEMU; genvm with vhost against QEMU with vhost.
pairs="genvm:qemu"
[ -z "${tx[qemu-vhost]:-}" ] || pairs+=" genvm:qemu-vhost"
[ -z "${tx[qemu-vhost]:-}" ] || [ -z "${tx[genvm-vhost]:-}" ] || pairs+=" genvm-vhost:qemu-vhost"
for p in $pairs; do
	g=${p%%:*} v=${p#*:}
	echo "$g / $v: throughput host->guest $(ratio "$(stats "${tx[$g]}" | cut -d' ' -f1)" "$(stats "${tx[$v]}" | cut -d' ' -f1)")," \
		"guest->host $(ratio "$(stats "${rx[$g]}" | cut -d' ' -f1)" "$(stats "${rx[$v]}" | cut -d' ' -f1)") (higher is better);" \
		"request $(ratio "$(stats "${lat[$g]}" | cut -d' ' -f1)" "$(stats "${lat[$v]}" | cut -d' ' -f1)")," \
		"clone->reply $(ratio "$(stats "${clone[$g]}" | cut -d' ' -f1)" "$(stats "${clone[$v]}" | cut -d' ' -f1)") (lower is better)"
done
echo
echo "counts over the host->guest transfer, medians over the runs (kvm.* are KVM's per-VM totals since launch; per_mib.* per MiB received):"
print_counts "${vmms[@]}"
