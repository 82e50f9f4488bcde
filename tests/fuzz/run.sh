#!/usr/bin/env bash
# Run one libFuzzer target as one TAP test.
# usage: run.sh NAME BINARY TESTS_FUZZ_DIR   (the generated check_NAME does this)
#
#   1. every file under regress/NAME/ once, so fixed bugs stay fixed;
#   2. FUZZ_SECONDS (default 10) of fuzzing that starts from corpus/NAME/
#      (and FUZZ_NEW_DIR/NAME when set); what it finds new goes to
#      FUZZ_NEW_DIR/NAME, or to a scratch directory, never into the tree.
#      Regression inputs are no seeds: some are large on purpose, and
#      libFuzzer would go on to mutate inputs that large.
#
# A crash, a sanitizer report, a broken invariant, an input slower than
# FUZZ_TIMEOUT seconds (10) or past 2 GiB fails the test, and the line says
# where the reproducer is: the regression file itself, or the artifact
# libFuzzer wrote under FUZZ_ARTIFACTS (default: artifacts/ beside the binary).
set -u
name=$1 bin=$2 dir=$3
secs=${FUZZ_SECONDS:-10}
corpus=$dir/corpus/$name
regress=$dir/regress/$name
art=${FUZZ_ARTIFACTS:-$(dirname "$bin")/artifacts}/$name
mkdir -p "$art"
log=$(mktemp)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch" "$log"' EXIT
new=$scratch
if [ -n "${FUZZ_NEW_DIR:-}" ]; then
	new=$FUZZ_NEW_DIR/$name
fi
mkdir -p "$new"

echo "1..1"
fail() {
	tail -n 60 "$log" | sed 's/^/# /'
	echo "not ok 1 - $name: $1"
	exit 1
}

opts=(-artifact_prefix="$art/" -timeout="${FUZZ_TIMEOUT:-10}" -rss_limit_mb=2048
	-print_final_stats=1)
if [ -f "$dir/$name.dict" ]; then
	opts+=(-dict="$dir/$name.dict")
fi

regs=()
if [ -d "$regress" ]; then
	for f in "$regress"/*; do
		[ -f "$f" ] && regs+=("$f")
	done
fi
if [ "${#regs[@]}" -gt 0 ] && ! "$bin" "${opts[@]}" "${regs[@]}" >"$log" 2>&1; then
	# libFuzzer names each file before it runs it: the last one is the culprit.
	culprit=$(sed -n 's/^Running: //p' "$log" | tail -n 1)
	fail "regression input fails: ${culprit:-see the log above}"
fi

"$bin" "${opts[@]}" -max_total_time="$secs" "$new" "$corpus" >"$log" 2>&1
rc=$?
if [ "$rc" -ne 0 ]; then
	repro=$(sed -n 's/.*Test unit written to //p' "$log" | tail -n 1)
	fail "failed (exit $rc) after fuzzing; reproducer: ${repro:-none written, see the log above}"
fi
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1)
echo "ok 1 - $name: ${runs:-?} runs in ${secs}s (${rate:-?}/s), ${cov:-cov: ?}, regressions ${#regs[@]}"
