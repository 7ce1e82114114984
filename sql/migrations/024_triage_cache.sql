-- A key action shows the inputs linked to it (022b, action_json's inputs),
-- so a change of those links must make that action's cached reads stale
-- (023's tags): the action (A<id>), its pillar's lists (P<n>) and the
-- lists across pillars (L), besides the reference lists (R) 023 names for
-- every consultation table. Without this, 023's 'R D' would leave
-- GET /v1/actions/{id} showing yesterday's links (check_triage
-- linked_inputs_show_on_the_action_at_once).
CREATE FUNCTION cache_input_links_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	ids bigint[] := '{}';
BEGIN
	IF TG_OP <> 'DELETE' THEN
		ids := ids || ARRAY(SELECT action_id FROM n LIMIT 257);
	END IF;
	IF TG_OP <> 'INSERT' THEN
		ids := ids || ARRAY(SELECT action_id FROM o LIMIT 257);
	END IF;
	IF cardinality(ids) = 0 THEN
		RETURN NULL;
	END IF;
	PERFORM nextval('data_version'); -- reports' data version (005)
	PERFORM cache_changed(CASE WHEN cardinality(ids) > 256 THEN '*' ELSE
		(SELECT string_agg(DISTINCT t, ' ' ORDER BY t)
		 FROM (SELECT unnest(ARRAY['A' || a.id, 'P' || a.pillar]) AS t FROM action a WHERE a.id = ANY (ids)
		       UNION ALL SELECT unnest('{L,R,D}'::text[])) x) END);
	RETURN NULL;
END
$$;

DROP TRIGGER data_version ON consultation_input_action;
CREATE TRIGGER cache_insert AFTER INSERT ON consultation_input_action REFERENCING NEW TABLE AS n
	FOR EACH STATEMENT EXECUTE FUNCTION cache_input_links_changed();
CREATE TRIGGER cache_update AFTER UPDATE ON consultation_input_action
	REFERENCING OLD TABLE AS o NEW TABLE AS n
	FOR EACH STATEMENT EXECUTE FUNCTION cache_input_links_changed();
CREATE TRIGGER cache_delete AFTER DELETE ON consultation_input_action REFERENCING OLD TABLE AS o
	FOR EACH STATEMENT EXECUTE FUNCTION cache_input_links_changed();
