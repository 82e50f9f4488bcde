#!/bin/sh
# QMP and the human monitor, against one guest that boots twice (the second
# time after system_reset) and is powered off with system_powerdown, plus a
# few -S instances that run no guest at all.  The guest's /init (e2e=qmp)
# reports the GUID it reads from memory, then prints a counter ten times a
# second: stop must freeze it, garbage on the QMP socket must not.
. "$(dirname "$0")/lib.sh"

GUID=5d3f0c7e-9a1b-4c2d-8e4f-60718293a4b5
q=$E2E_WORK/qmp.sock
h=$E2E_WORK/hmp.sock
log=$E2E_WORK/qmp.log

# qmp [ARGS...]: one command through genvm-qmp (prints the return value).
qmp() {
	"$GENVM_QMP" -t 20 "$q" "$@"
}

# raw SOCKET [LINES]: stdin to the socket unframed; what comes back (until
# LINES lines, the hang-up or a quiet second), without CRs.
raw() {
	"$GENVM_QMP" --raw ${2:+--lines "$2"} -t "${RAW_T:-2}" "$1" | tr -d '\r'
}

ticks() {
	grep -c 'VMGENID-E2E: tick ' "$log"
}

# hmc LINE: a human monitor command's output, through QMP.
hmc() {
	qmp human-monitor-command "{\"command-line\": \"$1\"}" |
		sed -e 's/^"//' -e 's/"$//' -e 's/\\r\\n/\n/g'
}

# A counter that stops: where the guest's vCPU is, twice, to tell a guest
# that waits (HLT=1, the same RIP) from one that spins.
guest_where() {
	for _i in 1 2; do
		hmc "info registers" | grep -e '^RIP=' -e '^CS =' | sed 's/^/  /'
		sleep 0.5
	done
}

# The value of the guest's last "VMGENID-E2E: KEY=VALUE" (the latest boot).
last_marker() {
	sed -n "s/.*VMGENID-E2E: $2=//p" "$1" | tail -n 1
}

# has TEXT LINE...: TEXT contains each LINE as a whole line.
has() {
	_text=$1
	shift
	for _l in "$@"; do
		printf '%s\n' "$_text" | grep -qxF -e "$_l" && continue
		echo "missing: $_l"
		echo "got:"
		printf '%s\n' "$_text" | sed 's/^/  /'
		return 1
	done
}

alive() {
	kill -0 "$VM_PID" 2>/dev/null && return 0
	echo "the VMM is gone: $(vmm_exit_reason "$log")"
	return 1
}

if [ ! -x "$GENVM_QMP" ]; then
	echo "not ok - qmp: the QMP client '$GENVM_QMP' is missing (build genvm-qmp)"
	exit 0
fi

# ---- one guest: boot, reset, power off ----

# This one guest lives through most of the scenario (250 s nested on a busy
# host), so its lifetime bound is three of the usual, like t_net's; the
# waits below keep the usual bound.
E2E_TIMEOUT=$((E2E_TIMEOUT * 3)) vm_start "$log" e2e=qmp -device "vmgenid,guid=$GUID" \
	-qmp "unix:$q,server=on,wait=on" -monitor "unix:$h,server=on,wait=off"
sleep 2

check_wait_on() {
	alive || return 1
	[ -S "$q" ] || { echo "no socket at $q"; return 1; }
	grep -q 'waiting for a connection' "$log" ||
		{ echo "no 'waiting for a connection' notice"; return 1; }
	# Nothing from the guest: its vCPUs wait for the first client.
	if grep -v -e 'waiting for a connection' -e '^[0-9.]* *$' "$log" | grep -q .; then
		echo "output before the first QMP client connected:"
		sed 's/^/  /' "$log"
		return 1
	fi
}
tap "qmp: wait=on holds the guest until the first client connects" "$log" check_wait_on

