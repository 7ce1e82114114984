# Heat map: pillar by quarter, the share of expected key actions reported
# on time. Data: a matrix with column headers (quarters), NaN where nothing
# was expected; then a block of the pillars' labels, one a line.
# viridis, readable in colour-blind vision and in greyscale
set palette defined (0 '#440154', 0.25 '#3b528b', 0.5 '#21918c', 0.75 '#5ec962', 1 '#fde725')
set cbrange [0:1]
set cblabel 'Share reported on time'
set xtics rotate by -45 left
set xrange [-0.5:nquarters - 0.5]
set yrange [nseries - 0.5:-0.5]
set ytics scale 0
set grid noytics
unset key
plot datafile index 0 matrix columnheaders using 1:2:3 with image, \
	'' index 1 using (NaN):0:yticlabels(lbl(strcol(1))) notitle
