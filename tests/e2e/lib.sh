# Helpers for the e2e scenario scripts (tests/e2e/t_*.sh), sourced by them.
# POSIX sh: the same scripts run on the host and under busybox ash in an L1
# guest (see run.sh).  A scenario prints "ok - NAME" / "not ok - NAME" lines
# and "# ..." diagnostics; run.sh numbers them and prints the plan.
#
# From run.sh: GENVM (the VMM; GENVM_HOST names it on the host when the
# suite runs nested), GENVM_QMP (the QMP client), E2E_KERNEL, E2E_INITRD,
# E2E_WORK (scratch dir), E2E_TIMEOUT (seconds one guest may take from
# launch to VMM exit).

E2E_MEM=${E2E_MEM:-256M}
E2E_SMP=${E2E_SMP:-1}
# iomem=relaxed lets memread map the vmgenid page through /dev/mem; quiet keeps
# the console to the guest's markers (dmesg is still read from inside).
E2E_APPEND_BASE=${E2E_APPEND_BASE:-console=ttyS0 quiet iomem=relaxed panic=-1}

e2e_cr=$(printf '\r')

# Prefixes every console line with the host's uptime, so the scripts can time
# events on the guest console without forking per line.
stamp_lines() {
	while IFS= read -r line || [ -n "$line" ]; do
		read -r up _ </proc/uptime
		printf '%s %s\n' "$up" "${line%"$e2e_cr"}"
	done
}

# vmm_stderr_apart LOG COMMAND...: runs COMMAND with its stdout (the guest's
# console) on this function's stdout, and its stderr (genvm's own warnings)
# stamped and appended to LOG by a stamper of its own; the exit status goes
# to LOG.rc.  The serial console drains after the guest's shell has moved
# on, so a warning written between two console writes would land inside a
# console line if both shared one stream; two stampers append whole lines.
vmm_stderr_apart() {
	_sa_log=$1
	shift
	{
		{ "$@" </dev/null 3>&-; echo "$?" >"$_sa_log.rc"; } 2>&1 1>&3 3>&- |
			stamp_lines >>"$_sa_log"
	} 3>&1
}

# vm_boot LOG APPEND [VMM ARGS...]
# Boots the test guest with "e2e=..." words in APPEND and writes its console
# to LOG as "UPTIME LINE"; the last line is "UPTIME VMM-EXIT: STATUS", stamped
# when the VMM exited.  STATUS 124 or 143 means the boot timed out.
vm_boot() {
	_log=$1 _append=$2
	shift 2
	if [ ! -x "$GENVM" ]; then
		echo "0 VMM-EXIT: 127 (no executable VMM at '${GENVM_HOST:-$GENVM}': build genvm or set GENVM)" >"$_log"
		return 0
	fi
	read -r _t0 _ </proc/uptime
	: >"$_log"
	{
		vmm_stderr_apart "$_log" timeout "$E2E_TIMEOUT" "$GENVM" \
			-m "$E2E_MEM" -smp "$E2E_SMP" \
			-kernel "$E2E_KERNEL" -initrd "$E2E_INITRD" \
			-append "$E2E_APPEND_BASE $_append" \
			-nographic -no-reboot "$@"
		echo
		echo "VMM-EXIT: $(cat "$_log.rc")"
	} | stamp_lines >>"$_log"
	# Timings as diagnostics: under nesting they are the only record of them.
	awk -v t0="$_t0" -v what="$_append" '
		/VMGENID-E2E: init$/ && !init { init = $1 - t0 }
		/VMM-EXIT: / { exit_t = $1 - t0; st = $3 }
		END { printf "# %s: /init after %.2f s, VMM exit %s after %.2f s\n",
			what, init, st, exit_t }' "$_log"
}

