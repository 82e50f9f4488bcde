# Sourced by the bench scripts (bash): what they all need.  The caller sets
# bench_name (for messages), repo and BUILD before sourcing.

die() {
	echo "bench/$bench_name: $*" >&2
	exit 1
}

# True when /dev/kvm is hardware KVM: present, and not PVM alone (PVM cannot
# run Debian's kernel at native speed).
hardware_kvm() {
	[ -c /dev/kvm ] || return 1
	[ -d /sys/module/kvm_pvm ] || return 0
	[ -d /sys/module/kvm_intel ] || [ -d /sys/module/kvm_amd ]
}

# bench_place ARGS...: where this bench runs.  With hardware KVM, here
# (bench_mode=hardware: times are figures).  Without it, the bench runs
# again inside the L1 guest of the nested e2e harness (tests/e2e/nested.sh: a
# QEMU TCG guest whose emulated SVM gives it a /dev/kvm), where both VMMs run
# side by side; this process relays its output and exits with its status.
# Inside L1, bench_mode=nested: times there are TCG's, so only ratios between
# the VMMs of the same run mean anything.
bench_place() {
	if [ -n "${BENCH_IN_L1:-}" ]; then
		bench_mode=nested
		# L1's devtmpfs has no /dev/fd, which bash's <(...) needs.
		[ -e /dev/fd ] || ln -s /proc/self/fd /dev/fd
		return 0
	fi
	# From a clean checkout: build what the bench runs.
	if [ ! -x "$GENVM" ] && [ "$GENVM" = "$BUILD/vmm/genvm" ]; then
		echo "bench/$bench_name: building genvm in $BUILD"
		bash "$repo/scripts/build.sh" "$BUILD" >/dev/null || die "building genvm failed (bash scripts/build.sh $BUILD)"
	fi
	if hardware_kvm && [ "${BENCH_NESTED:-0}" != 1 ]; then
		bench_mode=hardware
		return 0
	fi
	go_nested "$@"
}

# Settings passed on to the bench inside L1.
bench_env_vars=(BENCH_RUNS BENCH_VMMS BENCH_MEM BENCH_SMP BENCH_CLONES BENCH_DENSITY BENCH_TIMEOUT
	BENCH_ROUNDS BENCH_POLL_MS BENCH_SMOKE BENCH_CACHE BENCH_DATA_MB BENCH_FIO_RUNTIME BENCH_FIO_QD
	BENCH_DISK_DIR BENCH_NET_SECONDS)

