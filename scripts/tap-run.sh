#!/usr/bin/env bash
# Run TAP-producing test programs and add up their results.
#
# usage: tap-run.sh LABEL PROGRAM [PROGRAM...]
# Prints each program's TAP (indented) and one line per program, then appends
# "LABEL passed failed skipped" to $TAP_TALLY (if set).  A program that exits
# non-zero without reporting a failure, or reports fewer results than its
# plan, counts as failed: a crash must never read as a pass.
set -u
label=$1
shift
total_pass=0 total_fail=0 total_skip=0
for prog in "$@"; do
	name=$(basename "$prog")
	out=$(mktemp)
	"$prog" >"$out" 2>&1
	rc=$?
	read -r pass fail skip plan < <(awk '
		/^1\.\.[0-9]+/ { split($0, a, "."); plan = a[3] + 0 }
		/^ok / { if ($0 ~ /# (SKIP|skip)/) s++; else p++ }
		/^not ok / { if ($0 ~ /# (SKIP|skip)/) s++; else f++ }
		END { print p + 0, f + 0, s + 0, (plan == "" ? -1 : plan) }' "$out")
	seen=$((pass + fail + skip))
	if [ "$plan" -ge 0 ] && [ "$seen" -lt "$plan" ]; then
		fail=$((fail + plan - seen))
	fi
	if [ "$rc" -ne 0 ] && [ "$fail" -eq 0 ]; then
		fail=1
	fi
	if [ "$fail" -ne 0 ] || [ "${VERBOSE:-0}" = 1 ]; then
		sed 's/^/    /' "$out"
	fi
	printf '%-8s %-40s %3d passed, %d failed, %d skipped%s\n' "$label" "$name" \
		"$pass" "$fail" "$skip" "$([ "$rc" -ne 0 ] && echo " (exit $rc)")"
	rm -f "$out"
	total_pass=$((total_pass + pass))
	total_fail=$((total_fail + fail))
	total_skip=$((total_skip + skip))
done
if [ -n "${TAP_TALLY:-}" ]; then
	echo "$label $total_pass $total_fail $total_skip" >>"$TAP_TALLY"
fi
[ "$total_fail" -eq 0 ]
