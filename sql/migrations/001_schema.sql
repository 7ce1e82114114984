-- The whole domain of SPEC section 3. Integrity lives here: keys, checks,
-- the append-only rule for status updates and the audit trail.

-- Who is acting, for the audit trail: the API sets workplan.actor per
-- transaction (SET LOCAL); otherwise the database role is recorded.
CREATE FUNCTION current_actor() RETURNS text LANGUAGE sql STABLE AS $$
	SELECT coalesce(nullif(current_setting('workplan.actor', true), ''),
			'db:' || session_user)
$$;

CREATE TABLE audit (
	id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	at         timestamptz NOT NULL DEFAULT now(),
	actor      text NOT NULL,
	table_name text NOT NULL,
	op         text NOT NULL CHECK (op IN ('INSERT', 'UPDATE', 'DELETE')),
	row_key    text NOT NULL,
	before     jsonb,
	after      jsonb,
	CHECK ((op = 'INSERT') = (before IS NULL) AND (op = 'DELETE') = (after IS NULL))
);
CREATE INDEX audit_at ON audit (at, id);

-- Generic audit trigger. TG_ARGV[0] names the key column; further
-- arguments name columns whose changes alone are not worth a trail entry
-- (a token's last use). Secrets never reach the trail (token hashes are
-- dropped).
CREATE FUNCTION audit_row() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	b jsonb := CASE WHEN TG_OP <> 'INSERT' THEN to_jsonb(OLD) - 'hash' END;
	a jsonb := CASE WHEN TG_OP <> 'DELETE' THEN to_jsonb(NEW) - 'hash' END;
BEGIN
	IF TG_OP = 'UPDATE' AND a - TG_ARGV[1:] = b - TG_ARGV[1:] THEN
		RETURN NEW;
	END IF;
	INSERT INTO audit (actor, table_name, op, row_key, before, after)
	VALUES (current_actor(), TG_TABLE_NAME, TG_OP,
		coalesce(a, b) ->> TG_ARGV[0], b, a);
	RETURN coalesce(NEW, OLD);
END
$$;

CREATE TABLE entity (
	code text PRIMARY KEY CHECK (code ~ '^[A-Z][A-Z0-9]{1,15}$'),
	name text NOT NULL UNIQUE CHECK (length(name) BETWEEN 2 AND 200)
);

