#!/bin/sh
# Snapshot, restore and clone: one guest boots (e2e=snapshot: RNG ready, a
# random marker in a tmpfs, then it watches the vmgenid page), is saved over
# QMP (migrate to file:, and once through "exec:gzip -c > F"), and is restored
# several times with -incoming.  Two clones with guid=auto start at the same
# time from the same file: both keep the marker, each gets a new GUID of its
# own (QMP and the guest's read of memory agree) and each kernel logs the
# VM-fork reseed exactly once.  A restore with the source's own GUID changes
# nothing; one from the gzip stream under -S waits for cont.  Then bad files: each must be refused with exit 1 and a message
# naming the problem, before any guest code runs.
#
# Runs against any VMM with QEMU's CLI and QMP.  genvm's file format is
# checked only when the VMM says it is genvm (query-version); a QEMU older
# than 8.2 has no file: migration, and gets exec:cat instead.
. "$(dirname "$0")/lib.sh"

GUID=9b1c7d52-3e4f-4a60-8b7c-d0e1f2a3b4c5
SNAP_MAGIC=GENVMSNP
HEADER_SIZE=4096

dir=$E2E_WORK/snapshots
mkdir -p "$dir"
snap=$dir/snap.genvm
gz=$E2E_WORK/snap.gz
q=$E2E_WORK/snap-src.sock
src_log=$E2E_WORK/snap-src.log

# ---- little-endian fields of a snapshot file ----

le32() {
	od -An -tu4 -j "$2" -N 4 "$1" | tr -d ' '
}

le64() {
	od -An -tu8 -j "$2" -N 8 "$1" | tr -d ' '
}

# The CRC-32 (zlib's, as state_crc32) of stdin: gzip stores it in its trailer.
crc32() {
	gzip -c | tail -c 8 | od -An -tu4 -N 4 | tr -d ' '
}

# range_crc32 FILE OFFSET LENGTH
range_crc32() {
	tail -c +$(($2 + 1)) "$1" | head -c "$3" | crc32
}

# put_le32 FILE OFFSET VALUE: overwrite four bytes in place.
put_le32() {
	printf "$(printf '\\%03o\\%03o\\%03o\\%03o' $(($3 & 255)) $(($3 >> 8 & 255)) \
		$(($3 >> 16 & 255)) $(($3 >> 24 & 255)))" |
		dd of="$1" bs=1 seek="$2" conv=notrunc 2>/dev/null
}

# flip_byte FILE OFFSET: invert the byte there.
flip_byte() {
	_b=$(od -An -tu1 -j "$2" -N 1 "$1" | tr -d ' ')
	printf "$(printf '\\%03o' $((_b ^ 255)))" |
		dd of="$1" bs=1 seek="$2" conv=notrunc 2>/dev/null
}

file_size() {
	ls -ln "$1" | awk '{ print $5 }'
}

# mem_bytes SIZE: a -m value (MiB unless it ends in G) in bytes.
mem_bytes() {
	case $1 in
	*[Gg]) echo $((${1%[Gg]} * 1024 * 1024 * 1024)) ;;
	*) echo $((${1%[Mm]} * 1024 * 1024)) ;;
	esac
}

# ---- waiting on a guest (qmp, wait_migrated, wait_ticks: lib.sh) ----

# tick_field LOG KEY: KEY's value in the last "tick N reseeds=R marker=M".
tick_field() {
	sed -n "s/.*VMGENID-E2E: tick [0-9]* .*$2=\([^ ]*\).*/\1/p" "$1" | tail -n 1
}

# ---- the source (clone_start, clone_stop, clone_guid: lib.sh) ----

vm_start "$src_log" e2e=snapshot -device "vmgenid,guid=$GUID" \
	-qmp "unix:$q,server=on,wait=off"
src_pid=$VM_PID src_job=$VM_JOB
src_ready=0
vm_wait_for "$src_log" 'VMGENID-E2E: ready$' && wait_ticks "$src_log" 1 && src_ready=1
src_marker=$(marker "$src_log" marker)

