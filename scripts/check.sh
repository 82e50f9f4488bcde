#!/usr/bin/env bash
# make check: install dependencies, build, run every test, and end with one
# line "N passed, N failed, N skipped".
#
# Suites: unit tests (cmocka), checks against the real ACPICA tools, the
# install tests (tests/install: a DESTDIR install used as embedders use it),
# the end-to-end tests, the unit tests again under ASan+UBSan, the Debian
# packages (make deb, lintian, their contents and installed programs), and
# each fuzz target (tests/fuzz) on its regression inputs and for
# FUZZ_SECONDS (10).
set -u
cd "$(dirname "$0")/.."

tally=$(mktemp)
export TAP_TALLY=$tally
export CMOCKA_MESSAGE_OUTPUT=TAP
trap 'rm -f "$tally"' EXIT

build_failed() {
	echo "check: $1" >&2
	echo "build 0 1 0" >>"$tally"
}

unit_tests() {
	find "$1/tests/unit" -maxdepth 1 -type f -name 'test_*' -perm -u+x | sort
}

finish() {
	awk '{ p += $2; f += $3; s += $4 } END {
		printf "%d passed, %d failed, %d skipped\n", p, f, s
		exit (f > 0 || NR == 0) }' "$tally"
	exit $?
}

if ! bash scripts/deps.sh; then
	build_failed "installing dependencies failed"
	finish
fi

built=1
bash scripts/build.sh build || { build_failed "build failed"; built=0; }
asan_built=1
bash scripts/build.sh build-asan -Db_sanitize=address,undefined -Db_lundef=false \
	-Dbuildtype=debug || { build_failed "sanitizer build failed"; asan_built=0; }

if [ "$built" = 1 ]; then
	bash scripts/tap-run.sh unit $(unit_tests build)
	for t in tests/acpica/*.sh; do
		[ -e "$t" ] && BUILD=build bash scripts/tap-run.sh acpica "$t"
	done
	# A DESTDIR install, and the library used from it as an embedder would.
	for t in tests/install/*.sh; do
		[ -e "$t" ] && BUILD=build bash scripts/tap-run.sh install "$t"
	done
	if [ -x tests/e2e/run.sh ]; then
		BUILD=build bash scripts/tap-run.sh e2e tests/e2e/run.sh
	fi
fi
if [ "$asan_built" = 1 ]; then
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
		bash scripts/tap-run.sh asan $(unit_tests build-asan)
fi
# The packages build from a copy of the tree, so this needs no build dir.
bash scripts/tap-run.sh deb tests/package/test_deb.sh
# One TAP test per target; a crash names its reproducer.
if bash scripts/fuzz.sh build; then
	FUZZ_SECONDS=${FUZZ_SECONDS:-10} bash scripts/tap-run.sh fuzz build-fuzz/tests/fuzz/check_*
else
	build_failed "fuzz build failed"
fi
finish
