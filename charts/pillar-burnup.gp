# Burn-up: one pillar's key actions planned and completed, counted from the
# start of each cycle. Data: per cycle a block (lines break between cycles),
# each a header row, then per quarter its label, position, planned and
# completed.
set ylabel 'Key actions'
set yrange [0:countmin<*]
set xrange [-0.5:nquarters - 0.5]
set xtics rotate by -45 left
# each cycle begins at a dotted rule, its name inside at the top left
do for [c=1:nblocks] {
	if (c > 1) {
		set arrow 10 + c from block_x[c] - 0.5, graph 0 to block_x[c] - 0.5, graph 1 nohead dt 3 lw 1.5 lc rgb '#555555'
	}
	set label 10 + c 'Cycle '.block_name[c] at block_x[c] - 0.5, graph 1 offset char 0.5, char -1 left tc rgb '#555555'
}
# planned is due by the end of a quarter: it holds until the next one
plot for [c=0:nblocks - 1] datafile index c using 2:3:xtic(1) with steps lw 2 dt 2 lc rgb '#777777' \
	title (c == 0 ? columnhead(3) : ''), \
	for [c=0:nblocks - 1] '' index c using 2:4 with linespoints lw 2 pt 7 lc rgb '#009E73' \
	title (c == 0 ? columnhead(4) : '')
