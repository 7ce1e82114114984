# Any kind, when there is nothing to draw for the period (no key action in
# scope, nothing expected): the title and footer, and a sentence saying so.
unset border
unset tics
unset key
unset grid
set xrange [0:1]
set yrange [0:1]
set label 98 'No updates for this period' at graph 0.5, graph 0.5 center tc rgb '#333333' font ',24'
plot NaN notitle
