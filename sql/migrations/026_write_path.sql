-- The cost of posting an update (SPEC 9, the quarter-end mix). Each posted
-- update brings its action's quarter states and the sums up to date
-- (003). That cost about 3 ms of PostgreSQL's time per update, most of it
-- spent planning and computing what could not have changed:
--   * progress_apply was a SQL function, planned again at every call; it is
--     PL/pgSQL now, whose plans last the session;
--   * every one of the action's quarters was recomputed, while an update
--     for quarter p changes the states of p and later quarters only (the
--     state of a quarter is the newest update at or before it, "expected"
--     looks one quarter back: 003, 014). An update's period never changes
--     (001's guard), so the earliest period of a statement's updates bounds
--     what it moved; an action's own change (its leads, cycle, archiving)
--     still recomputes every quarter;
--   * PL/pgSQL planned the states' query again at every call (about 1 ms):
--     its generic plan (the quarters a parameter) looks costlier to the
--     planner than a plan for the call's own values, so it was never kept.
--     The refresh now always runs the generic plan: lookups by the action's
--     key, as good for every action.
-- check_progress holds the sums the triggers keep to progress_rebuild's.

CREATE OR REPLACE FUNCTION progress_apply(rows action_period_state[], sign int) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
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
END
$$;

-- 014's states of one action, from quarter from_p on (all when NULL).
DROP FUNCTION action_states(bigint);
CREATE FUNCTION action_states(a_id bigint, from_p int DEFAULT NULL) RETURNS SETOF action_period_state
LANGUAGE sql STABLE AS $$
	WITH a AS (
		SELECT a.id, a.cycle, a.pillar, w.start_year, w.end_year,
		       coalesce((SELECT array_agg(l.entity ORDER BY l.entity)
				 FROM action_lead l WHERE l.action_id = a.id), '{}') AS leads
		FROM action a JOIN cycle c ON c.label = a.cycle JOIN workplan w ON w.id = c.workplan_id
		WHERE a.id = a_id AND NOT a.archived
	), u AS (
		SELECT period_idx(s.period) AS p, s.created_at
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
	CROSS JOIN LATERAL generate_series(greatest(a.start_year * 4, from_p), a.end_year * 4 + 3) AS q (p)
	LEFT JOIN LATERAL action_current(a.id, q.p) cur ON true
	LEFT JOIN LATERAL action_current(a.id, q.p - 1) prev ON true
$$;

-- 003's refresh, of the quarters from from_p on.
DROP FUNCTION progress_refresh(bigint);
CREATE FUNCTION progress_refresh(a_id bigint, from_p int DEFAULT NULL) RETURNS void LANGUAGE plpgsql
	SET plan_cache_mode = force_generic_plan AS $$
DECLARE
	old_rows action_period_state[];
	new_rows action_period_state[];
	gone action_period_state[];
	came action_period_state[];
BEGIN
	-- one refresh of an action at a time, so each sees the other's updates
	PERFORM pg_advisory_xact_lock(7264657, a_id::int);
	SELECT coalesce(array_agg(s ORDER BY s.period), '{}') INTO old_rows
	FROM action_period_state s WHERE s.action_id = a_id AND s.period >= coalesce(from_p, 0);
	SELECT coalesce(array_agg(s ORDER BY s.period), '{}') INTO new_rows FROM action_states(a_id, from_p) s;
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

-- An action's updates changed: refresh it from the earliest of their periods.
CREATE OR REPLACE FUNCTION progress_on_update() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	a bigint;
	p int;
BEGIN
	IF progress_bulk() THEN
		RETURN NULL;
	END IF;
	FOR a, p IN SELECT action_id, min(period_idx(period)) FROM changed GROUP BY 1 ORDER BY 1 LOOP
		PERFORM progress_refresh(a, p);
	END LOOP;
	RETURN NULL;
END
$$;

-- Its leads changed: every quarter (003's progress_on_update served both).
CREATE FUNCTION progress_on_lead() RETURNS trigger LANGUAGE plpgsql AS $$
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

DROP TRIGGER progress_lead_insert ON action_lead;
DROP TRIGGER progress_lead_delete ON action_lead;
CREATE TRIGGER progress_lead_insert AFTER INSERT ON action_lead
	REFERENCING NEW TABLE AS changed
	FOR EACH STATEMENT EXECUTE FUNCTION progress_on_lead();
CREATE TRIGGER progress_lead_delete AFTER DELETE ON action_lead
	REFERENCING OLD TABLE AS changed
	FOR EACH STATEMENT EXECUTE FUNCTION progress_on_lead();