greeting=$(raw "$q" 1 </dev/null)
check_greeting() {
	case $greeting in
	'{"QMP": {"version": {"qemu": {"micro": 0, "minor": 2, "major": 7}, "package": "genvm '*'"}, "capabilities": []}}')
		return 0 ;;
	esac
	echo "greeting: '$greeting'"
	return 1
}
tap "qmp: greeting has QEMU's shape (version 7.2.0, package genvm, no capabilities)" "$log" \
	check_greeting

nego=$(printf '%s\n' '{"execute": "query-status", "id": 1}' \
	'{"execute": "qmp_capabilities", "id": 2}' '{"execute": "qmp_capabilities", "id": 3}' \
	'{"execute": "query-version", "id": {"n": [4]}}' | raw "$q" 5)
check_negotiation() {
	has "$nego" \
		'{"error": {"class": "CommandNotFound", "desc": "Expecting capabilities negotiation with '"'qmp_capabilities'"'"}, "id": 1}' \
		'{"return": {}, "id": 2}' \
		'{"error": {"class": "CommandNotFound", "desc": "Capabilities negotiation is already complete, command ignored"}, "id": 3}' ||
		return 1
	printf '%s\n' "$nego" | grep -q '^{"return": {"qemu": {"micro": 0, "minor": 2, "major": 7}, "package": "genvm .*"}, "id": {"n": \[4\]}}$' ||
		{ echo "no query-version reply with id {\"n\": [4]}:"; echo "$nego"; return 1; }
}
tap "qmp: commands refused until qmp_capabilities, negotiation once, id echoed" "$log" \
	check_negotiation

booted=0
vm_wait_for "$log" 'VMGENID-E2E: ready$' "$E2E_TIMEOUT" && booted=1
check_ready() {
	[ "$booted" = 1 ] && return 0
	echo "the guest did not reach its QMP scenario; $(vmm_exit_reason "$log")"
	return 1
}
tap "qmp: guest boots once a client has connected" "$log" check_ready

check_guid() {
	got=$(qmp query-vm-generation-id) || { echo "query-vm-generation-id failed"; return 1; }
	[ "$got" = "{\"guid\": \"$GUID\"}" ] || { echo "got '$got'"; return 1; }
	le=$(marker "$log" guid_le)
	[ "$(le_to_uuid "$le")" = "$GUID" ] ||
		{ echo "the guest reads '$(le_to_uuid "$le")' (LE '$le') from memory"; return 1; }
}
tap "qmp: query-vm-generation-id is {\"guid\": \"$GUID\"}, what the guest reads from memory" \
	"$log" check_guid

check_shapes() {
	st=$(qmp query-status)
	[ "$st" = '{"status": "running", "singlestep": false, "running": true}' ] ||
		{ echo "query-status: '$st'"; return 1; }
	v=$(qmp query-version)
	case $v in
	'{"qemu": {"micro": 0, "minor": 2, "major": 7}, "package": "genvm '*'"}') ;;
	*) echo "query-version: '$v'"; return 1 ;;
	esac
	cmds=$(qmp query-commands)
	for c in qmp_capabilities query-commands query-version query-status \
		query-vm-generation-id stop cont system_reset system_powerdown quit \
		human-monitor-command; do
		case $cmds in
		*"{\"name\": \"$c\"}"*) ;;
		*) echo "query-commands lacks $c: $cmds"; return 1 ;;
		esac
	done
	hmc=$(qmp human-monitor-command '{"command-line": "info vm-generation-id"}')
	[ "$hmc" = "\"$GUID\\r\\n\"" ] || { echo "human-monitor-command: '$hmc'"; return 1; }
}
tap "qmp: query-status, query-version, query-commands, human-monitor-command reply shapes" \
	"$log" check_shapes

