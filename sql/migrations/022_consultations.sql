-- Calls for inputs run end to end (SPEC 13): the data model of the
-- consultations, their inputs from the public form, and the files those
-- carry. Built on the tables of 001; the seeded 2021 call keeps its row.
--
-- A consultation's window is opens_at .. closes_at (instants, UTC); its
-- state (draft before, open within, closed after) is read against the
-- service's clock (lib/clock.c), never now(). issued and due (dates, kept
-- for the readers of 001) follow the window: a row written with dates
-- only (the seed's) opens at the start of issued and closes at the end of
-- due, UTC. Its version moves in the API's UPDATE, as for pillars (012).
ALTER TABLE consultation
	ADD COLUMN purpose     text NOT NULL DEFAULT '' CHECK (length(purpose) <= 20000),
	ADD COLUMN opens_at    timestamptz,
	ADD COLUMN closes_at   timestamptz,
	ADD COLUMN languages   text[] NOT NULL DEFAULT '{ar,zh,en,fr,ru,es}'
		CHECK (languages <@ '{ar,zh,en,fr,ru,es}' AND cardinality(languages) >= 1),
	ADD COLUMN max_file_mb int NOT NULL DEFAULT 5 CHECK (max_file_mb BETWEEN 1 AND 50),
	ADD COLUMN subject     text CHECK (length(subject) BETWEEN 1 AND 200),
	ADD COLUMN created_by  bigint REFERENCES member,
	ADD COLUMN updated_at  timestamptz,
	ADD COLUMN version     bigint NOT NULL DEFAULT 1,
	-- the seed's formats are spelled 'Word' and 'PDF'; new calls 'docx', 'pdf'
	ADD CONSTRAINT consultation_formats CHECK (formats <@ '{docx,pdf,Word,PDF}'),
	ADD CONSTRAINT consultation_word_limit CHECK (word_limit <= 100000);

CREATE FUNCTION consultation_window() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF NEW.opens_at IS NULL THEN
		NEW.opens_at := NEW.issued::timestamp AT TIME ZONE 'UTC';
	END IF;
	IF NEW.closes_at IS NULL THEN
		NEW.closes_at := (NEW.due + 1)::timestamp AT TIME ZONE 'UTC';
	END IF;
	NEW.issued := (NEW.opens_at AT TIME ZONE 'UTC')::date;
	NEW.due := ((NEW.closes_at - interval '1 microsecond') AT TIME ZONE 'UTC')::date;
	IF NEW.subject IS NULL THEN
		NEW.subject := NEW.subject_must_contain;
	END IF;
	RETURN NEW;
END
$$;
-- issued and due are NOT NULL: the row is completed before that is checked
ALTER TABLE consultation ALTER COLUMN issued DROP NOT NULL, ALTER COLUMN due DROP NOT NULL;
CREATE TRIGGER consultation_window BEFORE INSERT OR UPDATE ON consultation
	FOR EACH ROW EXECUTE FUNCTION consultation_window();
UPDATE consultation SET opens_at = NULL;  -- the trigger completes the seed's row
ALTER TABLE consultation
	ALTER COLUMN issued SET NOT NULL, ALTER COLUMN due SET NOT NULL,
	ALTER COLUMN opens_at SET NOT NULL, ALTER COLUMN closes_at SET NOT NULL,
	ADD CONSTRAINT consultation_window CHECK (closes_at > opens_at);

-- The state of a call at the clock's instant at.
CREATE FUNCTION consultation_state(c consultation, at timestamptz) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE WHEN at < c.opens_at THEN 'draft' WHEN at < c.closes_at THEN 'open' ELSE 'closed' END
$$;

-- An input. The rows of 001 (submitted_by, received, title, summary)
-- stay readable: an input from the form fills them from its own fields
-- (submitted_by from the organisation or, lacking one, the contributor
-- type; received from received_at; title from the subject; summary
-- empty), so that nothing personal lands there.
--
-- receipt: the code the contributor gets back (unique). dedupe: the
-- SHA-256 of the lower-cased email and the text, per consultation, so the
-- same input sent twice is answered with the first receipt. name and email
-- are personal data: never shown on public routes, in logs, webhooks or
-- reports; contact_erased_at is set when they are blanked (SPEC 13).
-- note is private to co-chairs; public_answer is published with the
-- outcome. over_word_limit: the attachment's text exceeds the call's limit.
ALTER TABLE consultation_input
	ADD COLUMN receipt           text UNIQUE CHECK (receipt ~ '^[A-Z0-9]{4}(-[A-Z0-9]{4}){2}$'),
	ADD COLUMN received_at       timestamptz,
	ADD COLUMN name              text CHECK (length(name) <= 200),
	ADD COLUMN organisation      text CHECK (length(organisation) <= 300),
	ADD COLUMN contributor_type  text CHECK (contributor_type IN
		('member_state', 'un_entity', 'ngo', 'academia', 'individual', 'other')),
	ADD COLUMN country           text CHECK (country ~ '^[A-Z]{2}$'),
	ADD COLUMN email             text CHECK (length(email) <= 254 AND email ~ '^[^@\s]+@[^@\s]+\.[^@\s]+$'),
	ADD COLUMN language          text CHECK (language IN ('ar', 'zh', 'en', 'fr', 'ru', 'es')),
	ADD COLUMN subject           text CHECK (length(subject) <= 300),
	ADD COLUMN text              text NOT NULL DEFAULT '' CHECK (length(text) <= 200000),
	ADD COLUMN state             text NOT NULL DEFAULT 'received' CHECK (state IN
		('received', 'under_review', 'accepted', 'partly_accepted', 'declined', 'duplicate')),
	ADD COLUMN public_answer     text NOT NULL DEFAULT '' CHECK (length(public_answer) <= 20000),
	ADD COLUMN note              text NOT NULL DEFAULT '' CHECK (length(note) <= 20000),
	ADD COLUMN over_word_limit   boolean NOT NULL DEFAULT false,
	ADD COLUMN words             int CHECK (words >= 0),
	ADD COLUMN dedupe            bytea CHECK (length(dedupe) = 32),
	ADD COLUMN client_address    text CHECK (length(client_address) <= 64),
	ADD COLUMN contact_erased_at timestamptz,
	ADD COLUMN updated_at        timestamptz,
	ADD COLUMN version           bigint NOT NULL DEFAULT 1,
	-- an input from the form has its receipt, time and contributor type
	ADD CONSTRAINT consultation_input_form CHECK
		(receipt IS NULL OR (received_at IS NOT NULL AND contributor_type IS NOT NULL
				     AND language IS NOT NULL));
CREATE UNIQUE INDEX consultation_input_dedupe ON consultation_input (consultation_id, dedupe)
	WHERE dedupe IS NOT NULL;
CREATE INDEX consultation_input_list ON consultation_input (consultation_id, id);
CREATE INDEX consultation_input_action_action ON consultation_input_action (action_id);

-- The files inputs carry: one per input (SPEC 13: "one file"). The bytes
-- live here, never on disk under any name; file_name is the contributor's
-- name for it, kept as text only (never a path). media_type is what the
-- content was found to be (pdfinfo, or a DOCX's central directory), never
-- what the name or the header said. text is what the worker's extraction
-- job found (pdftotext, pandoc, under lib/child.c's limits); extraction
-- says where that stands.
CREATE TABLE consultation_attachment (
	input_id    bigint PRIMARY KEY REFERENCES consultation_input ON DELETE CASCADE,
	file_name   text NOT NULL CHECK (length(file_name) BETWEEN 1 AND 255
					 AND file_name !~ '[\x01-\x1f\x7f/\\]'),
	media_type  text NOT NULL CHECK (media_type IN ('application/pdf',
		'application/vnd.openxmlformats-officedocument.wordprocessingml.document')),
	size        int NOT NULL CHECK (size BETWEEN 1 AND 50 * 1024 * 1024),
	sha256      bytea NOT NULL CHECK (length(sha256) = 32),
	bytes       bytea NOT NULL CHECK (length(bytes) = size),
	text        text CHECK (length(text) <= 2000000),
	words       int CHECK (words >= 0),
	extraction  text NOT NULL DEFAULT 'pending'
		CHECK (extraction IN ('pending', 'done', 'failed')),
	extract_error text CHECK (length(extract_error) <= 500),
	created_at  timestamptz NOT NULL
);
ALTER TABLE consultation_attachment ALTER COLUMN bytes SET STORAGE EXTERNAL;

-- Submissions per client address (SPEC 13, WORKPLAN_INPUTS_PER_HOUR): one
-- row per accepted submission, counted over the last hour of the service's
-- clock; every API instance sees the same count.
CREATE TABLE consultation_intake (
	id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	address    text NOT NULL CHECK (length(address) <= 64),
	at         timestamptz NOT NULL
);
CREATE INDEX consultation_intake_address ON consultation_intake (address, at);

-- The worker's job that extracts an attachment's text.
ALTER TABLE job DROP CONSTRAINT job_kind_check;
ALTER TABLE job ADD CONSTRAINT job_kind_check CHECK (kind IN ('render_chart', 'build_report',
	'schedule_reports', 'noop', 'extract_input'));

-- A receipt mail goes to a contributor, who is no member: the outbox's
-- mail names its addressee by member or by input.
ALTER TABLE outbox
	ADD COLUMN input_id bigint REFERENCES consultation_input ON DELETE CASCADE,
	DROP CONSTRAINT outbox_check,
	ADD CONSTRAINT outbox_mail_addressee CHECK
		((channel = 'mail') = (num_nonnulls(member_id, input_id) = 1));
CREATE INDEX outbox_input ON outbox (input_id) WHERE input_id IS NOT NULL;

-- A receipt mail to the contributor of an input, in the caller's
-- transaction; at is the clock's now.
CREATE FUNCTION outbox_mail_input(input bigint, kind text, data jsonb, at timestamptz)
RETURNS bigint LANGUAGE sql AS $$
	INSERT INTO outbox (channel, kind, input_id, data, created_at)
	VALUES ('mail', kind, input, data, at)
	RETURNING id
$$;

-- The API's cache (006) covers the new tables too (the intake counts are
-- read by no cached route).
CREATE TRIGGER data_version AFTER INSERT OR UPDATE OR DELETE ON consultation_attachment
	FOR EACH STATEMENT EXECUTE FUNCTION data_version_bump();
