# Lines: mean percent complete per pillar, quarter by quarter.
# Data: a header row (quarter, then one label per pillar), then per quarter
# the mean percent of each pillar (NaN where it had no key actions).
set ylabel 'Mean percent complete'
set yrange [0:100]
set xtics rotate by -45 left
plot for [i=2:nseries + 1] datafile using 0:i:xtic(1) with linespoints lw 2 pt 7 ps 0.8 \
	lc rgb series_colour[(i - 2) % 8 + 1] title columnheader(i)
