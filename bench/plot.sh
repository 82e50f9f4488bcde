#!/usr/bin/env bash
# bench/plot: the density plot of docs/performance.md, clone count against
# the clones' total Pss, genvm and QEMU, from the "DENSITY" lines that
# bench/restore.sh prints.
#
# usage: bench/plot.sh RESTORE_LOG [OUT_DIR]     (default docs)
# writes OUT_DIR/performance-density.dat and OUT_DIR/performance-density.svg
# needs: gnuplot (Debian package gnuplot-nox, in scripts/deps.sh)
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
log=${1:?usage: bench/plot.sh RESTORE_LOG [OUT_DIR]}
out=${2:-$repo/docs}
command -v gnuplot >/dev/null || { echo "bench/plot: needs gnuplot (apt-get install gnuplot-nox)" >&2; exit 1; }
[ -r "$log" ] || { echo "bench/plot: cannot read '$log'" >&2; exit 1; }

dat=$out/performance-density.dat
# One row per clone count: genvm's and QEMU's total Pss in MiB ("NaN" where
# QEMU's clones did not fit, so gnuplot leaves the point out).
awk '
	$1 == "DENSITY" {
		v = ($2 == "genvm") ? "g" : "q"
		pss[v, $3] = ($4 == "skipped") ? "NaN" : sprintf("%.1f", $4 / 1024)
		if (!($3 in seen)) { seen[$3] = 1; order[++k] = $3 }
	}
	END {
		print "# clones genvm_total_pss_MiB qemu_pc_total_pss_MiB (from bench/restore.sh DENSITY lines)"
		for (i = 1; i <= k; i++) {
			c = order[i]
			g = ((("g", c) in pss) ? pss["g", c] : "NaN")
			q = ((("q", c) in pss) ? pss["q", c] : "NaN")
			print c, g, q
		}
	}' "$log" >"$dat"
[ "$(grep -vc '^#' "$dat")" -gt 0 ] || { echo "bench/plot: no DENSITY lines in '$log'" >&2; exit 1; }

gnuplot <<GP
set terminal svg size 640,400 dynamic font "sans,11"
set output "$out/performance-density.svg"
set title "Clones of one 256 MiB snapshot started together: total Pss"
set xlabel "clones"
set ylabel "total Pss of the VMM processes (MiB)"
set key top left
set grid
set logscale x
set xtics (1, 10, 50)
plot "$dat" using 1:2 with linespoints lw 2 pt 7 title "genvm (file:, guid=auto)", \
     "$dat" using 1:3 with linespoints lw 2 pt 5 title "QEMU 7.2 -M pc (-incoming exec:cat)"
GP
echo "bench/plot: wrote $dat and $out/performance-density.svg"
