#!/usr/bin/env bash
# bench/qmp: query-vm-generation-id round trips over a unix socket, genvm
# against QEMU, in the same run.
#
# Both VMMs run with the vmgenid device and -S: the vCPUs never run, so what
# is measured is the management path alone (socket, JSON, dispatch, reply),
# and the guest cannot disturb it.  genvm-qmp --bench sends one request,
# waits for its reply, and so on; after a warm-up, rounds alternate between
# the VMMs.  Prints round trips per second and the p50/p90/p99 latency of
# both, and the ratios (target: genvm at least 5x QEMU's rate).
#
# Without hardware KVM the bench runs inside one nested L1 guest
# (bench/lib.sh): genvm needs a /dev/kvm to create its VM even under -S.
# There QEMU's and genvm's code runs under TCG alike, so the ratio still
# compares the two management paths, the absolute rates do not.
#
# usage: bench/qmp.sh [ROUND_TRIPS]        (default 20000 per round, 3 rounds)
# env:   BUILD, GENVM, GENVM_QMP, QEMU (default qemu-system-x86_64),
#        BENCH_ROUNDS (default 3), VMGENID_CACHE, BENCH_NESTED=1, BENCH_L1_MEM
# Smoke test (tests/e2e/t_bench.sh, in make check):
# bench-smoke: BENCH_ROUNDS=1 -- 200
# bench-smoke-expect: ^ratio genvm/qemu: [0-9.]+x
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
n=${1:-20000}
rounds=${BENCH_ROUNDS:-3}
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$repo/$BUILD ;; esac
GENVM=${GENVM:-$BUILD/vmm/genvm}
GENVM_QMP=${GENVM_QMP:-$BUILD/vmm/genvm-qmp}
QEMU=${QEMU:-qemu-system-x86_64}
cache=${VMGENID_CACHE:-$repo/.cache/guest}
guid=6f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9

bench_name=qmp
. "$repo/bench/lib.sh"

[[ $n =~ ^[1-9][0-9]*$ ]] || die "ROUND_TRIPS must be a positive number, not '$n'"
bench_place "$@"
[ -c /dev/kvm ] || die "genvm needs /dev/kvm to create its VM (even with -S)"
[ -x "$GENVM" ] || die "no genvm at '$GENVM': build it (ninja -C build) or set GENVM"
[ -x "$GENVM_QMP" ] || die "no genvm-qmp at '$GENVM_QMP'"
command -v "$QEMU" >/dev/null || die "$QEMU not found (Debian package qemu-system-x86)"
# genvm checks and loads a kernel even when it never runs it.
bench_guest

make_workdir

# QEMU with KVM where it can; its QMP path is the same under TCG.  The
# probe's limit is generous: in an L1 on a busy host, QEMU takes more than
# 10 s to start, and Debian's QEMU without its TCG module has no fallback.
qemu_accel=kvm
if ! timeout 120 "$QEMU" -enable-kvm -M pc -S -display none -nodefaults \
	-qmp "unix:$work/probe.sock,server=on,wait=off" -device vmgenid -daemonize \
	-pidfile "$work/probe.pid" >/dev/null 2>&1; then
	qemu_accel=tcg
else
	kill "$(cat "$work/probe.pid")" 2>/dev/null || true
fi

wait_socket() {
	local i
	for ((i = 0; i < 100; i++)); do
		[ -S "$1" ] && "$GENVM_QMP" -t 2 "$1" query-status >/dev/null 2>&1 && return 0
		sleep 0.05
	done
	return 1
}

"$GENVM" -S -m 256M -kernel "$kernel" -device "vmgenid,guid=$guid" \
	-qmp "unix:$work/genvm.sock,server=on,wait=off" </dev/null >/dev/null 2>"$work/genvm.err" &
bg_pids+=($!)
"$QEMU" -accel "$qemu_accel" -M pc -m 256M -S -display none -nodefaults \
	-device "vmgenid,guid=$guid" -qmp "unix:$work/qemu.sock,server=on,wait=off" \
	</dev/null >/dev/null 2>"$work/qemu.err" &
bg_pids+=($!)
wait_socket "$work/genvm.sock" || die "genvm did not answer QMP: $(cat "$work/genvm.err")"
wait_socket "$work/qemu.sock" || die "QEMU did not answer QMP: $(cat "$work/qemu.err")"

for v in genvm qemu; do
	got=$("$GENVM_QMP" "$work/$v.sock" query-vm-generation-id)
	[ "$got" = "{\"guid\": \"$guid\"}" ] || die "$v answers '$got'"
done

declare -A rate=() p50=() p90=() p99=()
one_round() {
	local out
	out=$("$GENVM_QMP" --bench "$2" "$work/$1.sock" query-vm-generation-id) ||
		die "$1: the benchmark client failed"
	[ "$3" = measure ] || return 0
	# round_trips=N per_second=R p50_us=A p90_us=B p99_us=C max_us=D
	eval "$(tr ' ' '\n' <<<"$out" | sed -n 's/^\(per_second\|p50_us\|p90_us\|p99_us\)=/\1=/p')"
	rate[$1]+="$per_second "
	p50[$1]+="$p50_us "
	p90[$1]+="$p90_us "
	p99[$1]+="$p99_us "
	printf '  round %d %-6s %9.0f round trips/s  p50 %7.1f us  p99 %7.1f us\n' "$4" "$1" \
		"$per_second" "$p50_us" "$p99_us"
}

median() {
	tr ' ' '\n' <<<"$1" | grep . | sort -g | awk '{ v[NR] = $1 }
		END { print NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

bench_header
echo "bench/qmp: query-vm-generation-id over a unix socket, $n round trips x $rounds rounds each,"
echo "  one request in flight, VMMs idle under -S (QEMU: -accel $qemu_accel -M pc -device vmgenid)"
one_round genvm 1000 warmup
one_round qemu 1000 warmup
for ((i = 0; i < rounds; i++)); do
	one_round genvm "$n" measure $((i + 1))
	one_round qemu "$n" measure $((i + 1))
done

declare -A m=()
for v in genvm qemu; do
	m[$v.rate]=$(median "${rate[$v]}")
	m[$v.p50]=$(median "${p50[$v]}")
	m[$v.p90]=$(median "${p90[$v]}")
	m[$v.p99]=$(median "${p99[$v]}")
	printf '%-6s %9.0f round trips/s   latency p50 %7.1f us  p90 %7.1f us  p99 %7.1f us\n' \
		"$v" "${m[$v.rate]}" "${m[$v.p50]}" "${m[$v.p90]}" "${m[$v.p99]}"
done
awk -v gr="${m[genvm.rate]}" -v qr="${m[qemu.rate]}" \
	-v g50="${m[genvm.p50]}" -v q50="${m[qemu.p50]}" \
	-v g99="${m[genvm.p99]}" -v q99="${m[qemu.p99]}" 'BEGIN {
	r = gr / qr
	printf "ratio genvm/qemu: %.2fx the round trips per second (target >= 5: %s)\n", r,
		(r >= 5 ? "met" : "MISSED")
	printf "                  latency p50 %.2fx, p99 %.2fx of QEMU'"'"'s\n", g50 / q50, g99 / q99 }'
