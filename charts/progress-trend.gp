# Lines: mean percent complete per pillar, quarter by quarter. Data: per
# cycle a block (lines break between cycles), each a header row (quarter,
# x, then one label per pillar), then per quarter its label, its position
# and the mean percent of each pillar (NaN where it had no key actions).
set ylabel 'Mean percent complete'
set yrange [0:100]
set xrange [-0.5:nquarters - 0.5]
set xtics rotate by -45 left
# the key below in two columns, above the footer: long names leave the
# plot its width
set key at screen 0.5, character 2 center bottom horizontal maxcols 2
set bmargin 9 + ceil(nseries / 2.0)
set rmargin 6
# each cycle begins at a dotted rule, its name inside at the top left
do for [c=1:nblocks] {
	if (c > 1) {
		set arrow 10 + c from block_x[c] - 0.5, graph 0 to block_x[c] - 0.5, graph 1 nohead dt 3 lw 1.5 lc rgb '#555555'
	}
	set label 10 + c 'Cycle '.block_name[c] at block_x[c] - 0.5, graph 1 offset char 0.5, char -1 left tc rgb '#555555'
}
plot for [c=0:nblocks - 1] for [i=3:nseries + 2] datafile index c using 2:i:xtic(1) with linespoints \
	lw 2 pt 7 ps 0.8 lc rgb series_colour[(i - 3) % 8 + 1] title (c == 0 ? lbl(columnhead(i)) : '')
