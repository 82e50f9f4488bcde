#!/usr/bin/env bash
# bench/restore: launch -> restored guest sees its new GUID, genvm against QEMU,
# in the same run; then many clones at once.
#
# Each VMM boots the test guest once (e2e=snapshot: it polls the vmgenid page
# every 5 ms and prints "VMGENID-E2E: guid=..." when the GUID changes) and
# saves it: genvm to file:, QEMU its own format through exec:cat (the same
# bytes a file: would hold).  Then, alternating between the VMMs, each
# restores its snapshot with guid=auto, and the time is taken on the host from
# launch until the guest's console line with the new GUID.  Prints both
# medians and their ratio.
#
# Then CLONES (default 10) restores of the same snapshot are launched at once:
# clones per second is CLONES over the time until every clone has printed its
# new GUID (checked to be all different), and while they all run, the memory
# they share: Rss and Pss summed over the VMM processes (smaps_rollup), and
# 1 - Pss/Rss as the part of resident memory shared with other processes.
#
# usage: bench/restore.sh [RUNS]        (default 10)
# env:   BUILD, GENVM (default $BUILD/vmm/genvm), GENVM_QMP, VMGENID_CACHE,
#        BENCH_MEM (default 256M), BENCH_CLONES (default 10),
#        QEMU (default qemu-system-x86_64), BENCH_TIMEOUT (default 60 s)
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
runs=${1:-10}
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$repo/$BUILD ;; esac
GENVM=${GENVM:-$BUILD/vmm/genvm}
GENVM_QMP=${GENVM_QMP:-$BUILD/vmm/genvm-qmp}
QEMU=${QEMU:-qemu-system-x86_64}
mem=${BENCH_MEM:-256M}
nclones=${BENCH_CLONES:-10}
cache=${VMGENID_CACHE:-$repo/.cache/guest}
append="console=ttyS0 quiet iomem=relaxed panic=-1 e2e=snapshot e2e_poll_ms=5"
run_timeout=${BENCH_TIMEOUT:-60}
src_guid=0c5a7e1d-2b3f-4c6d-9e8f-7a6b5c4d3e2f

bench_name=restore
. "$repo/bench/lib.sh"

require_hardware_kvm
[ -x "$GENVM" ] || die "no genvm at '$GENVM': build it (ninja -C build) or set GENVM"
[ -x "$GENVM_QMP" ] || die "no genvm-qmp at '$GENVM_QMP'"
command -v "$QEMU" >/dev/null || die "$QEMU not found (Debian package qemu-system-x86)"
[[ $runs =~ ^[1-9][0-9]*$ ]] || die "RUNS must be a positive number, not '$runs'"
[[ $nclones =~ ^[1-9][0-9]*$ ]] || die "BENCH_CLONES must be a positive number, not '$nclones'"

bash "$repo/scripts/guest-image.sh" "$BUILD" || die "building the guest image failed"
kernel=$cache/vmlinuz
initrd=$cache/initrd.cpio.gz

make_workdir

# Same devices that matter on both sides, as in bench/boot.sh.
vmm_cmd() {
	case $1 in
	genvm) echo "$GENVM" ;;
	qemu) echo "$QEMU -enable-kvm -M pc -cpu host -vga none -nic none" ;;
	esac
}

declare -A save_uri=(
	[genvm]="file:$work/genvm.snap"
	[qemu]="exec:cat > $work/qemu.snap"
)
declare -A in_uri=(
	[genvm]="file:$work/genvm.snap"
	[qemu]="exec:cat $work/qemu.snap"
)

# start VMM LOG ARGS...: in the background, console to LOG; sets $vmm_pid.
start() {
	local v=$1 log=$2 cmd
	shift 2
	read -r -a cmd <<<"$(vmm_cmd "$v")"
	"${cmd[@]}" -m "$mem" -kernel "$kernel" -initrd "$initrd" -append "$append" \
		-nographic -no-reboot "$@" </dev/null >"$log" 2>&1 &
	vmm_pid=$!
	bg_pids+=("$vmm_pid")
}

# wait_log LOG PATTERN: until a line of LOG matches (grep), or the timeout.
wait_log() {
	local deadline=$((SECONDS + run_timeout))
	until grep -q -e "$2" "$1"; do
		((SECONDS < deadline)) || return 1
		sleep 0.01
	done
}

qmp() {
	"$GENVM_QMP" -t 20 "$@"
}

# save VMM: boot a source, save it to save_uri[VMM], end it.
save() {
	local v=$1 sock=$work/$1-src.sock log=$work/$1-src.log st i
	start "$v" "$log" -device "vmgenid,guid=$src_guid" \
		-qmp "unix:$sock,server=on,wait=off"
	wait_log "$log" 'VMGENID-E2E: tick ' ||
		die "$v: the source guest never reached its loop: $(tail -n 5 "$log")"
	qmp "$sock" migrate "{\"uri\": \"${save_uri[$v]}\"}" >/dev/null ||
		die "$v: migrate ${save_uri[$v]} failed"
	for ((i = 0; i < run_timeout * 10; i++)); do
		st=$(qmp "$sock" query-migrate)
		case $st in
		*'"status": "completed"'*) break ;;
		*'"status": "failed"'*) die "$v: the save failed: $st" ;;
		esac
		sleep 0.1
	done
	[[ $st == *'"status": "completed"'* ]] || die "$v: the save did not complete: $st"
	# QEMU may hang up before its reply is read.
	qmp "$sock" quit >/dev/null 2>&1 || true
	wait "$vmm_pid" 2>/dev/null || true
}

declare -A times=()