CREATE TABLE member (
	id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
	email      text NOT NULL CHECK (email ~ '^[^@\s]+@[^@\s]+\.[^@\s]+$' AND length(email) <= 254),
	entity     text NOT NULL REFERENCES entity,
	role       text NOT NULL CHECK (role IN ('cochair', 'lead', 'viewer')),
	created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX member_email ON member (lower(email));

-- Bearer tokens: only the SHA-256 of the token is kept.
CREATE TABLE api_token (
	id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	member_id    bigint NOT NULL REFERENCES member,
	label        text NOT NULL DEFAULT '' CHECK (length(label) <= 100),
	hash         bytea NOT NULL UNIQUE CHECK (length(hash) = 32),
	created_at   timestamptz NOT NULL DEFAULT now(),
	last_used_at timestamptz,
	revoked_at   timestamptz
);
CREATE INDEX api_token_member ON api_token (member_id);

CREATE TABLE cochair_term (
	id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	entity    text NOT NULL REFERENCES entity,
	kind      text NOT NULL CHECK (kind IN ('permanent', 'rotating')),
	from_year int NOT NULL CHECK (from_year BETWEEN 1945 AND 2200),
	to_year   int CHECK (to_year >= from_year),
	UNIQUE (entity, kind, from_year)
);

CREATE TABLE workplan (
	id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	title      text NOT NULL UNIQUE CHECK (length(title) BETWEEN 1 AND 200),
	start_year int NOT NULL CHECK (start_year BETWEEN 1945 AND 2200),
	end_year   int NOT NULL,
	CHECK (end_year >= start_year)
);

CREATE TABLE cycle (
	label       text PRIMARY KEY CHECK (label ~ '^[0-9]{4}(-[0-9]{4})?$'),
	workplan_id bigint NOT NULL REFERENCES workplan,
	start_year  int NOT NULL,
	end_year    int NOT NULL,
	CHECK (end_year >= start_year),
	CHECK (label = CASE WHEN start_year = end_year THEN start_year::text
			    ELSE start_year || '-' || end_year END)
);

-- A version column (bumped by trigger) backs ETag / If-Match.
CREATE TABLE pillar (
	number          int PRIMARY KEY CHECK (number BETWEEN 1 AND 8),
	workplan_id     bigint NOT NULL REFERENCES workplan,
	name            text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
	status          text NOT NULL CHECK (status IN ('active', 'inactive')),
	inactive_reason text CHECK (length(inactive_reason) <= 1000),
	version         bigint NOT NULL DEFAULT 1,
	CHECK (status = 'inactive' OR inactive_reason IS NULL)
);

CREATE TABLE pillar_lead (
	pillar   int NOT NULL REFERENCES pillar ON DELETE CASCADE,
	entity   text NOT NULL REFERENCES entity,
	position smallint NOT NULL,
	PRIMARY KEY (pillar, entity),
	UNIQUE (pillar, position)
);

CREATE TABLE action (
	id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	pillar      int NOT NULL REFERENCES pillar,
	cycle       text NOT NULL REFERENCES cycle,
	year        int NOT NULL,
	title       text NOT NULL CHECK (length(title) BETWEEN 1 AND 300),
	description text NOT NULL DEFAULT '' CHECK (length(description) <= 5000),
	due_date    date,
	tags        text[] NOT NULL DEFAULT '{}' CHECK (cardinality(tags) <= 20),
	archived    boolean NOT NULL DEFAULT false,
	version     bigint NOT NULL DEFAULT 1,
	created_at  timestamptz NOT NULL DEFAULT now(),
	updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX action_scope ON action (cycle, pillar) WHERE NOT archived;

CREATE TABLE action_lead (
	action_id bigint NOT NULL REFERENCES action,
	entity    text NOT NULL REFERENCES entity,
	position  smallint NOT NULL,
	PRIMARY KEY (action_id, entity),
	UNIQUE (action_id, position)
);
CREATE INDEX action_lead_entity ON action_lead (entity);

-- An action's year lies inside its cycle (an unknown cycle is left to the
-- foreign key, which names it).
CREATE FUNCTION action_check_year() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF EXISTS (SELECT 1 FROM cycle c WHERE c.label = NEW.cycle
		   AND NEW.year NOT BETWEEN c.start_year AND c.end_year) THEN
		RAISE EXCEPTION 'year % is outside cycle %', NEW.year, NEW.cycle
			USING ERRCODE = 'check_violation', CONSTRAINT = 'action_year_in_cycle';
	END IF;
	RETURN NEW;
END
$$;
CREATE TRIGGER action_check_year BEFORE INSERT OR UPDATE OF year, cycle ON action
	FOR EACH ROW EXECUTE FUNCTION action_check_year();

-- Versioned rows: every real change bumps version.
CREATE FUNCTION bump_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF to_jsonb(NEW) - 'version' - 'updated_at' <> to_jsonb(OLD) - 'version' - 'updated_at' THEN
		NEW.version := OLD.version + 1;
		IF TG_TABLE_NAME = 'action' THEN
			NEW.updated_at := now();
		END IF;
	END IF;
	RETURN NEW;
END
$$;
CREATE TRIGGER pillar_version BEFORE UPDATE ON pillar
	FOR EACH ROW EXECUTE FUNCTION bump_version();
CREATE TRIGGER action_version BEFORE UPDATE ON action
	FOR EACH ROW EXECUTE FUNCTION bump_version();

-- Key actions are archived, never deleted.
CREATE FUNCTION refuse_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION '% rows are never deleted', TG_TABLE_NAME
		USING ERRCODE = 'restrict_violation', HINT = 'archive it instead';
END
$$;
CREATE TRIGGER action_no_delete BEFORE DELETE ON action
	FOR EACH ROW EXECUTE FUNCTION refuse_delete();

-- Status updates are append-only. The review (state, comment, reviewer,
-- time) is written once, from 'submitted' to 'approved' or 'returned';
-- nothing else of an update ever changes.
CREATE TABLE status_update (
	id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	action_id        bigint NOT NULL REFERENCES action,
	period           text NOT NULL CHECK (period ~ '^[0-9]{4}-Q[1-4]$'),
	status           text NOT NULL CHECK (status IN ('not_started', 'on_track', 'at_risk',
							 'delayed', 'completed', 'cancelled')),
	percent_complete smallint NOT NULL CHECK (percent_complete BETWEEN 0 AND 100),
	narrative        text NOT NULL CHECK (length(narrative) <= 5000),
	public_summary   text CHECK (length(public_summary) <= 2000),
	visibility       text NOT NULL CHECK (visibility IN ('internal', 'public')),
	evidence         jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(evidence) = 'array'),
	author_id        bigint NOT NULL REFERENCES member,
	created_at       timestamptz NOT NULL DEFAULT now(),
	review_state     text NOT NULL DEFAULT 'submitted'
			 CHECK (review_state IN ('submitted', 'approved', 'returned')),
	review_comment   text CHECK (length(review_comment) <= 2000),
	reviewed_by      bigint REFERENCES member,
	reviewed_at      timestamptz,
	CHECK ((percent_complete = 100) = (status = 'completed')),
	CHECK (visibility = 'internal' OR public_summary IS NOT NULL),
	CHECK ((review_state = 'submitted') = (reviewed_at IS NULL))
);
CREATE INDEX status_update_action ON status_update (action_id, period DESC, created_at DESC);
CREATE INDEX status_update_created ON status_update (created_at, id);
CREATE INDEX status_update_period ON status_update (period);