check_source() {
	[ "$src_ready" = 1 ] || { echo "the source never reached its loop; $(vmm_exit_reason "$src_log")"; return 1; }
	expect_marker "$src_log" crng ready || return 1
	expect_marker "$src_log" guid "$GUID" || return 1
	expect_marker "$src_log" reseeds 0 || return 1
	case $src_marker in
	????????????????) ;;
	*) echo "marker: '$src_marker' is not 8 random bytes in hex"; return 1 ;;
	esac
}
tap "snapshot: the source boots, readies its RNG, writes a marker, reads GUID $GUID" \
	"$src_log" check_source
if [ "$src_ready" != 1 ]; then
	kill "$src_pid" 2>/dev/null
	wait "$src_job" 2>/dev/null
	exit 1
fi

version=$(qmp "$q" query-version)
is_genvm=0
case $version in
*'"package": "genvm'*) is_genvm=1 ;;
esac
# QEMU took file: URIs in 8.2; before that the same bytes go through cat.
save_file="file:$snap"
in_file="file:$snap"
if [ "$is_genvm" = 0 ]; then
	major=$(echo "$version" | sed -n 's/.*"major": \([0-9]*\).*/\1/p')
	minor=$(echo "$version" | sed -n 's/.*"minor": \([0-9]*\).*/\1/p')
	if [ "${major:-0}" -lt 8 ] || { [ "$major" = 8 ] && [ "${minor:-0}" -lt 2 ]; }; then
		echo "# the VMM is QEMU $major.$minor, which has no file: migration: using exec:cat"
		save_file="exec:cat > $snap"
		in_file="exec:cat $snap"
	fi
fi

# ---- saves that fail cost the guest nothing ----

# A command that fails: migrate starts, query-migrate reports the failure,
# and the guest, stopped for the save, runs on.
before=$(ticks_after "$src_log")
fail_reply=$(qmp "$q" migrate '{"uri": "exec:exit 3"}' 2>&1)
fail_status=$(wait_migrated "$q")
fail_rc=$?
wait_ticks "$src_log" $((before + 2))
fail_after=$(ticks_after "$src_log")
fail_runstate=$(qmp "$q" query-status 2>&1)
check_failed_exec_save() {
	[ "$fail_reply" = '{}' ] || { echo "migrate answered '$fail_reply'"; return 1; }
	[ "$fail_rc" = 1 ] || { echo "query-migrate: $fail_status"; return 1; }
	case $fail_status in
	*'"status": "failed"'*) ;;
	*) echo "query-migrate: $fail_status"; return 1 ;;
	esac
	if [ "$is_genvm" = 1 ]; then
		case $fail_status in
		*'"error-desc": "'*'exited with status 3"'*) ;;
		*) echo "no error-desc naming the exit status: $fail_status"; return 1 ;;
		esac
	fi
	[ "$fail_after" -ge $((before + 2)) ] ||
		{ echo "the guest stopped: ticks $before -> $fail_after"; return 1; }
	[ "$fail_runstate" = '{"status": "running", "singlestep": false, "running": true}' ] ||
		{ echo "query-status: $fail_runstate"; return 1; }
}
tap "snapshot: a save whose command fails is reported, and the guest runs on" "$src_log" \
	check_failed_exec_save

# An impossible destination is refused at once, and nothing is left behind.
if [ "$is_genvm" = 1 ]; then
	bad_reply=$(qmp "$q" migrate "{\"uri\": \"file:$dir/missing-dir/x\"}" 2>&1)
	bad_info=$(qmp "$q" human-monitor-command '{"command-line": "info migrate"}' 2>&1)
	before=$(ticks_after "$src_log")
	wait_ticks "$src_log" $((before + 1))
	check_refused_file_save() {
		case $bad_reply in
		*GenericError*"$dir/missing-dir/x"*"No such file or directory"*) ;;
		*) echo "migrate to a missing directory answered '$bad_reply'"; return 1 ;;
		esac
		case $bad_info in
		*"Migration status: failed"*"exited with status 3"*) ;;
		*) echo "info migrate: $bad_info"; return 1 ;;
		esac
		[ "$(ticks_after "$src_log")" -gt "$before" ] ||
			{ echo "the guest stopped after the refused save"; return 1; }
		_left=$(ls -A "$dir")
		[ -z "$_left" ] || { echo "left behind: $_left"; return 1; }
	}
	tap "snapshot: a save to a missing directory is refused at once; the monitor keeps the last failure" \
		"$src_log" check_refused_file_save
fi

