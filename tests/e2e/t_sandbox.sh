#!/bin/sh
# -sandbox: every other scenario runs under the default (on); this one looks
# at the filters from outside.  With the sandbox on every genvm thread has a
# seccomp filter, vCPU threads made by system_reset too, and the command
# helper has none (but no_new_privs); with -sandbox off no thread has one;
# spawn=deny refuses an exec: save and the guest runs on; a -sandbox value
# genvm cannot honour is refused before any guest runs.
. "$(dirname "$0")/lib.sh"

q=$E2E_WORK/sandbox.sock

qmp() {
	"$GENVM_QMP" -t 20 "$q" "$@"
}

# The pid of genvm: vm_start's VM_PID, or its child where timeout(1)
# forks the command (coreutils) rather than becoming it (busybox).
genvm_pid() {
	[ "$(cat "/proc/$VM_PID/comm" 2>/dev/null)" = genvm ] && { echo "$VM_PID"; return 0; }
	for _d in /proc/[0-9]*; do
		read -r _stat <"$_d/stat" 2>/dev/null || continue
		# pid (comm) state ppid ...: the comm has no spaces here.
		set -- $_stat
		[ "$4" = "$VM_PID" ] && [ "$2" = "(genvm)" ] && { echo "$1"; return 0; }
	done
	return 1
}

# children PID: the processes whose parent is PID.
children() {
	_parent=$1
	for _d in /proc/[0-9]*; do
		read -r _stat <"$_d/stat" 2>/dev/null || continue
		set -- $_stat
		[ "$4" = "$_parent" ] && echo "$1"
	done
}

status_field() {
	sed -n "s/^$2:[[:space:]]*//p" "$1/status"
}

# threads_in_mode PID MODE: every thread of PID has Seccomp MODE (0 none,
# 2 filter); prints the threads otherwise.
threads_in_mode() {
	_n=0
	_bad=
	for _t in /proc/"$1"/task/*; do
		_n=$((_n + 1))
		_m=$(status_field "$_t" Seccomp)
		[ "$_m" = "$2" ] || _bad="$_bad ${_t##*/}:$(cat "$_t/comm")=$_m"
	done
	[ "$_n" -ge 2 ] || { echo "genvm $1 has $_n thread(s): no vCPU thread?"; return 1; }
	[ -z "$_bad" ] && return 0
	echo "threads of genvm $1 not in seccomp mode $2:$_bad"
	return 1
}

# ---- on (the default) ----

log=$E2E_WORK/sandbox-on.log
vm_start "$log" "e2e=idle e2e_idle=600" -qmp "unix:$q,server=on,wait=off"
vm_wait_for "$log" 'VMGENID-E2E: ready' >/dev/null
pid=$(genvm_pid)

check_on() {
	[ -n "$pid" ] || { echo "no genvm process under $VM_PID; $(vmm_exit_reason "$log")"; return 1; }
	threads_in_mode "$pid" 2 || return 1
	_helpers=$(children "$pid")
	[ -n "$_helpers" ] || { echo "genvm $pid has no command helper process"; return 1; }
	for _h in $_helpers; do
		_m=$(status_field "/proc/$_h" Seccomp)
		_p=$(status_field "/proc/$_h" NoNewPrivs)
		[ "$_m" = 0 ] && [ "$_p" = 1 ] ||
			{ echo "helper $_h: Seccomp $_m, NoNewPrivs $_p (want 0 and 1)"; return 1; }
	done
}
tap "sandbox: on by default: every genvm thread has a filter, the command helper none" \
	"$log" check_on

# system_reset makes new vCPU threads from the sandboxed main loop.
"$GENVM_QMP" -w RESET -t 20 "$q" system_reset >/dev/null 2>&1
vm_wait_for "$log" 'VMGENID-E2E: ready' "$E2E_TIMEOUT" 2 >/dev/null
check_reset() {
	[ "$(grep -c 'VMGENID-E2E: ready' "$log")" -ge 2 ] ||
		{ echo "the guest did not boot again after system_reset; $(vmm_exit_reason "$log")"; return 1; }
	! grep -q 'forbidden system call' "$log" || { grep 'forbidden' "$log"; return 1; }
	threads_in_mode "$pid" 2
}
tap "sandbox: after system_reset the guest boots again under the filters" "$log" check_reset