check_stop_cont() {
	alive || return 1
	ev=$("$GENVM_QMP" -w STOP -t 5 "$q" stop)
	has "$ev" '{}' || return 1
	printf '%s\n' "$ev" | grep -q '"event": "STOP"' || { echo "no STOP event: $ev"; return 1; }
	st=$(qmp query-status)
	[ "$st" = '{"status": "paused", "singlestep": false, "running": false}' ] ||
		{ echo "query-status when stopped: '$st'"; return 1; }
	# A line under way when the vCPUs stopped may still complete.
	sleep 0.3
	a=$(ticks)
	sleep 1.5
	b=$(ticks)
	ev=$("$GENVM_QMP" -w RESUME -t 5 "$q" cont)
	printf '%s\n' "$ev" | grep -q '"event": "RESUME"' || { echo "no RESUME event: $ev"; return 1; }
	sleep 1.5
	c=$(ticks)
	[ "$b" -eq "$a" ] || { echo "the counter went on while stopped: $a -> $b"; return 1; }
	[ "$c" -ge $((b + 3)) ] ||
		{ echo "the counter did not resume: $b -> $c in 1.5 s"; guest_where; return 1; }
}
tap "qmp: stop freezes the guest's counter (STOP, paused), cont resumes it (RESUME)" \
	"$log" check_stop_cont

# Banner, then each command echoed after the prompt and its output: 11 lines.
hmp_out=$(printf 'info vm-generation-id\r\nstop\r\ninfo status\r\ncont\r\ninfo status\r\nbogus\r\n' |
	raw "$h" 11)
check_hmp() {
	has "$hmp_out" "$GUID" "VM status: paused" "VM status: running" \
		"unknown command: 'bogus'" ||
		return 1
	printf '%s\n' "$hmp_out" | grep -q "^genvm .* monitor - type 'help' for more information$" ||
		{ echo "no banner: $hmp_out"; return 1; }
	printf '%s\n' "$hmp_out" | grep -q '^(qemu) ' || { echo "no (qemu) prompt"; return 1; }
	alive
}
tap "monitor: info vm-generation-id prints the GUID; stop/cont/info status" "$log" check_hmp

# The guest runs its tick loop in 64-bit mode, kernel or user: CS is a
# 64-bit code segment, EFER has LMA, CR0 has PE and PG.
check_registers() {
	alive || return 1
	regs=$(hmc "info registers")
	for re in '^RAX=[0-9a-f]\{16\} RBX=[0-9a-f]\{16\} RCX=' \
		'^RIP=[0-9a-f]\{16\} RFL=[0-9a-f]\{8\} \[[-DOSZAPC]\{7\}\] CPL=[03] ' \
		'^CS =[0-9a-f]\{4\} [0-9a-f]\{16\} [0-9a-f]\{8\} [0-9a-f]\{8\} DPL=[03] CS64 \[' \
		'^GDT=     [0-9a-f]\{16\} ' '^CR0=[0-9a-f]\{8\} CR2=' '^EFER=[0-9a-f]\{16\}$'; do
		printf '%s\n' "$regs" | grep -q "$re" && continue
		echo "info registers: no line matching $re in:"
		printf '%s\n' "$regs" | sed 's/^/  /'
		return 1
	done
	efer=$(printf '%s\n' "$regs" | sed -n 's/^EFER=//p')
	cr0=$(printf '%s\n' "$regs" | sed -n 's/^CR0=\([0-9a-f]*\) .*/\1/p')
	[ $((0x$efer & 0x400)) -ne 0 ] || { echo "EFER=$efer lacks LMA"; return 1; }
	[ $((0x$cr0 & 0x80000001)) -eq $((0x80000001)) ] || { echo "CR0=$cr0 lacks PE|PG"; return 1; }
	all=$(hmc "info registers -a")
	printf '%s\n' "$all" | grep -qx 'CPU#0' || { echo "info registers -a has no CPU#0 line"; return 1; }
	[ "$(printf '%s\n' "$all" | grep -c '^RIP=')" = 1 ] ||
		{ echo "info registers -a on one vCPU:"; printf '%s\n' "$all"; return 1; }
	has "$(hmc "info registers 1")" "CPU#1 not available" || return 1
	has "$(hmc "info registers x")" "Error: 'x' is not -a or a vCPU index" || return 1
	has "$(hmc "info status extra")" "info: extraneous characters at the end of line" || return 1
	# Read without stopping the guest for good.
	st=$(qmp query-status)
	[ "$st" = '{"status": "running", "singlestep": false, "running": true}' ] ||
		{ echo "query-status after info registers: '$st'"; return 1; }
}
tap "monitor: info registers shows vCPU 0 in 64-bit mode; -a, bad vCPU, still running" \
	"$log" check_registers

