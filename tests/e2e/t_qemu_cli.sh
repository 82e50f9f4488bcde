#!/bin/sh
# QEMU's command line as management software writes it.  A libvirt-style
# line (its options and order: -name guest=...,debug-threads=on -S -machine
# pc-...,accel=kvm,usb=off,dump-guest-core=off -m -smp with a topology
# -uuid -no-user-config -nodefaults, the monitor on a socket libvirt bound
# and passes as fd=N, -mon mode=control, a JSON -device vmgenid, the console
# in a file, -daemonize -pidfile) starts a guest that reads its GUID; QMP
# answers query-name/uuid/kvm; libvirt's save (getfd with the file over
# SCM_RIGHTS, migrate to fd:NAME, the MIGRATION events) and its restore
# from a descriptor (-incoming fd:N), and libvirt 7+'s (-incoming defer,
# getfd, migrate-incoming fd:NAME; also file:) give the clone a new GUID.  An
# LXD-style -readconfig file does the same for its sections.  Under
# -no-shutdown the guest's power-off leaves genvm in runstate shutdown
# until quit; -chardev pty puts the console on the pty QEMU's line names, and
# -chardev socket on a unix socket a client reads.  Each option
# genvm cannot honour is refused with QEMU 7.2's words, exit 1.
. "$(dirname "$0")/lib.sh"

GUID=0f9e8d7c-6b5a-4938-8271-605f4e3d2c1b
UUID=c0ffee00-1234-4abc-8def-0123456789ab
LXD_GUID=7a6b5c4d-3e2f-4a1b-8c9d-0e1f2a3b4c5d
mon=$E2E_WORK/lv-monitor.sock
pidf=$E2E_WORK/lv.pid
log=$E2E_WORK/lv-console.log
save=$E2E_WORK/lv.save
err=$E2E_WORK/lv.err

if [ ! -x "$GENVM_QMP" ]; then
	echo "not ok - qemu-cli: the QMP client '$GENVM_QMP' is missing (build genvm-qmp)"
	exit 0
fi

# wait_pid_gone PID [SECONDS]
wait_pid_gone() {
	_n=0
	while kill -0 "$1" 2>/dev/null && [ "$_n" -lt $((${2:-20} * 10)) ]; do
		sleep 0.1
		_n=$((_n + 1))
	done
	! kill -0 "$1" 2>/dev/null
}

# The console goes straight to a file here (-serial), with the guest's CRs.
cmarker() {
	tr -d '\r' <"$1" 2>/dev/null | sed -n "s/.*VMGENID-E2E: $2=//p" | head -n 1
}

# expect_cmarker LOG KEY VALUE
expect_cmarker() {
	_got=$(cmarker "$1" "$2")
	[ "$_got" = "$3" ] && return 0
	echo "$2: expected '$3', got '$_got'"
	return 1
}

# wait_marker LOG KEY [SECONDS]: until the guest printed KEY=...
wait_marker() {
	_n=0
	while [ -z "$(cmarker "$1" "$2")" ] && [ "$_n" -lt $((${3:-$E2E_TIMEOUT} * 10)) ]; do
		sleep 0.1
		_n=$((_n + 1))
	done
}

# libvirt_start LOG INCOMING-ARGS...: the command line, daemonized; $? is genvm's.
libvirt_start() {
	_log=$1
	shift
	rm -f "$mon" "$pidf" "$_log"
	"$GENVM_QMP" --listen "$mon" 7 "$GENVM" \
		-name guest=vm1,debug-threads=on -S \
		-machine pc-i440fx-7.2,accel=kvm,usb=off,dump-guest-core=off -accel kvm -cpu host \
		-m "$E2E_MEM" -smp 1,sockets=1,cores=1,threads=1 -uuid "$UUID" \
		-no-user-config -nodefaults \
		-chardev socket,id=charmonitor,fd=7,server=on,wait=off \
		-mon chardev=charmonitor,id=monitor,mode=control \
		-chardev "file,id=charserial0,path=$_log" -serial chardev:charserial0 \
		-kernel "$E2E_KERNEL" -initrd "$E2E_INITRD" \
		-append "$E2E_APPEND_BASE e2e=snapshot" \
		-daemonize -pidfile "$pidf" "$@" 2>"$err"
}