save_reply=$(qmp "$q" migrate "{\"uri\": \"$save_file\"}" 2>&1)
save_status=$(wait_migrated "$q")
save_rc=$?
check_save() {
	[ "$save_reply" = '{}' ] || { echo "migrate $save_file answered '$save_reply'"; return 1; }
	[ "$save_rc" = 0 ] || { echo "query-migrate: $save_status"; return 1; }
	[ -s "$snap" ] || { echo "no snapshot at $snap"; return 1; }
	# file: goes through a temporary file that is renamed at the end.
	_others=$(ls -A "$dir" | grep -v -x "$(basename "$snap")")
	[ -z "$_others" ] || { echo "left behind next to the snapshot: $_others"; return 1; }
}
tap "snapshot: migrate to $save_file returns {}, query-migrate says completed" "$src_log" check_save

paused_at=$(ticks_after "$src_log")
src_status=$(qmp "$q" query-status)
sleep 1.5
check_postmigrate() {
	[ "$src_status" = '{"status": "postmigrate", "singlestep": false, "running": false}' ] ||
		{ echo "query-status after the save: '$src_status'"; return 1; }
	_now=$(ticks_after "$src_log")
	[ "$_now" = "$paused_at" ] ||
		{ echo "the source kept running after the save: ticks $paused_at -> $_now"; return 1; }
}
tap "snapshot: the source stays paused afterwards (postmigrate, no ticks)" "$src_log" \
	check_postmigrate

check_format() {
	[ "$is_genvm" = 1 ] || { echo "not genvm"; return 0; }
	_m=$(head -c 8 "$snap")
	[ "$_m" = "$SNAP_MAGIC" ] || { echo "magic '$_m', not $SNAP_MAGIC"; return 1; }
	_v=$(le32 "$snap" 8) _hs=$(le32 "$snap" 12) _ram=$(le64 "$snap" 16)
	_cpus=$(le32 "$snap" 24) _flags=$(le32 "$snap" 28)
	_so=$(le64 "$snap" 32) _sl=$(le64 "$snap" 40) _scrc=$(le32 "$snap" 48)
	_ro=$(le64 "$snap" 56) _rl=$(le64 "$snap" 64) _hcrc=$(le32 "$snap" 4092)
	_mem=$(mem_bytes "$E2E_MEM")
	_size=$(file_size "$snap")
	_want="version=1 header_size=$HEADER_SIZE ram_size=$_mem nr_cpus=$E2E_SMP flags=0 state_offset=$HEADER_SIZE"
	_got="version=$_v header_size=$_hs ram_size=$_ram nr_cpus=$_cpus flags=$_flags state_offset=$_so"
	[ "$_got" = "$_want" ] || { echo "header: $_got"; echo "wanted: $_want"; return 1; }
	[ "$_sl" -gt 0 ] && [ $((_ro % 4096)) = 0 ] && [ "$_ro" -ge $((_so + _sl)) ] &&
		[ "$_rl" = "$_ram" ] && [ "$_size" = $((_ro + _rl)) ] || {
		echo "layout: state $_so+$_sl, ram $_ro+$_rl, file size $_size"
		return 1
	}
	_c=$(head -c 4092 "$snap" | crc32)
	[ "$_c" = "$_hcrc" ] || { echo "header_crc32 $_hcrc, the header's CRC-32 is $_c"; return 1; }
	_c=$(range_crc32 "$snap" "$_so" "$_sl")
	[ "$_c" = "$_scrc" ] || { echo "state_crc32 $_scrc, the state's CRC-32 is $_c"; return 1; }
}
if [ "$is_genvm" = 1 ]; then
	tap "snapshot: the file has a valid version 1 header, state and RAM layout" "$src_log" \
		check_format
else
	echo "ok - snapshot: genvm's file format # SKIP the VMM is not genvm"
fi

