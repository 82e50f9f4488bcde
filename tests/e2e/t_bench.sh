#!/bin/sh
# The benches as a smoke test (issue 16): each bench/*.sh that names its
# smallest settings in a "# bench-smoke:" line runs once with them and must
# finish, exit 0 and print its table (every "# bench-smoke-expect:" pattern of
# the bench matches a line of its output).  No timing is judged: a ratio the
# bench marks MISSED is still a pass here.
#
# A bench joins by carrying those lines, e.g. (bench/disk.sh, when it lands):
#   # bench-smoke: BENCH_RUNS=1 -- ARGS...
#   # bench-smoke-expect: ^ratio genvm/qemu
# VAR=VALUE words are its environment, words after "--" its arguments.
#
# Under the nested harness the benches run here, in the L1 guest the other
# scenarios share (nested.sh packs bench/, bash and QEMU for this scenario),
# as they do inside their own L1 when run by hand (BENCH_IN_L1=1: nested mode,
# ratios only).  On a host with hardware KVM they run on the host.
# e2e-needs: bench
# e2e-slow
. "$(dirname "$0")/lib.sh"

if [ "${VMGENID_E2E_L1:-0}" = 1 ]; then
	bench_dir=/bench
	BENCH_IN_L1=1
	export BENCH_IN_L1
else
	bench_dir=$(cd "$(dirname "$0")/../../bench" && pwd)
fi

# smoke_fields FILE TAG: the text after "# TAG: " on each line that has it.
smoke_fields() {
	sed -n "s/^# $2: //p" "$1"
}

found=0
for b in "$bench_dir"/*.sh; do
	settings=$(smoke_fields "$b" bench-smoke)
	[ -n "$settings" ] || continue
	found=$((found + 1))
	name=bench/$(basename "$b")
	log=$E2E_WORK/smoke-$(basename "$b" .sh).log
	vars= args= past=0
	for w in $settings; do
		if [ "$past" = 1 ]; then
			args="$args $w"
		elif [ "$w" = -- ]; then
			past=1
		else
			vars="$vars $w"
		fi
	done
	read -r t0 _ </proc/uptime
	# shellcheck disable=SC2086 # word lists by design
	env $vars bash "$b" $args >"$log" 2>&1
	rc=$?
	read -r t1 _ </proc/uptime
	secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", b - a }')
	why=
	[ "$rc" = 0 ] || why="exited with status $rc"
	if [ -z "$why" ]; then
		pats=$(smoke_fields "$b" bench-smoke-expect)
		[ -n "$pats" ] || why="names no '# bench-smoke-expect:' line to check its table by"
		while IFS= read -r p; do
			[ -n "$p" ] || continue
			grep -Eq -- "$p" "$log" || why="${why:+$why; }no line of its output matches /$p/"
		done <<EOF
$pats
EOF
	fi
	if [ -z "$why" ]; then
		echo "ok - $name smoke ($settings): finished, printed its table, exit 0 after $secs s"
		# Its table, for the record: the figures are not judged.
		sed 's/^/#   /' "$log"
	else
		echo "not ok - $name smoke ($settings): $why after $secs s"
		tail -n 40 "$log" | sed 's/^/# /'
	fi
done
[ "$found" -gt 0 ] ||
	echo "not ok - bench smoke: no bench in $bench_dir has a '# bench-smoke:' line"