# ---- libvirt: start, ask, run ----

libvirt_start "$log" -device "{\"driver\":\"vmgenid\",\"guid\":\"$GUID\",\"id\":\"vmgenid0\"}"
start_rc=$?
vm_pid=$(cat "$pidf" 2>/dev/null)
name=$(qmp "$mon" query-name 2>&1)
uuid=$(qmp "$mon" query-uuid 2>&1)
kvm=$(qmp "$mon" query-kvm 2>&1)
status=$(qmp "$mon" query-status 2>&1)
no_incoming=$(qmp "$mon" migrate-incoming '{"uri": "file:/nonexistent"}' 2>&1)
check_libvirt_start() {
	[ "$start_rc" = 0 ] || { echo "genvm -daemonize exited $start_rc: $(cat "$err")"; return 1; }
	[ -n "$vm_pid" ] && kill -0 "$vm_pid" 2>/dev/null ||
		{ echo "the pidfile names no live process: '$vm_pid'"; return 1; }
	[ "$name" = '{"name": "vm1"}' ] || { echo "query-name: $name"; return 1; }
	[ "$uuid" = "{\"UUID\": \"$UUID\"}" ] || { echo "query-uuid: $uuid"; return 1; }
	[ "$kvm" = '{"enabled": true, "present": true}' ] || { echo "query-kvm: $kvm"; return 1; }
	case $status in
	*'"status": "prelaunch"'*) ;;
	*) echo "-S: query-status says $status"; return 1 ;;
	esac
	case $no_incoming in
	*"'-incoming' was not specified on the command line"*) ;;
	*) echo "migrate-incoming without -incoming: $no_incoming"; return 1 ;;
	esac
}
tap "qemu-cli: libvirt's command line daemonizes with its pidfile and inherited monitor; QMP names the guest" \
	"$log" check_libvirt_start

qmp "$mon" cont >/dev/null 2>&1
wait_marker "$log" guid
check_libvirt_guid() {
	expect_cmarker "$log" guid "$GUID"
}
tap "qemu-cli: the guest of libvirt's command line reads GUID $GUID from the JSON -device" \
	"$log" check_libvirt_guid

# ---- libvirt's save: getfd, migrate fd:, MIGRATION ----

# The guest saves well only once its watch loop runs.
_n=0
while ! grep -q 'VMGENID-E2E: ready' "$log" && [ "$_n" -lt 300 ]; do
	sleep 0.1
	_n=$((_n + 1))
done
getfd=$("$GENVM_QMP" -t 20 --fd "$save" "$mon" getfd '{"fdname": "migrate"}' 2>&1)
caps=$(qmp "$mon" migrate-set-capabilities \
	'{"capabilities": [{"capability": "events", "state": true}]}' 2>&1)
# -e: the events around the reply and after it, until "completed" (a save
# under nested virtualization takes a while).
evf=$E2E_WORK/lv-events
"$GENVM_QMP" -t "$E2E_TIMEOUT" -e "$mon" migrate \
	'{"uri": "fd:migrate", "detach": true, "blk": false, "inc": false}' >"$evf" 2>&1 &
ev_pid=$!
_n=0
while ! grep -q '"status": "completed"\|"status": "failed"' "$evf" && kill -0 "$ev_pid" 2>/dev/null &&
	[ "$_n" -lt $((E2E_TIMEOUT * 10)) ]; do
	sleep 0.1
	_n=$((_n + 1))