on_quit=$(qmp quit 2>&1)
vm_wait_exit 20
check_quit_on() {
	[ "$on_quit" = '{}' ] || { echo "quit answered '$on_quit'"; return 1; }
	[ "$(vmm_status "$log")" = 0 ] || { echo "$(vmm_exit_reason "$log")"; return 1; }
}
tap "sandbox: quit under the sandbox exits 0" "$log" check_quit_on

# ---- off ----

log=$E2E_WORK/sandbox-off.log
rm -f "$q"
vm_start "$log" "e2e=idle e2e_idle=600" -sandbox off -qmp "unix:$q,server=on,wait=off"
vm_wait_for "$log" 'VMGENID-E2E: ready' >/dev/null
pid=$(genvm_pid)
check_off() {
	[ -n "$pid" ] || { echo "no genvm process under $VM_PID; $(vmm_exit_reason "$log")"; return 1; }
	grep -q 'VMGENID-E2E: ready' "$log" || { echo "the guest did not boot"; return 1; }
	threads_in_mode "$pid" 0 || return 1
	[ -z "$(children "$pid")" ] ||
		{ echo "genvm $pid has a child process: $(children "$pid")"; return 1; }
}
tap "sandbox: -sandbox off boots, no thread has a filter and there is no helper" "$log" check_off
qmp quit >/dev/null 2>&1
vm_wait_exit 20

# ---- spawn=deny ----

log=$E2E_WORK/sandbox-deny.log
rm -f "$q"
vm_start "$log" "e2e=idle e2e_idle=600" -sandbox on,spawn=deny -qmp "unix:$q,server=on,wait=off"
vm_wait_for "$log" 'VMGENID-E2E: ready' >/dev/null
pid=$(genvm_pid)
deny_reply=$(qmp migrate "{\"uri\": \"exec:cat > $E2E_WORK/deny.snap\"}" 2>&1)
deny_status=$(qmp query-status 2>&1)
check_deny() {
	[ -n "$pid" ] || { echo "no genvm process under $VM_PID; $(vmm_exit_reason "$log")"; return 1; }
	case $deny_reply in
	*'-sandbox on,spawn=deny forbids starting commands'*) ;;
	*) echo "migrate exec: answered '$deny_reply'"; return 1 ;;
	esac
	[ ! -e "$E2E_WORK/deny.snap" ] || { echo "$E2E_WORK/deny.snap was written"; return 1; }
	case $deny_status in
	*'"status": "running"'*) ;;
	*) echo "query-status after the refusal: $deny_status"; return 1 ;;
	esac
	threads_in_mode "$pid" 2 || return 1
	[ -z "$(children "$pid")" ] ||
		{ echo "genvm $pid has a child process: $(children "$pid")"; return 1; }
}
tap "sandbox: spawn=deny refuses migrate exec: with a reason; the guest runs on" "$log" check_deny
qmp quit >/dev/null 2>&1
vm_wait_exit 20

# ---- refusals ----

bad_out=$("$GENVM" -sandbox maybe -kernel "$E2E_KERNEL" 2>&1)
bad_rc=$?
allow_out=$("$GENVM" -sandbox on,obsolete=allow -kernel "$E2E_KERNEL" 2>&1)
allow_rc=$?
check_refusals() {
	[ "$bad_rc" = 1 ] && [ "$bad_out" = "genvm: -sandbox maybe: Parameter 'enable' expects 'on' or 'off'" ] ||
		{ echo "-sandbox maybe: status $bad_rc, said '$bad_out'"; return 1; }
	[ "$allow_rc" = 1 ] && case $allow_out in
		'genvm: -sandbox on,obsolete=allow: genvm makes no obsolete system calls'*) ;;
		*) false ;;
		esac ||
		{ echo "-sandbox on,obsolete=allow: status $allow_rc, said '$allow_out'"; return 1; }
}
tap "sandbox: a bad or unsupported -sandbox value is refused before any guest runs" \
	"$E2E_WORK/sandbox-deny.log" check_refusals
