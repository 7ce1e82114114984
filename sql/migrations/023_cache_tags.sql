-- Finer invalidation of the API's read cache (api/cache.h, SPEC 9 and 15).
-- A write names what it changed as tags; the API keeps each read with the
-- tags of what it shows, and a tag named after a read began makes that
-- read stale. The tags:
--   A<id>    one key action: /v1/actions/{id}, its updates
--   U<id>    one status update: /v1/updates/{id}
--   P<n>     pillar n's lists: /v1/pillars/{n}, ?pillar=n of actions and updates
--   L        lists across pillars: /v1/pillars, /v1/actions, /v1/updates, export.csv
--   C<cycle> a cycle's progress, trend and reporting
--   R        reference lists: entities, co-chairs, work plans, cycles, events,
--            consultations
--   T        who a token or session belongs to (api/auth.c)
--   D        every write of data names it: what a read that names no tag waits for
--   A, U, P, C alone: every action, update, pillar list or cycle (a read of
--   A12 also names A, and so on)
--   *        everything
--
-- A write's transaction sends its tags as the payload of a notification on
-- workplan_data (delivered to every API process when, and only if, it
-- commits), and gathers them in its session's workplan.cache_changed
-- (undone with the transaction), where the API process that wrote takes
-- them (cache_changes_taken) before it answers. A payload longer than
-- NOTIFY's 8000 bytes becomes '*', as does a change of more than 256 rows.