# vm_start LOG APPEND [VMM ARGS...]
# Like vm_boot, but in the background and without -no-reboot (add it to the
# arguments if wanted): the test talks to the VMM while the guest runs.
# VM_PID is the VMM's pid; vm_wait_exit collects it.
vm_start() {
	_log=$1 _append=$2
	shift 2
	_pidf=$E2E_WORK/vmm.pid.$$
	rm -f "$_pidf"
	: >"$_log"
	{
		vmm_stderr_apart "$_log" sh -c 'echo $$ >"$0"; exec "$@"' "$_pidf" \
			timeout "$E2E_TIMEOUT" "$GENVM" \
			-m "$E2E_MEM" -smp "$E2E_SMP" \
			-kernel "$E2E_KERNEL" -initrd "$E2E_INITRD" \
			-append "$E2E_APPEND_BASE $_append" -nographic "$@"
		echo
		echo "VMM-EXIT: $(cat "$_log.rc")"
	} | stamp_lines >>"$_log" &
	VM_JOB=$!
	_n=0
	while [ ! -s "$_pidf" ] && [ "$_n" -lt 200 ]; do
		sleep 0.05
		_n=$((_n + 1))
	done
	# Never empty: kill -0 and kill on it must not mean "this process group".
	VM_PID=$(cat "$_pidf" 2>/dev/null)
	VM_PID=${VM_PID:-$VM_JOB}
}

# vm_wait_for LOG PATTERN [SECONDS] [COUNT]: until COUNT (default 1) console
# lines match the grep pattern, or the VMM exits, or SECONDS pass.
vm_wait_for() {
	_n=0
	while [ "$_n" -lt $((${3:-$E2E_TIMEOUT} * 10)) ]; do
		[ "$(grep -c -e "$2" "$1")" -ge "${4:-1}" ] && return 0
		grep -q 'VMM-EXIT: ' "$1" && return 1
		sleep 0.1
		_n=$((_n + 1))
	done
	return 1
}

# vm_wait_exit [SECONDS]: wait for the background VMM; kill it after SECONDS.
vm_wait_exit() {
	_n=0
	while kill -0 "$VM_PID" 2>/dev/null && [ "$_n" -lt $((${1:-30} * 10)) ]; do
		sleep 0.1
		_n=$((_n + 1))
	done
	kill "$VM_PID" 2>/dev/null
	wait "$VM_JOB" 2>/dev/null
}

# marker LOG KEY: the value of the guest's first "VMGENID-E2E: KEY=VALUE".
marker() {
	sed -n "s/.*VMGENID-E2E: $2=//p" "$1" | head -n 1
}

# marker_lines LOG KEY: every "VMGENID-E2E: KEY: TEXT", as TEXT.
marker_lines() {
	sed -n "s/.*VMGENID-E2E: $2: //p" "$1"
}

# marker_time LOG WORD: host uptime when "VMGENID-E2E: WORD" appeared.
marker_time() {
	sed -n "s/^\([0-9.]*\) .*VMGENID-E2E: $2\$/\1/p" "$1" | head -n 1
}

vmm_status() {
	sed -n 's/^[0-9.]* VMM-EXIT: \([0-9]*\).*/\1/p' "$1" | tail -n 1
}

vmm_exit_time() {
	sed -n 's/^\([0-9.]*\) VMM-EXIT: .*/\1/p' "$1" | tail -n 1
}

# Why a boot produced nothing useful, in one line.
vmm_exit_reason() {
	_st=$(vmm_status "$1")
	case $_st in
	124 | 143) echo "the VMM was killed after ${E2E_TIMEOUT}s (timeout)" ;;
	127) sed -n 's/^[0-9.]* VMM-EXIT: 127 *//p' "$1" | tr -d '()' ;;
	'') echo "the VMM's exit status is unknown" ;;
	*)
		# L1's busybox timeout passes on genvm's own status (1 on SIGTERM).
		if grep -q 'genvm: terminating on signal 15' "$1"; then
			echo "the VMM was ended by SIGTERM (its ${E2E_TIMEOUT}s timeout, or a kill)"
		else
			echo "the VMM exited with status $_st"
		fi ;;
	esac
}

