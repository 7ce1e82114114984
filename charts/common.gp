# Shared by every chart: a colour-blind-safe palette (Okabe and Ito), a
# quiet grid, the footer. The worker sets terminal, datafile, charttitle,
# footer, nseries, nquarters and nblocks (with block_x and block_name for
# each cycle) before this file; text from the database reaches gnuplot only
# through the data file, never through these commands.
set encoding utf8
set datafile separator "\t"
set datafile missing "NaN"
array status_colour[6] = ['#999999', '#0072B2', '#E69F00', '#D55E00', '#009E73', '#CC79A7']
array series_colour[8] = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00', '#F0E442', '#000000']
# A label from the data file as it was typed: the worker wrote each double
# quote as \001 and each backslash as \002, since gnuplot ends a data field
# at a quote and reads backslash escapes in it. String functions only:
# nothing in the label is evaluated.
subst(s, a, b) = strstrt(s, a) == 0 ? s : s[1:strstrt(s, a) - 1] . b . subst(s[strstrt(s, a) + strlen(a):], a, b)
lbl(s) = subst(subst(s, "\001", "\""), "\002", "\\")
# A count axis (key actions) reaches countmin at least: gnuplot ticks a
# shorter range by 0.5 or 0.2, and from 5 up by whole numbers (1, 2, 5...)
countmin = 5
set title charttitle
set border 3 lc rgb '#555555'
set tics nomirror tc rgb '#333333'
set grid ytics lc rgb '#dddddd' lw 1
set key outside right top vertical noenhanced
set bmargin 9
set label 99 footer at screen 0.01, screen 0.025 left tc rgb '#555555' noenhanced
