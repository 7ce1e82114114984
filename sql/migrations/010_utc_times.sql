-- Every time the API shows is RFC 3339 in UTC with a Z, as in CSV files
-- and reports (utc_text, from 007), never PostgreSQL's "+00:00".
CREATE OR REPLACE FUNCTION update_json(u status_update) RETURNS json
LANGUAGE sql STABLE AS $$
	SELECT json_build_object(
		'id', u.id, 'action_id', u.action_id, 'period', u.period,
		'status', u.status, 'percent_complete', u.percent_complete,
		'narrative', u.narrative, 'public_summary', u.public_summary,
		'visibility', u.visibility, 'evidence', u.evidence,
		'author', (SELECT json_build_object('id', m.id, 'name', m.name, 'entity', m.entity)
			   FROM member m WHERE m.id = u.author_id),
		'created_at', utc_text(u.created_at), 'review_state', u.review_state,
		'review_comment', u.review_comment)
$$;

CREATE OR REPLACE FUNCTION action_json(a action) RETURNS json
LANGUAGE sql STABLE AS $$
	SELECT json_build_object(
		'id', a.id, 'pillar', a.pillar, 'cycle', a.cycle, 'year', a.year,
		'title', a.title, 'description', a.description,
		'leads', coalesce((SELECT json_agg(l.entity ORDER BY l.position)
				   FROM action_lead l WHERE l.action_id = a.id), '[]'::json),
		'due_date', a.due_date, 'tags', a.tags, 'archived', a.archived,
		'latest', (SELECT update_json(c) FROM action_current(a.id) c WHERE c.id IS NOT NULL),
		'version', a.version::text, 'created_at', utc_text(a.created_at),
		'updated_at', utc_text(a.updated_at))
$$;

-- The audit trail keeps row images as they were; shown, their times
-- (every column named *_at is a timestamptz) read like the rest.
CREATE FUNCTION utc_image(j jsonb) RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT CASE WHEN jsonb_typeof(j) = 'object' THEN
		(SELECT coalesce(jsonb_object_agg(k, CASE
			WHEN k LIKE '%\_at' AND jsonb_typeof(v) = 'string'
			THEN to_jsonb(utc_text((v #>> '{}')::timestamptz)) ELSE v END), '{}')
		 FROM jsonb_each(j) AS e(k, v))
	ELSE j END
$$;
