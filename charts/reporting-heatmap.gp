# Heat map: pillar by quarter, the share of expected key actions reported
# on time. Data: a matrix with column headers (quarters) and row headers
# (pillars); NaN where nothing was expected.
# viridis, readable in colour-blind vision and in greyscale
set palette defined (0 '#440154', 0.25 '#3b528b', 0.5 '#21918c', 0.75 '#5ec962', 1 '#fde725')
set cbrange [0:1]
set cblabel 'Share reported on time'
set xtics rotate by -45 left
set yrange [*:*] reverse
set grid noytics
unset key
plot datafile matrix rowheaders columnheaders using 1:2:3 with image
