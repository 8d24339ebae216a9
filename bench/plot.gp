# bench/plot.gp — ns/packet per filter and engine, from vfm-bench --dat.
# Usage: gnuplot -e "datafile='nspp.dat'; outfile='nspp.png'" bench/plot.gp
# (bench/plot.sh picks the terminal).  One cluster per filter, one bar per
# engine; engines that do not exist for a filter ("-") leave a gap.
if (!exists("term")) term = "pngcairo size 1100,600 font ',10'"
eval("set terminal " . term)
set output outfile
set title "VFM benchmark: median ns/packet (lower is better)"
set ylabel "ns / packet"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set datafile missing "-"
set key top left
set grid ytics
set yrange [0:*]
plot for [i=2:*] datafile using i:xtic(1) title columnheader(i)