CREATE FUNCTION status_update_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'DELETE' THEN
		RAISE EXCEPTION 'status updates are append-only: never deleted'
			USING ERRCODE = 'restrict_violation';
	END IF;
	IF (to_jsonb(NEW) - '{review_state,review_comment,reviewed_by,reviewed_at}'::text[])
	   <> (to_jsonb(OLD) - '{review_state,review_comment,reviewed_by,reviewed_at}'::text[]) THEN
		RAISE EXCEPTION 'status updates are append-only: post a new update instead'
			USING ERRCODE = 'restrict_violation';
	END IF;
	IF OLD.review_state <> 'submitted' THEN
		RAISE EXCEPTION 'update % was already reviewed', OLD.id
			USING ERRCODE = 'restrict_violation';
	END IF;
	RETURN NEW;
END
$$;
CREATE TRIGGER status_update_guard BEFORE UPDATE OR DELETE ON status_update
	FOR EACH ROW EXECUTE FUNCTION status_update_guard();

-- Idempotency-Key replays: stored with the update, in the same transaction.
CREATE TABLE idempotency_key (
	member_id  bigint NOT NULL REFERENCES member,
	key        text NOT NULL CHECK (length(key) BETWEEN 1 AND 200),
	body_hash  bytea NOT NULL CHECK (length(body_hash) = 32),
	status     int NOT NULL,
	location   text,
	response   text NOT NULL,
	created_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (member_id, key)
);
CREATE INDEX idempotency_key_created ON idempotency_key (created_at);

CREATE TABLE event (
	id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	date        date NOT NULL,
	title       text NOT NULL CHECK (length(title) BETWEEN 1 AND 300),
	venue       text NOT NULL DEFAULT '' CHECK (length(venue) <= 300),
	audience    text NOT NULL CHECK (audience IN ('member-states', 'network')),
	description text NOT NULL DEFAULT '' CHECK (length(description) <= 5000)
);

CREATE TABLE consultation (
	id                   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	title                text NOT NULL CHECK (length(title) BETWEEN 1 AND 300),
	cycle                text REFERENCES cycle,
	issued               date NOT NULL,
	due                  date NOT NULL,
	subject_must_contain text,
	formats              text[] NOT NULL DEFAULT '{}',
	word_limit           int CHECK (word_limit > 0),
	CHECK (due >= issued)
);

CREATE TABLE consultation_input (
	id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	consultation_id bigint NOT NULL REFERENCES consultation,
	submitted_by    text NOT NULL CHECK (length(submitted_by) BETWEEN 1 AND 300),
	received        date NOT NULL,
	title           text NOT NULL CHECK (length(title) BETWEEN 1 AND 300),
	summary         text NOT NULL DEFAULT ''
);
CREATE TABLE consultation_input_pillar (
	input_id bigint NOT NULL REFERENCES consultation_input,
	pillar   int NOT NULL REFERENCES pillar,
	PRIMARY KEY (input_id, pillar)
);
CREATE TABLE consultation_input_action (
	input_id  bigint NOT NULL REFERENCES consultation_input,
	action_id bigint NOT NULL REFERENCES action,
	PRIMARY KEY (input_id, action_id)
);

