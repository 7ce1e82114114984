-- Progress analytics kept up to date as data changes (SPEC section 4,
-- "Progress semantics").
--
-- action_period_state holds, for every key action not archived and every
-- quarter of its work plan, the action's state at that quarter: its
-- current update's status and percent (returned updates ignored), the time
-- of its newest update so far, and the facts reporting needs. progress_agg
-- and entity_agg sum those rows per (cycle, pillar, quarter) and per
-- (cycle, quarter, pillar, lead entity). Triggers refresh one action's rows
-- and apply the difference to the sums in the transaction that changed the
-- action or its updates, so progress, trend and reporting read a handful
-- of rows however large the history grows.

-- Quarters as integers: year * 4 + quarter - 1.
CREATE FUNCTION period_idx(p text) RETURNS int LANGUAGE sql IMMUTABLE STRICT AS $$
	SELECT substr(p, 1, 4)::int * 4 + substr(p, 7, 1)::int - 1
$$;

CREATE FUNCTION period_text(i int) RETURNS text LANGUAGE sql IMMUTABLE STRICT AS $$
	SELECT lpad((i / 4)::text, 4, '0') || '-Q' || (i % 4 + 1)
$$;

-- 15 days after the quarter ends: the 15th of the next quarter's first month.
CREATE FUNCTION period_deadline(i int) RETURNS date LANGUAGE sql IMMUTABLE STRICT AS $$
	SELECT make_date((i + 1) / 4, ((i + 1) % 4) * 3 + 1, 15)
$$;

CREATE INDEX status_update_action_pidx ON status_update (action_id, period_idx(period));

CREATE TABLE action_period_state (
	action_id bigint NOT NULL REFERENCES action,
	period    int NOT NULL,
	cycle     text NOT NULL,
	pillar    int NOT NULL,
	leads     text[] NOT NULL,
	status    text NOT NULL,
	percent   smallint NOT NULL,
	last_at   timestamptz,      -- newest update with period <= this one
	fresh     boolean NOT NULL, -- an update for this quarter or the one before
	expected  boolean NOT NULL, -- state a quarter earlier neither completed nor cancelled
	reported  boolean NOT NULL, -- an update for exactly this quarter
	on_time   boolean NOT NULL, -- ... posted by the quarter's reporting deadline
	PRIMARY KEY (action_id, period)
);
CREATE INDEX action_period_state_group ON action_period_state (cycle, period, pillar);
-- the actions a reporting round is still waiting for: few, found at once
CREATE INDEX action_period_state_missing ON action_period_state (cycle, period, pillar, action_id)
	WHERE expected AND NOT reported;

CREATE TABLE progress_agg (
	cycle       text NOT NULL,
	pillar      int NOT NULL,
	period      int NOT NULL,
	actions     int NOT NULL DEFAULT 0,
	not_started int NOT NULL DEFAULT 0,
	on_track    int NOT NULL DEFAULT 0,
	at_risk     int NOT NULL DEFAULT 0,
	delayed     int NOT NULL DEFAULT 0,
	completed   int NOT NULL DEFAULT 0,
	cancelled   int NOT NULL DEFAULT 0,
	percent_sum bigint NOT NULL DEFAULT 0,
	stale       int NOT NULL DEFAULT 0,
	last_at     timestamptz,
	expected    int NOT NULL DEFAULT 0,
	reported    int NOT NULL DEFAULT 0,
	on_time     int NOT NULL DEFAULT 0,
	PRIMARY KEY (cycle, period, pillar)
);

CREATE TABLE entity_agg (
	cycle    text NOT NULL,
	period   int NOT NULL,
	pillar   int NOT NULL,
	entity   text NOT NULL,
	expected int NOT NULL DEFAULT 0,
	reported int NOT NULL DEFAULT 0,
	on_time  int NOT NULL DEFAULT 0,
	PRIMARY KEY (cycle, period, pillar, entity)
);