done
kill "$ev_pid" 2>/dev/null
wait "$ev_pid" 2>/dev/null
events=$(cat "$evf")
saved=$(wait_migrated "$mon")
save_rc=$?
after=$(qmp "$mon" query-status 2>&1)
qmp "$mon" quit >/dev/null 2>&1
wait_pid_gone "$vm_pid" 20
gone=$?
check_libvirt_save() {
	[ "$getfd" = '{}' ] || { echo "getfd with the file passed: $getfd"; return 1; }
	[ "$caps" = '{}' ] || { echo "migrate-set-capabilities: $caps"; return 1; }
	[ "$save_rc" = 0 ] || { echo "query-migrate: $saved (migrate said: $events)"; return 1; }
	for _s in setup active completed; do
		case $events in
		*"\"event\": \"MIGRATION\", \"data\": {\"status\": \"$_s\"}"*) ;;
		*) echo "no MIGRATION $_s event in: $events"; return 1 ;;
		esac
	done
	case $after in
	*'"status": "postmigrate"'*) ;;
	*) echo "after the save: $after"; return 1 ;;
	esac
	[ "$(head -c 8 "$save")" = GENVMSNP ] || { echo "$save does not hold a snapshot"; return 1; }
	[ "$gone" = 0 ] || { echo "genvm still runs after quit"; return 1; }
	[ ! -e "$pidf" ] || { echo "the pidfile is still there after quit"; return 1; }
}
tap "qemu-cli: libvirt's save: getfd over SCM_RIGHTS, migrate to fd:migrate, MIGRATION events, postmigrate; quit removes the pidfile" \
	"$log" check_libvirt_save

# ---- libvirt's restore: the saved file as an inherited descriptor ----

log2=$E2E_WORK/lv-console2.log
libvirt_start "$log2" -device '{"driver":"vmgenid","guid":"auto","id":"vmgenid0"}' -incoming fd:3 3<"$save"
restore_rc=$?
vm_pid=$(cat "$pidf" 2>/dev/null)
qmp "$mon" cont >/dev/null 2>&1
wait_marker "$log2" guid
new_guid=$(qmp "$mon" query-vm-generation-id 2>&1 | sed -n 's/^{"guid": "\(.*\)"}$/\1/p')
check_libvirt_restore() {
	[ "$restore_rc" = 0 ] || { echo "-incoming fd:3 exited $restore_rc: $(cat "$err")"; return 1; }
	# The restored guest does not boot again: its console log shows the new GUID only.
	[ -n "$new_guid" ] && [ "$new_guid" != "$GUID" ] ||
		{ echo "query-vm-generation-id after the restore: '$new_guid'"; return 1; }
	expect_cmarker "$log2" guid "$new_guid"
}
tap "qemu-cli: libvirt's restore from -incoming fd:N with guid auto: a new GUID, which the guest sees" \
	"$log2" check_libvirt_restore
qmp "$mon" quit >/dev/null 2>&1
wait_pid_gone "$vm_pid" 20

# ---- libvirt 7+'s restore: -incoming defer, getfd, migrate-incoming fd:NAME ----

log3=$E2E_WORK/lv-console3.log
libvirt_start "$log3" -device '{"driver":"vmgenid","guid":"auto","id":"vmgenid0"}' -incoming defer
defer_rc=$?
vm_pid=$(cat "$pidf" 2>/dev/null)
d_status=$(qmp "$mon" query-status 2>&1)
d_getfd=$("$GENVM_QMP" -t 20 --fd-read "$save" "$mon" getfd '{"fdname": "migrate"}' 2>&1)
# Raw, to see the MIGRATION events before the reply, which comes once the
# restore is done: greeting, capabilities, setup, active, completed, reply.
d_events=$(printf '%s\n' '{"execute": "qmp_capabilities"}' \
	'{"execute": "migrate-incoming", "arguments": {"uri": "fd:migrate"}}' |
	"$GENVM_QMP" --raw --lines 6 -t "$E2E_TIMEOUT" "$mon" 2>&1)
