# Burn-up: one pillar's key actions planned and completed, by quarter.
# Data: a header row, then per quarter its label, planned and completed.
set ylabel 'Key actions'
set yrange [0:*]
set xtics rotate by -45 left
plot datafile using 0:2:xtic(1) with lines lw 2 dt 2 lc rgb '#999999' title columnheader(2), \
	'' using 0:3 with linespoints lw 2 pt 7 lc rgb '#009E73' title columnheader(3)
