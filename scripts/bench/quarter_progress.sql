-- pgbench: the core of GET /v1/progress (api/h_progress.c): the maintained
-- per-pillar sums of a quarter, over the pillars.
\set y random(:first, :last)
\set q random(1, 4)
SELECT p.number, p.name, g.actions, g.on_track, g.percent_sum
FROM pillar p LEFT JOIN progress_agg g ON g.pillar = p.number
	AND g.cycle = (SELECT label FROM cycle WHERE :y BETWEEN start_year AND end_year)
	AND g.period = :y * 4 + :q - 1;