d_migrate=$(qmp "$mon" query-migrate 2>&1)
d_again=$(qmp "$mon" migrate-incoming '{"uri": "fd:migrate"}' 2>&1)
d_paused=$(qmp "$mon" query-status 2>&1)
qmp "$mon" cont >/dev/null 2>&1
wait_marker "$log3" guid
d_guid=$(qmp "$mon" query-vm-generation-id 2>&1 | sed -n 's/^{"guid": "\(.*\)"}$/\1/p')
check_defer_fd() {
	[ "$defer_rc" = 0 ] || { echo "-incoming defer exited $defer_rc: $(cat "$err")"; return 1; }
	case $d_status in
	*'"status": "inmigrate"'*'"running": false'*) ;;
	*) echo "before migrate-incoming, query-status says: $d_status"; return 1 ;;
	esac
	[ "$d_getfd" = '{}' ] || { echo "getfd with the save file passed: $d_getfd"; return 1; }
	# The reply comes after the restore: after the event "completed".
	case $d_events in
	*'{"status": "completed"}'*'{"return": {}}'*) ;;
	*) echo "migrate-incoming fd:migrate did not return {} after completing: $d_events"; return 1 ;;
	esac
	for _s in setup active completed; do
		case $d_events in
		*"\"event\": \"MIGRATION\", \"data\": {\"status\": \"$_s\"}"*) ;;
		*) echo "no MIGRATION $_s event in: $d_events"; return 1 ;;
		esac
	done
	case $d_migrate in
	*'"status": "completed"'*) ;;
	*) echo "query-migrate after migrate-incoming: $d_migrate"; return 1 ;;
	esac
	case $d_again in
	*"The incoming migration has already been started"*) ;;
	*) echo "a second migrate-incoming: $d_again"; return 1 ;;
	esac
	case $d_paused in
	*'"status": "paused"'*) ;;
	*) echo "-S, after the restore: $d_paused"; return 1 ;;
	esac
	[ -n "$d_guid" ] && [ "$d_guid" != "$GUID" ] ||
		{ echo "query-vm-generation-id after the restore: '$d_guid'"; return 1; }
	expect_cmarker "$log3" guid "$d_guid"
}
tap "qemu-cli: libvirt 7+'s restore: -incoming defer waits in inmigrate; getfd + migrate-incoming fd:NAME restore it (MIGRATION events), a new GUID the guest sees" \
	"$log3" check_defer_fd
qmp "$mon" quit >/dev/null 2>&1
wait_pid_gone "$vm_pid" 20

# The same with file:PATH, and cont given before the incoming (QEMU then runs it at once).
log4=$E2E_WORK/lv-console4.log
libvirt_start "$log4" -device '{"driver":"vmgenid","guid":"auto","id":"vmgenid0"}' -incoming defer
defer_rc=$?
vm_pid=$(cat "$pidf" 2>/dev/null)
f_cont=$(qmp "$mon" cont 2>&1)
f_bad=$(qmp "$mon" migrate-incoming '{"uri": "tcp:0:4444"}' 2>&1)
f_reply=$(qmp "$mon" migrate-incoming "{\"uri\": \"file:$save\"}" 2>&1)
wait_marker "$log4" guid
f_status=$(qmp "$mon" query-status 2>&1)
f_guid=$(qmp "$mon" query-vm-generation-id 2>&1 | sed -n 's/^{"guid": "\(.*\)"}$/\1/p')
check_defer_file() {
	[ "$defer_rc" = 0 ] || { echo "-incoming defer exited $defer_rc: $(cat "$err")"; return 1; }
	[ "$f_cont" = '{}' ] || { echo "cont before migrate-incoming: $f_cont"; return 1; }
	case $f_bad in
	*"unsupported URI"*) ;;
	*) echo "migrate-incoming tcp: $f_bad"; return 1 ;;
	esac
	[ "$f_reply" = '{}' ] || { echo "migrate-incoming file:$save: $f_reply"; return 1; }
	case $f_status in
	*'"status": "running"'*) ;;
	*) echo "after the restore: $f_status"; return 1 ;;
	esac
	[ -n "$f_guid" ] && [ "$f_guid" != "$GUID" ] && [ "$f_guid" != "$d_guid" ] ||
		{ echo "query-vm-generation-id after the restore: '$f_guid'"; return 1; }
	expect_cmarker "$log4" guid "$f_guid"
}
tap "qemu-cli: -incoming defer + migrate-incoming file:PATH after cont: the guest runs at once with a new GUID" \
	"$log4" check_defer_file
