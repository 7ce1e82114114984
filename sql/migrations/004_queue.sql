-- The job queue wakes its workers: every new job is announced on the
-- workplan_jobs channel (a wake-up only; workers also poll).
CREATE FUNCTION job_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_notify('workplan_jobs', NEW.kind);
	RETURN NULL;
END
$$;
CREATE TRIGGER job_notify AFTER INSERT ON job
	FOR EACH ROW EXECUTE FUNCTION job_notify();

-- A job's key identifies its inputs; artifacts remember the job's kind and
-- key so a waiting reader finds them.
CREATE INDEX job_key ON job (kind, key, id DESC);
