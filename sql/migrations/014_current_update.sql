-- An action's current update, defined once (SPEC 4, "Progress
-- semantics"): its newest update with period <= p, ties by time of
-- posting, then by id, ignoring updates a co-chair returned; with
-- only_public, its newest such update marked public (all a public report
-- may show of it). p NULL: whatever the period ("latest").
--
-- Everything that asks for one goes through here: action_current(a_id)
-- (an action's latest, the actions list), action_states (whose rows feed
-- progress, trend, reporting, the charts and the pillar list), the
-- internal quarterly report's narratives and the public reports. One
-- place stays apart on purpose: progress_rebuild (003) computes the same
-- for every action and quarter at once, set-based, after a bulk load;
-- check_progress holds the sums it makes to those of the triggers.
--
-- SETOF and not STRICT, so the planner inlines it: a lateral call is the
-- index scan of status_update_action (action_id, period DESC, ...), the
-- period bound part of the index condition.
CREATE FUNCTION action_current(a_id bigint, p int, only_public boolean DEFAULT false)
RETURNS SETOF status_update
LANGUAGE sql STABLE ROWS 1 AS $$
	SELECT * FROM status_update s
	WHERE s.action_id = a_id AND s.review_state <> 'returned'
	  AND s.period <= coalesce(period_text(p), '9999-Q4')
	  AND (NOT only_public OR s.visibility = 'public')
	ORDER BY s.period DESC, s.created_at DESC, s.id DESC
	LIMIT 1
$$;

