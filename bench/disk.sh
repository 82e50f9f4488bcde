#!/usr/bin/env bash
# bench/disk: a Debian system on virtio-blk, genvm against QEMU -M pc
# (virtio-blk-pci), in the same run: boot to systemd's multi-user target, then
# fio in the guest on a second virtio disk: 1 MiB sequential reads, 4 KiB
# random reads and 4 KiB random writes.
#
# Both VMMs boot the same kernel and initramfs (scripts/guest-image.sh), the
# same root image (scripts/rootfs-image.sh, which carries fio from Debian),
# the same data disk, memory, vCPUs and kernel command line, with the same
# host cache mode on both disks; runs alternate between them.  The guest side
# is tests/e2e/guest/rootfs/genid-agent (genid.e2e=bench): it prints a line
# when multi-user.target is reached, then one per fio job (O_DIRECT in the
# guest, libaio, BENCH_FIO_QD requests in flight, BENCH_FIO_RUNTIME seconds
# each), and powers off.  Boot is timed on the host from launch to that first
# line.  Over the fio jobs (from the guest's "fio_disk=" line to its last
# job) KVM_RUN returns and exits by reason are counted as in bench/boot.sh
# (bench/lib.sh; KVM's per-VM totals, kvm.*, count from launch), and the
# VMM's CPU time per thread is read at the end of the run: which thread
# served the disk, and how busy it was.
#
# Host cache mode (BENCH_CACHE): "none" (O_DIRECT on the host, as QEMU's
# cache=none) with hardware KVM; "writeback" (the host page cache, QEMU's
# default) on the nested path, whose L1 keeps the images in a tmpfs that
# Debian 6.1 cannot open O_DIRECT.  The same mode for both VMMs, always.
#
# Without hardware KVM the whole bench runs inside one nested L1 guest
# (bench/lib.sh): there only ratios mean anything.
#
# usage: bench/disk.sh [--smoke] [RUNS]  (default BENCH_RUNS, else 3)
#        --smoke (or BENCH_SMOKE=1): the smallest settings, one run each, a
#        32 MiB data disk, 2 s per fio job: it must finish and print its
#        table; it judges nothing
# env:   BUILD, GENVM, VMGENID_CACHE, QEMU, BENCH_MEM (default 256M),
#        BENCH_SMP (default 1), BENCH_CACHE (none|writeback), BENCH_DATA_MB
#        (the data disk, default 256), BENCH_FIO_RUNTIME (s, default 10),
#        BENCH_FIO_QD (default 16), BENCH_DISK_DIR (where the images are
#        copied; it must take O_DIRECT for cache=none; default a directory
#        in TMPDIR), BENCH_TIMEOUT (s per run), BENCH_NESTED=1, BENCH_L1_MEM
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
smoke=${BENCH_SMOKE:-0}
if [ "${1:-}" = --smoke ]; then
	smoke=1
	shift
fi
if [ "$smoke" = 1 ]; then
	runs=${1:-1}
	data_mb=${BENCH_DATA_MB:-32}
	fio_runtime=${BENCH_FIO_RUNTIME:-2}
else
	runs=${1:-${BENCH_RUNS:-3}}
	data_mb=${BENCH_DATA_MB:-256}
	fio_runtime=${BENCH_FIO_RUNTIME:-10}
fi
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$repo/$BUILD ;; esac
GENVM=${GENVM:-$BUILD/vmm/genvm}
GENVM_QMP=${GENVM_QMP:-$BUILD/vmm/genvm-qmp}
QEMU=${QEMU:-qemu-system-x86_64}
mem=${BENCH_MEM:-256M}
smp=${BENCH_SMP:-1}
fio_qd=${BENCH_FIO_QD:-16}
cache=${VMGENID_CACHE:-$repo/.cache/guest}
guid=3b9e5f0a-7c1d-4e2f-8a6b-9c0d1e2f3a4b

bench_name=disk
. "$repo/bench/lib.sh"

