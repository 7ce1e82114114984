-- Business rules read the service's clock (lib/clock.c, WORKPLAN_NOW),
-- never now(): the scheduler is told what time it is.
DROP FUNCTION schedule_quarterly_report();
CREATE FUNCTION schedule_quarterly_report(at timestamptz) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
	due int;
	rid bigint;
BEGIN
	SELECT max(q.p) INTO due
	FROM workplan w, generate_series(w.start_year * 4, w.end_year * 4 + 3) AS q (p)
	WHERE period_deadline(q.p) <= (at AT TIME ZONE 'UTC')::date;
	IF due IS NULL THEN
		RETURN NULL;
	END IF;
	INSERT INTO report (kind, period, formats, data_version)
	VALUES ('quarterly', period_text(due), '{html,md,csv,json,docx}', current_data_version())
	ON CONFLICT (period) WHERE kind = 'quarterly' AND created_by IS NULL DO NOTHING
	RETURNING id INTO rid;
	IF rid IS NOT NULL THEN
		INSERT INTO job (kind, key, payload, max_attempts)
		VALUES ('build_report', 'report-' || rid, json_build_object('report', rid)::jsonb, 3);
		UPDATE report SET job_id = currval(pg_get_serial_sequence('job', 'id')) WHERE id = rid;
	END IF;
	RETURN rid;
END
$$;