-- "Now": the newest whatever its period (002's definition, now this one).
CREATE OR REPLACE FUNCTION action_current(a_id bigint) RETURNS status_update
LANGUAGE sql STABLE AS $$
	SELECT * FROM action_current(a_id, NULL)
$$;

-- 003's state rows of one action, with its current update at each quarter
-- and at the quarter before from action_current. Updates outside the work
-- plan's quarters still count for neither last_at nor reporting.
CREATE OR REPLACE FUNCTION action_states(a_id bigint) RETURNS SETOF action_period_state
LANGUAGE sql STABLE AS $$
	WITH a AS (
		SELECT a.id, a.cycle, a.pillar, w.start_year, w.end_year,
		       coalesce((SELECT array_agg(l.entity ORDER BY l.entity)
				 FROM action_lead l WHERE l.action_id = a.id), '{}') AS leads
		FROM action a JOIN cycle c ON c.label = a.cycle JOIN workplan w ON w.id = c.workplan_id
		WHERE a.id = a_id AND NOT a.archived
	), u AS (
		SELECT period_idx(s.period) AS p, s.created_at
		FROM status_update s, a
		WHERE s.action_id = a_id AND s.review_state <> 'returned'
		  AND period_idx(s.period) BETWEEN a.start_year * 4 AND a.end_year * 4 + 3
	)
	SELECT a.id, q.p, a.cycle, a.pillar, a.leads,
	       coalesce(cur.status, 'not_started'), coalesce(cur.percent_complete, 0),
	       (SELECT max(u.created_at) FROM u WHERE u.p <= q.p),
	       EXISTS (SELECT 1 FROM u WHERE u.p IN (q.p, q.p - 1)),
	       coalesce(prev.status, 'not_started') NOT IN ('completed', 'cancelled'),
	       EXISTS (SELECT 1 FROM u WHERE u.p = q.p),
	       EXISTS (SELECT 1 FROM u WHERE u.p = q.p
		       AND (u.created_at AT TIME ZONE 'UTC')::date <= period_deadline(q.p))
	FROM a
	CROSS JOIN LATERAL generate_series(a.start_year * 4, a.end_year * 4 + 3) AS q (p)
	LEFT JOIN LATERAL action_current(a.id, q.p) cur ON true
	LEFT JOIN LATERAL action_current(a.id, q.p - 1) prev ON true
$$;

-- 007's public updates of the actions in scope at p: each one's current
-- public update.
CREATE OR REPLACE FUNCTION report_public_updates(p int)
RETURNS TABLE (id bigint, pillar int, title text, status text, percent int, period text,
	       summary text, updated_at timestamptz)
LANGUAGE sql STABLE AS $$
	SELECT a.id, a.pillar::int, a.title, u.status, u.percent_complete::int, u.period, u.public_summary,
	       u.created_at
	FROM action a JOIN cycle c ON a.cycle = c.label AND p / 4 BETWEEN c.start_year AND c.end_year
	JOIN LATERAL action_current(a.id, p, true) u ON true
	WHERE NOT a.archived
$$;

-- 007's internal quarterly report, its narratives from each action's
-- current update at p.
CREATE OR REPLACE FUNCTION report_quarterly(p int) RETURNS json LANGUAGE sql STABLE AS $$
	WITH c AS (SELECT label FROM cycle WHERE p / 4 BETWEEN start_year AND end_year),
	acts AS (
		SELECT a.id, a.pillar, a.title, pl.status = 'active' AS active,
		       coalesce((SELECT json_agg(l.entity ORDER BY l.position) FROM action_lead l
				 WHERE l.action_id = a.id), '[]') AS leads,
		       s.status, s.percent, s.expected, s.reported, s.on_time, u.period AS updated,
		       u.narrative, u.created_at AS updated_at
		FROM action a JOIN c ON a.cycle = c.label JOIN pillar pl ON pl.number = a.pillar
		JOIN action_period_state s ON s.action_id = a.id AND s.period = p
		LEFT JOIN LATERAL action_current(a.id, p) u ON true
		WHERE NOT a.archived)
	SELECT json_build_object('kind', 'quarterly', 'audience', 'internal', 'period', period_text(p),
		'cycle', (SELECT label FROM c), 'deadline', period_deadline(p),
		'cochairs', report_cochairs(p),
		'totals', (SELECT json_build_object('actions', count(*),
				'completed', count(*) FILTER (WHERE status = 'completed'),
				'at_risk', count(*) FILTER (WHERE status = 'at_risk'),
				'delayed', count(*) FILTER (WHERE status = 'delayed'),
				'mean_percent', coalesce(round(avg(percent), 1), 0.0),
				'expected', count(*) FILTER (WHERE active AND expected),
				'reported', count(*) FILTER (WHERE active AND expected AND reported),
				'on_time', count(*) FILTER (WHERE active AND expected AND on_time)) FROM acts),
		'pillars', (SELECT json_agg(json_build_object('number', pl.number, 'name', pl.name,
				'status', pl.status, 'inactive_reason', pl.inactive_reason,
				'leads', coalesce((SELECT json_agg(entity ORDER BY position) FROM pillar_lead
						   WHERE pillar = pl.number), '[]'),
				'actions', coalesce((SELECT json_agg(json_build_object('id', a.id,
					'title', a.title, 'leads', a.leads, 'status', a.status,
					'percent', a.percent, 'updated', a.updated,
					'updated_at', utc_text(a.updated_at), 'narrative', a.narrative)
					ORDER BY a.id) FROM acts a WHERE a.pillar = pl.number), '[]'),
				'missing', coalesce((SELECT json_agg(json_build_object('id', a.id, 'title', a.title,
					'leads', a.leads) ORDER BY a.id) FROM acts a WHERE a.pillar = pl.number
					AND a.active AND a.expected AND NOT a.reported), '[]'),
				'late', coalesce((SELECT json_agg(json_build_object('id', a.id, 'title', a.title,
					'leads', a.leads) ORDER BY a.id) FROM acts a WHERE a.pillar = pl.number
					AND a.active AND a.expected AND a.reported AND NOT a.on_time), '[]'))
				ORDER BY pl.number) FROM pillar pl),
		'attention', (SELECT coalesce(json_agg(json_build_object('id', a.id, 'pillar', a.pillar,
				'title', a.title, 'status', a.status, 'percent', a.percent,
				'narrative', a.narrative) ORDER BY a.pillar, a.id), '[]')
			FROM acts a WHERE a.status IN ('at_risk', 'delayed')),
		'entities', (SELECT coalesce(json_agg(json_build_object('code', x.code, 'expected', x.e,
				'reported', x.r, 'on_time', x.o) ORDER BY x.code), '[]')
			FROM (SELECT l.entity AS code, count(*) AS e, count(*) FILTER (WHERE a.reported) AS r,
				     count(*) FILTER (WHERE a.on_time) AS o
			      FROM acts a JOIN action_lead l ON l.action_id = a.id
			      WHERE a.active AND a.expected GROUP BY l.entity) x))
$$;
