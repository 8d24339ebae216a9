#!/bin/sh
# bench/plot.sh DAT OUT.png — draw vfm-bench's ns/packet table with gnuplot.
# Falls back to SVG (OUT with .svg) where gnuplot has no cairo PNG terminal;
# says so and succeeds if gnuplot is missing (ci/install-deps.sh installs it).
set -eu
dat=$1
out=$2
if ! command -v gnuplot >/dev/null 2>&1; then
	echo "plot: gnuplot not installed, no plot (apt-get install gnuplot-nox)"
	exit 0
fi
here=$(dirname "$0")
if gnuplot -e "set terminal" 2>&1 | grep -q pngcairo; then
	term="pngcairo size 1100,600 font ',10'"
else
	out=${out%.png}.svg
	term="svg size 1100,600"
fi
gnuplot -e "datafile='$dat'; outfile='$out'; term=\"$term\"" "$here/plot.gp"
echo "plot: wrote $out"
