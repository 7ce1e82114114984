-- A cycle's progress by quarter (api/h_progress.c). An update for quarter
-- p changes the progress and the reporting round of its cycle as of p and
-- of every later quarter (003: the state of a quarter is the newest update
-- at or before it, "expected" looks one quarter back), never of an earlier
-- one. So in reporting week, when leads post the quarter that just ended,
-- the progress of the cycle's earlier quarters stays in memory. The tags
-- (023 names the others):
--   Q<cycle>-<n>  the cycle's progress and reporting as of quarter n
--                 (period_idx: year * 4 + quarter - 1)
--   Q<cycle>      as of every quarter: what an action's own change (its
--                 cycle, pillar, leads, archiving) moves
-- C<cycle> stays the tag of the cycle as a whole (the trend), which every
-- one of these writes names too; reads of one quarter name C (every cycle,
-- as a pillar's change names it), Q<cycle> and Q<cycle>-<n>.
CREATE OR REPLACE FUNCTION cache_row_tags(tbl text, rows jsonb[]) RETURNS text[] LANGUAGE plpgsql STABLE
	SET plan_cache_mode = force_generic_plan AS $$
DECLARE
	ids bigint[];
	from_p int;
BEGIN
	IF cardinality(rows) > 256 THEN
		RETURN ARRAY['*'];
	ELSIF tbl IN ('status_update', 'action_lead', 'consultation_input_action') THEN
		ids := ARRAY(SELECT DISTINCT (r ->> 'action_id')::bigint FROM unnest(rows) r);
	ELSIF tbl IN ('action', 'consultation_input') THEN
		ids := ARRAY(SELECT DISTINCT (r ->> 'id')::bigint FROM unnest(rows) r);
	END IF;
	IF tbl = 'status_update' THEN
		from_p := (SELECT min(period_idx(r ->> 'period')) FROM unnest(rows) r);
		RETURN ARRAY(SELECT 'U' || (r ->> 'id') FROM unnest(rows) r) || ARRAY(
			SELECT unnest(ARRAY['A' || a.id, 'P' || a.pillar, 'C' || a.cycle])
			FROM action a WHERE a.id = ANY (ids)
			UNION ALL
			SELECT 'Q' || a.cycle || '-' || q
			FROM action a JOIN cycle c ON c.label = a.cycle JOIN workplan w ON w.id = c.workplan_id
			CROSS JOIN LATERAL generate_series(greatest(from_p, w.start_year * 4), w.end_year * 4 + 3) q
			WHERE a.id = ANY (ids));
	ELSIF tbl = 'action' THEN
		RETURN ARRAY(
			SELECT unnest(ARRAY['A' || (r ->> 'id'), 'P' || (r ->> 'pillar'), 'C' || (r ->> 'cycle'),
					    'Q' || (r ->> 'cycle')])
			FROM unnest(rows) r);
	ELSIF tbl = 'action_lead' THEN
		RETURN ARRAY(
			SELECT unnest(ARRAY['A' || a.id, 'P' || a.pillar, 'C' || a.cycle, 'Q' || a.cycle])
			FROM action a WHERE a.id = ANY (ids));
	ELSIF tbl = 'pillar' THEN
		RETURN ARRAY(SELECT 'P' || (r ->> 'number') FROM unnest(rows) r);
	ELSIF tbl = 'pillar_lead' THEN
		RETURN ARRAY(SELECT 'P' || (r ->> 'pillar') FROM unnest(rows) r);
	ELSIF tbl = 'consultation_input_action' THEN
		RETURN ARRAY(SELECT 'A' || id FROM unnest(ids) id);
	ELSIF tbl = 'consultation_input' THEN
		RETURN ARRAY(
			SELECT unnest(ARRAY['A' || a.id, 'P' || a.pillar, 'L'])
			FROM consultation_input_action l JOIN action a ON a.id = l.action_id
			WHERE l.input_id = ANY (ids));
	END IF;
	RETURN ARRAY['*'];
END
$$;