[[ $runs =~ ^[1-9][0-9]*$ ]] || die "RUNS must be a positive number, not '$runs'"
for v in data_mb fio_runtime fio_qd; do
	[[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive number, not '${!v}'"
done
# The settings travel into L1 as they are; the smoke flag with them.
export BENCH_SMOKE=$smoke
bench_place "$@"
[ -x "$GENVM" ] || die "no genvm at '$GENVM': build it (bash scripts/build.sh build) or set GENVM"
command -v "$QEMU" >/dev/null || die "$QEMU not found (Debian package qemu-system-x86)"
[ -c /dev/kvm ] || die "no /dev/kvm"
host_cache=${BENCH_CACHE:-$([ "$bench_mode" = nested ] && echo writeback || echo none)}
case $host_cache in none | writeback) ;; *) die "BENCH_CACHE must be none or writeback, not '$host_cache'" ;; esac
run_timeout=${BENCH_TIMEOUT:-$([ "$bench_mode" = nested ] && echo 1800 || echo 120)}
bench_guest
make_workdir
kvm_counts_init

# The root image: in L1 its read-only disk (nested.sh), here the cache's.
if [ "$bench_mode" = nested ]; then
	rootfs=${E2E_ROOTFS:?nested.sh gives L1 the root image}
else
	bash "$repo/scripts/rootfs-image.sh" "$BUILD" >/dev/null || die "building the root image failed"
	rootfs=$cache/rootfs.img
fi
dir=${BENCH_DISK_DIR:-$work}
mkdir -p "$dir"
root_img=$dir/bench-root.img
data_img=$dir/bench-data.img
bench_files=("$root_img" "$data_img")
trap 'rm -f "${bench_files[@]}"; bench_cleanup' EXIT
cp "$rootfs" "$root_img" || die "copying $rootfs to $root_img failed"
# Written out, not sparse: reads then find data where it is on both sides.
dd if=/dev/zero of="$data_img" bs=1M count="$data_mb" 2>/dev/null || die "writing $data_img failed"
if [ "$host_cache" = none ] && ! dd if="$data_img" of=/dev/null bs=4096 count=1 iflag=direct 2>/dev/null; then
	die "cache=none needs O_DIRECT, which $dir does not take: set BENCH_DISK_DIR or BENCH_CACHE=writeback"
fi

append="console=ttyS0 quiet iomem=relaxed panic=-1 root=/dev/vda genid.e2e=bench genid.fio_runtime=$fio_runtime genid.fio_qd=$fio_qd"
vmms=(genvm qemu-pc)
disk_args=(-drive "file=$root_img,format=raw,if=virtio,cache=$host_cache"
	-drive "file=$data_img,format=raw,if=virtio,cache=$host_cache")

vmm_pid=
vmm_fd=
launch() {
	local -a cmd dev
	read -r -a cmd <<<"$(vmm_cmd "$1")"
	read -r -a dev <<<"$(vmgenid_arg "$1" "$guid")"
	exec {vmm_fd}< <(exec "${cmd[@]}" -m "$mem" -smp "$smp" -kernel "$kernel" \
		-initrd "$initrd" -append "$append" "${disk_args[@]}" "${dev[@]}" \
		-nographic -no-reboot </dev/null 2>&1)
	vmm_pid=$!
	bg_pids+=("$vmm_pid")
}

end_vmm() {
	kill -CONT "$vmm_pid" 2>/dev/null || true
	kill -KILL "$vmm_pid" 2>/dev/null || true
	cat <&"$vmm_fd" >/dev/null 2>&1 || true
	exec {vmm_fd}<&-
	wait "$vmm_pid" 2>/dev/null || true
}