# ---- garbage: the guest must not notice ----

g0=$(ticks)
bad_json=$(printf '%s\n' '{"execute": "qmp_capabilities"}' '{"execute": query-status}' \
	'{"execute": "query-status"}' | raw "$q" 4)
bad_args=$(printf '%s\n' '{"execute": "qmp_capabilities"}' '{"execute": "no-such-command"}' \
	'{"execute": "human-monitor-command", "arguments": {"command-line": 5}}' \
	'{"execute": "query-status", "arguments": {"verbose": true}}' \
	'{"execute": "human-monitor-command"}' '[]' | raw "$q" 7)
oversize=$( {
	printf '%s\n{"execute": "' '{"execute": "qmp_capabilities"}'
	dd if=/dev/zero bs=1024 count=70 2>/dev/null | tr '\000' a
	printf '"}\n{"execute": "query-status"}\n'
} | raw "$q")
# A request cut short swallows the next (as in QEMU); ESC and a newline get
# the session back: one error, then requests are answered again.
resync=$( {
	printf '%s\n' '{"execute": "qmp_capabilities"}' '{"execute": ' '{"execute": "query-status"}'
	printf '\033\n'
	printf '%s\n' '{"execute": "query-status"}' '{"execute": "stop"}' '{"execute": "cont"}'
} | raw "$q" 8)
# Leaves right after the reply to qmp_capabilities, mid-request.
printf '%s\n%s' '{"execute": "qmp_capabilities"}' '{"execute": "query-sta' |
	raw "$q" 2 >/dev/null
after_cut=$(qmp query-status)
flood_n=2000
flood=$( {
	echo '{"execute": "qmp_capabilities"}'
	i=0
	while [ $i -lt $flood_n ]; do
		echo '{"execute": "query-status"}'
		i=$((i + 1))
	done
} | raw "$q" $((flood_n + 2)) | grep -c '"return"')

check_bad_json() {
	printf '%s\n' "$bad_json" | grep -q '^{"error": {"class": "GenericError", "desc": "JSON parse error, .*"}}$' ||
		{ echo "no JSON parse error: $bad_json"; return 1; }
	printf '%s\n' "$bad_json" | tail -n 1 | grep -q '^{"return": {"status": "running"' ||
		{ echo "the session did not go on: $bad_json"; return 1; }
}
tap "qmp: invalid JSON gets GenericError 'JSON parse error, ...', the session goes on" "$log" \
	check_bad_json

check_resync() {
	has "$resync" '{"return": {}}' \
		'{"error": {"class": "GenericError", "desc": "JSON parse error, stray '"'\\u001B'"'"}}' \
		'{"return": {"status": "running", "singlestep": false, "running": true}}' || return 1
	[ "$(printf '%s\n' "$resync" | grep -c '"error"')" = 1 ] ||
		{ echo "not exactly one error: $resync"; return 1; }
	[ "$(printf '%s\n' "$resync" | grep -c '"status"')" = 1 ] ||
		{ echo "the swallowed query-status was answered: $resync"; return 1; }
	[ "$(printf '%s\n' "$resync" | grep -cx '{"return": {}}')" = 3 ] ||
		{ echo "qmp_capabilities, stop and cont not all answered: $resync"; return 1; }
	printf '%s\n' "$resync" | grep -q '"event": "STOP"' &&
		printf '%s\n' "$resync" | grep -q '"event": "RESUME"' ||
		{ echo "no STOP and RESUME events: $resync"; return 1; }
}
tap "qmp: ESC and a newline drop a cut request with one 'stray' error; stop, cont answered after" \
	"$log" check_resync

