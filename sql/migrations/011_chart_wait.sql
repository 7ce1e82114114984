-- A chart request that finds no image waits for its render_chart job
-- without holding an API thread (api/chartwait.c): the API LISTENs on
-- workplan_job_done, announced (on commit) when a chart job ends for good.
-- The payload is "<id> <state>". A failed attempt that will be retried is
-- not an end.
CREATE FUNCTION job_done_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_notify('workplan_job_done', NEW.id || ' ' || NEW.state);
	RETURN NULL;
END
$$;
CREATE TRIGGER job_done_notify AFTER UPDATE OF state ON job
	FOR EACH ROW WHEN (NEW.kind = 'render_chart' AND NEW.state IN ('done', 'failed')
			   AND OLD.state IS DISTINCT FROM NEW.state)
	EXECUTE FUNCTION job_done_notify();

-- Who asked for a job first: a member may have only so many chart jobs
-- queued or running at once (WORKPLAN_CHART_QUEUE_PER_MEMBER).
ALTER TABLE job ADD COLUMN requested_by bigint REFERENCES member ON DELETE SET NULL;
CREATE INDEX job_requested_by ON job (requested_by) WHERE state IN ('queued', 'running');