# one_restore VMM: launch -> the guest's "guid=" line, in ms.
one_restore() {
	local v=$1 cmd fd pid line t0 t1 guid=
	read -r -a cmd <<<"$(vmm_cmd "$v")"
	t0=$EPOCHREALTIME
	exec {fd}< <(exec "${cmd[@]}" -m "$mem" -kernel "$kernel" -initrd "$initrd" \
		-append "$append" -nographic -no-reboot -device vmgenid,guid=auto \
		-incoming "${in_uri[$v]}" </dev/null 2>&1)
	pid=$!
	while IFS= read -r -t "$run_timeout" -u "$fd" line; do
		if [[ $line == *"VMGENID-E2E: guid="* ]]; then
			t1=$EPOCHREALTIME
			guid=${line#*guid=}
			guid=${guid%$'\r'}
			break
		fi
	done
	kill "$pid" 2>/dev/null || true
	cat <&"$fd" >/dev/null || true
	exec {fd}<&-
	wait "$pid" 2>/dev/null || true
	[ -n "$guid" ] || die "$v: the restored guest never reported a new GUID within ${run_timeout}s"
	[ "$guid" != "$src_guid" ] || die "$v: the restored guest kept the source's GUID"
	times[$v]+="$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) * 1000 }') "
}

stats() {
	tr ' ' '\n' <<<"${times[$1]}" | grep . | sort -n | awk '
		{ v[NR] = $1 }
		END {
			m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
			printf "%.1f %.1f %.1f\n", m, v[1], v[NR]
		}'
}

# clones VMM: NCLONES restores at once; rate, distinct GUIDs, shared memory.
clones() {
	local v=$1 i n t0 t1 guids rss=0 pss=0 r q p
	local -a pids=() logs=()
	t0=$EPOCHREALTIME
	for ((i = 0; i < nclones; i++)); do
		logs+=("$work/$v-clone$i.log")
		start "$v" "${logs[i]}" -device vmgenid,guid=auto -incoming "${in_uri[$v]}"
		pids+=("$vmm_pid")
	done
	local deadline=$((SECONDS + run_timeout))
	while :; do
		n=$( (grep -l 'VMGENID-E2E: guid=' "${logs[@]}" || true) | wc -l)
		((n == nclones)) && break
		((SECONDS < deadline)) || die "$v: only $n of $nclones clones reported a new GUID within ${run_timeout}s"
		sleep 0.005
	done
	t1=$EPOCHREALTIME
	guids=$(sed -n 's/.*VMGENID-E2E: guid=\([0-9a-f-]*\).*/\1/p' "${logs[@]}" | sort -u | grep -v -x "$src_guid" | wc -l)
	((guids == nclones)) || die "$v: $nclones clones reported only $guids distinct new GUIDs"
	# All of them up and idle: what they hold now is what a fleet holds.
	sleep 1
	for p in "${pids[@]}"; do
		read -r r q < <(awk '/^Rss:/ { r = $2 } /^Pss:/ { p = $2 } END { print r, p }' \
			"/proc/$p/smaps_rollup")
		rss=$((rss + r))
		pss=$((pss + q))
	done
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	for p in "${pids[@]}"; do
		wait "$p" 2>/dev/null || true
	done
	awk -v v="$v" -v n="$nclones" -v a="$t0" -v b="$t1" -v r="$rss" -v p="$pss" 'BEGIN {
		s = b - a
		printf "%-6s %d clones at once: all saw a new GUID after %.1f ms: %.1f clones/s\n",
			v, n, s * 1000, n / s
		printf "%-6s   memory: Rss %.1f MiB, Pss %.1f MiB in all (%.1f / %.1f MiB per clone): %.0f%% shared\n",
			v, r / 1024, p / 1024, r / 1024 / n, p / 1024 / n, r ? (1 - p / r) * 100 : 0 }'
	rates[$v]=$(awk -v n="$nclones" -v a="$t0" -v b="$t1" 'BEGIN { print n / (b - a) }')
}

echo "bench/restore: Debian $(cat "$cache/kernel-version"), -m $mem, guid=auto, $runs restores each, alternating"
echo "  genvm: $(vmm_cmd genvm) -incoming ${in_uri[genvm]}"
echo "  qemu:  $(vmm_cmd qemu) -incoming \"${in_uri[qemu]}\""
save genvm
save qemu
snap_size() {
	du -k --apparent-size "$1" | cut -f1
}
printf '  snapshots: genvm %s KiB (%s KiB on disk), qemu %s KiB\n' \
	"$(snap_size "$work/genvm.snap")" "$(du -k "$work/genvm.snap" | cut -f1)" \
	"$(snap_size "$work/qemu.snap")"
# One unmeasured restore each warms the page cache for the snapshots.
one_restore genvm
one_restore qemu
times=()
for ((i = 0; i < runs; i++)); do
	one_restore genvm
	one_restore qemu
done
read -r gmed gmin gmax < <(stats genvm)
read -r qmed qmin qmax < <(stats qemu)
printf 'genvm  launch -> new GUID seen: median %8.1f ms (min %.1f, max %.1f)\n' "$gmed" "$gmin" "$gmax"
printf 'qemu   launch -> new GUID seen: median %8.1f ms (min %.1f, max %.1f)\n' "$qmed" "$qmin" "$qmax"
awk -v g="$gmed" -v q="$qmed" 'BEGIN {
	r = g / q
	printf "ratio genvm/qemu: %.3f\n", r }'
declare -A rates=()
clones genvm
clones qemu
awk -v g="${rates[genvm]}" -v q="${rates[qemu]}" 'BEGIN {
	printf "clones per second, genvm/qemu: %.2fx\n", g / q }'