check_bad_args() {
	has "$bad_args" \
		'{"error": {"class": "CommandNotFound", "desc": "The command no-such-command has not been found"}}' \
		'{"error": {"class": "GenericError", "desc": "Invalid parameter type for '"'command-line'"', expected: string"}}' \
		'{"error": {"class": "GenericError", "desc": "Parameter '"'verbose'"' is unexpected"}}' \
		'{"error": {"class": "GenericError", "desc": "Parameter '"'command-line'"' is missing"}}' \
		'{"error": {"class": "GenericError", "desc": "QMP input must be a JSON object"}}'
}
tap "qmp: unknown command, wrong-typed, unexpected and missing arguments: QEMU's errors" "$log" \
	check_bad_args

check_oversize() {
	has "$oversize" \
		'{"error": {"class": "GenericError", "desc": "QMP request too large (limit 65536 bytes), closing"}}' ||
		return 1
	if printf '%s\n' "$oversize" | grep -q '"status"'; then
		echo "the connection stayed open after the oversized request"
		return 1
	fi
}
tap "qmp: a 70 KiB request gets an error and the connection is closed" "$log" check_oversize

check_cut() {
	[ "$after_cut" = '{"status": "running", "singlestep": false, "running": true}' ] ||
		{ echo "after a client left mid-request, query-status says '$after_cut'"; return 1; }
}
tap "qmp: a client leaving mid-request does not disturb the next one" "$log" check_cut

check_flood() {
	[ "$flood" -eq $((flood_n + 1)) ] ||
		{ echo "$flood replies to $flood_n requests sent at once (+ qmp_capabilities)"; return 1; }
}
tap "qmp: $flood_n requests sent at once are all answered" "$log" check_flood

check_undisturbed() {
	alive || return 1
	g1=$(ticks)
	sleep 1
	g2=$(ticks)
	[ "$g2" -gt "$g1" ] && [ "$g1" -gt "$g0" ] ||
		{ echo "the guest's counter stalled: $g0 -> $g1 -> $g2"; guest_where; return 1; }
	[ "$(qmp query-status)" = '{"status": "running", "singlestep": false, "running": true}' ]
}
tap "qmp: after all that garbage the guest still runs and counts" "$log" check_undisturbed

# ---- system_reset ----

first_addr=$(marker "$log" addr)
first_boot=$(marker "$log" boot_id)
reset_ev=$("$GENVM_QMP" -w RESET -t 20 "$q" system_reset)
rebooted=0
vm_wait_for "$log" 'VMGENID-E2E: ready$' "$E2E_TIMEOUT" 2 && rebooted=1

check_reset_event() {
	has "$reset_ev" '{}' || return 1
	printf '%s\n' "$reset_ev" |
		grep -q '"event": "RESET", "data": {"guest": false, "reason": "host-qmp-system-reset"}' ||
		{ echo "no RESET event: $reset_ev"; return 1; }
}
tap "qmp: system_reset answers {} and sends RESET (guest: false, host-qmp-system-reset)" "$log" \
	check_reset_event

check_rebooted() {
	[ "$rebooted" = 1 ] || { echo "no second boot; $(vmm_exit_reason "$log")"; return 1; }
	[ "$(grep -c 'VMGENID-E2E: init$' "$log")" = 2 ] || { echo "not exactly two boots"; return 1; }
	b2=$(last_marker "$log" boot_id)
	[ -n "$b2" ] && [ "$b2" != "$first_boot" ] ||
		{ echo "boot_id did not change ('$first_boot' -> '$b2')"; return 1; }
	[ "$(last_marker "$log" driver)" = vmgenid ] || { echo "vmgenid not bound after reset"; return 1; }
}
tap "reset: the guest boots again from the firmware, vmgenid bound" "$log" check_rebooted

