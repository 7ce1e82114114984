-- Reports (SPEC section 7): frozen snapshots, built by workers.

-- Every change to the data a report shows moves the data version on. A
-- sequence, so concurrent writers never wait on one another; a version
-- skipped by a rolled-back transaction costs nothing.
CREATE SEQUENCE data_version;

CREATE FUNCTION data_version_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM nextval('data_version');
	RETURN NULL;
END
$$;

DO $$
DECLARE
	t text;
BEGIN
	FOREACH t IN ARRAY ARRAY['status_update', 'action', 'action_lead', 'pillar', 'pillar_lead',
				 'entity', 'member', 'cochair_term', 'event', 'cycle', 'workplan']
	LOOP
		EXECUTE format('CREATE TRIGGER data_version AFTER INSERT OR UPDATE OR DELETE ON %I'
			       ' FOR EACH STATEMENT EXECUTE FUNCTION data_version_bump()', t);
	END LOOP;
END
$$;

CREATE FUNCTION current_data_version() RETURNS bigint LANGUAGE sql VOLATILE AS $$
	SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM data_version
$$;

-- One report per kind, quarter, event, formats and data version (a failed
-- one may be asked for again).
CREATE UNIQUE INDEX report_once ON report (kind, period, coalesce(event_id, 0), formats, data_version)
	WHERE state <> 'failed';

-- The scheduler makes each quarter's report once.
CREATE UNIQUE INDEX report_scheduled ON report (period)
	WHERE kind = 'quarterly' AND created_by IS NULL;

-- On the reporting deadline of a quarter (the latest one past), queue its
-- quarterly report, once, whichever worker gets there first.
CREATE FUNCTION schedule_quarterly_report() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
	due int;
	rid bigint;
BEGIN
	SELECT max(q.p) INTO due
	FROM workplan w, generate_series(w.start_year * 4, w.end_year * 4 + 3) AS q (p)
	WHERE period_deadline(q.p) <= (now() AT TIME ZONE 'UTC')::date;
	IF due IS NULL THEN
		RETURN NULL;
	END IF;
	INSERT INTO report (kind, period, formats, data_version)
	VALUES ('quarterly', period_text(due), '{html,md,csv,json,docx}', current_data_version())
	ON CONFLICT (period) WHERE kind = 'quarterly' AND created_by IS NULL DO NOTHING
	RETURNING id INTO rid;
	IF rid IS NOT NULL THEN
		INSERT INTO job (kind, key, payload, max_attempts)
		VALUES ('build_report', 'report-' || rid, json_build_object('report', rid)::jsonb, 3);
		UPDATE report SET job_id = currval(pg_get_serial_sequence('job', 'id')) WHERE id = rid;
	END IF;
	RETURN rid;
END
$$;

CREATE FUNCTION report_json(r report, public boolean) RETURNS json LANGUAGE sql STABLE AS $$
	SELECT json_build_object('id', r.id, 'kind', r.kind, 'period', r.period, 'event', r.event_id,
		'formats', r.formats, 'state', r.state, 'error', r.error,
		'data_version', r.data_version::text, 'published', r.published,
		'published_at', r.published_at, 'created_at', r.created_at,
		'artifacts', coalesce((SELECT json_agg(json_build_object('format', ra.format,
			'name', ra.name, 'bytes', length(a.bytes), 'sha256', encode(a.sha256, 'hex'),
			'url', CASE WHEN public THEN '/v1/public/reports/' ELSE '/v1/reports/' END
			       || r.id || '/files/' || ra.name) ORDER BY ra.name)
			FROM report_artifact ra JOIN artifact a ON a.key = ra.artifact_key
			WHERE ra.report_id = r.id), '[]'::json))
$$;

-- What a quarterly report shows, as of quarter p: the co-chairs in
-- office, totals, each pillar's key actions with their state and current
-- narrative, the actions at risk or delayed, reporting compliance.
CREATE FUNCTION report_quarterly(p int) RETURNS json LANGUAGE sql STABLE AS $$
	WITH c AS (SELECT label FROM cycle WHERE p / 4 BETWEEN start_year AND end_year),
	acts AS (
		SELECT a.id, a.pillar, a.title, pl.status = 'active' AS active,
		       coalesce((SELECT json_agg(l.entity ORDER BY l.position) FROM action_lead l
				 WHERE l.action_id = a.id), '[]') AS leads,
		       s.status, s.percent, s.expected, s.reported, s.on_time, u.period AS updated,
		       u.narrative
		FROM action a JOIN c ON a.cycle = c.label JOIN pillar pl ON pl.number = a.pillar
		JOIN action_period_state s ON s.action_id = a.id AND s.period = p
		LEFT JOIN LATERAL (SELECT x.period, x.narrative FROM status_update x
			WHERE x.action_id = a.id AND x.review_state <> 'returned'
			  AND period_idx(x.period) <= p
			ORDER BY x.period DESC, x.created_at DESC, x.id DESC LIMIT 1) u ON true
		WHERE NOT a.archived)
	SELECT json_build_object('kind', 'quarterly', 'period', period_text(p),
		'cycle', (SELECT label FROM c), 'deadline', period_deadline(p),
		'cochairs', (SELECT coalesce(json_agg(json_build_object('entity', t.entity, 'name', e.name,
				'kind', t.kind) ORDER BY t.kind, t.entity), '[]')
			FROM cochair_term t JOIN entity e ON e.code = t.entity
			WHERE t.from_year <= p / 4 AND coalesce(t.to_year, p / 4) >= p / 4),
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
					'percent', a.percent, 'updated', a.updated, 'narrative', a.narrative)
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

-- The side-event pack: only updates marked public, and only their public
-- summaries; no narratives, no names of staff.
CREATE FUNCTION report_side_event(p int, ev bigint) RETURNS json LANGUAGE sql STABLE AS $$
	WITH c AS (SELECT label FROM cycle WHERE p / 4 BETWEEN start_year AND end_year),
	pub AS (
		SELECT a.id, a.pillar, a.title, u.status, u.percent_complete, u.period,
		       u.public_summary
		FROM action a JOIN c ON a.cycle = c.label
		JOIN LATERAL (SELECT x.* FROM status_update x
			WHERE x.action_id = a.id AND x.visibility = 'public'
			  AND x.review_state <> 'returned' AND period_idx(x.period) <= p
			ORDER BY x.period DESC, x.created_at DESC, x.id DESC LIMIT 1) u ON true
		WHERE NOT a.archived)
	SELECT json_build_object('kind', 'side-event', 'period', period_text(p),
		'cycle', (SELECT label FROM c),
		'event', (SELECT json_build_object('title', title, 'date', date, 'venue', venue)
			  FROM event WHERE id = ev),
		'pillars', (SELECT coalesce(json_agg(json_build_object('number', pl.number,
				'name', pl.name,
				'leads', coalesce((SELECT json_agg(entity ORDER BY position) FROM pillar_lead
						   WHERE pillar = pl.number), '[]'),
				'actions', coalesce((SELECT json_agg(json_build_object('title', pub.title,
					'status', pub.status, 'percent', pub.percent_complete,
					'period', pub.period, 'summary', pub.public_summary) ORDER BY pub.id)
					FROM pub WHERE pub.pillar = pl.number), '[]'))
				ORDER BY pl.number), '[]')
			FROM pillar pl WHERE pl.status = 'active'))
$$;
