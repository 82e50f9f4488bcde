# Sourced by the bench scripts (bash): what they all need.  The caller sets
# bench_name (for messages) before sourcing.

die() {
	echo "bench/$bench_name: $*" >&2
	exit 1
}

# Under TCG, nested emulation or PVM, times say nothing about genvm or QEMU:
# refuse rather than print them.
require_hardware_kvm() {
	if [ ! -c /dev/kvm ]; then
		die "benchmarks need real KVM and this machine has no /dev/kvm (times in a nested or emulated guest are not performance figures)"
	fi
	if [ -d /sys/module/kvm_pvm ] && [ ! -d /sys/module/kvm_intel ] &&
		[ ! -d /sys/module/kvm_amd ]; then
		die "benchmarks need hardware KVM; this /dev/kvm is PVM (kvm_pvm), which cannot run Debian's kernel at native speed"
	fi
}

# make_workdir: a scratch directory in $work, removed at exit together with
# every process whose pid was added to bg_pids.
bg_pids=()
make_workdir() {
	work=$(mktemp -d "${TMPDIR:-/tmp}/bench-$bench_name.XXXXXX")
	trap bench_cleanup EXIT
}

bench_cleanup() {
	local p
	for p in "${bg_pids[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	wait 2>/dev/null || true
	rm -rf "$work"
}