# threads_cpu PID: "comm:tid=ms ..." of the process's threads, the busiest
# first (utime + stime of each /proc/PID/task/TID/stat).
threads_cpu() {
	local t line comm tck
	tck=$(getconf CLK_TCK 2>/dev/null || echo 100)
	for t in /proc/"$1"/task/*; do
		line=$(cat "$t/stat" 2>/dev/null) || continue
		comm=${line#*(}
		comm=${comm%)*}
		line=${line##*) }
		awk -v t="$tck" -v c="${comm// /_}" -v id="${t##*/}" \
			'{ printf "%d %s:%s\n", ($12 + $13) * 1000 / t, c, id }' <<<"$line"
	done | sort -n -r | head -n 4 | awk '{ printf "%s=%d ", $2, $1 }'
}

declare -A boot=() uptime=() bw=() iops=() threads=()
fio_jobs="seqread randread randwrite"

one_run() {
	local v=$1 i=$2 t0 line ms='' up='' c='' job b o fail='' deadline analyze='' blame='' tail_lines
	local -A got_bw=() got_iops=()
	t0=$EPOCHREALTIME
	kvm_counts_reset
	launch "$v"
	deadline=$((SECONDS + run_timeout))
	tail_lines=()
	while IFS= read -r -t "$run_timeout" -u "$vmm_fd" line; do
		line=${line%$'\r'}
		# The console's last lines, for a run that fails.
		tail_lines+=("$line")
		[ ${#tail_lines[@]} -le 15 ] || tail_lines=("${tail_lines[@]:1}")
		case $line in
		*"VMGENID-E2E: multi_user="*)
			ms=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", (b - a) * 1000 }')
			[[ $line == *"multi_user=active "* ]] || fail="multi-user.target: ${line#*multi_user=}"
			up=${line##*uptime=} ;;
		*"VMGENID-E2E: failed_units="*)
			[[ $line == *"failed_units=none" ]] || echo "  ($v: ${line#*VMGENID-E2E: })" ;;
		*"VMGENID-E2E: systemd_start="*)
			analyze=${line#*systemd_start=} ;;
		*"VMGENID-E2E: blame: "*)
			blame+="${line#*blame: }, " ;;
		*"VMGENID-E2E: fio_disk="*)
			kvm_counts_reset ;;
		*"VMGENID-E2E: fio="*)
			job=${line#*fio=}
			if [[ $job =~ ^([a-z]+)\ bw_kib=([0-9.]+)\ iops=([0-9.]+) ]]; then
				got_bw[${BASH_REMATCH[1]}]=${BASH_REMATCH[2]}
				got_iops[${BASH_REMATCH[1]}]=${BASH_REMATCH[3]}
			else
				fail="fio: $job"
			fi ;;
		*"VMGENID-E2E: bench_done"*)
			# Frozen where measured: the counts are the fio jobs'.
			kill -STOP "$vmm_pid"
			c=$(kvm_counts "$vmm_pid")
			threads[$v]+="$(threads_cpu "$vmm_pid")"$'\n'
			break ;;
		esac
		((SECONDS < deadline)) || break
	done
	end_vmm
	[ -z "$fail" ] || die "$v run $i: $fail"
	if [ -z "$c" ]; then
		printf '    | %s\n' "${tail_lines[@]}"
		die "$v run $i: the guest never finished its fio jobs within ${run_timeout}s (multi-user at ${ms:-never} ms; its console's last lines above)"
	fi
	boot[$v]+="$ms "
	uptime[$v]+="$up "
	counts[$v]+="$c"$'\n'
	o=$(printf '  run %d %-8s multi-user %9.1f ms (guest uptime %s s)' "$i" "$v" "$ms" "$up")
	for job in $fio_jobs; do
		b=${got_bw[$job]:-0}
		bw[$v.$job]+="$b "
		iops[$v.$job]+="${got_iops[$job]:-0} "
		o+=$(awk -v j="$job" -v b="$b" -v n="${got_iops[$job]:-0}" 'BEGIN { printf "  %s %.1f MiB/s %d IOPS", j, b / 1024, n }')
	done
	echo "$o  cpu $(count_of "$c" cpu_ms) ms"
	echo "      systemd started at ${analyze:-?} s of guest uptime; slowest units: ${blame%, }"
	echo "      threads (CPU ms, whole run): $(tail -n 1 <<<"${threads[$v]%$'\n'}")"
}