console_tail() {
	echo "console tail ($1):"
	grep -v '^[0-9.]* $' "$1" | tail -n "${2:-20}" | sed 's/^[0-9.]* /| /'
}

# tap NAME LOG CHECK [ARGS...]: runs CHECK, which prints why it failed.
tap() {
	_name=$1 _tlog=$2
	shift 2
	if _why=$("$@" 2>&1); then
		echo "ok - $_name"
	else
		echo "not ok - $_name"
		[ -z "$_why" ] || printf '%s\n' "$_why" | sed 's/^/# /'
		# A guest that died and came back earlier than the tail shows
		# (run.sh retries a scenario whose output names a triple fault).
		[ ! -f "$_tlog" ] || grep -e 'genvm: vcpu [0-9]*: triple fault' -e 'Kernel panic' "$_tlog" |
			head -n 3 | sed 's/^[0-9.]* /# earlier: /'
		console_tail "$_tlog" | sed 's/^/# /'
	fi
}

# expect_marker LOG KEY VALUE
expect_marker() {
	_got=$(marker "$1" "$2")
	[ "$_got" = "$3" ] && return 0
	if [ -z "$_got" ]; then
		echo "the guest printed no $2= marker; $(vmm_exit_reason "$1")"
	else
		echo "$2: expected '$3', got '$_got'"
	fi
	return 1
}

expect_booted() {
	grep -q 'VMGENID-E2E: done$' "$1" && return 0
	if grep -q 'VMGENID-E2E: init$' "$1"; then
		echo "/init started but did not finish its scenario; $(vmm_exit_reason "$1")"
	else
		echo "the guest never reached /init; $(vmm_exit_reason "$1")"
	fi
	return 1
}

# float_le A B MAX: true when B - A <= MAX.
float_le() {
	awk -v a="$1" -v b="$2" -v m="$3" 'BEGIN { exit !(b - a <= m) }'
}

# The text form (RFC 4122 order) of a GUID read from guest memory (LE layout).
le_to_uuid() {
	echo "$1" | awk '{ printf "%s%s%s%s-%s%s-%s%s-%s-%s\n",
		substr($0,7,2), substr($0,5,2), substr($0,3,2), substr($0,1,2),
		substr($0,11,2), substr($0,9,2), substr($0,15,2), substr($0,13,2),
		substr($0,17,4), substr($0,21,12) }'
}

# ---- a scenario's own initramfs (t_virtio.sh, t_vsock.sh) ----

# initrd_unpack DIR MODULE...: DIR, emptied first, holds the suite's
# initramfs plus lib/modules/MODULE.ko for each MODULE, taken from the
# kernel package: in the nested L1 at /lib/modules, on the host beside
# the kernel.
initrd_unpack() {
	_ir=$1
	shift
	if [ -n "${VMGENID_E2E_L1:-}" ]; then _md=/lib/modules; else _md=$(dirname "$E2E_KERNEL")/modules; fi
	rm -rf "$_ir"
	mkdir -p "$_ir" && (cd "$_ir" && gzip -dc "$E2E_INITRD" | cpio -id 2>/dev/null) || return 1
	for _m in "$@"; do
		cp "$_md/$_m.ko" "$_ir/lib/modules/" || return 1
	done
}

# initrd_pack DIR FILE: DIR as a gzipped newc initramfs in FILE.
initrd_pack() {
	(cd "$1" && find . | cpio -o -H newc 2>/dev/null) | gzip -1 >"$2"
}

# expect_refused TEXT ARGS...: genvm given the suite's kernel, initrd and
# ARGS refuses to start: exit status 1 and one line "genvm: ...TEXT...".
expect_refused() {
	_want=$1
	shift
	_out=$("$GENVM" -kernel "$E2E_KERNEL" -initrd "$E2E_INITRD" "$@" 2>&1 </dev/null)
	_rc=$?
	[ "$_rc" = 1 ] || { echo "exit status $_rc: $_out"; return 1; }
	[ "$(printf '%s\n' "$_out" | wc -l)" = 1 ] || { echo "more than one line: $_out"; return 1; }
	case $_out in
	"genvm: "*"$_want"*) ;;
	*) echo "expected '$_want' in: $_out"; return 1 ;;
	esac
}

