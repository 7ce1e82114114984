-- A report's audience (SPEC section 7): internal reports hold narratives,
-- review state and compliance for the Network; public ones hold only
-- public updates and their public summaries. Only public ones can be
-- published.

ALTER TABLE report ADD COLUMN audience text;
UPDATE report SET audience = CASE WHEN kind = 'side-event' THEN 'public' ELSE 'internal' END;
-- A quarterly report published before audiences existed showed internal
-- narratives under /v1/public: it is internal, so it is withdrawn.
UPDATE report SET published = false, published_at = NULL WHERE audience = 'internal' AND published;
ALTER TABLE report
	ALTER COLUMN audience SET DEFAULT 'internal',
	ALTER COLUMN audience SET NOT NULL,
	ADD CONSTRAINT report_audience CHECK (audience IN ('internal', 'public')),
	ADD CONSTRAINT report_side_event_public CHECK (kind <> 'side-event' OR audience = 'public'),
	ADD CONSTRAINT report_published_public CHECK (NOT published OR audience = 'public');

-- Two requests are the same report when they also agree on the audience.
DROP INDEX report_once;
CREATE UNIQUE INDEX report_once
	ON report (kind, audience, period, coalesce(event_id, 0), formats, data_version)
	WHERE state <> 'failed';

-- RFC 3339 in UTC with a Z, to the second: the one way reports and their
-- files write an instant, whatever the session's TimeZone.
CREATE FUNCTION utc_text(t timestamptz) RETURNS text LANGUAGE sql STABLE AS $$
	SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
$$;

CREATE OR REPLACE FUNCTION report_json(r report, public boolean) RETURNS json LANGUAGE sql STABLE AS $$
	SELECT json_build_object('id', r.id, 'kind', r.kind, 'audience', r.audience,
		'period', r.period, 'event', r.event_id,
		'formats', r.formats, 'state', r.state, 'error', r.error,
		'data_version', r.data_version::text, 'published', r.published,
		'published_at', utc_text(r.published_at), 'created_at', utc_text(r.created_at),
		'artifacts', coalesce((SELECT json_agg(json_build_object('format', ra.format,
			'name', ra.name, 'bytes', length(a.bytes), 'sha256', encode(a.sha256, 'hex'),
			'url', CASE WHEN public THEN '/v1/public/reports/' ELSE '/v1/reports/' END
			       || r.id || '/files/' || ra.name) ORDER BY ra.name)
			FROM report_artifact ra JOIN artifact a ON a.key = ra.artifact_key
			WHERE ra.report_id = r.id), '[]'::json))
$$;

-- The co-chairs in office in quarter p (entities, never people).
CREATE FUNCTION report_cochairs(p int) RETURNS json LANGUAGE sql STABLE AS $$
	SELECT coalesce(json_agg(json_build_object('entity', t.entity, 'name', e.name, 'kind', t.kind)
			ORDER BY t.kind, t.entity), '[]')
	FROM cochair_term t JOIN entity e ON e.code = t.entity
	WHERE t.from_year <= p / 4 AND coalesce(t.to_year, p / 4) >= p / 4
$$;

-- What a public-audience report may say of a key action: its newest
-- update marked public as of quarter p, and only that update's status,
-- percent, quarter, public summary and time. No narrative, review
-- comment or author is selected, so none can reach a public file.
CREATE FUNCTION report_public_updates(p int)
RETURNS TABLE (id bigint, pillar int, title text, status text, percent int, period text,
	       summary text, updated_at timestamptz)
LANGUAGE sql STABLE AS $$
	SELECT a.id, a.pillar::int, a.title, u.status, u.percent_complete::int, u.period, u.public_summary,
	       u.created_at
	FROM action a JOIN cycle c ON a.cycle = c.label AND p / 4 BETWEEN c.start_year AND c.end_year
	JOIN LATERAL (SELECT x.status, x.percent_complete, x.period, x.public_summary, x.created_at
		FROM status_update x
		WHERE x.action_id = a.id AND x.visibility = 'public'
		  AND x.review_state <> 'returned' AND period_idx(x.period) <= p
		ORDER BY x.period DESC, x.created_at DESC, x.id DESC LIMIT 1) u ON true
	WHERE NOT a.archived
