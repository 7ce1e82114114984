-- A key action shows the inputs linked to it (022b, action_json's inputs)
-- in its own page and in every list of actions. 023 names the actions
-- whose links changed (A<id>); the lists that show them are stale too:
-- their pillars' lists (P<n>) and the lists across pillars (L). Without
-- this, GET /v1/actions?pillar=n kept yesterday's links in memory
-- (check_triage linked_inputs_show_on_the_action_at_once).
CREATE FUNCTION cache_input_link_lists() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	ids bigint[] := '{}';
BEGIN
	IF TG_OP <> 'DELETE' THEN
		ids := ids || ARRAY(SELECT action_id FROM n LIMIT 257);
	END IF;
	IF TG_OP <> 'INSERT' THEN
		ids := ids || ARRAY(SELECT action_id FROM o LIMIT 257);
	END IF;
	IF cardinality(ids) > 0 THEN
		PERFORM cache_changed(CASE WHEN cardinality(ids) > 256 THEN '*' ELSE
			(SELECT string_agg(DISTINCT t, ' ' ORDER BY t)
			 FROM (SELECT 'P' || a.pillar AS t FROM action a WHERE a.id = ANY (ids)
			       UNION ALL SELECT 'L') x) END);
	END IF;
	RETURN NULL;
END
$$;

CREATE TRIGGER cache_lists_insert AFTER INSERT ON consultation_input_action REFERENCING NEW TABLE AS n
	FOR EACH STATEMENT EXECUTE FUNCTION cache_input_link_lists();
CREATE TRIGGER cache_lists_update AFTER UPDATE ON consultation_input_action
	REFERENCING OLD TABLE AS o NEW TABLE AS n
	FOR EACH STATEMENT EXECUTE FUNCTION cache_input_link_lists();
CREATE TRIGGER cache_lists_delete AFTER DELETE ON consultation_input_action REFERENCING OLD TABLE AS o
	FOR EACH STATEMENT EXECUTE FUNCTION cache_input_link_lists();