go_nested() {
	local tmp out rc v f files
	command -v qemu-system-x86_64 >/dev/null ||
		die "no hardware KVM here, and the nested path needs qemu-system-x86_64 (Debian package qemu-system-x86)"
	[ -x "$GENVM" ] || die "no genvm at '$GENVM': build it (bash scripts/build.sh build) or set GENVM"
	[ -x "$GENVM_QMP" ] || die "no genvm-qmp at '$GENVM_QMP'"
	bash "$repo/scripts/guest-image.sh" "$BUILD" >/dev/null || die "building the guest image failed"
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/bench-$bench_name-l1.XXXXXX")
	# shellcheck disable=SC2064
	trap "rm -rf '$tmp'" EXIT
	{
		echo "BENCH_IN_L1=1"
		echo "BENCH_SCRIPT=$(basename "$0")"
		for v in "${bench_env_vars[@]}"; do
			[ -z "${!v+set}" ] || printf 'export %s=%q\n' "$v" "${!v}"
		done
		bench_args=("$@")
		declare -p bench_args
	} >"$tmp/env"
	files="$tmp/env=/bench/env $repo/bench/l1-main.sh=/e2e/bench-l1.sh"
	files+=" $cache/kernel-version=/guest/kernel-version"
	for f in "$repo"/bench/*.sh; do
		files+=" $f=/bench/$(basename "$f")"
	done
	echo "bench/$bench_name: no hardware KVM here: running genvm and QEMU inside one TCG guest with nested SVM (tests/e2e/nested.sh), L1 -m ${BENCH_L1_MEM:-3072}M"
	# The L1 harness's own TAP lines are noise here; its failures are not.
	set +e
	VMGENID_L1_MAIN=bench-l1.sh VMGENID_L1_FILES="$files" VMGENID_L1_QEMU=1 \
		VMGENID_E2E_L1_BINS="bash ${bench_l1_bins:-}" VMGENID_E2E_L1_MEM="${BENCH_L1_MEM:-3072}" \
		VMGENID_E2E_L1_NET="${bench_l1_net:-0}" \
		VMGENID_E2E_L1_TIMEOUT="${BENCH_L1_TIMEOUT:-7200}" \
		VMGENID_E2E_L1_STALL=900 VMGENID_CACHE="$cache" BUILD="$BUILD" \
		GENVM="$GENVM" GENVM_QMP="$GENVM_QMP" \
		bash "$repo/tests/e2e/nested.sh" | tee "$tmp/out" |
		grep --line-buffered -v -e "^ok " -e "^1\.\." -e "^# L1 initramfs" -e "^BENCH-EXIT: "
	set -e
	rc=$(sed -n 's/^BENCH-EXIT: //p' "$tmp/out" | tail -n 1)
	[ -n "$rc" ] || die "the bench never finished inside L1 (see the lines above)"
	exit "$rc"
}

# bench_guest: the test guest's kernel and initramfs ($kernel, $initrd) and
# Debian's kernel version ($kver): built here, or packed into L1.
bench_guest() {
	if [ "$bench_mode" = nested ]; then
		kernel=$E2E_KERNEL
		initrd=$E2E_INITRD
		kver=$(cat /guest/kernel-version 2>/dev/null || echo unknown)
	else
		bash "$repo/scripts/guest-image.sh" "$BUILD" >/dev/null || die "building the guest image failed"
		kernel=$cache/vmlinuz
		initrd=$cache/initrd.cpio.gz
		kver=$(cat "$cache/kernel-version")
	fi
}

bench_header() {
	if [ "$bench_mode" = nested ]; then
		echo "== nested (TCG L1, emulated SVM): ratios only, not absolute times"
		echo "   (L1: $(nproc) vCPUs, $(awk '/^MemTotal/ { printf "%d MiB", $2 / 1024 }' /proc/meminfo); times below are TCG's, kept only to form the ratios)"
	else
		echo "== hardware KVM ($(uname -r)): times are figures"
	fi
}

# The VMMs compared.  QEMU gets the devices that matter on both sides; its VGA
# and NIC are off because genvm has neither.
vmm_cmd() {
	case $1 in
	genvm) echo "$GENVM" ;;
	qemu-pc) echo "$QEMU -accel kvm -M pc -cpu host -vga none -nic none" ;;
	qemu-microvm) echo "$QEMU -accel kvm -M microvm -cpu host -nic none" ;;
	*) die "no VMM '$1'" ;;
	esac
}

# vmgenid_arg VMM GUID: the vmgenid device, where the VMM gives the guest one.
# QEMU 7.2 accepts -device vmgenid on -M microvm but its microvm ACPI tables
# (hw/i386/acpi-microvm.c) never describe it, so the guest cannot find it
# there: left out rather than counted as a device.
vmgenid_arg() {
	case $1 in
	qemu-microvm) ;;
	*) echo "-device vmgenid,guid=$2" ;;
	esac
}

# make_workdir: a scratch directory in $work, removed at exit together with
# every process whose pid was added to bg_pids.
bg_pids=()
make_workdir() {
	work=$(mktemp -d "${TMPDIR:-/tmp}/bench-$bench_name.XXXXXX")
	trap bench_cleanup EXIT
}

bench_cleanup() {
	local p
	for p in "${bg_pids[@]}"; do
		kill -CONT "$p" 2>/dev/null || true
		kill -KILL "$p" 2>/dev/null || true
	done
	wait 2>/dev/null || true
	rm -rf "$work"
	kvm_counts_fini
}

# stats "V1 V2 ...": "median min max".
stats() {
	tr ' ' '\n' <<<"$1" | grep . | sort -g | awk '
		{ v[NR] = $1 }
		END {
			if (!NR) { print "0 0 0"; exit }
			m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
			printf "%.3f %.3f %.3f\n", m, v[1], v[NR]
		}'
}

ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "n/a"; else printf "%.3f\n", a / b }'
}

# bench_rounds FN: FN VMM measure I for I in 1..runs, the VMMs alternating
# within each round.  On hardware KVM one unmeasured FN VMM warmup 0 each
# comes first, to warm the page cache for what the VMM reads (kernel,
# initramfs, snapshots); in L1 those are in RAM already.
# shellcheck disable=SC2154 # vmms and runs are the bench's settings
bench_rounds() {
	local v i
	if [ "$bench_mode" = hardware ]; then
		for v in "${vmms[@]}"; do
			"$1" "$v" warmup 0
		done
	fi
	for ((i = 1; i <= runs; i++)); do
		for v in "${vmms[@]}"; do
			"$1" "$v" measure "$i"
		done
	done
}

# bench_medians WIDTH: a line per VMM with the median, min and max of its
# times[VMM] (ms), the name padded to WIDTH; the medians go into med[VMM].
# shellcheck disable=SC2034,SC2154 # the bench fills times and reads med
bench_medians() {
	local v m lo hi
	declare -gA med=()
	for v in "${vmms[@]}"; do
		read -r m lo hi < <(stats "${times[$v]}")
		med[$v]=$m
		printf '  %-*s median %9.1f  (min %.1f, max %.1f)\n' "$1" "$v" "$m" "$lo" "$hi"
	done
}

# ---- counts that do not depend on the clock ----
#
# KVM keeps statistics per VM; the kernel shows them, summed over the vCPUs,
# in debugfs as /sys/kernel/debug/kvm/PID-FD/NAME (PID the VMM, FD its VM
# file descriptor).  They are read the same way for every VMM, while the VMM
# is stopped (SIGSTOP) at the moment measured.  KVM_RUN returns (exits to the
# VMM) and the hardware exit reasons come from the kvm:kvm_userspace_exit and
# kvm:kvm_exit tracepoints, counted by a histogram trigger (tracefs) or from
# the trace buffer, reset before each launch; only one VM runs while they
# count.

kvm_stat_names="exits io_exits mmio_exits halt_exits irq_exits irq_window_exits nmi_window_exits signal_exits request_irq_exits insn_emulation hypercalls pf_taken pf_fixed"

kvm_counts_init() {
	local t=/sys/kernel/tracing
	mountpoint -q /sys/kernel/debug 2>/dev/null || mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null || true
	[ -d $t/events ] || mount -t tracefs tracefs $t 2>/dev/null || true
	kvm_debugfs=0
	[ -d /sys/kernel/debug/kvm ] && kvm_debugfs=1
	# A histogram trigger counts in the kernel; where the kernel refuses
	# one, the events go to the trace buffer and are counted from there.
	kvm_hist=0
	kvm_trace=0
	if [ ! -e "$t/events/kvm/kvm_exit/trigger" ] || [ ! -e "$t/events/kvm/kvm_userspace_exit/trigger" ]; then
		kvm_hist_why="no $t/events/kvm/{kvm_exit,kvm_userspace_exit}"
		return 0
	fi
	if (echo 'hist:keys=exit_reason' >"$t/events/kvm/kvm_exit/trigger" &&
		echo 'hist:keys=reason' >"$t/events/kvm/kvm_userspace_exit/trigger") 2>/dev/null; then
		kvm_hist=1
		# Port I/O by port: which device the io exits are for.
		echo 'hist:keys=port.hex' >"$t/events/kvm/kvm_pio/trigger" 2>/dev/null || true
		return 0
	fi
	echo 0 >$t/tracing_on
	echo 65536 >$t/buffer_size_kb
	echo 1 >$t/events/kvm/kvm_exit/enable
	echo 1 >$t/events/kvm/kvm_userspace_exit/enable
	kvm_trace=1
}

# kvm_counts_fini: the triggers and events set by kvm_counts_init go, so
# that what runs after the bench (the e2e scenarios after t_bench) is not
# counted at every exit.
kvm_counts_fini() {
	local t=/sys/kernel/tracing
	if [ "${kvm_hist:-0}" = 1 ]; then
		echo '!hist:keys=exit_reason' >"$t/events/kvm/kvm_exit/trigger" 2>/dev/null
		echo '!hist:keys=reason' >"$t/events/kvm/kvm_userspace_exit/trigger" 2>/dev/null
		echo '!hist:keys=port.hex' >"$t/events/kvm/kvm_pio/trigger" 2>/dev/null
	elif [ "${kvm_trace:-0}" = 1 ]; then
		echo 0 >$t/tracing_on
		echo 0 >$t/events/kvm/kvm_exit/enable
		echo 0 >$t/events/kvm/kvm_userspace_exit/enable
		: >$t/trace
	fi
	kvm_hist=0 kvm_trace=0
	return 0
}

# kvm_counts_reset: counting starts afresh for the next VM.
kvm_counts_reset() {
	local t=/sys/kernel/tracing
	if [ "$kvm_hist" = 1 ]; then
		echo '!hist:keys=exit_reason' >"$t/events/kvm/kvm_exit/trigger"
		echo '!hist:keys=reason' >"$t/events/kvm/kvm_userspace_exit/trigger"
		echo 'hist:keys=exit_reason' >"$t/events/kvm/kvm_exit/trigger"
		echo 'hist:keys=reason' >"$t/events/kvm/kvm_userspace_exit/trigger"
		if echo '!hist:keys=port.hex' >"$t/events/kvm/kvm_pio/trigger" 2>/dev/null; then
			echo 'hist:keys=port.hex' >"$t/events/kvm/kvm_pio/trigger"
		fi
	elif [ "$kvm_trace" = 1 ]; then
		echo 0 >$t/tracing_on
		: >$t/trace
		echo 1 >$t/tracing_on
	fi
}

# SVM exit codes (AMD APM vol. 2, appendix C) by the names kvm_exit prints.
svm_exit_name() {
	case $1 in
	0) echo read_cr0 ;; 3) echo read_cr3 ;; 4) echo read_cr4 ;; 8) echo read_cr8 ;;
	16) echo write_cr0 ;; 19) echo write_cr3 ;; 20) echo write_cr4 ;; 24) echo write_cr8 ;;
	64) echo excp_de ;; 65) echo excp_db ;; 67) echo excp_bp ;; 70) echo excp_ud ;;
	77) echo excp_gp ;; 78) echo excp_pf ;; 82) echo excp_mc ;;
	96) echo intr ;; 97) echo nmi ;; 99) echo init ;; 100) echo vintr ;;
	101) echo cr0_sel_write ;; 110) echo rdtsc ;; 114) echo cpuid ;; 116) echo iret ;;
	119) echo pause ;; 120) echo hlt ;; 121) echo invlpg ;; 123) echo io ;; 124) echo msr ;;
	127) echo shutdown ;; 129) echo vmmcall ;; 135) echo rdtscp ;; 137) echo wbinvd ;;
	141) echo xsetbv ;; 1024) echo npf ;;
	*) printf 'code_%#x\n' "$1" ;;
	esac
}

kvm_run_reason_name() {
	case $1 in
	2) echo io ;; 4) echo debug ;; 5) echo hlt ;; 6) echo mmio ;; 8) echo shutdown ;;
	9) echo fail_entry ;; 10) echo intr ;; 17) echo irq_window_open ;;
	24) echo system_event ;; *) echo "reason_$1" ;;
	esac
}

# kvm_counts PID: one line "key=value ..." of the VM of PID: KVM's per-VM
# statistics (kvm.NAME), KVM_RUN returns in all and by exit_reason to the VMM
# (run.NAME), hardware exits by reason (exit.NAME), and the process's host
# CPU time (cpu_ms, utime + stime).  Call it with PID stopped.
kvm_counts() {
	local pid=$1 d n out="" line k c tck
	if [ "$kvm_debugfs" = 1 ]; then
		for d in /sys/kernel/debug/kvm/"$pid"-*; do
			[ -d "$d" ] || continue
			for n in $kvm_stat_names; do
				[ -r "$d/$n" ] && out+="kvm.$n=$(cat "$d/$n") "
			done
			break
		done
	fi
	if [ "$kvm_trace" = 1 ]; then
		local tr=/sys/kernel/tracing
		echo 0 >$tr/tracing_on
		out+=$(awk '
			/ kvm_userspace_exit: / { sub(/.*reason /, ""); sub(/ .*/, ""); sub(/^KVM_EXIT_/, ""); run[tolower($0)]++; n++ }
			/ kvm_exit: / { sub(/.* reason /, ""); sub(/ .*/, ""); ex[$0]++ }
			END {
				for (k in run) printf "run.%s=%d ", k, run[k]
				printf "kvm_run_returns=%d ", n
				for (k in ex) printf "exit.%s=%d ", k, ex[k]
			}' $tr/trace)
		# Events lost to a full buffer would make the counts too low.
		if grep -q '^overrun: [1-9]' $tr/per_cpu/cpu*/stats 2>/dev/null; then
			out+="trace_overrun=1 "
		fi
	fi
	if [ "$kvm_hist" = 1 ]; then
		local t=/sys/kernel/tracing/events/kvm total=0
		while read -r k c; do
			out+="run.$(kvm_run_reason_name "$k")=$c "
			total=$((total + c))
		done < <(sed -n 's/^{ reason: *\([0-9]*\) *} hitcount: *\([0-9]*\).*/\1 \2/p' "$t/kvm_userspace_exit/hist")
		out+="kvm_run_returns=$total "
		while read -r k c; do
			out+="exit.$(svm_exit_name "$k")=$c "
		done < <(sed -n 's/^{ exit_reason: *\([0-9]*\) *} hitcount: *\([0-9]*\).*/\1 \2/p' "$t/kvm_exit/hist" | sort -k2 -n -r)
		# The eight busiest I/O ports.
		if [ -r "$t/kvm_pio/hist" ]; then
			while read -r k c; do
				out+="pio.$k=$c "
			done < <(sed -n 's/^{ port: *\(0x\)\{0,1\}\([0-9a-f]*\) *} hitcount: *\([0-9]*\).*/0x\2 \3/p' "$t/kvm_pio/hist" | sort -k2 -n -r | head -n 8)
		fi
	fi
	tck=$(getconf CLK_TCK 2>/dev/null || echo 100)
	line=$(cat "/proc/$pid/stat")
	line=${line##*) }
	# After "comm)": state is field 3; utime and stime are fields 14 and 15,
	# guest_time (the vCPUs' time in the guest, part of utime) field 43:
	# vmm_ms is the rest, the VMM's own work and KVM's on its behalf.
	out+=$(awk -v t="$tck" '{ printf "cpu_ms=%d guest_ms=%d vmm_ms=%d", ($12 + $13) * 1000 / t,
		$41 * 1000 / t, ($12 + $13 - $41) * 1000 / t }' <<<"$line")
	echo "$out"
}

