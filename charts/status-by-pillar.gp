# Stacked bars, one row per pillar (labels read across, never rotated): the
# status of its key actions at a quarter. Data: a header row, then per
# pillar its label and six counts.
set style fill solid 0.9 border rgb '#ffffff'
set xlabel 'Key actions'
set xrange [0:countmin<*]
# pillar 1 at the top
set yrange [nseries - 0.5:-0.5]
set ytics scale 0
set grid noytics xtics lc rgb '#dddddd' lw 1
set offsets 0, graph 0.05, 0, 0
# each status's box ends where the count so far ends
upto(i) = sum [k=2:i] column(k)
plot datafile using (upto(2) - $2 / 2.0):0:($2 / 2.0):(0.35):yticlabels(lbl(strcol(1))) with boxxyerror \
	lc rgb status_colour[1] title columnheader(2), \
	for [i=3:7] '' using (upto(i) - column(i) / 2.0):0:(column(i) / 2.0):(0.35) with boxxyerror \
	lc rgb status_colour[i - 1] title columnheader(i)