check_reset_guid() {
	a2=$(last_marker "$log" addr)
	le2=$(last_marker "$log" guid_le)
	[ -n "$a2" ] && [ $((a2)) -ne 0 ] ||
		{ echo "no GUID address after the reset: the firmware did not write it back"; return 1; }
	[ "$a2" = "$first_addr" ] || echo "# the GUID moved: $first_addr -> $a2" >&2
	[ "$(le_to_uuid "$le2")" = "$GUID" ] ||
		{ echo "after the reset the guest reads $(le_to_uuid "$le2")"; return 1; }
	got=$(qmp query-vm-generation-id)
	[ "$got" = "{\"guid\": \"$GUID\"}" ] || { echo "QMP now says '$got'"; return 1; }
}
tap "reset: firmware wrote the address back, the GUID is unchanged (guest and QMP)" "$log" \
	check_reset_guid

check_no_notify() {
	# genvm says when it notifies; the guest would count the GPE and reseed.
	if grep 'raising GPE' "$log"; then
		echo "genvm notified the guest"
		return 1
	fi
	for key in gpe05 reseeds; do
		for v in $(sed -n "s/.*VMGENID-E2E: $key=\([0-9]*\).*/\1/p" "$log"); do
			[ "$v" = 0 ] || { echo "$key=$v in a boot: the guest was notified"; return 1; }
		done
	done
	[ "$(grep -c 'VMGENID-E2E: gpe05=' "$log")" = 2 ] || { echo "no gpe05 counts"; return 1; }
}
tap "reset: no vmgenid notification in either boot (none sent, GPE 5 count 0, no reseed)" "$log" \
	check_no_notify

# ---- system_powerdown ----

pd_ev=$("$GENVM_QMP" -w SHUTDOWN -t "$E2E_TIMEOUT" "$q" system_powerdown)
vm_wait_exit 30

check_powerdown() {
	printf '%s\n' "$pd_ev" | grep -q '"event": "POWERDOWN"' || { echo "no POWERDOWN: $pd_ev"; return 1; }
	grep -q 'VMGENID-E2E: powerbutton$' "$log" ||
		{ echo "the guest saw no power button press ($(last_marker "$log" power_button))"; return 1; }
	printf '%s\n' "$pd_ev" |
		grep -q '"event": "SHUTDOWN", "data": {"guest": true, "reason": "guest-shutdown"}' ||
		{ echo "no SHUTDOWN (guest-shutdown): $pd_ev"; return 1; }
	[ "$(vmm_status "$log")" = 0 ] || { echo "$(vmm_exit_reason "$log")"; return 1; }
}
tap "qmp: system_powerdown presses the power button, the guest shuts down, genvm exits 0" \
	"$log" check_powerdown

# ---- -S: no guest runs; other channel spellings ----

slog=$E2E_WORK/qmp-S.log
port=$((20000 + $$ % 20000))
# L1 starts with its loopback down.
[ -z "${VMGENID_E2E_L1:-}" ] || ip link set lo up 2>/dev/null || ifconfig lo up 2>/dev/null
vm_start "$slog" e2e=none -S -qmp "tcp:127.0.0.1:$port,server=on,wait=off" -no-reboot
tq=tcp:127.0.0.1:$port
n=0
while ! "$GENVM_QMP" -t 2 "$tq" query-status >/dev/null 2>&1 && [ $n -lt 50 ]; do
	sleep 0.1
	n=$((n + 1))
done
s_status=$("$GENVM_QMP" -t 5 "$tq" query-status)
"$GENVM_QMP" -t 5 "$tq" stop >/dev/null
s_status2=$("$GENVM_QMP" -t 5 "$tq" query-status)
s_guid=$("$GENVM_QMP" -t 5 "$tq" query-vm-generation-id 2>&1)
s_guid_rc=$?
# quit, after a request cut short and 0xFF and a newline to resync.
s_quit=$( {
	printf '%s\n' '{"execute": "qmp_capabilities"}' '{"execute": "query-status", '
	printf '\377\n'
	printf '%s\n' '{"execute": "quit"}'
} | raw "$tq" 5)
log=$slog
vm_wait_exit 10