# count_of "k=v ..." KEY: the value, or 0.
count_of() {
	local kv
	for kv in $1; do
		[ "${kv%%=*}" = "$2" ] && { echo "${kv#*=}"; return 0; }
	done
	echo 0
}

# ---- memory ----

# Guest RAM in KiB, from the -m value (a plain number means MiB, as in QEMU).
mem_kib() {
	local v=${1%[MmGg]}
	case $1 in
	*[Gg]) echo $((v * 1024 * 1024)) ;;
	*) echo $((v * 1024)) ;;
	esac
}

# smaps_beyond PID: "RSS_KB PSS_KB GUEST_RSS_KB GUEST_PSS_KB" : the process's
# totals and those of its guest RAM mapping, the smallest mapping that can
# hold the guest's -m (a code buffer or a reservation may be larger).
smaps_beyond() {
	awk -v ram="$(mem_kib "$mem")" '
		/^[0-9a-f]+-[0-9a-f]+ / { cur++ }
		/^Size:/ { size[cur] = $2 }
		/^Rss:/ { rss[cur] = $2; trss += $2 }
		/^Pss:/ { pss[cur] = $2; tpss += $2 }
		END {
			for (i in size)
				if (size[i] >= ram && (!pick || size[i] < size[pick]))
					pick = i
			print trss, tpss, pick ? rss[pick] : 0, pick ? pss[pick] : 0
		}' "/proc/$1/smaps"
}