-- The state rows one action should have now (none when archived).
CREATE FUNCTION action_states(a_id bigint) RETURNS SETOF action_period_state
LANGUAGE sql STABLE AS $$
	WITH a AS (
		SELECT a.id, a.cycle, a.pillar, w.start_year, w.end_year,
		       coalesce((SELECT array_agg(l.entity ORDER BY l.entity)
				 FROM action_lead l WHERE l.action_id = a.id), '{}') AS leads
		FROM action a JOIN cycle c ON c.label = a.cycle JOIN workplan w ON w.id = c.workplan_id
		WHERE a.id = a_id AND NOT a.archived
	), u AS (
		SELECT period_idx(s.period) AS p, s.status, s.percent_complete, s.created_at, s.id
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
	LEFT JOIN LATERAL (SELECT u.status, u.percent_complete FROM u WHERE u.p <= q.p
			   ORDER BY u.p DESC, u.created_at DESC, u.id DESC LIMIT 1) cur ON true
	LEFT JOIN LATERAL (SELECT u.status FROM u WHERE u.p <= q.p - 1
			   ORDER BY u.p DESC, u.created_at DESC, u.id DESC LIMIT 1) prev ON true
$$;

-- Adds sign times the contribution of rows to the sums.
CREATE FUNCTION progress_apply(rows action_period_state[], sign int) RETURNS void
LANGUAGE sql AS $$
	INSERT INTO progress_agg AS g (cycle, pillar, period, actions, not_started, on_track,
		at_risk, delayed, completed, cancelled, percent_sum, stale, last_at,
		expected, reported, on_time)
	SELECT r.cycle, r.pillar, r.period, sign * count(*),
	       sign * count(*) FILTER (WHERE r.status = 'not_started'),
	       sign * count(*) FILTER (WHERE r.status = 'on_track'),
	       sign * count(*) FILTER (WHERE r.status = 'at_risk'),
	       sign * count(*) FILTER (WHERE r.status = 'delayed'),
	       sign * count(*) FILTER (WHERE r.status = 'completed'),
	       sign * count(*) FILTER (WHERE r.status = 'cancelled'),
	       sign * sum(r.percent), sign * count(*) FILTER (WHERE NOT r.fresh),
	       CASE WHEN sign > 0 THEN max(r.last_at) END,
	       sign * count(*) FILTER (WHERE r.expected),
	       sign * count(*) FILTER (WHERE r.expected AND r.reported),
	       sign * count(*) FILTER (WHERE r.expected AND r.on_time)
	FROM unnest(rows) r
	GROUP BY r.cycle, r.pillar, r.period
	ORDER BY r.cycle, r.period, r.pillar
	ON CONFLICT (cycle, period, pillar) DO UPDATE SET
		actions = g.actions + EXCLUDED.actions,
		not_started = g.not_started + EXCLUDED.not_started,
		on_track = g.on_track + EXCLUDED.on_track,
		at_risk = g.at_risk + EXCLUDED.at_risk,
		delayed = g.delayed + EXCLUDED.delayed,
		completed = g.completed + EXCLUDED.completed,
		cancelled = g.cancelled + EXCLUDED.cancelled,
		percent_sum = g.percent_sum + EXCLUDED.percent_sum,
		stale = g.stale + EXCLUDED.stale,
		last_at = greatest(g.last_at, EXCLUDED.last_at),
		expected = g.expected + EXCLUDED.expected,
		reported = g.reported + EXCLUDED.reported,
		on_time = g.on_time + EXCLUDED.on_time;

	INSERT INTO entity_agg AS g (cycle, period, pillar, entity, expected, reported, on_time)
	SELECT r.cycle, r.period, r.pillar, e.entity,
	       sign * count(*) FILTER (WHERE r.expected),
	       sign * count(*) FILTER (WHERE r.expected AND r.reported),
	       sign * count(*) FILTER (WHERE r.expected AND r.on_time)
	FROM unnest(rows) r CROSS JOIN LATERAL unnest(r.leads) AS e (entity)
	GROUP BY r.cycle, r.period, r.pillar, e.entity
	ORDER BY r.cycle, r.period, r.pillar, e.entity
	ON CONFLICT (cycle, period, pillar, entity) DO UPDATE SET
		expected = g.expected + EXCLUDED.expected,
		reported = g.reported + EXCLUDED.reported,
		on_time = g.on_time + EXCLUDED.on_time;
$$;

-- Brings one action's state rows and their sums up to date.
CREATE FUNCTION progress_refresh(a_id bigint) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
	old_rows action_period_state[];
	new_rows action_period_state[];
	gone action_period_state[];
	came action_period_state[];
BEGIN
	-- one refresh of an action at a time, so each sees the other's updates
	PERFORM pg_advisory_xact_lock(7264657, a_id::int);
	SELECT coalesce(array_agg(s ORDER BY s.period), '{}') INTO old_rows
	FROM action_period_state s WHERE s.action_id = a_id;
	SELECT coalesce(array_agg(s ORDER BY s.period), '{}') INTO new_rows FROM action_states(a_id) s;
	-- only the quarters whose state changed move the sums
	SELECT coalesce(array_agg(o), '{}') INTO gone FROM unnest(old_rows) o
	WHERE NOT EXISTS (SELECT 1 FROM unnest(new_rows) n WHERE n IS NOT DISTINCT FROM o);
	SELECT coalesce(array_agg(n), '{}') INTO came FROM unnest(new_rows) n
	WHERE NOT EXISTS (SELECT 1 FROM unnest(old_rows) o WHERE o IS NOT DISTINCT FROM n);
	IF cardinality(gone) = 0 AND cardinality(came) = 0 THEN
		RETURN;
	END IF;
	PERFORM progress_apply(gone, -1);
	PERFORM progress_apply(came, 1);
	-- a maximum cannot be decremented: recount it where a newest time went away
	UPDATE progress_agg g SET last_at = (
		SELECT max(s.last_at) FROM action_period_state s
		WHERE s.cycle = g.cycle AND s.period = g.period AND s.pillar = g.pillar
		  AND s.action_id <> a_id)
	FROM unnest(gone) o
	WHERE o.last_at IS NOT NULL AND g.cycle = o.cycle AND g.period = o.period
	  AND g.pillar = o.pillar AND g.last_at = o.last_at;
	DELETE FROM action_period_state s WHERE s.action_id = a_id
	  AND s.period IN (SELECT o.period FROM unnest(gone) o);
	INSERT INTO action_period_state SELECT * FROM unnest(came);
	-- the recount above skipped this action's own rows: put their times back
	UPDATE progress_agg g SET last_at = greatest(g.last_at, n.last_at)
	FROM unnest(came) n
	WHERE g.cycle = n.cycle AND g.period = n.period AND g.pillar = n.pillar;
END
$$;

-- Recomputes every state row and sum from scratch (after a bulk load).
CREATE FUNCTION progress_rebuild() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_advisory_xact_lock(7264657, 0);
	TRUNCATE action_period_state, progress_agg, entity_agg;
	INSERT INTO action_period_state
	WITH a AS (
		SELECT a.id, a.cycle, a.pillar, w.start_year, w.end_year,
		       coalesce((SELECT array_agg(l.entity ORDER BY l.entity)
				 FROM action_lead l WHERE l.action_id = a.id), '{}') AS leads
		FROM action a JOIN cycle c ON c.label = a.cycle JOIN workplan w ON w.id = c.workplan_id
		WHERE NOT a.archived
	), u AS (
		SELECT s.action_id, period_idx(s.period) AS p, s.status, s.percent_complete,
		       s.created_at, s.id
		FROM status_update s JOIN a ON a.id = s.action_id
		WHERE s.review_state <> 'returned'
		  AND period_idx(s.period) BETWEEN a.start_year * 4 AND a.end_year * 4 + 3
	), per AS (
		-- per action and reported quarter: the quarter's last update and facts
		SELECT DISTINCT ON (u.action_id, u.p) u.action_id, u.p, u.status, u.percent_complete,
		       max(u.created_at) OVER w AS max_at,
		       bool_or((u.created_at AT TIME ZONE 'UTC')::date <= period_deadline(u.p)) OVER w AS on_time
		FROM u
		WINDOW w AS (PARTITION BY u.action_id, u.p)
		ORDER BY u.action_id, u.p, u.created_at DESC, u.id DESC
	), grid AS (
		SELECT a.id, a.cycle, a.pillar, a.leads, q.p, per.status, per.percent_complete,
		       per.max_at, per.on_time, per.p IS NOT NULL AS reported,
		       -- the last reported quarter at or before q.p
		       max(per.p) OVER (PARTITION BY a.id ORDER BY q.p) AS last_p
		FROM a CROSS JOIN LATERAL generate_series(a.start_year * 4, a.end_year * 4 + 3) AS q (p)
		LEFT JOIN per ON per.action_id = a.id AND per.p = q.p
	), filled AS (
		SELECT g.*, cur.status AS cur_status, cur.percent_complete AS cur_percent,
		       max(g.max_at) OVER (PARTITION BY g.id ORDER BY g.p) AS last_at,
		       lag(cur.status) OVER (PARTITION BY g.id ORDER BY g.p) AS prev_status,
		       lag(g.reported) OVER (PARTITION BY g.id ORDER BY g.p) AS prev_reported
		FROM grid g LEFT JOIN per cur ON cur.action_id = g.id AND cur.p = g.last_p
	)
	SELECT f.id, f.p, f.cycle, f.pillar, f.leads,
	       coalesce(f.cur_status, 'not_started'), coalesce(f.cur_percent, 0), f.last_at,
	       f.reported OR coalesce(f.prev_reported, false),
	       coalesce(f.prev_status, 'not_started') NOT IN ('completed', 'cancelled'),
	       f.reported, coalesce(f.on_time, false)
	FROM filled f;

	INSERT INTO progress_agg (cycle, pillar, period, actions, not_started, on_track, at_risk,
		delayed, completed, cancelled, percent_sum, stale, last_at, expected, reported, on_time)
	SELECT cycle, pillar, period, count(*),
	       count(*) FILTER (WHERE status = 'not_started'),
	       count(*) FILTER (WHERE status = 'on_track'),
	       count(*) FILTER (WHERE status = 'at_risk'),
	       count(*) FILTER (WHERE status = 'delayed'),
	       count(*) FILTER (WHERE status = 'completed'),
	       count(*) FILTER (WHERE status = 'cancelled'),
	       sum(percent), count(*) FILTER (WHERE NOT fresh), max(last_at),
	       count(*) FILTER (WHERE expected), count(*) FILTER (WHERE expected AND reported),
	       count(*) FILTER (WHERE expected AND on_time)
	FROM action_period_state GROUP BY cycle, pillar, period;

	INSERT INTO entity_agg (cycle, period, pillar, entity, expected, reported, on_time)
	SELECT s.cycle, s.period, s.pillar, e.entity, count(*) FILTER (WHERE s.expected),
	       count(*) FILTER (WHERE s.expected AND s.reported),
	       count(*) FILTER (WHERE s.expected AND s.on_time)
	FROM action_period_state s CROSS JOIN LATERAL unnest(s.leads) AS e (entity)
	GROUP BY s.cycle, s.period, s.pillar, e.entity;
END
$$;

-- Bulk loads (workplan-admin demo) set workplan.bulk and rebuild at the end.
CREATE FUNCTION progress_bulk() RETURNS boolean LANGUAGE sql STABLE AS $$
	SELECT coalesce(current_setting('workplan.bulk', true), '') = 'on'
$$;

CREATE FUNCTION progress_on_update() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	a bigint;
BEGIN
	IF progress_bulk() THEN
		RETURN NULL;
	END IF;
	FOR a IN SELECT DISTINCT action_id FROM changed ORDER BY 1 LOOP
		PERFORM progress_refresh(a);
	END LOOP;
	RETURN NULL;
END
$$;

CREATE TRIGGER progress_update_insert AFTER INSERT ON status_update
	REFERENCING NEW TABLE AS changed
	FOR EACH STATEMENT EXECUTE FUNCTION progress_on_update();
-- a returned update stops counting
CREATE TRIGGER progress_update_review AFTER UPDATE ON status_update
	REFERENCING NEW TABLE AS changed
	FOR EACH STATEMENT EXECUTE FUNCTION progress_on_update();
CREATE TRIGGER progress_lead_insert AFTER INSERT ON action_lead
	REFERENCING NEW TABLE AS changed
	FOR EACH STATEMENT EXECUTE FUNCTION progress_on_update();
CREATE TRIGGER progress_lead_delete AFTER DELETE ON action_lead
	REFERENCING OLD TABLE AS changed
	FOR EACH STATEMENT EXECUTE FUNCTION progress_on_update();

CREATE FUNCTION progress_on_action() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	a bigint;
BEGIN
	IF progress_bulk() THEN
		RETURN NULL;
	END IF;
	FOR a IN SELECT DISTINCT n.id FROM changed n ORDER BY 1 LOOP
		PERFORM progress_refresh(a);
	END LOOP;
	RETURN NULL;
END
$$;

CREATE TRIGGER progress_action_insert AFTER INSERT ON action
	REFERENCING NEW TABLE AS changed
	FOR EACH STATEMENT EXECUTE FUNCTION progress_on_action();
CREATE TRIGGER progress_action_update AFTER UPDATE ON action
	REFERENCING NEW TABLE AS changed
	FOR EACH STATEMENT EXECUTE FUNCTION progress_on_action();

SELECT progress_rebuild();