check_prelaunch() {
	[ "$s_status" = '{"status": "prelaunch", "singlestep": false, "running": false}' ] ||
		{ echo "query-status under -S: '$s_status'"; return 1; }
	[ "$s_status2" = "$s_status" ] || { echo "after stop: '$s_status2'"; return 1; }
	if grep -q 'VMGENID-E2E' "$slog"; then
		echo "a guest ran under -S"
		return 1
	fi
}
tap "-S over tcp: prelaunch, not running; stop keeps it so" "$slog" check_prelaunch

check_no_device() {
	[ "$s_guid_rc" = 1 ] && [ "$s_guid" = "genvm-qmp: GenericError: VM Generation ID device not found" ] ||
		{ echo "without the device: '$s_guid' (exit $s_guid_rc)"; return 1; }
}
tap "qmp: without -device vmgenid, GenericError 'VM Generation ID device not found'" "$slog" \
	check_no_device

check_quit() {
	has "$s_quit" '{"return": {}}' \
		'{"error": {"class": "GenericError", "desc": "JSON parse error, stray '"'\\uFFFD'"'"}}' ||
		return 1
	printf '%s\n' "$s_quit" |
		grep -q '"event": "SHUTDOWN", "data": {"guest": false, "reason": "host-qmp-quit"}' ||
		{ echo "no SHUTDOWN (host-qmp-quit): $s_quit"; return 1; }
	[ "$(vmm_status "$slog")" = 0 ] || { echo "$(vmm_exit_reason "$slog")"; return 1; }
}
tap "qmp: after 0xFF resyncs, quit answers {}, sends SHUTDOWN (host-qmp-quit), genvm exits 0" \
	"$slog" check_quit

# pipe:PATH and stdio, one genvm -S each.
p=$E2E_WORK/qmp-pipe
mkfifo "$p.in" "$p.out"
plog=$E2E_WORK/qmp-pipe.log
vm_start "$plog" e2e=none -S -qmp "pipe:$p"
exec 3<>"$p.out"
printf '%s\n' '{"execute": "qmp_capabilities"}' '{"execute": "query-status"}' \
	'{"execute": "quit"}' >"$p.in"
pipe_out=$(timeout 10 head -n 5 <&3 | tr -d '\r')
exec 3<&-
log=$plog
vm_wait_exit 10

stdio_out=$(printf '%s\n' '{"execute": "qmp_capabilities"}' '{"execute": "query-status"}' \
	'{"execute": "quit"}' |
	timeout 30 "$GENVM" -S -m "$E2E_MEM" -kernel "$E2E_KERNEL" -initrd "$E2E_INITRD" \
		-qmp stdio 2>/dev/null | tr -d '\r')

check_pipe_stdio() {
	for chan in pipe stdio; do
		eval "out=\$${chan}_out"
		has "$out" '{"return": {}}' \
			'{"return": {"status": "prelaunch", "singlestep": false, "running": false}}' || return 1
		printf '%s\n' "$out" | head -n 1 | grep -q '^{"QMP": {"version": ' ||
			{ echo "$chan: no greeting first: $out"; return 1; }
		printf '%s\n' "$out" | grep -q '"event": "SHUTDOWN"' ||
			{ echo "$chan: no SHUTDOWN: $out"; return 1; }
	done
}
tap "qmp: pipe:PATH (PATH.in/PATH.out) and stdio channels" "$plog" check_pipe_stdio

# -nographic: C-a c switches stdio to the monitor, C-a x quits.
mux_out=$(printf '\001cinfo status\r\ninfo vm-generation-id\r\n\001h\001x' |
	timeout 30 "$GENVM" -S -m "$E2E_MEM" -kernel "$E2E_KERNEL" -initrd "$E2E_INITRD" \
		-device "vmgenid,guid=$GUID" -nographic 2>&1 | tr -d '\r')
check_mux() {
	has "$mux_out" "VM status: paused (prelaunch)" "$GUID" \
		"C-a c    switch between console and monitor" "genvm: terminated by C-a x" || return 1
	printf '%s\n' "$mux_out" | grep -q '^(qemu) info status$' || { echo "no (qemu) prompt"; return 1; }
}
tap "-nographic: C-a c reaches the monitor on stdio, C-a h helps, C-a x quits" "$plog" check_mux
