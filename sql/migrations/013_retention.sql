-- Retention (docs/design.md, "Retention"): a worker's sweep removes chart
-- images that no report holds and nobody asked for in
-- WORKPLAN_RETENTION_DAYS, and jobs that ended that long ago.

-- When the API last served the artifact (GET /v1/charts/...), written at
-- most once an hour per artifact; NULL: never served. A chart's age is
-- the later of this and created_at.
ALTER TABLE artifact ADD COLUMN last_used_at timestamptz;
-- When an image stored before now was last asked for is not known: each
-- gets the whole period from today.
UPDATE artifact SET last_used_at = now();
CREATE INDEX artifact_age ON artifact (greatest(created_at, last_used_at));

-- An old job may go while what it made stays: the artifact and the report
-- forget which job made them.
ALTER TABLE artifact DROP CONSTRAINT artifact_job_id_fkey,
	ADD CONSTRAINT artifact_job_id_fkey FOREIGN KEY (job_id) REFERENCES job ON DELETE SET NULL;
ALTER TABLE report DROP CONSTRAINT report_job_id_fkey,
	ADD CONSTRAINT report_job_id_fkey FOREIGN KEY (job_id) REFERENCES job ON DELETE SET NULL;
-- ... found by index when a job goes, and an artifact's reports found by
-- index when it goes (the key of report_artifact starts with the report)
CREATE INDEX artifact_job ON artifact (job_id) WHERE job_id IS NOT NULL;
CREATE INDEX report_job ON report (job_id) WHERE job_id IS NOT NULL;
CREATE INDEX report_artifact_key ON report_artifact (artifact_key);
CREATE INDEX job_ended ON job (coalesce(finished_at, created_at)) WHERE state IN ('done', 'failed');

-- One row: when a sweep last started (claimed at most once an hour across
-- every worker, by a conditional UPDATE of this row), when it finished and
-- what it removed.
CREATE TABLE retention_sweep (
	id          int PRIMARY KEY DEFAULT 1 CHECK (id = 1),
	started_at  timestamptz,
	started_by  text,
	finished_at timestamptz,
	artifacts   bigint NOT NULL DEFAULT 0,
	jobs        bigint NOT NULL DEFAULT 0
);
INSERT INTO retention_sweep DEFAULT VALUES;