qmp "$mon" quit >/dev/null 2>&1
wait_pid_gone "$vm_pid" 20
rm -f "$save"

# ---- LXD: -readconfig ----

conf=$E2E_WORK/lxd-qemu.conf
lxd_mon=$E2E_WORK/lxd-qmp.sock
lxd_log=$E2E_WORK/lxd-console.log
cat >"$conf" <<EOF
# Machine
[machine]
graphics = "off"
type = "q35"
accel = "kvm"
usb = "off"

[memory]
size = "$E2E_MEM"

[smp-opts]
cpus = "1"
sockets = "1"
cores = "1"
threads = "1"

[chardev "monitor"]
  backend = "socket"
  path = "$lxd_mon"
  server = "on"
  wait = "off"

[mon]
  chardev = "monitor"
  mode = "control"

# VM generation ID
[device "dev-lxd_vmgenid"]
driver = "vmgenid"
guid = "$LXD_GUID"
EOF
rm -f "$pidf"
"$GENVM" -S -name lxd-vm -uuid "$UUID" -daemonize -cpu host -nodefaults -no-user-config \
	-serial "file:$lxd_log" -readconfig "$conf" -pidfile "$pidf" \
	-kernel "$E2E_KERNEL" -initrd "$E2E_INITRD" -append "$E2E_APPEND_BASE e2e=snapshot" 2>"$err"
lxd_rc=$?
vm_pid=$(cat "$pidf" 2>/dev/null)
qmp "$lxd_mon" cont >/dev/null 2>&1
wait_marker "$lxd_log" guid
lxd_name=$(qmp "$lxd_mon" query-name 2>&1)
check_lxd() {
	[ "$lxd_rc" = 0 ] || { echo "genvm -readconfig exited $lxd_rc: $(cat "$err")"; return 1; }
	[ "$lxd_name" = '{"name": "lxd-vm"}' ] || { echo "query-name: $lxd_name"; return 1; }
	expect_cmarker "$lxd_log" guid "$LXD_GUID"
}
tap "qemu-cli: LXD's -readconfig file ([machine], [memory], [smp-opts], [chardev], [mon], [device]) starts a guest that reads its GUID" \
	"$lxd_log" check_lxd
qmp "$lxd_mon" quit >/dev/null 2>&1
wait_pid_gone "$vm_pid" 20

# ---- -no-shutdown: the guest powers off, genvm stays until quit ----

ns_mon=$E2E_WORK/ns-qmp.sock
ns_log=$E2E_WORK/ns-console.log
rm -f "$pidf" "$ns_mon"
"$GENVM" -no-shutdown -daemonize -pidfile "$pidf" -m "$E2E_MEM" -nodefaults \
	-qmp "unix:$ns_mon,server=on,wait=off" -serial "file:$ns_log" -device vmgenid \
	-kernel "$E2E_KERNEL" -initrd "$E2E_INITRD" -append "$E2E_APPEND_BASE e2e=boot" 2>"$err"
ns_rc=$?
vm_pid=$(cat "$pidf" 2>/dev/null)
ns_status=""
_n=0
while [ "$_n" -lt $((E2E_TIMEOUT * 10)) ]; do
	ns_status=$(qmp "$ns_mon" query-status 2>&1)
	case $ns_status in *'"shutdown"'*) break ;; esac
	sleep 0.1
	_n=$((_n + 1))
