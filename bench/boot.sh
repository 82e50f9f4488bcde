#!/usr/bin/env bash
# bench/boot: launch -> guest /init, genvm against QEMU, in the same run.
#
# Both VMMs boot the same Debian kernel and initramfs (scripts/guest-image.sh)
# with the same memory size and command line; runs alternate between them.
# The time is taken on the host from launch until the guest's /init prints its
# first console line ("VMGENID-E2E: init").  Prints both medians and their
# ratio (target: genvm at most half of QEMU), then each VMM's resident memory
# beyond guest RAM: the Rss of all its mappings minus the Rss of the guest RAM
# mapping (the largest one), read from /proc/PID/smaps while the guest idles.
#
# usage: bench/boot.sh [RUNS]           (default 10)
# env:   BUILD, GENVM (default $BUILD/vmm/genvm), VMGENID_CACHE,
#        BENCH_MEM (default 256M), BENCH_SMP (default 1),
#        QEMU (default qemu-system-x86_64)
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
runs=${1:-10}
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$repo/$BUILD ;; esac
GENVM=${GENVM:-$BUILD/vmm/genvm}
QEMU=${QEMU:-qemu-system-x86_64}
mem=${BENCH_MEM:-256M}
smp=${BENCH_SMP:-1}
cache=${VMGENID_CACHE:-$repo/.cache/guest}
append_base="console=ttyS0 quiet iomem=relaxed panic=-1"
run_timeout=${BENCH_TIMEOUT:-60}

bench_name=boot
. "$repo/bench/lib.sh"

require_hardware_kvm
[ -x "$GENVM" ] || die "no genvm at '$GENVM': build it (ninja -C build) or set GENVM"
command -v "$QEMU" >/dev/null || die "$QEMU not found (Debian package qemu-system-x86)"
[[ $runs =~ ^[1-9][0-9]*$ ]] || die "RUNS must be a positive number, not '$runs'"

bash "$repo/scripts/guest-image.sh" "$BUILD" || die "building the guest image failed"
kernel=$cache/vmlinuz
initrd=$cache/initrd.cpio.gz

# Same devices that matter on both sides; QEMU's VGA and NIC are off because
# genvm has neither.
vmm_cmd() {
	case $1 in
	genvm) echo "$GENVM" ;;
	qemu) echo "$QEMU -enable-kvm -M pc -cpu host -vga none -nic none" ;;
	esac
}

declare -A times=()
vmm_pid=
vmm_fd=

# launch VMM SCENARIO-WORDS: starts the guest with its console on $vmm_fd.
launch() {
	local -a cmd
	read -r -a cmd <<<"$(vmm_cmd "$1")"
	exec {vmm_fd}< <(exec "${cmd[@]}" -m "$mem" -smp "$smp" -kernel "$kernel" \
		-initrd "$initrd" -append "$append_base $2" \
		-device vmgenid,guid=auto -nographic -no-reboot </dev/null 2>&1)
	vmm_pid=$!
}

# wait_for WORD: reads the console until "VMGENID-E2E: WORD"; prints $EPOCHREALTIME.
wait_for() {
	local line deadline=$((SECONDS + run_timeout))
	while IFS= read -r -t "$run_timeout" -u "$vmm_fd" line; do
		if [[ $line == *"VMGENID-E2E: $1"* ]]; then
			echo "$EPOCHREALTIME"
			return 0
		fi
		((SECONDS < deadline)) || break
	done
	return 1
}

finish_vmm() {
	local line deadline=$((SECONDS + run_timeout))
	while IFS= read -r -t "$run_timeout" -u "$vmm_fd" line; do
		((SECONDS < deadline)) || break
	done
	kill "$vmm_pid" 2>/dev/null || true
	exec {vmm_fd}<&-
	wait "$vmm_pid" 2>/dev/null || true
}

one_boot() {
	local t0 t1
	t0=$EPOCHREALTIME
	launch "$1" "e2e=idle e2e_idle=0"
	t1=$(wait_for init) || {
		finish_vmm
		die "$1 never reached the guest's /init within ${run_timeout}s"
	}
	finish_vmm
	times[$1]+="$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) * 1000 }') "
}

# Guest RAM in KiB, from the -m value (a plain number means MiB, as in QEMU).
mem_kib() {
	local v=${1%[MmGg]}
	case $1 in
	*[Gg]) echo $((v * 1024 * 1024)) ;;
	*) echo $((v * 1024)) ;;
	esac
}

# smaps_overhead PID: "TOTAL_KB GUEST_KB".  The guest RAM is the smallest
# mapping that can hold it: TCG's code buffer or a reservation may be larger.
smaps_overhead() {
	awk -v ram="$(mem_kib "$mem")" '
		/^[0-9a-f]+-[0-9a-f]+ / { cur++ }
		/^Size:/ { size[cur] = $2 }
		/^Rss:/ { rss[cur] = $2; total += $2 }
		END {
			for (i in size)
				if (size[i] >= ram && (!pick || size[i] < size[pick]))
					pick = i
			print total, pick ? rss[pick] : 0
		}' "/proc/$1/smaps"
}

memory() {
	local total guest
	launch "$1" "e2e=idle e2e_idle=3"
	wait_for ready >/dev/null || {
		finish_vmm
		die "$1: the guest never reported ready"
	}
	read -r total guest < <(smaps_overhead "$vmm_pid")
	finish_vmm
	awk -v v="$1" -v t="$total" -v g="$guest" 'BEGIN {
		printf "%-6s resident beyond guest RAM: %.1f MiB (all mappings %.1f MiB, guest RAM touched %.1f MiB)\n",
			v, (t - g) / 1024, t / 1024, g / 1024 }'
}

stats() {
	tr ' ' '\n' <<<"${times[$1]}" | grep . | sort -n | awk '
		{ v[NR] = $1 }
		END {
			m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
			printf "%.1f %.1f %.1f\n", m, v[1], v[NR]
		}'
}

echo "bench/boot: Debian $(cat "$cache/kernel-version"), -m $mem -smp $smp, $runs runs each, alternating"
echo "  genvm: $(vmm_cmd genvm)"
echo "  qemu:  $(vmm_cmd qemu)"
# One unmeasured boot each warms the page cache for kernel and initramfs.
one_boot genvm
one_boot qemu
times=()
for ((i = 0; i < runs; i++)); do
	one_boot genvm
	one_boot qemu
done
read -r gmed gmin gmax < <(stats genvm)
read -r qmed qmin qmax < <(stats qemu)
printf 'genvm  launch -> /init: median %8.1f ms (min %.1f, max %.1f)\n' "$gmed" "$gmin" "$gmax"
printf 'qemu   launch -> /init: median %8.1f ms (min %.1f, max %.1f)\n' "$qmed" "$qmin" "$qmax"
awk -v g="$gmed" -v q="$qmed" 'BEGIN {
	r = g / q
	printf "ratio genvm/qemu: %.3f (target <= 0.5: %s)\n", r, r <= 0.5 ? "met" : "MISSED" }'
memory genvm
memory qemu
