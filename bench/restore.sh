#!/usr/bin/env bash
# bench/restore: launch -> restored guest sees its new GUID, genvm against
# QEMU -M pc, in the same run; then 1, 10 and 50 clones of one snapshot at once.
#
# Each VMM boots the test guest once (e2e=snapshot: it polls the vmgenid page
# every BENCH_POLL_MS ms and prints "VMGENID-E2E: guid=..." when the GUID
# changes) and saves it: genvm to file:, QEMU its own format through
# exec:cat (QEMU 7.2 has no file: migration; the bytes are the same).  Then,
# alternating between the VMMs, each restores its snapshot with guid=auto;
# a run is timed on the host from launch until the guest's console line with
# the new GUID, where the VMM is stopped (SIGSTOP) and counted as in
# bench/boot.sh; genvm's own phase times come from query-migrate
# (x-restore-phases, docs/qmp.md).  QEMU -M microvm is left out: its ACPI
# tables never describe a vmgenid device, so its guest cannot see a new GUID.
#
# Density: for each count in BENCH_DENSITY (default "1 10 50"), that many
# restores of the same snapshot are launched at once: clones per second is
# the count over the time until every clone has printed its new GUID (checked
# to be all different); then, while they all idle, their memory: Rss and Pss
# summed over the VMM processes (smaps_rollup), and 1 - Pss/Rss, the part of
# resident memory shared.  QEMU's clones run only where they fit in the
# memory available (estimated from the smaller count).  A "DENSITY" line per
# point feeds bench/plot.sh.
#
# Without hardware KVM the whole bench runs inside one nested L1 guest
# (bench/lib.sh): there only ratios and counts mean anything.
#
# usage: bench/restore.sh [RUNS]        (default BENCH_RUNS, else 5)
# env:   BUILD, GENVM, GENVM_QMP, VMGENID_CACHE, QEMU, BENCH_MEM (default 256M),
#        BENCH_DENSITY (default "1 10 50"), BENCH_POLL_MS (default 20),
#        BENCH_TIMEOUT (s per restore), BENCH_NESTED=1, BENCH_L1_MEM
# Smoke test (tests/e2e/t_bench.sh, in make check):
# bench-smoke: BENCH_RUNS=1 BENCH_DENSITY=1 BENCH_MEM=128M
# bench-smoke-expect: ^  ratio genvm/qemu-pc ([0-9.]+|n/a) \(target
# bench-smoke-expect: ^DENSITY genvm 1 [0-9]+ [0-9]+ [0-9.]+$
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
runs=${1:-${BENCH_RUNS:-5}}
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$repo/$BUILD ;; esac
GENVM=${GENVM:-$BUILD/vmm/genvm}
GENVM_QMP=${GENVM_QMP:-$BUILD/vmm/genvm-qmp}
QEMU=${QEMU:-qemu-system-x86_64}
mem=${BENCH_MEM:-256M}
density=${BENCH_DENSITY:-1 10 50}
poll_ms=${BENCH_POLL_MS:-20}
cache=${VMGENID_CACHE:-$repo/.cache/guest}
append="console=ttyS0 quiet iomem=relaxed panic=-1 e2e=snapshot e2e_poll_ms=$poll_ms"
src_guid=0c5a7e1d-2b3f-4c6d-9e8f-7a6b5c4d3e2f

bench_name=restore
. "$repo/bench/lib.sh"

[[ $runs =~ ^[1-9][0-9]*$ ]] || die "RUNS must be a positive number, not '$runs'"
for n in $density; do
	[[ $n =~ ^[1-9][0-9]*$ ]] || die "BENCH_DENSITY must be positive numbers, not '$density'"
done
bench_place "$@"
[ -x "$GENVM" ] || die "no genvm at '$GENVM': build it (bash scripts/build.sh build) or set GENVM"
[ -x "$GENVM_QMP" ] || die "no genvm-qmp at '$GENVM_QMP'"
command -v "$QEMU" >/dev/null || die "$QEMU not found (Debian package qemu-system-x86)"
[ -c /dev/kvm ] || die "no /dev/kvm"
run_timeout=${BENCH_TIMEOUT:-$([ "$bench_mode" = nested ] && echo 900 || echo 60)}
bench_guest
make_workdir
kvm_counts_init