# cont, a moment of running, and a second save through a pipe.
cont_reply=$(qmp "$q" cont 2>&1)
wait_ticks "$src_log" $((paused_at + 1))
gz_reply=$(qmp "$q" migrate "{\"uri\": \"exec:gzip -c > $gz\"}" 2>&1)
gz_status=$(wait_migrated "$q")
gz_rc=$?
check_gz_save() {
	[ "$cont_reply" = '{}' ] || { echo "cont answered '$cont_reply'"; return 1; }
	[ "$(ticks_after "$src_log")" -gt "$paused_at" ] ||
		{ echo "no tick after cont: the source did not resume"; return 1; }
	[ "$gz_reply" = '{}' ] || { echo "migrate exec:gzip answered '$gz_reply'"; return 1; }
	[ "$gz_rc" = 0 ] || { echo "query-migrate: $gz_status"; return 1; }
	gzip -t "$gz" 2>&1 || { echo "$gz is not a whole gzip stream"; return 1; }
	[ "$is_genvm" = 0 ] || [ "$(gzip -dc "$gz" | head -c 8)" = "$SNAP_MAGIC" ] ||
		{ echo "the stream does not start with $SNAP_MAGIC"; return 1; }
}
tap "snapshot: cont resumes the source; a second save to \"exec:gzip -c > F\" completes" \
	"$src_log" check_gz_save

qmp "$q" quit >/dev/null 2>&1
VM_PID=$src_pid VM_JOB=$src_job
vm_wait_exit 10

# ---- two clones at once, guid=auto ----

# A restored guest reports within seconds; the VMMs must still be there to
# answer QMP when it does not.
wait_limit=$((E2E_TIMEOUT / 2))

clone_start a "$in_file" auto
clone_start b "$in_file" auto
la=$E2E_WORK/clone-a.log
lb=$E2E_WORK/clone-b.log
# Two ticks after the change report: a second reseed would have shown by then.
wait_ticks "$la" 2 'VMGENID-E2E: marker='
wait_ticks "$lb" 2 'VMGENID-E2E: marker='
qa=$(clone_guid a)
qb=$(clone_guid b)
ga=$(marker "$la" guid)
gb=$(marker "$lb" guid)

check_clones_marker() {
	for _c in a b; do
		_l=$E2E_WORK/clone-$_c.log
		if grep -q 'VMGENID-E2E: init$' "$_l"; then
			echo "clone $_c booted afresh instead of resuming"
			return 1
		fi
		_m=$(tick_field "$_l" marker)
		[ -n "$_m" ] || { echo "clone $_c never ticked; $(vmm_exit_reason "$_l")"; return 1; }
		[ "$_m" = "$src_marker" ] ||
			{ echo "clone $_c has marker '$_m', the source wrote '$src_marker'"; return 1; }
		_m=$(marker "$_l" marker)
		[ -z "$_m" ] || [ "$_m" = "$src_marker" ] ||
			{ echo "clone $_c reported marker '$_m' with its new GUID"; return 1; }
	done
}
tap "clone: two clones restored at once from one file both resume with the source's marker" \
	"$la" check_clones_marker

check_clones_guid() {
	[ -n "$qa" ] && [ -n "$qb" ] || { echo "query-vm-generation-id: a '$qa', b '$qb'"; return 1; }
	[ "$qa" = "$ga" ] || { echo "clone a: QMP says $qa, the guest reads '${ga:-no new GUID}'"; return 1; }
	[ "$qb" = "$gb" ] || { echo "clone b: QMP says $qb, the guest reads '${gb:-no new GUID}'"; return 1; }
	[ "$qa" != "$GUID" ] && [ "$qb" != "$GUID" ] ||
		{ echo "a clone kept the source's GUID (a $qa, b $qb)"; return 1; }
	[ "$qa" != "$qb" ] || { echo "both clones have $qa"; return 1; }
	case $qa$qb in
	*[!0-9a-f-]*) echo "not GUIDs: '$qa' '$qb'"; return 1 ;;
	esac
}
tap "clone: each clone has a new, distinct GUID; QMP and the guest's memory agree" \
	"$lb" check_clones_guid

check_clones_reseed() {
	for _c in a b; do
		_l=$E2E_WORK/clone-$_c.log
		_r=$(marker "$_l" reseeds)
		_t=$(tick_field "$_l" reseeds)
		_n=$(grep -c 'VMGENID-E2E: guid=' "$_l")
		[ "$_r" = 1 ] && [ "$_t" = 1 ] && [ "$_n" = 1 ] || {
			echo "clone $_c: reseeds=$_r at the change, $_t at the last tick," \
				"$_n GUID changes seen (want 1, 1, 1)"
			return 1
		}
	done
}
tap "clone: each clone's kernel logs 'crng reseeded due to virtual machine fork' once" \
	"$la" check_clones_reseed

