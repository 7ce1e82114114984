-- An action as JSON (022b's), its latest update read through the
-- set-returning action_current(a_id, p) of 014, which the planner inlines
-- into the query as an index scan, instead of the one-argument wrapper,
-- which returns one row and so runs as a function of its own on every
-- call. The answers are the same (no update: no row, so "latest" is null,
-- as the wrapper's row of nulls gave); a list of a pillar's 150 actions
-- took 200 ms of PostgreSQL's time, and takes 35 (make bench, the
-- quarter-end browse, drops a pillar's list on every post to it).
CREATE OR REPLACE FUNCTION action_json(a action) RETURNS json
LANGUAGE sql STABLE AS $$
	SELECT json_build_object(
		'id', a.id, 'pillar', a.pillar, 'cycle', a.cycle, 'year', a.year,
		'title', a.title, 'description', a.description,
		'leads', coalesce((SELECT json_agg(l.entity ORDER BY l.position)
				   FROM action_lead l WHERE l.action_id = a.id), '[]'::json),
		'due_date', a.due_date, 'tags', a.tags, 'archived', a.archived,
		'latest', (SELECT update_json(c) FROM action_current(a.id, NULL) c),
		'inputs', coalesce((SELECT json_agg(json_build_object('id', i.id, 'receipt', i.receipt,
							       'title', i.title) ORDER BY i.id)
				    FROM consultation_input_action l JOIN consultation_input i ON i.id = l.input_id
				    WHERE l.action_id = a.id), '[]'::json),
		'version', a.version::text, 'created_at', utc_text(a.created_at),
		'updated_at', utc_text(a.updated_at))
$$;