vmms=(genvm qemu-pc)
declare -A save_uri=(
	[genvm]="file:$work/genvm.snap"
	[qemu-pc]="exec:cat > $work/qemu-pc.snap"
)
declare -A in_uri=(
	[genvm]="file:$work/genvm.snap"
	[qemu-pc]="exec:cat $work/qemu-pc.snap"
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
	"$GENVM_QMP" -t 60 "$@"
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

declare -A times=() phases=()

# phase_us JSON NAME: the "us" of phase NAME in query-migrate's reply.
phase_us() {
	sed -n "s/.*{\"phase\": \"$2\", \"us\": \([0-9]*\),.*/\1/p" <<<"$1"
}
restore_phase_names="open map state vmgenid first-run"

# one_restore VMM MODE I: launch -> the guest's "guid=" line.
one_restore() {
	local v=$1 cmd fd pid line t0 t1 guid= c ms sock=$work/$1-dst.sock q="" p ph=""
	read -r -a cmd <<<"$(vmm_cmd "$v")"
	rm -f "$sock"
	kvm_counts_reset
	t0=$EPOCHREALTIME
	exec {fd}< <(exec "${cmd[@]}" -m "$mem" -kernel "$kernel" -initrd "$initrd" \
		-append "$append" -nographic -no-reboot -device vmgenid,guid=auto \
		-qmp "unix:$sock,server=on,wait=off" -incoming "${in_uri[$v]}" </dev/null 2>&1)
	pid=$!
	bg_pids+=("$pid")
	while IFS= read -r -t "$run_timeout" -u "$fd" line; do
		if [[ $line == *"VMGENID-E2E: guid="* ]]; then
			t1=$EPOCHREALTIME
			guid=${line#*guid=}
			guid=${guid%$'\r'}
			break
		fi
	done
	if [ -n "$guid" ]; then
		kill -STOP "$pid"
		c=$(kvm_counts "$pid")
		kill -CONT "$pid"
		[ "$v" != genvm ] || q=$(qmp "$sock" query-migrate 2>&1) || true
	fi
	kill -KILL "$pid" 2>/dev/null || true
	cat <&"$fd" >/dev/null 2>&1 || true
	exec {fd}<&-
	wait "$pid" 2>/dev/null || true
	[ -n "$guid" ] || die "$v: the restored guest never reported a new GUID within ${run_timeout}s"
	[ "$guid" != "$src_guid" ] || die "$v: the restored guest kept the source's GUID"
	[ "$2" = measure ] || return 0
	ms=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) * 1000 }')
	times[$v]+="$ms "
	counts[$v]+="$c"$'\n'
	if [ "$v" = genvm ]; then
		[[ $q == *'"x-restore-phases"'* ]] || die "genvm: query-migrate on the restored machine has no x-restore-phases: $q"
		for p in $restore_phase_names; do
			phases[$p]+="$(phase_us "$q" "$p") "
			ph+=" $p $(phase_us "$q" "$p")"
		done
		ph="  phases (us):$ph"
	fi
	printf '  run %d %-8s launch->new GUID %9.1f ms  exits %7s  KVM_RUN returns %6s  cpu %6s ms%s\n' \
		"$3" "$v" "$ms" "$(count_of "$c" kvm.exits)" "$(count_of "$c" kvm_run_returns)" \
		"$(count_of "$c" cpu_ms)" "$ph"
}

declare -A per_clone_pss=()