bench_header
echo "bench/disk: Debian $kver on its root image ($(($(stat -c %s "$root_img") >> 20)) MiB) and a ${data_mb} MiB data disk, -m $mem -smp $smp, $runs runs each, alternating"
for v in "${vmms[@]}"; do
	printf '  %-8s %s %s\n' "$v:" "$(vmm_cmd "$v")" "$(vmgenid_arg "$v" "$guid")"
done
echo "  both: ${disk_args[*]}"
echo "  host cache: cache=$host_cache on both VMMs; in the guest fio on /dev/vdb: O_DIRECT, libaio, iodepth $fio_qd, ${fio_runtime} s per job"
echo "  jobs: seqread = 1 MiB sequential reads, randread = 4 KiB random reads, randwrite = 4 KiB random writes"
if [ "$bench_mode" = hardware ]; then
	for v in "${vmms[@]}"; do
		one_run "$v" 0 >/dev/null
		boot[$v]='' uptime[$v]='' threads[$v]=''
		counts[$v]=''
		for job in $fio_jobs; do
			bw[$v.$job]='' iops[$v.$job]=''
		done
	done
fi
for ((i = 1; i <= runs; i++)); do
	for v in "${vmms[@]}"; do
		one_run "$v" "$i"
	done
done

verdict() {
	awk -v r="$1" -v op="$2" -v t="$3" 'BEGIN {
		if (r == "n/a") { print "n/a"; exit }
		print ((op == "<=" && r <= t) || (op == ">=" && r >= t)) ? "met" : "MISSED" }'
}

echo "boot to multi-user.target (host ms from launch; guest uptime s at that moment):"
declare -A med=()
for v in "${vmms[@]}"; do
	read -r m lo hi < <(stats "${boot[$v]}")
	read -r um ulo uhi < <(stats "${uptime[$v]}")
	med[$v]=$m
	printf '  %-8s median %9.1f ms (min %.1f, max %.1f)   guest uptime median %.2f s (min %.2f, max %.2f)\n' \
		"$v" "$m" "$lo" "$hi" "$um" "$ulo" "$uhi"
done
r=$(ratio "${med[genvm]}" "${med[qemu-pc]}")
echo "  ratio genvm/qemu-pc $r (target <= 0.6: $(verdict "$r" "<=" 0.6))"

echo "fio in the guest, medians over the runs (min, max):"
printf '  %-10s %-10s %28s %28s %8s\n' job measure genvm qemu-pc genvm/qemu
for job in $fio_jobs; do
	for k in bw iops; do
		declare -A m=()
		row=()
		for v in "${vmms[@]}"; do
			if [ "$k" = bw ]; then
				vals=${bw[$v.$job]}
				read -r a lo hi < <(stats "$vals")
				a=$(awk -v x="$a" 'BEGIN { printf "%.1f", x / 1024 }')
				lo=$(awk -v x="$lo" 'BEGIN { printf "%.1f", x / 1024 }')
				hi=$(awk -v x="$hi" 'BEGIN { printf "%.1f", x / 1024 }')
			else
				vals=${iops[$v.$job]}
				read -r a lo hi < <(stats "$vals")
				a=${a%.*} lo=${lo%.*} hi=${hi%.*}
			fi
			m[$v]=$a
			row+=("$(printf '%s (%s, %s)' "$a" "$lo" "$hi")")
		done
		r=$(ratio "${m[genvm]}" "${m[qemu-pc]}")
		printf '  %-10s %-10s %28s %28s %8s  (target >= 1: %s)\n' "$job" \
			"$([ "$k" = bw ] && echo MiB/s || echo IOPS)" "${row[0]}" "${row[1]}" "$r" \
			"$(verdict "$r" ">=" 1)"
	done
done

echo "counts, medians over the runs: run.*, exit.* and pio.* over the fio jobs only; kvm.* (KVM's per-VM totals) and cpu_ms since launch, the boot included:"
print_counts "${vmms[@]}"