# vmm_pid PID: the VMM behind vm_start's timeout wrapper: PID itself where
# timeout becomes the command (busybox), its child where it forks it
# (coreutils).  Never a child of the VMM: genvm's exec: helper is one.
vmm_pid() {
	[ "$(cat "/proc/$1/comm" 2>/dev/null)" = timeout ] || { echo "$1"; return 0; }
	for _st in /proc/[0-9]*/stat; do
		read -r _p _c _s _pp _ <"$_st" 2>/dev/null || continue
		[ "$_pp" = "$1" ] && { echo "$_p"; return 0; }
	done
	echo "$1"
}

# snap_mapping PID: "Size Rss Shared Private_Dirty" in kB of the process's
# mapping of the snapshot file, or nothing.  Shared is Shared_Clean plus
# Shared_Dirty: a file on tmpfs (as in the nested run) has only dirty pages,
# so pages mapped by both clones show up as Shared_Dirty there.
snap_mapping() {
	awk -v f="$snap" '
		/^[0-9a-f]+-[0-9a-f]+ / { inmap = ($NF == f) }
		inmap && /^(Size|Rss|Shared_Clean|Shared_Dirty|Private_Dirty):/ { v[$1] = $2 }
		END {
			if ("Size:" in v)
				print v["Size:"], v["Rss:"], v["Shared_Clean:"] + v["Shared_Dirty:"], v["Private_Dirty:"]
		}
	' "/proc/$1/smaps"
}

# A file: restore maps the image copy-on-write: the clones' guest RAM is the
# file's pages, shared between them, and only what each guest writes is its own.
check_clones_share_file() {
	[ "$is_genvm" = 1 ] || return 0
	_mem_kb=$(($(mem_bytes "$E2E_MEM") / 1024))
	for _c in a b; do
		eval "_w=\$clone_pid_$_c"
		_p=$(vmm_pid "$_w")
		_m=$(snap_mapping "$_p")
		[ -n "$_m" ] || { echo "clone $_c (pid $_p) has no mapping of $snap"; return 1; }
		set -- $_m
		echo "clone $_c: snapshot mapping Size $1 kB, Rss $2, Shared $3, Private_Dirty $4" \
			>>"$E2E_WORK/clone-sharing"
		[ "$1" = "$_mem_kb" ] || { echo "clone $_c maps $1 kB of the file, not $_mem_kb"; return 1; }
		# Both guests run the same restored kernel: most of what either
		# touched, the other touched too, and it is one page for both.
		[ $(($3 * 2)) -ge "$2" ] ||
			{ echo "clone $_c shares only $3 of its $2 kB resident of the file with the other"; return 1; }
		[ "$4" -lt $((_mem_kb / 4)) ] ||
			{ echo "clone $_c has $4 kB of private copies: RAM was copied"; return 1; }
	done
}
if [ "$is_genvm" = 1 ]; then
	: >"$E2E_WORK/clone-sharing"
	tap "clone: both map the snapshot's RAM copy-on-write and share its pages" "$la" \
		check_clones_share_file
	sed 's/^/# /' "$E2E_WORK/clone-sharing"
fi

clone_stop a
clone_stop b

# ---- the source's own GUID: nothing changes ----

clone_start same "$in_file" "$GUID"
ls_=$E2E_WORK/clone-same.log
wait_ticks "$ls_" 3
qs=$(clone_guid same)
# why_silent NAME LOG: what a restored guest that never ticked was doing,
# for the failure message: the VMM's run state and CPU time, then whether an
# SCI (the power button) gets it going, which would point at a lost wakeup.
why_silent() {
	_sock=$E2E_WORK/clone-$1.sock
	eval "_w=\$clone_pid_$1"
	_p=$(vmm_pid "$_w")
	echo "the restored guest did not run; $(vmm_exit_reason "$2")"
	echo "query-status: $(qmp "$_sock" query-status 2>&1)"
	_t1=$(awk '{ print $14 + $15 }' "/proc/$_p/stat" 2>/dev/null)
	sleep 1
	_t2=$(awk '{ print $14 + $15 }' "/proc/$_p/stat" 2>/dev/null)
	echo "VMM pid $_p used $((${_t2:-0} - ${_t1:-0})) ticks of CPU in the last second"
	_before=$(ticks_after "$2")
	qmp "$_sock" system_powerdown >/dev/null 2>&1
	sleep 5
	echo "after an SCI (system_powerdown): $_before -> $(ticks_after "$2") ticks"
}