-- The job queue (section 5). One active job per (kind, key).
CREATE TABLE job (
	id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	kind         text NOT NULL CHECK (kind IN ('render_chart', 'build_report',
						   'schedule_reports', 'noop')),
	key          text NOT NULL,
	payload      jsonb NOT NULL DEFAULT '{}',
	state        text NOT NULL DEFAULT 'queued'
		     CHECK (state IN ('queued', 'running', 'done', 'failed')),
	attempts     int NOT NULL DEFAULT 0,
	max_attempts int NOT NULL DEFAULT 5 CHECK (max_attempts >= 1),
	run_after    timestamptz NOT NULL DEFAULT now(),
	locked_until timestamptz,
	locked_by    text,
	last_error   text,
	created_at   timestamptz NOT NULL DEFAULT now(),
	started_at   timestamptz,
	finished_at  timestamptz,
	CHECK (state <> 'running' OR locked_until IS NOT NULL)
);
CREATE UNIQUE INDEX job_active_key ON job (kind, key) WHERE state IN ('queued', 'running');
CREATE INDEX job_ready ON job (run_after, id) WHERE state = 'queued';
CREATE INDEX job_lease ON job (locked_until) WHERE state = 'running';
ALTER TABLE job SET (autovacuum_vacuum_scale_factor = 0.01, autovacuum_vacuum_threshold = 1000);

-- Chart and report bytes, stored once, keyed by the hash of their inputs.
CREATE TABLE artifact (
	key        bytea PRIMARY KEY CHECK (length(key) = 32),
	sha256     bytea NOT NULL CHECK (length(sha256) = 32),
	media_type text NOT NULL,
	bytes      bytea NOT NULL,
	created_at timestamptz NOT NULL DEFAULT now(),
	job_id     bigint REFERENCES job
);

CREATE TABLE report (
	id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	kind         text NOT NULL CHECK (kind IN ('quarterly', 'side-event')),
	period       text NOT NULL CHECK (period ~ '^[0-9]{4}-Q[1-4]$'),
	event_id     bigint REFERENCES event,
	formats      text[] NOT NULL CHECK (formats <@ '{html,md,csv,json,docx}'::text[]
					    AND cardinality(formats) >= 1),
	state        text NOT NULL DEFAULT 'queued'
		     CHECK (state IN ('queued', 'running', 'done', 'failed')),
	error        text,
	data_version bigint,
	published    boolean NOT NULL DEFAULT false,
	published_at timestamptz,
	created_by   bigint REFERENCES member,
	created_at   timestamptz NOT NULL DEFAULT now(),
	job_id       bigint REFERENCES job,
	CHECK (published = (published_at IS NOT NULL))
);

CREATE TABLE report_artifact (
	report_id    bigint NOT NULL REFERENCES report,
	format       text NOT NULL,
	name         text NOT NULL CHECK (name ~ '^[A-Za-z0-9._-]{1,100}$'),
	artifact_key bytea NOT NULL REFERENCES artifact,
	PRIMARY KEY (report_id, name)
);

-- The audit trail covers every structural table.
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON entity
	FOR EACH ROW EXECUTE FUNCTION audit_row('code');
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON member
	FOR EACH ROW EXECUTE FUNCTION audit_row('id');
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON api_token
	FOR EACH ROW EXECUTE FUNCTION audit_row('id', 'last_used_at');
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON cochair_term
	FOR EACH ROW EXECUTE FUNCTION audit_row('id');
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON workplan
	FOR EACH ROW EXECUTE FUNCTION audit_row('id');
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON cycle
	FOR EACH ROW EXECUTE FUNCTION audit_row('label');
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON pillar
	FOR EACH ROW EXECUTE FUNCTION audit_row('number');
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON pillar_lead
	FOR EACH ROW EXECUTE FUNCTION audit_row('pillar');
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON action
	FOR EACH ROW EXECUTE FUNCTION audit_row('id');
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON action_lead
	FOR EACH ROW EXECUTE FUNCTION audit_row('action_id');
CREATE TRIGGER audit AFTER UPDATE ON status_update
	FOR EACH ROW EXECUTE FUNCTION audit_row('id');
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON event
	FOR EACH ROW EXECUTE FUNCTION audit_row('id');
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON consultation
	FOR EACH ROW EXECUTE FUNCTION audit_row('id');
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON report
	FOR EACH ROW EXECUTE FUNCTION audit_row('id');