$$;

CREATE FUNCTION report_public_actions(p int, pillar_number int) RETURNS json LANGUAGE sql STABLE AS $$
	SELECT coalesce(json_agg(json_build_object('title', u.title, 'status', u.status,
			'percent', u.percent, 'period', u.period, 'summary', u.summary,
			'updated_at', utc_text(u.updated_at)) ORDER BY u.id), '[]')
	FROM report_public_updates(p) u WHERE u.pillar = pillar_number
$$;

-- The internal quarterly report: as in 005, with its audience, the
-- co-chairs from report_cochairs and each update's time.
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
		LEFT JOIN LATERAL (SELECT x.period, x.narrative, x.created_at FROM status_update x
			WHERE x.action_id = a.id AND x.review_state <> 'returned'
			  AND period_idx(x.period) <= p
			ORDER BY x.period DESC, x.created_at DESC, x.id DESC LIMIT 1) u ON true
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

-- The public quarterly report. Figures (counts and the mean, as the
-- charts show them) count every key action in scope; what it says of any
-- one key action comes from its public update only. No compliance: who
-- has not reported is for the Network.
CREATE FUNCTION report_quarterly_public(p int) RETURNS json LANGUAGE sql STABLE AS $$
	WITH c AS (SELECT label FROM cycle WHERE p / 4 BETWEEN start_year AND end_year),
	acts AS (
		SELECT a.pillar, s.status, s.percent
		FROM action a JOIN c ON a.cycle = c.label
		JOIN action_period_state s ON s.action_id = a.id AND s.period = p
		WHERE NOT a.archived)
	SELECT json_build_object('kind', 'quarterly', 'audience', 'public', 'period', period_text(p),
		'cycle', (SELECT label FROM c), 'deadline', period_deadline(p),
		'cochairs', report_cochairs(p),
		'totals', (SELECT json_build_object('actions', count(*),
				'completed', count(*) FILTER (WHERE status = 'completed'),
				'at_risk', count(*) FILTER (WHERE status = 'at_risk'),
				'delayed', count(*) FILTER (WHERE status = 'delayed'),
				'mean_percent', coalesce(round(avg(percent), 1), 0.0)) FROM acts),
		'pillars', (SELECT json_agg(json_build_object('number', pl.number, 'name', pl.name,
				'status', pl.status, 'inactive_reason', pl.inactive_reason,
				'leads', coalesce((SELECT json_agg(entity ORDER BY position) FROM pillar_lead
						   WHERE pillar = pl.number), '[]'),
				'in_scope', (SELECT count(*) FROM acts a WHERE a.pillar = pl.number),
				'actions', report_public_actions(p, pl.number))
				ORDER BY pl.number) FROM pillar pl))
$$;

-- The side-event pack: as in 005, with its audience and each update's time.
CREATE OR REPLACE FUNCTION report_side_event(p int, ev bigint) RETURNS json LANGUAGE sql STABLE AS $$
	SELECT json_build_object('kind', 'side-event', 'audience', 'public', 'period', period_text(p),
		'cycle', (SELECT label FROM cycle WHERE p / 4 BETWEEN start_year AND end_year),
		'event', (SELECT json_build_object('title', title, 'date', date, 'venue', venue)
			  FROM event WHERE id = ev),
		'pillars', (SELECT coalesce(json_agg(json_build_object('number', pl.number,
				'name', pl.name,
				'leads', coalesce((SELECT json_agg(entity ORDER BY position) FROM pillar_lead
						   WHERE pillar = pl.number), '[]'),
				'actions', report_public_actions(p, pl.number))
				ORDER BY pl.number), '[]')
			FROM pillar pl WHERE pl.status = 'active'))
$$;