check_same() {
	[ "$(ticks_after "$ls_")" -ge 3 ] || { why_silent same "$ls_"; return 1; }
	if grep -q 'VMGENID-E2E: guid=' "$ls_"; then
		echo "the guest saw its GUID change:"
		grep 'VMGENID-E2E: guid=' "$ls_"
		return 1
	fi
	_bad=$(grep 'VMGENID-E2E: tick ' "$ls_" | grep -v ' reseeds=0 ')
	[ -z "$_bad" ] || { echo "the guest reseeded: $_bad"; return 1; }
	_m=$(tick_field "$ls_" marker)
	[ "$_m" = "$src_marker" ] || { echo "marker '$_m', the source wrote '$src_marker'"; return 1; }
	[ "$qs" = "$GUID" ] || { echo "query-vm-generation-id: '$qs'"; return 1; }
}
tap "restore with the source's GUID: GUID unchanged, no reseed" "$ls_" check_same
clone_stop same

# ---- from the gzip stream, under -S ----

clone_start gz "exec:gzip -dc $gz" auto -S
lg=$E2E_WORK/clone-gz.log
gzs=$E2E_WORK/clone-gz.sock
# Until the stream is read the VMM may say inmigrate; then paused, not running.
n=0
while gz_st=$(qmp "$gzs" query-status 2>&1); [ "$n" -lt $((wait_limit * 10)) ]; do
	case $gz_st in *'"inmigrate"'* | genvm-qmp:*) ;; *) break ;; esac
	sleep 0.1
	n=$((n + 1))
done
sleep 1
gz_quiet=$(grep -c 'VMGENID-E2E' "$lg")
gz_cont=$(qmp "$gzs" cont 2>&1)
wait_ticks "$lg" 1 'VMGENID-E2E: marker='
qg=$(clone_guid gz)
check_paused() {
	[ "$gz_st" = '{"status": "paused", "singlestep": false, "running": false}' ] ||
		{ echo "query-status under -S after the restore: '$gz_st'"; return 1; }
	[ "$gz_quiet" = 0 ] || { echo "the guest ran before cont:"; grep 'VMGENID-E2E' "$lg"; return 1; }
	[ "$gz_cont" = '{}' ] || { echo "cont answered '$gz_cont'"; return 1; }
}
tap "restore with -S: paused, the guest silent until cont" "$lg" check_paused
check_gz() {
	_m=$(marker "$lg" marker)
	[ "$_m" = "$src_marker" ] ||
		{ echo "marker '$_m' (source '$src_marker'); $(vmm_exit_reason "$lg")"; return 1; }
	_g=$(marker "$lg" guid)
	[ -n "$qg" ] && [ "$qg" = "$_g" ] && [ "$qg" != "$GUID" ] ||
		{ echo "QMP '$qg', guest '$_g', source $GUID"; return 1; }
	expect_marker "$lg" reseeds 1
}
tap "restore from -incoming \"exec:gzip -dc F\": marker kept, new GUID, one reseed" "$lg" check_gz
clone_stop gz

# ---- bad input ----

# Refusals come before any guest runs, so they are quick; a VMM that runs a
# guest anyway is stopped after a short while, not after the boot timeout.
long_timeout=$E2E_TIMEOUT
E2E_TIMEOUT=30

# bad ID WHAT URI WORDS: restore from URI; must exit 1 with a "genvm:
# incoming: PATH: ..." line matching WORDS (an extended regex, any case) and
# no guest output.
bad() {
	_log=$E2E_WORK/bad-$1.log
	vm_boot "$_log" e2e=snapshot -device vmgenid,guid=auto -incoming "$3"
	tap "bad input, $2: exit 1, a message naming the problem, no guest output" "$_log" \
		check_bad "$_log" "$4" "$3"
	# What a user would read, for the record.
	grep -v -e '^[0-9.]* *$' -e 'VMM-EXIT: ' "$_log" | sed 's/^[0-9.]* /# /' | head -n 3
}