done
kill -0 "$vm_pid" 2>/dev/null
ns_alive=$?
ns_cont=$(qmp "$ns_mon" cont 2>&1)
qmp "$ns_mon" quit >/dev/null 2>&1
wait_pid_gone "$vm_pid" 20
ns_gone=$?
check_no_shutdown() {
	[ "$ns_rc" = 0 ] || { echo "genvm -no-shutdown exited $ns_rc: $(cat "$err")"; return 1; }
	case $ns_status in
	*'"status": "shutdown"'*'"running": false'*) ;;
	*) echo "after the guest's poweroff -f, query-status says: $ns_status"; return 1 ;;
	esac
	[ "$ns_alive" = 0 ] || { echo "genvm exited on the guest's power-off"; return 1; }
	case $ns_cont in
	*"Resetting the Virtual Machine is required"*) ;;
	*) echo "cont after the power-off: $ns_cont"; return 1 ;;
	esac
	[ "$ns_gone" = 0 ] || { echo "quit did not end genvm"; return 1; }
}
tap "qemu-cli: -no-shutdown: the guest's power-off leaves genvm in runstate shutdown, serving QMP, until quit" \
	"$ns_log" check_no_shutdown

# ---- the console on a pty, as libvirt's <console type='pty'> ----

pty_mon=$E2E_WORK/pty-qmp.sock
pty_out=$E2E_WORK/pty-console.log
PTY_GUID=5e4d3c2b-1a09-4f8e-8d7c-6b5a49382716
rm -f "$pidf" "$pty_mon" "$pty_out"
"$GENVM" -daemonize -pidfile "$pidf" -m "$E2E_MEM" -nodefaults \
	-qmp "unix:$pty_mon,server=on,wait=off" -S \
	-chardev pty,id=charserial0 -serial chardev:charserial0 -device "vmgenid,guid=$PTY_GUID" \
	-kernel "$E2E_KERNEL" -initrd "$E2E_INITRD" -append "$E2E_APPEND_BASE e2e=snapshot" 2>"$err"
pty_rc=$?
vm_pid=$(cat "$pidf" 2>/dev/null)
pty_line=$(grep '^char device redirected to ' "$err")
pty_path=$(printf '%s\n' "$pty_line" | sed -n 's|^char device redirected to \(/dev/pts/[0-9]*\) (label charserial0)$|\1|p')
pty_reader=""
if [ -n "$pty_path" ] && [ -c "$pty_path" ]; then
	cat "$pty_path" >"$pty_out" 2>/dev/null &
	pty_reader=$!
fi
qmp "$pty_mon" cont >/dev/null 2>&1
wait_marker "$pty_out" guid
# A pty hands over what is there: the line may still be arriving.
_n=0
while [ "$(cmarker "$pty_out" guid | tr -d '\n' | wc -c)" -lt 36 ] && [ "$_n" -lt 50 ]; do
	sleep 0.1
	_n=$((_n + 1))
done
[ -n "$pty_reader" ] && kill "$pty_reader" 2>/dev/null
qmp "$pty_mon" quit >/dev/null 2>&1
wait_pid_gone "$vm_pid" 20
check_pty() {
	[ "$pty_rc" = 0 ] || { echo "genvm -serial pty exited $pty_rc: $(cat "$err")"; return 1; }
	[ -n "$pty_path" ] || { echo "no 'char device redirected to /dev/pts/N (label charserial0)' line: $(cat "$err")"; return 1; }
	[ -n "$pty_reader" ] || { echo "$pty_path is not a character device"; return 1; }
	expect_cmarker "$pty_out" guid "$PTY_GUID"
}
tap "qemu-cli: -chardev pty,id=charserial0: QEMU's 'char device redirected' line names a pty that carries the guest's console" \
	"$err" check_pty

# ---- the console on a unix socket: -chardev socket for -serial chardev:ID ----

sk_mon=$E2E_WORK/sk-qmp.sock
sk_con=$E2E_WORK/sk-console.sock
sk_out=$E2E_WORK/sk-console.log
SK_GUID=3c2b1a09-8f7e-4d6c-9b5a-493827160504
rm -f "$pidf" "$sk_mon" "$sk_con" "$sk_out"
"$GENVM" -daemonize -pidfile "$pidf" -m "$E2E_MEM" -nodefaults \
	-qmp "unix:$sk_mon,server=on,wait=off" -S \
	-chardev "socket,id=charserial0,path=$sk_con,server=on,wait=off" -serial chardev:charserial0 \
	-device "vmgenid,guid=$SK_GUID" \
	-kernel "$E2E_KERNEL" -initrd "$E2E_INITRD" -append "$E2E_APPEND_BASE e2e=snapshot" 2>"$err"
