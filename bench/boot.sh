#!/usr/bin/env bash
# bench/boot: launch -> guest /init, genvm against QEMU (-M pc and -M
# microvm), in the same run.
#
# All VMMs boot the same Debian kernel and initramfs (scripts/guest-image.sh)
# with the same memory, vCPUs and command line; runs alternate between them.
# Each run is timed on the host from launch until the guest's /init prints its
# first console line ("VMGENID-E2E: init"); at that line the VMM is stopped
# (SIGSTOP) and counted: KVM's per-VM exit statistics, KVM_RUN returns by
# reason, hardware exits by reason, the process's CPU time (bench/lib.sh).
# Prints a line per run, then medians, min/max and the genvm/QEMU ratios, and
# each VMM's resident memory beyond guest RAM (Rss and Pss of all mappings
# minus those of the guest RAM mapping) while the guest of its last run,
# resumed after the count, idles.
#
# Without hardware KVM the whole bench runs inside one nested L1 guest
# (bench/lib.sh, bench_place): there only ratios and counts mean anything.
#
# usage: bench/boot.sh [RUNS]           (default BENCH_RUNS, else 5)
# env:   BUILD, GENVM (default $BUILD/vmm/genvm), VMGENID_CACHE,
#        BENCH_MEM (default 256M), BENCH_SMP (default 1), BENCH_RUNS,
#        QEMU (default qemu-system-x86_64), BENCH_TIMEOUT (s per boot),
#        BENCH_NESTED=1 (go nested even with hardware KVM),
#        BENCH_L1_MEM (L1's MiB, default 3072), BENCH_VMMS (default
#        "genvm,qemu-pc,qemu-microvm"; the last may be left out)
# Smoke test (tests/e2e/t_bench.sh, in make check):
# bench-smoke: BENCH_RUNS=1 BENCH_VMMS=genvm,qemu-pc
# bench-smoke-expect: ^  ratio genvm/qemu-pc ([0-9.]+|n/a) \(target
# bench-smoke-expect: ^  VM exits: genvm/qemu-pc ([0-9.]+|n/a) \(target
# bench-smoke-expect: ^  genvm Pss beyond guest RAM: [0-9.]+ MiB
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
runs=${1:-${BENCH_RUNS:-5}}
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$repo/$BUILD ;; esac
GENVM=${GENVM:-$BUILD/vmm/genvm}
GENVM_QMP=${GENVM_QMP:-$BUILD/vmm/genvm-qmp}
QEMU=${QEMU:-qemu-system-x86_64}
mem=${BENCH_MEM:-256M}
smp=${BENCH_SMP:-1}
cache=${VMGENID_CACHE:-$repo/.cache/guest}
append_base="console=ttyS0 quiet iomem=relaxed panic=-1"
guid=5d2c9a71-3e4f-4a8b-9c0d-1e2f3a4b5c6d

bench_name=boot
. "$repo/bench/lib.sh"

[[ $runs =~ ^[1-9][0-9]*$ ]] || die "RUNS must be a positive number, not '$runs'"
bench_place "$@"
[ -x "$GENVM" ] || die "no genvm at '$GENVM': build it (bash scripts/build.sh build) or set GENVM"
command -v "$QEMU" >/dev/null || die "$QEMU not found (Debian package qemu-system-x86)"
[ -c /dev/kvm ] || die "no /dev/kvm"
run_timeout=${BENCH_TIMEOUT:-$([ "$bench_mode" = nested ] && echo 900 || echo 60)}
bench_guest
make_workdir
kvm_counts_init

# BENCH_VMMS=genvm,qemu-pc leaves QEMU -M microvm out: the smoke test's
# setting, as microvm's boot is the slowest of the three nested.
IFS=', ' read -r -a vmms <<<"${BENCH_VMMS:-genvm qemu-pc qemu-microvm}"
case " ${vmms[*]} " in
" genvm qemu-pc "*) ;;
*) die "BENCH_VMMS must start with 'genvm qemu-pc', not '${vmms[*]}'" ;;
esac
for v in "${vmms[@]:2}"; do
	[ "$v" = qemu-microvm ] || die "BENCH_VMMS: no VMM '$v' (genvm, qemu-pc, qemu-microvm)"
done
vmm_pid=
vmm_fd=

# launch VMM SCENARIO-WORDS: starts the guest with its console on $vmm_fd.
launch() {
	local -a cmd dev
	read -r -a cmd <<<"$(vmm_cmd "$1")"
	read -r -a dev <<<"$(vmgenid_arg "$1" "$guid")"
	exec {vmm_fd}< <(exec "${cmd[@]}" -m "$mem" -smp "$smp" -kernel "$kernel" \
		-initrd "$initrd" -append "$append_base $2" "${dev[@]}" \
		-nographic -no-reboot </dev/null 2>&1)
	vmm_pid=$!
	bg_pids+=("$vmm_pid")
}