check_bad() {
	_st=$(vmm_status "$1")
	[ "$_st" = 1 ] || { echo "$(vmm_exit_reason "$1") (want 1)"; return 1; }
	_out=$(grep -v -e '^[0-9.]* *$' -e '^[0-9.]* VMM-EXIT: ' "$1" | sed 's/^[0-9.]* //')
	if printf '%s\n' "$_out" | grep -q -e 'VMGENID-E2E' -e '^\[ *[0-9]*\.[0-9]*\]'; then
		echo "the guest ran:"
		printf '%s\n' "$_out"
		return 1
	fi
	if [ "$is_genvm" = 0 ]; then
		[ -n "$_out" ] || { echo "no error message"; return 1; }
		return 0
	fi
	_msg=$(printf '%s\n' "$_out" | grep '^genvm: incoming: ')
	[ -n "$_msg" ] || { echo "no 'genvm: incoming: ' message; output:"; printf '%s\n' "$_out"; return 1; }
	printf '%s\n' "$_msg" | grep -q -i -E -e "$2" ||
		{ echo "the message does not say /$2/: $_msg"; return 1; }
	case $3:$_msg in
	file:*) case $_msg in
		*"${3#file:}"*) ;;
		*) echo "the message does not name ${3#file:}: $_msg"; return 1 ;;
		esac ;;
	esac
	_other=$(printf '%s\n' "$_out" | grep -v '^genvm: ')
	[ -z "$_other" ] || { echo "output besides genvm's messages:"; printf '%s\n' "$_other"; return 1; }
}

case $in_file in
file:*) bad missing "a missing file" "file:$dir/no-such-snapshot" 'no such file' ;;
# QEMU 7.2 waits forever on an exec: stream that ends before it begins.
*) echo "ok - bad input, a missing file # SKIP no file: URIs in this VMM" ;;
esac

# Cut inside the RAM image (QEMU: in the middle of its stream).
cut=$dir/truncated
if [ "$is_genvm" = 1 ]; then
	head -c $(($(le64 "$snap" 56) + 65536)) "$snap" >"$cut"
else
	head -c $(($(file_size "$snap") / 2)) "$snap" >"$cut"
fi
bad truncated "a truncated file" "${in_file%"$snap"}$cut" 'truncated'
rm -f "$cut"

# A wrong -m: the snapshot's machine has E2E_MEM.
snap_mem=$E2E_MEM
E2E_MEM=512M
[ "$snap_mem" != 512M ] || E2E_MEM=1G
bad memory "-m $E2E_MEM for a $snap_mem snapshot" "$in_file" 'memory|ram'
E2E_MEM=$snap_mem

# The rest corrupt genvm's format in place and put it back.
corrupt="a corrupted header byte|a corrupted byte in the state|version 2"
if [ "$is_genvm" = 1 ] && [ "$(head -c 8 "$snap" 2>/dev/null)" != "$SNAP_MAGIC" ]; then
	echo "$corrupt" | tr '|' '\n' | while read -r what; do
		echo "not ok - bad input, $what: there is no genvm snapshot to corrupt"
	done
elif [ "$is_genvm" = 1 ]; then
	ram_offset=$(le64 "$snap" 56)
	state_offset=$(le64 "$snap" 32)
	state_length=$(le64 "$snap" 40)
	head -c "$ram_offset" "$snap" >"$dir/head"
	repair() {
		dd if="$dir/head" of="$snap" conv=notrunc 2>/dev/null
	}

	# A byte of the header's zero padding, so only its CRC can tell.
	flip_byte "$snap" 200
	bad header "a corrupted header byte" "$in_file" 'checksum|crc'
	repair

	flip_byte "$snap" $((state_offset + state_length / 2))
	bad state "a corrupted byte in the state" "$in_file" 'checksum|crc'
	repair

	# Version 2 with a header CRC that matches: only the version is wrong.
	put_le32 "$snap" 8 2
	put_le32 "$snap" 4092 "$(head -c 4092 "$snap" | crc32)"
	bad version "version 2" "$in_file" 'version'
	repair
	rm -f "$dir/head"
else
	echo "$corrupt" | tr '|' '\n' | while read -r what; do
		echo "ok - bad input, $what # SKIP genvm's format; the VMM is not genvm"
	done
fi
E2E_TIMEOUT=$long_timeout