# rollup PID: "RSS_KB PSS_KB" from smaps_rollup.
rollup() {
	awk '/^Rss:/ { r = $2 } /^Pss:/ { p = $2 } END { print r + 0, p + 0 }' "/proc/$1/smaps_rollup"
}

# Counts per run are kept as lines of "key=value ..." in counts[VMM].
declare -A counts=()

# median_count VMM KEY: the median of KEY over VMM's runs.
median_count() {
	local line vals=""
	while IFS= read -r line; do
		[ -n "$line" ] && vals+="$(count_of "$line" "$2") "
	done <<<"${counts[$1]:-}"
	stats "$vals" | awk '{ printf "%d\n", $1 }'
}

# print_counts VMM...: the table of medians, genvm first, with the ratios of
# genvm to each other VMM.
print_counts() {
	local k v g row keys
	keys=$({
		echo cpu_ms
		echo guest_ms
		echo vmm_ms
		echo kvm_run_returns
		for v in "$@"; do
			tr ' ' '\n' <<<"${counts[$v]}" | sed -n 's/=.*//p'
		done
	} | awk '!seen[$0]++')
	row=$(printf '  %-24s' count)
	for v in "$@"; do
		row+=$(printf ' %13s' "$v")
	done
	for v in "${@:2}"; do
		row+=$(printf ' %14s' "genvm/${v#qemu-}")
	done
	echo "$row"
	for k in $keys; do
		row=$(printf '  %-24s' "$k")
		g=$(median_count genvm "$k")
		for v in "$@"; do
			row+=$(printf ' %13s' "$(median_count "$v" "$k")")
		done
		for v in "${@:2}"; do
			row+=$(printf ' %14s' "$(ratio "$g" "$(median_count "$v" "$k")")")
		done
		echo "$row"
	done
}
