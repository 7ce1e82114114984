-- JSON representations shared by every route that shows an action or a
-- status update, so they are written once, in SQL.

-- An action's current update: the newest by period, then by time of
-- posting, that was not returned by a co-chair.
CREATE FUNCTION action_current(a_id bigint) RETURNS status_update
LANGUAGE sql STABLE AS $$
	SELECT * FROM status_update s
	WHERE s.action_id = a_id AND s.review_state <> 'returned'
	ORDER BY s.period DESC, s.created_at DESC, s.id DESC
	LIMIT 1
$$;

CREATE FUNCTION update_json(u status_update) RETURNS json
LANGUAGE sql STABLE AS $$
	SELECT json_build_object(
		'id', u.id, 'action_id', u.action_id, 'period', u.period,
		'status', u.status, 'percent_complete', u.percent_complete,
		'narrative', u.narrative, 'public_summary', u.public_summary,
		'visibility', u.visibility, 'evidence', u.evidence,
		'author', (SELECT json_build_object('id', m.id, 'name', m.name, 'entity', m.entity)
			   FROM member m WHERE m.id = u.author_id),
		'created_at', u.created_at, 'review_state', u.review_state,
		'review_comment', u.review_comment)
$$;

CREATE FUNCTION action_json(a action) RETURNS json
LANGUAGE sql STABLE AS $$
	SELECT json_build_object(
		'id', a.id, 'pillar', a.pillar, 'cycle', a.cycle, 'year', a.year,
		'title', a.title, 'description', a.description,
		'leads', coalesce((SELECT json_agg(l.entity ORDER BY l.position)
				   FROM action_lead l WHERE l.action_id = a.id), '[]'::json),
		'due_date', a.due_date, 'tags', a.tags, 'archived', a.archived,
		'latest', (SELECT update_json(c) FROM action_current(a.id) c WHERE c.id IS NOT NULL),
		'version', a.version::text, 'created_at', a.created_at, 'updated_at', a.updated_at)
$$;

-- Full-text search over titles and descriptions, language-neutral.
CREATE INDEX action_search ON action
	USING gin (to_tsvector('simple', title || ' ' || description));
