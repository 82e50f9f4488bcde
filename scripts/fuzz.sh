#!/usr/bin/env bash
# make fuzz: build the libFuzzer targets of tests/fuzz and fuzz each for
# FUZZ_SECONDS (60), ending with "N passed, N failed, N skipped".
#
# usage: fuzz.sh [TARGET...]    every target when none is named
#        fuzz.sh build          only configure and build build-fuzz
#
# The build (build-fuzz) is clang with ASan+UBSan and libFuzzer's coverage
# on the library and the modules under test.  What a run finds new is kept
# in build-fuzz/found/TARGET and seeds the next run; crashes are written
# to build-fuzz/tests/fuzz/artifacts/TARGET (docs/fuzzing.md).
set -u
cd "$(dirname "$0")/.."

build() {
	CC=${FUZZ_CC:-clang} bash scripts/build.sh build-fuzz -Dfuzz=true \
		-Db_sanitize=address,undefined -Db_lundef=false
}

if [ "${1:-}" = build ]; then
	build
	exit
fi
if ! build; then
	echo "fuzz: the fuzz build failed (is clang installed? make deps)" >&2
	exit 1
fi

targets=()
if [ "$#" -eq 0 ]; then
	targets=(build-fuzz/tests/fuzz/check_*)
else
	for t in "$@"; do
		if [ ! -x "build-fuzz/tests/fuzz/check_$t" ]; then
			echo "fuzz: no target '$t' (see tests/fuzz/meson.build)" >&2
			exit 2
		fi
		targets+=("build-fuzz/tests/fuzz/check_$t")
	done
fi

tally=$(mktemp)
trap 'rm -f "$tally"' EXIT
FUZZ_SECONDS=${FUZZ_SECONDS:-60} FUZZ_NEW_DIR=${FUZZ_NEW_DIR:-$PWD/build-fuzz/found} \
	TAP_TALLY=$tally VERBOSE=1 bash scripts/tap-run.sh fuzz "${targets[@]}"
awk '{ p += $2; f += $3; s += $4 } END {
	printf "%d passed, %d failed, %d skipped\n", p, f, s
	exit (f > 0) }' "$tally"