# clones VMM N: N restores at once; rate, distinct GUIDs, memory.
clones() {
	local v=$1 n=$2 i got t0 t1 guids rss=0 pss=0 r q p
	local -a pids=() logs=()
	rm -f "$work/$v"-clone*.log
	t0=$EPOCHREALTIME
	for ((i = 0; i < n; i++)); do
		logs+=("$work/$v-clone$i.log")
		start "$v" "${logs[i]}" -device vmgenid,guid=auto -incoming "${in_uri[$v]}"
		pids+=("$vmm_pid")
	done
	local deadline=$((SECONDS + run_timeout * 2))
	while :; do
		got=$( (grep -l 'VMGENID-E2E: guid=' "${logs[@]}" || true) | wc -l)
		((got == n)) && break
		((SECONDS < deadline)) || die "$v: only $got of $n clones reported a new GUID within $((run_timeout * 2))s"
		sleep 0.05
	done
	t1=$EPOCHREALTIME
	guids=$(sed -n 's/.*VMGENID-E2E: guid=\([0-9a-f-]*\).*/\1/p' "${logs[@]}" | sort -u | grep -v -x "$src_guid" | wc -l)
	((guids == n)) || die "$v: $n clones reported only $guids distinct new GUIDs"
	# All of them up and idle: what they hold now is what a fleet holds.
	sleep 2
	for p in "${pids[@]}"; do
		read -r r q < <(rollup "$p")
		rss=$((rss + r))
		pss=$((pss + q))
	done
	for p in "${pids[@]}"; do
		kill -KILL "$p" 2>/dev/null || true
	done
	for p in "${pids[@]}"; do
		wait "$p" 2>/dev/null || true
	done
	per_clone_pss[$v]=$((pss / n))
	awk -v v="$v" -v n="$n" -v a="$t0" -v b="$t1" -v r="$rss" -v p="$pss" -v g="$guids" 'BEGIN {
		s = b - a
		printf "  %-8s %3d clones: %d distinct new GUIDs after %9.1f ms (%.2f clones/s); Rss %7.1f MiB, Pss %7.1f MiB in all, Pss %6.1f MiB per clone, %.0f%% of Rss shared\n",
			v, n, g, s * 1000, n / s, r / 1024, p / 1024, p / 1024 / n, r ? (1 - p / r) * 100 : 0
		printf "DENSITY %s %d %d %d %.3f\n", v, n, p, r, n / s }'
}

bench_header
echo "bench/restore: Debian $kver, -m $mem, guid=auto, e2e_poll_ms=$poll_ms, $runs restores each, alternating"
for v in "${vmms[@]}"; do
	printf '  %-8s %s -device vmgenid,guid=auto -incoming "%s"\n' "$v:" "$(vmm_cmd "$v")" "${in_uri[$v]}"
done
echo "  counted at the restored guest's first line with its new GUID, the VMM stopped there"
[ "$kvm_debugfs" = 1 ] || echo "  (no KVM debugfs here: no per-VM statistics)"
[ "$kvm_hist$kvm_trace" != 00 ] || echo "  (no KVM_RUN returns or exits by reason: $kvm_hist_why)"
for v in "${vmms[@]}"; do
	save "$v"
done
printf '  snapshots: genvm %s KiB (%s KiB allocated), qemu-pc %s KiB\n' \
	"$(($(stat -c %s "$work/genvm.snap") / 1024))" "$(du -k "$work/genvm.snap" | cut -f1)" \
	"$(($(stat -c %s "$work/qemu-pc.snap") / 1024))"
bench_rounds one_restore

echo "launch -> new GUID seen (ms):"
bench_medians 8
r=$(ratio "${med[genvm]}" "${med[qemu-pc]}")
printf '  ratio genvm/qemu-pc %s (target <= 0.2: %s)\n' "$r" \
	"$(awk -v r="$r" 'BEGIN { print (r != "n/a" && r <= 0.2) ? "met" : "MISSED" }')"
echo "genvm's restore phases (query-migrate x-restore-phases, us), medians (min, max):"
for p in $restore_phase_names; do
	read -r m lo hi < <(stats "${phases[$p]}")
	printf '  %-10s %10.0f  (%.0f, %.0f)\n' "$p" "$m" "$lo" "$hi"
done
echo "counts from launch to the new GUID seen, medians over the runs:"
print_counts "${vmms[@]}"

echo "density: N clones of one $mem snapshot started at once (guid=auto):"
for n in $density; do
	for v in "${vmms[@]}"; do
		if [ "$v" != genvm ] && [ -n "${per_clone_pss[$v]:-}" ]; then
			avail=$(awk '/^MemAvailable:/ { print $2 }' /proc/meminfo)
			need=$((per_clone_pss[$v] * n * 5 / 4))
			if ((need > avail)); then
				printf '  %-8s %3d clones: skipped: about %d MiB needed (%d MiB per clone), %d MiB available\n' \
					"$v" "$n" $((need / 1024)) $((per_clone_pss[$v] / 1024)) $((avail / 1024))
				echo "DENSITY $v $n skipped"
				continue
			fi
		fi
		clones "$v" "$n"
	done
done
