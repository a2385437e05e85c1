set terminal pngcairo size 800,500 noenhanced
set output 'docs/search/kt-cache-pnpoly-rtx3090-best-so-far.png'
set logscale x
set logscale y
set xlabel 'evaluations'
set ylabel 'best so far / optimum (median of 20 seeds)'
set title 'kt-cache-pnpoly-rtx3090'
set key top right opaque
set grid
set yrange [0.99:2.5]
set ytics (1, 1.01, 1.05, 1.1, 1.2, 1.5, 2, 2.5)
plot 'docs/search/kt-cache-pnpoly-rtx3090-best-so-far.dat' using 1:2 with lines lw 2 title 'exhaustive', '' using 1:3 with lines lw 2 title 'random', '' using 1:4 with lines lw 2 title 'local', '' using 1:5 with lines lw 2 title 'bo', 1.05 with lines dt 2 lc rgb 'gray' title 'within 5%'
