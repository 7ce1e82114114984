# Stacked bars: the status of each pillar's key actions at a quarter.
# Data: a header row, then per pillar its label and six counts.
set style data histograms
set style histogram rowstacked
set style fill solid 0.9 border rgb '#ffffff'
set boxwidth 0.7
set ylabel 'Key actions'
set yrange [0:*]
set xtics rotate by -30 left noenhanced
plot for [i=2:7] datafile using i:xtic(1) title columnheader(i) lc rgb status_colour[i-1]