# wait_for WORD: reads the console until "VMGENID-E2E: WORD"; prints
# $EPOCHREALTIME.  Without it, the console's last lines go to stderr.
wait_for() {
	local line deadline=$((SECONDS + run_timeout)) last=()
	while IFS= read -r -t "$run_timeout" -u "$vmm_fd" line; do
		if [[ $line == *"VMGENID-E2E: $1"* ]]; then
			echo "$EPOCHREALTIME"
			return 0
		fi
		last+=("$line")
		((${#last[@]} <= 20)) || last=("${last[@]:1}")
		((SECONDS < deadline)) || break
	done
	{
		echo "bench/boot: no 'VMGENID-E2E: $1' on the console; its last lines:"
		printf '  | %s\n' "${last[@]}"
	} >&2
	return 1
}

end_vmm() {
	kill -KILL "$vmm_pid" 2>/dev/null || true
	cat <&"$vmm_fd" >/dev/null 2>&1 || true
	exec {vmm_fd}<&-
	wait "$vmm_pid" 2>/dev/null || true
}

declare -A times=() counts=()

one_boot() {
	local v=$1 t0 t1 c ms
	kvm_counts_reset
	t0=$EPOCHREALTIME
	launch "$v" "e2e=idle e2e_idle=600"
	t1=$(wait_for init) || {
		end_vmm
		die "$v never reached the guest's /init within ${run_timeout}s"
	}
	# Frozen where measured: the counts are those of launch -> /init.
	kill -STOP "$vmm_pid"
	c=$(kvm_counts "$vmm_pid")
	# The last run's guest goes on to idle, and its VMM's memory is taken
	# then: no boot of its own for that.
	if [ "$2" = measure ] && [ "$3" = "$runs" ]; then
		kill -CONT "$vmm_pid"
		idle_memory "$v"
	fi
	end_vmm
	ms=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) * 1000 }')
	[ "$2" = measure ] || return 0
	times[$v]+="$ms "
	counts[$v]+="$c"$'\n'
	printf '  run %d %-13s launch->/init %9.1f ms  exits %7s  KVM_RUN returns %6s  cpu %6s ms\n' \
		"$3" "$v" "$ms" "$(count_of "$c" kvm.exits)" "$(count_of "$c" kvm_run_returns)" \
		"$(count_of "$c" cpu_ms)"
}

# idle_memory VMM: once the running guest reports ready (idle), the VMM's
# memory beyond guest RAM, kept for the table at the end.
declare -A mem_pss=() mem_line=()
idle_memory() {
	local v=$1 r p gr gp
	wait_for ready >/dev/null || {
		end_vmm
		die "$v: the guest never reported ready"
	}
	sleep 2
	read -r r p gr gp < <(smaps_beyond "$vmm_pid")
	mem_line[$v]=$(awk -v v="$v" -v r="$r" -v p="$p" -v gr="$gr" -v gp="$gp" 'BEGIN {
		printf "  %-13s beyond guest RAM: Rss %6.1f MiB  Pss %6.1f MiB   (all: Rss %6.1f, Pss %6.1f; guest RAM touched %6.1f MiB)\n",
			v, (r - gr) / 1024, (p - gp) / 1024, r / 1024, p / 1024, gr / 1024 }')
	mem_pss[$v]=$(((p - gp)))
}

bench_header
echo "bench/boot: Debian $kver, -m $mem -smp $smp, $runs runs each, alternating"
for v in "${vmms[@]}"; do
	printf '  %-13s %s %s\n' "$v:" "$(vmm_cmd "$v")" "$(vmgenid_arg "$v" "$guid")"
done
echo "  command line: $append_base e2e=idle; counted at the guest's first /init line, the VMM stopped there"
[ "$kvm_debugfs" = 1 ] || echo "  (no KVM debugfs here: no per-VM statistics)"
[ "$kvm_hist$kvm_trace" != 00 ] || echo "  (no KVM_RUN returns or exits by reason: $kvm_hist_why)"
bench_rounds one_boot

echo "launch -> /init (ms):"
bench_medians 13
r=$(ratio "${med[genvm]}" "${med[qemu-pc]}")
printf '  ratio genvm/qemu-pc %s (target <= 0.5: %s), genvm/qemu-microvm %s\n' "$r" \
	"$(awk -v r="$r" 'BEGIN { print (r != "n/a" && r <= 0.5) ? "met" : "MISSED" }')" \
	"$(ratio "${med[genvm]}" "${med[qemu-microvm]:-0}")"

echo "counts from launch to /init, medians over the runs:"
print_counts "${vmms[@]}"
g=$(median_count genvm kvm.exits)
p=$(median_count qemu-pc kvm.exits)
u=0
[ -z "${counts[qemu-microvm]:-}" ] || u=$(median_count qemu-microvm kvm.exits)
printf '  VM exits: genvm/qemu-pc %s (target <= 0.5: %s), genvm/qemu-microvm %s (target < 1: %s)\n' \
	"$(ratio "$g" "$p")" "$(awk -v g="$g" -v p="$p" 'BEGIN { print (p && g <= 0.5 * p) ? "met" : "MISSED" }')" \
	"$(ratio "$g" "$u")" "$(awk -v g="$g" -v u="$u" 'BEGIN { print !u ? "not measured" : g < u ? "met" : "MISSED" }')"

echo "memory at idle (guest up, e2e=idle; the last run's guest, once ready):"
for v in "${vmms[@]}"; do
	echo "${mem_line[$v]}"
done
awk -v g="${mem_pss[genvm]}" -v p="${mem_pss[qemu-pc]}" -v u="${mem_pss[qemu-microvm]:-0}" 'BEGIN {
	printf "  genvm Pss beyond guest RAM: %.1f MiB (target < 8 MiB and below QEMU: %s); %.3f of qemu-pc, %.3f of qemu-microvm\n",
		g / 1024, (g < 8192 && g < p && (!u || g < u)) ? "met" : "MISSED", p ? g / p : 0, u ? g / u : 0 }'