# ---- QMP, saves and clones (t_snapshot.sh, t_faults.sh) ----

# qmp SOCK COMMAND [ARGS]: genvm-qmp with a 20 s limit.
qmp() {
	_sock=$1
	shift
	"$GENVM_QMP" -t 20 "$_sock" "$@"
}

# wait_migrated SOCK: polls query-migrate until the save is over; prints the
# last reply.  True only for "completed".
wait_migrated() {
	_n=0
	while [ "$_n" -lt $((E2E_TIMEOUT * 10)) ]; do
		_st=$(qmp "$1" query-migrate 2>&1)
		case $_st in
		*'"status": "completed"'*) echo "$_st"; return 0 ;;
		*'"status": "failed"'* | *'"status": "cancelled"'* | genvm-qmp:*)
			echo "$_st"; return 1 ;;
		esac
		sleep 0.1
		_n=$((_n + 1))
	done
	echo "still not completed after ${E2E_TIMEOUT}s: $_st"
	return 1
}

# qmp_save SOCK URI: QMP migrate to URI, then wait_migrated.  Silent and
# true when the save completed; else one line on what failed.
qmp_save() {
	_qs=$(qmp "$1" migrate "{\"uri\": \"$2\"}" 2>&1) || { echo "migrate: $_qs"; return 1; }
	_qs=$(wait_migrated "$1") || { echo "query-migrate: $_qs"; return 1; }
}

# ticks_after LOG [PATTERN]: tick lines after the first PATTERN line (all of
# them without one).
ticks_after() {
	awk -v p="${2:-}" 'p == "" || index($0, p) { seen = 1 }
		seen && /VMGENID-E2E: tick / { n++ }
		END { print n + 0 }' "$1"
}

# wait_ticks LOG N [PATTERN]: until N ticks follow PATTERN, the VMM exits or
# $wait_limit seconds pass.
wait_limit=$E2E_TIMEOUT
wait_ticks() {
	_n=0
	while [ "$_n" -lt $((wait_limit * 10)) ]; do
		[ "$(ticks_after "$1" "${3:-}")" -ge "$2" ] && return 0
		grep -q 'VMM-EXIT: ' "$1" && return 1
		sleep 0.1
		_n=$((_n + 1))
	done
	return 1
}

# clone_start NAME URI GUID-ARG [VMM ARGS...]: a restore in the background
# with its own QMP socket; its log is $E2E_WORK/clone-NAME.log.
clone_start() {
	_cn=$1 _cu=$2 _cg=$3
	shift 3
	vm_start "$E2E_WORK/clone-$_cn.log" e2e=snapshot -device "vmgenid,guid=$_cg" \
		-qmp "unix:$E2E_WORK/clone-$_cn.sock,server=on,wait=off" -incoming "$_cu" "$@"
	eval "clone_pid_$_cn=\$VM_PID clone_job_$_cn=\$VM_JOB"
}

clone_stop() {
	qmp "$E2E_WORK/clone-$1.sock" quit >/dev/null 2>&1
	eval "VM_PID=\$clone_pid_$1 VM_JOB=\$clone_job_$1"
	vm_wait_exit 10
}

clone_guid() {
	qmp "$E2E_WORK/clone-$1.sock" query-vm-generation-id 2>&1 |
		sed -n 's/^{"guid": "\(.*\)"}$/\1/p'
}

# wait_socket PATH [SECONDS]: until a -qmp unix: socket exists (a VMM just
# started may not have made it yet), or SECONDS (10) pass.
wait_socket() {
	_n=0
	while [ ! -S "$1" ] && [ "$_n" -lt $((${2:-10} * 10)) ]; do
		sleep 0.1
		_n=$((_n + 1))
	done
}
