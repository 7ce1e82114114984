-- The per-pillar progress aggregate computed straight from the raw tables:
-- what GET /v1/progress would cost without the maintained sums.
-- psql variables: as_of (e.g. '2023-Q2'), prev ('2023-Q1'), cycle.
WITH a AS (SELECT id, pillar FROM action WHERE cycle = :'cycle' AND NOT archived),
st AS (
	SELECT a.pillar, coalesce(c.status, 'not_started') AS status,
	       coalesce(c.percent_complete, 0) AS pc,
	       NOT EXISTS (SELECT 1 FROM status_update s WHERE s.action_id = a.id
			   AND s.review_state <> 'returned' AND s.period IN (:'as_of', :'prev')) AS stale
	FROM a LEFT JOIN LATERAL (
		SELECT status, percent_complete FROM status_update s
		WHERE s.action_id = a.id AND s.review_state <> 'returned' AND s.period <= :'as_of'
		ORDER BY s.period DESC, s.created_at DESC, s.id DESC LIMIT 1) c ON true)
SELECT pillar, count(*), count(*) FILTER (WHERE status = 'completed'),
       round(avg(pc), 1), count(*) FILTER (WHERE stale)
FROM st GROUP BY pillar ORDER BY pillar;
