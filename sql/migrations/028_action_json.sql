-- An action as JSON (022b's), in PL/pgSQL. As a SQL function it was
-- never inlined (its subqueries forbid it), so PostgreSQL planned its body
-- again in every statement that called it: one action's answer cost about
-- 0.9 ms, nearly all planning (pgbench, 1 100 tps). PL/pgSQL keeps the plan
-- for the session: 8 200 tps. Its latest update is read through the
-- set-returning action_current(a_id, p) of 014, inlined there as an index
-- scan, rather than the one-argument wrapper, which runs as a function of
-- its own on every call (a pillar's list of 153 actions took 200 ms, now
-- 25). The answers are the same: no update gives no row, so "latest" is
-- null, as the wrapper's row of nulls did; compared for every action of
-- the demo data.
CREATE OR REPLACE FUNCTION action_json(a action) RETURNS json
LANGUAGE plpgsql STABLE AS $$
BEGIN
	RETURN json_build_object(
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
		'updated_at', utc_text(a.updated_at));
END
$$;