sk_rc=$?
vm_pid=$(cat "$pidf" 2>/dev/null)
# The guest starts before anyone reads: its first lines wait in genvm's queue.
qmp "$sk_mon" cont >/dev/null 2>&1
sleep 1
"$GENVM_QMP" --raw -t "$E2E_TIMEOUT" "$sk_con" </dev/null >"$sk_out" 2>&1 &
sk_reader=$!
wait_marker "$sk_out" guid
_n=0
while [ "$(cmarker "$sk_out" guid | tr -d '\n' | wc -c)" -lt 36 ] && [ "$_n" -lt 50 ]; do
	sleep 0.1
	_n=$((_n + 1))
done
kill "$sk_reader" 2>/dev/null
wait "$sk_reader" 2>/dev/null
qmp "$sk_mon" quit >/dev/null 2>&1
wait_pid_gone "$vm_pid" 20
check_socket_console() {
	[ "$sk_rc" = 0 ] || { echo "genvm with a socket console exited $sk_rc: $(cat "$err")"; return 1; }
	expect_cmarker "$sk_out" guid "$SK_GUID"
}
tap "qemu-cli: -chardev socket,path=,server=on,wait=off as -serial chardev:ID: a client that connects after the guest started reads its console" \
	"$sk_out" check_socket_console

# ---- what genvm cannot honour: QEMU's words, exit 1, nothing started ----

# refused EXPECTED-STDERR ARGS...
refusals=""
refused() {
	_want=$1
	shift
	_got=$("$GENVM" -kernel "$E2E_KERNEL" "$@" 2>&1 </dev/null)
	_rc=$?
	[ "$_rc" = 1 ] && [ "$_got" = "$_want" ] && return 0
	refusals="$refusals
genvm $*: exit $_rc, '$_got' (expected '$_want')"
}
refused "genvm: -bogus: invalid option" -bogus
refused "genvm: -m: requires an argument" -m
refused "genvm: -device vmgenid,id=b: at most one vmgenid device is permitted" \
	-device vmgenid -device vmgenid,id=b
refused "genvm: -device vmgenid,guid=xyz: Property 'vmgenid.guid' doesn't take value 'xyz'" \
	-device vmgenid,guid=xyz
refused "genvm: -device {\"driver\":\"vmgenid\",\"guid\":\"xyz\"}: Property 'vmgenid.guid' doesn't take value 'xyz'" \
	-device '{"driver":"vmgenid","guid":"xyz"}'
refused "genvm: -uuid xyz: failed to parse UUID string: wrong format" -uuid xyz
refused "genvm: -name guest=x,bogus=1: Invalid parameter 'bogus'" -name guest=x,bogus=1
refused "genvm: -smp 4,sockets=1,cores=1,threads=1: Invalid CPU topology: product of the hierarchy must match maxcpus: sockets (1) * cores (1) * threads (1) != maxcpus (4)" \
	-smp 4,sockets=1,cores=1,threads=1
refused "genvm: -accel foo: invalid accelerator foo" -accel foo
refused "genvm: -chardev bogus,id=x: 'bogus' is not a valid char driver name" -chardev bogus,id=x
refused "genvm: -mon chardev=nope: chardev \"nope\" not found" -mon chardev=nope
refused "genvm: -daemonize: -nographic cannot be used with -daemonize" -daemonize -nographic
refused "genvm: -incoming tcp:0:4444: expected file:PATH, exec:COMMAND, fd:N or defer" \
	-incoming tcp:0:4444
refused "genvm: -accel tcg: genvm runs guests on KVM only (accelerator tcg)" -accel tcg
check_refusals() {
	[ -z "$refusals" ] && return 0
	printf '%s\n' "$refusals" | sed '/^$/d'
	return 1
}
tap "qemu-cli: 14 options genvm cannot honour, each refused in QEMU 7.2's words with exit 1" \
	"$err" check_refusals