CREATE FUNCTION cache_changed(tags text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
	pending text := coalesce(current_setting('workplan.cache_changed', true), '');
BEGIN
	IF length(tags) > 7900 THEN
		tags := '*';
	END IF;
	PERFORM pg_notify('workplan_data', tags);
	pending := CASE WHEN pending = '' THEN tags ELSE pending || ' ' || tags END;
	IF length(pending) > 7900 THEN
		pending := '*';
	END IF;
	PERFORM set_config('workplan.cache_changed', pending, false);
END
$$;

-- What the session's committed writes changed since it last asked.
CREATE FUNCTION cache_changes_taken() RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	pending text := coalesce(current_setting('workplan.cache_changed', true), '');
BEGIN
	IF pending <> '' THEN
		PERFORM set_config('workplan.cache_changed', '', false);
	END IF;
	RETURN pending;
END
$$;

-- The tags of changed rows of a table (rows as jsonb).
CREATE FUNCTION cache_row_tags(tbl text, rows jsonb[]) RETURNS text[] LANGUAGE sql STABLE AS $$
	SELECT CASE
	WHEN cardinality(rows) > 256 THEN ARRAY['*']
	WHEN tbl = 'status_update' THEN ARRAY(
		SELECT unnest(ARRAY['A' || a.id, 'U' || (r ->> 'id'), 'P' || a.pillar, 'C' || a.cycle])
		FROM unnest(rows) r JOIN action a ON a.id = (r ->> 'action_id')::bigint)
	WHEN tbl = 'action' THEN ARRAY(
		SELECT unnest(ARRAY['A' || (r ->> 'id'), 'P' || (r ->> 'pillar'), 'C' || (r ->> 'cycle')])
		FROM unnest(rows) r)
	WHEN tbl = 'action_lead' THEN ARRAY(
		SELECT unnest(ARRAY['A' || a.id, 'P' || a.pillar, 'C' || a.cycle])
		FROM unnest(rows) r JOIN action a ON a.id = (r ->> 'action_id')::bigint)
	WHEN tbl = 'pillar' THEN ARRAY(SELECT 'P' || (r ->> 'number') FROM unnest(rows) r)
	WHEN tbl = 'pillar_lead' THEN ARRAY(SELECT 'P' || (r ->> 'pillar') FROM unnest(rows) r)
	-- an action shows the inputs linked to it (id, receipt, title), on its page
	-- and in the lists (024 adds the lists' tags for the links)
	WHEN tbl = 'consultation_input_action' THEN ARRAY(SELECT 'A' || (r ->> 'action_id') FROM unnest(rows) r)
	WHEN tbl = 'consultation_input' THEN ARRAY(
		SELECT unnest(ARRAY['A' || a.id, 'P' || a.pillar, 'L']) FROM unnest(rows) r
		JOIN consultation_input_action l ON l.input_id = (r ->> 'id')::bigint
		JOIN action a ON a.id = l.action_id)
	ELSE ARRAY['*'] END
$$;

-- A statement's changed rows (transition tables n and o) and the trigger's
-- arguments (tags of the whole table's kind): one notification.
CREATE FUNCTION cache_rows_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	tags text[] := '{}';
	rows int := 0;
	r jsonb[];
BEGIN
	PERFORM nextval('data_version'); -- reports' data version (005)
	IF TG_OP <> 'DELETE' THEN
		r := ARRAY(SELECT to_jsonb(n) FROM n LIMIT 257);
		rows := rows + cardinality(r);
		tags := tags || cache_row_tags(TG_TABLE_NAME, r);
	END IF;
	IF TG_OP <> 'INSERT' THEN
		r := ARRAY(SELECT to_jsonb(o) FROM o LIMIT 257);
		rows := rows + cardinality(r);
		tags := tags || cache_row_tags(TG_TABLE_NAME, r);
	END IF;
	IF rows > 0 THEN
		PERFORM cache_changed(array_to_string(ARRAY(SELECT DISTINCT t
			FROM unnest(tags || TG_ARGV || ARRAY['D']) t ORDER BY 1), ' '));
	END IF;
	RETURN NULL;
END
$$;

DO $$
DECLARE
	t record;
BEGIN
	FOR t IN SELECT * FROM (VALUES ('status_update', 'L'), ('action', 'L'), ('action_lead', 'L'),
				       ('pillar', 'L'', ''C'), ('pillar_lead', 'L'', ''C'),
				       ('consultation_input', 'R'), ('consultation_input_action', 'R')) v (name, kinds)
	LOOP
		EXECUTE format('DROP TRIGGER data_version ON %I', t.name);
		EXECUTE format('CREATE TRIGGER cache_insert AFTER INSERT ON %I REFERENCING NEW TABLE AS n'
			       ' FOR EACH STATEMENT EXECUTE FUNCTION cache_rows_changed(''%s'')', t.name, t.kinds);
		EXECUTE format('CREATE TRIGGER cache_update AFTER UPDATE ON %I'
			       ' REFERENCING OLD TABLE AS o NEW TABLE AS n'
			       ' FOR EACH STATEMENT EXECUTE FUNCTION cache_rows_changed(''%s'')', t.name, t.kinds);
		EXECUTE format('CREATE TRIGGER cache_delete AFTER DELETE ON %I REFERENCING OLD TABLE AS o'
			       ' FOR EACH STATEMENT EXECUTE FUNCTION cache_rows_changed(''%s'')', t.name, t.kinds);
	END LOOP;
END
$$;

-- Tables without finer tags: the tags their statement trigger gives
-- (TG_ARGV), or everything.
CREATE OR REPLACE FUNCTION data_version_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM nextval('data_version');
	PERFORM cache_changed(CASE WHEN TG_NARGS > 0 THEN TG_ARGV[0] ELSE '*' END);
	RETURN NULL;
END
$$;

-- A member's name and entity show in every update (its author); its role,
-- entity and activity decide what its tokens and sessions may do. Its
-- other columns (language, reminders, version) show in no cached read, nor
-- does a new member.
DROP TRIGGER data_version ON member;
CREATE TRIGGER data_version AFTER UPDATE OF name, entity, role, active OR DELETE ON member
	FOR EACH STATEMENT EXECUTE FUNCTION data_version_bump('A U P L C T D');

-- Events and consultations show in reference lists only; an input and its
-- links to key actions also on those actions (above).
DO $$
DECLARE
	t text;
BEGIN
	FOREACH t IN ARRAY ARRAY['event', 'consultation', 'consultation_input_pillar']
	LOOP
		EXECUTE format('DROP TRIGGER data_version ON %I', t);
		EXECUTE format('CREATE TRIGGER data_version AFTER INSERT OR UPDATE OR DELETE ON %I'
			       ' FOR EACH STATEMENT EXECUTE FUNCTION data_version_bump(''R D'')', t);
	END LOOP;
END
$$;

-- Tokens and sessions apart from data (006, 018): who they belong to.
CREATE OR REPLACE FUNCTION token_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM cache_changed('T');
	RETURN NULL;
END
$$;
